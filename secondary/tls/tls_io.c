/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS termination on a worker's TCP streams (tls_io.h): handshakes through
 * OpenSSL on memory BIOs, then the durable record layer (tls_rec.h) on the
 * shard's TLS slots (shm/tls-area-t.h), and the plaintext seam the proxy uses.
 *
 * Every step on an established session is one commit:
 *   receive: open the record at the head of TCP's receive queue into the
 *            copy that is not current (v[!cur]) and its plaintext past the
 *            ring's tail; flip cur; then consume the record from TCP;
 *   send:    seal into v[!cur]; queue the records on TCP; flip cur.
 * tls_io_attach() finishes whatever a killed worker left between the two
 * halves, from the rule in shm/tls-area-t.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "secondary/crash.h"
#include "secondary/tls/tls_conf.h"
#include "secondary/tls/tls_io.h"
#include "secondary/tls/tls_rec.h"
#include "shm/tls-pub-t.h"

#define HS_TIMEOUT_MS   10000u                /* a handshake not done by then is dropped */
#define SEAL_RECORDS    4u                    /* records sealed per send step */
#define REC_MAX_IN      (TLS_HDR_LEN + TLS12_MAX_CIPHER)

struct tls_io {
	struct tcp_ctx *tcp;
	struct tls_area *a;
	uint32_t *map;
	char *slots;
	struct tls_conf *conf;
	SSL **ssl;                     /* per slot: the handshake in progress */
	struct tls_capture **cap;
	uint32_t *free_next;           /* private free list of slots, rebuilt at attach */
	uint64_t tls_ports[65536 / 64]; /* the TLS listeners' ports (listeners change only at a restart) */
	uint32_t free_head;
	uint8_t *stage;                /* the area's send stage (shared memory) */
	uint8_t in[REC_MAX_IN];
	uint8_t plain[TLS_OPEN_MIN_CAP];
	uint8_t out[16384];            /* handshake flights on their way to TCP */
};

static inline struct tls_slot *slot_at(const struct tls_io *io, uint32_t k)
{
	return (struct tls_slot *)(io->slots + (uint64_t)k * io->a->slot_bytes);
}

static inline uint8_t *ring_of(const struct tls_io *io, struct tls_slot *sl)
{
	(void)io;
	return (uint8_t *)(sl + 1);
}

static inline struct tls_slot_state_copy *cur_of(struct tls_slot *sl)
{
	return &sl->v[sl->cur & 1];
}

/* Copy the current state into the other copy and return it (the step's scratch). */
static struct tls_slot_state_copy *next_of(struct tls_slot *sl)
{
	struct tls_slot_state_copy *n = &sl->v[!(sl->cur & 1)];

	memcpy(n, cur_of(sl), sizeof(*n));
	return n;
}

static void flip(struct tls_slot *sl)
{
	__atomic_store_n(&sl->cur, (uint8_t)!(sl->cur & 1), __ATOMIC_RELEASE);
}

/* --- slots ----------------------------------------------------------------- */

/*
 * End slot K's session: its stream's map entry becomes MAPTO (TLS_NIL when
 * the TCB goes, TLS_DEAD while it lives on without a session), keys, secrets
 * and the ring's plaintext are zeroed, then the slot is free.
 */
static void slot_wipe(struct tls_io *io, uint32_t k, uint32_t mapto)
{
	struct tls_slot *sl = slot_at(io, k);
	uint32_t s = sl->stream;
	uint64_t used = sl->v[0].tail > sl->v[1].tail ? sl->v[0].tail : sl->v[1].tail;

	if (io->ssl[k]) {
		SSL_free(io->ssl[k]);
		io->ssl[k] = NULL;
	}
	if (io->cap[k]) {
		tls_capture_clear(io->cap[k]);
		free(io->cap[k]);
		io->cap[k] = NULL;
	}
	if (s < io->a->max_streams && io->map[s] == k)
		__atomic_store_n(&io->map[s], mapto, __ATOMIC_RELEASE);
	CRASH_POINT("tls_io.wipe_unmapped");   /* the slot named by no stream, not yet free */
	/* secrets first, the free mark last: a kill in between leaves no key in a free slot */
	tls_sess_wipe(&sl->v[0].sess);
	tls_sess_wipe(&sl->v[1].sess);
	OPENSSL_cleanse(ring_of(io, sl), used < io->a->ring_bytes ? (size_t)used : io->a->ring_bytes);
	__atomic_store_n(&sl->state, TLS_SLOT_FREE, __ATOMIC_RELEASE);
	memset(sl, 0, sizeof(*sl));
	sl->stream = TLS_NIL;
	io->free_next[k] = io->free_head;
	io->free_head = k;
}

/* TCP's question at TIME-WAIT: plaintext opened and not yet read? */
static bool stream_unread(const struct tcp_ctx *c, uint32_t s)
{
	const struct tls_io *io = c->tls;
	uint32_t k;
	struct tls_slot *sl;

	if (io == NULL || s >= io->a->max_streams || (k = io->map[s]) >= io->a->max_slots)
		return false;
	sl = slot_at(io, k);
	return sl->state == TLS_SLOT_OPEN && cur_of(sl)->tail != sl->head;
}

