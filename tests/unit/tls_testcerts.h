/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Certificates and keys made at test time with libcrypto (OpenSSL 3), written
 * as PEM into a temporary directory the test removes: no private key is ever
 * committed. A test makes a CA, signs leaves with SANs under it (or under an
 * intermediate), and writes chains and keys where the configuration names
 * them.
 */
#ifndef PORTER_TESTS_TLS_TESTCERTS_H
#define PORTER_TESTS_TLS_TESTCERTS_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define TC_PATH_LEN 256

/* A temporary directory: mkdtemp under $TMPDIR (or /tmp). Returns 0 or -1. */
int tc_dir_make(char dir[TC_PATH_LEN]);
/* Remove every file in DIR, then DIR (files only: tests write no sub-directories). */
void tc_dir_remove(const char *dir);
/* DIR/NAME into DST. */
void tc_path(char dst[TC_PATH_LEN], const char *dir, const char *name);

/* A new P-256 key, or an RSA key of BITS; NULL on failure. */
EVP_PKEY *tc_key_ec(void);
EVP_PKEY *tc_key_rsa(int bits);

/*
 * A certificate for KEY with subject CN=CN and the DNS names SANS (NULL-
 * terminated, may be NULL), valid from now + NOT_BEFORE_S to now + NOT_AFTER_S
 * (seconds, negative: in the past), signed by ISSUER / ISSUER_KEY (NULL, NULL:
 * self-signed). CA: basicConstraints CA:TRUE and keyCertSign. NULL on failure.
 */
X509 *tc_cert(EVP_PKEY *key, const char *cn, const char *const *sans, X509 *issuer, EVP_PKEY *issuer_key,
	      long not_before_s, long not_after_s, bool ca);

/* CERTS[0..n) into PATH as PEM, in order; KEY into PATH as unencrypted PKCS#8 PEM. 0 or -1. */
int tc_write_certs(const char *path, X509 *const *certs, int n);
int tc_write_key(const char *path, EVP_PKEY *key);
/* TEXT into PATH. 0 or -1. */
int tc_write_text(const char *path, const char *text);

#endif
