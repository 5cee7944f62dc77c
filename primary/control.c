/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket (AF_UNIX stream, mode 0600) for porterctl. One request line
 * per connection, "COMMAND [ARGS] [--json]\n"; the reply is the whole
 * response, then the server closes. Commands:
 *   status             ports, shards, mempool
 *   restart SHARD      restart the worker of SHARD with the current binary
 * Replies start with "ok\n" or "error: MESSAGE\n" in text mode; in JSON mode
 * they are one object with "ok": true/false.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "config/config.h"
#include "primary/primary.h"
#include "primary/sbuf.h"
#include "shm/http-t.h"
#include "secondary/http/proxy_names.h"
#include "secondary/tcp/climit.h"     /* the size of a client table entry (the table is the worker's) */
#include "shm/tcp-t.h"      /* the shard TCP area's counters (types only) */
#include "secondary/tcp/tcp_names.h"
#include "shm/names.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)


/*
 * What the two status views (JSON and text) show that costs a call to read:
 * the drivers' counters (ports_pmd_stats asks the kernel for af_packet's and
 * af_xdp's, rte_eth_stats_get each driver), the mempool's counts (a walk of
 * every lcore cache) and the rings. Read once per request, here, so both views
 * print the same figures of one moment; the counters in shared memory they
 * print are named by the tables next to their enums (shm/names.c,
 * secondary/tcp/tcp_names.c, secondary/http/proxy_names.c).
 */
struct status_view {
	uint64_t now;
	unsigned int mp_in_use, mp_avail;
	struct rte_eth_stats es[PORTER_MAX_PORTS];
	struct {
		uint32_t rx_depth, rx_size, tx_depth, tx_size;
		uint64_t drops;         /* ring_full and every worker drop reason */
	} shard[PORTER_MAX_SHARDS];
};

static void status_collect(struct primary *p, struct status_view *v)
{
	memset(v, 0, sizeof(*v));
	v->now = now_ms();
	v->mp_in_use = rte_mempool_in_use_count(p->pool);
	v->mp_avail = rte_mempool_avail_count(p->pool);
	ports_pmd_stats(p);
	for (unsigned int i = 0; i < p->nports && i < PORTER_MAX_PORTS; i++)
		rte_eth_stats_get(p->port_id[i], &v->es[i]);
	for (unsigned int s = 0; s < p->nshards && s < PORTER_MAX_SHARDS; s++) {
		const struct porter_shard *sh = p->shards[s];

		v->shard[s].rx_depth = rte_ring_count(p->rx[s]);
		v->shard[s].rx_size = rte_ring_get_capacity(p->rx[s]);
		v->shard[s].tx_depth = rte_ring_count(p->tx[s]);
		v->shard[s].tx_size = rte_ring_get_capacity(p->tx[s]);
		v->shard[s].drops = sh->pstats.ring_full;
		for (unsigned int r = 1; r < WDROP__COUNT; r++)
			v->shard[s].drops += sh->wstats.drops[r];
	}
}

static void json_drops_port(struct sbuf *b, const struct porter_port_stats *st)
{
	bool first = true;

	sb_printf(b, "\"drops\":{");
	for (unsigned int r = 1; r < PDROP__COUNT; r++) {
		sb_printf(b, "%s\"%s\":%" PRIu64, SEP(first), porter_pdrop_name(r), st->drops[r]);
		first = false;
	}
	sb_printf(b, "}");
}

/* How the primary waits for the port's frames, and the driver's own losses. */
static void json_pmd_port(struct sbuf *b, const struct primary *p, unsigned int i,
			  const struct rte_eth_stats *es)
{
	const struct porter_port_pmd *pm = &p->g->port_pmd[i];

	sb_printf(b, "\"rx_wait\":\"%s\",\"driver\":\"%s\",\"pmd_fds\":[",
		  porter_port_wait_name(pm->wait), porter_port_driver_name(pm->driver));
	for (unsigned int k = 0; k < p->wake[i].nfds; k++)
		sb_printf(b, "%s%d", SEP(k == 0), p->wake[i].fd[k]);
	sb_printf(b, "],\"pmd_muted\":%s,\"imissed\":%" PRIu64 ",\"ring_drops\":%" PRIu64
		  ",\"fill_ring_empty\":%" PRIu64 ",\"pmd_wakeups\":%" PRIu64
		  ",\"pmd_empty_wakeups\":%" PRIu64 ",\"pmd_mutes\":%" PRIu64 ",\"pmd_errors\":%" PRIu64 ",",
		  pm->muted ? "true" : "false", es->imissed, pm->ring_drops, pm->fill_empty,
		  pm->wakeups, pm->empty_wakeups, pm->mutes, pm->errors);
}

