/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to the HTTP/1.1 files (h1.h is the contract):
 *
 *   h1.c           the head parser: start line, header fields, framing checks
 *   h1_chunked.c   the chunked-framing decoder
 *   h1_write.c     heads written on (request, response), the Upgrade check,
 *                  porter's own answers
 *
 * What they share: the character classes, case-insensitive comparison, the
 * #list and Transfer-Encoding iterators, the h2c test.
 */
#ifndef PORTER_H1_PRIV_H
#define PORTER_H1_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secondary/http/h1.h"

#define MAX_LENGTH      (UINT64_C(1) << 62)   /* the largest Content-Length or chunk size taken */

/* ---- character classes (the table is h1.c's) ------------------------------------ */

enum {
	C_T = 1,        /* tchar (RFC 9110 §5.6.2) */
	C_V = 2,        /* field-value byte: VCHAR, obs-text, SP, HTAB */
	C_G = 4,        /* request-target byte: 0x21..0x7e */
	C_H = 8,        /* HEXDIG */
	C_D = 16,       /* DIGIT */
	C_R = 32,       /* reg-name byte: unreserved, sub-delims, '%' */
};

extern const uint8_t h1_cls[256];

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static inline bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Case-insensitive: B[off..off+len) equals the lower-case literal S of length N. */
static inline bool ci_eq(const uint8_t *b, uint32_t off, uint32_t len, const char *s, size_t n)
{
	if (len != n)
		return false;
	for (uint32_t i = 0; i < len; i++)
		if (lower(b[off + i]) != (uint8_t)s[i])
			return false;
	return true;
}

#define CI_EQ(b, off, len, lit) ci_eq((b), (off), (len), (lit), sizeof(lit) - 1)

/* ---- field values (h1.c) ---------------------------------------------------------- */

/* Iterator over the non-empty elements of a #list at B[p..e), OWS removed. */
struct list_it {
	size_t p, e;
};

/* The next element at IT into *OFF, *LEN; false at the end. */
bool h1_next_element(const uint8_t *b, struct list_it *it, uint32_t *off, uint32_t *len);

/* The next transfer-coding of a Transfer-Encoding value: 1, 0 at the end, -1 on a syntax error. */
int h1_te_next(const uint8_t *b, size_t *pp, size_t e, struct h1_span *name, struct h1_span *elem,
	       bool *params);

/* Is the Upgrade element B[off..off+len) h2c (with or without a version)? Never passed on. */
bool h1_is_h2c(const uint8_t *b, uint32_t off, uint32_t len);

#endif
