/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every shared object name in one place, formatted into the caller's buffer
 * (no static buffers). DPDK scopes them by --file-prefix already.
 * Also the printable names of the enums of porter-shm-t.h.
 */
#ifndef PORTER_SHM_NAMES_H
#define PORTER_SHM_NAMES_H

#include <stddef.h>
#include "shm/porter-shm-t.h"

#define PORTER_NAME_LEN 32              /* fits RTE_MEMZONE_NAMESIZE and ring names */

#define PORTER_MZ_GLOBAL   "porter_global"
#define PORTER_POOL_MBUF   "porter_mbuf"
#define PORTER_MP_ATTACH   "porter_attach"   /* rte_mp action: worker asks for its grant */
#define PORTER_MP_STANDBY  "porter_standby"  /* rte_mp action: a standby says it is attached and waits */

/* The file a worker writes its stream dump to, in the DPDK runtime dir of the prefix. */
int porter_name_stream_dump(char *buf, size_t len, const char *runtime_dir, unsigned int shard);

/* Return 0, or -1 if SHARD is out of range or the buffer too small. */
int porter_name_shard_mz(char *buf, size_t len, unsigned int shard);
int porter_name_rx_ring(char *buf, size_t len, unsigned int shard);
int porter_name_tx_ring(char *buf, size_t len, unsigned int shard);

const char *porter_pdrop_name(enum porter_pdrop r);
const char *porter_wdrop_name(enum porter_wdrop r);
const char *porter_slot_state_name(unsigned int s);
const char *porter_port_wait_name(unsigned int w);     /* enum porter_port_wait */
const char *porter_port_driver_name(unsigned int d);   /* enum porter_port_driver */

/*
 * Check a region header: magic, kind, major. Returns 0 if compatible; else -1
 * with a one-line reason naming both versions in err.
 */
int porter_shm_hdr_check(const struct porter_shm_hdr *h, uint32_t kind, uint32_t region_size,
			 char *err, size_t errlen);
void porter_shm_hdr_init(struct porter_shm_hdr *h, uint32_t kind, uint32_t region_size);

#endif
