/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP unit-test harness (see tcp_harness.h). It implements the stack's
 * environment seam (tcp_env.h) with counted fake mbufs and a captured
 * transmit, records application events (tcp_env_app_event), and
 * builds and decodes frames with its own byte-level code (no DPDK helpers),
 * so a checksum or layout bug in the stack cannot hide behind a shared one.
 */
#include "tests/unit/tcp_harness.h"

#include <stdlib.h>
#include <string.h>

#include "secondary/tcp/tcp_env.h"
#include "shm/hash.h"
#include "tests/unit/testbytes.h"

struct harness H;

/* ---- byte helpers ------------------------------------------------------------ */


/* RFC 1071, byte pairs read big-endian, odd byte padded with zero. */
uint16_t h_cksum(const uint8_t *buf, uint32_t len, uint32_t init)
{
	uint64_t s = init;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)buf[i] << 8 | buf[i + 1];
	if (len & 1)
		s += (uint32_t)buf[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint32_t tcp_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + tcp_len;
}

/* ---- fake mbufs ------------------------------------------------------------------ */

#define FM_ALIVE 0xa11fe5a1ab1e0001ull
#define FM_DEAD  0xdeadbeefdead0002ull

struct fake_mbuf {
	struct rte_mbuf m;
	uint64_t magic;
	struct fake_mbuf *all_next;     /* every fake mbuf ever made, freed at teardown */
	uint8_t *buf;
};

static struct fake_mbuf *all_fakes;

static struct fake_mbuf *fake_of(struct rte_mbuf *m)
{
	return (struct fake_mbuf *)(void *)m;
}

struct rte_mbuf *h_mbuf_alloc(void)
{
	size_t sz = (sizeof(struct fake_mbuf) + RTE_CACHE_LINE_SIZE - 1) & ~(size_t)(RTE_CACHE_LINE_SIZE - 1);
	struct fake_mbuf *f = aligned_alloc(RTE_CACHE_LINE_SIZE, sz);
	struct rte_mbuf *m;

	cr_assert(f != NULL, "out of memory");
	memset(f, 0, sz);
	f->buf = calloc(1, H_BUF_LEN);
	cr_assert(f->buf != NULL, "out of memory");
	f->magic = FM_ALIVE;
	f->all_next = all_fakes;
	all_fakes = f;
	m = &f->m;
	m->buf_addr = f->buf;
	m->buf_len = H_BUF_LEN;
	m->data_off = RTE_PKTMBUF_HEADROOM;
	rte_mbuf_refcnt_set(m, 1);
	m->nb_segs = 1;
	m->next = NULL;
	m->pool = NULL;
	m->data_len = 0;
	m->pkt_len = 0;
	H.live_mbufs++;
	H.allocs++;
	return m;
}

void h_mbuf_free(struct rte_mbuf *m)
{
	while (m) {
		struct rte_mbuf *next = m->next;
		struct fake_mbuf *f = fake_of(m);

		cr_assert(f->magic == FM_ALIVE, "tcp_env_free of an mbuf that is %s",
			  f->magic == FM_DEAD ? "already free (double free)" : "not a fake mbuf");
		if (m == H.in_hand)
			H.in_hand = NULL;
		if (m == H.rx_current)
			H.rx_consumed = true;
		f->magic = FM_DEAD;
		m->next = NULL;
		H.live_mbufs--;
		H.frees++;
		m = next;
	}
}

struct rte_mbuf *tcp_env_alloc(struct tcp_ctx *ctx)
{
	(void)ctx;
	if (H.fail_skip)
		H.fail_skip--;
	else if (H.fail_allocs) {
		H.fail_allocs--;
		return NULL;
	}
	H.in_hand = h_mbuf_alloc();
	return H.in_hand;
}

void tcp_env_trim(struct tcp_ctx *ctx, struct rte_mbuf *m, uint32_t n)
{
	(void)ctx;
	rte_pktmbuf_adj(m, (uint16_t)n);
	seg_set_seq(m, seg_seq(m) + n);
}

void tcp_env_hold(struct tcp_ctx *ctx, struct rte_mbuf *m)
{
	(void)ctx;
	H.in_hand = m;
}

struct rte_mbuf *tcp_env_alloc_queued(struct tcp_ctx *ctx)
{
	return tcp_env_alloc(ctx);
}

bool tcp_env_pool_low(struct tcp_ctx *ctx)
{
	(void)ctx;
	return H.pool_low;
}

void tcp_env_free(struct tcp_ctx *ctx, struct rte_mbuf *m)
{
	(void)ctx;
	h_mbuf_free(m);
}

/*
 * What a NIC with checksum offload does to a frame flagged for it (DPDK's
 * contract: l2_len/l3_len set, the IP checksum field zero, the TCP field
 * holding the pseudo header's sum): sum in place. Checked on the way.
 */
