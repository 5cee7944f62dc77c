/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop's side of the proxy: the configuration in use (a new
 * generation drops pools and per-server state), the poll (sessions waiting
 * for buffers, health-check scans), its next deadline, and the gateway's
 * stop (proxy_drain).
 */
#include <string.h>

#include "secondary/http/proxy_priv.h"

/* client_limits of the configuration copy in use, into the TCP stack's client table. */
static void sync_client_limits(struct proxy *p)
{
	const struct porter_cfg_client_limits *l = &p->conf->client_limits;
	struct climit_params cp = {
		.max_conns = l->max_conns, .conn_rate = l->conn_rate, .conn_burst = l->conn_burst,
		.req_rate = l->http_req_rate, .req_burst = l->http_req_burst,
	};

	tcp_climit_set(p->tcp, &cp);
	p->climit_gen = p->conf->generation;
}

void proxy_sync_conf(struct proxy *p)
{
	uint32_t idx = __atomic_load_n(&p->pc->active, __ATOMIC_ACQUIRE) & 1;

	p->conf = &p->pc->conf[idx];
	if (p->conf->generation != p->climit_gen)
		sync_client_limits(p);   /* also at attach: the table is new */
	if (p->conf->generation == p->a->gen)
		return;
	/* a new routing table: drop pooled connections and per-server state of the old one */
	for (uint32_t slot = 0; slot < HTTP_SLOTS; slot++) {
		struct http_srv *v = &p->a->srv[slot];

		proxy_pool_drop_all(p, slot);
		if (v->hc_stream != TCP_NIL && tcp_app(p->tcp, v->hc_stream) == TAPP_HEALTH)
			tcp_abort(p->tcp, v->hc_stream);
		memset(v, 0, sizeof(*v));
		v->pool_head = TCP_NIL;
		v->hc_stream = TCP_NIL;
	}
	p->a->gen = p->conf->generation;
	proxy_log_reopen(p, true);
}

/* Step again the sessions that waited for buffers (proxy_nombuf_wait). */
static void retry_nombuf(struct proxy *p)
{
	uint32_t n = p->nretry;

	if (n == 0 || (int32_t)(now(p) - p->retry_at_ms) < 0)
		return;
	p->nretry = 0;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = p->retry[k];
		struct http_sess *x = &p->sess[i];

		p->retry_mark[i] = 0;
		if (x->kind == HS_FREE || x->cl == TCP_NIL || proxy_sess_of(p, x->cl) != x)
			continue;
		proxy_advance(p, x);
	}
}

/*
 * The gateway stops (enum porter_drain), phase PHASE reached: DRAIN closes
 * the idle keep-alive clients and the pooled upstream connections (the
 * listeners already refuse, tcp_ctx.draining; exchanges in flight end with
 * Connection: close); DRAIN_FIN resets the HTTP exchanges still in flight
 * and sends a FIN on both sides of every tunnel; DRAIN_RESET resets every
 * session's streams. tcp_drain() then takes the streams of no session.
 * Returns the sessions reset (logged with their status, 499 when none).
 */
uint32_t proxy_drain(struct proxy *p, unsigned int phase)
{
	uint32_t cut = 0, end = tcp_streams_hwm(p->tcp) < tcp_max_streams(p->tcp) ? tcp_streams_hwm(p->tcp)
										     : tcp_max_streams(p->tcp);

	if (phase == PORTER_RUN)
		return 0;
	for (uint32_t slot = 0; slot < HTTP_SLOTS; slot++)
		proxy_pool_drop_all(p, slot);
	for (uint32_t i = 0; i < p->a->hwm && i < p->a->max_sessions; i++) {
		struct http_sess *x = &p->sess[i];
		const struct http_snap *sn = cur(x);

		if (x->kind == HS_FREE || phase == PORTER_DRAIN)
			continue;
		if (phase == PORTER_DRAIN_FIN && (x->kind == HS_TUNNEL || (sn->sflags & TUNNEL))) {
			sio_shutdown(p->tcp, x->cl);
			if (sn->up != TCP_NIL)
				sio_shutdown(p->tcp, sn->up);
			continue;
		}
		proxy_abort_session(p, x, true);
		cut++;
	}
	for (uint32_t s = 0; s < end; s++) {
		enum tcp_state st = tcp_state(p->tcp, s);
		enum tcp_app app = tcp_app(p->tcp, s);

		if (st == TCP_CLOSED || st == TCP_TIME_WAIT)
			continue;
		if (app == TAPP_HTTP && proxy_sess_of(p, s) == NULL && sio_recv_avail(p->tcp, s) == 0 &&
		    phase != PORTER_DRAIN_RESET)
			proxy_close_client(p, s);   /* idle keep-alive client (a fast stop resets it: tcp_drain) */
		else if (app == TAPP_HEALTH && phase != PORTER_DRAIN) {
			struct http_srv *v = &p->a->srv[tcp_app_slot(p->tcp, s) % HTTP_SLOTS];

			if (v->hc_stream == s)
				v->hc_stream = TCP_NIL;   /* tcp_abort delivers no event */
			tcp_abort(p->tcp, s);
		}
	}
	return cut;
}

void proxy_poll(struct proxy *p)
{
	tcp_ctx_clock(p->tcp);
	proxy_sync_conf(p);
	retry_nombuf(p);
	if ((int32_t)(now(p) - p->hc_scan_ms) >= 0 && !p->tcp->draining) {
		p->hc_scan_ms = after(p, HC_SCAN_MS);
		proxy_health_scan(p);   /* not while the gateway stops: no new stream to wait for */
	}

}

int proxy_next_ms(const struct proxy *p)
{
	int next = -1;

	for (uint32_t u = 0; u < p->conf->upstream_count; u++)
		if (p->conf->upstreams[u].health_enabled) {
			int32_t d = (int32_t)(p->hc_scan_ms - p->tcp->now_ms);

			next = d < 1 ? 1 : d;
			break;
		}
	if (p->nretry) {
		int32_t d = (int32_t)(p->retry_at_ms - p->tcp->now_ms);

		if (d < 1)
			d = 1;
		if (next < 0 || d < next)
			next = d;
	}
	return next;
}
