/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of config/config.c: defaults, every value of a full file, and
 * one test per kind of error with the exact "FILE:LINE: SETTING: MESSAGE"
 * line. Inputs are multi-line strings; the line of each setting is the
 * comment at its end.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

static struct porter_config cfg;
static char err[PORTER_CFG_ERR_LEN];

static int parse(const char *text)
{
	memset(err, 0, sizeof(err));
	return porter_config_parse_string(text, "t.conf", &cfg, err, sizeof(err));
}

/* TEXT must fail with exactly MSG. */
#define expect_err(text, msg)                                                   \
	do {                                                                    \
		int rc_ = parse(text);                                          \
		cr_assert_eq(rc_, -1, "parse succeeded, expected: %s", msg);    \
		cr_assert_str_eq(err, msg);                                     \
	} while (0)

#define expect_ok(text)                                                         \
	do {                                                                    \
		int rc_ = parse(text);                                          \
		cr_assert_eq(rc_, 0, "unexpected error: %s", err);              \
	} while (0)

/* One valid port on one line; tests below put it on line 1. */
#define PORT_FRONT                                                              \
	"ports = ( { name = \"front\"; device = \"net_tap0,iface=porter0\";"    \
	" mac = \"02:70:6f:72:74:01\"; ipv4 = \"10.99.0.2/24\"; } );\n"

/* A port whose ipv4 is line 4 and gateway line 5 of the file. */
#define PORT_WITH(ipv4, gw)                                                     \
	"ports = (\n"                                   /* 1 */                 \
	"  { name = \"front\"; device = \"net_tap0\";\n" /* 2 */                \
	"    mac = \"02:00:00:00:00:01\";\n"           /* 3 */                 \
	"    ipv4 = \"" ipv4 "\";\n"                    /* 4 */                 \
	"    gateway = \"" gw "\"; }\n"                 /* 5 */                 \
	");\n"

/* A port whose mac is on line 3. */
#define PORT_MAC(mac)                                                           \
	"ports = (\n"                                                           \
	"  { name = \"front\"; device = \"net_tap0\";\n"                        \
	"    mac = \"" mac "\";\n"                                              \
	"    ipv4 = \"10.0.0.1/24\"; }\n"                                       \
	");\n"

/* The complete example of docs/CONFIG.md and config/porter.conf.example,
 * with values different from the defaults where the ranges allow. */
static const char FULL[] =
	"# porter example\n"
	"eal: {\n"
	"  file_prefix = \"porter-test_1\";\n"
	"  lcore_base = 20;\n"
	"  cpus = \"2-5,8\";\n"
	"  log_level = \"info\";\n"
	"};\n"
	"ports = (\n"
	"  { name = \"front\"; device = \"net_tap0,iface=porter0\";\n"
	"    mac = \"02:70:6F:72:74:01\"; ipv4 = \"10.99.0.2/24\"; gateway = \"10.99.0.1\"; mtu = 1500; },\n"
	"  { name = \"back\"; device = \"net_tap1,iface=porter1\";\n"
	"    mac = \"02:70:6f:72:74:02\"; ipv4 = \"192.168.7.9/30\"; mtu = 9000; }\n"
	");\n"
	"static_routes = ( { to = \"172.16.0.0/12\"; via = \"192.168.7.10\"; },\n"
	"                  { to = \"0.0.0.0/0\"; via = \"10.99.0.254\"; } );\n"
	"workers: { count = 4; binary = \"/usr/lib/porter/porter-worker\"; ready_timeout_ms = 7000;\n"
	"  restart_backoff_ms = 50; max_restart_backoff_ms = 8000; max_failed_starts = 5;\n"
	"  heartbeat_timeout_ms = 2500; spin_us = 0; standby = false; };\n"
	"dataplane: { mbufs = 32767; mbuf_cache = 256; ring_size = 2048; rx_desc = 512; tx_desc = 2048;\n"
	"  primary_spin_us = 100; arp_timeout_ms = 60000; arp_retry_ms = 500; arp_retries = 5; };\n"
	"tcp: { max_streams_per_shard = 131072; syn_backlog = 512; congestion_control = \"newreno\";\n"
	"  nodelay = false; sack = false; timestamps = false; window_scaling = false; syncookies = false;\n"
	"  rcv_buf = 131072; snd_buf = 524288; delayed_ack_ms = 0;\n"
	"  rto_initial_ms = 3000; rto_min_ms = 100; rto_max_ms = 120000; max_retransmits = 8; syn_retries = 3;\n"
	"  time_wait_ms = 30000; fin_wait2_timeout_ms = 10000;\n"
	"  keepalive: { enabled = true; idle_s = 600; interval_s = 30; count = 5; };\n"
	"  challenge_ack_per_s = 100;\n"
	"  ephemeral_ports = [49152, 65535];\n"
	"};\n"
	"listeners = ( { port = 7; service = \"echo\"; }, { port = 9; service = \"discard\"; },\n"
	"              { port = 19; service = \"source\"; bytes = 1048576; },\n"
	"              { port = 65535; service = \"source\"; bytes = 4611686018427387904L; },\n"
	"              { service = \"source\"; port = 1; } );\n"
	"client_limits: { max_conns = 64; conn_rate = 20; conn_burst = 40; http_req_rate = 100;\n"
	"  http_req_burst = 1; table_size = 262144; };\n"
	"control: { socket = \"/run/porter/test.sock\"; };\n";

static void check_tcp_defaults(void)
{
	const struct porter_cfg_tcp *t = &cfg.tcp;
	cr_assert_eq(t->max_streams_per_shard, 65536);
	cr_assert_eq(t->syn_backlog, 1024);
	cr_assert_str_eq(t->cc, "cubic");
	cr_assert(t->nodelay);
	cr_assert(t->sack);
	cr_assert(t->timestamps);
	cr_assert(t->window_scaling);
	cr_assert(t->syncookies);
	cr_assert_eq(t->rcv_buf, 262144);
	cr_assert_eq(t->snd_buf, 262144);
	cr_assert_eq(t->delack_ms, 40);
	cr_assert_eq(t->rto_initial_ms, 1000);
	cr_assert_eq(t->rto_min_ms, 200);
	cr_assert_eq(t->rto_max_ms, 60000);
	cr_assert_eq(t->max_retries, 15);
	cr_assert_eq(t->syn_retries, 5);
	cr_assert_eq(t->time_wait_ms, 60000);
	cr_assert_eq(t->fin_wait2_ms, 60000);
	cr_assert(!t->keepalive);
	cr_assert_eq(t->keepalive_idle_s, 7200);
	cr_assert_eq(t->keepalive_interval_s, 75);
	cr_assert_eq(t->keepalive_count, 9);
	cr_assert_eq(t->challenge_ack_limit, 5);
	cr_assert_eq(t->ephemeral_lo, 32768);
	cr_assert_eq(t->ephemeral_hi, 60999);
}

static void check_http_defaults(void)
{
	const struct porter_cfg_http *h = &cfg.http;
	cr_assert_eq(h->max_request_line, 8192);
	cr_assert_eq(h->max_header_bytes, 16384);
	cr_assert_eq(h->max_headers, 100);
	cr_assert_eq(h->max_body_bytes, 0);
	cr_assert_eq(h->header_timeout_ms, 10000);
	cr_assert_eq(h->idle_timeout_ms, 60000);
	cr_assert_eq(h->max_sessions, 16384);
	cr_assert_eq(h->body_timeout_ms, 20000);
	cr_assert_eq(h->body_min_rate, 500);
	cr_assert_str_eq(h->via, "porter");
	cr_assert_str_eq(h->access_log, "");
}

static void check_client_limits_defaults(void)
{
	const struct porter_cfg_client_limits *l = &cfg.client_limits;
	cr_assert_eq(l->max_conns, 0);
	cr_assert_eq(l->conn_rate, 0);
	cr_assert_eq(l->conn_burst, 0);
	cr_assert_eq(l->http_req_rate, 0);
	cr_assert_eq(l->http_req_burst, 0);
	cr_assert_eq(l->table_size, 65536);
}

static void check_defaults(void)
{
	cr_assert_str_eq(cfg.eal.file_prefix, "porter");
	cr_assert_eq(cfg.eal.lcore_base, 10);
	cr_assert_str_eq(cfg.eal.cpus, "");
	cr_assert_str_eq(cfg.eal.log_level, "notice");
	cr_assert_eq(cfg.workers.count, 2);
	cr_assert_str_eq(cfg.workers.binary, "porter-worker");
	cr_assert_eq(cfg.workers.ready_timeout_ms, 5000);
	cr_assert_eq(cfg.workers.restart_backoff_ms, 100);
	cr_assert_eq(cfg.workers.max_restart_backoff_ms, 5000);
	cr_assert_eq(cfg.workers.max_failed_starts, 10);
	cr_assert_eq(cfg.workers.heartbeat_timeout_ms, 3000);
	cr_assert_eq(cfg.workers.spin_us, 0);
	cr_assert(cfg.workers.standby);
	cr_assert_eq(cfg.dataplane.mbufs, 16383);
	cr_assert_eq(cfg.dataplane.mbuf_cache, 128);
	cr_assert_eq(cfg.dataplane.ring_size, 1024);
	cr_assert_eq(cfg.dataplane.rx_desc, 1024);
	cr_assert_eq(cfg.dataplane.tx_desc, 1024);
	cr_assert_eq(cfg.dataplane.primary_spin_us, 0);
	cr_assert_eq(cfg.dataplane.arp_timeout_ms, 300000);
	cr_assert_eq(cfg.dataplane.arp_retry_ms, 1000);
	cr_assert_eq(cfg.dataplane.arp_retries, 3);
	cr_assert_str_eq(cfg.control.socket, "/run/porter/porter.sock");
	check_tcp_defaults();
	check_http_defaults();
	check_client_limits_defaults();
}

/* ------------------------------------------------------------------------ */
/* Valid files                                                              */
/* ------------------------------------------------------------------------ */

Test(config, minimal_file_gives_defaults)
{
	expect_ok(PORT_FRONT);
	cr_assert_str_eq(err, "");
	cr_assert_str_eq(cfg.path, "t.conf");
	check_defaults();
	cr_assert_eq(cfg.listener_count, 0);
	cr_assert_eq(cfg.upstream_count, 0);
	cr_assert_eq(cfg.route_count, 0);
	cr_assert_eq(cfg.static_route_count, 0);
	cr_assert_eq(cfg.port_count, 1);
	const struct porter_cfg_port *p = &cfg.ports[0];
	cr_assert_str_eq(p->name, "front");
	cr_assert_str_eq(p->device, "net_tap0,iface=porter0");
	const uint8_t mac[6] = { 0x02, 0x70, 0x6f, 0x72, 0x74, 0x01 };
	cr_assert_arr_eq(p->mac, mac, 6);
	cr_assert_eq(p->ipv4, 0x0a630002u);
	cr_assert_eq(p->prefix_len, 24);
	cr_assert_eq(p->gateway, 0);
	cr_assert_eq(p->mtu, 1500);
	cr_assert_eq(p->csum_offload, PORTER_CSUM_OFFLOAD_AUTO);
}

Test(config, empty_groups_give_defaults)
{
	expect_ok("eal: {};\n" PORT_FRONT "workers: {};\ndataplane: {};\ncontrol: {};\n"
		  "tcp: { keepalive: {}; };\nlisteners = ();\nupstreams = ();\nroutes = ();\nhttp: {};\n"
		  "static_routes = ();\nclient_limits: {};\n");
	check_defaults();
	cr_assert_eq(cfg.static_route_count, 0);
	cr_assert_eq(cfg.listener_count, 0);
	cr_assert_eq(cfg.upstream_count, 0);
	cr_assert_eq(cfg.route_count, 0);
}

Test(config, full_file_gives_every_value)
{
	expect_ok(FULL);
	cr_assert_str_eq(cfg.eal.file_prefix, "porter-test_1");
	cr_assert_eq(cfg.eal.lcore_base, 20);
	cr_assert_str_eq(cfg.eal.cpus, "2-5,8");
	cr_assert_str_eq(cfg.eal.log_level, "info");

	cr_assert_eq(cfg.port_count, 2);
	const struct porter_cfg_port *a = &cfg.ports[0], *b = &cfg.ports[1];
	const uint8_t mac_a[6] = { 0x02, 0x70, 0x6f, 0x72, 0x74, 0x01 };
	const uint8_t mac_b[6] = { 0x02, 0x70, 0x6f, 0x72, 0x74, 0x02 };
	cr_assert_str_eq(a->name, "front");
	cr_assert_str_eq(a->device, "net_tap0,iface=porter0");
	cr_assert_arr_eq(a->mac, mac_a, 6);
	cr_assert_eq(a->ipv4, 0x0a630002u);
	cr_assert_eq(a->prefix_len, 24);
	cr_assert_eq(a->gateway, 0x0a630001u);
	cr_assert_eq(a->mtu, 1500);
	cr_assert_str_eq(b->name, "back");
	cr_assert_str_eq(b->device, "net_tap1,iface=porter1");
	cr_assert_arr_eq(b->mac, mac_b, 6);
	cr_assert_eq(b->ipv4, 0xc0a80709u);
	cr_assert_eq(b->prefix_len, 30);
	cr_assert_eq(b->gateway, 0);
	cr_assert_eq(b->mtu, 9000);

	cr_assert_eq(cfg.static_route_count, 2);
	cr_assert_eq(cfg.static_routes[0].dst, 0xac100000u);
	cr_assert_eq(cfg.static_routes[0].prefix_len, 12);
	cr_assert_eq(cfg.static_routes[0].via, 0xc0a8070au);
	cr_assert_eq(cfg.static_routes[0].port, 1);
	cr_assert_eq(cfg.static_routes[1].dst, 0);
	cr_assert_eq(cfg.static_routes[1].prefix_len, 0);
	cr_assert_eq(cfg.static_routes[1].via, 0x0a6300feu);
	cr_assert_eq(cfg.static_routes[1].port, 0);

	cr_assert_eq(cfg.workers.count, 4);
	cr_assert_str_eq(cfg.workers.binary, "/usr/lib/porter/porter-worker");
	cr_assert_eq(cfg.workers.ready_timeout_ms, 7000);
	cr_assert_eq(cfg.workers.restart_backoff_ms, 50);
	cr_assert_eq(cfg.workers.max_restart_backoff_ms, 8000);
	cr_assert_eq(cfg.workers.max_failed_starts, 5);
	cr_assert_eq(cfg.workers.heartbeat_timeout_ms, 2500);
	cr_assert_eq(cfg.workers.spin_us, 0);
	cr_assert(!cfg.workers.standby);

	cr_assert_eq(cfg.dataplane.mbufs, 32767);
	cr_assert_eq(cfg.dataplane.mbuf_cache, 256);
	cr_assert_eq(cfg.dataplane.ring_size, 2048);
	cr_assert_eq(cfg.dataplane.rx_desc, 512);
	cr_assert_eq(cfg.dataplane.tx_desc, 2048);
	cr_assert_eq(cfg.dataplane.primary_spin_us, 100);
	cr_assert_eq(cfg.dataplane.arp_timeout_ms, 60000);
	cr_assert_eq(cfg.dataplane.arp_retry_ms, 500);
	cr_assert_eq(cfg.dataplane.arp_retries, 5);

	const struct porter_cfg_tcp *t = &cfg.tcp;
	cr_assert_eq(t->max_streams_per_shard, 131072);
	cr_assert_eq(t->syn_backlog, 512);
	cr_assert_str_eq(t->cc, "newreno");
	cr_assert(!t->nodelay);
	cr_assert(!t->sack);
	cr_assert(!t->timestamps);
	cr_assert(!t->window_scaling);
	cr_assert(!t->syncookies);
	cr_assert_eq(t->rcv_buf, 131072);
	cr_assert_eq(t->snd_buf, 524288);
	cr_assert_eq(t->delack_ms, 0);
	cr_assert_eq(t->rto_initial_ms, 3000);
	cr_assert_eq(t->rto_min_ms, 100);
	cr_assert_eq(t->rto_max_ms, 120000);
	cr_assert_eq(t->max_retries, 8);
	cr_assert_eq(t->syn_retries, 3);
	cr_assert_eq(t->time_wait_ms, 30000);
	cr_assert_eq(t->fin_wait2_ms, 10000);
	cr_assert(t->keepalive);
	cr_assert_eq(t->keepalive_idle_s, 600);
	cr_assert_eq(t->keepalive_interval_s, 30);
	cr_assert_eq(t->keepalive_count, 5);
	cr_assert_eq(t->challenge_ack_limit, 100);
	cr_assert_eq(t->ephemeral_lo, 49152);
	cr_assert_eq(t->ephemeral_hi, 65535);

	cr_assert_eq(cfg.listener_count, 5);
	const struct porter_cfg_listener *l = cfg.listeners;
	cr_assert_eq(l[0].port, 7);
	cr_assert_eq(l[0].service, PORTER_SVC_ECHO);
	cr_assert_eq(l[0].bytes, 0);
	cr_assert_eq(l[1].port, 9);
	cr_assert_eq(l[1].service, PORTER_SVC_DISCARD);
	cr_assert_eq(l[1].bytes, 0);
	cr_assert_eq(l[2].port, 19);
	cr_assert_eq(l[2].service, PORTER_SVC_SOURCE);
	cr_assert_eq(l[2].bytes, 1048576);
	cr_assert_eq(l[3].port, 65535);
	cr_assert_eq(l[3].service, PORTER_SVC_SOURCE);
	cr_assert_eq(l[3].bytes, UINT64_C(1) << 62);
	cr_assert_eq(l[4].port, 1);
	cr_assert_eq(l[4].service, PORTER_SVC_SOURCE);
	cr_assert_eq(l[4].bytes, 0);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(l[i].upstream, -1);

	const struct porter_cfg_client_limits *cl = &cfg.client_limits;
	cr_assert_eq(cl->max_conns, 64);
	cr_assert_eq(cl->conn_rate, 20);
	cr_assert_eq(cl->conn_burst, 40);
	cr_assert_eq(cl->http_req_rate, 100);
	cr_assert_eq(cl->http_req_burst, 1);
	cr_assert_eq(cl->table_size, 262144);

	cr_assert_str_eq(cfg.control.socket, "/run/porter/test.sock");
}

