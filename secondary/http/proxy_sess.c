/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sessions and their streams: a session's slot in the shard area (taken,
 * found from its client stream, freed), and the stream operations every
 * phase uses: consume to a position, doom, close or drop a stream, find and
 * parse the head waiting on one, send a planned head so that a successor
 * finishes it with the same bytes, and abort an exchange.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "secondary/http/proxy_priv.h"

#define NOMBUF_RETRY_MS 5

/* The relay of X found the buffer pool empty: step it again shortly (proxy_poll). */
void proxy_nombuf_wait(struct proxy *p, const struct http_sess *x)
{
	uint32_t i = (uint32_t)(x - p->sess);

	count(p, HC_NOMBUF_WAITS);
	if (p->retry_mark[i])
		return;
	if (p->nretry == 0)
		p->retry_at_ms = p->tcp->now_ms + NOMBUF_RETRY_MS;
	p->retry_mark[i] = 1;
	p->retry[p->nretry++] = i;
}

/* --- streams ---------------------------------------------------------------- */

void proxy_consume_to(struct proxy *p, uint32_t s, uint32_t target)
{
	uint32_t d = target - sio_read_pos(p->tcp, s);

	if ((int32_t)d > 0)
		sio_recv(p->tcp, s, NULL, d);
}

/* Reset S now, or (inside its own event) a tick later from its own timer. */
void proxy_kill_stream(struct proxy *p, uint32_t s)
{
	if (tcp_state(p->tcp, s) == TCP_CLOSED)
		return;
	if (p->tcp->in_event == s) {
		tcp_set_app(p->tcp, s, TAPP_HTTP_LINGER);
		tcp_set_app_arg(p->tcp, s, TCP_NIL);
		tcp_set_app_slot(p->tcp, s, 1);          /* linger: reset at the deadline */
		tcp_app_deadline(p->tcp, s, after(p, 1));
		return;
	}
	tcp_abort(p->tcp, s);
}

/* Close S gracefully: FIN after what is queued; the peer's input is read and dropped. */
void proxy_close_client(struct proxy *p, uint32_t s)
{
	sio_recv(p->tcp, s, NULL, sio_recv_avail(p->tcp, s));
	tcp_set_app(p->tcp, s, TAPP_HTTP_LINGER);
	tcp_set_app_arg(p->tcp, s, TCP_NIL);
	tcp_set_app_slot(p->tcp, s, 0);
	sio_shutdown(p->tcp, s);
	if (tcp_state(p->tcp, s) != TCP_CLOSED)
		tcp_app_deadline(p->tcp, s, after(p, LINGER_MS));
}

/* Release an upstream stream that is no longer needed (not reusable). */
void proxy_drop_upstream(struct proxy *p, uint32_t s)
{
	if (tcp_state(p->tcp, s) == TCP_CLOSED)
		return;
	if (sio_recv_avail(p->tcp, s) || tcp_state(p->tcp, s) == TCP_SYN_SENT ||
	    tcp_state(p->tcp, s) == TCP_SYN_RECEIVED) {
		proxy_kill_stream(p, s);
		return;
	}
	tcp_app_deadline(p->tcp, s, 0);
	sio_close(p->tcp, s);
}

/* Bytes of the head at the start of S's receive queue, contiguous (in place when possible). */
const uint8_t *proxy_head_bytes(struct proxy *p, uint32_t s, uint32_t want, uint32_t *len)
{
	uint32_t avail = sio_recv_avail(p->tcp, s), n;
	const uint8_t *b = sio_peek_contig(p->tcp, s, &n);

	if (want > avail)
		want = avail;
	if (n >= want) {
		*len = n < avail ? n : avail;
		return b;
	}
	*len = sio_peek(p->tcp, s, 0, p->head, want);
	return p->head;
}

struct h1_limits proxy_head_limits(const struct proxy *p)
{
	const struct porter_cfg_http *h = &p->conf->http;
	struct h1_limits l = { .max_request_line = h->max_request_line, .max_head = h->max_header_bytes,
			       .max_headers = h->max_headers };

