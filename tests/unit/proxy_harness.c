/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The proxy unit-test harness (see proxy_harness.h): the TCP harness's
 * stack and fake environment, the real proxy, peers on both sides.
 */
#include "tests/unit/proxy_harness.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "shm/proxy_conf.h"

struct proxy_harness PH;

const char PH_CONF[] =
	"ports = ( { name = \"p0\"; device = \"net_null0\"; mac = \"02:00:00:00:00:01\";\n"
	"            ipv4 = \"10.0.0.1/24\"; gateway = \"10.0.0.254\"; } );\n"
	"listeners = ( { port = 80; protocol = \"http\"; },\n"
	"              { port = 8000; protocol = \"tcp\"; upstream = \"raw\"; } );\n"
	"upstreams = ( { name = \"app\"; servers = ( { address = \"10.0.0.2:8080\"; } ); },\n"
	"              { name = \"raw\"; servers = ( { address = \"10.0.0.2:9000\"; } ); } );\n"
	"routes = ( { upstream = \"app\"; } );\n"
	"http = { max_sessions_per_shard = 64; request_id = false; };\n";

/*
 * The proxy reads CLOCK_MONOTONIC through tcp_ctx_clock(); the harness's
 * programs link with -Wl,--wrap=tcp_ctx_clock, so its calls land here and
 * the fake clock stays (the stack's own call, inside tcp_ctx_attach, is not
 * wrapped: h_setup()/h_reattach() put the fake clock back after it).
 */
void __wrap_tcp_ctx_clock(struct tcp_ctx *c);
void __wrap_tcp_ctx_clock(struct tcp_ctx *c)
{
	(void)c;
}

/* ---- setup ----------------------------------------------------------------------- */

/* What the primary copies into porter_global (primary/shm_setup.c fill_tcp): the listeners. */
static void fill_listeners(const struct porter_config *cfg)
{
	memset(H.g->listeners, 0, sizeof(H.g->listeners));
	for (unsigned int i = 0; i < cfg->listener_count && i < PORTER_MAX_LISTENERS; i++) {
		const struct porter_cfg_listener *l = &cfg->listeners[i];
		struct porter_listener *o = &H.g->listeners[i];

		o->port = l->port;
		o->no_climit = !l->client_limits;
		switch (l->service) {
		case PORTER_SVC_ECHO: o->app = TAPP_ECHO; break;
		case PORTER_SVC_DISCARD: o->app = TAPP_DISCARD; break;
		case PORTER_SVC_HTTP: o->app = TAPP_HTTP; break;
		case PORTER_SVC_TCP: o->app = TAPP_SPLICE; break;
		default: o->app = TAPP_SOURCE; break;
		}
		o->arg = l->service == PORTER_SVC_TCP ? (uint64_t)l->upstream : l->bytes;
	}
}

/* What the primary publishes as copy 0 of porter_proxy. */
static void fill_proxy_conf(const struct porter_config *cfg)
{
	memset(PH.pc, 0, sizeof(*PH.pc));
	proxy_conf_fill(&PH.pc->conf[0], cfg, 1);
	PH.pc->active = 0;
	PH.pc->generation = 1;
}

void ph_setup_conf(const char *text)
{
	char err[PORTER_CFG_ERR_LEN];

	h_setup();
	H.app_event = proxy_app_event;   /* the proxy's stream kinds go to the proxy */
	memset(&PH, 0, sizeof(PH));
	cr_assert(porter_config_parse_string(text, "proxy_harness", &PH.cfg, err, sizeof(err)) == 0,
		  "harness config: %s", err);
	/* the TCP parameters stay the harness's (h_setup), but a short TIME-WAIT */
	PRM->time_wait_ms = 1000;
	PRM->fin_wait2_ms = 10000;
	fill_listeners(&PH.cfg);
	PH.pc = aligned_alloc(64, (sizeof(*PH.pc) + 63) & ~(size_t)63);
	cr_assert(PH.pc != NULL);
	fill_proxy_conf(&PH.cfg);
	PH.area_bytes = http_area_bytes(PH.cfg.http.max_sessions);
	PH.area = aligned_alloc(64, (PH.area_bytes + 63) & ~63ull);
	cr_assert(PH.area != NULL);
	memset(PH.area, 0, PH.area_bytes);
	cr_assert(proxy_attach(&PH.px, &H.ctx, PH.area, PH.area_bytes, PH.pc, 0, 0) == 0, "proxy_attach");
	PH.next_cport = 40000;
	PH.up_opts = H_OPT_ALL;
}

