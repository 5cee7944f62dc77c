/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The durable TLS record layer (secondary/tls/tls_rec.c) against a real
 * OpenSSL client.
 *
 * Each test makes a self-signed certificate (RSA or ECDSA, generated here),
 * runs an OpenSSL client and an OpenSSL server over memory BIOs until the
 * server's handshake completes, takes the session over with
 * tls_sess_from_ssl(), frees the server SSL and its context, and copies the
 * struct to a fresh buffer (the original is wiped): from then on the server
 * side is only struct tls_sess, as in a new worker with only shared memory.
 * The client stays OpenSSL: what it reads must be what we sealed, and what it
 * wrote must be what we open, byte for byte.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "secondary/tls/tls_rec.h"

struct cfg {
	const char *name;
	int v13;
	const char *suite;      /* TLS 1.3 ciphersuite or TLS 1.2 cipher list */
	int ecdsa;
	uint16_t id;            /* its IANA number, what the struct must say */
};

static const struct cfg cfgs[] = {
	{ "1.3 AES-128-GCM", 1, "TLS_AES_128_GCM_SHA256", 1, 0x1301 },
	{ "1.3 AES-256-GCM", 1, "TLS_AES_256_GCM_SHA384", 1, 0x1302 },
	{ "1.3 ChaCha20-Poly1305", 1, "TLS_CHACHA20_POLY1305_SHA256", 0, 0x1303 },
	{ "1.2 ECDHE-RSA-AES128-GCM", 0, "ECDHE-RSA-AES128-GCM-SHA256", 0, 0xc02f },
	{ "1.2 ECDHE-ECDSA-AES128-GCM", 0, "ECDHE-ECDSA-AES128-GCM-SHA256", 1, 0xc02b },
	{ "1.2 ECDHE-RSA-AES256-GCM", 0, "ECDHE-RSA-AES256-GCM-SHA384", 0, 0xc030 },
	{ "1.2 ECDHE-ECDSA-AES256-GCM", 0, "ECDHE-ECDSA-AES256-GCM-SHA384", 1, 0xc02c },
	{ "1.2 ECDHE-RSA-CHACHA20", 0, "ECDHE-RSA-CHACHA20-POLY1305", 0, 0xcca8 },
	{ "1.2 ECDHE-ECDSA-CHACHA20", 0, "ECDHE-ECDSA-CHACHA20-POLY1305", 1, 0xcca9 },
};
#define NCFG (sizeof(cfgs) / sizeof(cfgs[0]))

/* ---- the client, the server until take-over, and the network between ---- */

struct net {
	uint8_t *b;
	size_t len, cap;
};

struct pair {
	const struct cfg *cfg;
	SSL_CTX *cctx;
	SSL *c;
	BIO *c_in, *c_out;      /* the client's read and write BIOs */
	struct tls_sess *sess;  /* the session, after take-over */
	struct tls_handoff ho;
	struct net c2s;         /* client -> us, not yet consumed by tls_open */
	uint8_t c_alert_level, c_alert;  /* the last alert the client received */
	uint8_t c_first_level, c_first; /* and the first */
	int c_alerts;
	int resumed;            /* the server resumed a session */
};

static void
net_add(struct net *n, const void *p, size_t len)
{
	if (n->len + len > n->cap) {
		n->cap = (n->len + len) * 2 + 4096;
		n->b = realloc(n->b, n->cap);
		cr_assert_not_null(n->b);
	}
	memcpy(n->b + n->len, p, len);
	n->len += len;
}

static void
net_drop(struct net *n, size_t len)
{
	cr_assert_leq(len, n->len);
	memmove(n->b, n->b + len, n->len - len);
	n->len -= len;
}

/* Everything readable in `from` to the end of `to`. */
static size_t
bio_drain(BIO *from, struct net *to)
{
	uint8_t buf[4096];
	size_t total = 0;
	int k;

	while ((k = BIO_read(from, buf, sizeof(buf))) > 0) {
		net_add(to, buf, (size_t)k);
		total += (size_t)k;
	}
	return total;
}

static void
bio_move(BIO *from, BIO *to)
{
	struct net n = { 0 };

	bio_drain(from, &n);
	if (n.len)
		cr_assert_eq(BIO_write(to, n.b, (int)n.len), (int)n.len);
	free(n.b);
}

static EVP_PKEY *
make_key(int ecdsa)
{
	EVP_PKEY *k = ecdsa ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
			    : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	cr_assert_not_null(k);
	return k;
}

static X509 *
make_cert(EVP_PKEY *k)
{
	X509 *x = X509_new();
	X509_NAME *n;

	cr_assert_not_null(x);
	cr_assert(X509_set_version(x, 2));
	cr_assert(ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
	cr_assert(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	cr_assert(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	cr_assert(X509_set_pubkey(x, k));
	n = X509_get_subject_name(x);
	cr_assert(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"porter.test",
					     -1, -1, 0));
	cr_assert(X509_set_issuer_name(x, n));
	cr_assert(X509_sign(x, k, EVP_sha256()) > 0);
	return x;
}

static void
client_msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
	      void *arg)
{
	struct pair *p = arg;
	const uint8_t *b = buf;

	(void)version;
	(void)ssl;
	if (!write_p && content_type == SSL3_RT_ALERT && len == 2) {
		p->c_alert_level = b[0];
		p->c_alert = b[1];
		if (p->c_alerts++ == 0) {
			p->c_first_level = b[0];
			p->c_first = b[1];
		}
	}
}

static void
restrict_ctx(SSL_CTX *ctx, const struct cfg *cfg)
{
	int v = cfg->v13 ? TLS1_3_VERSION : TLS1_2_VERSION;

	cr_assert(SSL_CTX_set_min_proto_version(ctx, v));
	cr_assert(SSL_CTX_set_max_proto_version(ctx, v));
	if (cfg->v13)
		cr_assert(SSL_CTX_set_ciphersuites(ctx, cfg->suite));
	else
		cr_assert(SSL_CTX_set_cipher_list(ctx, cfg->suite));
}

static BIO *
mem_bio(void)
{
	BIO *b = BIO_new(BIO_s_mem());
	cr_assert_not_null(b);
	BIO_set_mem_eof_return(b, -1);   /* empty = "try again", not EOF */
	return b;
}

struct pair_opts {
	int tickets;            /* server's TLS 1.3 tickets; < 0: OpenSSL's default */
	const char *early;      /* 1.3: the client writes this right after its Finished */
	SSL_CTX *sctx;          /* the server's context, kept by the caller (resumption) */
	SSL_SESSION *resume;    /* the client offers this session */
	int read_ahead;         /* the server reads ahead: take-over must be refused */
};

/* A server context with a fresh self-signed certificate of the configuration's kind. */
static SSL_CTX *
make_sctx(const struct cfg *cfg, int tickets)
{
	EVP_PKEY *key = make_key(cfg->ecdsa);
	X509 *cert = make_cert(key);
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());

	cr_assert_not_null(sctx);
	restrict_ctx(sctx, cfg);
	cr_assert(SSL_CTX_use_certificate(sctx, cert));
	cr_assert(SSL_CTX_use_PrivateKey(sctx, key));
	if (tickets >= 0)
		cr_assert(SSL_CTX_set_num_tickets(sctx, (size_t)tickets));
	SSL_CTX_set_keylog_callback(sctx, tls_keylog_cb);
	X509_free(cert);
	EVP_PKEY_free(key);
	return sctx;
}

