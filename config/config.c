/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porter configuration: one libconfig file into a struct porter_config (see
 * config.h for the contract and docs/CONFIG.md for every setting).
 *
 * This file: reading the file, error reporting ("FILE:LINE: SETTING:
 * MESSAGE"), the generic readers of libconfig settings, address syntax, the
 * order the groups are parsed in, the checks across groups, and reload.
 * The settings themselves are rows of a table (config_table.h): the fixed
 * groups' rows and their checks in config_table.c, the lists (ports,
 * static_routes, upstreams, listeners, routes) in config_lists.c.
 *
 * Groups are parsed in a fixed order whatever their order in the file:
 * static routes come after the ports whose subnets hold their next hops,
 * upstreams come before listeners and routes, so the upstream names those
 * use are resolved as they are read, and listeners before routes, whose
 * `listener` names an http listener's port.
 *
 * porter_config_check_reload() compares two loaded configurations row by
 * row of the table (never with memcmp over a whole struct: a string field
 * may hold bytes past its NUL).
 *
 * Pure C, no DPDK include, no global mutable state.
 */
#include "config/config-int.h"
#include "shm/rate.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_SIZE      (1024 * 1024)

/* ------------------------------------------------------------------------ */
/* Error reporting                                                          */
/* ------------------------------------------------------------------------ */

static int vfail_at(const struct porter_cfg_ctx *c, const char *file, unsigned line, const char *setting,
		    const char *fmt, va_list ap)
{
	char *e;
	size_t cap;

	if (c->nerr != NULL)
		(*c->nerr)++;
	if (c->err == NULL || c->errlen == 0)
		return -1;
	e = c->err;
	cap = c->errlen;
	if (c->all && e[0] != '\0') {
		/* the next line of the list (one that does not fit is left out) */
		size_t used = strlen(e);

		if (used + 2 >= cap)
			return -1;
		e[used] = '\n';
		e += used + 1;
		cap -= used + 1;
	}
	int n = snprintf(e, cap, "%s:%u: %s: ", file, line, setting);
	if (n >= 0 && (size_t)n < cap)
		vsnprintf(e + n, cap - (size_t)n, fmt, ap);
	/* One line, whatever the user put in strings or file names. */
	for (char *p = e; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

int fail_at(const struct porter_cfg_ctx *c, const char *file, unsigned line, const char *setting,
		   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(c, file, line, setting, fmt, ap);
	va_end(ap);
	return -1;
}

/* Report against setting AT (its file and line; the root has line 0). */
int fail(const struct porter_cfg_ctx *c, const config_setting_t *at, const char *path,
		const char *fmt, ...)
{
	const char *file = at != NULL ? config_setting_source_file(at) : NULL;
	unsigned line = at != NULL ? config_setting_source_line(at) : 0;
	va_list ap;
	va_start(ap, fmt);
	vfail_at(c, file != NULL ? file : c->name, line, path, fmt, ap);
	va_end(ap);
	return -1;
}

/* A user string shortened for a message: "abc" or "abcdef...". */
const char *quote(char buf[QUOTE_LEN + 4], const char *s)
{
	size_t n = strlen(s);
	if (n <= QUOTE_LEN)
		return s;
	memcpy(buf, s, QUOTE_LEN);
	memcpy(buf + QUOTE_LEN, "...", 4);
	return buf;
}

const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:  return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:  return "an integer";
	case CONFIG_TYPE_FLOAT:  return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL:   return "a boolean";
	case CONFIG_TYPE_ARRAY:  return "an array";
	case CONFIG_TYPE_LIST:   return "a list";
	default:                 return "nothing";
	}
}

/* "prefix.key", or "key" at the top level; an overlong name ends in "...". */
void join(char dst[SETTING_PATH_LEN], const char *prefix, const char *key)
{
	int n = prefix[0] == '\0' ? snprintf(dst, SETTING_PATH_LEN, "%s", key)
				  : snprintf(dst, SETTING_PATH_LEN, "%s.%s", prefix, key);
	if (n >= SETTING_PATH_LEN)
		memcpy(dst + SETTING_PATH_LEN - 4, "...", 4);
}

/* ------------------------------------------------------------------------ */
/* Generic setting readers                                                  */
/* ------------------------------------------------------------------------ */

