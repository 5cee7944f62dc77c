/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp: what guards a stream against segments and ICMP errors it did
 * not ask for. ICMP fragmentation-needed checked against the bytes in flight
 * (RFC 5927 §4.1) and a floor under the MTU it may report; a SYN in each
 * synchronized state draws a counted, rate-limited challenge ACK (RFC 5961
 * §4, RFC 9293 §3.10.7.4) while a legitimate TIME-WAIT reuse (RFC 6191,
 * RFC 1122 §4.2.2.13) still opens; challenge ACKs limited per stream, so a
 * flood on one stream silences no other (RFC 5961 §7, CVE-2016-5696).
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
