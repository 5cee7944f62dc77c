/* SPDX-License-Identifier: BSD-3-Clause */
/* Arming crash points in porter-worker-crash (secondary/crash_worker.c). */
#ifndef PORTER_CRASH_WORKER_H
#define PORTER_CRASH_WORKER_H

#ifdef PORTER_CRASH_POINTS
void crash_worker_start(void);   /* SIGUSR2 handler, first arming */
void crash_worker_poll(void);    /* re-arm after SIGUSR2 */
#else
static inline void crash_worker_start(void) {}
static inline void crash_worker_poll(void) {}
#endif

#endif
