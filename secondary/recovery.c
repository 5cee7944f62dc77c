/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Recovery at attach (DESIGN §3.4). The previous worker of this shard is dead
 * (the supervisor grants the epoch only to the pid it started after reaping
 * the last one), so we are the only consumer of the RX ring and the only
 * producer of the TX ring and may repair their indices. The batch protocol
 * is described next to struct porter_batch_log in shm/porter-shm-t.h.
 */
#include <rte_log.h>
#include <rte_ring.h>

#include "secondary/worker.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter-worker: " fmt "\n", ##__VA_ARGS__)

void worker_recover(struct worker *w)
{
	struct porter_batch_log *b = &w->sh->batch;
	struct rte_ring *rx = w->rx, *tx = w->tx;
	uint32_t in_hand = rx->cons.head - rx->cons.tail;

	if (in_hand != 0) {
		uint32_t n = __atomic_load_n(&b->batch_n, __ATOMIC_ACQUIRE);

		if (n == in_hand && tx->prod.tail == b->tx_target) {
			/* step 4 completed: the frames belong to the primary now */
			__atomic_store_n(&rx->cons.tail, rx->cons.head, __ATOMIC_RELEASE);
			LOG(NOTICE, "shard %u: recovery: last batch of %u had been handed over",
			    w->shard, in_hand);
		} else {
			/* not handed over: undo both reservations, frames go round again */
			tx->prod.head = tx->prod.tail;
			rx->cons.head = rx->cons.tail;
			LOG(NOTICE, "shard %u: recovery: %u frames put back on the RX ring",
			    w->shard, in_hand);
		}
		w->sh->wstats.recovered_mbufs += in_hand;
	} else if (tx->prod.head != tx->prod.tail) {
		tx->prod.head = tx->prod.tail;
	}
	__atomic_store_n(&b->batch_n, 0, __ATOMIC_RELEASE);
	w->sh->wstats.recoveries++;
}
