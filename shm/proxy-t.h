/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The proxy's shared configuration: memzone porter_proxy (types only).
 *
 * The primary creates it at start-up and writes it; workers only read it.
 * It holds two copies of the reloadable part of the configuration (routes,
 * upstreams, http, client_limits): a reload writes the copy that is not active, then
 * publishes it by storing its index in `active` and bumping `generation`
 * (release order). A worker reads `active` (acquire) when it routes a request
 * and keeps the generation in the request's session: a request finishes on
 * the upstream it started with, and per-server state of an older generation
 * is dropped when the worker sees a new one.
 *
 * The copies hold config/config.h's plain-data structs (no pointers, fixed
 * arrays): they are part of this layout; the sizes are asserted below so a
 * change there fails the build until the layout version is bumped.
 */
#ifndef PORTER_PROXY_T_H
#define PORTER_PROXY_T_H

#include <stdint.h>

#include "config/config-t.h"
#include "shm/porter-shm-t.h"

#define PORTER_MZ_PROXY "porter_proxy"

struct porter_proxy_conf {
	uint64_t generation;              /* of this copy */
	uint32_t upstream_count;
	uint32_t route_count;
	struct porter_cfg_http http;
	struct porter_cfg_upstream upstreams[PORTER_CFG_MAX_UPSTREAMS];
	struct porter_cfg_route routes[PORTER_CFG_MAX_ROUTES];
	struct porter_cfg_client_limits client_limits;   /* layout 2.4 (zero from an older primary: no limits) */
	uint8_t no_request_id;            /* layout 2.5: 1 = http.request_id false (zero from an older primary:
	                                     X-Request-Id added) */
	uint8_t reserved[1024 - sizeof(struct porter_cfg_client_limits) - 1];
} PORTER_ALIGNED;

struct porter_proxy {
	struct porter_shm_hdr hdr;
	volatile uint32_t active PORTER_ALIGNED;  /* index of the published copy */
	uint32_t reserved0;
	volatile uint64_t generation;     /* bumped by every publication (1 = the start-up config) */
	uint64_t reloads;                 /* successful reloads */
	uint64_t reloads_refused;
	uint32_t reserved1[8];
	struct porter_proxy_conf conf[2];
} PORTER_ALIGNED;

_Static_assert(sizeof(struct porter_cfg_server) == 12, "config server struct is part of the shm layout");
_Static_assert(sizeof(struct porter_cfg_upstream) == 604, "config upstream struct is part of the shm layout");
_Static_assert(sizeof(struct porter_cfg_http) == 360, "config http struct is part of the shm layout");
_Static_assert(__builtin_offsetof(struct porter_cfg_http, body_timeout_ms) == 12 &&
	       __builtin_offsetof(struct porter_cfg_http, max_body_bytes) == 16 &&
	       __builtin_offsetof(struct porter_cfg_http, body_min_rate) == 356,
	       "layout 2.5: the http body timeout takes the struct's two padding holes");
_Static_assert(sizeof(struct porter_cfg_route) == 284, "config route struct is part of the shm layout");
_Static_assert(sizeof(struct porter_cfg_client_limits) == 32, "config client_limits struct is part of the shm layout");
_Static_assert(__builtin_offsetof(struct porter_proxy_conf, client_limits) ==
	       __builtin_offsetof(struct porter_proxy_conf, routes) + sizeof(struct porter_cfg_route) * PORTER_CFG_MAX_ROUTES,
	       "client_limits takes the start of the old reserved bytes");

#endif
