/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit-test harness for the proxy (secondary/http/proxy.c) on top of the TCP
 * harness (tcp_harness.h): the real stack and the real proxy on fake mbufs
 * and the fake clock, the proxy's configuration parsed from a libconfig
 * string by the real config code, and peers on the wire:
 *
 *  - client peers (10.0.0.3) that open connections to a listener (the http
 *    one, or the tcp pass-through one) and send bytes;
 *  - upstream peers (the servers, 10.0.0.2) created when the stack sends a
 *    SYN to a server address: they answer the proxy's tcp_connect() with a
 *    SYN-ACK (or refuse it, or stay silent) and then behave as any peer.
 *
 * Every frame the stack sends is taken by ph_pump(): checked (well formed,
 * checksums), given to the peer of its 4-tuple, whose in-order bytes are
 * collected as a byte stream (rx) and acknowledged at once. A peer sends
 * bytes cut into segments of at most PH_MSS, each followed by a pump.
 *
 * The clock only moves with ph_advance(), from one timer deadline to the
 * next (tcp_next_timer_ms / proxy_next_ms), running the stack's timers and
 * proxy_poll() at each. The proxy refreshes the clock itself from
 * CLOCK_MONOTONIC (tcp_ctx_clock) in proxy_attach() and proxy_poll(): the
 * programs that link this harness wrap that function (-Wl,--wrap=
 * tcp_ctx_clock, tests/meson.build) with one that leaves the fake clock be,
 * so the proxy itself is the production code unchanged.
 *
 * After every step (a segment sent, a clock advance) ph_check() must hold
 * (checked after each segment, and at the end of each ph_advance()).
 *
 * ph_reattach() is a worker replacement: the proxy's and the stack's private
 * memory dropped, both attached again to the same shared areas (rebuild),
 * then tcp_resume() as a successor does. PH.reattach_each makes every step
 * (segment sent, clock advance) end with one.
 *
 * The end-of-test check (ph_check_clean, run by PTEST) closes every peer
 * still open, lets the timers run out, and asserts that no session and no
 * stream is left, that no fake mbuf is live, and the invariants of both
 * areas; then h_check_clean().
 */
#ifndef PORTER_TESTS_PROXY_HARNESS_H
#define PORTER_TESTS_PROXY_HARNESS_H

#include "secondary/http/proxy.h"
#include "tests/unit/tcp_harness.h"

#define PH_CLIENT_IP   0x0a000003u   /* 10.0.0.3: every client peer */
#define PH_SERVER_IP   0x0a000002u   /* 10.0.0.2: the upstream servers */
#define PH_HTTP_PORT   80            /* listener: protocol http */
#define PH_TCP_PORT    8000          /* listener: protocol tcp, upstream "raw" */
#define PH_APP_PORT    8080          /* upstream "app" (the routes' upstream) */
#define PH_RAW_PORT    9000          /* upstream "raw" */
#define PH_MSS         1460
#define PH_MAX_PEERS   256

/* The configuration ph_setup() parses (http routes to "app", tcp to "raw"). */
extern const char PH_CONF[];

struct ph_peer {
	struct h_peer tp;            /* the TCP model (tcp_harness.h) */
	unsigned int id;             /* index in PH.peers */
	bool upstream;               /* a server the proxy connected to */
	bool fin_in;                 /* the stack's FIN arrived (in order) */
	bool fin_out;                /* this peer sent its FIN */
	bool rst_in;                 /* the stack reset the connection */
	bool rst_out;                /* this peer reset it */
	uint8_t *rx;                 /* bytes received in order */
	uint32_t rx_len, rx_cap;
	uint32_t rx_seen;            /* ph_take(): bytes already taken */
	uint32_t tx_len;             /* bytes this peer sent */
};

