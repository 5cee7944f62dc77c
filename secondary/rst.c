/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RST for a segment that matches no connection and no listener: RFC 9293
 * §3.10.7.1 ("If the state is CLOSED"). Pure C over byte buffers; it does not
 * use primary/pkt.c (this file is linked into the worker), hence its own
 * small checksum.
 *
 * Multi-byte fields are read and written with memcpy + ntoh/hton (no
 * alignment assumptions); every read is bounded by LEN and, above IP, by the
 * IP total length, and header length fields are checked before use.
 */
#include "secondary/rst.h"

#include <stdbool.h>
#include <string.h>
#include <arpa/inet.h>
#include "shm/wire.h"

#define RST_ETH_ALEN            6
#define RST_ETH_HLEN            14
#define RST_ETHERTYPE_IPV4      0x0800

/* RFC 791 §3.1 */
#define RST_IP_HLEN             20
#define RST_IP_VER_IHL          0x45    /* version 4, IHL 5: no options */
#define RST_IP_TOTLEN_OFF       2
#define RST_IP_FRAG_OFF         6
#define RST_IP_TTL_OFF          8
#define RST_IP_PROTO_OFF        9
#define RST_IP_CSUM_OFF         10
#define RST_IP_SRC_OFF          12
#define RST_IP_DST_OFF          16
#define RST_IP_FLAG_DF          0x4000
#define RST_IP_FLAG_MF          0x2000
#define RST_IP_FRAG_MASK        0x1fff
#define RST_IPPROTO_TCP         6
#define RST_TTL                 64

/* RFC 9293 §3.1 */
#define RST_TCP_HLEN            20
#define RST_TCP_SEQ_OFF         4
#define RST_TCP_ACK_OFF         8
#define RST_TCP_DOFF_OFF        12
#define RST_TCP_FLAGS_OFF       13
#define RST_TCP_WIN_OFF         14
#define RST_TCP_CSUM_OFF        16
#define RST_TCP_FIN             0x01
#define RST_TCP_SYN             0x02
#define RST_TCP_RST             0x04
#define RST_TCP_ACK             0x10

_Static_assert(RST_FRAME_LEN == RST_ETH_HLEN + RST_IP_HLEN + RST_TCP_HLEN, "RST frame layout");

/* What the reply needs from the incoming segment (host byte order). */
struct rst_seg {
	uint8_t eth_dst[RST_ETH_ALEN];
	uint8_t eth_src[RST_ETH_ALEN];
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t data_len;              /* payload bytes, options excluded */
};


/*
 * RFC 1071 Internet checksum of LEN bytes taken as big-endian 16-bit words
 * (an odd last byte padded with zero), plus INITIAL (a partial sum, e.g. the
 * pseudo header). Returns the complemented value to store, host order.
 */
