/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TLS listeners' settings as the workers read them: memzone porter_tls
 * (types only; docs/TLS.md "How the workers get the settings").
 *
 * Workers do not read the configuration file: the primary copies here, for
 * every listener that has `tls`, what secondary/tls/tls_conf.c needs to build
 * its SSL_CTX (versions, suites, ALPN, which certificates) and the
 * certificates' settings themselves (the cert and key paths as the parser
 * resolved them, the SNI names). The PEM files are not copied: each worker
 * reads them when it builds a generation's contexts (secondary/tls/tls_pub.c),
 * and checks them again as the parser did.
 *
 * Like porter_proxy (shm/proxy-t.h) it holds two copies: the primary writes
 * the one that is not active (at start-up copy 0, generation 1), then
 * publishes it by storing its index in `active` and its generation in
 * `generation` (release order). The generation is the proxy configuration's
 * of the same reload, and a reload publishes this region before the proxy's:
 * a worker that has seen proxy generation G can find TLS generation G here.
 * A worker notices a new generation with one load of `generation`, copies the
 * active copy out and checks that `generation` did not move meanwhile (a
 * second reload may be rewriting the copy it read).
 *
 * The certificates are config/config-t.h's struct porter_cfg_tls_cert, plain
 * data, copied whole: that struct is part of this layout (its size is
 * asserted below and in shm/layout_check.c). Growth takes bytes from the
 * reserved areas and bumps PORTER_LAYOUT_MINOR (shm/porter-shm-t.h).
 */
#ifndef PORTER_TLS_PUB_T_H
#define PORTER_TLS_PUB_T_H

#include <stdint.h>

#include "config/config-t.h"
#include "shm/porter-shm-t.h"

#define PORTER_MZ_TLS "porter_tls"

#define PORTER_TLS_PUB_MAX_LISTENERS 32   /* = PORTER_MAX_LISTENERS: every listener may have tls */
#define PORTER_TLS_PUB_MAX_CIPHERS   16   /* room for suites config-t.h may add */

/*
 * One listener that has tls: its porter_cfg_listener tls_* fields. `index` is
 * the listener's position in the configuration's listeners[] (and in
 * porter_global.listeners[]), so that a worker's error messages name the same
 * listeners[i] as the parser's.
 */
struct porter_tls_pub_listener {
	uint16_t port;                    /* listeners[i].port (0) */
	uint8_t index;                    /* i (2) */
	uint8_t tls_protocols;            /* PORTER_TLS_V1_2 | PORTER_TLS_V1_3 (3) */
	uint8_t tls_alpn;                 /* PORTER_TLS_ALPN_* bits, 0 = no ALPN (4) */
	uint8_t tls_cipher_count;         /* entries of tls_ciphers used (5) */
	uint8_t tls_cert_first;           /* the listener's certificates: tls_certs[first .. first + count) (6) */
	uint8_t tls_cert_count;           /*   the first is the default (7) */
	uint8_t tls_ciphers[PORTER_TLS_PUB_MAX_CIPHERS]; /* enum porter_tls_cipher, preference order (8) */
	uint8_t reserved[8];              /* (24) */
};
_Static_assert(sizeof(struct porter_tls_pub_listener) == 32, "porter_tls_pub_listener is part of the layout");
_Static_assert(PORTER_TLS_CIPHER_COUNT <= PORTER_TLS_PUB_MAX_CIPHERS, "every suite fits in a published listener");
_Static_assert(PORTER_CFG_MAX_LISTENERS <= PORTER_TLS_PUB_MAX_LISTENERS, "every listener fits");
_Static_assert(PORTER_CFG_MAX_LISTENERS <= 256, "a listener's index fits its uint8_t");
_Static_assert(PORTER_CFG_MAX_TLS_CERTS <= 256, "a certificate's index fits its uint8_t");

/* One copy: the TLS settings of one configuration generation. */
struct porter_tls_pub_conf {
	uint64_t generation;              /* of this copy (the proxy configuration's of the same load) (0) */
	uint32_t listener_count;          /* entries of listeners[] used: the listeners that have tls (8) */
	uint32_t tls_cert_count;          /* entries of tls_certs[] used (12) */
	char path[PORTER_CFG_PATH_LEN];   /* the configuration file: the worker's error messages start with it (16) */
	struct porter_tls_pub_listener listeners[PORTER_TLS_PUB_MAX_LISTENERS];   /* in listener order (272) */
	struct porter_cfg_tls_cert tls_certs[PORTER_CFG_MAX_TLS_CERTS];           /* porter_config.tls_certs (1296) */
	uint8_t reserved[28672 - 1296 - PORTER_CFG_MAX_TLS_CERTS * sizeof(struct porter_cfg_tls_cert)];
} PORTER_ALIGNED;

/*
 * Session-ticket keys (RFC 5077 tickets, TLS 1.3 PSK tickets), the same for
 * every shard and every worker binary, so that a client resumes on whichever
 * shard its next connection lands and after any restart of a worker. The
 * primary draws a new key every PORTER_TLS_TICKET_ROTATE_S seconds into the
 * slot after the current one and then moves `current` (one store); a ticket
 * made under either of the two previous keys is still accepted, then renewed
 * under the current one. A worker reading the slot being overwritten decrypts
 * garbage and falls back to a full handshake: never a wrong session.
 * Key material: the memzone's hugepage file is readable by root only
 * (docs/TLS.md, "Key material").
 */
#define PORTER_TLS_TICKET_KEYS      3
#define PORTER_TLS_TICKET_ROTATE_S  3600
struct porter_tls_ticket_key {
	uint8_t name[16];                 /* the ticket's key_name: which key made it (0) */
	uint8_t aes[32];                  /* AES-256-CBC key (16) */
	uint8_t hmac[32];                 /* HMAC-SHA256 key (48) */
	uint64_t created_s;               /* wall clock, seconds (80) */
	uint64_t reserved;                /* (88) */
};
struct porter_tls_tickets {
	volatile uint32_t current;        /* slot of the key new tickets use (0) */
	uint32_t reserved0;
	volatile uint64_t rotations;      /* keys drawn since the start (8) */
	uint64_t reserved1[6];            /* (16) */
	struct porter_tls_ticket_key key[PORTER_TLS_TICKET_KEYS];   /* (64) */
	uint8_t reserved[64];             /* (352) */
};
_Static_assert(sizeof(struct porter_tls_ticket_key) == 96, "ticket key size");
_Static_assert(sizeof(struct porter_tls_tickets) == 416, "ticket keys size");

struct porter_tls_pub {
	struct porter_shm_hdr hdr;
	volatile uint32_t active PORTER_ALIGNED;  /* index of the published copy */
	uint32_t reserved0;
	volatile uint64_t generation;     /* of the published copy (1 = the start-up configuration) */
	uint32_t reserved1[12];
	struct porter_tls_pub_conf conf[2];
	struct porter_tls_tickets tickets PORTER_ALIGNED;   /* written by the primary only */
} PORTER_ALIGNED;

_Static_assert(sizeof(struct porter_cfg_tls_cert) == 1540, "config tls_cert struct is part of the shm layout");
_Static_assert(sizeof(struct porter_tls_pub_conf) == 28672, "porter_tls_pub_conf size is part of the layout");
_Static_assert(__builtin_offsetof(struct porter_tls_pub_conf, listeners) == 272 &&
	       __builtin_offsetof(struct porter_tls_pub_conf, tls_certs) == 1296, "porter_tls_pub_conf layout");
_Static_assert(sizeof(struct porter_tls_pub) == 128 + 2 * 28672 + 448, "porter_tls_pub size is part of the layout");

#endif
