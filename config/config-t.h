/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration's types: struct porter_config and the groups it holds.
 * Types only: shared-memory types (shm/proxy-t.h, the proxy's copies of the
 * reloadable groups) include this, not config.h. The parser: config.h.
 *
 * The comments name each field's setting; its type, range, default and
 * whether a reload may change it are its row in the settings table
 * (config/config_table.c, config/config_lists.c; docs/CONFIG.md is checked
 * against it), not repeated here.
 */
#ifndef PORTER_CONFIG_T_H
#define PORTER_CONFIG_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORTER_CFG_MAX_PORTS    4
#define PORTER_CFG_MAX_WORKERS  16
#define PORTER_CFG_NAME_LEN     32
#define PORTER_CFG_PATH_LEN     256
#define PORTER_CFG_ERR_LEN      512

struct porter_cfg_eal {
	char file_prefix[64];      /* eal.file_prefix */
	uint32_t lcore_base;       /* eal.lcore_base; primary uses it, shard s uses base+1+s */
	char cpus[64];             /* eal.cpus, CPU set the lcores float on, "" = all online CPUs */
	char log_level[32];        /* eal.log_level (passed as --log-level) */
};

struct porter_cfg_port {
	char name[PORTER_CFG_NAME_LEN];   /* ports[i].name, mandatory, unique */
	char device[PORTER_CFG_PATH_LEN]; /* ports[i].device, mandatory, a DPDK vdev string ("net_tap0,iface=porter0") */
	uint8_t mac[6];                   /* ports[i].mac, mandatory, unicast "02:70:6f:72:74:01" */
	uint32_t ipv4;                    /* ports[i].ipv4 "a.b.c.d/len", host byte order */
	uint8_t prefix_len;               /*   the /len part, 1..32 */
	uint32_t gateway;                 /* ports[i].gateway, optional, host order, 0 = none; must be inside the subnet */
	uint16_t mtu;                     /* ports[i].mtu */
	uint8_t csum_offload;             /* ports[i].checksum_offload: PORTER_CSUM_OFFLOAD_* */
};

/* ports[i].checksum_offload */
enum {
	PORTER_CSUM_OFFLOAD_AUTO = 0,     /* "auto": the device's IPv4/TCP checksum offloads when it has them
	                                     (not net_tap's, which are a software checksum in the primary) */
	PORTER_CSUM_OFFLOAD_ON,           /* "on": required; the gateway does not start without them */
	PORTER_CSUM_OFFLOAD_OFF,          /* "off": checksums in software in the worker */
};

#define PORTER_CFG_MAX_STATIC_ROUTES 32

/*
 * static_routes[i]: destinations outside every port's subnet reached through
 * a next hop on one of the ports. Outbound connections (upstreams, health
 * checks, tcp pass-through) leave by the port whose subnet holds the
 * destination, else by the longest matching static route, else by the first
 * port that has a gateway (rule: shm/route.h, docs/CONFIG.md).
 */
struct porter_cfg_static_route {
	uint32_t dst;                     /* static_routes[i].to "a.b.c.d/len", mandatory: the network, host order,
	                                     host bits zero; not inside a port's subnet; unique */
	uint8_t prefix_len;               /*   the /len part, 0..32 ("0.0.0.0/0" = every destination) */
	uint8_t port;                     /* derived: the port whose subnet holds `via` (longest prefix) */
	uint32_t via;                     /* static_routes[i].via "a.b.c.d", mandatory: next hop, inside a port's
	                                     subnet, not a port's own address */
};

