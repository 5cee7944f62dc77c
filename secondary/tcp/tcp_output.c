/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Segment output: building frames, the send decision (windows, Nagle, SWS
 * avoidance), retransmission, control segments.
 *
 * The send queue holds the stream's unacknowledged and unsent bytes as a
 * list of mbufs, one future segment each (<= MSS), first byte = snd_una once
 * the SYN is acknowledged. Segments are copied into a fresh frame when sent,
 * so the queue keeps its data for retransmission and the frame can be freed
 * by the primary after transmit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "secondary/rst.h"
#include "secondary/tcp/tcp_cksum.h"
#include "secondary/tcp/tcp_priv.h"

/* Our MSS on PORT: MTU - 40 (RFC 9293 §3.7.1, RFC 6691: IP and TCP headers without options). */
uint16_t tcp_our_mss(const struct tcp_ctx *c, unsigned int port)
{
	uint16_t mtu = c->ports[port].mtu ? c->ports[port].mtu : 1500;

	return (uint16_t)(mtu - IP_HDR_LEN - TCP_HDR_LEN);
}

/* Sequence number just past the last queued data byte. */
uint32_t tcp_snd_end(const struct tcp_tcb *t)
{
	if (t->snd_tail)
		return seg_end(t->snd_tail);
	if (t->flags & TF(FIN_SENT))
		return t->snd_max - 1;
	return t->snd_max;
}

/*
 * The window to advertise (RFC 9293 §3.8.6.2.2, receiver-side SWS avoidance):
 * the right edge moves only by at least min(rcv_buf / 2, MSS), and never left.
 */
uint32_t tcp_rcv_window(const struct tcp_ctx *c, const struct tcp_tcb *t)
{
	uint32_t buf = tcp_rate_window(t, c->prm->rcv_buf);
	uint32_t free_space = t->rcv_bytes < buf ? buf - t->rcv_bytes : 0;
	uint32_t cur = seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	uint32_t max = (t->flags & TF(WS_OK)) ? (65535u << t->rcv_wscale) : 65535u;
	/* a limited stream's window opens by a quarter at least (fewer, larger flights), a
	 * quarter of what can be advertised: 64 KiB unscaled, or it would never open */
	uint32_t wbuf = buf < max ? buf : max;
	uint32_t step = t->rate ? (wbuf / 4 > t->mss ? wbuf / 4 : t->mss) : t->mss < buf / 2 ? t->mss : buf / 2;

	if (free_space > max)
		free_space = max;
	if (free_space > cur && free_space - cur < step && (cur != 0 || t->rate))
		free_space = cur;
	if (free_space < cur)
		free_space = cur;   /* never shrink (RFC 9293 §3.8.6.2.2 "SHOULD NOT") */
	/* scaled windows advertise multiples of 1 << shift */
	return free_space & ~((1u << t->rcv_wscale) - 1);
}

/*
 * SACK blocks for an ACK: a D-SACK block first when duplicate data arrived
 * (RFC 2883 §4), then the blocks kept by the receive path (RFC 2018 §4: the
 * one holding the latest arrival first, then the most recently reported).
 */
static void fill_sack(const struct tcp_tcb *t, struct tcp_opts_out *o)
{
	o->nsack = 0;
	if (t->dsack_left != t->dsack_right) {
		o->sack[0].left = t->dsack_left;
		o->sack[0].right = t->dsack_right;
		o->nsack = 1;
	}
	for (unsigned int i = 0; i < 4 && o->nsack < TCP_MAX_SACK_BLOCKS; i++) {
		if (t->sack[i].left == t->sack[i].right)
			continue;
		o->sack[o->nsack].left = t->sack[i].left;
		o->sack[o->nsack].right = t->sack[i].right;
		o->nsack++;
	}
}

static bool sack_to_send(const struct tcp_tcb *t)
{
	return (t->flags & TF(SACK_OK)) && (t->ooo_head || t->dsack_left != t->dsack_right);
}

/*
 * Payload bytes a data segment may carry now. t->mss already leaves room for
 * the timestamp option; SACK blocks take more, and RFC 6691 (with RFC 9293
 * §3.7.1) says the data must shrink so the packet still fits the MTU.
 */
static uint32_t data_room(const struct tcp_tcb *t)
{
	struct tcp_opts_out o = { 0 };
	uint32_t extra;

	if (!sack_to_send(t))
		return t->mss;
	fill_sack(t, &o);
	if ((t->flags & TF(TS_OK)) && o.nsack > 3)
		o.nsack = 3;   /* what tcp_opts_build fits beside timestamps */
	extra = o.nsack ? 4 + 8u * o.nsack : 0;   /* NOP NOP SACK(2 + 8n) */
	return t->mss > extra + 64 ? t->mss - extra : 64;
}

/*
 * Build and send one segment of stream T: SEQ, FLAGS, LEN payload bytes
 * copied from queue mbuf SRC at offset OFF (SRC NULL for none).
 */
