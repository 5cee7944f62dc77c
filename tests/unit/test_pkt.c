/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * primary/pkt.c: classification (every drop reason), ARP reply/request, ICMP
 * echo reply, checksum helpers. Frames are built here with a checksum written
 * independently of pkt_cksum (high and low bytes summed separately).
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "primary/pkt.h"
#include "tests/unit/testbytes.h"

#define US_MAC   { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }
#define PEER_MAC { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 }
#define US_IP    0x0a000001u    /* 10.0.0.1/24 */
#define PEER_IP  0x0a000002u    /* 10.0.0.2 */

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP  0x0806
#define PROTO_ICMP     1
#define PROTO_TCP      6
#define PROTO_UDP      17

static const uint8_t us_mac[6] = US_MAC;
static const uint8_t peer_mac[6] = PEER_MAC;
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const struct pkt_if ifc = { .mac = US_MAC, .ipv4 = US_IP, .prefix_len = 24 };

/* ---- independent helpers ------------------------------------------------- */


/*
 * Reference one's complement sum: even-indexed bytes are the high halves of
 * the words, odd-indexed the low halves; sum each column, combine, fold.
 */
static uint16_t ref_sum(const uint8_t *p, size_t n, uint64_t init)
{
	uint64_t hi = 0, lo = 0, s;

	for (size_t i = 0; i < n; i++) {
		if (i % 2 == 0)
			hi += p[i];
		else
			lo += p[i];
	}
	s = (hi << 8) + lo + init;
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t ref_cksum(const uint8_t *p, size_t n, uint64_t init)
{
	return (uint16_t)~ref_sum(p, n, init);
}

static bool ref_valid(const uint8_t *p, size_t n, uint64_t init)
{
	return ref_sum(p, n, init) == 0xffff;
}

static uint64_t ref_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t l4_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + l4_len;
}

/* ---- frame builder ------------------------------------------------------- */

static uint32_t put_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return 14;
}

static void fix_ip_csum(uint8_t *f)
{
	uint8_t *ip = f + 14;
	uint32_t hlen = (uint32_t)(ip[0] & 0x0f) * 4;

	put16(ip + 10, 0);
	put16(ip + 10, ref_cksum(ip, hlen, 0));
}

/* IPv4 header (+ OPT_LEN bytes of NOP options) from SRC to us, then L4. */
static uint32_t put_ip(uint8_t *f, uint8_t proto, uint32_t src, uint32_t opt_len,
		       const uint8_t *l4, uint32_t l4_len)
{
	uint8_t *ip = f + put_eth(f, us_mac, peer_mac, ETHERTYPE_IPV4);
	uint32_t hlen = 20 + opt_len;

	memset(ip, 0, hlen);
	ip[0] = (uint8_t)(0x40 | hlen / 4);
	ip[1] = 0x10;
	put16(ip + 2, (uint16_t)(hlen + l4_len));
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000);                  /* DF */
	ip[8] = 57;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, US_IP);
	memset(ip + 20, 1, opt_len);            /* NOP options */
	memcpy(ip + hlen, l4, l4_len);
	fix_ip_csum(f);
	return 14 + hlen + l4_len;
}

static uint32_t tcp_frame(uint8_t *f, uint32_t src, uint32_t ip_opt, uint32_t payload)
{
	uint8_t l4[1500];
	uint32_t n = 20 + payload;

	memset(l4, 0, sizeof(l4));
	put16(l4, 40000);
	put16(l4 + 2, 80);
	put32(l4 + 4, 0x11223344);
	l4[12] = 0x50;
	l4[13] = 0x02;                          /* SYN */
	put16(l4 + 14, 65535);
	for (uint32_t i = 0; i < payload; i++)
		l4[20 + i] = (uint8_t)(i * 7 + 3);
	put16(l4 + 16, ref_cksum(l4, n, ref_pseudo(src, US_IP, PROTO_TCP, n)));
	return put_ip(f, PROTO_TCP, src, ip_opt, l4, n);
}

static uint32_t icmp_frame(uint8_t *f, uint8_t type, uint32_t ip_opt, uint32_t payload)
{
	uint8_t l4[1500];
	uint32_t n = 8 + payload;

	memset(l4, 0, sizeof(l4));
	l4[0] = type;
	put16(l4 + 4, 0xbeef);                  /* identifier */
	put16(l4 + 6, 0x0102);                  /* sequence */
	for (uint32_t i = 0; i < payload; i++)
		l4[8 + i] = (uint8_t)(0xa0 + i * 13);
	put16(l4 + 2, ref_cksum(l4, n, 0));
	return put_ip(f, PROTO_ICMP, PEER_IP, ip_opt, l4, n);
}

