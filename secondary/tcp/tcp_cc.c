/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control: NewReno (RFC 5681, RFC 6582) and CUBIC (RFC 9438).
 *
 * Everything lives in the 32-byte struct tcp_cc (shared memory): no globals,
 * no pointers. Every hook first brings the state back into range, so that a
 * torn or garbage struct, a zero MSS or absurd byte counts can never yield
 * cwnd == 0, cwnd < 1 MSS or a 32-bit overflow: windows are kept within
 * [1 MSS, CC_WND_MAX].
 *
 * Units: windows in bytes. CUBIC's formulas (RFC 9438 §4.2) are stated in
 * segments and seconds; they are evaluated in double with W in segments
 * (bytes / mss) and t in seconds (ms / 1000), then turned back into bytes.
 * Time is a wrapping uint32 ms clock: only differences are used.
 *
 * Use of the fields:
 *   acked_accum  bytes acked in congestion avoidance not yet turned into
 *                window growth: NewReno adds 1 MSS per cwnd bytes (RFC 5681
 *                §3.1 byte counting); CUBIC adds alpha_cubic MSS to W_est per
 *                cwnd bytes (RFC 9438 §4.3, Figure 4 summed over a window).
 *   epoch_start  start of the current congestion-avoidance stage; 0 = none.
 *                An epoch starting at ms 0 is stored as UINT32_MAX (1 ms
 *                earlier), never as 0.
 *   w_max        0 = undefined (no loss yet, or reset by a timeout, RFC 9438
 *                §4.8): the next epoch then takes K = 0, W_max = cwnd_epoch.
 */
#include "secondary/tcp/tcp_cc.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

_Static_assert(sizeof(struct tcp_cc) == 32, "struct tcp_cc lives in shared memory: 32 bytes");

#define CC_WND_MAX     (1u << 30)      /* cap on every window, bytes */
#define CC_MSS_DEFAULT 536u            /* RFC 9293 §3.7.1 default SMSS, used when mss == 0 */
#define CC_MSS_MAX     65535u          /* the MSS option is 16 bits (RFC 9293 §3.2) */

/* RFC 9438 §4.1 constants. */
#define CUBIC_C     0.4                /* segments / s^3 */
#define CUBIC_BETA  0.7                /* multiplicative decrease factor (7/10 in integer code) */
/* RFC 9438 §4.3: alpha_cubic = 3 (1 - beta) / (1 + beta) ~= 0.529 */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))

/* ---- helpers ------------------------------------------------------------ */

static uint32_t smss(uint32_t mss)
{
	if (mss == 0)
		return CC_MSS_DEFAULT;
	return mss > CC_MSS_MAX ? CC_MSS_MAX : mss;
}

static uint32_t clamp_u64(uint64_t v, uint32_t lo)
{
	if (v > CC_WND_MAX)
		v = CC_WND_MAX;
	return v < lo ? lo : (uint32_t)v;
}

/* A non-negative double window in bytes to uint32, clamped to [lo, CC_WND_MAX]. */
static uint32_t clamp_dbl(double v, uint32_t lo)
{
	if (!(v >= 0.0))                   /* also NaN */
		return lo;
	if (v >= (double)CC_WND_MAX)
		return CC_WND_MAX;
	return clamp_u64((uint64_t)v, lo);
}

/* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)). */
static uint32_t initial_window(uint32_t m)
{
	uint64_t a = 10ull * m, b = 2ull * m;

	if (b < 14600)
		b = 14600;
	return clamp_u64(a < b ? a : b, m);
}

static bool is_cubic(const struct tcp_cc *cc)
{
	return cc->algo == TCP_CC_CUBIC;
}

/* Bring a possibly garbage state back into range (see the file comment). */
static void sanitize(struct tcp_cc *cc, uint32_t m)
{
	if (cc->algo != TCP_CC_NEWRENO && cc->algo != TCP_CC_CUBIC)
		cc->algo = TCP_CC_NEWRENO;
	cc->cwnd = clamp_u64(cc->cwnd, m);
	cc->ssthresh = clamp_u64(cc->ssthresh, 2 * m);
	if (cc->acked_accum > CC_WND_MAX)
		cc->acked_accum = 0;
	if (cc->w_max > CC_WND_MAX)
		cc->w_max = CC_WND_MAX;
	if (cc->w_est > CC_WND_MAX)
		cc->w_est = CC_WND_MAX;
	if (cc->in_recovery > 1)
		cc->in_recovery = 1;
}

