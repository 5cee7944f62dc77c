/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of listeners[i].tls: the configuration's checks of certificate
 * and key files (config/config_tls.c) and the TLS contexts built from a
 * loaded configuration (secondary/tls/tls_conf.c).
 *
 * Every test (its own process) makes a CA, an intermediate and leaf
 * certificates with libcrypto into a temporary directory (tls_testcerts.h),
 * writes porter.conf there naming them by relative paths, and removes it all
 * afterwards. Handshakes are real: an OpenSSL client SSL and the server SSL
 * of tls_conf_ssl_new() joined by a BIO pair, pumped until both are done or
 * one fails.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "config/config.h"
#include "secondary/tls/tls_conf.h"
#include "tls_testcerts.h"

#define PORT 443

static char dir[TC_PATH_LEN], conf_path[TC_PATH_LEN];
static EVP_PKEY *ca_key, *int_key, *def_key, *a_key, *wild_key, *rsa_key;
static X509 *ca, *inter, *def_leaf, *a_leaf, *wild_leaf, *rsa_leaf;
static struct porter_config cfg, cfg2;
static char err[2048];

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

static void write_certs(const char *name, X509 *const *certs, int n)
{
	char p[TC_PATH_LEN];
	tc_path(p, dir, name);
	cr_assert_eq(tc_write_certs(p, certs, n), 0, "%s", p);
}

static void write_key(const char *name, EVP_PKEY *k)
{
	char p[TC_PATH_LEN];
	tc_path(p, dir, name);
	cr_assert_eq(tc_write_key(p, k), 0, "%s", p);
}

static X509 *leaf(EVP_PKEY *k, const char *cn, const char *const *sans)
{
	X509 *x = tc_cert(k, cn, sans, ca, ca_key, -3600, 86400, false);
	cr_assert_not_null(x);
	return x;
}

/*
 * The certificates of the default configuration:
 *   default.pem  default.example, under the intermediate (the file holds both), EC
 *   a.pem        a.example www.a.example, EC
 *   wild.pem     *.w.example, EC
 *   rsa.pem      rsa.example, RSA 2048
 */
static void setup(void)
{
	static const char *const def_sans[] = { "default.example", NULL };
	static const char *const a_sans[] = { "a.example", "www.a.example", NULL };
	static const char *const wild_sans[] = { "*.w.example", NULL };
	static const char *const rsa_sans[] = { "rsa.example", NULL };

	cr_assert_eq(tc_dir_make(dir), 0);
	tc_path(conf_path, dir, "porter.conf");
	ca_key = tc_key_ec();
	int_key = tc_key_ec();
	def_key = tc_key_ec();
	a_key = tc_key_ec();
	wild_key = tc_key_ec();
	rsa_key = tc_key_rsa(2048);
	cr_assert(ca_key && int_key && def_key && a_key && wild_key && rsa_key);
	ca = tc_cert(ca_key, "porter test CA", NULL, NULL, NULL, -3600, 86400, true);
	cr_assert_not_null(ca);
	inter = tc_cert(int_key, "porter test intermediate", NULL, ca, ca_key, -3600, 86400, true);
	cr_assert_not_null(inter);
	def_leaf = tc_cert(def_key, "default.example", def_sans, inter, int_key, -3600, 86400, false);
	cr_assert_not_null(def_leaf);
	a_leaf = leaf(a_key, "a.example", a_sans);
	wild_leaf = leaf(wild_key, "wildcard", wild_sans);
	rsa_leaf = leaf(rsa_key, "rsa.example", rsa_sans);

	X509 *def_chain[] = { def_leaf, inter };
	write_certs("default.pem", def_chain, 2);
	write_key("default.key", def_key);
	write_certs("a.pem", &a_leaf, 1);
	write_key("a.key", a_key);
	write_certs("wild.pem", &wild_leaf, 1);
	write_key("wild.key", wild_key);
	write_certs("rsa.pem", &rsa_leaf, 1);
	write_key("rsa.key", rsa_key);
}

static void teardown(void)
{
	X509 *xs[] = { ca, inter, def_leaf, a_leaf, wild_leaf, rsa_leaf };
	EVP_PKEY *ks[] = { ca_key, int_key, def_key, a_key, wild_key, rsa_key };

	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
		X509_free(xs[i]);
		EVP_PKEY_free(ks[i]);
	}
	tc_dir_remove(dir);
}

TestSuite(tls, .init = setup, .fini = teardown);

/*
 * porter.conf: line 4 holds EXTRA (protocols, ciphers, alpn), line 6 the
 * first certificate (CERT0: its settings), lines 7..9 the others (or
 * REST, when not NULL).
 */
#define CERT0_LINE 6
#define DEFAULT_CERT0 "cert = \"default.pem\"; key = \"default.key\";"
#define DEFAULT_REST                                                            \
	"{ cert = \"a.pem\"; key = \"a.key\"; },\n"                             \
	"{ cert = \"wild.pem\"; key = \"wild.key\"; },\n"                       \
	"{ cert = \"rsa.pem\"; key = \"rsa.key\"; }\n"

static void write_conf(const char *extra, const char *cert0, const char *rest)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "ports = ( { name = \"front\"; device = \"net_tap0,iface=porter0\"; mac = \"02:70:6f:72:74:01\"; "
		 "ipv4 = \"10.99.0.2/24\"; } );\n"
		 "upstreams = ( { name = \"u\"; servers = ( { address = \"10.99.0.9:80\"; } ); } );\n"
		 "listeners = ( { port = 443; protocol = \"http\"; tls = {\n"
		 "%s\n"
		 "certificates = (\n"
		 "{ %s },\n"
		 "%s"
		 "); }; } );\n"
		 "routes = ( { upstream = \"u\"; } );\n",
		 extra, cert0, rest != NULL ? rest : DEFAULT_REST);
	cr_assert_eq(tc_write_text(conf_path, text), 0);
}

static int load(const char *extra, const char *cert0, const char *rest)
{
	write_conf(extra, cert0, rest);
	memset(err, 0, sizeof(err));
	return porter_config_load(conf_path, &cfg, err, sizeof(err));
}

