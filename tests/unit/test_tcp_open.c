/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp: what the handshake negotiates and what guards it: window
 * scaling (RFC 7323 §2), MSS (RFC 9293 §3.7.1, RFC 6691), timestamps and
 * PAWS (RFC 7323 §4-5), SYN cookies (RFC 4987), TIME-WAIT and its reuse
 * (RFC 9293 §3.6.1, RFC 6191), bad checksums and malformed options.
 */
#include "tests/unit/tcp_harness.h"

#include <string.h>

HSUITE(tcp_wscale);
HSUITE(tcp_mss);
HSUITE(tcp_paws);
HSUITE(tcp_cookie);
HSUITE(tcp_timewait);
HSUITE(tcp_malformed);

static uint8_t data[65536];

/* Pop every segment, check they are contiguous data from SEQ; returns the bytes. */
static uint32_t collect(struct h_peer *p, uint32_t seq, uint32_t max_len, unsigned int *nseg)
{
	struct h_out o;
	uint32_t total = 0;

	*nseg = 0;
	while (h_pending()) {
		h_peer_next(p, &o);
		HEQ(o.seq, seq + total);
		HTRUE(o.len > 0);
		cr_assert(o.len <= max_len, "segment of %u bytes exceeds %u", o.len, max_len);
		total += o.len;
		(*nseg)++;
	}
	return total;
}

/* ==== window scaling ======================================================= */

/* Both offer: windows scaled both ways, but never in the SYNs. */
HTEST(tcp_wscale, both_passive)
{
	struct h_peer p;
	struct h_out o;
	unsigned int n;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1);
	p.wnd = 1000;
	h_passive_syn(&p, &H_OPT_ALL);        /* checks SYN,ACK: WS 3, window 65535 unscaled */
	s = p.s;
	HEQ(TCB(s)->snd_wnd, 1000);           /* the SYN's window is not scaled */
	HEQ(TCB(s)->snd_wscale, 7);
	HEQ(TCB(s)->rcv_wscale, 3);
	p.wnd = 100;
	h_peer_ack(&p, p.rcv_nxt);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(TCB(s)->snd_wnd, 100u << 7);

	/* our window: (262144 - 1000 queued) >> 3 */
	h_pattern(data, 1000, 0);
	h_peer_data(&p, data, 1000);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, p.snd_nxt);
	HEQ(o.wnd, (262144 - 1000) >> 3);

	/* the peer's 12800-byte window limits what we send: 8 x 1448 */
	HEQ(tcp_send(CTX, s, data, 20000), 20000);
	HEQ(collect(&p, p.iss + 1, 1448, &n), 8 * 1448);
	HEQ(n, 8);
	p.wnd = 1000;   /* 128000 */
	p.rcv_nxt = p.iss + 1 + 8 * 1448;
	h_peer_ack(&p, p.rcv_nxt);
	HEQ(TCB(s)->snd_wnd, 128000);
	HTRUE(collect(&p, p.rcv_nxt, 1448, &n) > 0);
}

/* Active open: the SYN,ACK's window is never scaled, later ones are. */
HTEST(tcp_wscale, both_active)
{
	struct h_peer p;
	uint32_t s;

	h_peer_init(&p, 0, 80, 0x80000000);
	p.wnd = 2000;
	s = h_open_active(&p, &H_OPT_ALL);
	HEQ(TCB(s)->snd_wnd, 2000);
	HEQ(TCB(s)->snd_wscale, 7);
	HEQ(TCB(s)->rcv_wscale, 3);
	h_peer_ack(&p, p.rcv_nxt);
	HEQ(TCB(s)->snd_wnd, 2000u << 7);
}

/* Peer without WS: no option in our SYN,ACK, no scaling, our window capped at 65535. */
HTEST(tcp_wscale, peer_without)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1);
	s = h_open_passive(&p, &H_OPT_MSS);   /* checks: no WS option in the SYN,ACK */
	HEQ(TCB(s)->snd_wscale, 0);
	HEQ(TCB(s)->rcv_wscale, 0);
	HTRUE(!(TCB(s)->flags & TF(WS_OK)));
	h_pattern(data, 1500, 0);
	h_peer_data(&p, data, 1460);
	h_peer_data(&p, data, 1460);
	h_peer_next(&p, &o);
	HEQ(o.ack, p.snd_nxt);
	HEQ(o.wnd, 65535);                    /* 262144 - 2920 free, capped */
	/* the peer's window is used as is */
	p.wnd = 3000;
	h_peer_ack(&p, p.rcv_nxt);
	HEQ(TCB(s)->snd_wnd, 3000);
}

