/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp: what guards a stream against segments and ICMP errors it did
 * not ask for. ICMP fragmentation-needed checked against the bytes in flight
 * (RFC 5927 §4.1) and a floor under the MTU it may report; a SYN in each
 * synchronized state draws a counted, rate-limited challenge ACK (RFC 5961
 * §4, RFC 9293 §3.10.7.4) while a legitimate TIME-WAIT reuse (RFC 6191,
 * RFC 1122 §4.2.2.13) still opens; challenge ACKs limited per stream, so a
 * flood on one stream silences no other (RFC 5961 §7, CVE-2016-5696); a
 * floor under the send MSS a peer's SYN may ask for.
 */
#include "tests/unit/tcp_harness.h"

#include <string.h>

HSUITE(tcp_icmp);

static uint8_t data[65536];

static uint32_t open_peer(struct h_peer *p, const struct h_synopt *so, uint16_t rport)
{
	uint32_t s;

	h_peer_init(p, H_TEST_PORT, rport, 0x1000);
	s = h_open_passive(p, so);
	h_clear_events();
	return s;
}

/* Queue N segments of MSS bytes and check they leave; returns SND.MAX after them. */
static uint32_t send_segs(struct h_peer *p, uint32_t s, unsigned int n, uint32_t mss)
{
	uint32_t first = TCB(s)->snd_max;
	struct h_out o;

	h_pattern(data, n * mss, 0);
	HEQ(tcp_send(CTX, s, data, n * mss), (int)(n * mss));
	for (unsigned int i = 0; i < n; i++) {
		h_peer_next(p, &o);
		HEQ(o.seq, first + i * mss);
		HEQ(o.len, mss);
	}
	h_none();
	HEQ(TCB(s)->snd_max, first + n * mss);
	return first + n * mss;
}

/* What went out again after the MSS was lowered: every byte from UNA, none over MSS. */
static void expect_resent(struct h_peer *p, uint32_t una, uint32_t total, uint32_t mss)
{
	struct h_out o;
	uint32_t got = 0;

	while (got < total) {
		h_peer_next(p, &o);
		HEQ(o.seq, una + got);
		cr_assert(o.len > 0 && o.len <= mss, "a segment of %u bytes with the MSS at %u", o.len, mss);
		cr_assert(memcmp(o.payload, data + got, o.len) == 0, "resent data differs at %u", got);
		got += o.len;
	}
	HEQ(got, total);
	h_none();
}

/* ==== ICMP fragmentation needed (RFC 1191, RFC 5927) ========================= */

/*
 * RFC 5927 §4.1: the quoted sequence number must lie in [SND.UNA, SND.NXT)
 * (SND.MAX here: what was ever sent), else the message is no answer to a
 * segment in flight and is ignored, counted as icmp_out_of_window.
 */
HTEST(tcp_icmp, quote_outside_flight_ignored)
{
	struct h_peer p;
	uint32_t s = open_peer(&p, &H_OPT_MSS, H_PEER_PORT), una = p.iss + 1, max;

	/* nothing in flight: no quote can be of ours */
	h_icmp_frag_needed(&p, una, 1000);
	h_icmp_frag_needed(&p, una - 1, 1000);
	HEQ(TCB(s)->mss, 1460);
	h_none();
	HEQ(tcp_area_drop(AREA, TDROP_ICMP_OUT_OF_WINDOW), 2);

	max = send_segs(&p, s, 4, 1460);
	{
		const uint32_t bad[] = {
			una - 1,             /* acknowledged already (the SYN) */
			una - 70000,
			max,                 /* SND.NXT itself: not sent yet */
			max + 1,
			max + 0x10000,
			una + 0x80000000u,   /* the far side of the sequence space */
		};

		for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			h_icmp_frag_needed(&p, bad[i], 1000);
	}
	HEQ(TCB(s)->mss, 1460);
	h_none();
	HEQ(AREA->events[TEV_PMTU_LOWERED], 0);
	HEQ(tcp_area_drop(AREA, TDROP_ICMP_OUT_OF_WINDOW), 8);
	HEQ(AREA->drops[TDROP_ICMP_UNMATCHED], 0);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);

	/* the last byte in flight is ours: the MSS drops and the flight goes again */
	h_icmp_frag_needed(&p, max - 1, 1000);
	HEQ(TCB(s)->mss, 960);
	HEQ(AREA->events[TEV_PMTU_LOWERED], 1);
	expect_resent(&p, una, 4 * 1460, 960);

	/* acknowledged bytes are no longer in flight */
	h_peer_ack(&p, una + 2 * 1460);
	h_icmp_frag_needed(&p, una + 1460, 600);
	HEQ(TCB(s)->mss, 960);
	HEQ(tcp_area_drop(AREA, TDROP_ICMP_OUT_OF_WINDOW), 9);
	h_none();
}

