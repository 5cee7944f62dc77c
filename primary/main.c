/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porter-primary: EAL primary, owner of the ports and of every shared object,
 * supervisor of the workers, control socket.
 *
 *   porter-primary [-c FILE]         run (default /etc/porter/porter.conf)
 *   porter-primary --check-config FILE
 *
 * Main loop: poll RX and the shard TX rings while there is work; after
 * dataplane.primary_spin_us without any, sleep in epoll on what tells of
 * frames -- the ports' RX interrupt fds (net_tap), the drivers' own
 * sockets (net_af_packet, net_af_xdp: see port.c), or, for a port with
 * neither (net_memif in DPDK 22.11), a timeout of 1..5 ms -- and on the
 * "primary wake" eventfd the workers write, the workers' pidfds and the
 * control socket. Signals only set a flag (STYLE 16).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>
#include <rte_ring.h>

#include "primary/devargs.h"
#include "primary/primary.h"
#include "primary/reaper.h"
#include "shm/log.h"
#include "shm/tcp-t.h"   /* tcp_area: the shards' answers to a stop */

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)
#define DEFAULT_CONFIG "/etc/porter/porter.conf"
#define SERVICE_EVERY_MS 1    /* while busy, look at control/pidfd/timers this often */
#define MAX_BACKOFF_MS 5      /* ports with nothing to sleep on: longest idle sleep */

/*
 * Signals (docs/OPERATIONS.md, "Signals"), as nginx's master takes them:
 * TERM and INT stop fast (every stream reset), QUIT stops gracefully (the
 * drain below), HUP reloads, USR1 has the workers reopen their access logs.
 * Every other signal whose default would end or stop the process is
 * caught and logged as ignored; crash signals keep their default, and the
 * reaper (reaper.c) cleans up after them.
 */
static volatile sig_atomic_t stop_flag;     /* leave the main loop now */
static volatile sig_atomic_t fast_flag;     /* TERM, INT, porterctl stop */
static volatile sig_atomic_t quit_flag;     /* QUIT, porterctl drain */
static volatile sig_atomic_t hup_flag;
static volatile sig_atomic_t usr1_flag;
static volatile sig_atomic_t ignored_sig;

static void on_signal(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		fast_flag = 1;
		break;
	case SIGQUIT:
		quit_flag = 1;
		break;
	case SIGHUP:
		hup_flag = 1;
		break;
	case SIGUSR1:
		usr1_flag = 1;
		break;
	default:
		ignored_sig = sig;
		break;
	}
}

static void install_signals(void)
{
	static const int handled[] = {
		SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1,
		/* ignored (logged): their default would end or stop the gateway */
		SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGPOLL, SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU,
		SIGXCPU, SIGXFSZ, SIGPWR, SIGSTKFLT,
	};
	/* a handler, not SIG_IGN: workers spawned from here must not inherit an ignored signal */
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaction(handled[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);   /* write errors are handled where they happen */
}

/*
 * The real-time signals still at their default (which would end the
 * gateway), once the ports exist: the tap driver takes a free one (one
 * whose handler is SIG_DFL) for its RX trigger while it probes, in EAL init.
 */
static void install_rt_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal }, old;

	sigemptyset(&sa.sa_mask);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO))
			sigaction(sig, &sa, NULL);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: porter-primary [-c FILE]          run the gateway (default %s)\n"
		   "       porter-primary --check-config FILE  validate FILE and exit 0/1\n"
		   "       porter-primary --version\n", DEFAULT_CONFIG);
}

/* From here on every log line carries its time and level (shm/log.h). */
static void log_stream(void)
{
	FILE *f = porter_log_open(rte_log_cur_msg_loglevel);

	if (f != NULL)
		rte_openlog_stream(f);
}

