/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 message heads and chunked framing: see h1.h for the contract.
 *
 * The head parser is one left-to-right pass. Each byte is checked when it is
 * reached, so the first invalid byte decides the error, and a prefix of a
 * head gives either H1_INCOMPLETE or the error the whole head gives. Only
 * min(LEN, max_head) bytes are ever looked at; running out of them when they
 * are max_head bytes is -431, and a request line whose line end is not within
 * max_request_line bytes is -414, complete input or not. Cross-field checks
 * (Host missing, Content-Length with Transfer-Encoding, the final coding)
 * are made at the empty line.
 *
 * Decisions where RFC 9110/9112 leave a choice:
 *  - HTTP/1.2 .. HTTP/1.9 are taken as HTTP/1.1 (version_minor 1), as
 *    RFC 9110 §2.5 asks for a higher minor version of a known major;
 *    another major (HTTP/0.9, HTTP/2.0) is 505; anything not
 *    "HTTP/" DIGIT "." DIGIT is 400.
 *  - Leading empty lines are skipped before a status line too (robustness,
 *    a server that sends a stray CRLF after a body).
 *  - A status line without the SP after the status code ("HTTP/1.1 200")
 *    is accepted with an empty reason.
 *  - Transfer-Encoding in a request: the list (all fields, in order) must
 *    end in chunked and name chunked once, else 400 (RFC 9112 §6.3 item 4);
 *    gzip, x-gzip, deflate, compress and x-compress may come before it
 *    (the body is forwarded as it came); any other coding, or a coding
 *    with parameters, is 501; chunked with parameters, an empty list and
 *    a syntax error are 400. In a response, a final coding other than
 *    chunked means a close-delimited body; chunked twice, chunked with
 *    parameters or an empty list is 502.
 *  - Transfer-Encoding in an HTTP/1.0 message: 400 for a request, 502 for
 *    a response (RFC 9112 §6.1: the framing is faulty).
 *  - Content-Length: 1*DIGIT elements, OWS around commas, all equal (also
 *    across fields); an empty element ("5,,5", "5,") is an error.
 *  - Content-Length, Transfer-Encoding and Host are checked in every
 *    response, also in those without a body (HEAD, 1xx, 204, 304).
 *  - The request-target: visible ASCII only. Absolute-form accepts the
 *    schemes http and https (case-insensitive) and no userinfo (RFC 9110
 *    §4.2.4); its authority must have a host. Authority-form (CONNECT only)
 *    needs host ":" 1*DIGIT. A '#' is an error (RFC 9112 §3.2: a target
 *    has no fragment; forwarded, it would let the proxy route on less of
 *    the target than the server reads). The host span of a CONNECT comes
 *    from the Host field.
 *  - Absolute-form (RFC 9112 §3.2.2): the target's authority wins over
 *    Host for routing, and the writer sends it as the Host field (the
 *    received Host fields go) with the target in origin-form, as a
 *    client talking to the origin server directly would: path and query,
 *    "/" for an empty path, "*" for OPTIONS to an empty path without a
 *    query (§3.2.4).
 *  - Host values: reg-name characters (unreserved, sub-delims, '%') or an
 *    IP-literal in brackets, then optionally ":" *DIGIT.
 *  - Connection, Expect: elements are compared whole, case-insensitive;
 *    elements that are not tokens are ignored.
 *  - Writers: a Connection option naming Host, Content-Length or
 *    Transfer-Encoding does not remove that field (they say how the
 *    message is framed and routed, and are written anew). One naming
 *    Via, X-Forwarded-For or X-Forwarded-Proto removes the received
 *    fields; the proxy's own values are still written.
 *  - Writers: Content-Length and Transfer-Encoding are never copied: one
 *    of each at most is written from what the parser understood, where
 *    the first received one stood (so a repeat, a list "5, 5", leading
 *    zeros, an odd spelling of chunked reach nobody). A response with
 *    both is written without its Content-Length (RFC 9112 §6.3 item 3);
 *    1xx and 204 responses get neither.
 *  - A 1xx or 204 response with a Transfer-Encoding or a non-zero
 *    Content-Length is not keep-alive: its server may well send the body
 *    it announced, which would be read as the next response.
 *  - Chunked framing is read strictly (RFC 9112 §7.1): CRLF line ends only
 *    (the §2.2 leave to take a bare LF for a line end covers the start line
 *    and header fields, which the proxy writes again anyway; in chunk
 *    framing a bare LF is what request smuggling between a LF-parser and a
 *    CRLF-parser is made of), chunk extensions by their grammar, trailer
 *    fields as header fields.
 */
#include "secondary/http/h1.h"

#include <limits.h>
#include <string.h>

#define CAP_LINE        (1u << 20)      /* hard caps: 0 in h1_limits */
#define CAP_HEAD        (1u << 20)
#define MAX_LENGTH      (UINT64_C(1) << 62)
#define CHUNK_EXT_MAX   4096
#define TRAILER_MAX     4096
#define CHUNK_DIGITS    16

/* ---- character classes ----------------------------------------------------- */

enum {
	C_T = 1,        /* tchar (RFC 9110 §5.6.2) */
	C_V = 2,        /* field-value byte: VCHAR, obs-text, SP, HTAB */
	C_G = 4,        /* request-target byte: 0x21..0x7e */
	C_H = 8,        /* HEXDIG */
	C_D = 16,       /* DIGIT */
	C_R = 32,       /* reg-name byte: unreserved, sub-delims, '%' */
};

#define TVGR (C_T | C_V | C_G | C_R)
#define TVG  (C_T | C_V | C_G)
#define VG   (C_V | C_G)
#define VGR  (C_V | C_G | C_R)

static const uint8_t cls[256] = {
	['\t'] = C_V, [' '] = C_V,
	['!'] = TVGR, ['"'] = VG, ['#'] = TVG, ['$'] = TVGR, ['%'] = TVGR, ['&'] = TVGR,
	['\''] = TVGR, ['('] = VGR, [')'] = VGR, ['*'] = TVGR, ['+'] = TVGR, [','] = VGR,
	['-'] = TVGR, ['.'] = TVGR, ['/'] = VG,
	['0' ... '9'] = TVGR | C_H | C_D,
	[':'] = VG, [';'] = VGR, ['<'] = VG, ['='] = VGR, ['>'] = VG, ['?'] = VG, ['@'] = VG,
	['A' ... 'F'] = TVGR | C_H, ['G' ... 'Z'] = TVGR,
	['['] = VG, ['\\'] = VG, [']'] = VG, ['^'] = TVG, ['_'] = TVGR, ['`'] = TVG,
	['a' ... 'f'] = TVGR | C_H, ['g' ... 'z'] = TVGR,
	['{'] = VG, ['|'] = TVG, ['}'] = VG, ['~'] = TVGR,
	[0x80 ... 0xff] = C_V,
};

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static inline bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Case-insensitive: B[off..off+len) equals the lower-case literal S of length N. */
static bool ci_eq(const uint8_t *b, uint32_t off, uint32_t len, const char *s, size_t n)
{
	if (len != n)
		return false;
	for (uint32_t i = 0; i < len; i++)
		if (lower(b[off + i]) != (uint8_t)s[i])
			return false;
	return true;
}

#define CI_EQ(b, off, len, lit) ci_eq((b), (off), (len), (lit), sizeof(lit) - 1)

static struct h1_span span(size_t from, size_t to)
{
	return (struct h1_span){ .off = (uint32_t)from, .len = (uint32_t)(to - from) };
}

/* ---- parse state ------------------------------------------------------------- */

struct pctx {
	const uint8_t *b;
	size_t n;               /* bytes looked at: min(len, max_head) */
	bool full;              /* n == max_head: running out of bytes means -431 */
	bool req;
	bool absolute;          /* absolute-form target: its host wins */
	/* framing fields seen */
	bool has_cl, has_te;
	uint64_t cl;
	uint32_t te_n, te_chunked;
	bool te_last_chunked, te_unknown;
	uint32_t nhost;
	bool upgrade_other;     /* an Upgrade protocol other than h2c was offered */
};

