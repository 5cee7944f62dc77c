/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One timer per stream (DESIGN §5): the TCB is linked into one slot of the
 * shard's timer wheel at the earliest of its three deadlines:
 *   rto_at     retransmission (RFC 6298), SYN/SYN-ACK retransmission,
 *              zero-window probe (RFC 9293 §3.8.6.1)
 *   delack_at  delayed ACK (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2)
 *   keep_at    keep-alive (RFC 1122 §4.2.3.6), TIME-WAIT 2MSL, FIN-WAIT-2 timeout
 * The wheel has TCP_WHEEL_SLOTS slots of TCP_TICK_MS; entries further than a
 * lap wait in their slot until due. The wheel is in shared memory and every
 * deadline is in the TCB, so a new worker carries on (or rebuilds it).
 */
#include "secondary/tcp/tcp_priv.h"

static uint32_t slot_of(const struct tcp_ctx *c, uint32_t at)
{
	/*
	 * Tick k runs once now >= k * TCP_TICK_MS: round up, so the entry is
	 * due when its slot runs. (Rounding down put a deadline that is not a
	 * multiple of the tick in a slot that ran up to 3 ms early, found it
	 * not due and left it there for a whole lap of the wheel, 65.5 s.)
	 */
	uint32_t tick = at / TCP_TICK_MS + (at % TCP_TICK_MS != 0);

	/* never behind the processed tick, or it would wait a whole lap */
	if ((int32_t)(tick - c->area->wheel_tick) <= 0)
		tick = c->area->wheel_tick + 1;
	return tick & (TCP_WHEEL_SLOTS - 1);
}

static void wheel_remove(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t slot)
{
	if (t->t_prev == TCP_NIL)
		c->wheel[slot] = t->t_next;
	else
		c->tcbs[t->t_prev].t_next = t->t_next;
	if (t->t_next != TCP_NIL)
		c->tcbs[t->t_next].t_prev = t->t_prev;
	t->t_next = t->t_prev = TCP_NIL;
}

static void wheel_insert(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t slot)
{
	uint32_t idx = tcb_idx(c, t);

	t->t_prev = TCP_NIL;
	t->t_next = c->wheel[slot];
	if (t->t_next != TCP_NIL)
		c->tcbs[t->t_next].t_prev = idx;
	c->wheel[slot] = idx;
}

void tcp_timer_cancel(struct tcp_ctx *c, struct tcp_tcb *t)
{
	if (t->t_at == 0)
		return;
	wheel_remove(c, t, t->t_slot);
	t->t_at = 0;
}

void tcp_timer_update(struct tcp_ctx *c, struct tcp_tcb *t)
{
	uint32_t at = 0;

	if (t->rto_at)
		at = t->rto_at;
	if (t->delack_at && (!at || ms_before(t->delack_at, at)))
		at = t->delack_at;
	if (t->keep_at && (!at || ms_before(t->keep_at, at)))
		at = t->keep_at;
	if (t->app >= TAPP_DEADLINE_FIRST && t->app_arg_hi && (!at || ms_before(t->app_arg_hi, at)))
		at = t->app_arg_hi;
	if (at == t->t_at)
		return;
	tcp_timer_cancel(c, t);
	if (at == 0)
		return;
	t->t_at = at;
	t->t_slot = (uint16_t)slot_of(c, at);
	wheel_insert(c, t, t->t_slot);
}

void tcp_rto_arm(struct tcp_ctx *c, struct tcp_tcb *t)
{
	uint64_t rto = (uint64_t)t->rto_ms << t->rto_shift;

	t->flags &= ~(TF(PTO) | TF(REO));   /* rto_at is the RTO again */

	if (rto > c->prm->rto_max_ms)
		rto = c->prm->rto_max_ms;
	t->rto_at = c->now_ms + (uint32_t)rto;
	if (t->rto_at == 0)
		t->rto_at = 1;
	tcp_timer_update(c, t);
}

void tcp_keepalive_arm(struct tcp_ctx *c, struct tcp_tcb *t)
{
	if (!c->prm->keepalive || t->state != TCP_ESTABLISHED)
		return;
	t->keep_at = t->last_rcv_ms + c->prm->keepalive_idle_s * 1000;
	if (t->keep_at == 0)
		t->keep_at = 1;
	tcp_timer_update(c, t);
}