Test(config, accepted_edge_values)
{
	/* /31 and /32 have no network or broadcast address; 64-bit literals,
	 * hex, "" gateway and pattern log levels are fine. */
	expect_ok("ports = ( { name = \"a\"; device = \"d0\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.0/31\"; gateway = \"10.0.0.1\"; },\n"
		  "          { name = \"b\"; device = \"d1\"; mac = \"02:00:00:00:00:02\"; ipv4 = \"10.0.1.255/32\"; gateway = \"\"; mtu = 576; } );\n"
		  "eal: { lcore_base = 0x10; log_level = \"pmd.net.tap:debug\"; cpus = \"0\"; };\n"
		  "dataplane: { mbufs = 1048575L; ring_size = 65536; mbuf_cache = 0; };\n"
		  "workers: { count = 16; restart_backoff_ms = 0; max_restart_backoff_ms = 0; };\n");
	cr_assert_eq(cfg.ports[0].ipv4, 0x0a000000u);
	cr_assert_eq(cfg.ports[0].gateway, 0x0a000001u);
	cr_assert_eq(cfg.ports[1].prefix_len, 32);
	cr_assert_eq(cfg.ports[1].gateway, 0);
	cr_assert_eq(cfg.ports[1].mtu, 576);
	cr_assert_eq(cfg.eal.lcore_base, 16);
	cr_assert_eq(cfg.dataplane.mbufs, 1048575);
	cr_assert_eq(cfg.dataplane.ring_size, 65536);
	cr_assert_eq(cfg.workers.count, 16);
}

Test(config, comments_and_strings_do_not_confuse_the_literal_check)
{
	expect_ok("# 99999999999 in a comment\n"
		  "// 99999999999\n"
		  "/* 99999999999\n 99999999999 */\n" PORT_FRONT
		  "workers: { binary = \"/opt/x-99999999999\"; count = +3; };\n"
		  "dataplane: { arp_timeout_ms = 86400000; };\n");
	cr_assert_eq(cfg.workers.count, 3);
}

static const char *example_path(char buf[512])
{
	/* __FILE__ is ".../tests/unit/test_config.c", relative to the build
	 * directory under meson (which runs the tests from there). */
	const char *file = __FILE__, *suffix = "tests/unit/test_config.c";
	size_t n = strlen(file), s = strlen(suffix);
	if (n >= s && strcmp(&file[n - s], suffix) == 0)
		snprintf(buf, 512, "%.*sconfig/porter.conf.example", (int)(n - s), file);
	else
		snprintf(buf, 512, "../../config/porter.conf.example");
	return buf;
}