static int out_of_bytes(const struct pctx *c)
{
	return c->full ? -431 : H1_INCOMPLETE;
}

/* ---- field values -------------------------------------------------------------- */

/*
 * Host value or authority at B[s..e): host [ ":" port ]. HOST gets the part
 * before the port. Returns false when invalid.
 */
static bool parse_authority(const uint8_t *b, size_t s, size_t e, bool need_host, bool need_port,
			    struct h1_span *host)
{
	size_t p = s, ds;

	if (p < e && b[p] == '[') {
		p++;
		while (p < e && ((cls[b[p]] & C_R) || b[p] == ':'))
			p++;
		if (p == e || b[p] != ']' || p == s + 1)
			return false;
		p++;
	} else {
		while (p < e && (cls[b[p]] & C_R))
			p++;
	}
	*host = span(s, p);
	if (need_host && p == s)
		return false;
	if (p == e)
		return !need_port;
	if (b[p] != ':')
		return false;
	ds = ++p;
	while (p < e && (cls[b[p]] & C_D))
		p++;
	return p == e && (!need_port || p > ds);
}

/* Content-Length: 1*DIGIT ( OWS "," OWS 1*DIGIT )*, all equal. */
static int field_content_length(struct pctx *c, size_t s, size_t e)
{
	const uint8_t *b = c->b;
	size_t p = s;

	for (;;) {
		uint64_t v = 0;
		size_t ds = p;

		while (p < e && (cls[b[p]] & C_D)) {
			unsigned int d = b[p] - '0';

			if (v > (MAX_LENGTH - d) / 10)
				return -400;
			v = v * 10 + d;
			p++;
		}
		if (p == ds)
			return -400;
		if (c->has_cl && v != c->cl)
			return -400;
		c->has_cl = true;
		c->cl = v;
		while (p < e && is_ows(b[p]))
			p++;
		if (p == e)
			return 0;
		if (b[p] != ',')
			return -400;
		p++;
		while (p < e && is_ows(b[p]))
			p++;
	}
}

/* quoted-string at B[p..e) (B[p] == '"'); returns the index after it, or 0. */
static size_t skip_quoted(const uint8_t *b, size_t p, size_t e)
{
	for (p++; p < e; p++) {
		if (b[p] == '"')
			return p + 1;
		if (b[p] == '\\') {
			if (++p == e)
				return 0;
		}
	}
	return 0;
}

/*
 * The next transfer-coding of the Transfer-Encoding value B[*P..E), empty
 * list elements skipped (RFC 9110 §5.6.1): transfer-coding = token
 * *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) ). Returns 1
 * with *NAME the token, *ELEM the whole coding (parameters included, no
 * outer OWS) and *PARAMS whether it has parameters; 0 at the end of the
 * value; -1 on a syntax error.
 */
static int te_next(const uint8_t *b, size_t *pp, size_t e, struct h1_span *name, struct h1_span *elem,
		   bool *params)
{
	size_t p = *pp, ts;

	for (;;) {
		while (p < e && is_ows(b[p]))
			p++;
		if (p < e && b[p] == ',') {
			p++;
			continue;
		}
		break;
	}
	if (p == e)
		return 0;
	ts = p;
	while (p < e && (cls[b[p]] & C_T))
		p++;
	if (p == ts)
		return -1;
	*name = span(ts, p);
	*params = false;
	for (;;) {
		size_t q = p, ns;

		while (q < e && is_ows(b[q]))
			q++;
		if (q == e || b[q] != ';')
			break;
		*params = true;
		q++;
		while (q < e && is_ows(b[q]))
			q++;
		ns = q;
		while (q < e && (cls[b[q]] & C_T))
			q++;
		if (q == ns)
			return -1;
		while (q < e && is_ows(b[q]))
			q++;
		if (q == e || b[q] != '=')
			return -1;
		q++;
		while (q < e && is_ows(b[q]))
			q++;
		if (q < e && b[q] == '"') {
			q = skip_quoted(b, q, e);
			if (q == 0)
				return -1;
		} else {
			ns = q;
			while (q < e && (cls[b[q]] & C_T))
				q++;
			if (q == ns)
				return -1;
		}
		p = q;
	}
	*elem = span(ts, p);
	while (p < e && is_ows(b[p]))
		p++;
	if (p < e && b[p] != ',')
		return -1;
	*pp = p;
	return 1;
}

/* Transfer-Encoding = #transfer-coding */
static int field_transfer_encoding(struct pctx *c, struct h1_msg *m, size_t s, size_t e)
{
	const uint8_t *b = c->b;
	struct h1_span name, elem;
	size_t p = s;
	bool params;
	int rc;

	c->has_te = true;
	m->flags |= H1F_TRANSFER_ENCODING;
	if (m->version_minor == 0)
		return -400;    /* RFC 9112 §6.1: faulty framing in HTTP/1.0 */
	while ((rc = te_next(b, &p, e, &name, &elem, &params)) > 0) {
		bool chunked = CI_EQ(b, name.off, name.len, "chunked");

		if (chunked) {
			c->te_chunked++;
			if (params)
				return -400;    /* chunked defines no parameters (RFC 9112 §7.1) */
		} else {
			m->flags |= H1F_TE_CODED;
			if (params || (!CI_EQ(b, name.off, name.len, "gzip") &&
				       !CI_EQ(b, name.off, name.len, "x-gzip") &&
				       !CI_EQ(b, name.off, name.len, "deflate") &&
				       !CI_EQ(b, name.off, name.len, "compress") &&
				       !CI_EQ(b, name.off, name.len, "x-compress")))
				c->te_unknown = true;
		}
		c->te_n++;
		c->te_last_chunked = chunked;
	}
	return rc < 0 ? -400 : 0;
}

/* Iterator over the non-empty elements of a #list at B[p..e), OWS removed. */
struct list_it {
	size_t p, e;
};

static bool next_element(const uint8_t *b, struct list_it *it, uint32_t *off, uint32_t *len)
{
	while (it->p < it->e) {
		size_t a, z;

		while (it->p < it->e && (is_ows(b[it->p]) || b[it->p] == ','))
			it->p++;
		a = it->p;
		while (it->p < it->e && b[it->p] != ',')
			it->p++;
		z = it->p;
		while (z > a && is_ows(b[z - 1]))
			z--;
		if (z > a) {
			*off = (uint32_t)a;
			*len = (uint32_t)(z - a);
			return true;
		}
	}
	return false;
}

static void field_connection(struct h1_msg *m, const uint8_t *b, size_t s, size_t e)
{
	struct list_it it = { s, e };
	uint32_t off, len;

	while (next_element(b, &it, &off, &len)) {
		if (CI_EQ(b, off, len, "close"))
			m->flags |= H1F_CONN_CLOSE;
		else if (CI_EQ(b, off, len, "keep-alive"))
			m->flags |= H1F_CONN_KEEPALIVE;
		else if (CI_EQ(b, off, len, "upgrade"))
			m->flags |= H1F_CONN_UPGRADE;
	}
}

static void field_expect(struct h1_msg *m, const uint8_t *b, size_t s, size_t e)
{
	struct list_it it = { s, e };
	uint32_t off, len;

	while (next_element(b, &it, &off, &len))
		if (CI_EQ(b, off, len, "100-continue"))
			m->flags |= H1F_EXPECT_CONTINUE;
}

/* Max-Forwards = 1*DIGIT (RFC 9110 §7.6.2); anything else is not one (forwarded as it came). */
static void field_max_forwards(struct h1_msg *m, const uint8_t *b, size_t s, size_t e)
{
	uint64_t v = 0;

	if (s == e)
		return;
	for (size_t i = s; i < e; i++) {
		if (b[i] < '0' || b[i] > '9')
			return;
		v = v * 10 + (b[i] - '0');
		if (v > UINT32_MAX)
			v = UINT32_MAX;
	}
	m->max_forwards = (uint32_t)v;
	m->flags |= H1F_MAX_FORWARDS;
}