void ph_setup(void)
{
	ph_setup_conf(PH_CONF);
}

void ph_teardown(void)
{
	proxy_close(&PH.px);
	for (unsigned int i = 0; i < PH.npeers; i++)
		free(PH.peers[i].rx);
	free(PH.pc);
	free(PH.area);
	memset(&PH, 0, sizeof(PH));
	h_teardown();
}

/* ---- invariants -------------------------------------------------------------------- */

#define PH_BAD(...)                                                             \
	do {                                                                    \
		if (bad++ < 8) {                                                \
			fprintf(stderr, "proxy check: " __VA_ARGS__);           \
			fputc('\n', stderr);                                    \
		}                                                               \
	} while (0)

static const struct http_snap *snap(const struct http_sess *x)
{
	return &x->s[x->cur & 1];
}

unsigned int ph_check(void)
{
	const struct http_area *a = PXA;
	const struct http_sess *sess = PH.px.sess;
	uint32_t max_streams = H.ctx.area->max_streams, used = 0, nfree = 0;
	uint32_t srv_active[HTTP_SLOTS] = { 0 };
	unsigned int bad = 0;

	for (uint32_t i = 0; i < a->max_sessions; i++) {
		const struct http_sess *x = &sess[i];
		const struct http_snap *sn = snap(x);
		const struct tcp_tcb *c;

		if (x->kind == HS_FREE)
			continue;
		used++;
		if (i >= a->hwm)
			PH_BAD("session %u in use above the mark %u", i, a->hwm);
		if (x->cl >= max_streams) {
			PH_BAD("session %u: client stream %u", i, x->cl);
			continue;
		}
		c = TCB(x->cl);
		if (c->state == TCP_CLOSED || (c->app != TAPP_HTTP && c->app != TAPP_SPLICE) || c->app_arg_lo != i)
			PH_BAD("session %u: client stream %u state %u app %u points at %u", i, x->cl, c->state, c->app,
			       c->app_arg_lo);
		if (sn->up != TCP_NIL) {
			const struct tcp_tcb *u = sn->up < max_streams ? TCB(sn->up) : NULL;

			if (u == NULL || u->state == TCP_CLOSED || (u->app != TAPP_HTTP_UP && u->app != TAPP_SPLICE_UP) ||
			    u->app_arg_lo != i)
				PH_BAD("session %u: upstream stream %u state %u app %u points at %u", i, sn->up,
				       u ? u->state : 0, u ? u->app : 0, u ? u->app_arg_lo : 0);
			else if (sn->slot < HTTP_SLOTS && sn->gen == (uint32_t)a->gen)
				srv_active[sn->slot]++;
		}
	}
	if (used != a->active)
		PH_BAD("%u sessions in use, the area counts %u", used, a->active);
	for (uint32_t i = a->free_head; i != TCP_NIL; i = sess[i].next) {
		if (i >= a->max_sessions || sess[i].kind != HS_FREE || ++nfree > a->max_sessions) {
			PH_BAD("free list: session %u", i);
			break;
		}
	}
	if (bad == 0 && nfree + used != a->hwm)
		PH_BAD("%u free and %u in use below the mark %u", nfree, used, a->hwm);
	for (uint32_t slot = 0; slot < HTTP_SLOTS; slot++) {
		const struct http_srv *v = &a->srv[slot];
		uint32_t n = 0;

		if (v->active != srv_active[slot])
			PH_BAD("server slot %u counts %u active, %u sessions use it", slot, v->active, srv_active[slot]);
		for (uint32_t s = v->pool_head; s != TCP_NIL; s = TCB(s)->app_arg_lo) {
			if (s >= max_streams || TCB(s)->state == TCP_CLOSED || TCB(s)->app != TAPP_HTTP_POOL ||
			    TCB(s)->app_slot != slot || ++n > v->pool_count) {
				PH_BAD("server slot %u: pooled stream %u", slot, s);
				break;
			}
		}
		if (n != v->pool_count)
			PH_BAD("server slot %u: %u pooled streams, counted %u", slot, n, v->pool_count);
	}
	/* every client stream that names a session is that session's */
	for (uint32_t s = 0; s < H.ctx.area->hwm; s++) {
		const struct tcp_tcb *t = TCB(s);

		if (t->state == TCP_CLOSED || (t->app != TAPP_HTTP && t->app != TAPP_SPLICE) || t->app_arg_lo == TCP_NIL)
			continue;
		if (t->app_arg_lo >= a->max_sessions || sess[t->app_arg_lo].kind == HS_FREE ||
		    sess[t->app_arg_lo].cl != s)
			PH_BAD("client stream %u names session %u, not its own", s, t->app_arg_lo);
	}
	return bad + tcp_check(&H.ctx, stderr);
}

