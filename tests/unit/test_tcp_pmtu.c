/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp/tcp_pmtu.c: packetization-layer path MTU discovery (RFC 4821)
 * and black-hole detection. Large segments that keep timing out bring the MSS
 * down to tcp.base_mss; probes (new data segments above the MSS) raise it
 * again: a delivered probe sets the MSS, a lost one lowers the search's bound
 * and is resent at the MSS without any window reduction (RFC 4821 §7.6.2).
 * The last tests run whole transfers through a simulated path that drops
 * every IPv4 packet above N bytes and sends no ICMP.
 */
#include "tests/unit/tcp_harness.h"

#include <string.h>

HSUITE(tcp_plpmtud);

#define RTT 10u            /* ms: the simulated path's round trip */
#define MSS_TS 1448u       /* send MSS of a peer announcing 1460, with timestamps */
#define BASE_TS (1024u - 12u)  /* tcp.base_mss 1024 as a send MSS beside timestamps */

static uint8_t data[1u << 21];
static uint8_t chk[4096];

static uint32_t open_ts(struct h_peer *p, uint8_t probing)
{
	uint32_t s;

	PRM->mtu_probing = probing;
	PRM->base_mss = 1024;
	h_peer_init(p, H_TEST_PORT, H_PEER_PORT, 0x1000);
	s = h_open_passive(p, &H_OPT_ALL);
	h_clear_events();
	return s;
}

/* Pop the next frame of P's stream: a data segment at SEQ of LEN bytes. */
static void expect_seg(struct h_peer *p, uint32_t seq, uint32_t len)
{
	struct h_out o;

	h_peer_next(p, &o);
	HEQ(o.flags & (TH_SYN | TH_RST | TH_ACK), TH_ACK);
	HEQ(o.seq, seq);
	HEQ(o.len, len);
}

/* Drop every frame sent so far (they are lost on the path); returns how many were data. */
static unsigned int lose_all(struct h_peer *p)
{
	struct h_out o;
	unsigned int n = 0;

	while (h_pop(&o)) {
		if (o.opt.has_ts)
			p->ts_ecr = o.opt.ts_val;
		n += o.len > 0;
	}
	return n;
}

/* Largest payload of the frames sent so far (consumed). */
static uint32_t max_payload(struct h_peer *p)
{
	struct h_out o;
	uint32_t m = 0;

	while (h_pop(&o)) {
		if (o.opt.has_ts)
			p->ts_ecr = o.opt.ts_val;
		if (o.len > m)
			m = o.len;
	}
	return m;
}

/* ==== black holes =============================================================== */

