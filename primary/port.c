/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port bring-up: the virtual devices named in the config were created by EAL
 * (--vdev); here they get one RX and one TX queue, RX interrupts where the
 * driver has them, promiscuous mode (net_tap gives the kernel side the port's
 * own MAC, so the stack answers with the MAC from the config instead).
 *
 * What the sleeping primary waits on, per port (porter_port_pmd.wait):
 *
 *   interrupt  the driver's RX interrupt fd (net_tap; net_memif in 22.11
 *              gives none, so it backs off).
 *   pmd_fd     the driver's own kernel socket. net_af_packet and net_af_xdp have
 *              no RX interrupts in DPDK 22.11, but their sockets are pollable:
 *              af_packet's packet_poll() reports EPOLLIN while the last frame the
 *              kernel filled in the TPACKET_V2 RX ring is still the user's,
 *              af_xdp's xsk_poll() while the XSK RX ring is not empty, and the
 *              kernel wakes waiters (sk_data_ready) when it adds frames. So a
 *              level-triggered EPOLLIN on the fd means "rte_eth_rx_burst has
 *              something, or will once the ring slot it takes next is written"
 *              (pmd_wake.h), and a frame that lands after the last empty poll
 *              still wakes the epoll_wait that follows (no lost wake-up, no
 *              arming needed). The fds are the PMD's private ones, found in
 *              /proc/self/fd once the port has started:
 *                af_packet: SO_DOMAIN AF_PACKET, PACKET_VERSION TPACKET_V2,
 *                           getsockname() sll_ifindex = the port's interface;
 *                af_xdp:    SO_DOMAIN AF_XDP sockets that appeared while this
 *                           port was configured and started (an XSK has no
 *                           getsockname(), and this kernel has no xdp_diag).
 *              Only EPOLLIN is asked for: the sockets are always writable.
 *   backoff    neither: timed sleeps of 1..5 ms (main.c), as before.
 *
 * An fd that wakes the primary twice running while rte_eth_rx_burst gets
 * nothing (a ring slot still being written on another CPU, or an empty mbuf
 * pool) would make every sleep return at once; the port is then muted -- its
 * fds stay in the epoll set with no events, and the primary's sleeps are
 * capped at the time muted so far, 20 us to 5 ms -- until it receives again
 * (pmd_wake.h).
 *
 * The same sockets give the driver's losses that rte_eth_stats lacks:
 * af_packet's PACKET_STATISTICS tp_drops (ring full; the kernel resets it on
 * every read, so it is summed into shared memory) and af_xdp's XDP_STATISTICS
 * rx_ring_full and rx_fill_ring_empty_descs.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>

#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "primary/devargs.h"
#include "primary/primary.h"
#include "shm/names.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define MAX_SOCKS 64

int port_index_of(const struct primary *p, uint16_t port_id)
{
	for (unsigned int i = 0; i < p->nports; i++)
		if (p->port_id[i] == port_id)
			return (int)i;
	return -1;
}

/* "net_tap0,iface=porter0" -> "net_tap0" */
static void dev_name(const char *device, char *out, size_t len)
{
	size_t n = strcspn(device, ",");

	if (n >= len)
		n = len - 1;
	memcpy(out, device, n);
	out[n] = '\0';
}

#define CSUM_TX (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
#define CSUM_RX (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM)

/*
 * Checksum offloads (ports[i].checksum_offload): a NIC that computes and
 * checks IPv4 and TCP checksums saves the worker a pass over every segment.
 * "auto" takes them when the device has both directions, except from net_tap,
 * whose "offload" is a software checksum in the primary (the process that
 * already does most of the work on a tap). Returns -1 when "on" cannot be met.
 */
static int csum_offloads(const struct porter_cfg_port *cp, const struct rte_eth_dev_info *di,
			 uint64_t *tx, uint64_t *rx)
{
	bool has_tx = (di->tx_offload_capa & CSUM_TX) == CSUM_TX;
	bool has_rx = (di->rx_offload_capa & CSUM_RX) == CSUM_RX;

	*tx = *rx = 0;
	switch (cp->csum_offload) {
	case PORTER_CSUM_OFFLOAD_OFF:
		return 0;
	case PORTER_CSUM_OFFLOAD_ON:
		if (!has_tx || !has_rx) {
			LOG(ERR, "port %s: checksum_offload = \"on\" but %s offers%s%s", cp->name,
			    di->driver_name, has_tx ? "" : " no TX IPv4+TCP checksum",
			    has_rx ? "" : " no RX IPv4+TCP checksum");
			return -1;
		}
		break;
	default:
		if (!has_tx || !has_rx || strcmp(di->driver_name, "net_tap") == 0)
			return 0;
		break;
	}
	*tx = CSUM_TX;
	*rx = CSUM_RX;
	return 0;
}

