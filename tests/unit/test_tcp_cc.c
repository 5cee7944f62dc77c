/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp/tcp_cc.c: NewReno (RFC 5681, RFC 6582) and CUBIC (RFC 9438).
 * Expected values are computed here from the RFC formulas; CUBIC is checked
 * by simulating ACK clocking (one window of data acknowledged per RTT, in
 * MSS-sized ACKs spread evenly over the RTT) and comparing cwnd with
 * W_cubic(t) = C (t - K)^3 + W_max, K = cbrt(W_max (1 - beta) / C), in
 * segments and seconds.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "secondary/tcp/tcp_cc.h"

#define C_CUBIC  0.4
#define BETA     0.7
#define ALPHA    (3.0 * (1.0 - BETA) / (1.0 + BETA))
#define WND_CAP  (1u << 30)

static uint32_t rng_state = 0x9e3779b9u;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static uint32_t iw_rfc6928(uint32_t mss)
{
	uint32_t a = 10 * mss, b = 2 * mss > 14600 ? 2 * mss : 14600;

	return a < b ? a : b;
}

/* W_cubic(t) in segments, t in seconds. */
static double w_cubic_seg(double w_max_seg, double k_s, double t_s)
{
	return C_CUBIC * pow(t_s - k_s, 3) + w_max_seg;
}

static double k_of(double w_max_seg)
{
	return cbrt(w_max_seg * (1.0 - BETA) / C_CUBIC);
}

/* Put CC in congestion avoidance with cwnd = ssthresh = W bytes (no loss yet). */
static void at_window(struct tcp_cc *cc, enum tcp_cc_algo algo, uint32_t mss, uint32_t w)
{
	tcp_cc_init(cc, algo, mss);
	cc->cwnd = w;
	cc->ssthresh = w;
}

/* Loss at cwnd = W (fast recovery, no inflation), then recovery ends with plenty in flight. */
static void loss_at(struct tcp_cc *cc, uint32_t mss, uint32_t w)
{
	cc->cwnd = w;
	tcp_cc_on_loss(cc, mss, w, 0);
	tcp_cc_on_recovery_end(cc, mss, w);
	cr_assert_eq(cc->in_recovery, 0);
}

/* ACK-clocked sender: one cwnd of data per RTT, ACKed in MSS pieces. */
struct sim {
	uint32_t now0;   /* clock value at t = 0 */
	uint32_t mss, rtt_ms;
	double t_ms;     /* time of the next ACK, relative to now0 */
};

static void run_until(struct tcp_cc *cc, struct sim *s, double until_ms)
{
	while (s->t_ms < until_ms) {
		uint32_t left = cc->cwnd;                       /* one window this round */
		unsigned int nacks = (left + s->mss - 1) / s->mss;
		double dt = (double)s->rtt_ms / nacks;

		while (left > 0) {
			uint32_t a = left < s->mss ? left : s->mss;
			uint32_t now = s->now0 + (uint32_t)llround(s->t_ms);

			tcp_cc_on_ack(cc, s->mss, a, now, s->rtt_ms);
			left -= a;
			s->t_ms += dt;
		}
	}
}

static void assert_sane(const struct tcp_cc *cc, uint32_t mss)
{
	uint32_t m = mss ? mss : 1;

	if (m > 65535)
		m = 65535;
	cr_assert_gt(cc->cwnd, 0);
	cr_assert_geq(cc->cwnd, m < WND_CAP ? m : WND_CAP, "cwnd %u mss %u", cc->cwnd, mss);
	cr_assert_leq(cc->cwnd, WND_CAP);
	cr_assert_gt(cc->ssthresh, 0);
	cr_assert_leq(cc->ssthresh, WND_CAP);
	cr_assert_leq(cc->w_max, WND_CAP);
	cr_assert_leq(cc->w_est, WND_CAP);
	cr_assert_leq(cc->in_recovery, 1);
}

/* ---- layout / initial window ---------------------------------------------- */

Test(cc, struct_is_32_bytes)
{
	cr_assert_eq(sizeof(struct tcp_cc), 32);
}

