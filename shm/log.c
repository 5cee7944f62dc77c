/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The log stream of both processes: every line DPDK's log writes (porter's
 * own messages are log type USER1) gets a time stamp and the message's
 * level in front, then goes to stderr:
 *
 *   2026-12-06T21:15:02.123Z notice USER1: porter: ...
 *
 * Pure C: the caller passes the function that says the level of the message
 * being written (rte_log_cur_msg_loglevel) and installs the stream
 * (rte_openlog_stream); see shm/log.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "shm/log.h"

static int (*cur_level)(void);
static bool at_line_start = true;

const char *porter_log_level_name(int level)
{
	static const char *const names[] = { "-", "emerg", "alert", "crit", "error", "warning", "notice", "info",
					     "debug" };

	return level >= 1 && level <= 8 ? names[level] : "-";
}

static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;   /* nothing to tell a failing stderr */
		p += w;
		n -= (size_t)w;
	}
}

size_t porter_log_stamp(char *out, size_t cap, const struct timespec *ts, int level)
{
	struct tm tm;
	int n;

	gmtime_r(&ts->tv_sec, &tm);
	n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900, tm.tm_mon + 1,
		     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000, porter_log_level_name(level));
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/*
 * fopencookie write: a stamp before every line start, the bytes as they come.
 * A stamp and its line go out in one write() where they fit (the primary and
 * the workers share stderr: two writes could interleave with another
 * process's line).
 */
static ssize_t log_write(void *cookie, const char *buf, size_t len)
{
	size_t done = 0;

	(void)cookie;
	while (done < len) {
		const char *nl = memchr(buf + done, '\n', len - done);
		size_t n = nl ? (size_t)(nl - (buf + done)) + 1 : len - done;
		char out[1024];
		size_t o = 0;

		if (at_line_start) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			o = porter_log_stamp(out, sizeof(out), &ts, cur_level ? cur_level() : 0);
		}
		if (o + n <= sizeof(out)) {
			memcpy(out + o, buf + done, n);
			write_all(out, o + n);
		} else {
			write_all(out, o);
			write_all(buf + done, n);
		}
		at_line_start = nl != NULL;
		done += n;
	}
	return (ssize_t)len;
}

FILE *porter_log_open(int (*level_of_message)(void))
{
	static const cookie_io_functions_t io = { .write = log_write };
	FILE *f;

	cur_level = level_of_message;
	f = fopencookie(NULL, "w", io);
	if (f != NULL)
		setvbuf(f, NULL, _IOLBF, 0);
	return f;
}
