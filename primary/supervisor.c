/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The supervisor: one worker process per shard, started (posix_spawn) on the
 * slot's fixed lcore id, watched with a pidfd, restarted with backoff; and,
 * with workers.standby, one standby per shard that takes the shard over when
 * its worker goes.
 *
 * Slot life cycle (slot.state, written here; the worker only reports
 * readiness by writing worker_epoch == epoch after its recovery):
 *
 *   BACKOFF --start--> STARTING --worker_epoch==epoch--> READY
 *      ^   ^              |  ready_timeout_ms: SIGTERM,    |  heartbeat_timeout_ms: SIGKILL
 *      |   |              |  SIGKILL 2 s later             |  restart/upgrade: SIGTERM
 *      |   |              v                                v  (STOPPING), SIGKILL 2 s later
 *      |   +---- death seen: the owner lock freed (owner_watch.c) or the pidfd
 *      |                  | a standby of the next binary is ready: hand-over (supervisor_standby.c),
 *      |                  | STARTING at once; one still starting: waited for
 *      +------------------+ none: cold start (now, or after the backoff)
 *
 * Standbys, the hand-over and swaps through a standby are
 * supervisor_standby.c's; the rolling upgrade supervisor_upgrade.c's; starting
 * a process and granting it its shard (rte_mp) supervisor_spawn.c's
 * (supervisor_priv.h lists them). This file: the worker of each shard.
 *
 * A worker that never gets ready max_failed_starts times in a row makes the
 * gateway exit with an error rather than loop for ever.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_log.h>

#include "primary/primary.h"
#include "primary/supervisor_priv.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)