	if (l.max_head > PROXY_HEAD_MAX)
		l.max_head = PROXY_HEAD_MAX;
	return l;
}

/*
 * Is it worth parsing the head waiting on stream S of session X yet? Only the
 * bytes not looked at before are scanned, for the end of the first line
 * (a bad request line is refused at once) and for the empty line that ends
 * a head (LF LF or LF CR LF); so a head dripped in small segments costs work
 * linear in its size, and it is copied and parsed when it can be complete,
 * too long (MAX bytes), or cut by the peer's FIN.
 */
bool proxy_head_ready(struct proxy *p, struct http_sess *x, uint32_t s, uint32_t max)
{
	struct proxy_scan *h = &p->scan[sess_idx(p, x)];
	uint32_t avail = sio_recv_avail(p->tcp, s), pos = sio_read_pos(p->tcp, s);
	uint8_t buf[512];

	if (h->stream != s || h->pos != pos || h->done > avail) {
		h->stream = s;
		h->pos = pos;
		h->done = 0;
		h->line = 0;
		h->prev = 0;
	}
	if (avail >= max || sio_peer_closed(p->tcp, s))
		return true;
	while (h->done < avail) {
		uint32_t want = avail - h->done < sizeof(buf) ? avail - h->done : (uint32_t)sizeof(buf);
		uint32_t n = sio_peek(p->tcp, s, h->done, buf, want);

		if (n == 0)
			break;
		p->a->counts[HC_HEAD_BYTES] += n;
		for (uint32_t i = 0; i < n; i++) {
			/* prev: the last two bytes seen, newest in the low byte */
			uint16_t was = h->prev;

			h->prev = (uint16_t)(was << 8 | buf[i]);
			if (buf[i] != '\n')
				continue;
			if (!h->line || (was & 0xff) == '\n' || was == ('\n' << 8 | '\r')) {
				h->line = 1;
				h->done += i + 1;
				return true;
			}
		}
		h->done += n;
	}
	return false;
}

/* Parse the head of S (LEN bytes at B) into p->msg, unless p->msg already holds exactly it. */
int proxy_parse_head(struct proxy *p, struct http_sess *x, uint32_t s, const uint8_t *b, uint32_t len,
		     bool request, unsigned int method)
{
	struct h1_limits lim = proxy_head_limits(p);
	uint32_t pos = sio_read_pos(p->tcp, s), si = sess_idx(p, x);
	int rc;

	if (p->msg_ok && p->msg_sess == si && p->msg_stream == s && p->msg_pos == pos &&
	    p->msg.head_len == len && (request ? p->msg.status == 0 : p->msg.status != 0))
		return 0;
	rc = request ? h1_parse_request(b, len, &lim, &p->msg) :
		       h1_parse_response(b, len, &lim, method, &p->msg);
	p->msg_ok = rc == 0;
	p->msg_sess = si;
	p->msg_stream = s;
	p->msg_pos = pos;
	return rc;
}

/* --- sessions ----------------------------------------------------------------- */

struct http_sess *proxy_sess_of(struct proxy *p, uint32_t s)
{
	uint32_t i = tcp_app_arg(p->tcp, s);

	if (i >= p->a->max_sessions || p->sess[i].kind == HS_FREE || p->sess[i].cl != s)
		return NULL;
	return &p->sess[i];
}

struct http_sess *proxy_sess_new(struct proxy *p, uint32_t cl, enum http_sess_kind kind)
{
	uint32_t i = p->a->free_head;
	struct http_sess *x;
	struct timespec ts;

