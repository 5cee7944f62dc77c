/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp: the receive side. In-order delivery, out-of-order queue and
 * SACK blocks (RFC 2018, RFC 5681 §4.2), delayed ACKs (RFC 1122 §4.2.3.2,
 * RFC 9293 §3.8.6.3) and the timer wheel under them, receive window,
 * sequence-number wrap, the echo and discard services.
 */
#include "tests/unit/tcp_harness.h"

#include <string.h>

HSUITE(tcp_data);
HSUITE(tcp_delack);
HSUITE(tcp_wrap);
HSUITE(tcp_apps);

static uint8_t data[262144];
static uint8_t got[262144];

static uint32_t open_default(struct h_peer *p, const struct h_synopt *so, uint32_t isn)
{
	uint32_t s;

	h_peer_init(p, H_TEST_PORT, H_PEER_PORT, isn);
	s = h_open_passive(p, so);
	h_clear_events();
	return s;
}

static void expect_ack(struct h_peer *p, uint32_t ack)
{
	struct h_out o;

	h_peer_next(p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p->iss + 1);
	HEQ(o.ack, ack);
	HEQ(o.len, 0);
}

/* ==== in order ============================================================== */

HTEST(tcp_data, in_order)
{
	struct h_peer p;
	uint32_t s = open_default(&p, &H_OPT_ALL, 1000);

	h_pattern(data, 3100, 0);
	h_peer_data(&p, data, 100);
	expect_ack(&p, 1101);
	HEQ(h_events(s), TEV_APP_READABLE);
	h_peer_data(&p, data + 100, 200);
	expect_ack(&p, 1301);
	h_peer_data(&p, data + 300, 1448);
	h_peer_data(&p, data + 1748, 1252);
	expect_ack(&p, 4001);
	h_none();
	HEQ(h_event_count(s, TEV_APP_READABLE), 4);
	HEQ(tcp_recv_avail(CTX, s), 3000);
	HEQ(tcp_recv(CTX, s, got, 1000), 1000);
	HEQ(tcp_recv(CTX, s, got + 1000, 5000), 2000);
	HTRUE(memcmp(got, data, 3000) == 0);
	HEQ(TCB(s)->rcv_nxt, 4001);
	HEQ(TCB(s)->bytes_in, 3000);
	/* reading may have sent a window update: an ACK, nothing new */
	while (h_pending())
		expect_ack(&p, 4001);
	/* a duplicate (already acknowledged) is answered with an ACK and not delivered again */
	h_peer_send(&p, TH_ACK, 1001, p.rcv_nxt, data, 100);
	expect_ack(&p, 4001);
	HEQ(tcp_recv_avail(CTX, s), 0);
	/* a segment overlapping the left edge delivers only its new bytes */
	h_peer_send(&p, TH_ACK, 3901, p.rcv_nxt, data + 2900, 200);
	expect_ack(&p, 4101);
	HEQ(tcp_recv(CTX, s, got, 500), 100);
	HTRUE(memcmp(got, data + 3000, 100) == 0);
}

/* Out of order: immediate ACK with SACK blocks, the most recent block first (RFC 2018 §4). */
/* A peer dripping one byte per segment: the queue holds about a buffer per 2 KiB, not one per byte. */
HTEST(tcp_data, tiny_segments_share_buffers)
{
	struct h_peer p;
	uint32_t s = open_default(&p, &H_OPT_MSS, 1000);
	long before = H.live_mbufs;

	h_pattern(data, 6000, 0);
	for (uint32_t i = 0; i < 6000; i++) {
		h_peer_data(&p, data + i, 1);
		h_drain();
		h_clear_events();
	}
	HEQ(tcp_recv_avail(CTX, s), 6000);
	HEQ(TCB(s)->rcv_nxt, 7001);
	/* the first frame's room, then about 2 KiB per buffer */
	HTRUE(H.live_mbufs - before <= 5);
	HEQ(tcp_recv(CTX, s, got, 6000), 6000);
	HTRUE(memcmp(got, data, 6000) == 0);
	HEQ(H.live_mbufs, before);
	h_drain();
}

