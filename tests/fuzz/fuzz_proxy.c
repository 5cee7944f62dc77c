/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the proxy (secondary/http/proxy.c, h1.c) on its unit
 * harness (tests/unit/proxy_harness.c): one client's byte stream and the
 * servers' byte stream, cut and interleaved as the input says, with clock
 * advances, worker replacements and closes in between.
 *
 * Input layout (a short input simply ends early; missing bytes read as 0):
 *   byte 0   bit 0  the tcp pass-through listener (else the http one)
 *            bit 1  a worker replacement (ph_reattach) after every step (of the
 *                   schedule's first MAX_REATTACH)
 *            bit 2  servers refuse connections until a step turns it off
 *            bit 3  the client ends with a reset (else a FIN)
 *            bit 4  the servers end with a reset (else a FIN)
 *            bit 5  peers offer MSS only (else MSS, window scale, SACK, timestamps)
 *            bit 6  the second configuration: no upstream keep-alive, small
 *                   head limits, max_body_bytes 100, one server
 *            bit 7  the client half-closes once it sent everything
 *   bytes 1-2  N, little endian: the client stream is the next N bytes
 *   then 2 bytes M and the servers' stream (M bytes)
 *   then the schedule, one byte per step: op = b & 7, arg = b >> 3:
 *     0-2  the client sends its next piece, of piece(arg) bytes
 *     3-4  the newest open server connection sends the servers' stream's next
 *          piece(arg) bytes (nothing when no server connection is open)
 *     5    the clock moves arg + 1 ms (arg < 16) or (arg - 15) * 500 ms
 *     6    a worker replacement
 *     7    arg & 3: 0 the client's FIN, 1 the newest server's FIN, 2 its
 *          reset, 3 servers refuse / accept connections from now on
 *   piece(arg): arg + 1 bytes for arg < 24, else (arg - 23) * 64.
 * At the end of the schedule the client sends the rest of its stream, the
 * servers the rest of theirs (to each newest server connection in turn,
 * with a short clock advance between), then every peer closes.
 *
 * Checks (a violation prints and abort()s):
 *  - the harness's own after every step: frames well formed, nothing sent
 *    past a peer's RCV.NXT, ph_check() (proxy area and tcp_check());
 *  - the end: no session, no stream, no fake mbuf left (ph_check_clean);
 *  - nothing forwarded that the parser rejected. The client's stream is
 *    parsed on its own here (h1_parse_request with the listener's limits,
 *    h1_chunked_feed), request after request while each is accepted and
 *    its body well framed: the requests porter may forward, each with the
 *    head it must write for it (h1_write_request) and its body. Every
 *    server connection's bytes must then be, in order, whole forwarded
 *    heads of those requests (each byte for byte that head; a later
 *    request than the one before on the same connection, the same one
 *    on a new connection when retried), each followed by a prefix of its
 *    body: Content-Length bytes as the client sent them, a chunked body
 *    in valid framing whose data is a prefix of the client's data and
 *    whose end is sent only when the client's body ended well; or, after
 *    the head of a request that offers an upgrade, the client's raw bytes
 *    after that head (a tunnel). A cut head is allowed only at the very
 *    end of a connection, as a prefix of an allowed head;
 *  - what the client receives is a sequence of responses that parse, in
 *    valid framing (a chunked body decodes), up to a 101 or a close-
 *    delimited body;
 *  - tcp pass-through: each side receives a prefix of what the other sent.
 *
 * Two builds:
 *  - CI (gcc, no libFuzzer): tests/fuzz/meson.build links this file, the
 *    harnesses (H_NO_CRITERION: tests/unit/cr_shim.h), the proxy and
 *    replay.c into fuzz_proxy_replay, which meson test (suite 'fuzz') runs
 *    over every file of tests/fuzz/corpus/proxy.
 *  - Local fuzzing with libFuzzer (clang), from the repository root:
 *
 *      clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *            -fno-sanitize-recover=all -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API \
 *            -DH_NO_CRITERION -I. $(pkg-config --cflags libdpdk libconfig) \
 *            tests/fuzz/fuzz_proxy.c tests/unit/proxy_harness.c tests/unit/tcp_harness.c \
 *            secondary/http/proxy.c secondary/http/proxy_[a-mo-z]*.c secondary/http/h1*.c \
 *            secondary/tcp/tcp_[a-z]*.c \
 *            secondary/tcp/climit.c secondary/rst.c shm/hash.c shm/route.c shm/names.c \
 *            config/config*.c -Wl,--wrap=tcp_ctx_clock \
 *            $(pkg-config --libs libdpdk libconfig) -lm -lpthread -o /tmp/fuzz_proxy
 *      mkdir -p /tmp/fuzz-proxy-new
 *      nice -n 19 /tmp/fuzz_proxy -max_total_time=600 -max_len=4096 \
 *            /tmp/fuzz-proxy-new tests/fuzz/corpus/proxy
 *      /tmp/fuzz_proxy -merge=1 tests/fuzz/corpus/proxy /tmp/fuzz-proxy-new
 *
 *  - tests/fuzz/make_proxy_corpus.py writes the hand-made seeds (seed-*);
 *    regress-* are inputs that once failed; 40-hex names came from -merge=1.
 *  - FUZZ_PROXY_TRACE=1 prints the steps and what each peer received.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/proxy_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STREAM  8192u     /* bytes of each side's stream used */
#define MAX_STEPS   256u
#define MAX_REQS    32u
#define MAX_REATTACH 48u      /* bit 1's re-attaches after every step: the first ones of the schedule */

static const char CONF_A[] =
	"ports = ( { name = \"p0\"; device = \"net_null0\"; mac = \"02:00:00:00:00:01\";\n"
	"            ipv4 = \"10.0.0.1/24\"; gateway = \"10.0.0.254\"; } );\n"
	"listeners = ( { port = 80; protocol = \"http\"; },\n"
	"              { port = 8000; protocol = \"tcp\"; upstream = \"raw\"; } );\n"
	"upstreams = ( { name = \"app\"; servers = ( { address = \"10.0.0.2:8080\"; },\n"
	"                                           { address = \"10.0.0.2:8081\"; } );\n"
	"                keepalive = { max_idle = 4; idle_timeout_ms = 1000; };\n"
	"                timeouts = { connect_ms = 200; read_ms = 2000; write_ms = 2000; };\n"
	"                retries = 1; },\n"
	"              { name = \"raw\"; servers = ( { address = \"10.0.0.2:9000\"; } );\n"
	"                timeouts = { connect_ms = 200; }; } );\n"
	"routes = ( { upstream = \"app\"; } );\n"
	"http = { max_sessions_per_shard = 16; header_timeout_ms = 1000; idle_timeout_ms = 3000;\n"
	"         request_id = false; };\n";

static const char CONF_B[] =
	"ports = ( { name = \"p0\"; device = \"net_null0\"; mac = \"02:00:00:00:00:01\";\n"
	"            ipv4 = \"10.0.0.1/24\"; gateway = \"10.0.0.254\"; } );\n"
	"listeners = ( { port = 80; protocol = \"http\"; },\n"
	"              { port = 8000; protocol = \"tcp\"; upstream = \"raw\"; } );\n"
	"upstreams = ( { name = \"app\"; servers = ( { address = \"10.0.0.2:8080\"; } );\n"
	"                keepalive = { max_idle = 0; };\n"
	"                timeouts = { connect_ms = 200; read_ms = 500; write_ms = 500; };\n"
	"                retries = 0; },\n"
	"              { name = \"raw\"; servers = ( { address = \"10.0.0.2:9000\"; } ); } );\n"
	"routes = ( { upstream = \"app\"; path = \"/a\"; }, { upstream = \"app\"; method = \"POST\"; } );\n"
	"http = { max_sessions_per_shard = 16; max_request_line = 64; max_header_bytes = 256; request_id = false;\n"
	"         max_headers = 4; max_body_bytes = 100; header_timeout_ms = 200; idle_timeout_ms = 300;\n"
	"         via = \"\"; };\n";

/* ---- failing, tracing ------------------------------------------------------------ */

static bool tracing;

__attribute__((noreturn, format(printf, 2, 3))) static void check_failed(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_proxy.c:%d: invariant violated: ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond))                                                    \
			check_failed(__LINE__, __VA_ARGS__);                    \
	} while (0)