/* INFO while stopping, WARNING otherwise */
#define RTE_LOG_LINE(quiet, fmt, ...)                                                  \
	rte_log((quiet) ? RTE_LOG_INFO : RTE_LOG_WARNING, RTE_LOGTYPE_USER1,             \
		"porter: " fmt "\n", ##__VA_ARGS__)

static void worker_released(struct primary *p, unsigned int s);

/* Cold start: a new worker on the slot, which asks for its grant itself. */
static int spawn(struct primary *p, unsigned int s)
{
	struct porter_slot *slot = &p->g->slots[s];
	struct sup_worker *w = &p->sup[s];
	int pidfd;
	pid_t pid = sup_start_child(p, s, w->binary, false, &pidfd);

	if (pid < 0)
		return -1;
	w->pid = pid;
	w->pidfd = pidfd;
	memcpy(w->running, w->binary, sizeof(w->running));
	w->term_sent_ms = 0;
	w->kill_sent_ms = 0;
	w->restart_requested = false;
	w->await_standby = false;
	w->holds_lock = false;
	if (w->takeover != TAKEOVER_NONE)
		w->cold_starts++;
	w->takeover = TAKEOVER_COLD;
	slot->started_ms = now_ms();
	slot->swap_gap_us = 0;   /* measured again by the new worker at its first frame */
	__atomic_store_n(&slot->state, SLOT_STARTING, __ATOMIC_RELEASE);
	__atomic_store_n(&slot->pid, pid, __ATOMIC_RELEASE);
	LOG(NOTICE, "shard %u: started worker pid %d on lcore %u", s, pid, slot->lcore_id);
	return 0;
}

void sup_describe_exit(char *buf, size_t len, const char *binary, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		snprintf(buf, len, "%s refused the shared-memory layout (exit status 3, see the log)",
			 binary);
	else if (WIFEXITED(status))
		snprintf(buf, len, "%s exited with status %d", binary, WEXITSTATUS(status));
	else
		snprintf(buf, len, "%s was killed by signal %d", binary, WTERMSIG(status));
}

/* SIGTERM the serving worker: it stops at a safe point (between bursts). */
void sup_stop_worker(struct primary *p, unsigned int s)
{
	struct sup_worker *w = &p->sup[s];

	w->restart_requested = true;
	w->term_sent_ms = now_ms();
	__atomic_store_n(&p->g->slots[s].state, SLOT_STOPPING, __ATOMIC_RELEASE);
	kill(w->pid, SIGTERM);
}


int supervisor_init(struct primary *p, const char *argv0)
{
	char real[PATH_MAX];

	(void)argv0;
	if (supervisor_find_worker(p->cfg->workers.binary, p->worker_path, sizeof(p->worker_path)) == 0 &&
	    realpath(p->worker_path, real) && strlen(real) < sizeof(p->worker_path))
		memcpy(p->worker_path, real, strlen(real) + 1);   /* status shows a clean path */
	if (access(p->worker_path, X_OK) != 0) {
		LOG(ERR, "%s: workers.binary: cannot find an executable \"%s\" (looked next to "
		    "porter-primary, in ../secondary/ and in PATH)", p->cfg->path, p->cfg->workers.binary);
		return -1;
	}
	if (sup_mp_register(p) < 0)
		return -1;
	p->up.cur = -1;
	for (unsigned int s = 0; s < p->nshards; s++) {
		p->sup[s].pidfd = -1;
		p->sup[s].sb.pidfd = -1;
		p->sup[s].sb.handover_fd = -1;
		p->sup[s].backoff_ms = p->cfg->workers.restart_backoff_ms;
		p->sup[s].sb.backoff_ms = p->cfg->workers.restart_backoff_ms;
		snprintf(p->sup[s].binary, sizeof(p->sup[s].binary), "%s", p->worker_path);
		if (spawn(p, s) < 0)
			return -1;
	}
	return 0;
}

static bool worker_ready(const struct porter_slot *slot, pid_t pid)
{
	return pid != 0 && __atomic_load_n(&slot->worker_pid, __ATOMIC_ACQUIRE) == pid &&
	       __atomic_load_n(&slot->worker_epoch, __ATOMIC_ACQUIRE) ==
		       __atomic_load_n(&slot->epoch, __ATOMIC_ACQUIRE);
}

static void kill_worker(struct sup_worker *w, const char *why, unsigned int s)
{
	if (w->pid == 0 || w->kill_sent_ms)
		return;
	LOG(WARNING, "shard %u: killing worker %d: %s", s, w->pid, why);
	kill(w->pid, SIGKILL);
	w->kill_sent_ms = now_ms();
}

void supervisor_tick(struct primary *p)
{
	const struct porter_cfg_workers *wc = &p->cfg->workers;
	uint64_t now = now_ms();

	for (unsigned int s = 0; s < p->nshards; s++) {
		struct porter_slot *slot = &p->g->slots[s];
		struct sup_worker *w = &p->sup[s];
		uint32_t state = slot->state;

		if (state == SLOT_BACKOFF && !p->stopping && now >= w->next_start_ms) {
			if (spawn(p, s) < 0) {
				w->next_start_ms = now + w->backoff_ms;
				if (++slot->failed_starts >= wc->max_failed_starts)
					goto give_up;
			}
		} else if (state == SLOT_STARTING) {
			if (worker_ready(slot, w->pid)) {
				slot->ready_ms = now;
				slot->failed_starts = 0;
				if (w->death_us) {
					/* to the successor's own clock when it reported ready (a worker of
					 * layout minor 0 leaves ready_us behind: then when seen here) */
					uint64_t r = slot->ready_us, n = now_us();

					slot->last_restart_gap_us = (r > w->death_us && r <= n ? r : n) - w->death_us;
				}
				w->death_us = 0;
				/* layout 2.1 workers take the owner lock before they are ready */
				w->holds_lock = owner_watch_holder(p, s) == w->pid;
				__atomic_store_n(&slot->state, SLOT_READY, __ATOMIC_RELEASE);
				LOG(NOTICE, "shard %u: worker %d ready (epoch %" PRIu64 ", %s)", s, w->pid,
				    slot->epoch, w->takeover == TAKEOVER_STANDBY ? "standby took over" :
				    "cold start");
				if (w->swap.phase == SWAP_TAKEOVER)
					sup_swap_done(p, s, true, "shard %u: worker %d (%s) serves, %s", s, w->pid,
						  w->running, w->takeover == TAKEOVER_STANDBY ?
						  "taken over from its standby" : "started cold");
				else if (!sup_standby_on(p) && p->up.state == UP_RUNNING && p->up.cur == (int)s &&
					 p->up.cur_stopped)
					sup_upgrade_next(p);
			} else if (now - slot->started_ms > wc->ready_timeout_ms && !w->term_sent_ms) {
				/* SIGTERM first: a worker still inside its EAL init takes it once
				 * that is over (a kill in there can leave an EAL lock held) */
				LOG(WARNING, "shard %u: stopping worker %d: not ready within "
				    "workers.ready_timeout_ms", s, w->pid);
				kill(w->pid, SIGTERM);
				w->term_sent_ms = now;
			} else if (w->term_sent_ms && now - w->term_sent_ms > STOP_GRACE_MS) {
				kill_worker(w, "not ready within workers.ready_timeout_ms, nor gone 2 s "
					    "after SIGTERM", s);
			}
		} else if (state == SLOT_READY) {
			uint64_t hb = __atomic_load_n(&slot->heartbeat_ms, __ATOMIC_RELAXED);

			if (hb && now > hb && now - hb > wc->heartbeat_timeout_ms)
				kill_worker(w, "no heartbeat within workers.heartbeat_timeout_ms", s);
		} else if (state == SLOT_STOPPING && w->term_sent_ms &&
			   now - w->term_sent_ms > STOP_GRACE_MS) {
			kill_worker(w, "did not stop within 2 s of SIGTERM", s);
		}
		if (sup_standby_on(p) && !p->stopping && w->pid && w->holds_lock) {
			/*
			 * A report says the lock was freed by whoever held it while the
			 * watcher waited -- not always the pid it was armed for: when a
			 * pidfd beat the report, the watcher may have blocked on the
			 * successor's lock. So ask the lock: a worker that held it at
			 * READY and holds it no more has let go.
			 */
			bool report = owner_watch_take(p, s) != 0;
			pid_t holder = owner_watch_holder(p, s);

			if (report && holder != w->pid && (state == SLOT_READY || state == SLOT_STOPPING))
				worker_released(p, s);
			else if (state == SLOT_READY && holder == w->pid && !owner_watch_armed(p, s))
				owner_watch_arm(p, s, w->pid);
		}
		if (sup_standby_on(p) && !p->stopping) {
			sup_sb_tick(p, s, now);
			sup_swap_tick(p, s);
		}
		continue;
give_up:
		LOG(ERR, "shard %u: %u worker starts in a row failed (workers.max_failed_starts); "
		    "the gateway cannot serve this shard and stops", s, slot->failed_starts);
		p->exit_code = 1;
		*p->stop = 1;
		return;
	}
}

static void log_exit(struct primary *p, unsigned int s, pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		RTE_LOG_LINE(p->stopping, "shard %u: worker %d killed by signal %d", s, pid,
			     WTERMSIG(status));
	else
		RTE_LOG_LINE(p->stopping, "shard %u: worker %d exited with status %d", s, pid,
			     WEXITSTATUS(status));
}

static void worker_gone(struct primary *p, unsigned int s, int status);

/* pidfd readable: the worker of shard S died. Reap it and plan the next. */
void supervisor_on_pidfd(struct primary *p, unsigned int s)
{
	struct sup_worker *w = &p->sup[s];
	int status = 0;

	if (w->pid == 0 || waitpid(w->pid, &status, WNOHANG) != w->pid)
		return;
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, w->pidfd, NULL);
	close(w->pidfd);
	w->pidfd = -1;
	log_exit(p, s, w->pid, status);
	w->pid = 0;
	__atomic_store_n(&p->g->slots[s].pid, 0, __ATOMIC_RELEASE);
	worker_gone(p, s, status);
}

