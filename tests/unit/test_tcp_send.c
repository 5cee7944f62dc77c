/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp: the send side. Loss recovery with SACK (RFC 6675), fast
 * retransmit and NewReno partial ACKs (RFC 5681, RFC 6582), the
 * retransmission timer (RFC 6298: estimator, backoff, Karn, §5.7 after a
 * lost SYN, giving up), zero-window probes (RFC 9293 §3.8.6.1, RFC 1122
 * §4.2.2.17), keep-alive (RFC 1122 §4.2.3.6) and ICMP frag-needed (RFC 1191).
 */
#include "tests/unit/tcp_harness.h"

#include <errno.h>
#include <string.h>

HSUITE(tcp_recovery);
HSUITE(tcp_rto);
HSUITE(tcp_persist);
HSUITE(tcp_keepalive);
HSUITE(tcp_pmtu);

static uint8_t data[262144];

static uint32_t open_peer(struct h_peer *p, const struct h_synopt *so)
{
	uint32_t s;

	h_peer_init(p, H_TEST_PORT, H_PEER_PORT, 0x1000);
	s = h_open_passive(p, so);
	h_clear_events();
	return s;
}

/* Expect one data segment at SEQ of LEN bytes (stream offset OFF into data[]). */
static void expect_data(struct h_peer *p, uint32_t seq, uint32_t len, uint32_t off)
{
	struct h_out o;

	h_peer_next(p, &o);
	HEQ(o.flags & (TH_SYN | TH_FIN | TH_RST | TH_ACK), TH_ACK);
	HEQ(o.seq, seq);
	HEQ(o.len, len);
	HEQ(o.ack, p->snd_nxt);
	cr_assert(memcmp(o.payload, data + off, len) == 0, "payload of seq %#x differs", seq);
}

/* Queue N full segments and check they all go out. */
static void send_segs(struct h_peer *p, uint32_t s, unsigned int n, uint32_t mss)
{
	h_pattern(data, n * mss, 0);
	HEQ(tcp_send(CTX, s, data, n * mss), (int)(n * mss));
	for (unsigned int i = 0; i < n; i++)
		expect_data(p, p->iss + 1 + i * mss, mss, i * mss);
	h_none();
}

/* Within one wheel tick after the deadline. */
#define HNEAR(waited, want)                                                                   \
	do {                                                                                  \
		uint32_t h_w_ = (waited), h_want_ = (want);                                   \
		cr_assert(h_w_ >= h_want_ && h_w_ < h_want_ + TCP_TICK_MS,                    \
			  "%s:%d: sent after %u ms, expected %u", __FILE__, __LINE__, h_w_,   \
			  h_want_);                                                           \
	} while (0)

/* ==== SACK loss recovery (RFC 6675) ========================================= */

static void sack_dupack(struct h_peer *p, uint32_t una, uint32_t left, uint32_t right)
{
	p->nsack = 1;
	p->sack[0].left = left;
	p->sack[0].right = right;
	h_peer_ack(p, una);
}

/* The peer SACKs three segments above a hole: exactly the hole is retransmitted. */
static void sack_hole(uint32_t iss_lo, uint32_t iss_hi)
{
	struct h_peer p;
	uint32_t s, una;

	h_iss_key_for(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, H_PEER_PORT, iss_lo, iss_hi);
	s = open_peer(&p, &H_OPT_SACK);
	una = p.iss + 1;
	send_segs(&p, s, 10, 1460);
	h_advance(1);   /* the path's RTT */
	sack_dupack(&p, una, una + 1460, una + 2 * 1460);
	h_none();
	sack_dupack(&p, una, una + 1460, una + 3 * 1460);
	h_none();
	sack_dupack(&p, una, una + 1460, una + 4 * 1460);
	expect_data(&p, una, 1460, 0);
	h_none();
	HEQ(AREA->events[TEV_SACK_RECOVERY], 1);
	HEQ(TCB(s)->retransmits, 1);
	HTRUE(TCB(s)->flags & TF(RECOVERY));
	/* more SACKs above: nothing else is lost, nothing else is sent */
	sack_dupack(&p, una, una + 1460, una + 6 * 1460);
	h_none();
	/* the hole arrives: cumulative ACK past the SACKed segments, recovery ends at 'recover' */
	h_peer_ack(&p, una + 6 * 1460);
	h_none();
	HTRUE(TCB(s)->flags & TF(RECOVERY));
	h_peer_ack(&p, una + 10 * 1460);
	HTRUE(!(TCB(s)->flags & TF(RECOVERY)));
	HEQ(TCB(s)->snd_una, una + 14600);
	HEQ(TCB(s)->snd_bytes, 0);
	HEQ(TCB(s)->retransmits, 1);
	h_none();
}

