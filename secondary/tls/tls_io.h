/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS termination on a worker's TCP streams, and the stream I/O seam the
 * proxy reads and writes its client streams through (sio_*).
 *
 * A stream accepted by a listener with `tls` gets a slot of the shard's TLS
 * area (shm/tls-area-t.h) at its first event. OpenSSL runs the handshake on
 * memory BIOs, fed one whole record at a time from the TCP receive queue so
 * that it never holds bytes past its Finished; its flights go to the TCP send
 * queue. When it completes, the record layer's state (tls_rec.h) goes into
 * the slot and the SSL is freed: from then on the session runs from shared
 * memory alone, and a worker that replaces this one continues it
 * (tls_io_attach reconciles each slot with its TCP stream).
 *
 * The proxy sees plaintext: the sio_* calls below are tcp_*'s with the same
 * meaning, positions included (a TLS stream's read and write positions count
 * plaintext bytes), and fall through to tcp_* for every stream without TLS.
 * So the proxy's rule "send first, consume after; the positions tell a
 * successor how far each got" holds across the TLS layer too.
 */
#ifndef PORTER_TLS_IO_H
#define PORTER_TLS_IO_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "secondary/tcp/tcp.h"
#include "shm/tls-area-t.h"

struct tls_io;
struct tls_conf;

/*
 * Attach the shard's TLS area (AREA, BYTES; NULL/0 when no listener has tls)
 * to C, after tcp_ctx_attach and before the proxy attaches: every slot is
 * checked against its TCP stream; handshakes a dead worker left are reset,
 * established sessions are continued. Returns 0, or -1 when the area is not
 * one this code runs (layout).
 */
int tls_io_attach(struct tcp_ctx *c, void *area, uint64_t bytes);
void tls_io_detach(struct tcp_ctx *c);

/* The hooks (tls_conf.h) that issue and accept session tickets under KEYS, the
 * primary's shared keys (shm/tls-pub-t.h); NULL keys: no tickets. */
struct porter_tls_tickets;
struct tls_conf_hooks;
const struct tls_conf_hooks *tls_io_ticket_hooks(const struct porter_tls_tickets *keys);

/* The contexts new handshakes use (a reference is taken; NULL: refuse new TLS connections). */
void tls_io_set_conf(struct tcp_ctx *c, struct tls_conf *tc);

/*
 * An event on stream S, before the application's: runs the handshake or
 * opens the records that arrived. Returns true when the application must get
 * the event (*EV, which becomes READABLE when the handshake just completed):
 * an established session, or a stream without TLS.
 */
bool tls_io_event(struct tcp_ctx *c, uint32_t s, uint32_t *ev);
/* After the application's handling of EV: a session whose stream closed (TIME-WAIT) or was reset is wiped. */
void tls_io_event_done(struct tcp_ctx *c, uint32_t s, uint32_t ev);

/* The slot of S when S is an established TLS stream, else NULL. */
const struct tls_slot *tls_io_slot(const struct tcp_ctx *c, uint32_t s);
/* For the access log: "TLSv1.3", the IANA suite name, the SNI ("" if none); NULL without TLS. */
const char *tls_io_version(const struct tcp_ctx *c, uint32_t s);
const char *tls_io_cipher(const struct tcp_ctx *c, uint32_t s);

/* The area's counters (NULL when there is none). */
const struct tls_area *tls_io_area(const struct tcp_ctx *c);

/* --- the stream I/O seam ------------------------------------------------ */

uint32_t tls_sio_slot(const struct tcp_ctx *c, uint32_t s);   /* TLS_NIL: not TLS; TLS_DEAD: no session */
uint32_t tls_sio_read_pos(const struct tcp_ctx *c, uint32_t k);
uint32_t tls_sio_write_pos(const struct tcp_ctx *c, uint32_t k);
uint32_t tls_sio_recv_avail(const struct tcp_ctx *c, uint32_t k);
bool tls_sio_peer_closed(const struct tcp_ctx *c, uint32_t s, uint32_t k);
uint32_t tls_sio_peek(const struct tcp_ctx *c, uint32_t k, uint32_t off, void *buf, uint32_t len);
const uint8_t *tls_sio_peek_contig(const struct tcp_ctx *c, uint32_t k, uint32_t *len);
uint32_t tls_sio_recv(struct tcp_ctx *c, uint32_t s, uint32_t k, void *buf, uint32_t len);
int tls_sio_send(struct tcp_ctx *c, uint32_t s, uint32_t k, const void *data, uint32_t len);
uint32_t tls_sio_send_space(const struct tcp_ctx *c, uint32_t s, uint32_t k);
int tls_sio_shutdown(struct tcp_ctx *c, uint32_t s, uint32_t k);
void tls_sio_close(struct tcp_ctx *c, uint32_t s, uint32_t k);