/* Active open, peer without WS: we offered 3 but must not scale. */
HTEST(tcp_wscale, active_peer_without)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, 0, 80, 5);
	s = h_open_active(&p, &H_OPT_MSS);
	HEQ(TCB(s)->rcv_wscale, 0);
	HEQ(TCB(s)->snd_wscale, 0);
	h_pattern(data, 2920, 0);
	h_peer_data(&p, data, 1460);
	h_peer_data(&p, data + 1460, 1460);
	h_peer_next(&p, &o);
	HEQ(o.ack, p.snd_nxt);
	HEQ(o.wnd, 65535);                    /* not 65535 >> 3 */
}

/* RFC 7323 §2.3: a shift above 14 is used as 14. */
HTEST(tcp_wscale, clamp_14)
{
	struct h_peer p;
	struct h_synopt so = H_OPT_ALL;
	uint32_t s;

	so.ws_val = 15;
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1);
	p.wnd = 1;
	s = h_open_passive(&p, &so);
	HEQ(TCB(s)->snd_wscale, 14);
	HEQ(TCB(s)->snd_wnd, 1u << 14);
}

/* window_scaling off in the config: no option sent, none used. */
HTEST(tcp_wscale, disabled)
{
	struct h_peer p;
	uint32_t s;

	PRM->window_scaling = 0;
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1);
	p.wnd = 100;
	s = h_open_passive(&p, &H_OPT_ALL);   /* checks: no WS in the SYN,ACK */
	HEQ(TCB(s)->snd_wnd, 100);
}

/* ==== MSS ================================================================== */

static void mss_case(const struct h_synopt *so, uint32_t len, uint32_t want_mss, unsigned int want_n)
{
	struct h_peer p;
	unsigned int n;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1);
	s = h_open_passive(&p, so);
	HEQ(TCB(s)->mss, want_mss);
	h_pattern(data, len, 0);
	HEQ(tcp_send(CTX, s, data, len), (int)len);
	HEQ(collect(&p, p.iss + 1, want_mss, &n), len);
	HEQ(n, want_n);
}

HTEST(tcp_mss, peer_mss_respected)
{
	struct h_synopt so = { .mss = true, .mss_val = 1000 };

	mss_case(&so, 5000, 1000, 5);
}

/* RFC 6691 / RFC 7323: 12 bytes of timestamp option come out of every segment. */
HTEST(tcp_mss, minus_timestamps)
{
	struct h_synopt so = { .mss = true, .mss_val = 1000, .ts = true };

	mss_case(&so, 5000, 988, 6);   /* 5 x 988 + 60 */
}

/* RFC 9293 §3.7.1: 536 when the SYN has no MSS option. */
HTEST(tcp_mss, default_536)
{
	mss_case(&H_OPT_NONE, 2000, 536, 4);
}

HTEST(tcp_mss, default_536_ts)
{
	struct h_synopt so = { .ts = true };

	mss_case(&so, 2000, 524, 4);
}

/* A larger peer MSS is capped by ours (MTU 1500 - 40). */
HTEST(tcp_mss, capped_by_ours)
{
	struct h_synopt so = { .mss = true, .mss_val = 9000 };

	mss_case(&so, 4380, 1460, 3);
}

/* Active open: the SYN,ACK's MSS. */
HTEST(tcp_mss, active)
{
	struct h_peer p;
	struct h_synopt so = { .mss = true, .mss_val = 700 };
	unsigned int n;
	uint32_t s;

	h_peer_init(&p, 0, 80, 5);
	s = h_open_active(&p, &so);
	HEQ(TCB(s)->mss, 700);
	h_pattern(data, 2100, 0);
	tcp_send(CTX, s, data, 2100);
	HEQ(collect(&p, p.iss + 1, 700, &n), 2100);
	HEQ(n, 3);
}

/* ==== timestamps, PAWS ====================================================== */