/* The shard's TCP counters (written by its worker; the primary only reads counters). */
static void json_tcp(struct sbuf *b, const struct porter_shard *sh)
{
	const struct tcp_area *a = shard_tcp_area(sh);

	if (a == NULL) {
		sb_printf(b, "\"tcp\":null");
		return;
	}
	sb_printf(b, "\"tcp\":{\"streams\":%u,\"max_streams\":%u,\"half_open\":%u,\"tcb_bytes\":%u,"
		  "\"time_wait_reclaimed\":%" PRIu64 ",\"repaired\":%" PRIu64 ",\"reset_on_recovery\":%"
		  PRIu64 ",\"inconsistent\":%" PRIu64 ",", a->live, a->max_streams, a->half_open,
		  a->tcb_size, a->tw_reclaimed, a->repaired, a->reset_on_recovery, a->inconsistent);
	sb_printf(b, "\"client_table\":{\"size\":%u,\"used\":%u,\"bytes\":%" PRIu64 ",\"evictions\":%" PRIu64
		  ",\"untracked\":%" PRIu64 "},\"drops\":{", a->client_table_size, a->client_table_used,
		  (uint64_t)a->client_table_size * sizeof(struct climit_entry), a->client_evictions, a->client_untracked);
	for (unsigned int r = 1; r < TDROP__COUNT; r++)
		sb_printf(b, "%s\"%s\":%" PRIu64, SEP(r == 1), tcp_drop_name(r), tcp_area_drop(a, r));
	sb_printf(b, "},\"events\":{");
	for (unsigned int e = 0; e < TEV__COUNT; e++)
		sb_printf(b, "%s\"%s\":%" PRIu64, SEP(e == 0), tcp_event_name(e), a->events[e]);
	sb_printf(b, ",\"ecn_ce_received\":%" PRIu64 ",\"ecn_window_reductions\":%" PRIu64,
		  a->ecn_ce_received, a->ecn_reductions);
	for (unsigned int k = 0; k < TMORE__COUNT; k++)   /* layout 2.8: porter_shard.tcp_more */
		sb_printf(b, ",\"%s\":%" PRIu64, tcp_more_name(k), sh->tcp_more[k]);
	sb_printf(b, "}}");
}


/* The shard's proxy counters (written by its worker; read here). */
static void json_http(struct sbuf *b, const struct porter_shard *sh)
{
	const struct http_area *a = shard_http_area(sh);

	if (a == NULL) {
		sb_printf(b, ",\"http\":null");
		return;
	}
	sb_printf(b, ",\"http\":{\"sessions\":%u,\"max_sessions\":%u,\"config_generation\":%" PRIu64,
		  a->active, a->max_sessions, a->gen);
	for (unsigned int i = 0; i < HC__COUNT; i++)
		sb_printf(b, ",\"%s\":%" PRIu64, proxy_count_name(i), a->counts[i]);
	sb_printf(b, "}");
}

/* Slots in use (handshaking or established): a scan, for status only. */
static uint32_t tls_sessions_used(const struct tls_area *a)
{
	uint32_t used = 0;

	for (uint32_t k = 0; k < a->max_slots; k++)
		used += ((const struct tls_slot *)((const char *)a + a->slots_off + (uint64_t)k * a->slot_bytes))->state !=
			TLS_SLOT_FREE;
	return used;
}

/* The shard's TLS counters (shm/tls-area-t.h), null without a TLS listener. */
static void json_tls(struct sbuf *b, const struct porter_shard *sh)
{
	const struct tls_area *a = shard_tls_area(sh);

	if (a == NULL) {
		sb_printf(b, ",\"tls\":null");
		return;
	}
	sb_printf(b, ",\"tls\":{\"sessions\":%u,\"max_sessions\":%u", tls_sessions_used(a), a->max_slots);
#define X(f, h) sb_printf(b, ",\"" #f "\":%" PRIu64, a->f);
	TLS_AREA_COUNTERS(X)
#undef X
	sb_printf(b, "}");
}

static const char *takeover_name(enum takeover_kind k)
{
	return k == TAKEOVER_STANDBY ? "standby" : k == TAKEOVER_COLD ? "cold" : "none";
}

static const char *swap_phase_name(enum swap_phase ph)
{
	return (const char *[]){ "none", "standby", "stop_old", "takeover" }[ph];
}