/* The configuration with EXTRA, loaded, and its contexts. */
static struct tls_conf *conf_with(const char *extra)
{
	cr_assert_eq(load(extra, DEFAULT_CERT0, NULL), 0, "%s", err);
	struct tls_conf *tc = tls_conf_new(&cfg, 1, NULL, err, sizeof(err));
	cr_assert_not_null(tc, "%s", err);
	return tc;
}

/* ------------------------------------------------------------------------ */
/* Handshakes                                                               */
/* ------------------------------------------------------------------------ */

/* A client context trusting the test CA, verifying the server (with versions LO..HI, 0: any). */
static SSL_CTX *client_ctx(int lo, int hi)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	cr_assert_not_null(c);
	cr_assert_eq(X509_STORE_add_cert(SSL_CTX_get_cert_store(c), ca), 1);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	if (lo != 0)
		cr_assert_eq(SSL_CTX_set_min_proto_version(c, lo), 1);
	if (hi != 0)
		cr_assert_eq(SSL_CTX_set_max_proto_version(c, hi), 1);
	return c;
}

struct hs {
	SSL *cli, *srv;
	unsigned long cli_err, srv_err;   /* the first error of each side, 0 when none */
};

/* A client of CCTX asking for SNI (NULL: none) and a server of TC's listener, joined by a BIO pair. */
static void hs_init(struct hs *h, SSL_CTX *cctx, struct tls_conf *tc, const char *sni)
{
	BIO *bc, *bs;

	memset(h, 0, sizeof(*h));
	h->cli = SSL_new(cctx);
	h->srv = tls_conf_ssl_new(tc, PORT);
	cr_assert(h->cli != NULL && h->srv != NULL);
	cr_assert_eq(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(h->cli, bc, bc);
	SSL_set_bio(h->srv, bs, bs);
	SSL_set_connect_state(h->cli);
	if (sni != NULL)
		cr_assert_eq(SSL_set_tlsext_host_name(h->cli, sni), 1);
}

/* One side's step: 1 done, 0 wants more, -1 failed (its first error kept). */
static int step(SSL *s, unsigned long *e)
{
	int rc = SSL_do_handshake(s);

	if (rc == 1)
		return 1;
	int why = SSL_get_error(s, rc);
	if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE)
		return 0;
	if (*e == 0)
		*e = ERR_peek_error() != 0 ? ERR_peek_error() : (unsigned long)-1;
	ERR_clear_error();
	return -1;
}

/*
 * Pump both sides until both are done (true) or one failed (false). The BIO
 * pair moves bytes at once; a handshake takes a few rounds, so a bound on the
 * rounds only stops a test that would never end.
 */
static bool hs_run(struct hs *h)
{
	for (int round = 0; round < 64; round++) {
		int c = step(h->cli, &h->cli_err);
		int s = step(h->srv, &h->srv_err);

		if (c < 0 || s < 0) {
			/* let the other side read the alert */
			if (c >= 0)
				step(h->cli, &h->cli_err);
			if (s >= 0)
				step(h->srv, &h->srv_err);
			return false;
		}
		if (c == 1 && s == 1)
			return true;
	}
	cr_assert_fail("handshake did not finish in 64 rounds");
	return false;
}

static void hs_free(struct hs *h)
{
	SSL_free(h->cli);
	SSL_free(h->srv);
}

/* A full handshake with SNI; the certificate index the server chose; the client saw X. */
static void expect_cert(struct tls_conf *tc, const char *sni, int want, X509 *x)
{
	SSL_CTX *cctx = client_ctx(0, 0);
	struct hs h;

	hs_init(&h, cctx, tc, sni);
	cr_assert(hs_run(&h), "SNI %s: handshake failed: client %s, server %s", sni ? sni : "(none)",
		  ERR_reason_error_string(h.cli_err), ERR_reason_error_string(h.srv_err));
	cr_assert_eq(tls_conf_ssl_cert(h.srv), want, "SNI %s", sni ? sni : "(none)");
	cr_assert_eq(tls_conf_select(tc, PORT, sni), want, "SNI %s", sni ? sni : "(none)");
	cr_assert_eq(X509_cmp(SSL_get0_peer_certificate(h.cli), x), 0, "SNI %s: another certificate",
		     sni ? sni : "(none)");
	/* the client verified the chain up to the CA (the default certificate through its intermediate) */
	cr_assert_eq(SSL_get_verify_result(h.cli), X509_V_OK, "SNI %s", sni ? sni : "(none)");
	hs_free(&h);
	SSL_CTX_free(cctx);
}

/* ------------------------------------------------------------------------ */
/* SNI                                                                      */
/* ------------------------------------------------------------------------ */

Test(tls, sni_exact_names_of_the_certificate)
{
	struct tls_conf *tc = conf_with("");

	expect_cert(tc, "a.example", 1, a_leaf);
	expect_cert(tc, "www.a.example", 1, a_leaf);
	expect_cert(tc, "rsa.example", 3, rsa_leaf);
	expect_cert(tc, "default.example", 0, def_leaf);
	/* case and one trailing dot do not matter */
	expect_cert(tc, "WWW.A.Example", 1, a_leaf);
	expect_cert(tc, "a.example.", 1, a_leaf);
	tls_conf_put(tc);
}

Test(tls, sni_wildcard_is_one_label)
{
	struct tls_conf *tc = conf_with("");

	expect_cert(tc, "x.w.example", 2, wild_leaf);
	expect_cert(tc, "X-1.W.EXAMPLE", 2, wild_leaf);
	/* neither the bare suffix nor two labels */
	expect_cert(tc, "w.example", 0, def_leaf);
	expect_cert(tc, "y.x.w.example", 0, def_leaf);
	cr_assert_eq(tls_conf_select(tc, PORT, ".w.example"), 0);
	tls_conf_put(tc);
}

Test(tls, sni_unknown_or_absent_gets_the_default)
{
	struct tls_conf *tc = conf_with("");

	expect_cert(tc, "nothing.example", 0, def_leaf);
	expect_cert(tc, "example", 0, def_leaf);
	expect_cert(tc, NULL, 0, def_leaf);
	tls_conf_put(tc);
}

