/* SPDX-License-Identifier: BSD-3-Clause */
/* SipHash-2-4 known answers, RFC 6528 ISNs, RFC 4987 SYN cookies. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "secondary/tcp/tcp_isn.h"

/*
 * The 64 SipHash-2-4 vectors of the reference implementation (vectors.h,
 * vectors_sip64): key 00 01 .. 0f, message 00 01 .. (len-1) for len 0..63,
 * here as the 64-bit result (the reference lists its little-endian bytes).
 * Cross-checked against OpenSSL 3's independent SIPHASH MAC (size:8).
 * Entry 15 is the example of the SipHash paper (Appendix A).
 */
static const uint64_t sip_vectors[64] = {
	0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull, 0x85676696d7fb7e2dull,
	0xcf2794e0277187b7ull, 0x18765564cd99a68dull, 0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull,
	0x93f5f5799a932462ull, 0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
	0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull, 0xa129ca6149be45e5ull,
	0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull, 0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull,
	0xbed65cf21aa2ee98ull, 0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull,
	0xb8ad50c6f649af94ull, 0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull, 0x2f2e6163076bcfadull,
	0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull, 0xad87a3535c49ef28ull, 0x32d892fad841c342ull,
	0x7127512f72f27cceull, 0xa7f32346f95978e3ull, 0x12e0b01abb051238ull, 0x15e034d40fa197aeull,
	0x314dffbe0815a3b4ull, 0x027990f029623981ull, 0xcadcd4e59ef40c4dull, 0x9abfd8766a33735cull,
	0x0e3ea96b5304a7d0ull, 0xad0c42d6fc585992ull, 0x187306c89bc215a9ull, 0xd4a60abcf3792b95ull,
	0xf935451de4f21df2ull, 0xa9538f0419755787ull, 0xdb9acddff56ca510ull, 0xd06c98cd5c0975ebull,
	0xe612a3cb9ecba951ull, 0xc766e62cfcadaf96ull, 0xee64435a9752fe72ull, 0xa192d576b245165aull,
	0x0a8787bf8ecb74b2ull, 0x81b3e73d20b49b6full, 0x7fa8220ba3b2eceaull, 0x245731c13ca42499ull,
	0xb78dbfaf3a8d83bdull, 0xea1ad565322a1a0bull, 0x60e61c23a3795013ull, 0x6606d7e446282b93ull,
	0x6ca4ecb15c5f91e1ull, 0x9f626da15c9625f3ull, 0xe51b38608ef25f57ull, 0x958a324ceb064572ull,
};