HTEST(tcp_recovery, sack_hole_iss_low_half)
{
	sack_hole(0x00100000, 0x7ff00000);
}

HTEST(tcp_recovery, sack_hole_iss_high_half)
{
	sack_hole(0x80100000, 0xfff00000);
}

/* Two holes, SACK: both retransmitted, each exactly once. */
HTEST(tcp_recovery, sack_two_holes)
{
	struct h_peer p;
	uint32_t s, una;

	s = open_peer(&p, &H_OPT_SACK);
	una = p.iss + 1;
	send_segs(&p, s, 10, 1460);
	h_advance(1);
	/* segments 0 and 2 lost */
	p.nsack = 2;
	p.sack[0] = (struct tcp_sack_block){ una + 3 * 1460, una + 6 * 1460 };
	p.sack[1] = (struct tcp_sack_block){ una + 1460, una + 2 * 1460 };
	h_peer_ack(&p, una);
	p.nsack = 2;
	p.sack[0] = (struct tcp_sack_block){ una + 3 * 1460, una + 7 * 1460 };
	p.sack[1] = (struct tcp_sack_block){ una + 1460, una + 2 * 1460 };
	h_peer_ack(&p, una);
	p.nsack = 2;
	p.sack[0] = (struct tcp_sack_block){ una + 3 * 1460, una + 8 * 1460 };
	p.sack[1] = (struct tcp_sack_block){ una + 1460, una + 2 * 1460 };
	h_peer_ack(&p, una);
	expect_data(&p, una, 1460, 0);
	expect_data(&p, una + 2 * 1460, 1460, 2 * 1460);
	h_none();
	HEQ(TCB(s)->retransmits, 2);
}

/* Without SACK: the third duplicate ACK triggers exactly one retransmission (RFC 5681 §3.2). */
static uint32_t fast_retransmit(struct h_peer *p)
{
	uint32_t s, una;

	PRM->cc = TCP_CC_NEWRENO;
	s = open_peer(p, &H_OPT_MSS);
	una = p->iss + 1;
	send_segs(p, s, 10, 1460);
	h_peer_ack(p, una);
	h_peer_ack(p, una);
	h_none();
	HEQ(TCB(s)->dupacks, 2);
	h_peer_ack(p, una);
	expect_data(p, una, 1460, 0);
	h_none();
	HEQ(AREA->events[TEV_FAST_RECOVERY], 1);
	HTRUE(TCB(s)->flags & TF(RECOVERY));
	HEQ(TCB(s)->recover, una + 14600);
	/* RFC 6582 §3.2 step 2-3: ssthresh = FlightSize / 2, cwnd = ssthresh + 3 SMSS */
	HEQ(TCB(s)->cc.ssthresh, 7300);
	HEQ(TCB(s)->cc.cwnd, 7300 + 3 * 1460);
	/* step 4: inflation per further duplicate, nothing to send */
	h_peer_ack(p, una);
	HEQ(TCB(s)->cc.cwnd, 7300 + 4 * 1460);
	h_none();
	return s;
}

HTEST(tcp_recovery, fast_retransmit_no_sack)
{
	struct h_peer p;

	fast_retransmit(&p);
}

HTEST(tcp_recovery, fast_retransmit_iss_high_half)
{
	struct h_peer p;

	h_iss_key_for(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, H_PEER_PORT, 0x80100000, 0xfff00000);
	fast_retransmit(&p);
}

