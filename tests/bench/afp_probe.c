/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * afp_probe: what af_packet does on this machine, as porter's primary meets it
 * (not a test). Two probes:
 *
 *   afp_probe race IF_TX IF_RX|- SECONDS [DST_MAC]
 *   afp_probe wake IF_TX IF_RX COUNT
 *
 * race: does af_packet's poll report a frame while the ring slot a reader
 * takes next is still being written? (primary/pmd_wake.h.) Two sender threads, one pinned to each of CPUs 0 and 1, send bursts of 1 to
 * 16 raw frames (60 to 1459 bytes) out of IF_TX with 20 to 220 us pauses
 * (nanosleep's, so some 50 us longer with the default timer slack). The
 * reader has a TPACKET_V2 RX ring on IF_RX and a level-triggered epoll, and
 * takes slots in order from its own position, as DPDK's net_af_packet does.
 * When epoll says readable and that slot is still the kernel's, it counts an
 * empty wake-up and spins (at most 10 ms) until the slot is its own, and
 * prints how long that took, counted from that first look. It looks at once
 * after epoll returns, where porter's primary polls a little later, so its
 * count is an upper bound of what the primary would see. With IF_RX "-" it
 * only sends (to DST_MAC, default broadcast): load for a porter port.
 *
 * wake: how long from a sender's sendto() of one frame on IF_TX until a
 * reader blocked in epoll on IF_RX's TPACKET_V2 ring returns, with the reader
 * and the sender pinned to CPUs 0/1, 1/0, 0/0 and 1/1 in turn. COUNT frames
 * each, 300 to 600 us apart, so that the reader is asleep for every one: the
 * cost of one wake-up of a process that sleeps on a driver socket, as the
 * primary does (docs/BENCHMARKS.md, "Where the rest of the link-RTT gap goes").
 *
 *   ip netns add afr
 *   ip -n afr link add a0 type veth peer name a1
 *   ip -n afr link set a0 up; ip -n afr link set a1 up
 *   ip netns exec afr build/tests/afp_probe race a0 a1 10
 *   ip netns exec afr build/tests/afp_probe wake a0 a1 5000
 *   ip netns del afr
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FRAME_SZ 2048u
#define BLOCK_SZ (4 * 4096u)
#define BLOCKS   512u
#define SPIN_MAX_NS 10000000ull

static const char *if_tx, *if_rx;
static unsigned char dst[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static double secs;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void *sender(void *arg)
{
	int cpu = (int)(long)arg, s;
	unsigned int seed = (unsigned int)cpu + 1;
	unsigned char f[1514] = { 0 };
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(if_tx),
				 .sll_halen = 6 };
	uint64_t end = now_ns() + (uint64_t)(secs * 1e9), n = 0;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
		fprintf(stderr, "afp_probe: cannot run a sender on CPU %d\n", cpu);
		exit(1);
	}
	s = socket(AF_PACKET, SOCK_RAW, 0);   /* protocol 0: sends only, taps nothing */
	if (s < 0) {
		perror("sender socket");
		return NULL;
	}
	memcpy(f, dst, 6);
	f[6] = 2;                       /* a locally administered source */
	f[11] = (unsigned char)cpu;
	f[12] = 0x88;                   /* 0x88b5: the IEEE's local experimental ethertype */
	f[13] = 0xb5;
	while (now_ns() < end) {
		int burst = 1 + rand_r(&seed) % 16;
		struct timespec pause = { 0, 20000 + rand_r(&seed) % 200000 };

		for (int i = 0; i < burst; i++, n++)
			if (sendto(s, f, 60 + (size_t)(rand_r(&seed) % 1400), 0, (struct sockaddr *)&a, sizeof(a)) < 0)
				n--;
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "sender on CPU %d: %lu frames\n", cpu, (unsigned long)n);
	close(s);
	return NULL;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		fprintf(stderr, "afp_probe: cannot run on CPU %d\n", cpu);
		exit(1);
	}
}

/* A TPACKET_V2 RX ring of FRAMES frames on IFNAME for ethertype PROTO, and an epoll on it. */
static uint8_t *rx_ring(const char *ifname, uint16_t proto, unsigned int blocks, int *fd_out, int *ep_out)
{
	struct tpacket_req req = { .tp_block_size = BLOCK_SZ, .tp_frame_size = FRAME_SZ, .tp_block_nr = blocks,
				   .tp_frame_nr = BLOCK_SZ / FRAME_SZ * blocks };
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(proto),
				 .sll_ifindex = (int)if_nametoindex(ifname) };
	int v = TPACKET_V2, fd = socket(AF_PACKET, SOCK_RAW, htons(proto)), ep;
	uint8_t *ring;

	if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		perror("afp_probe: RX ring");
		exit(1);
	}
	ring = mmap(NULL, (size_t)BLOCK_SZ * blocks, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("afp_probe: mmap or bind");
		exit(1);
	}
	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("afp_probe: epoll");
		exit(1);
	}
	*fd_out = fd;
	*ep_out = ep;
	return ring;
}

