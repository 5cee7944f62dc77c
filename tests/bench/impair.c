/*
 * impair: a user-space netem for kernels without sch_netem.
 *
 *   impair [options] IFACE_A IFACE_B
 *
 * Bridges two interfaces with AF_PACKET sockets: every frame received on A
 * leaves on B ("ab") and every frame received on B leaves on A ("ba").
 * IPv4 frames are impaired, per direction: dropped with a probability
 * (--loss), held for a constant one-way delay (--delay, ms, fractional), and a
 * fraction of them (--reorder) held an extra --hold ms so that they arrive
 * after frames received later. Every other frame (ARP, IPv6, ...) passes at
 * once. Decisions come from one deterministic PRNG per direction (--seed), so
 * the same seed and the same sequence of frames give the same fates.
 *
 * Options (a bare option sets both directions, -ab / -ba one of them):
 *   --loss[-ab|-ba] P       drop probability, 0..1
 *   --delay[-ab|-ba] MS     one-way delay in ms (e.g. 25 or 0.5)
 *   --reorder[-ab|-ba] P    fraction of (not dropped) frames held back
 *   --hold[-ab|-ba] MS      extra time a reordered frame is held (default 2)
 *   --mtu[-ab|-ba] N        a narrower link with ICMP blocked (a PMTUD black
 *                           hole, RFC 2923 §2.1): IPv4 packets longer than N
 *                           bytes are dropped, always, and nothing says so
 *   --seed N                PRNG seed (default 1)
 *   --spare-syn             never impair a TCP SYN (or SYN-ACK) nor the next
 *                           IPv4 frame in the same direction (the handshake's
 *                           ACK, or the first segment after the SYN-ACK)
 *   --log FILE              one line per IPv4 frame: time, direction, TCP
 *                           ports/seq/ack/flags/len/win/SACK blocks, fate
 *   --rate[-ab|-ba] B       a bottleneck link of B bytes per second (e.g.
 *                           12.5e6 for 100 Mbit/s): IPv4 frames leave one
 *                           after another, each taking length / B seconds
 *                           (frame length as captured: Ethernet header to
 *                           the end of the IP packet), after the fixed delay
 *   --queue[-ab|-ba] N      at most N frames waiting for the bottleneck link
 *                           (not counting the one being sent); a frame that
 *                           arrives to a full queue is dropped ("overflow").
 *                           Default 1000 (a pfifo's txqueuelen); only with --rate
 *   --police[-ab|-ba] R,B   a dropping token bucket (tc police, a policer):
 *                           R bytes per second, B bytes of burst; an IPv4
 *                           frame finding fewer tokens than its length is
 *                           dropped ("policed")
 *
 * Every frame's time is the kernel's arrival time (SO_TIMESTAMPNS), not the
 * time the impairer read it: a batch read at once after a late wake-up keeps
 * its frames' spacing for the policer, the bottleneck and the log.
 *
 * The order is: policer, loss, bottleneck, delay (+ hold when reordered).
 * With a constant delay the bottleneck before the delay drops and spaces the
 * same frames as one after it, only earlier; it is computed on arrival (the
 * time the link is free again, and the start times of the frames queued for
 * it), so a frame's release time is known when it is queued.
 *
 * Prints "ready" once both sockets are bound. On SIGTERM or SIGINT prints one
 * JSON line of counts per direction (in, lost, reordered, out, send_err,
 * passed = non-IPv4, big = frames too large to hold, sent at once, too_big =
 * dropped by --mtu, max_ip_len = the longest IPv4 packet let through,
 * overflow = bottleneck drops, policed = token-bucket drops, qmax = most
 * frames seen waiting for the bottleneck) and exits; SIGUSR1 prints the same
 * line and goes on. Exits with its parent
 * (PR_SET_PDEATHSIG). Sleeps in ppoll() with the exact time to the next
 * release when idle: no busy polling.
 *
 * Frames are copied into fixed slots of a FIFO per direction and class
 * (normal, reordered): within one class every frame waits the same time, so
 * release times are in arrival order and a FIFO is a priority queue.
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
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOT      2048u           /* bytes per held frame (1514-byte frames + VLAN) */
#define QLEN      (1u << 16)      /* frames per FIFO (power of two) */
#define BATCH     64u
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct frame {
	uint64_t due_ns;
	uint32_t len;
	uint8_t data[SLOT];
};