/* Not a duplicate: a window change, data, or nothing outstanding. */
HTEST(tcp_recovery, not_duplicates)
{
	struct h_peer p;
	uint32_t s, una;

	PRM->cc = TCP_CC_NEWRENO;
	s = open_peer(&p, &H_OPT_MSS);
	una = p.iss + 1;
	send_segs(&p, s, 4, 1460);
	p.wnd = 60000;
	h_peer_ack(&p, una);
	p.wnd = 50000;
	h_peer_ack(&p, una);
	p.wnd = 40000;
	h_peer_ack(&p, una);
	HEQ(TCB(s)->dupacks, 0);
	h_peer_data(&p, "a", 1);
	h_peer_data(&p, "b", 1);
	h_peer_data(&p, "c", 1);
	HEQ(TCB(s)->dupacks, 0);
	h_drain();
	HEQ(AREA->events[TEV_FAST_RECOVERY], 0);
	HEQ(TCB(s)->retransmits, 0);
}

/* RFC 6582 §3.2 step 5: a partial ACK retransmits the next hole at once. */
HTEST(tcp_recovery, newreno_partial_ack)
{
	struct h_peer p;
	uint32_t s = fast_retransmit(&p);
	uint32_t una = p.iss + 1;

	/* segments 0-2 arrived, 3 was lost too */
	h_peer_ack(&p, una + 3 * 1460);
	expect_data(&p, una + 3 * 1460, 1460, 3 * 1460);
	h_none();
	HTRUE(TCB(s)->flags & TF(RECOVERY));
	HEQ(TCB(s)->retransmits, 2);
	/* deflated by the 4380 bytes acknowledged, plus one SMSS back */
	HEQ(TCB(s)->cc.cwnd, 7300 + 4 * 1460 - 3 * 1460 + 1460);
	/* the second partial ACK: the next hole (segment 7) */
	h_peer_ack(&p, una + 7 * 1460);
	expect_data(&p, una + 7 * 1460, 1460, 7 * 1460);
	h_none();
	/* full ACK: recovery ends, cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS) */
	h_peer_ack(&p, una + 14600);
	HTRUE(!(TCB(s)->flags & TF(RECOVERY)));
	HEQ(TCB(s)->cc.cwnd, 2 * 1460);
	HEQ(TCB(s)->retransmits, 3);
	h_none();
}

/* ==== RTO (RFC 6298) ========================================================= */

/* Retransmission after rto_initial, then doubling. */
HTEST(tcp_rto, backoff)
{
	struct h_peer p;
	uint32_t s, una, w;

	s = open_peer(&p, &H_OPT_MSS);
	una = p.iss + 1;
	h_advance(1);   /* not on a tick boundary */
	h_pattern(data, 1000, 0);
	tcp_send(CTX, s, data, 1000);
	expect_data(&p, una, 1000, 0);
	HEQ(TCB(s)->rto_ms, 1000);
	w = h_wait_out(5000);
	HNEAR(w, 1000u);
	expect_data(&p, una, 1000, 0);
	h_none();
	HEQ(AREA->events[TEV_RTO], 1);
	HEQ(TCB(s)->rto_shift, 1);
	/* RFC 5681 §3.1: loss window of one segment */
	HEQ(TCB(s)->cc.cwnd, 1460);
	w = h_wait_out(5000);
	HNEAR(w, 2000u);
	expect_data(&p, una, 1000, 0);
	w = h_wait_out(10000);
	HNEAR(w, 4000u);
	expect_data(&p, una, 1000, 0);
	w = h_wait_out(10000);
	HNEAR(w, 8000u);
	expect_data(&p, una, 1000, 0);
	HEQ(AREA->events[TEV_RTO], 4);
	HEQ(TCB(s)->retransmits, 4);
	/* the ACK stops the timer */
	h_peer_ack(&p, una + 1000);
	HEQ(TCB(s)->rto_at, 0);
	h_advance(40000);
	h_none();
}

