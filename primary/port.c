/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port bring-up: the virtual devices named in the config were created by EAL
 * (--vdev); here they get one RX and one TX queue, RX interrupts where the
 * driver has them, promiscuous mode (net_tap gives the kernel side the port's
 * own MAC, so the stack answers with the MAC from the config instead).
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "primary/primary.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)

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

static int port_init(struct primary *p, unsigned int i)
{
	const struct porter_cfg_port *cp = &p->cfg->ports[i];
	struct porter_port_info *info = &p->g->ports[i];
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
	{
		struct rte_eth_dev_info di;
		uint64_t tx, rx;

		rc = rte_eth_dev_info_get(pid, &di);
		if (rc < 0) {
			LOG(ERR, "port %s: device info: %s", cp->name, rte_strerror(-rc));
			return -1;
		}
		if (csum_offloads(cp, &di, &tx, &rx) < 0)
			return -1;
		info->tx_csum = tx != 0;
		info->rx_csum = rx != 0;
	}
	rc = port_configure(p, i, pid, true);
	if (rc < 0) {
		/* drivers without RX interrupts: poll with an adaptive backoff */
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
	LOG(NOTICE, "port %s: ethdev %u (%s), RX %s, checksums %s", cp->name, pid, name,
	    p->rx_intr_fd[i] >= 0 ? "interrupts" : "polling with backoff",
	    info->tx_csum ? "offloaded" : "in software");
	return 0;
}

int ports_init(struct primary *p)
{
	p->nports = p->cfg->port_count;
	p->all_ports_intr = true;
	for (unsigned int i = 0; i < p->nports; i++) {
		if (port_init(p, i) < 0)
			return -1;
		if (p->rx_intr_fd[i] < 0)
			p->all_ports_intr = false;
	}
	ports_link_refresh(p);
	return 0;
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
	for (unsigned int i = 0; i < p->nports; i++) {
		rte_eth_dev_stop(p->port_id[i]);
		rte_eth_dev_close(p->port_id[i]);
	}
	p->nports = 0;
}
