/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's TCP stack: the stream API for the worker's applications and
 * the entry points the worker's loop calls.
 *
 * All state is in the shard's shared memory (tcp-t.h); struct tcp_ctx is the
 * process-local handle to it, rebuilt by every worker at attach. Streams are
 * named by their TCB index (uint32_t), stable across worker restarts.
 *
 * Buffers come from the environment (tcp_env.h): the worker uses the shared
 * mbuf pool and hands frames to its TX ring; the unit tests use a fake pool,
 * a captured transmit and a fake clock.
 *
 * Application events are delivered by tcp_app_event() (tcp_apps.c), which
 * switches on tcb->app: no callbacks are stored anywhere.
 */
#ifndef PORTER_TCP_H
#define PORTER_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "secondary/tcp/climit.h"
#include "shm/tcp-t.h"
#include "shm/porter-shm-t.h"

struct rte_mbuf;

#define TCP_TX_BATCH 64

struct tcp_seg;

struct tls_io;

struct tcp_ctx {
	/* shared memory */
	struct tcp_area *area;
	struct tcp_tcb *tcbs;
	uint32_t *lookup;
	uint32_t *wheel;
	const struct porter_tcp_params *prm;
	const struct porter_listener *listeners;
	const struct porter_port_info *ports;
	unsigned int nports;
	const struct porter_route_table *routes;  /* static routes (shm/route.h) */
	const uint16_t *reta;
	const uint8_t *rss_key;
	unsigned int shard;
	/* clock, refreshed by the caller (tcp_ctx_clock) */
	uint32_t now_ms;
	uint64_t now_us;
	/* the environment's private data (worker or test harness) */
	void *env;
	/* the stream whose event is being delivered (guards against re-entry) */
	uint32_t in_event;
	/* the worker's application context (the proxy), private memory */
	void *app;
	/* TLS termination (secondary/tls/tls_io.h), private memory; NULL: no TLS listener */
	struct tls_io *tls;
	/* called by tcb_free() before a stream's TCB is cleared (private; NULL: none) */
	void (*stream_freed)(struct tcp_ctx *ctx, uint32_t s);
	/* bytes the application has not read that are no longer in the receive queue (TLS:
	 * plaintext already opened); TIME-WAIT keeps such a stream the application's (NULL: none) */
	bool (*stream_unread)(const struct tcp_ctx *ctx, uint32_t s);
	/* output deferred to the end of a burst (tcp_batch_begin/flush), private memory */
	bool batching;
	uint32_t npend;
	uint32_t *pend;                 /* streams that owe output, in the order they asked */
	uint8_t *pend_mark;             /* per stream: 1 = in pend[] */
	/* readable/writable events deferred to the end of the burst, one per stream: the
	 * application takes a burst's segments in one go (private memory) */
	uint32_t nevp;
	uint32_t *evp;                  /* streams with events waiting, in arrival order */
	uint8_t *evp_mask;              /* per stream: the TEV_APP_READABLE | WRITABLE bits waiting */
	/* streams flagged TOUCHED since the last quiescent point (tcp_quiesce), private memory */
	uint32_t ntouched;
	uint32_t *touched;
	uint8_t *touch_mark;            /* per stream: 1 = in touched[] */
	/* per stream: 1 = the last tcp_output() left the congestion window (or the pacing it sets)
	 * as the limit, with data waiting (RFC 7661 "cwnd-limited"). The ACKs of a burst whose
	 * output waits for its end grow the window by it (tcp_input.c). Private memory: a new
	 * worker starts with zeros and the ACK's own test still holds */
	uint8_t *cwnd_full;
	/* per stream: NULL or a buffer linked in its send queue, where the last search for
	 * SND.NXT's segment ended, so the next one starts there (tcp_output.c seg_at): a long
	 * flight is not walked again from SND.UNA for every segment sent. Every path that
	 * unlinks a send-queue buffer drops it (tcp_snd_hint_drop). Private memory */
	struct rte_mbuf **snd_hint;
	/* client_limits: the shard's table of client addresses (climit.h), private memory; NULL = none */
	struct climit *climit;
	/* the gateway stops (porter_global.drain_phase): listeners answer new connections with RST */
	bool draining;
	/* per-shard counters of enum tcp_anomaly (the worker points it at porter_shard.tcp_anomalies), NULL = none */
	uint64_t *anomalies;
	/* per-shard counters of enum tcp_more (porter_shard.tcp_more), NULL = none */
	uint64_t *more;
	/* the burst's frames as the first pass parsed them (tcp_input_stateless), so tcp_input()
	 * parses no frame twice; private memory, valid from tcp_input_begin() to tcp_batch_flush() */
	struct tcp_seg *pre;
	uint32_t npre, pre_next;
};

