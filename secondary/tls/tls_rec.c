/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The durable TLS record layer (secondary/tls/tls_rec.h, docs/TLS-RECORD.md).
 *
 * Framing only: record headers, nonces, additional data, the TLS 1.3 inner
 * plaintext, HKDF-Expand-Label's label, the TLS 1.2 key block's layout. The
 * AEADs are libcrypto's EVP_CIPHERs, HKDF and the TLS 1.2 PRF its EVP_KDFs.
 *
 * Private memory used here holds nothing a session needs: the fetched
 * algorithms (process-wide, fetched once) and one EVP_CIPHER_CTX per thread,
 * keyed again for every record.
 */
#include "secondary/tls/tls_rec.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

/* ---- the suites this layer runs ---- */

struct suite_info {
	uint16_t id;
	uint16_t version;
	uint8_t aead;
	uint8_t hash;
};

static const struct suite_info suites[] = {
	{ 0x1301, TLS_V13, TLS_AEAD_AES_128_GCM, TLS_HASH_SHA256 },        /* TLS_AES_128_GCM_SHA256 */
	{ 0x1302, TLS_V13, TLS_AEAD_AES_256_GCM, TLS_HASH_SHA384 },        /* TLS_AES_256_GCM_SHA384 */
	{ 0x1303, TLS_V13, TLS_AEAD_CHACHA20_POLY1305, TLS_HASH_SHA256 },  /* TLS_CHACHA20_POLY1305_SHA256 */
	{ 0xc02b, TLS_V12, TLS_AEAD_AES_128_GCM, TLS_HASH_SHA256 },        /* ECDHE-ECDSA-AES128-GCM-SHA256 */
	{ 0xc02f, TLS_V12, TLS_AEAD_AES_128_GCM, TLS_HASH_SHA256 },        /* ECDHE-RSA-AES128-GCM-SHA256 */
	{ 0x009e, TLS_V12, TLS_AEAD_AES_128_GCM, TLS_HASH_SHA256 },        /* DHE-RSA-AES128-GCM-SHA256 */
	{ 0xc02c, TLS_V12, TLS_AEAD_AES_256_GCM, TLS_HASH_SHA384 },        /* ECDHE-ECDSA-AES256-GCM-SHA384 */
	{ 0xc030, TLS_V12, TLS_AEAD_AES_256_GCM, TLS_HASH_SHA384 },        /* ECDHE-RSA-AES256-GCM-SHA384 */
	{ 0x009f, TLS_V12, TLS_AEAD_AES_256_GCM, TLS_HASH_SHA384 },        /* DHE-RSA-AES256-GCM-SHA384 */
	{ 0xcca9, TLS_V12, TLS_AEAD_CHACHA20_POLY1305, TLS_HASH_SHA256 },  /* ECDHE-ECDSA-CHACHA20-POLY1305 */
	{ 0xcca8, TLS_V12, TLS_AEAD_CHACHA20_POLY1305, TLS_HASH_SHA256 },  /* ECDHE-RSA-CHACHA20-POLY1305 */
	{ 0xccaa, TLS_V12, TLS_AEAD_CHACHA20_POLY1305, TLS_HASH_SHA256 },  /* DHE-RSA-CHACHA20-POLY1305 */
};

static const struct suite_info *
suite_find(uint16_t id)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

static size_t
aead_key_len(uint8_t aead)
{
	return aead == TLS_AEAD_AES_128_GCM ? 16 : 32;
}

static size_t
hash_len(uint8_t hash)
{
	return hash == TLS_HASH_SHA384 ? 48 : 32;
}

static const char *
hash_name(uint8_t hash)
{
	return hash == TLS_HASH_SHA384 ? "SHA384" : "SHA256";
}

/* ---- libcrypto objects, fetched once ---- */

static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *alg_cipher[4];
static EVP_KDF *alg_hkdf, *alg_prf;
static int capture_idx = -1;
/*
 * One cipher context per thread and direction (0 open, 1 seal), and the key it
 * was last set up with: consecutive records under the same key (a download's
 * records, one after the other) only set the next nonce, sparing OpenSSL 3's
 * full re-initialisation (key schedule, GHASH tables, provider look-ups) per
 * record. The cached key is private memory, wiped with the contexts.
 */
static __thread EVP_CIPHER_CTX *tl_cctx[2];
static __thread struct {
	uint8_t key[TLS_KEY_MAX];
	uint8_t key_len, aead, valid;
} tl_keyed[2];

static void
algs_init(void)
{
	alg_cipher[TLS_AEAD_AES_128_GCM] = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	alg_cipher[TLS_AEAD_AES_256_GCM] = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	alg_cipher[TLS_AEAD_CHACHA20_POLY1305] = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	alg_hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	alg_prf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	capture_idx = SSL_get_ex_new_index(0, (void *)"porter tls_capture", NULL, NULL, NULL);
}

static int
algs(void)
{
	pthread_once(&algs_once, algs_init);
	return alg_cipher[1] && alg_cipher[2] && alg_cipher[3] && alg_hkdf && alg_prf ? 0 : -1;
}

/* ---- key derivation ---- */

