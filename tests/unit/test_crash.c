/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crash-point sweep of the TCP stack on the unit harness (docs/RECOVERY.md).
 *
 * This binary compiles the stack with PORTER_CRASH_POINTS. For every point
 * the stack registers, and several pass counts, an echo stream carries a
 * transfer the peer sends partly out of order, while a PMTU drop forces
 * segments to be split; the point fires once (the call is abandoned the way
 * a kill abandons it), the harness recovers as a worker does
 * (h_crash_recover: orphaned buffers freed, area rebuilt and repaired, every
 * invariant checked), and the transfer goes on. The echo must come back
 * byte for byte, with no buffer leaked and the area consistent at the end.
 * Deterministic, and it reaches the points a tap without loss cannot (the
 * out-of-order queue, a split segment).
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secondary/crash.h"
#include "tests/unit/tcp_harness.h"

#define TOTAL    (96u * 1024)
#define SEG      1000u
#define MAX_ITER 4000

static jmp_buf crash_jmp;
static bool crash_armed_here;
static unsigned int crashes;

void porter_crash_fire(const struct porter_crash_point *p)
{
	(void)p;
	cr_assert(crash_armed_here, "a crash point fired outside a step");
	crashes++;
	longjmp(crash_jmp, 1);
}

/* Run one call into the stack; a crash inside it is recovered from. */
#define STEP(call)                                                                 \
	do {                                                                       \
		crash_armed_here = true;                                           \
		if (setjmp(crash_jmp) == 0) {                                      \
			call;                                                      \
			crash_armed_here = false;                                  \
		} else {                                                           \
			crash_armed_here = false;                                  \
			h_crash_recover();                                         \
		}                                                                  \
	} while (0)

static uint8_t sent[TOTAL], echoed[TOTAL];

/* An ICMP "fragmentation needed" quoting the stream's segment at SEQ. */
static void frag_needed(const struct h_peer *p, uint32_t seq, uint16_t mtu)
{
	uint8_t q[28] = { 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6 };
	uint32_t src = rte_cpu_to_be_32(p->laddr), dst = rte_cpu_to_be_32(p->raddr), s = rte_cpu_to_be_32(seq);
	uint16_t sp = rte_cpu_to_be_16(p->lport), dp = rte_cpu_to_be_16(p->rport);

	memcpy(q + 12, &src, 4);
	memcpy(q + 16, &dst, 4);
	memcpy(q + 20, &sp, 2);
	memcpy(q + 22, &dp, 2);
	memcpy(q + 24, &s, 4);
	tcp_icmp_frag_needed(&H.ctx, q, sizeof(q), mtu);
}

/*
 * The peer: sends TOTAL pattern bytes in SEG-byte segments, every fourth
 * group with its first two segments swapped; resends from the stack's ACK
 * when nothing moved for a while (go-back-N); takes the echo in order and
 * acknowledges it. Returns the bytes echoed back.
 */
