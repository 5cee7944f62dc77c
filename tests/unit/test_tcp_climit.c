/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client_limits in the TCP stack (secondary/tcp/tcp_climit.c) on the unit
 * harness: refusals at the SYN (RST, no TCB, no cookie) and, for a handshake
 * that raced others of its address, at its ACK; per reason counters; counts
 * made only by completed handshakes (a spoofed SYN counts against no one);
 * the count of each address's streams through every way a stream ends, a
 * TIME-WAIT reclaim, SYN cookies, a new worker (the counts rebuilt from the
 * TCBs), and a table with no room. tcp_check (run at the end of every test
 * and after each re-attach) compares every count with the TCBs.
 */
#include "tests/unit/tcp_harness.h"

#define ADDR_A H_PEER_IP        /* 10.0.0.2 */
#define ADDR_B 0x0a000003u      /* 10.0.0.3 */

HSUITE(tcp_climit);

/* A worker whose table has ENTRIES, with these limits. */
static void table(uint32_t entries, uint32_t max_conns, uint32_t rate, uint32_t burst)
{
	struct climit_params lim = { .max_conns = max_conns, .conn_rate = rate, .conn_burst = burst };

	PRM->client_table = entries;
	h_reattach();
	tcp_climit_set(CTX, &lim);
	HTRUE(CTX->climit != NULL);
	HEQ(AREA->client_table_size, entries);
}

static void limits(uint32_t max_conns, uint32_t rate, uint32_t burst)
{
	table(1024, max_conns, rate, burst);
}

static uint32_t conns(uint32_t addr)
{
	const struct climit_entry *e = climit_find(CTX->climit, addr);

	return e ? e->conns : 0;
}

static void peer(struct h_peer *p, uint32_t addr, uint16_t port, uint32_t isn)
{
	h_peer_init(p, H_TEST_PORT, port, isn);
	p->raddr = addr;
	p->so = H_OPT_ALL;
}

static uint64_t drops(enum tcp_drop why)
{
	return tcp_area_drop(AREA, why);
}

/* A SYN from P that the limits refuse: a RST,ACK for it (as from a closed port), no TCB, no cookie. */
static void refused(struct h_peer *p, enum tcp_drop why)
{
	uint64_t before = drops(why), cookies = AREA->events[TEV_COOKIES_SENT], live = AREA->live;
	struct h_out o;

	h_peer_send(p, TH_SYN, p->isn, 0, NULL, 0);
	h_next(&o);
	HEQ(o.flags, TH_RST | TH_ACK);
	HEQ(o.seq, 0);
	HEQ(o.ack, p->isn + 1);
	HEQ(o.daddr, p->raddr);
	HEQ(o.dport, p->rport);
	h_none();
	HEQ(h_lookup(H_LOCAL_IP, p->lport, p->raddr, p->rport), TCP_NIL);
	HEQ(drops(why), before + 1);
	HEQ(AREA->events[TEV_COOKIES_SENT], cookies);
	HEQ(AREA->live, live);
}

static void check(void)
{
	HEQ(tcp_check(CTX, stderr), 0);
}

/* max_conns: the SYN beyond it is refused; another address is not; a stream that goes makes room. */
HTEST(tcp_climit, max_conns_refuses_at_the_syn)
{
	struct h_peer a[3], x, b;

	limits(3, 0, 0);
	for (int i = 0; i < 3; i++) {
		peer(&a[i], ADDR_A, (uint16_t)(40000 + i), 1000u * (uint32_t)i);
		h_open_passive(&a[i], &H_OPT_ALL);
		HTRUE(TCB(a[i].s)->flags & TF(CLIMIT));
	}
	HEQ(conns(ADDR_A), 3);
	peer(&x, ADDR_A, 40010, 77);
	refused(&x, TDROP_CLIENT_CONNS);
	/* its retransmission is refused the same way */
	refused(&x, TDROP_CLIENT_CONNS);
	HEQ(drops(TDROP_CLIENT_RATE), 0);
	/* another address is not affected */
	peer(&b, ADDR_B, 40000, 5);
	h_open_passive(&b, &H_OPT_ALL);
	HEQ(conns(ADDR_B), 1);
	HEQ(conns(ADDR_A), 3);
	/* one of A's streams is reset by its peer: A may open one more, and no more */
	h_peer_send(&a[0], TH_RST, a[0].snd_nxt, 0, NULL, 0);
	HEQ(TCB(a[0].s)->state, TCP_CLOSED);
	HEQ(conns(ADDR_A), 2);
	peer(&x, ADDR_A, 40011, 88);
	h_open_passive(&x, &H_OPT_ALL);
	HEQ(conns(ADDR_A), 3);
	peer(&x, ADDR_A, 40012, 99);
	refused(&x, TDROP_CLIENT_CONNS);
	HEQ(drops(TDROP_CLIENT_CONNS), 3);
	check();
}

