/* SPDX-License-Identifier: BSD-3-Clause */
/* The log stream of the primary and the workers: time stamp and level on every line (shm/log.c). */
#ifndef PORTER_LOG_H
#define PORTER_LOG_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

/*
 * A stream that writes to stderr, each line preceded by the UTC time in
 * milliseconds and the level LEVEL_OF_MESSAGE() gives for the message being
 * written (DPDK's rte_log_cur_msg_loglevel). Give it to rte_openlog_stream()
 * after rte_eal_init. NULL when it cannot be made.
 */
FILE *porter_log_open(int (*level_of_message)(void));

/* "2026-12-06T21:15:02.123Z notice " for TS and LEVEL (1..8, RTE_LOG_*); the length written. */
size_t porter_log_stamp(char *out, size_t cap, const struct timespec *ts, int level);

/* The name of log level LEVEL (1 emerg .. 8 debug), "-" for anything else. */
const char *porter_log_level_name(int level);

#endif
