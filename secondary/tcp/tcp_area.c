/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shard's TCP area: layout, TCB slab (free list through h_next), 4-tuple
 * lookup (chained hash of TCB indices), listeners, names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "secondary/tcp/tcp_priv.h"

static uint32_t tuple_hash(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	uint64_t h = ((uint64_t)raddr << 32 | laddr) * 0x9e3779b97f4a7c15ull;

	h ^= ((uint64_t)rport << 16 | lport) * 0xc2b2ae3d27d4eb4full;
	return (uint32_t)(h ^ (h >> 29) ^ (h >> 41));
}

static void area_layout(struct tcp_area *a, uint32_t max)
{
	uint32_t lsize = 1;

	while (lsize < max)
		lsize <<= 1;
	a->tcb_size = sizeof(struct tcp_tcb);
	a->max_streams = max;
	a->lookup_size = lsize;
	a->tcb_off = (sizeof(struct tcp_area) + 63) & ~63u;
	a->lookup_off = a->tcb_off + max * (uint32_t)sizeof(struct tcp_tcb);
	a->wheel_off = a->lookup_off + lsize * 4;
	a->area_size = a->wheel_off + TCP_WHEEL_SLOTS * 4;
}

static void area_init(struct tcp_ctx *c, uint32_t max)
{
	struct tcp_area *a = c->area;

	memset(a, 0, sizeof(*a));
	area_layout(a, max);
	c->tcbs = (struct tcp_tcb *)((char *)a + a->tcb_off);
	c->lookup = (uint32_t *)((char *)a + a->lookup_off);
	c->wheel = (uint32_t *)((char *)a + a->wheel_off);
	/* every TCB CLOSED and above the high-water mark: tcb_alloc() hands them out in order */
	memset(c->tcbs, 0, (size_t)max * sizeof(struct tcp_tcb));
	for (uint32_t i = 0; i < a->lookup_size; i++)
		c->lookup[i] = TCP_NIL;
	for (uint32_t i = 0; i < TCP_WHEEL_SLOTS; i++)
		c->wheel[i] = TCP_NIL;
	a->free_head = TCP_NIL;
	a->hwm = 0;
	if (getrandom(a->isn_key, sizeof(a->isn_key), 0) != sizeof(a->isn_key) ||
	    getrandom(a->cookie_key, sizeof(a->cookie_key), 0) != sizeof(a->cookie_key)) {
		/* getrandom never fails for 16 bytes once the pool is ready; keep going with time */
		uint64_t t = c->now_us ^ (uint64_t)(uintptr_t)a;

		memcpy(a->isn_key, &t, sizeof(t));
		memcpy(a->cookie_key + 8, &t, sizeof(t));
	}
	a->ephemeral_next = c->prm->ephemeral_lo;
	a->op_stream = TCP_NIL;
	a->wheel_tick = c->now_ms / TCP_TICK_MS;
	__atomic_store_n(&a->magic, TCP_AREA_MAGIC, __ATOMIC_RELEASE);
}