/*
 * h2c, HTTP/2 over cleartext by Upgrade (RFC 7540 §3.2), is never passed on:
 * RFC 9113 §3.1 deprecates it, its HTTP2-Settings field is hop-by-hop, and a
 * backend that switched would speak HTTP/2 through a tunnel past the proxy's
 * parsing and routing (request smuggling by h2c upgrade). The element's
 * protocol name is compared, with or without a version.
 */
static bool is_h2c(const uint8_t *b, uint32_t off, uint32_t len)
{
	uint32_t n = 0;

	while (n < len && b[off + n] != '/')
		n++;
	return CI_EQ(b, off, n, "h2c");
}

/* Does the Upgrade value at B[s..e) offer a protocol other than h2c? */
static bool upgrade_other_than_h2c(const uint8_t *b, size_t s, size_t e)
{
	struct list_it it = { s, e };
	uint32_t off, len;

	while (next_element(b, &it, &off, &len))
		if (!is_h2c(b, off, len))
			return true;
	return false;
}

/* The semantics of one field line, as soon as it is complete. */
static int field(struct pctx *c, struct h1_msg *m, const struct h1_header *h)
{
	const uint8_t *b = c->b;
	size_t s = h->value.off, e = (size_t)h->value.off + h->value.len;
	struct h1_span host;

	switch (h->name.len) {
	case 4:
		if (c->req && CI_EQ(b, h->name.off, 4, "host")) {
			if (++c->nhost > 1)
				return -400;
			if (!parse_authority(b, s, e, false, false, &host))
				return -400;
			m->flags |= H1F_HAS_HOST;
			if (!c->absolute)
				m->host = host;
		}
		break;
	case 6:
		if (c->req && CI_EQ(b, h->name.off, 6, "expect"))
			field_expect(m, b, s, e);
		break;
	case 7:
		if (CI_EQ(b, h->name.off, 7, "upgrade")) {
			m->flags |= H1F_UPGRADE;
			if (c->req)
				c->upgrade_other |= upgrade_other_than_h2c(b, s, e);
		}
		break;
	case 10:
		if (CI_EQ(b, h->name.off, 10, "connection"))
			field_connection(m, b, s, e);
		break;
	case 12:
		if (c->req && !(m->flags & H1F_MAX_FORWARDS) && CI_EQ(b, h->name.off, 12, "max-forwards"))
			field_max_forwards(m, b, s, e);
		break;
	case 14:
		if (CI_EQ(b, h->name.off, 14, "content-length")) {
			m->flags |= H1F_CONTENT_LENGTH;
			return field_content_length(c, s, e);
		}
		break;
	case 17:
		if (CI_EQ(b, h->name.off, 17, "transfer-encoding"))
			return field_transfer_encoding(c, m, s, e);
		break;
	default:
		break;
	}
	return 0;
}

/* ---- start lines -------------------------------------------------------------- */

struct method_name {
	const char *s;
	uint8_t len;
	uint8_t m;
};

static const struct method_name methods[] = {
	{ "GET", 3, H1_M_GET },         { "HEAD", 4, H1_M_HEAD },     { "POST", 4, H1_M_POST },
	{ "PUT", 3, H1_M_PUT },         { "DELETE", 6, H1_M_DELETE }, { "CONNECT", 7, H1_M_CONNECT },
	{ "OPTIONS", 7, H1_M_OPTIONS }, { "TRACE", 5, H1_M_TRACE },   { "PATCH", 5, H1_M_PATCH },
};

static uint8_t method_of(const uint8_t *b, struct h1_span s)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].len == s.len && memcmp(b + s.off, methods[i].s, s.len) == 0)
			return methods[i].m;
	return H1_M_OTHER;
}

/*
 * "HTTP/" DIGIT "." DIGIT at B[p..e); *VER gets major * 10 + minor.
 * Returns 0, -400, or 1 when E cuts it short.
 */
static int version_at(const uint8_t *b, size_t p, size_t e, unsigned int *ver)
{
	static const char pat[] = "HTTP/0.0";

	for (size_t k = 0; k < 8; k++) {
		if (p + k >= e)
			return 1;
		if (k == 5 || k == 7) {
			if (!(cls[b[p + k]] & C_D))
				return -400;
		} else if (b[p + k] != (uint8_t)pat[k]) {
			return -400;
		}
	}
	*ver = (unsigned int)(b[p + 5] - '0') * 10 + (unsigned int)(b[p + 7] - '0');
	return 0;
}

/* A line end at B[*p..e): CRLF or LF. Returns 0 (*p after it), -400, or 1 when cut short. */
static int line_end(const uint8_t *b, size_t *p, size_t e)
{
	if (*p >= e)
		return 1;
	if (b[*p] == '\n') {
		*p += 1;
		return 0;
	}
	if (b[*p] != '\r')
		return -400;
	if (*p + 1 >= e)
		return 1;
	if (b[*p + 1] != '\n')
		return -400;
	*p += 2;
	return 0;
}

/* Major 1 only; minor 2..9 is taken as 1 (RFC 9110 §2.5). */
static int set_version(struct h1_msg *m, unsigned int ver)
{
	if (ver / 10 != 1)
		return -505;
	m->version_minor = ver % 10 == 0 ? 0 : 1;
	return 0;
}

/* The request-target forms (RFC 9112 §3.2); the line is complete. */
static int classify_target(struct pctx *c, struct h1_msg *m)
{
	const uint8_t *b = c->b;
	size_t s = m->target.off, e = s + m->target.len, p, a;

	if (memchr(b + s, '#', e - s) != NULL)
		return -400;    /* a fragment is no part of a request-target */
	if (m->method == H1_M_CONNECT) {
		if (!parse_authority(b, s, e, true, true, &m->host))
			return -400;
		m->host = (struct h1_span){ 0, 0 };     /* from the Host field */
		m->path = span(s, s);
		return 0;
	}
	if (e - s == 1 && b[s] == '*') {
		if (m->method != H1_M_OPTIONS)
			return -400;
		m->path = m->target;
		return 0;
	}
	if (b[s] == '/') {
		for (p = s; p < e && b[p] != '?'; p++)
			;
		m->path = span(s, p);
		return 0;
	}
	/* absolute-form: http or https only */
	if (e - s >= 7 && CI_EQ(b, (uint32_t)s, 7, "http://"))
		a = s + 7;
	else if (e - s >= 8 && CI_EQ(b, (uint32_t)s, 8, "https://"))
		a = s + 8;
	else
		return -400;
	for (p = a; p < e && b[p] != '/' && b[p] != '?'; p++)
		;
	if (!parse_authority(b, a, p, true, false, &m->host))
		return -400;
	c->absolute = true;
	m->flags |= H1F_ABSOLUTE;
	m->authority = span(a, p);
	if (p < e && b[p] == '/') {
		size_t q;

		for (q = p; q < e && b[q] != '?'; q++)
			;
		m->path = span(p, q);
	} else {
		m->path = span(a - 1, a);       /* empty path: "/" of the "://" */
	}
	return 0;
}

/* method SP request-target SP HTTP-version CRLF, within max_request_line. */
static int request_line(struct pctx *c, struct h1_msg *m, size_t *pos, uint32_t line_max)
{
	const uint8_t *b = c->b;
	size_t start = *pos, e = start + line_max, i, t, v;
	bool line_full = e <= c->n;
	unsigned int ver = 0;
	int rc;

	if (!line_full)
		e = c->n;
#define CUT_SHORT() return line_full ? -414 : out_of_bytes(c)
	for (i = start; i < e && (cls[b[i]] & C_T); i++)
		;
	if (i == e)
		CUT_SHORT();
	if (b[i] != ' ' || i == start)
		return -400;
	m->method_s = span(start, i);
	t = ++i;
	while (i < e && (cls[b[i]] & C_G))
		i++;
	if (i == e)
		CUT_SHORT();
	if (b[i] != ' ' || i == t)
		return -400;
	m->target = span(t, i);
	v = i + 1;
	rc = version_at(b, v, e, &ver);
	if (rc == 1)
		CUT_SHORT();
	if (rc < 0)
		return rc;
	i = v + 8;
	rc = line_end(b, &i, e);
	if (rc == 1)
		CUT_SHORT();
	if (rc < 0)
		return rc;
#undef CUT_SHORT
	*pos = i;
	m->method = method_of(b, m->method_s);
	rc = set_version(m, ver);
	if (rc < 0)
		return rc;
	return classify_target(c, m);
}

