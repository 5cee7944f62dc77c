/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp: pacing and rate limits (tcp_pace.c). A paced stream's
 * window leaves spread over its round trip, not at once; a stream with a
 * byte-rate limit sends at that rate and no faster, whatever its window; the
 * departure time survives nonsense (a stale or garbled value means "now");
 * a limited stream's advertised window and send room stay small.
 */
#include "tests/unit/tcp_harness.h"

#include <string.h>

#include "shm/rate.h"

HSUITE(tcp_pace);

static uint8_t data[1 << 20];

static uint32_t open_peer_opts(struct h_peer *p, uint16_t rport, const struct h_synopt *so)
{
	uint32_t s;

	h_peer_init(p, H_TEST_PORT, rport, 0x1000);
	s = h_open_passive(p, so);
	h_clear_events();
	return s;
}

static uint32_t open_peer(struct h_peer *p, uint16_t rport)
{
	return open_peer_opts(p, rport, &H_OPT_ALL);
}

/* A stream limited to RATE bytes/s, with tcp.pacing PACING. */
static uint32_t open_limited(struct h_peer *p, uint16_t rport, uint64_t rate, int pacing)
{
	uint32_t s;

	PRM->pacing = pacing;
	s = open_peer(p, rport);
	tcp_set_rate(CTX, s, rate);
	return s;
}

/*
 * Run MS milliseconds: every segment the stack sends is counted in
 * per_ms[the ms it left in] (if given) and acknowledged at once by the peer.
 * Returns the payload bytes sent.
 */
static uint64_t pump(struct h_peer *p, uint32_t ms, uint32_t *per_ms)
{
	uint64_t total = 0;

	if (ms == 0) {   /* only what is pending: answer it, no time passes */
		struct h_out o;

		while (h_pending()) {
			h_peer_next(p, &o);
			total += o.len;
			if (o.len)
				h_peer_ack(p, o.seq + o.len);
		}
		return total;
	}
	for (uint32_t i = 0; i < ms; i++) {
		struct h_out o;

		while (h_pending()) {
			h_peer_next(p, &o);
			total += o.len;
			if (per_ms)
				per_ms[i] += o.len;
			if (o.len)
				h_peer_ack(p, o.seq + o.len);
		}
		h_advance(1);
	}
	return total;
}

/* Queue as much of DATA as the stream's send room takes, LEFT bytes at most. */
static uint64_t feed(uint32_t s, uint64_t left)
{
	uint32_t room = tcp_send_space(CTX, s), n = left < room ? (uint32_t)left : room;

	if (n > sizeof(data))
		n = sizeof(data);
	return n ? (uint64_t)tcp_send(CTX, s, data, n) : 0;
}

HTEST(tcp_pace, a_rate_limited_stream_sends_at_its_rate)
{
	static uint32_t per_ms[3000];
	const uint64_t rate = 200000;   /* bytes per second */
	struct h_peer p;
	uint64_t queued = 0, sent = 0, worst = 0;
	uint32_t s;

	s = open_limited(&p, 41001, rate, 0);   /* a limit holds without tcp.pacing */
	HEQ(tcp_rate(CTX, s), rate);
	memset(per_ms, 0, sizeof(per_ms));
	for (uint32_t i = 0; i < 3000; i++) {
		queued += feed(s, UINT64_MAX);
		sent += pump(&p, 1, &per_ms[i]);
	}
	/* 3 s at 200 kB/s: 600 kB, within one segment and the horizon's millisecond */
	cr_assert(sent >= 600000 - 1448 * 2 && sent <= 600000 + 1448 * 2, "sent %llu", (unsigned long long)sent);
	HTRUE(queued > sent);           /* there was always more to send: the limit held it back */
	/* and evenly: no 100 ms window carries more than 100 ms of the rate, plus one segment and the horizon */
	for (uint32_t i = 0; i + 100 <= 3000; i++) {
		uint64_t w = 0;

		for (uint32_t k = i; k < i + 100; k++)
			w += per_ms[k];
		if (w > worst)
			worst = w;
	}
	HTRUE(worst <= rate / 10 + 1448 + rate / 1000 + 1448);
	HEQ(TCB(s)->retransmits, 0);
	HEQ(CTX->more[TMORE_RATE_LIMITED], 1);
	HTRUE(CTX->more[TMORE_PACED] > 0);
}