/* Application events (bit mask). */
enum {
	TEV_APP_CONNECTED = 1u << 0,  /* ESTABLISHED reached */
	TEV_APP_READABLE  = 1u << 1,  /* new in-order data */
	TEV_APP_WRITABLE  = 1u << 2,  /* send space opened */
	TEV_APP_PEER_FIN  = 1u << 3,  /* the peer will send no more */
	TEV_APP_RESET     = 1u << 4,  /* reset or timed out: the stream is gone after this */
	TEV_APP_CLOSED    = 1u << 5,  /* fully closed: the stream is gone after this */
	TEV_APP_TIMEOUT   = 1u << 6,  /* the application deadline (tcp_app_deadline) passed */
};

/*
 * Bind CTX to the TCP area at AREA (BYTES long) of shard SHARD. When the area
 * is not initialised yet (first worker on a fresh gateway), lay it out and
 * draw the secret keys from getrandom(). Returns 0 or -1 (area too small or
 * initialised by an incompatible layout).
 */
int tcp_ctx_attach(struct tcp_ctx *ctx, void *area, uint64_t bytes, const struct porter_global *g,
		   unsigned int shard, void *env);

/*
 * The same for a worker holding grant GRANT (the slot's epoch) of the shard:
 * when the previous grant (GRANT - 1) kept the area's high-water mark, the
 * recovery scans only the TCBs below it (the cost follows the streams ever
 * open at once, not max_streams); otherwise the whole slab. tcp_ctx_attach()
 * is this with no grant: always the whole slab.
 */
int tcp_ctx_attach_grant(struct tcp_ctx *ctx, void *area, uint64_t bytes, const struct porter_global *g,
			 unsigned int shard, void *env, uint64_t grant);

/*
 * A new worker on a shard whose area was already in use: rebuild the free
 * list, lookup chains, timer wheel and counts from the TCB array (all of it).
 */
void tcp_rebuild(struct tcp_ctx *ctx);

/* Free CTX's private memory (the shared area is untouched); CTX must be attached again to be used. */
void tcp_ctx_release(struct tcp_ctx *ctx);

/* After the rebuild, once the environment can send: give every stream's application a
 * level-triggered look at its stream and send what can be sent. */
void tcp_resume(struct tcp_ctx *ctx);

/*
 * Recovery: is M held in any stream's queue of the TCP area at AREA (attached
 * or not)? GRANT: the epoch of the worker asking (0: scan every TCB).
 */
bool tcp_area_owns_mbuf(const void *area, const struct rte_mbuf *m, uint64_t grant);

/* How far recovery scans the TCB array: the high-water mark if GRANT's predecessor kept it. */
uint32_t tcp_area_scan_end(const struct tcp_area *a, uint64_t grant);

/*
 * Check the area's invariants (queues contiguous and counted, tails, RCV.NXT,
 * SACK and out-of-order counts, lookup, free list, live count). Returns the
 * number of violations, printing the first few to LOG (may be NULL). A full
 * pass: for tests and the crash-point build, not the fast path.
 */
unsigned int tcp_check(const struct tcp_ctx *ctx, FILE *log);

/* Refresh the clock from CLOCK_MONOTONIC (the worker; tests set now_ms/now_us themselves). */
void tcp_ctx_clock(struct tcp_ctx *ctx);

/*
 * A quiescent point: no change to any stream is in progress, every stream is
 * consistent on its own. Clears the TOUCHED flags set since the last one
 * (recovery repairs every flagged stream: docs/RECOVERY.md). The worker calls
 * it once per loop iteration.
 */
void tcp_quiesce(struct tcp_ctx *ctx);

/*
 * One received frame (Ethernet + IPv4 + TCP, already classified and checked
 * by the primary apart from the TCP checksum). Consumes M: keeps the payload
 * in a queue or frees it. Output frames go to tcp_env_xmit().
 */
void tcp_input(struct tcp_ctx *ctx, struct rte_mbuf *m);