uint32_t h_offloaded;

static void h_nic_checksums(struct rte_mbuf *m)
{
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *) + 14;
	uint32_t ihl = (ip[0] & 0xf) * 4u, tot = (uint32_t)ip[2] << 8 | ip[3];
	uint8_t *th = ip + ihl;
	uint32_t tcp_len = tot - ihl;
	uint32_t src = (uint32_t)ip[12] << 24 | ip[13] << 16 | ip[14] << 8 | ip[15];
	uint32_t dst = (uint32_t)ip[16] << 24 | ip[17] << 16 | ip[18] << 8 | ip[19];
	uint32_t ps = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + tcp_len;
	uint16_t field = (uint16_t)(th[16] << 8 | th[17]), ck;

	cr_assert((m->ol_flags & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM)) ==
		  (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM),
		  "offload flags %#" PRIx64, m->ol_flags);
	cr_assert(m->l2_len == 14 && m->l3_len == ihl, "l2_len %u l3_len %u", m->l2_len, m->l3_len);
	cr_assert(ip[10] == 0 && ip[11] == 0, "IP checksum field not zero for the NIC");
	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	cr_assert(field == ps, "TCP checksum field %#x, pseudo header sum %#x", field, ps);
	ck = h_cksum(ip, ihl, 0);
	ip[10] = (uint8_t)(ck >> 8);
	ip[11] = (uint8_t)ck;
	ck = h_cksum(th, tcp_len, 0);   /* the field (pseudo sum) is part of the sum, as on a NIC */
	th[16] = (uint8_t)(ck >> 8);
	th[17] = (uint8_t)ck;
	h_offloaded++;
}

void tcp_env_xmit(struct tcp_ctx *ctx, struct rte_mbuf *m)
{
	struct h_cap *c;

	(void)ctx;
	cr_assert(fake_of(m)->magic == FM_ALIVE, "tcp_env_xmit of a freed mbuf");
	cr_assert(m->next == NULL, "tcp_env_xmit of a chained mbuf");
	cr_assert(H.cap_tail - H.cap_head < H_MAX_CAPS, "capture queue full");
	if (m->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM))
		h_nic_checksums(m);
	c = &H.caps[H.cap_tail++ % H_MAX_CAPS];
	c->len = m->data_len;
	c->port = m->port;
	c->data = malloc(c->len ? c->len : 1);
	cr_assert(c->data != NULL);
	memcpy(c->data, rte_pktmbuf_mtod(m, const uint8_t *), c->len);
	H.xmits++;
	if (H.on_xmit)
		H.on_xmit(c->data, c->len, c->port);
	h_mbuf_free(m);
}

/* ---- events ------------------------------------------------------------------------- */

/* The stack's seam for applications it does not serve itself: the proxy (when a harness links it), or TAPP_TEST. */
void tcp_env_app_event(struct tcp_ctx *ctx, uint32_t s, uint32_t ev)
{
	if (ctx->tcbs[s].app >= TAPP_DEADLINE_FIRST) {
		if (H.app_event)
			H.app_event(ctx, s, ev);
		return;
	}
	if (ctx->tcbs[s].app != TAPP_TEST)
		return;
	cr_assert(H.nev < H_MAX_EVENTS, "event log full");
	H.ev[H.nev].s = s;
	H.ev[H.nev].ev = ev;
	H.ev[H.nev].at_ms = H.ctx.now_ms;
	H.nev++;
	if (H.on_event)
		H.on_event(s, ev);
}

uint32_t h_events(uint32_t s)
{
	uint32_t e = 0;

	for (unsigned int i = 0; i < H.nev; i++)
		if (H.ev[i].s == s)
			e |= H.ev[i].ev;
	return e;
}

unsigned int h_event_count(uint32_t s, uint32_t mask)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < H.nev; i++)
		if (H.ev[i].s == s && (H.ev[i].ev & mask))
			n++;
	return n;
}

void h_clear_events(void)
{
	H.nev = 0;
}

/* ---- setup / teardown ------------------------------------------------------------------ */

