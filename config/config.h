/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porter configuration: one libconfig file -> one immutable struct.
 *
 * Pure C, no DPDK include. The struct is filled once by porter_config_load()
 * and never written again; callers receive a const pointer. Every error names
 * the file, the line and the setting, in the form
 *     FILE:LINE: SETTING: MESSAGE
 * (LINE is 0 when libconfig cannot tell, e.g. a missing mandatory setting whose
 * parent group has no line either; then the parent's line is used when known).
 *
 * Every setting is a row of the settings table (config_table.h): its type,
 * range, default and whether a reload may change it.
 */
#ifndef PORTER_CONFIG_H
#define PORTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config-t.h"

/*
 * Parse and validate PATH into *out (zeroed first, defaults applied).
 * Returns 0 on success. On failure returns -1 and writes one line
 * "FILE:LINE: SETTING: MESSAGE" (no trailing newline) into err[errlen];
 * *out is then unspecified. Unknown settings are errors (a typo must not be
 * silently ignored).
 */
int porter_config_load(const char *path, struct porter_config *out, char *err, size_t errlen);

/*
 * The same for --check-config: every group is checked to its first error
 * (those about groups that name others, listeners and routes, only when
 * upstreams parsed; the checks across groups only when nothing failed),
 * and every error found goes into err[errlen], one line each, in file
 * order of the groups; *nerr says how many (lines that do not fit in
 * errlen are counted, not written). Returns 0 or -1.
 */
int porter_config_check(const char *path, struct porter_config *out, char *err, size_t errlen,
			unsigned int *nerr);

/* Same, from a string; NAME stands in for the file name in messages. */
int porter_config_parse_string(const char *text, const char *name, struct porter_config *out,
			       char *err, size_t errlen);

/*
 * Reload (porterctl reload, SIGHUP) may change routes, upstreams, http and
 * client_limits but its table_size (static_routes and ports need a restart).
 * Returns 0 when NEW differs from OLD in nothing else; else -1 with
 * "FILE: SETTING: changed; needs a restart" naming the first such setting.
 */
int porter_config_check_reload(const struct porter_config *old, const struct porter_config *new,
			       char *err, size_t errlen);

/*
 * listeners[i].tls.ciphers: the name of each enum porter_tls_cipher, as
 * OpenSSL spells it (and tls.ciphers takes it).
 */
extern const char *const porter_tls_cipher_names[PORTER_TLS_CIPHER_COUNT];

/* "a.b.c.d" (host order out); returns 0 or -1. */
int porter_parse_ipv4(const char *s, uint32_t *out);

/* Format helpers for callers (dst must hold 16 / 18 bytes). */
void porter_fmt_ipv4(uint32_t ip_host, char dst[16]);
/* printf into ERR[ERRLEN] (nothing when ERR is NULL or ERRLEN 0): the error strings of the loaders. */
__attribute__((format(printf, 3, 4)))
void porter_errf(char *err, size_t errlen, const char *fmt, ...);
void porter_fmt_mac(const uint8_t mac[6], char dst[18]);

#endif