static void on_stream_freed(struct tcp_ctx *c, uint32_t s)
{
	struct tls_io *io = c->tls;
	uint32_t k;

	if (io == NULL || s >= io->a->max_streams || (k = io->map[s]) == TLS_NIL)
		return;
	if (k >= io->a->max_slots) {   /* TLS_DEAD */
		__atomic_store_n(&io->map[s], TLS_NIL, __ATOMIC_RELEASE);
		return;
	}
	slot_wipe(io, k, TLS_NIL);
}

uint32_t tls_sio_slot(const struct tcp_ctx *c, uint32_t s)
{
	const struct tls_io *io = c->tls;
	uint32_t k;

	if (s >= io->a->max_streams)
		return TLS_NIL;
	k = io->map[s];
	if (k == TLS_NIL || k == TLS_DEAD)
		return k;
	return slot_at(io, k)->state == TLS_SLOT_OPEN ? k : TLS_DEAD;
}

const struct tls_slot *tls_io_slot(const struct tcp_ctx *c, uint32_t s)
{
	uint32_t k = c->tls ? tls_sio_slot(c, s) : TLS_NIL;

	return k == TLS_NIL || k == TLS_DEAD ? NULL : slot_at(c->tls, k);
}

const struct tls_area *tls_io_area(const struct tcp_ctx *c)
{
	return c->tls ? c->tls->a : NULL;
}

const char *tls_io_version(const struct tcp_ctx *c, uint32_t s)
{
	const struct tls_slot *sl = tls_io_slot(c, s);

	if (sl == NULL)
		return NULL;
	return sl->v[sl->cur & 1].sess.version == TLS_V13 ? "TLSv1.3" : "TLSv1.2";
}

const char *tls_io_cipher(const struct tcp_ctx *c, uint32_t s)
{
	const struct tls_slot *sl = tls_io_slot(c, s);

	if (sl == NULL)
		return NULL;
	switch (sl->v[sl->cur & 1].sess.suite) {
	case 0x1301: return "TLS_AES_128_GCM_SHA256";
	case 0x1302: return "TLS_AES_256_GCM_SHA384";
	case 0x1303: return "TLS_CHACHA20_POLY1305_SHA256";
	case 0xc02b: return "ECDHE-ECDSA-AES128-GCM-SHA256";
	case 0xc02f: return "ECDHE-RSA-AES128-GCM-SHA256";
	case 0xc02c: return "ECDHE-ECDSA-AES256-GCM-SHA384";
	case 0xc030: return "ECDHE-RSA-AES256-GCM-SHA384";
	case 0xcca9: return "ECDHE-ECDSA-CHACHA20-POLY1305";
	case 0xcca8: return "ECDHE-RSA-CHACHA20-POLY1305";
	default: return "?";
	}
}

/* --- the plaintext seam ------------------------------------------------------ */

uint32_t tls_sio_read_pos(const struct tcp_ctx *c, uint32_t k)
{
	return (uint32_t)slot_at(c->tls, k)->head;
}

uint32_t tls_sio_write_pos(const struct tcp_ctx *c, uint32_t k)
{
	struct tls_slot *sl = slot_at(c->tls, k);

	return (uint32_t)cur_of(sl)->sess.tx_plain;
}

uint32_t tls_sio_recv_avail(const struct tcp_ctx *c, uint32_t k)
{
	struct tls_slot *sl = slot_at(c->tls, k);

	return (uint32_t)(cur_of(sl)->tail - sl->head);
}

/* Whole records (or a header) waiting in TCP's receive queue. */
static bool record_waiting(const struct tcp_ctx *c, uint32_t s)
{
	uint8_t h[TLS_HDR_LEN];
	uint32_t n = tcp_recv_avail(c, s);

	if (n < TLS_HDR_LEN)
		return false;
	tcp_peek(c, s, 0, h, TLS_HDR_LEN);
	return n >= TLS_HDR_LEN + ((uint32_t)h[3] << 8 | h[4]);
}

bool tls_sio_peer_closed(const struct tcp_ctx *c, uint32_t s, uint32_t k)
{
	struct tls_slot *sl = slot_at(c->tls, k);
	const struct tls_slot_state_copy *v = cur_of(sl);

	if (v->tail != sl->head)
		return false;
	if (v->sess.flags & (TLS_SF_RX_CLOSED | TLS_SF_FAILED))
		return true;
	/* a FIN: what is left in TCP's queue is at most a record that will never be whole */
	return tcp_peer_closed(c, s) && !record_waiting(c, s);
}

uint32_t tls_sio_peek(const struct tcp_ctx *c, uint32_t k, uint32_t off, void *buf, uint32_t len)
{
	struct tls_io *io = c->tls;
	struct tls_slot *sl = slot_at(io, k);
	uint32_t avail = (uint32_t)(cur_of(sl)->tail - sl->head), mask = io->a->ring_bytes - 1, at, first;
	const uint8_t *ring = ring_of(io, sl);

	if (off >= avail)
		return 0;
	if (len > avail - off)
		len = avail - off;
	at = (uint32_t)(sl->head + off) & mask;
	first = io->a->ring_bytes - at < len ? io->a->ring_bytes - at : len;
	memcpy(buf, ring + at, first);
	memcpy((uint8_t *)buf + first, ring, len - first);
	return len;
}

const uint8_t *tls_sio_peek_contig(const struct tcp_ctx *c, uint32_t k, uint32_t *len)
{
	struct tls_io *io = c->tls;
	struct tls_slot *sl = slot_at(io, k);
	uint32_t avail = (uint32_t)(cur_of(sl)->tail - sl->head), at = (uint32_t)sl->head & (io->a->ring_bytes - 1);

	*len = io->a->ring_bytes - at < avail ? io->a->ring_bytes - at : avail;
	return *len ? ring_of(io, sl) + at : NULL;
}

