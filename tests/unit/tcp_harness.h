/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit-test harness for the TCP stack (secondary/tcp), in the spirit of
 * lwIP's test/unit/tcp: no EAL, fake mbufs (counted), a fake clock, a
 * segment builder feeding tcp_input(), captured transmit with independent
 * checksum verification, a model of the peer, helpers that drive real
 * segments to reach a state, and a recorder for TAPP_TEST events.
 *
 * Every test runs with h_setup() / h_teardown() (Criterion .init / .fini):
 * teardown aborts every live stream, drains the captures and asserts that no
 * fake mbuf and no TCB is left, and that the timer wheel and the lookup table
 * are empty.
 *
 * Built with H_NO_CRITERION defined (the fuzz target tests/fuzz/fuzz_tcp.c),
 * the harness uses tests/unit/cr_shim.h instead of Criterion: a failed
 * assertion prints and abort()s. The unit suites build as before.
 */
#ifndef PORTER_TESTS_TCP_HARNESS_H
#define PORTER_TESTS_TCP_HARNESS_H

#ifdef H_NO_CRITERION
#include "tests/unit/cr_shim.h"
#else
#include <criterion/criterion.h>
#endif
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "secondary/tcp/tcp_priv.h"

#define H_LOCAL_IP    0x0a000001u   /* 10.0.0.1, port 0 of the gateway */
#define H_PEER_IP     0x0a000002u   /* 10.0.0.2 */
#define H_PEER_PORT   40000
#define H_TEST_PORT   80            /* listener, TAPP_TEST */
#define H_ECHO_PORT   7             /* listener, TAPP_ECHO */
#define H_DISCARD_PORT 9            /* listener, TAPP_DISCARD */
#define H_CLOSED_PORT 81            /* nothing listens */
#define H_T0_MS       1000000u      /* the fake clock starts here (a multiple of TCP_TICK_MS) */
#define H_MAX_STREAMS 256u
#define H_BUF_LEN     2176u         /* fake mbuf buffer: RTE_MBUF_DEFAULT_BUF_SIZE */
#define H_MAX_CAPS    4096u
#define H_MAX_EVENTS  4096u

/* ---- assertions that print both values ----------------------------------- */

