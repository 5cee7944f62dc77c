/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/rst.c: RST for a segment with no connection (RFC 9293
 * §3.10.7.1). Frames are built here; checksums are built and verified with
 * an implementation independent of rst.c (high and low bytes summed apart).
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "secondary/rst.h"
#include "tests/unit/testbytes.h"

#define PEER_MAC  { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 }
#define US_MAC    { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee }
#define PEER_IP   0xc000020au   /* 192.0.2.10 */
#define US_IP     0xc6336401u   /* 198.51.100.1 */
#define PEER_PORT 40000
#define US_PORT   80

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

static const uint8_t peer_mac[6] = PEER_MAC;
static const uint8_t us_mac[6] = US_MAC;

/* ---- independent helpers ------------------------------------------------- */


/* One's complement sum: high-byte and low-byte columns summed apart, then folded. */
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

static uint64_t ref_pseudo(uint32_t src, uint32_t dst, uint32_t tcp_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + tcp_len;
}

/* ---- segment builder ----------------------------------------------------- */

struct seg {
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t payload;       /* data bytes */
	uint32_t ip_opt;        /* IP option bytes (multiple of 4) */
	uint32_t tcp_opt;       /* TCP option bytes (multiple of 4) */
	uint32_t pad;           /* Ethernet padding bytes after the datagram */
};

static void fix_ip_csum(uint8_t *f)
{
	uint8_t *ip = f + 14;

	put16(ip + 10, 0);
	put16(ip + 10, ref_cksum(ip, (size_t)(ip[0] & 0x0f) * 4, 0));
}

/* Recompute the TCP checksum of the segment bounded by the IP total length. */
static void fix_tcp_csum(uint8_t *f)
{
	uint8_t *ip = f + 14;
	uint32_t hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	uint32_t tcp_len = get16(ip + 2) - hlen;
	uint8_t *tcp = ip + hlen;

	put16(tcp + 16, 0);
	put16(tcp + 16, ref_cksum(tcp, tcp_len, ref_pseudo(get32(ip + 12), get32(ip + 16), tcp_len)));
}

/* PEER -> US; returns the frame length (datagram plus padding). */
static uint32_t build(uint8_t *f, const struct seg *s)
{
	uint8_t *ip = f + 14, *tcp;
	uint32_t hlen = 20 + s->ip_opt, thlen = 20 + s->tcp_opt;
	uint32_t tot = hlen + thlen + s->payload;

	memcpy(f, us_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, 0x0800);
	memset(ip, 0, hlen);
	ip[0] = (uint8_t)(0x40 | hlen / 4);
	ip[1] = 0x28;
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 4, 0x4321);
	ip[8] = 51;
	ip[9] = 6;
	put32(ip + 12, PEER_IP);
	put32(ip + 16, US_IP);
	memset(ip + 20, 1, s->ip_opt);           /* NOP options */
	fix_ip_csum(f);
	tcp = ip + hlen;
	memset(tcp, 0, thlen);
	put16(tcp, PEER_PORT);
	put16(tcp + 2, US_PORT);
	put32(tcp + 4, s->seq);
	put32(tcp + 8, s->ack);
	tcp[12] = (uint8_t)((thlen / 4) << 4);
	tcp[13] = s->flags;
	put16(tcp + 14, 29200);
	memset(tcp + 20, 1, s->tcp_opt);         /* NOP options */
	for (uint32_t i = 0; i < s->payload; i++)
		tcp[thlen + i] = (uint8_t)(i * 31 + 7);
	fix_tcp_csum(f);
	memset(f + 14 + tot, 0xe5, s->pad);
	return 14 + tot + s->pad;
}

/* ---- checks -------------------------------------------------------------- */