void h_setup(void)
{
	struct porter_global *g;
	struct porter_tcp_params *p;
	static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

	memset(&H, 0, sizeof(H));
	all_fakes = NULL;
	/* aligned as the type says (PORTER_ALIGNED): calloc() gives 16 bytes only */
	g = aligned_alloc(_Alignof(struct porter_global),
			  (sizeof(*g) + _Alignof(struct porter_global) - 1) & ~(_Alignof(struct porter_global) - 1));
	cr_assert(g != NULL);
	memset(g, 0, sizeof(*g));
	H.g = g;
	g->shard_count = 1;
	g->port_count = 1;
	memcpy(g->rss_key, porter_rss_key, sizeof(g->rss_key));
	/* reta all 0: every flow is shard 0's */
	g->ports[0].port_id = 0;
	g->ports[0].mtu = 1500;
	memcpy(g->ports[0].mac, mac, sizeof(mac));
	g->ports[0].prefix_len = 24;
	g->ports[0].up = 1;
	g->ports[0].ipv4 = H_LOCAL_IP;
	g->ports[0].gateway = 0x0a0000feu;
	strcpy(g->ports[0].name, "test0");

	/* the defaults of config/config.h (max_streams scaled down for the tests) */
	p = &g->tcp;
	p->max_streams = H_MAX_STREAMS;
	p->syn_backlog = 1024;
	p->cc = TCP_CC_CUBIC;
	p->nodelay = 1;
	p->sack = 1;
	p->timestamps = 1;
	p->window_scaling = 1;
	p->syncookies = 1;
	p->keepalive = 0;
	p->rcv_buf = 262144;
	p->snd_buf = 262144;
	p->delack_ms = 40;
	p->delack_short_ms = 0;   /* short segments ACKed at once; tests of the default set it */
	p->rto_initial_ms = 1000;
	p->rto_min_ms = 200;
	p->rto_max_ms = 60000;
	p->max_retries = 15;
	p->syn_retries = 5;
	p->time_wait_ms = 60000;
	p->fin_wait2_ms = 60000;
	p->keepalive_idle_s = 7200;
	p->keepalive_interval_s = 75;
	p->keepalive_count = 9;
	p->mtu_probing = 1;              /* PLPMTUD after a black hole, as config/config_table.c */
	p->base_mss = 1024;
	p->challenge_ack_limit = 1000;   /* per stream; the config's 5 would silence a test's many crafted segments */
	p->ephemeral_lo = 32768;
	p->ephemeral_hi = 60999;

	g->listeners[0].port = H_TEST_PORT;
	g->listeners[0].app = TAPP_TEST;
	g->listeners[1].port = H_ECHO_PORT;
	g->listeners[1].app = TAPP_ECHO;
	g->listeners[2].port = H_DISCARD_PORT;
	g->listeners[2].app = TAPP_DISCARD;

	H.area_bytes = tcp_area_bytes(p->max_streams);
	H.area_mem = aligned_alloc(64, (H.area_bytes + 63) & ~63ull);
	cr_assert(H.area_mem != NULL);
	memset(H.area_mem, 0, H.area_bytes);
	cr_assert(tcp_ctx_attach(&H.ctx, H.area_mem, H.area_bytes, g, 0, &H) == 0, "attach");

	memset(H.more, 0, sizeof(H.more));
	H.ctx.more = H.more;
	/* fake clock; the area was laid out with the real one */
	H.ctx.now_ms = H_T0_MS;
	H.ctx.now_us = (uint64_t)H_T0_MS * 1000;
	H.ctx.area->wheel_tick = H_T0_MS / TCP_TICK_MS;
	/* fixed keys: every run sees the same ISNs and cookies */
	for (unsigned int i = 0; i < TCP_SECRET_LEN; i++) {
		H.ctx.area->isn_key[i] = (uint8_t)(0x11 * (i + 1));
		H.ctx.area->cookie_key[i] = (uint8_t)(0x5a ^ (i * 7));
	}
}

void h_drain(void)
{
	while (H.cap_head != H.cap_tail) {
		free(H.caps[H.cap_head % H_MAX_CAPS].data);
		H.cap_head++;
	}
}

void h_check_clean(void)
{
	struct tcp_area *a = H.ctx.area;
	uint32_t nfree = 0;

	H.on_event = NULL;
	cr_assert(tcp_check(&H.ctx, stderr) == 0, "end of test: the TCP area is inconsistent (see stderr)");
	for (uint32_t i = 0; i < a->max_streams; i++)
		if (H.ctx.tcbs[i].state != TCP_CLOSED)
			tcp_abort(&H.ctx, i);
	h_drain();
	cr_assert(H.live_mbufs == 0, "teardown: %ld fake mbufs leaked (%lu allocated, %lu freed)",
		  H.live_mbufs, H.allocs, H.frees);
	cr_assert(a->live == 0, "teardown: area->live = %u", a->live);
	for (uint64_t i = 0; H.ctx.climit && i < (uint64_t)H.ctx.climit->sets * CLIMIT_WAYS; i++)
		cr_assert(H.ctx.climit->e[i].conns == 0, "teardown: client %#x still counts %u streams",
			  H.ctx.climit->e[i].addr, H.ctx.climit->e[i].conns);
	cr_assert(a->half_open == 0, "teardown: area->half_open = %u", a->half_open);
	for (uint32_t i = a->free_head; i != TCP_NIL && nfree <= a->max_streams; i = H.ctx.tcbs[i].h_next)
		nfree++;
	cr_assert(nfree + (a->max_streams - a->hwm) == a->max_streams,
		  "teardown: free list holds %u and %u are above the mark, of %u TCBs", nfree,
		  a->max_streams - a->hwm, a->max_streams);
	for (uint32_t i = 0; i < TCP_WHEEL_SLOTS; i++)
		cr_assert(H.ctx.wheel[i] == TCP_NIL, "teardown: timer wheel slot %u not empty", i);
	for (uint32_t i = 0; i < a->lookup_size; i++)
		cr_assert(H.ctx.lookup[i] == TCP_NIL, "teardown: lookup bucket %u not empty", i);
}

