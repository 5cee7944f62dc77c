/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals shared by the TCP stack's files (not for applications). */
#ifndef PORTER_TCP_PRIV_H
#define PORTER_TCP_PRIV_H

#include <rte_mbuf.h>

#include "secondary/crash.h"
#include "secondary/tcp/tcp.h"
#include "secondary/tcp/tcp_cc.h"
#include "secondary/tcp/tcp_env.h"
#include "secondary/tcp/tcp_isn.h"
#include "secondary/tcp/tcp_opt.h"
#include "secondary/tcp/tcp_seq.h"

#define TCP_HDR_LEN      20
#define IP_HDR_LEN       20
#define ETH_HDR_LEN      14
#define TCP_DEFAULT_MSS  536       /* RFC 9293 §3.7.1 when the peer sends none */
#define TCP_MIN_PMTU     552       /* floor under a path MTU an ICMP message reports (Linux's min_pmtu) */
#define TCP_MIN_SND_MSS  48        /* floor under the send MSS a peer's SYN may ask for (Linux's tcp_min_snd_mss) */
#define TCP_DUPTHRESH    3         /* RFC 5681 §3.2, RFC 6675 §2 */
#define TCP_PAWS_IDLE_MS (24u * 24 * 3600 * 1000)   /* RFC 7323 §5.5: 24 days */
#define TCP_OOO_MIN_SEGS 256       /* out-of-order segments kept per stream: at least this, */
#define TCP_OOO_BUF_PER_SEG 512    /* or one per this many bytes of tcp.rcv_buf if more */
#define TCP_TLP_DELACK_MS 200      /* RFC 8985 §7.2 WCDelAckT: a lone segment's ACK may be delayed */
#define TCP_TLP_MIN_MS   2         /* added to 2 SRTT: a LAN's SRTT is far below the peer's scheduling noise */
#define TCP_CHALLENGE_SHARD_MIN 10000  /* RFC 5961 §7 shard net: mean challenge ACKs per second, at least this, */
#define TCP_CHALLENGE_SHARD_MULT 100   /* or this many times the per-stream limit if more */

/* TCP header flags */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

/* The IP header's ECN field (RFC 3168 §5). */
#define IP_ECN_MASK 0x03
#define IP_ECN_ECT0 0x02
#define IP_ECN_CE   0x03

/* Per-segment metadata of queued mbufs (send queue, out-of-order queue). */
#define SEG_SACKED  0x1u
#define SEG_LOST    0x2u
#define SEG_RETRANS 0x4u
#define SEG_SENT    0x8u
#define SEG_PROBE   0x10u      /* send queue: sent as a PLPMTUD probe, larger than the MSS, verdict pending
                                  (tcp_pmtu.c); an older binary ignores it */
#define SEG_EVER_RETRANS 0x40u /* send queue: was ever sent twice (Karn: no RTT sample from it) */

static inline uint32_t seg_seq(const struct rte_mbuf *m) { return m->hash.fdir.lo; }
static inline void seg_set_seq(struct rte_mbuf *m, uint32_t s) { m->hash.fdir.lo = s; }
static inline uint32_t seg_flags(const struct rte_mbuf *m) { return m->hash.fdir.hi; }
static inline void seg_set_flags(struct rte_mbuf *m, uint32_t f) { m->hash.fdir.hi = f; }
static inline uint32_t seg_len(const struct rte_mbuf *m) { return m->data_len; }
/* Send queue only: when the segment last went out (low 32 bits of the us clock; the
 * queue's mbufs are never transmitted themselves, so packet_type is free to hold it). */
static inline uint32_t seg_xmit_us(const struct rte_mbuf *m) { return m->packet_type; }
static inline void seg_set_xmit_us(struct rte_mbuf *m, uint32_t us) { m->packet_type = us; }
/* Send queue only: when it first went out (tx_offload is as unused there as packet_type). */
static inline uint32_t seg_first_us(const struct rte_mbuf *m) { return (uint32_t)m->tx_offload; }
static inline void seg_set_first_us(struct rte_mbuf *m, uint32_t us) { m->tx_offload = us; }
static inline uint32_t seg_end(const struct rte_mbuf *m) { return seg_seq(m) + m->data_len; }

