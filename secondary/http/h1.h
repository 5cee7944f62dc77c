/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 message heads and chunked framing (RFC 9110, RFC 9112).
 *
 * Pure C, no DPDK, no allocation, no global state. The parser is a function
 * of the bytes: the proxy keeps a request's bytes in the client stream's
 * receive queue until they are forwarded, and parses again from the first
 * byte when a restarted worker resumes a half-read request. Results refer to
 * the input by offset (struct h1_span), never by pointer, so they can live in
 * shared memory.
 *
 * Strictness is deliberate (request smuggling, RFC 9112 §6.3 and §11.2):
 * anything ambiguous is an error with the status to answer, and the proxy
 * closes the connection after answering.
 */
#ifndef PORTER_H1_H
#define PORTER_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/h1-t.h"

struct h1_header {
	struct h1_span name;        /* field name as sent (case preserved) */
	struct h1_span value;       /* value, leading and trailing OWS removed */
};

/* Connection header tokens and other flags (struct h1_msg.flags). */
enum {
	H1F_CONN_CLOSE      = 1u << 0,  /* Connection: close */
	H1F_CONN_KEEPALIVE  = 1u << 1,  /* Connection: keep-alive */
	H1F_CONN_UPGRADE    = 1u << 2,  /* Connection: upgrade */
	H1F_UPGRADE         = 1u << 3,  /* an Upgrade header is present */
	H1F_EXPECT_CONTINUE = 1u << 4,  /* Expect: 100-continue (request) */
	H1F_HAS_HOST        = 1u << 5,  /* Host header present (request) */
	H1F_KEEP_ALIVE      = 1u << 6,  /* the connection persists after this message (RFC 9112 §9.3),
	                                   from the version and the Connection tokens; a response
	                                   framing a body where none may be (1xx, 204) clears it */
	H1F_CONTENT_LENGTH  = 1u << 7,  /* a Content-Length field (its value: content_length) */
	H1F_TRANSFER_ENCODING = 1u << 8, /* a Transfer-Encoding field */
	H1F_ABSOLUTE        = 1u << 9,  /* absolute-form request-target (authority set) */
	H1F_UPGRADE_OFFER   = 1u << 10, /* request: an upgrade the proxy passes on (HTTP/1.1, Upgrade
	                                   naming a protocol other than h2c, the "upgrade" connection
	                                   option, no body) */
	H1F_TE_CODED        = 1u << 11, /* Transfer-Encoding names a coding other than chunked */
	H1F_MAX_FORWARDS    = 1u << 12, /* request: a valid Max-Forwards (1*DIGIT; the first field's
	                                   value in max_forwards) */
};

/*
 * Limits the configuration sets (http group). 0, or a value above the hard
 * cap, means the hard cap: 1 MiB for max_request_line and max_head,
 * H1_MAX_HEADERS for max_headers.
 */
struct h1_limits {
	uint32_t max_request_line;  /* request line incl. CRLF -> 414 */
	uint32_t max_head;          /* whole head incl. the final CRLF -> 431 */
	uint32_t max_headers;       /* field lines -> 431 */
};

/* A parsed request or response head. Offsets are into the buffer that was parsed. */
struct h1_msg {
	uint32_t head_len;          /* bytes of the head including the empty line */
	uint8_t version_minor;      /* HTTP/1.x: 0 or 1 (other majors are errors: 505) */
	uint8_t method;             /* enum h1_method (requests) */
	uint16_t status;            /* status code (responses) */
	uint32_t flags;             /* H1F_* */
	uint8_t body;               /* enum h1_body */
	uint64_t content_length;    /* the Content-Length value when H1F_CONTENT_LENGTH, else 0 (the
	                               body's length when body == H1_BODY_LENGTH) */
	uint32_t max_forwards;      /* when H1F_MAX_FORWARDS (values above 2^32 - 1 saturate) */
	/* request line */
	struct h1_span method_s;    /* method token */
	struct h1_span target;      /* request-target as sent */
	struct h1_span path;        /* target up to '?'; absolute-form targets: the path part
	                               ("/" when empty); authority-form (CONNECT): empty */
	struct h1_span host;        /* Host value without port, or the host of an absolute-form
	                               target (which wins, RFC 9112 §3.2.2); empty when absent */
	struct h1_span authority;   /* absolute-form: the target's authority, host [ ":" port ] */
	struct h1_span reason;      /* responses: reason phrase */
	uint32_t nheaders;
	struct h1_header h[H1_MAX_HEADERS];
};

/* Parse results: >0 never returned; 0 complete; H1_INCOMPLETE need more bytes; < 0 -status. */
#define H1_INCOMPLETE 1

