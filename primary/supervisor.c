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
 *      |                  | a standby of the next binary is ready: hand-over (below),
 *      |                  | STARTING at once; one still starting: waited for
 *      +------------------+ none: cold start (now, or after the backoff)
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
 *
 * A worker that never gets ready max_failed_starts times in a row makes the
 * gateway exit with an error rather than loop for ever. Cold-started workers
 * get their epoch in the rte_mp attach handler (EAL's IPC thread), standbys in
 * the hand-over (main thread), each only for the pid the supervisor started
 * for that slot, so a stray or stale process cannot attach.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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
static void worker_released(struct primary *p, unsigned int s);
static void swap_done(struct primary *p, unsigned int s, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The rte_mp handlers run in EAL's IPC thread; they need the primary. */
static struct primary *mp_primary;

/* Held by the standby handler while it reads a standby's pid and hand-over fd
 * and replies, and by the main thread while it retires them. */
static pthread_mutex_t sb_lock = PTHREAD_MUTEX_INITIALIZER;

/* Paths are all PORTER_CFG_PATH_LEN buffers, some in the same struct. */
static void path_copy(char *dst, const char *src)
{
	size_t n = strnlen(src, PORTER_CFG_PATH_LEN - 1);

	memmove(dst, src, n);
	dst[n] = '\0';
}

static bool standby_on(const struct primary *p)
{
	return p->cfg->workers.standby;
}

static int sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

int supervisor_find_worker(const char *bin, char *out, size_t len)
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
 * supervisor started for it. Cold-started workers get their epoch here.
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

/*
 * rte_mp handler (EAL IPC thread): the standby the supervisor started for a
 * shard has attached. Hand it its eventfds and tell the main thread (the
 * `attached` flag, then the primary's wake eventfd). No epoch: that comes at
 * the hand-over.
 */
static int standby_handler(const struct rte_mp_msg *msg, const void *peer)
{
	struct primary *p = mp_primary;
	struct porter_standby_req req;
	struct porter_attach_rep rep = { .status = ATTACH_REFUSED };
	struct rte_mp_msg out = { 0 };
	struct sup_standby *sb = NULL;
	int rc;

	snprintf(out.name, sizeof(out.name), "%s", PORTER_MP_STANDBY);
	out.len_param = sizeof(rep);
	pthread_mutex_lock(&sb_lock);
	if (msg->len_param != sizeof(req)) {
		snprintf(rep.msg, sizeof(rep.msg), "bad standby request size %d", msg->len_param);
		goto reply;
	}
	memcpy(&req, msg->param, sizeof(req));
	if (req.shard >= p->nshards) {
		snprintf(rep.msg, sizeof(rep.msg), "shard %u does not exist (the gateway has %u)",
			 req.shard, p->nshards);
		goto reply;
	}
	sb = &p->sup[req.shard].sb;
	pid_t want = __atomic_load_n(&sb->pid, __ATOMIC_ACQUIRE);

	if (want != req.pid || sb->handover_fd < 0) {
		rep.status = want == 0 ? ATTACH_RETRY : ATTACH_REFUSED;
		snprintf(rep.msg, sizeof(rep.msg), "shard %u's standby is pid %d, not %d", req.shard,
			 want, req.pid);
		sb = NULL;
		goto reply;
	}
	rep.status = ATTACH_OK;
	out.num_fds = 3;
	out.fds[0] = sb->handover_fd;
	out.fds[1] = p->worker_wake_fd[req.shard];
	out.fds[2] = p->primary_wake_fd;
	memcpy(sb->version, req.version, sizeof(sb->version));
	sb->version[sizeof(sb->version) - 1] = '\0';
reply:
	if (rep.status == ATTACH_REFUSED)
		LOG(WARNING, "standby refused: %s", rep.msg);
	memcpy(out.param, &rep, sizeof(rep));
	rc = rte_mp_reply(&out, peer);
	if (rc == 0 && sb != NULL) {
		uint64_t one = 1;

		__atomic_store_n(&sb->attached, 1, __ATOMIC_RELEASE);
		(void)!write(p->primary_wake_fd, &one, sizeof(one));   /* the main loop notes it */
	}
	pthread_mutex_unlock(&sb_lock);
	return rc;
}

static void cpu_list(char *out, size_t len, const char *cfg)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (cfg[0])
		snprintf(out, len, "%s", cfg);
	else
		snprintf(out, len, "0-%ld", n > 0 ? n - 1 : 0);
}

/* The primary's environment plus PORTER_PRIMARY_PID (the worker checks that its parent is still it). */
static char **child_env(void)
{
	extern char **environ;
	static char mine[40];
	size_t n = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (env == NULL)
		return NULL;
	snprintf(mine, sizeof(mine), "PORTER_PRIMARY_PID=%d", (int)getpid());
	env[0] = mine;
	for (size_t i = 0, k = 1; i < n; i++)
		if (strncmp(environ[i], "PORTER_PRIMARY_PID=", 19) != 0)
			env[k++] = environ[i];
	return env;
}

/*
 * Start BINARY for shard S on the slot's lcore id (a standby too: it touches
 * no per-lcore state before the hand-over); its pidfd goes into the epoll
 * set. posix_spawn, not fork: glibc's is a vfork-style clone, while a fork of
 * this process copies a thousand mappings' worth of page tables -- 1.3 to
 * 3.6 ms here with the dataplane stopped, right when a standby is started
 * behind a new worker. The child gets an empty signal mask and no fd above
 * 2; it sets PR_SET_PDEATHSIG itself (secondary/main.c). Returns the pid, or -1.
 */
static pid_t start_child(struct primary *p, unsigned int s, const char *binary, bool standby,
		       int *pidfd_out)
{
	const struct porter_config *cfg = p->cfg;
	struct porter_slot *slot = &p->g->slots[s];
	char shard[16], lcore[16], cpus[80], spin[16];
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = EV_DATA(standby ? EV_SB_PIDFD : EV_PIDFD, s) };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	char **env;
	pid_t pid;
	int pidfd, rc;

	snprintf(shard, sizeof(shard), "%u", s);
	snprintf(lcore, sizeof(lcore), "%u", slot->lcore_id);
	cpu_list(cpus, sizeof(cpus), cfg->eal.cpus);
	snprintf(spin, sizeof(spin), "%u", cfg->workers.spin_us);
	char *const argv[] = {
		(char *)binary, "--file-prefix", (char *)cfg->eal.file_prefix, "--shard", shard,
		"--lcore", lcore, "--cpus", cpus, "--log-level", (char *)cfg->eal.log_level, "--spin-us", spin,
		standby ? "--standby" : NULL, NULL,
	};

	env = child_env();
	if (env == NULL) {
		LOG(ERR, "shard %u: spawn: out of memory", s);
		return -1;
	}
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawn(&pid, binary, &fa, &at, argv, env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	if (rc != 0) {
		LOG(ERR, "shard %u: cannot start %s: %s", s, binary, strerror(rc));
		return -1;
	}
	pidfd = sys_pidfd_open(pid, 0);
	if (pidfd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, pidfd, &ev) < 0) {
		LOG(ERR, "shard %u: pidfd for %d: %s", s, pid, strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (pidfd >= 0)
			close(pidfd);
		return -1;
	}
	*pidfd_out = pidfd;
	return pid;
}

/* Cold start: a new worker on the slot, which asks for its grant itself. */
static int spawn(struct primary *p, unsigned int s)
{
	struct porter_slot *slot = &p->g->slots[s];
	struct sup_worker *w = &p->sup[s];
	int pidfd;
	pid_t pid = start_child(p, s, w->binary, false, &pidfd);

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

/* ---- standbys ------------------------------------------------------------ */

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
	pid = start_child(p, s, binary, true, &pidfd);
	if (pid < 0) {
		close(fd);
		return -1;
	}
	pthread_mutex_lock(&sb_lock);
	sb->handover_fd = fd;
	sb->pidfd = pidfd;
	__atomic_store_n(&sb->attached, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sb->pid, pid, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sb_lock);
	sb->state = SB_STARTING;
	sb->started_ms = now_ms();
	sb->ready_ms = sb->term_sent_ms = sb->kill_sent_ms = 0;
	sb->starts++;
	LOG(NOTICE, "shard %u: started standby pid %d (%s) on lcore %u", s, pid, binary,
	    p->g->slots[s].lcore_id);
	return 0;
}

/* Forget the standby (its process is gone, or is the worker now). */
static void sb_clear(struct sup_standby *sb)
{
	pthread_mutex_lock(&sb_lock);
	__atomic_store_n(&sb->pid, 0, __ATOMIC_RELEASE);
	if (sb->handover_fd >= 0)
		close(sb->handover_fd);
	sb->handover_fd = -1;
	__atomic_store_n(&sb->attached, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&sb_lock);
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
static void handover(struct primary *p, unsigned int s)
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
	path_copy(w->running, sb->binary);
	path_copy(w->binary, sb->binary);
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
	sb_clear(sb);
	LOG(NOTICE, "shard %u: standby %d takes over (epoch %" PRIu64 ")", s, pid, epoch);
}

static void describe_exit(char *buf, size_t len, const char *binary, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		snprintf(buf, len, "%s refused the shared-memory layout (exit status 3, see the log)",
			 binary);
	else if (WIFEXITED(status))
		snprintf(buf, len, "%s exited with status %d", binary, WEXITSTATUS(status));
	else
		snprintf(buf, len, "%s was killed by signal %d", binary, WTERMSIG(status));
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
		describe_exit(why, sizeof(why), sb->binary, status);
	if (asked || p->stopping)
		LOG(INFO, "shard %u: standby %d stopped", s, sb->pid);
	else
		LOG(WARNING, "shard %u: standby %d died before taking over: %s", s, sb->pid, why);
	sb_clear(sb);
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
			path_copy(w->binary, w->swap.prev);
			swap_done(p, s, false, "shard %u: standby: %s; %s serves again", s, why, w->swap.prev);
		}
	} else if (w->swap.phase == SWAP_STANDBY && !asked && target) {
		swap_done(p, s, false, "shard %u: standby: %s; the old worker (pid %d, %s) serves on, "
			  "untouched", s, why, w->pid, w->running);
	}
	supervisor_tick(p);
}