#define NDEPARTING (sizeof(((struct primary *)0)->departing) / sizeof(((struct primary *)0)->departing[0]))

/*
 * Shard S's worker has let go of its owner lock (owner_watch.c): it stopped
 * on request, or its main thread died. Either way that thread touches nothing
 * shared any more, though its process may take milliseconds to go. If a
 * standby is ready to take over, it does now, and the process is reaped when
 * it is gone (EV_DEPART_PIDFD). Otherwise the process pidfd tells, as for any
 * death, with the exit status a failure report needs.
 */
static void worker_released(struct primary *p, unsigned int s)
{
	struct sup_worker *w = &p->sup[s];
	struct sup_standby *sb = &w->sb;
	const char *next = w->swap.phase == SWAP_STANDBY || w->swap.phase == SWAP_STOP_OLD ?
				   w->swap.target : w->binary;
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned int i;

	if (sb->state != SB_READY || strcmp(sb->binary, next) != 0)
		return;
	for (i = 0; i < NDEPARTING && p->departing[i].pid; i++)
		;
	if (i == NDEPARTING)
		return;
	ev.data.u64 = EV_DATA(EV_DEPART_PIDFD, i);
	if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, w->pidfd, &ev) < 0)
		return;
	LOG(INFO, "shard %u: worker %d let go of the shard", s, w->pid);
	p->departing[i].pid = w->pid;
	p->departing[i].pidfd = w->pidfd;
	p->departing[i].shard = s;
	w->pid = 0;
	w->pidfd = -1;
	__atomic_store_n(&p->g->slots[s].pid, 0, __ATOMIC_RELEASE);
	worker_gone(p, s, 0);   /* a ready standby takes over: the exit status is not needed */
}