struct porter_cfg_workers {
	uint32_t count;                   /* workers.count */
	char binary[PORTER_CFG_PATH_LEN]; /* workers.binary; relative names are looked up
	                                     next to porter-primary, then in PATH (by the supervisor, not here) */
	uint32_t ready_timeout_ms;        /* workers.ready_timeout_ms */
	uint32_t restart_backoff_ms;      /* workers.restart_backoff_ms; doubles per quick failure */
	uint32_t max_restart_backoff_ms;  /* workers.max_restart_backoff_ms, >= restart_backoff_ms */
	uint32_t max_failed_starts;       /* workers.max_failed_starts: consecutive starts that never
	                                     became ready before the gateway gives up and exits */
	uint32_t heartbeat_timeout_ms;    /* workers.heartbeat_timeout_ms */
	uint32_t spin_us;                 /* workers.spin_us: busy-poll time before sleeping */
	bool standby;                     /* workers.standby: keep one attached, idle worker per shard
	                                     that takes over at once when the serving one dies or is swapped */
	uint32_t drain_timeout_ms;        /* workers.drain_timeout_ms: a graceful stop
	                                     (SIGQUIT, porterctl drain) waits this long for exchanges in flight */
};

struct porter_cfg_dataplane {
	uint32_t mbufs;                   /* dataplane.mbufs */
	uint32_t mbuf_cache;              /* dataplane.mbuf_cache */
	uint32_t ring_size;               /* dataplane.ring_size (each shard RX and TX ring) */
	uint32_t rx_desc;                 /* dataplane.rx_desc */
	uint32_t tx_desc;                 /* dataplane.tx_desc */
	uint32_t primary_spin_us;         /* dataplane.primary_spin_us */
	uint32_t arp_timeout_ms;          /* dataplane.arp_timeout_ms: learnt neighbours expire */
	uint32_t arp_retry_ms;            /* dataplane.arp_retry_ms, between requests for one next hop */
	uint32_t arp_retries;             /* dataplane.arp_retries, then the pending packets are dropped */
};

/* tcp: the worker's TCP stack (secondary/tcp). */
struct porter_cfg_tcp {
	uint32_t max_streams_per_shard;   /* tcp.max_streams_per_shard: TCB slab size */
	uint32_t tls_sessions_per_shard;  /* tcp.tls_sessions_per_shard: TLS slots (shm/tls-area-t.h) */
	uint32_t syn_backlog;             /* tcp.syn_backlog: half-open streams per shard
	                                     before SYN cookies are used */
	char cc[16];                      /* tcp.congestion_control, "cubic" or "newreno" */
	bool nodelay;                     /* tcp.nodelay: Nagle off */
	bool sack;                        /* tcp.sack */
	bool timestamps;                  /* tcp.timestamps */
	bool window_scaling;              /* tcp.window_scaling */
	bool syncookies;                  /* tcp.syncookies */
	uint32_t ecn;                     /* tcp.ecn: enum porter_ecn (shm/porter-shm-t.h) */
	uint32_t mtu_probing;             /* tcp.mtu_probing: PLPMTUD (RFC 4821) 0 off, 1 after a black hole, 2 always */
	uint32_t base_mss;                /* tcp.base_mss: the MSS a black hole drops to, where a search starts */
	bool pacing;                      /* tcp.pacing: segments spread over the RTT (tcp_pace.c) */
	uint32_t rcv_buf;                 /* tcp.rcv_buf: receive window per stream, bytes */
	uint32_t snd_buf;                 /* tcp.snd_buf: send queue limit per stream, bytes */
	uint32_t delack_ms;               /* tcp.delayed_ack_ms (0 = ack every segment) */
	uint32_t delack_short_ms;         /* tcp.delayed_ack_short_ms: delay of the ACK of a
	                                     segment shorter than the MSS (a request, a response), usually
	                                     carried by the answer; 0 = acknowledge such segments at once */
	uint32_t rto_initial_ms;          /* tcp.rto_initial_ms (RFC 6298 §2.1) */
	uint32_t rto_min_ms;              /* tcp.rto_min_ms */
	uint32_t rto_max_ms;              /* tcp.rto_max_ms */
	uint32_t max_retries;             /* tcp.max_retransmits: RTOs before the stream is reset */
	uint32_t syn_retries;             /* tcp.syn_retries (SYN and SYN-ACK retransmits) */
	uint32_t time_wait_ms;            /* tcp.time_wait_ms (2*MSL) */
	uint32_t fin_wait2_ms;            /* tcp.fin_wait2_timeout_ms (orphaned FIN-WAIT-2) */
	bool keepalive;                   /* tcp.keepalive.enabled */
	uint32_t keepalive_idle_s;        /* tcp.keepalive.idle_s (RFC 1122 §4.2.3.6) */
	uint32_t keepalive_interval_s;    /* tcp.keepalive.interval_s */
	uint32_t keepalive_count;         /* tcp.keepalive.count */
	uint32_t challenge_ack_limit;     /* tcp.challenge_ack_per_s (RFC 5961 §7), per stream */
	uint16_t ephemeral_lo;            /* tcp.ephemeral_ports = [lo, hi]; active opens pick */
	uint16_t ephemeral_hi;            /*   a port in range whose flow hash steers back to the opening shard */
};