/*
 * Finish the journaled send, if any: queue what of the stage TCP does not
 * have yet, then flip the slot. Returns true when no send is pending any more
 * (also when the one pending belonged to a stream that is gone), false while
 * TCP still lacks buffers for the rest.
 */
static bool tx_resume(struct tls_io *io)
{
	struct tls_txj *j = &io->a->txj;
	struct tcp_ctx *c = io->tcp;
	struct tls_slot *sl;
	uint32_t s = j->stream, done;
	enum tcp_state st;

	if (!j->active)
		return true;
	sl = j->slot < io->a->max_slots ? slot_at(io, j->slot) : NULL;
	st = s < io->a->max_streams ? tcp_state(c, s) : TCP_CLOSED;
	if (sl == NULL || sl->state != TLS_SLOT_OPEN || sl->stream != s || tcp_iss(c, s) != j->iss ||
	    (st != TCP_ESTABLISHED && st != TCP_CLOSE_WAIT)) {
		__atomic_store_n(&j->active, 0, __ATOMIC_RELEASE);   /* the stream went: nothing to finish */
		return true;
	}
	done = tcp_write_pos(c, s) - j->wpos0;
	if (done > j->len) {
		/* cannot be: more than the stage was queued. The stream's records are broken. */
		__atomic_store_n(&j->active, 0, __ATOMIC_RELEASE);
		io->a->reset_at_attach++;
		tcp_abort(c, s);
		return true;
	}
	if (done < j->len) {
		int w = tcp_send(c, s, io->stage + done, j->len - done);

		if (w < 0 || (uint32_t)w != j->len - done)
			return false;   /* out of buffers again: the rest later */
	}
	CRASH_POINT("tls_io.tx_queued");   /* records on TCP's queue, the state not flipped */
	if (tcp_write_pos(c, s) == sl->tx_tcp0 + (uint32_t)sl->v[!(sl->cur & 1)].sess.tx_bytes)
		flip(sl);
	__atomic_store_n(&j->active, 0, __ATOMIC_RELEASE);
	return true;
}

/* tx_resume(), then open what arrived for the stream whose send it finished (pump held off). */
static void pump(struct tls_io *io, uint32_t s, uint32_t k);
static bool tx_resume_pump(struct tls_io *io)
{
	uint32_t k = io->a->txj.slot, s = io->a->txj.stream;

	if (!io->a->txj.active)
		return true;
	if (!tx_resume(io))
		return false;
	if (k < io->a->max_slots && s < io->a->max_streams && io->map[s] == k &&
	    slot_at(io, k)->state == TLS_SLOT_OPEN)
		pump(io, s, k);
	return true;
}

/*
 * Queue the N sealed bytes of the stage on stream S (slot K), whose next state
 * is the copy that is not current; flip once all are queued. 0: done;
 * -EAGAIN: no room, nothing done; -ENOMEM: out of buffers, possibly part-way
 * (the journal finishes it: tx_resume).
 */
static int tx_commit(struct tls_io *io, uint32_t s, uint32_t k, uint32_t n)
{
	struct tcp_ctx *c = io->tcp;
	struct tls_txj *j = &io->a->txj;

	if (tcp_send_space(c, s) < n)
		return -EAGAIN;
	j->slot = k;
	j->stream = s;
	j->iss = tcp_iss(c, s);
	j->wpos0 = tcp_write_pos(c, s);
	j->len = n;
	__atomic_store_n(&j->active, 1, __ATOMIC_RELEASE);
	return tx_resume(io) ? 0 : -ENOMEM;
}

/* Seal an alert or close_notify and queue it; flips on success. */
static int send_alert(struct tls_io *io, uint32_t s, uint32_t k, uint8_t level, uint8_t desc)
{
	struct tls_slot *sl = slot_at(io, k);
	struct tls_slot_state_copy *n;
	ssize_t w;

	if (!tx_resume_pump(io))
		return -ENOMEM;
	n = next_of(sl);
	w = tls_seal_alert(&n->sess, level, desc, io->stage, TLS_STAGE_BYTES);
	if (w < 0)
		return (int)w;
	if (tx_commit(io, s, k, (uint32_t)w) < 0)
		return -1;
	if (level == TLS_ALERT_FATAL)
		io->a->alerts_sent++;
	return 0;
}

/*
 * Open the whole records at the head of TCP's receive queue while their
 * plaintext fits in the ring.
 */
