/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp: deferred output inside a burst (tcp_batch_begin/flush).
 * Every case is checked against the same traffic without a batch, so a
 * batch that changed nothing would fail.
 */
#include "tests/unit/tcp_harness.h"

#include <string.h>

HSUITE(tcp_batch);

static uint8_t data[65536];

static uint32_t open_default(struct h_peer *p)
{
	uint32_t s;

	h_peer_init(p, H_TEST_PORT, H_PEER_PORT, 1000);
	s = h_open_passive(p, &H_OPT_ALL);
	h_clear_events();
	return s;
}

/* Count what was sent: pure ACKs and data segments; the last ACK number in *LAST_ACK. */
static void count_out(struct h_peer *p, unsigned int *acks, unsigned int *segs, uint32_t *last_ack)
{
	struct h_out o;

	*acks = *segs = 0;
	while (h_pending()) {
		h_peer_next(p, &o);
		if (o.len)
			(*segs)++;
		else
			(*acks)++;
		*last_ack = o.ack;
	}
}

/* Four full segments: every second one is ACKed at once without a batch, one ACK with it. */
HTEST(tcp_batch, one_ack_for_a_burst)
{
	struct h_peer p;
	uint32_t s = open_default(&p), last = 0;
	unsigned int acks, segs;
	uint32_t mss = TCB(s)->mss;

	h_pattern(data, 8 * mss, 0);
	for (int i = 0; i < 4; i++)
		h_peer_data(&p, data + i * mss, mss);
	count_out(&p, &acks, &segs, &last);
	HEQ(acks, 2);                     /* the reference: RFC 5681 every second segment */
	HEQ(last, 1001 + 4 * mss);

	HEQ(tcp_batch_begin(CTX), 0);
	for (int i = 4; i < 8; i++)
		h_peer_data(&p, data + i * mss, mss);
	h_none();                         /* nothing leaves inside the burst */
	tcp_batch_flush(CTX);
	count_out(&p, &acks, &segs, &last);
	HEQ(acks, 1);
	HEQ(segs, 0);
	HEQ(last, 1001 + 8 * mss);
	HEQ(AREA->op_stream, TCP_NIL);
	HEQ(tcp_recv(CTX, s, NULL, 8 * mss), 8 * mss);
	h_drain();
}

/* Two writes of the application: two segments (nodelay) without a batch, one with it. */
HTEST(tcp_batch, writes_coalesce)
{
	struct h_peer p;
	uint32_t s = open_default(&p), last = 0;
	unsigned int acks, segs;
	struct h_out o;

	HEQ(tcp_send(CTX, s, "head ", 5), 5);
	HEQ(tcp_send(CTX, s, "body", 4), 4);
	count_out(&p, &acks, &segs, &last);
	HEQ(segs, 2);
	h_peer_ack(&p, p.iss + 10);

	HEQ(tcp_batch_begin(CTX), 0);
	HEQ(tcp_send(CTX, s, "head ", 5), 5);
	HEQ(tcp_send(CTX, s, "body", 4), 4);
	h_none();
	tcp_batch_flush(CTX);
	h_peer_next(&p, &o);
	HEQ(o.len, 9);
	HTRUE(memcmp(o.payload, "head body", 9) == 0);
	h_none();
	h_peer_ack(&p, p.iss + 19);
	h_none();
}

/*
 * The application answers inside the event: the ACK rides on the answer (no pure ACK).
 * A batch's segments of one stream make one readable event, at the end of the burst:
 * the application takes both requests at once and answers once.
 */
static uint32_t reply_stream = TCP_NIL;
static unsigned int reply_events;
static uint32_t reply_got;
static void reply(uint32_t s, uint32_t ev)
{
	if (s == reply_stream && (ev & TEV_APP_READABLE)) {
		uint32_t n = tcp_recv_avail(CTX, s);

		reply_events++;
		reply_got += tcp_recv(CTX, s, NULL, n);
		tcp_send(CTX, s, "answer", 6);
	}
}