/* A worker replaced after it released its shard has exited: reap it. */
void supervisor_on_departed(struct primary *p, unsigned int i)
{
	int status = 0;

	if (i >= NDEPARTING || p->departing[i].pid == 0 ||
	    waitpid(p->departing[i].pid, &status, WNOHANG) != p->departing[i].pid)
		return;
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->departing[i].pidfd, NULL);
	close(p->departing[i].pidfd);
	log_exit(p, p->departing[i].shard, p->departing[i].pid, status);
	p->departing[i].pid = 0;
	p->departing[i].pidfd = -1;
}

/* The worker of shard S is gone: plan the next. */
static void worker_gone(struct primary *p, unsigned int s, int status)
{
	const struct porter_cfg_workers *wc = &p->cfg->workers;
	struct porter_slot *slot = &p->g->slots[s];
	struct sup_worker *w = &p->sup[s];
	struct sup_standby *sb = &w->sb;
	uint64_t now = now_ms();
	bool was_ready = slot->state == SLOT_READY || slot->state == SLOT_STOPPING;

	if (!sup_standby_on(p) && !p->stopping && p->up.state == UP_RUNNING && p->up.cur == (int)s &&
	    sup_upgrade_on_death(p, s, status)) {
		slot->restarts++;
		w->death_us = now_us();
		w->next_start_ms = now;
		__atomic_store_n(&slot->state, SLOT_BACKOFF, __ATOMIC_RELEASE);
		supervisor_tick(p);
		return;
	}
	if (p->stopping) {
		__atomic_store_n(&slot->state, SLOT_EMPTY, __ATOMIC_RELEASE);
		return;
	}
	slot->restarts++;
	w->death_us = now_us();
	if (sup_standby_on(p) && w->swap.phase != SWAP_NONE)
		sup_swap_on_death(p, s, status);
	if (!was_ready && !w->restart_requested && ++slot->failed_starts >= wc->max_failed_starts) {
		LOG(ERR, "shard %u: %u worker starts in a row never became ready "
		    "(workers.max_failed_starts = %u); giving up", s, slot->failed_starts,
		    wc->max_failed_starts);
		p->exit_code = 1;
		*p->stop = 1;
		return;
	}
	/* A ready standby of the binary the shard runs next takes over now; one
	 * still starting is waited for (it is further along than a cold start). */
	if (sup_standby_on(p) && strcmp(sb->binary, w->binary) == 0 &&
	    (sb->state == SB_READY || sb->state == SB_STARTING)) {
		if (sb->state == SB_READY) {
			sup_handover(p, s);
		} else {
			LOG(NOTICE, "shard %u: waiting for standby %d to take over", s, sb->pid);
			w->await_standby = true;
			w->next_start_ms = UINT64_MAX;
			__atomic_store_n(&slot->state, SLOT_BACKOFF, __ATOMIC_RELEASE);
		}
		supervisor_tick(p);
		return;
	}
	/*
	 * A worker that had been serving is replaced at once: its shard's frames
	 * are waiting in the RX ring. Only starts that never got ready back off,
	 * doubling up to max_restart_backoff_ms, so a broken binary cannot spin.
	 */
	if (was_ready || w->restart_requested) {
		w->backoff_ms = wc->restart_backoff_ms;
		w->next_start_ms = now;
	} else {
		w->next_start_ms = now + w->backoff_ms;
		w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : 1;
		if (w->backoff_ms > wc->max_restart_backoff_ms)
			w->backoff_ms = wc->max_restart_backoff_ms;
	}
	__atomic_store_n(&slot->state, SLOT_BACKOFF, __ATOMIC_RELEASE);
	supervisor_tick(p);
}

int supervisor_restart(struct primary *p, unsigned int s, char *err, size_t errlen)
{
	struct sup_worker *w = &p->sup[s];

	if (s >= p->nshards) {
		snprintf(err, errlen, "no shard %u (the gateway has %u)", s, p->nshards);
		return -1;
	}
	if (sup_standby_on(p)) {
		if (p->up.state == UP_RUNNING && p->up.cur == (int)s) {
			snprintf(err, errlen, "shard %u is being upgraded", s);
			return -1;
		}
		return sup_swap_begin(p, s, w->binary, false, err, errlen);
	}
	if (w->pid == 0) {
		/* nothing running: start now instead of waiting out the backoff */
		w->next_start_ms = 0;
		w->backoff_ms = p->cfg->workers.restart_backoff_ms;
		return 0;
	}
	sup_stop_worker(p, s);
	return 0;
}

