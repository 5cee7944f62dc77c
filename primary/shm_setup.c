/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Creation of every shared object, once, at start-up (DESIGN §3.7): a
 * secondary killed inside its own EAL init can leave an EAL lock held, after
 * which any memzone/ring/mempool creation would deadlock the gateway.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include "primary/primary.h"
#include "shm/proxy_conf.h"
#include "shm/http-t.h"  /* size of the proxy area the primary reserves (types only) */
#include "shm/tcp-t.h"     /* sizes of the TCP area the primary reserves (types only) */
#include "shm/tls-area-t.h" /* the TLS area: laid out here, before any worker */
#include "shm/proxy-t.h"
#include "shm/tls-pub-t.h"
#include "shm/tls_pub_conf.h"
#include "shm/hash.h"
#include "shm/names.h"
#include "shm/rate.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)

static void *mz_create(const char *name, size_t size)
{
	const struct rte_memzone *mz;

	mz = rte_memzone_reserve_aligned(name, size, SOCKET_ID_ANY, RTE_MEMZONE_SIZE_HINT_ONLY,
					 RTE_CACHE_LINE_SIZE);
	if (mz == NULL) {
		LOG(ERR, "memzone %s (%zu bytes): %s", name, size, rte_strerror(rte_errno));
		return NULL;
	}
	memset(mz->addr, 0, size);
	return mz->addr;
}

/* Workers do not read the config: what they need is copied here. */
static void fill_tcp(const struct porter_config *cfg, struct porter_global *g)
{
	const struct porter_cfg_tcp *c = &cfg->tcp;
	struct porter_tcp_params *t = &g->tcp;

	t->max_streams = c->max_streams_per_shard;
	t->syn_backlog = c->syn_backlog;
	t->cc = strcmp(c->cc, "newreno") == 0 ? TCP_CC_NEWRENO : TCP_CC_CUBIC;
	t->nodelay = c->nodelay;
	t->sack = c->sack;
	t->timestamps = c->timestamps;
	t->window_scaling = c->window_scaling;
	t->syncookies = c->syncookies;
	t->ecn = (uint8_t)c->ecn;
	t->mtu_probing = (uint8_t)c->mtu_probing;
	t->base_mss = (uint16_t)c->base_mss;
	t->pacing = c->pacing;
	t->keepalive = c->keepalive;
	t->rcv_buf = c->rcv_buf;
	t->snd_buf = c->snd_buf;
	t->delack_ms = c->delack_ms;
	t->delack_short_ms = c->delack_short_ms;
	t->rto_initial_ms = c->rto_initial_ms;
	t->rto_min_ms = c->rto_min_ms;
	t->rto_max_ms = c->rto_max_ms;
	t->max_retries = c->max_retries;
	t->syn_retries = c->syn_retries;
	t->time_wait_ms = c->time_wait_ms;
	t->fin_wait2_ms = c->fin_wait2_ms;
	t->keepalive_idle_s = c->keepalive_idle_s;
	t->keepalive_interval_s = c->keepalive_interval_s;
	t->keepalive_count = c->keepalive_count;
	t->challenge_ack_limit = c->challenge_ack_limit;
	t->ephemeral_lo = c->ephemeral_lo;
	t->ephemeral_hi = c->ephemeral_hi;
	t->client_table = cfg->client_limits.table_size;   /* the limits themselves: the proxy conf (reloadable) */
	for (unsigned int i = 0; i < cfg->listener_count && i < PORTER_MAX_LISTENERS; i++) {
		const struct porter_cfg_listener *l = &cfg->listeners[i];

		g->listeners[i].port = l->port;
		g->listeners[i].no_climit = !l->client_limits;
		g->listeners[i].rate = porter_rate16(l->rate_limit);
		g->listeners[i].tls = l->tls;   /* its settings: the porter_tls region (create_tls) */
		switch (l->service) {
		case PORTER_SVC_ECHO:
			g->listeners[i].app = TAPP_ECHO;
			break;
		case PORTER_SVC_DISCARD:
			g->listeners[i].app = TAPP_DISCARD;
			break;
		case PORTER_SVC_HTTP:
			g->listeners[i].app = TAPP_HTTP;
			break;
		case PORTER_SVC_TCP:
			g->listeners[i].app = TAPP_SPLICE;
			break;
		default:
			g->listeners[i].app = TAPP_SOURCE;
			break;
		}
		g->listeners[i].arg = l->service == PORTER_SVC_TCP ? (uint64_t)l->upstream : l->bytes;
	}
}

