/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the network-facing frame code: primary/pkt.c
 * (pkt_classify, pkt_arp_reply_inplace, pkt_icmp_echo_reply_inplace,
 * pkt_cksum) and secondary/rst.c (rst_build_reply).
 *
 * Input layout:
 *   byte 0      flags
 *                 bits 0-2  interface prefix length: 24 16 8 0 30 31 32 1
 *                 bit  3    interface B (00:1b:21:0a:0b:0c, 192.168.1.254)
 *                           instead of A (02:00:00:00:00:01, 10.0.0.1)
 *                 bit  4    rewrite the IPv4 header checksum before the run
 *                 bit  5    rewrite the TCP/ICMP checksum before the run
 *                 bit  6    also call pkt_arp_reply_inplace on a frame that
 *                           did not classify as PKT_ARP
 *                 bit  7    unused
 *   bytes 1..   the Ethernet frame (no FCS)
 * Bits 4 and 5 let the fuzzer mutate a frame and still get past the
 * checksum checks into the code behind them. The rewritten frame is the
 * input every function under test sees.
 *
 * The frame is copied into a heap buffer of exactly its length (and so is
 * every reply that is re-parsed), so AddressSanitizer reports any over-read.
 * Every check below follows from the contracts in primary/pkt.h and
 * secondary/rst.h; the checksums are verified with an independent RFC 1071
 * implementation in this file. A violated invariant calls abort().
 *
 * Two builds:
 *  - CI (gcc, no libFuzzer): tests/fuzz/meson.build links this file with
 *    replay.c into fuzz_frames_replay, which meson test (suite 'fuzz') runs
 *    over every file of tests/fuzz/corpus/frames.
 *  - Local fuzzing with libFuzzer (clang; Debian: apt-get install clang
 *    libclang-rt-14-dev). From the repository root:
 *
 *      clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *            -fno-sanitize-recover=all -D_GNU_SOURCE -I. \
 *            tests/fuzz/fuzz_frames.c primary/pkt.c secondary/rst.c \
 *            -o /tmp/fuzz_frames
 *      mkdir -p /tmp/fuzz-new
 *      /tmp/fuzz_frames -max_total_time=300 -max_len=4096 -use_value_profile=1 \
 *            /tmp/fuzz-new tests/fuzz/corpus/frames
 *
 *    (-max_len: without it libFuzzer sizes inputs after the largest seed,
 *    64 KiB, and runs much slower; add -jobs=N -workers=N for N cores.)
 *
 *    libFuzzer writes new inputs to the first directory (/tmp/fuzz-new) and
 *    only reads the others. To keep the interesting ones, merge them into
 *    the committed corpus (only inputs adding coverage are copied):
 *
 *      /tmp/fuzz_frames -merge=1 tests/fuzz/corpus/frames /tmp/fuzz-new
 *
 *    A crash leaves crash-<sha1> in the current directory; replay it with
 *    /tmp/fuzz_frames crash-<sha1> or build/tests/fuzz/fuzz_frames_replay crash-<sha1>.
 *  - tests/fuzz/make_corpus.py regenerates the hand-written seeds (seed-*).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "primary/pkt.h"
#include "secondary/rst.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FLAG_PREFIX_MASK  0x07
#define FLAG_IFC_B        0x08
#define FLAG_FIX_IP_CSUM  0x10
#define FLAG_FIX_L4_CSUM  0x20
#define FLAG_ARP_ANY      0x40

#define MAX_FRAME         (1u << 20)   /* keeps every length well inside uint32_t */

#define ETH_ALEN          6
#define ETH_HLEN          14
#define ETHERTYPE_IPV4    0x0800
#define ETHERTYPE_ARP     0x0806
#define ARP_FRAME_LEN     42
#define IP_MIN_HLEN       20
#define PROTO_ICMP        1
#define PROTO_TCP         6
#define TCP_FIN           0x01
#define TCP_SYN           0x02
#define TCP_RST           0x04
#define TCP_ACK           0x10

#define CHECK(cond) do { if (!(cond)) check_failed(#cond, __LINE__); } while (0)

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_frames.c:%d: invariant violated: %s\n", line, what);
	abort();
}

