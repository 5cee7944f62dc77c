/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loss recovery of SACK streams, as a current stack does it:
 *
 *  - RACK (RFC 8985 §6) detects loss by time: a segment is lost when a
 *    segment sent after it was delivered and a reordering window has passed
 *    since that delivery would have been expected. Lost retransmissions are
 *    found the same way (no timeout needed), and so is loss in a flight
 *    with fewer than three segments after the hole.
 *  - TLP (RFC 8985 §7) sends a probe two RTTs after the last transmission
 *    when nothing comes back, so a lost tail gets SACK feedback instead of
 *    waiting for the RTO.
 *  - PRR (RFC 6937) paces the window reduction across the recovery.
 *  - NextSeg (RFC 6675 §4) rules 1-4 choose what to send during recovery.
 *  - D-SACK (RFC 2883) widens the reordering window and, when every
 *    retransmission of an episode turns out needless, undoes its reduction.
 *  - After an RTO the scoreboard is kept (RFC 8985 §6.3): what the peer
 *    SACKed is not sent again; the rest is resent in slow start.
 *
 * All state is in the TCB (shared memory) or in the send queue's mbufs
 * (sequence, flags, send time): a new worker continues any recovery.
 * Streams without SACK keep NewReno (RFC 6582) in tcp_input.c.
 */
#include "secondary/tcp/tcp_priv.h"

#define REO_PERSIST 16     /* RFC 8985 §6.2 step 4: recoveries before reo_wnd_mult resets */

static inline int32_t us_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

/* RFC 8985 RACK_sent_after(t1, seq1, t2, seq2) */
static bool sent_after(uint32_t t1, uint32_t seq1, uint32_t t2, uint32_t seq2)
{
	return us_diff(t1, t2) > 0 || (t1 == t2 && seq_gt(seq1, seq2));
}

static bool rack_valid(const struct tcp_tcb *t) { return t->rack_end_seq || t->rack_xmit_us; }

static void reorder_seen(struct tcp_ctx *c, struct tcp_tcb *t)
{
	if (!(t->flags & TF(REORDER_SEEN)))
		tcp_count(c, TEV_REORDER_SEEN);
	t->flags |= TF(REORDER_SEEN);
}

/* RFC 6675 §4 "pipe": bytes believed in flight. */
uint32_t tcp_sack_pipe(const struct tcp_tcb *t)
{
	uint32_t pipe = 0;

	for (const struct rte_mbuf *m = t->snd_head; m && seq_lt(seg_seq(m), t->snd_max); m = m->next) {
		uint32_t f = seg_flags(m), len = seg_len(m);

		if (!(f & SEG_SENT) || (f & SEG_SACKED))
			continue;
		if (!(f & SEG_LOST))
			pipe += len;
		if (f & SEG_RETRANS)
			pipe += len;
	}
	if ((t->flags & TF(FIN_SENT)) && seq_lt(t->snd_una, t->snd_max))
		pipe += 1;
	return pipe;
}

/*
 * Bytes in flight outside a recovery episode, as the send gate counts them:
 * SND.NXT - SND.UNA, less what the peer SACKed once it has (RFC 6675 §5 step
 * 3; Linux counts its packets in flight the same way in every state). Outside
 * recovery nothing is marked lost but a PLPMTUD probe's resent pieces (lost
 * and resent: counted once either way), so that is pipe without the walk;
 * only a tail loss probe's resend (counted twice) or a go-back needs it.
 */
uint32_t tcp_in_flight(const struct tcp_tcb *t)
{
	if (!(t->flags & TF(SACK_OK)) || !t->sacked_bytes)
		return t->snd_nxt - t->snd_una;
	if ((t->flags & TF(TLP_RETRANS)) || t->snd_nxt != t->snd_max)
		return tcp_sack_pipe(t);
	return t->snd_max - t->snd_una - t->sacked_bytes;
}

/* A segment (part of it) went out: its send time, and the episode's books. */
void tcp_loss_on_sent(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *seg, uint32_t len, bool retrans)
{
	seg_set_xmit_us(seg, (uint32_t)c->now_us);
	if (!retrans && !(seg_flags(seg) & SEG_EVER_RETRANS))
		seg_set_first_us(seg, (uint32_t)c->now_us);
	if (t->flags & TF(RECOVERY))
		t->prr_out += len;
	if (retrans && (t->flags & (TF(RECOVERY) | TF(LOSS))) && t->undo_retrans < UINT16_MAX)
		t->undo_retrans++;
}