static uint32_t ms_epoch(uint32_t now_ms)
{
	return now_ms != 0 ? now_ms : UINT32_MAX;
}

/* RFC 9438 Figure 1: W_cubic(t) = C (t - K)^3 + W_max, here in bytes with t, K in ms. */
static double cubic_w(uint32_t w_max, uint32_t k_ms, uint32_t m, double t_ms)
{
	double d = (t_ms - (double)k_ms) / 1000.0;

	return CUBIC_C * d * d * d * (double)m + (double)w_max;
}

/*
 * RFC 9438 §4.2, start of a congestion-avoidance stage: t_epoch = now,
 * cwnd_epoch = cwnd, K = cbrt((W_max - cwnd_epoch) / C) (Figure 2).
 * When W_max is undefined or not above cwnd_epoch (first stage after slow
 * start, §4.10; first stage after a timeout, §4.8) K = 0 and W_max =
 * cwnd_epoch. W_est starts at cwnd_epoch (§4.3).
 */
static void cubic_epoch_start(struct tcp_cc *cc, uint32_t m, uint32_t now_ms)
{
	cc->epoch_start = ms_epoch(now_ms);
	cc->acked_accum = 0;
	cc->w_est = cc->cwnd;
	if (cc->w_max > cc->cwnd) {
		double k_s = cbrt((double)(cc->w_max - cc->cwnd) / (double)m / CUBIC_C);

		cc->k_ms = (uint32_t)lround(k_s * 1000.0);
	} else {
		cc->k_ms = 0;
		cc->w_max = cc->cwnd;
	}
}

/* RFC 9438 §4.6 multiplicative decrease and §4.7 fast convergence. */
static void cubic_reduce(struct tcp_cc *cc, uint32_t m)
{
	uint32_t cwnd_prior = cc->cwnd;

	/*
	 * §4.7: a loss below the previous W_max means the share is shrinking:
	 * release some. Integer arithmetic: (1 + 0.7) / 2 = 17/20, 0.7 = 7/10.
	 */
	if (cwnd_prior < cc->w_max)
		cc->w_max = clamp_u64((uint64_t)cwnd_prior * 17 / 20, m);
	else
		cc->w_max = cwnd_prior;
	/* §4.6 Figure 5: ssthresh = max(cwnd * beta_cubic, 2 SMSS) (the header's contract uses cwnd). */
	cc->ssthresh = clamp_u64((uint64_t)cwnd_prior * 7 / 10, 2 * m);
	cc->epoch_start = 0;
	cc->acked_accum = 0;
}

/* RFC 5681 §3.1 eq. (4): ssthresh = max(FlightSize / 2, 2*SMSS). */
static uint32_t reno_ssthresh(uint32_t flight, uint32_t m)
{
	return clamp_u64(flight / 2, 2 * m);
}

/* ---- congestion avoidance ---------------------------------------------- */

/*
 * RFC 5681 §3.1 byte counting: cwnd grows by 1 SMSS each time cwnd bytes
 * have been acknowledged (a stretch ACK may earn several increments).
 */
static void reno_ca(struct tcp_cc *cc, uint32_t m, uint32_t acked)
{
	uint64_t acc = (uint64_t)cc->acked_accum + acked;
	uint64_t steps = acc / cc->cwnd;

	acc -= steps * cc->cwnd;
	cc->cwnd = clamp_u64((uint64_t)cc->cwnd + steps * m, m);
	cc->acked_accum = (uint32_t)(acc < cc->cwnd ? acc : 0);
}

