/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pacing and rate limits: a stream's segments leave spread over time instead
 * of in the bursts its window allows (the ACK clock compresses, a window opens
 * at once, slow start doubles in one flight), so a shallow queue on the path
 * is not overrun; and a stream with a byte-rate limit (tcb.rate: listeners,
 * routes, client addresses) is held to it by the same means, never by
 * dropping what it sent.
 *
 * The model is Linux's earliest departure time (EDT, tcp_wstamp_ns): every
 * segment sent moves the stream's next departure (cc.pace_at) later by its
 * length / rate; a segment may leave while that departure is within
 * TCP_PACE_HORIZON_US of now. The horizon is the timer wheel's tick: a stream
 * held by pacing is woken by its one timer (delack_at, the "output" deadline:
 * tcp_timer_fire runs tcp_output when it is due and data waits), and what falls
 * due before the next tick leaves now rather than a tick late. A stream that
 * was late (a worker woken late, a busy host) keeps up to TCP_PACE_CREDIT_US
 * of credit, so a limit is still met; what it sends late is a burst that long
 * at most.
 *
 * Rate: as Linux's tcp_update_pacing_rate(), 200 % of cwnd / SRTT while the
 * window is below half of ssthresh (slow start) and 120 % after, so pacing
 * spreads a flight over the round trip without slowing the window's growth;
 * a stream without an RTT sample yet is not paced, nor one whose window is at
 * most TCP_PACE_MIN_SEGS segments: a flight of the initial window's size is a
 * burst every path takes (as fq lets a flow send its initial quantum of ten
 * packets at once), and paced over an SRTT that delayed ACKs of lone segments
 * have swollen (they do when loss keeps the window at a few segments) such a
 * window left a segment every few milliseconds on a 0.3 ms path. A rate limit
 * caps the rate (the lower wins), and is enforced even with tcp.pacing off.
 *
 * pace_at is 16 bits of the us clock in TCP_PACE_UNIT_US units (its TCB had
 * four spare bytes, the limit took two): a serial number of ±0.52 s. It is never
 * set further ahead than TCP_PACE_AHEAD_MAX, and a value found further ahead
 * (a stream idle for a multiple of the wrap, a worker of an older layout, a
 * garbled field after a crash) is stale and means "now": the worst a bad value
 * costs is one segment's gap. The cost of a segment is kept in 1/256 units and
 * rounded up with a probability equal to its fraction, so at high rates, where
 * a segment costs less than a unit, the average rate stays exact.
 */
#include "shm/rate.h"
#include "secondary/tcp/tcp_priv.h"

#define PACE_UNITS_PER_S  (1000000u / TCP_PACE_UNIT_US)
#define PACE_HORIZON      (TCP_PACE_HORIZON_US / TCP_PACE_UNIT_US)
#define PACE_AHEAD_MAX    (TCP_PACE_AHEAD_MAX_US / TCP_PACE_UNIT_US)
#define PACE_CREDIT       (TCP_PACE_CREDIT_US / TCP_PACE_UNIT_US)

static inline uint16_t pace_now(const struct tcp_ctx *c)
{
	return (uint16_t)(c->now_us / TCP_PACE_UNIT_US);
}

uint64_t tcp_pace_rate(const struct tcp_ctx *c, const struct tcp_tcb *t)
{
	uint64_t lim = porter_rate_bps(t->rate), r = 0;

	if (c->prm->pacing && t->srtt_us && t->cc.cwnd > TCP_PACE_MIN_SEGS * (uint32_t)t->mss) {
		r = (uint64_t)t->cc.cwnd * 1000000u / t->srtt_us;
		r = t->cc.cwnd < t->cc.ssthresh / 2 ? r * 2 : r * 6 / 5;
		if (r == 0)
			r = 1;
	}
	if (lim && (r == 0 || lim < r))
		r = lim;
	return r;
}

bool tcp_pace_by_cwnd(const struct tcp_tcb *t, uint64_t rate)
{
	uint64_t lim = porter_rate_bps(t->rate);

	return rate != 0 && (lim == 0 || rate < lim);
}

/* Units LEN bytes take at RATE, times 256. */
static inline uint64_t cost256(uint32_t len, uint64_t rate)
{
	return (uint64_t)len * PACE_UNITS_PER_S * 256 / rate;
}

/* One full segment's gap at RATE, in units: what pace_ahead and tcp_pace_hold measure by. */
static inline uint32_t mss_gap(const struct tcp_tcb *t, uint64_t rate)
{
	return (uint32_t)(cost256(t->mss, rate) >> 8);
}

/*
 * The second segment of a pair may leave one full segment's gap (GAP) early
 * (tcp_pace_hold): GAP, or 0 when pairs are off. Off when the gap is longer
 * than a receiver holds a lone segment's ACK (the pair buys nothing then) -
 * which also keeps a slow limit's charges (a few kB/s: a segment costs
 * hundreds of ms) inside what pace_at can hold, so no cost is cut and the
 * limit stays exact.
 */
static inline uint32_t pair_gap(uint32_t gap)
{
	return gap <= TCP_PACE_PAIR_MAX_US / TCP_PACE_UNIT_US ? gap : 0;
}

/*
 * Units the next departure is ahead of now, 0 when due. A segment leaves only
 * while its departure is within the horizon and one segment's gap (the pair of
 * tcp_pace_hold), so a true value is at most the horizon and two gaps ahead
 * (three, allowing for a retransmission a timer sent): anything further is
 * stale and reset to now.
 */
