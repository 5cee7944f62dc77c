/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * listeners[i].tls: its settings, and its certificate and key files read and
 * checked as the configuration is (so --check-config and a reload refuse a
 * bad file with the FILE:LINE: SETTING: of the setting that names it).
 *
 *   tls = {
 *     certificates = ( { cert = "site.pem"; key = "site.key"; },     # [0]: the default
 *                      { cert = "b.pem"; key = "b.key"; names = [ "*.b.example" ]; } );
 *     protocols = [ "TLSv1.2", "TLSv1.3" ];       # default: both
 *     ciphers = [ "TLS_AES_128_GCM_SHA256", ... ];  # default: every suite porter has
 *     alpn = [ "http/1.1" ];      # default for protocol "http"; [] (no ALPN) for "tcp"
 *   };
 *
 * What is checked of each certificate (the order the messages come in):
 * the cert file opens and holds a PEM certificate, then only PEM certificates
 * (the intermediates); each certificate is valid now (not before notBefore,
 * not after notAfter); each is issued by the next one (issuer name and
 * signature); the key file opens and holds an unencrypted PEM private key; an
 * RSA key has at least 2048 bits; the key is the leaf's; with TLS 1.2 on,
 * `ciphers` has a TLS 1.2 suite for the key's type. Messages name the
 * PEM file and carry OpenSSL's reason; nothing of a key is ever printed.
 * porter_tls_files_load() (config_tls.h) does it, for the parser here and
 * for the TLS contexts, which read the files again.
 *
 * The names a certificate answers SNI for are read from it by the TLS
 * contexts (secondary/tls/tls_conf.c), or given here with `names`.
 *
 * Uses libcrypto (OpenSSL 3) only; no DPDK.
 */
#include "config/config-int.h"
#include "config/config_tls.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define RELOAD    PORTER_CFG_F_RELOAD
#define MANDATORY PORTER_CFG_F_MANDATORY

const char *const porter_tls_cipher_names[PORTER_TLS_CIPHER_COUNT] = {
	[PORTER_TLS13_AES_128_GCM_SHA256] = "TLS_AES_128_GCM_SHA256",
	[PORTER_TLS13_AES_256_GCM_SHA384] = "TLS_AES_256_GCM_SHA384",
	[PORTER_TLS13_CHACHA20_POLY1305_SHA256] = "TLS_CHACHA20_POLY1305_SHA256",
	[PORTER_TLS12_ECDHE_ECDSA_AES128_GCM_SHA256] = "ECDHE-ECDSA-AES128-GCM-SHA256",
	[PORTER_TLS12_ECDHE_RSA_AES128_GCM_SHA256] = "ECDHE-RSA-AES128-GCM-SHA256",
	[PORTER_TLS12_ECDHE_ECDSA_AES256_GCM_SHA384] = "ECDHE-ECDSA-AES256-GCM-SHA384",
	[PORTER_TLS12_ECDHE_RSA_AES256_GCM_SHA384] = "ECDHE-RSA-AES256-GCM-SHA384",
	[PORTER_TLS12_ECDHE_ECDSA_CHACHA20_POLY1305] = "ECDHE-ECDSA-CHACHA20-POLY1305",
	[PORTER_TLS12_ECDHE_RSA_CHACHA20_POLY1305] = "ECDHE-RSA-CHACHA20-POLY1305",
};

#define T struct porter_cfg_tls_cert
static const struct porter_cfg_row tls_cert_rows[] = {
	{ .path = "cert", .type = PORTER_CFG_STR, .flags = RELOAD | MANDATORY, .off = offsetof(T, cert),
	  .size = sizeof(((T *)0)->cert) },
	{ .path = "key", .type = PORTER_CFG_STR, .flags = RELOAD | MANDATORY, .off = offsetof(T, key),
	  .size = sizeof(((T *)0)->key) },
	{ .path = "names", .type = PORTER_CFG_STRS, .flags = RELOAD, .off = PORTER_CFG_NO_OFF },
};
#undef T
const struct porter_cfg_table porter_cfg_tls_cert_table = {
	"listeners[i].tls.certificates[j]", tls_cert_rows, sizeof(tls_cert_rows) / sizeof(tls_cert_rows[0]),
	sizeof(struct porter_cfg_tls_cert)
};

/* ------------------------------------------------------------------------ */
/* Arrays of strings                                                        */
/* ------------------------------------------------------------------------ */