/* Everything in the RST that does not depend on SEQ/ACK/flags. */
static void check_rst(const uint8_t *o)
{
	const uint8_t *ip = o + 14, *tcp = o + 34;

	cr_assert_arr_eq(o, peer_mac, 6, "Ethernet dst is the sender");
	cr_assert_arr_eq(o + 6, us_mac, 6);
	cr_assert_eq(get16(o + 12), 0x0800);
	cr_assert_eq(ip[0], 0x45);
	cr_assert_eq(get16(ip + 2), 40, "total length");
	cr_assert_eq(get16(ip + 4), 0, "ID");
	cr_assert_eq(get16(ip + 6), 0x4000, "DF, offset 0");
	cr_assert_eq(ip[8], 64, "TTL");
	cr_assert_eq(ip[9], 6);
	cr_assert_eq(get32(ip + 12), US_IP);
	cr_assert_eq(get32(ip + 16), PEER_IP);
	cr_assert_eq(ref_sum(ip, 20, 0), 0xffff, "IP header checksum");
	cr_assert_eq(get16(tcp), US_PORT);
	cr_assert_eq(get16(tcp + 2), PEER_PORT);
	cr_assert_eq(tcp[12], 0x50, "data offset 5, reserved 0");
	cr_assert_eq(get16(tcp + 14), 0, "window");
	cr_assert_eq(get16(tcp + 18), 0, "urgent pointer");
	cr_assert_eq(ref_sum(tcp, 20, ref_pseudo(US_IP, PEER_IP, 20)), 0xffff, "TCP checksum");
}

static void expect_rst(const struct seg *s, uint32_t seq, uint32_t ack, uint8_t flags)
{
	uint8_t in[1600], out[RST_FRAME_LEN + 4];
	uint32_t len = build(in, s);

	memset(out, 0xcc, sizeof(out));
	cr_assert_eq(rst_build_reply(in, len, out), RST_REPLY);
	check_rst(out);
	cr_assert_eq(get32(out + 38), seq, "seq %#x, want %#x", get32(out + 38), seq);
	cr_assert_eq(get32(out + 42), ack, "ack %#x, want %#x", get32(out + 42), ack);
	cr_assert_eq(out[47], flags, "flags %#x, want %#x", out[47], flags);
	for (size_t i = RST_FRAME_LEN; i < sizeof(out); i++)
		cr_assert_eq(out[i], 0xcc, "nothing written past RST_FRAME_LEN");
}

static void expect_verdict(const uint8_t *in, uint32_t len, enum rst_verdict want)
{
	uint8_t out[RST_FRAME_LEN];
	enum rst_verdict v = rst_build_reply(in, len, out);

	cr_assert_eq(v, want, "len %u: verdict %d, want %d", len, v, want);
}

/* ---- RST|ACK when the incoming ACK bit is off ----------------------------- */

Test(rst, syn_without_ack)
{
	struct seg s = { .seq = 1000, .flags = F_SYN };

	expect_rst(&s, 0, 1001, F_RST | F_ACK);
}

Test(rst, syn_with_payload)
{
	struct seg s = { .seq = 5000, .flags = F_SYN, .payload = 10 };

	expect_rst(&s, 0, 5000 + 1 + 10, F_RST | F_ACK);
}

Test(rst, syn_fin_counts_both)
{
	struct seg s = { .seq = 77, .flags = F_SYN | F_FIN, .payload = 3 };

	expect_rst(&s, 0, 77 + 2 + 3, F_RST | F_ACK);
}

Test(rst, data_without_ack)
{
	struct seg s = { .seq = 123456, .flags = F_PSH, .payload = 7 };

	expect_rst(&s, 0, 123456 + 7, F_RST | F_ACK);
	s.flags = F_FIN;
	s.payload = 0;
	expect_rst(&s, 0, 123456 + 1, F_RST | F_ACK);
	s.flags = 0;                             /* no flags, no data: SEG.LEN 0 */
	expect_rst(&s, 0, 123456, F_RST | F_ACK);
}

Test(rst, sequence_wraparound)
{
	struct seg s = { .seq = 0xffffffffu, .flags = F_SYN };

	expect_rst(&s, 0, 0, F_RST | F_ACK);
	s.seq = 0xfffffff0u;
	s.payload = 20;
	expect_rst(&s, 0, 0xfffffff0u + 21, F_RST | F_ACK);    /* 5 */
}

Test(rst, tcp_options_are_not_payload)
{
	struct seg s = { .seq = 9, .flags = F_SYN, .tcp_opt = 20 };

	expect_rst(&s, 0, 10, F_RST | F_ACK);
	s.payload = 4;
	expect_rst(&s, 0, 14, F_RST | F_ACK);
}