static int send_segment(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t seq, uint8_t flags,
			const struct rte_mbuf *src, uint32_t off, uint32_t len)
{
	const uint32_t len0 = len;
	struct rte_mbuf *m = tcp_env_alloc(c);
	struct tcp_opts_out o = { 0 };
	uint8_t optbuf[TCP_OPT_MAX_LEN];
	unsigned int olen;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint32_t win;
	char *p;

	if (m == NULL) {
		tcp_count_drop(c, TDROP_NOMBUF);
		return -1;
	}
	if (flags & TH_SYN) {
		o.mss = true;
		o.mss_val = tcp_our_mss(c, t->port);
		if (t->state == TCP_SYN_SENT) {
			/* offer what the config allows (RFC 7323 §2.2, RFC 2018 §2) */
			o.wscale = c->prm->window_scaling;
			o.sack_perm = c->prm->sack;
			o.ts = c->prm->timestamps;
		} else {
			o.wscale = !!(t->flags & TF(WS_OK));
			o.sack_perm = !!(t->flags & TF(SACK_OK));
			o.ts = !!(t->flags & TF(TS_OK));
		}
		o.wscale_val = t->rcv_wscale;
	} else {
		o.ts = !!(t->flags & TF(TS_OK));
		if (sack_to_send(t))
			fill_sack(t, &o);
	}
	if (o.ts) {
		o.ts_val = c->now_ms;
		o.ts_ecr = t->ts_recent;
	}
	olen = tcp_opts_build(&o, optbuf);

	p = rte_pktmbuf_append(m, ETH_HDR_LEN + IP_HDR_LEN + TCP_HDR_LEN + olen + len);
	if (p == NULL) {
		tcp_env_free(c, m);
		tcp_count_drop(c, TDROP_NOMBUF);
		return -1;
	}
	memset(p, 0, ETH_HDR_LEN);
	ip = (struct rte_ipv4_hdr *)(p + ETH_HDR_LEN);
	th = (struct rte_tcp_hdr *)(ip + 1);
	ip->version_ihl = 0x45;
	ip->type_of_service = 0;
	if (t->flags & TF(ECN)) {
		/* RFC 3168: ECE and CWR in the SYN (SYN-ACK: ECE alone); ECT(0) on new data only
		 * (§6.1.5: not on retransmissions, §6.1.4: not on pure ACKs or window probes), with
		 * CWR once after a reduction; ECE on every ACK while we echo a CE mark */
		if (flags & TH_SYN) {
			flags |= t->state == TCP_SYN_SENT ? TH_ECE | TH_CWR : TH_ECE;
		} else if (!(flags & TH_RST)) {
			if (len0 && seq_geq(seq, t->snd_max) && t->snd_wnd) {   /* a zero window's probe: no */
				ip->type_of_service = IP_ECN_ECT0;
				if (t->flags & TF(CWR)) {
					flags |= TH_CWR;
					t->flags &= ~TF(CWR);
				}
			}
			if ((t->flags & TF(ECE)) && (flags & TH_ACK))
				flags |= TH_ECE;
		}
	}
	ip->total_length = rte_cpu_to_be_16(IP_HDR_LEN + TCP_HDR_LEN + olen + len);
	ip->packet_id = 0;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->hdr_checksum = 0;
	ip->src_addr = rte_cpu_to_be_32(t->laddr);
	ip->dst_addr = rte_cpu_to_be_32(t->raddr);

	th->src_port = rte_cpu_to_be_16(t->lport);
	th->dst_port = rte_cpu_to_be_16(t->rport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	if (flags & TH_RST && !(flags & TH_ACK))
		th->recv_ack = 0;
	else
		th->recv_ack = rte_cpu_to_be_32(t->rcv_nxt);
	th->data_off = (uint8_t)(((TCP_HDR_LEN + olen) / 4) << 4);
	th->tcp_flags = flags;
	if (flags & TH_SYN) {
		/* RFC 7323 §2.2: the window in a SYN is never scaled */
		win = c->prm->rcv_buf < 65535 ? c->prm->rcv_buf : 65535;
		th->rx_win = rte_cpu_to_be_16((uint16_t)win);
		t->rcv_adv = t->rcv_nxt + win;
	} else if (flags & TH_RST) {
		th->rx_win = 0;
	} else {
		win = tcp_rcv_window(c, t);
		th->rx_win = rte_cpu_to_be_16((uint16_t)(win >> t->rcv_wscale));
		if (seq_gt(t->rcv_nxt + win, t->rcv_adv))
			t->rcv_adv = t->rcv_nxt + win;
	}
	th->cksum = 0;
	th->tcp_urp = 0;
	memcpy(th + 1, optbuf, olen);
	if (len) {
		/* copy LEN bytes from SRC at OFF, following the queue list */
		uint8_t *dst = (uint8_t *)(th + 1) + olen;

		while (len && src) {
			uint32_t n = src->data_len - off;

			if (n > len)
				n = len;
			memcpy(dst, rte_pktmbuf_mtod_offset(src, const uint8_t *, off), n);
			dst += n;
			len -= n;
			off = 0;
			src = src->next;
		}
	}
	if (c->ports[t->port].tx_csum) {
		/* the NIC sums the segment; it expects the pseudo header's sum in the field */
		m->l2_len = ETH_HDR_LEN;
		m->l3_len = IP_HDR_LEN;
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = cksum_fold(tcp_phdr_sum(ip, TCP_HDR_LEN + olen + len0));
	} else {
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = tcp_cksum(ip, th, TCP_HDR_LEN + olen + len0);
	}
	m->port = c->ports[t->port].port_id;
	if (flags & TH_ACK) {
		if (t->dsack_left != t->dsack_right && o.nsack) {
			tcp_count(c, TEV_DSACKS_SENT);
			t->dsack_left = t->dsack_right = 0;   /* reported once (RFC 2883 §4) */
		}
		t->last_ack_sent = t->rcv_nxt;
		t->flags &= ~(TF(ACK_NOW) | TF(DELACK));
		/* delack_at is also pacing's deadline for data held back (tcp_pace.c), new or, in a
		 * recovery, retransmissions: it stays while either may wait (if it was the delayed
		 * ACK's, the wake-up finds nothing) */
		if (!seq_lt(t->snd_nxt, tcp_snd_end(t)) && !tcp_sack_recovering(t))
			t->delack_at = 0;
	}
	tcp_count(c, TEV_SEGS_OUT);
	tcp_env_xmit(c, m);
	return 0;
}

void tcp_send_ack(struct tcp_ctx *c, struct tcp_tcb *t)
{
	/* SND.MAX, not a SND.NXT wound back by go-back-N after a timeout: a peer
	 * that has our later data would find the segment old and ignore its ACK
	 * (as BSD does; RFC 9293 §3.10.7.4 acceptability on the peer's side) */
	send_segment(c, t, t->snd_max, TH_ACK, NULL, 0, 0);
	tcp_timer_update(c, t);
}

/*
 * The shard's challenge ACK budget for second SEC (the safety net of
 * tcp_challenge_ack): uniform in [B/2, 3B/2), B = max(TCP_CHALLENGE_SHARD_MIN,
 * TCP_CHALLENGE_SHARD_MULT x the per-stream limit). The draw is SipHash of
 * the second under the shard's secret: unpredictable from outside, the same
 * for a worker that takes over in the middle of the second.
 */
uint32_t tcp_challenge_shard_budget(const struct tcp_ctx *c, uint32_t sec)
{
	uint64_t base = (uint64_t)c->prm->challenge_ack_limit * TCP_CHALLENGE_SHARD_MULT;
	uint8_t in[12] = { 'c', 'h', 'a', 'l', 'l', 'e', 'n', 'g' };

	if (base < TCP_CHALLENGE_SHARD_MIN)
		base = TCP_CHALLENGE_SHARD_MIN;
	memcpy(in + 8, &sec, sizeof(sec));
	return (uint32_t)(base / 2 + tcp_siphash(c->area->isn_key, in, sizeof(in)) % base);
}

/*
 * RFC 5961 §7: challenge ACKs are throttled. First the stream's own limit:
 * tcp.challenge_ack_per_s in a second from its first challenge ACK (as
 * Linux and FreeBSD limit each socket). A limit shared by all streams is
 * a side channel (CVE-2016-5696): a flood on the attacker's own stream
 * would spend it, and then the challenge ACKs he counts tell him whether
 * a forged segment hit another stream's window. So the shard's own limit
 * is only a safety net against floods over many streams at once: a random
 * budget per second (as Linux randomised its global one in 2016) far above
 * what one stream may spend, and no one can count it.
 */
void tcp_challenge_ack(struct tcp_ctx *c, struct tcp_tcb *t)
{
	struct tcp_area *a = c->area;
	uint32_t sec = c->now_ms / 1000;

	if (c->now_ms - t->challenge_ms >= 1000) {
		t->challenge_ms = c->now_ms;
		t->challenge_count = 0;
	}
	/* the count is 16 bits (layout 2.8, tcp-t.h): a limit above 65535 acts as 65535 */
	if (t->challenge_count >= c->prm->challenge_ack_limit || t->challenge_count == UINT16_MAX) {
		tcp_count_drop(c, TDROP_CHALLENGE_LIMIT);
		return;
	}
	if (sec != a->challenge_sec) {
		a->challenge_sec = sec;
		a->challenge_left = tcp_challenge_shard_budget(c, sec);
	}
	if (a->challenge_left == 0) {
		tcp_count_drop(c, TDROP_CHALLENGE_LIMIT);
		return;
	}
	a->challenge_left--;
	t->challenge_count++;
	tcp_count(c, TEV_CHALLENGE_ACKS);
	tcp_send_ack(c, t);
}

void tcp_send_rst(struct tcp_ctx *c, struct tcp_tcb *t)
{
	/* RFC 9293 §3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>; with ACK once synchronized */
	uint8_t flags = TH_RST;

	if (t->state != TCP_SYN_SENT)
		flags |= TH_ACK;
	/* SND.MAX rather than a SND.NXT wound back by go-back-N: the peer's
	 * RCV.NXT is most likely there, and RFC 5961 peers accept only an exact RST */
	send_segment(c, t, t->state == TCP_SYN_SENT ? t->snd_nxt : t->snd_max, flags, NULL, 0, 0);
	tcp_count(c, TEV_RESETS_SENT);
}

/*
 * RFC 9293 §3.10.7.1: rewrite the frame of SG in place into the RST that
 * answers it (secondary/rst.c, fuzzed on its own). The frame was parsed and
 * its checksum verified, so the builder can only say "reply" or "it is a RST",
 * and the caller never passes a RST.
 */
void tcp_rst_reply_inplace(struct tcp_ctx *c, const struct tcp_seg *sg)
{
	struct rte_mbuf *m = sg->m;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);

	if (rst_build_reply(frame, m->data_len, frame) != RST_REPLY) {
		/* unreachable for a parsed non-RST segment; send nothing sensible-looking */
		m->port = PORTER_PORT_FREE;
		return;
	}
	m->data_len = m->pkt_len = RST_FRAME_LEN;
	m->nb_segs = 1;
	m->port = c->ports[sg->port].port_id;
	tcp_count(c, TEV_RESETS_SENT);
	tcp_count(c, TEV_SEGS_OUT);
}