/*
 * One received segment, parsed once and carried through the RFC 9293
 * §3.10.7 steps (STYLE 8): no globals, no long argument lists.
 */
struct tcp_seg {
	struct rte_mbuf *m;       /* the frame; payload at m data + payload_off */
	uint32_t saddr, daddr;    /* host order */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint32_t wnd;             /* raw 16-bit window, unscaled */
	uint32_t len;             /* payload bytes */
	uint32_t seg_len;         /* len + SYN + FIN (SEG.LEN) */
	uint16_t payload_off;     /* from the start of the frame */
	uint8_t flags;
	uint8_t port;             /* input port index */
	uint8_t ecn;              /* the IP header's ECN field (IP_ECN_*) */
	bool ack_at_once;         /* out of order: the (duplicate) ACK may not wait for the batch */
	bool tw_reuse;            /* a SYN that ended a TIME-WAIT: the new ISS must be >= tw_snd_max */
	uint32_t tw_snd_max;      /* SND.MAX of the TIME-WAIT incarnation it ended */
	uint32_t hint;            /* the first pass's lookup: TCB index + 1, 0 = none (lookup_seg) */
	struct tcp_opts opt;
};

#define TCP_PRE_MAX 64            /* frames of one burst kept parsed (tcp_ctx.pre) */

static inline struct tcp_tcb *tcb_of(const struct tcp_ctx *c, uint32_t s) { return &c->tcbs[s]; }
static inline uint32_t tcb_idx(const struct tcp_ctx *c, const struct tcp_tcb *t)
{
	return (uint32_t)(t - c->tcbs);
}

/*
 * ECN (RFC 3168 §6.1.2) around every window reduction of an ECN stream -- a
 * loss, a timeout or an ECE: the peer is told with CWR on the next new data
 * (tcp_ecn_reduced), and an ECE is not reacted to again for the window after
 * it (tcp_ecn_hold: until SND.UNA is past SND.MAX now). ecn_high shares
 * recover_fs: the hold is set only outside a SACK recovery episode, whose
 * start clears it.
 */
static inline void tcp_ecn_reduced(struct tcp_tcb *t)
{
	if (t->flags & TF(ECN))
		t->flags |= TF(CWR);
}

static inline void tcp_ecn_hold(struct tcp_tcb *t)
{
	if (t->flags & TF(ECN)) {
		t->ecn_high = t->snd_max;
		t->flags |= TF(ECN_HOLD);
	}
}

static inline void tcp_count_drop(struct tcp_ctx *c, enum tcp_drop r)
{
	/* reasons added after layout 2.0 live in drops_ext, so every older counter keeps its offset */
	if (r < TDROP__COUNT_2_0)
		c->area->drops[r]++;
	else
		c->area->drops_ext[r - TDROP__COUNT_2_0]++;
}
static inline void tcp_count(struct tcp_ctx *c, enum tcp_event e) { c->area->events[e]++; }

/*
 * Flag T as being changed before the first store to it (recovery repairs
 * every flagged stream: tcp_recover.c, docs/RECOVERY.md). Every path that
 * changes a stream (input, timers, the application calls, output) calls it;
 * the flags are cleared at the worker's next quiescent point (tcp_quiesce).
 */
static inline void tcp_touch(struct tcp_ctx *c, struct tcp_tcb *t)
{
	uint32_t s;

	if (t->flags & TF(TOUCHED))
		return;
	t->flags |= TF(TOUCHED);
	/* the flag reaches memory before any change it covers */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	s = tcb_idx(c, t);
	if (!c->touch_mark[s]) {
		c->touch_mark[s] = 1;
		c->touched[c->ntouched++] = s;
	}
}

/*
 * Take the first buffer off queue *HEAD. It is noted as held first
 * (tcp_env_hold), so a worker killed before the caller frees or relinks it
 * leaks nothing: recovery frees it unless a queue still has it.
 */
static inline struct rte_mbuf *tcp_q_pop(struct tcp_ctx *c, struct rte_mbuf **head)
{
	struct rte_mbuf *m = *head;

	tcp_env_hold(c, m);
	*head = m->next;
	CRASH_POINT("tcp.q_popped");
	m->next = NULL;
	return m;
}