static int eal_start(const struct porter_config *cfg, const char *argv0)
{
	static char devices[PORTER_CFG_MAX_PORTS][PORTER_CFG_PATH_LEN + 64];
	char lcores[96], main_lcore[16], cpus[64];
	char *argv[32 + 2 * PORTER_CFG_MAX_PORTS];
	int argc = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (cfg->eal.cpus[0])
		snprintf(cpus, sizeof(cpus), "%s", cfg->eal.cpus);
	else
		snprintf(cpus, sizeof(cpus), "0-%ld", ncpu > 0 ? ncpu - 1 : 0);
	snprintf(lcores, sizeof(lcores), "%u@(%s)", cfg->eal.lcore_base, cpus);
	snprintf(main_lcore, sizeof(main_lcore), "%u", cfg->eal.lcore_base);
	argv[argc++] = (char *)argv0;
	argv[argc++] = "--proc-type=primary";
	argv[argc++] = "--no-pci";               /* never probe the machine's own NICs */
	argv[argc++] = "--file-prefix";
	argv[argc++] = (char *)cfg->eal.file_prefix;
	argv[argc++] = "--lcores";
	argv[argc++] = lcores;
	argv[argc++] = "--main-lcore";
	argv[argc++] = main_lcore;
	argv[argc++] = "--log-level";          /* porter's own messages (USER1) included */
	argv[argc++] = (char *)cfg->eal.log_level;
	for (unsigned int i = 0; i < cfg->port_count; i++) {
		/* the device string, with porter's defaults for what it leaves out */
		devargs_with_defaults(cfg->ports[i].device, devices[i], sizeof(devices[i]));
		argv[argc++] = "--vdev";
		argv[argc++] = devices[i];
	}
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "porter-primary: EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	log_stream();
	return 0;
}

static int epoll_add(int epfd, int fd, uint64_t data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void drain_eventfd(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));   /* one read resets a (non-semaphore) eventfd */
}

/* SLEEPING: the primary blocked here for want of work (idle_sleep), not a
 * look-around between bursts, where the drivers' sockets are readable
 * anyway and say nothing new. */
static void handle_events(struct primary *p, int64_t timeout_us, bool sleeping)
{
	static bool no_pwait2;   /* epoll_pwait2 refused (a kernel before 5.11, a seccomp filter) */
	struct epoll_event ev[32];
	int n = -1;

	if (timeout_us != 0 && !no_pwait2) {
		/* microseconds: a muted port's sleeps are 20 us and up (pmd_wake.h) */
		struct timespec ts = { .tv_sec = timeout_us / 1000000, .tv_nsec = (timeout_us % 1000000) * 1000 };

		n = epoll_pwait2(p->epfd, ev, 32, timeout_us < 0 ? NULL : &ts, NULL);
		if (n < 0 && errno != EINTR) {
			no_pwait2 = true;
			LOG(WARNING, "epoll_pwait2: %s; sleeps are rounded up to whole milliseconds (a muted "
			    "port is polled every millisecond or less instead of every %u us)", strerror(errno),
			    PMD_MUTE_FIRST_US);
		}
	}
	if (timeout_us == 0 || no_pwait2)
		n = epoll_wait(p->epfd, ev, 32, timeout_us <= 0 ? (int)timeout_us : (int)((timeout_us + 999) / 1000));

	for (int i = 0; i < n; i++) {
		uint32_t kind = ev[i].data.u64 >> 32, idx = (uint32_t)ev[i].data.u64;

		switch (kind) {
		case EV_PRIMARY_WAKE:
			drain_eventfd(p->primary_wake_fd);
			break;
		case EV_RX_INTR:
			break;   /* level-triggered tap fd: the next poll reads it */
		case EV_PMD_FD:
			/* level-triggered too: the next poll takes the frames */
			if (sleeping)
				ports_pmd_woke(p, idx, ev[i].events);
			break;
		case EV_PIDFD:
			supervisor_on_pidfd(p, idx);
			break;
		case EV_SB_PIDFD:
			supervisor_on_sb_pidfd(p, idx);
			break;
		case EV_DEPART_PIDFD:
			supervisor_on_departed(p, idx);
			break;
		case EV_CTL_LISTEN:
			control_on_listen(p);
			break;
		case EV_CTL_CLIENT:
			control_on_client(p, idx);
			break;
		case EV_METRICS_LISTEN:
			metrics_on_listen(p);
			break;
		case EV_METRICS_CLIENT:
			metrics_on_client(p, idx);
			break;
		}
	}
}

/* ---- stopping (enum porter_drain; docs/OPERATIONS.md "Stopping") ---- */

#define DRAIN_FIN_MS   1000   /* after the FINs of DRAIN_FIN, until the last resets */
#define DRAIN_RESET_MS 300    /* after the resets, until the gateway exits anyway */
#define DRAIN_FLUSH_MS 50     /* every stream closed: the data path runs this long still */

static struct {
	uint32_t phase;          /* the phase published in porter_global.drain_phase */
	uint64_t until_ms;       /* when it gives way to the next */
	uint64_t start_ms;
	uint64_t done_ms;        /* when every shard first said it had no stream open */
} drain;

