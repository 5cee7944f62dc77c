/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp: Explicit Congestion Notification (RFC 3168), tcp.ecn.
 * Negotiation on both opens (§6.1.1: ECE|CWR in the SYN, ECE alone in the
 * SYN-ACK; an ECN-setup SYN asked once only); ECT(0) on new data only (not
 * on SYNs, pure ACKs, window probes nor retransmissions, §6.1.4-5); the
 * receiver echoes a CE mark with ECE on every ACK until the sender's CWR
 * (§6.1.3), the first at once; the sender halves its window for an ECE
 * without retransmitting, once per window of data, and says so with CWR on
 * its next new data (§6.1.2).
 */
#include "tests/unit/tcp_harness.h"

#include <string.h>

HSUITE(tcp_ecn);

static uint8_t data[65536];

static uint32_t open_peer(struct h_peer *p, uint8_t syn_flags, uint16_t rport)
{
	uint32_t s;

	h_peer_init(p, H_TEST_PORT, rport, 0x1000);
	p->syn_flags = syn_flags;
	s = h_open_passive(p, &H_OPT_SACK);
	h_clear_events();
	return s;
}

/* Send N segments of data from the stack; each is checked for ECT(0) as EXPECT_ECT says. */
static void send_and_check(struct h_peer *p, uint32_t s, unsigned int n, bool expect_ect)
{
	struct h_out o;

	HEQ(tcp_send(CTX, s, data, n * 1460), (int)(n * 1460));
	for (unsigned int i = 0; i < n; i++) {
		h_peer_next(p, &o);
		HEQ(o.len, 1460);
		HEQ(o.tos & 3, expect_ect ? 2 : 0);
	}
	h_none();
}

HTEST(tcp_ecn, negotiated_on_a_passive_open_when_the_client_asks)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	PRM->ecn = PORTER_ECN_PASSIVE;
	s = open_peer(&p, TH_ECE | TH_CWR, 40001);   /* the SYN-ACK's ECE is checked by the harness */
	HTRUE(TCB(s)->flags & TF(ECN));
	send_and_check(&p, s, 2, true);
	/* the ACK of the peer's data: a pure ACK, not ECT */
	h_peer_data(&p, data, 100);
	HEQ(h_wait_out(1000) < 1000, true);
	h_peer_next(&p, &o);
	HEQ(o.len, 0);
	HEQ(o.tos & 3, 0);
	HEQ(o.flags & (TH_ECE | TH_CWR), 0);
}

HTEST(tcp_ecn, not_negotiated_when_off_or_not_asked)
{
	struct h_peer p, q, r;
	uint32_t s;

	PRM->ecn = PORTER_ECN_OFF;
	s = open_peer(&p, TH_ECE | TH_CWR, 40002);   /* the harness checks: no ECE in the SYN-ACK */
	HTRUE(!(TCB(s)->flags & TF(ECN)));
	send_and_check(&p, s, 1, false);
	PRM->ecn = PORTER_ECN_PASSIVE;
	s = open_peer(&q, 0, 40003);
	HTRUE(!(TCB(s)->flags & TF(ECN)));
	send_and_check(&q, s, 1, false);
	/* ECE without CWR is no ECN-setup SYN (§6.1.1) */
	s = open_peer(&r, TH_ECE, 40004);
	HTRUE(!(TCB(s)->flags & TF(ECN)));
	send_and_check(&r, s, 1, false);
}

HTEST(tcp_ecn, a_ce_mark_is_echoed_at_once_and_until_cwr)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	PRM->ecn = PORTER_ECN_PASSIVE;
	PRM->delack_ms = 40;
	s = open_peer(&p, TH_ECE | TH_CWR, 40005);
	HTRUE(TCB(s)->flags & TF(ECN));
	/* CE-marked data: ECE in an ACK sent at once, not after the delayed-ACK timer */
	p.tos = 3;
	h_peer_data(&p, data, 500);
	p.tos = 2;
	HEQ(AREA->ecn_ce_received, 1);
	h_peer_next(&p, &o);
	HEQ(o.flags & (TH_ECE | TH_ACK), TH_ECE | TH_ACK);
	HEQ(o.ack, p.snd_nxt);
	/* unmarked data: ECE goes on until the peer's CWR */
	h_peer_data(&p, data, 500);
	h_wait_out(1000);
	h_peer_next(&p, &o);
	HTRUE(o.flags & TH_ECE);
	/* data with CWR: the echo stops */
	h_peer_send(&p, TH_ACK | TH_PSH | TH_CWR, p.snd_nxt, p.rcv_nxt, data, 500);
	p.snd_nxt += 500;
	h_wait_out(1000);
	h_peer_next(&p, &o);
	HEQ(o.ack, p.snd_nxt);
	HTRUE(!(o.flags & TH_ECE));
	HEQ(AREA->ecn_ce_received, 1);
}