/*
 * The echoed TSval's age in us, (now_ms - TSecr) * 1000: the segment the ACK
 * answers left at least this long ago (TSval is the ms clock). 0 with no echo,
 * one from the future, or one over an hour old. Only a resent segment's
 * delivery asks, so it is not worked out for every ACK.
 */
static uint32_t tsecr_age_us(const struct tcp_ctx *c, const struct tcp_ack_info *ai)
{
	uint32_t d = c->now_ms - ai->ts_ecr;

	if (!ai->ts_ecr || ms_before(c->now_ms, ai->ts_ecr) || d >= 3600000u)
		return 0;
	return d * 1000u;
}

/*
 * RFC 8985 §6.2 steps 2-3 for segment M, just delivered (cumulatively
 * acknowledged or SACKed): the most recently sent delivered segment, its
 * RTT, and whether the peer delivered out of order.
 */
void tcp_rack_delivered(struct tcp_ctx *c, struct tcp_tcb *t, const struct rte_mbuf *m,
			const struct tcp_ack_info *ai, bool cum)
{
	uint32_t f = seg_flags(m), xmit = seg_xmit_us(m), end = seg_end(m);
	int32_t rtt = us_diff((uint32_t)c->now_us, xmit);

	if (!(f & SEG_SENT))
		return;
	if (rtt < 0)
		rtt = 0;
	if (f & SEG_EVER_RETRANS) {
		/*
		 * The delivery may be the original's: no sample when the RTT would be
		 * implausibly short (step 2). Half the minimum, not the minimum: on a
		 * LAN the minimum of a few samples is within scheduling noise of every
		 * RTT, and a lost tail repaired by a probe would look like the
		 * original's delivery.
		 *
		 * Nor when a cumulative ACK echoes a TSval older than this
		 * transmission by more than the clock's tick, and M was the hole (it
		 * began at the old SND.UNA): the segment that fills the hole sets
		 * TS.Recent (RFC 7323 §4.3), so an earlier transmission filled it (as
		 * Eifel detection, RFC 3522, reads it). That happens when a worker
		 * took the ACK late and resent the segment after the peer had it: the
		 * resend's young send time would make RACK call lost everything sent
		 * before it and not yet acknowledged. Segments past the hole may be
		 * covered by an echo of another, and a SACK never qualifies: an
		 * out-of-order arrival does not update TS.Recent, so a SACKed
		 * retransmission always looks older than it is. With several resends
		 * the first send orders, whichever one was delivered.
		 */
		if ((t->min_rtt_us && (uint32_t)rtt < t->min_rtt_us / 2) ||
		    (cum && seq_leq(seg_seq(m), ai->old_una) && tsecr_age_us(c, ai) > (uint32_t)rtt + 999)) {
			/*
			 * No RTT, but an order: some transmission of M was delivered, the
			 * first one at the earliest, and whatever went before that first
			 * one and is still missing is as overdue as RACK says (the tail
			 * of two lost segments, the last one repaired by a probe).
			 */
			xmit = seg_first_us(m);
			if (rack_valid(t) && sent_after(xmit, end, t->rack_xmit_us, t->rack_end_seq)) {
				t->rack_xmit_us = xmit;
				t->rack_end_seq = end;
			}
			if (!rack_valid(t) || seq_gt(end, t->rack_fack))
				t->rack_fack = end;
			return;
		}
	} else {
		if (ai->fack0_ok && seq_lt(end, ai->fack0))
			reorder_seen(c, t);   /* below what an earlier ACK had delivered */
		/* the minimum only from segments sent once: an ambiguous sample never lowers it */
		if (rtt && (!t->min_rtt_us || (uint32_t)rtt < t->min_rtt_us))
			t->min_rtt_us = (uint32_t)rtt;
	}
	if (!rack_valid(t) || seq_gt(end, t->rack_fack))
		t->rack_fack = end;
	if (!rack_valid(t) || sent_after(xmit, end, t->rack_xmit_us, t->rack_end_seq)) {
		t->rack_xmit_us = xmit;
		t->rack_end_seq = end;
		t->rack_rtt_us = (uint32_t)rtt;
	}
}