/*
 * Data queued at the old MSS leaves at the new one in full segments: the
 * tail of each queued segment is filled from the next one, not sent as a
 * runt (ten 1460-byte segments at MSS 960 are 16 frames, not 20).
 */
HTEST(tcp_icmp, queued_data_leaves_full_at_the_lower_mss)
{
	struct h_peer p;
	uint32_t s = open_peer(&p, &H_OPT_MSS, H_PEER_PORT), una = p.iss + 1, got = 10 * 1460, frames = 0;
	struct h_out o;

	h_pattern(data, 20 * 1460, 0);
	HEQ(tcp_send(CTX, s, data, 20 * 1460), 20 * 1460);
	for (unsigned int i = 0; i < 10; i++) {          /* the initial window; ten segments stay queued */
		h_peer_next(&p, &o);
		HEQ(o.len, 1460);
	}
	h_none();
	h_icmp_frag_needed(&p, una + 1460, 1000);
	HEQ(TCB(s)->mss, 960);
	expect_resent(&p, una, 10 * 1460, 960);
	for (unsigned int round = 0; got < 20 * 1460; round++) {
		HTRUE(round < 20);                       /* output never stalls */
		h_peer_ack(&p, TCB(s)->snd_max);
		while (h_pop(&o)) {
			if (o.len == 0)
				continue;
			HEQ(o.seq, una + got);
			cr_assert(memcmp(o.payload, data + got, o.len) == 0, "queued data differs at %u", got);
			got += o.len;
			frames++;
			if (got < 20 * 1460)
				HEQ(o.len, 960);                 /* full; only the last may be short */
		}
	}
	HEQ(got, 20 * 1460);
	HEQ(frames, (10 * 1460 + 959) / 960);
	h_peer_ack(&p, TCB(s)->snd_max);
	HEQ(TCB(s)->snd_bytes, 0);
}

/*
 * A reported MTU below 552 (Linux's min_pmtu; RFC 791 lets links go down to
 * 68) is taken as 552, so the MSS never drops below 512 (500 beside
 * timestamps): a forged or broken message cannot shrink segments to a few
 * bytes. 0 (a router older than RFC 1191) counts as 552 too. Above the
 * floor the reported MTU holds; it never raises the MSS.
 */
HTEST(tcp_icmp, mtu_floor)
{
	static const uint16_t tiny[] = { 68, 0, 1, 67, 296, 551 };
	struct h_peer p, q, r;
	uint32_t s = open_peer(&p, &H_OPT_MSS, H_PEER_PORT), una = p.iss + 1;

	send_segs(&p, s, 4, 1460);
	for (unsigned int i = 0; i < sizeof(tiny) / sizeof(tiny[0]); i++) {
		h_icmp_frag_needed(&p, una, tiny[i]);
		HEQ(TCB(s)->mss, 512);
		if (i == 0)
			expect_resent(&p, una, 4 * 1460, 512);
		h_none();
	}
	HEQ(AREA->events[TEV_PMTU_LOWERED], 1);
	HEQ(AREA->drops[TDROP_ICMP_UNMATCHED], 0);
	HEQ(tcp_area_drop(AREA, TDROP_ICMP_OUT_OF_WINDOW), 0);

	/* with timestamps the options come out of the same 552 bytes */
	s = open_peer(&q, &H_OPT_ALL, H_PEER_PORT + 1);
	HEQ(TCB(s)->mss, 1448);
	una = q.iss + 1;
	send_segs(&q, s, 2, 1448);
	h_icmp_frag_needed(&q, una, 100);
	HEQ(TCB(s)->mss, 500);
	h_drain();

	/* above the floor the MTU holds: 576 -> 536; a larger one changes nothing */
	s = open_peer(&r, &H_OPT_MSS, H_PEER_PORT + 2);
	una = r.iss + 1;
	send_segs(&r, s, 2, 1460);
	h_icmp_frag_needed(&r, una, 9000);
	HEQ(TCB(s)->mss, 1460);
	h_none();
	h_icmp_frag_needed(&r, una, 576);
	HEQ(TCB(s)->mss, 536);
	h_drain();
}

