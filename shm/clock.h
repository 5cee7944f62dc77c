/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one clock of both processes: CLOCK_MONOTONIC in milliseconds and
 * microseconds. Times the primary and the workers exchange through shared
 * memory (heartbeats, swap gaps, drain deadlines) are on it.
 */
#ifndef PORTER_CLOCK_H
#define PORTER_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

#endif