Test(cc, initial_window_rfc6928)
{
	const uint32_t mss[] = { 536, 1000, 1460, 4380, 8960, 9000, 65535 };

	cr_assert_eq(iw_rfc6928(536), 5360);
	cr_assert_eq(iw_rfc6928(1460), 14600);
	cr_assert_eq(iw_rfc6928(8960), 17920);
	for (int algo = 0; algo < 2; algo++) {
		for (unsigned int i = 0; i < sizeof(mss) / sizeof(mss[0]); i++) {
			struct tcp_cc cc;

			memset(&cc, 0xff, sizeof(cc));
			tcp_cc_init(&cc, (enum tcp_cc_algo)algo, mss[i]);
			cr_assert_eq(cc.cwnd, iw_rfc6928(mss[i]), "mss %u", mss[i]);
			cr_assert_geq(cc.ssthresh, 1000u * cc.cwnd, "ssthresh arbitrarily high");
			cr_assert_eq(cc.algo, algo);
			cr_assert_eq(cc.in_recovery, 0);
			cr_assert_eq(cc.acked_accum, 0);
			cr_assert_eq(cc.epoch_start, 0);
		}
	}
	/* the three in the brief, explicitly */
	struct tcp_cc cc;

	tcp_cc_init(&cc, TCP_CC_NEWRENO, 536);
	cr_assert_eq(cc.cwnd, 5360);
	tcp_cc_init(&cc, TCP_CC_NEWRENO, 1460);
	cr_assert_eq(cc.cwnd, 14600);
	tcp_cc_init(&cc, TCP_CC_CUBIC, 8960);
	cr_assert_eq(cc.cwnd, 17920);
}

/* ---- slow start ------------------------------------------------------------- */

Test(cc, slow_start_growth)
{
	for (int algo = 0; algo < 2; algo++) {
		struct tcp_cc cc;
		const uint32_t mss = 1460;

		tcp_cc_init(&cc, (enum tcp_cc_algo)algo, mss);
		/* RFC 5681 §3.1: cwnd += min(N, L), L = 2 SMSS (RFC 3465 §2.2) */
		tcp_cc_on_ack(&cc, mss, mss, 1, 50);
		cr_assert_eq(cc.cwnd, 14600 + 1460);
		tcp_cc_on_ack(&cc, mss, 3 * mss, 2, 50);       /* stretch ACK: L = 2 SMSS */
		cr_assert_eq(cc.cwnd, 14600 + 3 * 1460);
		tcp_cc_on_ack(&cc, mss, 500, 3, 50);           /* less than a segment */
		cr_assert_eq(cc.cwnd, 14600 + 3 * 1460 + 500);
		tcp_cc_on_ack(&cc, mss, 0, 4, 50);             /* nothing new acked */
		cr_assert_eq(cc.cwnd, 14600 + 3 * 1460 + 500);

		/* an ACK every second segment doubles cwnd each RTT too */
		tcp_cc_init(&cc, (enum tcp_cc_algo)algo, mss);
		for (int rtt = 0; rtt < 3; rtt++) {
			uint32_t w = cc.cwnd;

			for (uint32_t a = 0; a < w / (2 * mss); a++)
				tcp_cc_on_ack(&cc, mss, 2 * mss, 100u * rtt + a, 100);
			cr_assert_eq(cc.cwnd, 2 * w);
		}

		/* a window of MSS ACKs doubles cwnd each RTT */
		tcp_cc_init(&cc, (enum tcp_cc_algo)algo, mss);
		for (int rtt = 0; rtt < 5; rtt++) {
			uint32_t w = cc.cwnd;

			for (uint32_t a = 0; a < w / mss; a++)
				tcp_cc_on_ack(&cc, mss, mss, 100u * rtt + a, 100);
			cr_assert_eq(cc.cwnd, 2 * w);
		}
		cr_assert_eq(cc.cwnd, 14600u << 5);
	}
}

/* ---- NewReno congestion avoidance ----------------------------------------- */

Test(cc, newreno_ca_one_mss_per_window)
{
	const uint32_t mss = 1460;
	struct tcp_cc cc;

	/* reach CA through the API: loss at flight 20 MSS, full recovery */
	tcp_cc_init(&cc, TCP_CC_NEWRENO, mss);
	tcp_cc_on_loss(&cc, mss, 20 * mss, 1);
	tcp_cc_on_recovery_end(&cc, mss, 20 * mss);
	cr_assert_eq(cc.ssthresh, 10 * mss);
	cr_assert_eq(cc.cwnd, 10 * mss);

	for (int i = 0; i < 9; i++)
		tcp_cc_on_ack(&cc, mss, mss, 0, 0);
	cr_assert_eq(cc.cwnd, 10 * mss, "9 of 10 segments: no growth yet");
	tcp_cc_on_ack(&cc, mss, mss, 0, 0);
	cr_assert_eq(cc.cwnd, 11 * mss);
	for (int i = 0; i < 10; i++)
		tcp_cc_on_ack(&cc, mss, mss, 0, 0);
	cr_assert_eq(cc.cwnd, 11 * mss);
	tcp_cc_on_ack(&cc, mss, mss, 0, 0);
	cr_assert_eq(cc.cwnd, 12 * mss);

	/* byte counting with odd sizes: exactly +1 MSS once cwnd bytes are acked */
	{
		uint32_t w = cc.cwnd, sum = 0;

		while (sum + 700 < w) {
			tcp_cc_on_ack(&cc, mss, 700, 0, 0);
			sum += 700;
			cr_assert_eq(cc.cwnd, w);
		}
		tcp_cc_on_ack(&cc, mss, w - sum, 0, 0);
		cr_assert_eq(cc.cwnd, w + mss);
	}

	/* over many RTTs: +1 MSS per RTT */
	for (int rtt = 0; rtt < 30; rtt++) {
		uint32_t w = cc.cwnd;

		for (uint32_t a = 0; a < w / mss; a++)
			tcp_cc_on_ack(&cc, mss, mss, 0, 0);
		cr_assert_eq(cc.cwnd, w + mss, "rtt %d", rtt);
	}
}

