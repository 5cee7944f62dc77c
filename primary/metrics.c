/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The primary's HTTP endpoint for monitoring (metrics.listen, a kernel TCP
 * socket; off by default):
 *   GET /metrics       Prometheus text format 0.0.4
 *   GET /status.json   what porterctl --json status answers
 *   GET /status        a page for people: shards, ports, upstream servers,
 *                      refreshed from /status.json every 2 s
 * Everything is read from shared memory, which the workers write as they
 * count: the data path makes no system call for it, and the primary serves
 * it from its event loop (non-blocking sockets, a few clients at a time,
 * each given METRICS_CLIENT_MS to send its request and take the answer).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mempool.h>

#include "config/config.h"
#include "primary/primary.h"
#include "primary/sbuf.h"
#include "shm/http-t.h"
#include "secondary/http/proxy_names.h"
#include "shm/tcp-t.h"
#include "secondary/tcp/tcp_names.h"
#include "shm/names.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)
#define METRICS_MAX_CLIENTS 16
#define METRICS_CLIENT_MS   5000
#define METRICS_REQ_MAX     4096

static struct mclient {
	int fd;                    /* -1: free */
	uint64_t since_ms;
	char req[METRICS_REQ_MAX];
	size_t req_len;
	struct sbuf out;           /* the whole answer once the request is in */
	size_t sent;
	bool writing;
} clients[METRICS_MAX_CLIENTS];
static int listen_fd = -1;
static bool inited;           /* clients[] set to -1 (metrics_init) */

/* ---- Prometheus text ------------------------------------------------------------ */

static void help(struct sbuf *b, const char *name, const char *type, const char *text)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* A per-port uint64_t counter at OFF in each port's struct (porter_port_stats, porter_port_pmd). */
struct port_counter {
	const char *name, *help;
	size_t off;
};

/* The N counters of T, each port's read from BASE + port * STRIDE. */
static void prom_port_counters(struct sbuf *b, const struct primary *p, const struct port_counter *t,
			       size_t n, const void *base, size_t stride)
{
	for (size_t k = 0; k < n; k++) {
		help(b, t[k].name, "counter", t[k].help);
		for (unsigned int i = 0; i < p->nports; i++)
			sb_printf(b, "%s{port=\"%s\"} %" PRIu64 "\n", t[k].name, p->g->ports[i].name,
				  *(const uint64_t *)((const char *)base + i * stride + t[k].off));
	}
}

