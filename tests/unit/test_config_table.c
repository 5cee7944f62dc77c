/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the settings table (config/config_table.h), walking every
 * row of every table: the row is sound (default within range, field inside
 * its struct), writing the default changes nothing, one below the minimum
 * and one above the maximum are refused naming the setting, a changed value
 * is accepted or refused by a reload as the row's reload flag says, and
 * docs/CONFIG.md documents every row with its type, default and range (and
 * documents no setting the table lacks).
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_table.h"
#include "tls_testcerts.h"

#ifndef PORTER_SOURCE_DIR
#error "PORTER_SOURCE_DIR: the source tree (tests/meson.build)"
#endif

#define PORT_FRONT                                                              \
	"ports = ( { name = \"front\"; device = \"net_tap0,iface=porter0\";"    \
	" mac = \"02:70:6f:72:74:01\"; ipv4 = \"10.99.0.2/24\"; } );\n"
#define UPSTREAM "upstreams = ( { name = \"u\"; servers = ( { address = \"10.99.0.9:80\"; } ); } );\n"

static struct porter_config cfg, base_cfg;
static char err[PORTER_CFG_ERR_LEN];

/*
 * listeners[i].tls.certificates[j] reads real files: a self-signed
 * certificate and its key, made for each test (its own process) in a
 * directory removed after it.
 */
static char tls_dir[TC_PATH_LEN], tls_before[1024];

static void tls_files_make(void)
{
	char cert[TC_PATH_LEN], key[TC_PATH_LEN];
	static const char *const sans[] = { "a.example", NULL };

	cr_assert_eq(tc_dir_make(tls_dir), 0);
	EVP_PKEY *k = tc_key_ec();
	cr_assert_not_null(k);
	X509 *x = tc_cert(k, "a.example", sans, NULL, NULL, -60, 3600, false);
	cr_assert_not_null(x);
	tc_path(cert, tls_dir, "c.pem");
	tc_path(key, tls_dir, "k.pem");
	cr_assert_eq(tc_write_certs(cert, &x, 1), 0);
	cr_assert_eq(tc_write_key(key, k), 0);
	X509_free(x);
	EVP_PKEY_free(k);
	snprintf(tls_before, sizeof(tls_before), PORT_FRONT UPSTREAM "listeners = ( { port = 443; protocol = \"tcp\"; "
		 "upstream = \"u\"; tls = { certificates = ( { cert = \"%s\"; key = \"%s\"; ", cert, key);
}

static void tls_files_remove(void)
{
	tc_dir_remove(tls_dir);
}

TestSuite(config_table, .init = tls_files_make, .fini = tls_files_remove);

/*
 * Where a list table's row is written: the text before it, the text after it
 * (the row on line 2, or line 1 for ports) and the prefix of its setting
 * names in messages. Rows the template already holds are not varied.
 */
static const struct list_ctx {
	const char *table;
	const char *before, *after, *prefix;
	const char *refused;          /* a reload names this, or NULL: reloadable */
} lists[] = {
	{ "ports[i]",
	  "ports = ( { name = \"front\"; device = \"net_tap0,iface=porter0\"; mac = \"02:70:6f:72:74:01\"; "
	  "ipv4 = \"10.99.0.2/24\"; ", " } );\n", "ports[0]", "ports" },
	{ "static_routes[i]", PORT_FRONT "static_routes = ( { to = \"10.98.0.0/16\"; via = \"10.99.0.1\"; ", " } );\n",
	  "static_routes[0]", "static_routes" },
	{ "upstreams[i]", PORT_FRONT "upstreams = ( { name = \"u\"; servers = ( { address = \"10.99.0.9:80\"; } ); ",
	  " } );\n", "upstreams[0]", NULL },
	{ "upstreams[i].servers[j]", PORT_FRONT "upstreams = ( { name = \"u\"; servers = ( { address = \"10.99.0.9:80\"; ",
	  " } ); } );\n", "upstreams[0].servers[0]", NULL },
	{ "listeners[i]", PORT_FRONT UPSTREAM "listeners = ( { port = 19; service = \"source\"; ", " } );\n",
	  "listeners[0]", "listeners" },
	{ "listeners[i].tls.certificates[j]", tls_before, " } ); }; } );\n", "listeners[0].tls.certificates[0]", NULL },
	{ "routes[i]", PORT_FRONT UPSTREAM "listeners = ( { port = 80; protocol = \"http\"; } );\n"
	  "routes = ( { upstream = \"u\"; ", " } );\n", "routes[0]", NULL },
};

