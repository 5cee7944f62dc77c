/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP shared-memory types: the per-shard TCP area and the TCB. Types only.
 *
 * Everything here lives in the shard memzone (DESIGN §3, §5) and must mean
 * the same to the next worker binary: no function pointers, no pointers to
 * private memory (mbuf pointers are DPDK memory and valid everywhere), indices
 * instead of links, explicit sizes checked by _Static_assert.
 *
 * Area layout (offsets from the start of struct tcp_area, recorded in it):
 *   struct tcp_area            header, keys, counters, listeners' counters
 *   struct tcp_tcb[max]        the TCB slab
 *   uint32_t lookup[lsize]     4-tuple hash -> first TCB index of the chain
 *   uint32_t wheel[TCP_WHEEL]  timer wheel slot -> first TCB index
 */
#ifndef PORTER_TCP_T_H
#define PORTER_TCP_T_H

#include <stdint.h>

#include "shm/tcp_cc-t.h"

struct rte_mbuf;

#define TCP_NIL             UINT32_MAX     /* "no TCB" index */
#define TCP_WHEEL_SLOTS     16384          /* power of two */
#define TCP_TICK_MS         1              /* wheel granularity: lap = 16.4 s (later deadlines wait laps) */
#define TCP_TIMER_SCAN_MS   64             /* tcp_next_timer_ms() looks this far, then asks to be called again */
#define TCP_AREA_MAGIC      0x54435041u    /* "TCPA" */

/*
 * RFC 9293 §3.3.2 states. CLOSED is a free slab entry. LISTEN has no TCB:
 * listeners are the shard's table, SYNs create TCBs in SYN_RECEIVED.
 *
 *                         +---------+ ---------\      active OPEN
 *                         |  CLOSED |            \    -----------
 *                         +---------+<---------\   \   create TCB
 *                           |     ^              \   \  snd SYN
 *              passive OPEN |     |   CLOSE        \   \
 *              ------------ |     | ----------       \   \
 *               create TCB  |     | delete TCB         \   \
 *                           V     |                      \   \
 *       rcv RST (note 1)  +---------+            CLOSE    |    \
 *    -------------------->|  LISTEN |          ---------- |     |
 *   /                     +---------+          delete TCB |     |
 *  /           rcv SYN      |     |     SEND              |     |
 * |           -----------   |     |    -------            |     V
 * +--------+   snd SYN,ACK  /       \   snd SYN          +--------+
 * |        |<-----------------           ------------------>|        |
 * |  SYN   |                    rcv SYN                     |  SYN   |
 * |  RCVD  |<-----------------------------------------------|  SENT  |
 * |        |                  snd SYN,ACK                   |        |
 * |        |------------------           -------------------|        |
 * +--------+   rcv ACK of SYN  \       /  rcv SYN,ACK       +--------+
 *    |         --------------   |     |   -----------
 *    |                x         |     |     snd ACK
 *    |                          V     V
 *    |  CLOSE                 +---------+
 *    | -------                |  ESTAB  |
 *    | snd FIN                +---------+
 *    |                 CLOSE    |     |    rcv FIN
 *    V                -------   |     |    -------
 * +---------+         snd FIN  /       \   snd ACK         +---------+
 * |  FIN    |<----------------          ------------------>|  CLOSE  |
 * | WAIT-1  |------------------                            |   WAIT  |
 * +---------+          rcv FIN  \                          +---------+
 *   | rcv ACK of FIN   -------   |                          CLOSE  |
 *   | --------------   snd ACK   |                         ------- |
 *   V        x                   V                         snd FIN V
 * +---------+               +---------+                    +---------+
 * |FINWAIT-2|               | CLOSING |                    | LAST-ACK|
 * +---------+               +---------+                    +---------+
 *   |              rcv ACK of FIN |                 rcv ACK of FIN |
 *   |  rcv FIN     -------------- |    Timeout=2MSL -------------- |
 *   |  -------            x       V    ------------        x       V
 *    \ snd ACK              +---------+delete TCB          +---------+
 *      -------------------->|TIME-WAIT|------------------->| CLOSED  |
 *                           +---------+                    +---------+
 *                 (RFC 9293 Figure 5)
 */