/* ---- NewReno loss recovery --------------------------------------------------- */

Test(cc, newreno_fast_recovery)
{
	const uint32_t mss = 1000;
	struct tcp_cc cc;

	at_window(&cc, TCP_CC_NEWRENO, mss, 20 * mss);
	/* RFC 6582 §3.2 step 2-3 / RFC 5681 eq. (4): ssthresh = flight/2, cwnd = ssthresh + 3 MSS */
	tcp_cc_on_loss(&cc, mss, 20 * mss, 1);
	cr_assert_eq(cc.ssthresh, 10 * mss);
	cr_assert_eq(cc.cwnd, 13 * mss);
	cr_assert_eq(cc.in_recovery, 1);

	/* step 4: inflation */
	tcp_cc_on_dupack_in_recovery(&cc, mss);
	tcp_cc_on_dupack_in_recovery(&cc, mss);
	cr_assert_eq(cc.cwnd, 15 * mss);

	/* ACKs do not grow cwnd during recovery (recovery hooks own it) */
	tcp_cc_on_ack(&cc, mss, mss, 10, 10);
	tcp_cc_on_ack(&cc, mss, 40 * mss, 11, 10);
	cr_assert_eq(cc.cwnd, 15 * mss);

	/* step 5: partial ACK deflates by the amount acked, adds back 1 MSS if >= MSS */
	tcp_cc_on_partial_ack(&cc, mss, 3 * mss);
	cr_assert_eq(cc.cwnd, 13 * mss);
	tcp_cc_on_partial_ack(&cc, mss, 500);
	cr_assert_eq(cc.cwnd, 13 * mss - 500);
	tcp_cc_on_partial_ack(&cc, mss, mss);
	cr_assert_eq(cc.cwnd, 13 * mss - 500);
	cr_assert_eq(cc.in_recovery, 1);

	/* step 6 option 1: cwnd = min(ssthresh, max(flight, mss) + mss) */
	tcp_cc_on_recovery_end(&cc, mss, 4 * mss);
	cr_assert_eq(cc.cwnd, 5 * mss);
	cr_assert_eq(cc.in_recovery, 0);
	cr_assert_eq(cc.ssthresh, 10 * mss);

	/* back in slow start below ssthresh */
	tcp_cc_on_ack(&cc, mss, mss, 20, 10);
	cr_assert_eq(cc.cwnd, 6 * mss);

	/* recovery end with a large flight: ssthresh */
	tcp_cc_on_loss(&cc, mss, 30 * mss, 1);
	tcp_cc_on_recovery_end(&cc, mss, 30 * mss);
	cr_assert_eq(cc.cwnd, 15 * mss);
	/* recovery end with nothing in flight: 2 MSS (max(flight, mss) + mss) */
	tcp_cc_on_loss(&cc, mss, 30 * mss, 1);
	tcp_cc_on_recovery_end(&cc, mss, 0);
	cr_assert_eq(cc.cwnd, 2 * mss);
	/* hooks outside recovery are no-ops */
	tcp_cc_on_recovery_end(&cc, mss, 100 * mss);
	tcp_cc_on_partial_ack(&cc, mss, mss);
	tcp_cc_on_dupack_in_recovery(&cc, mss);
	cr_assert_eq(cc.cwnd, 2 * mss);
}

Test(cc, newreno_loss_floor_and_no_inflation)
{
	const uint32_t mss = 1460;
	struct tcp_cc cc;

	/* ssthresh = max(flight/2, 2 MSS) */
	at_window(&cc, TCP_CC_NEWRENO, mss, 3 * mss);
	tcp_cc_on_loss(&cc, mss, 3 * mss, 1);
	cr_assert_eq(cc.ssthresh, 2 * mss);
	cr_assert_eq(cc.cwnd, 5 * mss);
	at_window(&cc, TCP_CC_NEWRENO, mss, 3 * mss);
	tcp_cc_on_loss(&cc, mss, 0, 1);
	cr_assert_eq(cc.ssthresh, 2 * mss);

	/* SACK-based recovery (RFC 6675): no inflation */
	at_window(&cc, TCP_CC_NEWRENO, mss, 40 * mss);
	tcp_cc_on_loss(&cc, mss, 40 * mss, 0);
	cr_assert_eq(cc.ssthresh, 20 * mss);
	cr_assert_eq(cc.cwnd, 20 * mss);

	/* flight, not cwnd: an application-limited sender */
	at_window(&cc, TCP_CC_NEWRENO, mss, 40 * mss);
	tcp_cc_on_loss(&cc, mss, 10 * mss, 0);
	cr_assert_eq(cc.ssthresh, 5 * mss);
}