static enum porter_port_driver driver_of(const char *name)
{
	static const struct { const char *name; enum porter_port_driver d; } known[] = {
		{ "net_tap", PORT_DRV_TAP },
		{ "net_af_packet", PORT_DRV_AF_PACKET },
		{ "net_af_xdp", PORT_DRV_AF_XDP },
		{ "net_memif", PORT_DRV_MEMIF },
	};

	for (unsigned int i = 0; name != NULL && i < RTE_DIM(known); i++)
		if (strcmp(name, known[i].name) == 0)
			return known[i].d;
	return PORT_DRV_OTHER;
}

/* Sockets of one address family open in this process, by fd and inode. */
struct sock_set {
	unsigned int n;
	int fd[MAX_SOCKS];
	ino_t ino[MAX_SOCKS];
};

static void sockets_of(int domain, struct sock_set *s)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	s->n = 0;
	while (d != NULL && (e = readdir(d)) != NULL && s->n < MAX_SOCKS) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		int dom = -1;
		socklen_t len = sizeof(dom);
		struct stat st;

		if (*end != '\0' || end == e->d_name || fd == dirfd(d))
			continue;
		if (getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) != 0 || dom != domain ||
		    fstat((int)fd, &st) != 0)
			continue;
		s->fd[s->n] = (int)fd;
		s->ino[s->n] = st.st_ino;
		s->n++;
	}
	if (d != NULL)
		closedir(d);
}

static bool sock_in(const struct sock_set *s, int fd, ino_t ino)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (s->fd[i] == fd && s->ino[i] == ino)
			return true;
	return false;
}

static bool fd_claimed(const struct primary *p, unsigned int upto, int fd)
{
	for (unsigned int i = 0; i < upto; i++)
		for (unsigned int k = 0; k < p->wake[i].nfds; k++)
			if (p->wake[i].fd[k] == fd)
				return true;
	return false;
}

/* The interface index behind port I: the driver's, else iface= of the device string. */
static int port_ifindex(const struct primary *p, unsigned int i, const struct rte_eth_dev_info *info)
{
	char ifname[IF_NAMESIZE];

	if (info->if_index > 0)
		return (int)info->if_index;
	if (devarg_get(p->cfg->ports[i].device, "iface", ifname, sizeof(ifname)))
		return (int)if_nametoindex(ifname);
	return 0;
}

/* af_packet: the PMD's TPACKET_V2 sockets bound to IFINDEX (one per queue pair). */
static void find_af_packet_fds(struct primary *p, unsigned int i, int ifindex)
{
	struct port_wake *w = &p->wake[i];
	struct sock_set all;

	sockets_of(AF_PACKET, &all);
	for (unsigned int k = 0; k < all.n && w->nfds < PORT_MAX_PMD_FDS; k++) {
		struct sockaddr_ll sll;
		socklen_t len = sizeof(sll);
		int ver = -1;
		socklen_t vlen = sizeof(ver);

		memset(&sll, 0, sizeof(sll));
		if (getsockname(all.fd[k], (struct sockaddr *)&sll, &len) != 0 ||
		    sll.sll_family != AF_PACKET || sll.sll_ifindex != ifindex ||
		    getsockopt(all.fd[k], SOL_PACKET, PACKET_VERSION, &ver, &vlen) != 0 ||
		    ver != TPACKET_V2 || fd_claimed(p, i, all.fd[k]))
			continue;
		w->fd[w->nfds++] = all.fd[k];
	}
}

/* af_xdp: the XSKs that appeared while port I was set up (BEFORE: what existed). */
static void find_af_xdp_fds(struct primary *p, unsigned int i, const struct sock_set *before)
{
	struct port_wake *w = &p->wake[i];
	struct sock_set all;

	sockets_of(AF_XDP, &all);
	for (unsigned int k = 0; k < all.n && w->nfds < PORT_MAX_PMD_FDS; k++)
		if (!sock_in(before, all.fd[k], all.ino[k]) && !fd_claimed(p, i, all.fd[k]))
			w->fd[w->nfds++] = all.fd[k];
}