enum tcp_state {
	TCP_CLOSED = 0,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
	TCP_STATE__COUNT
};

/* TCB flag bits (tcb.flags). */
enum {
	TF_SACK_OK_BIT = 0,     /* both sides sent SACK-permitted */
	TF_TS_OK_BIT,           /* timestamps negotiated (RFC 7323 §3.2) */
	TF_WS_OK_BIT,           /* window scaling negotiated (RFC 7323 §2.2) */
	TF_NODELAY_BIT,         /* Nagle off */
	TF_ACK_NOW_BIT,         /* send an ACK at the end of this input */
	TF_DELACK_BIT,          /* an ACK is owed (delayed) */
	TF_FIN_QUEUED_BIT,      /* app shut down writing: FIN after the queued data */
	TF_FIN_SENT_BIT,        /* our FIN has a sequence number (snd_max includes it) */
	TF_RCVD_FIN_BIT,        /* the peer's FIN was received in order */
	TF_RECOVERY_BIT,        /* in fast recovery (RFC 6582 / RFC 6675) */
	TF_ORPHAN_BIT,          /* the application closed: no more reads */
	TF_COOKIE_BIT,          /* created from a SYN cookie */
	TF_PASSIVE_BIT,         /* created by a listener */
	TF_RTT_TIMING_BIT,      /* rtt_seq is being timed (no timestamps) */
	TF_APP_NOTIFIED_BIT,    /* the app has been told it is connected */
	TF_REXMIT_BIT,          /* retransmitting after an RTO (go-back-N from snd_una), no SACK */
	TF_LOSS_BIT,            /* SACK stream after an RTO: lost segments resent in slow start (RFC 8985 §6.3) */
	TF_PTO_BIT,             /* rto_at holds the tail loss probe's deadline (RFC 8985 §7.2) */
	TF_REO_BIT,             /* rto_at holds RACK's reordering timer (RFC 8985 §6.2 step 5) */
	TF_TLP_RETRANS_BIT,     /* the outstanding tail loss probe was a retransmission */
	TF_REORDER_SEEN_BIT,    /* RACK saw the peer deliver out of order (RFC 8985 §6.2 step 3) */
	TF_RESCUE_BIT,          /* the rescue retransmission of this recovery went (RFC 6675 §4 rule 4) */
	TF_TOUCHED_BIT,         /* changed since the worker's last quiescent point: recovery repairs it */
	TF_CLIMIT_BIT,          /* counted for its client address in the shard's client table (client_limits,
	                           tcp_climit.c) from its handshake until it is freed or enters TIME-WAIT
	                           (layout 2.4) */
	TF_ZWND_LONG_BIT,       /* the peer's zero window was counted as held long (tcp_anomaly; layout 2.5) */
	/* ECN (RFC 3168; layout 2.7) */
	TF_ECN_BIT,             /* ECN negotiated (SYN_SENT: asked for in our SYN) */
	TF_ECE_BIT,             /* receiver: a CE mark arrived; ECE on every ACK until the peer's CWR (§6.1.3) */
	TF_CWR_BIT,             /* sender: the window was reduced for an ECE; CWR on the next new data (§6.1.2) */
	TF_ECN_HOLD_BIT,        /* sender: no other reduction for ECE until SND.UNA passes ecn_high (§6.1.2:
	                           once per window of data) */
	/* PLPMTUD (RFC 4821; tcp_pmtu.c). An older binary ignores both bits and pmtu_hi: it keeps
	 * sending at tcb.mss, which is always a size the path was seen to carry or the base. */
	TF_PMTU_BIT,            /* probing is on for this stream: the MSS came down to tcp.base_mss (a black
	                           hole, or tcp.mtu_probing = 2) and probes may raise it again */
	TF_PMTU_DONE_BIT,       /* the search has settled: pmtu_hi holds when (TCP_PMTU_STAMP units), not a
	                           bound; a new search starts TCP_PMTU_REPROBE_MS later (RFC 4821 §7.7) */
	TF_PMTU_PROBE_BIT,      /* a probe may be in flight (a send-queue buffer with SEG_PROBE): no other
	                           probe goes; cleared by its verdict, or when nothing is in flight */
};
#define TF(name) (1u << TF_##name##_BIT)
_Static_assert(TF_PMTU_BIT == 29 && TF_PMTU_PROBE_BIT == 31, "tcb.flags: bits 29-31 are PLPMTUD's (layout 2.8)");