/* ---- byte access (big-endian, no alignment) ------------------------------ */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool bytes_eq(const void *a, const void *b, size_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

/* A heap copy of exactly N bytes: ASan flags any access past it. */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n);

	if (d == NULL) {
		if (n != 0)
			abort();
		return NULL;    /* malloc(0) may return NULL: nothing is read then */
	}
	memcpy(d, p, n);
	return d;
}

/* ---- independent RFC 1071 checksum ---------------------------------------- */

/*
 * Word-by-word one's complement addition with the end-around carry applied
 * at every step (RFC 1071 §1), unlike pkt.c (wide accumulator, native-order
 * loads) and rst.c (wide accumulator, folded at the end).
 */
static uint16_t oc_add(uint16_t a, uint16_t b)
{
	uint32_t s = (uint32_t)a + b;

	return (uint16_t)((s & 0xffff) + (s >> 16));
}

/* One's complement sum of N bytes as big-endian words, odd byte padded with 0. */
static uint16_t oc_sum(const uint8_t *p, size_t n, uint16_t acc)
{
	for (size_t i = 0; i < n; i += 2)
		acc = oc_add(acc, (uint16_t)(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0)));
	return acc;
}

/* Data that carries its own correct checksum sums to all ones. */
static bool oc_valid(const uint8_t *p, size_t n, uint16_t acc)
{
	return oc_sum(p, n, acc) == 0xffff;
}

/* RFC 9293 §3.1 pseudo header: src, dst, zero + protocol, TCP length. */
static uint16_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint32_t l4_len)
{
	uint16_t acc = 0;

	acc = oc_add(acc, (uint16_t)(src >> 16));
	acc = oc_add(acc, (uint16_t)src);
	acc = oc_add(acc, (uint16_t)(dst >> 16));
	acc = oc_add(acc, (uint16_t)dst);
	acc = oc_add(acc, proto);
	return oc_add(acc, (uint16_t)l4_len);   /* <= 65535: bounded by the IP total length */
}

/* Flag bits 4/5: make the IPv4 header and/or TCP/ICMP checksums correct. */
static void fix_checksums(uint8_t *f, size_t len, uint8_t flags)
{
	uint8_t *ip = f + ETH_HLEN, *l4;
	size_t avail, ihl, tot, l4_len;

	if (len < ETH_HLEN + IP_MIN_HLEN || get16(f + 12) != ETHERTYPE_IPV4)
		return;
	avail = len - ETH_HLEN;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < IP_MIN_HLEN || ihl > avail)
		return;
	tot = get16(ip + 2);
	if ((flags & FLAG_FIX_L4_CSUM) && tot >= ihl && tot <= avail) {
		l4 = ip + ihl;
		l4_len = tot - ihl;
		if (ip[9] == PROTO_TCP && l4_len >= 18) {
			put16(l4 + 16, 0);
			put16(l4 + 16, (uint16_t)~oc_sum(l4, l4_len,
				pseudo_sum(get32(ip + 12), get32(ip + 16), PROTO_TCP, (uint32_t)l4_len)));
		} else if (ip[9] == PROTO_ICMP && l4_len >= 4) {
			put16(l4 + 2, 0);
			put16(l4 + 2, (uint16_t)~oc_sum(l4, l4_len, 0));
		}
	}
	if (flags & FLAG_FIX_IP_CSUM) {
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~oc_sum(ip, ihl, 0));
	}
}

/* ---- interfaces ----------------------------------------------------------- */

static const uint8_t prefixes[8] = { 24, 16, 8, 0, 30, 31, 32, 1 };
static const struct pkt_if ifc_a = { .mac = { 0x02, 0, 0, 0, 0, 0x01 }, .ipv4 = 0x0a000001u };
static const struct pkt_if ifc_b = { .mac = { 0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x0c }, .ipv4 = 0xc0a801feu };

/* The remote end as an interface (/32: no broadcast address to trip over). */
static struct pkt_if peer_if(const uint8_t mac[ETH_ALEN], uint32_t ipv4)
{
	struct pkt_if p = { .ipv4 = ipv4, .prefix_len = 32 };

	memcpy(p.mac, mac, ETH_ALEN);
	return p;
}