/* Run KDF ALG with PARAMS into OUT (OLEN bytes): 0 or -1. */
static int kdf_run(EVP_KDF *alg, const OSSL_PARAM *params, uint8_t *out, size_t olen)
{
	EVP_KDF_CTX *k = EVP_KDF_CTX_new(alg);
	int ok;

	if (k == NULL)
		return -1;
	ok = EVP_KDF_derive(k, out, olen, params) > 0;
	EVP_KDF_CTX_free(k);
	return ok ? 0 : -1;
}

/*
 * RFC 8446 §7.1 HKDF-Expand-Label(secret, label, "", len): the HkdfLabel
 * structure is built here, HKDF-Expand is EVP_KDF "HKDF" in EXPAND_ONLY mode.
 */
static int
hkdf_expand_label(uint8_t hash, const uint8_t *secret, size_t slen, const char *label,
		  uint8_t *out, size_t olen)
{
	uint8_t info[2 + 1 + 255 + 1];
	size_t ll = strlen(label), il = 0;

	if (algs() < 0 || 6 + ll > 255 || olen > 0xffff)
		return -1;
	info[il++] = (uint8_t)(olen >> 8);
	info[il++] = (uint8_t)olen;
	info[il++] = (uint8_t)(6 + ll);
	memcpy(info + il, "tls13 ", 6);
	il += 6;
	memcpy(info + il, label, ll);
	il += ll;
	info[il++] = 0;                 /* context: empty */
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)hash_name(hash), 0),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, (char *)"EXPAND_ONLY", 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, il),
		OSSL_PARAM_construct_end(),
	};
	return kdf_run(alg_hkdf, p, out, olen);
}

/* RFC 5246 §5 PRF(secret, label, seed) of the suite's hash: EVP_KDF "TLS1-PRF". */
static int
tls12_prf(uint8_t hash, const uint8_t *secret, size_t slen, const char *label,
	  const uint8_t *seed1, const uint8_t *seed2, size_t seedlen, uint8_t *out, size_t olen)
{
	uint8_t seed[64 + 2 * 32];
	size_t ll = strlen(label);

	if (algs() < 0 || ll + 2 * seedlen > sizeof(seed))
		return -1;
	memcpy(seed, label, ll);
	memcpy(seed + ll, seed1, seedlen);
	memcpy(seed + ll + seedlen, seed2, seedlen);
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)hash_name(hash), 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, slen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, ll + 2 * seedlen),
		OSSL_PARAM_construct_end(),
	};
	return kdf_run(alg_prf, p, out, olen);
}

/* RFC 8446 §7.3: a direction's key and IV from its traffic secret (kept for KeyUpdate). */
static int
dir_from_secret13(struct tls_dir *d, uint8_t aead, uint8_t hash, const uint8_t *secret)
{
	size_t hl = hash_len(hash), kl = aead_key_len(aead);
	struct tls_dir n;

	memset(&n, 0, sizeof(n));
	n.aead = aead;
	n.key_len = (uint8_t)kl;
	n.iv_len = TLS_IV_LEN;
	memcpy(n.secret, secret, hl);
	if (hkdf_expand_label(hash, secret, hl, "key", n.key, kl) < 0 ||
	    hkdf_expand_label(hash, secret, hl, "iv", n.iv, TLS_IV_LEN) < 0) {
		OPENSSL_cleanse(&n, sizeof(n));
		return -1;
	}
	n.seq = d->seq;
	n.key_updates = d->key_updates;
	n.records = d->records;
	*d = n;
	OPENSSL_cleanse(&n, sizeof(n));
	return 0;
}

/* RFC 8446 §7.2: application_traffic_secret_N+1, then its key and IV; the sequence restarts. */
static int
dir_key_update(struct tls_dir *d, uint8_t hash)
{
	uint8_t next[TLS_SECRET_MAX];
	size_t hl = hash_len(hash);
	int rc;

	if (hkdf_expand_label(hash, d->secret, hl, "traffic upd", next, hl) < 0)
		return -1;
	rc = dir_from_secret13(d, d->aead, hash, next);
	OPENSSL_cleanse(next, sizeof(next));
	if (rc == 0) {
		d->seq = 0;
		d->key_updates++;
	}
	return rc;
}

/* ---- session setup ---- */

static void
sess_base(struct tls_sess *s, const struct suite_info *si, uint8_t role)
{
	memset(s, 0, sizeof(*s));
	s->layout_major = TLS_SESS_LAYOUT_MAJOR;
	s->layout_minor = TLS_SESS_LAYOUT_MINOR;
	s->version = si->version;
	s->suite = si->id;
	s->hash = si->hash;
	s->hash_len = (uint8_t)hash_len(si->hash);
	s->role = role;
}

int
tls_sess_init13(struct tls_sess *s, uint8_t role, uint16_t suite, const uint8_t *c_secret,
		const uint8_t *s_secret, size_t secret_len, uint64_t rd_seq, uint64_t wr_seq)
{
	const struct suite_info *si = suite_find(suite);

	if (si == NULL || si->version != TLS_V13 || secret_len != hash_len(si->hash) ||
	    role > TLS_ROLE_CLIENT)
		return -TLS_E_UNSUPPORTED;
	sess_base(s, si, role);
	const uint8_t *rd = role == TLS_ROLE_SERVER ? c_secret : s_secret;
	const uint8_t *wr = role == TLS_ROLE_SERVER ? s_secret : c_secret;
	if (dir_from_secret13(&s->rd, si->aead, si->hash, rd) < 0 ||
	    dir_from_secret13(&s->wr, si->aead, si->hash, wr) < 0) {
		tls_sess_wipe(s);
		return -TLS_E_CRYPTO;
	}
	s->rd.seq = rd_seq;
	s->wr.seq = wr_seq;
	s->magic = TLS_SESS_MAGIC;
	return 0;
}