/*
 * Optional array KEY of G (path GPATH) of LO..HI strings: *OUT = the array
 * or NULL when absent; PATH gets its name.
 */
static int get_strs(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
		    const char *key, int lo, int hi, const config_setting_t **out, char path[SETTING_PATH_LEN])
{
	const config_setting_t *a = config_setting_get_member(g, key);

	join(path, gpath, key);
	*out = NULL;
	if (a == NULL)
		return 0;
	if (!config_setting_is_array(a) ||
	    (config_setting_length(a) > 0 && config_setting_type(config_setting_get_elem(a, 0)) != CONFIG_TYPE_STRING))
		return fail(c, a, path, "expected an array of strings [ \"...\", ... ], got %s%s",
			    type_name(config_setting_type(a)), config_setting_is_array(a) ? " of another type" : "");
	int n = config_setting_length(a);
	if (n < lo || n > hi)
		return fail(c, a, path, "must have %d..%d entries, got %d", lo, hi, n);
	*out = a;
	return 0;
}

/* Entry K of array A: its value, ELPATH its name ("...ciphers[2]"). */
static const char *str_at(const config_setting_t *a, const char *path, int k, char elpath[SETTING_PATH_LEN])
{
	int n = snprintf(elpath, SETTING_PATH_LEN, "%s[%d]", path, k);
	if (n >= SETTING_PATH_LEN)
		memcpy(elpath + SETTING_PATH_LEN - 4, "...", 4);
	return config_setting_get_string_elem(a, (unsigned)k);
}

/* ------------------------------------------------------------------------ */
/* protocols, ciphers, alpn                                                 */
/* ------------------------------------------------------------------------ */

static int parse_protocols(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
			   struct porter_cfg_listener *l)
{
	char path[SETTING_PATH_LEN], el[SETTING_PATH_LEN], q[QUOTE_LEN + 4];
	const config_setting_t *a;

	l->tls_protocols = PORTER_TLS_V1_2 | PORTER_TLS_V1_3;
	if (get_strs(c, g, gpath, "protocols", 1, 2, &a, path) != 0)
		return -1;
	if (a == NULL)
		return 0;
	l->tls_protocols = 0;
	for (int k = 0; k < config_setting_length(a); k++) {
		const char *v = str_at(a, path, k, el);
		uint8_t bit = strcmp(v, "TLSv1.2") == 0 ? PORTER_TLS_V1_2 : strcmp(v, "TLSv1.3") == 0 ? PORTER_TLS_V1_3 : 0;

		if (bit == 0)
			return fail(c, a, el, "expected \"TLSv1.2\" or \"TLSv1.3\", got \"%s\"", quote(q, v));
		if (l->tls_protocols & bit)
			return fail(c, a, el, "\"%s\" given twice", v);
		l->tls_protocols |= bit;
	}
	return 0;
}

static int parse_ciphers(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
			 struct porter_cfg_listener *l)
{
	char path[SETTING_PATH_LEN], el[SETTING_PATH_LEN], q[QUOTE_LEN + 4];
	const config_setting_t *a;
	bool has12 = false, has13 = false;

	if (get_strs(c, g, gpath, "ciphers", 1, PORTER_TLS_CIPHER_COUNT, &a, path) != 0)
		return -1;
	if (a == NULL) {
		for (unsigned i = 0; i < PORTER_TLS_CIPHER_COUNT; i++)
			l->tls_ciphers[i] = (uint8_t)i;
		l->tls_cipher_count = PORTER_TLS_CIPHER_COUNT;
		return 0;
	}
	l->tls_cipher_count = 0;
	for (int k = 0; k < config_setting_length(a); k++) {
		const char *v = str_at(a, path, k, el);
		unsigned i = 0;

		while (i < PORTER_TLS_CIPHER_COUNT && strcmp(v, porter_tls_cipher_names[i]) != 0)
			i++;
		if (i == PORTER_TLS_CIPHER_COUNT)
			return fail(c, a, el, "\"%s\" is not allowed: only AEAD suites (AES-GCM, ChaCha20-Poly1305; "
				    "with ECDHE for TLS 1.2) as OpenSSL names them, e.g. \"TLS_AES_128_GCM_SHA256\", "
				    "\"ECDHE-RSA-AES128-GCM-SHA256\" (docs/CONFIG.md lists them)", quote(q, v));
		for (unsigned j = 0; j < l->tls_cipher_count; j++)
			if (l->tls_ciphers[j] == i)
				return fail(c, a, el, "\"%s\" given twice", v);
		l->tls_ciphers[l->tls_cipher_count++] = (uint8_t)i;
		has13 |= PORTER_TLS_CIPHER_IS_13(i);
		has12 |= !PORTER_TLS_CIPHER_IS_13(i);
	}
	/* a protocol without a suite could never be negotiated */
	if ((l->tls_protocols & PORTER_TLS_V1_3) && !has13)
		return fail(c, a, path, "no TLS 1.3 suite (TLS_*) for \"TLSv1.3\" of protocols");
	if ((l->tls_protocols & PORTER_TLS_V1_2) && !has12)
		return fail(c, a, path, "no TLS 1.2 suite (ECDHE-*) for \"TLSv1.2\" of protocols");
	return 0;
}

