/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The settings table (config_table.h) and the engine that runs it.
 *
 * One row per setting: the fixed groups (eal, workers, dataplane, tcp, http,
 * client_limits, control, metrics) here, and the scalar fields of every list
 * element (ports[i], upstreams[i], ...) too; the lists' own parsers (order
 * of the entries, duplicates, names across lists) are in config_lists.c.
 *
 * The engine: rows_check_known() (unknown names are errors), row_read() (one
 * setting: type, range, store, the row's extra check), rows_parse() (a group:
 * known names, then every row in order, sub-groups recursively, then the
 * group's checks across its rows), porter_cfg_apply_defaults(). Rows are
 * read in table order, but F_EARLY ones first.
 * config.c reads the table for reload (rows without F_RELOAD).
 *
 * Adding a setting: a field in config-t.h, a row here, a line in
 * docs/CONFIG.md (test_config_table checks it is there, with the row's
 * default and range).
 */
#include "config/config-int.h"
#include "shm/rate.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#define SUN_PATH_MAX       (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define CPU_ID_MAX         1023         /* CPU_SETSIZE - 1 */
#define DESC_MIN           64
#define DESC_MAX           16384
#define EPHEMERAL_MIN      1024
#define EPHEMERAL_MAX      65535
#define EPHEMERAL_SPAN_MIN 1024         /* ports in [lo, hi] at least */
#define HTTP_BODY_MAX      ((int64_t)1 << 62)
#define CLIENT_RATE_MAX    1000000      /* connections or requests per second */
#define CLIENT_CONNS_MAX   4194304      /* the largest tcp.max_streams_per_shard */
#define CLIENT_TABLE_MIN   1024
#define CLIENT_TABLE_MAX   4194304      /* entries of 24 bytes: 96 MiB per shard */

/* ------------------------------------------------------------------------ */
/* The engine                                                               */
/* ------------------------------------------------------------------------ */

/* The row's name within its group: the part after the last '.'. */
static const char *row_key(const struct porter_cfg_row *r)
{
	const char *dot = strrchr(r->path, '.');
	return dot != NULL ? dot + 1 : r->path;
}

/* Rows after rows[i] that are inside group rows[i] (their paths start with "PATH."). */
static size_t group_extent(const struct porter_cfg_row *rows, size_t n, size_t i)
{
	size_t len = strlen(rows[i].path), j = i + 1;

	while (j < n && strncmp(rows[j].path, rows[i].path, len) == 0 && rows[j].path[len] == '.')
		j++;
	return j - i - 1;
}

int rows_check_known(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
		     const struct porter_cfg_row *rows, size_t n, size_t skip)
{
	int m = config_setting_length(g);

	for (int i = 0; i < m; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		bool ok = false;

		for (size_t k = 0; k < n && !ok; k++)
			ok = strchr(rows[k].path + skip, '.') == NULL && strcmp(rows[k].path + skip, name) == 0;
		if (!ok) {
			char path[SETTING_PATH_LEN];

			join(path, gpath, name);
			return fail(c, s, path, "unknown setting");
		}
	}
	return 0;
}

static void store_uint(void *dst, size_t size, uint64_t v)
{
	switch (size) {
	case 1: *(uint8_t *)dst = (uint8_t)v; break;
	case 2: *(uint16_t *)dst = (uint16_t)v; break;
	case 4: *(uint32_t *)dst = (uint32_t)v; break;
	default: *(uint64_t *)dst = v; break;
	}
}

/* `expected "a", "b" or "c", got "x"` for an ENUM row. */
static int fail_enum(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
		     const char *const *names, const char *got)
{
	char list[256] = "", q[QUOTE_LEN + 4];
	size_t n = 0, used = 0;

	while (names[n] != NULL)
		n++;
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s\"%s\"",
					 i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
	return fail(c, s, path, "expected %s, got \"%s\"", list, quote(q, got));
}

int row_read(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
	     const struct porter_cfg_row *r, void *base, const config_setting_t **found)
{
	const char *key = row_key(r);
	char *field = r->off != PORTER_CFG_NO_OFF ? (char *)base + r->off : NULL;
	char path[SETTING_PATH_LEN], tmp[PORTER_CFG_PATH_LEN];
	const config_setting_t *s = NULL;
	int64_t v = 0;

	join(path, gpath, key);
	if (found != NULL)
		*found = NULL;
	switch (r->type) {
	case PORTER_CFG_INT:
		if (get_int(c, g, gpath, key, r->min, r->max, &v, &s) != 0)
			return -1;
		if (s == NULL && (r->flags & PORTER_CFG_F_MANDATORY))
			return fail(c, g, path, "missing mandatory setting");
		if (s != NULL && field != NULL)
			store_uint(field, r->size, (uint64_t)v);
		break;
	case PORTER_CFG_BOOL:
		if (field == NULL || get_bool(c, g, gpath, key, (bool *)field) != 0)
			return -1;
		s = config_setting_get_member(g, key);
		break;
	case PORTER_CFG_STR:
		/* not stored: read into tmp, the row's size all the same (it is the length limit) */
		if (get_str(c, g, gpath, key, r->flags & PORTER_CFG_F_MANDATORY, field != NULL ? field : tmp,
			    field != NULL || r->size < sizeof(tmp) ? r->size : sizeof(tmp), &s) != 0)
			return -1;
		break;
	case PORTER_CFG_ENUM:
		if (get_str(c, g, gpath, key, r->flags & PORTER_CFG_F_MANDATORY, tmp, sizeof(tmp), &s) != 0)
			return -1;
		if (s != NULL) {
			size_t i = 0;

			while (r->names[i] != NULL && strcmp(r->names[i], tmp) != 0)
				i++;
			if (r->names[i] == NULL)
				return fail_enum(c, s, path, r->names, tmp);
			store_uint(field, r->size, i);
		}
		break;
	default:
		return fail(c, g, path, "internal error: row type %u is not a scalar", r->type);
	}
	if (found != NULL)
		*found = s;
	if (s != NULL && r->check != NULL)
		return r->check(c, s, path, base,
				r->type == PORTER_CFG_STR ? (field != NULL ? field : tmp) : NULL);
	return 0;
}

static int rows_walk(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
		     const struct porter_cfg_row *rows, size_t n, size_t skip, void *base);

/* Group row rows[0] (its content rows[1..n]) of PARENT (path PPATH). */
static int group_read(const struct porter_cfg_ctx *c, const config_setting_t *parent, const char *ppath,
		      const struct porter_cfg_row *rows, size_t n, void *base)
{
	const struct porter_cfg_row *r = &rows[0];
	const config_setting_t *g;
	char gpath[SETTING_PATH_LEN];

	if (get_group(c, parent, ppath, row_key(r), &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	if (r->flags & PORTER_CFG_F_PRESENCE)
		*(bool *)((char *)base + r->off) = true;
	join(gpath, ppath, row_key(r));
	if (rows_walk(c, g, gpath, rows + 1, n, strlen(r->path) + 1, base) != 0)
		return -1;
	return r->post != NULL ? r->post(c, g, gpath, base) : 0;
}

static int pair_read(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
		     const struct porter_cfg_row *r, void *base);

/* The rows[0..n) of group G: known names, then each row directly in G, in order. */
static int rows_walk(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
		     const struct porter_cfg_row *rows, size_t n, size_t skip, void *base)
{
	if (rows_check_known(c, g, gpath, rows, n, skip) != 0)
		return -1;
	/* two passes: the F_EARLY rows, then the others */
	for (size_t k = 0; k < 2 * n; k++) {
		const struct porter_cfg_row *r = &rows[k % n];
		int rc = 0;

		if (strchr(r->path + skip, '.') != NULL || (k < n) != !!(r->flags & PORTER_CFG_F_EARLY))
			continue;       /* inside a sub-group (read with it), or not in this pass */
		if (r->type == PORTER_CFG_GROUP)
			rc = group_read(c, g, gpath, r, group_extent(rows, n, k % n), base);
		else if (r->type == PORTER_CFG_PAIR)
			rc = pair_read(c, g, gpath, r, base);
		else if (r->type == PORTER_CFG_LIST)
			rc = r->post != NULL ? r->post(c, g, gpath, base) : 0;
		else if (r->type != PORTER_CFG_OWN && r->type != PORTER_CFG_STRS)
			rc = row_read(c, g, gpath, r, base, NULL);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int rows_parse(const struct porter_cfg_ctx *c, const config_setting_t *el, const char *path,
	       const struct porter_cfg_table *t, void *base)
{
	return rows_walk(c, el, path, t->rows, t->n, 0, base);
}

int parse_fixed_group(const struct porter_cfg_ctx *c, const config_setting_t *root, const char *name,
		      struct porter_config *cfg)
{
	const struct porter_cfg_table *t = porter_cfg_tables[0];

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].path, name) == 0)
			return group_read(c, root, "", &t->rows[i], group_extent(t->rows, t->n, i), cfg);
	return fail(c, root, name, "internal error: no such group in the table");
}

void porter_cfg_apply_defaults(const struct porter_cfg_table *t, void *base)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct porter_cfg_row *r = &t->rows[i];
		char *field = (char *)base + r->off;

		if (r->off == PORTER_CFG_NO_OFF)
			continue;
		switch (r->type) {
		case PORTER_CFG_INT:
		case PORTER_CFG_ENUM:
			store_uint(field, r->size, (uint64_t)r->def);
			break;
		case PORTER_CFG_BOOL:
			*(bool *)field = r->def != 0;
			break;
		case PORTER_CFG_STR:
			snprintf(field, r->size, "%s", r->def_str != NULL ? r->def_str : "");
			break;
		case PORTER_CFG_PAIR:
			((uint16_t *)(void *)field)[0] = (uint16_t)r->def;
			((uint16_t *)(void *)field)[1] = (uint16_t)r->def2;
			break;
		case PORTER_CFG_GROUP:
			if (r->flags & PORTER_CFG_F_PRESENCE)
				*(bool *)field = false;
			break;
		default:
			break;
		}
	}
	/* F_DEF_FROM after every plain default */
	for (size_t i = 0; i < t->n; i++) {
		const struct porter_cfg_row *r = &t->rows[i], *from;

		if ((r->flags & PORTER_CFG_F_DEF_FROM) && (from = porter_cfg_row_find(t, r->def_str)) != NULL)
			memcpy((char *)base + r->off, (char *)base + from->off, r->size);
	}
}

