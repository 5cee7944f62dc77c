/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porter-primary's private state, shared among its own files only. Nothing
 * here is in shared memory except through the pointers g/shards.
 */
#ifndef PORTER_PRIMARY_H
#define PORTER_PRIMARY_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "shm/porter-shm-t.h"
#include "shm/proxy-t.h"
#include "shm/proxy_conf.h"
#include "shm/tls-pub-t.h"
#include "primary/pkt.h"
#include "primary/pmd_wake.h"
#include "shm/http-t.h"   /* http_area (types only) */
#include "shm/tcp-t.h"      /* tcp_area (types only) */
#include "shm/tls-area-t.h" /* tls_area (types only) */
#include "shm/clock.h"
#include "shm/hash.h"

struct rte_mbuf;
struct rte_ring;
struct rte_mempool;

/* epoll user data: kind in the high 32 bits, index in the low 32. */
enum ev_kind {
	EV_PRIMARY_WAKE = 1,    /* a worker put frames on its TX ring */
	EV_RX_INTR,             /* port RX interrupt, index = port index */
	EV_PMD_FD,              /* a PMD's own socket is readable, index = PMD_FD_IDX(port, k) */
	EV_PIDFD,               /* worker death, index = shard */
	EV_SB_PIDFD,            /* standby death, index = shard */
	EV_DEPART_PIDFD,        /* a worker that released its shard has exited, index = p->departing[] */
	EV_CTL_LISTEN,
	EV_CTL_CLIENT,          /* index = client slot */
	EV_METRICS_LISTEN,      /* metrics.listen (primary/metrics.c) */
	EV_METRICS_CLIENT,      /* index = client slot */
};
#define EV_DATA(kind, idx) (((uint64_t)(kind) << 32) | (uint32_t)(idx))

#define PORT_MAX_PMD_FDS 4        /* PMD sockets per port (one per queue pair) */
#define PMD_FD_IDX(port, k) ((port) * PORT_MAX_PMD_FDS + (k))

#define NEIGH_PENDING_MAX 8       /* frames waiting for one next hop */
#define PORT_TXQ 1024             /* frames per port waiting for the device's TX queue */
#define CTL_MAX_CLIENTS   8

struct neigh_pending {
	uint32_t n;
	uint32_t tries;               /* ARP requests sent so far */
	uint64_t next_try_ms;
	struct rte_mbuf *m[NEIGH_PENDING_MAX];
};

/*
 * A shard's standby (workers.standby): the worker binary started ahead of
 * need with --standby, attached and idle until the supervisor hands it the
 * shard. pid, handover_fd and attached are shared with the rte_mp standby
 * handler (EAL's IPC thread): pid and attached are accessed atomically, the
 * handler reads handover_fd and writes version only between the two.
 */
enum sb_state {
	SB_NONE = 0,        /* none (BACKOFF until next_start_ms if it failed) */
	SB_STARTING,        /* spawned, EAL init and attach under way */
	SB_READY,           /* attached and blocked on the hand-over eventfd */
	SB_STOPPING,        /* SIGTERM sent (replaced by another binary, or the gateway stops) */
};

struct sup_standby {
	pid_t pid;                    /* 0 = none */
	int pidfd;                    /* -1 = none */
	int handover_fd;              /* eventfd it blocks on; -1 = none */
	enum sb_state state;
	uint32_t attached;            /* set by the standby handler: it said it is ready */
	uint64_t started_ms, ready_ms, term_sent_ms, kill_sent_ms;
	uint64_t grace_ms;            /* SIGTERM to SIGKILL when stopping it */
	uint64_t next_start_ms;       /* after a failure: not before */
	uint64_t backoff_ms;          /* doubles per failure, reset when one gets ready */
	uint32_t starts;              /* standbys started on this shard */
	uint32_t failures;            /* ... that died or timed out before taking over (not asked to) */
	uint32_t failed_in_row;
	uint32_t takeovers;           /* ... that took the shard over */
	char binary[PORTER_CFG_PATH_LEN];
	char version[PORTER_VERSION_LEN];   /* what it reported when it attached */
	char last_error[PORTER_CFG_PATH_LEN + 96];   /* why the last one failed */
};

/*
 * A swap of one shard's worker through its standby (porterctl restart, or
 * one shard of an upgrade, with workers.standby):
 *
 *   STANDBY --standby of TARGET ready--> STOP_OLD (SIGTERM to the old worker)
 *      |                                    | old worker gone: hand-over
 *      | standby failed: old worker         v
 *      | untouched, swap failed          TAKEOVER --successor ready--> done
 *      v                                    | successor died first: PREV put back, failed
 *    done (failed)                          v
 *                                         done (failed)
 */
