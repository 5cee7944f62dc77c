/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP header options (RFC 9293 §3.1, RFC 7323, RFC 2018, RFC 6691).
 *
 * Parsing never reads a byte at or past p + len: every option's kind byte is
 * read only while i < len, its length byte only when two bytes remain, and
 * its value only after the length was checked against what remains. Multi-byte
 * fields are read with memcpy + ntohs/ntohl (no unaligned access).
 *
 * Choices the header leaves open:
 *   - A SACK option with more than TCP_MAX_SACK_BLOCKS blocks (possible only
 *     when len > 40, i.e. not from a real TCP header) is accepted and CAPPED:
 *     the first 4 blocks are kept, nsack = 4. Its length must still be 2 + 8n,
 *     n >= 1; a SACK option with no block (length 2) is malformed.
 *   - An option that appears twice: the last one wins.
 *   - On -1, *o is left all zero (nothing in a malformed list is reported).
 *   - Building clamps wscale_val to TCP_MAX_WSCALE (RFC 7323 §2.3: a shift
 *     above 14 must not be sent) and caps nsack to TCP_MAX_SACK_BLOCKS and to
 *     the space left in 40 bytes.
 */
#include "secondary/tcp/tcp_opt.h"

#include <arpa/inet.h>
#include <string.h>
#include "shm/wire.h"

/* Option lengths (kind + length + value). */
#define TCPOLEN_MSS        4   /* RFC 9293 §3.2 */
#define TCPOLEN_WSCALE     3   /* RFC 7323 §2.2 */
#define TCPOLEN_SACK_PERM  2   /* RFC 2018 §2 */
#define TCPOLEN_TS         10  /* RFC 7323 §3.2 */
#define TCPOLEN_SACK_BASE  2   /* RFC 2018 §3: 2 + 8n */
#define TCPOLEN_SACK_BLOCK 8