/* ---- reference classifier: the pkt.h list, check by check ----------------- */

static bool is_bcast_mac(const uint8_t *m)
{
	static const uint8_t b[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	return memcmp(m, b, ETH_ALEN) == 0;
}

/* 0, loopback 127/8, multicast 224/4, class E 240/4 (incl. 255.255.255.255). */
static bool src_always_bad(uint32_t s)
{
	return s == 0 || (s >> 24) == 127 || (s >> 28) >= 0xe;
}

/*
 * pkt.h says "broadcast" without saying whether the directed broadcast of the
 * interface subnet is included (and /31, /32 have none, RFC 3021). A source
 * equal to it may be dropped as PDROP_IP_BAD_SRC or go on: both are accepted.
 */
static bool src_maybe_bcast(uint32_t s, const struct pkt_if *ifc)
{
	if (ifc->prefix_len >= 32)
		return false;
	return s == (ifc->ipv4 | (UINT32_MAX >> ifc->prefix_len));
}

/* Expected drop reason (PDROP_NONE: *CLS is the class). */
static enum porter_pdrop ref_classify(const uint8_t *f, size_t len, const struct pkt_if *ifc,
				      enum pkt_class *cls, bool *src_ambiguous)
{
	const uint8_t *ip = f + ETH_HLEN, *l4, *a;
	size_t avail, ihl, tot, l4_len;
	uint16_t type, op;
	uint32_t src;

	*cls = PKT_DROP;
	*src_ambiguous = false;
	if (len < ETH_HLEN)
		return PDROP_RUNT;
	type = get16(f + 12);
	if (memcmp(f, ifc->mac, ETH_ALEN) != 0 && !(type == ETHERTYPE_ARP && is_bcast_mac(f)))
		return PDROP_NOT_OUR_MAC;
	if (type == ETHERTYPE_ARP) {
		a = f + ETH_HLEN;
		if (len < ARP_FRAME_LEN)
			return PDROP_ARP_MALFORMED;
		op = get16(a + 6);
		if (get16(a) != 1 || get16(a + 2) != ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4 ||
		    (op != 1 && op != 2))
			return PDROP_ARP_MALFORMED;
		if (get32(a + 24) != ifc->ipv4)
			return PDROP_ARP_NOT_OURS;
		*cls = PKT_ARP;
		return PDROP_NONE;
	}
	if (type != ETHERTYPE_IPV4)
		return PDROP_ETHERTYPE;
	avail = len - ETH_HLEN;
	if (avail < IP_MIN_HLEN)
		return PDROP_IP_SHORT;
	if ((ip[0] >> 4) != 4)
		return PDROP_IP_VERSION;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < IP_MIN_HLEN || ihl > avail)
		return PDROP_IP_IHL;
	tot = get16(ip + 2);
	if (tot < ihl || tot > avail)
		return PDROP_IP_LEN;
	if (!oc_valid(ip, ihl, 0))
		return PDROP_IP_CSUM;
	if (get16(ip + 6) & 0x3fff)                     /* MF or fragment offset */
		return PDROP_IP_FRAG;
	if (get32(ip + 16) != ifc->ipv4)
		return PDROP_IP_NOT_OURS;
	src = get32(ip + 12);
	if (src_always_bad(src))
		return PDROP_IP_BAD_SRC;
	*src_ambiguous = src_maybe_bcast(src, ifc);
	l4 = ip + ihl;
	l4_len = tot - ihl;
	switch (ip[9]) {
	case PROTO_TCP:
		if (l4_len < 20 || (l4[12] >> 4) < 5 || (size_t)(l4[12] >> 4) * 4 > l4_len)
			return PDROP_TCP_SHORT;
		*cls = PKT_TCP;
		return PDROP_NONE;
	case PROTO_ICMP:
		/* RFC 1191 frag-needed quoting one of our TCP segments: steered */
		if (l4_len >= 8 + 20 + 8 && l4[0] == 3 && l4[1] == 4 && (l4[8] >> 4) == 4 &&
		    (l4[8] & 0x0f) >= 5 && l4_len - 8 >= (size_t)(l4[8] & 0x0f) * 4 + 8 &&
		    l4[8 + 9] == PROTO_TCP && get32(l4 + 8 + 12) == ifc->ipv4 && oc_valid(l4, l4_len, 0)) {
			*cls = PKT_ICMP_FRAG_NEEDED;
			return PDROP_NONE;
		}
		if (l4_len < 8)
			return PDROP_ICMP_SHORT;
		if (l4[0] != 8)
			return PDROP_ICMP_OTHER;
		if (!oc_valid(l4, l4_len, 0))
			return PDROP_ICMP_CSUM;
		*cls = PKT_ICMP_ECHO;
		return PDROP_NONE;
	default:
		return PDROP_IP_PROTO;
	}
}

