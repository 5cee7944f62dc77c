/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 heads written on: the request and response heads the proxy
 * forwards (h1_write_request, h1_write_response), whether a response accepts
 * the Upgrade its request offered, and the answers porter makes itself
 * (errors, local answers). See h1.h for the contract, h1.c for the parser
 * whose results these write, h1_priv.h for what they share.
 *
 * Decisions where RFC 9110/9112 leave a choice (the parser's are in h1.c):
 *  - A Connection option naming Host, Content-Length or Transfer-Encoding
 *    does not remove that field (they say how the message is framed and
 *    routed, and are written anew). One naming Via, X-Forwarded-For or
 *    X-Forwarded-Proto removes the received fields; the proxy's own values
 *    are still written.
 *  - Content-Length and Transfer-Encoding are never copied: one
 *    of each at most is written from what the parser understood, where
 *    the first received one stood (so a repeat, a list "5, 5", leading
 *    zeros, an odd spelling of chunked reach nobody). A response with
 *    both is written without its Content-Length (RFC 9112 §6.3 item 3);
 *    1xx and 204 responses get neither.
 */
#include "secondary/http/h1.h"
#include "secondary/http/h1_priv.h"

#include <limits.h>
#include <string.h>

/* ---- upgrades ---------------------------------------------------------------------- */

/* protocol = protocol-name [ "/" protocol-version ] (RFC 9110 §7.8), both tokens */
static bool protocol_of(const uint8_t *b, uint32_t off, uint32_t len, struct h1_span *name, struct h1_span *ver)
{
	uint32_t i = 0, vs;

	while (i < len && b[off + i] != '/' && (h1_cls[b[off + i]] & C_T))
		i++;
	if (i == 0 || (i < len && b[off + i] != '/'))
		return false;
	*name = (struct h1_span){ off, i };
	*ver = (struct h1_span){ off + len, 0 };
	if (i == len)
		return true;
	vs = ++i;
	while (i < len && (h1_cls[b[off + i]] & C_T))
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
		while (h1_next_element(qb, &it, &off, &len))
			if (!h1_is_h2c(qb, off, len) && protocol_of(qb, off, len, &on, &ov) && ci_same(qb, on, rb, name) &&
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
		while (h1_next_element(rb, &it, &off, &len)) {
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
		while (h1_next_element(b, &it, &off, &len)) {
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
		while (h1_te_next(b, &p, e, &name, &elem, &params) > 0) {
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
/* An Upgrade field of a request passed on: its elements but h2c (h1_is_h2c); none left, no field. */
static void put_upgrade(struct wbuf *w, const uint8_t *b, const struct h1_header *h)
{
	struct list_it it = { h->value.off, (size_t)h->value.off + h->value.len };
	uint32_t off, len, k = 0;

	while (h1_next_element(b, &it, &off, &len)) {
		if (h1_is_h2c(b, off, len))
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