/* The backoff stops at rto_max. */
HTEST(tcp_rto, capped)
{
	struct h_peer p;
	uint32_t s, una;

	PRM->rto_max_ms = 3000;
	s = open_peer(&p, &H_OPT_MSS);
	una = p.iss + 1;
	h_pattern(data, 10, 0);
	tcp_send(CTX, s, data, 10);
	expect_data(&p, una, 10, 0);
	HNEAR(h_wait_out(5000), 1000u);
	h_drain();
	HNEAR(h_wait_out(5000), 2000u);
	h_drain();
	HNEAR(h_wait_out(5000), 3000u);
	h_drain();
	HNEAR(h_wait_out(5000), 3000u);
	h_drain();
}

/* Send 10 bytes and have them acknowledged RTT ms later (no timestamps: RFC 6298 §3 timing). */
static void rtt_sample(struct h_peer *p, uint32_t s, uint32_t rtt)
{
	uint32_t una = TCB(s)->snd_una;

	h_pattern(data, 10, 0);
	HEQ(tcp_send(CTX, s, data, 10), 10);
	expect_data(p, una, 10, 0);
	h_advance(rtt);
	h_peer_ack(p, una + 10);
	HEQ(TCB(s)->snd_una, una + 10);
}

/* RFC 6298 §2: SRTT, RTTVAR and RTO for chosen round trips. */
HTEST(tcp_rto, estimator)
{
	struct h_peer p;
	uint32_t s = open_peer(&p, &H_OPT_MSS);

	HEQ(TCB(s)->srtt_us, 0);
	/* §2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4 RTTVAR) */
	rtt_sample(&p, s, 100);
	HEQ(TCB(s)->srtt_us, 100000);
	HEQ(TCB(s)->rttvar_us, 50000);
	HEQ(TCB(s)->rto_ms, 300);
	/* §2.3: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|, SRTT = 7/8 SRTT + 1/8 R' */
	rtt_sample(&p, s, 200);
	HEQ(TCB(s)->rttvar_us, 62500);
	HEQ(TCB(s)->srtt_us, 112500);
	HEQ(TCB(s)->rto_ms, 363);   /* 362.5 rounded up */
	rtt_sample(&p, s, 100);
	HEQ(TCB(s)->rttvar_us, 50000);
	HEQ(TCB(s)->srtt_us, 110937);
	HEQ(TCB(s)->rto_ms, 311);
	/* the timer uses it */
	h_pattern(data, 10, 0);
	tcp_send(CTX, s, data, 10);
	h_drain();
	HEQ(TCB(s)->rto_at, h_now() + 311);
}

/* §2.4 minimum. */
HTEST(tcp_rto, estimator_min)
{
	struct h_peer p;
	uint32_t s = open_peer(&p, &H_OPT_MSS);

	rtt_sample(&p, s, 1);
	HEQ(TCB(s)->srtt_us, 1000);
	HEQ(TCB(s)->rttvar_us, 500);
	HEQ(TCB(s)->rto_ms, 200);
}

/* §2.5 maximum (rto_initial raised so that a 30 s round trip is not a timeout). */
HTEST(tcp_rto, estimator_max)
{
	struct h_peer p;
	uint32_t s;

	PRM->rto_initial_ms = 60000;
	s = open_peer(&p, &H_OPT_MSS);
	rtt_sample(&p, s, 30000);
	HEQ(TCB(s)->srtt_us, 30000000);
	HEQ(TCB(s)->rto_ms, 60000);
}

/*
 * Karn (RFC 6298 §3, §5): the ACK of a retransmitted segment gives no RTT
 * sample, and the backed-off RTO stays until a valid sample (§5.5 and the
 * note after §5.7).
 */