/*
 * A SYN proves nothing about its source: half-open streams count against no
 * one, and make no entry (a flood of SYNs spoofing A's address cannot lock A
 * out, nor churn the table). The handshake's ACK counts.
 */
HTEST(tcp_climit, only_completed_handshakes_count)
{
	struct h_peer p, h[2];

	limits(2, 1, 1);
	for (int i = 0; i < 5; i++) {
		peer(&p, ADDR_A, (uint16_t)(40000 + i), 1u + (uint32_t)i);
		h_passive_syn(&p, &H_OPT_ALL);
		HEQ(TCB(p.s)->state, TCP_SYN_RECEIVED);
	}
	HEQ(climit_find(CTX->climit, ADDR_A), NULL);
	HEQ(AREA->client_table_used, 0);
	/* the half-open ones time out (no ACK ever comes) */
	h_advance(200000);
	h_drain();
	HEQ(AREA->live, 0);
	/* A itself, with its handshake done, is counted and its token taken */
	peer(&p, ADDR_A, 40006, 6);
	h_open_passive(&p, &H_OPT_ALL);
	HEQ(conns(ADDR_A), 1);
	HEQ(climit_tokens(climit_find(CTX->climit, ADDR_A)->conn_tat, &CTX->climit->conn, 1, CTX->now_us * 1000), 0);
	check();
	/* a second second: two SYNs of A both pass the check; their ACKs race for the last place */
	tcp_abort(CTX, p.s);
	h_drain();
	h_advance(1000);
	struct climit_params lim = { .max_conns = 2, .conn_rate = 10, .conn_burst = 10 };
	tcp_climit_set(CTX, &lim);
	peer(&p, ADDR_A, 40007, 7);
	h_open_passive(&p, &H_OPT_ALL);
	for (int i = 0; i < 2; i++) {
		peer(&h[i], ADDR_A, (uint16_t)(40010 + i), 10u + (uint32_t)i);
		h_passive_syn(&h[i], &H_OPT_ALL);
	}
	HEQ(conns(ADDR_A), 1);
	h_peer_ack(&h[0], h[0].iss + 1);
	HEQ(TCB(h[0].s)->state, TCP_ESTABLISHED);
	HEQ(conns(ADDR_A), 2);
	{
		struct h_out o;
		uint32_t half_open = AREA->half_open;

		h_peer_ack(&h[1], h[1].iss + 1);   /* too late: RST for the ACK, the stream gone */
		h_next(&o);
		HEQ(o.flags & (TH_RST | TH_SYN | TH_FIN), TH_RST);
		HEQ(o.seq, h[1].iss + 1);
		HEQ(h_lookup(H_LOCAL_IP, H_TEST_PORT, ADDR_A, h[1].rport), TCP_NIL);
		HEQ(AREA->half_open, half_open - 1);
	}
	HEQ(drops(TDROP_CLIENT_CONNS), 1);
	HEQ(conns(ADDR_A), 2);
	check();
}

