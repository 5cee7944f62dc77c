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
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "primary/devargs.h"
#include "primary/primary.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)
#define DEFAULT_CONFIG "/etc/porter/porter.conf"
#define SERVICE_EVERY_MS 1    /* while busy, look at control/pidfd/timers this often */
#define MAX_BACKOFF_MS 5      /* ports with nothing to sleep on: longest idle sleep */

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t hup_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	hup_flag = 1;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: porter-primary [-c FILE]          run the gateway (default %s)\n"
		   "       porter-primary --check-config FILE  validate FILE and exit 0/1\n"
		   "       porter-primary --version\n", DEFAULT_CONFIG);
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
	argv[argc++] = "--log-level";
	argv[argc++] = (char *)cfg->eal.log_level;
	argv[argc++] = "--log-level";
	argv[argc++] = "user1,info";
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
static void handle_events(struct primary *p, int timeout_ms, bool sleeping)
{
	struct epoll_event ev[32];
	int n = epoll_wait(p->epfd, ev, 32, timeout_ms);

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
		}
	}
}

static void service(struct primary *p, int timeout_ms, bool sleeping)
{
	static uint64_t next_link_ms;

	handle_events(p, timeout_ms, sleeping);
	supervisor_tick(p);
	neigh_tick(p);
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

	if (nt >= 0 && nt < t)
		t = nt;
	if (p->any_port_backoff) {
		/* adaptive backoff for ports with nothing to sleep on */
		*backoff_ms = *backoff_ms ? *backoff_ms * 2 : 1;
		if (*backoff_ms > MAX_BACKOFF_MS)
			*backoff_ms = MAX_BACKOFF_MS;
		if ((int)*backoff_ms < t)
			t = (int)*backoff_ms;
	}
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
	service(p, t, true);
	ports_intr_enable(p, false);
	__atomic_store_n(&p->g->primary_sleeping, 0, __ATOMIC_RELAXED);
}

static void run(struct primary *p)
{
	const uint64_t spin_us = p->cfg->dataplane.primary_spin_us;
	uint64_t last_work = now_us(), last_service = now_ms();
	unsigned int backoff_ms = 0;
	bool woke = false;

	while (!*p->stop) {
		unsigned int work;

		if (hup_flag) {
			char msg[PORTER_CFG_ERR_LEN + 128];

			hup_flag = 0;
			proxy_reload(p, msg, sizeof(msg));   /* logs the outcome */
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

/* DPDK leaves its runtime dir and hugepage files behind; remove ours. */
static void remove_leftovers(const char *prefix, const char *runtime_dir)
{
	FILE *mounts = fopen("/proc/mounts", "r");
	char line[1024];
	size_t plen = strlen(prefix);

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
				unlink(path);
			}
		}
		if (d)
			closedir(d);
	}
	if (mounts)
		fclose(mounts);
	DIR *d = runtime_dir[0] ? opendir(runtime_dir) : NULL;
	struct dirent *e;

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
	int c;

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
	if (porter_config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration ok\n", path);
		return 0;
	}

	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sh = { .sa_handler = on_hup };

		sigaction(SIGHUP, &sh, NULL);   /* reload routes, upstreams, http */
	}

	memset(p, 0, sizeof(*p));
	p->cfg = &cfg;
	p->stop = &stop_flag;
	p->nshards = cfg.workers.count;
	p->ctl_fd = -1;
	p->primary_wake_fd = -1;

	if (eal_start(&cfg, argv[0]) < 0)
		return 1;
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0 || shm_create(p) < 0 || ports_init(p) < 0)
		goto fail;
	if (epoll_add(p->epfd, p->primary_wake_fd, EV_DATA(EV_PRIMARY_WAKE, 0)) < 0 ||
	    ports_epoll_add(p) < 0)
		goto fail;
	if (control_init(p) < 0 || owner_watch_init(p) < 0 || supervisor_init(p, argv[0]) < 0)
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
	neigh_flush_all(p);
	ports_stop(p);
	rte_eal_cleanup();
	remove_leftovers(cfg.eal.file_prefix, runtime_dir);
	return p->exit_code;
}
