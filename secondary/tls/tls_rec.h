/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The durable TLS record layer: record protection and verification of an
 * established TLS 1.2 / 1.3 session, run from its shared-memory state alone
 * (struct tls_sess, shm/tls-t.h). docs/TLS-RECORD.md has the design.
 *
 * Life of a session:
 *   1. The handshake runs in OpenSSL on memory BIOs. Before it starts, the
 *      caller installs tls_keylog_cb on the SSL_CTX and attaches a
 *      struct tls_capture (private memory) to the SSL: it learns the TLS 1.3
 *      traffic secrets and counts the records OpenSSL protects after the
 *      handshake's key change (e.g. the TLS 1.3 NewSessionTickets).
 *   2. When SSL_do_handshake() has returned 1, tls_sess_from_ssl() fills the
 *      struct. The caller then sends (before any record of ours) the
 *      handoff.tx_pending bytes OpenSSL has left in its write BIO, and gives
 *      tls_open() first the handoff.rx_unread bytes left in its read BIO.
 *      The SSL can then be freed: nothing of it is needed any more.
 *   3. tls_open() verifies and decrypts complete records of the receive
 *      stream; tls_seal() protects application data; tls_seal_alert() and
 *      tls_key_update_send() produce the other records we send.
 *   4. tls_sess_wipe() zeroes the struct when the session ends.
 *
 * The cryptography is libcrypto's: AEADs through EVP_CIPHER, HKDF and the
 * TLS 1.2 PRF through EVP_KDF. This file only frames.
 *
 * Every function that changes the struct changes it only on success and, for
 * tls_open(), record by record, so the struct always describes the stream
 * after the last complete record consumed (rx_bytes) or produced (tx_bytes);
 * a tls_open() error only marks the session failed (TLS_SF_FAILED and the
 * alert to send). Both directions are deterministic: the same struct and
 * input give the same bytes and the same new struct, so a step a killed
 * worker did not commit is redone from the struct it started from
 * (docs/TLS-RECORD.md, "Durability").
 *
 * The SSL_CTX key-log callback is tls_keylog_cb: an SSL_CTX that also wants
 * key logs elsewhere (debugging) calls it from its own callback.
 */
#ifndef PORTER_TLS_REC_H
#define PORTER_TLS_REC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "shm/tls-t.h"

/* Record content types (RFC 8446 §5.1, RFC 5246 §6.2.1). */
#define TLS_CT_CHANGE_CIPHER_SPEC 20
#define TLS_CT_ALERT              21
#define TLS_CT_HANDSHAKE          22
#define TLS_CT_APPLICATION_DATA   23

/* Alert levels and the descriptions this layer uses (RFC 8446 §6, RFC 5246 §7.2). */
#define TLS_ALERT_WARNING 1
#define TLS_ALERT_FATAL   2
enum tls_alert {
	TLS_AD_CLOSE_NOTIFY       = 0,
	TLS_AD_UNEXPECTED_MESSAGE = 10,
	TLS_AD_BAD_RECORD_MAC     = 20,
	TLS_AD_RECORD_OVERFLOW    = 22,
	TLS_AD_HANDSHAKE_FAILURE  = 40,
	TLS_AD_ILLEGAL_PARAMETER  = 47,
	TLS_AD_DECODE_ERROR       = 50,
	TLS_AD_PROTOCOL_VERSION   = 70,
	TLS_AD_INTERNAL_ERROR     = 80,
	TLS_AD_USER_CANCELED      = 90,
	TLS_AD_NO_RENEGOTIATION   = 100,
};

#define TLS_MAX_PLAIN      16384u                 /* 2^14: plaintext of one record */
#define TLS_HDR_LEN        5u
#define TLS_TAG_LEN        16u
#define TLS13_MAX_CIPHER   (TLS_MAX_PLAIN + 256u) /* RFC 8446 §5.2 */
#define TLS12_MAX_CIPHER   (TLS_MAX_PLAIN + 2048u) /* RFC 5246 §6.2.3 */
/* tls_open() always makes progress on a complete record with this much output room. */
#define TLS_OPEN_MIN_CAP   (TLS_MAX_PLAIN + 256u)
/* TLS 1.3: our write side sends a KeyUpdate after this many records under one key
 * (below the AES-GCM limit of RFC 8446 §5.5). */
#define TLS13_KU_RECORDS   (1ull << 24)

/* Errors returned (negated) by the functions below. */
enum tls_err {
	TLS_E_OK = 0,
	TLS_E_SPACE = 1,      /* output buffer too small: nothing was done */
	TLS_E_STATE,          /* session closed, failed, or not a valid struct */
	TLS_E_UNSUPPORTED,    /* version / cipher suite this layer does not run */
	TLS_E_HANDSHAKE,      /* tls_sess_from_ssl: handshake not complete, secrets missing,
	                         or OpenSSL holds buffered record data */
	TLS_E_CRYPTO,         /* libcrypto failed (not a bad tag: that is an alert) */
	TLS_E_SEQ,            /* sequence number exhausted */
};

/*
 * What the handshake leaves behind in private memory until tls_sess_from_ssl():
 * attach one per SSL before its handshake, with tls_capture_attach(). Holds
 * traffic secrets: tls_capture_clear() it when done (tls_sess_from_ssl does).
 */
struct tls_capture {
	uint8_t c_secret[TLS_SECRET_MAX];   /* CLIENT_TRAFFIC_SECRET_0 (1.3) */
	uint8_t s_secret[TLS_SECRET_MAX];   /* SERVER_TRAFFIC_SECRET_0 (1.3) */
	uint8_t c_secret_len, s_secret_len;
	/* Record headers seen in each direction since its last Finished, and
	 * whether there was one. */
	uint64_t rd_after_fin, wr_after_fin;
	uint8_t rd_fin, wr_fin;
	uint8_t bad;                        /* a key-log line could not be parsed */
};

