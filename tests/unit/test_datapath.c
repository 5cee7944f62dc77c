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