static uint32_t echo_frame(uint8_t *f, uint32_t ip_opt, uint32_t payload)
{
	return icmp_frame(f, 8, ip_opt, payload);
}

static uint32_t udp_frame(uint8_t *f)
{
	uint8_t l4[12] = { 0x9c, 0x40, 0x00, 0x35, 0x00, 0x0c, 0, 0, 'p', 'i', 'n', 'g' };

	put16(l4 + 6, ref_cksum(l4, sizeof(l4), ref_pseudo(PEER_IP, US_IP, PROTO_UDP, sizeof(l4))));
	return put_ip(f, PROTO_UDP, PEER_IP, 0, l4, sizeof(l4));
}

static uint32_t arp_frame(uint8_t *f, const uint8_t eth_dst[6], uint16_t op,
			  const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
	uint8_t *a = f + put_eth(f, eth_dst, sha, ETHERTYPE_ARP);

	put16(a, 1);
	put16(a + 2, ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	memset(f + 42, 0, 18);                  /* pad to the Ethernet minimum */
	return 60;
}

static uint32_t arp_request_frame(uint8_t *f, const uint8_t eth_dst[6])
{
	static const uint8_t zero[6] = { 0 };

	return arp_frame(f, eth_dst, 1, peer_mac, PEER_IP, zero, US_IP);
}

/* ---- classification helpers ---------------------------------------------- */

static enum pkt_class classify(const uint8_t *f, uint32_t len, struct pkt_meta *m,
			       enum porter_pdrop *why)
{
	return pkt_classify(f, len, &ifc, m, why);
}

static void expect_drop_ifc(const uint8_t *f, uint32_t len, const struct pkt_if *i,
			    enum porter_pdrop want)
{
	struct pkt_meta m;
	enum porter_pdrop why = PDROP__COUNT;
	enum pkt_class c = pkt_classify(f, len, i, &m, &why);

	cr_assert_eq(c, PKT_DROP, "class %d, want drop", c);
	cr_assert_eq(why, want, "reason %d, want %d", why, want);
}

static void expect_drop(const uint8_t *f, uint32_t len, enum porter_pdrop want)
{
	expect_drop_ifc(f, len, &ifc, want);
}

static void expect_class(const uint8_t *f, uint32_t len, enum pkt_class want, struct pkt_meta *m)
{
	enum porter_pdrop why = PDROP__COUNT;
	enum pkt_class c = classify(f, len, m, &why);

	cr_assert_eq(why, PDROP_NONE, "reason %d", why);
	cr_assert_eq(c, want, "class %d, want %d", c, want);
}

/* ---- Ethernet ------------------------------------------------------------ */

Test(pkt_classify, runt)
{
	uint8_t f[64] = { 0 };
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	(void)len;
	expect_drop(f, 0, PDROP_RUNT);
	expect_drop(f, 13, PDROP_RUNT);
}

Test(pkt_classify, not_our_mac)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	f[5] = 0x09;                            /* another station */
	expect_drop(f, len, PDROP_NOT_OUR_MAC);
	memcpy(f, (uint8_t[]){ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }, 6);
	expect_drop(f, len, PDROP_NOT_OUR_MAC);
}

Test(pkt_classify, broadcast_ipv4_not_accepted)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	memcpy(f, bcast_mac, 6);                /* broadcast is for ARP only */
	expect_drop(f, len, PDROP_NOT_OUR_MAC);
}

Test(pkt_classify, ethertype)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	put16(f + 12, 0x86dd);                  /* IPv6 */
	expect_drop(f, len, PDROP_ETHERTYPE);
	put16(f + 12, 0x8100);                  /* VLAN: not supported */
	expect_drop(f, len, PDROP_ETHERTYPE);
	expect_drop(f, 14, PDROP_ETHERTYPE);
}

/* ---- ARP ----------------------------------------------------------------- */

Test(pkt_classify, arp_short)
{
	uint8_t f[64];

	arp_request_frame(f, us_mac);
	expect_drop(f, 41, PDROP_ARP_MALFORMED);
	expect_drop(f, 14, PDROP_ARP_MALFORMED);
}

