/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Segment arrival, in the order of RFC 9293 §3.10.7 ("SEGMENT ARRIVES"),
 * with RFC 5961 (blind in-window attacks), RFC 7323 (PAWS, RTTM), RFC 2018 /
 * RFC 6675 (SACK, loss recovery), RFC 5681 / RFC 6582 (congestion control,
 * NewReno), RFC 6298 (RTO) and RFC 4987 (SYN cookies), and the stream timers.
 *
 *   tcp_input
 *    ├─ parse (checksum, options)                    drop: malformed, checksum
 *    ├─ no TCB: listener?  SYN -> SYN-RECEIVED or cookie; ACK -> cookie check
 *    │          else       RST per §3.10.7.1
 *    ├─ SYN-SENT           §3.10.7.3
 *    └─ synchronized       §3.10.7.4: PAWS, sequence check, RST, SYN, ACK,
 *                          text, FIN; then events to the app, then output
 *
 * One file, past the ~900 lines porter's other files keep to, on purpose:
 * segment arrival is one sequence of steps, checked in the RFC's order and
 * best read top to bottom beside §3.10.7, its steps sharing one per-segment
 * context (struct tcp_seg) and the static helpers above them; cut into files,
 * one segment's path would be followed across them. Linux's
 * net/ipv4/tcp_input.c and BSD's sys/netinet/tcp_input.c keep it whole too.
 * Only what runs the same steps' helpers stays beside it (timer expiries,
 * ICMP input); the rest has files of its own: options (tcp_opt.c), loss
 * recovery (tcp_loss.c), congestion control (tcp_cc.c), the timer wheel
 * (tcp_timer.c), output (tcp_output.c).
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "secondary/tcp/tcp_cksum.h"
#include "shm/rate.h"
#include "secondary/tcp/tcp_priv.h"
#include "shm/hash.h"

#define OOO_FIN 0x10u     /* seg flag: the out-of-order segment carried FIN */

/* --- parsing ---------------------------------------------------------------- */

static int parse(struct tcp_ctx *c, struct rte_mbuf *m, struct tcp_seg *sg)
{
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	uint32_t ihl, ip_len, thl;
	int pi;

	if (m->data_len < ETH_HDR_LEN + IP_HDR_LEN + TCP_HDR_LEN)
		return -TDROP_MALFORMED;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, ETH_HDR_LEN);
	ihl = (ip->version_ihl & 0xf) * 4u;
	ip_len = rte_be_to_cpu_16(ip->total_length);
	if (ihl < IP_HDR_LEN || ip_len < ihl + TCP_HDR_LEN || ETH_HDR_LEN + ip_len > m->data_len ||
	    ip->next_proto_id != IPPROTO_TCP)
		return -TDROP_MALFORMED;
	th = (const struct rte_tcp_hdr *)((const uint8_t *)ip + ihl);
	thl = (th->data_off >> 4) * 4u;
	if (thl < TCP_HDR_LEN || ihl + thl > ip_len)
		return -TDROP_MALFORMED;
	/*
	 * RFC 9293 §3.1: the checksum covers the pseudo header, header and data.
	 * Verified once per frame: the worker's first pass (tcp_input_stateless)
	 * marks the mbuf good and tcp_input() trusts the mark, as it would a
	 * NIC's verdict.
	 */
	switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
		break;
	case RTE_MBUF_F_RX_L4_CKSUM_BAD:
		return -TDROP_CSUM;
	default:
		if (!tcp_cksum_ok(ip, th, ip_len - ihl))
			return -TDROP_CSUM;
		m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_RX_L4_CKSUM_MASK) | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		break;
	}
	memset(sg, 0, sizeof(*sg));
	sg->m = m;
	sg->saddr = rte_be_to_cpu_32(ip->src_addr);
	sg->daddr = rte_be_to_cpu_32(ip->dst_addr);
	sg->sport = rte_be_to_cpu_16(th->src_port);
	sg->dport = rte_be_to_cpu_16(th->dst_port);
	sg->seq = rte_be_to_cpu_32(th->sent_seq);
	sg->ack = rte_be_to_cpu_32(th->recv_ack);
	sg->wnd = rte_be_to_cpu_16(th->rx_win);
	sg->flags = th->tcp_flags;
	sg->ecn = ip->type_of_service & IP_ECN_MASK;
	sg->payload_off = (uint16_t)(ETH_HDR_LEN + ihl + thl);
	sg->len = ip_len - ihl - thl;
	sg->seg_len = sg->len + !!(sg->flags & TH_SYN) + !!(sg->flags & TH_FIN);
	if (tcp_opts_parse((const uint8_t *)(th + 1), thl - TCP_HDR_LEN, &sg->opt) < 0)
		return -TDROP_MALFORMED;
	pi = tcp_port_of_addr(c, sg->daddr);
	if (pi < 0)
		return -TDROP_MALFORMED;
	sg->port = (uint8_t)pi;
	return 0;
}

static void drop(struct tcp_ctx *c, struct tcp_seg *sg, enum tcp_drop why)
{
	if (why != TDROP_NONE)
		tcp_count_drop(c, why);
	if (sg->m) {
		tcp_env_free(c, sg->m);
		sg->m = NULL;
	}
}

/* --- helpers ------------------------------------------------------------------ */

void tcp_update_rtt(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t rtt_us)
{
	/* RFC 6298 §2.2 and §2.3, alpha = 1/8, beta = 1/4, G = 1 ms */
	uint32_t rto;

	if (rtt_us == 0)
		rtt_us = 1;
	if (t->srtt_us == 0) {
		t->srtt_us = rtt_us;
		t->rttvar_us = rtt_us / 2;
	} else {
		uint32_t delta = t->srtt_us > rtt_us ? t->srtt_us - rtt_us : rtt_us - t->srtt_us;

		t->rttvar_us = (3 * t->rttvar_us + delta) / 4;
		t->srtt_us = (7 * t->srtt_us + rtt_us) / 8;
	}
	rto = (t->srtt_us + (4 * t->rttvar_us > 1000 ? 4 * t->rttvar_us : 1000) + 999) / 1000;
	/* §2.4 (minimum) and §2.5 (maximum) */
	if (rto < c->prm->rto_min_ms)
		rto = c->prm->rto_min_ms;
	if (rto > c->prm->rto_max_ms)
		rto = c->prm->rto_max_ms;
	t->rto_ms = rto;
}

void tcb_init_common(struct tcp_ctx *c, struct tcp_tcb *t)
{
	t->rto_ms = c->prm->rto_initial_ms;    /* RFC 6298 §2.1 */
	t->t_next = t->t_prev = TCP_NIL;
	t->last_rcv_ms = c->now_ms;
	t->born_ms = c->now_ms;
	if (c->prm->nodelay)
		t->flags |= TF(NODELAY);
}

/* Apply the options of a SYN (RFC 7323 §2.2, §3.2; RFC 2018 §2; RFC 9293 §3.7.1). */
static void syn_options(struct tcp_ctx *c, struct tcp_tcb *t, const struct tcp_opts *o)
{
	uint16_t ours = tcp_our_mss(c, t->port);

	t->peer_mss = o->has_mss ? o->mss : TCP_DEFAULT_MSS;
	if (o->has_mss && o->mss < TCP_ANOMALY_MSS)
		tcp_anomaly(c, TAN_TINY_MSS);   /* the MSS of CVE-2019-11479 and its kind */
	/* floored like the send MSS below (TCP_MIN_SND_MSS, Linux's since CVE-2019-11479) */
	if (t->peer_mss < TCP_MIN_SND_MSS)
		t->peer_mss = TCP_MIN_SND_MSS;
	t->mss = t->peer_mss < ours ? t->peer_mss : ours;
	if (o->has_wscale && c->prm->window_scaling) {
		t->flags |= TF(WS_OK);
		t->snd_wscale = o->wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->wscale;
		t->rcv_wscale = 0;
		while (t->rcv_wscale < TCP_MAX_WSCALE && (c->prm->rcv_buf >> t->rcv_wscale) > 65535)
			t->rcv_wscale++;
	} else {
		t->snd_wscale = t->rcv_wscale = 0;
	}
	if (o->sack_perm && c->prm->sack)
		t->flags |= TF(SACK_OK);
	if (o->has_ts && c->prm->timestamps) {
		t->flags |= TF(TS_OK);
		t->ts_recent = o->ts_val;
		t->ts_recent_ms = c->now_ms;
		/* RFC 7323 §3.2 / RFC 6691: the options of every segment come out of the MSS */
		t->mss = t->mss > 12 ? (uint16_t)(t->mss - 12) : 0;
	}
	/*
	 * A floor under what the peer may ask for (Linux's tcp_min_snd_mss): an
	 * MSS of 0 would have tcp_send() queue empty buffers until the pool runs
	 * out, and a few bytes per segment is a way to make us work hard.
	 */
	if (t->mss < TCP_MIN_SND_MSS)
		t->mss = TCP_MIN_SND_MSS;
	tcp_pmtu_init(c, t);   /* tcp.mtu_probing 2: start at the base MSS (RFC 4821 §7.2) */
	tcp_cc_init(&t->cc, (enum tcp_cc_algo)c->prm->cc, t->mss);
}

static void set_app_from_listener(struct tcp_ctx *c, struct tcp_tcb *t, const struct porter_listener *l)
{
	t->rate = 0;
	tcp_set_rate(c, tcb_idx(c, t), porter_rate_bps(l->rate));   /* listeners[i].rate_limit */
	t->app = l->app;
	t->app_arg_lo = t->app_arg_hi = 0;   /* bytes queued so far (source) */
	if (t->app >= TAPP_DEADLINE_FIRST)
		t->app_arg_lo = TCP_NIL;         /* proxy: no session yet; no deadline */
}

/*
 * Create an established stream from a valid SYN cookie (RFC 4987 §3.6).
 * NULL for no valid cookie, or (*WHY set) when client_limits refuses it: the
 * completed handshake is where an address is counted, and its address
 * reached a limit since its SYN; or (*WHY = TDROP_SLAB_FULL, already counted)
 * when the cookie is good but the slab has no TCB for it.
 */
