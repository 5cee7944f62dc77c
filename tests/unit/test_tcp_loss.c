/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp/tcp_loss.c: loss recovery of SACK streams. RACK's time-based
 * loss detection and reordering window (RFC 8985 §6), tail loss probes
 * (RFC 8985 §7), proportional rate reduction (RFC 6937), NextSeg rules 3
 * and 4 (RFC 6675 §4), D-SACK sent and acted on (RFC 2883), the scoreboard
 * across an RTO, and a worker replaced in the middle of a recovery.
 *
 * The peer model's clock is the harness's: h_advance(ms) moves both the ms
 * and the us clock, so every exchange below has a round trip of its own.
 */
#include "tests/unit/tcp_harness.h"

#include <string.h>

HSUITE(tcp_rack);
HSUITE(tcp_tlp);
HSUITE(tcp_prr);
HSUITE(tcp_dsack);
HSUITE(tcp_nextseg);

#define MSS 1460u
#define RTT 8u          /* ms */

static uint8_t data[262144];

static uint32_t open_sack(struct h_peer *p)
{
	uint32_t s;

	h_peer_init(p, H_TEST_PORT, H_PEER_PORT, 0x1000);
	s = h_open_passive(p, &H_OPT_SACK);
	h_clear_events();
	return s;
}

static struct h_out expect_seg(struct h_peer *p, uint32_t seq, uint32_t len)
{
	struct h_out o;

	h_peer_next(p, &o);
	HEQ(o.flags & (TH_SYN | TH_RST | TH_ACK), TH_ACK);
	HEQ(o.seq, seq);
	HEQ(o.len, len);
	return o;
}

/* Queue N segments and check the first SENT of them leave. */
static void queue_segs(struct h_peer *p, uint32_t s, unsigned int n, unsigned int sent)
{
	uint32_t first = TCB(s)->snd_max;

	h_pattern(data, n * MSS, 0);
	HEQ(tcp_send(CTX, s, data, n * MSS), (int)(n * MSS));
	for (unsigned int i = 0; i < sent; i++)
		expect_seg(p, first + i * MSS, MSS);
	h_none();
}

/* One round trip of a small write, so SRTT is RTT ms (the probe timer needs it). */
static void warm_rtt(struct h_peer *p, uint32_t s)
{
	uint32_t una = TCB(s)->snd_una;

	h_pattern(data, 10, 0);
	HEQ(tcp_send(CTX, s, data, 10), 10);
	expect_seg(p, una, 10);
	h_advance(RTT);
	h_peer_ack(p, una + 10);
	HEQ(TCB(s)->srtt_us, RTT * 1000);
}

/* A duplicate ACK of UNA carrying SACK blocks (segment indexes [l, r) from BASE). */
static void sack1(struct h_peer *p, uint32_t una, uint32_t base, unsigned int l, unsigned int r)
{
	p->nsack = 1;
	p->sack[0] = (struct tcp_sack_block){ base + l * MSS, base + r * MSS };
	h_peer_ack(p, una);
}

/* ==== RACK ================================================================== */

/* One SACKed segment above a hole: the hole is lost once the reordering window (min RTT / 4) passed. */
HTEST(tcp_rack, single_sack_waits_the_reordering_window)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una = p.iss + 1, w;

	queue_segs(&p, s, 10, 10);
	h_advance(RTT);
	sack1(&p, una, una, 1, 2);
	h_none();                                   /* three duplicate ACKs are not needed, but patience is */
	HTRUE(TCB(s)->flags & TF(REO));
	HEQ(TCB(s)->min_rtt_us, RTT * 1000);
	w = h_wait_out(50);
	HTRUE(w >= RTT / 4 && w <= RTT / 4 + TCP_TICK_MS);
	expect_seg(&p, una, MSS);
	h_none();
	HEQ(AREA->events[TEV_RACK_LOST], 1);
	HEQ(AREA->events[TEV_SACK_RECOVERY], 1);
	HEQ(AREA->events[TEV_RTO], 0);
	HTRUE(TCB(s)->flags & TF(RECOVERY));
	h_peer_ack(&p, una + 10 * MSS);
	HTRUE(!(TCB(s)->flags & TF(RECOVERY)));
	HEQ(TCB(s)->retransmits, 1);
}