/* With the shared pool at its reserve, payload is not queued nor acknowledged; the peer's resend is. */
HTEST(tcp_data, payload_dropped_while_pool_low)
{
	struct h_peer p;
	uint32_t s = open_default(&p, &H_OPT_MSS, 1000);

	h_pattern(data, 500, 0);
	H.pool_low = true;
	h_peer_data(&p, data, 500);
	HEQ(tcp_recv_avail(CTX, s), 0);
	HEQ(TCB(s)->rcv_nxt, 1001);
	HEQ(tcp_area_drop(AREA, TDROP_POOL_LOW), 1);
	h_advance(300);
	while (h_pending()) {
		struct h_out o;

		h_peer_next(&p, &o);
		HEQ(o.ack, 1001);        /* nothing of it acknowledged */
	}
	H.pool_low = false;
	h_peer_send(&p, TH_ACK | TH_PSH, 1001, p.rcv_nxt, data, 500);
	HEQ(tcp_recv_avail(CTX, s), 500);
	HEQ(TCB(s)->rcv_nxt, 1501);
	HEQ(tcp_recv(CTX, s, got, 500), 500);
	HTRUE(memcmp(got, data, 500) == 0);
	h_drain();
}

HTEST(tcp_data, ooo_sack)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = open_default(&p, &H_OPT_SACK, 0x7fffff00);
	uint32_t b = p.snd_nxt;

	h_pattern(data, 1000, 0);
	h_peer_send(&p, TH_ACK, b + 100, p.rcv_nxt, data + 100, 100);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, b);
	HEQ(o.opt.nsack, 1);
	HEQ(o.opt.sack[0].left, b + 100);
	HEQ(o.opt.sack[0].right, b + 200);
	HEQ(h_events(s), 0);

	h_peer_send(&p, TH_ACK, b + 300, p.rcv_nxt, data + 300, 100);
	h_peer_next(&p, &o);
	HEQ(o.ack, b);
	HEQ(o.opt.nsack, 2);
	HEQ(o.opt.sack[0].left, b + 300);    /* the block of the segment that triggered the ACK */
	HEQ(o.opt.sack[0].right, b + 400);
	HEQ(o.opt.sack[1].left, b + 100);
	HEQ(o.opt.sack[1].right, b + 200);

	/* fills between the islands: one block */
	h_peer_send(&p, TH_ACK, b + 200, p.rcv_nxt, data + 200, 100);
	h_peer_next(&p, &o);
	HEQ(o.ack, b);
	HEQ(o.opt.nsack, 1);
	HEQ(o.opt.sack[0].left, b + 100);
	HEQ(o.opt.sack[0].right, b + 400);
	HEQ(tcp_recv_avail(CTX, s), 0);

	/* the hole: everything delivered, one cumulative ACK, no SACK */
	h_peer_send(&p, TH_ACK, b, p.rcv_nxt, data, 100);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, b + 400);
	HEQ(o.opt.nsack, 0);
	h_none();
	HTRUE(h_events(s) & TEV_APP_READABLE);
	HEQ(tcp_recv(CTX, s, got, sizeof(got)), 400);
	HTRUE(memcmp(got, data, 400) == 0);
	HEQ(TCB(s)->ooo_head, NULL);
}

/* With timestamps only 3 blocks fit; the newest island must be among them, first. */
HTEST(tcp_data, sack_newest_first_with_ts)
{
	struct h_peer p;
	struct h_out o;
	uint32_t b;

	open_default(&p, &H_OPT_ALL, 5);
	b = p.snd_nxt;
	h_pattern(data, 2000, 0);
	for (uint32_t i = 1; i <= 4; i++) {
		h_peer_send(&p, TH_ACK, b + 200 * i, p.rcv_nxt, data + 200 * i, 100);
		h_peer_next(&p, &o);
		HEQ(o.ack, b);
		HEQ(o.opt.sack[0].left, b + 200 * i);
		HEQ(o.opt.sack[0].right, b + 200 * i + 100);
		HEQ(o.opt.nsack, i < 3 ? i : 3);
	}
	/* a duplicate of an old island: its block first */
	h_peer_send(&p, TH_ACK, b + 200, p.rcv_nxt, data + 200, 100);
	h_peer_next(&p, &o);
	HEQ(o.opt.sack[0].left, b + 200);
	HEQ(o.opt.nsack, 3);
}