/* Free queue *HEAD one buffer at a time (tcp_q_pop), leaving it empty. */
static inline void tcp_q_free(struct tcp_ctx *c, struct rte_mbuf **head)
{
	while (*head)
		tcp_env_free(c, tcp_q_pop(c, head));
}

/* Time comparisons on the wrapping ms clock. */
static inline int ms_before(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int ms_due(uint32_t at, uint32_t now) { return at && (int32_t)(now - at) >= 0; }

/* tcp_input.c: move now-in-order segments from the out-of-order queue (nonzero: a FIN came in order) */
uint32_t tcp_ooo_drain(struct tcp_ctx *c, struct tcp_tcb *t);

/* tcp_area.c: slab, lookup */
struct tcp_tcb *tcb_alloc(struct tcp_ctx *c);
/* a TCB is free without reclaiming one (free list, or above the high-water mark) */
static inline bool tcb_available(const struct tcp_area *a)
{
	return a->free_head != TCP_NIL || a->hwm < a->max_streams;
}
void tcb_free(struct tcp_ctx *c, struct tcp_tcb *t);        /* drops queues, timer, lookup */
bool tcp_event_later(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t ev);   /* tcp_output.c */
uint32_t tcp_event_take(struct tcp_ctx *c, uint32_t s);
void tcb_hash_insert(struct tcp_ctx *c, struct tcp_tcb *t);
/* tcp_recover.c: rebuild from TCBs [0, end) (the others CLOSED and on no list) */
void tcp_rebuild_below(struct tcp_ctx *c, uint32_t end);
struct tcp_tcb *tcb_lookup(struct tcp_ctx *c, uint32_t laddr, uint16_t lport, uint32_t raddr,
			   uint16_t rport);
int tcp_port_of_addr(const struct tcp_ctx *c, uint32_t addr);
void tcb_init_common(struct tcp_ctx *c, struct tcp_tcb *t);
void tcp_set_state(struct tcp_ctx *c, struct tcp_tcb *t, enum tcp_state st);
void tcp_drop_queues(struct tcp_ctx *c, struct tcp_tcb *t);

/* tcp_timer.c */
void tcp_timer_update(struct tcp_ctx *c, struct tcp_tcb *t);   /* re-arm at min(rto_at, delack_at, keep_at) */
void tcp_timer_cancel(struct tcp_ctx *c, struct tcp_tcb *t);
void tcp_rto_arm(struct tcp_ctx *c, struct tcp_tcb *t);        /* rto_at = now + rto << shift */
void tcp_keepalive_arm(struct tcp_ctx *c, struct tcp_tcb *t);
bool tcp_reclaim_time_wait(struct tcp_ctx *c);                 /* slab full: end the oldest TIME-WAIT */

/* tcp_output.c */
void tcp_output(struct tcp_ctx *c, struct tcp_tcb *t);         /* send what the windows allow, and owed ACKs */
void tcp_output_later(struct tcp_ctx *c, struct tcp_tcb *t);   /* the same, at the end of the batch if one is open */
void tcp_send_ack(struct tcp_ctx *c, struct tcp_tcb *t);
void tcp_send_rst(struct tcp_ctx *c, struct tcp_tcb *t);       /* RST from the TCB's state */
void tcp_send_rst_reply(struct tcp_ctx *c, const struct tcp_seg *sg);  /* §3.10.7.1 for no TCB */
void tcp_rst_reply_inplace(struct tcp_ctx *c, const struct tcp_seg *sg);
void tcp_send_synack_cookie(struct tcp_ctx *c, const struct tcp_seg *sg, uint32_t cookie,
			    const struct tcp_cookie_opts *o);
int tcp_retransmit_seg(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *seg);
void tcp_send_keepalive(struct tcp_ctx *c, struct tcp_tcb *t);
void tcp_send_window_probe(struct tcp_ctx *c, struct tcp_tcb *t);
uint32_t tcp_rcv_window(const struct tcp_ctx *c, const struct tcp_tcb *t);
uint32_t tcp_snd_end(const struct tcp_tcb *t);
uint16_t tcp_our_mss(const struct tcp_ctx *c, unsigned int port);
void tcp_challenge_ack(struct tcp_ctx *c, struct tcp_tcb *t);  /* RFC 5961 challenge ACK, if the limits allow */
uint32_t tcp_challenge_shard_budget(const struct tcp_ctx *c, uint32_t sec);

/* tcp_loss.c: SACK loss recovery (RACK-TLP, PRR, NextSeg, D-SACK) */
struct tcp_ack_info {
	uint32_t old_una;         /* SND.UNA before this ACK */
	uint32_t ack;             /* SEG.ACK */
	uint32_t fack0;           /* rack_fack before this ACK (valid if fack0_ok) */
	bool fack0_ok;
	uint32_t sacked_before;   /* sacked_bytes before this ACK */
	bool dsack;               /* the first SACK block was a D-SACK */
	uint32_t dsack_left, dsack_right;
	uint32_t ts_ecr;          /* the echoed TSval (our ms clock), 0 = no echo (tcp_loss.c tsecr_age_us) */
};
/* M was delivered: cumulatively acknowledged (CUM) or SACKed by this ACK (RFC 8985 §6.2 step 2) */
void tcp_rack_delivered(struct tcp_ctx *c, struct tcp_tcb *t, const struct rte_mbuf *m,
			const struct tcp_ack_info *ai, bool cum);
void tcp_sack_mark(struct tcp_ctx *c, struct tcp_tcb *t, const struct tcp_opts *o, struct tcp_ack_info *ai);
void tcp_sack_ack(struct tcp_ctx *c, struct tcp_tcb *t, const struct tcp_seg *sg, struct tcp_ack_info *ai);
void tcp_sack_rto(struct tcp_ctx *c, struct tcp_tcb *t);
void tcp_loss_timer(struct tcp_ctx *c, struct tcp_tcb *t);     /* the PTO or reordering timer fired */
void tcp_arm_retransmit_timer(struct tcp_ctx *c, struct tcp_tcb *t);
bool tcp_pto_allowed(const struct tcp_tcb *t);
uint32_t tcp_sack_pipe(const struct tcp_tcb *t);
uint32_t tcp_in_flight(const struct tcp_tcb *t);   /* outside recovery, as the send gate counts */
bool tcp_sack_next_seg(struct tcp_ctx *c, struct tcp_tcb *t, bool new_data_blocked);
void tcp_loss_on_sent(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *seg, uint32_t len, bool retrans);
static inline bool tcp_sack_recovering(const struct tcp_tcb *t)
{
	return (t->flags & TF(SACK_OK)) && (t->flags & (TF(RECOVERY) | TF(LOSS)));
}

/* tcp_pmtu.c: PLPMTUD (RFC 4821) and black-hole detection */
uint32_t tcp_pmtu_max(const struct tcp_ctx *c, const struct tcp_tcb *t);
void tcp_pmtu_init(struct tcp_ctx *c, struct tcp_tcb *t);
uint32_t tcp_pmtu_probe_size(struct tcp_ctx *c, struct tcp_tcb *t, const struct rte_mbuf *seg, uint32_t usable);
void tcp_pmtu_probe_sent(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *seg);
void tcp_pmtu_probe_acked(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *m);
void tcp_pmtu_probe_failed(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *m);
void tcp_pmtu_rto(struct tcp_ctx *c, struct tcp_tcb *t);
void tcp_pmtu_icmp(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t mss);

/* tcp_input.c */
void tcp_update_rtt(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t rtt_us);

/* tcp_climit.c: client_limits (no table: every call is a no-op) */
int tcp_climit_init(struct tcp_ctx *c, uint32_t entries);     /* 0, or -ENOMEM / -EINVAL */
void tcp_climit_release(struct tcp_ctx *c);
/* a SYN to a listener (whose limits apply): NONE, or the refusal; counts nothing, makes no entry */
enum tcp_drop tcp_climit_syn(struct tcp_ctx *c, uint32_t addr);
/* a handshake from ADDR to listener LPORT completed: NONE and *COUNTED (the stream must
 * take TF_CLIMIT) or not (no limit applies, or no room), or the refusal */
enum tcp_drop tcp_climit_admit(struct tcp_ctx *c, uint32_t addr, uint16_t lport, bool *counted);
void tcp_climit_uncount(struct tcp_ctx *c, uint32_t addr);          /* undo a count no stream took */
void tcp_climit_closed(struct tcp_ctx *c, struct tcp_tcb *t);       /* T stops counting (only if counted) */
unsigned int tcp_climit_check(const struct tcp_ctx *c, FILE *log);  /* the counts against the TCBs */
/* Is T one of its address's counted streams? (tcp_climit.c has the rule) */
static inline bool tcp_climit_counted(const struct tcp_tcb *t)
{
	return (t->flags & TF(CLIMIT)) && t->state != TCP_CLOSED && t->state != TCP_TIME_WAIT;
}

/* tcp_api.c: the stream is finished (CLOSED): tell the app, free it */
void tcp_stream_done(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t events);
void tcp_notify(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t events);

/* Count anomaly A of the shard (enum tcp_anomaly). */
static inline void tcp_anomaly(struct tcp_ctx *c, unsigned int a)
{
	if (c->anomalies && a < TAN__COUNT)
		c->anomalies[a]++;
}

/* Count C of the shard's more counters (enum tcp_more). */
static inline void tcp_more_count(struct tcp_ctx *c, unsigned int k)
{
	if (c->more && k < TMORE__COUNT)
		c->more[k]++;
}

/*
 * A send-queue buffer is leaving the queue (M), or the whole queue is (NULL):
 * the stream's search hint (tcp_ctx.snd_hint) must not point at it.
 */
static inline void tcp_snd_hint_drop(struct tcp_ctx *c, struct tcp_tcb *t, const struct rte_mbuf *m)
{
	if (c->snd_hint && (m == NULL || c->snd_hint[tcb_idx(c, t)] == m))
		c->snd_hint[tcb_idx(c, t)] = NULL;
}

/* tcp_pace.c: pacing and rate limits */
#define TCP_PACE_HORIZON_US   1000u     /* a segment due within this leaves now (the wheel's tick) */
#define TCP_PACE_MIN_SEGS     10u       /* a window of at most this many segments (the initial window) is not paced */
#define TCP_PACE_PAIR_MAX_US  40000u    /* segments paced in pairs while one's gap is at most this (a delayed ACK) */
#define TCP_PACE_AHEAD_MAX_US 480000u   /* pace_at is never further ahead (its 16-bit serial holds ±524 ms) */
#define TCP_PACE_CREDIT_US    4000u     /* a stream woken late may catch up this much */
uint64_t tcp_pace_rate(const struct tcp_ctx *c, const struct tcp_tcb *t);   /* bytes/s, 0 = unpaced */
/* RATE (tcp_pace_rate) is the congestion window's pace, not the stream's byte-rate limit */
bool tcp_pace_by_cwnd(const struct tcp_tcb *t, uint64_t rate);
/* The next segment must wait: arms the stream's output deadline (delack_at) and says true. */
bool tcp_pace_hold(struct tcp_ctx *c, struct tcp_tcb *t, uint64_t rate);
/* LEN bytes of payload left at RATE (tcp_pace_rate): the next departure moves later */
void tcp_pace_charge(struct tcp_ctx *c, struct tcp_tcb *t, uint64_t rate, uint32_t len);
/* How long (us) a paced stream's next segment waits from now, 0 if none (the probe timer adds it) */
uint32_t tcp_pace_delay_us(const struct tcp_ctx *c, const struct tcp_tcb *t);
uint32_t tcp_rate_window(const struct tcp_tcb *t, uint32_t cap);         /* CAP, or less for a limited stream */

/* A retransmission of T: counted for the stream, the shard and, at TCP_ANOMALY_REXMIT, as an anomaly. */
static inline void tcp_count_rexmit(struct tcp_ctx *c, struct tcp_tcb *t)
{
	if (++t->retransmits == TCP_ANOMALY_REXMIT)
		tcp_anomaly(c, TAN_RETRANSMITS);
	tcp_count(c, TEV_RETRANSMITS);
}

#endif
