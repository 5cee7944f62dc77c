/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The supervisor: one worker process per shard, started with fork/exec on the
 * slot's fixed lcore id, watched with a pidfd, restarted with backoff.
 *
 * Slot life cycle (slot.state, written here; the worker only reports
 * readiness by writing worker_epoch == epoch after its recovery):
 *
 *   BACKOFF --start--> STARTING --worker_epoch==epoch--> READY
 *      ^                  |  ready_timeout_ms: SIGKILL     |  heartbeat_timeout_ms: SIGKILL
 *      |                  v                                v
 *      +------------- (pidfd: death) <------------------ STOPPING (restart, SIGTERM)
 *
 * A worker that never gets ready max_failed_starts times in a row makes the
 * gateway exit with an error rather than loop for ever. The epoch is granted
 * in the rte_mp attach handler (EAL's IPC thread) only to the pid the
 * supervisor started for that slot, so a stray or stale process cannot attach.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "primary/primary.h"
#include "shm/attach-t.h"
#include "shm/names.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)

/* INFO while stopping, WARNING otherwise */
#define RTE_LOG_LINE(quiet, fmt, ...)                                                  \
	rte_log((quiet) ? RTE_LOG_INFO : RTE_LOG_WARNING, RTE_LOGTYPE_USER1,             \
		"porter: " fmt "\n", ##__VA_ARGS__)
#define STOP_GRACE_MS       2000      /* SIGTERM -> SIGKILL */

static void upgrade_next(struct primary *p);

/* The attach handler runs in EAL's IPC thread; it needs the primary. */
static struct primary *mp_primary;

static int sys_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int find_worker(const char *bin, const char *argv0, char *out, size_t len)
{
	char exe[PATH_MAX], dir[PATH_MAX];
	ssize_t n;
	const char *path;

	if (strchr(bin, '/')) {
		if (realpath(bin, out) == NULL && (int)snprintf(out, len, "%s", bin) >= (int)len)
			return -1;
		return access(out, X_OK);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(dir, sizeof(dir), "%s", exe);
		*strrchr(dir, '/') = '\0';
		/* installed side by side, or the build tree (build/primary, build/secondary) */
		if ((size_t)snprintf(out, len, "%s/%s", dir, bin) < len && access(out, X_OK) == 0)
			return 0;
		if ((size_t)snprintf(out, len, "%s/../secondary/%s", dir, bin) < len &&
		    access(out, X_OK) == 0)
			return 0;
	}
	(void)argv0;
	path = getenv("PATH");
	while (path && *path) {
		size_t l = strcspn(path, ":");

		if ((size_t)snprintf(out, len, "%.*s/%s", (int)l, path, bin) < len &&
		    access(out, X_OK) == 0)
			return 0;
		path += l + (path[l] == ':');
	}
	return -1;
}

/*
 * rte_mp handler (EAL IPC thread): grant the shard to the worker the
 * supervisor started for it. The epoch is written here and nowhere else.
 */
static int attach_handler(const struct rte_mp_msg *msg, const void *peer)
{
	struct primary *p = mp_primary;
	struct porter_attach_req req;
	struct porter_attach_rep rep = { 0 };
	struct rte_mp_msg out = { 0 };

	snprintf(out.name, sizeof(out.name), "%s", PORTER_MP_ATTACH);
	out.len_param = sizeof(rep);
	if (msg->len_param != sizeof(req)) {
		rep.status = ATTACH_REFUSED;
		snprintf(rep.msg, sizeof(rep.msg), "bad attach request size %d", msg->len_param);
		goto reply;
	}
	memcpy(&req, msg->param, sizeof(req));
	if (req.shard >= p->nshards) {
		rep.status = ATTACH_REFUSED;
		snprintf(rep.msg, sizeof(rep.msg), "shard %u does not exist (the gateway has %u)",
			 req.shard, p->nshards);
		goto reply;
	}
	struct porter_slot *slot = &p->g->slots[req.shard];
	int32_t owner = __atomic_load_n(&slot->pid, __ATOMIC_ACQUIRE);

	if (owner != req.pid) {
		rep.status = owner == 0 ? ATTACH_RETRY : ATTACH_REFUSED;
		snprintf(rep.msg, sizeof(rep.msg), "shard %u belongs to pid %d, not %d",
			 req.shard, owner, req.pid);
		goto reply;
	}
	rep.epoch = __atomic_add_fetch(&slot->epoch, 1, __ATOMIC_ACQ_REL);
	rep.status = ATTACH_OK;
	out.num_fds = 2;
	out.fds[0] = p->worker_wake_fd[req.shard];
	out.fds[1] = p->primary_wake_fd;
	LOG(INFO, "shard %u: granted epoch %" PRIu64 " to pid %d (layout %u.%u)", req.shard,
	    rep.epoch, req.pid, req.major, req.minor);
reply:
	if (rep.status == ATTACH_REFUSED)
		LOG(WARNING, "attach refused: %s", rep.msg);
	memcpy(out.param, &rep, sizeof(rep));
	return rte_mp_reply(&out, peer);
}

static void cpu_list(char *out, size_t len, const char *cfg)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (cfg[0])
		snprintf(out, len, "%s", cfg);
	else
		snprintf(out, len, "0-%ld", n > 0 ? n - 1 : 0);
}

static int spawn(struct primary *p, unsigned int s)
{
	const struct porter_config *cfg = p->cfg;
	struct porter_slot *slot = &p->g->slots[s];
	struct sup_worker *w = &p->sup[s];
	char shard[16], lcore[16], cpus[80], spin[16];
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_DATA(EV_PIDFD, s) };
	pid_t parent = getpid(), pid;

	snprintf(shard, sizeof(shard), "%u", s);
	snprintf(lcore, sizeof(lcore), "%u", slot->lcore_id);
	cpu_list(cpus, sizeof(cpus), cfg->eal.cpus);
	snprintf(spin, sizeof(spin), "%u", cfg->workers.spin_us);
	char *const argv[] = {
		w->binary, "--file-prefix", (char *)cfg->eal.file_prefix, "--shard", shard,
		"--lcore", lcore, "--cpus", cpus, "--log-level", (char *)cfg->eal.log_level, "--spin-us", spin, NULL,
	};

	pid = fork();
	if (pid < 0) {
		LOG(ERR, "shard %u: fork: %s", s, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		/* workers must not outlive the primary */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		syscall(SYS_close_range, 3, ~0u, 0);
		execv(w->binary, argv);
		fprintf(stderr, "porter: exec %s: %s\n", w->binary, strerror(errno));
		_exit(127);
	}
	w->pid = pid;
	memcpy(w->running, w->binary, sizeof(w->running));
	w->pidfd = sys_pidfd_open(pid);
	w->term_sent_ms = 0;
	w->kill_sent_ms = 0;
	w->restart_requested = false;
	if (w->pidfd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, w->pidfd, &ev) < 0) {
		LOG(ERR, "shard %u: pidfd for %d: %s", s, pid, strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		w->pid = 0;
		return -1;
	}
	slot->started_ms = now_ms();
	slot->swap_gap_us = 0;   /* measured again by the new worker at its first frame */
	__atomic_store_n(&slot->state, SLOT_STARTING, __ATOMIC_RELEASE);
	__atomic_store_n(&slot->pid, pid, __ATOMIC_RELEASE);
	LOG(NOTICE, "shard %u: started worker pid %d on lcore %u", s, pid, slot->lcore_id);
	return 0;
}

int supervisor_init(struct primary *p, const char *argv0)
{
	char real[PATH_MAX];

	if (find_worker(p->cfg->workers.binary, argv0, p->worker_path, sizeof(p->worker_path)) == 0 &&
	    realpath(p->worker_path, real) && strlen(real) < sizeof(p->worker_path))
		memcpy(p->worker_path, real, strlen(real) + 1);   /* status shows a clean path */
	if (access(p->worker_path, X_OK) != 0) {
		LOG(ERR, "%s: workers.binary: cannot find an executable \"%s\" (looked next to "
		    "porter-primary, in ../secondary/ and in PATH)", p->cfg->path, p->cfg->workers.binary);
		return -1;
	}
	mp_primary = p;
	if (rte_mp_action_register(PORTER_MP_ATTACH, attach_handler) < 0) {
		LOG(ERR, "rte_mp_action_register: %s", strerror(rte_errno));
		return -1;
	}
	p->up.cur = -1;
	for (unsigned int s = 0; s < p->nshards; s++) {
		p->sup[s].pidfd = -1;
		p->sup[s].backoff_ms = p->cfg->workers.restart_backoff_ms;
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
				if (w->death_ms)
					slot->last_restart_gap_us = (now - w->death_ms) * 1000;
				__atomic_store_n(&slot->state, SLOT_READY, __ATOMIC_RELEASE);
				LOG(NOTICE, "shard %u: worker %d ready (epoch %" PRIu64 ")", s, w->pid,
				    slot->epoch);
				if (p->up.state == UP_RUNNING && p->up.cur == (int)s && p->up.cur_stopped)
					upgrade_next(p);
			} else if (now - slot->started_ms > wc->ready_timeout_ms) {
				kill_worker(w, "not ready within workers.ready_timeout_ms", s);
			}
		} else if (state == SLOT_READY) {
			uint64_t hb = __atomic_load_n(&slot->heartbeat_ms, __ATOMIC_RELAXED);

			if (hb && now > hb && now - hb > wc->heartbeat_timeout_ms)
				kill_worker(w, "no heartbeat within workers.heartbeat_timeout_ms", s);
		} else if (state == SLOT_STOPPING && w->term_sent_ms &&
			   now - w->term_sent_ms > STOP_GRACE_MS) {
			kill_worker(w, "did not stop within 2 s of SIGTERM", s);
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

/*
 * Rolling upgrade (DESIGN §2): shard by shard, the old worker is asked to stop
 * at a safe point (SIGTERM: it finishes its burst), the new binary starts on
 * the same slot and lcore id, runs recovery and reports ready; then the next
 * shard. A new binary that exits or does not get ready is replaced by the
 * previous one at once and the upgrade stops there.
 */
static void upgrade_next(struct primary *p)
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

/* The worker of the shard being upgraded died. Returns true if handled here. */
static bool upgrade_on_death(struct primary *p, unsigned int s, int status)
{
	struct upgrade *u = &p->up;
	struct sup_worker *w = &p->sup[s];

	if (!u->cur_stopped) {
		/* the old worker stopped: the next start is the new binary */
		u->cur_stopped = true;
		snprintf(w->binary, sizeof(w->binary), "%s", u->path);
		LOG(NOTICE, "upgrade: shard %u: old worker gone, starting %s", s, u->path);
		return true;
	}
	/* the new binary died before it was ready: put the previous one back */
	snprintf(w->binary, sizeof(w->binary), "%s", u->prev);
	u->state = UP_FAILED;
	u->finished_ms = now_ms();
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		snprintf(u->msg, sizeof(u->msg), "shard %u: %s refused the shared-memory layout "
			 "(exit status 3, see the log); %s serves again", s, u->path, u->prev);
	else if (WIFEXITED(status))
		snprintf(u->msg, sizeof(u->msg), "shard %u: %s exited with status %d before it was "
			 "ready; %s serves again", s, u->path, WEXITSTATUS(status), u->prev);
	else
		snprintf(u->msg, sizeof(u->msg), "shard %u: %s was killed by signal %d before it was "
			 "ready; %s serves again", s, u->path, WTERMSIG(status), u->prev);
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
	upgrade_next(p);
	return 0;
}

/* pidfd readable: the worker of shard S died. Reap it and plan the next. */
void supervisor_on_pidfd(struct primary *p, unsigned int s)
{
	const struct porter_cfg_workers *wc = &p->cfg->workers;
	struct porter_slot *slot = &p->g->slots[s];
	struct sup_worker *w = &p->sup[s];
	uint64_t now = now_ms();
	bool was_ready = slot->state == SLOT_READY || slot->state == SLOT_STOPPING;
	int status = 0;

	if (w->pid == 0 || waitpid(w->pid, &status, WNOHANG) != w->pid)
		return;
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, w->pidfd, NULL);
	close(w->pidfd);
	w->pidfd = -1;
	if (WIFSIGNALED(status))
		RTE_LOG_LINE(p->stopping, "shard %u: worker %d killed by signal %d", s, w->pid,
			     WTERMSIG(status));
	else
		RTE_LOG_LINE(p->stopping, "shard %u: worker %d exited with status %d", s, w->pid,
			     WEXITSTATUS(status));
	w->pid = 0;
	__atomic_store_n(&slot->pid, 0, __ATOMIC_RELEASE);
	if (!p->stopping && p->up.state == UP_RUNNING && p->up.cur == (int)s &&
	    upgrade_on_death(p, s, status)) {
		slot->restarts++;
		w->death_ms = now;
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
	w->death_ms = now;
	if (!was_ready && !w->restart_requested && ++slot->failed_starts >= wc->max_failed_starts) {
		LOG(ERR, "shard %u: %u worker starts in a row never became ready "
		    "(workers.max_failed_starts = %u); giving up", s, slot->failed_starts,
		    wc->max_failed_starts);
		p->exit_code = 1;
		*p->stop = 1;
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
	struct porter_slot *slot = &p->g->slots[s];

	if (s >= p->nshards) {
		snprintf(err, errlen, "no shard %u (the gateway has %u)", s, p->nshards);
		return -1;
	}
	if (w->pid == 0) {
		/* nothing running: start now instead of waiting out the backoff */
		w->next_start_ms = 0;
		w->backoff_ms = p->cfg->workers.restart_backoff_ms;
		return 0;
	}
	w->restart_requested = true;
	w->term_sent_ms = now_ms();
	__atomic_store_n(&slot->state, SLOT_STOPPING, __ATOMIC_RELEASE);
	kill(w->pid, SIGTERM);
	return 0;
}

int supervisor_timeout_ms(const struct primary *p)
{
	uint64_t now = now_ms();
	int t = 1000;   /* heartbeat and ready checks run at least once a second */

	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct porter_slot *slot = &p->g->slots[s];

		if (slot->state == SLOT_BACKOFF) {
			uint64_t at = p->sup[s].next_start_ms;
			int d = at > now ? (int)(at - now) : 0;

			if (d < t)
				t = d;
		} else if (slot->state == SLOT_STARTING || slot->state == SLOT_STOPPING) {
			if (t > 50)
				t = 50;
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
		if (p->sup[s].pid) {
			__atomic_store_n(&p->g->slots[s].state, SLOT_STOPPING, __ATOMIC_RELEASE);
			kill(p->sup[s].pid, SIGTERM);
		} else {
			__atomic_store_n(&p->g->slots[s].state, SLOT_EMPTY, __ATOMIC_RELEASE);
		}
	}
	deadline = now_ms() + STOP_GRACE_MS;
	do {
		struct epoll_event ev[PORTER_MAX_SHARDS];
		int n = epoll_wait(p->epfd, ev, PORTER_MAX_SHARDS, 50);

		for (int i = 0; i < n; i++)
			if ((ev[i].data.u64 >> 32) == EV_PIDFD)
				supervisor_on_pidfd(p, (uint32_t)ev[i].data.u64);
		any = false;
		for (unsigned int s = 0; s < p->nshards; s++)
			any |= p->sup[s].pid != 0;
	} while (any && now_ms() < deadline);

	for (unsigned int s = 0; s < p->nshards; s++) {
		struct sup_worker *w = &p->sup[s];

		if (w->pid == 0)
			continue;
		LOG(WARNING, "shard %u: worker %d ignored SIGTERM; killing it", s, w->pid);
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
		close(w->pidfd);
		w->pid = 0;
		p->g->slots[s].pid = 0;
		p->g->slots[s].state = SLOT_EMPTY;
	}
	rte_mp_action_unregister(PORTER_MP_ATTACH);
}
