/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the proxy's files share, and nothing else includes (the public API is
 * proxy.h): constants, the snapshot helpers every step uses (cur, commit),
 * the relay results, and the functions one file gives the others. The files,
 * one job each:
 *
 *   proxy.c          the session phases (request head, upstream connect,
 *                    response, keep-alive turnaround) and the event dispatch
 *   proxy_sess.c     session slots and the stream operations the phases use
 *   proxy_answer.c   RQ_ERROR: the answers porter gives itself (errors, 429,
 *                    OPTIONS/TRACE with Max-Forwards: 0)
 *   proxy_route.c    where a request goes: route, server, pooled stream or new
 *                    connection, retries
 *   proxy_pool.c     balancing (server choice, passive failures) and the idle
 *                    keep-alive pools of upstream streams
 *   proxy_relay.c    bodies and tunnels: relay, chunked re-framing, de-chunking
 *   proxy_health.c   active health checks
 *   proxy_log.c      the access log (ring and thread), exchange metrics, the
 *                    request id
 *   proxy_rebuild.c  attach: a fresh area laid out, or a used one rebuilt after
 *                    a dead worker
 *   proxy_poll.c     the worker loop's side: configuration generations, the
 *                    poll, the gateway's stop
 *
 * Streams are only ever seen through secondary/tcp/tcp.h (tcp_state(),
 * tcp_app_arg(), ...), never through their TCB.
 */
#ifndef PORTER_PROXY_PRIV_H
#define PORTER_PROXY_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "secondary/crash.h"
#include "secondary/http/proxy.h"
#include "secondary/tls/tls_io.h"

#define COPY_CHUNK     16384
#define STEP_MAX       65536     /* chunk data bytes per re-framing step */
#define LINGER_MS      5000      /* a closing client's input is discarded this long at most */
#define HC_SCAN_MS     50
#define KA_PROMISED    (1u << 31)   /* sflags: the client was told keep-alive */
#define TUNNEL         (1u << 30)   /* sflags: both directions relay until close */
#define DECHUNK        (1u << 29)   /* sflags: chunked response to an HTTP/1.0 client: data only */
#define NO_SLOT        UINT32_MAX

_Static_assert(H1_MAX_HEADERS >= PORTER_CFG_MAX_HEADERS, "http.max_headers may not exceed the field table");

/* What a relay of a body or of a tunnel's direction came to (proxy_relay.c). */
enum relay_rc {
	RELAY_DONE,            /* the body (or the planned step) is sent whole */
	RELAY_WAIT,            /* wait: for the source's bytes, the sink's room, or buffers (proxy_nombuf_wait) */
	RELAY_BAD_CHUNKED,     /* malformed chunked framing from the source */
	RELAY_SINK_GONE,       /* the sink takes no more (closed, not yet open), or a planned step's bytes are gone */
	RELAY_TOO_LARGE,       /* a chunked request body passed http.max_body_bytes */
	RELAY_SRC_CLOSED,      /* the source closed before the end of a Content-Length or chunked body */
};

/* --- helpers ------------------------------------------------------------------ */

static inline uint32_t now(const struct proxy *p) { return p->tcp->now_ms; }

/* The ms clock MS from now, never 0 (0 means "no deadline"). */
static inline uint32_t after(const struct proxy *p, uint32_t ms)
{
	uint32_t v = now(p) + ms;

	return v ? v : 1;
}

/* The session's current snapshot (proxy-t.h: the commit rule). */
static inline struct http_snap *cur(struct http_sess *x) { return &x->s[x->cur & 1]; }

/* Make N the session's snapshot: written into the other one, then the byte flipped. */
static inline void commit(struct http_sess *x, const struct http_snap *n)
{
	unsigned int next = !(x->cur & 1);

	x->s[next] = *n;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	CRASH_POINT("proxy.commit_written");
	x->cur = (uint8_t)next;
}

static inline uint32_t sess_idx(const struct proxy *p, const struct http_sess *x)
{
	return (uint32_t)(x - p->sess);
}

static inline void count(struct proxy *p, enum http_count c) { p->a->counts[c]++; }

static inline const struct porter_cfg_upstream *upstream_of(const struct proxy *p, uint32_t slot)
{
	return &p->conf->upstreams[slot / PORTER_CFG_MAX_SERVERS];
}

static inline const struct porter_cfg_server *server_of(const struct proxy *p, uint32_t slot)
{
	return &upstream_of(p, slot)->servers[slot % PORTER_CFG_MAX_SERVERS];
}

/* Was SN planned on the configuration in use (its server slots mean the same)? */
static inline bool gen_current(const struct proxy *p, const struct http_snap *sn)
{
	return sn->gen == (uint32_t)p->a->gen;
}