/* Every way a stream ends takes it off its address's count, once. */
HTEST(tcp_climit, counts_follow_every_end)
{
	struct h_peer p[8];

	limits(100, 0, 0);
	PRM->max_retries = 2;
	PRM->fin_wait2_ms = 5000;
	/* 0: the peer closes first (LAST-ACK, then its ACK) */
	peer(&p[0], ADDR_A, 40000, 100);
	h_goto(&p[0], TCP_LAST_ACK, &H_OPT_ALL);
	/* 1: we close first, to TIME-WAIT */
	peer(&p[1], ADDR_A, 40001, 200);
	h_goto(&p[1], TCP_TIME_WAIT, &H_OPT_ALL);
	/* 2: the peer resets */
	peer(&p[2], ADDR_A, 40002, 300);
	h_goto(&p[2], TCP_ESTABLISHED, &H_OPT_ALL);
	/* 3: the application aborts */
	peer(&p[3], ADDR_A, 40003, 400);
	h_goto(&p[3], TCP_ESTABLISHED, &H_OPT_ALL);
	/* 4: retransmission timeouts (max_retries) */
	peer(&p[4], ADDR_A, 40004, 500);
	h_goto(&p[4], TCP_ESTABLISHED, &H_OPT_ALL);
	/* 5: an orphan in FIN-WAIT-2 times out */
	peer(&p[5], ADDR_A, 40005, 600);
	h_goto(&p[5], TCP_FIN_WAIT_2, &H_OPT_ALL);
	/* 6: CLOSING, then TIME-WAIT */
	peer(&p[6], ADDR_A, 40006, 700);
	h_goto(&p[6], TCP_CLOSING, &H_OPT_ALL);
	/* 7: stays */
	peer(&p[7], ADDR_A, 40007, 800);
	h_goto(&p[7], TCP_ESTABLISHED, &H_OPT_ALL);
	/* all but the TIME-WAIT one count */
	HEQ(conns(ADDR_A), 7);
	HTRUE(!(TCB(p[1].s)->flags & TF(CLIMIT)));
	check();

	h_peer_ack(&p[0], p[0].iss + 2);
	HEQ(TCB(p[0].s)->state, TCP_CLOSED);
	HEQ(conns(ADDR_A), 6);
	h_peer_send(&p[2], TH_RST, p[2].snd_nxt, 0, NULL, 0);
	HEQ(conns(ADDR_A), 5);
	tcp_abort(CTX, p[3].s);
	h_drain();
	HEQ(conns(ADDR_A), 4);
	HEQ(tcp_send(CTX, p[4].s, "lost", 4), 4);
	tcp_close(CTX, p[5].s);
	h_peer_ack(&p[6], p[6].iss + 2);   /* CLOSING -> TIME-WAIT */
	HEQ(TCB(p[6].s)->state, TCP_TIME_WAIT);
	HEQ(conns(ADDR_A), 3);
	check();
	/* the timers: p[4] gives up, p[5] (orphan) times out, p[1] and p[6] leave TIME-WAIT */
	h_advance(PRM->time_wait_ms + 70000);
	h_drain();
	HEQ(TCB(p[4].s)->state, TCP_CLOSED);
	HEQ(TCB(p[5].s)->state, TCP_CLOSED);
	HEQ(TCB(p[1].s)->state, TCP_CLOSED);
	HEQ(conns(ADDR_A), 1);
	HEQ(TCB(p[7].s)->state, TCP_ESTABLISHED);
	HEQ(AREA->live, 1);
	check();
}

/*
 * TIME-WAIT streams do not count: with max_conns 1 an address can leave the
 * slab full of them; its next SYN ends the oldest (reclaim) and counts once.
 */
HTEST(tcp_climit, time_wait_neither_counts_nor_miscounts_on_reclaim)
{
	struct h_peer p;

	limits(1, 0, 0);
	PRM->syncookies = 0;
	for (uint32_t i = 0; i < H_MAX_STREAMS; i++) {
		peer(&p, ADDR_A, (uint16_t)(2000 + i), 1000 * i);
		h_goto(&p, TCP_TIME_WAIT, &H_OPT_ALL);
		HEQ(conns(ADDR_A), 0);
		h_advance(TCP_TICK_MS);
	}
	HEQ(AREA->free_head, TCP_NIL);
	peer(&p, ADDR_A, 999, 77);
	h_open_passive(&p, &H_OPT_ALL);
	HEQ(AREA->tw_reclaimed, 1);
	HEQ(conns(ADDR_A), 1);
	peer(&p, ADDR_A, 998, 78);
	refused(&p, TDROP_CLIENT_CONNS);
	HEQ(AREA->tw_reclaimed, 1);       /* a refused SYN ends no TIME-WAIT */
	check();
	h_advance(PRM->time_wait_ms + TCP_TICK_MS);
	HEQ(AREA->live, 1);
	HEQ(conns(ADDR_A), 1);
}

