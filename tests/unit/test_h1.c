/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/http/h1*.c: request and response heads (RFC 9112 §2-§6), the
 * smuggling rules of h1.h, limits, the chunked decoder (§7.1) and the head
 * writers. Inputs are C strings; expected spans are compared as text.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "secondary/http/h1.h"

static struct h1_msg m;
static const struct h1_limits lim = { .max_request_line = 8192, .max_head = 16384, .max_headers = 100 };

static int req(const char *s)
{
	return h1_parse_request((const uint8_t *)s, strlen(s), &lim, &m);
}

static int req_n(const void *s, size_t n, const struct h1_limits *l)
{
	return h1_parse_request(s, n, l, &m);
}

static int resp(const char *s, unsigned int method)
{
	return h1_parse_response((const uint8_t *)s, strlen(s), &lim, method, &m);
}

static bool span_is(const char *buf, struct h1_span sp, const char *want)
{
	return sp.len == strlen(want) && memcmp(buf + sp.off, want, sp.len) == 0;
}

#define assert_span(buf, sp, want)                                                              \
	cr_assert(span_is((buf), (sp), (want)), "span '%.*s' (off %u), expected '%s'",          \
		  (int)(sp).len, (buf) + (sp).off, (sp).off, (want))

#define expect_req(s, rc) cr_assert_eq(req(s), (rc), "request %s", #s)
#define expect_resp(s, meth, rc) cr_assert_eq(resp((s), (meth)), (rc), "response %s", #s)

#define HOST "Host: example.com\r\n"

/* ---- request line ------------------------------------------------------------ */

Test(request, simple_get)
{
	const char *s = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";

	cr_assert_eq(req(s), 0);
	cr_assert_eq(m.head_len, strlen(s));
	cr_assert_eq(m.method, H1_M_GET);
	cr_assert_eq(m.version_minor, 1);
	assert_span(s, m.method_s, "GET");
	assert_span(s, m.target, "/index.html");
	assert_span(s, m.path, "/index.html");
	assert_span(s, m.host, "example.com");
	cr_assert_eq(m.nheaders, 1);
	assert_span(s, m.h[0].name, "Host");
	assert_span(s, m.h[0].value, "example.com");
	cr_assert_eq(m.body, H1_BODY_NONE);
	cr_assert(m.flags & H1F_HAS_HOST);
	cr_assert(m.flags & H1F_KEEP_ALIVE);
}

Test(request, header_spans)
{
	const char *s = "POST /x HTTP/1.1\r\n"
			"hOsT:example.com\r\n"
			"X-A:   v  v \t \r\n"
			"X-Empty:\r\n"
			"X-Tab:\tt\r\n"
			"Content-Length: 3\r\n\r\nabc";

	cr_assert_eq(req(s), 0);
	cr_assert_eq(m.head_len, strlen(s) - 3);
	cr_assert_eq(m.nheaders, 5);
	assert_span(s, m.h[0].name, "hOsT");
	assert_span(s, m.h[1].name, "X-A");
	assert_span(s, m.h[1].value, "v  v");
	assert_span(s, m.h[2].value, "");
	assert_span(s, m.h[3].value, "t");
	cr_assert_eq(m.body, H1_BODY_LENGTH);
	cr_assert_eq(m.content_length, 3);
}

Test(request, path_stops_at_query)
{
	const char *s = "GET /a/b?x=1&y=/z HTTP/1.1\r\n" HOST "\r\n";

	cr_assert_eq(req(s), 0);
	assert_span(s, m.path, "/a/b");
	assert_span(s, m.target, "/a/b?x=1&y=/z");
	cr_assert_not(m.flags & H1F_ABSOLUTE);
}

Test(request, absolute_form_authority_wins)
{
	const char *s = "GET http://Example.COM:8080/p/q?x HTTP/1.1\r\nHost: other.example\r\n\r\n";

	cr_assert_eq(req(s), 0);
	assert_span(s, m.host, "Example.COM");
	assert_span(s, m.authority, "Example.COM:8080");
	assert_span(s, m.path, "/p/q");
	assert_span(s, m.target, "http://Example.COM:8080/p/q?x");
	cr_assert(m.flags & H1F_HAS_HOST);
	cr_assert(m.flags & H1F_ABSOLUTE);
}

Test(request, absolute_form_empty_path)
{
	const char *a = "GET http://h.example HTTP/1.1\r\nHost: h.example\r\n\r\n";
	const char *b = "GET HTTPS://h.example:1?q=1 HTTP/1.1\r\nHost: h.example\r\n\r\n";
	const char *c = "GET http://[2001:db8::1]:80/v6 HTTP/1.1\r\nHost: x\r\n\r\n";

	cr_assert_eq(req(a), 0);
	assert_span(a, m.path, "/");
	assert_span(a, m.host, "h.example");
	cr_assert_eq(req(b), 0);
	assert_span(b, m.path, "/");
	cr_assert_eq(req(c), 0);
	assert_span(c, m.host, "[2001:db8::1]");
	assert_span(c, m.path, "/v6");
}

Test(request, absolute_form_errors)
{
	expect_req("GET ftp://h/x HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET http://user@h/x HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET http:///x HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET http://h:8x/ HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET index.html HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET http:/h HTTP/1.1\r\n" HOST "\r\n", -400);
}

