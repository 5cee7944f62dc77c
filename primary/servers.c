/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Upstream servers as the gateway's objects (docs/OPERATIONS.md "Upstream
 * servers"): what every shard's proxy area says of a server, summed
 * (porterctl servers, /status.json, /metrics), and the operator's state of
 * each (porterctl server drain|disable|enable; porter_global.srv_admin),
 * kept across reloads by upstream name and address.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "primary/primary.h"
#include "primary/sbuf.h"
#include "shm/http-t.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)

static const char *const admin_names[] = { "enabled", "drain", "disabled" };
static const char *const hc_names[] = { [HC_R_NONE] = "none", [HC_R_OK] = "ok", [HC_R_STATUS] = "bad status",
					[HC_R_CLOSED] = "closed or refused", [HC_R_TIMEOUT] = "timeout",
					[HC_R_NO_ROUTE] = "no route" };

void servers_view(const struct primary *p, uint32_t slot, uint64_t gen, struct server_view *v)
{
	uint32_t now = (uint32_t)now_ms();
	/* the shard that checks it for the gateway (proxy.c health_owner) */
	const struct http_area *owner = p->nshards ? shard_http_area(p->shards[slot % p->nshards]) : NULL;

	memset(v, 0, sizeof(*v));
	v->admin = p->g->srv_admin[slot] <= PORTER_SRV_DISABLED ? p->g->srv_admin[slot] : 0;
	v->hc_age_ms = -1;
	if (owner && owner->gen == gen) {
		const struct http_srv *o = &owner->srv[slot];

		v->checked = true;
		v->hc_down = o->hc_down;
		v->hc_last = o->hc_last < sizeof(hc_names) / sizeof(hc_names[0]) ? o->hc_last : HC_R_NONE;
		if (v->hc_last != HC_R_NONE)
			v->hc_age_ms = (int32_t)(now - o->hc_last_ms);
	}
	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct http_area *a = shard_http_area(p->shards[s]);
		const struct http_srv *sv;
		bool passive;

		if (a == NULL || a->gen != gen)
			continue;
		sv = &a->srv[slot];
		passive = sv->down_until_ms != 0 && (int32_t)(now - sv->down_until_ms) < 0;
		v->shards++;
		v->passive_down += passive;
		v->shards_up += !v->hc_down && !passive && v->admin == PORTER_SRV_ENABLED;
		v->active += sv->active;
		v->idle += sv->pool_count;
		v->requests += sv->requests;
		v->failures += sv->failures;
	}
}

void servers_name(const struct porter_cfg_server *sv, char out[24])
{
	snprintf(out, 24, "%u.%u.%u.%u:%u", sv->ipv4 >> 24, (sv->ipv4 >> 16) & 0xff, (sv->ipv4 >> 8) & 0xff,
		 sv->ipv4 & 0xff, sv->port);
}

void servers_json(struct primary *p, struct sbuf *b)
{
	const struct porter_proxy_conf *cf = proxy_conf_now(p);
	bool first = true;

	sb_printf(b, "\"servers\":[");
	for (uint32_t u = 0; u < cf->upstream_count; u++)
		for (uint32_t j = 0; j < cf->upstreams[u].server_count; j++) {
			struct server_view v;
			char sn[24];

			servers_view(p, u * PORTER_CFG_MAX_SERVERS + j, cf->generation, &v);
			servers_name(&cf->upstreams[u].servers[j], sn);
			sb_printf(b, "%s{\"upstream\":\"", SEP(first));
			sb_json_str(b, cf->upstreams[u].name);
			sb_printf(b, "\",\"server\":\"%s\",\"up\":%s,\"shards_up\":%u,\"shards\":%u,\"active\":%" PRIu64
				  ",\"idle\":%" PRIu64 ",\"requests\":%" PRIu64 ",\"failures\":%" PRIu64
				  ",\"admin\":\"%s\",\"checks\":%s,\"checked_by_shard\":%u,\"check_down\":%s,"
				  "\"last_check\":\"%s\",\"last_check_age_ms\":%" PRId64 ",\"passive_down_shards\":%u}", sn,
				  v.shards && v.shards_up == v.shards ? "true" : "false", v.shards_up, v.shards, v.active,
				  v.idle, v.requests, v.failures, admin_names[v.admin],
				  cf->upstreams[u].health_enabled ? "true" : "false", p->nshards ? (u * PORTER_CFG_MAX_SERVERS + j) % p->nshards : 0,
				  v.hc_down ? "true" : "false", hc_names[v.hc_last], v.hc_age_ms, v.passive_down);
			first = false;
		}
	sb_printf(b, "]");
}