/* conn_rate: a burst, then the rate; a SYN retransmitted for its own stream takes nothing. */
HTEST(tcp_climit, conn_rate_burst_then_rate)
{
	struct h_peer p[3], x;
	uint32_t ok = 0;

	limits(0, 10, 3);
	for (int i = 0; i < 3; i++) {
		peer(&p[i], ADDR_A, (uint16_t)(40000 + i), 100u * (uint32_t)i);
		h_open_passive(&p[i], &H_OPT_ALL);   /* a token each, at the handshake's end */
	}
	peer(&x, ADDR_A, 40010, 5);
	refused(&x, TDROP_CLIENT_RATE);
	HEQ(drops(TDROP_CLIENT_CONNS), 0);
	/* a half-open stream's SYN again (our SYN,ACK was lost) reaches its stream, not the limit */
	peer(&x, ADDR_B, 40020, 9);
	h_passive_syn(&x, &H_OPT_ALL);
	h_peer_send(&x, TH_SYN, x.isn, 0, NULL, 0);
	HEQ(h_pending(), 1);
	h_drain();
	tcp_abort(CTX, x.s);
	h_drain();
	/* another address has its own bucket */
	peer(&x, ADDR_B, 40010, 6);
	h_passive_syn(&x, &H_OPT_ALL);
	HTRUE(x.s != TCP_NIL);
	for (int i = 0; i < 3; i++)
		tcp_abort(CTX, p[i].s);
	tcp_abort(CTX, x.s);
	h_drain();
	/* 99 ms later still empty, at 100 ms one token */
	h_advance(99);
	peer(&x, ADDR_A, 40011, 7);
	refused(&x, TDROP_CLIENT_RATE);
	h_advance(1);
	peer(&x, ADDR_A, 40012, 8);
	h_passive_syn(&x, &H_OPT_ALL);     /* passes; the token is taken only by a completed handshake */
	tcp_abort(CTX, x.s);
	h_drain();
	/* a connection every 10 ms for 10 s: one in ten (10/s) gets through */
	for (uint32_t i = 0; i < 1000; i++) {
		struct h_out o;

		peer(&x, ADDR_A, (uint16_t)(1000 + i), i);
		h_peer_send(&x, TH_SYN, x.isn, 0, NULL, 0);
		h_next(&o);
		if (o.flags == (TH_SYN | TH_ACK)) {
			h_peer_send(&x, TH_ACK, x.isn + 1, o.seq + 1, NULL, 0);
			h_none();
			x.s = h_lookup(H_LOCAL_IP, H_TEST_PORT, ADDR_A, x.rport);
			HEQ(TCB(x.s)->state, TCP_ESTABLISHED);
			ok++;
			tcp_abort(CTX, x.s);
		}
		h_drain();
		h_advance(10);
	}
	cr_assert(ok >= 99 && ok <= 101, "%u connections in 10 s at 10/s", ok);
	HEQ(drops(TDROP_CLIENT_RATE), 2 + 1000 - ok);
	check();
}

/* A SYN refused for max_conns takes no token from the rate bucket. */
HTEST(tcp_climit, refusal_for_max_conns_spends_no_rate_token)
{
	struct h_peer p, x;

	limits(1, 1, 1);
	peer(&p, ADDR_A, 40000, 1);
	h_open_passive(&p, &H_OPT_ALL);
	peer(&x, ADDR_A, 40001, 2);
	refused(&x, TDROP_CLIENT_CONNS);
	tcp_abort(CTX, p.s);
	h_drain();
	h_advance(1000);   /* one token back (1/s) */
	peer(&x, ADDR_A, 40002, 3);
	h_open_passive(&x, &H_OPT_ALL);
	HEQ(drops(TDROP_CLIENT_RATE), 0);
	check();
}

/*
 * SYN cookies: a SYN within the limits gets its cookie; one beyond gets a RST,
 * not a cookie; a cookie's ACK is a completed handshake, counted, and one from
 * an address that reached max_conns since its SYN gets a RST and no stream.
 */
