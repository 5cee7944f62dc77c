/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bodies and tunnels: a body relayed from one stream to the other as it comes
 * (Content-Length, close-delimited, tunnels), a chunked body re-framed (or
 * de-chunked for an HTTP/1.0 client) step by planned step, and a tunnel's two
 * directions with their FINs passed on. Every relay sends first and consumes
 * after, so a successor finishes exactly what a dead worker began
 * (proxy-t.h). Outcomes: enum relay_rc (proxy_priv.h).
 */
#include <errno.h>

#include "secondary/http/proxy_priv.h"

/*
 * A relay's send of N bytes at B into sink DST of session X: the bytes taken,
 * 0 to wait (for send space, or for buffers: proxy_nombuf_wait), -1 when the sink
 * can take no more (closed or not yet open).
 */
static int sink_send(struct proxy *p, const struct http_sess *x, uint32_t dst, const uint8_t *b, uint32_t n)
{
	int w = sio_send(p->tcp, dst, b, n);

	if (w == -EPIPE || w == -ENOTCONN)
		return -1;
	if (w == -ENOMEM)
		proxy_nombuf_wait(p, x);
	return w < 0 ? 0 : w;
}

/*
 * Relay the body of direction D (0: client -> upstream, 1: upstream -> client)
 * from stream SRC to DST as it comes: Content-Length and close-delimited
 * bodies, tunnels, and a chunked body an older worker began relaying this way
 * (new ones are re-framed: relay_chunked). Returns RELAY_DONE when the body
 * is complete, or why it is not (enum relay_rc).
 */
static enum relay_rc relay(struct proxy *p, struct http_sess *x, int d, uint32_t src, uint32_t dst)
{
	for (;;) {
		const struct http_snap *sn = cur(x);
		const struct http_dir *dir = d ? &sn->r : &sn->q;
		uint32_t sent = sio_write_pos(p->tcp, dst) - dir->wbase;
		uint32_t got = sio_read_pos(p->tcp, src) - dir->rbase;
		uint64_t limit;
		uint32_t n, k, avail;
		int w;

		if ((int32_t)(sent - got) > 0)
			sio_recv(p->tcp, src, NULL, sent - got);   /* a predecessor sent but did not consume */
		switch (dir->kind) {
		case H1_BODY_NONE:
			return RELAY_DONE;
		case H1_BODY_LENGTH:
			limit = dir->len;
			break;
		case H1_BODY_CHUNKED:
			limit = dir->dec;
			break;
		default:
			limit = UINT64_MAX;
			break;
		}
		avail = sio_recv_avail(p->tcp, src);
		if (sent >= limit) {
			struct http_snap nn;
			struct http_dir *nd;
			bool done = false;
			long used;

			if (dir->kind == H1_BODY_LENGTH || dir->done)
				return RELAY_DONE;
			if (avail == 0)
				return sio_peer_closed(p->tcp, src) ? RELAY_SRC_CLOSED : RELAY_WAIT;
			/* decode ahead of what is forwarded; commit the decoder with its position */
			k = sio_peek(p->tcp, src, 0, p->copy, avail < COPY_CHUNK ? avail : COPY_CHUNK);
			nn = *sn;
			nd = d ? &nn.r : &nn.q;
			used = h1_chunked_feed(&nd->ch, p->copy, k, &done);
			if (used < 0)
				return RELAY_BAD_CHUNKED;
			if (!d && p->conf->http.max_body_bytes && nd->ch.total > p->conf->http.max_body_bytes)
				return RELAY_TOO_LARGE;
			nd->dec += (uint32_t)used;
			nd->done = done;
			commit(x, &nn);
			continue;
		}
		if (avail == 0 && sio_peer_closed(p->tcp, src))
			return dir->kind == H1_BODY_CLOSE ? RELAY_DONE : RELAY_SRC_CLOSED;   /* it can never end */
		n = avail;
		if (n > sio_send_space(p->tcp, dst))
			n = sio_send_space(p->tcp, dst);
		if (limit != UINT64_MAX && n > limit - sent)
			n = (uint32_t)(limit - sent);
		if (n == 0)
			return RELAY_WAIT;
		{
			/* straight from the source's first segment into the sink's queue */
			const uint8_t *b = sio_peek_contig(p->tcp, src, &k);

			if (n > k)
				n = k;
			w = sink_send(p, x, dst, b, n);
		}
		if (w <= 0)
			return w < 0 ? RELAY_SINK_GONE : RELAY_WAIT;
		CRASH_POINT("proxy.relay_sent");
		sio_recv(p->tcp, src, NULL, (uint32_t)w);
		if (sent + (uint32_t)w > (1u << 30)) {
			/* keep the 32-bit positions far from wrapping: move the bases */
			struct http_snap nn = *cur(x);
			struct http_dir *nd = d ? &nn.r : &nn.q;
			uint32_t moved = sent + (uint32_t)w;

			nd->rbase += moved;
			nd->wbase += moved;
			if (nd->kind == H1_BODY_LENGTH)
				nd->len -= moved;
			if (nd->kind == H1_BODY_CHUNKED)
				nd->dec -= moved;
			commit(x, &nn);
		}
	}
}