Test(pkt_classify, arp_htype)
{
	uint8_t f[64];
	uint32_t len = arp_request_frame(f, us_mac);

	put16(f + 14, 6);                       /* IEEE 802 */
	expect_drop(f, len, PDROP_ARP_MALFORMED);
}

Test(pkt_classify, arp_ptype)
{
	uint8_t f[64];
	uint32_t len = arp_request_frame(f, us_mac);

	put16(f + 16, 0x86dd);
	expect_drop(f, len, PDROP_ARP_MALFORMED);
}

Test(pkt_classify, arp_hlen)
{
	uint8_t f[64];
	uint32_t len = arp_request_frame(f, us_mac);

	f[18] = 8;
	expect_drop(f, len, PDROP_ARP_MALFORMED);
}

Test(pkt_classify, arp_plen)
{
	uint8_t f[64];
	uint32_t len = arp_request_frame(f, us_mac);

	f[19] = 16;
	expect_drop(f, len, PDROP_ARP_MALFORMED);
}

Test(pkt_classify, arp_op)
{
	uint8_t f[64];
	uint32_t len = arp_request_frame(f, us_mac);

	put16(f + 20, 0);
	expect_drop(f, len, PDROP_ARP_MALFORMED);
	put16(f + 20, 3);                       /* RARP request */
	expect_drop(f, len, PDROP_ARP_MALFORMED);
}

Test(pkt_classify, arp_not_ours)
{
	uint8_t f[64];
	uint32_t len = arp_request_frame(f, bcast_mac);

	put32(f + 38, PEER_IP + 1);
	expect_drop(f, len, PDROP_ARP_NOT_OURS);
}

Test(pkt_classify, arp_request_to_us)
{
	uint8_t f[64];
	struct pkt_meta m;
	uint32_t len = arp_request_frame(f, us_mac);

	expect_class(f, len, PKT_ARP, &m);
	cr_assert_eq(m.l3_off, 14);
	cr_assert_eq(m.src_ip, PEER_IP);
	cr_assert_eq(m.dst_ip, US_IP);
	/* exactly 42 bytes, no padding, is enough */
	expect_class(f, 42, PKT_ARP, &m);
}

Test(pkt_classify, arp_request_broadcast)
{
	uint8_t f[64];
	struct pkt_meta m;
	uint32_t len = arp_request_frame(f, bcast_mac);

	expect_class(f, len, PKT_ARP, &m);
	cr_assert_eq(m.src_ip, PEER_IP);
	cr_assert_eq(m.dst_ip, US_IP);
}

Test(pkt_classify, arp_reply_to_us)
{
	uint8_t f[64];
	struct pkt_meta m;
	uint32_t len = arp_frame(f, us_mac, 2, peer_mac, PEER_IP, us_mac, US_IP);

	expect_class(f, len, PKT_ARP, &m);
	cr_assert_eq(m.src_ip, PEER_IP);
	cr_assert_eq(m.dst_ip, US_IP);
}

/* ---- IPv4 ---------------------------------------------------------------- */

Test(pkt_classify, ip_short)
{
	uint8_t f[128];

	tcp_frame(f, PEER_IP, 0, 0);
	expect_drop(f, 14, PDROP_IP_SHORT);
	expect_drop(f, 33, PDROP_IP_SHORT);
}

Test(pkt_classify, ip_version)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	f[14] = 0x65;
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_IP_VERSION);
}

Test(pkt_classify, ip_ihl_below_5)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	f[14] = 0x44;
	expect_drop(f, len, PDROP_IP_IHL);
	f[14] = 0x40;
	expect_drop(f, len, PDROP_IP_IHL);
}

Test(pkt_classify, ip_ihl_beyond_data)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);   /* 40 bytes of IP */

	f[14] = 0x4f;                                 /* claims 60 bytes of header */
	expect_drop(f, len, PDROP_IP_IHL);
	f[14] = 0x46;                                 /* 24 bytes: fits in 40 */
	expect_drop(f, 14 + 23, PDROP_IP_IHL);        /* but not in 23 */
}

Test(pkt_classify, ip_total_length_too_small)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	put16(f + 16, 19);
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_IP_LEN);

	len = tcp_frame(f, PEER_IP, 4, 0);            /* IHL 6 */
	put16(f + 16, 22);                            /* < 24 */
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_IP_LEN);
}