/* Reordering, not loss: the late segment arrives inside the window; nothing is resent, RACK learns it. */
HTEST(tcp_rack, reordering_inside_the_window)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una = p.iss + 1;

	queue_segs(&p, s, 10, 10);
	h_advance(RTT);
	sack1(&p, una, una, 1, 2);
	h_none();
	h_advance(1);
	h_peer_ack(&p, una + 2 * MSS);              /* segment 0 was only late */
	HTRUE(!(TCB(s)->flags & TF(REO)));
	HTRUE(TCB(s)->flags & TF(REORDER_SEEN));
	h_advance(RTT);
	h_none();
	HEQ(AREA->events[TEV_RACK_LOST], 0);
	HEQ(TCB(s)->retransmits, 0);
	h_peer_ack(&p, una + 10 * MSS);
}

/*
 * A lost retransmission is found by RACK (a segment sent after it was
 * delivered first), without a timeout; and the recovery survives the worker
 * being replaced between the steps.
 */
HTEST(tcp_rack, lost_retransmission_without_timeout)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una = p.iss + 1, sacked;

	queue_segs(&p, s, 11, 10);               /* segment 10 waits for the window */
	h_advance(RTT);
	sack1(&p, una, una, 1, 4);                  /* three above the hole: lost at once */
	expect_seg(&p, una, MSS);
	h_none();
	sacked = TCB(s)->sacked_bytes;
	HEQ(sacked, 3 * MSS);
	TCB(s)->sacked_bytes = 0;                   /* as if killed before the count was stored */
	CTX->area->op_stream = s;
	h_reattach();                               /* a new worker takes over mid-recovery, repairs s */
	HEQ(AREA->repaired, 1);
	HEQ(TCB(s)->sacked_bytes, sacked);
	h_drain();                                  /* the repair's ACK */
	h_advance(RTT);
	sack1(&p, una, una, 1, 10);                 /* the retransmission is lost too */
	expect_seg(&p, una + 10 * MSS, MSS);        /* PRR lets new data out */
	h_none();
	h_advance(RTT);
	sack1(&p, una, una, 1, 11);                 /* segment 10, sent after the retransmission, arrived */
	expect_seg(&p, una, MSS);                   /* so the retransmission was lost: again */
	h_none();
	HEQ(AREA->events[TEV_RTO], 0);
	HEQ(TCB(s)->retransmits, 2);
	h_advance(RTT);
	h_peer_ack(&p, una + 11 * MSS);
	HTRUE(!(TCB(s)->flags & TF(RECOVERY)));
	HEQ(TCB(s)->sacked_bytes, 0);
	HEQ(TCB(s)->snd_bytes, 0);
}

/*
 * A cumulative ACK that echoes the original's TSval was sent for the
 * original: the segment was resent after the peer had it (a worker that took
 * the ACK late), and the resend's young send time must not make RACK call
 * lost what went before it and is only queued (RFC 8985 §6.2 step 2, RFC 7323
 * §4.3). The same ACK echoing the resend's TSval does: the resend filled the
 * hole, so segments sent before it and still missing are overdue. The ACK
 * comes more than min RTT / 2 after the resend, so the RTT test alone cannot
 * tell the two apart. Returns the segments RACK marked lost.
 */