/* RFC 7323 §5.3 R1: an old TSval -> drop, ACK <SEQ=SND.NXT><ACK=RCV.NXT>. */
HTEST(tcp_paws, old_tsval_dropped)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 100);
	p.tsval = 5000;
	s = h_open_passive(&p, &H_OPT_ALL);
	h_clear_events();
	HEQ(TCB(s)->ts_recent, 5000);
	p.tsval = 4999;
	h_peer_send(&p, TH_ACK | TH_PSH, p.snd_nxt, p.rcv_nxt, "old", 3);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.ack, 101);
	HEQ(o.len, 0);
	HTRUE(o.opt.has_ts);
	HEQ(o.opt.ts_ecr, 5000);
	HEQ(AREA->drops[TDROP_PAWS], 1);
	HEQ(tcp_recv_avail(CTX, s), 0);
	HEQ(TCB(s)->rcv_nxt, 101);
	HEQ(h_events(s), 0);
	/* TSvals compare modulo 2^32: 5000 + 2^31 + 1 is older too ... */
	p.tsval = 5000u + 0x80000001u;
	h_peer_send(&p, TH_ACK | TH_PSH, p.snd_nxt, p.rcv_nxt, "old", 3);
	h_peer_next(&p, &o);
	HEQ(AREA->drops[TDROP_PAWS], 2);
	HEQ(tcp_recv_avail(CTX, s), 0);
	/* ... and 5000 + 2^31 - 1 is newer */
	p.tsval = 5000u + 0x7fffffffu;
	h_peer_send(&p, TH_ACK | TH_PSH, p.snd_nxt, p.rcv_nxt, "new", 3);
	h_peer_next(&p, &o);
	HEQ(o.ack, 104);
	HEQ(o.opt.ts_ecr, 5000u + 0x7fffffffu);
	HEQ(AREA->drops[TDROP_PAWS], 2);
	HEQ(tcp_recv_avail(CTX, s), 3);
	/* a RST is never subject to PAWS */
	p.snd_nxt += 3;
	p.tsval = 1;
	h_peer_send(&p, TH_RST, p.snd_nxt, 0, NULL, 0);
	HEQ(TCB(s)->state, TCP_CLOSED);
}

/* RFC 7323 §4.3: TS.Recent only from a segment covering Last.ACK.sent. */
HTEST(tcp_paws, ts_recent_update)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s, base;

	PRM->delack_ms = 40;
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 100);
	p.tsval = 500;
	s = h_open_passive(&p, &H_OPT_ALL);
	base = p.snd_nxt;
	h_pattern(data, 4000, 0);

	p.tsval = 600;
	h_peer_data(&p, data, 100);
	h_peer_next(&p, &o);
	HEQ(o.ack, base + 100);
	HEQ(o.opt.ts_ecr, 600);
	HEQ(TCB(s)->ts_recent, 600);

	/* out of order, newer TSval: SEG.SEQ > Last.ACK.sent -> TS.Recent kept */
	p.tsval = 700;
	h_peer_send(&p, TH_ACK, base + 200, p.rcv_nxt, data + 200, 100);
	h_peer_next(&p, &o);
	HEQ(o.ack, base + 100);
	HEQ(o.opt.ts_ecr, 600);
	HEQ(TCB(s)->ts_recent, 600);

	/* the segment filling the hole updates it */
	p.tsval = 650;
	h_peer_send(&p, TH_ACK, base + 100, p.rcv_nxt, data + 100, 100);
	h_peer_next(&p, &o);
	HEQ(o.ack, base + 300);
	HEQ(o.opt.ts_ecr, 650);
	HEQ(TCB(s)->ts_recent, 650);

	/* delayed ACK of two full segments echoes the first one's TSval */
	p.snd_nxt = base + 300;
	p.tsval = 800;
	h_peer_data(&p, data, 1448);
	h_none();
	p.tsval = 900;
	h_peer_data(&p, data, 1448);
	h_peer_next(&p, &o);
	HEQ(o.ack, base + 300 + 2 * 1448);
	HEQ(o.opt.ts_ecr, 800);
}

/* RFC 7323 §4.1: RTT from the echoed timestamp. */
HTEST(tcp_paws, rtt_from_tsecr)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 100);
	s = h_open_passive(&p, &H_OPT_ALL);
	TCB(s)->srtt_us = 0;
	TCB(s)->rttvar_us = 0;
	tcp_send(CTX, s, "ping", 4);
	h_peer_next(&p, &o);
	HEQ(o.opt.ts_val, h_now());
	h_advance(250);
	h_peer_ack(&p, p.iss + 5);
	HEQ(TCB(s)->srtt_us, 250000);
	HEQ(TCB(s)->rttvar_us, 125000);
	HEQ(TCB(s)->rto_ms, 750);
}

/* ==== SYN cookies (RFC 4987) ================================================= */

/* Fill the backlog (1) with one half-open stream. */
static void fill_backlog(void)
{
	struct h_peer q;

	PRM->syn_backlog = 1;
	h_peer_init(&q, H_TEST_PORT, H_PEER_PORT, 1);
	h_passive_syn(&q, &H_OPT_ALL);
	cr_assert(q.s != TCP_NIL);
	HEQ(AREA->half_open, 1);
}