/* RFC 8985 §6.2 step 4: the reordering window. */
static uint32_t reo_wnd(const struct tcp_tcb *t)
{
	uint32_t w, cap;

	if (!(t->flags & TF(REORDER_SEEN))) {
		if (t->flags & (TF(RECOVERY) | TF(LOSS)))
			return 0;
		if (t->sacked_bytes >= TCP_DUPTHRESH * (uint32_t)t->mss)
			return 0;
	}
	w = (t->reo_mult ? t->reo_mult : 1) * (t->min_rtt_us / 4);
	cap = t->srtt_us ? t->srtt_us : t->min_rtt_us;
	return w < cap ? w : cap;
}

/* A segment marked lost and not resent since? */
static bool lost_pending(const struct tcp_tcb *t)
{
	for (const struct rte_mbuf *m = t->snd_head; m && seq_lt(seg_seq(m), t->snd_max); m = m->next)
		if ((seg_flags(m) & (SEG_LOST | SEG_RETRANS | SEG_SACKED | SEG_SENT)) == (SEG_LOST | SEG_SENT))
			return true;
	return false;
}

/*
 * A lost PLPMTUD probe M (tcp_pmtu.c) goes again at once, in MSS-sized
 * pieces, whatever the windows say (its bytes were in flight already), and
 * outside any recovery episode: the window stays (RFC 4821 §7.6.2). Each
 * piece is marked lost and resent, as NextSeg leaves what it resent; if a
 * piece is lost in turn, RACK finds it and that is congestion.
 */
static void resend_probe(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *m)
{
	uint32_t end = seg_end(m);

	while (m && seq_lt(seg_seq(m), end)) {
		struct rte_mbuf *next;

		if (tcp_retransmit_seg(c, t, m) < 0)
			return;   /* no buffer: the piece stays lost, the RTO resends it */
		next = m->next;
		m = next;
	}
}

/*
 * RFC 8985 §6.2 step 5, RACK_detect_loss(): mark lost every outstanding
 * segment sent before the most recently delivered one whose delivery is
 * overdue by the reordering window. Returns how long (us) until the next
 * one would be overdue, 0 if none waits.
 */
static uint32_t rack_detect_loss(struct tcp_ctx *c, struct tcp_tcb *t, bool *lost)
{
	uint32_t now = (uint32_t)c->now_us, reo = reo_wnd(t), wait = 0;
	struct rte_mbuf *probe = NULL;

	*lost = false;
	if (!rack_valid(t))
		return 0;
	for (struct rte_mbuf *m = t->snd_head; m && seq_lt(seg_seq(m), t->snd_max); m = m->next) {
		uint32_t f = seg_flags(m);
		int32_t left;

		if (!(f & SEG_SENT) || (f & SEG_SACKED))
			continue;
		if ((f & SEG_LOST) && !(f & SEG_RETRANS))
			continue;   /* already lost, not resent yet */
		if (!sent_after(t->rack_xmit_us, t->rack_end_seq, seg_xmit_us(m), seg_end(m)))
			continue;
		left = us_diff(seg_xmit_us(m) + t->rack_rtt_us + reo, now);
		if (left <= 0 && (f & SEG_PROBE)) {
			/* a PLPMTUD probe: too large for the path, not congestion (RFC 4821 §7.6.2) */
			tcp_pmtu_probe_failed(c, t, m);
			seg_set_flags(m, seg_flags(m) | SEG_LOST);
			probe = m;
		} else if (left <= 0) {
			/* lost (again, if it was a retransmission): NextSeg rule 1 resends it */
			seg_set_flags(m, (f | SEG_LOST) & ~SEG_RETRANS);
			tcp_count(c, TEV_RACK_LOST);
			*lost = true;
		} else if ((uint32_t)left > wait) {
			wait = (uint32_t)left;
		}
	}
	if (probe)
		resend_probe(c, t, probe);
	return wait;
}

/* Arm RACK's reordering timer WAIT us from now, unless the current deadline comes first. */
static void reo_timer_arm(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t wait_us)
{
	uint32_t at = c->now_ms + (wait_us + 999) / 1000;

	if (at == 0)
		at = 1;
	if (t->rto_at && !ms_before(at, t->rto_at))
		return;
	/* the flag first: a worker killed between the stores leaves a later deadline read
	 * as the reordering timer (harmless), never an early one read as the RTO */
	t->flags = (t->flags & ~TF(PTO)) | TF(REO);
	t->rto_at = at;
	tcp_timer_update(c, t);
}

