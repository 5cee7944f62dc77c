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
#include <rte_mempool.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "secondary/crash.h"
#include "secondary/worker.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter-worker: " fmt "\n", ##__VA_ARGS__)

/* Did the put of M complete? Only this slot's worker puts into this lcore's cache. */
static bool in_own_cache(const struct worker *w, const struct rte_mbuf *m)
{
	struct rte_mempool_cache *c = rte_mempool_default_cache(w->pool, rte_lcore_id());

	if (c == NULL)
		return false;   /* cannot tell: leaking one beats freeing one twice */
	for (uint32_t i = 0; i < c->len; i++)
		if (c->objs[i] == (const void *)m)
			return true;
	return false;
}

static bool in_chain(const struct rte_mbuf *chain, const struct rte_mbuf *m)
{
	uint32_t n = 0;

	for (; chain && ++n < (1u << 22); chain = chain->next)
		if (chain == m)
			return true;
	return false;
}

/*
 * Buffers the dead worker held outside the streams' queues (struct
 * porter_mbuf_journal, struct porter_batch_log). Staged frames stay staged
 * (complete frames: the first flush sends them), and frames of the burst it
 * had not touched yet stay in the batch log for worker_replay (they are
 * intact: the peer would otherwise resend them only after its own
 * retransmission timeout, 200 ms or more). Everything else nobody owns is
 * linked into one chain, the chain is logged (pending_free), the journal
 * places that listed its buffers are cleared, and the chain is freed through
 * the journal's cursor. Killed at any point, the next recovery frees each
 * buffer exactly once. The RX frame that was being processed and the buffer
 * in hand are freed only if no stream's queue took them; the frame is run
 * again instead when it is still as it was taken (batch log taken_shape).
 */