static void drain_to(struct primary *p, uint32_t phase, uint64_t until_ms)
{
	static const char *const what[] = {
		[PORTER_DRAIN] = "stopping gracefully: new connections refused, idle keep-alive clients "
				 "closed; waiting for exchanges in flight",
		[PORTER_DRAIN_FIN] = "drain timeout: exchanges still in flight reset, FIN to every other stream",
		[PORTER_DRAIN_RESET] = "resetting every stream still open",
	};

	if (drain.phase == PORTER_RUN) {
		drain.start_ms = now_ms();
		notify_systemd("STOPPING=1");
	}
	drain.phase = phase;
	drain.done_ms = 0;
	drain.until_ms = until_ms;
	__atomic_store_n(&p->g->drain_phase, phase, __ATOMIC_RELEASE);
	for (unsigned int s = 0; s < p->nshards; s++)
		wake_shard(p, s);
	LOG(NOTICE, "%s", what[phase]);
}

/* Signals and porterctl's stop requests, then the stop's phases; sets stop_flag at the end. */
static void drain_tick(struct primary *p)
{
	uint64_t now = now_ms();
	uint32_t left = 0;
	bool acked = true;

	if (usr1_flag) {
		usr1_flag = 0;
		__atomic_fetch_add(&p->g->log_gen, 1, __ATOMIC_RELEASE);
		for (unsigned int s = 0; s < p->nshards; s++)
			wake_shard(p, s);
		LOG(NOTICE, "SIGUSR1: workers reopen their access logs");
	}
	if (ignored_sig) {
		int sig = ignored_sig;

		ignored_sig = 0;
		LOG(NOTICE, "signal %d (%s) ignored", sig, strsignal(sig));
	}
	/* porterctl stop and drain (control.c) ask as the signals do */
	if (p->stop_request == STOP_FAST)
		fast_flag = 1;
	else if (p->stop_request == STOP_GRACEFUL)
		quit_flag = 1;
	p->stop_request = STOP_NONE;
	if (fast_flag && drain.phase != PORTER_DRAIN_RESET) {
		fast_flag = 0;
		drain_to(p, PORTER_DRAIN_RESET, now + DRAIN_RESET_MS);
	}
	if (quit_flag) {
		quit_flag = 0;
		if (drain.phase == PORTER_RUN)
			drain_to(p, PORTER_DRAIN, now + p->cfg->workers.drain_timeout_ms);
	}
	if (drain.phase == PORTER_RUN)
		return;
	for (unsigned int s = 0; s < p->nshards; s++) {
		const struct tcp_area *a = shard_tcp_area(p->shards[s]);

		if (a == NULL || p->g->slots[s].state != SLOT_READY)
			continue;   /* no worker to wait for (none yet, or one restarting): it cannot answer */
		if (__atomic_load_n(&a->drain_ack, __ATOMIC_ACQUIRE) != drain.phase)
			acked = false;
		else
			left += __atomic_load_n(&a->drain_left, __ATOMIC_RELAXED);
	}
	if (acked && left == 0) {
		/* the last FINs and resets are in the TX rings: a few more milliseconds of data path */
		if (drain.done_ms == 0) {
			drain.done_ms = now;
			LOG(NOTICE, "every stream closed %" PRIu64 " ms after the stop began", now - drain.start_ms);
		} else if (now - drain.done_ms >= DRAIN_FLUSH_MS) {
			stop_flag = 1;
		}
		return;
	}
	drain.done_ms = 0;   /* a stream opened again (a successor's count): the flush starts over */
	if (now >= drain.until_ms) {
		if (drain.phase == PORTER_DRAIN)
			drain_to(p, PORTER_DRAIN_FIN, now + DRAIN_FIN_MS);
		else if (drain.phase == PORTER_DRAIN_FIN)
			drain_to(p, PORTER_DRAIN_RESET, now + DRAIN_RESET_MS);
		else if (now >= drain.until_ms + DRAIN_FLUSH_MS) {
			LOG(WARNING, "stopping with %u stream(s) still counted open%s", left,
			    acked ? "" : " (a shard did not answer)");
			stop_flag = 1;
		}
	}
}

/* TIMEOUT_US: how long epoll may wait, -1 for ever. */
static void service(struct primary *p, int64_t timeout_us, bool sleeping)
{
	static uint64_t next_link_ms;

	handle_events(p, timeout_us, sleeping);
	drain_tick(p);
	metrics_tick(p);
	supervisor_tick(p);
	neigh_tick(p);
	tickets_tick(p);
	if (now_ms() >= next_link_ms) {
		ports_link_refresh(p);
		ports_pmd_stats(p);
		next_link_ms = now_ms() + 1000;
	}
}

