/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * burst_client: N HTTP/1.1 keep-alive clients that connect within S seconds,
 * each send one request, read the whole response and then stay idle.
 * Driven by tests/bench/bench_burst.py; runs in the client namespace.
 *
 *   burst_client --dst IP:PORT --src IP[,IP...] --clients N --seconds S
 *                [--batch B] [--path /100] [--timeout S] [--hold S]
 *                [--close-seconds S]
 *
 * Clients are opened at an even rate (N/S per second; with --batch, B at once
 * every B/(N/S) seconds: a harsher burst of SYNs), round-robin over the
 * source addresses (bind(ip, 0) with IP_BIND_ADDRESS_NO_PORT, so each source
 * address has the whole ephemeral range towards the one destination).
 * When every client has its response, or failed, or --timeout after the last
 * was opened, it prints one JSON line ({"phase":"ready",...}) and holds the
 * connections until a line (or EOF) on stdin or --hold seconds, then closes
 * them all -- at once, or at an even rate over --close-seconds -- and prints
 * {"phase":"done",...}: connections the server closed while they idled are
 * counted there.
 *
 * A process may not have more open files than its hard RLIMIT_NOFILE (20000
 * here, and no CAP_SYS_RESOURCE to raise it), so the clients are split over
 * child processes of at most PER_PROC each; the parent merges their results.
 *
 * Bounded: at most 1,000,000 clients, 600 s of opening, 600 s of timeout and
 * of hold. Exit status 0 when it ran (whatever the clients' fate), 2 on usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_CLIENTS 1000000
#define MAX_PROCS 64
#define FD_SPARE 32                 /* stdio, epoll, pipes */
#define MAX_SRC 256
#define RESP_MAX 4096

enum cstate { C_NONE = 0, C_CONNECTING, C_READING, C_DONE, C_FAILED };

struct conn {
	int fd;
	uint8_t state;
	uint16_t got;               /* response bytes so far (head + body), capped */
	int32_t want;               /* head + content-length once the head is in, else -1 */
	uint64_t t_open_us;
	uint32_t connect_us;        /* open -> established */
	uint32_t total_us;          /* open -> whole response */
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* p50/p99/max of V[0..n) in ms, as a JSON object (sorts V). */
static void print_pct(const char *name, uint32_t *v, size_t n)
{
	if (n == 0) {
		printf("\"%s\":null", name);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_u32);
	printf("\"%s\":{\"n\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}", name, n,
	       v[(n - 1) / 2] / 1000.0, v[(size_t)((n - 1) * 0.99)] / 1000.0, v[n - 1] / 1000.0);
}

static void usage(void)
{
	fprintf(stderr, "usage: burst_client --dst IP:PORT --src IP[,IP...] --clients N --seconds S\n"
			"                    [--batch B] [--path /100] [--timeout S] [--hold S]\n"
			"                    [--close-seconds S]\n");
	exit(2);
}

struct opts {
	struct sockaddr_in dst, src[MAX_SRC];
	unsigned int nsrc;
	double seconds, timeout_s, hold_s, close_s;
	long batch;                         /* clients opened at once (whole run) */
	long nproc;
	char req[512];
};

/* One child's outcome after the burst; then n_connect + n_response uint32 (us). */
struct slice_result {
	long clients, opened, established, done, failed;
	long err_socket, err_bind, err_connect, err_io, err_closed, err_status;
	double open_s, ready_s;             /* since the common start */
	long n_connect, n_response;
};

/* ... and after the hold. */
struct slice_done {
	long still_open, closed_idle;
};

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static void drop(int ep, struct conn *k)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	k->fd = -1;
}

/* Idle client K got an event: data is unexpected, EOF or an error is the server closing. */
static bool idle_closed(int ep, struct conn *k, char *buf, size_t len)
{
	ssize_t r;

	if (k->fd < 0)
		return false;
	r = recv(k->fd, buf, len, 0);
	if (r == 0 || (r < 0 && errno != EAGAIN)) {
		drop(ep, k);
		return true;
	}
	return false;
}

/* N clients opened at an even rate from T0; results to RES_FD; hold until CTL_FD closes. */
static int run_slice(const struct opts *o, long n, long first, uint64_t t0, int res_fd, int ctl_fd)
{
	struct conn *cs = calloc((size_t)n, sizeof(*cs));
	uint32_t *lat = calloc((size_t)n, sizeof(*lat));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct slice_result res = { .clients = n };
	struct slice_done fin = { 0 };
	const uint64_t open_us = (uint64_t)(o->seconds * 1e6);
	const size_t rlen = strlen(o->req);
	uint64_t deadline = 0, last_open_us = 0;
	static char buf[RESP_MAX];

	if (cs == NULL || lat == NULL || ep < 0)
		return -1;
	while (res.done + res.failed < n) {
		uint64_t now = now_us();
		long target = now - t0 >= open_us ? n : (long)((double)n * (now - t0) / open_us);
		long per_batch = o->batch / o->nproc > 1 ? o->batch / o->nproc : 1;

		if (target < n)   /* whole batches only: this process's share of B at once */
			target -= target % per_batch;

		while (res.opened < target) {
			struct conn *k = &cs[res.opened];
			const struct sockaddr_in *sa = &o->src[(first + res.opened) % o->nsrc];
			int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = (uint64_t)res.opened };

			k->t_open_us = now_us();
			k->want = -1;
			k->fd = -1;
			res.opened++;
			if (fd < 0) {
				res.err_socket++, res.failed++, k->state = C_FAILED;
				continue;
			}
			setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
				close(fd);
				res.err_bind++, res.failed++, k->state = C_FAILED;
				continue;
			}
			if (connect(fd, (const struct sockaddr *)&o->dst, sizeof(o->dst)) != 0 &&
			    errno != EINPROGRESS) {
				close(fd);
				res.err_connect++, res.failed++, k->state = C_FAILED;
				continue;
			}
			k->fd = fd;
			k->state = C_CONNECTING;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		}
		if (res.opened == n && deadline == 0) {
			last_open_us = now_us();
			deadline = last_open_us + (uint64_t)(o->timeout_s * 1e6);
		}
		if (deadline && now_us() >= deadline)
			break;

		struct epoll_event evs[256];
		int ne = epoll_wait(ep, evs, 256, 1);

		for (int i = 0; i < ne; i++) {
			struct conn *k = &cs[evs[i].data.u64];

			if (k->state == C_CONNECTING) {
				int err = 0;
				socklen_t len = sizeof(err);
				struct epoll_event ev = { .events = EPOLLIN, .data.u64 = evs[i].data.u64 };

				getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err != 0 || send(k->fd, o->req, rlen, MSG_NOSIGNAL) != (ssize_t)rlen) {
					if (err)
						res.err_connect++;
					else
						res.err_io++;
					drop(ep, k);
					k->state = C_FAILED, res.failed++;
					continue;
				}
				k->connect_us = (uint32_t)(now_us() - k->t_open_us);
				res.established++;
				k->state = C_READING;
				epoll_ctl(ep, EPOLL_CTL_MOD, k->fd, &ev);
			} else if (k->state == C_READING) {
				ssize_t r = recv(k->fd, buf, sizeof(buf), 0);

				if (r <= 0) {
					if (r < 0 && errno == EAGAIN)
						continue;
					if (r == 0)
						res.err_closed++;
					else
						res.err_io++;
					drop(ep, k);
					k->state = C_FAILED, res.failed++;
					continue;
				}
				/* the head is small and comes in the first segment here */
				if (k->want < 0) {
					const char *end = memmem(buf, (size_t)r, "\r\n\r\n", 4);
					const char *cl = memmem(buf, (size_t)r, "Content-Length:", 15);

					if (end == NULL || strncmp(buf, "HTTP/1.1 200", 12) != 0) {
						res.err_status++;
						drop(ep, k);
						k->state = C_FAILED, res.failed++;
						continue;
					}
					k->want = (int32_t)(end + 4 - buf) + (cl ? atoi(cl + 15) : 0);
				}
				k->got = (uint16_t)(k->got + r > 65535 ? 65535 : k->got + r);
				if (k->got >= k->want) {
					k->total_us = (uint32_t)(now_us() - k->t_open_us);
					k->state = C_DONE;
					res.done++;
				}
			} else if (k->state == C_DONE) {
				if (idle_closed(ep, k, buf, sizeof(buf)))
					res.err_closed++;
			}
		}
	}
	uint64_t t_ready = now_us();

	res.open_s = ((last_open_us ? last_open_us : t_ready) - t0) / 1e6;
	res.ready_s = (t_ready - t0) / 1e6;
	for (long i = 0; i < n; i++)
		if (cs[i].state == C_DONE || cs[i].state == C_READING)
			lat[res.n_connect++] = cs[i].connect_us;
	if (write_all(res_fd, &res, sizeof(res)) < 0 ||
	    write_all(res_fd, lat, sizeof(*lat) * (size_t)res.n_connect) < 0)
		return -1;
	res.n_response = 0;
	for (long i = 0; i < n; i++)
		if (cs[i].state == C_DONE)
			lat[res.n_response++] = cs[i].total_us;
	if (write_all(res_fd, &res.n_response, sizeof(res.n_response)) < 0 ||
	    write_all(res_fd, lat, sizeof(*lat) * (size_t)res.n_response) < 0)
		return -1;

	/* hold: idle clients until the parent closes CTL_FD (bounded by --hold + 10 s) */
	uint64_t hold_end = now_us() + (uint64_t)((o->hold_s + 10) * 1e6);
	struct epoll_event cev = { .events = EPOLLIN, .data.u64 = UINT64_MAX };

	epoll_ctl(ep, EPOLL_CTL_ADD, ctl_fd, &cev);
	for (bool stop = false; !stop && now_us() < hold_end;) {
		struct epoll_event evs[256];
		int ne = epoll_wait(ep, evs, 256, 100);

		for (int i = 0; i < ne; i++) {
			if (evs[i].data.u64 == UINT64_MAX) {
				stop = true;
				continue;
			}
			if (idle_closed(ep, &cs[evs[i].data.u64], buf, sizeof(buf)))
				fin.closed_idle++;
		}
	}
	const uint64_t c0 = now_us(), close_us = (uint64_t)(o->close_s * 1e6);

	for (long i = 0; i < n; i++) {
		/* at an even rate: client i goes at c0 + i/n of the close time */
		uint64_t at = c0 + (close_us ? close_us * (uint64_t)i / (uint64_t)n : 0);

		while (now_us() < at)
			usleep(200);
		if (cs[i].state == C_DONE && cs[i].fd >= 0)
			fin.still_open++;
		if (cs[i].fd >= 0 && cs[i].state != C_NONE)
			close(cs[i].fd);
	}
	return write_all(res_fd, &fin, sizeof(fin));
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "src", required_argument, NULL, 's' },
		{ "clients", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "path", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "hold", required_argument, NULL, 'H' },
		{ "batch", required_argument, NULL, 'b' },
		{ "close-seconds", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	static struct opts o = { .dst = { .sin_family = AF_INET }, .seconds = 7, .timeout_s = 30,
				 .hold_s = 60 };
	const char *path = "/100";
	long clients = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': {
			char ip[64], *colon = strrchr(optarg, ':');

			if (colon == NULL || (size_t)(colon - optarg) >= sizeof(ip))
				usage();
			memcpy(ip, optarg, colon - optarg);
			ip[colon - optarg] = '\0';
			if (inet_pton(AF_INET, ip, &o.dst.sin_addr) != 1)
				usage();
			o.dst.sin_port = htons((uint16_t)atoi(colon + 1));
			break;
		}
		case 's':
			for (char *t = strtok(optarg, ","); t && o.nsrc < MAX_SRC; t = strtok(NULL, ",")) {
				o.src[o.nsrc].sin_family = AF_INET;
				if (inet_pton(AF_INET, t, &o.src[o.nsrc].sin_addr) != 1)
					usage();
				o.nsrc++;
			}
			break;
		case 'n': clients = atol(optarg); break;
		case 'S': o.seconds = atof(optarg); break;
		case 'p': path = optarg; break;
		case 't': o.timeout_s = atof(optarg); break;
		case 'H': o.hold_s = atof(optarg); break;
		case 'b': o.batch = atol(optarg); break;
		case 'C': o.close_s = atof(optarg); break;
		default: usage();
		}
	}
	if (o.dst.sin_port == 0 || o.nsrc == 0 || clients <= 0 || clients > MAX_CLIENTS ||
	    o.seconds <= 0 || o.seconds > 600 || o.timeout_s <= 0 || o.timeout_s > 600 ||
	    o.hold_s < 0 || o.hold_s > 600 || o.close_s < 0 || o.close_s > 600 || o.batch < 0 || o.batch > clients || strlen(path) > 256)
		usage();
	snprintf(o.req, sizeof(o.req), "GET %s HTTP/1.1\r\nHost: burst\r\n\r\n", path);

	/* as many files as allowed; clients split so each process stays below */
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	long per = (long)rl.rlim_cur - FD_SPARE;
	long nproc = (clients + per - 1) / per;

	if (per < 1 || nproc > MAX_PROCS) {
		fprintf(stderr, "burst_client: %ld clients need %ld processes of %ld files (at most %d)\n",
			clients, nproc, per, MAX_PROCS);
		return 1;
	}
	o.nproc = nproc;
	int res_fd[MAX_PROCS], ctl_fd[MAX_PROCS];
	pid_t pids[MAX_PROCS];
	const uint64_t t0 = now_us() + 20000;    /* the children start together */
	long first = 0;

	for (long i = 0; i < nproc; i++) {
		long n = clients / nproc + (i < clients % nproc);
		int rp[2], cp[2];

		if (pipe2(rp, O_CLOEXEC) != 0 || pipe2(cp, O_CLOEXEC) != 0) {
			perror("burst_client: pipe");
			return 1;
		}
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("burst_client: fork");
			return 1;
		}
		if (pids[i] == 0) {
			close(rp[0]);
			close(cp[1]);
			for (long j = 0; j < i; j++) {
				close(res_fd[j]);
				close(ctl_fd[j]);
			}
			while (now_us() < t0)
				usleep(1000);
			_exit(run_slice(&o, n, first, t0, rp[1], cp[0]) == 0 ? 0 : 1);
		}
		close(rp[1]);
		close(cp[0]);
		res_fd[i] = rp[0];
		ctl_fd[i] = cp[1];
		first += n;
	}

	struct slice_result sum = { 0 };
	uint32_t *conn_lat = calloc((size_t)clients, sizeof(uint32_t));
	uint32_t *resp_lat = calloc((size_t)clients, sizeof(uint32_t));
	size_t nc = 0, nr = 0;
	int lost_children = 0;

	if (conn_lat == NULL || resp_lat == NULL)
		return 1;
	for (long i = 0; i < nproc; i++) {
		struct slice_result r;

		if (read_all(res_fd[i], &r, sizeof(r)) < 0 ||
		    read_all(res_fd[i], conn_lat + nc, sizeof(uint32_t) * (size_t)r.n_connect) < 0 ||
		    read_all(res_fd[i], &r.n_response, sizeof(r.n_response)) < 0 ||
		    read_all(res_fd[i], resp_lat + nr, sizeof(uint32_t) * (size_t)r.n_response) < 0) {
			lost_children++;
			continue;
		}
		nc += (size_t)r.n_connect;
		nr += (size_t)r.n_response;
		sum.clients += r.clients, sum.opened += r.opened, sum.established += r.established;
		sum.done += r.done, sum.failed += r.failed;
		sum.err_socket += r.err_socket, sum.err_bind += r.err_bind;
		sum.err_connect += r.err_connect, sum.err_io += r.err_io;
		sum.err_closed += r.err_closed, sum.err_status += r.err_status;
		sum.open_s = r.open_s > sum.open_s ? r.open_s : sum.open_s;
		sum.ready_s = r.ready_s > sum.ready_s ? r.ready_s : sum.ready_s;
	}
	printf("{\"phase\":\"ready\",\"clients\":%ld,\"processes\":%ld,\"lost_processes\":%d,"
	       "\"opened\":%ld,\"established\":%ld,\"done\":%ld,\"failed\":%ld,\"unfinished\":%ld,"
	       "\"errors\":{\"socket\":%ld,\"bind\":%ld,\"connect\":%ld,\"io\":%ld,\"closed\":%ld,"
	       "\"status\":%ld},\"open_s\":%.3f,\"ready_s\":%.3f,",
	       clients, nproc, lost_children, sum.opened, sum.established, sum.done, sum.failed,
	       clients - sum.done - sum.failed, sum.err_socket, sum.err_bind, sum.err_connect,
	       sum.err_io, sum.err_closed, sum.err_status, sum.open_s, sum.ready_s);
	print_pct("connect_ms", conn_lat, nc);
	printf(",");
	print_pct("response_ms", resp_lat, nr);
	printf("}\n");
	fflush(stdout);

	/* hold: until a line or EOF on stdin, or --hold */
	struct pollfd pf = { .fd = 0, .events = POLLIN };
	uint64_t t_hold = now_us();

	poll(&pf, 1, (int)(o.hold_s * 1000));
	for (long i = 0; i < nproc; i++)
		close(ctl_fd[i]);
	struct slice_done fin = { 0 };

	for (long i = 0; i < nproc; i++) {
		struct slice_done d;

		if (read_all(res_fd[i], &d, sizeof(d)) == 0) {
			fin.still_open += d.still_open;
			fin.closed_idle += d.closed_idle;
		}
		close(res_fd[i]);
	}
	for (long i = 0; i < nproc; i++)
		waitpid(pids[i], NULL, 0);
	printf("{\"phase\":\"done\",\"idle_open_at_end\":%ld,\"closed_by_server_while_idle\":%ld,"
	       "\"held_s\":%.3f}\n", fin.still_open, fin.closed_idle, (now_us() - t_hold) / 1e6);
	fflush(stdout);
	free(conn_lat);
	free(resp_lat);
	return 0;
}
