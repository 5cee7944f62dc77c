/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of shm/route.c: the outbound route rule shared by the worker
 * (tcp_connect) and the primary (neigh_output). Connected subnets first
 * (longest prefix), then static routes (longest prefix, file order on ties),
 * then the first port with a gateway; the same rule restricted to one port.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "shm/route.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct porter_port_info ports[PORTER_MAX_PORTS];
static struct porter_route_table rt;

static void port(unsigned int i, uint32_t ip, uint8_t len, uint32_t gw)
{
	memset(&ports[i], 0, sizeof(ports[i]));
	ports[i].ipv4 = ip;
	ports[i].prefix_len = len;
	ports[i].gateway = gw;
	ports[i].port_id = (uint16_t)(10 + i);
}

static void route(uint32_t dst, uint8_t len, uint32_t via, uint8_t p)
{
	struct porter_route *r = &rt.r[rt.count++];

	r->dst = dst;
	r->prefix_len = len;
	r->via = via;
	r->port = p;
}

/* Two-armed: clients on 10.99.0.0/24 (port 0), servers on 10.98.0.0/24 (port 1). */
static void two_armed(void)
{
	memset(ports, 0, sizeof(ports));
	memset(&rt, 0, sizeof(rt));
	port(0, IP(10, 99, 0, 2), 24, 0);
	port(1, IP(10, 98, 0, 2), 24, 0);
}

#define expect_hop(dst, only, want_port, want_hop, want_kind)                                   \
	do {                                                                                    \
		struct porter_hop h_;                                                           \
		int rc_ = porter_route_lookup(ports, nports, &rt, (dst), (only), &h_);          \
		cr_assert_eq(rc_, 0, "no route to %#x (only %d)", (unsigned)(dst), (only));     \
		cr_assert_eq(h_.port, (want_port), "port %u, want %u", h_.port, (unsigned)(want_port)); \
		cr_assert_eq(h_.next_hop, (want_hop), "next hop %#x, want %#x", h_.next_hop,    \
			     (unsigned)(want_hop));                                             \
		cr_assert_eq(h_.kind, (want_kind), "kind %s", porter_route_kind_name(h_.kind)); \
	} while (0)

#define expect_none(dst, only)                                                                  \
	do {                                                                                    \
		struct porter_hop h_;                                                           \
		cr_assert_eq(porter_route_lookup(ports, nports, &rt, (dst), (only), &h_), -ENETUNREACH, \
			     "a route to %#x (only %d): port %u via %#x", (unsigned)(dst), (only),  \
			     h_.port, h_.next_hop);                                             \
	} while (0)

#define ANY PORTER_ROUTE_ANY_PORT

Test(route, connected_subnet_picks_its_port)
{
	unsigned int nports = 2;

	two_armed();
	expect_hop(IP(10, 99, 0, 1), ANY, 0, IP(10, 99, 0, 1), PORTER_RT_CONNECTED);
	expect_hop(IP(10, 98, 0, 1), ANY, 1, IP(10, 98, 0, 1), PORTER_RT_CONNECTED);
	expect_hop(IP(10, 98, 0, 255), ANY, 1, IP(10, 98, 0, 255), PORTER_RT_CONNECTED);
	/* nothing else: no static route, no gateway */
	expect_none(IP(10, 97, 0, 1), ANY);
	expect_none(IP(192, 0, 2, 1), ANY);
}

Test(route, one_armed_is_unchanged)
{
	unsigned int nports = 1;

	memset(ports, 0, sizeof(ports));
	memset(&rt, 0, sizeof(rt));
	port(0, IP(10, 99, 0, 2), 24, IP(10, 99, 0, 1));
	expect_hop(IP(10, 99, 0, 7), ANY, 0, IP(10, 99, 0, 7), PORTER_RT_CONNECTED);
	expect_hop(IP(203, 0, 113, 9), ANY, 0, IP(10, 99, 0, 1), PORTER_RT_GATEWAY);
	expect_hop(IP(203, 0, 113, 9), 0, 0, IP(10, 99, 0, 1), PORTER_RT_GATEWAY);
	/* a static table of NULL (a worker before layout minor 1 wrote none) is no route */
	struct porter_hop h;
	cr_assert_eq(porter_route_lookup(ports, 1, NULL, IP(203, 0, 113, 9), ANY, &h), 0);
	cr_assert_eq(h.next_hop, IP(10, 99, 0, 1));
}

Test(route, longest_connected_prefix_wins_then_lower_index)
{
	unsigned int nports = 3;

	two_armed();
	port(1, IP(10, 0, 0, 2), 8, 0);
	port(2, IP(10, 5, 0, 2), 16, 0);
	expect_hop(IP(10, 5, 1, 1), ANY, 2, IP(10, 5, 1, 1), PORTER_RT_CONNECTED);
	expect_hop(IP(10, 6, 1, 1), ANY, 1, IP(10, 6, 1, 1), PORTER_RT_CONNECTED);
	expect_hop(IP(10, 99, 0, 9), ANY, 0, IP(10, 99, 0, 9), PORTER_RT_CONNECTED);
	/* equal prefixes: the lower index */
	port(2, IP(10, 99, 0, 3), 24, 0);
	expect_hop(IP(10, 99, 0, 9), ANY, 0, IP(10, 99, 0, 9), PORTER_RT_CONNECTED);
}