static void pump(struct tls_io *io, uint32_t s, uint32_t k)
{
	struct tcp_ctx *c = io->tcp;
	struct tls_slot *sl = slot_at(io, k);

	/* this slot's other copy holds a send still waiting for buffers: it goes first */
	if (io->a->txj.active && io->a->txj.slot == k && !tx_resume(io))
		return;
	for (;;) {
		struct tls_slot_state_copy *n;
		struct tls_open_res r;
		uint32_t avail = tcp_recv_avail(c, s), len, room, mask = io->a->ring_bytes - 1, at, first;
		uint8_t h[TLS_HDR_LEN];

		if (cur_of(sl)->sess.flags & (TLS_SF_RX_CLOSED | TLS_SF_FAILED))
			return;
		if (avail < TLS_HDR_LEN)
			return;
		tcp_peek(c, s, 0, h, TLS_HDR_LEN);
		len = (uint32_t)h[3] << 8 | h[4];
		if (len > TLS12_MAX_CIPHER)
			len = 0;   /* let tls_open() judge the header alone: record_overflow */
		else if (avail < TLS_HDR_LEN + len)
			return;    /* a partial record stays in TCP's queue */
		room = io->a->ring_bytes - (uint32_t)(cur_of(sl)->tail - sl->head);
		if (len > TLS_TAG_LEN && room < (len - TLS_TAG_LEN < TLS_MAX_PLAIN ? len - TLS_TAG_LEN : TLS_MAX_PLAIN))
			return;    /* the application reads first */
		tcp_peek(c, s, 0, io->in, TLS_HDR_LEN + len);
		n = next_of(sl);
		tls_open(&n->sess, io->in, TLS_HDR_LEN + len, io->plain, sizeof(io->plain), &r);
		if (r.status == TLS_OPEN_SPACE)
			return;
		if (r.out_len > room) {
			OPENSSL_cleanse(io->plain, r.out_len);
			return;   /* padding made it larger than it looked: wait for room */
		}
		if (r.status == TLS_OPEN_OK && r.consumed == 0)
			return;
		at = (uint32_t)n->tail & mask;
		first = io->a->ring_bytes - at < r.out_len ? io->a->ring_bytes - at : (uint32_t)r.out_len;
		memcpy(ring_of(io, sl) + at, io->plain, first);
		memcpy(ring_of(io, sl), io->plain + first, r.out_len - first);
		n->tail += r.out_len;
		OPENSSL_cleanse(io->plain, r.out_len);
		flip(sl);
		CRASH_POINT("tls_io.rx_committed");   /* opened and committed, still in TCP's queue */
		if (r.consumed)
			tcp_recv(c, s, NULL, (uint32_t)r.consumed);
		if (r.key_update)
			io->a->key_updates++;
		switch (r.status) {
		case TLS_OPEN_OK:
		case TLS_OPEN_CLOSED:
			break;
		case TLS_OPEN_PEER_ALERT:
			io->a->alerts_rcvd++;
			return;
		default:   /* TLS_OPEN_ERROR: our alert, then the application sees the end */
			send_alert(io, s, k, r.alert_level ? r.alert_level : TLS_ALERT_FATAL, r.alert);
			tcp_shutdown(c, s);
			return;
		}
	}
}

uint32_t tls_sio_recv(struct tcp_ctx *c, uint32_t s, uint32_t k, void *buf, uint32_t len)
{
	struct tls_slot *sl = slot_at(c->tls, k);
	uint32_t avail = (uint32_t)(cur_of(sl)->tail - sl->head);

	if (len > avail)
		len = avail;
	if (len == 0)
		return 0;
	if (buf)
		tls_sio_peek(c, k, 0, buf, len);
	__atomic_store_n(&sl->head, sl->head + len, __ATOMIC_RELEASE);
	pump(c->tls, s, k);   /* room for the next records */
	return len;
}

/* Record overhead of the session: header, tag, and 1.3's content type or 1.2 GCM's explicit nonce. */
static uint32_t overhead(const struct tls_sess *x)
{
	if (x->version == TLS_V13)
		return TLS_HDR_LEN + TLS_TAG_LEN + 1;
	return TLS_HDR_LEN + TLS_TAG_LEN + (x->wr.aead == TLS_AEAD_CHACHA20_POLY1305 ? 0 : 8);
}

static uint32_t plain_fit(const struct tls_sess *x, uint32_t space)
{
	uint32_t o = overhead(x), full = TLS_MAX_PLAIN + o, n;

	/* room kept for a KeyUpdate that goes first (owed, or due: tls_seal_size)
	 * and for the close_notify after the last record */
	if (space < 128)
		return 0;
	space -= 128;
	n = space / full * TLS_MAX_PLAIN;
	if (space % full > o)
		n += space % full - o;
	if (n > SEAL_RECORDS * TLS_MAX_PLAIN)
		n = SEAL_RECORDS * TLS_MAX_PLAIN;
	return n;
}

uint32_t tls_sio_send_space(const struct tcp_ctx *c, uint32_t s, uint32_t k)
{
	struct tls_slot *sl = slot_at(c->tls, k);
	const struct tls_sess *x = &cur_of(sl)->sess;

	if (x->flags & (TLS_SF_TX_CLOSED | TLS_SF_FAILED))
		return 0;
	return plain_fit(x, tcp_send_space(c, s));
}

int tls_sio_send(struct tcp_ctx *c, uint32_t s, uint32_t k, const void *data, uint32_t len)
{
	struct tls_io *io = c->tls;
	struct tls_slot *sl = slot_at(io, k);
	struct tls_slot_state_copy *n;
	uint32_t fit;
	ssize_t w;
	int rc;

	if (cur_of(sl)->sess.flags & (TLS_SF_TX_CLOSED | TLS_SF_FAILED))
		return -EPIPE;
	if (tcp_state(c, s) != TCP_ESTABLISHED && tcp_state(c, s) != TCP_CLOSE_WAIT) {
		int e = tcp_send(c, s, data, 0);   /* the stack's answer for this state */

		return e < 0 ? e : -EPIPE;
	}
	if (io->a->txj.active) {
		bool mine = io->a->txj.slot == k;

		/* a send cut short by a lack of buffers goes first; if it was this
		 * stream's, the caller's positions moved: it must look again */
		if (!tx_resume_pump(io) || mine)
			return -ENOMEM;
	}
	fit = plain_fit(&cur_of(sl)->sess, tcp_send_space(c, s));
	if (len > fit)
		len = fit;
	if (len == 0)
		return 0;
	n = next_of(sl);
	w = tls_seal(&n->sess, data, len, io->stage, TLS_STAGE_BYTES);
	if (w < 0)
		return w == -TLS_E_SPACE ? 0 : -EPIPE;
	rc = tx_commit(io, s, k, (uint32_t)w);
	if (rc == -EAGAIN)
		return 0;
	if (rc < 0)
		return -ENOMEM;   /* the journal finishes it; the positions will say so */
	return (int)len;
}

