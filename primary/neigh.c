/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour resolution (RFC 826) and L2 output.
 *
 * The table lives in the global region so workers (and porterctl through the
 * primary) can read it; only the primary writes it, under a per-entry
 * seqcount. Frames for a next hop that is not resolved wait in a small
 * private queue per entry while ARP requests are retried; when the retries run
 * out they are dropped and counted (PDROP_NO_NEIGH).
 *
 * Entry states:   FREE --output--> INCOMPLETE --reply--> REACHABLE
 *                   ^                  | retries out         | arp_timeout_ms
 *                   +------------------+---------------------+
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "primary/primary.h"
#include "shm/route.h"

#define NEIGH_PROBE 16

static unsigned int neigh_hash(uint32_t ip)
{
	return (ip * 2654435761u) >> (32 - 8) & (PORTER_NEIGH_SIZE - 1);
}

static void neigh_write_begin(struct porter_neigh *n)
{
	__atomic_store_n(&n->seq, n->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void neigh_write_end(struct porter_neigh *n)
{
	__atomic_store_n(&n->seq, n->seq + 1, __ATOMIC_RELEASE);
}

/* Find the entry for IP, or (CREATE) a free one for it. NULL if none. */
static struct porter_neigh *neigh_find(struct primary *p, uint32_t ip, bool create)
{
	unsigned int h = neigh_hash(ip);
	struct porter_neigh *free_e = NULL;

	for (unsigned int i = 0; i < NEIGH_PROBE; i++) {
		struct porter_neigh *n = &p->g->neigh[(h + i) & (PORTER_NEIGH_SIZE - 1)];

		if (n->state != NEIGH_FREE && n->ipv4 == ip)
			return n;
		if (n->state == NEIGH_FREE && free_e == NULL)
			free_e = n;
	}
	if (!create || free_e == NULL)
		return NULL;
	neigh_write_begin(free_e);
	free_e->ipv4 = ip;
	free_e->state = NEIGH_INCOMPLETE;
	memset(free_e->mac, 0, 6);
	free_e->updated_ms = 0;
	neigh_write_end(free_e);
	return free_e;
}

static struct neigh_pending *pending_of(struct primary *p, const struct porter_neigh *n)
{
	return &p->pending[n - p->g->neigh];
}

static void send_arp_request(struct primary *p, unsigned int port, uint32_t ip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(p->pool);
	uint8_t *d;

	if (m == NULL) {
		p->g->port_stats[port].drops[PDROP_NOMBUF]++;
		return;
	}
	d = (uint8_t *)rte_pktmbuf_append(m, 60);
	pkt_arp_request(d, &p->ifs[port], ip);
	p->g->port_stats[port].arp_requests++;
	port_xmit(p, port, m);
}

static void fill_l2(struct primary *p, unsigned int port, struct rte_mbuf *m, const uint8_t mac[6])
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	memcpy(&eth->dst_addr, mac, 6);
	memcpy(&eth->src_addr, p->ifs[port].mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
}

static void pending_flush(struct primary *p, unsigned int port, struct porter_neigh *n)
{
	struct neigh_pending *q = pending_of(p, n);

	for (unsigned int i = 0; i < q->n; i++) {
		fill_l2(p, port, q->m[i], n->mac);
		port_xmit(p, port, q->m[i]);
	}
	q->n = 0;
	q->tries = 0;
}

static void pending_drop(struct primary *p, unsigned int port, struct porter_neigh *n)
{
	struct neigh_pending *q = pending_of(p, n);

	if (q->n) {
		p->g->port_stats[port].drops[PDROP_NO_NEIGH] += q->n;
		rte_pktmbuf_free_bulk(q->m, q->n);
	}
	q->n = 0;
	q->tries = 0;
}

/*
 * Learn IP->MAC from an ARP packet (RFC 826 "merge" step: update an entry we
 * have; CREATE one when the packet was addressed to us).
 */
void neigh_learn(struct primary *p, unsigned int port, uint32_t ip, const uint8_t mac[6], bool create)
{
	struct porter_neigh *n;

	if (!porter_port_on_link(&p->g->ports[port], ip) || ip == p->ifs[port].ipv4)
		return;
	n = neigh_find(p, ip, create);
	if (n == NULL)
		return;
	neigh_write_begin(n);
	memcpy(n->mac, mac, 6);
	n->state = NEIGH_REACHABLE;
	n->port = port;
	n->updated_ms = now_ms();
	neigh_write_end(n);
	pending_flush(p, port, n);
}

/*
 * Send an IPv4 frame (Ethernet header space present) out of PORT: a worker's
 * frame leaves by the port its stream chose (tcp_connect routes a new
 * connection by the same rule), a reply by the port its request came in on.
 */
void neigh_output(struct primary *p, unsigned int port, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip;
	struct porter_neigh *n;
	struct neigh_pending *q;
	struct porter_hop rh;
	uint32_t dst, hop;

	if (rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr) + sizeof(*ip)) {
		p->g->port_stats[port].drops[PDROP_NO_ROUTE]++;
		rte_pktmbuf_free(m);
		return;
	}
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	dst = rte_be_to_cpu_32(ip->dst_addr);
	/* the port is the stream's (or the request's) own; the route rule of
	 * shm/route.h restricted to it gives the next hop */
	if (porter_route_lookup(p->g->ports, p->nports, &p->g->routes, dst, (int)port, &rh) != 0) {
		p->g->port_stats[port].drops[PDROP_NO_ROUTE]++;
		rte_pktmbuf_free(m);
		return;
	}
	hop = rh.next_hop;
	n = neigh_find(p, hop, true);
	if (n == NULL) {
		p->g->port_stats[port].drops[PDROP_NEIGH_QUEUE_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (n->state == NEIGH_REACHABLE) {
		fill_l2(p, port, m, n->mac);
		port_xmit(p, port, m);
		return;
	}
	q = pending_of(p, n);
	if (q->n == NEIGH_PENDING_MAX) {
		p->g->port_stats[port].drops[PDROP_NEIGH_QUEUE_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	q->m[q->n++] = m;
	n->port = port;
	if (q->tries == 0) {
		q->tries = 1;
		q->next_try_ms = now_ms() + p->cfg->dataplane.arp_retry_ms;
		send_arp_request(p, port, hop);
	}
}

/* Retry requests, give up on silent next hops, expire old entries. */
void neigh_tick(struct primary *p)
{
	uint64_t now = now_ms();
	const struct porter_cfg_dataplane *dp = &p->cfg->dataplane;

	if (now < p->next_neigh_tick_ms)
		return;
	p->next_neigh_tick_ms = now + 100;
	for (unsigned int i = 0; i < PORTER_NEIGH_SIZE; i++) {
		struct porter_neigh *n = &p->g->neigh[i];
		struct neigh_pending *q = &p->pending[i];

		if (n->state == NEIGH_INCOMPLETE) {
			if (q->tries == 0 || now < q->next_try_ms)
				continue;
			if (q->tries >= dp->arp_retries) {
				pending_drop(p, n->port, n);
				neigh_write_begin(n);
				n->state = NEIGH_FREE;
				neigh_write_end(n);
				continue;
			}
			q->tries++;
			q->next_try_ms = now + dp->arp_retry_ms;
			send_arp_request(p, n->port, n->ipv4);
		} else if (n->state == NEIGH_REACHABLE && now - n->updated_ms > dp->arp_timeout_ms) {
			neigh_write_begin(n);
			n->state = NEIGH_FREE;
			neigh_write_end(n);
		}
	}
}

int neigh_timeout_ms(const struct primary *p)
{
	for (unsigned int i = 0; i < PORTER_NEIGH_SIZE; i++)
		if (p->pending[i].n)
			return 100;
	return -1;
}

void neigh_flush_all(struct primary *p)
{
	for (unsigned int i = 0; i < PORTER_NEIGH_SIZE; i++) {
		struct neigh_pending *q = &p->pending[i];

		if (q->n)
			rte_pktmbuf_free_bulk(q->m, q->n);
		q->n = 0;
	}
	for (unsigned int i = 0; i < p->nports; i++) {
		if (p->txn[i])
			rte_pktmbuf_free_bulk(p->txbuf[i], p->txn[i]);
		p->txn[i] = 0;
	}
}
