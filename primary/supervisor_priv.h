/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to the supervisor's files; the rest of the primary calls the
 * supervisor_* functions of primary.h.
 *
 *   supervisor.c          the worker of each shard: cold start, readiness,
 *                         heartbeat, death, restart, the gateway's stop
 *   supervisor_standby.c  standbys, the hand-over, swaps through a standby
 *   supervisor_upgrade.c  the rolling upgrade, shard by shard
 *   supervisor_spawn.c    starting a worker or standby process (posix_spawn,
 *                         pidfd) and the rte_mp handlers that grant it its shard
 *
 * All of it runs in the primary's main thread, but for the rte_mp handlers
 * (EAL's IPC thread), which share a standby's pid and hand-over fd with it
 * under sup_sb_lock.
 */
#ifndef PORTER_SUPERVISOR_PRIV_H
#define PORTER_SUPERVISOR_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "primary/primary.h"

#define STOP_GRACE_MS       2000      /* SIGTERM -> SIGKILL */

/* Held by the standby handler while it reads a standby's pid and hand-over fd
 * and replies, and by the main thread while it sets or retires them. */
extern pthread_mutex_t sup_sb_lock;

/* Paths are all PORTER_CFG_PATH_LEN buffers, some in the same struct. */
static inline void sup_path_copy(char *dst, const char *src)
{
	size_t n = strnlen(src, PORTER_CFG_PATH_LEN - 1);

	memmove(dst, src, n);
	dst[n] = '\0';
}

static inline bool sup_standby_on(const struct primary *p)
{
	return p->cfg->workers.standby;
}

/* supervisor.c */
/* "BINARY exited with status N" or "... was killed by signal N" into BUF. */
void sup_describe_exit(char *buf, size_t len, const char *binary, int status);
/* SIGTERM the serving worker of shard S: it stops at a safe point (between bursts). */
void sup_stop_worker(struct primary *p, unsigned int s);

/* supervisor_spawn.c */
/* Start BINARY for shard S (as its standby if STANDBY); its pidfd, added to the
 * epoll set, into *PIDFD_OUT. Returns the pid, or -1 (logged). */
pid_t sup_start_child(struct primary *p, unsigned int s, const char *binary, bool standby,
		      int *pidfd_out);
/* Register / unregister the rte_mp attach and standby handlers. 0 or -1 (logged). */
int sup_mp_register(struct primary *p);
void sup_mp_unregister(void);

/* supervisor_standby.c */
void sup_sb_tick(struct primary *p, unsigned int s, uint64_t now);
void sup_swap_tick(struct primary *p, unsigned int s);
int sup_swap_begin(struct primary *p, unsigned int s, const char *target, bool upgrade,
		   char *err, size_t errlen);
void sup_swap_done(struct primary *p, unsigned int s, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void sup_swap_on_death(struct primary *p, unsigned int s, int status);
void sup_handover(struct primary *p, unsigned int s);
void sup_sb_clear(struct sup_standby *sb);

/* supervisor_upgrade.c */
void sup_upgrade_next(struct primary *p);
bool sup_upgrade_on_death(struct primary *p, unsigned int s, int status);

#endif