Test(config, example_file_is_valid)
{
	char path[512];
	int rc = porter_config_load(example_path(path), &cfg, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(cfg.port_count, 1);
	cr_assert_str_eq(cfg.ports[0].name, "front");
	cr_assert_eq(cfg.ports[0].gateway, 0x0a630001u);
	/* The example spells out the defaults... */
	check_defaults();
	/* ...and has the three RFC services on their well-known ports. */
	cr_assert_eq(cfg.listener_count, 3);
	cr_assert_eq(cfg.listeners[0].port, 7);
	cr_assert_eq(cfg.listeners[0].service, PORTER_SVC_ECHO);
	cr_assert_eq(cfg.listeners[1].port, 9);
	cr_assert_eq(cfg.listeners[1].service, PORTER_SVC_DISCARD);
	cr_assert_eq(cfg.listeners[2].port, 19);
	cr_assert_eq(cfg.listeners[2].service, PORTER_SVC_SOURCE);
	cr_assert_eq(cfg.listeners[2].bytes, 0);
	/* The proxy example is commented out. */
	cr_assert_eq(cfg.upstream_count, 0);
	cr_assert_eq(cfg.route_count, 0);
}

Test(config, example_file_proxy_block_is_valid)
{
	/* The commented block that starts at "# listeners =" and ends at the
	 * first line without '#', uncommented, after the example's port. */
	char path[512], line[512];
	static char text[16384];
	FILE *f = fopen(example_path(path), "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	size_t n = (size_t)snprintf(text, sizeof(text), PORT_FRONT);
	bool in = false;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (!in && strcmp(line, "# listeners =\n") == 0)
			in = true;
		if (!in)
			continue;
		if (line[0] != '#')
			break;
		const char *body = line[1] == ' ' ? line + 2 : line + 1;
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", body);
	}
	fclose(f);
	cr_assert(in, "no \"# listeners =\" block in %s", path);
	expect_ok(text);
	cr_assert_eq(cfg.listener_count, 2);
	cr_assert_eq(cfg.listeners[0].service, PORTER_SVC_HTTP);
	cr_assert_eq(cfg.listeners[1].service, PORTER_SVC_TCP);
	cr_assert_eq(cfg.listeners[1].upstream, 1);
	cr_assert_eq(cfg.upstream_count, 2);
	cr_assert_eq(cfg.upstreams[0].server_count, 2);
	cr_assert(cfg.upstreams[0].health_enabled);
	cr_assert_eq(cfg.route_count, 3);
	cr_assert_eq(cfg.routes[1].host_match, PORTER_HOST_SUFFIX);
}

Test(config, example_file_static_routes_block_is_valid)
{
	/* The commented block from "# static_routes =" to the first line without '#'. */
	char path[512], line[512];
	static char text[4096];
	FILE *f = fopen(example_path(path), "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	size_t n = (size_t)snprintf(text, sizeof(text), PORT_FRONT);
	bool in = false;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (!in && strcmp(line, "# static_routes =\n") == 0)
			in = true;
		if (!in)
			continue;
		if (line[0] != '#')
			break;
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", line[1] == ' ' ? line + 2 : line + 1);
	}
	fclose(f);
	cr_assert(in, "no \"# static_routes =\" block in %s", path);
	expect_ok(text);
	cr_assert_eq(cfg.static_route_count, 1);
	cr_assert_eq(cfg.static_routes[0].port, 0);
}

/* ------------------------------------------------------------------------ */
/* porter_config_load                                                       */
/* ------------------------------------------------------------------------ */

static void write_temp(char path[64], const char *text)
{
	snprintf(path, 64, "/tmp/test_config.XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	size_t len = strlen(text);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

Test(config, load_file_same_as_string)
{
	char path[64];
	struct porter_config from_string;
	write_temp(path, FULL);

	cr_assert_eq(porter_config_parse_string(FULL, path, &from_string, err, sizeof(err)), 0, "%s", err);
	memset(&cfg, 0xa5, sizeof(cfg));
	int rc = porter_config_load(path, &cfg, err, sizeof(err));
	unlink(path);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(cfg.path, path);
	cr_assert_eq(memcmp(&cfg, &from_string, sizeof(cfg)), 0);
}

/* --check-config: every group's first error in one run, in file order; a valid file passes as with load */
Test(config, check_lists_every_error)
{
	char path[64], many[4096];
	unsigned int n = 99;
	char want[1024];

	write_temp(path, "eal: { lcore_base = 500; };\n" PORT_FRONT
		   "workers: {\n  count = 0;\n};\ntcp: { max_streams_per_shard = 5; };\n"
		   "http = { max_headers = 500; };\n");
	int rc = porter_config_check(path, &cfg, many, sizeof(many), &n);
	cr_assert_eq(rc, -1);
	cr_assert_eq(n, 4, "%u errors:\n%s", n, many);
	snprintf(want, sizeof(want),
		 "%s:1: eal.lcore_base: must be in 0..127, got 500\n"
		 "%s:4: workers.count: must be in 1..16, got 0\n"
		 "%s:6: tcp.max_streams_per_shard: must be in 64..4194304, got 5\n"
		 "%s:7: http.max_headers: must be in 1..128, got 500", path, path, path, path);
	cr_assert_str_eq(many, want);
	/* load stops at the first */
	cr_assert_eq(porter_config_load(path, &cfg, err, sizeof(err)), -1);
	cr_assert(strchr(err, '\n') == NULL, "%s", err);
	unlink(path);
	/* routes naming an upstream group that failed are not reported again */
	write_temp(path, PORT_FRONT "upstreams = ( { name = \"a\"; servers = ( { address = \"x\"; } ); } );\n"
		   "routes = ( { upstream = \"a\"; } );\n");
	cr_assert_eq(porter_config_check(path, &cfg, many, sizeof(many), &n), -1);
	cr_assert_eq(n, 1, "%s", many);
	unlink(path);
	write_temp(path, FULL);
	cr_assert_eq(porter_config_check(path, &cfg, many, sizeof(many), &n), 0, "%s", many);
	cr_assert_eq(n, 0);
	unlink(path);
}

Test(config, load_file_error_names_the_path)
{
	char path[64], want[PORTER_CFG_ERR_LEN];
	const char *text = PORT_FRONT "workers: {\n  count = 0;\n};\n";
	write_temp(path, text);
	int rc = porter_config_load(path, &cfg, err, sizeof(err));
	unlink(path);
	cr_assert_eq(rc, -1);
	snprintf(want, sizeof(want), "%s:3: workers.count: must be in 1..16, got 0", path);
	cr_assert_str_eq(err, want);
	/* ...and parse_string says the same thing with the same name. */
	cr_assert_eq(porter_config_parse_string(text, path, &cfg, err, sizeof(err)), -1);
	cr_assert_str_eq(err, want);
}

Test(config, load_missing_file)
{
	int rc = porter_config_load("/nonexistent/porter.conf", &cfg, err, sizeof(err));
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(err, "/nonexistent/porter.conf:0: file: No such file or directory");
}

Test(config, load_directory)
{
	int rc = porter_config_load("/tmp", &cfg, err, sizeof(err));
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(err, "/tmp:0: file: Is a directory");
}

/* ------------------------------------------------------------------------ */
/* Syntax and shape                                                         */
/* ------------------------------------------------------------------------ */

Test(config, syntax_error)
{
	expect_err(PORT_FRONT
		   "workers: {\n"
		   "  count = 2;\n"
		   "  spin_us 3;\n"
		   "};\n",
		   "t.conf:4: syntax: syntax error");
}

Test(config, duplicate_setting_is_a_syntax_error)
{
	expect_err(PORT_FRONT "workers: { count = 2;\n count = 3; };\n",
		   "t.conf:3: syntax: duplicate setting name");
}

Test(config, integer_literal_that_libconfig_would_wrap)
{
	/* 4294967396 would silently read as 100 in libconfig 1.5. */
	expect_err(PORT_FRONT "workers: {\n  count = 2;\n  spin_us =\n    4294967396;\n};\n",
		   "t.conf:5: syntax: integer 4294967396 does not fit in 32 bits");
	expect_err(PORT_FRONT "workers: { spin_us = -2147483649; };\n",
		   "t.conf:2: syntax: integer -2147483649 does not fit in 32 bits");
	expect_err(PORT_FRONT "workers: { spin_us = 0x100000064; };\n",
		   "t.conf:2: syntax: integer 0x100000064 does not fit in 32 bits");
}

Test(config, missing_ports)
{
	expect_err("workers: { count = 2; };\n", "t.conf:0: ports: missing mandatory setting");
	expect_err("", "t.conf:0: ports: missing mandatory setting");
}

Test(config, ports_wrong_shape)
{
	expect_err("\nports = { name = \"a\"; };\n",
		   "t.conf:2: ports: expected a list of groups ( { ... }, ... ), got a group");
	expect_err("ports = [ 1, 2 ];\n",
		   "t.conf:1: ports: expected a list of groups ( { ... }, ... ), got an array");
	expect_err("ports = ();\n", "t.conf:1: ports: must have 1..4 entries, got 0");
	expect_err("ports = (\n  { name = \"a\"; device = \"d\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; },\n  \"b\" );\n",
		   "t.conf:3: ports[1]: expected a group { name = ...; ... }, got a string");
}

Test(config, group_wrong_shape)
{
	expect_err(PORT_FRONT "eal = \"porter\";\n", "t.conf:2: eal: expected a group { ... }, got a string");
	expect_err(PORT_FRONT "workers = 3;\n", "t.conf:2: workers: expected a group { ... }, got an integer");
	expect_err(PORT_FRONT "control = ( );\n", "t.conf:2: control: expected a group { ... }, got a list");
	expect_err(PORT_FRONT "tcp = [ 1 ];\n", "t.conf:2: tcp: expected a group { ... }, got an array");
}

Test(config, too_many_ports)
{
	expect_err("ports = (\n"
		   "  { name = \"a\"; device = \"d0\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; },\n"
		   "  { name = \"b\"; device = \"d1\"; mac = \"02:00:00:00:00:02\"; ipv4 = \"10.0.1.1/24\"; },\n"
		   "  { name = \"c\"; device = \"d2\"; mac = \"02:00:00:00:00:03\"; ipv4 = \"10.0.2.1/24\"; },\n"
		   "  { name = \"d\"; device = \"d3\"; mac = \"02:00:00:00:00:04\"; ipv4 = \"10.0.3.1/24\"; },\n"
		   "  { name = \"e\"; device = \"d4\"; mac = \"02:00:00:00:00:05\"; ipv4 = \"10.0.4.1/24\"; }\n"
		   ");\n",
		   "t.conf:1: ports: must have 1..4 entries, got 5");
}

/* ------------------------------------------------------------------------ */
/* Unknown settings                                                         */
/* ------------------------------------------------------------------------ */

Test(config, unknown_top_level_setting)
{
	expect_err(PORT_FRONT "\nworker: { count = 2; };\n", "t.conf:3: worker: unknown setting");
}

Test(config, unknown_setting_in_group)
{
	expect_err(PORT_FRONT "workers: {\n  count = 2;\n  cuont = 3;\n};\n",
		   "t.conf:4: workers.cuont: unknown setting");
	expect_err("eal: { lcore = 3; };\n" PORT_FRONT, "t.conf:1: eal.lcore: unknown setting");
	expect_err(PORT_FRONT "dataplane: { ring = 3; };\n", "t.conf:2: dataplane.ring: unknown setting");
	expect_err(PORT_FRONT "control: {\n sock = \"/x\"; };\n", "t.conf:3: control.sock: unknown setting");
}

Test(config, unknown_setting_in_port)
{
	expect_err("ports = (\n"
		   "  { name = \"a\"; device = \"d0\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; },\n"
		   "  { name = \"b\"; device = \"d1\"; mac = \"02:00:00:00:00:02\";\n"
		   "    ipv4 = \"10.0.1.1/24\"; gw = \"10.0.1.254\"; }\n"
		   ");\n",
		   "t.conf:4: ports[1].gw: unknown setting");
}

/* ------------------------------------------------------------------------ */
/* Ports                                                                    */
/* ------------------------------------------------------------------------ */

Test(config, missing_port_field)
{
	/* Reported at the line of the port's group. */
	expect_err("ports = (\n"
		   "  { name = \"a\"; device = \"d0\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; },\n"
		   "  {\n"
		   "    name = \"b\"; device = \"d1\";\n"
		   "    ipv4 = \"10.0.1.1/24\";\n"
		   "  }\n"
		   ");\n",
		   "t.conf:3: ports[1].mac: missing mandatory setting");
	expect_err("ports = ( { device = \"d0\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; } );\n",
		   "t.conf:1: ports[0].name: missing mandatory setting");
	expect_err("ports = ( { name = \"a\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; } );\n",
		   "t.conf:1: ports[0].device: missing mandatory setting");
	expect_err("ports = ( { name = \"a\"; device = \"d\"; mac = \"02:00:00:00:00:01\"; } );\n",
		   "t.conf:1: ports[0].ipv4: missing mandatory setting");
}

Test(config, bad_mac)
{
	expect_err(PORT_MAC("02:70:6f:72:74"),
		   "t.conf:3: ports[0].mac: bad MAC address \"02:70:6f:72:74\" (expected xx:xx:xx:xx:xx:xx, hex)");
	expect_err(PORT_MAC("02-70-6f-72-74-01"),
		   "t.conf:3: ports[0].mac: bad MAC address \"02-70-6f-72-74-01\" (expected xx:xx:xx:xx:xx:xx, hex)");
	expect_err(PORT_MAC("02:70:6g:72:74:01"),
		   "t.conf:3: ports[0].mac: bad MAC address \"02:70:6g:72:74:01\" (expected xx:xx:xx:xx:xx:xx, hex)");
	expect_err(PORT_MAC("2:70:6f:72:74:01:"),
		   "t.conf:3: ports[0].mac: bad MAC address \"2:70:6f:72:74:01:\" (expected xx:xx:xx:xx:xx:xx, hex)");
	expect_err(PORT_MAC("00:00:00:00:00:00"), "t.conf:3: ports[0].mac: must not be all zero");
}

Test(config, multicast_mac)
{
	expect_err(PORT_MAC("01:00:5e:00:00:01"),
		   "t.conf:3: ports[0].mac: 01:00:5e:00:00:01 is a multicast address (low bit of the first byte set)");
	expect_err(PORT_MAC("ff:ff:ff:ff:ff:ff"),
		   "t.conf:3: ports[0].mac: ff:ff:ff:ff:ff:ff is a multicast address (low bit of the first byte set)");
}

Test(config, bad_ipv4_forms)
{
	expect_err(PORT_WITH("10.0.0.256/24", ""),
		   "t.conf:4: ports[0].ipv4: bad address in \"10.0.0.256/24\" (expected a.b.c.d/len, each part 0..255)");
	expect_err(PORT_WITH("10.0.0.1", ""),
		   "t.conf:4: ports[0].ipv4: missing \"/len\" in \"10.0.0.1\" (expected a.b.c.d/len)");
	expect_err(PORT_WITH("10.0.0.1/33", ""),
		   "t.conf:4: ports[0].ipv4: prefix length must be in 1..32, got 33");
	expect_err(PORT_WITH("10.0.0.1/0", ""),
		   "t.conf:4: ports[0].ipv4: prefix length must be in 1..32, got 0");
	expect_err(PORT_WITH("10.0.0.1/24x", ""),
		   "t.conf:4: ports[0].ipv4: bad prefix length in \"10.0.0.1/24x\" (expected a.b.c.d/len, len 1..32)");
	expect_err(PORT_WITH("10.0.0.1/", ""),
		   "t.conf:4: ports[0].ipv4: bad prefix length in \"10.0.0.1/\" (expected a.b.c.d/len, len 1..32)");
	expect_err(PORT_WITH("10.0.0.1/024", ""),
		   "t.conf:4: ports[0].ipv4: bad prefix length in \"10.0.0.1/024\" (expected a.b.c.d/len, len 1..32)");
	expect_err(PORT_WITH(" 10.0.0.1/24", ""),
		   "t.conf:4: ports[0].ipv4: bad address in \" 10.0.0.1/24\" (expected a.b.c.d/len, each part 0..255)");
	expect_err(PORT_WITH("10.0.0/24", ""),
		   "t.conf:4: ports[0].ipv4: bad address in \"10.0.0/24\" (expected a.b.c.d/len, each part 0..255)");
	expect_err(PORT_WITH("10.0.0.01/24", ""),
		   "t.conf:4: ports[0].ipv4: bad address in \"10.0.0.01/24\" (expected a.b.c.d/len, each part 0..255)");
	expect_err(PORT_WITH("10.0.0.1.1/24", ""),
		   "t.conf:4: ports[0].ipv4: bad address in \"10.0.0.1.1/24\" (expected a.b.c.d/len, each part 0..255)");
}

Test(config, ipv4_not_a_host_address)
{
	expect_err(PORT_WITH("10.0.0.0/24", ""),
		   "t.conf:4: ports[0].ipv4: 10.0.0.0/24 is the network address of its subnet");
	expect_err(PORT_WITH("10.0.0.255/24", ""),
		   "t.conf:4: ports[0].ipv4: 10.0.0.255/24 is the broadcast address of its subnet");
	expect_err(PORT_WITH("10.0.0.3/30", ""),
		   "t.conf:4: ports[0].ipv4: 10.0.0.3/30 is the broadcast address of its subnet");
	expect_err(PORT_WITH("127.0.0.1/8", ""),
		   "t.conf:4: ports[0].ipv4: 127.0.0.1/8 is a loopback address");
	expect_err(PORT_WITH("224.0.0.1/24", ""),
		   "t.conf:4: ports[0].ipv4: 224.0.0.1/24 is a multicast or reserved address");
	expect_err(PORT_WITH("0.0.0.1/32", ""),
		   "t.conf:4: ports[0].ipv4: 0.0.0.1/32 is in 0.0.0.0/8 (\"this network\")");
}

Test(config, gateway_outside_subnet)
{
	expect_err(PORT_WITH("10.99.0.2/24", "10.99.1.1"),
		   "t.conf:5: ports[0].gateway: 10.99.1.1 is outside the port's subnet 10.99.0.0/24");
	expect_err(PORT_WITH("10.99.0.2/32", "10.99.0.1"),
		   "t.conf:5: ports[0].gateway: 10.99.0.1 is outside the port's subnet 10.99.0.2/32");
}

Test(config, bad_gateway)
{
	expect_err(PORT_WITH("10.99.0.2/24", "10.99.0.2"),
		   "t.conf:5: ports[0].gateway: 10.99.0.2 is the port's own address");
	expect_err(PORT_WITH("10.99.0.2/24", "10.99.0.255"),
		   "t.conf:5: ports[0].gateway: 10.99.0.255 is the broadcast address of its subnet");
	expect_err(PORT_WITH("10.99.0.2/24", "10.99.0.0"),
		   "t.conf:5: ports[0].gateway: 10.99.0.0 is the network address of its subnet");
	expect_err(PORT_WITH("10.99.0.2/24", "10.99.0.1/24"),
		   "t.conf:5: ports[0].gateway: bad address \"10.99.0.1/24\" (expected a.b.c.d, each part 0..255)");
}

Test(config, duplicate_port_name)
{
	expect_err("ports = (\n"
		   "  { name = \"front\"; device = \"d0\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; },\n"
		   "  { name = \"back\"; device = \"d1\"; mac = \"02:00:00:00:00:02\"; ipv4 = \"10.0.1.1/24\"; },\n"
		   "  { device = \"d2\"; mac = \"02:00:00:00:00:03\"; ipv4 = \"10.0.2.1/24\";\n"
		   "    name = \"front\"; }\n"
		   ");\n",
		   "t.conf:5: ports[2].name: duplicate name \"front\" (already used by ports[0])");
}

Test(config, duplicate_port_address_and_device)
{
	expect_err("ports = (\n"
		   "  { name = \"a\"; device = \"d0\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; },\n"
		   "  { name = \"b\"; device = \"d1\"; mac = \"02:00:00:00:00:02\";\n"
		   "    ipv4 = \"10.0.0.1/16\"; }\n"
		   ");\n",
		   "t.conf:4: ports[1].ipv4: address 10.0.0.1 already used by ports[0]");
	expect_err("ports = (\n"
		   "  { name = \"a\"; device = \"net_tap0,iface=a\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; },\n"
		   "  { name = \"b\"; device = \"net_tap0,iface=b\"; mac = \"02:00:00:00:00:02\"; ipv4 = \"10.0.1.1/24\"; }\n"
		   ");\n",
		   "t.conf:3: ports[1].device: device \"net_tap0\" already used by ports[0]");
}

Test(config, bad_port_name_and_device)
{
	expect_err("ports = ( { name = \"\"; device = \"d\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; } );\n",
		   "t.conf:1: ports[0].name: must be non-empty and use only A-Z a-z 0-9 _ . -, got \"\"");
	expect_err("ports = ( { name = \"my port\"; device = \"d\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; } );\n",
		   "t.conf:1: ports[0].name: must be non-empty and use only A-Z a-z 0-9 _ . -, got \"my port\"");
	expect_err("ports = ( { name = \"a\"; device = \"\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; } );\n",
		   "t.conf:1: ports[0].device: expected a device such as \"net_tap0,iface=porter0\", got \"\"");
}

Test(config, string_too_long)
{
	/* 32 characters do not fit name[32]. */
	expect_err("ports = ( { name = \"abcdefghijklmnopqrstuvwxyz012345\"; device = \"d\";\n"
		   "  mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; } );\n",
		   "t.conf:1: ports[0].name: too long (32 characters, at most 31)");
	expect_err(PORT_FRONT "eal: { log_level = \"pmd.net.tap.very.long.pattern:debug\"; };\n",
		   "t.conf:2: eal.log_level: too long (35 characters, at most 31)");
}

Test(config, port_checksum_offload)
{
	static const char *const v[] = { "auto", "on", "off" };
	static const uint8_t want[] = { PORTER_CSUM_OFFLOAD_AUTO, PORTER_CSUM_OFFLOAD_ON,
					PORTER_CSUM_OFFLOAD_OFF };
	char text[512];

	for (unsigned int i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "ports = ( { name = \"a\"; device = \"d\"; "
			 "mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; checksum_offload = \"%s\"; } );\n",
			 v[i]);
		expect_ok(text);
		cr_assert_eq(cfg.ports[0].csum_offload, want[i], "%s", v[i]);
	}
	expect_err("ports = ( { name = \"a\"; device = \"d\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\";\n"
		   "  checksum_offload = \"yes\"; } );\n",
		   "t.conf:2: ports[0].checksum_offload: expected \"auto\", \"on\" or \"off\", got \"yes\"");
	expect_err("ports = ( { name = \"a\"; device = \"d\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\";\n"
		   "  checksum_offload = true; } );\n",
		   "t.conf:2: ports[0].checksum_offload: expected a string, got a boolean");
}

Test(config, port_mtu_range)
{
	expect_err("ports = ( { name = \"a\"; device = \"d\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\";\n"
		   "  mtu = 9001; } );\n",
		   "t.conf:2: ports[0].mtu: must be in 576..9000, got 9001");
}

/* ------------------------------------------------------------------------ */
/* Integers                                                                 */
/* ------------------------------------------------------------------------ */

Test(config, out_of_range_integers)
{
	expect_err(PORT_FRONT "workers: {\n  count = 17;\n};\n", "t.conf:3: workers.count: must be in 1..16, got 17");
	expect_err(PORT_FRONT "workers: { count = -1; };\n", "t.conf:2: workers.count: must be in 1..16, got -1");
	expect_err(PORT_FRONT "workers: { ready_timeout_ms = 99; };\n",
		   "t.conf:2: workers.ready_timeout_ms: must be in 100..600000, got 99");
	expect_err(PORT_FRONT "workers: { max_failed_starts = 0; };\n",
		   "t.conf:2: workers.max_failed_starts: must be in 1..1000, got 0");
	expect_err(PORT_FRONT "workers: { spin_us = 100001; };\n",
		   "t.conf:2: workers.spin_us: must be in 0..100000, got 100001");
	expect_err(PORT_FRONT "dataplane: { mbufs = 1022; };\n",
		   "t.conf:2: dataplane.mbufs: must be in 1023..1048575, got 1022");
	expect_err(PORT_FRONT "dataplane: { rx_desc = 32; };\n",
		   "t.conf:2: dataplane.rx_desc: must be in 64..16384, got 32");
	expect_err(PORT_FRONT "dataplane: { arp_retries = 0; };\n",
		   "t.conf:2: dataplane.arp_retries: must be in 1..100, got 0");
	expect_err(PORT_FRONT "eal: { lcore_base = 128; };\n",
		   "t.conf:2: eal.lcore_base: must be in 0..127, got 128");
	/* A 64-bit literal is read whole and reported as written. */
	expect_err(PORT_FRONT "dataplane: { mbufs = 10000000000L; };\n",
		   "t.conf:2: dataplane.mbufs: must be in 1023..1048575, got 10000000000");
}

Test(config, float_where_integer_expected)
{
	expect_err(PORT_FRONT "workers: {\n  count = 2.0;\n};\n",
		   "t.conf:3: workers.count: expected an integer, got a float");
}

Test(config, string_where_integer_expected)
{
	expect_err(PORT_FRONT "dataplane: {\n  ring_size = \"1024\";\n};\n",
		   "t.conf:3: dataplane.ring_size: expected an integer, got a string");
	expect_err(PORT_FRONT "workers: { spin_us = true; };\n",
		   "t.conf:2: workers.spin_us: expected an integer, got a boolean");
}

Test(config, integer_where_string_expected)
{
	expect_err(PORT_FRONT "control: { socket = 5; };\n",
		   "t.conf:2: control.socket: expected a string, got an integer");
}

Test(config, ring_size_not_power_of_two)
{
	expect_err(PORT_FRONT "dataplane: {\n  ring_size = 1000;\n};\n",
		   "t.conf:3: dataplane.ring_size: must be a power of two in 64..65536, got 1000");
	expect_err(PORT_FRONT "dataplane: { ring_size = 32; };\n",
		   "t.conf:2: dataplane.ring_size: must be in 64..65536, got 32");
}

Test(config, mbuf_cache_too_large)
{
	expect_err(PORT_FRONT "dataplane: {\n  mbufs = 1023;\n  mbuf_cache = 513;\n};\n",
		   "t.conf:4: dataplane.mbuf_cache: must be in 0..512, got 513");
}

Test(config, backoff_order)
{
	expect_err(PORT_FRONT "workers: { restart_backoff_ms = 200;\n  max_restart_backoff_ms = 100; };\n",
		   "t.conf:3: workers.max_restart_backoff_ms: must be >= workers.restart_backoff_ms (200), got 100");
	expect_err(PORT_FRONT "workers: { restart_backoff_ms = 6000; };\n",
		   "t.conf:2: workers.restart_backoff_ms: must be <= workers.max_restart_backoff_ms (5000), got 6000");
}

Test(config, lcores_past_the_last)
{
	expect_err(PORT_FRONT "eal: {\n  lcore_base = 120;\n};\nworkers: { count = 8; };\n",
		   "t.conf:3: eal.lcore_base: eal.lcore_base + workers.count (120 + 8) must be <= 127 (the last lcore id)");
}

/* net_af_xdp keeps 2048 mbufs per port in its fill ring: the pool must hold them. */
#define PORTS_XDP2                                                              \
	"ports = ( { name = \"a\"; device = \"net_af_xdp0,iface=v0\";"            \
	" mac = \"02:00:00:00:00:01\"; ipv4 = \"10.0.0.1/24\"; },\n"                \
	"  { name = \"b\"; device = \"net_af_xdp1,iface=v1\";"                    \
	" mac = \"02:00:00:00:00:02\"; ipv4 = \"10.0.1.1/24\"; } );\n"

Test(config, af_xdp_needs_mbufs)
{
	expect_ok(PORTS_XDP2);   /* the default pool, 16383 */
	expect_ok(PORTS_XDP2 "dataplane: { mbufs = 5119; };\n");
	expect_err(PORTS_XDP2 "dataplane: {\n  mbufs = 5118;\n};\n",
		   "t.conf:4: dataplane.mbufs: 2 net_af_xdp port(s) keep 2048 mbufs each in their fill "
		   "ring: need at least 5119, got 5118");
	/* other drivers keep none of their own: the plain floor applies */
	expect_ok(PORT_FRONT "dataplane: { mbufs = 1023; };\n");
}

/* ------------------------------------------------------------------------ */
/* tcp                                                                      */
/* ------------------------------------------------------------------------ */

Test(config, tcp_accepted_edge_values)
{
	expect_ok(PORT_FRONT
		  "tcp: { max_streams_per_shard = 4194304; syn_backlog = 1; rcv_buf = 4096; snd_buf = 67108864;\n"
		  "  delayed_ack_ms = 500; rto_min_ms = 10; rto_initial_ms = 200; rto_max_ms = 200;\n"
		  "  time_wait_ms = 0; fin_wait2_timeout_ms = 600000; challenge_ack_per_s = 1000000;\n"
		  "  keepalive: { enabled = false; idle_s = 86400; interval_s = 1; count = 100; };\n"
		  "  ephemeral_ports = [1024, 2047]; };\n");
	cr_assert_eq(cfg.tcp.max_streams_per_shard, 4194304);
	cr_assert_eq(cfg.tcp.rto_min_ms, 10);
	cr_assert_eq(cfg.tcp.rto_initial_ms, 200);
	cr_assert_eq(cfg.tcp.rto_max_ms, 200);
	cr_assert_eq(cfg.tcp.ephemeral_lo, 1024);
	cr_assert_eq(cfg.tcp.ephemeral_hi, 2047);
	cr_assert_eq(cfg.tcp.keepalive_idle_s, 86400);
	/* 64-bit literals are fine for any integer. */
	expect_ok(PORT_FRONT "tcp: { ephemeral_ports = [40000L, 65535L]; syn_backlog = 16L; };\n");
	cr_assert_eq(cfg.tcp.ephemeral_lo, 40000);
	cr_assert_eq(cfg.tcp.ephemeral_hi, 65535);
	cr_assert_eq(cfg.tcp.syn_backlog, 16);
}

Test(config, tcp_wrong_shape)
{
	expect_err(PORT_FRONT "tcp = 1;\n", "t.conf:2: tcp: expected a group { ... }, got an integer");
	expect_err(PORT_FRONT "tcp: {\n  keepalive = true;\n};\n",
		   "t.conf:3: tcp.keepalive: expected a group { ... }, got a boolean");
}

Test(config, tcp_bad_boolean)
{
	expect_err(PORT_FRONT "tcp: {\n  nodelay = 1;\n};\n",
		   "t.conf:3: tcp.nodelay: expected a boolean (true or false), got an integer");
	expect_err(PORT_FRONT "tcp: { sack = \"true\"; };\n",
		   "t.conf:2: tcp.sack: expected a boolean (true or false), got a string");
	expect_err(PORT_FRONT "tcp: { syncookies = 0.0; };\n",
		   "t.conf:2: tcp.syncookies: expected a boolean (true or false), got a float");
	expect_err(PORT_FRONT "tcp: { keepalive: {\n  enabled = 1; }; };\n",
		   "t.conf:3: tcp.keepalive.enabled: expected a boolean (true or false), got an integer");
}

Test(config, workers_standby)
{
	expect_ok(PORT_FRONT "workers: { standby = true; };\n");
	cr_assert(cfg.workers.standby);
	expect_ok(PORT_FRONT "workers: { standby = false; };\n");
	cr_assert(!cfg.workers.standby);
	expect_err(PORT_FRONT "workers: {\n  standby = 1;\n};\n",
		   "t.conf:3: workers.standby: expected a boolean (true or false), got an integer");
	expect_err(PORT_FRONT "workers: { standby = \"no\"; };\n",
		   "t.conf:2: workers.standby: expected a boolean (true or false), got a string");
}

Test(config, workers_drain_timeout)
{
	expect_ok(PORT_FRONT "");
	cr_assert_eq(cfg.workers.drain_timeout_ms, 30000);
	expect_ok(PORT_FRONT "workers: { drain_timeout_ms = 0; };\n");
	cr_assert_eq(cfg.workers.drain_timeout_ms, 0);
	expect_ok(PORT_FRONT "workers: { drain_timeout_ms = 5000; };\n");
	cr_assert_eq(cfg.workers.drain_timeout_ms, 5000);
	expect_err(PORT_FRONT "workers: {\n  drain_timeout_ms = 3600001;\n};\n",
		   "t.conf:3: workers.drain_timeout_ms: must be in 0..3600000, got 3600001");
}

Test(config, tcp_unknown_congestion_control)
{
	expect_err(PORT_FRONT "tcp: {\n  congestion_control = \"reno\";\n};\n",
		   "t.conf:3: tcp.congestion_control: expected \"cubic\" or \"newreno\", got \"reno\"");
	expect_err(PORT_FRONT "tcp: { congestion_control = \"Cubic\"; };\n",
		   "t.conf:2: tcp.congestion_control: expected \"cubic\" or \"newreno\", got \"Cubic\"");
	expect_err(PORT_FRONT "tcp: { congestion_control = \"\"; };\n",
		   "t.conf:2: tcp.congestion_control: expected \"cubic\" or \"newreno\", got \"\"");
	expect_err(PORT_FRONT "tcp: { congestion_control = 1; };\n",
		   "t.conf:2: tcp.congestion_control: expected a string, got an integer");
	expect_err(PORT_FRONT "tcp: { congestion_control = \"newreno-with-extras\"; };\n",
		   "t.conf:2: tcp.congestion_control: too long (19 characters, at most 15)");
}

Test(config, tcp_ephemeral_not_an_array)
{
	expect_err(PORT_FRONT "tcp: {\n  ephemeral_ports = 32768;\n};\n",
		   "t.conf:3: tcp.ephemeral_ports: expected an array [lo, hi], got an integer");
	expect_err(PORT_FRONT "tcp: { ephemeral_ports = ( 32768, 60999 ); };\n",
		   "t.conf:2: tcp.ephemeral_ports: expected an array [lo, hi], got a list");
	expect_err(PORT_FRONT "tcp: { ephemeral_ports = \"32768-60999\"; };\n",
		   "t.conf:2: tcp.ephemeral_ports: expected an array [lo, hi], got a string");
	expect_err(PORT_FRONT "tcp: { ephemeral_ports = [32768.0, 60999.0]; };\n",
		   "t.conf:2: tcp.ephemeral_ports: expected integers [lo, hi], got a float");
}

Test(config, tcp_ephemeral_element_count)
{
	expect_err(PORT_FRONT "tcp: {\n  ephemeral_ports = [32768];\n};\n",
		   "t.conf:3: tcp.ephemeral_ports: expected exactly 2 integers [lo, hi], got 1 element");
	expect_err(PORT_FRONT "tcp: { ephemeral_ports = [32768, 40000, 60999]; };\n",
		   "t.conf:2: tcp.ephemeral_ports: expected exactly 2 integers [lo, hi], got 3 elements");
	expect_err(PORT_FRONT "tcp: { ephemeral_ports = []; };\n",
		   "t.conf:2: tcp.ephemeral_ports: expected exactly 2 integers [lo, hi], got 0 elements");
}

Test(config, tcp_ephemeral_lo_above_hi)
{
	expect_err(PORT_FRONT "tcp: {\n  ephemeral_ports = [60999, 32768];\n};\n",
		   "t.conf:3: tcp.ephemeral_ports: lo must be <= hi, got [60999, 32768]");
}

Test(config, tcp_ephemeral_too_narrow)
{
	expect_err(PORT_FRONT "tcp: {\n  ephemeral_ports = [40000, 41022];\n};\n",
		   "t.conf:3: tcp.ephemeral_ports: must span at least 1024 ports, got [40000, 41022] (1023 ports)");
	expect_err(PORT_FRONT "tcp: { ephemeral_ports = [40000, 40000]; };\n",
		   "t.conf:2: tcp.ephemeral_ports: must span at least 1024 ports, got [40000, 40000] (1 ports)");
}

Test(config, tcp_ephemeral_out_of_range)
{
	expect_err(PORT_FRONT "tcp: {\n  ephemeral_ports = [1023, 60999];\n};\n",
		   "t.conf:3: tcp.ephemeral_ports: ports must be in 1024..65535, got [1023, 60999]");
	expect_err(PORT_FRONT "tcp: { ephemeral_ports = [32768, 65536]; };\n",
		   "t.conf:2: tcp.ephemeral_ports: ports must be in 1024..65535, got [32768, 65536]");
	expect_err(PORT_FRONT "tcp: { ephemeral_ports = [-1, 60999]; };\n",
		   "t.conf:2: tcp.ephemeral_ports: ports must be in 1024..65535, got [-1, 60999]");
	expect_err(PORT_FRONT "tcp: { ephemeral_ports = [32768L, 4294967296L]; };\n",
		   "t.conf:2: tcp.ephemeral_ports: ports must be in 1024..65535, got [32768, 4294967296]");
}

Test(config, tcp_rto_order)
{
	/* Only one of the pair written: it is blamed. */
	expect_err(PORT_FRONT "tcp: {\n  rto_min_ms = 2000;\n};\n",
		   "t.conf:3: tcp.rto_min_ms: must be <= tcp.rto_initial_ms (1000), got 2000");
	expect_err(PORT_FRONT "tcp: {\n  rto_max_ms = 500;\n};\n",
		   "t.conf:3: tcp.rto_max_ms: must be >= tcp.rto_initial_ms (1000), got 500");
	/* Both written: the larger one is blamed. */
	expect_err(PORT_FRONT "tcp: { rto_min_ms = 300;\n  rto_initial_ms = 250; };\n",
		   "t.conf:3: tcp.rto_initial_ms: must be >= tcp.rto_min_ms (300), got 250");
	expect_err(PORT_FRONT "tcp: { rto_initial_ms = 5000;\n  rto_max_ms = 4000; };\n",
		   "t.conf:3: tcp.rto_max_ms: must be >= tcp.rto_initial_ms (5000), got 4000");
	/* rto_max below rto_min is caught through rto_initial. */
	expect_err(PORT_FRONT "tcp: { rto_min_ms = 400; rto_max_ms = 300; };\n",
		   "t.conf:2: tcp.rto_max_ms: must be >= tcp.rto_initial_ms (1000), got 300");
}

Test(config, tcp_out_of_range_integers)
{
	expect_err(PORT_FRONT "tcp: { max_streams_per_shard = 63; };\n",
		   "t.conf:2: tcp.max_streams_per_shard: must be in 64..4194304, got 63");
	expect_err(PORT_FRONT "tcp: { syn_backlog = 0; };\n",
		   "t.conf:2: tcp.syn_backlog: must be in 1..65536, got 0");
	expect_err(PORT_FRONT "tcp: { rcv_buf = 4095; };\n",
		   "t.conf:2: tcp.rcv_buf: must be in 4096..67108864, got 4095");
	expect_err(PORT_FRONT "tcp: { snd_buf = 67108865; };\n",
		   "t.conf:2: tcp.snd_buf: must be in 4096..67108864, got 67108865");
	expect_err(PORT_FRONT "tcp: { delayed_ack_ms = 501; };\n",
		   "t.conf:2: tcp.delayed_ack_ms: must be in 0..500, got 501");
	expect_err(PORT_FRONT "tcp: { rto_initial_ms = 199; };\n",
		   "t.conf:2: tcp.rto_initial_ms: must be in 200..60000, got 199");
	expect_err(PORT_FRONT "tcp: { rto_min_ms = 9; };\n",
		   "t.conf:2: tcp.rto_min_ms: must be in 10..60000, got 9");
	expect_err(PORT_FRONT "tcp: { rto_max_ms = 600001; };\n",
		   "t.conf:2: tcp.rto_max_ms: must be in 10..600000, got 600001");
	expect_err(PORT_FRONT "tcp: { max_retransmits = 0; };\n",
		   "t.conf:2: tcp.max_retransmits: must be in 1..100, got 0");
	expect_err(PORT_FRONT "tcp: { syn_retries = 21; };\n",
		   "t.conf:2: tcp.syn_retries: must be in 1..20, got 21");
	expect_err(PORT_FRONT "tcp: { time_wait_ms = 240001; };\n",
		   "t.conf:2: tcp.time_wait_ms: must be in 0..240000, got 240001");
	expect_err(PORT_FRONT "tcp: { fin_wait2_timeout_ms = -1; };\n",
		   "t.conf:2: tcp.fin_wait2_timeout_ms: must be in 0..600000, got -1");
	expect_err(PORT_FRONT "tcp: { challenge_ack_per_s = 0; };\n",
		   "t.conf:2: tcp.challenge_ack_per_s: must be in 1..1000000, got 0");
	expect_err(PORT_FRONT "tcp: { keepalive: { idle_s = 0; }; };\n",
		   "t.conf:2: tcp.keepalive.idle_s: must be in 1..86400, got 0");
	expect_err(PORT_FRONT "tcp: { keepalive: { interval_s = 3601; }; };\n",
		   "t.conf:2: tcp.keepalive.interval_s: must be in 1..3600, got 3601");
	expect_err(PORT_FRONT "tcp: { keepalive: { count = 101; }; };\n",
		   "t.conf:2: tcp.keepalive.count: must be in 1..100, got 101");
	expect_err(PORT_FRONT "tcp: { syn_backlog = true; };\n",
		   "t.conf:2: tcp.syn_backlog: expected an integer, got a boolean");
}

Test(config, tcp_unknown_setting)
{
	expect_err(PORT_FRONT "tcp: {\n  nodelay = true;\n  no_delay = true;\n};\n",
		   "t.conf:4: tcp.no_delay: unknown setting");
	expect_err(PORT_FRONT "tcp: {\n  congestion = \"cubic\";\n};\n",
		   "t.conf:3: tcp.congestion: unknown setting");
}

Test(config, tcp_keepalive_unknown_setting)
{
	expect_err(PORT_FRONT "tcp: {\n  keepalive: {\n    enabled = true;\n    idle = 60;\n  };\n};\n",
		   "t.conf:5: tcp.keepalive.idle: unknown setting");
}

/* ------------------------------------------------------------------------ */
/* listeners                                                                */
/* ------------------------------------------------------------------------ */

Test(config, listeners_wrong_shape)
{
	expect_err(PORT_FRONT "listeners = { port = 7; service = \"echo\"; };\n",
		   "t.conf:2: listeners: expected a list of groups ( { ... }, ... ), got a group");
	expect_err(PORT_FRONT "listeners = [ 7, 9 ];\n",
		   "t.conf:2: listeners: expected a list of groups ( { ... }, ... ), got an array");
	expect_err(PORT_FRONT "listeners = (\n  { port = 7; service = \"echo\"; },\n  9 );\n",
		   "t.conf:4: listeners[1]: expected a group { port = ...; ... }, got an integer");
}

Test(config, listener_missing_port)
{
	/* Reported at the line of the listener's group. */
	expect_err(PORT_FRONT
		   "listeners = (\n"
		   "  { port = 7; service = \"echo\"; },\n"
		   "  {\n"
		   "    service = \"discard\";\n"
		   "  }\n"
		   ");\n",
		   "t.conf:4: listeners[1].port: missing mandatory setting");
}

Test(config, listener_missing_service)
{
	expect_err(PORT_FRONT "listeners = (\n  { port = 7; } );\n",
		   "t.conf:3: listeners[0].service: missing mandatory setting");
}

Test(config, listener_port_range)
{
	expect_err(PORT_FRONT "listeners = ( {\n  port = 0; service = \"echo\"; } );\n",
		   "t.conf:3: listeners[0].port: must be in 1..65535, got 0");
	expect_err(PORT_FRONT "listeners = ( { port = 65536; service = \"echo\"; } );\n",
		   "t.conf:2: listeners[0].port: must be in 1..65535, got 65536");
	expect_err(PORT_FRONT "listeners = ( { port = \"7\"; service = \"echo\"; } );\n",
		   "t.conf:2: listeners[0].port: expected an integer, got a string");
}

Test(config, listener_duplicate_port)
{
	/* The second use is blamed; a third would not be reached. */
	expect_err(PORT_FRONT
		   "listeners = (\n"
		   "  { port = 7; service = \"echo\"; },\n"
		   "  { port = 9; service = \"discard\"; },\n"
		   "  { service = \"source\";\n"
		   "    port = 7; },\n"
		   "  { port = 7; service = \"echo\"; }\n"
		   ");\n",
		   "t.conf:6: listeners[2].port: duplicate port 7 (already used by listeners[0])");
}

Test(config, listener_bad_service)
{
	expect_err(PORT_FRONT "listeners = (\n  { port = 13;\n    service = \"daytime\"; } );\n",
		   "t.conf:4: listeners[0].service: expected \"echo\", \"discard\" or \"source\", got \"daytime\"");
	expect_err(PORT_FRONT "listeners = ( { port = 7; service = \"ECHO\"; } );\n",
		   "t.conf:2: listeners[0].service: expected \"echo\", \"discard\" or \"source\", got \"ECHO\"");
	expect_err(PORT_FRONT "listeners = ( { port = 7; service = 7; } );\n",
		   "t.conf:2: listeners[0].service: expected a string, got an integer");
}

Test(config, listener_bytes_only_for_source)
{
	expect_err(PORT_FRONT "listeners = ( { port = 7; service = \"echo\";\n  bytes = 100; } );\n",
		   "t.conf:3: listeners[0].bytes: only for service \"source\"");
	expect_err(PORT_FRONT "listeners = ( { port = 9; service = \"discard\"; bytes = 0; } );\n",
		   "t.conf:2: listeners[0].bytes: only for service \"source\"");
}

Test(config, listener_bytes_range)
{
	expect_err(PORT_FRONT "listeners = ( { port = 19; service = \"source\";\n  bytes = -1; } );\n",
		   "t.conf:3: listeners[0].bytes: must be in 0..4611686018427387904, got -1");
	expect_err(PORT_FRONT "listeners = ( { port = 19; service = \"source\"; bytes = 4611686018427387905L; } );\n",
		   "t.conf:2: listeners[0].bytes: must be in 0..4611686018427387904, got 4611686018427387905");
	expect_err(PORT_FRONT "listeners = ( { port = 19; service = \"source\"; bytes = 1.5; } );\n",
		   "t.conf:2: listeners[0].bytes: expected an integer, got a float");
	/* Big values need the L suffix; without it libconfig 1.5 would wrap. */
	expect_err(PORT_FRONT "listeners = ( { port = 19; service = \"source\";\n  bytes = 4294967296; } );\n",
		   "t.conf:3: syntax: integer 4294967296 does not fit in 32 bits");
	expect_ok(PORT_FRONT "listeners = ( { port = 19; service = \"source\"; bytes = 4294967296L; } );\n");
	cr_assert_eq(cfg.listeners[0].bytes, UINT64_C(4294967296));
	expect_ok(PORT_FRONT "listeners = ( { port = 19; service = \"source\"; bytes = 0x40000000L; } );\n");
	cr_assert_eq(cfg.listeners[0].bytes, UINT64_C(0x40000000));
}

Test(config, integer_literal_past_64_bits)
{
	/* With L, libconfig 1.5 saturates a decimal and wraps a hex literal. */
	expect_err(PORT_FRONT "listeners = ( { port = 19; service = \"source\";\n  bytes = 99999999999999999999L; } );\n",
		   "t.conf:3: syntax: integer 99999999999999999999 does not fit in 64 bits");
	expect_err(PORT_FRONT "listeners = ( { port = 19; service = \"source\"; bytes = 0x10000000000000005L; } );\n",
		   "t.conf:2: syntax: integer 0x10000000000000005 does not fit in 64 bits");
}

Test(config, listener_unknown_setting)
{
	expect_err(PORT_FRONT
		   "listeners = (\n"
		   "  { port = 7; service = \"echo\"; },\n"
		   "  { port = 19; service = \"source\";\n"
		   "    size = 100; }\n"
		   ");\n",
		   "t.conf:5: listeners[1].size: unknown setting");
}

Test(config, too_many_listeners)
{
	char text[4096];
	size_t n = (size_t)snprintf(text, sizeof(text), PORT_FRONT "\nlisteners = (\n");
	for (int i = 0; i < 33; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "  { port = %d; service = \"discard\"; }%s\n",
				      1000 + i, i < 32 ? "," : "");
	snprintf(text + n, sizeof(text) - n, ");\n");
	expect_err(text, "t.conf:3: listeners: must have 0..32 entries, got 33");
	/* 32 is fine. */
	char *last = strstr(text, "  { port = 1032;");
	cr_assert_not_null(last);
	snprintf(last - 2, sizeof(text) - (size_t)(last - 2 - text), "\n);\n");
	expect_ok(text);
	cr_assert_eq(cfg.listener_count, 32);
	cr_assert_eq(cfg.listeners[31].port, 1031);
	cr_assert_eq(cfg.listeners[31].service, PORTER_SVC_DISCARD);
}

/* ------------------------------------------------------------------------ */
/* Proxy: upstreams, protocol listeners, routes, http                       */
/* ------------------------------------------------------------------------ */

/* One upstream "app" on one line; tests below put it on line 2. */
#define UP_APP                                                                  \
	"upstreams = ( { name = \"app\"; servers = ( { address = \"10.0.0.2:8080\"; } ); } );\n"

/* An http listener on port 80 on one line. */
#define HTTP_80 "listeners = ( { port = 80; protocol = \"http\"; } );\n"

/* A route to "app" on one line. */
#define ROUTE_APP "routes = ( { upstream = \"app\"; } );\n"

/* An upstream "app" whose element NAME.KEY = VALUE is on line 3. */
#define UP_WITH(group)                                                          \
	"upstreams = ( { name = \"app\"; servers = ( { address = \"10.0.0.2:80\"; } );\n" \
	"  " group "\n"                                                         \
	"} );\n"

/* The http proxy example of docs/CONFIG.md, values off the defaults. */
static const char PROXY[] =
	PORT_FRONT                                                              /* 1 */
	"listeners = (\n"                                                       /* 2 */
	"  { port = 80;   protocol = \"http\"; },\n"                            /* 3 */
	"  { port = 5432; protocol = \"tcp\"; upstream = \"db\"; },\n"          /* 4 */
	"  { port = 7;    service = \"echo\"; }\n"                              /* 5 */
	");\n"                                                                  /* 6 */
	"upstreams = (\n"                                                       /* 7 */
	"  { name = \"app\"; balance = \"least_conn\";\n"                       /* 8 */
	"    servers = ( { address = \"10.0.0.2:8080\"; weight = 2; max_connections = 100; },\n"
	"                { address = \"10.0.0.3:8080\"; } );\n"                 /* 10 */
	"    keepalive = { max_idle = 16; idle_timeout_ms = 30000; };\n"
	"    timeouts  = { connect_ms = 2000; read_ms = 20000; write_ms = 25000; };\n"
	"    retries = 2;\n"
	"    health_check = { path = \"/healthz\"; interval_ms = 5000; timeout_ms = 1500; rise = 4; fall = 5; };\n"
	"    passive = { max_fails = 0; fail_timeout_ms = 20000; };\n"         /* 15 */
	"  },\n"
	"  { name = \"db\"; balance = \"hash\"; servers = ( { address = \"10.0.0.9:5432\"; } ); }\n"
	");\n"
	"routes = (\n"
	"  { host = \"api.example.com\"; path = \"/v1/\"; method = \"GET\"; upstream = \"app\"; },\n"
	"  { host = \"*.Example.COM\"; upstream = \"app\"; listener = 80; },\n"
	"  { upstream = \"db\"; }\n"
	");\n"
	"http = { max_request_line = 4096; max_header_bytes = 32768; max_headers = 50;\n"
	"         max_body_bytes = 10485760; header_timeout_ms = 5000; idle_timeout_ms = 120000;\n"
	"         max_sessions_per_shard = 4096; via = \"edge-1\";\n"
	"         body_timeout_ms = 20000; body_min_rate = 500;\n"
	"         access_log = \"/var/log/porter/access.log\"; };\n";

Test(config, proxy_example_gives_every_value)
{
	expect_ok(PROXY);

	cr_assert_eq(cfg.listener_count, 3);
	const struct porter_cfg_listener *l = cfg.listeners;
	cr_assert_eq(l[0].port, 80);
	cr_assert_eq(l[0].service, PORTER_SVC_HTTP);
	cr_assert_eq(l[0].upstream, -1);
	cr_assert_eq(l[0].bytes, 0);
	cr_assert_eq(l[1].port, 5432);
	cr_assert_eq(l[1].service, PORTER_SVC_TCP);
	cr_assert_eq(l[1].upstream, 1);
	cr_assert_eq(l[2].port, 7);
	cr_assert_eq(l[2].service, PORTER_SVC_ECHO);
	cr_assert_eq(l[2].upstream, -1);

	cr_assert_eq(cfg.upstream_count, 2);
	const struct porter_cfg_upstream *u = &cfg.upstreams[0];
	cr_assert_str_eq(u->name, "app");
	cr_assert_eq(u->balance, PORTER_LB_LEAST_CONN);
	cr_assert_eq(u->server_count, 2);
	cr_assert_eq(u->servers[0].ipv4, 0x0a000002u);
	cr_assert_eq(u->servers[0].port, 8080);
	cr_assert_eq(u->servers[0].weight, 2);
	cr_assert_eq(u->servers[0].max_conns, 100);
	cr_assert_eq(u->servers[1].ipv4, 0x0a000003u);
	cr_assert_eq(u->servers[1].port, 8080);
	cr_assert_eq(u->servers[1].weight, 1);
	cr_assert_eq(u->servers[1].max_conns, 0);
	cr_assert_eq(u->keepalive_max_idle, 16);
	cr_assert_eq(u->keepalive_idle_timeout_ms, 30000);
	cr_assert_eq(u->connect_timeout_ms, 2000);
	cr_assert_eq(u->read_timeout_ms, 20000);
	cr_assert_eq(u->write_timeout_ms, 25000);
	cr_assert_eq(u->retries, 2);
	cr_assert(u->health_enabled);
	cr_assert_str_eq(u->health_path, "/healthz");
	cr_assert_eq(u->health_interval_ms, 5000);
	cr_assert_eq(u->health_timeout_ms, 1500);
	cr_assert_eq(u->health_rise, 4);
	cr_assert_eq(u->health_fall, 5);
	cr_assert_eq(u->passive_max_fails, 0);
	cr_assert_eq(u->passive_fail_timeout_ms, 20000);

	u = &cfg.upstreams[1];
	cr_assert_str_eq(u->name, "db");
	cr_assert_eq(u->balance, PORTER_LB_HASH);
	cr_assert_eq(u->server_count, 1);
	cr_assert_eq(u->servers[0].ipv4, 0x0a000009u);
	cr_assert_eq(u->servers[0].port, 5432);

	cr_assert_eq(cfg.route_count, 3);
	const struct porter_cfg_route *r = cfg.routes;
	cr_assert_eq(r[0].host_match, PORTER_HOST_EXACT);
	cr_assert_str_eq(r[0].host, "api.example.com");
	cr_assert_str_eq(r[0].path_prefix, "/v1/");
	cr_assert_str_eq(r[0].method, "GET");
	cr_assert_eq(r[0].listen_port, 0);
	cr_assert_eq(r[0].upstream, 0);
	cr_assert_eq(r[1].host_match, PORTER_HOST_SUFFIX);
	cr_assert_str_eq(r[1].host, ".example.com");
	cr_assert_str_eq(r[1].path_prefix, "/");
	cr_assert_str_eq(r[1].method, "");
	cr_assert_eq(r[1].listen_port, 80);
	cr_assert_eq(r[1].upstream, 0);
	cr_assert_eq(r[2].host_match, PORTER_HOST_ANY);
	cr_assert_str_eq(r[2].host, "");
	cr_assert_str_eq(r[2].path_prefix, "/");
	cr_assert_eq(r[2].upstream, 1);

	const struct porter_cfg_http *h = &cfg.http;
	cr_assert_eq(h->max_request_line, 4096);
	cr_assert_eq(h->max_header_bytes, 32768);
	cr_assert_eq(h->max_headers, 50);
	cr_assert_eq(h->max_body_bytes, 10485760);
	cr_assert_eq(h->header_timeout_ms, 5000);
	cr_assert_eq(h->idle_timeout_ms, 120000);
	cr_assert_eq(h->max_sessions, 4096);
	cr_assert_eq(h->body_timeout_ms, 20000);
	cr_assert_eq(h->body_min_rate, 500);
	cr_assert_str_eq(h->via, "edge-1");
	cr_assert_str_eq(h->access_log, "/var/log/porter/access.log");
	/* The rest is untouched. */
	check_tcp_defaults();
}

Test(config, proxy_defaults)
{
	expect_ok(PORT_FRONT UP_APP HTTP_80 ROUTE_APP);
	check_defaults();
	cr_assert_eq(cfg.listeners[0].service, PORTER_SVC_HTTP);
	cr_assert_eq(cfg.listeners[0].upstream, -1);
	const struct porter_cfg_upstream *u = &cfg.upstreams[0];
	cr_assert_eq(cfg.upstream_count, 1);
	cr_assert_str_eq(u->name, "app");
	cr_assert_eq(u->balance, PORTER_LB_ROUND_ROBIN);
	cr_assert_eq(u->server_count, 1);
	cr_assert_eq(u->servers[0].weight, 1);
	cr_assert_eq(u->servers[0].max_conns, 0);
	cr_assert_eq(u->keepalive_max_idle, 32);
	cr_assert_eq(u->keepalive_idle_timeout_ms, 60000);
	cr_assert_eq(u->connect_timeout_ms, 3000);
	cr_assert_eq(u->read_timeout_ms, 30000);
	cr_assert_eq(u->write_timeout_ms, 30000);
	cr_assert_eq(u->retries, 1);
	cr_assert(!u->health_enabled);
	cr_assert_str_eq(u->health_path, "/");
	cr_assert_eq(u->health_interval_ms, 2000);
	cr_assert_eq(u->health_timeout_ms, 1000);
	cr_assert_eq(u->health_rise, 2);
	cr_assert_eq(u->health_fall, 3);
	cr_assert_eq(u->passive_max_fails, 3);
	cr_assert_eq(u->passive_fail_timeout_ms, 10000);
	cr_assert_eq(cfg.route_count, 1);
	cr_assert_eq(cfg.routes[0].host_match, PORTER_HOST_ANY);
	cr_assert_str_eq(cfg.routes[0].host, "");
	cr_assert_str_eq(cfg.routes[0].path_prefix, "/");
	cr_assert_str_eq(cfg.routes[0].method, "");
	cr_assert_eq(cfg.routes[0].listen_port, 0);
	cr_assert_eq(cfg.routes[0].upstream, 0);

	/* Empty sub-groups keep the defaults, but an empty health_check enables it. */
	expect_ok(PORT_FRONT "upstreams = ( { name = \"app\"; servers = ( { address = \"10.0.0.2:80\"; } );\n"
		  "  keepalive = {}; timeouts = {}; health_check = {}; passive = {}; } );\n");
	u = &cfg.upstreams[0];
	cr_assert(u->health_enabled);
	cr_assert_str_eq(u->health_path, "/");
	cr_assert_eq(u->health_interval_ms, 2000);
	cr_assert_eq(u->keepalive_max_idle, 32);
	cr_assert_eq(u->connect_timeout_ms, 3000);
	cr_assert_eq(u->passive_max_fails, 3);
}

Test(config, names_resolve_whatever_the_order)
{
	/* routes and listeners before the upstreams they name */
	expect_ok("routes = ( { upstream = \"b\"; }, { upstream = \"a\"; path = \"/a\"; } );\n"
		  "listeners = ( { port = 9000; protocol = \"tcp\"; upstream = \"b\"; },\n"
		  "              { port = 80; protocol = \"http\"; } );\n"
		  "http: { via = \"\"; };\n"
		  "upstreams = ( { name = \"a\"; servers = ( { address = \"10.0.0.1:80\"; } ); },\n"
		  "              { name = \"b\"; servers = ( { address = \"10.0.0.2:80\"; } ); } );\n"
		  PORT_FRONT);
	cr_assert_eq(cfg.routes[0].upstream, 1);
	cr_assert_eq(cfg.routes[1].upstream, 0);
	cr_assert_eq(cfg.listeners[0].upstream, 1);
	cr_assert_str_eq(cfg.http.via, "");
	/* A route may name a listener written after it. */
	expect_ok(PORT_FRONT UP_APP "routes = ( { upstream = \"app\"; listener = 8080; } );\n"
		  "listeners = ( { port = 8080; protocol = \"http\"; } );\n");
	cr_assert_eq(cfg.routes[0].listen_port, 8080);
}

Test(config, proxy_without_http_listener)
{
	/* A tcp listener needs no route; upstreams and routes may be unused. */
	expect_ok(PORT_FRONT UP_APP "listeners = ( { port = 5432; protocol = \"tcp\"; upstream = \"app\"; } );\n");
	cr_assert_eq(cfg.listeners[0].service, PORTER_SVC_TCP);
	cr_assert_eq(cfg.listeners[0].upstream, 0);
	cr_assert_eq(cfg.route_count, 0);
	expect_ok(PORT_FRONT UP_APP ROUTE_APP);
	cr_assert_eq(cfg.listener_count, 0);
	cr_assert_eq(cfg.route_count, 1);
}

Test(config, route_host_forms)
{
	expect_ok(PORT_FRONT UP_APP
		  "routes = ( { host = \"*\"; upstream = \"app\"; },\n"
		  "           { host = \"API.Example.com\"; upstream = \"app\"; },\n"
		  "           { host = \"*.a-b_c.EXAMPLE.com\"; upstream = \"app\"; },\n"
		  "           { host = \"localhost\"; upstream = \"app\"; },\n"
		  "           { host = \"10.0.0.1\"; upstream = \"app\"; } );\n");
	cr_assert_eq(cfg.routes[0].host_match, PORTER_HOST_ANY);
	cr_assert_str_eq(cfg.routes[0].host, "");
	cr_assert_eq(cfg.routes[1].host_match, PORTER_HOST_EXACT);
	cr_assert_str_eq(cfg.routes[1].host, "api.example.com");
	cr_assert_eq(cfg.routes[2].host_match, PORTER_HOST_SUFFIX);
	cr_assert_str_eq(cfg.routes[2].host, ".a-b_c.example.com");
	cr_assert_eq(cfg.routes[3].host_match, PORTER_HOST_EXACT);
	cr_assert_str_eq(cfg.routes[3].host, "localhost");
	cr_assert_str_eq(cfg.routes[4].host, "10.0.0.1");
}

Test(config, proxy_accepted_edge_values)
{
	char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text), PORT_FRONT "upstreams = ( { name = \"%s\";\n"
				    "  servers = (\n", "A-z_0.9abcdefghijklmnopqrstuvw");
	for (int i = 0; i < 32; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "    { address = \"10.0.0.%d:%d\"; weight = 256; max_connections = 4194304; }%s\n",
				      i + 1, i == 0 ? 1 : 65535, i < 31 ? "," : "");
	snprintf(text + n, sizeof(text) - n,
		 "  );\n"
		 "  keepalive = { max_idle = 0; idle_timeout_ms = 3600000; };\n"
		 "  timeouts = { connect_ms = 10; read_ms = 3600000; write_ms = 10; };\n"
		 "  retries = 10;\n"
		 "  health_check = { path = \"/x?y=%%2F&z\"; interval_ms = 100; timeout_ms = 99; rise = 100; fall = 1; };\n"
		 "  passive = { max_fails = 1000; fail_timeout_ms = 100; };\n"
		 "} );\n"
		 "routes = ( { method = \"PROPFINDXXXXXXX\"; path = \"/~a/b;c\"; upstream = \"A-z_0.9abcdefghijklmnopqrstuvw\"; } );\n"
		 "http: { max_request_line = 64; max_header_bytes = 1048576; max_headers = 128;\n"
		 "  max_body_bytes = 4611686018427387904L; header_timeout_ms = 3600000; idle_timeout_ms = 86400000;\n"
		 "  max_sessions_per_shard = 16; via = \"!#$%%&'*+-.^_`|~09azAZ\"; access_log = \"\"; };\n");
	expect_ok(text);
	const struct porter_cfg_upstream *u = &cfg.upstreams[0];
	cr_assert_eq(u->server_count, 32);
	cr_assert_eq(u->servers[0].port, 1);
	cr_assert_eq(u->servers[31].ipv4, 0x0a000020u);
	cr_assert_eq(u->servers[31].port, 65535);
	cr_assert_eq(u->servers[31].weight, 256);
	cr_assert_eq(u->servers[31].max_conns, 4194304);
	cr_assert_eq(u->keepalive_max_idle, 0);
	cr_assert_eq(u->retries, 10);
	cr_assert_eq(u->health_timeout_ms, 99);
	cr_assert_str_eq(u->health_path, "/x?y=%2F&z");
	cr_assert_str_eq(cfg.routes[0].method, "PROPFINDXXXXXXX");
	cr_assert_eq(cfg.http.max_body_bytes, UINT64_C(1) << 62);
	cr_assert_str_eq(cfg.http.via, "!#$%&'*+-.^_`|~09azAZ");
	cr_assert_str_eq(cfg.http.access_log, "");
}

