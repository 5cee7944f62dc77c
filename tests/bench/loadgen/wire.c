/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The loadgen's side of the wire: porter's TCP stack environment (tcp_env.h)
 * over one DPDK port of a process of its own, plus the little the primary
 * does for porter's workers: Ethernet addresses, ARP, and handing received
 * TCP frames to the stack. Checksums are the stack's (software, both ways).
 */
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "secondary/tcp/tcp_priv.h"
#include "tests/bench/loadgen/loadgen.h"

#define RX_BURST    32
#define RX_PER_POLL 512      /* frames per loop iteration at most */

/* --trace: "rx|tx src:port > dst:port FLAGS seq ack len" for a TCP frame. */
static void trace(struct lg *lg, const char *dir, const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	uint32_t ihl, s, d;
	char fl[8];
	unsigned int k = 0;

	if (!lg->trace || m->data_len < sizeof(struct rte_ether_hdr) + sizeof(*ip) + sizeof(*th))
		return;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	ihl = (ip->version_ihl & 0xf) * 4u;
	if (ip->next_proto_id != IPPROTO_TCP)
		return;
	th = (const struct rte_tcp_hdr *)((const uint8_t *)ip + ihl);
	for (unsigned int i = 0; i < 6; i++)
		if (th->tcp_flags & (1u << i))
			fl[k++] = "FSRPAU"[i];
	fl[k] = '\0';
	s = rte_be_to_cpu_32(ip->src_addr);
	d = rte_be_to_cpu_32(ip->dst_addr);
	fprintf(stderr, "%.6f %s %u.%u:%u > %u.%u:%u %-4s seq %u ack %u len %u\n",
		(double)lg->tcp.now_us / 1e6, dir, (s >> 8) & 0xff, s & 0xff,
		rte_be_to_cpu_16(th->src_port), (d >> 8) & 0xff, d & 0xff,
		rte_be_to_cpu_16(th->dst_port), fl, rte_be_to_cpu_32(th->sent_seq),
		rte_be_to_cpu_32(th->recv_ack),
		rte_be_to_cpu_16(ip->total_length) - ihl - (th->data_off >> 4) * 4u);
}

/* --- tcp_env.h -------------------------------------------------------------- */

struct rte_mbuf *tcp_env_alloc(struct tcp_ctx *ctx)
{
	struct lg *lg = ctx->env;

	return rte_pktmbuf_alloc(lg->pool);
}

/* The stack links queued segments through m->next: free them one by one. */
/* The load generator's state dies with it: nothing to journal, no reserve. */
struct rte_mbuf *tcp_env_alloc_queued(struct tcp_ctx *ctx)
{
	return tcp_env_alloc(ctx);
}

bool tcp_env_pool_low(struct tcp_ctx *ctx)
{
	(void)ctx;
	return false;
}

void tcp_env_trim(struct tcp_ctx *ctx, struct rte_mbuf *m, uint32_t n)
{
	(void)ctx;
	rte_pktmbuf_adj(m, (uint16_t)n);
	seg_set_seq(m, seg_seq(m) + n);
}

void tcp_env_hold(struct tcp_ctx *ctx, struct rte_mbuf *m)
{
	(void)ctx;
	(void)m;
}

void tcp_env_free(struct tcp_ctx *ctx, struct rte_mbuf *m)
{
	(void)ctx;
	while (m) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
}

static void eth_fill(struct lg *lg, struct rte_mbuf *m, uint16_t type)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	memcpy(eh->dst_addr.addr_bytes, lg->peer_mac, RTE_ETHER_ADDR_LEN);
	memcpy(eh->src_addr.addr_bytes, lg->mac, RTE_ETHER_ADDR_LEN);
	eh->ether_type = rte_cpu_to_be_16(type);
}

/*
 * Frames wait here until the TX queue takes them. A full queue (porter has
 * not drained its side of the memif ring yet) does not block the loop: RX
 * goes on, so porter's own sends toward us keep draining. Only a stage that
 * is full as well drops (counted).
 */
