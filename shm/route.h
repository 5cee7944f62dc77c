/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outbound routing: which port a packet to a destination leaves by, and the
 * next hop whose MAC it is sent to. One rule, used by both processes:
 *   - the worker, when it opens a connection (tcp_connect: the stream's port
 *     and source address), for upstream requests, health checks and tcp
 *     pass-through alike;
 *   - the primary, when it sends a frame (neigh_output): the port is fixed by
 *     the stream that made the frame, the rule then gives the next hop.
 *
 * The rule, first match wins:
 *   1. connected: the destination is inside a port's subnet -> that port,
 *      next hop = the destination (longest prefix among the ports; equal
 *      prefixes: the lower port index);
 *   2. static routes (config `static_routes`): the longest `to` prefix that
 *      holds the destination (equal prefixes: the first in the file) ->
 *      the port whose subnet holds `via`, next hop = `via`;
 *   3. default: the first port (in config order) that has a `gateway` ->
 *      that port, next hop = the gateway;
 *   otherwise there is no route.
 * With ONLY_PORT set, the same rule runs over the routes of that port only
 * (its subnet, the static routes via it, its gateway). For a destination the
 * unrestricted rule sent out of port P, the rule restricted to P gives the
 * same next hop.
 *
 * Pure C over the shared tables (porter-shm-t.h): no DPDK, no state.
 */
#ifndef PORTER_SHM_ROUTE_H
#define PORTER_SHM_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/porter-shm-t.h"

#define PORTER_ROUTE_ANY_PORT (-1)

/* How a destination was routed (porter_route_kind_name()). */
enum porter_route_kind {
	PORTER_RT_CONNECTED = 1,        /* rule 1 */
	PORTER_RT_STATIC,               /* rule 2 */
	PORTER_RT_GATEWAY,              /* rule 3 */
};

struct porter_hop {
	unsigned int port;              /* index into the ports array */
	uint32_t next_hop;              /* host order */
	enum porter_route_kind kind;
};

static inline uint32_t porter_prefix_mask(unsigned int len)
{
	return len == 0 ? 0 : ~(uint32_t)0 << (32 - (len > 32 ? 32 : len));
}

/* DST (host order) is inside the subnet of PORT. */
static inline bool porter_port_on_link(const struct porter_port_info *port, uint32_t dst)
{
	uint32_t mask = porter_prefix_mask(port->prefix_len);

	return (dst & mask) == (port->ipv4 & mask);
}

/*
 * Route DST (host order) over the NPORTS ports and the static routes RT
 * (NULL = none). ONLY_PORT: PORTER_ROUTE_ANY_PORT, or a port index to
 * restrict the choice to. Returns 0 with *OUT filled, or -ENETUNREACH.
 */
int porter_route_lookup(const struct porter_port_info *ports, unsigned int nports,
			const struct porter_route_table *rt, uint32_t dst, int only_port,
			struct porter_hop *out);

const char *porter_route_kind_name(enum porter_route_kind k);

#endif
