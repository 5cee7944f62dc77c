/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp: the RFC 9293 §3.3.2 state machine, RST acceptability and
 * challenge ACKs (RFC 5961), and segments for no connection (§3.10.7.1).
 * Driven through tcp_input() with frames from the harness (tcp_harness.h);
 * every test ends with the harness's leak and wheel checks.
 */
#include "tests/unit/tcp_harness.h"

#include <errno.h>
#include <string.h>

HSUITE(tcp_states);
HSUITE(tcp_rst);
HSUITE(tcp_nolisten);

/* ==== RFC 9293 §3.3.2 transitions ========================================== */

/* LISTEN -> SYN-RECEIVED -> ESTABLISHED, step by step. */
HTEST(tcp_states, passive_open)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 0x12345678);
	p.so = H_OPT_MSS;
	h_peer_send(&p, TH_SYN, p.isn, 0, NULL, 0);
	s = h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, H_PEER_PORT);
	cr_assert(s != TCP_NIL);
	HEQ(TCB(s)->state, TCP_SYN_RECEIVED);
	HEQ(AREA->live, 1);
	HEQ(AREA->half_open, 1);
	HEQ(AREA->events[TEV_PASSIVE_OPENS], 1);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	HEQ(o.ack, 0x12345679);
	HEQ(o.seq, TCB(s)->iss);
	HEQ(h_events(s), 0);   /* nothing for the app before ESTABLISHED */

	p.snd_nxt = p.isn + 1;
	h_peer_ack(&p, o.seq + 1);
	h_none();
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(AREA->half_open, 0);
	HEQ(AREA->events[TEV_ESTABLISHED], 1);
	HEQ(TCB(s)->snd_una, o.seq + 1);
	HEQ(TCB(s)->rcv_nxt, 0x12345679);
	HEQ(TCB(s)->snd_wnd, 65535);
	HEQ(h_events(s), TEV_APP_CONNECTED);
}

/* A SYN-RECEIVED stream's ACK must acknowledge our SYN: else RST <SEQ=SEG.ACK>. */
HTEST(tcp_states, syn_received_bad_ack)
{
	struct h_peer p;
	struct h_out o;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 5000);
	h_passive_syn(&p, &H_OPT_MSS);
	h_peer_ack(&p, p.iss + 7);
	h_next(&o);
	HEQ(o.flags, TH_RST);
	HEQ(o.seq, p.iss + 7);
	HEQ(TCB(p.s)->state, TCP_SYN_RECEIVED);
}

/* SYN-SENT -> ESTABLISHED (active open). */
HTEST(tcp_states, active_open)
{
	struct h_peer p;
	uint32_t s;

	h_peer_init(&p, 0, 8080, 0x40000000);
	p.wnd = 30000;
	s = h_open_active(&p, &H_OPT_MSS);
	HEQ(AREA->events[TEV_ACTIVE_OPENS], 1);
	HTRUE(p.lport >= PRM->ephemeral_lo && p.lport <= PRM->ephemeral_hi);
	HEQ(TCB(s)->snd_una, p.iss + 1);
	HEQ(TCB(s)->snd_wnd, 30000);
	HEQ(TCB(s)->rcv_nxt, 0x40000001);
	HEQ(TCB(s)->mss, 1460);
	HEQ(h_events(s), TEV_APP_CONNECTED);
}

/*
 * Simultaneous open (RFC 9293 §3.5 Figure 8): SYN-SENT gets a SYN ->
 * SYN-RECEIVED and our SYN,ACK; the peer's SYN,ACK (line 6) -> ESTABLISHED.
 */
HTEST(tcp_states, simultaneous_open)
{
	struct h_peer p;
	struct h_out o;
	int err;
	uint32_t s = tcp_connect(CTX, H_PEER_IP, 9000, TAPP_TEST, &err);

	cr_assert(s != TCP_NIL);
	h_peer_init(&p, TCB(s)->lport, 9000, 300);
	p.s = s;
	p.so = H_OPT_MSS;
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_SYN);
	p.iss = o.seq;
	/* line 3: the peer's SYN crosses ours */
	h_peer_send(&p, TH_SYN, 300, 0, NULL, 0);
	p.snd_nxt = 301;
	HEQ(TCB(s)->state, TCP_SYN_RECEIVED);
	/* line 5: SYN,ACK with our ISS */
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	HEQ(o.seq, p.iss);
	HEQ(o.ack, 301);
	HEQ(h_events(s), 0);
	/* line 6: the peer's SYN,ACK acknowledges our SYN */
	h_peer_send(&p, TH_SYN | TH_ACK, 300, p.iss + 1, NULL, 0);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(TCB(s)->snd_una, p.iss + 1);
	HEQ(TCB(s)->rcv_nxt, 301);
	HEQ(h_events(s), TEV_APP_CONNECTED);
	/* an ACK may follow (the SYN was a duplicate), nothing else */
	if (h_pending()) {
		h_peer_next(&p, &o);
		HEQ(o.flags, TH_ACK);
		HEQ(o.seq, p.iss + 1);
		HEQ(o.ack, 301);
	}
	h_none();
	/* and it carries data */
	HEQ(tcp_send(CTX, s, "hi", 2), 2);
	h_peer_next(&p, &o);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.len, 2);
}

/* Simultaneous open where the peer's SYN,ACK was lost: its ACK alone establishes. */
HTEST(tcp_states, simultaneous_open_plain_ack)
{
	struct h_peer p;
	struct h_out o;
	int err;
	uint32_t s = tcp_connect(CTX, H_PEER_IP, 9000, TAPP_TEST, &err);

	h_peer_init(&p, TCB(s)->lport, 9000, 0xfffffff0);
	p.so = H_OPT_MSS;
	h_peer_next(&p, &o);
	p.iss = o.seq;
	h_peer_send(&p, TH_SYN, p.isn, 0, NULL, 0);
	p.snd_nxt = p.isn + 1;
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	h_peer_ack(&p, p.iss + 1);
	h_none();
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(h_events(s), TEV_APP_CONNECTED);
}

/* ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED (2MSL timer). */
/* A half-closed app (a tunnel) that has not read yet keeps the bytes the peer
 * sent before its FIN: TIME-WAIT keeps them readable until the app lets go. */
HTEST(tcp_states, time_wait_keeps_unread_data)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;
	char buf[8];

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1000);
	s = h_open_passive(&p, &H_OPT_ALL);
	HEQ(tcp_shutdown(CTX, s), 0);
	h_peer_next(&p, &o);
	h_peer_ack(&p, p.iss + 2);
	HEQ(TCB(s)->state, TCP_FIN_WAIT_2);
	h_clear_events();
	h_peer_data(&p, "tail", 4);
	h_peer_fin(&p);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	HTRUE(h_events(s) & TEV_APP_PEER_FIN);
	HTRUE(!(h_events(s) & TEV_APP_CLOSED));
	HEQ(tcp_recv_avail(CTX, s), 4);
	HEQ(tcp_read_pos(CTX, s), 0);
	HEQ(tcp_recv(CTX, s, buf, sizeof(buf)), 4);
	HEQ(memcmp(buf, "tail", 4), 0);
	HEQ(tcp_read_pos(CTX, s), 4);
	tcp_close(CTX, s);
	HEQ(TCB(s)->app, TAPP_NONE);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
}

HTEST(tcp_states, active_close)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s, t0;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1000);
	s = h_open_passive(&p, &H_OPT_ALL);
	h_clear_events();
	HEQ(tcp_shutdown(CTX, s), 0);
	HEQ(TCB(s)->state, TCP_FIN_WAIT_1);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.ack, 1001);
	h_none();
	HEQ(tcp_send(CTX, s, "x", 1), -EPIPE);

	h_peer_ack(&p, p.iss + 2);
	h_none();
	HEQ(TCB(s)->state, TCP_FIN_WAIT_2);
	HEQ(TCB(s)->snd_una, p.iss + 2);

	/* data in FIN-WAIT-2 is still delivered */
	h_peer_data(&p, "tail", 4);
	HEQ(tcp_recv_avail(CTX, s), 4);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, 1005);
	{
		char buf[8];

		HEQ(tcp_recv(CTX, s, buf, sizeof(buf)), 4);
	}

	h_peer_fin(&p);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p.iss + 2);
	HEQ(o.ack, 1006);
	HTRUE(h_events(s) & TEV_APP_PEER_FIN);
	HTRUE(h_events(s) & TEV_APP_CLOSED);
	HEQ(AREA->live, 1);

	/* a retransmitted FIN is ACKed again */
	h_peer_send(&p, TH_FIN | TH_ACK, 1005, p.iss + 2, NULL, 0);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, 1006);

	t0 = h_now();
	h_advance(PRM->time_wait_ms - 1);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	h_advance(TCP_TICK_MS);
	HEQ(TCB(s)->state, TCP_CLOSED);
	HEQ(AREA->live, 0);
	h_none();
	(void)t0;
}

/* ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED. */
HTEST(tcp_states, passive_close)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 77);
	s = h_open_passive(&p, &H_OPT_MSS);
	h_clear_events();
	h_peer_fin(&p);
	HEQ(TCB(s)->state, TCP_CLOSE_WAIT);
	HEQ(h_events(s), TEV_APP_PEER_FIN);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.ack, 79);
	/* we may still send */
	HEQ(tcp_send(CTX, s, "bye", 3), 3);
	h_peer_next(&p, &o);
	HEQ(o.len, 3);
	HEQ(o.seq, p.iss + 1);
	p.rcv_nxt = p.iss + 4;
	h_peer_ack(&p, p.rcv_nxt);
	HEQ(tcp_shutdown(CTX, s), 0);
	HEQ(TCB(s)->state, TCP_LAST_ACK);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	HEQ(o.seq, p.iss + 4);
	HEQ(o.ack, 79);
	h_clear_events();
	h_peer_ack(&p, p.iss + 5);
	HEQ(TCB(s)->state, TCP_CLOSED);
	HEQ(h_events(s), TEV_APP_CLOSED);
	HEQ(AREA->live, 0);
	h_none();
}

/* Simultaneous close: FIN-WAIT-1 -> CLOSING -> TIME-WAIT (RFC 9293 Figure 13). */
HTEST(tcp_states, simultaneous_close)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 9999);
	s = h_open_passive(&p, &H_OPT_ALL);
	tcp_shutdown(CTX, s);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	HEQ(o.seq, p.iss + 1);
	/* the peer's FIN crosses ours: it does not acknowledge our FIN */
	h_peer_send(&p, TH_FIN | TH_ACK, 10000, p.iss + 1, NULL, 0);
	p.snd_nxt = 10001;
	HEQ(TCB(s)->state, TCP_CLOSING);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p.iss + 2);
	HEQ(o.ack, 10001);
	h_peer_ack(&p, p.iss + 2);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	HTRUE(h_events(s) & TEV_APP_CLOSED);
	h_none();
	h_advance(PRM->time_wait_ms + TCP_TICK_MS);
	HEQ(AREA->live, 0);
}

