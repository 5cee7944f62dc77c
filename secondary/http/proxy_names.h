/* SPDX-License-Identifier: BSD-3-Clause */
/* Names of the proxy's counters (enum http_count), as status, logs and metrics show them. */
#ifndef PORTER_PROXY_NAMES_H
#define PORTER_PROXY_NAMES_H

/* "requests", "err_400", ...; "?" for a value out of range. */
const char *proxy_count_name(unsigned int c);

#endif