static void episode_start(struct tcp_tcb *t)
{
	t->prior_cwnd = t->cc.cwnd;
	t->prior_ssthresh = t->cc.ssthresh;
	t->undo_marker = t->snd_una;
	t->undo_retrans = 0;
	t->flags &= ~TF(RESCUE);
	/* RFC 8985 §6.2 step 4: after REO_PERSIST recoveries without D-SACK, back to 1 */
	if (t->reo_persist && --t->reo_persist == 0)
		t->reo_mult = 1;
}

/* Fast recovery on RACK's verdict (RFC 6675 §5 steps 4-5 with RFC 6937). */
static void enter_recovery(struct tcp_ctx *c, struct tcp_tcb *t)
{
	uint32_t flight = t->snd_max - t->snd_una;

	episode_start(t);
	t->flags &= ~TF(ECN_HOLD);   /* recover_fs takes ecn_high's place; the loss reduces anyway */
	tcp_ecn_reduced(t);
	t->flags |= TF(RECOVERY);
	t->recover = t->snd_max;
	tcp_cc_on_loss(&t->cc, t->mss, flight, 0);
	t->recover_fs = flight ? flight : 1;
	t->prr_delivered = 0;
	t->prr_out = 0;
	if (t->flags & TF(PTO))
		tcp_rto_arm(c, t);   /* no probe during recovery */
	tcp_count(c, TEV_SACK_RECOVERY);
}

/* RFC 6937 §3: the window for this ACK, as cwnd = pipe + sndcnt. */
static void prr_update(struct tcp_tcb *t, uint32_t delivered)
{
	uint32_t pipe = tcp_sack_pipe(t), ss = t->cc.ssthresh;
	int64_t sndcnt;

	t->prr_delivered += delivered;
	if (pipe > ss) {
		/* proportional rate reduction */
		sndcnt = (int64_t)(((uint64_t)t->prr_delivered * ss + t->recover_fs - 1) / t->recover_fs) -
			 (int64_t)t->prr_out;
	} else {
		/* slow start reduction bound: back up to ssthresh, at most one MSS beyond what left */
		int64_t limit = (int64_t)t->prr_delivered - (int64_t)t->prr_out;

		if (limit < (int64_t)delivered)
			limit = delivered;
		limit += t->mss;
		sndcnt = (int64_t)ss - (int64_t)pipe;
		if (sndcnt > limit)
			sndcnt = limit;
	}
	if (sndcnt < 0)
		sndcnt = 0;
	if (sndcnt == 0 && t->prr_out == 0)
		sndcnt = t->mss;   /* the fast retransmit itself always goes */
	t->cc.cwnd = pipe + (uint32_t)sndcnt;
}

/* Every retransmission of the episode was D-SACKed: the reduction was needless. */
static void undo(struct tcp_ctx *c, struct tcp_tcb *t)
{
	if (!t->prior_cwnd)
		return;
	tcp_cc_undo(&t->cc, t->mss, t->prior_cwnd, t->prior_ssthresh);
	t->prior_cwnd = 0;
	t->flags &= ~(TF(RECOVERY) | TF(LOSS));
	reorder_seen(c, t);
	for (struct rte_mbuf *m = t->snd_head; m && seq_lt(seg_seq(m), t->snd_max); m = m->next)
		seg_set_flags(m, seg_flags(m) & ~SEG_LOST);
	tcp_count(c, TEV_UNDO);
}

/*
 * SACK blocks of an ACK (RFC 2018 §4): mark what they cover, feed RACK.
 * A first block below the cumulative ACK, or inside the second block, is a
 * D-SACK (RFC 2883 §4): duplicate data, not a hole report.
 */
