/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porter-loadgen: an HTTP/1.1 load generator and fixed-response backend built
 * on porter's own TCP stack (secondary/tcp), for the kernel-free ceiling
 * benchmark (tests/bench/bench_ceiling.py, docs/BENCHMARKS.md).
 *
 * One DPDK primary of its own (its own --file-prefix, not attached to porter)
 * with one port, the far end of porter's net_memif port. It owns two
 * addresses on the memif subnet: the client address, from which it opens N
 * connections to porter's listener and drives requests in a loop, and the
 * backend address, where a listener answers every "GET /N" with N bytes of
 * the tcp_source_byte() pattern. porter's upstream points at the backend, so
 * each request crosses porter twice: client -> porter -> backend -> porter
 * -> client, and nothing of it touches a kernel.
 *
 *   wire.c   the stack's environment (tcp_env.h): mbufs from a private pool,
 *            transmit into the memif TX queue; RX dispatch, ARP
 *   http.c   the two applications (the stack's TAPP_TEST kind, through the
 *            tcp_env_app_event() seam) and the run's phases and counters
 *   main.c   options, EAL, port and stack set-up, the command loop, JSON
 *
 * Single-threaded, one lcore, busy-polling while a run is active.
 */
#ifndef PORTER_LOADGEN_H
#define PORTER_LOADGEN_H

#include <stdbool.h>
#include <stdint.h>

#include "secondary/tcp/tcp.h"
#include "shm/porter-shm-t.h"

struct rte_mbuf;
struct rte_mempool;

#define LG_TX_MAX     8192         /* frames staged for TX (a full TX queue does not block the loop) */
#define LG_MAX_BODY   (1u << 20)   /* largest body the backend serves */
#define LG_MAX_CONNS  4096         /* client connections of one run */
#define LG_HEAD_MAX   4096         /* longest request or response head accepted */
#define LG_HIST_SIZE  1024         /* latency histogram buckets (log-linear, us) */

/* Index into g->ports: the loadgen's two addresses share the one DPDK port. */
enum lg_addr { LG_ADDR_CLIENT = 0, LG_ADDR_BACKEND = 1 };

/* What a stream of the stack is to us (role[s]). */
enum lg_role { ROLE_NONE = 0, ROLE_CLIENT, ROLE_BACKEND };

/* Client connection states. */
enum lg_cstate {
	C_IDLE = 0,        /* no stream: connect at the next tick (while the run issues requests) */
	C_CONNECTING,      /* SYN sent */
	C_HEAD,            /* request sent, reading the response head */
	C_BODY,            /* reading the response body */
	C_KEPT,            /* keep-alive stream with no request outstanding */
};

/* Run phases. */
enum lg_phase {
	PH_IDLE = 0,       /* no run: poll slowly, read commands */
	PH_WARMUP,         /* load on, not counted */
	PH_MEASURE,        /* load on, counted */
	PH_TAIL,           /* load on after the window (the caller samples porter meanwhile) */
	PH_DRAIN,          /* no new requests; outstanding ones finish */
	PH_CLOSE,          /* client streams closed; waiting for them to go */
};

/* Counters; the window's figures are differences of two snapshots. */
struct lg_counts {
	uint64_t requests;          /* responses completed (status 200, length and body right) */
	uint64_t body_bytes;
	uint64_t connects;          /* client streams opened */
	uint64_t err_connect;       /* tcp_connect failed (no port, no TCB) */
	uint64_t err_reset;         /* client stream reset or closed with a request outstanding */
	uint64_t err_eof;           /* peer FIN before the response was complete */
	uint64_t err_status;        /* status other than 200 */
	uint64_t err_length;        /* Content-Length other than the expected size, or none */
	uint64_t err_body;          /* body bytes differ from the pattern (verify=1) */
	uint64_t err_head;          /* unparsable response head */
	uint64_t err_timeout;       /* no response within timeout_ms: stream aborted */
	uint64_t backend_requests;  /* requests the backend answered */
	uint64_t backend_errors;    /* requests the backend could not parse (answered 400) */
	uint64_t rx_frames, tx_frames, tx_dropped;
	uint64_t busy_cycles;       /* TSC cycles of loop iterations that did work */
	uint64_t loop_cycles;       /* TSC cycles of all loop iterations */
	/* the loadgen's own TCP (copied from its area by lg_counts_sync) */
	uint64_t tcp_retransmits, tcp_rto;
	uint64_t tcp_drops[TDROP__COUNT];
};

