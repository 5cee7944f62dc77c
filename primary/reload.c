/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porterctl reload / SIGHUP: read the config file again and publish its
 * routes, upstreams and http settings, and its TLS listeners' settings, to
 * the workers without restarting anything (DESIGN §7). A file that does not
 * load, or that changes settings a reload cannot apply, is refused and the
 * running configuration stays; porter_config_load() reads and checks every
 * certificate and key file (config_tls.c), so a reload whose TLS files are
 * bad is refused here, before anything is published.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "primary/primary.h"
#include "shm/tls_pub_conf.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)

int proxy_reload(struct primary *p, char *msg, size_t len)
{
	struct porter_config *nc = calloc(1, sizeof(*nc));
	struct porter_proxy *x = p->proxy;
	char err[PORTER_CFG_ERR_LEN];
	uint32_t next;
	uint64_t gen;

	if (nc == NULL) {
		snprintf(msg, len, "reload: out of memory");
		return -1;
	}
	if (porter_config_load(p->cfg->path, nc, err, sizeof(err)) < 0 ||
	    porter_config_check_reload(p->cfg, nc, err, sizeof(err)) < 0) {
		snprintf(msg, len, "reload refused, the running configuration stays: %s", err);
		LOG(ERR, "%s", msg);
		x->reloads_refused++;
		free(nc);
		return -1;
	}
	/* the copy no worker reads (the other one is published) */
	next = !(x->active & 1);
	gen = x->generation + 1;
	proxy_conf_fill(&x->conf[next], nc, gen);
	/* tcp listeners name their upstream; its index may have moved */
	for (unsigned int i = 0; i < nc->listener_count && i < PORTER_MAX_LISTENERS; i++)
		if (nc->listeners[i].service == PORTER_SVC_TCP)
			__atomic_store_n(&p->g->listeners[i].arg, (uint64_t)nc->listeners[i].upstream,
					 __ATOMIC_RELEASE);
	/* the operator's server states follow the servers (by upstream and address), and change
	 * before the new table is published: no request is routed by a stale state */
	servers_remap(p, &x->conf[!next], &x->conf[next]);
	/* the TLS settings of the same generation go first: a worker that sees proxy generation
	 * GEN finds TLS generation GEN published (it rebuilds its contexts when it sees it) */
	tls_pub_publish(p->tls, nc, gen);
	__atomic_store_n(&x->active, next, __ATOMIC_RELEASE);
	__atomic_store_n(&x->generation, gen, __ATOMIC_RELEASE);
	x->reloads++;
	snprintf(msg, len, "reloaded %s: generation %lu, %u routes, %u upstreams", p->cfg->path,
		 (unsigned long)gen, nc->route_count, nc->upstream_count);
	LOG(NOTICE, "%s", msg);
	free(nc);
	return 0;
}
