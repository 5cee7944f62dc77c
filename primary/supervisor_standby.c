/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Supervisor, standbys (supervisor_priv.h; workers.standby): one standby per
 * shard, a worker process attached ahead of need that takes the shard over
 * when its worker goes; and swaps through a standby (a restart or an upgrade
 * of one shard): the old worker is stopped only once a standby of the binary
 * being swapped in is ready.
 *
 * Standby life cycle (sup_standby.state, private to the primary):
 *
 *   NONE --spawn --standby--> STARTING --standby handler (rte_mp)--> READY
 *    ^  (slot READY, backoff over)   | ready_timeout_ms: SIGTERM,        | worker gone: HAND-OVER,
 *    |                               | SIGKILL 2 s later                 | the standby is the worker
 *    |                               v                                   v
 *    +------- (pidfd: death; a failure counts, backs off) <---- STOPPING (replaced, gateway stops)
 *
 * The hand-over, only once the old worker can touch nothing any more (its
 * main thread let go of the shard's owner lock, or the process is reaped):
 * the standby's pid goes into slot.pid, the epoch is bumped, then the
 * standby's hand-over eventfd is written. The standby sees its pid, takes the
 * epoch and runs the recovery a freshly started worker runs. A process
 * replaced before it was reaped is reaped later (p->departing).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_log.h>

#include "primary/primary.h"
#include "primary/supervisor_priv.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)

pthread_mutex_t sup_sb_lock = PTHREAD_MUTEX_INITIALIZER;   /* supervisor_priv.h */

static const char *const sb_state_names[] = { "none", "starting", "ready", "stopping" };

const char *supervisor_sb_state_name(enum sb_state st)
{
	return (unsigned int)st < sizeof(sb_state_names) / sizeof(sb_state_names[0]) ?
		       sb_state_names[st] : "?";
}

static int sb_spawn(struct primary *p, unsigned int s, const char *binary)
{
	struct sup_standby *sb = &p->sup[s].sb;
	int fd = eventfd(0, EFD_CLOEXEC), pidfd;
	pid_t pid;

	if (fd < 0) {
		LOG(ERR, "shard %u: standby: eventfd: %s", s, strerror(errno));
		return -1;
	}
	snprintf(sb->binary, sizeof(sb->binary), "%s", binary);
	sb->version[0] = '\0';
	pid = sup_start_child(p, s, binary, true, &pidfd);
	if (pid < 0) {
		close(fd);
		return -1;
	}
	pthread_mutex_lock(&sup_sb_lock);
	sb->handover_fd = fd;
	sb->pidfd = pidfd;
	__atomic_store_n(&sb->attached, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sb->pid, pid, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sup_sb_lock);
	sb->state = SB_STARTING;
	sb->started_ms = now_ms();
	sb->ready_ms = sb->term_sent_ms = sb->kill_sent_ms = 0;
	sb->starts++;
	LOG(NOTICE, "shard %u: started standby pid %d (%s) on lcore %u", s, pid, binary,
	    p->g->slots[s].lcore_id);
	return 0;
}

/* Forget the standby (its process is gone, or is the worker now). */
void sup_sb_clear(struct sup_standby *sb)
{
	pthread_mutex_lock(&sup_sb_lock);
	__atomic_store_n(&sb->pid, 0, __ATOMIC_RELEASE);
	if (sb->handover_fd >= 0)
		close(sb->handover_fd);
	sb->handover_fd = -1;
	__atomic_store_n(&sb->attached, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&sup_sb_lock);
	sb->pidfd = -1;
	sb->state = SB_NONE;
}

static void sb_stop(struct primary *p, unsigned int s, const char *why)
{
	struct sup_standby *sb = &p->sup[s].sb;

	if (sb->pid == 0 || sb->state == SB_STOPPING)
		return;
	LOG(NOTICE, "shard %u: stopping standby %d: %s", s, sb->pid, why);
	/* one still in its EAL init takes SIGTERM once that is over: give it its ready timeout */
	sb->grace_ms = STOP_GRACE_MS + (sb->state == SB_STARTING ? p->cfg->workers.ready_timeout_ms : 0);
	sb->state = SB_STOPPING;
	sb->term_sent_ms = now_ms();
	kill(sb->pid, SIGTERM);
}

/*
 * The old worker of shard S is reaped: give the shard to its ready standby.
 * Order matters to the standby (secondary/main.c standby_wait): pid, epoch,
 * then the eventfd write.
 */
void sup_handover(struct primary *p, unsigned int s)
{
	struct sup_worker *w = &p->sup[s];
	struct sup_standby *sb = &w->sb;
	struct porter_slot *slot = &p->g->slots[s];
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_DATA(EV_PIDFD, s) };
	uint64_t one = 1, epoch;
	pid_t pid = sb->pid;

	epoll_ctl(p->epfd, EPOLL_CTL_MOD, sb->pidfd, &ev);   /* its death is a worker's death now */
	w->pid = pid;
	w->pidfd = sb->pidfd;
	sup_path_copy(w->running, sb->binary);
	sup_path_copy(w->binary, sb->binary);
	w->term_sent_ms = w->kill_sent_ms = 0;
	w->restart_requested = false;
	w->await_standby = false;
	w->holds_lock = false;
	w->takeover = TAKEOVER_STANDBY;
	slot->started_ms = now_ms();
	slot->swap_gap_us = 0;   /* measured again by the new worker at its first frame */
	__atomic_store_n(&slot->state, SLOT_STARTING, __ATOMIC_RELEASE);
	__atomic_store_n(&slot->pid, pid, __ATOMIC_RELEASE);
	epoch = __atomic_add_fetch(&slot->epoch, 1, __ATOMIC_ACQ_REL);
	if (write(sb->handover_fd, &one, sizeof(one)) != sizeof(one))
		LOG(ERR, "shard %u: hand-over eventfd: %s", s, strerror(errno));
	sb->takeovers++;
	sb->next_start_ms = 0;   /* the next standby starts once this one is ready */
	sup_sb_clear(sb);
	LOG(NOTICE, "shard %u: standby %d takes over (epoch %" PRIu64 ")", s, pid, epoch);
}