struct lg_conn {
	uint32_t s;                 /* stream, TCP_NIL when idle */
	uint8_t state;              /* enum lg_cstate */
	uint8_t close_after;        /* the response said Connection: close */
	uint8_t bad;                /* this response is already counted as an error */
	uint64_t t_us;              /* request sent (or connect started) */
	uint32_t body_left;
	uint32_t body_off;
};

struct lg_backend_stream {
	uint32_t resp_left;         /* bytes of the current response still to queue */
	uint32_t resp_off;          /* offset in it (head, then body) */
	uint32_t body_len;
	uint32_t discard;           /* request body bytes still to drop */
	uint16_t status;
	uint8_t close_after;        /* the request said Connection: close */
};

/* The backend's response head for (status, body length), built once per change. */
struct lg_head_cache {
	uint16_t status;
	uint32_t body_len;
	uint32_t len;
	char buf[160];
};

struct lg_run {
	enum lg_phase phase;
	unsigned int conns;
	char path[64];
	uint32_t expect_len;        /* body length the path asks for */
	bool close;                 /* Connection: close on every request */
	bool verify;                /* check every body byte */
	uint64_t req_limit;         /* stop issuing after this many (0 = none) */
	uint64_t issued;
	uint32_t timeout_us;
	uint64_t t_phase_end;       /* now_us at which the current phase ends */
	uint64_t warmup_us, measure_us, tail_us;
	uint64_t t_measure_start, t_measure_end;
	struct lg_counts at_start, at_end;
	uint64_t hist[LG_HIST_SIZE];   /* latency of requests completed in the window */
	char req[256];
	uint32_t req_len;
};

struct lg {
	/* wire */
	uint16_t port_id;
	struct rte_mempool *pool;
	uint8_t mac[6];
	uint8_t peer_mac[6];
	bool peer_known;
	uint32_t client_ip, backend_ip, target_ip;   /* host order */
	uint16_t target_port, backend_port;
	struct rte_mbuf *tx[LG_TX_MAX];
	unsigned int ntx;
	bool trace;                 /* one line per TCP frame on stderr (debugging, slow) */
	/* the stack */
	struct porter_global *g;    /* private memory: params, listener, addresses, RETA (all shard 0) */
	void *area;
	struct tcp_ctx tcp;
	/* the applications */
	uint8_t *role;              /* [max_streams] enum lg_role */
	uint32_t *slot_of;          /* [max_streams] client slot of a stream */
	struct lg_backend_stream *bk;  /* [max_streams] */
	struct lg_conn conn[LG_MAX_CONNS];
	uint16_t idle[LG_MAX_CONNS];   /* slots waiting for a connect (a stack) */
	unsigned int nidle;
	uint16_t closing[LG_MAX_CONNS];  /* slots to close once this RX burst is through */
	unsigned int nclosing;
	unsigned int client_live;   /* client streams the app still holds */
	uint64_t last_scan_us;      /* timeouts and phase changes are checked every ms */
	struct lg_head_cache head;
	struct lg_run run;
	struct lg_counts n;
	uint8_t *pattern;           /* LG_MAX_BODY bytes of tcp_source_byte() */
};

/* wire.c */
unsigned int lg_tx_flush(struct lg *lg);           /* returns the frames sent */
unsigned int lg_rx(struct lg *lg);                 /* RX bursts until drained; returns the frame count */
void lg_arp_request(struct lg *lg, uint32_t ip);

/* http.c */
void lg_run_start(struct lg *lg);                  /* lg->run filled by the caller */
void lg_tick(struct lg *lg);                       /* connects, timeouts, phase changes */
uint64_t lg_hist_percentile(const uint64_t *hist, double p);
void lg_counts_sync(struct lg *lg);                /* the stack's counters into lg->n */

/* main.c: one JSON event line on stdout */
void lg_emit(struct lg *lg, const char *event);

#endif
