/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 types that lie in shared memory (a proxy session's snapshot:
 * shm/http-t.h): spans, methods, body kinds, the chunked
 * decoder's state. Types only; the parser and writers: h1.h.
 */
#ifndef PORTER_H1_T_H
#define PORTER_H1_T_H

#include <stdint.h>

#define H1_MAX_HEADERS 128          /* hard cap; the configured limit may be lower */

/* A byte range of the head: buf[off .. off+len). */
struct h1_span {
	uint32_t off;
	uint32_t len;
};

enum h1_method {
	H1_M_OTHER = 0,             /* a valid token we do not know: forwarded as is */
	H1_M_GET, H1_M_HEAD, H1_M_POST, H1_M_PUT, H1_M_DELETE, H1_M_CONNECT,
	H1_M_OPTIONS, H1_M_TRACE, H1_M_PATCH,
};

enum h1_body {
	H1_BODY_NONE = 0,           /* no body (request without CL/TE; HEAD/1xx/204/304 responses) */
	H1_BODY_LENGTH,             /* content_length bytes */
	H1_BODY_CHUNKED,            /* Transfer-Encoding: chunked (the final coding) */
	H1_BODY_CLOSE,              /* response only: until the server closes (RFC 9112 §6.3 item 8) */
};

struct h1_chunked {
	uint8_t state;              /* internal */
	uint8_t ndigits;            /* hex digits of the current size */
	uint16_t ext_len;           /* bytes of chunk extensions seen (limited) */
	uint32_t trailer_len;       /* bytes of trailer section seen (limited) */
	uint64_t remaining;         /* data bytes left in the current chunk */
	uint64_t total;             /* data bytes seen */
};

#endif
