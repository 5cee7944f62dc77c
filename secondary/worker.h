/* SPDX-License-Identifier: BSD-3-Clause */
/* porter-worker's private state. */
#ifndef PORTER_WORKER_H
#define PORTER_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "secondary/tcp/tcp.h"
#include "shm/porter-shm-t.h"

struct rte_ring;
struct rte_mempool;
struct rte_mbuf;


struct worker {
	unsigned int shard;
	uint64_t epoch;                 /* our grant; the slot's may move on (fencing) */
	struct porter_global *g;
	struct porter_shard *sh;
	struct porter_slot *slot;
	struct rte_ring *rx, *tx;
	int wake_fd;                    /* we sleep on it */
	int primary_wake_fd;            /* we write it when the primary sleeps */
	volatile sig_atomic_t *stop;
	struct rte_mempool *pool;
	struct tcp_ctx tcp;
	unsigned int stage_max;         /* flush the journal's stage at this many frames */
	bool seen_frames;               /* set at the first burst with frames */
	/* the takeover, told in the log at the first burst: what the ring held when we
	 * reported ready, the RTOs and sleeps between ready and the first frame */
	unsigned int ring_at_ready;
	uint64_t rto_at_ready, sleeps_before_first;
	struct rte_mbuf *rx_current;    /* the frame in the TCP pass (journal.rx_consumed) */
	/* the pool's reserve for receiving (tcp_env_alloc_queued): its free count, read once per ms */
	unsigned int pool_reserve;
	unsigned int pool_avail;
	uint32_t pool_avail_ms;
	uint32_t drain_phase;           /* the gateway's stop phase acted on (enum porter_drain) */
	uint32_t drain_count_ms;        /* next count of the open streams while stopping */
	uint32_t log_gen;               /* porter_global.log_gen acted on (SIGUSR1: reopen logs) */
};

/* A frame's place in its buffer, as porter_batch_log.taken_shape records it. */
#define PORTER_FRAME_SHAPE(m) ((uint32_t)(m)->data_off << 16 | (uint32_t)(m)->data_len)

/* Enqueue the staged frames to the TX ring (waits for room; the primary drains it). */
void worker_flush_stage(struct worker *w);

/* Free a detached chain through the journal's cursor. */
void worker_free_chain(struct worker *w, struct rte_mbuf *m);

/* Apply the journal's logged trim, if any (tcp_env_trim; recovery too). */
void worker_apply_trim(struct worker *w);

/* recovery.c: make the shard consistent after whatever the last worker did. */
void worker_recover(struct worker *w);
/* datapath.c: the frames a killed predecessor took and did not touch (after recovery and TCP
 * attach, before the first burst); returns how many. */
unsigned int worker_replay(struct worker *w);
/* datapath.c: one burst; returns the number of frames handled. */
unsigned int worker_burst(struct worker *w);

#endif
