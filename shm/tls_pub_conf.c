/* SPDX-License-Identifier: BSD-3-Clause */
/* The TLS listeners' settings as the workers read them (shm/tls-pub-t.h). */
#include <string.h>

#include "shm/tls-pub-t.h"
#include "shm/tls_pub_conf.h"

void tls_pub_conf_fill(struct porter_tls_pub_conf *c, const struct porter_config *cfg, uint64_t generation)
{
	uint32_t n = 0;

	memset(c, 0, sizeof(*c));
	memcpy(c->path, cfg->path, sizeof(c->path));
	c->path[sizeof(c->path) - 1] = '\0';
	for (uint32_t i = 0; i < cfg->listener_count && i < PORTER_CFG_MAX_LISTENERS; i++) {
		const struct porter_cfg_listener *l = &cfg->listeners[i];
		struct porter_tls_pub_listener *pl = &c->listeners[n];

		if (!l->tls)
			continue;
		pl->port = l->port;
		pl->index = (uint8_t)i;
		pl->tls_protocols = l->tls_protocols;
		pl->tls_alpn = l->tls_alpn;
		pl->tls_cipher_count = l->tls_cipher_count;
		memcpy(pl->tls_ciphers, l->tls_ciphers, sizeof(l->tls_ciphers));
		pl->tls_cert_first = l->tls_cert_first;
		pl->tls_cert_count = l->tls_cert_count;
		n++;
	}
	c->listener_count = n;
	c->tls_cert_count = cfg->tls_cert_count < PORTER_CFG_MAX_TLS_CERTS ? cfg->tls_cert_count
									   : PORTER_CFG_MAX_TLS_CERTS;
	memcpy(c->tls_certs, cfg->tls_certs, sizeof(c->tls_certs));
	c->generation = generation;
}

void tls_pub_publish(struct porter_tls_pub *pub, const struct porter_config *cfg, uint64_t generation)
{
	/* the copy no worker reads: the other one is published */
	uint32_t next = !(__atomic_load_n(&pub->active, __ATOMIC_RELAXED) & 1);

	tls_pub_conf_fill(&pub->conf[next], cfg, generation);
	__atomic_store_n(&pub->active, next, __ATOMIC_RELEASE);
	__atomic_store_n(&pub->generation, generation, __ATOMIC_RELEASE);
}
