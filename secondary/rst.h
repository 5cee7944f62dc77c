/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's answer to a segment for which no connection and no listener
 * exists (RFC 9293 §3.10.7.1, "If the state is CLOSED"). Pure function over
 * byte buffers so the unit tests drive it without EAL.
 */
#ifndef PORTER_SECONDARY_RST_H
#define PORTER_SECONDARY_RST_H

#include <stdint.h>

enum rst_verdict {
	RST_REPLY = 0,       /* *out holds the RST frame */
	RST_DROP_IS_RST,     /* incoming carries RST: never answer a RST */
	RST_DROP_MALFORMED,  /* not an IPv4/TCP frame this function can parse */
	RST_DROP_CSUM,       /* TCP checksum (with pseudo header) wrong */
};

#define RST_FRAME_LEN 54     /* 14 Ethernet + 20 IPv4 + 20 TCP, no options */

/*
 * IN: an Ethernet+IPv4+TCP frame of LEN bytes (IPv4 options allowed; the IP
 * total length bounds the segment; trailing padding ignored).
 * OUT: RST_FRAME_LEN bytes: Ethernet addresses swapped (the primary rewrites
 * the destination MAC from its neighbour table anyway), IPv4 with addresses
 * swapped, TTL 64, DF set, ID 0, checksum computed; TCP ports swapped, no
 * options, window 0, checksum computed with the pseudo header; and
 *   if the incoming ACK bit is off: SEQ = 0, ACK = SEG.SEQ + SEG.LEN, flags RST|ACK
 *   if the incoming ACK bit is on:  SEQ = SEG.ACK, flags RST (ACK field 0)
 * where SEG.LEN counts payload bytes plus one for SYN and one for FIN.
 */
enum rst_verdict rst_build_reply(const uint8_t *in, uint32_t len, uint8_t out[RST_FRAME_LEN]);

#endif
