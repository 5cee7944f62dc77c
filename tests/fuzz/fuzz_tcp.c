/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the TCP stack (secondary/tcp) on the unit-test harness
 * (tests/unit/tcp_harness.c): any segment against every state.
 *
 * Each input sets the stack's parameters, drives a stream of "the peer"
 * (10.0.0.2:40000) to a starting state with real segments (h_goto(): every
 * state of RFC 9293 but CLOSED/LISTEN, plus the SYN-cookie paths, a
 * simultaneous open and a bare listener), then runs a sequence of steps:
 * segments built from the input (any flags; sequence and acknowledgment
 * numbers relative to RCV.NXT, the window edge, IRS, SND.MAX, SND.UNA,
 * SND.NXT or absolute; window; timestamps old, new or absent; SACK blocks
 * on segment boundaries, below SND.UNA (D-SACK), inside another block or
 * anywhere; raw option bytes; payload), bursts of them as the worker runs
 * them (first pass, batch, second pass, flush), the application's calls
 * (tcp_send, tcp_recv, tcp_shutdown, tcp_close, tcp_abort, tcp_connect),
 * ICMP fragmentation-needed (tcp_icmp_frag_needed), clock advances,
 * allocation failures, quiescent points and worker crashes (h_reattach()
 * then tcp_resume(), as a successor does; also between a burst's input and
 * its flush).
 *
 * Payload bytes are a function of their sequence number (pdat), and what
 * the application writes a function of its stream offset (adat), so every
 * byte the stack delivers or sends can be checked.
 *
 * After every call into the stack (a violated check prints and abort()s):
 *  - tcp_check(): the stack's own invariants (queues, counts, lookup, free list);
 *  - every fake mbuf is in some stream's queue (tcp_input consumes its frame,
 *    nothing else holds a buffer between calls): no leak while running;
 *  - the timer: each live stream is linked in the wheel slot of the earliest
 *    of its deadlines; a stream with a SYN, data or a FIN outstanding has its
 *    retransmission timer (RFC 6298 §5.1), one with data or a FIN waiting
 *    behind a closed window its persist timer (RFC 9293 §3.8.6.1), TIME-WAIT
 *    its 2MSL (§3.6.1); no owed ACK is left without output or a timer;
 *  - the receive queues hold at most tcp.rcv_buf, the send queue tcp.snd_buf;
 *  - SND.UNA and RCV.NXT never move back within a connection (RFC 9293 §3.3.1);
 *  - RCV.NXT never passes sequence space the peer did not send;
 *  - a stream the application holds (TAPP_TEST: opened by it, or told
 *    TEV_APP_CONNECTED) keeps its application, and ends only with
 *    TEV_APP_RESET or TEV_APP_CLOSED (tcp.h), after which it is gone for it;
 *  - per segment, against the state before it: RFC 9293 §3.10.7.3 in
 *    SYN-SENT, the acceptability test of §3.10.7.4 (an unacceptable segment
 *    changes nothing), PAWS (RFC 7323 §5.3), RFC 5961 §3.2 (an RST resets
 *    exactly at RCV.NXT and nowhere else), §4 (a SYN in a synchronized state
 *    changes nothing), §5.2 (an ACK outside [SND.UNA - MAX.SND.WND, SND.MAX]
 *    changes nothing), a segment without ACK changes nothing, RFC 9293
 *    §3.6.1 (a TIME-WAIT reopened by a SYN gets an ISS above the old
 *    SND.MAX);
 *  - the application's calls return what tcp.h documents, tcp_recv gives
 *    the peer's bytes in order, tcp_abort sends an RST exactly in the states
 *    of RFC 9293 §3.10.5;
 * and on every frame the stack sends (at transmission, tcp_env_xmit):
 *  - well formed, checksums right, within the port's MTU;
 *  - for a stream: a SYN only from SYN-SENT/SYN-RECEIVED at the ISS, nothing
 *    but a SYN from SYN-SENT, an ACK on everything else (RFC 9293 §3.1);
 *    timestamps in every segment exactly when negotiated (RFC 7323 §3.2);
 *    SACK blocks only when permitted, a D-SACK first, every other block held
 *    in the out-of-order queue (RFC 2018 §4, RFC 2883 §4); the advertised
 *    right edge does not move left beyond the window scale's rounding
 *    (RFC 9293 §3.8.6.2.2, RFC 7323 §2.4); data = what the application wrote
 *    at that offset (an echo: what the peer sent), payload + options within
 *    the peer's MSS and the path MTU (RFC 9293 §3.7.1, RFC 1191), new data
 *    within SND.UNA + SND.WND but for a one-byte zero-window probe
 *    (RFC 9293 §3.8.6); a FIN only after a close, right after the last
 *    byte written;
 *  - for no stream: only while a segment is input, to its sender: the RST of
 *    RFC 9293 §3.10.7.1 (never for an RST), or a SYN cookie's SYN,ACK.
 * At the end every stream is aborted, and no fake mbuf, TCB, timer or
 * lookup entry may remain (h_check_clean()).
 *
 * Input layout (a short input simply ends early; missing bytes read as 0):
 *   byte 0  bits 0-3  start: 0 SYN-SENT, 1 SYN-RECEIVED, 2 ESTABLISHED,
 *                     3 FIN-WAIT-1, 4 FIN-WAIT-2, 5 CLOSE-WAIT, 6 CLOSING,
 *                     7 LAST-ACK, 8 TIME-WAIT, 9 SYN cookie sent (no TCB),
 *                     10 established from a cookie, 11 the same with data in
 *                     the ACK, 12 simultaneous open (SYN-RECEIVED, active),
 *                     13 no stream (a listener), 14 ESTABLISHED with
 *                     tcp.pacing on and a 100 kB/s rate limit (tcp_pace.c:
 *                     held output, departure deadlines, the limited window),
 *                     15 ESTABLISHED with tcp.mtu_probing 2 (PLPMTUD probes
 *                     from the base MSS up, tcp_pmtu.c)
 *           bits 4-5  the peer's SYN options: H_OPT_NONE, MSS, ALL, SACK
 *           bits 6-7  the listener for starts 2, 9-11, 14-15: test, echo,
 *                     discard, test
 *   byte 1  parameters: bit 0 Nagle on, 1 keep-alive (1 s, 1 s, 2 probes),
 *           2 rcv_buf 4096, 3 snd_buf 4096, 4 delayed ACK 4 ms for short
 *           segments, 5 checksum offload, 6 NewReno, 7 short timers
 *           (RTO 200..1000 ms from 200, 1 retry, 1 SYN retry, TIME-WAIT
 *           and FIN-WAIT-2 1 s)
 *   byte 2  bit 0 no SACK, 1 no timestamps, 2 no window scaling, 3 no SYN
 *           cookies and 4 syn_backlog 1 (both after the start), 5 one challenge ACK
 *           per second, 6 delayed ACK off, 7 rcv_buf 65536
 *   then steps, each an opcode byte (see the OP_* table below) and its
 *   operands; a segment is
 *     flags, mode (bits 0-1 seq base: RCV.NXT, RCV.NXT + RCV.WND, IRS,
 *     absolute; bits 2-3 ack base: SND.MAX, SND.UNA, SND.NXT, absolute;
 *     bits 4-6 target: 0-1 the peer's stream, 2 the live stream given by
 *     the next byte, 3 another port of the peer to the test listener, 4 to
 *     echo, 5 to discard, 6 to a closed port, 7 to another address;
 *     bit 7 extension byte follows),
 *     [target byte], seq (int16 delta, or uint32), ack (the same),
 *     options byte (bits 0-2 SACK blocks, 3 no timestamp, 4-5 TSval as the
 *     peer's clock / older than TS.Recent / far ahead / TSecr 0, 6 raw
 *     options: length byte and bytes follow), SACK blocks (2 bytes each),
 *     payload length byte (0-127, then 12-byte steps to 1524),
 *     [extension: bit 0 window (2 bytes) follows, bit 1 bad checksum,
 *      bit 2 skip the worker's first pass].
 *
 * Two builds:
 *  - CI (gcc, no libFuzzer): tests/fuzz/meson.build links this file, the
 *    harness (with H_NO_CRITERION: tests/unit/cr_shim.h) and replay.c into
 *    fuzz_tcp_replay, which meson test (suite 'fuzz') runs over every file
 *    of tests/fuzz/corpus/tcp.
 *  - Local fuzzing with libFuzzer (clang; Debian: apt-get install clang
 *    libclang-rt-14-dev). From the repository root, after a meson build in
 *    ./build (for nothing but the DPDK flags):
 *
 *      clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *            -fno-sanitize-recover=all -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API \
 *            -DH_NO_CRITERION -I. $(pkg-config --cflags libdpdk) \
 *            tests/fuzz/fuzz_tcp.c tests/unit/tcp_harness.c secondary/tcp/tcp_[a-z]*.c \
 *            secondary/rst.c shm/hash.c shm/route.c shm/names.c \
 *            $(pkg-config --libs libdpdk) -lm -o /tmp/fuzz_tcp
 *      mkdir -p /tmp/fuzz-tcp-new
 *      nice -n 19 /tmp/fuzz_tcp -max_total_time=600 -max_len=2048 \
 *            -use_value_profile=1 /tmp/fuzz-tcp-new tests/fuzz/corpus/tcp
 *
 *    Merge what it found into the committed corpus (only inputs adding
 *    coverage are copied), as for fuzz_frames.c:
 *
 *      /tmp/fuzz_tcp -merge=1 tests/fuzz/corpus/tcp /tmp/fuzz-tcp-new
 *
 *    A crash leaves crash-<sha1>; replay it with /tmp/fuzz_tcp crash-<sha1>
 *    or build/tests/fuzz/fuzz_tcp_replay crash-<sha1>.
 *  - tests/fuzz/make_tcp_corpus.py writes the hand-made seeds (seed-*).
 *  - FUZZ_TCP_TRACE=1 in the environment prints every step, segment and
 *    frame of a run (to read what a crashing input did).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tcp_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- failing ------------------------------------------------------------------- */

static unsigned int step_no;       /* the step being run, for the message */
static const char *step_name = "setup";

__attribute__((noreturn, format(printf, 3, 4))) static void check_failed(int line, const char *what,
									   const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_tcp.c:%d: step %u (%s): invariant violated: %s", line, step_no, step_name,
		what);
	if (fmt[2]) {   /* ": " and a message */
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	abort();
}

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond))                                                    \
			check_failed(__LINE__, #cond, ": " __VA_ARGS__);        \
	} while (0)