/* Without SACK: a duplicate ACK at once, no option. */
HTEST(tcp_data, ooo_no_sack)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = open_default(&p, &H_OPT_MSS, 100);

	h_pattern(data, 300, 0);
	h_peer_send(&p, TH_ACK, 201, p.rcv_nxt, data + 100, 200);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, 101);
	HEQ(o.optlen, 0);
	h_peer_data(&p, data, 100);
	h_peer_next(&p, &o);
	HEQ(o.ack, 401);
	HEQ(tcp_recv(CTX, s, got, 1000), 300);
	HTRUE(memcmp(got, data, 300) == 0);
}

/* A FIN out of order is kept and takes effect when the hole is filled. */
HTEST(tcp_data, ooo_fin)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = open_default(&p, &H_OPT_SACK, 100);

	h_pattern(data, 300, 0);
	h_peer_send(&p, TH_ACK | TH_FIN, 201, p.rcv_nxt, data + 100, 200);
	h_peer_next(&p, &o);
	HEQ(o.ack, 101);
	HEQ(o.opt.nsack, 1);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	h_peer_data(&p, data, 100);
	h_peer_next(&p, &o);
	HEQ(o.ack, 402);   /* 300 bytes and the FIN */
	HEQ(TCB(s)->state, TCP_CLOSE_WAIT);
	HTRUE(h_events(s) & TEV_APP_PEER_FIN);
	HEQ(tcp_recv(CTX, s, got, 1000), 300);
	HTRUE(memcmp(got, data, 300) == 0);
}

/*
 * Nothing follows a FIN (RFC 9293 §3.10.7.4 eighth: RCV.NXT advances over the
 * FIN, at SEG.SEQ + SEG.LEN). A peer that sent data beyond its FIN out of
 * order: the FIN stays where it was sent, the bytes after it are not the
 * stream's and the ACK covers no sequence number the peer did not use (as
 * Linux's tcp_fin() drops its out-of-order queue). Before, the queue was
 * drained past the FIN, its bytes delivered and the FIN acknowledged at the
 * queue's end. Found by tests/fuzz/fuzz_tcp.c.
 */
HTEST(tcp_data, in_order_fin_ends_the_out_of_order_queue)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = open_default(&p, &H_OPT_SACK, 100);

	h_pattern(data, 400, 0);
	h_peer_send(&p, TH_ACK, 201, p.rcv_nxt, data + 100, 300);   /* [100, 400) */
	h_peer_next(&p, &o);
	HEQ(o.ack, 101);
	HEQ(o.opt.nsack, 1);
	h_peer_send(&p, TH_ACK | TH_FIN, 101, p.rcv_nxt, data, 150); /* [0, 150), FIN at 150 */
	h_peer_next(&p, &o);
	HEQ(o.ack, 101 + 150 + 1);
	HEQ(o.opt.nsack, 0);
	HEQ(TCB(s)->state, TCP_CLOSE_WAIT);
	HEQ(TCB(s)->rcv_nxt, 101 + 150 + 1);
	HTRUE(TCB(s)->ooo_head == NULL);
	HEQ(TCB(s)->ooo_segs, 0);
	HEQ(tcp_recv_avail(CTX, s), 150);
	HEQ(tcp_recv(CTX, s, got, 1000), 150);
	HTRUE(memcmp(got, data, 150) == 0);
}

/* The same with the FIN out of order too: a segment queued beyond it goes when the FIN comes in order. */
HTEST(tcp_data, ooo_fin_ends_the_out_of_order_queue)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = open_default(&p, &H_OPT_SACK, 100);

	h_pattern(data, 400, 0);
	h_peer_send(&p, TH_ACK | TH_FIN, 201, p.rcv_nxt, data + 100, 100); /* [100, 200), FIN at 200 */
	h_peer_next(&p, &o);
	h_peer_send(&p, TH_ACK, 302, p.rcv_nxt, data + 201, 99);          /* [201, 300): past the FIN */
	h_peer_next(&p, &o);
	h_peer_data(&p, data, 100);                                       /* [0, 100) */
	h_peer_next(&p, &o);
	HEQ(o.ack, 101 + 200 + 1);
	HEQ(o.opt.nsack, 0);
	HEQ(TCB(s)->state, TCP_CLOSE_WAIT);
	HTRUE(TCB(s)->ooo_head == NULL);
	HEQ(TCB(s)->ooo_segs, 0);
	HEQ(tcp_recv(CTX, s, got, 1000), 200);
	HTRUE(memcmp(got, data, 200) == 0);
}