/* ==== a SYN in a synchronized state (RFC 5961 §4, RFC 9293 §3.10.7.4) ========= */

HSUITE(tcp_syn_challenge);

/*
 * The peer of P sends FLAGS (with SYN) at SEQ with timestamp TSVAL: exactly
 * one challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> comes back, counted
 * as a challenge ACK and as syn_in_window, and the stream is as it was.
 */
static void expect_challenge(struct h_peer *p, uint32_t s, uint8_t flags, uint32_t seq, uint32_t tsval)
{
	uint64_t ch = AREA->events[TEV_CHALLENGE_ACKS], syn = AREA->drops[TDROP_SYN_IN_STATE];
	uint32_t snd = TCB(s)->snd_max, rcv = TCB(s)->rcv_nxt, ts0 = p->tsval;
	enum tcp_state st = (enum tcp_state)TCB(s)->state;
	struct h_out o;

	p->tsval = tsval;
	h_peer_send(p, flags, seq, (flags & TH_ACK) ? p->rcv_nxt : 0, NULL, 0);
	p->tsval = ts0;
	h_peer_next(p, &o);
	cr_assert(o.flags == TH_ACK, "flags %#x answered flags %#x (seq RCV.NXT%+d) in %s", flags,
		  o.flags, (int32_t)(seq - rcv), tcp_state_name(st));
	HEQ(o.seq, snd);
	HEQ(o.ack, rcv);
	HEQ(o.len, 0);
	h_none();
	cr_assert(AREA->events[TEV_CHALLENGE_ACKS] == ch + 1,
		  "flags %#x (seq RCV.NXT%+d) in %s: an ACK, but not a counted challenge ACK", flags,
		  (int32_t)(seq - rcv), tcp_state_name(st));
	HEQ(AREA->drops[TDROP_SYN_IN_STATE], syn + 1);
	HEQ(TCB(s)->state, st);
	HEQ(TCB(s)->rcv_nxt, rcv);
	HEQ(TCB(s)->snd_max, snd);
	HEQ(h_events(s), 0);
}

/*
 * Whatever its sequence number (in the window, below it, far beyond it),
 * with or without ACK, and when PAWS finds its timestamp old, a SYN draws a
 * challenge ACK; once the stream's budget for the second is spent, nothing
 * (counted); a second later, a challenge ACK again.
 */
static void syn_in_state(enum tcp_state st, uint16_t rport)
{
	struct h_peer p;
	uint32_t s, rcv, sent;

	h_peer_init(&p, H_TEST_PORT, rport, 0x30000000u + rport);
	s = h_goto(&p, st, &H_OPT_ALL);
	HEQ(TCB(s)->state, st);
	h_clear_events();
	rcv = TCB(s)->rcv_nxt;
	if (st != TCP_TIME_WAIT) {
		/* (in TIME-WAIT these two reopen the tuple: RFC 6191, suite tcp_timewait_syn) */
		expect_challenge(&p, s, TH_SYN, rcv + 100, p.tsval);
		expect_challenge(&p, s, TH_SYN, rcv + 0x40000000u, p.tsval);
	}
	expect_challenge(&p, s, TH_SYN, rcv - 1000, p.tsval);
	expect_challenge(&p, s, TH_SYN, rcv - 2, p.tsval);         /* (RCV.NXT - 1 in SYN-RECEIVED: the peer's own SYN) */
	expect_challenge(&p, s, TH_SYN | TH_ACK, rcv + 100, p.tsval);
	expect_challenge(&p, s, TH_SYN | TH_ACK, rcv - 1000, p.tsval);
	expect_challenge(&p, s, TH_SYN, rcv, p.tsval - 1);        /* PAWS: an old timestamp */
	expect_challenge(&p, s, TH_SYN | TH_FIN, rcv - 1000, p.tsval);

	/* RFC 5961 §7: this stream's challenge ACKs for this second are spent */
	sent = (uint32_t)AREA->events[TEV_CHALLENGE_ACKS];
	PRM->challenge_ack_limit = sent;
	h_peer_send(&p, TH_SYN, rcv - 1000, 0, NULL, 0);
	h_peer_send(&p, TH_SYN | TH_ACK, rcv + 100, p.rcv_nxt, NULL, 0);
	h_none();
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], sent);
	HEQ(AREA->drops[TDROP_CHALLENGE_LIMIT], 2);
	HEQ(AREA->drops[TDROP_SYN_IN_STATE], sent + 2);
	HEQ(TCB(s)->state, st);
	HEQ(h_events(s), 0);

	/* the next second has a budget again (what the timers resend meanwhile is not looked at) */
	h_advance(1000);
	h_drain();
	HEQ(TCB(s)->state, st);
	expect_challenge(&p, s, TH_SYN, rcv - 1000, p.tsval);
}

