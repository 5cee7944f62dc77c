/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porter-worker: EAL secondary that runs one shard.
 *
 *   porter-worker --file-prefix P --shard N --lcore ID [--cpus SET] [--log-level L]
 *                 [--spin-us US] [--standby]
 *
 * Started by the supervisor of porter-primary. Attaches by name, refuses an
 * incompatible layout, asks the primary for its grant (epoch + eventfds over
 * rte_mp), recovers whatever the previous worker left in hand, reports READY
 * and serves until SIGTERM (stops between bursts), until its epoch is
 * superseded (fencing), or until the primary dies (PDEATHSIG from the fork).
 *
 * --standby: the same binary started ahead of need, on the shard's own lcore
 * id. It goes as far as it can without touching anything the shard's worker
 * owns -- EAL init, lookups, layout checks, page tables -- tells the primary
 * (rte_mp), then blocks on the hand-over eventfd. It takes no mbuf, writes
 * nothing in the shard, its rings or its areas, and never uses the lcore's
 * mempool cache until the primary has seen the old worker gone and put this
 * pid in the slot; then it continues exactly as a freshly started worker does
 * after its grant (recovery, READY, serve).
 *
 *   cold start:  EAL init -> lookup -> attach (grant) -> recover -> READY
 *   standby:     EAL init -> lookup -> prefault -> standby-ready -> [blocked]
 *                  -> hand-over (grant in the slot) -> recover -> READY
 *
 * SIGTERM (and SIGINT, which a worker ignores) is blocked until EAL init is over, so a stop request
 * during it is taken afterwards: a process killed inside rte_eal_init can
 * leave an EAL lock held (docs/PLATFORM.md).
 *
 * Exit codes: 0 stopped, 1 usage/EAL, 3 incompatible layout, 4 attach refused.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include "secondary/crash.h"
#include "secondary/crash_worker.h"
#include "secondary/http/proxy.h"
#include "secondary/tls/tls_io.h"
#include "secondary/tls/tls_pub.h"
#include "secondary/worker.h"
#include "shm/attach-t.h"
#include "shm/clock.h"
#include "shm/log.h"
#include "shm/names.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter-worker: " fmt "\n", ##__VA_ARGS__)
#define SLEEP_MS 500          /* longest block: the heartbeat must keep moving */
#define EXIT_LAYOUT 3
#define EXIT_REFUSED 4

#ifndef PORTER_WORKER_VERSION
#define PORTER_WORKER_VERSION "porter-worker"
#endif

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct args {
	const char *prefix;
	const char *cpus;
	const char *log_level;
	long shard;
	long lcore;
	long spin_us;
	bool standby;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "file-prefix", required_argument, NULL, 'p' },
		{ "shard", required_argument, NULL, 's' },
		{ "lcore", required_argument, NULL, 'l' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "spin-us", required_argument, NULL, 'S' },
		{ "standby", no_argument, NULL, 'B' },
		{ "version", no_argument, NULL, 'V' },
#ifdef PORTER_CRASH_POINTS
		{ "crash-points", no_argument, NULL, 'C' },
#endif
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->prefix = NULL;
	a->cpus = "0";
	a->log_level = "notice";
	a->shard = -1;
	a->lcore = -1;
	a->spin_us = 200;
	a->standby = false;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': a->prefix = optarg; break;
		case 's': a->shard = strtol(optarg, NULL, 10); break;
		case 'l': a->lcore = strtol(optarg, NULL, 10); break;
		case 'c': a->cpus = optarg; break;
		case 'L': a->log_level = optarg; break;
		case 'S': a->spin_us = strtol(optarg, NULL, 10); break;
		case 'B': a->standby = true; break;
		case 'V':
			printf("%s (layout %u.%u)\n", PORTER_WORKER_VERSION, PORTER_LAYOUT_MAJOR,
			       PORTER_LAYOUT_MINOR);
			exit(0);
#ifdef PORTER_CRASH_POINTS
		case 'C':
			porter_crash_list(stdout);
			exit(0);
#endif
		default:
			return -1;
		}
	}
	if (!a->prefix || a->shard < 0 || a->shard >= PORTER_MAX_SHARDS || a->lcore < 0 ||
	    a->lcore >= 128 || optind != argc)
		return -1;
	return 0;
}

