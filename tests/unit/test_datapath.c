/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's burst (secondary/datapath.c) on the TCP harness: real rings
 * (rte_ring_init on heap memory, no EAL), fake mbufs, the harness's stack.
 * A frame comes in on the RX ring the way the primary puts it there, with
 * the flow hash in m->hash.rss.
 */
#include <stdlib.h>

#include <rte_ring.h>

#include "secondary/worker.h"
#include "shm/hash.h"
#include "tests/unit/tcp_harness.h"

HSUITE(datapath);

static struct worker W;
static struct porter_shard *SH;

static struct rte_ring *ring(const char *name)
{
	ssize_t sz = rte_ring_get_memsize(1024);
	struct rte_ring *r;

	cr_assert(sz > 0);
	r = aligned_alloc(RTE_CACHE_LINE_SIZE, ((size_t)sz + RTE_CACHE_LINE_SIZE - 1) &
					    ~(size_t)(RTE_CACHE_LINE_SIZE - 1));
	cr_assert(r != NULL);
	cr_assert(rte_ring_init(r, name, 1024, RING_F_SP_ENQ | RING_F_SC_DEQ) == 0);
	return r;
}

static void worker_up(void)
{
	SH = aligned_alloc(64, sizeof(*SH));
	cr_assert(SH != NULL);
	memset(SH, 0, sizeof(*SH));
	memset(&W, 0, sizeof(W));
	W.shard = 0;
	W.g = H.g;
	W.sh = SH;
	W.slot = &H.g->slots[0];
	W.rx = ring("rx");
	W.tx = ring("tx");
	W.wake_fd = W.primary_wake_fd = -1;
	W.tcp = H.ctx;          /* the harness's stack, its environment the harness */
	W.stage_max = 64;
}

static void worker_down(void)
{
	struct rte_mbuf *m;

	/* what the burst handed to the primary: RST replies in place, frames to free */
	while (rte_ring_dequeue(W.tx, (void **)&m) == 0)
		h_mbuf_free(m);
	free(W.rx);
	free(W.tx);
	free(SH);
	H.ctx = W.tcp;
}

/* A SYN from the peer to PORT, stamped with HASH as the primary stamps it. */
static struct rte_mbuf *syn(uint16_t port, uint16_t sport, uint32_t hash)
{
	struct h_spec sp = {
		.saddr = H_PEER_IP, .daddr = H_LOCAL_IP, .sport = sport, .dport = port,
		.seq = 1000, .flags = TH_SYN, .wnd = 65535,
	};
	struct rte_mbuf *m = h_build(&sp);

	m->hash.rss = hash;
	return m;
}

/* A hash whose RETA entry is SHARD (the harness's RETA is all 0: entry 5 is set to 1). */
static uint32_t hash_for(unsigned int shard)
{
	H.g->reta[5] = 1;
	return shard ? 5u : 6u;
}

HTEST(datapath, frame_for_this_shard_is_processed)
{
	struct rte_mbuf *m;

	worker_up();
	m = syn(H_TEST_PORT, 41000, hash_for(0));
	cr_assert(rte_ring_enqueue(W.rx, m) == 0);
	cr_assert(worker_burst(&W) == 1);
	HEQ(SH->wstats.drops[WDROP_WRONG_SHARD], 0);
	HEQ(AREA->half_open, 1);          /* the SYN opened a stream */
	worker_down();
}

HTEST(datapath, frame_for_another_shard_is_dropped_unprocessed)
{
	struct rte_mbuf *m;
	unsigned long xmits = H.xmits;

	worker_up();
	/* a SYN to a listener and a SYN to a closed port: neither may be answered here */
	m = syn(H_TEST_PORT, 41001, hash_for(1));
	cr_assert(rte_ring_enqueue(W.rx, m) == 0);
	m = syn(H_CLOSED_PORT, 41002, hash_for(1));
	cr_assert(rte_ring_enqueue(W.rx, m) == 0);
	cr_assert(worker_burst(&W) == 2);
	HEQ(SH->wstats.drops[WDROP_WRONG_SHARD], 2);
	HEQ(AREA->live, 0);               /* no stream opened */
	HEQ(H.xmits, xmits);              /* no SYN-ACK from the stack */
	/* both went to the primary to be freed, none as a reply */
	HEQ(rte_ring_count(W.tx), 2);
	for (unsigned int i = 0; i < 2; i++) {
		cr_assert(rte_ring_dequeue(W.tx, (void **)&m) == 0);
		HEQ(m->port, PORTER_PORT_FREE);
		h_mbuf_free(m);
	}
	worker_down();
}

/*
 * A worker killed in its TCP pass left keep[held_first..held_end) untouched
 * (recovery.c keeps them there): its successor runs exactly those, in order,
 * before its first burst, and the frame before held_first (the one being
 * processed at the kill, recovery's to free) is not run again.
 */
HTEST(datapath, successor_runs_the_untouched_frames_of_a_killed_pass)
{
	struct porter_batch_log *b;
	struct rte_mbuf *in_process;
	unsigned long xmits = H.xmits;

	worker_up();
	b = &SH->batch;
	in_process = syn(H_TEST_PORT, 41100, hash_for(0));
	b->keep[0] = in_process;
	for (unsigned int i = 1; i < 4; i++)
		b->keep[i] = syn(H_TEST_PORT, (uint16_t)(41100 + i), hash_for(0));
	b->held_first = 1;
	b->held_end = 4;
	HEQ(worker_replay(&W), 3);
	HEQ(AREA->half_open, 3);          /* three SYNs opened streams, the one in process did not */
	HEQ(SH->replayed_frames, 3);
	HEQ(b->held_first, 4);
	HEQ(b->held_end, 0);              /* nothing in hand any more */
	HEQ(W.rx_current, NULL);
	HEQ(H.xmits, xmits + 3);          /* a SYN-ACK to each */
	HEQ(worker_replay(&W), 0);        /* once only */
	h_mbuf_free(in_process);
	worker_down();
}

/* No frames in hand (a clean stop, or a kill outside the TCP pass): nothing runs. */
HTEST(datapath, successor_runs_nothing_when_no_frame_was_in_hand)
{
	worker_up();
	SH->batch.held_first = 2;
	SH->batch.held_end = 2;           /* the pass had reached its end */
	HEQ(worker_replay(&W), 0);
	HEQ(SH->batch.held_first, 0);
	HEQ(SH->batch.held_end, 0);
	HEQ(SH->replayed_frames, 0);
	HEQ(AREA->live, 0);
	worker_down();
}