/*
 * The part of input that needs no stream state: answers frames for no stream
 * and no listener (RST in place, §3.10.7.1) and rejects bad frames, without
 * allocating or freeing. The worker runs it first on a burst so these frames
 * keep the crash-safe RX-ring -> TX-ring hand-over (DESIGN §3.4).
 */
enum tcp_sl_verdict {
	TCP_SL_STATEFUL = 0,      /* needs tcp_input() */
	TCP_SL_SEND,              /* M now holds the reply; send it (m->port set) */
	TCP_SL_FREE,              /* drop M (counted) */
};
enum tcp_sl_verdict tcp_input_stateless(struct tcp_ctx *ctx, struct rte_mbuf *m);
/*
 * A burst's first pass begins: the frames tcp_input_stateless() leaves to
 * tcp_input() keep what it parsed (checksum, headers, options, the stream it
 * found) until the end of the burst (tcp_batch_flush), so each is parsed
 * once. Without it, or for a frame the first pass did not see (a
 * predecessor's, run again after a kill), tcp_input() parses it itself.
 */
void tcp_input_begin(struct tcp_ctx *ctx);

/*
 * ICMP destination unreachable, fragmentation needed (RFC 1191): QUOTED is the
 * IPv4 header + 8 bytes of the segment we sent; lower that stream's MSS.
 */
void tcp_icmp_frag_needed(struct tcp_ctx *ctx, const uint8_t *quoted, unsigned int len, uint16_t mtu);

/* A whole ICMP frame steered to this shard (tcp_input() passes them here). Consumes M. */
void tcp_input_icmp(struct tcp_ctx *ctx, struct rte_mbuf *m);

/*
 * Bursts. Between tcp_batch_begin() and tcp_batch_flush(), what input and
 * the stream API would send (ACKs, queued data) is noted per stream and sent
 * by the flush, once per stream: the ACK for several segments of a burst and
 * the application's answer to them leave in as few frames as the windows
 * allow. Outside a batch, output is immediate. Returns -ENOMEM if the
 * bookkeeping cannot be allocated (output then stays immediate).
 */
int tcp_batch_begin(struct tcp_ctx *ctx);
void tcp_batch_flush(struct tcp_ctx *ctx);

/* Run the timers that are due (call every loop iteration; cheap when none). */
void tcp_timers(struct tcp_ctx *ctx);

/* ms until the next timer tick with work, for the caller's sleep; -1 = none armed. */
int tcp_next_timer_ms(const struct tcp_ctx *ctx);

/* --- stream API ----------------------------------------------------------- */

/*
 * Active open to RADDR:RPORT. The stream leaves by the port the route rule
 * (shm/route.h: connected subnets, static routes, the first port gateway)
 * gives for RADDR, from that port's address. Picks a local port in the
 * shard's ephemeral range whose flow hash steers replies back to this shard.
 * Returns the stream, or TCP_NIL (errno-style reason in *err: -ENETUNREACH no
 * route to RADDR, -EAGAIN no port, -ENOMEM no TCB or buffer).
 */
uint32_t tcp_connect(struct tcp_ctx *ctx, uint32_t raddr, uint16_t rport, enum tcp_app app, int *err);

/* The listener on local port PORT, or NULL. */
const struct porter_listener *tcp_listener(const struct tcp_ctx *ctx, uint16_t port);

/* Bytes the stream accepts now (snd_buf minus queued). */
uint32_t tcp_send_space(const struct tcp_ctx *ctx, uint32_t s);

/*
 * Queue up to LEN bytes of DATA. Returns the bytes accepted (0 when the queue
 * is full: wait for TEV_APP_WRITABLE), or -EPIPE after shutdown/close,
 * -ENOTCONN before the stream can carry data, -ENOMEM when out of buffers.
 */
int tcp_send(struct tcp_ctx *ctx, uint32_t s, const void *data, uint32_t len);

/* Bytes readable now. */
static inline uint32_t tcp_recv_avail(const struct tcp_ctx *ctx, uint32_t s)
{
	return ctx->tcbs[s].rcv_bytes;
}

/* Copy up to LEN readable bytes into BUF and consume them (opens the window). */
uint32_t tcp_recv(struct tcp_ctx *ctx, uint32_t s, void *buf, uint32_t len);

/* Shut down writing: FIN after the queued data (RFC 9293 §3.10.4 CLOSE). */
int tcp_shutdown(struct tcp_ctx *ctx, uint32_t s);