static void prom_ports(struct sbuf *b, struct primary *p)
{
	static const struct port_counter cnt[] = {
		{ "porter_port_rx_frames_total", "Frames received on the port.",
		  offsetof(struct porter_port_stats, rx_frames) },
		{ "porter_port_rx_bytes_total", "Bytes received on the port.", offsetof(struct porter_port_stats, rx_bytes) },
		{ "porter_port_tx_frames_total", "Frames sent on the port.", offsetof(struct porter_port_stats, tx_frames) },
		{ "porter_port_tx_bytes_total", "Bytes sent on the port.", offsetof(struct porter_port_stats, tx_bytes) },
	};
	/* the driver's own losses and the RX wake-ups from its socket (port.c, pmd_wake.h) */
	static const struct port_counter pmd[] = {
		{ "porter_port_ring_drops_total", "Frames the kernel could not put in the driver's RX ring "
		  "because it was full (af_packet, af_xdp).", offsetof(struct porter_port_pmd, ring_drops) },
		{ "porter_port_fill_ring_empty_total", "af_xdp: frames dropped for want of a fill-ring buffer.",
		  offsetof(struct porter_port_pmd, fill_empty) },
		{ "porter_port_wakeups_total", "Times the driver's socket woke the sleeping primary.",
		  offsetof(struct porter_port_pmd, wakeups) },
		{ "porter_port_empty_wakeups_total", "Times the driver's socket woke the primary with nothing "
		  "it could receive.", offsetof(struct porter_port_pmd, empty_wakeups) },
		{ "porter_port_mutes_total", "Times the driver's socket was muted after empty wake-ups.",
		  offsetof(struct porter_port_pmd, mutes) },
	};

	ports_pmd_stats(p);
	help(b, "porter_port_up", "gauge", "1 when the port's link is up.");
	for (unsigned int i = 0; i < p->nports; i++)
		sb_printf(b, "porter_port_up{port=\"%s\"} %u\n", p->g->ports[i].name, p->g->ports[i].up ? 1 : 0);
	prom_port_counters(b, p, cnt, sizeof(cnt) / sizeof(cnt[0]), p->g->port_stats, sizeof(p->g->port_stats[0]));
	help(b, "porter_port_drops_total", "counter", "Frames the primary dropped, by reason.");
	for (unsigned int i = 0; i < p->nports; i++)
		for (unsigned int r = 1; r < PDROP__COUNT; r++)
			sb_printf(b, "porter_port_drops_total{port=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
				  p->g->ports[i].name, porter_pdrop_name(r), p->g->port_stats[i].drops[r]);
	help(b, "porter_port_nic_missed_total", "counter", "Frames the device could not receive (imissed).");
	for (unsigned int i = 0; i < p->nports; i++) {
		struct rte_eth_stats es = { 0 };

		rte_eth_stats_get(p->port_id[i], &es);
		sb_printf(b, "porter_port_nic_missed_total{port=\"%s\"} %" PRIu64 "\n", p->g->ports[i].name,
			  es.imissed);
	}
	prom_port_counters(b, p, pmd, sizeof(pmd) / sizeof(pmd[0]), p->g->port_pmd, sizeof(p->g->port_pmd[0]));
	help(b, "porter_port_muted", "gauge", "1 while the driver's socket is muted (the port polled on "
	     "short timed sleeps until it receives again).");
	for (unsigned int i = 0; i < p->nports; i++)
		sb_printf(b, "porter_port_muted{port=\"%s\"} %u\n", p->g->ports[i].name,
			  p->g->port_pmd[i].muted ? 1 : 0);
}

static void prom_shards(struct sbuf *b, const struct primary *p)
{
	const struct porter_global *g = p->g;

	help(b, "porter_shard_up", "gauge", "1 when the shard's worker is ready.");
	for (unsigned int s = 0; s < p->nshards; s++)
		sb_printf(b, "porter_shard_up{shard=\"%u\"} %u\n", s, g->slots[s].state == SLOT_READY);
	help(b, "porter_worker_restarts_total", "counter", "Worker deaths handled on the shard.");
	for (unsigned int s = 0; s < p->nshards; s++)
		sb_printf(b, "porter_worker_restarts_total{shard=\"%u\"} %u\n", s, g->slots[s].restarts);
	help(b, "porter_worker_swaps_total", "counter", "Workers that took the shard over (restarts, upgrades, kills).");
	for (unsigned int s = 0; s < p->nshards; s++)
		sb_printf(b, "porter_worker_swaps_total{shard=\"%u\"} %" PRIu64 "\n", s,
			  g->slots[s].epoch ? g->slots[s].epoch - 1 : 0);
	help(b, "porter_worker_swap_gap_seconds", "gauge",
	     "The last swap's gap: the predecessor's last frame to the successor's first.");
	for (unsigned int s = 0; s < p->nshards; s++)
		sb_printf(b, "porter_worker_swap_gap_seconds{shard=\"%u\"} %.6f\n", s, g->slots[s].swap_gap_us / 1e6);
	help(b, "porter_shard_ring_full_total", "counter", "Frames the primary could not put on the shard's ring.");
	for (unsigned int s = 0; s < p->nshards; s++)
		sb_printf(b, "porter_shard_ring_full_total{shard=\"%u\"} %" PRIu64 "\n", s, p->shards[s]->pstats.ring_full);
	help(b, "porter_worker_drops_total", "counter", "Frames the worker dropped outside TCP, by reason.");
	for (unsigned int s = 0; s < p->nshards; s++)
		for (unsigned int r = 1; r < WDROP__COUNT; r++)
			sb_printf(b, "porter_worker_drops_total{shard=\"%u\",reason=\"%s\"} %" PRIu64 "\n", s,
				  porter_wdrop_name(r), p->shards[s]->wstats.drops[r]);
}