/* Full-size segments time out three times in a row: a black hole. The MSS drops to the base and they go again in pieces. */
HTEST(tcp_plpmtud, black_hole_drops_mss_to_base)
{
	struct h_peer p;
	uint32_t s = open_ts(&p, 1), una = p.iss + 1, ssthresh;

	HEQ(TCB(s)->mss, MSS_TS);
	h_pattern(data, 10 * MSS_TS, 0);
	HEQ(tcp_send(CTX, s, data, 10 * MSS_TS), 10 * MSS_TS);
	HEQ(lose_all(&p), 10);
	/* the tail loss probe and the first timeout resend full-size segments: still no verdict */
	for (unsigned int i = 0; i < 3 && AREA->events[TEV_RTO] < 1; i++) {
		h_wait_out(3000);
		HEQ(max_payload(&p), MSS_TS);
	}
	HEQ(AREA->events[TEV_RTO], 1);
	HEQ(TCB(s)->mss, MSS_TS);
	HEQ(H.more[TMORE_PLPMTUD_BLACK_HOLES], 0);
	ssthresh = TCB(s)->prior_ssthresh;            /* before the first timeout cut it */
	HTRUE(TCB(s)->cc.ssthresh < ssthresh);
	/* a second one could be a lost retransmission (or its ACK) on a lossy path: still full size */
	h_wait_out(3000);
	HEQ(AREA->events[TEV_RTO], 2);
	HEQ(H.more[TMORE_PLPMTUD_BLACK_HOLES], 0);
	HEQ(TCB(s)->mss, MSS_TS);
	HEQ(max_payload(&p), MSS_TS);
	/* the third timeout in a row of a segment above the base: the MSS comes down */
	h_wait_out(6000);
	HEQ(AREA->events[TEV_RTO], 3);
	HEQ(H.more[TMORE_PLPMTUD_BLACK_HOLES], 1);
	HEQ(TCB(s)->mss, BASE_TS);
	HTRUE(TCB(s)->flags & TF(PMTU));
	HTRUE(!(TCB(s)->flags & TF(PMTU_DONE)));
	HEQ(TCB(s)->pmtu_hi, MSS_TS);                 /* the size that timed out bounds the search */
	HEQ(TCB(s)->cc.ssthresh, ssthresh);           /* not congestion: slow start goes back up */
	HEQ(TCB(s)->cc.cwnd, BASE_TS);                /* from one segment */
	expect_seg(&p, una, BASE_TS);                 /* the head again, cut at the new MSS */
	h_none();
	/* the peer gets it; what follows goes at the base size too, nothing larger */
	h_advance(RTT);
	h_peer_ack(&p, una + BASE_TS);
	HTRUE(max_payload(&p) <= BASE_TS);
	h_peer_ack(&p, una + 10 * MSS_TS);
	HEQ(tcp_check(CTX, stderr), 0);
}

/* tcp.mtu_probing 0: timeouts never change the MSS. */
HTEST(tcp_plpmtud, off_never_lowers)
{
	struct h_peer p;
	uint32_t s = open_ts(&p, 0), una = p.iss + 1;

	h_pattern(data, 10 * MSS_TS, 0);
	HEQ(tcp_send(CTX, s, data, 10 * MSS_TS), 10 * MSS_TS);
	lose_all(&p);
	while (AREA->events[TEV_RTO] < 4) {
		h_wait_out(20000);
		HEQ(max_payload(&p), MSS_TS);
	}
	HEQ(TCB(s)->mss, MSS_TS);
	HEQ(H.more[TMORE_PLPMTUD_BLACK_HOLES], 0);
	HTRUE(!(TCB(s)->flags & TF(PMTU)));
	h_peer_ack(&p, una + 10 * MSS_TS);
}

/* Small segments timing out are loss, not a black hole: the MSS stays. */
HTEST(tcp_plpmtud, small_segments_timing_out_are_no_black_hole)
{
	struct h_peer p;
	uint32_t s = open_ts(&p, 1), una = p.iss + 1;

	h_pattern(data, 500, 0);
	HEQ(tcp_send(CTX, s, data, 500), 500);
	lose_all(&p);
	while (AREA->events[TEV_RTO] < 3) {
		h_wait_out(20000);
		lose_all(&p);
	}
	HEQ(TCB(s)->mss, MSS_TS);
	HEQ(H.more[TMORE_PLPMTUD_BLACK_HOLES], 0);
	h_peer_ack(&p, una + 500);
}

/* ==== probes ==================================================================== */

