/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where a request goes: the route its listener, method, Host and path match
 * (or a tcp listener's upstream), a server of that upstream (proxy_pool.c
 * chooses), and a stream to it: an idle pooled one, or a new connection.
 * A request that lost its upstream stream before a response is sent again
 * on another server when that is safe (retries).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "secondary/http/proxy_priv.h"
#include "shm/rate.h"

static bool host_match(const struct porter_cfg_route *r, const uint8_t *h, uint32_t len)
{
	size_t rl = strlen(r->host);

	switch (r->host_match) {
	case PORTER_HOST_EXACT:
		return len == rl && strncasecmp((const char *)h, r->host, rl) == 0;
	case PORTER_HOST_SUFFIX:
		return len > rl && strncasecmp((const char *)h + len - rl, r->host, rl) == 0;
	default:
		return true;
	}
}

int proxy_find_route(const struct proxy *p, const struct h1_msg *m, const uint8_t *b, uint16_t lport)
{
	for (uint32_t i = 0; i < p->conf->route_count; i++) {
		const struct porter_cfg_route *r = &p->conf->routes[i];
		size_t pl = strlen(r->path_prefix), ml = strlen(r->method);

		if (r->listen_port && r->listen_port != lport)
			continue;
		if (ml && (m->method_s.len != ml || memcmp(b + m->method_s.off, r->method, ml) != 0))
			continue;
		if (!host_match(r, b + m->host.off, m->host.len))
			continue;
		if (m->path.len < pl || memcmp(b + m->path.off, r->path_prefix, pl) != 0)
			continue;
		return (int)i;
	}
	return -1;
}

/* The upstream of a tcp listener's client stream C (an index into the proxy config), or -1. */
int proxy_splice_upstream(const struct proxy *p, uint32_t c)
{
	const struct porter_listener *l = tcp_listener(p->tcp, tcp_lport(p->tcp, c));

	return l && l->arg < p->conf->upstream_count ? (int)l->arg : -1;
}

static bool idempotent(unsigned int m)
{
	return m == H1_M_GET || m == H1_M_HEAD || m == H1_M_OPTIONS || m == H1_M_TRACE || m == H1_M_PUT ||
	       m == H1_M_DELETE;
}

/*
 * The byte-rate limit of session X's two streams (docs/CONFIG.md "Rate
 * limits"): the lowest of its listener's (listeners[i].rate_limit), its
 * client address's (client_limits.rate_limit, unless the listener is exempt
 * from client_limits) and its route's (routes[i].rate_limit); 0 = none.
 * Each stream's sending is paced to it (tcp_pace.c), so the upload is held
 * to it on the upstream stream and the download on the client's.
 */
static uint64_t sess_rate(struct proxy *p, const struct http_sess *x)
{
	const struct porter_listener *l = tcp_listener(p->tcp, tcp_lport(p->tcp, x->cl));
	const struct porter_cfg_client_limits *cl = &p->conf->client_limits;
	uint64_t r = l ? porter_rate_bps(l->rate) : 0, v;
	uint32_t mask = cl->rate_plen ? ~(uint32_t)0 << (32 - cl->rate_plen) : 0;

#define LOWER(v) do { if ((v) && (!r || (v) < r)) r = (v); } while (0)
	if (cl->rate && (l == NULL || !l->no_climit) && (tcp_raddr(p->tcp, x->cl) & mask) == cl->rate_addr) {
		v = porter_rate_bps(cl->rate);
		LOWER(v);
	}
	if (x->route && x->route <= p->conf->route_count) {
		v = porter_rate_bps(p->conf->routes[x->route - 1].rate);
		LOWER(v);
	}
#undef LOWER
	return r;
}

/*
 * Give session X an upstream stream to server of upstream U: a pooled one or
 * a new connection. Returns 1 when the head can be sent now, 0 when
 * connecting, -1 when X was answered with an error (and is gone).
 */
