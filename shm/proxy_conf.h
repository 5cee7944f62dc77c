/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PORTER_PROXY_CONF_H
#define PORTER_PROXY_CONF_H

#include <stdint.h>

struct porter_proxy_conf;
struct porter_config;

/*
 * The reloadable part of CFG into copy C of the proxy region (what the
 * primary publishes at start and at every reload; the proxy's unit harness
 * publishes the same).
 */
void proxy_conf_fill(struct porter_proxy_conf *c, const struct porter_config *cfg, uint64_t generation);

#endif