struct fifo {
	struct frame *f;
	uint32_t head, tail;      /* head: next to send; tail: next free */
};

#define LQLEN     (1u << 17)      /* bottleneck queue bound (power of two, > any --queue) */

struct dir {
	const char *name;
	int in_fd, out_fd;
	double loss, reorder;
	uint64_t delay_ns, hold_ns;
	uint64_t rng;
	struct fifo q[2];         /* 0: normal, 1: reordered */
	unsigned spare;           /* frames still to pass unimpaired after a SYN */
	uint32_t mtu;             /* --mtu: longer IPv4 packets vanish (0 = no limit) */
	/* bottleneck: rate (bytes/s, 0: none), queue bound, when the link is free,
	 * and the start times of the frames admitted (a FIFO, times ascending) */
	double rate;
	uint32_t qlimit;
	uint64_t link_free_ns;
	uint64_t *lq;
	uint32_t lq_head, lq_tail;
	/* policer: rate (bytes/s, 0: none), burst, tokens (bytes), last refill */
	double pol_rate, pol_burst, pol_tokens;
	uint64_t pol_t;
	uint64_t in, lost, reordered, out, send_err, passed, big, full, spared, overflow, policed, qmax,
	         too_big, max_ip_len;
};

/*
 * The bottleneck: the time frame LEN arriving at NOW has been sent on the link
 * (its release time before the fixed delay), or 0 if the queue is full and it
 * is dropped. MAY_DROP 0 (a spared handshake frame) queues it regardless.
 */
static uint64_t link_due(struct dir *d, uint64_t now, uint32_t len, int may_drop)
{
	uint64_t start, ser;

	if (d->rate <= 0)
		return now;
	while (d->lq_head != d->lq_tail && d->lq[d->lq_head & (LQLEN - 1)] <= now)
		d->lq_head++;               /* started sending: no longer waiting */
	uint32_t waiting = d->lq_tail - d->lq_head;

	if (may_drop && waiting >= d->qlimit) {
		d->overflow++;
		return 0;
	}
	start = d->link_free_ns > now ? d->link_free_ns : now;
	ser = (uint64_t)((double)len * 1e9 / d->rate + 0.5);
	d->link_free_ns = start + ser;
	if (start > now) {
		if (waiting + 1 > d->qmax)
			d->qmax = waiting + 1;
		if (waiting < LQLEN) {
			d->lq[d->lq_tail & (LQLEN - 1)] = start;
			d->lq_tail++;
		}
	}
	return start + ser;
}

/* The policer: 1 if frame LEN may pass at NOW (and takes its tokens). */
static int police_ok(struct dir *d, uint64_t now, uint32_t len)
{
	if (d->pol_rate <= 0)
		return 1;
	d->pol_tokens += (double)(now - d->pol_t) * d->pol_rate / 1e9;
	d->pol_t = now;
	if (d->pol_tokens > d->pol_burst)
		d->pol_tokens = d->pol_burst;
	if (d->pol_tokens < len) {
		d->policed++;
		return 0;
	}
	d->pol_tokens -= len;
	return 1;
}

static int spare_syn;

static volatile sig_atomic_t stop_flag, dump_flag;
static FILE *logfp;

static void on_stop(int sig) { (void)sig; stop_flag = 1; }
static void on_dump(int sig) { (void)sig; dump_flag = 1; }

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* splitmix64: one state word per direction, deterministic per seed */
static double rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int open_if(const char *ifname)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	int one = 1, big = 32 << 20;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "impair: no interface %s\n", ifname);
		exit(1);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)))
		perror("impair: SO_RCVBUFFORCE/SO_SNDBUFFORCE");
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)))
		perror("impair: PACKET_IGNORE_OUTGOING");
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)))
		perror("impair: SO_TIMESTAMPNS");
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("bind");
		exit(1);
	}
	return fd;
}

