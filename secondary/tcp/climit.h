/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shard's table of client addresses (client_limits, docs/CONFIG.md): per
 * IPv4 address, the streams it holds and two token buckets (new connections,
 * HTTP requests). Private memory of the worker: a restarted worker counts the
 * streams again from the TCBs (tcp_climit_recount) and starts every bucket
 * full.
 *
 * Shape: a fixed array of sets of CLIMIT_WAYS entries; an address lives in the
 * set its keyed hash names (SipHash under a key drawn at creation, so nobody
 * outside knows which addresses share a set). Nothing is allocated per client;
 * a lookup reads one set. When a new address finds its set full, it takes:
 *   1. a free entry, or one that holds nothing (no stream, both buckets
 *      full again): forgetting it changes no one's limit;
 *   2. else, among the entries with no stream, the one whose buckets fill up
 *      first (the smallest debt): an eviction, counted. Its address starts
 *      with full buckets when it comes back, so an attacker who wants to lift
 *      address X's rate limit this way must fill X's (unknown) set with
 *      addresses that each owe more than X does: about table_size addresses
 *      each spending X's debt in tokens, within the time X's buckets take to
 *      refill, to win X one bucket's worth;
 *   3. never an entry that holds streams: its count is exact, and a stream
 *      needs a TCB, so such entries are at most the shard's streams. A new
 *      address whose set holds 8 addresses with streams is not tracked (not
 *      limited) and the caller counts that.
 *
 * Buckets are kept as GCRA's theoretical arrival time (ITU-T I.371 virtual
 * scheduling), one 64-bit time per bucket: the time at which the bucket is
 * full again. With rate R and burst B, a take at NOW succeeds when
 * tat - NOW <= (B - 1) * T, T = 1/R, and then tat = max(tat, NOW) + T: B takes
 * back to back from a full bucket, then one every T, exactly a token bucket of
 * B tokens refilled at R per second.
 */
#ifndef PORTER_CLIMIT_H
#define PORTER_CLIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define CLIMIT_WAYS 8                   /* entries per set */
#define CLIMIT_NS   1000000000ull

/* The limits the table enforces (config client_limits); 0 = no limit. */
struct climit_params {
	uint32_t max_conns;
	uint32_t conn_rate, conn_burst;     /* per second; burst >= 1 when rate > 0 */
	uint32_t req_rate, req_burst;
};

struct climit_entry {
	uint32_t addr;                  /* host order; 0 = free (0.0.0.0 is no client: the primary drops it) */
	uint32_t conns;                 /* streams counted for it (TF_CLIMIT) */
	uint64_t conn_tat;              /* ns: when the connection bucket is full again */
	uint64_t req_tat;               /* ns: when the request bucket is full again */
};

/* One bucket's derived constants (ns). */
struct climit_rate {
	uint64_t t;                     /* emission interval, 1 s / rate; 0 = no limit */
	uint64_t tau;                   /* (burst - 1) * t */
};

struct climit {
	struct climit_entry *e;         /* sets * CLIMIT_WAYS entries */
	uint32_t sets;                  /* power of two */
	uint32_t used;                  /* entries with an address */
	uint8_t key[16];
	struct climit_params prm;
	struct climit_rate conn, req;
};

/* What climit_get() did to find room. */
enum climit_room {
	CLIMIT_FOUND = 0,               /* the address was there */
	CLIMIT_NEW,                     /* a free or idle entry */
	CLIMIT_EVICTED,                 /* an entry with a running bucket was evicted */
	CLIMIT_FULL,                    /* no room: every entry of the set holds streams (NULL) */
};

/* ENTRIES (a power of two >= CLIMIT_WAYS) entries, buckets full, key from getrandom(). 0 or -ENOMEM/-EINVAL. */
int climit_init(struct climit *t, uint32_t entries);
void climit_free(struct climit *t);
/* Bytes of private memory of a table of ENTRIES. */
uint64_t climit_bytes(uint32_t entries);

/* New limits. A bucket whose rate or burst changed starts full for every address. */
void climit_set(struct climit *t, const struct climit_params *p);

/* The entry of ADDR, or NULL. */
struct climit_entry *climit_find(struct climit *t, uint32_t addr);

/* The entry of ADDR, made if need be (rule above); NULL when there is no room. *ROOM says how. */
struct climit_entry *climit_get(struct climit *t, uint32_t addr, uint64_t now_ns, enum climit_room *room);

/*
 * Take one token from bucket *TAT of rate R at NOW_NS. True when there was
 * one. When not, *WAIT_NS (if not NULL) gets the time until there is one.
 * A rate with t == 0 (no limit) always gives.
 */
bool climit_take(uint64_t *tat, const struct climit_rate *r, uint64_t now_ns, uint64_t *wait_ns);

/* Would climit_take() give a token now? (takes nothing) */
bool climit_ready(uint64_t tat, const struct climit_rate *r, uint64_t now_ns);

/* Tokens bucket *TAT holds at NOW_NS (for tests and figures). */
uint32_t climit_tokens(uint64_t tat, const struct climit_rate *r, uint32_t burst, uint64_t now_ns);

/* Forget every stream count (a recount follows); buckets stay. */
void climit_clear_conns(struct climit *t);

#endif