/* tcp.mtu_probing 2 starts at the base; the first data goes as a probe halfway up, and its ACK raises the MSS. */
HTEST(tcp_plpmtud, probe_ack_raises_mss)
{
	struct h_peer p;
	uint32_t s = open_ts(&p, 2), una = p.iss + 1, probe = (BASE_TS + MSS_TS + 1) / 2;
	uint32_t cwnd;

	HEQ(TCB(s)->mss, BASE_TS);
	HTRUE(TCB(s)->flags & TF(PMTU));
	HEQ(TCB(s)->pmtu_hi, MSS_TS + 1);
	h_pattern(data, 20 * MSS_TS, 0);
	HEQ(tcp_send(CTX, s, data, 20 * MSS_TS), 20 * MSS_TS);
	expect_seg(&p, una, probe);
	HEQ(H.more[TMORE_PLPMTUD_PROBES], 1);
	HTRUE(max_payload(&p) <= BASE_TS);            /* then the MSS: one probe at a time */
	cwnd = TCB(s)->cc.cwnd;
	h_advance(RTT);
	h_peer_ack(&p, una + probe);
	HEQ(TCB(s)->mss, probe);
	HEQ(H.more[TMORE_PLPMTUD_PROBES_OK], 1);
	HEQ(H.more[TMORE_PLPMTUD_PROBES_FAILED], 0);
	HTRUE(TCB(s)->cc.cwnd >= cwnd);
	/* the next probe goes halfway between the new MSS and the bound */
	HEQ(max_payload(&p), probe + (MSS_TS + 1 - probe) / 2);
	HEQ(H.more[TMORE_PLPMTUD_PROBES], 2);
	h_peer_ack(&p, TCB(s)->snd_max);
	lose_all(&p);
}

/* A SACK of the probe is as good as a cumulative ACK (RFC 4821 §7.6.1). */
HTEST(tcp_plpmtud, probe_sacked_raises_mss)
{
	struct h_peer p;
	uint32_t s = open_ts(&p, 2), una = p.iss + 1, probe = (BASE_TS + MSS_TS + 1) / 2;

	h_pattern(data, 20 * MSS_TS, 0);
	HEQ(tcp_send(CTX, s, data, 20 * MSS_TS), 20 * MSS_TS);
	lose_all(&p);
	/* the first MSS-sized segment after the probe is lost, the probe and the rest get through */
	h_advance(RTT);
	p.nsack = 1;
	p.sack[0] = (struct tcp_sack_block){ una, una + probe };
	h_peer_ack(&p, una);
	HEQ(TCB(s)->mss, probe);
	HEQ(H.more[TMORE_PLPMTUD_PROBES_OK], 1);
	h_peer_ack(&p, TCB(s)->snd_max);
	lose_all(&p);
}

/*
 * The probe is lost and what follows it arrives: RACK finds it lost, the
 * search's bound comes down to its size, it goes again at once in MSS-sized
 * pieces, and there is no recovery episode and no window reduction.
 */
HTEST(tcp_plpmtud, lost_probe_lowers_bound_keeps_cwnd)
{
	struct h_peer p;
	uint32_t s = open_ts(&p, 2), una = p.iss + 1, probe = (BASE_TS + MSS_TS + 1) / 2;
	uint32_t cwnd, ssthresh, sent_end;
	unsigned int pieces;
	struct h_out o;

	h_pattern(data, 20 * MSS_TS, 0);
	HEQ(tcp_send(CTX, s, data, 20 * MSS_TS), 20 * MSS_TS);
	lose_all(&p);
	sent_end = TCB(s)->snd_max;
	cwnd = TCB(s)->cc.cwnd;
	ssthresh = TCB(s)->cc.ssthresh;
	h_advance(RTT);
	p.nsack = 1;
	p.sack[0] = (struct tcp_sack_block){ una + probe, sent_end };
	/* three segments SACKed above it: RACK's reordering window is 0, the verdict comes at once */
	h_peer_ack(&p, una);
	/* among what the ACK let go (new data too): the probe's bytes again, at the MSS */
	pieces = 0;
	while (h_pop(&o)) {
		if (!seq_lt(o.seq, una + probe))
			continue;
		HEQ(o.seq, pieces ? una + BASE_TS : una);
		HEQ(o.len, pieces ? probe - BASE_TS : BASE_TS);
		pieces++;
	}
	HEQ(pieces, 2);
	HEQ(H.more[TMORE_PLPMTUD_PROBES_FAILED], 1);
	HEQ(TCB(s)->pmtu_hi, probe);
	HEQ(TCB(s)->mss, BASE_TS);
	HEQ(AREA->events[TEV_SACK_RECOVERY], 0);
	HEQ(AREA->events[TEV_RACK_LOST], 0);
	HTRUE(!(TCB(s)->flags & (TF(RECOVERY) | TF(LOSS))));
	HTRUE(TCB(s)->cc.cwnd >= cwnd);               /* RFC 4821 §7.6.2 */
	HEQ(TCB(s)->cc.ssthresh, ssthresh);
	lose_all(&p);
	h_advance(RTT);
	h_peer_ack(&p, TCB(s)->snd_max);
	HEQ(TCB(s)->sacked_bytes, 0);
	lose_all(&p);
}