/* pidfd readable: the standby of shard S died (it never took the shard over). */
void supervisor_on_sb_pidfd(struct primary *p, unsigned int s)
{
	const struct porter_cfg_workers *wc = &p->cfg->workers;
	struct sup_worker *w = &p->sup[s];
	struct sup_standby *sb = &w->sb;
	uint64_t now = now_ms();
	bool asked = sb->state == SB_STOPPING;
	bool timed_out = sb->state == SB_STARTING && sb->term_sent_ms;
	bool target = w->swap.phase != SWAP_NONE && strcmp(sb->binary, w->swap.target) == 0;
	char why[PORTER_CFG_PATH_LEN + 96];
	int status = 0;

	if (sb->pid == 0 || waitpid(sb->pid, &status, WNOHANG) != sb->pid)
		return;
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, sb->pidfd, NULL);
	close(sb->pidfd);
	if (timed_out)
		snprintf(why, sizeof(why), "%s was not ready within workers.ready_timeout_ms (%u ms)",
			 sb->binary, wc->ready_timeout_ms);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
		/* also what a worker of layout 2.0, which has no --standby, says */
		snprintf(why, sizeof(why), "%s exited with status 1 (its EAL init failed, or it is a "
			 "binary of layout 2.0, which cannot be a standby; see the log)", sb->binary);
	else
		sup_describe_exit(why, sizeof(why), sb->binary, status);
	if (asked || p->stopping)
		LOG(INFO, "shard %u: standby %d stopped", s, sb->pid);
	else
		LOG(WARNING, "shard %u: standby %d died before taking over: %s", s, sb->pid, why);
	sup_sb_clear(sb);
	if (p->stopping)
		return;
	if (!asked) {
		sb->failures++;
		sb->failed_in_row++;
		snprintf(sb->last_error, sizeof(sb->last_error), "%s", why);
		sb->next_start_ms = now + sb->backoff_ms;
		sb->backoff_ms = sb->backoff_ms ? sb->backoff_ms * 2 : 1;
		if (sb->backoff_ms > wc->max_restart_backoff_ms)
			sb->backoff_ms = wc->max_restart_backoff_ms;
	}
	if (w->await_standby) {
		/* the shard had no worker and waited for this one: start one cold, now */
		w->await_standby = false;
		w->next_start_ms = now;
		if (w->swap.phase == SWAP_TAKEOVER) {
			sup_path_copy(w->binary, w->swap.prev);
			sup_swap_done(p, s, false, "shard %u: standby: %s; %s serves again", s, why, w->swap.prev);
		}
	} else if (w->swap.phase == SWAP_STANDBY && !asked && target) {
		sup_swap_done(p, s, false, "shard %u: standby: %s; the old worker (pid %d, %s) serves on, "
			  "untouched", s, why, w->pid, w->running);
	}
	supervisor_tick(p);
}