/* RFC 9438 §4.2-§4.5, one new ACK of ACKED bytes in congestion avoidance. */
static void cubic_ca(struct tcp_cc *cc, uint32_t m, uint32_t acked, uint32_t now_ms, uint32_t rtt_ms)
{
	uint32_t t_ms;
	double cwnd, t_cur, w_now, w_next, target, alpha, cwnd_prior;
	uint64_t acc, steps;

	/* A clock that went backwards (or an epoch older than 2^31 ms) restarts the stage. */
	if (cc->epoch_start == 0 || (int32_t)(now_ms - cc->epoch_start) < 0)
		cubic_epoch_start(cc, m, now_ms);
	t_ms = now_ms - cc->epoch_start;
	cwnd = (double)cc->cwnd;
	t_cur = (double)t_ms;

	/*
	 * §4.3 Reno-friendly estimate (Figure 4): W_est += alpha_cubic *
	 * segments_acked / cwnd, i.e. alpha_cubic segments per cwnd bytes
	 * acked: added in whole steps each time cwnd bytes have been acked,
	 * the remainder carried in acked_accum. alpha_cubic becomes 1 once
	 * W_est reaches cwnd_prior, the cwnd when ssthresh was last set
	 * (recovered as ssthresh / beta).
	 */
	cwnd_prior = (double)cc->ssthresh / CUBIC_BETA;
	acc = (uint64_t)cc->acked_accum + acked;
	steps = acc / cc->cwnd;
	acc -= steps * cc->cwnd;
	cc->acked_accum = (uint32_t)acc;
	if (steps > 0) {
		alpha = (double)cc->w_est >= cwnd_prior ? 1.0 : CUBIC_ALPHA;
		cc->w_est = clamp_dbl((double)cc->w_est + (double)steps * alpha * m, m);
	}

	w_now = cubic_w(cc->w_max, cc->k_ms, m, t_cur);
	if (w_now < (double)cc->w_est) {
		/* §4.3: Reno-friendly region: cwnd follows W_est (never shrinks on an ACK). */
		if (cc->w_est > cc->cwnd)
			cc->cwnd = cc->w_est;
		return;
	}

	/*
	 * §4.2 Figure 3: target = W_cubic(t + RTT) clamped to [cwnd, 1.5 cwnd];
	 * §4.4 (concave, cwnd < W_max) and §4.5 (convex): cwnd += (target -
	 * cwnd) / cwnd per segment acked, i.e. (target - cwnd) * acked / cwnd
	 * bytes for ACKED bytes.
	 */
	w_next = cubic_w(cc->w_max, cc->k_ms, m, t_cur + (double)rtt_ms);
	target = w_next;
	if (target < cwnd)
		target = cwnd;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	cc->cwnd = clamp_dbl(cwnd + (target - cwnd) * (double)acked / cwnd, m);
}

/* ---- hooks -------------------------------------------------------------- */

void tcp_cc_init(struct tcp_cc *cc, enum tcp_cc_algo algo, uint32_t mss)
{
	uint32_t m = smss(mss);

	*cc = (struct tcp_cc){ 0 };
	cc->algo = algo == TCP_CC_CUBIC ? TCP_CC_CUBIC : TCP_CC_NEWRENO;
	cc->cwnd = initial_window(m);
	/* RFC 5681 §3.1: initial ssthresh arbitrarily high (here the window cap). */
	cc->ssthresh = CC_WND_MAX;
}

void tcp_cc_on_ack(struct tcp_cc *cc, uint32_t mss, uint32_t acked, uint32_t now_ms, uint32_t rtt_ms)
{
	uint32_t m = smss(mss);

	sanitize(cc, m);
	/* Recovery owns cwnd (RFC 6582 §3.2); nothing acked, nothing to do. */
	if (cc->in_recovery || acked == 0)
		return;

	if (cc->cwnd < cc->ssthresh) {
		/*
		 * RFC 5681 §3.1 eq. (2) with RFC 3465 §2.2's L = 2 SMSS: cwnd +=
		 * min(N, 2 SMSS), so a receiver that ACKs every second segment
		 * still doubles the window per round trip.
		 */
		cc->cwnd = clamp_u64((uint64_t)cc->cwnd + (acked < 2 * m ? acked : 2 * m), m);
		cc->acked_accum = 0;
		cc->epoch_start = 0;        /* CUBIC: a later CA stage is a new epoch (RFC 9438 §4.2) */
		return;
	}
	if (is_cubic(cc))
		cubic_ca(cc, m, acked, now_ms, rtt_ms);
	else
		reno_ca(cc, m, acked);
}

void tcp_cc_on_loss(struct tcp_cc *cc, uint32_t mss, uint32_t flight, int dupack_inflate)
{
	uint32_t m = smss(mss);

	sanitize(cc, m);
	if (is_cubic(cc)) {
		/* RFC 9438 §4.6: cwnd = ssthresh (the header: no dupack inflation for CUBIC). */
		cubic_reduce(cc, m);
		cc->cwnd = cc->ssthresh;
	} else {
		/* RFC 6582 §3.2 step 2 / RFC 5681 §3.2 step 2-3. */
		cc->ssthresh = reno_ssthresh(flight, m);
		cc->cwnd = dupack_inflate ? clamp_u64((uint64_t)cc->ssthresh + 3ull * m, m) : cc->ssthresh;
		cc->acked_accum = 0;
	}
	cc->in_recovery = 1;
}