/* ------------------------------------------------------------------------ */
/* Proxy listeners                                                          */
/* ------------------------------------------------------------------------ */

Test(config, listener_service_and_protocol)
{
	expect_err(PORT_FRONT UP_APP "listeners = ( { port = 80; service = \"echo\";\n  protocol = \"http\"; } );\n",
		   "t.conf:4: listeners[0].protocol: not allowed together with service (give exactly one of "
		   "service and protocol)");
}

Test(config, listener_bad_protocol)
{
	expect_err(PORT_FRONT "listeners = ( { port = 80;\n  protocol = \"https\"; } );\n",
		   "t.conf:3: listeners[0].protocol: expected \"http\" or \"tcp\", got \"https\"");
	expect_err(PORT_FRONT "listeners = ( { port = 80; protocol = \"HTTP\"; } );\n",
		   "t.conf:2: listeners[0].protocol: expected \"http\" or \"tcp\", got \"HTTP\"");
	expect_err(PORT_FRONT "listeners = ( { port = 80; protocol = 80; } );\n",
		   "t.conf:2: listeners[0].protocol: expected a string, got an integer");
}

Test(config, listener_tcp_needs_upstream)
{
	/* Reported at the line of the listener's group. */
	expect_err(PORT_FRONT UP_APP "listeners = (\n  { port = 80; protocol = \"http\"; },\n"
		   "  { port = 5432;\n    protocol = \"tcp\"; } );\n" ROUTE_APP,
		   "t.conf:5: listeners[1].upstream: missing mandatory setting");
}