/*
 * Send to DST what the planned step DIR of relay_chunked() still owes: the
 * bytes are a function of the plan (dec, len, done) and of the step's
 * source bytes, still unconsumed at SRC's read position, so a successor
 * sends exactly the rest. Returns RELAY_DONE when all is sent, RELAY_WAIT to
 * wait for room, RELAY_SINK_GONE when the sink (or the step's bytes) is gone.
 */
static enum relay_rc send_step(struct proxy *p, const struct http_sess *x, const struct http_dir *dir, uint32_t src,
			       uint32_t dst, bool rechunk)
{
	uint8_t head[H1_CHUNK_HEAD_MAX];
	const uint8_t *tail = NULL;
	uint32_t hl = 0, k = 0, tl = 0, total;
	uint32_t sent = sio_write_pos(p->tcp, dst) - dir->wbase;

	if (dir->done) {
		/* the step that ends the body: the last chunk, no trailer fields */
		if (rechunk) {
			tail = (const uint8_t *)H1_LAST_CHUNK;
			tl = sizeof(H1_LAST_CHUNK) - 1;
		}
	} else if (dir->len) {
		/* a data step: dec bytes of one chunk of the source, one chunk of ours */
		k = dir->dec;
		if (rechunk) {
			hl = (uint32_t)h1_chunk_head(k, head);
			tail = (const uint8_t *)H1_CHUNK_TAIL;
			tl = sizeof(H1_CHUNK_TAIL) - 1;
		}
	}
	total = hl + k + tl;
	while (sent < total) {
		uint32_t room = sio_send_space(p->tcp, dst), n, cl;
		const uint8_t *b;
		int w;

		if (room == 0)
			return RELAY_WAIT;   /* WRITABLE comes */
		if (sent < hl) {
			b = head + sent;
			n = hl - sent;
		} else if (sent < hl + k) {
			uint32_t off = sent - hl;
			const uint8_t *c = sio_peek_contig(p->tcp, src, &cl);

			n = k - off;
			if (c != NULL && off < cl) {
				b = c + off;   /* in place, from the source's first segment */
				if (n > cl - off)
					n = cl - off;
			} else {
				if (n > COPY_CHUNK)
					n = COPY_CHUNK;
				if (n > room)
					n = room;
				n = sio_peek(p->tcp, src, off, p->copy, n);
				b = p->copy;
				if (n == 0)
					return RELAY_SINK_GONE;   /* the planned bytes are not there: cannot go on */
			}
		} else {
			b = tail + (sent - hl - k);
			n = total - sent;
		}
		if (n > room)
			n = room;
		w = sink_send(p, x, dst, b, n);
		if (w <= 0)
			return w < 0 ? RELAY_SINK_GONE : RELAY_WAIT;
		sent += (uint32_t)w;
		CRASH_POINT("proxy.chunk_step_part");
	}
	return RELAY_DONE;
}

/*
 * A chunked body, re-framed (RFC 9112 §7.1): the source's framing is
 * decoded and checked (h1_chunked_feed), and only its data goes on, in
 * chunks of porter's own (h1_chunk_head() data CRLF ... "0\r\n\r\n": no
 * chunk extensions, no trailer fields), or as bare data for an HTTP/1.0
 * client (RECHUNK false; the body then ends with the connection). No byte
 * of the source's framing reaches the sink, so a sink that reads framing
 * differently from porter (a bare LF, an extension) cannot be led to see
 * another body or another message.
 *
 * Steps alternate between framing (source bytes consumed; nothing sent but
 * the last chunk when the body ends) and data (up to STEP_MAX bytes of one
 * source chunk, sent as one chunk). Each step is planned in the snapshot
 * before it is carried out: rbase and wbase where source and sink stood,
 * dec the source bytes it covers, len the bytes it sends (0 for framing),
 * done whether the body ends with it, ch the decoder after it. The source
 * bytes are consumed only once all is sent, so a successor repeats exactly
 * the unfinished part (send_step). Returns as relay().
 */
