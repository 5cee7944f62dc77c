/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the primary makes of a driver socket that wakes it with nothing to
 * take (port.c sleeps on net_af_packet's and net_af_xdp's own sockets).
 *
 * Two causes look alike from here:
 *
 *  - a ring slot still being written. af_packet's poll reports EPOLLIN when
 *    the slot the kernel claimed last (head - 1) is the user's, but the driver
 *    takes slots in order from its own position. The kernel claims slots in
 *    order under its lock and fills them after dropping it, on whichever CPU
 *    the frame arrived, so a frame copied on one CPU can be marked ready while
 *    an earlier slot is still being copied on another: readable, and
 *    rte_eth_rx_burst gets nothing until that copy ends. Microseconds, unless
 *    the writer is interrupted or its vCPU is preempted.
 *  - an empty mbuf pool: the driver leaves the frame in the ring.
 *
 * Level-triggered, such a socket ends every sleep at once. So after
 * PMD_EMPTY_MUTE empty wake-ups in a row (no frame received between them) the
 * port is muted: its fds stay in the epoll set with no events, and the
 * primary's sleeps last at most wait_us: as long as the mute has lasted so
 * far, at least PMD_MUTE_FIRST_US and at most PMD_MUTE_MAX_US, so the polls
 * back off in time, however often other fds end the sleeps. The mute ends at
 * the first check that finds the port's frame count moved (after every sleep,
 * and before one). A slot being written ends within the first waits. A mute
 * that lasts PMD_MUTE_REPORT_US is something else (the pool, most likely) and
 * is reported, at most once every PMD_REPORT_EVERY_US per port.
 * tests/bench/afp_probe.c (race) shows the first cause.
 *
 * No DPDK here: the unit suite drives it (tests/unit/test_pmd_wake.c).
 */
#ifndef PORTER_PMD_WAKE_H
#define PORTER_PMD_WAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/porter-shm-t.h"   /* struct porter_port_pmd: the counters and `muted` it keeps */

#define PMD_EMPTY_MUTE      2       /* empty fd wake-ups in a row before muting */
#define PMD_MUTE_FIRST_US   20      /* the first capped sleep of a mute */
#define PMD_MUTE_MAX_US     5000    /* the longest (the backoff ports' 5 ms) */
#define PMD_MUTE_REPORT_US  1000    /* a mute this long is reported */
#define PMD_REPORT_EVERY_US 10000000ull  /* ... at most this often (per port) */

struct pmd_wake {
	bool woke;                    /* an fd woke the sleeping primary; judged after the next poll */
	bool reported;                /* this mute was reported */
	unsigned int empty_run;       /* such wake-ups that received nothing, with no frame between */
	uint32_t wait_us;             /* muted: the longest sleep now */
	uint64_t rx_mark;             /* port rx_frames when it woke us, or when it was muted */
	uint64_t rx_seen;             /* port rx_frames at the last judgement */
	uint64_t muted_at_us;
	uint64_t reported_at_us;      /* the last report (0: none yet) */
};

enum pmd_verdict {
	PMD_NOTHING,                  /* nothing to do */
	PMD_MUTE,                     /* disarm the port's fds */
	PMD_UNMUTE,                   /* frames came in: arm the fds again */
	PMD_REPORT,                   /* muted for PMD_MUTE_REPORT_US now: say so (once a mute) */
};

/* One of the port's fds woke the sleeping primary with EPOLLIN; RX_FRAMES is the port's count now. */
void pmd_wake_woke(struct pmd_wake *w, struct porter_port_pmd *pm, uint64_t rx_frames);

/* After the poll that followed a sleep, and before a sleep while the port is muted: RX_FRAMES
 * is the port's count now. Judging twice with nothing between changes nothing. NOW_US is
 * only read while the port is muted or an fd woke us (the caller may skip the clock else). */
enum pmd_verdict pmd_wake_judge(struct pmd_wake *w, struct porter_port_pmd *pm, uint64_t rx_frames,
				uint64_t now_us);

#endif