int tls_sio_shutdown(struct tcp_ctx *c, uint32_t s, uint32_t k)
{
	struct tls_slot *sl = slot_at(c->tls, k);

	if (!(cur_of(sl)->sess.flags & (TLS_SF_TX_CLOSED | TLS_SF_FAILED)) &&
	    (tcp_state(c, s) == TCP_ESTABLISHED || tcp_state(c, s) == TCP_CLOSE_WAIT))
		send_alert(c->tls, s, k, TLS_ALERT_WARNING, TLS_AD_CLOSE_NOTIFY);
	return tcp_shutdown(c, s);
}

void tls_sio_close(struct tcp_ctx *c, uint32_t s, uint32_t k)
{
	struct tls_slot *sl = slot_at(c->tls, k);

	if (!(cur_of(sl)->sess.flags & (TLS_SF_TX_CLOSED | TLS_SF_FAILED)) &&
	    (tcp_state(c, s) == TCP_ESTABLISHED || tcp_state(c, s) == TCP_CLOSE_WAIT))
		send_alert(c->tls, s, k, TLS_ALERT_WARNING, TLS_AD_CLOSE_NOTIFY);
	tcp_close(c, s);
	/* the application let go: the session ends here, not when TIME-WAIT does */
	if (tcp_state(c, s) != TCP_CLOSED && c->tls->map[s] == k)
		slot_wipe(c->tls, k, TLS_DEAD);
}

void tls_io_event_done(struct tcp_ctx *c, uint32_t s, uint32_t ev)
{
	struct tls_io *io = c->tls;
	uint32_t k;

	if (io == NULL || !(ev & (TEV_APP_CLOSED | TEV_APP_RESET)) || s >= io->a->max_streams)
		return;
	k = io->map[s];
	if (k < io->a->max_slots && tcp_state(c, s) != TCP_CLOSED)
		slot_wipe(io, k, TLS_DEAD);   /* TIME-WAIT: the TCB stays 2MSL, the session need not */
}

/* --- handshakes ------------------------------------------------------------- */

/* A stream that will never be TLS-served: close it, out of everyone's sight. */
static void hs_drop(struct tls_io *io, uint32_t s, uint32_t k, bool failed)
{
	struct tcp_ctx *c = io->tcp;

	if (failed)
		io->a->handshake_failures++;
	slot_wipe(io, k, TLS_DEAD);
	tcp_set_app(c, s, TAPP_NONE);   /* no more events: the proxy never saw it */
	tcp_close(c, s);
}

/* Move what OpenSSL wrote to TCP. 1: nothing left; 0: waits for send space; -1: cut (out of buffers). */
static int hs_flush(struct tls_io *io, uint32_t s, SSL *ssl)
{
	BIO *wb = SSL_get_wbio(ssl);
	struct tcp_ctx *c = io->tcp;

	for (;;) {
		size_t pend = BIO_ctrl_pending(wb);
		uint32_t space = tcp_send_space(c, s), n;
		int w;

		if (pend == 0)
			return 1;
		n = pend < sizeof(io->out) ? (uint32_t)pend : (uint32_t)sizeof(io->out);
		if (n > space)
			n = space;
		if (n == 0)
			return 0;
		n = (uint32_t)BIO_read(wb, io->out, (int)n);
		w = tcp_send(c, s, io->out, n);
		if (w < 0 || (uint32_t)w != n)
			return -1;   /* cut: the handshake is lost */
	}
}

static bool hs_start(struct tls_io *io, uint32_t s)
{
	struct tcp_ctx *c = io->tcp;
	struct tls_slot *sl;
	uint32_t k = io->free_head;
	SSL *ssl;
	BIO *rb, *wb;

	if (k == TLS_NIL || io->conf == NULL) {
		if (k == TLS_NIL)
			io->a->no_slot++;
		else
			io->a->handshake_failures++;   /* no contexts: the worker logged why */
		tcp_abort(c, s);
		return false;
	}
	ssl = tls_conf_ssl_new(io->conf, tcp_lport(c, s));
	rb = BIO_new(BIO_s_mem());
	wb = BIO_new(BIO_s_mem());
	io->cap[k] = calloc(1, sizeof(struct tls_capture));
	if (ssl == NULL || rb == NULL || wb == NULL || io->cap[k] == NULL ||
	    tls_capture_attach(ssl, io->cap[k]) < 0) {
		BIO_free(rb);
		BIO_free(wb);
		SSL_free(ssl);
		free(io->cap[k]);
		io->cap[k] = NULL;
		io->a->no_slot++;
		tcp_abort(c, s);
		return false;
	}
	/* the 1.3 traffic secrets reach the capture through the key-log hook (never a log) */
	if (SSL_CTX_get_keylog_callback(SSL_get_SSL_CTX(ssl)) != tls_keylog_cb)
		SSL_CTX_set_keylog_callback(SSL_get_SSL_CTX(ssl), tls_keylog_cb);
	BIO_set_mem_eof_return(rb, -1);
	SSL_set_bio(ssl, rb, wb);
	io->free_head = io->free_next[k];
	io->ssl[k] = ssl;
	sl = slot_at(io, k);
	memset(sl, 0, sizeof(*sl));
	sl->stream = s;
	sl->iss = tcp_iss(c, s);
	sl->irs = tcp_irs(c, s);
	__atomic_store_n(&sl->state, TLS_SLOT_HANDSHAKE, __ATOMIC_RELEASE);
	__atomic_store_n(&io->map[s], k, __ATOMIC_RELEASE);
	tcp_app_deadline(c, s, c->now_ms + HS_TIMEOUT_MS);
	return true;
}