/* ---- peers -------------------------------------------------------------------------- */

static struct ph_peer *new_peer(bool upstream)
{
	struct ph_peer *p;

	cr_assert(PH.npeers < PH_MAX_PEERS, "too many peers");
	p = &PH.peers[PH.npeers];
	memset(p, 0, sizeof(*p));
	p->id = PH.npeers++;
	p->upstream = upstream;
	return p;
}

static bool gone(const struct ph_peer *p)
{
	return p->rst_in || p->rst_out || (p->fin_in && p->fin_out);
}

/* The peer of the frame O (the stack's side first), the newest first; NULL if none. */
static struct ph_peer *peer_of(const struct h_out *o)
{
	for (unsigned int i = PH.npeers; i-- > 0;) {
		struct ph_peer *p = &PH.peers[i];

		if (p->tp.laddr == o->saddr && p->tp.lport == o->sport && p->tp.raddr == o->daddr &&
		    p->tp.rport == o->dport)
			return p;
	}
	return NULL;
}

/* A server answers the proxy's SYN O (a new upstream peer), refuses it, or says nothing. */
static void accept_syn(const struct h_out *o)
{
	struct ph_peer *p;

	if (PH.up_silent) {
		PH.stray++;
		return;
	}
	p = new_peer(true);
	PH.nupstreams++;
	h_peer_init(&p->tp, o->sport, o->dport, 0x30000000u + 0x01000000u * p->id);
	p->tp.laddr = o->saddr;
	p->tp.raddr = o->daddr;
	p->tp.s = h_lookup(o->saddr, o->sport, o->daddr, o->dport);
	p->tp.iss = o->seq;
	p->tp.rcv_nxt = o->seq + 1;
	if (PH.up_refuse) {
		/* RFC 9293 §3.10.7.1: a closed port answers a SYN with RST,ACK */
		h_peer_send(&p->tp, TH_RST | TH_ACK, 0, o->seq + 1, NULL, 0);
		p->rst_out = true;
		return;
	}
	p->tp.so = PH.up_opts;
	p->tp.wscale = PH.up_opts.ws ? PH.up_opts.ws_val : 0;
	p->tp.ts = PH.up_opts.ts && o->opt.has_ts;
	if (o->opt.has_ts)
		p->tp.ts_ecr = o->opt.ts_val;
	h_peer_send(&p->tp, TH_SYN | TH_ACK, p->tp.isn, p->tp.rcv_nxt, NULL, 0);
	p->tp.snd_nxt = p->tp.isn + 1;
}

static void rx_append(struct ph_peer *p, const uint8_t *b, uint32_t n)
{
	if (p->rx_len + n > p->rx_cap) {
		uint32_t cap = p->rx_cap ? p->rx_cap : 4096;

		while (cap < p->rx_len + n)
			cap *= 2;
		p->rx = realloc(p->rx, cap);
		cr_assert(p->rx != NULL);
		p->rx_cap = cap;
	}
	memcpy(p->rx + p->rx_len, b, n);
	p->rx_len += n;
}