const struct porter_cfg_table *porter_cfg_table_find(const char *name)
{
	for (size_t i = 0; i < porter_cfg_table_count; i++)
		if (strcmp(porter_cfg_tables[i]->name, name) == 0)
			return porter_cfg_tables[i];
	return NULL;
}

const struct porter_cfg_row *porter_cfg_row_find(const struct porter_cfg_table *t, const char *path)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].path, path) == 0)
			return &t->rows[i];
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Checks of the fixed groups' rows                                         */
/* ------------------------------------------------------------------------ */

/* "" or a CPU list "N", "N-M", comma separated, N <= M <= CPU_ID_MAX. */
static int valid_cpu_list(const char *s)
{
	if (*s == '\0')
		return 0;
	for (;;) {
		unsigned a, b;
		if (scan_uint(&s, CPU_ID_MAX, &a) != 0)
			return -1;
		b = a;
		if (*s == '-') {
			s++;
			if (scan_uint(&s, CPU_ID_MAX, &b) != 0 || b < a)
				return -1;
		}
		if (*s == '\0')
			return 0;
		if (*s++ != ',')
			return -1;
	}
}

/* As EAL --log-level takes it: LEVEL, or PATTERN:LEVEL / PATTERN,LEVEL. */
static int valid_log_level(const char *s)
{
	static const char *const names[] = { "emergency", "alert", "critical", "error",
					     "warning", "notice", "info", "debug", NULL };
	const char *colon = strrchr(s, ':'), *comma = strrchr(s, ',');
	const char *sep = colon > comma ? colon : comma;
	const char *level = sep != NULL ? sep + 1 : s;
	if (sep == s)
		return -1;      /* empty pattern */
	for (size_t i = 0; names[i] != NULL; i++)
		if (strcmp(level, names[i]) == 0)
			return 0;
	unsigned v;
	if (scan_uint(&level, 8, &v) == 0 && *level == '\0' && v >= 1)
		return 0;
	return -1;
}