HTEST(tcp_rto, karn)
{
	struct h_peer p;
	uint32_t s = open_peer(&p, &H_OPT_MSS), una;

	rtt_sample(&p, s, 100);
	HEQ(TCB(s)->rto_ms, 300);

	una = TCB(s)->snd_una;
	h_pattern(data, 10, 0);
	tcp_send(CTX, s, data, 10);
	expect_data(&p, una, 10, 0);
	HNEAR(h_wait_out(1000), 300u);
	expect_data(&p, una, 10, 0);
	h_advance(50);
	h_peer_ack(&p, una + 10);          /* ambiguous: the first or the second copy? */
	HEQ(TCB(s)->srtt_us, 100000);      /* no sample */
	HEQ(TCB(s)->rttvar_us, 50000);
	HEQ(TCB(s)->rto_ms, 300);
	/* the next segment still runs on the backed-off timer */
	una += 10;
	tcp_send(CTX, s, data, 10);
	expect_data(&p, una, 10, 0);
	HEQ(TCB(s)->rto_at, h_now() + 600);
	/* its ACK is a valid sample (it was sent once): the estimator collapses the RTO */
	h_advance(100);
	h_peer_ack(&p, una + 10);
	HEQ(TCB(s)->srtt_us, 100000);
	HEQ(TCB(s)->rttvar_us, 37500);
	HEQ(TCB(s)->rto_ms, 250);
	una += 10;
	tcp_send(CTX, s, data, 10);
	expect_data(&p, una, 10, 0);
	HEQ(TCB(s)->rto_at, h_now() + 250);
}

/* After max_retries RTOs the stream is reset (RST to the peer, RESET to the app). */
HTEST(tcp_rto, give_up)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s, una;

	PRM->max_retries = 3;
	s = open_peer(&p, &H_OPT_MSS);
	una = p.iss + 1;
	h_pattern(data, 1000, 0);
	tcp_send(CTX, s, data, 1000);
	expect_data(&p, una, 1000, 0);
	HNEAR(h_wait_out(2000), 1000u);
	expect_data(&p, una, 1000, 0);
	HNEAR(h_wait_out(4000), 2000u);
	expect_data(&p, una, 1000, 0);
	HNEAR(h_wait_out(8000), 4000u);
	expect_data(&p, una, 1000, 0);
	HEQ(h_events(s), 0);
	HNEAR(h_wait_out(16000), 8000u);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_RST | TH_ACK);
	HEQ(o.seq, una + 1000);
	HEQ(o.ack, p.snd_nxt);
	h_none();
	HEQ(h_events(s), TEV_APP_RESET);
	HEQ(TCB(s)->state, TCP_CLOSED);
	HEQ(AREA->live, 0);
}

/* RFC 6298 §5.7: the SYN timed out -> RTO of 3 s once the connection is up. */
HTEST(tcp_rto, lost_syn_active)
{
	struct h_peer p;
	struct h_out o;
	int err;
	uint32_t s = tcp_connect(CTX, H_PEER_IP, 80, TAPP_TEST, &err);

	h_peer_init(&p, TCB(s)->lport, 80, 7000);
	p.so = H_OPT_MSS;
	h_peer_next(&p, &o);
	p.iss = o.seq;
	HNEAR(h_wait_out(2000), 1000u);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_SYN);
	HEQ(o.seq, p.iss);
	h_advance(100);
	h_peer_send(&p, TH_SYN | TH_ACK, 7000, p.iss + 1, NULL, 0);
	p.snd_nxt = 7001;
	p.rcv_nxt = p.iss + 1;
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(TCB(s)->srtt_us, 0);           /* Karn: no sample from a retransmitted SYN */
	HEQ(TCB(s)->rto_ms, 3000);
	HEQ(TCB(s)->rto_shift, 0);
	h_pattern(data, 10, 0);
	tcp_send(CTX, s, data, 10);
	expect_data(&p, p.iss + 1, 10, 0);
	HEQ(TCB(s)->rto_at, h_now() + 3000);
}

HTEST(tcp_rto, lost_syn_ack_passive)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1);
	h_passive_syn(&p, &H_OPT_MSS);
	s = p.s;
	HNEAR(h_wait_out(2000), 1000u);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	h_peer_ack(&p, p.rcv_nxt);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(TCB(s)->rto_ms, 3000);
	HEQ(TCB(s)->rto_shift, 0);
}

