/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Supervisor, rolling upgrade (supervisor_priv.h; `porterctl upgrade`, DESIGN
 * §2): shard by shard. With workers.standby, each shard is swapped through a
 * standby of the new binary (sup_swap_begin, supervisor_standby.c): the old
 * worker is stopped only once the standby is ready, and a standby that fails
 * leaves it serving. Without, the old worker is asked to stop at a safe point
 * (SIGTERM: it finishes its burst), the new binary starts on the same slot
 * and lcore id, runs recovery and reports ready; a new binary that exits or
 * does not get ready is replaced by the previous one at once. Either way the
 * upgrade stops at the first shard that fails.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_log.h>

#include "primary/primary.h"
#include "primary/supervisor_priv.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)

/* The next shard of the upgrade, or its end. */
void sup_upgrade_next(struct primary *p)
{
	struct upgrade *u = &p->up;
	char err[128];

	u->cur = -1;
	if (u->next == u->n) {
		u->state = UP_DONE;
		u->finished_ms = now_ms();
		snprintf(u->msg, sizeof(u->msg), "%u shard(s) now run %s", u->n, u->path);
		LOG(NOTICE, "upgrade: done, %s", u->msg);
		return;
	}
	u->cur = (int)u->shards[u->next++];
	u->cur_stopped = false;
	if (sup_standby_on(p)) {
		LOG(NOTICE, "upgrade: shard %d: starting %s as its standby", u->cur, u->path);
		if (sup_swap_begin(p, (unsigned int)u->cur, u->path, true, err, sizeof(err)) < 0) {
			u->state = UP_FAILED;
			u->finished_ms = now_ms();
			snprintf(u->msg, sizeof(u->msg), "%s", err);
			u->cur = -1;
		}
		return;
	}
	LOG(NOTICE, "upgrade: shard %d: stopping the old worker", u->cur);
	if (supervisor_restart(p, (unsigned int)u->cur, err, sizeof(err)) < 0) {
		u->state = UP_FAILED;
		snprintf(u->msg, sizeof(u->msg), "shard %d: %s", u->cur, err);
	}
	if (p->sup[u->cur].pid == 0) {
		/* nothing was running there: start the new binary directly */
		u->cur_stopped = true;
		snprintf(p->sup[u->cur].binary, sizeof(p->sup[u->cur].binary), "%s", u->path);
	}
}

/* Without standbys: the worker of the shard being upgraded died. Returns true if handled here. */
bool sup_upgrade_on_death(struct primary *p, unsigned int s, int status)
{
	struct upgrade *u = &p->up;
	struct sup_worker *w = &p->sup[s];
	char why[PORTER_CFG_PATH_LEN + 96];

	if (!u->cur_stopped) {
		/* the old worker stopped: the next start is the new binary */
		u->cur_stopped = true;
		sup_path_copy(w->binary, u->path);
		LOG(NOTICE, "upgrade: shard %u: old worker gone, starting %s", s, u->path);
		return true;
	}
	/* the new binary died before it was ready: put the previous one back */
	sup_path_copy(w->binary, u->prev);
	u->state = UP_FAILED;
	u->finished_ms = now_ms();
	sup_describe_exit(why, sizeof(why), u->path, status);
	snprintf(u->msg, sizeof(u->msg), "shard %u: %s before it was ready; %s serves again", s, why,
		 u->prev);
	LOG(ERR, "upgrade failed: %s", u->msg);
	u->cur = -1;
	return true;
}

int supervisor_upgrade(struct primary *p, const char *path, int shard, char *err, size_t errlen)
{
	struct upgrade *u = &p->up;
	char real[PATH_MAX];

	if (u->state == UP_RUNNING) {
		snprintf(err, errlen, "an upgrade is already running (shard %d)", u->cur);
		return -1;
	}
	if (realpath(path, real) == NULL || access(real, X_OK) != 0) {
		snprintf(err, errlen, "%s: not an executable file (%s)", path, strerror(errno));
		return -1;
	}
	if (strlen(real) >= sizeof(u->path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (shard >= (int)p->nshards) {
		snprintf(err, errlen, "no shard %d (the gateway has %u)", shard, p->nshards);
		return -1;
	}
	for (unsigned int s = 0; s < p->nshards; s++)
		if ((shard < 0 || (int)s == shard) && p->sup[s].swap.phase != SWAP_NONE) {
			snprintf(err, errlen, "shard %u: a restart of this shard is under way", s);
			return -1;
		}
	memset(u, 0, sizeof(*u));
	snprintf(u->path, sizeof(u->path), "%s", real);
	snprintf(u->prev, sizeof(u->prev), "%s", p->sup[shard >= 0 ? shard : 0].binary);
	if (shard >= 0)
		u->shards[u->n++] = (unsigned int)shard;
	else
		for (unsigned int s = 0; s < p->nshards; s++)
			u->shards[u->n++] = s;
	u->state = UP_RUNNING;
	u->started_ms = now_ms();
	LOG(NOTICE, "upgrade: to %s, %u shard(s)", u->path, u->n);
	sup_upgrade_next(p);
	return 0;
}