void servers_text(struct primary *p, struct sbuf *b)
{
	const struct porter_proxy_conf *cf = proxy_conf_now(p);

	sb_printf(b, "%-16s %-21s %-8s %-5s %-24s %6s %6s %10s %9s\n", "upstream", "server", "admin", "up",
		  "last check", "active", "idle", "requests", "failures");
	for (uint32_t u = 0; u < cf->upstream_count; u++)
		for (uint32_t j = 0; j < cf->upstreams[u].server_count; j++) {
			struct server_view v;
			char sn[24], chk[48];

			servers_view(p, u * PORTER_CFG_MAX_SERVERS + j, cf->generation, &v);
			servers_name(&cf->upstreams[u].servers[j], sn);
			if (!cf->upstreams[u].health_enabled)
				snprintf(chk, sizeof(chk), "checks off");
			else if (v.hc_age_ms < 0)
				snprintf(chk, sizeof(chk), "none yet");
			else
				snprintf(chk, sizeof(chk), "%s, %" PRId64 " ms ago", hc_names[v.hc_last], v.hc_age_ms);
			sb_printf(b, "%-16s %-21s %-8s %-5s %-24s %6" PRIu64 " %6" PRIu64 " %10" PRIu64 " %9" PRIu64 "%s\n",
				  cf->upstreams[u].name, sn, admin_names[v.admin],
				  v.shards && v.shards_up == v.shards ? "yes" : "no", chk, v.active, v.idle, v.requests,
				  v.failures, v.passive_down ? "  (failures seen in traffic: out in some shards)" : "");
		}
}

int servers_set_admin(struct primary *p, const char *target, const char *state, char *err, size_t len)
{
	const struct porter_proxy_conf *cf = proxy_conf_now(p);
	const char *slash = strchr(target, '/');
	unsigned int want;

	if (strcmp(state, "enable") == 0)
		want = PORTER_SRV_ENABLED;
	else if (strcmp(state, "drain") == 0)
		want = PORTER_SRV_DRAIN;
	else if (strcmp(state, "disable") == 0)
		want = PORTER_SRV_DISABLED;
	else {
		snprintf(err, len, "usage: server enable|disable|drain UPSTREAM/ADDRESS:PORT");
		return -1;
	}
	if (slash == NULL) {
		snprintf(err, len, "%s: expected UPSTREAM/ADDRESS:PORT", target);
		return -1;
	}
	for (uint32_t u = 0; u < cf->upstream_count; u++) {
		if (strlen(cf->upstreams[u].name) != (size_t)(slash - target) ||
		    strncmp(cf->upstreams[u].name, target, (size_t)(slash - target)) != 0)
			continue;
		for (uint32_t j = 0; j < cf->upstreams[u].server_count; j++) {
			char sn[24];

			servers_name(&cf->upstreams[u].servers[j], sn);
			if (strcmp(sn, slash + 1) == 0) {
				__atomic_store_n(&p->g->srv_admin[u * PORTER_CFG_MAX_SERVERS + j], (uint8_t)want,
						 __ATOMIC_RELEASE);
				LOG(NOTICE, "server %s: %s", target, admin_names[want]);
				return 0;
			}
		}
		snprintf(err, len, "upstream %.*s has no server %s", (int)(slash - target), target, slash + 1);
		return -1;
	}
	snprintf(err, len, "no upstream %.*s", (int)(slash - target), target);
	return -1;
}

void servers_remap(struct primary *p, const struct porter_proxy_conf *from, const struct porter_proxy_conf *to)
{
	uint8_t next[PORTER_SRV_SLOTS] = { 0 };

	for (uint32_t u = 0; u < to->upstream_count; u++)
		for (uint32_t j = 0; j < to->upstreams[u].server_count; j++)
			for (uint32_t a = 0; a < from->upstream_count; a++) {
				if (strcmp(from->upstreams[a].name, to->upstreams[u].name) != 0)
					continue;
				for (uint32_t k = 0; k < from->upstreams[a].server_count; k++)
					if (from->upstreams[a].servers[k].ipv4 == to->upstreams[u].servers[j].ipv4 &&
					    from->upstreams[a].servers[k].port == to->upstreams[u].servers[j].port)
						next[u * PORTER_CFG_MAX_SERVERS + j] =
							p->g->srv_admin[a * PORTER_CFG_MAX_SERVERS + k];
			}
	for (uint32_t i = 0; i < PORTER_SRV_SLOTS; i++)
		__atomic_store_n(&p->g->srv_admin[i], next[i], __ATOMIC_RELEASE);
}