static uint32_t lost_after_a_late_ack(bool echo_original)
{
	struct h_peer p;
	uint32_t s, una, mss, ts_orig, ts_resend;
	struct h_out o;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 0x1000);
	s = h_open_passive(&p, &H_OPT_ALL);
	h_clear_events();
	for (int i = 0; i < 32 && TCB(s)->srtt_us < RTT * 1000 * 3 / 4; i++) {
		/* round trips of a small write until SRTT is about RTT (the handshake's was ~0) */
		una = TCB(s)->snd_una;
		HEQ(tcp_send(CTX, s, data, 10), 10);
		expect_seg(&p, una, 10);
		h_advance(RTT);
		h_peer_ack(&p, una + 10);
	}
	HTRUE(TCB(s)->srtt_us >= RTT * 1000 * 3 / 4);
	una = TCB(s)->snd_una;
	mss = TCB(s)->mss;
	h_pattern(data, 10 * mss, 0);
	HEQ(tcp_send(CTX, s, data, 10 * mss), (int)(10 * mss));
	for (uint32_t i = 0; i < 10; i++) {
		h_peer_next(&p, &o);
		HEQ(o.seq, una + i * mss);
	}
	ts_orig = o.opt.ts_val;
	h_advance(RTT);
	p.nsack = 1;
	p.sack[0] = (struct tcp_sack_block){ una + mss, una + 3 * mss };
	h_peer_ack(&p, una);
	HTRUE(h_wait_out(50) <= RTT / 4 + TCP_TICK_MS);   /* the reordering window: segment 0 is lost */
	h_peer_next(&p, &o);
	HEQ(o.seq, una);
	ts_resend = o.opt.ts_val;
	HTRUE(ts_resend > ts_orig);
	h_none();
	h_advance(RTT / 2 + 1);
	p.ts_ecr = echo_original ? ts_orig : ts_resend;
	h_peer_ack(&p, una + 4 * mss);
	while (h_pending())
		h_peer_next(&p, &o);
	return (uint32_t)AREA->events[TEV_RACK_LOST];
}

HTEST(tcp_rack, late_ack_of_the_original_marks_nothing_lost)
{
	HEQ(lost_after_a_late_ack(true), 1);
}

HTEST(tcp_rack, ack_of_the_resend_marks_the_older_lost)
{
	HEQ(lost_after_a_late_ack(false), 7);       /* segment 0, then 4 to 9 */
}

/* ==== TLP =================================================================== */

/* The last two segments are lost: a probe after 2 SRTT brings the SACK that repairs them, no RTO. */
HTEST(tcp_tlp, tail_loss_repaired_by_a_probe)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una, w;

	warm_rtt(&p, s);
	una = TCB(s)->snd_una;
	queue_segs(&p, s, 10, 10);
	h_advance(RTT);
	h_peer_ack(&p, una + 8 * MSS);              /* 8 and 9 lost */
	HTRUE(TCB(s)->flags & TF(PTO));
	w = h_wait_out(1000);
	/* PTO = 2 SRTT + TCP_TLP_MIN_MS, on the wheel's ticks; the RTO would be 200 ms */
	HTRUE(w >= 2 * RTT + TCP_TLP_MIN_MS - 1 && w <= 2 * RTT + TCP_TLP_MIN_MS + TCP_TICK_MS);
	expect_seg(&p, una + 9 * MSS, MSS);         /* the last segment again */
	h_none();
	HEQ(AREA->events[TEV_TLP], 1);
	HTRUE(TCB(s)->flags & TF(TLP_RETRANS));
	h_advance(RTT);
	sack1(&p, una + 8 * MSS, una, 9, 10);       /* the probe's SACK shows the hole */
	expect_seg(&p, una + 8 * MSS, MSS);
	h_none();
	h_advance(RTT);
	h_peer_ack(&p, una + 10 * MSS);
	HEQ(AREA->events[TEV_RTO], 0);
	HEQ(TCB(s)->retransmits, 2);
	HEQ(TCB(s)->snd_bytes, 0);
}

/*
 * The same tail, but the probe's SACK comes back far sooner than the path's
 * RTT (a probe on an idle path beats a queue the data waited in): too soon
 * to be the probe's own RTT, so no RTT sample; but some transmission of the
 * last segment arrived, the first one at the earliest, and the segment sent
 * before it is lost all the same. Without that, the hole waited for the RTO.
 */