/* The shard's standby and its last swap (workers.standby). */
static void json_standby(struct sbuf *b, const struct primary *p, unsigned int s, uint64_t now)
{
	const struct sup_worker *w = &p->sup[s];
	const struct sup_standby *sb = &w->sb;

	sb_printf(b, ",\"takeover\":\"%s\",\"cold_starts\":%u,\"standby\":{\"state\":\"%s\",\"pid\":%d,"
		  "\"binary\":\"", takeover_name(w->takeover), w->cold_starts,
		  supervisor_sb_state_name(sb->state), sb->pid);
	sb_json_str(b, sb->pid ? sb->binary : "");
	sb_printf(b, "\",\"version\":\"");
	sb_json_str(b, sb->state == SB_READY ? sb->version : "");
	sb_printf(b, "\",\"ready_for_ms\":%" PRIu64 ",\"starts\":%u,\"failures\":%u,\"failed_in_row\":%u,"
		  "\"takeovers\":%u,\"last_error\":\"", sb->state == SB_READY ? now - sb->ready_ms : 0,
		  sb->starts, sb->failures, sb->failed_in_row, sb->takeovers);
	sb_json_str(b, sb->last_error);
	sb_printf(b, "\"},\"swap\":{\"phase\":\"%s\",\"target\":\"", swap_phase_name(w->swap.phase));
	sb_json_str(b, w->swap.phase != SWAP_NONE ? w->swap.target : "");
	sb_printf(b, "\",\"last\":\"");
	sb_json_str(b, w->swap_msg);
	sb_printf(b, "\"}");
}