/* Per-shard TCP drop reasons (tcp_area.drops, then tcp_area.drops_ext: read with tcp_area_drop()). */
enum tcp_drop {
	TDROP_NONE = 0,
	TDROP_MALFORMED,        /* header or options do not parse */
	TDROP_CSUM,             /* bad checksum */
	TDROP_NO_LISTENER,      /* answered with RST (RFC 9293 §3.10.7.1) */
	TDROP_RST_NO_TCB,       /* RST for nothing: dropped silently */
	TDROP_OUT_OF_WINDOW,    /* unacceptable segment (RFC 9293 §3.10.7.4 first) */
	TDROP_PAWS,             /* RFC 7323 §5 */
	TDROP_BAD_ACK,          /* ACK of something not sent */
	TDROP_BAD_COOKIE,       /* ACK that is no valid SYN cookie */
	TDROP_CHALLENGE_LIMIT,  /* challenge ACK not sent: rate limit (RFC 5961 §7) */
	TDROP_SLAB_FULL,        /* no free TCB */
	TDROP_BACKLOG_FULL,     /* SYN dropped: backlog full and cookies off */
	TDROP_NOMBUF,           /* could not allocate a buffer */
	TDROP_RCV_BUF_FULL,     /* data beyond the receive buffer */
	TDROP_OOO_FULL,         /* out-of-order queue limit */
	TDROP_SYN_IN_STATE,     /* SYN in a synchronized state (challenge ACK sent) */
	TDROP_RST_IN_WINDOW,    /* in-window RST not exactly at RCV.NXT (challenge ACK sent) */
	TDROP_ICMP_UNMATCHED,   /* ICMP error for no stream */
	TDROP__COUNT_2_0,       /* reasons of layout 2.0, kept in tcp_area.drops; later ones in drops_ext */
	TDROP_ICMP_OUT_OF_WINDOW = TDROP__COUNT_2_0,  /* ICMP error quoting no byte in flight (RFC 5927 §4.1) */
	TDROP_POOL_LOW,         /* payload not queued: the shared buffer pool is nearly empty (layout 2.2) */
	TDROP_CLIENT_CONNS,     /* SYN refused with RST: its address holds client_limits.max_conns streams; or
	                           a handshake's ACK, completed past it (layout 2.4) */
	TDROP_CLIENT_RATE,      /* the same for client_limits.conn_rate: the address's bucket (a token per
	                           completed handshake) is empty (layout 2.4) */
	TDROP__COUNT
};
#define TDROP_EXT_MAX 4         /* tcp_area.drops_ext entries (carved from tcp_area.reserved) */
_Static_assert(TDROP__COUNT - TDROP__COUNT_2_0 <= TDROP_EXT_MAX, "tcp_area.drops_ext is full");

/* Events counted per shard (tcp_area.events). */
enum tcp_event {
	TEV_ACTIVE_OPENS = 0,
	TEV_PASSIVE_OPENS,
	TEV_ESTABLISHED,
	TEV_CLOSED,
	TEV_RESETS_SENT,
	TEV_RESETS_RCVD,
	TEV_RETRANSMITS,
	TEV_RTO,
	TEV_FAST_RECOVERY,
	TEV_SACK_RECOVERY,
	TEV_COOKIES_SENT,
	TEV_COOKIES_OK,
	TEV_CHALLENGE_ACKS,
	TEV_KEEPALIVE_PROBES,
	TEV_KEEPALIVE_TIMEOUTS,
	TEV_ZERO_WINDOW_PROBES,
	TEV_TIME_WAIT_REUSE,
	TEV_PMTU_LOWERED,
	TEV_SEGS_IN,
	TEV_SEGS_OUT,
	TEV_RACK_LOST,          /* segments RACK marked lost (RFC 8985 §6.2) */
	TEV_TLP,                /* tail loss probes sent (RFC 8985 §7.3) */
	TEV_TLP_REPAIRED,       /* probes that repaired a tail loss (RFC 8985 §7.4: window reduced) */
	TEV_DSACKS_RCVD,        /* D-SACK blocks received (RFC 2883) */
	TEV_DSACKS_SENT,        /* D-SACK blocks sent for duplicate data */
	TEV_UNDO,               /* window reductions undone: every retransmission was D-SACKed */
	TEV_SACK_RENEGED,       /* the peer dropped data it had SACKed: the scoreboard was cleared */
	TEV_REORDER_SEEN,       /* streams that saw the network reorder (RACK widens its window) */
	TEV__COUNT
};