/* Data past the advertised window is cut to the window (RFC 9293 §3.10.7.4 seventh). */
HTEST(tcp_data, beyond_window)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	PRM->rcv_buf = 8192;
	s = open_default(&p, &H_OPT_MSS, 100);
	HEQ(TCB(s)->rcv_adv, 101 + 8192);
	h_pattern(data, 9000, 0);
	for (int i = 0; i < 5; i++)
		h_peer_data(&p, data + 1460 * i, 1460);
	h_peer_data(&p, data + 7300, 792);
	h_drain();
	HEQ(TCB(s)->rcv_nxt, 101 + 8092);
	HEQ(TCB(s)->rcv_adv, 101 + 8192);     /* the right edge never moves left */
	h_peer_data(&p, data + 8092, 800);
	h_peer_next(&p, &o);
	HEQ(o.ack, 101 + 8192);
	HEQ(o.wnd, 0);
	HEQ(AREA->drops[TDROP_RCV_BUF_FULL], 1);
	HEQ(tcp_recv(CTX, s, got, sizeof(got)), 8192);
	HTRUE(memcmp(got, data, 8192) == 0);
	/* a zero-window probe is answered, not queued */
	h_peer_send(&p, TH_ACK, 101 + 8192, p.rcv_nxt, data, 1);
	h_drain();
	HEQ(tcp_recv_avail(CTX, s), 1);   /* the window opened by the read takes it */
}

/* The app reading opens the window: a window update is sent. */
HTEST(tcp_data, window_update_on_read)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	PRM->rcv_buf = 8192;
	s = open_default(&p, &H_OPT_MSS, 100);
	h_pattern(data, 8192, 0);
	for (int i = 0; i < 5; i++)
		h_peer_data(&p, data + 1460 * i, 1460);
	h_peer_data(&p, data + 7300, 892);
	while (h_pending())
		h_peer_next(&p, &o);
	HEQ(o.ack, 101 + 8192);
	HEQ(o.wnd, 0);
	HEQ(tcp_recv(CTX, s, got, 4096), 4096);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, 101 + 8192);
	HEQ(o.wnd, 4096);
	HTRUE(memcmp(got, data, 4096) == 0);
}

/* ==== delayed ACK =========================================================== */

/* One full segment: the ACK comes delack_ms later (within one wheel tick), not before. */
static void delack_one(uint32_t skew)
{
	struct h_peer p;
	struct h_out o;
	uint32_t t0, fired = 0;

	open_default(&p, &H_OPT_ALL, 100);
	h_advance(skew);
	t0 = h_now();
	h_pattern(data, 1448, 0);
	h_peer_data(&p, data, 1448);
	h_none();
	HTRUE(TCB(p.s)->flags & TF(DELACK));
	for (uint32_t i = 0; i < 200 && !fired; i++) {
		h_advance(1);
		if (h_pending())
			fired = h_now();
	}
	cr_assert(fired, "no delayed ACK within 200 ms (skew %u)", skew);
	cr_assert(fired >= t0 + 40 && fired < t0 + 40 + TCP_TICK_MS,
		  "delayed ACK at +%u ms, expected +40 (skew %u)", fired - t0, skew);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.ack, p.snd_nxt);
	h_none();
}

HTEST(tcp_delack, one_segment_aligned)
{
	delack_one(0);
}

HTEST(tcp_delack, one_segment_skew1)
{
	delack_one(1);
}

HTEST(tcp_delack, one_segment_skew2)
{
	delack_one(2);
}

HTEST(tcp_delack, one_segment_skew3)
{
	delack_one(3);
}