Test(pkt_classify, ip_total_length_too_large)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	put16(f + 16, (uint16_t)(len - 14 + 1));
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_IP_LEN);
	put16(f + 16, 0xffff);
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_IP_LEN);
	/* valid frame cut short: the total length no longer fits */
	len = tcp_frame(f, PEER_IP, 0, 0);
	expect_drop(f, len - 1, PDROP_IP_LEN);
}

Test(pkt_classify, ip_bad_checksum)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	f[24] ^= 0x01;
	expect_drop(f, len, PDROP_IP_CSUM);
	/* a corrupted option byte is covered too */
	len = tcp_frame(f, PEER_IP, 8, 0);
	f[14 + 22] ^= 0x40;
	expect_drop(f, len, PDROP_IP_CSUM);
}

Test(pkt_classify, ip_more_fragments)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	put16(f + 20, 0x2000);
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_IP_FRAG);
}

Test(pkt_classify, ip_fragment_offset)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	put16(f + 20, 0x4001);                        /* DF, offset 8 bytes */
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_IP_FRAG);
	put16(f + 20, 0x1fff);
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_IP_FRAG);
}

Test(pkt_classify, ip_not_ours)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	put32(f + 30, US_IP + 1);
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_IP_NOT_OURS);
	put32(f + 30, 0x0a0000ff);                    /* our subnet broadcast */
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_IP_NOT_OURS);
}

static void expect_martian(uint32_t src)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, src, 0, 0);

	expect_drop(f, len, PDROP_IP_BAD_SRC);
}

Test(pkt_classify, martian_zero)            { expect_martian(0); }
Test(pkt_classify, martian_limited_bcast)   { expect_martian(0xffffffffu); }
Test(pkt_classify, martian_directed_bcast)  { expect_martian(0x0a0000ffu); }
Test(pkt_classify, martian_multicast_low)   { expect_martian(0xe0000001u); }
Test(pkt_classify, martian_multicast_high)  { expect_martian(0xefffffffu); }
Test(pkt_classify, martian_loopback)        { expect_martian(0x7f000001u); }
Test(pkt_classify, martian_loopback_net)    { expect_martian(0x7fabcdefu); }
Test(pkt_classify, martian_class_e)         { expect_martian(0xf0000001u); }

Test(pkt_classify, martian_boundaries_accepted)
{
	static const uint32_t ok[] = {
		0x0a0000feu,            /* last host of our /24 */
		0x0b0000ffu,            /* .255 of another network */
		0x01000000u, 0x7effffffu, 0x80000000u, 0xdfffffffu,
	};
	struct pkt_meta m;
	uint8_t f[128];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint32_t len = tcp_frame(f, ok[i], 0, 0);

		expect_class(f, len, PKT_TCP, &m);
		cr_assert_eq(m.src_ip, ok[i]);
	}
}

Test(pkt_classify, directed_broadcast_follows_prefix)
{
	struct pkt_if wide = ifc, p31 = ifc;
	struct pkt_meta m;
	enum porter_pdrop why;
	uint8_t f[128];
	uint32_t len;

	wide.prefix_len = 16;
	len = tcp_frame(f, 0x0a00ffffu, 0, 0);
	expect_drop_ifc(f, len, &wide, PDROP_IP_BAD_SRC);
	/* /31 (RFC 3021) has no broadcast: we are 10.0.0.0/31, the peer 10.0.0.1 */
	p31.ipv4 = 0x0a000000u;
	p31.prefix_len = 31;
	len = tcp_frame(f, 0x0a000001u, 0, 0);
	put32(f + 30, p31.ipv4);
	fix_ip_csum(f);
	cr_assert_eq(pkt_classify(f, len, &p31, &m, &why), PKT_TCP);
	cr_assert_eq(why, PDROP_NONE);
}

Test(pkt_classify, other_protocol_udp)
{
	uint8_t f[128];
	uint32_t len = udp_frame(f);

	expect_drop(f, len, PDROP_IP_PROTO);
}

/* ---- TCP ----------------------------------------------------------------- */

Test(pkt_classify, tcp_short)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	put16(f + 16, 39);                            /* 19 bytes of TCP */
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_TCP_SHORT);
	/* the IP total length bounds L4, not Ethernet padding */
	expect_drop(f, 60, PDROP_TCP_SHORT);
	put16(f + 16, 20);                            /* no TCP at all */
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_TCP_SHORT);
}

Test(pkt_classify, tcp_data_offset_below_5)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	f[46] = 0x40;
	expect_drop(f, len, PDROP_TCP_SHORT);
	f[46] = 0x00;
	expect_drop(f, len, PDROP_TCP_SHORT);
}