#define PORTER_CFG_MAX_LISTENERS 32
#define PORTER_CFG_HOST_LEN      128

/*
 * listeners[i].tls (docs/TLS.md). Only AEAD suites with forward secrecy exist
 * here: the enum is the whole set porter accepts; config.h has the names
 * (OpenSSL's, which for TLS 1.3 are the RFC 8446 ones).
 */
enum porter_tls_cipher {
	PORTER_TLS13_AES_128_GCM_SHA256 = 0,
	PORTER_TLS13_AES_256_GCM_SHA384,
	PORTER_TLS13_CHACHA20_POLY1305_SHA256,
	PORTER_TLS12_ECDHE_ECDSA_AES128_GCM_SHA256,
	PORTER_TLS12_ECDHE_RSA_AES128_GCM_SHA256,
	PORTER_TLS12_ECDHE_ECDSA_AES256_GCM_SHA384,
	PORTER_TLS12_ECDHE_RSA_AES256_GCM_SHA384,
	PORTER_TLS12_ECDHE_ECDSA_CHACHA20_POLY1305,
	PORTER_TLS12_ECDHE_RSA_CHACHA20_POLY1305,
	PORTER_TLS_CIPHER_COUNT
};
#define PORTER_TLS_CIPHER_IS_13(c) ((c) <= PORTER_TLS13_CHACHA20_POLY1305_SHA256)

/* listeners[i].tls.protocols */
#define PORTER_TLS_V1_2            0x01u
#define PORTER_TLS_V1_3            0x02u
/* listeners[i].tls.alpn */
#define PORTER_TLS_ALPN_HTTP11     0x01u

#define PORTER_CFG_MAX_TLS_CERTS   16     /* over every listener */
#define PORTER_CFG_TLS_MAX_NAMES   8      /* tls.certificates[j].names */

/*
 * listeners[i].tls.certificates[j]. Paths are as resolved: relative ones are
 * taken from the configuration file's directory. The files were read and
 * checked when the configuration was (config_tls.c); a later reader (the TLS
 * contexts, secondary/tls/) reads them again and may find them changed.
 */
struct porter_cfg_tls_cert {
	char cert[PORTER_CFG_PATH_LEN];   /* certificates[j].cert, mandatory: PEM, the leaf then its
	                                     intermediates, each issued by the next */
	char key[PORTER_CFG_PATH_LEN];    /* certificates[j].key, mandatory: PEM private key of the leaf */
	uint32_t name_count;              /* certificates[j].names, 0 = the names of the certificate */
	char names[PORTER_CFG_TLS_MAX_NAMES][PORTER_CFG_HOST_LEN]; /* lower-case; "*.example.com" */
};

enum porter_service {
	PORTER_SVC_ECHO = 1,              /* RFC 862 */
	PORTER_SVC_DISCARD,               /* RFC 863 */
	PORTER_SVC_SOURCE,                /* sends `bytes` (0 = until the peer closes) of the pattern */
	PORTER_SVC_HTTP,                  /* protocol = "http": the reverse proxy, requests routed by `routes` */
	PORTER_SVC_TCP,                   /* protocol = "tcp": L4 pass-through to `upstream` */
};