static int parse_alpn(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
		      struct porter_cfg_listener *l)
{
	char path[SETTING_PATH_LEN], el[SETTING_PATH_LEN], q[QUOTE_LEN + 4];
	const config_setting_t *a;

	/* default: http/1.1 for the proxy, none for a pass-through (it cannot tell what it carries) */
	l->tls_alpn = l->service == PORTER_SVC_HTTP ? PORTER_TLS_ALPN_HTTP11 : 0;
	if (get_strs(c, g, gpath, "alpn", 0, 1, &a, path) != 0)
		return -1;
	if (a == NULL)
		return 0;
	l->tls_alpn = 0;
	for (int k = 0; k < config_setting_length(a); k++) {
		const char *v = str_at(a, path, k, el);

		if (strcmp(v, "http/1.1") != 0)
			return fail(c, a, el, "expected \"http/1.1\" (the only protocol porter speaks over TLS), got "
				    "\"%s\"", quote(q, v));
		l->tls_alpn |= PORTER_TLS_ALPN_HTTP11;
	}
	if (l->tls_alpn != 0 && l->service != PORTER_SVC_HTTP)
		return fail(c, a, path, "only for protocol \"http\"");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* certificates                                                             */
/* ------------------------------------------------------------------------ */

/* A host name or "*.suffix" (one leading label), lower-cased into DST; NULL or why not. */
static const char *sni_name(const char *s, char dst[PORTER_CFG_HOST_LEN])
{
	size_t n = strlen(s), i = 0, label = 0;

	if (n == 0 || n >= PORTER_CFG_HOST_LEN)
		return "must have 1..127 characters";
	if (strncmp(s, "*.", 2) == 0) {
		dst[0] = '*';
		dst[1] = '.';
		i = 2;
	}
	if (s[i] == '\0')
		return "a wildcard needs a suffix (\"*.example.com\")";
	for (; i < n; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch == '.') {
			if (label == 0)
				return "empty label";
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') {
			if (++label > 63)
				return "a label longer than 63 characters";
		} else {
			return ch == '*' ? "'*' only as the whole first label (\"*.example.com\")"
					 : "only letters, digits, '-', '_' and '.'";
		}
		dst[i] = ch;
	}
	if (label == 0)
		return "empty label";
	dst[n] = '\0';
	return NULL;
}

static int parse_names(const struct porter_cfg_ctx *c, const config_setting_t *el, const char *epath,
		       struct porter_cfg_tls_cert *tc)
{
	char path[SETTING_PATH_LEN], ep[SETTING_PATH_LEN], q[QUOTE_LEN + 4];
	const config_setting_t *a;

	if (get_strs(c, el, epath, "names", 1, PORTER_CFG_TLS_MAX_NAMES, &a, path) != 0)
		return -1;
	if (a == NULL)
		return 0;
	for (int k = 0; k < config_setting_length(a); k++) {
		const char *v = str_at(a, path, k, ep);
		const char *why = sni_name(v, tc->names[k]);

		if (why != NULL)
			return fail(c, a, ep, "bad name \"%s\": %s", quote(q, v), why);
	}
	tc->name_count = (uint32_t)config_setting_length(a);
	return 0;
}

/* PATH relative to the directory of the configuration file (c->name) into DST; -1 when too long. */
static int resolve(const struct porter_cfg_ctx *c, char dst[PORTER_CFG_PATH_LEN], const char *path)
{
	const char *slash = strrchr(c->name, '/');
	char tmp[PORTER_CFG_PATH_LEN];
	int n;

	if (path[0] == '/' || slash == NULL)
		n = snprintf(tmp, sizeof(tmp), "%s", path);
	else
		n = snprintf(tmp, sizeof(tmp), "%.*s/%s", (int)(slash - c->name), c->name, path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	memcpy(dst, tmp, (size_t)n + 1);
	return 0;
}

/* OpenSSL's reason for the last error (or WHAT), the queue emptied. */
static const char *ssl_reason(char buf[160], const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, 160, "%s", r != NULL ? r : what);
	ERR_clear_error();
	return buf;
}