static const struct list_ctx *list_of(const struct porter_cfg_table *t)
{
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (strcmp(lists[i].table, t->name) == 0)
			return &lists[i];
	return NULL;
}

/* Line of the row in its text: the line its template puts it on. */
static unsigned row_line(const struct porter_cfg_table *t)
{
	const struct list_ctx *l = list_of(t);
	unsigned line = 1;

	if (l == NULL)
		return 2;
	for (const char *p = l->before; *p != '\0'; p++)
		line += *p == '\n';
	return line;
}

/* "a.b.c" with value V -> "a: { b: { c = V; }; };" into dst. */
static void nest(char *dst, size_t len, const char *path, const char *v)
{
	const char *dot = strchr(path, '.');

	if (dot == NULL) {
		snprintf(dst, len, "%s = %s;", path, v);
		return;
	}
	char inner[700];
	nest(inner, sizeof(inner), dot + 1, v);
	snprintf(dst, len, "%.*s: { %s };", (int)(dot - path), path, inner);
}

/* The file that sets row R of table T to V (a libconfig value). */
static void row_text(char *dst, size_t len, const struct porter_cfg_table *t, const struct porter_cfg_row *r,
		     const char *v)
{
	const struct list_ctx *l = list_of(t);
	char setting[900];

	nest(setting, sizeof(setting), r->path, v);
	if (l == NULL)
		snprintf(dst, len, PORT_FRONT "%s\n", setting);
	else
		snprintf(dst, len, "%s%s%s", l->before, setting, l->after);
}

/* The text with the row left out. */
static void base_text(char *dst, size_t len, const struct porter_cfg_table *t)
{
	const struct list_ctx *l = list_of(t);

	if (l == NULL)
		snprintf(dst, len, PORT_FRONT);
	else
		snprintf(dst, len, "%s%s", l->before, l->after);
}

/* Rows a test can write: scalars with a value of their own, not already in the template. */
static bool writable(const struct porter_cfg_table *t, const struct porter_cfg_row *r)
{
	const struct list_ctx *l = list_of(t);
	char key[128];

	if (r->type == PORTER_CFG_GROUP || r->type == PORTER_CFG_LIST || r->type == PORTER_CFG_OWN)
		return false;
	if (l == NULL)
		return true;
	snprintf(key, sizeof(key), " %s =", r->path);
	return strstr(l->before, key) == NULL;
}

static int parse(const char *text, struct porter_config *out)
{
	memset(err, 0, sizeof(err));
	return porter_config_parse_string(text, "t.conf", out, err, sizeof(err));
}

static void fmt_int(char *dst, size_t len, int64_t v)
{
	/* libconfig reads a literal past 32 bits only with the L suffix */
	snprintf(dst, len, "%" PRId64 "%s", v, v > INT32_MAX || v < INT32_MIN ? "L" : "");
}

