/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The attach exchange over rte_mp (PORTER_MP_ATTACH): a worker asks the
 * primary for its grant on a shard and receives an epoch and two eventfds
 * (fds[0]: the one it sleeps on, fds[1]: the one that wakes the primary).
 */
#ifndef PORTER_SHM_ATTACH_T_H
#define PORTER_SHM_ATTACH_T_H

#include <stdint.h>

struct porter_attach_req {
	uint32_t shard;
	int32_t pid;
	uint16_t major;          /* the worker's layout, for the primary's log */
	uint16_t minor;
};

enum porter_attach_status {
	ATTACH_OK = 0,
	ATTACH_RETRY,            /* the supervisor has not recorded this pid yet */
	ATTACH_REFUSED,          /* see msg */
};

struct porter_attach_rep {
	int32_t status;          /* enum porter_attach_status */
	uint32_t reserved;
	uint64_t epoch;
	char msg[160];
};

#endif
