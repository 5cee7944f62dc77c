/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stream API for the worker's applications (RFC 9293 §3.10 user calls:
 * OPEN, SEND, RECEIVE, CLOSE, ABORT). Calls made while the stack delivers an
 * event to the same stream do not send by themselves: the stack sends once
 * the event returns.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "secondary/tcp/tcp_priv.h"
#include "shm/hash.h"
#include "shm/route.h"

static void kick(struct tcp_ctx *c, struct tcp_tcb *t)
{
	if (c->in_event != tcb_idx(c, t))
		tcp_output_later(c, t);
}

/* A local port in the ephemeral range whose flow steers back to this shard (DESIGN §4). */
static int pick_port(struct tcp_ctx *c, uint32_t laddr, uint32_t raddr, uint16_t rport)
{
	uint32_t lo = c->prm->ephemeral_lo, hi = c->prm->ephemeral_hi, span = hi - lo + 1;
	uint32_t p = c->area->ephemeral_next;

	for (uint32_t i = 0; i < span; i++, p++) {
		if (p < lo || p > hi)
			p = lo;
		uint32_t h = porter_flow_hash(c->rss_key, raddr, laddr, rport, (uint16_t)p);

		if (porter_reta_lookup(c->reta, h) != c->shard)
			continue;
		if (tcb_lookup(c, laddr, (uint16_t)p, raddr, rport))
			continue;
		c->area->ephemeral_next = p + 1;
		return (int)p;
	}
	return -1;
}

uint32_t tcp_connect(struct tcp_ctx *c, uint32_t raddr, uint16_t rport, enum tcp_app app, int *err)
{
	struct porter_hop hop;
	unsigned int port;
	uint32_t laddr;
	struct tcp_tcb *t;
	int lport;

	/* the port (and so the source address) by the destination, not by
	 * whoever asked for the connection: the primary sends the stream's
	 * frames out of t->port and resolves the next hop by the same rule */
	if (porter_route_lookup(c->ports, c->nports, c->routes, raddr, PORTER_ROUTE_ANY_PORT, &hop) != 0) {
		*err = -ENETUNREACH;
		return TCP_NIL;
	}
	port = hop.port;
	laddr = c->ports[port].ipv4;
	lport = pick_port(c, laddr, raddr, rport);
	if (lport < 0) {
		*err = -EAGAIN;
		return TCP_NIL;
	}
	t = tcb_alloc(c);
	if (t == NULL) {
		*err = -ENOMEM;
		return TCP_NIL;
	}
	tcb_init_common(c, t);
	t->laddr = laddr;
	t->raddr = raddr;
	t->lport = (uint16_t)lport;
	t->rport = rport;
	t->port = (uint8_t)port;
	t->app = (uint8_t)app;
	t->mss = tcp_our_mss(c, port);
	t->iss = tcp_isn(c->area->isn_key, laddr, t->lport, raddr, rport, c->now_us);
	t->snd_una = t->snd_nxt = t->snd_max = t->iss;
	t->recover = t->iss;   /* RFC 6582 §3.2: recover starts at the ISS */
	t->rtt_start_ms = c->now_ms;
	/* the window scale we offer in our SYN (RFC 7323 §2.2) */
	if (c->prm->window_scaling)
		while (t->rcv_wscale < TCP_MAX_WSCALE && (c->prm->rcv_buf >> t->rcv_wscale) > 65535)
			t->rcv_wscale++;
	if (c->prm->ecn == PORTER_ECN_ON)
		t->flags |= TF(ECN);   /* an ECN-setup SYN (RFC 3168 §6.1.1); the SYN-ACK confirms or clears */
	t->state = TCP_SYN_SENT;
	CRASH_POINT("tcp_api.connect_state");
	tcb_hash_insert(c, t);
	tcp_count(c, TEV_ACTIVE_OPENS);
	tcp_output(c, t);
	*err = 0;
	return tcb_idx(c, t);
}

uint32_t tcp_send_space(const struct tcp_ctx *c, uint32_t s)
{
	const struct tcp_tcb *t = &c->tcbs[s];

	uint32_t buf = tcp_rate_window(t, c->prm->snd_buf);

	return t->snd_bytes < buf ? buf - t->snd_bytes : 0;
}