HTEST(tcp_cookie, full_backlog)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s, cookie;

	fill_backlog();
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT + 1, 0xc0000000);
	p.tsval = 777;
	h_passive_syn(&p, &H_OPT_ALL);        /* SYN,ACK options checked as for a normal one */
	cookie = p.iss;
	HEQ(p.s, TCP_NIL);                    /* no TCB */
	HEQ(AREA->live, 1);
	HEQ(AREA->half_open, 1);
	HEQ(AREA->events[TEV_COOKIES_SENT], 1);
	HEQ(AREA->events[TEV_PASSIVE_OPENS], 1);

	h_advance(30);
	p.wnd = 1000;
	h_peer_ack(&p, cookie + 1);
	s = h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, H_PEER_PORT + 1);
	cr_assert(s != TCP_NIL, "the cookie ACK created no stream");
	p.s = s;
	h_none();
	HEQ(AREA->events[TEV_COOKIES_OK], 1);
	HEQ(AREA->live, 2);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HTRUE(TCB(s)->flags & TF(COOKIE));
	HEQ(TCB(s)->iss, cookie);
	HEQ(TCB(s)->snd_una, cookie + 1);
	HEQ(TCB(s)->rcv_nxt, 0xc0000001);
	/* the options the cookie carried */
	HEQ(TCB(s)->peer_mss, 1460);
	HEQ(TCB(s)->mss, 1460 - 12);
	HTRUE(TCB(s)->flags & TF(WS_OK));
	HEQ(TCB(s)->snd_wscale, 7);
	HEQ(TCB(s)->rcv_wscale, 3);
	HTRUE(TCB(s)->flags & TF(SACK_OK));
	HTRUE(TCB(s)->flags & TF(TS_OK));
	HEQ(TCB(s)->ts_recent, 777);
	HEQ(h_events(s), TEV_APP_CONNECTED);
	/* the ACK's window (scaled) is the send window */
	HEQ(TCB(s)->snd_wnd, 1000u << 7);

	/* data both ways */
	HEQ(tcp_send(CTX, s, "hello", 5), 5);
	h_peer_next(&p, &o);
	HEQ(o.flags & (TH_ACK | TH_SYN | TH_FIN | TH_RST), TH_ACK);
	HEQ(o.seq, cookie + 1);
	HEQ(o.ack, 0xc0000001);
	HEQ(o.len, 5);
	HTRUE(memcmp(o.payload, "hello", 5) == 0);
	p.rcv_nxt = cookie + 6;
	h_peer_data(&p, "world", 5);
	HEQ(tcp_recv_avail(CTX, s), 5);
}

/* The cookie ACK may carry the first data (the SYN,ACK offered a window). */
HTEST(tcp_cookie, ack_with_data)
{
	struct h_peer p;
	struct h_out o;
	uint8_t buf[16];
	uint32_t s;

	fill_backlog();
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT + 2, 0x20000000);
	h_passive_syn(&p, &H_OPT_ALL);
	h_peer_data(&p, "GET /\r\n", 7);
	s = h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, H_PEER_PORT + 2);
	cr_assert(s != TCP_NIL);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(tcp_recv_avail(CTX, s), 7);
	HEQ(tcp_recv(CTX, s, buf, sizeof(buf)), 7);
	HTRUE(memcmp(buf, "GET /\r\n", 7) == 0);
	HTRUE(h_events(s) & TEV_APP_CONNECTED);
	HTRUE(h_events(s) & TEV_APP_READABLE);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, 0x20000008);
}

/* No options in the SYN: the stream uses the defaults. */
HTEST(tcp_cookie, no_options)
{
	struct h_peer p;
	uint32_t s;

	fill_backlog();
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT + 3, 0x1000);
	p.wnd = 5000;
	h_passive_syn(&p, &H_OPT_NONE);
	h_peer_ack(&p, p.rcv_nxt);
	s = h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, H_PEER_PORT + 3);
	cr_assert(s != TCP_NIL);
	HEQ(TCB(s)->mss, 536);
	HEQ(TCB(s)->snd_wscale, 0);
	HEQ(TCB(s)->rcv_wscale, 0);
	HEQ(TCB(s)->flags & (TF(WS_OK) | TF(SACK_OK) | TF(TS_OK)), 0);
	HEQ(TCB(s)->snd_wnd, 5000);
}

/* A good cookie whose ACK finds the slab full (a connection flood holds every TCB): the ACK
 * is reset and counted once, as no_tcb (TDROP_SLAB_FULL), not as a bad cookie. */