/* Every member of GROUP must be in KNOWN (NULL-terminated). */
int check_known(const struct porter_cfg_ctx *c, const config_setting_t *group, const char *prefix,
		       const char *const known[])
{
	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		bool ok = false;
		for (size_t k = 0; known[k] != NULL && !ok; k++)
			ok = strcmp(name, known[k]) == 0;
		if (!ok) {
			char path[SETTING_PATH_LEN];
			join(path, prefix, name);
			return fail(c, s, path, "unknown setting");
		}
	}
	return 0;
}

/*
 * Optional group KEY of PARENT (whose path is PREFIX, "" for the root).
 * *out = NULL when absent (defaults apply).
 */
int get_group(const struct porter_cfg_ctx *c, const config_setting_t *parent, const char *prefix,
		     const char *key, const config_setting_t **out)
{
	const config_setting_t *s = config_setting_get_member(parent, key);
	*out = s;
	if (s != NULL && !config_setting_is_group(s)) {
		char path[SETTING_PATH_LEN];
		join(path, prefix, key);
		return fail(c, s, path, "expected a group { ... }, got %s",
			    type_name(config_setting_type(s)));
	}
	return 0;
}

/*
 * Optional integer GROUP.KEY in LO..HI into *out; untouched when absent.
 * Both int and int64 (L suffix) settings are accepted.
 * *found (if not NULL) gets the setting or NULL.
 */
int get_int(const struct porter_cfg_ctx *c, const config_setting_t *group, const char *prefix,
		   const char *key, int64_t lo, int64_t hi, int64_t *out,
		   const config_setting_t **found)
{
	const config_setting_t *s = group != NULL ? config_setting_get_member(group, key) : NULL;
	if (found != NULL)
		*found = s;
	if (s == NULL)
		return 0;
	char path[SETTING_PATH_LEN];
	join(path, prefix, key);
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return fail(c, s, path, "expected an integer, got %s", type_name(type));
	int64_t v = config_setting_get_int64(s);
	if (v < lo || v > hi)
		return fail(c, s, path, "must be in %" PRId64 "..%" PRId64 ", got %" PRId64, lo, hi, v);
	*out = v;
	return 0;
}

/*
 * Optional boolean GROUP.KEY into *out; untouched when absent. Only the
 * libconfig booleans true / false are accepted (not 1, not "yes").
 */
int get_bool(const struct porter_cfg_ctx *c, const config_setting_t *group, const char *prefix,
		    const char *key, bool *out)
{
	const config_setting_t *s = group != NULL ? config_setting_get_member(group, key) : NULL;
	if (s == NULL)
		return 0;
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_BOOL) {
		char path[SETTING_PATH_LEN];
		join(path, prefix, key);
		return fail(c, s, path, "expected a boolean (true or false), got %s", type_name(type));
	}
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/*
 * String GROUP.KEY into dst[size]; absent: error if MANDATORY (reported at
 * the group's line), else dst untouched. Never truncates.
 * *found (if not NULL) gets the setting or NULL.
 */
int get_str(const struct porter_cfg_ctx *c, const config_setting_t *group, const char *prefix,
		   const char *key, bool mandatory, char *dst, size_t size,
		   const config_setting_t **found)
{
	const config_setting_t *s = group != NULL ? config_setting_get_member(group, key) : NULL;
	char path[SETTING_PATH_LEN];
	join(path, prefix, key);
	if (found != NULL)
		*found = s;
	if (s == NULL)
		return mandatory ? fail(c, group, path, "missing mandatory setting") : 0;
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_STRING)
		return fail(c, s, path, "expected a string, got %s", type_name(type));
	const char *v = config_setting_get_string(s);
	size_t n = strlen(v);
	if (n >= size)
		return fail(c, s, path, "too long (%zu characters, at most %zu)", n, size - 1);
	memcpy(dst, v, n + 1);
	return 0;
}

/*
 * Optional list KEY of PARENT (its path is PATH): a list of LO..HI groups.
 * *out = NULL when absent.
 */
