/* SPDX-License-Identifier: BSD-3-Clause */
/* Printable names of the TCP states and counters of tcp-t.h. */
#ifndef PORTER_TCP_NAMES_H
#define PORTER_TCP_NAMES_H

#include "secondary/tcp/tcp-t.h"

const char *tcp_state_name(unsigned int st);
const char *tcp_drop_name(unsigned int r);
const char *tcp_event_name(unsigned int e);

#endif