static int port_configure(struct primary *p, unsigned int i, uint16_t pid, bool intr)
{
	const struct porter_cfg_dataplane *dp = &p->cfg->dataplane;
	struct rte_eth_conf conf = { 0 };
	uint16_t nb_rx = dp->rx_desc, nb_tx = dp->tx_desc;
	int rc;

	conf.txmode.offloads = p->g->ports[i].tx_csum ? CSUM_TX : 0;
	conf.rxmode.offloads = p->g->ports[i].rx_csum ? CSUM_RX : 0;
	conf.intr_conf.rxq = intr ? 1 : 0;
	rc = rte_eth_dev_configure(pid, 1, 1, &conf);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rx, &nb_tx);
	if (rc < 0)
		return rc;
	rc = rte_eth_rx_queue_setup(pid, 0, nb_rx, rte_eth_dev_socket_id(pid), NULL, p->pool);
	if (rc < 0)
		return rc;
	rc = rte_eth_tx_queue_setup(pid, 0, nb_tx, rte_eth_dev_socket_id(pid), NULL);
	if (rc < 0)
		return rc;
	(void)i;
	return 0;
}

static void log_wait(const struct primary *p, unsigned int i, const char *name)
{
	const struct porter_cfg_port *cp = &p->cfg->ports[i];
	const struct porter_port_pmd *pm = &p->g->port_pmd[i];
	char fds[64] = "", dev[PORTER_CFG_PATH_LEN + 64];
	size_t off = 0;

	if (devargs_with_defaults(cp->device, dev, sizeof(dev)) != strlen(cp->device))
		LOG(NOTICE, "port %s: device \"%s\" (porter's default ring added)", cp->name, dev);
	for (unsigned int k = 0; k < p->wake[i].nfds && off < sizeof(fds); k++)
		off += snprintf(fds + off, sizeof(fds) - off, "%s%d", k ? "," : "", p->wake[i].fd[k]);
	if (pm->wait == PORT_WAIT_PMD_FD)
		LOG(NOTICE, "port %s: ethdev %u (%s, %s), RX wake-ups from the driver's socket (fd %s), "
		    "checksums %s", cp->name, p->port_id[i], name, porter_port_driver_name(pm->driver), fds,
		    p->g->ports[i].tx_csum ? "offloaded" : "in software");
	else if (pm->wait == PORT_WAIT_INTR)
		LOG(NOTICE, "port %s: ethdev %u (%s, %s), RX interrupts, checksums %s", cp->name,
		    p->port_id[i], name, porter_port_driver_name(pm->driver),
		    p->g->ports[i].tx_csum ? "offloaded" : "in software");
	else
		LOG(NOTICE, "port %s: ethdev %u (%s, %s), RX polling with backoff (no interrupt, no "
		    "driver socket found), checksums %s", cp->name, p->port_id[i], name,
		    porter_port_driver_name(pm->driver), p->g->ports[i].tx_csum ? "offloaded" : "in software");
}