HTEST(tcp_batch, ack_rides_on_answer)
{
	struct h_peer p;
	uint32_t s = open_default(&p), last = 0;
	unsigned int acks, segs;
	uint32_t mss = TCB(s)->mss;

	reply_stream = s;
	reply_events = 0;
	reply_got = 0;
	H.on_event = reply;
	h_pattern(data, 4 * mss, 0);
	HEQ(tcp_batch_begin(CTX), 0);
	h_peer_data(&p, data, mss);
	h_peer_data(&p, data + mss, mss);
	HEQ(reply_events, 0);             /* nothing delivered inside the burst */
	tcp_batch_flush(CTX);
	HEQ(reply_events, 1);             /* one event for both segments */
	HEQ(reply_got, 2 * mss);
	count_out(&p, &acks, &segs, &last);
	HEQ(acks, 0);
	HEQ(segs, 1);                     /* the answer in one segment, ACKing both requests */
	HEQ(last, 1001 + 2 * mss);
	H.on_event = NULL;
	h_peer_ack(&p, p.iss + 7);
	h_none();
}

/* Out of order inside a batch: the duplicate ACK with SACK goes at once, per segment. */
HTEST(tcp_batch, out_of_order_acks_at_once)
{
	struct h_peer p;
	uint32_t s = open_default(&p);
	uint32_t mss = TCB(s)->mss;
	struct h_out o;

	h_pattern(data, 4 * mss, 0);
	HEQ(tcp_batch_begin(CTX), 0);
	p.snd_nxt += mss;                 /* the first segment is lost */
	h_peer_data(&p, data + mss, mss);
	HEQ(h_pending(), 1);
	h_peer_next(&p, &o);
	HEQ(o.ack, 1001);
	HEQ(o.opt.nsack, 1);
	h_peer_data(&p, data + 2 * mss, mss);
	HEQ(h_pending(), 1);              /* a second duplicate ACK, not merged */
	h_peer_next(&p, &o);
	HEQ(o.ack, 1001);
	/* the retransmission fills the hole: its ACK waits for the flush */
	h_peer_send(&p, TH_ACK, 1001, p.rcv_nxt, data, mss);
	h_none();
	tcp_batch_flush(CTX);
	h_peer_next(&p, &o);
	HEQ(o.ack, 1001 + 3 * mss);
	HEQ(o.opt.nsack, 0);
	h_none();
	HEQ(tcp_recv(CTX, s, NULL, 3 * mss), 3 * mss);
	h_drain();
}

/*
 * Slow start with data waiting: five ACKs of two segments each take the
 * window from 10 to 20 segments whether each ACK's output goes at once or
 * all five ACKs come in one burst whose output waits for its end (RFC 7661:
 * the window limited the sender all along). Before cwnd_full, the burst's
 * first ACK was the only one to count: each later one saw the flight the
 * ones before it had emptied. An application-limited stream does not grow
 * in the burst either way: four segments queued (the flight never fills the
 * window), or ten (it fills it, but nothing waits behind: only the first
 * ACK, whose flight filled the window, counts).
 */
static uint32_t slow_start_acks(uint16_t rport, uint32_t segs, bool burst)
{
	struct h_peer p;
	uint32_t s, mss;
	struct h_out o;

	h_peer_init(&p, H_TEST_PORT, rport, 1000);
	s = h_open_passive(&p, &H_OPT_ALL);
	h_clear_events();
	mss = TCB(s)->mss;
	HEQ(TCB(s)->cc.cwnd, 10 * mss);
	HEQ(tcp_send(CTX, s, data, segs * mss), segs * mss);
	while (h_pending())
		h_peer_next(&p, &o);
	if (burst)
		HEQ(tcp_batch_begin(CTX), 0);
	for (uint32_t i = 1; i <= 5 && 2 * i <= segs; i++)
		h_peer_ack(&p, p.iss + 1 + 2 * i * mss);
	if (burst)
		tcp_batch_flush(CTX);
	while (h_pending())
		h_peer_next(&p, &o);
	return TCB(s)->cc.cwnd / mss;
}

HTEST(tcp_batch, acks_of_a_burst_grow_the_window)
{
	HEQ(slow_start_acks(H_PEER_PORT, 40, false), 20);   /* the reference */
	HEQ(slow_start_acks(H_PEER_PORT + 1, 40, true), 20);
	HEQ(slow_start_acks(H_PEER_PORT + 2, 4, false), 10);
	HEQ(slow_start_acks(H_PEER_PORT + 3, 4, true), 10);
	HEQ(slow_start_acks(H_PEER_PORT + 4, 10, false), 12);
	HEQ(slow_start_acks(H_PEER_PORT + 5, 10, true), 12);
}

