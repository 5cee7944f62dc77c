/* SPDX-License-Identifier: BSD-3-Clause */
/* The shard's table of client addresses and their token buckets (climit.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "secondary/tcp/climit.h"
#include "secondary/tcp/tcp_isn.h"

static void rate_of(struct climit_rate *r, uint32_t rate, uint32_t burst)
{
	if (rate == 0) {
		r->t = r->tau = 0;
		return;
	}
	r->t = CLIMIT_NS / rate;
	r->tau = (uint64_t)(burst ? burst - 1 : 0) * r->t;
}

uint64_t climit_bytes(uint32_t entries)
{
	return (uint64_t)entries * sizeof(struct climit_entry);
}

int climit_init(struct climit *t, uint32_t entries)
{
	memset(t, 0, sizeof(*t));
	if (entries < CLIMIT_WAYS || (entries & (entries - 1)))
		return -EINVAL;
	t->e = calloc(entries, sizeof(*t->e));
	if (t->e == NULL)
		return -ENOMEM;
	t->sets = entries / CLIMIT_WAYS;
	if (getrandom(t->key, sizeof(t->key), 0) != sizeof(t->key)) {
		/* never short for 16 bytes once the pool is ready; the clock is a poor but working key */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		memcpy(t->key, &ts, sizeof(t->key) < sizeof(ts) ? sizeof(t->key) : sizeof(ts));
	}
	return 0;
}

void climit_free(struct climit *t)
{
	free(t->e);
	t->e = NULL;
	t->sets = t->used = 0;
}

void climit_set(struct climit *t, const struct climit_params *p)
{
	bool conn = p->conn_rate != t->prm.conn_rate || p->conn_burst != t->prm.conn_burst;
	bool req = p->req_rate != t->prm.req_rate || p->req_burst != t->prm.req_burst;

	t->prm = *p;
	rate_of(&t->conn, p->conn_rate, p->conn_burst);
	rate_of(&t->req, p->req_rate, p->req_burst);
	/* a debt counted at another rate means nothing at this one: start full */
	if (conn || req)
		for (uint64_t i = 0; i < (uint64_t)t->sets * CLIMIT_WAYS; i++) {
			/* stores only where there is something: pages no address touched stay unallocated */
			if (conn && t->e[i].conn_tat)
				t->e[i].conn_tat = 0;
			if (req && t->e[i].req_tat)
				t->e[i].req_tat = 0;
		}
}

static struct climit_entry *set_of(const struct climit *t, uint32_t addr)
{
	uint32_t h = (uint32_t)tcp_siphash(t->key, &addr, sizeof(addr));

	return &t->e[(uint64_t)(h & (t->sets - 1)) * CLIMIT_WAYS];
}

struct climit_entry *climit_find(struct climit *t, uint32_t addr)
{
	struct climit_entry *s;

	if (t->e == NULL || addr == 0)
		return NULL;
	s = set_of(t, addr);
	for (unsigned int w = 0; w < CLIMIT_WAYS; w++)
		if (s[w].addr == addr)
			return &s[w];
	return NULL;
}

/* When both buckets of E are full again (ns). */
static uint64_t full_at(const struct climit_entry *e)
{
	return e->conn_tat > e->req_tat ? e->conn_tat : e->req_tat;
}

struct climit_entry *climit_get(struct climit *t, uint32_t addr, uint64_t now_ns, enum climit_room *room)
{
	struct climit_entry *s, *take = NULL, *debtor = NULL;

	*room = CLIMIT_FULL;
	if (t->e == NULL || addr == 0)
		return NULL;
	s = set_of(t, addr);
	for (unsigned int w = 0; w < CLIMIT_WAYS; w++) {
		struct climit_entry *e = &s[w];

		if (e->addr == addr) {
			*room = CLIMIT_FOUND;
			return e;
		}
		if (take != NULL || e->conns != 0)
			continue;   /* holds streams: never given away */
		if (e->addr == 0 || full_at(e) <= now_ns)
			take = e;   /* holds nothing anyone could miss */
		else if (debtor == NULL || full_at(e) < full_at(debtor))
			debtor = e;
	}
	if (take != NULL) {
		*room = CLIMIT_NEW;
	} else if (debtor != NULL) {
		take = debtor;
		*room = CLIMIT_EVICTED;
	} else {
		return NULL;
	}
	if (take->addr == 0)
		t->used++;
	take->addr = addr;
	take->conns = 0;
	take->conn_tat = take->req_tat = 0;
	return take;
}

bool climit_take(uint64_t *tat, const struct climit_rate *r, uint64_t now_ns, uint64_t *wait_ns)
{
	uint64_t start = *tat > now_ns ? *tat : now_ns;

	if (r->t == 0)
		return true;
	/* start - now is what the bucket owes: at most tau leaves a token */
	if (start - now_ns > r->tau) {
		if (wait_ns != NULL)
			*wait_ns = start - now_ns - r->tau;
		return false;
	}
	*tat = start + r->t;
	return true;
}

bool climit_ready(uint64_t tat, const struct climit_rate *r, uint64_t now_ns)
{
	return r->t == 0 || tat <= now_ns || tat - now_ns <= r->tau;
}

uint32_t climit_tokens(uint64_t tat, const struct climit_rate *r, uint32_t burst, uint64_t now_ns)
{
	uint64_t debt = tat > now_ns ? tat - now_ns : 0, room = (uint64_t)burst * r->t;

	if (r->t == 0)
		return burst;
	return debt >= room ? 0 : (uint32_t)((room - debt) / r->t);
}

void climit_clear_conns(struct climit *t)
{
	for (uint64_t i = 0; i < (uint64_t)t->sets * CLIMIT_WAYS; i++)
		if (t->e[i].conns)
			t->e[i].conns = 0;   /* (as in climit_set) */
}