int get_list(const struct porter_cfg_ctx *c, const config_setting_t *parent, const char *path,
		    const char *key, int lo, int hi, const config_setting_t **out)
{
	const config_setting_t *list = config_setting_get_member(parent, key);

	*out = list;
	if (list == NULL)
		return 0;
	if (!config_setting_is_list(list))
		return fail(c, list, path, "expected a list of groups ( { ... }, ... ), got %s",
			    type_name(config_setting_type(list)));
	int n = config_setting_length(list);
	if (n < lo || n > hi)
		return fail(c, list, path, "must have %d..%d entries, got %d", lo, hi, n);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Address syntax                                                           */
/* ------------------------------------------------------------------------ */

int porter_parse_ipv4(const char *s, uint32_t *out)
{
	uint32_t ip = 0;
	if (s == NULL)
		return -1;
	for (int part = 0; part < 4; part++) {
		if (part > 0 && *s++ != '.')
			return -1;
		unsigned v = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		/* 1..3 digits, no leading zero (it would read as octal elsewhere). */
		if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[-digits] == '0'))
			return -1;
		ip = ip << 8 | v;
	}
	if (*s != '\0')
		return -1;
	if (out != NULL)
		*out = ip;
	return 0;
}

void porter_fmt_ipv4(uint32_t ip_host, char dst[16])
{
	snprintf(dst, 16, "%u.%u.%u.%u", (unsigned)(ip_host >> 24) & 0xffu,
		 (unsigned)(ip_host >> 16) & 0xffu, (unsigned)(ip_host >> 8) & 0xffu,
		 (unsigned)ip_host & 0xffu);
}