/*
 * Handshake, take-over, server freed. The struct ends up in a fresh heap
 * buffer; the one tls_sess_from_ssl() filled is wiped.
 */
static void
pair_open(struct pair *p, const struct cfg *cfg, const struct pair_opts *o)
{
	struct pair_opts def = { .tickets = -1 };
	struct tls_capture cap;
	struct tls_sess tmp;
	SSL_CTX *sctx;
	SSL *s;
	BIO *s_in, *s_out;
	int cdone = 0, sdone = 0, rc;

	if (o == NULL)
		o = &def;
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	sctx = o->sctx ? o->sctx : make_sctx(cfg, o->tickets);

	p->cctx = SSL_CTX_new(TLS_client_method());
	cr_assert_not_null(p->cctx);
	restrict_ctx(p->cctx, cfg);
	SSL_CTX_set_verify(p->cctx, SSL_VERIFY_NONE, NULL);

	s = SSL_new(sctx);
	p->c = SSL_new(p->cctx);
	cr_assert(s && p->c);
	s_in = mem_bio();
	s_out = mem_bio();
	p->c_in = mem_bio();
	p->c_out = mem_bio();
	SSL_set_bio(s, s_in, s_out);
	SSL_set_bio(p->c, p->c_in, p->c_out);
	SSL_set_accept_state(s);
	SSL_set_connect_state(p->c);
	if (o->resume)
		cr_assert(SSL_set_session(p->c, o->resume));
	SSL_set_msg_callback(p->c, client_msg_cb);
	SSL_set_msg_callback_arg(p->c, p);
	cr_assert_eq(tls_capture_attach(s, &cap), 0);
	if (o->read_ahead)
		SSL_set_read_ahead(s, 1);

	for (int i = 0; i < 16 && !sdone; i++) {
		if (!cdone) {
			rc = SSL_do_handshake(p->c);
			if (rc == 1) {
				cdone = 1;
				if (o->early)
					cr_assert_eq(SSL_write(p->c, o->early, (int)strlen(o->early)),
						     (int)strlen(o->early));
			} else {
				cr_assert_eq(SSL_get_error(p->c, rc), SSL_ERROR_WANT_READ);
			}
		}
		bio_move(p->c_out, s_in);
		rc = SSL_do_handshake(s);
		if (rc == 1)
			sdone = 1;
		else {
			cr_assert_eq(SSL_get_error(s, rc), SSL_ERROR_WANT_READ, "server handshake: %s",
				     ERR_reason_error_string(ERR_peek_error()));
			bio_move(s_out, p->c_in);
		}
	}
	cr_assert(sdone, "the server's handshake did not complete");

	/* take-over */
	memset(&tmp, 0xa5, sizeof(tmp));
	{
		struct tls_capture was = cap;
		rc = tls_sess_from_ssl(&tmp, s, &cap, &p->ho);
		if (o->read_ahead) {
			/* OpenSSL holds the client's early record: it cannot be handed over */
			cr_assert_eq(rc, -TLS_E_HANDSHAKE);
			cr_assert(SSL_has_pending(s));
			OPENSSL_cleanse(&was, sizeof(was));
			SSL_free(s);
			if (!o->sctx)
				SSL_CTX_free(sctx);
			p->sess = NULL;
			return;
		}
		cr_assert_eq(rc, 0, "tls_sess_from_ssl: %d (fin %d/%d secrets %d/%d bad %d)", rc,
			     was.rd_fin, was.wr_fin, was.c_secret_len,
			     was.s_secret_len, was.bad);
		OPENSSL_cleanse(&was, sizeof(was));
	}
	for (size_t i = 0; i < sizeof(cap); i++)
		cr_assert_eq(((uint8_t *)&cap)[i], 0, "the capture is cleared");
	/* OpenSSL's last bytes go first, as the handoff says */
	cr_assert_eq(BIO_ctrl_pending(s_out), p->ho.tx_pending);
	bio_move(s_out, p->c_in);
	cr_assert_eq(bio_drain(s_in, &p->c2s), p->ho.rx_unread);
	p->resumed = SSL_session_reused(s);
	SSL_free(s);
	if (!o->sctx)
		SSL_CTX_free(sctx);

	p->sess = malloc(sizeof(*p->sess));
	cr_assert_not_null(p->sess);
	memcpy(p->sess, &tmp, sizeof(tmp));
	tls_sess_wipe(&tmp);

	cr_assert_eq(tls_sess_check(p->sess), 0);
	cr_assert_eq(p->sess->suite, cfg->id);
	cr_assert_eq(p->sess->version, cfg->v13 ? TLS_V13 : TLS_V12);
	cr_assert_eq(p->sess->role, TLS_ROLE_SERVER);

	/* a 1.2 client finishes on the server's Finished */
	if (!cdone) {
		rc = SSL_do_handshake(p->c);
		cr_assert_eq(rc, 1, "client handshake after take-over: %d", SSL_get_error(p->c, rc));
	}
	bio_drain(p->c_out, &p->c2s);
}

static void
pair_close(struct pair *p)
{
	SSL_free(p->c);
	SSL_CTX_free(p->cctx);
	tls_sess_wipe(p->sess);
	free(p->sess);
	free(p->c2s.b);
}

/* "Restart the worker": the struct moves to another buffer, the old one is wiped. */
static void
pair_move(struct pair *p)
{
	struct tls_sess *n = malloc(sizeof(*n));

	cr_assert_not_null(n);
	memcpy(n, p->sess, sizeof(*n));
	tls_sess_wipe(p->sess);
	free(p->sess);
	p->sess = n;
}

/* The client writes; its records join the stream to us. */
static void
client_write(struct pair *p, const uint8_t *d, size_t n)
{
	cr_assert_gt(n, 0);
	cr_assert_eq(SSL_write(p->c, d, (int)n), (int)n);
	bio_drain(p->c_out, &p->c2s);
}

/* We open everything complete in the stream; returns the plaintext (caller frees). */
static uint8_t *
us_read(struct pair *p, size_t *len, struct tls_open_res *res)
{
	size_t cap = p->c2s.len + TLS_OPEN_MIN_CAP;
	uint8_t *out = malloc(cap);
	struct tls_open_res r;

	cr_assert_not_null(out);
	cr_assert_eq(tls_open(p->sess, p->c2s.b, p->c2s.len, out, cap, &r), 0);
	cr_assert_eq(r.status, TLS_OPEN_OK, "status %d alert %s", r.status, tls_alert_name(r.alert));
	net_drop(&p->c2s, r.consumed);
	*len = r.out_len;
	if (res)
		*res = r;
	return out;
}

static void
us_expect(struct pair *p, const uint8_t *d, size_t n)
{
	size_t len;
	uint8_t *got = us_read(p, &len, NULL);

	cr_assert_eq(len, n, "opened %zu bytes, the client wrote %zu", len, n);
	cr_assert_eq(memcmp(got, d, n), 0, "the plaintext differs");
	cr_assert_eq(p->c2s.len, 0, "nothing left in the stream");
	free(got);
}