/*
 * listeners[i]: one TCP listener on every port address. Either a built-in
 * service (`service = "echo" | "discard" | "source"`) or a proxy
 * (`protocol = "http"` or `protocol = "tcp"` with `upstream = "NAME"`);
 * exactly one of `service` and `protocol` is given.
 */
struct porter_cfg_listener {
	uint16_t port;                    /* listeners[i].port, mandatory, unique */
	uint32_t service;                 /* enum porter_service: from listeners[i].service or listeners[i].protocol */
	uint64_t bytes;                   /* listeners[i].bytes, source only, 0 = until closed */
	int32_t upstream;                 /* listeners[i].upstream (name -> index into upstreams[]), mandatory for
	                                     protocol "tcp", not allowed otherwise; -1 when unset */
	bool client_limits;               /* listeners[i].client_limits; false: the listener's
	                                     connections and requests are neither counted nor limited */
	uint64_t rate_limit;              /* listeners[i].rate_limit: bytes per second each way per connection,
	                                     0 = none */
	bool tls;                         /* true when listeners[i].tls is present (turning it on or off
	                                     needs a restart; what is inside it is reloadable) */
	uint8_t tls_protocols;            /* tls.protocols: PORTER_TLS_V1_2 | PORTER_TLS_V1_3 */
	uint8_t tls_alpn;                 /* tls.alpn: PORTER_TLS_ALPN_* bits, 0 = no ALPN */
	uint8_t tls_cipher_count;         /* tls.ciphers: 1..PORTER_TLS_CIPHER_COUNT entries */
	uint8_t tls_ciphers[PORTER_TLS_CIPHER_COUNT]; /* enum porter_tls_cipher, in preference order */
	uint8_t tls_cert_first;           /* tls.certificates: the listener's entries of */
	uint8_t tls_cert_count;           /*   porter_config.tls_certs[]; the first is the default */
};

#define PORTER_CFG_MAX_UPSTREAMS 32
#define PORTER_CFG_MAX_HEADERS   128   /* http.max_headers: the parser's fixed field table (h1.h) */
#define PORTER_CFG_MAX_SERVERS   32       /* per upstream */
#define PORTER_CFG_MAX_ROUTES    64
#define PORTER_CFG_PREFIX_LEN    128
#define PORTER_CFG_HCPATH_LEN    128

enum porter_balance {
	PORTER_LB_ROUND_ROBIN = 0,        /* "round_robin", weighted */
	PORTER_LB_LEAST_CONN,             /* "least_conn": fewest active connections / weight */
	PORTER_LB_HASH,                   /* "hash": hash of the client address */
};

/* upstreams[i].servers[j] */
struct porter_cfg_server {
	uint32_t ipv4;                    /* servers[j].address "a.b.c.d:port", mandatory; host order */
	uint16_t port;                    /*   the :port part, 1..65535 */
	uint16_t weight;                  /* servers[j].weight */
	uint32_t max_conns;               /* servers[j].max_connections, 0 = unlimited, per shard */
};