HTEST(tcp_syn_challenge, syn_received)
{
	syn_in_state(TCP_SYN_RECEIVED, 4001);
}

HTEST(tcp_syn_challenge, established)
{
	syn_in_state(TCP_ESTABLISHED, 4002);
}

HTEST(tcp_syn_challenge, fin_wait_1)
{
	syn_in_state(TCP_FIN_WAIT_1, 4003);
}

HTEST(tcp_syn_challenge, fin_wait_2)
{
	syn_in_state(TCP_FIN_WAIT_2, 4004);
}

HTEST(tcp_syn_challenge, close_wait)
{
	syn_in_state(TCP_CLOSE_WAIT, 4005);
}

HTEST(tcp_syn_challenge, closing)
{
	syn_in_state(TCP_CLOSING, 4006);
}

HTEST(tcp_syn_challenge, last_ack)
{
	syn_in_state(TCP_LAST_ACK, 4007);
}

HTEST(tcp_syn_challenge, time_wait)
{
	syn_in_state(TCP_TIME_WAIT, 4008);
}

/* SYN-RECEIVED: the peer's own SYN again (our SYN,ACK was lost) is no attack: the SYN,ACK goes again. */
HTEST(tcp_syn_challenge, syn_received_retransmitted_syn)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, 4010, 0x1234);
	s = h_goto(&p, TCP_SYN_RECEIVED, &H_OPT_ALL);
	h_peer_send(&p, TH_SYN, p.isn, 0, NULL, 0);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	HEQ(o.seq, p.iss);
	HEQ(o.ack, p.isn + 1);
	h_none();
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], 0);
	h_peer_ack(&p, p.iss + 1);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
}

/* ==== TIME-WAIT: a new incarnation (RFC 6191, RFC 1122 §4.2.2.13) ============= */

HSUITE(tcp_timewait_syn);

/*
 * A stream of P (options SO) that we closed first, after sending OURS bytes,
 * and that is now in TIME-WAIT; the peer's last TSval was 1010.
 */
static uint32_t time_wait_after(struct h_peer *p, const struct h_synopt *so, uint32_t ours)
{
	struct h_out o;
	uint32_t s, got = 0;

	h_peer_init(p, H_TEST_PORT, H_PEER_PORT, 0x5000);
	p->tsval = 1000;
	s = h_open_passive(p, so);
	h_pattern(data, ours, 0);
	if (ours)
		HEQ(tcp_send(CTX, s, data, ours), (int)ours);
	while (got < ours) {
		HTRUE(h_pending());
		while (h_pending()) {
			h_peer_next(p, &o);
			HEQ(o.seq, p->iss + 1 + got);
			got += o.len;
		}
		p->rcv_nxt = p->iss + 1 + got;
		h_peer_ack(p, p->rcv_nxt);   /* (the window opens as the data is acknowledged) */
	}
	HEQ(tcp_shutdown(CTX, s), 0);
	h_peer_next(p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	p->tsval = 1010;
	p->rcv_nxt++;
	h_peer_send(p, TH_FIN | TH_ACK, p->snd_nxt, p->rcv_nxt, NULL, 0);
	p->snd_nxt++;
	h_peer_next(p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	h_clear_events();
	return s;
}

/* A SYN from a new incarnation of P's peer: ISN, TSVAL, timestamps offered or not. */
static void new_syn(struct h_peer *q, uint32_t isn, uint32_t tsval, bool ts)
{
	h_peer_init(q, H_TEST_PORT, H_PEER_PORT, isn);
	q->so = ts ? H_OPT_ALL : H_OPT_MSS;
	q->tsval = tsval;
	h_peer_send(q, TH_SYN, isn, 0, NULL, 0);
}

/* RFC 6191: the same TSval as the last one seen, and a higher sequence number: reopened. */
HTEST(tcp_timewait_syn, equal_tsval_higher_seq_reopens)
{
	struct h_peer p, q;
	struct h_out o;
	uint32_t s = time_wait_after(&p, &H_OPT_ALL, 0), rcv = TCB(s)->rcv_nxt;

	new_syn(&q, rcv + 1000, 1010, true);
	h_peer_next(&q, &o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	HEQ(o.ack, rcv + 1001);
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 1);
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], 0);
	HEQ(TCB(h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, H_PEER_PORT))->state, TCP_SYN_RECEIVED);
}