void control_status_json(struct primary *p, struct sbuf *b)
{
	const struct porter_global *g = p->g;
	struct status_view v;
	uint64_t now;
	char ip[16], mac[18], gw[16];

	status_collect(p, &v);
	now = v.now;

	sb_printf(b, "{\"ok\":true,\"pid\":%d,\"uptime_ms\":%" PRIu64 ",\"file_prefix\":\"%s\","
		  "\"layout\":\"%u.%u\",\"shard_count\":%u,\"standby\":%s,",
		  g->primary_pid, now - g->started_ms, p->cfg->eal.file_prefix, g->hdr.major,
		  g->hdr.minor, p->nshards, p->cfg->workers.standby ? "true" : "false");
	sb_printf(b, "\"proxy\":{\"generation\":%" PRIu64 ",\"reloads\":%" PRIu64 ",\"reloads_refused\":%"
		  PRIu64 "},", p->proxy->generation, p->proxy->reloads, p->proxy->reloads_refused);
	sb_printf(b, "\"mempool\":{\"size\":%u,\"in_use\":%u,\"available\":%u,\"cache\":%u},",
		  p->pool->size, v.mp_in_use, v.mp_avail, p->pool->cache_size);
	sb_printf(b, "\"ports\":[");
	for (unsigned int i = 0; i < p->nports; i++) {
		const struct porter_port_info *pi = &g->ports[i];
		const struct porter_port_stats *st = &g->port_stats[i];
		const struct rte_eth_stats es = v.es[i];

		porter_fmt_ipv4(pi->ipv4, ip);
		porter_fmt_ipv4(pi->gateway, gw);
		porter_fmt_mac(pi->mac, mac);
		sb_printf(b, "%s{\"name\":\"%s\",\"port_id\":%u,\"mac\":\"%s\",\"ipv4\":\"%s/%u\","
			  "\"gateway\":\"%s\",\"link\":\"%s\",\"rx_interrupts\":%s,\"checksum_offload\":%s,"
			  "\"rx_frames\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tx_frames\":%" PRIu64
			  ",\"tx_bytes\":%" PRIu64 ",\"arp_in\":%" PRIu64 ",\"arp_replies\":%" PRIu64
			  ",\"arp_requests\":%" PRIu64 ",\"icmp_echo\":%" PRIu64
			  ",\"tcp_steered\":%" PRIu64 ",\"tx_requeued\":%" PRIu64 ",\"nic_ipackets\":%" PRIu64
			  ",\"nic_opackets\":%" PRIu64 ",\"nic_imissed\":%" PRIu64
			  ",\"nic_ierrors\":%" PRIu64 ",\"nic_oerrors\":%" PRIu64 ",",
			  SEP(i == 0), pi->name, pi->port_id, mac, ip, pi->prefix_len, gw,
			  pi->up ? "up" : "down", p->rx_intr_fd[i] >= 0 ? "true" : "false",
			  pi->tx_csum ? "true" : "false",
			  st->rx_frames, st->rx_bytes, st->tx_frames, st->tx_bytes, st->arp_in,
			  st->arp_replies, st->arp_requests, st->icmp_echo, st->tcp_steered,
			  st->tx_requeued, es.ipackets, es.opackets, es.imissed, es.ierrors, es.oerrors);
		json_pmd_port(b, p, i, &es);
		json_drops_port(b, st);
		sb_printf(b, "}");
	}
	sb_printf(b, "],\"static_routes\":[");
	for (unsigned int i = 0; i < g->routes.count && i < PORTER_MAX_ROUTES; i++) {
		const struct porter_route *r = &g->routes.r[i];

		porter_fmt_ipv4(r->dst, ip);
		porter_fmt_ipv4(r->via, gw);
		sb_printf(b, "%s{\"to\":\"%s/%u\",\"via\":\"%s\",\"port\":\"%s\"}", SEP(i == 0), ip,
			  r->prefix_len, gw, r->port < p->nports ? g->ports[r->port].name : "?");
	}
	sb_printf(b, "],\"shards\":[");
	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct porter_slot *slot = &g->slots[s];
		const struct porter_shard *sh = p->shards[s];
		uint64_t hb = slot->heartbeat_ms;
		bool first = true;

		sb_printf(b, "%s{\"shard\":%u,\"pid\":%d,\"epoch\":%" PRIu64 ",\"state\":\"%s\","
			  "\"restarts\":%u,\"uptime_ms\":%" PRIu64 ",\"lcore\":%u,\"version\":\"%.*s\","
			  "\"heartbeat_age_ms\":%" PRId64 ",\"last_restart_gap_us\":%" PRIu64 ","
			  "\"swap_gap_us\":%" PRIu64 ",\"binary\":\"%s\","
			  "\"sleeping\":%u,\"rx_ring\":{\"depth\":%u,\"size\":%u},"
			  "\"tx_ring\":{\"depth\":%u,\"size\":%u},"
			  "\"enqueued\":%" PRIu64 ",\"ring_full\":%" PRIu64 ",\"wakeups_sent\":%" PRIu64
			  ",\"rx_segments\":%" PRIu64 ",\"tx_segments\":%" PRIu64 ",\"rst_sent\":%" PRIu64
			  ",\"wakeups\":%" PRIu64 ",\"recoveries\":%" PRIu64 ",\"recovered_mbufs\":%" PRIu64
			  ",\"replayed_frames\":%" PRIu64 ",\"drops\":{",
			  SEP(s == 0), s, slot->pid, slot->epoch, porter_slot_state_name(slot->state),
			  slot->restarts,
			  slot->state == SLOT_READY ? now - slot->ready_ms : 0, slot->lcore_id,
			  PORTER_VERSION_LEN, slot->state == SLOT_READY ? slot->version : "",
			  hb ? (int64_t)(now - hb) : -1, slot->last_restart_gap_us, slot->swap_gap_us,
			  p->sup[s].running, sh->sleeping,
			  v.shard[s].rx_depth, v.shard[s].rx_size, v.shard[s].tx_depth, v.shard[s].tx_size,
			  sh->pstats.enqueued,
			  sh->pstats.ring_full, sh->pstats.wakeups_sent, sh->wstats.rx_segments,
			  sh->wstats.tx_segments, sh->wstats.rst_sent, sh->wstats.wakeups,
			  sh->wstats.recoveries, sh->wstats.recovered_mbufs, sh->replayed_frames);
		for (unsigned int r = 1; r < WDROP__COUNT; r++) {
			sb_printf(b, "%s\"%s\":%" PRIu64, SEP(first), porter_wdrop_name(r),
				  sh->wstats.drops[r]);
			first = false;
		}
		sb_printf(b, "},\"mbufs_allocated\":%" PRIu64 ",\"mbufs_freed\":%" PRIu64
			  ",\"stranded\":%" PRIu64 ",", sh->wstats.mbufs_allocated, sh->wstats.mbufs_freed,
			  sh->wstats.stranded);
		sb_printf(b, "\"frame_gaps_over_ms\":{\"1\":%" PRIu64 ",\"5\":%" PRIu64 ",\"10\":%" PRIu64
			  ",\"20\":%" PRIu64 "},", slot->frame_gaps[0], slot->frame_gaps[1], slot->frame_gaps[2],
			  slot->frame_gaps[3]);
		json_tcp(b, sh);
		json_http(b, sh);
		json_tls(b, sh);
		json_standby(b, p, s, now);
		sb_printf(b, "}");
	}
	sb_printf(b, "],");
	servers_json(p, b);
	sb_printf(b, ",\"upgrade\":{\"state\":\"%s\",\"shard\":%d,\"started_ms\":%" PRIu64
		  ",\"finished_ms\":%" PRIu64 ",\"binary\":\"",
		  (const char *[]){ "idle", "running", "done", "failed" }[p->up.state], p->up.cur,
		  p->up.started_ms, p->up.finished_ms);
	sb_json_str(b, p->up.path);
	sb_printf(b, "\",\"message\":\"");
	sb_json_str(b, p->up.msg);
	sb_printf(b, "\"}");
	sb_printf(b, ",\"neighbours\":[");
	bool first = true;
	for (unsigned int i = 0; i < PORTER_NEIGH_SIZE; i++) {
		const struct porter_neigh *n = &g->neigh[i];

		if (n->state == NEIGH_FREE)
			continue;
		porter_fmt_ipv4(n->ipv4, ip);
		porter_fmt_mac(n->mac, mac);
		sb_printf(b, "%s{\"ipv4\":\"%s\",\"mac\":\"%s\",\"state\":\"%s\",\"port\":%u}",
			  SEP(first), ip, mac, n->state == NEIGH_REACHABLE ? "reachable" : "incomplete",
			  n->port);
		first = false;
	}
	sb_printf(b, "],\"reta\":[");
	for (unsigned int i = 0; i < PORTER_RETA_SIZE; i++)
		sb_printf(b, "%s%u", SEP(i == 0), g->reta[i]);
	sb_printf(b, "]}\n");
}

