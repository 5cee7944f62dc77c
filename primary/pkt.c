/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame classification and the replies the primary builds itself (ARP, ICMP
 * echo). Pure C over byte buffers: see pkt.h for the contract.
 *
 * Every multi-byte field is read and written with memcpy + ntoh/hton: frames
 * carry no alignment guarantee (IP options, odd Ethernet offsets). Every read
 * is bounded by LEN and, above the IP layer, by the IP total length; header
 * length fields are checked before they are used as offsets.
 */
#include "primary/pkt.h"

#include <stdbool.h>
#include <string.h>
#include <arpa/inet.h>
#include "shm/wire.h"

#define PKT_ETH_ALEN            6
#define PKT_ETH_HLEN            14
#define PKT_ETH_TYPE_OFF        12
#define PKT_ETH_MIN_FRAME       60      /* minimum Ethernet frame without FCS */
#define PKT_ETHERTYPE_IPV4      0x0800
#define PKT_ETHERTYPE_ARP       0x0806

/* RFC 826 packet format, Ethernet/IPv4 flavour (28 bytes). */
#define PKT_ARP_LEN             28
#define PKT_ARP_HTYPE_OFF       0
#define PKT_ARP_PTYPE_OFF       2
#define PKT_ARP_HLEN_OFF        4
#define PKT_ARP_PLEN_OFF        5
#define PKT_ARP_OP_OFF          6
#define PKT_ARP_SHA_OFF         8
#define PKT_ARP_SPA_OFF         14
#define PKT_ARP_THA_OFF         18
#define PKT_ARP_TPA_OFF         24
#define PKT_ARP_HTYPE_ETHER     1
#define PKT_ARP_OP_REQUEST      1
#define PKT_ARP_OP_REPLY        2
#define PKT_ARP_FRAME_LEN       (PKT_ETH_HLEN + PKT_ARP_LEN)   /* 42 */

/* RFC 791 §3.1 header layout. */
#define PKT_IP_MIN_HLEN         20
#define PKT_IP_TOTLEN_OFF       2
#define PKT_IP_FRAG_OFF         6
#define PKT_IP_TTL_OFF          8
#define PKT_IP_PROTO_OFF        9
#define PKT_IP_CSUM_OFF         10
#define PKT_IP_SRC_OFF          12
#define PKT_IP_DST_OFF          16
#define PKT_IP_FLAG_MF          0x2000
#define PKT_IP_FRAG_MASK        0x1fff
#define PKT_IP_VER_IHL_MIN      0x45    /* version 4, IHL 5 */
#define PKT_IPPROTO_ICMP        1
#define PKT_IPPROTO_TCP         6
#define PKT_REPLY_TTL           64

/* RFC 9293 §3.1 header layout. */
#define PKT_TCP_MIN_HLEN        20
#define PKT_TCP_DOFF_OFF        12

/* RFC 792 echo / echo reply. */
#define PKT_ICMP_HLEN           8
#define PKT_ICMP_CSUM_OFF       2
#define PKT_ICMP_ECHO_REPLY     0
#define PKT_ICMP_ECHO_REQUEST   8

/* ---- byte access --------------------------------------------------------- */


static void swap_bytes(uint8_t *a, uint8_t *b, uint32_t n)
{
	uint8_t tmp[PKT_ETH_ALEN];      /* largest swapped field: a MAC */

	memcpy(tmp, a, n);
	memcpy(a, b, n);
	memcpy(b, tmp, n);
}

/* ---- RFC 1071 Internet checksum ------------------------------------------ */

/* End-around carry: fold a 64-bit one's complement accumulator to 16 bits. */
static uint16_t fold64(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * One's complement sum of LEN bytes, as big-endian 16-bit words, folded but
 * not complemented. The words are loaded 32 bits at a time in native order:
 * RFC 1071 §2(B) (byte order independence) lets us sum in host order and
 * swap the folded result; §2(C) lets us sum 32-bit words and fold later.
 * An odd trailing byte is the high byte of a word padded with zero (§1).
 */
static uint16_t raw_sum(const uint8_t *p, uint32_t len)
{
	uint64_t sum = 0;
	uint32_t w32;
	uint16_t w16;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w32, p, sizeof(w32));
		sum += w32;
	}
	if (len >= 2) {
		memcpy(&w16, p, sizeof(w16));
		sum += w16;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		const uint8_t last[2] = { p[0], 0 };

		memcpy(&w16, last, sizeof(w16));
		sum += w16;
	}
	return ntohs(fold64(sum));
}