Test(request, connect_authority_form)
{
	const char *s = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";

	cr_assert_eq(req(s), 0);
	cr_assert_eq(m.method, H1_M_CONNECT);
	assert_span(s, m.target, "example.com:443");
	cr_assert_eq(m.path.len, 0);
	assert_span(s, m.host, "example.com");
	expect_req("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n", 0);
	expect_req("CONNECT / HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("CONNECT example.com HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("CONNECT example.com: HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("CONNECT http://example.com:443/ HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET example.com:443 HTTP/1.1\r\n" HOST "\r\n", -400);
}

Test(request, asterisk_form)
{
	const char *s = "OPTIONS * HTTP/1.1\r\n" HOST "\r\n";

	cr_assert_eq(req(s), 0);
	cr_assert_eq(m.method, H1_M_OPTIONS);
	assert_span(s, m.path, "*");
	expect_req("GET * HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("OPTIONS /x HTTP/1.1\r\n" HOST "\r\n", 0);
	expect_req("OPTIONS *x HTTP/1.1\r\n" HOST "\r\n", -400);
}

Test(request, leading_empty_lines_skipped)
{
	const char *s = "\r\n\n\r\nGET / HTTP/1.1\r\n" HOST "\r\n";

	cr_assert_eq(req(s), 0);
	cr_assert_eq(m.head_len, strlen(s));
	assert_span(s, m.method_s, "GET");
	expect_req("\r\rGET / HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req(" GET / HTTP/1.1\r\n" HOST "\r\n", -400);
}

Test(request, bare_lf_line_ends)
{
	const char *s = "GET / HTTP/1.1\nHost: a\nX: y\n\nBODY";

	cr_assert_eq(req(s), 0);
	cr_assert_eq(m.head_len, strlen(s) - 4);
	assert_span(s, m.h[1].value, "y");
	expect_req("GET / HTTP/1.1\r\nHost: a\n\r\n", 0);
}

Test(request, bare_cr_rejected)
{
	expect_req("GET / HTTP/1.1\r" HOST "\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\n" HOST "\r\r\n", -400);
}

Test(request, known_methods)
{
	static const struct { const char *s; unsigned int m; } t[] = {
		{ "GET", H1_M_GET }, { "HEAD", H1_M_HEAD }, { "POST", H1_M_POST }, { "PUT", H1_M_PUT },
		{ "DELETE", H1_M_DELETE }, { "OPTIONS", H1_M_OPTIONS }, { "TRACE", H1_M_TRACE },
		{ "PATCH", H1_M_PATCH }, { "get", H1_M_OTHER }, { "M-SEARCH", H1_M_OTHER },
		{ "GETX", H1_M_OTHER }, { "PROPFIND", H1_M_OTHER },
	};
	char buf[128];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "%s / HTTP/1.1\r\n" HOST "\r\n", t[i].s);
		cr_assert_eq(req(buf), 0, "%s", t[i].s);
		cr_assert_eq(m.method, t[i].m, "%s", t[i].s);
		if (t[i].m != H1_M_OTHER)
			cr_assert_str_eq(h1_method_name(t[i].m), t[i].s);
	}
	cr_assert_null(h1_method_name(H1_M_OTHER));
	cr_assert_str_eq(h1_method_name(H1_M_CONNECT), "CONNECT");
}

Test(request, bad_request_line)
{
	expect_req("GE@T / HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET  / HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET /  HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET / HTTP/1.1 \r\n" HOST "\r\n", -400);
	expect_req("GET\t/ HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET /\r\n" HOST "\r\n", -400);
	expect_req("GET\r\n\r\n", -400);
	expect_req(" / HTTP/1.1\r\n" HOST "\r\n", -400);
}

Test(request, target_characters)
{
	expect_req("GET /a\tb HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET /a\x01 HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET /a\x7f HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET /a\x80 HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET /\xff HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET /a%20b~!$&'()*+,;=:@[]{}|^`\\\" HTTP/1.1\r\n" HOST "\r\n", 0);
	cr_assert_eq(req_n("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", 30, &lim), -400);
}

Test(request, versions)
{
	expect_req("GET / HTTP/1.0\r\n\r\n", 0);
	cr_assert_eq(m.version_minor, 0);
	expect_req("GET / HTTP/1.2\r\n" HOST "\r\n", 0);
	cr_assert_eq(m.version_minor, 1);
	expect_req("GET / HTTP/2.0\r\n" HOST "\r\n", -505);
	expect_req("GET / HTTP/0.9\r\n" HOST "\r\n", -505);
	expect_req("GET / HTTP/9.9\r\n\r\n", -505);
	expect_req("GET / HTTP/1.1x\r\n" HOST "\r\n", -400);
	expect_req("GET / http/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET / HTTP/11\r\n" HOST "\r\n", -400);
	expect_req("GET / HTTP/1.10\r\n" HOST "\r\n", -400);
	expect_req("GET / HTTP/1\r\n" HOST "\r\n", -400);
	expect_req("GET / HTTP/a.b\r\n" HOST "\r\n", -400);
}

/* ---- Host ------------------------------------------------------------------------ */

Test(host, required_once_in_1_1)
{
	expect_req("GET / HTTP/1.1\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", -400);
	expect_req("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", -400);
	expect_req("GET http://a/ HTTP/1.1\r\n\r\n", -400);
}

Test(host, optional_in_1_0)
{
	cr_assert_eq(req("GET / HTTP/1.0\r\n\r\n"), 0);
	cr_assert_eq(m.host.len, 0);
	cr_assert_not(m.flags & H1F_HAS_HOST);
}

Test(host, port_and_ipv6)
{
	const char *a = "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n";
	const char *b = "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n";
	const char *c = "GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n";
	const char *d = "GET / HTTP/1.1\r\nHost: 10.0.0.1:\r\n\r\n";

	cr_assert_eq(req(a), 0);
	assert_span(a, m.host, "example.com");
	cr_assert_eq(req(b), 0);
	assert_span(b, m.host, "[::1]");
	cr_assert_eq(req(c), 0);
	assert_span(c, m.host, "[fe80::1%25eth0]");
	cr_assert_eq(req(d), 0);
	assert_span(d, m.host, "10.0.0.1");
}

Test(host, empty_allowed)
{
	cr_assert_eq(req("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0);
	cr_assert_eq(m.host.len, 0);
	cr_assert(m.flags & H1F_HAS_HOST);
}

Test(host, invalid_values)
{
	expect_req("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: []\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: a:80:80\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: caf\xc3\xa9\r\n\r\n", -400);
}

/* ---- Content-Length ---------------------------------------------------------------- */

Test(content_length, simple_and_folded)
{
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\n\r\n", 0);
	cr_assert_eq(m.body, H1_BODY_LENGTH);
	cr_assert_eq(m.content_length, 5);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 5, 5\r\n\r\n", 0);
	cr_assert_eq(m.content_length, 5);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 5 ,5,\t5\r\n\r\n", 0);
	cr_assert_eq(m.content_length, 5);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\ncontent-length: 5\r\n\r\n", 0);
	cr_assert_eq(m.content_length, 5);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length:    007   \r\n\r\n", 0);
	cr_assert_eq(m.content_length, 7);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n", 0);
	cr_assert_eq(m.body, H1_BODY_LENGTH);
	cr_assert_eq(m.content_length, 0);
}

Test(content_length, differing_duplicates)
{
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 5, 6\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\nContent-Length: 5, 50\r\n\r\n", -400);
}

Test(content_length, bad_syntax)
{
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: +5\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: -5\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 0x5\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 5a\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 5 5\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: \r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 5,\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 5,,5\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 1.0\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: \"5\"\r\n\r\n", -400);
}

Test(content_length, limit_2_62)
{
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 4611686018427387904\r\n\r\n", 0);
	cr_assert_eq(m.content_length, UINT64_C(1) << 62);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 4611686018427387905\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 18446744073709551616\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 00000000000000000000000000001\r\n\r\n", 0);
	cr_assert_eq(m.content_length, 1);
}

/* ---- Transfer-Encoding -------------------------------------------------------------- */

Test(transfer_encoding, chunked)
{
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n", 0);
	cr_assert_eq(m.body, H1_BODY_CHUNKED);
	expect_req("POST / HTTP/1.1\r\n" HOST "transfer-encoding: ChUnKeD\r\n\r\n", 0);
	cr_assert_eq(m.body, H1_BODY_CHUNKED);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: , chunked ,\r\n\r\n", 0);
	cr_assert_eq(m.body, H1_BODY_CHUNKED);
}

Test(transfer_encoding, with_content_length)
{
	expect_req("POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", -400);
}

Test(transfer_encoding, chunked_twice)
{
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked, chunked\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
		   -400);
}

Test(transfer_encoding, final_not_chunked)
{
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked, gzip\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: identity\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding:\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: ,\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
		   -400);
}

Test(transfer_encoding, codings_before_chunked)
{
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip, chunked\r\n\r\n", 0);
	cr_assert_eq(m.body, H1_BODY_CHUNKED);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 0);
	cr_assert_eq(m.body, H1_BODY_CHUNKED);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: deflate,x-gzip,compress , chunked\r\n\r\n", 0);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: foo, chunked\r\n\r\n", -501);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: identity, chunked\r\n\r\n", -501);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip;level=1, chunked\r\n\r\n", -501);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip;x=\"a,b\", chunked\r\n\r\n", -501);
}

Test(transfer_encoding, bad_syntax)
{
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked;x=1\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: \"chunked\"\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked chunked\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip;, chunked\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip;x=\"open, chunked\r\n\r\n", -400);
	expect_req("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: \x0b" "chunked\r\n\r\n", -400);
}

Test(transfer_encoding, http_1_0)
{
	expect_req("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -400);
	expect_req("POST / HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", -400);
}

/* ---- field syntax ---------------------------------------------------------------- */

Test(fields, obs_fold_rejected)
{
	expect_req("GET / HTTP/1.1\r\n" HOST "X-A: a\r\n b\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\n" HOST "X-A: a\r\n\tb\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\n Host: a\r\n\r\n", -400);
}

Test(fields, whitespace_before_colon)
{
	expect_req("GET / HTTP/1.1\r\nHost : a\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\n" HOST "Content-Length\t: 5\r\n\r\n", -400);
}

Test(fields, bad_names)
{
	expect_req("GET / HTTP/1.1\r\n" HOST "NoColon\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\n" HOST ": value\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\n" HOST "X(A): v\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\n" HOST "X\x01: v\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\n" HOST "X\xc3\xa9: v\r\n\r\n", -400);
}

Test(fields, value_characters)
{
	static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";

	cr_assert_eq(req_n(nul, sizeof(nul) - 1, &lim), -400);
	expect_req("GET / HTTP/1.1\r\n" HOST "X: a\x7f\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\n" HOST "X: a\x1b[0m\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\n" HOST "X: a\x0b\r\n\r\n", -400);
	expect_req("GET / HTTP/1.1\r\n" HOST "X: caf\xc3\xa9 \"q\" (c)\r\n\r\n", 0);
}

Test(fields, body_bytes_not_in_head)
{
	const char *s = "POST / HTTP/1.1\r\n" HOST "Content-Length: 4\r\n\r\nGET / HTTP/1.1\r\n";

	cr_assert_eq(req(s), 0);
	cr_assert_eq(m.head_len, strlen(s) - strlen("GET / HTTP/1.1\r\n"));
}

Test(fields, find)
{
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nACCEPT: */*\r\n\r\n";

	cr_assert_eq(req(s), 0);
	cr_assert_eq(h1_find(&m, (const uint8_t *)s, "host"), 0);
	cr_assert_eq(h1_find(&m, (const uint8_t *)s, "x-forwarded-for"), 1);
	cr_assert_eq(h1_find(&m, (const uint8_t *)s, "Accept"), 2);
	cr_assert_eq(h1_find(&m, (const uint8_t *)s, "Accep"), -1);
	cr_assert_eq(h1_find(&m, (const uint8_t *)s, "Cookie"), -1);
}

/* ---- limits ------------------------------------------------------------------- */

static char big[40000];

Test(limits, request_line_414_incomplete)
{
	struct h1_limits l = { .max_request_line = 8192, .max_head = 32768, .max_headers = 100 };

	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 20000 - 5);
	cr_assert_eq(req_n(big, 20000, &l), -414);
	cr_assert_eq(req_n(big, 8192, &l), -414);
	cr_assert_eq(req_n(big, 8191, &l), H1_INCOMPLETE);
}

Test(limits, request_line_exact)
{
	struct h1_limits l = { .max_request_line = 64, .max_head = 4096, .max_headers = 10 };
	size_t n;

	/* a request line of 64 bytes with CRLF: accepted; 65: 414 */
	memset(big, 0, sizeof(big));
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 64 - 5 - 11);
	strcpy(big + 64 - 11, " HTTP/1.0\r\n\r\n");
	n = strlen(big);
	cr_assert_eq(req_n(big, n, &l), 0);
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 65 - 5 - 11);
	strcpy(big + 65 - 11, " HTTP/1.0\r\n\r\n");
	cr_assert_eq(req_n(big, strlen(big), &l), -414);
	/* with a bare LF, 64 bytes hold one more target byte */
	memset(big + 5, 'a', 64 - 5 - 10);
	strcpy(big + 64 - 10, " HTTP/1.0\n\n");
	cr_assert_eq(req_n(big, strlen(big), &l), 0);
}

Test(limits, leading_lines_not_in_request_line)
{
	struct h1_limits l = { .max_request_line = 20, .max_head = 4096, .max_headers = 10 };

	cr_assert_eq(req_n("\r\n\r\n\r\nGET / HTTP/1.0\r\n\r\n", 24, &l), 0);
}