HTEST(tcp_tlp, probe_sacked_too_soon_for_an_rtt_still_orders)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una;

	warm_rtt(&p, s);
	una = TCB(s)->snd_una;
	queue_segs(&p, s, 10, 10);
	h_advance(RTT);
	h_peer_ack(&p, una + 8 * MSS);              /* 8 and 9 lost */
	h_wait_out(1000);
	expect_seg(&p, una + 9 * MSS, MSS);         /* the probe */
	h_none();
	HTRUE(TCB(s)->min_rtt_us >= 2000);          /* RTT is several ms; the SACK comes in under 1 */
	sack1(&p, una + 8 * MSS, una, 9, 10);
	h_wait_out(RTT);                            /* at once, or on RACK's reordering timer */
	expect_seg(&p, una + 8 * MSS, MSS);
	h_none();
	h_advance(RTT);
	h_peer_ack(&p, una + 10 * MSS);
	HEQ(AREA->events[TEV_RTO], 0);
	HEQ(TCB(s)->retransmits, 2);
}

/* With unsent data waiting for the congestion window, the probe is new data. */
HTEST(tcp_tlp, probe_with_new_data)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una;

	warm_rtt(&p, s);
	una = TCB(s)->snd_una;
	queue_segs(&p, s, 12, 10);
	h_wait_out(1000);
	expect_seg(&p, una + 10 * MSS, MSS);
	h_none();
	HEQ(AREA->events[TEV_TLP], 1);
	HTRUE(!(TCB(s)->flags & TF(TLP_RETRANS)));
	HEQ(TCB(s)->retransmits, 0);
	HEQ(TCB(s)->cc.cwnd, 10 * MSS);             /* one segment past cwnd for the probe only */
	HEQ(TCB(s)->tlp_end_seq, una + 11 * MSS);
	h_peer_ack(&p, una + 11 * MSS);
	HEQ(TCB(s)->tlp_end_seq, 0);
	h_drain();
}

/* The probe was a duplicate (the tail was only slow): the D-SACK for it means no window reduction. */
HTEST(tcp_tlp, duplicate_probe_no_reduction)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una, cwnd;

	warm_rtt(&p, s);
	una = TCB(s)->snd_una;
	queue_segs(&p, s, 4, 4);
	h_wait_out(1000);
	expect_seg(&p, una + 3 * MSS, MSS);
	cwnd = TCB(s)->cc.cwnd;
	h_peer_ack(&p, una + 4 * MSS);              /* the originals arrive */
	p.nsack = 1;
	p.sack[0] = (struct tcp_sack_block){ una + 3 * MSS, una + 4 * MSS };
	h_peer_ack(&p, una + 4 * MSS);              /* then the probe: D-SACK */
	HEQ(AREA->events[TEV_DSACKS_RCVD], 1);
	HEQ(TCB(s)->tlp_end_seq, 0);
	HEQ(AREA->events[TEV_TLP_REPAIRED], 0);
	HTRUE(TCB(s)->cc.cwnd >= cwnd);
}

/* ==== PRR =================================================================== */

/*
 * RFC 6937: during recovery the flight falls to ssthresh gradually, one
 * send per delivery at most (no burst, no silence), and the window is
 * ssthresh when recovery ends.
 */
HTEST(tcp_prr, reduction_spread_over_the_recovery)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una = p.iss + 1, ss, before = 0, during = 0, delivered = 0;
	struct h_out o;

	queue_segs(&p, s, 30, 10);
	h_advance(RTT);
	for (unsigned int k = 2; k <= 10; k++) {
		unsigned int n = 0;

		sack1(&p, una, una, 1, k);              /* segment 0 lost, the others arrive one by one */
		while (h_pop(&o))
			n++;
		HTRUE(n <= 2);
		if (!(TCB(s)->flags & TF(RECOVERY))) {
			/* RFC 6675 §5 (C): before the hole is judged lost, each SACKed segment lets a new one out */
			HEQ(n, 1);
			HEQ(o.seq, TCB(s)->snd_max - MSS);
			HTRUE(tcp_sack_pipe(TCB(s)) <= TCB(s)->cc.cwnd);
			before += n;
		} else {
			during += n;
			delivered++;
		}
	}
	HTRUE(TCB(s)->flags & TF(RECOVERY));
	HEQ(before, 2);                              /* RACK marks segment 0 lost at three SACKed */
	ss = TCB(s)->cc.ssthresh;
	HTRUE(ss < 10 * MSS);
	/* PRR: the retransmission and new data, fewer than were delivered but about ssthresh's
	 * share of them (RFC 6937: prr_out ~ prr_delivered x ssthresh / RecoverFS); the flight is
	 * down to ssthresh */
	HTRUE(during < delivered);
	HTRUE(during + 1 >= delivered * ss / TCB(s)->recover_fs);
	HTRUE(tcp_sack_pipe(TCB(s)) <= ss + MSS);
	h_peer_ack(&p, TCB(s)->snd_max);
	HTRUE(!(TCB(s)->flags & TF(RECOVERY)));
	h_drain();
	HTRUE(TCB(s)->cc.cwnd >= ss && TCB(s)->cc.cwnd <= ss + MSS);
	/* and the congestion control grows the window again */
	HTRUE(!TCB(s)->cc.in_recovery);
	{
		uint32_t cw = TCB(s)->cc.cwnd;

		for (unsigned int r = 0; r < 8; r++) {
			h_advance(RTT);
			h_peer_ack(&p, TCB(s)->snd_max);
			h_drain();
		}
		HTRUE(TCB(s)->cc.cwnd > cw);
	}
}

