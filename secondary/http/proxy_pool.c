/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Balancing and keep-alive pools: whether a server may take a request
 * (operator's state, health checks, passive failures, max_conns), the choice
 * among the usable ones (round robin, least connections, client hash), and
 * each server's pool of idle upstream streams (pushed at the end of an
 * exchange, claimed by the next, closed on any event of their own).
 */

#include "secondary/http/proxy_priv.h"

/* --- servers -------------------------------------------------------------------- */

static bool server_usable(struct proxy *p, uint32_t slot)
{
	struct http_srv *v = &p->a->srv[slot];
	const struct porter_cfg_server *s = server_of(p, slot);

	if (srv_admin(p, slot) != PORTER_SRV_ENABLED || proxy_hc_down(p, slot))
		return false;
	if (v->down_until_ms) {
		if ((int32_t)(now(p) - v->down_until_ms) < 0)
			return false;
		v->down_until_ms = 0;
	}
	return s->max_conns == 0 || v->active < s->max_conns;
}

static uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7feb352dU;
	h ^= h >> 15;
	h *= 0x846ca68bU;
	h ^= h >> 16;
	return h;
}

/* Choose a server of upstream U for a client at CADDR, skipping TRIED; NO_SLOT when none. */
uint32_t proxy_pick_server(struct proxy *p, uint32_t u, uint32_t tried, uint32_t caddr)
{
	const struct porter_cfg_upstream *up = &p->conf->upstreams[u];
	uint32_t base = u * PORTER_CFG_MAX_SERVERS, best = NO_SLOT, total = 0;
	uint32_t cand[PORTER_CFG_MAX_SERVERS], nc = 0;

	for (uint32_t i = 0; i < up->server_count; i++)
		if (!(tried & (1u << i)) && server_usable(p, base + i))
			cand[nc++] = i;
	if (nc == 0)
		return NO_SLOT;
	switch (up->balance) {
	case PORTER_LB_LEAST_CONN:
		for (uint32_t k = 0; k < nc; k++) {
			uint32_t i = cand[k];
			uint64_t a = (uint64_t)p->a->srv[base + i].active * (best == NO_SLOT ? 1 :
								up->servers[best - base].weight);

			if (best == NO_SLOT ||
			    a < (uint64_t)p->a->srv[best].active * up->servers[i].weight)
				best = base + i;
		}
		if (best != NO_SLOT)
			break;
		/* fall through */
	case PORTER_LB_ROUND_ROBIN:
	default: {
		/* smooth weighted round robin */
		int32_t bw = INT32_MIN;

		for (uint32_t k = 0; k < nc; k++) {
			struct http_srv *v = &p->a->srv[base + cand[k]];

			v->rr_weight += up->servers[cand[k]].weight;
			total += up->servers[cand[k]].weight;
			if (v->rr_weight > bw) {
				bw = v->rr_weight;
				best = base + cand[k];
			}
		}
		p->a->srv[best].rr_weight -= (int32_t)total;
		break;
	}
	case PORTER_LB_HASH: {
		uint32_t h, w = 0;

		for (uint32_t k = 0; k < nc; k++)
			total += up->servers[cand[k]].weight;
		h = mix32(caddr) % total;
		for (uint32_t k = 0; k < nc; k++) {
			w += up->servers[cand[k]].weight;
			if (h < w) {
				best = base + cand[k];
				break;
			}
		}
		break;
	}
	}
	return best;
}

void proxy_passive_fail(struct proxy *p, const struct http_snap *sn)
{
	const struct porter_cfg_upstream *up;
	struct http_srv *v;
	uint32_t slot = sn->slot;

	if (slot == NO_SLOT || !gen_current(p, sn))
		return;
	up = upstream_of(p, slot);
	v = &p->a->srv[slot];
	v->failures++;
	if (up->passive_max_fails && ++v->fails >= up->passive_max_fails) {
		v->down_until_ms = after(p, up->passive_fail_timeout_ms);
		v->fails = 0;
	}
}

/* --- keep-alive pool ------------------------------------------------------------ */

uint32_t proxy_pool_pop(struct proxy *p, uint32_t slot)
{
	struct http_srv *v = &p->a->srv[slot];

	while (v->pool_head != TCP_NIL) {
		uint32_t s = v->pool_head;

		v->pool_head = tcp_app_arg(p->tcp, s);
		v->pool_count--;
		if (tcp_app(p->tcp, s) == TAPP_HTTP_POOL && tcp_state(p->tcp, s) == TCP_ESTABLISHED &&
		    sio_recv_avail(p->tcp, s) == 0 && !sio_peer_closed(p->tcp, s))
			return s;
		if (tcp_app(p->tcp, s) == TAPP_HTTP_POOL)
			proxy_kill_stream(p, s);
	}
	return TCP_NIL;
}

static void pool_unlink(struct proxy *p, uint32_t s)
{
	struct http_srv *v = &p->a->srv[tcp_app_slot(p->tcp, s) % HTTP_SLOTS];
	uint32_t prev = TCP_NIL, at = v->pool_head;

	while (at != TCP_NIL && at != s) {
		prev = at;
		at = tcp_app_arg(p->tcp, at);
	}
	if (at == s) {
		if (prev == TCP_NIL)
			v->pool_head = tcp_app_arg(p->tcp, s);
		else
			tcp_set_app_arg(p->tcp, prev, tcp_app_arg(p->tcp, s));
		v->pool_count--;
	}
}

void proxy_pool_push(struct proxy *p, uint32_t s, uint32_t slot)
{
	struct http_srv *v = &p->a->srv[slot];

	tcp_set_app_slot(p->tcp, s, (uint16_t)slot);
	tcp_set_rate(p->tcp, s, 0);   /* the next session sets its own */
	tcp_set_app_arg(p->tcp, s, v->pool_head);
	tcp_set_app(p->tcp, s, TAPP_HTTP_POOL);
	CRASH_POINT("proxy.pool_pushing");
	v->pool_head = s;
	v->pool_count++;
	tcp_app_deadline(p->tcp, s, after(p, upstream_of(p, slot)->keepalive_idle_timeout_ms));
}

/* Close every idle stream of SLOT's pool (a new routing table, the gateway stopping). */
void proxy_pool_drop_all(struct proxy *p, uint32_t slot)
{
	struct http_srv *v = &p->a->srv[slot];

	while (v->pool_head != TCP_NIL) {
		uint32_t s = v->pool_head;

		v->pool_head = tcp_app_arg(p->tcp, s);
		v->pool_count--;
		tcp_set_app(p->tcp, s, TAPP_HTTP_UP);
		proxy_drop_upstream(p, s);
	}
}

/* An idle pooled stream had an event: bytes, a FIN, a reset or its idle timeout end it. */
void proxy_pool_event(struct proxy *p, uint32_t s, uint32_t ev)
{
	if (!(ev & (TEV_APP_RESET | TEV_APP_CLOSED | TEV_APP_TIMEOUT)) && sio_recv_avail(p->tcp, s) == 0 &&
	    !sio_peer_closed(p->tcp, s) && tcp_state(p->tcp, s) == TCP_ESTABLISHED)
		return;   /* a window update, or a new worker's look at every stream */
	pool_unlink(p, s);
	if (ev & (TEV_APP_RESET | TEV_APP_CLOSED))
		return;
	tcp_set_app(p->tcp, s, TAPP_HTTP_UP);   /* so proxy_drop_upstream treats it as ours */
	proxy_drop_upstream(p, s);
}