_Static_assert(PORTER_CFG_MAX_STATIC_ROUTES <= PORTER_MAX_ROUTES, "every configured static route fits in shm");

/* The static routes, in file order (the port index is the config's, as in ports[]). */
static void fill_routes(const struct porter_config *cfg, struct porter_route_table *rt)
{
	for (unsigned int i = 0; i < cfg->static_route_count && i < PORTER_MAX_ROUTES; i++) {
		const struct porter_cfg_static_route *c = &cfg->static_routes[i];

		rt->r[i].dst = c->dst;
		rt->r[i].prefix_len = c->prefix_len;
		rt->r[i].via = c->via;
		rt->r[i].port = c->port;
	}
	rt->count = cfg->static_route_count < PORTER_MAX_ROUTES ? cfg->static_route_count : PORTER_MAX_ROUTES;
}

static int create_global(struct primary *p)
{
	const struct porter_config *cfg = p->cfg;
	struct porter_global *g;

	g = mz_create(PORTER_MZ_GLOBAL, sizeof(*g));
	if (g == NULL)
		return -1;
	g->shard_count = p->nshards;
	g->port_count = cfg->port_count;
	g->primary_pid = getpid();
	g->primary_lcore = cfg->eal.lcore_base;
	g->started_ms = now_ms();
	g->ring_size = cfg->dataplane.ring_size;
	memcpy(g->rss_key, porter_rss_key, PORTER_RSS_KEY_LEN);
	porter_toeplitz_init(&p->flow_hash, g->rss_key);
	porter_reta_fill(g->reta, PORTER_RETA_SIZE, p->nshards);
	for (unsigned int s = 0; s < PORTER_MAX_SHARDS; s++)
		g->slots[s].lcore_id = cfg->eal.lcore_base + 1 + s;
	/* ports[] is filled by ports_init once the devices exist */
	fill_tcp(cfg, g);
	fill_routes(cfg, &g->routes);
	porter_shm_hdr_init(&g->hdr, PORTER_REGION_GLOBAL, sizeof(*g));
	p->g = g;
	return 0;
}

/* struct porter_shard.owner: robust (the kernel frees it when its holder dies) and process-shared. */
static int owner_lock_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t at;
	int rc = pthread_mutexattr_init(&at);

	if (rc == 0)
		rc = pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
	if (rc == 0)
		rc = pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
	if (rc == 0)
		rc = pthread_mutex_init(m, &at);
	pthread_mutexattr_destroy(&at);
	return rc;
}