static void prom_tcp(struct sbuf *b, const struct primary *p)
{
	help(b, "porter_tcp_streams", "gauge", "TCP streams open (not CLOSED) in the shard.");
	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct tcp_area *a = shard_tcp_area(p->shards[s]);

		if (a)
			sb_printf(b, "porter_tcp_streams{shard=\"%u\"} %u\n", s, a->live);
	}
	help(b, "porter_tcp_events_total", "counter", "TCP events of the shard (segments, opens, retransmits ...).");
	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct tcp_area *a = shard_tcp_area(p->shards[s]);

		for (unsigned int e = 0; a && e < TEV__COUNT; e++)
			sb_printf(b, "porter_tcp_events_total{shard=\"%u\",event=\"%s\"} %" PRIu64 "\n", s,
				  tcp_event_name(e), a->events[e]);
		if (a)   /* ECN (layout 2.7: named fields, not events) */
			sb_printf(b, "porter_tcp_events_total{shard=\"%u\",event=\"ecn_ce_received\"} %" PRIu64 "\n"
				  "porter_tcp_events_total{shard=\"%u\",event=\"ecn_window_reductions\"} %" PRIu64 "\n",
				  s, a->ecn_ce_received, s, a->ecn_reductions);
		for (unsigned int k = 0; k < TMORE__COUNT; k++)   /* layout 2.8: porter_shard.tcp_more */
			sb_printf(b, "porter_tcp_events_total{shard=\"%u\",event=\"%s\"} %" PRIu64 "\n", s,
				  tcp_more_name(k), p->shards[s]->tcp_more[k]);
	}
	help(b, "porter_tcp_anomalies_total", "counter",
	     "Peers that behave like an attack: a zero window held 10 s (zero_window_long), an MSS below 536 "
	     "(tiny_mss), a stream at 64 retransmissions (retransmits).");
	for (unsigned int s = 0; s < p->nshards; s++)
		for (unsigned int k = 0; k < TAN__COUNT; k++)
			sb_printf(b, "porter_tcp_anomalies_total{shard=\"%u\",kind=\"%s\"} %" PRIu64 "\n", s,
				  tcp_anomaly_name(k), p->shards[s]->tcp_anomalies[k]);
	help(b, "porter_tcp_drops_total", "counter", "Segments the shard's TCP dropped or refused, by reason.");
	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct tcp_area *a = shard_tcp_area(p->shards[s]);

		for (unsigned int r = 1; a && r < TDROP__COUNT; r++)
			sb_printf(b, "porter_tcp_drops_total{shard=\"%u\",reason=\"%s\"} %" PRIu64 "\n", s,
				  tcp_drop_name(r), tcp_area_drop(a, r));
	}
}

static void prom_http(struct sbuf *b, const struct primary *p)
{
	static const double bounds[] = PORTER_LAT_BOUNDS_MS;
	static const char *const classes[] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };

	help(b, "porter_http_sessions", "gauge", "HTTP exchanges and tunnels in progress.");
	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct http_area *a = shard_http_area(p->shards[s]);

		if (a)
			sb_printf(b, "porter_http_sessions{shard=\"%u\"} %u\n", s, a->active);
	}
	help(b, "porter_http_responses_total", "counter",
	     "Exchanges finished, by the status class the client got (other: none, e.g. 499 client gone).");
	for (unsigned int s = 0; s < p->nshards; s++)
		for (unsigned int k = 0; k < 6; k++)
			sb_printf(b, "porter_http_responses_total{shard=\"%u\",class=\"%s\"} %" PRIu64 "\n", s, classes[k],
				  p->shards[s]->hstats.by_class[k]);
	help(b, "porter_http_events_total", "counter", "The proxy's counters (docs/PROXY.md, Counters).");
	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct http_area *a = shard_http_area(p->shards[s]);

		for (unsigned int c = 0; a && c < HC__COUNT; c++)
			sb_printf(b, "porter_http_events_total{shard=\"%u\",event=\"%s\"} %" PRIu64 "\n", s,
				  proxy_count_name(c), a->counts[c]);
	}
