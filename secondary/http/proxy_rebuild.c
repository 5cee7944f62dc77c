/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Attach and crash rebuild: a fresh proxy area is laid out; a used one (its
 * worker died, was restarted or upgraded) has what is derived rebuilt from
 * the sessions and the TCBs (free list, server connection counts, keep-alive
 * pools) and the dead worker's leftovers settled (streams no session owns
 * are doomed). The sessions themselves carry on from their snapshots.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secondary/http/proxy_priv.h"

/* Rebuild what is derived (free list, counts, pools) and settle leftovers of a dead worker. */
/* Sessions [0, END) may be in use; those above are free and on no list. */
static void rebuild(struct proxy *p, uint32_t end)
{
	struct http_area *a = p->a;
	uint32_t max_streams = tcp_max_streams(p->tcp), top = 0;

	a->free_head = TCP_NIL;
	a->active = 0;
	for (uint32_t slot = 0; slot < HTTP_SLOTS; slot++) {
		a->srv[slot].active = 0;
		a->srv[slot].pool_head = TCP_NIL;
		a->srv[slot].pool_count = 0;
		a->srv[slot].hc_stream = TCP_NIL;
	}
	/* sessions: keep those whose client stream points back at them; free
	 * ones above the highest kept go above the mark, the others on the list */
	for (uint32_t i = end; i-- > 0;) {
		struct http_sess *x = &p->sess[i];
		bool cl_ok = x->kind != HS_FREE && x->cl < max_streams;

		if (cl_ok && tcp_state(p->tcp, x->cl) != TCP_CLOSED &&
		    (tcp_app(p->tcp, x->cl) == TAPP_HTTP || tcp_app(p->tcp, x->cl) == TAPP_SPLICE) &&
		    tcp_app_arg(p->tcp, x->cl) == i) {
			struct http_snap *sn = cur(x);

			if (sn->up != TCP_NIL && (sn->up >= max_streams || tcp_state(p->tcp, sn->up) == TCP_CLOSED ||
						  tcp_app_arg(p->tcp, sn->up) != i ||
						  (tcp_app(p->tcp, sn->up) != TAPP_HTTP_UP &&
						   tcp_app(p->tcp, sn->up) != TAPP_SPLICE_UP))) {
				struct http_snap n = *sn;

				n.up = TCP_NIL;   /* its upstream stream is gone */
				commit(x, &n);
			}
			a->active++;
			a->counts[HC_RECOVERED]++;
			if (cur(x)->up != TCP_NIL && cur(x)->slot != NO_SLOT && gen_current(p, cur(x)))
				a->srv[cur(x)->slot].active++;
			if (top == 0)
				top = i + 1;
			continue;
		}
		x->kind = HS_FREE;
		if (top) {
			x->next = a->free_head;
			a->free_head = i;
		}
	}
	__atomic_store_n(&a->hwm, top, __ATOMIC_RELEASE);
	/* streams: unlink the ones no session owns, rebuild the pools (none open above the TCP area's mark) */
	for (uint32_t s = 0; s < tcp_streams_hwm(p->tcp); s++) {
		uint32_t arg = tcp_app_arg(p->tcp, s);
		uint16_t slot = tcp_app_slot(p->tcp, s);
		struct http_sess *x;

		if (tcp_state(p->tcp, s) == TCP_CLOSED || tcp_app(p->tcp, s) < TAPP_DEADLINE_FIRST)
			continue;
		switch (tcp_app(p->tcp, s)) {
		case TAPP_HTTP:
		case TAPP_SPLICE:
			if (arg != TCP_NIL && proxy_sess_of(p, s) == NULL) {
				tcp_set_app_arg(p->tcp, s, TCP_NIL);
				if (tcp_app(p->tcp, s) == TAPP_SPLICE)
					proxy_kill_stream(p, s);
			}
			break;
		case TAPP_HTTP_UP:
		case TAPP_SPLICE_UP:
			x = arg < a->max_sessions ? &p->sess[arg] : NULL;
			if (x == NULL || x->kind == HS_FREE || cur(x)->up != s) {
				p->tcp->in_event = s;   /* doom it: reset from its own timer */
				proxy_kill_stream(p, s);
				p->tcp->in_event = TCP_NIL;
			}
			break;
		case TAPP_HTTP_POOL:
			if (slot < HTTP_SLOTS && a->srv[slot].pool_count < 4096) {
				tcp_set_app_arg(p->tcp, s, a->srv[slot].pool_head);
				a->srv[slot].pool_head = s;
				a->srv[slot].pool_count++;
			}
			break;
		case TAPP_HEALTH:
			p->tcp->in_event = s;
			proxy_kill_stream(p, s);
			p->tcp->in_event = TCP_NIL;
			break;
		default:
			if (tcp_app_deadline_at(p->tcp, s) == 0)
				tcp_app_deadline(p->tcp, s, after(p, 1));
			break;
		}
	}
}