int tcp_send(struct tcp_ctx *c, uint32_t s, const void *data, uint32_t len)
{
	struct tcp_tcb *t = &c->tcbs[s];
	const uint8_t *p = data;
	uint32_t space = tcp_send_space(c, s), done = 0;

	if (t->state != TCP_ESTABLISHED && t->state != TCP_CLOSE_WAIT)
		return t->state == TCP_SYN_SENT || t->state == TCP_SYN_RECEIVED ? -ENOTCONN : -EPIPE;
	if (t->flags & TF(FIN_QUEUED))
		return -EPIPE;
	if (len > space)
		len = space;
	tcp_touch(c, t);
	while (done < len) {
		struct rte_mbuf *m = t->snd_tail;
		uint32_t room = 0, n;

		/* coalesce into the tail segment while it is unsent and below one MSS */
		if (m && !(seg_flags(m) & SEG_SENT) && seg_len(m) < t->mss) {
			room = t->mss - seg_len(m);
			if (room > rte_pktmbuf_tailroom(m))
				room = rte_pktmbuf_tailroom(m);
		}
		if (room == 0) {
			m = tcp_env_alloc_queued(c);
			if (m == NULL) {
				tcp_count_drop(c, TDROP_NOMBUF);
				break;
			}
			seg_set_seq(m, tcp_snd_end(t));
			seg_set_flags(m, 0);
			m->next = NULL;
			if (t->snd_tail)
				t->snd_tail->next = m;
			else
				t->snd_head = m;
			CRASH_POINT("tcp_api.send_linked");
			t->snd_tail = m;
			room = t->mss < rte_pktmbuf_tailroom(m) ? t->mss : rte_pktmbuf_tailroom(m);
		}
		n = len - done < room ? len - done : room;
		/* bytes first, length after: a worker killed in between leaves the
		 * queue as it was, never with garbage counted as data */
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len), p + done, n);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		CRASH_POINT("tcp_api.send_copied");
		rte_pktmbuf_append(m, (uint16_t)n);
		CRASH_POINT("tcp_api.send_appended");
		done += n;
		t->snd_bytes += n;
	}
	if (done)
		kick(c, t);
	return done ? (int)done : (len ? -ENOMEM : 0);
}

uint32_t tcp_recv(struct tcp_ctx *c, uint32_t s, void *buf, uint32_t len)
{
	struct tcp_tcb *t = &c->tcbs[s];
	uint32_t done = 0, before = tcp_rcv_window(c, t);

	if (t->rcv_head)
		tcp_touch(c, t);

	while (done < len && t->rcv_head) {
		struct rte_mbuf *m = t->rcv_head;
		uint32_t n = seg_len(m);

		if (n > len - done)
			n = len - done;
		if (buf)
			memcpy((uint8_t *)buf + done, rte_pktmbuf_mtod(m, const uint8_t *), n);
		done += n;
		t->rcv_bytes -= n;
		CRASH_POINT("tcp_api.recv_counted");
		if (n == seg_len(m)) {
			tcp_env_free(c, tcp_q_pop(c, &t->rcv_head));
		} else {
			tcp_env_trim(c, m, n);   /* queued data keeps its sequence numbers */
		}
	}
	if (t->rcv_head == NULL)
		t->rcv_tail = NULL;
	/*
	 * Window update (RFC 9293 §3.8.6.2.2) only when it matters to the peer:
	 * the window it knows of (up to RCV.ADV) is low (under an eighth of the
	 * buffer, or two segments) and we could now offer at least twice that,
	 * an MSS more. Reading what just arrived from a peer that has plenty of
	 * window left sends nothing (the next ACK carries the new edge).
	 */
	(void)before;
	if (done && t->state != TCP_TIME_WAIT) {
		uint32_t after = tcp_rcv_window(c, t);
		uint32_t known = seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
		uint32_t low = c->prm->rcv_buf / 8 > 2u * t->mss ? c->prm->rcv_buf / 8 : 2u * t->mss;

		if (known < low && after >= 2 * known && after - known >= t->mss) {
			t->flags |= TF(ACK_NOW);
			kick(c, t);
		}
	}
	return done;
}

