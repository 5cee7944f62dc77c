/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>
#include "shm/hash.h"

const uint8_t porter_rss_key[PORTER_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

/*
 * Toeplitz: for every set bit i of the input (MSB first), XOR in the 32-bit
 * window of the key starting at bit i. We keep the window in a 64-bit
 * register and shift one key byte in per input byte.
 */
uint32_t porter_flow_hash(const uint8_t key[PORTER_RSS_KEY_LEN],
			  uint32_t src_ip, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port)
{
	const uint8_t in[12] = {
		src_ip >> 24, src_ip >> 16, src_ip >> 8, src_ip,
		dst_ip >> 24, dst_ip >> 16, dst_ip >> 8, dst_ip,
		src_port >> 8, src_port, dst_port >> 8, dst_port,
	};
	uint64_t window = ((uint64_t)key[0] << 56) | ((uint64_t)key[1] << 48) |
			  ((uint64_t)key[2] << 40) | ((uint64_t)key[3] << 32) |
			  ((uint64_t)key[4] << 24);
	uint32_t hash = 0;

	for (unsigned int i = 0; i < sizeof(in); i++) {
		for (int b = 7; b >= 0; b--) {
			if (in[i] & (1u << b))
				hash ^= (uint32_t)(window >> 32);
			window <<= 1;
		}
		/* the next key byte enters at bits 24..31 once 8 bits have left */
		window |= (uint64_t)key[i + 5] << 24;
	}
	return hash;
}

void porter_toeplitz_init(struct porter_toeplitz *tb, const uint8_t key[PORTER_RSS_KEY_LEN])
{
	for (unsigned int pos = 0; pos < 12; pos++) {
		/* the 32-bit key window for input bit b of byte POS starts at key bit 8*POS + (7-b) */
		for (unsigned int v = 0; v < 256; v++) {
			uint32_t h = 0;

			for (int b = 7; b >= 0; b--) {
				unsigned int start = 8 * pos + (7 - (unsigned int)b);
				uint32_t w = 0;

				if (!(v & (1u << b)))
					continue;
				for (unsigned int k = 0; k < 32; k++) {
					unsigned int bit = start + k;

					w = w << 1 | ((key[bit / 8] >> (7 - bit % 8)) & 1u);
				}
				h ^= w;
			}
			tb->t[pos][v] = h;
		}
	}
}

void porter_reta_fill(uint16_t *reta, unsigned int size, unsigned int shards)
{
	for (unsigned int i = 0; i < size; i++)
		reta[i] = shards ? (uint16_t)(i % shards) : 0;
}
