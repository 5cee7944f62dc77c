/* tlsload: HTTPS load generator of tests/bench/bench_wire.py (the tls-full and
 * tls-resumed workloads). Each of -c connections, spread over -t threads (one epoll loop
 * each), does, for -d seconds: TCP connect, TLS handshake, one `GET PATH` with
 * `Connection: close`, read the response (Content-Length), close; then again. With
 * -m new every handshake is a full one (no session offered); with -m reuse each
 * connection offers the session (ticket) its previous connection ended with, as a browser
 * does, so every handshake after a connection's first is a resumption if the server
 * accepts it. Not a test. Prints one JSON line:
 *   {"requests", "seconds", "rps", "errors", "non200", "timeouts", "resumed", "cut_in_handshake",
 *    "p50_ms", "p99_ms"}
 * latency = connect() to the last byte of the response; cut_in_handshake: connections
 * closed at the end of the run while connecting or in their handshake (the server may
 * count those as failed handshakes).
 *
 *   tlsload [-t 2] [-c 64] [-d 5] [-m new|reuse] [-s SNI] [-V 1.2|1.3] [-C suites] IP PORT PATH
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONN_TIMEOUT_NS (4ull * 1000000000ull)
#define MAX_LAT (1u << 22)   /* latencies kept per thread */

enum st { S_IDLE, S_CONNECT, S_TLS, S_WRITE, S_READ };

struct conn {
	int fd;
	enum st st;
	SSL *ssl;
	SSL_SESSION *sess;     /* -m reuse: the one to offer next */
	uint64_t t0;
	size_t woff, got, need; /* need: header + body bytes, 0 until the head is complete */
	char buf[512];          /* the response head */
	size_t hlen;
	int status;
};

struct thr {
	pthread_t th;
	int ep, n;
	struct conn *c;
	uint64_t reqs, errors, non200, timeouts, resumed, cut;
	uint32_t *lat, nlat;
};

static SSL_CTX *ctx;
static struct sockaddr_in addr;
static const char *sni, *path;
static char req[1024];
static size_t reqlen;
static int reuse;
static uint64_t deadline;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void conn_close(struct thr *t, struct conn *c)
{
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	c->st = S_IDLE;
}

static void conn_fail(struct thr *t, struct conn *c)
{
	t->errors++;
	if (c->sess) {   /* offer nothing stale next time */
		SSL_SESSION_free(c->sess);
		c->sess = NULL;
	}
	conn_close(t, c);
}

/* An SSL call on C returned R <= 0 (or != 1): wait for the socket, or count a failure and close. */
static void ssl_stalled(struct thr *t, struct conn *c, int r)
{
	int e = SSL_get_error(c->ssl, r);

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return;
	ERR_clear_error();
	conn_fail(t, c);
}

static void conn_start(struct thr *t, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		t->errors++;
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->t0 = now_ns();
	c->woff = c->got = c->need = c->hlen = 0;
	c->status = 0;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		t->errors++;
		return;
	}
	c->st = S_CONNECT;
	epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* The head is complete in c->buf: status and Content-Length. */
static int parse_head(struct conn *c, size_t hdr_end)
{
	char *p, *cl;

	c->buf[c->hlen < sizeof(c->buf) ? c->hlen : sizeof(c->buf) - 1] = 0;
	if (strncmp(c->buf, "HTTP/1.", 7) != 0)
		return -1;
	c->status = atoi(c->buf + 9);
	cl = strcasestr(c->buf, "\r\ncontent-length:");
	if (!cl || (size_t)(cl - c->buf) > hdr_end)
		return -1;
	for (p = cl + 17; *p == ' '; p++)
		;
	c->need = hdr_end + strtoull(p, NULL, 10);
	return 0;
}

