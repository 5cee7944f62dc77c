/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS contexts of one configuration generation: one OpenSSL 3 server SSL_CTX
 * per listener that has `tls` (docs/CONFIG.md "listeners[i].tls",
 * docs/TLS.md).
 *
 * Each context is built from the loaded configuration: protocol versions,
 * AEAD-only suites in the configured order (server preference), ALPN
 * (http/1.1 only; a client offering ALPN without it is refused with
 * no_application_protocol, RFC 7301 §3.2), SNI certificate selection (exact
 * name, then a one-label "*.suffix" wildcard, else the first certificate;
 * case-insensitive, a trailing dot ignored), no renegotiation, no
 * compression, no session cache, and session tickets only through the
 * hook in struct tls_conf_hooks (the workers': keys in shared memory,
 * secondary/tls/tls_io.c).
 *
 * Lifetime. A struct tls_conf is reference-counted (tls_conf_get/put). It
 * holds one reference to each of its SSL_CTXs; every SSL made from one holds
 * another (OpenSSL's own count). The certificates and the SNI table of a
 * listener belong to its SSL_CTX and are freed with it, so a reload may build
 * a new generation and put the old one at once: sessions made from the old
 * contexts keep them (and their certificates) until their SSL is freed, and
 * are never touched by the new generation.
 *
 * Pure C on OpenSSL and config/; no DPDK. Not thread-safe but for the
 * reference counts (atomic), as a worker has one thread.
 */
#ifndef PORTER_TLS_CONF_H
#define PORTER_TLS_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "config/config-t.h"

struct tls_conf;

/*
 * Session tickets stay off (SSL_OP_NO_TICKET,
 * no TLS 1.3 tickets) while ticket_key_cb is NULL; with it, the contexts
 * issue NUM_TICKETS tickets (TLS 1.3) and encrypt them with the keys the
 * callback gives (SSL_CTX_set_tlsext_ticket_key_evp_cb(3)): the workers' keys
 * live in shared memory, so that every shard and a restarted worker resume.
 */
struct tls_conf_hooks {
	int (*ticket_key_cb)(SSL *s, unsigned char key_name[16], unsigned char *iv, EVP_CIPHER_CTX *ctx,
			     EVP_MAC_CTX *hctx, int enc);
	unsigned int num_tickets;
};

/*
 * The contexts for every TLS listener of CFG (a configuration that loaded),
 * its certificate and key files read again and checked as the parser does
 * (they may have changed since). HOOKS may be NULL. Returns a tls_conf with
 * one reference, or NULL with "FILE: listeners[i].tls...: REASON" in
 * err[errlen] (a file's fault names the setting; no key material).
 */
struct tls_conf *tls_conf_new(const struct porter_config *cfg, uint64_t generation,
			      const struct tls_conf_hooks *hooks, char *err, size_t errlen);

/* One more reference; returns TC. */
struct tls_conf *tls_conf_get(struct tls_conf *tc);
/* One reference less; at the last, the contexts are put (each freed once no SSL uses it). NULL: nothing. */
void tls_conf_put(struct tls_conf *tc);

uint64_t tls_conf_generation(const struct tls_conf *tc);

/* The context of the TLS listener on PORT (borrowed from TC), or NULL. */
SSL_CTX *tls_conf_ctx(const struct tls_conf *tc, uint16_t port);

/*
 * A server SSL for a new connection to the TLS listener on PORT, in accept
 * state, with no BIO yet; it keeps its context (and certificates) until
 * SSL_free(). NULL when PORT has no TLS or on allocation failure.
 */
SSL *tls_conf_ssl_new(const struct tls_conf *tc, uint16_t port);

/*
 * The certificate chosen for S by SNI: an index into its listener's
 * tls.certificates (0 = the default), or -1 before the ClientHello was
 * processed (or for an SSL not made by tls_conf_ssl_new()).
 */
int tls_conf_ssl_cert(const SSL *s);

/*
 * The certificate the listener on PORT would choose for SERVERNAME (NULL: no
 * SNI): the rule above, as the handshake applies it. -1 when PORT has no TLS.
 */
int tls_conf_select(const struct tls_conf *tc, uint16_t port, const char *servername);

/* Listener contexts of this process not yet freed (all generations): for tests and metrics. */
long tls_conf_live_contexts(void);

#endif