/* RFC 9293 §3.10.7.1: a segment for no connection. Consumes sg->m (reused in place). */
void tcp_send_rst_reply(struct tcp_ctx *c, const struct tcp_seg *sg)
{
	tcp_rst_reply_inplace(c, sg);
	tcp_env_xmit(c, sg->m);
}

/* A stateless SYN-ACK carrying a cookie (RFC 4987 §3.6). */
void tcp_send_synack_cookie(struct tcp_ctx *c, const struct tcp_seg *sg, uint32_t cookie,
			    const struct tcp_cookie_opts *co)
{
	/* a throw-away TCB on the stack carries what send_segment needs */
	struct tcp_tcb t = { 0 };

	t.laddr = sg->daddr;
	t.raddr = sg->saddr;
	t.lport = sg->dport;
	t.rport = sg->sport;
	t.port = sg->port;
	t.state = TCP_SYN_RECEIVED;
	t.rcv_nxt = sg->seq + 1;
	t.mss = tcp_our_mss(c, sg->port);
	if (co->has_wscale && c->prm->window_scaling) {
		t.flags |= TF(WS_OK);
		while (t.rcv_wscale < TCP_MAX_WSCALE && (c->prm->rcv_buf >> t.rcv_wscale) > 65535)
			t.rcv_wscale++;
	}
	if (co->sack_perm && c->prm->sack)
		t.flags |= TF(SACK_OK);
	if (co->ts && c->prm->timestamps) {
		t.flags |= TF(TS_OK);
		t.ts_recent = sg->opt.ts_val;
	}
	t.t_next = t.t_prev = TCP_NIL;
	send_segment(c, &t, cookie, TH_SYN | TH_ACK, NULL, 0, 0);
	tcp_count(c, TEV_COOKIES_SENT);
}

