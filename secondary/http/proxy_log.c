/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The access log and the exchange metrics: one JSON line per exchange,
 * appended to a ring by the data path (never a system call) and written to
 * the file by a thread of the worker; the file reopened at reload and
 * SIGUSR1. Also what the line shows of a request head (noted when it is
 * parsed) and the X-Request-Id porter gives a request without one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "secondary/http/proxy_priv.h"

static void log_str(char *d, size_t *o, size_t cap, const char *s, size_t len)
{
	for (size_t i = 0; i < len && *o + 8 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			*o += (size_t)snprintf(d + *o, cap - *o, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			*o += (size_t)snprintf(d + *o, cap - *o, "\\u%04x", ch);
		else
			d[(*o)++] = (char)ch;
	}
}

/* A request (http) or a connection (tcp pass-through) on client stream C's listener: porter_shard.listener_uses. */
void proxy_count_listener(struct proxy *p, uint32_t c)
{
	const struct porter_listener *l = tcp_listener(p->tcp, tcp_lport(p->tcp, c));

	if (p->listener_uses && l)
		p->listener_uses[l - p->tcp->listeners]++;
}

/* The metrics of a finished exchange (porter_shard.hstats): its status class and, but for tunnels, its time. */
static void count_exchange(struct proxy *p, const struct http_sess *x, unsigned int status)
{
	static const double bounds[] = PORTER_LAT_BOUNDS_MS;
	struct porter_http_stats *h = p->hstats;
	uint32_t ms;
	unsigned int b = 0;

	if (h == NULL)
		return;
	h->by_class[status >= 100 && status < 600 ? status / 100 : 0]++;
	if (status == 101)
		return;   /* a tunnel's time is its life, not a response time */
	ms = now(p) - x->t0_ms;
	while (b < PORTER_LAT_BUCKETS - 1 && (double)ms > bounds[b])
		b++;
	h->latency[b]++;
	h->latency_sum_us += (uint64_t)ms * 1000;
	h->latency_count++;
}

void proxy_access_log(struct proxy *p, struct http_sess *x, unsigned int status)
{
	const struct http_snap *sn = cur(x);
	uint32_t ca = tcp_raddr(p->tcp, x->cl);
	char line[4096], up[64] = "-", srv[32] = "-";   /* room for every field escaped (6 bytes a byte at worst) */
	const struct proxy_logf *l = p->logf ? &p->logf[sess_idx(p, x)] : NULL;
	size_t o = 0;
	time_t secs = (time_t)(x->t0_wall_ms / 1000);
	struct tm tm;
	const char *m = h1_method_name(sn->method);

	count_exchange(p, x, status);
	if (p->log_fd < 0) {
		if (p->log_path[0])   /* configured, but it would not open (proxy_log_reopen) */
			__atomic_fetch_add(&p->a->counts[HC_LOG_DROPPED], 1, __ATOMIC_RELAXED);
		return;
	}
	if (sn->slot != NO_SLOT && gen_current(p, sn)) {
		const struct porter_cfg_server *s = server_of(p, sn->slot);

		snprintf(up, sizeof(up), "%s", upstream_of(p, sn->slot)->name);
		snprintf(srv, sizeof(srv), "%u.%u.%u.%u:%u", s->ipv4 >> 24, (s->ipv4 >> 16) & 0xff,
			 (s->ipv4 >> 8) & 0xff, s->ipv4 & 0xff, s->port);
	} else if (x->route && gen_current(p, sn) && x->route <= p->conf->route_count) {
		snprintf(up, sizeof(up), "%s",
			 p->conf->upstreams[p->conf->routes[x->route - 1].upstream].name);
	}
	gmtime_r(&secs, &tm);
	o += strftime(line, sizeof(line), "{\"time\":\"%Y-%m-%dT%H:%M:%S", &tm);
	o += (size_t)snprintf(line + o, sizeof(line) - o,
			      ".%03uZ\",\"shard\":%u,\"client\":\"%u.%u.%u.%u:%u\",\"method\":\"%s\",\"path\":\"",
			      (unsigned int)(x->t0_wall_ms % 1000), p->shard, ca >> 24, (ca >> 16) & 0xff,
			      (ca >> 8) & 0xff, ca & 0xff, tcp_rport(p->tcp, x->cl),
			      m ? m : (x->kind == HS_TUNNEL ? "TCP" : "OTHER"));
	log_str(line, &o, sizeof(line) - 300, x->path, strnlen(x->path, sizeof(x->path)));
	o += (size_t)snprintf(line + o, sizeof(line) - o,
			      "\",\"version\":\"1.%u\",\"status\":%u,\"bytes_in\":%u,\"bytes_out\":%u,"
			      "\"upstream\":\"%s\",\"server\":\"%s\",\"connect_ms\":%d,\"response_ms\":%d,"
			      "\"total_ms\":%u",
			      sn->minor, status, sio_read_pos(p->tcp, x->cl) - x->c_r0,
			      sio_write_pos(p->tcp, x->cl) - x->c_w0, up, srv,
			      x->t_conn_ms ? (int)(x->t_conn_ms - x->t0_ms) : -1,
			      x->t_resp_ms ? (int)(x->t_resp_ms - x->t0_ms) : -1, now(p) - x->t0_ms);
	{
		/* what the head said (proxy_note_head): "-" when this worker did not parse it */
		static const char *const keys[] = { "host", "query", "user_agent", "referer", "request_id" };
		const char *vals[] = { l && l->valid ? l->host : "-", l && l->valid ? l->query : "-",
				       l && l->valid ? l->ua : "-", l && l->valid ? l->referer : "-",
				       l && l->valid ? l->rid : "-" };

		const struct tls_slot *ts = tls_io_slot(p->tcp, x->cl);

		for (unsigned int k = 0; k < 5 && o < sizeof(line) - 16; k++) {
			o += (size_t)snprintf(line + o, sizeof(line) - o, ",\"%s\":\"", keys[k]);
			log_str(line, &o, sizeof(line) - 16, vals[k], strlen(vals[k]));
			line[o++] = '"';
		}
		if (ts && o < sizeof(line) - 200) {
			/* TLS: version, suite, and the name the client asked for ("" without SNI) */
			o += (size_t)snprintf(line + o, sizeof(line) - o, ",\"tls\":\"%s\",\"cipher\":\"%s\",\"sni\":\"",
					      tls_io_version(p->tcp, x->cl), tls_io_cipher(p->tcp, x->cl));
			log_str(line, &o, sizeof(line) - 16, ts->sni, strnlen(ts->sni, sizeof(ts->sni)));
			line[o++] = '"';
		}
		if (o < sizeof(line) - 2) {
			line[o++] = '}';
			line[o++] = '\n';
		}
	}
	if (o >= sizeof(line)) {
		o = sizeof(line) - 1;
		line[o - 1] = '\n';   /* cut, but still a line of its own */
	}
	{
		/* single producer: the worker; single consumer: the log thread */
		uint64_t head = p->log_head, tail = __atomic_load_n(&p->log_tail, __ATOMIC_ACQUIRE);
		uint32_t at = (uint32_t)(head & (PROXY_LOG_RING - 1)), first;

		if (PROXY_LOG_RING - (head - tail) < o) {
			/* the file does not keep up: drop, never wait */
			__atomic_fetch_add(&p->a->counts[HC_LOG_DROPPED], 1, __ATOMIC_RELAXED);
			return;
		}
		first = PROXY_LOG_RING - at < o ? PROXY_LOG_RING - at : (uint32_t)o;
		memcpy(p->log_ring + at, line, first);
		memcpy(p->log_ring, line + first, o - first);
		__atomic_store_n(&p->log_head, head + o, __ATOMIC_RELEASE);
	}
}

/*
 * Write out what the ring holds (log thread, under log_mu): whole lines (the
 * worker adds whole lines), the part past the ring's end and the part from
 * its start in one writev. Every shard appends to the same file (O_APPEND),
 * and on a regular file one write is not interleaved with another's: two
 * could put another shard's line in the middle of one of ours. (A pipe keeps
 * only writes up to PIPE_BUF whole; a short write, a full disk, cuts a line.)
 */
static void log_drain(struct proxy *p)
{
	uint64_t head = __atomic_load_n(&p->log_head, __ATOMIC_ACQUIRE), tail = p->log_tail;

	while (tail < head) {
		uint32_t at = (uint32_t)(tail & (PROXY_LOG_RING - 1));
		uint64_t n = head - tail, first = n > PROXY_LOG_RING - at ? PROXY_LOG_RING - at : n;
		struct iovec iov[2] = {
			{ .iov_base = p->log_ring + at, .iov_len = first },
			{ .iov_base = p->log_ring, .iov_len = n - first },
		};
		ssize_t w;

		w = p->log_fd >= 0 ? writev(p->log_fd, iov, n > first ? 2 : 1) : (ssize_t)n;
		if (w <= 0) {
			__atomic_fetch_add(&p->a->counts[HC_LOG_DROPPED], 1, __ATOMIC_RELAXED);
			w = (ssize_t)n;   /* the file refuses: drop, do not spin */
		}
		tail += (uint64_t)w;
		__atomic_store_n(&p->log_tail, tail, __ATOMIC_RELEASE);
	}
}

static void *log_thread_main(void *arg)
{
	struct proxy *p = arg;

	for (;;) {
		struct timespec ts = { .tv_nsec = 100 * 1000 * 1000 };
		int stop = p->log_stop;

		pthread_mutex_lock(&p->log_mu);
		log_drain(p);
		pthread_mutex_unlock(&p->log_mu);
		if (stop)
			return NULL;
		nanosleep(&ts, NULL);
	}
}

/*
 * Open the configured access log: at start, and again at every reload and
 * SIGUSR1 (FORCE), so that a log moved away by a rotation is written anew
 * under its name. The thread writes to the new file; what the ring held goes
 * to the old one. A file that does not open is said on stderr, and its lines
 * are counted in log_dropped.
 */
void proxy_log_reopen(struct proxy *p, bool force)
{
	const char *path = p->conf->http.access_log;
	int fd = -1;

	if (!force && strcmp(path, p->log_path) == 0)
		return;
	snprintf(p->log_path, sizeof(p->log_path), "%s", path);
	if (path[0]) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			fprintf(stderr, "porter-worker: shard %u: access log %s: %s (its lines are dropped, "
				"counted in log_dropped)\n", p->shard, path, strerror(errno));
	}
	pthread_mutex_lock(&p->log_mu);
	log_drain(p);   /* lines of the previous file go to it */
	if (p->log_fd >= 0)
		close(p->log_fd);
	p->log_fd = fd;
	pthread_mutex_unlock(&p->log_mu);
	if (fd >= 0 && !p->log_thread_on)
		p->log_thread_on = pthread_create(&p->log_thread, NULL, log_thread_main, p) == 0;
}