static int eal_attach(const struct args *a, const char *argv0)
{
	char lcores[96], main_lcore[16];
	char *argv[16];
	int argc = 0;

	snprintf(lcores, sizeof(lcores), "%ld@(%s)", a->lcore, a->cpus);
	snprintf(main_lcore, sizeof(main_lcore), "%ld", a->lcore);
	argv[argc++] = (char *)argv0;
	argv[argc++] = "--proc-type=secondary";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--file-prefix";
	argv[argc++] = (char *)a->prefix;
	argv[argc++] = "--lcores";
	argv[argc++] = lcores;
	argv[argc++] = "--main-lcore";
	argv[argc++] = main_lcore;
	argv[argc++] = "--log-level";          /* eal.log_level: porter's own messages (USER1) included */
	argv[argc++] = (char *)a->log_level;
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "porter-worker: EAL init (secondary, prefix %s) failed: %s\n",
			a->prefix, rte_strerror(rte_errno));
		return -1;
	}
	{
		/* every log line with its time and level (shm/log.h) */
		FILE *f = porter_log_open(rte_log_cur_msg_loglevel);

		if (f != NULL)
			rte_openlog_stream(f);
	}
	return 0;
}

static struct proxy proxy;              /* the reverse proxy's private handle */
static const struct porter_proxy *proxy_conf;
static const struct porter_tls_pub *tls_pub;   /* the TLS listeners' settings (NULL: an older primary) */
static struct tls_pub_state tls_state;

static void *region(const char *name, uint32_t kind, size_t size)
{
	const struct rte_memzone *mz = rte_memzone_lookup(name);
	char err[256];

	if (mz == NULL) {
		LOG(ERR, "no shared region %s: is porter-primary running with this file prefix?", name);
		return NULL;
	}
	if (porter_shm_hdr_check(mz->addr, kind, size, err, sizeof(err)) < 0) {
		LOG(ERR, "%s: %s; refusing to attach", name, err);
		fprintf(stderr, "porter-worker: %s: %s; refusing to attach\n", name, err);
		exit(EXIT_LAYOUT);
	}
	return mz->addr;
}

static int attach(struct worker *w)
{
	struct porter_attach_req req = {
		.shard = w->shard, .pid = getpid(), .major = PORTER_LAYOUT_MAJOR,
		.minor = PORTER_LAYOUT_MINOR,
	};
	struct porter_attach_rep rep;

	for (int tries = 0; tries < 50; tries++) {
		struct rte_mp_msg msg = { 0 };
		struct rte_mp_reply reply = { 0 };
		struct timespec ts = { .tv_sec = 5 };

		snprintf(msg.name, sizeof(msg.name), "%s", PORTER_MP_ATTACH);
		msg.len_param = sizeof(req);
		memcpy(msg.param, &req, sizeof(req));
		if (rte_mp_request_sync(&msg, &reply, &ts) < 0 || reply.nb_received != 1) {
			LOG(ERR, "shard %u: attach request: no answer from the primary", w->shard);
			free(reply.msgs);
			return -1;
		}
		memcpy(&rep, reply.msgs[0].param, sizeof(rep));
		if (rep.status == ATTACH_OK && reply.msgs[0].num_fds == 2) {
			w->wake_fd = reply.msgs[0].fds[0];
			w->primary_wake_fd = reply.msgs[0].fds[1];
			w->epoch = rep.epoch;
			free(reply.msgs);
			return 0;
		}
		free(reply.msgs);
		if (rep.status != ATTACH_RETRY)
			break;
		usleep(20000);   /* the supervisor records our pid right after fork */
	}
	LOG(ERR, "shard %u: attach refused: %s", w->shard, rep.msg);
	return -1;
}