/* ---- pkt_classify ------------------------------------------------------------ */

static enum pkt_class check_classify(const uint8_t *frame, uint32_t len, const struct pkt_if *ifc,
				     struct pkt_meta *meta)
{
	uint8_t *in = dup_exact(frame, len);
	enum porter_pdrop why = PDROP__COUNT, ref_why;
	enum pkt_class cls, ref_cls;
	const uint8_t *ip = frame + ETH_HLEN;
	bool ambiguous;

	memset(meta, 0, sizeof(*meta));
	cls = pkt_classify(in, len, ifc, meta, &why);
	CHECK(bytes_eq(in, frame, len));                /* const input */
	free(in);

	CHECK(cls == PKT_DROP || cls == PKT_ARP || cls == PKT_ICMP_ECHO || cls == PKT_TCP ||
	      cls == PKT_ICMP_FRAG_NEEDED);
	CHECK(why < PDROP__COUNT);
	CHECK((cls == PKT_DROP) == (why != PDROP_NONE));

	ref_why = ref_classify(frame, len, ifc, &ref_cls, &ambiguous);
	if (!(ambiguous && why == PDROP_IP_BAD_SRC)) {
		if (why != ref_why || cls != ref_cls)
			fprintf(stderr, "pkt_classify: class %d reason %d, expected class %d reason %d\n",
				cls, why, ref_cls, ref_why);
		CHECK(why == ref_why);
		CHECK(cls == ref_cls);
	}

	if (cls != PKT_DROP)
		CHECK(meta->l3_off == ETH_HLEN);
	if (cls == PKT_TCP || cls == PKT_ICMP_ECHO) {
		CHECK(meta->l4_off == ETH_HLEN + (ip[0] & 0x0f) * 4);
		CHECK(meta->ip_len == get16(ip + 2));
		CHECK((uint32_t)meta->l3_off + meta->ip_len <= len);
		CHECK(meta->l4_off <= meta->l3_off + meta->ip_len);
		CHECK(meta->proto == ip[9]);
		CHECK(meta->src_ip == get32(ip + 12));
		CHECK(meta->dst_ip == get32(ip + 16));
		CHECK(meta->dst_ip == ifc->ipv4);
	}
	if (cls == PKT_TCP) {
		CHECK(meta->proto == PROTO_TCP);
		CHECK(meta->src_port == get16(frame + meta->l4_off));
		CHECK(meta->dst_port == get16(frame + meta->l4_off + 2));
	}
	if (cls == PKT_ICMP_ECHO)
		CHECK(meta->proto == PROTO_ICMP);
	if (cls == PKT_ICMP_FRAG_NEEDED) {
		const uint8_t *q = ip + (ip[0] & 0x0f) * 4 + 8;

		CHECK(meta->src_ip == ifc->ipv4 && meta->src_ip == get32(q + 12));
		CHECK(meta->dst_ip == get32(q + 16));
		CHECK(meta->src_port == get16(q + (q[0] & 0x0f) * 4));
		CHECK(meta->dst_port == get16(q + (q[0] & 0x0f) * 4 + 2));
	}
	return cls;
}

/* ---- pkt_arp_reply_inplace ------------------------------------------------ */