/* Application kinds: what handles a stream's events (a switch, not a pointer). */
enum tcp_app {
	TAPP_NONE = 0,
	TAPP_ECHO,              /* RFC 862 */
	TAPP_DISCARD,           /* RFC 863 */
	TAPP_SOURCE,            /* deterministic pattern, app_arg bytes (0 = until closed) */
	TAPP_TEST,              /* unit tests drive the stream through the API */
	/* The proxy (secondary/http). These kinds use app_arg_hi as the stream's
	 * application deadline (ms clock, 0 = none): the stream's one timer also
	 * fires for it and delivers TEV_APP_TIMEOUT. app_arg_lo is a session
	 * index, TCP_NIL, or (pooled) the next idle stream of the pool. */
	TAPP_HTTP,              /* client of an http listener */
	TAPP_HTTP_UP,           /* upstream stream of an http session */
	TAPP_HTTP_POOL,         /* idle upstream stream kept for reuse (reserved = server slot) */
	TAPP_HTTP_LINGER,       /* client being closed: input discarded until the peer closes */
	TAPP_SPLICE,            /* client of a tcp pass-through listener */
	TAPP_SPLICE_UP,         /* its upstream stream */
	TAPP_HEALTH,            /* active health check (reserved = server slot) */
	TAPP__COUNT
};
#define TAPP_DEADLINE_FIRST TAPP_HTTP   /* kinds >= this carry a deadline in app_arg_hi */

/*
 * The TCB. Field order groups what the fast path touches together. Sizes in
 * comments add up to the _Static_assert below; an idle established stream
 * owns this and nothing else (all queue pointers NULL).
 */