/* ==== D-SACK ================================================================ */

/* Every retransmission of the episode D-SACKed: the reduction is undone, the window widened. */
HTEST(tcp_dsack, spurious_recovery_undone)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una = p.iss + 1, cwnd0;

	queue_segs(&p, s, 10, 10);
	cwnd0 = TCB(s)->cc.cwnd;
	h_advance(RTT);
	sack1(&p, una, una, 1, 4);
	expect_seg(&p, una, MSS);
	h_none();
	HTRUE(TCB(s)->cc.ssthresh < cwnd0);
	h_peer_ack(&p, una + 10 * MSS);             /* the original was only late */
	p.nsack = 1;
	p.sack[0] = (struct tcp_sack_block){ una, una + MSS };
	h_peer_ack(&p, una + 10 * MSS);             /* and the retransmission a duplicate */
	HEQ(AREA->events[TEV_DSACKS_RCVD], 1);
	HEQ(AREA->events[TEV_UNDO], 1);
	HTRUE(TCB(s)->cc.cwnd >= cwnd0);
	HTRUE(TCB(s)->flags & TF(REORDER_SEEN));
	HEQ(TCB(s)->reo_mult, 2);
	HTRUE(!(TCB(s)->flags & (TF(RECOVERY) | TF(LOSS))));
	HTRUE(!TCB(s)->cc.in_recovery);
}

/* The receiver reports duplicates (RFC 2883 §4): below RCV.NXT, and inside an out-of-order block. */
HTEST(tcp_dsack, receiver_reports_duplicates)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), b = p.snd_nxt;
	struct h_out o;

	(void)s;
	h_pattern(data, 600, 0);
	h_peer_data(&p, data, 100);
	h_drain();
	/* the same segment again: D-SACK below the cumulative ACK */
	h_peer_send(&p, TH_ACK | TH_PSH, b, p.rcv_nxt, data, 100);
	h_peer_next(&p, &o);
	HEQ(o.ack, b + 100);
	HEQ(o.opt.nsack, 1);
	HEQ(o.opt.sack[0].left, b);
	HEQ(o.opt.sack[0].right, b + 100);
	/* out of order [b+200, b+300), then again: D-SACK first, then the block holding it */
	h_peer_send(&p, TH_ACK | TH_PSH, b + 200, p.rcv_nxt, data + 200, 100);
	h_peer_next(&p, &o);
	HEQ(o.opt.nsack, 1);
	h_peer_send(&p, TH_ACK | TH_PSH, b + 200, p.rcv_nxt, data + 200, 100);
	h_peer_next(&p, &o);
	HEQ(o.opt.nsack, 2);
	HEQ(o.opt.sack[0].left, b + 200);
	HEQ(o.opt.sack[0].right, b + 300);
	HEQ(o.opt.sack[1].left, b + 200);
	HEQ(o.opt.sack[1].right, b + 300);
	/* reported once */
	h_peer_send(&p, TH_ACK | TH_PSH, b + 400, p.rcv_nxt, data + 400, 100);
	h_peer_next(&p, &o);
	HEQ(o.opt.nsack, 2);
	HEQ(o.opt.sack[0].left, b + 400);
	HEQ(o.opt.sack[1].left, b + 200);
	HEQ(AREA->events[TEV_DSACKS_SENT], 2);
	/* the holes filled: no blocks left */
	h_peer_send(&p, TH_ACK | TH_PSH, b + 100, p.rcv_nxt, data + 100, 100);
	h_peer_send(&p, TH_ACK | TH_PSH, b + 300, p.rcv_nxt, data + 300, 100);
	h_drain();
	HEQ(TCB(s)->rcv_nxt, b + 500);
	HEQ(TCB(s)->ooo_segs, 0);
	for (unsigned int i = 0; i < 4; i++)
		HEQ(TCB(s)->sack[i].left, TCB(s)->sack[i].right);
	p.snd_nxt = b + 500;
}