/* The row's default as a libconfig value; false when it has none to write. */
static bool default_value(const struct porter_cfg_row *r, char *dst, size_t len)
{
	switch (r->type) {
	case PORTER_CFG_INT:
		fmt_int(dst, len, r->def);
		return !(r->flags & (PORTER_CFG_F_DEF_FROM | PORTER_CFG_F_MANDATORY));
	case PORTER_CFG_BOOL:
		snprintf(dst, len, "%s", r->def ? "true" : "false");
		return true;
	case PORTER_CFG_ENUM:
		snprintf(dst, len, "\"%s\"", r->names[r->def]);
		return true;
	case PORTER_CFG_STR:
		snprintf(dst, len, "\"%s\"", r->def_str != NULL ? r->def_str : "");
		return r->off != PORTER_CFG_NO_OFF && !(r->flags & PORTER_CFG_F_MANDATORY);
	case PORTER_CFG_PAIR:
		snprintf(dst, len, "[%" PRId64 ", %" PRId64 "]", r->def, r->def2);
		return true;
	default:
		return false;
	}
}

static uint64_t load_uint(const void *p, size_t size)
{
	switch (size) {
	case 1: return *(const uint8_t *)p;
	case 2: return *(const uint16_t *)p;
	case 4: return *(const uint32_t *)p;
	default: return *(const uint64_t *)p;
	}
}

/* The struct TABLE's offsets are into, within CFG. */
static const char *row_base(const struct porter_cfg_table *t, const struct porter_config *c)
{
	static const struct {
		const char *name;
		size_t off;
	} bases[] = {
		{ "ports[i]", offsetof(struct porter_config, ports) },
		{ "static_routes[i]", offsetof(struct porter_config, static_routes) },
		{ "upstreams[i]", offsetof(struct porter_config, upstreams) },
		{ "upstreams[i].servers[j]", offsetof(struct porter_config, upstreams) +
					     offsetof(struct porter_cfg_upstream, servers) },
		{ "listeners[i]", offsetof(struct porter_config, listeners) },
		{ "listeners[i].tls.certificates[j]", offsetof(struct porter_config, tls_certs) },
		{ "routes[i]", offsetof(struct porter_config, routes) },
	};
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		if (strcmp(bases[i].name, t->name) == 0)
			return (const char *)c + bases[i].off;
	return (const char *)c;
}

/* "tcp.rcv_buf", "ports[i].mtu" (one buffer: one name per message) */
static const char *row_name(const struct porter_cfg_table *t, const struct porter_cfg_row *r)
{
	static char name[256];

	snprintf(name, sizeof(name), "%s%s%s", t->name, t->name[0] != '\0' ? "." : "", r->path);
	return name;
}

#define FOR_EACH_ROW(t, r)                                                      \
	for (size_t ti_ = 0; ti_ < porter_cfg_table_count; ti_++)               \
		for (const struct porter_cfg_table *t = porter_cfg_tables[ti_]; t != NULL; t = NULL) \
			for (const struct porter_cfg_row *r = t->rows; r < t->rows + t->n; r++)

