/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The client table and its token buckets (secondary/tcp/climit.c), on a fake
 * clock: rates counted over long windows, bursts, refusals and their waits,
 * the eviction rule, memory per entry.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "secondary/tcp/climit.h"
#include "secondary/tcp/tcp_isn.h"

#define MS 1000000ull   /* ns */

static struct climit T;

static void fini(void)
{
	climit_free(&T);
}

TestSuite(climit_bucket);
TestSuite(climit_table, .fini = fini);

/* Takes from a bucket of RATE/BURST tried every STEP ns for SPAN ns from a full bucket. */
static uint32_t takes(uint32_t rate, uint32_t burst, uint64_t step, uint64_t span)
{
	struct climit_rate r = { CLIMIT_NS / rate, (uint64_t)(burst - 1) * (CLIMIT_NS / rate) };
	uint64_t tat = 0, t0 = 1000 * CLIMIT_NS;
	uint32_t n = 0;

	for (uint64_t t = t0; t < t0 + span; t += step)
		n += climit_take(&tat, &r, t, NULL);
	return n;
}

Test(climit_bucket, burst_then_the_rate)
{
	/* 10/s, burst 3, tried every ms for 10 s: 3 at once, then one each 100 ms (t = 100 .. 9900) */
	cr_assert_eq(takes(10, 3, MS, 10000 * MS), 3 + 99);
	/* burst 1: exactly the rate */
	cr_assert_eq(takes(10, 1, MS, 10000 * MS), 100);
	/* a rate that does not divide a second: 3/s for 100 s */
	cr_assert_eq(takes(3, 1, MS, 100000 * MS), 300);
	/* the largest rate, tried every 100 ns for 10 ms: one per microsecond */
	cr_assert_eq(takes(1000000, 1, 100, 10 * MS), 10000);
	/* a burst larger than the rate: 1/s, burst 50, tried every 10 ms for 10 s */
	cr_assert_eq(takes(1, 50, 10 * MS, 10000 * MS), 50 + 9);
	/* tried less often than the rate: every try succeeds */
	cr_assert_eq(takes(100, 1, 20 * MS, 1000 * MS), 50);
}

Test(climit_bucket, refusal_and_its_wait)
{
	struct climit_rate r = { 100 * MS, 2 * 100 * MS };   /* 10/s, burst 3 */
	uint64_t tat = 0, now = 5000 * MS, wait = 0;

	cr_assert_eq(climit_tokens(tat, &r, 3, now), 3);
	for (int i = 0; i < 3; i++)
		cr_assert(climit_take(&tat, &r, now, &wait));
	cr_assert_eq(climit_tokens(tat, &r, 3, now), 0);
	cr_assert_not(climit_take(&tat, &r, now, &wait));
	cr_assert_eq(wait, 100 * MS, "wait %lu", (unsigned long)wait);
	/* a refusal takes nothing: 40 ms on, 60 ms to wait */
	cr_assert_not(climit_take(&tat, &r, now + 40 * MS, &wait));
	cr_assert_eq(wait, 60 * MS);
	cr_assert(climit_take(&tat, &r, now + 100 * MS, &wait));
	cr_assert_not(climit_take(&tat, &r, now + 100 * MS, &wait));
	/* refilled at the rate: one token per 100 ms, at most the burst */
	cr_assert_eq(climit_tokens(tat, &r, 3, now + 250 * MS), 1);
	cr_assert_eq(climit_tokens(tat, &r, 3, now + 300 * MS), 2);
	cr_assert_eq(climit_tokens(tat, &r, 3, now + 400 * MS), 3);
	cr_assert_eq(climit_tokens(tat, &r, 3, now + 99999 * MS), 3);
	/* no limit: always */
	struct climit_rate none = { 0, 0 };
	for (int i = 0; i < 1000; i++)
		cr_assert(climit_take(&tat, &none, now, NULL));
}