/* FUZZ_TCP_TRACE=1 in the environment: every step and segment on stderr (to read a crash). */
static bool tracing;

__attribute__((format(printf, 1, 2))) static void trace(const char *fmt, ...)
{
	va_list ap;

	if (!tracing)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void trace_stream(const char *when, const struct tcp_tcb *t)
{
	if (!tracing || t == NULL)
		return;
	trace("    %s: stream %u %s una %#x nxt %#x max %#x wnd %u | rcv_nxt %#x adv %#x rcv_bytes %u ooo %u flags %#x\n",
	      when, tcb_idx(&H.ctx, t), tcp_state_name(t->state), t->snd_una, t->snd_nxt, t->snd_max, t->snd_wnd,
	      t->rcv_nxt, t->rcv_adv, t->rcv_bytes, t->ooo_segs, t->flags);
}

/* ---- input ------------------------------------------------------------------------- */

struct in {
	const uint8_t *p;
	size_t n, i;
};

static bool more(const struct in *in) { return in->i < in->n; }
static uint8_t u8(struct in *in) { return in->i < in->n ? in->p[in->i++] : 0; }
static uint16_t u16(struct in *in)
{
	uint16_t hi = u8(in);

	return (uint16_t)(hi << 8 | u8(in));
}
static uint32_t u32(struct in *in)
{
	uint32_t hi = u16(in);

	return hi << 16 | u16(in);
}

/* ---- byte patterns ------------------------------------------------------------------- */

/* The byte every peer sends at sequence number SEQ (whatever the connection). */
static uint8_t pdat(uint32_t seq)
{
	uint32_t x = seq * 2654435761u;

	return (uint8_t)(x >> 24 ^ x >> 11);
}

/* The byte the test application writes at offset K of its stream. */
static uint8_t adat(uint32_t k)
{
	uint32_t x = (k + 0x5bd1e995u) * 2246822519u;

	return (uint8_t)(x >> 24 ^ x >> 13);
}

/* ---- what the fuzzer knows ------------------------------------------------------------- */

/* One live stream, by TCB index: the incarnation and what its application did. */
struct smodel {
	bool live;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t iss;
	uint8_t state;
	uint8_t app0;         /* the application when first seen (the data's author) */
	bool held;            /* the test application holds it */
	uint32_t written;     /* bytes it queued with tcp_send */
	uint32_t writing;     /* bytes tcp_send may be taking now (it sends before it returns) */
	uint32_t nread;       /* bytes it read */
	uint32_t snd_una, rcv_nxt;
	uint32_t pmtu;        /* lowest path MTU reported for it (RFC 1191), 0 = none */
	unsigned int rsts;    /* RST frames it sent during the current call */
	bool ack_lost;        /* an owed ACK found no buffer (allocation failures): like one lost
	                         on the wire, it goes with the next output, not by a timer */
};

/* A segment being input, as the peer built it. */
struct cur_seg {
	bool active;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack, seg_len;
	uint8_t flags;
	bool has_ts;
	uint32_t tsval;
};

/* The peer's sequence space of the main stream's current incarnation (RFC 9293 §3.3.1). */
#define SENT_BITS (1u << 20)

static struct {
	struct smodel m[H_MAX_STREAMS];
	struct h_peer p;              /* the peer of the main stream */
	struct h_synopt so;           /* the options of its SYNs */
	struct cur_seg cur;           /* the segment in tcp_input, if any */
	bool fail_active;             /* allocations may fail in this call */
	long frames_held;             /* frames built and not yet input (a burst's) */
	bool let_go[H_MAX_STREAMS];   /* the application itself ended the stream in this call */
	bool just_opened[H_MAX_STREAMS]; /* tcp_connect returned it in this call */
	uint64_t clock_ms;            /* virtual time spent by this input */
	/* the peer's sent sequence space, relative to the main incarnation's IRS + 1 */
	bool sent_on;
	uint32_t sent_idx, sent_iss, sent_base, sent_prefix, sent_hi;
	uint8_t sent[SENT_BITS / 8];
} F;

static bool same_tuple(const struct smodel *m, const struct tcp_tcb *t)
{
	return m->laddr == t->laddr && m->raddr == t->raddr && m->lport == t->lport && m->rport == t->rport;
}

/* The model of T if it describes T's current incarnation, else NULL. */
static struct smodel *model_of(const struct tcp_tcb *t)
{
	struct smodel *m = &F.m[tcb_idx(&H.ctx, t)];

	return m->live && same_tuple(m, t) && m->iss == t->iss && t->state >= m->state ? m : NULL;
}

static bool can_send_data(uint8_t st)
{
	return st == TCP_ESTABLISHED || st == TCP_CLOSE_WAIT || st == TCP_FIN_WAIT_1 ||
	       st == TCP_CLOSING || st == TCP_LAST_ACK;
}

/* ---- frames the stack sends ------------------------------------------------------------ */

/* The out-of-order queue of T holds every byte of [L, R). */
static bool ooo_holds(const struct tcp_tcb *t, uint32_t l, uint32_t r)
{
	for (const struct rte_mbuf *m = t->ooo_head; m && seq_lt(l, r); m = m->next) {
		if (seq_gt(seg_seq(m), l))
			return false;
		if (seq_gt(seg_end(m), l))
			l = seg_end(m);
	}
	return !seq_lt(l, r);
}

/* A frame for no stream: only while a segment is input, and only its answer. */
static void check_reply(const struct h_out *o)
{
	const struct cur_seg *c = &F.cur;

	CHECK(c->active, "a frame for no stream (flags %#x) outside segment input", o->flags);
	CHECK(o->daddr == c->saddr && o->dport == c->sport && o->sport == c->dport && o->saddr == c->daddr,
	      "a frame for no stream to someone else than the segment's sender");
	/* RFC 9293 §3.10.7.1: an incoming RST is discarded, never answered */
	CHECK(!(c->flags & TH_RST), "an RST answered (flags %#x)", o->flags);
	if (o->flags & TH_RST) {
		CHECK(o->len == 0);
		if (c->flags & TH_ACK)
			CHECK(o->flags == TH_RST && o->seq == c->ack, "RST reply %#x seq %#x to an ACK of %#x",
			      o->flags, o->seq, c->ack);
		else
			CHECK(o->flags == (TH_RST | TH_ACK) && o->seq == 0 && o->ack == c->seq + c->seg_len,
			      "RST reply %#x seq %#x ack %#x to seq %#x len %u", o->flags, o->seq, o->ack,
			      c->seq, c->seg_len);
		return;
	}
	/* RFC 4987: a SYN cookie's SYN,ACK answers a SYN */
	CHECK(o->flags == (TH_SYN | TH_ACK) && (c->flags & (TH_SYN | TH_ACK)) == TH_SYN &&
	      o->ack == c->seq + 1 && o->len == 0,
	      "frame %#x ack %#x for no stream answering flags %#x seq %#x", o->flags, o->ack, c->flags,
	      c->seq);
}

static void check_stream_frame(struct tcp_tcb *t, const struct h_out *o)
{
	struct smodel *m = model_of(t);
	uint8_t app = m ? m->app0 : t->app;
	uint32_t mask = (1u << t->rcv_wscale) - 1;

	if (o->flags & TH_RST) {
		F.m[tcb_idx(&H.ctx, t)].rsts++;
		return;
	}
	if (o->flags & TH_SYN) {
		CHECK(t->state == TCP_SYN_SENT || t->state == TCP_SYN_RECEIVED, "SYN in state %s",
		      tcp_state_name(t->state));
		CHECK(o->seq == t->iss && o->len == 0 && !(o->flags & TH_FIN));
		if (t->state == TCP_SYN_SENT)
			CHECK(o->flags == TH_SYN, "flags %#x", o->flags);
		else
			CHECK(o->flags == (TH_SYN | TH_ACK) && o->ack == t->rcv_nxt);
		return;
	}
	/* RFC 9293 §3.1, §3.10.7.3: SYN-SENT knows no RCV.NXT to acknowledge */
	CHECK(t->state != TCP_SYN_SENT, "flags %#x ack %#x sent in SYN-SENT", o->flags, o->ack);
	CHECK(o->flags & TH_ACK, "flags %#x without ACK in state %s", o->flags, tcp_state_name(t->state));
	/* RFC 7323 §3.2: TSopt in every non-RST segment once negotiated, never otherwise */
	CHECK(o->opt.has_ts == !!(t->flags & TF(TS_OK)), "TSopt %d, negotiated %d", o->opt.has_ts,
	      !!(t->flags & TF(TS_OK)));
	/* RFC 2018 §4 / RFC 2883 §4: SACK only if permitted; a D-SACK (at or below
	 * RCV.NXT) first; every other block names data held out of order */
	CHECK(o->opt.nsack == 0 || (t->flags & TF(SACK_OK)), "SACK blocks without SACK-permitted");
	for (unsigned int i = 0; i < o->opt.nsack; i++) {
		uint32_t l = o->opt.sack[i].left, r = o->opt.sack[i].right;

		CHECK(seq_lt(l, r), "empty SACK block %u [%#x, %#x)", i, l, r);
		if (i == 0 && seq_leq(r, t->rcv_nxt))
			continue;
		CHECK(seq_gt(l, t->rcv_nxt) && ooo_holds(t, l, r),
		      "SACK block %u [%#x, %#x) is not data held out of order (RCV.NXT %#x)", i, l, r,
		      t->rcv_nxt);
	}
	/* RFC 9293 §3.8.6.2.2: the right edge does not move left (RFC 7323 §2.4: but for the scale's rounding) */
	CHECK(seq_geq(o->ack + ((uint32_t)o->wnd << t->rcv_wscale) + mask, t->rcv_adv),
	      "window edge %#x below the advertised %#x", o->ack + ((uint32_t)o->wnd << t->rcv_wscale),
	      t->rcv_adv);
	if (o->len) {
		uint32_t k = o->seq - t->iss - 1, limit = t->peer_mss < 1460 ? t->peer_mss : 1460;

		CHECK(can_send_data(t->state), "data in state %s", tcp_state_name(t->state));
		if (app == TAPP_TEST) {
			CHECK(m != NULL && k < m->written + m->writing && k + o->len <= m->written + m->writing,
			      "bytes [%u, %u) sent, %u written", k, k + o->len, m ? m->written + m->writing : 0);
			for (uint32_t i = 0; i < o->len; i++)
				CHECK(o->payload[i] == adat(k + i), "byte %u of the stream differs", k + i);
		} else if (app == TAPP_ECHO) {
			for (uint32_t i = 0; i < o->len; i++)
				CHECK(o->payload[i] == pdat(t->irs + 1 + k + i), "echoed byte %u differs", k + i);
		} else {
			CHECK(0, "data from a stream of app %u", app);
		}
		/* RFC 9293 §3.7.1 (MUST-16), RFC 1191 (the stack's floor: TCP_MIN_PMTU) */
		if (m && m->pmtu) {
			uint32_t pm = (m->pmtu < TCP_MIN_PMTU ? TCP_MIN_PMTU : m->pmtu) - 40;

			if (pm < limit)
				limit = pm;
		}
		/* the stack's floor: 48 bytes of payload whatever the peer announced (TCP_MIN_SND_MSS) */
		if (limit < TCP_MIN_SND_MSS + o->optlen)
			limit = TCP_MIN_SND_MSS + o->optlen;
		CHECK(o->len + o->optlen <= limit, "%u bytes + %u of options, peer MSS %u, limit %u", o->len,
		      o->optlen, t->peer_mss, limit);
		/* RFC 9293 §3.8.6: new data within SND.UNA + SND.WND; a zero window is probed with one byte */
		if (seq_gt(o->seq + o->len, t->snd_max))
			CHECK(seq_leq(o->seq + o->len, t->snd_una + t->snd_wnd) ||
			      (t->snd_wnd == 0 && o->len == 1 && o->seq == t->snd_una),
			      "new data [%#x, %#x) beyond SND.UNA %#x + SND.WND %u", o->seq, o->seq + o->len,
			      t->snd_una, t->snd_wnd);
	}
	if (o->flags & TH_FIN) {
		/* RFC 9293 §3.10.4: the FIN follows every byte the application queued */
		CHECK((t->flags & TF(FIN_QUEUED)) &&
		      (t->state == TCP_FIN_WAIT_1 || t->state == TCP_CLOSING || t->state == TCP_LAST_ACK),
		      "FIN in state %s", tcp_state_name(t->state));
		if (app == TAPP_TEST && m)
			CHECK(o->seq + o->len - t->iss - 1 == m->written, "FIN at offset %u, %u written",
			      o->seq + o->len - t->iss - 1, m->written);
	}
}

static void check_frame(const uint8_t *frame, uint32_t len, uint16_t port)
{
	struct h_out o;
	struct tcp_tcb *t;

	h_decode(frame, len, port, &o);
	trace("    sent %u -> %u flags %#x seq %#x ack %#x wnd %u len %u sack %u\n", o.sport, o.dport, o.flags, o.seq,
	      o.ack, o.wnd, o.len, o.opt.nsack);
	CHECK(o.ip_ok && o.ip_csum_ok && o.tcp_csum_ok && o.opt_rc == 0 && o.ttl > 0 && o.df,
	      "malformed frame (len %u)", len);
	CHECK(o.port == 0 && o.flen <= 14u + H.g->ports[0].mtu, "frame of %u bytes on port %u", o.flen,
	      o.port);
	CHECK(o.saddr == H_LOCAL_IP);
	t = tcb_lookup(&H.ctx, o.saddr, o.sport, o.daddr, o.dport);
	if (t == NULL)
		check_reply(&o);
	else
		check_stream_frame(t, &o);
}

/* ---- after every call: the whole area ------------------------------------------------- */

static uint32_t earliest(const struct tcp_tcb *t)
{
	uint32_t at = 0;
	const uint32_t d[3] = { t->rto_at, t->delack_at, t->keep_at };

	for (unsigned int i = 0; i < 3; i++)
		if (d[i] && (!at || ms_before(d[i], at)))
			at = d[i];
	return at;
}

static void check_timer(const struct tcp_tcb *t, uint32_t i, struct smodel *m)
{
	uint32_t at = earliest(t), slot, n = 0, j;

	/* the one timer sits at the earliest deadline (tcp_timer.c) */
	CHECK(t->t_at == at, "stream %u: timer at %u, deadlines rto %u delack %u keep %u", i, t->t_at,
	      t->rto_at, t->delack_at, t->keep_at);
	if (at) {
		slot = ms_due(at, H.ctx.area->wheel_tick) ? H.ctx.area->wheel_tick + 1 : at;
		CHECK(t->t_slot == (slot & (TCP_WHEEL_SLOTS - 1)), "stream %u: deadline %u in slot %u", i,
		      at, t->t_slot);
		for (j = H.ctx.wheel[t->t_slot]; j != TCP_NIL && j != i && n++ < H_MAX_STREAMS;
		     j = H.ctx.tcbs[j].t_next)
			;
		CHECK(j == i, "stream %u: not linked in its wheel slot %u", i, t->t_slot);
		CHECK(t->t_prev == TCP_NIL ? H.ctx.wheel[t->t_slot] == i : H.ctx.tcbs[t->t_prev].t_next == i);
	}
	if (t->state == TCP_SYN_SENT || t->state == TCP_SYN_RECEIVED)
		CHECK(t->rto_at, "stream %u: %s without a retransmission timer", i, tcp_state_name(t->state));
	if (t->state == TCP_TIME_WAIT)
		CHECK(t->keep_at, "stream %u: TIME-WAIT without its 2MSL timer", i);
	/* RFC 6298 §5.1: something outstanding, the timer runs */
	if (t->snd_una != t->snd_max && t->state != TCP_TIME_WAIT)
		CHECK(t->rto_at, "stream %u: %s with [%#x, %#x) outstanding and no timer", i,
		      tcp_state_name(t->state), t->snd_una, t->snd_max);
	/* data or a FIN to send and nothing outstanding: it went, or the window is shut and
	 * the persist timer runs (RFC 9293 §3.8.6.1), or a buffer was missing and the timer retries,
	 * or pacing holds it and its output deadline runs (tcp_pace.c) */
	if (can_send_data(t->state) && t->snd_una == t->snd_max &&
	    (t->snd_bytes || ((t->flags & TF(FIN_QUEUED)) && !(t->flags & TF(FIN_SENT)))))
		CHECK(t->rto_at || (t->delack_at && (t->rate || PRM->pacing)), "stream %u: %s, %u bytes%s to send, window %u, nothing out, no timer", i,
		      tcp_state_name(t->state), t->snd_bytes,
		      (t->flags & TF(FIN_QUEUED)) && !(t->flags & TF(FIN_SENT)) ? " and a FIN" : "",
		      t->snd_wnd);
	if (!(t->flags & (TF(ACK_NOW) | TF(DELACK))))
		m->ack_lost = false;
	else if (F.fail_active)
		m->ack_lost = true;
	if (!m->ack_lost && t->state != TCP_TIME_WAIT) {
		CHECK(!(t->flags & TF(ACK_NOW)), "stream %u: %s, an ACK owed now was not sent", i,
		      tcp_state_name(t->state));
		CHECK(!(t->flags & TF(DELACK)) || t->delack_at, "stream %u: a delayed ACK without its timer",
		      i);
	}
}

static uint32_t chain_len(const struct rte_mbuf *m, uint32_t *bytes)
{
	uint32_t n = 0;

	for (; m; m = m->next) {
		n++;
		if (bytes)
			*bytes += m->data_len;
	}
	return n;
}

/*
 * After a call: the area, every stream against its model, the main stream's
 * sequence space. LIVENESS: no output is pending in a batch.
 */
static void scan(bool liveness)
{
	uint32_t evmask[H_MAX_STREAMS] = { 0 };
	long queued = 0;

	CHECK(tcp_check(&H.ctx, stderr) == 0, "tcp_check (see above)");
	for (unsigned int e = 0; e < H.nev; e++)
		if (H.ev[e].s < H_MAX_STREAMS)
			evmask[H.ev[e].s] |= H.ev[e].ev;
	h_clear_events();
	for (uint32_t i = 0; i < H.ctx.area->max_streams; i++) {
		struct tcp_tcb *t = TCB(i);
		struct smodel *m = &F.m[i];
		bool live = t->state != TCP_CLOSED, same = live && model_of(t) != NULL;
		bool ended = !!(evmask[i] & (TEV_APP_RESET | TEV_APP_CLOSED));

		if (m->live && !same) {
			/* tcp.h: a stream ends for its application with TEV_APP_RESET or TEV_APP_CLOSED */
			CHECK(!m->held || ended || F.let_go[i],
			      "stream %u (was %s) ended under its application without RESET/CLOSED", i,
			      tcp_state_name(m->state));
			m->live = false;
		}
		if (!live) {
			F.let_go[i] = false;
			F.just_opened[i] = false;
			continue;
		}
		queued += chain_len(t->snd_head, NULL) + chain_len(t->rcv_head, NULL) + chain_len(t->ooo_head, NULL);
		if (!same) {
			memset(m, 0, sizeof(*m));
			m->live = true;
			m->laddr = t->laddr;
			m->raddr = t->raddr;
			m->lport = t->lport;
			m->rport = t->rport;
			m->iss = t->iss;
			m->app0 = t->app;
			m->snd_una = t->snd_una;
			m->rcv_nxt = t->rcv_nxt;
		} else {
			/* RFC 9293 §3.3.1: SND.UNA and RCV.NXT only advance */
			CHECK(seq_geq(t->snd_una, m->snd_una), "stream %u: SND.UNA %#x went back to %#x", i,
			      m->snd_una, t->snd_una);
			if (m->state != TCP_SYN_SENT)
				CHECK(seq_geq(t->rcv_nxt, m->rcv_nxt), "stream %u: RCV.NXT %#x went back to %#x",
				      i, m->rcv_nxt, t->rcv_nxt);
		}
		if ((evmask[i] & TEV_APP_CONNECTED) && t->app == TAPP_TEST)
			m->held = true;
		if (F.just_opened[i])
			m->held = true;
		if (F.let_go[i])
			m->held = false;
		F.let_go[i] = F.just_opened[i] = false;
		if (ended) {
			CHECK(t->app == TAPP_NONE, "stream %u: still with its application after RESET/CLOSED", i);
			m->held = false;
		}
		if (m->held)
			CHECK(t->app == TAPP_TEST, "stream %u: the application's stream now has app %u", i, t->app);
		m->state = t->state;
		m->snd_una = t->snd_una;
		m->rcv_nxt = t->rcv_nxt;
		/* the buffers: tcp.rcv_buf bounds what is queued to read and out of order, tcp.snd_buf what to send */
		{
			uint32_t ooo = 0;

			chain_len(t->ooo_head, &ooo);
			CHECK(t->rcv_bytes + ooo <= H.g->tcp.rcv_buf, "stream %u: %u + %u bytes received, rcv_buf %u",
			      i, t->rcv_bytes, ooo, H.g->tcp.rcv_buf);
			CHECK(t->snd_bytes <= H.g->tcp.snd_buf, "stream %u: %u bytes queued, snd_buf %u", i,
			      t->snd_bytes, H.g->tcp.snd_buf);
		}
		if (liveness)
			check_timer(t, i, m);
	}
	/* tcp_input consumes its frame; between calls every buffer is in a queue */
	CHECK(H.live_mbufs == queued + F.frames_held, "%ld fake mbufs live, %ld in queues, %ld frames to input",
	      H.live_mbufs, queued, F.frames_held);
}

/* ---- the main stream's sequence space ------------------------------------------------- */

static struct tcp_tcb *main_tcb(void)
{
	uint32_t s = h_lookup(F.p.laddr, F.p.lport, F.p.raddr, F.p.rport);

	return s == TCP_NIL ? NULL : TCB(s);
}

static void sent_mark(uint32_t seq)
{
	uint32_t off = seq - F.sent_base;

	if (off >= SENT_BITS)
		return;
	F.sent[off / 8] |= (uint8_t)(1u << (off % 8));
	if (off + 1 > F.sent_hi)
		F.sent_hi = off + 1;
	while (F.sent_prefix < SENT_BITS && (F.sent[F.sent_prefix / 8] & (1u << (F.sent_prefix % 8))))
		F.sent_prefix++;
}

/* The main incarnation now: start over if it is a new one. */
static struct tcp_tcb *sent_sync(void)
{
	struct tcp_tcb *t = main_tcb();

	if (t == NULL || t->state == TCP_SYN_SENT) {
		F.sent_on = false;
		return NULL;
	}
	if (!F.sent_on || F.sent_idx != tcb_idx(&H.ctx, t) || F.sent_iss != t->iss || F.sent_base != t->irs + 1) {
		memset(F.sent, 0, (F.sent_hi + 7) / 8);
		F.sent_on = true;
		F.sent_idx = tcb_idx(&H.ctx, t);
		F.sent_iss = t->iss;
		F.sent_base = t->irs + 1;
		F.sent_prefix = F.sent_hi = 0;
	}
	return t;
}

/* The peer sent [SEQ, SEQ + LEN) and maybe a FIN after it on the main tuple. */
static void sent_segment(uint32_t seq, uint32_t len, bool fin)
{
	if (sent_sync() == NULL)
		return;
	for (uint32_t i = 0; i < len; i++)
		sent_mark(seq + i);
	if (fin)
		sent_mark(seq + len);
}

/* RFC 9293 §3.3.1: RCV.NXT covers only sequence space the peer sent. */
static void sent_check(void)
{
	struct tcp_tcb *t = sent_sync();

	if (t == NULL)
		return;
	CHECK(t->rcv_nxt - F.sent_base <= F.sent_prefix,
	      "RCV.NXT %#x is %u past IRS + 1, the peer sent %u in sequence", t->rcv_nxt,
	      t->rcv_nxt - F.sent_base, F.sent_prefix);
}

/* ---- calls into the stack ------------------------------------------------------------- */

static bool batching(void)
{
	return H.ctx.batching;
}

static void call_done(void)
{
	h_drain();
	scan(!batching());
	sent_check();
	F.fail_active = false;
	H.fail_skip = H.fail_allocs = 0;
}

/* A snapshot of the stream of one 4-tuple. */
struct snap {
	bool live;
	uint32_t idx, iss, irs, flags;
	uint8_t state;
	uint32_t snd_una, snd_max, rcv_nxt, rcv_adv, max_snd_wnd, ts_recent;
};

static struct snap snap_of(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	struct snap s = { 0 };
	uint32_t i = h_lookup(laddr, lport, raddr, rport);

	if (i == TCP_NIL)
		return s;
	s.live = true;
	s.idx = i;
	s.iss = TCB(i)->iss;
	s.irs = TCB(i)->irs;
	s.flags = TCB(i)->flags;
	s.state = TCB(i)->state;
	s.snd_una = TCB(i)->snd_una;
	s.snd_max = TCB(i)->snd_max;
	s.rcv_nxt = TCB(i)->rcv_nxt;
	s.rcv_adv = TCB(i)->rcv_adv;
	s.max_snd_wnd = TCB(i)->max_snd_wnd;
	s.ts_recent = TCB(i)->ts_recent;
	return s;
}

/* RFC 9293 §3.10.7.4 first: the four cases of segment acceptability. */
static bool acceptable(const struct snap *s, const struct cur_seg *c)
{
	uint32_t wnd = seq_gt(s->rcv_adv, s->rcv_nxt) ? s->rcv_adv - s->rcv_nxt : 0;

	if (c->seg_len == 0)
		return wnd == 0 ? c->seq == s->rcv_nxt : c->seq - s->rcv_nxt < wnd;
	if (wnd == 0)
		return false;
	return c->seq - s->rcv_nxt < wnd || c->seq + c->seg_len - 1 - s->rcv_nxt < wnd;
}

/* What one segment may do to the stream it is for (the state before: PRE, after: POST). */
static void check_segment(const struct cur_seg *c, const struct snap *pre, const struct snap *post)
{
	uint8_t st = pre->state, f = c->flags;
	bool same = post->live && post->idx == pre->idx && post->iss == pre->iss && post->state >= st;
	bool unchanged = same && post->state == st && post->snd_una == pre->snd_una &&
			 post->rcv_nxt == pre->rcv_nxt;

	if (!pre->live)
		return;
	if (st == TCP_TIME_WAIT && post->live && !same)
		/* RFC 9293 §3.6.1 (1): the new ISS greater than the largest sequence number the
		 * old incarnation used, SND.MAX - 1 */
		CHECK(seq_geq(post->iss, pre->snd_max), "TIME-WAIT reopened with ISS %#x, old SND.MAX %#x",
		      post->iss, pre->snd_max);
	if (st == TCP_SYN_SENT) {
		/* RFC 9293 §3.10.7.3 */
		bool ack_ok = (f & TH_ACK) && seq_gt(c->ack, pre->iss) && seq_leq(c->ack, pre->snd_max);

		if (f & TH_RST) {
			if (ack_ok)
				CHECK(!same, "SYN-SENT: an RST with an acceptable ACK did not reset");
			else
				CHECK(unchanged, "SYN-SENT: an RST without an acceptable ACK changed the stream");
		} else if (((f & TH_ACK) && !ack_ok) || !(f & TH_SYN)) {
			CHECK(unchanged, "SYN-SENT: a segment with a bad ACK or without SYN changed the stream");
		}
		return;
	}
	if (f & TH_RST) {
		/* RFC 5961 §3.2 */
		if (c->seq == pre->rcv_nxt && c->seg_len == 0 && st != TCP_TIME_WAIT)
			CHECK(!same, "an RST at RCV.NXT did not reset (%s)", tcp_state_name(st));
		if (c->seq != pre->rcv_nxt)
			CHECK(unchanged, "an RST at %#x, RCV.NXT %#x, changed the stream (%s)", c->seq,
			      pre->rcv_nxt, tcp_state_name(st));
		return;
	}
	if (st == TCP_SYN_RECEIVED && (f & TH_SYN))
		return;   /* a retransmitted SYN, a simultaneous SYN,ACK; RFC 9293 and 5961 differ on others */
	if (st == TCP_TIME_WAIT && (f & (TH_SYN | TH_ACK)) == TH_SYN)
		return;   /* may reopen the connection (RFC 9293 §3.6.1, RFC 6191) */
	if (f & TH_SYN) {
		/* RFC 5961 §4.2, RFC 9293 §3.10.7.4 fourth: a challenge ACK, the segment dropped */
		CHECK(unchanged, "a SYN in %s changed the stream", tcp_state_name(st));
		return;
	}
	/* RFC 7323 §5.3 R1 (the clock never runs 24 days here) */
	if ((pre->flags & TF(TS_OK)) && c->has_ts && seq_lt(c->tsval, pre->ts_recent)) {
		CHECK(unchanged, "PAWS: TSval %#x below TS.Recent %#x, yet the stream changed", c->tsval,
		      pre->ts_recent);
		return;
	}
	if (!acceptable(pre, c)) {
		CHECK(unchanged, "an unacceptable segment (seq %#x len %u, RCV.NXT %#x, window to %#x) changed the stream",
		      c->seq, c->seg_len, pre->rcv_nxt, pre->rcv_adv);
		return;
	}
	if (!(f & TH_ACK)) {
		CHECK(unchanged, "a segment without ACK changed the stream (%s)", tcp_state_name(st));
		return;
	}
	if (st == TCP_SYN_RECEIVED) {
		if (!(seq_gt(c->ack, pre->snd_una) && seq_leq(c->ack, pre->snd_max)))
			CHECK(unchanged, "SYN-RECEIVED: an unacceptable ACK %#x changed the stream", c->ack);
		return;
	}
	/* RFC 5961 §5.2 */
	if (seq_gt(c->ack, pre->snd_max) || seq_lt(c->ack, pre->snd_una - pre->max_snd_wnd))
		CHECK(unchanged, "an ACK %#x outside [%#x - %u, %#x] changed the stream", c->ack, pre->snd_una,
		      pre->max_snd_wnd, pre->snd_max);
}

/* A built segment and how it reaches the stack. */
struct seg_out {
	struct rte_mbuf *m;
	struct cur_seg c;
	bool bad;              /* bad checksum or not our address: dropped */
	bool direct;           /* skip the worker's first pass */
	bool main;             /* for the main tuple */
	uint32_t pay_seq, pay_len;
	bool fin;
};

/* The worker's first pass (tcp_input_stateless); true if the frame goes on to tcp_input. */
static bool first_pass(struct seg_out *so)
{
	enum tcp_sl_verdict v;

	if (so->direct)
		return true;
	F.cur = so->c;
	v = tcp_input_stateless(&H.ctx, so->m);
	if (v == TCP_SL_SEND) {
		/* the frame became its own RST reply (§3.10.7.1): check it as if sent */
		check_frame(rte_pktmbuf_mtod(so->m, const uint8_t *), so->m->data_len, so->m->port);
		h_mbuf_free(so->m);
	} else if (v == TCP_SL_FREE) {
		h_mbuf_free(so->m);
	}
	F.cur.active = false;
	if (v != TCP_SL_STATEFUL)
		so->m = NULL;
	return v == TCP_SL_STATEFUL;
}

/* The second pass: tcp_input with every per-segment check. */
static void second_pass(struct seg_out *so)
{
	struct snap pre = snap_of(so->c.daddr, so->c.dport, so->c.saddr, so->c.sport), post;

	trace("  segment %u -> %u flags %#x seq %#x ack %#x len %u%s%s\n", so->c.sport, so->c.dport, so->c.flags,
	      so->c.seq, so->c.ack, so->pay_len, so->c.has_ts ? " ts" : "", so->bad ? " (bad)" : "");
	trace_stream("before", tcb_lookup(&H.ctx, so->c.daddr, so->c.dport, so->c.saddr, so->c.sport));
	F.cur = so->c;
	H.rx_current = so->m;
	H.rx_consumed = false;
	tcp_input(&H.ctx, so->m);
	H.rx_current = NULL;
	so->m = NULL;
	F.cur.active = false;
	post = snap_of(so->c.daddr, so->c.dport, so->c.saddr, so->c.sport);
	trace_stream("after", tcb_lookup(&H.ctx, so->c.daddr, so->c.dport, so->c.saddr, so->c.sport));
	if (!so->bad)
		check_segment(&so->c, &pre, &post);
	else
		CHECK(!pre.live || (post.live && post.idx == pre.idx && post.state == pre.state &&
				    post.rcv_nxt == pre.rcv_nxt && post.snd_una == pre.snd_una),
		      "a dropped frame changed the stream");
	if (so->main && !so->bad && !(so->c.flags & TH_RST))
		sent_segment(so->pay_seq, so->pay_len, so->fin);
}

/* ---- building segments ------------------------------------------------------------------ */

#define ALT_PORT    (H_PEER_PORT + 100)
#define OTHER_IP    0x0a000009u

static uint32_t peer_tsval(void)
{
	return F.p.tsval + (H.ctx.now_ms - H_T0_MS);
}

/* The live stream number K (in index order), or NULL. */
static struct tcp_tcb *live_k(uint8_t k)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < H.ctx.area->max_streams; i++)
		if (TCB(i)->state != TCP_CLOSED)
			n++;
	if (n == 0)
		return NULL;
	k = (uint8_t)(k % n);
	for (uint32_t i = 0; i < H.ctx.area->max_streams; i++)
		if (TCB(i)->state != TCP_CLOSED && k-- == 0)
			return TCB(i);
	return NULL;
}