struct proxy_harness {
	struct porter_config cfg;    /* as parsed */
	struct porter_proxy *pc;     /* the shared proxy configuration (memzone porter_proxy) */
	void *area;                  /* the shard's proxy area */
	uint64_t area_bytes;
	struct proxy px;             /* the worker's handle */
	struct ph_peer peers[PH_MAX_PEERS];
	unsigned int npeers;
	unsigned int nupstreams;     /* upstream peers created (SYNs answered or refused) */
	uint16_t next_cport;         /* next client source port */
	/* how upstream servers answer a SYN */
	struct h_synopt up_opts;
	bool up_refuse;              /* RST,ACK: connection refused */
	bool up_silent;              /* no answer (connect timeout) */
	bool reattach_each;          /* a ph_reattach() after every step */
	unsigned long stray;         /* frames for no peer (e.g. a SYN nobody answers) */
	unsigned long reattaches;
	/* optional observer of every frame a peer receives from the stack (after the harness's checks) */
	void (*on_frame)(struct ph_peer *p, const struct h_out *o);
};

extern struct proxy_harness PH;

#define PX   (&PH.px)
#define PXA  (PH.px.a)

/* h_setup(), then the proxy with configuration TEXT (ph_setup: PH_CONF). Asserts it parses. */
void ph_setup_conf(const char *text);
void ph_setup(void);
void ph_teardown(void);     /* frees everything (Criterion .fini) */

/* A test of SUITE (ph_setup / ph_teardown) ending with ph_check_clean(). */
#define PTEST(suite, name, ...)                                                \
	static void suite##_##name##_body(void);                               \
	Test(suite, name, ##__VA_ARGS__)                                       \
	{                                                                      \
		suite##_##name##_body();                                       \
		ph_check_clean();                                              \
	}                                                                      \
	static void suite##_##name##_body(void)

#define PSUITE(suite) TestSuite(suite, .init = ph_setup, .fini = ph_teardown)

/*
 * The proxy's invariants, from the shared area: every session in use is
 * below the mark, owned by a live client stream of an http or tcp listener
 * that points back at it, its upstream stream (when it has one) live and
 * pointing back; the active count and the free list agree; every pooled
 * stream is an established idle stream of its server slot. Then tcp_check().
 * Returns the number of violations (printed to stderr).
 */
unsigned int ph_check(void);

/*
 * The end of a test: every peer still open sends its FIN (or, with RST true,
 * a reset), the clock runs until no stream is left (bounded), then: no
 * session in use, no stream live, no fake mbuf live, ph_check() clean, and
 * h_check_clean().
 */
void ph_close_all(bool rst);
void ph_check_clean(void);

/* ---- peers ------------------------------------------------------------------ */

/* A client connects to listener PORT offering SO; returns when established (and pumped). */
struct ph_peer *ph_client(uint16_t port, const struct h_synopt *so);

/* P sends LEN bytes at B: segments of at most PH_MSS, each followed by ph_pump() (and a re-attach with
 * reattach_each). Nothing is sent on a connection P reset, that was reset, or after P's FIN. */
void ph_send(struct ph_peer *p, const void *b, uint32_t len);
void ph_send_str(struct ph_peer *p, const char *s);
/* P sends its FIN / a reset; pumps. */
void ph_fin(struct ph_peer *p);
void ph_rst(struct ph_peer *p);
/* The stream of the stack on P's connection, TCP_NIL when none. */
uint32_t ph_stream(const struct ph_peer *p);

/* Upstream peer K (in the order the proxy's SYNs arrived), NULL when there is none. */
struct ph_peer *ph_upstream(unsigned int k);
/* The newest upstream peer, NULL when none. */
struct ph_peer *ph_last_upstream(void);

/* Bytes P received since the last ph_take() (NUL-terminated copy in a static buffer; LEN set). */
const char *ph_take(struct ph_peer *p, uint32_t *len);
/* Assert that P received exactly S since the last ph_take(), and take it. */
#define PH_EXPECT(p, s) ph_expect_at(__FILE__, __LINE__, (p), (s))
void ph_expect_at(const char *file, int line, struct ph_peer *p, const char *s);

/* ---- driving ------------------------------------------------------------------ */

/* Take every frame the stack sent, to its peer (SYNs to a server: a new upstream peer), and ACK. */
void ph_pump(void);
/* Move the clock by MS from timer to timer, running the stack's timers, proxy_poll() and ph_pump(). */
void ph_advance(uint32_t ms);
/* A worker replacement: see above. Pumps. */
void ph_reattach(void);

#endif