Test(cc, newreno_partial_ack_never_below_one_mss)
{
	const uint32_t mss = 1460;
	struct tcp_cc cc;

	at_window(&cc, TCP_CC_NEWRENO, mss, 4 * mss);
	tcp_cc_on_loss(&cc, mss, 4 * mss, 0);
	tcp_cc_on_partial_ack(&cc, mss, 100 * mss);
	cr_assert_eq(cc.cwnd, mss);
	tcp_cc_on_partial_ack(&cc, mss, UINT32_MAX);
	cr_assert_eq(cc.cwnd, mss);
	tcp_cc_on_partial_ack(&cc, mss, 700);
	cr_assert_eq(cc.cwnd, mss);
}

/* ---- RTO and idle ---------------------------------------------------------- */

Test(cc, rto_one_mss)
{
	const uint32_t mss = 1460;
	struct tcp_cc cc;

	at_window(&cc, TCP_CC_NEWRENO, mss, 30 * mss);
	tcp_cc_on_rto(&cc, mss, 30 * mss);
	cr_assert_eq(cc.cwnd, mss);
	cr_assert_eq(cc.ssthresh, 15 * mss);
	cr_assert_eq(cc.in_recovery, 0);

	/* RTO during recovery leaves recovery; a later "recovery end" changes nothing */
	at_window(&cc, TCP_CC_NEWRENO, mss, 30 * mss);
	tcp_cc_on_loss(&cc, mss, 30 * mss, 1);
	tcp_cc_on_rto(&cc, mss, 18 * mss);
	cr_assert_eq(cc.cwnd, mss);
	cr_assert_eq(cc.ssthresh, 9 * mss);
	cr_assert_eq(cc.in_recovery, 0);
	tcp_cc_on_recovery_end(&cc, mss, 18 * mss);
	cr_assert_eq(cc.cwnd, mss);
	/* slow start again from 1 MSS */
	tcp_cc_on_ack(&cc, mss, mss, 0, 0);
	cr_assert_eq(cc.cwnd, 2 * mss);

	/* repeated RTO: ssthresh floor 2 MSS */
	tcp_cc_on_rto(&cc, mss, mss);
	tcp_cc_on_rto(&cc, mss, mss);
	cr_assert_eq(cc.cwnd, mss);
	cr_assert_eq(cc.ssthresh, 2 * mss);

	/* CUBIC: ssthresh = cwnd * beta, cwnd = 1 MSS */
	at_window(&cc, TCP_CC_CUBIC, mss, 100 * mss);
	tcp_cc_on_rto(&cc, mss, 100 * mss);
	cr_assert_eq(cc.cwnd, mss);
	cr_assert_eq(cc.ssthresh, 70 * mss);
	cr_assert_eq(cc.in_recovery, 0);
	cr_assert_eq(cc.epoch_start, 0);
}

Test(cc, idle_restart)
{
	for (int algo = 0; algo < 2; algo++) {
		const uint32_t mss[] = { 536, 1460, 8960 };

		for (unsigned int i = 0; i < 3; i++) {
			struct tcp_cc cc;
			uint32_t m = mss[i];

			at_window(&cc, (enum tcp_cc_algo)algo, m, 50 * m);
			for (int a = 0; a < 10; a++)
				tcp_cc_on_ack(&cc, m, m, 1000u + 10u * a, 40);
			tcp_cc_on_idle_restart(&cc, m);
			cr_assert_eq(cc.cwnd, iw_rfc6928(m), "RW = min(IW, cwnd)");
			cr_assert_eq(cc.epoch_start, 0);
			cr_assert_eq(cc.ssthresh, 50 * m, "ssthresh untouched");

			at_window(&cc, (enum tcp_cc_algo)algo, m, 3 * m);
			if (3 * m < iw_rfc6928(m)) {
				tcp_cc_on_idle_restart(&cc, m);
				cr_assert_eq(cc.cwnd, 3 * m, "cwnd below IW is kept");
			}
		}
	}
}

/* ---- CUBIC -------------------------------------------------------------------- */