HTEST(tcp_climit, syn_cookies)
{
	struct h_peer a0, a1, a2, a3, a4;
	struct h_out o;

	limits(2, 0, 0);
	peer(&a0, ADDR_A, 40000, 500);
	h_open_passive(&a0, &H_OPT_ALL);         /* one stream of A */
	PRM->syn_backlog = 1;
	peer(&a1, ADDR_A, 40001, 1000);
	h_passive_syn(&a1, &H_OPT_ALL);          /* the backlog's one half-open stream (not counted) */
	HTRUE(a1.s != TCP_NIL);
	peer(&a2, ADDR_A, 40002, 2000);
	h_passive_syn(&a2, &H_OPT_ALL);          /* a cookie */
	HEQ(a2.s, TCP_NIL);
	peer(&a3, ADDR_A, 40003, 3000);
	h_passive_syn(&a3, &H_OPT_ALL);          /* a cookie too: A holds one stream */
	HEQ(a3.s, TCP_NIL);
	HEQ(AREA->events[TEV_COOKIES_SENT], 2);
	HEQ(conns(ADDR_A), 1);
	/* a2's ACK: a stream, counted */
	h_peer_ack(&a2, a2.iss + 1);
	a2.s = h_lookup(H_LOCAL_IP, H_TEST_PORT, ADDR_A, 40002);
	HTRUE(a2.s != TCP_NIL);
	HTRUE(TCB(a2.s)->flags & TF(CLIMIT));
	HEQ(conns(ADDR_A), 2);
	/* a3's ACK: A is at max_conns now: RST for the ACK (RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>) */
	h_peer_ack(&a3, a3.iss + 1);
	h_next(&o);
	HEQ(o.flags & (TH_RST | TH_SYN | TH_FIN), TH_RST);
	HEQ(o.seq, a3.iss + 1);
	HEQ(h_lookup(H_LOCAL_IP, H_TEST_PORT, ADDR_A, 40003), TCP_NIL);
	HEQ(drops(TDROP_CLIENT_CONNS), 1);
	HEQ(drops(TDROP_BAD_COOKIE), 0);
	HEQ(AREA->events[TEV_COOKIES_OK], 1);
	/* a SYN beyond the limit while the backlog is full: a RST, not a cookie */
	peer(&a4, ADDR_A, 40004, 4000);
	refused(&a4, TDROP_CLIENT_CONNS);
	HEQ(AREA->events[TEV_COOKIES_SENT], 2);
	HEQ(conns(ADDR_A), 2);
	/* and the half-open one's ACK, too late as well */
	h_peer_ack(&a1, a1.iss + 1);
	h_next(&o);
	HEQ(o.flags & (TH_RST | TH_SYN | TH_FIN), TH_RST);
	HEQ(drops(TDROP_CLIENT_CONNS), 3);
	HEQ(AREA->half_open, 0);
	check();
}

/* A new worker counts every address's streams again from the TCBs (the table is private). */
HTEST(tcp_climit, restart_rebuilds_the_counts)
{
	struct h_peer a[5], b, x;
	struct h_out o;

	limits(3, 0, 0);
	peer(&a[3], ADDR_A, 40003, 4);
	h_goto(&a[3], TCP_TIME_WAIT, &H_OPT_ALL);   /* first: it counted while it was open */
	peer(&a[4], ADDR_A, 40004, 40);
	h_goto(&a[4], TCP_SYN_RECEIVED, &H_OPT_ALL); /* half-open: not counted */
	peer(&a[0], ADDR_A, 40000, 1);
	h_goto(&a[0], TCP_ESTABLISHED, &H_OPT_ALL);
	peer(&a[1], ADDR_A, 40001, 2);
	h_goto(&a[1], TCP_CLOSE_WAIT, &H_OPT_ALL);
	peer(&a[2], ADDR_A, 40002, 3);
	h_goto(&a[2], TCP_FIN_WAIT_2, &H_OPT_ALL);
	peer(&b, ADDR_B, 40000, 5);
	h_goto(&b, TCP_ESTABLISHED, &H_OPT_ALL);
	HEQ(conns(ADDR_A), 3);
	HEQ(conns(ADDR_B), 1);
	h_reattach();   /* a new table; checks every count against the TCBs */
	HEQ(conns(ADDR_A), 3);
	HEQ(conns(ADDR_B), 1);
	HEQ(CTX->climit->prm.max_conns, 3);
	peer(&x, ADDR_A, 40010, 10);
	refused(&x, TDROP_CLIENT_CONNS);
	/* the half-open one's handshake ends now: over the limit */
	h_peer_ack(&a[4], a[4].iss + 1);
	h_next(&o);
	HEQ(o.flags & (TH_RST | TH_SYN | TH_FIN), TH_RST);
	HEQ(drops(TDROP_CLIENT_CONNS), 2);
	/* and they keep going down as streams end */
	h_peer_send(&a[0], TH_RST, a[0].snd_nxt, 0, NULL, 0);
	HEQ(conns(ADDR_A), 2);
	peer(&x, ADDR_A, 40011, 11);
	h_open_passive(&x, &H_OPT_ALL);
	HEQ(conns(ADDR_A), 3);
	check();
}