/*
 * The slowest limit (4000 B/s: a 1448-byte segment costs 362 ms) stays exact:
 * no pairs at such gaps (tcp_pace.c pair_gap), so no segment's cost is cut at
 * the 480 ms pace_at can hold.
 */
HTEST(tcp_pace, the_slowest_limit_is_exact)
{
	struct h_peer p;
	uint64_t sent = 0;
	uint32_t s;

	s = open_limited(&p, 41010, 4000, 1);
	HEQ(porter_rate_bps(TCB(s)->rate), 4000);
	for (uint32_t i = 0; i < 20000; i++) {
		feed(s, UINT64_MAX);
		sent += pump(&p, 1, NULL);
	}
	/* 20 s at 4000 B/s: 80 kB, within two segments */
	cr_assert(sent >= 80000 - 2 * 1448 && sent <= 80000 + 2 * 1448, "sent %llu", (unsigned long long)sent);
	HEQ(TCB(s)->retransmits, 0);
}

HTEST(tcp_pace, without_pacing_or_a_limit_the_window_leaves_at_once)
{
	struct h_peer p;
	uint32_t s, n = 0;
	struct h_out o;

	PRM->pacing = 0;
	s = open_peer(&p, 41002);
	TCB(s)->srtt_us = 50000;
	TCB(s)->cc.cwnd = 30 * 1448;
	TCB(s)->cc.ssthresh = 1u << 30;
	feed(s, 30 * 1448);
	while (h_pending()) {
		h_peer_next(&p, &o);
		n += o.len ? 1 : 0;
	}
	HEQ(n, 30);
}

/* 30 segments of cwnd, SRTT 50 ms, slow start: 2 x cwnd / SRTT, so the flight takes about 25 ms. */
HTEST(tcp_pace, pacing_spreads_the_window_over_the_round_trip)
{
	static uint32_t per_ms[100];
	struct h_peer p;
	uint32_t s, first = 100, last = 0, segs = 0;
	struct h_out o;

	PRM->pacing = 1;
	s = open_peer(&p, 41003);
	TCB(s)->srtt_us = 50000;
	TCB(s)->cc.cwnd = 30 * 1448;
	TCB(s)->cc.ssthresh = 1u << 30;
	HEQ(tcp_pace_rate(CTX, TCB(s)), 2ull * 30 * 1448 * 1000000 / 50000);
	memset(per_ms, 0, sizeof(per_ms));
	feed(s, 30 * 1448);
	for (uint32_t i = 0; i < 100; i++) {
		while (h_pending()) {
			h_peer_next(&p, &o);   /* no ACK: the flight is the window */
			if (o.len) {
				per_ms[i] += o.len;
				segs++;
				first = first < i ? first : i;
				last = i;
			}
		}
		h_advance(1);
	}
	HEQ(segs, 30);
	HEQ(first, 0);
	/* 30 segments at 1.737 MB/s: 0.83 ms apart, the last about 24 ms after the first */
	HTRUE(last >= 22 && last <= 26);
	for (uint32_t i = 0; i < 100; i++)
		HTRUE(per_ms[i] <= 3 * 1448);   /* the horizon's ms and one segment: never a burst */
}

/*
 * Held segments leave in pairs (tcp_pace_hold): 20 segments of cwnd at an
 * SRTT of 200 ms pace at 1.2 x cwnd / SRTT, 6.9 ms a segment; they go two at
 * a time, about 13.8 ms apart, so a receiver ACKs each pair at once instead
 * of holding the ACK of a lone segment. The average rate stays the pacing rate.
 */