/* FIN-WAIT-1 receiving FIN,ACK that acknowledges our FIN -> TIME-WAIT directly. */
HTEST(tcp_states, fin_wait_1_fin_ack)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 0x7ffffff0);
	s = h_open_passive(&p, &H_OPT_MSS);
	tcp_shutdown(CTX, s);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	h_peer_send(&p, TH_FIN | TH_ACK, 0x7ffffff1, p.iss + 2, NULL, 0);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p.iss + 2);
	HEQ(o.ack, 0x7ffffff2);
	HTRUE(h_events(s) & TEV_APP_CLOSED);
}

/* CLOSE in SYN-SENT deletes the TCB (RFC 9293 §3.10.4); a late SYN,ACK then gets a RST. */
HTEST(tcp_states, syn_sent_close)
{
	struct h_out o;
	int err;
	uint32_t s = tcp_connect(CTX, H_PEER_IP, 443, TAPP_TEST, &err);
	uint32_t iss = TCB(s)->iss;
	uint16_t lport = TCB(s)->lport;
	struct h_spec sp = {
		.saddr = H_PEER_IP, .daddr = H_LOCAL_IP, .sport = 443, .dport = lport,
		.seq = 555, .ack = iss + 1, .flags = TH_SYN | TH_ACK, .wnd = 1000,
	};

	h_next(&o);
	HEQ(o.flags, TH_SYN);
	tcp_close(CTX, s);
	HEQ(TCB(s)->state, TCP_CLOSED);
	HEQ(AREA->live, 0);
	h_none();
	h_advance(5000);
	h_none();   /* no SYN retransmission from a dead TCB */
	h_inject(&sp);
	h_next(&o);
	HEQ(o.flags, TH_RST);
	HEQ(o.seq, iss + 1);
}

/* RST in SYN-RECEIVED (passive) returns to LISTEN: TCB freed, the listener still answers. */
HTEST(tcp_states, syn_received_rst)
{
	struct h_peer p;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 4242);
	h_passive_syn(&p, &H_OPT_ALL);
	s = p.s;
	HEQ(AREA->live, 1);
	h_peer_send(&p, TH_RST, 4243, 0, NULL, 0);
	HEQ(TCB(s)->state, TCP_CLOSED);
	HEQ(AREA->live, 0);
	HEQ(AREA->half_open, 0);
	HEQ(h_events(s), 0);
	h_none();
	h_advance(3000);
	h_none();   /* no SYN,ACK retransmission */
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 9000);
	h_open_passive(&p, &H_OPT_ALL);
}

/* A retransmitted SYN in SYN-RECEIVED: our SYN,ACK was lost, send it again. */
HTEST(tcp_states, syn_received_dup_syn)
{
	struct h_peer p;
	struct h_out o;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 31337);
	h_passive_syn(&p, &H_OPT_MSS);
	h_advance(100);
	h_peer_send(&p, TH_SYN, 31337, 0, NULL, 0);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	HEQ(o.seq, p.iss);
	HEQ(o.ack, 31338);
	HTRUE(o.opt.has_mss);
	HEQ(TCB(p.s)->state, TCP_SYN_RECEIVED);
	h_peer_ack(&p, p.iss + 1);
	HEQ(TCB(p.s)->state, TCP_ESTABLISHED);
}

/* SYN,ACK retransmission with backoff, then the half-open TCB is dropped after syn_retries. */
HTEST(tcp_states, syn_ack_retransmit)
{
	struct h_peer p;
	struct h_out o;

	PRM->syn_retries = 2;
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 100);
	h_passive_syn(&p, &H_OPT_MSS);
	h_advance(999);
	h_none();
	h_advance(TCP_TICK_MS);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	HEQ(o.seq, p.iss);
	h_advance(1999);
	h_none();
	h_advance(TCP_TICK_MS);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	h_advance(4000 + TCP_TICK_MS);
	h_none();
	HEQ(AREA->live, 0);
	HEQ(AREA->half_open, 0);
}

/* ==== RFC 5961 ============================================================= */

static uint32_t established(struct h_peer *p, const struct h_synopt *so)
{
	uint32_t s;

	h_peer_init(p, H_TEST_PORT, H_PEER_PORT, 0x10000);
	s = h_open_passive(p, so);
	h_clear_events();
	return s;
}

/* §3.2: RST with SEG.SEQ == RCV.NXT resets. */
HTEST(tcp_rst, exact)
{
	struct h_peer p;
	uint32_t s = established(&p, &H_OPT_ALL);

	h_peer_send(&p, TH_RST, p.snd_nxt, 0, NULL, 0);
	HEQ(TCB(s)->state, TCP_CLOSED);
	HEQ(h_events(s), TEV_APP_RESET);
	HEQ(AREA->events[TEV_RESETS_RCVD], 1);
	HEQ(AREA->live, 0);
	h_none();
}

/* §3.2: in the window but not exact -> challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>, stream lives. */
HTEST(tcp_rst, in_window_challenge)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = established(&p, &H_OPT_ALL);

	h_peer_send(&p, TH_RST | TH_ACK, p.snd_nxt + 1, p.rcv_nxt, NULL, 0);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(h_events(s), 0);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.ack, p.snd_nxt);
	HEQ(AREA->drops[TDROP_RST_IN_WINDOW], 1);
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], 1);
	h_none();
	/* the peer answers the challenge with the exact RST */
	h_peer_send(&p, TH_RST, o.ack, 0, NULL, 0);
	HEQ(h_events(s), TEV_APP_RESET);
}