static int port_init(struct primary *p, unsigned int i)
{
	const struct porter_cfg_port *cp = &p->cfg->ports[i];
	struct porter_port_info *info = &p->g->ports[i];
	struct porter_port_pmd *pm = &p->g->port_pmd[i];
	struct rte_eth_dev_info dinfo;
	struct sock_set xsk_before = { 0 };
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t pid;
	int rc;
	bool intr = true;

	dev_name(cp->device, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, &pid) != 0) {
		LOG(ERR, "port %s: device %s did not come up (ports[%u].device = \"%s\")",
		    cp->name, name, i, cp->device);
		return -1;
	}
	memset(&dinfo, 0, sizeof(dinfo));
	rc = rte_eth_dev_info_get(pid, &dinfo);
	if (rc < 0) {
		LOG(ERR, "port %s: device info: %s", cp->name, rte_strerror(-rc));
		return -1;
	}
	{
		uint64_t tx, rx;

		if (csum_offloads(cp, &dinfo, &tx, &rx) < 0)
			return -1;
		info->tx_csum = tx != 0;
		info->rx_csum = rx != 0;
	}
	pm->driver = driver_of(dinfo.driver_name);
	if (pm->driver == PORT_DRV_AF_XDP)
		sockets_of(AF_XDP, &xsk_before);   /* its XSK is created in queue setup */

	rc = port_configure(p, i, pid, true);
	if (rc < 0) {
		/* drivers without RX interrupts: sleep on their socket, or back off */
		intr = false;
		rc = port_configure(p, i, pid, false);
	}
	if (rc < 0) {
		LOG(ERR, "port %s: configure: %s", cp->name, rte_strerror(-rc));
		return -1;
	}
	rc = rte_eth_dev_set_mtu(pid, cp->mtu);
	if (rc < 0 && rc != -ENOTSUP)
		LOG(WARNING, "port %s: MTU %u: %s", cp->name, cp->mtu, rte_strerror(-rc));
	rc = rte_eth_dev_start(pid);
	if (rc < 0) {
		LOG(ERR, "port %s: start: %s", cp->name, rte_strerror(-rc));
		return -1;
	}
	rc = rte_eth_promiscuous_enable(pid);
	if (rc < 0)
		LOG(WARNING, "port %s: promiscuous mode: %s", cp->name, rte_strerror(-rc));

	p->rx_intr_fd[i] = -1;
	if (intr) {
		int fd = rte_eth_dev_rx_intr_ctl_q_get_fd(pid, 0);

		if (fd >= 0)
			p->rx_intr_fd[i] = fd;
	}
	p->wake[i].nfds = 0;
	if (p->rx_intr_fd[i] < 0) {
		if (pm->driver == PORT_DRV_AF_PACKET)
			find_af_packet_fds(p, i, port_ifindex(p, i, &dinfo));
		else if (pm->driver == PORT_DRV_AF_XDP)
			find_af_xdp_fds(p, i, &xsk_before);
	}
	pm->nfds = (uint8_t)p->wake[i].nfds;
	pm->wait = p->rx_intr_fd[i] >= 0 ? PORT_WAIT_INTR :
		   p->wake[i].nfds > 0 ? PORT_WAIT_PMD_FD : PORT_WAIT_BACKOFF;
	p->port_id[i] = pid;
	memcpy(p->ifs[i].mac, cp->mac, 6);
	p->ifs[i].ipv4 = cp->ipv4;
	p->ifs[i].prefix_len = cp->prefix_len;

	info->port_id = pid;
	info->mtu = cp->mtu;
	memcpy(info->mac, cp->mac, 6);
	info->prefix_len = cp->prefix_len;
	info->ipv4 = cp->ipv4;
	info->gateway = cp->gateway;
	snprintf(info->name, sizeof(info->name), "%s", cp->name);
	log_wait(p, i, name);
	return 0;
}

static void recompute_backoff(struct primary *p)
{
	p->any_port_backoff = false;
	for (unsigned int i = 0; i < p->nports; i++) {
		const struct porter_port_pmd *pm = &p->g->port_pmd[i];

		if (pm->wait == PORT_WAIT_BACKOFF)
			p->any_port_backoff = true;
	}
}

int ports_init(struct primary *p)
{
	p->nports = p->cfg->port_count;
	for (unsigned int i = 0; i < p->nports; i++) {
		if (port_init(p, i) < 0)
			return -1;
	}
	recompute_backoff(p);
	ports_link_refresh(p);
	return 0;
}