#define X(f, h)                                                                             \
	help(b, "porter_tls_" #f "_total", "counter", h);                                   \
	for (unsigned int s = 0; s < p->nshards; s++) {                                      \
		const struct tls_area *a = shard_tls_area(p->shards[s]);                     \
		if (a)                                                                       \
			sb_printf(b, "porter_tls_" #f "_total{shard=\"%u\"} %" PRIu64 "\n", s, a->f); \
	}
	TLS_AREA_COUNTERS(X)
#undef X
	help(b, "porter_http_request_duration_seconds", "histogram",
	     "Time from a request's first byte to the end of its answer (tunnels excluded).");
	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct porter_http_stats *h = &p->shards[s]->hstats;
		uint64_t cum = 0;

		for (unsigned int k = 0; k < PORTER_LAT_BUCKETS - 1; k++) {
			cum += h->latency[k];
			sb_printf(b, "porter_http_request_duration_seconds_bucket{shard=\"%u\",le=\"%g\"} %" PRIu64 "\n",
				  s, bounds[k] / 1000.0, cum);
		}
		cum += h->latency[PORTER_LAT_BUCKETS - 1];
		sb_printf(b, "porter_http_request_duration_seconds_bucket{shard=\"%u\",le=\"+Inf\"} %" PRIu64 "\n", s,
			  cum);
		sb_printf(b, "porter_http_request_duration_seconds_sum{shard=\"%u\"} %.6f\n", s,
			  h->latency_sum_us / 1e6);
		sb_printf(b, "porter_http_request_duration_seconds_count{shard=\"%u\"} %" PRIu64 "\n", s, cum);
	}
}

static void prom_listeners(struct sbuf *b, const struct primary *p)
{
	static const char *const app[] = { [TAPP_ECHO] = "echo", [TAPP_DISCARD] = "discard", [TAPP_SOURCE] = "source",
					   [TAPP_HTTP] = "http", [TAPP_SPLICE] = "tcp" };

	help(b, "porter_listener_requests_total", "counter",
	     "Requests on an http listener, connections on a tcp pass-through listener (all shards).");
	for (unsigned int i = 0; i < PORTER_MAX_LISTENERS; i++) {
		const struct porter_listener *l = &p->g->listeners[i];
		uint64_t n = 0;

		if (l->port == 0 || (l->app != TAPP_HTTP && l->app != TAPP_SPLICE))
			continue;
		for (unsigned int s = 0; s < p->nshards; s++)
			n += p->shards[s]->listener_uses[i];
		sb_printf(b, "porter_listener_requests_total{listener=\"%u\",protocol=\"%s\"} %" PRIu64 "\n", l->port,
			  app[l->app], n);
	}
}

static void prom_servers(struct sbuf *b, const struct primary *p)
{
	const struct porter_proxy_conf *cf = proxy_conf_now(p);
	static const struct {
		const char *name, *type, *help;
	} m[] = {
		{ "porter_upstream_server_up", "gauge", "1 when every shard running the current configuration "
							"has the server up (health checks, passive failures)." },
		{ "porter_upstream_server_active", "gauge", "Exchanges using the server now (all shards)." },
		{ "porter_upstream_server_idle", "gauge", "Idle keep-alive connections to the server (all shards)." },
		{ "porter_upstream_server_requests_total", "counter", "Requests sent to the server since the "
								       "configuration generation began." },
		{ "porter_upstream_server_failures_total", "counter", "Failed connects and exchanges with the server." },
		{ "porter_upstream_server_admin", "gauge", "The operator's state: 0 enabled, 1 drain, 2 disabled." },
	};

	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		help(b, m[k].name, m[k].type, m[k].help);
		for (uint32_t u = 0; u < cf->upstream_count; u++)
			for (uint32_t j = 0; j < cf->upstreams[u].server_count; j++) {
				struct server_view v;
				char sn[24];
				uint64_t val;

				servers_view(p, u * PORTER_CFG_MAX_SERVERS + j, cf->generation, &v);
				servers_name(&cf->upstreams[u].servers[j], sn);
				val = k == 0 ? (v.shards && v.shards_up == v.shards) : k == 1 ? v.active : k == 2 ? v.idle
				      : k == 3 ? v.requests : k == 4 ? v.failures : v.admin;
				sb_printf(b, "%s{upstream=\"%s\",server=\"%s\"} %" PRIu64 "\n", m[k].name,
					  cf->upstreams[u].name, sn, val);
			}
	}
}