/* The SSL_CTX key-log callback: SSL_CTX_set_keylog_callback(ctx, tls_keylog_cb).
 * Only SSLs with a capture attached are affected; the line is never logged. */
void tls_keylog_cb(const SSL *ssl, const char *line);
/* Attach cap to ssl (ex_data and the message callback, which it takes over). 0 or -1. */
int tls_capture_attach(SSL *ssl, struct tls_capture *cap);
void tls_capture_clear(struct tls_capture *cap);

/* What the caller must do with OpenSSL's BIOs after tls_sess_from_ssl(). */
struct tls_handoff {
	size_t tx_pending;   /* bytes in the write BIO: send them before anything tls_seal*() makes */
	size_t rx_unread;    /* bytes in the read BIO that OpenSSL did not read: they begin the
	                        receive stream of tls_open() */
};

/*
 * Fill s from a server or client SSL whose SSL_do_handshake() returned 1,
 * with cap attached before its handshake. Clears cap. Refuses (TLS_E_HANDSHAKE)
 * an SSL that holds record bytes it read but did not process (read-ahead).
 * On success the SSL is marked shut down (SSL_set_shutdown) so that freeing
 * it keeps its session resumable; OpenSSL must not write on it any more.
 * Returns 0 or -TLS_E_*.
 */
int tls_sess_from_ssl(struct tls_sess *s, SSL *ssl, struct tls_capture *cap, struct tls_handoff *h);

/*
 * The same from the secrets (what tls_sess_from_ssl uses; also the tests').
 * TLS 1.3: the two application traffic secrets (hash_len bytes each).
 * TLS 1.2: the 48-byte master secret and the two 32-byte randoms.
 * The sequence numbers start at rd_seq / wr_seq.
 */
int tls_sess_init13(struct tls_sess *s, uint8_t role, uint16_t suite, const uint8_t *c_secret,
		    const uint8_t *s_secret, size_t secret_len, uint64_t rd_seq, uint64_t wr_seq);
int tls_sess_init12(struct tls_sess *s, uint8_t role, uint16_t suite, const uint8_t master[48],
		    const uint8_t client_random[32], const uint8_t server_random[32],
		    uint64_t rd_seq, uint64_t wr_seq);

/* 0 when s is a live session of a layout this code runs, else -TLS_E_STATE. */
int tls_sess_check(const struct tls_sess *s);

/* Zero everything, keys and secrets included (OPENSSL_cleanse). */
void tls_sess_wipe(struct tls_sess *s);

/* Exactly what tls_seal(s, ., n, ...) writes, including an owed KeyUpdate. */
size_t tls_seal_size(const struct tls_sess *s, size_t n);

/*
 * Protect n bytes of application data as ceil(n / 2^14) application_data
 * records (n = 0: none), preceded by our KeyUpdate when one is owed
 * (TLS_SF_KU_OWED) or due (TLS13_KU_RECORDS). All or nothing: returns the
 * bytes written to out, or -TLS_E_SPACE (cap < tls_seal_size) / -TLS_E_STATE /
 * -TLS_E_SEQ / -TLS_E_CRYPTO with s unchanged.
 */
ssize_t tls_seal(struct tls_sess *s, const uint8_t *plain, size_t n, uint8_t *out, size_t cap);

/* One alert record. A fatal alert or close_notify closes the write side. */
ssize_t tls_seal_alert(struct tls_sess *s, uint8_t level, uint8_t desc, uint8_t *out, size_t cap);

/* TLS 1.3: one KeyUpdate record (request_update 0 or 1), then the write side
 * moves to the next traffic secret. -TLS_E_UNSUPPORTED on 1.2. */
ssize_t tls_key_update_send(struct tls_sess *s, int request_update, uint8_t *out, size_t cap);

/* What tls_open() found. */
enum tls_open_status {
	TLS_OPEN_OK = 0,     /* all complete records consumed; the rest (if any) is a partial record */
	TLS_OPEN_SPACE,      /* stopped before a complete record whose plaintext does not fit in out */
	TLS_OPEN_CLOSED,     /* close_notify received (consumed includes it); nothing more is read */
	TLS_OPEN_PEER_ALERT, /* the peer sent a fatal alert (alert); the session is failed */
	TLS_OPEN_ERROR,      /* send alert_level/alert (tls_seal_alert), then close the stream */
};
struct tls_open_res {
	size_t consumed;     /* input bytes of complete records consumed: drop them from the stream */
	size_t out_len;      /* plaintext bytes written to out */
	uint8_t status;      /* enum tls_open_status */
	uint8_t alert_level; /* TLS_OPEN_ERROR: the alert to send; TLS_OPEN_PEER_ALERT: the peer's */
	uint8_t alert;
	uint8_t key_update;  /* a KeyUpdate was received (and applied) in this call */
};

/*
 * Verify and decrypt the complete records at the start of in[0..n): the
 * plaintext of application data records goes to out; handshake records
 * (1.3 KeyUpdate), alerts and errors are handled as their status says.
 * Stops at a partial record (consumed < n, status OK: call again with more
 * bytes appended to the unconsumed ones). Returns 0, or -TLS_E_STATE when s
 * is not a live readable session (r->status is then TLS_OPEN_ERROR).
 */
int tls_open(struct tls_sess *s, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
	     struct tls_open_res *r);

/* Free this thread's cipher context (one per thread, made on first use). */
void tls_rec_thread_done(void);

/* "bad_record_mac" etc., for logs. */
const char *tls_alert_name(uint8_t desc);

#endif /* PORTER_TLS_REC_H */
