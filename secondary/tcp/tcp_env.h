/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP stack's environment: buffers and transmit. A link-time seam, not a
 * table of pointers: the worker links tcp_env_dpdk.c, the unit tests link
 * their harness. CTX->env is the implementation's private state.
 */
#ifndef PORTER_TCP_ENV_H
#define PORTER_TCP_ENV_H

#include "secondary/tcp/tcp.h"

struct rte_mbuf;

/* A packet buffer with the pool's default headroom, data_len 0; NULL when out. */
struct rte_mbuf *tcp_env_alloc(struct tcp_ctx *ctx);

/*
 * A buffer for data the application queues (tcp_send): as tcp_env_alloc, but
 * the environment may refuse it to keep part of the shared pool for receiving.
 * Frames carry the ACKs that free queued data; a pool filled by send queues
 * could never drain.
 */
struct rte_mbuf *tcp_env_alloc_queued(struct tcp_ctx *ctx);

/*
 * Is the shared pool so low that received payload should not be queued (the
 * segment is dropped unacknowledged; the peer sends it again)? This starts
 * above the floor of tcp_env_alloc_queued, so what comes in stops before what
 * goes out, and ACKs keep arriving to drain the queues.
 */
bool tcp_env_pool_low(struct tcp_ctx *ctx);

/*
 * M (one buffer) is outside every queue and about to be linked into one: the
 * environment notes it, so a worker killed before the link neither loses nor
 * frees twice (tcp_env_alloc notes what it returns the same way). Freeing or
 * sending M ends the note.
 */
void tcp_env_hold(struct tcp_ctx *ctx, struct rte_mbuf *m);

/*
 * Cut N bytes from the front of queued buffer M, its sequence number moving
 * with them (seg_seq + N): data_off, data_len, pkt_len and the sequence
 * number change as one, for a worker killed in between (the environment logs
 * the end state first and recovery applies it).
 */
void tcp_env_trim(struct tcp_ctx *ctx, struct rte_mbuf *m, uint32_t n);

/* Free a whole chain (m->next). */
void tcp_env_free(struct tcp_ctx *ctx, struct rte_mbuf *m);

/*
 * Send a complete frame: 14 bytes of Ethernet header space (the primary fills
 * the addresses from its neighbour table), IPv4 and TCP headers with checksums.
 * m->port is the DPDK port id to send on. Ownership passes to the environment.
 */
void tcp_env_xmit(struct tcp_ctx *ctx, struct rte_mbuf *m);

/*
 * Event EV (TEV_APP_*) for stream S of an application the stack does not
 * serve itself (tcp.h enum tcp_app: the proxy's kinds, TAPP_TEST): the
 * environment dispatches on the TCB's app kind. The worker hands the proxy's
 * kinds to the proxy (secondary/tcp_env_dpdk.c); the unit harness records
 * them or hands them to the proxy it links; the load generator runs its
 * clients and backends.
 */
void tcp_env_app_event(struct tcp_ctx *ctx, uint32_t s, uint32_t ev);

#endif