void porter_fmt_mac(const uint8_t mac[6], char dst[18])
{
	snprintf(dst, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Exactly "xx:xx:xx:xx:xx:xx", hex digits of either case. */
int parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hexval(p[0]), lo = hexval(p[1]);
		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

uint32_t prefix_mask(unsigned len)
{
	return len == 0 ? 0 : ~(uint32_t)0 << (32 - len);
}

int porter_cfg_rate(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path, uint16_t *out)
{
	long long v = config_setting_get_int64(s);

	if (v != 0 && v < PORTER_RATE_MIN)
		return fail(c, s, path, "%lld bytes per second is below the smallest limit, %u (0 = no limit)",
			    v, PORTER_RATE_MIN);
	*out = porter_rate16((uint64_t)v);
	return 0;
}

/* "a.b.c.d/len" with len MIN_LEN..32; sets a message in why[] on failure. */
int parse_cidr(const char *s, unsigned min_len, uint32_t *ip, uint8_t *len, char *why,
		      size_t whylen)
{
	char q[QUOTE_LEN + 4];
	const char *slash = strchr(s, '/');
	if (slash == NULL) {
		snprintf(why, whylen, "missing \"/len\" in \"%s\" (expected a.b.c.d/len)", quote(q, s));
		return -1;
	}
	char addr[16] = "";
	size_t alen = (size_t)(slash - s);
	if (alen < sizeof(addr)) {
		memcpy(addr, s, alen);
		addr[alen] = '\0';
	}
	if (alen >= sizeof(addr) || porter_parse_ipv4(addr, ip) != 0) {
		snprintf(why, whylen, "bad address in \"%s\" (expected a.b.c.d/len, each part 0..255)",
			 quote(q, s));
		return -1;
	}
	const char *p = slash + 1;
	unsigned v = 0;
	int digits = 0;
	while (p[digits] >= '0' && p[digits] <= '9' && digits < 3)
		v = v * 10 + (unsigned)(p[digits++] - '0');
	if (digits == 0 || p[digits] != '\0' || (digits > 1 && p[0] == '0')) {
		snprintf(why, whylen, "bad prefix length in \"%s\" (expected a.b.c.d/len, len %u..32)",
			 quote(q, s), min_len);
		return -1;
	}
	if (v < min_len || v > 32) {
		snprintf(why, whylen, "prefix length must be in %u..32, got %u", min_len, v);
		return -1;
	}
	*len = (uint8_t)v;
	return 0;
}

bool all_chars_in(const char *s, const char *extra)
{
	for (; *s != '\0'; s++) {
		char ch = *s;
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
		if (!alnum && strchr(extra, ch) == NULL)
			return false;
	}
	return true;
}

/* A number 0..max, no sign, no leading zero; advances *s. */
int scan_uint(const char **s, unsigned max, unsigned *out)
{
	const char *p = *s;
	unsigned v = 0;
	int digits = 0;
	while (*p >= '0' && *p <= '9' && digits < 5) {
		v = v * 10 + (unsigned)(*p++ - '0');
		digits++;
	}
	if (digits == 0 || (digits > 1 && **s == '0') || v > max || (*p >= '0' && *p <= '9'))
		return -1;
	*s = p;
	*out = v;
	return 0;
}

const char *bad_host(uint32_t ip, uint32_t net_ip, unsigned len)
{
	uint32_t mask = prefix_mask(len);
	uint8_t first = (uint8_t)(ip >> 24);
	if (first == 0)
		return "is in 0.0.0.0/8 (\"this network\")";
	if (first == 127)
		return "is a loopback address";
	if (first >= 224)
		return "is a multicast or reserved address";
	if (len <= 30 && (ip & ~mask) == 0 && (ip & mask) == (net_ip & mask))
		return "is the network address of its subnet";
	if (len <= 30 && (ip & ~mask) == ~mask && (ip & mask) == (net_ip & mask))
		return "is the broadcast address of its subnet";
	return NULL;
}

/* "a.b.c.d:port", port 1..65535 without leading zero. */
int parse_hostport(const char *s, uint32_t *ip, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	char addr[16];
	unsigned v;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(colon - s));
	addr[colon - s] = '\0';
	const char *p = colon + 1;
	if (porter_parse_ipv4(addr, ip) != 0 || scan_uint(&p, 65535, &v) != 0 || *p != '\0' || v == 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Whole file                                                               */
/* ------------------------------------------------------------------------ */

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_name_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '*';
}

/*
 * libconfig 1.5 reads a decimal integer without an L suffix with atoi() and a
 * hex one into an int, so 4294967396 silently becomes 100. Scan the (already
 * successfully parsed) text for such literals and refuse them. With the L
 * suffix, a decimal literal past 64 bits saturates and a hex one wraps: refuse
 * those too. Files pulled in with @include are not scanned.
 */
static int check_int_literals(const struct porter_cfg_ctx *c, const char *p)
{
	unsigned line = 1;
	while (*p != '\0') {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/'); p++)
				line += *p == '\n';
			p += *p != '\0' ? 2 : 0;
		} else if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				line += *p == '\n';
			}
			p += *p != '\0';
		} else if (is_name_start(*p)) {
			while (is_name_start(*p) || is_digit(*p) || *p == '-' || *p == '_')
				p++;
		} else if (is_digit(*p) || ((*p == '-' || *p == '+' || *p == '.') &&
					    (is_digit(p[1]) || p[1] == '.'))) {
			const char *start = p;
			bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
			bool fits, fits64;
			if (hex) {
				for (p += 2; hexval(*p) >= 0; p++)
					;
				errno = 0;
				unsigned long long v = strtoull(start, NULL, 16);
				fits = errno == 0 && v <= INT32_MAX;
				fits64 = errno == 0 && v <= INT64_MAX;
			} else {
				if (*p == '-' || *p == '+')
					p++;
				while (is_digit(*p))
					p++;
				if (*p == '.' || *p == 'e' || *p == 'E') {     /* a float */
					while (is_digit(*p) || *p == '.' || *p == 'e' || *p == 'E' ||
					       *p == '-' || *p == '+')
						p++;
					continue;
				}
				errno = 0;
				long long v = strtoll(start, NULL, 10);
				fits = errno == 0 && v >= INT32_MIN && v <= INT32_MAX;
				fits64 = errno == 0;
			}
			if (*p == 'L') {                                  /* 64-bit literal */
				const char *end = p;
				while (*p == 'L')
					p++;
				if (!fits64)
					return fail_at(c, c->name, line, "syntax",
						       "integer %.*s does not fit in 64 bits",
						       (int)(end - start), start);
				continue;
			}
			if (!fits)
				return fail_at(c, c->name, line, "syntax",
					       "integer %.*s does not fit in 32 bits", (int)(p - start),
					       start);
		} else {
			p++;
		}
	}
	return 0;
}

/* Every row of the fixed groups to its default; no list entries. */
static void set_defaults(struct porter_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	porter_cfg_apply_defaults(porter_cfg_tables[0], cfg);
}

/*
 * net_af_xdp hands the kernel mbufs of the shared pool for its fill ring at
 * start-up and keeps them there (2048 per port, DPDK 22.11; measured as
 * "in use" on an idle gateway): the pool must hold those and still the
 * smallest pool porter accepts for everything else.
 */
