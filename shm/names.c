/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>
#include "shm/names.h"

static int fmt_shard(char *buf, size_t len, const char *stem, unsigned int shard)
{
	int n;

	if (shard >= PORTER_MAX_SHARDS)
		return -1;
	n = snprintf(buf, len, "%s_%u", stem, shard);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int porter_name_stream_dump(char *buf, size_t len, const char *runtime_dir, unsigned int shard)
{
	int n = snprintf(buf, len, "%s/porter-streams-%u.json", runtime_dir, shard);

	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int porter_name_shard_mz(char *buf, size_t len, unsigned int shard)
{
	return fmt_shard(buf, len, "porter_shard", shard);
}

int porter_name_rx_ring(char *buf, size_t len, unsigned int shard)
{
	return fmt_shard(buf, len, "porter_rx", shard);
}

int porter_name_tx_ring(char *buf, size_t len, unsigned int shard)
{
	return fmt_shard(buf, len, "porter_tx", shard);
}

static const char *const pdrop_names[PDROP__COUNT] = {
	[PDROP_NONE] = "none",
	[PDROP_RUNT] = "runt",
	[PDROP_NOT_OUR_MAC] = "not_our_mac",
	[PDROP_ETHERTYPE] = "ethertype",
	[PDROP_ARP_MALFORMED] = "arp_malformed",
	[PDROP_ARP_NOT_OURS] = "arp_not_ours",
	[PDROP_IP_SHORT] = "ip_short",
	[PDROP_IP_VERSION] = "ip_version",
	[PDROP_IP_IHL] = "ip_ihl",
	[PDROP_IP_LEN] = "ip_len",
	[PDROP_IP_CSUM] = "ip_csum",
	[PDROP_IP_FRAG] = "ip_frag",
	[PDROP_IP_NOT_OURS] = "ip_not_ours",
	[PDROP_IP_BAD_SRC] = "ip_bad_src",
	[PDROP_IP_PROTO] = "ip_proto",
	[PDROP_TCP_SHORT] = "tcp_short",
	[PDROP_ICMP_SHORT] = "icmp_short",
	[PDROP_ICMP_CSUM] = "icmp_csum",
	[PDROP_ICMP_OTHER] = "icmp_other",
	[PDROP_RING_FULL] = "ring_full",
	[PDROP_TX_FULL] = "tx_full",
	[PDROP_NO_NEIGH] = "no_neigh",
	[PDROP_NEIGH_QUEUE_FULL] = "neigh_queue_full",
	[PDROP_NO_ROUTE] = "no_route",
	[PDROP_WORKER] = "worker_freed",
	[PDROP_NOMBUF] = "nombuf",
};

static const char *const wdrop_names[WDROP__COUNT] = {
	[WDROP_NONE] = "none",
	[WDROP_WRONG_SHARD] = "wrong_shard",
};

static const char *const slot_state_names[SLOT__COUNT] = {
	[SLOT_EMPTY] = "empty",
	[SLOT_STARTING] = "starting",
	[SLOT_READY] = "ready",
	[SLOT_STOPPING] = "stopping",
	[SLOT_BACKOFF] = "backoff",
};

static const char *const port_wait_names[PORT_WAIT__COUNT] = {
	[PORT_WAIT_BACKOFF] = "backoff",
	[PORT_WAIT_INTR] = "interrupt",
	[PORT_WAIT_PMD_FD] = "pmd_fd",
};

static const char *const port_driver_names[PORT_DRV__COUNT] = {
	[PORT_DRV_OTHER] = "other",
	[PORT_DRV_TAP] = "net_tap",
	[PORT_DRV_AF_PACKET] = "net_af_packet",
	[PORT_DRV_AF_XDP] = "net_af_xdp",
	[PORT_DRV_MEMIF] = "net_memif",
};

const char *porter_port_wait_name(unsigned int w)
{
	return w < PORT_WAIT__COUNT ? port_wait_names[w] : "?";
}

const char *porter_port_driver_name(unsigned int d)
{
	return d < PORT_DRV__COUNT ? port_driver_names[d] : "?";
}

const char *porter_pdrop_name(enum porter_pdrop r)
{
	return (unsigned int)r < PDROP__COUNT && pdrop_names[r] ? pdrop_names[r] : "?";
}

const char *porter_wdrop_name(enum porter_wdrop r)
{
	return (unsigned int)r < WDROP__COUNT && wdrop_names[r] ? wdrop_names[r] : "?";
}

const char *porter_slot_state_name(unsigned int s)
{
	return s < SLOT__COUNT ? slot_state_names[s] : "?";
}

void porter_shm_hdr_init(struct porter_shm_hdr *h, uint32_t kind, uint32_t region_size)
{
	memset(h, 0, sizeof(*h));
	h->major = PORTER_LAYOUT_MAJOR;
	h->minor = PORTER_LAYOUT_MINOR;
	h->region_size = region_size;
	h->hdr_size = sizeof(*h);
	h->slot_size = sizeof(struct porter_slot);
	h->shard_size = sizeof(struct porter_shard);
	h->kind = kind;
	/* magic last: a reader that sees it sees the rest (the creator publishes
	 * the region only after this anyway) */
	__atomic_store_n(&h->magic, PORTER_SHM_MAGIC, __ATOMIC_RELEASE);
}

int porter_shm_hdr_check(const struct porter_shm_hdr *h, uint32_t kind, uint32_t region_size,
			 char *err, size_t errlen)
{
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != PORTER_SHM_MAGIC) {
		snprintf(err, errlen, "bad magic 0x%08x (expected 0x%08x): not a porter region",
			 h->magic, PORTER_SHM_MAGIC);
		return -1;
	}
	if (h->major != PORTER_LAYOUT_MAJOR) {
		snprintf(err, errlen,
			 "incompatible shared-memory layout: the gateway runs layout %u.%u, "
			 "this binary speaks layout %u.%u",
			 h->major, h->minor, PORTER_LAYOUT_MAJOR, PORTER_LAYOUT_MINOR);
		return -1;
	}
	if (h->kind != kind) {
		snprintf(err, errlen, "region kind %u, expected %u", h->kind, kind);
		return -1;
	}
	/* Same major: a newer minor only adds fields in reserved space, so the
	 * sizes this binary knows must not exceed what the creator laid out. */
	if (h->region_size < region_size || h->hdr_size != sizeof(*h) ||
	    h->slot_size < sizeof(struct porter_slot) || h->shard_size < sizeof(struct porter_shard)) {
		snprintf(err, errlen,
			 "layout %u.%u region is smaller than this binary's layout %u.%u expects "
			 "(region %u < %u)", h->major, h->minor, PORTER_LAYOUT_MAJOR,
			 PORTER_LAYOUT_MINOR, h->region_size, region_size);
		return -1;
	}
	return 0;
}