/* A probe outstanding when the RTO fires has failed too; and a worker replaced mid-search continues it. */
HTEST(tcp_plpmtud, rto_fails_the_probe_and_a_new_worker_continues)
{
	struct h_peer p;
	uint32_t s = open_ts(&p, 2), probe = (BASE_TS + MSS_TS + 1) / 2;

	h_pattern(data, 20 * MSS_TS, 0);
	HEQ(tcp_send(CTX, s, data, 20 * MSS_TS), 20 * MSS_TS);
	lose_all(&p);
	h_reattach();
	while (AREA->events[TEV_RTO] < 1)
		h_wait_out(5000);
	HEQ(H.more[TMORE_PLPMTUD_PROBES_FAILED], 1);
	HEQ(TCB(s)->pmtu_hi, probe);
	HEQ(max_payload(&p), BASE_TS);                /* the resent head: the probe cut at the MSS */
	h_peer_ack(&p, TCB(s)->snd_max);
	lose_all(&p);
	HEQ(tcp_check(CTX, stderr), 0);
}

/* Garbage in the shared fields never stalls the stream nor exceeds the peer's MSS. */
HTEST(tcp_plpmtud, garbage_bound_is_clamped)
{
	struct h_peer p;
	uint32_t s = open_ts(&p, 2);

	TCB(s)->pmtu_hi = 65535;                      /* far above what the peer allows */
	h_pattern(data, 20 * MSS_TS, 0);
	HEQ(tcp_send(CTX, s, data, 20 * MSS_TS), 20 * MSS_TS);
	HTRUE(max_payload(&p) <= MSS_TS);
	h_peer_ack(&p, TCB(s)->snd_max);
	lose_all(&p);
	TCB(s)->pmtu_hi = 0;                          /* below the MSS: the search ends */
	HEQ(tcp_send(CTX, s, data, 20 * MSS_TS), 20 * MSS_TS);
	HTRUE(max_payload(&p) <= TCB(s)->mss);
	HTRUE(TCB(s)->flags & TF(PMTU_DONE));
	h_peer_ack(&p, TCB(s)->snd_max);
	lose_all(&p);
}

/* ==== a path that drops every packet above N bytes (no ICMP) ====================== */

struct path {
	uint32_t mtu;              /* IPv4 total length above which a packet vanishes */
	uint32_t base;             /* the stream's first data byte */
	uint32_t rcv_nxt;
	struct { uint32_t l, r; } ooo[64];   /* received above rcv_nxt, sorted, disjoint */
	unsigned int nooo;
	uint32_t last_l, last_r;   /* the run holding the latest arrival */
	struct { uint32_t at, seq, len; } fly[1024];   /* frames on their way */
	unsigned int nfly;
	unsigned long dropped_big, max_seen;
};