	if (i == TCP_NIL && p->a->hwm < p->a->max_sessions) {
		/* never used yet: the mark moves first (a recovery looks below it) */
		i = p->a->hwm;
		__atomic_store_n(&p->a->hwm, i + 1, __ATOMIC_RELEASE);
		x = &p->sess[i];
	} else if (i == TCP_NIL) {
		return NULL;
	} else {
		x = &p->sess[i];
		p->a->free_head = x->next;
	}
	p->a->active++;
	memset(x, 0, sizeof(*x));
	x->cl = cl;
	x->next = TCP_NIL;
	x->t0_ms = now(p);
	x->c_r0 = sio_read_pos(p->tcp, cl);
	x->c_w0 = sio_write_pos(p->tcp, cl);
	clock_gettime(CLOCK_REALTIME, &ts);
	x->t0_wall_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	x->s[0].up = TCP_NIL;
	x->s[0].slot = NO_SLOT;
	x->s[0].gen = (uint32_t)p->a->gen;
	x->s[1] = x->s[0];
	__atomic_thread_fence(__ATOMIC_RELEASE);
	CRASH_POINT("proxy.sess_init");
	x->kind = (uint8_t)kind;
	CRASH_POINT("proxy.sess_kind");
	tcp_set_app_arg(p->tcp, cl, i);
	return x;
}

void proxy_sess_free(struct proxy *p, struct http_sess *x)
{
	uint32_t i = sess_idx(p, x);

	if (p->msg_sess == i)
		p->msg_ok = false;
	if (x->cl != TCP_NIL && tcp_app_arg(p->tcp, x->cl) == i)
		tcp_set_app_arg(p->tcp, x->cl, TCP_NIL);
	CRASH_POINT("proxy.sess_unlinked");
	x->kind = HS_FREE;
	x->next = p->a->free_head;
	p->a->free_head = i;
	p->a->active--;
}

/* The session stops using its server slot (connection count). */
void proxy_release_slot(struct proxy *p, struct http_snap *n)
{
	if (n->slot != NO_SLOT && n->up != TCP_NIL && gen_current(p, n) && p->a->srv[n->slot].active)
		p->a->srv[n->slot].active--;
}

/* Abort the exchange: both streams reset (the client could not be answered cleanly). */
void proxy_abort_session(struct proxy *p, struct http_sess *x, bool client_too)
{
	struct http_snap n = *cur(x);

	if (n.up != TCP_NIL) {
		proxy_release_slot(p, &n);
		proxy_kill_stream(p, n.up);
		n.up = TCP_NIL;
		commit(x, &n);
	}
	proxy_access_log(p, x, n.status ? n.status : 499);
	if (client_too && x->cl != TCP_NIL)
		proxy_kill_stream(p, x->cl);
	proxy_sess_free(p, x);
}

/*
 * Send OUT[0..LEN) on stream S as the head planned in direction D (its wbase):
 * the length is committed (hout) before the first byte goes, so a successor
 * that finds part of it sent sends the rest rather than taking it as whole.
 * Returns 1 when all is sent, 0 to wait for room, -1 when it cannot be sent.
 */
int proxy_send_planned(struct proxy *p, struct http_sess *x, int d, uint32_t s, const uint8_t *out,
		       uint32_t len)
{
	const struct http_dir *dir = d ? &cur(x)->r : &cur(x)->q;
	uint32_t sent = sio_write_pos(p->tcp, s) - dir->wbase;

	if (len > p->tcp->prm->snd_buf)
		return -1;   /* would never fit the send queue */
	if (dir->hout != len) {
		struct http_snap n;

		if (sent)
			return -1;   /* not the head a predecessor began to send (the config changed) */
		n = *cur(x);
		(d ? &n.r : &n.q)->hout = len;
		commit(x, &n);
	}
	while (sent < len) {
		uint32_t room = sio_send_space(p->tcp, s), k = len - sent;
		int w;

		if (k > room)
			k = room;
		if (k == 0)
			return 0;   /* WRITABLE comes */
		w = sio_send(p->tcp, s, out + sent, k);
		if (w == -ENOMEM)
			proxy_nombuf_wait(p, x);
		if (w == -ENOMEM || w == 0)
			return 0;
		if (w < 0)
			return -1;
		sent += (uint32_t)w;
	}
	return 1;
}

/* Has the head planned in direction D been sent whole on S? */
bool proxy_head_sent(struct proxy *p, struct http_sess *x, int d, uint32_t s)
{
	const struct http_dir *dir = d ? &cur(x)->r : &cur(x)->q;

	return dir->hout && sio_write_pos(p->tcp, s) - dir->wbase >= dir->hout;
}