/* §3.2: outside the window -> dropped silently. */
HTEST(tcp_rst, out_of_window)
{
	struct h_peer p;
	uint32_t s = established(&p, &H_OPT_ALL);

	h_peer_send(&p, TH_RST, p.snd_nxt - 1, 0, NULL, 0);
	h_peer_send(&p, TH_RST, p.snd_nxt + 0x10000000, 0, NULL, 0);
	h_peer_send(&p, TH_RST | TH_ACK, p.snd_nxt + 70000 * 8, p.rcv_nxt, NULL, 0);
	h_none();
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(h_events(s), 0);
	HEQ(AREA->drops[TDROP_OUT_OF_WINDOW], 3);
}

/* RFC 9293 §3.10.7.3 / RFC 5961 §3.2: RST in SYN-SENT only with an acceptable ACK. */
HTEST(tcp_rst, syn_sent)
{
	struct h_peer p;
	struct h_out o;
	int err;
	uint32_t s = tcp_connect(CTX, H_PEER_IP, 25, TAPP_TEST, &err);

	h_peer_init(&p, TCB(s)->lport, 25, 0);
	h_peer_next(&p, &o);
	p.iss = o.seq;
	/* no ACK: dropped */
	h_peer_send(&p, TH_RST, 0, 0, NULL, 0);
	HEQ(TCB(s)->state, TCP_SYN_SENT);
	/* unacceptable ACK (= ISS, or past SND.NXT): dropped, never answered */
	h_peer_send(&p, TH_RST | TH_ACK, 0, p.iss, NULL, 0);
	h_peer_send(&p, TH_RST | TH_ACK, 0, p.iss + 2, NULL, 0);
	HEQ(TCB(s)->state, TCP_SYN_SENT);
	h_none();
	HEQ(h_events(s), 0);
	/* an ACK that is not acceptable without RST gets <SEQ=SEG.ACK><CTL=RST> */
	h_peer_send(&p, TH_ACK, 0, p.iss + 2, NULL, 0);
	h_next(&o);
	HEQ(o.flags, TH_RST);
	HEQ(o.seq, p.iss + 2);
	HEQ(TCB(s)->state, TCP_SYN_SENT);
	/* acceptable ACK: connection refused */
	h_peer_send(&p, TH_RST | TH_ACK, 0, p.iss + 1, NULL, 0);
	HEQ(TCB(s)->state, TCP_CLOSED);
	HEQ(h_events(s), TEV_APP_RESET);
	h_none();
}

/* §4.2: SYN in a synchronized state -> challenge ACK, whatever its sequence number. */
HTEST(tcp_rst, syn_in_established)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = established(&p, &H_OPT_ALL);

	h_peer_send(&p, TH_SYN, p.snd_nxt + 100, 0, NULL, 0);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.ack, p.snd_nxt);
	HEQ(AREA->drops[TDROP_SYN_IN_STATE], 1);
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], 1);
	h_none();
	/* a SYN far outside the window is answered by an ACK too */
	h_peer_send(&p, TH_SYN, p.snd_nxt + 0x40000000, 0, NULL, 0);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.ack, p.snd_nxt);
	h_none();
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(h_events(s), 0);
	/* still works */
	h_peer_data(&p, "abc", 3);
	HEQ(tcp_recv_avail(CTX, s), 3);
}

/* §7: at most challenge_ack_limit challenge ACKs per second (per stream: test_tcp_sec.c, tcp_challenge_limit). */
HTEST(tcp_rst, challenge_rate_limit)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = established(&p, &H_OPT_ALL);

	PRM->challenge_ack_limit = 2;
	for (int i = 0; i < 3; i++)
		h_peer_send(&p, TH_RST, p.snd_nxt + 10 + (uint32_t)i, 0, NULL, 0);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, p.snd_nxt);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	h_none();
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], 2);
	HEQ(AREA->drops[TDROP_CHALLENGE_LIMIT], 1);
	HEQ(AREA->drops[TDROP_RST_IN_WINDOW], 3);
	/* a SYN counts against the same limit */
	h_peer_send(&p, TH_SYN, p.snd_nxt + 10, 0, NULL, 0);
	h_none();
	HEQ(AREA->drops[TDROP_CHALLENGE_LIMIT], 2);
	/* the next second has a fresh budget */
	h_advance(1000);
	h_peer_send(&p, TH_RST, p.snd_nxt + 10, 0, NULL, 0);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(AREA->events[TEV_CHALLENGE_ACKS], 3);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
}

/* §5.2: an ACK of data never sent -> challenge ACK and drop (the data too). */
HTEST(tcp_rst, ack_of_unsent)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = established(&p, &H_OPT_ALL);

	h_peer_send(&p, TH_ACK, p.snd_nxt, p.iss + 1000, "zz", 2);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.ack, p.snd_nxt);
	HEQ(tcp_recv_avail(CTX, s), 0);
	HEQ(TCB(s)->snd_una, p.iss + 1);
	HEQ(AREA->drops[TDROP_BAD_ACK], 1);
}

/* ==== RFC 9293 §3.10.7.1: no connection, no listener ========================= */

static void to_closed_port(uint8_t flags, uint32_t seq, uint32_t ack, const void *data, uint32_t len)
{
	struct h_spec sp = {
		.saddr = H_PEER_IP, .daddr = H_LOCAL_IP, .sport = 5555, .dport = H_CLOSED_PORT,
		.seq = seq, .ack = ack, .flags = flags, .wnd = 8192, .payload = data, .len = len,
	};

	h_inject(&sp);
}

static void expect_rst(struct h_out *o, uint8_t flags, uint32_t seq, uint32_t ack)
{
	h_next(o);
	HEQ(o->saddr, H_LOCAL_IP);
	HEQ(o->daddr, H_PEER_IP);
	HEQ(o->sport, H_CLOSED_PORT);
	HEQ(o->dport, 5555);
	HEQ(o->flags, flags);
	HEQ(o->seq, seq);
	HEQ(o->ack, ack);
	HEQ(o->len, 0);
	HEQ(o->optlen, 0);
}