/* Standby upkeep: one ready standby per serving shard, of the shard's binary. */
void sup_sb_tick(struct primary *p, unsigned int s, uint64_t now)
{
	const struct porter_cfg_workers *wc = &p->cfg->workers;
	struct sup_worker *w = &p->sup[s];
	struct sup_standby *sb = &w->sb;
	uint32_t state = p->g->slots[s].state;

	switch (sb->state) {
	case SB_NONE:
		/* only beside a serving worker (its EAL init would compete with the
		 * successor's start), and not while a swap picks its own */
		if (state == SLOT_READY && w->swap.phase == SWAP_NONE && now >= sb->next_start_ms)
			if (sb_spawn(p, s, w->binary) < 0)
				sb->next_start_ms = now + (sb->backoff_ms ? sb->backoff_ms : 100);
		break;
	case SB_STARTING:
		if (__atomic_load_n(&sb->attached, __ATOMIC_ACQUIRE)) {
			sb->state = SB_READY;
			sb->ready_ms = now;
			sb->failed_in_row = 0;
			sb->backoff_ms = wc->restart_backoff_ms;
			LOG(NOTICE, "shard %u: standby %d ready after %" PRIu64 " ms (%s, %s)", s, sb->pid,
			    now - sb->started_ms, sb->version, sb->binary);
			if (w->await_standby && w->pid == 0)
				sup_handover(p, s);
		} else if (now - sb->started_ms > wc->ready_timeout_ms && !sb->term_sent_ms) {
			/* SIGTERM: a standby still inside its EAL init takes it once that is
			 * over (a kill in there can leave an EAL lock held, docs/PLATFORM.md) */
			LOG(WARNING, "shard %u: stopping standby %d: not ready within "
			    "workers.ready_timeout_ms", s, sb->pid);
			kill(sb->pid, SIGTERM);
			sb->term_sent_ms = now;
		} else if (sb->term_sent_ms && now - sb->term_sent_ms > STOP_GRACE_MS && !sb->kill_sent_ms) {
			LOG(WARNING, "shard %u: killing standby %d: still there 2 s after SIGTERM", s, sb->pid);
			kill(sb->pid, SIGKILL);
			sb->kill_sent_ms = now;
		}
		break;
	case SB_READY:
		if (w->swap.phase == SWAP_NONE && !w->await_standby && strcmp(sb->binary, w->binary) != 0)
			sb_stop(p, s, "the shard runs another binary now");
		break;
	case SB_STOPPING:
		if (now - sb->term_sent_ms > sb->grace_ms && !sb->kill_sent_ms) {
			LOG(WARNING, "shard %u: standby %d did not stop within %" PRIu64 " ms of SIGTERM; "
			    "killing it", s, sb->pid, sb->grace_ms);
			kill(sb->pid, SIGKILL);
			sb->kill_sent_ms = now;
		}
		break;
	}
}

/* ---- swaps through the standby (restart, upgrade) ------------------------- */

void sup_swap_done(struct primary *p, unsigned int s, bool ok, const char *fmt, ...)
{
	struct sup_worker *w = &p->sup[s];
	struct upgrade *u = &p->up;
	bool upgrade = w->swap.upgrade;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->swap_msg, sizeof(w->swap_msg), fmt, ap);
	va_end(ap);
	w->swap.phase = SWAP_NONE;
	if (ok)
		LOG(NOTICE, "%s", w->swap_msg);
	else
		LOG(ERR, "%s", w->swap_msg);
	if (!upgrade || u->state != UP_RUNNING || u->cur != (int)s)
		return;
	if (ok) {
		sup_upgrade_next(p);
		return;
	}
	u->state = UP_FAILED;
	u->finished_ms = now_ms();
	snprintf(u->msg, sizeof(u->msg), "%s", w->swap_msg);
	LOG(ERR, "upgrade failed: %s", u->msg);
	u->cur = -1;
}