HTEST(tcp_cookie, good_cookie_slab_full)
{
	struct h_peer p, q;
	struct h_out o;
	uint32_t cookie;

	PRM->syncookies = 0;
	for (uint32_t i = 0; i < H_MAX_STREAMS; i++) {
		h_peer_init(&q, H_TEST_PORT, (uint16_t)(1000 + i), i);
		q.so = H_OPT_MSS;
		h_peer_send(&q, TH_SYN, i, 0, NULL, 0);
	}
	h_drain();
	HEQ(AREA->live, H_MAX_STREAMS);
	PRM->syncookies = 1;
	h_peer_init(&p, H_TEST_PORT, 999, 0x5000);
	h_passive_syn(&p, &H_OPT_ALL);        /* answered with a cookie, no TCB */
	cookie = p.iss;
	HEQ(p.s, TCP_NIL);
	HEQ(AREA->events[TEV_COOKIES_SENT], 1);
	h_peer_ack(&p, cookie + 1);
	h_next(&o);
	HEQ(o.flags, TH_RST);
	HEQ(o.seq, cookie + 1);
	HEQ(AREA->drops[TDROP_SLAB_FULL], 1);
	HEQ(AREA->drops[TDROP_BAD_COOKIE], 0);
	HEQ(AREA->events[TEV_COOKIES_OK], 0);
	HEQ(AREA->live, H_MAX_STREAMS);
	h_drain();
}

/* A forged or altered cookie: RST <SEQ=SEG.ACK>, no stream. */
HTEST(tcp_cookie, forged)
{
	struct h_peer p;
	struct h_out o;
	uint32_t cookie;

	fill_backlog();
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT + 4, 0x5000);
	h_passive_syn(&p, &H_OPT_ALL);
	cookie = p.iss;
	/* a guessed cookie */
	h_peer_ack(&p, cookie + 1 + 0x1000);
	h_next(&o);
	HEQ(o.flags, TH_RST);
	HEQ(o.seq, cookie + 1 + 0x1000);
	/* the right cookie with another peer ISN */
	h_peer_send(&p, TH_ACK, 0x5002, cookie + 1, NULL, 0);
	h_next(&o);
	HEQ(o.flags, TH_RST);
	HEQ(o.seq, cookie + 1);
	/* an ACK to the listener from nobody */
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT + 5, 0x7000);
	h_peer_ack(&p, 0x12345678);
	h_next(&o);
	HEQ(o.flags, TH_RST);
	HEQ(o.seq, 0x12345678);
	HEQ(AREA->drops[TDROP_BAD_COOKIE], 3);
	HEQ(AREA->events[TEV_COOKIES_OK], 0);
	HEQ(AREA->live, 1);
}

/* Cookies expire after two counter ticks (64 to 128 s). */
HTEST(tcp_cookie, expired)
{
	struct h_peer p;
	struct h_out o;

	fill_backlog();
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT + 6, 0x9000);
	p.ts = false;
	h_passive_syn(&p, &H_OPT_MSS);
	CTX->now_ms += 130000;
	CTX->now_us += 130000000ull;
	AREA->wheel_tick = CTX->now_ms / TCP_TICK_MS;
	h_peer_ack(&p, p.rcv_nxt);
	h_next(&o);
	HEQ(o.flags, TH_RST);
	HEQ(AREA->drops[TDROP_BAD_COOKIE], 1);
	/* the half-open stream of fill_backlog() is still there: let it go */
	tcp_abort(CTX, h_lookup(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, H_PEER_PORT));
	h_drain();
}

/* ==== TIME-WAIT ============================================================ */