static void check_arp_reply(const uint8_t *frame, uint32_t len, const struct pkt_if *ifc)
{
	const uint8_t *oa = frame + ETH_HLEN;           /* the request's ARP header */
	uint8_t *r = dup_exact(frame, len), *a, *exact;
	struct pkt_if peer;
	struct pkt_meta m;
	enum porter_pdrop why;
	uint32_t n;

	n = pkt_arp_reply_inplace(r, len, ifc);
	if (get16(oa + 6) != 1) {                       /* a reply: nothing to answer */
		CHECK(n == 0);
		free(r);
		return;
	}
	CHECK(n == ARP_FRAME_LEN);
	CHECK(n <= len);
	a = r + ETH_HLEN;
	CHECK(memcmp(r, oa + 8, ETH_ALEN) == 0);        /* Ethernet dst = requester MAC */
	CHECK(memcmp(r + ETH_ALEN, ifc->mac, ETH_ALEN) == 0);
	CHECK(get16(r + 12) == ETHERTYPE_ARP);
	CHECK(get16(a) == 1 && get16(a + 2) == ETHERTYPE_IPV4 && a[4] == 6 && a[5] == 4);
	CHECK(get16(a + 6) == 2);
	CHECK(memcmp(a + 8, ifc->mac, ETH_ALEN) == 0);  /* sender = us */
	CHECK(get32(a + 14) == ifc->ipv4);
	CHECK(memcmp(a + 18, oa + 8, ETH_ALEN) == 0);   /* target = requester */
	CHECK(memcmp(a + 24, oa + 14, 4) == 0);

	/* The requester, as an interface, takes the reply as an ARP for it. */
	exact = dup_exact(r, n);
	peer = peer_if(oa + 8, get32(oa + 14));
	CHECK(pkt_classify(exact, n, &peer, &m, &why) == PKT_ARP);
	free(exact);
	free(r);
}

/*
 * Flag bit 6: any frame at all. pkt.h promises 0 for a frame that is not an
 * ARP request; for one that is (say, for another address), a reply of 42
 * bytes built inside the frame. Mostly a memory-safety probe.
 */
static void check_arp_reply_any(const uint8_t *frame, uint32_t len, const struct pkt_if *ifc)
{
	uint8_t *r = dup_exact(frame, len);
	uint32_t n = pkt_arp_reply_inplace(r, len, ifc);
	bool request = len >= ARP_FRAME_LEN && get16(frame + 12) == ETHERTYPE_ARP &&
		       get16(frame + ETH_HLEN + 6) == 1;

	CHECK(n == 0 || n == ARP_FRAME_LEN);
	if (!request)
		CHECK(n == 0);
	if (n != 0)
		CHECK(get16(r + ETH_HLEN + 6) == 2);
	free(r);
}

/* ---- pkt_icmp_echo_reply_inplace -------------------------------------------- */

static void check_icmp_reply(const uint8_t *frame, uint32_t len, const struct pkt_meta *meta)
{
	const uint8_t *oip = frame + meta->l3_off, *oicmp = frame + meta->l4_off;
	uint32_t ihl = (uint32_t)meta->l4_off - meta->l3_off;
	uint32_t icmp_len = meta->ip_len - ihl;
	uint8_t *r = dup_exact(frame, len), *ip, *icmp, *exact;
	struct pkt_if peer;
	struct pkt_meta m;
	enum porter_pdrop why = PDROP__COUNT;
	uint32_t n;

	n = pkt_icmp_echo_reply_inplace(r, len, meta);
	CHECK(n != 0);
	CHECK(n <= len);
	CHECK(n == (uint32_t)ETH_HLEN + IP_MIN_HLEN + icmp_len);   /* options dropped */
	CHECK(memcmp(r, frame + ETH_ALEN, ETH_ALEN) == 0);          /* MACs swapped */
	CHECK(memcmp(r + ETH_ALEN, frame, ETH_ALEN) == 0);
	CHECK(get16(r + 12) == ETHERTYPE_IPV4);
	ip = r + ETH_HLEN;
	CHECK(ip[0] == 0x45);
	CHECK(get16(ip + 2) == IP_MIN_HLEN + icmp_len);
	CHECK(ip[8] == 64);
	CHECK(ip[9] == PROTO_ICMP);
	CHECK(get32(ip + 12) == get32(oip + 16));                  /* IPs swapped */
	CHECK(get32(ip + 16) == get32(oip + 12));
	CHECK(oc_valid(ip, IP_MIN_HLEN, 0));
	icmp = ip + IP_MIN_HLEN;
	CHECK(icmp[0] == 0 && icmp[1] == 0);
	CHECK(bytes_eq(icmp + 4, oicmp + 4, icmp_len - 4));       /* id, seq, data echoed */
	CHECK(oc_valid(icmp, icmp_len, 0));

	/* The requester sees a well-formed IPv4 ICMP message that is not an echo request. */
	exact = dup_exact(r, n);
	peer = peer_if(frame + ETH_ALEN, get32(oip + 12));
	CHECK(pkt_classify(exact, n, &peer, &m, &why) == PKT_DROP);
	CHECK(why == PDROP_ICMP_OTHER);
	free(exact);
	free(r);
}

