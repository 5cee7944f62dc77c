/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The files of one listeners[i].tls.certificates[j]: read and checked as the
 * configuration is (config_tls.c), and read again, with the same checks, by
 * whoever builds TLS contexts from a loaded configuration (secondary/tls/).
 * The checks: docs/CONFIG.md, "listeners[i].tls".
 */
#ifndef PORTER_CONFIG_TLS_H
#define PORTER_CONFIG_TLS_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "config/config-t.h"

#define PORTER_TLS_MIN_RSA_BITS 2048
#define PORTER_TLS_MAX_CHAIN    8       /* leaf + intermediates in one cert file */

/* porter_tls_files.failed: the setting whose file is at fault */
enum {
	PORTER_TLS_FILE_CERT = 1,
	PORTER_TLS_FILE_KEY,
};

struct porter_tls_files {
	X509 *leaf;
	STACK_OF(X509) *chain;          /* the intermediates, in file order (maybe none) */
	EVP_PKEY *key;
	int failed;                     /* on failure: PORTER_TLS_FILE_* */
	char why[400];                  /* on failure: the PEM path and the reason (never key bytes) */
};

/*
 * Read TC->cert and TC->key (paths as resolved by the parser) and check them.
 * 0: *F holds the leaf, its intermediates and the key (porter_tls_files_free()).
 * -1: F->failed and F->why say what is wrong; nothing is held.
 */
int porter_tls_files_load(const struct porter_cfg_tls_cert *tc, struct porter_tls_files *f);
void porter_tls_files_free(struct porter_tls_files *f);

#endif