/* No ACK in the segment: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
HTEST(tcp_nolisten, no_ack_form)
{
	struct h_out o;

	to_closed_port(TH_SYN, 0xfffffffe, 0, NULL, 0);
	expect_rst(&o, TH_RST | TH_ACK, 0, 0xffffffff);
	to_closed_port(TH_SYN, 1000, 0, "0123456789", 10);
	expect_rst(&o, TH_RST | TH_ACK, 0, 1011);
	to_closed_port(TH_FIN, 2000, 0, "abc", 3);
	expect_rst(&o, TH_RST | TH_ACK, 0, 2004);
	to_closed_port(0, 3000, 0, NULL, 0);
	expect_rst(&o, TH_RST | TH_ACK, 0, 3000);
	HEQ(AREA->drops[TDROP_NO_LISTENER], 4);
	HEQ(AREA->events[TEV_RESETS_SENT], 4);
	HEQ(AREA->live, 0);
}

/* ACK in the segment: <SEQ=SEG.ACK><CTL=RST>. */
HTEST(tcp_nolisten, ack_form)
{
	struct h_out o;

	to_closed_port(TH_ACK, 1000, 0xabcdef01, NULL, 0);
	expect_rst(&o, TH_RST, 0xabcdef01, 0);
	to_closed_port(TH_ACK | TH_PSH, 1000, 77, "data", 4);
	expect_rst(&o, TH_RST, 77, 0);
	to_closed_port(TH_SYN | TH_ACK, 1000, 5, NULL, 0);
	expect_rst(&o, TH_RST, 5, 0);
	HEQ(AREA->live, 0);
}

/* Never answer a RST. */
HTEST(tcp_nolisten, never_rst_a_rst)
{
	struct h_spec sp = {
		.saddr = H_PEER_IP, .daddr = H_LOCAL_IP, .sport = 5555, .dport = H_TEST_PORT,
		.seq = 1, .ack = 2, .flags = TH_RST | TH_ACK, .wnd = 0,
	};

	to_closed_port(TH_RST, 1000, 0, NULL, 0);
	to_closed_port(TH_RST | TH_ACK, 1000, 99, NULL, 0);
	h_inject(&sp);   /* to a listening port, no connection */
	h_none();
	HEQ(AREA->drops[TDROP_RST_NO_TCB], 3);
	HEQ(AREA->events[TEV_RESETS_SENT], 0);
	HEQ(AREA->live, 0);
}

/* The stateless first pass gives the same answers, in place. */
HTEST(tcp_nolisten, stateless_pass)
{
	struct h_out o;
	struct h_spec sp = {
		.saddr = H_PEER_IP, .daddr = H_LOCAL_IP, .sport = 5555, .dport = H_CLOSED_PORT,
		.seq = 1234, .flags = TH_SYN, .wnd = 100, .payload = "xy", .len = 2,
	};
	struct rte_mbuf *m = h_build(&sp);

	HEQ(tcp_input_stateless(CTX, m), TCP_SL_SEND);
	tcp_env_xmit(CTX, m);
	expect_rst(&o, TH_RST | TH_ACK, 0, 1237);

	sp.flags = TH_RST;
	m = h_build(&sp);
	HEQ(tcp_input_stateless(CTX, m), TCP_SL_FREE);
	tcp_env_free(CTX, m);

	sp.flags = TH_SYN;
	sp.dport = H_TEST_PORT;
	m = h_build(&sp);
	HEQ(tcp_input_stateless(CTX, m), TCP_SL_STATEFUL);
	tcp_env_free(CTX, m);

	sp.dport = H_CLOSED_PORT;
	sp.bad_tcp_csum = true;
	m = h_build(&sp);
	HEQ(tcp_input_stateless(CTX, m), TCP_SL_FREE);
	tcp_env_free(CTX, m);
	HEQ(AREA->drops[TDROP_CSUM], 1);
	h_none();
}

/* ==== closing details ======================================================= */

HSUITE(tcp_close);

/* A lost FIN is retransmitted at the RTO with the same sequence number. */
HTEST(tcp_close, fin_retransmit)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1000);
	s = h_open_passive(&p, &H_OPT_MSS);
	tcp_shutdown(CTX, s);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	HEQ(o.seq, p.iss + 1);
	h_advance(999);
	h_none();
	h_advance(TCP_TICK_MS);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.len, 0);
	h_none();
	h_peer_ack(&p, p.iss + 2);
	HEQ(TCB(s)->state, TCP_FIN_WAIT_2);
	h_advance(10000);
	h_none();
}

/* Data and FIN both lost: the RTO resends the data, then the FIN. */
HTEST(tcp_close, data_fin_retransmit)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1000);
	s = h_open_passive(&p, &H_OPT_MSS);
	tcp_send(CTX, s, "0123456789", 10);
	tcp_shutdown(CTX, s);
	h_peer_next(&p, &o);
	HEQ(o.len, 10);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	HEQ(o.seq, p.iss + 11);
	h_advance(1000 + TCP_TICK_MS);
	h_peer_next(&p, &o);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.len, 10);
	HTRUE(!(o.flags & TH_FIN) || o.len == 10);
	if (!(o.flags & TH_FIN)) {
		h_peer_next(&p, &o);
		HEQ(o.flags, TH_FIN | TH_ACK);
		HEQ(o.seq, p.iss + 11);
	}
	h_none();
	/* only the data arrived: the FIN alone is resent */
	h_peer_ack(&p, p.iss + 11);
	h_none();
	h_advance(2000 + TCP_TICK_MS);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	HEQ(o.seq, p.iss + 11);
	h_peer_ack(&p, p.iss + 12);
	HEQ(TCB(s)->state, TCP_FIN_WAIT_2);
}