/* ... but the same TSval and a sequence number below the old one: a challenge ACK, still TIME-WAIT. */
HTEST(tcp_timewait_syn, equal_tsval_lower_seq_challenged)
{
	struct h_peer p, q;
	struct h_out o;
	uint32_t s = time_wait_after(&p, &H_OPT_ALL, 0), rcv = TCB(s)->rcv_nxt;

	new_syn(&q, rcv - 100, 1010, true);
	h_peer_next(&q, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, rcv);
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], 1);
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 0);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
}

/*
 * RFC 6191: the old incarnation had no timestamps, the new SYN offers them
 * (and we use them): PAWS will protect the new incarnation, whatever the SYN's
 * sequence number.
 */
HTEST(tcp_timewait_syn, timestamps_now_reopen_any_seq)
{
	struct h_peer p, q;
	struct h_out o;
	uint32_t s = time_wait_after(&p, &H_OPT_MSS, 0), rcv = TCB(s)->rcv_nxt;

	new_syn(&q, rcv - 5000, 7, true);
	h_peer_next(&q, &o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	HEQ(o.ack, rcv - 4999);
	HTRUE(o.opt.has_ts);
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 1);
	/* without timestamps on our side that SYN is just an old one */
	h_check_clean();
	PRM->timestamps = 0;
	s = time_wait_after(&p, &H_OPT_MSS, 0);
	rcv = TCB(s)->rcv_nxt;
	new_syn(&q, rcv - 5000, 7, true);
	h_peer_next(&q, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 1);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
}

/*
 * RFC 1122 §4.2.2.13 (1): the new incarnation's ISN is above every sequence
 * number the old one used, so none of its late segments can land in the new
 * window (a fresh RFC 6528 ISN moves 250,000 per second; the old stream sent
 * more than that since).
 */
HTEST(tcp_timewait_syn, new_iss_above_old_sequence_space)
{
	struct h_peer p, q;
	struct h_out o;
	uint32_t s = time_wait_after(&p, &H_OPT_MSS, 20000), old_max = TCB(s)->snd_max;

	HEQ(old_max, p.iss + 1 + 20000 + 1);
	new_syn(&q, TCB(s)->rcv_nxt + 1000, 0, false);
	h_peer_next(&q, &o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 1);
	cr_assert(seq_geq(o.seq, old_max), "new ISS %#x below the old SND.NXT %#x", o.seq, old_max);
	/* and the new incarnation works */
	q.iss = o.seq;
	q.rcv_nxt = o.seq + 1;
	q.snd_nxt = q.isn + 1;
	h_peer_ack(&q, q.rcv_nxt);
	s = h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, H_PEER_PORT);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	h_peer_data(&q, "new", 3);
	HEQ(tcp_recv_avail(CTX, s), 3);
}

/*
 * A stream we opened (nothing listens on its port) in TIME-WAIT: a SYN that
 * would reopen a listener's tuple has no listener to go to; it is challenged
 * and the TIME-WAIT stays (no RST, nothing freed).
 */
HTEST(tcp_timewait_syn, no_listener_challenged)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s, rcv;

	h_peer_init(&p, 0, 8080, 0x7000);
	p.tsval = 1000;
	s = h_open_active(&p, &H_OPT_ALL);
	HEQ(tcp_shutdown(CTX, s), 0);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	p.rcv_nxt++;
	h_peer_send(&p, TH_FIN | TH_ACK, p.snd_nxt, p.rcv_nxt, NULL, 0);
	p.snd_nxt++;
	h_peer_next(&p, &o);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	h_clear_events();
	rcv = TCB(s)->rcv_nxt;
	expect_challenge(&p, s, TH_SYN, rcv + 1000, 5000);
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 0);
	HEQ(AREA->events[TEV_RESETS_SENT], 0);
	HEQ(AREA->live, 1);
}

/*
 * A TIME-WAIT stream whose application still holds it (a half-closed tunnel
 * that has not read the peer's last bytes yet, test_tcp.c
 * time_wait_keeps_unread_data) is no bare TIME-WAIT: a SYN that would reopen
 * the tuple is challenged, the stream and its bytes stay the application's.
 */