void tcp_ctx_clock(struct tcp_ctx *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	c->now_us = (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	c->now_ms = (uint32_t)(c->now_us / 1000);
	if (c->now_ms == 0)   /* 0 means "not armed" in deadlines */
		c->now_ms = 1;
}

int tcp_ctx_attach(struct tcp_ctx *c, void *mem, uint64_t bytes, const struct porter_global *g,
		   unsigned int shard, void *env)
{
	return tcp_ctx_attach_grant(c, mem, bytes, g, shard, env, 0);
}

int tcp_ctx_attach_grant(struct tcp_ctx *c, void *mem, uint64_t bytes, const struct porter_global *g,
			 unsigned int shard, void *env, uint64_t grant)
{
	struct tcp_area *a = mem;
	uint32_t max = g->tcp.max_streams;

	memset(c, 0, sizeof(*c));
	c->area = a;
	c->prm = &g->tcp;
	c->listeners = g->listeners;
	c->ports = g->ports;
	c->nports = g->port_count;
	c->routes = &g->routes;
	c->reta = g->reta;
	c->rss_key = g->rss_key;
	c->shard = shard;
	c->env = env;
	c->in_event = TCP_NIL;
	if (c->now_ms == 0)
		tcp_ctx_clock(c);
	if (bytes < tcp_area_bytes(max))
		return -ENOSPC;
	if (__atomic_load_n(&a->magic, __ATOMIC_ACQUIRE) == TCP_AREA_MAGIC &&
	    (a->tcb_size != sizeof(struct tcp_tcb) || a->max_streams != max))
		return -EPROTO;
	c->touched = calloc(max ? max : 1, sizeof(*c->touched));
	c->touch_mark = calloc(max ? max : 1, 1);
	c->cwnd_full = calloc(max ? max : 1, 1);
	c->snd_hint = calloc(max ? max : 1, sizeof(*c->snd_hint));
	if (c->touched == NULL || c->touch_mark == NULL || c->cwnd_full == NULL || c->snd_hint == NULL ||
	    tcp_climit_init(c, g->tcp.client_table) < 0) {
		tcp_ctx_release(c);
		return -ENOMEM;
	}
	if (__atomic_load_n(&a->magic, __ATOMIC_ACQUIRE) != TCP_AREA_MAGIC) {
		area_init(c, max);
		tcp_climit_recount(c);   /* no stream yet: publishes the table's size */
		__atomic_store_n(&a->hwm_grant, grant, __ATOMIC_RELEASE);
		return 0;
	}
	c->tcbs = (struct tcp_tcb *)((char *)a + a->tcb_off);
	c->lookup = (uint32_t *)((char *)a + a->lookup_off);
	c->wheel = (uint32_t *)((char *)a + a->wheel_off);
	/* a previous worker ran here: trust only the TCB array (the client counts included),
	 * below the high-water mark if the previous grant kept it */
	tcp_rebuild_below(c, tcp_area_scan_end(a, grant));
	/* from here on this grant keeps hwm (tcb_alloc) */
	__atomic_store_n(&a->hwm_grant, grant, __ATOMIC_RELEASE);
	return 0;
}

uint32_t tcp_area_scan_end(const struct tcp_area *a, uint64_t grant)
{
	return grant > 1 && __atomic_load_n(&a->hwm_grant, __ATOMIC_ACQUIRE) == grant - 1 &&
	       a->hwm <= a->max_streams ? a->hwm : a->max_streams;
}

void tcp_ctx_release(struct tcp_ctx *c)
{
	free(c->touched);
	free(c->touch_mark);
	free(c->cwnd_full);
	c->cwnd_full = NULL;
	free(c->snd_hint);
	c->snd_hint = NULL;
	free(c->pend);
	free(c->pend_mark);
	free(c->evp);
	free(c->evp_mask);
	c->evp = NULL;
	c->evp_mask = NULL;
	c->nevp = 0;
	free(c->pre);
	c->pre = NULL;
	c->npre = c->pre_next = 0;
	tcp_climit_release(c);
	c->touched = c->pend = NULL;
	c->touch_mark = c->pend_mark = NULL;
	c->ntouched = c->npend = 0;
}

void tcp_quiesce(struct tcp_ctx *c)
{
	for (uint32_t i = 0; i < c->ntouched; i++) {
		uint32_t s = c->touched[i];

		c->touch_mark[s] = 0;
		c->tcbs[s].flags &= ~TF(TOUCHED);
	}
	c->ntouched = 0;
}

struct tcp_tcb *tcb_alloc(struct tcp_ctx *c)
{
	struct tcp_area *a = c->area;
	struct tcp_tcb *t;

	if (a->free_head == TCP_NIL && a->hwm < a->max_streams) {
		/* a TCB never used yet: the mark moves before it is touched, so
		 * every TCB a recovery must look at is below it */
		t = &c->tcbs[a->hwm];
		__atomic_store_n(&a->hwm, a->hwm + 1, __ATOMIC_RELEASE);
	} else {
		if (a->free_head == TCP_NIL && !tcp_reclaim_time_wait(c)) {
			tcp_count_drop(c, TDROP_SLAB_FULL);
			return NULL;
		}
		t = &c->tcbs[a->free_head];
		a->free_head = t->h_next;
	}
	memset(t, 0, sizeof(*t));
	t->h_next = t->t_next = t->t_prev = TCP_NIL;
	a->live++;
	tcp_touch(c, t);   /* state CLOSED until its opener sets one: a kill before frees it */
	return t;
}

static void hash_remove(struct tcp_ctx *c, struct tcp_tcb *t)
{
	uint32_t h = tuple_hash(t->laddr, t->lport, t->raddr, t->rport) & (c->area->lookup_size - 1);
	uint32_t idx = tcb_idx(c, t), *pp = &c->lookup[h];

	while (*pp != TCP_NIL) {
		if (*pp == idx) {
			*pp = t->h_next;
			t->h_next = TCP_NIL;
			return;
		}
		pp = &c->tcbs[*pp].h_next;
	}
}

/*
 * Unlink first, free after: a worker killed in between leaks a chain it was
 * freeing (the environment journals that cursor) but never leaves a TCB
 * pointing at freed buffers.
 */
void tcp_drop_queues(struct tcp_ctx *c, struct tcp_tcb *t)
{
	t->snd_tail = t->rcv_tail = t->ooo_tail = NULL;
	t->snd_bytes = t->rcv_bytes = 0;
	t->sacked_bytes = 0;
	t->ooo_segs = 0;
	tcp_snd_hint_drop(c, t, NULL);
	tcp_q_free(c, &t->snd_head);
	tcp_q_free(c, &t->rcv_head);
	tcp_q_free(c, &t->ooo_head);
}

void tcb_free(struct tcp_ctx *c, struct tcp_tcb *t)
{
	struct tcp_area *a = c->area;

	if (t->state == TCP_CLOSED && t->lport == 0)
		return;
	tcp_timer_cancel(c, t);
	tcp_drop_queues(c, t);
	if (t->state == TCP_SYN_RECEIVED && (t->flags & TF(PASSIVE)) && a->half_open)
		a->half_open--;
	if (tcp_climit_counted(t))
		tcp_climit_closed(c, t);
	hash_remove(c, t);
	/* CLOSED first: a worker killed inside the memset leaves a free entry */
	__atomic_store_n(&t->state, TCP_CLOSED, __ATOMIC_RELEASE);
	CRASH_POINT("tcp_area.free_closed");
	/* after CLOSED: a kill in between leaves a closed stream whose session attach wipes */
	if (c->stream_freed)
		c->stream_freed(c, tcb_idx(c, t));
	if (c->evp_mask)
		c->evp_mask[tcb_idx(c, t)] = 0;   /* a deferred event is not the next stream's */
	if (c->cwnd_full)
		c->cwnd_full[tcb_idx(c, t)] = 0;
	memset(t, 0, sizeof(*t));
	t->t_next = t->t_prev = TCP_NIL;
	t->h_next = a->free_head;
	a->free_head = tcb_idx(c, t);
	a->live--;
}

void tcb_hash_insert(struct tcp_ctx *c, struct tcp_tcb *t)
{
	uint32_t h = tuple_hash(t->laddr, t->lport, t->raddr, t->rport) & (c->area->lookup_size - 1);

	t->h_next = c->lookup[h];
	c->lookup[h] = tcb_idx(c, t);
}

struct tcp_tcb *tcb_lookup(struct tcp_ctx *c, uint32_t laddr, uint16_t lport, uint32_t raddr,
			   uint16_t rport)
{
	uint32_t h = tuple_hash(laddr, lport, raddr, rport) & (c->area->lookup_size - 1);

	for (uint32_t i = c->lookup[h]; i != TCP_NIL; i = c->tcbs[i].h_next) {
		struct tcp_tcb *t = &c->tcbs[i];

		if (t->rport == rport && t->lport == lport && t->raddr == raddr && t->laddr == laddr)
			return t;
	}
	return NULL;
}

const struct porter_listener *tcp_listener(const struct tcp_ctx *c, uint16_t port)
{
	for (unsigned int i = 0; i < PORTER_MAX_LISTENERS; i++)
		if (c->listeners[i].port == port)
			return &c->listeners[i];
	return NULL;
}

int tcp_port_of_addr(const struct tcp_ctx *c, uint32_t addr)
{
	for (unsigned int i = 0; i < c->nports; i++)
		if (c->ports[i].ipv4 == addr)
			return (int)i;
	return -1;
}

void tcp_set_state(struct tcp_ctx *c, struct tcp_tcb *t, enum tcp_state st)
{
	if (t->state == TCP_SYN_RECEIVED && (t->flags & TF(PASSIVE)) && c->area->half_open)
		c->area->half_open--;
	if (st == TCP_ESTABLISHED)
		tcp_count(c, TEV_ESTABLISHED);
	if (st == TCP_TIME_WAIT && tcp_climit_counted(t))
		tcp_climit_closed(c, t);   /* TIME-WAIT takes nothing a client limit protects */
	t->state = st;
}