Test(cc, cubic_multiplicative_decrease_is_0_7)
{
	const uint32_t mss = 1460;
	struct tcp_cc cc;

	at_window(&cc, TCP_CC_CUBIC, mss, 100 * mss);
	tcp_cc_on_loss(&cc, mss, 100 * mss, 0);
	cr_assert_eq(cc.ssthresh, 70 * mss);
	cr_assert_eq(cc.cwnd, 70 * mss);
	cr_assert_eq(cc.w_max, 100 * mss);
	cr_assert_eq(cc.in_recovery, 1);
	cr_assert_eq(cc.epoch_start, 0);

	/* odd window: floor(0.7 * cwnd) to the byte */
	at_window(&cc, TCP_CC_CUBIC, mss, 123457);
	tcp_cc_on_loss(&cc, mss, 123457, 0);
	cr_assert_eq(cc.ssthresh, (uint32_t)(123457 * 0.7));

	/* floor at 2 MSS */
	at_window(&cc, TCP_CC_CUBIC, mss, 2 * mss);
	tcp_cc_on_loss(&cc, mss, 2 * mss, 0);
	cr_assert_eq(cc.ssthresh, 2 * mss);
	cr_assert_eq(cc.cwnd, 2 * mss);
}

Test(cc, cubic_k_matches_formula)
{
	const uint32_t mss = 1460;
	const double wmax_seg[] = { 10, 100, 1000, 5000 };

	for (unsigned int i = 0; i < 4; i++) {
		struct tcp_cc cc;
		uint32_t w = (uint32_t)(wmax_seg[i] * mss);
		double k_ms = 1000.0 * k_of(wmax_seg[i]);

		at_window(&cc, TCP_CC_CUBIC, mss, w);
		loss_at(&cc, mss, w);
		tcp_cc_on_ack(&cc, mss, mss, 5000, 100);  /* first CA ACK starts the epoch */
		cr_assert_eq(cc.epoch_start, 5000);
		cr_assert_eq(cc.w_max, w);
		cr_assert(fabs((double)cc.k_ms - k_ms) <= 1.5, "W_max %g seg: K %u ms, formula %.1f ms",
			  wmax_seg[i], cc.k_ms, k_ms);
		/* tcp_cubic_w: beta*W_max at t = 0, W_max at t = K */
		/* K is kept in whole ms: W_cubic(0) is off by at most W'(0) * 0.5 ms */
		double slope0 = 3 * C_CUBIC * (k_ms / 1000) * (k_ms / 1000) * mss;  /* bytes/s */
		cr_assert(fabs(tcp_cubic_w(&cc, mss, 0) - BETA * w) <= slope0 * 0.0005 + 1.0,
			  "W(0) %.1f, beta W_max %.1f", tcp_cubic_w(&cc, mss, 0), BETA * w);
		cr_assert(fabs(tcp_cubic_w(&cc, mss, cc.k_ms) - w) < 1e-6);
		for (double t = 0; t < 3 * k_ms; t += k_ms / 7) {
			double want = w_cubic_seg(w / (double)mss, cc.k_ms / 1000.0, t / 1000.0) * mss;

			cr_assert(fabs(tcp_cubic_w(&cc, mss, t) - want) < 1e-6 * want + 1e-6);
		}
	}
	/* K = 1000 segments: cbrt(750) s = 9.0856 s */
	cr_assert(fabs(1000.0 * k_of(1000) - 9085.6) < 0.1);
}

/*
 * After a loss at W_max = 1000 segments with RTT 100 ms, cwnd tracks
 * W_cubic(t) through the concave (t < K ~ 9.09 s) and convex regions.
 * Aiming at W_cubic(t + RTT) keeps the ACK-clocked cwnd within a segment
 * of W_cubic(t) (aiming at W_cubic(t) would lag by about 0.6 W'(t) RTT).
 */
static void cubic_tracks_formula(uint32_t now0)
{
	const uint32_t mss = 1460;
	const double wmax = 1000;
	struct tcp_cc cc;
	struct sim s = { .now0 = now0, .mss = mss, .rtt_ms = 100, .t_ms = 0 };
	const double checks_s[] = { 0.5, 1, 2, 4, 6, 8, 9, 9.0856, 10, 11, 12, 14, 16, 18 };
	double k = k_of(wmax);

	at_window(&cc, TCP_CC_CUBIC, mss, (uint32_t)(wmax * mss));
	loss_at(&cc, mss, (uint32_t)(wmax * mss));
	for (unsigned int i = 0; i < sizeof(checks_s) / sizeof(checks_s[0]); i++) {
		double t = checks_s[i], want, got, slope, tol;

		run_until(&cc, &s, t * 1000.0);
		t = s.t_ms / 1000.0;                 /* exact time reached */
		want = w_cubic_seg(wmax, k, t);
		got = cc.cwnd / (double)mss;
		slope = 3 * C_CUBIC * (t - k) * (t - k);     /* dW/dt, segments/s */
		tol = 1.0 + 0.1 * slope * 0.1;               /* 1 segment + 10% of one RTT of growth */
		cr_assert(fabs(got - want) <= tol, "t=%.3f s (%s): cwnd %.2f seg, W_cubic %.2f seg, tol %.2f",
			  t, t < k ? "concave" : "convex", got, want, tol);
		cr_assert_leq(cc.cwnd, (uint32_t)(w_cubic_seg(wmax, k, t + 0.1) * mss) + 1,
			      "never above W_cubic(t + RTT)");
	}
	/* concave: below W_max before K; convex: above after */
	cr_assert_gt(cc.cwnd, (uint32_t)(wmax * mss));
}