void tcp_sack_mark(struct tcp_ctx *c, struct tcp_tcb *t, const struct tcp_opts *o, struct tcp_ack_info *ai)
{
	for (unsigned int b = 0; b < o->nsack; b++) {
		uint32_t l = o->sack[b].left, r = o->sack[b].right;

		if (!seq_lt(l, r))
			continue;
		if (b == 0 && (seq_leq(r, ai->ack) ||
			       (o->nsack > 1 && seq_geq(l, o->sack[1].left) && seq_leq(r, o->sack[1].right)))) {
			ai->dsack = true;
			ai->dsack_left = l;
			ai->dsack_right = r;
			tcp_count(c, TEV_DSACKS_RCVD);
			continue;
		}
		if (seq_leq(r, t->snd_una) || seq_gt(r, t->snd_max))
			continue;
		for (struct rte_mbuf *m = t->snd_head; m && seq_lt(seg_seq(m), r); m = m->next) {
			uint32_t f = seg_flags(m);

			if ((f & (SEG_SACKED | SEG_SENT)) != SEG_SENT || seq_lt(seg_seq(m), l) ||
			    seq_gt(seg_end(m), r))
				continue;
			seg_set_flags(m, f | SEG_SACKED);
			t->sacked_bytes += seg_len(m);
			tcp_rack_delivered(c, t, m, ai, false);
			if (f & SEG_PROBE)
				tcp_pmtu_probe_acked(c, t, m);   /* RFC 4821 §7.6.1: a SACK is delivery */
		}
	}
}

/* D-SACK: the reordering window grows once per round (RFC 8985 §6.2 step 4); undo; the probe's fate. */
static void dsack_seen(struct tcp_ctx *c, struct tcp_tcb *t, const struct tcp_ack_info *ai)
{
	if (!t->dsack_round || seq_geq(t->snd_una, t->dsack_round)) {
		if (t->reo_mult < UINT8_MAX)
			t->reo_mult = (uint8_t)((t->reo_mult ? t->reo_mult : 1) + 1);
		t->dsack_round = t->snd_max ? t->snd_max : 1;
		t->reo_persist = REO_PERSIST;
	}
	if (t->tlp_end_seq && (t->flags & TF(TLP_RETRANS)) && seq_leq(ai->dsack_right, t->tlp_end_seq) &&
	    seq_geq(ai->dsack_right + t->mss + 1, t->tlp_end_seq)) {
		t->tlp_end_seq = 0;   /* the probe was a duplicate: the tail was not lost (RFC 8985 §7.4) */
		return;
	}
	if (t->prior_cwnd && t->undo_retrans && seq_geq(ai->dsack_left, t->undo_marker)) {
		uint32_t n = (ai->dsack_right - ai->dsack_left + t->mss - 1) / t->mss;

		t->undo_retrans = (uint16_t)(n >= t->undo_retrans ? 0 : t->undo_retrans - n);
		if (!t->undo_retrans)
			undo(c, t);
	}
}

/* RFC 8985 §7.4: did the outstanding probe repair a loss? */
static void tlp_episode(struct tcp_ctx *c, struct tcp_tcb *t, const struct tcp_seg *sg, uint32_t delivered,
			const struct tcp_ack_info *ai)
{
	if (!t->tlp_end_seq || seq_lt(sg->ack, t->tlp_end_seq))
		return;
	if (!(t->flags & TF(TLP_RETRANS))) {
		t->tlp_end_seq = 0;   /* the probe was new data: nothing to learn */
	} else if (seq_gt(sg->ack, t->tlp_end_seq)) {
		/* acknowledged past the probe and no D-SACK for it: the probe repaired a loss */
		t->tlp_end_seq = 0;
		if (!(t->flags & (TF(RECOVERY) | TF(LOSS)))) {
			/* the reduction of a recovery, done at once (RFC 8985 §7.4.2) */
			tcp_cc_on_loss(&t->cc, t->mss, t->snd_max - t->snd_una, 0);
			tcp_cc_on_reduction_end(&t->cc, t->mss);
		}
		tcp_count(c, TEV_TLP_REPAIRED);
	} else if (ai->old_una == t->snd_una && !delivered && !ai->dsack) {
		t->tlp_end_seq = 0;   /* a pure duplicate ACK: original and probe both arrived */
	}
}

/*
 * The SACK stream's side of an ACK, after SND.UNA moved (or not) and the
 * blocks were marked: reneging, D-SACK, the probe, RACK, and the recovery
 * episode with its PRR window.
 */