/* A stream noted for output and then aborted in the same burst is skipped by the flush. */
HTEST(tcp_batch, closed_stream_skipped)
{
	struct h_peer p;
	uint32_t s = open_default(&p);
	struct h_out o;

	HEQ(tcp_batch_begin(CTX), 0);
	HEQ(tcp_send(CTX, s, "gone", 4), 4);
	tcp_abort(CTX, s);
	h_peer_next(&p, &o);              /* the abort's RST is immediate */
	HTRUE(o.flags & TH_RST);
	HEQ(TCB(s)->state, TCP_CLOSED);
	tcp_batch_flush(CTX);
	h_none();
}

/* ==== the checksum ========================================================== */

#include "secondary/tcp/tcp_cksum.h"

HSUITE(tcp_cksum);

/* cksum_add() against the harness's big-endian 16-bit reference, every length and alignment. */
HTEST(tcp_cksum, matches_reference)
{
	static uint8_t buf[2100];
	uint32_t x = 12345;

	for (unsigned int i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	buf[5] = buf[6] = 0xff;   /* carries */
	for (uint32_t off = 0; off < 8; off++)
		for (uint32_t len = 0; len <= 2048; len += (len < 80 ? 1 : 37)) {
			/* the reference returns the complement; so does our fold once inverted */
			uint16_t ref = h_cksum(buf + off, len, 0);
			uint16_t got = (uint16_t)~cksum_fold(cksum_add(buf + off, len, 0));

			cr_assert(rte_be_to_cpu_16(got) == ref || (ref == 0xffff && got == 0) ||
					  (ref == 0 && got == 0xffff),
				  "off %u len %u: got %#x, reference %#x", off, len,
				  rte_be_to_cpu_16(got), ref);
		}
	/* all ones everywhere: the largest carries the accumulators see */
	memset(buf, 0xff, sizeof(buf));
	HEQ((uint16_t)~cksum_fold(cksum_add(buf, 2048, 0)), h_cksum(buf, 2048, 0));
}

/* A segment the stack builds verifies, and one flipped bit does not. */
HTEST(tcp_cksum, verify_and_flip)
{
	static uint8_t frame[1500];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)frame;
	uint8_t *th = frame + 20;
	uint32_t tcp_len = 1480;

	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 31 + 7);
	ip->src_addr = rte_cpu_to_be_32(0x0a000001);
	ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
	th[16] = th[17] = 0;
	{
		uint16_t ck = tcp_cksum(ip, th, tcp_len);

		memcpy(th + 16, &ck, 2);
	}
	HTRUE(tcp_cksum_ok(ip, th, tcp_len));
	frame[777] ^= 0x10;
	HTRUE(!tcp_cksum_ok(ip, th, tcp_len));
}

/* ==== the FIN on the last data segment ==================================== */