__attribute__((format(printf, 1, 2))) static void trace(const char *fmt, ...)
{
	va_list ap;

	if (!tracing)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void trace_bytes(const char *what, const uint8_t *b, uint32_t n)
{
	if (!tracing)
		return;
	fprintf(stderr, "  %s (%u): \"", what, n);
	for (uint32_t i = 0; i < n; i++) {
		if (b[i] == '\r')
			fputs("\\r", stderr);
		else if (b[i] == '\n')
			fputs("\\n", stderr);
		else if (b[i] < 0x20 || b[i] >= 0x7f || b[i] == '"' || b[i] == '\\')
			fprintf(stderr, "\\x%02x", b[i]);
		else
			fputc(b[i], stderr);
	}
	fputs("\"\n", stderr);
}

/* ---- input -------------------------------------------------------------------------- */

struct in {
	const uint8_t *p;
	size_t n, i;
};

static uint8_t u8(struct in *in) { return in->i < in->n ? in->p[in->i++] : 0; }

static uint16_t u16(struct in *in)
{
	uint16_t lo = u8(in);

	return (uint16_t)(lo | u8(in) << 8);
}

/* The next LEN bytes (fewer at the end of the input, MAX at most). */
static const uint8_t *span(struct in *in, uint32_t len, uint32_t max, uint32_t *got)
{
	const uint8_t *b = in->p + in->i;

	if (len > in->n - in->i)
		len = (uint32_t)(in->n - in->i);
	in->i += len;
	*got = len < max ? len : max;
	return b;
}

static uint32_t piece(uint8_t arg)
{
	return arg < 24 ? arg + 1u : (arg - 23u) * 64u;
}

/* ---- the run -------------------------------------------------------------------------- */

static struct {
	uint8_t mode;
	const uint8_t *cs, *us;         /* the client's and the servers' streams */
	uint32_t clen, ulen;
	uint32_t coff, uoff;            /* sent so far */
	struct ph_peer *client;
	uint32_t uat[PH_MAX_PEERS];     /* per peer: offset in the servers' stream where it began */
	uint32_t usent[PH_MAX_PEERS];   /* per peer: bytes of the servers' stream it sent */
} F;

/* The newest server connection that can still send. */
static struct ph_peer *live_upstream(void)
{
	for (unsigned int i = PH.npeers; i-- > 0;) {
		struct ph_peer *p = &PH.peers[i];

		if (p->upstream && !p->rst_in && !p->rst_out && !p->fin_out)
			return p;
	}
	return NULL;
}

static void client_send(uint32_t n)
{
	if (n > F.clen - F.coff)
		n = F.clen - F.coff;
	if (n == 0)
		return;
	trace("client sends %u at %u\n", n, F.coff);
	ph_send(F.client, F.cs + F.coff, n);
	F.coff += n;
}

static bool upstream_send(uint32_t n)
{
	struct ph_peer *u = live_upstream();

	if (n > F.ulen - F.uoff)
		n = F.ulen - F.uoff;
	if (u == NULL || n == 0)
		return false;
	trace("server %u sends %u at %u\n", u->id, n, F.uoff);
	if (F.usent[u->id] == 0)
		F.uat[u->id] = F.uoff;
	ph_send(u, F.us + F.uoff, n);
	F.usent[u->id] += n;
	F.uoff += n;
	return true;
}

static void op_close(uint8_t arg)
{
	struct ph_peer *u = live_upstream();

	switch (arg & 3) {
	case 0:
		trace("client FIN\n");
		ph_fin(F.client);
		break;
	case 1:
		if (u) {
			trace("server %u FIN\n", u->id);
			ph_fin(u);
		}
		break;
	case 2:
		if (u) {
			trace("server %u RST\n", u->id);
			ph_rst(u);
		}
		break;
	default:
		PH.up_refuse = !PH.up_refuse;
		trace("servers refuse: %d\n", PH.up_refuse);
		break;
	}
}

/* ---- the oracle: what the client's stream allows upstream ------------------------------- */

struct creq {
	uint32_t off, head_len;          /* in the client's stream */
	uint8_t kind;                    /* enum h1_body */
	bool offers_upgrade;
	uint64_t clen;                   /* LENGTH: the body's length */
	uint32_t body_off;               /* LENGTH: raw body from here in the client's stream */
	uint32_t data_off, data_len;     /* CHUNKED: decoded data in cdata[] */
	bool body_done;                  /* CHUNKED: the body ended well */
	bool forwarded;                  /* a server received its head: porter parsed it */
	uint8_t w[4096 + 512];           /* the head porter must write for it */
	int wlen;
	unsigned int method;
};

static struct creq reqs[MAX_REQS];
static unsigned int nreqs;
static uint8_t cdata[MAX_STREAM];
static struct h1_msg msg;

/* The requests of the client's stream porter may forward, as porter's limits and parser see them. */
static void model_client(const uint8_t *c, uint32_t n, const struct porter_proxy_conf *conf)
{
	struct h1_limits lim = { .max_request_line = conf->http.max_request_line,
				 .max_head = conf->http.max_header_bytes,
				 .max_headers = conf->http.max_headers };
	struct h1_fwd f = { .client_ip = PH_CLIENT_IP, .proto = "http", .via = conf->http.via,
			    .upstream_keepalive = conf->upstreams[0].keepalive_max_idle > 0 };
	uint32_t off = 0, nd = 0;

	if (lim.max_head > PROXY_HEAD_MAX)
		lim.max_head = PROXY_HEAD_MAX;
	nreqs = 0;
	while (off < n && nreqs < MAX_REQS) {
		struct creq *r = &reqs[nreqs];
		int rc = h1_parse_request(c + off, n - off, &lim, &msg);

		if (rc != 0) {
			trace("model: request %u at %u: %d\n", nreqs, off, rc);
			return;
		}
		memset(r, 0, offsetof(struct creq, w));
		r->off = off;
		r->head_len = msg.head_len;
		r->kind = msg.body;
		r->method = msg.method;
		r->offers_upgrade = (msg.flags & H1F_UPGRADE_OFFER) != 0;
		r->wlen = h1_write_request(&msg, c + off, &f, r->w, sizeof(r->w));
		CHECK(r->wlen > 0, "h1_write_request failed on a head of %u bytes", msg.head_len);
		nreqs++;
		off += msg.head_len;
		trace("model: request %u at %u head %u body kind %u\n", nreqs - 1, r->off, r->head_len, r->kind);
		if (msg.body == H1_BODY_LENGTH) {
			r->clen = msg.content_length;
			r->body_off = off;
			if (msg.content_length > n - off)
				return;   /* the stream ends inside the body */
			off += (uint32_t)msg.content_length;
		} else if (msg.body == H1_BODY_CHUNKED) {
			struct h1_chunked ch = { 0 };
			bool done = false;

			r->data_off = nd;
			while (off < n && !done) {
				bool data = h1_chunked_data_left(&ch) != 0;

				if (h1_chunked_feed(&ch, c + off, 1, &done) != 1)
					return;   /* malformed framing: nothing after it (the data before may go) */
				if (data) {
					cdata[nd++] = c[off];
					r->data_len++;
				}
				off++;
			}
			r->body_done = done;
			if (!done)
				return;
		}
	}
}

/* Is B[0..N) a prefix of allowed head K's bytes? */
static bool head_prefix(unsigned int k, const uint8_t *b, uint32_t n)
{
	return n <= (uint32_t)reqs[k].wlen && memcmp(b, reqs[k].w, n) == 0;
}

/* Check what server peer U received against the model. */
static void check_upstream_bytes(const struct ph_peer *u)
{
	const uint8_t *b = u->rx;
	uint32_t n = u->rx_len, off = 0;
	int last = -1;

	trace_bytes("server received", b, n);
	while (off < n) {
		int k, rc = h1_parse_request(b + off, n - off, NULL, &msg);
		bool raw_ok = last >= 0 && reqs[last].offers_upgrade;

		if (rc == H1_INCOMPLETE) {
			/* a head cut by the end of the connection: a prefix of an allowed one, or tunnel bytes */
			for (k = last + 1; k < (int)nreqs; k++)
				if (head_prefix((unsigned int)k, b + off, n - off))
					return;
		}
		k = -1;
		if (rc == 0) {
			for (k = last + 1; k < (int)nreqs; k++)
				if ((uint32_t)reqs[k].wlen == msg.head_len &&
				    memcmp(reqs[k].w, b + off, msg.head_len) == 0)
					break;
			if (k == (int)nreqs)
				k = -1;
		}
		if (k < 0) {
			/* not a head porter may send: only a tunnel after an offered upgrade passes raw bytes */
			const struct creq *r = raw_ok ? &reqs[last] : NULL;
			uint32_t from = r ? r->off + r->head_len : 0;

			CHECK(r != NULL, "server %u: bytes at %u are no request the client's stream allows "
			      "(parse %d; %u requests allowed, last %d)", u->id, off, rc, nreqs, last);
			CHECK(n - off <= F.coff - from && memcmp(b + off, F.cs + from, n - off) == 0,
			      "server %u: tunnel bytes at %u are not the client's after request %d", u->id, off, last);
			return;
		}
		last = k;
		reqs[k].forwarded = true;
		off += msg.head_len;
		if (reqs[k].kind == H1_BODY_LENGTH) {
			uint64_t want = reqs[k].clen;
			uint32_t have = n - off < want ? n - off : (uint32_t)want;

			CHECK(msg.body == H1_BODY_LENGTH && msg.content_length == want,
			      "server %u: request %d forwarded with other framing", u->id, k);
			CHECK(memcmp(b + off, F.cs + reqs[k].body_off, have) == 0,
			      "server %u: body of request %d is not the client's", u->id, k);
			off += have;
		} else if (reqs[k].kind == H1_BODY_CHUNKED) {
			struct h1_chunked ch = { 0 };
			bool done = false;
			uint32_t nd = 0;

			CHECK(msg.body == H1_BODY_CHUNKED, "server %u: request %d forwarded unchunked", u->id, k);
			while (off < n && !done) {
				bool data = h1_chunked_data_left(&ch) != 0;

				CHECK(h1_chunked_feed(&ch, b + off, 1, &done) == 1,
				      "server %u: porter's chunked framing of request %d is malformed at %u", u->id, k, off);
				if (data) {
					CHECK(nd < reqs[k].data_len && b[off] == cdata[reqs[k].data_off + nd],
					      "server %u: chunk data of request %d differs from the client's at %u", u->id, k,
					      nd);
					nd++;
				}
				off++;
			}
			CHECK(!done || (reqs[k].body_done && nd == reqs[k].data_len),
			      "server %u: request %d's chunked body ended upstream, not at the client", u->id, k);
		}
	}
}

/* What the client received: responses that parse, in valid framing. */
static void check_client_bytes(const struct ph_peer *c)
{
	const uint8_t *b = c->rx;
	uint32_t n = c->rx_len, off = 0;
	unsigned int k = 0;

	trace_bytes("client received", b, n);
	while (off < n) {
		unsigned int method = k < nreqs ? reqs[k].method : H1_M_GET;
		int rc = h1_parse_response(b + off, n - off, NULL, method, &msg);

		if (rc == H1_INCOMPLETE)
			return;   /* cut by a reset */
		CHECK(rc == 0, "client: bytes at %u are no response head (%d)", off, rc);
		off += msg.head_len;
		if (msg.status == 101 || msg.body == H1_BODY_CLOSE)
			return;
		if (method == H1_M_HEAD && !reqs[k].forwarded && !(msg.flags & H1F_KEEP_ALIVE))
			return;   /* answered (408) before porter had the head: it could not know the method */
		if (msg.status < 200)
			continue;
		k++;
		if (msg.body == H1_BODY_LENGTH) {
			off += n - off < msg.content_length ? n - off : (uint32_t)msg.content_length;
		} else if (msg.body == H1_BODY_CHUNKED) {
			struct h1_chunked ch = { 0 };
			bool done = false;

			while (off < n && !done) {
				CHECK(h1_chunked_feed(&ch, b + off, 1, &done) == 1,
				      "client: porter's chunked framing of response %u is malformed at %u", k, off);
				off++;
			}
		}
	}
}

/* Is A[0..AN) a prefix of B[0..BN)? (A may be NULL when AN is 0.) */
static bool is_prefix(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn)
{
	return an == 0 || (an <= bn && memcmp(a, b, an) == 0);
}

static void check_passthrough(void)
{
	struct ph_peer *u = ph_upstream(0);

	if (u == NULL)
		return;
	trace_bytes("server received", u->rx, u->rx_len);
	trace_bytes("client received", F.client->rx, F.client->rx_len);
	CHECK(is_prefix(u->rx, u->rx_len, F.cs, F.coff),
	      "pass-through: the server received other bytes than the client sent");
	CHECK(is_prefix(F.client->rx, F.client->rx_len, F.us + F.uat[u->id], F.usent[u->id]),
	      "pass-through: the client received other bytes than the server sent");
}

/* ---- entry ----------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { .p = data, .n = size };
	unsigned int steps = 0;
	bool tcp;

	tracing = getenv("FUZZ_PROXY_TRACE") != NULL;
	memset(&F, 0, sizeof(F));
	F.mode = u8(&in);
	tcp = F.mode & 1;
	F.cs = span(&in, u16(&in), MAX_STREAM, &F.clen);
	F.us = span(&in, u16(&in), MAX_STREAM, &F.ulen);
	ph_setup_conf(F.mode & 0x40 ? CONF_B : CONF_A);
	PH.up_refuse = F.mode & 4;
	if (F.mode & 0x20)
		PH.up_opts = H_OPT_MSS;
	trace("mode %#x: client %u bytes, servers %u bytes\n", F.mode, F.clen, F.ulen);
	F.client = ph_client(tcp ? PH_TCP_PORT : PH_HTTP_PORT, F.mode & 0x20 ? &H_OPT_MSS : &H_OPT_ALL);
	PH.reattach_each = F.mode & 2;

	while (in.i < in.n && steps++ < MAX_STEPS) {
		uint8_t b = u8(&in), op = b & 7, arg = b >> 3;

		if (PH.reattaches >= MAX_REATTACH)
			PH.reattach_each = false;   /* each costs a worker's start-up allocations */
		if (op <= 2)
			client_send(piece(arg));
		else if (op <= 4)
			upstream_send(piece(arg));
		else if (op == 5)
			ph_advance(arg < 16 ? arg + 1u : (arg - 15u) * 500u);
		else if (op == 6)
			ph_reattach();
		else
			op_close(arg);
	}
	trace("end of the schedule\n");
	client_send(F.clen);
	if (F.mode & 0x80)
		ph_fin(F.client);
	for (unsigned int k = 0; k < 8 && F.uoff < F.ulen; k++) {
		if (!upstream_send(F.ulen))
			ph_advance(50);
	}
	ph_advance(10);

	if (tcp) {
		check_passthrough();
	} else {
		model_client(F.cs, F.coff, &PH.pc->conf[0]);
		for (unsigned int i = 0; i < PH.npeers; i++)
			if (PH.peers[i].upstream)
				check_upstream_bytes(&PH.peers[i]);
		check_client_bytes(F.client);
	}
	PH.reattach_each = false;
	if (F.mode & 8)
		ph_rst(F.client);
	for (unsigned int i = 0; i < PH.npeers; i++)
		if (PH.peers[i].upstream && (F.mode & 0x10))
			ph_rst(&PH.peers[i]);
	ph_check_clean();   /* the rest close with a FIN */
	/* and after the closes, nothing more went anywhere it should not */
	if (tcp)
		check_passthrough();
	else
		for (unsigned int i = 0; i < PH.npeers; i++)
			if (PH.peers[i].upstream)
				check_upstream_bytes(&PH.peers[i]);
	ph_teardown();
	return 0;
}