/* The operator's state of SLOT (porterctl server): enum porter_srv_admin. */
static inline unsigned int srv_admin(const struct proxy *p, uint32_t slot)
{
	return p->srv_admin ? p->srv_admin[slot] : PORTER_SRV_ENABLED;
}

/* --- proxy.c: the session phases ---------------------------------------------- */

/* Step a session until nothing moves. Returns false when it ended (or is gone). */
bool proxy_advance(struct proxy *p, struct http_sess *x);

/* --- proxy_sess.c: sessions and their streams --------------------------------- */

struct http_sess *proxy_sess_of(struct proxy *p, uint32_t s);
struct http_sess *proxy_sess_new(struct proxy *p, uint32_t cl, enum http_sess_kind kind);
void proxy_sess_free(struct proxy *p, struct http_sess *x);
void proxy_release_slot(struct proxy *p, struct http_snap *n);
void proxy_abort_session(struct proxy *p, struct http_sess *x, bool client_too);
void proxy_nombuf_wait(struct proxy *p, const struct http_sess *x);
void proxy_consume_to(struct proxy *p, uint32_t s, uint32_t target);
void proxy_kill_stream(struct proxy *p, uint32_t s);
void proxy_close_client(struct proxy *p, uint32_t s);
void proxy_drop_upstream(struct proxy *p, uint32_t s);
struct h1_limits proxy_head_limits(const struct proxy *p);
bool proxy_head_ready(struct proxy *p, struct http_sess *x, uint32_t s, uint32_t max);
const uint8_t *proxy_head_bytes(struct proxy *p, uint32_t s, uint32_t want, uint32_t *len);
int proxy_parse_head(struct proxy *p, struct http_sess *x, uint32_t s, const uint8_t *b, uint32_t len,
		     bool request, unsigned int method);
int proxy_send_planned(struct proxy *p, struct http_sess *x, int d, uint32_t s, const uint8_t *out,
		       uint32_t len);
bool proxy_head_sent(struct proxy *p, struct http_sess *x, int d, uint32_t s);

/* --- proxy_answer.c: RQ_ERROR ----------------------------------------------------- */

void proxy_error_step(struct proxy *p, struct http_sess *x);
void proxy_respond_error(struct proxy *p, struct http_sess *x, unsigned int status);
void proxy_answer_here(struct proxy *p, struct http_sess *x, unsigned int status, uint32_t arg);

/* --- proxy_route.c: where a request goes ------------------------------------------ */

int proxy_find_route(const struct proxy *p, const struct h1_msg *m, const uint8_t *b, uint16_t lport);
int proxy_splice_upstream(const struct proxy *p, uint32_t c);
int proxy_start_upstream(struct proxy *p, struct http_sess *x, uint32_t u);
void proxy_retry_or_error(struct proxy *p, struct http_sess *x, unsigned int status, bool sent);

/* --- proxy_pool.c: balancing and keep-alive pools --------------------------------- */

uint32_t proxy_pick_server(struct proxy *p, uint32_t u, uint32_t tried, uint32_t caddr);
void proxy_passive_fail(struct proxy *p, const struct http_snap *sn);
uint32_t proxy_pool_pop(struct proxy *p, uint32_t slot);
void proxy_pool_push(struct proxy *p, uint32_t s, uint32_t slot);
void proxy_pool_drop_all(struct proxy *p, uint32_t slot);
void proxy_pool_event(struct proxy *p, uint32_t s, uint32_t ev);

/* --- proxy_relay.c: bodies and tunnels --------------------------------------------- */

enum relay_rc proxy_relay_body(struct proxy *p, struct http_sess *x, int d, uint32_t src, uint32_t dst);
int proxy_tunnel_step(struct proxy *p, struct http_sess *x);
bool proxy_tunnel_closed(struct proxy *p, struct http_sess *x);

/* --- proxy_health.c: active health checks ----------------------------------------- */

bool proxy_hc_down(const struct proxy *p, uint32_t slot);
void proxy_health_event(struct proxy *p, uint32_t s, uint32_t ev);
void proxy_health_scan(struct proxy *p);

/* --- proxy_log.c: access log, metrics, request id ---------------------------------- */

void proxy_access_log(struct proxy *p, struct http_sess *x, unsigned int status);
void proxy_count_listener(struct proxy *p, uint32_t c);
void proxy_log_reopen(struct proxy *p, bool force);
void proxy_note_head(struct proxy *p, struct http_sess *x, const struct h1_msg *m, const uint8_t *b);
void proxy_request_id(const struct proxy *p, uint32_t c, uint32_t rbase, char out[33]);

/* --- proxy_poll.c: configuration generations --------------------------------------- */

void proxy_sync_conf(struct proxy *p);

#endif
