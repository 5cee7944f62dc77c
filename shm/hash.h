/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one flow hash of porter: Toeplitz (the RSS hash of NICs) with a
 * symmetric key, over the IPv4 4-tuple, then a 512-entry redirection table.
 * The primary steers with it; workers use it to choose local ports whose
 * replies come back to their own shard. Both directions of a flow give the
 * same hash because the key repeats with a 16-bit period (0x6d5a), so
 * swapping the two addresses and the two ports leaves every 32-bit key window
 * applied to each input bit pair unchanged.
 */
#ifndef PORTER_SHM_HASH_H
#define PORTER_SHM_HASH_H

#include <stdint.h>
#include "shm/porter-shm-t.h"

/* The symmetric key (40 bytes, 0x6d5a repeated). */
extern const uint8_t porter_rss_key[PORTER_RSS_KEY_LEN];

/*
 * Toeplitz hash of (src_ip, dst_ip, src_port, dst_port), all in HOST byte
 * order, hashed in the RSS input order: src ip, dst ip, src port, dst port,
 * each big-endian. Equal to rte_softrss() on the same tuple and key.
 */
uint32_t porter_flow_hash(const uint8_t key[PORTER_RSS_KEY_LEN],
			  uint32_t src_ip, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port);

/*
 * The same hash from tables: Toeplitz is linear over XOR, so the hash of the
 * 12 input bytes is the XOR of 12 per-byte contributions, each looked up in a
 * 256-entry table of its position (12 KiB per key, built once). Equal to
 * porter_flow_hash() for every input (unit-tested); for the primary's per-frame
 * steering, where the bit loop cost about 1.5 % of its time.
 */
struct porter_toeplitz {
	uint32_t t[12][256];
};

void porter_toeplitz_init(struct porter_toeplitz *tb, const uint8_t key[PORTER_RSS_KEY_LEN]);

static inline uint32_t porter_toeplitz_hash(const struct porter_toeplitz *tb, uint32_t src_ip,
					     uint32_t dst_ip, uint16_t src_port, uint16_t dst_port)
{
	return tb->t[0][src_ip >> 24] ^ tb->t[1][(src_ip >> 16) & 0xff] ^
	       tb->t[2][(src_ip >> 8) & 0xff] ^ tb->t[3][src_ip & 0xff] ^
	       tb->t[4][dst_ip >> 24] ^ tb->t[5][(dst_ip >> 16) & 0xff] ^
	       tb->t[6][(dst_ip >> 8) & 0xff] ^ tb->t[7][dst_ip & 0xff] ^
	       tb->t[8][src_port >> 8] ^ tb->t[9][src_port & 0xff] ^
	       tb->t[10][dst_port >> 8] ^ tb->t[11][dst_port & 0xff];
}

/* Fill a RETA spreading SIZE entries round robin over SHARDS shards. */
void porter_reta_fill(uint16_t *reta, unsigned int size, unsigned int shards);

static inline unsigned int porter_reta_lookup(const uint16_t *reta, uint32_t hash)
{
	return reta[hash & (PORTER_RETA_SIZE - 1)];
}

#endif
