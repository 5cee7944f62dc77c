/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's burst: frames in from the RX ring, each answered in place (for
 * now, every segment gets the RFC 9293 §3.10.7.1 answer: no listener exists)
 * or marked for freeing, and the whole burst handed to the TX ring. The
 * worker never allocates or frees an mbuf, so the only way an mbuf changes
 * hands is a ring index move, which the batch log makes recoverable.
 */
#include <string.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_peek.h>

#include "secondary/rst.h"
#include "secondary/worker.h"
#include "shm/hash.h"

static void answer(struct worker *w, struct rte_mbuf *m)
{
	uint8_t out[RST_FRAME_LEN];
	enum rst_verdict v;

	w->sh->wstats.rx_segments++;
	if (porter_reta_lookup(w->g->reta, m->hash.rss) != w->shard)
		w->sh->wstats.drops[WDROP_WRONG_SHARD]++;
	v = rst_build_reply(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), out);
	switch (v) {
	case RST_REPLY:
		/* the frame is at least 54 bytes (the primary checked the TCP header) */
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), out, RST_FRAME_LEN);
		rte_pktmbuf_data_len(m) = RST_FRAME_LEN;
		rte_pktmbuf_pkt_len(m) = RST_FRAME_LEN;
		w->sh->wstats.rst_sent++;
		w->sh->wstats.tx_segments++;
		return;   /* m->port still names the port it came in on */
	case RST_DROP_IS_RST:
		w->sh->wstats.drops[WDROP_RST_IN]++;
		break;
	case RST_DROP_CSUM:
		w->sh->wstats.drops[WDROP_TCP_CSUM]++;
		break;
	default:
		w->sh->wstats.drops[WDROP_MALFORMED]++;
		break;
	}
	m->port = PORTER_PORT_FREE;
}

static void wake_primary(struct worker *w)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&w->g->primary_sleeping, __ATOMIC_RELAXED))
		(void)!write(w->primary_wake_fd, &one, sizeof(one));
}

unsigned int worker_burst(struct worker *w)
{
	struct porter_batch_log *b = &w->sh->batch;
	unsigned int room = rte_ring_free_count(w->tx), n;

	if (room == 0) {
		wake_primary(w);
		return 0;
	}
	if (room > PORTER_BURST)
		room = PORTER_BURST;
	/* step 0..1 of the batch protocol (shm/porter-shm-t.h) */
	__atomic_store_n(&b->batch_n, 0, __ATOMIC_RELEASE);
	n = rte_ring_dequeue_burst_start(w->rx, b->held, room, NULL);
	if (n == 0) {
		rte_ring_dequeue_finish(w->rx, 0);
		return 0;
	}
	/* step 2 */
	for (unsigned int i = 0; i < n; i++)
		answer(w, b->held[i]);
	/* step 3: the log must be visible before the TX tail moves */
	b->tx_target = w->tx->prod.tail + n;
	__atomic_store_n(&b->batch_n, n, __ATOMIC_RELEASE);
	/* step 4: we are the only producer and checked the room, so all n fit */
	rte_ring_enqueue_burst_start(w->tx, n, NULL);
	rte_ring_enqueue_finish(w->tx, b->held, n);
	/* step 5 */
	rte_ring_dequeue_finish(w->rx, n);
	wake_primary(w);
	return n;
}
