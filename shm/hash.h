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

/* Fill a RETA spreading SIZE entries round robin over SHARDS shards. */
void porter_reta_fill(uint16_t *reta, unsigned int size, unsigned int shards);

static inline unsigned int porter_reta_lookup(const uint16_t *reta, uint32_t hash)
{
	return reta[hash & (PORTER_RETA_SIZE - 1)];
}

#endif