HTEST(tcp_timewait_syn, held_by_the_app_challenged)
{
	struct h_peer p, q;
	struct h_out o;
	uint32_t s, rcv;
	char buf[8];

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 0x9000);
	p.tsval = 1000;
	s = h_open_passive(&p, &H_OPT_ALL);
	HEQ(tcp_shutdown(CTX, s), 0);
	h_peer_next(&p, &o);
	h_peer_ack(&p, p.iss + 2);
	h_peer_data(&p, "tail", 4);
	h_peer_fin(&p);
	h_drain();
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	HEQ(TCB(s)->app, TAPP_TEST);
	h_clear_events();
	rcv = TCB(s)->rcv_nxt;
	new_syn(&q, rcv + 1000, 5000, true);
	h_next(&o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, rcv);
	h_none();
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 0);
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], 1);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	HEQ(h_events(s), 0);
	HEQ(tcp_recv(CTX, s, buf, sizeof(buf)), 4);
	HEQ(memcmp(buf, "tail", 4), 0);
	/* once it lets go, the tuple may be reopened */
	tcp_close(CTX, s);
	new_syn(&q, rcv + 2000, 5001, true);
	h_next(&o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 1);
}

/* ==== challenge ACK limits (RFC 5961 §7, CVE-2016-5696) ======================== */

HSUITE(tcp_challenge_limit);

/* RFC 5961 §3.2: a RST in the window, not at RCV.NXT (OFF > 0 bytes above it): challenged. */
static void blind_rst(struct h_peer *p, uint32_t off)
{
	h_peer_send(p, TH_RST, p->snd_nxt + off, 0, NULL, 0);
}

/* Pop everything sent; returns the ACKs (no SYN/FIN/RST, no data) to P's peer port. */
static unsigned int acks_to(const struct h_peer *p)
{
	struct h_out o;
	unsigned int n = 0;

	while (h_pending()) {
		h_next(&o);
		if (o.dport == p->rport && o.flags == TH_ACK && o.len == 0)
			n++;
	}
	return n;
}

/*
 * The side channel of CVE-2016-5696: with one budget for the whole shard, a
 * flood of in-window RSTs on one stream (the attacker's own) used it up and
 * silenced the challenge ACKs of every other stream, and counting them told
 * an off-path attacker whether his guess hit someone else's stream. Now a
 * stream spends only its own budget.
 */
HTEST(tcp_challenge_limit, flood_on_one_stream_spares_the_others)
{
	const unsigned int flood = 3000;
	struct h_peer a, b;
	struct h_out o;
	uint32_t sa = open_peer(&a, &H_OPT_ALL, 5001), sb = open_peer(&b, &H_OPT_ALL, 5002);
	uint64_t limited;

	for (unsigned int i = 0; i < flood; i++)
		blind_rst(&a, 1 + i % 1000);
	HEQ(acks_to(&a), PRM->challenge_ack_limit);
	limited = AREA->drops[TDROP_CHALLENGE_LIMIT];
	HEQ(limited, flood - PRM->challenge_ack_limit);
	HEQ(AREA->drops[TDROP_RST_IN_WINDOW], flood);
	HEQ(TCB(sa)->state, TCP_ESTABLISHED);

	/* the other stream, the same second: its RST and its SYN are each challenged */
	blind_rst(&b, 10);
	h_peer_next(&b, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, b.iss + 1);
	HEQ(o.ack, b.snd_nxt);
	h_none();
	h_peer_send(&b, TH_SYN, b.snd_nxt + 5, 0, NULL, 0);
	h_peer_next(&b, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, b.snd_nxt);
	h_none();
	HEQ(AREA->drops[TDROP_CHALLENGE_LIMIT], limited);
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], PRM->challenge_ack_limit + 2);
	HEQ(TCB(sb)->state, TCP_ESTABLISHED);
	/* and the flooded stream is still limited for the rest of its second */
	blind_rst(&a, 7);
	h_none();
}