static void path_arrive(struct path *pa, const struct h_out *o)
{
	uint32_t l = o->seq, r = o->seq + o->len;
	unsigned int i, j;

	/* byte-exact: every payload is the pattern at its offset */
	h_pattern(chk, o->len, l - pa->base);
	cr_assert(memcmp(o->payload, chk, o->len) == 0, "payload at %u differs", l - pa->base);
	if (seq_leq(r, pa->rcv_nxt))
		return;
	if (seq_lt(l, pa->rcv_nxt))
		l = pa->rcv_nxt;
	/* insert [l, r) and merge */
	for (i = 0; i < pa->nooo && seq_lt(pa->ooo[i].r, l); i++)
		;
	for (j = i; j < pa->nooo && seq_leq(pa->ooo[j].l, r); j++) {
		if (seq_lt(pa->ooo[j].l, l))
			l = pa->ooo[j].l;
		if (seq_gt(pa->ooo[j].r, r))
			r = pa->ooo[j].r;
	}
	cr_assert(pa->nooo - (j - i) + 1 <= 64);
	memmove(&pa->ooo[i + 1], &pa->ooo[j], (pa->nooo - j) * sizeof(pa->ooo[0]));
	pa->nooo = pa->nooo - (j - i) + 1;
	pa->ooo[i].l = l;
	pa->ooo[i].r = r;
	pa->last_l = l;
	pa->last_r = r;
	while (pa->nooo && seq_leq(pa->ooo[0].l, pa->rcv_nxt)) {
		if (seq_gt(pa->ooo[0].r, pa->rcv_nxt))
			pa->rcv_nxt = pa->ooo[0].r;
		memmove(&pa->ooo[0], &pa->ooo[1], (pa->nooo - 1) * sizeof(pa->ooo[0]));
		pa->nooo--;
	}
}

/* The receiver's ACK: RCV.NXT and up to three SACK blocks, the latest arrival's first (RFC 2018 §4). */
static void path_ack(struct path *pa, struct h_peer *p)
{
	p->nsack = 0;
	for (unsigned int i = 0; i < pa->nooo && p->nsack < 3; i++) {
		if (pa->ooo[i].l == pa->last_l && p->nsack) {
			p->sack[p->nsack] = p->sack[0];
			p->sack[0] = (struct tcp_sack_block){ pa->ooo[i].l, pa->ooo[i].r };
		} else {
			p->sack[p->nsack] = (struct tcp_sack_block){ pa->ooo[i].l, pa->ooo[i].r };
		}
		p->nsack++;
	}
	h_peer_ack(p, pa->rcv_nxt);
}

/*
 * Send TOTAL bytes on stream S through path PA (one-way delay RTT, ACKs
 * back at once), at most LIMIT_MS of simulated time; returns the time taken.
 */
static uint32_t path_run_from(struct path *pa, struct h_peer *p, uint32_t s, uint32_t total, uint32_t limit_ms,
			      uint32_t written)
{
	uint32_t t0 = h_now();
	struct h_out o;

	h_pattern(data, total, 0);
	pa->base = pa->rcv_nxt = TCB(s)->snd_una;
	while (pa->rcv_nxt - pa->base < total) {
		cr_assert(h_now() - t0 < limit_ms, "transfer stuck at %u of %u bytes, mss %u",
			  pa->rcv_nxt - pa->base, total, TCB(s)->mss);
		if (written < total) {
			int n = tcp_send(CTX, s, data + written, total - written);

			if (n > 0)
				written += (uint32_t)n;
		}
		while (h_pop(&o)) {
			if (o.opt.has_ts)
				p->ts_ecr = o.opt.ts_val;
			if (o.len == 0)
				continue;
			if (o.flen - ETH_HDR_LEN > pa->mtu) {
				pa->dropped_big++;
				continue;
			}
			if (o.flen - ETH_HDR_LEN > pa->max_seen)
				pa->max_seen = o.flen - ETH_HDR_LEN;
			cr_assert(pa->nfly < 1024);
			pa->fly[pa->nfly].at = h_now() + RTT;
			pa->fly[pa->nfly].seq = o.seq;
			pa->fly[pa->nfly].len = o.len;
			/* the payload is checked now, while the frame is at hand */
			h_pattern(chk, o.len, o.seq - pa->base);
			cr_assert(memcmp(o.payload, chk, o.len) == 0, "payload at %u differs", o.seq - pa->base);
			pa->nfly++;
		}
		h_advance(1);
		while (pa->nfly && !ms_before(h_now(), pa->fly[0].at)) {
			struct h_out a = { 0 };

			a.seq = pa->fly[0].seq;
			a.len = pa->fly[0].len;
			h_pattern(chk, a.len, a.seq - pa->base);
			a.payload = chk;
			path_arrive(pa, &a);
			memmove(&pa->fly[0], &pa->fly[1], (pa->nfly - 1) * sizeof(pa->fly[0]));
			pa->nfly--;
			path_ack(pa, p);
		}
	}
	return h_now() - t0;
}