static int seg_split(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *m, uint32_t at);

/* Retransmit queue segment SEG (RFC 6675 / RFC 6582 / RTO). */
int tcp_retransmit_seg(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *seg)
{
	uint32_t off = 0, len = seg_len(seg);

	if (seq_lt(seg_seq(seg), t->snd_una)) {
		off = t->snd_una - seg_seq(seg);
		if (off >= len)
			return 0;
		len -= off;
	}
	/* a probe resent is a probe that failed (RFC 4821 §7.6.2); it goes at the MSS */
	if (seg_flags(seg) & SEG_PROBE)
		tcp_pmtu_probe_failed(c, t, seg);
	/* a segment above the MSS (a probe, or queued before the MSS came down: a black hole,
	 * ICMP) is cut at the MSS first, so each piece has its own scoreboard entry */
	if (len > t->mss && off == 0 && seg_split(c, t, seg, seg_seq(seg) + t->mss) == 0)
		len = seg_len(seg);
	if (len > t->mss)
		len = t->mss;
	/* SACK blocks may leave less room than MSS: resend the segment in pieces.
	 * The last queued byte carries the FIN again if one was sent after it,
	 * so a lost data+FIN segment is repaired whole, not the FIN by an RTO. */
	for (uint32_t room = data_room(t), done = 0; done < len;) {
		uint32_t n = len - done < room ? len - done : room;
		bool fin = (t->flags & TF(FIN_SENT)) && seg->next == NULL && off + done + n == seg_len(seg);

		if (send_segment(c, t, seg_seq(seg) + off + done, TH_ACK | TH_PSH | (fin ? TH_FIN : 0), seg,
				 off + done, n) < 0)
			return -1;
		done += n;
	}
	seg_set_flags(seg, seg_flags(seg) | SEG_RETRANS | SEG_EVER_RETRANS | SEG_SENT);
	tcp_pace_charge(c, t, tcp_pace_rate(c, t), len);
	tcp_loss_on_sent(c, t, seg, len, true);
	tcp_count_rexmit(c, t);
	/* Karn's rule (RFC 6298 §3): no RTT sample from a retransmitted segment */
	t->flags &= ~TF(RTT_TIMING);
	return 0;
}

/* Keep-alive probe (RFC 1122 §4.2.3.6): SEG.SEQ = SND.NXT - 1, no data. */
void tcp_send_keepalive(struct tcp_ctx *c, struct tcp_tcb *t)
{
	send_segment(c, t, t->snd_una - 1, TH_ACK, NULL, 0, 0);
	tcp_count(c, TEV_KEEPALIVE_PROBES);
}