Test(config_table, rows_are_sound)
{
	size_t rows = 0;

	cr_assert_eq(porter_cfg_table_count, 8);
	cr_assert_str_eq(porter_cfg_tables[0]->name, "");
	FOR_EACH_ROW(t, r) {
		rows++;
		cr_assert(porter_cfg_row_find(t, r->path) == r, "%s: path not unique", row_name(t, r));
		if (r->off != PORTER_CFG_NO_OFF)
			cr_assert(r->off + r->size <= t->base_size, "%s: field outside its struct", r->path);
		switch (r->type) {
		case PORTER_CFG_INT:
			cr_assert(r->size == 1 || r->size == 2 || r->size == 4 || r->size == 8, "%s", r->path);
			cr_assert(r->min >= 0 && r->min <= r->max, "%s: range %" PRId64 "..%" PRId64, r->path,
				  r->min, r->max);
			cr_assert(r->size == 8 || (uint64_t)r->max < (uint64_t)1 << (8 * r->size),
				  "%s: max %" PRId64 " does not fit in %u bytes", r->path, r->max, r->size);
			if (r->flags & PORTER_CFG_F_DEF_FROM) {
				const struct porter_cfg_row *from = porter_cfg_row_find(t, r->def_str);
				cr_assert(from != NULL && from->type == PORTER_CFG_INT && from->size == r->size,
					  "%s: default from %s", r->path, r->def_str);
			} else if (!(r->flags & PORTER_CFG_F_MANDATORY)) {
				cr_assert(r->def >= r->min && r->def <= r->max, "%s: default %" PRId64
					  " outside %" PRId64 "..%" PRId64, r->path, r->def, r->min, r->max);
			}
			break;
		case PORTER_CFG_BOOL:
			cr_assert(r->size == sizeof(bool) && (r->def == 0 || r->def == 1), "%s", r->path);
			break;
		case PORTER_CFG_ENUM: {
			int64_t n = 0;
			while (r->names[n] != NULL)
				n++;
			cr_assert(r->def >= 0 && r->def < n, "%s: default %" PRId64, r->path, r->def);
			cr_assert(r->size == 8 || (uint64_t)n <= (uint64_t)1 << (8 * r->size), "%s", r->path);
			break;
		}
		case PORTER_CFG_STR:
			cr_assert(r->size > 1 && r->size <= PORTER_CFG_PATH_LEN, "%s", r->path);
			cr_assert(r->def_str == NULL || strlen(r->def_str) < r->size, "%s: default too long", r->path);
			break;
		case PORTER_CFG_PAIR:
			cr_assert(r->min <= r->def && r->def <= r->def2 && r->def2 <= r->max, "%s", r->path);
			break;
		case PORTER_CFG_GROUP:
			cr_assert(r + 1 < t->rows + t->n && strncmp(r[1].path, r->path, strlen(r->path)) == 0,
				  "%s: empty group", r->path);
			break;
		default:
			break;
		}
		/* reload: the fixed groups say it per row, the lists per list, but for what is inside
		 * a listener's tls (its presence needs a restart, its contents do not) */
		const struct list_ctx *l = list_of(t);
		bool tls_inside = strcmp(t->name, "listeners[i]") == 0 && strncmp(r->path, "tls.", 4) == 0;
		if (l != NULL)
			cr_assert_eq(!!(r->flags & PORTER_CFG_F_RELOAD), l->refused == NULL || tls_inside, "%s",
				     row_name(t, r));
	}
	cr_log_info("%zu rows", rows);
	cr_assert_gt(rows, 100);
}

/* The defaults of a file without the row are the row's defaults; writing them out changes nothing. */
Test(config_table, defaults)
{
	static char text[4096], v[128];

	FOR_EACH_ROW(t, r) {
		base_text(text, sizeof(text), t);
		cr_assert_eq(parse(text, &base_cfg), 0, "%s: %s", text, err);
		const char *b = row_base(t, &base_cfg);

		if (r->off != PORTER_CFG_NO_OFF && !(r->flags & PORTER_CFG_F_MANDATORY)) {
			const char *f = b + r->off;
			switch (r->type) {
			case PORTER_CFG_INT:
			case PORTER_CFG_ENUM:
				if (!(r->flags & PORTER_CFG_F_DEF_FROM))
					cr_assert_eq(load_uint(f, r->size), (uint64_t)r->def, "%s", r->path);
				break;
			case PORTER_CFG_BOOL:
				cr_assert_eq(*(const bool *)f, r->def != 0, "%s", r->path);
				break;
			case PORTER_CFG_STR:
				cr_assert_str_eq(f, r->def_str != NULL ? r->def_str : "", "%s", r->path);
				break;
			case PORTER_CFG_PAIR:
				cr_assert_eq(((const uint16_t *)(const void *)f)[0], r->def, "%s", r->path);
				cr_assert_eq(((const uint16_t *)(const void *)f)[1], r->def2, "%s", r->path);
				break;
			default:
				break;
			}
		}
		if (!writable(t, r) || !default_value(r, v, sizeof(v)))
			continue;
		row_text(text, sizeof(text), t, r, v);
		int rc = parse(text, &cfg);
		/* "" that stands for "any" (routes[i].method) cannot be written; it is refused by name */
		if (rc != 0 && r->type == PORTER_CFG_STR && strcmp(v, "\"\"") == 0 &&
		    strstr(err, r->path) != NULL)
			continue;
		cr_assert_eq(rc, 0, "%s = %s: %s", row_name(t, r), v, err);
		cr_assert_eq(porter_config_check_reload(&base_cfg, &cfg, err, sizeof(err)), 0, "%s = %s: %s",
			     r->path, v, err);
		if (r->off != PORTER_CFG_NO_OFF)
			cr_assert_eq(memcmp(row_base(t, &cfg) + r->off, b + r->off, r->size), 0, "%s", r->path);
	}
}