/* "CN=..." or the whole subject of X, shortened, into BUF. */
static const char *subject(char buf[128], const X509 *x)
{
	X509_NAME_oneline(X509_get_subject_name(x), buf, 128);
	return buf;
}

/* T as "Jan  1 00:00:00 2020 GMT" into BUF. */
static const char *asn1_time(char buf[64], const ASN1_TIME *t)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	buf[0] = '\0';
	if (b != NULL && ASN1_TIME_print(b, t) == 1)
		n = BIO_read(b, buf, 63);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
	return buf;
}

/* No passphrase is ever asked for: an encrypted key fails to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

/* Why, into F->why; -1. */
__attribute__((format(printf, 3, 4)))
static int why(struct porter_tls_files *f, int which, const char *fmt, ...)
{
	va_list ap;

	f->failed = which;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* The chain of the cert file FILE: every certificate valid now, each issued by the next. */
static int check_chain(struct porter_tls_files *f, const char *file, X509 *const *chain, int n)
{
	char sa[128], sb[128], t[64], r[160];

	for (int i = 0; i < n; i++) {
		if (X509_cmp_current_time(X509_get0_notBefore(chain[i])) >= 0)
			return why(f, PORTER_TLS_FILE_CERT, "\"%s\": certificate %d (%s) is not valid before %s", file, i,
				   subject(sa, chain[i]), asn1_time(t, X509_get0_notBefore(chain[i])));
		if (X509_cmp_current_time(X509_get0_notAfter(chain[i])) <= 0)
			return why(f, PORTER_TLS_FILE_CERT, "\"%s\": certificate %d (%s) expired on %s", file, i,
				   subject(sa, chain[i]), asn1_time(t, X509_get0_notAfter(chain[i])));
	}
	for (int i = 0; i + 1 < n; i++) {
		int rc = X509_check_issued(chain[i + 1], chain[i]);

		if (rc != X509_V_OK)
			return why(f, PORTER_TLS_FILE_CERT, "\"%s\": certificate %d (%s) is not issued by certificate %d "
				   "(%s): %s; the intermediates follow the leaf, each issued by the next", file, i,
				   subject(sa, chain[i]), i + 1, subject(sb, chain[i + 1]),
				   X509_verify_cert_error_string(rc));
		EVP_PKEY *pk = X509_get0_pubkey(chain[i + 1]);
		if (pk == NULL || X509_verify(chain[i], pk) != 1)
			return why(f, PORTER_TLS_FILE_CERT, "\"%s\": the signature of certificate %d (%s) does not verify "
				   "with the key of certificate %d (%s) (OpenSSL: %s)", file, i, subject(sa, chain[i]),
				   i + 1, subject(sb, chain[i + 1]), ssl_reason(r, "bad signature"));
	}
	return 0;
}

int porter_tls_files_load(const struct porter_cfg_tls_cert *tc, struct porter_tls_files *f)
{
	X509 *chain[PORTER_TLS_MAX_CHAIN] = { NULL };
	char r[160];
	FILE *fp = NULL;
	int n = 0;

	memset(f, 0, sizeof(*f));
	ERR_clear_error();

	/* the cert file: the leaf, then the intermediates */
	fp = fopen(tc->cert, "r");
	if (fp == NULL)
		return why(f, PORTER_TLS_FILE_CERT, "cannot read \"%s\": %s", tc->cert, strerror(errno));
	chain[0] = PEM_read_X509(fp, NULL, NULL, NULL);
	if (chain[0] == NULL) {
		why(f, PORTER_TLS_FILE_CERT, "\"%s\" holds no PEM certificate (OpenSSL: %s)", tc->cert,
		    ssl_reason(r, "unreadable"));
		goto fail;
	}
	for (n = 1;; n++) {
		X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);

		if (x == NULL) {
			unsigned long e = ERR_peek_last_error();
			/* the end of the file: no further "-----BEGIN" */
			if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
				ERR_clear_error();
				break;
			}
			why(f, PORTER_TLS_FILE_CERT, "\"%s\": certificate %d is unreadable (OpenSSL: %s)", tc->cert, n,
			    ssl_reason(r, "unreadable"));
			goto fail;
		}
		if (n == PORTER_TLS_MAX_CHAIN) {
			X509_free(x);
			why(f, PORTER_TLS_FILE_CERT, "\"%s\": more than %d certificates", tc->cert, PORTER_TLS_MAX_CHAIN);
			goto fail;
		}
		chain[n] = x;
	}
	fclose(fp);
	fp = NULL;
	if (check_chain(f, tc->cert, chain, n) != 0)
		goto fail;

	/* the key file */
	fp = fopen(tc->key, "r");
	if (fp == NULL) {
		why(f, PORTER_TLS_FILE_KEY, "cannot read \"%s\": %s", tc->key, strerror(errno));
		goto fail;
	}
	f->key = PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL);
	if (f->key == NULL) {
		why(f, PORTER_TLS_FILE_KEY, "\"%s\" holds no unencrypted PEM private key (OpenSSL: %s)", tc->key,
		    ssl_reason(r, "unreadable"));
		goto fail;
	}
	fclose(fp);
	fp = NULL;
	if (EVP_PKEY_get_base_id(f->key) == EVP_PKEY_RSA && EVP_PKEY_get_bits(f->key) < PORTER_TLS_MIN_RSA_BITS) {
		why(f, PORTER_TLS_FILE_KEY, "\"%s\": an RSA key of %d bits; at least %d are needed", tc->key,
		    EVP_PKEY_get_bits(f->key), PORTER_TLS_MIN_RSA_BITS);
		goto fail;
	}
	if (X509_check_private_key(chain[0], f->key) != 1) {
		why(f, PORTER_TLS_FILE_KEY, "\"%s\" is not the key of the certificate in \"%s\" (OpenSSL: %s)", tc->key,
		    tc->cert, ssl_reason(r, "key values mismatch"));
		goto fail;
	}

	f->chain = sk_X509_new_null();
	if (f->chain == NULL) {
		why(f, PORTER_TLS_FILE_CERT, "\"%s\": %s", tc->cert, strerror(ENOMEM));
		goto fail;
	}
	for (int i = 1; i < n; i++) {
		if (sk_X509_push(f->chain, chain[i]) == 0) {
			why(f, PORTER_TLS_FILE_CERT, "\"%s\": %s", tc->cert, strerror(ENOMEM));
			goto fail;
		}
		chain[i] = NULL;        /* the stack holds it */
	}
	f->leaf = chain[0];
	ERR_clear_error();
	return 0;