/* ==== NextSeg rules 3 and 4, and the scoreboard across an RTO ================== */

/* Rule 3: with nothing new to send, unSACKed data below the highest SACK goes before the window idles. */
HTEST(tcp_nextseg, rule3_then_rescue)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una = p.iss + 1;
	struct tcp_tcb *t;
	struct rte_mbuf *m;
	unsigned int i = 0;

	queue_segs(&p, s, 10, 10);
	t = TCB(s);
	for (m = t->snd_head; m; m = m->next, i++)
		if (i == 3) {
			seg_set_flags(m, seg_flags(m) | SEG_SACKED);
			t->sacked_bytes += MSS;
		}
	t->flags |= TF(RECOVERY);
	t->recover = t->snd_max;
	t->cc.cwnd = 20 * MSS;
	HTRUE(!tcp_sack_next_seg(CTX, t, false));   /* rule 1 finds no lost segment */
	h_none();
	HTRUE(tcp_sack_next_seg(CTX, t, true));     /* rule 3: 0, 1, 2 */
	expect_seg(&p, una, MSS);
	expect_seg(&p, una + MSS, MSS);
	expect_seg(&p, una + 2 * MSS, MSS);
	h_none();                                   /* rule 4 waits: the tail is not overdue */
	t->rack_rtt_us = RTT * 1000;
	h_advance(3 * RTT);
	HTRUE(tcp_sack_next_seg(CTX, t, true));
	expect_seg(&p, una + 9 * MSS, MSS);         /* the rescue: the last segment, once */
	h_none();
	HTRUE(t->flags & TF(RESCUE));
	HTRUE(!tcp_sack_next_seg(CTX, t, true));
	h_none();
	h_peer_ack(&p, una + 10 * MSS);
	h_drain();
}

/* After an RTO the SACKed segments are not sent again (RFC 8985 §6.3); the others are, in slow start. */
HTEST(tcp_nextseg, rto_keeps_the_scoreboard)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una = p.iss + 1;
	struct h_out o;
	unsigned int resent = 0;
	uint32_t ss;

	queue_segs(&p, s, 10, 10);
	h_advance(RTT);
	sack1(&p, una, una, 5, 10);                 /* 0-4 lost, 5-9 arrived */
	h_drain();                                  /* PRR's first retransmissions, lost as well */
	ss = TCB(s)->cc.ssthresh;
	h_wait_out(5000);                             /* the RTO */
	HEQ(AREA->events[TEV_RTO], 1);
	HEQ(TCB(s)->cc.ssthresh, ss);               /* the episode already reduced it */
	HTRUE(TCB(s)->flags & TF(LOSS));
	HEQ(TCB(s)->cc.cwnd, MSS);
	expect_seg(&p, una, MSS);
	h_none();
	/* each ACK in slow start releases the next lost ones, never 5-9 */
	for (unsigned int k = 1; k <= 5; k++) {
		/* the hole below the SACKed run fills last: then the ACK jumps past it */
		p.nsack = k < 5;
		p.sack[0] = (struct tcp_sack_block){ una + 5 * MSS, una + 10 * MSS };
		h_peer_ack(&p, k < 5 ? una + k * MSS : una + 10 * MSS);
		while (h_pop(&o)) {
			HTRUE(o.seq < una + 5 * MSS);
			resent++;
		}
	}
	HEQ(TCB(s)->snd_una, una + 10 * MSS);
	HTRUE(!(TCB(s)->flags & TF(LOSS)));
	HTRUE(resent >= 4);
}

