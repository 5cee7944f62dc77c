/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the TLS settings as the workers get them: the copy the
 * primary publishes (shm/tls_pub_conf.c, memzone porter_tls) and the
 * contexts a worker builds and refreshes from it (secondary/tls/tls_pub.c).
 *
 * As in test_tls_conf.c, every test (its own process) makes a CA and leaf
 * certificates with libcrypto into a temporary directory, writes porter.conf
 * beside them and loads it as the primary does; the region is a plain
 * calloc'd struct porter_tls_pub written with the primary's own functions.
 * Handshakes are real: an OpenSSL client and the server SSL of
 * tls_conf_ssl_new() joined by a BIO pair.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config/config.h"
#include "secondary/tls/tls_conf.h"
#include "secondary/tls/tls_pub.h"
#include "shm/tls-pub-t.h"
#include "shm/tls_pub_conf.h"
#include "tls_testcerts.h"

#define PORT  443    /* listeners[1]: three certificates, both versions */
#define PORT2 8443   /* listeners[2]: one certificate, TLS 1.3 only */

static char dir[TC_PATH_LEN], conf_path[TC_PATH_LEN];
static EVP_PKEY *ca_key, *def_key, *a_key, *wild_key;
static X509 *ca, *def_leaf, *a_leaf, *wild_leaf;
static struct porter_config cfg, cfg2;
static struct porter_tls_pub *pub;
static char err[2048];

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
 * porter.conf: listeners[0] plain HTTP on 80; listeners[1] on 443 with
 * default.pem, a.pem and wild.pem (whose names replace its own: the
 * wildcard and other.example); listeners[2] on 8443, TLS 1.3 only, a.pem.
 */
static void setup(void)
{
	static const char *const def_sans[] = { "default.example", NULL };
	static const char *const a_sans[] = { "a.example", "www.a.example", NULL };
	static const char *const wild_sans[] = { "*.w.example", NULL };

	cr_assert_eq(tc_dir_make(dir), 0);
	tc_path(conf_path, dir, "porter.conf");
	ca_key = tc_key_ec();
	def_key = tc_key_ec();
	a_key = tc_key_ec();
	wild_key = tc_key_ec();
	cr_assert(ca_key && def_key && a_key && wild_key);
	ca = tc_cert(ca_key, "porter test CA", NULL, NULL, NULL, -3600, 86400, true);
	cr_assert_not_null(ca);
	def_leaf = leaf(def_key, "default.example", def_sans);
	a_leaf = leaf(a_key, "a.example", a_sans);
	wild_leaf = leaf(wild_key, "wildcard", wild_sans);
	write_certs("default.pem", &def_leaf, 1);
	write_key("default.key", def_key);
	write_certs("a.pem", &a_leaf, 1);
	write_key("a.key", a_key);
	write_certs("wild.pem", &wild_leaf, 1);
	write_key("wild.key", wild_key);

	cr_assert_eq(tc_write_text(conf_path,
		"ports = ( { name = \"front\"; device = \"net_tap0,iface=porter0\"; mac = \"02:70:6f:72:74:01\"; "
		"ipv4 = \"10.99.0.2/24\"; } );\n"
		"upstreams = ( { name = \"u\"; servers = ( { address = \"10.99.0.9:80\"; } ); } );\n"
		"listeners = (\n"
		"{ port = 80; protocol = \"http\"; },\n"
		"{ port = 443; protocol = \"http\"; tls = { certificates = (\n"
		"  { cert = \"default.pem\"; key = \"default.key\"; },\n"
		"  { cert = \"a.pem\"; key = \"a.key\"; },\n"
		"  { cert = \"wild.pem\"; key = \"wild.key\"; names = [ \"*.w.example\", \"Other.Example\" ]; }\n"
		"); }; },\n"
		"{ port = 8443; protocol = \"http\"; tls = { protocols = [ \"TLSv1.3\" ];\n"
		"  certificates = ( { cert = \"a.pem\"; key = \"a.key\"; } ); }; }\n"
		");\n"
		"routes = ( { upstream = \"u\"; } );\n"), 0);
	cr_assert_eq(porter_config_load(conf_path, &cfg, err, sizeof(err)), 0, "%s", err);

	/* what primary/shm_setup.c create_tls() does */
	pub = calloc(1, sizeof(*pub));
	cr_assert_not_null(pub);
	tls_pub_conf_fill(&pub->conf[0], &cfg, 1);
	pub->active = 0;
	pub->generation = 1;
}