static void log_frame(const struct dir *d, uint64_t t, const uint8_t *p, uint32_t len, const char *fate)
{
	const uint8_t *ip = p + 14, *th;
	unsigned ihl, tl, doff;

	if (len < 34 || (ip[0] >> 4) != 4)
		return;
	ihl = (ip[0] & 15u) * 4u;
	tl = (unsigned)ip[2] << 8 | ip[3];
	if (ip[9] != 6 || len < 14 + ihl + 20) {
		fprintf(logfp, "%.6f %s ip proto=%u len=%u %s\n", t / 1e9, d->name, ip[9], tl, fate);
		return;
	}
	th = ip + ihl;
	doff = (th[12] >> 4) * 4u;
	fprintf(logfp, "%.6f %s %u>%u seq=%u ack=%u fl=%#x len=%u win=%u",
		t / 1e9, d->name, (unsigned)th[0] << 8 | th[1], (unsigned)th[2] << 8 | th[3],
		(unsigned)th[4] << 24 | (unsigned)th[5] << 16 | (unsigned)th[6] << 8 | th[7],
		(unsigned)th[8] << 24 | (unsigned)th[9] << 16 | (unsigned)th[10] << 8 | th[11],
		th[13], tl > ihl + doff ? tl - ihl - doff : 0, (unsigned)th[14] << 8 | th[15]);
	/* SACK blocks, if any */
	if (doff > 20 && len >= 14 + ihl + doff) {
		const uint8_t *o = th + 20, *e = th + doff;

		while (o < e) {
			if (*o == 0)
				break;
			if (*o == 1) {
				o++;
				continue;
			}
			if (o + 1 >= e || o[1] < 2 || o + o[1] > e)
				break;
			if (*o == 5) {
				fputs(" sack", logfp);
				for (unsigned i = 2; i + 8 <= o[1]; i += 8)
					fprintf(logfp, " %u-%u",
						(unsigned)o[i] << 24 | (unsigned)o[i + 1] << 16 | (unsigned)o[i + 2] << 8 | o[i + 3],
						(unsigned)o[i + 4] << 24 | (unsigned)o[i + 5] << 16 | (unsigned)o[i + 6] << 8 | o[i + 7]);
			}
			o += o[1];
		}
	}
	fprintf(logfp, " %s\n", fate);
}

static void send_one(struct dir *d, const uint8_t *p, uint32_t len)
{
	for (int tries = 0; tries < 100; tries++) {
		if (send(d->out_fd, p, len, 0) == (ssize_t)len) {
			d->out++;
			return;
		}
		if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
			break;
		/* the socket's send buffer is full: let the receiver drain it */
		struct pollfd pf = { .fd = d->out_fd, .events = POLLOUT };
		poll(&pf, 1, 1);
	}
	d->send_err++;
}

/* Send every frame of both FIFOs that is due; returns the earliest pending due time or 0. */
static uint64_t release(struct dir *d, uint64_t now)
{
	uint64_t next = 0;

	for (int k = 0; k < 2; k++) {
		struct fifo *q = &d->q[k];
		struct mmsghdr mm[BATCH];
		struct iovec iov[BATCH];

		for (;;) {
			unsigned n = 0;

			while (n < BATCH && q->head + n != q->tail) {
				struct frame *f = &q->f[(q->head + n) & (QLEN - 1)];

				if (f->due_ns > now)
					break;
				iov[n].iov_base = f->data;
				iov[n].iov_len = f->len;
				memset(&mm[n], 0, sizeof(mm[n]));
				mm[n].msg_hdr.msg_iov = &iov[n];
				mm[n].msg_hdr.msg_iovlen = 1;
				n++;
			}
			if (!n)
				break;
			int r = sendmmsg(d->out_fd, mm, n, 0);
			unsigned done = r > 0 ? (unsigned)r : 0;

			d->out += done;
			if (done < n) {
				/* the failed one (and the rest) one at a time, with retries */
				for (unsigned i = done; i < n; i++)
					send_one(d, iov[i].iov_base, (uint32_t)iov[i].iov_len);
			}
			q->head += n;
		}
		if (q->head != q->tail) {
			uint64_t due = q->f[q->head & (QLEN - 1)].due_ns;

			if (!next || due < next)
				next = due;
		}
	}
	return next;
}