static uint32_t pace_ahead(const struct tcp_ctx *c, struct tcp_tcb *t, uint32_t gap)
{
	int16_t d = (int16_t)(uint16_t)(t->cc.pace_at - pace_now(c));
	uint64_t max = PACE_HORIZON + (uint64_t)(pair_gap(gap) ? 3 : 2) * gap + 2;

	if (d <= 0)
		return 0;
	if ((uint64_t)d > max) {
		t->cc.pace_at = pace_now(c);
		return 0;
	}
	return (uint32_t)d;
}

/*
 * Held while the next departure is further ahead than the horizon plus one
 * segment's gap, and woken when it is within the horizon: so segments leave
 * in pairs, from idle and when held, as Linux's pacing sends at least two per
 * skb (tcp_min_tso_segs). A receiver ACKs every second full segment at once
 * but delays its ACK for one alone (40 ms on Linux outside quick-ACK mode):
 * with a window of a few segments, as loss leaves it, pacing them one by one
 * bought a delayed ACK per round trip. The rate is unchanged (every segment
 * is charged); only its granularity is a pair.
 */
bool tcp_pace_hold(struct tcp_ctx *c, struct tcp_tcb *t, uint64_t rate)
{
	uint32_t ahead, wake, gap;

	if (rate == 0)
		return false;
	gap = mss_gap(t, rate);
	ahead = pace_ahead(c, t, gap);
	if (ahead <= PACE_HORIZON + pair_gap(gap))
		return false;
	/* due within the horizon at (ahead - horizon) units from now: the tick after that,
	 * when a pair may go */
	wake = c->now_ms + ((ahead - PACE_HORIZON) * TCP_PACE_UNIT_US + 999) / 1000;
	if (wake == 0)
		wake = 1;
	if (!t->delack_at || ms_before(wake, t->delack_at))
		t->delack_at = wake;
	tcp_timer_update(c, t);
	tcp_more_count(c, TMORE_PACED);
	return true;
}

/*
 * The tail loss probe's timer starts after the pacing delay, as Linux's
 * tcp_reset_xmit_timer() adds tcp_pacing_delay(): a stream whose next segment
 * is held by pacing is not idle, and a probe fired meanwhile would send that
 * segment early, past the pacing and past a rate limit. A stale value counts
 * as far ahead as pace_at can be, which only moves the probe later.
 */
uint32_t tcp_pace_delay_us(const struct tcp_ctx *c, const struct tcp_tcb *t)
{
	uint64_t rate = tcp_pace_rate(c, t);
	int16_t d = (int16_t)(uint16_t)(t->cc.pace_at - pace_now(c));

	if (rate == 0 || d <= 0)
		return 0;
	return (uint32_t)d * TCP_PACE_UNIT_US;
}

void tcp_pace_charge(struct tcp_ctx *c, struct tcp_tcb *t, uint64_t rate, uint32_t len)
{
	uint64_t cost;
	uint32_t units;
	int32_t d, ahead;

	if (rate == 0 || len == 0)
		return;
	/* from the later of the departure due and now less the credit a late stream keeps */
	d = (int16_t)(uint16_t)(t->cc.pace_at - pace_now(c));
	if (d > 0)
		d = (int32_t)pace_ahead(c, t, mss_gap(t, rate));   /* 0 if stale */
	if (d < -(int32_t)PACE_CREDIT)
		d = -(int32_t)PACE_CREDIT;
	cost = cost256(len, rate);
	units = (uint32_t)(cost >> 8);
	/* round up with probability frac/256 (a cheap hash of the clock and the stream's send edge) */
	if ((cost & 255) > ((uint32_t)(c->now_us * 2654435761u) ^ (t->snd_nxt >> 3)) % 256)
		units++;
	/* signed: a stream that was late keeps its credit (up to PACE_CREDIT behind now) */
	ahead = d + (int32_t)(units < PACE_AHEAD_MAX ? units : PACE_AHEAD_MAX);
	if (ahead > (int32_t)PACE_AHEAD_MAX)
		ahead = PACE_AHEAD_MAX;
	t->cc.pace_at = (uint16_t)(pace_now(c) + ahead);
}

/*
 * A limited stream keeps little in its queues: its receive window, which is
 * what holds its peer to the rate when the application drains it no faster
 * (a proxy passes it to a paced stream), and the send room its application
 * sees, which is what the application would otherwise have sent at once.
 * Twice the rate times the SRTT (the window the rate needs) and 50 ms of the
 * rate (what a proxy's relay and a busy host's late wake-ups need in hand to
 * keep a paced stream fed) are enough; four segments at least.
 */
uint32_t tcp_rate_window(const struct tcp_tcb *t, uint32_t cap)
{
	uint64_t lim = porter_rate_bps(t->rate), w;
	uint32_t srtt = t->srtt_us ? t->srtt_us : 1000;

	if (srtt > 60000000u)
		srtt = 60000000u;   /* a garbled SRTT must not overflow lim * 2 * srtt */
	if (lim == 0)
		return cap;
	w = lim * 2 * srtt / 1000000u;
	if (w < lim / 20)
		w = lim / 20;
	if (w < 4u * t->mss)
		w = 4u * t->mss;
	return w < cap ? (uint32_t)w : cap;
}

void tcp_set_rate(struct tcp_ctx *c, uint32_t s, uint64_t bytes_per_s)
{
	struct tcp_tcb *t = &c->tcbs[s];
	uint16_t r = porter_rate16(bytes_per_s);

	if (r && !t->rate)
		tcp_more_count(c, TMORE_RATE_LIMITED);
	t->rate = r;
}

uint64_t tcp_rate(const struct tcp_ctx *c, uint32_t s)
{
	return porter_rate_bps(c->tcbs[s].rate);
}
