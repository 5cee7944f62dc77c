/* SPDX-License-Identifier: BSD-3-Clause */
/* Hugepage files and the DPDK runtime directory removed whatever ends the primary (reaper.c). */
#ifndef PORTER_REAPER_H
#define PORTER_REAPER_H

#include <stdbool.h>

/*
 * Fork the reaper (before EAL init: the process is single-threaded then).
 * Returns the pipe's write end the primary keeps open for its whole life, or
 * -1 (no reaper: a clean exit still cleans up).
 */
int reaper_start(const char *prefix);

/* EAL init is over: tell the reaper the runtime directory it is to remove. */
void reaper_arm(int fd, const char *runtime_dir);

/*
 * Remove the hugepage files of PREFIX and RUNTIME_DIR ("" = none). CAREFUL:
 * only what no live process holds a lock on. Returns how many were left.
 */
unsigned int leftovers_remove(const char *prefix, const char *runtime_dir, bool careful);

#endif