static struct tcp_tcb *cookie_open(struct tcp_ctx *c, const struct tcp_seg *sg,
				   const struct porter_listener *l, enum tcp_drop *why)
{
	struct tcp_cookie_opts co;
	uint32_t counter = c->now_ms / 64000;
	struct tcp_tcb *t;
	struct tcp_opts o = { 0 };
	bool counted;

	if (!c->prm->syncookies ||
	    !tcp_cookie_check(c->area->cookie_key, sg->daddr, sg->dport, sg->saddr, sg->sport,
			      sg->seq - 1, sg->ack - 1, counter, &co))
		return NULL;
	*why = tcp_climit_admit(c, sg->saddr, sg->dport, &counted);
	if (*why != TDROP_NONE)
		return NULL;
	t = tcb_alloc(c);
	if (t == NULL) {
		if (counted)
			tcp_climit_uncount(c, sg->saddr);
		*why = TDROP_SLAB_FULL;   /* a good cookie, but no TCB: tcb_alloc counted it */
		return NULL;
	}
	tcb_init_common(c, t);
	t->laddr = sg->daddr;
	t->raddr = sg->saddr;
	t->lport = sg->dport;
	t->rport = sg->sport;
	t->port = sg->port;
	t->iss = sg->ack - 1;
	t->snd_una = t->snd_nxt = t->snd_max = sg->ack;
	t->recover = t->iss;   /* RFC 6582 §3.2: recover starts at the ISS */
	t->irs = sg->seq - 1;
	t->rcv_nxt = sg->seq;
	t->rcv_adv = sg->seq;
	o.has_mss = true;
	o.mss = co.mss;
	o.has_wscale = co.has_wscale;
	o.wscale = co.wscale;
	o.sack_perm = co.sack_perm;
	/* timestamps only if this ACK still carries them */
	o.has_ts = co.ts && sg->opt.has_ts;
	o.ts_val = sg->opt.ts_val;
	syn_options(c, t, &o);
	/*
	 * What the SYN,ACK and this ACK said: our SYN,ACK offered an unscaled
	 * window (RFC 7323 §2.2), so data in this ACK is in the window; the
	 * ACK's window is the first send window (RFC 9293 §3.10.7.4: SND.WND,
	 * SND.WL1, SND.WL2 as on leaving SYN-RECEIVED).
	 */
	t->rcv_adv = sg->seq + (c->prm->rcv_buf < 65535 ? c->prm->rcv_buf : 65535);
	t->last_ack_sent = sg->seq;
	t->snd_wnd = sg->wnd << t->snd_wscale;
	t->max_snd_wnd = t->snd_wnd;
	t->snd_wl1 = sg->seq;
	t->snd_wl2 = sg->ack;
	t->flags |= TF(COOKIE) | TF(PASSIVE);
	set_app_from_listener(c, t, l);
	t->state = TCP_ESTABLISHED;
	tcp_count(c, TEV_ESTABLISHED);
	tcp_count(c, TEV_COOKIES_OK);
	tcp_count(c, TEV_PASSIVE_OPENS);
	tcb_hash_insert(c, t);
	if (counted)
		t->flags |= TF(CLIMIT);
	return t;
}

/*
 * The listener that takes new connections on PORT: none while the gateway
 * stops (tcp_ctx.draining), so that a SYN, or the ACK of a SYN cookie, is
 * answered as a closed port would (RST, counted in no_listener), as nginx's
 * closed listening sockets are.
 */
static const struct porter_listener *accepting(const struct tcp_ctx *c, uint16_t port)
{
	return c->draining ? NULL : tcp_listener(c, port);
}

/* client_limits refused SG (a SYN, or a cookie's ACK) for reason WHY: RST, as a closed port would. */
static void climit_refuse(struct tcp_ctx *c, struct tcp_seg *sg, enum tcp_drop why)
{
	tcp_count_drop(c, why);
	tcp_send_rst_reply(c, sg);
}

/* RFC 9293 §3.10.7.2: SYN to a listener. */
static void listen_syn(struct tcp_ctx *c, struct tcp_seg *sg, const struct porter_listener *l)
{
	struct tcp_area *a = c->area;
	enum tcp_drop why;
	struct tcp_tcb *t;

	/* client_limits first: a refused SYN gets neither a TCB nor a cookie, and ends no TIME-WAIT
	 * (the address is counted when its handshake completes: SYN-RECEIVED below, cookie_open) */
	why = l->no_climit ? TDROP_NONE : tcp_climit_syn(c, sg->saddr);
	if (why != TDROP_NONE) {
		climit_refuse(c, sg, why);
		return;
	}
	if (!tcb_available(a))
		tcp_reclaim_time_wait(c);   /* a new connection before the tail of an old one's 2MSL */
	if (a->half_open >= c->prm->syn_backlog || !tcb_available(a)) {
		if (c->prm->syncookies) {
			/* RFC 4987 §3.6: answer without state */
			if (sg->opt.has_mss && sg->opt.mss < TCP_ANOMALY_MSS)
				tcp_anomaly(c, TAN_TINY_MSS);   /* syn_options() is not reached on this path */
			struct tcp_cookie_opts co = {
				.mss = sg->opt.has_mss ? sg->opt.mss : TCP_DEFAULT_MSS,
				.wscale = sg->opt.wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : sg->opt.wscale,
				.has_wscale = sg->opt.has_wscale,
				.sack_perm = sg->opt.sack_perm,
				.ts = sg->opt.has_ts,
			};
			uint32_t cookie = tcp_cookie_make(a->cookie_key, sg->daddr, sg->dport, sg->saddr,
							  sg->sport, sg->seq, c->now_ms / 64000, &co);

			tcp_send_synack_cookie(c, sg, cookie, &co);
			drop(c, sg, TDROP_NONE);
			return;
		}
		drop(c, sg, !tcb_available(a) ? TDROP_SLAB_FULL : TDROP_BACKLOG_FULL);
		return;
	}
	t = tcb_alloc(c);
	if (t == NULL) {
		drop(c, sg, TDROP_NONE);
		return;
	}
	tcp_touch(c, t);
	tcb_init_common(c, t);
	t->laddr = sg->daddr;
	t->raddr = sg->saddr;
	t->lport = sg->dport;
	t->rport = sg->sport;
	t->port = sg->port;
	t->irs = sg->seq;
	t->rcv_nxt = sg->seq + 1;
	t->rcv_adv = t->rcv_nxt;
	/* RFC 6528 ISN */
	t->iss = tcp_isn(a->isn_key, t->laddr, t->lport, t->raddr, t->rport, c->now_us);
	if (sg->tw_reuse && seq_lt(t->iss, sg->tw_snd_max))
		t->iss = sg->tw_snd_max;   /* RFC 1122 §4.2.2.13 (1): above the old incarnation */
	t->snd_una = t->snd_nxt = t->snd_max = t->iss;
	t->recover = t->iss;    /* RFC 6582 §3.2: recover starts at the ISS */
	t->snd_wnd = sg->wnd;   /* never scaled in a SYN (RFC 7323 §2.2) */
	t->max_snd_wnd = t->snd_wnd;
	t->snd_wl1 = sg->seq;
	t->snd_wl2 = t->iss;
	syn_options(c, t, &sg->opt);
	/* RFC 3168 §6.1.1: an ECN-setup SYN has ECE and CWR; our SYN-ACK then carries ECE */
	if (c->prm->ecn != PORTER_ECN_OFF && (sg->flags & (TH_ECE | TH_CWR)) == (TH_ECE | TH_CWR))
		t->flags |= TF(ECN);
	t->flags |= TF(PASSIVE);
	set_app_from_listener(c, t, l);
	t->state = TCP_SYN_RECEIVED;
	a->half_open++;
	tcp_count(c, TEV_PASSIVE_OPENS);
	tcb_hash_insert(c, t);
	drop(c, sg, TDROP_NONE);   /* a SYN's data is not kept (we never offer TFO) */
	tcp_output(c, t);
}

/* --- the send side of an ACK -------------------------------------------------------- */

/*
 * Free what SEG.ACK acknowledges; returns bytes of data removed. Feeds RACK
 * (SACK streams) and, in *RTT_US, the RTT of the oldest segment it frees
 * that was sent once (RFC 6298 §3, Karn), in microseconds; UINT32_MAX if none.
 */
static uint32_t sndq_ack(struct tcp_ctx *c, struct tcp_tcb *t, const struct tcp_ack_info *ai, uint32_t *rtt_us)
{
	bool sack = !!(t->flags & TF(SACK_OK));
	uint32_t freed = 0;

	bool retrans = false;

	*rtt_us = UINT32_MAX;
	while (t->snd_head) {
		struct rte_mbuf *m = t->snd_head;

		if (seq_leq(seg_end(m), t->snd_una)) {
			retrans = retrans || (seg_flags(m) & SEG_EVER_RETRANS);
			if (seg_flags(m) & SEG_PROBE)
				tcp_pmtu_probe_acked(c, t, m);   /* RFC 4821 §7.6.1 */
			if (*rtt_us == UINT32_MAX && (seg_flags(m) & (SEG_SENT | SEG_EVER_RETRANS)) == SEG_SENT) {
				int32_t d = (int32_t)((uint32_t)c->now_us - seg_xmit_us(m));

				*rtt_us = d > 0 ? (uint32_t)d : 0;
			}
			if (sack) {
				if (seg_flags(m) & SEG_SACKED)
					t->sacked_bytes -= seg_len(m);
				else
					tcp_rack_delivered(c, t, m, ai, true);
			}
			tcp_q_pop(c, &t->snd_head);
			tcp_snd_hint_drop(c, t, m);
			freed += seg_len(m);
			t->snd_bytes -= seg_len(m);
			tcp_env_free(c, m);
			continue;
		}
		if (seq_lt(seg_seq(m), t->snd_una)) {
			uint32_t n = t->snd_una - seg_seq(m);

			if (seg_flags(m) & SEG_SACKED)
				t->sacked_bytes -= n;
			tcp_env_trim(c, m, n);
			freed += n;
			t->snd_bytes -= n;
		}
		break;
	}
	if (t->snd_head == NULL)
		t->snd_tail = NULL;
	/* Karn, as Linux applies it: an ACK that covers a retransmission gives no
	 * sample from older segments either (it was held back by the hole, and
	 * would count the whole repair as path delay) */
	if (retrans || (t->snd_head && (seg_flags(t->snd_head) & SEG_EVER_RETRANS) && freed))
		*rtt_us = UINT32_MAX;
	return freed;
}