/* names replaces the certificate's own; exact names win over wildcards whatever the order. */
Test(tls, sni_names_override)
{
	cr_assert_eq(load("", DEFAULT_CERT0,
			  "{ cert = \"wild.pem\"; key = \"wild.key\"; },\n"
			  "{ cert = \"a.pem\"; key = \"a.key\"; names = [ \"Exact.W.example\", \"*.ov.example\" ]; }\n"),
		     0, "%s", err);
	cr_assert_str_eq(cfg.tls_certs[2].names[0], "exact.w.example");
	struct tls_conf *tc = tls_conf_new(&cfg, 1, NULL, err, sizeof(err));
	cr_assert_not_null(tc, "%s", err);

	cr_assert_eq(tls_conf_select(tc, PORT, "exact.w.example"), 2);
	cr_assert_eq(tls_conf_select(tc, PORT, "other.w.example"), 1);
	cr_assert_eq(tls_conf_select(tc, PORT, "q.ov.example"), 2);
	/* the certificate's own names are no longer its */
	cr_assert_eq(tls_conf_select(tc, PORT, "a.example"), 0);
	/* the handshake applies the same choice (the client checks no name here) */
	SSL_CTX *cctx = client_ctx(0, 0);
	struct hs h;
	hs_init(&h, cctx, tc, "q.ov.example");
	cr_assert(hs_run(&h));
	cr_assert_eq(X509_cmp(SSL_get0_peer_certificate(h.cli), a_leaf), 0);
	hs_free(&h);
	SSL_CTX_free(cctx);
	tls_conf_put(tc);
}

/* ------------------------------------------------------------------------ */
/* Versions and suites                                                      */
/* ------------------------------------------------------------------------ */

/* A handshake of a client limited to LO..HI; the version, or 0 when it failed. */
static int version_with(struct tls_conf *tc, int lo, int hi)
{
	SSL_CTX *cctx = client_ctx(lo, hi);
	struct hs h;
	int v = 0;

	/* the client offers what it is told to (its own security level would keep it from TLS 1.0) */
	SSL_CTX_set_security_level(cctx, 0);

	hs_init(&h, cctx, tc, "a.example");
	if (hs_run(&h)) {
		v = SSL_version(h.cli);
		cr_assert_eq(SSL_version(h.srv), v);
	}
	hs_free(&h);
	SSL_CTX_free(cctx);
	return v;
}

Test(tls, versions_both_by_default)
{
	struct tls_conf *tc = conf_with("");

	cr_assert_eq(version_with(tc, TLS1_2_VERSION, TLS1_2_VERSION), TLS1_2_VERSION);
	cr_assert_eq(version_with(tc, TLS1_3_VERSION, TLS1_3_VERSION), TLS1_3_VERSION);
	cr_assert_eq(version_with(tc, 0, 0), TLS1_3_VERSION);
	/* nothing older, whatever the client's OpenSSL allows */
	cr_assert_eq(version_with(tc, TLS1_VERSION, TLS1_1_VERSION), 0);
	tls_conf_put(tc);
}

Test(tls, versions_one_only)
{
	struct tls_conf *tc = conf_with("protocols = [ \"TLSv1.3\" ];");

	cr_assert_eq(version_with(tc, TLS1_3_VERSION, TLS1_3_VERSION), TLS1_3_VERSION);
	cr_assert_eq(version_with(tc, TLS1_2_VERSION, TLS1_2_VERSION), 0);
	tls_conf_put(tc);

	tc = conf_with("protocols = [ \"TLSv1.2\" ];");
	cr_assert_eq(version_with(tc, TLS1_2_VERSION, TLS1_2_VERSION), TLS1_2_VERSION);
	cr_assert_eq(version_with(tc, TLS1_3_VERSION, TLS1_3_VERSION), 0);
	cr_assert_eq(version_with(tc, 0, 0), TLS1_2_VERSION);
	tls_conf_put(tc);
}

/* A client offering only SUITE (TLS 1.3 or 1.2 by its name) to SNI; the suite agreed, or NULL. */
static const char *suite_with(struct tls_conf *tc, const char *suite, const char *sni, unsigned long *srv_err)
{
	bool v13 = strncmp(suite, "TLS_", 4) == 0;
	SSL_CTX *cctx = client_ctx(v13 ? TLS1_3_VERSION : TLS1_2_VERSION, v13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	static char got[64];
	struct hs h;
	const char *r = NULL;

	/* the client may offer what porter refuses: it is the server under test */
	SSL_CTX_set_security_level(cctx, 0);
	if (v13)
		cr_assert_eq(SSL_CTX_set_ciphersuites(cctx, suite), 1, "%s", suite);
	else
		cr_assert_eq(SSL_CTX_set_cipher_list(cctx, suite), 1, "%s", suite);
	hs_init(&h, cctx, tc, sni);
	if (hs_run(&h)) {
		snprintf(got, sizeof(got), "%s", SSL_CIPHER_get_name(SSL_get_current_cipher(h.cli)));
		r = got;
	}
	if (srv_err != NULL)
		*srv_err = h.srv_err;
	hs_free(&h);
	SSL_CTX_free(cctx);
	return r;
}

Test(tls, every_allowed_suite_negotiates)
{
	struct tls_conf *tc = conf_with("");

	for (unsigned i = 0; i < PORTER_TLS_CIPHER_COUNT; i++) {
		const char *name = porter_tls_cipher_names[i];
		/* ECDHE-RSA suites need the RSA certificate, ECDHE-ECDSA ones an EC one */
		const char *sni = strstr(name, "-RSA-") != NULL ? "rsa.example" : "a.example";
		const char *got = suite_with(tc, name, sni, NULL);

		cr_assert_not_null(got, "%s: no handshake", name);
		cr_assert_str_eq(got, name);
	}
	tls_conf_put(tc);
}

Test(tls, non_aead_offers_fail)
{
	static const char *const refused[] = {
		"ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES128-SHA256",
		"ECDHE-ECDSA-AES256-SHA384", "AES128-SHA", "AES128-GCM-SHA256",   /* AEAD but no ECDHE */
		"AES256-SHA256", "DHE-RSA-AES128-GCM-SHA256",                      /* no ECDHE */
	};
	struct tls_conf *tc = conf_with("");

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		unsigned long e = 0;
		const char *sni = strstr(refused[i], "ECDSA") != NULL ? "a.example" : "rsa.example";
		const char *got = suite_with(tc, refused[i], sni, &e);

		cr_assert_null(got, "%s was agreed", refused[i]);
		cr_assert_eq(ERR_GET_REASON(e), SSL_R_NO_SHARED_CIPHER, "%s: server: %s", refused[i],
			     ERR_reason_error_string(e));
	}
	tls_conf_put(tc);
}

