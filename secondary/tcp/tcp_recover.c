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
	/* a segment split in two (tcp_output.c seg_split) may still overlap its second half */
	for (struct rte_mbuf *m = t->snd_head, *n; m && (n = m->next) != NULL; m = n)
		if (seq_gt(seg_end(m), seg_seq(n)) && seq_geq(seg_seq(n), seg_seq(m))) {
			t->snd_bytes -= seg_end(m) - seg_seq(n);
			m->data_len = (uint16_t)(seg_seq(n) - seg_seq(m));
			m->pkt_len = m->data_len;
		}
	/* acknowledged data the dead worker had not trimmed yet */
	while (t->snd_head && seq_leq(seg_end(t->snd_head), t->snd_una) &&
	       t->state != TCP_SYN_SENT && t->state != TCP_SYN_RECEIVED) {
		struct rte_mbuf *m = tcp_q_pop(c, &t->snd_head);

		tcp_snd_hint_drop(c, t, m);

		t->snd_bytes -= m->data_len;
		tcp_env_free(c, m);
	}
	if (t->snd_head == NULL)
		t->snd_tail = NULL;
	/* data linked into the receive queue before RCV.NXT moved past it: the
	 * queue is the truth (each segment keeps its sequence number), else the
	 * peer's retransmission would be taken as new data */
	if (t->rcv_tail && seq_gt(seg_end(t->rcv_tail), t->rcv_nxt))
		t->rcv_nxt = seg_end(t->rcv_tail);
	/* ... which may have made the out-of-order queue's head in order (its FIN, if
	 * any, is not taken here: the peer sends it again) */
	if (t->ooo_head && seq_leq(seg_seq(t->ooo_head), t->rcv_nxt) && !(t->flags & TF(RCVD_FIN)))
		tcp_ooo_drain(c, t);
	/* a close the dead worker had flagged but not carried into the state (tcp_shutdown) */
	if ((t->flags & TF(FIN_QUEUED)) && (t->state == TCP_ESTABLISHED || t->state == TCP_SYN_RECEIVED))
		tcp_set_state(c, t, TCP_FIN_WAIT_1);
	else if ((t->flags & TF(FIN_QUEUED)) && t->state == TCP_CLOSE_WAIT)
		tcp_set_state(c, t, TCP_LAST_ACK);
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
	/* tell the peer where we are; it answers with its own view (SYN-SENT has nothing
	 * to acknowledge: its SYN goes again by the timer) */
	if (t->state != TCP_SYN_SENT)
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
	struct climit *cl = c->climit;
	uint32_t live = 0, half_open = 0, top = 0;

	/* the client counts are derived too: recounted at the end, so repair's resets
	 * must not count down a table that does not hold them yet */
	c->climit = NULL;

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
	/* after the indices exist (a reset frees through them): every stream the
	 * dead worker had flagged since its last quiescent point (and the one a
	 * layout 2.0 worker named in op_stream) */
	if (a->op_stream < a->max_streams)
		c->tcbs[a->op_stream].flags |= TF(TOUCHED);
	for (uint32_t i = 0; i < end; i++) {
		struct tcp_tcb *t = &c->tcbs[i];

		if (!(t->flags & TF(TOUCHED)))
			continue;
		CRASH_POINT("tcp_recover.repair");
		repair(c, t);
		t->flags &= ~TF(TOUCHED);
	}
	__atomic_store_n(&a->op_stream, TCP_NIL, __ATOMIC_RELEASE);
	c->climit = cl;
	tcp_climit_recount(c);
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

/*
 * Is M in some stream's send, receive or out-of-order queue? Reads only the
 * TCB array of the area at AREA (queue heads and links), so it answers before
 * the area is attached and rebuilt. Recovery only: a full scan (below the
 * high-water mark when GRANT's predecessor kept it, tcp_area_scan_end).
 */
bool tcp_area_owns_mbuf(const void *area, const struct rte_mbuf *m, uint64_t grant)
{
	const struct tcp_area *a = area;
	const struct tcp_tcb *tcbs;
	uint32_t end;

	if (m == NULL || __atomic_load_n(&a->magic, __ATOMIC_ACQUIRE) != TCP_AREA_MAGIC ||
	    a->tcb_size != sizeof(struct tcp_tcb))
		return false;
	end = tcp_area_scan_end(a, grant);
	tcbs = (const struct tcp_tcb *)((const char *)a + a->tcb_off);
	for (uint32_t i = 0; i < end; i++) {
		const struct tcp_tcb *t = &tcbs[i];
		const struct rte_mbuf *q[3] = { t->snd_head, t->rcv_head, t->ooo_head };

		if (t->state == TCP_CLOSED)
			continue;
		for (unsigned int k = 0; k < 3; k++) {
			uint32_t n = 0;

			for (const struct rte_mbuf *x = q[k]; x && ++n < (1u << 20); x = x->next)
				if (x == m)
					return true;
		}
	}
	return false;
}

#define CHECK(cond, ...)                                                                    \
	do {                                                                                \
		if (!(cond)) {                                                              \
			if (log && bad < 8) {                                               \
				fprintf(log, "tcp_check: stream %u: ", i);                  \
				fprintf(log, __VA_ARGS__);                                  \
				fputc('\n', log);                                           \
			}                                                                   \
			bad++;                                                              \
		}                                                                           \
	} while (0)