void tcp_timer_fire(struct tcp_ctx *c, struct tcp_tcb *t);   /* tcp_input.c */

static void run_slot(struct tcp_ctx *c, uint32_t slot)
{
	uint32_t i = c->wheel[slot];

	while (i != TCP_NIL) {
		struct tcp_tcb *t = &c->tcbs[i];

		i = t->t_next;
		if (!ms_due(t->t_at, c->now_ms))
			continue;
		wheel_remove(c, t, slot);
		t->t_at = 0;
		tcp_touch(c, t);
		tcp_timer_fire(c, t);
		/* A re-armed T goes to a later slot (slot_of never returns this one).
		 * The application (the proxy) may have closed or re-armed another
		 * stream, possibly the saved next: if that one left this slot, start
		 * over from the head (what fired is no longer in the list). */
		if (i != TCP_NIL && (c->tcbs[i].t_at == 0 || c->tcbs[i].t_slot != slot))
			i = c->wheel[slot];
	}
}

void tcp_timers(struct tcp_ctx *c)
{
	struct tcp_area *a = c->area;
	uint32_t now_tick = c->now_ms / TCP_TICK_MS;
	uint32_t behind = now_tick - a->wheel_tick;

	if ((int32_t)behind <= 0)
		return;
	if (behind > TCP_WHEEL_SLOTS)
		behind = TCP_WHEEL_SLOTS;
	for (uint32_t k = behind; k > 0; k--) {
		uint32_t tick = now_tick - k + 1;

		a->wheel_tick = tick;
		run_slot(c, tick & (TCP_WHEEL_SLOTS - 1));
	}
	a->wheel_tick = now_tick;
}

int tcp_next_timer_ms(const struct tcp_ctx *c)
{
	uint32_t tick = c->area->wheel_tick;

	/*
	 * Look TCP_TIMER_SCAN_MS ahead at most (a scan per sleep is on the fast
	 * path): past that, say "wake then and look again" rather than "nothing",
	 * so a deadline beyond the scan is never served a whole sleep late.
	 */
	for (uint32_t k = 1; k <= TCP_TIMER_SCAN_MS / TCP_TICK_MS; k++)
		if (c->wheel[(tick + k) & (TCP_WHEEL_SLOTS - 1)] != TCP_NIL)
			return (int)(k * TCP_TICK_MS);
	return c->area->live ? TCP_TIMER_SCAN_MS : -1;
}

/*
 * The slab is full: free the TIME-WAIT stream whose 2MSL ends first, so new
 * connections are not refused because old ones linger. RFC 9293 §3.6.1 wants
 * 2MSL, which protects a new incarnation of the same 4-tuple from the old one's
 * delayed segments; a shard out of TCBs trades the tail of that wait for
 * service, as Linux does past net.ipv4.tcp_max_tw_buckets (it skips TIME-WAIT
 * altogether), and PAWS (RFC 7323) still rejects old duplicates on streams
 * with timestamps. Only streams the application has let go of are taken.
 *
 * TIME-WAIT deadlines are the furthest ahead on the wheel, the oldest in the
 * slots just after the current tick: walk forward from there. The walk is
 * bounded (a slab full of live streams must not cost every SYN a lap).
 */
#define RECLAIM_MAX_VISITS 4096

bool tcp_reclaim_time_wait(struct tcp_ctx *c)
{
	uint32_t tick = c->area->wheel_tick, visits = 0;

	for (uint32_t k = 1; k <= TCP_WHEEL_SLOTS && visits < RECLAIM_MAX_VISITS; k++) {
		uint32_t i = c->wheel[(tick + k) & (TCP_WHEEL_SLOTS - 1)];

		while (i != TCP_NIL && visits++ < RECLAIM_MAX_VISITS) {
			struct tcp_tcb *t = &c->tcbs[i];

			if (t->state == TCP_TIME_WAIT && t->app == TAPP_NONE && t->rcv_bytes == 0) {
				tcp_count(c, TEV_CLOSED);
				tcb_free(c, t);
				c->area->tw_reclaimed++;
				return true;
			}
			i = t->t_next;
		}
	}
	return false;
}
