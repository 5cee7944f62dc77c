/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-shard TLS area in the shard memzone (types only): one slot per TLS
 * session of the shard, and a map from TCP stream index to slot. The code is
 * secondary/tls/tls_io.c; docs/TLS.md ("Durable sessions") has the design.
 *
 * A slot holds what keeps an established session going after its worker is
 * killed or upgraded:
 *   - the record layer's state (struct tls_sess, shm/tls-t.h), twice: a step
 *     (open one record, seal one batch of records) writes the next state into
 *     the copy that is not current, does its TCP side effect, and flips `cur`;
 *   - the plaintext received and not yet read by the application, in a ring
 *     of ring_bytes (the area's) after the slot header: a record is opened
 *     only when its plaintext fits, written past `tail`, and becomes visible
 *     with the flip that also moves the record's ciphertext out of TCP's
 *     receive queue (rx_bytes);
 *   - where the record bytes start in each direction of the TCP stream
 *     (rx_tcp0 / tx_tcp0, 32-bit sequence positions after the handshake).
 *
 * The rule tying a slot to its TCP stream, which recovery restores:
 *   tcp_read_pos  == rx_tcp0 + v[cur].sess.rx_bytes   (mod 2^32)
 *   tcp_write_pos == tx_tcp0 + v[cur].sess.tx_bytes
 * A worker killed after a receive flip and before TCP consumed the record
 * leaves the read position behind: its successor consumes the difference. A
 * worker killed after TCP queued sealed records and before the flip leaves
 * the write position ahead by exactly the other copy's tx_bytes: the successor
 * flips. A worker killed inside tcp_send() leaves part of the records queued:
 * they were sealed into the area's stage and named by the send journal
 * (struct tls_txj) first, so the successor queues the rest, then flips.
 * Anything else is not a session this code can continue: the stream is reset.
 *
 * A handshake in progress lives in OpenSSL, in private memory: a slot in
 * TLS_SLOT_HANDSHAKE found at attach is a lost handshake and its stream is
 * reset (the client retries). Key material is in these slots only; a slot is
 * wiped (keys, secrets and plaintext zeroed) when its session ends.
 *
 * Like every type in the shard memzone: no pointers, fixed sizes, a magic and
 * layout numbers, reserved bytes to grow into (shm/porter-shm-t.h).
 */
#ifndef PORTER_TLS_AREA_T_H
#define PORTER_TLS_AREA_T_H

#include <stdint.h>

#include "shm/tls-t.h"

#define TLS_AREA_MAGIC        0x544c5341u   /* "TLSA" */
#define TLS_AREA_LAYOUT_MAJOR 2   /* 2: the slot header grew to 384 bytes (sni[256]) */
#define TLS_AREA_LAYOUT_MINOR 0
#define TLS_NIL               UINT32_MAX
#define TLS_DEAD              (UINT32_MAX - 1)   /* map: a TLS stream with no session (handshake over,
                                                    failed or closed): never plain TCP to the proxy */
#define TLS_RING_MIN          32768u        /* a 16 KiB head and a whole record */

enum tls_slot_state {
	TLS_SLOT_FREE = 0,
	TLS_SLOT_HANDSHAKE,               /* OpenSSL is running it (private memory) */
	TLS_SLOT_OPEN,                    /* established: the record layer runs from v[cur] */
};

/* One copy of a slot's mutable state; see the commit rule above. */
struct tls_slot_state_copy {
	struct tls_sess sess;             /* (0) */
	uint64_t tail;                    /* plaintext bytes ever written into the ring (384) */
	uint64_t reserved[7];             /* (392) */
};
_Static_assert(sizeof(struct tls_slot_state_copy) == 448, "tls slot copy is seven cache lines");

struct tls_slot {
	uint32_t stream;                  /* TCP stream index, TLS_NIL when free (0) */
	uint32_t iss;                     /* the stream's ISS and IRS: a reused index is another stream (4) */
	uint32_t irs;                     /* (8) */
	uint8_t state;                    /* enum tls_slot_state (12) */
	uint8_t cur;                      /* index of the current copy in v[] (13) */
	uint8_t cert;                     /* certificate SNI chose (index in the listener's list) (14) */
	uint8_t flags;                    /* TLS_SLOTF_* (15) */
	uint32_t rx_tcp0;                 /* TCP read position where records start (16) */
	uint32_t tx_tcp0;                 /* TCP write position where our records start (20) */
	uint64_t head;                    /* plaintext bytes the application consumed (single store) (24) */
	char sni[256];                    /* server name the client sent (RFC 6066: up to 255 bytes), for the
	                                     access log (32) */
	uint8_t reserved[96];             /* (288) */
	struct tls_slot_state_copy v[2];  /* (384) */
	/* then the ring: ring_bytes (the area's) of plaintext */
};
_Static_assert(sizeof(struct tls_slot) == 1280, "tls slot header is twenty cache lines");

enum {
	TLS_SLOTF_SHUT = 1u << 0,         /* close_notify queued: the write side is done */
};

/*
 * The send journal: records are sealed into the area's stage (shared memory)
 * and the journal names them before they are queued on TCP, so that a worker
 * killed inside tcp_send() (records cut between two segments) is finished by
 * its successor from the stage, then the slot flips. One send at a time per
 * shard; while one waits for buffers (ENOMEM part-way) the others wait too.
 */