/* The same at the configured default (5 per stream), with a hundred streams besides. */
HTEST(tcp_challenge_limit, default_limit_many_streams)
{
	enum { N = 100 };
	static struct h_peer v[N];
	struct h_peer a;
	uint32_t sa;

	PRM->challenge_ack_limit = 5;
	sa = open_peer(&a, &H_OPT_ALL, 5100);
	for (unsigned int i = 0; i < N; i++)
		open_peer(&v[i], &H_OPT_ALL, (uint16_t)(5200 + i));
	for (unsigned int i = 0; i < 2000; i++)
		blind_rst(&a, 1 + i);
	HEQ(acks_to(&a), 5);
	for (unsigned int i = 0; i < N; i++) {
		blind_rst(&v[i], 100);
		cr_assert(acks_to(&v[i]) == 1, "stream %u of %u got no challenge ACK after the flood", i, N);
	}
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], 5 + N);
	HEQ(TCB(sa)->state, TCP_ESTABLISHED);
}

/*
 * One stream: at most challenge_ack_limit challenge ACKs in a second, whatever
 * draws them (in-window RST, SYN, an ACK of data never sent: RFC 5961 §3.2,
 * §4.2, §5.2); the excess is counted; the next second brings a new budget.
 */
HTEST(tcp_challenge_limit, one_stream_per_second)
{
	struct h_peer p;
	uint32_t s = open_peer(&p, &H_OPT_ALL, 5003);

	PRM->challenge_ack_limit = 3;
	for (unsigned int i = 0; i < 3; i++) {
		blind_rst(&p, 10 + i);
		h_peer_send(&p, TH_SYN, p.snd_nxt + 100, 0, NULL, 0);
		h_peer_send(&p, TH_ACK, p.snd_nxt, p.iss + 5000, NULL, 0);
	}
	HEQ(acks_to(&p), 3);
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], 3);
	HEQ(AREA->drops[TDROP_CHALLENGE_LIMIT], 6);
	h_advance(999);
	blind_rst(&p, 10);
	HEQ(acks_to(&p), 0);
	HEQ(AREA->drops[TDROP_CHALLENGE_LIMIT], 7);
	h_advance(1);
	for (unsigned int i = 0; i < 5; i++)
		blind_rst(&p, 10 + i);
	HEQ(acks_to(&p), 3);
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], 6);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	/* the exact RST still resets, budget or not */
	h_peer_send(&p, TH_RST, p.snd_nxt, 0, NULL, 0);
	HEQ(TCB(s)->state, TCP_CLOSED);
}

/*
 * The shard's safety net: a budget for all streams together, drawn each
 * second at random between 1/2 and 3/2 of max(10000, 100 x the per-stream
 * limit), so that a prober who could exhaust it still could not count it.
 */
HTEST(tcp_challenge_limit, shard_budget_random_and_generous)
{
	uint32_t lo = UINT32_MAX, hi = 0, first = 0;
	bool varies = false;

	PRM->challenge_ack_limit = 5;
	for (uint32_t sec = 0; sec < 2000; sec++) {
		uint32_t b = tcp_challenge_shard_budget(CTX, sec);

		cr_assert(b >= 5000 && b < 15000, "budget %u of second %u", b, sec);
		lo = b < lo ? b : lo;
		hi = b > hi ? b : hi;
		if (sec == 0)
			first = b;
		else if (b != first)
			varies = true;
		HEQ(tcp_challenge_shard_budget(CTX, sec), b);   /* one draw per second */
	}
	HTRUE(varies);
	cr_assert(lo < 6000 && hi >= 14000, "budgets spread over [%u, %u] only", lo, hi);
	PRM->challenge_ack_limit = 1000;
	for (uint32_t sec = 0; sec < 100; sec++) {
		uint32_t b = tcp_challenge_shard_budget(CTX, sec);

		cr_assert(b >= 50000 && b < 150000, "budget %u with 1000 per stream", b);
	}
}

/* When the shard's budget is spent, no stream gets a challenge ACK until the next second. */
HTEST(tcp_challenge_limit, shard_budget_enforced)
{
	struct h_peer p[3];
	uint32_t s[3];

	for (unsigned int i = 0; i < 3; i++)
		s[i] = open_peer(&p[i], &H_OPT_ALL, (uint16_t)(5300 + i));
	AREA->challenge_sec = h_now() / 1000;
	AREA->challenge_left = 2;
	for (unsigned int i = 0; i < 3; i++) {
		blind_rst(&p[i], 10);
		HEQ(acks_to(&p[i]), i < 2);
	}
	HEQ(AREA->drops[TDROP_CHALLENGE_LIMIT], 1);
	h_advance(1000);
	blind_rst(&p[2], 10);
	HEQ(acks_to(&p[2]), 1);
	for (unsigned int i = 0; i < 3; i++)
		HEQ(TCB(s[i])->state, TCP_ESTABLISHED);
}