/* HTTP-version SP 3DIGIT [ SP reason-phrase ] CRLF */
static int status_line(struct pctx *c, struct h1_msg *m, size_t *pos)
{
	const uint8_t *b = c->b;
	size_t e = c->n, p = *pos, r;
	unsigned int ver = 0;
	int rc;

	rc = version_at(b, p, e, &ver);
	if (rc == 1)
		return out_of_bytes(c);
	if (rc < 0)
		return rc;
	p += 8;
	for (size_t k = 0; k < 4; k++) {
		if (p + k >= e)
			return out_of_bytes(c);
		if (k == 0 ? b[p] != ' ' : !(cls[b[p + k]] & C_D))
			return -400;
	}
	m->status = (uint16_t)((b[p + 1] - '0') * 100 + (b[p + 2] - '0') * 10 + (b[p + 3] - '0'));
	p += 4;
	r = p;
	if (p < e && b[p] == ' ') {
		r = ++p;
		while (p < e && (cls[b[p]] & C_V))
			p++;
	}
	m->reason = span(r, p);
	rc = line_end(b, &p, e);
	if (rc == 1)
		return out_of_bytes(c);
	if (rc < 0)
		return rc;
	*pos = p;
	rc = set_version(m, ver);
	if (rc < 0)
		return rc;
	if (m->status < 100)
		return -400;
	return 0;
}

/* ---- the head ------------------------------------------------------------------- */

static uint32_t limit(uint32_t v, uint32_t cap)
{
	return (v == 0 || v > cap) ? cap : v;
}

static int finish_request(struct pctx *c, struct h1_msg *m)
{
	if (m->version_minor == 1 && c->nhost == 0)
		return -400;
	if (c->has_te) {
		if (c->has_cl || c->te_chunked != 1 || !c->te_last_chunked)
			return -400;
		if (c->te_unknown)
			return -501;
		m->body = H1_BODY_CHUNKED;
	} else if (c->has_cl) {
		m->body = H1_BODY_LENGTH;
		m->content_length = c->cl;
	}
	/* RFC 9110 §7.8: Upgrade in HTTP/1.0 is ignored; the proxy passes on no
	 * upgrade of a request with a body (the server would switch after it, and
	 * the proxy checks the server's 101 against the request head it holds) */
	if ((m->flags & (H1F_CONN_UPGRADE | H1F_UPGRADE)) == (H1F_CONN_UPGRADE | H1F_UPGRADE) &&
	    c->upgrade_other && m->version_minor == 1 && m->body == H1_BODY_NONE)
		m->flags |= H1F_UPGRADE_OFFER;
	return 0;
}

static int finish_response(struct pctx *c, struct h1_msg *m, unsigned int req_method)
{
	if (c->has_te && (c->te_chunked > 1 || c->te_n == 0))
		return -502;
	if (c->has_cl)
		m->content_length = c->cl;
	/* RFC 9110 §8.6, RFC 9112 §6.1: no Content-Length (but 0) and no
	 * Transfer-Encoding in a 1xx or 204. A server that frames a body there
	 * may send one: its connection is not trusted with another request. */
	if ((m->status < 200 || m->status == 204) && (c->has_te || (c->has_cl && c->cl != 0)))
		m->flags &= ~(uint32_t)H1F_KEEP_ALIVE;
	if (m->status < 200 || m->status == 204 || m->status == 304 || req_method == H1_M_HEAD ||
	    (req_method == H1_M_CONNECT && m->status < 300)) {
		m->body = H1_BODY_NONE;
	} else if (c->has_te) {
		m->body = c->te_last_chunked ? H1_BODY_CHUNKED : H1_BODY_CLOSE;
		if (c->has_cl)
			m->flags &= ~(uint32_t)H1F_KEEP_ALIVE;  /* RFC 9112 §6.3 item 3 */
	} else if (c->has_cl) {
		m->body = H1_BODY_LENGTH;
	} else {
		m->body = H1_BODY_CLOSE;
	}
	if (m->body == H1_BODY_CLOSE)
		m->flags &= ~(uint32_t)H1F_KEEP_ALIVE;
	return 0;
}

static int parse_head(const uint8_t *buf, size_t len, const struct h1_limits *lim, bool req,
		      unsigned int req_method, struct h1_msg *m)
{
	uint32_t max_line = limit(lim ? lim->max_request_line : 0, CAP_LINE);
	uint32_t max_head = limit(lim ? lim->max_head : 0, CAP_HEAD);
	uint32_t max_fields = limit(lim ? lim->max_headers : 0, H1_MAX_HEADERS);
	struct pctx c = { .b = buf, .req = req };
	const uint8_t *b = buf;
	size_t pos = 0;
	int rc;

	m->head_len = 0;
	m->version_minor = 0;
	m->method = req ? H1_M_OTHER : (req_method <= H1_M_PATCH ? (uint8_t)req_method : H1_M_OTHER);
	m->status = 0;
	m->flags = 0;
	m->body = H1_BODY_NONE;
	m->content_length = 0;
	m->max_forwards = 0;
	m->method_s = m->target = m->path = m->host = m->authority = m->reason = (struct h1_span){ 0, 0 };
	m->nheaders = 0;

	c.full = len >= max_head;
	c.n = c.full ? max_head : len;

	/* RFC 9112 §2.2: empty lines before the start line */
	for (;;) {
		if (pos >= c.n)
			return out_of_bytes(&c);
		if (b[pos] == '\n') {
			pos++;
		} else if (b[pos] == '\r') {
			if (pos + 1 >= c.n)
				return out_of_bytes(&c);
			if (b[pos + 1] != '\n')
				return -400;
			pos += 2;
		} else {
			break;
		}
	}

	rc = req ? request_line(&c, m, &pos, max_line) : status_line(&c, m, &pos);
	if (rc != 0)
		return rc;

	for (;;) {
		struct h1_header *h;
		size_t ns, vs, ve;

		if (pos >= c.n)
			return out_of_bytes(&c);
		if (b[pos] == '\n' || b[pos] == '\r') {
			rc = line_end(b, &pos, c.n);
			if (rc == 1)
				return out_of_bytes(&c);
			if (rc < 0)
				return rc;
			break;
		}
		/* obs-fold, or whitespace before the first field (RFC 9112 §2.2, §5.2) */
		if (!(cls[b[pos]] & C_T))
			return -400;
		if (m->nheaders >= max_fields)
			return -431;
		ns = pos;
		while (pos < c.n && (cls[b[pos]] & C_T))
			pos++;
		if (pos >= c.n)
			return out_of_bytes(&c);
		if (b[pos] != ':')
			return -400;    /* no colon, or whitespace before it (RFC 9112 §5.1) */
		h = &m->h[m->nheaders];
		h->name = span(ns, pos);
		pos++;
		while (pos < c.n && is_ows(b[pos]))
			pos++;
		vs = pos;
		while (pos < c.n && (cls[b[pos]] & C_V))
			pos++;
		ve = pos;
		rc = line_end(b, &pos, c.n);
		if (rc == 1)
			return out_of_bytes(&c);
		if (rc < 0)
			return rc;
		while (ve > vs && is_ows(b[ve - 1]))
			ve--;
		h->value = span(vs, ve);
		m->nheaders++;
		rc = field(&c, m, h);
		if (rc < 0)
			return rc;
	}
	m->head_len = (uint32_t)pos;

	if (m->version_minor == 1)
		m->flags |= (m->flags & H1F_CONN_CLOSE) ? 0 : H1F_KEEP_ALIVE;
	else if ((m->flags & (H1F_CONN_KEEPALIVE | H1F_CONN_CLOSE)) == H1F_CONN_KEEPALIVE)
		m->flags |= H1F_KEEP_ALIVE;
	return req ? finish_request(&c, m) : finish_response(&c, m, req_method);
}