Test(pkt_classify, tcp_data_offset_beyond_segment)
{
	uint8_t f[128];
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);

	f[46] = 0x60;                                 /* 24 > 20 bytes of TCP */
	expect_drop(f, len, PDROP_TCP_SHORT);
	f[46] = 0xf0;
	expect_drop(f, len, PDROP_TCP_SHORT);
	/* padding would make room, but it is not part of the datagram */
	memset(f + len, 0, 60 - len);
	f[46] = 0x60;
	expect_drop(f, 60, PDROP_TCP_SHORT);
}

Test(pkt_classify, tcp_accepted)
{
	uint8_t f[128];
	struct pkt_meta m;
	uint32_t len = tcp_frame(f, PEER_IP, 0, 6);

	expect_class(f, len, PKT_TCP, &m);
	cr_assert_eq(m.l3_off, 14);
	cr_assert_eq(m.l4_off, 34);
	cr_assert_eq(m.ip_len, 46);
	cr_assert_eq(m.proto, PROTO_TCP);
	cr_assert_eq(m.src_ip, PEER_IP);
	cr_assert_eq(m.dst_ip, US_IP);
	cr_assert_eq(m.src_port, 40000);
	cr_assert_eq(m.dst_port, 80);
}

Test(pkt_classify, tcp_with_ip_options)
{
	uint8_t f[256];
	struct pkt_meta m;
	uint32_t len = tcp_frame(f, PEER_IP, 12, 3);

	expect_class(f, len, PKT_TCP, &m);
	cr_assert_eq(m.l3_off, 14);
	cr_assert_eq(m.l4_off, 14 + 32);
	cr_assert_eq(m.ip_len, 32 + 23);
	cr_assert_eq(m.src_port, 40000);
	cr_assert_eq(m.dst_port, 80);

	len = tcp_frame(f, PEER_IP, 40, 0);           /* IHL 15 */
	expect_class(f, len, PKT_TCP, &m);
	cr_assert_eq(m.l4_off, 14 + 60);
	cr_assert_eq(m.ip_len, 80);
}

Test(pkt_classify, tcp_with_tcp_options)
{
	uint8_t f[128];
	struct pkt_meta m;
	uint32_t len = tcp_frame(f, PEER_IP, 0, 12);

	f[46] = 0x80;                                 /* 32-byte header, 0 payload */
	expect_class(f, len, PKT_TCP, &m);
}

Test(pkt_classify, ethernet_padding_allowed)
{
	uint8_t f[128];
	struct pkt_meta m;
	uint32_t len = tcp_frame(f, PEER_IP, 0, 0);  /* 54 bytes */

	memset(f + len, 0xee, 60 - len);
	expect_class(f, 60, PKT_TCP, &m);
	cr_assert_eq(m.ip_len, 40);
	cr_assert_eq(m.l4_off, 34);
}

/* ---- ICMP ---------------------------------------------------------------- */

Test(pkt_classify, icmp_short)
{
	uint8_t f[128];
	uint32_t len = echo_frame(f, 0, 0);

	put16(f + 16, 27);                            /* 7 bytes of ICMP */
	fix_ip_csum(f);
	expect_drop(f, len, PDROP_ICMP_SHORT);
	expect_drop(f, 60, PDROP_ICMP_SHORT);         /* padding does not count */
}

Test(pkt_classify, icmp_not_echo_request)
{
	uint8_t f[128];
	uint32_t len = icmp_frame(f, 0, 0, 4);        /* echo reply */

	expect_drop(f, len, PDROP_ICMP_OTHER);
	len = icmp_frame(f, 3, 0, 4);                 /* destination unreachable */
	expect_drop(f, len, PDROP_ICMP_OTHER);
	len = icmp_frame(f, 13, 0, 12);               /* timestamp */
	expect_drop(f, len, PDROP_ICMP_OTHER);
}

Test(pkt_classify, icmp_bad_checksum)
{
	uint8_t f[128];
	uint32_t len = echo_frame(f, 0, 17);

	f[len - 1] ^= 0x20;
	expect_drop(f, len, PDROP_ICMP_CSUM);
	len = echo_frame(f, 0, 0);
	f[34 + 2] ^= 0xff;
	expect_drop(f, len, PDROP_ICMP_CSUM);
}