/* Standby upkeep: one ready standby per serving shard, of the shard's binary. */
static void sb_tick(struct primary *p, unsigned int s, uint64_t now)
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
				handover(p, s);
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

static void swap_done(struct primary *p, unsigned int s, bool ok, const char *fmt, ...)
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
		upgrade_next(p);
		return;
	}
	u->state = UP_FAILED;
	u->finished_ms = now_ms();
	snprintf(u->msg, sizeof(u->msg), "%s", w->swap_msg);
	LOG(ERR, "upgrade failed: %s", u->msg);
	u->cur = -1;
}

/* SIGTERM the serving worker: it stops at a safe point (between bursts). */
static void stop_worker(struct primary *p, unsigned int s)
{
	struct sup_worker *w = &p->sup[s];

	w->restart_requested = true;
	w->term_sent_ms = now_ms();
	__atomic_store_n(&p->g->slots[s].state, SLOT_STOPPING, __ATOMIC_RELEASE);
	kill(w->pid, SIGTERM);
}

static void swap_tick(struct primary *p, unsigned int s)
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
		stop_worker(p, s);
	} else if ((sb->state == SB_READY || sb->state == SB_STARTING) && !same) {
		sb_stop(p, s, "replaced by a standby of the binary being swapped in");
	} else if (sb->state == SB_NONE) {
		if (sb_spawn(p, s, w->swap.target) < 0)
			swap_done(p, s, false, "shard %u: cannot start %s as a standby (see the log); the "
				  "old worker serves on, untouched", s, w->swap.target);
	}
}