/* ==== the peer's MSS option (RFC 9293 §3.7.1, RFC 6691) ======================== */

HSUITE(tcp_mss_floor);

/*
 * A SYN announcing an MSS of a few bytes, or 0, or less than the timestamp
 * option beside it: the stream sends segments of at least 48 bytes (Linux's
 * tcp_min_snd_mss), never empty ones (tcp_send() would queue empty buffers
 * until the pool ran out) nor, by an unsigned wrap, 64 KiB ones.
 */
HTEST(tcp_mss_floor, tiny_peer_mss)
{
	static const struct { uint16_t mss; bool ts; uint16_t want; } cases[] = {
		{ 0, false, 48 }, { 1, false, 48 }, { 47, false, 48 }, { 48, false, 48 },
		{ 100, false, 100 }, { 0, true, 48 }, { 5, true, 48 }, { 12, true, 48 },
		{ 59, true, 48 }, { 61, true, 49 },
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct h_synopt so = cases[i].ts ? H_OPT_ALL : H_OPT_MSS;
		struct h_peer p;
		struct h_out o;
		uint32_t s, got = 0;

		so.mss_val = cases[i].mss;
		h_peer_init(&p, H_TEST_PORT, (uint16_t)(6000 + i), 0x100);
		s = h_open_passive(&p, &so);
		cr_assert(TCB(s)->mss == cases[i].want, "peer MSS %u%s: send MSS %u, expected %u",
			  cases[i].mss, cases[i].ts ? " with timestamps" : "", TCB(s)->mss, cases[i].want);
		H.fail_skip = 200;       /* should the queue still fill with empty buffers: stop it */
		H.fail_allocs = 1000000;
		h_pattern(data, 1000, 0);
		HEQ(tcp_send(CTX, s, data, 1000), 1000);
		H.fail_skip = H.fail_allocs = 0;
		while (h_pending()) {
			h_peer_next(&p, &o);
			HEQ(o.seq, p.iss + 1 + got);
			cr_assert(o.len > 0 && o.len <= cases[i].want, "segment of %u bytes", o.len);
			got += o.len;
		}
		HTRUE(got > 0);
		h_check_clean();
	}
}

HSUITE(tcp_sec_metrics);

/*
 * Per-stream security metrics: a tiny announced MSS is counted at the
 * handshake, a zero window held TCP_ANOMALY_ZWND_MS with data waiting once
 * per episode (at a persist probe), and the stream's birth and zero-window
 * start are kept in the TCB for porterctl streams.
 */
HTEST(tcp_sec_metrics, tiny_mss_and_long_zero_window_counted)
{
	uint64_t an[8] = { 0 };
	struct h_synopt so = H_OPT_MSS;
	struct h_peer p;
	struct h_out o;
	uint32_t s, born;
	static const uint8_t data[300];

	CTX->anomalies = an;
	so.mss_val = 100;
	h_peer_init(&p, H_TEST_PORT, 40100, 7000);
	born = h_now();
	s = h_open_passive(&p, &so);
	HEQ(an[TAN_TINY_MSS], 1);
	HEQ(TCB(s)->born_ms, born);
	HEQ(TCB(s)->zwnd_since_ms, 0);
	/* the peer closes its window with data waiting: persist */
	p.wnd = 0;
	h_peer_ack(&p, p.rcv_nxt);
	HTRUE(TCB(s)->zwnd_since_ms != 0);
	HEQ(tcp_send(CTX, s, data, sizeof(data)), sizeof(data));
	h_drain();
	h_advance(TCP_ANOMALY_ZWND_MS - 1000);
	HEQ(an[TAN_ZERO_WINDOW_LONG], 0);
	h_advance(30000);   /* persist probes past 10 s: counted once for the episode */
	HEQ(an[TAN_ZERO_WINDOW_LONG], 1);
	HTRUE(TCB(s)->flags & TF(ZWND_LONG));
	h_drain();
	/* the window opens: the episode ends */
	p.wnd = 65535;
	h_peer_ack(&p, p.rcv_nxt);
	HEQ(TCB(s)->zwnd_since_ms, 0);
	HTRUE(!(TCB(s)->flags & TF(ZWND_LONG)));
	while (h_pop(&o))
		;
	HEQ(an[TAN_RETRANSMITS], 0);
	CTX->anomalies = NULL;
}