int proxy_attach(struct proxy *p, struct tcp_ctx *tcp, void *area, uint64_t bytes,
		 const struct porter_proxy *pc, unsigned int shard, uint64_t grant)
{
	struct http_area *a = area;
	uint64_t off = (sizeof(*a) + 63) & ~63ull;
	uint32_t max = (uint32_t)((bytes - off - 64) / sizeof(struct http_sess));

	memset(p, 0, sizeof(*p));
	p->tcp = tcp;
	p->a = a;
	p->pc = pc;
	p->shard = shard;
	p->log_fd = -1;
	if (bytes < off + 64 + sizeof(struct http_sess))
		return -1;
	if (a->magic == HTTP_AREA_MAGIC && (a->sess_size != sizeof(struct http_sess) || a->sess_off != off ||
					    a->max_sessions > max))
		return -1;
	pthread_mutex_init(&p->log_mu, NULL);
	p->log_ring = malloc(PROXY_LOG_RING);
	p->head = malloc(PROXY_HEAD_MAX + 1);
	p->out = malloc(PROXY_HEAD_MAX + 4096);
	p->copy = malloc(COPY_CHUNK);
	p->scan = calloc(max, sizeof(*p->scan));
	p->logf = calloc(max, sizeof(*p->logf));
	p->retry = calloc(max, sizeof(*p->retry));
	p->retry_mark = calloc(max, 1);
	if (!p->head || !p->out || !p->copy || !p->log_ring || !p->scan || !p->logf || !p->retry ||
	    !p->retry_mark) {
		proxy_close(p);   /* frees what was allocated */
		return -1;
	}
	p->sess = (struct http_sess *)((char *)a + off);
	tcp->app = p;
	tcp_ctx_clock(tcp);
	p->conf = &pc->conf[__atomic_load_n(&pc->active, __ATOMIC_ACQUIRE) & 1];
	if (a->magic != HTTP_AREA_MAGIC) {
		memset(a, 0, sizeof(*a));
		a->sess_size = sizeof(struct http_sess);
		a->sess_off = (uint32_t)off;
		a->max_sessions = max;
		a->gen = p->conf->generation;
		for (uint32_t slot = 0; slot < HTTP_SLOTS; slot++) {
			a->srv[slot].pool_head = TCP_NIL;
			a->srv[slot].hc_stream = TCP_NIL;
		}
		a->free_head = TCP_NIL;
		a->hwm = 0;   /* proxy_sess_new() hands them out in order */
		for (uint32_t i = max; i-- > 0;)
			p->sess[i].kind = HS_FREE;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		a->magic = HTTP_AREA_MAGIC;
	} else {
		rebuild(p, grant > 1 && __atomic_load_n(&a->hwm_grant, __ATOMIC_ACQUIRE) == grant - 1 &&
				   a->hwm <= a->max_sessions ? a->hwm : a->max_sessions);
	}
	__atomic_store_n(&a->hwm_grant, grant, __ATOMIC_RELEASE);   /* this grant keeps hwm */
	proxy_sync_conf(p);
	proxy_log_reopen(p, false);
	return 0;
}

void proxy_close(struct proxy *p)
{
	if (p->log_thread_on) {
		p->log_stop = 1;
		pthread_join(p->log_thread, NULL);
		p->log_thread_on = false;
	}
	free(p->log_ring);
	free(p->head);
	free(p->out);
	free(p->copy);
	free(p->scan);
	free(p->logf);
	p->logf = NULL;
	free(p->retry);
	free(p->retry_mark);
	p->retry = NULL;
	p->retry_mark = NULL;
	p->nretry = 0;
	p->log_ring = NULL;
	p->head = p->out = p->copy = NULL;
	p->scan = NULL;
	if (p->log_fd >= 0)
		close(p->log_fd);
	p->log_fd = -1;
}