static void teardown(void)
{
	X509 *xs[] = { ca, def_leaf, a_leaf, wild_leaf };
	EVP_PKEY *ks[] = { ca_key, def_key, a_key, wild_key };

	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
		X509_free(xs[i]);
		EVP_PKEY_free(ks[i]);
	}
	free(pub);
	tc_dir_remove(dir);
}

TestSuite(tls_pub, .init = setup, .fini = teardown);

/* ------------------------------------------------------------------------ */
/* Handshakes (as test_tls_conf.c)                                          */
/* ------------------------------------------------------------------------ */

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
	unsigned long cli_err, srv_err;
};

static void hs_init(struct hs *h, SSL_CTX *cctx, struct tls_conf *tc, uint16_t port, const char *sni)
{
	BIO *bc, *bs;

	memset(h, 0, sizeof(*h));
	h->cli = SSL_new(cctx);
	h->srv = tls_conf_ssl_new(tc, port);
	cr_assert(h->cli != NULL && h->srv != NULL);
	cr_assert_eq(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(h->cli, bc, bc);
	SSL_set_bio(h->srv, bs, bs);
	SSL_set_connect_state(h->cli);
	if (sni != NULL)
		cr_assert_eq(SSL_set_tlsext_host_name(h->cli, sni), 1);
}

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

static bool hs_run(struct hs *h)
{
	for (int round = 0; round < 64; round++) {
		int c = step(h->cli, &h->cli_err);
		int s = step(h->srv, &h->srv_err);

		if (c < 0 || s < 0)
			return false;
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

/* A full handshake on PORT with SNI: the server chose certificate WANT, the client verified X. */
static void expect_cert(struct tls_conf *tc, uint16_t port, const char *sni, int want, X509 *x)
{
	SSL_CTX *cctx = client_ctx(0, 0);
	struct hs h;
	const char *name = sni != NULL ? sni : "(none)";

	hs_init(&h, cctx, tc, port, sni);
	cr_assert(hs_run(&h), "port %u SNI %s: handshake failed: client %s, server %s", port, name,
		  ERR_reason_error_string(h.cli_err), ERR_reason_error_string(h.srv_err));
	cr_assert_eq(tls_conf_ssl_cert(h.srv), want, "port %u SNI %s", port, name);
	cr_assert_eq(X509_cmp(SSL_get0_peer_certificate(h.cli), x), 0, "port %u SNI %s: another certificate",
		     port, name);
	cr_assert_eq(SSL_get_verify_result(h.cli), X509_V_OK, "port %u SNI %s", port, name);
	hs_free(&h);
	SSL_CTX_free(cctx);
}

/* A handshake on PORT of a client limited to LO..HI: the version, or 0 when it failed. */
static int version_with(struct tls_conf *tc, uint16_t port, int lo, int hi)
{
	SSL_CTX *cctx = client_ctx(lo, hi);
	struct hs h;
	int v = 0;

	hs_init(&h, cctx, tc, port, "a.example");
	if (hs_run(&h))
		v = SSL_version(h.cli);
	hs_free(&h);
	SSL_CTX_free(cctx);
	return v;
}

static void path_of(char dst[TC_PATH_LEN], const char *name)
{
	tc_path(dst, dir, name);
}

/* ------------------------------------------------------------------------ */
/* The published copy                                                       */
/* ------------------------------------------------------------------------ */

Test(tls_pub, the_copy_holds_the_tls_listeners_and_their_certificates)
{
	const struct porter_tls_pub_conf *pc = &pub->conf[0];
	char p[TC_PATH_LEN];

	cr_assert_eq(pc->generation, 1);
	cr_assert_str_eq(pc->path, conf_path);
	cr_assert_eq(pc->listener_count, 2, "the plain listener is not published");
	cr_assert_eq(pc->listeners[0].index, 1);
	cr_assert_eq(pc->listeners[0].port, PORT);
	cr_assert_eq(pc->listeners[0].tls_protocols, PORTER_TLS_V1_2 | PORTER_TLS_V1_3);
	cr_assert_eq(pc->listeners[0].tls_alpn, cfg.listeners[1].tls_alpn);
	cr_assert_eq(pc->listeners[0].tls_cipher_count, cfg.listeners[1].tls_cipher_count);
	cr_assert_arr_eq(pc->listeners[0].tls_ciphers, cfg.listeners[1].tls_ciphers, PORTER_TLS_CIPHER_COUNT);
	cr_assert_eq(pc->listeners[0].tls_cert_first, 0);
	cr_assert_eq(pc->listeners[0].tls_cert_count, 3);
	cr_assert_eq(pc->listeners[1].index, 2);
	cr_assert_eq(pc->listeners[1].port, PORT2);
	cr_assert_eq(pc->listeners[1].tls_protocols, PORTER_TLS_V1_3);
	cr_assert_eq(pc->listeners[1].tls_cert_first, 3);
	cr_assert_eq(pc->listeners[1].tls_cert_count, 1);
	cr_assert_eq(pc->tls_cert_count, 4);
	/* paths as the parser resolved them (absolute), names lower-cased */
	path_of(p, "wild.pem");
	cr_assert_str_eq(pc->tls_certs[2].cert, p);
	path_of(p, "a.key");
	cr_assert_str_eq(pc->tls_certs[3].key, p);
	cr_assert_eq(pc->tls_certs[2].name_count, 2);
	cr_assert_str_eq(pc->tls_certs[2].names[1], "other.example");
	/* nothing beyond what is used */
	for (uint32_t k = pc->listener_count; k < PORTER_TLS_PUB_MAX_LISTENERS; k++)
		cr_assert_eq(pc->listeners[k].port, 0);
}

Test(tls_pub, built_from_the_copy_it_handshakes)
{
	struct tls_conf *tc = tls_pub_build(&pub->conf[0], err, sizeof(err));

	cr_assert_not_null(tc, "%s", err);
	cr_assert_eq(tls_conf_generation(tc), 1);
	cr_assert_null(tls_conf_ctx(tc, 80), "the plain listener has no context");
	cr_assert_not_null(tls_conf_ctx(tc, PORT));
	cr_assert_not_null(tls_conf_ctx(tc, PORT2));
	expect_cert(tc, PORT, NULL, 0, def_leaf);
	expect_cert(tc, PORT, "a.example", 1, a_leaf);
	expect_cert(tc, PORT2, "default.example", 0, a_leaf);
	/* the versions of each listener came through */
	cr_assert_eq(version_with(tc, PORT, TLS1_2_VERSION, TLS1_2_VERSION), TLS1_2_VERSION);
	cr_assert_eq(version_with(tc, PORT, 0, 0), TLS1_3_VERSION);
	cr_assert_eq(version_with(tc, PORT2, TLS1_2_VERSION, TLS1_2_VERSION), 0, "8443 is TLS 1.3 only");
	cr_assert_eq(version_with(tc, PORT2, 0, 0), TLS1_3_VERSION);
	tls_conf_put(tc);
}

/* The worker's contexts choose as the primary's configuration would. */
Test(tls_pub, sni_choice_survives_the_copy)
{
	static const char *const names[] = {
		"a.example", "WWW.A.example.", "default.example", "x.w.example", "y.x.w.example", "w.example",
		"other.example", "OTHER.example", "nothing.example", NULL,
	};
	struct tls_conf *direct = tls_conf_new(&cfg, 1, NULL, err, sizeof(err));
	cr_assert_not_null(direct, "%s", err);
	struct tls_conf *tc = tls_pub_build(&pub->conf[0], err, sizeof(err));
	cr_assert_not_null(tc, "%s", err);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cr_assert_eq(tls_conf_select(tc, PORT, names[i]), tls_conf_select(direct, PORT, names[i]),
			     "%s", names[i] ? names[i] : "(none)");
		cr_assert_eq(tls_conf_select(tc, PORT2, names[i]), 0, "%s", names[i] ? names[i] : "(none)");
	}
	/* and the choices themselves, so that two wrong builds cannot agree */
	cr_assert_eq(tls_conf_select(tc, PORT, "www.a.example"), 1);
	cr_assert_eq(tls_conf_select(tc, PORT, "x.w.example"), 2);
	cr_assert_eq(tls_conf_select(tc, PORT, "other.example"), 2, "names replaced the certificate's own");
	cr_assert_eq(tls_conf_select(tc, PORT, "y.x.w.example"), 0);
	expect_cert(tc, PORT, "Other.Example", 2, wild_leaf);
	expect_cert(tc, PORT, "q.w.example", 2, wild_leaf);
	tls_conf_put(tc);
	tls_conf_put(direct);
}

/* A file that went bad after the primary checked it: the error names the configuration, the listener and the file. */
Test(tls_pub, build_names_the_listener_and_the_file)
{
	char p[TC_PATH_LEN], want[1024];

	path_of(p, "a.pem");
	cr_assert_eq(tc_write_text(p, "not a certificate\n"), 0);
	cr_assert_null(tls_pub_build(&pub->conf[0], err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: listeners[1].tls.certificates[1].cert: \"%s\" holds no PEM certificate",
		 conf_path, p);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "got:  %s\nwant: %s...", err, want);
}

/* A copy with counts or indices out of range is refused, not read past. */
Test(tls_pub, a_copy_out_of_range_is_refused)
{
	struct porter_tls_pub_conf *pc = malloc(sizeof(*pc));
	cr_assert_not_null(pc);

	memcpy(pc, &pub->conf[0], sizeof(*pc));
	pc->listener_count = PORTER_TLS_PUB_MAX_LISTENERS + 1;
	cr_assert_null(tls_pub_build(pc, err, sizeof(err)));
	cr_assert(strstr(err, "33 listeners") != NULL, "%s", err);

	memcpy(pc, &pub->conf[0], sizeof(*pc));
	pc->listeners[1].tls_cert_first = 4;
	cr_assert_null(tls_pub_build(pc, err, sizeof(err)));
	cr_assert(strstr(err, ": listeners[2].tls: published settings of generation 1 out of range") != NULL, "%s", err);

	memcpy(pc, &pub->conf[0], sizeof(*pc));
	pc->listeners[1].index = 1;          /* two copies of one listener */
	cr_assert_null(tls_pub_build(pc, err, sizeof(err)));
	cr_assert(strstr(err, ": listeners[1].tls: published settings") != NULL, "%s", err);

	memcpy(pc, &pub->conf[0], sizeof(*pc));
	pc->listeners[0].tls_cipher_count = 200;
	cr_assert_null(tls_pub_build(pc, err, sizeof(err)));

	/* unterminated strings are cut, not run past */
	memcpy(pc, &pub->conf[0], sizeof(*pc));
	memset(pc->tls_certs[3].cert, 'x', sizeof(pc->tls_certs[3].cert));
	cr_assert_null(tls_pub_build(pc, err, sizeof(err)));
	cr_assert(strstr(err, "listeners[2].tls.certificates[0].cert: cannot read \"xxx") != NULL, "%s", err);
	free(pc);
}

/* ------------------------------------------------------------------------ */
/* Refresh                                                                  */
/* ------------------------------------------------------------------------ */

Test(tls_pub, refresh_with_an_unchanged_generation_does_nothing)
{
	struct tls_pub_state st = { 0 };
	long base = tls_conf_live_contexts();
	char p[TC_PATH_LEN];

	cr_assert_eq(tls_pub_refresh(&st, pub, err, sizeof(err)), 1, "%s", err);
	struct tls_conf *first = st.cur;
	cr_assert_not_null(first);
	cr_assert_eq(st.gen, 1);
	cr_assert_eq(tls_conf_generation(first), 1);
	cr_assert_eq(tls_conf_live_contexts(), base + 2);

	/*
	 * Neither the files nor the copies are read again: default.pem is broken
	 * now, and the region is mapped with only its first page readable (the
	 * header, active, generation); touching a copy beyond it would kill the test.
	 */
	path_of(p, "default.pem");
	cr_assert_eq(tc_write_text(p, "junk\n"), 0);
	long pg = sysconf(_SC_PAGESIZE);
	size_t len = (sizeof(*pub) + (size_t)pg - 1) & ~((size_t)pg - 1);
	struct porter_tls_pub *guarded = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(guarded, MAP_FAILED);
	memcpy(guarded, pub, sizeof(*pub));
	cr_assert_eq(mprotect((char *)guarded + pg, len - (size_t)pg, PROT_NONE), 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(tls_pub_refresh(&st, guarded, err, sizeof(err)), 0);
		cr_assert_eq(st.cur, first);
		cr_assert_eq(st.gen, 1);
		cr_assert_str_eq(err, "");
	}
	munmap(guarded, len);
	cr_assert_eq(tls_conf_live_contexts(), base + 2);
	cr_assert_eq(st.builds, 1);
	expect_cert(st.cur, PORT, NULL, 0, def_leaf);
	/* nothing published (a zero region) and no region at all: nothing to do either */
	struct tls_pub_state none = { 0 };
	struct porter_tls_pub *zero = calloc(1, sizeof(*zero));
	cr_assert_not_null(zero);
	cr_assert_eq(tls_pub_refresh(&none, zero, err, sizeof(err)), 0);
	cr_assert_eq(tls_pub_refresh(&none, NULL, err, sizeof(err)), 0);
	cr_assert_null(none.cur);
	free(zero);

	tls_pub_release(&st);
	cr_assert_null(st.cur);
	cr_assert_eq(st.gen, 0);
	cr_assert_eq(tls_conf_live_contexts(), base);
}

/*
 * A reload that replaced default.pem and its key by a new valid pair at the
 * same paths: the new generation serves the new certificate, and an SSL made
 * from the old generation before the refresh completes its handshake with the
 * old one; the old contexts go with that SSL.
 */
Test(tls_pub, refresh_to_a_new_certificate_keeps_old_sessions)
{
	static const char *const sans[] = { "default.example", NULL };
	struct tls_pub_state st = { 0 };
	long base = tls_conf_live_contexts();
	SSL_CTX *cctx = client_ctx(0, 0);
	struct hs old, cur;

	cr_assert_eq(tls_pub_refresh(&st, pub, err, sizeof(err)), 1, "%s", err);
	struct tls_conf *g1 = st.cur;
	hs_init(&old, cctx, st.cur, PORT, NULL);
	/* the ClientHello is out and the server has answered: a handshake in progress */
	cr_assert_eq(step(old.cli, &old.cli_err), 0);
	cr_assert_eq(step(old.srv, &old.srv_err), 0);

	EVP_PKEY *k2 = tc_key_ec();
	X509 *d2 = tc_cert(k2, "default.example", sans, ca, ca_key, -3600, 86400, false);
	cr_assert(k2 != NULL && d2 != NULL);
	write_certs("default.pem", &d2, 1);
	write_key("default.key", k2);
	/* what primary/reload.c does */
	cr_assert_eq(porter_config_load(conf_path, &cfg2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(porter_config_check_reload(&cfg, &cfg2, err, sizeof(err)), 0, "%s", err);
	tls_pub_publish(pub, &cfg2, 2);
	cr_assert_eq(pub->active, 1);
	cr_assert_eq(pub->conf[1].generation, 2);

	cr_assert_eq(tls_pub_refresh(&st, pub, err, sizeof(err)), 1, "%s", err);
	cr_assert_neq(st.cur, g1);
	cr_assert_eq(st.gen, 2);
	cr_assert_eq(tls_conf_generation(st.cur), 2);
	cr_assert_eq(tls_conf_live_contexts(), base + 3, "g1's 443 context lives on with its SSL");

	cr_assert(hs_run(&old), "old: client %s, server %s", ERR_reason_error_string(old.cli_err),
		  ERR_reason_error_string(old.srv_err));
	cr_assert_eq(X509_cmp(SSL_get0_peer_certificate(old.cli), def_leaf), 0, "the old session got the old certificate");
	hs_init(&cur, cctx, st.cur, PORT, NULL);
	cr_assert(hs_run(&cur));
	cr_assert_eq(X509_cmp(SSL_get0_peer_certificate(cur.cli), d2), 0, "a new session gets the new certificate");
	expect_cert(st.cur, PORT, "a.example", 1, a_leaf);

	hs_free(&old);
	cr_assert_eq(tls_conf_live_contexts(), base + 2, "the old context went with its last SSL");
	hs_free(&cur);
	tls_pub_release(&st);
	cr_assert_eq(tls_conf_live_contexts(), base);
	SSL_CTX_free(cctx);
	X509_free(d2);
	EVP_PKEY_free(k2);
}

/*
 * A generation whose files went bad between the primary's check and the
 * worker's build: the old contexts stay, the error names the file, and the
 * generation is not tried again; the next one that builds is installed.
 */
Test(tls_pub, refresh_with_a_broken_file_keeps_the_old_contexts)
{
	struct tls_pub_state st = { 0 };
	char p[TC_PATH_LEN], want[1024];

	cr_assert_eq(tls_pub_refresh(&st, pub, err, sizeof(err)), 1, "%s", err);
	struct tls_conf *g1 = st.cur;

	tls_pub_publish(pub, &cfg, 2);
	write_key("a.key", wild_key);        /* a key, but not a.pem's */
	cr_assert_eq(tls_pub_refresh(&st, pub, err, sizeof(err)), -1);
	path_of(p, "a.key");
	snprintf(want, sizeof(want), "%s: listeners[1].tls.certificates[1].key: \"%s\" is not the key of the certificate",
		 conf_path, p);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "got:  %s\nwant: %s...", err, want);
	cr_assert_eq(st.cur, g1, "the old contexts stay");
	cr_assert_eq(st.gen, 1);
	cr_assert_eq(st.failed_gen, 2);
	cr_assert_eq(st.failures, 1);
	expect_cert(st.cur, PORT, "a.example", 1, a_leaf);
	expect_cert(st.cur, PORT2, NULL, 0, a_leaf);

	/* not retried: the same files would give the same line at every loop iteration */
	cr_assert_eq(tls_pub_refresh(&st, pub, err, sizeof(err)), 0);
	cr_assert_eq(st.cur, g1);
	cr_assert_eq(st.failures, 1);

	/* the operator fixes the file and reloads */
	write_key("a.key", a_key);
	tls_pub_publish(pub, &cfg, 3);
	cr_assert_eq(tls_pub_refresh(&st, pub, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(st.gen, 3);
	cr_assert_eq(tls_conf_generation(st.cur), 3);
	expect_cert(st.cur, PORT, "a.example", 1, a_leaf);
	tls_pub_release(&st);
}

/* A worker's first build failing leaves it without contexts, and says why. */
Test(tls_pub, first_refresh_failing_leaves_no_contexts)
{
	struct tls_pub_state st = { 0 };
	char p[TC_PATH_LEN];

	path_of(p, "wild.pem");
	cr_assert_eq(remove(p), 0);
	cr_assert_eq(tls_pub_refresh(&st, pub, err, sizeof(err)), -1);
	cr_assert_null(st.cur);
	cr_assert(strstr(err, ": listeners[1].tls.certificates[2].cert: cannot read \"") != NULL, "%s", err);
	cr_assert(strstr(err, p) != NULL, "%s", err);
}

/*
 * The primary between its two stores: `active` names the new copy, but
 * `generation` is still the old one. A worker that reads then finds a copy
 * of another generation and builds nothing; once `generation` is stored it
 * builds the new copy.
 */
Test(tls_pub, a_publication_in_progress_is_not_read)
{
	struct tls_pub_state st = { 0 };

	tls_pub_conf_fill(&pub->conf[1], &cfg, 2);
	pub->active = 1;
	cr_assert_eq(tls_pub_refresh(&st, pub, err, sizeof(err)), 0);
	cr_assert_null(st.cur);
	cr_assert_eq(st.failed_gen, 0, "not a failure: the next call looks again");
	pub->generation = 2;
	cr_assert_eq(tls_pub_refresh(&st, pub, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(st.gen, 2);
	cr_assert_eq(tls_conf_generation(st.cur), 2);
	tls_pub_release(&st);
}

/* ------------------------------------------------------------------------ */
/* The primary's side of a reload                                           */
/* ------------------------------------------------------------------------ */

/*
 * primary/reload.c publishes nothing when porter_config_load() fails, and
 * porter_config_load() reads and checks every certificate and key: a reload
 * whose files are bad is refused before a worker could see it.
 */
Test(tls_pub, a_reload_with_bad_files_is_refused_by_the_load)
{
	char p[TC_PATH_LEN], q[TC_PATH_LEN];

	write_key("a.key", wild_key);
	cr_assert_eq(porter_config_load(conf_path, &cfg2, err, sizeof(err)), -1);
	path_of(p, "a.key");
	cr_assert(strstr(err, ": listeners[1].tls.certificates[1].key: ") != NULL, "%s", err);
	cr_assert(strstr(err, p) != NULL, "%s", err);
	write_key("a.key", a_key);
	cr_assert_eq(porter_config_load(conf_path, &cfg2, err, sizeof(err)), 0, "%s", err);

	path_of(p, "wild.pem");
	path_of(q, "wild.moved");
	cr_assert_eq(rename(p, q), 0);
	cr_assert_eq(porter_config_load(conf_path, &cfg2, err, sizeof(err)), -1);
	cr_assert(strstr(err, ": listeners[1].tls.certificates[2].cert: cannot read \"") != NULL, "%s", err);
	cr_assert(strstr(err, p) != NULL, "%s", err);
	cr_assert_eq(rename(q, p), 0);
}