/* We seal; the records go to the client. */
static void
us_write(struct pair *p, const uint8_t *d, size_t n)
{
	size_t sz = tls_seal_size(p->sess, n);
	uint8_t *out = malloc(sz + 1);
	uint64_t seq = p->sess->wr.seq, ku = p->sess->wr.key_updates;
	ssize_t k;

	cr_assert_not_null(out);
	if (sz > 0)
		cr_assert_eq(tls_seal(p->sess, d, n, out, sz - 1), -TLS_E_SPACE);
	k = tls_seal(p->sess, d, n, out, sz);
	cr_assert_eq(k, (ssize_t)sz);
	if (p->sess->wr.key_updates == ku)   /* ceil(n / 2^14) records */
		cr_assert_eq(p->sess->wr.seq, seq + (n + TLS_MAX_PLAIN - 1) / TLS_MAX_PLAIN);
	if (k > 0)
		cr_assert_eq(BIO_write(p->c_in, out, (int)k), (int)k);
	free(out);
}

/* The client reads exactly n bytes and they are d. */
static void
client_expect(struct pair *p, const uint8_t *d, size_t n)
{
	uint8_t *got = malloc(n + 1);
	size_t have = 0;

	cr_assert_not_null(got);
	while (have < n) {
		int k = SSL_read(p->c, got + have, (int)(n - have));
		cr_assert_gt(k, 0, "client SSL_read: error %d (%s)", SSL_get_error(p->c, k),
			     ERR_reason_error_string(ERR_peek_error()));
		have += (size_t)k;
	}
	cr_assert_eq(memcmp(got, d, n), 0, "the client read other bytes");
	cr_assert_eq(SSL_pending(p->c), 0);
	free(got);
	bio_drain(p->c_out, &p->c2s);   /* e.g. the client's KeyUpdate */
}