#define HEQ(a, b)                                                                              \
	do {                                                                                   \
		uint64_t h_a_ = (uint64_t)(a), h_b_ = (uint64_t)(b);                           \
		cr_assert(h_a_ == h_b_, "%s:%d: %s = %#" PRIx64 " (%" PRIu64 "), expected %s = %#" \
			  PRIx64 " (%" PRIu64 ")", __FILE__, __LINE__, #a, h_a_, h_a_, #b, h_b_, h_b_); \
	} while (0)

#define HTRUE(x) cr_assert((x), "%s:%d: expected %s", __FILE__, __LINE__, #x)

/* ---- fake environment ------------------------------------------------------ */

struct h_event {
	uint32_t s;
	uint32_t ev;
	uint32_t at_ms;
};

struct h_cap {
	uint8_t *data;
	uint32_t len;
	uint16_t port;
};

struct harness {
	struct porter_global *g;
	void *area_mem;
	uint64_t area_bytes;
	uint64_t more[TMORE__COUNT];  /* the shard's enum tcp_more counters (tcp_ctx.more) */
	struct tcp_ctx ctx;
	/* fake mbufs */
	long live_mbufs;
	unsigned long allocs, frees;
	unsigned int fail_skip;          /* after this many more successful allocations, */
	unsigned int fail_allocs;        /* the next N allocations fail */
	/* the worker's journal, as far as the crash tests need it (h_crash_recover) */
	struct rte_mbuf *in_hand;        /* tcp_env_alloc / tcp_env_hold: outside every queue */
	bool pool_low;                   /* what tcp_env_pool_low() answers */
	struct rte_mbuf *rx_current;     /* the frame h_inject() is feeding */
	bool rx_consumed;                /* ... was freed or sent */
	/* captured transmit (FIFO) */
	struct h_cap caps[H_MAX_CAPS];
	unsigned int cap_head, cap_tail;
	unsigned long xmits;
	/* TAPP_TEST events */
	struct h_event ev[H_MAX_EVENTS];
	unsigned int nev;
	/* optional reaction of the test application (called after recording) */
	void (*on_event)(uint32_t s, uint32_t ev);
	/* optional observer of every frame the stack sends, called by tcp_env_xmit()
	 * with the frame as it leaves (checksums final) while the sender's TCB is
	 * still as it was when the frame was built (the fuzz target checks there) */
	void (*on_xmit)(const uint8_t *frame, uint32_t len, uint16_t port);
	/* the events of the proxy's stream kinds (tcp_env_app_event): proxy_app_event when a harness
	 * links the proxy (tests/unit/proxy_harness.c), NULL otherwise */
	void (*app_event)(struct tcp_ctx *ctx, uint32_t s, uint32_t ev);
};

extern struct harness H;
/* Frames the fake NIC summed (the stack asked for checksum offload: H.g->ports[i].tx_csum). */
extern uint32_t h_offloaded;
#define CTX   (&H.ctx)
#define AREA  (H.ctx.area)
#define PRM   (&H.g->tcp)   /* writable: tests override parameters after h_setup() */
#define TCB(s) (&H.ctx.tcbs[(s)])

void h_setup(void);
void h_teardown(void);    /* frees the harness memory (Criterion .fini) */
/*
 * The end-of-test check: abort every live stream, drain the captures, then
 * assert no fake mbuf is live, area->live == 0, no half-open count, a full
 * free list, an empty timer wheel and an empty lookup table. Criterion does
 * not fail a test on an assertion in .fini, so HTEST runs this at the end of
 * the test body.
 */
void h_check_clean(void);

/* A test of SUITE (whose .init/.fini are h_setup/h_teardown) ending with h_check_clean(). */
#define HTEST(suite, name, ...)                                                \
	static void suite##_##name##_body(void);                               \
	Test(suite, name, ##__VA_ARGS__)                                       \
	{                                                                      \
		suite##_##name##_body();                                       \
		h_check_clean();                                               \
	}                                                                      \
	static void suite##_##name##_body(void)

#define HSUITE(suite) TestSuite(suite, .init = h_setup, .fini = h_teardown)

/* A fake mbuf: 2176-byte buffer, default headroom, data_len 0. Counted. */
struct rte_mbuf *h_mbuf_alloc(void);
void h_mbuf_free(struct rte_mbuf *m);   /* a whole chain */

/*
 * A new worker attaching to the same area (the old one died): tcp_ctx_attach()
 * on the same memory, then tcp_rebuild() again on the fake clock (attach
 * rebuilt on the real one).
 */
void h_reattach(void);
/* The same for a worker holding grant GRANT (tcp_ctx_attach_grant(): the high-water mark). */
void h_reattach_grant(uint64_t grant);

/*
 * What a worker does after a kill left the stack in the middle of a call
 * (tests/unit/test_crash.c): free the frame being processed and the buffer in
 * hand unless a stream's queue took them, re-attach (rebuild, repair, check
 * every invariant), give every stream's application a look.
 */
void h_crash_recover(void);

/* ---- fake clock -------------------------------------------------------------- */

/* Advance the clock by MS, one millisecond at a time, running tcp_timers() at each step. */
void h_advance(uint32_t ms);
/* Advance 1 ms at a time until the stack sends something (at most LIMIT ms); returns the ms waited. */
uint32_t h_wait_out(uint32_t limit);
static inline uint32_t h_now(void) { return H.ctx.now_ms; }

/* ---- segment builder ---------------------------------------------------------- */

struct h_spec {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	const struct tcp_opts_out *opts;  /* built with tcp_opts_build(), or */
	const uint8_t *raw_opts;          /* raw option bytes (EOL-padded to 4) */
	unsigned int raw_len;
	const void *payload;
	uint32_t len;
	bool bad_tcp_csum, bad_ip_csum;
	uint8_t tos;                      /* the IP header's TOS byte (ECN field in its low two bits) */
};

/* Ethernet (14 zero bytes) + IPv4 + TCP frame in a fake mbuf, checksums right unless asked. */
struct rte_mbuf *h_build(const struct h_spec *sp);
/* Build and feed to tcp_input(). */
void h_inject(const struct h_spec *sp);

/* ---- captured transmit ----------------------------------------------------------- */

/* A frame the stack sent, decoded (independently of the stack's code). */
struct h_out {
	uint8_t frame[H_BUF_LEN];
	uint32_t flen;
	uint16_t port;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint8_t ttl;
	bool df;
	unsigned int optlen;
	int opt_rc;                     /* tcp_opts_parse() result */
	struct tcp_opts opt;
	const uint8_t *payload;         /* into frame */
	uint32_t len;
	uint8_t tos;                    /* the IP header's TOS byte (ECN: tos & 3) */
	bool ip_ok, ip_csum_ok, tcp_csum_ok;
};

unsigned int h_pending(void);
/* Decode frame FRAME (LEN bytes, sent on PORT) into *O, as h_pop() does. */
void h_decode(const uint8_t *frame, uint32_t len, uint16_t port, struct h_out *o);
/* Pop the next captured frame into *O (false when none). Decodes, does not assert. */
bool h_pop(struct h_out *o);
/* Pop the next frame, asserting there is one, well formed with both checksums right. */
void h_next(struct h_out *o);
/* Assert nothing was sent. */
void h_none(void);
/* Drop every captured frame. */
void h_drain(void);

/* Independent Internet checksum (RFC 1071) over BUF with an initial 32-bit sum. */
uint16_t h_cksum(const uint8_t *buf, uint32_t len, uint32_t init);

/* ---- events --------------------------------------------------------------------- */

/* OR of the events stream S received since the last h_clear_events(). */
uint32_t h_events(uint32_t s);
/* Number of deliveries to S that contained a bit of MASK. */
unsigned int h_event_count(uint32_t s, uint32_t mask);
void h_clear_events(void);

/* ---- the peer -------------------------------------------------------------------- */

/* What the peer puts in its SYN. */
struct h_synopt {
	bool mss;
	uint16_t mss_val;
	bool ws;
	uint8_t ws_val;
	bool sack;
	bool ts;
};

/* A model of the remote end of one connection. */
struct h_peer {
	uint32_t s;                 /* the stack's stream (TCP_NIL before it exists) */
	uint32_t laddr, raddr;      /* the stack's address, the peer's address */
	uint16_t lport, rport;      /* the stack's port, the peer's port */
	uint32_t isn;               /* the peer's ISN */
	uint32_t snd_nxt;           /* next sequence number the peer sends */
	uint32_t rcv_nxt;           /* what the peer acknowledges (the stack's data) */
	uint32_t iss;               /* the stack's ISS */
	uint16_t wnd;               /* raw window field the peer sends */
	uint8_t wscale;             /* the peer's shift when it offered WS */
	struct h_synopt so;         /* what the peer offered */
	bool ts;                    /* timestamps negotiated */
	uint32_t tsval;             /* the peer's clock */
	uint32_t ts_ecr;            /* last TSval seen from the stack */
	uint8_t nsack;              /* SACK blocks for the next segment (then cleared) */
	struct tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
	uint8_t syn_flags;          /* added to the peer's SYN or SYN-ACK (ECN setup: ECE|CWR, ECE) */
	uint8_t tos;                /* IP TOS of every segment the peer sends (ECN codepoint) */
};

/* The default peer: 10.0.0.2:PEER_PORT -> 10.0.0.1:LPORT, ISN ISN, window 65535. */
void h_peer_init(struct h_peer *p, uint16_t lport, uint16_t rport, uint32_t isn);

/* Send one segment from the peer (TS and pending SACK blocks added as negotiated). */
void h_peer_send(struct h_peer *p, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
		 uint32_t len);
/* Data at snd_nxt acknowledging rcv_nxt (ACK|PSH); advances snd_nxt. */
void h_peer_data(struct h_peer *p, const void *data, uint32_t len);
/* A pure ACK of ACK (snd_nxt as sequence). */
void h_peer_ack(struct h_peer *p, uint32_t ack);
/* FIN|ACK at snd_nxt; advances snd_nxt. */
void h_peer_fin(struct h_peer *p);
/* Pop the next frame, assert it is from the stream to this peer, note its TSval. */
void h_peer_next(struct h_peer *p, struct h_out *o);

/*
 * An ICMP destination unreachable, fragmentation needed (type 3 code 4, RFC 1191
 * §4: next-hop MTU MTU) from a router, quoting the IPv4 header and the first 8
 * bytes (ports, sequence number SEQ) of a segment the stack sent on P's stream.
 * Fed to tcp_input() as the primary steers it.
 */
void h_icmp_frag_needed(const struct h_peer *p, uint32_t seq, uint16_t mtu);

/* Passive open to listener p->lport with the options SO: SYN, SYN-ACK (checked), ACK. */
uint32_t h_open_passive(struct h_peer *p, const struct h_synopt *so);
/* Only the SYN; returns after checking the SYN-ACK (state SYN_RECEIVED). */
void h_passive_syn(struct h_peer *p, const struct h_synopt *so);
/* Active open with tcp_connect() to the peer; the peer answers with SO. */
uint32_t h_open_active(struct h_peer *p, const struct h_synopt *so);

/*
 * The set-state helper: drive real segments until P's stream is in state ST
 * (any of RFC 9293 §3.3.2 but CLOSED/LISTEN). Passive opens to p->lport
 * except SYN_SENT (tcp_connect to p->rport). Every segment the stack sends on
 * the way is checked and consumed; p->rcv_nxt counts our FIN only once the
 * peer has acknowledged it. Returns the stream.
 */
uint32_t h_goto(struct h_peer *p, enum tcp_state st, const struct h_synopt *so);

/* Common option sets. */
extern const struct h_synopt H_OPT_NONE;   /* no options at all */
extern const struct h_synopt H_OPT_MSS;    /* MSS 1460 only */
extern const struct h_synopt H_OPT_ALL;    /* MSS 1460, WS 7, SACK, TS */
extern const struct h_synopt H_OPT_SACK;   /* MSS 1460, SACK */

/* ---- keys ------------------------------------------------------------------------- */

/*
 * Choose the shard's ISN key so that the stack's ISS for the 4-tuple at the
 * current clock lies in [LO, HI] (inclusive, modulo 2^32): a real ISS near a
 * chosen value without touching the TCB.
 */
void h_iss_key_for(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport, uint32_t lo,
		   uint32_t hi);

/* The stream of the 4-tuple (stack side first), TCP_NIL if none. */
uint32_t h_lookup(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);

/* Fill BUF with LEN pattern bytes starting at offset OFF. */
void h_pattern(uint8_t *buf, uint32_t len, uint32_t off);

#endif