/* One below the minimum and one above the maximum: refused, naming the setting and its range. */
Test(config_table, range_errors)
{
	static char text[4096], v[64], want[512], name[256];
	size_t checked = 0;

	FOR_EACH_ROW(t, r) {
		if (r->type != PORTER_CFG_INT || !writable(t, r))
			continue;
		const struct list_ctx *l = list_of(t);
		snprintf(name, sizeof(name), "%s%s%s", l != NULL ? l->prefix : "", l != NULL ? "." : "", r->path);
		const int64_t bad[2] = { r->min - 1, r->max + 1 };
		for (int i = 0; i < 2; i++) {
			fmt_int(v, sizeof(v), bad[i]);
			row_text(text, sizeof(text), t, r, v);
			snprintf(want, sizeof(want), "t.conf:%u: %s: must be in %" PRId64 "..%" PRId64 ", got %" PRId64,
				 row_line(t), name, r->min, r->max, bad[i]);
			cr_assert_eq(parse(text, &cfg), -1, "%s = %s accepted", name, v);
			cr_assert_str_eq(err, want);
			checked++;
		}
		/* the bounds themselves pass the range check (a check across rows may still refuse them) */
		const int64_t good[2] = { r->min, r->max };
		for (int i = 0; i < 2; i++) {
			fmt_int(v, sizeof(v), good[i]);
			row_text(text, sizeof(text), t, r, v);
			if (parse(text, &cfg) != 0)
				cr_assert(strstr(err, ": must be in ") == NULL, "%s = %s: %s", name, v, err);
		}
	}
	cr_log_info("%zu range errors", checked);
	cr_assert_gt(checked, 120, "%zu", checked);
}

/* A value other than the default that parses: VALS[0..n) in order of preference. */
static size_t candidates(const struct porter_cfg_row *r, char vals[][128], size_t max)
{
	static const char *const strs[] = { "\"/porter-alt\"", "\"porter-alt\"", "\"debug\"", "\"newreno\"",
					    "\"127.0.0.1:9180\"", "\"GET\"", "\"1\"", NULL };
	size_t n = 0;

	switch (r->type) {
	case PORTER_CFG_INT: {
		/* 80: the port of the http listener a route may name */
		const int64_t c[] = { r->def + 1, r->def - 1, r->def * 2, r->def / 2, r->min, r->max, 80 };
		for (size_t i = 0; i < sizeof(c) / sizeof(c[0]) && n < max; i++)
			if (c[i] >= r->min && c[i] <= r->max && c[i] != r->def)
				fmt_int(vals[n++], 128, c[i]);
		break;
	}
	case PORTER_CFG_BOOL:
		snprintf(vals[n++], 128, "%s", r->def ? "false" : "true");
		break;
	case PORTER_CFG_ENUM:
		for (int64_t i = 0; r->names[i] != NULL && n < max; i++)
			if (i != r->def)
				snprintf(vals[n++], 128, "\"%s\"", r->names[i]);
		break;
	case PORTER_CFG_STR:
		for (size_t i = 0; strs[i] != NULL && n < max; i++)
			snprintf(vals[n++], 128, "%s", strs[i]);
		break;
	case PORTER_CFG_PAIR:
		snprintf(vals[n++], 128, "[%" PRId64 ", %" PRId64 "]", r->def + 1, r->def2);
		break;
	default:
		break;
	}
	return n;
}