int tcp_opts_parse(const uint8_t *p, unsigned int len, struct tcp_opts *o)
{
	unsigned int i = 0;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = p[i];
		unsigned int olen;
		const uint8_t *v;

		/* RFC 9293 §3.1: End of Option List ends parsing; what follows is padding. */
		if (kind == TCPOPT_EOL)
			break;
		/* RFC 9293 §3.1: No-Operation is a single byte. */
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		/*
		 * RFC 9293 §3.1: every other option is kind, length (counting
		 * kind and length), value. A missing length byte, a length
		 * below 2 (which would loop or step backwards) or one running
		 * past the option area makes the list malformed (§3.1: an
		 * implementation must be prepared for an illegal option
		 * length such as zero, MUST-7; the caller drops the segment).
		 */
		if (len - i < 2)
			goto bad;
		olen = p[i + 1];
		if (olen < 2 || olen > len - i)
			goto bad;
		v = p + i + 2;

		switch (kind) {
		case TCPOPT_MSS:
			/* RFC 9293 §3.2, RFC 6691: 16-bit MSS, length 4. */
			if (olen != TCPOLEN_MSS)
				goto bad;
			o->has_mss = true;
			o->mss = rd16(v);
			break;
		case TCPOPT_WSCALE:
			/* RFC 7323 §2.2: one-byte shift count, length 3; reported as received. */
			if (olen != TCPOLEN_WSCALE)
				goto bad;
			o->has_wscale = true;
			o->wscale = v[0];
			break;
		case TCPOPT_SACK_PERM:
			/* RFC 2018 §2: SACK-permitted, length 2. */
			if (olen != TCPOLEN_SACK_PERM)
				goto bad;
			o->sack_perm = true;
			break;
		case TCPOPT_TS:
			/* RFC 7323 §3.2: TSval, TSecr, length 10. */
			if (olen != TCPOLEN_TS)
				goto bad;
			o->has_ts = true;
			o->ts_val = rd32(v);
			o->ts_ecr = rd32(v + 4);
			break;
		case TCPOPT_SACK: {
			/* RFC 2018 §3: length 2 + 8n, n >= 1; blocks beyond 4 are dropped (capped). */
			unsigned int n, k;

			if (olen < TCPOLEN_SACK_BASE + TCPOLEN_SACK_BLOCK ||
			    (olen - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_BLOCK != 0)
				goto bad;
			n = (olen - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_BLOCK;
			if (n > TCP_MAX_SACK_BLOCKS)
				n = TCP_MAX_SACK_BLOCKS;
			for (k = 0; k < n; k++) {
				o->sack[k].left = rd32(v + k * TCPOLEN_SACK_BLOCK);
				o->sack[k].right = rd32(v + k * TCPOLEN_SACK_BLOCK + 4);
			}
			for (; k < TCP_MAX_SACK_BLOCKS; k++)
				o->sack[k].left = o->sack[k].right = 0;
			o->nsack = (uint8_t)n;
			break;
		}
		default:
			/* RFC 9293 §3.1 (MUST-5): unknown options are ignored, skipped by their length. */
			break;
		}
		i += olen;
	}
	return 0;

bad:
	memset(o, 0, sizeof(*o));
	return -1;
}

unsigned int tcp_opts_build(const struct tcp_opts_out *o, uint8_t *out)
{
	unsigned int n = 0;

	/* MSS first (RFC 9293 §3.2; SYN only, RFC 9293 §3.7.1). */
	if (o->mss) {
		out[n++] = TCPOPT_MSS;
		out[n++] = TCPOLEN_MSS;
		wr16(out + n, o->mss_val);
		n += 2;
	}

	/*
	 * Timestamps (RFC 7323 §3.2). On a SYN carrying SACK-permitted (RFC
	 * 2018 §2) too, the 2-byte SACK_PERM stands in for the two NOPs so the
	 * timestamp values stay 32-bit aligned, as Linux lays it out.
	 */
	if (o->ts) {
		if (o->sack_perm) {
			out[n++] = TCPOPT_SACK_PERM;
			out[n++] = TCPOLEN_SACK_PERM;
		} else {
			out[n++] = TCPOPT_NOP;
			out[n++] = TCPOPT_NOP;
		}
		out[n++] = TCPOPT_TS;
		out[n++] = TCPOLEN_TS;
		wr32(out + n, o->ts_val);
		wr32(out + n + 4, o->ts_ecr);
		n += 8;
	} else if (o->sack_perm) {
		out[n++] = TCPOPT_NOP;
		out[n++] = TCPOPT_NOP;
		out[n++] = TCPOPT_SACK_PERM;
		out[n++] = TCPOLEN_SACK_PERM;
	}

	/* Window scale (RFC 7323 §2.2), shift clamped to 14 (§2.3). */
	if (o->wscale) {
		out[n++] = TCPOPT_NOP;
		out[n++] = TCPOPT_WSCALE;
		out[n++] = TCPOLEN_WSCALE;
		out[n++] = o->wscale_val > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->wscale_val;
	}

	/*
	 * SACK blocks (RFC 2018 §3): NOP NOP then 2 + 8n bytes, as many blocks
	 * as fit in the 40 bytes of option space (RFC 2018 §3: at most 4; 3
	 * alongside timestamps).
	 */
	if (o->nsack > 0) {
		unsigned int room = TCP_OPT_MAX_LEN - n, k, nb = o->nsack;

		if (nb > TCP_MAX_SACK_BLOCKS)
			nb = TCP_MAX_SACK_BLOCKS;
		if (room < 4 + TCPOLEN_SACK_BLOCK)
			nb = 0;
		else if (nb > (room - 4) / TCPOLEN_SACK_BLOCK)
			nb = (room - 4) / TCPOLEN_SACK_BLOCK;
		if (nb > 0) {
			out[n++] = TCPOPT_NOP;
			out[n++] = TCPOPT_NOP;
			out[n++] = TCPOPT_SACK;
			out[n++] = (uint8_t)(TCPOLEN_SACK_BASE + nb * TCPOLEN_SACK_BLOCK);
			for (k = 0; k < nb; k++) {
				wr32(out + n, o->sack[k].left);
				wr32(out + n + 4, o->sack[k].right);
				n += TCPOLEN_SACK_BLOCK;
			}
		}
	}

	/* Every piece above is a multiple of 4 already; pad defensively (RFC 9293 §3.1). */
	while (n % 4 != 0)
		out[n++] = TCPOPT_NOP;
	return n;
}
