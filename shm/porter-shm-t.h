/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porter shared-memory contract: types only (no functions, no DPDK include).
 *
 * Rules (DESIGN §3):
 *  - no function pointers and no pointers to process-private memory here;
 *    pointers to DPDK memory (mbufs) are valid in every process;
 *  - every region starts with struct porter_shm_hdr; a reader refuses a
 *    different layout major and names both versions;
 *  - fields are grouped by the process that writes them, one cache line per
 *    writer, so no line bounces between primary and worker;
 *  - the primary creates every object at start-up; nothing is created later.
 *
 * Every type that lies in shared memory is declared under shm/ in a *-t.h
 * header (types only, each including only other *-t.h headers), which the
 * primary may include: this file (global and shard regions), attach-t.h
 * (the attach messages), tcp-t.h and tcp_cc-t.h (a shard's TCP area: TCBs,
 * counters), http-t.h and h1-t.h (a shard's proxy area: sessions, servers),
 * proxy-t.h (the proxy configuration copies), tls-pub-t.h (the TLS
 * listeners' settings), tls-t.h (a TLS session's record layer). The one
 * exception is config/config-t.h, the parsed configuration, whose http and
 * client-limit groups are copied whole into proxy-t.h's struct and whose
 * porter_cfg_tls_cert is copied whole into tls-pub-t.h's. shm/layout_check.c
 * asserts their sizes and key offsets.
 *
 * Regions (names in shm/names.h, proxy-t.h, tls-pub-t.h):
 *   porter_global        struct porter_global        (primary-created, one)
 *   porter_shard_<N>     struct porter_shard         (one per shard)
 *   porter_proxy         struct porter_proxy         (proxy-t.h: routes, upstreams, http; two copies)
 *   porter_tls           struct porter_tls_pub       (tls-pub-t.h: TLS listeners, certificates; two copies)
 *   porter_rx_<N>        rte_ring SP/SC primary -> worker, mbuf pointers
 *   porter_tx_<N>        rte_ring SP/SC worker -> primary, mbuf pointers
 *   porter_mbuf          rte_mempool of packet mbufs
 *
 * Layout changes: add fields only by taking bytes from a reserved area and
 * bumping PORTER_LAYOUT_MINOR; anything else bumps PORTER_LAYOUT_MAJOR.
 */
#ifndef PORTER_SHM_T_H
#define PORTER_SHM_T_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define PORTER_SHM_MAGIC        0x50525452u   /* "PRTR" */
#ifndef PORTER_LAYOUT_MAJOR
#define PORTER_LAYOUT_MAJOR     2             /* tests build a worker with another major;
                                                 2: the TCB grew to 384 bytes (loss recovery, SACK
                                                 blocks), tcp_area.events gained loss counters */
#endif
#define PORTER_LAYOUT_MINOR     10            /* 10: porter_port_pmd.mutes (was reserved[0]).
                                                 9: TLS termination: porter_shard.tls_off /
                                                 tls_bytes (the TLS area, shm/tls-area-t.h, were
                                                 reserved0), porter_listener.tls (was reserved1),
                                                 the porter_tls region (shm/tls-pub-t.h).
                                                 8: pacing and rate limits: tcb.rate (was reserved_h),
                                                 tcp_cc.pace_at (was reserved), porter_tcp_params.pacing,
                                                 porter_listener.rate, porter_cfg_route.rate (padding),
                                                 the proxy conf's client_limits.rate / rate_plen /
                                                 rate_addr (reserved), porter_shard.tcp_more;
                                                 PLPMTUD: TF_PMTU /
                                                 TF_PMTU_DONE / TF_PMTU_PROBE (flag bits 29-31),
                                                 tcb.pmtu_hi (the upper half of challenge_count),
                                                 porter_tcp_params.mtu_probing / base_mss.
                                                 7: ECN: porter_tcp_params.ecn (was reserved_b),
                                                 TF_ECN / TF_ECE / TF_CWR, tcp_area.ecn_ce_received /
                                                 ecn_reductions (were reserved).
                                                 6: porter_shard.replayed_frames.
                                                 5: the proxy counter max_forwards_0; the stop
                                                 (porter_global.drain_phase, log_gen,
                                                 tcp_area.drain_ack / drain_left);
                                                 http.body_timeout_ms / body_min_rate in the
                                                 padding of porter_cfg_http (zero = off from an
                                                 older primary).
                                                 4: client_limits: porter_tcp_params.client_table,
                                                 TF_CLIMIT, drops client_conn_limit / client_conn_rate,
                                                 tcp_area.client_*, the proxy conf's client_limits,
                                                 the proxy counter err_429, porter_listener.no_climit.
                                                 3: porter_shard.owner (standbys), TCP and
                                                 proxy areas' high-water marks.
                                                 2: TF_TOUCHED replaces tcp_area.op_stream (still
                                                 read), journal in_hand / free_cur / pending_free /
                                                 trim_*, tcp_area.inconsistent.
                                                 1: tcp_area.drops_ext (drop reasons added after 2.0),
                                                 tcb.challenge_ms/count (per-stream challenge ACK limit),
                                                 tcp_area.challenge_left (a budget counting down)
                                                 (major 1 had minors 1: static routes, port_pmd;
                                                 2: tx_csum/rx_csum, tx_requeued, tw_reclaimed) */

#define PORTER_MAX_SHARDS       16
#define PORTER_MAX_PORTS        4
#define PORTER_RETA_SIZE        512           /* redirection table entries (power of two) */
#define PORTER_RSS_KEY_LEN      40
#define PORTER_NEIGH_SIZE       256           /* neighbour table entries (power of two) */
#define PORTER_MAX_ROUTES       32            /* static routes (config static_routes) */
#define PORTER_BURST            32            /* max mbufs a worker holds at once */
#define PORTER_VERSION_LEN      48
#define PORTER_CACHE_LINE       64

#define PORTER_ALIGNED          __attribute__((aligned(PORTER_CACHE_LINE)))

/* Every shared region starts with this. */
struct porter_shm_hdr {
	uint32_t magic;                 /* PORTER_SHM_MAGIC */
	uint16_t major;                 /* PORTER_LAYOUT_MAJOR of the creator */
	uint16_t minor;                 /* PORTER_LAYOUT_MINOR of the creator */
	uint32_t region_size;           /* sizeof the whole region struct */
	uint32_t hdr_size;              /* sizeof(struct porter_shm_hdr) */
	uint32_t slot_size;             /* sizeof(struct porter_slot) (global) */
	uint32_t shard_size;            /* sizeof(struct porter_shard) */
	uint32_t kind;                  /* PORTER_REGION_* */
	uint32_t reserved[9];
};
_Static_assert(sizeof(struct porter_shm_hdr) == 64, "shm header is one cache line");

enum porter_region_kind {
	PORTER_REGION_GLOBAL = 1,
	PORTER_REGION_SHARD  = 2,
	PORTER_REGION_PROXY  = 3,         /* shm/proxy-t.h */
	PORTER_REGION_TLS    = 4,         /* shm/tls-pub-t.h */
};

/*
 * Drops in the primary, by reason. Counted per port in porter_port_stats.
 * Names: shm/names.c porter_pdrop_name().
 */
enum porter_pdrop {
	PDROP_NONE = 0,
	PDROP_RUNT,             /* frame shorter than an Ethernet header */
	PDROP_NOT_OUR_MAC,      /* promiscuous port: frame for another station */
	PDROP_ETHERTYPE,        /* neither IPv4 nor ARP */
	PDROP_ARP_MALFORMED,
	PDROP_ARP_NOT_OURS,     /* ARP about an address that is not ours */
	PDROP_IP_SHORT,
	PDROP_IP_VERSION,
	PDROP_IP_IHL,
	PDROP_IP_LEN,
	PDROP_IP_CSUM,
	PDROP_IP_FRAG,          /* fragments: not reassembled (yet) */
	PDROP_IP_NOT_OURS,
	PDROP_IP_BAD_SRC,       /* martian source address */
	PDROP_IP_PROTO,         /* not TCP and not ICMP */
	PDROP_TCP_SHORT,
	PDROP_ICMP_SHORT,
	PDROP_ICMP_CSUM,
	PDROP_ICMP_OTHER,       /* ICMP other than echo request */
	PDROP_RING_FULL,        /* shard RX ring full (worker slow or absent) */
	PDROP_TX_FULL,          /* device TX queue full and PORT_TXQ frames already waiting for it */
	PDROP_NO_NEIGH,         /* next hop unresolved after the ARP retries */
	PDROP_NEIGH_QUEUE_FULL, /* too many packets waiting for one next hop */
	PDROP_NO_ROUTE,         /* worker frame for a port/subnet we do not have */
	PDROP_WORKER,           /* mbufs the worker handed back for freeing */
	PDROP_NOMBUF,           /* could not allocate an mbuf for a reply */
	PDROP__COUNT
};

/*
 * Worker-side drops outside TCP, per shard. Names: porter_wdrop_name().
 * TCP's own drops (checksum, malformed, RST for no stream, ...) are counted
 * by reason in the shard's TCP area (shm/tcp-t.h, enum tcp_drop).
 */
enum porter_wdrop {
	WDROP_NONE = 0,
	WDROP_WRONG_SHARD,      /* steered here but its hash names another shard: dropped unprocessed */
	WDROP__COUNT
};

/* Per port counters, written by the primary only. */
struct porter_port_stats {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t tx_frames;
	uint64_t tx_bytes;
	uint64_t arp_in;
	uint64_t arp_replies;
	uint64_t arp_requests;
	uint64_t icmp_echo;
	uint64_t tcp_steered;
	uint64_t icmp_errors;           /* RFC 1191 frag-needed steered to a shard */
	uint64_t drops[PDROP__COUNT];
	uint64_t tx_requeued;           /* frames the device's TX queue did not take at once, sent in a later round */
} PORTER_ALIGNED;
_Static_assert(sizeof(struct porter_port_stats) == 320, "port stats: five cache lines");

/* Port identity as workers need it to build packets (host byte order). */
struct porter_port_info {
	uint16_t port_id;               /* DPDK ethdev port id */
	uint16_t mtu;
	uint8_t mac[6];
	uint8_t prefix_len;
	uint8_t up;                     /* link status as last seen by the primary */
	uint32_t ipv4;
	uint32_t gateway;
	char name[32];
	uint8_t tx_csum;                /* 1: the device computes IPv4 and TCP checksums of what we send */
	uint8_t rx_csum;                /* 1: the device checks them on receive (mbuf ol_flags say how it went) */
	uint8_t reserved_b[2];
	uint32_t reserved[3];
} PORTER_ALIGNED;
_Static_assert(sizeof(struct porter_port_info) == 128, "port info: two cache lines");

/*
 * Static routes (config `static_routes`), copied by the primary at start-up,
 * then read-only. Which port a destination leaves by, and its next hop, is
 * decided by porter_route_lookup() (shm/route.h) from these and the ports'
 * subnets and gateways. Host byte order. A primary of layout minor 0 left
 * this zero: no static routes.
 */
struct porter_route {
	uint32_t dst;                   /* network address (host bits zero) */
	uint32_t via;                   /* next hop, inside the subnet of ports[port] */
	uint8_t prefix_len;             /* 0..32 (0 = every destination) */
	uint8_t port;                   /* index into porter_global.ports */
	uint8_t reserved[6];
};
_Static_assert(sizeof(struct porter_route) == 16, "route entry size is part of the layout");

struct porter_route_table {
	uint32_t count;                 /* entries used, 0..PORTER_MAX_ROUTES */
	uint32_t reserved[15];
	struct porter_route r[PORTER_MAX_ROUTES];   /* in config file order */
} PORTER_ALIGNED;

/*
 * How the primary waits for frames on a port when it sleeps.
 * Names: shm/names.c porter_port_wait_name().
 */
enum porter_port_wait {
	PORT_WAIT_BACKOFF = 0,  /* nothing to sleep on: timed epoll sleeps of 1..5 ms */
	PORT_WAIT_INTR,         /* the driver's RX interrupt fd (net_tap) */
	PORT_WAIT_PMD_FD,       /* the driver's own kernel socket (net_af_packet, net_af_xdp) */
	PORT_WAIT__COUNT
};

/* The driver behind a port, as far as the primary treats drivers apart. */
enum porter_port_driver {
	PORT_DRV_OTHER = 0,
	PORT_DRV_TAP,
	PORT_DRV_AF_PACKET,
	PORT_DRV_AF_XDP,
	PORT_DRV_MEMIF,
	PORT_DRV__COUNT
};

/*
 * Per port: the RX wake-up source and the driver's own losses, written by
 * the primary only (layout minor 1; `mutes` minor 10). A frame the kernel could not put in the
 * driver's RX ring never reaches rte_eth_rx_burst, so no other counter sees it.
 */
struct porter_port_pmd {
	uint8_t wait;                   /* enum porter_port_wait */
	uint8_t driver;                 /* enum porter_port_driver */
	uint8_t nfds;                   /* PMD sockets found (PORT_WAIT_PMD_FD) */
	uint8_t muted;                  /* 1: fds disarmed for now (they woke us and held nothing) */
	uint32_t reserved0;
	uint64_t ring_drops;            /* kernel dropped: RX ring full. af_packet: PACKET_STATISTICS
	                                   tp_drops, summed here (the kernel resets it on each read);
	                                   af_xdp: XDP_STATISTICS rx_ring_full */
	uint64_t fill_empty;            /* af_xdp: XDP_STATISTICS rx_fill_ring_empty_descs
	                                   (these drops are also in the driver's imissed) */
	uint64_t wakeups;               /* the sleeping primary woke on this port's PMD fd */
	uint64_t empty_wakeups;         /* ... and then found nothing it could receive */
	uint64_t errors;                /* EPOLLERR on the fd (cleared with SO_ERROR) */
	uint64_t mutes;                 /* times muted after empty wake-ups (primary/pmd_wake.h) */
	uint64_t reserved[1];
} PORTER_ALIGNED;
_Static_assert(sizeof(struct porter_port_pmd) == PORTER_CACHE_LINE, "one line per port");

/*
 * Neighbour (ARP) table entry. Written by the primary only, read by anyone
 * under the seqcount: even = stable, odd = being written. Open addressing,
 * linear probing on ipv4 & (PORTER_NEIGH_SIZE - 1)-ish hash.
 */
enum porter_neigh_state {
	NEIGH_FREE = 0,
	NEIGH_INCOMPLETE,               /* request sent, waiting for the reply */
	NEIGH_REACHABLE,
};
struct porter_neigh {
	uint32_t seq;
	uint32_t ipv4;                  /* host order */
	uint8_t mac[6];
	uint8_t state;                  /* enum porter_neigh_state */
	uint8_t port;                   /* index into porter_global.ports */
	uint64_t updated_ms;            /* CLOCK_MONOTONIC ms of the last confirmation */
};

/*
 * Worker slot state. The supervisor writes `state` for its own transitions
 * (STARTING, BACKOFF, STOPPING, EMPTY) and the worker writes READY once it has
 * attached and recovered; the supervisor then only reads.
 */
enum porter_slot_state {
	SLOT_EMPTY = 0,       /* no worker and none planned (stopped gateway) */
	SLOT_STARTING,        /* forked, not ready yet */
	SLOT_READY,           /* attached, serving the shard */
	SLOT_STOPPING,        /* asked to stop (restart, shutdown) */
	SLOT_BACKOFF,         /* died; waiting before the next start */
	SLOT__COUNT
};

/*
 * One per shard, in the global region. Two cache lines: the supervisor's and
 * the worker's. `epoch` is granted by the primary (rte_mp attach handler);
 * a worker whose epoch differs from slot.epoch must stop touching the shard.
 */
struct porter_slot {
	/* written by the primary (supervisor) */
	volatile int32_t pid;           /* current worker, 0 = none */
	volatile uint32_t state;        /* enum porter_slot_state */
	volatile uint64_t epoch;        /* grant counter, increases on every attach */
	uint32_t lcore_id;              /* fixed per slot: eal.lcore_base + 1 + shard */
	uint32_t restarts;              /* worker deaths handled on this slot */
	uint64_t started_ms;            /* CLOCK_MONOTONIC ms at fork */
	uint64_t ready_ms;              /* CLOCK_MONOTONIC ms when it reported READY */
	uint64_t last_restart_gap_us;   /* death detected -> replacement ready */
	uint32_t failed_starts;         /* consecutive starts that never got ready */
	uint32_t reserved_p[3];
	/* written by the worker */
	volatile uint64_t heartbeat_ms PORTER_ALIGNED;  /* CLOCK_MONOTONIC ms */
	volatile uint64_t worker_epoch; /* epoch the worker believes it holds */
	volatile int32_t worker_pid;
	uint32_t reserved_w1;
	char version[PORTER_VERSION_LEN];               /* worker binary version string */
	volatile uint64_t last_pkt_us;  /* CLOCK_MONOTONIC us of the last burst with frames */
	volatile uint64_t swap_gap_us;  /* last predecessor's last frame -> this worker's first */
	/* layout minor 1: gaps between two bursts with frames of one worker (not
	 * across a swap), longer than 1, 5, 10 and 20 ms, summed over the slot's
	 * workers: what the shard's frames do without any swap, next to swap_gap_us */
	volatile uint64_t frame_gaps[4];
	volatile uint64_t ready_us;     /* layout minor 1: CLOCK_MONOTONIC us when this worker reported ready */
} PORTER_ALIGNED;
_Static_assert(sizeof(struct porter_slot) == 192, "a slot is three cache lines");

/*
 * TCP parameters, copied from the config by the primary at start-up (workers
 * do not read the config file). Numbers only.
 */
/* tcp.ecn: Explicit Congestion Notification (RFC 3168). */
enum porter_ecn {
	PORTER_ECN_OFF = 0,      /* never negotiated */
	PORTER_ECN_PASSIVE,      /* accepted when a client's SYN asks (Linux's tcp_ecn = 2) */
	PORTER_ECN_ON,           /* also asked for on porter's own connections (upstreams) */
};

struct porter_tcp_params {
	uint32_t max_streams;
	uint32_t syn_backlog;
	uint8_t cc;                      /* enum tcp_cc_algo */
	uint8_t nodelay, sack, timestamps, window_scaling, syncookies, keepalive;
	uint8_t ecn;                     /* enum porter_ecn (layout 2.7; an older primary leaves 0: off) */
	uint32_t rcv_buf, snd_buf;
	uint32_t delack_ms;
	uint32_t rto_initial_ms, rto_min_ms, rto_max_ms;
	uint32_t max_retries, syn_retries;
	uint32_t time_wait_ms, fin_wait2_ms;
	uint32_t keepalive_idle_s, keepalive_interval_s, keepalive_count;
	uint32_t challenge_ack_limit;
	uint16_t ephemeral_lo, ephemeral_hi;
	uint32_t delack_short_ms;        /* ACK delay for segments shorter than the MSS (0 = at once) */
	uint32_t client_table;           /* client_limits.table_size: entries of the client table (0 = none;
	                                    layout 2.4) */
	uint8_t pacing;                  /* tcp.pacing: 1 = spread each stream's segments over its RTT (layout 2.8,
	                                    from reserved; an older primary leaves 0: off) */
	/* PLPMTUD (RFC 4821; layout 2.8, from reserved[0] with pacing; an older primary leaves 0: off) */
	uint8_t mtu_probing;             /* tcp.mtu_probing: 0 off, 1 after a black hole, 2 always */
	uint16_t base_mss;               /* tcp.base_mss: where a black hole drops the MSS (0 = 1024) */
	uint32_t reserved[5];
};

#define PORTER_MAX_LISTENERS 32

/* One listener (written by the primary; read by workers). */
struct porter_listener {
	uint16_t port;                   /* 0 = unused entry */
	uint8_t app;                     /* enum tcp_app */
	uint8_t no_climit;               /* 1: client_limits do not apply to it (listeners[i].client_limits =
	                                    false; layout 2.4, an older primary leaves 0: they apply) */
	uint16_t rate;                   /* listeners[i].rate_limit, porter_rate16 encoding (shm/rate.h), 0 = none
	                                    (layout 2.8, from reserved1) */
	uint8_t tls;                     /* 1: the listener terminates TLS (listeners[i].tls; its settings are
	                                    in the porter_tls region, shm/tls-pub-t.h); layout 2.9, from reserved1 */
	uint8_t reserved1;
	uint64_t arg;                    /* source: bytes to send (0 = until closed);
	                                    tcp pass-through: index of the upstream in the proxy config */
};

/* The single global region: memzone porter_global. */
/*
 * How the gateway stops (porter_global.drain_phase, written by the primary,
 * each phase after the one before; docs/OPERATIONS.md "Stopping"):
 */
enum porter_drain {
	PORTER_RUN = 0,
	PORTER_DRAIN,        /* graceful stop: listeners refuse new connections (RST), idle keep-alive
	                        clients are closed, requests in flight finish with Connection: close */
	PORTER_DRAIN_FIN,    /* the drain timeout passed: exchanges still in flight are reset, every
	                        other stream (tunnels, services) gets a FIN */
	PORTER_DRAIN_RESET,  /* last: every stream still open is reset (also a fast stop's only phase) */
};

/* An upstream server's state set by the operator (porterctl server ...; porter_global.srv_admin). */
#define PORTER_SRV_SLOTS 1024   /* PORTER_CFG_MAX_UPSTREAMS * PORTER_CFG_MAX_SERVERS (HTTP_SLOTS) */
enum porter_srv_admin {
	PORTER_SRV_ENABLED = 0,
	PORTER_SRV_DRAIN,       /* no new request or connection; exchanges in progress finish; checks go on */
	PORTER_SRV_DISABLED,    /* the same, and no health checks (maintenance) */
};

struct porter_global {
	struct porter_shm_hdr hdr;
	/* written once by the primary at start-up, then read-only */
	uint32_t shard_count;
	uint32_t port_count;
	int32_t primary_pid;
	uint32_t primary_lcore;
	uint64_t started_ms;
	uint32_t ring_size;
	uint32_t reserved0[9];
	uint8_t rss_key[PORTER_RSS_KEY_LEN];            /* symmetric Toeplitz key */
	uint8_t reserved1[24];
	uint16_t reta[PORTER_RETA_SIZE];                /* hash & (SIZE-1) -> shard */
	struct porter_tcp_params tcp;
	struct porter_listener listeners[PORTER_MAX_LISTENERS];
	struct porter_port_info ports[PORTER_MAX_PORTS];
	/* written by the primary at run time */
	volatile uint32_t primary_sleeping PORTER_ALIGNED; /* 1: primary waits in epoll; wake it */
	/* layout minor 5: the gateway's stop (enum porter_drain; workers answer in tcp_area.drain_ack) */
	volatile uint32_t drain_phase;
	volatile uint32_t log_gen;                      /* bumped by SIGUSR1: workers reopen their logs */
	uint32_t reserved2[13];
	struct porter_port_stats port_stats[PORTER_MAX_PORTS];
	struct porter_neigh neigh[PORTER_NEIGH_SIZE];
	struct porter_slot slots[PORTER_MAX_SHARDS];
	/* written once by the primary at start-up (layout minor 1, taken from reserved_tail) */
	struct porter_route_table routes;
	/* layout minor 1, taken from reserved_tail; written by the primary at run time */
	struct porter_port_pmd port_pmd[PORTER_MAX_PORTS];
	/* layout minor 5, from reserved_tail; written by the primary (porterctl server): the operator's
	 * state of each upstream server, by proxy slot (upstream * 32 + server), enum porter_srv_admin */
	volatile uint8_t srv_admin[PORTER_SRV_SLOTS];
	uint8_t reserved_tail[4096 - sizeof(struct porter_route_table) -
			      PORTER_MAX_PORTS * sizeof(struct porter_port_pmd) - PORTER_SRV_SLOTS];
} PORTER_ALIGNED;
/* Growth takes bytes from the reserved areas: the region keeps its size and
 * what layout minor 0 had keeps its offset. */
_Static_assert(sizeof(struct porter_global) == 17024, "porter_global size is part of the layout");
_Static_assert(__builtin_offsetof(struct porter_global, routes) ==
	       __builtin_offsetof(struct porter_global, slots) + PORTER_MAX_SHARDS * sizeof(struct porter_slot),
	       "routes take the start of the old reserved_tail");
_Static_assert(__builtin_offsetof(struct porter_global, port_pmd) ==
	       __builtin_offsetof(struct porter_global, routes) + sizeof(struct porter_route_table),
	       "port_pmd follows the routes");

/*
 * The worker's crash log for one burst (DESIGN §3.4). The worker moves mbufs
 * from the RX ring to the TX ring only, never frees or allocates, using the
 * two-phase (peek) ring API so the ring indices themselves are the log:
 *
 *   0. batch_n = 0
 *   1. n = dequeue_burst_start(rx, held)        rx.cons.head += n (tail not)
 *   2. rewrite the n frames in place (or mark them "free me")
 *   3. tx_target = tx.prod.tail + n; then batch_n = n   (release order)
 *   4. enqueue_burst_start(tx, n); enqueue_finish(tx, held, n)
 *   5. dequeue_finish(rx, n)                    rx.cons.tail = head
 *
 * Recovery by the next worker on this shard (the old one is certainly dead):
 *   rx.cons.head == rx.cons.tail            -> nothing in hand
 *   batch_n != 0 && tx.prod.tail == tx_target
 *                                           -> step 4 done: finish step 5
 *   otherwise                               -> tx.prod.head = tx.prod.tail,
 *                                              rx.cons.head = rx.cons.tail:
 *                                              the frames are delivered again
 * so every mbuf is in exactly one of: RX ring, TX ring, primary.
 */
/* journal.rx_consumed for keep[held_first - 1] (layout 2.7); porter_rx_consumed() reads it. */
#define PORTER_RX_CONSUMED(held_first) (0x80000000u | (uint32_t)(held_first))
static inline int porter_rx_consumed(uint32_t v, uint32_t held_first)
{
	return (v & 0x80000000u) ? v == PORTER_RX_CONSUMED(held_first) : v != 0;   /* older: a flag */
}

struct porter_batch_log {
	volatile uint32_t batch_n;
	volatile uint32_t tx_target;
	/* pass 2 (stateful TCP): keep[held_first..held_end) are frames taken off
	 * the RX ring and not touched yet; the one before held_first may be in
	 * the middle of processing. While the RX dequeue is not finished they are
	 * still in the ring, and recovery ignores keep[]. */
	volatile uint32_t held_first;
	volatile uint32_t held_end;
	/* layout 2.7: the frame at keep[held_first - 1] as it was taken (data_off << 16 | data_len,
	 * stored before held_first moves to it): recovery runs it again if it is still so, not in
	 * any queue and not consumed -- to the stack, a duplicate of a segment */
	volatile uint32_t taken_shape;
	uint32_t reserved[11];
	void *held[PORTER_BURST];       /* stateless frames of the burst (mbuf pointers) */
	void *keep[PORTER_BURST];       /* stateful frames of the burst */
};

/*
 * The worker's journal for buffers it owns outside the rings (DESIGN §3.4):
 *  - freeing: while the worker frees a detached chain it keeps here the
 *    next buffer not yet freed (updated before each free), so a kill leaks
 *    at most the one being freed and recovery frees the rest;
 *  - free_cur: the one buffer being put back to the pool. Recovery looks for
 *    it in this slot's own lcore cache (only this slot's worker puts there):
 *    found, the put happened; not found, it did not;
 *  - pending_free: recovery's own chain of buffers to free (staged frames
 *    never handed over, untouched RX frames, an unfinished chain), written
 *    before the places that listed them are cleared, so a recovery killed in
 *    turn frees each exactly once;
 *  - trim_*: a queued buffer whose front is being cut (data_off, data_len and
 *    its sequence number change together): the values it ends with, logged
 *    first; recovery applies them again;
 *  - in_hand: a buffer the stack holds outside every queue (just allocated,
 *    or moving from one queue to another); cleared when it is freed or
 *    staged. Recovery frees it unless some stream's queue holds it;
 *  - stage: frames produced by TCP output, handed to the TX ring in one
 *    two-phase enqueue (stage_target = TX prod.tail after it, logged before
 *    the tail moves), so recovery knows whether they were handed over.
 */
#define PORTER_STAGE_MAX 512
struct porter_mbuf_journal {
	void *volatile freeing;
	volatile uint32_t nstage;
	volatile uint32_t stage_target;
	volatile uint32_t stage_committing;   /* n being enqueued, 0 = none */
	volatile uint32_t rx_consumed;        /* the frame in the TCP pass was freed or sent (set before):
	                                         since layout 2.7 PORTER_RX_CONSUMED(held_first), which names
	                                         the frame, so a value left from an earlier frame or burst
	                                         never passes for this one's; 1 from older workers */
	void *volatile in_hand;               /* allocated, or detached from a queue, and not linked yet */
	void *volatile free_cur;              /* the buffer being put back to the pool (set before, cleared after) */
	void *volatile pending_free;          /* recovery: the chain it will free, once its sources are cleared */
	void *volatile trim_m;                /* a queued buffer losing bytes at its front: its end state */
	uint32_t trim_seq;
	uint16_t trim_off, trim_len;
	void *stage[PORTER_STAGE_MAX];
};

/* Frames a worker returns for freeing carry this port id (m->port). */
#define PORTER_PORT_FREE 0xffffu

/*
 * The HTTP exchanges a shard's proxy finished (layout minor 5), by the
 * status its client got and by how long the exchange took (first byte of
 * the request to the end of the answer): counts per bucket, not cumulative;
 * le_ms[i] is bucket i's upper bound, the last bucket is everything above.
 */
#define PORTER_LAT_BUCKETS 14
#define PORTER_LAT_BOUNDS_MS { 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000 }
struct porter_http_stats {
	uint64_t by_class[6];             /* [1] 1xx .. [5] 5xx; [0] anything else (499: client gone) */
	uint64_t latency[PORTER_LAT_BUCKETS];
	uint64_t latency_sum_us;
	uint64_t latency_count;
	uint64_t reserved[10];
};
_Static_assert(sizeof(struct porter_http_stats) == 256, "porter_http_stats is part of the layout");

/* Per-shard region: memzone porter_shard_<N>. */
struct porter_shard {
	struct porter_shm_hdr hdr;
	/* written once by the primary */
	uint32_t shard_id;
	uint32_t tcp_off;               /* offset of the TCP area (shm/tcp-t.h) from the region start */
	uint64_t tcp_bytes;             /* its size */
	uint32_t http_off;              /* offset of the proxy area (shm/http-t.h) */
	uint32_t reserved_a;
	uint64_t http_bytes;            /* its size */
	uint32_t tls_off;               /* layout 2.9: offset of the TLS area (shm/tls-area-t.h), 0 = none */
	uint32_t reserved_t;
	uint64_t tls_bytes;             /* layout 2.9: its size (0 when no listener has tls) */
	uint32_t reserved0[4];
	/* written by the worker */
	volatile uint32_t sleeping PORTER_ALIGNED;      /* 1: worker blocks on its eventfd; wake it */
	volatile uint32_t dump_done;    /* last stream-dump request served (file written) */
	uint64_t replayed_frames;       /* layout minor 6: frames a killed worker took and had not
					   touched, run by its successor (secondary/datapath.c) */
	uint32_t reserved1[12];
	struct {
		uint64_t rx_segments;           /* segments dequeued */
		uint64_t tx_segments;           /* segments sent (RSTs for now) */
		uint64_t rst_sent;
		uint64_t wakeups;               /* times it woke from sleep */
		uint64_t recoveries;            /* recoveries run at attach */
		uint64_t recovered_mbufs;       /* mbufs found in hand at recovery */
		uint64_t drops[WDROP__COUNT];
		uint64_t mbufs_allocated;       /* by the worker (TCP output) */
		uint64_t mbufs_freed;           /* by the worker */
		uint64_t stranded;              /* frames a killed worker had in hand mid-TCP (at most 1 per kill) */
	} wstats PORTER_ALIGNED;
	struct porter_batch_log batch PORTER_ALIGNED;
	struct porter_mbuf_journal journal PORTER_ALIGNED;
	/* written by the primary at run time */
	volatile uint32_t dump_req PORTER_ALIGNED;      /* porterctl streams: bump to ask for a dump */
	uint32_t reserved2[15];
	struct {
		uint64_t enqueued;
		uint64_t ring_full;
		uint64_t wakeups_sent;
		uint64_t tx_drained;
	} pstats PORTER_ALIGNED;
	/*
	 * Layout minor 1, from reserved_tail. The shard's owner lock: a robust,
	 * process-shared mutex (initialised by the primary) that a worker's main
	 * thread -- the only thread that touches the shard -- locks when it is
	 * granted the shard, before it touches anything, and unlocks only when it
	 * stops on request, after its last touch. When that thread dies instead,
	 * the kernel frees the lock at once (robust futex: FUTEX_OWNER_DIED and a
	 * wake-up) while the rest of the process may take milliseconds to go. The
	 * supervisor waits on it (primary/owner_watch.c): a free lock means the
	 * shard can be handed on. Its glibc internals (the owner's TID in the
	 * futex word, the robust list links, which only the owning thread and the
	 * kernel follow) are the one process-private pointer in shared memory.
	 * Workers of minor 0 never take it: the supervisor waits for their exit.
	 */
	pthread_mutex_t owner PORTER_ALIGNED;
	/* layout minor 5, from reserved_tail; written by the worker: what its proxy answered
	 * (the metrics endpoint, primary/metrics.c) */
	struct porter_http_stats hstats PORTER_ALIGNED;
	uint64_t listener_uses[PORTER_MAX_LISTENERS];  /* layout 2.5, by the worker: per porter_global.listeners
	                                                  entry, requests (http) or connections (tcp pass-through) */
	uint64_t tcp_anomalies[8];      /* layout 2.5, by the worker: enum tcp_anomaly (shm/tcp-t.h) */
	uint64_t tcp_more[16];          /* layout 2.8, by the worker: enum tcp_more (shm/tcp-t.h), TCP counters
	                                   tcp_area had no room for */
	uint8_t reserved_tail[4096 - PORTER_CACHE_LINE - sizeof(struct porter_http_stats) -
			      PORTER_MAX_LISTENERS * sizeof(uint64_t) - 24 * sizeof(uint64_t)];   /* growth */
} PORTER_ALIGNED;
_Static_assert(__builtin_offsetof(struct porter_shard, hstats) ==
	       __builtin_offsetof(struct porter_shard, owner) + PORTER_CACHE_LINE,
	       "hstats takes the start of the old reserved_tail");
_Static_assert(sizeof(pthread_mutex_t) <= PORTER_CACHE_LINE, "the owner lock fits its line");
_Static_assert(sizeof(struct porter_shard) == 9280, "porter_shard size is part of the layout");

#endif