static int lookup(struct worker *w)
{
	char name[PORTER_NAME_LEN];

	w->g = region(PORTER_MZ_GLOBAL, PORTER_REGION_GLOBAL, sizeof(struct porter_global));
	if (w->g == NULL)
		return -1;
	if (w->shard >= w->g->shard_count) {
		LOG(ERR, "shard %u does not exist (the gateway has %u)", w->shard, w->g->shard_count);
		return -1;
	}
	porter_name_shard_mz(name, sizeof(name), w->shard);
	w->sh = region(name, PORTER_REGION_SHARD, sizeof(struct porter_shard));
	proxy_conf = region(PORTER_MZ_PROXY, PORTER_REGION_PROXY, sizeof(struct porter_proxy));
	if (proxy_conf == NULL)
		return -1;
	if (rte_memzone_lookup(PORTER_MZ_TLS) != NULL) {
		tls_pub = region(PORTER_MZ_TLS, PORTER_REGION_TLS, sizeof(struct porter_tls_pub));
		if (tls_pub == NULL)
			return -1;
	}
	w->pool = rte_mempool_lookup(PORTER_POOL_MBUF);
	if (w->pool == NULL) {
		LOG(ERR, "mempool %s missing", PORTER_POOL_MBUF);
		return -1;
	}
	porter_name_rx_ring(name, sizeof(name), w->shard);
	w->rx = rte_ring_lookup(name);
	porter_name_tx_ring(name, sizeof(name), w->shard);
	w->tx = rte_ring_lookup(name);
	if (w->sh == NULL || w->rx == NULL || w->tx == NULL) {
		LOG(ERR, "shard %u: shared objects missing", w->shard);
		return -1;
	}
	w->slot = &w->g->slots[w->shard];
	return 0;
}

/*
 * Before a standby waits: the shard's TCP and proxy areas, if laid out, are
 * ones this binary can take over (what tcp_ctx_attach and proxy_attach would
 * refuse after the hand-over, found while the old worker still serves).
 * Read-only.
 */
static void standby_check_areas(const struct worker *w)
{
	const struct tcp_area *t = (const void *)((const char *)w->sh + w->sh->tcp_off);
	const struct http_area *h = (const void *)((const char *)w->sh + w->sh->http_off);

	if (__atomic_load_n(&t->magic, __ATOMIC_ACQUIRE) == TCP_AREA_MAGIC &&
	    (t->tcb_size != sizeof(struct tcp_tcb) || t->max_streams != w->g->tcp.max_streams)) {
		LOG(ERR, "shard %u: TCP area laid out for %u-byte TCBs x %u, this binary has %zu x %u; "
		    "refusing to attach", w->shard, t->tcb_size, t->max_streams, sizeof(struct tcp_tcb),
		    w->g->tcp.max_streams);
		exit(EXIT_LAYOUT);
	}
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) == HTTP_AREA_MAGIC &&
	    h->sess_size != sizeof(struct http_sess)) {
		LOG(ERR, "shard %u: proxy area laid out for %u-byte sessions, this binary has %zu; "
		    "refusing to attach", w->shard, h->sess_size, sizeof(struct http_sess));
		exit(EXIT_LAYOUT);
	}
}

/* rte_memseg_walk callback: map one segment into our page tables (a read; nothing written). */
static int prefault_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	(void)msl;
	*(uint64_t *)arg += ms->len;
	for (size_t off = 0; off < ms->len; off += ms->hugepage_sz ? ms->hugepage_sz : 4096)
		(void)*(volatile const char *)((const char *)ms->addr + off);
	return 0;
}

/*
 * The standby's wait. Everything before the hand-over is read-only on shared
 * memory: the shard's worker is running. Returns 0 once the primary has put
 * our pid in the slot (w->epoch set, eventfds in w), 1 if asked to stop
 * first, -1 if the primary refused us. Called with SIGTERM and SIGINT
 * blocked; ppoll lets them in only while we sleep, so a stop request cannot
 * slip between the check and the sleep.
 */