/* NewReno fast retransmit (RFC 6582 §3.2 steps 2-3), for streams without SACK. */
static void enter_recovery_newreno(struct tcp_ctx *c, struct tcp_tcb *t)
{
	uint32_t flight = t->snd_max - t->snd_una;

	t->recover = t->snd_max;
	t->flags |= TF(RECOVERY);
	tcp_cc_on_loss(&t->cc, t->mss, flight, 1);
	tcp_ecn_reduced(t);
	tcp_ecn_hold(t);   /* NewReno has no recover_fs: the hold may start now */
	tcp_count(c, TEV_FAST_RECOVERY);
	if (t->snd_head) {
		seg_set_flags(t->snd_head, seg_flags(t->snd_head) | SEG_LOST);
		tcp_retransmit_seg(c, t, t->snd_head);
	}
}

/*
 * RFC 9293 §3.10.7.4 fifth (ACK field) for the synchronized states: the
 * acceptable-ACK test of RFC 5961 §5.2, then send-side updates. Streams
 * with SACK recover as tcp_loss.c says; the others by NewReno.
 * Returns false when the segment must be dropped.
 */
static bool process_ack(struct tcp_ctx *c, struct tcp_tcb *t, struct tcp_seg *sg, uint32_t *ev)
{
	uint32_t ack = sg->ack;
	uint32_t old_una = t->snd_una;
	bool dup = false, sampled = false, sack = !!(t->flags & TF(SACK_OK));
	struct tcp_ack_info ai = {
		.old_una = old_una, .sacked_before = t->sacked_bytes, .ack = ack,
		.fack0 = t->rack_fack, .fack0_ok = t->rack_end_seq || t->rack_xmit_us,
	};

	if ((t->flags & TF(TS_OK)) && sg->opt.has_ts)
		ai.ts_ecr = sg->opt.ts_ecr;

	/* RFC 5961 §5.2: (SND.UNA - MAX.SND.WND) <= SEG.ACK <= SND.NXT, else challenge ACK */
	if (seq_gt(ack, t->snd_max) || seq_lt(ack, t->snd_una - t->max_snd_wnd)) {
		tcp_count_drop(c, TDROP_BAD_ACK);
		tcp_challenge_ack(c, t);
		return false;
	}
	if (seq_gt(ack, t->snd_una)) {
		uint32_t acked = ack - t->snd_una, rtt_us;
		bool in_recovery = !!(t->flags & TF(RECOVERY));

		t->snd_una = ack;
		if (sndq_ack(c, t, &ai, &rtt_us))
			*ev |= TEV_APP_WRITABLE;
		/*
		 * RTT: from the send time of the oldest segment acknowledged that
		 * was sent once (microseconds, Karn's rule); else RFC 7323 §4.1
		 * timestamps (milliseconds); else the timed segment (RFC 6298 §3).
		 */
		if (rtt_us != UINT32_MAX) {
			tcp_update_rtt(c, t, rtt_us);
			t->flags &= ~TF(RTT_TIMING);
			sampled = true;
		} else if ((t->flags & TF(TS_OK)) && sg->opt.has_ts && sg->opt.ts_ecr &&
			   !ms_before(c->now_ms, sg->opt.ts_ecr)) {
			tcp_update_rtt(c, t, (c->now_ms - sg->opt.ts_ecr) * 1000);
			sampled = true;
		} else if ((t->flags & TF(RTT_TIMING)) && seq_gt(ack, t->rtt_seq)) {
			tcp_update_rtt(c, t, (c->now_ms - t->rtt_start_ms) * 1000);
			t->flags &= ~TF(RTT_TIMING);
			sampled = true;
		}
		if (seq_lt(t->snd_nxt, t->snd_una))
			t->snd_nxt = t->snd_una;
		/*
		 * Karn's algorithm (RFC 6298 §5.5 and the note after §5.7): the
		 * backed-off RTO stays until a valid RTT sample recomputes it; the
		 * ACK of a retransmitted segment gives none.
		 */
		if (sampled)
			t->rto_shift = 0;
		t->dupacks = 0;
		if (sack) {
			/* RFC 6298 §5.2/§5.3 (or the probe's timeout), before RACK may set its own */
			tcp_arm_retransmit_timer(c, t);
			tcp_sack_mark(c, t, &sg->opt, &ai);
			tcp_sack_ack(c, t, sg, &ai);
		} else {
			if (t->flags & TF(RECOVERY)) {
				if (seq_geq(t->snd_una, t->recover)) {
					/* full ACK: recovery ends (RFC 6582 §3.2 step 6) */
					t->flags &= ~TF(RECOVERY);
					tcp_cc_on_recovery_end(&t->cc, t->mss, t->snd_max - t->snd_una);
					tcp_ecn_hold(t);
				} else {
					/* partial ACK (RFC 6582 §3.2 step 5) */
					tcp_cc_on_partial_ack(&t->cc, t->mss, acked);
					if (t->snd_head)
						tcp_retransmit_seg(c, t, t->snd_head);
				}
			}
			/* RFC 6298 §5.2/§5.3: all acknowledged -> stop the timer, else restart it */
			if (t->snd_una == t->snd_max)
				t->rto_at = 0;
			else
				tcp_rto_arm(c, t);
			tcp_timer_update(c, t);
		}
		/*
		 * Grow only a window that limited the sender (RFC 7661 §4.3, RFC 9438
		 * §4.1: no growth while application-limited), and not during fast
		 * recovery. Limited: the flight before this ACK filled it, or the last
		 * output found it full (cwnd_full). The second test is the one for the
		 * later ACKs of a burst: output waits for the burst's end, so each ACK
		 * sees the flight the ones before it emptied, and only the first would
		 * count. Linux keeps the same verdict from send time (is_cwnd_limited).
		 */
		if (!in_recovery && !(t->flags & TF(RECOVERY)) &&
		    (t->snd_max - old_una + t->mss >= t->cc.cwnd || (c->cwnd_full && c->cwnd_full[tcb_idx(c, t)])))
			tcp_cc_on_ack(&t->cc, t->mss, acked, c->now_ms, t->srtt_us / 1000);
		t->flags &= ~TF(REXMIT);
	} else if (ack == t->snd_una) {
		/* RFC 5681 §2 DUPLICATE ACKNOWLEDGMENT */
		dup = t->snd_una != t->snd_max && sg->len == 0 && !(sg->flags & (TH_SYN | TH_FIN)) &&
		      (sg->wnd << t->snd_wscale) == t->snd_wnd &&
		      sg->wnd != 0;   /* the answer to a zero-window probe is no loss signal */
		if (sack && sg->opt.nsack) {
			tcp_sack_mark(c, t, &sg->opt, &ai);
			tcp_sack_ack(c, t, sg, &ai);
		}
	}
	if (dup) {
		t->dupacks++;
		if (sack) {
			/* RACK decides (tcp_loss.c); duplicate ACKs only count */
		} else if (t->flags & TF(RECOVERY)) {
			tcp_cc_on_dupack_in_recovery(&t->cc, t->mss);
		} else if (t->dupacks >= TCP_DUPTHRESH && seq_gt(t->snd_una - 1, t->recover - 1)) {
			/* RFC 6582 §3.2 step 1: only if the ACK covers more than recover */
			enter_recovery_newreno(c, t);
		}
	}
	/* RFC 9293 §3.10.7.4: window update if SND.WL1 < SEG.SEQ or (== and SND.WL2 =< SEG.ACK) */
	if (seq_lt(t->snd_wl1, sg->seq) || (t->snd_wl1 == sg->seq && seq_leq(t->snd_wl2, ack))) {
		uint32_t wnd = sg->wnd << t->snd_wscale;

		if (wnd > t->snd_wnd)
			*ev |= TEV_APP_WRITABLE;
		if (wnd && t->snd_wnd == 0 && t->snd_nxt == t->snd_una)
			t->rto_shift = 0;   /* the zero window opened: the persist backoff ends */
		if (wnd == 0 && t->zwnd_since_ms == 0)
			t->zwnd_since_ms = c->now_ms | 1;
		else if (wnd != 0) {
			t->zwnd_since_ms = 0;
			t->flags &= ~TF(ZWND_LONG);
		}
		t->snd_wnd = wnd;
		if (wnd > t->max_snd_wnd)
			t->max_snd_wnd = wnd;
		t->snd_wl1 = sg->seq;
		t->snd_wl2 = ack;
		if (wnd && t->rto_at && t->snd_una == t->snd_nxt && t->snd_head && old_una == ack)
			t->rto_at = 0;   /* window opened: persist timer off, output resumes */
	}
	return true;
}

/* --- the receive side ----------------------------------------------------------- */

/*
 * Append in-order segment M to the receive queue. A small segment is copied
 * into the tail's free room instead (and M freed): queued data costs about
 * one buffer per 2 KiB however it was cut, so a peer dripping one byte per
 * segment cannot hold a buffer per byte (the pool is the whole shard's).
 */
#define TCP_RCV_COALESCE 512