static uint32_t path_run(struct path *pa, struct h_peer *p, uint32_t s, uint32_t total, uint32_t limit_ms)
{
	return path_run_from(pa, p, s, total, limit_ms, 0);
}

/* MTU N seen by a stream with timestamps: the largest send MSS that fits. */
static uint32_t fit(uint32_t mtu) { return mtu - 40 - 12; }

static void converge(uint32_t mtu, uint8_t probing)
{
	struct h_peer p;
	struct path pa = { .mtu = mtu };
	uint32_t s = open_ts(&p, probing), ms;

	memset(H.more, 0, sizeof(H.more));
	ms = path_run(&pa, &p, s, 2u << 20, 120000);
	cr_log_info("path MTU %u, mtu_probing %u: 2 MiB in %u ms, MSS %u (fits %u), probes %lu ok %lu failed %lu, "
		    "black holes %lu, timeouts %lu, retransmits %u", mtu, probing, ms, TCB(s)->mss,
		    mtu < 1500 ? fit(mtu) : MSS_TS, (unsigned long)H.more[TMORE_PLPMTUD_PROBES],
		    (unsigned long)H.more[TMORE_PLPMTUD_PROBES_OK], (unsigned long)H.more[TMORE_PLPMTUD_PROBES_FAILED],
		    (unsigned long)H.more[TMORE_PLPMTUD_BLACK_HOLES], (unsigned long)AREA->events[TEV_RTO],
		    TCB(s)->retransmits);
	if (mtu >= 1500) {
		HEQ(TCB(s)->mss, MSS_TS);
		HEQ(H.more[TMORE_PLPMTUD_BLACK_HOLES], 0);
	} else {
		HTRUE(TCB(s)->mss <= fit(mtu));
		HTRUE(TCB(s)->mss + 16u > fit(mtu));      /* settled within 16 bytes of the path MTU */
		HTRUE(TCB(s)->flags & TF(PMTU_DONE));
		HTRUE(H.more[TMORE_PLPMTUD_PROBES_OK] >= 1);
		HEQ(H.more[TMORE_PLPMTUD_BLACK_HOLES], probing == 1 ? 1 : 0);
	}
	HTRUE(pa.max_seen <= mtu);
	h_peer_ack(&p, TCB(s)->snd_max);
	lose_all(&p);
}

HTEST(tcp_plpmtud, converges_behind_a_black_hole_1280) { converge(1280, 1); }
HTEST(tcp_plpmtud, converges_behind_a_black_hole_1400) { converge(1400, 1); }
HTEST(tcp_plpmtud, converges_behind_a_black_hole_1100) { converge(1100, 1); }
HTEST(tcp_plpmtud, converges_from_the_base_1280) { converge(1280, 2); }
HTEST(tcp_plpmtud, converges_from_the_base_to_the_full_size) { converge(1500, 2); }
HTEST(tcp_plpmtud, no_black_hole_keeps_the_full_size) { converge(1500, 1); }