/* The same with the FIN on the last segment (the stream in FIN-WAIT-1): the probe carries it. */
HTEST(tcp_tlp, tail_loss_with_fin)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una, w;
	struct h_out o;

	warm_rtt(&p, s);
	una = TCB(s)->snd_una;
	h_pattern(data, 9 * MSS + 224, 0);
	HEQ(tcp_batch_begin(CTX), 0);               /* as the worker: output after the app's calls */
	HEQ(tcp_send(CTX, s, data, 9 * MSS + 224), (int)(9 * MSS + 224));
	HEQ(tcp_shutdown(CTX, s), 0);
	tcp_batch_flush(CTX);
	for (unsigned int i = 0; i < 9; i++)
		expect_seg(&p, una + i * MSS, MSS);
	h_peer_next(&p, &o);
	HEQ(o.flags & TH_FIN, TH_FIN);
	HEQ(o.len, 224);
	h_none();
	h_advance(RTT);
	h_peer_ack(&p, una + 8 * MSS);              /* 8 and the FIN segment lost */
	h_none();
	w = h_wait_out(1000);
	HTRUE(w >= 2 * RTT + TCP_TLP_MIN_MS - 1 && w <= 2 * RTT + TCP_TLP_MIN_MS + TCP_TICK_MS);
	h_peer_next(&p, &o);                        /* the probe: the last segment, FIN again */
	HEQ(o.seq, una + 9 * MSS);
	HEQ(o.flags & TH_FIN, TH_FIN);
	h_none();
	h_advance(RTT);
	p.nsack = 1;
	p.sack[0] = (struct tcp_sack_block){ una + 9 * MSS, una + 9 * MSS + 225 };
	h_peer_ack(&p, una + 8 * MSS);
	expect_seg(&p, una + 8 * MSS, MSS);
	h_none();
	HEQ(AREA->events[TEV_RTO], 0);
	h_advance(RTT);
	h_peer_ack(&p, una + 9 * MSS + 225);
	HEQ(TCB(s)->state, TCP_FIN_WAIT_2);
	p.rcv_nxt = una + 9 * MSS + 225;
}

/*
 * A reordered duplicate ACK (older TSval than TS.Recent, nothing else new)
 * passes PAWS so its SACK blocks count; an old data segment still does not.
 */
HTEST(tcp_rack, reordered_dupack_passes_paws)
{
	struct h_peer p;
	uint32_t s, una, m;
	struct h_out o;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 0x1000);
	s = h_open_passive(&p, &H_OPT_ALL);
	una = TCB(s)->snd_una;
	m = TCB(s)->mss;                            /* 1448: timestamps take 12 */
	h_pattern(data, 10 * m, 0);
	HEQ(tcp_send(CTX, s, data, 10 * m), (int)(10 * m));
	h_drain();
	h_advance(RTT);
	h_drain();                                  /* a tail loss probe, maybe */
	p.tsval += 10;
	h_peer_ack(&p, una);                        /* TS.Recent = tsval */
	HEQ(TCB(s)->ts_recent, p.tsval);
	p.tsval -= 2;                               /* an ACK the network reordered */
	p.nsack = 1;
	p.sack[0] = (struct tcp_sack_block){ una + m, una + 4 * m };
	h_peer_ack(&p, una);
	HEQ(AREA->drops[TDROP_PAWS], 0);
	HEQ(TCB(s)->sacked_bytes, 3 * m);
	h_peer_next(&p, &o);                        /* and its SACK blocks were used */
	HEQ(o.seq, una);
	h_none();
	h_pattern(data, 10, 0);
	h_peer_data(&p, data, 10);                  /* data with the old TSval: PAWS */
	HEQ(AREA->drops[TDROP_PAWS], 1);
	h_drain();
	p.tsval += 5;
	p.snd_nxt -= 10;
	h_peer_ack(&p, una + 10 * m);
	h_drain();
}