/* Two full segments: ACK at once (RFC 5681 §4.2). */
HTEST(tcp_delack, two_segments)
{
	struct h_peer p;

	open_default(&p, &H_OPT_ALL, 100);
	h_pattern(data, 2896, 0);
	h_peer_data(&p, data, 1448);
	h_none();
	h_peer_data(&p, data + 1448, 1448);
	expect_ack(&p, 101 + 2896);
	HTRUE(!(TCB(p.s)->flags & TF(DELACK)));
	h_advance(100);
	h_none();   /* the delayed-ACK timer owes nothing any more */
}

/* Our own data piggybacks the owed ACK. */
HTEST(tcp_delack, piggyback)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = open_default(&p, &H_OPT_ALL, 100);

	h_pattern(data, 1448, 0);
	h_peer_data(&p, data, 1448);
	h_none();
	h_advance(10);
	HEQ(tcp_send(CTX, s, "reply", 5), 5);
	h_peer_next(&p, &o);
	HEQ(o.ack, 101 + 1448);
	HEQ(o.len, 5);
	h_advance(100);
	h_none();
}

/* delack_ms = 0: every segment is ACKed at once. */
HTEST(tcp_delack, disabled)
{
	struct h_peer p;

	PRM->delack_ms = 0;
	open_default(&p, &H_OPT_ALL, 100);
	h_pattern(data, 1448, 0);
	h_peer_data(&p, data, 1448);
	expect_ack(&p, 101 + 1448);
}

/* The default for short segments (a request): the ACK waits delayed_ack_short_ms
 * and rides on the answer when the application answers in time. */
HTEST(tcp_delack, short_segment_ack_rides_on_the_answer)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	PRM->delack_short_ms = 4;
	s = open_default(&p, &H_OPT_ALL, 100);
	h_peer_data(&p, "GET / HTTP/1.1\r\n\r\n", 18);
	h_none();                                   /* no pure ACK */
	HEQ(tcp_recv(CTX, s, got, sizeof(got)), 18);
	h_none();                                   /* reading a little sends no window update */
	HEQ(tcp_send(CTX, s, "HTTP/1.1 200 OK\r\n\r\n", 19), 19);
	h_peer_next(&p, &o);                        /* the answer carries the ACK */
	HEQ(o.len, 19);
	HEQ(o.ack, 101 + 18);
	h_advance(100);
	h_none();                                   /* and no late pure ACK follows */
}

/* No answer: the short segment's ACK goes after delayed_ack_short_ms, not delayed_ack_ms. */
HTEST(tcp_delack, short_segment_ack_after_short_delay)
{
	struct h_peer p;

	PRM->delack_short_ms = 4;
	open_default(&p, &H_OPT_ALL, 100);
	h_peer_data(&p, "ping", 4);
	h_none();
	h_advance(2);
	h_none();
	h_advance(TCP_TICK_MS + 4);
	expect_ack(&p, 105);
}

/* Two short segments: the second is ACKed at once (RFC 5681 §4.2: every second segment). */
HTEST(tcp_delack, second_short_segment_acked_at_once)
{
	struct h_peer p;

	PRM->delack_short_ms = 4;
	open_default(&p, &H_OPT_ALL, 100);
	h_peer_data(&p, "a", 1);
	h_none();
	h_peer_data(&p, "b", 1);
	expect_ack(&p, 103);
}

/* ==== sequence-number wrap ================================================== */

/* The peer's ISN just below 2^32: data across the wrap, in and out of order. */
HTEST(tcp_wrap, receive)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = open_default(&p, &H_OPT_SACK, 0xfffffff0);

	HEQ(p.snd_nxt, 0xfffffff1);
	h_pattern(data, 3000, 0);
	h_peer_data(&p, data, 100);            /* 0xfffffff1 .. 0x55 */
	expect_ack(&p, 0x55);
	/* out of order across nothing, then the hole */
	h_peer_send(&p, TH_ACK, 0x55 + 1000, p.rcv_nxt, data + 1100, 500);
	h_peer_next(&p, &o);
	HEQ(o.ack, 0x55);
	HEQ(o.opt.sack[0].left, 0x55 + 1000);
	HEQ(o.opt.sack[0].right, 0x55 + 1500);
	h_peer_send(&p, TH_ACK, 0x55, p.rcv_nxt, data + 100, 1000);
	h_peer_next(&p, &o);
	HEQ(o.ack, 0x55 + 1500);
	HEQ(tcp_recv(CTX, s, got, sizeof(got)), 1600);
	HTRUE(memcmp(got, data, 1600) == 0);
}