/* RFC 4821 §7.7: a settled search looks again after 10 minutes (the path may have grown). */
HTEST(tcp_plpmtud, search_again_after_ten_minutes)
{
	struct h_peer p;
	struct path pa = { .mtu = 1280 };
	uint32_t s = open_ts(&p, 2), probes;

	path_run(&pa, &p, s, 1u << 20, 60000);
	HTRUE(TCB(s)->flags & TF(PMTU_DONE));
	probes = (uint32_t)H.more[TMORE_PLPMTUD_PROBES];
	/* nine minutes on: still settled, no probe */
	h_advance(9 * 60000);
	path_run(&pa, &p, s, 1u << 20, 60000);
	HEQ(H.more[TMORE_PLPMTUD_PROBES], probes);
	/* the path grew; after ten minutes the next data probes upwards again */
	pa.mtu = 1500;
	h_advance(2 * 60000);
	path_run(&pa, &p, s, 1u << 20, 60000);
	HTRUE(H.more[TMORE_PLPMTUD_PROBES] > probes);
	HTRUE(TCB(s)->mss + 16u > MSS_TS);
	h_peer_ack(&p, TCB(s)->snd_max);
	lose_all(&p);
}

/* A router that does answer (RFC 1191) bounds the search: no probe above what it said. */
HTEST(tcp_plpmtud, icmp_answer_bounds_the_search)
{
	struct h_peer p;
	uint32_t s = open_ts(&p, 2), una = p.iss + 1, probe = (BASE_TS + MSS_TS + 1) / 2;

	h_pattern(data, 20 * MSS_TS, 0);
	HEQ(tcp_send(CTX, s, data, 20 * MSS_TS), 20 * MSS_TS);
	expect_seg(&p, una, probe);
	lose_all(&p);
	h_icmp_frag_needed(&p, una, 1200);
	HEQ(TCB(s)->mss, BASE_TS);                    /* the MSS is below the router's MTU already */
	HEQ(TCB(s)->pmtu_hi, 1200 - 40 - 12 + 1);
	h_advance(RTT);
	h_peer_ack(&p, TCB(s)->snd_max);
	HTRUE(max_payload(&p) <= 1200 - 40 - 12);
	h_peer_ack(&p, TCB(s)->snd_max);
	lose_all(&p);
}

/*
 * A worker killed inside seg_grow (tcp_output.c), as a probe gathers its
 * bytes from the next queued segment: (a) after M's length covers the bytes
 * copied from N, before N's front is cut: an overlap, which recovery cuts
 * from M's end; (b) after N, taken whole, was unlinked while held: recovery
 * frees it. Either way the queue is consistent, nothing leaks, and the
 * transfer arrives byte for byte.
 */
static void killed_in_grow(bool whole)
{
	struct h_peer p;
	struct path pa = { .mtu = 1500 };
	uint32_t s = open_ts(&p, 2), q = 20 * BASE_TS, k;
	struct rte_mbuf *m, *n;

	h_pattern(data, q, 0);
	HEQ(tcp_batch_begin(CTX), 0);
	HEQ(tcp_send(CTX, s, data, q), q);            /* queued; the output would come at the batch's end */
	h_none();
	m = TCB(s)->snd_head;
	n = m->next;
	HEQ(seg_len(m), BASE_TS);
	k = whole ? seg_len(n) : 200;
	memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len), rte_pktmbuf_mtod(n, uint8_t *), k);
	m->data_len = (uint16_t)(m->data_len + k);
	m->pkt_len += k;
	if (whole) {
		H.in_hand = n;                            /* tcp_env_hold, then the unlink */
		m->next = n->next;
		n->next = NULL;
	}
	h_crash_recover();
	HEQ(tcp_check(CTX, stderr), 0);
	HEQ(TCB(s)->snd_bytes, q);
	/* the new worker's output (tcp_resume) made the probe again from the repaired queue */
	HEQ(seg_len(TCB(s)->snd_head), (BASE_TS + MSS_TS + 1) / 2);
	HTRUE(seg_flags(TCB(s)->snd_head) & SEG_PROBE);
	path_run_from(&pa, &p, s, q + (1u << 18), 60000, q);
	h_peer_ack(&p, TCB(s)->snd_max);
	lose_all(&p);
}

HTEST(tcp_plpmtud, killed_while_growing_a_probe_overlap) { killed_in_grow(false); }
HTEST(tcp_plpmtud, killed_while_growing_a_probe_unlinked) { killed_in_grow(true); }
