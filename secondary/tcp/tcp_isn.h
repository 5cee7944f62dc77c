/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Initial sequence numbers (RFC 6528) and SYN cookies (RFC 4987 §3.6).
 * Pure functions; the secret keys live in the shard's shared memory so a
 * restarted worker validates the cookies its predecessor sent.
 */
#ifndef PORTER_TCP_ISN_H
#define PORTER_TCP_ISN_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_SECRET_LEN 16

/* SipHash-2-4 (Aumasson & Bernstein), 64-bit output, 16-byte key. */
uint64_t tcp_siphash(const uint8_t key[TCP_SECRET_LEN], const void *data, unsigned int len);

/*
 * RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a timer ticking every 4 microseconds (NOW_US / 4), F = SipHash of the
 * 4-tuple (host byte order values, packed big-endian).
 */
uint32_t tcp_isn(const uint8_t key[TCP_SECRET_LEN], uint32_t laddr, uint16_t lport,
		 uint32_t raddr, uint16_t rport, uint64_t now_us);

/* What a SYN asked for, as far as a cookie can carry it. */
struct tcp_cookie_opts {
	uint16_t mss;            /* on encode: the peer's MSS; decoded: the table value <= it */
	uint8_t wscale;          /* peer's window scale shift 0..14 */
	bool has_wscale;
	bool sack_perm;
	bool ts;                 /* the SYN carried timestamps */
};

/* The MSS values a cookie can encode (3 bits); encode picks the largest <= the peer's. */
extern const uint16_t tcp_cookie_mss_table[8];

/*
 * Make the ISN for a SYN-ACK sent without keeping state (RFC 4987 §3.6).
 * COUNTER is a coarse clock (the caller passes now_ms / 64000: one tick per
 * 64 s); PEER_ISN the SYN's sequence number. The cookie authenticates the
 * 4-tuple, PEER_ISN and COUNTER with SipHash under KEY and carries the options
 * of O (MSS index, wscale, SACK-permitted, timestamps) so the connection
 * created from the final ACK keeps them.
 */
uint32_t tcp_cookie_make(const uint8_t key[TCP_SECRET_LEN], uint32_t laddr, uint16_t lport,
			 uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint32_t counter,
			 const struct tcp_cookie_opts *o);

/*
 * Check the cookie echoed by the final ACK: COOKIE = SEG.ACK - 1,
 * PEER_ISN = SEG.SEQ - 1. Accepts cookies made in the current counter tick or
 * the one before (so a cookie lives 64 to 128 s). Returns true and fills *O
 * when valid; false for a forged, altered or expired cookie.
 */
bool tcp_cookie_check(const uint8_t key[TCP_SECRET_LEN], uint32_t laddr, uint16_t lport,
		      uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint32_t cookie,
		      uint32_t counter, struct tcp_cookie_opts *o);

#endif