static int check_file_prefix(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			     void *base, const char *v)
{
	char q[QUOTE_LEN + 4];

	(void)base;
	if (v[0] == '\0' || !all_chars_in(v, "_-"))
		return fail(c, s, path, "must be non-empty and use only A-Z a-z 0-9 _ -, got \"%s\"", quote(q, v));
	return 0;
}

static int check_cpus(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
		      void *base, const char *v)
{
	char q[QUOTE_LEN + 4];

	(void)base;
	if (valid_cpu_list(v) != 0)
		return fail(c, s, path, "expected \"\" or a CPU list such as \"2-5,8\" (CPUs 0..%d), got \"%s\"",
			    CPU_ID_MAX, quote(q, v));
	return 0;
}

static int check_log_level(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			   void *base, const char *v)
{
	char q[QUOTE_LEN + 4];

	(void)base;
	if (valid_log_level(v) != 0)
		return fail(c, s, path, "expected emergency, alert, critical, error, warning, notice, info, debug "
			    "or 1..8, optionally after \"PATTERN:\", got \"%s\"", quote(q, v));
	return 0;
}

static int check_cc(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
		    void *base, const char *v)
{
	char q[QUOTE_LEN + 4];

	(void)base;
	if (strcmp(v, "cubic") != 0 && strcmp(v, "newreno") != 0)
		return fail(c, s, path, "expected \"cubic\" or \"newreno\", got \"%s\"", quote(q, v));
	return 0;
}

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int check_via(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
		     void *base, const char *v)
{
	char q[QUOTE_LEN + 4];

	(void)base;
	for (const char *p = v; *p != '\0'; p++)
		if (!is_tchar(*p))
			return fail(c, s, path,
				    "must be \"\" or a token (A-Z a-z 0-9 and !#$%%&'*+-.^_`|~), got \"%s\"",
				    quote(q, v));
	return 0;
}