Test(config, listener_upstream_only_for_tcp)
{
	expect_err(PORT_FRONT UP_APP "listeners = ( { port = 80; protocol = \"http\";\n  upstream = \"app\"; } );\n"
		   ROUTE_APP,
		   "t.conf:4: listeners[0].upstream: only for protocol \"tcp\"");
	expect_err(PORT_FRONT UP_APP "listeners = ( { port = 7; service = \"echo\"; upstream = \"app\"; } );\n",
		   "t.conf:3: listeners[0].upstream: only for protocol \"tcp\"");
}

Test(config, listener_unknown_upstream)
{
	expect_err(PORT_FRONT UP_APP "listeners = ( { port = 5432; protocol = \"tcp\";\n  upstream = \"App\"; } );\n",
		   "t.conf:4: listeners[0].upstream: no upstream named \"App\" in upstreams");
	/* No upstreams at all. */
	expect_err(PORT_FRONT "listeners = ( { port = 5432; protocol = \"tcp\"; upstream = \"db\"; } );\n",
		   "t.conf:2: listeners[0].upstream: no upstream named \"db\" in upstreams");
	expect_err(PORT_FRONT UP_APP "listeners = ( { port = 5432; protocol = \"tcp\"; upstream = 1; } );\n",
		   "t.conf:3: listeners[0].upstream: expected a string, got an integer");
}

Test(config, listener_bytes_not_for_proxies)
{
	expect_err(PORT_FRONT UP_APP "listeners = ( { port = 5432; protocol = \"tcp\"; upstream = \"app\";\n"
		   "  bytes = 10; } );\n",
		   "t.conf:4: listeners[0].bytes: only for service \"source\"");
}

/* ------------------------------------------------------------------------ */
/* upstreams                                                                */
/* ------------------------------------------------------------------------ */

Test(config, upstreams_wrong_shape)
{
	expect_err(PORT_FRONT "upstreams = { name = \"app\"; };\n",
		   "t.conf:2: upstreams: expected a list of groups ( { ... }, ... ), got a group");
	expect_err(PORT_FRONT "upstreams = (\n  \"app\" );\n",
		   "t.conf:3: upstreams[0]: expected a group { name = ...; ... }, got a string");
	expect_err(PORT_FRONT "upstreams = ( { name = \"app\";\n  servers = { address = \"10.0.0.2:80\"; }; } );\n",
		   "t.conf:3: upstreams[0].servers: expected a list of groups ( { ... }, ... ), got a group");
	expect_err(PORT_FRONT "upstreams = ( { name = \"app\"; servers = (\n  \"10.0.0.2:80\" ); } );\n",
		   "t.conf:3: upstreams[0].servers[0]: expected a group { address = ...; ... }, got a string");
}

Test(config, too_many_upstreams)
{
	char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text), PORT_FRONT "upstreams = (\n");
	for (int i = 0; i < 33; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "  { name = \"u%d\"; servers = ( { address = \"10.0.0.1:80\"; } ); }%s\n",
				      i, i < 32 ? "," : "");
	snprintf(text + n, sizeof(text) - n, ");\n");
	expect_err(text, "t.conf:2: upstreams: must have 0..32 entries, got 33");
	char *last = strstr(text, "  { name = \"u32\";");
	cr_assert_not_null(last);
	snprintf(last - 2, sizeof(text) - (size_t)(last - 2 - text), "\n);\n");
	expect_ok(text);
	cr_assert_eq(cfg.upstream_count, 32);
	cr_assert_str_eq(cfg.upstreams[31].name, "u31");
}