/* Reach TIME-WAIT by an active close from peer port RPORT; returns the stream. */
static uint32_t to_time_wait_from(struct h_peer *p, const struct h_synopt *so, uint32_t isn,
				  uint16_t rport)
{
	struct h_out o;
	uint32_t s;

	h_peer_init(p, H_TEST_PORT, rport, isn);
	p->tsval = 1000;
	s = h_open_passive(p, so);
	h_peer_data(p, "abc", 3);
	h_peer_next(p, &o);
	tcp_recv(CTX, s, NULL, 3);
	tcp_shutdown(CTX, s);
	h_peer_next(p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	p->tsval = 1010;
	h_peer_send(p, TH_FIN | TH_ACK, p->snd_nxt, p->iss + 2, NULL, 0);
	p->snd_nxt++;
	h_peer_next(p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	h_clear_events();
	return s;
}

static uint32_t to_time_wait(struct h_peer *p, const struct h_synopt *so, uint32_t isn)
{
	return to_time_wait_from(p, so, isn, H_PEER_PORT);
}

HTEST(tcp_timewait, expires)
{
	struct h_peer p;
	uint32_t s;

	PRM->time_wait_ms = 5000;
	s = to_time_wait(&p, &H_OPT_ALL, 100);
	h_advance(4999);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	HEQ(AREA->live, 1);
	h_advance(TCP_TICK_MS);
	HEQ(TCB(s)->state, TCP_CLOSED);
	HEQ(AREA->live, 0);
	h_none();
}

/* RFC 6191: a SYN with a higher TSval reopens the tuple (here in the old receive window). */
static void reuse_case(uint32_t new_isn_off)
{
	struct h_peer p, q;
	uint32_t s, old_rcv;

	s = to_time_wait(&p, &H_OPT_ALL, 100);
	old_rcv = TCB(s)->rcv_nxt;
	h_peer_init(&q, H_TEST_PORT, H_PEER_PORT, old_rcv + new_isn_off);
	q.tsval = 2000;
	h_passive_syn(&q, &H_OPT_ALL);
	cr_assert(q.s != TCP_NIL);
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 1);
	HEQ(TCB(q.s)->state, TCP_SYN_RECEIVED);
	HEQ(TCB(q.s)->irs, old_rcv + new_isn_off);
	HEQ(AREA->live, 1);
	h_peer_ack(&q, q.rcv_nxt);
	HEQ(TCB(q.s)->state, TCP_ESTABLISHED);
	HEQ(h_events(q.s), TEV_APP_CONNECTED);
}

HTEST(tcp_timewait, reuse_higher_tsval_in_window)
{
	reuse_case(1000);
}

HTEST(tcp_timewait, reuse_higher_tsval_far)
{
	reuse_case(0x40000000);
}

/* A lower TSval: not reused; at most an ACK of the old incarnation. */
HTEST(tcp_timewait, lower_tsval)
{
	struct h_peer p, q;
	struct h_out o;
	uint32_t s, snd_nxt, rcv_nxt;

	s = to_time_wait(&p, &H_OPT_ALL, 100);
	snd_nxt = TCB(s)->snd_nxt;
	rcv_nxt = TCB(s)->rcv_nxt;
	h_peer_init(&q, H_TEST_PORT, H_PEER_PORT, rcv_nxt + 1000);
	q.so = H_OPT_ALL;
	q.tsval = 999;
	h_peer_send(&q, TH_SYN, q.isn, 0, NULL, 0);
	if (h_pending()) {
		h_next(&o);
		HEQ(o.flags, TH_ACK);
		HEQ(o.seq, snd_nxt);
		HEQ(o.ack, rcv_nxt);
	}
	h_none();
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 0);
	HEQ(AREA->live, 1);
}

/* Without timestamps: a higher sequence number reopens, a lower one does not. */
HTEST(tcp_timewait, no_ts_by_sequence)
{
	struct h_peer p, q;
	struct h_out o;
	uint32_t s, rcv_nxt;

	s = to_time_wait(&p, &H_OPT_MSS, 100);
	rcv_nxt = TCB(s)->rcv_nxt;
	h_peer_init(&q, H_TEST_PORT, H_PEER_PORT, rcv_nxt - 50);
	q.so = H_OPT_MSS;
	h_peer_send(&q, TH_SYN, q.isn, 0, NULL, 0);
	h_next(&o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, rcv_nxt);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	h_peer_init(&q, H_TEST_PORT, H_PEER_PORT, rcv_nxt + 500);
	h_passive_syn(&q, &H_OPT_MSS);
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 1);
	cr_assert(q.s != TCP_NIL);
	HEQ(TCB(q.s)->irs, rcv_nxt + 500);
}

/*
 * RFC 9293 §3.6.1 (1): a connection reopened from TIME-WAIT gets an initial
 * sequence number above every one the old incarnation used, even when the
 * RFC 6528 clock has not moved past the old connection's data (here: 10,000
 * bytes sent and the SYN arriving within the same microsecond). Found by
 * tests/fuzz/fuzz_tcp.c.
 */