static uint32_t run_transfer(bool pmtu)
{
	struct h_peer p;
	uint32_t s, base;
	volatile uint32_t acked = 0, got = 0, idle = 0;   /* live across a longjmp */
	struct h_out o;

	h_peer_init(&p, H_ECHO_PORT, H_PEER_PORT, 5000);
	s = h_open_passive(&p, &H_OPT_SACK);
	base = p.snd_nxt;
	h_pattern(sent, TOTAL, 0);
	for (volatile unsigned int it = 0; it < MAX_ITER && got < TOTAL; it++) {
		uint32_t off = p.snd_nxt - base;
		volatile bool moved = false;

		/* up to 4 segments beyond what the stack acknowledged, the first two swapped */
		if (off < TOTAL && off - acked < 8 * SEG) {
			uint32_t seg = it % 5 == 3 ? 100 : SEG;   /* small ones are copied into the tail */
			volatile uint32_t n1 = TOTAL - off < seg ? TOTAL - off : seg;
			volatile uint32_t n2 = TOTAL - off - n1 < seg ? TOTAL - off - n1 : seg;

			if (n2 && (it % 4) == 1) {
				STEP(h_peer_send(&p, TH_ACK | TH_PSH, base + off + n1, p.rcv_nxt, sent + off + n1, n2));
				STEP(h_peer_send(&p, TH_ACK | TH_PSH, base + off, p.rcv_nxt, sent + off, n1));
				p.snd_nxt += n1 + n2;
			} else {
				STEP(h_peer_send(&p, TH_ACK | TH_PSH, base + off, p.rcv_nxt, sent + off, n1));
				p.snd_nxt += n1;
			}
		}
		if (pmtu && it == 40)
			STEP(frag_needed(&p, TCB(s)->snd_una, 700));
		/* what the stack sent: the echo in order, and its ACKs */
		while (h_pop(&o)) {
			if (o.dport != p.rport || !o.tcp_csum_ok)
				continue;
			if ((o.flags & TH_ACK) && seq_gt(o.ack - base, acked) && seq_leq(o.ack, p.snd_nxt)) {
				acked = o.ack - base;
				moved = true;
			}
			if (o.len && seq_leq(o.seq, p.rcv_nxt) && seq_gt(o.seq + o.len, p.rcv_nxt)) {
				uint32_t skip = p.rcv_nxt - o.seq, n = o.len - skip;

				cr_assert(got + n <= TOTAL, "more bytes echoed than sent");
				memcpy(echoed + got, o.payload + skip, n);
				got += n;
				p.rcv_nxt += n;
				moved = true;
			}
		}
		STEP(h_peer_ack(&p, p.rcv_nxt));
		idle = moved ? 0 : idle + 1;
		if (idle >= 3) {
			/* the stack is waiting for something lost: go back to its ACK */
			p.snd_nxt = base + acked;
			idle = 0;
		}
		STEP(h_advance(5));
	}
	cr_assert(got == TOTAL, "echoed %u of %u bytes", got, TOTAL);
	cr_assert(memcmp(sent, echoed, TOTAL) == 0, "echoed bytes differ");
	/* the peer closes; echo closes its side; the stream ends (LAST-ACK, then gone) */
	p.snd_nxt = base + TOTAL;
	for (volatile unsigned int it = 0; it < 200 && TCB(s)->state != TCP_CLOSED; it++) {
		volatile bool fin_seen = false;

		if (TCB(s)->state == TCP_ESTABLISHED)
			STEP(h_peer_send(&p, TH_ACK | TH_FIN, p.snd_nxt, p.rcv_nxt, NULL, 0));
		while (h_pop(&o)) {
			if (getenv("CRASH_DEBUG"))
				fprintf(stderr, "close: seq %u ack %u flags %#x len %u (peer rcv_nxt %u snd_nxt %u) state %s\n",
					o.seq, o.ack, o.flags, o.len, p.rcv_nxt, p.snd_nxt, tcp_state_name(TCB(s)->state));
			if (o.dport == p.rport && (o.flags & TH_FIN) && o.seq == p.rcv_nxt)
				fin_seen = true;
		}
		if (fin_seen)
			p.rcv_nxt++;
		if (TCB(s)->state != TCP_CLOSED)
			STEP(h_peer_send(&p, TH_ACK, p.snd_nxt + 1, p.rcv_nxt, NULL, 0));
		STEP(h_advance(5));
		if (getenv("CRASH_DEBUG")) {
			fprintf(stderr, "tcb: una %u nxt %u max %u rcv_nxt %u; drops:", TCB(s)->snd_una, TCB(s)->snd_nxt,
				TCB(s)->snd_max, TCB(s)->rcv_nxt);
			for (unsigned int r = 1; r < TDROP__COUNT; r++)
				if (AREA->drops[r])
					fprintf(stderr, " %s=%lu", tcp_drop_name(r), (unsigned long)AREA->drops[r]);
			fprintf(stderr, "\n");
		}
	}
	cr_assert(TCB(s)->state == TCP_CLOSED, "the echo stream did not close (state %s)",
		  tcp_state_name(TCB(s)->state));
	return got;
}

/*
 * Every run has a client table (client_limits) with its counts checked
 * against the TCBs after each recovery (tcp_check): a stream counted while a
 * point fired is counted once after it, whatever the point.
 */
static void with_client_table(void)
{
	struct climit_params lim = { .max_conns = 4, .conn_rate = 100, .conn_burst = 10 };

	PRM->client_table = 1024;
	h_reattach();
	tcp_climit_set(CTX, &lim);
}

static const char *fired_names[64];
static unsigned int nfired;

static bool fired(const char *name)
{
	for (unsigned int i = 0; i < nfired; i++)
		if (strcmp(fired_names[i], name) == 0)
			return true;
	return false;
}

Test(crash, every_tcp_point_fires_and_the_stream_survives, .timeout = 600)
{
	unsigned int n = porter_crash_count(), reached = 0;
	static const uint64_t passes[] = { 1, 2, 5, 40 };

	cr_assert(n >= 10, "only %u crash points registered", n);
	for (unsigned int i = 0; i < n; i++) {
		const struct porter_crash_point *cp = porter_crash_at(i);
		bool hit = false;

		for (unsigned int k = 0; k < sizeof(passes) / sizeof(passes[0]); k++) {
			h_setup();
			with_client_table();
			if (getenv("CRASH_DEBUG"))
				fprintf(stderr, "arming %s pass %lu\n", cp->name, (unsigned long)passes[k]);
			crashes = 0;
			porter_crash_arm(cp->name, passes[k]);
			run_transfer(true);
			porter_crash_arm(NULL, 0);
			hit |= crashes > 0;
			h_check_clean();
			h_teardown();
		}
		cr_log_info("crash point %-28s %s", cp->name, hit ? "fired" : "not reached");
		reached += hit;
		if (hit && nfired < 64)
			fired_names[nfired++] = cp->name;
	}
	cr_log_info("%u of %u crash points fired", reached, n);
	/* every point but those only the proxy (active opens, closes) or a crash
	 * inside recovery passes: tests/integration/test_crash.py arms those */
	for (unsigned int i = 0; i < n; i++) {
		const char *nm = porter_crash_at(i)->name;

		if (strcmp(nm, "tcp_api.connect_state") && strcmp(nm, "tcp_api.close_orphaned") &&
		    strcmp(nm, "tcp_api.shutdown_flagged") && strcmp(nm, "tcp_recover.repair"))
			cr_expect(fired(nm), "crash point %s did not fire", nm);
	}
}

Test(crash, transfer_without_crashes_is_exact)
{
	h_setup();
	with_client_table();
	run_transfer(true);
	h_check_clean();
	h_teardown();
}