/* SACK block N of the options byte: on segment boundaries, a D-SACK, inside the previous, anywhere. */
static void sack_block(struct in *in, const struct tcp_tcb *t, struct tcp_sack_block *b,
		       const struct tcp_sack_block *prev)
{
	uint8_t b0 = u8(in), b1 = u8(in), kind = b0 >> 6, k = b0 & 0x3f;
	uint32_t una = t ? t->snd_una : 0;

	switch (kind) {
	case 0: {
		const struct rte_mbuf *m = t ? t->snd_head : NULL, *e;
		uint32_t n = t ? chain_len(t->snd_head, NULL) : 0;

		if (n == 0) {
			b->left = una;
			b->right = una + 8u * b1;
			break;
		}
		for (k = (uint8_t)(k % n); k; k--)
			m = m->next;
		e = m;
		for (uint8_t j = b1 % 8; j && e->next; j--)
			e = e->next;
		b->left = seg_seq(m);
		b->right = seg_end(e);
		break;
	}
	case 1:
		b->left = una - (k + 1u) * 100u;
		b->right = b->left + (b1 + 1u) * 16u;
		break;
	case 2:
		b->left = (prev ? prev->left : una) + k;
		b->right = b->left + b1;
		break;
	default:
		b->left = una + k * 97u;
		b->right = b->left + b1 * 13u;
		break;
	}
}