/* An orphaned FIN-WAIT-2 (the app closed) times out after fin_wait2_ms. */
HTEST(tcp_close, orphan_fin_wait_2)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	PRM->fin_wait2_ms = 5000;
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1000);
	s = h_open_passive(&p, &H_OPT_MSS);
	tcp_close(CTX, s);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	h_peer_ack(&p, p.iss + 2);
	HEQ(TCB(s)->state, TCP_FIN_WAIT_2);
	h_advance(4999);
	HEQ(TCB(s)->state, TCP_FIN_WAIT_2);
	h_advance(TCP_TICK_MS);
	HEQ(TCB(s)->state, TCP_CLOSED);
	HEQ(AREA->live, 0);
	h_none();
}

/* Data for a closed (orphaned) stream: RST (RFC 9293 §3.10.4, RFC 1122 §4.2.2.13). */
HTEST(tcp_close, data_after_close)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1000);
	s = h_open_passive(&p, &H_OPT_MSS);
	tcp_close(CTX, s);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	p.rcv_nxt = p.iss + 2;
	h_peer_data(&p, "late", 4);
	h_peer_next(&p, &o);
	HEQ(o.flags & TH_RST, TH_RST);
	HEQ(o.seq, p.iss + 2);
	HEQ(TCB(s)->state, TCP_CLOSED);
	HEQ(AREA->live, 0);
	HEQ(h_events(s), TEV_APP_CONNECTED);   /* nothing after close */
}

/* Close with unread data: RST instead of FIN. */
HTEST(tcp_close, close_unread)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1000);
	s = h_open_passive(&p, &H_OPT_MSS);
	h_peer_data(&p, "unread", 6);
	h_peer_next(&p, &o);
	tcp_close(CTX, s);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_RST | TH_ACK);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.ack, 1007);
	HEQ(AREA->live, 0);
}

/* Abort: RST <SEQ=SND.NXT>, stream gone, no event. */
HTEST(tcp_close, abort)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1000);
	s = h_open_passive(&p, &H_OPT_MSS);
	tcp_send(CTX, s, "abc", 3);
	h_peer_next(&p, &o);
	h_clear_events();
	tcp_abort(CTX, s);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_RST | TH_ACK);
	HEQ(o.seq, p.iss + 4);
	HEQ(AREA->live, 0);
	HEQ(h_events(s), 0);
	HEQ(AREA->events[TEV_RESETS_SENT], 1);
}

/* The slab full and cookies off: the SYN is dropped and counted. */
HTEST(tcp_close, slab_full)
{
	struct h_peer p;

	PRM->syncookies = 0;
	for (uint32_t i = 0; i < H_MAX_STREAMS; i++) {
		h_peer_init(&p, H_TEST_PORT, (uint16_t)(1000 + i), i);
		p.so = H_OPT_MSS;
		h_peer_send(&p, TH_SYN, i, 0, NULL, 0);
	}
	h_drain();
	HEQ(AREA->live, H_MAX_STREAMS);
	h_peer_init(&p, H_TEST_PORT, 999, 5);
	p.so = H_OPT_MSS;
	h_peer_send(&p, TH_SYN, 5, 0, NULL, 0);
	h_none();
	HEQ(AREA->drops[TDROP_SLAB_FULL], 1);
	/* cookies on: answered without a TCB */
	PRM->syncookies = 1;
	h_peer_send(&p, TH_SYN, 5, 0, NULL, 0);
	h_passive_syn(&p, &H_OPT_MSS);
	HEQ(AREA->events[TEV_COOKIES_SENT], 2);
	h_drain();
}

/* ==== a new worker on the same area (tcp_rebuild) ============================ */

HSUITE(tcp_restart);

/*
 * Streams survive their worker: with the lookup chains, free list and wheel
 * scribbled over (a worker killed mid-update), a new attach rebuilds them
 * from the TCBs; data, retransmission timers and TIME-WAIT carry on.
 */