Test(tls, only_the_configured_suites_in_the_configured_order)
{
	struct tls_conf *tc = conf_with("ciphers = [ \"TLS_CHACHA20_POLY1305_SHA256\", \"TLS_AES_256_GCM_SHA384\", "
					"\"ECDHE-ECDSA-AES256-GCM-SHA384\", \"ECDHE-RSA-AES256-GCM-SHA384\" ];");

	cr_assert_null(suite_with(tc, "TLS_AES_128_GCM_SHA256", "a.example", NULL));
	cr_assert_null(suite_with(tc, "ECDHE-ECDSA-AES128-GCM-SHA256", "a.example", NULL));
	cr_assert_str_eq(suite_with(tc, "TLS_AES_256_GCM_SHA384", "a.example", NULL), "TLS_AES_256_GCM_SHA384");
	/* a client offering all three TLS 1.3 suites, AES first, gets the server's first */
	cr_assert_str_eq(suite_with(tc, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
				    "a.example", NULL), "TLS_CHACHA20_POLY1305_SHA256");
	cr_assert_str_eq(suite_with(tc, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384", "a.example",
				    NULL), "ECDHE-ECDSA-AES256-GCM-SHA384");
	tls_conf_put(tc);
}

/* ------------------------------------------------------------------------ */
/* ALPN, tickets                                                            */
/* ------------------------------------------------------------------------ */

/* A handshake offering the ALPN list WIRE (RFC 7301 encoding, NULL: none); *ok, and what was agreed. */
static const char *alpn_with(struct tls_conf *tc, const unsigned char *wire, unsigned len, bool *ok,
			     unsigned long *cli_err)
{
	SSL_CTX *cctx = client_ctx(0, 0);
	static char got[64];
	const unsigned char *p = NULL;
	unsigned int n = 0;
	struct hs h;

	hs_init(&h, cctx, tc, "a.example");
	if (wire != NULL)
		cr_assert_eq(SSL_set_alpn_protos(h.cli, wire, len), 0);
	*ok = hs_run(&h);
	*cli_err = h.cli_err;
	got[0] = '\0';
	if (*ok) {
		SSL_get0_alpn_selected(h.cli, &p, &n);
		snprintf(got, sizeof(got), "%.*s", (int)n, (const char *)p);
		SSL_get0_alpn_selected(h.srv, &p, &n);
		cr_assert_eq(strlen(got), n);
	}
	hs_free(&h);
	SSL_CTX_free(cctx);
	return got;
}

#define W_H11    (const unsigned char *)"\x08http/1.1"
#define W_H2_H11 (const unsigned char *)"\x02h2\x08http/1.1"
#define W_H2     (const unsigned char *)"\x02h2"

Test(tls, alpn_http11_or_refused)
{
	struct tls_conf *tc = conf_with("");
	unsigned long e;
	bool ok;

	cr_assert_str_eq(alpn_with(tc, W_H11, 9, &ok, &e), "http/1.1");
	cr_assert(ok);
	cr_assert_str_eq(alpn_with(tc, W_H2_H11, 12, &ok, &e), "http/1.1");
	cr_assert(ok);
	/* no ALPN from the client: served, nothing agreed */
	cr_assert_str_eq(alpn_with(tc, NULL, 0, &ok, &e), "");
	cr_assert(ok);
	/* ALPN without http/1.1: RFC 7301 §3.2, no_application_protocol */
	alpn_with(tc, W_H2, 3, &ok, &e);
	cr_assert(!ok);
	cr_assert_eq(ERR_GET_REASON(e), SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL, "client: %s",
		     ERR_reason_error_string(e));
	tls_conf_put(tc);

	/* alpn = []: the client's list is ignored */
	tc = conf_with("alpn = [];");
	cr_assert_str_eq(alpn_with(tc, W_H2, 3, &ok, &e), "");
	cr_assert(ok);
	cr_assert_str_eq(alpn_with(tc, W_H11, 9, &ok, &e), "");
	cr_assert(ok);
	tls_conf_put(tc);
}

static int tickets_seen;

static int on_new_session(SSL *s, SSL_SESSION *sess)
{
	(void)s;
	tickets_seen += SSL_SESSION_has_ticket(sess);
	return 0;                       /* not kept */
}

/* Tickets are off: a TLS 1.3 client reading after the handshake gets none, a 1.2 one has none. */
Test(tls, no_session_tickets)
{
	struct tls_conf *tc = conf_with("");
	char buf[8];

	for (int v = TLS1_2_VERSION; v <= TLS1_3_VERSION; v++) {
		SSL_CTX *cctx = client_ctx(v, v);
		struct hs h;

		SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(cctx, on_new_session);
		tickets_seen = 0;
		hs_init(&h, cctx, tc, "a.example");
		cr_assert(hs_run(&h));
		/* post-handshake messages (NewSessionTicket) come before these bytes */
		cr_assert_eq(SSL_write(h.srv, "ping", 4), 4);
		cr_assert_eq(SSL_read(h.cli, buf, sizeof(buf)), 4);
		cr_assert_eq(tickets_seen, 0, "TLS %x: %d tickets", v, tickets_seen);
		cr_assert_eq(SSL_SESSION_has_ticket(SSL_get_session(h.cli)), 0);
		hs_free(&h);
		SSL_CTX_free(cctx);
	}
	tls_conf_put(tc);
}

/* A ticket key callback as a later part will give (keys here: one random set per process). */
static unsigned char tk_name[16], tk_aes[32], tk_hmac[32];