void h_teardown(void)
{
	h_drain();
	while (all_fakes) {
		struct fake_mbuf *f = all_fakes;

		all_fakes = f->all_next;
		free(f->buf);
		free(f);
	}
	tcp_ctx_release(&H.ctx);
	free(H.area_mem);
	free(H.g);
}

void h_reattach_grant(uint64_t grant)
{
	uint32_t now = H.ctx.now_ms;
	uint64_t now_us = H.ctx.now_us;

	tcp_ctx_release(&H.ctx);   /* the old worker's private memory dies with it */
	cr_assert(tcp_ctx_attach_grant(&H.ctx, H.area_mem, H.area_bytes, H.g, 0, &H, grant) == 0,
		  "re-attach, grant %lu", (unsigned long)grant);
	H.ctx.now_ms = now;
	H.ctx.now_us = now_us;
	H.ctx.more = H.more;   /* a worker points it at porter_shard.tcp_more again */
	tcp_rebuild_below(&H.ctx, H.ctx.area->hwm);   /* the timers again, on the fake clock */
}

void h_reattach(void)
{
	uint32_t now = H.ctx.now_ms;
	uint64_t now_us = H.ctx.now_us;
	/* a new worker reads the same configuration (the client table itself is new) */
	struct climit_params lim = H.ctx.climit ? H.ctx.climit->prm : (struct climit_params){ 0 };

	tcp_ctx_release(&H.ctx);   /* the old worker's private memory dies with it */
	cr_assert(tcp_ctx_attach(&H.ctx, H.area_mem, H.area_bytes, H.g, 0, &H) == 0, "re-attach");
	H.ctx.now_ms = now;
	H.ctx.now_us = now_us;
	H.ctx.more = H.more;   /* a worker points it at porter_shard.tcp_more again */
	tcp_rebuild(&H.ctx);
	tcp_climit_set(&H.ctx, &lim);
	cr_assert(tcp_check(&H.ctx, stderr) == 0, "re-attach: the TCP area is inconsistent (see stderr)");
}

void h_crash_recover(void)
{
	struct rte_mbuf *rx = H.rx_consumed ? NULL : H.rx_current, *hand = H.in_hand;

	H.rx_current = NULL;
	H.rx_consumed = false;
	H.in_hand = NULL;
	if (rx && !tcp_area_owns_mbuf(H.area_mem, rx, 0)) {
		if (hand == rx)
			hand = NULL;
		rx->next = NULL;
		h_mbuf_free(rx);
	}
	if (hand && !tcp_area_owns_mbuf(H.area_mem, hand, 0)) {
		hand->next = NULL;
		h_mbuf_free(hand);
	}
	h_reattach();
	tcp_resume(&H.ctx);
}

/* ---- clock -------------------------------------------------------------------------------- */

void h_advance(uint32_t ms)
{
	for (uint32_t i = 0; i < ms; i++) {
		H.ctx.now_ms++;
		H.ctx.now_us += 1000;
		tcp_timers(&H.ctx);
	}
}

uint32_t h_wait_out(uint32_t limit)
{
	for (uint32_t i = 1; i <= limit; i++) {
		h_advance(1);
		if (h_pending())
			return i;
	}
	cr_assert_fail("nothing sent within %u ms", limit);
	return 0;
}

/* ---- segment builder --------------------------------------------------------------------- */

struct rte_mbuf *h_build(const struct h_spec *sp)
{
	struct rte_mbuf *m = h_mbuf_alloc();
	uint8_t opts[64] = { 0 };
	unsigned int olen = 0, tcp_len, ip_len;
	uint8_t *f, *ip, *th;
	uint16_t ck;