/* Sleep until a frame, a worker, a child or a client needs us. */
static void idle_sleep(struct primary *p, unsigned int *backoff_ms)
{
	int t = supervisor_timeout_ms(p), nt = neigh_timeout_ms(p);
	int64_t t_us;

	if (nt >= 0 && nt < t)
		t = nt;
	if (drain.phase != PORTER_RUN && (t < 0 || t > 10))
		t = 10;   /* stopping: look at the shards' counts (drain_tick) */
	if (p->any_port_backoff) {
		/* adaptive backoff for ports with nothing to sleep on */
		*backoff_ms = *backoff_ms ? *backoff_ms * 2 : 1;
		if (*backoff_ms > MAX_BACKOFF_MS)
			*backoff_ms = MAX_BACKOFF_MS;
		if ((int)*backoff_ms < t)
			t = (int)*backoff_ms;
	}
	if (p->mute_wait_us)
		ports_pmd_after_poll(p);   /* a muted port that received while we were busy: armed again */
	__atomic_store_n(&p->g->primary_sleeping, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ports_intr_enable(p, true);
	if (dataplane_tx_pending(p))
		t = 0;   /* a worker enqueued before it could see the flag */
	if (ports_tx_backlog(p) && t != 0)
		t = 1;   /* frames wait for a device's TX queue: try again soon (it drains by itself) */
	/* RX needs no such check: interrupt fds and driver sockets are
	 * level-triggered on the ring's contents, so a frame that came after
	 * the last empty poll makes this epoll_wait return at once */
	t_us = t < 0 ? -1 : (int64_t)t * 1000;
	if (p->mute_wait_us && (t_us < 0 || t_us > (int64_t)p->mute_wait_us))
		t_us = p->mute_wait_us;   /* a muted port: its frames come by polling, soon (pmd_wake.h) */
	service(p, t_us, true);
	ports_intr_enable(p, false);
	__atomic_store_n(&p->g->primary_sleeping, 0, __ATOMIC_RELAXED);
}

static bool all_shards_ready(const struct primary *p)
{
	for (unsigned int s = 0; s < p->nshards; s++)
		if (p->g->slots[s].state != SLOT_READY)
			return false;
	return true;
}

static void run(struct primary *p)
{
	const uint64_t spin_us = p->cfg->dataplane.primary_spin_us;
	uint64_t last_work = now_us(), last_service = now_ms();
	unsigned int backoff_ms = 0;
	bool woke = false;

	bool ready = false;

	while (!*p->stop) {
		unsigned int work;

		if (hup_flag) {
			char msg[PORTER_CFG_ERR_LEN + 128];

			hup_flag = 0;
			if (drain.phase == PORTER_RUN)
				notify_systemd("RELOADING=1");
			proxy_reload(p, msg, sizeof(msg));   /* logs the outcome */
			if (drain.phase == PORTER_RUN)
				notify_systemd("READY=1");
		}
		if (!ready && drain.phase == PORTER_RUN && all_shards_ready(p)) {
			/* systemd (Type=notify): the gateway serves once every shard has its worker */
			ready = true;
			notify_systemd("READY=1\nSTATUS=serving");
		}
		work = dataplane_poll(p);
		if (__atomic_exchange_n(&p->owner_watch_pending, 0, __ATOMIC_ACQ_REL)) {
			/* a worker let go of its shard: its standby takes over now */
			service(p, 0, false);
			last_service = now_ms();
		}
		if (woke) {
			ports_pmd_after_poll(p);   /* did the drivers' sockets wake us for frames? */
			woke = false;
		}
		if (work) {
			last_work = now_us();
			backoff_ms = 0;
		} else if (now_us() - last_work >= spin_us) {
			idle_sleep(p, &backoff_ms);
			woke = true;
			last_service = now_ms();
			continue;
		}
		if (now_ms() - last_service >= SERVICE_EVERY_MS) {
			service(p, 0, false);
			last_service = now_ms();
		}
	}
}

/* May this process create or write FILE (its directory exists and is writable; the file, if there, too)? */
static const char *unwritable(const char *file)
{
	char dir[PORTER_CFG_PATH_LEN];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", file);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (access(dir, F_OK) != 0)
		return "its directory does not exist";
	if (access(dir, W_OK | X_OK) != 0 && access(file, F_OK) != 0)
		return "its directory is not writable";
	if (access(file, F_OK) == 0 && access(file, W_OK) != 0)
		return "it is not writable";
	return NULL;
}

/*
 * --check-config, as nginx -t: every error of the file in one run, then what
 * needs the file system -- the worker binary, the access log, the control
 * socket's directory -- as the gateway would find them at start.
 */
/*
 * listeners[i].tls is read and checked (certificates, keys, suites: config_tls.c),
 * but the workers do not terminate TLS yet (issue 14): a gateway that started
 * would answer those ports in plain text. Refused, as a config error.
 */
static int check_config(const char *path, struct porter_config *cfg)
{
	static char errs[16384];
	char bin[PATH_MAX];
	unsigned int n = 0;
	const char *why;

	if (porter_config_check(path, cfg, errs, sizeof(errs), &n) < 0) {
		fprintf(stderr, "%s\n%s: %u error%s\n", errs, path, n, n == 1 ? "" : "s");
		return 1;
	}
	if (supervisor_find_worker(cfg->workers.binary, bin, sizeof(bin)) != 0) {
		fprintf(stderr, "%s: workers.binary: cannot find an executable \"%s\" (looked next to porter-primary, "
			"in ../secondary/ and in PATH)\n", path, cfg->workers.binary);
		n++;
	}
	if (cfg->http.access_log[0] && (why = unwritable(cfg->http.access_log)) != NULL) {
		fprintf(stderr, "%s: http.access_log: cannot write %s: %s\n", path, cfg->http.access_log, why);
		n++;
	}
	{
		/* the gateway creates the socket's directory (one level) if it is missing */
		char dir[PORTER_CFG_PATH_LEN];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", cfg->control.socket);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (access(dir, F_OK) == 0 ? access(dir, W_OK | X_OK) != 0 : (why = unwritable(dir)) != NULL) {
				fprintf(stderr, "%s: control.socket: cannot create %s: the directory %s cannot be "
					"written or created\n", path, cfg->control.socket, dir);
				n++;
			}
		}
	}
	if (n) {
		fprintf(stderr, "%s: %u error%s\n", path, n, n == 1 ? "" : "s");
		return 1;
	}
	printf("%s: configuration ok\n", path);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct primary prim;
	static struct porter_config cfg;
	struct primary *p = &prim;
	const char *path = DEFAULT_CONFIG;
	char err[PORTER_CFG_ERR_LEN], runtime_dir[PATH_MAX] = "";
	bool check_only = false;
	int c, reaper_fd;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			path = optarg;
			check_only = true;
			break;
		case 'V':
			printf("porter-primary %s (layout %u.%u)\n", PORTER_VERSION, PORTER_LAYOUT_MAJOR,
			       PORTER_LAYOUT_MINOR);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check_only)
		return check_config(path, &cfg);
	if (porter_config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}

	install_signals();
	/* timed sleeps end when due, not up to 50 us later: a muted port's are 20 us (pmd_wake.h) */
	prctl(PR_SET_TIMERSLACK, 1ul);

	memset(p, 0, sizeof(*p));
	p->cfg = &cfg;
	p->stop = &stop_flag;
	p->nshards = cfg.workers.count;
	p->ctl_fd = -1;
	p->primary_wake_fd = -1;

	reaper_fd = reaper_start(cfg.eal.file_prefix);
	if (reaper_fd < 0)
		LOG(WARNING, "no reaper (%s): files are removed on a clean exit only", strerror(errno));
	if (eal_start(&cfg, argv[0]) < 0)
		return 1;
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	reaper_arm(reaper_fd, runtime_dir);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0 || shm_create(p) < 0 || ports_init(p) < 0)
		goto fail;
	if (epoll_add(p->epfd, p->primary_wake_fd, EV_DATA(EV_PRIMARY_WAKE, 0)) < 0 ||
	    ports_epoll_add(p) < 0)
		goto fail;
	install_rt_signals();
	/* packet capture (dpdk-pdump, dpdk-dumpcap) against the running gateway: this registers
	 * the multi-process action they call; until one does, the ports' bursts carry no callback */
	if (rte_pdump_init() < 0)
		LOG(WARNING, "packet capture unavailable: rte_pdump_init: %s", rte_strerror(rte_errno));
	if (control_init(p) < 0 || metrics_init(p) < 0 || owner_watch_init(p) < 0 ||
	    supervisor_init(p, argv[0]) < 0)
		goto fail;
	LOG(NOTICE, "porter-primary %s: %u port(s), %u shard(s), control socket %s", PORTER_VERSION,
	    p->nports, p->nshards, cfg.control.socket);

	run(p);
	LOG(NOTICE, "stopping%s", p->exit_code ? " (fatal error)" : "");
	goto out;
fail:
	p->exit_code = 1;
out:
	supervisor_stop_all(p);
	owner_watch_stop(p);   /* after the workers: an armed watcher has returned by then */
	control_close(p);
	metrics_close(p);
	neigh_flush_all(p);
	ports_stop(p);
	rte_pdump_uninit();
	rte_eal_cleanup();
	leftovers_remove(cfg.eal.file_prefix, runtime_dir, false);
	return p->exit_code;
}