int h1_parse_request(const uint8_t *buf, size_t len, const struct h1_limits *lim, struct h1_msg *m)
{
	return parse_head(buf, len, lim, true, 0, m);
}

int h1_parse_response(const uint8_t *buf, size_t len, const struct h1_limits *lim, unsigned int req_method,
		      struct h1_msg *m)
{
	int rc = parse_head(buf, len, lim, false, req_method, m);

	return rc < 0 ? -502 : rc;
}

int h1_find(const struct h1_msg *m, const uint8_t *buf, const char *name)
{
	size_t n = strlen(name);
	uint32_t count = m->nheaders < H1_MAX_HEADERS ? m->nheaders : H1_MAX_HEADERS;

	for (uint32_t i = 0; i < count; i++) {
		const struct h1_span *s = &m->h[i].name;
		uint32_t k;

		if (s->len != n)
			continue;
		for (k = 0; k < s->len; k++)
			if (lower(buf[s->off + k]) != lower((uint8_t)name[k]))
				break;
		if (k == s->len)
			return (int)i;
	}
	return -1;
}

/* ---- chunked framing ------------------------------------------------------------- */

/*
 * The decoder's states. The state is kept in shared memory and a worker may
 * take over one a different binary wrote: values are never renumbered, new
 * states are added after CS_ERROR.
 */
enum {
	CS_SIZE0 = 0,   /* first hex digit of a chunk size */
	CS_SIZE,        /* more hex digits, or the rest of the size line */
	CS_SIZE_WS,     /* BWS after the size: only ";" may follow */
	CS_EXT_OLD,     /* an earlier decoder's lenient extensions: no longer entered, an error */
	CS_SIZE_LF,     /* CR of the size line seen */
	CS_DATA,
	CS_DATA_CR,     /* the CRLF after chunk data */
	CS_DATA_LF,
	CS_TRL_START,   /* start of a trailer field line or of the final empty line */
	CS_TRL_NAME,
	CS_TRL_VALUE,
	CS_TRL_LF,      /* CR of a trailer field line seen */
	CS_END_LF,      /* CR of the final empty line seen */
	CS_DONE,
	CS_ERROR,
	/* chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) */
	CS_EXT_NAME0,   /* after ";" (and BWS): the first byte of a name */
	CS_EXT_NAME,
	CS_EXT_NAME_WS, /* BWS after a name: "=" or ";" */
	CS_EXT_VAL0,    /* after "=" (and BWS): a token or a quoted-string */
	CS_EXT_VAL,     /* in a token value */
	CS_EXT_QUOTED,  /* in a quoted-string */
	CS_EXT_QPAIR,   /* after a backslash in a quoted-string */
	CS_EXT_VAL_END, /* after the closing quote */
	CS_EXT_VAL_WS,  /* BWS after a value: only ";" */
};

/* qdtext (RFC 9110 §5.6.4): HTAB, SP, VCHAR but '"' and '\', obs-text */
static bool is_qdtext(uint8_t c)
{
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) ||
	       c >= 0x80;
}

/* the byte after '\' in a quoted-pair: HTAB, SP, VCHAR, obs-text */
static bool is_qpair(uint8_t c)
{
	return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f);
}

/*
 * One byte of a size line after the hex digits: BWS, chunk extensions
 * (RFC 9112 §7.1.1) or the CR that ends the line. False when it cannot
 * be there. Every byte but the CR counts against CHUNK_EXT_MAX.
 */
static bool size_line_byte(struct h1_chunked *st, uint8_t ch)
{
	uint8_t s = st->state;

	if (ch == '\r') {
		if (s != CS_SIZE && s != CS_EXT_NAME && s != CS_EXT_VAL && s != CS_EXT_VAL_END)
			return false;   /* "5 \r", "5;\r", "5;a=\r", an open quoted-string... */
		st->state = CS_SIZE_LF;
		return true;
	}
	if (++st->ext_len > CHUNK_EXT_MAX)
		return false;
	switch (s) {
	case CS_SIZE:
	case CS_EXT_NAME:
	case CS_EXT_VAL:
	case CS_EXT_VAL_END:
		if (ch == ';')
			st->state = CS_EXT_NAME0;
		else if (is_ows(ch))
			st->state = s == CS_SIZE ? CS_SIZE_WS : s == CS_EXT_NAME ? CS_EXT_NAME_WS : CS_EXT_VAL_WS;
		else if (s == CS_EXT_NAME && ch == '=')
			st->state = CS_EXT_VAL0;
		else if (!((s == CS_EXT_NAME || s == CS_EXT_VAL) && (cls[ch] & C_T)))
			return false;
		return true;
	case CS_SIZE_WS:
	case CS_EXT_VAL_WS:
	case CS_EXT_NAME_WS:
		if (ch == ';')
			st->state = CS_EXT_NAME0;
		else if (s == CS_EXT_NAME_WS && ch == '=')
			st->state = CS_EXT_VAL0;
		else if (!is_ows(ch))
			return false;
		return true;
	case CS_EXT_NAME0:
	case CS_EXT_VAL0:
		if (cls[ch] & C_T)
			st->state = s == CS_EXT_NAME0 ? CS_EXT_NAME : CS_EXT_VAL;
		else if (s == CS_EXT_VAL0 && ch == '"')
			st->state = CS_EXT_QUOTED;
		else if (!is_ows(ch))
			return false;
		return true;
	case CS_EXT_QUOTED:
		if (ch == '"')
			st->state = CS_EXT_VAL_END;
		else if (ch == '\\')
			st->state = CS_EXT_QPAIR;
		else if (!is_qdtext(ch))
			return false;
		return true;
	case CS_EXT_QPAIR:
		if (!is_qpair(ch))
			return false;
		st->state = CS_EXT_QUOTED;
		return true;
	default:
		return false;
	}
}

/* The size line ended: data, or the trailer section after the last chunk. */
static void size_line_done(struct h1_chunked *st)
{
	st->ext_len = 0;
	if (st->remaining == 0) {
		st->trailer_len = 0;
		st->state = CS_TRL_START;
	} else {
		st->state = CS_DATA;
	}
}

uint64_t h1_chunked_data_left(const struct h1_chunked *st)
{
	return st->state == CS_DATA ? st->remaining : 0;
}

uint64_t h1_chunked_take(struct h1_chunked *st, uint64_t n)
{
	if (st->state != CS_DATA)
		return 0;
	if (n > st->remaining)
		n = st->remaining;
	st->remaining -= n;
	st->total += n;
	if (st->remaining == 0)
		st->state = CS_DATA_CR;
	return n;
}

size_t h1_chunk_head(uint64_t size, uint8_t out[H1_CHUNK_HEAD_MAX])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	int shift = 60;

	while (shift > 0 && (size >> shift) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		out[n++] = (uint8_t)hex[(size >> shift) & 15];
	out[n++] = '\r';
	out[n++] = '\n';
	return n;
}