Test(cc, cubic_tracks_w_cubic_concave_and_convex)
{
	cubic_tracks_formula(1000);
}

Test(cc, cubic_clock_wrap)
{
	/* epoch starts 5 s before the ms clock wraps: same trajectory to the byte */
	const uint32_t mss = 1460, w = 1000 * 1460;
	struct tcp_cc a, b;
	struct sim sa = { .now0 = 1000, .mss = mss, .rtt_ms = 100 };
	struct sim sb = { .now0 = UINT32_MAX - 5000, .mss = mss, .rtt_ms = 100 };

	at_window(&a, TCP_CC_CUBIC, mss, w);
	loss_at(&a, mss, w);
	at_window(&b, TCP_CC_CUBIC, mss, w);
	loss_at(&b, mss, w);
	for (double t = 1000; t <= 15000; t += 1000) {
		run_until(&a, &sa, t);
		run_until(&b, &sb, t);
		cr_assert_eq(a.cwnd, b.cwnd, "t=%.0f ms", t);
		cr_assert_eq(a.w_est, b.w_est);
		cr_assert_eq(a.k_ms, b.k_ms);
		cr_assert_eq(a.acked_accum, b.acked_accum);
	}
	cr_assert_eq(sb.now0 + (uint32_t)llround(sb.t_ms) - b.epoch_start, (uint32_t)llround(sb.t_ms));

	/* epoch 500 ms before the wrap, and one starting at exactly 0 ("no epoch") */
	cubic_tracks_formula(UINT32_MAX - 500);
	cubic_tracks_formula(0);
}

Test(cc, cubic_epoch_at_ms_zero_is_not_lost)
{
	const uint32_t mss = 1460, w = 200 * 1460;
	struct tcp_cc cc;

	at_window(&cc, TCP_CC_CUBIC, mss, w);
	loss_at(&cc, mss, w);
	tcp_cc_on_ack(&cc, mss, mss, 0, 100);
	cr_assert_neq(cc.epoch_start, 0, "0 means no epoch");
	uint32_t k = cc.k_ms, e = cc.epoch_start;

	tcp_cc_on_ack(&cc, mss, mss, 10, 100);
	cr_assert_eq(cc.epoch_start, e, "the epoch is not restarted");
	cr_assert_eq(cc.k_ms, k);
}

Test(cc, cubic_fast_convergence)
{
	const uint32_t mss = 1460;
	struct tcp_cc cc;

	at_window(&cc, TCP_CC_CUBIC, mss, 1000 * mss);
	loss_at(&cc, mss, 1000 * mss);
	cr_assert_eq(cc.w_max, 1000 * mss);
	cr_assert_eq(cc.cwnd, 700 * mss);

	/* another loss at 700 < W_max: W_max = cwnd (1 + beta) / 2 (RFC 9438 §4.7) */
	tcp_cc_on_loss(&cc, mss, 700 * mss, 0);
	cr_assert(abs((int)cc.w_max - (int)(700 * mss * 0.85)) <= 1, "w_max %u", cc.w_max);
	cr_assert(abs((int)cc.ssthresh - (int)(700 * mss * 0.7)) <= 1);
	tcp_cc_on_recovery_end(&cc, mss, 700 * mss);

	/* K from W_max and cwnd_epoch: cbrt((W_max - cwnd_epoch) / C) */
	tcp_cc_on_ack(&cc, mss, mss, 100, 100);
	double k = 1000.0 * cbrt((595.0 - 490.0) / C_CUBIC);
	cr_assert(fabs(cc.k_ms - k) <= 2, "K %u ms, want %.1f", cc.k_ms, k);

	/* a loss above W_max: no fast convergence, W_max = cwnd */
	at_window(&cc, TCP_CC_CUBIC, mss, 1000 * mss);
	loss_at(&cc, mss, 1000 * mss);
	tcp_cc_on_loss(&cc, mss, 0, 0);
	at_window(&cc, TCP_CC_CUBIC, mss, 500 * mss);
	cc.w_max = 400 * mss;
	tcp_cc_on_loss(&cc, mss, 500 * mss, 0);
	cr_assert_eq(cc.w_max, 500 * mss);
	cr_assert_eq(cc.ssthresh, 350 * mss);
}