#define AF_XDP_FILL_MBUFS 2048
#define MBUFS_MIN         1023

static int check_mbufs(const struct porter_cfg_ctx *c, const config_setting_t *root,
		       const struct porter_config *cfg)
{
	unsigned int xdp = 0;

	for (unsigned int i = 0; i < cfg->port_count; i++)
		if (strncmp(cfg->ports[i].device, "net_af_xdp", 10) == 0)
			xdp++;
	if ((uint64_t)cfg->dataplane.mbufs < (uint64_t)xdp * AF_XDP_FILL_MBUFS + MBUFS_MIN) {
		const config_setting_t *dp = config_setting_get_member(root, "dataplane");
		const config_setting_t *s = dp != NULL ? config_setting_get_member(dp, "mbufs") : NULL;

		return fail(c, s != NULL ? s : root, "dataplane.mbufs",
			    "%u net_af_xdp port(s) keep %u mbufs each in their fill ring: need at least "
			    "%u, got %" PRIu32, xdp, AF_XDP_FILL_MBUFS, xdp * AF_XDP_FILL_MBUFS + MBUFS_MIN,
			    cfg->dataplane.mbufs);
	}
	return 0;
}

/* Checks that span groups. */
static int check_cross(const struct porter_cfg_ctx *c, const config_setting_t *root,
		       const struct porter_config *cfg)
{
	/* The primary runs on lcore_base, shard s on lcore_base + 1 + s. */
	if (cfg->eal.lcore_base + cfg->workers.count > LCORE_MAX) {
		const config_setting_t *eal = config_setting_get_member(root, "eal");
		const config_setting_t *s = eal != NULL ? config_setting_get_member(eal, "lcore_base") : NULL;
		return fail(c, s != NULL ? s : root, "eal.lcore_base",
			    "eal.lcore_base + workers.count (%" PRIu32 " + %" PRIu32
			    ") must be <= %d (the last lcore id)",
			    cfg->eal.lcore_base, cfg->workers.count, LCORE_MAX);
	}
	return check_mbufs(c, root, cfg);
}

static int parse_text(const struct porter_cfg_ctx *c, const char *text, struct porter_config *out)
{
	static const char *const known[] = { "eal", "ports", "static_routes", "workers", "dataplane", "tcp",
					     "listeners", "upstreams", "routes", "http", "client_limits",
					     "control", "metrics", NULL };
	config_t cfg;
	int rc = -1;

	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		const char *file = config_error_file(&cfg);
		int line = config_error_line(&cfg);
		fail_at(c, file != NULL ? file : c->name, line > 0 ? (unsigned)line : 0, "syntax", "%s",
			config_error_text(&cfg));
		goto out;
	}
	const config_setting_t *root = config_root_setting(&cfg);
	if (c->all) {
		/* every group, each to its first error; the checks across groups only when they all
		 * passed (they would repeat what a broken group already said) */
		int bad = (check_int_literals(c, text) != 0) + (check_known(c, root, "", known) != 0) +
			  (parse_fixed_group(c, root, "eal", out) != 0) + (parse_ports(c, root, out) != 0) +
			  (parse_static_routes(c, root, out) != 0) + (parse_fixed_group(c, root, "workers", out) != 0) +
			  (parse_fixed_group(c, root, "dataplane", out) != 0) + (parse_fixed_group(c, root, "tcp", out) != 0);
		int up_bad = parse_upstreams(c, root, out) != 0;

		/* listeners and routes name upstreams: after a broken upstreams group they would only
		 * report the names it did not get to */
		bad += up_bad;
		if (!up_bad)
			bad += (parse_listeners(c, root, out) != 0) + (parse_routes(c, root, out) != 0);
		bad += (parse_fixed_group(c, root, "http", out) != 0) +
		       (parse_fixed_group(c, root, "client_limits", out) != 0) +
		       (parse_fixed_group(c, root, "control", out) != 0) +
		       (parse_fixed_group(c, root, "metrics", out) != 0);
		if (bad == 0 && check_cross(c, root, out) != 0)
			bad++;
		rc = bad ? -1 : 0;
		goto out;
	}
	if (check_int_literals(c, text) != 0 ||
	    check_known(c, root, "", known) != 0 ||
	    parse_fixed_group(c, root, "eal", out) != 0 ||
	    parse_ports(c, root, out) != 0 ||
	    parse_static_routes(c, root, out) != 0 ||
	    parse_fixed_group(c, root, "workers", out) != 0 ||
	    parse_fixed_group(c, root, "dataplane", out) != 0 ||
	    parse_fixed_group(c, root, "tcp", out) != 0 ||
	    parse_upstreams(c, root, out) != 0 ||
	    parse_listeners(c, root, out) != 0 ||
	    parse_routes(c, root, out) != 0 ||
	    parse_fixed_group(c, root, "http", out) != 0 ||
	    parse_fixed_group(c, root, "client_limits", out) != 0 ||
	    parse_fixed_group(c, root, "control", out) != 0 ||
	    parse_fixed_group(c, root, "metrics", out) != 0 ||
	    check_cross(c, root, out) != 0)
		goto out;
	rc = 0;