uint16_t pkt_cksum(const void *data, uint32_t len, uint32_t initial_sum)
{
	uint64_t sum = (uint64_t)raw_sum(data, len) + initial_sum;

	return (uint16_t)~fold64(sum);
}

/*
 * RFC 791 §3.1 "Header Checksum": the checksum of the header with the
 * checksum field taken as zero. The stored field is skipped, so this returns
 * the value to store whatever the field currently holds.
 */
uint16_t pkt_ipv4_hdr_cksum(const uint8_t *ip_hdr, uint32_t ihl_bytes)
{
	uint32_t head = ihl_bytes < PKT_IP_CSUM_OFF ? ihl_bytes : PKT_IP_CSUM_OFF;
	uint32_t tail_off = PKT_IP_CSUM_OFF + 2;
	uint64_t sum = raw_sum(ip_hdr, head);

	if (ihl_bytes > tail_off)
		sum += raw_sum(ip_hdr + tail_off, ihl_bytes - tail_off);
	return (uint16_t)~fold64(sum);
}

/* RFC 1071 §1(4): data plus its stored checksum sums to all ones. */
static bool cksum_ok(const uint8_t *p, uint32_t len)
{
	return pkt_cksum(p, len, 0) == 0;
}

/* ---- Ethernet ------------------------------------------------------------ */

