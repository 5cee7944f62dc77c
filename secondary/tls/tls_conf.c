/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS contexts from the configuration: see tls_conf.h.
 *
 * Per TLS listener: one SSL_CTX holding the first certificate (the default),
 * and a struct tls_listener attached to it as ex_data (freed by OpenSSL's
 * ex_data free callback when the SSL_CTX's last reference goes): every
 * certificate with its chain and key, and the SNI table. The servername
 * callback, run by OpenSSL while it processes the ClientHello (before the
 * cipher suite and the signature algorithm are chosen), puts the chosen
 * certificate on the SSL in place of the default.
 */
#include "secondary/tls/tls_conf.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "config/config.h"
#include "config/config_tls.h"

/* One SNI name of a listener: exact ("a.example") or a wildcard, kept as its suffix (".b.example"). */
struct tls_name {
	char name[PORTER_CFG_HOST_LEN];
	uint8_t cert;                     /* index into tls_listener.certs */
	bool wildcard;
};

struct tls_cert {
	X509 *leaf;
	STACK_OF(X509) *chain;
	EVP_PKEY *key;
};

/* Belongs to its SSL_CTX (ex_data); never freed while an SSL of that context lives. */
struct tls_listener {
	uint16_t port;
	uint8_t alpn;                     /* PORTER_TLS_ALPN_* */
	uint32_t cert_count;
	struct tls_cert certs[PORTER_CFG_MAX_TLS_CERTS];
	uint32_t name_count;
	struct tls_name *names;
};

struct tls_conf {
	int refs;                         /* atomic */
	uint64_t generation;
	uint32_t count;
	uint16_t ports[PORTER_CFG_MAX_LISTENERS];
	SSL_CTX *ctx[PORTER_CFG_MAX_LISTENERS];
};

static pthread_once_t ex_once = PTHREAD_ONCE_INIT;
static int ctx_ex_idx = -1;               /* SSL_CTX -> struct tls_listener */
static int ssl_ex_idx = -1;               /* SSL -> chosen certificate + 1 (0: none yet) */
static long live_contexts;                /* atomic */

/* ------------------------------------------------------------------------ */
/* Listener data, owned by the SSL_CTX                                      */
/* ------------------------------------------------------------------------ */

static void listener_free(struct tls_listener *tl)
{
	if (tl == NULL)
		return;
	for (uint32_t i = 0; i < tl->cert_count; i++) {
		X509_free(tl->certs[i].leaf);
		sk_X509_pop_free(tl->certs[i].chain, X509_free);
		EVP_PKEY_free(tl->certs[i].key);
	}
	free(tl->names);
	free(tl);
}

/* OpenSSL's CRYPTO_EX_free: the SSL_CTX is being freed (its last reference went). */
static void ctx_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (ptr == NULL)
		return;
	listener_free(ptr);
	__atomic_sub_fetch(&live_contexts, 1, __ATOMIC_RELAXED);
}

static void ex_init(void)
{
	ctx_ex_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, ctx_ex_free);
	ssl_ex_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

long tls_conf_live_contexts(void)
{
	return __atomic_load_n(&live_contexts, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------------ */
/* SNI                                                                      */
/* ------------------------------------------------------------------------ */

/* A DNS name of a certificate (LEN bytes, not NUL-terminated) lower-cased into DST; false if unusable. */
static bool cert_name(char dst[PORTER_CFG_HOST_LEN], const unsigned char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '.')
		len--;          /* an absolute name, as a server name may be written */
	if (len == 0 || len >= PORTER_CFG_HOST_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
		      (ch == '*' && i == 0 && len > 2 && s[1] == '.')))
			return false;
		dst[i] = (char)ch;
	}
	dst[len] = '\0';
	return true;
}

/* Add NAME ("a.example" or "*.b.example", lower-case) for certificate CERT. */
static int add_name(struct tls_listener *tl, uint32_t *cap, const char *name, uint8_t cert)
{
	if (tl->name_count == *cap) {
		uint32_t ncap = *cap != 0 ? *cap * 2 : 16;
		struct tls_name *n = realloc(tl->names, ncap * sizeof(*n));
		if (n == NULL)
			return -1;
		tl->names = n;
		*cap = ncap;
	}
	struct tls_name *e = &tl->names[tl->name_count++];
	e->wildcard = name[0] == '*';
	snprintf(e->name, sizeof(e->name), "%s", e->wildcard ? name + 1 : name);
	e->cert = cert;
	return 0;
}