void sup_swap_tick(struct primary *p, unsigned int s)
{
	struct sup_worker *w = &p->sup[s];
	struct sup_standby *sb = &w->sb;
	bool same = strcmp(sb->binary, w->swap.target) == 0;

	if (w->swap.phase != SWAP_STANDBY || p->stopping)
		return;
	if (sb->state == SB_READY && same) {
		LOG(NOTICE, "shard %u: standby %d (%s) ready; stopping worker %d", s, sb->pid, sb->version,
		    w->pid);
		w->swap.phase = SWAP_STOP_OLD;
		sup_stop_worker(p, s);
	} else if ((sb->state == SB_READY || sb->state == SB_STARTING) && !same) {
		sb_stop(p, s, "replaced by a standby of the binary being swapped in");
	} else if (sb->state == SB_NONE) {
		if (sb_spawn(p, s, w->swap.target) < 0)
			sup_swap_done(p, s, false, "shard %u: cannot start %s as a standby (see the log); the "
				  "old worker serves on, untouched", s, w->swap.target);
	}
}

/*
 * Swap shard S's worker for TARGET through a standby: started (or reused
 * when one of TARGET is ready), then the old worker is stopped and the
 * standby takes over. The old worker is not touched until the standby is
 * ready; a standby that fails leaves it serving.
 */
int sup_swap_begin(struct primary *p, unsigned int s, const char *target, bool upgrade,
		   char *err, size_t errlen)
{
	struct sup_worker *w = &p->sup[s];
	struct sup_swap *sw = &w->swap;

	if (sw->phase != SWAP_NONE) {
		snprintf(err, errlen, "shard %u: a restart or upgrade of this shard is under way", s);
		return -1;
	}
	memset(sw, 0, sizeof(*sw));
	sup_path_copy(sw->target, target);
	sup_path_copy(sw->prev, w->binary);
	sw->upgrade = upgrade;
	sw->started_ms = now_ms();
	w->swap_msg[0] = '\0';
	if (w->pid == 0) {
		/* nothing running: the next start runs TARGET, now */
		sup_path_copy(w->binary, target);
		sw->phase = SWAP_TAKEOVER;
		if (w->await_standby && strcmp(w->sb.binary, target) != 0) {
			w->await_standby = false;
			sb_stop(p, s, "replaced: the shard is to run another binary");
		}
		if (!w->await_standby) {
			w->next_start_ms = 0;
			w->backoff_ms = p->cfg->workers.restart_backoff_ms;
		}
		return 0;
	}
	sw->phase = SWAP_STANDBY;
	LOG(NOTICE, "shard %u: swapping worker %d (%s) for %s through a standby", s, w->pid, w->running,
	    target);
	sup_swap_tick(p, s);
	return 0;
}

/*
 * With standbys: the worker of shard S died during a swap. The successor
 * runs the swap's target: its ready standby takes over, or the one still
 * starting once ready, or a cold start. A successor that dies before it is
 * ready puts the previous binary back.
 */
void sup_swap_on_death(struct primary *p, unsigned int s, int status)
{
	struct sup_worker *w = &p->sup[s];
	char why[PORTER_CFG_PATH_LEN + 96];

	if (w->swap.phase == SWAP_TAKEOVER) {
		sup_describe_exit(why, sizeof(why), w->running, status);
		sup_path_copy(w->binary, w->swap.prev);
		sup_swap_done(p, s, false, "shard %u: %s before it was ready; %s serves again", s, why,
			  w->swap.prev);
		return;   /* the caller starts PREV: a standby of it, or cold */
	}
	if (w->swap.phase == SWAP_STANDBY)
		LOG(WARNING, "shard %u: the worker died while its successor's standby was starting", s);
	w->swap.phase = SWAP_TAKEOVER;
	sup_path_copy(w->binary, w->swap.target);
}