/*
 * Reno-friendly region (RFC 9438 §4.3): W_max = 100 segments, RTT 2 ms.
 * W_cubic grows ~21 segments/s near t = 0; W_est grows alpha_cubic = 0.53
 * segments per RTT = 265 segments/s, so cwnd must follow W_est:
 * cwnd_epoch + alpha * rounds, and 1 segment per round once W_est reaches
 * cwnd_prior (100 segments).
 */
Test(cc, cubic_reno_friendly_region)
{
	const uint32_t mss = 1460, rtt = 2;
	struct tcp_cc cc;
	double k = k_of(100);

	at_window(&cc, TCP_CC_CUBIC, mss, 100 * mss);
	loss_at(&cc, mss, 100 * mss);
	cr_assert_eq(cc.cwnd, 70 * mss);

	uint32_t now = 50000;
	for (int round = 1; round <= 80; round++) {
		uint32_t left = cc.cwnd;
		double exp_seg;

		while (left > 0) {
			uint32_t a = left < mss ? left : mss;

			tcp_cc_on_ack(&cc, mss, a, now, rtt);
			left -= a;
		}
		now += rtt;
		/* expected W_est: alpha per round up to 100 segments, then 1 per round */
		double r_switch = 30.0 / ALPHA;
		exp_seg = round <= r_switch ? 70 + ALPHA * round : 100 + (round - r_switch);
		cr_assert(fabs(cc.cwnd / (double)mss - exp_seg) <= 1.0, "round %d: cwnd %.2f seg, want %.2f",
			  round, cc.cwnd / (double)mss, exp_seg);
		cr_assert(fabs((double)cc.w_est - cc.cwnd) <= mss, "cwnd follows W_est");
		cr_assert_lt(w_cubic_seg(100, k, (now - 50000) / 1000.0), cc.cwnd / (double)mss,
			     "really in the Reno-friendly region");
	}
	/* 40 rounds: 70 + 0.529 * 40 = 91.2 segments, not 70 + 40 */
}

Test(cc, cubic_growth_bounded_by_1_5_cwnd)
{
	const uint32_t mss = 1460;
	struct tcp_cc cc;

	at_window(&cc, TCP_CC_CUBIC, mss, 100 * mss);
	loss_at(&cc, mss, 100 * mss);
	tcp_cc_on_ack(&cc, mss, mss, 1000, 100);
	/* no growth while CUBIC is in recovery */
	tcp_cc_on_loss(&cc, mss, cc.cwnd, 0);
	uint32_t w = cc.cwnd;

	tcp_cc_on_ack(&cc, mss, 50 * mss, 100000, 100);
	cr_assert_eq(cc.cwnd, w);
	tcp_cc_on_recovery_end(&cc, mss, 1u << 29);

	/* W_cubic(t + RTT) = 2 cwnd (between 1.5 and 3 cwnd): the increase is 0.5 * acked */
	at_window(&cc, TCP_CC_CUBIC, mss, 100 * mss);
	loss_at(&cc, mss, 100 * mss);
	tcp_cc_on_ack(&cc, mss, 1, 1000, 100);
	{
		double t2 = k_of(100) + cbrt((140.0 - 100.0) / C_CUBIC) - 0.1;   /* seconds */
		uint32_t before = cc.cwnd;

		tcp_cc_on_ack(&cc, mss, mss, 1000 + (uint32_t)(t2 * 1000), 100);
		cr_assert(abs((int)(cc.cwnd - before) - (int)(mss / 2)) <= 1, "increase %u", cc.cwnd - before);
	}
	/* jump far into the convex region: target clamps at 1.5 cwnd */
	for (int i = 0; i < 200; i++) {
		uint32_t before = cc.cwnd;

		tcp_cc_on_ack(&cc, mss, mss, 1000 + 3600000u + (uint32_t)i, 100);
		cr_assert_leq(cc.cwnd - before, mss / 2 + 1, "at most (0.5 cwnd) * acked / cwnd");
		cr_assert_geq(cc.cwnd, before);
	}
	/* and the cap holds however long it runs */
	for (int i = 0; i < 100000; i++)
		tcp_cc_on_ack(&cc, mss, 1u << 20, 2000000000u, 100);
	cr_assert_eq(cc.cwnd, WND_CAP);
	assert_sane(&cc, mss);
}