/* A new worker starts every bucket full (the buckets are not in the TCBs). */
HTEST(tcp_climit, restart_refills_the_buckets)
{
	struct h_peer x;

	limits(0, 1, 1);
	peer(&x, ADDR_A, 40000, 1);
	h_open_passive(&x, &H_OPT_ALL);
	tcp_abort(CTX, x.s);
	h_drain();
	peer(&x, ADDR_A, 40001, 2);
	refused(&x, TDROP_CLIENT_RATE);
	h_reattach();
	peer(&x, ADDR_A, 40002, 3);
	h_open_passive(&x, &H_OPT_ALL);
	peer(&x, ADDR_A, 40003, 4);
	refused(&x, TDROP_CLIENT_RATE);
	check();
}

/* Counts are kept with every limit off, so a reload that sets max_conns finds them right. */
HTEST(tcp_climit, counts_kept_while_no_limit_is_set)
{
	struct h_peer p[2], x;
	struct climit_params lim = { .max_conns = 2 };

	limits(0, 0, 0);
	for (int i = 0; i < 2; i++) {
		peer(&p[i], ADDR_A, (uint16_t)(40000 + i), 1u + (uint32_t)i);
		h_open_passive(&p[i], &H_OPT_ALL);
	}
	HEQ(conns(ADDR_A), 2);
	tcp_climit_set(CTX, &lim);
	peer(&x, ADDR_A, 40005, 5);
	refused(&x, TDROP_CLIENT_CONNS);
	check();
}

/* A listener with client_limits = false: its streams are neither counted nor limited. */
HTEST(tcp_climit, listener_without_limits)
{
	struct h_peer p;

	H.g->listeners[1].no_climit = 1;   /* the echo port */
	limits(1, 1, 1);
	peer(&p, ADDR_A, 40000, 1);
	h_open_passive(&p, &H_OPT_ALL);   /* the test port: counted, its token taken */
	HEQ(conns(ADDR_A), 1);
	for (uint32_t i = 0; i < 3; i++) {
		peer(&p, ADDR_A, (uint16_t)(41000 + i), 10 + i);
		p.lport = H_ECHO_PORT;
		h_open_passive(&p, &H_OPT_ALL);
		HTRUE(!(TCB(p.s)->flags & TF(CLIMIT)));
	}
	HEQ(conns(ADDR_A), 1);
	peer(&p, ADDR_A, 40001, 2);
	refused(&p, TDROP_CLIENT_CONNS);
	check();
}

/*
 * A set full of addresses that hold streams has no room for a new address:
 * its streams are not tracked (nor limited) and counted as untracked; the
 * others' counts stay right.
 */
HTEST(tcp_climit, no_room_means_untracked)
{
	struct h_peer p;

	table(CLIMIT_WAYS, 1, 0, 0);       /* one set */
	for (uint32_t i = 0; i < CLIMIT_WAYS; i++) {
		peer(&p, 0x0a000100u + i, 40000, i);
		h_open_passive(&p, &H_OPT_ALL);
		HEQ(conns(p.raddr), 1);
	}
	HEQ(AREA->client_untracked, 0);
	HEQ(AREA->client_table_used, CLIMIT_WAYS);
	for (uint32_t i = 0; i < 2; i++) {
		peer(&p, ADDR_B, (uint16_t)(40000 + i), 100 + i);
		h_open_passive(&p, &H_OPT_ALL);   /* max_conns 1, but not tracked */
		HTRUE(!(TCB(p.s)->flags & TF(CLIMIT)));
	}
	HEQ(AREA->client_untracked, 2);
	HEQ(climit_find(CTX->climit, ADDR_B), NULL);
	check();
	/* an untracked stream that ends changes no count */
	tcp_abort(CTX, p.s);
	h_drain();
	check();
	/* the tracked ones are still limited */
	peer(&p, 0x0a000100u, 40001, 9);
	refused(&p, TDROP_CLIENT_CONNS);
}