void metrics_prometheus(struct primary *p, struct sbuf *b)
{
	const struct porter_global *g = p->g;

	help(b, "porter_info", "gauge", "The running primary's version and shared-memory layout.");
	sb_printf(b, "porter_info{version=\"%s\",layout=\"%u.%u\"} 1\n", PORTER_VERSION, g->hdr.major, g->hdr.minor);
	help(b, "porter_uptime_seconds", "gauge", "Seconds since the primary started.");
	sb_printf(b, "porter_uptime_seconds %.3f\n", (now_ms() - g->started_ms) / 1e3);
	help(b, "porter_config_generation", "gauge", "Proxy configuration generation (1 at start, +1 per reload).");
	sb_printf(b, "porter_config_generation %" PRIu64 "\n", p->proxy->generation);
	help(b, "porter_reloads_total", "counter", "Reloads applied.");
	sb_printf(b, "porter_reloads_total %" PRIu64 "\n", p->proxy->reloads);
	help(b, "porter_reloads_refused_total", "counter", "Reloads refused (a bad file).");
	sb_printf(b, "porter_reloads_refused_total %" PRIu64 "\n", p->proxy->reloads_refused);
	help(b, "porter_mempool_buffers", "gauge", "Packet buffers of the shared pool.");
	sb_printf(b, "porter_mempool_buffers %u\n", p->pool->size);
	help(b, "porter_mempool_in_use", "gauge", "Packet buffers in use (in rings, queues, caches).");
	sb_printf(b, "porter_mempool_in_use %u\n", rte_mempool_in_use_count(p->pool));
	help(b, "porter_draining", "gauge", "The stop's phase: 0 running, 1 drain, 2 FIN, 3 reset.");
	sb_printf(b, "porter_draining %u\n", g->drain_phase);
	prom_ports(b, p);
	prom_shards(b, p);
	prom_tcp(b, p);
	prom_http(b, p);
	prom_listeners(b, p);
	prom_servers(b, p);
}

/* ---- the status page -------------------------------------------------------------- */