/* SYN retransmissions with backoff, then the app learns the connect failed. */
HTEST(tcp_rto, syn_gives_up)
{
	struct h_out o;
	int err;
	uint32_t s;

	PRM->syn_retries = 2;
	s = tcp_connect(CTX, H_PEER_IP, 80, TAPP_TEST, &err);
	h_next(&o);
	HNEAR(h_wait_out(2000), 1000u);
	h_next(&o);
	HEQ(o.flags, TH_SYN);
	HNEAR(h_wait_out(3000), 2000u);
	h_next(&o);
	HEQ(o.flags, TH_SYN);
	h_advance(4000 + TCP_TICK_MS);
	h_none();
	HEQ(h_events(s), TEV_APP_RESET);
	HEQ(AREA->live, 0);
}

/* ==== zero window (RFC 9293 §3.8.6.1) ======================================== */

static uint32_t zero_window(struct h_peer *p, unsigned int nprobes)
{
	uint32_t s, una, want = 1000;

	PRM->max_retries = 3;   /* probes must not count as retransmissions */
	s = open_peer(p, &H_OPT_MSS);
	una = p->iss + 1;
	p->wnd = 0;
	h_peer_ack(p, una);
	HEQ(TCB(s)->snd_wnd, 0);
	h_pattern(data, 3000, 0);
	HEQ(tcp_send(CTX, s, data, 3000), 3000);
	h_none();
	for (unsigned int i = 0; i < nprobes; i++) {
		uint32_t w = h_wait_out(70000);

		HNEAR(w, want);
		expect_data(p, una, 1, 0);   /* one byte past the closed window */
		h_none();
		h_peer_ack(p, una);          /* still zero */
		h_none();
		want = want * 2 > PRM->rto_max_ms ? PRM->rto_max_ms : want * 2;
	}
	HEQ(AREA->events[TEV_ZERO_WINDOW_PROBES], nprobes);
	HEQ(AREA->events[TEV_RTO], 0);
	HEQ(AREA->events[TEV_FAST_RECOVERY] + AREA->events[TEV_SACK_RECOVERY], 0);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(h_events(s), 0);
	return s;
}

/* Probes with backoff, answered with a zero window; then the window opens. */
HTEST(tcp_persist, probes_then_open)
{
	struct h_peer p;
	uint32_t s = zero_window(&p, 5), una = p.iss + 1;

	p.wnd = 65535;
	h_peer_ack(&p, una);
	expect_data(&p, una, 1460, 0);
	expect_data(&p, una + 1460, 1460, 1460);
	expect_data(&p, una + 2920, 80, 2920);
	h_none();
	h_peer_ack(&p, una + 3000);
	HEQ(TCB(s)->snd_una, una + 3000);
	HEQ(TCB(s)->snd_bytes, 0);
	HEQ(TCB(s)->rto_at, 0);
	h_advance(70000);
	h_none();
}

/* The window opens by the ACK of the probe byte: the rest follows it. */
HTEST(tcp_persist, probe_accepted)
{
	struct h_peer p;
	uint32_t s = zero_window(&p, 2), una = p.iss + 1;

	p.wnd = 65535;
	h_peer_ack(&p, una + 1);
	/* the rest goes in full segments: the probed one is filled from the next (tcp_output.c) */
	expect_data(&p, una + 1, 1460, 1);
	expect_data(&p, una + 1461, 1460, 1461);
	expect_data(&p, una + 2921, 79, 2921);
	h_none();
	h_peer_ack(&p, una + 3000);
	HEQ(TCB(s)->snd_bytes, 0);
}

/* Persisting longer than max_retries * RTO: never reset (RFC 1122 §4.2.2.17). */
HTEST(tcp_persist, long_zero_window)
{
	struct h_peer p;

	PRM->rto_max_ms = 4000;
	zero_window(&p, 8);
}

/* ==== keep-alive (RFC 1122 §4.2.3.6) ======================================== */

static uint32_t keepalive_conn(struct h_peer *p)
{
	PRM->keepalive = 1;
	PRM->keepalive_idle_s = 1;
	PRM->keepalive_interval_s = 1;
	PRM->keepalive_count = 3;
	return open_peer(p, &H_OPT_MSS);
}

static void expect_probe(struct h_peer *p, uint32_t want_wait)
{
	struct h_out o;

	HNEAR(h_wait_out(want_wait + 100), want_wait);
	h_peer_next(p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p->iss);          /* SND.UNA - 1 */
	HEQ(o.ack, p->snd_nxt);
	HEQ(o.len, 0);
	h_none();
}