static void rcvq_append(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *m)
{
	struct rte_mbuf *tail = t->rcv_tail;
	uint32_t len = seg_len(m);

	if (tail && len <= TCP_RCV_COALESCE && len <= rte_pktmbuf_tailroom(tail)) {
		/* bytes first, length after; RCV.NXT last (recovery moves it up to the tail's end) */
		memcpy(rte_pktmbuf_mtod_offset(tail, uint8_t *, tail->data_len),
		       rte_pktmbuf_mtod(m, const uint8_t *), len);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		tail->data_len = (uint16_t)(tail->data_len + len);
		tail->pkt_len = tail->data_len;
		CRASH_POINT("tcp_input.rcv_coalesced");
		t->rcv_bytes += len;
		t->rcv_nxt += len;
		t->bytes_in += len;
		m->next = NULL;
		tcp_env_free(c, m);
		return;
	}
	m->next = NULL;
	if (t->rcv_tail)
		t->rcv_tail->next = m;
	else
		t->rcv_head = m;
	CRASH_POINT("tcp_input.rcv_linked");
	t->rcv_tail = m;
	t->rcv_bytes += seg_len(m);
	CRASH_POINT("tcp_input.rcv_counted");
	t->rcv_nxt += seg_len(m);
	t->bytes_in += seg_len(m);
}

/* Duplicate data [L, R) arrived: report it in the next ACK (RFC 2883 §4). */
static void dsack_note(struct tcp_tcb *t, uint32_t l, uint32_t r)
{
	if ((t->flags & TF(SACK_OK)) && seq_lt(l, r)) {
		t->dsack_left = l;
		t->dsack_right = r;
	}
}

/*
 * The SACK blocks to report (RFC 2018 §4): the block holding the latest
 * arrival first, then the most recently reported others. [L, R) just
 * arrived out of order: it joins (and merges) every block it touches.
 * Blocks only ever cover data the out-of-order queue holds.
 */
static void sack_add(struct tcp_tcb *t, uint32_t l, uint32_t r)
{
	uint32_t nl = l, nr = r, k = 1;
	struct { uint32_t left, right; } out[4] = { { 0, 0 } };

	for (unsigned int i = 0; i < 4; i++) {
		uint32_t bl = t->sack[i].left, br = t->sack[i].right;

		if (bl == br)
			continue;
		if (seq_leq(bl, nr) && seq_leq(nl, br)) {
			nl = seq_lt(bl, nl) ? bl : nl;
			nr = seq_gt(br, nr) ? br : nr;
		}
	}
	for (unsigned int i = 0; i < 4 && k < 4; i++) {
		uint32_t bl = t->sack[i].left, br = t->sack[i].right;

		if (bl == br || (seq_geq(bl, nl) && seq_leq(br, nr)))
			continue;
		out[k].left = bl;
		out[k].right = br;
		k++;
	}
	out[0].left = nl;
	out[0].right = nr;
	for (unsigned int i = 0; i < 4; i++) {
		t->sack[i].left = out[i].left;
		t->sack[i].right = out[i].right;
	}
}

/* RCV.NXT moved: blocks now below it go, a block it cuts keeps its upper part. */
static void sack_prune(struct tcp_tcb *t)
{
	for (unsigned int i = 0; i < 4; i++) {
		if (t->sack[i].left == t->sack[i].right)
			continue;
		if (seq_leq(t->sack[i].right, t->rcv_nxt))
			t->sack[i].left = t->sack[i].right = 0;
		else if (seq_lt(t->sack[i].left, t->rcv_nxt))
			t->sack[i].left = t->rcv_nxt;
	}
}

/*
 * Insert into the out-of-order queue, sorted, without overlaps. Consumes M.
 * Arrivals in order after a hole (the common case) append at the tail.
 */
static void ooo_insert(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *m)
{
	struct rte_mbuf **pp = &t->ooo_head;
	uint32_t cap = c->prm->rcv_buf / TCP_OOO_BUF_PER_SEG;

	if (cap < TCP_OOO_MIN_SEGS)
		cap = TCP_OOO_MIN_SEGS;
	if (cap > UINT16_MAX)
		cap = UINT16_MAX;   /* tcb.ooo_segs is 16 bits */
	if (t->ooo_head == NULL)
		t->ooo_tail = NULL;
	if (t->ooo_tail && seq_geq(seg_seq(m), seg_end(t->ooo_tail))) {
		pp = &t->ooo_tail->next;
	} else {
		while (*pp && seq_leq(seg_end(*pp), seg_seq(m)))
			pp = &(*pp)->next;
	}
	if (*pp && seq_lt(seg_seq(*pp), seg_end(m))) {
		/* overlaps the next one: keep the part before it, or drop a duplicate */
		uint32_t keep = seg_seq(*pp) - seg_seq(m);

		if ((int32_t)keep <= 0) {
			uint32_t r = seq_lt(seg_end(m), seg_end(*pp)) ? seg_end(m) : seg_end(*pp);

			dsack_note(t, seg_seq(m), r);
			sack_add(t, seg_seq(*pp), seg_end(*pp));
			tcp_env_free(c, m);
			return;
		}
		dsack_note(t, seg_seq(*pp), seq_lt(seg_end(m), seg_end(*pp)) ? seg_end(m) : seg_end(*pp));
		rte_pktmbuf_trim(m, (uint16_t)(seg_len(m) - keep));
		seg_set_flags(m, seg_flags(m) & ~OOO_FIN);
	}
	if (t->ooo_segs >= cap) {
		tcp_count_drop(c, TDROP_OOO_FULL);
		tcp_env_free(c, m);
		return;
	}
	m->next = *pp;
	*pp = m;
	CRASH_POINT("tcp_input.ooo_linked");
	if (m->next == NULL)
		t->ooo_tail = m;
	t->ooo_segs++;
	sack_add(t, seg_seq(m), seg_end(m));
}

/*
 * The FIN is in order: nothing follows it (RFC 9293 §3.10.7.4 eighth), so
 * what is still queued out of order is not the peer's stream (a peer that
 * sent data past its FIN; Linux's tcp_fin() drops it too). Unlinked first,
 * freed after (tcp_drop_queues); no SACK block names it any more.
 */
static void ooo_drop(struct tcp_ctx *c, struct tcp_tcb *t)
{
	t->ooo_tail = NULL;
	t->ooo_segs = 0;
	tcp_q_free(c, &t->ooo_head);
	for (unsigned int i = 0; i < 4; i++)
		t->sack[i].left = t->sack[i].right = 0;
}

/*
 * Move now-in-order segments from the out-of-order queue. Returns OOO_FIN if
 * a FIN became in order (and then the rest of the queue is dropped).
 */
uint32_t tcp_ooo_drain(struct tcp_ctx *c, struct tcp_tcb *t)
{
	while (t->ooo_head && seq_leq(seg_seq(t->ooo_head), t->rcv_nxt)) {
		struct rte_mbuf *m = t->ooo_head;
		uint32_t f = seg_flags(m);

		tcp_q_pop(c, &t->ooo_head);   /* held between the two queues */
		if (t->ooo_head == NULL)
			t->ooo_tail = NULL;
		t->ooo_segs--;
		if (seq_leq(seg_end(m), t->rcv_nxt) && !(f & OOO_FIN && seg_end(m) == t->rcv_nxt)) {
			tcp_env_free(c, m);
			continue;
		}
		if (seq_lt(seg_seq(m), t->rcv_nxt)) {
			uint32_t n = t->rcv_nxt - seg_seq(m);

			rte_pktmbuf_adj(m, (uint16_t)n);
			seg_set_seq(m, t->rcv_nxt);
		}
		if (seg_len(m)) {
			rcvq_append(c, t, m);
		} else {
			tcp_env_free(c, m);
		}
		if (f & OOO_FIN) {
			ooo_drop(c, t);
			return OOO_FIN;
		}
	}
	return 0;
}

/*
 * RFC 9293 §3.10.7.4 seventh (segment text): queue the payload, in order or
 * out of order, trimmed to the window. Returns true if the FIN is now in order.
 */
static bool process_text(struct tcp_ctx *c, struct tcp_tcb *t, struct tcp_seg *sg, uint32_t *ev)
{
	struct rte_mbuf *m = sg->m;
	uint32_t seq = sg->seq + !!(sg->flags & TH_SYN), len = sg->len;
	bool fin = !!(sg->flags & TH_FIN);
	uint32_t wnd_end = t->rcv_adv;

	/* payload only: strip headers and Ethernet padding */
	rte_pktmbuf_adj(m, sg->payload_off);
	if (m->data_len > len)
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - len));
	if (seq_lt(seq, t->rcv_nxt)) {
		uint32_t n = t->rcv_nxt - seq;

		dsack_note(t, seq, n >= len ? seq + len : t->rcv_nxt);
		if (n >= len) {
			len = 0;
		} else {
			rte_pktmbuf_adj(m, (uint16_t)n);
			len -= n;
		}
		seq = t->rcv_nxt;
	}
	if (seq_gt(seq + len, wnd_end)) {
		/* beyond what we offered: keep what fits, and no FIN */
		uint32_t fit = seq_gt(wnd_end, seq) ? wnd_end - seq : 0;

		if (fit < len) {
			tcp_count_drop(c, TDROP_RCV_BUF_FULL);
			rte_pktmbuf_trim(m, (uint16_t)(len - fit));
			len = fit;
			fin = false;
		}
	}
	if (len && tcp_env_pool_low(c)) {
		/* the shard's pool is nearly empty: not queued, not acknowledged; the
		 * peer sends it again once queues have drained (ACKs still get in) */
		tcp_count_drop(c, TDROP_POOL_LOW);
		len = 0;
		fin = false;
	}
	m->pkt_len = len;
	m->nb_segs = 1;
	seg_set_seq(m, seq);
	seg_set_flags(m, fin ? OOO_FIN : 0);
	sg->m = NULL;
	if (seq == t->rcv_nxt) {
		bool drained = false;

		if (len) {
			rcvq_append(c, t, m);
			*ev |= TEV_APP_READABLE;
		} else {
			tcp_env_free(c, m);
		}
		if (t->ooo_head) {
			/* a hole was filled: ACK at once (RFC 5681 §4.2); up to the FIN, if this is it */
			if (fin)
				ooo_drop(c, t);
			else if (tcp_ooo_drain(c, t) & OOO_FIN)
				fin = true;
			sack_prune(t);
			t->flags |= TF(ACK_NOW);
			*ev |= TEV_APP_READABLE;
			drained = true;
		}
		/*
		 * RFC 5681 §4.2 / RFC 1122 §4.2.3.2: ACK every second segment, else
		 * delay. A short segment (a request, a response) is usually answered
		 * by the application at once and its ACK rides on the answer; if no
		 * answer comes, the ACK goes after one timer tick rather than the
		 * full delay, so a peer holding its next small segment back (Nagle)
		 * waits milliseconds, not tens of them.
		 */
		/*
		 * Nor is an ACK delayed when the segment left less than a segment of
		 * the window we offered: the peer can send nothing more until it
		 * hears from us, so a delay would only stall it (and set off its tail
		 * loss probe). Linux acknowledges a full window at once the same way.
		 */
		if (!drained && len) {
			uint32_t d = len < t->mss ? c->prm->delack_short_ms : c->prm->delack_ms;
			bool window_full = !seq_gt(t->rcv_adv, t->rcv_nxt) || t->rcv_adv - t->rcv_nxt < t->mss;

			if (d > c->prm->delack_ms)
				d = c->prm->delack_ms;
			if ((t->flags & TF(DELACK)) || d == 0 || window_full)
				t->flags |= TF(ACK_NOW);
			else {
				t->flags |= TF(DELACK);
				/* the earlier of this and a paced stream's departure (tcp_pace.c): both fire output */
				if (!t->delack_at || ms_before(c->now_ms + d, t->delack_at))
					t->delack_at = c->now_ms + d;
				tcp_timer_update(c, t);
			}
		}
		return fin;
	}
	/* out of order: keep it, ACK at once with SACK blocks (RFC 5681 §4.2, RFC 2018 §4) */
	if (len || fin)
		ooo_insert(c, t, m);
	else
		tcp_env_free(c, m);
	t->flags |= TF(ACK_NOW);
	sg->ack_at_once = true;
	return false;
}