Test(pkt_classify, icmp_checksum_stops_at_total_length)
{
	uint8_t f[128];
	struct pkt_meta m;
	uint32_t len = echo_frame(f, 0, 5);           /* odd ICMP length, 47 bytes */

	memset(f + len, 0x5a, 60 - len);              /* non-zero padding */
	expect_class(f, 60, PKT_ICMP_ECHO, &m);
	cr_assert_eq(m.ip_len, 33);
}

Test(pkt_classify, icmp_echo_accepted)
{
	uint8_t f[256];
	struct pkt_meta m;
	uint32_t len = echo_frame(f, 0, 56);

	expect_class(f, len, PKT_ICMP_ECHO, &m);
	cr_assert_eq(m.l3_off, 14);
	cr_assert_eq(m.l4_off, 34);
	cr_assert_eq(m.ip_len, 20 + 8 + 56);
	cr_assert_eq(m.proto, PROTO_ICMP);
	cr_assert_eq(m.src_ip, PEER_IP);
	cr_assert_eq(m.dst_ip, US_IP);

	len = echo_frame(f, 8, 0);                    /* with IP options, no payload */
	expect_class(f, len, PKT_ICMP_ECHO, &m);
	cr_assert_eq(m.l4_off, 42);
	cr_assert_eq(m.ip_len, 36);
}

/* ---- ARP reply / request ------------------------------------------------- */

Test(pkt_arp, reply_every_field)
{
	uint8_t f[64];
	uint32_t len = arp_request_frame(f, bcast_mac);
	const uint8_t *a = f + 14;

	memset(f + 42, 0x77, 18);                     /* requester's padding */
	cr_assert_eq(pkt_arp_reply_inplace(f, len, &ifc), 42);
	cr_assert_arr_eq(f, peer_mac, 6);
	cr_assert_arr_eq(f + 6, us_mac, 6);
	cr_assert_eq(get16(f + 12), ETHERTYPE_ARP);
	cr_assert_eq(get16(a), 1);
	cr_assert_eq(get16(a + 2), ETHERTYPE_IPV4);
	cr_assert_eq(a[4], 6);
	cr_assert_eq(a[5], 4);
	cr_assert_eq(get16(a + 6), 2);
	cr_assert_arr_eq(a + 8, us_mac, 6);
	cr_assert_eq(get32(a + 14), US_IP);
	cr_assert_arr_eq(a + 18, peer_mac, 6);
	cr_assert_eq(get32(a + 24), PEER_IP);
	for (int i = 42; i < 60; i++)
		cr_assert_eq(f[i], 0, "padding byte %d", i);
}

Test(pkt_arp, reply_to_arp_sender_hardware_address)
{
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x33 };
	uint8_t f[64];
	uint32_t len = arp_request_frame(f, us_mac);

	memcpy(f + 6, other, 6);                      /* Ethernet src != ar$sha */
	cr_assert_eq(pkt_arp_reply_inplace(f, len, &ifc), 42);
	cr_assert_arr_eq(f, peer_mac, 6);
	cr_assert_arr_eq(f + 14 + 18, peer_mac, 6);
}

Test(pkt_arp, reply_unpadded_request)
{
	uint8_t f[64];

	arp_request_frame(f, us_mac);
	memset(f + 42, 0x77, 18);
	cr_assert_eq(pkt_arp_reply_inplace(f, 42, &ifc), 42);
	cr_assert_eq(f[42], 0x77, "nothing written past len");
}

Test(pkt_arp, reply_refuses_non_request)
{
	uint8_t f[64], copy[64];
	uint32_t len = arp_frame(f, us_mac, 2, peer_mac, PEER_IP, us_mac, US_IP);

	memcpy(copy, f, sizeof(copy));
	cr_assert_eq(pkt_arp_reply_inplace(f, len, &ifc), 0);
	cr_assert_arr_eq(f, copy, sizeof(copy));
	len = arp_request_frame(f, us_mac);
	cr_assert_eq(pkt_arp_reply_inplace(f, 41, &ifc), 0);
	put16(f + 12, ETHERTYPE_IPV4);
	cr_assert_eq(pkt_arp_reply_inplace(f, len, &ifc), 0);
}