static const uint8_t key_seq[TCP_SECRET_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

/* Deterministic PRNG (splitmix64) so every run checks the same inputs. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_fill(uint64_t *s, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next(s);
}

/* ---- SipHash ---- */

Test(siphash, reference_vectors_all_64)
{
	uint8_t msg[64];

	for (unsigned int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (unsigned int len = 0; len < 64; len++)
		cr_expect_eq(tcp_siphash(key_seq, msg, len), sip_vectors[len],
			     "len %u: got %016llx want %016llx", len,
			     (unsigned long long)tcp_siphash(key_seq, msg, len),
			     (unsigned long long)sip_vectors[len]);
}

Test(siphash, paper_example)
{
	/* SipHash paper, Appendix A: key 00..0f, message 00..0e. */
	const uint8_t msg[15] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };

	cr_assert_eq(tcp_siphash(key_seq, msg, sizeof(msg)), 0xa129ca6149be45e5ull);
}

Test(siphash, unaligned_input)
{
	uint8_t buf[64 + 8];

	for (unsigned int off = 1; off < 8; off++) {
		for (unsigned int i = 0; i < 64; i++)
			buf[off + i] = (uint8_t)i;
		for (unsigned int len = 0; len < 64; len++)
			cr_expect_eq(tcp_siphash(key_seq, buf + off, len), sip_vectors[len],
				     "offset %u len %u", off, len);
	}
}

/*
 * A second SipHash-2-4, deliberately in another style: the state is an array,
 * the SipRound is written as the paper's two interleaved half-rounds, the key
 * and message words are assembled byte by byte from a zero-padded copy whose
 * last byte is the length.
 */
static uint64_t rol(uint64_t x, int n)
{
	return (x << n) | (x >> (64 - n));
}

static void half_round(uint64_t v[4], int a, int b, int c, int d, int s, int t)
{
	v[a] += v[b];
	v[c] += v[d];
	v[b] = rol(v[b], s) ^ v[a];
	v[d] = rol(v[d], t) ^ v[c];
	v[a] = rol(v[a], 32);
}

static void sipround_alt(uint64_t v[4])
{
	half_round(v, 0, 1, 2, 3, 13, 16);
	half_round(v, 2, 1, 0, 3, 17, 21);
}

static uint64_t word_at(const uint8_t *b)
{
	uint64_t w = 0;

	for (int i = 0; i < 8; i++)
		w |= (uint64_t)b[i] << (8 * i);
	return w;
}

static uint64_t siphash_alt(const uint8_t key[16], const uint8_t *msg, size_t len)
{
	uint8_t pad[256 + 8] = { 0 };
	size_t padded = (len / 8 + 1) * 8;
	uint64_t k[2] = { word_at(key), word_at(key + 8) };
	uint64_t v[4] = {
		k[0] ^ 0x736f6d6570736575ull, k[1] ^ 0x646f72616e646f6dull,
		k[0] ^ 0x6c7967656e657261ull, k[1] ^ 0x7465646279746573ull,
	};

	memcpy(pad, msg, len);
	pad[padded - 1] = (uint8_t)len;
	for (size_t off = 0; off < padded; off += 8) {
		uint64_t m = word_at(pad + off);
		int r;

		v[3] ^= m;
		for (r = 0; r < 2; r++)
			sipround_alt(v);
		v[0] ^= m;
	}
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sipround_alt(v);
	return (v[0] ^ v[1]) ^ (v[2] ^ v[3]);
}

Test(siphash, agrees_with_second_implementation)
{
	uint64_t s = 0x5eed0001;
	uint8_t key[16], msg[256];

	/* The second implementation first reproduces the reference vectors. */
	for (unsigned int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (unsigned int len = 0; len < 64; len++)
		cr_assert_eq(siphash_alt(key_seq, msg, len), sip_vectors[len], "alt len %u", len);

	for (int n = 0; n < 10000; n++) {
		size_t len = (size_t)(rng_next(&s) % 256);

		rng_fill(&s, key, sizeof(key));
		rng_fill(&s, msg, len);
		cr_assert_eq(tcp_siphash(key, msg, (unsigned int)len), siphash_alt(key, msg, len),
			     "random input %d len %zu", n, len);
	}
}

/* ---- ISN ---- */

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static const uint8_t key_a[TCP_SECRET_LEN] = {
	0x8a, 0x13, 0x5c, 0xe2, 0x07, 0x9f, 0x41, 0xb6, 0xd0, 0x2e, 0x73, 0x18, 0xa5, 0x6c, 0xf9, 0x34,
};
static const uint8_t key_b[TCP_SECRET_LEN] = {
	0x8a, 0x13, 0x5c, 0xe2, 0x07, 0x9f, 0x41, 0xb6, 0xd0, 0x2e, 0x73, 0x18, 0xa5, 0x6c, 0xf9, 0x35,
};

#define LADDR IP(10, 0, 0, 1)
#define LPORT 443
#define RADDR IP(192, 0, 2, 77)
#define RPORT 51234

Test(isn, rfc6528_formula)
{
	/* F = low 32 bits of SipHash over the big-endian packed 4-tuple. */
	const uint8_t packed[12] = { 10, 0, 0, 1, 0x01, 0xbb, 192, 0, 2, 77, 0xc8, 0x22 };
	uint32_t f = (uint32_t)tcp_siphash(key_a, packed, sizeof(packed));

	cr_assert_eq(tcp_isn(key_a, LADDR, LPORT, RADDR, RPORT, 0), f);
	cr_assert_eq(tcp_isn(key_a, LADDR, LPORT, RADDR, RPORT, 4000), f + 1000u);
	cr_assert_eq(tcp_isn(key_a, LADDR, LPORT, RADDR, RPORT, 1234567891ull),
		     f + (uint32_t)(1234567891ull / 4));
}

Test(isn, monotone_with_time)
{
	const uint64_t t0 = 1700000000ull * 1000000ull;  /* a 2023 wall-clock in us */
	const uint32_t i0 = tcp_isn(key_a, LADDR, LPORT, RADDR, RPORT, t0);
	uint32_t prev = i0;
	uint64_t s = 42;

	/* Steps of 1 us: +1 every 4 us, never back. */
	for (uint64_t t = t0 + 1; t < t0 + 4000; t++) {
		uint32_t i = tcp_isn(key_a, LADDR, LPORT, RADDR, RPORT, t);

		cr_assert(i - prev <= 1u, "step at %llu", (unsigned long long)t);
		cr_assert_eq(i - i0, (uint32_t)(t / 4 - t0 / 4));
		prev = i;
	}
	/* One second: 250,000 ticks. */
	cr_assert_eq(tcp_isn(key_a, LADDR, LPORT, RADDR, RPORT, t0 + 1000000) - i0, 250000u);
	/* Arbitrary later times, including past the 2^32 * 4 us (~4.8 h) wrap. */
	for (int n = 0; n < 10000; n++) {
		uint64_t t = t0 + rng_next(&s) % (1ull << 40);

		cr_assert_eq(tcp_isn(key_a, LADDR, LPORT, RADDR, RPORT, t) - i0,
			     (uint32_t)(t / 4 - t0 / 4));
	}
}

Test(isn, differs_across_tuples)
{
	const uint64_t t = 987654321;
	const uint32_t base = tcp_isn(key_a, LADDR, LPORT, RADDR, RPORT, t);
	uint64_t s = 7;

	cr_expect_neq(tcp_isn(key_a, LADDR + 1, LPORT, RADDR, RPORT, t), base);
	cr_expect_neq(tcp_isn(key_a, LADDR, LPORT + 1, RADDR, RPORT, t), base);
	cr_expect_neq(tcp_isn(key_a, LADDR, LPORT, RADDR + 1, RPORT, t), base);
	cr_expect_neq(tcp_isn(key_a, LADDR, LPORT, RADDR, RPORT + 1, t), base);
	/* The reverse direction is another tuple. */
	cr_expect_neq(tcp_isn(key_a, RADDR, RPORT, LADDR, LPORT, t), base);
	/* Each single-bit change of any field. */
	for (int b = 0; b < 32; b++) {
		cr_expect_neq(tcp_isn(key_a, LADDR ^ (1u << b), LPORT, RADDR, RPORT, t), base, "laddr %d", b);
		cr_expect_neq(tcp_isn(key_a, LADDR, LPORT, RADDR ^ (1u << b), RPORT, t), base, "raddr %d", b);
	}
	for (int b = 0; b < 16; b++) {
		cr_expect_neq(tcp_isn(key_a, LADDR, (uint16_t)(LPORT ^ (1u << b)), RADDR, RPORT, t), base,
			      "lport %d", b);
		cr_expect_neq(tcp_isn(key_a, LADDR, LPORT, RADDR, (uint16_t)(RPORT ^ (1u << b)), t), base,
			      "rport %d", b);
	}
	/* Consecutive client ports (a scan) get unrelated offsets: differences vary. */
	{
		uint32_t d0 = tcp_isn(key_a, LADDR, LPORT, RADDR, 1001, t) -
			      tcp_isn(key_a, LADDR, LPORT, RADDR, 1000, t);
		int same = 0;

		for (uint16_t p = 1001; p < 1100; p++)
			same += (tcp_isn(key_a, LADDR, LPORT, RADDR, (uint16_t)(p + 1), t) -
				 tcp_isn(key_a, LADDR, LPORT, RADDR, p, t)) == d0;
		cr_expect_leq(same, 2);
	}
	/* 4096 random tuples at the same time: no collisions expected (p ~ 2e-3). */
	{
		static uint32_t seen[4096];
		int coll = 0;

		for (int n = 0; n < 4096; n++) {
			uint64_t r = rng_next(&s);

			seen[n] = tcp_isn(key_a, (uint32_t)r, (uint16_t)(r >> 32), (uint32_t)rng_next(&s),
					  (uint16_t)(r >> 48), t);
			for (int m = 0; m < n; m++)
				coll += seen[m] == seen[n];
		}
		cr_expect_leq(coll, 1);
	}
}

Test(isn, differs_with_key)
{
	int same = 0;

	for (uint64_t t = 0; t < 1000000; t += 997)
		same += tcp_isn(key_a, LADDR, LPORT, RADDR, RPORT, t) ==
			tcp_isn(key_b, LADDR, LPORT, RADDR, RPORT, t);
	cr_expect_eq(same, 0);
	cr_expect_neq(tcp_isn(key_a, LADDR, LPORT, RADDR, RPORT, 0),
		      tcp_isn(key_seq, LADDR, LPORT, RADDR, RPORT, 0));
}

/* ---- SYN cookies ---- */

#define PEER_ISN 0xdeadbeefu

static bool check(const uint8_t *key, uint32_t cookie, uint32_t counter, struct tcp_cookie_opts *o)
{
	return tcp_cookie_check(key, LADDR, LPORT, RADDR, RPORT, PEER_ISN, cookie, counter, o);
}

static uint32_t make(const uint8_t *key, uint32_t counter, const struct tcp_cookie_opts *o)
{
	return tcp_cookie_make(key, LADDR, LPORT, RADDR, RPORT, PEER_ISN, counter, o);
}

Test(cookie, mss_table_ascending)
{
	for (int i = 1; i < 8; i++)
		cr_assert_gt(tcp_cookie_mss_table[i], tcp_cookie_mss_table[i - 1]);
	cr_assert_eq(tcp_cookie_mss_table[0], 536);
}

static uint16_t decoded_mss(uint16_t peer_mss)
{
	struct tcp_cookie_opts in = { .mss = peer_mss }, out;

	cr_assert(check(key_a, make(key_a, 100, &in), 100, &out));
	return out.mss;
}

Test(cookie, mss_encoding)
{
	cr_expect_eq(decoded_mss(0), 536);     /* no MSS option: below all -> index 0 */
	cr_expect_eq(decoded_mss(1), 536);
	cr_expect_eq(decoded_mss(535), 536);
	cr_expect_eq(decoded_mss(536), 536);
	cr_expect_eq(decoded_mss(1199), 536);
	cr_expect_eq(decoded_mss(1200), 1200);
	cr_expect_eq(decoded_mss(1380), 1360);
	cr_expect_eq(decoded_mss(1459), 1452);
	cr_expect_eq(decoded_mss(1460), 1460);
	cr_expect_eq(decoded_mss(8959), 1460);
	cr_expect_eq(decoded_mss(8960), 8960);
	cr_expect_eq(decoded_mss(65535), 8960);
	for (int i = 0; i < 8; i++) {
		cr_expect_eq(decoded_mss(tcp_cookie_mss_table[i]), tcp_cookie_mss_table[i]);
		if (i < 7)
			cr_expect_eq(decoded_mss((uint16_t)(tcp_cookie_mss_table[i + 1] - 1)),
				     tcp_cookie_mss_table[i]);
	}
}

Test(cookie, round_trip_every_option)
{
	const uint32_t counters[] = { 0, 1, 2, 12345, 0x7fffffffu, 0xfffffffeu, 0xffffffffu };
	int n = 0;

	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++)
	for (int m = 0; m < 8; m++)
	for (int ws = 0; ws <= 15; ws++)   /* 15 = absent */
	for (int sack = 0; sack < 2; sack++)
	for (int ts = 0; ts < 2; ts++) {
		struct tcp_cookie_opts in = {
			.mss = (uint16_t)(tcp_cookie_mss_table[m] + (m < 7 ? 3 : 100)),
			.wscale = (uint8_t)(ws == 15 ? 7 : ws),   /* ignored when absent */
			.has_wscale = ws != 15,
			.sack_perm = sack,
			.ts = ts,
		};
		uint32_t cookie = make(key_a, counters[c], &in);

		for (uint32_t later = 0; later < 2; later++) {
			struct tcp_cookie_opts out;

			memset(&out, 0xa5, sizeof(out));
			cr_assert(check(key_a, cookie, counters[c] + later, &out),
				  "counter %u+%u mss %d ws %d sack %d ts %d", counters[c], later, m, ws,
				  sack, ts);
			cr_assert_eq(out.mss, tcp_cookie_mss_table[m]);
			cr_assert_eq(out.has_wscale, ws != 15);
			cr_assert_eq(out.wscale, ws == 15 ? 0 : ws);
			cr_assert_eq(out.sack_perm, (bool)sack);
			cr_assert_eq(out.ts, (bool)ts);
			n++;
		}
	}
	cr_assert_eq(n, 7 * 8 * 16 * 2 * 2 * 2);
}

Test(cookie, wscale_above_14_clamped)
{
	for (int ws = 15; ws < 256; ws++) {
		struct tcp_cookie_opts in = { .mss = 1460, .wscale = (uint8_t)ws, .has_wscale = true }, out;

		cr_assert(check(key_a, make(key_a, 9, &in), 9, &out));
		cr_assert(out.has_wscale);
		cr_assert_eq(out.wscale, 14);
	}
}

Test(cookie, lifetime_current_and_previous_tick_only)
{
	uint64_t s = 99;
	int accepted_late = 0;

	for (int n = 0; n < 20000; n++) {
		uint32_t c = (uint32_t)rng_next(&s);
		struct tcp_cookie_opts in = { .mss = 1460, .wscale = 7, .has_wscale = true,
					      .sack_perm = true, .ts = true };
		uint32_t cookie = make(key_a, c, &in);

		cr_assert(check(key_a, cookie, c, NULL));
		cr_assert(check(key_a, cookie, c + 1, NULL));
		/* Two or more ticks later, or from "the future": rejected. Each is a
		 * 2^-22 event per cookie; 80,000 checks expect ~0.02 false accepts. */
		accepted_late += check(key_a, cookie, c + 2, NULL);
		accepted_late += check(key_a, cookie, c + 3, NULL);
		accepted_late += check(key_a, cookie, c + 1000, NULL);
		accepted_late += check(key_a, cookie, c - 1, NULL);
	}
	cr_assert_eq(accepted_late, 0);

	/* The fixed case spelled out, across the counter wrap. */
	{
		struct tcp_cookie_opts in = { .mss = 1400 };
		uint32_t cookie = make(key_a, 0xffffffffu, &in);

		cr_assert(check(key_a, cookie, 0xffffffffu, NULL));
		cr_assert(check(key_a, cookie, 0, NULL));
		cr_assert_not(check(key_a, cookie, 1, NULL));
		cr_assert_not(check(key_a, cookie, 2, NULL));
	}
}

Test(cookie, bound_to_tuple_peer_isn_and_key)
{
	const uint32_t c = 5000;
	struct tcp_cookie_opts in = { .mss = 1460, .wscale = 9, .has_wscale = true, .sack_perm = true };
	uint32_t cookie = make(key_a, c, &in);

	for (uint32_t later = 0; later < 2; later++) {
		uint32_t k = c + later;

		cr_assert(tcp_cookie_check(key_a, LADDR, LPORT, RADDR, RPORT, PEER_ISN, cookie, k, NULL));
		for (int b = 0; b < 32; b++) {
			cr_expect_not(tcp_cookie_check(key_a, LADDR ^ (1u << b), LPORT, RADDR, RPORT, PEER_ISN,
						       cookie, k, NULL), "laddr bit %d", b);
			cr_expect_not(tcp_cookie_check(key_a, LADDR, LPORT, RADDR ^ (1u << b), RPORT, PEER_ISN,
						       cookie, k, NULL), "raddr bit %d", b);
			cr_expect_not(tcp_cookie_check(key_a, LADDR, LPORT, RADDR, RPORT, PEER_ISN ^ (1u << b),
						       cookie, k, NULL), "peer isn bit %d", b);
		}
		for (int b = 0; b < 16; b++) {
			cr_expect_not(tcp_cookie_check(key_a, LADDR, (uint16_t)(LPORT ^ (1u << b)), RADDR, RPORT,
						       PEER_ISN, cookie, k, NULL), "lport bit %d", b);
			cr_expect_not(tcp_cookie_check(key_a, LADDR, LPORT, RADDR, (uint16_t)(RPORT ^ (1u << b)),
						       PEER_ISN, cookie, k, NULL), "rport bit %d", b);
		}
		cr_expect_not(tcp_cookie_check(key_a, RADDR, RPORT, LADDR, LPORT, PEER_ISN, cookie, k, NULL));
		cr_expect_not(tcp_cookie_check(key_a, LADDR, LPORT, RADDR, RPORT, PEER_ISN + 1, cookie, k, NULL));
		cr_expect_not(tcp_cookie_check(key_b, LADDR, LPORT, RADDR, RPORT, PEER_ISN, cookie, k, NULL));
	}
}

Test(cookie, every_bit_flip_rejected)
{
	uint64_t s = 2024;
	int bad = 0;

	/* 1000 random tuples/ISNs/ticks/options x 32 flips x 2 checking ticks. */
	for (int n = 0; n < 1000; n++) {
		uint64_t r = rng_next(&s), q = rng_next(&s);
		uint32_t la = (uint32_t)r, ra = (uint32_t)(r >> 32), isn = (uint32_t)q;
		uint16_t lp = (uint16_t)(q >> 32), rp = (uint16_t)(q >> 48);
		uint32_t c = (uint32_t)rng_next(&s);
		uint64_t o = rng_next(&s);
		struct tcp_cookie_opts in = {
			.mss = (uint16_t)o, .wscale = (uint8_t)((o >> 16) % 15),
			.has_wscale = (o >> 24) & 1, .sack_perm = (o >> 25) & 1, .ts = (o >> 26) & 1,
		};
		uint32_t cookie = tcp_cookie_make(key_a, la, lp, ra, rp, isn, c, &in);

		cr_assert(tcp_cookie_check(key_a, la, lp, ra, rp, isn, cookie, c, NULL));
		for (int b = 0; b < 32; b++) {
			struct tcp_cookie_opts out = { .mss = 4242 };

			for (uint32_t later = 0; later < 2; later++) {
				bool ok = tcp_cookie_check(key_a, la, lp, ra, rp, isn, cookie ^ (1u << b),
							   c + later, &out);

				bad += ok;
				cr_expect_not(ok, "sample %d bit %d tick +%u", n, b, later);
			}
			cr_expect_eq(out.mss, 4242, "*o written on a rejected cookie");
		}
	}
	cr_assert_eq(bad, 0);
}

Test(cookie, random_forgery)
{
	/*
	 * Exactly 2^10 of the 2^32 cookie values are valid for one tuple, peer ISN
	 * and tick, so a random guess succeeds with probability 2^-22: 10^6 guesses
	 * expect 0.24 successes (P(>= 4) ~ 1e-4). The 2^-17 requirement would
	 * allow 7.6 on average.
	 */
	uint64_t s = 0xf0f0;
	int accepted = 0;

	for (int n = 0; n < 1000000; n++)
		accepted += check(key_a, (uint32_t)rng_next(&s), 777, NULL);
	printf("cookie random forgery: %d of 1000000 random cookies accepted (expected 0.24 at 2^-22)\n",
	       accepted);
	fflush(stdout);
	cr_assert_leq(accepted, 3);
}

Test(cookie, exactly_one_mac_per_low_field)
{
	/*
	 * The exact version of the forgery bound: for a fixed low field (tick
	 * parity and options), exactly one of the 2^22 MAC values is accepted,
	 * and it is the one tcp_cookie_make produced.
	 */
	struct tcp_cookie_opts in = { .mss = 1440, .wscale = 3, .has_wscale = true, .ts = true };
	const uint32_t c = 31337;
	uint32_t cookie = make(key_a, c, &in);
	const uint32_t lows[2] = { cookie & 0x3ffu, (cookie & 0x3ffu) ^ 0x155u };

	for (int l = 0; l < 2; l++) {
		uint32_t hits = 0, hit = 0;

		for (uint32_t mac = 0; mac < (1u << 22); mac++) {
			uint32_t cand = (mac << 10) | lows[l];

			if (check(key_a, cand, c, NULL)) {
				hits++;
				hit = cand;
			}
		}
		cr_assert_eq(hits, 1, "low field %03x: %u MACs accepted", lows[l], hits);
		if (l == 0)
			cr_assert_eq(hit, cookie);
	}
}