/* One frame from the stack. Returns true when its peer owes an ACK. */
static bool take_frame(const struct h_out *o)
{
	struct ph_peer *p;
	uint32_t off, seq = o->seq;
	bool owe = false;

	cr_assert(o->ip_ok, "malformed frame from the stack (len %u)", o->flen);
	cr_assert(o->ip_csum_ok && o->tcp_csum_ok, "bad checksum in a frame from the stack");
	cr_assert(o->opt_rc == 0, "malformed TCP options in a frame from the stack");
	p = peer_of(o);
	if ((o->flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN) {
		if (p == NULL || gone(p) || p->tp.iss != o->seq) {
			if (o->daddr == PH_SERVER_IP)
				accept_syn(o);
			else
				PH.stray++;
		} else if (!p->rst_out) {
			/* a retransmitted SYN: the SYN-ACK again */
			h_peer_send(&p->tp, TH_SYN | TH_ACK, p->tp.isn, p->tp.rcv_nxt, NULL, 0);
		}
		return false;
	}
	if (p == NULL || p->rst_out) {
		PH.stray++;
		return false;
	}
	if (o->flags & TH_RST) {
		p->rst_in = true;
		return false;
	}
	if (o->opt.has_ts)
		p->tp.ts_ecr = o->opt.ts_val;
	if (o->flags & TH_SYN) {
		seq++;   /* a SYN-ACK again (ours was acknowledged already): ACK it */
		owe = true;
	}
	off = p->tp.rcv_nxt - seq;
	if (o->len && (int32_t)off < 0)
		cr_assert_fail("peer %u: the stack sent %u bytes at %#x past RCV.NXT %#x (nothing is lost here)",
			       p->id, o->len, seq, p->tp.rcv_nxt);
	if (o->len) {
		owe = true;
		if (off < o->len) {
			rx_append(p, o->payload + off, o->len - off);
			p->tp.rcv_nxt += o->len - off;
		}
	}
	if ((o->flags & TH_FIN) && seq + o->len == p->tp.rcv_nxt && !p->fin_in) {
		p->fin_in = true;
		p->tp.rcv_nxt++;
		owe = true;
	} else if (o->flags & TH_FIN) {
		owe = true;   /* a retransmitted FIN */
	}
	if (PH.on_frame)
		PH.on_frame(p, o);
	return owe;
}

void ph_pump(void)
{
	bool owe[PH_MAX_PEERS];

	for (unsigned int round = 0;; round++) {
		struct h_out o;
		bool any = false;

		cr_assert(round < 100000, "ph_pump: the exchange does not settle");
		memset(owe, 0, sizeof(owe));
		while (h_pop(&o)) {
			struct ph_peer *p;

			any = true;
			if (take_frame(&o) && (p = peer_of(&o)) != NULL)
				owe[p->id] = true;
		}
		for (unsigned int i = 0; i < PH.npeers; i++) {
			struct ph_peer *p = &PH.peers[i];

			if (owe[i] && !p->rst_in && !p->rst_out) {
				h_peer_ack(&p->tp, p->tp.rcv_nxt);
				any = true;
			}
		}
		if (!any)
			return;
	}
}

static void step_done(void)
{
	ph_pump();
	cr_assert(ph_check() == 0, "after a step: the proxy or TCP area is inconsistent (see stderr)");
	if (PH.reattach_each)
		ph_reattach();
}

struct ph_peer *ph_client(uint16_t port, const struct h_synopt *so)
{
	struct ph_peer *p;

	ph_pump();
	p = new_peer(false);
	h_peer_init(&p->tp, port, PH.next_cport++, 0x10000000u + 0x01000000u * p->id);
	p->tp.raddr = PH_CLIENT_IP;
	h_passive_syn(&p->tp, so ? so : &H_OPT_ALL);
	cr_assert(p->tp.s != TCP_NIL, "no stream after the client's SYN");
	h_peer_ack(&p->tp, p->tp.rcv_nxt);
	step_done();
	return p;
}

void ph_send(struct ph_peer *p, const void *b, uint32_t len)
{
	const uint8_t *d = b;

	while (len && !p->rst_in && !p->rst_out && !p->fin_out) {
		uint32_t n = len < PH_MSS ? len : PH_MSS;

		h_peer_data(&p->tp, d, n);
		p->tx_len += n;
		d += n;
		len -= n;
		step_done();
	}
}

void ph_send_str(struct ph_peer *p, const char *s)
{
	ph_send(p, s, (uint32_t)strlen(s));
}

void ph_fin(struct ph_peer *p)
{
	if (p->rst_in || p->rst_out || p->fin_out)
		return;
	h_peer_fin(&p->tp);
	p->fin_out = true;
	step_done();
}

void ph_rst(struct ph_peer *p)
{
	if (p->rst_in || p->rst_out)
		return;
	h_peer_send(&p->tp, TH_RST | TH_ACK, p->tp.snd_nxt, p->tp.rcv_nxt, NULL, 0);
	p->rst_out = true;
	step_done();
}

uint32_t ph_stream(const struct ph_peer *p)
{
	return h_lookup(p->tp.laddr, p->tp.lport, p->tp.raddr, p->tp.rport);
}

struct ph_peer *ph_upstream(unsigned int k)
{
	for (unsigned int i = 0; i < PH.npeers; i++)
		if (PH.peers[i].upstream && k-- == 0)
			return &PH.peers[i];
	return NULL;
}

struct ph_peer *ph_last_upstream(void)
{
	for (unsigned int i = PH.npeers; i-- > 0;)
		if (PH.peers[i].upstream)
			return &PH.peers[i];
	return NULL;
}

const char *ph_take(struct ph_peer *p, uint32_t *len)
{
	static char *buf;
	static uint32_t cap;
	uint32_t n = p->rx_len - p->rx_seen;

	if (n + 1 > cap) {
		free(buf);
		cap = n + 1 > 4096 ? n + 1 : 4096;
		buf = malloc(cap);
		cr_assert(buf != NULL);
	}
	memcpy(buf, p->rx + p->rx_seen, n);
	buf[n] = 0;
	p->rx_seen = p->rx_len;
	if (len)
		*len = n;
	return buf;
}

/* S with CR, LF and other control bytes visible, for the messages. */
static void print_escaped(const char *what, const char *s, uint32_t n)
{
	fprintf(stderr, "  %s (%u bytes): \"", what, n);
	for (uint32_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r')
			fputs("\\r", stderr);
		else if (c == '\n')
			fputs("\\n", stderr);
		else if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fputs("\"\n", stderr);
}

void ph_expect_at(const char *file, int line, struct ph_peer *p, const char *s)
{
	uint32_t n, want = (uint32_t)strlen(s);
	const char *got = ph_take(p, &n);

	if (n != want || memcmp(got, s, n) != 0) {
		fprintf(stderr, "%s:%d: peer %u (%s) received other bytes than expected\n", file, line, p->id,
			p->upstream ? "upstream" : "client");
		print_escaped("expected", s, want);
		print_escaped("received", got, n);
		cr_assert_fail("%s:%d: unexpected bytes at peer %u", file, line, p->id);
	}
}

/* ---- clock and workers ------------------------------------------------------------------- */

void ph_advance(uint32_t ms)
{
	uint32_t end = H.ctx.now_ms + ms;

	ph_pump();
	while ((int32_t)(end - H.ctx.now_ms) > 0) {
		uint32_t step = end - H.ctx.now_ms;
		int t = tcp_next_timer_ms(&H.ctx), q = proxy_next_ms(&PH.px);

		if (t > 0 && (uint32_t)t < step)
			step = (uint32_t)t;
		if (q > 0 && (uint32_t)q < step)
			step = (uint32_t)q;
		H.ctx.now_ms += step;
		H.ctx.now_us += (uint64_t)step * 1000;
		tcp_timers(&H.ctx);
		proxy_poll(&PH.px);
		ph_pump();
		if (PH.reattach_each)
			ph_reattach();
	}
	/* the full check once the clock stands (not at every timer: it would cost more than the run) */
	cr_assert(ph_check() == 0, "after a clock advance: the proxy or TCP area is inconsistent (see stderr)");
}

void ph_reattach(void)
{
	uint32_t now = H.ctx.now_ms;
	uint64_t now_us = H.ctx.now_us;

	ph_pump();
	proxy_close(&PH.px);       /* the old worker's private memory dies with it */
	h_reattach();              /* tcp_ctx_attach + tcp_rebuild on the fake clock, tcp_check */
	cr_assert(proxy_attach(&PH.px, &H.ctx, PH.area, PH.area_bytes, PH.pc, 0, 0) == 0, "proxy re-attach");
	H.ctx.now_ms = now;
	H.ctx.now_us = now_us;
	cr_assert(ph_check() == 0, "re-attach: the proxy area is inconsistent (see stderr)");
	tcp_resume(&H.ctx);
	PH.reattaches++;
	ph_pump();
}

/* ---- the end of a test ------------------------------------------------------------------- */

void ph_close_all(bool rst)
{
	bool was = PH.reattach_each;

	PH.reattach_each = false;
	ph_pump();
	for (unsigned int i = 0; i < PH.npeers; i++) {
		struct ph_peer *p = &PH.peers[i];

		if (rst)
			ph_rst(p);
		else
			ph_fin(p);
	}
	/* linger (5 s), TIME-WAIT (1 s), keep-alive pools: bounded by two minutes */
	for (unsigned int k = 0; k < 120 && (H.ctx.area->live || PXA->active); k++)
		ph_advance(1000);
	PH.reattach_each = was;
}

void ph_check_clean(void)
{
	ph_close_all(false);
	cr_assert(ph_check() == 0, "end of test: the proxy or TCP area is inconsistent (see stderr)");
	cr_assert(PXA->active == 0, "end of test: %u sessions left after the peers closed", PXA->active);
	cr_assert(H.ctx.area->live == 0, "end of test: %u streams left after the peers closed", H.ctx.area->live);
	cr_assert(H.live_mbufs == 0, "end of test: %ld fake mbufs live after every stream closed", H.live_mbufs);
	h_check_clean();
}