static int ticket_keys(SSL *s, unsigned char key_name[16], unsigned char *iv, EVP_CIPHER_CTX *ctx,
		       EVP_MAC_CTX *hctx, int enc)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string("key", tk_hmac, sizeof(tk_hmac)),
		OSSL_PARAM_construct_utf8_string("digest", (char *)"sha256", 0),
		OSSL_PARAM_construct_end(),
	};
	(void)s;
	if (enc) {
		memcpy(key_name, tk_name, sizeof(tk_name));
		if (RAND_bytes(iv, 16) != 1 || EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, tk_aes, iv) != 1)
			return -1;
	} else {
		if (memcmp(key_name, tk_name, sizeof(tk_name)) != 0)
			return 0;
		if (EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, tk_aes, iv) != 1)
			return -1;
	}
	return EVP_MAC_CTX_set_params(hctx, params) == 1 ? 1 : -1;
}

/* The hook: with a ticket key callback, a TLS 1.3 client gets the tickets asked for. */
Test(tls, ticket_hook_turns_tickets_on)
{
	const struct tls_conf_hooks hooks = { .ticket_key_cb = ticket_keys, .num_tickets = 2 };
	SSL_CTX *cctx = client_ctx(TLS1_3_VERSION, TLS1_3_VERSION);
	char buf[8];
	struct hs h;

	cr_assert(RAND_bytes(tk_name, sizeof(tk_name)) == 1 && RAND_bytes(tk_aes, sizeof(tk_aes)) == 1 &&
		  RAND_bytes(tk_hmac, sizeof(tk_hmac)) == 1);
	cr_assert_eq(load("", DEFAULT_CERT0, NULL), 0, "%s", err);
	struct tls_conf *tc = tls_conf_new(&cfg, 1, &hooks, err, sizeof(err));
	cr_assert_not_null(tc, "%s", err);
	SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(cctx, on_new_session);
	tickets_seen = 0;
	hs_init(&h, cctx, tc, "a.example");
	cr_assert(hs_run(&h));
	cr_assert_eq(SSL_write(h.srv, "ping", 4), 4);
	cr_assert_eq(SSL_read(h.cli, buf, sizeof(buf)), 4);
	cr_assert_eq(tickets_seen, 2);
	hs_free(&h);
	SSL_CTX_free(cctx);
	tls_conf_put(tc);
}

/* ------------------------------------------------------------------------ */
/* Generations                                                              */
/* ------------------------------------------------------------------------ */

/*
 * A reload: the old generation is put while one of its sessions is still
 * being set up; the session completes with the old certificate, a new one
 * gets the new certificate, and the old context is freed with its last SSL.
 */