int proxy_start_upstream(struct proxy *p, struct http_sess *x, uint32_t u)
{
	struct http_snap n = *cur(x);
	uint32_t slot = proxy_pick_server(p, u, n.tried, tcp_raddr(p->tcp, x->cl)), s;
	const struct porter_cfg_server *sv;
	int err;

	if (slot == NO_SLOT) {
		proxy_respond_error(p, x, n.tries ? 502 : 503);
		return -1;
	}
	sv = server_of(p, slot);
	n.slot = slot;
	n.read_ms = upstream_of(p, slot)->read_timeout_ms;
	n.write_ms = upstream_of(p, slot)->write_timeout_ms;
	n.up_keepalive = upstream_of(p, slot)->keepalive_max_idle > 0;
	n.tried |= 1u << (slot % PORTER_CFG_MAX_SERVERS);
	n.tries++;
	p->a->srv[slot].requests++;
	tcp_set_rate(p->tcp, x->cl, sess_rate(p, x));
	if (x->kind == HS_HTTP && (s = proxy_pool_pop(p, slot)) != TCP_NIL) {
		tcp_set_app(p->tcp, s, TAPP_HTTP_UP);
		tcp_set_app_arg(p->tcp, s, sess_idx(p, x));
		tcp_set_rate(p->tcp, s, tcp_rate(p->tcp, x->cl));
		CRASH_POINT("proxy.pool_claimed");
		tcp_app_deadline(p->tcp, s, 0);
		n.up = s;
		n.reused = 1;
		n.req = RQ_SEND_HEAD;
		n.q.rbase = sio_read_pos(p->tcp, x->cl);
		n.q.wbase = sio_write_pos(p->tcp, s);
		n.q.hout = 0;
		commit(x, &n);
		p->a->srv[slot].active++;
		count(p, HC_UP_REUSED);
		x->t_conn_ms = now(p);
		return 1;
	}
	s = tcp_connect(p->tcp, sv->ipv4, sv->port, x->kind == HS_HTTP ? TAPP_HTTP_UP : TAPP_SPLICE_UP, &err);
	if (s == TCP_NIL) {
		if (err == -ENETUNREACH)
			count(p, HC_UP_NO_ROUTE);
		proxy_respond_error(p, x, 503);
		return -1;
	}
	tcp_set_app_arg(p->tcp, s, sess_idx(p, x));
	tcp_set_rate(p->tcp, s, tcp_rate(p->tcp, x->cl));
	tcp_app_deadline(p->tcp, s, 0);   /* none yet (a new stream has none: a no-op, as the store it was) */
	CRASH_POINT("proxy.connect_uncommitted");
	tcp_app_deadline(p->tcp, s, after(p, upstream_of(p, slot)->connect_timeout_ms));
	n.up = s;
	n.reused = 0;
	n.req = RQ_CONNECT;
	commit(x, &n);
	p->a->srv[slot].active++;
	count(p, HC_UP_CONNECTS);
	return 0;
}

/* The upstream stream failed before a response: try another server or answer STATUS. */
void proxy_retry_or_error(struct proxy *p, struct http_sess *x, unsigned int status, bool sent)
{
	struct http_snap n = *cur(x);
	uint32_t u = n.slot / PORTER_CFG_MAX_SERVERS;
	bool may;

	if (!gen_current(p, &n)) {
		proxy_respond_error(p, x, status);
		return;
	}
	if (sent) {
		/* the request reached a reused connection the server had closed: safe to send
		 * again only when idempotent and still whole in the client's queue */
		may = n.reused && idempotent(n.method) && n.q.kind == H1_BODY_NONE && n.req == RQ_DONE;
		if (may)
			n.tried &= ~(1u << (n.slot % PORTER_CFG_MAX_SERVERS));   /* same server, new connection */
	} else {
		may = n.tries <= p->conf->upstreams[u].retries;
	}
	if (!may) {
		proxy_respond_error(p, x, status);
		return;
	}
	count(p, HC_RETRIES);
	n.up = TCP_NIL;
	n.req = RQ_HEAD;   /* re-planned by proxy_start_upstream */
	n.reused = 0;
	commit(x, &n);
	proxy_start_upstream(p, x, u);   /* a pooled stream: the caller's proxy_advance() sends the head */
}