Test(pkt_arp, request_every_field)
{
	uint8_t out[64];
	const uint8_t *a = out + 14;

	memset(out, 0xaa, sizeof(out));
	cr_assert_eq(pkt_arp_request(out, &ifc, 0x0a0000feu), 60);
	cr_assert_arr_eq(out, bcast_mac, 6);
	cr_assert_arr_eq(out + 6, us_mac, 6);
	cr_assert_eq(get16(out + 12), ETHERTYPE_ARP);
	cr_assert_eq(get16(a), 1);
	cr_assert_eq(get16(a + 2), ETHERTYPE_IPV4);
	cr_assert_eq(a[4], 6);
	cr_assert_eq(a[5], 4);
	cr_assert_eq(get16(a + 6), 1);
	cr_assert_arr_eq(a + 8, us_mac, 6);
	cr_assert_eq(get32(a + 14), US_IP);
	for (int i = 18; i < 24; i++)
		cr_assert_eq(a[i], 0, "target MAC byte %d", i - 18);
	cr_assert_eq(get32(a + 24), 0x0a0000feu);
	for (int i = 42; i < 60; i++)
		cr_assert_eq(out[i], 0, "padding byte %d", i);
	cr_assert_eq(out[60], 0xaa, "nothing written past 60");
}

Test(pkt_arp, request_is_classified_by_a_peer)
{
	static const struct pkt_if peer = { .mac = PEER_MAC, .ipv4 = PEER_IP, .prefix_len = 24 };
	uint8_t out[64];
	struct pkt_meta m;
	enum porter_pdrop why;

	pkt_arp_request(out, &ifc, PEER_IP);
	cr_assert_eq(pkt_classify(out, 60, &peer, &m, &why), PKT_ARP);
	cr_assert_eq(m.src_ip, US_IP);
}

/* ---- ICMP echo reply ----------------------------------------------------- */

/* Classify F, build the reply, and check everything against ORIG. */
static uint32_t echo_reply(uint8_t *f, uint32_t len, struct pkt_meta *m)
{
	expect_class(f, len, PKT_ICMP_ECHO, m);
	return pkt_icmp_echo_reply_inplace(f, len, m);
}

static void check_echo_reply(const uint8_t *r, uint32_t rlen, const uint8_t *orig,
			     uint32_t payload)
{
	const uint8_t *oip = orig + 14, *ip = r + 14;
	const uint8_t *oicmp = oip + (oip[0] & 0x0f) * 4, *icmp = ip + 20;
	uint32_t icmp_len = 8 + payload;

	cr_assert_eq(rlen, 14 + 20 + icmp_len);
	cr_assert_arr_eq(r, orig + 6, 6);
	cr_assert_arr_eq(r + 6, orig, 6);
	cr_assert_eq(get16(r + 12), ETHERTYPE_IPV4);
	cr_assert_eq(ip[0], 0x45);
	cr_assert_eq(ip[1], oip[1]);
	cr_assert_eq(get16(ip + 2), 20 + icmp_len);
	cr_assert_eq(get16(ip + 4), get16(oip + 4));
	cr_assert_eq(get16(ip + 6), get16(oip + 6));
	cr_assert_eq(ip[8], 64);
	cr_assert_eq(ip[9], PROTO_ICMP);
	cr_assert_eq(get32(ip + 12), get32(oip + 16));
	cr_assert_eq(get32(ip + 16), get32(oip + 12));
	cr_assert(ref_valid(ip, 20, 0), "IP header checksum");
	cr_assert_eq(icmp[0], 0);
	cr_assert_eq(icmp[1], 0);
	cr_assert_eq(get16(icmp + 4), get16(oicmp + 4), "identifier");
	cr_assert_eq(get16(icmp + 6), get16(oicmp + 6), "sequence");
	cr_assert_arr_eq(icmp + 8, oicmp + 8, payload);
	cr_assert(ref_valid(icmp, icmp_len, 0), "ICMP checksum");
}

Test(pkt_icmp, echo_reply_basic)
{
	uint8_t f[256], orig[256];
	struct pkt_meta m;
	uint32_t len = echo_frame(f, 0, 56);

	memcpy(orig, f, sizeof(f));
	check_echo_reply(f, echo_reply(f, len, &m), orig, 56);
}

Test(pkt_icmp, echo_reply_odd_payload)
{
	uint8_t f[256], orig[256];
	struct pkt_meta m;
	uint32_t len = echo_frame(f, 0, 57);

	memcpy(orig, f, sizeof(f));
	check_echo_reply(f, echo_reply(f, len, &m), orig, 57);
}