static inline uint32_t sio_slot(const struct tcp_ctx *c, uint32_t s)
{
	return c->tls ? tls_sio_slot(c, s) : TLS_NIL;
}

/*
 * TLS_NIL: a stream without TLS (tcp_*). TLS_DEAD: a TLS stream with no
 * session (in its handshake, failed, or closed): it has no plaintext to give
 * and takes none, so nothing of the proxy's ever reaches it in clear. Else
 * the established session's slot.
 */
static inline uint32_t sio_read_pos(const struct tcp_ctx *c, uint32_t s)
{
	uint32_t k = sio_slot(c, s);

	return k >= TLS_DEAD ? tcp_read_pos(c, s) : tls_sio_read_pos(c, k);
}

static inline uint32_t sio_write_pos(const struct tcp_ctx *c, uint32_t s)
{
	uint32_t k = sio_slot(c, s);

	return k >= TLS_DEAD ? tcp_write_pos(c, s) : tls_sio_write_pos(c, k);
}

static inline uint32_t sio_recv_avail(const struct tcp_ctx *c, uint32_t s)
{
	uint32_t k = sio_slot(c, s);

	return k == TLS_NIL ? tcp_recv_avail(c, s) : k == TLS_DEAD ? 0 : tls_sio_recv_avail(c, k);
}

/* The peer will send no more (FIN, close_notify or a failed session) and everything it sent was read. */
static inline bool sio_peer_closed(const struct tcp_ctx *c, uint32_t s)
{
	uint32_t k = sio_slot(c, s);

	return k >= TLS_DEAD ? tcp_peer_closed(c, s) : tls_sio_peer_closed(c, s, k);
}

static inline uint32_t sio_peek(const struct tcp_ctx *c, uint32_t s, uint32_t off, void *buf, uint32_t len)
{
	uint32_t k = sio_slot(c, s);

	return k == TLS_NIL ? tcp_peek(c, s, off, buf, len) : k == TLS_DEAD ? 0 : tls_sio_peek(c, k, off, buf, len);
}

static inline const uint8_t *sio_peek_contig(const struct tcp_ctx *c, uint32_t s, uint32_t *len)
{
	uint32_t k = sio_slot(c, s);

	if (k == TLS_DEAD) {
		*len = 0;
		return NULL;
	}
	return k == TLS_NIL ? tcp_peek_contig(c, s, len) : tls_sio_peek_contig(c, k, len);
}

/* A dead TLS stream's bytes are dropped unread when asked (BUF NULL: a lingering close). */
static inline uint32_t sio_recv(struct tcp_ctx *c, uint32_t s, void *buf, uint32_t len)
{
	uint32_t k = sio_slot(c, s);

	if (k == TLS_DEAD)
		return buf ? 0 : (tcp_recv(c, s, NULL, tcp_recv_avail(c, s)), 0);
	return k == TLS_NIL ? tcp_recv(c, s, buf, len) : tls_sio_recv(c, s, k, buf, len);
}

static inline int sio_send(struct tcp_ctx *c, uint32_t s, const void *data, uint32_t len)
{
	uint32_t k = sio_slot(c, s);

	return k == TLS_NIL ? tcp_send(c, s, data, len) : k == TLS_DEAD ? -EPIPE : tls_sio_send(c, s, k, data, len);
}

static inline uint32_t sio_send_space(const struct tcp_ctx *c, uint32_t s)
{
	uint32_t k = sio_slot(c, s);

	return k == TLS_NIL ? tcp_send_space(c, s) : k == TLS_DEAD ? 0 : tls_sio_send_space(c, s, k);
}

/* TLS: close_notify, then FIN. */
static inline int sio_shutdown(struct tcp_ctx *c, uint32_t s)
{
	uint32_t k = sio_slot(c, s);

	return k >= TLS_DEAD ? tcp_shutdown(c, s) : tls_sio_shutdown(c, s, k);
}

static inline void sio_close(struct tcp_ctx *c, uint32_t s)
{
	uint32_t k = sio_slot(c, s);

	if (k >= TLS_DEAD)
		tcp_close(c, s);
	else
		tls_sio_close(c, s, k);
}

#endif