/* Read what is waiting on d's input (at most a few batches) and queue or drop it. */
static void receive(struct dir *d)
{
	static uint8_t buf[BATCH][SLOT];
	static uint8_t cbuf[BATCH][CMSG_SPACE(sizeof(struct timespec))];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];

	for (int rounds = 0; rounds < 2; rounds++) {
		for (unsigned i = 0; i < BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = SLOT;
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_control = cbuf[i];
			mm[i].msg_hdr.msg_controllen = sizeof(cbuf[i]);
		}
		int r = recvmmsg(d->in_fd, mm, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);

		if (r <= 0)
			return;
		uint64_t wake = now_ns(), real = real_ns();

		for (int i = 0; i < r; i++) {
			uint8_t *p = buf[i];
			uint32_t len = mm[i].msg_len;
			/* the kernel's arrival time (SO_TIMESTAMPNS, realtime) on our monotonic clock:
			 * frames read in one batch arrived at their own times, not at once */
			uint64_t now = wake;

			for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mm[i].msg_hdr); cm; cm = CMSG_NXTHDR(&mm[i].msg_hdr, cm))
				if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
					struct timespec ts;

					memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
					uint64_t k = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;

					if (k <= real && real - k < wake)
						now = wake - (real - k);
				}

			if (len < 14 || p[12] != 0x08 || p[13] != 0x00) {
				if (len <= SLOT)
					send_one(d, p, len);
				else
					d->send_err++;
				d->passed++;
				continue;
			}
			d->in++;
			if (len > SLOT) {   /* truncated: offloads left on somewhere */
				d->big++;
				d->send_err++;
				continue;
			}
			if (d->mtu) {
				uint32_t ip_len = (uint32_t)p[16] << 8 | p[17];

				if (ip_len > d->mtu) {   /* the narrow link: no ICMP, whatever DF says */
					d->too_big++;
					if (logfp)
						log_frame(d, now, p, len, "TOOBIG");
					continue;
				}
				if (ip_len > d->max_ip_len)
					d->max_ip_len = ip_len;
			}
			if (spare_syn) {
				const uint8_t *ip = p + 14;
				unsigned ihl = (ip[0] & 15u) * 4u;

				if (ip[9] == 6 && len >= 14 + ihl + 14 && (ip[ihl + 13] & 0x02))
					d->spare = 2;     /* the SYN and the frame after it */
				if (d->spare) {
					d->spare--;
					d->spared++;
					if (logfp)
						log_frame(d, now, p, len, "spared");
					struct fifo *q = &d->q[0];
					if (q->tail - q->head < QLEN) {
						struct frame *f = &q->f[q->tail & (QLEN - 1)];

						f->due_ns = link_due(d, now, len, 0) + d->delay_ns;
						f->len = len;
						memcpy(f->data, p, len);
						q->tail++;
					}
					continue;
				}
			}
			if (!police_ok(d, now, len)) {
				if (logfp)
					log_frame(d, now, p, len, "POLICED");
				continue;
			}
			if (d->loss > 0 && rnd(&d->rng) < d->loss) {
				d->lost++;
				if (logfp)
					log_frame(d, now, p, len, "LOST");
				continue;
			}
			uint64_t sent = link_due(d, now, len, 1);

			if (!sent) {
				if (logfp)
					log_frame(d, now, p, len, "OVERFLOW");
				continue;
			}
			int k = d->reorder > 0 && rnd(&d->rng) < d->reorder;
			uint64_t due = sent + d->delay_ns + (k ? d->hold_ns : 0);

			if (logfp)
				log_frame(d, now, p, len, k ? "REORD" : "ok");
			if (k)
				d->reordered++;
			struct fifo *q = &d->q[k];

			if (q->tail - q->head == QLEN) {  /* full: release the oldest early */
				struct frame *f = &q->f[q->head & (QLEN - 1)];

				send_one(d, f->data, f->len);
				q->head++;
				d->full++;
			}
			struct frame *f = &q->f[q->tail & (QLEN - 1)];

			f->due_ns = due;
			f->len = len;
			memcpy(f->data, p, len);
			q->tail++;
		}
		if ((unsigned)r < BATCH)
			return;
	}
}

