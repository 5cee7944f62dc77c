/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PORTER_TLS_PUB_CONF_H
#define PORTER_TLS_PUB_CONF_H

#include <stdint.h>

struct porter_tls_pub;
struct porter_tls_pub_conf;
struct porter_config;

/*
 * The TLS listeners and certificates of CFG (a configuration that loaded)
 * into copy C of the porter_tls region (shm/tls-pub-t.h): what the primary
 * publishes at start and at every reload; the unit tests publish the same.
 */
void tls_pub_conf_fill(struct porter_tls_pub_conf *c, const struct porter_config *cfg, uint64_t generation);

/*
 * CFG as generation GENERATION of PUB: fills the copy no worker reads, then
 * stores its index in `active` and GENERATION in `generation` (release
 * order). The primary's reload calls it before it publishes the proxy copy
 * of the same generation. Single writer (the primary's main thread).
 */
void tls_pub_publish(struct porter_tls_pub *pub, const struct porter_config *cfg, uint64_t generation);

#endif