long h1_chunked_feed(struct h1_chunked *st, const uint8_t *buf, size_t len, bool *done)
{
	size_t i = 0;

	if (done != NULL)
		*done = st->state == CS_DONE;
	if (st->state == CS_DONE)
		return 0;
	if (len > LONG_MAX)
		len = LONG_MAX;
	while (i < len) {
		uint8_t ch = buf[i];

		switch (st->state) {
		case CS_SIZE0:
			if (!(cls[ch] & C_H))
				goto bad;
			st->remaining = 0;
			st->ndigits = 0;
			st->ext_len = 0;
			st->state = CS_SIZE;
			/* fall through */
		case CS_SIZE:
			if (cls[ch] & C_H) {   /* the size line leaves CS_SIZE at its first other byte */
				unsigned int d = (cls[ch] & C_D) ? (unsigned int)(ch - '0') : (unsigned int)(lower(ch) - 'a' + 10);

				if (st->ndigits >= CHUNK_DIGITS)
					goto bad;
				st->remaining = st->remaining * 16 + d;
				if (st->remaining > MAX_LENGTH)
					goto bad;
				st->ndigits++;
				i++;
				break;
			}
			/* the rest of the size line */
			/* fall through */
		case CS_SIZE_WS:
		case CS_EXT_NAME0:
		case CS_EXT_NAME:
		case CS_EXT_NAME_WS:
		case CS_EXT_VAL0:
		case CS_EXT_VAL:
		case CS_EXT_QUOTED:
		case CS_EXT_QPAIR:
		case CS_EXT_VAL_END:
		case CS_EXT_VAL_WS:
			if (!size_line_byte(st, ch))
				goto bad;
			i++;
			break;
		case CS_SIZE_LF:
			if (ch != '\n')
				goto bad;
			size_line_done(st);
			i++;
			break;
		case CS_DATA: {
			size_t take = len - i;

			if (take > st->remaining)
				take = (size_t)st->remaining;
			i += take;
			st->remaining -= take;
			st->total += take;
			if (st->remaining == 0)
				st->state = CS_DATA_CR;
			break;
		}
		case CS_DATA_CR:
			if (ch != '\r')
				goto bad;
			st->state = CS_DATA_LF;
			i++;
			break;
		case CS_DATA_LF:
			if (ch != '\n')
				goto bad;
			st->state = CS_SIZE0;
			i++;
			break;
		case CS_TRL_START:
			if (ch == '\r') {
				st->state = CS_END_LF;
				i++;
				break;
			}
			if (!(cls[ch] & C_T))
				goto bad;       /* obs-fold, a bare LF, or not a field name */
			st->state = CS_TRL_NAME;
			goto count;
		case CS_TRL_NAME:
			if (ch == ':')
				st->state = CS_TRL_VALUE;
			else if (!(cls[ch] & C_T))
				goto bad;
			goto count;
		case CS_TRL_VALUE:
			if (ch == '\r')
				st->state = CS_TRL_LF;
			else if (!(cls[ch] & C_V))
				goto bad;
			goto count;
		case CS_TRL_LF:
			if (ch != '\n')
				goto bad;
			st->state = CS_TRL_START;
			goto count;
		case CS_END_LF:
			if (ch != '\n')
				goto bad;
			i++;
			goto finished;
		default:
			goto bad;       /* CS_ERROR (sticky), CS_EXT_OLD, or not a state */
		}
		continue;
count:
		if (++st->trailer_len > TRAILER_MAX)
			goto bad;
		i++;
	}
	return (long)i;
finished:
	st->state = CS_DONE;
	if (done != NULL)
		*done = true;
	return (long)i;
bad:
	st->state = CS_ERROR;
	return -400;
}

/* ---- upgrades ---------------------------------------------------------------------- */

/* protocol = protocol-name [ "/" protocol-version ] (RFC 9110 §7.8), both tokens */
static bool protocol_of(const uint8_t *b, uint32_t off, uint32_t len, struct h1_span *name, struct h1_span *ver)
{
	uint32_t i = 0, vs;

	while (i < len && b[off + i] != '/' && (cls[b[off + i]] & C_T))
		i++;
	if (i == 0 || (i < len && b[off + i] != '/'))
		return false;
	*name = (struct h1_span){ off, i };
	*ver = (struct h1_span){ off + len, 0 };
	if (i == len)
		return true;
	vs = ++i;
	while (i < len && (cls[b[off + i]] & C_T))
		i++;
	if (i != len || i == vs)
		return false;
	*ver = (struct h1_span){ off + vs, len - vs };
	return true;
}

static bool ci_same(const uint8_t *a, struct h1_span sa, const uint8_t *b, struct h1_span sb)
{
	if (sa.len != sb.len)
		return false;
	for (uint32_t k = 0; k < sa.len; k++)
		if (lower(a[sa.off + k]) != lower(b[sb.off + k]))
			return false;
	return true;
}

/* The request REQ (bytes QB) offered protocol NAME[/VER] (bytes RB): the same name, and versions that agree. */
static bool protocol_offered(const struct h1_msg *req, const uint8_t *qb, const uint8_t *rb, struct h1_span name,
			     struct h1_span ver)
{
	for (uint32_t i = 0; i < req->nheaders; i++) {
		struct list_it it = { req->h[i].value.off, (size_t)req->h[i].value.off + req->h[i].value.len };
		struct h1_span on, ov;
		uint32_t off, len;

		if (!CI_EQ(qb, req->h[i].name.off, req->h[i].name.len, "upgrade"))
			continue;
		while (next_element(qb, &it, &off, &len))
			if (!is_h2c(qb, off, len) && protocol_of(qb, off, len, &on, &ov) && ci_same(qb, on, rb, name) &&
			    (ov.len == 0 || ver.len == 0 || ci_same(qb, ov, rb, ver)))
				return true;
	}
	return false;
}

bool h1_upgrade_accepted(const struct h1_msg *req, const uint8_t *qb, const struct h1_msg *resp, const uint8_t *rb)
{
	uint32_t named = 0;

	if (!(req->flags & H1F_UPGRADE_OFFER) || resp->status != 101)
		return false;
	for (uint32_t i = 0; i < resp->nheaders; i++) {
		struct list_it it = { resp->h[i].value.off, (size_t)resp->h[i].value.off + resp->h[i].value.len };
		struct h1_span name, ver;
		uint32_t off, len;

		if (!CI_EQ(rb, resp->h[i].name.off, resp->h[i].name.len, "upgrade"))
			continue;
		while (next_element(rb, &it, &off, &len)) {
			if (!protocol_of(rb, off, len, &name, &ver) || !protocol_offered(req, qb, rb, name, ver))
				return false;
			named++;
		}
	}
	return named > 0;
}