Test(climit_table, lookups)
{
	struct climit_entry *e, *f;
	enum climit_room room;

	cr_assert_eq(climit_init(&T, 4096), 0);
	cr_assert_null(climit_find(&T, 0x0a000001));
	e = climit_get(&T, 0x0a000001, 0, &room);
	cr_assert_not_null(e);
	cr_assert_eq(room, CLIMIT_NEW);
	cr_assert_eq(e->addr, 0x0a000001u);
	cr_assert_eq(e->conns, 0);
	e->conns = 5;
	f = climit_get(&T, 0x0a000001, 0, &room);
	cr_assert_eq(f, e);
	cr_assert_eq(room, CLIMIT_FOUND);
	cr_assert_eq(climit_find(&T, 0x0a000001), e);
	cr_assert_eq(T.used, 1);
	/* 0.0.0.0 is nobody */
	cr_assert_null(climit_get(&T, 0, 0, &room));
	cr_assert_eq(room, CLIMIT_FULL);
	/* sizes: a power of two of at least one set */
	struct climit u;
	cr_assert_eq(climit_init(&u, 1000), -EINVAL);
	cr_assert_eq(climit_init(&u, 4), -EINVAL);
	cr_assert_eq(climit_init(&u, 8), 0);
	cr_assert_eq(u.sets, 1);
	climit_free(&u);
	/* memory: 24 bytes an entry, nothing else per client */
	cr_assert_eq(sizeof(struct climit_entry), 24);
	cr_assert_eq(climit_bytes(65536), 1536 * 1024);
	/* 100 addresses holding streams in a table of 4096 (512 sets of 8, keyed at random:
	 * that one set overflows has odds below 1e-9) are all found again */
	for (uint32_t a = 1; a <= 100; a++) {
		e = climit_get(&T, 0x0b000000 + a, 0, &room);
		cr_assert_not_null(e);
		e->conns = 1;
	}
	for (uint32_t a = 1; a <= 100; a++)
		cr_assert_eq(climit_find(&T, 0x0b000000 + a)->addr, 0x0b000000 + a);
	cr_assert_eq(T.used, 101);
}

Test(climit_table, key_is_drawn_per_table)
{
	struct climit u;
	unsigned int differ = 0;

	cr_assert_eq(climit_init(&T, 1024), 0);
	cr_assert_eq(climit_init(&u, 1024), 0);
	cr_assert(memcmp(T.key, u.key, sizeof(T.key)) != 0);
	/* which addresses share a set is not the same from one table (one worker) to the next */
	for (uint32_t a = 1; a <= 64; a++) {
		uint32_t x = 0x0a000000 + a;

		differ += ((uint32_t)tcp_siphash(T.key, &x, 4) & (T.sets - 1)) !=
			  ((uint32_t)tcp_siphash(u.key, &x, 4) & (u.sets - 1));
	}
	cr_assert_gt(differ, 32);
	climit_free(&u);
}

/* A table of one set: every address competes for the same CLIMIT_WAYS entries. */
static void one_set(const struct climit_params *p)
{
	cr_assert_eq(climit_init(&T, CLIMIT_WAYS), 0);
	cr_assert_eq(T.sets, 1);
	climit_set(&T, p);
}

static struct climit_entry *get(uint32_t addr, uint64_t now, enum climit_room want)
{
	enum climit_room room;
	struct climit_entry *e = climit_get(&T, addr, now, &room);

	cr_assert_eq(room, want, "address %#x: room %d, expected %d", addr, room, want);
	return e;
}

Test(climit_table, entries_with_streams_are_never_given_away)
{
	struct climit_params p = { .max_conns = 2 };

	one_set(&p);
	for (uint32_t a = 1; a <= CLIMIT_WAYS; a++)
		get(a, 0, CLIMIT_NEW)->conns = 1;
	/* a ninth address finds no room: not tracked */
	cr_assert_null(get(100, 0, CLIMIT_FULL));
	cr_assert_null(get(101, 10 * CLIMIT_NS, CLIMIT_FULL));
	for (uint32_t a = 1; a <= CLIMIT_WAYS; a++)
		cr_assert_eq(climit_find(&T, a)->conns, 1);
	/* one of them closes its stream: its entry holds nothing any more */
	climit_find(&T, 3)->conns = 0;
	cr_assert_not_null(get(100, 0, CLIMIT_NEW));
	cr_assert_null(climit_find(&T, 3));
	cr_assert_eq(T.used, CLIMIT_WAYS);
}

