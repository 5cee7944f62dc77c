/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The loadgen's two applications on porter's TCP stack, and the run.
 *
 * Both are streams of the stack's TAPP_TEST kind: tcp_apps.c hands their
 * events to the stack's environment seam tcp_env_app_event(), which this binary defines
 * (porter's own binaries keep the empty one). role[s] says which side a
 * stream is on.
 *
 * Client (active opens from the client address to porter's listener), per
 * connection slot:
 *
 *   IDLE --connect--> CONNECTING --CONNECTED/send--> HEAD --head parsed--> BODY
 *    ^                                                ^                     |
 *    |                                                +--- keep-alive: send-+
 *    +---- close (Connection: close, error, timeout) ----------------------+
 *
 * A response counts when its status is 200, its Content-Length is the size
 * the path asked for, and (verify=1) every body byte is the pattern's.
 *
 * Backend (passive opens on the backend address): "GET /N" -> 200 with N
 * bytes of tcp_source_byte(); anything else -> 404 or 400. Keep-alive unless
 * the request says Connection: close; a request body (Content-Length) is read
 * and dropped.
 *
 * Run phases (lg_tick): WARMUP -> MEASURE -> TAIL -> DRAIN -> CLOSE -> IDLE.
 * The "start" and "end" events bracket MEASURE so the caller can sample
 * porter's counters while the load is steady on both sides of the window.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bench/loadgen/loadgen.h"

#define SCAN_US       1000         /* timeouts and phase changes */
#define DRAIN_MAX_US  3000000      /* longest wait for outstanding requests at the end */
#define CLOSE_WAIT_US 200000       /* after closing: let the FINs cross */

/* --- small parsing helpers ------------------------------------------------ */

/* Offset just past the blank line ending a head, or -1. */
static int head_end(const uint8_t *b, uint32_t n)
{
	for (uint32_t i = 3; i < n; i++)
		if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r')
			return (int)(i + 1);
	return -1;
}

/* The value of header NAME (case-insensitive) in HEAD[0..len), or NULL; *vlen its length. */
static const char *header_value(const char *head, uint32_t len, const char *name, uint32_t *vlen)
{
	size_t nl = strlen(name);
	const char *p = memchr(head, '\n', len), *end = head + len;

	while (p && p + 1 < end) {
		const char *line = p + 1, *eol = memchr(line, '\n', (size_t)(end - line));

		if (eol == NULL)
			break;
		if ((size_t)(eol - line) > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
			const char *v = line + nl + 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vlen = (uint32_t)(eol - v);
			while (*vlen && (v[*vlen - 1] == '\r' || v[*vlen - 1] == ' '))
				(*vlen)--;
			return v;
		}
		p = eol;
	}
	return NULL;
}

static bool has_token(const char *v, uint32_t n, const char *tok)
{
	size_t tl = strlen(tok);

	for (uint32_t i = 0; i + tl <= n; i++)
		if (strncasecmp(v + i, tok, tl) == 0)
			return true;
	return false;
}

/* Decimal in V[0..n): value or -1. */
static int64_t parse_dec(const char *v, uint32_t n)
{
	int64_t x = 0;

	if (n == 0 || n > 12)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

/* --- latency histogram: exact below 64 us, then 32 steps per power of two --- */

static unsigned int hist_idx(uint64_t us)
{
	unsigned int e, idx;

	if (us < 64)
		return (unsigned int)us;
	e = 63u - (unsigned int)__builtin_clzll(us);
	idx = 64 + (e - 6) * 32 + (unsigned int)((us >> (e - 5)) & 31);
	return idx < LG_HIST_SIZE ? idx : LG_HIST_SIZE - 1;
}

static uint64_t hist_value(unsigned int idx)
{
	unsigned int e, sub;

	if (idx < 64)
		return idx;
	e = (idx - 64) / 32 + 6;
	sub = (idx - 64) % 32;
	return (1ull << e) + ((uint64_t)sub << (e - 5));
}

uint64_t lg_hist_percentile(const uint64_t *hist, double p)
{
	uint64_t total = 0, seen = 0, want;

	for (unsigned int i = 0; i < LG_HIST_SIZE; i++)
		total += hist[i];
	if (total == 0)
		return 0;
	want = (uint64_t)(p * (double)total);
	if (want >= total)
		want = total - 1;
	for (unsigned int i = 0; i < LG_HIST_SIZE; i++) {
		seen += hist[i];
		if (seen > want)
			return hist_value(i);
	}
	return hist_value(LG_HIST_SIZE - 1);
}

/* --- client ------------------------------------------------------------------ */

static bool may_issue(const struct lg *lg)
{
	const struct lg_run *r = &lg->run;

	return (r->phase == PH_WARMUP || r->phase == PH_MEASURE || r->phase == PH_TAIL) &&
	       (r->req_limit == 0 || r->issued < r->req_limit);
}

static void slot_idle(struct lg *lg, struct lg_conn *cn)
{
	cn->s = TCP_NIL;
	cn->state = C_IDLE;
	lg->idle[lg->nidle++] = (uint16_t)(cn - lg->conn);
}

/* The stream leaves the application: closed (FIN) or aborted (RST); no more events. */
static void client_release(struct lg *lg, struct lg_conn *cn, bool abort)
{
	uint32_t s = cn->s;

	lg->role[s] = ROLE_NONE;
	lg->client_live--;
	if (abort)
		tcp_abort(&lg->tcp, s);
	else
		tcp_close(&lg->tcp, s);
	slot_idle(lg, cn);
}

static void client_send(struct lg *lg, struct lg_conn *cn)
{
	struct lg_run *r = &lg->run;
	int rc = tcp_send(&lg->tcp, cn->s, r->req, r->req_len);

	if (rc != (int)r->req_len) {
		lg->n.err_reset++;
		client_release(lg, cn, true);
		return;
	}
	r->issued++;
	cn->state = C_HEAD;
	cn->bad = 0;
	cn->t_us = lg->tcp.now_us;
}

static void client_response_done(struct lg *lg, struct lg_conn *cn)
{
	struct lg_run *r = &lg->run;

	if (!cn->bad) {
		lg->n.requests++;
		lg->n.body_bytes += cn->body_off;
		if (r->phase == PH_MEASURE)
			r->hist[hist_idx(lg->tcp.now_us - cn->t_us)]++;
	}
	if (tcp_peer_closed(&lg->tcp, cn->s)) {
		client_release(lg, cn, false);
		return;
	}
	if (r->close || cn->close_after) {
		/* close after the rest of the burst, which usually holds porter's FIN:
		 * like a kernel client, whose socket has taken the whole burst before
		 * the application calls close(), and no simultaneous close */
		cn->state = C_KEPT;
		cn->close_after = 1;
		lg->closing[lg->nclosing++] = (uint16_t)(cn - lg->conn);
		return;
	}
	if (may_issue(lg))
		client_send(lg, cn);
	else
		cn->state = C_KEPT;
}

/* Parse the response head at the front of the stream; false when the stream was released. */
static bool client_head(struct lg *lg, struct lg_conn *cn, uint32_t avail)
{
	struct tcp_ctx *c = &lg->tcp;
	char buf[LG_HEAD_MAX];
	uint32_t n = avail < sizeof(buf) ? avail : (uint32_t)sizeof(buf), vlen;
	const char *v;
	int end, status;
	int64_t cl;

	n = tcp_peek(c, cn->s, 0, buf, n);
	end = head_end((const uint8_t *)buf, n);
	if (end < 0) {
		if (n >= sizeof(buf)) {
			lg->n.err_head++;
			client_release(lg, cn, true);
			return false;
		}
		return true;   /* the rest of the head is still to come */
	}
	if (end < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ') {
		lg->n.err_head++;
		client_release(lg, cn, true);
		return false;
	}
	status = atoi(buf + 9);
	v = header_value(buf, (uint32_t)end, "content-length", &vlen);
	cl = v ? parse_dec(v, vlen) : -1;
	if (cl < 0 || cl > UINT32_MAX || header_value(buf, (uint32_t)end, "transfer-encoding", &vlen)) {
		/* no framing we can follow (this backend never chunks) */
		lg->n.err_length++;
		client_release(lg, cn, true);
		return false;
	}
	v = header_value(buf, (uint32_t)end, "connection", &vlen);
	cn->close_after = v && has_token(v, vlen, "close");
	tcp_recv(c, cn->s, NULL, (uint32_t)end);
	if (status != 200) {
		lg->n.err_status++;
		cn->bad = 1;
	} else if ((uint64_t)cl != lg->run.expect_len) {
		lg->n.err_length++;
		cn->bad = 1;
	}
	cn->body_left = (uint32_t)cl;
	cn->body_off = 0;
	cn->state = C_BODY;
	return true;
}

static void client_read(struct lg *lg, struct lg_conn *cn)
{
	struct tcp_ctx *c = &lg->tcp;

	while (cn->state == C_HEAD || cn->state == C_BODY) {
		uint32_t avail = tcp_recv_avail(c, cn->s);

		if (cn->state == C_HEAD) {
			if (avail == 0 || !client_head(lg, cn, avail) || cn->state == C_HEAD)
				return;
			continue;
		}
		while (cn->body_left && tcp_recv_avail(c, cn->s)) {
			uint32_t len;
			const uint8_t *p = tcp_peek_contig(c, cn->s, &len);

			if (len > cn->body_left)
				len = cn->body_left;
			if (lg->run.verify && !cn->bad &&
			    memcmp(p, lg->pattern + cn->body_off, len) != 0) {
				lg->n.err_body++;
				cn->bad = 1;
			}
			tcp_recv(c, cn->s, NULL, len);
			cn->body_left -= len;
			cn->body_off += len;
		}
		if (cn->body_left)
			return;
		client_response_done(lg, cn);   /* may send the next request (state HEAD again) */
		if (cn->state != C_HEAD || tcp_recv_avail(c, cn->s) == 0)
			return;
	}
}

static void client_event(struct lg *lg, uint32_t s, uint32_t ev)
{
	struct lg_conn *cn = &lg->conn[lg->slot_of[s]];

	if (ev & (TEV_APP_RESET | TEV_APP_CLOSED)) {
		/* the stream is gone; an idle keep-alive stream closed by porter is no error */
		if (cn->state != C_KEPT)
			lg->n.err_reset++;
		lg->role[s] = ROLE_NONE;
		lg->client_live--;
		slot_idle(lg, cn);
		return;
	}
	if ((ev & TEV_APP_CONNECTED) && cn->state == C_CONNECTING) {
		if (may_issue(lg))
			client_send(lg, cn);
		else
			cn->state = C_KEPT;
		if (cn->s != s)
			return;
	}
	if (ev & TEV_APP_READABLE)
		client_read(lg, cn);
	if (cn->s != s || !tcp_peer_closed(&lg->tcp, s))
		return;
	/* porter closed: an error unless we were between requests */
	if (cn->state == C_HEAD || cn->state == C_BODY)
		lg->n.err_eof++;
	client_release(lg, cn, tcp_recv_avail(&lg->tcp, s) != 0);
}

static bool client_connect(struct lg *lg, unsigned int i)
{
	struct lg_conn *cn = &lg->conn[i];
	int err = 0;
	uint32_t s;

	cn->state = C_CONNECTING;   /* before the SYN leaves: events may follow at once */
	cn->t_us = lg->tcp.now_us;
	/* the route to porter is the connected subnet; both addresses share it and the
	 * lower index (the client's) wins (shm/route.h), so clients leave from 10.90.0.1 */
	s = tcp_connect(&lg->tcp, lg->target_ip, lg->target_port, TAPP_TEST, &err);
	if (s == TCP_NIL) {
		lg->n.err_connect++;
		slot_idle(lg, cn);
		return false;
	}
	lg->role[s] = ROLE_CLIENT;
	lg->slot_of[s] = i;
	cn->s = s;
	lg->client_live++;
	lg->n.connects++;
	return true;
}

/* --- backend -------------------------------------------------------------------- */

static const struct lg_head_cache *response_head(struct lg *lg, uint16_t status, uint32_t body_len)
{
	struct lg_head_cache *h = &lg->head;

	if (h->len == 0 || h->status != status || h->body_len != body_len) {
		const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request";

		h->status = status;
		h->body_len = body_len;
		h->len = (uint32_t)snprintf(h->buf, sizeof(h->buf),
					    "HTTP/1.1 %u %s\r\nServer: porter-loadgen\r\n"
					    "Content-Type: application/octet-stream\r\n"
					    "Content-Length: %u\r\n\r\n", status, reason, body_len);
	}
	return h;
}

/* Queue as much of the current response as the send queue takes. */
static void backend_write(struct lg *lg, uint32_t s, struct lg_backend_stream *b)
{
	const struct lg_head_cache *h = response_head(lg, b->status, b->body_len);

	while (b->resp_left) {
		const uint8_t *p;
		uint32_t n;
		int rc;

		if (b->resp_off < h->len) {
			p = (const uint8_t *)h->buf + b->resp_off;
			n = h->len - b->resp_off;
		} else {
			p = lg->pattern + (b->resp_off - h->len);
			n = b->resp_left;
		}
		rc = tcp_send(&lg->tcp, s, p, n);
		if (rc < 0) {
			b->resp_left = 0;
			return;
		}
		if (rc == 0)
			return;   /* TEV_APP_WRITABLE continues */
		b->resp_off += (uint32_t)rc;
		b->resp_left -= (uint32_t)rc;
	}
}

/* One request head at the front of the stream: 1 parsed, 0 incomplete, -1 bad (aborted). */
static int backend_request(struct lg *lg, uint32_t s, struct lg_backend_stream *b, uint32_t avail)
{
	struct tcp_ctx *c = &lg->tcp;
	char buf[LG_HEAD_MAX];
	uint32_t n = avail < sizeof(buf) ? avail : (uint32_t)sizeof(buf), vlen;
	const char *v, *path, *sp;
	int end;
	int64_t len;

	n = tcp_peek(c, s, 0, buf, n);
	end = head_end((const uint8_t *)buf, n);
	if (end < 0) {
		if (n < sizeof(buf))
			return 0;
		lg->n.backend_errors++;
		lg->role[s] = ROLE_NONE;
		tcp_abort(c, s);
		return -1;
	}
	/* request line: METHOD SP /N SP HTTP/1.x */
	path = memchr(buf, ' ', (size_t)end);
	sp = path ? memchr(path + 1, ' ', (size_t)(buf + end - path - 1)) : NULL;
	b->status = 400;
	b->body_len = 0;
	if (path && sp && path[1] == '/') {
		len = parse_dec(path + 2, (uint32_t)(sp - path - 2));
		if (len >= 0 && len <= LG_MAX_BODY) {
			b->status = 200;
			b->body_len = (uint32_t)len;
		} else {
			b->status = 404;
		}
	}
	if (b->status != 200)
		lg->n.backend_errors++;
	v = header_value(buf, (uint32_t)end, "connection", &vlen);
	b->close_after = (v && has_token(v, vlen, "close")) || b->status == 400;
	v = header_value(buf, (uint32_t)end, "content-length", &vlen);
	len = v ? parse_dec(v, vlen) : 0;
	b->discard = len > 0 && len <= UINT32_MAX ? (uint32_t)len : 0;
	if (len < 0 || len > UINT32_MAX || header_value(buf, (uint32_t)end, "transfer-encoding", &vlen)) {
		if (b->status == 200)
			lg->n.backend_errors++;
		b->status = 400;   /* no framing this backend follows (not needed here) */
		b->body_len = 0;
		b->close_after = 1;
	}
	tcp_recv(c, s, NULL, (uint32_t)end);
	b->resp_off = 0;
	b->resp_left = response_head(lg, b->status, b->body_len)->len + b->body_len;
	lg->n.backend_requests++;
	return 1;
}

static void backend_event(struct lg *lg, uint32_t s, uint32_t ev)
{
	struct tcp_ctx *c = &lg->tcp;
	struct lg_backend_stream *b = &lg->bk[s];

	if (ev & (TEV_APP_RESET | TEV_APP_CLOSED)) {
		lg->role[s] = ROLE_NONE;
		return;
	}
	for (;;) {
		uint32_t avail;

		if (b->resp_left) {
			backend_write(lg, s, b);
			if (b->resp_left)
				return;
		}
		if (b->close_after) {
			lg->role[s] = ROLE_NONE;
			tcp_close(c, s);
			return;
		}
		if (b->discard) {
			b->discard -= tcp_recv(c, s, NULL, b->discard);
			if (b->discard)
				return;
		}
		avail = tcp_recv_avail(c, s);
		if (avail == 0)
			break;
		if (backend_request(lg, s, b, avail) <= 0)
			return;
	}
	if (tcp_peer_closed(c, s)) {   /* porter closed its pooled connection */
		lg->role[s] = ROLE_NONE;
		tcp_close(c, s);
	}
}

/* --- the stack's hook ---------------------------------------------------------- */

void tcp_env_app_event(struct tcp_ctx *c, uint32_t s, uint32_t ev)
{
	struct lg *lg = c->app;
	const struct tcp_tcb *t = &c->tcbs[s];

	switch (lg->role[s]) {
	case ROLE_CLIENT:
		client_event(lg, s, ev);
		return;
	case ROLE_BACKEND:
		backend_event(lg, s, ev);
		return;
	default:
		break;
	}
	if (ev & (TEV_APP_RESET | TEV_APP_CLOSED))
		return;
	if ((ev & TEV_APP_CONNECTED) && t->lport == lg->backend_port && t->laddr == lg->backend_ip) {
		lg->role[s] = ROLE_BACKEND;
		memset(&lg->bk[s], 0, sizeof(lg->bk[s]));
		backend_event(lg, s, ev);
		return;
	}
	tcp_abort(c, s);   /* a stream nobody here asked for (the listener port on the client address) */
}

void lg_counts_sync(struct lg *lg)
{
	const struct tcp_area *a = lg->tcp.area;

	lg->n.tcp_retransmits = a->events[TEV_RETRANSMITS];
	lg->n.tcp_rto = a->events[TEV_RTO];
	for (unsigned int r = 0; r < TDROP__COUNT; r++)
		lg->n.tcp_drops[r] = tcp_area_drop(a, r);
}

/* --- the run --------------------------------------------------------------------- */

void lg_run_start(struct lg *lg)
{
	struct lg_run *r = &lg->run;

	r->issued = 0;
	memset(r->hist, 0, sizeof(r->hist));
	r->req_len = (uint32_t)snprintf(r->req, sizeof(r->req),
					"GET %s HTTP/1.1\r\nHost: porter\r\n%s\r\n", r->path,
					r->close ? "Connection: close\r\n" : "");
	lg->nidle = 0;
	lg->nclosing = 0;
	for (unsigned int i = r->conns; i-- > 0;)
		slot_idle(lg, &lg->conn[i]);
	r->phase = PH_WARMUP;
	r->t_phase_end = lg->tcp.now_us + r->warmup_us;
	lg->last_scan_us = 0;
}

/* Every ms: timeouts; returns the requests outstanding. */
static unsigned int scan(struct lg *lg)
{
	struct lg_run *r = &lg->run;
	uint64_t now = lg->tcp.now_us;
	unsigned int out = 0;

	for (unsigned int i = 0; i < r->conns; i++) {
		struct lg_conn *cn = &lg->conn[i];

		if (cn->state != C_CONNECTING && cn->state != C_HEAD && cn->state != C_BODY)
			continue;
		if (now - cn->t_us > r->timeout_us) {
			lg->n.err_timeout++;
			client_release(lg, cn, true);
			continue;
		}
		out++;
	}
	return out;
}

static void close_all(struct lg *lg)
{
	for (unsigned int i = 0; i < lg->run.conns; i++)
		if (lg->conn[i].s != TCP_NIL)
			client_release(lg, &lg->conn[i], lg->conn[i].state != C_KEPT);
}

void lg_tick(struct lg *lg)
{
	struct lg_run *r = &lg->run;
	uint64_t now = lg->tcp.now_us;
	unsigned int out;

	while (lg->nclosing) {
		struct lg_conn *cn = &lg->conn[lg->closing[--lg->nclosing]];

		if (cn->s != TCP_NIL && cn->state == C_KEPT && cn->close_after)
			client_release(lg, cn, false);
	}
	if (r->phase == PH_IDLE)
		return;
	while (lg->nidle && may_issue(lg))
		if (!client_connect(lg, lg->idle[--lg->nidle]))
			break;
	if (now - lg->last_scan_us < SCAN_US)
		return;
	lg->last_scan_us = now;
	out = scan(lg);
	switch (r->phase) {
	case PH_WARMUP:
		if (now >= r->t_phase_end) {
			r->phase = PH_MEASURE;
			lg_counts_sync(lg);
			r->at_start = lg->n;
			r->t_measure_start = now;
			r->t_phase_end = now + r->measure_us;
			memset(r->hist, 0, sizeof(r->hist));
			lg_emit(lg, "start");
		}
		break;
	case PH_MEASURE:
		if (now >= r->t_phase_end || (r->req_limit && r->issued >= r->req_limit && out == 0)) {
			r->phase = PH_TAIL;
			lg_counts_sync(lg);
			r->at_end = lg->n;
			r->t_measure_end = now;
			r->t_phase_end = now + r->tail_us;
			lg_emit(lg, "end");
		}
		break;
	case PH_TAIL:
		if (now >= r->t_phase_end) {
			r->phase = PH_DRAIN;
			r->t_phase_end = now + DRAIN_MAX_US;
		}
		break;
	case PH_DRAIN:
		if (out == 0 || now >= r->t_phase_end) {
			close_all(lg);
			r->phase = PH_CLOSE;
			r->t_phase_end = now + CLOSE_WAIT_US;
		}
		break;
	case PH_CLOSE:
		if (now >= r->t_phase_end) {
			r->phase = PH_IDLE;
			lg_emit(lg, "done");
		}
		break;
	default:
		break;
	}
}
