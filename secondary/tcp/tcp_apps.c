/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Built-in services, enabled per listener in the config: echo (RFC 862),
 * discard (RFC 863) and source (a deterministic byte pattern a client can
 * verify: byte i of the stream is tcp_source_byte(i)). The dispatch is a
 * switch on the TCB's app kind, so a new binary can take over the streams.
 */
#include <string.h>

#include "secondary/tcp/tcp_priv.h"

#define APP_CHUNK 16384

static uint64_t app_arg(const struct tcp_tcb *t)
{
	return (uint64_t)t->app_arg_hi << 32 | t->app_arg_lo;
}


/*
 * Echo: everything read is written back; the FIN is echoed once all data is.
 * Bytes are copied to the send queue first and consumed after (as the proxy
 * relays), and the stream's own positions say how far each got: a worker
 * killed in between leaves more written than read, and its successor
 * consumes the difference instead of losing or repeating bytes.
 */
static void echo_event(struct tcp_ctx *c, uint32_t s, uint32_t ev)
{
	struct tcp_tcb *t = &c->tcbs[s];
	uint8_t buf[APP_CHUNK];

	(void)ev;
	for (;;) {
		uint32_t ahead = tcp_write_pos(c, s) - tcp_read_pos(c, s);
		uint32_t n = tcp_recv_avail(c, s), space = tcp_send_space(c, s);
		int sent;

		if ((int32_t)ahead > 0) {
			/* written by a predecessor, not consumed */
			if (tcp_recv(c, s, NULL, ahead) == 0)
				break;
			continue;
		}
		if (n > space)
			n = space;
		if (n > sizeof(buf))
			n = sizeof(buf);
		if (n == 0)
			break;
		n = tcp_peek(c, s, 0, buf, n);
		sent = tcp_send(c, s, buf, n);
		if (sent <= 0)
			break;
		CRASH_POINT("tcp_apps.echo_sent");
		tcp_recv(c, s, NULL, (uint32_t)sent);
	}
	if ((t->flags & TF(RCVD_FIN)) && t->rcv_bytes == 0 && t->state == TCP_CLOSE_WAIT)
		tcp_shutdown(c, s);
}

/* Discard: read and drop; close when the peer does. */
static void discard_event(struct tcp_ctx *c, uint32_t s, uint32_t ev)
{
	struct tcp_tcb *t = &c->tcbs[s];

	(void)ev;
	tcp_recv(c, s, NULL, t->rcv_bytes);
	if ((t->flags & TF(RCVD_FIN)) && t->state == TCP_CLOSE_WAIT)
		tcp_shutdown(c, s);
}

/*
 * Bytes the application has queued on stream T so far, derived from the
 * sequence space (data end - ISS - 1) rather than kept beside it, so a worker
 * killed between tcp_send() and any bookkeeping of its own cannot make the
 * next one repeat or skip bytes. app_arg_hi counts wraps of the 32-bit value.
 */
static uint64_t queued_so_far(struct tcp_tcb *t)
{
	uint32_t low = tcp_snd_end(t) - t->iss - 1;

	if (low < t->app_arg_lo)
		t->app_arg_hi++;
	t->app_arg_lo = low;
	return app_arg(t);
}

/* Source: write the pattern until the listener's byte count (or until the peer closes). */
static void source_event(struct tcp_ctx *c, uint32_t s, uint32_t ev)
{
	struct tcp_tcb *t = &c->tcbs[s];
	const struct porter_listener *l = tcp_listener(c, t->lport);
	uint64_t limit = l ? l->arg : 0, off;
	uint8_t buf[APP_CHUNK];

	(void)ev;
	tcp_recv(c, s, NULL, t->rcv_bytes);   /* input is ignored */
	if (t->flags & TF(RCVD_FIN)) {
		if (t->state == TCP_CLOSE_WAIT)
			tcp_shutdown(c, s);
		return;
	}
	if (t->state != TCP_ESTABLISHED || (t->flags & TF(FIN_QUEUED)))
		return;
	off = queued_so_far(t);
	for (;;) {
		uint32_t n = tcp_send_space(c, s);
		int sent;

		if (limit && off >= limit)
			break;
		if (n > sizeof(buf))
			n = sizeof(buf);
		if (limit && n > limit - off)
			n = (uint32_t)(limit - off);
		if (n == 0)
			break;
		for (uint32_t i = 0; i < n; i++)
			buf[i] = tcp_source_byte(off + i);
		sent = tcp_send(c, s, buf, n);
		if (sent <= 0)
			break;
		off = queued_so_far(t);
	}
	if (limit && off >= limit)
		tcp_shutdown(c, s);
}

/*
 * An event for stream S: the built-in services are served here; every other
 * kind (the proxy's, a test's) goes to the environment (tcp_env.h
 * tcp_env_app_event): the worker's dispatch, the unit harness, the load
 * generator. No weak symbol, no test branch in the stack.
 */
void tcp_app_event(struct tcp_ctx *c, uint32_t s, uint32_t ev)
{
	switch ((enum tcp_app)c->tcbs[s].app) {
	case TAPP_ECHO:
	case TAPP_DISCARD:
	case TAPP_SOURCE:
		if (ev & (TEV_APP_RESET | TEV_APP_CLOSED))
			return;   /* the built-in services keep no state beyond the TCB */
		if (c->tcbs[s].app == TAPP_ECHO)
			echo_event(c, s, ev);
		else if (c->tcbs[s].app == TAPP_DISCARD)
			discard_event(c, s, ev);
		else
			source_event(c, s, ev);
		return;
	case TAPP_NONE:
		return;
	default:
		tcp_env_app_event(c, s, ev);
		return;
	}
}
