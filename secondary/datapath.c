/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's burst, in two passes:
 *
 *  1. Stateless frames (no stream, no listener: RST in place; bad frames:
 *     marked "free me") are handed from the RX ring to the TX ring with the
 *     two-phase batch protocol of shm/porter-shm-t.h, so a kill -9 at any
 *     point loses none of them and answers none twice.
 *  2. The remaining frames are dequeued for good and run through the TCP
 *     stack, which keeps, frees and allocates buffers; its output is staged and
 *     enqueued at the end of the burst. The batch log names the frames in
 *     hand: after a kill in this pass the successor runs the untouched rest
 *     (worker_replay), and the one being processed with them if it is still
 *     as it was taken (recovery.c); else that one is freed unless a queue
 *     took it, and its sender resends it.
 */
#include <string.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_peek.h>

#include "secondary/crash.h"
#include "secondary/worker.h"
#include "shm/hash.h"

static void wake_primary(struct worker *w)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&w->g->primary_sleeping, __ATOMIC_RELAXED))
		(void)!write(w->primary_wake_fd, &one, sizeof(one));
}

/*
 * Hand the staged frames to the TX ring in one two-phase enqueue: wait for
 * room for all of them (the primary drains the ring), log the tail the ring
 * will have, then publish. Recovery (recovery.c) reads the log.
 */
void worker_flush_stage(struct worker *w)
{
	struct porter_mbuf_journal *j = &w->sh->journal;
	uint32_t n = j->nstage;

	if (n == 0)
		return;
	while (rte_ring_free_count(w->tx) < n) {
		wake_primary(w);
		rte_pause();
	}
	j->stage_target = w->tx->prod.tail + n;
	__atomic_store_n(&j->stage_committing, n, __ATOMIC_RELEASE);
	CRASH_POINT("datapath.stage_committing");
	rte_ring_enqueue_burst_start(w->tx, n, NULL);
	CRASH_POINT("datapath.stage_reserved");
	rte_ring_enqueue_finish(w->tx, j->stage, n);
	CRASH_POINT("datapath.stage_enqueued");
	/* handed over: the stage is empty again */
	__atomic_store_n(&j->nstage, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&j->stage_committing, 0, __ATOMIC_RELEASE);
	wake_primary(w);
}

/* Pass 1 verdict for one frame: reply in place, free, or keep for pass 2. */
static enum tcp_sl_verdict classify(struct worker *w, struct rte_mbuf *m)
{
	enum tcp_sl_verdict v;

	w->sh->wstats.rx_segments++;
	if (porter_reta_lookup(w->g->reta, m->hash.rss) != w->shard) {
		/* its stream, if any, lives in another shard: answering here (a RST
		 * for "no stream") would kill it. Dropped; the peer retransmits */
		w->sh->wstats.drops[WDROP_WRONG_SHARD]++;
		m->port = PORTER_PORT_FREE;
		return TCP_SL_FREE;
	}
	v = tcp_input_stateless(&w->tcp, m);
	if (v == TCP_SL_SEND) {
		w->sh->wstats.rst_sent++;
		w->sh->wstats.tx_segments++;
	} else if (v == TCP_SL_FREE) {
		m->port = PORTER_PORT_FREE;
	}
	return v;
}

/*
 * Pass 2 over keep[from..to): the TCP stack; held_first moves before each
 * frame is touched. Output is batched: each stream's ACKs and data go once,
 * after the burst.
 */
static void pass2(struct worker *w, uint32_t from, uint32_t to)
{
	struct porter_batch_log *b = &w->sh->batch;
	struct rte_mbuf **keep = (struct rte_mbuf **)b->keep;

	tcp_batch_begin(&w->tcp);
	for (uint32_t i = from; i < to; i++) {
		/* one store moves to the next frame: rx_consumed names the frame it
		 * was set for (PORTER_RX_CONSUMED), so it needs no reset here */
		w->rx_current = keep[i];
		__atomic_store_n(&b->taken_shape, PORTER_FRAME_SHAPE(keep[i]), __ATOMIC_RELEASE);
		__atomic_store_n(&b->held_first, i + 1, __ATOMIC_RELEASE);
		CRASH_POINT("datapath.frame_taken");
		tcp_input(&w->tcp, keep[i]);
		CRASH_POINT("datapath.frame_done");
	}
	w->rx_current = NULL;
	__atomic_store_n(&b->held_end, 0, __ATOMIC_RELEASE);
	tcp_batch_flush(&w->tcp);
	worker_flush_stage(w);
}