void proxy_reopen_log(struct proxy *p)
{
	proxy_log_reopen(p, true);
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * The X-Request-Id porter gives a request that came without one: 32 hex
 * digits from what identifies the request for as long as its connection
 * lives -- the connection's two initial sequence numbers (ours from a
 * keyed hash, the client's its own choice), the client's address and port,
 * the shard and where the head starts in the client's stream. A worker that
 * takes the session over computes the same, so a head cut by a crash is
 * finished with the same bytes (proxy_send_planned).
 */
void proxy_request_id(const struct proxy *p, uint32_t c, uint32_t rbase, char out[33])
{
	uint64_t a = mix64((uint64_t)tcp_iss(p->tcp, c) << 32 | tcp_irs(p->tcp, c));
	uint64_t h1 = mix64(a ^ mix64((uint64_t)tcp_raddr(p->tcp, c) << 32 | (uint64_t)tcp_rport(p->tcp, c) << 16 |
				      p->shard));
	uint64_t h2 = mix64(h1 ^ mix64((uint64_t)rbase << 1 | 1));

	snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, h1, h2);
}

/* B[off .. off+len) into OUT as a C string, cut to CAP - 1 bytes. */
static void copy_span(const uint8_t *b, uint32_t off, uint32_t len, char *out, size_t cap)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	memcpy(out, b + off, n);
	out[n] = '\0';
}

