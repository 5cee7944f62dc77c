/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Recovery of a shard's TCP area by a new worker (DESIGN §2, §3.4).
 *
 * The TCB array is the source of truth; everything else is derived from it
 * and rebuilt here, so a worker killed in the middle of a list update leaves
 * nothing its successor trips over:
 *   - the free list (every CLOSED entry),
 *   - the 4-tuple lookup chains,
 *   - the timer wheel (re-armed from each TCB's deadlines),
 *   - the live and half-open counts.
 * Cost: one pass over the slab (64 Ki streams: a few ms).
 */
#include "secondary/tcp/tcp_priv.h"

void tcp_rebuild(struct tcp_ctx *c)
{
	struct tcp_area *a = c->area;
	uint32_t live = 0, half_open = 0;

	for (uint32_t i = 0; i < a->lookup_size; i++)
		c->lookup[i] = TCP_NIL;
	for (uint32_t i = 0; i < TCP_WHEEL_SLOTS; i++)
		c->wheel[i] = TCP_NIL;
	a->free_head = TCP_NIL;
	a->wheel_tick = c->now_ms / TCP_TICK_MS;
	/* backwards, so the free list hands out low indices first, as after init */
	for (uint32_t i = a->max_streams; i-- > 0;) {
		struct tcp_tcb *t = &c->tcbs[i];

		t->t_next = t->t_prev = TCP_NIL;
		t->t_at = 0;
		if (t->state == TCP_CLOSED || t->state >= TCP_STATE__COUNT) {
			t->state = TCP_CLOSED;
			t->h_next = a->free_head;
			a->free_head = i;
			continue;
		}
		live++;
		if (t->state == TCP_SYN_RECEIVED && (t->flags & TF(PASSIVE)))
			half_open++;
		tcb_hash_insert(c, t);
		tcp_timer_update(c, t);
	}
	a->live = live;
	a->half_open = half_open;
}

/*
 * Application events are edges, and the worker that died may have died
 * between a state change and the event it owed (data queued but not yet
 * echoed, send space opened but the source not yet refilled). Every stream's
 * application is therefore told "readable and writable" once by the new
 * worker; the services only look at the stream's state, so a spurious event
 * costs nothing. Then anything sendable is sent.
 */
void tcp_resume(struct tcp_ctx *c)
{
	for (uint32_t i = 0; i < c->area->max_streams; i++) {
		struct tcp_tcb *t = &c->tcbs[i];

		if (t->state == TCP_CLOSED || t->state == TCP_TIME_WAIT)
			continue;
		if (t->app != TAPP_NONE &&
		    (t->state == TCP_ESTABLISHED || t->state == TCP_CLOSE_WAIT)) {
			tcp_notify(c, t, TEV_APP_READABLE | TEV_APP_WRITABLE |
					 ((t->flags & TF(RCVD_FIN)) ? TEV_APP_PEER_FIN : 0));
			if (t->state == TCP_CLOSED)
				continue;
		}
		tcp_output(c, t);
	}
}