enum swap_phase { SWAP_NONE = 0, SWAP_STANDBY, SWAP_STOP_OLD, SWAP_TAKEOVER };

struct sup_swap {
	enum swap_phase phase;
	bool upgrade;                 /* part of the rolling upgrade (p->up) */
	uint64_t started_ms;
	char target[PORTER_CFG_PATH_LEN];
	char prev[PORTER_CFG_PATH_LEN];
};

/* How the current worker of a shard came to be. */
enum takeover_kind { TAKEOVER_NONE = 0, TAKEOVER_COLD, TAKEOVER_STANDBY };

struct sup_worker {
	pid_t pid;                    /* 0 = none */
	int pidfd;                    /* -1 = none */
	uint64_t next_start_ms;       /* BACKOFF: when to start again */
	uint64_t backoff_ms;          /* current backoff */
	uint64_t death_us;            /* when the last death was seen (restart gap), 0 = none since */
	uint64_t kill_sent_ms;        /* SIGKILL sent at (0 = not yet) */
	uint64_t term_sent_ms;        /* SIGTERM sent at (0 = not yet) */
	bool restart_requested;       /* porterctl restart: start again at once */
	bool await_standby;           /* died while the standby was starting: it takes over once ready */
	bool holds_lock;              /* held the shard's owner lock when it got ready (layout 2.1) */
	enum takeover_kind takeover;  /* how the current worker came */
	uint32_t cold_starts;         /* workers started cold (spawn + EAL init) after the first */
	char binary[PORTER_CFG_PATH_LEN];   /* what the next start of this slot executes */
	char running[PORTER_CFG_PATH_LEN];  /* what the current worker executes */
	struct sup_standby sb;
	struct sup_swap swap;
	char swap_msg[3 * PORTER_CFG_PATH_LEN];  /* outcome of the last swap (restart/upgrade) */
};

/* A rolling upgrade (porterctl upgrade): one shard at a time. */
enum upgrade_state { UP_IDLE = 0, UP_RUNNING, UP_DONE, UP_FAILED };

struct upgrade {
	enum upgrade_state state;
	char path[PORTER_CFG_PATH_LEN];     /* the new binary */
	char prev[PORTER_CFG_PATH_LEN];     /* what it replaces (put back on failure) */
	unsigned int shards[PORTER_MAX_SHARDS];
	unsigned int n, next;
	int cur;                            /* shard being swapped, -1 between shards */
	bool cur_stopped;                   /* the old worker of cur has exited */
	uint64_t started_ms, finished_ms;
	char msg[3 * PORTER_CFG_PATH_LEN];
};

/* A port whose driver's own sockets the primary sleeps on (porter_port_pmd.wait = PMD_FD). */
struct port_wake {
	int fd[PORT_MAX_PMD_FDS];
	unsigned int nfds;
	struct pmd_wake st;           /* empty wake-ups and mutes (pmd_wake.h) */
};

/* A thread waiting on one shard's owner lock (owner_watch.c). */
struct owner_watch {
	pthread_t thread;
	int arm_fd;                   /* eventfd: the main loop arms the watcher */
	bool running;
	uint32_t armed;               /* atomic: waiting on the lock held by armed_tid */
	pid_t armed_tid;
	pid_t gone;                   /* atomic: the watcher's report, the TID that let go */
	uint32_t quit;
};

struct ctl_client {
	int fd;                       /* -1 = free */
	uint32_t len;
	char buf[512];
};

struct primary {
	const struct porter_config *cfg;
	volatile sig_atomic_t *stop;  /* set by the signal handler */
	enum { STOP_NONE = 0, STOP_GRACEFUL, STOP_FAST } stop_request;   /* porterctl drain / stop (control.c);
	                                                                     main.c's stop takes it as QUIT / TERM */

	/* shared objects (created at start-up, never later) */
	struct porter_global *g;
	struct porter_proxy *proxy;           /* routes, upstreams, http: two copies, one published */
	struct porter_tls_pub *tls;           /* TLS listeners and certificates: two copies, one published */
	struct porter_shard *shards[PORTER_MAX_SHARDS];
	struct rte_ring *rx[PORTER_MAX_SHARDS];
	struct rte_ring *tx[PORTER_MAX_SHARDS];
	struct rte_mempool *pool;
	unsigned int nshards;
	struct porter_toeplitz flow_hash;     /* tables for g->rss_key (shm/hash.h) */

