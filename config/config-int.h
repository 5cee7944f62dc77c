/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the parser's files share (config.c, config_table.c, config_lists.c);
 * not for callers outside config/. Error reporting, the generic readers of
 * libconfig settings, the row engine and address syntax.
 */
#ifndef PORTER_CONFIG_INT_H
#define PORTER_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "config/config.h"
#include "config/config_table.h"

#define SETTING_PATH_LEN   160
#define QUOTE_LEN          64           /* longest user value echoed in a message */
#define LCORE_MAX          127          /* RTE_MAX_LCORE (128) - 1 of the Debian DPDK build */

/* Where messages go, and the name that stands for the file. */
struct porter_cfg_ctx {
	const char *name;
	char *err;
	size_t errlen;
	/* porter_config_check: every error, one per line, appended to err (else the first only) */
	bool all;
	unsigned int *nerr;
	/* the configuration being filled (list checks look at the groups read before theirs) */
	const struct porter_config *cfg;
};

/* Errors: one line "FILE:LINE: SETTING: MESSAGE"; all return -1. */
__attribute__((format(printf, 5, 6)))
int fail_at(const struct porter_cfg_ctx *c, const char *file, unsigned line, const char *setting, const char *fmt, ...);
/* Against setting AT (its file and line; the root has line 0). */
__attribute__((format(printf, 4, 5)))
int fail(const struct porter_cfg_ctx *c, const config_setting_t *at, const char *path, const char *fmt, ...);

/* A user string shortened for a message: "abc" or "abcdef...". */
const char *quote(char buf[QUOTE_LEN + 4], const char *s);
const char *type_name(int type);
/* "prefix.key", or "key" at the top level; an overlong name ends in "...". */
void join(char dst[SETTING_PATH_LEN], const char *prefix, const char *key);

/* Generic readers (config.c): absent settings leave *out untouched. */
int check_known(const struct porter_cfg_ctx *c, const config_setting_t *group, const char *prefix,
		const char *const known[]);
int get_group(const struct porter_cfg_ctx *c, const config_setting_t *parent, const char *prefix, const char *key,
	      const config_setting_t **out);
int get_int(const struct porter_cfg_ctx *c, const config_setting_t *group, const char *prefix, const char *key,
	    int64_t lo, int64_t hi, int64_t *out, const config_setting_t **found);
int get_bool(const struct porter_cfg_ctx *c, const config_setting_t *group, const char *prefix, const char *key,
	     bool *out);
int get_str(const struct porter_cfg_ctx *c, const config_setting_t *group, const char *prefix, const char *key,
	    bool mandatory, char *dst, size_t size, const config_setting_t **found);
int get_list(const struct porter_cfg_ctx *c, const config_setting_t *parent, const char *path, const char *key,
	     int lo, int hi, const config_setting_t **out);

/* The row engine (config_table.c). */
/* Every member of G must be a row directly under the rows[0..n) (paths after SKIP chars). */
int rows_check_known(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
		     const struct porter_cfg_row *rows, size_t n, size_t skip);
/* Read row R (a scalar) from group G (path GPATH) into BASE; *found (if not NULL) = the setting. */
int row_read(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath, const struct porter_cfg_row *r,
	     void *base, const config_setting_t **found);
/* A list element EL (path PATH) by table T into BASE: known names, then every row in order. */
int rows_parse(const struct porter_cfg_ctx *c, const config_setting_t *el, const char *path, const struct porter_cfg_table *t,
	       void *base);
/* Fixed group NAME of the root, by the "" table ("eal", "tcp", ...). */
int parse_fixed_group(const struct porter_cfg_ctx *c, const config_setting_t *root, const char *name, struct porter_config *cfg);

/* The lists (config_lists.c). */
int parse_ports(const struct porter_cfg_ctx *c, const config_setting_t *root, struct porter_config *cfg);
int parse_static_routes(const struct porter_cfg_ctx *c, const config_setting_t *root, struct porter_config *cfg);
int parse_upstreams(const struct porter_cfg_ctx *c, const config_setting_t *root, struct porter_config *cfg);
int parse_listeners(const struct porter_cfg_ctx *c, const config_setting_t *root, struct porter_config *cfg);
int parse_routes(const struct porter_cfg_ctx *c, const config_setting_t *root, struct porter_config *cfg);
extern porter_cfg_check_fn check_http_path;
/* listeners[i].tls of listener L (config_tls.c): its settings, its files read and checked. */
int parse_listener_tls(const struct porter_cfg_ctx *c, const config_setting_t *el, const char *pre,
		       const struct porter_cfg_table *lt, struct porter_config *cfg, struct porter_cfg_listener *l);

/* Syntax (config.c). */
int hexval(char ch);
bool all_chars_in(const char *s, const char *extra);
int scan_uint(const char **s, unsigned max, unsigned *out);
uint32_t prefix_mask(unsigned len);
/* A rate_limit setting S (bytes per second, already in range): 0, or PORTER_RATE_MIN at least;
 * *OUT gets shm/rate.h's 16-bit form. */
int porter_cfg_rate(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path, uint16_t *out);
int parse_mac(const char *s, uint8_t mac[6]);
int parse_cidr(const char *s, unsigned min_len, uint32_t *ip, uint8_t *len, char *why, size_t whylen);
int parse_hostport(const char *s, uint32_t *ip, uint16_t *port);
/* Why IP (host order) cannot be an address on subnet NET_IP/LEN; NULL if it can. */
const char *bad_host(uint32_t ip, uint32_t net_ip, unsigned len);

#endif