fail:
	if (fp != NULL)
		fclose(fp);
	for (int i = 0; i < PORTER_TLS_MAX_CHAIN; i++)
		X509_free(chain[i]);
	EVP_PKEY_free(f->key);
	sk_X509_pop_free(f->chain, X509_free);
	f->key = NULL;
	f->chain = NULL;
	ERR_clear_error();
	return -1;
}

void porter_tls_files_free(struct porter_tls_files *f)
{
	X509_free(f->leaf);
	EVP_PKEY_free(f->key);
	sk_X509_pop_free(f->chain, X509_free);
	f->leaf = NULL;
	f->key = NULL;
	f->chain = NULL;
}

/*
 * With TLS 1.2 on, the listener's TLS 1.2 suites must include one for the
 * type of KEY (ECDHE-RSA-* for RSA; ECDHE-ECDSA-* for EC and EdDSA, RFC
 * 8422), else no TLS 1.2 client could be served with this certificate.
 * NULL, or what is missing.
 */
static const char *suite_gap(const struct porter_cfg_listener *l, EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);
	bool rsa = id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS;
	bool ec = id == EVP_PKEY_EC || id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448;

	if (!(l->tls_protocols & PORTER_TLS_V1_2) || (!rsa && !ec))
		return NULL;
	for (unsigned i = 0; i < l->tls_cipher_count; i++) {
		unsigned cph = l->tls_ciphers[i];
		if (!PORTER_TLS_CIPHER_IS_13(cph) && (strstr(porter_tls_cipher_names[cph], "-RSA-") != NULL) == rsa)
			return NULL;
	}
	return rsa ? "an RSA key, and ciphers has no ECDHE-RSA-* suite for TLSv1.2"
		   : "an EC key, and ciphers has no ECDHE-ECDSA-* suite for TLSv1.2";
}

