/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The proxy's per-shard state in the shard memzone (types only): sessions
 * (one per request in flight or per tunnel) and per-server state. An idle
 * keep-alive client holds no session: its TCB (app TAPP_HTTP, no session)
 * is all it costs.
 *
 * Crash safety. Everything a session does to its streams is either derived
 * from the streams' sequence spaces (tcp_read_pos / tcp_write_pos) or planned
 * in a snapshot before it is done. A session has two snapshots and a byte
 * saying which is current; a step writes the next snapshot into the other
 * one, then flips the byte (commit). Relaying bytes from stream A to B sends
 * first and consumes after, so after a kill the successor sees "sent more than
 * consumed" and finishes the consume; a head is regenerated from the source
 * bytes, still unconsumed, when the sink's write position shows it was not
 * sent. Chunked framing is decoded ahead of what is forwarded, and the decoder
 * state is committed with the position it stands at.
 *
 * Free lists, server connection counts and keep-alive pools are derived from
 * the sessions and TCBs at attach, so they need no crash care of their own.
 */
#ifndef PORTER_PROXY_AREA_T_H
#define PORTER_PROXY_AREA_T_H

#include <stdint.h>

#include "config/config-t.h"
#include "shm/h1-t.h"
#include "shm/porter-shm-t.h"   /* PORTER_SRV_SLOTS */

#define HTTP_AREA_MAGIC 0x48545041u       /* "HTPA" */
#define HTTP_SLOTS      (PORTER_CFG_MAX_UPSTREAMS * PORTER_CFG_MAX_SERVERS)
_Static_assert(HTTP_SLOTS == PORTER_SRV_SLOTS, "porter_global.srv_admin has a byte per proxy slot");
#define HTTP_PATH_LOG   120               /* bytes of the request path kept for the access log */

enum http_sess_kind {
	HS_FREE = 0,
	HS_HTTP,                          /* a request / response exchange */
	HS_TUNNEL,                        /* tcp pass-through, or after 101 Switching Protocols */
};

enum http_req_phase {
	RQ_HEAD = 0,                      /* reading the request head */
	RQ_CONNECT,                       /* waiting for the upstream stream */
	RQ_SEND_HEAD,                     /* forwarding the head (q.rbase/q.wbase/q.hlen planned) */
	RQ_BODY,                          /* relaying the request body */
	RQ_DONE,                          /* request forwarded whole */
	RQ_ERROR,                         /* answering with an error (status), then closing */
};

enum http_resp_phase {
	RS_WAIT = 0,                      /* waiting for a response head */
	RS_SEND_HEAD,                     /* forwarding a head (r.rbase/r.wbase/r.hlen planned) */
	RS_BODY,                          /* relaying the response body */
	RS_DONE,
};

/* One direction's relay: source stream -> sink stream. */
struct http_dir {
	uint32_t rbase;                   /* source read position at the start */
	uint32_t wbase;                   /* sink write position at the start */
	uint32_t hlen;                    /* head being forwarded: bytes of the source */
	uint32_t dec;                     /* chunked: source bytes of the planned step (reframe; as it
	                                     came: bytes decoded past rbase) */
	uint8_t kind;                     /* enum h1_body */
	uint8_t done;                     /* chunked: the decoder reached the end at `dec` */
	uint8_t shut;                     /* tunnel: the sink was shut down after the source's FIN */
	uint8_t reframe;                  /* chunked: re-framed by steps (0: relayed as it came, a body
	                                     an older worker began) */
	uint32_t hout;                    /* head being forwarded: bytes written to the sink (planned) */
	uint64_t len;                     /* LENGTH: body bytes past rbase; chunked: bytes the planned
	                                     step sends */
	struct h1_chunked ch;             /* chunked decoder state after `dec` */
};

/* The mutable part of a session; see the commit rule above. */
struct http_snap {
	uint8_t req, resp;                /* enum http_req_phase / http_resp_phase */
	uint8_t method;                   /* enum h1_method */
	uint8_t minor;                    /* client's HTTP/1.minor */
	uint8_t tries;                    /* servers tried */
	uint8_t reused;                   /* the upstream stream came from the keep-alive pool */
	uint16_t status;                  /* response status (or the error being answered) */
	uint32_t rflags;                  /* H1F_* of the request */
	uint32_t sflags;                  /* H1F_* of the response */
	uint32_t up;                      /* upstream stream, TCP_NIL when none */
	uint32_t slot;                    /* server slot (upstream * MAX_SERVERS + server), UINT32_MAX none */
	uint32_t tried;                   /* bit mask of servers tried */
	uint32_t gen;                     /* proxy config generation (low bits) the request was routed in */
	uint32_t read_ms, write_ms;       /* the upstream's timeouts when it was chosen (reload-proof) */
	uint8_t up_keepalive;             /* the upstream pools connections (when it was chosen) */
	uint8_t reserved[7];
	struct http_dir q;                /* client -> upstream */
	struct http_dir r;                /* upstream -> client */
};

struct http_sess {
	uint8_t kind;                     /* enum http_sess_kind */
	volatile uint8_t cur;             /* current snapshot */
	uint16_t route;                   /* index + 1 of the route taken, 0 = none yet */
	uint32_t next;                    /* free list (derived) */
	uint32_t cl;                      /* client stream */
	uint32_t t0_ms;                   /* first byte of the request seen */
	uint32_t t_conn_ms;               /* upstream connected (0 = not yet) */
	uint32_t t_resp_ms;               /* response head received (0 = not yet) */
	uint32_t c_r0, c_w0;              /* client read / write positions at the start (log byte counts) */
	uint64_t t0_wall_ms;              /* wall clock of t0 for the log */
	char path[HTTP_PATH_LOG];         /* request path (truncated) for the log */
	struct http_snap s[2];
};

