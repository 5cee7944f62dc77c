/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porter-loadgen: HTTP/1.1 load generator + fixed-response backend on porter's
 * TCP stack, one DPDK process of its own (see loadgen.h).
 *
 *   porter-loadgen --file-prefix P --vdev DEV [--lcore ID] [--cpu N]
 *                  [--mac M] [--client-ip A] [--backend-ip A] [--backend-port N]
 *                  [--target A:PORT] [--peer-mac M] [--max-streams N] [--trace]
 *
 * EAL always gets --no-pci and the given --file-prefix. DEV is the far end of
 * porter's port, e.g. net_memif0,role=client,socket=/tmp/x/memif.sock,id=0.
 * After the port is up and porter's MAC is known (ARP, or --peer-mac) it
 * prints {"event":"ready",...} and reads commands, one per line, on stdin:
 *
 *   run [conns=64] [seconds=10] [warmup=1] [tail=0.5] [path=/100] [close=0]
 *       [verify=0] [requests=0] [timeout_ms=5000]
 *       -> {"event":"start"} when the measured window opens,
 *          {"event":"end",...} with the window's figures when it closes,
 *          {"event":"done",...} once the connections are closed again
 *   status  -> {"event":"status",...} running totals
 *   quit    (or end of input, or SIGTERM/SIGINT)
 *
 * `path=/N` asks the backend for an N-byte body; `requests=K` stops after K
 * requests (the window then ends when they are answered); `verify=1` checks
 * every body byte. Between runs it polls slowly (sleeps 200 us when idle) and
 * keeps serving porter's pooled upstream connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "shm/hash.h"
#include "tests/bench/loadgen/loadgen.h"

#define NB_MBUFS   32767
#define MBUF_CACHE 256
#define NB_DESC    1024

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct opts {
	const char *prefix, *vdev, *log_level;
	unsigned int lcore;
	int cpu;
	uint32_t max_streams;
};

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

static void fmt_mac(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: porter-loadgen --file-prefix P --vdev DEV [--lcore ID] [--cpu N] [--mac M]\n"
		"                      [--client-ip A] [--backend-ip A] [--backend-port N]\n"
		"                      [--target A:PORT] [--peer-mac M] [--max-streams N] [--log-level L]\n"
		"                      [--trace]\n"
		"       then commands on stdin: run k=v..., status, quit (see the source header)\n");
}

static int parse_args(int argc, char **argv, struct opts *o, struct lg *lg)
{
	static const struct option lo[] = {
		{ "file-prefix", required_argument, NULL, 'p' },
		{ "vdev", required_argument, NULL, 'v' },
		{ "lcore", required_argument, NULL, 'l' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "mac", required_argument, NULL, 'm' },
		{ "client-ip", required_argument, NULL, 'C' },
		{ "backend-ip", required_argument, NULL, 'B' },
		{ "backend-port", required_argument, NULL, 'P' },
		{ "target", required_argument, NULL, 't' },
		{ "peer-mac", required_argument, NULL, 'M' },
		{ "max-streams", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "trace", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->prefix = NULL;
	o->vdev = NULL;
	o->log_level = "notice";
	o->lcore = 30;
	o->cpu = -1;
	o->max_streams = 65536;
	parse_mac("02:6c:67:00:00:01", lg->mac);
	parse_ip("10.90.0.1", &lg->client_ip);
	parse_ip("10.90.0.3", &lg->backend_ip);
	parse_ip("10.90.0.2", &lg->target_ip);
	lg->backend_port = 8081;
	lg->target_port = 80;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o->prefix = optarg; break;
		case 'v': o->vdev = optarg; break;
		case 'l': o->lcore = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'c': o->cpu = atoi(optarg); break;
		case 'L': o->log_level = optarg; break;
		case 'T': lg->trace = true; break;
		case 's': o->max_streams = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'P': lg->backend_port = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'm':
			if (parse_mac(optarg, lg->mac) < 0)
				return -1;
			break;
		case 'M':
			if (parse_mac(optarg, lg->peer_mac) < 0)
				return -1;
			lg->peer_known = true;
			break;
		case 'C':
			if (parse_ip(optarg, &lg->client_ip) < 0)
				return -1;
			break;
		case 'B':
			if (parse_ip(optarg, &lg->backend_ip) < 0)
				return -1;
			break;
		case 't': {
			char ip[64], *colon;

			snprintf(ip, sizeof(ip), "%s", optarg);
			colon = strrchr(ip, ':');
			if (colon == NULL)
				return -1;
			*colon = '\0';
			if (parse_ip(ip, &lg->target_ip) < 0)
				return -1;
			lg->target_port = (uint16_t)strtoul(colon + 1, NULL, 10);
			break;
		}
		default:
			return -1;
		}
	}
	if (o->prefix == NULL || o->vdev == NULL || optind != argc || o->max_streams < 64)
		return -1;
	return 0;
}

