/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP stack's environment in the worker: mbufs from the shared pool
 * (this slot's fixed lcore id keeps the per-lcore cache with the slot) and
 * transmit through the shard's TX ring.
 */
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "secondary/crash.h"
#include "secondary/http/proxy.h"
#include "secondary/tcp/tcp_priv.h"
#include "secondary/tls/tls_io.h"
#include "secondary/worker.h"

struct rte_mbuf *tcp_env_alloc(struct tcp_ctx *ctx)
{
	struct worker *w = ctx->env;
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);

	if (m) {
		__atomic_store_n(&w->sh->journal.in_hand, (void *)m, __ATOMIC_RELEASE);
		w->sh->wstats.mbufs_allocated++;
	}
	return m;
}

/*
 * The pool's reserve is an eighth of it. Below the reserve received payload
 * is not queued (tcp_env_pool_low: the peer sends it again), so what comes in
 * stops first; data the applications queue may go on down to half the
 * reserve, so a relay can still turn received buffers into sent ones (each
 * copy frees the buffer it came from) and the queues drain as ACKs arrive.
 * The rest stays for the primary's receive descriptors and the frames in
 * flight, which carry those ACKs. The free count costs a pass over every
 * lcore's cache: read once per ms, counted down in between.
 */
static void pool_refresh(struct tcp_ctx *ctx, struct worker *w)
{
	if (w->pool_avail_ms != ctx->now_ms) {
		w->pool_avail_ms = ctx->now_ms;
		w->pool_avail = rte_mempool_avail_count(w->pool);
		w->pool_reserve = w->pool->size / 8;
	}
}

struct rte_mbuf *tcp_env_alloc_queued(struct tcp_ctx *ctx)
{
	struct worker *w = ctx->env;

	pool_refresh(ctx, w);
	if (w->pool_avail <= w->pool_reserve / 2)
		return NULL;
	w->pool_avail--;
	return tcp_env_alloc(ctx);
}

/* Received payload is dropped below the reserve (tcp_env.h). */
bool tcp_env_pool_low(struct tcp_ctx *ctx)
{
	struct worker *w = ctx->env;

	pool_refresh(ctx, w);
	return w->pool_avail <= w->pool_reserve;
}

void tcp_env_trim(struct tcp_ctx *ctx, struct rte_mbuf *m, uint32_t n)
{
	struct worker *w = ctx->env;
	struct porter_mbuf_journal *j = &w->sh->journal;

	j->trim_seq = seg_seq(m) + n;
	j->trim_off = (uint16_t)(m->data_off + n);
	j->trim_len = (uint16_t)(m->data_len - n);
	__atomic_store_n(&j->trim_m, (void *)m, __ATOMIC_RELEASE);
	CRASH_POINT("env.trim_logged");
	worker_apply_trim(w);
}

/* The logged trim, applied (again): idempotent. */
void worker_apply_trim(struct worker *w)
{
	struct porter_mbuf_journal *j = &w->sh->journal;
	struct rte_mbuf *m = j->trim_m;

	if (m == NULL)
		return;
	m->data_off = j->trim_off;
	CRASH_POINT("env.trim_half");
	m->data_len = j->trim_len;
	m->pkt_len = j->trim_len;
	seg_set_seq(m, j->trim_seq);
	__atomic_store_n(&j->trim_m, NULL, __ATOMIC_RELEASE);
}

void tcp_env_hold(struct tcp_ctx *ctx, struct rte_mbuf *m)
{
	struct worker *w = ctx->env;

	__atomic_store_n(&w->sh->journal.in_hand, (void *)m, __ATOMIC_RELEASE);
}

/*
 * Queue lists reuse m->next, so buffers are freed one at a time. The journal
 * names the one being put (free_cur) and holds the next one before this one
 * goes: recovery finishes the chain and tells whether the put completed, so
 * a kill neither leaks a buffer nor frees one twice.
 */
void worker_free_chain(struct worker *w, struct rte_mbuf *m)
{
	struct porter_mbuf_journal *j = &w->sh->journal;

	while (m) {
		struct rte_mbuf *next = m->next;

		__atomic_store_n(&j->free_cur, (void *)m, __ATOMIC_RELEASE);
		CRASH_POINT("env.free_cur");
		__atomic_store_n(&j->freeing, (void *)next, __ATOMIC_RELEASE);
		if (m == w->rx_current)
			__atomic_store_n(&j->rx_consumed, PORTER_RX_CONSUMED(w->sh->batch.held_first), __ATOMIC_RELEASE);
		if (m == j->in_hand)
			__atomic_store_n(&j->in_hand, NULL, __ATOMIC_RELEASE);
		CRASH_POINT("env.free_journaled");
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		CRASH_POINT("env.free_put");
		__atomic_store_n(&j->free_cur, NULL, __ATOMIC_RELEASE);
		w->sh->wstats.mbufs_freed++;
		m = next;
	}
}

void tcp_env_free(struct tcp_ctx *ctx, struct rte_mbuf *m)
{
	worker_free_chain(ctx->env, m);
}

void tcp_env_xmit(struct tcp_ctx *ctx, struct rte_mbuf *m)
{
	struct worker *w = ctx->env;
	struct porter_mbuf_journal *j = &w->sh->journal;

	if (j->nstage >= w->stage_max)
		worker_flush_stage(w);
	if (m == w->rx_current)   /* the frame leaves us (reused in place): not recovery's */
		__atomic_store_n(&j->rx_consumed, PORTER_RX_CONSUMED(w->sh->batch.held_first), __ATOMIC_RELEASE);
	m->next = NULL;
	m->nb_segs = 1;
	m->pkt_len = m->data_len;
	j->stage[j->nstage] = m;
	__atomic_store_n(&j->nstage, j->nstage + 1, __ATOMIC_RELEASE);
	CRASH_POINT("env.xmit_staged");
	if (m == j->in_hand)
		__atomic_store_n(&j->in_hand, NULL, __ATOMIC_RELEASE);
	w->sh->wstats.tx_segments++;
}

/* The worker's applications beyond the stack's built-in services: the proxy's kinds. */
void tcp_env_app_event(struct tcp_ctx *ctx, uint32_t s, uint32_t ev)
{
	if (ctx->tcbs[s].app < TAPP_DEADLINE_FIRST)
		return;
	if (tls_io_event(ctx, s, &ev))
		proxy_app_event(ctx, s, ev);
	tls_io_event_done(ctx, s, ev);   /* a TLS session whose stream closed ends now */
}