static void drive(struct thr *t, struct conn *c)
{
	char tmp[16384];
	int r, e;   /* e: the connect's SO_ERROR */
	socklen_t sl;

	for (;;) {
		switch (c->st) {
		case S_IDLE:
			return;
		case S_CONNECT:
			sl = sizeof(e);
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0 || e == EINPROGRESS)
				return;
			if (e) {
				conn_fail(t, c);
				return;
			}
			{   /* not yet connected: getpeername fails */
				struct sockaddr_in pa;
				socklen_t pl = sizeof(pa);

				if (getpeername(c->fd, (struct sockaddr *)&pa, &pl) < 0)
					return;
			}
			c->ssl = SSL_new(ctx);
			SSL_set_fd(c->ssl, c->fd);
			SSL_set_tlsext_host_name(c->ssl, sni);
			if (reuse && c->sess)
				SSL_set_session(c->ssl, c->sess);
			c->st = S_TLS;
			break;
		case S_TLS:
			r = SSL_connect(c->ssl);
			if (r != 1) {
				ssl_stalled(t, c, r);
				return;
			}
			if (SSL_session_reused(c->ssl))
				t->resumed++;
			c->st = S_WRITE;
			break;
		case S_WRITE:
			r = SSL_write(c->ssl, req + c->woff, (int)(reqlen - c->woff));
			if (r <= 0) {
				ssl_stalled(t, c, r);
				return;
			}
			c->woff += (size_t)r;
			if (c->woff == reqlen)
				c->st = S_READ;
			break;
		case S_READ:
			r = SSL_read(c->ssl, tmp, sizeof(tmp));
			if (r <= 0) {
				ssl_stalled(t, c, r);   /* a failure: closed before the whole response */
				return;
			}
			if (!c->need) {
				size_t k = (size_t)r;
				char *end;

				if (c->hlen + k > sizeof(c->buf) - 1)
					k = sizeof(c->buf) - 1 - c->hlen;
				memcpy(c->buf + c->hlen, tmp, k);
				c->hlen += k;
				c->buf[c->hlen] = 0;
				end = strstr(c->buf, "\r\n\r\n");
				if (!end && c->hlen >= sizeof(c->buf) - 1) {
					conn_fail(t, c);
					return;
				}
				if (end && parse_head(c, (size_t)(end - c->buf) + 4) < 0) {
					conn_fail(t, c);
					return;
				}
			}
			c->got += (size_t)r;
			if (c->need && c->got >= c->need) {
				uint64_t dt = now_ns() - c->t0;

				t->reqs++;
				if (c->status != 200)
					t->non200++;
				if (t->nlat < MAX_LAT)
					t->lat[t->nlat++] = (uint32_t)(dt / 1000 > UINT32_MAX ? UINT32_MAX : dt / 1000);
				if (reuse) {
					SSL_SESSION *s = SSL_get1_session(c->ssl);

					if (c->sess)
						SSL_SESSION_free(c->sess);
					c->sess = (s && SSL_SESSION_is_resumable(s)) ? s : NULL;
					if (s && !c->sess)
						SSL_SESSION_free(s);
				}
				/* close_notify (one record, not waited for): an SSL freed without
				 * it marks its session not resumable */
				SSL_shutdown(c->ssl);
				ERR_clear_error();
				conn_close(t, c);
				if (now_ns() < deadline)
					conn_start(t, c);
				return;
			}
			break;
		}
	}
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	struct epoll_event evs[256];
	uint64_t last_scan = 0;
	int i, n;

	for (i = 0; i < t->n; i++) {
		t->c[i].fd = -1;
		conn_start(t, &t->c[i]);
	}
	for (;;) {
		uint64_t now = now_ns();

		if (now - last_scan > 50000000ull || now >= deadline) {
			last_scan = now;
			for (i = 0; i < t->n; i++) {
				struct conn *c = &t->c[i];

				if (c->st != S_IDLE && now - c->t0 > CONN_TIMEOUT_NS) {
					t->timeouts++;
					conn_fail(t, c);
				}
				if (c->st == S_IDLE && now < deadline)
					conn_start(t, c);   /* after an error */
				if (now >= deadline && c->st != S_IDLE) {
					t->cut += c->st == S_CONNECT || c->st == S_TLS;
					conn_close(t, c);   /* unfinished at the end: not counted */
				}
			}
			if (now >= deadline)
				break;
		}
		n = epoll_wait(t->ep, evs, 256, 50);
		for (i = 0; i < n; i++)
			drive(t, evs[i].data.ptr);
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int threads = 2, conns = 64, seconds = 5, opt, i, ver = 3;
	const char *suites = NULL;
	struct thr *th;
	uint64_t t0, t1, reqs = 0, errors = 0, non200 = 0, timeouts = 0, resumed = 0, cut = 0, nlat = 0;
	uint32_t *all;

	while ((opt = getopt(argc, argv, "t:c:d:m:s:V:C:")) != -1) {
		switch (opt) {
		case 't': threads = atoi(optarg); break;
		case 'c': conns = atoi(optarg); break;
		case 'd': seconds = atoi(optarg); break;
		case 'm': reuse = strcmp(optarg, "reuse") == 0; break;
		case 's': sni = optarg; break;
		case 'V': ver = strcmp(optarg, "1.2") == 0 ? 2 : 3; break;
		case 'C': suites = optarg; break;
		default: goto usage;
		}
	}
	if (argc - optind != 3 || threads < 1 || conns < threads || seconds < 1 || seconds > 3600)
		goto usage;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &addr.sin_addr) != 1)
		goto usage;
	path = argv[optind + 2];
	if (!sni)
		sni = "bench.test";
	reqlen = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
				  path, sni);

	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_min_proto_version(ctx, ver == 3 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, ver == 3 ? TLS1_3_VERSION : TLS1_2_VERSION);
	if (suites && ver == 3 && !SSL_CTX_set_ciphersuites(ctx, suites))
		goto usage;
	if (suites && ver == 2 && !SSL_CTX_set_cipher_list(ctx, suites))
		goto usage;

	th = calloc((size_t)threads, sizeof(*th));
	t0 = now_ns();
	deadline = t0 + (uint64_t)seconds * 1000000000ull;
	for (i = 0; i < threads; i++) {
		th[i].n = conns / threads + (i < conns % threads);
		th[i].c = calloc((size_t)th[i].n, sizeof(struct conn));
		th[i].lat = malloc(MAX_LAT * sizeof(uint32_t));
		th[i].ep = epoll_create1(0);
		pthread_create(&th[i].th, NULL, thread_main, &th[i]);
	}
	for (i = 0; i < threads; i++)
		pthread_join(th[i].th, NULL);
	t1 = now_ns();
	for (i = 0; i < threads; i++) {
		reqs += th[i].reqs;
		errors += th[i].errors;
		non200 += th[i].non200;
		timeouts += th[i].timeouts;
		resumed += th[i].resumed;
		cut += th[i].cut;
		nlat += th[i].nlat;
	}
	all = malloc((nlat ? nlat : 1) * sizeof(uint32_t));
	nlat = 0;
	for (i = 0; i < threads; i++) {
		memcpy(all + nlat, th[i].lat, th[i].nlat * sizeof(uint32_t));
		nlat += th[i].nlat;
	}
	qsort(all, nlat, sizeof(uint32_t), cmp_u32);
	printf("{\"requests\": %llu, \"seconds\": %.3f, \"rps\": %.1f, \"errors\": %llu, \"non200\": %llu, "
	       "\"timeouts\": %llu, \"resumed\": %llu, \"cut_in_handshake\": %llu, \"p50_ms\": %.3f, \"p99_ms\": %.3f}\n",
	       (unsigned long long)reqs, (t1 - t0) / 1e9, reqs / ((deadline - t0) / 1e9),
	       (unsigned long long)errors, (unsigned long long)non200, (unsigned long long)timeouts,
	       (unsigned long long)resumed, (unsigned long long)cut, nlat ? all[nlat / 2] / 1e3 : 0.0,
	       nlat ? all[(nlat * 99) / 100] / 1e3 : 0.0);
	return 0;
usage:
	fprintf(stderr, "usage: tlsload [-t threads] [-c conns] [-d seconds] [-m new|reuse] [-s sni] "
		"[-V 1.2|1.3] [-C suites] IP PORT PATH\n");
	return 2;
}