/*
 * The worker sleeps until tcp_next_timer_ms(): an RTO 200 ms out (or any
 * deadline within the worker's longest sleep) must be seen, not served a
 * whole sleep late.
 */
HTEST(tcp_rack, next_timer_sees_the_rto)
{
	struct h_peer p;
	uint32_t s = open_sack(&p);
	int ms;

	h_pattern(data, 10, 0);
	HEQ(tcp_send(CTX, s, data, 10), 10);
	h_drain();
	TCB(s)->rto_ms = 200;
	tcp_rto_arm(CTX, TCB(s));
	ms = tcp_next_timer_ms(CTX);
	HTRUE(ms >= 1 && ms <= 200);                /* woken no later than the deadline */
	h_advance(200 - TCP_TIMER_SCAN_MS);
	ms = tcp_next_timer_ms(CTX);
	HTRUE(ms >= 1 && ms <= TCP_TIMER_SCAN_MS);
	TCB(s)->rto_ms = 20;
	tcp_rto_arm(CTX, TCB(s));
	HEQ(tcp_next_timer_ms(CTX), 20);            /* within the scan: exact */
	h_peer_ack(&p, TCB(s)->snd_max);
	h_drain();
}

/* An RTO resends the first outstanding segment even when a fresh one fills the loss window. */
HTEST(tcp_nextseg, rto_resends_the_head_whatever_pipe)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), una, w;

	warm_rtt(&p, s);
	una = TCB(s)->snd_una;
	queue_segs(&p, s, 2, 2);                    /* A, A2 */
	h_wait_out(1000);                             /* the probe: A2 again */
	expect_seg(&p, una + MSS, MSS);
	HTRUE(TCB(s)->tlp_end_seq != 0);
	w = TCB(s)->rto_at - h_now();
	h_advance(w - 4);
	queue_segs(&p, s, 1, 1);                    /* B, 4 ms before the RTO: not overdue */
	h_wait_out(100);
	HEQ(AREA->events[TEV_RTO], 1);
	expect_seg(&p, una, MSS);                   /* A, though B fills the one-segment window */
	h_none();
	h_peer_ack(&p, una + 3 * MSS);
	h_drain();
}

/*
 * A worker killed in the middle of a change to a stream holding six runs
 * out of order: the repair counts all of them and reports the first four,
 * all above RCV.NXT; the queue drains to zero afterwards.
 */
HTEST(tcp_dsack, repair_recounts_the_out_of_order_queue)
{
	struct h_peer p;
	uint32_t s = open_sack(&p), b = p.snd_nxt;

	h_pattern(data, 1300, 0);
	for (unsigned int k = 1; k <= 6; k++)       /* [100k, 100k + 100) for k = 1, 3, 5, 7, 9, 11 */
		h_peer_send(&p, TH_ACK | TH_PSH, b + 200 * k - 100, p.rcv_nxt, data + 200 * k - 100, 100);
	h_drain();
	HEQ(TCB(s)->ooo_segs, 6);
	TCB(s)->ooo_segs = 0;                       /* as if killed mid-update */
	TCB(s)->ooo_tail = NULL;
	for (unsigned int i = 0; i < 4; i++)
		TCB(s)->sack[i].left = TCB(s)->sack[i].right = 0;
	CTX->area->op_stream = s;
	h_reattach();
	HEQ(TCB(s)->ooo_segs, 6);
	HTRUE(TCB(s)->ooo_tail != NULL);
	for (unsigned int i = 0; i < 4; i++) {
		HTRUE(TCB(s)->sack[i].left != TCB(s)->sack[i].right);
		HTRUE(seq_gt(TCB(s)->sack[i].left, TCB(s)->rcv_nxt));
	}
	h_drain();
	for (unsigned int k = 0; k <= 5; k++)       /* fill the holes */
		h_peer_send(&p, TH_ACK | TH_PSH, b + 200 * k, p.rcv_nxt, data + 200 * k, 100);
	h_drain();
	HEQ(TCB(s)->rcv_nxt, b + 1200);
	HEQ(TCB(s)->ooo_segs, 0);
	HTRUE(TCB(s)->ooo_head == NULL);
	p.snd_nxt = b + 1200;
}