HTEST(tcp_pace, held_segments_leave_in_pairs)
{
	static uint32_t per_ms[400];
	struct h_peer p;
	uint32_t s, segs = 0, last = 0, pairs = 0, lone = 0, next;
	struct h_out o;

	PRM->pacing = 1;
	s = open_peer(&p, 41008);
	next = TCB(s)->snd_max;
	TCB(s)->srtt_us = 200000;
	TCB(s)->cc.cwnd = 20 * 1448;
	TCB(s)->cc.ssthresh = 20 * 1448;      /* congestion avoidance: 1.2 x cwnd / SRTT */
	memset(per_ms, 0, sizeof(per_ms));
	feed(s, 20 * 1448);
	for (uint32_t i = 0; i < 400; i++) {
		while (h_pending()) {
			h_peer_next(&p, &o);   /* no ACK: the flight is the window */
			if (o.len && o.seq == next) {   /* new data (not the timeout's resend at the end) */
				next += o.len;
				per_ms[i]++;
				segs++;
				last = i;
			}
		}
		h_advance(1);
	}
	HEQ(segs, 20);
	for (uint32_t i = 1; i < 400; i++) {     /* after the first millisecond's burst (the horizon) */
		pairs += per_ms[i] == 2;
		lone += per_ms[i] == 1;
		HTRUE(per_ms[i] <= 2);
	}
	HTRUE(pairs >= 7 && lone <= 1);
	/* 20 segments at 1.2 x 20 x 1448 B / 200 ms = 174 kB/s: about 6.9 ms each, 166 ms in all */
	HTRUE(last >= 150 && last <= 170);
}

/* A window of the initial window's size or less is not paced, however long the SRTT; a limit still is. */
HTEST(tcp_pace, small_windows_are_not_paced)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s, n = 0;

	PRM->pacing = 1;
	s = open_peer(&p, 41011);
	TCB(s)->srtt_us = 200000;              /* swollen by delayed ACKs, say */
	TCB(s)->cc.cwnd = 10 * TCB(s)->mss;
	TCB(s)->cc.ssthresh = 1u << 30;
	HEQ(tcp_pace_rate(CTX, TCB(s)), 0);
	feed(s, 10 * TCB(s)->mss);
	while (h_pending()) {                  /* all ten at once, no time passing */
		h_peer_next(&p, &o);
		n += o.len > 0;
	}
	HEQ(n, 10);
	HEQ(H.more[TMORE_PACED], 0);
	TCB(s)->cc.cwnd = 11 * TCB(s)->mss;    /* one more: paced (2 x cwnd / SRTT in slow start) */
	HEQ(tcp_pace_rate(CTX, TCB(s)), 2ull * 11 * TCB(s)->mss * 1000000 / 200000);
	TCB(s)->cc.cwnd = 4 * TCB(s)->mss;
	tcp_set_rate(CTX, s, 100000);          /* a limit holds whatever the window */
	HEQ(tcp_pace_rate(CTX, TCB(s)), porter_rate_bps(TCB(s)->rate));
	HTRUE(tcp_pace_rate(CTX, TCB(s)) >= 99000 && tcp_pace_rate(CTX, TCB(s)) <= 101000);
}

/* A departure time far ahead (an old worker's field, a garbled value) is stale: the segment goes now. */
HTEST(tcp_pace, a_stale_departure_time_means_now)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	s = open_limited(&p, 41004, 100000, 1);
	TCB(s)->cc.pace_at = (uint16_t)(CTX->now_us / TCP_PACE_UNIT_US + 20000);   /* 320 ms ahead */
	feed(s, 1000);
	HTRUE(h_pending() > 0);
	h_peer_next(&p, &o);
	HEQ(o.len, 1000);
	/* and one just ahead is honoured: the second of the pair goes at once (tcp_pace_hold),
	 * the third waits: 2 x 10 ms charged (1000 B at 100 kB/s), held until that is within
	 * the horizon and a full segment's gap (1 + 14.5 ms), so about 4.5 ms */
	feed(s, 1000);
	HTRUE(h_pending() > 0);
	h_peer_next(&p, &o);
	HEQ(o.len, 1000);
	feed(s, 1000);
	HEQ(h_pending(), 0);
	HTRUE(TCB(s)->srtt_us != 0);           /* so a probe timer is armed at all (tcp_pto_allowed) */
	HTRUE(h_wait_out(50) >= 4);
	/* the third itself, new data: no tail loss probe fired during the hold (its timer
	 * starts after the pacing delay) to resend the second early */
	h_peer_next(&p, &o);
	HEQ(o.len, 1000);
	HEQ(o.seq, p.iss + 1 + 2000);
	HEQ(AREA->events[TEV_TLP], 0);
	h_none();
}