void tcp_sack_ack(struct tcp_ctx *c, struct tcp_tcb *t, const struct tcp_seg *sg, struct tcp_ack_info *ai)
{
	int64_t d = (int64_t)(t->snd_una - ai->old_una) + (int64_t)t->sacked_bytes - (int64_t)ai->sacked_before;
	uint32_t delivered = d > 0 ? (uint32_t)d : 0, wait;
	bool lost, was = !!(t->flags & (TF(RECOVERY) | TF(LOSS)));

	/* the cumulative ACK stops where the peer had SACKed: it dropped that data */
	if (t->sacked_bytes && t->snd_head && (seg_flags(t->snd_head) & SEG_SACKED) &&
	    seg_seq(t->snd_head) == t->snd_una) {
		for (struct rte_mbuf *m = t->snd_head; m; m = m->next)
			seg_set_flags(m, seg_flags(m) & ~SEG_SACKED);
		t->sacked_bytes = 0;
		tcp_count(c, TEV_SACK_RENEGED);
	}
	if (ai->dsack)
		dsack_seen(c, t, ai);
	tlp_episode(c, t, sg, delivered, ai);
	/* the episode ends when everything outstanding at its start is acknowledged */
	if ((t->flags & TF(RECOVERY)) && seq_geq(t->snd_una, t->recover)) {
		t->flags &= ~TF(RECOVERY);
		tcp_cc_on_reduction_end(&t->cc, t->mss);
		tcp_ecn_hold(t);   /* the peer may still echo marks of the lost window */
	}
	if ((t->flags & TF(LOSS)) && seq_geq(t->snd_una, t->recover)) {
		t->flags &= ~TF(LOSS);
		tcp_ecn_hold(t);
	}
	if (!t->sacked_bytes && !(t->flags & (TF(RECOVERY) | TF(LOSS))) && !ai->dsack && !was)
		return;   /* nothing delivered out of order: nothing can be lost */
	wait = rack_detect_loss(c, t, &lost);
	/* an episode that ended with segments marked lost but not resent yet (PRR had
	 * no room for them): a new one resends them, as Linux re-enters recovery */
	if (!lost && was && !(t->flags & (TF(RECOVERY) | TF(LOSS))))
		lost = lost_pending(t);
	if (lost && !(t->flags & (TF(RECOVERY) | TF(LOSS))))
		enter_recovery(c, t);
	if (t->flags & TF(RECOVERY))
		prr_update(t, delivered);
	if (wait)
		reo_timer_arm(c, t, wait);
	/* the caller runs output for the stream after the ACK */
}

/*
 * RFC 8985 §6.3 with RFC 6675 §5.1: the RTO fired on a SACK stream. The
 * scoreboard stays; the first outstanding segment is lost, and so is every
 * other one sent at least an RTT (plus the reordering window) ago; they go
 * again in slow start from a one-segment window, in NextSeg order.
 */
void tcp_sack_rto(struct tcp_ctx *c, struct tcp_tcb *t)
{
	uint32_t now = (uint32_t)c->now_us, reo, flight = t->snd_max - t->snd_una;
	bool first = true;

	bool again = !!(t->flags & (TF(RECOVERY) | TF(LOSS)));
	uint32_t ss = t->cc.ssthresh;
	struct rte_mbuf *head = NULL;

	if (!again)
		episode_start(t);
	else
		t->undo_retrans = 0;   /* the episode's retransmissions failed: no undo by D-SACK */
	tcp_cc_on_rto(&t->cc, t->mss, flight);
	if (again)
		t->cc.ssthresh = ss;   /* reduced once per episode (RFC 5681 §3.1: not again for a repeated timeout) */
	t->flags &= ~(TF(RECOVERY) | TF(RTT_TIMING) | TF(PTO) | TF(REO) | TF(RESCUE) | TF(REXMIT));
	t->flags |= TF(LOSS);
	t->recover = t->snd_max;
	tcp_ecn_reduced(t);
	tcp_ecn_hold(t);
	t->dupacks = 0;
	t->tlp_end_seq = 0;
	if (t->rto_shift > 1 && t->sacked_bytes) {
		/* a second timeout in a row: the peer may have dropped what it SACKed (RFC 2018 §8) */
		for (struct rte_mbuf *m = t->snd_head; m; m = m->next)
			seg_set_flags(m, seg_flags(m) & ~SEG_SACKED);
		t->sacked_bytes = 0;
	}
	reo = reo_wnd(t);
	for (struct rte_mbuf *m = t->snd_head; m && seq_lt(seg_seq(m), t->snd_max); m = m->next) {
		uint32_t f = seg_flags(m);

		if (!(f & SEG_SENT) || (f & SEG_SACKED))
			continue;
		if (first || us_diff(now, seg_xmit_us(m)) >= (int32_t)(t->rack_rtt_us + reo)) {
			seg_set_flags(m, (f | SEG_LOST) & ~SEG_RETRANS);
			tcp_count(c, TEV_RACK_LOST);
		}
		if (first)
			head = m;
		first = false;
	}
	t->rto_at = 0;
	/* the first outstanding segment goes whatever pipe says (as Linux does): a
	 * segment sent just before the timeout must not hold the loss window shut */
	if (head)
		tcp_retransmit_seg(c, t, head);
	tcp_output(c, t);
	tcp_rto_arm(c, t);
}