out:
	config_destroy(&cfg);
	return rc;
}

static int start(const struct porter_cfg_ctx *c, struct porter_config *out)
{
	if (c->err != NULL && c->errlen > 0)
		c->err[0] = '\0';
	if (out == NULL)
		return fail_at(c, c->name, 0, "file", "%s", strerror(EINVAL));
	set_defaults(out);
	size_t n = strlen(c->name);
	if (n >= sizeof(out->path))
		return fail_at(c, c->name, 0, "file", "path too long (%zu characters, at most %zu)", n,
			       sizeof(out->path) - 1);
	memcpy(out->path, c->name, n + 1);
	return 0;
}

int porter_config_parse_string(const char *text, const char *name, struct porter_config *out,
			       char *err, size_t errlen)
{
	struct porter_cfg_ctx c = { .name = name != NULL ? name : "<string>", .err = err, .errlen = errlen,
				    .cfg = out };

	if (start(&c, out) != 0)
		return -1;
	if (text == NULL)
		return fail_at(&c, c.name, 0, "file", "%s", strerror(EINVAL));
	return parse_text(&c, text, out);
}

static int load(const char *path, struct porter_config *out, char *err, size_t errlen, bool all,
		unsigned int *nerr)
{
	struct porter_cfg_ctx c = { .name = path != NULL ? path : "(null)", .err = err, .errlen = errlen, .all = all,
				    .nerr = nerr, .cfg = out };
	char *text = NULL;
	size_t len = 0;
	int rc = -1;

	if (start(&c, out) != 0)
		return -1;
	if (path == NULL)
		return fail_at(&c, c.name, 0, "file", "%s", strerror(EINVAL));

	FILE *f = fopen(path, "r");
	if (f == NULL)
		return fail_at(&c, path, 0, "file", "%s", strerror(errno));
	text = malloc(MAX_FILE_SIZE + 1);
	if (text == NULL) {
		fail_at(&c, path, 0, "file", "%s", strerror(ENOMEM));
		goto out;
	}
	errno = 0;
	len = fread(text, 1, MAX_FILE_SIZE + 1, f);
	if (ferror(f)) {
		fail_at(&c, path, 0, "file", "%s", strerror(errno != 0 ? errno : EIO));
		goto out;
	}
	if (len > MAX_FILE_SIZE) {
		fail_at(&c, path, 0, "file", "larger than %d bytes", MAX_FILE_SIZE);
		goto out;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		fail_at(&c, path, 0, "file", "contains a NUL byte (not a text file)");
		goto out;
	}
	rc = parse_text(&c, text, out);
out:
	free(text);
	fclose(f);
	return rc;
}

int porter_config_load(const char *path, struct porter_config *out, char *err, size_t errlen)
{
	return load(path, out, err, errlen, false, NULL);
}

int porter_config_check(const char *path, struct porter_config *out, char *err, size_t errlen,
			unsigned int *nerr)
{
	*nerr = 0;
	return load(path, out, err, errlen, true, nerr);
}

/* ------------------------------------------------------------------------ */
/* Reload                                                                   */
/* ------------------------------------------------------------------------ */

/* Row R of the fixed groups differs between A and B (strings up to their NUL). */
static bool row_differs(const struct porter_config *a, const struct porter_config *b,
			const struct porter_cfg_row *r)
{
	const char *pa = (const char *)a + r->off, *pb = (const char *)b + r->off;
	return r->type == PORTER_CFG_STR ? strncmp(pa, pb, r->size) != 0 : memcmp(pa, pb, r->size) != 0;
}