/* ---- RST with SEQ = SEG.ACK when the incoming ACK bit is on ------------- */

Test(rst, fin_ack_with_data)
{
	struct seg s = { .seq = 1, .ack = 0xdeadbeef, .flags = F_FIN | F_ACK, .payload = 5 };

	expect_rst(&s, 0xdeadbeef, 0, F_RST);
}

Test(rst, plain_ack)
{
	struct seg s = { .seq = 42, .ack = 0x01020304, .flags = F_ACK };

	expect_rst(&s, 0x01020304, 0, F_RST);
}

Test(rst, syn_ack)
{
	struct seg s = { .seq = 42, .ack = 0xffffffffu, .flags = F_SYN | F_ACK };

	expect_rst(&s, 0xffffffffu, 0, F_RST);
}

/* ---- never answer a RST ---------------------------------------------------- */

Test(rst, incoming_rst)
{
	uint8_t in[128];
	struct seg s = { .seq = 100, .flags = F_RST };

	expect_verdict(in, build(in, &s), RST_DROP_IS_RST);
	s.flags = F_RST | F_ACK;
	s.ack = 55;
	expect_verdict(in, build(in, &s), RST_DROP_IS_RST);
	s.flags = F_RST | F_SYN;
	expect_verdict(in, build(in, &s), RST_DROP_IS_RST);
}

/* ---- checksum ----------------------------------------------------------------- */

Test(rst, bad_tcp_checksum)
{
	uint8_t in[128];
	struct seg s = { .seq = 100, .flags = F_SYN, .payload = 9 };
	uint32_t len = build(in, &s);

	in[len - 1] ^= 0x01;                     /* payload byte */
	expect_verdict(in, len, RST_DROP_CSUM);
	len = build(in, &s);
	in[34 + 16] ^= 0x80;                     /* checksum field */
	expect_verdict(in, len, RST_DROP_CSUM);
	len = build(in, &s);
	in[34 + 13] = F_SYN | F_FIN;             /* header byte */
	expect_verdict(in, len, RST_DROP_CSUM);
}

Test(rst, checksum_covers_pseudo_header)
{
	uint8_t in[128];
	struct seg s = { .seq = 100, .flags = F_SYN };
	uint32_t len = build(in, &s);

	put32(in + 26, PEER_IP + 1);             /* source address */
	fix_ip_csum(in);
	expect_verdict(in, len, RST_DROP_CSUM);
	len = build(in, &s);
	put32(in + 30, US_IP ^ 0x00010000u);     /* destination address */
	fix_ip_csum(in);
	expect_verdict(in, len, RST_DROP_CSUM);
}

Test(rst, checksum_stops_at_total_length)
{
	struct seg s = { .seq = 300, .flags = F_SYN, .payload = 1, .pad = 5 };

	/* odd segment length, non-zero padding after it: padding is not TCP */
	expect_rst(&s, 0, 302, F_RST | F_ACK);
	s.payload = 0;
	s.pad = 6;
	expect_rst(&s, 0, 301, F_RST | F_ACK);
}

Test(rst, rst_with_bad_checksum_is_a_checksum_drop)
{
	uint8_t in[128];
	struct seg s = { .seq = 100, .flags = F_RST };
	uint32_t len = build(in, &s);

	in[34 + 17] ^= 0x01;
	expect_verdict(in, len, RST_DROP_CSUM);
}

/* ---- malformed ------------------------------------------------------------ */

Test(rst, every_truncation_is_malformed)
{
	uint8_t in[256];
	struct seg s = { .seq = 1, .flags = F_SYN, .payload = 11, .ip_opt = 8, .tcp_opt = 12 };
	uint32_t len = build(in, &s);

	for (uint32_t n = 0; n < len; n++)
		expect_verdict(in, n, RST_DROP_MALFORMED);
	expect_verdict(in, len, RST_REPLY);
}

