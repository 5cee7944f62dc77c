/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Supervisor, process start and attach (supervisor_priv.h): where the worker
 * binary is, how a worker or standby process is started (posix_spawn on the
 * slot's lcore id, a pidfd in the epoll set), and the rte_mp handlers that
 * grant a started process its shard.
 *
 * Cold-started workers get their epoch in the attach handler (EAL's IPC
 * thread), standbys in the hand-over (main thread, supervisor_standby.c),
 * each only for the pid the supervisor started for that slot, so a stray or
 * stale process cannot attach.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "primary/primary.h"
#include "primary/supervisor_priv.h"
#include "shm/attach-t.h"
#include "shm/names.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)

/* The rte_mp handlers run in EAL's IPC thread; they need the primary. */
static struct primary *mp_primary;

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
	if (p->shards[req.shard]->tls_bytes && req.major == PORTER_LAYOUT_MAJOR && req.minor < 9) {
		/* it would take a TLS listener's ClientHellos for HTTP, and could not continue the sessions */
		rep.status = ATTACH_REFUSED;
		snprintf(rep.msg, sizeof(rep.msg), "a worker of layout %u.%u does not terminate TLS, and a listener has "
			 "tls (layout 2.9 needed)", req.major, req.minor);
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
	pthread_mutex_lock(&sup_sb_lock);
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
	pthread_mutex_unlock(&sup_sb_lock);
	return rc;
}

int sup_mp_register(struct primary *p)
{
	mp_primary = p;
	if (rte_mp_action_register(PORTER_MP_ATTACH, attach_handler) < 0 ||
	    rte_mp_action_register(PORTER_MP_STANDBY, standby_handler) < 0) {
		LOG(ERR, "rte_mp_action_register: %s", strerror(rte_errno));
		return -1;
	}
	return 0;
}

void sup_mp_unregister(void)
{
	rte_mp_action_unregister(PORTER_MP_ATTACH);
	rte_mp_action_unregister(PORTER_MP_STANDBY);
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
pid_t sup_start_child(struct primary *p, unsigned int s, const char *binary, bool standby,
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