Test(config, upstream_bad_name)
{
	expect_err(PORT_FRONT "upstreams = (\n  { servers = ( { address = \"10.0.0.2:80\"; } ); } );\n",
		   "t.conf:3: upstreams[0].name: missing mandatory setting");
	expect_err(PORT_FRONT "upstreams = ( { name = \"\"; servers = ( { address = \"10.0.0.2:80\"; } ); } );\n",
		   "t.conf:2: upstreams[0].name: must be non-empty and use only A-Z a-z 0-9 _ . -, got \"\"");
	expect_err(PORT_FRONT "upstreams = ( { name = \"my app\"; servers = ( { address = \"10.0.0.2:80\"; } ); } );\n",
		   "t.conf:2: upstreams[0].name: must be non-empty and use only A-Z a-z 0-9 _ . -, got \"my app\"");
	expect_err(PORT_FRONT "upstreams = ( { name = \"abcdefghijklmnopqrstuvwxyz012345\";\n"
		   "  servers = ( { address = \"10.0.0.2:80\"; } ); } );\n",
		   "t.conf:2: upstreams[0].name: too long (32 characters, at most 31)");
}

Test(config, upstream_duplicate_name)
{
	expect_err(PORT_FRONT
		   "upstreams = (\n"
		   "  { name = \"app\"; servers = ( { address = \"10.0.0.2:80\"; } ); },\n"
		   "  { name = \"db\"; servers = ( { address = \"10.0.0.3:80\"; } ); },\n"
		   "  { servers = ( { address = \"10.0.0.4:80\"; } );\n"
		   "    name = \"app\"; }\n"
		   ");\n",
		   "t.conf:6: upstreams[2].name: duplicate name \"app\" (already used by upstreams[0])");
}

Test(config, upstream_bad_balance)
{
	expect_err(UP_WITH("balance = \"random\";") PORT_FRONT,
		   "t.conf:2: upstreams[0].balance: expected \"round_robin\", \"least_conn\" or \"hash\", got \"random\"");
	expect_err(UP_WITH("balance = 1;") PORT_FRONT,
		   "t.conf:2: upstreams[0].balance: expected a string, got an integer");
}

Test(config, upstream_servers_count)
{
	expect_err(PORT_FRONT "upstreams = ( { name = \"app\"; },\n  { name = \"db\"; } );\n",
		   "t.conf:2: upstreams[0].servers: missing mandatory setting");
	expect_err(PORT_FRONT "upstreams = ( { name = \"app\";\n  servers = (); } );\n",
		   "t.conf:3: upstreams[0].servers: must have 1..32 entries, got 0");
	char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text), PORT_FRONT "upstreams = ( { name = \"app\";\n  servers = (\n");
	for (int i = 0; i < 33; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "    { address = \"10.0.1.%d:80\"; }%s\n", i + 1,
				      i < 32 ? "," : "");
	snprintf(text + n, sizeof(text) - n, "  ); } );\n");
	expect_err(text, "t.conf:3: upstreams[0].servers: must have 1..32 entries, got 33");
}

Test(config, server_bad_address)
{
	static const char *const bad[] = { "10.0.0.2", "10.0.0.2:", "10.0.0.2:0", "10.0.0.2:65536",
					   "10.0.0.2:080", "10.0.0.2:80x", "10.0.0.256:80", ":80",
					   "host.example:80", " 10.0.0.2:80", "10.0.0.2:+80", "10.0.0.2::80" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512], want[512];
		snprintf(text, sizeof(text), PORT_FRONT "upstreams = ( { name = \"app\"; servers = (\n"
			 "  { address = \"%s\"; } ); } );\n", bad[i]);
		snprintf(want, sizeof(want), "t.conf:3: upstreams[0].servers[0].address: bad address \"%s\" "
			 "(expected a.b.c.d:port, each part 0..255, port 1..65535)", bad[i]);
		expect_err(text, want);
	}
	expect_err(PORT_FRONT "upstreams = ( { name = \"app\"; servers = ( { weight = 2; },\n  {} ); } );\n",
		   "t.conf:2: upstreams[0].servers[0].address: missing mandatory setting");
}

Test(config, server_address_not_unicast)
{
	expect_err(PORT_FRONT "upstreams = ( { name = \"app\"; servers = ( { address = \"0.0.0.0:80\"; } ); } );\n",
		   "t.conf:2: upstreams[0].servers[0].address: 0.0.0.0:80 is in 0.0.0.0/8 (\"this network\")");
	expect_err(PORT_FRONT "upstreams = ( { name = \"app\"; servers = ( { address = \"127.0.0.1:80\"; } ); } );\n",
		   "t.conf:2: upstreams[0].servers[0].address: 127.0.0.1:80 is a loopback address");
	expect_err(PORT_FRONT "upstreams = ( { name = \"app\"; servers = ( { address = \"255.255.255.255:80\"; } ); } );\n",
		   "t.conf:2: upstreams[0].servers[0].address: 255.255.255.255:80 is a multicast or reserved address");
}

Test(config, server_duplicate_address)
{
	expect_err(PORT_FRONT
		   "upstreams = ( { name = \"app\"; servers = (\n"
		   "  { address = \"10.0.0.2:80\"; },\n"
		   "  { address = \"10.0.0.2:81\"; },\n"
		   "  { weight = 3;\n"
		   "    address = \"10.0.0.2:80\"; } ); } );\n",
		   "t.conf:6: upstreams[0].servers[2].address: duplicate server 10.0.0.2:80 "
		   "(already used by upstreams[0].servers[0])");
	/* The same server in two upstreams is fine. */
	expect_ok(PORT_FRONT "upstreams = ( { name = \"a\"; servers = ( { address = \"10.0.0.2:80\"; } ); },\n"
		  "  { name = \"b\"; servers = ( { address = \"10.0.0.2:80\"; } ); } );\n");
}

Test(config, server_ranges_and_unknown_settings)
{
	expect_err(PORT_FRONT "upstreams = ( { name = \"app\"; servers = (\n  { address = \"10.0.0.2:80\"; weight = 0; } ); } );\n",
		   "t.conf:3: upstreams[0].servers[0].weight: must be in 1..256, got 0");
	expect_err(PORT_FRONT "upstreams = ( { name = \"app\"; servers = ( { address = \"10.0.0.2:80\"; weight = 257; } ); } );\n",
		   "t.conf:2: upstreams[0].servers[0].weight: must be in 1..256, got 257");
	expect_err(PORT_FRONT "upstreams = ( { name = \"app\"; servers = ( { address = \"10.0.0.2:80\"; max_connections = -1; } ); } );\n",
		   "t.conf:2: upstreams[0].servers[0].max_connections: must be in 0..4194304, got -1");
	expect_err(PORT_FRONT "upstreams = ( { name = \"app\"; servers = ( { address = \"10.0.0.2:80\";\n"
		   "  max_conns = 5; } ); } );\n",
		   "t.conf:3: upstreams[0].servers[0].max_conns: unknown setting");
}

