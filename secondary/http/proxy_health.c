/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Active health checks: one shard checks each server for the whole gateway
 * (GET health_path every health_interval_ms; 2xx or 3xx is up), the others
 * read its verdict (proxy_hc_down); rise and fall counts turn results into
 * a server's state.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "secondary/http/proxy_priv.h"

/*
 * One shard checks each server actively for the whole gateway (slot modulo
 * the shard count); the others read its result. Without the other areas
 * (unit harness) or a single shard, every shard checks for itself.
 */
static unsigned int health_owner(const struct proxy *p, uint32_t slot)
{
	return p->nshards > 1 && p->peer[slot % p->nshards] ? slot % p->nshards : p->shard;
}

/* Did the active checks mark SLOT down (in its checking shard, on the same configuration)? */
bool proxy_hc_down(const struct proxy *p, uint32_t slot)
{
	unsigned int o = health_owner(p, slot);
	const struct http_area *a = o == p->shard ? p->a : p->peer[o];

	if (a != p->a && (__atomic_load_n(&a->magic, __ATOMIC_ACQUIRE) != HTTP_AREA_MAGIC || a->gen != p->a->gen))
		return false;   /* that shard is not on this configuration (yet): no verdict */
	return __atomic_load_n(&a->srv[slot].hc_down, __ATOMIC_RELAXED) != 0;
}

static void health_result(struct proxy *p, uint32_t slot, enum http_hc_result r)
{
	const struct porter_cfg_upstream *up = upstream_of(p, slot);
	struct http_srv *v = &p->a->srv[slot];
	bool ok = r == HC_R_OK;

	v->hc_stream = TCP_NIL;
	v->hc_last = (uint8_t)r;
	v->hc_last_ms = now(p);
	count(p, ok ? HC_HEALTH_OK : HC_HEALTH_FAIL);
	if (ok) {
		v->hc_bad = 0;
		if (v->hc_ok < 255)
			v->hc_ok++;
		if (v->hc_down && v->hc_ok >= up->health_rise) {
			v->hc_down = 0;
			v->down_until_ms = 0;
			v->fails = 0;
		}
	} else {
		v->hc_ok = 0;
		if (v->hc_bad < 255)
			v->hc_bad++;
		if (!v->hc_down && v->hc_bad >= up->health_fall)
			v->hc_down = 1;
	}
}

/* A finished check: read what is left and close with a FIN (no reset for a well-behaved server). */
static void health_close(struct proxy *p, uint32_t s)
{
	sio_recv(p->tcp, s, NULL, sio_recv_avail(p->tcp, s));
	tcp_app_deadline(p->tcp, s, 0);
	sio_close(p->tcp, s);
}

void proxy_health_event(struct proxy *p, uint32_t s, uint32_t ev)
{
	uint32_t slot = tcp_app_slot(p->tcp, s);
	struct http_srv *v = &p->a->srv[slot % HTTP_SLOTS];
	uint8_t b[16];

	if (v->hc_stream != s || slot >= HTTP_SLOTS) {
		if (!(ev & (TEV_APP_RESET | TEV_APP_CLOSED)))
			proxy_kill_stream(p, s);
		return;
	}
	if (ev & (TEV_APP_RESET | TEV_APP_CLOSED)) {
		health_result(p, slot, HC_R_CLOSED);
		return;
	}
	if (ev & TEV_APP_TIMEOUT) {
		health_result(p, slot, HC_R_TIMEOUT);
		tcp_abort(p->tcp, s);
		return;
	}
	if (ev & TEV_APP_CONNECTED) {
		const struct porter_cfg_server *sv = server_of(p, slot);
		char req[PORTER_CFG_HCPATH_LEN + 160];
		int len = snprintf(req, sizeof(req),
				   "GET %s HTTP/1.1\r\nHost: %u.%u.%u.%u:%u\r\nUser-Agent: porter-health-check\r\n"
				   "Connection: close\r\n\r\n", upstream_of(p, slot)->health_path,
				   sv->ipv4 >> 24, (sv->ipv4 >> 16) & 0xff, (sv->ipv4 >> 8) & 0xff,
				   sv->ipv4 & 0xff, sv->port);

		sio_send(p->tcp, s, req, (uint32_t)len);
	}
	if (sio_recv_avail(p->tcp, s) >= 12 || (sio_recv_avail(p->tcp, s) && sio_peer_closed(p->tcp, s))) {
		uint32_t n = sio_peek(p->tcp, s, 0, b, 12);
		bool ok = n == 12 && memcmp(b, "HTTP/1.", 7) == 0 && b[8] == ' ' && (b[9] == '2' || b[9] == '3');

		health_result(p, slot, ok ? HC_R_OK : HC_R_STATUS);
		health_close(p, s);
		return;
	}
	if (sio_peer_closed(p->tcp, s)) {
		health_result(p, slot, HC_R_CLOSED);
		health_close(p, s);
	}
}

void proxy_health_scan(struct proxy *p)
{
	for (uint32_t u = 0; u < p->conf->upstream_count; u++) {
		const struct porter_cfg_upstream *up = &p->conf->upstreams[u];

		if (!up->health_enabled)
			continue;
		for (uint32_t i = 0; i < up->server_count; i++) {
			uint32_t slot = u * PORTER_CFG_MAX_SERVERS + i, s;
			struct http_srv *v = &p->a->srv[slot];
			int err;

			if (v->hc_stream != TCP_NIL || (v->hc_next_ms && (int32_t)(now(p) - v->hc_next_ms) < 0) ||
			    health_owner(p, slot) != p->shard || srv_admin(p, slot) == PORTER_SRV_DISABLED)
				continue;   /* another shard checks it, or it is in maintenance */
			/* spread the shards' checks over the interval */
			v->hc_next_ms = after(p, up->health_interval_ms);
			if (p->tcp->ports == NULL || p->tcp->nports == 0)
				continue;
			s = tcp_connect(p->tcp, up->servers[i].ipv4, up->servers[i].port, TAPP_HEALTH, &err);
			if (s == TCP_NIL) {
				if (err == -ENETUNREACH)
					count(p, HC_UP_NO_ROUTE);
				health_result(p, slot, err == -ENETUNREACH ? HC_R_NO_ROUTE : HC_R_CLOSED);
				continue;
			}
			v->hc_stream = s;
			tcp_set_app_slot(p->tcp, s, (uint16_t)slot);
			tcp_set_app_arg(p->tcp, s, TCP_NIL);
			tcp_app_deadline(p->tcp, s, after(p, up->health_timeout_ms));
		}
	}
}
