/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Recovery at attach (DESIGN §3.4). The previous worker of this shard is dead
 * (the supervisor grants the epoch only to the pid it started after reaping
 * the last one), so we are the only consumer of the RX ring and the only
 * producer of the TX ring and may repair their indices. The batch protocol
 * is described next to struct porter_batch_log in shm/porter-shm-t.h.
 */
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "secondary/worker.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter-worker: " fmt "\n", ##__VA_ARGS__)

/* Staged TCP output and a chain being freed (struct porter_mbuf_journal). */
static void recover_journal(struct worker *w)
{
	struct porter_mbuf_journal *j = &w->sh->journal;
	struct rte_ring *tx = w->tx;
	uint32_t n = j->nstage;

	if (j->stage_committing && tx->prod.tail == j->stage_target) {
		n = 0;   /* the enqueue completed: the frames are the primary's */
	} else if (j->stage_committing) {
		tx->prod.head = tx->prod.tail;   /* started, not published: undo */
	}
	if (n > PORTER_STAGE_MAX)
		n = PORTER_STAGE_MAX;
	for (uint32_t i = 0; i < n; i++)
		rte_pktmbuf_free_seg(j->stage[i]);
	if (n)
		LOG(NOTICE, "shard %u: recovery: freed %u frames staged but never sent", w->shard, n);
	w->sh->wstats.recovered_mbufs += n;
	j->nstage = 0;
	j->stage_committing = 0;
	if (j->freeing) {
		struct rte_mbuf *m = j->freeing;

		LOG(NOTICE, "shard %u: recovery: finishing a chain the last worker was freeing",
		    w->shard);
		j->freeing = NULL;
		worker_free_chain(w, m);
	}
	j->freeing = NULL;
}

void worker_recover(struct worker *w)
{
	struct porter_batch_log *b = &w->sh->batch;
	struct rte_ring *rx = w->rx, *tx = w->tx;
	uint32_t in_hand = rx->cons.head - rx->cons.tail;

	if (in_hand != 0) {
		uint32_t n = __atomic_load_n(&b->batch_n, __ATOMIC_ACQUIRE);

		if (n != 0 && n == in_hand && tx->prod.tail == b->tx_target) {
			/* step 4 completed: the frames belong to the primary now */
			__atomic_store_n(&rx->cons.tail, rx->cons.head, __ATOMIC_RELEASE);
			LOG(NOTICE, "shard %u: recovery: last batch of %u had been handed over",
			    w->shard, in_hand);
		} else {
			/* not handed over: undo both reservations, frames go round again */
			tx->prod.head = tx->prod.tail;
			rx->cons.head = rx->cons.tail;
			/* the stateful frames of that burst are back in the ring too */
			b->held_end = 0;
			LOG(NOTICE, "shard %u: recovery: %u frames put back on the RX ring",
			    w->shard, in_hand);
		}
		w->sh->wstats.recovered_mbufs += in_hand;
	} else if (tx->prod.head != tx->prod.tail) {
		tx->prod.head = tx->prod.tail;
	}
	/* frames taken for the TCP pass: untouched ones are freed (the peer
	 * retransmits); the one being processed when the worker died is counted
	 * as stranded, since its buffer may already be in a stream's queue */
	if (b->held_end) {
		uint32_t first = b->held_first, end = b->held_end;

		if (first > 0) {
			struct rte_mbuf *f = b->keep[first - 1];
			struct porter_mbuf_journal *j = &w->sh->journal;
			bool staged = false;

			for (uint32_t i = 0; i < j->nstage && i < PORTER_STAGE_MAX; i++)
				staged |= j->stage[i] == (void *)f;
			/* freed, or sent in place: not ours; else decide once TCP is attached */
			if (!j->rx_consumed && !staged)
				w->pending_rx = f;
			first = first > end ? end : first;
		}
		for (uint32_t i = first; i < end && i < PORTER_BURST; i++)
			rte_pktmbuf_free(b->keep[i]);
		w->sh->wstats.recovered_mbufs += end - first;
		LOG(NOTICE, "shard %u: recovery: freed %u untouched frames of the TCP pass%s",
		    w->shard, end - first, b->held_first ? ", one frame was mid-processing" : "");
	}
	b->held_first = b->held_end = 0;
	__atomic_store_n(&b->batch_n, 0, __ATOMIC_RELEASE);
	recover_journal(w);
	w->sh->wstats.recoveries++;
}

/*
 * The frame the dead worker was processing, if it was neither freed nor sent:
 * kept by a stream's queue (then the stream owns it) or nobody's (free it).
 * Runs after the TCP area is rebuilt.
 */
void worker_settle_rx(struct worker *w)
{
	struct rte_mbuf *f = w->pending_rx;

	w->pending_rx = NULL;
	if (f == NULL || tcp_owns_mbuf(&w->tcp, f))
		return;
	rte_pktmbuf_free(f);
	w->sh->wstats.recovered_mbufs++;
	LOG(NOTICE, "shard %u: recovery: freed the frame the last worker was processing", w->shard);
}