/* A changed value: a reload takes it when the row says so, else names the setting (or its list). */
Test(config_table, reload_flags)
{
	static char text[4096], vals[8][128], want[512];
	size_t checked = 0;

	FOR_EACH_ROW(t, r) {
		if (!writable(t, r) || r->off == PORTER_CFG_NO_OFF)
			continue;
		const struct list_ctx *l = list_of(t);
		size_t n = candidates(r, vals, 8), i;

		base_text(text, sizeof(text), t);
		cr_assert_eq(parse(text, &base_cfg), 0, "%s", err);
		for (i = 0; i < n; i++) {
			row_text(text, sizeof(text), t, r, vals[i]);
			if (parse(text, &cfg) == 0 &&
			    memcmp(row_base(t, &cfg) + r->off, row_base(t, &base_cfg) + r->off, r->size) != 0)
				break;
		}
			cr_assert_lt(i, n, "%s: no other value parses (%s)", row_name(t, r), err);
		int rc = porter_config_check_reload(&base_cfg, &cfg, err, sizeof(err));
		if (r->flags & PORTER_CFG_F_RELOAD) {
			cr_assert_eq(rc, 0, "%s = %s: reload refused: %s", row_name(t, r), vals[i], err);
		} else {
			snprintf(want, sizeof(want), "t.conf: %s: changed; needs a restart",
				 l != NULL ? l->refused : r->path);
			cr_assert_eq(rc, -1, "%s = %s: reload accepted", row_name(t, r), vals[i]);
			cr_assert_str_eq(err, want);
		}
		checked++;
	}
	cr_log_info("%zu reload checks", checked);
	cr_assert_gt(checked, 80, "%zu", checked);
}

/* ------------------------------------------------------------------------ */
/* docs/CONFIG.md                                                           */
/* ------------------------------------------------------------------------ */

struct doc_row {
	char name[128];
	char type[64];
	char def[256];
	char range[512];
	bool matched;
};

static struct doc_row docs[256];
static size_t ndocs;

/* Cell I (0-based) of a table line, trimmed; '|' escaped as "\|" does not split. */
static void cell(const char *line, int idx, char *dst, size_t len)
{
	const char *p = line + 1;
	for (int i = 0; i < idx && *p != '\0'; p++)
		if (*p == '|' && p[-1] != '\\')
			i++;
	while (*p == ' ')
		p++;
	size_t n = 0;
	while (p[n] != '\0' && p[n] != '\n' && !(p[n] == '|' && (n == 0 || p[n - 1] != '\\')))
		n++;
	while (n > 0 && p[n - 1] == ' ')
		n--;
	snprintf(dst, len, "%.*s", (int)n, p);
}

/* The rows of every "| Setting | Type | Default | Range... |" table of CONFIG.md. */
static void read_docs(void)
{
	char path[512], line[4096];
	bool in_settings = false;

	snprintf(path, sizeof(path), "%s/docs/CONFIG.md", PORTER_SOURCE_DIR);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	ndocs = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] != '|') {
			in_settings = false;
			continue;
		}
		if (strncmp(line, "| Setting | Type | Default | Range", 34) == 0) {
			in_settings = true;
			continue;
		}
		if (!in_settings || strncmp(line, "| `", 3) != 0)
			continue;
		cr_assert_lt(ndocs, sizeof(docs) / sizeof(docs[0]));
		struct doc_row *d = &docs[ndocs++];
		char name[160];
		cell(line, 0, name, sizeof(name));
		snprintf(d->name, sizeof(d->name), "%.*s", (int)strlen(name) - 2, name + 1);
		cell(line, 1, d->type, sizeof(d->type));
		cell(line, 2, d->def, sizeof(d->def));
		cell(line, 3, d->range, sizeof(d->range));
		d->matched = false;
	}
	fclose(f);
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