/* The names certificate J answers for: TC's `names`, else its DNS SANs, else its CN. */
static int add_cert_names(struct tls_listener *tl, uint32_t *cap, const struct porter_cfg_tls_cert *tc,
			  X509 *leaf, uint8_t j)
{
	char name[PORTER_CFG_HOST_LEN];
	uint32_t before = tl->name_count;

	if (tc->name_count > 0) {
		for (uint32_t k = 0; k < tc->name_count; k++)
			if (add_name(tl, cap, tc->names[k], j) != 0)
				return -1;
		return 0;
	}
	GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	for (int k = 0; sans != NULL && k < sk_GENERAL_NAME_num(sans); k++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, k);

		if (g->type != GEN_DNS)
			continue;
		if (cert_name(name, ASN1_STRING_get0_data(g->d.dNSName), (size_t)ASN1_STRING_length(g->d.dNSName)) &&
		    add_name(tl, cap, name, j) != 0) {
			GENERAL_NAMES_free(sans);
			return -1;
		}
	}
	GENERAL_NAMES_free(sans);
	if (tl->name_count > before)
		return 0;
	/* no DNS name in subjectAltName: the subject's CN, as the older clients read it */
	const X509_NAME *subj = X509_get_subject_name(leaf);
	int at = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (at >= 0) {
		const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, at));
		if (cert_name(name, ASN1_STRING_get0_data(cn), (size_t)ASN1_STRING_length(cn)) &&
		    add_name(tl, cap, name, j) != 0)
			return -1;
	}
	return 0;
}

/*
 * RFC 6066 §3 server name -> certificate index: exact names first (every
 * certificate, in order), then wildcards standing for one label; -1 when
 * nothing matches. Case does not matter; one trailing dot is ignored.
 */