static int standby_wait(struct worker *w, const sigset_t *sleep_mask)
{
	struct porter_standby_req req = {
		.shard = w->shard, .pid = getpid(), .major = PORTER_LAYOUT_MAJOR,
		.minor = PORTER_LAYOUT_MINOR,
	};
	struct porter_attach_rep rep = { .status = ATTACH_REFUSED };
	struct rte_mp_msg msg = { 0 };
	struct rte_mp_reply reply = { 0 };
	struct timespec ts = { .tv_sec = 5 };
	uint64_t mapped = 0;
	int handover_fd = -1;

	/* page tables for the whole shared memory now, not on the first frames after
	 * the hand-over (EAL maps with MAP_POPULATE in 22.11 already: cheap insurance) */
	rte_memseg_walk(prefault_seg, &mapped);
	snprintf(req.version, sizeof(req.version), "%s", PORTER_WORKER_VERSION);
	snprintf(msg.name, sizeof(msg.name), "%s", PORTER_MP_STANDBY);
	msg.len_param = sizeof(req);
	memcpy(msg.param, &req, sizeof(req));
	for (int tries = 0; tries < 50 && !stop_flag; tries++) {
		if (rte_mp_request_sync(&msg, &reply, &ts) < 0 || reply.nb_received != 1) {
			LOG(ERR, "shard %u: standby: no answer from the primary", w->shard);
			free(reply.msgs);
			return -1;
		}
		memcpy(&rep, reply.msgs[0].param, sizeof(rep));
		if (rep.status == ATTACH_OK && reply.msgs[0].num_fds == 3) {
			handover_fd = reply.msgs[0].fds[0];
			w->wake_fd = reply.msgs[0].fds[1];
			w->primary_wake_fd = reply.msgs[0].fds[2];
			free(reply.msgs);
			break;
		}
		free(reply.msgs);
		reply.msgs = NULL;
		if (rep.status != ATTACH_RETRY)
			break;
		usleep(20000);   /* the supervisor records our pid right after fork */
	}
	if (handover_fd < 0) {
		if (stop_flag)
			return 1;
		LOG(ERR, "shard %u: standby refused: %s", w->shard, rep.msg);
		return -1;
	}
	LOG(NOTICE, "shard %u: standby ready (%" PRIu64 " MB of shared memory mapped), waiting for "
	    "the hand-over", w->shard, mapped >> 20);
	for (;;) {
		struct pollfd pfd = { .fd = handover_fd, .events = POLLIN };
		uint64_t v;
		int rc = ppoll(&pfd, 1, NULL, sleep_mask);

		if (stop_flag) {
			LOG(NOTICE, "shard %u: standby stopping on request", w->shard);
			close(handover_fd);
			return 1;
		}
		if (rc <= 0)
			continue;   /* EINTR */
		(void)!read(handover_fd, &v, sizeof(v));
		/* the primary stores the slot's pid, then bumps the epoch, then writes
		 * the eventfd: seeing our pid, we see the epoch that goes with it */
		if (__atomic_load_n(&w->slot->pid, __ATOMIC_ACQUIRE) == getpid())
			break;
	}
	w->epoch = __atomic_load_n(&w->slot->epoch, __ATOMIC_ACQUIRE);
	close(handover_fd);
	return 0;
}

static bool fenced(const struct worker *w)
{
	return __atomic_load_n(&w->slot->epoch, __ATOMIC_ACQUIRE) != w->epoch;
}

/* Block on the eventfd until the primary has frames for us (or SLEEP_MS). */
static void sleep_until_work(struct worker *w)
{
	struct pollfd pfd = { .fd = w->wake_fd, .events = POLLIN };
	int timeout = tcp_next_timer_ms(&w->tcp), pt = proxy_next_ms(&proxy);
	uint64_t v;

	if (pt >= 0 && (timeout < 0 || pt < timeout))
		timeout = pt;
	if (timeout < 0 || timeout > SLEEP_MS)
		timeout = SLEEP_MS;
	if (w->drain_phase != PORTER_RUN && timeout > 10)
		timeout = 10;   /* the gateway stops: count the open streams (follow_drain) */

	__atomic_store_n(&w->sh->sleeping, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!w->seen_frames)
		w->sleeps_before_first++;
	if (rte_ring_empty(w->rx) && !stop_flag) {
		/* one read resets a (non-semaphore) eventfd's counter whatever it was */
		if (poll(&pfd, 1, timeout) > 0) {
			w->sh->wstats.wakeups++;
			(void)!read(w->wake_fd, &v, sizeof(v));
		}
	}
	__atomic_store_n(&w->sh->sleeping, 0, __ATOMIC_RELAXED);
}