Test(tls, generations_outlive_their_reload)
{
	static const char *const sans[] = { "default.example", NULL };
	long base = tls_conf_live_contexts();
	struct tls_conf *g1 = conf_with("");
	SSL_CTX *cctx = client_ctx(0, 0);
	struct hs old, cur;

	cr_assert_eq(tls_conf_live_contexts(), base + 1);
	cr_assert_eq(tls_conf_generation(g1), 1);
	hs_init(&old, cctx, g1, NULL);
	tls_conf_put(g1);
	cr_assert_eq(tls_conf_live_contexts(), base + 1, "the old context went with a session on it");

	/* new files at the same paths, a new generation from them */
	EVP_PKEY *k2 = tc_key_ec();
	X509 *d2 = tc_cert(k2, "default.example", sans, ca, ca_key, -3600, 86400, false);
	cr_assert(k2 != NULL && d2 != NULL);
	write_certs("default.pem", &d2, 1);
	write_key("default.key", k2);
	cr_assert_eq(porter_config_load(conf_path, &cfg2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(porter_config_check_reload(&cfg, &cfg2, err, sizeof(err)), 0, "%s", err);
	struct tls_conf *g2 = tls_conf_new(&cfg2, 2, NULL, err, sizeof(err));
	cr_assert_not_null(g2, "%s", err);
	cr_assert_eq(tls_conf_live_contexts(), base + 2);

	cr_assert(hs_run(&old));
	cr_assert_eq(X509_cmp(SSL_get0_peer_certificate(old.cli), def_leaf), 0);
	hs_init(&cur, cctx, g2, NULL);
	cr_assert(hs_run(&cur));
	cr_assert_eq(X509_cmp(SSL_get0_peer_certificate(cur.cli), d2), 0);

	hs_free(&old);
	cr_assert_eq(tls_conf_live_contexts(), base + 1, "the old context outlived its last session");
	hs_free(&cur);
	cr_assert_eq(tls_conf_live_contexts(), base + 1);
	tls_conf_put(tls_conf_get(g2));
	cr_assert_eq(tls_conf_live_contexts(), base + 1);
	tls_conf_put(g2);
	cr_assert_eq(tls_conf_live_contexts(), base);
	SSL_CTX_free(cctx);
	X509_free(d2);
	EVP_PKEY_free(k2);
}

/* Files that went bad after the configuration loaded: the contexts are not built, the setting named. */
Test(tls, contexts_check_the_files_again)
{
	cr_assert_eq(load("", DEFAULT_CERT0, NULL), 0, "%s", err);
	write_key("a.key", wild_key);
	cr_assert_null(tls_conf_new(&cfg, 1, NULL, err, sizeof(err)));
	cr_assert(strncmp(err, conf_path, strlen(conf_path)) == 0, "%s", err);
	cr_assert(strstr(err, ": listeners[0].tls.certificates[1].key: ") != NULL, "%s", err);
	cr_assert(strstr(err, "is not the key of the certificate in") != NULL, "%s", err);
}

/* ------------------------------------------------------------------------ */
/* Refusals of the configuration                                            */
/* ------------------------------------------------------------------------ */

/* The first certificate CERT0 is refused with "porter.conf:6: listeners[0].tls.certificates[0].SETTING: WANT...". */
static void refused(const char *cert0, const char *setting, const char *want)
{
	char prefix[1024];

	cr_assert_eq(load("", cert0, NULL), -1, "%s accepted", cert0);
	snprintf(prefix, sizeof(prefix), "%s:%d: listeners[0].tls.certificates[0].%s: %s", conf_path, CERT0_LINE,
		 setting, want);
	cr_assert(strncmp(err, prefix, strlen(prefix)) == 0, "got:  %s\nwant: %s...", err, prefix);
	/* --check-config reports it the same way */
	unsigned int n = 0;
	char all[2048];
	cr_assert_eq(porter_config_check(conf_path, &cfg, all, sizeof(all), &n), -1);
	cr_assert_eq(n, 1, "%s", all);
	cr_assert_str_eq(all, err);
}

/* The error holds OpenSSL's reason: "(OpenSSL: something)" at its end. */
static void has_reason(void)
{
	const char *r = strstr(err, "(OpenSSL: ");
	cr_assert_not_null(r, "%s", err);
	cr_assert_gt(strlen(r), strlen("(OpenSSL: )"), "%s", err);
	cr_assert_eq(err[strlen(err) - 1], ')', "%s", err);
}

Test(tls, refused_unreadable)
{
	char want[1024];

	snprintf(want, sizeof(want), "cannot read \"%s/missing.pem\": No such file or directory", dir);
	refused("cert = \"missing.pem\"; key = \"default.key\";", "cert", want);
	snprintf(want, sizeof(want), "cannot read \"%s/missing.key\": No such file or directory", dir);
	refused("cert = \"default.pem\"; key = \"missing.key\";", "key", want);
}

Test(tls, refused_not_pem)
{
	char p[TC_PATH_LEN], want[1024];

	tc_path(p, dir, "junk.pem");
	cr_assert_eq(tc_write_text(p, "not a certificate\n"), 0);
	snprintf(want, sizeof(want), "\"%s\" holds no PEM certificate (OpenSSL: ", p);
	refused("cert = \"junk.pem\"; key = \"default.key\";", "cert", want);
	has_reason();
	/* a certificate where the key should be */
	snprintf(want, sizeof(want), "\"%s/a.pem\" holds no unencrypted PEM private key (OpenSSL: ", dir);
	refused("cert = \"a.pem\"; key = \"a.pem\";", "key", want);
	has_reason();
}

Test(tls, refused_key_of_another_certificate)
{
	char want[1024];

	snprintf(want, sizeof(want), "\"%s/wild.key\" is not the key of the certificate in \"%s/a.pem\" (OpenSSL: ",
		 dir, dir);
	refused("cert = \"a.pem\"; key = \"wild.key\";", "key", want);
	has_reason();
	/* and never a byte of the key: its PEM body is nowhere in the message */
	cr_assert_null(strstr(err, "PRIVATE KEY"), "%s", err);
}

Test(tls, refused_expired_and_not_yet_valid)
{
	static const char *const sans[] = { "old.example", NULL };
	char want[1024];

	X509 *old = tc_cert(a_key, "old.example", sans, ca, ca_key, -86400 * 10, -86400, false);
	X509 *early = tc_cert(a_key, "early.example", sans, ca, ca_key, 86400, 86400 * 10, false);
	cr_assert(old != NULL && early != NULL);
	write_certs("old.pem", &old, 1);
	write_certs("early.pem", &early, 1);

	snprintf(want, sizeof(want), "\"%s/old.pem\": certificate 0 (/CN=old.example) expired on ", dir);
	refused("cert = \"old.pem\"; key = \"a.key\";", "cert", want);
	snprintf(want, sizeof(want), "\"%s/early.pem\": certificate 0 (/CN=early.example) is not valid before ", dir);
	refused("cert = \"early.pem\"; key = \"a.key\";", "cert", want);

	/* an expired intermediate after a valid leaf */
	EVP_PKEY *ik = tc_key_ec();
	X509 *oldint = tc_cert(ik, "old intermediate", NULL, ca, ca_key, -86400 * 10, -86400, true);
	X509 *l = tc_cert(a_key, "a.example", NULL, oldint, ik, -3600, 86400, false);
	cr_assert(ik != NULL && oldint != NULL && l != NULL);
	X509 *chain[] = { l, oldint };
	write_certs("oldint.pem", chain, 2);
	snprintf(want, sizeof(want), "\"%s/oldint.pem\": certificate 1 (/CN=old intermediate) expired on ", dir);
	refused("cert = \"oldint.pem\"; key = \"a.key\";", "cert", want);
	X509_free(old);
	X509_free(early);
	X509_free(oldint);
	X509_free(l);
	EVP_PKEY_free(ik);
}

Test(tls, refused_chain_that_does_not_chain)
{
	char want[1024];

	/* a.pem is signed by the CA, not by the intermediate that follows it */
	X509 *chain[] = { a_leaf, inter };
	write_certs("badchain.pem", chain, 2);
	snprintf(want, sizeof(want), "\"%s/badchain.pem\": certificate 0 (/CN=a.example) is not issued by certificate 1 "
		 "(/CN=porter test intermediate): ", dir);
	refused("cert = \"badchain.pem\"; key = \"a.key\";", "cert", want);

	/* the right issuer name, another key: the signature does not verify */
	EVP_PKEY *fake_key = tc_key_ec();
	X509 *fake = tc_cert(fake_key, "porter test intermediate", NULL, ca, ca_key, -3600, 86400, true);
	cr_assert(fake_key != NULL && fake != NULL);
	X509 *chain2[] = { def_leaf, fake };
	write_certs("fakeint.pem", chain2, 2);
	cr_assert_eq(load("", "cert = \"fakeint.pem\"; key = \"default.key\";", NULL), -1);
	cr_assert(strstr(err, "listeners[0].tls.certificates[0].cert: ") != NULL, "%s", err);
	cr_assert(strstr(err, "certificate 0 (/CN=default.example)") != NULL, "%s", err);
	X509_free(fake);
	EVP_PKEY_free(fake_key);
	/* the right chain is taken */
	X509 *good[] = { def_leaf, inter };
	write_certs("goodchain.pem", good, 2);
	cr_assert_eq(load("", "cert = \"goodchain.pem\"; key = \"default.key\";", NULL), 0, "%s", err);
}

Test(tls, refused_small_rsa_key)
{
	static const char *const sans[] = { "small.example", NULL };
	char want[1024];
	EVP_PKEY *k = tc_key_rsa(1024);
	cr_assert_not_null(k);
	X509 *x = tc_cert(k, "small.example", sans, ca, ca_key, -3600, 86400, false);
	cr_assert_not_null(x);
	write_certs("small.pem", &x, 1);
	write_key("small.key", k);
	snprintf(want, sizeof(want), "\"%s/small.key\": an RSA key of 1024 bits; at least 2048 are needed", dir);
	refused("cert = \"small.pem\"; key = \"small.key\";", "key", want);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* "porter.conf:4: SETTING: WANT" for the tls line EXTRA. */
static void refused_extra(const char *extra, const char *want)
{
	char full[1024];

	cr_assert_eq(load(extra, DEFAULT_CERT0, NULL), -1, "%s accepted", extra);
	snprintf(full, sizeof(full), "%s:4: %s", conf_path, want);
	cr_assert_str_eq(err, full);
}

Test(tls, refused_settings)
{
	refused_extra("ciphers = [ \"AES128-SHA\" ];",
		      "listeners[0].tls.ciphers[0]: \"AES128-SHA\" is not allowed: only AEAD suites (AES-GCM, "
		      "ChaCha20-Poly1305; with ECDHE for TLS 1.2) as OpenSSL names them, e.g. \"TLS_AES_128_GCM_SHA256\", "
		      "\"ECDHE-RSA-AES128-GCM-SHA256\" (docs/CONFIG.md lists them)");
	refused_extra("ciphers = [ \"TLS_AES_128_GCM_SHA256\", \"ECDHE-RSA-AES128-CBC-SHA\" ];",
		      "listeners[0].tls.ciphers[1]: \"ECDHE-RSA-AES128-CBC-SHA\" is not allowed: only AEAD suites "
		      "(AES-GCM, ChaCha20-Poly1305; with ECDHE for TLS 1.2) as OpenSSL names them, e.g. "
		      "\"TLS_AES_128_GCM_SHA256\", \"ECDHE-RSA-AES128-GCM-SHA256\" (docs/CONFIG.md lists them)");
	refused_extra("ciphers = [ \"TLS_AES_128_GCM_SHA256\", \"TLS_AES_128_GCM_SHA256\" ];",
		      "listeners[0].tls.ciphers[1]: \"TLS_AES_128_GCM_SHA256\" given twice");
	refused_extra("ciphers = [ \"TLS_AES_128_GCM_SHA256\" ];",
		      "listeners[0].tls.ciphers: no TLS 1.2 suite (ECDHE-*) for \"TLSv1.2\" of protocols");
	refused_extra("ciphers = [ \"ECDHE-RSA-AES128-GCM-SHA256\" ];",
		      "listeners[0].tls.ciphers: no TLS 1.3 suite (TLS_*) for \"TLSv1.3\" of protocols");
	refused_extra("protocols = [ \"TLSv1.1\" ];",
		      "listeners[0].tls.protocols[0]: expected \"TLSv1.2\" or \"TLSv1.3\", got \"TLSv1.1\"");
	refused_extra("protocols = [ ];", "listeners[0].tls.protocols: must have 1..2 entries, got 0");
	refused_extra("alpn = [ \"h2\" ];",
		      "listeners[0].tls.alpn[0]: expected \"http/1.1\" (the only protocol porter speaks over TLS), got "
		      "\"h2\"");
	refused_extra("session_tickets = true;", "listeners[0].tls.session_tickets: unknown setting");
	refused_extra("ciphers = \"TLS_AES_128_GCM_SHA256\";",
		      "listeners[0].tls.ciphers: expected an array of strings [ \"...\", ... ], got a string");
	/* a 1.3-only listener needs no 1.2 suite */
	cr_assert_eq(load("protocols = [ \"TLSv1.3\" ]; ciphers = [ \"TLS_AES_256_GCM_SHA384\" ];", DEFAULT_CERT0,
			  NULL), 0, "%s", err);
	cr_assert_eq(cfg.listeners[0].tls_protocols, PORTER_TLS_V1_3);
	cr_assert_eq(cfg.listeners[0].tls_cipher_count, 1);
	cr_assert_eq(cfg.listeners[0].tls_ciphers[0], PORTER_TLS13_AES_256_GCM_SHA384);
}

/* TLS 1.2 on: every certificate needs a TLS 1.2 suite of its key's type. */
Test(tls, refused_certificate_without_a_suite)
{
	char want[1024];

	cr_assert_eq(load("ciphers = [ \"TLS_AES_128_GCM_SHA256\", \"ECDHE-RSA-AES128-GCM-SHA256\" ];", DEFAULT_CERT0,
			  NULL), -1);
	snprintf(want, sizeof(want), "%s:%d: listeners[0].tls.certificates[0].key: \"%s/default.key\": an EC key, and "
		 "ciphers has no ECDHE-ECDSA-* suite for TLSv1.2", conf_path, CERT0_LINE, dir);
	cr_assert_str_eq(err, want);
	cr_assert_eq(load("ciphers = [ \"TLS_AES_128_GCM_SHA256\", \"ECDHE-ECDSA-AES128-GCM-SHA256\" ];", DEFAULT_CERT0,
			  NULL), -1);
	snprintf(want, sizeof(want), "%s:%d: listeners[0].tls.certificates[3].key: \"%s/rsa.key\": an RSA key, and "
		 "ciphers has no ECDHE-RSA-* suite for TLSv1.2", conf_path, CERT0_LINE + 3, dir);
	cr_assert_str_eq(err, want);
	/* TLS 1.3 only: the key's type does not matter */
	cr_assert_eq(load("protocols = [ \"TLSv1.3\" ]; ciphers = [ \"TLS_AES_128_GCM_SHA256\" ];", DEFAULT_CERT0,
			  NULL), 0, "%s", err);
}

Test(tls, refused_names)
{
	cr_assert_eq(load("", "cert = \"a.pem\"; key = \"a.key\"; names = [ \"a.*.example\" ];", NULL), -1);
	char want[1024];
	snprintf(want, sizeof(want), "%s:%d: listeners[0].tls.certificates[0].names[0]: bad name \"a.*.example\": "
		 "'*' only as the whole first label (\"*.example.com\")", conf_path, CERT0_LINE);
	cr_assert_str_eq(err, want);
	cr_assert_eq(load("", "cert = \"a.pem\"; key = \"a.key\"; names = [ \"*.\" ];", NULL), -1);
	cr_assert(strstr(err, "bad name \"*.\": a wildcard needs a suffix") != NULL, "%s", err);
}

/* tls only on http and tcp listeners; a tcp listener gets no ALPN by default and may not ask for it. */
Test(tls, listener_kinds)
{
	char text[2048], want[512];

	snprintf(text, sizeof(text),
		 "ports = ( { name = \"front\"; device = \"net_tap0,iface=porter0\"; mac = \"02:70:6f:72:74:01\"; "
		 "ipv4 = \"10.99.0.2/24\"; } );\n"
		 "listeners = ( { port = 7; service = \"echo\";\n"
		 "  tls = { certificates = ( { cert = \"%s/a.pem\"; key = \"%s/a.key\"; } ); }; } );\n", dir, dir);
	cr_assert_eq(porter_config_parse_string(text, "t.conf", &cfg, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "t.conf:3: listeners[0].tls: only for protocol \"http\" or \"tcp\"");

	snprintf(text, sizeof(text),
		 "ports = ( { name = \"front\"; device = \"net_tap0,iface=porter0\"; mac = \"02:70:6f:72:74:01\"; "
		 "ipv4 = \"10.99.0.2/24\"; } );\n"
		 "upstreams = ( { name = \"u\"; servers = ( { address = \"10.99.0.9:80\"; } ); } );\n"
		 "listeners = ( { port = 5432; protocol = \"tcp\"; upstream = \"u\";\n"
		 "  tls = { %s certificates = ( { cert = \"%s/a.pem\"; key = \"%s/a.key\"; } ); }; } );\n",
		 "", dir, dir);
	cr_assert_eq(porter_config_parse_string(text, "t.conf", &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert(cfg.listeners[0].tls);
	cr_assert_eq(cfg.listeners[0].tls_alpn, 0);
	cr_assert_eq(cfg.listeners[0].tls_protocols, PORTER_TLS_V1_2 | PORTER_TLS_V1_3);
	cr_assert_eq(cfg.listeners[0].tls_cipher_count, PORTER_TLS_CIPHER_COUNT);
	/* absolute paths stay as they are */
	snprintf(want, sizeof(want), "%s/a.pem", dir);
	cr_assert_str_eq(cfg.tls_certs[0].cert, want);

	snprintf(text, sizeof(text),
		 "ports = ( { name = \"front\"; device = \"net_tap0,iface=porter0\"; mac = \"02:70:6f:72:74:01\"; "
		 "ipv4 = \"10.99.0.2/24\"; } );\n"
		 "upstreams = ( { name = \"u\"; servers = ( { address = \"10.99.0.9:80\"; } ); } );\n"
		 "listeners = ( { port = 5432; protocol = \"tcp\"; upstream = \"u\";\n"
		 "  tls = { %s certificates = ( { cert = \"%s/a.pem\"; key = \"%s/a.key\"; } ); }; } );\n",
		 "alpn = [ \"http/1.1\" ];", dir, dir);
	cr_assert_eq(porter_config_parse_string(text, "t.conf", &cfg, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "t.conf:4: listeners[0].tls.alpn: only for protocol \"http\"");
}

/* Relative paths are the configuration file's directory's; what a reload may change. */
Test(tls, paths_and_reload)
{
	char want[TC_PATH_LEN + 64];

	cr_assert_eq(load("", DEFAULT_CERT0, NULL), 0, "%s", err);
	snprintf(want, sizeof(want), "%s/default.pem", dir);
	cr_assert_str_eq(cfg.tls_certs[0].cert, want);
	snprintf(want, sizeof(want), "%s/rsa.key", dir);
	cr_assert_str_eq(cfg.tls_certs[3].key, want);
	cr_assert_eq(cfg.tls_cert_count, 4);
	cr_assert_eq(cfg.listeners[0].tls_cert_first, 0);
	cr_assert_eq(cfg.listeners[0].tls_cert_count, 4);
	cr_assert_eq(cfg.listeners[0].tls_alpn, PORTER_TLS_ALPN_HTTP11);

	/* other certificates, protocols and suites: a reload */
	write_conf("protocols = [ \"TLSv1.3\" ]; ciphers = [ \"TLS_AES_256_GCM_SHA384\" ];",
		   "cert = \"a.pem\"; key = \"a.key\";", "{ cert = \"rsa.pem\"; key = \"rsa.key\"; }\n");
	cr_assert_eq(porter_config_load(conf_path, &cfg2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(porter_config_check_reload(&cfg, &cfg2, err, sizeof(err)), 0, "%s", err);

	/* tls gone from the listener: a restart */
	cr_assert_eq(tc_write_text(conf_path,
				   "ports = ( { name = \"front\"; device = \"net_tap0,iface=porter0\"; "
				   "mac = \"02:70:6f:72:74:01\"; ipv4 = \"10.99.0.2/24\"; } );\n"
				   "upstreams = ( { name = \"u\"; servers = ( { address = \"10.99.0.9:80\"; } ); } );\n"
				   "listeners = ( { port = 443; protocol = \"http\"; } );\n"
				   "routes = ( { upstream = \"u\"; } );\n"), 0);
	cr_assert_eq(porter_config_load(conf_path, &cfg2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(porter_config_check_reload(&cfg, &cfg2, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: listeners: changed; needs a restart", conf_path);
	cr_assert_str_eq(err, want);
}

/* More certificates than the configuration holds, over all listeners. */
Test(tls, certificate_limit)
{
	char rest[4096] = "";
	size_t used = 0;

	for (int i = 1; i < PORTER_CFG_MAX_TLS_CERTS; i++)
		used += (size_t)snprintf(rest + used, sizeof(rest) - used, "{ cert = \"a.pem\"; key = \"a.key\"; },\n");
	used += (size_t)snprintf(rest + used, sizeof(rest) - used, "{ cert = \"a.pem\"; key = \"a.key\"; }\n");
	cr_assert_eq(load("", DEFAULT_CERT0, rest), -1);
	cr_assert(strstr(err, ": listeners[0].tls.certificates: must have 1..16 entries, got 17") != NULL, "%s", err);
}