/* One queue: contiguous (or, for out-of-order, ascending and disjoint); its tail and bytes. */
static unsigned int check_queue(const struct rte_mbuf *head, const struct rte_mbuf *tail, bool ooo,
				uint32_t *bytes, uint32_t *segs, uint32_t *sacked, uint32_t *end)
{
	const struct rte_mbuf *last = NULL;
	uint32_t n = 0;

	*bytes = *segs = *sacked = 0;
	for (const struct rte_mbuf *m = head; m; m = m->next) {
		if (++n > (1u << 20))
			return 1;
		if (last && (ooo ? seq_lt(seg_seq(m), seg_end(last)) : seg_seq(m) != seg_end(last)))
			return 2;
		if (!ooo && m->pkt_len != m->data_len)
			return 3;
		*bytes += seg_len(m);
		(*segs)++;
		if (!ooo && (seg_flags(m) & SEG_SACKED))
			*sacked += seg_len(m);
		last = m;
	}
	if (tail != last && !(ooo && tail == NULL))
		return 4;
	*end = last ? seg_end(last) : 0;
	return 0;
}

unsigned int tcp_check(const struct tcp_ctx *c, FILE *log)
{
	const struct tcp_area *a = c->area;
	unsigned int bad = 0;
	uint32_t live = 0, i = 0, free_n = 0;

	for (i = 0; i < a->max_streams; i++) {
		const struct tcp_tcb *t = &c->tcbs[i];
		uint32_t bytes, segs, sacked, end, fin = (t->flags & TF(RCVD_FIN)) ? 1 : 0;
		unsigned int r;

		if (t->state == TCP_CLOSED) {
			CHECK(c->snd_hint == NULL || c->snd_hint[i] == NULL, "closed, with a send-queue hint");
			continue;
		}
		live++;
		CHECK(t->state < TCP_STATE__COUNT, "state %u", t->state);
		CHECK(tcb_lookup((struct tcp_ctx *)c, t->laddr, t->lport, t->raddr, t->rport) == t,
		      "not found by its 4-tuple");
		r = check_queue(t->snd_head, t->snd_tail, false, &bytes, &segs, &sacked, &end);
		CHECK(r == 0, "send queue broken (%u)", r);
		if (r == 0) {
			CHECK(bytes == t->snd_bytes, "snd_bytes %u, queue holds %u", t->snd_bytes, bytes);
			CHECK(sacked == t->sacked_bytes, "sacked_bytes %u, queue marks %u", t->sacked_bytes,
			      sacked);
			CHECK(t->snd_head == NULL || t->state == TCP_SYN_SENT || t->state == TCP_SYN_RECEIVED ||
			      (seq_leq(seg_seq(t->snd_head), t->snd_una) && seq_gt(end, t->snd_una)),
			      "send queue [%u, %u) does not start at SND.UNA %u",
			      t->snd_head ? seg_seq(t->snd_head) : 0, end, t->snd_una);
		}
		CHECK(seq_leq(t->snd_una, t->snd_nxt) && seq_leq(t->snd_nxt, t->snd_max),
		      "SND.UNA %u, SND.NXT %u, SND.MAX %u", t->snd_una, t->snd_nxt, t->snd_max);
		if (c->snd_hint && c->snd_hint[i]) {
			/* the search hint (tcp_output.c seg_at) is a buffer of this queue, never a freed one */
			const struct rte_mbuf *m = t->snd_head;

			while (m && m != c->snd_hint[i])
				m = m->next;
			CHECK(m != NULL, "send-queue hint is not in the send queue");
		}
		r = check_queue(t->rcv_head, t->rcv_tail, false, &bytes, &segs, &sacked, &end);
		CHECK(r == 0, "receive queue broken (%u)", r);
		if (r == 0) {
			CHECK(bytes == t->rcv_bytes, "rcv_bytes %u, queue holds %u", t->rcv_bytes, bytes);
			CHECK(t->rcv_head == NULL || end == t->rcv_nxt - fin,
			      "receive queue ends at %u, RCV.NXT %u", end, t->rcv_nxt);
		}
		r = check_queue(t->ooo_head, t->ooo_tail, true, &bytes, &segs, &sacked, &end);
		CHECK(r == 0, "out-of-order queue broken (%u)", r);
		if (r == 0) {
			CHECK(segs == t->ooo_segs, "ooo_segs %u, queue holds %u", t->ooo_segs, segs);
			CHECK(t->ooo_head == NULL || seq_gt(seg_seq(t->ooo_head), t->rcv_nxt),
			      "out-of-order queue starts at %u, below RCV.NXT %u", seg_seq(t->ooo_head),
			      t->rcv_nxt);
		}
	}
	i = TCP_NIL;
	CHECK(live == a->live, "live %u, counted %u", a->live, live);
	for (uint32_t f = a->free_head; f != TCP_NIL && free_n <= a->max_streams; f = c->tcbs[f].h_next) {
		CHECK(f < a->max_streams && c->tcbs[f].state == TCP_CLOSED, "free list holds %u", f);
		if (f >= a->max_streams)
			break;
		free_n++;
	}
	/* TCBs from the high-water mark up were never handed out: on no list, CLOSED */
	CHECK(a->hwm <= a->max_streams && free_n + live == a->hwm, "free %u + live %u != high-water mark %u",
	      free_n, live, a->hwm);
	for (uint32_t k = a->hwm; k < a->max_streams; k++)
		if (c->tcbs[k].state != TCP_CLOSED) {
			i = k;
			CHECK(false, "live above the high-water mark %u", a->hwm);
			break;
		}
	return bad + tcp_climit_check(c, log);
}