static void status_text(struct primary *p, struct sbuf *b)
{
	const struct porter_global *g = p->g;
	struct status_view v;
	uint64_t now;
	char ip[16], mac[18];

	status_collect(p, &v);
	now = v.now;

	sb_printf(b, "ok\nporter-primary pid %d, up %.1f s, file prefix %s, layout %u.%u\n",
		  g->primary_pid, (now - g->started_ms) / 1000.0, p->cfg->eal.file_prefix,
		  g->hdr.major, g->hdr.minor);
	sb_printf(b, "mempool: %u in use of %u (cache %u per lcore)\n\n",
		  v.mp_in_use, p->pool->size, p->pool->cache_size);
	for (unsigned int i = 0; i < p->nports; i++) {
		const struct porter_port_info *pi = &g->ports[i];
		const struct porter_port_stats *st = &g->port_stats[i];
		const struct porter_port_pmd *pm = &g->port_pmd[i];
		const struct rte_eth_stats es = v.es[i];

		porter_fmt_ipv4(pi->ipv4, ip);
		porter_fmt_mac(pi->mac, mac);
		sb_printf(b, "port %s (ethdev %u, %s) %s %s/%u link %s, RX wait: %s", pi->name,
			  pi->port_id, porter_port_driver_name(pm->driver), mac, ip, pi->prefix_len,
			  pi->up ? "up" : "down",
			  pm->wait == PORT_WAIT_PMD_FD ? "driver socket" :
			  pm->wait == PORT_WAIT_INTR ? "interrupts" : "polling with backoff");
		for (unsigned int k = 0; k < p->wake[i].nfds; k++)
			sb_printf(b, "%s%d", k == 0 ? " (fd " : ",", p->wake[i].fd[k]);
		sb_printf(b, "%s%s\n", p->wake[i].nfds ? ")" : "",
			  pm->muted ? ", muted: polled until it receives again" : "");
		sb_printf(b, "  checksums %s, tx requeued %" PRIu64 "\n", pi->tx_csum ? "offloaded" : "in software",
			  st->tx_requeued);
		sb_printf(b, "  driver: imissed %" PRIu64 ", ring drops %" PRIu64 ", fill ring empty %"
			  PRIu64 "; woke the primary %" PRIu64 " times (%" PRIu64 " with nothing to "
			  "take, muted %" PRIu64 " times), socket errors %" PRIu64 "\n", es.imissed,
			  pm->ring_drops, pm->fill_empty, pm->wakeups, pm->empty_wakeups, pm->mutes, pm->errors);
		sb_printf(b, "  rx %" PRIu64 " frames %" PRIu64 " bytes, tx %" PRIu64 " frames %" PRIu64
			  " bytes\n  arp in %" PRIu64 " replies %" PRIu64 " requests %" PRIu64
			  ", icmp echo %" PRIu64 ", tcp steered %" PRIu64 "\n",
			  st->rx_frames, st->rx_bytes, st->tx_frames, st->tx_bytes, st->arp_in,
			  st->arp_replies, st->arp_requests, st->icmp_echo, st->tcp_steered);
		sb_printf(b, "  drops:");
		bool any = false;
		for (unsigned int r = 1; r < PDROP__COUNT; r++) {
			if (st->drops[r] == 0)
				continue;
			sb_printf(b, " %s=%" PRIu64, porter_pdrop_name(r), st->drops[r]);
			any = true;
		}
		sb_printf(b, "%s\n", any ? "" : " none");
	}
	for (unsigned int i = 0; i < g->routes.count && i < PORTER_MAX_ROUTES; i++) {
		const struct porter_route *r = &g->routes.r[i];
		char via[16];

		porter_fmt_ipv4(r->dst, ip);
		porter_fmt_ipv4(r->via, via);
		sb_printf(b, "static route %s/%u via %s (port %s)\n", ip, r->prefix_len, via,
			  r->port < p->nports ? g->ports[r->port].name : "?");
	}
	sb_printf(b, "\nshard  pid      epoch  state     restarts  uptime_s  rx_ring  tx_ring  "
		  "rx_segs     rst_sent    drops\n");
	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct porter_slot *slot = &g->slots[s];
		const struct porter_shard *sh = p->shards[s];

		sb_printf(b, "%-6u %-8d %-6" PRIu64 " %-9s %-9u %-9.1f %-8u %-8u %-11" PRIu64
			  " %-11" PRIu64 " %" PRIu64 "\n",
			  s, slot->pid, slot->epoch, porter_slot_state_name(slot->state), slot->restarts,
			  slot->state == SLOT_READY ? (now - slot->ready_ms) / 1000.0 : 0.0,
			  v.shard[s].rx_depth, v.shard[s].tx_depth, sh->wstats.rx_segments,
			  sh->wstats.rst_sent, v.shard[s].drops);
	}
	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct porter_shard *sh = p->shards[s];
		const struct porter_slot *slot = &g->slots[s];

		const struct sup_worker *w = &p->sup[s];
		const struct sup_standby *sb = &w->sb;

		sb_printf(b, "shard %u: version \"%.*s\" (%s), lcore %u, last restart gap %.3f ms, "
			  "last swap gap %.3f ms (%s), drops: ring_full=%" PRIu64, s, PORTER_VERSION_LEN,
			  slot->state == SLOT_READY ? slot->version : "", w->running,
			  slot->lcore_id, slot->last_restart_gap_us / 1000.0,
			  slot->swap_gap_us / 1000.0,
			  w->takeover == TAKEOVER_STANDBY ? "standby took over" : "cold start",
			  sh->pstats.ring_full);
		for (unsigned int r = 1; r < WDROP__COUNT; r++)
			sb_printf(b, " %s=%" PRIu64, porter_wdrop_name(r), sh->wstats.drops[r]);
		sb_printf(b, "\n");
		if (!p->cfg->workers.standby)
			sb_printf(b, "  standby: off (workers.standby = false)\n");
		else if (sb->pid)
			sb_printf(b, "  standby: pid %d %s%s%.*s%s (%s); started %u, failed %u, took over %u\n",
				  sb->pid, supervisor_sb_state_name(sb->state),
				  sb->state == SB_READY ? ", \"" : "", PORTER_VERSION_LEN,
				  sb->state == SB_READY ? sb->version : "", sb->state == SB_READY ? "\"" : "",
				  sb->binary, sb->starts, sb->failures, sb->takeovers);
		else
			sb_printf(b, "  standby: none; started %u, failed %u, took over %u%s%s\n", sb->starts,
				  sb->failures, sb->takeovers, sb->last_error[0] ? "; last failure: " : "",
				  sb->last_error);
		if (w->swap.phase != SWAP_NONE)
			sb_printf(b, "  swap to %s under way (%s)\n", w->swap.target,
				  swap_phase_name(w->swap.phase));
		else if (w->swap_msg[0])
			sb_printf(b, "  last swap: %s\n", w->swap_msg);
		const struct tcp_area *a = shard_tcp_area(sh);

		if (a == NULL)
			continue;
		sb_printf(b, "  tcp: %u streams of %u, %u half-open;", a->live, a->max_streams,
			  a->half_open);
		if (a->tw_reclaimed)
			sb_printf(b, " time_wait_reclaimed=%" PRIu64, a->tw_reclaimed);
		if (a->client_table_size)
			sb_printf(b, " client_table=%u/%u client_evictions=%" PRIu64 " client_untracked=%" PRIu64,
				  a->client_table_used, a->client_table_size, a->client_evictions, a->client_untracked);
		if (a->repaired || a->reset_on_recovery || a->inconsistent)
			sb_printf(b, " repaired=%" PRIu64 " reset_on_recovery=%" PRIu64 " inconsistent=%" PRIu64,
				  a->repaired, a->reset_on_recovery, a->inconsistent);
		for (unsigned int e = 0; e < TEV__COUNT; e++)
			if (a->events[e])
				sb_printf(b, " %s=%" PRIu64, tcp_event_name(e), a->events[e]);
		if (a->ecn_ce_received || a->ecn_reductions)
			sb_printf(b, " ecn_ce_received=%" PRIu64 " ecn_window_reductions=%" PRIu64,
				  a->ecn_ce_received, a->ecn_reductions);
		for (unsigned int k = 0; k < TMORE__COUNT; k++)
			if (sh->tcp_more[k])
				sb_printf(b, " %s=%" PRIu64, tcp_more_name(k), sh->tcp_more[k]);
		sb_printf(b, "\n  tcp drops:");
		bool any = false;
		for (unsigned int r = 1; r < TDROP__COUNT; r++)
			if (tcp_area_drop(a, r)) {
				sb_printf(b, " %s=%" PRIu64, tcp_drop_name(r), tcp_area_drop(a, r));
				any = true;
			}
		sb_printf(b, "%s\n", any ? "" : " none");
		const struct http_area *h = (const struct http_area *)((const char *)sh + sh->http_off);

		if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != HTTP_AREA_MAGIC)
			continue;
		sb_printf(b, "  http: %u sessions of %u, config generation %" PRIu64 ";", h->active,
			  h->max_sessions, h->gen);
		for (unsigned int i = 0; i < HC__COUNT; i++)
			if (h->counts[i])
				sb_printf(b, " %s=%" PRIu64, proxy_count_name(i), h->counts[i]);
		sb_printf(b, "\n");
		const struct tls_area *ta = shard_tls_area(sh);

		if (ta == NULL)
			continue;
		sb_printf(b, "  tls: %u sessions of %u;", tls_sessions_used(ta), ta->max_slots);