Test(limits, head_431_incomplete)
{
	struct h1_limits l = { .max_request_line = 8192, .max_head = 1024, .max_headers = 100 };
	size_t n = 0;

	n += (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(big + n, 'v', 2000);
	cr_assert_eq(req_n(big, n + 2000, &l), -431);
	cr_assert_eq(req_n(big, 1024, &l), -431);
	cr_assert_eq(req_n(big, 1023, &l), H1_INCOMPLETE);
}

Test(limits, head_exact)
{
	struct h1_limits l = { .max_request_line = 8192, .max_head = 64, .max_headers = 100 };
	char s[128];
	size_t n;

	n = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(s + n, 'v', 64 - n - 4);
	strcpy(s + 64 - 4, "\r\n\r\n");
	cr_assert_eq(req_n(s, 64, &l), 0);
	cr_assert_eq(m.head_len, 64);
	cr_assert_eq(req_n(s, 63, &l), H1_INCOMPLETE);
	l.max_head = 63;
	cr_assert_eq(req_n(s, 64, &l), -431);
	cr_assert_eq(req_n(s, 62, &l), H1_INCOMPLETE);
}

Test(limits, header_count)
{
	struct h1_limits l = { .max_request_line = 8192, .max_head = 16384, .max_headers = 4 };

	cr_assert_eq(req_n("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 45, &l), 0);
	cr_assert_eq(req_n("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 51, &l), -431);
	/* detected as soon as the fifth field starts */
	cr_assert_eq(req_n("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD", 44, &l), -431);
}

Test(limits, hard_caps_when_zero)
{
	struct h1_limits zero = { 0, 0, 0 };
	size_t n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");

	for (int i = 0; i < H1_MAX_HEADERS - 1; i++)
		n += (size_t)sprintf(big + n, "X-%d: v\r\n", i);
	strcpy(big + n, "\r\n");
	cr_assert_eq(req_n(big, n + 2, &zero), 0);
	cr_assert_eq(m.nheaders, H1_MAX_HEADERS);
	cr_assert_eq(req_n(big, n + 2, NULL), 0);
	n += (size_t)sprintf(big + n, "X-last: v\r\n\r\n");
	cr_assert_eq(req_n(big, n, &zero), -431);
	/* a configured limit above the hard cap is the hard cap */
	zero.max_headers = 1000;
	cr_assert_eq(req_n(big, n, &zero), -431);
}

/* ---- incomplete input ------------------------------------------------------------- */

static void all_prefixes_incomplete(const char *s, bool response)
{
	size_t n = strlen(s);
	int rc;

	for (size_t k = 0; k < n; k++) {
		if (response)
			rc = h1_parse_response((const uint8_t *)s, k, &lim, H1_M_GET, &m);
		else
			rc = h1_parse_request((const uint8_t *)s, k, &lim, &m);
		cr_assert_eq(rc, H1_INCOMPLETE, "prefix %zu of %s: %d", k, s, rc);
	}
	rc = response ? h1_parse_response((const uint8_t *)s, n, &lim, H1_M_GET, &m) :
			h1_parse_request((const uint8_t *)s, n, &lim, &m);
	cr_assert_eq(rc, 0, "%s: %d", s, rc);
	cr_assert_eq(m.head_len, n);
}

Test(incomplete, every_request_prefix)
{
	all_prefixes_incomplete("GET /a?b HTTP/1.1\r\nHost: example.com:80\r\nX-Empty:\r\n"
				"Content-Length: 5, 5\r\nConnection: keep-alive\r\n\r\n", false);
	all_prefixes_incomplete("\r\n\nPOST http://h/x HTTP/1.1\nHost: h\nTransfer-Encoding: gzip, chunked\n\n",
				false);
	all_prefixes_incomplete("CONNECT [::1]:443 HTTP/1.0\r\n\r\n", false);
	all_prefixes_incomplete("OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n", false);
}

Test(incomplete, every_response_prefix)
{
	all_prefixes_incomplete("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX: y\r\n\r\n", true);
	all_prefixes_incomplete("HTTP/1.0 404\nConnection: keep-alive\n\n", true);
}

Test(incomplete, empty_buffer)
{
	cr_assert_eq(h1_parse_request((const uint8_t *)"", 0, &lim, &m), H1_INCOMPLETE);
	cr_assert_eq(h1_parse_response((const uint8_t *)"", 0, &lim, H1_M_GET, &m), H1_INCOMPLETE);
}

Test(incomplete, errors_before_the_end)
{
	/* invalid bytes are reported without waiting for the rest of the head */
	expect_req("GET / HTTP/1.1\r\nHost: a\r\nX: \x01", -400);
	expect_req("GET / HTTP/3", H1_INCOMPLETE);
	expect_req("GET / HTTP/1,", -400);
	expect_req("GET /\x7f", -400);
	expect_req("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n", -400);
	expect_req("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n", -400);
}

/* ---- Connection, Expect, Upgrade ---------------------------------------------------- */

Test(connection, keep_alive_1_1)
{
	expect_req("GET / HTTP/1.1\r\n" HOST "\r\n", 0);
	cr_assert(m.flags & H1F_KEEP_ALIVE);
	expect_req("GET / HTTP/1.1\r\n" HOST "Connection: close\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_KEEP_ALIVE);
	cr_assert(m.flags & H1F_CONN_CLOSE);
	expect_req("GET / HTTP/1.1\r\n" HOST "Connection: foo, CLOSE\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_KEEP_ALIVE);
	expect_req("GET / HTTP/1.1\r\n" HOST "Connection: closed\r\n\r\n", 0);
	cr_assert(m.flags & H1F_KEEP_ALIVE);
	cr_assert_not(m.flags & H1F_CONN_CLOSE);
}

Test(connection, keep_alive_1_0)
{
	expect_req("GET / HTTP/1.0\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_KEEP_ALIVE);
	expect_req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0);
	cr_assert(m.flags & H1F_KEEP_ALIVE);
	cr_assert(m.flags & H1F_CONN_KEEPALIVE);
	expect_req("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_KEEP_ALIVE);
}

Test(connection, upgrade_flags)
{
	expect_req("GET /ws HTTP/1.1\r\n" HOST "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n", 0);
	cr_assert(m.flags & H1F_CONN_UPGRADE);
	cr_assert(m.flags & H1F_UPGRADE);
	cr_assert(m.flags & H1F_CONN_KEEPALIVE);
	expect_req("GET /ws HTTP/1.1\r\n" HOST "Upgrade: websocket\r\n\r\n", 0);
	cr_assert(m.flags & H1F_UPGRADE);
	cr_assert_not(m.flags & H1F_CONN_UPGRADE);
}

Test(connection, expect_continue)
{
	expect_req("PUT / HTTP/1.1\r\n" HOST "Expect: 100-continue\r\nContent-Length: 1\r\n\r\n", 0);
	cr_assert(m.flags & H1F_EXPECT_CONTINUE);
	expect_req("PUT / HTTP/1.1\r\n" HOST "Expect: 100-Continue\r\n\r\n", 0);
	cr_assert(m.flags & H1F_EXPECT_CONTINUE);
	expect_req("PUT / HTTP/1.1\r\n" HOST "Expect: 200-ok\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_EXPECT_CONTINUE);
	expect_req("PUT / HTTP/1.1\r\n" HOST "\r\n", 0);
	cr_assert_not(m.flags & H1F_EXPECT_CONTINUE);
}

/* ---- responses ---------------------------------------------------------------------- */

Test(response, simple)
{
	const char *s = "HTTP/1.1 200 OK fine\r\nContent-Length: 12\r\nServer: x\r\n\r\nhello world!";

	cr_assert_eq(resp(s, H1_M_GET), 0);
	cr_assert_eq(m.status, 200);
	assert_span(s, m.reason, "OK fine");
	cr_assert_eq(m.body, H1_BODY_LENGTH);
	cr_assert_eq(m.content_length, 12);
	cr_assert_eq(m.head_len, strlen(s) - 12);
	cr_assert_eq(m.nheaders, 2);
	cr_assert(m.flags & H1F_KEEP_ALIVE);
}

Test(response, reason_optional)
{
	const char *a = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
	const char *b = "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n";
	const char *c = "HTTP/1.1 500 Erreur \xe9trange\r\nContent-Length: 0\r\n\r\n";

	cr_assert_eq(resp(a, H1_M_GET), 0);
	cr_assert_eq(m.reason.len, 0);
	cr_assert_eq(resp(b, H1_M_GET), 0);
	cr_assert_eq(m.reason.len, 0);
	cr_assert_eq(resp(c, H1_M_GET), 0);
	assert_span(c, m.reason, "Erreur \xe9trange");
}

Test(response, no_body_cases)
{
	expect_resp("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", H1_M_HEAD, 0);
	cr_assert_eq(m.body, H1_BODY_NONE);
	cr_assert(m.flags & H1F_KEEP_ALIVE);
	expect_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", H1_M_HEAD, 0);
	cr_assert_eq(m.body, H1_BODY_NONE);
	expect_resp("HTTP/1.1 204 No Content\r\n\r\n", H1_M_GET, 0);
	cr_assert_eq(m.body, H1_BODY_NONE);
	cr_assert(m.flags & H1F_KEEP_ALIVE);
	expect_resp("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", H1_M_GET, 0);
	cr_assert_eq(m.body, H1_BODY_NONE);
	expect_resp("HTTP/1.1 100 Continue\r\n\r\n", H1_M_POST, 0);
	cr_assert_eq(m.body, H1_BODY_NONE);
	expect_resp("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
		    H1_M_GET, 0);
	cr_assert_eq(m.body, H1_BODY_NONE);
	cr_assert(m.flags & H1F_UPGRADE);
	expect_resp("HTTP/1.1 200 Connection established\r\n\r\n", H1_M_CONNECT, 0);
	cr_assert_eq(m.body, H1_BODY_NONE);
	expect_resp("HTTP/1.1 407 Proxy Auth\r\nContent-Length: 3\r\n\r\n", H1_M_CONNECT, 0);
	cr_assert_eq(m.body, H1_BODY_LENGTH);
}

Test(response, chunked_and_close_delimited)
{
	expect_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", H1_M_GET, 0);
	cr_assert_eq(m.body, H1_BODY_CHUNKED);
	cr_assert(m.flags & H1F_KEEP_ALIVE);
	expect_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", H1_M_GET, 0);
	cr_assert_eq(m.body, H1_BODY_CHUNKED);
	expect_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: foo, chunked\r\n\r\n", H1_M_GET, 0);
	cr_assert_eq(m.body, H1_BODY_CHUNKED);
	expect_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", H1_M_GET, 0);
	cr_assert_eq(m.body, H1_BODY_CLOSE);
	cr_assert_not(m.flags & H1F_KEEP_ALIVE);
	expect_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, br\r\n\r\n", H1_M_GET, 0);
	cr_assert_eq(m.body, H1_BODY_CLOSE);
	expect_resp("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", H1_M_GET, 0);
	cr_assert_eq(m.body, H1_BODY_CLOSE);
	cr_assert_not(m.flags & H1F_KEEP_ALIVE);
}

Test(response, cl_and_te)
{
	expect_resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", H1_M_GET, 0);
	cr_assert_eq(m.body, H1_BODY_CHUNKED);
	cr_assert_not(m.flags & H1F_KEEP_ALIVE);
}

Test(response, keep_alive_rules)
{
	expect_resp("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", H1_M_GET, 0);
	cr_assert_eq(m.version_minor, 0);
	cr_assert_not(m.flags & H1F_KEEP_ALIVE);
	expect_resp("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n", H1_M_GET, 0);
	cr_assert(m.flags & H1F_KEEP_ALIVE);
	expect_resp("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", H1_M_GET, 0);
	cr_assert_not(m.flags & H1F_KEEP_ALIVE);
}

Test(response, errors_are_502)
{
	expect_resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1 20 OK\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1 2000 OK\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1 099 OK\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1 abc OK\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/2.0 200 OK\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1  200 OK\r\n\r\n", H1_M_GET, -502);
	expect_resp("ICY 200 OK\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1 200 O\x01K\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;a=b\r\n\r\n", H1_M_GET, -502);
	expect_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", H1_M_GET, -502);
}

Test(response, status_range)
{
	expect_resp("HTTP/1.1 999 Whatever\r\nContent-Length: 0\r\n\r\n", H1_M_GET, 0);
	cr_assert_eq(m.status, 999);
	expect_resp("HTTP/1.1 100 Continue\r\n\r\n", H1_M_GET, 0);
	cr_assert_eq(m.status, 100);
}

Test(response, limits_are_502)
{
	struct h1_limits l = { .max_request_line = 8192, .max_head = 32, .max_headers = 1 };

	cr_assert_eq(h1_parse_response((const uint8_t *)"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", 30, &l,
				       H1_M_GET, &m), -502);
	cr_assert_eq(h1_parse_response((const uint8_t *)"HTTP/1.1 200 OK\r\nA: 11111111111111\r\n", 36, &l,
				       H1_M_GET, &m), -502);
}

/* ---- chunked ----------------------------------------------------------------------- */

struct feed_result {
	long consumed;          /* sum of returns, or -400 */
	bool done;
	uint64_t total;
};

static struct feed_result feed_split(const char *s, size_t n, size_t step)
{
	struct h1_chunked st = { 0 };
	struct feed_result r = { 0, false, 0 };

	for (size_t off = 0; off < n && !r.done;) {
		size_t k = step == 0 || n - off < step ? n - off : step;
		long rc = h1_chunked_feed(&st, (const uint8_t *)s + off, k, &r.done);

		if (rc < 0) {
			r.consumed = rc;
			return r;
		}
		cr_assert_leq((size_t)rc, k);
		if (!r.done)
			cr_assert_eq((size_t)rc, k);
		r.consumed += rc;
		off += k;
	}
	r.total = st.total;
	return r;
}

/* Whole, byte by byte and in 3- and 7-byte pieces: the same result. */
static struct feed_result feed_all_ways(const char *s, size_t n)
{
	struct feed_result w = feed_split(s, n, 0);
	static const size_t steps[] = { 1, 2, 3, 7 };

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct feed_result r = feed_split(s, n, steps[i]);

		cr_assert_eq(r.consumed, w.consumed, "step %zu: %ld vs %ld", steps[i], r.consumed, w.consumed);
		cr_assert_eq(r.done, w.done, "step %zu", steps[i]);
		if (w.consumed >= 0)
			cr_assert_eq(r.total, w.total);
	}
	return w;
}

#define FEED(lit) feed_all_ways((lit), sizeof(lit) - 1)

Test(chunked, simple)
{
	struct feed_result r = FEED("5\r\nhello\r\n0\r\n\r\n");

	cr_assert_eq(r.consumed, 15);
	cr_assert(r.done);
	cr_assert_eq(r.total, 5);
}

Test(chunked, several_chunks_and_hex)
{
	struct feed_result r = FEED("1\r\na\r\nA\r\n0123456789\r\n1f\r\n0123456789012345678901234567890\r\n"
				    "0000\r\n\r\n");

	cr_assert(r.done);
	cr_assert_eq(r.total, 1 + 10 + 31);
	cr_assert_eq(r.consumed, (long)strlen("1\r\na\r\nA\r\n0123456789\r\n1f\r\n0123456789012345678901234567890\r\n"
					      "0000\r\n\r\n"));
}

Test(chunked, extensions)
{
	struct feed_result r = FEED("5;name=value;q=\"a b;c\"\r\nhello\r\n0;last\r\n\r\n");

	cr_assert(r.done);
	cr_assert_eq(r.total, 5);
	r = FEED("5 ;x\r\nhello\r\n0\t; y\r\n\r\n");
	cr_assert(r.done);
	r = FEED("5 \r\nhello\r\n0\r\n\r\n");
	cr_assert_eq(r.consumed, -400);
	r = FEED("5;a\0b\r\nhello\r\n0\r\n\r\n");
	cr_assert_eq(r.consumed, -400);
}

Test(chunked, trailers)
{
	struct feed_result r = FEED("3\r\nabc\r\n0\r\nX-Checksum: 123\r\nX-Other:\tv v\r\n\r\n");

	cr_assert(r.done);
	cr_assert_eq(r.total, 3);
	r = FEED("0\r\nX: a\r\n b\r\n\r\n");
	cr_assert_eq(r.consumed, -400);
	r = FEED("0\r\nX a\r\n\r\n");
	cr_assert_eq(r.consumed, -400);
	r = FEED("0\r\nX: a\x01\r\n\r\n");
	cr_assert_eq(r.consumed, -400);
	r = FEED("0\r\nX: a\r\r\n\r\n");
	cr_assert_eq(r.consumed, -400);
}

/* RFC 9112 §7.1: chunk lines, the line after chunk data and the trailer section end at CRLF */
Test(chunked, bare_lf_rejected)
{
	cr_assert_eq(FEED("5\nhello\n0\nT: 1\n\n").consumed, -400);
	cr_assert_eq(FEED("5\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5\r\nhello\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5\r\nhello\r\n0\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5\r\nhello\r\n0\r\n\n").consumed, -400);
	cr_assert_eq(FEED("0\r\nX: 1\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a\nhello\r\n0\r\n\r\n").consumed, -400);
	/* the smuggling shape: one chunk line to a parser that ends lines at LF, extension bytes to one that waits for CRLF */
	cr_assert_eq(FEED("2;\nxx\r\n10\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n").consumed, -400);
}

/* chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val = token / quoted-string */
Test(chunked, extension_syntax)
{
	cr_assert(FEED("5;a\r\nhello\r\n0\r\n\r\n").done);
	cr_assert(FEED("5 ; a = b ;c;d=\"x y\\\"z\"\r\nhello\r\n0;e=1\r\n\r\n").done);
	cr_assert(FEED("5;q=\"caf\xe9\";r=\"\"\r\nhello\r\n0\r\n\r\n").done);
	cr_assert(FEED("5;a=\"b\" ;c\r\nhello\r\n0\r\n\r\n").done);
	cr_assert_eq(FEED("5;\r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;=b\r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a=\r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a b\r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a=b c\r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a=b \r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a \r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a;\r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a=b=c\r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a=\"b\r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a=\"b\"c\r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a\xe9\r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n").consumed, -400);
	cr_assert_eq(FEED("5;a=(b)\r\nhello\r\n0\r\n\r\n").consumed, -400);
}

/* what the proxy writes in place of the source's framing */
Test(chunked, chunk_head_and_take)
{
	static const struct { uint64_t size; const char *line; } t[] = {
		{ 1, "1\r\n" }, { 10, "a\r\n" }, { 16, "10\r\n" }, { 0xffff, "ffff\r\n" }, { 65536, "10000\r\n" },
		{ UINT64_C(1) << 62, "4000000000000000\r\n" }, { UINT64_MAX, "ffffffffffffffff\r\n" },
	};
	struct h1_chunked st = { 0 };
	uint8_t line[H1_CHUNK_HEAD_MAX];
	bool done = false;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = h1_chunk_head(t[i].size, line);

		cr_assert_eq(n, strlen(t[i].line));
		cr_assert(memcmp(line, t[i].line, n) == 0, "%.*s", (int)n, line);
	}
	cr_assert_eq(h1_chunked_take(&st, 5), 0);
	cr_assert_eq(h1_chunked_feed(&st, (const uint8_t *)"A;x=1\r\n", 7, &done), 7);
	cr_assert_eq(h1_chunked_take(&st, 4), 4);
	cr_assert_eq(h1_chunked_take(&st, 100), 6);
	cr_assert_eq(h1_chunked_take(&st, 1), 0);
	cr_assert_eq(st.total, 10);
	cr_assert_eq(h1_chunked_feed(&st, (const uint8_t *)"\r\n0\r\n\r\n", 7, &done), 7);
	cr_assert(done);
}

/* a decoder state an earlier binary left in shared memory that this one no longer enters: an error */
Test(chunked, unknown_state_is_an_error)
{
	struct h1_chunked st = { .state = 3 };
	bool done;

	cr_assert_eq(h1_chunked_feed(&st, (const uint8_t *)"a\r\n", 3, &done), -400);
	st = (struct h1_chunked){ .state = 200 };
	cr_assert_eq(h1_chunked_feed(&st, (const uint8_t *)"a\r\n", 3, &done), -400);
}

Test(chunked, bad_framing)
{
	cr_assert_eq(FEED("g\r\n").consumed, -400);
	cr_assert_eq(FEED("\r\n").consumed, -400);
	cr_assert_eq(FEED(" 5\r\nhello\r\n").consumed, -400);
	cr_assert_eq(FEED("-5\r\n").consumed, -400);
	cr_assert_eq(FEED("0x5\r\n").consumed, -400);
	cr_assert_eq(FEED("5\r\nhelloX\r\n").consumed, -400);
	cr_assert_eq(FEED("5\r\nhello\rX").consumed, -400);
	cr_assert_eq(FEED("5\rX").consumed, -400);
	cr_assert_eq(FEED("0\r\n\rX").consumed, -400);
	cr_assert_eq(FEED("5\r\nhello\r\n0\r\n\r\r").consumed, -400);
}

Test(chunked, size_limits)
{
	/* 16 digits, 2^62: accepted; 17 digits or more than 2^62: 400 */
	struct feed_result r = FEED("4000000000000000\r\nabc");

	cr_assert_eq(r.consumed, 21);
	cr_assert_not(r.done);
	cr_assert_eq(FEED("0000000000000005\r\nhello\r\n0\r\n\r\n").consumed, 30);
	cr_assert_eq(FEED("00000000000000005\r\n").consumed, -400);
	cr_assert_eq(FEED("4000000000000001\r\n").consumed, -400);
	cr_assert_eq(FEED("ffffffffffffffff\r\n").consumed, -400);
	cr_assert_eq(FEED("fffffffffffffffffffff\r\n").consumed, -400);
}

Test(chunked, done_position_and_next_message)
{
	static const char s[] = "4\r\nwiki\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
	struct h1_chunked st = { 0 };
	bool done = false;
	long rc;

	rc = h1_chunked_feed(&st, (const uint8_t *)s, sizeof(s) - 1, &done);
	cr_assert_eq(rc, 14);
	cr_assert(done);
	cr_assert_eq(st.total, 4);
	/* after the end: nothing more belongs to the body */
	done = false;
	rc = h1_chunked_feed(&st, (const uint8_t *)s + 14, 5, &done);
	cr_assert_eq(rc, 0);
	cr_assert(done);
	cr_assert_eq(feed_all_ways(s, sizeof(s) - 1).consumed, 14);
}

Test(chunked, incomplete_not_done)
{
	struct feed_result r = FEED("5\r\nhel");

	cr_assert_eq(r.consumed, 6);
	cr_assert_not(r.done);
	cr_assert_eq(r.total, 3);
	r = FEED("5\r\nhello\r\n0\r\n");
	cr_assert_not(r.done);
	cr_assert_eq(r.consumed, 13);
}

/* "1" then EXT extension bytes (";" included) and the rest of a body */
static size_t ext_body(char *s, size_t ext)
{
	s[0] = '1';
	s[1] = ';';
	memset(s + 2, 'e', ext - 1);
	memcpy(s + 1 + ext, "\r\nx\r\n0\r\n\r\n", 10);
	return 1 + ext + 10;
}

Test(chunked, extension_limit)
{
	static char s[5000];
	size_t n;

	n = ext_body(s, 4096);
	cr_assert_eq(feed_all_ways(s, n).consumed, (long)n);
	n = ext_body(s, 4097);
	cr_assert_eq(feed_all_ways(s, n).consumed, -400);
	/* whitespace before ";" counts too */
	n = ext_body(s, 4096);
	s[1] = ' ';
	s[2] = ';';
	cr_assert_eq(feed_all_ways(s, n).consumed, (long)n);
	n = ext_body(s, 4097);
	s[1] = ' ';
	s[2] = ';';
	cr_assert_eq(feed_all_ways(s, n).consumed, -400);
}

Test(chunked, trailer_limit)
{
	static char s[5000];
	size_t n = 0;

	n += (size_t)sprintf(s, "0\r\n");
	memcpy(s + n, "X: ", 3);
	memset(s + n + 3, 'v', 4000);
	n += 4003;
	n += (size_t)sprintf(s + n, "\r\n\r\n");
	cr_assert(feed_all_ways(s, n).done);
	memset(s + 3 + 3, 'v', 4200);
	n = 3 + 3 + 4200;
	n += (size_t)sprintf(s + n, "\r\n\r\n");
	cr_assert_eq(feed_all_ways(s, n).consumed, -400);
}

Test(chunked, error_is_sticky)
{
	struct h1_chunked st = { 0 };
	bool done;

	cr_assert_eq(h1_chunked_feed(&st, (const uint8_t *)"z", 1, &done), -400);
	cr_assert_eq(h1_chunked_feed(&st, (const uint8_t *)"5\r\n", 3, &done), -400);
	cr_assert_not(done);
}

Test(chunked, empty_feed)
{
	struct h1_chunked st = { 0 };
	bool done = true;

	cr_assert_eq(h1_chunked_feed(&st, (const uint8_t *)"", 0, &done), 0);
	cr_assert_not(done);
}

/* ---- writers ------------------------------------------------------------------------- */

static uint8_t out[8192];

static const struct h1_fwd fwd = {
	.client_ip = 0xc000020au,       /* 192.0.2.10 */
	.proto = "http",
	.via = "porter",
	.upstream_keepalive = true,
};

static int write_req(const char *s, const struct h1_fwd *f)
{
	cr_assert_eq(req(s), 0, "%s", s);
	return h1_write_request(&m, (const uint8_t *)s, f, out, sizeof(out));
}

#define assert_out(n, want)                                                                     \
	do {                                                                                    \
		int n_ = (n);                                                                   \
		cr_assert_eq(n_, (int)strlen(want), "got %d:\n%.*s", n_, n_ > 0 ? n_ : 0, out); \
		cr_assert(memcmp(out, (want), strlen(want)) == 0, "got:\n%.*s\nwant:\n%s", n_,  \
			  out, (want));                                                         \
	} while (0)

Test(write, request_basic)
{
	assert_out(write_req("GET /a?b HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n", &fwd),
		   "GET /a?b HTTP/1.1\r\n"
		   "Host: example.com\r\n"
		   "Accept: */*\r\n"
		   "Via: 1.1 porter\r\n"
		   "X-Forwarded-For: 192.0.2.10\r\n"
		   "X-Forwarded-Proto: http\r\n"
		   "Connection: keep-alive\r\n\r\n");
}

Test(write, request_hop_by_hop_removed)
{
	assert_out(write_req("POST /x HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Secret, content-length, Host\r\n"
			     "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n"
			     "Upgrade: h2c\r\nx-secret: 1\r\nX-Kept: 2\r\nContent-Length: 3\r\n"
			     "Expect: 100-continue\r\n\r\n", &fwd),
		   "POST /x HTTP/1.1\r\n"
		   "Host: h\r\n"
		   "X-Kept: 2\r\n"
		   "Content-Length: 3\r\n"
		   "Expect: 100-continue\r\n"
		   "Via: 1.1 porter\r\n"
		   "X-Forwarded-For: 192.0.2.10\r\n"
		   "X-Forwarded-Proto: http\r\n"
		   "Connection: keep-alive\r\n\r\n");
}

Test(write, request_transfer_encoding_kept)
{
	assert_out(write_req("POST /x HTTP/1.1\r\nHost: h\r\nConnection: Transfer-Encoding\r\n"
			     "Transfer-Encoding: chunked\r\n\r\n", &fwd),
		   "POST /x HTTP/1.1\r\n"
		   "Host: h\r\n"
		   "Transfer-Encoding: chunked\r\n"
		   "Via: 1.1 porter\r\n"
		   "X-Forwarded-For: 192.0.2.10\r\n"
		   "X-Forwarded-Proto: http\r\n"
		   "Connection: keep-alive\r\n\r\n");
}

Test(write, request_xff_via_xfp_combined)
{
	struct h1_fwd f = fwd;

	f.upstream_keepalive = false;
	assert_out(write_req("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.1\r\nVia: 1.1 edge\r\n"
			     "x-forwarded-for: 10.0.0.2, 10.0.0.3\r\nX-Forwarded-Proto: https\r\n"
			     "X-Forwarded-For:\r\nVia: 1.0 old\r\n\r\n", &f),
		   "GET / HTTP/1.1\r\n"
		   "Host: h\r\n"
		   "Via: 1.1 edge, 1.0 old, 1.1 porter\r\n"
		   "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.3, 192.0.2.10\r\n"
		   "X-Forwarded-Proto: http\r\n"
		   "Connection: close\r\n\r\n");
}

Test(write, request_connection_names_forwarding_fields)
{
	assert_out(write_req("GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Forwarded-For, via\r\n"
			     "X-Forwarded-For: 6.6.6.6\r\nVia: 1.1 spoof\r\n\r\n", &fwd),
		   "GET / HTTP/1.1\r\n"
		   "Host: h\r\n"
		   "Via: 1.1 porter\r\n"
		   "X-Forwarded-For: 192.0.2.10\r\n"
		   "X-Forwarded-Proto: http\r\n"
		   "Connection: keep-alive\r\n\r\n");
}

Test(write, request_connection_many_options)
{
	static char s[8192];
	size_t n = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: h\r\nConnection: ");

	for (int i = 0; i < 300; i++)
		n += (size_t)sprintf(s + n, "o%d, ", i);
	n += (size_t)sprintf(s + n, "X-A\r\nConnection: x-c,,\r\nX-A: 1\r\nX-B: 2\r\nx-a: 3\r\nX-C: 4\r\n"
			     "o17: 5\r\nO299: 6\r\no300: 7\r\n\r\n");
	assert_out(write_req(s, &fwd),
		   "GET / HTTP/1.1\r\n"
		   "Host: h\r\n"
		   "X-B: 2\r\n"
		   "o300: 7\r\n"
		   "Via: 1.1 porter\r\n"
		   "X-Forwarded-For: 192.0.2.10\r\n"
		   "X-Forwarded-Proto: http\r\n"
		   "Connection: keep-alive\r\n\r\n");
}

Test(write, request_http_1_0_and_no_via)
{
	struct h1_fwd f = fwd;

	assert_out(write_req("GET / HTTP/1.0\r\nVia: 1.0 a\r\n\r\n", &f),
		   "GET / HTTP/1.0\r\n"
		   "Via: 1.0 a, 1.0 porter\r\n"
		   "X-Forwarded-For: 192.0.2.10\r\n"
		   "X-Forwarded-Proto: http\r\n"
		   "Connection: keep-alive\r\n\r\n");
	f.via = NULL;
	f.proto = "";
	f.client_ip = 0xffffffffu;
	assert_out(write_req("GET / HTTP/1.0\r\nVia: 1.0 a\r\n\r\n", &f),
		   "GET / HTTP/1.0\r\n"
		   "Via: 1.0 a\r\n"
		   "X-Forwarded-For: 255.255.255.255\r\n"
		   "Connection: keep-alive\r\n\r\n");
	f.via = "";
	f.client_ip = 0;
	assert_out(write_req("GET / HTTP/1.0\r\n\r\n", &f),
		   "GET / HTTP/1.0\r\n"
		   "X-Forwarded-For: 0.0.0.0\r\n"
		   "Connection: keep-alive\r\n\r\n");
}

Test(write, request_upgrade)
{
	assert_out(write_req("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
			     "Sec-WebSocket-Key: k\r\n\r\n", &fwd),
		   "GET /ws HTTP/1.1\r\n"
		   "Host: h\r\n"
		   "Upgrade: websocket\r\n"
		   "Sec-WebSocket-Key: k\r\n"
		   "Via: 1.1 porter\r\n"
		   "X-Forwarded-For: 192.0.2.10\r\n"
		   "X-Forwarded-Proto: http\r\n"
		   "Connection: upgrade\r\n\r\n");
	/* Upgrade without the connection option: not an upgrade, Upgrade dropped */
	assert_out(write_req("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n", &fwd),
		   "GET /ws HTTP/1.1\r\n"
		   "Host: h\r\n"
		   "Via: 1.1 porter\r\n"
		   "X-Forwarded-For: 192.0.2.10\r\n"
		   "X-Forwarded-Proto: http\r\n"
		   "Connection: keep-alive\r\n\r\n");
}

Test(write, request_too_small)
{
	const char *s = "GET /a HTTP/1.1\r\nHost: example.com\r\nCookie: c=1\r\n\r\n";
	uint8_t small[512];
	int n = write_req(s, &fwd);

	cr_assert_gt(n, 0);
	for (int k = 0; k < n; k++)
		cr_assert_eq(h1_write_request(&m, (const uint8_t *)s, &fwd, small, (size_t)k), -1, "size %d", k);
	cr_assert_eq(h1_write_request(&m, (const uint8_t *)s, &fwd, small, (size_t)n), n);
	cr_assert(memcmp(small, out, (size_t)n) == 0);
}

Test(write, request_reparses)
{
	const char *s = "PUT http://h.example:81/x?y HTTP/1.1\r\nHost: h.example:81\r\nContent-Length: 3, 3\r\n"
			"Connection: close\r\nX-Forwarded-For: 1.1.1.1\r\n\r\n";
	int n = write_req(s, &fwd);
	struct h1_msg w;

	cr_assert_gt(n, 0);
	cr_assert_eq(h1_parse_request(out, (size_t)n, &lim, &w), 0);
	cr_assert_eq(w.head_len, (uint32_t)n);
	cr_assert_eq(w.method, H1_M_PUT);
	assert_span((const char *)out, w.target, "/x?y");
	assert_span((const char *)out, w.host, "h.example");
	cr_assert_not(w.flags & H1F_ABSOLUTE);
	cr_assert_eq(w.body, H1_BODY_LENGTH);
	cr_assert_eq(w.content_length, 3);
	cr_assert(w.flags & H1F_KEEP_ALIVE);
	cr_assert_eq(h1_find(&w, out, "connection"), (int)w.nheaders - 1);
}

static int write_resp(const char *s, unsigned int meth, const char *via, bool ka, unsigned int minor)
{
	cr_assert_eq(resp(s, meth), 0, "%s", s);
	return h1_write_response(&m, (const uint8_t *)s, via, ka, minor, out, sizeof(out));
}

Test(write, response_basic)
{
	assert_out(write_resp("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n"
			      "Keep-Alive: timeout=5\r\nServer: s\r\n\r\n", H1_M_GET, "porter", true, 1),
		   "HTTP/1.1 200 OK\r\n"
		   "Content-Length: 2\r\n"
		   "Server: s\r\n"
		   "Via: 1.1 porter\r\n\r\n");
}

Test(write, response_connection_values)
{
	const char *s = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nVia: 1.1 x\r\n\r\n";

	assert_out(write_resp(s, H1_M_GET, "porter", true, 0),
		   "HTTP/1.1 404 Not Found\r\n"
		   "Content-Length: 0\r\n"
		   "Via: 1.1 x, 1.0 porter\r\n"
		   "Connection: keep-alive\r\n\r\n");
	assert_out(write_resp(s, H1_M_GET, NULL, false, 1),
		   "HTTP/1.1 404 Not Found\r\n"
		   "Content-Length: 0\r\n"
		   "Via: 1.1 x\r\n"
		   "Connection: close\r\n\r\n");
}

Test(write, response_named_in_connection)
{
	assert_out(write_resp("HTTP/1.1 200\r\nConnection: X-Hop\r\nX-Hop: 1\r\nContent-Length: 0\r\n\r\n",
			      H1_M_GET, "", true, 1),
		   "HTTP/1.1 200 \r\n"
		   "Content-Length: 0\r\n\r\n");
}

Test(write, response_101_upgrade)
{
	assert_out(write_resp("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
			      "Sec-WebSocket-Accept: a\r\n\r\n", H1_M_GET, "porter", true, 1),
		   "HTTP/1.1 101 Switching Protocols\r\n"
		   "Upgrade: websocket\r\n"
		   "Sec-WebSocket-Accept: a\r\n"
		   "Via: 1.1 porter\r\n"
		   "Connection: upgrade\r\n\r\n");
}

/* RFC 9112 §6.1: no chunked framing to an HTTP/1.0 client; the proxy sends the data and closes */
Test(write, response_chunked_to_http10_client)
{
	const char *s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n";

	assert_out(write_resp(s, H1_M_GET, "porter", true, 0),
		   "HTTP/1.1 200 OK\r\n"
		   "X-A: 1\r\n"
		   "Via: 1.1 porter\r\n"      /* Via names the version received from the server */
		   "Connection: close\r\n\r\n");
	/* a 1.1 client keeps the framing */
	assert_out(write_resp(s, H1_M_GET, "porter", true, 1),
		   "HTTP/1.1 200 OK\r\n"
		   "Transfer-Encoding: chunked\r\n"
		   "X-A: 1\r\n"
		   "Via: 1.1 porter\r\n\r\n");
}

Test(chunked, data_left_tracks_chunk_data)
{
	struct h1_chunked st = { 0 };
	bool done = false;

	cr_assert_eq(h1_chunked_data_left(&st), 0);
	cr_assert_eq(h1_chunked_feed(&st, (const uint8_t *)"5\r\n", 3, &done), 3);
	cr_assert_eq(h1_chunked_data_left(&st), 5);
	cr_assert_eq(h1_chunked_feed(&st, (const uint8_t *)"ab", 2, &done), 2);
	cr_assert_eq(h1_chunked_data_left(&st), 3);
	cr_assert_eq(h1_chunked_feed(&st, (const uint8_t *)"cde\r", 4, &done), 4);
	cr_assert_eq(h1_chunked_data_left(&st), 0);
	cr_assert_eq(h1_chunked_feed(&st, (const uint8_t *)"\n0\r\n\r\nNEXT", 10, &done), 6);
	cr_assert(done);
}

Test(write, response_cl_te_drops_content_length)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n";
	int n = write_resp(s, H1_M_GET, NULL, false, 1);
	struct h1_msg w;

	assert_out(n, "HTTP/1.1 200 OK\r\n"
		      "Transfer-Encoding: chunked\r\n"
		      "Connection: close\r\n\r\n");
	cr_assert_eq(h1_parse_response(out, (size_t)n, &lim, H1_M_GET, &w), 0);
	cr_assert_eq(w.body, H1_BODY_CHUNKED);
}

Test(write, response_too_small)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	uint8_t small[256];
	int n = write_resp(s, H1_M_GET, "porter", true, 0);

	for (int k = 0; k < n; k++)
		cr_assert_eq(h1_write_response(&m, (const uint8_t *)s, "porter", true, 0, small, (size_t)k), -1);
	cr_assert_eq(h1_write_response(&m, (const uint8_t *)s, "porter", true, 0, small, (size_t)n), n);
}

/* ---- error responses ----------------------------------------------------------------- */

Test(error_response, exact_502)
{
	assert_out(h1_error_response(502, out, sizeof(out)),
		   "HTTP/1.1 502 Bad Gateway\r\n"
		   "Content-Type: text/plain\r\n"
		   "Content-Length: 16\r\n"
		   "Connection: close\r\n\r\n"
		   "502 Bad Gateway\n");
}

/* RFC 9110 §9.3.2: no content in an answer to HEAD, the length it would have */
Test(error_response, head_has_no_body)
{
	assert_out(h1_error_response_head(502, out, sizeof(out)),
		   "HTTP/1.1 502 Bad Gateway\r\n"
		   "Content-Type: text/plain\r\n"
		   "Content-Length: 16\r\n"
		   "Connection: close\r\n\r\n");
}

Test(error_response, parse_back)
{
	static const unsigned int st[] = { 400, 404, 408, 413, 414, 431, 501, 502, 503, 504, 505, 418 };

	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		int n = h1_error_response(st[i], out, sizeof(out));
		struct h1_msg r;
		char body[64];

		cr_assert_gt(n, 0);
		cr_assert_eq(h1_parse_response(out, (size_t)n, &lim, H1_M_GET, &r), 0, "%u", st[i]);
		cr_assert_eq(r.status, st[i]);
		cr_assert_eq(r.body, H1_BODY_LENGTH);
		cr_assert_eq(r.head_len + r.content_length, (uint64_t)n);
		cr_assert_not(r.flags & H1F_KEEP_ALIVE);
		assert_span((const char *)out, r.reason, h1_reason(st[i]));
		snprintf(body, sizeof(body), "%u %s\n", st[i], h1_reason(st[i]));
		cr_assert(memcmp(out + r.head_len, body, strlen(body)) == 0);
		cr_assert_neq(h1_find(&r, out, "content-type"), -1);
	}
}

Test(error_response, too_small)
{
	int n = h1_error_response(431, out, sizeof(out));
	uint8_t small[256];

	for (int k = 0; k < n; k++)
		cr_assert_eq(h1_error_response(431, small, (size_t)k), -1);
	cr_assert_eq(h1_error_response(431, small, (size_t)n), n);
}

Test(error_response, too_many_requests)
{
	struct h1_msg r;
	int n;

	/* keep-alive, HTTP/1.1: no Connection field at all */
	assert_out(h1_local_answer(429, 1, true, 1, false, out, sizeof(out)),
		   "HTTP/1.1 429 Too Many Requests\r\n"
		   "Content-Type: text/plain\r\n"
		   "Content-Length: 22\r\n"
		   "Retry-After: 1\r\n\r\n"
		   "429 Too Many Requests\n");
	/* keep-alive to an HTTP/1.0 client says so */
	assert_out(h1_local_answer(429, 3, true, 0, false, out, sizeof(out)),
		   "HTTP/1.1 429 Too Many Requests\r\n"
		   "Content-Type: text/plain\r\n"
		   "Content-Length: 22\r\n"
		   "Retry-After: 3\r\n"
		   "Connection: keep-alive\r\n\r\n"
		   "429 Too Many Requests\n");
	/* closing; HEAD: no body, the length it would have */
	assert_out(h1_local_answer(429, 1, false, 1, true, out, sizeof(out)),
		   "HTTP/1.1 429 Too Many Requests\r\n"
		   "Content-Type: text/plain\r\n"
		   "Content-Length: 22\r\n"
		   "Retry-After: 1\r\n"
		   "Connection: close\r\n\r\n");
	/* what a client reads back */
	n = h1_local_answer(429, 1, true, 1, false, out, sizeof(out));
	cr_assert_eq(h1_parse_response(out, (size_t)n, &lim, H1_M_GET, &r), 0);
	cr_assert_eq(r.status, 429);
	cr_assert(r.flags & H1F_KEEP_ALIVE);
	cr_assert_eq(r.head_len + r.content_length, (uint64_t)n);
	n = h1_local_answer(429, 1, false, 1, false, out, sizeof(out));
	cr_assert_eq(h1_parse_response(out, (size_t)n, &lim, H1_M_GET, &r), 0);
	cr_assert_not(r.flags & H1F_KEEP_ALIVE);
	for (int k = 0; k < n; k++)
		cr_assert_eq(h1_local_answer(429, 1, false, 1, false, out, (size_t)k), -1);
}

/* RFC 9110 §7.6.2: OPTIONS and TRACE with Max-Forwards: 0 are answered by porter */
Test(error_response, max_forwards_answers)
{
	struct h1_msg r;
	int n;

	assert_out(h1_local_answer(200, 0, true, 1, false, out, sizeof(out)),
		   "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nAllow: " H1_ALLOW "\r\n\r\n");
	assert_out(h1_local_answer(405, 0, false, 1, false, out, sizeof(out)),
		   "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n"
		   "Allow: " H1_ALLOW "\r\nConnection: close\r\n\r\n405 Method Not Allowed\n");
	n = h1_local_answer(405, 0, true, 0, false, out, sizeof(out));
	cr_assert_eq(h1_parse_response(out, (size_t)n, &lim, H1_M_TRACE, &r), 0);
	cr_assert_eq(r.status, 405);
	cr_assert_eq(r.head_len + r.content_length, (uint64_t)n);
	cr_assert_eq(h1_local_answer(404, 0, true, 1, false, out, sizeof(out)), -1);
}

Test(error_response, reasons)
{
	cr_assert_str_eq(h1_reason(400), "Bad Request");
	cr_assert_str_eq(h1_reason(414), "URI Too Long");
	cr_assert_str_eq(h1_reason(431), "Request Header Fields Too Large");
	cr_assert_str_eq(h1_reason(505), "HTTP Version Not Supported");
	cr_assert_str_eq(h1_reason(799), "Unknown");
}

/* ---- what the proxy forwards is its own framing (RFC 9110 §7.8, §8.6; RFC 9112 §3.2, §6, §7.1) ---- */

#define FWD_TAIL "Via: 1.1 porter\r\nX-Forwarded-For: 192.0.2.10\r\nX-Forwarded-Proto: http\r\n"

/* RFC 9110 §8.6: one Content-Length goes on, with the value */
Test(forward, request_one_content_length)
{
	static const char *const in[] = {
		"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX: 1\r\ncontent-length: 5\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\nX: 1\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 005\r\nX: 1\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5,5 , 5\r\nX: 1\r\nContent-Length: 5\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		assert_out(write_req(in[i], &fwd),
			   "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX: 1\r\n" FWD_TAIL
			   "Connection: keep-alive\r\n\r\n");
}

/* one Transfer-Encoding field of lower-case codings, chunked last */
Test(forward, request_transfer_encoding_regenerated)
{
	assert_out(write_req("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , ChUnKeD ,\r\n\r\n", &fwd),
		   "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n" FWD_TAIL
		   "Connection: keep-alive\r\n\r\n");
	assert_out(write_req("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: GZIP\r\nX: 1\r\n"
			     "transfer-encoding: chunked\r\n\r\n", &fwd),
		   "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\nX: 1\r\n" FWD_TAIL
		   "Connection: keep-alive\r\n\r\n");
}

/* RFC 9110 §8.6, RFC 9112 §6.1, §6.3: Content-Length and Transfer-Encoding of responses */
Test(forward, response_framing_fields)
{
	/* none in 1xx and 204 */
	assert_out(write_resp("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n"
			      "X: 1\r\n\r\n", H1_M_GET, NULL, true, 1),
		   "HTTP/1.1 204 No Content\r\nX: 1\r\n\r\n");
	assert_out(write_resp("HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\nLink: <a>\r\n\r\n",
			      H1_M_GET, NULL, true, 1),
		   "HTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n");
	/* one Content-Length */
	assert_out(write_resp("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\nX: 1\r\ncontent-length: 7\r\n\r\n",
			      H1_M_GET, NULL, true, 1),
		   "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nX: 1\r\n\r\n");
	assert_out(write_resp("HTTP/1.1 200 OK\r\nContent-Length: 0100\r\nContent-Length: 100\r\n\r\n",
			      H1_M_HEAD, NULL, true, 1),
		   "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
	assert_out(write_resp("HTTP/1.1 304 Not Modified\r\nContent-Length: 9, 9\r\n\r\n", H1_M_GET, NULL, true, 1),
		   "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n");
	/* Transfer-Encoding wins over Content-Length, also for a close-delimited body */
	assert_out(write_resp("HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: GZIP\r\n\r\n",
			      H1_M_GET, NULL, false, 1),
		   "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n");
	assert_out(write_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", H1_M_GET, NULL, true, 1),
		   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
}

/* a server that frames a 204 is not trusted with the next request on that connection */
Test(response, forbidden_framing_not_reused)
{
	expect_resp("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", H1_M_GET, 0);
	cr_assert_not(m.flags & H1F_KEEP_ALIVE);
	expect_resp("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", H1_M_GET, 0);
	cr_assert_not(m.flags & H1F_KEEP_ALIVE);
	expect_resp("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", H1_M_GET, 0);
	cr_assert(m.flags & H1F_KEEP_ALIVE);
	expect_resp("HTTP/1.1 204 No Content\r\n\r\n", H1_M_GET, 0);
	cr_assert(m.flags & H1F_KEEP_ALIVE);
}

/* RFC 9112 §3.2.2: the target's authority is the Host; the target goes in origin-form */
Test(forward, request_absolute_form)
{
	assert_out(write_req("GET http://Example.COM:8080/p/q?x HTTP/1.1\r\nHost: other.example\r\nX: 1\r\n\r\n",
			     &fwd),
		   "GET /p/q?x HTTP/1.1\r\nHost: Example.COM:8080\r\nX: 1\r\n" FWD_TAIL
		   "Connection: keep-alive\r\n\r\n");
	assert_out(write_req("GET http://h.example?q=1 HTTP/1.1\r\nX: 1\r\nHost: h.example\r\n\r\n", &fwd),
		   "GET /?q=1 HTTP/1.1\r\nHost: h.example\r\nX: 1\r\n" FWD_TAIL "Connection: keep-alive\r\n\r\n");
	assert_out(write_req("GET HTTPS://h.example HTTP/1.1\r\nHost: x\r\n\r\n", &fwd),
		   "GET / HTTP/1.1\r\nHost: h.example\r\n" FWD_TAIL "Connection: keep-alive\r\n\r\n");
	/* RFC 9112 §3.2.4: OPTIONS to an empty path is OPTIONS * at the origin */
	assert_out(write_req("OPTIONS http://h.example:81 HTTP/1.1\r\nHost: h.example:81\r\n\r\n", &fwd),
		   "OPTIONS * HTTP/1.1\r\nHost: h.example:81\r\n" FWD_TAIL "Connection: keep-alive\r\n\r\n");
	assert_out(write_req("OPTIONS http://h.example:81/ HTTP/1.1\r\nHost: h.example:81\r\n\r\n", &fwd),
		   "OPTIONS / HTTP/1.1\r\nHost: h.example:81\r\n" FWD_TAIL "Connection: keep-alive\r\n\r\n");
	/* HTTP/1.0 without Host: the authority is sent as Host */
	assert_out(write_req("GET http://[2001:db8::1]:80/a HTTP/1.0\r\nX: 1\r\n\r\n", &fwd),
		   "GET /a HTTP/1.0\r\nHost: [2001:db8::1]:80\r\nX: 1\r\n"
		   "Via: 1.0 porter\r\nX-Forwarded-For: 192.0.2.10\r\nX-Forwarded-Proto: http\r\n"
		   "Connection: keep-alive\r\n\r\n");
}

/* RFC 9112 §3.2: a request-target has no fragment */
Test(request, fragment_rejected)
{
	expect_req("GET /a#frag HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET /a?b#frag HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET http://h.example/a#f HTTP/1.1\r\n" HOST "\r\n", -400);
	expect_req("GET http://h.example#f HTTP/1.1\r\n" HOST "\r\n", -400);
}

/* RFC 9110 §7.8: an upgrade goes on only from HTTP/1.1, and porter offers none for a request with a body */
Test(forward, request_upgrade_only_when_offered)
{
	assert_out(write_req("GET /ws HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", &fwd),
		   "GET /ws HTTP/1.0\r\n"
		   "Via: 1.0 porter\r\nX-Forwarded-For: 192.0.2.10\r\nX-Forwarded-Proto: http\r\n"
		   "Connection: keep-alive\r\n\r\n");
	assert_out(write_req("POST /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
			     "Content-Length: 1\r\n\r\n", &fwd),
		   "POST /ws HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n" FWD_TAIL
		   "Connection: keep-alive\r\n\r\n");
}

/* RFC 9110 §7.8: who may upgrade, and to what */
Test(connection, upgrade_offer)
{
	expect_req("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 0);
	cr_assert(m.flags & H1F_UPGRADE_OFFER);
	expect_req("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_UPGRADE_OFFER);
	expect_req("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_UPGRADE_OFFER);
	expect_req("GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_UPGRADE_OFFER);
	expect_req("POST /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_UPGRADE_OFFER);
	/* h2c is never passed on (RFC 9113 §3.1; h2c smuggling): alone it is no upgrade */
	expect_req("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
		   "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_UPGRADE_OFFER);
	expect_req("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: H2C/1, h2c\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_UPGRADE_OFFER);
	expect_req("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nUpgrade: websocket\r\n\r\n", 0);
	cr_assert(m.flags & H1F_UPGRADE_OFFER);
}

/* An h2c upgrade goes upstream as a plain request; h2c is cut from a list that offers more */
Test(forward, request_upgrade_without_h2c)
{
	assert_out(write_req("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
			     "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", &fwd),
		   "GET / HTTP/1.1\r\nHost: h\r\n" FWD_TAIL "Connection: keep-alive\r\n\r\n");
	assert_out(write_req("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: h2c, websocket/13 ,H2C\r\n"
			     "Upgrade: h2c\r\n\r\n", &fwd),
		   "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket/13\r\n" FWD_TAIL
		   "Connection: upgrade\r\n\r\n");
}

static bool upgrade_ok(const char *q, const char *r)
{
	static struct h1_msg qm, rm;

	cr_assert_eq(h1_parse_request((const uint8_t *)q, strlen(q), &lim, &qm), 0, "%s", q);
	cr_assert_eq(h1_parse_response((const uint8_t *)r, strlen(r), &lim, H1_M_GET, &rm), 0, "%s", r);
	return h1_upgrade_accepted(&qm, (const uint8_t *)q, &rm, (const uint8_t *)r);
}

#define UPQ(up) "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n" up "\r\n"
#define UPR(up) "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n" up "\r\n"

Test(connection, upgrade_accepted)
{
	cr_assert(upgrade_ok(UPQ("Upgrade: websocket\r\n"), UPR("Upgrade: websocket\r\n")));
	cr_assert(upgrade_ok(UPQ("Upgrade: websocket\r\n"), UPR("Upgrade: WebSocket\r\n")));
	cr_assert(upgrade_ok(UPQ("Upgrade: h2c, websocket/13\r\n"), UPR("Upgrade: websocket\r\n")));
	/* h2c was offered beside another protocol, but never passed on: a switch to it is refused */
	cr_assert_not(upgrade_ok(UPQ("Upgrade: h2c, websocket\r\n"), UPR("Upgrade: h2c\r\n")));
	cr_assert(upgrade_ok(UPQ("Upgrade: websocket\r\n"), UPR("Upgrade: websocket/13\r\n")));
	cr_assert(upgrade_ok(UPQ("Upgrade: a/1\r\nUpgrade: b\r\n"), UPR("Upgrade: a/1, b\r\n")));
	cr_assert(upgrade_ok(UPQ("Upgrade: HTTP/2.0, SHTTP/1.3, IRC/6.9, RTA/x11\r\n"), UPR("Upgrade: irc/6.9\r\n")));
	/* not offered, not named, malformed, or not a 101 */
	cr_assert_not(upgrade_ok(UPQ("Upgrade: websocket\r\n"), UPR("Upgrade: h2c\r\n")));
	cr_assert_not(upgrade_ok(UPQ("Upgrade: websocket\r\n"), UPR("Upgrade: websocket, h2c\r\n")));
	cr_assert_not(upgrade_ok(UPQ("Upgrade: websocket/13\r\n"), UPR("Upgrade: websocket/8\r\n")));
	cr_assert_not(upgrade_ok(UPQ("Upgrade: websocket\r\n"), UPR("")));
	cr_assert_not(upgrade_ok(UPQ("Upgrade: websocket\r\n"), UPR("Upgrade:\r\n")));
	cr_assert_not(upgrade_ok(UPQ("Upgrade: websocket\r\n"), UPR("Upgrade: websocket/\r\n")));
	cr_assert_not(upgrade_ok(UPQ("Upgrade: websocket\r\n"), UPR("Upgrade: web socket\r\n")));
	cr_assert_not(upgrade_ok(UPQ("Upgrade: websocket\r\n"), UPR("Upgrade: websocket/1/2\r\n")));
	cr_assert_not(upgrade_ok(UPQ("Upgrade: websocket\r\n"), "HTTP/1.1 200 OK\r\nUpgrade: websocket\r\n"
								 "Content-Length: 0\r\n\r\n"));
	/* the request did not ask */
	cr_assert_not(upgrade_ok("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n",
				 UPR("Upgrade: websocket\r\n")));
	cr_assert_not(upgrade_ok("GET /ws HTTP/1.1\r\nHost: h\r\n\r\n", UPR("Upgrade: websocket\r\n")));
	cr_assert_not(upgrade_ok("GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
				 UPR("Upgrade: websocket\r\n")));
}

/* Max-Forwards: parsed in requests (first valid field), decremented on OPTIONS and TRACE only */
Test(forward, max_forwards)
{
	expect_req("OPTIONS * HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\n\r\n", 0);
	cr_assert(m.flags & H1F_MAX_FORWARDS);
	cr_assert_eq(m.max_forwards, 0);
	expect_req("TRACE / HTTP/1.1\r\nHost: h\r\nmax-forwards: 99999999999\r\n\r\n", 0);
	cr_assert_eq(m.max_forwards, UINT32_MAX);
	expect_req("TRACE / HTTP/1.1\r\nHost: h\r\nMax-Forwards: 1x\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_MAX_FORWARDS);
	expect_req("TRACE / HTTP/1.1\r\nHost: h\r\nMax-Forwards:\r\n\r\n", 0);
	cr_assert_not(m.flags & H1F_MAX_FORWARDS);
	assert_out(write_req("OPTIONS /a HTTP/1.1\r\nHost: h\r\nMax-Forwards: 3\r\nX: y\r\nMax-Forwards: 7\r\n\r\n",
			     &fwd),
		   "OPTIONS /a HTTP/1.1\r\nHost: h\r\nMax-Forwards: 2\r\nX: y\r\n" FWD_TAIL
		   "Connection: keep-alive\r\n\r\n");
	assert_out(write_req("TRACE /a HTTP/1.1\r\nHost: h\r\nMax-Forwards: 1\r\n\r\n", &fwd),
		   "TRACE /a HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\n" FWD_TAIL
		   "Connection: keep-alive\r\n\r\n");
	/* other methods: as it came (the field means nothing to them) */
	assert_out(write_req("GET /a HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\n\r\n", &fwd),
		   "GET /a HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\n" FWD_TAIL
		   "Connection: keep-alive\r\n\r\n");
	/* not a valid value: as it came */
	assert_out(write_req("TRACE /a HTTP/1.1\r\nHost: h\r\nMax-Forwards: -1\r\n\r\n", &fwd),
		   "TRACE /a HTTP/1.1\r\nHost: h\r\nMax-Forwards: -1\r\n" FWD_TAIL
		   "Connection: keep-alive\r\n\r\n");
}

/* X-Request-Id: added after X-Forwarded-Proto when the proxy gives one (the client sent none) */
Test(forward, request_id_added)
{
	struct h1_fwd f = fwd;

	f.request_id = "0123456789abcdef0123456789abcdef";
	assert_out(write_req("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", &f),
		   "GET /a HTTP/1.1\r\nHost: h\r\n" FWD_TAIL
		   "X-Request-Id: 0123456789abcdef0123456789abcdef\r\nConnection: keep-alive\r\n\r\n");
}