HTEST(tcp_restart, rebuild)
{
	struct h_peer a, b, c;
	struct h_out o;
	uint32_t sa, sb, sc, t_send;

	PRM->time_wait_ms = 10000;
	h_peer_init(&a, H_TEST_PORT, 1001, 100);
	sa = h_open_passive(&a, &H_OPT_MSS);
	h_peer_init(&b, H_TEST_PORT, 1002, 200);
	sb = h_open_passive(&b, &H_OPT_MSS);
	h_peer_init(&c, H_TEST_PORT, 1003, 300);
	h_passive_syn(&c, &H_OPT_MSS);      /* half-open */
	sc = c.s;
	/* a: data in flight, RTO armed */
	h_advance(101);
	t_send = h_now();
	tcp_send(CTX, sa, "inflight", 8);
	h_peer_next(&a, &o);
	/* b: TIME-WAIT */
	tcp_shutdown(CTX, sb);
	h_peer_next(&b, &o);
	h_peer_send(&b, TH_FIN | TH_ACK, b.snd_nxt, b.iss + 2, NULL, 0);
	b.snd_nxt++;
	h_peer_next(&b, &o);
	HEQ(TCB(sb)->state, TCP_TIME_WAIT);
	h_none();

	/* the dead worker left the derived structures in a mess */
	memset(CTX->lookup, 0, AREA->lookup_size * sizeof(uint32_t));
	memset(CTX->wheel, 0, TCP_WHEEL_SLOTS * sizeof(uint32_t));
	AREA->free_head = 1;
	AREA->live = 77;
	AREA->half_open = 0;
	h_reattach();
	HEQ(AREA->live, 3);
	HEQ(AREA->half_open, 1);
	HEQ(h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, 1001), sa);
	HEQ(h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, 1002), sb);
	HEQ(h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, 1003), sc);

	/* c: the SYN,ACK is retransmitted on time */
	h_advance(H_T0_MS + 1000 - 1 - h_now());
	h_none();
	h_advance(TCP_TICK_MS);
	h_peer_next(&c, &o);
	HEQ(o.flags, TH_SYN | TH_ACK);
	HEQ(o.seq, c.iss);
	/* a: the RTO still fires at its deadline, and data still flows */
	h_advance(t_send + 1000 - 1 - h_now());
	h_none();
	h_advance(TCP_TICK_MS);
	h_peer_next(&a, &o);
	HEQ(o.seq, a.iss + 1);
	HEQ(o.len, 8);
	h_peer_ack(&a, a.iss + 9);
	h_peer_data(&a, "more", 4);
	HEQ(tcp_recv_avail(CTX, sa), 4);
	h_drain();
	/* c: the handshake completes */
	h_peer_ack(&c, c.rcv_nxt);
	HEQ(TCB(sc)->state, TCP_ESTABLISHED);
	HEQ(AREA->half_open, 0);
	/* new streams take free TCBs, not live ones */
	{
		struct h_peer d;
		uint32_t sd;

		h_peer_init(&d, H_TEST_PORT, 1004, 400);
		sd = h_open_passive(&d, &H_OPT_MSS);
		HTRUE(sd != sa && sd != sb && sd != sc);
	}
	/* b: TIME-WAIT ends on time */
	h_advance(10000);
	h_drain();
	HEQ(TCB(sb)->state, TCP_CLOSED);
	HEQ(AREA->live, 3);
}

/*
 * The high-water mark: TCBs are handed out in index order, freed ones first;
 * a recovery after a grant that kept the mark looks only below it (what lies
 * above is not even read), after any other grant at the whole slab, and
 * either way moves the mark down to just above the highest live TCB.
 */
HTEST(tcp_restart, high_water_mark)
{
	struct h_peer p[6];
	uint32_t s[6];

	HEQ(AREA->hwm, 0);
	for (unsigned int i = 0; i < 4; i++) {
		h_peer_init(&p[i], H_TEST_PORT, (uint16_t)(1101 + i), 100 * (i + 1));
		s[i] = h_open_passive(&p[i], &H_OPT_MSS);
		HEQ(s[i], i);
	}
	HEQ(AREA->hwm, 4);
	tcp_abort(CTX, s[1]);
	h_drain();
	h_peer_init(&p[4], H_TEST_PORT, 1105, 500);
	s[4] = h_open_passive(&p[4], &H_OPT_MSS);
	HEQ(s[4], 1);                     /* a freed TCB before a new one */
	HEQ(AREA->hwm, 4);
	h_peer_init(&p[5], H_TEST_PORT, 1106, 600);
	s[5] = h_open_passive(&p[5], &H_OPT_MSS);
	HEQ(s[5], 4);
	HEQ(AREA->hwm, 5);
	tcp_abort(CTX, s[3]);
	tcp_abort(CTX, s[5]);
	h_drain();
	HEQ(AREA->live, 3);               /* 0, 1, 2 */

	/* something a worker that did not keep the mark could have left above it */
	memcpy(TCB(10), TCB(s[0]), sizeof(struct tcp_tcb));
	TCB(10)->rport = 1199;
	/* grant 7 after grant 6 kept the mark: only TCBs 0..4 are looked at */
	AREA->hwm_grant = 6;
	h_reattach_grant(7);
	HEQ(AREA->hwm_grant, 7);
	HEQ(AREA->live, 3);
	HEQ(AREA->hwm, 3);                /* 3 and 4 were CLOSED: above the mark now */
	HEQ(h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, 1101), s[0]);
	HEQ(h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, 1105), s[4]);
	HEQ(h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, 1199), TCP_NIL);
	HEQ(AREA->free_head, TCP_NIL);
	/* grant 9: grant 8 (a worker of layout minor 0, say) did not keep it: the whole slab */
	h_reattach_grant(9);
	HEQ(AREA->live, 4);
	HEQ(AREA->hwm, 11);
	HEQ(h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, 1199), 10);
	/* CLOSED ones below the highest live TCB are on the free list, lowest first */
	HEQ(AREA->free_head, 3);
	HEQ(TCB(3)->h_next, 4);
	/* no grant (tests, tools): the whole slab, every time */
	h_reattach_grant(0);
	HEQ(AREA->hwm_grant, 0);
	h_reattach_grant(1);
	HEQ(AREA->live, 4);
	tcp_abort(CTX, 10);
	h_drain();
}

/*
 * A worker killed after tcp_connect() (the stream flagged, never quiesced):
 * its successor's repair and tcp_resume() send nothing from SYN-SENT but
 * the SYN. An ACK there has no RCV.NXT to carry (RFC 9293 §3.1, §3.10.7.3);
 * before, repair's "tell the peer where we are" sent one with ACK 0. Found
 * by tests/fuzz/fuzz_tcp.c.
 */
HTEST(tcp_restart, syn_sent_sends_no_ack)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 5000);
	s = h_goto(&p, TCP_SYN_SENT, &H_OPT_ALL);
	h_reattach();
	tcp_resume(CTX);
	h_none();
	HEQ(TCB(s)->state, TCP_SYN_SENT);
	HTRUE(!(TCB(s)->flags & TF(ACK_NOW)));
	/* the SYN still goes again on time, and the handshake completes */
	HEQ(h_wait_out(PRM->rto_initial_ms + 1), PRM->rto_initial_ms);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_SYN);
	HEQ(o.seq, p.iss);
	p.ts = true;
	h_peer_send(&p, TH_SYN | TH_ACK, p.isn, p.iss + 1, NULL, 0);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, p.isn + 1);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
}