/* Zero-window probe (RFC 9293 §3.8.6.1): one byte past the closed window. */
void tcp_send_window_probe(struct tcp_ctx *c, struct tcp_tcb *t)
{
	struct rte_mbuf *seg = t->snd_head;
	uint32_t off;

	tcp_count(c, TEV_ZERO_WINDOW_PROBES);
	if (t->zwnd_since_ms && !(t->flags & TF(ZWND_LONG)) && c->now_ms - t->zwnd_since_ms >= TCP_ANOMALY_ZWND_MS) {
		t->flags |= TF(ZWND_LONG);   /* once per episode (cleared when the window opens) */
		tcp_anomaly(c, TAN_ZERO_WINDOW_LONG);
	}
	while (seg && seq_geq(t->snd_una, seg_end(seg)))
		seg = seg->next;
	if (seg == NULL) {
		send_segment(c, t, t->snd_una - 1, TH_ACK, NULL, 0, 0);
		return;
	}
	off = seq_gt(t->snd_una, seg_seq(seg)) ? t->snd_una - seg_seq(seg) : 0;
	send_segment(c, t, seg_seq(seg) + off, TH_ACK, seg, off, 1);
	/*
	 * The byte is out (an ACK of it is acceptable: SND.MAX covers it), but
	 * SND.NXT stays at SND.UNA: the stream remains in persist until the
	 * window opens, and then sends from SND.UNA whether or not the probe
	 * byte was taken (as BSD pulls snd_nxt back on a zero window).
	 */
	t->snd_max = seq_max(t->snd_max, t->snd_una + 1);
}

/*
 * The queue segment containing SEQ, or NULL. The search starts at the
 * stream's hint when that is not past SEQ (SND.NXT only moves forward but for
 * a go-back), so sending a window costs one step per segment, not a walk over
 * the flight for each.
 */
static struct rte_mbuf *seg_at(struct tcp_ctx *c, const struct tcp_tcb *t, uint32_t seq)
{
	struct rte_mbuf *m = c->snd_hint ? c->snd_hint[tcb_idx(c, t)] : NULL;

	if (m == NULL || seq_lt(seq, seg_seq(m)))
		m = t->snd_head;
	for (; m; m = m->next)
		if (seq_in(seq, seg_seq(m), seg_end(m))) {
			if (c->snd_hint)
				c->snd_hint[tcb_idx(c, t)] = m;
			return m;
		}
	return NULL;
}

/* Split queue segment M so that it ends at sequence AT (PMTU shrink, a probe's size, a resent probe). */
static int seg_split(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *m, uint32_t at)
{
	uint32_t keep = at - seg_seq(m), move = m->data_len - keep;
	struct rte_mbuf *n = tcp_env_alloc(c);
	char *p;

	if (n == NULL)
		return -1;
	p = rte_pktmbuf_append(n, move);
	if (p == NULL) {
		tcp_env_free(c, n);
		return -1;
	}
	memcpy(p, rte_pktmbuf_mtod_offset(m, char *, keep), move);
	seg_set_seq(n, at);
	seg_set_flags(n, seg_flags(m) & ~SEG_PROBE);   /* both halves keep SACKED: sacked_bytes stays true;
	                                                  a probe is M alone (it is judged as a whole) */
	seg_set_xmit_us(n, seg_xmit_us(m));
	seg_set_first_us(n, seg_first_us(m));
	n->next = m->next;
	/* linked before M shrinks: a worker killed in between leaves an overlap,
	 * which recovery cuts from M's end (tcp_recover.c), never a gap */
	__atomic_store_n(&m->next, n, __ATOMIC_RELEASE);
	CRASH_POINT("tcp_output.split_linked");
	/* not rte_pktmbuf_trim(): it trims the last mbuf of the m->next list, i.e. the queue tail */
	m->data_len = (uint16_t)(m->data_len - move);
	m->pkt_len -= move;
	if (t->snd_tail == m)
		t->snd_tail = n;
	return 0;
}

/*
 * Grow unsent queue segment M to WANT bytes with the front of the unsent
 * segments after it (a PLPMTUD probe larger than the MSS the data was queued
 * at). Bytes are copied into M's tailroom before M's length covers them, so
 * a worker killed in between leaves either nothing or an overlap with the
 * next segment, which recovery cuts from M's end (tcp_recover.c) as after a
 * split; the next segment's front is cut with the journaled trim, and a
 * segment taken whole is held while it is unlinked. Returns 0 or -1 (too
 * little unsent data or room in M: M may have grown part of the way).
 */
static int seg_grow(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *m, uint32_t want)
{
	while (seg_len(m) < want) {
		struct rte_mbuf *n = m->next;
		uint32_t k = want - seg_len(m);

		if (n == NULL || (seg_flags(n) & SEG_SENT) || seg_seq(n) != seg_end(m))
			return -1;
		if (k > seg_len(n))
			k = seg_len(n);
		if (k > rte_pktmbuf_tailroom(m))
			k = rte_pktmbuf_tailroom(m);
		if (k == 0)
			return -1;
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len), rte_pktmbuf_mtod(n, uint8_t *), k);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		m->data_len = (uint16_t)(m->data_len + k);
		m->pkt_len += k;
		if (k < seg_len(n)) {
			tcp_env_trim(c, n, k);
			continue;
		}
		/* N is all in M now: unlink it (held, so a kill here leaks nothing) and free it */
		tcp_env_hold(c, n);
		tcp_snd_hint_drop(c, t, n);
		m->next = n->next;
		if (t->snd_tail == n)
			t->snd_tail = m;
		n->next = NULL;
		tcp_env_free(c, n);
	}
	return 0;
}