/* The handshake is done and flushed: the session moves to the slot, the SSL goes. */
static bool hs_finish(struct tls_io *io, uint32_t s, uint32_t k)
{
	struct tcp_ctx *c = io->tcp;
	struct tls_slot *sl = slot_at(io, k);
	SSL *ssl = io->ssl[k];
	struct tls_handoff h;
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	int cert = tls_conf_ssl_cert(ssl);
	bool resumed = SSL_session_reused(ssl) == 1;

	memset(&sl->v, 0, sizeof(sl->v));
	if (tls_sess_from_ssl(&sl->v[0].sess, ssl, io->cap[k], &h) != 0 || h.tx_pending || h.rx_unread)
		return false;
	sl->cur = 0;
	sl->head = 0;
	sl->rx_tcp0 = tcp_read_pos(c, s);
	sl->tx_tcp0 = tcp_write_pos(c, s);
	sl->cert = cert < 0 ? 0 : (uint8_t)cert;
	if (sni)
		snprintf(sl->sni, sizeof(sl->sni), "%s", sni);
	free(io->cap[k]);   /* cleared by tls_sess_from_ssl */
	io->cap[k] = NULL;
	SSL_free(ssl);
	io->ssl[k] = NULL;
	CRASH_POINT("tls_io.hs_filled");   /* the session written, the slot still a handshake */
	__atomic_store_n(&sl->state, TLS_SLOT_OPEN, __ATOMIC_RELEASE);   /* commit */
	io->a->handshakes++;
	io->a->handshakes_resumed += resumed;
	tcp_app_deadline(c, s, 0);
	return true;
}

/* Run the handshake of slot K as far as the bytes allow. Returns true once established. */
static bool hs_step(struct tls_io *io, uint32_t s, uint32_t k, uint32_t ev)
{
	struct tcp_ctx *c = io->tcp;
	SSL *ssl = io->ssl[k];

	if (ssl == NULL) {   /* cannot be: a slot in handshake always has its SSL in this process */
		hs_drop(io, s, k, true);
		return false;
	}
	if (ev & TEV_APP_TIMEOUT) {
		hs_drop(io, s, k, true);
		return false;
	}
	for (;;) {
		uint32_t avail, len;
		uint8_t h[TLS_HDR_LEN];
		int r;

		int f = hs_flush(io, s, ssl);

		if (f < 0) {
			hs_drop(io, s, k, true);
			return false;
		}
		if (f == 0)
			return false;   /* waits for send space */
		if (SSL_is_init_finished(ssl)) {
			if (!hs_finish(io, s, k)) {
				hs_drop(io, s, k, true);
				return false;
			}
			return true;
		}
		avail = tcp_recv_avail(c, s);
		if (avail >= TLS_HDR_LEN) {
			tcp_peek(c, s, 0, h, TLS_HDR_LEN);
			len = (uint32_t)h[3] << 8 | h[4];
			if (h[0] < 20 || h[0] > 23 || h[1] != 3 || len > TLS12_MAX_CIPHER)
				len = 0;   /* not a record: OpenSSL gets the header and says so */
		}
		if (avail < TLS_HDR_LEN || avail < TLS_HDR_LEN + len) {
			if (tcp_peer_closed(c, s)) {
				hs_drop(io, s, k, true);
				return false;
			}
			return false;
		}
		/* one record at a time: OpenSSL never holds bytes past its Finished */
		tcp_peek(c, s, 0, io->in, TLS_HDR_LEN + len);
		BIO_write(SSL_get_rbio(ssl), io->in, (int)(TLS_HDR_LEN + len));
		tcp_recv(c, s, NULL, TLS_HDR_LEN + len);
		ERR_clear_error();
		r = SSL_do_handshake(ssl);
		if (r <= 0) {
			int e = SSL_get_error(ssl, r);

			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				hs_flush(io, s, ssl);   /* OpenSSL's alert */
				ERR_clear_error();
				hs_drop(io, s, k, true);
				return false;
			}
		}
	}
}

static bool tls_listener(const struct tcp_ctx *c, uint32_t s)
{
	enum tcp_app app = tcp_app(c, s);
	uint16_t port = tcp_lport(c, s);

	if (app != TAPP_HTTP && app != TAPP_SPLICE)
		return false;
	return (c->tls->tls_ports[port / 64] >> (port % 64)) & 1;   /* every event of a client stream asks */
}