Test(cc, cubic_after_rto_k_zero)
{
	/* RFC 9438 §4.8: first CA stage after a timeout: K = 0, W_max = cwnd_epoch */
	const uint32_t mss = 1460;
	struct tcp_cc cc;

	at_window(&cc, TCP_CC_CUBIC, mss, 100 * mss);
	tcp_cc_on_rto(&cc, mss, 100 * mss);
	cr_assert_eq(cc.ssthresh, 70 * mss);
	uint32_t now = 100;
	while (cc.cwnd < cc.ssthresh)
		tcp_cc_on_ack(&cc, mss, mss, now++, 50);
	cr_assert_eq(cc.epoch_start, 0, "no epoch during slow start");
	uint32_t epoch_cwnd = cc.cwnd;

	tcp_cc_on_ack(&cc, mss, mss, now, 50);
	cr_assert_eq(cc.k_ms, 0);
	cr_assert_eq(cc.w_max, epoch_cwnd);
	cr_assert_eq(cc.w_est, epoch_cwnd);
}

Test(cc, cubic_slow_start_has_no_epoch)
{
	const uint32_t mss = 1460;
	struct tcp_cc cc;

	/* a state where the core moved cwnd below ssthresh with an epoch running */
	at_window(&cc, TCP_CC_CUBIC, mss, 100 * mss);
	tcp_cc_on_ack(&cc, mss, mss, 1000, 100);
	cr_assert_neq(cc.epoch_start, 0);
	cc.cwnd = 50 * mss;
	tcp_cc_on_ack(&cc, mss, mss, 2000, 100);
	cr_assert_eq(cc.cwnd, 51 * mss, "slow start");
	cr_assert_eq(cc.epoch_start, 0, "the next CA stage is a new epoch");
}

Test(cc, cubic_idle_restart_resets_epoch)
{
	const uint32_t mss = 1460;
	struct tcp_cc cc;

	at_window(&cc, TCP_CC_CUBIC, mss, 100 * mss);
	loss_at(&cc, mss, 100 * mss);
	tcp_cc_on_ack(&cc, mss, mss, 1000, 100);
	cr_assert_neq(cc.epoch_start, 0);
	tcp_cc_on_idle_restart(&cc, mss);
	cr_assert_eq(cc.epoch_start, 0);
	cr_assert_eq(cc.cwnd, 14600);
}

/* ---- robustness ---------------------------------------------------------------- */

static uint32_t rnd_val(void)
{
	switch (rnd() % 6) {
	case 0: return 0;
	case 1: return UINT32_MAX - rnd() % 4;
	case 2: return rnd() % 3000;
	case 3: return rnd() % 200000;
	case 4: return 1u << (rnd() % 32);
	default: return rnd();
	}
}

Test(cc, any_inputs_keep_state_sane)
{
	for (int run = 0; run < 2000; run++) {
		struct tcp_cc cc;
		uint32_t mss = rnd() % 4 == 0 ? rnd_val() : 536 + rnd() % 9000;

		if (run % 3 == 0) {
			/* garbage state from shared memory */
			for (unsigned int i = 0; i < sizeof(cc); i++)
				((uint8_t *)&cc)[i] = (uint8_t)rnd();
		} else {
			tcp_cc_init(&cc, (enum tcp_cc_algo)(rnd() % 3), mss);
			assert_sane(&cc, mss);
		}
		for (int step = 0; step < 300; step++) {
			uint32_t m = rnd() % 16 == 0 ? rnd_val() : mss;

			switch (rnd() % 8) {
			case 0: case 1: case 2:
				tcp_cc_on_ack(&cc, m, rnd_val(), rnd_val(), rnd_val());
				break;
			case 3: tcp_cc_on_loss(&cc, m, rnd_val(), (int)(rnd() % 2)); break;
			case 4: tcp_cc_on_dupack_in_recovery(&cc, m); break;
			case 5: tcp_cc_on_partial_ack(&cc, m, rnd_val()); break;
			case 6: tcp_cc_on_recovery_end(&cc, m, rnd_val()); break;
			default:
				if (rnd() % 2)
					tcp_cc_on_rto(&cc, m, rnd_val());
				else
					tcp_cc_on_idle_restart(&cc, m);
				break;
			}
			assert_sane(&cc, m);
			cr_assert(!isnan(tcp_cubic_w(&cc, m, rnd_val())));
		}
	}
}

Test(cc, zero_mss_never_zero_cwnd)
{
	for (int algo = 0; algo < 2; algo++) {
		struct tcp_cc cc;

		tcp_cc_init(&cc, (enum tcp_cc_algo)algo, 0);
		cr_assert_gt(cc.cwnd, 0);
		tcp_cc_on_rto(&cc, 0, 0);
		cr_assert_gt(cc.cwnd, 0);
		tcp_cc_on_loss(&cc, 0, 0, 1);
		tcp_cc_on_partial_ack(&cc, 0, UINT32_MAX);
		cr_assert_gt(cc.cwnd, 0);
		cr_assert_gt(cc.ssthresh, 0);
	}
}
