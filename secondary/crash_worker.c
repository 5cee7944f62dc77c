/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crash points in the worker (porter-worker-crash only; secondary/crash.h).
 *
 *   PORTER_CRASH_ARM=FILE   at start and on SIGUSR2 the worker reads FILE
 *                           ("NAME N": fire on the Nth pass of NAME) and
 *                           removes that line; further lines arm its
 *                           successors, one each (a crash during recovery).
 *   PORTER_CRASH_LOG=FILE   a firing point appends "NAME pid" to FILE
 *                           before the worker SIGKILLs itself.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secondary/crash.h"
#include "secondary/crash_worker.h"

#ifdef PORTER_CRASH_POINTS

static volatile sig_atomic_t rearm;

static void on_usr2(int sig)
{
	(void)sig;
	rearm = 1;
}

void porter_crash_fire(const struct porter_crash_point *p)
{
	const char *log = getenv("PORTER_CRASH_LOG");
	char line[256];
	int fd, n;

	if (log && (fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644)) >= 0) {
		n = snprintf(line, sizeof(line), "%s %d\n", p->name, (int)getpid());
		(void)!write(fd, line, (size_t)n);
		close(fd);
	}
	kill(getpid(), SIGKILL);
	abort();
}

/* The first line arms this worker; the lines after it are left for its successor. */
static void read_arm(void)
{
	const char *path = getenv("PORTER_CRASH_ARM");
	char name[128], line[256], rest[4096], tmp[4096];
	uint64_t nth = 1;
	size_t nrest = 0;
	FILE *f;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return;
	if (fgets(line, sizeof(line), f) && sscanf(line, "%127s %" SCNu64, name, &nth) >= 1) {
		if (porter_crash_arm(name, nth) < 0)
			fprintf(stderr, "porter-worker: crash point %s: no such point\n", name);
	} else {
		porter_crash_arm(NULL, 0);   /* an empty file disarms */
	}
	nrest = fread(rest, 1, sizeof(rest) - 1, f);
	fclose(f);
	if (nrest == 0) {
		unlink(path);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.next", path);
	f = fopen(tmp, "w");
	if (f) {
		fwrite(rest, 1, nrest, f);
		fclose(f);
		rename(tmp, path);
	}
}

void crash_worker_start(void)
{
	struct sigaction sa = { .sa_handler = on_usr2 };

	sigaction(SIGUSR2, &sa, NULL);
	read_arm();
}

void crash_worker_poll(void)
{
	if (rearm) {
		rearm = 0;
		read_arm();
	}
}

#endif
