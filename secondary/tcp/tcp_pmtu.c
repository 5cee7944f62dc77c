/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packetization-layer path MTU discovery (RFC 4821, with RFC 8899's search
 * applied to TCP) and black-hole detection.
 *
 * ICMP-based discovery (RFC 1191, tcp_input.c tcp_icmp_frag_needed) fails
 * when a narrower link drops our DF segments and its ICMP message never
 * arrives (filtered, rate-limited, or never sent): a black hole. Full-size
 * segments then time out forever while ACKs and small segments pass.
 *
 *   mtu_probing 1: a stream whose large segments time out three times in a
 *   row (TCP_PMTU_BH_RTOS, as Linux's tcp_retries1) drops its MSS to
 *   tcp.base_mss and turns probing on. Two were too few: under 5 % random
 *   loss both ways a retransmission or its ACK is lost often enough that a
 *   64 MiB transfer saw 1 to 4 false black holes, and each left the queue
 *   cut at a lower MSS. mtu_probing 2: every SACK stream starts at the base
 *   and probes from there (RFC 4821 §7.2).
 *
 * The search (RFC 4821 §7.3-§7.6), as a bisection between two send MSS:
 *   lo = tcb.mss (a size the path carried, or the base), hi = tcb.pmtu_hi
 *   (exclusive: the smallest size that failed, or the largest the peer and
 *   our port allow, plus one).
 *
 *     probe size p = (lo + hi) / 2          while hi - lo > TCP_PMTU_THRESH
 *                  = max                    once, if max itself was never tried
 *     p delivered (cumulative ACK or SACK)  -> lo = mss = p
 *     p lost (RACK verdict, an RTO)         -> hi = p
 *     hi - lo <= TCP_PMTU_THRESH            -> settled (TF_PMTU_DONE), until
 *                                              TCP_PMTU_REPROBE_MS later (§7.7)
 *
 * A probe is one new data segment of p bytes (p > mss), sent only at the
 * send edge, with at least TCP_PMTU_AFTER more segments of data queued behind
 * it (their delivery lets RACK judge the probe without a timeout) and with
 * room for it in both windows; never during loss recovery, never two at once.
 * It carries SEG_PROBE in the send queue, which is how its ACK or its loss is
 * recognised. A lost probe is resent at once in MSS-sized pieces and does not
 * count as congestion: no recovery episode, no window reduction (§7.6.2).
 * Probing needs SACK (RACK judges the probe); black-hole detection does not.
 *
 * Shared state: TF_PMTU, TF_PMTU_DONE, TF_PMTU_PROBE, tcb.pmtu_hi and SEG_PROBE. Each value
 * is checked where it is used, so a worker that dies anywhere, or a stale
 * value, costs at most one wasted probe: the MSS only ever rises to the size
 * of a probe that was delivered, and never above what the peer announced.
 */
#include "secondary/tcp/tcp_priv.h"

#define TCP_PMTU_BASE_DEFAULT 1024u       /* tcp.base_mss when a primary of an older layout left 0 */
#define TCP_PMTU_BH_RTOS      3u          /* consecutive timeouts of a large segment that mean a black hole */
#define TCP_PMTU_THRESH       8u          /* the search ends within this many bytes (Linux's tcp_probe_threshold) */
#define TCP_PMTU_AFTER        2u          /* MSS-sized segments queued behind a probe */
#define TCP_PMTU_STAMP_SHIFT  14          /* pmtu_hi of a settled search: now_ms >> 14 (16.4 s units) */
#define TCP_PMTU_REPROBE_MS   600000u     /* RFC 4821 §7.7: search again after 10 minutes */

static uint32_t opt_len(const struct tcp_tcb *t) { return (t->flags & TF(TS_OK)) ? 12 : 0; }

/* The largest send MSS: the peer's MSS and our port's MTU, less the options (as syn_options). */
uint32_t tcp_pmtu_max(const struct tcp_ctx *c, const struct tcp_tcb *t)
{
	uint32_t ours = tcp_our_mss(c, t->port), m = t->peer_mss < ours ? t->peer_mss : ours;

	m = m > opt_len(t) ? m - opt_len(t) : 0;
	return m < TCP_MIN_SND_MSS ? TCP_MIN_SND_MSS : m;
}

/* tcp.base_mss as a send MSS of T (options out), never above the largest. */
static uint32_t base_mss(const struct tcp_ctx *c, const struct tcp_tcb *t)
{
	uint32_t b = c->prm->base_mss ? c->prm->base_mss : TCP_PMTU_BASE_DEFAULT, max = tcp_pmtu_max(c, t);

	b = b > opt_len(t) + TCP_MIN_SND_MSS ? b - opt_len(t) : TCP_MIN_SND_MSS;
	return b < max ? b : max;
}

/* The search's upper bound, validated: in (mss, max + 1]. */
static uint32_t bound(const struct tcp_ctx *c, const struct tcp_tcb *t)
{
	uint32_t hi = t->pmtu_hi, max = tcp_pmtu_max(c, t);

	if (hi > max + 1)
		hi = max + 1;
	return hi > t->mss ? hi : (uint32_t)t->mss + 1;
}

static void settle(struct tcp_ctx *c, struct tcp_tcb *t)
{
	t->flags |= TF(PMTU_DONE);   /* first: a kill in between leaves a stamp read as a bound, never the reverse */
	t->pmtu_hi = (uint16_t)(c->now_ms >> TCP_PMTU_STAMP_SHIFT);
}

static void search_from(struct tcp_tcb *t, uint32_t hi)
{
	t->pmtu_hi = (uint16_t)(hi > UINT16_MAX ? UINT16_MAX : hi);
	t->flags = (t->flags & ~TF(PMTU_DONE)) | TF(PMTU);
}

/* A new stream's options are known (syn_options): with tcp.mtu_probing 2, start at the base (RFC 4821 §7.2). */
void tcp_pmtu_init(struct tcp_ctx *c, struct tcp_tcb *t)
{
	uint32_t b;

	t->flags &= ~(TF(PMTU) | TF(PMTU_DONE));
	t->pmtu_hi = 0;
	if (c->prm->mtu_probing != 2 || !(t->flags & TF(SACK_OK)))
		return;
	b = base_mss(c, t);
	if (b >= t->mss)
		return;
	search_from(t, (uint32_t)t->mss + 1);
	t->mss = (uint16_t)b;
}

/* The outstanding probe, or NULL. */
static struct rte_mbuf *probe_out(const struct tcp_tcb *t)
{
	for (struct rte_mbuf *m = t->snd_head; m && seq_lt(seg_seq(m), t->snd_max); m = m->next)
		if (seg_flags(m) & SEG_PROBE)
			return m;
	return NULL;
}

/*
 * May the segment SEG, at SND.NXT = SND.MAX, go as a probe, with USABLE
 * bytes of window? Returns the probe's size (> mss), or 0: send as usual.
 */
uint32_t tcp_pmtu_probe_size(struct tcp_ctx *c, struct tcp_tcb *t, const struct rte_mbuf *seg, uint32_t usable)
{
	uint32_t lo = t->mss, hi, max, p;

	if (!c->prm->mtu_probing || !(t->flags & TF(PMTU)) || !(t->flags & TF(SACK_OK)))
		return 0;
	if (t->state != TCP_ESTABLISHED && t->state != TCP_CLOSE_WAIT)
		return 0;
	max = tcp_pmtu_max(c, t);
	if (t->flags & TF(PMTU_DONE)) {
		/* RFC 4821 §7.7: the path may have grown; look again after a while */
		uint16_t age = (uint16_t)((c->now_ms >> TCP_PMTU_STAMP_SHIFT) - t->pmtu_hi);

		if (lo >= max || age < (TCP_PMTU_REPROBE_MS >> TCP_PMTU_STAMP_SHIFT) + 1)
			return 0;
		search_from(t, max + 1);
	}
	hi = bound(c, t);
	if (hi - lo > TCP_PMTU_THRESH) {
		p = lo + (hi - lo) / 2;
	} else if (hi == max + 1 && lo < max) {
		p = max;   /* the largest was never refused: try it rather than stop short of it */
	} else {
		settle(c, t);
		return 0;
	}
	if (t->flags & TF(PMTU_PROBE)) {
		/* one probe at a time; a flag left by a worker that died, or by an older binary that
		 * freed the probe without a word, goes once no probe is in the queue (or nothing is
		 * in flight) */
		if (t->snd_una != t->snd_max && probe_out(t) != NULL)
			return 0;
		t->flags &= ~TF(PMTU_PROBE);
	}
	if (tcp_sack_recovering(t))
		return 0;
	/* the probe's data queued (output gathers it into SEG), more behind it, room in both windows */
	if (p > usable || tcp_snd_end(t) - seg_seq(seg) < p + TCP_PMTU_AFTER * lo)
		return 0;
	return p;
}

/* SEG went out as a probe (tcp_output). */
void tcp_pmtu_probe_sent(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *seg)
{
	t->flags |= TF(PMTU_PROBE);   /* first: a kill in between leaves the flag without the probe, which clears */
	seg_set_flags(seg, seg_flags(seg) | SEG_PROBE);
	tcp_more_count(c, TMORE_PLPMTUD_PROBES);
}

/* Probe M was delivered (cumulatively acknowledged or SACKed): the path carries its size. */
void tcp_pmtu_probe_acked(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *m)
{
	uint32_t f = seg_flags(m), len = seg_len(m);

	tcp_touch(c, t);
	seg_set_flags(m, f & ~SEG_PROBE);
	t->flags &= ~TF(PMTU_PROBE);
	/* sent once at its size (a resent probe goes in pieces and loses the mark); and not
	 * above what an ICMP answered since (tcp_pmtu_icmp lowered the bound under it) */
	if ((f & SEG_EVER_RETRANS) || len <= t->mss || len > tcp_pmtu_max(c, t) ||
	    ((t->flags & (TF(PMTU) | TF(PMTU_DONE))) == TF(PMTU) && len >= bound(c, t)))
		return;
	t->mss = (uint16_t)len;
	tcp_more_count(c, TMORE_PLPMTUD_PROBES_OK);
}

/* Probe M is taken for lost: the search's upper bound comes down to its size. */
void tcp_pmtu_probe_failed(struct tcp_ctx *c, struct tcp_tcb *t, struct rte_mbuf *m)
{
	uint32_t len = seg_len(m);

	seg_set_flags(m, seg_flags(m) & ~SEG_PROBE);
	tcp_touch(c, t);
	t->flags &= ~TF(PMTU_PROBE);
	if ((t->flags & (TF(PMTU) | TF(PMTU_DONE))) == TF(PMTU) && len > t->mss && len < bound(c, t))
		t->pmtu_hi = (uint16_t)len;
	tcp_more_count(c, TMORE_PLPMTUD_PROBES_FAILED);
}

/*
 * The retransmission timer fired (RFC 6298 §5.4) on a synchronized stream
 * with data outstanding, after the backoff count went up: an outstanding
 * probe has failed; and large segments that time out again and again mean a
 * black hole (RFC 4821 §7.5 hints at it; RFC 2923 §2.1 describes it).
 */
void tcp_pmtu_rto(struct tcp_ctx *c, struct tcp_tcb *t)
{
	struct rte_mbuf *m = (t->flags & TF(PMTU_PROBE)) ? probe_out(t) : NULL, *head = t->snd_head;
	uint32_t b, old = t->mss;

	if (m)
		tcp_pmtu_probe_failed(c, t, m);
	if (!c->prm->mtu_probing || t->rto_shift < TCP_PMTU_BH_RTOS)
		return;
	b = base_mss(c, t);
	/* the segment that keeps timing out is the first one outstanding: is it larger than the base? */
	while (head && (seg_flags(head) & SEG_SACKED))
		head = head->next;
	if (old <= b || head == NULL || seg_len(head) <= b || !seq_lt(seg_seq(head), t->snd_max))
		return;
	tcp_touch(c, t);
	search_from(t, old);   /* the size that timed out bounds the search */
	t->mss = (uint16_t)b;
	/*
	 * Those timeouts were the path's MTU, not congestion (RFC 4821 §7.6.2 in
	 * spirit): the slow start after them may go back to the threshold of
	 * before the episode (kept by its start, tcp_loss.c episode_start; the
	 * repeated timeout keeps ssthresh as it is now). The window itself
	 * restarts from one segment, as after any timeout.
	 */
	if ((t->flags & TF(SACK_OK)) && (t->flags & TF(LOSS)) && t->prior_cwnd && t->prior_ssthresh > t->cc.ssthresh)
		t->cc.ssthresh = t->prior_ssthresh;
	tcp_more_count(c, TMORE_PLPMTUD_BLACK_HOLES);
}

/*
 * A valid ICMP fragmentation-needed (RFC 1191, tcp_input.c) said the path
 * carries MSS bytes at most: the search never goes above it (the probe it
 * answers, too large, is resent at the MSS like any segment in flight).
 */
void tcp_pmtu_icmp(struct tcp_ctx *c, struct tcp_tcb *t, uint32_t mss)
{
	if ((t->flags & (TF(PMTU) | TF(PMTU_DONE))) != TF(PMTU) || mss + 1 >= bound(c, t))
		return;
	tcp_touch(c, t);
	t->pmtu_hi = (uint16_t)(mss + 1);
}