/* ---- rst_build_reply ---------------------------------------------------------- */

/* The incoming segment as rst.h describes IN, parsed independently. */
struct ref_seg {
	bool ok;                /* Ethernet + IPv4 + TCP with sane lengths */
	bool frag;              /* MF or fragment offset: rst.h does not say */
	bool csum_ok;
	uint32_t src, dst, seq, ack, seg_len;
	uint16_t sport, dport;
	uint8_t flags;
};

static void ref_parse_seg(const uint8_t *f, size_t len, struct ref_seg *s)
{
	const uint8_t *ip = f + ETH_HLEN, *tcp;
	size_t avail, ihl, tot, tcp_len, doff;

	memset(s, 0, sizeof(*s));
	if (len < ETH_HLEN + IP_MIN_HLEN || get16(f + 12) != ETHERTYPE_IPV4)
		return;
	avail = len - ETH_HLEN;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if ((ip[0] >> 4) != 4 || ihl < IP_MIN_HLEN || ihl > avail)
		return;
	tot = get16(ip + 2);
	if (tot < ihl + 20 || tot > avail || ip[9] != PROTO_TCP)
		return;
	tcp = ip + ihl;
	tcp_len = tot - ihl;                            /* the IP total length bounds the segment */
	doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < 20 || doff > tcp_len)
		return;
	s->ok = true;
	s->frag = (get16(ip + 6) & 0x3fff) != 0;
	s->src = get32(ip + 12);
	s->dst = get32(ip + 16);
	s->sport = get16(tcp);
	s->dport = get16(tcp + 2);
	s->seq = get32(tcp + 4);
	s->ack = get32(tcp + 8);
	s->flags = tcp[13];
	s->csum_ok = oc_valid(tcp, tcp_len, pseudo_sum(s->src, s->dst, PROTO_TCP, (uint32_t)tcp_len));
	/* RFC 9293 §3.4: SEG.LEN = data octets + SYN + FIN. */
	s->seg_len = (uint32_t)(tcp_len - doff) + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);
}

