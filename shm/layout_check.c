/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared-memory contract, checked at build time: the size and the key
 * offsets of every region and of every type that lies in shared memory
 * (DESIGN §3). Both processes are built with these headers; a change that
 * moves a byte fails here until its author has (1) kept it to reserved
 * bytes and bumped PORTER_LAYOUT_MINOR, or changed more and bumped
 * PORTER_LAYOUT_MAJOR, and (2) written the new figures below, under the new
 * version. Nothing here runs.
 */
#include <stddef.h>

#include "shm/http-t.h"
#include "shm/tcp-t.h"
#include "shm/attach-t.h"
#include "shm/porter-shm-t.h"
#include "shm/proxy-t.h"
#include "shm/tls-area-t.h"
#include "shm/tls-pub-t.h"

#define OFF(type, member) offsetof(struct type, member)

_Static_assert(PORTER_LAYOUT_MAJOR == 2 && PORTER_LAYOUT_MINOR == 10,
	       "the figures below are those of layout 2.10: check them, then write the new version here");

/* regions */
_Static_assert(sizeof(struct porter_global) == 17024 && OFF(porter_global, drain_phase) == 2372 &&
	       OFF(porter_global, slots) == 9856 && OFF(porter_global, routes) == 12928 &&
	       OFF(porter_global, srv_admin) == 13760, "porter_global");
_Static_assert(sizeof(struct porter_slot) == 192, "porter_slot");
_Static_assert(OFF(porter_port_pmd, empty_wakeups) == 32 && OFF(porter_port_pmd, mutes) == 48,
	       "porter_port_pmd");
_Static_assert(sizeof(struct porter_shard) == 9280 && OFF(porter_shard, tcp_off) == 68 &&
	       OFF(porter_shard, wstats) == 192 && OFF(porter_shard, journal) == 896 &&
	       OFF(porter_shard, owner) == 5184 && OFF(porter_shard, hstats) == 5248 &&
	       OFF(porter_shard, tls_off) == 96 && OFF(porter_shard, tls_bytes) == 104, "porter_shard");
/* the TLS area (layout 2.9) */
_Static_assert(sizeof(struct tls_area) == 264 && OFF(tls_area, slots_off) == 24 &&
	       OFF(tls_area, handshakes) == 40 && OFF(tls_area, stage_off) == 120 && OFF(tls_area, txj) == 128 &&
	       sizeof(struct tls_txj) == 32, "tls_area");
_Static_assert(sizeof(struct tls_slot) == 1280 && OFF(tls_slot, head) == 24 && OFF(tls_slot, v) == 384,
	       "tls_slot");
_Static_assert(sizeof(struct porter_proxy) == 77952 && OFF(porter_proxy, conf) == 128 &&
	       sizeof(struct porter_proxy_conf) == 38912, "porter_proxy and its configuration copies");
/* the TLS listeners' settings (shm/tls-pub-t.h): a region of its own; porter_listener.tls took
 * half of its reserved1 */
_Static_assert(sizeof(struct porter_tls_pub) == 57920 && OFF(porter_tls_pub, active) == 64 &&
	       OFF(porter_tls_pub, tickets) == 57472 &&
	       OFF(porter_tls_pub, generation) == 72 && OFF(porter_tls_pub, conf) == 128 &&
	       sizeof(struct porter_tls_pub_conf) == 28672 && OFF(porter_tls_pub_conf, listeners) == 272 &&
	       OFF(porter_tls_pub_conf, tls_certs) == 1296 && sizeof(struct porter_tls_pub_listener) == 32 &&
	       OFF(porter_tls_pub_listener, tls_ciphers) == 8 && sizeof(struct porter_cfg_tls_cert) == 1540,
	       "porter_tls_pub and its copies");
_Static_assert(sizeof(struct porter_listener) == 16 && OFF(porter_listener, rate) == 4 &&
	       OFF(porter_listener, tls) == 6 && OFF(porter_listener, arg) == 8, "porter_listener");

/* the shard's TCP area (shm/tcp-t.h) */
_Static_assert(sizeof(struct tcp_tcb) == 384 && OFF(tcp_tcb, rate) == 362 && OFF(tcp_tcb, cc) == 112 &&
	       __builtin_offsetof(struct tcp_cc, pace_at) == 30, "tcp_tcb (2.8: rate was reserved_h, cc.pace_at reserved)");
/* PLPMTUD (layout 2.8): challenge_count split in two 16-bit halves, pmtu_hi the upper one;
 * tcp.mtu_probing / base_mss in porter_tcp_params (reserved[0], beside pacing); counters in porter_shard.tcp_more */
_Static_assert(OFF(tcp_tcb, challenge_ms) == 364 && OFF(tcp_tcb, challenge_count) == 368 &&
	       OFF(tcp_tcb, pmtu_hi) == 370 && OFF(tcp_tcb, born_ms) == 372, "tcp_tcb: PLPMTUD");
_Static_assert(sizeof(struct porter_tcp_params) == 108 && OFF(porter_tcp_params, pacing) == 84 &&
	       OFF(porter_tcp_params, mtu_probing) == 85 && OFF(porter_tcp_params, base_mss) == 86 &&
	       OFF(porter_tcp_params, reserved) == 88, "porter_tcp_params");
_Static_assert(sizeof(struct tcp_area) == 592 && OFF(tcp_area, events) == 240 && OFF(tcp_area, hwm) == 528 &&
	       OFF(tcp_area, drain_ack) == 568, "tcp_area");

/* the shard's proxy area (shm/http-t.h) */
_Static_assert(sizeof(struct http_sess) == 480 && OFF(http_sess, path) == 40, "http_sess");
_Static_assert(sizeof(struct http_srv) == 56, "http_srv");
_Static_assert(sizeof(struct http_area) == 57704 && OFF(http_area, counts) == 32 && OFF(http_area, hwm) == 344 &&
	       OFF(http_area, srv) == 360, "http_area");