/* porterctl streams: the primary bumped dump_req; write the dump file, then say so. */
static void serve_dump(struct worker *w)
{
	uint32_t req = __atomic_load_n(&w->sh->dump_req, __ATOMIC_ACQUIRE);
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	if (req == w->sh->dump_done)
		return;
	if (porter_name_stream_dump(path, sizeof(path), rte_eal_get_runtime_dir(), w->shard) == 0) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		f = fopen(tmp, "w");
		if (f) {
			tcp_ctx_clock(&w->tcp);   /* ages and zero-window times against now */
			tcp_dump_streams(&w->tcp, f, w->shard);
			if (fclose(f) == 0)
				rename(tmp, path);
		}
	}
	__atomic_store_n(&w->sh->dump_done, req, __ATOMIC_RELEASE);
}

/*
 * The gateway stops (porter_global.drain_phase, enum porter_drain): act on
 * each new phase once -- a successor that attaches mid-stop starts from
 * RUN and so acts on the current one -- and, while stopping, tell the
 * primary how many streams are still open (every 10 ms), after saying
 * which phase the count is for.
 */
/*
 * Upstream servers are the gateway's: the operator's state of each
 * (porter_global.srv_admin), and every shard's proxy area, read for the
 * health checks another shard runs (proxy_health.c health_owner). Read only.
 */
static void proxy_peers(struct worker *w)
{
	proxy.srv_admin = w->g->srv_admin;
	proxy.nshards = w->g->shard_count;
	for (unsigned int s = 0; s < w->g->shard_count && s < PORTER_MAX_SHARDS; s++) {
		char name[64];
		const struct rte_memzone *mz;

		porter_name_shard_mz(name, sizeof(name), s);
		mz = rte_memzone_lookup(name);
		if (mz != NULL) {
			const struct porter_shard *sh = mz->addr;

			proxy.peer[s] = (const struct http_area *)((const char *)sh + sh->http_off);
		}
	}
}

/*
 * The TLS contexts new handshakes use: built at start and again when a reload
 * published another generation (the sessions in progress keep theirs). A
 * generation whose files no longer load is logged once; the last good one stays.
 */
static void follow_tls(struct worker *w)
{
	char err[512];
	int rc;

	if (w->tcp.tls == NULL)
		return;
	rc = tls_pub_refresh(&tls_state, tls_pub, err, sizeof(err));
	if (rc > 0)
		tls_io_set_conf(&w->tcp, tls_state.cur);
	else if (rc < 0)
		LOG(ERR, "shard %u: TLS contexts of the new configuration refused, the previous ones stay: %s",
		    w->shard, err);
}

/* SIGUSR1 to the primary: it bumped porter_global.log_gen; open the access log again. */
static void follow_logs(struct worker *w)
{
	uint32_t gen = __atomic_load_n(&w->g->log_gen, __ATOMIC_ACQUIRE);

	if (gen != w->log_gen) {
		w->log_gen = gen;
		proxy_reopen_log(&proxy);
	}
}

static void follow_drain(struct worker *w)
{
	uint32_t phase = __atomic_load_n(&w->g->drain_phase, __ATOMIC_ACQUIRE);
	uint32_t now = (uint32_t)now_ms();

	if (phase == PORTER_RUN)
		return;
	if (phase != w->drain_phase) {
		uint32_t cut;

		w->tcp.draining = true;
		cut = proxy_drain(&proxy, phase);
		if (phase >= PORTER_DRAIN_FIN)
			tcp_drain(&w->tcp, phase == PORTER_DRAIN_RESET);
		if (phase == PORTER_DRAIN)
			LOG(NOTICE, "shard %u: stopping gracefully: new connections refused, idle clients "
			    "closed, %u stream(s) open", w->shard, tcp_open_streams(&w->tcp));
		else
			LOG(NOTICE, "shard %u: %s: %u exchange(s) in flight reset", w->shard,
			    phase == PORTER_DRAIN_FIN ? "drain timeout, FIN to every stream"
						      : "every stream still open reset", cut);
		w->drain_phase = phase;
		w->drain_count_ms = now;
	}
	if ((int32_t)(now - w->drain_count_ms) >= 0) {
		__atomic_store_n(&w->tcp.area->drain_left, tcp_open_streams(&w->tcp), __ATOMIC_RELAXED);
		__atomic_store_n(&w->tcp.area->drain_ack, phase, __ATOMIC_RELEASE);
		w->drain_count_ms = now + 10;
	}
}

