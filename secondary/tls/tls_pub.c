/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's TLS contexts from the published copies of memzone porter_tls
 * (secondary/tls/tls_pub.h, shm/tls-pub-t.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "secondary/tls/tls_pub.h"

/* How often a refresh copies the active copy again when a publication moved under it. */
#define COPY_TRIES 4

#define set_err porter_errf   /* config/config.h */

/* SRC (a fixed char array of shared memory) into DST of the same size, always terminated. */
#define COPY_STR(dst, src)                                      \
	do {                                                    \
		memcpy((dst), (src), sizeof(dst));              \
		(dst)[sizeof(dst) - 1] = '\0';                  \
	} while (0)

/*
 * The private configuration of PC: only what tls_conf_new() reads (the TLS
 * listeners at their own index, the certificates, the file's path). PC may
 * lie in shared memory that a primary writes: every count and index is
 * checked against the arrays it indexes, every string terminated, so a torn
 * or foreign copy gives an error, not a read out of bounds.
 */
static int cfg_from_pub(struct porter_config *cfg, const struct porter_tls_pub_conf *pc, char *err, size_t errlen)
{
	uint32_t nl = pc->listener_count, nc = pc->tls_cert_count;

	COPY_STR(cfg->path, pc->path);
	if (nl > PORTER_TLS_PUB_MAX_LISTENERS || nc > PORTER_CFG_MAX_TLS_CERTS) {
		set_err(err, errlen, "%s: published TLS settings of generation %lu: %u listeners, %u certificates "
			"(at most %u and %u)", cfg->path, (unsigned long)pc->generation, nl, nc,
			PORTER_TLS_PUB_MAX_LISTENERS, PORTER_CFG_MAX_TLS_CERTS);
		return -1;
	}
	for (uint32_t k = 0; k < nl; k++) {
		const struct porter_tls_pub_listener *pl = &pc->listeners[k];
		struct porter_cfg_listener *l;

		if (pl->index >= PORTER_CFG_MAX_LISTENERS || cfg->listeners[pl->index].tls ||
		    pl->tls_cipher_count > PORTER_TLS_CIPHER_COUNT || pl->tls_cert_count == 0 ||
		    (uint32_t)pl->tls_cert_first + pl->tls_cert_count > nc) {
			set_err(err, errlen, "%s: listeners[%u].tls: published settings of generation %lu out of range "
				"(ciphers %u, certificates %u + %u of %u)", cfg->path, pl->index,
				(unsigned long)pc->generation, pl->tls_cipher_count, pl->tls_cert_first,
				pl->tls_cert_count, nc);
			return -1;
		}
		l = &cfg->listeners[pl->index];
		l->port = pl->port;
		l->tls = true;
		l->tls_protocols = pl->tls_protocols;
		l->tls_alpn = pl->tls_alpn;
		l->tls_cipher_count = pl->tls_cipher_count;
		memcpy(l->tls_ciphers, pl->tls_ciphers, sizeof(l->tls_ciphers));
		l->tls_cert_first = pl->tls_cert_first;
		l->tls_cert_count = pl->tls_cert_count;
		/* listeners in between stay zero: no tls, tls_conf_new() passes them */
		if (cfg->listener_count < (uint32_t)pl->index + 1)
			cfg->listener_count = (uint32_t)pl->index + 1;
	}
	cfg->tls_cert_count = nc;
	for (uint32_t j = 0; j < nc; j++) {
		const struct porter_cfg_tls_cert *s = &pc->tls_certs[j];
		struct porter_cfg_tls_cert *d = &cfg->tls_certs[j];

		COPY_STR(d->cert, s->cert);
		COPY_STR(d->key, s->key);
		d->name_count = s->name_count < PORTER_CFG_TLS_MAX_NAMES ? s->name_count : PORTER_CFG_TLS_MAX_NAMES;
		for (uint32_t n = 0; n < d->name_count; n++)
			COPY_STR(d->names[n], s->names[n]);
	}
	return 0;
}

struct tls_conf *tls_pub_build(const struct porter_tls_pub_conf *pc, char *err, size_t errlen)
{
	return tls_pub_build_hooks(pc, NULL, err, errlen);
}

struct tls_conf *tls_pub_build_hooks(const struct porter_tls_pub_conf *pc, const struct tls_conf_hooks *hooks,
				     char *err, size_t errlen)
{
	/* struct porter_config is large (upstreams, routes): heap, not the worker's stack */
	struct porter_config *cfg = calloc(1, sizeof(*cfg));
	struct tls_conf *tc = NULL;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (cfg == NULL) {
		set_err(err, errlen, "TLS settings of generation %lu: %s", (unsigned long)pc->generation,
			strerror(ENOMEM));
		return NULL;
	}
	if (cfg_from_pub(cfg, pc, err, errlen) == 0)
		tc = tls_conf_new(cfg, pc->generation, hooks, err, errlen);
	free(cfg);
	return tc;
}

/*
 * The copy PUB publishes as generation GEN into DST, or -1 when a
 * publication moved meanwhile. The primary rewrites a copy only after it has
 * published the other one (a later reload), and bumps `generation` after it
 * stores `active`: the copy read is whole when the generation is the same
 * before and after and the copy itself says GEN.
 */
static int copy_published(struct porter_tls_pub_conf *dst, const struct porter_tls_pub *pub, uint64_t gen)
{
	uint32_t a = __atomic_load_n(&pub->active, __ATOMIC_ACQUIRE) & 1;

	memcpy(dst, (const void *)&pub->conf[a], sizeof(*dst));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&pub->generation, __ATOMIC_RELAXED) != gen ||
	    (__atomic_load_n(&pub->active, __ATOMIC_RELAXED) & 1) != a || dst->generation != gen)
		return -1;
	return 0;
}

int tls_pub_refresh(struct tls_pub_state *st, const struct porter_tls_pub *pub, char *err, size_t errlen)
{
	struct porter_tls_pub_conf *pc;
	struct tls_conf *tc;
	uint64_t gen;
	int tries;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (pub == NULL)
		return 0;
	/* the one load of every loop iteration */
	gen = __atomic_load_n(&pub->generation, __ATOMIC_ACQUIRE);
	if (gen == st->gen || gen == st->failed_gen || gen == 0)
		return 0;

	/* a copy (28 KiB) in private memory: the build reads the files, which takes long enough
	 * for two reloads to rewrite the shared copy underneath */
	pc = malloc(sizeof(*pc));
	if (pc == NULL) {
		set_err(err, errlen, "TLS settings of generation %lu: %s", (unsigned long)gen, strerror(ENOMEM));
		return -1;          /* not remembered as failed: the next call tries again */
	}
	for (tries = 0; tries < COPY_TRIES; tries++) {
		if (copy_published(pc, pub, gen) == 0)
			break;
		gen = __atomic_load_n(&pub->generation, __ATOMIC_ACQUIRE);
	}
	if (tries == COPY_TRIES) {
		free(pc);
		return 0;           /* still moving: the next call looks again */
	}
	tc = tls_pub_build_hooks(pc, st->hooks, err, errlen);
	free(pc);
	if (tc == NULL) {
		st->failed_gen = gen;
		st->failures++;
		return -1;
	}
	tls_conf_put(st->cur);      /* SSLs made from it keep their contexts */
	st->cur = tc;
	st->gen = gen;
	st->builds++;
	return 1;
}

void tls_pub_release(struct tls_pub_state *st)
{
	tls_conf_put(st->cur);
	memset(st, 0, sizeof(*st));
}
