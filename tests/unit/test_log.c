/* SPDX-License-Identifier: BSD-3-Clause */
/* shm/log.c: the stamp in front of every log line, and the stream that writes it. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>

#include "shm/log.h"

Test(log, stamp)
{
	struct timespec ts = { .tv_sec = 1796591702, .tv_nsec = 123456789 };   /* 2026-12-06T21:15:02.123Z */
	char out[64];
	size_t n = porter_log_stamp(out, sizeof(out), &ts, 6);

	cr_assert_str_eq(out, "2026-12-06T21:15:02.123Z notice ");
	cr_assert_eq(n, strlen(out));
	porter_log_stamp(out, sizeof(out), &ts, 4);
	cr_assert_str_eq(out, "2026-12-06T21:15:02.123Z error ");
	porter_log_stamp(out, sizeof(out), &ts, 0);
	cr_assert_str_eq(out, "2026-12-06T21:15:02.123Z - ");
	n = porter_log_stamp(out, 10, &ts, 6);
	cr_assert_eq(n, 9);
}

static int level_now = 5;

static int level(void)
{
	return level_now;
}

/* Every line start gets a stamp with the level of the message being written, however the bytes come. */
Test(log, every_line_stamped, .init = cr_redirect_stderr)
{
	FILE *f = porter_log_open(level);
	char buf[512];
	size_t n;

	cr_assert(f != NULL);
	fputs("USER1: porter: one\n", f);
	fflush(f);
	level_now = 7;
	fputs("two ", f);
	fflush(f);
	fputs("halves\nthree\n", f);
	fclose(f);
	fflush(stderr);
	FILE *e = cr_get_redirected_stderr();

	n = fread(buf, 1, sizeof(buf) - 1, e);
	buf[n] = 0;
	cr_assert_eq(strlen(buf), n);
	char *l1 = buf, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;

	cr_assert(strncmp(l1 + 24, " warning USER1: porter: one\n", 28) == 0, "%s", buf);
	cr_assert(strncmp(l2 + 24, " info two halves\n", 17) == 0, "%s", buf);
	cr_assert(strncmp(l3 + 24, " info three\n", 12) == 0, "%s", buf);
	cr_assert_eq(l1[4], '-');
	cr_assert_eq(l1[23], 'Z');
}