Test(config, upstream_unknown_settings)
{
	expect_err(UP_WITH("balancing = \"hash\";") PORT_FRONT, "t.conf:2: upstreams[0].balancing: unknown setting");
	expect_err(UP_WITH("keepalive = { max_idle = 1; idle_ms = 5; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].keepalive.idle_ms: unknown setting");
	expect_err(UP_WITH("timeouts = { connect = 5; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].timeouts.connect: unknown setting");
	expect_err(UP_WITH("health_check = { uri = \"/\"; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].health_check.uri: unknown setting");
	expect_err(UP_WITH("passive = { fails = 1; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].passive.fails: unknown setting");
}

Test(config, upstream_groups_wrong_shape)
{
	expect_err(UP_WITH("keepalive = true;") PORT_FRONT,
		   "t.conf:2: upstreams[0].keepalive: expected a group { ... }, got a boolean");
	expect_err(UP_WITH("timeouts = 100;") PORT_FRONT,
		   "t.conf:2: upstreams[0].timeouts: expected a group { ... }, got an integer");
	expect_err(UP_WITH("health_check = \"/\";") PORT_FRONT,
		   "t.conf:2: upstreams[0].health_check: expected a group { ... }, got a string");
	expect_err(UP_WITH("passive = ();") PORT_FRONT,
		   "t.conf:2: upstreams[0].passive: expected a group { ... }, got a list");
}

Test(config, upstream_out_of_range_integers)
{
	expect_err(UP_WITH("keepalive = { max_idle = 4097; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].keepalive.max_idle: must be in 0..4096, got 4097");
	expect_err(UP_WITH("keepalive = { idle_timeout_ms = 99; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].keepalive.idle_timeout_ms: must be in 100..3600000, got 99");
	expect_err(UP_WITH("timeouts = { connect_ms = 600001; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].timeouts.connect_ms: must be in 10..600000, got 600001");
	expect_err(UP_WITH("timeouts = { read_ms = 9; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].timeouts.read_ms: must be in 10..3600000, got 9");
	expect_err(UP_WITH("timeouts = { write_ms = 3600001; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].timeouts.write_ms: must be in 10..3600000, got 3600001");
	expect_err(UP_WITH("retries = 11;") PORT_FRONT, "t.conf:2: upstreams[0].retries: must be in 0..10, got 11");
	expect_err(UP_WITH("health_check = { interval_ms = 99; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].health_check.interval_ms: must be in 100..3600000, got 99");
	expect_err(UP_WITH("health_check = { timeout_ms = 9; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].health_check.timeout_ms: must be in 10..600000, got 9");
	expect_err(UP_WITH("health_check = { rise = 0; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].health_check.rise: must be in 1..100, got 0");
	expect_err(UP_WITH("health_check = { fall = 101; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].health_check.fall: must be in 1..100, got 101");
	expect_err(UP_WITH("passive = { max_fails = 1001; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].passive.max_fails: must be in 0..1000, got 1001");
	expect_err(UP_WITH("passive = { fail_timeout_ms = 3600001; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].passive.fail_timeout_ms: must be in 100..3600000, got 3600001");
	expect_err(UP_WITH("retries = \"1\";") PORT_FRONT,
		   "t.conf:2: upstreams[0].retries: expected an integer, got a string");
}

Test(config, health_check_timeout_below_interval)
{
	/* Only one of the pair written: it is blamed. */
	expect_err(UP_WITH("health_check = { timeout_ms = 2000; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].health_check.timeout_ms: must be < upstreams[0].health_check.interval_ms "
		   "(2000), got 2000");
	expect_err(UP_WITH("health_check = { interval_ms = 500; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].health_check.interval_ms: must be > upstreams[0].health_check.timeout_ms "
		   "(1000), got 500");
	/* Both written: the interval is blamed. */
	expect_err(PORT_FRONT "upstreams = ( { name = \"a\"; servers = ( { address = \"10.0.0.2:80\"; } ); },\n"
		   "  { name = \"b\"; servers = ( { address = \"10.0.0.2:80\"; } );\n"
		   "    health_check = { timeout_ms = 3000;\n      interval_ms = 3000; }; } );\n",
		   "t.conf:5: upstreams[1].health_check.interval_ms: must be > upstreams[1].health_check.timeout_ms "
		   "(3000), got 3000");
}

Test(config, health_check_bad_path)
{
	expect_err(UP_WITH("health_check = { path = \"healthz\"; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].health_check.path: must start with '/' and use only visible ASCII "
		   "characters (no space), got \"healthz\"");
	expect_err(UP_WITH("health_check = { path = \"/health z\"; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].health_check.path: must start with '/' and use only visible ASCII "
		   "characters (no space), got \"/health z\"");
	expect_err(UP_WITH("health_check = { path = \"/a\\tb\"; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].health_check.path: must start with '/' and use only visible ASCII "
		   "characters (no space), got \"/a?b\"");
	expect_err(UP_WITH("health_check = { path = \"\"; };") PORT_FRONT,
		   "t.conf:2: upstreams[0].health_check.path: must start with '/' and use only visible ASCII "
		   "characters (no space), got \"\"");
}

/* ------------------------------------------------------------------------ */
/* routes                                                                   */
/* ------------------------------------------------------------------------ */

Test(config, routes_wrong_shape)
{
	expect_err(PORT_FRONT UP_APP "routes = { upstream = \"app\"; };\n",
		   "t.conf:3: routes: expected a list of groups ( { ... }, ... ), got a group");
	expect_err(PORT_FRONT UP_APP "routes = (\n  { upstream = \"app\"; },\n  \"app\" );\n",
		   "t.conf:5: routes[1]: expected a group { upstream = ...; ... }, got a string");
	char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text), PORT_FRONT UP_APP "routes = (\n");
	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "  { path = \"/%d\"; upstream = \"app\"; }%s\n", i,
				      i < 64 ? "," : "");
	snprintf(text + n, sizeof(text) - n, ");\n");
	expect_err(text, "t.conf:3: routes: must have 0..64 entries, got 65");
	char *last = strstr(text, "  { path = \"/64\";");
	cr_assert_not_null(last);
	snprintf(last - 2, sizeof(text) - (size_t)(last - 2 - text), "\n);\n");
	expect_ok(text);
	cr_assert_eq(cfg.route_count, 64);
	cr_assert_str_eq(cfg.routes[63].path_prefix, "/63");
}

Test(config, route_missing_or_unknown_upstream)
{
	expect_err(PORT_FRONT UP_APP "routes = (\n  { path = \"/\"; } );\n",
		   "t.conf:4: routes[0].upstream: missing mandatory setting");
	expect_err(PORT_FRONT UP_APP "routes = ( { upstream = \"app\"; },\n  { upstream = \"ap\"; } );\n",
		   "t.conf:4: routes[1].upstream: no upstream named \"ap\" in upstreams");
	expect_err(PORT_FRONT "routes = ( { upstream = \"app\"; } );\n",
		   "t.conf:2: routes[0].upstream: no upstream named \"app\" in upstreams");
}

Test(config, route_bad_host)
{
	static const struct {
		const char *host, *why;
	} bad[] = {
		{ "example.com:80", "no port allowed (a route matches every port of its listeners)" },
		{ "exa mple.com", "only A-Z a-z 0-9 - . _ allowed" },
		{ "example.com/v1", "only A-Z a-z 0-9 - . _ allowed" },
		{ "api.*.com", "'*' only alone or as the first label (\"*.example.com\")" },
		{ "*example.com", "'*' only alone or as the first label (\"*.example.com\")" },
		{ "*.*.example.com", "'*' only alone or as the first label (\"*.example.com\")" },
		{ "**", "'*' only alone or as the first label (\"*.example.com\")" },
		{ "*.", "empty label" },
		{ ".example.com", "empty label" },
		{ "example..com", "empty label" },
		{ "example.com.", "empty label" },
		{ "", "must not be empty (omit it, or use \"*\", to match any host)" },
		{ "[::1]", "only A-Z a-z 0-9 - . _ allowed" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512], want[512];
		snprintf(text, sizeof(text), PORT_FRONT UP_APP "routes = (\n  { upstream = \"app\"; host = \"%s\"; } );\n",
			 bad[i].host);
		snprintf(want, sizeof(want), "t.conf:4: routes[0].host: bad host \"%s\": %s", bad[i].host, bad[i].why);
		expect_err(text, want);
	}
	expect_err(PORT_FRONT UP_APP "routes = ( { upstream = \"app\"; host = 1; } );\n",
		   "t.conf:3: routes[0].host: expected a string, got an integer");
}

Test(config, route_bad_path)
{
	expect_err(PORT_FRONT UP_APP "routes = ( { upstream = \"app\";\n  path = \"v1/\"; } );\n",
		   "t.conf:4: routes[0].path: must start with '/' and use only visible ASCII characters (no space), "
		   "got \"v1/\"");
	expect_err(PORT_FRONT UP_APP "routes = ( { upstream = \"app\"; path = \"/a b\"; } );\n",
		   "t.conf:3: routes[0].path: must start with '/' and use only visible ASCII characters (no space), "
		   "got \"/a b\"");
	expect_err(PORT_FRONT UP_APP "routes = ( { upstream = \"app\"; path = \"/caf\\xc3\\xa9\"; } );\n",
		   "t.conf:3: routes[0].path: must start with '/' and use only visible ASCII characters (no space), "
		   "got \"/caf\xc3\xa9\"");
	expect_err(PORT_FRONT UP_APP "routes = ( { upstream = \"app\"; path = \"\"; } );\n",
		   "t.conf:3: routes[0].path: must start with '/' and use only visible ASCII characters (no space), "
		   "got \"\"");
}

Test(config, route_bad_method)
{
	static const char *const bad[] = { "get", "GET ", "", "M-SEARCH", "GET1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512], want[512];
		snprintf(text, sizeof(text), PORT_FRONT UP_APP "routes = ( { upstream = \"app\";\n  method = \"%s\"; } );\n",
			 bad[i]);
		snprintf(want, sizeof(want), "t.conf:4: routes[0].method: expected an upper-case method such as "
			 "\"GET\" (1..15 letters A-Z), got \"%s\"", bad[i]);
		expect_err(text, want);
	}
	expect_err(PORT_FRONT UP_APP "routes = ( { upstream = \"app\"; method = \"ABCDEFGHIJKLMNOP\"; } );\n",
		   "t.conf:3: routes[0].method: too long (16 characters, at most 15)");
}

Test(config, route_listener_must_be_http)
{
	const char *ls = "listeners = ( { port = 80; protocol = \"http\"; }, { port = 7; service = \"echo\"; },\n"
			 "  { port = 5432; protocol = \"tcp\"; upstream = \"app\"; } );\n";
	char text[1024];
	snprintf(text, sizeof(text), PORT_FRONT UP_APP "%sroutes = ( { upstream = \"app\";\n  listener = 7; } );\n", ls);
	expect_err(text, "t.conf:6: routes[0].listener: listeners[1] (port 7) is not an http listener (protocol = \"http\")");
	snprintf(text, sizeof(text), PORT_FRONT UP_APP "%sroutes = ( { upstream = \"app\"; listener = 5432; } );\n", ls);
	expect_err(text, "t.conf:5: routes[0].listener: listeners[2] (port 5432) is not an http listener (protocol = \"http\")");
	snprintf(text, sizeof(text), PORT_FRONT UP_APP "%sroutes = ( { upstream = \"app\"; listener = 8080; } );\n", ls);
	expect_err(text, "t.conf:5: routes[0].listener: no listener on port 8080 in listeners");
	snprintf(text, sizeof(text), PORT_FRONT UP_APP "%sroutes = ( { upstream = \"app\"; listener = 65536; } );\n", ls);
	expect_err(text, "t.conf:5: routes[0].listener: must be in 0..65535, got 65536");
	snprintf(text, sizeof(text), PORT_FRONT UP_APP "%sroutes = ( { upstream = \"app\"; listener = 0; } );\n", ls);
	expect_ok(text);
	cr_assert_eq(cfg.routes[0].listen_port, 0);
}

Test(config, route_unknown_setting)
{
	expect_err(PORT_FRONT UP_APP "routes = ( { upstream = \"app\";\n  prefix = \"/\"; } );\n",
		   "t.conf:4: routes[0].prefix: unknown setting");
}

Test(config, http_listener_needs_a_route)
{
	/* No routes at all: reported at the listener's protocol. */
	expect_err(PORT_FRONT UP_APP "listeners = ( { port = 7; service = \"echo\"; },\n"
		   "  { port = 80;\n    protocol = \"http\"; } );\n",
		   "t.conf:5: routes: an http listener needs at least one route");
	/* An empty list: reported at the list. */
	expect_err(PORT_FRONT UP_APP HTTP_80 "\nroutes = ();\n",
		   "t.conf:5: routes: an http listener needs at least one route");
}

/* ------------------------------------------------------------------------ */
/* http                                                                     */
/* ------------------------------------------------------------------------ */

Test(config, http_out_of_range_integers)
{
	expect_err(PORT_FRONT "http: {\n  max_request_line = 63;\n};\n",
		   "t.conf:3: http.max_request_line: must be in 64..1048576, got 63");
	expect_err(PORT_FRONT "http: { max_header_bytes = 255; };\n",
		   "t.conf:2: http.max_header_bytes: must be in 256..1048576, got 255");
	expect_err(PORT_FRONT "http: { max_headers = 129; };\n",
		   "t.conf:2: http.max_headers: must be in 1..128, got 129");
	expect_err(PORT_FRONT "http: { max_body_bytes = -1; };\n",
		   "t.conf:2: http.max_body_bytes: must be in 0..4611686018427387904, got -1");
	expect_err(PORT_FRONT "http: { max_body_bytes = 4294967296; };\n",
		   "t.conf:2: syntax: integer 4294967296 does not fit in 32 bits");
	expect_err(PORT_FRONT "http: { header_timeout_ms = 3600001; };\n",
		   "t.conf:2: http.header_timeout_ms: must be in 100..3600000, got 3600001");
	expect_err(PORT_FRONT "http: { body_timeout_ms = 3600001; };\n",
		   "t.conf:2: http.body_timeout_ms: must be in 0..3600000, got 3600001");
	expect_err(PORT_FRONT "http: { body_min_rate = 1073741825; };\n",
		   "t.conf:2: http.body_min_rate: must be in 0..1073741824, got 1073741825");
	expect_err(PORT_FRONT "http: { idle_timeout_ms = 99; };\n",
		   "t.conf:2: http.idle_timeout_ms: must be in 100..86400000, got 99");
	expect_err(PORT_FRONT "http: { max_sessions_per_shard = 15; };\n",
		   "t.conf:2: http.max_sessions_per_shard: must be in 16..1048576, got 15");
	expect_err(PORT_FRONT "http: { max_headers = 1.0; };\n",
		   "t.conf:2: http.max_headers: expected an integer, got a float");
}

Test(config, http_bad_via_and_access_log)
{
	expect_err(PORT_FRONT "http: {\n  via = \"porter 1.0\";\n};\n",
		   "t.conf:3: http.via: must be \"\" or a token (A-Z a-z 0-9 and !#$%&'*+-.^_`|~), got \"porter 1.0\"");
	expect_err(PORT_FRONT "http: { via = \"a(b)\"; };\n",
		   "t.conf:2: http.via: must be \"\" or a token (A-Z a-z 0-9 and !#$%&'*+-.^_`|~), got \"a(b)\"");
	expect_err(PORT_FRONT "http: { via = \"0123456789012345678901234567890123456789012345678901234567890123\"; };\n",
		   "t.conf:2: http.via: too long (64 characters, at most 63)");
	expect_err(PORT_FRONT "http: { access_log = \"access.log\"; };\n",
		   "t.conf:2: http.access_log: must be \"\" or an absolute path, got \"access.log\"");
	expect_err(PORT_FRONT "http: { access_log = \"/var/log/a\\nb\"; };\n",
		   "t.conf:2: http.access_log: must not contain control characters");
	char text[1024], log[300];
	memset(log, 'a', sizeof(log));
	log[0] = '/';
	log[256] = '\0';
	snprintf(text, sizeof(text), PORT_FRONT "http: { access_log = \"%s\"; };\n", log);
	expect_err(text, "t.conf:2: http.access_log: too long (256 characters, at most 255)");
}

Test(config, http_shape_and_unknown_setting)
{
	expect_err(PORT_FRONT "http = ( );\n", "t.conf:2: http: expected a group { ... }, got a list");
	expect_err(PORT_FRONT "http: {\n  max_header_size = 100;\n};\n", "t.conf:3: http.max_header_size: unknown setting");
	expect_err(PORT_FRONT "\nroute = ();\n", "t.conf:3: route: unknown setting");
}

/* ------------------------------------------------------------------------ */
/* static_routes                                                            */
/* ------------------------------------------------------------------------ */

/* Two ports on lines 1-2: front 10.99.0.2/24 (gateway 10.99.0.1), back 10.98.0.2/24. */
#define TWO_PORTS                                                                               \
	"ports = ( { name = \"front\"; device = \"net_tap0\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.99.0.2/24\"; gateway = \"10.99.0.1\"; },\n" \
	"          { name = \"back\"; device = \"net_tap1\"; mac = \"02:00:00:00:00:02\"; ipv4 = \"10.98.0.2/24\"; } );\n"

/* One static route on line 3. */
#define SROUTE(body) TWO_PORTS "static_routes = ( { " body " } );\n"

Test(config, static_routes_values)
{
	expect_ok(TWO_PORTS
		  "static_routes = ( { to = \"10.97.0.0/16\"; via = \"10.98.0.1\"; },\n"
		  "  { via = \"10.99.0.254\"; to = \"10.97.5.0/24\"; },\n"
		  "  { to = \"192.0.2.7/32\"; via = \"10.98.0.254\"; },\n"
		  "  { to = \"0.0.0.0/0\"; via = \"10.98.0.1\"; } );\n");
	cr_assert_eq(cfg.static_route_count, 4);
	const struct porter_cfg_static_route *r = cfg.static_routes;
	cr_assert_eq(r[0].dst, 0x0a610000u);
	cr_assert_eq(r[0].prefix_len, 16);
	cr_assert_eq(r[0].via, 0x0a620001u);
	cr_assert_eq(r[0].port, 1);
	cr_assert_eq(r[1].dst, 0x0a610500u);
	cr_assert_eq(r[1].prefix_len, 24);
	cr_assert_eq(r[1].via, 0x0a6300feu);
	cr_assert_eq(r[1].port, 0);
	cr_assert_eq(r[2].dst, 0xc0000207u);
	cr_assert_eq(r[2].prefix_len, 32);
	cr_assert_eq(r[2].port, 1);
	cr_assert_eq(r[3].dst, 0);
	cr_assert_eq(r[3].prefix_len, 0);
	cr_assert_eq(r[3].port, 1);
	/* a route that contains a port's subnet is fine (the subnet wins inside it) */
	expect_ok(SROUTE("to = \"10.0.0.0/8\"; via = \"10.98.0.1\";"));
	/* parsed after the ports whatever the order in the file */
	expect_ok("static_routes = ( { to = \"10.97.0.0/16\"; via = \"10.98.0.1\"; } );\n" TWO_PORTS);
	cr_assert_eq(cfg.static_routes[0].port, 1);
}

Test(config, static_routes_via_the_longest_port_subnet)
{
	/* 10.98.0.1 is in both 10.0.0.0/8 (port 0) and 10.98.0.0/24 (port 1) */
	expect_ok("ports = ( { name = \"a\"; device = \"d0\"; mac = \"02:00:00:00:00:01\"; ipv4 = \"10.1.0.2/8\"; },\n"
		  "          { name = \"b\"; device = \"d1\"; mac = \"02:00:00:00:00:02\"; ipv4 = \"10.98.0.2/24\"; } );\n"
		  "static_routes = ( { to = \"192.168.0.0/16\"; via = \"10.98.0.1\"; },\n"
		  "                  { to = \"192.169.0.0/16\"; via = \"10.97.0.1\"; } );\n");
	cr_assert_eq(cfg.static_routes[0].port, 1);
	cr_assert_eq(cfg.static_routes[1].port, 0);
}

Test(config, static_routes_shape)
{
	expect_err(TWO_PORTS "static_routes = { to = \"10.97.0.0/16\"; };\n",
		   "t.conf:3: static_routes: expected a list of groups ( { ... }, ... ), got a group");
	expect_err(TWO_PORTS "static_routes = ( \"10.97.0.0/16\" );\n",
		   "t.conf:3: static_routes[0]: expected a group { to = ...; via = ...; }, got a string");
	expect_err(SROUTE("to = \"10.97.0.0/16\"; via = \"10.98.0.1\"; dev = \"back\";"),
		   "t.conf:3: static_routes[0].dev: unknown setting");
	expect_err(SROUTE("via = \"10.98.0.1\";"), "t.conf:3: static_routes[0].to: missing mandatory setting");
	expect_err(SROUTE("to = \"10.97.0.0/16\";"), "t.conf:3: static_routes[0].via: missing mandatory setting");
	expect_err(SROUTE("to = 10; via = \"10.98.0.1\";"),
		   "t.conf:3: static_routes[0].to: expected a string, got an integer");
}

Test(config, too_many_static_routes)
{
	static char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text), "%s", TWO_PORTS "static_routes = (\n");
	for (int i = 0; i <= PORTER_CFG_MAX_STATIC_ROUTES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s{ to = \"172.16.%d.0/24\"; via = \"10.98.0.1\"; }\n",
				      i ? "," : "", i);
	snprintf(text + n, sizeof(text) - n, ");\n");
	expect_err(text, "t.conf:3: static_routes: must have 0..32 entries, got 33");
	/* 32 are fine */
	char *last = strrchr(text, ',');
	snprintf(last, sizeof(text) - (size_t)(last - text), ");\n");
	expect_ok(text);
	cr_assert_eq(cfg.static_route_count, 32);
}

Test(config, static_route_bad_to)
{
	expect_err(SROUTE("to = \"10.97.0.0\"; via = \"10.98.0.1\";"),
		   "t.conf:3: static_routes[0].to: missing \"/len\" in \"10.97.0.0\" (expected a.b.c.d/len)");
	expect_err(SROUTE("to = \"10.97.0/16\"; via = \"10.98.0.1\";"),
		   "t.conf:3: static_routes[0].to: bad address in \"10.97.0/16\" (expected a.b.c.d/len, each part 0..255)");
	expect_err(SROUTE("to = \"10.97.0.0/33\"; via = \"10.98.0.1\";"),
		   "t.conf:3: static_routes[0].to: prefix length must be in 0..32, got 33");
	expect_err(SROUTE("to = \"10.97.0.0/016\"; via = \"10.98.0.1\";"),
		   "t.conf:3: static_routes[0].to: bad prefix length in \"10.97.0.0/016\" (expected a.b.c.d/len, len 0..32)");
	expect_err(SROUTE("to = \"10.97.1.0/16\"; via = \"10.98.0.1\";"),
		   "t.conf:3: static_routes[0].to: 10.97.1.0/16 has host bits set (the network is 10.97.0.0/16)");
	expect_err(SROUTE("to = \"10.0.0.1/0\"; via = \"10.98.0.1\";"),
		   "t.conf:3: static_routes[0].to: 10.0.0.1/0 has host bits set (the network is 0.0.0.0/0)");
	/* a port's prefix is still 1..32 */
	expect_err(PORT_WITH("10.0.0.0/0", ""), "t.conf:4: ports[0].ipv4: prefix length must be in 1..32, got 0");
}

Test(config, static_route_inside_a_port_subnet)
{
	expect_err(SROUTE("to = \"10.98.0.128/25\"; via = \"10.99.0.1\";"),
		   "t.conf:3: static_routes[0].to: 10.98.0.128/25 is inside the subnet 10.98.0.0/24 of ports[1] "
		   "(\"back\"): that port's subnet always wins, the route would never be used");
	expect_err(SROUTE("to = \"10.99.0.0/24\"; via = \"10.98.0.1\";"),
		   "t.conf:3: static_routes[0].to: 10.99.0.0/24 is inside the subnet 10.99.0.0/24 of ports[0] "
		   "(\"front\"): that port's subnet always wins, the route would never be used");
}

Test(config, static_route_duplicate_to)
{
	expect_err(TWO_PORTS "static_routes = ( { to = \"10.97.0.0/16\"; via = \"10.98.0.1\"; },\n"
		   "  { to = \"10.97.0.0/16\"; via = \"10.99.0.1\"; } );\n",
		   "t.conf:4: static_routes[1].to: duplicate destination 10.97.0.0/16 (already used by static_routes[0])");
	/* the same network with another length is another route */
	expect_ok(TWO_PORTS "static_routes = ( { to = \"10.97.0.0/16\"; via = \"10.98.0.1\"; },\n"
		  "  { to = \"10.97.0.0/17\"; via = \"10.99.0.1\"; } );\n");
}

Test(config, static_route_bad_via)
{
	expect_err(SROUTE("to = \"10.97.0.0/16\"; via = \"10.98.0.1/24\";"),
		   "t.conf:3: static_routes[0].via: bad address \"10.98.0.1/24\" (expected a.b.c.d, each part 0..255)");
	expect_err(SROUTE("to = \"10.97.0.0/16\"; via = \"10.96.0.1\";"),
		   "t.conf:3: static_routes[0].via: 10.96.0.1 is not inside the subnet of any port");
	expect_err(SROUTE("to = \"10.97.0.0/16\"; via = \"10.98.0.2\";"),
		   "t.conf:3: static_routes[0].via: 10.98.0.2 is the address of ports[1] (\"back\")");
	expect_err(SROUTE("to = \"10.97.0.0/16\"; via = \"10.98.0.255\";"),
		   "t.conf:3: static_routes[0].via: 10.98.0.255 is the broadcast address of its subnet");
	expect_err(SROUTE("to = \"10.97.0.0/16\"; via = \"10.99.0.0\";"),
		   "t.conf:3: static_routes[0].via: 10.99.0.0 is the network address of its subnet");
}

/* ------------------------------------------------------------------------ */
/* client_limits                                                            */
/* ------------------------------------------------------------------------ */

Test(config, client_limits_bursts_default_to_their_rates)
{
	expect_ok(PORT_FRONT "client_limits: { conn_rate = 7; http_req_rate = 300; };\n");
	cr_assert_eq(cfg.client_limits.conn_rate, 7);
	cr_assert_eq(cfg.client_limits.conn_burst, 7);
	cr_assert_eq(cfg.client_limits.http_req_rate, 300);
	cr_assert_eq(cfg.client_limits.http_req_burst, 300);
	cr_assert_eq(cfg.client_limits.max_conns, 0);
	/* a burst may be smaller or larger than its rate */
	expect_ok(PORT_FRONT "client_limits: { conn_rate = 100; conn_burst = 1; http_req_rate = 1;\n"
		  "  http_req_burst = 1000000; };\n");
	cr_assert_eq(cfg.client_limits.conn_burst, 1);
	cr_assert_eq(cfg.client_limits.http_req_burst, 1000000);
}

Test(config, client_limits_accepted_edge_values)
{
	expect_ok(PORT_FRONT "client_limits: { max_conns = 4194304; conn_rate = 1000000; conn_burst = 1;\n"
		  "  http_req_rate = 1000000; http_req_burst = 1; table_size = 4194304; };\n");
	cr_assert_eq(cfg.client_limits.max_conns, 4194304);
	cr_assert_eq(cfg.client_limits.table_size, 4194304);
	expect_ok(PORT_FRONT "client_limits: { table_size = 1024; max_conns = 1; };\n");
	cr_assert_eq(cfg.client_limits.table_size, 1024);
	/* no table is fine as long as no limit needs one */
	expect_ok(PORT_FRONT "client_limits: { table_size = 0; max_conns = 0; conn_burst = 5; };\n");
	cr_assert_eq(cfg.client_limits.table_size, 0);
}

Test(config, client_limits_errors)
{
	expect_err(PORT_FRONT "client_limits: {\n max_conns = 4194305; };\n",
		   "t.conf:3: client_limits.max_conns: must be in 0..4194304, got 4194305");
	expect_err(PORT_FRONT "client_limits: {\n conn_rate = -1; };\n",
		   "t.conf:3: client_limits.conn_rate: must be in 0..1000000, got -1");
	expect_err(PORT_FRONT "client_limits: {\n conn_burst = 0; };\n",
		   "t.conf:3: client_limits.conn_burst: must be in 1..1000000, got 0");
	expect_err(PORT_FRONT "client_limits: {\n http_req_rate = 1000001; };\n",
		   "t.conf:3: client_limits.http_req_rate: must be in 0..1000000, got 1000001");
	expect_err(PORT_FRONT "client_limits: {\n http_req_burst = 0; };\n",
		   "t.conf:3: client_limits.http_req_burst: must be in 1..1000000, got 0");
	expect_err(PORT_FRONT "client_limits: {\n http_req_rate = 1.5; };\n",
		   "t.conf:3: client_limits.http_req_rate: expected an integer, got a float");
	expect_err(PORT_FRONT "client_limits: {\n table_size = 1000; };\n",
		   "t.conf:3: client_limits.table_size: must be 0 or a power of two in 1024..4194304, got 1000");
	expect_err(PORT_FRONT "client_limits: {\n table_size = 512; };\n",
		   "t.conf:3: client_limits.table_size: must be 0 or a power of two in 1024..4194304, got 512");
	expect_err(PORT_FRONT "client_limits: {\n table_size = 8388608; };\n",
		   "t.conf:3: client_limits.table_size: must be in 0..4194304, got 8388608");
	expect_err(PORT_FRONT "client_limits: { table_size = 0;\n conn_rate = 5; };\n",
		   "t.conf:3: client_limits.conn_rate: needs client_limits.table_size > 0 (it is 0: no table)");
	expect_err(PORT_FRONT "client_limits: {\n max_conns = 5;\n table_size = 0; };\n",
		   "t.conf:3: client_limits.max_conns: needs client_limits.table_size > 0 (it is 0: no table)");
	expect_err(PORT_FRONT "client_limits: { table_size = 0;\n\n http_req_rate = 5; };\n",
		   "t.conf:4: client_limits.http_req_rate: needs client_limits.table_size > 0 (it is 0: no table)");
	expect_err(PORT_FRONT "client_limits: {\n max_con = 5; };\n",
		   "t.conf:3: client_limits.max_con: unknown setting");
	expect_err(PORT_FRONT "client_limits = (\n );\n",
		   "t.conf:2: client_limits: expected a group { ... }, got a list");
}

/* ------------------------------------------------------------------------ */
/* porter_config_check_reload                                               */
/* ------------------------------------------------------------------------ */

static struct porter_config next_cfg;

/* Parse OLD into cfg and NEXT into next_cfg (both as "t.conf"), then check. */
static int reload(const char *old, const char *next)
{
	char e[PORTER_CFG_ERR_LEN];
	cr_assert_eq(porter_config_parse_string(old, "t.conf", &cfg, e, sizeof(e)), 0, "old: %s", e);
	cr_assert_eq(porter_config_parse_string(next, "t.conf", &next_cfg, e, sizeof(e)), 0, "new: %s", e);
	memset(err, 0, sizeof(err));
	return porter_config_check_reload(&cfg, &next_cfg, err, sizeof(err));
}

#define expect_reload_ok(old, next)                                             \
	do {                                                                    \
		int rc_ = reload(old, next);                                    \
		cr_assert_eq(rc_, 0, "reload refused: %s", err);                \
		cr_assert_str_eq(err, "");                                      \
	} while (0)

#define expect_reload_refused(old, next, setting)                               \
	do {                                                                    \
		int rc_ = reload(old, next);                                    \
		cr_assert_eq(rc_, -1, "reload accepted, expected %s", setting); \
		cr_assert_str_eq(err, "t.conf: " setting ": changed; needs a restart"); \
	} while (0)

Test(config, reload_accepts_same_file)
{
	expect_reload_ok(FULL, FULL);
	expect_reload_ok(PROXY, PROXY);
	/* Settings written or left to their defaults are the same thing. */
	expect_reload_ok(PORT_FRONT, PORT_FRONT "workers: { count = 2; };\ntcp: { congestion_control = \"cubic\"; };\n");
}

Test(config, reload_accepts_upstreams_routes_http)
{
	/* Everything but upstreams, routes and http is the same. */
	expect_reload_ok(PROXY,
			 PORT_FRONT
			 "listeners = ( { port = 80; protocol = \"http\"; },\n"
			 "  { port = 5432; protocol = \"tcp\"; upstream = \"db\"; }, { port = 7; service = \"echo\"; } );\n"
			 "upstreams = ( { name = \"db\"; servers = ( { address = \"10.0.0.10:5432\"; } ); },\n"
			 "  { name = \"new\"; balance = \"hash\"; servers = ( { address = \"10.0.1.1:80\"; } ); } );\n"
			 "routes = ( { host = \"*.other.org\"; upstream = \"new\"; }, { upstream = \"db\"; method = \"POST\"; } );\n"
			 "http: { max_headers = 10; via = \"\"; access_log = \"/tmp/a.log\"; };\n");
	/* The tcp listener still names "db", now upstreams[0] instead of [1]. */
	cr_assert_eq(cfg.listeners[1].upstream, 1);
	cr_assert_eq(next_cfg.listeners[1].upstream, 0);
	/* The path of the file is not compared. */
	char e[PORTER_CFG_ERR_LEN];
	cr_assert_eq(porter_config_parse_string(FULL, "a.conf", &cfg, e, sizeof(e)), 0, "%s", e);
	cr_assert_eq(porter_config_parse_string(FULL, "b.conf", &next_cfg, e, sizeof(e)), 0, "%s", e);
	cr_assert_eq(porter_config_check_reload(&cfg, &next_cfg, NULL, 0), 0);
}

Test(config, reload_refuses_listener_changes)
{
	const char *a = PORT_FRONT
			"upstreams = ( { name = \"app\"; servers = ( { address = \"10.0.0.2:80\"; } ); },\n"
			"  { name = \"db\"; servers = ( { address = \"10.0.0.3:80\"; } ); } );\n"
			"listeners = ( { port = 5432; protocol = \"tcp\"; upstream = \"db\"; } );\n";
	/* Another upstream for the tcp listener. */
	expect_reload_refused(a, PORT_FRONT
			      "upstreams = ( { name = \"app\"; servers = ( { address = \"10.0.0.2:80\"; } ); },\n"
			      "  { name = \"db\"; servers = ( { address = \"10.0.0.3:80\"; } ); } );\n"
			      "listeners = ( { port = 5432; protocol = \"tcp\"; upstream = \"app\"; } );\n",
			      "listeners");
	/* Another port, another kind, one more listener, one less. */
	expect_reload_refused(a, PORT_FRONT UP_APP "listeners = ( { port = 5433; protocol = \"tcp\"; upstream = \"app\"; } );\n",
			      "listeners");
	expect_reload_refused(a, PORT_FRONT UP_APP HTTP_80 ROUTE_APP, "listeners");
	expect_reload_refused(a, PORT_FRONT UP_APP
			      "listeners = ( { port = 5432; protocol = \"tcp\"; upstream = \"app\"; },\n"
			      "  { port = 7; service = \"echo\"; } );\n",
			      "listeners");
	expect_reload_refused(a, PORT_FRONT UP_APP, "listeners");
	expect_reload_refused(PORT_FRONT "listeners = ( { port = 19; service = \"source\"; } );\n",
			      PORT_FRONT "listeners = ( { port = 19; service = \"source\"; bytes = 1; } );\n",
			      "listeners");
}

/* A port's checksum_offload is set up when the port starts: a reload used to take a change silently. */
Test(config, reload_refuses_checksum_offload)
{
	expect_reload_refused(PORT_FRONT,
			      "ports = ( { name = \"front\"; device = \"net_tap0,iface=porter0\";"
			      " mac = \"02:70:6f:72:74:01\"; ipv4 = \"10.99.0.2/24\"; checksum_offload = \"off\"; } );\n",
			      "ports");
}

Test(config, reload_refuses_other_settings)
{
	expect_reload_refused(PORT_FRONT, PORT_FRONT "workers: { count = 3; };\n", "workers.count");
	expect_reload_refused(PORT_FRONT, PORT_FRONT "workers: { standby = false; };\n", "workers.standby");
	expect_reload_refused(PORT_FRONT, PORT_FRONT "tcp: { rcv_buf = 4096; };\n", "tcp.rcv_buf");
	expect_reload_refused(PORT_FRONT, PORT_FRONT "tcp: { congestion_control = \"newreno\"; };\n",
			      "tcp.congestion_control");
	expect_reload_refused(PORT_FRONT, PORT_FRONT "tcp: { keepalive: { enabled = true; }; };\n",
			      "tcp.keepalive.enabled");
	expect_reload_refused(PORT_FRONT, PORT_FRONT "tcp: { ephemeral_ports = [32768, 61000]; };\n",
			      "tcp.ephemeral_ports");
	expect_reload_refused(PORT_FRONT, PORT_FRONT "eal: { cpus = \"1\"; };\n", "eal.cpus");
	expect_reload_refused(PORT_FRONT, PORT_FRONT "dataplane: { arp_retries = 4; };\n", "dataplane.arp_retries");
	expect_reload_refused(PORT_FRONT, PORT_FRONT "control: { socket = \"/run/x.sock\"; };\n", "control.socket");
	expect_reload_refused(PORT_FRONT, PORT_WITH("10.99.0.2/24", "10.99.0.1"), "ports");
	expect_reload_refused(PORT_FRONT,
			      "ports = ( { name = \"front\"; device = \"net_tap0,iface=porter0\";"
			      " mac = \"02:70:6f:72:74:01\"; ipv4 = \"10.99.0.2/24\"; mtu = 1400; } );\n",
			      "ports");
	/* static routes: added, changed, removed, reordered; ports are named first */
	expect_reload_refused(TWO_PORTS, SROUTE("to = \"10.97.0.0/16\"; via = \"10.98.0.1\";"), "static_routes");
	expect_reload_refused(SROUTE("to = \"10.97.0.0/16\"; via = \"10.98.0.1\";"),
			      SROUTE("to = \"10.97.0.0/16\"; via = \"10.98.0.3\";"), "static_routes");
	expect_reload_refused(SROUTE("to = \"10.97.0.0/16\"; via = \"10.98.0.1\";"),
			      SROUTE("to = \"10.97.0.0/17\"; via = \"10.98.0.1\";"), "static_routes");
	expect_reload_refused(SROUTE("to = \"10.97.0.0/16\"; via = \"10.98.0.1\";"), TWO_PORTS, "static_routes");
	expect_reload_refused(TWO_PORTS "static_routes = ( { to = \"10.97.0.0/16\"; via = \"10.98.0.1\"; },\n"
			      "  { to = \"10.96.0.0/16\"; via = \"10.98.0.1\"; } );\n",
			      TWO_PORTS "static_routes = ( { to = \"10.96.0.0/16\"; via = \"10.98.0.1\"; },\n"
			      "  { to = \"10.97.0.0/16\"; via = \"10.98.0.1\"; } );\n", "static_routes");
	expect_reload_refused(SROUTE("to = \"10.97.0.0/16\"; via = \"10.98.0.1\";"), PORT_FRONT, "ports");
	expect_reload_ok(SROUTE("to = \"10.97.0.0/16\"; via = \"10.98.0.1\";"),
			 "static_routes = ( { via = \"10.98.0.1\"; to = \"10.97.0.0/16\"; } );\n" TWO_PORTS);
	/* The first difference in file order is named. */
	expect_reload_refused(FULL, PORT_FRONT, "eal.file_prefix");
	expect_reload_refused(PORT_FRONT "workers: { spin_us = 1; };\n", PORT_FRONT "tcp: { sack = false; };\n",
			      "workers.spin_us");
}

Test(config, reload_client_limits)
{
	/* the limits are applied by the next reload, on and off ... */
	expect_reload_ok(PORT_FRONT, PORT_FRONT "client_limits: { max_conns = 10; conn_rate = 5; conn_burst = 9;\n"
			 "  http_req_rate = 50; http_req_burst = 100; };\n");
	expect_reload_ok(PORT_FRONT "client_limits: { max_conns = 10; http_req_rate = 50; };\n", PORT_FRONT);
	expect_reload_ok(PORT_FRONT "client_limits: { table_size = 65536; };\n", PORT_FRONT);
	/* ... the table's size sizes memory: a restart */
	expect_reload_refused(PORT_FRONT, PORT_FRONT "client_limits: { table_size = 1024; };\n",
			      "client_limits.table_size");
	expect_reload_refused(PORT_FRONT "client_limits: { table_size = 0; };\n", PORT_FRONT,
			      "client_limits.table_size");
	/* in file order: listeners before client_limits, client_limits before control */
	expect_reload_refused(PORT_FRONT, PORT_FRONT "listeners = ( { port = 7; service = \"echo\"; } );\n"
			      "client_limits: { table_size = 1024; };\n", "listeners");
	expect_reload_refused(PORT_FRONT, PORT_FRONT "control: { socket = \"/run/x.sock\"; };\n"
			      "client_limits: { table_size = 1024; };\n", "client_limits.table_size");
}

Test(config, listener_client_limits)
{
	expect_ok(PORT_FRONT "listeners = ( { port = 80; service = \"echo\"; },\n"
		  "  { port = 81; service = \"echo\"; client_limits = false; },\n"
		  "  { port = 82; service = \"echo\"; client_limits = true; } );\n");
	cr_assert(cfg.listeners[0].client_limits);
	cr_assert_not(cfg.listeners[1].client_limits);
	cr_assert(cfg.listeners[2].client_limits);
	expect_err(PORT_FRONT "listeners = ( { port = 80; service = \"echo\";\n client_limits = 0; } );\n",
		   "t.conf:3: listeners[0].client_limits: expected a boolean (true or false), got an integer");
	/* a listener's setting is a listener's: a restart */
	expect_reload_refused(PORT_FRONT "listeners = ( { port = 80; service = \"echo\"; } );\n",
			      PORT_FRONT "listeners = ( { port = 80; service = \"echo\"; client_limits = false; } );\n",
			      "listeners");
	expect_reload_ok(PORT_FRONT "listeners = ( { port = 80; service = \"echo\"; } );\n",
			 PORT_FRONT "listeners = ( { port = 80; service = \"echo\"; client_limits = true; } );\n");
}

Test(config, reload_error_buffer)
{
	char e[PORTER_CFG_ERR_LEN];
	cr_assert_eq(porter_config_parse_string(PORT_FRONT, "/etc/porter/porter.conf", &cfg, e, sizeof(e)), 0);
	cr_assert_eq(porter_config_parse_string(PORT_FRONT "workers: { count = 4; };\n", "/etc/porter/porter.conf",
						&next_cfg, e, sizeof(e)), 0);
	cr_assert_eq(porter_config_check_reload(&cfg, &next_cfg, e, sizeof(e)), -1);
	cr_assert_str_eq(e, "/etc/porter/porter.conf: workers.count: changed; needs a restart");
	char small[12];
	memset(small, 'x', sizeof(small));
	cr_assert_eq(porter_config_check_reload(&cfg, &next_cfg, small, sizeof(small)), -1);
	cr_assert_str_eq(small, "/etc/porter");
	cr_assert_eq(porter_config_check_reload(&cfg, &next_cfg, NULL, 0), -1);
	cr_assert_eq(porter_config_check_reload(&cfg, &cfg, e, sizeof(e)), 0);
	cr_assert_str_eq(e, "");
	cr_assert_eq(porter_config_check_reload(NULL, &next_cfg, e, sizeof(e)), -1);
	cr_assert_str_eq(e, "/etc/porter/porter.conf: file: Invalid argument");
}

/* ------------------------------------------------------------------------ */
/* Strings with a syntax                                                    */
/* ------------------------------------------------------------------------ */

Test(config, bad_file_prefix)
{
	expect_err(PORT_FRONT "eal: {\n  file_prefix = \"por/ter\";\n};\n",
		   "t.conf:3: eal.file_prefix: must be non-empty and use only A-Z a-z 0-9 _ -, got \"por/ter\"");
	expect_err(PORT_FRONT "eal: { file_prefix = \"\"; };\n",
		   "t.conf:2: eal.file_prefix: must be non-empty and use only A-Z a-z 0-9 _ -, got \"\"");
}

Test(config, bad_cpus_and_log_level)
{
	expect_err(PORT_FRONT "eal: { cpus = \"5-2\"; };\n",
		   "t.conf:2: eal.cpus: expected \"\" or a CPU list such as \"2-5,8\" (CPUs 0..1023), got \"5-2\"");
	expect_err(PORT_FRONT "eal: { cpus = \"1,,2\"; };\n",
		   "t.conf:2: eal.cpus: expected \"\" or a CPU list such as \"2-5,8\" (CPUs 0..1023), got \"1,,2\"");
	expect_err(PORT_FRONT "eal: { log_level = \"notise\"; };\n",
		   "t.conf:2: eal.log_level: expected emergency, alert, critical, error, warning, notice, info, debug "
		   "or 1..8, optionally after \"PATTERN:\", got \"notise\"");
}

Test(config, relative_control_socket)
{
	expect_err(PORT_FRONT "control: {\n  socket = \"run/porter.sock\";\n};\n",
		   "t.conf:3: control.socket: must be an absolute path, got \"run/porter.sock\"");
}

Test(config, control_socket_too_long_for_sun_path)
{
	char text[1024], sock[200];
	memset(sock, 'a', sizeof(sock));
	sock[0] = '/';
	sock[120] = '\0';
	snprintf(text, sizeof(text), PORT_FRONT "control: { socket = \"%s\"; };\n", sock);
	expect_err(text, "t.conf:2: control.socket: too long for a unix socket (120 characters, at most 107)");
}

/* ------------------------------------------------------------------------ */
/* Error line hygiene                                                       */
/* ------------------------------------------------------------------------ */

Test(config, error_is_one_line_and_truncation_safe)
{
	/* A newline inside a quoted value must not split the line. */
	expect_err(PORT_MAC("02:00\\n:00"),
		   "t.conf:3: ports[0].mac: bad MAC address \"02:00?:00\" (expected xx:xx:xx:xx:xx:xx, hex)");

	/* A small buffer gets a terminated prefix of the same message. */
	char small[16];
	memset(small, 'x', sizeof(small));
	cr_assert_eq(porter_config_parse_string("ports = ();\n", "t.conf", &cfg, small, sizeof(small)), -1);
	cr_assert_str_eq(small, "t.conf:1: ports");
	cr_assert_eq(porter_config_parse_string("ports = ();\n", "t.conf", &cfg, NULL, 0), -1);
}

/* ------------------------------------------------------------------------ */
/* Address helpers                                                          */
/* ------------------------------------------------------------------------ */

Test(config, parse_ipv4_round_trip)
{
	static const char *const good[] = { "0.0.0.0", "10.99.0.2", "192.168.1.254", "255.255.255.255",
					    "1.2.3.4", "100.64.0.1" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint32_t ip;
		char buf[16];
		cr_assert_eq(porter_parse_ipv4(good[i], &ip), 0, "%s", good[i]);
		porter_fmt_ipv4(ip, buf);
		cr_assert_str_eq(buf, good[i]);
	}
	uint32_t ip = 0;
	cr_assert_eq(porter_parse_ipv4("10.99.0.2", &ip), 0);
	cr_assert_eq(ip, 0x0a630002u);
	char buf[16];
	porter_fmt_ipv4(0xc0a80101u, buf);
	cr_assert_str_eq(buf, "192.168.1.1");
}

Test(config, parse_ipv4_rejects)
{
	static const char *const bad[] = { "", "10.0.0", "10.0.0.1.", "10.0.0.256", "10.0.0.1 ", " 10.0.0.1",
					   "10.0.0.-1", "10..0.1", "010.0.0.1", "10.0.0.0001", "1.2.3.4/24",
					   "0x0a.0.0.1", "+1.2.3.4", "1.2.3.4x", "a.b.c.d" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t ip = 7;
		cr_assert_eq(porter_parse_ipv4(bad[i], &ip), -1, "\"%s\" accepted", bad[i]);
		cr_assert_eq(ip, 7, "\"%s\" wrote the output", bad[i]);
	}
	cr_assert_eq(porter_parse_ipv4(NULL, NULL), -1);
}

Test(config, fmt_mac)
{
	const uint8_t mac[6] = { 0x02, 0x70, 0x6f, 0x72, 0x74, 0xff };
	char buf[18];
	porter_fmt_mac(mac, buf);
	cr_assert_str_eq(buf, "02:70:6f:72:74:ff");
}