static bool port_differs(const struct porter_cfg_port *a, const struct porter_cfg_port *b)
{
	return strcmp(a->name, b->name) != 0 || strcmp(a->device, b->device) != 0 ||
	       memcmp(a->mac, b->mac, sizeof(a->mac)) != 0 || a->ipv4 != b->ipv4 ||
	       a->prefix_len != b->prefix_len || a->gateway != b->gateway || a->mtu != b->mtu ||
	       a->csum_offload != b->csum_offload;
}

static bool static_route_differs(const struct porter_cfg_static_route *a,
				 const struct porter_cfg_static_route *b)
{
	return a->dst != b->dst || a->prefix_len != b->prefix_len || a->via != b->via;
}

/* The name of the upstream of listener L of CFG, "" when it has none. */
static const char *listener_upstream(const struct porter_config *cfg, const struct porter_cfg_listener *l)
{
	if (l->upstream < 0 || (uint32_t)l->upstream >= cfg->upstream_count)
		return "";
	return cfg->upstreams[l->upstream].name;
}

/*
 * A tcp listener's upstream is compared by name: reordering `upstreams` is a
 * reload, pointing the listener at another upstream is a restart. Whether a
 * listener has `tls` is compared, what its `tls` group holds is not: new
 * certificates, protocols, ciphers and ALPN are a reload (new TLS contexts
 * for new connections, secondary/tls/tls_conf.h).
 */
static bool listener_differs(const struct porter_config *a, const struct porter_cfg_listener *la,
			     const struct porter_config *b, const struct porter_cfg_listener *lb)
{
	return la->port != lb->port || la->service != lb->service || la->bytes != lb->bytes ||
	       la->client_limits != lb->client_limits || la->rate_limit != lb->rate_limit || la->tls != lb->tls ||
	       strcmp(listener_upstream(a, la), listener_upstream(b, lb)) != 0;
}

__attribute__((format(printf, 4, 5)))
static int refuse(const struct porter_config *next, char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return -1;
	int n = snprintf(err, errlen, "%s: ", next != NULL ? next->path : "(null)");
	if (n >= 0 && (size_t)n < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	for (char *p = err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

/*
 * The rows of the fixed groups without F_RELOAD, in table order; the lists
 * that need a restart are compared where docs/CONFIG.md has them: ports and
 * static_routes before workers, listeners before client_limits.table_size.
 */
int porter_config_check_reload(const struct porter_config *old, const struct porter_config *next,
			       char *err, size_t errlen)
{
	static const char restart[] = "changed; needs a restart";
	const struct porter_cfg_table *t = porter_cfg_tables[0];

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (old == NULL || next == NULL)
		return refuse(next, err, errlen, "file: %s", strerror(EINVAL));

	for (size_t i = 0; i < t->n; i++) {
		const struct porter_cfg_row *r = &t->rows[i];

		if (strcmp(r->path, "workers") == 0) {
			bool ports = old->port_count != next->port_count;
			for (uint32_t p = 0; p < old->port_count && !ports; p++)
				ports = port_differs(&old->ports[p], &next->ports[p]);
			if (ports)
				return refuse(next, err, errlen, "ports: %s", restart);
			bool sr = old->static_route_count != next->static_route_count;
			for (uint32_t k = 0; k < old->static_route_count && !sr; k++)
				sr = static_route_differs(&old->static_routes[k], &next->static_routes[k]);
			if (sr)
				return refuse(next, err, errlen, "static_routes: %s", restart);
		}
		if (strcmp(r->path, "client_limits.table_size") == 0) {
			bool ls = old->listener_count != next->listener_count;
			for (uint32_t l = 0; l < old->listener_count && !ls; l++)
				ls = listener_differs(old, &old->listeners[l], next, &next->listeners[l]);
			if (ls)
				return refuse(next, err, errlen, "listeners: %s", restart);
		}
		if ((r->flags & PORTER_CFG_F_RELOAD) || r->off == PORTER_CFG_NO_OFF)
			continue;
		if (row_differs(old, next, r))
			return refuse(next, err, errlen, "%s: %s", r->path, restart);
	}
	return 0;
}

void porter_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