/* Close: shutdown and stop reading; later data from the peer is answered by RST (RFC 9293 §3.10.4). */
void tcp_close(struct tcp_ctx *ctx, uint32_t s);

/* Abort: RST now, stream gone (RFC 9293 §3.10.5). */
void tcp_abort(struct tcp_ctx *ctx, uint32_t s);

/*
 * The gateway's stop (enum porter_drain). Streams neither CLOSED, in
 * FIN-WAIT-2 (our FIN acknowledged) nor in TIME-WAIT: what a stop still
 * waits for.
 */
uint32_t tcp_open_streams(const struct tcp_ctx *ctx);
/*
 * The stop's last phases, after the proxy has closed its own streams: FIN
 * (tcp_shutdown) on every stream of a built-in service in ESTABLISHED or
 * CLOSE-WAIT, or, with RESET, RST on every stream still open, whatever its
 * application (tcp_abort; no event is delivered).
 */
void tcp_drain(struct tcp_ctx *ctx, bool reset);

/*
 * Stream positions for applications that must resume exactly after a crash:
 * bytes read (consumed) by the application so far, and bytes queued for
 * sending so far, both modulo 2^32 and derived from the sequence space, so
 * they are as durable as the TCB itself.
 */
uint32_t tcp_read_pos(const struct tcp_ctx *ctx, uint32_t s);
uint32_t tcp_write_pos(const struct tcp_ctx *ctx, uint32_t s);

/* Copy up to LEN readable bytes starting OFF bytes in, without consuming them. */
uint32_t tcp_peek(const struct tcp_ctx *ctx, uint32_t s, uint32_t off, void *buf, uint32_t len);

/* The first readable bytes in place (zero copy): pointer and *LEN contiguous bytes; NULL if none. */
const uint8_t *tcp_peek_contig(const struct tcp_ctx *ctx, uint32_t s, uint32_t *len);

/* --- client_limits (tcp_climit.c) ---------------------------------------- */

/*
 * The limits of the shard's client table (from the proxy configuration, so a
 * reload changes them). A context attached without a table
 * (porter_tcp_params.client_table 0) ignores them.
 */
void tcp_climit_set(struct tcp_ctx *ctx, const struct climit_params *p);

/*
 * An HTTP request from client address ADDR: true when its request bucket had
 * a token (or there is no request limit, or no room to track ADDR); false when
 * it must be refused, with *RETRY_S (if not NULL) the whole seconds until it
 * has one (at least 1).
 */
bool tcp_climit_request(struct tcp_ctx *ctx, uint32_t addr, uint32_t *retry_s);

/* Count every address's streams again from the TCBs (tcp_rebuild does). */
void tcp_climit_recount(struct tcp_ctx *ctx);

/* Set (AT_MS != 0) or clear the application deadline of a stream of a proxy app kind. */
void tcp_app_deadline(struct tcp_ctx *ctx, uint32_t s, uint32_t at_ms);

/* The peer's FIN has been received (no more bytes will arrive). */
static inline bool tcp_peer_closed(const struct tcp_ctx *ctx, uint32_t s)
{
	return (ctx->tcbs[s].flags & TF(RCVD_FIN)) != 0;
}

/*
 * --- a stream seen from its application ----------------------------------
 *
 * What an application (the proxy) may read of a stream's TCB, and the fields
 * that are its own. Applications use these and the calls above, never the
 * TCB's fields (tcp-t.h is the stack's: lwIP's tcp.h vs priv/tcp_priv.h).
 */

/* The stream's state (enum tcp_state, RFC 9293 §3.3.2). */
static inline enum tcp_state tcp_state(const struct tcp_ctx *ctx, uint32_t s)
{
	return (enum tcp_state)ctx->tcbs[s].state;
}

/* The peer's address and port, and the local port (host order). */
static inline uint32_t tcp_raddr(const struct tcp_ctx *ctx, uint32_t s) { return ctx->tcbs[s].raddr; }
static inline uint16_t tcp_rport(const struct tcp_ctx *ctx, uint32_t s) { return ctx->tcbs[s].rport; }
static inline uint16_t tcp_lport(const struct tcp_ctx *ctx, uint32_t s) { return ctx->tcbs[s].lport; }

