/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control: NewReno (RFC 5681, RFC 6582) and CUBIC (RFC 9438),
 * selected per stream by an enum (never a function pointer: the state lives
 * in shared memory and outlives the binary). Initial window per RFC 6928.
 *
 * The module only moves cwnd and ssthresh; loss detection (dupacks, SACK,
 * RTO) and the recovery bookkeeping (recover, pipe) stay in the TCP core,
 * which calls these hooks. All windows are in bytes; times in ms (uint32_t,
 * wrapping); mss is the sender's SMSS.
 */
#ifndef PORTER_TCP_CC_H
#define PORTER_TCP_CC_H

#include <stdint.h>

#include "shm/tcp_cc-t.h"

/* struct tcp_cc lives inside the TCB (shared memory): plain data, 32 bytes (tcp_cc-t.h). */

/* RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)); ssthresh "arbitrarily high". */
void tcp_cc_init(struct tcp_cc *cc, enum tcp_cc_algo algo, uint32_t mss);

/*
 * ACK of ACKED new bytes outside loss recovery. Slow start while cwnd <
 * ssthresh (cwnd += min(acked, 2 mss), RFC 5681 §3.1 with RFC 3465's L = 2 SMSS), else
 * congestion avoidance: NewReno cwnd += mss per cwnd bytes acked; CUBIC per
 * RFC 9438 §4.2-4.4 (target from W_cubic(t + rtt) clamped to [cwnd, 1.5 cwnd],
 * Reno-friendly region with alpha_cubic = 3(1-beta)/(1+beta), beta = 0.7,
 * C = 0.4). RTT_MS is the smoothed RTT (0 if unknown).
 */
void tcp_cc_on_ack(struct tcp_cc *cc, uint32_t mss, uint32_t acked, uint32_t now_ms, uint32_t rtt_ms);

/*
 * Loss detected by duplicate ACKs or SACK (start of fast recovery).
 * NewReno (RFC 6582 §3.2 step 2/3, RFC 5681 eq. 4): ssthresh = max(flight/2, 2*mss),
 * cwnd = ssthresh + 3*mss when DUPACK_INFLATE, else cwnd = ssthresh (SACK-based
 * recovery per RFC 6675 does not inflate).
 * CUBIC (RFC 9438 §4.6-4.7): w_max with fast convergence, ssthresh = max(cwnd*beta, 2*mss),
 * cwnd = ssthresh; epoch reset.
 */
void tcp_cc_on_loss(struct tcp_cc *cc, uint32_t mss, uint32_t flight, int dupack_inflate);

/* NewReno window inflation per extra duplicate ACK in recovery (RFC 6582 §3.2 step 4). */
void tcp_cc_on_dupack_in_recovery(struct tcp_cc *cc, uint32_t mss);

/* Partial ACK in recovery (RFC 6582 §3.2 step 5): deflate by ACKED, add back mss if ACKED >= mss. */
void tcp_cc_on_partial_ack(struct tcp_cc *cc, uint32_t mss, uint32_t acked);

/* Full ACK ends recovery (RFC 6582 §3.2 step 6, option 1): cwnd = min(ssthresh, max(flight, mss) + mss). */
void tcp_cc_on_recovery_end(struct tcp_cc *cc, uint32_t mss, uint32_t flight);

/* SACK recovery with PRR ends (RFC 6937 §3): cwnd = ssthresh; leaves recovery. */
void tcp_cc_on_reduction_end(struct tcp_cc *cc, uint32_t mss);

/* The reduction was needless (every retransmission D-SACKed, RFC 2883): back to the prior window. */
void tcp_cc_undo(struct tcp_cc *cc, uint32_t mss, uint32_t prior_cwnd, uint32_t prior_ssthresh);

/*
 * Retransmission timeout (RFC 5681 §3.1 eq. 4, RFC 9438 §4.8):
 * ssthresh as on loss (CUBIC: cwnd*beta with w_max update), cwnd = 1 mss (loss window);
 * leaves recovery.
 */
void tcp_cc_on_rto(struct tcp_cc *cc, uint32_t mss, uint32_t flight);

/* RFC 5681 §4.1: after an idle period longer than the RTO, cwnd = min(cwnd, IW). CUBIC resets its epoch. */
void tcp_cc_on_idle_restart(struct tcp_cc *cc, uint32_t mss);

/* For tests: CUBIC's W_cubic(t) in bytes for the current state, t in ms since epoch start. */
double tcp_cubic_w(const struct tcp_cc *cc, uint32_t mss, double t_ms);

#endif