/* upstreams[i] */
struct porter_cfg_upstream {
	char name[PORTER_CFG_NAME_LEN];   /* upstreams[i].name, mandatory, unique, [A-Za-z0-9_.-]+ */
	uint32_t balance;                 /* upstreams[i].balance, enum porter_balance */
	uint32_t server_count;            /* 1..PORTER_CFG_MAX_SERVERS (upstreams[i].servers, mandatory, non-empty) */
	struct porter_cfg_server servers[PORTER_CFG_MAX_SERVERS];
	uint32_t keepalive_max_idle;      /* upstreams[i].keepalive.max_idle: idle pooled
	                                     connections per server per shard (0 = no pooling) */
	uint32_t keepalive_idle_timeout_ms; /* upstreams[i].keepalive.idle_timeout_ms */
	uint32_t connect_timeout_ms;      /* upstreams[i].timeouts.connect_ms */
	uint32_t read_timeout_ms;         /* upstreams[i].timeouts.read_ms: longest wait
	                                     for the next bytes of a response (head or body) -> 504 before the head */
	uint32_t write_timeout_ms;        /* upstreams[i].timeouts.write_ms: longest wait
	                                     for send space towards the server */
	uint32_t retries;                 /* upstreams[i].retries: other servers tried when the
	                                     connect fails (idempotent methods only) */
	bool health_enabled;              /* true when upstreams[i].health_check is present */
	char health_path[PORTER_CFG_HCPATH_LEN]; /* health_check.path, must start with '/' */
	uint32_t health_interval_ms;      /* health_check.interval_ms */
	uint32_t health_timeout_ms;       /* health_check.timeout_ms, < interval */
	uint32_t health_rise;             /* health_check.rise: successes to mark a server up */
	uint32_t health_fall;             /* health_check.fall: failures to mark it down */
	uint32_t passive_max_fails;       /* upstreams[i].passive.max_fails (0 = off):
	                                     consecutive failures (connect error/timeout, reset before a response)
	                                     that mark a server down */
	uint32_t passive_fail_timeout_ms; /* upstreams[i].passive.fail_timeout_ms: how
	                                     long a passively marked server stays down */
};

enum porter_host_match {
	PORTER_HOST_ANY = 0,              /* host omitted or "*" */
	PORTER_HOST_EXACT,                /* "example.com" (stored lower-case, no port) */
	PORTER_HOST_SUFFIX,               /* "*.example.com": stored as ".example.com", matches any subdomain,
	                                     not example.com itself */
};

/* routes[i], tried in file order; the first match wins. */
struct porter_cfg_route {
	uint32_t host_match;              /* enum porter_host_match, from routes[i].host */
	char host[PORTER_CFG_HOST_LEN];   /* lower-case; "" for ANY */
	char path_prefix[PORTER_CFG_PREFIX_LEN]; /* routes[i].path, must start with '/' */
	char method[16];                  /* routes[i].method, "" = any; upper-case token, e.g. "GET" */
	uint16_t listen_port;             /* routes[i].listener, 0 = every http listener; else the port of
	                                     an http listener */
	uint16_t rate;                    /* routes[i].rate_limit, shm/rate.h encoding, 0 = none (layout 2.8:
	                                     was padding; the config is zeroed before it is read) */
	uint32_t upstream;                /* routes[i].upstream (name), mandatory -> index into upstreams[] */
};

/* http: the proxy's limits and timeouts (apply to every http listener). */
struct porter_cfg_http {
	uint32_t max_request_line;        /* http.max_request_line -> 414 */
	uint32_t max_header_bytes;        /* http.max_header_bytes (whole head) -> 431 */
	uint32_t max_headers;             /* http.max_headers -> 431 */
	uint32_t body_timeout_ms;         /* http.body_timeout_ms, 0 = off: a request body must
	                                     be whole this long after the request's first byte (plus body_min_rate's
	                                     allowance) -> 408. Layout 2.5: was padding (zero from an older primary) */
	uint64_t max_body_bytes;          /* http.max_body_bytes, 0 = unlimited -> 413 */
	uint32_t header_timeout_ms;       /* http.header_timeout_ms -> 408 */
	uint32_t idle_timeout_ms;         /* http.idle_timeout_ms: keep-alive client
	                                     connection closed after this long without a request */
	uint32_t max_sessions;            /* http.max_sessions_per_shard: requests and
	                                     tunnels in flight per shard (beyond: 503) */
	char via[64];                     /* http.via: pseudonym in the Via header ("" = no Via) */
	char access_log[PORTER_CFG_PATH_LEN]; /* http.access_log, "" = off; JSON lines, one per request */
	uint32_t body_min_rate;           /* http.body_min_rate, bytes/s: each byte of the
	                                     request received adds 1/body_min_rate s to body_timeout_ms. Layout 2.5:
	                                     was padding */
};

