/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RQ_ERROR: the answers porter gives itself instead of a server's. An error
 * (4xx/5xx) is planned in the snapshot, sent, and the client closed; a 429
 * (client_limits.http_req_rate) or an answer to OPTIONS/TRACE with
 * Max-Forwards: 0 may leave a keep-alive connection to its next request.
 */

#include "secondary/http/proxy_priv.h"

static enum http_count err_counter(unsigned int status)
{
	switch (status) {
	case 400: return HC_ERR_400;
	case 404: return HC_ERR_404;
	case 408: return HC_ERR_408;
	case 413: return HC_ERR_413;
	case 414: return HC_ERR_414;
	case 429: return HC_ERR_429;
	case 431: return HC_ERR_431;
	case 501: return HC_ERR_501;
	case 503: return HC_ERR_503;
	case 504: return HC_ERR_504;
	case 505: return HC_ERR_505;
	default: return HC_ERR_502;
	}
}

/* Answers planned by proxy_answer_here(): the connection may stay open after them. */
static bool local_answer(unsigned int status)
{
	return status == 429 || status == 200 || status == 405;
}

/*
 * RQ_ERROR: send the error response planned in the snapshot, then close the
 * client; but an answer planned by proxy_answer_here() with KA_PROMISED (a request
 * that ended with its head, on a connection that may persist) consumes the
 * request's head instead and leaves the connection to the next request.
 */
void proxy_error_step(struct proxy *p, struct http_sess *x)
{
	const struct http_snap *sn = cur(x);
	uint32_t c = x->cl;
	bool keep = local_answer(sn->status) && (sn->sflags & KA_PROMISED);

	if (!proxy_head_sent(p, x, 1, c)) {
		int len = local_answer(sn->status)
				  ? h1_local_answer(sn->status, (uint32_t)sn->r.len, keep, sn->minor,
						    sn->method == H1_M_HEAD, p->out, 512)
			  : sn->method == H1_M_HEAD ? h1_error_response_head(sn->status, p->out, 512)
			  : h1_error_response(sn->status, p->out, 512);
		int rc = len < 0 ? -1 : proxy_send_planned(p, x, 1, c, p->out, (uint32_t)len);

		if (rc == 0) {
			tcp_app_deadline(p->tcp, c, after(p, LINGER_MS));
			return;   /* wait for room (WRITABLE) */
		}
	}
	proxy_access_log(p, x, sn->status);
	if (keep) {
		/* by position, so a successor that finds it done does nothing */
		proxy_consume_to(p, c, sn->q.rbase + sn->q.hlen);
		proxy_sess_free(p, x);
		return;
	}
	proxy_close_client(p, c);   /* first: a successor must not read the rest as a new request */
	proxy_sess_free(p, x);
}

/* Answer STATUS and close the client (nothing was sent to it yet). */
void proxy_respond_error(struct proxy *p, struct http_sess *x, unsigned int status)
{
	struct http_snap n = *cur(x);

	count(p, err_counter(status));
	if (n.resp != RS_WAIT || x->kind == HS_TUNNEL) {
		/* the client already has part of a response (or is a tunnel) */
		proxy_abort_session(p, x, true);
		return;
	}
	if (n.up != TCP_NIL) {
		proxy_release_slot(p, &n);
		proxy_kill_stream(p, n.up);
		n.up = TCP_NIL;
	}
	n.req = RQ_ERROR;
	n.status = (uint16_t)status;
	n.r.wbase = sio_write_pos(p->tcp, x->cl);
	n.r.hout = 0;
	commit(x, &n);
	proxy_error_step(p, x);
}

/*
 * porter answers the request itself (STATUS, see h1_local_answer()): 429 with
 * Retry-After: ARG when the client's address has no request token left
 * (client_limits.http_req_rate); 200 to OPTIONS and 405 to TRACE with
 * Max-Forwards: 0. A request without a body on a connection that may persist
 * leaves the connection usable (the head is consumed, the next request is
 * read); with a body, porter does not read what it would not forward, so the
 * connection closes after the answer as for the errors.
 */
void proxy_answer_here(struct proxy *p, struct http_sess *x, unsigned int status, uint32_t arg)
{
	struct http_snap n = *cur(x);

	count(p, status == 429 ? HC_ERR_429 : HC_MAX_FORWARDS_0);
	n.req = RQ_ERROR;
	n.status = (uint16_t)status;
	n.r.wbase = sio_write_pos(p->tcp, x->cl);
	n.r.hout = 0;
	n.r.len = arg;    /* the answer is planned whole: a successor writes the same bytes */
	if (n.q.kind == H1_BODY_NONE && (n.rflags & H1F_KEEP_ALIVE) && !sio_peer_closed(p->tcp, x->cl) &&
	    !p->tcp->draining)
		n.sflags |= KA_PROMISED;
	commit(x, &n);
	proxy_error_step(p, x);
}