/* Field NAME's value of the head M at B into OUT ("" when absent); whether it is there. */
static bool note_field(const struct h1_msg *m, const uint8_t *b, const char *name, char *out, size_t cap)
{
	int i = h1_find(m, b, name);

	copy_span(b, i >= 0 ? m->h[i].value.off : 0, i >= 0 ? m->h[i].value.len : 0, out, cap);
	return i >= 0;
}

/* The request head M (bytes B) of session X parsed: note what its access log line shows. */
void proxy_note_head(struct proxy *p, struct http_sess *x, const struct h1_msg *m, const uint8_t *b)
{
	struct proxy_logf *l = &p->logf[sess_idx(p, x)];
	uint32_t qs = m->path.off + m->path.len, qe = m->target.off + m->target.len;
	bool query = qs < qe && b[qs] == '?';

	copy_span(b, m->host.off, m->host.len, l->host, sizeof(l->host));
	copy_span(b, query ? qs + 1 : 0, query ? qe - qs - 1 : 0, l->query, sizeof(l->query));
	note_field(m, b, "user-agent", l->ua, sizeof(l->ua));
	note_field(m, b, "referer", l->referer, sizeof(l->referer));
	if (!note_field(m, b, "x-request-id", l->rid, 65))
		proxy_request_id(p, x->cl, sio_read_pos(p->tcp, x->cl), l->rid);
	l->valid = true;
}