/* Timers further than one lap of the wheel (65.5 s) fire on time. */
HTEST(tcp_restart, long_timer)
{
	struct h_peer p;
	uint32_t s, t0;

	PRM->time_wait_ms = 200001;
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 100);
	s = h_open_passive(&p, &H_OPT_MSS);
	tcp_shutdown(CTX, s);
	h_drain();
	h_peer_send(&p, TH_FIN | TH_ACK, p.snd_nxt, p.iss + 2, NULL, 0);
	h_drain();
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	t0 = h_now();
	h_advance(200000);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	h_advance(TCP_TICK_MS);
	HEQ(TCB(s)->state, TCP_CLOSED);
	HTRUE(h_now() - t0 >= 200001);
}

/* ==== every state: reach it, then ABORT (RFC 9293 §3.10.5) ===================== */

HSUITE(tcp_goto);

static const enum tcp_state all_states[] = {
	TCP_SYN_SENT, TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT, TCP_CLOSING, TCP_LAST_ACK, TCP_TIME_WAIT,
};

HTEST(tcp_goto, abort_in_every_state)
{
	for (unsigned int i = 0; i < sizeof(all_states) / sizeof(all_states[0]); i++) {
		enum tcp_state st = all_states[i];
		struct h_peer p;
		struct h_out o;
		uint32_t s, snd_nxt;
		bool rst = st == TCP_SYN_RECEIVED || st == TCP_ESTABLISHED || st == TCP_FIN_WAIT_1 ||
			   st == TCP_FIN_WAIT_2 || st == TCP_CLOSE_WAIT;

		h_peer_init(&p, H_TEST_PORT, (uint16_t)(2000 + i), 0x1000 * (i + 1));
		if (st == TCP_SYN_SENT)
			p.rport = (uint16_t)(2000 + i);
		s = h_goto(&p, st, &H_OPT_ALL);
		HEQ(TCB(s)->state, st);
		HEQ(AREA->live, 1);
		snd_nxt = TCB(s)->snd_nxt;
		h_clear_events();
		tcp_abort(CTX, s);
		if (rst) {
			h_peer_next(&p, &o);
			HEQ(o.flags & TH_RST, TH_RST);
			HEQ(o.seq, snd_nxt);
		}
		h_none();
		HEQ(TCB(s)->state, TCP_CLOSED);
		HEQ(AREA->live, 0);
		HEQ(AREA->half_open, 0);
		HEQ(h_events(s), 0);
		h_check_clean();
	}
}

/* In every synchronized state an in-window RST is challenged and an exact one resets. */
HTEST(tcp_goto, rst_in_every_state)
{
	for (unsigned int i = 1; i < sizeof(all_states) / sizeof(all_states[0]); i++) {
		enum tcp_state st = all_states[i];
		struct h_peer p;
		struct h_out o;
		uint32_t s;

		h_peer_init(&p, H_TEST_PORT, (uint16_t)(3000 + i), 0x2000 * (i + 1));
		s = h_goto(&p, st, &H_OPT_ALL);
		h_peer_send(&p, TH_RST, p.snd_nxt + 5, 0, NULL, 0);
		h_peer_next(&p, &o);
		HEQ(o.flags, TH_ACK);
		HEQ(o.ack, p.snd_nxt);
		HEQ(TCB(s)->state, st);
		h_peer_send(&p, TH_RST, p.snd_nxt, 0, NULL, 0);
		h_none();
		HEQ(TCB(s)->state, TCP_CLOSED);
		HEQ(AREA->live, 0);
		h_check_clean();
	}
}

/*
 * The gateway stops (tcp_ctx.draining): a SYN to a listener is answered as a
 * closed port would be, the streams already open go on; tcp_drain() sends a
 * FIN on a built-in service's stream, then with RESET a RST; tcp_open_streams()
 * counts what a stop waits for.
 */
HTEST(tcp_nolisten, draining_refuses_new_connections_only)
{
	struct h_peer p, q;
	struct h_out o;
	uint32_t s, una;
	bool fin = false, rst = false;

	h_peer_init(&p, H_ECHO_PORT, 40001, 1000);
	s = h_open_passive(&p, &H_OPT_ALL);
	HEQ(tcp_open_streams(CTX), 1);
	CTX->draining = true;
	h_peer_init(&q, H_ECHO_PORT, 40002, 5000);
	h_peer_send(&q, TH_SYN, q.isn, 0, NULL, 0);
	h_next(&o);
	HEQ(o.flags, TH_RST | TH_ACK);
	HEQ(o.dport, 40002);
	HEQ(AREA->drops[TDROP_NO_LISTENER], 1);
	HEQ(AREA->live, 1);
	/* the open stream still echoes */
	una = TCB(s)->snd_max;
	h_peer_data(&p, "abc", 3);
	HEQ(TCB(s)->snd_max - una, 3);
	h_drain();
	tcp_drain(CTX, false);
	HEQ(TCB(s)->state, TCP_FIN_WAIT_1);
	while (h_pop(&o))
		fin |= o.dport == 40001 && (o.flags & TH_FIN);
	HTRUE(fin);
	HEQ(tcp_open_streams(CTX), 1);
	tcp_drain(CTX, true);
	while (h_pop(&o))
		rst |= o.dport == 40001 && (o.flags & TH_RST);
	HTRUE(rst);
	HEQ(tcp_open_streams(CTX), 0);
	HEQ(AREA->live, 0);
	CTX->draining = false;
}