HTEST(tcp_timewait, reuse_iss_above_old_incarnation)
{
	static const uint8_t data[10000];
	struct h_peer p, q;
	uint32_t s, old_max, rcv_nxt;

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 100);
	s = h_open_passive(&p, &H_OPT_MSS);
	HEQ(tcp_send(CTX, s, data, sizeof(data)), sizeof(data));
	HEQ(tcp_shutdown(CTX, s), 0);
	h_drain();
	h_peer_ack(&p, TCB(s)->snd_max);
	HEQ(TCB(s)->state, TCP_FIN_WAIT_2);
	h_peer_fin(&p);
	h_drain();
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	old_max = TCB(s)->snd_max;
	HEQ(old_max, p.iss + 1 + sizeof(data) + 1);
	rcv_nxt = TCB(s)->rcv_nxt;
	h_peer_init(&q, H_TEST_PORT, H_PEER_PORT, rcv_nxt + 500);
	h_passive_syn(&q, &H_OPT_MSS);
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 1);
	cr_assert(q.s != TCP_NIL);
	HTRUE(seq_geq(q.iss, old_max));   /* above every sequence number it used */
	HEQ(TCB(q.s)->iss, q.iss);
	h_peer_ack(&q, q.rcv_nxt);
	HEQ(TCB(q.s)->state, TCP_ESTABLISHED);
}

/*
 * A TIME-WAIT stream whose application still holds it (a half-closed tunnel
 * that has not read the peer's last bytes: tcp_states.time_wait_keeps_unread_data)
 * is not reopened by a new SYN: the stream index stays the application's, with
 * its data, until it lets go (as tcp_reclaim_time_wait() only takes streams the
 * application let go of). Before, the SYN freed it silently and the new
 * connection took the same index. Found by tests/fuzz/fuzz_tcp.c.
 */
HTEST(tcp_timewait, no_reuse_while_the_application_holds_it)
{
	struct h_peer p, q;
	struct h_out o;
	uint32_t s;
	char buf[8];

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 1000);
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
	/* a new SYN, newer by timestamp and by sequence number */
	h_peer_init(&q, H_TEST_PORT, H_PEER_PORT, p.snd_nxt + 100000);
	q.so = H_OPT_ALL;
	q.tsval = p.tsval + 1000;
	h_peer_send(&q, TH_SYN, q.isn, 0, NULL, 0);
	while (h_pop(&o))
		HTRUE(!(o.flags & TH_SYN));   /* at most a challenge ACK of the old connection */
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 0);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	HEQ(TCB(s)->app, TAPP_TEST);
	HEQ(h_events(s), 0);
	HEQ(tcp_recv(CTX, s, buf, sizeof(buf)), 4);
	HEQ(memcmp(buf, "tail", 4), 0);
	/* once the application let go, the same SYN reopens the tuple */
	tcp_close(CTX, s);
	h_passive_syn(&q, &H_OPT_ALL);
	HEQ(AREA->events[TEV_TIME_WAIT_REUSE], 1);
	cr_assert(q.s != TCP_NIL);
	HEQ(TCB(q.s)->state, TCP_SYN_RECEIVED);
}

/* A slab full of TIME-WAIT streams: a new connection ends the one closest to its end of
 * 2MSL (the oldest) instead of being refused; a slab full of live streams still refuses. */
HTEST(tcp_timewait, reclaimed_when_the_slab_is_full)
{
	struct h_peer p, q;
	uint32_t first = TCP_NIL, second = TCP_NIL;

	PRM->syncookies = 0;
	for (uint32_t i = 0; i < H_MAX_STREAMS; i++) {
		uint32_t s = to_time_wait_from(&p, &H_OPT_ALL, 1000 * i, (uint16_t)(2000 + i));

		if (i == 0)
			first = s;
		if (i == 1)
			second = s;
		h_advance(TCP_TICK_MS);   /* each a tick younger than the one before */
	}
	HEQ(AREA->live, H_MAX_STREAMS);
	HEQ(AREA->free_head, TCP_NIL);
	h_peer_init(&q, H_TEST_PORT, 999, 77);
	h_passive_syn(&q, &H_OPT_ALL);    /* a real SYN-RECEIVED stream, not a cookie */
	HTRUE(q.s != TCP_NIL);
	HEQ(q.s, first);                  /* the oldest TIME-WAIT made room */
	HEQ(AREA->tw_reclaimed, 1);
	HEQ(AREA->drops[TDROP_SLAB_FULL], 0);
	HEQ(AREA->events[TEV_COOKIES_SENT], 0);
	HEQ(TCB(second)->state, TCP_TIME_WAIT);
	HEQ(AREA->live, H_MAX_STREAMS);
	/* the rest expire as usual */
	h_advance(PRM->time_wait_ms + TCP_TICK_MS);
	HEQ(AREA->live, 1);
	tcp_abort(CTX, q.s);
	h_drain();
}

/* ==== checksums and options ================================================= */