static enum relay_rc relay_chunked(struct proxy *p, struct http_sess *x, int d, uint32_t src, uint32_t dst,
				   bool rechunk)
{
	for (;;) {
		const struct http_snap *sn = cur(x);
		const struct http_dir *dir = d ? &sn->r : &sn->q;
		struct http_snap nn;
		struct http_dir *nd;
		uint32_t avail, k;
		bool done = false;

		if (dir->dec) {
			/* the planned step: send what it owes, then consume its source bytes */
			if (sio_read_pos(p->tcp, src) == dir->rbase) {
				enum relay_rc rc = send_step(p, x, dir, src, dst, rechunk);

				if (rc != RELAY_DONE)
					return rc;
				CRASH_POINT("proxy.chunk_sent");
			}
			proxy_consume_to(p, src, dir->rbase + dir->dec);
		}
		if (dir->done)
			return RELAY_DONE;
		avail = sio_recv_avail(p->tcp, src);
		if (avail == 0)
			return sio_peer_closed(p->tcp, src) ? RELAY_SRC_CLOSED : RELAY_WAIT;
		nn = *sn;
		nd = d ? &nn.r : &nn.q;
		nd->rbase = sio_read_pos(p->tcp, src);
		nd->wbase = sio_write_pos(p->tcp, dst);
		if (h1_chunked_data_left(&nd->ch)) {
			k = (uint32_t)h1_chunked_take(&nd->ch, avail < STEP_MAX ? avail : STEP_MAX);
			nd->dec = k;
			nd->len = k;
			if (rechunk) {
				uint8_t head[H1_CHUNK_HEAD_MAX];

				nd->len += h1_chunk_head(k, head) + sizeof(H1_CHUNK_TAIL) - 1;
			}
		} else {
			/* framing, up to the next chunk data or the end of the body */
			uint32_t i = 0;

			k = sio_peek(p->tcp, src, 0, p->copy, avail < 4096 ? avail : 4096);
			while (i < k && !done && !h1_chunked_data_left(&nd->ch)) {
				if (h1_chunked_feed(&nd->ch, p->copy + i, 1, &done) < 0)
					return RELAY_BAD_CHUNKED;
				i++;
			}
			nd->dec = i;
			nd->len = rechunk && done ? sizeof(H1_LAST_CHUNK) - 1 : 0;
		}
		nd->done = done;
		if (!d && p->conf->http.max_body_bytes && nd->ch.total > p->conf->http.max_body_bytes)
			return RELAY_TOO_LARGE;
		commit(x, &nn);
	}
}

/*
 * The body of direction D: chunked bodies re-framed (relay_chunked), the
 * others relayed as they come (relay). A chunked body an older worker began
 * relaying as it came (reframe 0) goes on that way.
 */
enum relay_rc proxy_relay_body(struct proxy *p, struct http_sess *x, int d, uint32_t src, uint32_t dst)
{
	const struct http_snap *sn = cur(x);
	const struct http_dir *dir = d ? &sn->r : &sn->q;

	if (d && (sn->sflags & DECHUNK))
		return relay_chunked(p, x, d, src, dst, false);
	if (dir->kind == H1_BODY_CHUNKED && dir->reframe)
		return relay_chunked(p, x, d, src, dst, true);
	return relay(p, x, d, src, dst);
}

/* Both directions of a tunnel: relay, pass each FIN on, end when both are shut. */
int proxy_tunnel_step(struct proxy *p, struct http_sess *x)
{
	uint32_t c = x->cl, u = cur(x)->up;
	enum relay_rc rq, rs;
	struct http_snap n;

	if (u == TCP_NIL || cur(x)->req == RQ_CONNECT)
		return 0;
	rq = relay(p, x, 0, c, u);
	rs = relay(p, x, 1, u, c);
	if (rq == RELAY_SINK_GONE || rs == RELAY_SINK_GONE) {
		proxy_abort_session(p, x, true);
		return -1;
	}
	n = *cur(x);
	/* a FIN goes on once the sink's own unread bytes have been passed the other
	 * way: closing it earlier could free them (LAST-ACK) before they are relayed */
	if (rq == RELAY_DONE && !n.q.shut && sio_recv_avail(p->tcp, u) == 0) {
		sio_shutdown(p->tcp, u);
		n.q.shut = 1;
	}
	if (rs == RELAY_DONE && !n.r.shut && sio_recv_avail(p->tcp, c) == 0) {
		sio_shutdown(p->tcp, c);
		n.r.shut = 1;
	}
	commit(x, &n);
	if (n.q.shut && n.r.shut) {
		/* both FINs passed on: the streams finish their close on their own */
		proxy_access_log(p, x, x->kind == HS_TUNNEL ? 200 : 101);
		proxy_release_slot(p, &n);
		tcp_set_app(p->tcp, u, TAPP_NONE);
		tcp_app_deadline(p->tcp, u, 0);
		sio_close(p->tcp, u);
		proxy_sess_free(p, x);
		tcp_set_app(p->tcp, c, TAPP_NONE);
		sio_close(p->tcp, c);
		return -1;
	}
	return 0;
}

/*
 * A tunnel's stream finished its close normally (both FINs exchanged): pass
 * on what is left and end the tunnel. False when the tunnel cannot end
 * cleanly (the caller aborts it).
 */
bool proxy_tunnel_closed(struct proxy *p, struct http_sess *x)
{
	if (x->kind != HS_TUNNEL && !(cur(x)->sflags & TUNNEL))
		return false;
	return proxy_tunnel_step(p, x) < 0 && x->kind == HS_FREE;
}