bool tls_io_event(struct tcp_ctx *c, uint32_t s, uint32_t *evp)
{
	uint32_t ev = *evp;
	struct tls_io *io = c->tls;
	struct tls_slot *sl;
	uint32_t k;

	if (io == NULL)
		return true;
	if (io->a->txj.active)
		tx_resume_pump(io);   /* a send that waited for buffers */
	k = s < io->a->max_streams ? io->map[s] : TLS_NIL;
	if (k == TLS_NIL) {
		if (!tls_listener(c, s))
			return true;
		if (ev & (TEV_APP_RESET | TEV_APP_CLOSED))
			return false;
		if (!hs_start(io, s))
			return false;
		k = io->map[s];
	}
	if (k == TLS_DEAD)
		return true;   /* no session any more: the application sees no data and can send none (sio_*) */
	sl = slot_at(io, k);
	if (sl->state == TLS_SLOT_HANDSHAKE) {
		if (ev & (TEV_APP_RESET | TEV_APP_CLOSED))
			return false;   /* the TCB goes next: on_stream_freed wipes the slot */
		if (!hs_step(io, s, k, ev))
			return false;
		ev = *evp = TEV_APP_READABLE;   /* the proxy's first look at the stream */
	}
	if (!(ev & (TEV_APP_RESET | TEV_APP_CLOSED)))
		pump(io, s, k);
	return true;
}

/* --- session tickets ------------------------------------------------------- */

static const struct porter_tls_tickets *ticket_keys;

/*
 * OpenSSL's ticket-key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb): new
 * tickets under the current shared key; a ticket under one of the previous
 * keys is accepted and renewed (2); an unknown name is a full handshake (0).
 * The key is copied out of shared memory first and wiped after.
 */
static int ticket_cb(SSL *s, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx,
		     int enc)
{
	const struct porter_tls_tickets *t = ticket_keys;
	struct porter_tls_ticket_key k;
	uint32_t cur, i;
	int rc = 1;
	OSSL_PARAM params[3];

	(void)s;
	if (t == NULL)
		return 0;
	cur = __atomic_load_n(&t->current, __ATOMIC_ACQUIRE) % PORTER_TLS_TICKET_KEYS;
	if (enc) {
		memcpy(&k, &t->key[cur], sizeof(k));
		memcpy(name, k.name, 16);
		if (RAND_bytes(iv, 16) != 1)
			rc = -1;
	} else {
		for (i = 0; i < PORTER_TLS_TICKET_KEYS; i++)
			if (t->key[i].created_s != 0 && memcmp(name, t->key[i].name, 16) == 0)
				break;
		if (i == PORTER_TLS_TICKET_KEYS)
			return 0;
		memcpy(&k, &t->key[i], sizeof(k));
		if (memcmp(name, k.name, 16) != 0)
			rc = 0;   /* rotated while we read it: a full handshake */
		else if (i != cur)
			rc = 2;   /* accepted, and a new ticket under the current key */
	}
	if (rc > 0) {
		params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof(k.hmac));
		params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
		params[2] = OSSL_PARAM_construct_end();
		if ((enc ? EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv)
			 : EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv)) != 1 ||
		    EVP_MAC_CTX_set_params(hctx, params) != 1)
			rc = -1;
	}
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

static const struct tls_conf_hooks ticket_hooks = { .ticket_key_cb = ticket_cb, .num_tickets = 1 };

const struct tls_conf_hooks *tls_io_ticket_hooks(const struct porter_tls_tickets *keys)
{
	ticket_keys = keys;
	return keys ? &ticket_hooks : NULL;
}

/* --- attach ---------------------------------------------------------------- */

void tls_io_set_conf(struct tcp_ctx *c, struct tls_conf *tc)
{
	struct tls_io *io = c->tls;

	if (io == NULL)
		return;
	if (tc)
		tls_conf_get(tc);
	if (io->conf)
		tls_conf_put(io->conf);
	io->conf = tc;
}

/* Does slot K still describe the TCP stream it names? Restores the commit rule or says no. */
static bool reconcile(struct tls_io *io, uint32_t k)
{
	struct tcp_ctx *c = io->tcp;
	struct tls_slot *sl = slot_at(io, k);
	uint32_t s = sl->stream, rd, want, wr;
	enum tcp_state st;

	if (tls_sess_check(&cur_of(sl)->sess) != 0 || cur_of(sl)->tail - sl->head > io->a->ring_bytes)
		return false;
	st = tcp_state(c, s);
	if (st == TCP_CLOSED || st == TCP_SYN_SENT || st == TCP_SYN_RECEIVED)
		return false;
	/* receive: a record opened and committed, not yet consumed from TCP */
	rd = tcp_read_pos(c, s);
	want = sl->rx_tcp0 + (uint32_t)cur_of(sl)->sess.rx_bytes;
	if (want != rd) {
		uint32_t d = want - rd;

		if ((int32_t)d < 0 || d > tcp_recv_avail(c, s))
			return false;
		tcp_recv(c, s, NULL, d);
	}
	/* send: records queued, the flip not done (the journal finishes its own send) */
	wr = tcp_write_pos(c, s);
	if (io->a->txj.active && io->a->txj.slot == k)
		return true;
	if (wr != sl->tx_tcp0 + (uint32_t)cur_of(sl)->sess.tx_bytes) {
		const struct tls_slot_state_copy *o = &sl->v[!(sl->cur & 1)];

		if (tls_sess_check(&o->sess) != 0 || wr != sl->tx_tcp0 + (uint32_t)o->sess.tx_bytes ||
		    o->sess.rx_bytes != cur_of(sl)->sess.rx_bytes)
			return false;
		flip(sl);
	}
	return true;
}

