/* SPDX-License-Identifier: BSD-3-Clause */
/* A driver socket that wakes the primary with nothing to take: see pmd_wake.h. */
#include "primary/pmd_wake.h"

void pmd_wake_woke(struct pmd_wake *w, struct porter_port_pmd *pm, uint64_t rx_frames)
{
	if (pm->muted || w->woke)
		return;   /* muted: polled on the capped sleeps; woke: one wake-up per sleep */
	pm->wakeups++;
	w->woke = true;
	w->rx_mark = rx_frames;
}

enum pmd_verdict pmd_wake_judge(struct pmd_wake *w, struct porter_port_pmd *pm, uint64_t rx_frames,
				uint64_t now_us)
{
	if (pm->muted) {
		uint64_t muted_for = now_us - w->muted_at_us;

		if (rx_frames != w->rx_mark) {
			pm->muted = 0;
			w->empty_run = 0;
			w->woke = false;
			w->rx_seen = rx_frames;
			return PMD_UNMUTE;
		}
		/* the next sleep: as long as the mute so far (a backoff in time, not in sleeps) */
		w->wait_us = muted_for < PMD_MUTE_FIRST_US ? PMD_MUTE_FIRST_US :
			     muted_for > PMD_MUTE_MAX_US ? PMD_MUTE_MAX_US : (uint32_t)muted_for;
		if (!w->reported && muted_for >= PMD_MUTE_REPORT_US &&
		    (w->reported_at_us == 0 || now_us - w->reported_at_us >= PMD_REPORT_EVERY_US)) {
			w->reported = true;
			w->reported_at_us = now_us;
			return PMD_REPORT;
		}
		return PMD_NOTHING;
	}
	if (rx_frames != w->rx_seen)
		w->empty_run = 0;     /* frames since the last judgement: the run is broken */
	w->rx_seen = rx_frames;
	if (!w->woke)
		return PMD_NOTHING;
	w->woke = false;
	if (rx_frames != w->rx_mark) {
		w->empty_run = 0;
		return PMD_NOTHING;
	}
	pm->empty_wakeups++;
	if (++w->empty_run < PMD_EMPTY_MUTE)
		return PMD_NOTHING;
	pm->muted = 1;
	pm->mutes++;
	w->empty_run = 0;
	w->reported = false;
	w->wait_us = PMD_MUTE_FIRST_US;
	w->muted_at_us = now_us;
	w->rx_mark = rx_frames;
	return PMD_MUTE;
}
