/* SPDX-License-Identifier: BSD-3-Clause */
/* A driver socket that wakes the primary with nothing to take: primary/pmd_wake.h. */
#include <criterion/criterion.h>
#include <string.h>

#include "primary/pmd_wake.h"

static struct pmd_wake w;
static struct porter_port_pmd pm;
static uint64_t rx, now;

static void setup(void)
{
	memset(&w, 0, sizeof(w));
	memset(&pm, 0, sizeof(pm));
	rx = 1000;
	now = 5000000;
}

/* The primary slept, an fd woke it, it polled and received N frames; the verdict. */
static enum pmd_verdict sleep_wake_poll(unsigned int n)
{
	now += 10;
	pmd_wake_woke(&w, &pm, rx);
	rx += n;
	return pmd_wake_judge(&w, &pm, rx, now);
}

/* The primary slept (muted: at most w.wait_us), polled and received N frames. */
static enum pmd_verdict timed_sleep_poll(unsigned int n)
{
	now += w.wait_us;
	rx += n;
	return pmd_wake_judge(&w, &pm, rx, now);
}

/* The port's counters and mute flag now. */
static void expect(uint64_t empty_wakeups, uint64_t mutes, bool muted)
{
	cr_assert_eq(pm.empty_wakeups, empty_wakeups);
	cr_assert_eq(pm.mutes, mutes);
	cr_assert_eq(pm.muted, muted ? 1 : 0);
}

TestSuite(pmd_wake, .init = setup);

Test(pmd_wake, wakeups_with_frames_count_once_per_sleep)
{
	pmd_wake_woke(&w, &pm, rx);
	pmd_wake_woke(&w, &pm, rx);   /* a second fd of the port, same sleep */
	rx += 3;
	cr_assert_eq(pmd_wake_judge(&w, &pm, rx, now), PMD_NOTHING);
	cr_assert_eq(sleep_wake_poll(1), PMD_NOTHING);
	cr_assert_eq(pm.wakeups, 2);
	expect(0, 0, false);
}

Test(pmd_wake, a_poll_without_a_wakeup_is_not_judged)
{
	cr_assert_eq(sleep_wake_poll(0), PMD_NOTHING);
	expect(1, 0, false);
	/* polls after sleeps that another fd ended (a worker's TX, a timer): nothing received,
	 * and no driver socket woke us, so no empty wake-up, and no mute */
	for (unsigned int k = 1; k <= 3; k++)
		cr_assert_eq(pmd_wake_judge(&w, &pm, rx, now + 5 * k), PMD_NOTHING);
	expect(1, 0, false);
}

Test(pmd_wake, frames_between_two_empty_wakeups_break_the_run)
{
	cr_assert_eq(sleep_wake_poll(0), PMD_NOTHING);
	rx += 40;   /* received while busy, no sleep between */
	cr_assert_eq(sleep_wake_poll(0), PMD_NOTHING);
	expect(2, 0, false);
	/* ... and judged after a sleep another fd ended */
	rx += 3;
	cr_assert_eq(pmd_wake_judge(&w, &pm, rx, now + 1), PMD_NOTHING);
	cr_assert_eq(sleep_wake_poll(0), PMD_NOTHING);
	cr_assert_eq(pm.muted, 0);
	/* two in a row with nothing between do mute */
	cr_assert_eq(sleep_wake_poll(0), PMD_MUTE);
}

Test(pmd_wake, one_empty_wakeup_is_counted_not_muted)
{
	cr_assert_eq(sleep_wake_poll(0), PMD_NOTHING);
	expect(1, 0, false);
	/* frames on the next one: the run starts over */
	cr_assert_eq(sleep_wake_poll(2), PMD_NOTHING);
	cr_assert_eq(sleep_wake_poll(0), PMD_NOTHING);
	expect(2, 0, false);
}

Test(pmd_wake, two_empty_wakeups_in_a_row_mute_with_a_short_wait)
{
	cr_assert_eq(sleep_wake_poll(0), PMD_NOTHING);
	cr_assert_eq(sleep_wake_poll(0), PMD_MUTE);
	expect(2, 1, true);
	cr_assert_eq(w.wait_us, PMD_MUTE_FIRST_US);
	/* muted: an fd's report (EPOLLERR only, its events are off) is no wake-up */
	pmd_wake_woke(&w, &pm, rx);
	cr_assert_eq(pm.wakeups, 2);
}