	/* ports */
	unsigned int nports;
	uint16_t port_id[PORTER_MAX_PORTS];
	struct pkt_if ifs[PORTER_MAX_PORTS];
	int rx_intr_fd[PORTER_MAX_PORTS];     /* -1: no RX interrupts */
	struct port_wake wake[PORTER_MAX_PORTS];  /* PMD sockets to sleep on (port.c) */
	bool any_port_backoff;                /* a port has nothing to sleep on: back off */
	uint32_t mute_wait_us;                /* a port is muted (pmd_wake.h): sleep at most this; 0: none */
	struct rte_mbuf *txbuf[PORTER_MAX_PORTS][PORT_TXQ];  /* frames to send, flushed every poll; what
	                                                        the device did not take waits for the next */
	unsigned int txn[PORTER_MAX_PORTS];

	/* wake-ups */
	int epfd;
	int primary_wake_fd;                  /* eventfd, workers write it */
	int worker_wake_fd[PORTER_MAX_SHARDS];/* eventfd, worker sleeps on it */

	/* neighbour resolution: pending frames per neigh entry (private memory) */
	struct neigh_pending pending[PORTER_NEIGH_SIZE];
	uint64_t next_neigh_tick_ms;

	/* supervisor */
	char worker_path[PORTER_CFG_PATH_LEN];
	struct sup_worker sup[PORTER_MAX_SHARDS];
	struct owner_watch owner_watch[PORTER_MAX_SHARDS];   /* owner_watch.c */
	uint32_t owner_watch_pending;         /* a watcher reported: run the supervisor now */
	struct {                              /* workers that freed their shard's owner lock and were
	                                         replaced before their process was gone */
		pid_t pid;                    /* 0 = free */
		int pidfd;
		unsigned int shard;
	} departing[2 * PORTER_MAX_SHARDS];
	struct upgrade up;
	bool stopping;
	int exit_code;

	/* control socket */
	int ctl_fd;
	struct ctl_client clients[CTL_MAX_CLIENTS];
};


/* shm_setup.c */
int shm_create(struct primary *p);
struct porter_proxy_conf;

/* reload.c: porterctl reload / SIGHUP. Returns 0 (MSG says what changed) or -1 (MSG says why not). */
int proxy_reload(struct primary *p, char *msg, size_t len);

/* port.c */
int ports_init(struct primary *p);
void ports_intr_enable(struct primary *p, bool on);
int ports_epoll_add(struct primary *p);
void ports_pmd_woke(struct primary *p, unsigned int idx, uint32_t events);
void ports_pmd_after_poll(struct primary *p);
void ports_pmd_stats(struct primary *p);
/* The worker binary BIN as the supervisor finds it: a path, next to porter-primary, in ../secondary/, in PATH. 0 or -1. */
int supervisor_find_worker(const char *bin, char *out, size_t len);

/* notify.c: systemd's readiness protocol ("READY=1", "RELOADING=1", "STOPPING=1"); nothing without $NOTIFY_SOCKET. */
void notify_systemd(const char *state);

/* tickets.c: the session-ticket keys of the porter_tls region (shm/tls-pub-t.h). */
int tickets_init(struct porter_tls_tickets *t);
void tickets_tick(struct primary *p);

/* The shard's TCP and proxy areas as the primary reads them (counters, states): NULL until laid out. */
static inline const struct tcp_area *shard_tcp_area(const struct porter_shard *sh)
{
	const struct tcp_area *a = (const struct tcp_area *)((const char *)sh + sh->tcp_off);

	return __atomic_load_n(&a->magic, __ATOMIC_ACQUIRE) == TCP_AREA_MAGIC ? a : NULL;
}

static inline const struct http_area *shard_http_area(const struct porter_shard *sh)
{
	const struct http_area *a = (const struct http_area *)((const char *)sh + sh->http_off);

	return __atomic_load_n(&a->magic, __ATOMIC_ACQUIRE) == HTTP_AREA_MAGIC ? a : NULL;
}

/* The shard's TLS area (shm/tls-area-t.h), or NULL: no listener has tls, or not laid out. */
static inline const struct tls_area *shard_tls_area(const struct porter_shard *sh)
{
	const struct tls_area *a;

	if (sh->tls_bytes == 0)
		return NULL;
	a = (const struct tls_area *)((const char *)sh + sh->tls_off);
	return __atomic_load_n(&a->magic, __ATOMIC_ACQUIRE) == TLS_AREA_MAGIC ? a : NULL;
}

/* The proxy configuration copy the workers read now. */
static inline const struct porter_proxy_conf *proxy_conf_now(const struct primary *p)
{
	return &p->proxy->conf[__atomic_load_n(&p->proxy->active, __ATOMIC_ACQUIRE) & 1];
}

struct sbuf;
/* control.c: what `porterctl --json status` answers, appended to B. */
void control_status_json(struct primary *p, struct sbuf *b);