/* The slot's status, read before its contents (the kernel writes them first). */
static uint32_t slot_status(volatile struct tpacket2_hdr *h)
{
	return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#define WAKE_BLOCKS 64u

/* One placement of the wake probe: the reader here on RCPU, a forked sender on SCPU. */
static void wake_once(int count, int rcpu, int scpu)
{
	unsigned int idx = 0, nframes = BLOCK_SZ / FRAME_SZ * WAKE_BLOCKS;
	uint64_t *d = calloc((size_t)count, sizeof(*d));
	struct epoll_event ev;
	int fd, ep, k = 0;
	uint8_t *ring = rx_ring(if_rx, 0x88b5, WAKE_BLOCKS, &fd, &ep);
	pid_t pid = fork();

	if (pid == 0) {
		unsigned char f[64] = { 0 };
		struct sockaddr_ll b = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(if_tx),
					 .sll_halen = 6 };
		int s = socket(AF_PACKET, SOCK_RAW, 0);
		unsigned int seed = 7;

		pin(scpu);
		memcpy(f, dst, 6);
		f[6] = 2;
		f[12] = 0x88;
		f[13] = 0xb5;
		usleep(100000);
		for (int i = 0; i < count; i++) {
			uint64_t t = now_ns();

			memcpy(f + 16, &t, sizeof(t));
			sendto(s, f, sizeof(f), 0, (struct sockaddr *)&b, sizeof(b));
			usleep(300 + rand_r(&seed) % 300);
		}
		_exit(0);
	}
	pin(rcpu);
	while (k < count) {
		uint64_t now;

		if (epoll_wait(ep, &ev, 1, 2000) <= 0)
			break;
		now = now_ns();
		for (;;) {
			struct tpacket2_hdr *h = (void *)(ring + (size_t)idx * FRAME_SZ);
			uint64_t t;

			if (!(slot_status(h) & TP_STATUS_USER))
				break;
			memcpy(&t, (uint8_t *)h + h->tp_mac + 16, sizeof(t));
			if (k < count)
				d[k++] = now - t;
			__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
			idx = (idx + 1) % nframes;
		}
	}
	waitpid(pid, NULL, 0);
	qsort(d, (size_t)k, sizeof(*d), cmp_u64);
	if (k > 0)
		printf("reader on CPU %d, sender on CPU %d: %d frames, sendto to epoll return p10 %.1f, p50 %.1f, "
		       "p90 %.1f, p99 %.1f us\n", rcpu, scpu, k, d[k / 10] / 1e3, d[k / 2] / 1e3,
		       d[k * 9 / 10] / 1e3, d[k * 99 / 100] / 1e3);
	munmap(ring, (size_t)BLOCK_SZ * WAKE_BLOCKS);
	close(ep);
	close(fd);
	free(d);
}

static void send_both(pthread_t t[2])
{
	for (long c = 0; c < 2; c++)
		pthread_create(&t[c], NULL, sender, (void *)c);
}

int main(int argc, char **argv)
{
	const unsigned int nframes = BLOCK_SZ / FRAME_SZ * BLOCKS;
	struct epoll_event ev;
	uint64_t wakes = 0, empty = 0, frames = 0, max_ns = 0, hist[6] = { 0 }, end;
	unsigned int idx = 0;
	int fd, ep;
	pthread_t t[2];
	uint8_t *ring;

	if (argc < 5 || (strcmp(argv[1], "race") && strcmp(argv[1], "wake"))) {
		fprintf(stderr, "usage: afp_probe race IF_TX IF_RX|- SECONDS [DST_MAC]\n"
				"       afp_probe wake IF_TX IF_RX COUNT\n");
		return 2;
	}
	if_tx = argv[2];
	if_rx = argv[3];
	if (strcmp(argv[1], "wake") == 0) {
		static const int place[4][2] = { { 0, 1 }, { 1, 0 }, { 0, 0 }, { 1, 1 } };

		for (int i = 0; i < 4; i++)
			wake_once(atoi(argv[4]), place[i][0], place[i][1]);
		return 0;
	}
	secs = atof(argv[4]);
	if (argc > 5 && sscanf(argv[5], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dst[0], &dst[1], &dst[2], &dst[3],
			       &dst[4], &dst[5]) != 6) {
		fprintf(stderr, "afp_probe: %s: not a MAC address\n", argv[5]);
		return 2;
	}
	if (strcmp(if_rx, "-") == 0) {
		send_both(t);
		for (int c = 0; c < 2; c++)
			pthread_join(t[c], NULL);
		return 0;
	}
	ring = rx_ring(if_rx, ETH_P_ALL, BLOCKS, &fd, &ep);
	send_both(t);
	end = now_ns() + (uint64_t)(secs * 1e9) + 200000000ull;
	while (now_ns() < end) {
		volatile struct tpacket2_hdr *h = (void *)(ring + (size_t)idx * FRAME_SZ);

		if (epoll_wait(ep, &ev, 1, 100) <= 0)
			continue;
		wakes++;
		if (!(slot_status(h) & TP_STATUS_USER)) {
			/* readable, yet the slot taken next is still the kernel's: for how long? */
			uint64_t t0 = now_ns(), w;

			empty++;
			while (!(slot_status(h) & TP_STATUS_USER) && now_ns() - t0 < SPIN_MAX_NS)
				;
			w = now_ns() - t0;
			if (w > max_ns)
				max_ns = w;
			hist[w < 1000 ? 0 : w < 10000 ? 1 : w < 100000 ? 2 : w < 1000000 ? 3 : w < SPIN_MAX_NS ? 4 : 5]++;
		}
		for (;;) {
			h = (void *)(ring + (size_t)idx * FRAME_SZ);
			if (!(slot_status(h) & TP_STATUS_USER))
				break;
			__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
			idx = (idx + 1) % nframes;
			frames++;
		}
	}
	for (int c = 0; c < 2; c++)
		pthread_join(t[c], NULL);
	printf("wake-ups %lu, frames %lu, empty wake-ups %lu; the slot was ready after <1 us %lu, <10 us %lu, "
	       "<100 us %lu, <1 ms %lu, <10 ms %lu, not within 10 ms %lu; longest %.1f us\n",
	       (unsigned long)wakes, (unsigned long)frames, (unsigned long)empty, (unsigned long)hist[0],
	       (unsigned long)hist[1], (unsigned long)hist[2], (unsigned long)hist[3], (unsigned long)hist[4],
	       (unsigned long)hist[5], max_ns / 1000.0);
	return 0;
}