int ports_epoll_add(struct primary *p)
{
	for (unsigned int i = 0; i < p->nports; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_DATA(EV_RX_INTR, i) };

		if (p->rx_intr_fd[i] >= 0 && epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->rx_intr_fd[i], &ev) < 0)
			return -1;
		for (unsigned int k = 0; k < p->wake[i].nfds; k++) {
			ev.data.u64 = EV_DATA(EV_PMD_FD, PMD_FD_IDX(i, k));
			if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wake[i].fd[k], &ev) < 0) {
				LOG(ERR, "port %s: epoll on driver socket fd %d: %s", p->cfg->ports[i].name,
				    p->wake[i].fd[k], strerror(errno));
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Arm (EPOLLIN) or disarm the port's driver fds. Should epoll refuse, the
 * port leaves the mute's state machine for good: its fds are taken out of the
 * epoll set and it is polled with the backoff, as a port with nothing to sleep
 * on (an fd left armed would end every sleep at once, one left disarmed would
 * never wake us).
 */
static void arm_fds(struct primary *p, unsigned int i, bool arm)
{
	struct port_wake *w = &p->wake[i];
	struct porter_port_pmd *pm = &p->g->port_pmd[i];

	for (unsigned int k = 0; k < w->nfds; k++) {
		struct epoll_event ev = { .events = arm ? EPOLLIN : 0,
					  .data.u64 = EV_DATA(EV_PMD_FD, PMD_FD_IDX(i, k)) };

		if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, w->fd[k], &ev) == 0)
			continue;
		LOG(ERR, "port %s: epoll on driver socket fd %d: %s; RX polling with backoff from now on",
		    p->cfg->ports[i].name, w->fd[k], strerror(errno));
		for (unsigned int j = 0; j < w->nfds; j++)
			epoll_ctl(p->epfd, EPOLL_CTL_DEL, w->fd[j], NULL);
		w->nfds = 0;
		pm->nfds = 0;
		pm->muted = 0;
		pm->wait = PORT_WAIT_BACKOFF;
		recompute_backoff(p);
		return;
	}
}

/* epoll reported EVENTS on PMD fd IDX. Called for the sleeping primary only. */
void ports_pmd_woke(struct primary *p, unsigned int idx, uint32_t events)
{
	unsigned int i = idx / PORT_MAX_PMD_FDS, k = idx % PORT_MAX_PMD_FDS;
	struct port_wake *w;
	struct porter_port_pmd *pm;

	if (i >= p->nports || k >= p->wake[i].nfds)
		return;
	w = &p->wake[i];
	pm = &p->g->port_pmd[i];
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* af_packet sets sk_err (ENETDOWN) when its interface goes down; epoll
		 * reports it until read, so read it */
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(w->fd[k], SOL_SOCKET, SO_ERROR, &err, &len);
		if (pm->errors++ < 10)
			LOG(WARNING, "port %s: driver socket fd %d: %s", p->cfg->ports[i].name, w->fd[k],
			    err ? strerror(err) : "hang-up");
	}
	if (events & EPOLLIN)   /* not an error alone (a link going down): that is no frame */
		pmd_wake_woke(&w->st, pm, p->g->port_stats[i].rx_frames);
}

/* After the poll that followed a sleep, and before a sleep while a port is muted: did the
 * drivers' sockets wake us for frames, and has a muted port received since? */
void ports_pmd_after_poll(struct primary *p)
{
	uint64_t now = 0;   /* read only for a port that woke us or is muted */
	uint32_t wait = 0;

	for (unsigned int i = 0; i < p->nports; i++) {
		struct port_wake *w = &p->wake[i];
		struct porter_port_pmd *pm = &p->g->port_pmd[i];

		if (now == 0 && (w->st.woke || pm->muted))
			now = now_us();
		switch (pmd_wake_judge(&w->st, pm, p->g->port_stats[i].rx_frames, now)) {
		case PMD_MUTE:
			arm_fds(p, i, false);
			break;
		case PMD_UNMUTE:
			arm_fds(p, i, true);
			if (w->st.reported)
				LOG(NOTICE, "port %s: receiving again after %" PRIu64 " ms; RX wake-ups from "
				    "the driver's socket", p->cfg->ports[i].name,
				    (now - w->st.muted_at_us) / 1000);
			break;
		case PMD_REPORT:
			LOG(WARNING, "port %s: the driver's socket says frames are waiting but none could be "
			    "received for %" PRIu64 " ms (mbuf pool: %u of %u in use); polling every %u us "
			    "or less until frames come in again (reported at most every %llu s)",
			    p->cfg->ports[i].name, (now - w->st.muted_at_us) / 1000,
			    rte_mempool_in_use_count(p->pool), p->pool->size, PMD_MUTE_MAX_US,
			    PMD_REPORT_EVERY_US / 1000000);
			break;
		case PMD_NOTHING:
			break;
		}
		if (pm->muted && pm->wait == PORT_WAIT_PMD_FD && (wait == 0 || w->st.wait_us < wait))
			wait = w->st.wait_us;
	}
	p->mute_wait_us = wait;
}