/* --- state changes ---------------------------------------------------------------- */

void tcp_notify(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t events)
{
	uint32_t s = tcb_idx(c, t), saved = c->in_event;

	if (t->app == TAPP_NONE || events == 0)
		return;
	c->in_event = s;
	tcp_app_event(c, s, events);
	c->in_event = saved;
}

void tcp_stream_done(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t events)
{
	tcp_notify(c, t, events);
	tcp_count(c, TEV_CLOSED);
	tcb_free(c, t);
}

static void enter_time_wait(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t *ev)
{
	tcp_set_state(c, t, TCP_TIME_WAIT);
	t->rto_at = 0;
	t->delack_at = 0;
	if (t->app != TAPP_NONE && (t->rcv_bytes || (c->stream_unread && c->stream_unread(c, tcb_idx(c, t))))) {
		/* a half-closed app (a tunnel) has not read all yet: keep what it may
		 * still read; it lets go itself (tcp_close) */
		t->snd_tail = t->ooo_tail = NULL;
		t->snd_bytes = 0;
		t->sacked_bytes = 0;
		t->ooo_segs = 0;
		tcp_snd_hint_drop(c, t, NULL);
		tcp_q_free(c, &t->snd_head);
		tcp_q_free(c, &t->ooo_head);
	} else {
		/* the app is done with it; the TCB alone waits 2MSL (RFC 9293 §3.6.1) */
		tcp_drop_queues(c, t);
		*ev |= TEV_APP_CLOSED;
	}
	t->keep_at = c->now_ms + (c->prm->time_wait_ms ? c->prm->time_wait_ms : 1);
	tcp_timer_update(c, t);
}

/* Our FIN is acknowledged when SND.UNA passed it. */
/*
 * ECN on an acceptable segment of a stream that negotiated it (RFC 3168).
 * Receiver (§6.1.3): a CE mark on data sets ECE on every ACK we send until
 * the peer's CWR; the first one goes at once. Sender (§6.1.2): an ECE halves
 * the window as a loss would, without a retransmission, once per window of
 * data (TF_ECN_HOLD until SND.UNA is past what was sent then); the next new
 * data segment carries CWR. A loss recovery in progress has reduced already.
 */
static void ecn_input(struct tcp_ctx *c, struct tcp_tcb *t, const struct tcp_seg *sg)
{
	if (sg->flags & TH_CWR)
		t->flags &= ~TF(ECE);
	if (sg->ecn == IP_ECN_CE && sg->len) {
		c->area->ecn_ce_received++;
		if (!(t->flags & TF(ECE)))
			t->flags |= TF(ECE) | TF(ACK_NOW);
	}
	/* past ecn_high, not at it: an ACK of exactly what was sent before the reduction may
	 * still echo the old mark (the peer has not seen our CWR, on the data after it) */
	if ((t->flags & TF(ECN_HOLD)) && seq_gt(t->snd_una, t->ecn_high))
		t->flags &= ~TF(ECN_HOLD);
	if (!(sg->flags & TH_ECE) || (t->flags & (TF(ECN_HOLD) | TF(RECOVERY) | TF(LOSS) | TF(REXMIT))))
		return;
	/* the window, not the flight: an ECE may come when all is acknowledged (RFC 3168 §6.1.2:
	 * "the congestion window is halved"), as Linux's CWR state reduces from cwnd */
	tcp_cc_on_loss(&t->cc, t->mss, t->cc.cwnd, 0);
	tcp_cc_on_reduction_end(&t->cc, t->mss);
	tcp_ecn_reduced(t);
	tcp_ecn_hold(t);
	c->area->ecn_reductions++;
}

static bool fin_acked(const struct tcp_tcb *t)
{
	return (t->flags & TF(FIN_SENT)) && t->snd_una == t->snd_max;
}

/* Segment acceptability (RFC 9293 §3.10.7.4 first, the four cases). */
static bool acceptable(const struct tcp_tcb *t, const struct tcp_seg *sg)
{
	uint32_t wnd = seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	uint32_t seq = sg->seq, len = sg->seg_len;

	if (len == 0)
		return wnd == 0 ? seq == t->rcv_nxt : seq_in(seq, t->rcv_nxt, t->rcv_nxt + wnd);
	if (wnd == 0)
		return false;
	return seq_in(seq, t->rcv_nxt, t->rcv_nxt + wnd) ||
	       seq_in(seq + len - 1, t->rcv_nxt, t->rcv_nxt + wnd);
}

/*
 * RFC 6191 §2: may a SYN (no ACK, no RST) end TIME-WAIT and open a new
 * incarnation of the tuple? Only where a listener takes it, only when the
 * application has let go of the old one (as tcp_reclaim_time_wait() asks:
 * a half-closed tunnel may still be reading it), and only if it is newer
 * than everything of the old incarnation:
 *  - the old one used timestamps: a SYN with a greater TSval, or the same
 *    TSval and a greater sequence number; a SYN without timestamps (the new
 *    incarnation would have none) by its sequence number alone;
 *  - the old one did not: any SYN with timestamps, if we use them (PAWS
 *    guards the new incarnation), else by its sequence number.
 * "Greater than the last sequence number seen" on the old incarnation: its
 * FIN, RCV.NXT - 1. (A SYN with an older TSval never gets here: PAWS.)
 */
static bool time_wait_reusable(struct tcp_ctx *c, const struct tcp_tcb *t, const struct tcp_seg *sg)
{
	bool newer_seq = seq_gt(sg->seq, t->rcv_nxt - 1);
	bool ts_new = sg->opt.has_ts && c->prm->timestamps;

	if (accepting(c, t->lport) == NULL)
		return false;   /* a stream we opened, or the gateway stops: nothing would take the SYN */
	if (t->app != TAPP_NONE || t->rcv_bytes)
		return false;   /* still the application's: freeing it would pull it away */
	if (!(t->flags & TF(TS_OK)))
		return ts_new || newer_seq;
	if (!ts_new)
		return newer_seq;
	return seq_gt(sg->opt.ts_val, t->ts_recent) || (sg->opt.ts_val == t->ts_recent && newer_seq);
}

static void syn_sent_input(struct tcp_ctx *c, struct tcp_tcb *t, struct tcp_seg *sg)
{
	uint32_t ev = 0;
	bool ack_ok = false;

	/* §3.10.7.3 first: the ACK bit */
	if (sg->flags & TH_ACK) {
		if (seq_leq(sg->ack, t->iss) || seq_gt(sg->ack, t->snd_max)) {
			if (sg->flags & TH_RST)
				drop(c, sg, TDROP_BAD_ACK);
			else {
				tcp_count_drop(c, TDROP_BAD_ACK);
				tcp_send_rst_reply(c, sg);
			}
			return;
		}
		ack_ok = true;
	}
	/* second: RST (RFC 5961 §3.2: acceptable only with an acceptable ACK) */
	if (sg->flags & TH_RST) {
		if (ack_ok) {
			drop(c, sg, TDROP_NONE);
			tcp_count(c, TEV_RESETS_RCVD);
			tcp_stream_done(c, t, TEV_APP_RESET);
			return;
		}
		drop(c, sg, TDROP_RST_NO_TCB);
		return;
	}
	/* fourth: SYN */
	if (!(sg->flags & TH_SYN)) {
		drop(c, sg, TDROP_NONE);
		return;
	}
	t->irs = sg->seq;
	t->rcv_nxt = sg->seq + 1;
	t->rcv_adv = t->rcv_nxt;
	syn_options(c, t, &sg->opt);
	/* RFC 3168 §6.1.1: only an ECN-setup SYN-ACK (ECE without CWR) answers our ECN-setup SYN */
	if ((sg->flags & (TH_ECE | TH_CWR)) != TH_ECE)
		t->flags &= ~TF(ECN);
	t->last_rcv_ms = c->now_ms;
	if (ack_ok) {
		/* Karn: the SYN's round trip counts only if it was not retransmitted */
		if (t->rto_shift == 0)
			tcp_update_rtt(c, t, (c->now_ms - t->rtt_start_ms) * 1000);
		else if (t->rto_ms < 3000)
			t->rto_ms = 3000;   /* RFC 6298 §5.7: the SYN timed out */
		t->snd_una = sg->ack;
		t->rto_at = 0;
		t->rto_shift = 0;
		t->snd_wnd = sg->wnd;   /* a SYN-ACK's window is never scaled (RFC 7323 §2.2) */
		t->max_snd_wnd = t->snd_wnd;
		t->snd_wl1 = sg->seq;
		t->snd_wl2 = sg->ack;
		tcp_set_state(c, t, TCP_ESTABLISHED);
		t->flags |= TF(ACK_NOW);
		ev |= TEV_APP_CONNECTED;
		tcp_keepalive_arm(c, t);
		tcp_timer_update(c, t);
	} else {
		/* simultaneous open (RFC 9293 §3.5 Figure 8): SYN-RECEIVED, SYN,ACK with our ISS */
		tcp_set_state(c, t, TCP_SYN_RECEIVED);
		t->snd_wnd = sg->wnd;
		t->max_snd_wnd = t->snd_wnd;
		t->snd_wl1 = sg->seq;
		t->snd_nxt = t->iss;   /* resend our SYN, now with ACK */
	}
	drop(c, sg, TDROP_NONE);
	tcp_notify(c, t, ev);
	if (t->state != TCP_CLOSED)
		tcp_output_later(c, t);   /* the ACK rides on the request the app queued */
}

