/* SPDX-License-Identifier: BSD-3-Clause */
/* Flow hash: known answers, agreement with DPDK's rte_softrss, symmetry, spread. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <rte_thash.h>
#include "shm/hash.h"

/* Microsoft's RSS verification key and IPv4/TCP vectors (the RSS spec). */
static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

Test(hash, microsoft_vectors)
{
	/* source 66.9.149.187:2794 -> destination 161.142.100.80:1766 */
	cr_expect_eq(porter_flow_hash(ms_key, IP(66, 9, 149, 187), IP(161, 142, 100, 80), 2794, 1766),
		     0x51ccc178u);
	/* 199.92.111.2:14230 -> 65.69.140.83:4739 */
	cr_expect_eq(porter_flow_hash(ms_key, IP(199, 92, 111, 2), IP(65, 69, 140, 83), 14230, 4739),
		     0xc626b0eau);
	/* 24.19.198.95:12898 -> 12.22.207.184:38024 */
	cr_expect_eq(porter_flow_hash(ms_key, IP(24, 19, 198, 95), IP(12, 22, 207, 184), 12898, 38024),
		     0x5c2b394au);
}

static uint32_t softrss(const uint8_t *key, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp)
{
	uint32_t tuple[3] = { s, d, ((uint32_t)sp << 16) | dp };

	return rte_softrss(tuple, 3, key);
}

Test(hash, agrees_with_rte_softrss_and_is_symmetric)
{
	unsigned int seed = 12345;

	for (int i = 0; i < 100000; i++) {
		uint32_t s = (uint32_t)rand_r(&seed) ^ ((uint32_t)rand_r(&seed) << 16);
		uint32_t d = (uint32_t)rand_r(&seed) ^ ((uint32_t)rand_r(&seed) << 16);
		uint16_t sp = (uint16_t)rand_r(&seed), dp = (uint16_t)rand_r(&seed);
		uint32_t h = porter_flow_hash(porter_rss_key, s, d, sp, dp);

		cr_assert_eq(h, softrss(porter_rss_key, s, d, sp, dp), "tuple %d differs from rte_softrss", i);
		cr_assert_eq(h, porter_flow_hash(porter_rss_key, d, s, dp, sp),
			     "tuple %d: reverse direction hashes differently", i);
	}
}

/* The table form equals the bit loop, for the porter key, the Microsoft key and the vectors. */
Test(hash, tables_agree_with_the_bit_loop)
{
	static struct porter_toeplitz tp, tm;
	unsigned int seed = 777;

	porter_toeplitz_init(&tp, porter_rss_key);
	porter_toeplitz_init(&tm, ms_key);
	cr_expect_eq(porter_toeplitz_hash(&tm, IP(66, 9, 149, 187), IP(161, 142, 100, 80), 2794, 1766),
		     0x51ccc178u);
	for (int i = 0; i < 100000; i++) {
		uint32_t s = (uint32_t)rand_r(&seed) ^ ((uint32_t)rand_r(&seed) << 16);
		uint32_t d = (uint32_t)rand_r(&seed) ^ ((uint32_t)rand_r(&seed) << 16);
		uint16_t sp = (uint16_t)rand_r(&seed), dp = (uint16_t)rand_r(&seed);

		cr_assert_eq(porter_toeplitz_hash(&tp, s, d, sp, dp), porter_flow_hash(porter_rss_key, s, d, sp, dp),
			     "tuple %d (porter key)", i);
		cr_assert_eq(porter_toeplitz_hash(&tm, s, d, sp, dp), porter_flow_hash(ms_key, s, d, sp, dp),
			     "tuple %d (Microsoft key)", i);
	}
}

Test(hash, reta_round_robin)
{
	uint16_t reta[PORTER_RETA_SIZE];

	for (unsigned int shards = 1; shards <= PORTER_MAX_SHARDS; shards++) {
		unsigned int per[PORTER_MAX_SHARDS] = { 0 };

		porter_reta_fill(reta, PORTER_RETA_SIZE, shards);
		for (unsigned int i = 0; i < PORTER_RETA_SIZE; i++) {
			cr_assert_lt(reta[i], shards);
			per[reta[i]]++;
		}
		for (unsigned int s = 0; s < shards; s++) {
			cr_expect_geq(per[s], PORTER_RETA_SIZE / shards);
			cr_expect_leq(per[s], PORTER_RETA_SIZE / shards + 1);
		}
	}
	/* lookup masks the hash to the table */
	porter_reta_fill(reta, PORTER_RETA_SIZE, 3);
	cr_expect_eq(porter_reta_lookup(reta, 0xfffffe00u + 5), reta[5]);
}

/*
 * Even spread: what a front door sees, many clients on many ports towards one
 * address and port. Every shard count 1..16 must get within 5% of the mean over
 * 100k flows, and the 512 RETA buckets must pass a chi-square test.
 */
Test(hash, even_spread)
{
	unsigned int seed = 777;
	static uint32_t hashes[100000];
	const unsigned int n = 100000;
	uint16_t reta[PORTER_RETA_SIZE];
	unsigned int bucket[PORTER_RETA_SIZE] = { 0 };
	double chi = 0, expect = (double)n / PORTER_RETA_SIZE;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t client = IP(10, rand_r(&seed) & 0xff, rand_r(&seed) & 0xff, rand_r(&seed) & 0xff);
		uint16_t sport = (uint16_t)(1024 + rand_r(&seed) % 64000);

		hashes[i] = porter_flow_hash(porter_rss_key, client, IP(10, 99, 0, 2), sport, 80);
		bucket[hashes[i] & (PORTER_RETA_SIZE - 1)]++;
	}
	for (unsigned int b = 0; b < PORTER_RETA_SIZE; b++)
		chi += (bucket[b] - expect) * (bucket[b] - expect) / expect;
	/* 511 degrees of freedom: p = 0.001 critical value is about 614 */
	cr_expect_lt(chi, 614.0, "chi-square %.1f over RETA buckets", chi);

	for (unsigned int shards = 1; shards <= PORTER_MAX_SHARDS; shards++) {
		unsigned int per[PORTER_MAX_SHARDS] = { 0 };
		double mean = (double)n / shards;

		porter_reta_fill(reta, PORTER_RETA_SIZE, shards);
		for (unsigned int i = 0; i < n; i++)
			per[porter_reta_lookup(reta, hashes[i])]++;
		for (unsigned int s = 0; s < shards; s++)
			cr_expect(per[s] > mean * 0.95 && per[s] < mean * 1.05,
				  "%u shards: shard %u got %u of %u", shards, s, per[s], n);
	}
}
