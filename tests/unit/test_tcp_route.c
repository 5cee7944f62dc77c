/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp: active opens choose their port by the destination
 * (shm/route.h): the stream's port, its source address, its MSS and the port
 * id its frames carry all follow the route, and a destination with no route
 * fails cleanly (no TCB, no frame, no buffer).
 */
#include "tests/unit/tcp_harness.h"

#include <errno.h>
#include <string.h>

HSUITE(tcp_route);

#define BACK_IP     0x0a620002u   /* 10.98.0.2/24, port 1 */
#define SERVER_IP   0x0a620001u   /* 10.98.0.1, on port 1's subnet */
#define ROUTER_IP   0x0a6200feu   /* 10.98.0.254 */
#define FAR_IP      0x0a610001u   /* 10.97.0.1, behind the router */
#define BACK_PORTID 7

/* A second port "back", 10.98.0.2/24, MTU 9000, ethdev 7; static route 10.97.0.0/16 via 10.98.0.254. */
static void two_armed(void)
{
	struct porter_port_info *b = &H.g->ports[1];

	memset(b, 0, sizeof(*b));
	b->port_id = BACK_PORTID;
	b->mtu = 9000;
	b->prefix_len = 24;
	b->ipv4 = BACK_IP;
	b->up = 1;
	b->mac[0] = 0x02;
	b->mac[5] = 0x02;
	strcpy(b->name, "back");
	H.g->port_count = 2;
	H.ctx.nports = 2;
	H.g->routes.count = 1;
	H.g->routes.r[0].dst = 0x0a610000u;
	H.g->routes.r[0].prefix_len = 16;
	H.g->routes.r[0].via = ROUTER_IP;
	H.g->routes.r[0].port = 1;
}

/* Connect to RADDR and check the SYN: from LADDR, out of ethdev PORT_ID, MSS MSS. */
static uint32_t connect_and_check(uint32_t raddr, unsigned int port, uint32_t laddr, uint16_t port_id,
				  uint16_t mss)
{
	struct h_out o;
	int err = 1;
	uint32_t s = tcp_connect(CTX, raddr, 8080, TAPP_TEST, &err);

	cr_assert(s != TCP_NIL, "tcp_connect: %d", err);
	HEQ(err, 0);
	HEQ(TCB(s)->port, port);
	HEQ(TCB(s)->laddr, laddr);
	HEQ(TCB(s)->mss, mss);
	h_next(&o);
	HEQ(o.flags, TH_SYN);
	HEQ(o.saddr, laddr);
	HEQ(o.daddr, raddr);
	HEQ(o.port, port_id);
	HEQ(o.opt.mss, mss);
	h_none();
	return s;
}

HTEST(tcp_route, destination_on_the_second_port_leaves_by_it)
{
	struct h_out o;
	uint32_t s;

	two_armed();
	s = connect_and_check(SERVER_IP, 1, BACK_IP, BACK_PORTID, 8960);
	/* the SYN-ACK to the back address reaches the stream: it is established */
	h_inject(&(struct h_spec){ .saddr = SERVER_IP, .daddr = BACK_IP, .sport = 8080,
				   .dport = TCB(s)->lport, .seq = 5000, .ack = TCB(s)->iss + 1,
				   .flags = TH_SYN | TH_ACK, .wnd = 65535 });
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	h_next(&o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.saddr, BACK_IP);
	HEQ(o.port, BACK_PORTID);
	HEQ(h_events(s), TEV_APP_CONNECTED);
}

HTEST(tcp_route, first_port_subnet_still_first_port)
{
	two_armed();
	connect_and_check(H_PEER_IP, 0, H_LOCAL_IP, 0, 1460);
}

HTEST(tcp_route, static_route_picks_the_port_of_its_next_hop)
{
	two_armed();
	connect_and_check(FAR_IP, 1, BACK_IP, BACK_PORTID, 8960);
}

HTEST(tcp_route, otherwise_the_first_port_with_a_gateway)
{
	two_armed();
	/* port 0 has 10.0.0.254 as its gateway */
	connect_and_check(0xc0000201u, 0, H_LOCAL_IP, 0, 1460);
	/* without it, port 1's */
	H.g->ports[0].gateway = 0;
	H.g->ports[1].gateway = ROUTER_IP;
	connect_and_check(0xc0000202u, 1, BACK_IP, BACK_PORTID, 8960);
}

HTEST(tcp_route, no_route_fails_cleanly)
{
	int err = 0;
	uint32_t live = AREA->live;
	unsigned long allocs = H.allocs;
	uint64_t opens = AREA->events[TEV_ACTIVE_OPENS];

	two_armed();
	H.g->ports[0].gateway = 0;
	HEQ(tcp_connect(CTX, 0xc0000201u, 80, TAPP_TEST, &err), TCP_NIL);
	HEQ(err, -ENETUNREACH);
	HEQ(AREA->live, live);
	HEQ(H.allocs, allocs);
	HEQ(AREA->events[TEV_ACTIVE_OPENS], opens);
	h_none();
	/* a routable destination right after works */
	connect_and_check(SERVER_IP, 1, BACK_IP, BACK_PORTID, 8960);
}