/*
 * Read one segment's description and build it. Returns false when there is
 * nothing to send (no stream for a "live stream" target).
 */
static bool build_segment(struct in *in, struct seg_out *so)
{
	uint8_t flags = u8(in), mode = u8(in), target = (mode >> 4) & 7, ext = 0, ob, raw[40];
	struct h_spec sp = { 0 };
	struct tcp_opts_out oo = { 0 };
	struct tcp_tcb *t;
	uint32_t seq_base, ack_base, seq, ack, len, syn;
	uint8_t lenb, payload[1600];
	unsigned int raw_len = 0;
	bool ts;

	memset(so, 0, sizeof(*so));
	sp.saddr = F.p.raddr;
	sp.daddr = F.p.laddr;
	sp.sport = F.p.rport;
	sp.dport = F.p.lport;
	switch (target) {
	case 2:
		t = live_k(u8(in));
		if (t == NULL)
			return false;
		sp.saddr = t->raddr;
		sp.daddr = t->laddr;
		sp.sport = t->rport;
		sp.dport = t->lport;
		break;
	case 3:
		sp.sport = (uint16_t)(ALT_PORT + (u8(in) & 3));
		sp.dport = H_TEST_PORT;
		break;
	case 4:
		sp.sport = (uint16_t)(ALT_PORT + 8 + (u8(in) & 1));
		sp.dport = H_ECHO_PORT;
		break;
	case 5:
		sp.sport = (uint16_t)(ALT_PORT + 12 + (u8(in) & 1));
		sp.dport = H_DISCARD_PORT;
		break;
	case 6:
		sp.sport = (uint16_t)(ALT_PORT + 16 + (u8(in) & 1));
		sp.dport = H_CLOSED_PORT;
		break;
	case 7:
		sp.daddr = OTHER_IP;
		so->bad = true;
		break;
	default:
		break;
	}
	so->main = sp.saddr == F.p.raddr && sp.daddr == F.p.laddr && sp.sport == F.p.rport &&
		   sp.dport == F.p.lport;
	t = tcb_lookup(&H.ctx, sp.daddr, sp.dport, sp.saddr, sp.sport);
	/* the bases: the stream's variables, or the peer model for a stream yet to be */
	switch (mode & 3) {
	case 0:
		seq_base = t && t->state != TCP_SYN_SENT ? t->rcv_nxt : so->main ? F.p.snd_nxt : 7000000u;
		break;
	case 1:
		seq_base = t && t->state != TCP_SYN_SENT ? t->rcv_adv : so->main ? F.p.snd_nxt : 7000000u;
		break;
	case 2:
		seq_base = t && t->state != TCP_SYN_SENT ? t->irs : so->main ? F.p.isn : 7000000u;
		break;
	default:
		seq_base = 0;
		break;
	}
	switch ((mode >> 2) & 3) {
	case 0:
		ack_base = t ? t->snd_max : so->main ? F.p.rcv_nxt : 0;
		break;
	case 1:
		ack_base = t ? t->snd_una : so->main ? F.p.rcv_nxt : 0;
		break;
	case 2:
		ack_base = t ? t->snd_nxt : so->main ? F.p.rcv_nxt : 0;
		break;
	default:
		ack_base = 0;
		break;
	}
	seq = (mode & 3) == 3 ? u32(in) : seq_base + (uint32_t)(int32_t)(int16_t)u16(in);
	ack = ((mode >> 2) & 3) == 3 ? u32(in) : ack_base + (uint32_t)(int32_t)(int16_t)u16(in);
	/* options */
	ob = u8(in);
	ts = !(ob & 0x08) && (t ? (t->flags & TF(TS_OK)) || t->state == TCP_SYN_SENT : F.so.ts);
	if (ob & 0x40) {
		raw_len = u8(in) % 41;
		for (unsigned int i = 0; i < raw_len; i++)
			raw[i] = u8(in);
	} else if (flags & TH_SYN) {
		oo.mss = F.so.mss;
		oo.mss_val = F.so.mss_val;
		oo.wscale = F.so.ws;
		oo.wscale_val = F.so.ws_val;
		oo.sack_perm = F.so.sack;
		oo.ts = F.so.ts && !(ob & 0x08);
	} else {
		oo.ts = ts;
		oo.nsack = ob & 7;
		if (oo.nsack > 4)
			oo.nsack = 0;
		for (unsigned int i = 0; i < oo.nsack; i++)
			sack_block(in, t, &oo.sack[i], i ? &oo.sack[i - 1] : NULL);
	}
	oo.ts_val = peer_tsval();
	oo.ts_ecr = H.ctx.now_ms;
	switch ((ob >> 4) & 3) {
	case 1:
		oo.ts_val = (t ? t->ts_recent : oo.ts_val) - 1 - (ob >> 7) * 1000u;
		break;
	case 2:
		oo.ts_val += 0x7ffffff0u;
		break;
	case 3:
		oo.ts_ecr = 0;
		break;
	default:
		break;
	}
	lenb = u8(in);
	len = lenb < 128 ? lenb : (lenb - 128u) * 12u;
	if (mode & 0x80)
		ext = u8(in);
	sp.wnd = (ext & 1) ? u16(in) : 65535;
	sp.seq = seq;
	sp.ack = ack;
	sp.flags = flags;
	syn = !!(flags & TH_SYN);
	for (uint32_t i = 0; i < len; i++)
		payload[i] = pdat(seq + syn + i);
	sp.payload = payload;
	sp.len = len;
	if (raw_len) {
		sp.raw_opts = raw;
		sp.raw_len = raw_len;
	} else {
		sp.opts = &oo;
	}
	sp.bad_tcp_csum = !!(ext & 2);
	so->bad = so->bad || sp.bad_tcp_csum;
	so->direct = !!(ext & 4);
	so->m = h_build(&sp);
	/* what the stack will see (raw options parse as they parse) */
	so->c.active = true;
	so->c.saddr = sp.saddr;
	so->c.daddr = sp.daddr;
	so->c.sport = sp.sport;
	so->c.dport = sp.dport;
	so->c.seq = seq;
	so->c.ack = ack;
	so->c.flags = flags;
	so->c.seg_len = len + syn + !!(flags & TH_FIN);
	{
		struct tcp_opts po;
		uint8_t ob2[40];
		unsigned int ol = raw_len ? (raw_len + 3) & ~3u : tcp_opts_build(&oo, ob2);

		if (raw_len) {
			memset(ob2, 0, sizeof(ob2));
			memcpy(ob2, raw, raw_len);
		}
		if (tcp_opts_parse(ob2, ol, &po) == 0) {
			so->c.has_ts = po.has_ts;
			so->c.tsval = po.ts_val;
		} else {
			so->bad = true;   /* malformed options: dropped (tcp_opt.h) */
		}
	}
	so->pay_seq = seq + syn;
	so->pay_len = len;
	so->fin = !!(flags & TH_FIN);
	return true;
}