int tcp_shutdown(struct tcp_ctx *c, uint32_t s)
{
	struct tcp_tcb *t = &c->tcbs[s];

	tcp_touch(c, t);

	if (t->flags & TF(FIN_QUEUED))
		return 0;
	switch (t->state) {
	case TCP_SYN_SENT:
		tcp_stream_done(c, t, 0);   /* RFC 9293 §3.10.4: delete the TCB */
		return 0;
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		t->flags |= TF(FIN_QUEUED);
		CRASH_POINT("tcp_api.shutdown_flagged");
		tcp_set_state(c, t, TCP_FIN_WAIT_1);
		t->keep_at = 0;
		tcp_timer_update(c, t);
		break;
	case TCP_CLOSE_WAIT:
		t->flags |= TF(FIN_QUEUED);
		CRASH_POINT("tcp_api.shutdown_last_ack");
		tcp_set_state(c, t, TCP_LAST_ACK);
		break;
	default:
		return -ENOTCONN;
	}
	kick(c, t);
	return 0;
}

void tcp_close(struct tcp_ctx *c, uint32_t s)
{
	struct tcp_tcb *t = &c->tcbs[s];

	tcp_touch(c, t);

	t->flags |= TF(ORPHAN);
	CRASH_POINT("tcp_api.close_orphaned");
	t->app = TAPP_NONE;
	if (t->rcv_bytes) {
		/* RFC 1122 §4.2.2.13: closing with unread data resets */
		tcp_abort(c, s);
		return;
	}
	tcp_shutdown(c, s);
	if (t->state == TCP_FIN_WAIT_2 && c->prm->fin_wait2_ms) {
		t->keep_at = c->now_ms + c->prm->fin_wait2_ms;
		tcp_timer_update(c, t);
	}
}

void tcp_abort(struct tcp_ctx *c, uint32_t s)
{
	struct tcp_tcb *t = &c->tcbs[s];

	tcp_touch(c, t);

	switch (t->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSE_WAIT:
		tcp_send_rst(c, t);   /* RFC 9293 §3.10.5 */
		break;
	default:
		break;
	}
	t->app = TAPP_NONE;
	tcp_count(c, TEV_CLOSED);
	tcb_free(c, t);
}

/* None above the high-water mark is open (this worker keeps it: tcb_alloc). */
static uint32_t scan_end(const struct tcp_ctx *c)
{
	uint32_t hwm = c->area->hwm;

	return hwm <= c->area->max_streams ? hwm : c->area->max_streams;
}

uint32_t tcp_open_streams(const struct tcp_ctx *c)
{
	uint32_t n = 0, end = scan_end(c);

	for (uint32_t s = 0; s < end; s++) {
		uint8_t st = c->tcbs[s].state;

		/* FIN-WAIT-2: our FIN is acknowledged, the peer has all; waiting for its FIN would let
		 * one client that never closes hold a stop to its timeout */
		n += st != TCP_CLOSED && st != TCP_TIME_WAIT && st != TCP_FIN_WAIT_2;
	}
	return n;
}

void tcp_drain(struct tcp_ctx *c, bool reset)
{
	uint32_t end = scan_end(c);

	for (uint32_t s = 0; s < end; s++) {
		const struct tcp_tcb *t = &c->tcbs[s];

		if (t->state == TCP_CLOSED || t->state == TCP_TIME_WAIT)
			continue;
		if (reset)
			tcp_abort(c, s);
		else if (t->app < TAPP_DEADLINE_FIRST && t->app != TAPP_TEST &&
			 (t->state == TCP_ESTABLISHED || t->state == TCP_CLOSE_WAIT))
			tcp_shutdown(c, s);
	}
}

uint32_t tcp_read_pos(const struct tcp_ctx *c, uint32_t s)
{
	const struct tcp_tcb *t = &c->tcbs[s];

	return t->rcv_nxt - t->irs - 1 - t->rcv_bytes - ((t->flags & TF(RCVD_FIN)) ? 1 : 0);
}

uint32_t tcp_write_pos(const struct tcp_ctx *c, uint32_t s)
{
	const struct tcp_tcb *t = &c->tcbs[s];

	return tcp_snd_end(t) - t->iss - 1;
}