/*
 * Swap shard S's worker for TARGET through a standby: started (or reused
 * when one of TARGET is ready), then the old worker is stopped and the
 * standby takes over. The old worker is not touched until the standby is
 * ready; a standby that fails leaves it serving.
 */
static int swap_begin(struct primary *p, unsigned int s, const char *target, bool upgrade,
		      char *err, size_t errlen)
{
	struct sup_worker *w = &p->sup[s];
	struct sup_swap *sw = &w->swap;

	if (sw->phase != SWAP_NONE) {
		snprintf(err, errlen, "shard %u: a restart or upgrade of this shard is under way", s);
		return -1;
	}
	memset(sw, 0, sizeof(*sw));
	path_copy(sw->target, target);
	path_copy(sw->prev, w->binary);
	sw->upgrade = upgrade;
	sw->started_ms = now_ms();
	w->swap_msg[0] = '\0';
	if (w->pid == 0) {
		/* nothing running: the next start runs TARGET, now */
		path_copy(w->binary, target);
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
	swap_tick(p, s);
	return 0;
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
	mp_primary = p;
	if (rte_mp_action_register(PORTER_MP_ATTACH, attach_handler) < 0 ||
	    rte_mp_action_register(PORTER_MP_STANDBY, standby_handler) < 0) {
		LOG(ERR, "rte_mp_action_register: %s", strerror(rte_errno));
		return -1;
	}
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
					swap_done(p, s, true, "shard %u: worker %d (%s) serves, %s", s, w->pid,
						  w->running, w->takeover == TAKEOVER_STANDBY ?
						  "taken over from its standby" : "started cold");
				else if (!standby_on(p) && p->up.state == UP_RUNNING && p->up.cur == (int)s &&
					 p->up.cur_stopped)
					upgrade_next(p);
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
		if (standby_on(p) && !p->stopping && w->pid && w->holds_lock) {
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
		if (standby_on(p) && !p->stopping) {
			sb_tick(p, s, now);
			swap_tick(p, s);
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
 * Rolling upgrade (DESIGN §2): shard by shard. With workers.standby, each
 * shard is swapped through a standby of the new binary (swap_begin): the old
 * worker is stopped only once the standby is ready, and a standby that fails
 * leaves it serving. Without, the old worker is asked to stop at a safe point
 * (SIGTERM: it finishes its burst), the new binary starts on the same slot
 * and lcore id, runs recovery and reports ready; a new binary that exits or
 * does not get ready is replaced by the previous one at once. Either way the
 * upgrade stops at the first shard that fails.
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
	if (standby_on(p)) {
		LOG(NOTICE, "upgrade: shard %d: starting %s as its standby", u->cur, u->path);
		if (swap_begin(p, (unsigned int)u->cur, u->path, true, err, sizeof(err)) < 0) {
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
static bool upgrade_on_death(struct primary *p, unsigned int s, int status)
{
	struct upgrade *u = &p->up;
	struct sup_worker *w = &p->sup[s];
	char why[PORTER_CFG_PATH_LEN + 96];

	if (!u->cur_stopped) {
		/* the old worker stopped: the next start is the new binary */
		u->cur_stopped = true;
		path_copy(w->binary, u->path);
		LOG(NOTICE, "upgrade: shard %u: old worker gone, starting %s", s, u->path);
		return true;
	}
	/* the new binary died before it was ready: put the previous one back */
	path_copy(w->binary, u->prev);
	u->state = UP_FAILED;
	u->finished_ms = now_ms();
	describe_exit(why, sizeof(why), u->path, status);
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
	upgrade_next(p);
	return 0;
}

/*
 * With standbys: the worker of shard S died during a swap. The successor
 * runs the swap's target: its ready standby takes over, or the one still
 * starting once ready, or a cold start. A successor that dies before it is
 * ready puts the previous binary back.
 */
static void swap_on_death(struct primary *p, unsigned int s, int status)
{
	struct sup_worker *w = &p->sup[s];
	char why[PORTER_CFG_PATH_LEN + 96];

	if (w->swap.phase == SWAP_TAKEOVER) {
		describe_exit(why, sizeof(why), w->running, status);
		path_copy(w->binary, w->swap.prev);
		swap_done(p, s, false, "shard %u: %s before it was ready; %s serves again", s, why,
			  w->swap.prev);
		return;   /* the caller starts PREV: a standby of it, or cold */
	}
	if (w->swap.phase == SWAP_STANDBY)
		LOG(WARNING, "shard %u: the worker died while its successor's standby was starting", s);
	w->swap.phase = SWAP_TAKEOVER;
	path_copy(w->binary, w->swap.target);
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

	if (!standby_on(p) && !p->stopping && p->up.state == UP_RUNNING && p->up.cur == (int)s &&
	    upgrade_on_death(p, s, status)) {
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
	if (standby_on(p) && w->swap.phase != SWAP_NONE)
		swap_on_death(p, s, status);
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
	if (standby_on(p) && strcmp(sb->binary, w->binary) == 0 &&
	    (sb->state == SB_READY || sb->state == SB_STARTING)) {
		if (sb->state == SB_READY) {
			handover(p, s);
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
	if (standby_on(p)) {
		if (p->up.state == UP_RUNNING && p->up.cur == (int)s) {
			snprintf(err, errlen, "shard %u is being upgraded", s);
			return -1;
		}
		return swap_begin(p, s, w->binary, false, err, errlen);
	}
	if (w->pid == 0) {
		/* nothing running: start now instead of waiting out the backoff */
		w->next_start_ms = 0;
		w->backoff_ms = p->cfg->workers.restart_backoff_ms;
		return 0;
	}
	stop_worker(p, s);
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
		if (!standby_on(p))
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
			sb_clear(sb);
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
	rte_mp_action_unregister(PORTER_MP_ATTACH);
	rte_mp_action_unregister(PORTER_MP_STANDBY);
}