static uint8_t *
pattern(size_t n, unsigned seed)
{
	uint8_t *b = malloc(n + 1);

	cr_assert_not_null(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((i * 2654435761u + seed) >> 7);
	return b;
}

static const size_t sizes[] = { 1, 2, 15, 16, 17, 255, 256, 1000, 16383, 16384, 16385, 32768, 50000, 100000 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* ---- the tests, each run on every configuration that applies ---- */

/* Many records both ways, sizes 0 .. 100000, each checked byte for byte. */
static void
run_roundtrip(const struct cfg *cfg)
{
	struct pair p;

	pair_open(&p, cfg, NULL);
	us_write(&p, (const uint8_t *)"", 0);   /* nothing: no record */
	for (size_t i = 0; i < NSIZES; i++) {
		uint8_t *a = pattern(sizes[i], (unsigned)i), *b = pattern(sizes[i], (unsigned)i + 100);
		client_write(&p, a, sizes[i]);
		us_expect(&p, a, sizes[i]);
		us_write(&p, b, sizes[i]);
		client_expect(&p, b, sizes[i]);
		if (i % 4 == 3)
			pair_move(&p);
		free(a);
		free(b);
	}
	/* several sealed calls, then one read of them all */
	size_t total = 0;
	uint8_t *all = pattern(3 * 20000, 7);
	for (int i = 0; i < 3; i++) {
		us_write(&p, all + total, 20000);
		total += 20000;
	}
	client_expect(&p, all, total);
	free(all);
	cr_assert_eq(p.sess->rx_plain, p.sess->tx_plain - 60000);
	pair_close(&p);
}

/*
 * A stream of several records cut at every byte: the first call gets the
 * bytes up to the cut, the second the rest after what the first consumed.
 * Then the same stream fed one byte at a time.
 */
static void
run_split(const struct cfg *cfg)
{
	static const size_t parts[] = { 1, 300, 17000 };
	struct pair p;
	struct tls_sess base;
	size_t plen = 0, cap;
	uint8_t *plain, *out, *stream;
	size_t slen;

	pair_open(&p, cfg, NULL);
	plain = pattern(1 + 300 + 17000, 3);
	for (size_t i = 0; i < 3; i++) {
		client_write(&p, plain + plen, parts[i]);
		plen += parts[i];
	}
	slen = p.c2s.len;
	stream = malloc(slen);
	memcpy(stream, p.c2s.b, slen);
	base = *p.sess;
	cap = plen + TLS_OPEN_MIN_CAP;
	out = malloc(cap);

	for (size_t cut = 0; cut <= slen; cut++) {
		struct tls_sess s = base;
		struct tls_open_res r1, r2;

		cr_assert_eq(tls_open(&s, stream, cut, out, cap, &r1), 0);
		cr_assert_eq(r1.status, TLS_OPEN_OK);
		cr_assert_leq(r1.consumed, cut);
		cr_assert_eq(s.rx_bytes, r1.consumed);
		cr_assert_eq(tls_open(&s, stream + r1.consumed, slen - r1.consumed, out + r1.out_len,
				      cap - r1.out_len, &r2), 0);
		cr_assert_eq(r2.status, TLS_OPEN_OK);
		cr_assert_eq(r1.consumed + r2.consumed, slen, "cut %zu", cut);
		cr_assert_eq(r1.out_len + r2.out_len, plen, "cut %zu", cut);
		cr_assert_eq(memcmp(out, plain, plen), 0, "cut %zu", cut);
		cr_assert_eq(s.rd.seq, base.rd.seq + 4);   /* 1 + 1 + 2 records */
	}

	/* one byte at a time: a partial record gives nothing and consumes nothing */
	struct tls_sess s = base;
	size_t consumed = 0, got = 0;
	for (size_t k = 1; k <= slen; k++) {
		struct tls_open_res r;
		cr_assert_eq(tls_open(&s, stream + consumed, k - consumed, out + got, cap - got, &r), 0);
		cr_assert_eq(r.status, TLS_OPEN_OK);
		if (r.consumed == 0)
			cr_assert_eq(r.out_len, 0);
		consumed += r.consumed;
		got += r.out_len;
	}
	cr_assert_eq(consumed, slen);
	cr_assert_eq(got, plen);
	cr_assert_eq(memcmp(out, plain, plen), 0);

	tls_sess_wipe(&base);
	free(stream);
	free(out);
	free(plain);
	pair_close(&p);
}

/* A changed tag, ciphertext byte or header length: bad_record_mac, nothing delivered. */
static void
run_bad_tag(const struct cfg *cfg)
{
	struct pair p;
	uint8_t *rec, out[TLS_OPEN_MIN_CAP];
	size_t len;
	struct tls_open_res r;

	pair_open(&p, cfg, NULL);
	client_write(&p, (const uint8_t *)"first, good", 11);
	size_t first = p.c2s.len;
	client_write(&p, (const uint8_t *)"second, to be damaged", 21);
	len = p.c2s.len;
	rec = malloc(len);
	memcpy(rec, p.c2s.b, len);

	static const int where[] = { -1, -17, -5 };   /* tag end, tag start... a ciphertext byte */
	for (size_t w = 0; w < 3; w++) {
		struct tls_sess s = *p.sess;
		uint8_t *bad = malloc(len);
		memcpy(bad, rec, len);
		bad[len + where[w]] ^= 0x01;
		cr_assert_eq(tls_open(&s, bad, len, out, sizeof(out), &r), 0);
		cr_assert_eq(r.status, TLS_OPEN_ERROR);
		cr_assert_eq(r.alert, TLS_AD_BAD_RECORD_MAC, "got %s", tls_alert_name(r.alert));
		cr_assert_eq(r.alert_level, TLS_ALERT_FATAL);
		cr_assert_eq(r.consumed, first, "the good record before it is consumed");
		cr_assert_eq(r.out_len, 11);
		cr_assert_eq(memcmp(out, "first, good", 11), 0);
		cr_assert(s.flags & TLS_SF_FAILED);
		/* a failed session reads no more */
		cr_assert_eq(tls_open(&s, rec + first, len - first, out, sizeof(out), &r), -TLS_E_STATE);
		tls_sess_wipe(&s);
		free(bad);
	}

	/* a replayed record (the first one again, after it) does not authenticate */
	{
		struct tls_sess s = *p.sess;
		uint8_t *rep = malloc(2 * first);
		memcpy(rep, rec, first);
		memcpy(rep + first, rec, first);
		cr_assert_eq(tls_open(&s, rep, 2 * first, out, sizeof(out), &r), 0);
		cr_assert_eq(r.status, TLS_OPEN_ERROR);
		cr_assert_eq(r.alert, TLS_AD_BAD_RECORD_MAC);
		cr_assert_eq(r.out_len, 11);
		free(rep);
	}

	/* our alert reaches the client as the alert */
	uint8_t a[64];
	ssize_t k = tls_seal_alert(p.sess, TLS_ALERT_FATAL, TLS_AD_BAD_RECORD_MAC, a, sizeof(a));
	cr_assert_gt(k, 0);
	cr_assert_eq(BIO_write(p.c_in, a, (int)k), (int)k);
	uint8_t x[16];
	cr_assert_leq(SSL_read(p.c, x, sizeof(x)), 0);
	cr_assert_eq(p.c_alerts, 1);
	cr_assert_eq(p.c_alert_level, TLS_ALERT_FATAL);
	cr_assert_eq(p.c_alert, TLS_AD_BAD_RECORD_MAC);
	/* after a fatal alert nothing is sealed */
	cr_assert_eq(tls_seal(p.sess, x, 1, a, sizeof(a)), -TLS_E_STATE);
	free(rec);
	pair_close(&p);
}

/* A record's last byte missing: it waits, with no output; the byte completes it. */
static void
run_truncated(const struct cfg *cfg)
{
	struct pair p;
	uint8_t out[TLS_OPEN_MIN_CAP];
	struct tls_open_res r;
	uint64_t seq;

	pair_open(&p, cfg, NULL);
	client_write(&p, (const uint8_t *)"a truncated record", 18);
	seq = p.sess->rd.seq;
	for (size_t k = 0; k < p.c2s.len; k++) {
		cr_assert_eq(tls_open(p.sess, p.c2s.b, k, out, sizeof(out), &r), 0);
		cr_assert_eq(r.status, TLS_OPEN_OK);
		cr_assert_eq(r.consumed, 0);
		cr_assert_eq(r.out_len, 0);
		cr_assert_eq(p.sess->rd.seq, seq);
	}
	/* no room for its plaintext: SPACE, nothing consumed */
	cr_assert_eq(tls_open(p.sess, p.c2s.b, p.c2s.len, out, 17, &r), 0);
	cr_assert_eq(r.status, TLS_OPEN_SPACE);
	cr_assert_eq(r.consumed, 0);
	us_expect(&p, (const uint8_t *)"a truncated record", 18);
	cr_assert_eq(p.sess->rd.seq, seq + 1);
	pair_close(&p);
}

/* Headers that decide alone: too long, the wrong content type. */
static void
run_oversize(const struct cfg *cfg)
{
	struct pair p;
	uint8_t out[TLS_OPEN_MIN_CAP];
	struct tls_open_res r;
	size_t max = cfg->v13 ? TLS13_MAX_CIPHER : TLS12_MAX_CIPHER;

	pair_open(&p, cfg, NULL);
	struct {
		uint8_t type;
		size_t len;
		uint8_t alert;
	} cases[] = {
		{ TLS_CT_APPLICATION_DATA, max + 1, TLS_AD_RECORD_OVERFLOW },
		{ TLS_CT_APPLICATION_DATA, 0xffff, TLS_AD_RECORD_OVERFLOW },
		{ TLS_CT_APPLICATION_DATA, 3, TLS_AD_BAD_RECORD_MAC },
		{ TLS_CT_CHANGE_CIPHER_SPEC, 1, TLS_AD_UNEXPECTED_MESSAGE },
		{ 99, 20, TLS_AD_UNEXPECTED_MESSAGE },
		/* 1.3: a plaintext handshake record after the handshake */
		{ TLS_CT_HANDSHAKE, 20, cfg->v13 ? TLS_AD_UNEXPECTED_MESSAGE : 0 },
		/* 1.2: a GCM / ChaCha record one byte over 2^14 of plaintext */
		{ TLS_CT_APPLICATION_DATA,
		  TLS_MAX_PLAIN + 1 + TLS_TAG_LEN + (cfg->id == 0xcca8 || cfg->id == 0xcca9 ? 0 : 8),
		  cfg->v13 ? 0 : TLS_AD_RECORD_OVERFLOW },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tls_sess s = *p.sess;
		uint8_t h[5] = { cases[i].type, 3, 3, (uint8_t)(cases[i].len >> 8), (uint8_t)cases[i].len };
		if (cases[i].alert == 0)
			continue;
		/* the header is enough: no body needed */
		cr_assert_eq(tls_open(&s, h, sizeof(h), out, sizeof(out), &r), 0);
		cr_assert_eq(r.status, TLS_OPEN_ERROR, "case %zu", i);
		cr_assert_eq(r.alert, cases[i].alert, "case %zu: %s", i, tls_alert_name(r.alert));
		cr_assert_eq(r.consumed, 0);
	}
	/* exactly the maximum is not an overflow: it waits for its body, then fails its tag
	 * (1.2: the most ciphertext that can hold 2^14 bytes of plaintext) */
	if (!cfg->v13)
		max = TLS_MAX_PLAIN + TLS_TAG_LEN + (cfg->id == 0xcca8 || cfg->id == 0xcca9 ? 0 : 8);
	{
		struct tls_sess s = *p.sess;
		uint8_t *rec = calloc(1, 5 + max);
		rec[0] = TLS_CT_APPLICATION_DATA;
		rec[1] = rec[2] = 3;
		rec[3] = (uint8_t)(max >> 8);
		rec[4] = (uint8_t)max;
		cr_assert_eq(tls_open(&s, rec, 5 + max - 1, out, sizeof(out), &r), 0);
		cr_assert_eq(r.status, TLS_OPEN_OK);
		uint8_t *big = malloc(max + 64);
		cr_assert_eq(tls_open(&s, rec, 5 + max, big, max + 64, &r), 0);
		cr_assert_eq(r.status, TLS_OPEN_ERROR);
		cr_assert_eq(r.alert, TLS_AD_BAD_RECORD_MAC);
		free(big);
		free(rec);
	}
	pair_close(&p);
}

/* close_notify both ways. */
static void
run_close(const struct cfg *cfg)
{
	struct pair p;
	uint8_t out[TLS_OPEN_MIN_CAP], a[64], x[8];
	struct tls_open_res r;

	pair_open(&p, cfg, NULL);
	client_write(&p, (const uint8_t *)"last words", 10);
	cr_assert_eq(SSL_shutdown(p.c), 0);     /* sent, not yet received */
	bio_drain(p.c_out, &p.c2s);
	cr_assert_eq(tls_open(p.sess, p.c2s.b, p.c2s.len, out, sizeof(out), &r), 0);
	cr_assert_eq(r.status, TLS_OPEN_CLOSED);
	cr_assert_eq(r.consumed, p.c2s.len);
	cr_assert_eq(r.out_len, 10);
	cr_assert_eq(memcmp(out, "last words", 10), 0);
	cr_assert(p.sess->flags & TLS_SF_RX_CLOSED);
	cr_assert_eq(tls_open(p.sess, p.c2s.b, 0, out, sizeof(out), &r), -TLS_E_STATE);

	/* we may still write, then close */
	us_write(&p, (const uint8_t *)"bye", 3);
	ssize_t k = tls_seal_alert(p.sess, TLS_ALERT_WARNING, TLS_AD_CLOSE_NOTIFY, a, sizeof(a));
	cr_assert_gt(k, 0);
	cr_assert_eq(BIO_write(p.c_in, a, (int)k), (int)k);
	client_expect(&p, (const uint8_t *)"bye", 3);
	int rc = SSL_read(p.c, x, sizeof(x));
	cr_assert_eq(rc, 0);
	cr_assert_eq(SSL_get_error(p.c, rc), SSL_ERROR_ZERO_RETURN);
	cr_assert_eq(tls_seal(p.sess, x, 1, a, sizeof(a)), -TLS_E_STATE);
	cr_assert_eq(tls_seal_alert(p.sess, TLS_ALERT_WARNING, TLS_AD_CLOSE_NOTIFY, a, sizeof(a)),
		     -TLS_E_STATE);
	pair_close(&p);
}

/* Wipe zeroes every byte, keys and secrets included; a wiped session does nothing. */
static void
run_wipe(const struct cfg *cfg)
{
	struct pair p;
	static const uint8_t zero[TLS_KEY_MAX];
	uint8_t a[64];

	pair_open(&p, cfg, NULL);
	cr_assert_neq(memcmp(p.sess->wr.key, zero, p.sess->wr.key_len), 0);
	cr_assert_neq(memcmp(p.sess->rd.key, zero, p.sess->rd.key_len), 0);
	cr_assert_neq(memcmp(p.sess->rd.key, p.sess->wr.key, p.sess->wr.key_len), 0);
	if (cfg->v13)
		cr_assert_neq(memcmp(p.sess->wr.secret, zero, 32), 0);
	tls_sess_wipe(p.sess);
	for (size_t i = 0; i < sizeof(*p.sess); i++)
		cr_assert_eq(((uint8_t *)p.sess)[i], 0, "byte %zu", i);
	cr_assert_eq(tls_sess_check(p.sess), -TLS_E_STATE);
	cr_assert_eq(tls_seal(p.sess, a, 1, a, sizeof(a)), -TLS_E_STATE);
	pair_close(&p);
}

/*
 * Replay after a kill: the layer is deterministic. Sealing the same data from
 * the same struct gives the same bytes (nonces come from the sequence
 * number, nothing is random), and opening the same bytes from the same
 * struct gives the same plaintext and the same struct: a worker that died
 * between tls_seal/tls_open and its commit redoes the step from its copy.
 */
static void
run_replay(const struct cfg *cfg)
{
	struct pair p;
	struct tls_sess before, after1;
	uint8_t *d = pattern(40000, 5);
	size_t sz;
	uint8_t *o1, *o2;
	struct tls_open_res r1, r2;

	pair_open(&p, cfg, NULL);
	before = *p.sess;
	sz = tls_seal_size(p.sess, 40000);
	o1 = malloc(sz);
	o2 = malloc(sz);
	cr_assert_eq(tls_seal(p.sess, d, 40000, o1, sz), (ssize_t)sz);
	after1 = *p.sess;
	*p.sess = before;
	cr_assert_eq(tls_seal(p.sess, d, 40000, o2, sz), (ssize_t)sz);
	cr_assert_eq(memcmp(o1, o2, sz), 0, "sealed twice: the same records");
	cr_assert_eq(memcmp(&after1, p.sess, sizeof(after1)), 0, "and the same state");
	cr_assert_eq(BIO_write(p.c_in, o1, (int)sz), (int)sz);
	client_expect(&p, d, 40000);
	free(o1);
	free(o2);

	client_write(&p, d, 40000);
	before = *p.sess;
	o1 = malloc(40000 + TLS_OPEN_MIN_CAP);
	o2 = malloc(40000 + TLS_OPEN_MIN_CAP);
	cr_assert_eq(tls_open(p.sess, p.c2s.b, p.c2s.len, o1, 40000 + TLS_OPEN_MIN_CAP, &r1), 0);
	after1 = *p.sess;
	*p.sess = before;
	cr_assert_eq(tls_open(p.sess, p.c2s.b, p.c2s.len, o2, 40000 + TLS_OPEN_MIN_CAP, &r2), 0);
	cr_assert_eq(r1.out_len, 40000);
	cr_assert_eq(r2.out_len, 40000);
	cr_assert_eq(r1.consumed, r2.consumed);
	cr_assert_eq(memcmp(o1, d, 40000), 0);
	cr_assert_eq(memcmp(o2, d, 40000), 0);
	cr_assert_eq(memcmp(&after1, p.sess, sizeof(after1)), 0);
	tls_sess_wipe(&before);
	tls_sess_wipe(&after1);
	free(o1);
	free(o2);
	free(d);
	pair_close(&p);
}

/* ---- TLS 1.3 only ---- */

/* The client's KeyUpdate with update_requested, then ours with it: data after each. */
static void
run_key_update(const struct cfg *cfg)
{
	struct pair p;
	struct tls_open_res r;
	uint8_t old[TLS_KEY_MAX], a[128];
	size_t len;
	uint8_t *got;

	pair_open(&p, cfg, NULL);
	for (int round = 0; round < 3; round++) {
		uint8_t *d = pattern(20000 + (size_t)round, (unsigned)round);

		/* the client updates and asks for ours */
		memcpy(old, p.sess->rd.key, sizeof(old));
		uint32_t rku = p.sess->rd.key_updates, wku = p.sess->wr.key_updates;
		cr_assert(SSL_key_update(p.c, SSL_KEY_UPDATE_REQUESTED));
		client_write(&p, d, 20000);
		got = us_read(&p, &len, &r);
		cr_assert_eq(len, 20000);
		cr_assert_eq(memcmp(got, d, len), 0);
		free(got);
		cr_assert_eq(r.key_update, 1);
		cr_assert_eq(p.sess->rd.key_updates, rku + 1);
		cr_assert_eq(p.sess->rd.seq, 2, "two records under the new key");
		cr_assert_neq(memcmp(old, p.sess->rd.key, p.sess->rd.key_len), 0);
		cr_assert(p.sess->flags & TLS_SF_KU_OWED);
		pair_move(&p);

		/* our next data goes after our KeyUpdate */
		cr_assert_eq(tls_seal_size(p.sess, 5), 2 * (5 + 16 + 1) + 5 + 5);
		us_write(&p, (const uint8_t *)"reply", 5);
		cr_assert_eq(p.sess->wr.key_updates, wku + 1);
		cr_assert_eq(p.sess->wr.seq, 1);
		cr_assert(!(p.sess->flags & TLS_SF_KU_OWED));
		client_expect(&p, (const uint8_t *)"reply", 5);
		client_write(&p, d, 333);   /* no second update from the client */
		us_expect(&p, d, 333);
		cr_assert_eq(p.sess->rd.key_updates, rku + 1);

		/* we update and ask for the client's */
		memcpy(old, p.sess->wr.key, sizeof(old));
		ssize_t k = tls_key_update_send(p.sess, 1, a, sizeof(a));
		cr_assert_gt(k, 0);
		cr_assert_eq(BIO_write(p.c_in, a, (int)k), (int)k);
		cr_assert_neq(memcmp(old, p.sess->wr.key, p.sess->wr.key_len), 0);
		cr_assert(p.sess->flags & TLS_SF_KU_ASKED);
		us_write(&p, d, 20000 + (size_t)round);
		client_expect(&p, d, 20000 + (size_t)round);
		pair_move(&p);
		client_write(&p, (const uint8_t *)"after", 5);
		got = us_read(&p, &len, &r);
		cr_assert_eq(len, 5);
		cr_assert_eq(memcmp(got, "after", 5), 0);
		free(got);
		cr_assert_eq(r.key_update, 1, "the client answered with its KeyUpdate");
		cr_assert(!(p.sess->flags & TLS_SF_KU_ASKED));
		cr_assert(!(p.sess->flags & TLS_SF_KU_OWED));
		cr_assert_eq(p.sess->rd.key_updates, rku + 2);
		free(d);
	}
	cr_assert_eq(tls_key_update_send(p.sess, 0, a, 10), -TLS_E_SPACE);
	pair_close(&p);
}

/*
 * The peer's view of the session (rd and wr swapped), to make records an
 * OpenSSL client would not send: EVP seals them with the client's key.
 */
static size_t
peer_seal13(struct tls_sess *s, uint8_t inner_type, const uint8_t *d, size_t n, size_t pad, uint8_t *out)
{
	const struct tls_dir *k = &s->rd;    /* the client's write key is our read key */
	uint8_t nonce[12];
	size_t clen = n + 1 + pad + 16;
	int l = 0;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	const EVP_CIPHER *ci = k->aead == TLS_AEAD_AES_128_GCM ? EVP_aes_128_gcm()
			       : k->aead == TLS_AEAD_AES_256_GCM ? EVP_aes_256_gcm()
								  : EVP_chacha20_poly1305();

	out[0] = 23;
	out[1] = out[2] = 3;
	out[3] = (uint8_t)(clen >> 8);
	out[4] = (uint8_t)clen;
	if (n > 0)
		memcpy(out + 5, d, n);
	out[5 + n] = inner_type;
	memset(out + 6 + n, 0, pad);
	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (uint8_t)(k->seq >> (56 - 8 * i));
	cr_assert(EVP_EncryptInit_ex(c, ci, NULL, k->key, nonce));
	cr_assert(EVP_EncryptUpdate(c, NULL, &l, out, 5));
	cr_assert(EVP_EncryptUpdate(c, out + 5, &l, out + 5, (int)(n + 1 + pad)));
	cr_assert(EVP_EncryptFinal_ex(c, out + 5 + n + 1 + pad, &l));
	cr_assert(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + 5 + n + 1 + pad) > 0);
	EVP_CIPHER_CTX_free(c);
	return 5 + clen;
}

/* Authentic 1.3 records that must still be refused, and padding that must not. */
static void
run_inner13(const struct cfg *cfg)
{
	struct pair p;
	uint8_t *rec = malloc(TLS13_MAX_CIPHER + 64), *d = pattern(TLS_MAX_PLAIN + 1, 9);
	uint8_t *out = malloc(TLS_OPEN_MIN_CAP);
	struct tls_open_res r;
	size_t n;

	pair_open(&p, cfg, NULL);
	struct {
		uint8_t type;
		const uint8_t *d;
		size_t n, pad;
		uint8_t alert;
	} cases[] = {
		{ 23, d, TLS_MAX_PLAIN + 1, 0, TLS_AD_RECORD_OVERFLOW },          /* 2^14 + 1 of content */
		{ 22, (const uint8_t *)"\x04\x00\x00\x00", 4, 0, TLS_AD_UNEXPECTED_MESSAGE }, /* NewSessionTicket */
		{ 22, (const uint8_t *)"\x18\x00\x00\x02\x00\x00", 6, 0, TLS_AD_DECODE_ERROR },
		{ 22, (const uint8_t *)"\x18\x00\x00\x01\x02", 5, 0, TLS_AD_ILLEGAL_PARAMETER },
		{ 22, (const uint8_t *)"\x18\x00\x00\x01\x00\x18", 6, 0, TLS_AD_UNEXPECTED_MESSAGE }, /* more after it */
		{ 22, NULL, 0, 0, TLS_AD_UNEXPECTED_MESSAGE },                    /* empty handshake */
		{ 21, (const uint8_t *)"\x02", 1, 0, TLS_AD_DECODE_ERROR },        /* short alert */
		{ 0, NULL, 0, 7, TLS_AD_UNEXPECTED_MESSAGE },                     /* all padding */
		{ 20, (const uint8_t *)"\x01", 1, 0, TLS_AD_UNEXPECTED_MESSAGE }, /* inner CCS */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tls_sess s = *p.sess;
		n = peer_seal13(&s, cases[i].type, cases[i].d, cases[i].n, cases[i].pad, rec);
		cr_assert_eq(tls_open(&s, rec, n, out, TLS_OPEN_MIN_CAP, &r), 0);
		cr_assert_eq(r.status, TLS_OPEN_ERROR, "case %zu", i);
		cr_assert_eq(r.alert, cases[i].alert, "case %zu: %s", i, tls_alert_name(r.alert));
	}
	/* padding is stripped; exactly 2^14 of content is fine */
	n = peer_seal13(p.sess, 23, d, 100, 200, rec);
	cr_assert_eq(tls_open(p.sess, rec, n, out, TLS_OPEN_MIN_CAP, &r), 0);
	cr_assert_eq(r.status, TLS_OPEN_OK);
	cr_assert_eq(r.out_len, 100);
	cr_assert_eq(memcmp(out, d, 100), 0);
	n = peer_seal13(p.sess, 23, d, TLS_MAX_PLAIN, 0, rec);
	cr_assert_eq(tls_open(p.sess, rec, n, out, TLS_OPEN_MIN_CAP, &r), 0);
	cr_assert_eq(r.status, TLS_OPEN_OK);
	cr_assert_eq(r.out_len, TLS_MAX_PLAIN);
	cr_assert_eq(memcmp(out, d, TLS_MAX_PLAIN), 0);
	/* a KeyUpdate split over two records, then data under the new key */
	uint64_t ku = p.sess->rd.key_updates;
	n = peer_seal13(p.sess, 22, (const uint8_t *)"\x18\x00", 2, 0, rec);
	cr_assert_eq(tls_open(p.sess, rec, n, out, TLS_OPEN_MIN_CAP, &r), 0);
	cr_assert_eq(r.status, TLS_OPEN_OK);
	cr_assert_eq(p.sess->hs_len, 2);
	pair_move(&p);    /* the half message survives in the struct */
	{       /* application data inside a handshake message is refused */
		struct tls_sess s = *p.sess;
		n = peer_seal13(&s, 23, d, 5, 0, rec);
		cr_assert_eq(tls_open(&s, rec, n, out, TLS_OPEN_MIN_CAP, &r), 0);
		cr_assert_eq(r.alert, TLS_AD_UNEXPECTED_MESSAGE);
	}
	n = peer_seal13(p.sess, 22, (const uint8_t *)"\x00\x01\x01", 3, 0, rec);
	cr_assert_eq(tls_open(p.sess, rec, n, out, TLS_OPEN_MIN_CAP, &r), 0);
	cr_assert_eq(r.status, TLS_OPEN_OK);
	cr_assert_eq(r.key_update, 1);
	cr_assert_eq(p.sess->rd.key_updates, ku + 1);
	cr_assert_eq(p.sess->hs_len, 0);
	cr_assert(p.sess->flags & TLS_SF_KU_OWED);
	client_write(&p, d, 77);   /* the real client is still on its old key: refused */
	cr_assert_eq(tls_open(p.sess, p.c2s.b, p.c2s.len, out, TLS_OPEN_MIN_CAP, &r), 0);
	cr_assert_eq(r.alert, TLS_AD_BAD_RECORD_MAC);
	free(rec);
	free(d);
	free(out);
	pair_close(&p);
}

/* Application data the client sent right after its Finished, still in the
 * server's read BIO at take-over: handed off, and opened first. Tickets:
 * none, or several: each NewSessionTicket record advanced our sequence. */
static void
run_handoff13(const struct cfg *cfg)
{
	static const int tickets[] = { 0, 1, 4 };
	for (size_t t = 0; t < 3; t++) {
		struct pair p;
		struct pair_opts o = { .tickets = tickets[t], .early = "sent with the Finished" };
		size_t n = strlen(o.early);

		pair_open(&p, cfg, &o);
		cr_assert_gt(p.ho.rx_unread, n);
		cr_assert_eq(p.sess->wr.seq, (uint64_t)tickets[t], "one record per ticket");
		cr_assert_eq(p.ho.tx_pending > 0, tickets[t] > 0);
		us_expect(&p, (const uint8_t *)o.early, n);
		us_write(&p, (const uint8_t *)"answer", 6);
		client_expect(&p, (const uint8_t *)"answer", 6);
		pair_close(&p);
	}
}

/* The client closes cleanly (else OpenSSL takes its session out of its cache:
 * not resumable) and we read its close_notify. */
static void
client_close(struct pair *p)
{
	struct tls_open_res r;
	uint8_t out[TLS_OPEN_MIN_CAP];

	cr_assert_eq(SSL_shutdown(p->c), 0);
	bio_drain(p->c_out, &p->c2s);
	cr_assert_eq(tls_open(p->sess, p->c2s.b, p->c2s.len, out, sizeof(out), &r), 0);
	cr_assert_eq(r.status, TLS_OPEN_CLOSED);
	cr_assert_eq(r.consumed, p->c2s.len);
}

/* A resumed session (1.2: session ticket, abbreviated handshake; 1.3: PSK)
 * is taken over like a full one. */
static void
run_resume(const struct cfg *cfg)
{
	SSL_CTX *sctx = make_sctx(cfg, -1);
	struct pair_opts o = { .tickets = -1, .sctx = sctx };
	SSL_SESSION *sess;
	struct pair p;

	pair_open(&p, cfg, &o);
	cr_assert(!p.resumed);
	client_write(&p, (const uint8_t *)"one", 3);
	us_expect(&p, (const uint8_t *)"one", 3);
	us_write(&p, (const uint8_t *)"two", 3);
	client_expect(&p, (const uint8_t *)"two", 3);   /* 1.3: reads the tickets too */
	client_close(&p);
	sess = SSL_get1_session(p.c);
	cr_assert_not_null(sess);
	cr_assert(SSL_SESSION_is_resumable(sess));
	pair_close(&p);

	for (int i = 0; i < 2; i++) {
		o.resume = sess;
		pair_open(&p, cfg, &o);
		cr_assert(p.resumed, "round %d: the session was resumed", i);
		cr_assert(SSL_session_reused(p.c));
		uint8_t *d = pattern(40000, 11);
		client_write(&p, d, 40000);
		us_expect(&p, d, 40000);
		us_write(&p, d, 40000);
		client_expect(&p, d, 40000);
		free(d);
		client_close(&p);
		pair_close(&p);
	}
	SSL_SESSION_free(sess);
	SSL_CTX_free(sctx);
}

/* Our write side updates its key by itself after TLS13_KU_RECORDS records. */
static void
run_ku_due(const struct cfg *cfg)
{
	struct pair p;
	struct tls_sess s;
	uint8_t out[256];

	pair_open(&p, cfg, NULL);
	s = *p.sess;
	s.wr.seq = TLS13_KU_RECORDS - 1;
	cr_assert_eq(tls_seal_size(&s, 1), 5 + 1 + 1 + 16);
	cr_assert_eq(tls_seal(&s, (const uint8_t *)"a", 1, out, sizeof(out)), 5 + 1 + 1 + 16);
	cr_assert_eq(s.wr.key_updates, 0);
	cr_assert_eq(tls_seal_size(&s, 1), 2 * (5 + 1 + 16) + 5 + 1);
	cr_assert_eq(tls_seal(&s, (const uint8_t *)"a", 1, out, sizeof(out)), 2 * (5 + 1 + 16) + 5 + 1);
	cr_assert_eq(s.wr.key_updates, 1);
	cr_assert_eq(s.wr.seq, 1);
	/* what a peer at that point reads: the KeyUpdate, then "a" under the next key */
	struct tls_sess peer = s;
	peer.rd = p.sess->wr;
	peer.rd.seq = TLS13_KU_RECORDS;
	peer.flags = 0;
	struct tls_open_res r;
	uint8_t plain[TLS_OPEN_MIN_CAP];
	cr_assert_eq(tls_open(&peer, out, 2 * (5 + 1 + 16) + 5 + 1, plain, sizeof(plain), &r), 0);
	cr_assert_eq(r.status, TLS_OPEN_OK, "%s", tls_alert_name(r.alert));
	cr_assert_eq(r.key_update, 1);
	cr_assert_eq(r.out_len, 1);
	cr_assert_eq(plain[0], 'a');
	cr_assert_eq(memcmp(peer.rd.key, s.wr.key, s.wr.key_len), 0);
	tls_sess_wipe(&s);
	tls_sess_wipe(&peer);
	pair_close(&p);
}

/* A server that read ahead holds bytes of the stream: take-over refuses it. */
static void
run_read_ahead(const struct cfg *cfg)
{
	struct pair p;
	struct pair_opts o = { .tickets = -1, .early = "read ahead", .read_ahead = 1 };

	pair_open(&p, cfg, &o);
	cr_assert_null(p.sess);
	SSL_free(p.c);
	SSL_CTX_free(p.cctx);
	free(p.c2s.b);
}

/* ---- TLS 1.2 only ---- */

/* A renegotiation: the client's ClientHello gets no_renegotiation, then close_notify. */
static void
run_reneg12(const struct cfg *cfg)
{
	struct pair p;
	uint8_t out[TLS_OPEN_MIN_CAP], a[64];
	struct tls_open_res r;
	int rc;

	pair_open(&p, cfg, NULL);
	client_write(&p, (const uint8_t *)"before", 6);
	us_expect(&p, (const uint8_t *)"before", 6);
	cr_assert_eq(SSL_renegotiate(p.c), 1);
	rc = SSL_do_handshake(p.c);
	cr_assert_leq(rc, 0);
	bio_drain(p.c_out, &p.c2s);
	cr_assert_gt(p.c2s.len, 0);
	cr_assert_eq(tls_open(p.sess, p.c2s.b, p.c2s.len, out, sizeof(out), &r), 0);
	cr_assert_eq(r.status, TLS_OPEN_ERROR);
	cr_assert_eq(r.alert, TLS_AD_NO_RENEGOTIATION, "got %s", tls_alert_name(r.alert));
	cr_assert_eq(r.alert_level, TLS_ALERT_WARNING);
	cr_assert_eq(r.out_len, 0);
	ssize_t k = tls_seal_alert(p.sess, r.alert_level, r.alert, a, sizeof(a));
	cr_assert_gt(k, 0);
	ssize_t k2 = tls_seal_alert(p.sess, TLS_ALERT_WARNING, TLS_AD_CLOSE_NOTIFY, a + k, sizeof(a) - (size_t)k);
	cr_assert_gt(k2, 0);
	cr_assert_eq(BIO_write(p.c_in, a, (int)(k + k2)), (int)(k + k2));
	rc = SSL_do_handshake(p.c);
	cr_assert_leq(rc, 0, "the client's renegotiation must not succeed");
	cr_assert_geq(p.c_alerts, 1);
	cr_assert_eq(p.c_first_level, TLS_ALERT_WARNING);
	cr_assert_eq(p.c_first, TLS_AD_NO_RENEGOTIATION, "the client got %s first", tls_alert_name(p.c_first));
	pair_close(&p);
}

/* Client alerts in 1.2: a warning other than close_notify goes on; a fatal one ends. */
static void
run_alert12(const struct cfg *cfg)
{
	struct pair p;

	pair_open(&p, cfg, NULL);
	/* 1.2: a direct check of the static IV layout: 4-byte salt for GCM, 12 for ChaCha20 */
	int chacha = cfg->id == 0xcca8 || cfg->id == 0xcca9;
	cr_assert_eq(p.sess->wr.iv_len, chacha ? 12 : 4);
	cr_assert_eq(p.sess->wr.seq, 1, "the Finished was record 0");
	cr_assert_eq(p.sess->rd.seq, 1, "the Finished was record 0");
	client_write(&p, (const uint8_t *)"x", 1);
	us_expect(&p, (const uint8_t *)"x", 1);
	pair_close(&p);
}

#define CFG_TESTS(X)                                                                             \
	X(t13_aes128, 0) X(t13_aes256, 1) X(t13_chacha, 2) X(t12_rsa_aes128, 3)                  \
	X(t12_ecdsa_aes128, 4) X(t12_rsa_aes256, 5) X(t12_ecdsa_aes256, 6) X(t12_rsa_chacha, 7)  \
	X(t12_ecdsa_chacha, 8)
#define T13_TESTS(X) X(t13_aes128, 0) X(t13_aes256, 1) X(t13_chacha, 2)
#define T12_TESTS(X)                                                                             \
	X(t12_rsa_aes128, 3) X(t12_ecdsa_aes128, 4) X(t12_rsa_aes256, 5) X(t12_ecdsa_aes256, 6)  \
	X(t12_rsa_chacha, 7) X(t12_ecdsa_chacha, 8)

#define T_ROUNDTRIP(n, i) Test(roundtrip, n, .timeout = 60) { run_roundtrip(&cfgs[i]); }
#define T_SPLIT(n, i)     Test(split, n, .timeout = 60) { run_split(&cfgs[i]); }
#define T_BADTAG(n, i)    Test(bad_tag, n, .timeout = 60) { run_bad_tag(&cfgs[i]); }
#define T_TRUNC(n, i)     Test(truncated, n, .timeout = 60) { run_truncated(&cfgs[i]); }
#define T_OVER(n, i)      Test(oversize, n, .timeout = 60) { run_oversize(&cfgs[i]); }
#define T_CLOSE(n, i)     Test(close_notify, n, .timeout = 60) { run_close(&cfgs[i]); }
#define T_WIPE(n, i)      Test(wipe, n, .timeout = 60) { run_wipe(&cfgs[i]); }
#define T_KU(n, i)        Test(key_update, n, .timeout = 60) { run_key_update(&cfgs[i]); }
#define T_INNER(n, i)     Test(inner13, n, .timeout = 60) { run_inner13(&cfgs[i]); }
#define T_HANDOFF(n, i)   Test(handoff13, n, .timeout = 60) { run_handoff13(&cfgs[i]); }
#define T_REPLAY(n, i)    Test(replay, n, .timeout = 60) { run_replay(&cfgs[i]); }
#define T_RAHEAD(n, i)    Test(read_ahead, n, .timeout = 60) { run_read_ahead(&cfgs[i]); }
#define T_RESUME(n, i)    Test(resume, n, .timeout = 60) { run_resume(&cfgs[i]); }
#define T_KUDUE(n, i)     Test(key_update_due, n, .timeout = 60) { run_ku_due(&cfgs[i]); }
#define T_RENEG(n, i)     Test(reneg12, n, .timeout = 60) { run_reneg12(&cfgs[i]); }
#define T_ALERT12(n, i)   Test(layout12, n, .timeout = 60) { run_alert12(&cfgs[i]); }

CFG_TESTS(T_ROUNDTRIP)
CFG_TESTS(T_SPLIT)
CFG_TESTS(T_BADTAG)
CFG_TESTS(T_TRUNC)
CFG_TESTS(T_OVER)
CFG_TESTS(T_CLOSE)
CFG_TESTS(T_WIPE)
CFG_TESTS(T_REPLAY)
T13_TESTS(T_KU)
T13_TESTS(T_INNER)
T13_TESTS(T_HANDOFF)
T13_TESTS(T_KUDUE)
T13_TESTS(T_RAHEAD)
CFG_TESTS(T_RESUME)
T12_TESTS(T_RENEG)
T12_TESTS(T_ALERT12)

/* Key derivation against RFC 8448 §3 (a simple 1-RTT handshake), server
 * application traffic secret -> key and iv: the figures are the RFC's. */
Test(derive, rfc8448_server_app_keys)
{
	static const uint8_t secret[32] = {
		0xa1, 0x1a, 0xf9, 0xf0, 0x55, 0x31, 0xf8, 0x56, 0xad, 0x47, 0x11, 0x6b, 0x45, 0xa9, 0x50, 0x32,
		0x82, 0x04, 0xb4, 0xf4, 0x4b, 0xfb, 0x6b, 0x3a, 0x4b, 0x4f, 0x1f, 0x3f, 0xcb, 0x63, 0x16, 0x43 };
	static const uint8_t key[16] = {
		0x9f, 0x02, 0x28, 0x3b, 0x6c, 0x9c, 0x07, 0xef, 0xc2, 0x6b, 0xb9, 0xf2, 0xac, 0x92, 0xe3, 0x56 };
	static const uint8_t iv[12] = {
		0xcf, 0x78, 0x2b, 0x88, 0xdd, 0x83, 0x54, 0x9a, 0xad, 0xf1, 0xe9, 0x84 };
	struct tls_sess s;

	cr_assert_eq(tls_sess_init13(&s, TLS_ROLE_SERVER, 0x1301, secret, secret, 32, 0, 0), 0);
	cr_assert_eq(memcmp(s.wr.key, key, 16), 0);
	cr_assert_eq(memcmp(s.wr.iv, iv, 12), 0);
	cr_assert_eq(tls_sess_init13(&s, TLS_ROLE_SERVER, 0x1301, secret, secret, 48, 0, 0),
		     -TLS_E_UNSUPPORTED);
	cr_assert_eq(tls_sess_init13(&s, TLS_ROLE_SERVER, 0xc02f, secret, secret, 32, 0, 0),
		     -TLS_E_UNSUPPORTED);
	tls_sess_wipe(&s);
}