/*
 * RFC 5961 §4.2 (RFC 9293 §3.10.7.4 fourth): a SYN in a synchronized state,
 * or in SYN-RECEIVED other than the peer's own SYN again, is no reason to
 * reset: in the window, below it, beyond it or too old for PAWS, it gets a
 * challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (rate-limited, RFC 5961
 * §7) and is dropped. A peer that really restarted answers the challenge
 * with a RST at RCV.NXT, which ends this incarnation; a blind attacker
 * learns nothing. (RFC 9293 would return a passive SYN-RECEIVED to LISTEN;
 * a challenge keeps a forged SYN from killing the half-open stream, and the
 * restarted peer's RST still frees it.)
 */
static void syn_challenge(struct tcp_ctx *c, struct tcp_tcb *t, struct tcp_seg *sg)
{
	drop(c, sg, TDROP_SYN_IN_STATE);
	tcp_challenge_ack(c, t);
}

/* §3.10.7.4 for the synchronized states (and SYN-RECEIVED). */
/*
 * A pure duplicate ACK, changing neither the window nor anything else, that
 * is older than TS.Recent by less than an RTO: reordered on the way, not
 * from an old incarnation. PAWS lets it through (as Linux's
 * tcp_disordered_ack()), so the SACK blocks it carries are not lost.
 */
static bool disordered_ack(const struct tcp_tcb *t, const struct tcp_seg *sg)
{
	return (sg->flags & (TH_SYN | TH_FIN | TH_RST | TH_ACK)) == TH_ACK && sg->len == 0 &&
	       sg->seq == t->rcv_nxt && sg->ack == t->snd_una &&
	       (sg->wnd << t->snd_wscale) == t->snd_wnd && t->ts_recent - sg->opt.ts_val <= t->rto_ms;
}

static void established_input(struct tcp_ctx *c, struct tcp_tcb *t, struct tcp_seg *sg)
{
	uint32_t ev = 0;
	bool fin_in_order = false;

	/* RFC 7323 §5.3 R1: PAWS */
	if ((t->flags & TF(TS_OK)) && sg->opt.has_ts && !(sg->flags & TH_RST) &&
	    seq_lt(sg->opt.ts_val, t->ts_recent) &&
	    c->now_ms - t->ts_recent_ms < TCP_PAWS_IDLE_MS && !disordered_ack(t, sg)) {
		if (sg->flags & TH_SYN) {
			syn_challenge(c, t, sg);   /* RFC 5961 §4.2, whatever else is wrong with it */
			return;
		}
		/* an old copy of data we have: say so (RFC 2883), so the sender can undo */
		if (sg->len && seq_leq(sg->seq + sg->len, t->rcv_nxt))
			dsack_note(t, sg->seq, sg->seq + sg->len);
		drop(c, sg, TDROP_PAWS);
		t->flags |= TF(ACK_NOW);
		tcp_output(c, t);
		return;
	}
	/*
	 * SYN-RECEIVED and the peer's SYN again (SEG.SEQ == IRS), which the
	 * sequence check below would only answer with a bare ACK:
	 *  - a retransmitted SYN: our SYN,ACK was lost, send it again;
	 *  - a SYN,ACK in a simultaneous open (RFC 9293 §3.5 Figure 8 line 6):
	 *    the SYN is a duplicate, the ACK is news: drop the SYN (as BSD trims
	 *    a duplicate SYN) and go on, so the ACK takes us to ESTABLISHED.
	 */
	if (t->state == TCP_SYN_RECEIVED && (sg->flags & TH_SYN) && !(sg->flags & TH_RST) &&
	    sg->seq == t->irs) {
		if (!(sg->flags & TH_ACK)) {
			t->snd_nxt = t->iss;
			drop(c, sg, TDROP_NONE);
			tcp_output(c, t);
			return;
		}
		sg->flags &= (uint8_t)~TH_SYN;
		sg->seq++;
		sg->seg_len--;
	}
	/*
	 * RFC 6191 (and RFC 1122 §4.2.2.13): a new SYN may reopen a TIME-WAIT
	 * tuple whatever its place relative to the old receive window (a new
	 * ISN is usually just above the old RCV.NXT, i.e. in the window): the
	 * old incarnation ends, the SYN goes to the listener, and our new ISN
	 * starts above every sequence number the old incarnation used (RFC 1122
	 * §4.2.2.13 (1)), so none of its late segments fits the new window.
	 * Any other SYN is challenged below, as in every synchronized state.
	 */
	if (t->state == TCP_TIME_WAIT && (sg->flags & TH_SYN) && !(sg->flags & (TH_ACK | TH_RST)) &&
	    time_wait_reusable(c, t, sg)) {
		const struct porter_listener *l = accepting(c, t->lport);

		tcp_count(c, TEV_TIME_WAIT_REUSE);
		sg->tw_reuse = true;
		sg->tw_snd_max = t->snd_max;
		tcb_free(c, t);
		listen_syn(c, sg, l);
		return;
	}
	/* first: sequence number */
	if (!acceptable(t, sg)) {
		if ((sg->flags & (TH_SYN | TH_RST)) == TH_SYN) {
			/* RFC 5961 §4.2: "irrespective of the sequence number", a challenge
			 * ACK (rate-limited and counted), not the plain ACK below */
			syn_challenge(c, t, sg);
			return;
		}
		if (!(sg->flags & TH_RST))
			t->flags |= TF(ACK_NOW);
		if (sg->len && seq_lt(sg->seq, t->rcv_nxt) && !(sg->flags & (TH_RST | TH_SYN)))
			dsack_note(t, sg->seq, seq_lt(sg->seq + sg->len, t->rcv_nxt) ? sg->seq + sg->len : t->rcv_nxt);
		drop(c, sg, TDROP_OUT_OF_WINDOW);
		tcp_output(c, t);
		return;
	}
	/* RFC 7323 §4.3 (2): TS.Recent from a segment covering Last.ACK.sent */
	if ((t->flags & TF(TS_OK)) && sg->opt.has_ts && seq_leq(sg->seq, t->last_ack_sent) &&
	    seq_geq(sg->opt.ts_val, t->ts_recent)) {
		t->ts_recent = sg->opt.ts_val;
		t->ts_recent_ms = c->now_ms;
	}
	/* second: RST (RFC 5961 §3.2) */
	if (sg->flags & TH_RST) {
		if (sg->seq == t->rcv_nxt) {
			drop(c, sg, TDROP_NONE);
			tcp_count(c, TEV_RESETS_RCVD);
			if (t->state == TCP_SYN_RECEIVED && (t->flags & TF(PASSIVE)))
				tcb_free(c, t);   /* back to LISTEN: nothing to tell */
			else
				tcp_stream_done(c, t, TEV_APP_RESET);
			return;
		}
		drop(c, sg, TDROP_RST_IN_WINDOW);
		tcp_challenge_ack(c, t);
		return;
	}
	/* fourth: SYN (RFC 5961 §4.2: challenge ACK in any synchronized state) */
	if (sg->flags & TH_SYN) {
		syn_challenge(c, t, sg);
		return;
	}
	/* fifth: ACK */
	if (!(sg->flags & TH_ACK)) {
		drop(c, sg, TDROP_NONE);
		return;
	}
	t->last_rcv_ms = c->now_ms;
	t->ka_probes = 0;
	if (t->state == TCP_SYN_RECEIVED) {
		bool counted = false;

		if (!seq_in(sg->ack, t->snd_una + 1, t->snd_max + 1)) {
			tcp_count_drop(c, TDROP_BAD_ACK);
			tcp_send_rst_reply(c, sg);
			return;
		}
		/*
		 * client_limits: the handshake proves the address, so it is counted
		 * here (a spoofed SYN never counts against anyone). A SYN passed the
		 * limits' check; one that came while others of its address were in
		 * their handshake may find the limit reached now: RST
		 * (<SEQ=SEG.ACK><CTL=RST>), the stream goes before its application
		 * heard of it, as when its SYN,ACK times out.
		 */
		if (t->flags & TF(PASSIVE)) {
			enum tcp_drop why = tcp_climit_admit(c, t->raddr, t->lport, &counted);

			if (why != TDROP_NONE) {
				climit_refuse(c, sg, why);
				tcb_free(c, t);
				return;
			}
		}
		tcp_set_state(c, t, TCP_ESTABLISHED);
		if (counted)
			t->flags |= TF(CLIMIT);
		if (t->rto_shift) {
			/* RFC 6298 §5.7: the SYN(,ACK) timed out: 3 s once data flows */
			if (t->rto_ms < 3000)
				t->rto_ms = 3000;
			t->rto_shift = 0;
		}
		t->snd_wnd = sg->wnd << t->snd_wscale;
		t->max_snd_wnd = t->snd_wnd;
		t->snd_wl1 = sg->seq;
		t->snd_wl2 = sg->ack;
		ev |= TEV_APP_CONNECTED;
		tcp_keepalive_arm(c, t);
	}
	if (!process_ack(c, t, sg, &ev)) {
		drop(c, sg, TDROP_NONE);
		return;
	}
	if (t->flags & TF(ECN))
		ecn_input(c, t, sg);
	switch (t->state) {
	case TCP_FIN_WAIT_1:
		if (fin_acked(t)) {
			tcp_set_state(c, t, TCP_FIN_WAIT_2);
			if ((t->flags & TF(ORPHAN)) && c->prm->fin_wait2_ms) {
				t->keep_at = c->now_ms + c->prm->fin_wait2_ms;
				tcp_timer_update(c, t);
			}
		}
		break;
	case TCP_CLOSING:
		if (fin_acked(t))
			enter_time_wait(c, t, &ev);
		break;
	case TCP_LAST_ACK:
		if (fin_acked(t)) {
			drop(c, sg, TDROP_NONE);
			tcp_stream_done(c, t, ev | TEV_APP_CLOSED);
			return;
		}
		break;
	case TCP_TIME_WAIT:
		/* a retransmitted FIN: ACK it and restart the 2MSL wait */
		if (sg->flags & TH_FIN) {
			t->flags |= TF(ACK_NOW);
			t->keep_at = c->now_ms + (c->prm->time_wait_ms ? c->prm->time_wait_ms : 1);
			tcp_timer_update(c, t);
		}
		drop(c, sg, TDROP_NONE);
		tcp_output(c, t);
		return;
	default:
		break;
	}
	/* seventh: text, eighth: FIN */
	switch (t->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
		if (sg->len || (sg->flags & TH_FIN)) {
			if ((t->flags & TF(ORPHAN)) && sg->len) {
				/* RFC 9293 §3.10.4 / RFC 1122 §4.2.2.13: data after close -> RST */
				drop(c, sg, TDROP_NONE);
				tcp_send_rst(c, t);
				tcp_stream_done(c, t, 0);
				return;
			}
			fin_in_order = process_text(c, t, sg, &ev);
		}
		break;
	default:
		break;   /* CLOSE-WAIT, CLOSING, LAST-ACK: the peer already sent FIN */
	}
	drop(c, sg, TDROP_NONE);
	if (fin_in_order && !(t->flags & TF(RCVD_FIN))) {
		t->flags |= TF(RCVD_FIN) | TF(ACK_NOW);
		t->rcv_nxt++;
		ev |= TEV_APP_PEER_FIN;
		switch (t->state) {
		case TCP_ESTABLISHED:
			tcp_set_state(c, t, TCP_CLOSE_WAIT);
			t->keep_at = 0;
			tcp_timer_update(c, t);
			break;
		case TCP_FIN_WAIT_1:
			if (fin_acked(t))
				enter_time_wait(c, t, &ev);
			else
				tcp_set_state(c, t, TCP_CLOSING);
			break;
		case TCP_FIN_WAIT_2:
			enter_time_wait(c, t, &ev);
			break;
		default:
			break;
		}
	}
	if (t->state == TCP_ESTABLISHED && c->prm->keepalive && !t->keep_at)
		tcp_keepalive_arm(c, t);
	if (!ev || !tcp_event_later(c, t, ev)) {
		tcp_notify(c, t, ev | tcp_event_take(c, tcb_idx(c, t)));
		if (t->state == TCP_CLOSED)
			return;   /* the app aborted it */
	}
	if (ev & TEV_APP_CLOSED) {
		/* TIME-WAIT: the app has let go */
		t->app = TAPP_NONE;
	}
	if (sg->ack_at_once)
		tcp_output(c, t);         /* RFC 5681 §4.2: a duplicate ACK for each out-of-order segment */
	else
		tcp_output_later(c, t);
}