static const char status_page[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>porter status</title>\n"
	"<style>body{font:14px sans-serif;margin:1.5em}table{border-collapse:collapse;margin:.5em 0 1.5em}"
	"th,td{border:1px solid #bbb;padding:.25em .6em;text-align:right}th{background:#eee}"
	"td.l,th.l{text-align:left}.down{background:#fdd}.up{background:#dfd}</style></head><body>\n"
	"<h1>porter</h1><p id=\"head\">loading&hellip;</p>\n"
	"<h2>Shards</h2><table id=\"shards\"><thead><tr><th>shard</th><th class=\"l\">state</th><th>pid</th>"
	"<th>restarts</th><th>last swap gap (ms)</th><th class=\"l\">standby</th><th>streams</th><th>sessions</th>"
	"<th>requests</th><th>req/s</th></tr></thead><tbody></tbody></table>\n"
	"<h2>Ports</h2><table id=\"ports\"><thead><tr><th class=\"l\">port</th><th class=\"l\">address</th>"
	"<th class=\"l\">link</th><th>rx frames</th><th>tx frames</th><th>rx Mbit/s</th><th>tx Mbit/s</th>"
	"</tr></thead><tbody></tbody></table>\n"
	"<h2>Upstream servers</h2><table id=\"servers\"><thead><tr><th class=\"l\">upstream</th>"
	"<th class=\"l\">server</th><th class=\"l\">health</th><th class=\"l\">admin</th><th class=\"l\">last check</th>"
	"<th>active</th><th>idle</th><th>requests</th><th>failures</th></tr></thead><tbody></tbody></table>\n"
	"<h2>Upgrade</h2><p id=\"upgrade\"></p>\n"
	"<script>\n"
	"let last=null;\n"
	"function cell(r,v,c){const td=document.createElement('td');td.textContent=v;if(c)td.className=c;r.appendChild(td);}\n"
	"function fill(id,rows){const tb=document.querySelector('#'+id+' tbody');tb.innerHTML='';"
	"for(const row of rows){const tr=document.createElement('tr');for(const c of row)cell(tr,c[0],c[1]);"
	"tb.appendChild(tr);}}\n"
	"function rate(now,prev,f,t){if(!prev||t<=0)return '';return ((f(now)-f(prev))/t).toFixed(1);}\n"
	"async function tick(){try{const r=await fetch('status.json',{cache:'no-store'});const s=await r.json();"
	"const t=last?(s.uptime_ms-last.uptime_ms)/1000:0;"
	"document.getElementById('head').textContent='pid '+s.pid+', up '+Math.round(s.uptime_ms/1000)+' s, layout '+"
	"s.layout+', configuration generation '+s.proxy.generation+', buffers in use '+s.mempool.in_use+'/'+s.mempool.size;"
	"fill('shards',s.shards.map((h,i)=>{const p=last&&last.shards[i];return[[h.shard],[h.state,'l '+(h.state=='ready'?'up':'down')],"
	"[h.pid],[h.restarts],[(h.swap_gap_us/1000).toFixed(2)],[h.standby.state,'l'],[h.tcp?h.tcp.streams:''],"
	"[h.http?h.http.sessions:''],[h.http?h.http.requests:''],[h.http?rate(h,p,x=>x.http?x.http.requests:0,t):'']];}));"
	"fill('ports',s.ports.map((q,i)=>{const p=last&&last.ports[i];return[[q.name,'l'],[q.ipv4,'l'],[q.link,'l '+(q.link=='up'?'up':'down')],"
	"[q.rx_frames],[q.tx_frames],[rate(q,p,x=>x.rx_bytes*8/1e6,t)],[rate(q,p,x=>x.tx_bytes*8/1e6,t)]];}));"
	"fill('servers',s.servers.map(v=>[[v.upstream,'l'],[v.server,'l'],[v.up?'up':'down ('+v.shards_up+'/'+v.shards+' shards)','l '+(v.up?'up':'down')],"
	"[v.admin,'l'],[v.checks?(v.last_check_age_ms<0?'none yet':v.last_check+', '+v.last_check_age_ms+' ms ago'):'checks off','l'],"
	"[v.active],[v.idle],[v.requests],[v.failures]]));"
	"document.getElementById('upgrade').textContent=s.upgrade.state+(s.upgrade.binary?' '+s.upgrade.binary:'')+"
	"(s.upgrade.message?': '+s.upgrade.message:'');last=s;}"
	"catch(e){document.getElementById('head').textContent='no answer from porter: '+e;}}\n"
	"tick();setInterval(tick,2000);\n"
	"</script></body></html>\n";

/* ---- the endpoint ------------------------------------------------------------------ */

static void client_close(struct primary *p, unsigned int i)
{
	struct mclient *c = &clients[i];

	if (c->fd < 0)
		return;
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	free(c->out.p);
	memset(&c->out, 0, sizeof(c->out));
}

static void respond(struct primary *p, struct mclient *c, const char *req)
{
	char method[8] = "", target[256] = "";
	struct sbuf body = { 0 };
	const char *type = "text/plain; charset=utf-8";
	unsigned int status = 200;
	bool head;

	if (sscanf(req, "%7s %255s HTTP/1.%*c", method, target) != 2) {
		status = 400;
		sb_printf(&body, "400 Bad Request\n");
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		status = 405;
		sb_printf(&body, "405 Method Not Allowed\n");
	} else if (strcmp(target, "/metrics") == 0) {
		type = "text/plain; version=0.0.4; charset=utf-8";
		metrics_prometheus(p, &body);
	} else if (strcmp(target, "/status.json") == 0) {
		type = "application/json";
		control_status_json(p, &body);
	} else if (strcmp(target, "/status") == 0 || strcmp(target, "/") == 0) {
		type = "text/html; charset=utf-8";
		sb_printf(&body, "%s", status_page);
	} else {
		status = 404;
		sb_printf(&body, "404 Not Found (try /metrics, /status, /status.json)\n");
	}
	head = strcmp(method, "HEAD") == 0;
	if (body.oom) {
		status = 500;
		body.len = 0;
	}
	sb_printf(&c->out, "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
		  "Connection: close\r\n%s\r\n", status,
		  status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found" :
		  status == 405 ? "Method Not Allowed" : "Internal Server Error", type, body.len,
		  status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head && body.len)
		sb_printf(&c->out, "%.*s", (int)body.len, body.p);
	free(body.p);
	c->writing = true;
	c->sent = 0;
}

/* Read what came, answer once the head is whole, write what the socket takes; false when C is done. */
static bool client_step(struct primary *p, struct mclient *c)
{
	if (!c->writing) {
		for (;;) {
			ssize_t n = read(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);

			if (n == 0)
				return false;
			if (n < 0)
				break;
			c->req_len += (size_t)n;
			c->req[c->req_len] = '\0';
			if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
				respond(p, c, c->req);
				break;
			}
			if (c->req_len == sizeof(c->req) - 1)
				return false;   /* no end of head in 4 KiB */
		}
		if (!c->writing)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	}
	while (c->sent < c->out.len) {
		ssize_t n = write(c->fd, c->out.p + c->sent, c->out.len - c->sent);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return false;
			struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = EV_DATA(EV_METRICS_CLIENT,
											 (uint32_t)(c - clients)) };

			epoll_ctl(p->epfd, EPOLL_CTL_MOD, c->fd, &ev);
			return true;
		}
		c->sent += (size_t)n;
	}
	shutdown(c->fd, SHUT_WR);
	return false;
}