/* RFC 8985 §7.2: may a probe be scheduled now? */
bool tcp_pto_allowed(const struct tcp_tcb *t)
{
	return (t->flags & TF(SACK_OK)) && !(t->flags & (TF(RECOVERY) | TF(LOSS))) &&
	       t->state >= TCP_ESTABLISHED && t->state != TCP_FIN_WAIT_2 && t->state != TCP_TIME_WAIT &&
	       t->snd_head && t->srtt_us &&
	       t->snd_wnd && !t->rto_shift && (!t->tlp_end_seq || seq_geq(t->snd_una, t->tlp_end_seq));
}

/*
 * The stream's retransmission timer after an ACK or new data: off when
 * nothing is outstanding, else the tail loss probe's timeout (RFC 8985 §7.2:
 * PTO = 2 SRTT, plus the peer's worst delayed ACK when one segment is out,
 * never past the RTO; plus TCP_TLP_MIN_MS of slack for the receiver's
 * scheduling, as Linux adds), else the RTO (RFC 6298 §5.3).
 */
void tcp_arm_retransmit_timer(struct tcp_ctx *c, struct tcp_tcb *t)
{
	uint64_t pto_us;
	uint32_t pto_ms;

	t->flags &= ~(TF(PTO) | TF(REO));
	if (t->snd_una == t->snd_max) {
		t->rto_at = 0;
		tcp_timer_update(c, t);
		return;
	}
	if (!tcp_pto_allowed(t)) {
		tcp_rto_arm(c, t);
		return;
	}
	pto_us = 2ull * t->srtt_us + TCP_TLP_MIN_MS * 1000ull;
	if (t->snd_max - t->snd_una <= t->mss)
		pto_us += TCP_TLP_DELACK_MS * 1000ull;
	pto_us += tcp_pace_delay_us(c, t);
	pto_ms = (uint32_t)((pto_us + 999) / 1000);
	if (pto_ms == 0)
		pto_ms = 1;
	if (pto_ms >= t->rto_ms) {
		tcp_rto_arm(c, t);
		return;
	}
	t->flags |= TF(PTO);   /* before the deadline, as in reo_timer_arm() */
	t->rto_at = c->now_ms + pto_ms ? c->now_ms + pto_ms : 1;
	tcp_timer_update(c, t);
}

/* The last segment sent (holding SND.MAX - 1, or the FIN's predecessor). */
static struct rte_mbuf *last_sent(const struct tcp_tcb *t)
{
	struct rte_mbuf *last = NULL;

	for (struct rte_mbuf *m = t->snd_head; m && seq_lt(seg_seq(m), t->snd_max); m = m->next)
		if (seg_flags(m) & SEG_SENT)
			last = m;
	return last;
}

/* RFC 8985 §7.3: the probe timeout fired: one new segment if the window allows, else the last one again. */
static void tlp_fire(struct tcp_ctx *c, struct tcp_tcb *t)
{
	uint32_t inflight = t->snd_nxt - t->snd_una, max0 = t->snd_max;
	struct rte_mbuf *last;

	if (t->snd_una == t->snd_max)
		return;
	if (tcp_snd_end(t) != t->snd_nxt && t->snd_wnd >= inflight + t->mss) {
		uint32_t cwnd = t->cc.cwnd, s = tcb_idx(c, t);
		uint8_t full = c->cwnd_full ? c->cwnd_full[s] : 0;

		/* one segment past what is in flight, counted as tcp_output counts it (by pipe
		 * when the peer SACKed some: else the SACKed bytes would let a burst out) */
		t->cc.cwnd = tcp_in_flight(t) + t->mss;
		tcp_output(c, t);
		t->cc.cwnd = cwnd;                /* for this probe only */
		if (c->cwnd_full)
			c->cwnd_full[s] = full;   /* nor is its verdict on cwnd (tcp_output.c cwnd_limited) */
	}
	if (t->snd_max != max0) {
		t->flags &= ~TF(TLP_RETRANS);
	} else {
		last = last_sent(t);
		if (last == NULL || (seg_flags(last) & SEG_SACKED) || tcp_retransmit_seg(c, t, last) < 0)
			return;   /* nothing to probe with: the RTO stays the guard */
		t->flags |= TF(TLP_RETRANS);
	}
	t->tlp_end_seq = t->snd_max;
	tcp_count(c, TEV_TLP);
}