void ports_pmd_stats(struct primary *p)
{
	for (unsigned int i = 0; i < p->nports; i++) {
		struct porter_port_pmd *pm = &p->g->port_pmd[i];
		const struct port_wake *w = &p->wake[i];
		uint64_t full = 0, empty = 0;

		for (unsigned int k = 0; k < w->nfds; k++) {
			if (pm->driver == PORT_DRV_AF_PACKET) {
				/* counts since the last read: the kernel zeroes them */
				struct tpacket_stats ts;
				socklen_t len = sizeof(ts);

				if (getsockopt(w->fd[k], SOL_PACKET, PACKET_STATISTICS, &ts, &len) == 0)
					pm->ring_drops += ts.tp_drops;
			} else if (pm->driver == PORT_DRV_AF_XDP) {
				/* totals since the socket was made */
				struct xdp_statistics xs;
				socklen_t len = sizeof(xs);

				memset(&xs, 0, sizeof(xs));
				if (getsockopt(w->fd[k], SOL_XDP, XDP_STATISTICS, &xs, &len) == 0) {
					full += xs.rx_ring_full;
					empty += xs.rx_fill_ring_empty_descs;
				}
			}
		}
		if (pm->driver == PORT_DRV_AF_XDP && w->nfds > 0) {
			pm->ring_drops = full;
			pm->fill_empty = empty;
		}
	}
}

void ports_intr_enable(struct primary *p, bool on)
{
	for (unsigned int i = 0; i < p->nports; i++) {
		if (p->rx_intr_fd[i] < 0)
			continue;
		if (on)
			rte_eth_dev_rx_intr_enable(p->port_id[i], 0);
		else
			rte_eth_dev_rx_intr_disable(p->port_id[i], 0);
	}
}

void ports_link_refresh(struct primary *p)
{
	for (unsigned int i = 0; i < p->nports; i++) {
		struct rte_eth_link link;

		if (rte_eth_link_get_nowait(p->port_id[i], &link) == 0)
			p->g->ports[i].up = link.link_status;
	}
}

void ports_stop(struct primary *p)
{
	ports_pmd_stats(p);   /* af_packet's last counts, before the driver closes its sockets */
	for (unsigned int i = 0; i < p->nports; i++) {
		p->wake[i].nfds = 0;
		rte_eth_dev_stop(p->port_id[i]);
		rte_eth_dev_close(p->port_id[i]);
	}
	p->nports = 0;
}

/* --- transmit (every frame the primary sends goes through here) ----------------------- */

/*
 * Transmit. Frames collect per port and go to the device once per poll round
 * (one tx_burst, one system call on af_packet/af_xdp). A device whose TX queue
 * is full takes part of them; the rest wait, in order, for the next round
 * rather than being dropped: a full queue is usually a peer or a NIC a few
 * microseconds behind (memif's peer, a burst into a NIC), and a dropped
 * segment costs its stream a retransmission timeout. Only when PORT_TXQ frames
 * are already waiting is a frame dropped (counted as tx_full).
 */
void port_xmit(struct primary *p, unsigned int port, struct rte_mbuf *m)
{
	if (p->txn[port] == PORT_TXQ)
		ports_flush_tx(p);
	if (p->txn[port] == PORT_TXQ) {
		p->g->port_stats[port].drops[PDROP_TX_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	p->txbuf[port][p->txn[port]++] = m;
}

void ports_flush_tx(struct primary *p)
{
	for (unsigned int i = 0; i < p->nports; i++) {
		struct porter_port_stats *st = &p->g->port_stats[i];
		unsigned int n = p->txn[i], sent;

		if (n == 0)
			continue;
		sent = rte_eth_tx_burst(p->port_id[i], 0, p->txbuf[i], (uint16_t)n);
		for (unsigned int k = 0; k < sent; k++)
			st->tx_bytes += rte_pktmbuf_pkt_len(p->txbuf[i][k]);
		st->tx_frames += sent;
		if (sent < n) {
			st->tx_requeued += n - sent;
			memmove(p->txbuf[i], p->txbuf[i] + sent, (n - sent) * sizeof(p->txbuf[i][0]));
		}
		p->txn[i] = n - sent;
	}
}

bool ports_tx_backlog(const struct primary *p)
{
	for (unsigned int i = 0; i < p->nports; i++)
		if (p->txn[i])
			return true;
	return false;
}
