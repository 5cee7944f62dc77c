/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 message heads, the parser: see h1.h for the contract. The chunked
 * decoder is h1_chunked.c, the writers and porter's own answers h1_write.c;
 * h1_priv.h is what they share.
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
 *  - A 1xx or 204 response with a Transfer-Encoding or a non-zero
 *    Content-Length is not keep-alive: its server may well send the body
 *    it announced, which would be read as the next response.
 *  - Writers, chunked framing: see h1_write.c and h1_chunked.c.
 */
#include "secondary/http/h1.h"
#include "secondary/http/h1_priv.h"

#include <string.h>

#define CAP_LINE        (1u << 20)      /* hard caps: 0 in h1_limits */
#define CAP_HEAD        (1u << 20)

/* ---- character classes (C_T... in h1_priv.h) --------------------------------- */

#define TVGR (C_T | C_V | C_G | C_R)
#define TVG  (C_T | C_V | C_G)
#define VG   (C_V | C_G)
#define VGR  (C_V | C_G | C_R)

const uint8_t h1_cls[256] = {   /* h1_priv.h */
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
		while (p < e && ((h1_cls[b[p]] & C_R) || b[p] == ':'))
			p++;
		if (p == e || b[p] != ']' || p == s + 1)
			return false;
		p++;
	} else {
		while (p < e && (h1_cls[b[p]] & C_R))
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
	while (p < e && (h1_cls[b[p]] & C_D))
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

		while (p < e && (h1_cls[b[p]] & C_D)) {
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
int h1_te_next(const uint8_t *b, size_t *pp, size_t e, struct h1_span *name, struct h1_span *elem,
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
	while (p < e && (h1_cls[b[p]] & C_T))
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
		while (q < e && (h1_cls[b[q]] & C_T))
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
			while (q < e && (h1_cls[b[q]] & C_T))
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
	while ((rc = h1_te_next(b, &p, e, &name, &elem, &params)) > 0) {
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

bool h1_next_element(const uint8_t *b, struct list_it *it, uint32_t *off, uint32_t *len)
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

	while (h1_next_element(b, &it, &off, &len)) {
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

	while (h1_next_element(b, &it, &off, &len))
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
bool h1_is_h2c(const uint8_t *b, uint32_t off, uint32_t len)
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

	while (h1_next_element(b, &it, &off, &len))
		if (!h1_is_h2c(b, off, len))
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
			if (!(h1_cls[b[p + k]] & C_D))
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
	for (i = start; i < e && (h1_cls[b[i]] & C_T); i++)
		;
	if (i == e)
		CUT_SHORT();
	if (b[i] != ' ' || i == start)
		return -400;
	m->method_s = span(start, i);
	t = ++i;
	while (i < e && (h1_cls[b[i]] & C_G))
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
		if (k == 0 ? b[p] != ' ' : !(h1_cls[b[p + k]] & C_D))
			return -400;
	}
	m->status = (uint16_t)((b[p + 1] - '0') * 100 + (b[p + 2] - '0') * 10 + (b[p + 3] - '0'));
	p += 4;
	r = p;
	if (p < e && b[p] == ' ') {
		r = ++p;
		while (p < e && (h1_cls[b[p]] & C_V))
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
		if (!(h1_cls[b[pos]] & C_T))
			return -400;
		if (m->nheaders >= max_fields)
			return -431;
		ns = pos;
		while (pos < c.n && (h1_cls[b[pos]] & C_T))
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
		while (pos < c.n && (h1_cls[b[pos]] & C_V))
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

const char *h1_method_name(unsigned int method)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].m == method)
			return methods[i].s;
	return NULL;
}