/* rto_at was the probe or the reordering timer (TF_PTO / TF_REO). */
void tcp_loss_timer(struct tcp_ctx *c, struct tcp_tcb *t)
{
	bool pto = !!(t->flags & TF(PTO)), lost;
	uint32_t wait;

	t->flags &= ~(TF(PTO) | TF(REO));
	t->rto_at = 0;
	if (pto) {
		tlp_fire(c, t);
		tcp_rto_arm(c, t);
		return;
	}
	wait = rack_detect_loss(c, t, &lost);
	if (lost && !(t->flags & (TF(RECOVERY) | TF(LOSS))))
		enter_recovery(c, t);
	/* no ACK brought this: count one segment delivered, as Linux's
	 * tcp_rack_reo_timeout() does, so PRR lets two holes go, not one */
	if (lost && (t->flags & TF(RECOVERY)))
		prr_update(t, t->mss);
	tcp_rto_arm(c, t);
	if (wait)
		reo_timer_arm(c, t, wait);
	tcp_output(c, t);
}

/*
 * Rule 4's rescue retransmission, once per episode, waits until the last
 * segment is overdue by a probe timeout (2 RTTs since it went, as RFC 8985
 * §7.2 times a probe): sent at once, as RFC 6675 has it, it would be
 * spurious in nearly every episode whose tail is merely still in flight.
 */
static bool tail_overdue(const struct tcp_ctx *c, const struct tcp_tcb *t, const struct rte_mbuf *m)
{
	uint32_t rtt = t->rack_rtt_us > t->srtt_us ? t->rack_rtt_us : t->srtt_us;

	if (rtt == 0)
		return false;   /* no RTT known yet: the RTO guards the tail */
	return us_diff((uint32_t)c->now_us, seg_xmit_us(m)) >= (int32_t)(2 * rtt + reo_wnd(t));
}

/*
 * RFC 6675 §4 NextSeg() while the window allows (cwnd > pipe), in recovery:
 * rule 1, the first segment lost and not yet resent; and when new data
 * cannot go (NEW_DATA_BLOCKED), rule 3, the first unSACKed segment below
 * the highest SACKed one not yet resent, then rule 4, once per episode, the
 * last segment sent (the rescue retransmission). Returns true if it sent.
 */
bool tcp_sack_next_seg(struct tcp_ctx *c, struct tcp_tcb *t, bool new_data_blocked)
{
	uint32_t pipe = tcp_sack_pipe(t);
	bool sent = false;

	while (t->cc.cwnd > pipe) {
		struct rte_mbuf *pick = NULL, *m, *rule3 = NULL;
		uint32_t high = t->snd_una;

		for (m = t->snd_head; m && seq_lt(seg_seq(m), t->snd_max); m = m->next) {
			uint32_t f = seg_flags(m);

			if ((f & (SEG_LOST | SEG_SACKED | SEG_RETRANS | SEG_SENT)) == (SEG_LOST | SEG_SENT)) {
				pick = m;
				break;
			}
			if (f & SEG_SACKED)
				high = seg_end(m);
		}
		if (pick == NULL && new_data_blocked) {
			for (m = t->snd_head; m && seq_lt(seg_end(m), high); m = m->next)
				if (!(seg_flags(m) & (SEG_SACKED | SEG_RETRANS)) && (seg_flags(m) & SEG_SENT)) {
					rule3 = m;
					break;
				}
			pick = rule3;
			if (pick == NULL && !(t->flags & TF(RESCUE))) {
				m = last_sent(t);
				if (m && !(seg_flags(m) & (SEG_SACKED | SEG_RETRANS)) && tail_overdue(c, t, m)) {
					pick = m;
					t->flags |= TF(RESCUE);
				}
			}
		}
		if (pick == NULL || tcp_retransmit_seg(c, t, pick) < 0)
			break;
		pipe += seg_len(pick);
		sent = true;
		/* paced like new data (tcp_pace.c): the next waits for its departure */
		if (tcp_pace_hold(c, t, tcp_pace_rate(c, t)))
			break;
	}
	return sent;
}
