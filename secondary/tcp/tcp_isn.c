/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SipHash-2-4, RFC 6528 initial sequence numbers and RFC 4987 SYN cookies.
 *
 * SipHash-2-4
 * -----------
 * Written from the algorithm description (Aumasson & Bernstein, "SipHash: a
 * fast short-input PRF", 2012): the 128-bit key is read as two little-endian
 * 64-bit words k0, k1; the message is absorbed in little-endian 64-bit words
 * with two SipRounds each, the last word carrying the remaining 0..7 bytes and
 * the message length mod 256 in its top byte; finalisation xors 0xff into v2
 * and runs four SipRounds. Output v0 ^ v1 ^ v2 ^ v3.
 *
 * ISN (RFC 6528 §3)
 * -----------------
 * ISN = M + F, M = now_us / 4 (mod 2^32), F = the low 32 bits of
 * SipHash(key, laddr:4 lport:2 raddr:4 rport:2), each field big-endian
 * (12 bytes). For a fixed tuple the ISN advances exactly with the 4 us clock;
 * across tuples the offsets are independent and unpredictable without the key.
 *
 * SYN cookie layout (the 32-bit ISN of the cookie SYN-ACK)
 * -------------------------------------------------------
 *
 *    31                               10   9    8  6   5    2    1    0
 *   +-----------------------------------+----+------+--------+----+----+
 *   |          MAC (22 bits)            | T  | MSS  | WSCALE | SP | TS |
 *   +-----------------------------------+----+------+--------+----+----+
 *
 *   T       counter & 1: the parity of the tick the cookie was made in.
 *   MSS     index into tcp_cookie_mss_table (largest entry <= the peer's MSS,
 *           0 when the peer's MSS is below every entry or absent).
 *   WSCALE  0..14 the peer's shift (larger values clamped to 14, RFC 7323
 *           §2.3), 15 = the SYN carried no window scale option.
 *   SP      the SYN carried SACK-permitted.
 *   TS      the SYN carried timestamps.
 *   MAC     bits 63..42 of SipHash-2-4(key, laddr:4 lport:2 raddr:4 rport:2
 *           peer_isn:4 counter:4 low:2), all big-endian, where "low" is the
 *           10-bit field T|MSS|WSCALE|SP|TS (22-byte message).
 *
 * Reasoning
 * - Only two ticks are ever acceptable (current and previous), and they differ
 *   in parity, so one bit is enough for the checker to know which full 32-bit
 *   counter value to recompute the MAC with: T == counter & 1 means "made in
 *   this tick", otherwise "made in the previous one". Two ticks later the
 *   parity matches again but the MAC is recomputed with the wrong counter, so
 *   the cookie fails (a cookie lives 64 to 128 s with 64-s ticks).
 * - Every one of the 2^10 low-field values decodes to a legal option set
 *   (8 MSS indices, 16 wscale codes, 2 x 2 flags, 2 parities), so nothing is
 *   gained by range checks and none of the 32 bits is wasted: 22 bits remain
 *   for the MAC. The options are carried in clear but authenticated: the MAC
 *   covers the full counter and the low field, so changing the tuple, the peer
 *   ISN, the counter or any option bit selects a different SipHash input, whose
 *   22-bit tag matches the old one only with probability 2^-22.
 * - The options are the peer's own (it sent them), so carrying them in clear
 *   reveals nothing; the unpredictable part of the ISN is the 22-bit MAC, which
 *   is also exactly what an off-path attacker must guess to complete a
 *   handshake it cannot see.
 * - The ISN offsets (tcp_isn) hash a 12-byte message and cookies a 22-byte
 *   one, so with a shared key the two never evaluate SipHash on the same input
 *   (SipHash folds the length into the last block); a peer learning its F
 *   from an ISN learns nothing about cookie tags.
 *
 * Forgery probability
 * - For a fixed key, tuple, peer ISN and current counter, each of the 2^10
 *   low-field values has exactly one accepted 22-bit MAC value, so exactly
 *   2^10 of the 2^32 possible cookies are accepted: a uniformly random cookie
 *   is accepted with probability 2^10 / 2^32 = 2^-22 ~= 2.4e-7 per attempt
 *   (one in 4,194,304), 32 times below the 2^-17 requirement. Without the key
 *   (SipHash being a PRF) no strategy does better than guessing: 2^-22 per
 *   ACK, i.e. ~4.2 M spoofed ACKs per expected success for one tuple/ISN.
 */
#include "secondary/tcp/tcp_isn.h"

/* Ascending; 536 = RFC 9293 default, 1200 conservative, 1360/1400/1440 common
 * tunnel/VPN clamps, 1452 PPPoE (1492 - 40), 1460 Ethernet, 8960 jumbo 9000. */
const uint16_t tcp_cookie_mss_table[8] = { 536, 1200, 1360, 1400, 1440, 1452, 1460, 8960 };

#define COOKIE_LOW_BITS   10u
#define COOKIE_LOW_MASK   ((1u << COOKIE_LOW_BITS) - 1u)
#define COOKIE_T_SHIFT    9u
#define COOKIE_MSS_SHIFT  6u
#define COOKIE_WS_SHIFT   2u
#define COOKIE_SP_BIT     (1u << 1)
#define COOKIE_TS_BIT     (1u << 0)
#define COOKIE_WS_ABSENT  15u
#define COOKIE_WS_MAX     14u

/* ---- SipHash-2-4 ---- */

static inline uint64_t rotl64(uint64_t x, unsigned int b)
{
	return (x << b) | (x >> (64u - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t r = 0;

	for (int i = 7; i >= 0; i--)
		r = (r << 8) | p[i];
	return r;
}

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl64(s->v2, 32);
}

static inline void sip_absorb(struct sip_state *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

uint64_t tcp_siphash(const uint8_t key[TCP_SECRET_LEN], const void *data, unsigned int len)
{
	const uint8_t *p = data;
	const uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	struct sip_state s = {
		.v0 = k0 ^ 0x736f6d6570736575ull,  /* "somepseudorandomlygeneratedbytes" */
		.v1 = k1 ^ 0x646f72616e646f6dull,
		.v2 = k0 ^ 0x6c7967656e657261ull,
		.v3 = k1 ^ 0x7465646279746573ull,
	};
	unsigned int left = len;
	uint64_t last;

	for (; left >= 8; left -= 8, p += 8)
		sip_absorb(&s, load_le64(p));

	last = (uint64_t)(len & 0xffu) << 56;
	for (unsigned int i = 0; i < left; i++)
		last |= (uint64_t)p[i] << (8u * i);
	sip_absorb(&s, last);

	s.v2 ^= 0xffu;
	for (int i = 0; i < 4; i++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* ---- message packing ---- */

static inline uint8_t *put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static inline uint8_t *put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

#define TUPLE_LEN 12u

static uint8_t *put_tuple(uint8_t *p, uint32_t laddr, uint16_t lport, uint32_t raddr,
			  uint16_t rport)
{
	p = put_be32(p, laddr);
	p = put_be16(p, lport);
	p = put_be32(p, raddr);
	return put_be16(p, rport);
}

/* ---- RFC 6528 ISN ---- */

uint32_t tcp_isn(const uint8_t key[TCP_SECRET_LEN], uint32_t laddr, uint16_t lport,
		 uint32_t raddr, uint16_t rport, uint64_t now_us)
{
	uint8_t msg[TUPLE_LEN];

	put_tuple(msg, laddr, lport, raddr, rport);
	return (uint32_t)(now_us / 4u) + (uint32_t)tcp_siphash(key, msg, sizeof(msg));
}

/* ---- RFC 4987 SYN cookies ---- */

#define COOKIE_MSG_LEN (TUPLE_LEN + 4u + 4u + 2u)

/* The 22-bit tag of LOW (the 10-bit field) for this tuple, peer ISN and tick. */
static uint32_t cookie_mac(const uint8_t key[TCP_SECRET_LEN], uint32_t laddr, uint16_t lport,
			   uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint32_t counter,
			   uint32_t low)
{
	uint8_t msg[COOKIE_MSG_LEN], *p = msg;

	p = put_tuple(p, laddr, lport, raddr, rport);
	p = put_be32(p, peer_isn);
	p = put_be32(p, counter);
	put_be16(p, (uint16_t)(low & COOKIE_LOW_MASK));
	return (uint32_t)(tcp_siphash(key, msg, sizeof(msg)) >> (64u - (32u - COOKIE_LOW_BITS)));
}

static unsigned int mss_index(uint16_t mss)
{
	unsigned int idx = 0;

	for (unsigned int i = 0; i < 8; i++)
		if (tcp_cookie_mss_table[i] <= mss)
			idx = i;
	return idx;
}

uint32_t tcp_cookie_make(const uint8_t key[TCP_SECRET_LEN], uint32_t laddr, uint16_t lport,
			 uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint32_t counter,
			 const struct tcp_cookie_opts *o)
{
	uint32_t low, ws = COOKIE_WS_ABSENT;

	low = (counter & 1u) << COOKIE_T_SHIFT;
	if (o) {
		if (o->has_wscale)
			ws = o->wscale > COOKIE_WS_MAX ? COOKIE_WS_MAX : o->wscale;
		low |= mss_index(o->mss) << COOKIE_MSS_SHIFT;
		low |= o->sack_perm ? COOKIE_SP_BIT : 0u;
		low |= o->ts ? COOKIE_TS_BIT : 0u;
	}
	low |= ws << COOKIE_WS_SHIFT;
	return (cookie_mac(key, laddr, lport, raddr, rport, peer_isn, counter, low) << COOKIE_LOW_BITS)
	       | low;
}

bool tcp_cookie_check(const uint8_t key[TCP_SECRET_LEN], uint32_t laddr, uint16_t lport,
		      uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint32_t cookie,
		      uint32_t counter, struct tcp_cookie_opts *o)
{
	const uint32_t low = cookie & COOKIE_LOW_MASK;
	/* The parity picks the tick: this one, or (mod 2^32) the one before. */
	const uint32_t made = ((low >> COOKIE_T_SHIFT) & 1u) == (counter & 1u) ? counter : counter - 1u;
	const uint32_t ws = (low >> COOKIE_WS_SHIFT) & 0xfu;

	if ((cookie >> COOKIE_LOW_BITS) !=
	    cookie_mac(key, laddr, lport, raddr, rport, peer_isn, made, low))
		return false;

	if (o) {
		o->mss = tcp_cookie_mss_table[(low >> COOKIE_MSS_SHIFT) & 7u];
		o->has_wscale = ws != COOKIE_WS_ABSENT;
		o->wscale = o->has_wscale ? (uint8_t)ws : 0;
		o->sack_perm = (low & COOKIE_SP_BIT) != 0;
		o->ts = (low & COOKIE_TS_BIT) != 0;
	}
	return true;
}