	if (sp->opts) {
		olen = tcp_opts_build(sp->opts, opts);
	} else if (sp->raw_opts) {
		cr_assert(sp->raw_len <= 40);
		memcpy(opts, sp->raw_opts, sp->raw_len);
		olen = (sp->raw_len + 3) & ~3u;   /* EOL (0) padding */
	}
	tcp_len = 20 + olen + sp->len;
	ip_len = 20 + tcp_len;
	cr_assert(14 + ip_len <= H_BUF_LEN - RTE_PKTMBUF_HEADROOM, "frame too long");
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + ip_len));
	cr_assert(f != NULL);
	memset(f, 0, 14 + ip_len);
	/* Ethernet: addresses do not matter to the stack, the type does (IPv4) */
	f[12] = 0x08;
	f[13] = 0x00;
	ip = f + 14;
	th = ip + 20;
	ip[0] = 0x45;
	ip[1] = sp->tos;
	put16(ip + 2, (uint16_t)ip_len);
	put16(ip + 6, 0x4000);      /* DF */
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, sp->saddr);
	put32(ip + 16, sp->daddr);
	ck = h_cksum(ip, 20, 0);
	if (sp->bad_ip_csum)
		ck ^= 0x0101;
	put16(ip + 10, ck);

	put16(th, sp->sport);
	put16(th + 2, sp->dport);
	put32(th + 4, sp->seq);
	put32(th + 8, sp->ack);
	th[12] = (uint8_t)(((20 + olen) / 4) << 4);
	th[13] = sp->flags;
	put16(th + 14, sp->wnd);
	memcpy(th + 20, opts, olen);
	if (sp->len)
		memcpy(th + 20 + olen, sp->payload, sp->len);
	ck = h_cksum(th, tcp_len, pseudo_sum(sp->saddr, sp->daddr, tcp_len));
	if (sp->bad_tcp_csum)
		ck ^= 0x0101;
	put16(th + 16, ck);
	m->port = 0;
	return m;
}

void h_inject(const struct h_spec *sp)
{
	H.rx_current = h_build(sp);
	H.rx_consumed = false;
	tcp_input(&H.ctx, H.rx_current);
	H.rx_current = NULL;
}

/* ---- captured transmit ------------------------------------------------------------------- */

unsigned int h_pending(void)
{
	return H.cap_tail - H.cap_head;
}

void h_decode(const uint8_t *frame, uint32_t len, uint16_t port, struct h_out *o)
{
	const uint8_t *ip, *th;
	uint32_t ihl, ip_len, thl;

	memset(o, 0, sizeof(*o));
	cr_assert(len <= sizeof(o->frame));
	memcpy(o->frame, frame, len);
	o->flen = len;
	o->port = port;

	if (o->flen < 14 + 20 + 20)
		return;
	ip = o->frame + 14;
	ihl = (ip[0] & 0xfu) * 4;
	ip_len = get16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || ip_len < ihl + 20 || 14 + ip_len != o->flen || ip[9] != 6)
		return;
	th = ip + ihl;
	thl = (th[12] >> 4) * 4u;
	if (thl < 20 || ihl + thl > ip_len)
		return;
	o->ip_ok = true;
	o->saddr = get32(ip + 12);
	o->daddr = get32(ip + 16);
	o->ttl = ip[8];
	o->tos = ip[1];
	o->df = !!(get16(ip + 6) & 0x4000);
	o->ip_csum_ok = h_cksum(ip, ihl, 0) == 0;
	o->tcp_csum_ok = h_cksum(th, ip_len - ihl, pseudo_sum(o->saddr, o->daddr, ip_len - ihl)) == 0;
	o->sport = get16(th);
	o->dport = get16(th + 2);
	o->seq = get32(th + 4);
	o->ack = get32(th + 8);
	o->flags = th[13];
	o->wnd = get16(th + 14);
	o->optlen = thl - 20;
	o->opt_rc = tcp_opts_parse(th + 20, thl - 20, &o->opt);
	o->payload = th + thl;
	o->len = ip_len - ihl - thl;
}

bool h_pop(struct h_out *o)
{
	struct h_cap *c;

	if (H.cap_head == H.cap_tail)
		return false;
	c = &H.caps[H.cap_head++ % H_MAX_CAPS];
	h_decode(c->data, c->len, c->port, o);
	free(c->data);
	c->data = NULL;
	return true;
}

void h_next(struct h_out *o)
{
	cr_assert(h_pop(o), "expected a segment from the stack, none was sent");
	cr_assert(o->ip_ok, "malformed frame from the stack (len %u)", o->flen);
	cr_assert(o->ip_csum_ok, "bad IPv4 header checksum in a frame from the stack");
	cr_assert(o->tcp_csum_ok, "bad TCP checksum in a frame from the stack");
	cr_assert(o->opt_rc == 0, "malformed TCP options in a frame from the stack");
	cr_assert(o->ttl > 0 && o->df, "TTL 0 or DF clear");
}