int supervisor_timeout_ms(const struct primary *p)
{
	uint64_t now = now_ms();
	int t = 1000;   /* heartbeat and ready checks run at least once a second */

	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct porter_slot *slot = &p->g->slots[s];
		const struct sup_standby *sb = &p->sup[s].sb;

		if (slot->state == SLOT_BACKOFF) {
			uint64_t at = p->sup[s].next_start_ms;
			int d = at > now ? (at - now > 1000 ? 1000 : (int)(at - now)) : 0;

			if (d < t)
				t = d;
		} else if (slot->state == SLOT_STARTING || slot->state == SLOT_STOPPING) {
			if (t > 50)
				t = 50;
		}
		if (!sup_standby_on(p))
			continue;
		if (sb->state == SB_STARTING || sb->state == SB_STOPPING) {
			if (t > 50)
				t = 50;
		} else if (sb->state == SB_NONE && slot->state == SLOT_READY) {
			int d = sb->next_start_ms > now ? (sb->next_start_ms - now > 1000 ? 1000 :
							    (int)(sb->next_start_ms - now)) : 0;

			if (d < t)
				t = d;
		}
	}
	return t;
}

void supervisor_stop_all(struct primary *p)
{
	uint64_t deadline;
	bool any;

	p->stopping = true;
	if (p->g == NULL)
		return;
	for (unsigned int s = 0; s < p->nshards; s++) {
		struct sup_standby *sb = &p->sup[s].sb;

		if (p->sup[s].pid) {
			__atomic_store_n(&p->g->slots[s].state, SLOT_STOPPING, __ATOMIC_RELEASE);
			kill(p->sup[s].pid, SIGTERM);
		} else {
			__atomic_store_n(&p->g->slots[s].state, SLOT_EMPTY, __ATOMIC_RELEASE);
		}
		if (sb->pid) {
			sb->state = SB_STOPPING;
			kill(sb->pid, SIGTERM);
		}
	}
	deadline = now_ms() + STOP_GRACE_MS;
	do {
		struct epoll_event ev[2 * PORTER_MAX_SHARDS];
		int n = epoll_wait(p->epfd, ev, 2 * PORTER_MAX_SHARDS, 50);

		for (int i = 0; i < n; i++) {
			if ((ev[i].data.u64 >> 32) == EV_PIDFD)
				supervisor_on_pidfd(p, (uint32_t)ev[i].data.u64);
			else if ((ev[i].data.u64 >> 32) == EV_SB_PIDFD)
				supervisor_on_sb_pidfd(p, (uint32_t)ev[i].data.u64);
			else if ((ev[i].data.u64 >> 32) == EV_DEPART_PIDFD)
				supervisor_on_departed(p, (uint32_t)ev[i].data.u64);
		}
		any = false;
		for (unsigned int s = 0; s < p->nshards; s++)
			any |= p->sup[s].pid != 0 || p->sup[s].sb.pid != 0;
		for (unsigned int i = 0; i < NDEPARTING; i++)
			any |= p->departing[i].pid != 0;
	} while (any && now_ms() < deadline);

	for (unsigned int s = 0; s < p->nshards; s++) {
		struct sup_worker *w = &p->sup[s];
		struct sup_standby *sb = &w->sb;

		if (w->pid != 0) {
			LOG(WARNING, "shard %u: worker %d ignored SIGTERM; killing it", s, w->pid);
			kill(w->pid, SIGKILL);
			waitpid(w->pid, NULL, 0);
			close(w->pidfd);
			w->pid = 0;
			p->g->slots[s].pid = 0;
			p->g->slots[s].state = SLOT_EMPTY;
		}
		if (sb->pid != 0) {
			LOG(WARNING, "shard %u: standby %d ignored SIGTERM; killing it", s, sb->pid);
			kill(sb->pid, SIGKILL);
			waitpid(sb->pid, NULL, 0);
			close(sb->pidfd);
			sup_sb_clear(sb);
		}
	}
	for (unsigned int i = 0; i < NDEPARTING; i++) {
		if (p->departing[i].pid == 0)
			continue;
		kill(p->departing[i].pid, SIGKILL);   /* it was exiting already */
		waitpid(p->departing[i].pid, NULL, 0);
		close(p->departing[i].pidfd);
		p->departing[i].pid = 0;
	}
	sup_mp_unregister();
}
