/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reverse proxy's sessions: one per request in flight (or per tunnel),
 * stepped by the events of its two streams through the phases below. See
 * proxy-t.h for the crash rule every step follows: plan in a snapshot,
 * commit, then act in a way that can be repeated (positions come from the
 * streams' sequence spaces). The other jobs are in the files proxy_priv.h
 * lists.
 *
 * Streams are never freed from inside their own event: a stream that must
 * go is "doomed" (app TAPP_HTTP_LINGER with a deadline of now), and its
 * own timer resets it a tick later.
 *
 * Phases (struct http_snap: req, resp). proxy_advance() runs the request
 * side's step, and the response side's when the request side waits; a
 * session ends when both are done. Each line: phase, what moves it, where it
 * goes (and who does it).
 *
 *  request (req)    event / condition                           next
 *  ---------------  ------------------------------------------  --------------------------------------
 *  RQ_HEAD          head parsed, routed, pooled stream claimed  RQ_SEND_HEAD (read_head,
 *                                                               proxy_start_upstream)
 *                   head parsed, routed, new connection         RQ_CONNECT
 *                   bad head, no route, 413/429/501, no server  RQ_ERROR (proxy_respond_error,
 *                                                               proxy_answer_here)
 *                   header timeout                              RQ_ERROR 408 (client_event)
 *                   FIN before a whole head                     session freed, client closed
 *  RQ_CONNECT       upstream ESTABLISHED (level-triggered)      RQ_SEND_HEAD (check_upstream); a
 *                                                               tunnel: RQ_BODY + RS_BODY
 *                   connect timeout, reset                      RQ_CONNECT / RQ_SEND_HEAD on another
 *                                                               server (proxy_retry_or_error), or
 *                                                               RQ_ERROR 502/503/504
 *  RQ_SEND_HEAD     head sent whole, no body                    RQ_DONE (the head stays queued until
 *                                                               the response head is sent)
 *                   head sent whole, a body                     RQ_BODY
 *                   head cannot be sent                         RQ_ERROR 431/502
 *  RQ_BODY          RELAY_DONE                                  RQ_DONE
 *                   RELAY_BAD_CHUNKED / TOO_LARGE / deadline    RQ_ERROR 400 / 413 / 408
 *                   RELAY_SRC_CLOSED                            aborted (both streams reset)
 *                   RELAY_SINK_GONE                             upstream_lost: retry, 502, or abort
 *                   response done first (RS_DONE)               end_session, client closed
 *  RQ_DONE          (waits for the response)
 *  RQ_ERROR         answer sent                                 session freed; client closed, or kept
 *                                                               for its next request (429, 200 and 405
 *                                                               with KA_PROMISED)
 *
 *  response (resp)  event / condition                           next
 *  ---------------  ------------------------------------------  --------------------------------------
 *  RS_WAIT          final head parsed                           RS_SEND_HEAD (read_response)
 *                   1xx to an HTTP/1.0 client                   RS_WAIT (dropped where it stands)
 *                   bad head, unasked 101, TE to HTTP/1.0       RQ_ERROR 502
 *                   upstream closed or reset before a head      retry on another server
 *                                                               (upstream_lost), or RQ_ERROR 502
 *                   read timeout                                RQ_ERROR 504 (408 when the client's
 *                                                               body stalled) (up_event)
 *  RS_SEND_HEAD     interim head (100) sent                     RS_WAIT (send_response_head)
 *                   101 sent                                    RS_BODY + TUNNEL, req RQ_BODY
 *                   head sent                                   RS_BODY
 *                   head cannot be sent                         RQ_ERROR 502, or aborted when part of
 *                                                               it went out
 *  RS_BODY          RELAY_DONE                                  RS_DONE
 *                   any other outcome but RELAY_WAIT            aborted
 *  RS_DONE          and RQ_DONE                                 end_session: the upstream stream to
 *                                                               its pool or dropped; the client kept
 *                                                               (KA_PROMISED: client_step reads its
 *                                                               next request) or closed
 *
 *  A tunnel (HS_TUNNEL, or TUNNEL after a 101) leaves the table: both
 *  directions relay until each source's FIN has been passed on
 *  (proxy_tunnel_step), then the session is freed. A reset or close of
 *  either stream aborts an exchange, but for the upstream's before a
 *  response head (retry, or 502).
 */
#include <stdio.h>
#include <string.h>

#include "secondary/http/proxy_priv.h"

/* RQ_HEAD: parse what the client sent; route; get an upstream. 1 = progress, 0 = wait, -1 = gone. */
static int read_head(struct proxy *p, struct http_sess *x)
{
	uint32_t c = x->cl, len;
	struct h1_limits lim = proxy_head_limits(p);
	const uint8_t *b;
	int rc, route;

	if (!proxy_head_ready(p, x, c, lim.max_head + 1))
		return 0;
	b = proxy_head_bytes(p, c, lim.max_head + 1, &len);
	p->a->counts[HC_HEAD_BYTES] += len;
	rc = h1_parse_request(b, len, &lim, &p->msg);
	p->logf[sess_idx(p, x)].valid = false;
	if (rc == 0)
		proxy_note_head(p, x, &p->msg, b);

	p->msg_ok = rc == 0;
	p->msg_sess = sess_idx(p, x);
	p->msg_stream = c;
	p->msg_pos = sio_read_pos(p->tcp, c);
	const struct h1_msg *m = &p->msg;
	struct http_snap n;

	if (rc == H1_INCOMPLETE) {
		if (sio_peer_closed(p->tcp, c)) {
			/* the client gave up mid-head: nothing to answer */
			proxy_close_client(p, c);
			proxy_sess_free(p, x);
			return -1;
		}
		return 0;
	}
	if (rc < 0) {
		proxy_respond_error(p, x, (unsigned int)-rc);
		return -1;
	}
	n = *cur(x);
	n.method = m->method;
	n.minor = m->version_minor;
	n.rflags = m->flags;
	n.q.kind = m->body;
	n.q.len = m->content_length;
	n.q.hlen = m->head_len;
	n.q.rbase = sio_read_pos(p->tcp, c);
	n.gen = (uint32_t)p->a->gen;
	{
		uint32_t pl = m->path.len < HTTP_PATH_LOG - 1 ? m->path.len : HTTP_PATH_LOG - 1;

		memcpy(x->path, b + m->path.off, pl);
		x->path[pl] = 0;
	}
	commit(x, &n);
	tcp_app_deadline(p->tcp, c, 0);
	count(p, HC_REQUESTS);
	proxy_count_listener(p, c);
	{
		const struct porter_listener *l = tcp_listener(p->tcp, tcp_lport(p->tcp, c));
		uint32_t retry_s;

		if (!(l && l->no_climit) && !tcp_climit_request(p->tcp, tcp_raddr(p->tcp, c), &retry_s)) {
			proxy_answer_here(p, x, 429, retry_s);
			return -1;
		}
	}
	if ((m->method == H1_M_OPTIONS || m->method == H1_M_TRACE) && (m->flags & H1F_MAX_FORWARDS) &&
	    m->max_forwards == 0) {
		/* RFC 9110 §7.6.2: porter is the final recipient */
		proxy_answer_here(p, x, m->method == H1_M_OPTIONS ? 200 : 405, 0);
		return -1;
	}
	if (m->method == H1_M_CONNECT) {
		/* a reverse proxy: no tunnel to wherever the client names (RFC 9110 §9.3.6) */
		proxy_respond_error(p, x, 501);
		return -1;
	}
	if (p->conf->http.max_body_bytes && m->body == H1_BODY_LENGTH &&
	    m->content_length > p->conf->http.max_body_bytes) {
		proxy_respond_error(p, x, 413);
		return -1;
	}
	route = proxy_find_route(p, m, b, tcp_lport(p->tcp, c));
	if (route < 0) {
		proxy_respond_error(p, x, 404);
		return -1;
	}
	x->route = (uint16_t)(route + 1);
	return proxy_start_upstream(p, x, p->conf->routes[route].upstream) < 0 ? -1 : 1;
}

/* RQ_SEND_HEAD: forward the (rewritten) head once. */
static int send_head(struct proxy *p, struct http_sess *x)
{
	const struct http_snap *sn = cur(x);
	uint32_t c = x->cl, u = sn->up;
	struct http_snap n;

	if (!proxy_head_sent(p, x, 0, u)) {
		uint32_t len;
		const uint8_t *b = proxy_head_bytes(p, c, sn->q.hlen, &len);
		struct h1_fwd f = {
			.client_ip = tcp_raddr(p->tcp, c), .proto = tls_io_slot(p->tcp, c) ? "https" : "http", .via = p->conf->http.via,
			.upstream_keepalive = x->kind == HS_HTTP && sn->up_keepalive,
		};
		char rid[33];
		int out, rc;

		if (len < sn->q.hlen || proxy_parse_head(p, x, c, b, sn->q.hlen, true, 0) != 0) {
			proxy_respond_error(p, x, 400);   /* cannot happen: the head parsed before */
			return -1;
		}
		if (!p->conf->no_request_id && h1_find(&p->msg, b, "x-request-id") < 0) {
			proxy_request_id(p, c, sn->q.rbase, rid);   /* as proxy_note_head, after a takeover too */
			f.request_id = rid;
		}
		out = h1_write_request(&p->msg, b, &f, p->out, PROXY_HEAD_MAX + 4096);
		rc = out < 0 ? -1 : proxy_send_planned(p, x, 0, u, p->out, (uint32_t)out);
		if (rc == 0) {
			tcp_app_deadline(p->tcp, u, after(p, sn->write_ms));
			return 0;   /* WRITABLE comes */
		}
		if (rc < 0) {
			proxy_respond_error(p, x, sio_write_pos(p->tcp, u) == cur(x)->q.wbase ? 431 : 502);
			return -1;
		}
		sn = cur(x);
	}
	n = *sn;
	if (n.q.kind == H1_BODY_NONE) {
		/* the head stays in the client's queue until the response comes, so a
		 * request a closing keep-alive connection lost can be sent again */
		n.req = RQ_DONE;
	} else {
		proxy_consume_to(p, c, n.q.rbase + n.q.hlen);
		n.req = RQ_BODY;
		n.q.rbase += n.q.hlen;
		n.q.hlen = 0;
		n.q.wbase = sio_write_pos(p->tcp, u);
		n.q.dec = 0;
		n.q.done = 0;
		n.q.reframe = n.q.kind == H1_BODY_CHUNKED;
		memset(&n.q.ch, 0, sizeof(n.q.ch));
	}
	commit(x, &n);
	tcp_app_deadline(p->tcp, u, after(p, n.read_ms));
	return 1;
}

/* The upstream closed or reset before a whole response head. */
static void upstream_lost(struct proxy *p, struct http_sess *x, bool reset)
{
	const struct http_snap *sn = cur(x);
	bool sent = sn->req != RQ_CONNECT;

	if (x->t_resp_ms == 0 && sn->resp == RS_WAIT) {
		if (!sent || !sn->reused)
			proxy_passive_fail(p, sn);
		if (!sent)
			count(p, HC_UP_CONNECT_FAIL);
		proxy_retry_or_error(p, x, 502, sent);
		return;
	}
	(void)reset;
	count(p, HC_UPSTREAM_ABORTS);
	proxy_abort_session(p, x, true);
}

/*
 * The 101 in p->msg (its bytes at RB) answers an upgrade the client asked
 * for, to protocols it offered (RFC 9110 §7.8: h1_upgrade_accepted). Only a
 * request without a body has its Upgrade passed on (H1F_UPGRADE_OFFER), and
 * such a request's head stays in the client's queue until the response head
 * is sent: it is parsed again from there (after an interim response it is
 * gone, and so is the right to switch).
 */
static bool upgrade_offered(struct proxy *p, struct http_sess *x, const uint8_t *rb)
{
	const struct http_snap *sn = cur(x);
	uint32_t c = x->cl, n;
	const uint8_t *qb;

	if (!(sn->rflags & H1F_UPGRADE_OFFER) || sn->req != RQ_DONE || sn->q.kind != H1_BODY_NONE ||
	    sn->q.hlen == 0 || sio_read_pos(p->tcp, c) != sn->q.rbase)
		return false;
	qb = sio_peek_contig(p->tcp, c, &n);
	if (qb == NULL || n < sn->q.hlen) {
		n = sio_peek(p->tcp, c, 0, p->out, sn->q.hlen);   /* p->head may hold the response */
		qb = p->out;
	}
	return n >= sn->q.hlen && h1_parse_request(qb, sn->q.hlen, NULL, &p->req) == 0 &&
	       h1_upgrade_accepted(&p->req, qb, &p->msg, rb);
}

/* RS_WAIT: a response head from the upstream. 1 progress, 0 wait, -1 gone. */
static int read_response(struct proxy *p, struct http_sess *x)
{
	const struct http_snap *sn = cur(x);
	uint32_t u = sn->up, len;
	struct h1_limits lim = proxy_head_limits(p);
	const uint8_t *b;
	int rc;
	struct http_snap n;

	if (u == TCP_NIL || sn->req == RQ_CONNECT || sn->req == RQ_SEND_HEAD)
		return 0;
	if (sio_recv_avail(p->tcp, u) == 0) {
		if (sio_peer_closed(p->tcp, u)) {
			proxy_kill_stream(p, u);
			n = *cur(x);
			proxy_release_slot(p, &n);
			n.up = TCP_NIL;
			commit(x, &n);
			upstream_lost(p, x, false);
			return -1;
		}
		return 0;
	}
	if (!proxy_head_ready(p, x, u, lim.max_head + 1))
		return 0;
	b = proxy_head_bytes(p, u, lim.max_head + 1, &len);
	p->a->counts[HC_HEAD_BYTES] += len;
	rc = h1_parse_response(b, len, &lim, sn->method, &p->msg);
	p->msg_ok = rc == 0;
	p->msg_sess = sess_idx(p, x);
	p->msg_stream = u;
	p->msg_pos = sio_read_pos(p->tcp, u);
	if (rc == H1_INCOMPLETE && !sio_peer_closed(p->tcp, u))
		return 0;
	if (rc != 0) {
		proxy_passive_fail(p, sn);
		proxy_respond_error(p, x, 502);
		return -1;
	}
	if (x->t_resp_ms == 0)
		x->t_resp_ms = now(p);
	if (p->msg.status == 101 && !upgrade_offered(p, x, b)) {
		/* a switch the client did not ask for: relaying its next bytes raw would
		 * hand the server requests porter never parsed */
		count(p, HC_UP_BAD_UPGRADE);
		proxy_passive_fail(p, sn);
		proxy_respond_error(p, x, 502);   /* the server's connection is reset */
		return -1;
	}
	if (sn->minor == 0 && (p->msg.flags & H1F_TE_CODED) && p->msg.body != H1_BODY_NONE) {
		/* a transfer coding porter cannot remove, for a client that cannot be told (RFC 9112 §6.1) */
		proxy_passive_fail(p, sn);
		proxy_respond_error(p, x, 502);
		return -1;
	}
	if (sn->slot != NO_SLOT && gen_current(p, sn))
		p->a->srv[sn->slot].fails = 0;
	if (sn->minor == 0 && p->msg.status < 200) {
		/* RFC 9110 §15.2: no 1xx to an HTTP/1.0 client. Dropped where it stands: the
		 * phase stays RS_WAIT, so a successor reads the next head or drops this again */
		proxy_consume_to(p, u, sio_read_pos(p->tcp, u) + p->msg.head_len);
		p->msg_ok = false;
		return 1;
	}
	n = *sn;
	n.status = p->msg.status;
	n.sflags = p->msg.flags;
	n.resp = RS_SEND_HEAD;
	n.r.rbase = sio_read_pos(p->tcp, u);
	n.r.wbase = sio_write_pos(p->tcp, x->cl);
	n.r.hlen = p->msg.head_len;
	n.r.hout = 0;
	n.r.kind = p->msg.body;
	n.r.len = p->msg.body == H1_BODY_LENGTH ? p->msg.content_length : 0;
	/* the client keeps its connection when both sides allow it and the request was read whole */
	if (n.minor == 0 && n.r.kind == H1_BODY_CHUNKED)
		n.sflags |= DECHUNK;   /* the client cannot read chunked framing; closed after */
	else if ((n.rflags & H1F_KEEP_ALIVE) && p->msg.status != 101 && n.r.kind != H1_BODY_CLOSE &&
		 !p->tcp->draining)
		n.sflags |= KA_PROMISED;   /* a stopping gateway answers with Connection: close */
	commit(x, &n);
	return 1;
}

/* RS_SEND_HEAD: forward the response head once, then the body (or a tunnel after 101). */
static int send_response_head(struct proxy *p, struct http_sess *x)
{
	const struct http_snap *sn = cur(x);
	uint32_t c = x->cl, u = sn->up;
	struct http_snap n;

	if (u == TCP_NIL)
		return 0;
	if (sn->req == RQ_DONE && sn->q.kind == H1_BODY_NONE && sn->q.hlen)
		proxy_consume_to(p, c, sn->q.rbase + sn->q.hlen);   /* the held request head */
	if (!proxy_head_sent(p, x, 1, c)) {
		uint32_t len;
		const uint8_t *b = proxy_head_bytes(p, u, sn->r.hlen, &len);
		int out, rc;

		if (len < sn->r.hlen || proxy_parse_head(p, x, u, b, sn->r.hlen, false, sn->method) != 0) {
			proxy_respond_error(p, x, 502);
			return -1;
		}
		out = h1_write_response(&p->msg, b, p->conf->http.via, (sn->sflags & KA_PROMISED) != 0,
					sn->minor, p->out, PROXY_HEAD_MAX + 4096);
		rc = out < 0 ? -1 : proxy_send_planned(p, x, 1, c, p->out, (uint32_t)out);
		if (rc == 0)
			return 0;   /* WRITABLE comes */
		if (rc < 0) {
			if (sio_write_pos(p->tcp, c) == cur(x)->r.wbase)
				proxy_respond_error(p, x, 502);
			else
				proxy_abort_session(p, x, true);
			return -1;
		}
		sn = cur(x);
	}
	proxy_consume_to(p, u, sn->r.rbase + sn->r.hlen);
	n = *sn;
	if (n.req == RQ_DONE && n.q.kind == H1_BODY_NONE) {
		n.q.rbase += n.q.hlen;
		n.q.hlen = 0;
	}
	if (n.status >= 100 && n.status < 200 && n.status != 101) {
		n.resp = RS_WAIT;   /* interim (100 Continue): the final head follows */
		n.sflags = 0;
		commit(x, &n);
		return 1;
	}
	n.resp = RS_BODY;
	n.r.rbase = sio_read_pos(p->tcp, u);
	n.r.wbase = sio_write_pos(p->tcp, c);
	n.r.hlen = 0;
	n.r.dec = 0;
	n.r.done = 0;
	n.r.reframe = n.r.kind == H1_BODY_CHUNKED;
	memset(&n.r.ch, 0, sizeof(n.r.ch));
	if (n.status == 101) {
		/* Switching Protocols: from here on both directions are raw bytes */
		n.sflags |= TUNNEL;
		n.r.kind = H1_BODY_CLOSE;
		n.req = RQ_BODY;
		n.q.kind = H1_BODY_CLOSE;
		n.q.rbase = sio_read_pos(p->tcp, c);
		n.q.wbase = sio_write_pos(p->tcp, u);
		n.q.hlen = 0;
		count(p, HC_TUNNELS);
	}
	commit(x, &n);
	tcp_app_deadline(p->tcp, u, (n.sflags & TUNNEL) ? 0 :
			 after(p, n.read_ms));
	return 1;
}

/* Request and response both complete: reuse or close each side. */
static void end_session(struct proxy *p, struct http_sess *x)
{
	struct http_snap n = *cur(x);
	uint32_t c = x->cl, u = n.up;
	bool client_ka = (n.sflags & KA_PROMISED) && n.req == RQ_DONE;

	count(p, HC_RESPONSES);
	proxy_access_log(p, x, n.status);
	if (u != TCP_NIL) {
		bool reuse = (n.sflags & H1F_KEEP_ALIVE) && n.r.kind != H1_BODY_CLOSE && n.req == RQ_DONE &&
			     tcp_state(p->tcp, u) == TCP_ESTABLISHED && sio_recv_avail(p->tcp, u) == 0 &&
			     !sio_peer_closed(p->tcp, u) &&
			     !p->tcp->draining && srv_admin(p, n.slot) == PORTER_SRV_ENABLED &&
			     gen_current(p, &n) && n.slot != NO_SLOT &&
			     p->a->srv[n.slot].pool_count < upstream_of(p, n.slot)->keepalive_max_idle;

		proxy_release_slot(p, &n);
		n.up = TCP_NIL;
		commit(x, &n);
		if (reuse)
			proxy_pool_push(p, u, n.slot);
		else
			proxy_drop_upstream(p, u);
	}
	if (!client_ka)
		proxy_close_client(p, c);   /* before the session goes: see error_step */
	proxy_sess_free(p, x);
}

/* The upstream stream of a session in RQ_CONNECT is established: plan what follows. */
static void upstream_connected(struct proxy *p, struct http_sess *x, uint32_t u)
{
	struct http_snap n = *cur(x);

	x->t_conn_ms = now(p);
	if (x->kind == HS_TUNNEL) {
		n.req = RQ_BODY;
		n.resp = RS_BODY;
		n.q.kind = n.r.kind = H1_BODY_CLOSE;
		n.q.rbase = sio_read_pos(p->tcp, x->cl);
		n.q.wbase = sio_write_pos(p->tcp, u);
		n.r.rbase = sio_read_pos(p->tcp, u);
		n.r.wbase = sio_write_pos(p->tcp, x->cl);
		n.q.shut = n.r.shut = 0;
	} else {
		n.req = RQ_SEND_HEAD;
		n.q.rbase = sio_read_pos(p->tcp, x->cl);
		n.q.wbase = sio_write_pos(p->tcp, u);
		n.q.hout = 0;
	}
	commit(x, &n);
	tcp_app_deadline(p->tcp, u, 0);
}

/*
 * Level-triggered look at the session's upstream stream, so that nothing
 * depends on an event a dead predecessor consumed: a phase that needs the
 * stream finds it gone (retry, error or abort), or established without
 * having been told (connected). Returns 1 to go on, -1 when X ended.
 */
static int check_upstream(struct proxy *p, struct http_sess *x)
{
	const struct http_snap *sn = cur(x);
	bool tunnel = x->kind == HS_TUNNEL || (sn->sflags & TUNNEL);
	bool need = sn->req == RQ_CONNECT || sn->req == RQ_SEND_HEAD || sn->req == RQ_BODY ||
		    (sn->req == RQ_DONE && sn->resp != RS_DONE);

	if (x->kind == HS_TUNNEL && sn->req == RQ_HEAD) {
		int u = proxy_splice_upstream(p, x->cl);

		if (u < 0) {
			proxy_abort_session(p, x, true);
			return -1;
		}
		return proxy_start_upstream(p, x, (uint32_t)u) < 0 ? -1 : 1;
	}
	if (!need || sn->req == RQ_ERROR)
		return 1;
	if (sn->up == TCP_NIL) {
		if (!tunnel && sn->resp == RS_WAIT && x->t_resp_ms == 0) {
			upstream_lost(p, x, false);   /* retry, or 502/504 */
			return x->kind == HS_FREE || proxy_sess_of(p, x->cl) != x ? -1 : 1;
		}
		proxy_abort_session(p, x, true);
		return -1;
	}
	if (sn->req == RQ_CONNECT) {
		if (tcp_state(p->tcp, sn->up) == TCP_ESTABLISHED)
			upstream_connected(p, x, sn->up);
		else if (tcp_app_deadline_at(p->tcp, sn->up) == 0 && gen_current(p, sn))
			tcp_app_deadline(p->tcp, sn->up, after(p, upstream_of(p, sn->slot)->connect_timeout_ms));
	}
	return 1;
}

/*
 * The request body's deadline (http.body_timeout_ms from the request's first byte, plus
 * 1/body_min_rate s for every byte of the request read so far), 0 when off. A slow-body
 * client (one byte every few seconds) never trips the inactivity limit (the upstream's
 * write_ms); this one it does.
 */
static uint32_t body_deadline(const struct proxy *p, const struct http_sess *x)
{
	const struct porter_cfg_http *h = &p->conf->http;
	uint64_t ms;
	uint32_t v;

	if (h->body_timeout_ms == 0)
		return 0;
	ms = h->body_timeout_ms;
	if (h->body_min_rate)
		ms += (uint64_t)(uint32_t)(sio_read_pos(p->tcp, x->cl) - x->c_r0) * 1000 / h->body_min_rate;
	if (ms > 0x7fffffff)
		ms = 0x7fffffff;
	v = x->t0_ms + (uint32_t)ms;
	return v ? v : 1;
}

/* Step a session until nothing moves. Returns false when it ended (or is gone). */
bool proxy_advance(struct proxy *p, struct http_sess *x)
{
	for (int guard = 0; guard < 64; guard++) {
		const struct http_snap *sn;
		int rc = 0;

		sn = cur(x);
		if (sn->resp == RS_DONE && sn->req == RQ_BODY && !(sn->sflags & TUNNEL)) {
			/* the server answered before the request body was whole: it has the
			 * last word; the rest of the body is dropped with the connection */
			end_session(p, x);
			return false;
		}
		if (check_upstream(p, x) < 0)
			return false;
		sn = cur(x);
		if (x->kind == HS_TUNNEL || (sn->sflags & TUNNEL))
			return proxy_tunnel_step(p, x) >= 0;
		switch (sn->req) {
		case RQ_HEAD:
			rc = read_head(p, x);
			break;
		case RQ_SEND_HEAD:
			rc = send_head(p, x);
			break;
		case RQ_BODY: {
			enum relay_rc r = proxy_relay_body(p, x, 0, x->cl, sn->up);

			if (r == RELAY_DONE) {
				struct http_snap n = *cur(x);

				n.req = RQ_DONE;
				commit(x, &n);
				if (n.resp != RS_DONE)
					tcp_app_deadline(p->tcp, n.up, after(p, n.read_ms));
				rc = 1;
			} else if (r == RELAY_WAIT) {
				/* waiting for the client's bytes or the server's window */
				uint32_t dl = after(p, sn->write_ms), bd = 0;

				if (sio_send_space(p->tcp, sn->up) > 0)
					bd = body_deadline(p, x);   /* the client's turn: its body deadline too */
				if (bd != 0 && (int32_t)(bd - now(p)) <= 0) {
					proxy_respond_error(p, x, 408);
					rc = -1;
					break;
				}
				if (bd != 0 && (int32_t)(bd - dl) < 0)
					dl = bd;
				tcp_app_deadline(p->tcp, sn->up, dl);
			} else if (r == RELAY_SRC_CLOSED) {
				count(p, HC_CLIENT_ABORTS);   /* the client closed mid-body */
				proxy_abort_session(p, x, true);
				rc = -1;
			} else if (r == RELAY_BAD_CHUNKED) {
				count(p, HC_REQ_BAD_CHUNKED);
				proxy_respond_error(p, x, 400);
				rc = -1;
			} else if (r == RELAY_TOO_LARGE) {
				proxy_respond_error(p, x, 413);
				rc = -1;
			} else if (r == RELAY_SINK_GONE) {
				upstream_lost(p, x, true);
				rc = -1;
			}
			break;
		}
		case RQ_ERROR:
			proxy_error_step(p, x);
			return false;
		default:
			break;
		}
		if (rc < 0)
			return false;
		if (rc == 0) {
			sn = cur(x);
			switch (sn->resp) {
			case RS_WAIT:
				rc = read_response(p, x);
				break;
			case RS_SEND_HEAD:
				rc = send_response_head(p, x);
				break;
			case RS_BODY: {
				enum relay_rc r = proxy_relay_body(p, x, 1, sn->up, x->cl);

				if (r == RELAY_DONE) {
					struct http_snap n = *cur(x);

					n.resp = RS_DONE;
					commit(x, &n);
					rc = 1;
				} else if (r == RELAY_BAD_CHUNKED) {
					/* malformed framing from the server: the head is out, so cut the exchange */
					count(p, HC_UP_BAD_CHUNKED);
					proxy_passive_fail(p, cur(x));
					proxy_abort_session(p, x, true);
					rc = -1;
				} else if (r != RELAY_WAIT) {
					count(p, r == RELAY_SINK_GONE ? HC_CLIENT_ABORTS : HC_UPSTREAM_ABORTS);
					proxy_abort_session(p, x, true);
					rc = -1;
				} else if (sn->up != TCP_NIL) {
					tcp_app_deadline(p->tcp, sn->up,
							 after(p, sn->read_ms));
				}
				break;
			}
			default:
				break;
			}
			if (rc < 0)
				return false;
		}
		sn = cur(x);
		if (sn->req == RQ_DONE && sn->resp == RS_DONE) {
			end_session(p, x);
			return false;
		}
		if (rc == 0)
			return true;
	}
	return true;
}

/* --- events ------------------------------------------------------------------------------ */

/* An http client stream: requests one after the other (pipelined ones wait in the queue). */
static void client_step(struct proxy *p, uint32_t c)
{
	for (int guard = 0; guard < 32; guard++) {
		struct http_sess *x = proxy_sess_of(p, c);

		if (tcp_app(p->tcp, c) != TAPP_HTTP || tcp_state(p->tcp, c) == TCP_CLOSED)
			return;
		if (x == NULL) {
			if (sio_recv_avail(p->tcp, c) == 0) {
				if (sio_peer_closed(p->tcp, c) || p->tcp->draining)
					proxy_close_client(p, c);   /* gone, or idle while the gateway stops */
				else
					tcp_app_deadline(p->tcp, c, after(p, p->conf->http.idle_timeout_ms));
				return;
			}
			x = proxy_sess_new(p, c, HS_HTTP);
			if (x == NULL) {
				int len = h1_error_response(503, p->out, 512);

				count(p, HC_NO_SESSION);
				count(p, HC_ERR_503);
				if (len > 0)
					sio_send(p->tcp, c, p->out, (uint32_t)len);
				proxy_close_client(p, c);
				return;
			}
			tcp_app_deadline(p->tcp, c, after(p, p->conf->http.header_timeout_ms));
		}
		if (proxy_advance(p, x))
			return;
		/* the exchange ended: a keep-alive client may have the next request queued */
	}
}

static void client_event(struct proxy *p, uint32_t c, uint32_t ev)
{
	struct http_sess *x = proxy_sess_of(p, c);

	if (x && (ev & TEV_APP_CLOSED) && !(ev & TEV_APP_RESET) && proxy_tunnel_closed(p, x))
		return;
	if (ev & (TEV_APP_RESET | TEV_APP_CLOSED)) {
		if (x) {
			count(p, HC_CLIENT_ABORTS);
			x->cl = c;
			proxy_abort_session(p, x, false);
		}
		return;
	}
	if (ev & TEV_APP_TIMEOUT) {
		if (x == NULL) {
			proxy_close_client(p, c);   /* keep-alive idle timeout */
			return;
		}
		if (cur(x)->req == RQ_HEAD) {
			proxy_respond_error(p, x, 408);
			return;
		}
		if (cur(x)->req == RQ_ERROR) {
			proxy_sess_free(p, x);
			proxy_kill_stream(p, c);
			return;
		}
	}
	client_step(p, c);
}

/* A tcp pass-through client. */
static void splice_event(struct proxy *p, uint32_t c, uint32_t ev)
{
	struct http_sess *x = proxy_sess_of(p, c);

	if (x && (ev & TEV_APP_CLOSED) && !(ev & TEV_APP_RESET) && proxy_tunnel_closed(p, x))
		return;
	if (ev & (TEV_APP_RESET | TEV_APP_CLOSED)) {
		if (x)
			proxy_abort_session(p, x, false);
		return;
	}
	if (x == NULL) {
		if (proxy_splice_upstream(p, c) < 0 || (x = proxy_sess_new(p, c, HS_TUNNEL)) == NULL) {
			count(p, HC_NO_SESSION);
			proxy_kill_stream(p, c);
			return;
		}
		count(p, HC_TUNNELS);
		proxy_count_listener(p, c);
		snprintf(x->path, sizeof(x->path), ":%u", tcp_lport(p->tcp, c));
	}
	proxy_advance(p, x);   /* connects first (check_upstream) */
}

static void up_event(struct proxy *p, uint32_t u, uint32_t ev)
{
	uint32_t i = tcp_app_arg(p->tcp, u);
	struct http_sess *x = i < p->a->max_sessions ? &p->sess[i] : NULL;
	struct http_snap n;

	if (x == NULL || x->kind == HS_FREE || cur(x)->up != u) {
		/* a stream no session owns */
		if (!(ev & (TEV_APP_RESET | TEV_APP_CLOSED)))
			proxy_kill_stream(p, u);
		return;
	}
	if ((ev & TEV_APP_CLOSED) && !(ev & TEV_APP_RESET) && proxy_tunnel_closed(p, x))
		return;
	if (ev & (TEV_APP_RESET | TEV_APP_CLOSED)) {
		/* the stream is gone after this event */
		n = *cur(x);
		proxy_release_slot(p, &n);
		n.up = TCP_NIL;
		commit(x, &n);
		if (x->kind == HS_TUNNEL || (n.sflags & TUNNEL)) {
			proxy_abort_session(p, x, true);
			return;
		}
		upstream_lost(p, x, (ev & TEV_APP_RESET) != 0);
		if (x->kind != HS_FREE && proxy_sess_of(p, x->cl) == x)
			proxy_advance(p, x);
		return;
	}
	if (ev & TEV_APP_TIMEOUT) {
		n = *cur(x);
		if (n.req == RQ_CONNECT) {
			/* connect timeout */
			count(p, HC_UP_CONNECT_FAIL);
			proxy_passive_fail(p, &n);
			proxy_release_slot(p, &n);
			n.up = TCP_NIL;
			commit(x, &n);
			proxy_kill_stream(p, u);   /* doomed: its index is not reused inside this event */
			proxy_retry_or_error(p, x, 504, false);
			if (x->kind != HS_FREE && proxy_sess_of(p, x->cl) == x)
				proxy_advance(p, x);
			return;
		}
		if (n.resp == RS_WAIT && x->kind == HS_HTTP) {
			if (n.req == RQ_BODY && sio_send_space(p->tcp, u) > 0) {
				/* the client stopped sending its body: not the server's fault */
				proxy_respond_error(p, x, 408);
				return;
			}
			proxy_passive_fail(p, &n);   /* the server did not read, or did not answer */
			proxy_respond_error(p, x, 504);
			return;
		}
		count(p, HC_UPSTREAM_ABORTS);
		proxy_abort_session(p, x, true);
		return;
	}
	/* CONNECTED is found by proxy_advance() (level-triggered, also after a restart) */
	if (x->kind == HS_TUNNEL) {
		proxy_advance(p, x);
		return;
	}
	if (proxy_advance(p, x))
		return;
	/* the exchange ended inside the upstream's event: the client may have more queued */
	if (tcp_app(p->tcp, x->cl) == TAPP_HTTP)
		client_step(p, x->cl);
}

static void linger_event(struct proxy *p, uint32_t s, uint32_t ev)
{
	if (ev & (TEV_APP_RESET | TEV_APP_CLOSED))
		return;
	if (ev & TEV_APP_TIMEOUT) {
		uint32_t una = tcp_snd_una(p->tcp, s);

		if (tcp_app_slot(p->tcp, s) == 0 && !tcp_all_acked(p->tcp, s) && una != tcp_app_arg(p->tcp, s) &&
		    tcp_state(p->tcp, s) != TCP_SYN_RECEIVED) {
			/* the peer is still taking the response in: give it more time
			 * (TCP's own retransmission limit ends a dead peer) */
			tcp_set_app_arg(p->tcp, s, una);
			tcp_app_deadline(p->tcp, s, after(p, LINGER_MS));
			return;
		}
		tcp_abort(p->tcp, s);   /* own timer event */
		return;
	}
	sio_recv(p->tcp, s, NULL, sio_recv_avail(p->tcp, s));
	if (tcp_state(p->tcp, s) == TCP_TIME_WAIT && sio_recv_avail(p->tcp, s) == 0)
		sio_close(p->tcp, s);   /* drained after the peer's FIN: let go (a TLS session ends now) */
}

void proxy_app_event(struct tcp_ctx *c, uint32_t s, uint32_t ev)
{
	struct proxy *p = c->app;

	if (p == NULL)
		return;
	switch (tcp_app(c, s)) {
	case TAPP_HTTP:
		client_event(p, s, ev);
		break;
	case TAPP_HTTP_UP:
	case TAPP_SPLICE_UP:
		up_event(p, s, ev);
		break;
	case TAPP_HTTP_POOL:
		proxy_pool_event(p, s, ev);
		break;
	case TAPP_HTTP_LINGER:
		linger_event(p, s, ev);
		break;
	case TAPP_SPLICE:
		splice_event(p, s, ev);
		break;
	case TAPP_HEALTH:
		proxy_health_event(p, s, ev);
		break;
	default:
		break;
	}
}