/* ---- writing heads ----------------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t n, cap;
	bool err;
};

static void put(struct wbuf *w, const void *s, size_t len)
{
	if (w->err || len > w->cap - w->n) {
		w->err = true;
		return;
	}
	if (len != 0)
		memcpy(w->p + w->n, s, len);
	w->n += len;
}

static void puts_(struct wbuf *w, const char *s)
{
	put(w, s, strlen(s));
}

static void put_span(struct wbuf *w, const uint8_t *b, struct h1_span s)
{
	put(w, b + s.off, s.len);
}

static void put_uint(struct wbuf *w, uint64_t v)
{
	char d[20];
	size_t k = sizeof(d);

	do {
		d[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(w, d + k, sizeof(d) - k);
}

static int wdone(const struct wbuf *w)
{
	return (w->err || w->n > INT_MAX) ? -1 : (int)w->n;
}

static void put_lower(struct wbuf *w, const uint8_t *b, struct h1_span s)
{
	if (w->err || s.len > w->cap - w->n) {
		w->err = true;
		return;
	}
	for (uint32_t i = 0; i < s.len; i++)
		w->p[w->n + i] = lower(b[s.off + i]);
	w->n += s.len;
}

static void put_field(struct wbuf *w, const uint8_t *b, const struct h1_header *h)
{
	put_span(w, b, h->name);
	put(w, ": ", 2);
	put_span(w, b, h->value);
	put(w, "\r\n", 2);
}

enum fkind { F_OTHER = 0, F_HOP, F_UPGRADE, F_HOST, F_TE, F_VIA, F_XFF, F_XFP, F_CL, F_MF };

static enum fkind kind_of(const uint8_t *b, struct h1_span n)
{
	switch (n.len) {
	case 2:
		return CI_EQ(b, n.off, 2, "te") ? F_HOP : F_OTHER;
	case 3:
		return CI_EQ(b, n.off, 3, "via") ? F_VIA : F_OTHER;
	case 4:
		return CI_EQ(b, n.off, 4, "host") ? F_HOST : F_OTHER;
	case 7:
		return CI_EQ(b, n.off, 7, "upgrade") ? F_UPGRADE : F_OTHER;
	case 10:
		return (CI_EQ(b, n.off, 10, "connection") || CI_EQ(b, n.off, 10, "keep-alive")) ? F_HOP : F_OTHER;
	case 12:
		return CI_EQ(b, n.off, 12, "max-forwards") ? F_MF : F_OTHER;
	case 14:
		return CI_EQ(b, n.off, 14, "content-length") ? F_CL : F_OTHER;
	case 15:
		return CI_EQ(b, n.off, 15, "x-forwarded-for") ? F_XFF : F_OTHER;
	case 16:
		return CI_EQ(b, n.off, 16, "proxy-connection") ? F_HOP : F_OTHER;
	case 17:
		if (CI_EQ(b, n.off, 17, "transfer-encoding"))
			return F_TE;
		return CI_EQ(b, n.off, 17, "x-forwarded-proto") ? F_XFP : F_OTHER;
	default:
		return F_OTHER;
	}
}

static bool same_name(const uint8_t *b, struct h1_span a, uint32_t off, uint32_t len)
{
	if (a.len != len)
		return false;
	for (uint32_t k = 0; k < len; k++)
		if (lower(b[a.off + k]) != lower(b[off + k]))
			return false;
	return true;
}

#define NAME_BUCKETS 256

_Static_assert(H1_MAX_HEADERS < 0xff, "field indices are uint8_t with 0xff for none");

static uint8_t name_hash(const uint8_t *b, uint32_t off, uint32_t len)
{
	uint32_t h = 2166136261u;

	for (uint32_t k = 0; k < len; k++)
		h = (h ^ lower(b[off + k])) * 16777619u;
	return (uint8_t)(h ^ h >> 8 ^ h >> 16 ^ h >> 24);
}

/*
 * The kind of every field, F_HOP for those not forwarded: the hop-by-hop
 * fields (RFC 9110 §7.6.1), Upgrade unless KEEP_UPGRADE, and those named in
 * Connection (never Host, Content-Length, Transfer-Encoding). The names are
 * hashed once so that each Connection option costs one lookup: linear in
 * the head, however many options there are.
 */