Test(rst, not_ipv4_tcp)
{
	uint8_t in[128];
	struct seg s = { .seq = 1, .flags = F_SYN };
	uint32_t len = build(in, &s);

	put16(in + 12, 0x0806);
	expect_verdict(in, len, RST_DROP_MALFORMED);
	len = build(in, &s);
	in[14] = 0x65;                           /* version 6 */
	expect_verdict(in, len, RST_DROP_MALFORMED);
	len = build(in, &s);
	in[14 + 9] = 17;                         /* UDP */
	fix_ip_csum(in);
	expect_verdict(in, len, RST_DROP_MALFORMED);
}

Test(rst, fragments_are_malformed)
{
	uint8_t in[128];
	struct seg s = { .seq = 1, .flags = F_SYN };
	uint32_t len = build(in, &s);

	put16(in + 20, 0x2000);                  /* MF */
	fix_ip_csum(in);
	expect_verdict(in, len, RST_DROP_MALFORMED);
	put16(in + 20, 0x0010);                  /* offset */
	fix_ip_csum(in);
	expect_verdict(in, len, RST_DROP_MALFORMED);
}

Test(rst, ihl_lies)
{
	uint8_t in[128];
	struct seg s = { .seq = 1, .flags = F_SYN };
	uint32_t len = build(in, &s);            /* 54 bytes: 40 of IP */

	in[14] = 0x44;                           /* IHL 4 */
	expect_verdict(in, len, RST_DROP_MALFORMED);
	in[14] = 0x40;                           /* IHL 0 */
	expect_verdict(in, len, RST_DROP_MALFORMED);
	in[14] = 0x4f;                           /* 60 bytes > 40 available */
	expect_verdict(in, len, RST_DROP_MALFORMED);
	in[14] = 0x47;                           /* 28: fits, but leaves 12 for TCP */
	expect_verdict(in, len, RST_DROP_MALFORMED);
}

Test(rst, total_length_lies)
{
	uint8_t in[128];
	struct seg s = { .seq = 1, .flags = F_SYN, .pad = 6 };
	uint32_t len = build(in, &s);            /* 54 + 6 padding */

	put16(in + 16, 39);                      /* 19 bytes of TCP */
	expect_verdict(in, len, RST_DROP_MALFORMED);
	put16(in + 16, 19);                      /* below the IP header */
	expect_verdict(in, len, RST_DROP_MALFORMED);
	put16(in + 16, (uint16_t)(len - 14 + 1));    /* beyond the frame */
	expect_verdict(in, len, RST_DROP_MALFORMED);
	put16(in + 16, 0xffff);
	expect_verdict(in, len, RST_DROP_MALFORMED);
}

Test(rst, data_offset_lies)
{
	uint8_t in[128];
	struct seg s = { .seq = 1, .flags = F_SYN, .payload = 3 };
	uint32_t len = build(in, &s);            /* 23 bytes of TCP */

	in[34 + 12] = 0x40;                      /* 16 < 20 */
	expect_verdict(in, len, RST_DROP_MALFORMED);
	in[34 + 12] = 0x00;
	expect_verdict(in, len, RST_DROP_MALFORMED);
	in[34 + 12] = 0x60;                      /* 24 > 23 */
	expect_verdict(in, len, RST_DROP_MALFORMED);
	in[34 + 12] = 0xf0;
	expect_verdict(in, len, RST_DROP_MALFORMED);
}

/* ---- input variants --------------------------------------------------------- */

Test(rst, ip_options_in_input)
{
	struct seg s = { .seq = 0x80000000u, .flags = F_SYN, .payload = 2, .ip_opt = 4 };

	expect_rst(&s, 0, 0x80000003u, F_RST | F_ACK);
	s.ip_opt = 40;                           /* IHL 15 */
	s.flags = F_ACK;
	s.ack = 0x0badf00d;
	expect_rst(&s, 0x0badf00d, 0, F_RST);
}

Test(rst, output_may_alias_input)
{
	uint8_t buf[128];
	struct seg s = { .seq = 10, .flags = F_SYN, .ip_opt = 8 };
	uint32_t len = build(buf, &s);

	cr_assert_eq(rst_build_reply(buf, len, buf), RST_REPLY);
	check_rst(buf);
	cr_assert_eq(get32(buf + 38), 0);
	cr_assert_eq(get32(buf + 42), 11);
	cr_assert_eq(buf[47], F_RST | F_ACK);
}