#define TLS_STAGE_BYTES (4u * (16384u + 64u) + 256u)
struct tls_txj {
	volatile uint32_t active;         /* 1: stage[0..len) is being queued on `stream` (0) */
	uint32_t slot;                    /* its slot: flips once all of it is queued (4) */
	uint32_t stream;                  /* (8) */
	uint32_t iss;                     /* the stream's ISS: a reused index is another stream (12) */
	uint32_t wpos0;                   /* TCP write position before the first byte (16) */
	uint32_t len;                     /* bytes of the stage (20) */
	uint32_t reserved[2];             /* (24) */
};
_Static_assert(sizeof(struct tls_txj) == 32, "tls send journal size");

struct tls_area {
	uint32_t magic;                   /* TLS_AREA_MAGIC (0) */
	uint16_t layout_major, layout_minor;
	uint32_t max_slots;               /* slots after the map (8) */
	uint32_t max_streams;             /* entries of the map (the TCP area's max_streams) (12) */
	uint32_t ring_bytes;              /* plaintext ring per slot, a power of two (16) */
	uint32_t map_off;                 /* uint32_t map[max_streams]: stream -> slot, TLS_NIL, TLS_DEAD (20) */
	uint64_t slots_off;               /* first slot; slot i at slots_off + i * slot_bytes (24) */
	uint64_t slot_bytes;              /* sizeof(struct tls_slot) + ring_bytes (32) */
	/* counters, by the worker */
	uint64_t handshakes;              /* completed (40) */
	uint64_t handshake_failures;      /* OpenSSL refused the client, or the client sent garbage (48) */
	uint64_t handshakes_lost;         /* in progress when a worker died: stream reset (56) */
	uint64_t no_slot;                 /* TLS connections reset because every slot was taken (64) */
	uint64_t alerts_sent;             /* fatal alerts we sent on established sessions (72) */
	uint64_t alerts_rcvd;             /* fatal alerts the peers sent (80) */
	uint64_t resumed;                 /* sessions continued by a new worker at attach (88) */
	uint64_t reset_at_attach;         /* sessions whose TCP stream did not match: reset (96) */
	uint64_t key_updates;             /* TLS 1.3 KeyUpdates received (104) */
	uint64_t handshakes_resumed;      /* of the completed handshakes, those resumed from a ticket (112) */
	uint64_t stage_off;               /* the send stage: TLS_STAGE_BYTES of sealed records (120) */
	struct tls_txj txj;               /* the send in progress (128) */
	uint64_t reserved[13];            /* (160) */
};
_Static_assert(sizeof(struct tls_area) == 264, "tls area header size");

/* The area's counters, for porterctl status and /metrics: X(field, help). */
#define TLS_AREA_COUNTERS(X) \
	X(handshakes, "TLS handshakes completed.") \
	X(handshake_failures, "TLS handshakes refused or failed (bad ClientHello, no common suite, timeout).") \
	X(handshakes_lost, "TLS handshakes in progress when their worker died (the stream was reset).") \
	X(no_slot, "TLS connections reset because every TLS slot of the shard was taken.") \
	X(alerts_sent, "Fatal TLS alerts sent on established sessions.") \
	X(alerts_rcvd, "Fatal TLS alerts received on established sessions.") \
	X(resumed, "Established TLS sessions a new worker continued from shared memory.") \
	X(reset_at_attach, "TLS sessions a new worker found inconsistent with their TCP stream (reset).") \
	X(key_updates, "TLS 1.3 KeyUpdate messages received.") \
	X(handshakes_resumed, "TLS handshakes that resumed a session from a ticket (any shard's, any worker's).")

static inline uint32_t tls_ring_bytes_for(uint32_t max_header_bytes)
{
	uint32_t need = max_header_bytes + 16384u + 256u, r = TLS_RING_MIN;

	while (r < need && r < (1u << 30))
		r <<= 1;
	return r;
}

static inline uint64_t tls_area_bytes(uint32_t max_streams, uint32_t max_slots, uint32_t ring_bytes)
{
	uint64_t map_off = (sizeof(struct tls_area) + 63) & ~63ull;
	uint64_t stage_off = (map_off + (uint64_t)max_streams * 4 + 63) & ~63ull;
	uint64_t slots_off = (stage_off + TLS_STAGE_BYTES + 63) & ~63ull;

	if (max_slots == 0)
		return 0;
	return slots_off + (uint64_t)max_slots * (sizeof(struct tls_slot) + ring_bytes);
}

/* Lay out a zeroed area (the primary, at creation): every slot free, the map empty. */
static inline void tls_area_init(void *mem, uint32_t max_streams, uint32_t max_slots, uint32_t ring_bytes)
{
	struct tls_area *a = (struct tls_area *)mem;
	uint64_t map_off = (sizeof(struct tls_area) + 63) & ~63ull;
	uint32_t *map = (uint32_t *)((char *)mem + map_off);

	a->max_slots = max_slots;
	a->max_streams = max_streams;
	a->ring_bytes = ring_bytes;
	a->map_off = (uint32_t)map_off;
	a->stage_off = (map_off + (uint64_t)max_streams * 4 + 63) & ~63ull;
	a->slots_off = (a->stage_off + TLS_STAGE_BYTES + 63) & ~63ull;
	a->slot_bytes = sizeof(struct tls_slot) + ring_bytes;
	for (uint32_t i = 0; i < max_streams; i++)
		map[i] = TLS_NIL;
	for (uint32_t i = 0; i < max_slots; i++)
		((struct tls_slot *)((char *)mem + a->slots_off + (uint64_t)i * a->slot_bytes))->stream = TLS_NIL;
	a->layout_major = TLS_AREA_LAYOUT_MAJOR;
	a->layout_minor = TLS_AREA_LAYOUT_MINOR;
	__atomic_store_n(&a->magic, TLS_AREA_MAGIC, __ATOMIC_RELEASE);
}

#endif /* PORTER_TLS_AREA_T_H */