void metrics_on_client(struct primary *p, unsigned int i)
{
	if (i < METRICS_MAX_CLIENTS && clients[i].fd >= 0 && !client_step(p, &clients[i]))
		client_close(p, i);
}

void metrics_on_listen(struct primary *p)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		unsigned int i;

		if (fd < 0)
			return;
		for (i = 0; i < METRICS_MAX_CLIENTS && clients[i].fd >= 0; i++)
			;
		if (i == METRICS_MAX_CLIENTS) {
			close(fd);   /* busy: the scraper retries */
			continue;
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_DATA(EV_METRICS_CLIENT, i) };

		memset(&clients[i], 0, sizeof(clients[i]));
		clients[i].fd = fd;
		clients[i].since_ms = now_ms();
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			client_close(p, i);
	}
}

void metrics_tick(struct primary *p)
{
	uint64_t now = now_ms();

	if (listen_fd < 0)
		return;
	for (unsigned int i = 0; i < METRICS_MAX_CLIENTS; i++)
		if (clients[i].fd >= 0 && now - clients[i].since_ms > METRICS_CLIENT_MS)
			client_close(p, i);
}

int metrics_init(struct primary *p)
{
	const struct porter_cfg_metrics *m = &p->cfg->metrics;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(m->port), .sin_addr.s_addr = htonl(m->ipv4) };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_DATA(EV_METRICS_LISTEN, 0) };
	int one = 1;

	for (unsigned int i = 0; i < METRICS_MAX_CLIENTS; i++)
		clients[i].fd = -1;
	inited = true;
	if (m->listen[0] == '\0')
		return 0;
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(listen_fd, 16) < 0 ||
	    epoll_ctl(p->epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0) {
		LOG(ERR, "%s: metrics.listen: %s: %s", p->cfg->path, m->listen, strerror(errno));
		if (listen_fd >= 0)
			close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	LOG(NOTICE, "metrics and status on http://%s/metrics, /status", m->listen);
	return 0;
}

void metrics_close(struct primary *p)
{
	if (!inited)
		return;
	for (unsigned int i = 0; i < METRICS_MAX_CLIENTS; i++)
		client_close(p, i);
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
}
