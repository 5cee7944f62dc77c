/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client_limits in the stack: what one client address may open (docs/CONFIG.md).
 *
 * Who counts. An address is only what a completed handshake proves: a SYN's
 * source address may be anyone's. So a stream is counted when its handshake
 * completes (SYN-RECEIVED -> ESTABLISHED, or a SYN cookie's ACK), and that is
 * also when the address's connection bucket gives a token; a SYN only looks
 * (tcp_climit_syn: finds, never makes an entry). A flood of SYNs spoofing
 * address A therefore neither counts against A nor drains A's bucket nor
 * churns the table: half-open streams are the SYN backlog's business
 * (tcp.syn_backlog, then cookies).
 *
 * Where it refuses. At the SYN, before a TCB or a cookie exists, when the
 * address already holds max_conns streams or its bucket is empty: the SYN is
 * answered with a RST (RFC 9293 §3.10.7.1's reply to a segment for no
 * connection), so the client's connect() fails at once with "connection
 * refused" rather than retransmitting its SYN for seconds, and a client never
 * holds a cookie the limits would refuse. Handshakes of one address that were
 * in flight together all passed their SYN's look; the ones that complete past
 * the limit get a RST for their ACK (<SEQ=SEG.ACK><CTL=RST>) and the stream
 * goes before its application heard of it.
 *
 * The counts. The table (climit.h) is the worker's private memory; what is
 * shared is one flag per TCB, TF_CLIMIT: "this stream is one of its address's
 * counted streams", from its handshake (on a listener whose limits apply,
 * porter_listener.no_climit 0) until it is freed, whatever frees it (FIN, RST,
 * a timeout, an abort, recovery's reset, a TIME-WAIT reclaim), or until it
 * enters TIME-WAIT: a TIME-WAIT stream holds no application state and is ended
 * early when the slab runs short, so it takes nothing a limit protects. So the
 * counts are a function of the TCB array:
 *
 *   conns(addr) = #{ t : t.raddr = addr, TF_CLIMIT, state not CLOSED nor TIME-WAIT }
 *
 * and a new worker rebuilds them from it (tcp_climit_recount, at the end of
 * tcp_rebuild); nothing about them needs crash care (a kill between a count
 * and its flag loses the count with the table). Buckets are not in the TCBs:
 * a new worker starts every address's buckets full.
 */
#include <stdlib.h>

#include "secondary/tcp/tcp_priv.h"

static uint64_t now_ns(const struct tcp_ctx *c)
{
	return c->now_us * 1000;
}

int tcp_climit_init(struct tcp_ctx *c, uint32_t entries)
{
	int rc;

	if (entries == 0)
		return 0;
	c->climit = calloc(1, sizeof(*c->climit));
	if (c->climit == NULL)
		return -ENOMEM;
	rc = climit_init(c->climit, entries);
	if (rc < 0) {
		free(c->climit);
		c->climit = NULL;
	}
	return rc;
}

void tcp_climit_release(struct tcp_ctx *c)
{
	if (c->climit == NULL)
		return;
	climit_free(c->climit);
	free(c->climit);
	c->climit = NULL;
}

void tcp_climit_set(struct tcp_ctx *c, const struct climit_params *p)
{
	if (c->climit != NULL)
		climit_set(c->climit, p);
}

/* The entry of ADDR, made if need be; the area's counters say what it cost. */
static struct climit_entry *entry(struct tcp_ctx *c, uint32_t addr)
{
	enum climit_room room;
	struct climit_entry *e = climit_get(c->climit, addr, now_ns(c), &room);

	if (room == CLIMIT_EVICTED)
		c->area->client_evictions++;
	else if (room == CLIMIT_NEW)
		c->area->client_table_used = c->climit->used;
	return e;
}

enum tcp_drop tcp_climit_syn(struct tcp_ctx *c, uint32_t addr)
{
	const struct climit *t = c->climit;
	const struct climit_entry *e;

	if (t == NULL || (t->prm.max_conns == 0 && t->prm.conn_rate == 0))
		return TDROP_NONE;
	/* looked up, never made: a SYN proves nothing about its source address */
	e = climit_find(c->climit, addr);
	if (e == NULL)
		return TDROP_NONE;
	if (t->prm.max_conns && e->conns >= t->prm.max_conns)
		return TDROP_CLIENT_CONNS;
	if (!climit_ready(e->conn_tat, &t->conn, now_ns(c)))
		return TDROP_CLIENT_RATE;
	return TDROP_NONE;
}

enum tcp_drop tcp_climit_admit(struct tcp_ctx *c, uint32_t addr, uint16_t lport, bool *counted)
{
	const struct porter_listener *l;
	struct climit *t = c->climit;
	struct climit_entry *e;

	*counted = false;
	if (t == NULL || ((l = tcp_listener(c, lport)) != NULL && l->no_climit))
		return TDROP_NONE;
	e = entry(c, addr);
	if (e == NULL) {
		c->area->client_untracked++;   /* no room: not limited */
		return TDROP_NONE;
	}
	if (t->prm.max_conns && e->conns >= t->prm.max_conns)
		return TDROP_CLIENT_CONNS;
	if (!climit_take(&e->conn_tat, &t->conn, now_ns(c), NULL))
		return TDROP_CLIENT_RATE;
	e->conns++;
	*counted = true;
	return TDROP_NONE;
}

void tcp_climit_uncount(struct tcp_ctx *c, uint32_t addr)
{
	struct climit_entry *e = c->climit ? climit_find(c->climit, addr) : NULL;

	if (e != NULL && e->conns > 0)
		e->conns--;
	/* else: a count that was never made (tcp_check finds such) */
}

void tcp_climit_closed(struct tcp_ctx *c, struct tcp_tcb *t)
{
	t->flags &= ~TF(CLIMIT);
	tcp_climit_uncount(c, t->raddr);
}

bool tcp_climit_request(struct tcp_ctx *c, uint32_t addr, uint32_t *retry_s)
{
	struct climit *t = c->climit;
	struct climit_entry *e;
	uint64_t wait = 0;

	if (t == NULL || t->prm.req_rate == 0)
		return true;
	e = entry(c, addr);
	if (e == NULL || climit_take(&e->req_tat, &t->req, now_ns(c), &wait))
		return true;
	if (retry_s != NULL) {   /* whole seconds until a token, at least 1 (RFC 9110 §10.2.3) */
		*retry_s = (uint32_t)((wait + CLIMIT_NS - 1) / CLIMIT_NS);
		if (*retry_s == 0)
			*retry_s = 1;
	}
	return false;
}

void tcp_climit_recount(struct tcp_ctx *c)
{
	if (c->climit == NULL)
		return;
	if (c->climit->used)   /* (a new table, at attach, holds nothing: not a page touched) */
		climit_clear_conns(c->climit);
	/* TCBs from the high-water mark up were never handed out since the rebuild */
	for (uint32_t i = 0; i < c->area->hwm && i < c->area->max_streams; i++) {
		struct tcp_tcb *t = &c->tcbs[i];

		if (!(t->flags & TF(CLIMIT)))
			continue;
		t->flags &= ~TF(CLIMIT);
		if (t->state != TCP_CLOSED && t->state != TCP_TIME_WAIT) {
			struct climit_entry *e = entry(c, t->raddr);

			if (e == NULL) {
				c->area->client_untracked++;   /* no room in the new table (another key) */
				continue;
			}
			e->conns++;
			t->flags |= TF(CLIMIT);
		}
	}
	c->area->client_table_size = c->climit->sets * CLIMIT_WAYS;
	c->area->client_table_used = c->climit->used;
}

unsigned int tcp_climit_check(const struct tcp_ctx *c, FILE *log)
{
	const struct climit *t = c->climit;
	uint32_t n, *seen;
	unsigned int bad = 0;

	if (t == NULL)
		return 0;
	n = t->sets * CLIMIT_WAYS;
	seen = calloc(n, sizeof(*seen));
	if (seen == NULL)
		return 0;
	for (uint32_t i = 0; i < c->area->max_streams; i++) {
		const struct tcp_tcb *s = &c->tcbs[i];
		const struct climit_entry *e;

		if (!tcp_climit_counted(s))
			continue;
		e = climit_find((struct climit *)t, s->raddr);
		if (e == NULL) {
			if (log && bad < 8)
				fprintf(log, "tcp_check: stream %u: counted for %#x, which has no entry\n", i, s->raddr);
			bad++;
			continue;
		}
		seen[e - t->e]++;
	}
	for (uint32_t k = 0; k < n; k++)
		if (seen[k] != t->e[k].conns) {
			if (log && bad < 8)
				fprintf(log, "tcp_check: client %#x: %u streams counted, %u hold the flag\n",
					t->e[k].addr, t->e[k].conns, seen[k]);
			bad++;
		}
	free(seen);
	return bad;
}