/*
 * Parse the request head at BUF[0..LEN). Returns 0 when complete (M filled,
 * M->head_len bytes used; what follows is body or the next request), or
 * H1_INCOMPLETE when LEN bytes are a valid prefix within the limits (call
 * again with more), or a negative HTTP status:
 *   -400 malformed: bad token/target/version syntax (a '#' in the target
 *        included: RFC 9112 §3.2 has no fragment there), invalid characters (CTL
 *        other than HTAB in values, bare CR, NUL), whitespace between field
 *        name and colon, obs-fold (RFC 9112 §5.2: rejected), a field line
 *        without colon, missing Host in HTTP/1.1 or more than one Host,
 *        Content-Length that is not 1*DIGIT or overflows 2^62, differing
 *        duplicate Content-Length values (identical repeats and "5, 5"
 *        lists are folded to one value), Content-Length together with
 *        Transfer-Encoding, Transfer-Encoding in HTTP/1.0, Transfer-Encoding
 *        whose final coding is not chunked or that lists chunked twice
 *   -414 request line longer than max_request_line
 *   -431 head longer than max_head or more than max_headers field lines
 *   -501 Transfer-Encoding with a coding before the final chunked that is
 *        not gzip, x-gzip, deflate, compress or x-compress, or that has
 *        parameters (e.g. "foo, chunked"); "gzip, chunked" is CHUNKED (the
 *        body is forwarded as it came)
 *   -505 HTTP major version other than 1
 * Leading empty lines before the request line are skipped (RFC 9112 §2.2)
 * and included in head_len. Bare LF line ends are accepted (RFC 9112 §2.2
 * allows it); bare CR is an error.
 */
int h1_parse_request(const uint8_t *buf, size_t len, const struct h1_limits *lim, struct h1_msg *m);

/*
 * Parse a response head. REQ_METHOD is the request's method (HEAD and a 2xx
 * answer to CONNECT have no body). Body rules RFC 9112 §6.3: 1xx, 204, 304
 * and responses to HEAD have H1_BODY_NONE; Transfer-Encoding chunked (final)
 * -> CHUNKED; a non-chunked final coding -> CLOSE; Content-Length -> LENGTH;
 * else CLOSE. Errors: -502 for anything malformed (the proxy answers 502).
 * H1F_KEEP_ALIVE is clear for CLOSE bodies.
 */
int h1_parse_response(const uint8_t *buf, size_t len, const struct h1_limits *lim, unsigned int req_method,
		      struct h1_msg *m);

/*
 * RFC 9110 §7.8: the 101 response RESP (bytes RB) switches to protocols the
 * request REQ (bytes QB) offered: REQ has H1F_UPGRADE_OFFER, RESP names at
 * least one protocol in its Upgrade fields, and every one of them, as
 * name ["/" version], is in REQ's Upgrade fields (names compared
 * case-insensitively; a version on either side only has to match one on
 * the other) and is not h2c (never passed on). False for anything else, a malformed protocol included.
 */
bool h1_upgrade_accepted(const struct h1_msg *req, const uint8_t *qb, const struct h1_msg *resp, const uint8_t *rb);

/* Find the header NAME (case-insensitive); returns its index in M->h or -1. */
int h1_find(const struct h1_msg *m, const uint8_t *buf, const char *name);

/* --- chunked framing (RFC 9112 §7.1) ------------------------------------- */

/*
 * Incremental decoder state: plain old data, kept in shared memory by the
 * proxy. Zero-initialised = at the start of a chunked body.
 */

/*
 * Feed LEN bytes of a chunked body. Returns the number of bytes that belong
 * to the body (<= LEN; fewer only when the body ended inside BUF: the rest
 * is the next message), and sets *DONE when the last chunk and the trailer
 * section are complete. Returns -400 on malformed framing (RFC 9112 §7.1):
 * size not hex, more than 16 digits or over 2^62; a line end other than
 * CRLF (a bare LF is an error anywhere in the framing: the size line, after
 * chunk data, in the trailer section); chunk extensions outside
 * *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] ), or
 * over 4096 bytes; trailer fields that are not token ":" field-value
 * (no obs-fold, no CTL), or over 4096 bytes. Errors are sticky.
 */
long h1_chunked_feed(struct h1_chunked *st, const uint8_t *buf, size_t len, bool *done);

/* Data bytes of the current chunk still to come when the decoder stands in chunk data, else 0. */
uint64_t h1_chunked_data_left(const struct h1_chunked *st);

/*
 * Take up to N bytes of chunk data without looking at them (the caller
 * passes them on): min(N, h1_chunked_data_left(ST)) bytes, the count
 * returned; 0 when the decoder does not stand in chunk data.
 */
uint64_t h1_chunked_take(struct h1_chunked *st, uint64_t n);

/*
 * Chunked framing as the proxy writes it, whatever the source's was:
 * h1_chunk_head(size) data H1_CHUNK_TAIL ... H1_LAST_CHUNK, no chunk
 * extensions, no trailer fields.
 */
#define H1_CHUNK_HEAD_MAX 18                 /* 16 hex digits and CRLF */
#define H1_CHUNK_TAIL     "\r\n"             /* after chunk data */
#define H1_LAST_CHUNK     "0\r\n\r\n"        /* the last chunk and an empty trailer section */

/* The line before SIZE (> 0) bytes of chunk data: lower-case hex without leading zeros, CRLF. Returns its length. */
size_t h1_chunk_head(uint64_t size, uint8_t out[H1_CHUNK_HEAD_MAX]);