static int create_shard(struct primary *p, unsigned int s)
{
	char name[PORTER_NAME_LEN];
	struct porter_shard *sh;
	unsigned int size = p->cfg->dataplane.ring_size;

	uint64_t tcp_off = (sizeof(*sh) + 63) & ~63ull;
	uint64_t tcp_bytes = tcp_area_bytes(p->cfg->tcp.max_streams_per_shard);
	uint64_t http_off = (tcp_off + tcp_bytes + 63) & ~63ull;
	uint64_t http_bytes = http_area_bytes(p->cfg->http.max_sessions);
	uint64_t tls_off = (http_off + http_bytes + 63) & ~63ull;
	uint32_t tls_slots = 0, ring = tls_ring_bytes_for(p->cfg->http.max_header_bytes);
	uint64_t tls_bytes;

	for (uint32_t i = 0; i < p->cfg->listener_count; i++)
		if (p->cfg->listeners[i].tls)
			tls_slots = p->cfg->tcp.tls_sessions_per_shard;
	if (tls_slots > p->cfg->tcp.max_streams_per_shard)
		tls_slots = p->cfg->tcp.max_streams_per_shard;
	tls_bytes = tls_area_bytes(p->cfg->tcp.max_streams_per_shard, tls_slots, ring);
	if (tls_bytes && tls_off > UINT32_MAX) {
		LOG(ERR, "shard %u: the TLS area would start past 4 GiB into the shard", s);
		return -1;
	}

	porter_name_shard_mz(name, sizeof(name), s);
	/* the worker lays the TCP area out on first attach (it is zero until then) */
	sh = mz_create(name, tls_bytes ? tls_off + tls_bytes : http_off + http_bytes);
	if (sh == NULL)
		return -1;
	sh->shard_id = s;
	sh->tcp_off = (uint32_t)tcp_off;
	sh->tcp_bytes = tcp_bytes;
	sh->http_off = (uint32_t)http_off;
	sh->http_bytes = http_bytes;
	if (tls_bytes) {
		sh->tls_off = (uint32_t)tls_off;
		sh->tls_bytes = tls_bytes;
		tls_area_init((char *)sh + tls_off, p->cfg->tcp.max_streams_per_shard, tls_slots, ring);
	}
	if (owner_lock_init(&sh->owner) != 0) {
		LOG(ERR, "shard %u: owner lock: cannot initialise a robust process-shared mutex", s);
		return -1;
	}
	porter_shm_hdr_init(&sh->hdr, PORTER_REGION_SHARD, sizeof(*sh));
	p->shards[s] = sh;

	/* SP/SC: one producer and one consumer per ring (DESIGN §3.3); a process
	 * killed inside a multi-producer enqueue would wedge the ring. */
	porter_name_rx_ring(name, sizeof(name), s);
	p->rx[s] = rte_ring_create(name, size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	porter_name_tx_ring(name, sizeof(name), s);
	p->tx[s] = rte_ring_create(name, size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (p->rx[s] == NULL || p->tx[s] == NULL) {
		LOG(ERR, "ring for shard %u (size %u): %s", s, size, rte_strerror(rte_errno));
		return -1;
	}

	p->worker_wake_fd[s] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->worker_wake_fd[s] < 0) {
		LOG(ERR, "eventfd for shard %u: %s", s, strerror(errno));
		return -1;
	}
	return 0;
}

static int create_proxy(struct primary *p)
{
	struct porter_proxy *x = mz_create(PORTER_MZ_PROXY, sizeof(*x));

	if (x == NULL)
		return -1;
	proxy_conf_fill(&x->conf[0], p->cfg, 1);
	x->active = 0;
	x->generation = 1;
	porter_shm_hdr_init(&x->hdr, PORTER_REGION_PROXY, sizeof(*x));
	p->proxy = x;
	return 0;
}

/*
 * The TLS listeners' settings (shm/tls-pub-t.h), created whether or not a
 * listener has tls, as every region is: a worker finds the same regions
 * whatever the configuration. Copy 0 is generation 1, as the proxy's.
 */
static int create_tls(struct primary *p)
{
	struct porter_tls_pub *t = mz_create(PORTER_MZ_TLS, sizeof(*t));

	if (t == NULL)
		return -1;
	tls_pub_conf_fill(&t->conf[0], p->cfg, 1);
	if (tickets_init(&t->tickets) < 0)
		return -1;
	t->active = 0;
	t->generation = 1;
	porter_shm_hdr_init(&t->hdr, PORTER_REGION_TLS, sizeof(*t));
	p->tls = t;
	return 0;
}

int shm_create(struct primary *p)
{
	const struct porter_cfg_dataplane *dp = &p->cfg->dataplane;

	if (create_global(p) < 0 || create_proxy(p) < 0 || create_tls(p) < 0)
		return -1;
	for (unsigned int s = 0; s < p->nshards; s++)
		if (create_shard(p, s) < 0)
			return -1;

	p->pool = rte_pktmbuf_pool_create(PORTER_POOL_MBUF, dp->mbufs, dp->mbuf_cache, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (p->pool == NULL) {
		LOG(ERR, "mbuf pool (%u mbufs, cache %u): %s", dp->mbufs, dp->mbuf_cache,
		    rte_strerror(rte_errno));
		return -1;
	}
	p->primary_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->primary_wake_fd < 0) {
		LOG(ERR, "eventfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}