static void recover_buffers(struct worker *w)
{
	struct porter_mbuf_journal *j = &w->sh->journal;
	struct porter_batch_log *b = &w->sh->batch;
	struct rte_ring *tx = w->tx;
	struct rte_mbuf *head = NULL, **link = &head, *cur = j->free_cur, *rx = NULL, *hand;
	const void *tcp_area = (const char *)w->sh + w->sh->tcp_off;
	uint32_t n = j->nstage, first = b->held_first, end = b->held_end, count = 0;
	bool handed = j->stage_committing && tx->prod.tail == j->stage_target;

	if (n > PORTER_STAGE_MAX)
		n = PORTER_STAGE_MAX;
	if (end > PORTER_BURST)
		end = PORTER_BURST;
	if (first > end)
		first = end;
	if (end && first > 0 && !porter_rx_consumed(j->rx_consumed, first))
		rx = b->keep[first - 1];
	if (j->stage_committing && !handed)
		tx->prod.head = tx->prod.tail;   /* started, not published: undo */
	if (j->pending_free) {
		/* a recovery before us logged its chain: it lists everything (and a
		 * recovery of layout 2.5 or older listed the untouched frames too:
		 * then they are not ours to run) */
		head = j->pending_free;
		for (uint32_t i = first; i < end; i++)
			if (in_chain(head, b->keep[i]))
				first = end;
		goto logged;
	}
	/* the put in progress: done (in our cache) or not */
	if (cur && (in_own_cache(w, cur) || cur == j->freeing))
		cur = NULL;   /* freed, or still the chain's next */
	if (cur) {
		*link = cur;
		link = &cur->next;
		count++;
	}
	if (rx && (rx == j->free_cur || in_chain(j->freeing, rx)))
		rx = NULL;
	hand = j->in_hand;
	if (hand && (hand == j->free_cur || in_chain(j->freeing, hand)))
		hand = NULL;
	for (uint32_t i = 0; i < n; i++) {
		if (j->stage[i] == (void *)rx)
			rx = NULL;
		if (j->stage[i] == (void *)hand)
			hand = NULL;
	}
	/* the processing frame and the buffer in hand: a stream's queue took
	 * them, or nobody did (the queues' links are valid before the rebuild) */
	if (rx && tcp_area_owns_mbuf(tcp_area, rx, w->epoch))
		rx = NULL;
	if (rx && rx != hand && PORTER_FRAME_SHAPE(rx) == b->taken_shape) {
		/* neither trimmed nor cut, in no queue, not freed nor sent: run it again
		 * with the untouched ones (its effects so far make it a duplicate to the
		 * stack, which TCP takes as the network's) rather than make its sender
		 * wait for a retransmission timeout */
		rx->next = NULL;
		first--;
		/* in this order: a recovery after us decides the same (the mark names the
		 * frame before it as done, which it is) */
		__atomic_store_n(&j->rx_consumed, PORTER_RX_CONSUMED(first), __ATOMIC_RELEASE);
		__atomic_store_n(&b->held_first, first, __ATOMIC_RELEASE);
		rx = NULL;
	}
	if (hand && (hand == rx || tcp_area_owns_mbuf(tcp_area, hand, w->epoch)))
		hand = NULL;
	if (rx) {
		*link = rx;
		link = &rx->next;
		count++;
	}
	if (hand) {
		*link = hand;
		link = &hand->next;
		count++;
	}
	*link = j->freeing;
	CRASH_POINT("recovery.chain_linked");
	__atomic_store_n(&j->pending_free, (void *)head, __ATOMIC_RELEASE);
	CRASH_POINT("recovery.chain_logged");
	if (count)
		LOG(NOTICE, "shard %u: recovery: freeing %u buffers the last worker held outside "
		    "the queues", w->shard, count);
	w->sh->wstats.recovered_mbufs += count;
logged:
	j->free_cur = NULL;
	/* staged frames are complete: a stage not handed over yet is sent by our
	 * first flush (nothing the dead worker built is lost), a handed one is gone */
	if (handed)
		j->nstage = 0;
	else if (n)
		LOG(NOTICE, "shard %u: recovery: %u frames staged but not handed over go out now",
		    w->shard, n);
	j->stage_committing = 0;
	/* the frames after the one in processing were never touched: they stay
	 * in keep[first..end) for worker_replay (the peer need not resend them) */
	if (first < end)
		LOG(NOTICE, "shard %u: recovery: %u frames taken but not yet processed are run now",
		    w->shard, end - first);
	/* keep[first - 1] is done with (freed by the chain below, or it was taken or
	 * consumed already): say so before the chain's log goes, so a recovery after
	 * us does not take it for a frame in processing (rx_consumed names it) */
	__atomic_store_n(&j->rx_consumed, first < end ? PORTER_RX_CONSUMED(first) : 0, __ATOMIC_RELEASE);
	__atomic_store_n(&b->held_first, first < end ? first : 0, __ATOMIC_RELEASE);
	__atomic_store_n(&b->held_end, first < end ? end : 0, __ATOMIC_RELEASE);
	j->in_hand = NULL;
	__atomic_store_n(&j->freeing, (void *)head, __ATOMIC_RELEASE);
	__atomic_store_n(&j->pending_free, NULL, __ATOMIC_RELEASE);
	CRASH_POINT("recovery.chain_published");
	if (j->freeing)
		worker_free_chain(w, j->freeing);
	__atomic_store_n(&j->freeing, NULL, __ATOMIC_RELEASE);
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
			/* not handed over: undo both reservations, frames go round again;
			 * the stateful frames of that burst are back in the ring too, so
			 * forget them first (a kill in between must not replay them too) */
			__atomic_store_n(&b->held_end, 0, __ATOMIC_RELEASE);
			__atomic_store_n(&b->held_first, 0, __ATOMIC_RELEASE);
			tx->prod.head = tx->prod.tail;
			__atomic_store_n(&rx->cons.head, rx->cons.tail, __ATOMIC_RELEASE);
			LOG(NOTICE, "shard %u: recovery: %u frames put back on the RX ring",
			    w->shard, in_hand);
		}
		w->sh->wstats.recovered_mbufs += in_hand;
	} else if (tx->prod.head != tx->prod.tail && !w->sh->journal.stage_committing) {
		tx->prod.head = tx->prod.tail;
	}
	__atomic_store_n(&b->batch_n, 0, __ATOMIC_RELEASE);
	CRASH_POINT("recovery.rings");
	if (w->sh->journal.trim_m)
		LOG(NOTICE, "shard %u: recovery: finishing a cut of a queued buffer", w->shard);
	worker_apply_trim(w);
	recover_buffers(w);
	w->sh->wstats.recoveries++;
}