int
tls_sess_init12(struct tls_sess *s, uint8_t role, uint16_t suite, const uint8_t master[48],
		const uint8_t client_random[32], const uint8_t server_random[32],
		uint64_t rd_seq, uint64_t wr_seq)
{
	const struct suite_info *si = suite_find(suite);
	uint8_t kb[2 * 32 + 2 * 12];
	size_t kl, ivl;

	if (si == NULL || si->version != TLS_V12 || role > TLS_ROLE_CLIENT)
		return -TLS_E_UNSUPPORTED;
	sess_base(s, si, role);
	kl = aead_key_len(si->aead);
	ivl = si->aead == TLS_AEAD_CHACHA20_POLY1305 ? 12 : 4;   /* RFC 7905 §2 / RFC 5288 §3 */
	/* RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random +
	 * client_random); AEAD suites have no MAC keys, so: client_write_key,
	 * server_write_key, client_write_IV, server_write_IV. */
	if (tls12_prf(si->hash, master, 48, "key expansion", server_random, client_random, 32,
		      kb, 2 * kl + 2 * ivl) < 0) {
		OPENSSL_cleanse(kb, sizeof(kb));
		tls_sess_wipe(s);
		return -TLS_E_CRYPTO;
	}
	struct tls_dir *cw = role == TLS_ROLE_SERVER ? &s->rd : &s->wr;
	struct tls_dir *sw = role == TLS_ROLE_SERVER ? &s->wr : &s->rd;
	memcpy(cw->key, kb, kl);
	memcpy(sw->key, kb + kl, kl);
	memcpy(cw->iv, kb + 2 * kl, ivl);
	memcpy(sw->iv, kb + 2 * kl + ivl, ivl);
	OPENSSL_cleanse(kb, sizeof(kb));
	for (int i = 0; i < 2; i++) {
		struct tls_dir *d = i ? &s->wr : &s->rd;
		d->aead = si->aead;
		d->key_len = (uint8_t)kl;
		d->iv_len = (uint8_t)ivl;
	}
	s->rd.seq = rd_seq;
	s->wr.seq = wr_seq;
	s->magic = TLS_SESS_MAGIC;
	return 0;
}

int
tls_sess_check(const struct tls_sess *s)
{
	if (s == NULL || s->magic != TLS_SESS_MAGIC || s->layout_major != TLS_SESS_LAYOUT_MAJOR ||
	    (s->version != TLS_V12 && s->version != TLS_V13))
		return -TLS_E_STATE;
	for (int i = 0; i < 2; i++) {
		const struct tls_dir *d = i ? &s->wr : &s->rd;
		if (d->aead < TLS_AEAD_AES_128_GCM || d->aead > TLS_AEAD_CHACHA20_POLY1305 ||
		    d->key_len != aead_key_len(d->aead))
			return -TLS_E_STATE;
	}
	return 0;
}

