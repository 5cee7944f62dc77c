/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The primary's data path: RX -> classify -> (ARP | ICMP echo | steer TCP to
 * the shard the flow hash names) and shard TX rings -> L2 -> TX.
 *
 * Wake-up protocol with a sleeping worker (Dekker style, both sides use a
 * full fence between their store and their load):
 *   worker:  sleeping = 1; fence; if RX ring empty: block on eventfd
 *   primary: enqueue;      fence; if sleeping: write eventfd
 * so either the worker sees the frames or the primary sees the flag. The same
 * protocol, roles swapped, wakes the primary for the TX rings. Frames from
 * the ports need no flag: what the primary sleeps on for them (interrupt fd,
 * the driver's socket) is level-triggered on the RX ring itself (port.c).
 */
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "primary/primary.h"
#include "shm/hash.h"

#define RX_BURST 32

void wake_shard(struct primary *p, unsigned int s)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&p->shards[s]->sleeping, __ATOMIC_RELAXED)) {
		if (write(p->worker_wake_fd[s], &one, sizeof(one)) == sizeof(one))
			p->shards[s]->pstats.wakeups_sent++;
	}
}

static void steer_flush(struct primary *p, struct rte_mbuf **v, unsigned int n, unsigned int s,
			unsigned int port)
{
	unsigned int done;

	if (n == 0)
		return;
	done = rte_ring_sp_enqueue_burst(p->rx[s], (void **)v, n, NULL);
	p->shards[s]->pstats.enqueued += done;
	if (done < n) {
		p->shards[s]->pstats.ring_full += n - done;
		p->g->port_stats[port].drops[PDROP_RING_FULL] += n - done;
		rte_pktmbuf_free_bulk(&v[done], n - done);
	}
	wake_shard(p, s);
}

static void handle_arp(struct primary *p, unsigned int port, struct rte_mbuf *m)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(d + sizeof(struct rte_ether_hdr));
	uint32_t sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
	uint32_t len;

	p->g->port_stats[port].arp_in++;
	/* RFC 826: merge the sender; we were the target, so add it if new */
	neigh_learn(p, port, sip, arp->arp_data.arp_sha.addr_bytes, true);
	len = pkt_arp_reply_inplace(d, rte_pktmbuf_data_len(m), &p->ifs[port]);
	if (len == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (len < RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN) {
		memset(d + len, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN - len);
		len = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
	}
	rte_pktmbuf_data_len(m) = len;
	rte_pktmbuf_pkt_len(m) = len;
	p->g->port_stats[port].arp_replies++;
	port_xmit(p, port, m);
}

static void handle_icmp(struct primary *p, unsigned int port, struct rte_mbuf *m,
			const struct pkt_meta *meta)
{
	uint32_t len = pkt_icmp_echo_reply_inplace(rte_pktmbuf_mtod(m, uint8_t *),
						   rte_pktmbuf_data_len(m), meta);

	if (len == 0) {   /* cannot happen for a frame pkt_classify accepted */
		p->g->port_stats[port].drops[PDROP_ICMP_SHORT]++;
		rte_pktmbuf_free(m);
		return;
	}
	rte_pktmbuf_data_len(m) = len;
	rte_pktmbuf_pkt_len(m) = len;
	p->g->port_stats[port].icmp_echo++;
	neigh_output(p, port, m);
}

static unsigned int rx_port(struct primary *p, unsigned int port)
{
	struct rte_mbuf *pkts[RX_BURST];
	struct rte_mbuf *steer[PORTER_MAX_SHARDS][RX_BURST];
	unsigned int nsteer[PORTER_MAX_SHARDS] = { 0 };
	struct porter_port_stats *st = &p->g->port_stats[port];
	unsigned int n;

	n = rte_eth_rx_burst(p->port_id[port], 0, pkts, RX_BURST);
	if (n == 0)
		return 0;
	st->rx_frames += n;
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta meta;
		enum porter_pdrop why = PDROP_NONE;
		enum pkt_class c;

		st->rx_bytes += rte_pktmbuf_pkt_len(m);
		if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
			st->drops[PDROP_IP_LEN]++;
			rte_pktmbuf_free(m);
			continue;
		}
		c = pkt_classify(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				 &p->ifs[port], &meta, &why);
		switch (c) {
		case PKT_TCP: {
			uint32_t h = porter_toeplitz_hash(&p->flow_hash, meta.src_ip, meta.dst_ip,
						      meta.src_port, meta.dst_port);
			unsigned int s = porter_reta_lookup(p->g->reta, h);

			m->hash.rss = h;
			st->tcp_steered++;
			steer[s][nsteer[s]++] = m;
			break;
		}
		case PKT_ICMP_FRAG_NEEDED: {
			/* the quoted tuple hashes like the flow itself (symmetric key) */
			uint32_t h = porter_toeplitz_hash(&p->flow_hash, meta.src_ip, meta.dst_ip,
						      meta.src_port, meta.dst_port);
			unsigned int s = porter_reta_lookup(p->g->reta, h);

			m->hash.rss = h;
			st->icmp_errors++;
			steer[s][nsteer[s]++] = m;
			break;
		}
		case PKT_ARP:
			handle_arp(p, port, m);
			break;
		case PKT_ICMP_ECHO:
			handle_icmp(p, port, m, &meta);
			break;
		default:
			st->drops[why < PDROP__COUNT ? why : PDROP_NONE]++;
			rte_pktmbuf_free(m);
			break;
		}
	}
	for (unsigned int s = 0; s < p->nshards; s++)
		steer_flush(p, steer[s], nsteer[s], s, port);
	return n;
}

/* Drain one shard's TX ring: frames to send, or frames handed back to free. */
static unsigned int tx_shard(struct primary *p, unsigned int s)
{
	struct rte_mbuf *v[RX_BURST];
	unsigned int n = rte_ring_sc_dequeue_burst(p->tx[s], (void **)v, RX_BURST, NULL);

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = v[i];
		int port = m->port == PORTER_PORT_FREE ? -1 : port_index_of(p, m->port);

		if (port < 0) {
			/* the worker's own drops are counted by reason in its shard */
			if (m->port != PORTER_PORT_FREE)
				p->g->port_stats[0].drops[PDROP_NO_ROUTE]++;
			rte_pktmbuf_free(m);
			continue;
		}
		neigh_output(p, (unsigned int)port, m);
	}
	p->shards[s]->pstats.tx_drained += n;
	return n;
}

unsigned int dataplane_poll(struct primary *p)
{
	unsigned int work = 0;

	for (unsigned int i = 0; i < p->nports; i++)
		work += rx_port(p, i);
	for (unsigned int s = 0; s < p->nshards; s++)
		work += tx_shard(p, s);
	ports_flush_tx(p);
	return work;
}

bool dataplane_tx_pending(const struct primary *p)
{
	for (unsigned int s = 0; s < p->nshards; s++)
		if (!rte_ring_empty(p->tx[s]))
			return true;
	return false;
}