void h_none(void)
{
	struct h_out o;

	if (h_pop(&o))
		cr_assert_fail("expected no segment, got flags %#x seq %#x ack %#x len %u", o.flags,
			       o.seq, o.ack, o.len);
}

/* ---- the peer ------------------------------------------------------------------------------ */

const struct h_synopt H_OPT_NONE = { 0 };
const struct h_synopt H_OPT_MSS = { .mss = true, .mss_val = 1460 };
const struct h_synopt H_OPT_ALL = { .mss = true, .mss_val = 1460, .ws = true, .ws_val = 7,
				    .sack = true, .ts = true };
const struct h_synopt H_OPT_SACK = { .mss = true, .mss_val = 1460, .sack = true };

void h_peer_init(struct h_peer *p, uint16_t lport, uint16_t rport, uint32_t isn)
{
	memset(p, 0, sizeof(*p));
	p->s = TCP_NIL;
	p->laddr = H_LOCAL_IP;
	p->raddr = H_PEER_IP;
	p->lport = lport;
	p->rport = rport;
	p->isn = isn;
	p->snd_nxt = isn;
	p->wnd = 65535;
	p->tsval = 500000;
}

void h_peer_send(struct h_peer *p, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
		 uint32_t len)
{
	struct tcp_opts_out o = { 0 };
	struct h_spec sp = {
		.saddr = p->raddr, .daddr = p->laddr, .sport = p->rport, .dport = p->lport,
		.seq = seq, .ack = ack, .flags = flags, .wnd = p->wnd,
		.opts = &o, .payload = data, .len = len, .tos = p->tos,
	};

	if (flags & TH_SYN) {
		flags |= p->syn_flags;
		sp.flags = flags;
		o.mss = p->so.mss;
		o.mss_val = p->so.mss_val;
		o.wscale = p->so.ws;
		o.wscale_val = p->so.ws_val;
		o.sack_perm = p->so.sack;
		o.ts = p->so.ts;
		o.ts_val = p->tsval;
		o.ts_ecr = (flags & TH_ACK) ? p->ts_ecr : 0;
	} else {
		o.ts = p->ts;
		o.ts_val = p->tsval;
		o.ts_ecr = p->ts_ecr;
		o.nsack = p->nsack;
		memcpy(o.sack, p->sack, sizeof(o.sack));
		p->nsack = 0;
	}
	h_inject(&sp);
}

void h_peer_data(struct h_peer *p, const void *data, uint32_t len)
{
	h_peer_send(p, TH_ACK | TH_PSH, p->snd_nxt, p->rcv_nxt, data, len);
	p->snd_nxt += len;
}

void h_peer_ack(struct h_peer *p, uint32_t ack)
{
	h_peer_send(p, TH_ACK, p->snd_nxt, ack, NULL, 0);
}

void h_peer_fin(struct h_peer *p)
{
	h_peer_send(p, TH_FIN | TH_ACK, p->snd_nxt, p->rcv_nxt, NULL, 0);
	p->snd_nxt++;
}

void h_peer_next(struct h_peer *p, struct h_out *o)
{
	h_next(o);
	HEQ(o->saddr, p->laddr);
	HEQ(o->daddr, p->raddr);
	HEQ(o->sport, p->lport);
	HEQ(o->dport, p->rport);
	if (o->opt.has_ts)
		p->ts_ecr = o->opt.ts_val;
}

void h_icmp_frag_needed(const struct h_peer *p, uint32_t seq, uint16_t mtu)
{
	struct rte_mbuf *m = h_mbuf_alloc();
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, 14 + 20 + 8 + 20 + 8);
	uint8_t *ip = f + 14, *icmp = ip + 20, *q = icmp + 8;

	cr_assert(f != NULL);
	memset(f, 0, 14 + 20 + 8 + 20 + 8);
	f[12] = 0x08;
	ip[0] = 0x45;
	put16(ip + 2, 20 + 8 + 28);
	ip[8] = 64;
	ip[9] = 1;
	put32(ip + 12, 0x0a0000feu);      /* the gateway of port 0 */
	put32(ip + 16, p->laddr);
	put16(ip + 10, h_cksum(ip, 20, 0));
	icmp[0] = 3;
	icmp[1] = 4;
	put16(icmp + 6, mtu);
	q[0] = 0x45;
	put16(q + 2, 1500);
	put16(q + 6, 0x4000);             /* DF: it was one of ours */
	q[8] = 64;
	q[9] = 6;
	put32(q + 12, p->laddr);
	put32(q + 16, p->raddr);
	put16(q + 10, h_cksum(q, 20, 0));
	put16(q + 20, p->lport);
	put16(q + 22, p->rport);
	put32(q + 24, seq);
	put16(icmp + 2, h_cksum(icmp, 36, 0));
	tcp_input(&H.ctx, m);
}