/* Returns 1 when stopped on request, 0 when fenced off. */
static int serve(struct worker *w, long spin_us)
{
	uint64_t last_work = now_us();

	while (!stop_flag) {
		uint64_t now = now_us();
		bool worked;

		__atomic_store_n(&w->slot->heartbeat_ms, now / 1000, __ATOMIC_RELAXED);
		if (fenced(w)) {
			LOG(WARNING, "shard %u: epoch %" PRIu64 " superseded by %" PRIu64
			    "; stopping without touching the shard", w->shard, w->epoch, w->slot->epoch);
			return 0;
		}
		serve_dump(w);
		crash_worker_poll();
		proxy_poll(&proxy);
		follow_drain(w);
		follow_logs(w);
		follow_tls(w);
		worked = worker_burst(w) != 0;
		/* every change of this iteration is complete (docs/RECOVERY.md) */
		tcp_quiesce(&w->tcp);
		if (worked)
			last_work = now;
		else if (now - last_work >= (uint64_t)spin_us)
			sleep_until_work(w);
	}
	LOG(NOTICE, "shard %u: stopping on request", w->shard);
	return 1;
}

/*
 * Granted the shard: take its owner lock before touching anything
 * (struct porter_shard.owner). It is free, or its last holder died holding
 * it (EOWNERDEAD: the kernel released it; nothing it guarded needs mending
 * beyond what recovery does anyway), or the supervisor holds it for a moment.
 */
static void take_owner_lock(struct worker *w)
{
	int rc = pthread_mutex_lock(&w->sh->owner);

	if (rc == EOWNERDEAD)
		rc = pthread_mutex_consistent(&w->sh->owner);
	if (rc != 0)
		LOG(WARNING, "shard %u: owner lock: %s (the supervisor will wait for this "
		    "process's exit, not its main thread's)", w->shard, strerror(rc));
}

/*
 * Stopped on request, between bursts, nothing in hand: free the owner lock --
 * the supervisor hands the shard on at once, while this process may take
 * milliseconds more to be torn down -- and leave without running anything
 * else: no atexit handler or destructor may touch our lcore id's mempool
 * cache, which the successor uses from now on.
 */