#define X(f, hlp) if (ta->f) sb_printf(b, " " #f "=%" PRIu64, ta->f);
		TLS_AREA_COUNTERS(X)
#undef X
		sb_printf(b, "\n");
	}
}

static void reply_error(struct sbuf *b, bool json, const char *msg)
{
	if (json) {
		sb_printf(b, "{\"ok\":false,\"error\":\"");
		sb_json_str(b, msg);
		sb_printf(b, "\"}\n");
	} else
		sb_printf(b, "error: %s\n", msg);
}

static void handle_line(struct primary *p, char *line, struct sbuf *b)
{
	char *argv[8];
	int argc = 0;
	bool json = false;
	char *save = NULL;

	for (char *t = strtok_r(line, " \t\r\n", &save); t && argc < 8; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (strcmp(t, "--json") == 0)
			json = true;
		else
			argv[argc++] = t;
	}
	if (argc == 0) {
		reply_error(b, json, "empty command");
	} else if (strcmp(argv[0], "status") == 0) {
		if (json)
			control_status_json(p, b);
		else
			status_text(p, b);
	} else if (strcmp(argv[0], "reload") == 0) {
		char msg[PORTER_CFG_ERR_LEN + 128];

		if (argc != 1)
			reply_error(b, json, "usage: reload");
		else if (proxy_reload(p, msg, sizeof(msg)) < 0)
			reply_error(b, json, msg);
		else if (json) {
			sb_printf(b, "{\"ok\":true,\"generation\":%lu,\"message\":\"",
				  (unsigned long)p->proxy->generation);
			sb_json_str(b, msg);
			sb_printf(b, "\"}\n");
		} else {
			sb_printf(b, "ok\n%s\n", msg);
		}
	} else if (strcmp(argv[0], "restart") == 0) {
		char err[128];
		char *end;
		unsigned long s = argc == 2 ? strtoul(argv[1], &end, 10) : 0;

		if (argc != 2 || *end || argv[1][0] == '\0') {
			reply_error(b, json, "usage: restart SHARD");
		} else if (s >= p->nshards) {
			snprintf(err, sizeof(err), "no shard %lu (the gateway has %u)", s, p->nshards);
			reply_error(b, json, err);
		} else if (supervisor_restart(p, (unsigned int)s, err, sizeof(err)) < 0) {
			reply_error(b, json, err);
		} else if (json) {
			sb_printf(b, "{\"ok\":true,\"shard\":%lu,\"old_pid\":%d}\n", s, p->g->slots[s].pid);
		} else {
			sb_printf(b, "ok\nshard %lu: restarting\n", s);
		}
	} else if (strcmp(argv[0], "upgrade") == 0) {
		char err[PORTER_CFG_PATH_LEN + 128];
		char *end = NULL;
		long s = argc == 3 ? strtol(argv[2], &end, 10) : -1;

		if (argc < 2 || argc > 3 || (argc == 3 && (*end || s < 0)))
			reply_error(b, json, "usage: upgrade BINARY [SHARD]");
		else if (supervisor_upgrade(p, argv[1], (int)s, err, sizeof(err)) < 0)
			reply_error(b, json, err);
		else if (json)
			sb_printf(b, "{\"ok\":true,\"upgrade\":\"running\"}\n");
		else
			sb_printf(b, "ok\nupgrade to %s started\n", p->up.path);
	} else if (strcmp(argv[0], "streams") == 0) {
		char err[256];

		if (streams_list(p, b, json, argc - 1, argv + 1, err, sizeof(err)) < 0)
			reply_error(b, json, err);
	} else if (strcmp(argv[0], "servers") == 0) {
		if (json) {
			sb_printf(b, "{\"ok\":true,");
			servers_json(p, b);
			sb_printf(b, "}\n");
		} else {
			sb_printf(b, "ok\n");
			servers_text(p, b);
		}
	} else if (strcmp(argv[0], "server") == 0) {
		char err[256];

		if (argc != 3)
			reply_error(b, json, "usage: server enable|disable|drain UPSTREAM/ADDRESS:PORT");
		else if (servers_set_admin(p, argv[2], argv[1], err, sizeof(err)) < 0)
			reply_error(b, json, err);
		else if (json)
			sb_printf(b, "{\"ok\":true}\n");
		else
			sb_printf(b, "ok\nserver %s: %s\n", argv[2], argv[1]);
	} else if (strcmp(argv[0], "drain") == 0 || strcmp(argv[0], "stop") == 0) {
		bool graceful = argv[0][0] == 'd';

		if (argc != 1) {
			reply_error(b, json, graceful ? "usage: drain" : "usage: stop");
		} else {
			p->stop_request = graceful ? STOP_GRACEFUL : STOP_FAST;
			if (json)
				sb_printf(b, "{\"ok\":true,\"stopping\":\"%s\"}\n", graceful ? "graceful" : "fast");
			else
				sb_printf(b, "ok\n%s\n", graceful ? "stopping gracefully (drain)" : "stopping");
		}
	} else {
		reply_error(b, json, "unknown command (status, streams, servers, server, restart, upgrade, reload, drain, stop)");
	}
}