static int eal_start(const struct opts *o, const char *argv0)
{
	char lcores[64];
	char *argv[16];
	int argc = 0;

	if (o->cpu >= 0)
		snprintf(lcores, sizeof(lcores), "%u@%d", o->lcore, o->cpu);
	else
		snprintf(lcores, sizeof(lcores), "%u", o->lcore);
	argv[argc++] = (char *)argv0;
	argv[argc++] = "--proc-type=primary";
	argv[argc++] = "--no-pci";               /* never probe the machine's own NICs */
	argv[argc++] = "--file-prefix";
	argv[argc++] = (char *)o->prefix;
	argv[argc++] = "--lcores";
	argv[argc++] = lcores;
	argv[argc++] = "--vdev";
	argv[argc++] = (char *)o->vdev;
	argv[argc++] = "--log-level";
	argv[argc++] = (char *)o->log_level;
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "porter-loadgen: EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int port_start(struct lg *lg, const char *vdev)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t n = strcspn(vdev, ",");
	struct rte_eth_conf conf = { 0 };
	uint16_t nb_rx = NB_DESC, nb_tx = NB_DESC;
	int rc;

	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, vdev, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, &lg->port_id) != 0) {
		fprintf(stderr, "porter-loadgen: no ethdev %s\n", name);
		return -1;
	}
	rc = rte_eth_dev_configure(lg->port_id, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(lg->port_id, &nb_rx, &nb_tx);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(lg->port_id, 0, nb_rx, rte_eth_dev_socket_id(lg->port_id),
					    NULL, lg->pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(lg->port_id, 0, nb_tx, rte_eth_dev_socket_id(lg->port_id),
					    NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(lg->port_id);
	if (rc < 0) {
		fprintf(stderr, "porter-loadgen: port %s: %s\n", name, rte_strerror(-rc));
		return -1;
	}
	return 0;
}

/* The stack's view of the world: one shard, RETA all zeros, two addresses on one port. */
static int stack_init(struct lg *lg, uint32_t max_streams)
{
	struct porter_global *g = rte_zmalloc("lg_global", sizeof(*g), PORTER_CACHE_LINE);
	struct porter_tcp_params *p;
	uint64_t bytes = tcp_area_bytes(max_streams);

	if (g == NULL)
		return -1;
	lg->g = g;
	g->shard_count = 1;
	g->port_count = 2;
	memcpy(g->rss_key, porter_rss_key, sizeof(g->rss_key));
	for (unsigned int i = 0; i < 2; i++) {
		struct porter_port_info *pi = &g->ports[i];

		pi->port_id = lg->port_id;
		pi->mtu = 1500;
		memcpy(pi->mac, lg->mac, 6);
		pi->prefix_len = 24;
		pi->up = 1;
		pi->ipv4 = i == LG_ADDR_CLIENT ? lg->client_ip : lg->backend_ip;
		snprintf(pi->name, sizeof(pi->name), "%s", i == LG_ADDR_CLIENT ? "client" : "backend");
	}
	/* porter's defaults (config/config.h), but a short TIME-WAIT: the client
	 * reuses its ports fast, and only its own 4-tuples are at stake */
	p = &g->tcp;
	p->max_streams = max_streams;
	p->syn_backlog = 4096;
	p->cc = TCP_CC_CUBIC;
	p->nodelay = 1;
	p->sack = 1;
	p->timestamps = 1;
	p->window_scaling = 1;
	p->syncookies = 1;
	p->keepalive = 0;
	p->rcv_buf = 262144;
	p->snd_buf = 262144;
	p->delack_ms = 40;
	p->delack_short_ms = 4;
	p->rto_initial_ms = 1000;
	p->rto_min_ms = 200;
	p->rto_max_ms = 60000;
	p->max_retries = 15;
	p->syn_retries = 5;
	p->time_wait_ms = 1000;
	p->fin_wait2_ms = 10000;
	p->keepalive_idle_s = 7200;
	p->keepalive_interval_s = 75;
	p->keepalive_count = 9;
	p->challenge_ack_limit = 1000;
	p->ephemeral_lo = 10000;
	p->ephemeral_hi = 65000;
	g->listeners[0].port = lg->backend_port;
	g->listeners[0].app = TAPP_TEST;

	lg->area = rte_zmalloc("lg_tcp", bytes, PORTER_CACHE_LINE);
	lg->role = rte_zmalloc("lg_role", max_streams, 0);
	lg->slot_of = rte_zmalloc("lg_slot", (size_t)max_streams * sizeof(uint32_t), 0);
	lg->bk = rte_zmalloc("lg_bk", (size_t)max_streams * sizeof(*lg->bk), 0);
	lg->pattern = rte_malloc("lg_pattern", LG_MAX_BODY, 0);
	if (!lg->area || !lg->role || !lg->slot_of || !lg->bk || !lg->pattern)
		return -1;
	for (uint32_t i = 0; i < LG_MAX_BODY; i++)
		lg->pattern[i] = tcp_source_byte(i);
	if (tcp_ctx_attach(&lg->tcp, lg->area, bytes, g, 0, lg) < 0)
		return -1;
	lg->tcp.app = lg;
	return 0;
}

/* --- output ------------------------------------------------------------------ */

static void print_counts(const struct lg_counts *a, const struct lg_counts *b)
{
#define D(f) (b->f - (a ? a->f : 0))
	printf("\"requests\":%" PRIu64 ",\"body_bytes\":%" PRIu64 ",\"connects\":%" PRIu64
	       ",\"errors\":%" PRIu64 ",\"err\":{\"connect\":%" PRIu64 ",\"reset\":%" PRIu64
	       ",\"eof\":%" PRIu64 ",\"status\":%" PRIu64 ",\"length\":%" PRIu64 ",\"body\":%" PRIu64
	       ",\"head\":%" PRIu64 ",\"timeout\":%" PRIu64 "},\"backend_requests\":%" PRIu64
	       ",\"backend_errors\":%" PRIu64 ",\"rx_frames\":%" PRIu64 ",\"tx_frames\":%" PRIu64
	       ",\"tx_dropped\":%" PRIu64 ",\"busy\":%.4f",
	       D(requests), D(body_bytes), D(connects),
	       D(err_connect) + D(err_reset) + D(err_eof) + D(err_status) + D(err_length) +
		       D(err_body) + D(err_head) + D(err_timeout),
	       D(err_connect), D(err_reset), D(err_eof), D(err_status), D(err_length), D(err_body),
	       D(err_head), D(err_timeout), D(backend_requests), D(backend_errors), D(rx_frames),
	       D(tx_frames), D(tx_dropped),
	       D(loop_cycles) ? (double)D(busy_cycles) / (double)D(loop_cycles) : 0.0);
	printf(",\"tcp\":{\"retransmits\":%" PRIu64 ",\"rto\":%" PRIu64 ",\"drops\":{",
	       D(tcp_retransmits), D(tcp_rto));
	for (unsigned int i = 1, k = 0; i < TDROP__COUNT; i++)
		if (D(tcp_drops[i]))
			printf("%s\"%s\":%" PRIu64, k++ ? "," : "", tcp_drop_name(i), D(tcp_drops[i]));
	printf("}}");
#undef D
}

void lg_emit(struct lg *lg, const char *event)
{
	struct lg_run *r = &lg->run;
	const struct tcp_area *a = lg->tcp.area;

	printf("{\"event\":\"%s\",\"t_us\":%" PRIu64, event, lg->tcp.now_us);
	if (strcmp(event, "end") == 0) {
		double secs = (double)(r->t_measure_end - r->t_measure_start) / 1e6;
		uint64_t req = r->at_end.requests - r->at_start.requests;

		printf(",\"seconds\":%.6f,\"rps\":%.1f,\"p50_us\":%" PRIu64 ",\"p99_us\":%" PRIu64
		       ",\"max_us\":%" PRIu64 ",\"busy_us_per_req\":%.3f,",
		       secs, secs > 0 ? (double)req / secs : 0.0, lg_hist_percentile(r->hist, 0.50),
		       lg_hist_percentile(r->hist, 0.99), lg_hist_percentile(r->hist, 1.0),
		       req ? (double)(r->at_end.busy_cycles - r->at_start.busy_cycles) * 1e6 /
				     (double)rte_get_tsc_hz() / (double)req
			   : 0.0);
		print_counts(&r->at_start, &r->at_end);
	} else if (strcmp(event, "done") == 0 || strcmp(event, "status") == 0) {
		lg_counts_sync(lg);
		printf(",\"live_streams\":%u,\"client_live\":%u,\"tcp_resets_rcvd\":%" PRIu64 ",",
		       a->live, lg->client_live, a->events[TEV_RESETS_RCVD]);
		print_counts(NULL, &lg->n);
	} else if (strcmp(event, "ready") == 0) {
		char mac[18], peer[18];

		fmt_mac(lg->mac, mac);
		fmt_mac(lg->peer_mac, peer);
		printf(",\"mac\":\"%s\",\"peer_mac\":\"%s\",\"tsc_hz\":%" PRIu64, mac, peer,
		       rte_get_tsc_hz());
	}
	printf("}\n");
	fflush(stdout);
}

/* --- commands ------------------------------------------------------------------ */

/* "run k=v ...": fills lg->run and starts it. */
static int cmd_run(struct lg *lg, char *args)
{
	struct lg_run *r = &lg->run;
	double seconds = 10, warmup = 1, tail = 0.5;
	char *save = NULL;

	r->conns = 64;
	snprintf(r->path, sizeof(r->path), "/100");
	r->close = false;
	r->verify = false;
	r->req_limit = 0;
	r->timeout_us = 5000000;
	for (char *kv = strtok_r(args, " \t", &save); kv; kv = strtok_r(NULL, " \t", &save)) {
		char *v = strchr(kv, '=');

		if (v == NULL)
			return -1;
		*v++ = '\0';
		if (strcmp(kv, "conns") == 0)
			r->conns = (unsigned int)strtoul(v, NULL, 10);
		else if (strcmp(kv, "seconds") == 0)
			seconds = atof(v);
		else if (strcmp(kv, "warmup") == 0)
			warmup = atof(v);
		else if (strcmp(kv, "tail") == 0)
			tail = atof(v);
		else if (strcmp(kv, "path") == 0)
			snprintf(r->path, sizeof(r->path), "%s", v);
		else if (strcmp(kv, "close") == 0)
			r->close = atoi(v) != 0;
		else if (strcmp(kv, "verify") == 0)
			r->verify = atoi(v) != 0;
		else if (strcmp(kv, "requests") == 0)
			r->req_limit = strtoull(v, NULL, 10);
		else if (strcmp(kv, "timeout_ms") == 0)
			r->timeout_us = (uint32_t)strtoul(v, NULL, 10) * 1000;
		else
			return -1;
	}
	if (r->conns == 0 || r->conns > LG_MAX_CONNS || seconds <= 0 || warmup < 0 || tail < 0 ||
	    r->path[0] != '/')
		return -1;
	{
		char *end;
		unsigned long n = strtoul(r->path + 1, &end, 10);

		r->expect_len = *end == '\0' && end != r->path + 1 && n <= LG_MAX_BODY ? (uint32_t)n
										   : UINT32_MAX;
	}
	r->warmup_us = (uint64_t)(warmup * 1e6);
	r->measure_us = (uint64_t)(seconds * 1e6);
	r->tail_us = (uint64_t)(tail * 1e6);
	lg_run_start(lg);
	return 0;
}

/* One command line; returns 1 to quit. */
static int command(struct lg *lg, char *line)
{
	char *args;

	line[strcspn(line, "\r\n")] = '\0';
	args = line + strcspn(line, " \t");
	if (*args)
		*args++ = '\0';
	if (strcmp(line, "quit") == 0)
		return 1;
	if (strcmp(line, "status") == 0) {
		lg_emit(lg, "status");
	} else if (strcmp(line, "run") == 0) {
		if (cmd_run(lg, args) < 0) {
			printf("{\"event\":\"error\",\"message\":\"bad run arguments\"}\n");
			fflush(stdout);
		}
	} else if (line[0]) {
		printf("{\"event\":\"error\",\"message\":\"unknown command\"}\n");
		fflush(stdout);
	}
	return 0;
}

/* Complete lines from stdin, without blocking; returns 1 on quit or end of input. */
static int read_commands(struct lg *lg)
{
	static char buf[4096];
	static size_t len;
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	n = read(0, buf + len, sizeof(buf) - 1 - len);
	if (n <= 0)
		return 1;
	len += (size_t)n;
	for (;;) {
		char *nl = memchr(buf, '\n', len);
		size_t used;
		int rc;

		if (nl == NULL) {
			if (len == sizeof(buf) - 1)
				len = 0;   /* a line too long to be a command */
			return 0;
		}
		*nl = '\0';
		used = (size_t)(nl - buf) + 1;
		rc = command(lg, buf);
		memmove(buf, buf + used, len - used);
		len -= used;
		if (rc)
			return 1;
		if (lg->run.phase != PH_IDLE)
			return 0;   /* the rest waits for the end of this run */
	}
}

/* --- the loop ------------------------------------------------------------------- */

static bool poll_once(struct lg *lg)
{
	uint64_t t0 = rte_rdtsc(), dt;
	bool work;

	tcp_ctx_clock(&lg->tcp);
	work = lg_rx(lg) != 0;
	tcp_timers(&lg->tcp);
	lg_tick(lg);
	if (lg->ntx && lg_tx_flush(lg))
		work = true;
	dt = rte_rdtsc() - t0;
	lg->n.loop_cycles += dt;
	if (work)
		lg->n.busy_cycles += dt;
	return work;
}

static int wait_link_and_peer(struct lg *lg)
{
	uint64_t start = rte_get_tsc_cycles(), hz = rte_get_tsc_hz(), last_arp = 0;
	struct rte_eth_link link;

	do {
		if (stop_flag || rte_get_tsc_cycles() - start > 15 * hz) {
			fprintf(stderr, "porter-loadgen: port did not come up\n");
			return -1;
		}
		usleep(10000);
	} while (rte_eth_link_get_nowait(lg->port_id, &link) != 0 || !link.link_status);
	start = rte_get_tsc_cycles();
	while (!lg->peer_known) {
		uint64_t now = rte_get_tsc_cycles();

		if (stop_flag || now - start > 15 * hz) {
			fprintf(stderr, "porter-loadgen: no ARP reply from the target\n");
			return -1;
		}
		if (now - last_arp > hz / 5) {
			lg_arp_request(lg, lg->target_ip);
			last_arp = now;
		}
		if (!poll_once(lg))
			usleep(1000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct lg lgs;
	struct lg *lg = &lgs;
	struct opts o;
	struct sigaction sa = { .sa_handler = on_signal };
	int rc = 1;

	if (parse_args(argc, argv, &o, lg) < 0) {
		usage();
		return 2;
	}
	if (eal_start(&o, argv[0]) < 0)
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lg->pool = rte_pktmbuf_pool_create("lg_mbuf", NB_MBUFS, MBUF_CACHE, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (lg->pool == NULL) {
		fprintf(stderr, "porter-loadgen: mbuf pool: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	if (port_start(lg, o.vdev) < 0)
		goto out;
	if (stack_init(lg, o.max_streams) < 0) {
		fprintf(stderr, "porter-loadgen: out of memory for the TCP stack\n");
		goto stop;
	}
	if (wait_link_and_peer(lg) < 0)
		goto stop;
	lg_emit(lg, "ready");
	while (!stop_flag) {
		bool work = poll_once(lg);

		if (lg->run.phase == PH_IDLE) {
			if (read_commands(lg))
				break;
			if (!work)
				usleep(200);
		}
	}
	rc = 0;
stop:
	rte_eth_dev_stop(lg->port_id);
	rte_eth_dev_close(lg->port_id);
out:
	rte_eal_cleanup();
	return rc;
}
