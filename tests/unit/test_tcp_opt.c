/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secondary/tcp/tcp_opt.c: TCP option parsing and building (RFC 9293 §3.1,
 * RFC 7323, RFC 2018). Option bytes are written here by hand; every parse
 * runs on a copy placed so that its last byte is the last readable byte
 * before a PROT_NONE guard page (an over-read faults), and again on an
 * exactly sized heap copy (for ASan/valgrind runs).
 *
 * Documented choice tested here: a SACK option with more than 4 blocks
 * (only possible with len > 40) is accepted and capped to the first 4.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "secondary/tcp/tcp_opt.h"
#include "tests/unit/testbytes.h"

/* ---- independent helpers ------------------------------------------------- */


static uint32_t rng_state = 0x12345678u;

static uint32_t rnd(void)
{
	/* xorshift32: deterministic across runs */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Two pages, the second PROT_NONE: bytes copied to the end of the first. */
static uint8_t *guard_base;
static size_t page_sz;

static void guard_setup(void)
{
	page_sz = (size_t)sysconf(_SC_PAGESIZE);
	guard_base = mmap(NULL, 2 * page_sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(guard_base != MAP_FAILED);
	cr_assert_eq(mprotect(guard_base + page_sz, page_sz, PROT_NONE), 0);
}

static void guard_teardown(void)
{
	munmap(guard_base, 2 * page_sz);
}

static uint8_t *guard_end(void)
{
	return guard_base + page_sz;
}

static bool opts_eq(const struct tcp_opts *a, const struct tcp_opts *b)
{
	if (a->has_mss != b->has_mss || a->has_wscale != b->has_wscale || a->sack_perm != b->sack_perm ||
	    a->has_ts != b->has_ts || a->nsack != b->nsack)
		return false;
	if (a->has_mss && a->mss != b->mss)
		return false;
	if (a->has_wscale && a->wscale != b->wscale)
		return false;
	if (a->has_ts && (a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr))
		return false;
	for (unsigned int i = 0; i < a->nsack && i < TCP_MAX_SACK_BLOCKS; i++)
		if (a->sack[i].left != b->sack[i].left || a->sack[i].right != b->sack[i].right)
			return false;
	return true;
}

static bool opts_empty(const struct tcp_opts *o)
{
	static const struct tcp_opts zero;

	return opts_eq(o, &zero);
}

/*
 * Parse SRC[0..len) twice: at the very end of a readable page (guard page
 * after it) and from an exactly sized heap copy. Both must agree.
 */
static int parse(const uint8_t *src, unsigned int len, struct tcp_opts *o)
{
	struct tcp_opts o2;
	uint8_t *g = guard_end() - len, *h;
	int r1, r2;

	if (len)
		memcpy(g, src, len);
	memset(o, 0xa5, sizeof(*o));       /* parse must set every field it reports */
	r1 = tcp_opts_parse(g, len, o);

	h = malloc(len ? len : 1);
	cr_assert(h);
	if (len)
		memcpy(h, src, len);
	r2 = tcp_opts_parse(h, len, &o2);
	free(h);

	cr_assert_eq(r1, r2);
	cr_assert(opts_eq(o, &o2));
	cr_assert(r1 == 0 || r1 == -1);
	cr_assert_leq(o->nsack, TCP_MAX_SACK_BLOCKS);
	if (r1 == -1)
		cr_assert(opts_empty(o), "on -1 nothing is reported");
	return r1;
}

/* ---- option pieces --------------------------------------------------------- */

static unsigned int o_mss(uint8_t *p, uint16_t v)
{
	p[0] = 2, p[1] = 4;
	put16(p + 2, v);
	return 4;
}

static unsigned int o_ws(uint8_t *p, uint8_t v)
{
	p[0] = 3, p[1] = 3, p[2] = v;
	return 3;
}

static unsigned int o_sackperm(uint8_t *p)
{
	p[0] = 4, p[1] = 2;
	return 2;
}

static unsigned int o_ts(uint8_t *p, uint32_t val, uint32_t ecr)
{
	p[0] = 8, p[1] = 10;
	put32(p + 2, val);
	put32(p + 6, ecr);
	return 10;
}

static unsigned int o_sack(uint8_t *p, unsigned int n, const uint32_t *edges)
{
	p[0] = 5, p[1] = (uint8_t)(2 + 8 * n);
	for (unsigned int i = 0; i < 2 * n; i++)
		put32(p + 2 + 4 * i, edges[i]);
	return 2 + 8 * n;
}

static unsigned int o_nop(uint8_t *p)
{
	p[0] = 1;
	return 1;
}

static unsigned int o_unknown(uint8_t *p, uint8_t kind, uint8_t len)
{
	p[0] = kind, p[1] = len;
	for (unsigned int i = 2; i < len; i++)
		p[i] = (uint8_t)(0xc0 + i);  /* values that look like other options */
	return len;
}

/* ---- parse: each option --------------------------------------------------- */

TestSuite(opt_parse, .init = guard_setup, .fini = guard_teardown);

Test(opt_parse, empty)
{
	struct tcp_opts o;

	cr_assert_eq(parse(NULL, 0, &o), 0);
	cr_assert(opts_empty(&o));
	cr_assert_eq(tcp_opts_parse(NULL, 0, &o), 0);
	cr_assert(opts_empty(&o));
}

Test(opt_parse, mss)
{
	uint8_t b[4];
	struct tcp_opts o;

	o_mss(b, 1460);
	cr_assert_eq(parse(b, 4, &o), 0);
	cr_assert(o.has_mss);
	cr_assert_eq(o.mss, 1460);
	cr_assert(!o.has_wscale && !o.sack_perm && !o.has_ts);
	cr_assert_eq(o.nsack, 0);

	o_mss(b, 0xfedc);
	cr_assert_eq(parse(b, 4, &o), 0);
	cr_assert_eq(o.mss, 0xfedc);
}

Test(opt_parse, wscale_reported_as_received)
{
	uint8_t b[3];
	struct tcp_opts o;
	const uint8_t vals[] = { 0, 7, 14, 15, 255 };

	for (unsigned int i = 0; i < sizeof(vals); i++) {
		o_ws(b, vals[i]);
		cr_assert_eq(parse(b, 3, &o), 0);
		cr_assert(o.has_wscale);
		cr_assert_eq(o.wscale, vals[i], "RFC 7323 §2.3 clamp is the caller's");
		cr_assert(!o.has_mss && !o.sack_perm && !o.has_ts);
	}
}

Test(opt_parse, sack_permitted)
{
	uint8_t b[2];
	struct tcp_opts o;

	o_sackperm(b);
	cr_assert_eq(parse(b, 2, &o), 0);
	cr_assert(o.sack_perm);
	cr_assert(!o.has_mss && !o.has_wscale && !o.has_ts);
}

Test(opt_parse, timestamps)
{
	uint8_t b[10];
	struct tcp_opts o;

	o_ts(b, 0x01020304u, 0xfffefdfcu);
	cr_assert_eq(parse(b, 10, &o), 0);
	cr_assert(o.has_ts);
	cr_assert_eq(o.ts_val, 0x01020304u);
	cr_assert_eq(o.ts_ecr, 0xfffefdfcu);
}

Test(opt_parse, sack_1_to_4_blocks)
{
	const uint32_t e[8] = { 1000, 2000, 0xfffff000u, 0x00000100u, 5, 6, 0x80000000u, 0x80001000u };

	for (unsigned int n = 1; n <= 4; n++) {
		uint8_t b[40];
		struct tcp_opts o;
		unsigned int len = o_sack(b, n, e);

		cr_assert_eq(parse(b, len, &o), 0);
		cr_assert_eq(o.nsack, n);
		for (unsigned int i = 0; i < n; i++) {
			cr_assert_eq(o.sack[i].left, e[2 * i]);
			cr_assert_eq(o.sack[i].right, e[2 * i + 1]);
		}
	}
}

Test(opt_parse, sack_more_than_4_blocks_is_capped)
{
	/* 5 blocks: 42 bytes, only possible past the 40-byte option space. */
	uint32_t e[10];
	uint8_t b[42];
	struct tcp_opts o;

	for (unsigned int i = 0; i < 10; i++)
		e[i] = 100 * (i + 1);
	cr_assert_eq(o_sack(b, 5, e), 42);
	cr_assert_eq(parse(b, 42, &o), 0);
	cr_assert_eq(o.nsack, 4);
	for (unsigned int i = 0; i < 4; i++) {
		cr_assert_eq(o.sack[i].left, e[2 * i]);
		cr_assert_eq(o.sack[i].right, e[2 * i + 1]);
	}
}

Test(opt_parse, linux_syn_layout)
{
	/* Linux SYN: MSS 1460, SACK_PERM, TS, NOP, WS 7 */
	static const uint8_t b[] = { 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x12, 0x34, 0x56, 0x78,
				     0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07 };
	struct tcp_opts o;

	cr_assert_eq(parse(b, sizeof(b), &o), 0);
	cr_assert(o.has_mss && o.sack_perm && o.has_ts && o.has_wscale);
	cr_assert_eq(o.mss, 1460);
	cr_assert_eq(o.ts_val, 0x12345678u);
	cr_assert_eq(o.ts_ecr, 0);
	cr_assert_eq(o.wscale, 7);
	cr_assert_eq(o.nsack, 0);
}

Test(opt_parse, linux_data_layout)
{
	/* NOP NOP TS NOP NOP SACK(3 blocks) = 40 bytes */
	const uint32_t e[6] = { 10, 20, 30, 40, 50, 60 };
	uint8_t b[40];
	unsigned int n = 0;
	struct tcp_opts o;

	n += o_nop(b + n);
	n += o_nop(b + n);
	n += o_ts(b + n, 77, 88);
	n += o_nop(b + n);
	n += o_nop(b + n);
	n += o_sack(b + n, 3, e);
	cr_assert_eq(n, 40);
	cr_assert_eq(parse(b, n, &o), 0);
	cr_assert(o.has_ts && !o.has_mss && !o.has_wscale && !o.sack_perm);
	cr_assert_eq(o.ts_val, 77);
	cr_assert_eq(o.ts_ecr, 88);
	cr_assert_eq(o.nsack, 3);
	cr_assert_eq(o.sack[2].left, 50);
	cr_assert_eq(o.sack[2].right, 60);
}

/* ---- NOP / EOL / unknown --------------------------------------------------- */

Test(opt_parse, nops_only_and_nops_between)
{
	uint8_t b[40];
	struct tcp_opts o;
	unsigned int n;

	memset(b, 1, sizeof(b));
	cr_assert_eq(parse(b, 40, &o), 0);
	cr_assert(opts_empty(&o));

	n = 0;
	n += o_nop(b + n);
	n += o_nop(b + n);
	n += o_nop(b + n);
	n += o_mss(b + n, 536);
	n += o_nop(b + n);
	n += o_ws(b + n, 3);
	n += o_nop(b + n);
	cr_assert_eq(parse(b, n, &o), 0);
	cr_assert(o.has_mss && o.has_wscale);
	cr_assert_eq(o.mss, 536);
	cr_assert_eq(o.wscale, 3);
}

Test(opt_parse, eol_ends_parsing)
{
	uint8_t b[40];
	struct tcp_opts o;
	unsigned int n = 0;

	/* MSS, EOL, then what would be a WS and garbage: ignored. */
	n += o_mss(b + n, 1400);
	b[n++] = 0;
	n += o_ws(b + n, 9);
	b[n++] = 0xff;                    /* unknown kind with no length byte */
	cr_assert_eq(parse(b, n, &o), 0);
	cr_assert(o.has_mss);
	cr_assert_eq(o.mss, 1400);
	cr_assert(!o.has_wscale, "options after EOL are not options");

	/* EOL first: nothing, whatever follows (even a malformed option). */
	b[0] = 0;
	b[1] = 2;
	b[2] = 0;                         /* MSS with length 0 */
	cr_assert_eq(parse(b, 3, &o), 0);
	cr_assert(opts_empty(&o));

	/* EOL padding at the end (the usual use). */
	n = o_ws(b, 5);
	b[n++] = 0;
	cr_assert_eq(parse(b, n, &o), 0);
	cr_assert(o.has_wscale);
	cr_assert_eq(o.wscale, 5);
}

Test(opt_parse, unknown_options_skipped)
{
	uint8_t b[40];
	struct tcp_opts o;
	unsigned int n = 0;

	n += o_unknown(b + n, 30, 6);     /* MPTCP-like */
	n += o_unknown(b + n, 34, 10);    /* TFO cookie-like */
	n += o_unknown(b + n, 254, 2);    /* experimental, empty */
	n += o_unknown(b + n, 99, 4);
	n += o_mss(b + n, 9000);
	n += o_unknown(b + n, 19, 3);     /* would be odd for MD5 but unknown to us */
	n += o_ws(b + n, 2);
	cr_assert_eq(parse(b, n, &o), 0);
	cr_assert(o.has_mss && o.has_wscale);
	cr_assert_eq(o.mss, 9000);
	cr_assert_eq(o.wscale, 2);
	cr_assert(!o.has_ts && !o.sack_perm);
	cr_assert_eq(o.nsack, 0);

	/* Unknown option whose body contains bytes shaped like known options. */
	n = 0;
	b[n++] = 200;
	b[n++] = 6;
	b[n++] = 2;                       /* "MSS" */
	b[n++] = 4;
	b[n++] = 0x11;
	b[n++] = 0x22;
	cr_assert_eq(parse(b, n, &o), 0);
	cr_assert(!o.has_mss);
}

Test(opt_parse, duplicate_options_last_wins)
{
	uint8_t b[40];
	struct tcp_opts o;
	unsigned int n = 0;
	const uint32_t e1[4] = { 1, 2, 3, 4 }, e2[2] = { 9, 10 };

	n += o_mss(b + n, 1000);
	n += o_mss(b + n, 1200);
	n += o_sack(b + n, 2, e1);
	n += o_sack(b + n, 1, e2);
	cr_assert_eq(parse(b, n, &o), 0);
	cr_assert_eq(o.mss, 1200);
	cr_assert_eq(o.nsack, 1);
	cr_assert_eq(o.sack[0].left, 9);
	cr_assert_eq(o.sack[0].right, 10);
}

/* ---- malformed ------------------------------------------------------------- */

Test(opt_parse, length_below_two)
{
	const uint8_t kinds[] = { 2, 3, 4, 5, 8, 30, 254 };
	struct tcp_opts o;

	for (unsigned int i = 0; i < sizeof(kinds); i++) {
		for (uint8_t l = 0; l < 2; l++) {
			uint8_t b[8] = { kinds[i], l, 1, 1, 1, 1, 1, 1 };

			cr_assert_eq(parse(b, sizeof(b), &o), -1, "kind %u len %u", kinds[i], l);
			/* also after a valid option */
			uint8_t c[12];
			unsigned int n = o_mss(c, 1460);

			memcpy(c + n, b, 8);
			cr_assert_eq(parse(c, n + 8, &o), -1);
		}
	}
}

Test(opt_parse, length_past_end)
{
	const uint8_t kinds[] = { 2, 3, 4, 5, 8, 30, 254 };
	struct tcp_opts o;

	for (unsigned int i = 0; i < sizeof(kinds); i++) {
		/* length one past the end, for several sizes */
		for (unsigned int len = 2; len <= 40; len++) {
			uint8_t b[40];

			memset(b, 1, sizeof(b));
			b[0] = kinds[i];
			b[1] = (uint8_t)(len + 1);
			cr_assert_eq(parse(b, len, &o), -1, "kind %u olen %u len %u", kinds[i], len + 1, len);
			b[1] = 255;
			cr_assert_eq(parse(b, len, &o), -1);
		}
		/* kind as last byte: no room for its length byte */
		uint8_t c[5] = { 1, 1, 1, 1, kinds[i] };

		cr_assert_eq(parse(c, 5, &o), -1);
		cr_assert_eq(parse(c + 4, 1, &o), -1);
	}
}

Test(opt_parse, wrong_length_for_known_options)
{
	struct {
		uint8_t kind, len;
	} bad[] = {
		{ 2, 2 }, { 2, 3 }, { 2, 5 }, { 2, 6 }, { 2, 10 },            /* MSS must be 4 */
		{ 3, 2 }, { 3, 4 }, { 3, 10 },                                /* WS must be 3 */
		{ 4, 3 }, { 4, 4 }, { 4, 10 },                                /* SACK_PERM must be 2 */
		{ 8, 2 }, { 8, 8 }, { 8, 9 }, { 8, 11 }, { 8, 12 },           /* TS must be 10 */
		{ 5, 2 }, { 5, 3 }, { 5, 9 }, { 5, 11 }, { 5, 17 }, { 5, 25 }, { 5, 33 }, { 5, 39 }, /* SACK 2+8n, n>=1 */
	};
	struct tcp_opts o;

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t b[40];

		memset(b, 0, sizeof(b));
		b[0] = bad[i].kind;
		b[1] = bad[i].len;
		cr_assert_eq(parse(b, 40, &o), -1, "kind %u len %u", bad[i].kind, bad[i].len);
		cr_assert_eq(parse(b, bad[i].len, &o), -1, "kind %u len %u exact", bad[i].kind, bad[i].len);
	}
}

Test(opt_parse, malformed_after_valid_reports_nothing)
{
	uint8_t b[40];
	struct tcp_opts o;
	unsigned int n = 0;

	n += o_mss(b + n, 1460);
	n += o_ts(b + n, 1, 2);
	b[n++] = 3;                        /* WS with length 4 */
	b[n++] = 4;
	b[n++] = 7;
	b[n++] = 0;
	cr_assert_eq(parse(b, n, &o), -1);
	cr_assert(opts_empty(&o));
}

/* ---- truncation at every length ------------------------------------------- */

struct piece {
	unsigned int off, len;   /* bytes [off, off+len) of the list */
	char what;               /* 'M' 'W' 'P' 'T' 'S' 'N' 'U' 'E' */
};

/* Apply one complete piece to the expected result (independent decoding). */
static void apply(struct tcp_opts *e, const uint8_t *b, const struct piece *pc)
{
	const uint8_t *p = b + pc->off;

	switch (pc->what) {
	case 'M': e->has_mss = true; e->mss = get16(p + 2); break;
	case 'W': e->has_wscale = true; e->wscale = p[2]; break;
	case 'P': e->sack_perm = true; break;
	case 'T': e->has_ts = true; e->ts_val = get32(p + 2); e->ts_ecr = get32(p + 6); break;
	case 'S':
		e->nsack = (uint8_t)((pc->len - 2) / 8);
		for (unsigned int i = 0; i < e->nsack; i++) {
			e->sack[i].left = get32(p + 2 + 8 * i);
			e->sack[i].right = get32(p + 6 + 8 * i);
		}
		break;
	default: break;
	}
}

/*
 * For every prefix length k of the list: if k ends on a piece boundary
 * (or falls after an EOL) the parse succeeds with exactly the complete
 * pieces; otherwise the last option is cut and the parse fails.
 */
static void check_all_prefixes(const uint8_t *b, const struct piece *pcs, unsigned int np)
{
	unsigned int total = pcs[np - 1].off + pcs[np - 1].len;

	for (unsigned int k = 0; k <= total; k++) {
		struct tcp_opts e, o;
		bool boundary = false, after_eol = false;
		int r;

		memset(&e, 0, sizeof(e));
		for (unsigned int i = 0; i < np; i++) {
			if (pcs[i].off + pcs[i].len <= k) {
				if (!after_eol)
					apply(&e, b, &pcs[i]);
				if (pcs[i].what == 'E')
					after_eol = true;
				if (pcs[i].off + pcs[i].len == k)
					boundary = true;
			}
		}
		if (k == 0)
			boundary = true;
		r = parse(b, k, &o);
		if (boundary || after_eol) {
			cr_assert_eq(r, 0, "prefix %u of %u", k, total);
			cr_assert(opts_eq(&o, &e), "prefix %u of %u", k, total);
		} else {
			cr_assert_eq(r, -1, "prefix %u of %u cuts an option", k, total);
		}
	}
}

#define ADD(fn, what_, ...)                                                    \
	do {                                                                   \
		pcs[np].off = n;                                               \
		pcs[np].len = fn(b + n, ##__VA_ARGS__);                       \
		pcs[np].what = (what_);                                        \
		n += pcs[np++].len;                                            \
	} while (0)

static unsigned int o_eol(uint8_t *p)
{
	p[0] = 0;
	return 1;
}

Test(opt_parse, truncated_syn_list)
{
	uint8_t b[40];
	struct piece pcs[16];
	unsigned int n = 0, np = 0;

	ADD(o_mss, 'M', 1460);
	ADD(o_sackperm, 'P');
	ADD(o_ts, 'T', 0xdeadbeefu, 0x01020304u);
	ADD(o_nop, 'N');
	ADD(o_ws, 'W', 7);
	cr_assert_eq(n, 20);
	check_all_prefixes(b, pcs, np);
}

Test(opt_parse, truncated_data_lists)
{
	const uint32_t e[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t b[40];
	struct piece pcs[16];
	unsigned int n = 0, np = 0;

	ADD(o_nop, 'N');
	ADD(o_nop, 'N');
	ADD(o_ts, 'T', 5, 6);
	ADD(o_nop, 'N');
	ADD(o_nop, 'N');
	ADD(o_sack, 'S', 3, e);
	cr_assert_eq(n, 40);
	check_all_prefixes(b, pcs, np);

	n = np = 0;
	ADD(o_nop, 'N');
	ADD(o_nop, 'N');
	ADD(o_sack, 'S', 4, e);
	check_all_prefixes(b, pcs, np);
}

Test(opt_parse, truncated_with_unknown_and_eol)
{
	uint8_t b[40];
	struct piece pcs[16];
	unsigned int n = 0, np = 0;

	ADD(o_unknown, 'U', 30, 8);
	ADD(o_mss, 'M', 1300);
	ADD(o_ws, 'W', 14);
	ADD(o_unknown, 'U', 254, 2);
	ADD(o_sackperm, 'P');
	ADD(o_eol, 'E');
	ADD(o_unknown, 'U', 77, 6);        /* after EOL: never looked at */
	check_all_prefixes(b, pcs, np);
}

/* Random bytes: never faults, never reports more than 4 blocks, -1 reports nothing. */
Test(opt_parse, random_bytes_are_safe)
{
	for (unsigned int it = 0; it < 20000; it++) {
		uint8_t b[60];
		unsigned int len = rnd() % 61;
		struct tcp_opts o;

		for (unsigned int i = 0; i < len; i++) {
			uint32_t r = rnd();
			/* bias towards known kinds and small lengths */
			b[i] = (uint8_t)((r & 3) == 0 ? (r >> 8) % 11 : (r >> 8));
		}
		(void)parse(b, len, &o);
	}
}

/* ---- build ----------------------------------------------------------------- */

/*
 * Build into the last 40 bytes before the guard page (no write past 40)
 * and into a canary-guarded stack buffer; both must agree.
 */
static unsigned int build(const struct tcp_opts_out *in, uint8_t out[40])
{
	uint8_t buf[64];
	uint8_t *g = guard_end() - TCP_OPT_MAX_LEN;
	unsigned int n1, n2;

	memset(buf, 0xee, sizeof(buf));
	n1 = tcp_opts_build(in, buf + 8);
	for (unsigned int i = 0; i < 8; i++)
		cr_assert_eq(buf[i], 0xee);
	for (unsigned int i = 8 + TCP_OPT_MAX_LEN; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0xee, "write past 40 bytes");
	n2 = tcp_opts_build(in, g);
	cr_assert_eq(n1, n2);
	cr_assert_eq(memcmp(buf + 8, g, n1), 0);
	cr_assert_eq(n1 % 4, 0, "options are 32-bit aligned (got %u)", n1);
	cr_assert_leq(n1, TCP_OPT_MAX_LEN);
	memcpy(out, buf + 8, n1);
	return n1;
}

TestSuite(opt_build, .init = guard_setup, .fini = guard_teardown);

Test(opt_build, nothing)
{
	struct tcp_opts_out in = { 0 };
	uint8_t out[40];

	cr_assert_eq(build(&in, out), 0);
}

Test(opt_build, syn_full_linux_layout)
{
	struct tcp_opts_out in = { .mss = true, .mss_val = 1460, .sack_perm = true, .ts = true,
				   .ts_val = 0x11223344u, .ts_ecr = 0, .wscale = true, .wscale_val = 7 };
	static const uint8_t want[] = { 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x11, 0x22,
					0x33, 0x44, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07 };
	uint8_t out[40];

	cr_assert_eq(build(&in, out), sizeof(want));
	cr_assert_eq(memcmp(out, want, sizeof(want)), 0);
}

Test(opt_build, syn_ts_without_sack_perm)
{
	struct tcp_opts_out in = { .mss = true, .mss_val = 8960, .ts = true, .ts_val = 1, .ts_ecr = 2,
				   .wscale = true, .wscale_val = 10 };
	static const uint8_t want[] = { 0x02, 0x04, 0x23, 0x00, 0x01, 0x01, 0x08, 0x0a, 0, 0,
					0,    1,    0,    0,    0,    2,    0x01, 0x03, 0x03, 10 };
	uint8_t out[40];

	cr_assert_eq(build(&in, out), sizeof(want));
	cr_assert_eq(memcmp(out, want, sizeof(want)), 0);
}

Test(opt_build, syn_sack_perm_without_ts)
{
	struct tcp_opts_out in = { .mss = true, .mss_val = 536, .sack_perm = true, .wscale = true,
				   .wscale_val = 0 };
	static const uint8_t want[] = { 0x02, 0x04, 0x02, 0x18, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x00 };
	uint8_t out[40];

	cr_assert_eq(build(&in, out), sizeof(want));
	cr_assert_eq(memcmp(out, want, sizeof(want)), 0);
}

Test(opt_build, syn_mss_only_and_mss_ws)
{
	struct tcp_opts_out in = { .mss = true, .mss_val = 1460 };
	static const uint8_t want1[] = { 0x02, 0x04, 0x05, 0xb4 };
	static const uint8_t want2[] = { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x0e };
	uint8_t out[40];

	cr_assert_eq(build(&in, out), 4);
	cr_assert_eq(memcmp(out, want1, 4), 0);
	in.wscale = true;
	in.wscale_val = 14;
	cr_assert_eq(build(&in, out), 8);
	cr_assert_eq(memcmp(out, want2, 8), 0);
}

Test(opt_build, wscale_clamped_to_14)
{
	struct tcp_opts_out in = { .wscale = true, .wscale_val = 200 };
	uint8_t out[40];
	struct tcp_opts o;
	unsigned int n = build(&in, out);

	cr_assert_eq(n, 4);
	cr_assert_eq(out[3], TCP_MAX_WSCALE);
	cr_assert_eq(parse(out, n, &o), 0);
	cr_assert_eq(o.wscale, 14);
}

Test(opt_build, data_ts_only)
{
	struct tcp_opts_out in = { .ts = true, .ts_val = 0xa1a2a3a4u, .ts_ecr = 0xb1b2b3b4u };
	static const uint8_t want[] = { 0x01, 0x01, 0x08, 0x0a, 0xa1, 0xa2, 0xa3, 0xa4, 0xb1, 0xb2, 0xb3, 0xb4 };
	uint8_t out[40];

	cr_assert_eq(build(&in, out), 12);
	cr_assert_eq(memcmp(out, want, 12), 0);
}

static void fill_sack(struct tcp_opts_out *in, unsigned int n)
{
	in->nsack = (uint8_t)n;
	for (unsigned int i = 0; i < TCP_MAX_SACK_BLOCKS; i++) {
		in->sack[i].left = 0x10000000u * (i + 1) + 1;
		in->sack[i].right = 0x10000000u * (i + 1) + 0x1000;
	}
}

static void check_sack_bytes(const uint8_t *p, unsigned int nb, const struct tcp_opts_out *in)
{
	cr_assert_eq(p[0], 1);
	cr_assert_eq(p[1], 1);
	cr_assert_eq(p[2], 5);
	cr_assert_eq(p[3], 2 + 8 * nb);
	for (unsigned int i = 0; i < nb; i++) {
		cr_assert_eq(get32(p + 4 + 8 * i), in->sack[i].left);
		cr_assert_eq(get32(p + 8 + 8 * i), in->sack[i].right);
	}
}

Test(opt_build, data_ts_with_0_to_4_sack_blocks)
{
	for (unsigned int n = 0; n <= 4; n++) {
		struct tcp_opts_out in = { .ts = true, .ts_val = 7, .ts_ecr = 9 };
		uint8_t out[40];
		unsigned int fit = n > 3 ? 3 : n;  /* 12 + 4 + 8*3 = 40 */
		unsigned int len;

		fill_sack(&in, n);
		len = build(&in, out);
		cr_assert_eq(len, 12 + (fit ? 4 + 8 * fit : 0), "n=%u", n);
		cr_assert_eq(out[0], 1);
		cr_assert_eq(out[1], 1);
		cr_assert_eq(out[2], 8);
		cr_assert_eq(get32(out + 4), 7);
		cr_assert_eq(get32(out + 8), 9);
		if (fit)
			check_sack_bytes(out + 12, fit, &in);
	}
}

Test(opt_build, data_sack_without_ts)
{
	for (unsigned int n = 0; n <= 4; n++) {
		struct tcp_opts_out in = { 0 };
		uint8_t out[40];
		unsigned int len;

		fill_sack(&in, n);
		len = build(&in, out);
		cr_assert_eq(len, n ? 4 + 8 * n : 0, "n=%u", n);   /* 4 blocks: 36 */
		if (n)
			check_sack_bytes(out, n, &in);
	}
}

Test(opt_build, nsack_garbage_is_capped)
{
	struct tcp_opts_out in = { 0 };
	uint8_t out[40];

	fill_sack(&in, 4);
	in.nsack = 255;
	cr_assert_eq(build(&in, out), 36);
	in.ts = true;
	cr_assert_eq(build(&in, out), 40);
	/* every option at once: 20 bytes of SYN options leave room for 2 blocks */
	in.mss = in.sack_perm = in.wscale = true;
	cr_assert_eq(build(&in, out), 40);
	check_sack_bytes(out + 20, 2, &in);
}

/* Build -> parse for every combination of flags and block counts. */
Test(opt_build, round_trip_all_combinations)
{
	for (unsigned int rep = 0; rep < 50; rep++) {
		for (unsigned int mask = 0; mask < 16; mask++) {
			for (unsigned int ns = 0; ns <= 5; ns++) {
				struct tcp_opts_out in = { 0 };
				struct tcp_opts o;
				uint8_t out[40];
				unsigned int len, used = 0, fit;

				in.mss = mask & 1;
				in.wscale = mask & 2;
				in.sack_perm = mask & 4;
				in.ts = mask & 8;
				in.mss_val = (uint16_t)rnd();
				in.wscale_val = (uint8_t)(rnd() % 20);
				in.ts_val = rnd();
				in.ts_ecr = rnd();
				in.nsack = (uint8_t)ns;
				for (unsigned int i = 0; i < TCP_MAX_SACK_BLOCKS; i++) {
					in.sack[i].left = rnd();
					in.sack[i].right = rnd();
				}
				len = build(&in, out);
				cr_assert_eq(parse(out, len, &o), 0);

				/* independent accounting of what must fit */
				used = (in.mss ? 4 : 0) + (in.ts ? 12 : in.sack_perm ? 4 : 0) + (in.wscale ? 4 : 0);
				fit = ns > 4 ? 4 : ns;
				while (fit && used + 4 + 8 * fit > 40)
					fit--;
				cr_assert_eq(len, used + (fit ? 4 + 8 * fit : 0), "mask %u ns %u", mask, ns);

				cr_assert_eq(o.has_mss, in.mss);
				if (in.mss)
					cr_assert_eq(o.mss, in.mss_val);
				cr_assert_eq(o.has_wscale, in.wscale);
				if (in.wscale)
					cr_assert_eq(o.wscale, in.wscale_val > 14 ? 14 : in.wscale_val);
				cr_assert_eq(o.sack_perm, in.sack_perm);
				cr_assert_eq(o.has_ts, in.ts);
				if (in.ts) {
					cr_assert_eq(o.ts_val, in.ts_val);
					cr_assert_eq(o.ts_ecr, in.ts_ecr);
				}
				cr_assert_eq(o.nsack, fit, "mask %u ns %u", mask, ns);
				for (unsigned int i = 0; i < fit; i++) {
					cr_assert_eq(o.sack[i].left, in.sack[i].left);
					cr_assert_eq(o.sack[i].right, in.sack[i].right);
				}
			}
		}
	}
}