static void expect_ka_reset(struct h_peer *p, uint32_t s, uint32_t want_wait)
{
	struct h_out o;

	HNEAR(h_wait_out(want_wait + 100), want_wait);
	h_peer_next(p, &o);
	HEQ(o.flags, TH_RST | TH_ACK);
	HEQ(o.seq, p->iss + 1);
	h_none();
	HEQ(h_events(s), TEV_APP_RESET);
	HEQ(TCB(s)->state, TCP_CLOSED);
	HEQ(AREA->events[TEV_KEEPALIVE_TIMEOUTS], 1);
}

HTEST(tcp_keepalive, unanswered)
{
	struct h_peer p;
	uint32_t s = keepalive_conn(&p);

	expect_probe(&p, 1000);
	expect_probe(&p, 1000);
	expect_probe(&p, 1000);
	HEQ(AREA->events[TEV_KEEPALIVE_PROBES], 3);
	HEQ(h_events(s), 0);
	expect_ka_reset(&p, s, 1000);
}

/* An answered probe resets the count: the next probe comes after a full idle time. */
HTEST(tcp_keepalive, answered)
{
	struct h_peer p;
	uint32_t s = keepalive_conn(&p);

	expect_probe(&p, 1000);
	h_advance(500);
	h_peer_ack(&p, p.iss + 1);          /* the answer: an ACK of SND.UNA */
	h_none();
	HEQ(TCB(s)->ka_probes, 0);
	expect_probe(&p, 1000);
	expect_probe(&p, 1000);
	expect_probe(&p, 1000);
	expect_ka_reset(&p, s, 1000);
}

/* Traffic postpones the first probe; our own probes are answered like any segment. */
HTEST(tcp_keepalive, traffic_postpones)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = keepalive_conn(&p);

	h_advance(800);
	h_peer_data(&p, "x", 1);
	h_peer_next(&p, &o);
	HEQ(o.ack, p.snd_nxt);
	expect_probe(&p, 1000);
	/* a keep-alive from the peer (SEQ = RCV.NXT - 1) gets an ACK */
	h_peer_send(&p, TH_ACK, p.snd_nxt - 1, p.rcv_nxt, NULL, 0);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.ack, p.snd_nxt);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
}

/* Off by default: nothing for hours. */
HTEST(tcp_keepalive, off)
{
	struct h_peer p;

	open_peer(&p, &H_OPT_MSS);
	h_advance(3 * 3600 * 1000 / 64);
	h_none();
}

/* ==== ICMP frag-needed (RFC 1191) =========================================== */

/* The MSS drops and what is in flight is sent again in smaller segments, data intact. */
HTEST(tcp_pmtu, resend_smaller)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = open_peer(&p, &H_OPT_MSS), una = p.iss + 1, total = 0;

	send_segs(&p, s, 4, 1460);
	h_icmp_frag_needed(&p, una, 1000);
	HEQ(TCB(s)->mss, 960);
	HEQ(AREA->events[TEV_PMTU_LOWERED], 1);
	while (h_pending()) {
		h_peer_next(&p, &o);
		HEQ(o.seq, una + total);
		cr_assert(o.len <= 960, "segment of %u bytes after the MSS became 960", o.len);
		cr_assert(memcmp(o.payload, data + total, o.len) == 0, "resent data differs at %u",
			  total);
		total += o.len;
	}
	HEQ(total, 4 * 1460);
	HEQ(TCB(s)->snd_bytes, 4 * 1460);
	/* later data uses the new MSS too, and the queue accounting holds */
	h_peer_ack(&p, una + total);
	HEQ(TCB(s)->snd_bytes, 0);
	h_pattern(data, 2000, 0);
	tcp_send(CTX, s, data, 2000);
	expect_data(&p, una + total, 960, 0);
	expect_data(&p, una + total + 960, 960, 960);
	expect_data(&p, una + total + 1920, 80, 1920);
}