static void stage(struct lg *lg, struct rte_mbuf *m)
{
	if (lg->ntx == LG_TX_MAX)
		lg_tx_flush(lg);
	if (lg->ntx == LG_TX_MAX) {
		lg->n.tx_dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	lg->tx[lg->ntx++] = m;
}

/* The stack leaves the Ethernet header zeroed (porter's primary fills it from its neighbour table). */
void tcp_env_xmit(struct tcp_ctx *ctx, struct rte_mbuf *m)
{
	struct lg *lg = ctx->env;

	m->next = NULL;
	m->nb_segs = 1;
	m->pkt_len = m->data_len;
	eth_fill(lg, m, RTE_ETHER_TYPE_IPV4);
	trace(lg, "tx", m);
	stage(lg, m);
}

unsigned int lg_tx_flush(struct lg *lg)
{
	unsigned int done = 0;

	while (done < lg->ntx) {
		uint16_t n = rte_eth_tx_burst(lg->port_id, 0, &lg->tx[done], (uint16_t)(lg->ntx - done));

		if (n == 0)
			break;   /* queue full: the rest waits for the next loop iteration */
		done += n;
	}
	lg->n.tx_frames += done;
	if (done && done < lg->ntx)
		memmove(lg->tx, &lg->tx[done], (lg->ntx - done) * sizeof(lg->tx[0]));
	lg->ntx -= done;
	return done;
}

/* --- ARP (RFC 826) ------------------------------------------------------------- */

static bool our_ip(const struct lg *lg, uint32_t ip)
{
	return ip == lg->client_ip || ip == lg->backend_ip;
}

static void arp_build(struct lg *lg, struct rte_mbuf *m, uint16_t op, const uint8_t *tha,
		      uint32_t sip, uint32_t tip)
{
	struct rte_arp_hdr *a;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);

	memset(p, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	a = (struct rte_arp_hdr *)(p + sizeof(struct rte_ether_hdr));
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	memcpy(a->arp_data.arp_sha.addr_bytes, lg->mac, RTE_ETHER_ADDR_LEN);
	a->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	memcpy(a->arp_data.arp_tha.addr_bytes, tha, RTE_ETHER_ADDR_LEN);
	a->arp_data.arp_tip = rte_cpu_to_be_32(tip);
}

/* Who has IP? Broadcast, from the client address. */
void lg_arp_request(struct lg *lg, uint32_t ip)
{
	static const uint8_t zero[RTE_ETHER_ADDR_LEN];
	struct rte_mbuf *m = rte_pktmbuf_alloc(lg->pool);
	struct rte_ether_hdr *eh;

	if (m == NULL)
		return;
	arp_build(lg, m, RTE_ARP_OP_REQUEST, zero, lg->client_ip, ip);
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	memset(eh->dst_addr.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
	memcpy(eh->src_addr.addr_bytes, lg->mac, RTE_ETHER_ADDR_LEN);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	stage(lg, m);
}

static void arp_input(struct lg *lg, struct rte_mbuf *m)
{
	const struct rte_arp_hdr *a;
	uint32_t sip, tip;
	uint8_t sha[RTE_ETHER_ADDR_LEN];

	if (m->data_len < sizeof(struct rte_ether_hdr) + sizeof(*a))
		goto out;
	a = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || a->arp_hlen != 6 ||
	    a->arp_plen != 4)
		goto out;
	sip = rte_be_to_cpu_32(a->arp_data.arp_sip);
	tip = rte_be_to_cpu_32(a->arp_data.arp_tip);
	memcpy(sha, a->arp_data.arp_sha.addr_bytes, sizeof(sha));
	/* the only neighbour we talk to is porter */
	if (sip == lg->target_ip && !lg->peer_known) {
		memcpy(lg->peer_mac, sha, sizeof(sha));
		lg->peer_known = true;
	}
	if (a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) && our_ip(lg, tip)) {
		struct rte_mbuf *r = rte_pktmbuf_alloc(lg->pool);
		struct rte_ether_hdr *eh;

		if (r == NULL)
			goto out;
		arp_build(lg, r, RTE_ARP_OP_REPLY, sha, tip, sip);
		eh = rte_pktmbuf_mtod(r, struct rte_ether_hdr *);
		memcpy(eh->dst_addr.addr_bytes, sha, RTE_ETHER_ADDR_LEN);
		memcpy(eh->src_addr.addr_bytes, lg->mac, RTE_ETHER_ADDR_LEN);
		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
		stage(lg, r);
	}
out:
	rte_pktmbuf_free(m);
}

/* --- RX ------------------------------------------------------------------------- */

/* IPv4 TCP for one of our addresses goes to the stack (which checks the TCP checksum). */
static void ip_input(struct lg *lg, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip;

	if (m->data_len < sizeof(struct rte_ether_hdr) + sizeof(*ip))
		goto drop;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	if ((ip->version_ihl >> 4) != 4 || (ip->version_ihl & 0xf) < 5 ||
	    sizeof(struct rte_ether_hdr) + (ip->version_ihl & 0xf) * 4u > m->data_len ||
	    ip->next_proto_id != IPPROTO_TCP ||
	    !our_ip(lg, rte_be_to_cpu_32(ip->dst_addr)) ||
	    rte_raw_cksum(ip, (ip->version_ihl & 0xf) * 4u) != 0xffff ||
	    (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
		goto drop;
	trace(lg, "rx", m);
	tcp_input(&lg->tcp, m);
	return;
drop:
	rte_pktmbuf_free(m);
}

/* One RX burst through the stack. */
static unsigned int rx_burst(struct lg *lg)
{
	struct rte_mbuf *pkts[RX_BURST];
	uint16_t n = rte_eth_rx_burst(lg->port_id, 0, pkts, RX_BURST);

	lg->n.rx_frames += n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eh;

		if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
			rte_pktmbuf_free(m);
			continue;
		}
		if (m->data_len < sizeof(*eh)) {
			rte_pktmbuf_free(m);
			continue;
		}
		eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
			arp_input(lg, m);
		else if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
			ip_input(lg, m);
		else
			rte_pktmbuf_free(m);
	}
	return n;
}

/*
 * Drain what porter has sent, up to RX_PER_POLL frames. porter's side of
 * the memif ring holds 1024 frames by default and porter drops what does
 * not fit: the loadgen must not be what lets it fill.
 */
unsigned int lg_rx(struct lg *lg)
{
	unsigned int total = 0, n;

	do {
		n = rx_burst(lg);
		total += n;
		if (lg->ntx)
			lg_tx_flush(lg);   /* answers leave while the next burst is read */
	} while (n == RX_BURST && total < RX_PER_POLL);
	return total;
}