static void __attribute__((noreturn)) release(struct worker *w)
{
	fflush(NULL);
	pthread_mutex_unlock(&w->sh->owner);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct worker w = { .stop = &stop_flag };
	struct args a;
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t stops, before;

	if (parse_args(argc, argv, &a) < 0) {
		fprintf(stderr, "usage: porter-worker --file-prefix P --shard N --lcore ID "
				"[--cpus SET] [--log-level L] [--spin-us US] [--standby]\n"
				"       (started by porter-primary; see docs)\n");
		return 1;
	}
	w.shard = (unsigned int)a.shard;
	if (getenv("PORTER_PRIMARY_PID")) {
		/* started by porter-primary: do not outlive it (it may be gone already) */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != (pid_t)strtol(getenv("PORTER_PRIMARY_PID"), NULL, 10))
			return 1;
	}
	/* a stop request during EAL init waits for its end (EAL's threads inherit the mask) */
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigprocmask(SIG_BLOCK, &stops, &before);
	sigaction(SIGTERM, &sa, NULL);
	/* the primary speaks to workers through shared memory and SIGTERM only: what a terminal or a
	 * service manager sends the whole group (^C, hangup, ^\, job control) must not end a worker --
	 * the primary's stop resets every stream through the workers before it stops them */
	{
		static const int ignored[] = { SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU,
					       SIGPIPE };

		for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
			signal(ignored[i], SIG_IGN);
	}
	if (eal_attach(&a, argv[0]) < 0)
		return 1;
	if (lookup(&w) < 0)
		return 1;
	if (a.standby) {
		int rc;

		standby_check_areas(&w);
		rc = standby_wait(&w, &before);

		if (rc != 0)
			return rc > 0 ? 0 : EXIT_REFUSED;
		sigprocmask(SIG_SETMASK, &before, NULL);
		LOG(NOTICE, "shard %u: standby taking over, epoch %" PRIu64, w.shard, w.epoch);
	} else {
		sigprocmask(SIG_SETMASK, &before, NULL);
		if (stop_flag)
			return 0;   /* asked to stop during EAL init: nothing touched yet */
		if (attach(&w) < 0)
			return EXIT_REFUSED;
	}
	take_owner_lock(&w);
	crash_worker_start();   /* test builds: crash points, armed before recovery too */
	w.stage_max = rte_ring_get_capacity(w.tx) < PORTER_STAGE_MAX ? rte_ring_get_capacity(w.tx)
									: PORTER_STAGE_MAX;
	worker_recover(&w);
	{
		int rc = tcp_ctx_attach_grant(&w.tcp, (char *)w.sh + w.sh->tcp_off, w.sh->tcp_bytes, w.g,
					      w.shard, &w, w.epoch);

		if (rc < 0) {
			LOG(ERR, "shard %u: TCP area (%" PRIu64 " bytes): %s", w.shard, w.sh->tcp_bytes,
			    strerror(-rc));
			return EXIT_LAYOUT;
		}
		if (tls_io_attach(&w.tcp, w.sh->tls_bytes ? (char *)w.sh + w.sh->tls_off : NULL,
				  w.sh->tls_bytes) < 0) {
			LOG(ERR, "shard %u: TLS area (%" PRIu64 " bytes) laid out by an incompatible primary",
			    w.shard, w.sh->tls_bytes);
			return EXIT_LAYOUT;
		}
		if (w.tcp.tls && tls_pub == NULL) {
			LOG(ERR, "shard %u: the shard has a TLS area but the primary published no TLS settings",
			    w.shard);
			return EXIT_LAYOUT;
		}
		tls_state.hooks = tls_pub ? tls_io_ticket_hooks(&tls_pub->tickets) : NULL;
		follow_tls(&w);
		if (proxy_attach(&proxy, &w.tcp, (char *)w.sh + w.sh->http_off, w.sh->http_bytes, proxy_conf,
				 w.shard, w.epoch) < 0) {
			LOG(ERR, "shard %u: proxy area (%" PRIu64 " bytes) laid out by an incompatible worker",
			    w.shard, w.sh->http_bytes);
			return EXIT_LAYOUT;
		}
		w.tcp.anomalies = w.sh->tcp_anomalies;
		w.tcp.more = w.sh->tcp_more;
		proxy.hstats = &w.sh->hstats;
		proxy.listener_uses = w.sh->listener_uses;
		proxy_peers(&w);
#ifdef PORTER_CRASH_POINTS
		/* test build: what recovery left must satisfy every invariant */
		w.tcp.area->inconsistent += tcp_check(&w.tcp, stderr);
#endif
		worker_replay(&w);
		tcp_ctx_clock(&w.tcp);
		tcp_resume(&w.tcp);
		CRASH_POINT("recovery.resumed");
		tcp_quiesce(&w.tcp);
	}

	/* READY: publish who we are, then the epoch (the supervisor's signal) */
	snprintf(w.slot->version, sizeof(w.slot->version), "%s", PORTER_WORKER_VERSION);
	__atomic_store_n(&w.slot->heartbeat_ms, now_ms(), __ATOMIC_RELAXED);
	w.slot->ready_us = now_us();
	w.ring_at_ready = rte_ring_count(w.rx);
	w.rto_at_ready = w.tcp.area->events[TEV_RTO];
	__atomic_store_n(&w.slot->worker_pid, getpid(), __ATOMIC_RELEASE);
	__atomic_store_n(&w.slot->worker_epoch, w.epoch, __ATOMIC_RELEASE);
	{
		uint64_t one = 1;

		(void)!write(w.primary_wake_fd, &one, sizeof(one));
	}
	LOG(NOTICE, "shard %u: ready, epoch %" PRIu64 ", lcore %ld", w.shard, w.epoch, a.lcore);
	{
		int asked = serve(&w, a.spin_us);

		proxy_close(&proxy);   /* the access log lines still queued */
		tls_io_detach(&w.tcp);
		tls_pub_release(&tls_state);
		if (asked)
			release(&w);
		return 0;
	}
}
