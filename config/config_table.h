/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The settings table: one row per setting (as nginx's ngx_command_t), giving
 * its name, type, range, default, whether a reload may change it and where
 * it lives (offsetof into struct porter_config, or into one element of a
 * list). The rows drive parsing (known names, types, ranges), the defaults
 * and the reload rules; tests/unit/test_config_table.c walks them and checks
 * docs/CONFIG.md against them.
 *
 * Tables: porter_cfg_tables[] lists one for the fixed groups (eal, workers,
 * dataplane, tcp, http, client_limits, control, metrics; row paths are full:
 * "tcp.keepalive.idle_s") and one per kind of list element (ports[i],
 * static_routes[i], upstreams[i], upstreams[i].servers[j], listeners[i],
 * listeners[i].tls.certificates[j], routes[i]; row paths relative to the
 * element: "keepalive.max_idle").
 *
 * A GROUP row is followed by the rows inside it (their paths start with the
 * group's path and a '.'). Rows are in the order they are read (F_EARLY ones
 * first), which is the order errors are found in, and (fixed groups) the
 * order a refused reload names the first changed setting in.
 */
#ifndef PORTER_CONFIG_TABLE_H
#define PORTER_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "config/config-t.h"

struct porter_cfg_ctx;             /* where messages go (config-int.h) */
struct porter_cfg_row;

enum porter_cfg_type {
	PORTER_CFG_GROUP = 1,      /* a group { ... } holding the rows after it */
	PORTER_CFG_INT,            /* an integer in min..max, stored unsigned in `size` bytes (1, 2, 4, 8) */
	PORTER_CFG_BOOL,           /* true / false, stored as bool */
	PORTER_CFG_STR,            /* a string, stored in char[size] (never truncated); off NONE: read into a
	                              scratch buffer of `size` bytes and only handed to `check` */
	PORTER_CFG_ENUM,           /* a string among names[], stored as its index in `size` bytes */
	PORTER_CFG_PAIR,           /* an array [lo, hi] of two integers in min..max, stored as two uint16_t */
	PORTER_CFG_LIST,           /* a list of groups, read by its own parser (config_lists.c) */
	PORTER_CFG_OWN,            /* a scalar read by its list's own parser (listeners[i].service, ...) */
	PORTER_CFG_STRS,           /* an array of strings ["a", "b"], read by its list's own parser
	                              (listeners[i].tls.protocols, ...) */
};

/* row flags */
#define PORTER_CFG_F_RELOAD    0x01u  /* a reload may change it */
#define PORTER_CFG_F_MANDATORY 0x02u  /* absent: "missing mandatory setting" */
#define PORTER_CFG_F_DEF_FROM  0x04u  /* default: the value of the row named by def_str (same table) */
#define PORTER_CFG_F_PRESENCE  0x08u  /* GROUP: the bool at off says whether the group was written */
#define PORTER_CFG_F_EARLY     0x10u  /* read before the other rows of its group (the order errors are found in;
                                         the table's order is the one a refused reload names them in) */

#define PORTER_CFG_NO_OFF      UINT32_MAX

/*
 * Extra checks of one row, run once the value is read and stored (only when
 * the setting is in the file). S is the setting, PATH its full name, BASE the
 * struct the table's offsets are into, STR the string value (STR rows) or
 * NULL. Return 0, or the result of reporting the error (-1).
 */
typedef int porter_cfg_check_fn(const struct porter_cfg_ctx *c, const config_setting_t *s,
				const char *path, void *base, const char *str);

/*
 * A group's checks across its rows, run after the rows of group G (path
 * GPATH) were read, when the group is in the file.
 */
typedef int porter_cfg_post_fn(const struct porter_cfg_ctx *c, const config_setting_t *g,
			       const char *gpath, void *base);

struct porter_cfg_row {
	const char *path;          /* "tcp.rto_min_ms"; in a list table relative to the element */
	uint8_t type;              /* enum porter_cfg_type */
	uint8_t flags;             /* PORTER_CFG_F_* */
	uint16_t size;             /* bytes of the field (STR: of the buffer, NUL included) */
	uint32_t off;              /* offsetof into the table's struct, or PORTER_CFG_NO_OFF */
	int64_t min, max;          /* INT, PAIR: the range */
	int64_t def;               /* INT, BOOL, ENUM default; PAIR: lo */
	int64_t def2;              /* PAIR: hi */
	const char *def_str;       /* STR default (NULL = ""); F_DEF_FROM: the row it copies */
	const char *const *names;  /* ENUM: the values, NULL-terminated; stored value = index */
	porter_cfg_check_fn *check;
	porter_cfg_post_fn *post;  /* GROUP: checks across its rows; LIST: its parser (G: the list's parent) */
};

struct porter_cfg_table {
	const char *name;          /* "" (fixed groups) or "ports[i]", "upstreams[i].servers[j]", ... */
	const struct porter_cfg_row *rows;
	size_t n;
	size_t base_size;          /* the struct the offsets are into */
};

extern const struct porter_cfg_table *const porter_cfg_tables[];
extern const size_t porter_cfg_table_count;

/* The table named NAME ("" = the fixed groups), or NULL. */
const struct porter_cfg_table *porter_cfg_table_find(const char *name);

/* The row of TABLE whose path is PATH, or NULL. */
const struct porter_cfg_row *porter_cfg_row_find(const struct porter_cfg_table *t, const char *path);

/* Every stored row of T to its default in BASE (other bytes untouched). */
void porter_cfg_apply_defaults(const struct porter_cfg_table *t, void *base);

#endif
