/* SPDX-License-Identifier: BSD-3-Clause */
/* Outbound routing: the rule of shm/route.h. */
#include <errno.h>
#include <stddef.h>

#include "shm/route.h"

int porter_route_lookup(const struct porter_port_info *ports, unsigned int nports,
			const struct porter_route_table *rt, uint32_t dst, int only_port,
			struct porter_hop *out)
{
	int best = -1;

	if (nports > PORTER_MAX_PORTS)
		nports = PORTER_MAX_PORTS;
	if (only_port >= (int)nports)
		return -ENETUNREACH;

	/* 1. connected subnets, longest prefix */
	for (unsigned int i = 0; i < nports; i++) {
		if (only_port >= 0 && (unsigned int)only_port != i)
			continue;
		if (ports[i].ipv4 == 0 || !porter_port_on_link(&ports[i], dst))
			continue;
		if (best < 0 || ports[i].prefix_len > ports[best].prefix_len)
			best = (int)i;
	}
	if (best >= 0) {
		*out = (struct porter_hop){ .port = (unsigned int)best, .next_hop = dst,
					    .kind = PORTER_RT_CONNECTED };
		return 0;
	}

	/* 2. static routes, longest prefix; the next hop must still be on the
	 * port's link (the primary checked it; a worker of a newer layout may
	 * read a table it did not write) */
	if (rt != NULL) {
		unsigned int n = rt->count < PORTER_MAX_ROUTES ? rt->count : PORTER_MAX_ROUTES;

		for (unsigned int i = 0; i < n; i++) {
			const struct porter_route *r = &rt->r[i];

			if (r->port >= nports || (only_port >= 0 && r->port != (unsigned int)only_port))
				continue;
			if ((dst & porter_prefix_mask(r->prefix_len)) != r->dst)
				continue;
			if (!porter_port_on_link(&ports[r->port], r->via))
				continue;
			if (best < 0 || r->prefix_len > rt->r[best].prefix_len)
				best = (int)i;
		}
		if (best >= 0) {
			*out = (struct porter_hop){ .port = rt->r[best].port, .next_hop = rt->r[best].via,
						    .kind = PORTER_RT_STATIC };
			return 0;
		}
	}

	/* 3. the first port with a gateway */
	for (unsigned int i = 0; i < nports; i++) {
		if (only_port >= 0 && (unsigned int)only_port != i)
			continue;
		if (ports[i].gateway != 0) {
			*out = (struct porter_hop){ .port = i, .next_hop = ports[i].gateway,
						    .kind = PORTER_RT_GATEWAY };
			return 0;
		}
	}
	return -ENETUNREACH;
}

const char *porter_route_kind_name(enum porter_route_kind k)
{
	switch (k) {
	case PORTER_RT_CONNECTED: return "connected";
	case PORTER_RT_STATIC:    return "static";
	case PORTER_RT_GATEWAY:   return "gateway";
	default:                  return "?";
	}
}
