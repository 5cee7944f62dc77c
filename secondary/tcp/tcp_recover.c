/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Recovery of a shard's TCP area by a new worker (DESIGN §2, §3.4).
 *
 * The TCB array is the source of truth; everything else is derived from it
 * and rebuilt here, so a worker killed in the middle of a list update leaves
 * nothing its successor trips over:
 *   - the free list (every CLOSED entry below the highest live one; those
 *     above are the never-used part, tcp_area.hwm),
 *   - the 4-tuple lookup chains,
 *   - the timer wheel (re-armed from each TCB's deadlines),
 *   - the live and half-open counts.
 * Cost: one pass over the TCBs below the high-water mark when the previous
 * worker kept it (the streams ever open at once), else over the whole slab
 * (64 Ki streams: 1 to 3 ms here).
 */
#include "secondary/tcp/tcp_priv.h"

/* Walk a queue; returns its last mbuf and byte count, or false if it does not end. */
static bool walk(struct rte_mbuf *head, struct rte_mbuf **tail, uint32_t *bytes)
{
	uint32_t n = 0;

	*tail = NULL;
	*bytes = 0;
	for (struct rte_mbuf *m = head; m; m = m->next) {
		if (++n > (1u << 20))
			return false;
		*tail = m;
		*bytes += m->data_len;
	}
	return true;
}

/*
 * The stream the dead worker was changing (tcp_area.op_stream). Queue links
 * are always written head-first and unlinked before freeing, so the chains
 * are intact; what may lag is the derived bookkeeping (tails, byte counts,
 * acknowledged data not yet trimmed, SND.NXT vs SND.MAX). Recompute it; a
 * stream whose state or queues make no sense is reset instead (RST, freed).
 */
static void repair(struct tcp_ctx *c, struct tcp_tcb *t)
{
	struct rte_mbuf *tail;
	uint32_t bytes;
	bool ok = t->state > TCP_CLOSED && t->state < TCP_STATE__COUNT;

	if (t->state == TCP_CLOSED)
		return;
	if (ok && walk(t->snd_head, &tail, &bytes)) {
		t->snd_tail = tail;
		t->snd_bytes = bytes;
	} else {
		ok = false;
	}
	if (ok && walk(t->rcv_head, &tail, &bytes)) {
		t->rcv_tail = tail;
		t->rcv_bytes = bytes;
	} else {
		ok = false;
	}
	if (ok && walk(t->ooo_head, &tail, &bytes)) {
		t->ooo_tail = tail;
	} else {
		ok = false;
	}
	if (!ok) {
		/* cannot be trusted: forget its buffers (a leak beats a double free) and reset */
		t->snd_head = t->snd_tail = t->rcv_head = t->rcv_tail = t->ooo_head = NULL;
		t->snd_bytes = t->rcv_bytes = 0;
		if (t->state >= TCP_STATE__COUNT)
			t->state = TCP_ESTABLISHED;
		tcp_send_rst(c, t);
		t->app = TAPP_NONE;
		tcb_free(c, t);
		c->area->reset_on_recovery++;
		return;
	}
	/* acknowledged data the dead worker had not trimmed yet */
	while (t->snd_head && seq_leq(seg_end(t->snd_head), t->snd_una) &&
	       t->state != TCP_SYN_SENT && t->state != TCP_SYN_RECEIVED) {
		struct rte_mbuf *m = t->snd_head;

		t->snd_head = m->next;
		t->snd_bytes -= m->data_len;
		m->next = NULL;
		tcp_env_free(c, m);
	}
	if (t->snd_head == NULL)
		t->snd_tail = NULL;
	/* data linked into the receive queue before RCV.NXT moved past it: the
	 * queue is the truth (each segment keeps its sequence number), else the
	 * peer's retransmission would be taken as new data */
	if (t->rcv_tail && seq_gt(seg_end(t->rcv_tail), t->rcv_nxt))
		t->rcv_nxt = seg_end(t->rcv_tail);
	if (seq_gt(t->snd_nxt, t->snd_max))
		t->snd_max = t->snd_nxt;
	if (seq_lt(t->snd_nxt, t->snd_una))
		t->snd_nxt = t->snd_una;
	/* counts derived from the queues (loss recovery and SACK state, tcp_loss.c) */
	t->sacked_bytes = 0;
	for (struct rte_mbuf *m = t->snd_head; m; m = m->next)
		if (seg_flags(m) & SEG_SACKED)
			t->sacked_bytes += seg_len(m);
	t->ooo_segs = 0;
	for (unsigned int i = 0; i < 4; i++)
		t->sack[i].left = t->sack[i].right = 0;
	for (struct rte_mbuf *m = t->ooo_head; m; m = m->next) {
		uint32_t l = seg_seq(m), r = seg_end(m);
		unsigned int i;

		if (t->ooo_segs < UINT16_MAX)
			t->ooo_segs++;
		/* report the queue's first runs above RCV.NXT again (blocks only ever name data held) */
		if (seq_lt(l, t->rcv_nxt))
			l = t->rcv_nxt;
		if (!seq_lt(l, r))
			continue;
		for (i = 0; i < 4 && t->sack[i].left != t->sack[i].right; i++)
			if (seq_geq(l, t->sack[i].left) && seq_leq(l, t->sack[i].right))
				break;
		if (i == 4)
			continue;   /* four runs found: the others are only counted */
		if (t->sack[i].left == t->sack[i].right)
			t->sack[i].left = l;
		if (seq_gt(r, t->sack[i].right))
			t->sack[i].right = r;
	}
	t->dsack_left = t->dsack_right = 0;
	/* tell the peer where we are; it answers with its own view */
	t->flags |= TF(ACK_NOW);
	c->area->repaired++;
}

void tcp_rebuild(struct tcp_ctx *c)
{
	tcp_rebuild_below(c, c->area->max_streams);
}

void tcp_rebuild_below(struct tcp_ctx *c, uint32_t end)
{
	struct tcp_area *a = c->area;
	uint32_t live = 0, half_open = 0, top = 0;

	for (uint32_t i = 0; i < a->lookup_size; i++)
		c->lookup[i] = TCP_NIL;
	for (uint32_t i = 0; i < TCP_WHEEL_SLOTS; i++)
		c->wheel[i] = TCP_NIL;
	a->free_head = TCP_NIL;
	a->wheel_tick = c->now_ms / TCP_TICK_MS;
	/* backwards, so the free list hands out low indices first, as after
	 * init; CLOSED entries above the highest live one go above the mark */
	for (uint32_t i = end; i-- > 0;) {
		struct tcp_tcb *t = &c->tcbs[i];

		t->t_next = t->t_prev = TCP_NIL;
		t->t_at = 0;
		if (t->state == TCP_CLOSED || t->state >= TCP_STATE__COUNT) {
			t->state = TCP_CLOSED;
			if (top) {
				t->h_next = a->free_head;
				a->free_head = i;
			}
			continue;
		}
		if (top == 0)
			top = i + 1;
		live++;
		if (t->state == TCP_SYN_RECEIVED && (t->flags & TF(PASSIVE)))
			half_open++;
		tcb_hash_insert(c, t);
		tcp_timer_update(c, t);
	}
	/* set before the repair below, which may free (and so list) a TCB */
	__atomic_store_n(&a->hwm, top, __ATOMIC_RELEASE);
	a->live = live;
	a->half_open = half_open;
	/* after the indices exist (a reset frees through them) */
	if (a->op_stream < a->max_streams)
		repair(c, &c->tcbs[a->op_stream]);
	__atomic_store_n(&a->op_stream, TCP_NIL, __ATOMIC_RELEASE);
}

/*
 * Application events are edges, and the worker that died may have died
 * between a state change and the event it owed (data queued but not yet
 * echoed, send space opened but the source not yet refilled). Every stream's
 * application is therefore told "readable and writable" once by the new
 * worker; the services only look at the stream's state, so a spurious event
 * costs nothing. Then anything sendable is sent.
 */
void tcp_resume(struct tcp_ctx *c)
{
	for (uint32_t i = 0; i < c->area->hwm; i++) {
		struct tcp_tcb *t = &c->tcbs[i];

		if (t->state == TCP_CLOSED || t->state == TCP_TIME_WAIT)
			continue;
		if (t->app != TAPP_NONE &&
		    (t->state == TCP_ESTABLISHED || t->state == TCP_CLOSE_WAIT)) {
			tcp_notify(c, t, TEV_APP_READABLE | TEV_APP_WRITABLE |
					 ((t->flags & TF(RCVD_FIN)) ? TEV_APP_PEER_FIN : 0));
			if (t->state == TCP_CLOSED)
				continue;
		}
		tcp_output(c, t);
	}
}

/* Is M in some stream's send, receive or out-of-order queue? (recovery only: a full scan) */
bool tcp_owns_mbuf(const struct tcp_ctx *c, const struct rte_mbuf *m)
{
	for (uint32_t i = 0; i < c->area->hwm; i++) {
		const struct tcp_tcb *t = &c->tcbs[i];
		const struct rte_mbuf *q[3] = { t->snd_head, t->rcv_head, t->ooo_head };

		if (t->state == TCP_CLOSED)
			continue;
		for (unsigned int k = 0; k < 3; k++)
			for (const struct rte_mbuf *x = q[k]; x; x = x->next)
				if (x == m)
					return true;
	}
	return false;
}
