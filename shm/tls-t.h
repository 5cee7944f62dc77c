/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS shared-memory types: the state of one established TLS session's record
 * layer (struct tls_sess). Types only; the code that runs on it is
 * secondary/tls/tls_rec.c, the design is docs/TLS-RECORD.md.
 *
 * A handshake runs in OpenSSL (private memory, lost on a kill: the client
 * retries). Once it has completed, everything needed to protect and verify
 * the session's later records is in this struct, as plain data: the AEAD,
 * the key, static IV and next record sequence number of each direction and,
 * for TLS 1.3, each direction's current traffic secret (a KeyUpdate derives
 * the next one from it, RFC 8446 §7.2). A worker that replaces a killed or
 * upgraded one continues every session from this struct alone.
 *
 * Like every type in the shard memzone (shm/tcp-t.h, shm/porter-shm-t.h):
 * no pointers, no function pointers, fixed sizes checked by _Static_assert,
 * a magic and a layout number, reserved bytes to grow into. Growth takes
 * bytes from a reserved area and bumps TLS_SESS_LAYOUT_MINOR; anything else
 * bumps TLS_SESS_LAYOUT_MAJOR.
 *
 * A partially received record is NOT copied in here. A record is up to
 * 5 + 2^14 + 256 bytes (TLS 1.3; 5 + 2^14 + 2048 allowed by TLS 1.2): a copy
 * would make every session cost 16 KiB+ of shared memory whether it is busy
 * or idle, and the bytes are already in shared memory, in the TCP receive
 * queue of the stream. So the record layer only ever consumes *complete*
 * records: tls_open() tells its caller how many input bytes it consumed, the
 * caller removes exactly those from the TCP receive queue, and a partial
 * record stays there until its last byte has arrived. The struct counts the
 * bytes consumed (rx_bytes) so that the caller can check, after a kill, that
 * its TCP queue and this state agree (see docs/TLS-RECORD.md, "Durability").
 * The one exception is the TLS 1.3 handshake layer: a KeyUpdate (5 bytes)
 * split over two records leaves up to 4 bytes of its header in hs_buf.
 *
 * Sizes: struct tls_dir 128 bytes, struct tls_sess 384 bytes (6 cache lines).
 */
#ifndef PORTER_TLS_T_H
#define PORTER_TLS_T_H

#include <stddef.h>
#include <stdint.h>

#define TLS_SESS_MAGIC         0x544c5352u   /* "TLSR" */
#define TLS_SESS_LAYOUT_MAJOR  1
#define TLS_SESS_LAYOUT_MINOR  0

#define TLS_KEY_MAX     32   /* AES-256 and ChaCha20 keys */
#define TLS_IV_LEN      12   /* every AEAD here has a 96-bit nonce */
#define TLS_SECRET_MAX  48   /* SHA-384 */

/* Protocol versions (the wire values). */
#define TLS_V12 0x0303
#define TLS_V13 0x0304

/* AEAD of a direction (tls_dir.aead). 0 is "none": an unused struct. */
enum tls_aead {
	TLS_AEAD_NONE = 0,
	TLS_AEAD_AES_128_GCM,
	TLS_AEAD_AES_256_GCM,
	TLS_AEAD_CHACHA20_POLY1305,
};

/* Hash of the suite (tls_sess.hash): HKDF's (1.3) or the PRF's (1.2). */
enum tls_hash {
	TLS_HASH_NONE = 0,
	TLS_HASH_SHA256,
	TLS_HASH_SHA384,
};

/* Role of the local end (tls_sess.role). */
enum tls_role {
	TLS_ROLE_SERVER = 0,
	TLS_ROLE_CLIENT = 1,
};

/* tls_sess.flags */
enum {
	TLS_SF_KU_OWED    = 1u << 0,  /* 1.3: the peer asked for a KeyUpdate (update_requested):
	                                 ours goes before our next application data record */
	TLS_SF_KU_ASKED   = 1u << 1,  /* 1.3: we sent update_requested and have not seen the peer's yet */
	TLS_SF_RX_CLOSED  = 1u << 2,  /* close_notify received: nothing more is read */
	TLS_SF_TX_CLOSED  = 1u << 3,  /* close_notify or a fatal alert sent: nothing more is sealed */
	TLS_SF_FAILED     = 1u << 4,  /* a fatal error (ours or the peer's alert): alert_* say which */
	TLS_SF_PEER_ALERT = 1u << 5,  /* alert_rcvd holds the peer's last alert */
	TLS_SF_ALERT_SENT = 1u << 6,  /* alert_sent holds the last alert we sealed */
};