static bool mac_is_broadcast(const uint8_t *mac)
{
	static const uint8_t bcast[PKT_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	return memcmp(mac, bcast, PKT_ETH_ALEN) == 0;
}

/* ---- ARP (RFC 826) ------------------------------------------------------- */

/*
 * The fixed part of an Ethernet/IPv4 ARP packet (RFC 826 "Packet format"):
 * ar$hrd = 1 (Ethernet), ar$pro = 0x0800, ar$hln = 6, ar$pln = 4, and an
 * opcode we know (request or reply). A is PKT_ARP_LEN bytes.
 */
static bool arp_hdr_valid(const uint8_t *a)
{
	uint16_t op = rd16(a + PKT_ARP_OP_OFF);

	return rd16(a + PKT_ARP_HTYPE_OFF) == PKT_ARP_HTYPE_ETHER &&
	       rd16(a + PKT_ARP_PTYPE_OFF) == PKT_ETHERTYPE_IPV4 &&
	       a[PKT_ARP_HLEN_OFF] == PKT_ETH_ALEN &&
	       a[PKT_ARP_PLEN_OFF] == 4 &&
	       (op == PKT_ARP_OP_REQUEST || op == PKT_ARP_OP_REPLY);
}

static enum porter_pdrop classify_arp(const uint8_t *frame, uint32_t len,
				      const struct pkt_if *ifc, struct pkt_meta *m)
{
	const uint8_t *a = frame + PKT_ETH_HLEN;
	uint32_t tpa;

	if (len < PKT_ARP_FRAME_LEN || !arp_hdr_valid(a))
		return PDROP_ARP_MALFORMED;
	/* RFC 826 "Packet Reception": only answer/learn for our own ar$tpa. */
	tpa = rd32(a + PKT_ARP_TPA_OFF);
	if (tpa != ifc->ipv4)
		return PDROP_ARP_NOT_OURS;
	m->src_ip = rd32(a + PKT_ARP_SPA_OFF);
	m->dst_ip = tpa;
	return PDROP_NONE;
}

/* A well-formed Ethernet/IPv4 ARP request of at least 42 bytes. */
static bool is_arp_request(const uint8_t *frame, uint32_t len)
{
	const uint8_t *a = frame + PKT_ETH_HLEN;

	return len >= PKT_ARP_FRAME_LEN &&
	       rd16(frame + PKT_ETH_TYPE_OFF) == PKT_ETHERTYPE_ARP &&
	       arp_hdr_valid(a) &&
	       rd16(a + PKT_ARP_OP_OFF) == PKT_ARP_OP_REQUEST;
}

/* ---- IPv4 (RFC 791) ------------------------------------------------------ */

/* Directed broadcast of the interface subnet; 0 when the prefix has none. */
static uint32_t subnet_broadcast(const struct pkt_if *ifc)
{
	uint32_t host_mask;

	/* /31 (RFC 3021) and /32 have no broadcast address. */
	if (ifc->prefix_len >= 31)
		return 0;
	host_mask = UINT32_MAX >> ifc->prefix_len;
	return ifc->ipv4 | host_mask;
}

/*
 * Source addresses no host may send from. RFC 1122 §3.2.1.3: a datagram with
 * an invalid source address MUST be silently discarded.
 */
static bool is_martian_src(uint32_t src, const struct pkt_if *ifc)
{
	uint32_t bcast = subnet_broadcast(ifc);

	if (src == 0)                           /* RFC 1122 §3.2.1.3 (a): boot only */
		return true;
	if ((src >> 24) == 127)                 /* RFC 1122 §3.2.1.3 (g): loopback */
		return true;
	if ((src >> 28) == 0xe)                 /* RFC 1112 §4: class D never a source */
		return true;
	if ((src >> 28) == 0xf)                 /* RFC 6890: 240/4 reserved, incl. 255.255.255.255 (RFC 1122 §3.2.1.3 (c)) */
		return true;
	return bcast != 0 && src == bcast;      /* RFC 1122 §3.2.1.3 (d): directed broadcast */
}

/* RFC 9293 §3.1: a TCP header of at least 20 bytes, Data Offset in words. */
static enum porter_pdrop classify_tcp(const uint8_t *l4, uint32_t l4_len, struct pkt_meta *m)
{
	uint32_t doff;

	if (l4_len < PKT_TCP_MIN_HLEN)
		return PDROP_TCP_SHORT;
	doff = (uint32_t)(l4[PKT_TCP_DOFF_OFF] >> 4) * 4;
	if (doff < PKT_TCP_MIN_HLEN || doff > l4_len)
		return PDROP_TCP_SHORT;
	m->src_port = rd16(l4);
	m->dst_port = rd16(l4 + 2);
	return PDROP_NONE;
}

/*
 * RFC 792 "Echo or Echo Reply Message": type 8, checksum over the whole ICMP
 * message, which the IP total length bounds (L4_LEN excludes Ethernet padding).
 */
static enum porter_pdrop classify_icmp(const uint8_t *l4, uint32_t l4_len)
{
	if (l4_len < PKT_ICMP_HLEN)
		return PDROP_ICMP_SHORT;
	if (l4[0] != PKT_ICMP_ECHO_REQUEST)
		return PDROP_ICMP_OTHER;
	if (!cksum_ok(l4, l4_len))
		return PDROP_ICMP_CSUM;
	return PDROP_NONE;
}

/*
 * RFC 792 Destination Unreachable, code 4 "fragmentation needed and DF set"
 * (RFC 1191 §4: next-hop MTU in bytes 6..7), quoting a TCP segment we sent:
 * the quoted IPv4 header must come from IFC's address and carry TCP with at
 * least the 8 bytes holding the ports. META gets the QUOTED 4-tuple, which
 * the flow hash maps to the shard of that stream.
 */
static bool classify_frag_needed(const uint8_t *l4, uint32_t l4_len, const struct pkt_if *ifc,
				 struct pkt_meta *m)
{
	const uint8_t *q = l4 + PKT_ICMP_HLEN;
	uint32_t qlen = l4_len - PKT_ICMP_HLEN, qhl;

	if (l4_len < PKT_ICMP_HLEN + PKT_IP_MIN_HLEN + 8 || l4[0] != 3 || l4[1] != 4)
		return false;
	qhl = (uint32_t)(q[0] & 0x0f) * 4;
	if ((q[0] >> 4) != 4 || qhl < PKT_IP_MIN_HLEN || qlen < qhl + 8 ||
	    q[PKT_IP_PROTO_OFF] != PKT_IPPROTO_TCP || rd32(q + PKT_IP_SRC_OFF) != ifc->ipv4)
		return false;
	if (!cksum_ok(l4, l4_len))
		return false;
	m->src_ip = rd32(q + PKT_IP_SRC_OFF);
	m->dst_ip = rd32(q + PKT_IP_DST_OFF);
	m->src_port = rd16(q + qhl);
	m->dst_port = rd16(q + qhl + 2);
	return true;
}

/*
 * RFC 791 §3.1 header sanity: version, IHL and total length against the bytes
 * actually received (AVAIL, from the IP header on), then the header checksum
 * and fragmentation. On success *HLEN and *TOTLEN hold trusted values.
 */
static enum porter_pdrop check_ipv4_hdr(const uint8_t *ip, uint32_t avail,
					uint32_t *hlen, uint32_t *totlen)
{
	uint16_t frag;

	if (avail < PKT_IP_MIN_HLEN)
		return PDROP_IP_SHORT;
	if ((ip[0] >> 4) != 4)
		return PDROP_IP_VERSION;
	*hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	if (*hlen < PKT_IP_MIN_HLEN || *hlen > avail)
		return PDROP_IP_IHL;
	*totlen = rd16(ip + PKT_IP_TOTLEN_OFF);
	if (*totlen < *hlen || *totlen > avail)
		return PDROP_IP_LEN;
	if (!cksum_ok(ip, *hlen))
		return PDROP_IP_CSUM;
	/* No reassembly: any fragment (MF set or offset non-zero) is dropped. */
	frag = rd16(ip + PKT_IP_FRAG_OFF);
	if ((frag & PKT_IP_FLAG_MF) || (frag & PKT_IP_FRAG_MASK))
		return PDROP_IP_FRAG;
	return PDROP_NONE;
}

static enum porter_pdrop classify_ipv4(const uint8_t *frame, uint32_t len,
				       const struct pkt_if *ifc, struct pkt_meta *m,
				       enum pkt_class *cls)
{
	const uint8_t *ip = frame + PKT_ETH_HLEN;
	uint32_t hlen = 0, totlen = 0;
	enum porter_pdrop why;

	why = check_ipv4_hdr(ip, len - PKT_ETH_HLEN, &hlen, &totlen);
	if (why != PDROP_NONE)
		return why;
	m->dst_ip = rd32(ip + PKT_IP_DST_OFF);
	if (m->dst_ip != ifc->ipv4)
		return PDROP_IP_NOT_OURS;
	m->src_ip = rd32(ip + PKT_IP_SRC_OFF);
	if (is_martian_src(m->src_ip, ifc))
		return PDROP_IP_BAD_SRC;
	m->l4_off = (uint16_t)(PKT_ETH_HLEN + hlen);
	m->ip_len = (uint16_t)totlen;
	m->proto = ip[PKT_IP_PROTO_OFF];
	switch (m->proto) {
	case PKT_IPPROTO_TCP:
		*cls = PKT_TCP;
		return classify_tcp(ip + hlen, totlen - hlen, m);
	case PKT_IPPROTO_ICMP:
		if (classify_frag_needed(ip + hlen, totlen - hlen, ifc, m)) {
			*cls = PKT_ICMP_FRAG_NEEDED;
			return PDROP_NONE;
		}
		*cls = PKT_ICMP_ECHO;
		return classify_icmp(ip + hlen, totlen - hlen);
	default:
		return PDROP_IP_PROTO;
	}
}

/* ---- classification ------------------------------------------------------ */

static enum porter_pdrop classify_frame(const uint8_t *frame, uint32_t len,
					const struct pkt_if *ifc, struct pkt_meta *m,
					enum pkt_class *cls)
{
	uint16_t type;

	if (len < PKT_ETH_HLEN)
		return PDROP_RUNT;
	type = rd16(frame + PKT_ETH_TYPE_OFF);
	/* Broadcast is only of use to ARP; any other broadcast is not for us. */
	if (memcmp(frame, ifc->mac, PKT_ETH_ALEN) != 0 &&
	    !(type == PKT_ETHERTYPE_ARP && mac_is_broadcast(frame)))
		return PDROP_NOT_OUR_MAC;
	if (type == PKT_ETHERTYPE_ARP) {
		*cls = PKT_ARP;
		return classify_arp(frame, len, ifc, m);
	}
	if (type != PKT_ETHERTYPE_IPV4)
		return PDROP_ETHERTYPE;
	return classify_ipv4(frame, len, ifc, m, cls);
}

enum pkt_class pkt_classify(const uint8_t *frame, uint32_t len, const struct pkt_if *ifc,
			    struct pkt_meta *meta, enum porter_pdrop *reason)
{
	struct pkt_meta m = { .l3_off = PKT_ETH_HLEN };
	enum pkt_class cls = PKT_DROP;

	*reason = classify_frame(frame, len, ifc, &m, &cls);
	if (*reason != PDROP_NONE)
		return PKT_DROP;        /* *meta left untouched */
	*meta = m;
	return cls;
}

/* ---- ARP replies and requests -------------------------------------------- */

uint32_t pkt_arp_reply_inplace(uint8_t *frame, uint32_t len, const struct pkt_if *ifc)
{
	uint8_t *a = frame + PKT_ETH_HLEN;
	uint8_t req_mac[PKT_ETH_ALEN];
	uint8_t req_ip[4];

	if (!is_arp_request(frame, len))
		return 0;
	memcpy(req_mac, a + PKT_ARP_SHA_OFF, sizeof(req_mac));
	memcpy(req_ip, a + PKT_ARP_SPA_OFF, sizeof(req_ip));
	/*
	 * RFC 826 "Packet Reception": swap hardware and protocol fields,
	 * putting the local hardware and protocol addresses in the sender
	 * fields; set ar$op to reply; send to the old sender (ar$tha).
	 */
	memcpy(a + PKT_ARP_THA_OFF, req_mac, sizeof(req_mac));
	memcpy(a + PKT_ARP_TPA_OFF, req_ip, sizeof(req_ip));
	memcpy(a + PKT_ARP_SHA_OFF, ifc->mac, PKT_ETH_ALEN);
	wr32(a + PKT_ARP_SPA_OFF, ifc->ipv4);
	wr16(a + PKT_ARP_OP_OFF, PKT_ARP_OP_REPLY);
	memcpy(frame, req_mac, PKT_ETH_ALEN);
	memcpy(frame + PKT_ETH_ALEN, ifc->mac, PKT_ETH_ALEN);
	/* Clear the requester's padding so a caller padding to 60 sends zeros. */
	if (len > PKT_ARP_FRAME_LEN)
		memset(frame + PKT_ARP_FRAME_LEN, 0,
		       (len < PKT_ETH_MIN_FRAME ? len : PKT_ETH_MIN_FRAME) - PKT_ARP_FRAME_LEN);
	return PKT_ARP_FRAME_LEN;
}

uint32_t pkt_arp_request(uint8_t *out, const struct pkt_if *ifc, uint32_t target_ip)
{
	uint8_t *a = out + PKT_ETH_HLEN;

	memset(out, 0, PKT_ETH_MIN_FRAME);
	memset(out, 0xff, PKT_ETH_ALEN);                     /* broadcast */
	memcpy(out + PKT_ETH_ALEN, ifc->mac, PKT_ETH_ALEN);
	wr16(out + PKT_ETH_TYPE_OFF, PKT_ETHERTYPE_ARP);
	/* RFC 826 "Packet format"; ar$tha is "don't care" in a request: zero. */
	wr16(a + PKT_ARP_HTYPE_OFF, PKT_ARP_HTYPE_ETHER);
	wr16(a + PKT_ARP_PTYPE_OFF, PKT_ETHERTYPE_IPV4);
	a[PKT_ARP_HLEN_OFF] = PKT_ETH_ALEN;
	a[PKT_ARP_PLEN_OFF] = 4;
	wr16(a + PKT_ARP_OP_OFF, PKT_ARP_OP_REQUEST);
	memcpy(a + PKT_ARP_SHA_OFF, ifc->mac, PKT_ETH_ALEN);
	wr32(a + PKT_ARP_SPA_OFF, ifc->ipv4);
	wr32(a + PKT_ARP_TPA_OFF, target_ip);
	return PKT_ETH_MIN_FRAME;
}

/* ---- ICMP echo reply ----------------------------------------------------- */

/*
 * META must describe an IPv4 ICMP echo request inside the LEN bytes of FRAME,
 * consistent with the header it points at (never trust it blindly).
 */
static bool echo_meta_valid(const uint8_t *frame, uint32_t len, const struct pkt_meta *meta)
{
	const uint8_t *ip = frame + meta->l3_off;
	uint32_t hlen;

	if (meta->l3_off < PKT_ETH_HLEN || meta->l4_off < meta->l3_off)
		return false;
	hlen = (uint32_t)meta->l4_off - meta->l3_off;
	if ((uint32_t)meta->l3_off + meta->ip_len > len ||
	    hlen < PKT_IP_MIN_HLEN || (uint32_t)meta->ip_len < hlen + PKT_ICMP_HLEN)
		return false;
	return (ip[0] >> 4) == 4 && (uint32_t)(ip[0] & 0x0f) * 4 == hlen &&
	       ip[PKT_IP_PROTO_OFF] == PKT_IPPROTO_ICMP &&
	       frame[meta->l4_off] == PKT_ICMP_ECHO_REQUEST;
}

/*
 * Returns the reply length, or 0 (frame untouched) if META does not describe
 * an echo request held in FRAME.
 */
uint32_t pkt_icmp_echo_reply_inplace(uint8_t *frame, uint32_t len, const struct pkt_meta *meta)
{
	uint8_t *ip, *icmp;
	uint32_t hlen, icmp_len;

	if (!echo_meta_valid(frame, len, meta))
		return 0;
	ip = frame + meta->l3_off;
	hlen = (uint32_t)meta->l4_off - meta->l3_off;
	icmp_len = meta->ip_len - hlen;

	swap_bytes(frame, frame + PKT_ETH_ALEN, PKT_ETH_ALEN);
	/* RFC 792 echo reply: "the source and destination addresses are simply reversed". */
	swap_bytes(ip + PKT_IP_SRC_OFF, ip + PKT_IP_DST_OFF, 4);
	/*
	 * IP options are dropped (RFC 1122 §3.2.2.6 would have us update Record
	 * Route/Timestamp and reverse a source route: a SHOULD we do not do).
	 */
	if (hlen > PKT_IP_MIN_HLEN) {
		memmove(ip + PKT_IP_MIN_HLEN, ip + hlen, icmp_len);
		ip[0] = PKT_IP_VER_IHL_MIN;
	}
	wr16(ip + PKT_IP_TOTLEN_OFF, (uint16_t)(PKT_IP_MIN_HLEN + icmp_len));
	ip[PKT_IP_TTL_OFF] = PKT_REPLY_TTL;
	wr16(ip + PKT_IP_CSUM_OFF, pkt_ipv4_hdr_cksum(ip, PKT_IP_MIN_HLEN));

	/* RFC 792: type 0, code 0, checksum over the ICMP message recomputed. */
	icmp = ip + PKT_IP_MIN_HLEN;
	icmp[0] = PKT_ICMP_ECHO_REPLY;
	icmp[1] = 0;
	wr16(icmp + PKT_ICMP_CSUM_OFF, 0);
	wr16(icmp + PKT_ICMP_CSUM_OFF, pkt_cksum(icmp, icmp_len, 0));
	return meta->l3_off + PKT_IP_MIN_HLEN + icmp_len;
}
