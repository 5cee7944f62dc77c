/* SPDX-License-Identifier: BSD-3-Clause */
/* Test certificates made with libcrypto: see tls_testcerts.h. */
#include "tls_testcerts.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

int tc_dir_make(char dir[TC_PATH_LEN])
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, TC_PATH_LEN, "%s/porter-tls-XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

void tc_dir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[TC_PATH_LEN];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		tc_path(p, dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

void tc_path(char dst[TC_PATH_LEN], const char *dir, const char *name)
{
	if (snprintf(dst, TC_PATH_LEN, "%s/%s", dir, name) >= TC_PATH_LEN)
		dst[0] = '\0';         /* an empty path: the test's open fails loudly */
}

EVP_PKEY *tc_key_ec(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

EVP_PKEY *tc_key_rsa(int bits)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

/* Extension NID with value V on X, issued by ISSUER. */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *v)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, v);
	if (e == NULL)
		return -1;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok == 1 ? 0 : -1;
}

X509 *tc_cert(EVP_PKEY *key, const char *cn, const char *const *sans, X509 *issuer, EVP_PKEY *issuer_key,
	      long not_before_s, long not_after_s, bool ca)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char serial[8];
	BIGNUM *bn = NULL;
	char san[1024] = "";
	size_t used = 0;

	if (x == NULL || name == NULL)
		goto fail;
	if (X509_set_version(x, 2) != 1 || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto fail;
	if (X509_gmtime_adj(X509_getm_notBefore(x), not_before_s) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), not_after_s) == NULL)
		goto fail;
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name) != 1 ||
	    X509_set_pubkey(x, key) != 1)
		goto fail;
	if (add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE") != 0 ||
	    add_ext(x, issuer != NULL ? issuer : x, NID_key_usage,
		    ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment") != 0 ||
	    add_ext(x, issuer != NULL ? issuer : x, NID_subject_key_identifier, "hash") != 0)
		goto fail;
	if (issuer != NULL && add_ext(x, issuer, NID_authority_key_identifier, "keyid:always") != 0)
		goto fail;
	for (size_t i = 0; sans != NULL && sans[i] != NULL; i++)
		used += (size_t)snprintf(san + used, sizeof(san) - used, "%sDNS:%s", i == 0 ? "" : ",", sans[i]);
	if (used > 0 && add_ext(x, issuer != NULL ? issuer : x, NID_subject_alt_name, san) != 0)
		goto fail;
	if (X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) == 0)
		goto fail;
	BN_free(bn);
	X509_NAME_free(name);
	return x;
fail:
	BN_free(bn);
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}

int tc_write_certs(const char *path, X509 *const *certs, int n)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (f == NULL)
		return -1;
	for (int i = 0; i < n && rc == 0; i++)
		rc = PEM_write_X509(f, certs[i]) == 1 ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

int tc_write_key(const char *path, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL)
		return -1;
	rc = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1 ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

int tc_write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL)
		return -1;
	rc = fputs(text, f) >= 0 ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}
