/* SPDX-License-Identifier: BSD-3-Clause */
/* Printable names of the TCP states and counters of tcp-t.h, and a reader of the drop counters. */
#ifndef PORTER_TCP_NAMES_H
#define PORTER_TCP_NAMES_H

#include "shm/tcp-t.h"

const char *tcp_state_name(unsigned int st);
const char *tcp_drop_name(unsigned int r);
const char *tcp_event_name(unsigned int e);
const char *tcp_anomaly_name(unsigned int a);   /* enum tcp_anomaly */
const char *tcp_more_name(unsigned int k);      /* enum tcp_more */
/* The count of drop reason R (1..TDROP__COUNT-1) in A, wherever the layout keeps it. */
uint64_t tcp_area_drop(const struct tcp_area *a, unsigned int r);

#endif
