/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for secondary/http/h1*.c: the request and response head
 * parsers, the chunked decoder and the head writers.
 *
 * Input layout:
 *   byte 0      flags
 *                 bits 0-1  limits: 0 hard caps (all 0), 1 the configuration
 *                           defaults (8192, 16384, 100), 2 small (64, 256, 8),
 *                           3 tiny (16, 48, 2)
 *                 bits 2-5  the request method given to h1_parse_response
 *                           (enum h1_method; 10..15 are out of range)
 *                 bit  6    keep-alive for the writers (upstream_keepalive,
 *                           client_keepalive); the client minor version
 *                           for h1_write_response is bit 2
 *                 bit  7    Via pseudonym "porter" (else none)
 *   bytes 1..   the message bytes: parsed as a request and as a response.
 *               The chunked decoder gets the bytes after the head when one of
 *               them parsed with a chunked body, else all of them.
 *
 * Checks (abort() on violation), all from h1.h:
 *  - results are in the documented set; the same bytes parse the same way
 *    twice; a prefix of the input gives H1_INCOMPLETE, or the same error,
 *    or (when the head fits in it) the same head;
 *  - a parsed head: head_len within the input and the limits, ends with LF;
 *    every span inside the head; names are tokens followed by ':', values
 *    have no outer whitespace and no forbidden bytes; the body kind follows
 *    the rules of h1.h (1xx/204/304/HEAD: none; close-delimited: not
 *    keep-alive; Content-Length at most 2^62);
 *  - the writers: a buffer of exactly the returned length is enough, one
 *    byte less gives -1; the written head parses again with the same
 *    method, target (an absolute-form one in origin-form, its authority
 *    the one Host), version, status, body framing and host, without
 *    hop-by-hop fields, with exactly one Connection field in requests, one
 *    Content-Length / Transfer-Encoding at most and none where they may
 *    not be (1xx, 204, Transfer-Encoding to an HTTP/1.0 client);
 *  - h1_error_response (4xx, 5xx, and out-of-range statuses written as
 *    500) parses back with a Content-Length covering the rest, not
 *    keep-alive;
 *  - h1_upgrade_accepted: a 101 is accepted for a request offering
 *    exactly what it names when that is at least one well-formed protocol,
 *    never for a request that does not offer an upgrade;
 *  - the chunked decoder: fed whole, in three pieces (each its own exactly
 *    sized heap buffer) and byte by byte it gives the same result, which
 *    matches an independent whole-buffer decoder in this file.
 *
 * Two builds, as for fuzz_frames.c:
 *  - CI (gcc, no libFuzzer): tests/fuzz/meson.build links this file with
 *    replay.c into fuzz_h1_replay, run by meson test (suite 'fuzz') over
 *    tests/fuzz/corpus/h1.
 *  - Local fuzzing with libFuzzer, from the repository root:
 *
 *      clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *            -fno-sanitize-recover=all -D_GNU_SOURCE -I. \
 *            tests/fuzz/fuzz_h1.c secondary/http/h1*.c -o /tmp/fuzz_h1
 *      mkdir -p /tmp/fuzz-h1-new
 *      /tmp/fuzz_h1 -max_total_time=300 -max_len=4096 /tmp/fuzz-h1-new tests/fuzz/corpus/h1
 *
 *    Merge the inputs adding coverage with
 *      /tmp/fuzz_h1 -merge=1 tests/fuzz/corpus/h1 /tmp/fuzz-h1-new
 *  - tests/fuzz/make_h1_corpus.py regenerates the hand-written seeds.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secondary/http/h1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT       (1u << 16)
#define CAP             (1u << 20)      /* h1.c hard caps for line and head */
#define MAX_LENGTH      (UINT64_C(1) << 62)

#define CHECK(cond) do { if (!(cond)) check_failed(#cond, __LINE__); } while (0)

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_h1.c:%d: invariant violated: %s\n", line, what);
	abort();
}

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d == NULL)
		abort();
	if (n != 0)
		memcpy(d, p, n);
	return d;
}

static const struct h1_limits presets[4] = {
	{ 0, 0, 0 },
	{ 8192, 16384, 100 },
	{ 64, 256, 8 },
	{ 16, 48, 2 },
};

static uint32_t eff(uint32_t v, uint32_t cap)
{
	return (v == 0 || v > cap) ? cap : v;
}

