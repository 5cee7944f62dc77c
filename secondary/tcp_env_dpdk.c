/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP stack's environment in the worker: mbufs from the shared pool
 * (this slot's fixed lcore id keeps the per-lcore cache with the slot) and
 * transmit through the shard's TX ring.
 */
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "secondary/tcp/tcp_env.h"
#include "secondary/worker.h"

struct rte_mbuf *tcp_env_alloc(struct tcp_ctx *ctx)
{
	struct worker *w = ctx->env;
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);

	if (m)
		w->sh->wstats.mbufs_allocated++;
	return m;
}

void tcp_env_free(struct tcp_ctx *ctx, struct rte_mbuf *m)
{
	struct worker *w = ctx->env;

	while (m) {
		struct rte_mbuf *next = m->next;

		/* queue lists reuse m->next: free one buffer at a time */
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		w->sh->wstats.mbufs_freed++;
		m = next;
	}
}

void tcp_env_xmit(struct tcp_ctx *ctx, struct rte_mbuf *m)
{
	struct worker *w = ctx->env;

	if (w->nstage == WORKER_TX_STAGE)
		worker_flush_stage(w);
	m->next = NULL;
	m->nb_segs = 1;
	m->pkt_len = m->data_len;
	w->stage[w->nstage++] = m;
	w->sh->wstats.tx_segments++;
}