/* Read and check TC's files for listener L; EL is the certificates[j] element (EPATH its name), where errors go. */
static int check_files(const struct porter_cfg_ctx *c, const config_setting_t *el, const char *epath,
		       const struct porter_cfg_listener *l, const struct porter_cfg_tls_cert *tc)
{
	struct porter_tls_files f;
	char path[SETTING_PATH_LEN];

	if (porter_tls_files_load(tc, &f) == 0) {
		const char *gap = suite_gap(l, f.key);

		porter_tls_files_free(&f);
		if (gap == NULL)
			return 0;
		join(path, epath, "key");
		return fail(c, config_setting_get_member(el, "key"), path, "\"%s\": %s", tc->key, gap);
	}
	const char *key = f.failed == PORTER_TLS_FILE_KEY ? "key" : "cert";
	join(path, epath, key);
	return fail(c, config_setting_get_member(el, key), path, "%s", f.why);
}

static int parse_certificates(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
			      struct porter_config *cfg, struct porter_cfg_listener *l)
{
	char path[SETTING_PATH_LEN], epath[SETTING_PATH_LEN + 16];
	const config_setting_t *list;

	join(path, gpath, "certificates");
	if (get_list(c, g, path, "certificates", 1, PORTER_CFG_MAX_TLS_CERTS, &list) != 0)
		return -1;
	if (list == NULL)
		return fail(c, g, path, "missing mandatory setting");
	int n = config_setting_length(list);
	if (cfg->tls_cert_count + (uint32_t)n > PORTER_CFG_MAX_TLS_CERTS)
		return fail(c, list, path, "more than %d certificates over all listeners", PORTER_CFG_MAX_TLS_CERTS);

	l->tls_cert_first = (uint8_t)cfg->tls_cert_count;
	for (int j = 0; j < n; j++) {
		const config_setting_t *el = config_setting_get_elem(list, (unsigned)j);
		struct porter_cfg_tls_cert *tc = &cfg->tls_certs[cfg->tls_cert_count];
		char p[SETTING_PATH_LEN];

		snprintf(epath, sizeof(epath), "%s[%d]", path, j);
		memset(tc, 0, sizeof(*tc));
		porter_cfg_apply_defaults(&porter_cfg_tls_cert_table, tc);
		if (!config_setting_is_group(el))
			return fail(c, el, epath, "expected a group { cert = ...; key = ...; }, got %s",
				    type_name(config_setting_type(el)));
		if (rows_parse(c, el, epath, &porter_cfg_tls_cert_table, tc) != 0 ||
		    parse_names(c, el, epath, tc) != 0)
			return -1;
		if (resolve(c, tc->cert, tc->cert) != 0) {
			join(p, epath, "cert");
			return fail(c, config_setting_get_member(el, "cert"), p, "too long once taken from the "
				    "directory of %s (at most %d characters)", c->name, PORTER_CFG_PATH_LEN - 1);
		}
		if (resolve(c, tc->key, tc->key) != 0) {
			join(p, epath, "key");
			return fail(c, config_setting_get_member(el, "key"), p, "too long once taken from the "
				    "directory of %s (at most %d characters)", c->name, PORTER_CFG_PATH_LEN - 1);
		}
		if (check_files(c, el, epath, l, tc) != 0)
			return -1;
		cfg->tls_cert_count++;
	}
	l->tls_cert_count = (uint8_t)n;
	return 0;
}

int parse_listener_tls(const struct porter_cfg_ctx *c, const config_setting_t *el, const char *pre,
		       const struct porter_cfg_table *lt, struct porter_config *cfg, struct porter_cfg_listener *l)
{
	char gpath[SETTING_PATH_LEN];
	const config_setting_t *g;
	size_t i = 0, n = 0;

	if (get_group(c, el, pre, "tls", &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	join(gpath, pre, "tls");
	l->tls = true;
	if (l->service != PORTER_SVC_HTTP && l->service != PORTER_SVC_TCP)
		return fail(c, g, gpath, "only for protocol \"http\" or \"tcp\"");

	/* the rows inside "tls" of the listener table are the names it may hold */
	while (i < lt->n && strcmp(lt->rows[i].path, "tls") != 0)
		i++;
	while (i + 1 + n < lt->n && strncmp(lt->rows[i + 1 + n].path, "tls.", 4) == 0)
		n++;
	if (rows_check_known(c, g, gpath, lt->rows + i + 1, n, 4) != 0)
		return -1;
	if (parse_protocols(c, g, gpath, l) != 0 || parse_ciphers(c, g, gpath, l) != 0 ||
	    parse_alpn(c, g, gpath, l) != 0)
		return -1;
	return parse_certificates(c, g, gpath, cfg, l);
}