enum tcp_sl_verdict tcp_input_stateless(struct tcp_ctx *c, struct rte_mbuf *m)
{
	struct tcp_seg sg;
	struct tcp_tcb *t;
	int rc;

	if (m->data_len >= ETH_HDR_LEN + IP_HDR_LEN &&
	    rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, ETH_HDR_LEN)->next_proto_id ==
		    IPPROTO_ICMP)
		return TCP_SL_STATEFUL;   /* RFC 1191 message for a stream: tcp_input_icmp() */
	rc = parse(c, m, &sg);

	if (rc < 0) {
		tcp_count_drop(c, (enum tcp_drop)-rc);
		return TCP_SL_FREE;
	}
	t = tcb_lookup(c, sg.daddr, sg.dport, sg.saddr, sg.sport);
	if (t || accepting(c, sg.dport)) {
		/* kept for tcp_input(), with the stream found as a hint (lookup_seg) */
		if (c->pre && c->npre < TCP_PRE_MAX) {
			sg.hint = t ? tcb_idx(c, t) + 1 : 0;
			c->pre[c->npre++] = sg;
		}
		return TCP_SL_STATEFUL;
	}
	tcp_count(c, TEV_SEGS_IN);
	if (sg.flags & TH_RST) {
		tcp_count_drop(c, TDROP_RST_NO_TCB);
		return TCP_SL_FREE;
	}
	tcp_count_drop(c, TDROP_NO_LISTENER);
	tcp_rst_reply_inplace(c, &sg);
	return TCP_SL_SEND;
}

void tcp_input_begin(struct tcp_ctx *c)
{
	if (c->pre == NULL)
		c->pre = calloc(TCP_PRE_MAX, sizeof(*c->pre));   /* without it: parsed twice */
	c->npre = c->pre_next = 0;
}

/* M as the first pass of this burst parsed it, if it did: frames come in the same order. */
static bool preparsed(struct tcp_ctx *c, const struct rte_mbuf *m, struct tcp_seg *sg)
{
	while (c->pre_next < c->npre) {
		const struct tcp_seg *p = &c->pre[c->pre_next++];

		if (p->m == m) {
			*sg = *p;
			return true;
		}
	}
	return false;
}

static void input_frame(struct tcp_ctx *c, struct rte_mbuf *m);

/*
 * The stream of a segment. The first pass (tcp_input_stateless) keeps the
 * index it found with the parsed segment (sg.hint, index + 1); it is only a hint:
 * streams may have closed or opened since, so it counts only if that TCB is
 * live and has the segment's 4-tuple, which makes it the one a lookup would
 * find (a live 4-tuple has exactly one TCB). Otherwise, the lookup.
 */
static struct tcp_tcb *lookup_seg(struct tcp_ctx *c, const struct tcp_seg *sg)
{
	uint32_t hint = sg->hint;

	if (hint && hint <= c->area->max_streams) {
		struct tcp_tcb *t = &c->tcbs[hint - 1];

		if (t->state != TCP_CLOSED && t->laddr == sg->daddr && t->raddr == sg->saddr &&
		    t->lport == sg->dport && t->rport == sg->sport)
			return t;
	}
	return tcb_lookup(c, sg->daddr, sg->dport, sg->saddr, sg->sport);
}

/* Every stream a frame changes is flagged first (tcp_touch; recovery: tcp_recover.c). */
void tcp_input(struct tcp_ctx *c, struct rte_mbuf *m)
{
	input_frame(c, m);
}

static void input_frame(struct tcp_ctx *c, struct rte_mbuf *m)
{
	struct tcp_seg sg;
	struct tcp_tcb *t;
	int rc;

	if (m->data_len >= ETH_HDR_LEN + IP_HDR_LEN &&
	    rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, ETH_HDR_LEN)->next_proto_id ==
		    IPPROTO_ICMP) {
		tcp_input_icmp(c, m);
		return;
	}
	if (!preparsed(c, m, &sg)) {
		rc = parse(c, m, &sg);
		if (rc < 0) {
			tcp_count_drop(c, (enum tcp_drop)-rc);
			tcp_env_free(c, m);
			return;
		}
	}
	tcp_count(c, TEV_SEGS_IN);
	t = lookup_seg(c, &sg);
	if (t)
		tcp_touch(c, t);
	if (t == NULL) {
		const struct porter_listener *l = accepting(c, sg.dport);

		if (sg.flags & TH_RST) {
			drop(c, &sg, TDROP_RST_NO_TCB);
			return;
		}
		if (l == NULL) {
			tcp_count_drop(c, TDROP_NO_LISTENER);
			tcp_send_rst_reply(c, &sg);
			return;
		}
		/* RFC 9293 §3.10.7.2 LISTEN: ACK -> RST (unless a SYN cookie), SYN -> open */
		if (sg.flags & TH_ACK) {
			enum tcp_drop why = TDROP_NONE;

			t = (sg.flags & TH_SYN) ? NULL : cookie_open(c, &sg, l, &why);
			if (t == NULL && why == TDROP_SLAB_FULL) {
				tcp_send_rst_reply(c, &sg);   /* counted once, as no_tcb */
				return;
			}
			if (t == NULL && why != TDROP_NONE) {
				climit_refuse(c, &sg, why);
				return;
			}
			if (t == NULL) {
				tcp_count_drop(c, TDROP_BAD_COOKIE);
				tcp_send_rst_reply(c, &sg);
				return;
			}
			tcp_touch(c, t);
			established_input(c, t, &sg);
			if (t->state == TCP_ESTABLISHED && t->app != TAPP_NONE &&
			    !(t->flags & TF(APP_NOTIFIED))) {
				t->flags |= TF(APP_NOTIFIED);
				tcp_notify(c, t, TEV_APP_CONNECTED);
				if (t->state != TCP_CLOSED)
					tcp_output_later(c, t);
			}
			return;
		}
		if (sg.flags & TH_SYN) {
			listen_syn(c, &sg, l);
			return;
		}
		drop(c, &sg, TDROP_NONE);
		return;
	}
	if (t->state == TCP_SYN_SENT)
		syn_sent_input(c, t, &sg);
	else
		established_input(c, t, &sg);
}

/* --- timers ------------------------------------------------------------------------ */

