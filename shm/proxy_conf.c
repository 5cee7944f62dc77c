/* SPDX-License-Identifier: BSD-3-Clause */
/* The reloadable part of a configuration as the workers read it (shm/proxy-t.h). */
#include <string.h>

#include "shm/proxy-t.h"
#include "shm/proxy_conf.h"

void proxy_conf_fill(struct porter_proxy_conf *c, const struct porter_config *cfg, uint64_t generation)
{
	memset(c, 0, sizeof(*c));
	c->upstream_count = cfg->upstream_count;
	c->route_count = cfg->route_count;
	c->http = cfg->http;
	memcpy(c->upstreams, cfg->upstreams, sizeof(c->upstreams));
	memcpy(c->routes, cfg->routes, sizeof(c->routes));
	c->client_limits = cfg->client_limits;
	c->no_request_id = !cfg->http_request_id;
	c->generation = generation;
}