void
tls_sess_wipe(struct tls_sess *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

/* ---- learning the session from OpenSSL ---- */

void
tls_capture_clear(struct tls_capture *cap)
{
	OPENSSL_cleanse(cap, sizeof(*cap));
}

static struct tls_capture *
capture_of(const SSL *ssl)
{
	if (algs() < 0 || capture_idx < 0)
		return NULL;
	return SSL_get_ex_data(ssl, capture_idx);
}

/*
 * Counting the records protected under the application keys before the
 * take-over. The message callback reports each record header as the record
 * is written or read (SSL3_RT_HEADER), and each handshake message after the
 * record that ends it. The last handshake message of each direction is its
 * Finished; what follows it in that direction is application-key records:
 *   TLS 1.3: the Finished goes under the handshake key and the application
 *   key starts after it (RFC 8446 §7.3): next sequence = records after it.
 *   TLS 1.2: the Finished is the first record under the new key (sequence 0,
 *   after ChangeCipherSpec, RFC 5246 §7.1): next sequence = records after it
 *   + 1. (OpenSSL does not report a received ChangeCipherSpec to the
 *   callback, so the Finished is the one marker both versions share.)
 * A server's 1.3 NewSessionTickets are such records on the write side.
 */
static void
capture_msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
	       void *arg)
{
	struct tls_capture *cap = arg;
	const uint8_t *b = buf;

	(void)version;
	(void)ssl;
	if (cap == NULL)
		return;
	if (content_type == SSL3_RT_HEADER) {
		if (write_p)
			cap->wr_after_fin++;
		else
			cap->rd_after_fin++;
	} else if (content_type == SSL3_RT_HANDSHAKE && len >= 1 && b[0] == SSL3_MT_FINISHED) {
		if (write_p) {
			cap->wr_after_fin = 0;
			cap->wr_fin = 1;
		} else {
			cap->rd_after_fin = 0;
			cap->rd_fin = 1;
		}
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "LABEL <64 hex client random> <hex secret>": the secret into out, its length, or -1. */
static int
keylog_secret(const char *line, const char *label, uint8_t *out, size_t max)
{
	size_t ll = strlen(label), n = 0;
	const char *p;

	if (strncmp(line, label, ll) != 0 || line[ll] != ' ')
		return -2;      /* another line */
	p = strchr(line + ll + 1, ' ');
	if (p == NULL)
		return -1;
	for (p++; p[0] != '\0' && p[0] != '\n'; p += 2) {
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
		if (lo < 0 || n == max)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	return (int)n;
}

void
tls_keylog_cb(const SSL *ssl, const char *line)
{
	struct tls_capture *cap = capture_of(ssl);
	int n;

	if (cap == NULL || line == NULL)
		return;
	n = keylog_secret(line, "CLIENT_TRAFFIC_SECRET_0", cap->c_secret, sizeof(cap->c_secret));
	if (n >= 0)
		cap->c_secret_len = (uint8_t)n;
	else if (n == -1)
		cap->bad = 1;
	n = keylog_secret(line, "SERVER_TRAFFIC_SECRET_0", cap->s_secret, sizeof(cap->s_secret));
	if (n >= 0)
		cap->s_secret_len = (uint8_t)n;
	else if (n == -1)
		cap->bad = 1;
}

int
tls_capture_attach(SSL *ssl, struct tls_capture *cap)
{
	if (algs() < 0 || capture_idx < 0)
		return -1;
	memset(cap, 0, sizeof(*cap));
	if (!SSL_set_ex_data(ssl, capture_idx, cap))
		return -1;
	SSL_set_msg_callback(ssl, capture_msg_cb);
	SSL_set_msg_callback_arg(ssl, cap);
	return 0;
}

int
tls_sess_from_ssl(struct tls_sess *s, SSL *ssl, struct tls_capture *cap, struct tls_handoff *h)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	uint8_t role = SSL_is_server(ssl) ? TLS_ROLE_SERVER : TLS_ROLE_CLIENT;
	uint64_t rd_seq, wr_seq;
	int rc;

	memset(h, 0, sizeof(*h));
	if (!SSL_is_init_finished(ssl) || c == NULL || cap->bad || SSL_has_pending(ssl)) {
		rc = -TLS_E_HANDSHAKE;
		goto out;
	}
	if (!cap->rd_fin || !cap->wr_fin) {
		rc = -TLS_E_HANDSHAKE;
		goto out;
	}
	switch (SSL_version(ssl)) {
	case TLS1_3_VERSION:
		if (cap->c_secret_len == 0 || cap->c_secret_len != cap->s_secret_len) {
			rc = -TLS_E_HANDSHAKE;
			goto out;
		}
		rd_seq = cap->rd_after_fin;
		wr_seq = cap->wr_after_fin;
		rc = tls_sess_init13(s, role, SSL_CIPHER_get_protocol_id(c), cap->c_secret,
				     cap->s_secret, cap->c_secret_len, rd_seq, wr_seq);
		break;
	case TLS1_2_VERSION: {
		uint8_t master[48], cr[32], sr[32];
		if (SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof(master)) != 48 ||
		    SSL_get_client_random(ssl, cr, 32) != 32 || SSL_get_server_random(ssl, sr, 32) != 32) {
			OPENSSL_cleanse(master, sizeof(master));
			rc = -TLS_E_HANDSHAKE;
			goto out;
		}
		rd_seq = cap->rd_after_fin + 1;
		wr_seq = cap->wr_after_fin + 1;
		rc = tls_sess_init12(s, role, SSL_CIPHER_get_protocol_id(c), master, cr, sr, rd_seq,
				     wr_seq);
		OPENSSL_cleanse(master, sizeof(master));
		break;
	}
	default:
		rc = -TLS_E_UNSUPPORTED;
		break;
	}
	if (rc == 0) {
		BIO *w = SSL_get_wbio(ssl), *r = SSL_get_rbio(ssl);
		h->tx_pending = w ? BIO_ctrl_pending(w) : 0;
		h->rx_unread = r ? BIO_ctrl_pending(r) : 0;
		/* The session lives on here: freeing an SSL that was not shut down
		 * would take its session out of the server's cache (not resumable). */
		SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	}
out:
	tls_capture_clear(cap);
	return rc;
}

void
tls_rec_thread_done(void)
{
	for (int i = 0; i < 2; i++) {
		EVP_CIPHER_CTX_free(tl_cctx[i]);
		tl_cctx[i] = NULL;
	}
	OPENSSL_cleanse(tl_keyed, sizeof(tl_keyed));
}

/* ---- one record ---- */

static EVP_CIPHER_CTX *
cctx(int enc)
{
	if (tl_cctx[enc] == NULL)
		tl_cctx[enc] = EVP_CIPHER_CTX_new();
	return tl_cctx[enc];
}

/*
 * One AEAD operation: enc 1 seals in[0..len) into out with the tag into tag,
 * enc 0 opens it checking tag. in and out may be the same buffer.
 * 0, 1 for an authentication failure (opening), -1 for a libcrypto failure.
 */
static int
aead2(int enc, const struct tls_dir *d, const uint8_t nonce[TLS_IV_LEN], const uint8_t *aad,
      size_t aadlen, const uint8_t *in, size_t len, uint8_t in2, int has2, uint8_t *out, uint8_t *tag);

static int
aead(int enc, const struct tls_dir *d, const uint8_t nonce[TLS_IV_LEN], const uint8_t *aad,
     size_t aadlen, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	return aead2(enc, d, nonce, aad, aadlen, in, len, 0, 0, out, tag);
}

/* The same with one more input byte after IN (sealing: the 1.3 content type), written at out[len]. */
static int
aead2(int enc, const struct tls_dir *d, const uint8_t nonce[TLS_IV_LEN], const uint8_t *aad,
      size_t aadlen, const uint8_t *in, size_t len, uint8_t in2, int has2, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c;
	uint8_t fin[16];
	int outl = 0, fl = 0;

	if (algs() < 0 || (c = cctx(enc != 0)) == NULL)
		return -1;
	if (tl_keyed[enc != 0].valid && tl_keyed[enc != 0].aead == d->aead && tl_keyed[enc != 0].key_len == d->key_len &&
	    CRYPTO_memcmp(tl_keyed[enc != 0].key, d->key, d->key_len) == 0) {
		if (!EVP_CipherInit_ex2(c, NULL, NULL, nonce, enc, NULL))
			return -1;
	} else {
		tl_keyed[enc != 0].valid = 0;
		if (!EVP_CipherInit_ex2(c, alg_cipher[d->aead], d->key, nonce, enc, NULL))
			return -1;
		memcpy(tl_keyed[enc != 0].key, d->key, d->key_len);
		tl_keyed[enc != 0].key_len = d->key_len;
		tl_keyed[enc != 0].aead = d->aead;
		tl_keyed[enc != 0].valid = 1;
	}
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TLS_TAG_LEN, tag) <= 0)
		return -1;
	if (!EVP_CipherUpdate(c, NULL, &outl, aad, (int)aadlen))
		return -1;
	if (len > 0 && !EVP_CipherUpdate(c, out, &outl, in, (int)len))
		return -1;
	if (has2 && !EVP_CipherUpdate(c, out + len, &outl, &in2, 1))
		return -1;
	if (EVP_CipherFinal_ex(c, fin, &fl) <= 0)
		return enc ? -1 : 1;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TLS_TAG_LEN, tag) <= 0)
		return -1;
	return 0;
}