int control_init(struct primary *p)
{
	const char *path = p->cfg->control.socket;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_DATA(EV_CTL_LISTEN, 0) };
	char dir[PORTER_CFG_PATH_LEN];
	int fd;

	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++)
		p->clients[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		LOG(ERR, "%s: control.socket: path longer than %zu bytes", p->cfg->path,
		    sizeof(sa.sun_path) - 1);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	if (strrchr(dir, '/') && strrchr(dir, '/') != dir) {
		*strrchr(dir, '/') = '\0';
		mkdir(dir, 0700);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* a live gateway answers on the socket; a stale file does not */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN) {
		LOG(ERR, "control.socket %s: another porter is listening there", path);
		close(fd);
		return -1;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));

	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		LOG(ERR, "control.socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -1;
	}
	p->ctl_fd = fd;
	return 0;
}

static void client_close(struct primary *p, unsigned int i)
{
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->clients[i].fd, NULL);
	close(p->clients[i].fd);
	p->clients[i].fd = -1;
	p->clients[i].len = 0;
}

void control_on_listen(struct primary *p)
{
	for (;;) {
		int fd = accept4(p->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		unsigned int i;

		if (fd < 0)
			return;
		for (i = 0; i < CTL_MAX_CLIENTS && p->clients[i].fd >= 0; i++)
			;
		if (i == CTL_MAX_CLIENTS) {
			static const char busy[] = "error: too many control clients\n";

			(void)!write(fd, busy, sizeof(busy) - 1);
			close(fd);
			continue;
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_DATA(EV_CTL_CLIENT, i) };

		p->clients[i].fd = fd;
		p->clients[i].len = 0;
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			client_close(p, i);
	}
}

void control_on_client(struct primary *p, unsigned int i)
{
	struct ctl_client *c = &p->clients[i];
	struct sbuf b = { 0 };
	ssize_t n;
	char *nl;

	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		client_close(p, i);
		return;
	}
	c->len += n;
	c->buf[c->len] = '\0';
	nl = strchr(c->buf, '\n');
	if (nl == NULL) {
		if (c->len < sizeof(c->buf) - 1)
			return;   /* wait for the rest of the line */
		sb_printf(&b, "error: request line too long\n");
	} else {
		*nl = '\0';
		handle_line(p, c->buf, &b);
	}
	if (!b.oom && b.len) {
		/* replies are small next to the socket buffer; make the write blocking
		 * with a short timeout rather than keep per-client output state */
		struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
		size_t off = 0;

		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		while (off < b.len) {
			ssize_t w = write(c->fd, b.p + off, b.len - off);

			if (w <= 0)
				break;
			off += w;
		}
	}
	free(b.p);
	client_close(p, i);
}

void control_close(struct primary *p)
{
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (p->clients[i].fd >= 0)
			client_close(p, i);
	if (p->ctl_fd >= 0) {
		close(p->ctl_fd);
		unlink(p->cfg->control.socket);
		p->ctl_fd = -1;
	}
}