/* Out-of-order data on both sides of the wrap. */
HTEST(tcp_wrap, receive_ooo_across)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s = open_default(&p, &H_OPT_SACK, 0xfffffc00);
	uint32_t b = p.snd_nxt;   /* 0xfffffc01: the wrap is 1023 bytes in */

	h_pattern(data, 3000, 0);
	h_peer_send(&p, TH_ACK, b + 1000, p.rcv_nxt, data + 1000, 1000);   /* spans the wrap */
	h_peer_next(&p, &o);
	HEQ(o.ack, b);
	HEQ(o.opt.sack[0].left, b + 1000);
	HEQ(o.opt.sack[0].right, b + 2000);
	h_peer_send(&p, TH_ACK, b, p.rcv_nxt, data, 1000);
	h_peer_next(&p, &o);
	HEQ(o.ack, b + 2000);
	HEQ(o.ack, 0x3d1);
	HEQ(tcp_recv(CTX, s, got, sizeof(got)), 2000);
	HTRUE(memcmp(got, data, 2000) == 0);
}

/* Our ISS just below 2^32 (chosen through the ISN key): data sent across the wrap. */
HTEST(tcp_wrap, send)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s, una, total = 0;

	h_iss_key_for(H_LOCAL_IP, H_TEST_PORT, H_PEER_IP, H_PEER_PORT, 0xfffff000, 0xfffffc00);
	s = open_default(&p, &H_OPT_MSS, 1);
	HTRUE(p.iss >= 0xfffff000);
	h_pattern(data, 20000, 0);
	HEQ(tcp_send(CTX, s, data, 20000), 20000);
	una = p.iss + 1;
	while (total < 20000) {
		uint32_t sent = 0;

		while (h_pending()) {
			h_peer_next(&p, &o);
			HEQ(o.seq, una + total + sent);
			HTRUE(memcmp(o.payload, data + total + sent, o.len) == 0);
			sent += o.len;
		}
		cr_assert(sent > 0, "stalled at %u bytes", total);
		total += sent;
		h_peer_ack(&p, una + total);
		HEQ(TCB(s)->snd_una, una + total);
	}
	HEQ(total, 20000);
	HEQ(TCB(s)->snd_una, p.iss + 1 + 20000);
	HTRUE(TCB(s)->snd_una < 0x10000);   /* wrapped */
	HEQ(TCB(s)->snd_bytes, 0);
	h_none();
}

/* ==== services ============================================================== */

/* RFC 862: data echoed; the peer's FIN echoed after the data. */
HTEST(tcp_apps, echo)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_ECHO_PORT, H_PEER_PORT, 0x1000);
	s = h_open_passive(&p, &H_OPT_ALL);
	HEQ(TCB(s)->app, TAPP_ECHO);
	h_peer_data(&p, "hello", 5);
	h_peer_next(&p, &o);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.ack, 0x1006);
	HEQ(o.len, 5);
	HTRUE(memcmp(o.payload, "hello", 5) == 0);
	h_none();
	p.rcv_nxt += 5;
	h_peer_ack(&p, p.rcv_nxt);

	/* data and FIN together: the data comes back, then our FIN */
	h_peer_send(&p, TH_ACK | TH_PSH | TH_FIN, p.snd_nxt, p.rcv_nxt, "bye", 3);
	p.snd_nxt += 4;
	{
		uint32_t seq = p.rcv_nxt, n = 0;
		bool fin = false;

		while (h_pending()) {
			h_peer_next(&p, &o);
			cr_assert(!fin, "segment after our FIN");
			HEQ(o.seq, seq + n);
			HEQ(o.ack, 0x100a);
			HTRUE(memcmp(o.payload, "bye" + n, o.len) == 0);
			n += o.len;
			if (o.flags & TH_FIN) {
				HEQ(n, 3);
				fin = true;
			}
		}
		HTRUE(fin);
		HEQ(n, 3);
		HEQ(TCB(s)->state, TCP_LAST_ACK);
		h_peer_ack(&p, seq + 4);
	}
	HEQ(TCB(s)->state, TCP_CLOSED);
	HEQ(AREA->live, 0);
}