/* --- writing heads --------------------------------------------------------- */

/* What the proxy adds when forwarding a request upstream. */
struct h1_fwd {
	uint32_t client_ip;         /* host order, appended to X-Forwarded-For */
	const char *proto;          /* X-Forwarded-Proto value ("http") */
	const char *via;            /* pseudonym for Via ("porter", sent as "1.x porter"); NULL or "" = no Via */
	bool upstream_keepalive;    /* send Connection: keep-alive (pooled) or close */
	const char *request_id;     /* NULL, or an X-Request-Id field to add (the client sent none) */
};

/*
 * Write the request head to send upstream into OUT[0..OUTLEN): method and
 * target as received (an absolute-form target in origin-form, its authority
 * the Host field in place of the received ones: RFC 9112 §3.2.2), the
 * client's version kept (a 1.0 client's request goes
 * up as HTTP/1.0 so that the server does not answer with chunked framing the
 * client cannot read), the fields minus hop-by-hop ones (RFC 9110 §7.6.1: Connection,
 * Keep-Alive, Proxy-Connection, TE, Upgrade unless H1F_UPGRADE_OFFER (then
 * without its h2c elements),
 * and any field named in Connection; Expect is kept), the framing fields
 * written anew where the first of their kind was: exactly one Content-Length
 * with the value when the body has a length (RFC 9110 §8.6: repeats and
 * lists fold), one Transfer-Encoding with the codings of all received fields
 * in order, in lower case, when it is chunked (the proxy re-frames the body);
 * existing X-Forwarded-For extended with the client address, X-Forwarded-Proto set,
 * Via appended, Connection set (keep-alive / close / upgrade). Returns the
 * length, or -1 when OUTLEN is too small.
 */
int h1_write_request(const struct h1_msg *m, const uint8_t *buf, const struct h1_fwd *f, uint8_t *out,
		     size_t outlen);

/*
 * Write the response head to send to the client: status line as received
 * (version sent as HTTP/1.1), fields minus hop-by-hop (as above; Upgrade kept
 * for 101), Via appended, and Connection: keep-alive (when CLIENT_KEEPALIVE
 * and the client speaks 1.0), close (when !CLIENT_KEEPALIVE), or upgrade (101).
 * The framing fields are written anew, one of each at most: none in a 1xx or
 * 204 (RFC 9110 §8.6, RFC 9112 §6.1); Transfer-Encoding as for requests, none
 * for an HTTP/1.0 client (§6.1); Content-Length with the value unless there
 * is a Transfer-Encoding (§6.3 item 3: it goes). A chunked response to an
 * HTTP/1.0 client so loses its framing and gets Connection: close: the
 * caller sends the decoded data and closes. Returns the length or -1.
 */
int h1_write_response(const struct h1_msg *m, const uint8_t *buf, const char *via, bool client_keepalive,
		      unsigned int client_minor, uint8_t *out, size_t outlen);

/*
 * A short complete error response (status line, Content-Type text/plain,
 * Content-Length, Connection: close, a one-line body naming the status).
 * STATUS is one of 400 404 408 413 414 431 501 502 503 504 505 (others get a
 * generic text). Returns the length or -1.
 */
int h1_error_response(unsigned int status, uint8_t *out, size_t outlen);

/*
 * The same answer to a HEAD request: the head alone (RFC 9110 §9.3.2: no
 * content; Content-Length still the size the body would have).
 */
int h1_error_response_head(unsigned int status, uint8_t *out, size_t outlen);

/*
 * An answer porter gives itself to a request it read whole, on a connection
 * that may stay open:
 *   429 Too Many Requests (RFC 6585 §4) with Retry-After: RETRY_S (RFC 9110
 *       §10.2.3) and the body of h1_error_response();
 *   200 OK to OPTIONS with Max-Forwards: 0 (RFC 9110 §7.6.2, §9.3.7: porter is
 *       the final recipient): Allow (H1_ALLOW) and no content;
 *   405 Method Not Allowed to TRACE with Max-Forwards: 0 (porter does not
 *       reflect requests): Allow and the body of h1_error_response().
 * KEEP_ALIVE: the connection stays open (no Connection: close; "Connection:
 * keep-alive" to an HTTP/1.0 client, MINOR 0); else Connection: close. HEAD:
 * the body is left out (Content-Length still says its size, RFC 9110
 * §9.3.2). Returns the length, or -1 (no room, or another STATUS).
 */
int h1_local_answer(unsigned int status, uint32_t retry_s, bool keep_alive, unsigned int minor, bool head,
		    uint8_t *out, size_t outlen);

/* Allow in porter's own answers: the methods it passes on, but TRACE, which it does not answer itself. */
#define H1_ALLOW "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH"

/* The reason phrase of STATUS ("Bad Request"), "Unknown" when not known. */
const char *h1_reason(unsigned int status);

/* Method token of enum h1_method ("GET"); NULL for H1_M_OTHER. */
const char *h1_method_name(unsigned int method);

#endif