Test(pkt_icmp, echo_reply_without_payload_and_padding)
{
	uint8_t f[128], orig[128];
	struct pkt_meta m;
	uint32_t len = echo_frame(f, 0, 1);           /* 43 bytes */

	memset(f + len, 0xc3, 60 - len);
	memcpy(orig, f, sizeof(f));
	check_echo_reply(f, echo_reply(f, 60, &m), orig, 1);
	len = echo_frame(f, 0, 0);
	memcpy(orig, f, sizeof(f));
	check_echo_reply(f, echo_reply(f, len, &m), orig, 0);
}

Test(pkt_icmp, echo_reply_drops_ip_options)
{
	uint8_t f[256], orig[256];
	struct pkt_meta m;
	uint32_t len = echo_frame(f, 12, 33);

	memcpy(orig, f, sizeof(f));
	check_echo_reply(f, echo_reply(f, len, &m), orig, 33);
	len = echo_frame(f, 40, 64);                  /* IHL 15 */
	memcpy(orig, f, sizeof(f));
	check_echo_reply(f, echo_reply(f, len, &m), orig, 64);
}

Test(pkt_icmp, echo_reply_large)
{
	uint8_t f[1600], orig[1600];
	struct pkt_meta m;
	uint32_t len = echo_frame(f, 0, 1472);

	memcpy(orig, f, sizeof(f));
	check_echo_reply(f, echo_reply(f, len, &m), orig, 1472);
}

Test(pkt_icmp, echo_reply_rejects_inconsistent_meta)
{
	uint8_t f[128], orig[128];
	struct pkt_meta m, bad;
	uint32_t len = echo_frame(f, 0, 8);

	expect_class(f, len, PKT_ICMP_ECHO, &m);
	memcpy(orig, f, sizeof(f));
	bad = m;
	bad.ip_len = (uint16_t)(len - 14 + 1);        /* beyond the frame */
	cr_assert_eq(pkt_icmp_echo_reply_inplace(f, len, &bad), 0);
	bad = m;
	bad.l4_off = 38;                              /* disagrees with IHL */
	cr_assert_eq(pkt_icmp_echo_reply_inplace(f, len, &bad), 0);
	bad = m;
	bad.ip_len = 27;                              /* no room for ICMP header */
	cr_assert_eq(pkt_icmp_echo_reply_inplace(f, len, &bad), 0);
	cr_assert_arr_eq(f, orig, sizeof(f));
}

/* ---- checksum helpers ---------------------------------------------------- */

Test(pkt_cksum, rfc1071_example)
{
	/* RFC 1071 §3: these bytes sum to 0xddf2, so the checksum is 0x220d */
	static const uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	cr_assert_eq(pkt_cksum(b, sizeof(b), 0), 0x220d);
	cr_assert_eq(pkt_cksum(b, 0, 0), 0xffff);
	cr_assert_eq(pkt_cksum(b, 1, 0), (uint16_t)~0x0000);
	cr_assert_eq(pkt_cksum(b + 2, 1, 0), (uint16_t)~0xf200);
}

Test(pkt_cksum, matches_reference)
{
	static const uint32_t inits[] = { 0, 1, 0xffff, 0x1fffe, 0x12345678, 0xffffffffu };
	uint8_t buf[400];
	uint32_t x = 0x9e3779b9;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (uint32_t off = 0; off < 4; off++)
		for (uint32_t n = 0; n + off <= 300; n++)
			for (size_t k = 0; k < sizeof(inits) / sizeof(inits[0]); k++)
				cr_assert_eq(pkt_cksum(buf + off, n, inits[k]),
					     ref_cksum(buf + off, n, inits[k]),
					     "off %u len %u init %#x", off, n, inits[k]);
	memset(buf, 0xff, sizeof(buf));
	cr_assert_eq(pkt_cksum(buf, sizeof(buf), 0), ref_cksum(buf, sizeof(buf), 0));
}

Test(pkt_cksum, ipv4_header_ignores_stored_field)
{
	uint8_t f[128];
	uint8_t *ip = f + 14;
	uint16_t want;

	tcp_frame(f, PEER_IP, 0, 0);
	want = get16(ip + 10);
	put16(ip + 10, 0xdead);
	cr_assert_eq(pkt_ipv4_hdr_cksum(ip, 20), want);
	tcp_frame(f, PEER_IP, 8, 0);
	want = get16(ip + 10);
	put16(ip + 10, 0);
	cr_assert_eq(pkt_ipv4_hdr_cksum(ip, 28), want);
	put16(ip + 10, want);
	cr_assert_eq(pkt_cksum(ip, 28, 0), 0, "a valid header sums to all ones");
}
