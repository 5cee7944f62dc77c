/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame classification and the replies the primary builds itself (ARP, ICMP
 * echo). Pure functions over byte buffers: no mbuf, no EAL, so the unit tests
 * drive them directly. The data path wraps them around rte_mbuf data.
 */
#ifndef PORTER_PRIMARY_PKT_H
#define PORTER_PRIMARY_PKT_H

#include <stdint.h>
#include "shm/porter-shm-t.h"   /* enum porter_pdrop */

/* What the primary does with a received frame. */
enum pkt_class {
	PKT_DROP = 0,          /* counted under *reason */
	PKT_ARP,               /* ARP request or reply, for us: handle in primary */
	PKT_ICMP_ECHO,         /* ICMP echo request to one of our addresses */
	PKT_TCP,               /* IPv4 TCP to one of our addresses: steer to a shard */
	PKT_ICMP_FRAG_NEEDED,  /* RFC 1191 "fragmentation needed" quoting one of our TCP
	                          segments: steer to the shard of the quoted flow; meta
	                          holds the QUOTED tuple (src = our address) */
};

/* The local view of one port, as classification needs it (host byte order). */
struct pkt_if {
	uint8_t mac[6];
	uint32_t ipv4;
	uint8_t prefix_len;
};

/* Offsets and fields filled for PKT_ARP/PKT_ICMP_ECHO/PKT_TCP (host byte order). */
struct pkt_meta {
	uint16_t l3_off;        /* always 14: no VLAN support yet */
	uint16_t l4_off;        /* l3_off + IHL*4 */
	uint16_t ip_len;        /* IPv4 total length */
	uint8_t proto;
	uint32_t src_ip, dst_ip;
	uint16_t src_port, dst_port;   /* TCP only */
};

/*
 * Classify one Ethernet frame of LEN bytes received on interface IFC.
 * Accepts frames whose destination MAC is IFC->mac or broadcast (ARP) only.
 * Checks, in this order, and drops with the matching reason:
 *   frame < 14 bytes                      -> PDROP_RUNT
 *   dst MAC not ours (nor broadcast)      -> PDROP_NOT_OUR_MAC
 *   ethertype ARP: len < 14+28, htype!=1, ptype!=0x0800, hlen!=6, plen!=4, op not 1/2
 *                                         -> PDROP_ARP_MALFORMED
 *                  target IP != ifc->ipv4 -> PDROP_ARP_NOT_OURS
 *   ethertype other than ARP/IPv4         -> PDROP_ETHERTYPE
 *   IPv4: len < 14+20                     -> PDROP_IP_SHORT
 *         version != 4                    -> PDROP_IP_VERSION
 *         IHL < 5 or IHL*4 > available    -> PDROP_IP_IHL
 *         total length < IHL*4 or > available bytes -> PDROP_IP_LEN
 *         header checksum wrong           -> PDROP_IP_CSUM
 *         MF set or fragment offset != 0  -> PDROP_IP_FRAG
 *         dst IP != ifc->ipv4             -> PDROP_IP_NOT_OURS
 *         src IP 0, broadcast, multicast (224/4), loopback 127/8 or class E
 *                                         -> PDROP_IP_BAD_SRC
 *   TCP: l4 bytes < 20 or data offset < 5 or data offset*4 > l4 bytes
 *                                         -> PDROP_TCP_SHORT
 *   ICMP: type 3 code 4 with a valid checksum quoting >= IHL+8 bytes of an IPv4
 *         TCP segment from IFC's address -> PKT_ICMP_FRAG_NEEDED
 *         l4 bytes < 8                    -> PDROP_ICMP_SHORT
 *         type != 8 (echo request)        -> PDROP_ICMP_OTHER
 *         ICMP checksum wrong             -> PDROP_ICMP_CSUM
 *   other IP protocols                    -> PDROP_IP_PROTO
 * Trailing Ethernet padding beyond the IP total length is allowed.
 * The TCP checksum is NOT checked here (the worker does).
 */
enum pkt_class pkt_classify(const uint8_t *frame, uint32_t len, const struct pkt_if *ifc,
			    struct pkt_meta *meta, enum porter_pdrop *reason);

/*
 * Build in place the ARP reply to an ARP request FRAME (already classified
 * PKT_ARP, opcode 1): Ethernet dst = requester MAC, src = ifc->mac; ARP op 2,
 * sender = (ifc->mac, ifc->ipv4), target = (requester mac, requester ip).
 * Returns the reply length (42; the caller may pad to 60) or 0 if FRAME is not a request.
 */
uint32_t pkt_arp_reply_inplace(uint8_t *frame, uint32_t len, const struct pkt_if *ifc);

/*
 * Build an ARP request for TARGET_IP (host order) from IFC into OUT (>= 60 bytes);
 * broadcast destination, zero target MAC, padded to 60 bytes. Returns 60.
 */
uint32_t pkt_arp_request(uint8_t *out, const struct pkt_if *ifc, uint32_t target_ip);

/*
 * Turn an ICMP echo request FRAME (classified PKT_ICMP_ECHO, meta filled) into
 * the echo reply in place: swap MACs and IPs, TTL 64, type 0, code 0, IP and
 * ICMP checksums recomputed (incrementally or fully), IP options dropped
 * (payload moved up, total length adjusted). Returns the new frame length.
 */
uint32_t pkt_icmp_echo_reply_inplace(uint8_t *frame, uint32_t len, const struct pkt_meta *meta);

/* RFC 1071 Internet checksum helpers (return the value to store, network order-agnostic
 * because they operate on the bytes as 16-bit big-endian words; result in host order). */
uint16_t pkt_cksum(const void *data, uint32_t len, uint32_t initial_sum);
uint16_t pkt_ipv4_hdr_cksum(const uint8_t *ip_hdr, uint32_t ihl_bytes);

#endif