/* Frag-needed for no stream, or quoting nothing in flight: counted, nothing else
 * (more in test_tcp_sec.c, suite tcp_icmp). */
HTEST(tcp_pmtu, unmatched)
{
	struct h_peer p;
	uint32_t s = open_peer(&p, &H_OPT_MSS);
	struct h_peer other = p;

	other.rport = 1;
	h_icmp_frag_needed(&other, 0, 1000);
	HEQ(AREA->drops[TDROP_ICMP_UNMATCHED], 1);
	h_icmp_frag_needed(&p, p.iss + 1, 60);
	HEQ(tcp_area_drop(AREA, TDROP_ICMP_OUT_OF_WINDOW), 1);
	HEQ(TCB(s)->mss, 1460);
	h_none();
}

/* ==== Nagle, buffers ======================================================== */

HSUITE(tcp_nagle);
HSUITE(tcp_nomem);

/* RFC 9293 §3.7.4 with nodelay off: a small segment waits while data is unacknowledged. */
HTEST(tcp_nagle, holds_small)
{
	struct h_peer p;
	uint32_t s, una;

	PRM->nodelay = 0;
	s = open_peer(&p, &H_OPT_MSS);
	una = p.iss + 1;
	h_pattern(data, 30, 0);
	tcp_send(CTX, s, data, 10);
	expect_data(&p, una, 10, 0);
	tcp_send(CTX, s, data + 10, 10);
	tcp_send(CTX, s, data + 20, 10);
	h_none();
	h_peer_ack(&p, una + 10);
	expect_data(&p, una + 10, 20, 10);
	h_none();
}

/* The send buffer limit and the WRITABLE event. */
HTEST(tcp_nagle, send_buffer)
{
	struct h_peer p;
	uint32_t s, una;

	PRM->snd_buf = 4096;
	s = open_peer(&p, &H_OPT_MSS);
	una = p.iss + 1;
	p.wnd = 0;
	h_peer_ack(&p, una);
	h_pattern(data, 8192, 0);
	HEQ(tcp_send(CTX, s, data, 8192), 4096);
	HEQ(tcp_send_space(CTX, s), 0);
	HEQ(tcp_send(CTX, s, data, 10), 0);
	p.wnd = 65535;
	h_clear_events();
	h_peer_ack(&p, una);
	HEQ(TCB(s)->snd_max, una + 4096);
	h_drain();
	h_peer_ack(&p, una + 4096);
	HTRUE(h_events(s) & TEV_APP_WRITABLE);
	HEQ(tcp_send_space(CTX, s), 4096);
}

/* No buffer for a queue segment: -ENOMEM, nothing leaks, later sends work. */
HTEST(tcp_nomem, send_alloc_fails)
{
	struct h_peer p;
	uint32_t s = open_peer(&p, &H_OPT_MSS);

	H.fail_allocs = 1;
	HEQ(tcp_send(CTX, s, "abc", 3), -ENOMEM);
	HEQ(TCB(s)->snd_bytes, 0);
	h_none();
	h_pattern(data, 3, 0);
	HEQ(tcp_send(CTX, s, data, 3), 3);
	expect_data(&p, p.iss + 1, 3, 0);
}

/* No buffer to transmit queued data with nothing in flight: it must still go out later. */
HTEST(tcp_nomem, xmit_alloc_fails)
{
	struct h_peer p;
	uint32_t s = open_peer(&p, &H_OPT_MSS);

	h_pattern(data, 100, 0);
	H.fail_skip = 1;    /* the queue mbuf is allocated, the frame is not */
	H.fail_allocs = 1;
	HEQ(tcp_send(CTX, s, data, 100), 100);
	h_none();
	HEQ(AREA->drops[TDROP_NOMBUF], 1);
	HEQ(TCB(s)->snd_bytes, 100);
	/* buffers are back: the data goes out without help from the peer or the app */
	HNEAR(h_wait_out(5000), 1000u);
	expect_data(&p, p.iss + 1, 100, 0);
	h_none();
	h_peer_ack(&p, p.iss + 101);
	HEQ(TCB(s)->snd_bytes, 0);
	h_advance(10000);
	h_none();
}