/*
 * client_limits: what one client address (the IPv4 source of a connection to a
 * listener) may take of a shard. Every limit is per shard: a client's flows
 * spread over the shards by the flow hash, so what it gets from the gateway as
 * a whole is up to about the value times workers.count. 0 = no limit.
 * Reloadable but table_size (docs/CONFIG.md).
 */
struct porter_cfg_client_limits {
	uint32_t max_conns;               /* client_limits.max_conns: streams one address
	                                     holds at once (from its handshake; TIME-WAIT not counted); a SYN
	                                     beyond gets a RST */
	uint32_t conn_rate;               /* client_limits.conn_rate: connections (completed
	                                     handshakes) per second per address, token bucket; a SYN beyond
	                                     gets a RST */
	uint32_t conn_burst;              /* client_limits.conn_burst, default conn_rate: the bucket's
	                                     size (connections back to back after a quiet spell) */
	uint32_t http_req_rate;           /* client_limits.http_req_rate: HTTP requests per
	                                     second per address; a request beyond gets 429 */
	uint32_t http_req_burst;          /* client_limits.http_req_burst, default http_req_rate */
	uint32_t table_size;              /* client_limits.table_size: addresses tracked per shard,
	                                     0 (no table: no limit may be set) or a power of two;
	                                     needs a restart */
	/* layout 2.8, from reserved: client_limits.rate_limit (shm/rate.h encoding, 0 = none) for the
	 * connections of addresses in client_limits.rate_limit_from (addr / prefix length) */
	uint16_t rate;
	uint8_t rate_plen;
	uint8_t reserved_r;
	uint32_t rate_addr;               /* host order */
};

struct porter_cfg_control {
	char socket[PORTER_CFG_PATH_LEN]; /* control.socket */
};

struct porter_cfg_metrics {
	char listen[PORTER_CFG_PATH_LEN]; /* metrics.listen, "" = off: "a.b.c.d:port" of the primary's
	                                     HTTP endpoint (/metrics, /status, /status.json) */
	uint32_t ipv4;                    /* parsed, host order */
	uint16_t port;
};

struct porter_config {
	char path[PORTER_CFG_PATH_LEN];   /* the file it came from */
	struct porter_cfg_eal eal;
	uint32_t port_count;              /* 1..PORTER_CFG_MAX_PORTS */
	struct porter_cfg_port ports[PORTER_CFG_MAX_PORTS];
	uint32_t static_route_count;      /* 0..PORTER_CFG_MAX_STATIC_ROUTES */
	struct porter_cfg_static_route static_routes[PORTER_CFG_MAX_STATIC_ROUTES];
	struct porter_cfg_workers workers;
	struct porter_cfg_dataplane dataplane;
	struct porter_cfg_tcp tcp;
	uint32_t listener_count;
	struct porter_cfg_listener listeners[PORTER_CFG_MAX_LISTENERS];
	uint32_t upstream_count;
	struct porter_cfg_upstream upstreams[PORTER_CFG_MAX_UPSTREAMS];
	uint32_t route_count;
	struct porter_cfg_route routes[PORTER_CFG_MAX_ROUTES];
	struct porter_cfg_http http;
	struct porter_cfg_client_limits client_limits;
	struct porter_cfg_control control;
	struct porter_cfg_metrics metrics;
	uint32_t tls_cert_count;          /* every listener's tls.certificates, in listener order */
	struct porter_cfg_tls_cert tls_certs[PORTER_CFG_MAX_TLS_CERTS];
	bool http_request_id;             /* http.request_id: add X-Request-Id to requests without
	                                     one (published as porter_proxy_conf.no_request_id) */
};

#endif
