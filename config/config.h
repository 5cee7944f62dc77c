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