struct tcp_tcb {
	/* identity and lookup (20) */
	uint32_t laddr, raddr;            /* host order */
	uint16_t lport, rport;
	uint32_t h_next;                  /* lookup chain / free list */
	uint32_t app_arg_lo;              /* app state: source bytes left (low half) */
	/* state (8) */
	uint8_t state;                    /* enum tcp_state */
	uint8_t port;                     /* index into porter_global.ports */
	uint8_t app;                      /* enum tcp_app */
	uint8_t snd_wscale, rcv_wscale;   /* RFC 7323 shifts */
	uint8_t rto_shift;                /* RFC 6298 §5.5 backoff count */
	uint8_t ka_probes;                /* keep-alive probes sent without answer */
	uint8_t dupacks;
	uint32_t flags;                   /* TF_* */
	/* send sequence space (RFC 9293 §3.3.1) (32) */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd;                 /* scaled, bytes */
	uint32_t snd_wl1, snd_wl2;
	uint32_t max_snd_wnd;             /* RFC 5961 §5.2 MAX.SND.WND */
	/* receive sequence space (16) */
	uint32_t irs, rcv_nxt;
	uint32_t rcv_adv;                 /* right edge of the window we advertised */
	uint32_t recover;                 /* RFC 6582 recover */
	/* MSS and timestamps (16) */
	uint16_t mss;                     /* effective send MSS (payload per segment, options excluded) */
	uint16_t peer_mss;
	uint32_t ts_recent;               /* RFC 7323 §4.3 TS.Recent */
	uint32_t ts_recent_ms;            /* when TS.Recent was stored (PAWS 24-day rule) */
	uint32_t last_ack_sent;           /* RFC 7323 §4.3 Last.ACK.sent */
	/* RTT (RFC 6298) (16) */
	uint32_t srtt_us, rttvar_us;
	uint32_t rto_ms;
	uint32_t rtt_seq;                 /* segment being timed (no timestamps), with rtt_start_ms */
	/* congestion control (32) */
	struct tcp_cc cc;
	/* queues: mbuf chains in DPDK memory (40) */
	struct rte_mbuf *snd_head;        /* unacked + unsent data; first byte = snd_una (+1 before SYN is acked) */
	struct rte_mbuf *snd_tail;
	struct rte_mbuf *rcv_head;        /* in-order data not read by the app */
	struct rte_mbuf *rcv_tail;
	struct rte_mbuf *ooo_head;        /* out-of-order segments, sorted by seq */
	uint32_t snd_bytes, rcv_bytes;    /* bytes in snd and rcv queues */
	/* timer: one per stream, intrusive in the shard wheel (24) */
	uint32_t t_next, t_prev;          /* wheel slot list; t_prev == TCP_NIL and slot head == self when first */
	uint32_t t_at;                    /* armed deadline (ms), 0 = not armed */
	uint32_t rto_at;                  /* retransmit / persist / SYN deadline, 0 = none */
	uint32_t delack_at;               /* delayed ACK deadline, 0 = none */
	uint32_t keep_at;                 /* keep-alive, FIN-WAIT-2 or TIME-WAIT deadline, 0 = none */
	/* per-stream metrics (24) */
	uint64_t bytes_in, bytes_out;
	uint32_t retransmits;
	uint32_t rtt_start_ms;
	/* app state and activity (12) */
	uint32_t app_arg_hi;              /* source bytes left (high half) */
	uint16_t t_slot;                  /* wheel slot the TCB is linked in (when t_at != 0) */
	uint16_t app_slot;                /* proxy: server slot of a pooled / health-check stream */
	uint32_t last_rcv_ms;             /* last segment accepted from the peer (keep-alive) */
	/* --- second cache-line pair: loss recovery and the receiver's SACK state --- */
	/* sender: RACK-TLP (RFC 8985), PRR (RFC 6937), undo by D-SACK (RFC 2883) (64) */
	uint32_t rack_xmit_us;            /* send time (us clock, low 32 bits) of the most recently sent delivered segment */
	uint32_t rack_end_seq;            /* its end */
	uint32_t rack_rtt_us;             /* its RTT */
	uint32_t min_rtt_us;              /* smallest RTT seen (0 = none) */
	uint32_t rack_fack;               /* highest sequence delivered (acked or SACKed) */
	uint32_t dsack_round;             /* reo_mult grows at most once per round: SND.MAX when it last did, 0 = none */
	uint32_t tlp_end_seq;             /* SND.MAX when the outstanding probe went, 0 = none */
	uint32_t prr_delivered, prr_out;  /* RFC 6937 */
	union {
		uint32_t recover_fs;      /* RFC 6937 RecoverFS, in a loss recovery episode (TF_RECOVERY) */
		uint32_t ecn_high;        /* SND.MAX at the last ECE reduction, while TF_ECN_HOLD (never
		                             both: an episode's start clears TF_ECN_HOLD; layout 2.7) */
	};
	uint32_t prior_cwnd, prior_ssthresh;  /* before the episode's reduction (undo), prior_cwnd 0 = nothing to undo */
	uint32_t undo_marker;             /* SND.UNA when the episode began */
	uint32_t sacked_bytes;            /* bytes of the send queue marked SACKED */
	uint16_t undo_retrans;            /* retransmissions of the episode not D-SACKed yet */
	uint8_t reo_mult;                 /* reordering window in quarters of min RTT (RFC 8985 §6.2 step 4) */
	uint8_t reo_persist;              /* recoveries left before reo_mult resets */
	/* receiver: out-of-order queue tail, SACK blocks to report (RFC 2018 §4), D-SACK (RFC 2883) (64) */
	struct rte_mbuf *ooo_tail;        /* last segment of ooo_head's list */
	struct { uint32_t left, right; } sack[4];  /* sack[0] holds the latest arrival; left == right: unused */
	uint32_t dsack_left, dsack_right; /* duplicate data to report in the next ACK; equal = none */
	uint16_t ooo_segs;                /* segments in the out-of-order queue */
	/* RFC 5961 §7: the stream's own challenge ACK budget (layout 2.1, from reserved_b) (10) */
	uint16_t rate;                    /* byte-rate limit of each direction, porter_rate16 encoding (shm/rate.h),
	                                     0 = none (layout 2.8, was reserved_h; tcp_pace.c) */
	uint32_t challenge_ms;            /* start of the stream's current one-second window (ms clock) */
	/*
	 * Challenge ACKs sent in that window: 32 bits until layout 2.7, 16 since 2.8, saturating at
	 * 65535, so a tcp.challenge_ack_per_s above 65535 acts as 65535 per stream (the shard's
	 * safety net stays the tighter limit at such rates anyway). An older binary reads
	 * challenge_count | pmtu_hi << 16: a count at or above its limit, so that stream sends
	 * no challenge ACK until its one-second window restarts, which zeroes both halves.
	 */
	uint16_t challenge_count;
	/*
	 * PLPMTUD (RFC 4821 §7.2, tcp_pmtu.c), while TF_PMTU and not TF_PMTU_DONE: the search's
	 * exclusive upper bound as a send MSS (smallest size that failed, or the largest the peer
	 * and our port allow plus one). Validated at every use (clamped to (mss, max + 1]), so a
	 * stale or garbage value costs at most a wasted probe or an early end of the search. With
	 * TF_PMTU_DONE: when the search settled (tcp_pmtu.c TCP_PMTU_STAMP units). (layout 2.8)
	 */
	uint16_t pmtu_hi;
	/* per-stream security metrics (layout 2.5, from reserved_b) (8) */
	uint32_t born_ms;                 /* created (ms clock): the stream's age */
	uint32_t zwnd_since_ms;           /* the peer's window has been zero since then (ms clock | 1), 0 = open */
};