static int listener_select(const struct tls_listener *tl, const char *servername)
{
	char host[PORTER_CFG_HOST_LEN];
	size_t n = strlen(servername);

	if (n > 0 && servername[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(host))
		return -1;
	for (size_t i = 0; i < n; i++) {
		char ch = servername[i];
		host[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	host[n] = '\0';
	for (uint32_t i = 0; i < tl->name_count; i++)
		if (!tl->names[i].wildcard && strcmp(tl->names[i].name, host) == 0)
			return tl->names[i].cert;
	/* "x.b.example" -> ".b.example": the first label must be there and not be all of it */
	const char *dot = strchr(host, '.');
	if (dot == NULL || dot == host)
		return -1;
	for (uint32_t i = 0; i < tl->name_count; i++)
		if (tl->names[i].wildcard && strcmp(tl->names[i].name, dot) == 0)
			return tl->names[i].cert;
	return -1;
}

/* SSL_CTX_set_tlsext_servername_callback: every ClientHello, with or without SNI. */
static int on_servername(SSL *s, int *alert, void *arg)
{
	const struct tls_listener *tl = arg;
	const char *name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
	int j = name != NULL ? listener_select(tl, name) : -1;

	if (j < 0)
		j = 0;
	if (j != 0) {
		const struct tls_cert *c = &tl->certs[j];
		/* only the chosen one: a default of another key type would otherwise stay eligible */
		SSL_certs_clear(s);
		if (SSL_use_cert_and_key(s, c->leaf, c->key, c->chain, 1) != 1) {
			*alert = SSL_AD_INTERNAL_ERROR;
			return SSL_TLSEXT_ERR_ALERT_FATAL;
		}
	}
	SSL_set_ex_data(s, ssl_ex_idx, (void *)(intptr_t)(j + 1));
	return SSL_TLSEXT_ERR_OK;
}

/* ------------------------------------------------------------------------ */
/* ALPN                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * SSL_CTX_set_alpn_select_cb: the client's list IN (RFC 7301 §3.1: 8-bit
 * lengths, then the names) must hold "http/1.1", else the fatal alert
 * no_application_protocol (§3.2). Only called when the client sent ALPN.
 */
static int on_alpn(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
		   unsigned int inlen, void *arg)
{
	static const char h11[] = "http/1.1";
	(void)s, (void)arg;

	for (unsigned int i = 0; i < inlen;) {
		unsigned int len = in[i];

		if (len == 0 || i + 1 + len > inlen)
			break;          /* malformed: OpenSSL has checked it already, refuse all the same */
		if (len == sizeof(h11) - 1 && memcmp(in + i + 1, h11, len) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)len;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + len;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* ------------------------------------------------------------------------ */
/* Building                                                                 */
/* ------------------------------------------------------------------------ */

#define set_err porter_errf   /* config/config.h */

/* OpenSSL's reason for the last error, the queue emptied. */
static const char *ssl_reason(char buf[160])
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, 160, "%s", r != NULL ? r : "unknown");
	ERR_clear_error();
	return buf;
}

/* "A:B:C" of the suites of L of one version (TLS 1.3 or not) into DST. */
static void suite_list(char *dst, size_t len, const struct porter_cfg_listener *l, bool v13)
{
	size_t used = 0;

	dst[0] = '\0';
	for (uint32_t i = 0; i < l->tls_cipher_count; i++) {
		unsigned cph = l->tls_ciphers[i];
		if (cph >= PORTER_TLS_CIPHER_COUNT || !!PORTER_TLS_CIPHER_IS_13(cph) != v13)
			continue;
		used += (size_t)snprintf(dst + used, len - used, "%s%s", used == 0 ? "" : ":", porter_tls_cipher_names[cph]);
		if (used >= len)
			break;
	}
}

/* Versions, suites and options of CTX for listener L (PRE names it in errors). */
static int ctx_params(SSL_CTX *ctx, const struct porter_cfg_listener *l, const struct tls_conf_hooks *hooks,
		      const char *pre, char *err, size_t errlen)
{
	char list[512], r[160];
	uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE;

	int min = (l->tls_protocols & PORTER_TLS_V1_2) ? TLS1_2_VERSION : TLS1_3_VERSION;
	int max = (l->tls_protocols & PORTER_TLS_V1_3) ? TLS1_3_VERSION : TLS1_2_VERSION;
	if (SSL_CTX_set_min_proto_version(ctx, min) != 1 || SSL_CTX_set_max_proto_version(ctx, max) != 1) {
		set_err(err, errlen, "%s.protocols: OpenSSL refused them (%s)", pre, ssl_reason(r));
		return -1;
	}
	/* TLS 1.3 suites; an empty list is allowed (then TLS 1.3 cannot be negotiated) */
	suite_list(list, sizeof(list), l, true);
	if (SSL_CTX_set_ciphersuites(ctx, list) != 1) {
		set_err(err, errlen, "%s.ciphers: OpenSSL refused \"%s\" (%s)", pre, list, ssl_reason(r));
		return -1;
	}
	/*
	 * TLS 1.2 suites. OpenSSL refuses an empty list; without TLSv1.2 in
	 * protocols (the parser then allows no TLS 1.2 suite) the list is one
	 * AEAD suite that min_proto_version keeps from ever being chosen.
	 */
	suite_list(list, sizeof(list), l, false);
	if (list[0] == '\0')
		snprintf(list, sizeof(list), "%s", porter_tls_cipher_names[PORTER_TLS12_ECDHE_ECDSA_AES128_GCM_SHA256]);
	if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
		set_err(err, errlen, "%s.ciphers: OpenSSL refused \"%s\" (%s)", pre, list, ssl_reason(r));
		return -1;
	}
	/* security level 2: RSA >= 2048 bits, no SHA-1 signatures; ECDHE on these groups */
	SSL_CTX_set_security_level(ctx, 2);
	if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
		set_err(err, errlen, "%s: OpenSSL refused the groups (%s)", pre, ssl_reason(r));
		return -1;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (hooks != NULL && hooks->ticket_key_cb != NULL) {
		/* the hook: tickets under keys the callback keeps (shared memory, a later part) */
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, hooks->ticket_key_cb);
		SSL_CTX_set_num_tickets(ctx, hooks->num_tickets);
	} else {
		opts |= SSL_OP_NO_TICKET;
		SSL_CTX_set_num_tickets(ctx, 0);
	}
	SSL_CTX_set_options(ctx, opts);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return 0;
}

/* The context of listener I of CFG (PRE its name), or NULL with ERR set. */
static SSL_CTX *ctx_build(const struct porter_config *cfg, uint32_t i, const struct tls_conf_hooks *hooks,
			  char *err, size_t errlen)
{
	const struct porter_cfg_listener *l = &cfg->listeners[i];
	char pre[64], r[160];
	uint32_t cap = 0;
	SSL_CTX *ctx = NULL;
	struct tls_listener *tl = calloc(1, sizeof(*tl));

	snprintf(pre, sizeof(pre), "listeners[%u].tls", i);
	if (tl == NULL) {
		set_err(err, errlen, "%s: %s: %s", cfg->path, pre, strerror(ENOMEM));
		return NULL;
	}
	tl->port = l->port;
	tl->alpn = l->tls_alpn;
	if (l->tls_cert_count == 0 || (uint32_t)l->tls_cert_first + l->tls_cert_count > cfg->tls_cert_count) {
		set_err(err, errlen, "%s: %s.certificates: none (not a loaded configuration?)", cfg->path, pre);
		goto fail;
	}
	for (uint32_t j = 0; j < l->tls_cert_count; j++) {
		const struct porter_cfg_tls_cert *tc = &cfg->tls_certs[l->tls_cert_first + j];
		struct porter_tls_files f;

		if (porter_tls_files_load(tc, &f) != 0) {
			set_err(err, errlen, "%s: %s.certificates[%u].%s: %s", cfg->path, pre, j,
				f.failed == PORTER_TLS_FILE_KEY ? "key" : "cert", f.why);
			goto fail;
		}
		tl->certs[j] = (struct tls_cert){ .leaf = f.leaf, .chain = f.chain, .key = f.key };
		tl->cert_count = j + 1;
		if (add_cert_names(tl, &cap, tc, f.leaf, (uint8_t)j) != 0) {
			set_err(err, errlen, "%s: %s.certificates[%u]: %s", cfg->path, pre, j, strerror(ENOMEM));
			goto fail;
		}
	}

	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		set_err(err, errlen, "%s: %s: SSL_CTX_new: %s", cfg->path, pre, ssl_reason(r));
		goto fail;
	}
	if (ctx_params(ctx, l, hooks, pre, err, errlen) != 0)
		goto fail;
	/* the default certificate on the context; another one goes on the SSL (on_servername) */
	if (SSL_CTX_use_cert_and_key(ctx, tl->certs[0].leaf, tl->certs[0].key, tl->certs[0].chain, 1) != 1) {
		set_err(err, errlen, "%s: %s.certificates[0]: OpenSSL refused it (%s)", cfg->path, pre, ssl_reason(r));
		goto fail;
	}
	SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
	SSL_CTX_set_tlsext_servername_arg(ctx, tl);
	if (tl->alpn & PORTER_TLS_ALPN_HTTP11)
		SSL_CTX_set_alpn_select_cb(ctx, on_alpn, tl);
	if (SSL_CTX_set_ex_data(ctx, ctx_ex_idx, tl) != 1) {
		set_err(err, errlen, "%s: %s: %s", cfg->path, pre, strerror(ENOMEM));
		goto fail;
	}
	/* from here the context owns TL: freed with it (ctx_ex_free) */
	__atomic_add_fetch(&live_contexts, 1, __ATOMIC_RELAXED);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	listener_free(tl);
	ERR_clear_error();
	return NULL;
}

