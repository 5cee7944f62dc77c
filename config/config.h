/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porter configuration: one libconfig file -> one immutable struct.
 *
 * Pure C, no DPDK include. The struct is filled once by porter_config_load()
 * and never written again; callers receive a const pointer. Every error names
 * the file, the line and the setting, in the form
 *     FILE:LINE: SETTING: MESSAGE
 * (LINE is 0 when libconfig cannot tell, e.g. a missing mandatory setting whose
 * parent group has no line either; then the parent's line is used when known).
 */
#ifndef PORTER_CONFIG_H
#define PORTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORTER_CFG_MAX_PORTS    4
#define PORTER_CFG_MAX_WORKERS  16
#define PORTER_CFG_NAME_LEN     32
#define PORTER_CFG_PATH_LEN     256
#define PORTER_CFG_ERR_LEN      512

struct porter_cfg_eal {
	char file_prefix[64];      /* eal.file_prefix, default "porter" */
	uint32_t lcore_base;       /* eal.lcore_base, default 10; primary uses it, shard s uses base+1+s */
	char cpus[64];             /* eal.cpus, CPU set the lcores float on, default "" = all online CPUs */
	char log_level[32];        /* eal.log_level, default "notice" (passed as --log-level) */
};

struct porter_cfg_port {
	char name[PORTER_CFG_NAME_LEN];   /* ports[i].name, mandatory, unique */
	char device[PORTER_CFG_PATH_LEN]; /* ports[i].device, mandatory, a DPDK vdev string ("net_tap0,iface=porter0") */
	uint8_t mac[6];                   /* ports[i].mac, mandatory, unicast "02:70:6f:72:74:01" */
	uint32_t ipv4;                    /* ports[i].ipv4 "a.b.c.d/len", host byte order */
	uint8_t prefix_len;               /*   the /len part, 1..32 */
	uint32_t gateway;                 /* ports[i].gateway, optional, host order, 0 = none; must be inside the subnet */
	uint16_t mtu;                     /* ports[i].mtu, default 1500, 576..9000 */
};

struct porter_cfg_workers {
	uint32_t count;                   /* workers.count, default 2, 1..PORTER_CFG_MAX_WORKERS */
	char binary[PORTER_CFG_PATH_LEN]; /* workers.binary, default "porter-worker"; relative names are looked up
	                                     next to porter-primary, then in PATH (by the supervisor, not here) */
	uint32_t ready_timeout_ms;        /* workers.ready_timeout_ms, default 5000, 100..600000 */
	uint32_t restart_backoff_ms;      /* workers.restart_backoff_ms, default 100, 0..60000; doubles per quick failure */
	uint32_t max_restart_backoff_ms;  /* workers.max_restart_backoff_ms, default 5000, >= restart_backoff_ms */
	uint32_t max_failed_starts;       /* workers.max_failed_starts, default 10, 1..1000: consecutive starts that never
	                                     became ready before the gateway gives up and exits */
	uint32_t heartbeat_timeout_ms;    /* workers.heartbeat_timeout_ms, default 3000, 100..600000 */
	uint32_t spin_us;                 /* workers.spin_us, default 200, 0..100000: busy-poll time before sleeping */
};

struct porter_cfg_dataplane {
	uint32_t mbufs;                   /* dataplane.mbufs, default 16383, 1023..1048575 */
	uint32_t mbuf_cache;              /* dataplane.mbuf_cache, default 128, 0..512 */
	uint32_t ring_size;               /* dataplane.ring_size, default 1024, power of two 64..65536 (each shard RX and TX ring) */
	uint32_t rx_desc;                 /* dataplane.rx_desc, default 1024 */
	uint32_t tx_desc;                 /* dataplane.tx_desc, default 1024 */
	uint32_t primary_spin_us;         /* dataplane.primary_spin_us, default 200, 0..100000 */
	uint32_t arp_timeout_ms;          /* dataplane.arp_timeout_ms, default 300000: learnt neighbours expire */
	uint32_t arp_retry_ms;            /* dataplane.arp_retry_ms, default 1000, between requests for one next hop */
	uint32_t arp_retries;             /* dataplane.arp_retries, default 3, then the pending packets are dropped */
};

/* tcp: the worker's TCP stack (secondary/tcp). */
struct porter_cfg_tcp {
	uint32_t max_streams_per_shard;   /* tcp.max_streams_per_shard, default 65536, 64..4194304: TCB slab size */
	uint32_t syn_backlog;             /* tcp.syn_backlog, default 1024, 1..65536: half-open streams per shard
	                                     before SYN cookies are used */
	char cc[16];                      /* tcp.congestion_control, "cubic" (default) or "newreno" */
	bool nodelay;                     /* tcp.nodelay, default true: Nagle off */
	bool sack;                        /* tcp.sack, default true */
	bool timestamps;                  /* tcp.timestamps, default true */
	bool window_scaling;              /* tcp.window_scaling, default true */
	bool syncookies;                  /* tcp.syncookies, default true */
	uint32_t rcv_buf;                 /* tcp.rcv_buf, default 262144, 4096..67108864: receive window per stream, bytes */
	uint32_t snd_buf;                 /* tcp.snd_buf, default 262144, 4096..67108864: send queue limit per stream, bytes */
	uint32_t delack_ms;               /* tcp.delayed_ack_ms, default 40, 0..500 (0 = ack every segment) */
	uint32_t rto_initial_ms;          /* tcp.rto_initial_ms, default 1000 (RFC 6298 §2.1), 200..60000 */
	uint32_t rto_min_ms;              /* tcp.rto_min_ms, default 200, 10..60000 */
	uint32_t rto_max_ms;              /* tcp.rto_max_ms, default 60000, >= rto_min_ms, <= 600000 */
	uint32_t max_retries;             /* tcp.max_retransmits, default 15, 1..100: RTOs before the stream is reset */
	uint32_t syn_retries;             /* tcp.syn_retries, default 5, 1..20 (SYN and SYN-ACK retransmits) */
	uint32_t time_wait_ms;            /* tcp.time_wait_ms, default 60000 (2*MSL), 0..240000 */
	uint32_t fin_wait2_ms;            /* tcp.fin_wait2_timeout_ms, default 60000, 0..600000 (orphaned FIN-WAIT-2) */
	bool keepalive;                   /* tcp.keepalive.enabled, default false */
	uint32_t keepalive_idle_s;        /* tcp.keepalive.idle_s, default 7200 (RFC 1122 §4.2.3.6), 1..86400 */
	uint32_t keepalive_interval_s;    /* tcp.keepalive.interval_s, default 75, 1..3600 */
	uint32_t keepalive_count;         /* tcp.keepalive.count, default 9, 1..100 */
	uint32_t challenge_ack_limit;     /* tcp.challenge_ack_per_s, default 1000, 1..1000000 (RFC 5961 §7), per shard */
	uint16_t ephemeral_lo;            /* tcp.ephemeral_ports = [lo, hi], default [32768, 60999]; active opens pick */
	uint16_t ephemeral_hi;            /*   a port in range whose flow hash steers back to the opening shard */
};

#define PORTER_CFG_MAX_LISTENERS 32

enum porter_service {
	PORTER_SVC_ECHO = 1,              /* RFC 862 */
	PORTER_SVC_DISCARD,               /* RFC 863 */
	PORTER_SVC_SOURCE,                /* sends `bytes` (0 = until the peer closes) of the pattern */
};

/* listeners[i]: one TCP listener on every port address. */
struct porter_cfg_listener {
	uint16_t port;                    /* listeners[i].port, mandatory, 1..65535, unique */
	uint32_t service;                 /* listeners[i].service, mandatory: "echo", "discard", "source" */
	uint64_t bytes;                   /* listeners[i].bytes, source only, default 0 = until closed */
};

struct porter_cfg_control {
	char socket[PORTER_CFG_PATH_LEN]; /* control.socket, default "/run/porter/porter.sock" */
};

struct porter_config {
	char path[PORTER_CFG_PATH_LEN];   /* the file it came from */
	struct porter_cfg_eal eal;
	uint32_t port_count;              /* 1..PORTER_CFG_MAX_PORTS */
	struct porter_cfg_port ports[PORTER_CFG_MAX_PORTS];
	struct porter_cfg_workers workers;
	struct porter_cfg_dataplane dataplane;
	struct porter_cfg_tcp tcp;
	uint32_t listener_count;
	struct porter_cfg_listener listeners[PORTER_CFG_MAX_LISTENERS];
	struct porter_cfg_control control;
};

/*
 * Parse and validate PATH into *out (zeroed first, defaults applied).
 * Returns 0 on success. On failure returns -1 and writes one line
 * "FILE:LINE: SETTING: MESSAGE" (no trailing newline) into err[errlen];
 * *out is then unspecified. Unknown settings are errors (a typo must not be
 * silently ignored).
 */
int porter_config_load(const char *path, struct porter_config *out, char *err, size_t errlen);

/* Same, from a string; NAME stands in for the file name in messages. */
int porter_config_parse_string(const char *text, const char *name, struct porter_config *out,
			       char *err, size_t errlen);

/* "a.b.c.d" (host order out); returns 0 or -1. */
int porter_parse_ipv4(const char *s, uint32_t *out);

/* Format helpers for callers (dst must hold 16 / 18 bytes). */
void porter_fmt_ipv4(uint32_t ip_host, char dst[16]);
void porter_fmt_mac(const uint8_t mac[6], char dst[18]);

#endif
