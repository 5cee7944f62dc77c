/* SPDX-License-Identifier: BSD-3-Clause */
/* Printable names of the TCP states and counters (linked by the worker and the primary). */
#include "secondary/tcp/tcp_names.h"

static const char *const state_names[TCP_STATE__COUNT] = {
	[TCP_CLOSED] = "CLOSED", [TCP_SYN_SENT] = "SYN_SENT", [TCP_SYN_RECEIVED] = "SYN_RECEIVED",
	[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_FIN_WAIT_1] = "FIN_WAIT_1", [TCP_FIN_WAIT_2] = "FIN_WAIT_2",
	[TCP_CLOSE_WAIT] = "CLOSE_WAIT", [TCP_CLOSING] = "CLOSING", [TCP_LAST_ACK] = "LAST_ACK",
	[TCP_TIME_WAIT] = "TIME_WAIT",
};

static const char *const anomaly_names[TAN__COUNT] = {
	[TAN_ZERO_WINDOW_LONG] = "zero_window_long", [TAN_TINY_MSS] = "tiny_mss", [TAN_RETRANSMITS] = "retransmits",
};

static const char *const drop_names[TDROP__COUNT] = {
	[TDROP_NONE] = "none", [TDROP_MALFORMED] = "malformed", [TDROP_CSUM] = "checksum",
	[TDROP_NO_LISTENER] = "no_listener", [TDROP_RST_NO_TCB] = "rst_no_stream",
	[TDROP_OUT_OF_WINDOW] = "out_of_window", [TDROP_PAWS] = "paws",
	[TDROP_BAD_ACK] = "bad_ack", [TDROP_BAD_COOKIE] = "bad_cookie",
	[TDROP_CHALLENGE_LIMIT] = "challenge_ack_limited", [TDROP_SLAB_FULL] = "no_tcb",
	[TDROP_BACKLOG_FULL] = "backlog_full", [TDROP_NOMBUF] = "nombuf",
	[TDROP_RCV_BUF_FULL] = "rcv_buf_full", [TDROP_OOO_FULL] = "ooo_full",
	[TDROP_SYN_IN_STATE] = "syn_in_window", [TDROP_RST_IN_WINDOW] = "rst_in_window",
	[TDROP_ICMP_UNMATCHED] = "icmp_unmatched", [TDROP_ICMP_OUT_OF_WINDOW] = "icmp_out_of_window",
	[TDROP_POOL_LOW] = "pool_low", [TDROP_CLIENT_CONNS] = "client_conn_limit",
	[TDROP_CLIENT_RATE] = "client_conn_rate",
};

static const char *const event_names[TEV__COUNT] = {
	[TEV_ACTIVE_OPENS] = "active_opens", [TEV_PASSIVE_OPENS] = "passive_opens",
	[TEV_ESTABLISHED] = "established", [TEV_CLOSED] = "closed",
	[TEV_RESETS_SENT] = "resets_sent", [TEV_RESETS_RCVD] = "resets_received",
	[TEV_RETRANSMITS] = "retransmits", [TEV_RTO] = "timeouts",
	[TEV_FAST_RECOVERY] = "fast_recoveries", [TEV_SACK_RECOVERY] = "sack_recoveries",
	[TEV_COOKIES_SENT] = "syncookies_sent", [TEV_COOKIES_OK] = "syncookies_ok",
	[TEV_CHALLENGE_ACKS] = "challenge_acks", [TEV_KEEPALIVE_PROBES] = "keepalive_probes",
	[TEV_KEEPALIVE_TIMEOUTS] = "keepalive_timeouts", [TEV_ZERO_WINDOW_PROBES] = "zero_window_probes",
	[TEV_TIME_WAIT_REUSE] = "time_wait_reuse", [TEV_PMTU_LOWERED] = "pmtu_lowered",
	[TEV_SEGS_IN] = "segments_in", [TEV_SEGS_OUT] = "segments_out",
	[TEV_RACK_LOST] = "rack_marked_lost", [TEV_TLP] = "tail_loss_probes",
	[TEV_TLP_REPAIRED] = "tail_loss_probe_repairs", [TEV_DSACKS_RCVD] = "dsacks_received",
	[TEV_DSACKS_SENT] = "dsacks_sent", [TEV_UNDO] = "recoveries_undone",
	[TEV_SACK_RENEGED] = "sack_reneged", [TEV_REORDER_SEEN] = "reordering_seen",
};

const char *tcp_state_name(unsigned int st) { return st < TCP_STATE__COUNT ? state_names[st] : "?"; }
const char *tcp_drop_name(unsigned int r) { return r < TDROP__COUNT && drop_names[r] ? drop_names[r] : "?"; }
const char *tcp_event_name(unsigned int e) { return e < TEV__COUNT && event_names[e] ? event_names[e] : "?"; }
static const char *const more_names[TMORE__COUNT] = {
	[TMORE_PACED] = "paced_waits", [TMORE_RATE_LIMITED] = "rate_limited_streams",
	[TMORE_PLPMTUD_PROBES] = "plpmtud_probes", [TMORE_PLPMTUD_PROBES_OK] = "plpmtud_probes_ok",
	[TMORE_PLPMTUD_PROBES_FAILED] = "plpmtud_probes_failed", [TMORE_PLPMTUD_BLACK_HOLES] = "plpmtud_black_holes",
};

const char *tcp_more_name(unsigned int k) { return k < TMORE__COUNT && more_names[k] ? more_names[k] : "?"; }
const char *tcp_anomaly_name(unsigned int a) { return a < TAN__COUNT && anomaly_names[a] ? anomaly_names[a] : "?"; }

uint64_t tcp_area_drop(const struct tcp_area *a, unsigned int r)
{
	if (r < TDROP__COUNT_2_0)
		return a->drops[r];
	return r < TDROP__COUNT ? a->drops_ext[r - TDROP__COUNT_2_0] : 0;
}