unsigned int worker_burst(struct worker *w)
{
	struct porter_batch_log *b = &w->sh->batch;
	struct rte_mbuf **keep = (struct rte_mbuf **)b->keep;
	unsigned int room = rte_ring_free_count(w->tx), n, k = 0, nkeep = 0;

	tcp_ctx_clock(&w->tcp);
	tcp_timers(&w->tcp);
	worker_flush_stage(w);
	if (room == 0) {
		wake_primary(w);
		return 0;
	}
	if (room > PORTER_BURST)
		room = PORTER_BURST;
	/* steps 0..1 of the batch protocol (shm/porter-shm-t.h) */
	__atomic_store_n(&b->batch_n, 0, __ATOMIC_RELEASE);
	n = rte_ring_dequeue_burst_start(w->rx, b->held, room, NULL);
	if (n == 0) {
		rte_ring_dequeue_finish(w->rx, 0);
		return 0;
	}
	if (!w->seen_frames) {
		/* the swap gap: the predecessor's last frame to our first */
		uint64_t last = w->slot->last_pkt_us;

		w->seen_frames = true;
		if (last) {
			w->slot->swap_gap_us = w->tcp.now_us - last;
			/* what the hand-over looked like from here (docs/OPERATIONS.md "Standbys") */
			RTE_LOG(INFO, USER1, "porter-worker: shard %u: first frames %" PRIu64 " us after "
				"ready, swap gap %" PRIu64 " us: %u frames waiting at ready, %u in this "
				"burst; %" PRIu64 " retransmission timeouts and %" PRIu64 " sleeps between\n",
				w->shard, w->tcp.now_us - w->slot->ready_us, w->slot->swap_gap_us,
				w->ring_at_ready, n, w->tcp.area->events[TEV_RTO] - w->rto_at_ready,
				w->sleeps_before_first);
		}
	} else {
		/* the same measure within one worker's life, for comparison */
		uint64_t gap = w->tcp.now_us - w->slot->last_pkt_us;

		if (gap > 1000) {
			w->slot->frame_gaps[0]++;
			w->slot->frame_gaps[1] += gap > 5000;
			w->slot->frame_gaps[2] += gap > 10000;
			w->slot->frame_gaps[3] += gap > 20000;
		}
	}
	w->slot->last_pkt_us = w->tcp.now_us;
	/* step 2, pass 1: stateless frames stay in held[0..k), stateful ones go to keep[]
	 * (parsed once: pass 2 takes what pass 1 parsed, tcp_input_begin) */
	__atomic_store_n(&b->held_end, 0, __ATOMIC_RELEASE);
	/* nothing in hand now: a mark left by the last burst must not name one of this one's */
	__atomic_store_n(&w->sh->journal.rx_consumed, 0, __ATOMIC_RELEASE);
	tcp_input_begin(&w->tcp);
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = b->held[i];

		if (classify(w, m) == TCP_SL_STATEFUL)
			keep[nkeep++] = m;
		else
			b->held[k++] = m;
	}
	b->held_first = 0;
	__atomic_store_n(&b->held_end, nkeep, __ATOMIC_RELEASE);
	CRASH_POINT("datapath.classified");
	if (k) {
		/* steps 3..4 for the k stateless frames */
		b->tx_target = w->tx->prod.tail + k;
		__atomic_store_n(&b->batch_n, n, __ATOMIC_RELEASE);
		CRASH_POINT("datapath.batch_logged");
		rte_ring_enqueue_burst_start(w->tx, k, NULL);
		rte_ring_enqueue_finish(w->tx, b->held, k);
		CRASH_POINT("datapath.batch_enqueued");
	}
	/* step 5: the RX tail moves; keep[] is now ours alone */
	rte_ring_dequeue_finish(w->rx, n);
	CRASH_POINT("datapath.rx_dequeued");
	if (k)
		wake_primary(w);
	pass2(w, 0, nkeep);
	return n;
}

/*
 * Frames the dead predecessor had taken off the RX ring for its TCP pass and
 * not touched yet: recovery left them in keep[held_first..held_end). They
 * are older than anything still in the ring, so they go first, before the
 * first burst.
 */
unsigned int worker_replay(struct worker *w)
{
	struct porter_batch_log *b = &w->sh->batch;
	uint32_t first = b->held_first, end = b->held_end;

	if (end > PORTER_BURST)
		end = PORTER_BURST;
	if (first >= end) {
		b->held_first = b->held_end = 0;
		return 0;
	}
	w->sh->replayed_frames += end - first;
	/* input frames are single buffers (the primary linearises); an older recovery
	 * killed while chaining them for freeing may have linked them: unlink */
	for (uint32_t i = first; i < end; i++) {
		struct rte_mbuf *m = b->keep[i];

		m->next = NULL;
		m->nb_segs = 1;
	}
	tcp_ctx_clock(&w->tcp);
	pass2(w, first, end);
	return end - first;
}