/*
 * One direction's record protection. rd is peer -> us (verified and opened),
 * wr is us -> peer (sealed).
 *
 * Nonces: TLS 1.3 (RFC 8446 §5.3) and TLS 1.2 ChaCha20-Poly1305 (RFC 7905 §2):
 * iv XOR the 64-bit sequence number, left-padded to 12 bytes; iv_len = 12.
 * TLS 1.2 AES-GCM (RFC 5288 §3): iv[0..3] is the implicit salt (iv_len = 4),
 * the other 8 bytes of the nonce are the explicit nonce carried in each
 * record (we send the sequence number there; we read whatever the peer sent).
 */
struct tls_dir {
	uint64_t seq;                     /* next record's sequence number (0) */
	uint8_t key[TLS_KEY_MAX];         /* key_len bytes used (8) */
	uint8_t iv[TLS_IV_LEN];           /* static IV, or the 4-byte GCM salt of 1.2 (40) */
	uint8_t aead;                     /* enum tls_aead (52) */
	uint8_t key_len;                  /* 16 or 32 (53) */
	uint8_t iv_len;                   /* 12, or 4 for TLS 1.2 GCM (54) */
	uint8_t reserved_b;               /* (55) */
	uint32_t key_updates;             /* 1.3 KeyUpdates applied to this direction (56) */
	uint32_t reserved_w;              /* (60) */
	uint8_t secret[TLS_SECRET_MAX];   /* 1.3 current traffic secret, hash_len bytes; zero in 1.2 (64) */
	uint64_t records;                 /* records sealed / opened since take-over (112) */
	uint64_t reserved;                /* (120) */
};
_Static_assert(sizeof(struct tls_dir) == 128, "tls_dir is two cache lines");
_Static_assert(offsetof(struct tls_dir, key) == 8 && offsetof(struct tls_dir, iv) == 40 &&
	       offsetof(struct tls_dir, aead) == 52 && offsetof(struct tls_dir, secret) == 64 &&
	       offsetof(struct tls_dir, records) == 112, "tls_dir layout");

struct tls_sess {
	uint32_t magic;                   /* TLS_SESS_MAGIC while the session lives (0) */
	uint8_t layout_major;             /* TLS_SESS_LAYOUT_MAJOR (4) */
	uint8_t layout_minor;             /* TLS_SESS_LAYOUT_MINOR (5) */
	uint16_t version;                 /* TLS_V12 or TLS_V13 (6) */
	uint16_t suite;                   /* IANA cipher suite, e.g. 0x1301, 0xc02f (8) */
	uint8_t hash;                     /* enum tls_hash (10) */
	uint8_t hash_len;                 /* 32 or 48 (11) */
	uint8_t role;                     /* enum tls_role (12) */
	uint8_t hs_len;                   /* 1.3: bytes of a split handshake message in hs_buf (13) */
	uint16_t flags;                   /* TLS_SF_* (14) */
	uint8_t alert_sent;               /* last alert description sealed, TLS_SF_ALERT_SENT (16) */
	uint8_t alert_rcvd;               /* last alert description received, TLS_SF_PEER_ALERT (17) */
	uint8_t alert_level;              /* level of the alert the caller must send (tls_open error) (18) */
	uint8_t alert_pending;            /* description of that alert (19) */
	uint8_t hs_buf[4];                /* 1.3: the start of a handshake message split over records (20) */
	uint64_t rx_bytes;                /* receive stream bytes consumed as complete records (24) */
	uint64_t tx_bytes;                /* record bytes produced by tls_seal* (32) */
	uint64_t rx_plain;                /* application data bytes opened (40) */
	uint64_t tx_plain;                /* application data bytes sealed (48) */
	uint8_t reserved0[8];             /* (56) */
	struct tls_dir rd;                /* peer -> us (64) */
	struct tls_dir wr;                /* us -> peer (192) */
	uint8_t reserved[64];             /* (320) */
};
_Static_assert(sizeof(struct tls_sess) == 384, "tls_sess is six cache lines");
_Static_assert(offsetof(struct tls_sess, version) == 6 && offsetof(struct tls_sess, flags) == 14 &&
	       offsetof(struct tls_sess, hs_buf) == 20 && offsetof(struct tls_sess, rx_bytes) == 24 &&
	       offsetof(struct tls_sess, rd) == 64 && offsetof(struct tls_sess, wr) == 192 &&
	       offsetof(struct tls_sess, reserved) == 320, "tls_sess layout");

#endif /* PORTER_TLS_T_H */
