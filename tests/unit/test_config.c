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
	"workers: { count = 4; binary = \"/usr/lib/porter/porter-worker\"; ready_timeout_ms = 7000;\n"
	"  restart_backoff_ms = 50; max_restart_backoff_ms = 8000; max_failed_starts = 5;\n"
	"  heartbeat_timeout_ms = 2500; spin_us = 0; };\n"
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
	cr_assert_eq(t->challenge_ack_limit, 1000);
	cr_assert_eq(t->ephemeral_lo, 32768);
	cr_assert_eq(t->ephemeral_hi, 60999);
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
	cr_assert_eq(cfg.workers.spin_us, 200);
	cr_assert_eq(cfg.dataplane.mbufs, 16383);
	cr_assert_eq(cfg.dataplane.mbuf_cache, 128);
	cr_assert_eq(cfg.dataplane.ring_size, 1024);
	cr_assert_eq(cfg.dataplane.rx_desc, 1024);
	cr_assert_eq(cfg.dataplane.tx_desc, 1024);
	cr_assert_eq(cfg.dataplane.primary_spin_us, 200);
	cr_assert_eq(cfg.dataplane.arp_timeout_ms, 300000);
	cr_assert_eq(cfg.dataplane.arp_retry_ms, 1000);
	cr_assert_eq(cfg.dataplane.arp_retries, 3);
	cr_assert_str_eq(cfg.control.socket, "/run/porter/porter.sock");
	check_tcp_defaults();
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
}

Test(config, empty_groups_give_defaults)
{
	expect_ok("eal: {};\n" PORT_FRONT "workers: {};\ndataplane: {};\ncontrol: {};\n"
		  "tcp: { keepalive: {}; };\nlisteners = ();\n");
	check_defaults();
	cr_assert_eq(cfg.listener_count, 0);
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

	cr_assert_eq(cfg.workers.count, 4);
	cr_assert_str_eq(cfg.workers.binary, "/usr/lib/porter/porter-worker");
	cr_assert_eq(cfg.workers.ready_timeout_ms, 7000);
	cr_assert_eq(cfg.workers.restart_backoff_ms, 50);
	cr_assert_eq(cfg.workers.max_restart_backoff_ms, 8000);
	cr_assert_eq(cfg.workers.max_failed_starts, 5);
	cr_assert_eq(cfg.workers.heartbeat_timeout_ms, 2500);
	cr_assert_eq(cfg.workers.spin_us, 0);

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