static bool can_send_data(const struct tcp_tcb *t)
{
	switch (t->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

/*
 * RFC 7661 §4.3 (and RFC 9438 §4.1): the window grows only while it limits the
 * sender. As output leaves the stream: unsent data waits, and either the
 * flight is within a segment of cwnd (counted as the send gate counts it) or
 * the pacing that cwnd sets held the next segment (PACED) with at least half
 * of cwnd in flight (as Linux lets slow start grow up to twice what is out: a
 * stream writing in chunks that pacing spreads is not held by cwnd). A
 * byte-rate limit's pacing, the peer's window, Nagle or an empty queue limit
 * it otherwise.
 */
static bool cwnd_limited(const struct tcp_tcb *t, bool paced)
{
	uint64_t flight;

	if (!seq_lt(t->snd_nxt, tcp_snd_end(t)))
		return false;
	flight = tcp_in_flight(t);
	return flight + t->mss >= t->cc.cwnd || (paced && 2 * flight >= t->cc.cwnd);
}

/*
 * Send what the windows allow: data (and FIN) from snd_nxt, then any ACK we
 * owe. RFC 9293 §3.8.6.2.1 (sender SWS avoidance) and RFC 9293 §3.7.4 (Nagle,
 * only when nodelay is off).
 */
void tcp_output(struct tcp_ctx *c, struct tcp_tcb *t)
{
	bool sent = false, limited = false, new_data = false, held = false, recovering = tcp_sack_recovering(t);
	uint32_t room = 0;
	uint64_t rate;

	tcp_touch(c, t);

	if (t->state == TCP_SYN_SENT || t->state == TCP_SYN_RECEIVED) {
		if (t->snd_nxt == t->iss) {
			uint8_t fl = t->state == TCP_SYN_SENT ? TH_SYN : TH_SYN | TH_ACK;

			send_segment(c, t, t->iss, fl, NULL, 0, 0);
			t->snd_nxt = t->iss + 1;
			t->snd_max = seq_max(t->snd_max, t->snd_nxt);
			if (!t->rto_at)
				tcp_rto_arm(c, t);
			return;
		}
		/* SYN-SENT knows no RCV.NXT to acknowledge (RFC 9293 §3.1, §3.10.7.3) */
		if (t->state == TCP_SYN_SENT)
			t->flags &= ~TF(ACK_NOW);
		else if (t->flags & TF(ACK_NOW))
			tcp_send_ack(c, t);
		return;
	}
	rate = tcp_pace_rate(c, t);
	if (recovering) {
		/* RFC 6675 §5: lost segments first (NextSeg rule 1), then new data within cwnd - pipe */
		uint32_t pipe;

		if (tcp_pace_hold(c, t, rate)) {
			held = true;
			goto ack;      /* retransmissions are paced too (their sends are charged) */
		}
		sent = tcp_sack_next_seg(c, t, false);
		pipe = tcp_sack_pipe(t);
		if (t->cc.cwnd <= pipe)
			goto ack;
		room = t->cc.cwnd - pipe;
		limited = true;
	} else if (t->sacked_bytes && (t->flags & TF(SACK_OK))) {
		/*
		 * A hole not (yet) judged lost: what the peer SACKed has left the
		 * network, so new data goes within cwnd - pipe (tcp_in_flight), not
		 * cwnd - (SND.NXT - SND.UNA): a late segment (reordering, or a loss
		 * RACK's window has not expired on) does not stall the flight until
		 * it is delivered or resent.
		 */
		uint32_t pipe = tcp_in_flight(t);

		room = t->cc.cwnd > pipe ? t->cc.cwnd - pipe : 0;
		limited = true;
	}
	/* RFC 5681 §4.1: after an idle period longer than the RTO, restart from IW */
	if (t->snd_una == t->snd_max && t->snd_head && c->now_ms - t->last_rcv_ms > t->rto_ms &&
	    t->state == TCP_ESTABLISHED)
		tcp_cc_on_idle_restart(&t->cc, t->mss);
	while (can_send_data(t)) {
		/* in SACK recovery the congestion limit is cwnd - pipe (room), not cwnd - in flight */
		uint32_t cw = limited ? UINT32_MAX : t->cc.cwnd;
		uint32_t wnd = t->snd_wnd < cw ? t->snd_wnd : cw;
		uint32_t inflight = t->snd_nxt - t->snd_una;
		uint32_t usable = wnd > inflight ? wnd - inflight : 0;
		struct rte_mbuf *seg = seg_at(c, t, t->snd_nxt);
		uint32_t off, len, probe;
		bool fin;

		if (limited) {
			if (room == 0)
				break;
			usable = usable < room ? usable : room;
		}
		if (seg == NULL) {
			/* no data at snd_nxt: maybe the FIN (RFC 9293 §3.10.4) */
			if ((t->flags & TF(FIN_QUEUED)) && t->snd_nxt == tcp_snd_end(t) &&
			    (!(t->flags & TF(FIN_SENT)) || seq_lt(t->snd_nxt, t->snd_max))) {
				send_segment(c, t, t->snd_nxt, TH_FIN | TH_ACK, NULL, 0, 0);
				t->flags |= TF(FIN_SENT);
				t->snd_nxt++;
				t->snd_max = seq_max(t->snd_max, t->snd_nxt);
				sent = true;
				if (!t->rto_at)
					tcp_rto_arm(c, t);
			}
			break;
		}
		off = t->snd_nxt - seg_seq(seg);
		len = seg_len(seg) - off;
		/* PLPMTUD (RFC 4821 §7.4, tcp_pmtu.c): new data, a segment of its own, no SACK blocks
		 * to make room for, and the loop is not counting a recovery's room */
		probe = 0;
		if ((t->flags & TF(PMTU)) && off == 0 && t->snd_nxt == t->snd_max && !limited && !sack_to_send(t))
			probe = tcp_pmtu_probe_size(c, t, seg, usable);
		if (probe && len < probe && seg_grow(c, t, seg, probe) < 0)
			probe = 0;
		/*
		 * A piece below the MSS with more unsent data behind it: the tail of
		 * a segment queued at a larger MSS and cut at a lowered one (a black
		 * hole, an ICMP, a search settled a few bytes short). Fill it from
		 * the next ones, or every queued segment would leave as two frames
		 * (1441 + 7 bytes) until the queue drained. Not while a PLPMTUD
		 * search runs: its probes gather their own bytes (tcp_pmtu.c).
		 */
		if (!probe && off == 0 && len < t->mss && t->snd_nxt == t->snd_max && seg->next &&
		    (t->flags & (TF(PMTU) | TF(PMTU_DONE))) != TF(PMTU))
			(void)seg_grow(c, t, seg, t->mss);   /* as far as it can: a partial fill is still fewer frames */
		len = seg_len(seg) - off;
		if (probe && (len == probe || seg_split(c, t, seg, seg_seq(seg) + probe) == 0)) {
			len = probe;
		} else if (len > t->mss) {
			probe = 0;
			if (off == 0 && seg_split(c, t, seg, seg_seq(seg) + t->mss) == 0)
				len = seg_len(seg);
			else
				len = t->mss;
		} else {
			probe = 0;
		}
		if (len > data_room(t) && !probe)
			len = data_room(t);   /* SACK blocks in this ACK: keep the packet within the MTU */
		if (len > usable) {
			/* sender SWS avoidance: a partial segment only if it is at least half
			 * the largest window the peer offered, or nothing is in flight */
			if (usable == 0 || (usable < t->max_snd_wnd / 2 && inflight))
				break;
			len = usable;
		}
		/* Nagle (RFC 9293 §3.7.4): hold a small segment while data is unacknowledged */
		if (!(t->flags & TF(NODELAY)) && len < t->mss && inflight && seg->next == NULL &&
		    !(t->flags & TF(FIN_QUEUED)))
			break;
		/*
		 * The FIN rides on the last data segment when the application has
		 * shut down (RFC 9293 §3.10.4: "form a FIN segment" after the queued
		 * data; nothing forbids them sharing a segment), but only at the send
		 * edge: a go-back-N over sent data leaves the FIN to its own branch.
		 */
		fin = (t->flags & TF(FIN_QUEUED)) && !(t->flags & TF(FIN_SENT)) && seg->next == NULL &&
		      off + len == seg_len(seg) && t->snd_nxt == t->snd_max;
		if (tcp_pace_hold(c, t, rate)) {
			held = true;
			break;
		}
		if (send_segment(c, t, t->snd_nxt, TH_ACK | (seg->next ? 0 : TH_PSH) | (fin ? TH_FIN : 0),
				 seg, off, len) < 0) {
			/* no buffer: with nothing in flight no ACK will come to retry; the timer will */
			if (!t->rto_at)
				tcp_rto_arm(c, t);
			break;
		}
		/* below SND.MAX: going back over sent data after an RTO (Karn: no RTT from it) */
		seg_set_flags(seg, seg_flags(seg) | SEG_SENT |
				   (seq_lt(t->snd_nxt, t->snd_max) ? SEG_RETRANS | SEG_EVER_RETRANS : 0));
		if (probe)
			tcp_pmtu_probe_sent(c, t, seg);
		tcp_loss_on_sent(c, t, seg, len, seq_lt(t->snd_nxt, t->snd_max));
		if (seq_lt(t->snd_nxt, t->snd_max)) {
			/* going back over sent data after an RTO */
			tcp_count_rexmit(c, t);
		} else if (!(t->flags & (TF(RTT_TIMING) | TF(TS_OK)))) {
			t->flags |= TF(RTT_TIMING);
			t->rtt_seq = t->snd_nxt;
			t->rtt_start_ms = c->now_ms;
		}
		t->snd_nxt += len;
		if (fin) {
			t->flags |= TF(FIN_SENT);
			t->snd_nxt++;
		}
		t->snd_max = seq_max(t->snd_max, t->snd_nxt);
		t->bytes_out += len;
		tcp_pace_charge(c, t, rate, len);
		sent = true;
		if (limited)
			room = room > len ? room - len : 0;
		new_data = true;
	}
	if (new_data) {
		/* RFC 8985 §7.2: new data (re)schedules the probe; else RFC 6298 §5.1 */
		if (!(t->flags & TF(REO)) && tcp_pto_allowed(t))
			tcp_arm_retransmit_timer(c, t);
		else if (!t->rto_at)
			tcp_rto_arm(c, t);
	}
	/* nothing new could go and the window has room: RFC 6675 §4 NextSeg rules 3 and 4 */
	if (recovering && room && !new_data && !held && !tcp_pace_hold(c, t, rate) && tcp_sack_next_seg(c, t, true))
		sent = true;
	/* zero window with data waiting and nothing in flight: persist (RFC 9293 §3.8.6.1) */
	if (t->snd_wnd == 0 && t->snd_nxt == t->snd_una && seg_at(c, t, t->snd_nxt) && !t->rto_at)
		tcp_rto_arm(c, t);
ack:
	if (c->cwnd_full)
		c->cwnd_full[tcb_idx(c, t)] = cwnd_limited(t, held && tcp_pace_by_cwnd(t, rate));
	if (!sent && (t->flags & TF(ACK_NOW)))
		tcp_send_ack(c, t);
	else if (sent)
		tcp_timer_update(c, t);
}

/*
 * Deferred output. Inside a batch (the worker's burst), a stream that owes
 * output is noted once, in order, and tcp_batch_flush() runs tcp_output()
 * for each: every ACK owed for the segments of the burst becomes one ACK, on
 * the data the application queued in reply if there is any, and writes the
 * application made in pieces (a response head, then its body) leave as full
 * segments. RFC 5681 §4.2 and RFC 1122 §4.2.3.2 let one ACK cover several
 * segments and ask for it "without delay" for every second full one: the
 * flush comes microseconds after the burst. Out-of-order arrivals still get
 * their duplicate ACK at once (tcp_input.c), as loss detection counts them.
 *
 * The note lives in private memory: a worker killed before the flush leaves
 * ACK_NOW in the TCB and the data in its queue, and its successor's
 * tcp_resume() runs tcp_output() on every stream.
 */
#define TCP_PEND_MAX 4096

void tcp_output_later(struct tcp_ctx *c, struct tcp_tcb *t)
{
	uint32_t s = tcb_idx(c, t);

	if (!c->batching || c->npend == TCP_PEND_MAX) {
		tcp_output(c, t);
		return;
	}
	if (c->pend_mark[s])
		return;
	c->pend_mark[s] = 1;
	c->pend[c->npend++] = s;
}

int tcp_batch_begin(struct tcp_ctx *c)
{
	if (c->pend == NULL) {
		c->pend = calloc(TCP_PEND_MAX, sizeof(*c->pend));
		c->pend_mark = calloc(c->area->max_streams, 1);
		c->evp = calloc(TCP_PEND_MAX, sizeof(*c->evp));
		c->evp_mask = calloc(c->area->max_streams, 1);
		if (c->pend == NULL || c->pend_mark == NULL || c->evp == NULL || c->evp_mask == NULL) {
			free(c->pend);
			free(c->pend_mark);
			free(c->evp);
			free(c->evp_mask);
			c->pend = c->evp = NULL;
			c->pend_mark = c->evp_mask = NULL;
			return -ENOMEM;
		}
	}
	c->batching = true;
	return 0;
}

/*
 * A segment's readable or writable event while batching: kept for the end of
 * the burst (one event for all of a stream's segments), unless the list is full.
 * Returns false when the caller must deliver it now.
 */
bool tcp_event_later(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t ev)
{
	uint32_t s = tcb_idx(c, t);

	if (!c->batching || c->evp == NULL || (ev & ~(uint32_t)(TEV_APP_READABLE | TEV_APP_WRITABLE)))
		return false;
	if (!c->evp_mask[s]) {
		if (c->nevp == TCP_PEND_MAX)
			return false;
		c->evp[c->nevp++] = s;
	}
	c->evp_mask[s] |= (uint8_t)ev;
	return true;
}

/* Events of S still waiting (taken: the caller delivers them with its own). */
uint32_t tcp_event_take(struct tcp_ctx *c, uint32_t s)
{
	uint32_t ev = 0;

	if (c->evp_mask && c->evp_mask[s]) {
		ev = c->evp_mask[s];
		c->evp_mask[s] = 0;
	}
	return ev;
}

void tcp_batch_flush(struct tcp_ctx *c)
{
	/* the deferred events first, while output is still collected: what the
	 * applications write leaves with the ACKs below */
	for (uint32_t i = 0; i < c->nevp; i++) {
		uint32_t s = c->evp[i];
		uint32_t ev = tcp_event_take(c, s);
		struct tcp_tcb *t = &c->tcbs[s];

		if (ev && t->state != TCP_CLOSED)
			tcp_notify(c, t, ev);
	}
	c->nevp = 0;
	c->batching = false;
	c->npre = c->pre_next = 0;   /* the burst's parsed frames are all used */
	for (uint32_t i = 0; i < c->npend; i++) {
		uint32_t s = c->pend[i];
		struct tcp_tcb *t = &c->tcbs[s];

		c->pend_mark[s] = 0;
		if (t->state == TCP_CLOSED)
			continue;
		tcp_output(c, t);
	}
	c->npend = 0;
}