/* The per-record nonce: iv XOR seq (RFC 8446 §5.3, RFC 7905 §2). */
static void
nonce_xor(const struct tls_dir *d, uint64_t seq, uint8_t n[TLS_IV_LEN])
{
	memcpy(n, d->iv, TLS_IV_LEN);
	for (int i = 0; i < 8; i++)
		n[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* TLS 1.2 GCM carries an explicit 8-byte nonce in each record. */
static int
explicit_nonce(const struct tls_sess *s, const struct tls_dir *d)
{
	return s->version == TLS_V12 && d->aead != TLS_AEAD_CHACHA20_POLY1305;
}

/* Bytes of protection around len bytes of plaintext of one record. */
static size_t
rec_overhead(const struct tls_sess *s)
{
	return TLS_HDR_LEN + TLS_TAG_LEN + (s->version == TLS_V13 ? 1 : 0) +
	       (explicit_nonce(s, &s->wr) ? 8 : 0);
}

/* Do [a, a+an) and [b, b+bn) share a byte? */
static int
overlaps(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	return (uintptr_t)a < (uintptr_t)b + bn && (uintptr_t)b < (uintptr_t)a + an;
}

/*
 * Seal one record of content type `type` (≤ 2^14 bytes of data) at out, with
 * the write direction's next sequence number. data may be anywhere, out
 * included. Returns the record's length or -TLS_E_*; s changes only on success.
 */
static ssize_t
seal_record(struct tls_sess *s, uint8_t type, const uint8_t *data, size_t len, uint8_t *out)
{
	struct tls_dir *d = &s->wr;
	uint8_t nonce[TLS_IV_LEN], aad[13];
	size_t clen, rlen, pos = TLS_HDR_LEN;
	int rc;

	if (d->seq == UINT64_MAX)
		return -TLS_E_SEQ;
	rlen = rec_overhead(s) + len;
	clen = rlen - TLS_HDR_LEN;
	out[0] = s->version == TLS_V13 ? TLS_CT_APPLICATION_DATA : type;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)(clen >> 8);
	out[4] = (uint8_t)clen;
	if (s->version == TLS_V13) {
		/* TLSInnerPlaintext (data, type, no padding), encrypted straight from data:
		 * a copy only when data overlaps the record elsewhere than in place */
		if (overlaps(data, len, out, rlen) && data != out + pos) {
			memmove(out + pos, data, len);
			data = out + pos;
		}
		nonce_xor(d, d->seq, nonce);
		rc = aead2(1, d, nonce, out, TLS_HDR_LEN, data, len, type, 1, out + pos,
			   out + pos + len + 1);
	} else {
		/* RFC 5246 §6.2.3.3: additional_data = seq_num + type + version + length */
		put_be64(aad, d->seq);
		aad[8] = type;
		aad[9] = 3;
		aad[10] = 3;
		aad[11] = (uint8_t)(len >> 8);
		aad[12] = (uint8_t)len;
		if (explicit_nonce(s, d)) {
			memcpy(nonce, d->iv, 4);
			put_be64(nonce + 4, d->seq);
			if (overlaps(data, len, out, rlen) && data != out + pos + 8) {
				memmove(out + pos + 8, data, len);
				data = out + pos + 8;
			}
			memcpy(out + pos, nonce + 4, 8);
			pos += 8;
		} else {
			nonce_xor(d, d->seq, nonce);
			if (overlaps(data, len, out, rlen) && data != out + pos) {
				memmove(out + pos, data, len);
				data = out + pos;
			}
		}
		rc = aead(1, d, nonce, aad, sizeof(aad), data, len, out + pos, out + pos + len);
	}
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (rc != 0)
		return -TLS_E_CRYPTO;
	d->seq++;
	d->records++;
	s->tx_bytes += rlen;
	return (ssize_t)rlen;
}

static int
writable(const struct tls_sess *s)
{
	return tls_sess_check(s) == 0 && !(s->flags & TLS_SF_TX_CLOSED);
}

/* ---- sending ---- */

static int
ku_due(const struct tls_sess *s)
{
	return s->version == TLS_V13 &&
	       ((s->flags & TLS_SF_KU_OWED) || s->wr.seq >= TLS13_KU_RECORDS);
}

size_t
tls_seal_size(const struct tls_sess *s, size_t n)
{
	size_t nrec = (n + TLS_MAX_PLAIN - 1) / TLS_MAX_PLAIN;
	size_t sz = nrec * rec_overhead(s) + n;

	if (ku_due(s))
		sz += rec_overhead(s) + 5;
	return sz;
}

ssize_t
tls_key_update_send(struct tls_sess *s, int request_update, uint8_t *out, size_t cap)
{
	struct tls_sess save;
	uint8_t msg[5] = { 24, 0, 0, 1, request_update ? 1 : 0 };   /* KeyUpdate, RFC 8446 §4.6.3 */
	ssize_t n;

	if (!writable(s) || (s->flags & TLS_SF_FAILED))
		return -TLS_E_STATE;
	if (s->version != TLS_V13)
		return -TLS_E_UNSUPPORTED;
	if (cap < rec_overhead(s) + sizeof(msg))
		return -TLS_E_SPACE;
	save = *s;
	n = seal_record(s, TLS_CT_HANDSHAKE, msg, sizeof(msg), out);
	if (n >= 0 && dir_key_update(&s->wr, s->hash) < 0)
		n = -TLS_E_CRYPTO;
	if (n < 0)
		*s = save;
	else {
		s->flags &= (uint16_t)~TLS_SF_KU_OWED;
		if (request_update)
			s->flags |= TLS_SF_KU_ASKED;
	}
	OPENSSL_cleanse(&save, sizeof(save));
	return n;
}

ssize_t
tls_seal(struct tls_sess *s, const uint8_t *plain, size_t n, uint8_t *out, size_t cap)
{
	struct tls_sess save;
	size_t off = 0, done = 0;
	ssize_t r = 0;

	if (!writable(s) || (s->flags & TLS_SF_FAILED))
		return -TLS_E_STATE;
	if (cap < tls_seal_size(s, n))
		return -TLS_E_SPACE;
	if (s->wr.seq > UINT64_MAX - 2 - n / TLS_MAX_PLAIN)
		return -TLS_E_SEQ;
	save = *s;
	if (ku_due(s)) {
		r = tls_key_update_send(s, 0, out, cap);
		if (r < 0)
			goto fail;
		done += (size_t)r;
	}
	while (off < n) {
		size_t len = n - off < TLS_MAX_PLAIN ? n - off : TLS_MAX_PLAIN;
		r = seal_record(s, TLS_CT_APPLICATION_DATA, plain + off, len, out + done);
		if (r < 0)
			goto fail;
		done += (size_t)r;
		off += len;
	}
	s->tx_plain += n;
	OPENSSL_cleanse(&save, sizeof(save));
	return (ssize_t)done;
fail:
	*s = save;
	OPENSSL_cleanse(&save, sizeof(save));
	return r;
}

ssize_t
tls_seal_alert(struct tls_sess *s, uint8_t level, uint8_t desc, uint8_t *out, size_t cap)
{
	uint8_t msg[2] = { level, desc };
	ssize_t n;

	if (!writable(s))
		return -TLS_E_STATE;
	if (cap < rec_overhead(s) + sizeof(msg))
		return -TLS_E_SPACE;
	n = seal_record(s, TLS_CT_ALERT, msg, sizeof(msg), out);
	if (n < 0)
		return n;
	s->flags |= TLS_SF_ALERT_SENT;
	s->alert_sent = desc;
	/* close_notify and fatal alerts end our side; in 1.3 so does every alert
	 * but user_canceled (RFC 8446 §6: they are errors whatever their level) */
	if (desc == TLS_AD_CLOSE_NOTIFY || level == TLS_ALERT_FATAL ||
	    (s->version == TLS_V13 && desc != TLS_AD_USER_CANCELED))
		s->flags |= TLS_SF_TX_CLOSED;
	if (level == TLS_ALERT_FATAL)
		s->flags |= TLS_SF_FAILED;
	return n;
}

/* ---- receiving ---- */

/* Stop tls_open() with an alert to send; the session is failed from here on. */
static void
open_fail(struct tls_sess *s, struct tls_open_res *r, uint8_t level, uint8_t desc)
{
	r->status = TLS_OPEN_ERROR;
	r->alert_level = level;
	r->alert = desc;
	s->flags |= TLS_SF_FAILED;
	s->alert_level = level;
	s->alert_pending = desc;
}

/*
 * TLS 1.3 post-handshake messages of one record (p[0..len)). A server is sent
 * only KeyUpdate (we never ask for post-handshake authentication); a client
 * would also get NewSessionTicket, which this layer does not take (it is the
 * server's). Returns 0 or the alert description.
 */
static int
handshake13(struct tls_sess *s, const uint8_t *p, size_t len, struct tls_open_res *r)
{
	size_t i = 0;

	while (i < len) {
		uint8_t b[5];
		size_t have = s->hs_len, take;

		memcpy(b, s->hs_buf, have);
		take = len - i < 5 - have ? len - i : 5 - have;
		memcpy(b + have, p + i, take);
		have += take;
		i += take;
		if (b[0] != 24)                         /* KeyUpdate */
			return TLS_AD_UNEXPECTED_MESSAGE;
		if (have >= 4 && (b[1] != 0 || b[2] != 0 || b[3] != 1))
			return TLS_AD_DECODE_ERROR;
		if (have < 5) {                         /* continues in the next record */
			memcpy(s->hs_buf, b, have);
			s->hs_len = (uint8_t)have;
			continue;
		}
		s->hs_len = 0;
		memset(s->hs_buf, 0, sizeof(s->hs_buf));
		if (b[4] > 1)
			return TLS_AD_ILLEGAL_PARAMETER;
		if (i != len)   /* RFC 8446 §5.1: a key change must be at a record boundary */
			return TLS_AD_UNEXPECTED_MESSAGE;
		/* the caller has counted this record under the old key: the next
		 * one is the new key's first (sequence number 0) */
		if (dir_key_update(&s->rd, s->hash) < 0)
			return TLS_AD_INTERNAL_ERROR;
		r->key_update = 1;
		s->flags &= (uint16_t)~TLS_SF_KU_ASKED;
		if (b[4] == 1)
			s->flags |= TLS_SF_KU_OWED;
		return -1;      /* applied: the sequence number is already the new key's */
	}
	return 0;
}

int
tls_open(struct tls_sess *s, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
	 struct tls_open_res *r)
{
	const int v13 = s->version == TLS_V13;
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	if (tls_sess_check(s) < 0 || (s->flags & (TLS_SF_RX_CLOSED | TLS_SF_FAILED))) {
		r->status = TLS_OPEN_ERROR;
		return -TLS_E_STATE;
	}
	while (n - off >= TLS_HDR_LEN) {
		const uint8_t *h = in + off;
		struct tls_dir *d = &s->rd;
		uint8_t type = h[0], nonce[TLS_IV_LEN], aad[13];
		size_t clen = (size_t)h[3] << 8 | h[4], ovh, plen, pos = TLS_HDR_LEN;
		uint8_t *p = out + r->out_len;
		int rc;

		/* the header alone decides these */
		if (v13 ? type != TLS_CT_APPLICATION_DATA
			: type != TLS_CT_APPLICATION_DATA && type != TLS_CT_ALERT && type != TLS_CT_HANDSHAKE) {
			open_fail(s, r, TLS_ALERT_FATAL, TLS_AD_UNEXPECTED_MESSAGE);
			return 0;
		}
		if (h[1] != 3 || (!v13 && h[2] != 3)) {
			open_fail(s, r, TLS_ALERT_FATAL, v13 ? TLS_AD_DECODE_ERROR : TLS_AD_PROTOCOL_VERSION);
			return 0;
		}
		ovh = TLS_TAG_LEN + (v13 ? 1 : 0) + (explicit_nonce(s, d) ? 8 : 0);
		if (clen > (v13 ? TLS13_MAX_CIPHER : TLS12_MAX_CIPHER) ||
		    (!v13 && clen > ovh && clen - ovh > TLS_MAX_PLAIN)) {
			open_fail(s, r, TLS_ALERT_FATAL, TLS_AD_RECORD_OVERFLOW);
			return 0;
		}
		if (clen < ovh) {       /* too short to carry a tag: it cannot authenticate */
			open_fail(s, r, TLS_ALERT_FATAL, TLS_AD_BAD_RECORD_MAC);
			return 0;
		}
		if (n - off < TLS_HDR_LEN + clen)
			break;                          /* partial: stays in the stream */
		if (d->seq == UINT64_MAX) {
			open_fail(s, r, TLS_ALERT_FATAL, TLS_AD_INTERNAL_ERROR);
			return 0;
		}
		plen = clen - TLS_TAG_LEN - (explicit_nonce(s, d) ? 8 : 0);  /* 1.3: inner plaintext */
		if (cap - r->out_len < plen) {
			r->status = TLS_OPEN_SPACE;
			return 0;
		}
		if (v13) {
			nonce_xor(d, d->seq, nonce);
			rc = aead(0, d, nonce, h, TLS_HDR_LEN, h + pos, plen, p, (uint8_t *)h + pos + plen);
		} else {
			if (explicit_nonce(s, d)) {
				memcpy(nonce, d->iv, 4);
				memcpy(nonce + 4, h + pos, 8);
				pos += 8;
			} else {
				nonce_xor(d, d->seq, nonce);
			}
			put_be64(aad, d->seq);
			aad[8] = type;
			aad[9] = h[1];
			aad[10] = h[2];
			aad[11] = (uint8_t)(plen >> 8);
			aad[12] = (uint8_t)plen;
			rc = aead(0, d, nonce, aad, sizeof(aad), h + pos, plen, p, (uint8_t *)h + pos + plen);
		}
		OPENSSL_cleanse(nonce, sizeof(nonce));
		if (rc != 0) {
			OPENSSL_cleanse(p, plen);
			open_fail(s, r, TLS_ALERT_FATAL, rc > 0 ? TLS_AD_BAD_RECORD_MAC : TLS_AD_INTERNAL_ERROR);
			return 0;
		}
		if (v13) {
			/* RFC 8446 §5.4: the content type is the last non-zero byte */
			while (plen > 0 && p[plen - 1] == 0)
				plen--;
			if (plen == 0) {
				open_fail(s, r, TLS_ALERT_FATAL, TLS_AD_UNEXPECTED_MESSAGE);
				return 0;
			}
			type = p[--plen];
			if (plen > TLS_MAX_PLAIN) {
				OPENSSL_cleanse(p, plen);
				open_fail(s, r, TLS_ALERT_FATAL, TLS_AD_RECORD_OVERFLOW);
				return 0;
			}
		}
		if (type != TLS_CT_HANDSHAKE && s->hs_len != 0) {
			/* RFC 8446 §5.1: no other record inside a handshake message */
			OPENSSL_cleanse(p, plen);
			open_fail(s, r, TLS_ALERT_FATAL, TLS_AD_UNEXPECTED_MESSAGE);
			return 0;
		}
		/* the record authenticated: it is consumed whatever it says */
		d->seq++;
		d->records++;
		s->rx_bytes += TLS_HDR_LEN + clen;
		off += TLS_HDR_LEN + clen;
		r->consumed = off;
		switch (type) {
		case TLS_CT_APPLICATION_DATA:
			r->out_len += plen;
			s->rx_plain += plen;
			break;
		case TLS_CT_ALERT: {
			uint8_t level = plen == 2 ? p[0] : 0, desc = plen == 2 ? p[1] : 0;
			OPENSSL_cleanse(p, plen);
			if (plen != 2 || (level != TLS_ALERT_WARNING && level != TLS_ALERT_FATAL)) {
				open_fail(s, r, TLS_ALERT_FATAL, TLS_AD_DECODE_ERROR);
				return 0;
			}
			s->flags |= TLS_SF_PEER_ALERT;
			s->alert_rcvd = desc;
			if (desc == TLS_AD_CLOSE_NOTIFY) {
				s->flags |= TLS_SF_RX_CLOSED;
				r->status = TLS_OPEN_CLOSED;
				r->alert_level = level;
				r->alert = desc;
				return 0;
			}
			/* 1.2 warnings and user_canceled go on (close_notify follows the latter);
			 * RFC 8446 §6: any other alert in 1.3 is an error whatever its level */
			if ((!v13 && level == TLS_ALERT_WARNING) || desc == TLS_AD_USER_CANCELED)
				break;
			s->flags |= TLS_SF_FAILED;
			r->status = TLS_OPEN_PEER_ALERT;
			r->alert_level = level;
			r->alert = desc;
			return 0;
		}
		case TLS_CT_HANDSHAKE:
			if (plen == 0) {        /* zero-length handshake fragments are not allowed */
				open_fail(s, r, TLS_ALERT_FATAL, TLS_AD_UNEXPECTED_MESSAGE);
				return 0;
			}
			if (!v13) {
				/* A ClientHello on an established 1.2 session is a renegotiation,
				 * which porter does not do: answer no_renegotiation, which RFC 5246
				 * §7.2.2 defines as the server's answer to such a ClientHello and as
				 * always a warning; the caller then sends close_notify and closes
				 * the stream. Anything else is out of place. */
				uint8_t first = p[0];
				OPENSSL_cleanse(p, plen);
				if (first == 1 && s->role == TLS_ROLE_SERVER)
					open_fail(s, r, TLS_ALERT_WARNING, TLS_AD_NO_RENEGOTIATION);
				else
					open_fail(s, r, TLS_ALERT_FATAL, TLS_AD_UNEXPECTED_MESSAGE);
				return 0;
			}
			rc = handshake13(s, p, plen, r);
			OPENSSL_cleanse(p, plen);
			if (rc > 0) {
				/* undo nothing: the record was authentic, the session ends */
				open_fail(s, r, TLS_ALERT_FATAL, (uint8_t)rc);
				return 0;
			}
			break;
		default:        /* 1.3 inner change_cipher_spec or an unknown type */
			OPENSSL_cleanse(p, plen);
			open_fail(s, r, TLS_ALERT_FATAL, TLS_AD_UNEXPECTED_MESSAGE);
			return 0;
		}
	}
	return 0;
}

const char *
tls_alert_name(uint8_t desc)
{
	switch (desc) {
	case TLS_AD_CLOSE_NOTIFY: return "close_notify";
	case TLS_AD_UNEXPECTED_MESSAGE: return "unexpected_message";
	case TLS_AD_BAD_RECORD_MAC: return "bad_record_mac";
	case TLS_AD_RECORD_OVERFLOW: return "record_overflow";
	case TLS_AD_HANDSHAKE_FAILURE: return "handshake_failure";
	case TLS_AD_ILLEGAL_PARAMETER: return "illegal_parameter";
	case TLS_AD_DECODE_ERROR: return "decode_error";
	case TLS_AD_PROTOCOL_VERSION: return "protocol_version";
	case TLS_AD_INTERNAL_ERROR: return "internal_error";
	case TLS_AD_USER_CANCELED: return "user_canceled";
	case TLS_AD_NO_RENEGOTIATION: return "no_renegotiation";
	default: return "alert";
	}
}