int tls_io_attach(struct tcp_ctx *c, void *area, uint64_t bytes)
{
	struct tls_area *a = area;
	struct tls_io *io;

	c->tls = NULL;
	if (area == NULL || bytes == 0)
		return 0;
	if (a->magic != TLS_AREA_MAGIC || a->layout_major != TLS_AREA_LAYOUT_MAJOR ||
	    a->max_streams != c->area->max_streams || a->ring_bytes == 0 ||
	    (a->ring_bytes & (a->ring_bytes - 1)) != 0 ||
	    a->slot_bytes != sizeof(struct tls_slot) + a->ring_bytes ||
	    a->stage_off < a->map_off + (uint64_t)a->max_streams * 4 || a->stage_off + TLS_STAGE_BYTES > a->slots_off ||
	    tls_area_bytes(a->max_streams, a->max_slots, a->ring_bytes) > bytes)
		return -1;
	io = calloc(1, sizeof(*io));
	if (io == NULL)
		return -1;
	io->tcp = c;
	io->a = a;
	io->map = (uint32_t *)((char *)area + a->map_off);
	io->slots = (char *)area + a->slots_off;
	io->stage = (uint8_t *)area + a->stage_off;
	io->ssl = calloc(a->max_slots, sizeof(*io->ssl));
	io->cap = calloc(a->max_slots, sizeof(*io->cap));
	io->free_next = calloc(a->max_slots, sizeof(*io->free_next));
	if (io->ssl == NULL || io->cap == NULL || io->free_next == NULL) {
		free(io->ssl);
		free(io->cap);
		free(io->free_next);
		free(io);
		return -1;
	}
	c->tls = io;
	io->free_head = TLS_NIL;
	for (unsigned int i = 0; i < PORTER_MAX_LISTENERS; i++)
		if (c->listeners[i].port && c->listeners[i].tls)
			io->tls_ports[c->listeners[i].port / 64] |= 1ull << (c->listeners[i].port % 64);
	/* map entries whose slot does not name them back are stale */
	for (uint32_t s = 0; s < a->max_streams; s++) {
		uint32_t k = io->map[s];

		if (k == TLS_DEAD) {
			if (tcp_state(c, s) == TCP_CLOSED)
				io->map[s] = TLS_NIL;   /* its TCB went: the index is anyone's */
		} else if (k != TLS_NIL && (k >= a->max_slots || slot_at(io, k)->stream != s ||
					    slot_at(io, k)->state == TLS_SLOT_FREE)) {
			io->map[s] = TLS_NIL;
		}
	}
	/* a send a killed worker left part-way: finish it before judging any slot */
	tx_resume(io);
	for (uint32_t k = a->max_slots; k-- > 0;) {
		struct tls_slot *sl = slot_at(io, k);
		uint32_t s = sl->stream;
		bool alive;

		if (sl->state == TLS_SLOT_FREE) {
			if (sl->v[0].sess.magic || sl->v[1].sess.magic) {   /* an older wipe cut short */
				tls_sess_wipe(&sl->v[0].sess);
				tls_sess_wipe(&sl->v[1].sess);
			}
			io->free_next[k] = io->free_head;
			io->free_head = k;
			continue;
		}
		alive = s < a->max_streams && tcp_state(c, s) != TCP_CLOSED && tcp_iss(c, s) == sl->iss &&
			tcp_irs(c, s) == sl->irs;
		if (alive && io->map[s] == TLS_DEAD) {
			slot_wipe(io, k, TLS_DEAD);   /* a wipe a killed worker began: finish it */
			continue;
		}
		if (alive)
			__atomic_store_n(&io->map[s], k, __ATOMIC_RELEASE);
		if (!alive) {
			slot_wipe(io, k, TLS_NIL);
		} else if (sl->state == TLS_SLOT_HANDSHAKE) {
			a->handshakes_lost++;
			slot_wipe(io, k, TLS_NIL);
			tcp_abort(c, s);   /* the client retries its handshake */
		} else if (tcp_app(c, s) == TAPP_NONE) {
			slot_wipe(io, k, TLS_DEAD);   /* the application had let go (closed): nothing to continue */
		} else if (!reconcile(io, k)) {
			a->reset_at_attach++;
			slot_wipe(io, k, TLS_NIL);
			tcp_abort(c, s);
		} else {
			a->resumed++;
		}
	}
	c->stream_freed = on_stream_freed;
	c->stream_unread = stream_unread;
	return 0;
}

void tls_io_detach(struct tcp_ctx *c)
{
	struct tls_io *io = c->tls;

	if (io == NULL)
		return;
	for (uint32_t k = 0; k < io->a->max_slots; k++) {
		if (io->ssl[k])
			SSL_free(io->ssl[k]);
		if (io->cap[k]) {
			tls_capture_clear(io->cap[k]);
			free(io->cap[k]);
		}
	}
	if (io->conf)
		tls_conf_put(io->conf);
	OPENSSL_cleanse(io->plain, sizeof(io->plain));
	OPENSSL_cleanse(io->out, sizeof(io->out));
	free(io->ssl);
	free(io->cap);
	free(io->free_next);
	free(io);
	c->tls = NULL;
	c->stream_freed = NULL;
	c->stream_unread = NULL;
	tls_rec_thread_done();
}