Test(climit_table, idle_entries_are_reused_before_any_eviction)
{
	struct climit_params p = { .conn_rate = 10, .conn_burst = 5, .req_rate = 100, .req_burst = 100 };
	uint64_t now = 100 * CLIMIT_NS;

	one_set(&p);
	for (uint32_t a = 1; a <= CLIMIT_WAYS; a++) {
		struct climit_entry *e = get(a, now, CLIMIT_NEW);

		cr_assert(climit_take(&e->conn_tat, &T.conn, now, NULL));   /* 100 ms of debt each */
	}
	/* while they owe, a new address evicts one */
	get(50, now, CLIMIT_EVICTED);
	/* 100 ms on, the others are full again: taken with no eviction */
	for (uint32_t a = 60; a < 60 + CLIMIT_WAYS - 1; a++)
		get(a, now + 100 * MS, CLIMIT_NEW);
}

/*
 * The eviction rule against an attacker: X has emptied its bucket (it is
 * being limited). New addresses keep coming (each spending one token); the
 * entry that owes least goes each time, never X, until the other entries owe
 * as much as X does.
 */
Test(climit_table, eviction_spares_the_address_that_owes_most)
{
	struct climit_params p = { .req_rate = 10, .req_burst = 20 };
	uint64_t now = 100 * CLIMIT_NS;
	const uint32_t X = 0x0a0000aa;
	struct climit_entry *x;
	uint32_t evictions = 0;

	one_set(&p);
	x = get(X, now, CLIMIT_NEW);
	while (climit_take(&x->req_tat, &T.req, now, NULL))
		;
	cr_assert_eq(climit_tokens(x->req_tat, &T.req, 20, now), 0);
	for (uint32_t a = 1; a <= 10000; a++) {
		enum climit_room room;
		struct climit_entry *e = climit_get(&T, 0x0b000000 + a, now, &room);

		cr_assert_not_null(e);
		evictions += room == CLIMIT_EVICTED;
		cr_assert(climit_take(&e->req_tat, &T.req, now, NULL));   /* a new address has its burst */
		cr_assert_not_null(climit_find(&T, X), "X evicted by the %u-th new address", a);
		cr_assert_eq(climit_tokens(climit_find(&T, X)->req_tat, &T.req, 20, now), 0);
	}
	cr_assert_geq(evictions, 10000 - CLIMIT_WAYS);
	/* the other seven empty their buckets too: only then may X go (the oldest debt first) */
	for (unsigned int w = 0; w < CLIMIT_WAYS; w++) {
		struct climit_entry *e = &T.e[w];

		if (e->addr == X)
			continue;
		while (climit_take(&e->req_tat, &T.req, now, NULL))
			;
	}
	x = climit_find(&T, X);
	cr_assert_not_null(x);
	/* X owes exactly what the others owe: X goes only if its debt is the smallest */
	get(0x0c000001, now, CLIMIT_EVICTED);
}

Test(climit_table, new_limits_refill_changed_buckets_only)
{
	struct climit_params p = { .conn_rate = 1, .conn_burst = 1, .req_rate = 1, .req_burst = 1 };
	uint64_t now = 100 * CLIMIT_NS;
	struct climit_entry *e;

	one_set(&p);
	e = get(7, now, CLIMIT_NEW);
	cr_assert(climit_take(&e->conn_tat, &T.conn, now, NULL));
	cr_assert(climit_take(&e->req_tat, &T.req, now, NULL));
	cr_assert_not(climit_take(&e->conn_tat, &T.conn, now, NULL));
	cr_assert_not(climit_take(&e->req_tat, &T.req, now, NULL));
	/* the same limits again (a reload that changed routes): nothing moves */
	climit_set(&T, &p);
	cr_assert_not(climit_take(&e->conn_tat, &T.conn, now, NULL));
	cr_assert_not(climit_take(&e->req_tat, &T.req, now, NULL));
	/* a new request rate: that bucket starts full, the other keeps its debt */
	p.req_rate = 5;
	p.req_burst = 5;
	climit_set(&T, &p);
	cr_assert_not(climit_take(&e->conn_tat, &T.conn, now, NULL));
	for (int i = 0; i < 5; i++)
		cr_assert(climit_take(&e->req_tat, &T.req, now, NULL));
	cr_assert_not(climit_take(&e->req_tat, &T.req, now, NULL));
	/* a rate turned off: no limit */
	p.req_rate = 0;
	climit_set(&T, &p);
	cr_assert(climit_take(&e->req_tat, &T.req, now, NULL));
}