static uint32_t classify_fields(const struct h1_msg *m, const uint8_t *b, bool keep_upgrade,
				uint8_t kind[H1_MAX_HEADERS])
{
	uint32_t n = m->nheaders < H1_MAX_HEADERS ? m->nheaders : H1_MAX_HEADERS;
	uint8_t bucket[NAME_BUCKETS], next[H1_MAX_HEADERS];

	memset(bucket, 0xff, sizeof(bucket));
	for (uint32_t i = 0; i < n; i++) {
		kind[i] = (uint8_t)kind_of(b, m->h[i].name);
		if (kind[i] == F_UPGRADE && !keep_upgrade)
			kind[i] = F_HOP;
		if (kind[i] != F_HOP && kind[i] != F_HOST && kind[i] != F_TE && kind[i] != F_CL &&
		    kind[i] != F_UPGRADE) {
			uint8_t hh = name_hash(b, m->h[i].name.off, m->h[i].name.len);

			next[i] = bucket[hh];
			bucket[hh] = (uint8_t)i;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		struct list_it it = { m->h[i].value.off, (size_t)m->h[i].value.off + m->h[i].value.len };
		uint32_t off, len;

		if (!CI_EQ(b, m->h[i].name.off, m->h[i].name.len, "connection"))
			continue;
		while (next_element(b, &it, &off, &len)) {
			for (uint8_t j = bucket[name_hash(b, off, len)]; j != 0xff; j = next[j])
				if (same_name(b, m->h[j].name, off, len))
					kind[j] = F_HOP;
		}
	}
	return n;
}

/* "Content-Length: N": the one Content-Length sent, whatever repeats or lists came (RFC 9110 §8.6) */
static void put_content_length(struct wbuf *w, uint64_t v)
{
	puts_(w, "Content-Length: ");
	put_uint(w, v);
	put(w, "\r\n", 2);
}

/*
 * "Transfer-Encoding: a, b, chunked": the codings of every Transfer-Encoding
 * field in order, in one field, names in lower case, empty elements gone
 * (parameters, which only a response may have, as they came).
 */
static void put_transfer_encoding(struct wbuf *w, const struct h1_msg *m, const uint8_t *b, const uint8_t *kind,
				  uint32_t n)
{
	bool first = true;

	puts_(w, "Transfer-Encoding: ");
	for (uint32_t i = 0; i < n; i++) {
		size_t p = m->h[i].value.off, e = p + m->h[i].value.len;
		struct h1_span name, elem;
		bool params;

		if (kind[i] != F_TE)
			continue;
		while (te_next(b, &p, e, &name, &elem, &params) > 0) {
			if (!first)
				put(w, ", ", 2);
			first = false;
			put_lower(w, b, name);
			put(w, b + name.off + name.len, elem.len - name.len);
		}
	}
	put(w, "\r\n", 2);
}

/*
 * Field I is a framing field (Content-Length, Transfer-Encoding): in its
 * place, once, porter's own value instead of the sender's. True if it was one.
 */
static bool put_framing(struct wbuf *w, const struct h1_msg *m, const uint8_t *buf, const uint8_t *kind,
			uint32_t n, uint32_t i, bool *cl_done, bool *te_done)
{
	if (kind[i] == F_CL) {
		if (!*cl_done)
			put_content_length(w, m->content_length);
		*cl_done = true;
		return true;
	}
	if (kind[i] == F_TE) {
		if (!*te_done)
			put_transfer_encoding(w, m, buf, kind, n);
		*te_done = true;
		return true;
	}
	return false;
}

/* "Via: <received>, 1.x PSEUDONYM" */
/* An Upgrade field of a request passed on: its elements but h2c (is_h2c); none left, no field. */
static void put_upgrade(struct wbuf *w, const uint8_t *b, const struct h1_header *h)
{
	struct list_it it = { h->value.off, (size_t)h->value.off + h->value.len };
	uint32_t off, len, k = 0;

	while (next_element(b, &it, &off, &len)) {
		if (is_h2c(b, off, len))
			continue;
		if (k++ == 0) {
			put_span(w, b, h->name);
			put(w, ": ", 2);
		} else {
			put(w, ", ", 2);
		}
		put(w, b + off, len);
	}
	if (k != 0)
		put(w, "\r\n", 2);
}

static void put_via(struct wbuf *w, const struct h1_msg *m, const uint8_t *b, const uint8_t *kind, uint32_t n,
		    const char *via)
{
	puts_(w, "Via: ");
	for (uint32_t i = 0; i < n; i++) {
		if (kind[i] != F_VIA || m->h[i].value.len == 0)
			continue;
		put_span(w, b, m->h[i].value);
		put(w, ", ", 2);
	}
	puts_(w, m->version_minor == 0 ? "1.0 " : "1.1 ");
	puts_(w, via);
	put(w, "\r\n", 2);
}

int h1_write_request(const struct h1_msg *m, const uint8_t *buf, const struct h1_fwd *f, uint8_t *out,
		     size_t outlen)
{
	struct wbuf w = { .p = out, .cap = outlen };
	bool upgrade = m->flags & H1F_UPGRADE_OFFER;
	bool via = f->via != NULL && f->via[0] != '\0';
	uint8_t kind[H1_MAX_HEADERS];
	uint32_t n = classify_fields(m, buf, upgrade, kind);
	uint32_t ip = f->client_ip;

	bool cl_done = m->body != H1_BODY_LENGTH, te_done = m->body != H1_BODY_CHUNKED;
	bool absolute = m->flags & H1F_ABSOLUTE;
	bool mf = (m->flags & H1F_MAX_FORWARDS) && (m->method == H1_M_TRACE || m->method == H1_M_OPTIONS);
	bool mf_done = false;

	put_span(&w, buf, m->method_s);
	put(&w, " ", 1);
	if (absolute) {
		/* RFC 9112 §3.2.2: origin-form to the origin server, the authority as Host */
		struct h1_span rest = { m->authority.off + m->authority.len, 0 };

		rest.len = m->target.off + m->target.len - rest.off;
		if (rest.len == 0 && m->method == H1_M_OPTIONS)
			put(&w, "*", 1);                /* §3.2.4 */
		else if (rest.len == 0 || buf[rest.off] != '/')
			put(&w, "/", 1);
		put_span(&w, buf, rest);
	} else {
		put_span(&w, buf, m->target);
	}
	puts_(&w, m->version_minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
	if (absolute) {
		puts_(&w, "Host: ");
		put_span(&w, buf, m->authority);
		put(&w, "\r\n", 2);
	}
	for (uint32_t i = 0; i < n; i++) {
		if (kind[i] == F_HOP || kind[i] == F_XFF || kind[i] == F_XFP || (kind[i] == F_VIA && via) ||
		    (kind[i] == F_HOST && absolute))
			continue;
		if (put_framing(&w, m, buf, kind, n, i, &cl_done, &te_done))
			continue;
		if (kind[i] == F_UPGRADE) {
			put_upgrade(&w, buf, &m->h[i]);
		} else if (kind[i] == F_MF && mf) {
			/* RFC 9110 §7.6.2: one field, one less (a value of 0 porter answers itself) */
			if (mf_done)
				continue;
			puts_(&w, "Max-Forwards: ");
			put_uint(&w, m->max_forwards ? m->max_forwards - 1 : 0);
			put(&w, "\r\n", 2);
			mf_done = true;
		} else {
			put_field(&w, buf, &m->h[i]);
		}
	}
	if (via)
		put_via(&w, m, buf, kind, n, f->via);
	puts_(&w, "X-Forwarded-For: ");
	for (uint32_t i = 0; i < n; i++) {
		if (kind[i] != F_XFF || m->h[i].value.len == 0)
			continue;
		put_span(&w, buf, m->h[i].value);
		put(&w, ", ", 2);
	}
	for (int k = 24; k >= 0; k -= 8) {
		put_uint(&w, (ip >> k) & 0xff);
		if (k != 0)
			put(&w, ".", 1);
	}
	put(&w, "\r\n", 2);
	if (f->proto != NULL && f->proto[0] != '\0') {
		puts_(&w, "X-Forwarded-Proto: ");
		puts_(&w, f->proto);
		put(&w, "\r\n", 2);
	}
	if (f->request_id != NULL && f->request_id[0] != '\0') {
		puts_(&w, "X-Request-Id: ");
		puts_(&w, f->request_id);
		put(&w, "\r\n", 2);
	}
	puts_(&w, upgrade ? "Connection: upgrade\r\n" :
		  f->upstream_keepalive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
	put(&w, "\r\n", 2);
	return wdone(&w);
}

int h1_write_response(const struct h1_msg *m, const uint8_t *buf, const char *via, bool client_keepalive,
		      unsigned int client_minor, uint8_t *out, size_t outlen)
{
	struct wbuf w = { .p = out, .cap = outlen };
	bool upgrade = m->status == 101;
	bool add_via = via != NULL && via[0] != '\0';
	/* an HTTP/1.0 client cannot read chunked framing (RFC 9112 §6.1): the
	 * proxy sends it the data only, delimited by closing the connection */
	bool dechunk = client_minor == 0 && m->body == H1_BODY_CHUNKED;
	/* no Content-Length nor Transfer-Encoding in a 1xx or 204 (RFC 9110 §8.6,
	 * RFC 9112 §6.1); Transfer-Encoding wins over Content-Length (§6.3 item
	 * 3); none for an HTTP/1.0 client (§6.1); one of each, ours */
	bool bodiless = m->status < 200 || m->status == 204;
	bool te_done = bodiless || dechunk || client_minor == 0 || !(m->flags & H1F_TRANSFER_ENCODING);
	bool cl_done = bodiless || (m->flags & H1F_TRANSFER_ENCODING) || !(m->flags & H1F_CONTENT_LENGTH);
	uint8_t kind[H1_MAX_HEADERS];
	uint32_t n = classify_fields(m, buf, upgrade, kind);

	puts_(&w, "HTTP/1.1 ");
	put_uint(&w, m->status);
	put(&w, " ", 1);
	put_span(&w, buf, m->reason);
	put(&w, "\r\n", 2);
	for (uint32_t i = 0; i < n; i++) {
		if (kind[i] == F_HOP || (kind[i] == F_VIA && add_via))
			continue;
		if (put_framing(&w, m, buf, kind, n, i, &cl_done, &te_done))
			continue;
		put_field(&w, buf, &m->h[i]);
	}
	if (add_via)
		put_via(&w, m, buf, kind, n, via);
	if (upgrade)
		puts_(&w, "Connection: upgrade\r\n");
	else if (!client_keepalive || dechunk)
		puts_(&w, "Connection: close\r\n");
	else if (client_minor == 0)
		puts_(&w, "Connection: keep-alive\r\n");
	put(&w, "\r\n", 2);
	return wdone(&w);
}

static int error_response(unsigned int status, bool head, uint8_t *out, size_t outlen)
{
	struct wbuf w = { .p = out, .cap = outlen };
	const char *reason;
	size_t body;

	if (status < 100 || status > 999)
		status = 500;
	reason = h1_reason(status);
	body = 3 + 1 + strlen(reason) + 1;      /* "502 Bad Gateway\n" */
	puts_(&w, "HTTP/1.1 ");
	put_uint(&w, status);
	put(&w, " ", 1);
	puts_(&w, reason);
	puts_(&w, "\r\nContent-Type: text/plain\r\nContent-Length: ");
	put_uint(&w, body);
	puts_(&w, "\r\nConnection: close\r\n\r\n");
	if (!head) {
		put_uint(&w, status);
		put(&w, " ", 1);
		puts_(&w, reason);
		put(&w, "\n", 1);
	}
	return wdone(&w);
}

int h1_error_response(unsigned int status, uint8_t *out, size_t outlen)
{
	return error_response(status, false, out, outlen);
}

int h1_error_response_head(unsigned int status, uint8_t *out, size_t outlen)
{
	return error_response(status, true, out, outlen);
}

int h1_local_answer(unsigned int status, uint32_t retry_s, bool keep_alive, unsigned int minor, bool head,
		    uint8_t *out, size_t outlen)
{
	struct wbuf w = { .p = out, .cap = outlen };
	const char *reason = h1_reason(status);
	size_t body = 3 + 1 + strlen(reason) + 1;      /* as h1_error_response: "429 Too Many Requests\n" */

	if (status != 429 && status != 200 && status != 405)
		return -1;
	if (status == 200)
		body = 0;
	puts_(&w, "HTTP/1.1 ");
	put_uint(&w, status);
	put(&w, " ", 1);
	puts_(&w, reason);
	if (body != 0)
		puts_(&w, "\r\nContent-Type: text/plain");
	puts_(&w, "\r\nContent-Length: ");
	put_uint(&w, body);
	if (status == 429) {
		puts_(&w, "\r\nRetry-After: ");
		put_uint(&w, retry_s);
	} else {
		puts_(&w, "\r\nAllow: " H1_ALLOW);
	}
	if (!keep_alive)
		puts_(&w, "\r\nConnection: close");
	else if (minor == 0)
		puts_(&w, "\r\nConnection: keep-alive");
	puts_(&w, "\r\n\r\n");
	if (!head && body != 0) {
		put_uint(&w, status);
		put(&w, " ", 1);
		puts_(&w, reason);
		put(&w, "\n", 1);
	}
	return wdone(&w);
}

const char *h1_reason(unsigned int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

const char *h1_method_name(unsigned int method)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].m == method)
			return methods[i].s;
	return NULL;
}