/* A limited stream advertises about twice the rate times the SRTT (at least 50 ms of the rate, 4 segments). */
HTEST(tcp_pace, a_limited_stream_keeps_its_window_and_send_room_small)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s, wnd_before, wnd_after;

	s = open_peer(&p, 41005);
	h_peer_data(&p, data, 100);
	h_wait_out(100);
	h_peer_next(&p, &o);
	wnd_before = (uint32_t)o.wnd << TCB(s)->rcv_wscale;
	HEQ(tcp_send_space(CTX, s), PRM->snd_buf);
	tcp_set_rate(CTX, s, 500000);
	TCB(s)->srtt_us = 40000;
	/* 2 x 500 kB/s x 40 ms = 40 kB (above 50 ms of the rate, 25 kB): the send room at once,
	 * the window once the edge may move */
	HEQ(tcp_send_space(CTX, s), 40000);
	TCB(s)->srtt_us = 10000;
	HEQ(tcp_send_space(CTX, s), 25000);
	/* the window never shrinks (RFC 9293 §3.8.6.2.2): it closes to the new size as the
	 * peer fills the edge it was offered, the application reading as it goes */
	tcp_recv(CTX, s, NULL, 100);
	for (uint32_t k = 0; k < 300; k++) {
		h_peer_data(&p, data, 1000);
		tcp_recv(CTX, s, NULL, 1000);
	}
	h_wait_out(100);
	while (h_pending())
		h_peer_next(&p, &o);
	wnd_after = (uint32_t)o.wnd << TCB(s)->rcv_wscale;
	HTRUE(wnd_before >= 100000);
	cr_assert(wnd_after <= 25000 && wnd_after >= 4 * 1000, "window %u", wnd_after);
	HTRUE(TCB(s)->retransmits == 0);
}

/* shm/rate.h: the 16-bit form keeps 1000 B/s steps up to 4,095,000 and 1/2048 above. */
HTEST(tcp_pace, rates_survive_their_16_bit_form)
{
	HEQ(porter_rate16(0), 0);
	HEQ(porter_rate_bps(porter_rate16(0)), 0);
	HEQ(porter_rate_bps(porter_rate16(2000000)), 2000000);
	HEQ(porter_rate_bps(porter_rate16(4095000)), 4095000);
	for (uint64_t r = PORTER_RATE_MIN; r < PORTER_RATE_MAX / 2; r = r * 3 / 2 + 7) {
		uint64_t back = porter_rate_bps(porter_rate16(r));
		uint64_t err = back > r ? back - r : r - back;

		cr_assert(back != 0 && (err <= 500 || err * 2048 <= r), "%llu -> %llu", (unsigned long long)r,
			  (unsigned long long)back);
	}
	HEQ(porter_rate_bps(porter_rate16(PORTER_RATE_MAX)), PORTER_RATE_MAX);
}

/*
 * A segment that leaves less than a segment of the offered window is
 * acknowledged at once: its sender can send nothing more until then (a
 * window-limited sender, as a rate-limited stream's peer is, would otherwise
 * stall for the delayed ACK and fire its tail loss probe).
 */