/* Echo of more than the send buffer takes: the rest follows as ACKs free space. */
HTEST(tcp_apps, echo_bulk)
{
	struct h_peer p;
	struct h_out o;
	uint32_t got_n = 0, off = 0;

	PRM->snd_buf = 4096;
	h_peer_init(&p, H_ECHO_PORT, H_PEER_PORT, 0x1000);
	h_open_passive(&p, &H_OPT_MSS);
	h_pattern(data, 20000, 0);
	for (int round = 0; round < 200 && got_n < 20000; round++) {
		if (off < 20000 && seq_geq(p.snd_nxt, TCB(p.s)->rcv_nxt)) {
			uint32_t n = 20000 - off < 1460 ? 20000 - off : 1460;

			h_peer_send(&p, TH_ACK, p.snd_nxt, p.rcv_nxt, data + off, n);
			if (TCB(p.s)->rcv_nxt == p.snd_nxt + n) {
				p.snd_nxt += n;
				off += n;
			}
		}
		while (h_pending()) {
			h_peer_next(&p, &o);
			if (o.len) {
				HEQ(o.seq, p.iss + 1 + got_n);
				HTRUE(memcmp(o.payload, data + got_n, o.len) == 0);
				got_n += o.len;
			}
		}
		p.rcv_nxt = p.iss + 1 + got_n;
		h_peer_ack(&p, p.rcv_nxt);
		while (h_pending()) {
			h_peer_next(&p, &o);
			if (o.len) {
				HEQ(o.seq, p.iss + 1 + got_n);
				HTRUE(memcmp(o.payload, data + got_n, o.len) == 0);
				got_n += o.len;
			}
		}
		p.rcv_nxt = p.iss + 1 + got_n;
	}
	HEQ(got_n, 20000);
}

/* RFC 863: discarded; the FIN is answered with ours. */
HTEST(tcp_apps, discard)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	h_peer_init(&p, H_DISCARD_PORT, H_PEER_PORT, 0x1000);
	s = h_open_passive(&p, &H_OPT_ALL);
	h_peer_data(&p, "junk", 4);
	h_peer_next(&p, &o);
	HEQ(o.len, 0);
	HEQ(o.ack, 0x1005);
	HEQ(tcp_recv_avail(CTX, s), 0);
	h_peer_fin(&p);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_FIN | TH_ACK);
	HEQ(o.seq, p.iss + 1);
	HEQ(o.ack, 0x1006);
	h_none();
	h_peer_ack(&p, p.iss + 2);
	HEQ(AREA->live, 0);
}

/*
 * A retransmission that fills the hole and covers the first queued
 * out-of-order segment whole: the covered one is dropped, the one behind it
 * is kept, and the echo returns every byte once, in order.
 */
HTEST(tcp_apps, echo_retransmission_covers_ooo)
{
	struct h_peer p;
	struct h_out o;
	uint8_t b[2004], got[4096];
	uint32_t n = 0, x;

	h_peer_init(&p, H_ECHO_PORT, H_PEER_PORT, 0x1000);
	h_open_passive(&p, &H_OPT_ALL);
	h_pattern(b, sizeof(b), 0);
	x = p.snd_nxt;
	h_peer_send(&p, TH_ACK | TH_PSH, x + 4, p.rcv_nxt, b + 4, 1000);
	h_peer_send(&p, TH_ACK | TH_PSH, x + 1004, p.rcv_nxt, b + 1004, 1000);
	h_drain();
	h_peer_send(&p, TH_ACK | TH_PSH, x, p.rcv_nxt, b, 1004);
	p.snd_nxt = x + 2004;
	while (h_pending()) {
		h_peer_next(&p, &o);
		if (o.len) {
			HEQ(o.seq, p.rcv_nxt + n);
			memcpy(got + n, o.payload, o.len);
			n += o.len;
		}
		HEQ(o.ack, x + 2004);
	}
	HEQ(n, 2004);
	HTRUE(memcmp(got, b, 2004) == 0);
	p.rcv_nxt += n;
	h_peer_ack(&p, p.rcv_nxt);
}