static void check_rst(const uint8_t *frame, uint32_t len, enum pkt_class cls)
{
	uint8_t *in = dup_exact(frame, len);
	static const uint8_t zeros[RST_FRAME_LEN];
	uint8_t *out = dup_exact(zeros, RST_FRAME_LEN);        /* exactly RST_FRAME_LEN */
	const uint8_t *ip = out + ETH_HLEN, *tcp = ip + IP_MIN_HLEN;
	bool has_rst;
	struct ref_seg s;
	struct pkt_if peer;
	struct pkt_meta m;
	enum porter_pdrop why;
	enum rst_verdict v;

	v = rst_build_reply(in, len, out);
	CHECK(bytes_eq(in, frame, len));                /* const input */
	free(in);
	CHECK(v == RST_REPLY || v == RST_DROP_IS_RST || v == RST_DROP_MALFORMED ||
	      v == RST_DROP_CSUM);

	ref_parse_seg(frame, len, &s);
	has_rst = s.flags & TCP_RST;
	/* What the primary steers as TCP is a segment the worker can parse. */
	if (cls == PKT_TCP) {
		CHECK(s.ok && !s.frag);
		CHECK(v != RST_DROP_MALFORMED);
	}
	if (!s.ok)
		CHECK(v == RST_DROP_MALFORMED);
	else if (!s.frag) {
		if (s.csum_ok)
			CHECK(v == (has_rst ? RST_DROP_IS_RST : RST_REPLY));
		else if (has_rst)       /* rst.h does not order the two checks */
			CHECK(v == RST_DROP_CSUM || v == RST_DROP_IS_RST);
		else
			CHECK(v == RST_DROP_CSUM);
	}
	if (v == RST_DROP_IS_RST)
		CHECK(s.ok && has_rst);
	if (v == RST_DROP_CSUM)
		CHECK(s.ok && !s.csum_ok);
	if (v != RST_REPLY) {
		free(out);
		return;
	}

	/* Never answer a RST (RFC 9293 §3.10.7.1). */
	CHECK(s.ok && s.csum_ok && !has_rst);
	CHECK(memcmp(out, frame + ETH_ALEN, ETH_ALEN) == 0);
	CHECK(memcmp(out + ETH_ALEN, frame, ETH_ALEN) == 0);
	CHECK(get16(out + 12) == ETHERTYPE_IPV4);
	CHECK(ip[0] == 0x45);
	CHECK(get16(ip + 2) == RST_FRAME_LEN - ETH_HLEN);
	CHECK(get16(ip + 4) == 0);                      /* ID 0 */
	CHECK(get16(ip + 6) == 0x4000);                 /* DF, not a fragment */
	CHECK(ip[8] == 64);
	CHECK(ip[9] == PROTO_TCP);
	CHECK(get32(ip + 12) == s.dst);
	CHECK(get32(ip + 16) == s.src);
	CHECK(oc_valid(ip, IP_MIN_HLEN, 0));
	CHECK(get16(tcp) == s.dport);
	CHECK(get16(tcp + 2) == s.sport);
	CHECK(tcp[12] == 0x50);                         /* 20 bytes, no options */
	CHECK(get16(tcp + 14) == 0);                    /* window 0 */
	CHECK(oc_valid(tcp, 20, pseudo_sum(s.dst, s.src, PROTO_TCP, 20)));
	CHECK(tcp[13] & TCP_RST);
	if (s.flags & TCP_ACK) {
		CHECK(tcp[13] == TCP_RST);
		CHECK(get32(tcp + 4) == s.ack);
		CHECK(get32(tcp + 8) == 0);
	} else {
		CHECK(tcp[13] == (TCP_RST | TCP_ACK));
		CHECK(get32(tcp + 4) == 0);
		CHECK(get32(tcp + 8) == (uint32_t)(s.seq + s.seg_len));
	}

	/* The RST for a segment to us is, for its recipient, a TCP segment to it. */
	if (cls == PKT_TCP) {
		peer = peer_if(frame + ETH_ALEN, s.src);
		CHECK(pkt_classify(out, RST_FRAME_LEN, &peer, &m, &why) == PKT_TCP);
		CHECK(m.src_port == s.dport && m.dst_port == s.sport);
	}
	free(out);
}

/* ---- entry point ----------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_if ifc;
	struct pkt_meta meta;
	enum pkt_class cls;
	uint8_t flags, *frame;
	uint16_t expect_cksum;
	uint32_t len;

	if (size < 1 || size - 1 > MAX_FRAME)
		return 0;
	flags = data[0];
	len = (uint32_t)(size - 1);
	ifc = (flags & FLAG_IFC_B) ? ifc_b : ifc_a;
	ifc.prefix_len = prefixes[flags & FLAG_PREFIX_MASK];

	frame = dup_exact(data + 1, len);
	fix_checksums(frame, len, flags);

	/* RFC 1071 helper against the independent sum, odd lengths included. */
	expect_cksum = (uint16_t)~oc_sum(frame, len, 0);
	CHECK(pkt_cksum(frame, len, 0) == expect_cksum);
	if (len >= 4)   /* the first two words passed as a 32-bit partial sum */
		CHECK(pkt_cksum(frame + 4, len - 4, get32(frame)) == expect_cksum);

	cls = check_classify(frame, len, &ifc, &meta);
	if (cls == PKT_ARP)
		check_arp_reply(frame, len, &ifc);
	else if (flags & FLAG_ARP_ANY)
		check_arp_reply_any(frame, len, &ifc);
	if (cls == PKT_ICMP_ECHO)
		check_icmp_reply(frame, len, &meta);
	check_rst(frame, len, cls);
	free(frame);
	return 0;
}
