/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The attach exchange over rte_mp (PORTER_MP_ATTACH): a worker asks the
 * primary for its grant on a shard and receives an epoch and two eventfds
 * (fds[0]: the one it sleeps on, fds[1]: the one that wakes the primary).
 *
 * The standby exchange (PORTER_MP_STANDBY): a worker started with --standby
 * says it has finished its EAL init and attached (layout checked); the
 * primary notes it ready and answers with three eventfds (fds[0]: the
 * hand-over, which the standby blocks on; fds[1], fds[2] as above) and no
 * epoch: the grant comes later, in the slot (pid, then epoch), announced by
 * a write to the hand-over eventfd.
 */
#ifndef PORTER_SHM_ATTACH_T_H
#define PORTER_SHM_ATTACH_T_H

#include <stdint.h>

#include "shm/porter-shm-t.h"

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

struct porter_standby_req {
	uint32_t shard;
	int32_t pid;
	uint16_t major;          /* the standby's layout */
	uint16_t minor;
	char version[48];        /* its version string (PORTER_VERSION_LEN), for porterctl status */
};

struct porter_attach_rep {
	int32_t status;          /* enum porter_attach_status */
	uint32_t reserved;
	uint64_t epoch;
	char msg[160];
};

_Static_assert(sizeof(((struct porter_standby_req *)0)->version) == PORTER_VERSION_LEN,
	       "the standby's version fits the slot's");

#endif