static int check_access_log(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			    void *base, const char *v)
{
	char q[QUOTE_LEN + 4];

	(void)base;
	if (v[0] == '\0')
		return 0;
	if (v[0] != '/')
		return fail(c, s, path, "must be \"\" or an absolute path, got \"%s\"", quote(q, v));
	for (const char *p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return fail(c, s, path, "must not contain control characters");
	return 0;
}

static int check_socket(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			void *base, const char *v)
{
	char q[QUOTE_LEN + 4];

	(void)base;
	if (v[0] != '/')
		return fail(c, s, path, "must be an absolute path, got \"%s\"", quote(q, v));
	if (strlen(v) > SUN_PATH_MAX)
		return fail(c, s, path, "too long for a unix socket (%zu characters, at most %zu)", strlen(v),
			    (size_t)SUN_PATH_MAX);
	return 0;
}

/* metrics.listen: "a.b.c.d:port" (a kernel socket of the primary), "" = off. */
static int check_metrics_listen(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
				void *base, const char *v)
{
	struct porter_cfg_metrics *m = &((struct porter_config *)base)->metrics;
	char q[QUOTE_LEN + 4];

	if (v[0] != '\0' && parse_hostport(v, &m->ipv4, &m->port) != 0)
		return fail(c, s, path,
			    "bad address \"%s\" (expected a.b.c.d:port, each part 0..255, port 1..65535, or \"\" for none)",
			    quote(q, v));
	return 0;
}

/* tcp.ephemeral_ports = [lo, hi]: two integers, lo <= hi, wide enough. */
static int pair_read(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
		     const struct porter_cfg_row *r, void *base)
{
	const config_setting_t *s = config_setting_get_member(g, row_key(r));
	char path[SETTING_PATH_LEN];

	if (s == NULL)
		return 0;
	join(path, gpath, row_key(r));
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_ARRAY)
		return fail(c, s, path, "expected an array [lo, hi], got %s", type_name(type));
	int n = config_setting_length(s);
	if (n != 2)
		return fail(c, s, path, "expected exactly 2 integers [lo, hi], got %d element%s", n,
			    n == 1 ? "" : "s");
	/* libconfig arrays are homogeneous: the first element tells the type. */
	type = config_setting_type(config_setting_get_elem(s, 0));
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return fail(c, s, path, "expected integers [lo, hi], got %s", type_name(type));
	int64_t lo = config_setting_get_int64_elem(s, 0), hi = config_setting_get_int64_elem(s, 1);
	if (lo < r->min || lo > r->max || hi < r->min || hi > r->max)
		return fail(c, s, path, "ports must be in %" PRId64 "..%" PRId64 ", got [%" PRId64 ", %" PRId64 "]",
			    r->min, r->max, lo, hi);
	if (lo > hi)
		return fail(c, s, path, "lo must be <= hi, got [%" PRId64 ", %" PRId64 "]", lo, hi);
	if (hi - lo + 1 < EPHEMERAL_SPAN_MIN)
		return fail(c, s, path,
			    "must span at least %d ports, got [%" PRId64 ", %" PRId64 "] (%" PRId64 " ports)",
			    EPHEMERAL_SPAN_MIN, lo, hi, hi - lo + 1);
	uint16_t *field = (uint16_t *)(void *)((char *)base + r->off);
	field[0] = (uint16_t)lo;
	field[1] = (uint16_t)hi;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Checks across the rows of one fixed group                                */
/* ------------------------------------------------------------------------ */

/*
 * A <= B for two settings of one group (values already read, defaults
 * included). Blame the one the user wrote; B when both are there.
 */
static int check_le(const struct porter_cfg_ctx *c, const config_setting_t *as, const char *a_path,
		    uint32_t a, const config_setting_t *bs, const char *b_path, uint32_t b)
{
	if (a <= b)
		return 0;
	if (bs != NULL)
		return fail(c, bs, b_path, "must be >= %s (%" PRIu32 "), got %" PRIu32, a_path, a, b);
	return fail(c, as, a_path, "must be <= %s (%" PRIu32 "), got %" PRIu32, b_path, b, a);
}

static int post_workers(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
			void *base)
{
	const struct porter_cfg_workers *w = &((struct porter_config *)base)->workers;
	const config_setting_t *s = config_setting_get_member(g, "binary");

	(void)gpath;
	if (s != NULL && w->binary[0] == '\0')
		return fail(c, s, "workers.binary", "must not be empty");
	return check_le(c, config_setting_get_member(g, "restart_backoff_ms"), "workers.restart_backoff_ms",
			w->restart_backoff_ms, config_setting_get_member(g, "max_restart_backoff_ms"),
			"workers.max_restart_backoff_ms", w->max_restart_backoff_ms);
}

static int post_dataplane(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
			  void *base)
{
	const struct porter_cfg_dataplane *d = &((struct porter_config *)base)->dataplane;
	const config_setting_t *cache = config_setting_get_member(g, "mbuf_cache");

	(void)gpath;
	if ((d->ring_size & (d->ring_size - 1)) != 0)
		return fail(c, config_setting_get_member(g, "ring_size"), "dataplane.ring_size",
			    "must be a power of two in 64..65536, got %" PRIu32, d->ring_size);
	/*
	 * DPDK mempool rule: cache * 1.5 <= pool size. With the ranges of the
	 * table it always holds; kept so that widening a range cannot slip past it.
	 */
	if ((uint64_t)d->mbuf_cache * 3 > (uint64_t)d->mbufs * 2)
		return fail(c, cache != NULL ? cache : config_setting_get_member(g, "mbufs"),
			    cache != NULL ? "dataplane.mbuf_cache" : "dataplane.mbufs",
			    "dataplane.mbuf_cache (%" PRIu32 ") must be <= dataplane.mbufs (%" PRIu32
			    ") / 1.5", d->mbuf_cache, d->mbufs);
	return 0;
}

/* rto_min_ms <= rto_initial_ms <= rto_max_ms */
static int post_tcp(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
		    void *base)
{
	const struct porter_cfg_tcp *t = &((struct porter_config *)base)->tcp;
	const config_setting_t *rmin = config_setting_get_member(g, "rto_min_ms");
	const config_setting_t *rinit = config_setting_get_member(g, "rto_initial_ms");
	const config_setting_t *rmax = config_setting_get_member(g, "rto_max_ms");

	(void)gpath;
	if (check_le(c, rmin, "tcp.rto_min_ms", t->rto_min_ms, rinit, "tcp.rto_initial_ms", t->rto_initial_ms) != 0 ||
	    check_le(c, rinit, "tcp.rto_initial_ms", t->rto_initial_ms, rmax, "tcp.rto_max_ms", t->rto_max_ms) != 0)
		return -1;
	return 0;
}

/*
 * A burst defaults to its rate (one second's worth); every limit needs a
 * table to count in.
 */
static int post_client_limits(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
			      void *base)
{
	struct porter_cfg_client_limits *l = &((struct porter_config *)base)->client_limits;

	if (l->table_size != 0 && (l->table_size < CLIENT_TABLE_MIN || (l->table_size & (l->table_size - 1))))
		return fail(c, config_setting_get_member(g, "table_size"), "client_limits.table_size",
			    "must be 0 or a power of two in %d..%d, got %" PRIu32, CLIENT_TABLE_MIN,
			    CLIENT_TABLE_MAX, l->table_size);
	if (config_setting_get_member(g, "conn_burst") == NULL)
		l->conn_burst = l->conn_rate;
	if (config_setting_get_member(g, "http_req_burst") == NULL)
		l->http_req_burst = l->http_req_rate;
	/* a limit with nothing to count in would silently not apply */
	if (l->table_size == 0) {
		static const char *const names[3] = { "max_conns", "conn_rate", "http_req_rate" };
		const uint32_t vals[3] = { l->max_conns, l->conn_rate, l->http_req_rate };

		for (int i = 0; i < 3; i++)
			if (vals[i] != 0) {
				char path[SETTING_PATH_LEN];

				join(path, gpath, names[i]);
				return fail(c, config_setting_get_member(g, names[i]), path,
					    "needs client_limits.table_size > 0 (it is 0: no table)");
			}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The fixed groups                                                         */
/* ------------------------------------------------------------------------ */

#define RELOAD          PORTER_CFG_F_RELOAD

/* A group (POST: its checks across rows). */
#define GROUP(p, fl, pst) { .path = p, .type = PORTER_CFG_GROUP, .flags = fl, .off = PORTER_CFG_NO_OFF, .post = pst }
/* An unsigned integer field M in LO..HI, default D. */
#define INT(p, fl, m, lo, hi, d) \
	{ .path = p, .type = PORTER_CFG_INT, .flags = fl, .off = offsetof(struct porter_config, m), \
	  .size = sizeof(((struct porter_config *)0)->m), .min = lo, .max = hi, .def = d }
#define BOOL(p, fl, m, d) \
	{ .path = p, .type = PORTER_CFG_BOOL, .flags = fl, .off = offsetof(struct porter_config, m), \
	  .size = sizeof(bool), .def = d }
/* A string field M (a char array), default D, extra check CK. */
#define STR(p, fl, m, d, ck) \
	{ .path = p, .type = PORTER_CFG_STR, .flags = fl, .off = offsetof(struct porter_config, m), \
	  .size = sizeof(((struct porter_config *)0)->m), .def_str = d, .check = ck }

/* client_limits.rate_limit: stored in the proxy conf's 16-bit form (shm/rate.h) */
static int check_client_rate(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			     void *base, const char *v)
{
	(void)v;
	return porter_cfg_rate(c, s, path, &((struct porter_config *)base)->client_limits.rate);
}

static int check_client_rate_from(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
				  void *base, const char *v)
{
	struct porter_cfg_client_limits *l = &((struct porter_config *)base)->client_limits;
	char why[PORTER_CFG_ERR_LEN];

	if (parse_cidr(v, 0, &l->rate_addr, &l->rate_plen, why, sizeof(why)) != 0)
		return fail(c, s, path, "%s", why);
	l->rate_addr &= prefix_mask(l->rate_plen);
	return 0;
}

/* tcp.ecn: the index is enum porter_ecn (shm/porter-shm-t.h: off, passive, on) */
static const char *const ecn_names[] = { "off", "passive", "on", NULL };

static const struct porter_cfg_row fixed_rows[] = {
	/* lcore_base is read first: the order its errors have always been found in */
	GROUP("eal", 0, NULL),
	STR("eal.file_prefix", 0, eal.file_prefix, "porter", check_file_prefix),
	INT("eal.lcore_base", PORTER_CFG_F_EARLY, eal.lcore_base, 0, LCORE_MAX, 10),
	STR("eal.cpus", 0, eal.cpus, "", check_cpus),
	STR("eal.log_level", 0, eal.log_level, "notice", check_log_level),

	GROUP("workers", 0, post_workers),
	INT("workers.count", 0, workers.count, 1, PORTER_CFG_MAX_WORKERS, 2),
	STR("workers.binary", 0, workers.binary, "porter-worker", NULL),
	INT("workers.ready_timeout_ms", 0, workers.ready_timeout_ms, 100, 600000, 5000),
	INT("workers.restart_backoff_ms", 0, workers.restart_backoff_ms, 0, 60000, 100),
	INT("workers.max_restart_backoff_ms", 0, workers.max_restart_backoff_ms, 0, 3600000, 5000),
	INT("workers.max_failed_starts", 0, workers.max_failed_starts, 1, 1000, 10),
	INT("workers.heartbeat_timeout_ms", 0, workers.heartbeat_timeout_ms, 100, 600000, 3000),
	INT("workers.spin_us", 0, workers.spin_us, 0, 100000, 0),
	BOOL("workers.standby", 0, workers.standby, true),
	INT("workers.drain_timeout_ms", 0, workers.drain_timeout_ms, 0, 3600000, 30000),

	GROUP("dataplane", 0, post_dataplane),
	INT("dataplane.mbufs", 0, dataplane.mbufs, 1023, 1048575, 16383),
	INT("dataplane.mbuf_cache", 0, dataplane.mbuf_cache, 0, 512, 128),
	INT("dataplane.ring_size", 0, dataplane.ring_size, 64, 65536, 1024),
	INT("dataplane.rx_desc", 0, dataplane.rx_desc, DESC_MIN, DESC_MAX, 1024),
	INT("dataplane.tx_desc", 0, dataplane.tx_desc, DESC_MIN, DESC_MAX, 1024),
	INT("dataplane.primary_spin_us", 0, dataplane.primary_spin_us, 0, 100000, 0),
	INT("dataplane.arp_timeout_ms", 0, dataplane.arp_timeout_ms, 1000, 86400000, 300000),
	INT("dataplane.arp_retry_ms", 0, dataplane.arp_retry_ms, 10, 60000, 1000),
	INT("dataplane.arp_retries", 0, dataplane.arp_retries, 1, 100, 3),

	GROUP("tcp", 0, post_tcp),
	INT("tcp.max_streams_per_shard", 0, tcp.max_streams_per_shard, 64, 4194304, 65536),
	INT("tcp.tls_sessions_per_shard", 0, tcp.tls_sessions_per_shard, 16, 1048576, 1024),
	INT("tcp.syn_backlog", 0, tcp.syn_backlog, 1, 65536, 1024),
	STR("tcp.congestion_control", 0, tcp.cc, "cubic", check_cc),
	BOOL("tcp.nodelay", 0, tcp.nodelay, true),
	BOOL("tcp.sack", 0, tcp.sack, true),
	BOOL("tcp.timestamps", 0, tcp.timestamps, true),
	BOOL("tcp.window_scaling", 0, tcp.window_scaling, true),
	BOOL("tcp.syncookies", 0, tcp.syncookies, true),
	{ .path = "tcp.ecn", .type = PORTER_CFG_ENUM, .off = offsetof(struct porter_config, tcp.ecn),
	  .size = sizeof(uint32_t), .def = 1, .names = ecn_names },
	INT("tcp.mtu_probing", 0, tcp.mtu_probing, 0, 2, 1),
	INT("tcp.base_mss", 0, tcp.base_mss, 512, 9000, 1024),
	BOOL("tcp.pacing", 0, tcp.pacing, true),
	INT("tcp.rcv_buf", 0, tcp.rcv_buf, 4096, 67108864, 262144),
	INT("tcp.snd_buf", 0, tcp.snd_buf, 4096, 67108864, 262144),
	INT("tcp.delayed_ack_ms", 0, tcp.delack_ms, 0, 500, 40),
	INT("tcp.delayed_ack_short_ms", 0, tcp.delack_short_ms, 0, 500, 4),
	INT("tcp.rto_initial_ms", 0, tcp.rto_initial_ms, 200, 60000, 1000),
	INT("tcp.rto_min_ms", 0, tcp.rto_min_ms, 10, 60000, 200),
	INT("tcp.rto_max_ms", 0, tcp.rto_max_ms, 10, 600000, 60000),
	INT("tcp.max_retransmits", 0, tcp.max_retries, 1, 100, 15),
	INT("tcp.syn_retries", 0, tcp.syn_retries, 1, 20, 5),
	INT("tcp.time_wait_ms", 0, tcp.time_wait_ms, 0, 240000, 60000),
	INT("tcp.fin_wait2_timeout_ms", 0, tcp.fin_wait2_ms, 0, 600000, 60000),
	GROUP("tcp.keepalive", 0, NULL),
	BOOL("tcp.keepalive.enabled", 0, tcp.keepalive, false),
	INT("tcp.keepalive.idle_s", 0, tcp.keepalive_idle_s, 1, 86400, 7200),
	INT("tcp.keepalive.interval_s", 0, tcp.keepalive_interval_s, 1, 3600, 75),
	INT("tcp.keepalive.count", 0, tcp.keepalive_count, 1, 100, 9),
	INT("tcp.challenge_ack_per_s", 0, tcp.challenge_ack_limit, 1, 1000000, 5),
	{ .path = "tcp.ephemeral_ports", .type = PORTER_CFG_PAIR, .off = offsetof(struct porter_config, tcp.ephemeral_lo),
	  .size = 2 * sizeof(uint16_t), .min = EPHEMERAL_MIN, .max = EPHEMERAL_MAX, .def = 32768, .def2 = 60999 },

	/* read in this order (not the one of docs/CONFIG.md): the order errors are found in */
	GROUP("http", RELOAD, NULL),
	INT("http.max_request_line", RELOAD, http.max_request_line, 64, 1048576, 8192),
	INT("http.max_header_bytes", RELOAD, http.max_header_bytes, 256, 1048576, 16384),
	INT("http.max_headers", RELOAD, http.max_headers, 1, PORTER_CFG_MAX_HEADERS, 100),
	INT("http.max_body_bytes", RELOAD, http.max_body_bytes, 0, HTTP_BODY_MAX, 0),
	INT("http.header_timeout_ms", RELOAD, http.header_timeout_ms, 100, 3600000, 10000),
	INT("http.idle_timeout_ms", RELOAD, http.idle_timeout_ms, 100, 86400000, 60000),
	/* Apache's RequestReadTimeout body=20,MinRate=500 */
	INT("http.body_timeout_ms", RELOAD, http.body_timeout_ms, 0, 3600000, 20000),
	INT("http.body_min_rate", RELOAD, http.body_min_rate, 0, 1073741824, 500),
	INT("http.max_sessions_per_shard", RELOAD, http.max_sessions, 16, 1048576, 16384),
	BOOL("http.request_id", RELOAD, http_request_id, true),
	STR("http.via", RELOAD, http.via, "porter", check_via),
	STR("http.access_log", RELOAD, http.access_log, "", check_access_log),

	/* every limit off; the table is there so that a reload can turn them on */
	GROUP("client_limits", RELOAD, post_client_limits),
	INT("client_limits.max_conns", RELOAD, client_limits.max_conns, 0, CLIENT_CONNS_MAX, 0),
	INT("client_limits.conn_rate", RELOAD, client_limits.conn_rate, 0, CLIENT_RATE_MAX, 0),
	{ .path = "client_limits.conn_burst", .type = PORTER_CFG_INT, .flags = RELOAD | PORTER_CFG_F_DEF_FROM,
	  .off = offsetof(struct porter_config, client_limits.conn_burst), .size = sizeof(uint32_t), .min = 1, .max = CLIENT_RATE_MAX, .def_str = "client_limits.conn_rate" },
	INT("client_limits.http_req_rate", RELOAD, client_limits.http_req_rate, 0, CLIENT_RATE_MAX, 0),
	{ .path = "client_limits.http_req_burst", .type = PORTER_CFG_INT, .flags = RELOAD | PORTER_CFG_F_DEF_FROM,
	  .off = offsetof(struct porter_config, client_limits.http_req_burst), .size = sizeof(uint32_t), .min = 1, .max = CLIENT_RATE_MAX, .def_str = "client_limits.http_req_rate" },
	INT("client_limits.table_size", 0, client_limits.table_size, 0, CLIENT_TABLE_MAX, 65536),
	{ .path = "client_limits.rate_limit", .type = PORTER_CFG_INT, .flags = RELOAD, .off = PORTER_CFG_NO_OFF, .size = 8,
	  .min = 0, .max = PORTER_RATE_MAX, .def = 0, .check = check_client_rate },
	{ .path = "client_limits.rate_limit_from", .type = PORTER_CFG_STR, .flags = RELOAD, .off = PORTER_CFG_NO_OFF,
	  .size = 32, .def_str = "0.0.0.0/0", .check = check_client_rate_from },

	GROUP("control", 0, NULL),
	STR("control.socket", 0, control.socket, "/run/porter/porter.sock", check_socket),

	GROUP("metrics", 0, NULL),
	STR("metrics.listen", 0, metrics.listen, "", check_metrics_listen),
};

#undef INT
#undef BOOL
#undef STR
#undef GROUP

extern const struct porter_cfg_table porter_cfg_port_table, porter_cfg_static_route_table,
	porter_cfg_upstream_table, porter_cfg_server_table, porter_cfg_listener_table, porter_cfg_tls_cert_table,
	porter_cfg_route_table;

static const struct porter_cfg_table fixed_table = {
	"", fixed_rows, sizeof(fixed_rows) / sizeof(fixed_rows[0]), sizeof(struct porter_config)
};

/* [0] is the fixed groups (parse_fixed_group() relies on it); the lists' tables: config_lists.c. */
const struct porter_cfg_table *const porter_cfg_tables[] = {
	&fixed_table, &porter_cfg_port_table, &porter_cfg_static_route_table, &porter_cfg_upstream_table,
	&porter_cfg_server_table, &porter_cfg_listener_table, &porter_cfg_tls_cert_table, &porter_cfg_route_table,
};
const size_t porter_cfg_table_count = sizeof(porter_cfg_tables) / sizeof(porter_cfg_tables[0]);