void tcp_cc_on_dupack_in_recovery(struct tcp_cc *cc, uint32_t mss)
{
	uint32_t m = smss(mss);

	sanitize(cc, m);
	/* RFC 6582 §3.2 step 4: cwnd += SMSS for each additional duplicate ACK. */
	if (cc->in_recovery)
		cc->cwnd = clamp_u64((uint64_t)cc->cwnd + m, m);
}

void tcp_cc_on_partial_ack(struct tcp_cc *cc, uint32_t mss, uint32_t acked)
{
	uint32_t m = smss(mss);
	uint64_t w;

	sanitize(cc, m);
	if (!cc->in_recovery)
		return;
	/*
	 * RFC 6582 §3.2 step 5: deflate cwnd by the new data acknowledged; add
	 * back SMSS if that was at least SMSS. Never below 1 SMSS.
	 */
	w = cc->cwnd > acked ? cc->cwnd - acked : 0;
	if (acked >= m)
		w += m;
	cc->cwnd = clamp_u64(w, m);
}

void tcp_cc_on_recovery_end(struct tcp_cc *cc, uint32_t mss, uint32_t flight)
{
	uint32_t m = smss(mss);
	uint64_t w;

	sanitize(cc, m);
	/* Not in recovery (e.g. an RTO already ended it): cwnd is not recovery's to set. */
	if (!cc->in_recovery)
		return;
	/* RFC 6582 §3.2 step 6, option 1: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS). */
	w = (uint64_t)(flight > m ? flight : m) + m;
	if (w > cc->ssthresh)
		w = cc->ssthresh;
	cc->cwnd = clamp_u64(w, m);
	cc->acked_accum = 0;
	cc->in_recovery = 0;
}

void tcp_cc_on_reduction_end(struct tcp_cc *cc, uint32_t mss)
{
	uint32_t m = smss(mss);

	sanitize(cc, m);
	/* RFC 6937 §3: at the end of recovery cwnd = ssthresh (PRR brought the flight there) */
	cc->cwnd = cc->ssthresh > m ? cc->ssthresh : m;
	cc->acked_accum = 0;
	cc->in_recovery = 0;
}

void tcp_cc_undo(struct tcp_cc *cc, uint32_t mss, uint32_t prior_cwnd, uint32_t prior_ssthresh)
{
	uint32_t m = smss(mss);

	sanitize(cc, m);
	if (cc->cwnd < prior_cwnd)
		cc->cwnd = prior_cwnd;
	if (cc->ssthresh < prior_ssthresh)
		cc->ssthresh = prior_ssthresh;
	cc->acked_accum = 0;
	cc->in_recovery = 0;
}

void tcp_cc_on_rto(struct tcp_cc *cc, uint32_t mss, uint32_t flight)
{
	uint32_t m = smss(mss);

	sanitize(cc, m);
	if (is_cubic(cc)) {
		/*
		 * RFC 9438 §4.8: ssthresh with beta_cubic as in §4.6. The first
		 * CA stage after a timeout takes K = 0 and W_max = W_est =
		 * cwnd_epoch, so the W_max update here is to mark it undefined
		 * (0) for cubic_epoch_start() (Linux's bictcp_reset does the same).
		 */
		cubic_reduce(cc, m);
		cc->w_max = 0;
	} else {
		/* RFC 5681 §3.1 eq. (4). */
		cc->ssthresh = reno_ssthresh(flight, m);
		cc->acked_accum = 0;
	}
	/* RFC 5681 §3.1: loss window LW = 1 SMSS. */
	cc->cwnd = m;
	cc->in_recovery = 0;
}

void tcp_cc_on_idle_restart(struct tcp_cc *cc, uint32_t mss)
{
	uint32_t m = smss(mss);
	uint32_t iw = initial_window(m);

	sanitize(cc, m);
	/* RFC 5681 §4.1: restart window RW = min(IW, cwnd). */
	if (cc->cwnd > iw)
		cc->cwnd = iw;
	cc->acked_accum = 0;
	/* CUBIC: the idle time is not part of the epoch (RFC 9438 §5.8); start a new one. */
	cc->epoch_start = 0;
}

double tcp_cubic_w(const struct tcp_cc *cc, uint32_t mss, double t_ms)
{
	return cubic_w(cc->w_max, cc->k_ms, smss(mss), t_ms);
}
