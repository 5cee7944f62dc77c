/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's TLS contexts from what the primary published (memzone
 * porter_tls, shm/tls-pub-t.h), at start and again after every reload
 * (docs/TLS.md "How the workers get the settings").
 *
 * The worker has no parsed configuration: tls_pub_build() makes one in
 * private memory holding just the TLS listeners and certificates of one
 * published copy, and hands it to tls_conf_new() (secondary/tls/tls_conf.h),
 * which reads the certificate and key files again and checks them as the
 * parser did.
 *
 * tls_pub_refresh() is meant to be called once per loop iteration: when the
 * published generation has not moved it costs one atomic load. When it has,
 * it builds the new generation's contexts; on success the new tls_conf
 * replaces the old one, which is put (an SSL made from the old contexts
 * keeps them until it is freed, see tls_conf.h "Lifetime"); on failure the
 * old one stays and the error is returned for the worker to log. A
 * generation that failed is not tried again (it would read the same files
 * every iteration and log the same line): the next reload publishes another.
 *
 * Pure C on OpenSSL and config/; no DPDK (the unit tests link it). Not
 * thread-safe: a worker has one thread.
 */
#ifndef PORTER_TLS_PUB_H
#define PORTER_TLS_PUB_H

#include <stddef.h>
#include <stdint.h>

#include "secondary/tls/tls_conf.h"
#include "shm/tls-pub-t.h"

/*
 * The contexts of one published copy PC (in shared memory or a private
 * copy), as generation PC->generation, without session-ticket hooks. A
 * tls_conf with one reference, or NULL with "FILE: listeners[i].tls...:
 * REASON" in err[errlen] (FILE is the configuration file; a file's fault
 * names the cert or key setting and the PEM path). A copy whose counts or
 * indices are out of range is refused the same way, never read past.
 */
struct tls_conf *tls_pub_build(const struct porter_tls_pub_conf *pc, char *err, size_t errlen);

/* The same with HOOKS (session tickets, tls_conf.h); NULL: none. */
struct tls_conf *tls_pub_build_hooks(const struct porter_tls_pub_conf *pc, const struct tls_conf_hooks *hooks,
				     char *err, size_t errlen);

/* What one worker holds. Zero-initialised: nothing built yet (published generations start at 1). */
struct tls_pub_state {
	const struct tls_conf_hooks *hooks;   /* given to every build (set before the first refresh) */
	struct tls_conf *cur;       /* the contexts new connections get (NULL until a build succeeded) */
	uint64_t gen;               /* the generation of cur (0: none) */
	uint64_t failed_gen;        /* the last generation whose build failed (0: none) */
	uint64_t builds;            /* generations built and installed */
	uint64_t failures;          /* generations refused (their error returned once) */
};

/*
 * Bring ST up to the generation published in PUB:
 *   0  nothing changed (the same generation as cur, one that failed before,
 *      none published yet, PUB NULL, or a publication in progress: the next
 *      call sees it);
 *   1  a new generation was built and installed in st->cur; the old one was
 *      put (sessions on it keep their contexts);
 *  -1  the new generation could not be built: st->cur is unchanged (it may be
 *      NULL if no generation was ever built) and err[errlen] says why.
 * A connection takes st->cur when it starts (tls_conf_ssl_new(st->cur, port));
 * a caller that keeps st->cur beyond that takes a reference (tls_conf_get).
 */
int tls_pub_refresh(struct tls_pub_state *st, const struct porter_tls_pub *pub, char *err, size_t errlen);

/* Put st->cur and zero ST. */
void tls_pub_release(struct tls_pub_state *st);

#endif