/* ---- operations ----------------------------------------------------------------------------- */

/*
 * Opcodes and their operands. "stream k": the k-th (modulo their number)
 * stream the test application holds, in index order.
 */
enum {
	OP_SEG_END = 120,      /* 0..119   one segment (layout in the header comment) */
	OP_BURST_END = 132,    /* 120..131 2 + (op & 7) segments as one burst; bit 3 of op - 120: the
	                        *          worker dies after the input, before the flush */
	OP_SEND_END = 148,     /* 132..147 k, length (uint16, 15 bits): tcp_send */
	OP_RECV_END = 164,     /* 148..163 k, length (uint16): tcp_recv */
	OP_SHUT_END = 168,     /* 164..167 k: tcp_shutdown */
	OP_CLOSE_END = 171,    /* 168..170 k: tcp_close */
	OP_ABORT_END = 173,    /* 171..172 k: tcp_abort */
	OP_CONNECT_END = 174,  /* 173      port byte: tcp_connect to the peer */
	OP_TICK_END = 200,     /* 174..199 ms byte: h_advance 1..64 ms */
	OP_WAIT_END = 216,     /* 200..215 extra ms byte: advance wait_ms[op - 200] + extra, timers at
	                        *          their deadlines (what a worker asleep until its next timer sees) */
	OP_STALL_END = 220,    /* 216..219 index byte: the clock jumps wait_ms[i & 15], then one
	                        *          tcp_timers (a stalled worker) */
	OP_ICMP_END = 228,     /* 220..227 selector (bit 0: live stream (bits 1-6) instead of the main
	                        *          one; bit 7: as a frame, then type/code and cut bytes),
	                        *          MTU (uint16), quoted seq (uint32): ICMP fragmentation needed */
	OP_CRASH_END = 236,    /* 228..235 the worker dies (odd op: at a quiescent point):
	                        *          h_reattach, tcp_resume */
	OP_QUIESCE_END = 240,  /* 236..239 tcp_quiesce */
	OP_FAIL_END = 248,     /* 240..247 byte b: in the next step b & 7 allocations succeed, then
	                        *          1 + (b >> 3) fail */
	/* 248..255 byte b: the peer acknowledges everything and sends (b & 127) * 12 bytes (at most
	 * an MSS) in order, with a FIN if b & 128 */
};