HTEST(tcp_pace, a_segment_that_fills_the_window_is_acked_at_once)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s;

	PRM->rcv_buf = 7 * 1460 + 730;
	PRM->delack_ms = 40;
	s = open_peer(&p, 41006);
	(void)s;
	for (unsigned int i = 0; i < 7; i++) {
		h_peer_data(&p, data, 1460);
		if (i % 2 == 1) {          /* every second full segment: at once anyway */
			h_peer_next(&p, &o);
			HEQ(o.len, 0);
		}
	}
	/* the 7th (odd) left 730 bytes of window: acknowledged now, not in 40 ms */
	HEQ(h_pending(), 1);
	h_peer_next(&p, &o);
	HEQ(o.ack, p.snd_nxt);
}

/*
 * A stream held by pacing that also receives (an echo, a proxy's client
 * uploading while it downloads) keeps its departure deadline: the ACKs it
 * sends for what it receives do not cancel it (they did: delack_at is both),
 * and a delayed ACK's later deadline does not replace it.
 */
HTEST(tcp_pace, receiving_does_not_cancel_the_departure_deadline)
{
	struct h_peer p;
	struct h_out o;
	uint32_t s, sent = 0;

	PRM->pacing = 0;
	PRM->delack_ms = 0;                          /* what the peer sends is acknowledged at once */
	s = open_peer(&p, 41007);
	tcp_set_rate(CTX, s, 100000);                /* 1448 B every 14.5 ms */
	for (unsigned int i = 0; i < 100; i++) {
		feed(s, UINT64_MAX);
		if (i == 2)
			h_peer_data(&p, data, 1000);  /* once, while the stream waits for its departure */
		while (h_pending()) {
			h_peer_next(&p, &o);
			sent += o.len;
			if (o.len) {                      /* the peer acknowledges each data segment */
				p.rcv_nxt = o.seq + o.len;
				h_peer_ack(&p, p.rcv_nxt);
			}
		}
		h_advance(1);
	}
	/* 100 ms at 100 kB/s: 10 kB, give or take a segment */
	cr_assert(sent >= 8000 && sent <= 12000 + 1448, "sent %u in 100 ms", sent);
}

/*
 * A limited stream of a peer without window scaling: its window opens by a
 * quarter of what 16 bits can advertise, not of its (larger) buffer, which it
 * could never offer: a step above 65535 held the window at zero for good.
 */
HTEST(tcp_pace, a_limited_window_without_scaling_still_opens)
{
	struct h_peer p;
	uint32_t s, w;

	s = open_peer_opts(&p, 41008, &H_OPT_SACK);   /* no window scaling */
	tcp_set_rate(CTX, s, 10000000);               /* 50 ms of it: 500 kB, above the 256 KiB buffer */
	while (TCB(s)->rcv_adv != TCB(s)->rcv_nxt) {
		uint32_t left = TCB(s)->rcv_adv - TCB(s)->rcv_nxt;

		h_peer_data(&p, data, left < 1460 ? left : 1460);
		h_drain();
	}
	HEQ(tcp_rcv_window(CTX, TCB(s)), 0);
	tcp_recv(CTX, s, NULL, TCB(s)->rcv_bytes);
	w = tcp_rcv_window(CTX, TCB(s));
	cr_assert(w >= 65535 / 4, "window %u after the application read everything", w);
}

/*
 * A worker that runs its timers late (a busy host) still holds the stream to
 * its rate, not below it: a late stream keeps up to 4 ms of credit.
 */
HTEST(tcp_pace, a_late_worker_keeps_the_rate)
{
	struct h_peer p;
	uint64_t sent = 0;
	uint32_t s;

	s = open_limited(&p, 41009, 2000000, 0);
	for (uint32_t t = 0; t < 3000; t += 3) {      /* 3 s, the timers every 3 ms */
		feed(s, UINT64_MAX);
		sent += pump(&p, 0, NULL);
		CTX->now_ms += 3;                     /* one late run of the timers, not three on time */
		CTX->now_us += 3000;
		tcp_timers(CTX);
		sent += pump(&p, 0, NULL);
		h_clear_events();
	}
	cr_assert(sent >= 6000000 * 97 / 100 && sent <= 6000000 + 4 * 1448 + 8000, "sent %llu in 3 s",
		  (unsigned long long)sent);
}