Test(config_table, config_md_matches_table)
{
	char name[256], want[256];

	read_docs();
	cr_assert_gt(ndocs, 100);
	FOR_EACH_ROW(t, r) {
		bool documented = r->type != PORTER_CFG_GROUP || (r->flags & PORTER_CFG_F_PRESENCE);
		struct doc_row *d = NULL;

		snprintf(name, sizeof(name), "%s", row_name(t, r));
		for (size_t i = 0; i < ndocs && d == NULL; i++)
			if (strcmp(docs[i].name, name) == 0)
				d = &docs[i];
		if (d == NULL) {
			cr_assert(!documented, "%s: not in docs/CONFIG.md", name);
			continue;
		}
		d->matched = true;

		/* type */
		const char *type = r->type == PORTER_CFG_INT ? "integer" : r->type == PORTER_CFG_BOOL ? "boolean" :
				   r->type == PORTER_CFG_PAIR ? "array of 2 integers" :
				   r->type == PORTER_CFG_LIST ? "list of groups" :
				   r->type == PORTER_CFG_STRS ? "array of strings" :
				   r->type == PORTER_CFG_GROUP ? "group" : "string";
		cr_assert_str_eq(d->type, type, "%s: type", name);

		/* default */
		if (r->flags & PORTER_CFG_F_MANDATORY) {
			cr_assert(starts(d->def, "mandatory"), "%s: default \"%s\", the table: mandatory", name, d->def);
		} else if (r->flags & PORTER_CFG_F_DEF_FROM) {
			snprintf(want, sizeof(want), "`%s`", strrchr(r->def_str, '.') + 1);
			cr_assert_str_eq(d->def, want, "%s: default", name);
		} else if (r->off != PORTER_CFG_NO_OFF && r->type != PORTER_CFG_GROUP) {
			default_value(r, want + 1, sizeof(want) - 2);
			want[0] = '`';
			strcat(want, "`");
			bool prose = r->type == PORTER_CFG_STR && (r->def_str == NULL || r->def_str[0] == '\0') &&
				     (starts(d->def, "any") || starts(d->def, "none"));
			cr_assert(starts(d->def, want) || prose, "%s: default \"%s\", the table: %s", name, d->def, want);
		}

		/* range */
		char lo[32], hi[32], lohi[64], tick[40];
		snprintf(lo, sizeof(lo), "%" PRId64 "..", r->min);
		snprintf(hi, sizeof(hi), "..%" PRId64, r->max);
		snprintf(lohi, sizeof(lohi), "%" PRId64 "..%" PRId64, r->min, r->max);
		snprintf(tick, sizeof(tick), "`%" PRId64 "`", r->min);
		switch (r->type) {
		case PORTER_CFG_INT:
			cr_assert(strstr(d->range, lohi) != NULL ||
				  (strstr(d->range, hi) != NULL && strstr(d->range, tick) != NULL),
				  "%s: range \"%s\", the table: %s", name, d->range, lohi);
			break;
		case PORTER_CFG_PAIR:
			cr_assert(strstr(d->range, lohi) != NULL, "%s: range \"%s\", the table: %s", name, d->range, lohi);
			break;
		case PORTER_CFG_LIST:
			snprintf(want, sizeof(want), "%s entries", lohi);
			cr_assert(strstr(d->range, want) != NULL, "%s: range \"%s\", the table: %s", name, d->range, want);
			break;
		case PORTER_CFG_BOOL:
			cr_assert(strstr(d->range, "true") != NULL && strstr(d->range, "false") != NULL, "%s", name);
			break;
		case PORTER_CFG_ENUM:
			for (size_t i = 0; r->names[i] != NULL; i++) {
				snprintf(want, sizeof(want), "\"%s\"", r->names[i]);
				cr_assert(strstr(d->range, want) != NULL, "%s: range \"%s\" lacks %s", name, d->range, want);
			}
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; i < ndocs; i++)
		cr_assert(docs[i].matched, "docs/CONFIG.md: %s is not in the table (config/config_table.c, "
			  "config/config_lists.c)", docs[i].name);
}