_Static_assert(sizeof(struct tcp_tcb) == 384, "an idle stream costs exactly its 384-byte TCB");

/*
 * Peers that behave like an attack (per-stream security metrics): counted per
 * shard (porter_shard.tcp_anomalies, through tcp_ctx.anomalies) and flagged
 * per stream in porterctl streams.
 */
enum tcp_anomaly {
	TAN_ZERO_WINDOW_LONG = 0,   /* a peer held a zero window for TCP_ANOMALY_ZWND_MS with data waiting */
	TAN_TINY_MSS,               /* a peer announced an MSS below TCP_ANOMALY_MSS (RFC 9293's default 536) */
	TAN_RETRANSMITS,            /* a stream reached TCP_ANOMALY_REXMIT retransmissions */
	TAN__COUNT
};
_Static_assert(TAN__COUNT <= 8, "porter_shard.tcp_anomalies has 8 counters");
/*
 * More per-shard TCP counters (porter_shard.tcp_more, through tcp_ctx.more;
 * layout 2.8: tcp_area had no reserved bytes left).
 */
enum tcp_more {
	TMORE_PACED = 0,            /* times a stream's next segment waited for its departure time (tcp_pace.c) */
	TMORE_RATE_LIMITED,         /* streams given a byte-rate limit (listener, route or client address) */
	/* PLPMTUD (RFC 4821, tcp_pmtu.c; layout 2.8) */
	TMORE_PLPMTUD_PROBES,       /* probe segments sent (larger than the stream's MSS) */
	TMORE_PLPMTUD_PROBES_OK,    /* probes delivered: the MSS went up */
	TMORE_PLPMTUD_PROBES_FAILED, /* probes lost: the search's upper bound came down, no window reduction */
	TMORE_PLPMTUD_BLACK_HOLES,  /* streams whose large segments kept timing out: MSS down to tcp.base_mss */
	TMORE__COUNT
};
_Static_assert(TMORE__COUNT <= 16, "porter_shard.tcp_more has 16 counters");

#define TCP_ANOMALY_ZWND_MS  10000u
#define TCP_ANOMALY_MSS      536u
#define TCP_ANOMALY_REXMIT   64u