static const uint32_t wait_ms[16] = {
	5, 20, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000, 30000, 60000, 65000, 130000,
};

#define MAX_CLOCK_MS (3600u * 1000)   /* per input: far from PAWS' 24 days */

/* The stream the application acts on: the held stream number K in index order. */
static uint32_t held_k(uint8_t k)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < H.ctx.area->max_streams; i++)
		if (F.m[i].live && F.m[i].held)
			n++;
	if (n == 0)
		return TCP_NIL;
	k = (uint8_t)(k % n);
	for (uint32_t i = 0; i < H.ctx.area->max_streams; i++)
		if (F.m[i].live && F.m[i].held && k-- == 0)
			return i;
	return TCP_NIL;
}

static void op_segment(struct in *in)
{
	struct seg_out so;

	step_name = "segment";
	if (!build_segment(in, &so))
		return;
	tcp_input_begin(&H.ctx);   /* as the worker: pass 2 takes what pass 1 parsed */
	if (first_pass(&so))
		second_pass(&so);
	call_done();
}

static void op_burst(struct in *in, uint8_t op)
{
	struct seg_out so[9];
	unsigned int n = 2 + (op & 7), k = 0;
	bool crash = !!((op - OP_SEG_END) & 8);

	step_name = crash ? "burst, crash before the flush" : "burst";
	for (unsigned int i = 0; i < n && more(in); i++)
		if (build_segment(in, &so[k]))
			k++;
	/* the worker: pass 1 over the burst, then the stack in a batch, then the flush */
	tcp_input_begin(&H.ctx);
	for (unsigned int i = 0; i < k; i++)
		if (!first_pass(&so[i]))
			so[i].m = NULL;
	CHECK(tcp_batch_begin(&H.ctx) == 0);
	for (unsigned int i = 0; i < k; i++) {
		if (so[i].m == NULL)
			continue;
		F.frames_held = 0;
		for (unsigned int j = i + 1; j < k; j++)
			F.frames_held += so[j].m != NULL;
		second_pass(&so[i]);
		h_drain();
		scan(false);
		sent_check();
	}
	F.frames_held = 0;
	if (crash) {
		h_reattach();
		tcp_resume(&H.ctx);
	} else {
		tcp_batch_flush(&H.ctx);
	}
	call_done();
}

static void op_send(struct in *in)
{
	uint32_t s = held_k(u8(in)), len = u16(in) & 0x7fff, space;
	uint8_t buf[0x8000];
	struct tcp_tcb *t;
	struct smodel *m;
	int rc;

	step_name = "tcp_send";
	if (s == TCP_NIL)
		return;
	t = TCB(s);
	m = &F.m[s];
	space = tcp_send_space(&H.ctx, s);
	for (uint32_t i = 0; i < len; i++)
		buf[i] = adat(m->written + i);
	{
		uint8_t st = t->state;
		bool fin_q = !!(t->flags & TF(FIN_QUEUED));

		m->writing = len < space ? len : space;
		rc = tcp_send(&H.ctx, s, buf, len);
		m->writing = 0;
		/* tcp.h: the bytes accepted; -ENOTCONN before the stream can carry data, -EPIPE after shutdown */
		if (st == TCP_SYN_SENT || st == TCP_SYN_RECEIVED)
			CHECK(rc == -ENOTCONN, "tcp_send in %s: %d", tcp_state_name(st), rc);
		else if ((st != TCP_ESTABLISHED && st != TCP_CLOSE_WAIT) || fin_q)
			CHECK(rc == -EPIPE, "tcp_send in %s: %d", tcp_state_name(st), rc);
		else if (F.fail_active)
			CHECK((rc >= 0 && (uint32_t)rc <= (len < space ? len : space)) ||
			      (rc == -ENOMEM && len && space), "tcp_send: %d", rc);
		else
			CHECK(rc == (int)(len < space ? len : space), "tcp_send of %u, space %u: %d", len, space, rc);
	}
	if (rc > 0)
		m->written += (uint32_t)rc;
	call_done();
}