static void rto_fire(struct tcp_ctx *c, struct tcp_tcb *t)
{
	if (t->flags & (TF(PTO) | TF(REO))) {
		tcp_loss_timer(c, t);   /* the tail loss probe or RACK's reordering timer */
		return;
	}
	if (t->state == TCP_SYN_SENT || t->state == TCP_SYN_RECEIVED) {
		if (t->rto_shift >= c->prm->syn_retries) {
			tcp_count(c, TEV_RTO);
			if (t->state == TCP_SYN_RECEIVED && (t->flags & TF(PASSIVE)))
				tcb_free(c, t);
			else
				tcp_stream_done(c, t, TEV_APP_RESET);
			return;
		}
		t->rto_shift++;
		t->flags &= ~TF(RTT_TIMING);
		/* RFC 3168 §6.1.1.1: a peer (or a middlebox) may drop ECN-setup SYNs: ask once only */
		if (t->state == TCP_SYN_SENT)
			t->flags &= ~TF(ECN);
		t->snd_nxt = t->iss;
		tcp_count_rexmit(c, t);
		tcp_output(c, t);
		tcp_rto_arm(c, t);
		return;
	}
	if (t->snd_wnd == 0 && t->snd_nxt == t->snd_una && t->snd_head) {
		/* persist: probe the zero window (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17) */
		tcp_send_window_probe(c, t);
		if (t->rto_shift < 16)
			t->rto_shift++;
		tcp_rto_arm(c, t);
		return;
	}
	if (t->snd_una == t->snd_max) {
		/* nothing outstanding: data that found no buffer (tcp_output armed us) goes now */
		tcp_output(c, t);
		return;
	}
	tcp_count(c, TEV_RTO);
	if (++t->rto_shift > c->prm->max_retries) {
		tcp_send_rst(c, t);
		tcp_stream_done(c, t, TEV_APP_RESET);
		return;
	}
	tcp_pmtu_rto(c, t);         /* a failed probe; a black hole (RFC 4821, tcp_pmtu.c) */
	if ((t->flags & TF(SACK_OK)) && t->snd_head) {
		tcp_sack_rto(c, t);     /* keeps the scoreboard, resends what is lost */
		return;
	}
	/* RFC 6298 §5.4-5.6, RFC 5681 §3.1: back off, loss window, go back to SND.UNA */
	tcp_cc_on_rto(&t->cc, t->mss, t->snd_max - t->snd_una);
	t->flags &= ~(TF(RECOVERY) | TF(RTT_TIMING));
	t->flags |= TF(REXMIT);
	tcp_ecn_reduced(t);
	tcp_ecn_hold(t);
	t->dupacks = 0;
	t->recover = t->snd_max;
	for (struct rte_mbuf *m = t->snd_head; m; m = m->next)
		seg_set_flags(m, seg_flags(m) & ~(SEG_SACKED | SEG_LOST | SEG_RETRANS));
	t->snd_nxt = t->snd_una;
	if ((t->flags & TF(FIN_SENT)) && t->snd_head == NULL)
		t->snd_nxt = t->snd_max - 1;   /* only the FIN is outstanding */
	t->rto_at = 0;
	tcp_output(c, t);
	tcp_rto_arm(c, t);
}

static void keep_fire(struct tcp_ctx *c, struct tcp_tcb *t)
{
	switch (t->state) {
	case TCP_TIME_WAIT:
	case TCP_FIN_WAIT_2:
		tcp_stream_done(c, t, TEV_APP_CLOSED);   /* no-op for an app that let go */
		return;
	case TCP_ESTABLISHED:
		if (!c->prm->keepalive)
			return;
		if ((int32_t)(c->now_ms - t->last_rcv_ms) < (int32_t)(c->prm->keepalive_idle_s * 1000) &&
		    t->ka_probes == 0) {
			tcp_keepalive_arm(c, t);   /* there was traffic: wait a full idle time again */
			return;
		}
		if (t->ka_probes >= c->prm->keepalive_count) {
			/* RFC 1122 §4.2.3.6: the peer is gone */
			tcp_count(c, TEV_KEEPALIVE_TIMEOUTS);
			tcp_send_rst(c, t);
			tcp_stream_done(c, t, TEV_APP_RESET);
			return;
		}
		t->ka_probes++;
		tcp_send_keepalive(c, t);
		t->keep_at = c->now_ms + c->prm->keepalive_interval_s * 1000;
		return;
	default:
		return;
	}
}

void tcp_timer_fire(struct tcp_ctx *c, struct tcp_tcb *t)
{
	if (ms_due(t->delack_at, c->now_ms)) {
		/* the delayed ACK's deadline, or the departure of data pacing held (tcp_pace.c):
		 * data that may go now carries the ACK */
		t->delack_at = 0;
		if (t->snd_head && t->state >= TCP_ESTABLISHED && t->state != TCP_TIME_WAIT)
			tcp_output(c, t);
		if (t->flags & (TF(DELACK) | TF(ACK_NOW)))
			tcp_send_ack(c, t);
	}
	if (ms_due(t->rto_at, c->now_ms)) {
		t->rto_at = 0;
		rto_fire(c, t);
		if (t->state == TCP_CLOSED)
			return;
	}
	if (ms_due(t->keep_at, c->now_ms)) {
		t->keep_at = 0;
		keep_fire(c, t);
		if (t->state == TCP_CLOSED)
			return;
	}
	if (t->app >= TAPP_DEADLINE_FIRST && ms_due(t->app_arg_hi, c->now_ms)) {
		t->app_arg_hi = 0;
		tcp_notify(c, t, TEV_APP_TIMEOUT);   /* the app may close or abort the stream */
		if (t->state == TCP_CLOSED)
			return;
		tcp_output(c, t);                    /* what it queued or shut down in its event */
	}
	tcp_timer_update(c, t);
}

/* --- ICMP (RFC 1191) ------------------------------------------------------------------ */

/* An ICMP frame the primary steered here (it checked type 3 code 4 and the quote). */
void tcp_input_icmp(struct tcp_ctx *c, struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	unsigned int len = m->data_len, ihl;

	if (len >= ETH_HDR_LEN + IP_HDR_LEN &&
	    (ihl = (d[ETH_HDR_LEN] & 0xf) * 4u) >= IP_HDR_LEN &&
	    len >= ETH_HDR_LEN + ihl + 8 + IP_HDR_LEN + 8 &&
	    d[ETH_HDR_LEN + ihl] == 3 && d[ETH_HDR_LEN + ihl + 1] == 4) {
		const uint8_t *icmp = d + ETH_HDR_LEN + ihl;
		uint16_t mtu = (uint16_t)(icmp[6] << 8 | icmp[7]);

		tcp_icmp_frag_needed(c, icmp + 8, len - ETH_HDR_LEN - ihl - 8, mtu);
	} else {
		tcp_count_drop(c, TDROP_ICMP_UNMATCHED);
	}
	tcp_env_free(c, m);
}

/*
 * RFC 1191 with the checks of RFC 5927: Q is the quoted IPv4 header and at
 * least 8 bytes of TCP (ports, sequence number), MTU the next-hop MTU.
 */
void tcp_icmp_frag_needed(struct tcp_ctx *c, const uint8_t *q, unsigned int len, uint16_t mtu)
{
	uint32_t src, dst, seq, mss;
	uint16_t sport, dport;
	unsigned int ihl;
	struct tcp_tcb *t;

	if (len < 20 || (q[0] >> 4) != 4 || (ihl = (q[0] & 0xf) * 4u) < 20 || len < ihl + 8 || q[9] != 6) {
		tcp_count_drop(c, TDROP_ICMP_UNMATCHED);
		return;
	}
	memcpy(&src, q + 12, 4);
	memcpy(&dst, q + 16, 4);
	memcpy(&sport, q + ihl, 2);
	memcpy(&dport, q + ihl + 2, 2);
	memcpy(&seq, q + ihl + 4, 4);
	seq = rte_be_to_cpu_32(seq);
	/* the quoted packet is one we sent: source = us */
	t = tcb_lookup(c, rte_be_to_cpu_32(src), rte_be_to_cpu_16(sport), rte_be_to_cpu_32(dst),
		       rte_be_to_cpu_16(dport));
	if (t == NULL) {
		tcp_count_drop(c, TDROP_ICMP_UNMATCHED);
		return;
	}
	/*
	 * RFC 5927 §4.1, TCP sequence number checking (Linux does it too): the
	 * quote must be of a segment in flight, SND.UNA =< SEG.SEQ < SND.NXT
	 * (SND.MAX here, as SND.NXT may be wound back for a retransmission).
	 * Else it is stale, or forged by someone who does not see the stream:
	 * ignored. With nothing in flight the range is empty.
	 */
	if (!seq_in(seq, t->snd_una, t->snd_max)) {
		tcp_count_drop(c, TDROP_ICMP_OUT_OF_WINDOW);
		return;
	}
	/*
	 * A floor under the reported MTU: RFC 791 lets a link go down to 68
	 * bytes, but no path of today does, and a forged message that passed
	 * the check above must not cut segments to a few bytes each (RFC 5927
	 * §7, the PMTUD attack). Below TCP_MIN_PMTU (Linux's min_pmtu) the MTU
	 * counts as TCP_MIN_PMTU; so does 0, which a router older than RFC 1191
	 * sends. Segments keep DF: a real path narrower than that is not served.
	 */
	if (mtu < TCP_MIN_PMTU)
		mtu = TCP_MIN_PMTU;
	mss = mtu - IP_HDR_LEN - TCP_HDR_LEN - ((t->flags & TF(TS_OK)) ? 12 : 0);
	tcp_pmtu_icmp(c, t, mss);   /* a probe above it is answered: the search stays below */
	if (mss < t->mss) {
		tcp_touch(c, t);
		t->mss = (uint16_t)mss;
		tcp_count(c, TEV_PMTU_LOWERED);
		/* resend what was in flight at the new size (RFC 1191 §6.5) */
		t->snd_nxt = t->snd_una;
		tcp_output(c, t);
	}
}
