/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A byte rate in 16 bits, as shared memory stores rate limits (tcb.rate,
 * porter_listener.rate, porter_cfg_route.rate, client_limits; layout 2.8):
 * 0 = no limit; else a 12-bit mantissa M and a 4-bit exponent E, the rate
 * being M << E thousand bytes per second. Rates up to 4,095,000 B/s are exact
 * to 1000 B/s; above, to 1/2048 or better. Configured limits are
 * PORTER_RATE_MIN at least: below, one full segment's gap would exceed what
 * a stream's 16-bit departure time holds (secondary/tcp/tcp_pace.c).
 */
#ifndef PORTER_SHM_RATE_H
#define PORTER_SHM_RATE_H

#include <stdint.h>

#define PORTER_RATE_MIN 4000u                        /* bytes per second */
#define PORTER_RATE_MAX (4095ull * 1000u << 15)      /* 134,184,960,000 B/s */

static inline uint16_t porter_rate16(uint64_t bytes_per_s)
{
	uint64_t m;
	unsigned int e = 0;

	if (bytes_per_s == 0)
		return 0;
	m = (bytes_per_s + 500) / 1000;
	if (m == 0)
		m = 1;
	while (m > 4095 && e < 15) {
		m = (m + 1) >> 1;
		e++;
	}
	if (m > 4095)
		m = 4095;
	return (uint16_t)(e << 12 | m);
}

/* Bytes per second of an encoded rate, 0 = no limit. */
static inline uint64_t porter_rate_bps(uint16_t r)
{
	return (uint64_t)(r & 0xfffu) * 1000u << (r >> 12);
}

#endif