Test(route, static_routes_longest_prefix_then_file_order)
{
	unsigned int nports = 2;

	two_armed();
	route(IP(10, 97, 0, 0), 16, IP(10, 98, 0, 1), 1);
	route(IP(10, 97, 5, 0), 24, IP(10, 99, 0, 1), 0);
	route(IP(10, 97, 5, 0), 24, IP(10, 98, 0, 9), 1);     /* same prefix, later: never chosen */
	route(IP(0, 0, 0, 0), 0, IP(10, 98, 0, 254), 1);       /* a default */
	expect_hop(IP(10, 97, 1, 1), ANY, 1, IP(10, 98, 0, 1), PORTER_RT_STATIC);
	expect_hop(IP(10, 97, 5, 1), ANY, 0, IP(10, 99, 0, 1), PORTER_RT_STATIC);
	expect_hop(IP(198, 51, 100, 1), ANY, 1, IP(10, 98, 0, 254), PORTER_RT_STATIC);
	/* connected still wins over a static route that covers it (0.0.0.0/0 here) */
	expect_hop(IP(10, 99, 0, 50), ANY, 0, IP(10, 99, 0, 50), PORTER_RT_CONNECTED);
}

Test(route, static_route_beats_port_gateway)
{
	unsigned int nports = 2;

	two_armed();
	port(0, IP(10, 99, 0, 2), 24, IP(10, 99, 0, 1));
	route(IP(172, 16, 0, 0), 12, IP(10, 98, 0, 1), 1);
	expect_hop(IP(172, 20, 0, 1), ANY, 1, IP(10, 98, 0, 1), PORTER_RT_STATIC);
	expect_hop(IP(172, 32, 0, 1), ANY, 0, IP(10, 99, 0, 1), PORTER_RT_GATEWAY);
}

Test(route, default_is_the_first_port_with_a_gateway)
{
	unsigned int nports = 3;

	two_armed();
	port(1, IP(10, 98, 0, 2), 24, IP(10, 98, 0, 1));
	port(2, IP(10, 96, 0, 2), 24, IP(10, 96, 0, 1));
	expect_hop(IP(192, 0, 2, 1), ANY, 1, IP(10, 98, 0, 1), PORTER_RT_GATEWAY);
	/* restricted to a port: that port's own gateway */
	expect_hop(IP(192, 0, 2, 1), 2, 2, IP(10, 96, 0, 1), PORTER_RT_GATEWAY);
	expect_none(IP(192, 0, 2, 1), 0);
}

Test(route, restricted_to_a_port)
{
	unsigned int nports = 2;

	two_armed();
	route(IP(10, 97, 0, 0), 16, IP(10, 98, 0, 1), 1);
	/* the port's own subnet and routes only */
	expect_hop(IP(10, 98, 0, 7), 1, 1, IP(10, 98, 0, 7), PORTER_RT_CONNECTED);
	expect_none(IP(10, 98, 0, 7), 0);
	expect_hop(IP(10, 97, 3, 3), 1, 1, IP(10, 98, 0, 1), PORTER_RT_STATIC);
	expect_none(IP(10, 97, 3, 3), 0);
	/* a port index out of range routes nothing */
	expect_none(IP(10, 98, 0, 7), 2);
	expect_none(IP(10, 98, 0, 7), 7);
}

/* For every destination the unrestricted rule sends out of port P, the rule
 * restricted to P gives the same next hop: the worker's choice and the
 * primary's resolution never disagree. */
Test(route, restricted_agrees_with_unrestricted)
{
	unsigned int nports = 3;
	static const uint32_t probes[] = {
		IP(10, 99, 0, 1), IP(10, 98, 0, 1), IP(10, 97, 1, 1), IP(10, 97, 5, 5), IP(10, 96, 0, 9),
		IP(172, 16, 1, 1), IP(192, 0, 2, 1), IP(8, 8, 8, 8), IP(10, 0, 0, 1), IP(255, 255, 255, 255),
	};

	two_armed();
	port(0, IP(10, 99, 0, 2), 24, IP(10, 99, 0, 1));
	port(2, IP(10, 96, 0, 2), 23, IP(10, 96, 0, 1));
	route(IP(10, 97, 0, 0), 16, IP(10, 98, 0, 1), 1);
	route(IP(10, 97, 5, 0), 24, IP(10, 96, 0, 1), 2);
	route(IP(172, 16, 0, 0), 12, IP(10, 96, 1, 7), 2);
	route(IP(10, 0, 0, 0), 8, IP(10, 98, 0, 200), 1);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct porter_hop any, one;

		cr_assert_eq(porter_route_lookup(ports, nports, &rt, probes[i], ANY, &any), 0);
		cr_assert_eq(porter_route_lookup(ports, nports, &rt, probes[i], (int)any.port, &one), 0);
		cr_assert_eq(one.port, any.port);
		cr_assert_eq(one.next_hop, any.next_hop, "probe %zu: %#x vs %#x", i, one.next_hop,
			     any.next_hop);
	}
}

Test(route, static_route_whose_next_hop_left_the_port_is_ignored)
{
	unsigned int nports = 2;

	two_armed();
	route(IP(10, 97, 0, 0), 16, IP(10, 50, 0, 1), 1);   /* not on port 1's subnet */
	route(IP(10, 97, 0, 0), 16, IP(10, 98, 0, 1), 3);   /* no such port */
	expect_none(IP(10, 97, 0, 1), ANY);
	rt.count = 1000;                                      /* a count past the table is clamped */
	expect_none(IP(10, 97, 0, 1), ANY);
}

Test(route, prefix_mask)
{
	cr_assert_eq(porter_prefix_mask(0), 0);
	cr_assert_eq(porter_prefix_mask(1), 0x80000000u);
	cr_assert_eq(porter_prefix_mask(24), 0xffffff00u);
	cr_assert_eq(porter_prefix_mask(32), 0xffffffffu);
	cr_assert_eq(porter_prefix_mask(40), 0xffffffffu);
}
