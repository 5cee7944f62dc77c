/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP header options: parse what a segment carries, build what we send.
 * Pure functions over bytes (RFC 9293 §3.1, RFC 7323, RFC 2018, RFC 6691).
 */
#ifndef PORTER_TCP_OPT_H
#define PORTER_TCP_OPT_H

#include <stdbool.h>
#include <stdint.h>

#define TCPOPT_EOL        0
#define TCPOPT_NOP        1
#define TCPOPT_MSS        2
#define TCPOPT_WSCALE     3
#define TCPOPT_SACK_PERM  4
#define TCPOPT_SACK       5
#define TCPOPT_TS         8

#define TCP_MAX_SACK_BLOCKS 4
#define TCP_MAX_WSCALE      14     /* RFC 7323 §2.3 */
#define TCP_OPT_MAX_LEN     40

struct tcp_sack_block {
	uint32_t left, right;          /* host order, [left, right) */
};

/* What parsing found. has_* false when absent. Host byte order. */
struct tcp_opts {
	bool has_mss, has_wscale, sack_perm, has_ts;
	uint8_t wscale;                /* as received; callers clamp to 14 (RFC 7323 §2.3) */
	uint8_t nsack;                 /* SACK blocks found (<= 4) */
	uint16_t mss;
	uint32_t ts_val, ts_ecr;
	struct tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
};

/*
 * Parse LEN option bytes (the area between the 20-byte header and the data
 * offset). Returns 0, or -1 for a malformed list (an option whose length byte
 * is < 2 or runs past the end, or a known option with the wrong length) —
 * RFC 9293 §3.1 says a segment with malformed options MAY be dropped; callers
 * drop it. Unknown options are skipped by their length. EOL ends parsing.
 * SYN-only options (MSS, WS, SACK-permitted) are reported whatever the flags;
 * the caller decides (they are ignored outside SYN segments).
 */
int tcp_opts_parse(const uint8_t *p, unsigned int len, struct tcp_opts *o);

/* What to put in an outgoing segment. */
struct tcp_opts_out {
	bool mss, wscale, sack_perm, ts;
	uint16_t mss_val;
	uint8_t wscale_val;
	uint32_t ts_val, ts_ecr;
	uint8_t nsack;
	struct tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
};

/*
 * Write options into OUT (>= 40 bytes), padded with NOPs to a multiple of 4
 * in the layout Linux uses, so segments are 32-bit aligned:
 *   SYN:  MSS(4) | SACK_PERM+TS (NOP NOP TS when no SACK_PERM) | NOP WS(3)
 *   else: NOP NOP TS(10) | NOP NOP SACK(2 + 8n)
 * SACK blocks that do not fit in 40 bytes are left out (with TS, at most 3).
 * Returns the number of bytes written (a multiple of 4, <= 40).
 */
unsigned int tcp_opts_build(const struct tcp_opts_out *o, uint8_t *out);

#endif
