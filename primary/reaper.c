/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What DPDK leaves behind -- hugepage files and the runtime directory --
 * removed whatever ends the primary.
 *
 * A clean exit removes them itself (leftovers_remove()). For everything else
 * (SIGKILL, a crash, the OOM killer) the primary forks a reaper before EAL
 * init, while it is still single-threaded: a process that ignores every
 * signal it may, holds the read end of a pipe whose write end only the
 * primary has (close-on-exec: workers never inherit it), learns the runtime
 * directory once EAL init is over, and blocks until the pipe's other end
 * closes -- at the primary's death, however it died. It then removes what
 * no process still uses, and exits:
 *   - a hugepage file is removed only if an exclusive flock() on it is
 *     granted: DPDK holds a shared one on every page file a live process
 *     maps, so a worker that has not died yet, or a new primary started
 *     with the same prefix, keeps its files;
 *   - the runtime directory only if a write lock on its "config" file is
 *     granted: a live primary holds one.
 * It tries again every 100 ms for up to 10 s while files remain in use (the
 * workers die of their parent-death signal within milliseconds), and stops
 * at once when a new primary holds the prefix's runtime directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "primary/reaper.h"

#define REAPER_TRIES   100
#define REAPER_PAUSE_MS 100

/* May PATH go? Careful: only if no process holds a lock on it (see the top of the file). */
static bool unused(const char *path, bool careful, bool dpdk_config)
{
	int fd;
	bool free_;

	if (!careful)
		return true;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	if (dpdk_config) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		free_ = fcntl(fd, F_SETLK, &fl) == 0;
	} else {
		free_ = flock(fd, LOCK_EX | LOCK_NB) == 0;
	}
	close(fd);   /* drops our lock too */
	return free_;
}

/* Returns the files left (in use). */
static unsigned int remove_hugepages(const char *prefix, bool careful)
{
	FILE *mounts = fopen("/proc/mounts", "r");
	char line[1024];
	size_t plen = strlen(prefix);
	unsigned int left = 0;

	while (mounts && fgets(line, sizeof(line), mounts)) {
		char dev[256], dir[PATH_MAX], type[64];
		DIR *d;
		struct dirent *e;

		if (sscanf(line, "%255s %4095s %63s", dev, dir, type) != 3 || strcmp(type, "hugetlbfs"))
			continue;
		d = opendir(dir);
		while (d && (e = readdir(d))) {
			if (strncmp(e->d_name, prefix, plen) == 0 &&
			    (strncmp(e->d_name + plen, "map_", 4) == 0 || e->d_name[plen] == '\0')) {
				char path[PATH_MAX + 256];

				snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
				if (unused(path, careful, false))
					unlink(path);
				else
					left++;
			}
		}
		if (d)
			closedir(d);
	}
	if (mounts)
		fclose(mounts);
	return left;
}

/* Returns 1 when the directory is held by a live primary (left alone), else 0. */
static unsigned int remove_runtime_dir(const char *runtime_dir, bool careful)
{
	char config[PATH_MAX + 16];
	DIR *d;
	struct dirent *e;

	if (runtime_dir[0] == '\0')
		return 0;
	snprintf(config, sizeof(config), "%s/config", runtime_dir);
	if (!unused(config, careful, true))
		return 1;
	d = opendir(runtime_dir);
	while (d && (e = readdir(d))) {
		char path[PATH_MAX + 256];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", runtime_dir, e->d_name);
		unlink(path);
	}
	if (d) {
		closedir(d);
		rmdir(runtime_dir);
	}
	return 0;
}

unsigned int leftovers_remove(const char *prefix, const char *runtime_dir, bool careful)
{
	unsigned int left = remove_runtime_dir(runtime_dir, careful);

	return left + remove_hugepages(prefix, careful);
}

static void __attribute__((noreturn)) reaper_main(int rfd, const char *prefix)
{
	char dir[PATH_MAX] = "";
	size_t n = 0;
	char c;
	ssize_t r;

	prctl(PR_SET_NAME, "porter-reaper");
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE &&
		    sig != SIGILL && sig != SIGABRT)
			signal(sig, SIG_IGN);   /* a terminal's ^C reaches the whole process group */
	/* the runtime directory, one line, once the primary's EAL init is over */
	while (n + 1 < sizeof(dir) && (r = read(rfd, &c, 1)) == 1 && c != '\n')
		dir[n++] = c;
	dir[n] = '\0';
	/* then the end of the pipe: the primary is gone */
	while ((r = read(rfd, &c, 1)) != 0)
		if (r < 0 && errno != EINTR)
			break;
	for (int i = 0; i < REAPER_TRIES; i++) {
		struct timespec ts = { .tv_nsec = REAPER_PAUSE_MS * 1000000L };

		/* a primary started since with the same prefix (a service manager's restart) holds the
		 * runtime dir's config lock: it cleans what is stale itself, at its EAL init; stop here,
		 * before touching a file it may be creating */
		if (dir[0] && remove_runtime_dir(dir, true) != 0)
			break;
		dir[0] = '\0';   /* removed (or never made): not touched again */
		if (remove_hugepages(prefix, true) == 0)
			break;
		nanosleep(&ts, NULL);
	}
	_exit(0);
}

int reaper_start(const char *prefix)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		/* keep stderr; drop the rest of what the primary has open */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != fds[0])
				close(fd);
		close(0);
		reaper_main(fds[0], prefix);
	}
	close(fds[0]);
	return fds[1];
}

void reaper_arm(int fd, const char *runtime_dir)
{
	size_t len = strlen(runtime_dir);

	if (fd < 0)
		return;
	(void)!write(fd, runtime_dir, len);
	(void)!write(fd, "\n", 1);
}