HTEST(tcp_malformed, bad_checksum)
{
	struct h_peer p;
	uint32_t s;
	struct h_spec sp = {
		.saddr = H_PEER_IP, .daddr = H_LOCAL_IP, .sport = H_PEER_PORT, .dport = H_TEST_PORT,
		.seq = 1, .flags = TH_SYN, .wnd = 1000, .bad_tcp_csum = true,
	};

	h_inject(&sp);                    /* a SYN to a listener */
	sp.dport = H_CLOSED_PORT;
	h_inject(&sp);                    /* a SYN for the RST path */
	h_none();
	HEQ(AREA->live, 0);
	HEQ(AREA->drops[TDROP_CSUM], 2);

	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 100);
	s = h_open_passive(&p, &H_OPT_MSS);
	h_clear_events();
	sp.dport = H_TEST_PORT;
	sp.seq = p.snd_nxt;
	sp.ack = p.rcv_nxt;
	sp.flags = TH_ACK | TH_PSH;
	sp.payload = "corrupt";
	sp.len = 7;
	h_inject(&sp);
	sp.flags = TH_RST;
	sp.len = 0;
	h_inject(&sp);
	h_none();
	HEQ(AREA->drops[TDROP_CSUM], 4);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(TCB(s)->rcv_nxt, p.snd_nxt);
	HEQ(h_events(s), 0);
	/* an odd-length payload with a right checksum is fine */
	h_peer_data(&p, "odd", 3);
	HEQ(tcp_recv_avail(CTX, s), 3);
}

HTEST(tcp_malformed, bad_options)
{
	static const uint8_t zero_len[] = { 2, 0, 0, 0 };             /* MSS, length 0 */
	static const uint8_t mss_len3[] = { 2, 3, 5, 0 };             /* MSS, length 3 */
	static const uint8_t overrun[] = { 1, 1, 8, 10, 0, 0, 0, 0 }; /* TS running past the end */
	static const uint8_t sack_empty[] = { 1, 1, 5, 2 };           /* SACK without blocks */
	const uint8_t *bad[] = { zero_len, mss_len3, overrun, sack_empty };
	const unsigned int blen[] = { 4, 4, 8, 4 };
	struct h_peer p;
	uint32_t s;
	struct h_spec sp = {
		.saddr = H_PEER_IP, .daddr = H_LOCAL_IP, .sport = H_PEER_PORT, .dport = H_TEST_PORT,
		.seq = 1, .flags = TH_SYN, .wnd = 1000,
	};

	for (unsigned int i = 0; i < 4; i++) {
		sp.raw_opts = bad[i];
		sp.raw_len = blen[i];
		h_inject(&sp);
	}
	h_none();
	HEQ(AREA->live, 0);
	HEQ(AREA->drops[TDROP_MALFORMED], 4);

	/* in a connection: dropped, nothing delivered, no answer */
	h_peer_init(&p, H_TEST_PORT, H_PEER_PORT, 100);
	s = h_open_passive(&p, &H_OPT_MSS);
	sp.seq = p.snd_nxt;
	sp.ack = p.rcv_nxt;
	sp.flags = TH_ACK;
	sp.payload = "abc";
	sp.len = 3;
	for (unsigned int i = 0; i < 4; i++) {
		sp.raw_opts = bad[i];
		sp.raw_len = blen[i];
		h_inject(&sp);
	}
	h_none();
	HEQ(AREA->drops[TDROP_MALFORMED], 8);
	HEQ(tcp_recv_avail(CTX, s), 0);

	/* unknown options are skipped */
	{
		static const uint8_t unknown[] = { 30, 4, 0xaa, 0xbb };

		sp.raw_opts = unknown;
		sp.raw_len = 4;
		h_inject(&sp);
		HEQ(tcp_recv_avail(CTX, s), 3);
	}
}

/* A truncated frame (IP length past the data) and a data offset past the IP length. */
HTEST(tcp_malformed, bad_lengths)
{
	struct h_spec sp = {
		.saddr = H_PEER_IP, .daddr = H_LOCAL_IP, .sport = H_PEER_PORT, .dport = H_TEST_PORT,
		.seq = 1, .flags = TH_SYN, .wnd = 1000,
	};
	struct rte_mbuf *m = h_build(&sp);

	rte_pktmbuf_trim(m, 1);                       /* IP total length now too long */
	tcp_input(CTX, m);
	m = h_build(&sp);
	rte_pktmbuf_mtod(m, uint8_t *)[14 + 20 + 12] = 0xf0;   /* data offset 60 > 20 */
	tcp_input(CTX, m);
	m = h_build(&sp);
	rte_pktmbuf_mtod(m, uint8_t *)[14 + 9] = 17;  /* not TCP */
	tcp_input(CTX, m);
	h_none();
	HEQ(AREA->drops[TDROP_MALFORMED], 3);
	HEQ(AREA->live, 0);
}