uint32_t h_lookup(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	struct tcp_tcb *t = tcb_lookup(&H.ctx, laddr, lport, raddr, rport);

	return t ? tcb_idx(&H.ctx, t) : TCP_NIL;
}

static uint8_t our_wscale(void)
{
	uint8_t ws = 0;

	while (ws < TCP_MAX_WSCALE && (PRM->rcv_buf >> ws) > 65535)
		ws++;
	return ws;
}

void h_passive_syn(struct h_peer *p, const struct h_synopt *so)
{
	struct h_out o;
	bool ws = so->ws && PRM->window_scaling, sack = so->sack && PRM->sack,
	     ts = so->ts && PRM->timestamps;

	p->so = *so;
	p->wscale = so->ws ? so->ws_val : 0;
	h_peer_send(p, TH_SYN, p->isn, 0, NULL, 0);
	p->snd_nxt = p->isn + 1;
	h_peer_next(p, &o);
	/* RFC 3168 §6.1.1: ECE alone in the SYN-ACK answers an ECN-setup SYN, when ECN is on */
	HEQ(o.flags, TH_SYN | TH_ACK |
			     (PRM->ecn && (p->syn_flags & (TH_ECE | TH_CWR)) == (TH_ECE | TH_CWR) ? TH_ECE : 0));
	HEQ(o.tos & 3, 0);   /* §6.1.4: no ECT on a SYN-ACK */
	HEQ(o.ack, p->isn + 1);
	HEQ(o.len, 0);
	/* RFC 7323 §2.2: the window of a SYN is never scaled */
	HEQ(o.wnd, PRM->rcv_buf < 65535 ? PRM->rcv_buf : 65535);
	HTRUE(o.opt.has_mss);
	HEQ(o.opt.mss, 1460);
	HEQ(o.opt.has_wscale, ws);
	if (ws)
		HEQ(o.opt.wscale, our_wscale());
	HEQ(o.opt.sack_perm, sack);
	HEQ(o.opt.has_ts, ts);
	if (ts)
		HEQ(o.opt.ts_ecr, p->tsval);
	p->iss = o.seq;
	p->rcv_nxt = o.seq + 1;
	p->ts = ts;
	p->s = h_lookup(p->laddr, p->lport, p->raddr, p->rport);
}

uint32_t h_open_passive(struct h_peer *p, const struct h_synopt *so)
{
	uint32_t before = H.nev;

	h_passive_syn(p, so);
	cr_assert(p->s != TCP_NIL, "no TCB after the SYN");
	HEQ(TCB(p->s)->state, TCP_SYN_RECEIVED);
	h_peer_ack(p, p->rcv_nxt);
	h_none();
	HEQ(TCB(p->s)->state, TCP_ESTABLISHED);
	HEQ(TCB(p->s)->iss, p->iss);
	HEQ(TCB(p->s)->rcv_nxt, p->snd_nxt);
	HEQ(TCB(p->s)->snd_una, p->iss + 1);
	if (TCB(p->s)->app == TAPP_TEST) {
		HEQ(H.nev, before + 1);
		HEQ(H.ev[before].s, p->s);
		HEQ(H.ev[before].ev, TEV_APP_CONNECTED);
	}
	return p->s;
}

uint32_t h_open_active(struct h_peer *p, const struct h_synopt *so)
{
	struct h_out o;
	int err = 1;
	uint32_t s = tcp_connect(&H.ctx, p->raddr, p->rport, TAPP_TEST, &err);
	bool ws = so->ws && PRM->window_scaling, sack = so->sack && PRM->sack,
	     ts = so->ts && PRM->timestamps;

	cr_assert(s != TCP_NIL, "tcp_connect failed: %d", err);
	HEQ(err, 0);
	p->s = s;
	p->lport = TCB(s)->lport;
	HEQ(TCB(s)->state, TCP_SYN_SENT);
	h_peer_next(p, &o);
	HEQ(o.flags, TH_SYN | (PRM->ecn == PORTER_ECN_ON ? TH_ECE | TH_CWR : 0));   /* RFC 3168 §6.1.1 */
	HEQ(o.tos & 3, 0);
	HEQ(o.seq, TCB(s)->iss);
	HEQ(o.len, 0);
	HEQ(o.wnd, PRM->rcv_buf < 65535 ? PRM->rcv_buf : 65535);
	HTRUE(o.opt.has_mss);
	HEQ(o.opt.mss, 1460);
	HEQ(o.opt.has_wscale, !!PRM->window_scaling);
	HEQ(o.opt.sack_perm, !!PRM->sack);
	HEQ(o.opt.has_ts, !!PRM->timestamps);
	p->iss = o.seq;
	p->rcv_nxt = o.seq + 1;
	p->so = *so;
	p->wscale = so->ws ? so->ws_val : 0;
	p->ts = ts;
	h_peer_send(p, TH_SYN | TH_ACK, p->isn, p->rcv_nxt, NULL, 0);
	p->snd_nxt = p->isn + 1;
	h_peer_next(p, &o);
	HEQ(o.flags, TH_ACK);
	HEQ(o.seq, p->iss + 1);
	HEQ(o.ack, p->isn + 1);
	HEQ(o.len, 0);
	HEQ(TCB(s)->state, TCP_ESTABLISHED);
	HEQ(!!(TCB(s)->flags & TF(WS_OK)), ws);
	HEQ(!!(TCB(s)->flags & TF(SACK_OK)), sack);
	HEQ(!!(TCB(s)->flags & TF(TS_OK)), ts);
	HTRUE(h_events(s) & TEV_APP_CONNECTED);
	return s;
}