/* ---- independent character classes ------------------------------------------ */

static bool is_tchar(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_vchar_field(uint8_t c)
{
	return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f);
}

static bool is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hexval(uint8_t c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static bool span_in(struct h1_span s, uint32_t end)
{
	return (uint64_t)s.off + s.len <= end;
}

static bool span_eq(const uint8_t *a, struct h1_span sa, const uint8_t *b, struct h1_span sb)
{
	return sa.len == sb.len && (sa.len == 0 || memcmp(a + sa.off, b + sb.off, sa.len) == 0);
}

/* ---- head invariants ---------------------------------------------------------- */

static bool same_msg(const struct h1_msg *a, const struct h1_msg *b)
{
	if (a->head_len != b->head_len || a->version_minor != b->version_minor || a->method != b->method ||
	    a->status != b->status || a->flags != b->flags || a->body != b->body ||
	    a->content_length != b->content_length || a->nheaders != b->nheaders)
		return false;
	if (memcmp(&a->method_s, &b->method_s, sizeof(struct h1_span)) ||
	    memcmp(&a->target, &b->target, sizeof(struct h1_span)) ||
	    memcmp(&a->path, &b->path, sizeof(struct h1_span)) ||
	    memcmp(&a->host, &b->host, sizeof(struct h1_span)) ||
	    memcmp(&a->authority, &b->authority, sizeof(struct h1_span)) ||
	    memcmp(&a->reason, &b->reason, sizeof(struct h1_span)))
		return false;
	return memcmp(a->h, b->h, a->nheaders * sizeof(a->h[0])) == 0;
}

static void check_head(const uint8_t *b, size_t len, const struct h1_limits *lim, const struct h1_msg *m,
		       bool req, unsigned int req_method)
{
	uint32_t hl = m->head_len;

	CHECK(hl >= 1 && hl <= len);
	CHECK(hl <= eff(lim->max_head, CAP));
	CHECK(b[hl - 1] == '\n');
	CHECK(m->nheaders <= eff(lim->max_headers, H1_MAX_HEADERS));
	CHECK(m->version_minor <= 1);
	CHECK(m->body <= H1_BODY_CLOSE);
	CHECK(m->content_length <= MAX_LENGTH);
	if (!(m->flags & H1F_CONTENT_LENGTH))
		CHECK(m->content_length == 0);
	if (m->body == H1_BODY_LENGTH)
		CHECK(m->flags & H1F_CONTENT_LENGTH);
	if (req)
		CHECK(!!(m->flags & H1F_CONTENT_LENGTH) == (m->body == H1_BODY_LENGTH));
	for (uint32_t i = 0; i < m->nheaders; i++) {
		const struct h1_header *h = &m->h[i];

		CHECK(span_in(h->name, hl) && span_in(h->value, hl));
		CHECK(h->name.len > 0);
		for (uint32_t k = 0; k < h->name.len; k++)
			CHECK(is_tchar(b[h->name.off + k]));
		CHECK(b[h->name.off + h->name.len] == ':');
		CHECK(h->value.off > h->name.off + h->name.len);
		for (uint32_t k = 0; k < h->value.len; k++)
			CHECK(is_vchar_field(b[h->value.off + k]));
		if (h->value.len > 0) {
			CHECK(b[h->value.off] != ' ' && b[h->value.off] != '\t');
			CHECK(b[h->value.off + h->value.len - 1] != ' ' && b[h->value.off + h->value.len - 1] != '\t');
		}
		CHECK(h1_find(m, b, "") == -1);
		{
			char name[64];
			int j;

			if (h->name.len < sizeof(name)) {
				memcpy(name, b + h->name.off, h->name.len);
				name[h->name.len] = '\0';
				j = h1_find(m, b, name);
				CHECK(j >= 0 && (uint32_t)j <= i);
				CHECK(m->h[j].name.len == h->name.len);
			}
		}
	}
	if (req) {
		const char *name = h1_method_name(m->method);

		CHECK(m->method <= H1_M_PATCH);
		CHECK(span_in(m->method_s, hl) && span_in(m->target, hl) && span_in(m->path, hl));
		CHECK(span_in(m->host, hl) && span_in(m->authority, hl));
		CHECK(memchr(b + m->target.off, '#', m->target.len) == NULL);
		if (m->flags & H1F_ABSOLUTE) {
			/* the authority is inside the target, the host at its start */
			CHECK(m->authority.off > m->target.off &&
			      m->authority.off + m->authority.len <= m->target.off + m->target.len);
			CHECK(m->host.off == m->authority.off && m->host.len <= m->authority.len);
		} else {
			CHECK(m->authority.len == 0);
		}
		CHECK(m->method_s.len > 0 && m->target.len > 0);
		for (uint32_t k = 0; k < m->method_s.len; k++)
			CHECK(is_tchar(b[m->method_s.off + k]));
		for (uint32_t k = 0; k < m->target.len; k++)
			CHECK(b[m->target.off + k] >= 0x21 && b[m->target.off + k] <= 0x7e);
		if (name != NULL)
			CHECK(m->method_s.len == strlen(name) && memcmp(b + m->method_s.off, name, strlen(name)) == 0);
		else
			CHECK(m->method == H1_M_OTHER);
		CHECK(m->body != H1_BODY_CLOSE);
		if (m->version_minor == 1)
			CHECK(m->flags & H1F_HAS_HOST);
		if (m->method == H1_M_CONNECT)
			CHECK(m->path.len == 0);
		else
			CHECK(m->path.len > 0 && (b[m->path.off] == '/' || (m->path.len == 1 && b[m->path.off] == '*')));
		/* RFC 9110 §7.8: an upgrade is passed on from HTTP/1.1, without a body */
		CHECK(!!(m->flags & H1F_UPGRADE_OFFER) ==
		      ((m->flags & (H1F_CONN_UPGRADE | H1F_UPGRADE)) == (H1F_CONN_UPGRADE | H1F_UPGRADE) &&
		       m->version_minor == 1 && m->body == H1_BODY_NONE));
		if (m->version_minor == 1)
			CHECK(!!(m->flags & H1F_KEEP_ALIVE) == !(m->flags & H1F_CONN_CLOSE));
		else
			CHECK(!!(m->flags & H1F_KEEP_ALIVE) ==
			      ((m->flags & (H1F_CONN_CLOSE | H1F_CONN_KEEPALIVE)) == H1F_CONN_KEEPALIVE));
	} else {
		CHECK(m->status >= 100 && m->status <= 999);
		CHECK(span_in(m->reason, hl));
		if (m->status < 200 || m->status == 204 || m->status == 304 || req_method == H1_M_HEAD ||
		    (req_method == H1_M_CONNECT && m->status < 300))
			CHECK(m->body == H1_BODY_NONE);
		else
			CHECK(m->body != H1_BODY_NONE);
		CHECK(!(m->flags & H1F_UPGRADE_OFFER));
		if (m->body == H1_BODY_CLOSE)
			CHECK(!(m->flags & H1F_KEEP_ALIVE));
		if (m->flags & H1F_KEEP_ALIVE)
			CHECK(!(m->flags & H1F_CONN_CLOSE));
	}
}

typedef int (*parse_fn)(const uint8_t *b, size_t len, const struct h1_limits *lim, unsigned int meth,
			struct h1_msg *m);

static int parse_req(const uint8_t *b, size_t len, const struct h1_limits *lim, unsigned int meth,
		     struct h1_msg *m)
{
	(void)meth;
	return h1_parse_request(b, len, lim, m);
}

static int parse_resp(const uint8_t *b, size_t len, const struct h1_limits *lim, unsigned int meth,
		      struct h1_msg *m)
{
	return h1_parse_response(b, len, lim, meth, m);
}

/* A prefix of K bytes, in its own exactly sized buffer. */
static void check_prefix(parse_fn parse, const uint8_t *b, size_t k, const struct h1_limits *lim,
			 unsigned int meth, int full_rc, const struct h1_msg *full)
{
	static struct h1_msg pm;
	uint8_t *p = dup_exact(b, k);
	int rc = parse(p, k, lim, meth, &pm);

	if (full_rc == 0) {
		if (k < full->head_len)
			CHECK(rc == H1_INCOMPLETE);
		else
			CHECK(rc == 0 && same_msg(&pm, full));
	} else if (full_rc == H1_INCOMPLETE) {
		CHECK(rc == H1_INCOMPLETE);
	} else {
		CHECK(rc == H1_INCOMPLETE || rc == full_rc);
	}
	free(p);
}

static int check_parse(parse_fn parse, bool req, const uint8_t *b, size_t len, const struct h1_limits *lim,
		       unsigned int meth, struct h1_msg *m)
{
	static struct h1_msg again;
	int rc = parse(b, len, lim, meth, m);

	if (req)
		CHECK(rc == 0 || rc == H1_INCOMPLETE || rc == -400 || rc == -414 || rc == -431 || rc == -501 ||
		      rc == -505);
	else
		CHECK(rc == 0 || rc == H1_INCOMPLETE || rc == -502);
	CHECK(parse(b, len, lim, meth, &again) == rc);
	if (rc == 0) {
		CHECK(same_msg(m, &again));
		check_head(b, len, lim, m, req, meth);
	}
	if (len <= 256) {
		for (size_t k = 0; k < len; k++)
			check_prefix(parse, b, k, lim, meth, rc, m);
	} else {
		for (size_t j = 0; j < 24; j++)
			check_prefix(parse, b, len * j / 24, lim, meth, rc, m);
		if (rc == 0) {
			check_prefix(parse, b, m->head_len - 1, lim, meth, rc, m);
			check_prefix(parse, b, m->head_len, lim, meth, rc, m);
		}
	}
	return rc;
}

/* ---- writers ------------------------------------------------------------------- */

static unsigned int count_fields(const struct h1_msg *m, const uint8_t *b, const char *name)
{
	size_t n = strlen(name);
	unsigned int c = 0;

	for (uint32_t i = 0; i < m->nheaders; i++) {
		uint32_t k;

		if (m->h[i].name.len != n)
			continue;
		for (k = 0; k < n; k++)
			if ((b[m->h[i].name.off + k] | 0x20) != (uint8_t)name[k])
				break;
		c += k == n;
	}
	return c;
}

static void check_write_request(const uint8_t *b, const struct h1_msg *m, const struct h1_fwd *f)
{
	static struct h1_msg w;
	size_t big = (size_t)m->head_len + 256;
	uint8_t *out = malloc(big), *exact;
	bool upgrade = m->flags & H1F_UPGRADE_OFFER;
	int n, rc, c;

	if (out == NULL)
		abort();
	n = h1_write_request(m, b, f, out, big);
	CHECK(n > 0 && (size_t)n <= big);
	exact = dup_exact(out, (size_t)n);
	CHECK(h1_write_request(m, b, f, exact, (size_t)n) == n);
	CHECK(memcmp(exact, out, (size_t)n) == 0);
	CHECK(h1_write_request(m, b, f, exact, (size_t)n - 1) == -1);

	rc = h1_parse_request(exact, (size_t)n, NULL, &w);
	if (rc == -431) {
		CHECK(m->nheaders + 5 > H1_MAX_HEADERS);
		goto out;
	}
	CHECK(rc == 0);
	CHECK(w.head_len == (uint32_t)n);
	CHECK(w.method == m->method && w.version_minor == m->version_minor);
	CHECK(span_eq(exact, w.method_s, b, m->method_s));
	if (m->flags & H1F_ABSOLUTE) {
		/* origin-form (RFC 9112 §3.2.2, §3.2.4), the authority as the one Host */
		uint32_t ro = m->authority.off + m->authority.len, rl = m->target.off + m->target.len - ro;
		struct h1_span rest = { ro, rl };
		int h = h1_find(&w, exact, "host");

		CHECK(!(w.flags & H1F_ABSOLUTE));
		if (rl == 0)
			CHECK(w.target.len == 1 && exact[w.target.off] == (m->method == H1_M_OPTIONS ? '*' : '/'));
		else if (b[ro] == '/')
			CHECK(span_eq(exact, w.target, b, rest));
		else
			CHECK(exact[w.target.off] == '/' && w.target.len == rl + 1 &&
			      memcmp(exact + w.target.off + 1, b + ro, rl) == 0);
		CHECK(count_fields(&w, exact, "host") == 1 && h >= 0);
		CHECK(span_eq(exact, w.h[h].value, b, m->authority));
		CHECK(span_eq(exact, w.path, b, m->path) || (rl == 0 && m->method == H1_M_OPTIONS));
	} else {
		CHECK(span_eq(exact, w.target, b, m->target));
		CHECK(span_eq(exact, w.path, b, m->path) || m->path.len == 0);
	}
	CHECK(span_eq(exact, w.host, b, m->host));
	CHECK(w.body == m->body && w.content_length == m->content_length);
	/* the framing fields are the writer's: one of each, only when they frame the body */
	CHECK(count_fields(&w, exact, "content-length") == (m->body == H1_BODY_LENGTH));
	CHECK(count_fields(&w, exact, "transfer-encoding") == (m->body == H1_BODY_CHUNKED));
	CHECK((w.flags & H1F_EXPECT_CONTINUE) == (m->flags & H1F_EXPECT_CONTINUE));
	CHECK(h1_find(&w, exact, "keep-alive") < 0 && h1_find(&w, exact, "te") < 0 &&
	      h1_find(&w, exact, "proxy-connection") < 0);
	CHECK((h1_find(&w, exact, "upgrade") >= 0) == upgrade);
	c = h1_find(&w, exact, "connection");
	CHECK(c == (int)w.nheaders - 1);
	CHECK(h1_find(&w, exact, "x-forwarded-for") >= 0);
	if (upgrade) {
		CHECK(w.flags & H1F_CONN_UPGRADE);
	} else {
		CHECK(!(w.flags & H1F_CONN_UPGRADE));
		CHECK(!!(w.flags & H1F_KEEP_ALIVE) == f->upstream_keepalive);
	}
	if (f->via != NULL && f->via[0] != '\0')
		CHECK(h1_find(&w, exact, "via") >= 0);
out:
	free(exact);
	free(out);
}

static void check_write_response(const uint8_t *b, const struct h1_msg *m, unsigned int meth, const char *via,
				 bool ka, unsigned int minor)
{
	static struct h1_msg w;
	size_t big = (size_t)m->head_len + 256;
	uint8_t *out = malloc(big), *exact;
	bool bodiless = m->status < 200 || m->status == 204;
	bool dechunk = minor == 0 && m->body == H1_BODY_CHUNKED;
	bool has_te = m->flags & H1F_TRANSFER_ENCODING, has_cl = m->flags & H1F_CONTENT_LENGTH;
	unsigned int want_te = !bodiless && minor != 0 && has_te;
	unsigned int want_cl = !bodiless && !has_te && has_cl;
	int n, rc;

	if (out == NULL)
		abort();
	n = h1_write_response(m, b, via, ka, minor, out, big);
	CHECK(n > 0 && (size_t)n <= big);
	exact = dup_exact(out, (size_t)n);
	CHECK(h1_write_response(m, b, via, ka, minor, exact, (size_t)n) == n);
	CHECK(memcmp(exact, out, (size_t)n) == 0);
	CHECK(h1_write_response(m, b, via, ka, minor, exact, (size_t)n - 1) == -1);

	rc = h1_parse_response(exact, (size_t)n, NULL, meth, &w);
	if (rc == -502 && m->nheaders + 2 > H1_MAX_HEADERS)
		goto out;
	CHECK(rc == 0);
	CHECK(w.head_len == (uint32_t)n);
	CHECK(w.version_minor == 1);
	CHECK(w.status == m->status);
	CHECK(span_eq(exact, w.reason, b, m->reason));
	/* an HTTP/1.0 client gets a chunked body as its data, closed after */
	CHECK(w.body == (dechunk ? H1_BODY_CLOSE : m->body));
	CHECK(count_fields(&w, exact, "content-length") == want_cl);
	CHECK(count_fields(&w, exact, "transfer-encoding") == want_te);
	if (want_cl)
		CHECK(w.content_length == m->content_length);
	CHECK(h1_find(&w, exact, "keep-alive") < 0 && h1_find(&w, exact, "proxy-connection") < 0);
	if (m->body == H1_BODY_CHUNKED)
		CHECK(h1_find(&w, exact, "content-length") < 0);
	if (m->status == 101)
		CHECK(w.flags & H1F_CONN_UPGRADE);
	else if (!ka || dechunk)
		CHECK(!(w.flags & H1F_KEEP_ALIVE));
	else
		CHECK(!(w.flags & H1F_CONN_CLOSE) && !(w.flags & H1F_CONN_UPGRADE));
out:
	free(exact);
	free(out);
}

static void check_error_response(unsigned int status)
{
	static struct h1_msg w;
	uint8_t out[512], *exact;
	int n = h1_error_response(status, out, sizeof(out));

	CHECK(n > 0);
	exact = dup_exact(out, (size_t)n);
	CHECK(h1_error_response(status, exact, (size_t)n) == n);
	CHECK(h1_error_response(status, exact, (size_t)n - 1) == -1);
	CHECK(h1_parse_response(exact, (size_t)n, NULL, H1_M_GET, &w) == 0);
	CHECK(w.body == H1_BODY_LENGTH);
	CHECK(w.head_len + w.content_length == (uint64_t)n);
	CHECK(!(w.flags & H1F_KEEP_ALIVE));
	CHECK(w.status == (status >= 100 && status <= 999 ? status : 500));
	free(exact);
}

/* ---- upgrades ---------------------------------------------------------------------- */

static bool is_ci_name(const uint8_t *b, struct h1_span s, const char *name)
{
	size_t n = strlen(name);

	if (s.len != n)
		return false;
	for (size_t k = 0; k < n; k++)
		if ((b[s.off + k] | 0x20) != (uint8_t)name[k])
			return false;
	return true;
}

/* protocol-name [ "/" protocol-version ], both tokens */
static bool valid_protocol(const uint8_t *p, size_t n)
{
	size_t i = 0, v;

	while (i < n && is_tchar(p[i]))
		i++;
	if (i == 0)
		return false;
	if (i == n)
		return true;
	if (p[i] != '/')
		return false;
	v = ++i;
	while (i < n && is_tchar(p[i]))
		i++;
	return i == n && i > v;
}

/*
 * A 101 R (bytes B): a request that offers exactly the Upgrade values R
 * names is accepted when R names at least one protocol and all of them are
 * well-formed; the same request without the "upgrade" option never is.
 */
static void check_upgrade(const uint8_t *b, const struct h1_msg *r)
{
	static struct h1_msg q;
	static const char pre[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n";
	size_t cap = sizeof(pre) + 4, n = 0;
	unsigned int named = 0;
	bool valid = true;
	uint8_t *buf;

	for (uint32_t i = 0; i < r->nheaders; i++)
		cap += r->h[i].value.len + 12;
	buf = malloc(cap);
	if (buf == NULL)
		abort();
	memcpy(buf, pre, sizeof(pre) - 1);
	n = sizeof(pre) - 1;
	for (uint32_t i = 0; i < r->nheaders; i++) {
		const uint8_t *v = b + r->h[i].value.off;
		size_t vl = r->h[i].value.len, a = 0;

		if (!is_ci_name(b, r->h[i].name, "upgrade"))
			continue;
		memcpy(buf + n, "Upgrade: ", 9);
		memcpy(buf + n + 9, v, vl);
		memcpy(buf + n + 9 + vl, "\r\n", 2);
		n += 11 + vl;
		while (a <= vl) {
			size_t z = a, s, e;

			while (z < vl && v[z] != ',')
				z++;
			for (s = a; s < z && (v[s] == ' ' || v[s] == '\t'); s++)
				;
			for (e = z; e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'); e--)
				;
			if (e > s) {
				named++;
				valid = valid && valid_protocol(v + s, e - s);
			}
			a = z + 1;
		}
	}
	memcpy(buf + n, "\r\n", 2);
	n += 2;
	if (h1_parse_request(buf, n, NULL, &q) == 0) {
		CHECK(h1_upgrade_accepted(&q, buf, r, b) == (named > 0 && valid));
		q.flags &= ~(uint32_t)H1F_UPGRADE_OFFER;
		CHECK(!h1_upgrade_accepted(&q, buf, r, b));
	}
	free(buf);
}

/* ---- chunked ----------------------------------------------------------------------- */

enum { R_ERR, R_MORE, R_DONE };

struct cres {
	int kind;
	size_t consumed;
	uint64_t total;
};

static bool is_qdtext(uint8_t c)
{
	return c == '\t' || c == ' ' || (c >= 0x21 && c != '"' && c != '\\' && c != 0x7f);
}

/*
 * Independent decoder of a whole buffer: RFC 9112 §7.1 as h1.h reads it
 * (CRLF only, chunk-ext = *( BWS ";" BWS token [ BWS "=" BWS ( token /
 * quoted-string ) ] ), trailer fields as header fields) plus its limits.
 */
static struct cres ref_chunked(const uint8_t *b, size_t n)
{
	struct cres r = { R_MORE, n, 0 };
	size_t p = 0;

#define NEED(cond) do { if (p >= n) return r; if (!(cond)) { r.kind = R_ERR; return r; } } while (0)
#define CRLF() do { NEED(b[p] == '\r'); p++; NEED(b[p] == '\n'); p++; } while (0)
	for (;;) {
		uint64_t size = 0;
		size_t digits = 0, ext = 0;
		bool ws;

#define EXT_TAKE() do { if (++ext > 4096) { r.kind = R_ERR; return r; } p++; } while (0)
#define SKIP_OWS() ({ size_t s0_ = p; while (p < n && (b[p] == ' ' || b[p] == '\t')) EXT_TAKE(); p > s0_; })
		NEED(is_hex(b[p]));
		while (p < n && is_hex(b[p])) {
			if (++digits > 16)
				NEED(false);
			size = size * 16 + (uint64_t)hexval(b[p]);
			if (size > MAX_LENGTH)
				NEED(false);
			p++;
		}
		ws = SKIP_OWS();
		for (;;) {
			NEED(true);
			if (b[p] == '\r') {
				NEED(!ws);      /* whitespace only before ";" or "=" */
				break;
			}
			NEED(b[p] == ';');
			EXT_TAKE();
			SKIP_OWS();
			NEED(is_tchar(b[p]));
			while (p < n && is_tchar(b[p]))
				EXT_TAKE();
			ws = SKIP_OWS();
			NEED(true);
			if (b[p] != '=')
				continue;
			EXT_TAKE();
			SKIP_OWS();
			NEED(true);
			if (b[p] == '"') {
				EXT_TAKE();
				for (;;) {
					NEED(true);
					if (b[p] == '"') {
						EXT_TAKE();
						break;
					}
					if (b[p] == '\\') {
						EXT_TAKE();
						NEED(b[p] == '\t' || b[p] == ' ' || (b[p] >= 0x21 && b[p] != 0x7f));
					} else {
						NEED(is_qdtext(b[p]));
					}
					EXT_TAKE();
				}
			} else {
				NEED(is_tchar(b[p]));
				while (p < n && is_tchar(b[p]))
					EXT_TAKE();
			}
			ws = SKIP_OWS();
		}
#undef SKIP_OWS
#undef EXT_TAKE
		CRLF();
		if (size == 0)
			break;
		if (n - p < size) {
			r.total += n - p;
			return r;
		}
		p += size;
		r.total += size;
		CRLF();
	}
	/* trailer section */
	{
		size_t tl = 0;

#define TAKE() do { if (++tl > 4096) { r.kind = R_ERR; return r; } p++; } while (0)
		for (;;) {
			NEED(true);
			if (b[p] == '\r') {
				CRLF();
				break;
			}
			NEED(is_tchar(b[p]));
			while (p < n && is_tchar(b[p]))
				TAKE();
			NEED(b[p] == ':');
			TAKE();
			while (p < n && is_vchar_field(b[p]))
				TAKE();
			NEED(b[p] == '\r');
			TAKE();
			NEED(b[p] == '\n');
			TAKE();
		}
#undef TAKE
	}
#undef CRLF
#undef NEED
	r.kind = R_DONE;
	r.consumed = p;
	return r;
}

/* Feed B[0..N) cut at the offsets CUTS (ascending, NCUTS of them), each piece an exact copy. */
static struct cres feed_pieces(const uint8_t *b, size_t n, const size_t *cuts, size_t ncuts,
			       struct h1_chunked *st)
{
	struct cres r = { R_MORE, 0, 0 };
	size_t from = 0;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n, k = to - from;
		uint8_t *piece = dup_exact(b + from, k);
		bool done = false;
		long rc = h1_chunked_feed(st, piece, k, &done);

		free(piece);
		if (rc < 0) {
			CHECK(rc == -400);
			CHECK(!done);
			r.kind = R_ERR;
			return r;
		}
		CHECK((size_t)rc <= k);
		r.consumed += (size_t)rc;
		if (done) {
			r.kind = R_DONE;
			r.total = st->total;
			/* what follows is not body */
			rc = h1_chunked_feed(st, b, n, &done);
			CHECK(rc == 0 && done);
			return r;
		}
		CHECK((size_t)rc == k);
		from = to;
	}
	r.total = st->total;
	return r;
}

static void check_chunked(const uint8_t *b, size_t n, uint32_t seed)
{
	struct h1_chunked st_whole, st;
	struct cres whole, ref = ref_chunked(b, n), r;
	size_t cuts[2];

	whole = feed_pieces(b, n, NULL, 0, &st_whole);
	if (whole.kind != ref.kind ||
	    (whole.kind != R_ERR && (whole.consumed != ref.consumed || whole.total != ref.total)))
		fprintf(stderr, "chunked: kind %d consumed %zu total %llu, reference %d %zu %llu\n", whole.kind,
			whole.consumed, (unsigned long long)whole.total, ref.kind, ref.consumed,
			(unsigned long long)ref.total);
	CHECK(whole.kind == ref.kind);
	if (whole.kind != R_ERR) {
		CHECK(whole.consumed == ref.consumed);
		CHECK(whole.total == ref.total);
		CHECK(whole.total <= whole.consumed);
	}

	if (n > 0) {
		cuts[0] = seed % (n + 1);
		cuts[1] = (seed / 7919) % (n + 1);
		if (cuts[0] > cuts[1]) {
			size_t t = cuts[0];

			cuts[0] = cuts[1];
			cuts[1] = t;
		}
		r = feed_pieces(b, n, cuts, 2, &st);
		CHECK(r.kind == whole.kind);
		if (r.kind != R_ERR) {
			CHECK(r.consumed == whole.consumed && r.total == whole.total);
			if (r.kind == R_MORE)
				CHECK(memcmp(&st, &st_whole, sizeof(st)) == 0);
		}
	}
	if (n <= 2048) {
		struct h1_chunked s1 = { 0 };
		size_t consumed = 0;
		int kind = R_MORE;

		for (size_t i = 0; i < n; i++) {
			bool done = false;
			long rc = h1_chunked_feed(&s1, b + i, 1, &done);

			if (rc < 0) {
				kind = R_ERR;
				break;
			}
			consumed += (size_t)rc;
			if (done) {
				CHECK(rc == 1);
				kind = R_DONE;
				break;
			}
			CHECK(rc == 1);
		}
		CHECK(kind == whole.kind);
		if (kind != R_ERR) {
			CHECK(consumed == whole.consumed && s1.total == whole.total);
			if (kind == R_MORE)
				CHECK(memcmp(&s1, &st_whole, sizeof(s1)) == 0);
		}
	}
}

/* ---- entry point --------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct h1_msg mreq, mresp;
	const struct h1_limits *lim;
	struct h1_fwd fwd = { 0 };   /* every field the fuzzer does not set stays off */
	unsigned int meth;
	uint8_t flags, *buf;
	size_t len;
	uint32_t seed = 2166136261u;
	int rq, rs;
	bool chunk_done = false;

	if (size < 1 || size - 1 > MAX_INPUT)
		return 0;
	flags = data[0];
	lim = &presets[flags & 3];
	meth = (flags >> 2) & 0x0f;
	len = size - 1;
	buf = dup_exact(data + 1, len);
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;

	fwd.client_ip = seed;
	fwd.proto = (flags & 0x20) ? "https" : "http";
	fwd.via = (flags & 0x80) ? "porter" : NULL;
	fwd.upstream_keepalive = flags & 0x40;

	rq = check_parse(parse_req, true, buf, len, lim, meth, &mreq);
	CHECK(memcmp(buf, data + 1, len) == 0);         /* const input */
	if (rq == 0)
		check_write_request(buf, &mreq, &fwd);
	rs = check_parse(parse_resp, false, buf, len, lim, meth, &mresp);
	if (rs == 0)
		check_write_response(buf, &mresp, meth, fwd.via, fwd.upstream_keepalive, (flags >> 2) & 1);
	if (rs == 0 && mresp.status == 101)
		check_upgrade(buf, &mresp);

	/* 4xx and 5xx (1xx, 204 and 304 have no body); out of range: 500 */
	check_error_response(400 + seed % 200);
	check_error_response(seed % 100);
	check_error_response(1000 + seed % 1000);

	if (rq == 0 && mreq.body == H1_BODY_CHUNKED) {
		check_chunked(buf + mreq.head_len, len - mreq.head_len, seed);
		chunk_done = true;
	}
	if (rs == 0 && mresp.body == H1_BODY_CHUNKED) {
		check_chunked(buf + mresp.head_len, len - mresp.head_len, seed);
		chunk_done = true;
	}
	if (!chunk_done)
		check_chunked(buf, len, seed);
	free(buf);
	return 0;
}