/* Data then shutdown in one burst: one segment carries both; the peer's ACK of both ends FIN-WAIT-1. */
HTEST(tcp_batch, fin_rides_on_data)
{
	struct h_peer p;
	uint32_t s = open_default(&p);
	struct h_out o;

	HEQ(tcp_batch_begin(CTX), 0);
	HEQ(tcp_send(CTX, s, "bye", 3), 3);
	HEQ(tcp_shutdown(CTX, s), 0);
	h_none();
	tcp_batch_flush(CTX);
	h_peer_next(&p, &o);
	HEQ(o.len, 3);
	HEQ(o.flags, TH_ACK | TH_PSH | TH_FIN);
	h_none();
	HEQ(TCB(s)->snd_max, p.iss + 5);
	h_peer_ack(&p, p.iss + 5);
	HEQ(TCB(s)->state, TCP_FIN_WAIT_2);
	h_none();
	h_peer_fin(&p);
	h_peer_next(&p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(TCB(s)->state, TCP_TIME_WAIT);
	h_advance(PRM->time_wait_ms + TCP_TICK_MS);
	HEQ(TCB(s)->state, TCP_CLOSED);
}

/* The data+FIN segment is lost: the retransmission timeout resends both, and the close completes. */
HTEST(tcp_batch, fin_with_data_lost)
{
	struct h_peer p;
	uint32_t s = open_default(&p);
	struct h_out o;
	bool fin_again = false, data_again = false;

	HEQ(tcp_batch_begin(CTX), 0);
	HEQ(tcp_send(CTX, s, "bye", 3), 3);
	HEQ(tcp_shutdown(CTX, s), 0);
	tcp_batch_flush(CTX);
	h_peer_next(&p, &o);              /* lost */
	HEQ(o.flags & TH_FIN, TH_FIN);
	h_advance(TCB(s)->rto_ms + TCP_TICK_MS);
	while (h_pending()) {
		h_peer_next(&p, &o);
		if (o.len == 3 && o.seq == p.iss + 1)
			data_again = true;
		if ((o.flags & TH_FIN) && o.seq + o.len == p.iss + 4)
			fin_again = true;
	}
	HTRUE(data_again);
	HTRUE(fin_again);
	h_peer_ack(&p, p.iss + 5);
	HEQ(TCB(s)->state, TCP_FIN_WAIT_2);
	tcp_abort(CTX, s);
	h_drain();
}

/* A port with checksum offload: the stack leaves the sums to the NIC (emulated by the harness,
 * which checks the flags, lengths and the pseudo header sum) and the frames come out right. */
HTEST(tcp_cksum, offload_to_the_nic)
{
	struct h_peer p;
	uint32_t s, before;
	struct h_out o;

	H.g->ports[0].tx_csum = 1;
	before = h_offloaded;
	s = open_default(&p);             /* the SYN-ACK was offloaded too */
	HTRUE(h_offloaded > before);
	before = h_offloaded;
	h_pattern(data, 3000, 0);
	HEQ(tcp_send(CTX, s, data, 3000), 3000);
	h_peer_next(&p, &o);              /* h_next checks both checksums */
	HEQ(o.len, TCB(s)->mss);
	HTRUE(memcmp(o.payload, data, o.len) == 0);
	h_peer_next(&p, &o);
	h_peer_next(&p, &o);
	HEQ(h_offloaded - before, 3);
	h_peer_ack(&p, p.iss + 3001);
	H.g->ports[0].tx_csum = 0;
	h_drain();
}

/*
 * Each frame is parsed once (tcp_input_begin): the second pass takes what the
 * first parsed, the stream it found included, but only as a hint. Here an
 * earlier frame of the burst (an abort, for the test) ends the stream between
 * the passes: the data must not land in a closed TCB, and the segment is
 * answered as one for no stream.
 */
HTEST(tcp_batch, the_second_pass_takes_the_first_pass_parse_and_checks_its_stream)
{
	struct h_peer p;
	struct h_out o;
	struct rte_mbuf *m;
	uint32_t s;
	uint64_t segs_in;
	struct h_spec sp;

	h_peer_init(&p, H_TEST_PORT, 40200, 0x1000);
	s = h_open_passive(&p, &H_OPT_MSS);
	h_clear_events();
	sp = (struct h_spec){ .saddr = p.raddr, .daddr = p.laddr, .sport = p.rport, .dport = p.lport,
			      .seq = p.snd_nxt, .ack = p.rcv_nxt, .flags = TH_ACK | TH_PSH, .wnd = 65535,
			      .payload = "abc", .len = 3 };
	/* first: the data is parsed and kept, with its stream */
	m = h_build(&sp);
	tcp_input_begin(CTX);
	HEQ(tcp_input_stateless(CTX, m), TCP_SL_STATEFUL);
	HEQ(CTX->npre, 1);
	segs_in = AREA->events[TEV_SEGS_IN];
	H.rx_current = m;
	tcp_input(CTX, m);                /* the same frame: taken from the first pass */
	H.rx_current = NULL;
	HEQ(CTX->pre_next, 1);
	HEQ(AREA->events[TEV_SEGS_IN], segs_in + 1);
	HEQ(TCB(s)->rcv_bytes, 3);
	tcp_batch_begin(CTX);
	tcp_batch_flush(CTX);             /* the burst ends: nothing kept */
	HEQ(CTX->npre, 0);
	h_drain();
	/* then: the stream ends between the passes */
	sp.seq += 3;
	m = h_build(&sp);
	tcp_input_begin(CTX);
	HEQ(tcp_input_stateless(CTX, m), TCP_SL_STATEFUL);
	tcp_abort(CTX, s);
	h_drain();
	HEQ(TCB(s)->state, TCP_CLOSED);
	H.rx_current = m;
	tcp_input(CTX, m);
	H.rx_current = NULL;
	HEQ(TCB(s)->state, TCP_CLOSED);   /* the hint was not trusted */
	h_next(&o);
	HTRUE(o.flags & TH_RST);          /* an ACK to the listener that is no SYN cookie */
	h_none();
}