/* Per shard, per server slot. */
/* How an active health check ended (http_srv.hc_last). */
enum http_hc_result {
	HC_R_NONE = 0,          /* none yet */
	HC_R_OK,                /* 2xx or 3xx */
	HC_R_STATUS,            /* another status, or no HTTP answer */
	HC_R_CLOSED,            /* refused, reset or closed before an answer */
	HC_R_TIMEOUT,           /* no answer within health_check.timeout_ms */
	HC_R_NO_ROUTE,          /* no port, static route or gateway reaches the server */
};

struct http_srv {
	uint32_t active;                  /* sessions using it (derived) */
	uint32_t pool_head;               /* idle pooled streams (derived), TCP_NIL-terminated via app_arg_lo */
	uint32_t pool_count;
	uint32_t fails;                   /* consecutive passive failures */
	uint32_t down_until_ms;           /* passive: down until then (0 = up) */
	uint32_t hc_next_ms;              /* next active check */
	uint32_t hc_stream;               /* running check, TCP_NIL when none */
	uint8_t hc_down;                  /* active checks marked it down */
	uint8_t hc_ok, hc_bad;            /* consecutive results */
	uint8_t hc_last;                  /* layout 2.5: the last check's outcome, enum http_hc_result */
	int32_t rr_weight;                /* smooth weighted round robin: current weight */
	uint32_t hc_last_ms;              /* layout 2.5: when it ended (the worker's ms clock, CLOCK_MONOTONIC) */
	uint64_t requests;
	uint64_t failures;
};

/* Counters of the shard's proxy. */
enum http_count {
	HC_REQUESTS = 0,                  /* requests routed */
	HC_RESPONSES,                     /* responses relayed whole */
	HC_ERR_400, HC_ERR_404, HC_ERR_408, HC_ERR_413, HC_ERR_414, HC_ERR_431, HC_ERR_501,
	HC_ERR_502, HC_ERR_503, HC_ERR_504, HC_ERR_505,
	HC_UP_CONNECTS,                   /* upstream connections opened */
	HC_UP_REUSED,                     /* requests sent on a pooled connection */
	HC_UP_CONNECT_FAIL,
	HC_RETRIES,
	HC_CLIENT_ABORTS,                 /* client reset or closed mid-exchange */
	HC_UPSTREAM_ABORTS,               /* upstream reset or closed mid-response */
	HC_TUNNELS,                       /* tunnels opened (tcp listeners, upgrades) */
	HC_HEALTH_OK, HC_HEALTH_FAIL,
	HC_NO_SESSION,                    /* 503: session table full */
	HC_LOG_DROPPED,                   /* access log lines dropped (buffer full, write failed) */
	HC_RECOVERED,                     /* sessions resumed by a new worker */
	HC_UP_NO_ROUTE,                   /* upstream / health-check connects with no route to the server */
	HC_REQ_BAD_CHUNKED,               /* 400: malformed chunked framing in a request body */
	HC_UP_BAD_CHUNKED,                /* malformed chunked framing in a response body (exchange cut) */
	HC_UP_BAD_UPGRADE,                /* 502: a 101 the client did not ask for, or to a protocol it
	                                     did not offer */
	HC_HEAD_BYTES,                    /* bytes of request and response heads scanned or parsed:
	                                     linear in the heads' size, however they are cut */
	HC_NOMBUF_WAITS,                  /* relays that found the buffer pool empty and retry on a timer */
	HC_ERR_429,                       /* 429: the client address's request bucket was empty
	                                     (client_limits.http_req_rate; layout 2.4) */
	HC_MAX_FORWARDS_0,                /* OPTIONS (200) and TRACE (405) with Max-Forwards: 0 answered
	                                     by porter itself (RFC 9110 §7.6.2; layout 2.5) */
	HC__COUNT
};

struct http_area {
	uint32_t magic;                   /* HTTP_AREA_MAGIC once laid out */
	uint32_t sess_size;               /* sizeof(struct http_sess) of the initialiser */
	uint32_t max_sessions;
	uint32_t sess_off;                /* from the area start */
	uint64_t gen;                     /* proxy config generation the per-server state is for */
	uint32_t free_head;               /* derived */
	uint32_t active;                  /* sessions in use (derived) */
	uint64_t counts[HC__COUNT];
	uint64_t reserved[41 - HC__COUNT - 2];   /* new counters take these: srv[] keeps its offset */
	/* layout minor 1 (as tcp_area.hwm): sessions [hwm, max_sessions) never
	 * used since the area was laid out or rebuilt; hwm_grant: the grant that
	 * keeps it. A recovery scans below hwm only after a grant that kept it. */
	volatile uint32_t hwm;
	uint32_t reserved_u32;
	volatile uint64_t hwm_grant;
	struct http_srv srv[HTTP_SLOTS];
};
_Static_assert(__builtin_offsetof(struct http_area, srv) == 32 + 41 * 8,
	       "per-server state keeps its offset across worker binaries");

static inline uint64_t http_area_bytes(uint32_t max_sessions)
{
	return ((sizeof(struct http_area) + 63) & ~63ull) + (uint64_t)max_sessions * sizeof(struct http_sess) + 64;
}

#endif