uint32_t h_goto(struct h_peer *p, enum tcp_state st, const struct h_synopt *so)
{
	struct h_out o;
	uint32_t s;

	if (st == TCP_SYN_SENT) {
		int err = 1;

		s = tcp_connect(&H.ctx, p->raddr, p->rport, TAPP_TEST, &err);
		cr_assert(s != TCP_NIL, "tcp_connect: %d", err);
		p->s = s;
		p->lport = TCB(s)->lport;
		p->so = *so;
		h_peer_next(p, &o);
		HEQ(o.flags, TH_SYN);
		p->iss = o.seq;
		p->rcv_nxt = o.seq + 1;
		HEQ(TCB(s)->state, TCP_SYN_SENT);
		return s;
	}
	if (st == TCP_SYN_RECEIVED) {
		h_passive_syn(p, so);
		cr_assert(p->s != TCP_NIL);
		HEQ(TCB(p->s)->state, TCP_SYN_RECEIVED);
		return p->s;
	}
	s = h_open_passive(p, so);
	switch (st) {
	case TCP_ESTABLISHED:
		break;
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSING:
	case TCP_TIME_WAIT:
		HEQ(tcp_shutdown(&H.ctx, s), 0);
		h_peer_next(p, &o);
		HEQ(o.flags, TH_FIN | TH_ACK);
		HEQ(o.seq, p->iss + 1);
		if (st == TCP_FIN_WAIT_1)
			break;
		if (st == TCP_CLOSING) {
			h_peer_send(p, TH_FIN | TH_ACK, p->snd_nxt, p->iss + 1, NULL, 0);
			p->snd_nxt++;
			h_peer_next(p, &o);
			HEQ(o.flags, TH_ACK);
			HEQ(o.ack, p->snd_nxt);
			break;
		}
		p->rcv_nxt = p->iss + 2;
		h_peer_ack(p, p->rcv_nxt);
		if (st == TCP_FIN_WAIT_2)
			break;
		h_peer_fin(p);
		h_peer_next(p, &o);
		HEQ(o.flags, TH_ACK);
		HEQ(o.ack, p->snd_nxt);
		break;
	case TCP_CLOSE_WAIT:
	case TCP_LAST_ACK:
		h_peer_fin(p);
		h_peer_next(p, &o);
		HEQ(o.flags, TH_ACK);
		HEQ(o.ack, p->snd_nxt);
		if (st == TCP_CLOSE_WAIT)
			break;
		HEQ(tcp_shutdown(&H.ctx, s), 0);
		h_peer_next(p, &o);
		HEQ(o.flags, TH_FIN | TH_ACK);
		HEQ(o.seq, p->iss + 1);
		break;
	default:
		cr_assert_fail("h_goto: no way to state %u", st);
	}
	h_none();
	HEQ(TCB(s)->state, st);
	return s;
}

/* ---- keys and patterns ------------------------------------------------------------------- */

void h_iss_key_for(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport, uint32_t lo,
		   uint32_t hi)
{
	uint8_t key[TCP_SECRET_LEN];

	memcpy(key, H.ctx.area->isn_key, sizeof(key));
	for (uint32_t i = 0; i < (1u << 26); i++) {
		memcpy(key, &i, sizeof(i));
		if (tcp_isn(key, laddr, lport, raddr, rport, H.ctx.now_us) - lo <= hi - lo) {
			memcpy(H.ctx.area->isn_key, key, sizeof(key));
			return;
		}
	}
	cr_assert_fail("no ISN key gives an ISS in [%#x, %#x]", lo, hi);
}

void h_pattern(uint8_t *buf, uint32_t len, uint32_t off)
{
	for (uint32_t i = 0; i < len; i++) {
		uint32_t x = off + i;

		buf[i] = (uint8_t)(x * 31 + (x >> 8) * 7 + 1);
	}
}
