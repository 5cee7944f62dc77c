/* SPDX-License-Identifier: BSD-3-Clause */
/* One name per proxy counter (enum http_count, shm/http-t.h), next to nothing else. */
#include "shm/http-t.h"
#include "secondary/http/proxy_names.h"

static const char *const names[HC__COUNT] = {
	[HC_REQUESTS] = "requests", [HC_RESPONSES] = "responses", [HC_ERR_400] = "err_400",
	[HC_ERR_404] = "err_404", [HC_ERR_408] = "err_408", [HC_ERR_413] = "err_413", [HC_ERR_414] = "err_414",
	[HC_ERR_431] = "err_431", [HC_ERR_501] = "err_501", [HC_ERR_502] = "err_502", [HC_ERR_503] = "err_503",
	[HC_ERR_504] = "err_504", [HC_ERR_505] = "err_505", [HC_UP_CONNECTS] = "upstream_connects",
	[HC_UP_REUSED] = "upstream_reused", [HC_UP_CONNECT_FAIL] = "upstream_connect_failures",
	[HC_RETRIES] = "retries", [HC_CLIENT_ABORTS] = "client_aborts", [HC_UPSTREAM_ABORTS] = "upstream_aborts",
	[HC_TUNNELS] = "tunnels", [HC_HEALTH_OK] = "health_ok", [HC_HEALTH_FAIL] = "health_fail",
	[HC_NO_SESSION] = "no_session", [HC_LOG_DROPPED] = "log_dropped", [HC_RECOVERED] = "recovered_sessions",
	[HC_UP_NO_ROUTE] = "upstream_no_route", [HC_REQ_BAD_CHUNKED] = "req_bad_chunked",
	[HC_UP_BAD_CHUNKED] = "upstream_bad_chunked", [HC_UP_BAD_UPGRADE] = "upstream_bad_upgrade",
	[HC_HEAD_BYTES] = "head_bytes_examined", [HC_NOMBUF_WAITS] = "nombuf_waits", [HC_ERR_429] = "err_429",
	[HC_MAX_FORWARDS_0] = "max_forwards_0",
};
_Static_assert(sizeof(names) / sizeof(names[0]) == HC__COUNT, "a name for every proxy counter (enum http_count)");

const char *proxy_count_name(unsigned int c)
{
	return c < HC__COUNT && names[c] ? names[c] : "?";
}