static void dump(struct dir *d)
{
	printf("{");
	for (int i = 0; i < 2; i++)
		printf("%s\"%s\": {\"in\": %llu, \"lost\": %llu, \"reordered\": %llu, \"out\": %llu, "
		       "\"send_err\": %llu, \"passed\": %llu, \"big\": %llu, \"queue_full\": %llu, \"spared\": %llu, "
		       "\"too_big\": %llu, \"max_ip_len\": %llu, \"overflow\": %llu, \"policed\": %llu, \"qmax\": %llu}",
		       i ? ", " : "", d[i].name, (unsigned long long)d[i].in, (unsigned long long)d[i].lost,
		       (unsigned long long)d[i].reordered, (unsigned long long)d[i].out,
		       (unsigned long long)d[i].send_err, (unsigned long long)d[i].passed,
		       (unsigned long long)d[i].big, (unsigned long long)d[i].full,
		       (unsigned long long)d[i].spared, (unsigned long long)d[i].too_big,
		       (unsigned long long)d[i].max_ip_len, (unsigned long long)d[i].overflow,
		       (unsigned long long)d[i].policed, (unsigned long long)d[i].qmax);
	printf("}\n");
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr, "usage: impair [--loss[-ab|-ba] P] [--delay[-ab|-ba] MS] [--reorder[-ab|-ba] P]\n"
			"              [--hold[-ab|-ba] MS] [--mtu[-ab|-ba] N] [--rate[-ab|-ba] BYTES_PER_S]\n"
			"              [--queue[-ab|-ba] N] [--police[-ab|-ba] RATE,BURST] [--seed N] [--spare-syn]\n"
			"              [--log FILE] IFACE_A IFACE_B\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "loss", 1, 0, 'l' }, { "loss-ab", 1, 0, 'L' }, { "loss-ba", 1, 0, 'M' },
		{ "delay", 1, 0, 'd' }, { "delay-ab", 1, 0, 'D' }, { "delay-ba", 1, 0, 'E' },
		{ "reorder", 1, 0, 'r' }, { "reorder-ab", 1, 0, 'R' }, { "reorder-ba", 1, 0, 'S' },
		{ "hold", 1, 0, 'h' }, { "hold-ab", 1, 0, 'H' }, { "hold-ba", 1, 0, 'I' },
		{ "mtu", 1, 0, 'm' }, { "mtu-ab", 1, 0, 'U' }, { "mtu-ba", 1, 0, 'V' },
		{ "rate", 1, 0, 'b' }, { "rate-ab", 1, 0, 'B' }, { "rate-ba", 1, 0, 'C' },
		{ "queue", 1, 0, 'q' }, { "queue-ab", 1, 0, 'Q' }, { "queue-ba", 1, 0, 'O' },
		{ "police", 1, 0, 'p' }, { "police-ab", 1, 0, 'P' }, { "police-ba", 1, 0, 'K' },
		{ "seed", 1, 0, 's' }, { "log", 1, 0, 'g' }, { "spare-syn", 0, 0, 'y' }, { 0, 0, 0, 0 },
	};
	struct dir d[2] = { { .name = "ab" }, { .name = "ba" } };
	double delay[2] = { 0, 0 }, hold[2] = { 2, 2 };
	long queue[2] = { 1000, 1000 };
	uint64_t seed = 1;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		double v = optarg ? atof(optarg) : 0;

		switch (c) {
		case 'l': d[0].loss = d[1].loss = v; break;
		case 'L': d[0].loss = v; break;
		case 'M': d[1].loss = v; break;
		case 'd': delay[0] = delay[1] = v; break;
		case 'D': delay[0] = v; break;
		case 'E': delay[1] = v; break;
		case 'r': d[0].reorder = d[1].reorder = v; break;
		case 'R': d[0].reorder = v; break;
		case 'S': d[1].reorder = v; break;
		case 'h': hold[0] = hold[1] = v; break;
		case 'H': hold[0] = v; break;
		case 'I': hold[1] = v; break;
		case 'm': d[0].mtu = d[1].mtu = (uint32_t)v; break;
		case 'U': d[0].mtu = (uint32_t)v; break;
		case 'V': d[1].mtu = (uint32_t)v; break;
		case 'b': d[0].rate = d[1].rate = v; break;
		case 'B': d[0].rate = v; break;
		case 'C': d[1].rate = v; break;
		case 'q': queue[0] = queue[1] = atol(optarg); break;
		case 'Q': queue[0] = atol(optarg); break;
		case 'O': queue[1] = atol(optarg); break;
		case 'p': case 'P': case 'K': {
			char *e;
			double r = strtod(optarg, &e), b = *e == ',' ? strtod(e + 1, NULL) : 0;

			if (r <= 0 || b <= 0) {
				fprintf(stderr, "impair: --police wants RATE,BURST (bytes/s, bytes)\n");
				return 2;
			}
			for (int i = 0; i < 2; i++)
				if (c == 'p' || (c == 'P') == (i == 0)) {
					d[i].pol_rate = r;
					d[i].pol_burst = d[i].pol_tokens = b;
				}
			break;
		}
		case 'y': spare_syn = 1; break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'g':
			logfp = fopen(optarg, "w");
			if (!logfp) {
				perror(optarg);
				return 1;
			}
			setvbuf(logfp, NULL, _IOFBF, 1 << 20);
			break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();

	pid_t parent = getppid();

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		return 0;
	prctl(PR_SET_TIMERSLACK, 1ul);    /* wake at the due time, not 50 µs later */

	int fa = open_if(argv[optind]), fb = open_if(argv[optind + 1]);

	for (int i = 0; i < 2; i++) {
		d[i].in_fd = i ? fb : fa;
		d[i].out_fd = i ? fa : fb;
		d[i].delay_ns = (uint64_t)(delay[i] * 1e6);
		d[i].hold_ns = (uint64_t)(hold[i] * 1e6);
		d[i].rng = seed * 2 + (uint64_t)i + 0x1234567ull;
		if (queue[i] < 1 || queue[i] >= (long)LQLEN) {
			fprintf(stderr, "impair: --queue must be 1..%u\n", LQLEN - 1);
			return 2;
		}
		d[i].qlimit = (uint32_t)queue[i];
		d[i].pol_t = now_ns();
		if (d[i].rate > 0) {
			d[i].lq = malloc(sizeof(uint64_t) * LQLEN);
			if (!d[i].lq) {
				perror("malloc");
				return 1;
			}
		}
		for (int k = 0; k < 2; k++) {
			d[i].q[k].f = malloc(sizeof(struct frame) * QLEN);
			if (!d[i].q[k].f) {
				perror("malloc");
				return 1;
			}
		}
	}

	sigset_t block, none;
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &none);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_dump;
	sigaction(SIGUSR1, &sa, NULL);
	sigdelset(&none, SIGTERM);
	sigdelset(&none, SIGINT);
	sigdelset(&none, SIGUSR1);

	printf("ready\n");
	fflush(stdout);

	struct pollfd pf[2] = { { .fd = fa, .events = POLLIN }, { .fd = fb, .events = POLLIN } };

	while (!stop_flag) {
		uint64_t now = now_ns(), next = 0;

		for (int i = 0; i < 2; i++) {
			uint64_t n = release(&d[i], now);

			if (n && (!next || n < next))
				next = n;
		}
		struct timespec ts, *tp = NULL;

		if (next) {
			now = now_ns();
			uint64_t w = next > now ? next - now : 0;

			ts.tv_sec = (time_t)(w / 1000000000ull);
			ts.tv_nsec = (long)(w % 1000000000ull);
			tp = &ts;
			if (!w)
				continue;
		}
		int r = ppoll(pf, 2, tp, &none);

		if (r < 0) {
			if (errno == EINTR) {
				if (dump_flag) {
					dump_flag = 0;
					dump(d);
				}
				continue;
			}
			perror("ppoll");
			break;
		}
		for (int i = 0; i < 2; i++)
			if (pf[i].revents & POLLIN)
				receive(&d[i]);
	}
	if (logfp)
		fclose(logfp);
	dump(d);
	return 0;
}
