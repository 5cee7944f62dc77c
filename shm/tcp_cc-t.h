/* SPDX-License-Identifier: BSD-3-Clause */
/* The congestion controller's state, part of the TCB (shared memory). Types only; the functions: tcp_cc.h. */
#ifndef PORTER_TCP_CC_T_H
#define PORTER_TCP_CC_T_H

#include <stdint.h>

enum tcp_cc_algo {
	TCP_CC_NEWRENO = 0,
	TCP_CC_CUBIC = 1,
};

struct tcp_cc {
	uint32_t cwnd;
	uint32_t ssthresh;
	uint32_t acked_accum;    /* bytes acked in congestion avoidance not yet turned into cwnd (RFC 5681 §3.1 byte counting) */
	/* CUBIC, RFC 9438 */
	uint32_t w_max;          /* window before the last reduction, bytes */
	uint32_t epoch_start;    /* ms when the current congestion-avoidance epoch began; 0 = none */
	uint32_t k_ms;           /* K: time for W_cubic to reach w_max, ms */
	uint32_t w_est;          /* Reno-friendly estimate W_est, bytes */
	uint8_t algo;            /* enum tcp_cc_algo */
	uint8_t in_recovery;
	/* pacing (tcp_pace.c; layout 2.8, was reserved): the next segment's earliest departure, in
	 * TCP_PACE_UNIT_US units of the us clock (its low 16 bits); a value further ahead than
	 * one segment's gap is stale (a long idle, a garbled field) and means "now" */
	uint16_t pace_at;
};
#define TCP_PACE_UNIT_US 16u

#endif
