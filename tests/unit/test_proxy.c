/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The proxy (secondary/http/proxy.c) on its unit harness
 * (tests/unit/proxy_harness.h): a client and the servers on the wire, the
 * bytes each receives checked exactly. Every test ends with the peers
 * closing and nothing left: no session, no stream, no fake mbuf (PTEST).
 */
#include <stdio.h>
#include <string.h>

#include "tests/unit/proxy_harness.h"

PSUITE(proxy);

/* What porter adds to a request of the client 10.0.0.3 it sends to a pooling upstream. */
#define FWD_TAIL "Via: 1.1 porter\r\nX-Forwarded-For: 10.0.0.3\r\nX-Forwarded-Proto: http\r\n" \
		 "Connection: keep-alive\r\n\r\n"

static const char GET_A[] = "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n";
static const char GET_A_UP[] = "GET /a HTTP/1.1\r\nHost: example.com\r\n" FWD_TAIL;
static const char OK_HELLO[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
static const char OK_HELLO_CL[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nVia: 1.1 porter\r\n\r\nhello";

static unsigned long count(enum http_count c)
{
	return (unsigned long)PXA->counts[c];
}

/* One GET and its response through the proxy; returns the upstream peer. */
static struct ph_peer *get_hello(struct ph_peer *c)
{
	struct ph_peer *u;

	ph_send_str(c, GET_A);
	u = ph_last_upstream();
	cr_assert(u != NULL, "the proxy opened no upstream connection");
	PH_EXPECT(u, GET_A_UP);
	ph_send_str(u, OK_HELLO);
	PH_EXPECT(c, OK_HELLO_CL);
	return u;
}

PTEST(proxy, get_forwarded_and_answered)
{
	struct ph_peer *c = ph_client(PH_HTTP_PORT, NULL), *u;

	u = get_hello(c);
	HEQ(u->tp.rport, PH_APP_PORT);
	HEQ(PH.nupstreams, 1);
	HEQ(count(HC_REQUESTS), 1);
	HEQ(count(HC_RESPONSES), 1);
	HEQ(count(HC_UP_CONNECTS), 1);
	/* keep-alive on both sides: nothing closed, no session left, the upstream pooled */
	HTRUE(!c->fin_in && !u->fin_in);
	HEQ(PXA->active, 0);
	HEQ(PXA->srv[0].pool_count, 1);
}

PTEST(proxy, keepalive_second_request_reuses_upstream)
{
	struct ph_peer *c = ph_client(PH_HTTP_PORT, NULL), *u1, *u2;

	u1 = get_hello(c);
	u2 = get_hello(c);
	HTRUE(u1 == u2);
	HEQ(PH.nupstreams, 1);
	HEQ(count(HC_UP_REUSED), 1);
	HEQ(count(HC_RESPONSES), 2);
	/* a second client is served from the pool too */
	u2 = get_hello(ph_client(PH_HTTP_PORT, NULL));
	HTRUE(u1 == u2);
	HEQ(count(HC_UP_REUSED), 2);
}

PTEST(proxy, post_content_length_body)
{
	struct ph_peer *c = ph_client(PH_HTTP_PORT, NULL), *u;
	static uint8_t body[4000];
	char head[128], want[256];
	uint32_t n;
	const char *got;

	h_pattern(body, sizeof(body), 0);
	snprintf(head, sizeof(head), "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n", sizeof(body));
	ph_send_str(c, head);
	u = ph_last_upstream();
	HTRUE(u != NULL);
	snprintf(want, sizeof(want), "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n" FWD_TAIL, sizeof(body));
	PH_EXPECT(u, want);
	/* the body in three uneven pieces: relayed as it comes, byte for byte */
	ph_send(c, body, 1);
	ph_send(c, body + 1, 2500);
	ph_send(c, body + 2501, sizeof(body) - 2501);
	got = ph_take(u, &n);
	HEQ(n, sizeof(body));
	HTRUE(memcmp(got, body, sizeof(body)) == 0);
	ph_send_str(u, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	PH_EXPECT(c, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\nVia: 1.1 porter\r\n\r\n");
	HEQ(count(HC_RESPONSES), 1);
}

PTEST(proxy, chunked_request_reframed)
{
	struct ph_peer *c = ph_client(PH_HTTP_PORT, NULL), *u;

	/* extensions and a trailer field from the client: neither reaches the server */
	ph_send_str(c, "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5;name=value\r\nhello\r\n00003\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n");
	u = ph_last_upstream();
	HTRUE(u != NULL);
	PH_EXPECT(u, "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n" FWD_TAIL
		  "5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n");
	ph_send_str(u, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nokay\r\n0\r\n\r\n");
	PH_EXPECT(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nVia: 1.1 porter\r\n\r\n"
		  "4\r\nokay\r\n0\r\n\r\n");
	HEQ(count(HC_RESPONSES), 1);
}

PTEST(proxy, bad_request_400_nothing_upstream)
{
	struct ph_peer *c = ph_client(PH_HTTP_PORT, NULL);

	/* Content-Length with Transfer-Encoding: a smuggling shape, refused (RFC 9112 §6.3) */
	ph_send_str(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: h\r\n\r\n");
	PH_EXPECT(c, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n"
		  "Connection: close\r\n\r\n400 Bad Request\n");
	HTRUE(c->fin_in);
	HEQ(PH.nupstreams, 0);
	HEQ(PH.stray, 0);
	HEQ(count(HC_ERR_400), 1);
	/* what the client sends after the answer is read and dropped */
	ph_send_str(c, GET_A);
	HEQ(PH.nupstreams, 0);
	PH_EXPECT(c, "");
}

PTEST(proxy, bare_lf_chunk_line_400)
{
	struct ph_peer *c = ph_client(PH_HTTP_PORT, NULL), *u;

	/* a bare LF after the chunk size (RFC 9112 §7.1: CRLF): the head went up, no byte of the body does */
	ph_send_str(c, "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
	u = ph_last_upstream();
	HTRUE(u != NULL);
	PH_EXPECT(u, "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n" FWD_TAIL);
	ph_send_str(c, "5\nhello\r\n0\r\n\r\n");
	PH_EXPECT(u, "");
	HTRUE(u->rst_in);
	PH_EXPECT(c, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n"
		  "Connection: close\r\n\r\n400 Bad Request\n");
	HTRUE(c->fin_in);
	HEQ(count(HC_REQ_BAD_CHUNKED), 1);
}

PTEST(proxy, unsolicited_101_is_502)
{
	struct ph_peer *c = ph_client(PH_HTTP_PORT, NULL), *u;

	ph_send_str(c, GET_A);
	u = ph_last_upstream();
	PH_EXPECT(u, GET_A_UP);
	ph_send_str(u, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
	PH_EXPECT(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n"
		  "Connection: close\r\n\r\n502 Bad Gateway\n");
	/* the server's stream is reset from its own timer, a tick after its event */
	HTRUE(!u->rst_in);
	ph_advance(2);
	HTRUE(u->rst_in);
	HTRUE(c->fin_in);
	HEQ(count(HC_UP_BAD_UPGRADE), 1);
	/* the client's next bytes reach no server */
	ph_send_str(c, "GET /b HTTP/1.1\r\nHost: example.com\r\n\r\n");
	PH_EXPECT(u, "");
	HEQ(PH.nupstreams, 1);
}

PTEST(proxy, upgrade_offered_101_tunnels)
{
	struct ph_peer *c = ph_client(PH_HTTP_PORT, NULL), *u;

	ph_send_str(c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	u = ph_last_upstream();
	PH_EXPECT(u, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nVia: 1.1 porter\r\n"
		  "X-Forwarded-For: 10.0.0.3\r\nX-Forwarded-Proto: http\r\nConnection: upgrade\r\n\r\n");
	ph_send_str(u, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
	PH_EXPECT(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nVia: 1.1 porter\r\n"
		  "Connection: upgrade\r\n\r\n");
	/* raw bytes both ways, then each FIN passed on */
	ph_send_str(c, "\x81\x02hi");
	PH_EXPECT(u, "\x81\x02hi");
	ph_send_str(u, "\x81\x03yes");
	PH_EXPECT(c, "\x81\x03yes");
	ph_fin(c);
	HTRUE(u->fin_in);
	ph_fin(u);
	HTRUE(c->fin_in);
	HEQ(count(HC_TUNNELS), 1);
}

PTEST(proxy, pipelined_requests_in_order)
{
	struct ph_peer *c = ph_client(PH_HTTP_PORT, NULL), *u;

	/* two requests in one segment: the second goes up only after the first's response */
	ph_send_str(c, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
	u = ph_last_upstream();
	PH_EXPECT(u, "GET /1 HTTP/1.1\r\nHost: h\r\n" FWD_TAIL);
	ph_send_str(u, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1");
	PH_EXPECT(c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nVia: 1.1 porter\r\n\r\n1");
	PH_EXPECT(u, "GET /2 HTTP/1.1\r\nHost: h\r\n" FWD_TAIL);
	ph_send_str(u, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2");
	PH_EXPECT(c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nVia: 1.1 porter\r\n\r\n2");
	HEQ(PH.nupstreams, 1);
	HEQ(count(HC_RESPONSES), 2);
}

PTEST(proxy, upstream_refused_502)
{
	struct ph_peer *c = ph_client(PH_HTTP_PORT, NULL);

	PH.up_refuse = true;
	ph_send_str(c, GET_A);
	PH_EXPECT(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n"
		  "Connection: close\r\n\r\n502 Bad Gateway\n");
	HEQ(PH.nupstreams, 1);
	HEQ(count(HC_UP_CONNECT_FAIL), 1);
}

PTEST(proxy, tcp_passthrough)
{
	struct ph_peer *c = ph_client(PH_TCP_PORT, NULL), *u;

	/* the connect happens with the client's handshake */
	u = ph_last_upstream();
	HTRUE(u != NULL);
	HEQ(u->tp.rport, PH_RAW_PORT);
	ph_send_str(c, "not http at all\r\n\n");
	PH_EXPECT(u, "not http at all\r\n\n");
	ph_send_str(u, "HTTP/1.1 999 whatever\r\n");
	PH_EXPECT(c, "HTTP/1.1 999 whatever\r\n");
	ph_fin(u);
	HTRUE(c->fin_in);
	ph_send_str(c, "after");
	PH_EXPECT(u, "after");
	ph_fin(c);
	HTRUE(u->fin_in);
}

/* A POST with a chunked body and its response in the given pieces; checks every byte. */
static void post_exchange(const uint32_t *cuts, unsigned int ncuts)
{
	static const char req[] = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "3\r\nabc\r\n0\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct ph_peer *c = ph_client(PH_HTTP_PORT, NULL), *u;
	uint32_t at = 0, n;
	const char *got;
	char want[512];

	for (unsigned int i = 0; i <= ncuts; i++) {
		uint32_t end = i < ncuts ? cuts[i] : (uint32_t)strlen(req);

		ph_send(c, req + at, end - at);
		at = end;
	}
	u = ph_last_upstream();
	HTRUE(u != NULL);
	/* the data may be re-framed in more than one chunk: decode what arrived */
	got = ph_take(u, &n);
	snprintf(want, sizeof(want), "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n" FWD_TAIL);
	cr_assert(n > strlen(want) && memcmp(got, want, strlen(want)) == 0, "head: %s", got);
	{
		struct h1_chunked ch = { 0 };
		char data[16];
		uint32_t nd = 0;
		bool done = false;

		for (uint32_t i = (uint32_t)strlen(want); i < n; i++) {
			bool in_data = h1_chunked_data_left(&ch) != 0;

			HTRUE(!done);
			HTRUE(h1_chunked_feed(&ch, (const uint8_t *)got + i, 1, &done) == 1);
			if (in_data && nd < sizeof(data))
				data[nd++] = got[i];
		}
		HTRUE(done);
		HEQ(nd, 3);
		HTRUE(memcmp(data, "abc", 3) == 0);
	}
	ph_send(u, resp, (uint32_t)strlen(resp));
	PH_EXPECT(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nVia: 1.1 porter\r\n\r\nok");
}

PTEST(proxy, reattach_after_every_step)
{
	static const uint32_t cuts[] = { 1, 17, 40, 59, 62, 67, 70 };

	PH.reattach_each = true;
	post_exchange(cuts, sizeof(cuts) / sizeof(cuts[0]));
	HTRUE(PH.reattaches >= 9);
	/* and a keep-alive GET on a fresh client after all that */
	get_hello(ph_client(PH_HTTP_PORT, NULL));
	HEQ(count(HC_RESPONSES), 2);
}

PTEST(proxy, every_split_of_a_request)
{
	static const char req[] = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "3\r\nabc\r\n0\r\n\r\n";

	for (uint32_t cut = 1; cut < sizeof(req) - 1; cut++) {
		post_exchange(&cut, 1);
		ph_close_all(false);
		HEQ(H.ctx.area->live, 0);
	}
	HEQ(count(HC_RESPONSES), sizeof(req) - 2);
	HEQ(count(HC_ERR_400), 0);
}

/* RFC 9110 §9.3.2: porter's own error answer to a HEAD request has no content either */
PTEST(proxy, head_error_without_body)
{
	struct ph_peer *c = ph_client(PH_HTTP_PORT, NULL), *u;

	ph_send_str(c, "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n");
	u = ph_last_upstream();
	HTRUE(u != NULL);
	ph_send_str(u, "SSH-2.0-OpenSSH_9.0\r\n");
	PH_EXPECT(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n"
		  "Connection: close\r\n\r\n");
	HTRUE(c->fin_in);
}

/* The request id a request without X-Request-Id gets (http.request_id) in the head at offset OFF of U's bytes. */
static void request_id_at(const struct ph_peer *u, uint32_t off, char id[33])
{
	/* the peer's bytes are not a C string: search within them */
	const char *h = (const char *)u->rx + off, *end = (const char *)u->rx + u->rx_len;
	const char *eoh = memmem(h, (size_t)(end - h), "\r\n\r\n", 4);
	const char *k = memmem(h, (size_t)(end - h), "X-Request-Id: ", 14);

	cr_assert(k != NULL && eoh != NULL && k < eoh, "no X-Request-Id in %.*s", (int)(end - h), h);
	HTRUE(k + 47 <= eoh + 2);
	memcpy(id, k + 14, 32);
	id[32] = '\0';
	for (int i = 0; i < 32; i++)
		HTRUE((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'));
	HTRUE(k[46] == '\r' && memmem(k + 1, (size_t)(eoh - (k + 1)), "X-Request-Id: ", 14) == NULL);
}

/*
 * http.request_id: a request without X-Request-Id goes up with one, each
 * request of a connection its own; a worker replaced after every step
 * writes the same one (the id comes from the connection and the request's
 * place in it, not from the worker).
 */
PTEST(proxy, request_id_added_and_stable_across_workers)
{
	struct ph_peer *c, *u;
	char id1[33], id2[33];
	uint32_t first;

	PH.pc->conf[0].no_request_id = 0;
	PH.reattach_each = true;
	c = ph_client(PH_HTTP_PORT, NULL);
	ph_send_str(c, GET_A);
	u = ph_last_upstream();
	HTRUE(u != NULL);
	request_id_at(u, 0, id1);
	first = u->rx_len;
	ph_send_str(u, OK_HELLO);
	PH_EXPECT(c, OK_HELLO_CL);
	ph_send_str(c, GET_A);
	request_id_at(u, first, id2);
	HTRUE(strcmp(id1, id2) != 0);
	ph_send_str(u, OK_HELLO);
	/* one the client sent is kept, not doubled */
	ph_send_str(c, "GET /b HTTP/1.1\r\nHost: h\r\nX-Request-Id: mine\r\n\r\n");
	HTRUE(memmem(u->rx + first, u->rx_len - first, "X-Request-Id: mine\r\n", 20) != NULL);
	PH.pc->conf[0].no_request_id = 1;
}