HTEST(tcp_ecn, an_ece_halves_the_window_once_per_window_without_retransmitting)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s, cwnd, rexmits, high;

	PRM->ecn = PORTER_ECN_PASSIVE;
	s = open_peer(&p, TH_ECE | TH_CWR, 40006);
	send_and_check(&p, s, 4, true);
	cwnd = TCB(s)->cc.cwnd;
	rexmits = (uint32_t)AREA->events[TEV_RETRANSMITS];
	high = TCB(s)->snd_max;
	/* the peer saw a CE mark: its ACK of the first segment carries ECE */
	h_peer_send(&p, TH_ACK | TH_ECE, p.snd_nxt, TCB(s)->snd_una + 1460, NULL, 0);
	HEQ(AREA->ecn_reductions, 1);
	/* the congestion control's own reduction, as for a loss (NewReno 1/2, CUBIC 0.7) */
	HTRUE(TCB(s)->cc.cwnd < cwnd && TCB(s)->cc.cwnd <= (cwnd + 1460) * 7 / 10 + 1);
	HEQ(TCB(s)->cc.ssthresh, TCB(s)->cc.cwnd);
	HEQ((uint32_t)AREA->events[TEV_RETRANSMITS], rexmits);   /* nothing resent */
	h_drain();
	/* more ECE-marked ACKs for the same window: no second reduction */
	cwnd = TCB(s)->cc.cwnd;
	h_peer_send(&p, TH_ACK | TH_ECE, p.snd_nxt, TCB(s)->snd_una + 1460, NULL, 0);
	HEQ(AREA->ecn_reductions, 1);
	HTRUE(TCB(s)->cc.cwnd >= cwnd);
	/* the rest, still echoing (the peer has not seen our CWR yet): still no second reduction */
	h_peer_send(&p, TH_ACK | TH_ECE, p.snd_nxt, high, NULL, 0);
	HEQ(AREA->ecn_reductions, 1);
	h_drain();
	/* the next new data carries CWR, once */
	HEQ(tcp_send(CTX, s, data, 2 * 1460), 2 * 1460);
	h_peer_next(&p, &o);
	HEQ(o.tos & 3, 2);
	HTRUE(o.flags & TH_CWR);
	h_peer_next(&p, &o);
	HTRUE(!(o.flags & TH_CWR));
	/* past the reduced window: an ECE reduces again */
	h_peer_send(&p, TH_ACK | TH_ECE, p.snd_nxt, TCB(s)->snd_max, NULL, 0);
	HEQ(AREA->ecn_reductions, 2);
	HEQ((uint32_t)AREA->events[TEV_RETRANSMITS], rexmits);
}

HTEST(tcp_ecn, retransmissions_and_window_probes_are_not_ect)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	PRM->ecn = PORTER_ECN_PASSIVE;
	s = open_peer(&p, TH_ECE | TH_CWR, 40007);
	send_and_check(&p, s, 1, true);
	/* no ACK: the retransmission timer (or the loss probe) resends it, not ECT */
	h_wait_out(5000);
	h_peer_next(&p, &o);
	HEQ(o.len, 1460);
	HEQ(o.seq, TCB(s)->snd_una);
	HEQ(o.tos & 3, 0);
	h_peer_ack(&p, TCB(s)->snd_max);
	h_drain();
	/* a zero window: the probe is old data, not ECT */
	p.wnd = 0;
	h_peer_ack(&p, TCB(s)->snd_max);
	HEQ(tcp_send(CTX, s, data, 1000), 1000);
	h_wait_out(5000);
	while (h_pop(&o))
		HEQ(o.tos & 3, 0);
}

HTEST(tcp_ecn, active_open_asks_once_and_follows_the_syn_ack)
{
	struct h_peer p, q;
	struct h_out o;
	uint32_t s;
	int err;

	PRM->ecn = PORTER_ECN_ON;
	/* ECE alone in the SYN-ACK: negotiated (the harness checks our SYN's ECE|CWR) */
	h_peer_init(&p, 0, 8081, 0x2000);
	p.syn_flags = TH_ECE;
	s = h_open_active(&p, &H_OPT_SACK);
	HTRUE(TCB(s)->flags & TF(ECN));
	send_and_check(&p, s, 1, true);
	h_peer_ack(&p, TCB(s)->snd_max);
	/* ECE and CWR in the SYN-ACK is no ECN-setup SYN-ACK */
	h_peer_init(&q, 0, 8081 + 1, 0x3000);
	q.syn_flags = TH_ECE | TH_CWR;
	s = h_open_active(&q, &H_OPT_SACK);
	HTRUE(!(TCB(s)->flags & TF(ECN)));
	send_and_check(&q, s, 1, false);
	h_peer_ack(&q, TCB(s)->snd_max);
	h_drain();
	/* an unanswered ECN-setup SYN goes again without ECE and CWR (§6.1.1.1) */
	s = tcp_connect(CTX, H_PEER_IP, 8081 + 2, TAPP_TEST, &err);
	HEQ(err, 0);
	h_drain();
	HEQ(h_wait_out(5000) < 5000, true);
	HTRUE(h_pop(&o));
	HEQ(o.flags, TH_SYN);
	HTRUE(!(TCB(s)->flags & TF(ECN)));
}

/*
 * A timeout (or a loss recovery) is a window reduction too (§6.1.2): CWR on
 * the next new data, and an ECE echoing marks of the window it covered does
 * not reduce again.
 */
HTEST(tcp_ecn, a_timeout_counts_as_the_reduction)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	PRM->ecn = PORTER_ECN_PASSIVE;
	s = open_peer(&p, TH_ECE | TH_CWR, 40008);
	send_and_check(&p, s, 1, true);
	h_wait_out(5000);
	h_peer_next(&p, &o);
	HEQ(o.seq, TCB(s)->snd_una);      /* resent after the retransmission timeout */
	HEQ(o.tos & 3, 0);
	HTRUE(AREA->events[TEV_RTO] >= 1);
	h_peer_send(&p, TH_ACK | TH_ECE, p.snd_nxt, TCB(s)->snd_max, NULL, 0);
	HEQ(AREA->ecn_reductions, 0);     /* the timeout reduced already */
	h_drain();
	HEQ(tcp_send(CTX, s, data, 1460), 1460);
	h_peer_next(&p, &o);
	HEQ(o.tos & 3, 2);
	HTRUE(o.flags & TH_CWR);
}
