/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's reverse proxy (DESIGN §6): http listeners (routes, upstream
 * pools, keep-alive on both sides, bodies streamed) and tcp pass-through
 * listeners. State lives in the shard memzone (proxy-t.h); struct proxy is
 * the worker's private handle, rebuilt at every attach.
 */
#ifndef PORTER_PROXY_H
#define PORTER_PROXY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "secondary/http/h1.h"
#include "shm/http-t.h"
#include "secondary/tcp/tcp.h"
#include "shm/proxy-t.h"

struct proxy {
	struct tcp_ctx *tcp;
	struct http_area *a;
	struct http_sess *sess;
	const struct porter_proxy *pc;            /* shared config (read-only) */
	const struct porter_proxy_conf *conf;     /* the published copy */
	unsigned int shard;
	uint32_t hc_scan_ms;                      /* next health-check scan */
	/* access log: the data path appends lines to a ring (never a system call);
	 * a thread of the worker writes them to the file */
	int log_fd;                               /* owned by the log thread under log_mu */
	char log_path[PORTER_CFG_PATH_LEN];
	char *log_ring;                           /* PROXY_LOG_RING bytes */
	uint64_t log_head;                        /* bytes appended (worker) */
	uint64_t log_tail;                        /* bytes written out (log thread) */
	pthread_t log_thread;
	pthread_mutex_t log_mu;
	bool log_thread_on;
	volatile int log_stop;
	/* scratch for heads (private) */
	uint8_t *head;                            /* PROXY_HEAD_MAX + 1 */
	uint8_t *out;                             /* PROXY_HEAD_MAX + 4096 */
	uint8_t *copy;                            /* relay chunk */
	struct h1_msg msg;
	struct h1_msg req;                        /* a held request head parsed again (upgrade checks) */
	/* what msg holds: a parse of the head at read position msg_pos of stream
	 * msg_stream for session msg_sess (a head is parsed when it arrives and
	 * again when it is forwarded; the second time is skipped when it matches) */
	uint32_t msg_sess, msg_stream, msg_pos;
	bool msg_ok;
	/* per session: how far the head waiting on a stream was scanned (head_ready) */
	struct proxy_scan {
		uint32_t stream, pos;     /* the stream and its read position the scan is for */
		uint32_t done;            /* bytes scanned without finding the end of the head */
		uint16_t line;            /* 1: the first line ended (it was parsed once) */
		uint16_t prev;            /* the last two bytes scanned */
	} *scan;
	/* sessions whose relay found no buffer to send with: stepped again after RETRY_MS
	 * (a tunnel whose both sides wait has no event that would wake it) */
	uint32_t *retry;                          /* session indices */
	uint32_t nretry;
	uint8_t *retry_mark;                      /* per session: 1 = in retry[] */
	uint32_t retry_at_ms;
	uint64_t climit_gen;                      /* config generation whose client_limits the TCP table has */
	struct porter_http_stats *hstats;         /* the shard's exchange metrics (porter_shard.hstats), NULL = none */
	uint64_t *listener_uses;                  /* porter_shard.listener_uses, NULL = none */
	/* upstream servers as the gateway's objects (NULL in the unit harness: each shard alone):
	 * the operator's state of each (porter_global.srv_admin), and every shard's proxy area,
	 * for the active health checks of the servers another shard checks (health_owner) */
	const volatile uint8_t *srv_admin;
	const struct http_area *peer[PORTER_MAX_SHARDS];
	unsigned int nshards;
	/* per session: what the access log shows of the request head, noted when it is parsed
	 * (private: a worker that takes a session over logs "-" for what it did not see) */
	struct proxy_logf {
		bool valid;
		char host[96], query[192], ua[192], referer[192], rid[68];
	} *logf;
};

#define PROXY_HEAD_MAX (1u << 20)
#define PROXY_LOG_RING (1u << 21)            /* power of two */

/*
 * Bind P to the proxy area at AREA (BYTES) of shard SHARD, with TCP already
 * attached (and rebuilt). A fresh area is laid out; a used one is rebuilt
 * (free list, connection counts, pools) and its leftovers cleaned (upstream
 * streams no session owns are reset). GRANT is the worker's grant (epoch):
 * as for tcp_ctx_attach_grant(), the rebuild looks only below the sessions'
 * high-water mark when the previous grant kept it. Returns 0 or -1.
 */
int proxy_attach(struct proxy *p, struct tcp_ctx *tcp, void *area, uint64_t bytes,
		 const struct porter_proxy *pc, unsigned int shard, uint64_t grant);

/* Once per loop iteration: config changes, health checks, access log flush. */
void proxy_poll(struct proxy *p);

/* SIGUSR1 to the primary (porter_global.log_gen moved): open the access log again by its name. */
void proxy_reopen_log(struct proxy *p);

/* The gateway stops: act on phase PHASE (enum porter_drain) reached; idempotent. Returns the sessions reset. */
uint32_t proxy_drain(struct proxy *p, unsigned int phase);

/* ms until proxy_poll has timed work (health checks), -1 = none. */
int proxy_next_ms(const struct proxy *p);

/* The worker stops: write out the access log lines still queued. */
void proxy_close(struct proxy *p);

/* tcp_apps.c hands events of the proxy's app kinds here. */
void proxy_app_event(struct tcp_ctx *c, uint32_t s, uint32_t ev);

#endif