struct tls_conf *tls_conf_new(const struct porter_config *cfg, uint64_t generation,
			      const struct tls_conf_hooks *hooks, char *err, size_t errlen)
{
	struct tls_conf *tc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (cfg == NULL) {
		set_err(err, errlen, "(null): %s", strerror(EINVAL));
		return NULL;
	}
	pthread_once(&ex_once, ex_init);
	if (ctx_ex_idx < 0 || ssl_ex_idx < 0) {
		set_err(err, errlen, "%s: OpenSSL gave no ex_data index", cfg->path);
		return NULL;
	}
	tc = calloc(1, sizeof(*tc));
	if (tc == NULL) {
		set_err(err, errlen, "%s: %s", cfg->path, strerror(ENOMEM));
		return NULL;
	}
	tc->refs = 1;
	tc->generation = generation;
	for (uint32_t i = 0; i < cfg->listener_count && i < PORTER_CFG_MAX_LISTENERS; i++) {
		if (!cfg->listeners[i].tls)
			continue;
		SSL_CTX *ctx = ctx_build(cfg, i, hooks, err, errlen);
		if (ctx == NULL) {
			tls_conf_put(tc);
			return NULL;
		}
		tc->ports[tc->count] = cfg->listeners[i].port;
		tc->ctx[tc->count++] = ctx;
	}
	return tc;
}

struct tls_conf *tls_conf_get(struct tls_conf *tc)
{
	__atomic_add_fetch(&tc->refs, 1, __ATOMIC_RELAXED);
	return tc;
}

void tls_conf_put(struct tls_conf *tc)
{
	if (tc == NULL || __atomic_sub_fetch(&tc->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (uint32_t i = 0; i < tc->count; i++)
		SSL_CTX_free(tc->ctx[i]);      /* the last SSL of a context frees it, if any is left */
	free(tc);
}

uint64_t tls_conf_generation(const struct tls_conf *tc)
{
	return tc->generation;
}

SSL_CTX *tls_conf_ctx(const struct tls_conf *tc, uint16_t port)
{
	for (uint32_t i = 0; i < tc->count; i++)
		if (tc->ports[i] == port)
			return tc->ctx[i];
	return NULL;
}

SSL *tls_conf_ssl_new(const struct tls_conf *tc, uint16_t port)
{
	SSL_CTX *ctx = tls_conf_ctx(tc, port);
	SSL *s = ctx != NULL ? SSL_new(ctx) : NULL;

	if (s != NULL)
		SSL_set_accept_state(s);
	return s;
}

int tls_conf_ssl_cert(const SSL *s)
{
	if (ssl_ex_idx < 0)
		return -1;
	return (int)(intptr_t)SSL_get_ex_data(s, ssl_ex_idx) - 1;
}

int tls_conf_select(const struct tls_conf *tc, uint16_t port, const char *servername)
{
	SSL_CTX *ctx = tls_conf_ctx(tc, port);

	if (ctx == NULL)
		return -1;
	const struct tls_listener *tl = SSL_CTX_get_ex_data(ctx, ctx_ex_idx);
	int j = servername != NULL ? listener_select(tl, servername) : -1;
	return j < 0 ? 0 : j;
}