/* Counters and keys of one shard's TCP. Written by the shard's worker only. */
struct tcp_area {
	uint32_t magic;                   /* TCP_AREA_MAGIC once initialised */
	uint32_t tcb_size;                /* sizeof(struct tcp_tcb) of the initialiser */
	uint32_t max_streams;
	uint32_t lookup_size;             /* power of two */
	uint32_t tcb_off, lookup_off, wheel_off;
	uint32_t area_size;
	/* allocation */
	uint32_t free_head;
	uint32_t live;                    /* TCBs not CLOSED */
	uint32_t half_open;               /* SYN_RECEIVED from a listener (backlog) */
	uint32_t wheel_tick;              /* last processed tick (ms / TCP_TICK_MS) */
	uint32_t ephemeral_next;          /* next port to try for active opens */
	uint32_t challenge_sec;           /* RFC 5961 §7 shard-wide safety net: the second challenge_left is for */
	uint32_t challenge_left;          /* challenge ACKs all streams may still send in it (layout 2.1: a random
	                                     budget, counting down; 2.0 counted up from 0) */
	volatile uint32_t op_stream;      /* layout 2.0 workers: TCB being mutated, TCP_NIL when none (recovery reads it) */
	uint8_t isn_key[16];              /* RFC 6528 secret */
	uint8_t cookie_key[16];           /* RFC 4987 secret */
	uint64_t drops[TDROP__COUNT_2_0];   /* reasons added later: drops_ext (tcp_area_drop()) */
	uint64_t events[TEV__COUNT];
	uint64_t repaired;                /* streams checked and repaired after a worker died mid-change */
	uint64_t reset_on_recovery;       /* streams that could not be trusted and were reset */
	uint64_t tw_reclaimed;            /* TIME-WAIT streams freed early because the slab was full */
	uint64_t drops_ext[TDROP_EXT_MAX];  /* drop reasons TDROP__COUNT_2_0.. (layout 2.1, from reserved) */
	uint64_t inconsistent;            /* tcp_check findings (layout 2.2; test builds check after recovery) */
	/* layout minor 3: TCBs [hwm, max_streams) have never been handed out since
	 * the area was laid out or last rebuilt (CLOSED, on no list); tcb_alloc()
	 * takes them in order once the free list is empty and moves hwm first. A
	 * recovery may stop its scan at hwm, but only if the previous holder of
	 * the shard kept it: hwm_grant is the grant (epoch) of the worker that
	 * keeps it, stored when it attached. Workers of older minors neither keep nor
	 * read these; after one of them, the next scan is whole again. */
	volatile uint32_t hwm;
	uint32_t reserved_u32;
	volatile uint64_t hwm_grant;
	/* the client table (client_limits, climit.h; the table itself is the worker's private memory) (layout 2.4) */
	uint64_t client_evictions;        /* addresses with a running bucket evicted to make room for a new one */
	uint64_t client_untracked;        /* streams opened by an address the table had no room for (not limited) */
	uint32_t client_table_size;       /* entries, 0 = no table */
	uint32_t client_table_used;       /* entries holding an address */
	/* layout 2.5: the gateway's stop (porter_global.drain_phase): the phase this shard's worker
	 * has acted on, and its streams still open then (tcp_open_streams) */
	volatile uint32_t drain_ack;
	volatile uint32_t drain_left;
	uint64_t ecn_ce_received;         /* CE-marked segments received on ECN streams (layout 2.7, from reserved) */
	uint64_t ecn_reductions;          /* windows reduced for an ECE, without a retransmission (layout 2.7) */
};

_Static_assert(sizeof(struct tcp_area) == 592, "tcp_area: add fields from reserved only");

/* Bytes of TCP area for MAX streams (the primary sizes the shard memzone). */
static inline uint64_t tcp_area_bytes(uint32_t max)
{
	uint64_t lsize = 1;

	while (lsize < max)
		lsize <<= 1;
	return ((sizeof(struct tcp_area) + 63) & ~63ull) + (uint64_t)max * sizeof(struct tcp_tcb) +
	       lsize * 4 + (uint64_t)TCP_WHEEL_SLOTS * 4 + 64;
}

#endif