static uint16_t rst_cksum(const uint8_t *p, uint32_t len, uint32_t initial)
{
	uint64_t sum = initial;
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 9293 §3.1 "Checksum": the pseudo header src, dst, zero, PTCL = 6, TCP length. */
static uint32_t pseudo_sum(uint32_t saddr, uint32_t daddr, uint32_t tcp_len)
{
	return (saddr >> 16) + (saddr & 0xffff) + (daddr >> 16) + (daddr & 0xffff) +
	       RST_IPPROTO_TCP + tcp_len;
}

/*
 * RFC 791 §3.1: an unfragmented IPv4 header carrying TCP whose IHL and total
 * length fit in the AVAIL bytes received. Sets *HLEN and *TOTLEN.
 */
static bool ipv4_valid(const uint8_t *ip, uint32_t avail, uint32_t *hlen, uint32_t *totlen)
{
	uint16_t frag;

	if (avail < RST_IP_HLEN || (ip[0] >> 4) != 4)
		return false;
	*hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	if (*hlen < RST_IP_HLEN || *hlen > avail)
		return false;
	*totlen = rd16(ip + RST_IP_TOTLEN_OFF);
	if (*totlen < *hlen + RST_TCP_HLEN || *totlen > avail)
		return false;
	/* A fragment holds part of a segment: its checksum cannot be checked. */
	frag = rd16(ip + RST_IP_FRAG_OFF);
	if ((frag & RST_IP_FLAG_MF) || (frag & RST_IP_FRAG_MASK))
		return false;
	return ip[RST_IP_PROTO_OFF] == RST_IPPROTO_TCP;
}

/* Fill S from the TCP header at TCP (TCP_LEN bytes, already >= 20). */
static bool tcp_parse(const uint8_t *tcp, uint32_t tcp_len, struct rst_seg *s)
{
	uint32_t doff = (uint32_t)(tcp[RST_TCP_DOFF_OFF] >> 4) * 4;

	if (doff < RST_TCP_HLEN || doff > tcp_len)
		return false;
	s->sport = rd16(tcp);
	s->dport = rd16(tcp + 2);
	s->seq = rd32(tcp + RST_TCP_SEQ_OFF);
	s->ack = rd32(tcp + RST_TCP_ACK_OFF);
	s->flags = tcp[RST_TCP_FLAGS_OFF];
	s->data_len = tcp_len - doff;
	return true;
}

static enum rst_verdict seg_parse(const uint8_t *in, uint32_t len, struct rst_seg *s)
{
	const uint8_t *ip = in + RST_ETH_HLEN;
	const uint8_t *tcp;
	uint32_t hlen = 0, totlen = 0, tcp_len;

	if (len < RST_ETH_HLEN || rd16(in + 2 * RST_ETH_ALEN) != RST_ETHERTYPE_IPV4)
		return RST_DROP_MALFORMED;
	if (!ipv4_valid(ip, len - RST_ETH_HLEN, &hlen, &totlen))
		return RST_DROP_MALFORMED;
	/* The IP total length bounds the segment: Ethernet padding is not TCP. */
	tcp = ip + hlen;
	tcp_len = totlen - hlen;
	if (!tcp_parse(tcp, tcp_len, s))
		return RST_DROP_MALFORMED;
	memcpy(s->eth_dst, in, RST_ETH_ALEN);
	memcpy(s->eth_src, in + RST_ETH_ALEN, RST_ETH_ALEN);
	s->saddr = rd32(ip + RST_IP_SRC_OFF);
	s->daddr = rd32(ip + RST_IP_DST_OFF);
	if (rst_cksum(tcp, tcp_len, pseudo_sum(s->saddr, s->daddr, tcp_len)) != 0)
		return RST_DROP_CSUM;
	return RST_REPLY;
}

/* RFC 9293 §3.4: SEG.LEN counts the data octets plus SYN and FIN. */
static uint32_t seg_len(const struct rst_seg *s)
{
	return s->data_len + !!(s->flags & RST_TCP_SYN) + !!(s->flags & RST_TCP_FIN);
}

static void build_eth_ip(uint8_t *f, const struct rst_seg *s)
{
	uint8_t *ip = f + RST_ETH_HLEN;

	memcpy(f, s->eth_src, RST_ETH_ALEN);
	memcpy(f + RST_ETH_ALEN, s->eth_dst, RST_ETH_ALEN);
	wr16(f + 2 * RST_ETH_ALEN, RST_ETHERTYPE_IPV4);
	ip[0] = RST_IP_VER_IHL;
	ip[1] = 0;
	wr16(ip + RST_IP_TOTLEN_OFF, RST_IP_HLEN + RST_TCP_HLEN);
	wr16(ip + 4, 0);                                        /* ID */
	wr16(ip + RST_IP_FRAG_OFF, RST_IP_FLAG_DF);
	ip[RST_IP_TTL_OFF] = RST_TTL;
	ip[RST_IP_PROTO_OFF] = RST_IPPROTO_TCP;
	wr16(ip + RST_IP_CSUM_OFF, 0);
	wr32(ip + RST_IP_SRC_OFF, s->daddr);
	wr32(ip + RST_IP_DST_OFF, s->saddr);
	wr16(ip + RST_IP_CSUM_OFF, rst_cksum(ip, RST_IP_HLEN, 0));
}

static void build_tcp(uint8_t *tcp, const struct rst_seg *s, uint32_t seq, uint32_t ack,
		      uint8_t flags)
{
	wr16(tcp, s->dport);
	wr16(tcp + 2, s->sport);
	wr32(tcp + RST_TCP_SEQ_OFF, seq);
	wr32(tcp + RST_TCP_ACK_OFF, ack);
	tcp[RST_TCP_DOFF_OFF] = (RST_TCP_HLEN / 4) << 4;
	tcp[RST_TCP_FLAGS_OFF] = flags;
	wr16(tcp + RST_TCP_WIN_OFF, 0);
	wr16(tcp + RST_TCP_CSUM_OFF, 0);
	wr16(tcp + 18, 0);                                      /* urgent pointer */
	wr16(tcp + RST_TCP_CSUM_OFF,
	     rst_cksum(tcp, RST_TCP_HLEN, pseudo_sum(s->daddr, s->saddr, RST_TCP_HLEN)));
}

enum rst_verdict rst_build_reply(const uint8_t *in, uint32_t len, uint8_t out[RST_FRAME_LEN])
{
	struct rst_seg s;
	uint8_t f[RST_FRAME_LEN];
	enum rst_verdict v = seg_parse(in, len, &s);

	if (v != RST_REPLY)
		return v;
	/* RFC 9293 §3.10.7.1: "An incoming segment containing a RST is discarded." */
	if (s.flags & RST_TCP_RST)
		return RST_DROP_IS_RST;
	build_eth_ip(f, &s);
	/*
	 * RFC 9293 §3.10.7.1, state CLOSED: "If the ACK bit is off, sequence
	 * number zero is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; if the
	 * ACK bit is on, <SEQ=SEG.ACK><CTL=RST>". Sequence arithmetic is mod 2^32.
	 */
	if (s.flags & RST_TCP_ACK)
		build_tcp(f + RST_ETH_HLEN + RST_IP_HLEN, &s, s.ack, 0, RST_TCP_RST);
	else
		build_tcp(f + RST_ETH_HLEN + RST_IP_HLEN, &s, 0, s.seq + seg_len(&s),
			  RST_TCP_RST | RST_TCP_ACK);
	/* Built aside, so OUT may alias IN. */
	memcpy(out, f, RST_FRAME_LEN);
	return RST_REPLY;
}