static void op_recv(struct in *in)
{
	uint32_t s = held_k(u8(in)), len = u16(in), avail, got, base;
	static uint8_t buf[0x10000];
	struct smodel *m;

	step_name = "tcp_recv";
	if (s == TCP_NIL)
		return;
	m = &F.m[s];
	avail = tcp_recv_avail(&H.ctx, s);
	base = TCB(s)->irs + 1 + m->nread;
	got = tcp_recv(&H.ctx, s, buf, len);
	CHECK(got == (len < avail ? len : avail), "tcp_recv of %u, %u readable: %u", len, avail, got);
	for (uint32_t i = 0; i < got; i++)
		CHECK(buf[i] == pdat(base + i), "byte %u read differs", m->nread + i);
	m->nread += got;
	call_done();
}

static void op_shutdown(struct in *in)
{
	uint32_t s = held_k(u8(in));
	uint8_t st;
	bool fin_q;
	int rc;

	step_name = "tcp_shutdown";
	if (s == TCP_NIL)
		return;
	st = TCB(s)->state;
	fin_q = !!(TCB(s)->flags & TF(FIN_QUEUED));
	rc = tcp_shutdown(&H.ctx, s);
	if (fin_q || st == TCP_SYN_SENT || st == TCP_SYN_RECEIVED || st == TCP_ESTABLISHED ||
	    st == TCP_CLOSE_WAIT)
		CHECK(rc == 0, "tcp_shutdown in %s: %d", tcp_state_name(st), rc);
	else
		CHECK(rc == -ENOTCONN, "tcp_shutdown in %s: %d", tcp_state_name(st), rc);
	if (st == TCP_SYN_SENT && !fin_q) {
		/* RFC 9293 §3.10.4: CLOSE in SYN-SENT deletes the TCB */
		CHECK(TCB(s)->state == TCP_CLOSED);
		F.let_go[s] = true;
	}
	call_done();
}

static void op_close(struct in *in)
{
	uint32_t s = held_k(u8(in)), unread;

	step_name = "tcp_close";
	if (s == TCP_NIL)
		return;
	unread = TCB(s)->rcv_bytes;
	F.let_go[s] = true;
	tcp_close(&H.ctx, s);
	/* RFC 1122 §4.2.2.13: closing with unread data resets; else the stack owns it now */
	if (unread)
		CHECK(TCB(s)->state == TCP_CLOSED, "tcp_close with %u unread bytes did not reset", unread);
	else
		CHECK(TCB(s)->state == TCP_CLOSED || TCB(s)->app == TAPP_NONE);
	call_done();
}

static void op_abort(struct in *in)
{
	uint32_t s = held_k(u8(in));
	uint8_t st;

	step_name = "tcp_abort";
	if (s == TCP_NIL)
		return;
	st = TCB(s)->state;
	F.m[s].rsts = 0;
	F.let_go[s] = true;
	tcp_abort(&H.ctx, s);
	CHECK(TCB(s)->state == TCP_CLOSED);
	/* RFC 9293 §3.10.5: a reset in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2 and CLOSE-WAIT only */
	if (!F.fail_active)
		CHECK(F.m[s].rsts == (st == TCP_SYN_RECEIVED || st == TCP_ESTABLISHED || st == TCP_FIN_WAIT_1 ||
				      st == TCP_FIN_WAIT_2 || st == TCP_CLOSE_WAIT),
		      "tcp_abort in %s sent %u RSTs", tcp_state_name(st), F.m[s].rsts);
	call_done();
}

static void op_connect(struct in *in)
{
	int err = 1;
	uint32_t s;

	step_name = "tcp_connect";
	s = tcp_connect(&H.ctx, H_PEER_IP, (uint16_t)(ALT_PORT + 20 + (u8(in) & 7)), TAPP_TEST, &err);
	if (s != TCP_NIL) {
		CHECK(err == 0);
		F.just_opened[s] = true;
	} else {
		CHECK(err == -ENOMEM || err == -EAGAIN, "tcp_connect: %d", err);
	}
	call_done();
}

/* Advance MS, running the timers at each deadline (what a worker sleeping until its next timer does). */
static void advance(uint32_t ms)
{
	uint32_t end = H.ctx.now_ms + ms;

	while (ms_before(H.ctx.now_ms, end)) {
		uint32_t next = end;

		for (uint32_t i = 0; i < H.ctx.area->max_streams; i++) {
			uint32_t at = TCB(i)->t_at;

			if (TCB(i)->state != TCP_CLOSED && at && ms_before(at, next))
				next = at;
		}
		if (!ms_before(H.ctx.now_ms, next))
			next = H.ctx.now_ms + 1;
		H.ctx.now_us += (uint64_t)(next - H.ctx.now_ms) * 1000;
		H.ctx.now_ms = next;
		tcp_timers(&H.ctx);
		call_done();
	}
}

static bool clock_budget(uint32_t ms)
{
	if (F.clock_ms + ms > MAX_CLOCK_MS)
		return false;
	F.clock_ms += ms;
	return true;
}

static void op_tick(struct in *in)
{
	uint32_t ms = 1 + (u8(in) & 63);

	step_name = "h_advance";
	if (!clock_budget(ms))
		return;
	h_advance(ms);
	call_done();
}

static void op_wait(struct in *in, uint8_t op)
{
	uint32_t ms = wait_ms[(op - OP_TICK_END) & 15] + u8(in);

	step_name = "advance";
	if (!clock_budget(ms))
		return;
	advance(ms);
}

static void op_stall(struct in *in)
{
	uint32_t ms = wait_ms[u8(in) & 15];

	step_name = "stall";
	if (!clock_budget(ms))
		return;
	H.ctx.now_ms += ms;
	H.ctx.now_us += (uint64_t)ms * 1000;
	tcp_timers(&H.ctx);
	call_done();
}

/*
 * The lowest path MTU reported for T, if the stack takes the message: only
 * one quoting a segment in flight, SND.UNA <= SEQ < SND.MAX (RFC 5927 §4.1),
 * and an MTU below TCP_MIN_PMTU counts as TCP_MIN_PMTU (docs/TCP.md).
 */
static void note_pmtu(struct tcp_tcb *t, uint16_t mtu, uint32_t seq)
{
	struct smodel *m = t ? model_of(t) : NULL;

	if (m == NULL || !(seq_geq(seq, t->snd_una) && seq_lt(seq, t->snd_max)))
		return;
	if (mtu < TCP_MIN_PMTU)
		mtu = TCP_MIN_PMTU;
	if (!m->pmtu || mtu < m->pmtu)
		m->pmtu = mtu;
}

/*
 * ICMP fragmentation needed quoting a segment of the main stream or of live
 * stream K: to tcp_icmp_frag_needed() as the primary steers it, or as a whole
 * frame through both passes (type, code and a cut of the quote from the input).
 */
static void op_icmp(struct in *in)
{
	uint8_t q[28] = { 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6 }, sel = u8(in);
	uint16_t mtu = u16(in);
	uint32_t seq = u32(in);
	struct tcp_tcb *t = (sel & 1) ? live_k((sel >> 1) & 0x3f) : main_tcb();
	uint32_t laddr = t ? t->laddr : F.p.laddr, raddr = t ? t->raddr : F.p.raddr;
	uint16_t lport = t ? t->lport : F.p.lport, rport = t ? t->rport : F.p.rport;

	step_name = "icmp frag needed";
	q[12] = (uint8_t)(laddr >> 24);
	q[13] = (uint8_t)(laddr >> 16);
	q[14] = (uint8_t)(laddr >> 8);
	q[15] = (uint8_t)laddr;
	q[16] = (uint8_t)(raddr >> 24);
	q[17] = (uint8_t)(raddr >> 16);
	q[18] = (uint8_t)(raddr >> 8);
	q[19] = (uint8_t)raddr;
	q[20] = (uint8_t)(lport >> 8);
	q[21] = (uint8_t)lport;
	q[22] = (uint8_t)(rport >> 8);
	q[23] = (uint8_t)rport;
	q[24] = (uint8_t)(seq >> 24);
	q[25] = (uint8_t)(seq >> 16);
	q[26] = (uint8_t)(seq >> 8);
	q[27] = (uint8_t)seq;
	if (sel & 0x80) {
		uint8_t tc = u8(in), cut = u8(in) % 30, type = (tc & 1) ? tc >> 1 : 3, code = (tc & 1) ? 0 : 4;
		uint8_t full[14 + 20 + 8 + sizeof(q)] = { 0 }, *f;
		uint32_t flen = sizeof(full) - cut;
		struct rte_mbuf *mb = h_mbuf_alloc();

		step_name = "icmp frame";
		full[12] = 0x08;                          /* IPv4 */
		full[14] = 0x45;
		full[16] = (uint8_t)((flen - 14) >> 8);
		full[17] = (uint8_t)(flen - 14);
		full[22] = 64;
		full[23] = 1;                             /* ICMP, from the gateway 10.0.0.254 */
		full[26] = 10;
		full[29] = 254;
		full[30] = (uint8_t)(H_LOCAL_IP >> 24);
		full[33] = (uint8_t)H_LOCAL_IP;
		full[34] = type;
		full[35] = code;
		full[40] = (uint8_t)(mtu >> 8);           /* next-hop MTU (RFC 1191 §4) */
		full[41] = (uint8_t)mtu;
		memcpy(full + 42, q, sizeof(q));
		f = (uint8_t *)rte_pktmbuf_append(mb, (uint16_t)flen);
		CHECK(f != NULL);
		memcpy(f, full, flen);
		if (type == 3 && code == 4 && cut == 0)
			note_pmtu(t, mtu, seq);
		CHECK(tcp_input_stateless(&H.ctx, mb) == TCP_SL_STATEFUL, "an ICMP frame not left to tcp_input");
		tcp_input(&H.ctx, mb);
	} else {
		note_pmtu(t, mtu, seq);
		tcp_icmp_frag_needed(&H.ctx, q, sizeof(q), mtu);
	}
	call_done();
}

static void op_crash(uint8_t op)
{
	step_name = "worker crash";
	if (op & 1)
		tcp_quiesce(&H.ctx);   /* it died at a quiescent point */
	h_reattach();
	tcp_resume(&H.ctx);
	call_done();
}