Test(pmd_wake, a_slot_written_late_ends_the_mute_at_the_first_wait)
{
	sleep_wake_poll(0);
	cr_assert_eq(sleep_wake_poll(0), PMD_MUTE);
	cr_assert_eq(timed_sleep_poll(2), PMD_UNMUTE);
	cr_assert_eq(pm.muted, 0);
	cr_assert_eq(w.reported, false);
	/* armed again: the next empty wake-up starts a new run */
	cr_assert_eq(sleep_wake_poll(0), PMD_NOTHING);
	cr_assert_eq(sleep_wake_poll(5), PMD_NOTHING);
	cr_assert_eq(pm.mutes, 1);
}

Test(pmd_wake, the_wait_grows_with_the_mute_to_its_cap_and_a_long_mute_is_reported_once)
{
	unsigned int reports = 0;
	uint32_t seen[16];

	sleep_wake_poll(0);
	cr_assert_eq(sleep_wake_poll(0), PMD_MUTE);
	for (unsigned int k = 0; k < 16; k++) {
		enum pmd_verdict v = timed_sleep_poll(0);

		seen[k] = w.wait_us;
		if (v == PMD_REPORT) {
			reports++;
			cr_assert_geq(now - w.muted_at_us, PMD_MUTE_REPORT_US);
		} else {
			cr_assert_eq(v, PMD_NOTHING);
		}
		if (now - w.muted_at_us < PMD_MUTE_REPORT_US)
			cr_assert_eq(reports, 0, "reported after %lu us", (unsigned long)(now - w.muted_at_us));
	}
	cr_assert_eq(reports, 1);
	/* each full sleep as long as the mute so far: 20, 20, 40, 80, ... */
	cr_assert_eq(seen[0], PMD_MUTE_FIRST_US);
	cr_assert_eq(seen[1], 2 * PMD_MUTE_FIRST_US);
	cr_assert_eq(seen[2], 4 * PMD_MUTE_FIRST_US);
	cr_assert_eq(seen[15], PMD_MUTE_MAX_US);
	for (unsigned int k = 1; k < 16; k++)
		cr_assert_leq(seen[k - 1], seen[k]);
	cr_assert_eq(pm.muted, 1);
	/* frames at last: unmuted, and the report is remembered for the notice */
	cr_assert_eq(timed_sleep_poll(1), PMD_UNMUTE);
	cr_assert_eq(w.reported, true);
	/* the next mute starts short */
	sleep_wake_poll(0);
	cr_assert_eq(sleep_wake_poll(0), PMD_MUTE);
	cr_assert_eq(w.wait_us, PMD_MUTE_FIRST_US);
	cr_assert_eq(w.reported, false);
	cr_assert_eq(pm.mutes, 2);
}

Test(pmd_wake, short_sleeps_do_not_lengthen_the_wait)
{
	sleep_wake_poll(0);
	cr_assert_eq(sleep_wake_poll(0), PMD_MUTE);
	/* fifty sleeps that other fds end after 1 us each */
	for (unsigned int k = 0; k < 50; k++) {
		now += 1;
		cr_assert_eq(pmd_wake_judge(&w, &pm, rx, now), PMD_NOTHING);
	}
	cr_assert_eq(w.wait_us, 50);
	cr_assert_eq(pm.muted, 1);
	/* a slot written 60 us into the mute is taken at the next poll, 50 us or less later */
	now += w.wait_us;
	rx += 1;
	cr_assert_eq(pmd_wake_judge(&w, &pm, rx, now), PMD_UNMUTE);
}

Test(pmd_wake, long_mutes_are_reported_at_most_every_ten_seconds)
{
	unsigned int reports = 0;

	for (unsigned int m = 0; m < 30; m++) {
		sleep_wake_poll(0);
		cr_assert_eq(sleep_wake_poll(0), PMD_MUTE);
		while (now - w.muted_at_us < 2 * PMD_MUTE_REPORT_US)
			if (timed_sleep_poll(0) == PMD_REPORT)
				reports++;
		cr_assert_eq(timed_sleep_poll(1), PMD_UNMUTE);   /* one frame trickles in */
		now += 500000;                                   /* half a second later, again */
	}
	/* 30 mutes over about 15 s: the first, and one 10 s later */
	cr_assert_eq(reports, 2);
	cr_assert_eq(pm.mutes, 30);
}

Test(pmd_wake, frames_taken_by_a_busy_poll_while_muted_unmute)
{
	sleep_wake_poll(0);
	cr_assert_eq(sleep_wake_poll(0), PMD_MUTE);
	rx += 7;   /* polls while busy, no judgement */
	cr_assert_eq(pmd_wake_judge(&w, &pm, rx, now + 1), PMD_UNMUTE);
}