/* The connection's initial sequence numbers: ours (ISS) and the peer's (IRS); fixed for its life. */
static inline uint32_t tcp_iss(const struct tcp_ctx *ctx, uint32_t s) { return ctx->tcbs[s].iss; }
static inline uint32_t tcp_irs(const struct tcp_ctx *ctx, uint32_t s) { return ctx->tcbs[s].irs; }

/* SND.UNA: the oldest byte sent and not yet acknowledged (how far the peer has taken data in). */
static inline uint32_t tcp_snd_una(const struct tcp_ctx *ctx, uint32_t s) { return ctx->tcbs[s].snd_una; }

/* Everything sent so far has been acknowledged (SND.UNA = SND.MAX). */
static inline bool tcp_all_acked(const struct tcp_ctx *ctx, uint32_t s)
{
	return ctx->tcbs[s].snd_una == ctx->tcbs[s].snd_max;
}

/*
 * The application's own fields: its kind (enum tcp_app: what handles the
 * stream's events), app_arg_lo (the proxy: a session index, TCP_NIL, or the
 * next stream of a pool), app_slot (the proxy: a server slot), and the
 * deadline of the proxy kinds (app_arg_hi, set by tcp_app_deadline()).
 *
 * The setters are plain stores, as the application's own stores were: they
 * do not flag the stream (tcp_touch), because TCP recovery neither repairs
 * nor reads these fields as stream state; the application rebuilds from them
 * (the proxy: proxy_rebuild.c). Whatever changes the stream itself goes
 * through the calls above, which flag it.
 */
static inline enum tcp_app tcp_app(const struct tcp_ctx *ctx, uint32_t s)
{
	return (enum tcp_app)ctx->tcbs[s].app;
}
static inline void tcp_set_app(struct tcp_ctx *ctx, uint32_t s, enum tcp_app app)
{
	ctx->tcbs[s].app = (uint8_t)app;
}
static inline uint32_t tcp_app_arg(const struct tcp_ctx *ctx, uint32_t s) { return ctx->tcbs[s].app_arg_lo; }
static inline void tcp_set_app_arg(struct tcp_ctx *ctx, uint32_t s, uint32_t v) { ctx->tcbs[s].app_arg_lo = v; }
static inline uint16_t tcp_app_slot(const struct tcp_ctx *ctx, uint32_t s) { return ctx->tcbs[s].app_slot; }
static inline void tcp_set_app_slot(struct tcp_ctx *ctx, uint32_t s, uint16_t slot)
{
	ctx->tcbs[s].app_slot = slot;
}

/*
 * The stream's byte-rate limit, each direction, in bytes per second (0 =
 * none; stored to 1/2048, shm/rate.h): its sending is paced to it and its
 * queues kept small (tcp_pace.c). A passive stream starts with its
 * listener's (listeners[i].rate_limit); the application may change it.
 */
void tcp_set_rate(struct tcp_ctx *ctx, uint32_t s, uint64_t bytes_per_s);
uint64_t tcp_rate(const struct tcp_ctx *ctx, uint32_t s);

/* Streams [0, this) may be open (the area's high-water mark, at most tcp_max_streams()). */
static inline uint32_t tcp_streams_hwm(const struct tcp_ctx *ctx) { return ctx->area->hwm; }
static inline uint32_t tcp_max_streams(const struct tcp_ctx *ctx) { return ctx->area->max_streams; }

/* The application deadline of a proxy kind's stream (tcp_app_deadline), 0 = none. */
static inline uint32_t tcp_app_deadline_at(const struct tcp_ctx *ctx, uint32_t s)
{
	return ctx->tcbs[s].app_arg_hi;
}

/* Write every live stream of the shard as JSON objects (comma-separated) to F; returns the count. */
unsigned long tcp_dump_streams(const struct tcp_ctx *ctx, FILE *f, unsigned int shard);

#include "secondary/tcp/tcp_names.h"

/* --- applications (tcp_apps.c) -------------------------------------------- */

/* Deliver EVENTS of stream S to its application (switch on tcb->app). */
void tcp_app_event(struct tcp_ctx *ctx, uint32_t s, uint32_t events);

/* The source pattern: byte at stream offset OFF (a verifiable, non-repeating-per-256 sequence). */
static inline uint8_t tcp_source_byte(uint64_t off)
{
	return (uint8_t)((off * 7 + (off >> 8) * 13 + (off >> 16)) & 0xff);
}

#endif