uint32_t tcp_peek(const struct tcp_ctx *c, uint32_t s, uint32_t off, void *buf, uint32_t len)
{
	const struct tcp_tcb *t = &c->tcbs[s];
	uint32_t done = 0;

	for (const struct rte_mbuf *m = t->rcv_head; m && done < len; m = m->next) {
		uint32_t n = seg_len(m);

		if (off >= n) {
			off -= n;
			continue;
		}
		n -= off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n);
		done += n;
		off = 0;
	}
	return done;
}

const uint8_t *tcp_peek_contig(const struct tcp_ctx *c, uint32_t s, uint32_t *len)
{
	const struct tcp_tcb *t = &c->tcbs[s];

	if (t->rcv_head == NULL) {
		*len = 0;
		return NULL;
	}
	*len = seg_len(t->rcv_head);
	return rte_pktmbuf_mtod(t->rcv_head, const uint8_t *);
}

void tcp_app_deadline(struct tcp_ctx *c, uint32_t s, uint32_t at_ms)
{
	struct tcp_tcb *t = &c->tcbs[s];

	if (t->app_arg_hi == at_ms)
		return;
	t->app_arg_hi = at_ms;
	tcp_timer_update(c, t);
}

static void fmt_ip(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

static const char *const app_names[TAPP__COUNT] = {
	"none", "echo", "discard", "source", "test", "http", "http-upstream", "http-pool", "http-linger",
	"tcp", "tcp-upstream", "health-check",
};

/* One JSON object per live stream, comma-separated, for porterctl streams. */
/* Milliseconds from AT to the context's clock (0 if AT is ahead of a clock read earlier). */
static uint32_t ms_since(const struct tcp_ctx *c, uint32_t at)
{
	int32_t d = (int32_t)(c->now_ms - at);

	return d > 0 ? (uint32_t)d : 0;
}

unsigned long tcp_dump_streams(const struct tcp_ctx *c, FILE *f, unsigned int shard)
{
	unsigned long n = 0;

	for (uint32_t i = 0; i < c->area->hwm; i++) {   /* none above is open */
		const struct tcp_tcb *t = &c->tcbs[i];
		char l[16], r[16];

		if (t->state == TCP_CLOSED)
			continue;
		fmt_ip(t->laddr, l);
		fmt_ip(t->raddr, r);
		fprintf(f, "%s{\"shard\":%u,\"id\":%u,\"local\":\"%s:%u\",\"remote\":\"%s:%u\","
			"\"state\":\"%s\",\"app\":\"%s\",\"srtt_us\":%u,\"rttvar_us\":%u,\"rto_ms\":%u,"
			"\"cwnd\":%u,\"ssthresh\":%u,\"mss\":%u,\"snd_wnd\":%u,\"in_flight\":%u,"
			"\"retransmits\":%u,\"bytes_in\":%lu,\"bytes_out\":%lu,\"snd_queued\":%u,"
			"\"rcv_queued\":%u,\"sack\":%s,\"timestamps\":%s,\"wscale\":[%u,%u],"
			"\"snd_una\":%u,\"snd_nxt\":%u,\"rcv_nxt\":%u,\"rcv_wnd\":%u,\"age_ms\":%u,"
			"\"zero_window_ms\":%u,\"peer_mss\":%u,\"min_rtt_us\":%u}",
			n ? ",\n" : "", shard, i, l, t->lport, r, t->rport, tcp_state_name(t->state),
			t->app < TAPP__COUNT ? app_names[t->app] : "?", t->srtt_us, t->rttvar_us, t->rto_ms,
			t->cc.cwnd, t->cc.ssthresh, t->mss, t->snd_wnd, t->snd_max - t->snd_una,
			t->retransmits, (unsigned long)t->bytes_in, (unsigned long)t->bytes_out,
			t->snd_bytes, t->rcv_bytes, (t->flags & TF(SACK_OK)) ? "true" : "false",
			(t->flags & TF(TS_OK)) ? "true" : "false", t->snd_wscale, t->rcv_wscale,
			t->snd_una, t->snd_nxt, t->rcv_nxt, t->rcv_adv - t->rcv_nxt, ms_since(c, t->born_ms),
			t->zwnd_since_ms ? ms_since(c, t->zwnd_since_ms) : 0, t->peer_mss, t->min_rtt_us);
		n++;
	}
	return n;
}
