/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * synflood: spoofed TCP SYNs from random source addresses and ports, as fast as
 * one packet socket can send them, for a fixed time. Driven by
 * tests/bench/bench_flood.py; runs in the client namespace the benchmark made.
 *
 *   synflood --iface IF --dst-mac MAC --src-mac MAC --dst IP --dport N
 *            --seconds S [--pps N] [--max N] [--avoid A.B.C.0/24]
 *
 * Frames go out on an AF_PACKET socket bound to IF (sendmmsg, 64 at a time),
 * Ethernet/IPv4/TCP with correct checksums, a SYN with the options Linux sends
 * (MSS 1460, SACK permitted, timestamps, window scale 7). Source addresses are
 * drawn uniformly from 1.0.0.0-223.255.255.255 except 10.0.0.0/8 and 127/8 (no
 * one owns them: the SYN-ACKs go to the gateway address and die there); source
 * ports from 1024-65535. --pps paces (0, the default: no pacing); --max bounds
 * the frame count. Prints one JSON line: frames sent, send errors (ENOBUFS:
 * the device queue was full), seconds, rate.
 *
 * Bounded: at most 600 s and --max frames. Exit status 0 when it ran, 2 on usage,
 * 1 when the socket could not be made.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define FRAME_LEN (14 + 20 + 40)

static uint64_t rng = 88172645463325252ull;

static uint32_t xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse_mac(const char *s, uint8_t m[6])
{
	unsigned int v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)v[i];
	return 0;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static uint32_t rand_src(uint32_t avoid_net)
{
	for (;;) {
		uint32_t a = xr() ^ (xr() << 16);
		uint8_t top = (uint8_t)(a >> 24);

		if (top == 0 || top == 10 || top == 127 || top >= 224)
			continue;
		if ((a & 0xffffff00u) == avoid_net)
			continue;
		return a;
	}
}

/* One SYN frame from a random source into F. */
static void make_frame(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], uint32_t dst,
		       uint16_t dport, uint32_t avoid_net, uint32_t tsval)
{
	uint8_t *ip = f + 14, *tcp = ip + 20;
	uint32_t src = rand_src(avoid_net), s;
	static uint16_t id;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, 20 + 40);
	put16(ip + 4, id++);
	put16(ip + 6, 0x4000);   /* DF */
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	memset(tcp, 0, 40);
	put16(tcp, (uint16_t)(1024 + xr() % (65536 - 1024)));
	put16(tcp + 2, dport);
	put32(tcp + 4, xr() ^ (xr() << 16));
	tcp[12] = 10 << 4;       /* 40 bytes: 20 + 20 of options */
	tcp[13] = 0x02;          /* SYN */
	put16(tcp + 14, 64240);
	/* MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (Linux's order) */
	static const uint8_t opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };
	memcpy(tcp + 20, opts, 20);
	put32(tcp + 28, tsval);
	s = sum16(ip + 12, 8, 0) + 6 + 40;
	put16(tcp + 16, fold(sum16(tcp, 40, s)));
}

static void usage(void)
{
	fprintf(stderr, "usage: synflood --iface IF --dst-mac MAC --src-mac MAC --dst IP --dport N "
		"--seconds S [--pps N] [--max N] [--avoid A.B.C.0]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", 1, 0, 'i' }, { "dst-mac", 1, 0, 'd' }, { "src-mac", 1, 0, 's' },
		{ "dst", 1, 0, 'a' }, { "dport", 1, 0, 'p' }, { "seconds", 1, 0, 't' },
		{ "pps", 1, 0, 'r' }, { "max", 1, 0, 'm' }, { "avoid", 1, 0, 'v' }, { 0, 0, 0, 0 } };
	const char *iface = NULL;
	uint8_t dmac[6], smac[6];
	int have_d = 0, have_s = 0, c;
	struct in_addr dst = { 0 }, avoid = { 0 };
	unsigned long dport = 80, pps = 0, max = 100000000;
	double seconds = 0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i': iface = optarg; break;
		case 'd': if (parse_mac(optarg, dmac)) usage(); have_d = 1; break;
		case 's': if (parse_mac(optarg, smac)) usage(); have_s = 1; break;
		case 'a': if (inet_pton(AF_INET, optarg, &dst) != 1) usage(); break;
		case 'p': dport = strtoul(optarg, NULL, 10); break;
		case 't': seconds = atof(optarg); break;
		case 'r': pps = strtoul(optarg, NULL, 10); break;
		case 'm': max = strtoul(optarg, NULL, 10); break;
		case 'v': if (inet_pton(AF_INET, optarg, &avoid) != 1) usage(); break;
		default: usage();
		}
	}
	if (!iface || !have_d || !have_s || dst.s_addr == 0 || dport == 0 || dport > 65535 ||
	    seconds <= 0 || seconds > 600 || max == 0)
		usage();
	rng ^= (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);

	int fd = socket(AF_PACKET, SOCK_RAW, 0);   /* protocol 0: receives nothing */
	if (fd < 0) {
		perror("socket(AF_PACKET)");
		return 1;
	}
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(iface) };
	if (sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("bind");
		return 1;
	}
	int sz = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));

	static uint8_t frames[BATCH][FRAME_LEN];
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];
	uint32_t dst_h = ntohl(dst.s_addr), avoid_h = ntohl(avoid.s_addr) & 0xffffff00u;
	unsigned long sent = 0, errors = 0;
	double t0 = now_s(), t = t0;

	memset(msg, 0, sizeof(msg));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = frames[i];
		iov[i].iov_len = FRAME_LEN;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	while (sent < max && (t = now_s()) - t0 < seconds) {
		unsigned int n = BATCH;

		if (max - sent < n)
			n = (unsigned int)(max - sent);
		if (pps) {
			double due = (double)(sent + n) / (double)pps;

			if (t - t0 < due) {
				struct timespec ts = { 0, (long)((due - (t - t0)) * 1e9) };

				if (ts.tv_nsec > 999999999)
					ts.tv_nsec = 999999999;
				nanosleep(&ts, NULL);
			}
		}
		for (unsigned int i = 0; i < n; i++)
			make_frame(frames[i], dmac, smac, dst_h, (uint16_t)dport, avoid_h,
				   (uint32_t)(t * 1000));
		int r = sendmmsg(fd, msg, n, 0);

		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				errors++;
				continue;
			}
			perror("sendmmsg");
			break;
		}
		sent += (unsigned long)r;
	}
	t = now_s() - t0;
	printf("{\"sent\":%lu,\"send_errors\":%lu,\"seconds\":%.3f,\"pps\":%.0f}\n", sent, errors, t,
	       t > 0 ? sent / t : 0.0);
	close(fd);
	return 0;
}