/* metrics.c: the HTTP endpoint of metrics.listen (/metrics, /status, /status.json). */
int metrics_init(struct primary *p);              /* 0, or -1 (logged) when it cannot listen */
void metrics_close(struct primary *p);
void metrics_on_listen(struct primary *p);
void metrics_on_client(struct primary *p, unsigned int idx);
void metrics_tick(struct primary *p);             /* ends clients that took too long */
void metrics_prometheus(struct primary *p, struct sbuf *b);   /* the Prometheus text */

/*
 * servers.c: an upstream server as the shards see it -- SLOT (upstream * 32 +
 * server) in every shard whose proxy runs configuration generation GEN.
 */
struct server_view {
	unsigned int shards_up, shards;
	uint64_t active, idle, requests, failures;
	unsigned int admin;              /* enum porter_srv_admin */
	bool checked;                    /* the checking shard runs this configuration */
	bool hc_down;                    /* its active checks say down */
	unsigned int hc_last;            /* enum http_hc_result */
	int64_t hc_age_ms;               /* since the last check ended, -1 = none */
	unsigned int passive_down;       /* shards that took it out for failures seen in traffic */
};
void servers_view(const struct primary *p, uint32_t slot, uint64_t gen, struct server_view *v);
void servers_name(const struct porter_cfg_server *sv, char out[24]);   /* "a.b.c.d:port" */
void servers_json(struct primary *p, struct sbuf *b);         /* "servers":[...] for the status JSON */
void servers_text(struct primary *p, struct sbuf *b);         /* porterctl servers */
/* streams.c: porterctl streams [SHARD] [state=] [peer=] [sort=] [flagged] [limit=]; 0, or -1 and ERR. */
int streams_list(struct primary *p, struct sbuf *b, bool json, int argc, char **argv, char *err, size_t errlen);
/* porterctl server enable|disable|drain UPSTREAM/ADDRESS:PORT (porter_global.srv_admin). 0, or -1 and ERR. */
int servers_set_admin(struct primary *p, const char *target, const char *state, char *err, size_t len);
/* A reload: each server keeps its state by upstream name and address (new ones enabled). */
void servers_remap(struct primary *p, const struct porter_proxy_conf *from, const struct porter_proxy_conf *to);

void ports_stop(struct primary *p);
void ports_link_refresh(struct primary *p);
int port_index_of(const struct primary *p, uint16_t port_id);

/* dataplane.c */
unsigned int dataplane_poll(struct primary *p);
bool dataplane_tx_pending(const struct primary *p);
void wake_shard(struct primary *p, unsigned int shard);

/* neigh.c */
void neigh_learn(struct primary *p, unsigned int port, uint32_t ip, const uint8_t mac[6], bool create);
void neigh_output(struct primary *p, unsigned int port, struct rte_mbuf *m);
void neigh_tick(struct primary *p);
void neigh_flush_all(struct primary *p);
int neigh_timeout_ms(const struct primary *p);
void port_xmit(struct primary *p, unsigned int port, struct rte_mbuf *m);
void ports_flush_tx(struct primary *p);
bool ports_tx_backlog(const struct primary *p);   /* frames the devices have not taken yet */

/* supervisor.c */
int supervisor_init(struct primary *p, const char *argv0);
void supervisor_tick(struct primary *p);
void supervisor_on_pidfd(struct primary *p, unsigned int shard);
void supervisor_on_sb_pidfd(struct primary *p, unsigned int shard);
void supervisor_on_departed(struct primary *p, unsigned int idx);
const char *supervisor_sb_state_name(enum sb_state st);
int supervisor_restart(struct primary *p, unsigned int shard, char *err, size_t errlen);
void supervisor_stop_all(struct primary *p);
int supervisor_timeout_ms(const struct primary *p);
int supervisor_upgrade(struct primary *p, const char *path, int shard, char *err, size_t errlen);

/* owner_watch.c: early notice that a worker's main thread let go of its shard */
int owner_watch_init(struct primary *p);
bool owner_watch_arm(struct primary *p, unsigned int shard, pid_t tid);
bool owner_watch_armed(const struct primary *p, unsigned int shard);
pid_t owner_watch_take(struct primary *p, unsigned int shard);   /* 0 = no report */
pid_t owner_watch_holder(const struct primary *p, unsigned int shard);   /* the lock's owner TID, 0 = free */
void owner_watch_stop(struct primary *p);

/* control.c */
int control_init(struct primary *p);
void control_on_listen(struct primary *p);
void control_on_client(struct primary *p, unsigned int idx);
void control_close(struct primary *p);

#endif