/* The well-behaved peer: everything acknowledged, LEN bytes at RCV.NXT, maybe a FIN. */
static void op_peer(struct in *in)
{
	uint8_t b = u8(in);
	struct tcp_tcb *t = main_tcb();
	struct seg_out so;
	struct h_spec sp = { 0 };
	struct tcp_opts_out oo = { 0 };
	uint8_t payload[1460];
	uint32_t len = (b & 0x7f) * 12u;

	step_name = "peer data";
	if (t == NULL || t->state == TCP_SYN_SENT)
		return;
	if (len > t->mss)
		len = t->mss;
	memset(&so, 0, sizeof(so));
	sp.saddr = F.p.raddr;
	sp.daddr = F.p.laddr;
	sp.sport = F.p.rport;
	sp.dport = F.p.lport;
	sp.seq = t->rcv_nxt;
	sp.ack = t->snd_max;
	sp.flags = TH_ACK | (len ? TH_PSH : 0) | ((b & 0x80) ? TH_FIN : 0);
	sp.wnd = 65535;
	oo.ts = !!(t->flags & TF(TS_OK));
	oo.ts_val = peer_tsval();
	oo.ts_ecr = H.ctx.now_ms;
	sp.opts = &oo;
	for (uint32_t i = 0; i < len; i++)
		payload[i] = pdat(sp.seq + i);
	sp.payload = payload;
	sp.len = len;
	so.m = h_build(&sp);
	so.main = true;
	so.c.active = true;
	so.c.saddr = sp.saddr;
	so.c.daddr = sp.daddr;
	so.c.sport = sp.sport;
	so.c.dport = sp.dport;
	so.c.seq = sp.seq;
	so.c.ack = sp.ack;
	so.c.flags = sp.flags;
	so.c.seg_len = len + !!(sp.flags & TH_FIN);
	so.c.has_ts = oo.ts;
	so.c.tsval = oo.ts_val;
	so.pay_seq = sp.seq;
	so.pay_len = len;
	so.fin = !!(sp.flags & TH_FIN);
	if (first_pass(&so))
		second_pass(&so);
	call_done();
}

/* ---- setup ------------------------------------------------------------------------------ */

static const struct h_synopt *const optsets[4] = { &H_OPT_NONE, &H_OPT_MSS, &H_OPT_ALL, &H_OPT_SACK };

static void params(uint8_t c1, uint8_t c2)
{
	struct porter_tcp_params *p = PRM;

	p->nodelay = !(c1 & 0x01);
	if (c1 & 0x02) {
		p->keepalive = 1;
		p->keepalive_idle_s = 1;
		p->keepalive_interval_s = 1;
		p->keepalive_count = 2;
	}
	if (c1 & 0x04)
		p->rcv_buf = 4096;
	else if (c2 & 0x80)
		p->rcv_buf = 65536;
	if (c1 & 0x08)
		p->snd_buf = 4096;
	if (c1 & 0x10)
		p->delack_short_ms = 4;
	H.g->ports[0].tx_csum = !!(c1 & 0x20);
	if (c1 & 0x40)
		p->cc = TCP_CC_NEWRENO;
	if (c1 & 0x80) {
		p->rto_initial_ms = 200;
		p->rto_min_ms = 200;
		p->rto_max_ms = 1000;
		p->max_retries = 1;
		p->syn_retries = 1;
		p->time_wait_ms = 1000;
		p->fin_wait2_ms = 1000;
	}
	p->sack = !(c2 & 0x01);
	p->timestamps = !(c2 & 0x02);
	p->window_scaling = !(c2 & 0x04);
	if (c2 & 0x20)
		p->challenge_ack_limit = 1;
	if (c2 & 0x40)
		p->delack_ms = 0;
}

/* The peer's SYN to the listener answered by a cookie: the SYN,ACK is checked, nothing is created. */
static void cookie_syn(struct h_peer *p)
{
	struct h_peer other;
	struct h_out o;

	/* a half-open stream fills the backlog of one */
	PRM->syn_backlog = 1;
	h_peer_init(&other, H_TEST_PORT, ALT_PORT + 40, 5000000);
	h_passive_syn(&other, &H_OPT_MSS);
	p->so = F.so;
	h_peer_send(p, TH_SYN, p->isn, 0, NULL, 0);
	p->snd_nxt = p->isn + 1;
	h_peer_next(p, &o);
	CHECK(o.flags == (TH_SYN | TH_ACK) && o.ack == p->isn + 1, "no cookie SYN,ACK");
	CHECK(p->s == TCP_NIL || TCB(p->s)->state == TCP_CLOSED);
	CHECK(h_lookup(p->laddr, p->lport, p->raddr, p->rport) == TCP_NIL, "a TCB for a cookie");
	p->iss = o.seq;
	p->rcv_nxt = o.seq + 1;
	p->ts = F.so.ts && PRM->timestamps;
	PRM->syn_backlog = 1024;
}

static void setup(struct in *in)
{
	uint8_t c0 = u8(in), c1 = u8(in), c2 = u8(in), start = c0 & 15;
	static const uint16_t ports[4] = { H_TEST_PORT, H_ECHO_PORT, H_DISCARD_PORT, H_TEST_PORT };
	uint16_t lport = (start == 2 || (start >= 9 && start <= 11) || start >= 14) ? ports[c0 >> 6] : H_TEST_PORT;
	struct h_peer *p = &F.p;
	struct h_out o;

	h_setup();
	params(c1, c2);
	if (start == 15)
		PRM->mtu_probing = 2;
	if (start == 14)
		PRM->pacing = 1;
	F.so = *optsets[(c0 >> 4) & 3];
	h_peer_init(p, lport, H_PEER_PORT, 1000000);
	p->so = F.so;
	switch (start) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8:
		h_goto(p, (enum tcp_state)(TCP_SYN_SENT + start), &F.so);
		if (start == 0)
			F.just_opened[p->s] = true;
		break;
	case 9:
		cookie_syn(p);
		break;
	case 10:
	case 11: {
		uint8_t data[100];

		cookie_syn(p);
		for (unsigned int i = 0; i < sizeof(data); i++)
			data[i] = pdat(p->snd_nxt + i);
		if (start == 10)
			h_peer_ack(p, p->rcv_nxt);
		else
			h_peer_data(p, data, sizeof(data));
		p->s = h_lookup(p->laddr, p->lport, p->raddr, p->rport);
		CHECK(p->s != TCP_NIL && (TCB(p->s)->flags & TF(COOKIE)), "no stream from the cookie");
		break;
	}
	case 12:
		h_goto(p, TCP_SYN_SENT, &F.so);
		F.just_opened[p->s] = true;
		h_peer_send(p, TH_SYN, p->isn, 0, NULL, 0);
		p->snd_nxt = p->isn + 1;
		h_peer_next(p, &o);
		CHECK(o.flags == (TH_SYN | TH_ACK) && TCB(p->s)->state == TCP_SYN_RECEIVED);
		break;
	case 13:
		break;
	default:
		h_goto(p, TCP_ESTABLISHED, &F.so);
		if (start == 14)
			tcp_set_rate(CTX, p->s, 100000);
		break;
	}
	/* after the start, which may need cookies (9-11) or a backlog (1) */
	PRM->syncookies = !(c2 & 0x08);
	if (c2 & 0x10)
		PRM->syn_backlog = 1;
	h_drain();
	/* from here on every frame is checked as it leaves (h_goto checked its own) */
	H.on_xmit = check_frame;
	step_name = "start";
	scan(true);
	/* what the peer sent on the way: data (start 11) and a FIN (states after CLOSE-WAIT) */
	if (seq_gt(p->snd_nxt, p->isn + 1))
		sent_segment(p->isn + 1, p->snd_nxt - p->isn - 1, false);
	sent_check();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { .p = data, .n = size };

	memset(&F, 0, sizeof(F));
	tracing = getenv("FUZZ_TCP_TRACE") != NULL;
	step_no = 0;
	step_name = "setup";
	setup(&in);
	while (more(&in) && step_no < 400) {
		uint8_t op = u8(&in);

		step_no++;
		trace("step %u: op %u\n", step_no, op);
		if (op < OP_SEG_END)
			op_segment(&in);
		else if (op < OP_BURST_END)
			op_burst(&in, op);
		else if (op < OP_SEND_END)
			op_send(&in);
		else if (op < OP_RECV_END)
			op_recv(&in);
		else if (op < OP_SHUT_END)
			op_shutdown(&in);
		else if (op < OP_CLOSE_END)
			op_close(&in);
		else if (op < OP_ABORT_END)
			op_abort(&in);
		else if (op < OP_CONNECT_END)
			op_connect(&in);
		else if (op < OP_TICK_END)
			op_tick(&in);
		else if (op < OP_WAIT_END)
			op_wait(&in, op);
		else if (op < OP_STALL_END)
			op_stall(&in);
		else if (op < OP_ICMP_END)
			op_icmp(&in);
		else if (op < OP_CRASH_END)
			op_crash(op);
		else if (op < OP_QUIESCE_END) {
			step_name = "tcp_quiesce";
			if (!batching())
				tcp_quiesce(&H.ctx);
			call_done();
		} else if (op < OP_FAIL_END) {
			uint8_t b = u8(&in);

			/* the next step's allocations: B & 7 succeed, then 1 + (B >> 3) fail */
			step_name = "allocation failures";
			H.fail_skip = b & 7;
			H.fail_allocs = 1 + (b >> 3);
			F.fail_active = true;
			continue;
		} else {
			op_peer(&in);
		}
	}
	step_name = "end";
	H.fail_skip = H.fail_allocs = 0;
	F.fail_active = false;
	if (batching()) {
		tcp_batch_flush(&H.ctx);
		call_done();
	}
	H.on_xmit = NULL;
	h_check_clean();
	h_teardown();
	return 0;
}
