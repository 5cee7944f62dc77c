/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porter configuration: parse and validate one libconfig file into a
 * struct porter_config (see config.h for the contract and docs/CONFIG.md for
 * the reference of every setting).
 *
 * Shape of the code: porter_config_parse_string() reads the text with
 * libconfig, then one small function per top-level group (parse_eal,
 * parse_ports/parse_port, parse_static_routes/parse_static_route,
 * parse_workers, parse_dataplane, parse_tcp,
 * parse_upstreams/parse_upstream, parse_listeners/parse_listener,
 * parse_routes/parse_route, parse_http, parse_client_limits, parse_control)
 * checks for unknown
 * settings, reads and range-checks every value and runs the cross checks of
 * its group. The first problem found stops the parse and is reported as one
 * line "FILE:LINE: SETTING: MESSAGE".
 *
 * Groups are parsed in that fixed order whatever their order in the file:
 * static routes come after the ports whose subnets hold their next hops,
 * upstreams come before listeners and routes, so the upstream names those
 * use are resolved as they are read, and listeners before routes, whose
 * `listener` names an http listener's port.
 *
 * porter_config_check_reload() compares two loaded configurations field by
 * field (never with memcmp: a string field may hold bytes past its NUL).
 *
 * Pure C, no DPDK include, no global mutable state.
 */
#include "config/config.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <libconfig.h>

/* Ranges that config.h leaves open; documented in docs/CONFIG.md. */
#define LCORE_MAX          127          /* RTE_MAX_LCORE (128) - 1 of the Debian DPDK build */
#define DESC_MIN           64
#define DESC_MAX           16384
#define CPU_ID_MAX         1023         /* CPU_SETSIZE - 1 */
#define MAX_FILE_SIZE      (1024 * 1024)
#define SUN_PATH_MAX       (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define SETTING_PATH_LEN   160
#define QUOTE_LEN          64           /* longest user value echoed in a message */

/* Where messages go, and the name that stands for the file. */
struct ctx {
	const char *name;
	char *err;
	size_t errlen;
	/* porter_config_check: every error, one per line, appended to err (else the first only) */
	bool all;
	unsigned int *nerr;
};

/* ------------------------------------------------------------------------ */
/* Error reporting                                                          */
/* ------------------------------------------------------------------------ */

static int vfail_at(const struct ctx *c, const char *file, unsigned line, const char *setting,
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

__attribute__((format(printf, 5, 6)))
static int fail_at(const struct ctx *c, const char *file, unsigned line, const char *setting,
		   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(c, file, line, setting, fmt, ap);
	va_end(ap);
	return -1;
}

/* Report against setting AT (its file and line; the root has line 0). */
__attribute__((format(printf, 4, 5)))
static int fail(const struct ctx *c, const config_setting_t *at, const char *path,
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
static const char *quote(char buf[QUOTE_LEN + 4], const char *s)
{
	size_t n = strlen(s);
	if (n <= QUOTE_LEN)
		return s;
	memcpy(buf, s, QUOTE_LEN);
	memcpy(buf + QUOTE_LEN, "...", 4);
	return buf;
}

static const char *type_name(int type)
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
static void join(char dst[SETTING_PATH_LEN], const char *prefix, const char *key)
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
static int check_known(const struct ctx *c, const config_setting_t *group, const char *prefix,
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
static int get_group(const struct ctx *c, const config_setting_t *parent, const char *prefix,
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
static int get_int(const struct ctx *c, const config_setting_t *group, const char *prefix,
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

/* get_int() into a uint32_t; LO..HI must lie within 0..UINT32_MAX. */
static int get_u32(const struct ctx *c, const config_setting_t *group, const char *prefix,
		   const char *key, int64_t lo, int64_t hi, uint32_t *out,
		   const config_setting_t **found)
{
	int64_t v = *out;
	if (get_int(c, group, prefix, key, lo, hi, &v, found) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* get_int() into a uint64_t; LO..HI must lie within 0..INT64_MAX. */
static int get_u64(const struct ctx *c, const config_setting_t *group, const char *prefix,
		   const char *key, int64_t lo, int64_t hi, uint64_t *out,
		   const config_setting_t **found)
{
	int64_t v = (int64_t)*out;
	if (get_int(c, group, prefix, key, lo, hi, &v, found) != 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/*
 * Optional boolean GROUP.KEY into *out; untouched when absent. Only the
 * libconfig booleans true / false are accepted (not 1, not "yes").
 */
static int get_bool(const struct ctx *c, const config_setting_t *group, const char *prefix,
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
static int get_str(const struct ctx *c, const config_setting_t *group, const char *prefix,
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
static int get_list(const struct ctx *c, const config_setting_t *parent, const char *path,
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

static int hexval(char ch)
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
static int parse_mac(const char *s, uint8_t mac[6])
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

static uint32_t prefix_mask(unsigned len)
{
	return len == 0 ? 0 : ~(uint32_t)0 << (32 - len);
}

/* "a.b.c.d/len" with len MIN_LEN..32; sets a message in why[] on failure. */
static int parse_cidr(const char *s, unsigned min_len, uint32_t *ip, uint8_t *len, char *why,
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

/* ------------------------------------------------------------------------ */
/* eal                                                                      */
/* ------------------------------------------------------------------------ */

static bool all_chars_in(const char *s, const char *extra)
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
static int scan_uint(const char **s, unsigned max, unsigned *out)
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

static int parse_eal(const struct ctx *c, const config_setting_t *root, struct porter_cfg_eal *e)
{
	static const char *const known[] = { "file_prefix", "lcore_base", "cpus", "log_level", NULL };
	const config_setting_t *g, *s;
	char q[QUOTE_LEN + 4];

	if (get_group(c, root, "", "eal", &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	if (check_known(c, g, "eal", known) != 0 ||
	    get_u32(c, g, "eal", "lcore_base", 0, LCORE_MAX, &e->lcore_base, NULL) != 0)
		return -1;

	if (get_str(c, g, "eal", "file_prefix", false, e->file_prefix, sizeof(e->file_prefix), &s) != 0)
		return -1;
	if (s != NULL && (e->file_prefix[0] == '\0' || !all_chars_in(e->file_prefix, "_-")))
		return fail(c, s, "eal.file_prefix",
			    "must be non-empty and use only A-Z a-z 0-9 _ -, got \"%s\"",
			    quote(q, e->file_prefix));

	if (get_str(c, g, "eal", "cpus", false, e->cpus, sizeof(e->cpus), &s) != 0)
		return -1;
	if (s != NULL && valid_cpu_list(e->cpus) != 0)
		return fail(c, s, "eal.cpus",
			    "expected \"\" or a CPU list such as \"2-5,8\" (CPUs 0..%d), got \"%s\"",
			    CPU_ID_MAX, quote(q, e->cpus));

	if (get_str(c, g, "eal", "log_level", false, e->log_level, sizeof(e->log_level), &s) != 0)
		return -1;
	if (s != NULL && valid_log_level(e->log_level) != 0)
		return fail(c, s, "eal.log_level",
			    "expected emergency, alert, critical, error, warning, notice, info, debug "
			    "or 1..8, optionally after \"PATTERN:\", got \"%s\"", quote(q, e->log_level));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* ports                                                                    */
/* ------------------------------------------------------------------------ */

/* Why IP (host order) cannot be an address on subnet IP/LEN; NULL if it can. */
static const char *bad_host(uint32_t ip, uint32_t net_ip, unsigned len)
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

static int parse_port(const struct ctx *c, const config_setting_t *el, unsigned idx,
		      struct porter_cfg_port *p)
{
	static const char *const known[] = { "name", "device", "mac", "ipv4", "gateway", "mtu",
					     "checksum_offload", NULL };
	char pre[SETTING_PATH_LEN], path[SETTING_PATH_LEN], q[QUOTE_LEN + 4];
	char tmp[PORTER_CFG_PATH_LEN], why[PORTER_CFG_ERR_LEN], a[16];
	const config_setting_t *s;

	snprintf(pre, sizeof(pre), "ports[%u]", idx);
	if (!config_setting_is_group(el))
		return fail(c, el, pre, "expected a group { name = ...; ... }, got %s",
			    type_name(config_setting_type(el)));
	if (check_known(c, el, pre, known) != 0)
		return -1;

	/* name */
	if (get_str(c, el, pre, "name", true, p->name, sizeof(p->name), &s) != 0)
		return -1;
	if (p->name[0] == '\0' || !all_chars_in(p->name, "_.-")) {
		join(path, pre, "name");
		return fail(c, s, path, "must be non-empty and use only A-Z a-z 0-9 _ . -, got \"%s\"",
			    quote(q, p->name));
	}

	/* device: the vdev name is the part before the first ',' */
	if (get_str(c, el, pre, "device", true, p->device, sizeof(p->device), &s) != 0)
		return -1;
	if (p->device[0] == '\0' || p->device[0] == ',') {
		join(path, pre, "device");
		return fail(c, s, path, "expected a device such as \"net_tap0,iface=porter0\", got \"%s\"",
			    quote(q, p->device));
	}

	/* mac */
	if (get_str(c, el, pre, "mac", true, tmp, sizeof(tmp), &s) != 0)
		return -1;
	join(path, pre, "mac");
	if (parse_mac(tmp, p->mac) != 0)
		return fail(c, s, path, "bad MAC address \"%s\" (expected xx:xx:xx:xx:xx:xx, hex)",
			    quote(q, tmp));
	if (p->mac[0] & 1)
		return fail(c, s, path, "%s is a multicast address (low bit of the first byte set)", tmp);
	if ((p->mac[0] | p->mac[1] | p->mac[2] | p->mac[3] | p->mac[4] | p->mac[5]) == 0)
		return fail(c, s, path, "must not be all zero");

	/* ipv4 */
	if (get_str(c, el, pre, "ipv4", true, tmp, sizeof(tmp), &s) != 0)
		return -1;
	join(path, pre, "ipv4");
	if (parse_cidr(tmp, 1, &p->ipv4, &p->prefix_len, why, sizeof(why)) != 0)
		return fail(c, s, path, "%s", why);
	const char *bad = bad_host(p->ipv4, p->ipv4, p->prefix_len);
	if (bad != NULL)
		return fail(c, s, path, "%s %s", tmp, bad);

	/* gateway: optional, "" = none */
	if (get_str(c, el, pre, "gateway", false, tmp, sizeof(tmp), &s) != 0)
		return -1;
	if (s != NULL && tmp[0] != '\0') {
		uint32_t mask = prefix_mask(p->prefix_len);
		join(path, pre, "gateway");
		if (porter_parse_ipv4(tmp, &p->gateway) != 0)
			return fail(c, s, path, "bad address \"%s\" (expected a.b.c.d, each part 0..255)",
				    quote(q, tmp));
		porter_fmt_ipv4(p->ipv4 & mask, a);
		if ((p->gateway & mask) != (p->ipv4 & mask))
			return fail(c, s, path, "%s is outside the port's subnet %s/%u", tmp, a,
				    (unsigned)p->prefix_len);
		if (p->gateway == p->ipv4)
			return fail(c, s, path, "%s is the port's own address", tmp);
		bad = bad_host(p->gateway, p->ipv4, p->prefix_len);
		if (bad != NULL)
			return fail(c, s, path, "%s %s", tmp, bad);
	}

	/* mtu */
	uint32_t mtu = p->mtu;
	if (get_u32(c, el, pre, "mtu", 576, 9000, &mtu, NULL) != 0)
		return -1;
	p->mtu = (uint16_t)mtu;

	/* checksum_offload: "auto" (default), "on", "off" */
	if (get_str(c, el, pre, "checksum_offload", false, tmp, sizeof(tmp), &s) != 0)
		return -1;
	if (s != NULL) {
		if (strcmp(tmp, "auto") == 0)
			p->csum_offload = PORTER_CSUM_OFFLOAD_AUTO;
		else if (strcmp(tmp, "on") == 0)
			p->csum_offload = PORTER_CSUM_OFFLOAD_ON;
		else if (strcmp(tmp, "off") == 0)
			p->csum_offload = PORTER_CSUM_OFFLOAD_OFF;
		else {
			join(path, pre, "checksum_offload");
			return fail(c, s, path, "expected \"auto\", \"on\" or \"off\", got \"%s\"",
				    quote(q, tmp));
		}
	}
	return 0;
}

/* Length of the vdev name: the device string up to the first ','. */
static size_t devname_len(const char *dev)
{
	return strcspn(dev, ",");
}

/* Names, devices and addresses must be unique; report on the later port. */
static int check_port_duplicates(const struct ctx *c, const config_setting_t *list,
				 const struct porter_config *cfg, unsigned i)
{
	const struct porter_cfg_port *p = &cfg->ports[i];
	const config_setting_t *el = config_setting_get_elem(list, i);
	char path[SETTING_PATH_LEN], pre[SETTING_PATH_LEN], a[16];

	snprintf(pre, sizeof(pre), "ports[%u]", i);
	for (unsigned j = 0; j < i; j++) {
		const struct porter_cfg_port *o = &cfg->ports[j];
		size_t dl = devname_len(p->device);
		if (strcmp(p->name, o->name) == 0) {
			join(path, pre, "name");
			return fail(c, config_setting_get_member(el, "name"), path,
				    "duplicate name \"%s\" (already used by ports[%u])", p->name, j);
		}
		if (dl == devname_len(o->device) && memcmp(p->device, o->device, dl) == 0) {
			join(path, pre, "device");
			return fail(c, config_setting_get_member(el, "device"), path,
				    "device \"%.*s\" already used by ports[%u]", (int)dl, p->device, j);
		}
		if (p->ipv4 == o->ipv4) {
			porter_fmt_ipv4(p->ipv4, a);
			join(path, pre, "ipv4");
			return fail(c, config_setting_get_member(el, "ipv4"), path,
				    "address %s already used by ports[%u]", a, j);
		}
	}
	return 0;
}

static int parse_ports(const struct ctx *c, const config_setting_t *root, struct porter_config *cfg)
{
	const config_setting_t *list = config_setting_get_member(root, "ports");

	if (list == NULL)
		return fail(c, root, "ports", "missing mandatory setting");
	if (!config_setting_is_list(list))
		return fail(c, list, "ports", "expected a list of groups ( { ... }, ... ), got %s",
			    type_name(config_setting_type(list)));
	int n = config_setting_length(list);
	if (n < 1 || n > PORTER_CFG_MAX_PORTS)
		return fail(c, list, "ports", "must have 1..%d entries, got %d", PORTER_CFG_MAX_PORTS, n);

	for (unsigned i = 0; i < (unsigned)n; i++) {
		cfg->ports[i].mtu = 1500;
		if (parse_port(c, config_setting_get_elem(list, i), i, &cfg->ports[i]) != 0 ||
		    check_port_duplicates(c, list, cfg, i) != 0)
			return -1;
	}
	cfg->port_count = (uint32_t)n;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* static_routes                                                            */
/* ------------------------------------------------------------------------ */

/* Index of the port whose subnet holds IP (longest prefix, then the lower index), or -1. */
static int port_holding(const struct porter_config *cfg, uint32_t ip)
{
	int best = -1;
	for (uint32_t i = 0; i < cfg->port_count; i++) {
		const struct porter_cfg_port *p = &cfg->ports[i];
		uint32_t mask = prefix_mask(p->prefix_len);
		if ((ip & mask) == (p->ipv4 & mask) && (best < 0 || p->prefix_len > cfg->ports[best].prefix_len))
			best = (int)i;
	}
	return best;
}

static int parse_static_route(const struct ctx *c, const config_setting_t *el, unsigned idx,
			      const struct porter_config *cfg, struct porter_cfg_static_route *r)
{
	static const char *const known[] = { "to", "via", NULL };
	char pre[SETTING_PATH_LEN], path[SETTING_PATH_LEN], q[QUOTE_LEN + 4];
	char tmp[PORTER_CFG_PATH_LEN], why[PORTER_CFG_ERR_LEN], a[16];
	const config_setting_t *s;

	snprintf(pre, sizeof(pre), "static_routes[%u]", idx);
	if (!config_setting_is_group(el))
		return fail(c, el, pre, "expected a group { to = ...; via = ...; }, got %s",
			    type_name(config_setting_type(el)));
	if (check_known(c, el, pre, known) != 0)
		return -1;

	/* to: a network, not one that a connected subnet would always win over */
	if (get_str(c, el, pre, "to", true, tmp, sizeof(tmp), &s) != 0)
		return -1;
	join(path, pre, "to");
	if (parse_cidr(tmp, 0, &r->dst, &r->prefix_len, why, sizeof(why)) != 0)
		return fail(c, s, path, "%s", why);
	uint32_t mask = prefix_mask(r->prefix_len);
	if ((r->dst & ~mask) != 0) {
		porter_fmt_ipv4(r->dst & mask, a);
		return fail(c, s, path, "%s has host bits set (the network is %s/%u)", tmp, a,
			    (unsigned)r->prefix_len);
	}
	for (uint32_t i = 0; i < cfg->port_count; i++) {
		const struct porter_cfg_port *p = &cfg->ports[i];
		uint32_t pmask = prefix_mask(p->prefix_len);
		if (r->prefix_len >= p->prefix_len && (r->dst & pmask) == (p->ipv4 & pmask)) {
			porter_fmt_ipv4(p->ipv4 & pmask, a);
			return fail(c, s, path, "%s is inside the subnet %s/%u of ports[%" PRIu32 "] (\"%s\"): "
				    "that port's subnet always wins, the route would never be used",
				    tmp, a, (unsigned)p->prefix_len, i, p->name);
		}
	}
	for (unsigned j = 0; j < idx; j++)
		if (cfg->static_routes[j].dst == r->dst && cfg->static_routes[j].prefix_len == r->prefix_len)
			return fail(c, s, path, "duplicate destination %s (already used by static_routes[%u])",
				    tmp, j);

	/* via: a next hop on one of the ports */
	if (get_str(c, el, pre, "via", true, tmp, sizeof(tmp), &s) != 0)
		return -1;
	join(path, pre, "via");
	if (porter_parse_ipv4(tmp, &r->via) != 0)
		return fail(c, s, path, "bad address \"%s\" (expected a.b.c.d, each part 0..255)",
			    quote(q, tmp));
	int port = port_holding(cfg, r->via);
	if (port < 0)
		return fail(c, s, path, "%s is not inside the subnet of any port", tmp);
	const struct porter_cfg_port *p = &cfg->ports[port];
	for (uint32_t i = 0; i < cfg->port_count; i++)
		if (cfg->ports[i].ipv4 == r->via)
			return fail(c, s, path, "%s is the address of ports[%" PRIu32 "] (\"%s\")", tmp, i,
				    cfg->ports[i].name);
	const char *bad = bad_host(r->via, p->ipv4, p->prefix_len);
	if (bad != NULL)
		return fail(c, s, path, "%s %s", tmp, bad);
	r->port = (uint8_t)port;
	return 0;
}

static int parse_static_routes(const struct ctx *c, const config_setting_t *root, struct porter_config *cfg)
{
	const config_setting_t *list;

	if (get_list(c, root, "static_routes", "static_routes", 0, PORTER_CFG_MAX_STATIC_ROUTES, &list) != 0)
		return -1;
	int n = list != NULL ? config_setting_length(list) : 0;
	for (unsigned i = 0; i < (unsigned)n; i++)
		if (parse_static_route(c, config_setting_get_elem(list, i), i, cfg, &cfg->static_routes[i]) != 0)
			return -1;
	cfg->static_route_count = (uint32_t)n;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* workers                                                                  */
/* ------------------------------------------------------------------------ */

static int parse_workers(const struct ctx *c, const config_setting_t *root,
			 struct porter_cfg_workers *w)
{
	static const char *const known[] = { "count", "binary", "ready_timeout_ms", "restart_backoff_ms",
					     "max_restart_backoff_ms", "max_failed_starts",
					     "heartbeat_timeout_ms", "spin_us", "standby", "drain_timeout_ms", NULL };
	const config_setting_t *g, *s, *rb, *mrb;

	if (get_group(c, root, "", "workers", &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	if (check_known(c, g, "workers", known) != 0 ||
	    get_u32(c, g, "workers", "count", 1, PORTER_CFG_MAX_WORKERS, &w->count, NULL) != 0 ||
	    get_str(c, g, "workers", "binary", false, w->binary, sizeof(w->binary), &s) != 0 ||
	    get_u32(c, g, "workers", "ready_timeout_ms", 100, 600000, &w->ready_timeout_ms, NULL) != 0 ||
	    get_u32(c, g, "workers", "restart_backoff_ms", 0, 60000, &w->restart_backoff_ms, &rb) != 0 ||
	    get_u32(c, g, "workers", "max_restart_backoff_ms", 0, 3600000,
		    &w->max_restart_backoff_ms, &mrb) != 0 ||
	    get_u32(c, g, "workers", "max_failed_starts", 1, 1000, &w->max_failed_starts, NULL) != 0 ||
	    get_u32(c, g, "workers", "heartbeat_timeout_ms", 100, 600000,
		    &w->heartbeat_timeout_ms, NULL) != 0 ||
	    get_u32(c, g, "workers", "spin_us", 0, 100000, &w->spin_us, NULL) != 0 ||
	    get_bool(c, g, "workers", "standby", &w->standby) != 0 ||
	    get_u32(c, g, "workers", "drain_timeout_ms", 0, 3600000, &w->drain_timeout_ms, NULL) != 0)
		return -1;

	if (s != NULL && w->binary[0] == '\0')
		return fail(c, s, "workers.binary", "must not be empty");
	if (w->max_restart_backoff_ms < w->restart_backoff_ms) {
		/* Blame the one the user wrote; max when both are there. */
		if (mrb != NULL)
			return fail(c, mrb, "workers.max_restart_backoff_ms",
				    "must be >= workers.restart_backoff_ms (%" PRIu32 "), got %" PRIu32,
				    w->restart_backoff_ms, w->max_restart_backoff_ms);
		return fail(c, rb, "workers.restart_backoff_ms",
			    "must be <= workers.max_restart_backoff_ms (%" PRIu32 "), got %" PRIu32,
			    w->max_restart_backoff_ms, w->restart_backoff_ms);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* dataplane                                                                */
/* ------------------------------------------------------------------------ */

static int parse_dataplane(const struct ctx *c, const config_setting_t *root,
			   struct porter_cfg_dataplane *d)
{
	static const char *const known[] = { "mbufs", "mbuf_cache", "ring_size", "rx_desc", "tx_desc",
					     "primary_spin_us", "arp_timeout_ms", "arp_retry_ms",
					     "arp_retries", NULL };
	const config_setting_t *g, *ring, *cache, *mbufs;

	if (get_group(c, root, "", "dataplane", &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	if (check_known(c, g, "dataplane", known) != 0 ||
	    get_u32(c, g, "dataplane", "mbufs", 1023, 1048575, &d->mbufs, &mbufs) != 0 ||
	    get_u32(c, g, "dataplane", "mbuf_cache", 0, 512, &d->mbuf_cache, &cache) != 0 ||
	    get_u32(c, g, "dataplane", "ring_size", 64, 65536, &d->ring_size, &ring) != 0 ||
	    get_u32(c, g, "dataplane", "rx_desc", DESC_MIN, DESC_MAX, &d->rx_desc, NULL) != 0 ||
	    get_u32(c, g, "dataplane", "tx_desc", DESC_MIN, DESC_MAX, &d->tx_desc, NULL) != 0 ||
	    get_u32(c, g, "dataplane", "primary_spin_us", 0, 100000, &d->primary_spin_us, NULL) != 0 ||
	    get_u32(c, g, "dataplane", "arp_timeout_ms", 1000, 86400000, &d->arp_timeout_ms, NULL) != 0 ||
	    get_u32(c, g, "dataplane", "arp_retry_ms", 10, 60000, &d->arp_retry_ms, NULL) != 0 ||
	    get_u32(c, g, "dataplane", "arp_retries", 1, 100, &d->arp_retries, NULL) != 0)
		return -1;

	if ((d->ring_size & (d->ring_size - 1)) != 0)
		return fail(c, ring, "dataplane.ring_size",
			    "must be a power of two in 64..65536, got %" PRIu32, d->ring_size);
	/*
	 * DPDK mempool rule: cache * 1.5 <= pool size. With the ranges above it
	 * always holds; kept so that widening a range cannot slip past it.
	 */
	if ((uint64_t)d->mbuf_cache * 3 > (uint64_t)d->mbufs * 2)
		return fail(c, cache != NULL ? cache : mbufs, cache != NULL ? "dataplane.mbuf_cache"
								    : "dataplane.mbufs",
			    "dataplane.mbuf_cache (%" PRIu32 ") must be <= dataplane.mbufs (%" PRIu32
			    ") / 1.5", d->mbuf_cache, d->mbufs);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* tcp                                                                      */
/* ------------------------------------------------------------------------ */

#define EPHEMERAL_MIN      1024
#define EPHEMERAL_MAX      65535
#define EPHEMERAL_SPAN_MIN 1024         /* ports in [lo, hi] at least */

/*
 * A <= B for two settings of one group (values already read, defaults
 * included). Blame the one the user wrote; B when both are there.
 */
static int check_le(const struct ctx *c, const config_setting_t *as, const char *a_path,
		    uint32_t a, const config_setting_t *bs, const char *b_path, uint32_t b)
{
	if (a <= b)
		return 0;
	if (bs != NULL)
		return fail(c, bs, b_path, "must be >= %s (%" PRIu32 "), got %" PRIu32, a_path, a, b);
	return fail(c, as, a_path, "must be <= %s (%" PRIu32 "), got %" PRIu32, b_path, b, a);
}

/* tcp.keepalive: { enabled; idle_s; interval_s; count; } */
static int parse_keepalive(const struct ctx *c, const config_setting_t *tcp, struct porter_cfg_tcp *t)
{
	static const char *const known[] = { "enabled", "idle_s", "interval_s", "count", NULL };
	const config_setting_t *g;

	if (get_group(c, tcp, "tcp", "keepalive", &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	if (check_known(c, g, "tcp.keepalive", known) != 0 ||
	    get_bool(c, g, "tcp.keepalive", "enabled", &t->keepalive) != 0 ||
	    get_u32(c, g, "tcp.keepalive", "idle_s", 1, 86400, &t->keepalive_idle_s, NULL) != 0 ||
	    get_u32(c, g, "tcp.keepalive", "interval_s", 1, 3600, &t->keepalive_interval_s, NULL) != 0 ||
	    get_u32(c, g, "tcp.keepalive", "count", 1, 100, &t->keepalive_count, NULL) != 0)
		return -1;
	return 0;
}

/* tcp.ephemeral_ports = [lo, hi]: two integers, lo <= hi, wide enough. */
static int parse_ephemeral(const struct ctx *c, const config_setting_t *tcp, struct porter_cfg_tcp *t)
{
	static const char path[] = "tcp.ephemeral_ports";
	const config_setting_t *s = config_setting_get_member(tcp, "ephemeral_ports");

	if (s == NULL)
		return 0;
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
	if (lo < EPHEMERAL_MIN || lo > EPHEMERAL_MAX || hi < EPHEMERAL_MIN || hi > EPHEMERAL_MAX)
		return fail(c, s, path, "ports must be in %d..%d, got [%" PRId64 ", %" PRId64 "]",
			    EPHEMERAL_MIN, EPHEMERAL_MAX, lo, hi);
	if (lo > hi)
		return fail(c, s, path, "lo must be <= hi, got [%" PRId64 ", %" PRId64 "]", lo, hi);
	if (hi - lo + 1 < EPHEMERAL_SPAN_MIN)
		return fail(c, s, path,
			    "must span at least %d ports, got [%" PRId64 ", %" PRId64 "] (%" PRId64 " ports)",
			    EPHEMERAL_SPAN_MIN, lo, hi, hi - lo + 1);
	t->ephemeral_lo = (uint16_t)lo;
	t->ephemeral_hi = (uint16_t)hi;
	return 0;
}

static int parse_tcp(const struct ctx *c, const config_setting_t *root, struct porter_cfg_tcp *t)
{
	static const char *const known[] = { "max_streams_per_shard", "syn_backlog", "congestion_control",
					     "nodelay", "sack", "timestamps", "window_scaling", "syncookies",
					     "rcv_buf", "snd_buf", "delayed_ack_ms", "delayed_ack_short_ms", "rto_initial_ms",
					     "rto_min_ms", "rto_max_ms", "max_retransmits", "syn_retries",
					     "time_wait_ms", "fin_wait2_timeout_ms", "keepalive",
					     "challenge_ack_per_s", "ephemeral_ports", NULL };
	const config_setting_t *g, *s, *rmin, *rinit, *rmax;
	char q[QUOTE_LEN + 4];

	if (get_group(c, root, "", "tcp", &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	if (check_known(c, g, "tcp", known) != 0 ||
	    get_u32(c, g, "tcp", "max_streams_per_shard", 64, 4194304, &t->max_streams_per_shard, NULL) != 0 ||
	    get_u32(c, g, "tcp", "syn_backlog", 1, 65536, &t->syn_backlog, NULL) != 0 ||
	    get_str(c, g, "tcp", "congestion_control", false, t->cc, sizeof(t->cc), &s) != 0)
		return -1;
	if (s != NULL && strcmp(t->cc, "cubic") != 0 && strcmp(t->cc, "newreno") != 0)
		return fail(c, s, "tcp.congestion_control", "expected \"cubic\" or \"newreno\", got \"%s\"",
			    quote(q, t->cc));
	if (get_bool(c, g, "tcp", "nodelay", &t->nodelay) != 0 ||
	    get_bool(c, g, "tcp", "sack", &t->sack) != 0 ||
	    get_bool(c, g, "tcp", "timestamps", &t->timestamps) != 0 ||
	    get_bool(c, g, "tcp", "window_scaling", &t->window_scaling) != 0 ||
	    get_bool(c, g, "tcp", "syncookies", &t->syncookies) != 0 ||
	    get_u32(c, g, "tcp", "rcv_buf", 4096, 67108864, &t->rcv_buf, NULL) != 0 ||
	    get_u32(c, g, "tcp", "snd_buf", 4096, 67108864, &t->snd_buf, NULL) != 0 ||
	    get_u32(c, g, "tcp", "delayed_ack_ms", 0, 500, &t->delack_ms, NULL) != 0 ||
	    get_u32(c, g, "tcp", "delayed_ack_short_ms", 0, 500, &t->delack_short_ms, NULL) != 0 ||
	    get_u32(c, g, "tcp", "rto_initial_ms", 200, 60000, &t->rto_initial_ms, &rinit) != 0 ||
	    get_u32(c, g, "tcp", "rto_min_ms", 10, 60000, &t->rto_min_ms, &rmin) != 0 ||
	    get_u32(c, g, "tcp", "rto_max_ms", 10, 600000, &t->rto_max_ms, &rmax) != 0 ||
	    get_u32(c, g, "tcp", "max_retransmits", 1, 100, &t->max_retries, NULL) != 0 ||
	    get_u32(c, g, "tcp", "syn_retries", 1, 20, &t->syn_retries, NULL) != 0 ||
	    get_u32(c, g, "tcp", "time_wait_ms", 0, 240000, &t->time_wait_ms, NULL) != 0 ||
	    get_u32(c, g, "tcp", "fin_wait2_timeout_ms", 0, 600000, &t->fin_wait2_ms, NULL) != 0 ||
	    parse_keepalive(c, g, t) != 0 ||
	    get_u32(c, g, "tcp", "challenge_ack_per_s", 1, 1000000, &t->challenge_ack_limit, NULL) != 0 ||
	    parse_ephemeral(c, g, t) != 0)
		return -1;

	/* rto_min_ms <= rto_initial_ms <= rto_max_ms */
	if (check_le(c, rmin, "tcp.rto_min_ms", t->rto_min_ms, rinit, "tcp.rto_initial_ms",
		     t->rto_initial_ms) != 0 ||
	    check_le(c, rinit, "tcp.rto_initial_ms", t->rto_initial_ms, rmax, "tcp.rto_max_ms",
		     t->rto_max_ms) != 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Names shared by upstreams, listeners and routes                         */
/* ------------------------------------------------------------------------ */

/* A name of ports and upstreams: non-empty, A-Z a-z 0-9 _ . - */
static bool valid_name(const char *s)
{
	return s[0] != '\0' && all_chars_in(s, "_.-");
}

/* Index of upstream NAME in cfg->upstreams, or -1. */
static int find_upstream(const struct porter_config *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->upstream_count; i++)
		if (strcmp(cfg->upstreams[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * The upstream named by string setting S (path PATH, value NAME) into *idx.
 * Upstreams are parsed before listeners and routes, wherever they are in the
 * file, so the name can always be resolved here.
 */
static int resolve_upstream(const struct ctx *c, const struct porter_config *cfg,
			    const config_setting_t *s, const char *path, const char *name, int *idx)
{
	char q[QUOTE_LEN + 4];

	*idx = find_upstream(cfg, name);
	if (*idx < 0)
		return fail(c, s, path, "no upstream named \"%s\" in upstreams", quote(q, name));
	return 0;
}

/*
 * The path of an HTTP request target: starts with '/', then visible ASCII
 * only (no space, no control character, nothing above 0x7e).
 */
static bool valid_http_path(const char *s)
{
	if (s[0] != '/')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* ------------------------------------------------------------------------ */
/* upstreams                                                                */
/* ------------------------------------------------------------------------ */

#define SERVER_MAX_CONNS    4194304     /* = the largest tcp.max_streams_per_shard */

/* "a.b.c.d:port", port 1..65535 without leading zero. */
static int parse_hostport(const char *s, uint32_t *ip, uint16_t *port)
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

static int parse_server(const struct ctx *c, const config_setting_t *el, const char *pre,
			struct porter_cfg_server *sv)
{
	static const char *const known[] = { "address", "weight", "max_connections", NULL };
	char path[SETTING_PATH_LEN], q[QUOTE_LEN + 4], tmp[PORTER_CFG_PATH_LEN];
	const config_setting_t *s;

	if (!config_setting_is_group(el))
		return fail(c, el, pre, "expected a group { address = ...; ... }, got %s",
			    type_name(config_setting_type(el)));
	if (check_known(c, el, pre, known) != 0 ||
	    get_str(c, el, pre, "address", true, tmp, sizeof(tmp), &s) != 0)
		return -1;
	join(path, pre, "address");
	if (parse_hostport(tmp, &sv->ipv4, &sv->port) != 0)
		return fail(c, s, path,
			    "bad address \"%s\" (expected a.b.c.d:port, each part 0..255, port 1..65535)",
			    quote(q, tmp));
	/* bad_host() with /32: only the checks that do not need a subnet. */
	const char *bad = bad_host(sv->ipv4, sv->ipv4, 32);
	if (bad != NULL)
		return fail(c, s, path, "%s %s", tmp, bad);

	uint32_t weight = sv->weight;
	if (get_u32(c, el, pre, "weight", 1, 256, &weight, NULL) != 0 ||
	    get_u32(c, el, pre, "max_connections", 0, SERVER_MAX_CONNS, &sv->max_conns, NULL) != 0)
		return -1;
	sv->weight = (uint16_t)weight;
	return 0;
}

static int parse_servers(const struct ctx *c, const config_setting_t *up, unsigned idx,
			 struct porter_cfg_upstream *u)
{
	char path[SETTING_PATH_LEN], spre[SETTING_PATH_LEN], a[16];
	const config_setting_t *list;

	snprintf(path, sizeof(path), "upstreams[%u].servers", idx);
	if (get_list(c, up, path, "servers", 1, PORTER_CFG_MAX_SERVERS, &list) != 0)
		return -1;
	if (list == NULL)
		return fail(c, up, path, "missing mandatory setting");

	int n = config_setting_length(list);
	for (unsigned j = 0; j < (unsigned)n; j++) {
		const config_setting_t *el = config_setting_get_elem(list, j);
		struct porter_cfg_server *sv = &u->servers[j];
		snprintf(spre, sizeof(spre), "upstreams[%u].servers[%u]", idx, j);
		sv->weight = 1;
		if (parse_server(c, el, spre, sv) != 0)
			return -1;
		/* One address:port once per upstream; report on the later server. */
		for (unsigned k = 0; k < j; k++)
			if (u->servers[k].ipv4 == sv->ipv4 && u->servers[k].port == sv->port) {
				char apath[SETTING_PATH_LEN];
				porter_fmt_ipv4(sv->ipv4, a);
				join(apath, spre, "address");
				return fail(c, config_setting_get_member(el, "address"), apath,
					    "duplicate server %s:%u (already used by %s[%u])", a,
					    (unsigned)sv->port, path, k);
			}
	}
	u->server_count = (uint32_t)n;
	return 0;
}

/*
 * A < B for two settings of one group (values already read, defaults
 * included). Blame the one the user wrote; B when both are there.
 */
static int check_lt(const struct ctx *c, const config_setting_t *as, const char *a_path,
		    uint32_t a, const config_setting_t *bs, const char *b_path, uint32_t b)
{
	if (a < b)
		return 0;
	if (bs != NULL)
		return fail(c, bs, b_path, "must be > %s (%" PRIu32 "), got %" PRIu32, a_path, a, b);
	return fail(c, as, a_path, "must be < %s (%" PRIu32 "), got %" PRIu32, b_path, b, a);
}

/* upstreams[i].health_check: { path; interval_ms; timeout_ms; rise; fall; } */
static int parse_health_check(const struct ctx *c, const config_setting_t *up, const char *pre,
			      struct porter_cfg_upstream *u)
{
	static const char *const known[] = { "path", "interval_ms", "timeout_ms", "rise", "fall", NULL };
	char gpre[SETTING_PATH_LEN], ipath[SETTING_PATH_LEN], tpath[SETTING_PATH_LEN];
	char q[QUOTE_LEN + 4];
	const config_setting_t *g, *s, *ivl, *tmo;

	if (get_group(c, up, pre, "health_check", &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	u->health_enabled = true;
	join(gpre, pre, "health_check");
	if (check_known(c, g, gpre, known) != 0 ||
	    get_str(c, g, gpre, "path", false, u->health_path, sizeof(u->health_path), &s) != 0)
		return -1;
	if (s != NULL && !valid_http_path(u->health_path)) {
		char path[SETTING_PATH_LEN];
		join(path, gpre, "path");
		return fail(c, s, path,
			    "must start with '/' and use only visible ASCII characters (no space), got \"%s\"",
			    quote(q, u->health_path));
	}
	if (get_u32(c, g, gpre, "interval_ms", 100, 3600000, &u->health_interval_ms, &ivl) != 0 ||
	    get_u32(c, g, gpre, "timeout_ms", 10, 600000, &u->health_timeout_ms, &tmo) != 0 ||
	    get_u32(c, g, gpre, "rise", 1, 100, &u->health_rise, NULL) != 0 ||
	    get_u32(c, g, gpre, "fall", 1, 100, &u->health_fall, NULL) != 0)
		return -1;
	join(tpath, gpre, "timeout_ms");
	join(ipath, gpre, "interval_ms");
	return check_lt(c, tmo, tpath, u->health_timeout_ms, ivl, ipath, u->health_interval_ms);
}

static void upstream_defaults(struct porter_cfg_upstream *u)
{
	u->balance = PORTER_LB_ROUND_ROBIN;
	u->keepalive_max_idle = 32;
	u->keepalive_idle_timeout_ms = 60000;
	u->connect_timeout_ms = 3000;
	u->read_timeout_ms = 30000;
	u->write_timeout_ms = 30000;
	u->retries = 1;
	u->health_enabled = false;
	snprintf(u->health_path, sizeof(u->health_path), "/");
	u->health_interval_ms = 2000;
	u->health_timeout_ms = 1000;
	u->health_rise = 2;
	u->health_fall = 3;
	u->passive_max_fails = 3;
	u->passive_fail_timeout_ms = 10000;
}

static int parse_upstream(const struct ctx *c, const config_setting_t *el, unsigned idx,
			  struct porter_cfg_upstream *u)
{
	static const char *const known[] = { "name", "balance", "servers", "keepalive", "timeouts",
					     "retries", "health_check", "passive", NULL };
	static const char *const ka_known[] = { "max_idle", "idle_timeout_ms", NULL };
	static const char *const to_known[] = { "connect_ms", "read_ms", "write_ms", NULL };
	static const char *const pa_known[] = { "max_fails", "fail_timeout_ms", NULL };
	static const struct {
		const char *name;
		uint32_t lb;
	} balances[] = {
		{ "round_robin", PORTER_LB_ROUND_ROBIN },
		{ "least_conn", PORTER_LB_LEAST_CONN },
		{ "hash", PORTER_LB_HASH },
	};
	char pre[SETTING_PATH_LEN], path[SETTING_PATH_LEN], gpre[SETTING_PATH_LEN];
	char q[QUOTE_LEN + 4], tmp[PORTER_CFG_PATH_LEN];
	const config_setting_t *s, *g;

	snprintf(pre, sizeof(pre), "upstreams[%u]", idx);
	if (!config_setting_is_group(el))
		return fail(c, el, pre, "expected a group { name = ...; ... }, got %s",
			    type_name(config_setting_type(el)));
	if (check_known(c, el, pre, known) != 0)
		return -1;

	/* name */
	if (get_str(c, el, pre, "name", true, u->name, sizeof(u->name), &s) != 0)
		return -1;
	if (!valid_name(u->name)) {
		join(path, pre, "name");
		return fail(c, s, path, "must be non-empty and use only A-Z a-z 0-9 _ . -, got \"%s\"",
			    quote(q, u->name));
	}

	/* balance */
	if (get_str(c, el, pre, "balance", false, tmp, sizeof(tmp), &s) != 0)
		return -1;
	if (s != NULL) {
		bool ok = false;
		for (size_t i = 0; i < sizeof(balances) / sizeof(balances[0]) && !ok; i++)
			if (strcmp(tmp, balances[i].name) == 0) {
				u->balance = balances[i].lb;
				ok = true;
			}
		if (!ok) {
			join(path, pre, "balance");
			return fail(c, s, path,
				    "expected \"round_robin\", \"least_conn\" or \"hash\", got \"%s\"",
				    quote(q, tmp));
		}
	}

	if (parse_servers(c, el, idx, u) != 0)
		return -1;

	/* keepalive */
	if (get_group(c, el, pre, "keepalive", &g) != 0)
		return -1;
	join(gpre, pre, "keepalive");
	if (g != NULL &&
	    (check_known(c, g, gpre, ka_known) != 0 ||
	     get_u32(c, g, gpre, "max_idle", 0, 4096, &u->keepalive_max_idle, NULL) != 0 ||
	     get_u32(c, g, gpre, "idle_timeout_ms", 100, 3600000, &u->keepalive_idle_timeout_ms,
		     NULL) != 0))
		return -1;

	/* timeouts */
	if (get_group(c, el, pre, "timeouts", &g) != 0)
		return -1;
	join(gpre, pre, "timeouts");
	if (g != NULL &&
	    (check_known(c, g, gpre, to_known) != 0 ||
	     get_u32(c, g, gpre, "connect_ms", 10, 600000, &u->connect_timeout_ms, NULL) != 0 ||
	     get_u32(c, g, gpre, "read_ms", 10, 3600000, &u->read_timeout_ms, NULL) != 0 ||
	     get_u32(c, g, gpre, "write_ms", 10, 3600000, &u->write_timeout_ms, NULL) != 0))
		return -1;

	if (get_u32(c, el, pre, "retries", 0, 10, &u->retries, NULL) != 0 ||
	    parse_health_check(c, el, pre, u) != 0)
		return -1;

	/* passive */
	if (get_group(c, el, pre, "passive", &g) != 0)
		return -1;
	join(gpre, pre, "passive");
	if (g != NULL &&
	    (check_known(c, g, gpre, pa_known) != 0 ||
	     get_u32(c, g, gpre, "max_fails", 0, 1000, &u->passive_max_fails, NULL) != 0 ||
	     get_u32(c, g, gpre, "fail_timeout_ms", 100, 3600000, &u->passive_fail_timeout_ms,
		     NULL) != 0))
		return -1;
	return 0;
}

static int parse_upstreams(const struct ctx *c, const config_setting_t *root, struct porter_config *cfg)
{
	const config_setting_t *list;

	if (get_list(c, root, "upstreams", "upstreams", 0, PORTER_CFG_MAX_UPSTREAMS, &list) != 0)
		return -1;
	if (list == NULL)
		return 0;
	int n = config_setting_length(list);
	for (unsigned i = 0; i < (unsigned)n; i++) {
		const config_setting_t *el = config_setting_get_elem(list, i);
		struct porter_cfg_upstream *u = &cfg->upstreams[i];
		upstream_defaults(u);
		if (parse_upstream(c, el, i, u) != 0)
			return -1;
		/* Names are unique; report on the later upstream. */
		for (unsigned j = 0; j < i; j++)
			if (strcmp(cfg->upstreams[j].name, u->name) == 0) {
				char path[SETTING_PATH_LEN];
				snprintf(path, sizeof(path), "upstreams[%u].name", i);
				return fail(c, config_setting_get_member(el, "name"), path,
					    "duplicate name \"%s\" (already used by upstreams[%u])", u->name, j);
			}
	}
	cfg->upstream_count = (uint32_t)n;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* listeners                                                                */
/* ------------------------------------------------------------------------ */

#define LISTENER_BYTES_MAX ((int64_t)1 << 62)

static int parse_listener(const struct ctx *c, const config_setting_t *el, unsigned idx,
			  const struct porter_config *cfg, struct porter_cfg_listener *l)
{
	static const char *const known[] = { "port", "service", "protocol", "upstream", "bytes", "client_limits",
					     NULL };
	static const struct {
		const char *name;
		uint32_t svc;
	} services[] = {
		{ "echo", PORTER_SVC_ECHO },
		{ "discard", PORTER_SVC_DISCARD },
		{ "source", PORTER_SVC_SOURCE },
	}, protocols[] = {
		{ "http", PORTER_SVC_HTTP },
		{ "tcp", PORTER_SVC_TCP },
	};
	char pre[SETTING_PATH_LEN], path[SETTING_PATH_LEN], q[QUOTE_LEN + 4];
	char tmp[PORTER_CFG_PATH_LEN];
	const config_setting_t *s, *svc, *proto;

	snprintf(pre, sizeof(pre), "listeners[%u]", idx);
	l->upstream = -1;
	l->client_limits = true;
	if (!config_setting_is_group(el))
		return fail(c, el, pre, "expected a group { port = ...; ... }, got %s",
			    type_name(config_setting_type(el)));
	if (check_known(c, el, pre, known) != 0)
		return -1;

	/* port: mandatory */
	uint32_t port = 0;
	if (get_u32(c, el, pre, "port", 1, 65535, &port, &s) != 0)
		return -1;
	if (s == NULL) {
		join(path, pre, "port");
		return fail(c, el, path, "missing mandatory setting");
	}
	l->port = (uint16_t)port;

	/* exactly one of service and protocol; neither reads as a missing service */
	proto = config_setting_get_member(el, "protocol");
	svc = config_setting_get_member(el, "service");
	if (svc != NULL && proto != NULL) {
		join(path, pre, "protocol");
		return fail(c, proto, path, "not allowed together with service (give exactly one of "
			    "service and protocol)");
	}
	l->service = 0;
	if (proto == NULL) {
		if (get_str(c, el, pre, "service", true, tmp, sizeof(tmp), &s) != 0)
			return -1;
		for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
			if (strcmp(tmp, services[i].name) == 0)
				l->service = services[i].svc;
		if (l->service == 0) {
			join(path, pre, "service");
			return fail(c, s, path, "expected \"echo\", \"discard\" or \"source\", got \"%s\"",
				    quote(q, tmp));
		}
	} else {
		if (get_str(c, el, pre, "protocol", true, tmp, sizeof(tmp), &s) != 0)
			return -1;
		for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
			if (strcmp(tmp, protocols[i].name) == 0)
				l->service = protocols[i].svc;
		if (l->service == 0) {
			join(path, pre, "protocol");
			return fail(c, s, path, "expected \"http\" or \"tcp\", got \"%s\"", quote(q, tmp));
		}
	}

	/* upstream: mandatory for protocol "tcp", not allowed otherwise */
	join(path, pre, "upstream");
	if (get_str(c, el, pre, "upstream", l->service == PORTER_SVC_TCP, tmp, sizeof(tmp), &s) != 0)
		return -1;
	if (s != NULL && l->service != PORTER_SVC_TCP)
		return fail(c, s, path, "only for protocol \"tcp\"");
	if (s != NULL) {
		int u;
		if (resolve_upstream(c, cfg, s, path, tmp, &u) != 0)
			return -1;
		l->upstream = u;
	}

	/* bytes: source only */
	if (get_u64(c, el, pre, "bytes", 0, LISTENER_BYTES_MAX, &l->bytes, &s) != 0)
		return -1;
	if (s != NULL && l->service != PORTER_SVC_SOURCE) {
		join(path, pre, "bytes");
		return fail(c, s, path, "only for service \"source\"");
	}
	return get_bool(c, el, pre, "client_limits", &l->client_limits);
}

static int parse_listeners(const struct ctx *c, const config_setting_t *root, struct porter_config *cfg)
{
	const config_setting_t *list;

	if (get_list(c, root, "listeners", "listeners", 0, PORTER_CFG_MAX_LISTENERS, &list) != 0)
		return -1;
	if (list == NULL)
		return 0;
	int n = config_setting_length(list);
	for (unsigned i = 0; i < (unsigned)n; i++) {
		const config_setting_t *el = config_setting_get_elem(list, i);
		if (parse_listener(c, el, i, cfg, &cfg->listeners[i]) != 0)
			return -1;
		/* Ports are unique; report on the later listener. */
		for (unsigned j = 0; j < i; j++)
			if (cfg->listeners[j].port == cfg->listeners[i].port) {
				char path[SETTING_PATH_LEN];
				snprintf(path, sizeof(path), "listeners[%u].port", i);
				return fail(c, config_setting_get_member(el, "port"), path,
					    "duplicate port %u (already used by listeners[%u])",
					    (unsigned)cfg->listeners[i].port, j);
			}
	}
	cfg->listener_count = (uint32_t)n;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* routes                                                                   */
/* ------------------------------------------------------------------------ */

static bool is_host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_';
}

/*
 * routes[i].host into r->host_match / r->host (lower-case). NULL, or why
 * the host is refused.
 */
static const char *parse_route_host(const char *s, struct porter_cfg_route *r)
{
	const char *name = s;

	if (strcmp(s, "*") == 0) {
		r->host_match = PORTER_HOST_ANY;
		r->host[0] = '\0';
		return NULL;
	}
	if (s[0] == '\0')
		return "must not be empty (omit it, or use \"*\", to match any host)";
	r->host_match = PORTER_HOST_EXACT;
	if (s[0] == '*') {
		if (s[1] != '.')
			return "'*' only alone or as the first label (\"*.example.com\")";
		r->host_match = PORTER_HOST_SUFFIX;
		name = s + 2;
	}
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == ':')
			return "no port allowed (a route matches every port of its listeners)";
		if (*p == '*')
			return "'*' only alone or as the first label (\"*.example.com\")";
		if (!is_host_char(*p))
			return "only A-Z a-z 0-9 - . _ allowed";
	}
	size_t len = strlen(name);
	if (len == 0 || name[0] == '.' || name[len - 1] == '.' || strstr(name, "..") != NULL)
		return "empty label";
	/* SUFFIX keeps the dot: "*.example.com" is stored as ".example.com". */
	const char *src = r->host_match == PORTER_HOST_SUFFIX ? s + 1 : s;
	size_t i = 0;
	do
		r->host[i] = src[i] >= 'A' && src[i] <= 'Z' ? (char)(src[i] - 'A' + 'a') : src[i];
	while (src[i++] != '\0');
	return NULL;
}

/* An HTTP method as routes use it: 1..15 upper-case letters. */
static bool valid_method(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < 'A' || *s > 'Z')
			return false;
	return true;
}

static int parse_route(const struct ctx *c, const config_setting_t *el, unsigned idx,
		       const struct porter_config *cfg, struct porter_cfg_route *r)
{
	static const char *const known[] = { "host", "path", "method", "upstream", "listener", NULL };
	char pre[SETTING_PATH_LEN], path[SETTING_PATH_LEN], q[QUOTE_LEN + 4];
	char tmp[PORTER_CFG_HOST_LEN];
	const config_setting_t *s;

	snprintf(pre, sizeof(pre), "routes[%u]", idx);
	if (!config_setting_is_group(el))
		return fail(c, el, pre, "expected a group { upstream = ...; ... }, got %s",
			    type_name(config_setting_type(el)));
	if (check_known(c, el, pre, known) != 0)
		return -1;

	/* host: default any */
	if (get_str(c, el, pre, "host", false, tmp, sizeof(tmp), &s) != 0)
		return -1;
	if (s != NULL) {
		const char *why = parse_route_host(tmp, r);
		if (why != NULL) {
			join(path, pre, "host");
			return fail(c, s, path, "bad host \"%s\": %s", quote(q, tmp), why);
		}
	}

	/* path: default "/" */
	if (get_str(c, el, pre, "path", false, r->path_prefix, sizeof(r->path_prefix), &s) != 0)
		return -1;
	if (s != NULL && !valid_http_path(r->path_prefix)) {
		join(path, pre, "path");
		return fail(c, s, path,
			    "must start with '/' and use only visible ASCII characters (no space), got \"%s\"",
			    quote(q, r->path_prefix));
	}

	/* method: default "" = any */
	if (get_str(c, el, pre, "method", false, r->method, sizeof(r->method), &s) != 0)
		return -1;
	if (s != NULL && !valid_method(r->method)) {
		join(path, pre, "method");
		return fail(c, s, path, "expected an upper-case method such as \"GET\" (1..15 letters A-Z), "
			    "got \"%s\"", quote(q, r->method));
	}

	/* upstream: mandatory */
	join(path, pre, "upstream");
	if (get_str(c, el, pre, "upstream", true, tmp, sizeof(tmp), &s) != 0)
		return -1;
	int u;
	if (resolve_upstream(c, cfg, s, path, tmp, &u) != 0)
		return -1;
	r->upstream = (uint32_t)u;

	/* listener: 0 = every http listener, else the port of one */
	uint32_t port = 0;
	if (get_u32(c, el, pre, "listener", 0, 65535, &port, &s) != 0)
		return -1;
	if (port != 0) {
		uint32_t i = 0;
		while (i < cfg->listener_count && cfg->listeners[i].port != port)
			i++;
		join(path, pre, "listener");
		if (i == cfg->listener_count)
			return fail(c, s, path, "no listener on port %" PRIu32 " in listeners", port);
		if (cfg->listeners[i].service != PORTER_SVC_HTTP)
			return fail(c, s, path, "listeners[%" PRIu32 "] (port %" PRIu32
				    ") is not an http listener (protocol = \"http\")", i, port);
	}
	r->listen_port = (uint16_t)port;
	return 0;
}

static int parse_routes(const struct ctx *c, const config_setting_t *root, struct porter_config *cfg)
{
	const config_setting_t *list;

	if (get_list(c, root, "routes", "routes", 0, PORTER_CFG_MAX_ROUTES, &list) != 0)
		return -1;
	int n = list != NULL ? config_setting_length(list) : 0;
	for (unsigned i = 0; i < (unsigned)n; i++) {
		struct porter_cfg_route *r = &cfg->routes[i];
		snprintf(r->path_prefix, sizeof(r->path_prefix), "/");
		if (parse_route(c, config_setting_get_elem(list, i), i, cfg, r) != 0)
			return -1;
	}
	cfg->route_count = (uint32_t)n;

	/* An http listener without any route could only answer 404. */
	if (n > 0)
		return 0;
	for (uint32_t i = 0; i < cfg->listener_count; i++)
		if (cfg->listeners[i].service == PORTER_SVC_HTTP) {
			/* At the routes list if there is one, else at the listener. */
			const config_setting_t *at = list;
			if (at == NULL) {
				const config_setting_t *ls = config_setting_get_member(root, "listeners");
				const config_setting_t *el = config_setting_get_elem(ls, i);
				at = config_setting_get_member(el, "protocol");
			}
			return fail(c, at, "routes", "an http listener needs at least one route");
		}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* http                                                                     */
/* ------------------------------------------------------------------------ */

#define HTTP_BODY_MAX      ((int64_t)1 << 62)

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int parse_http(const struct ctx *c, const config_setting_t *root, struct porter_cfg_http *h,
		      bool *request_id)
{
	static const char *const known[] = { "max_request_line", "max_header_bytes", "max_headers",
					     "max_body_bytes", "header_timeout_ms", "idle_timeout_ms",
					     "max_sessions_per_shard", "via", "access_log",
					     "body_timeout_ms", "body_min_rate", "request_id", NULL };
	const config_setting_t *g, *s;
	char q[QUOTE_LEN + 4];

	if (get_group(c, root, "", "http", &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	if (check_known(c, g, "http", known) != 0 ||
	    get_u32(c, g, "http", "max_request_line", 64, 1048576, &h->max_request_line, NULL) != 0 ||
	    get_u32(c, g, "http", "max_header_bytes", 256, 1048576, &h->max_header_bytes, NULL) != 0 ||
	    get_u32(c, g, "http", "max_headers", 1, PORTER_CFG_MAX_HEADERS, &h->max_headers, NULL) != 0 ||
	    get_u64(c, g, "http", "max_body_bytes", 0, HTTP_BODY_MAX, &h->max_body_bytes, NULL) != 0 ||
	    get_u32(c, g, "http", "header_timeout_ms", 100, 3600000, &h->header_timeout_ms, NULL) != 0 ||
	    get_u32(c, g, "http", "idle_timeout_ms", 100, 86400000, &h->idle_timeout_ms, NULL) != 0 ||
	    get_u32(c, g, "http", "body_timeout_ms", 0, 3600000, &h->body_timeout_ms, NULL) != 0 ||
	    get_u32(c, g, "http", "body_min_rate", 0, 1073741824, &h->body_min_rate, NULL) != 0 ||
	    get_u32(c, g, "http", "max_sessions_per_shard", 16, 1048576, &h->max_sessions, NULL) != 0 ||
	    get_bool(c, g, "http", "request_id", request_id) != 0 ||
	    get_str(c, g, "http", "via", false, h->via, sizeof(h->via), &s) != 0)
		return -1;
	if (s != NULL)
		for (const char *p = h->via; *p != '\0'; p++)
			if (!is_tchar(*p))
				return fail(c, s, "http.via",
					    "must be \"\" or a token (A-Z a-z 0-9 and !#$%%&'*+-.^_`|~), got \"%s\"",
					    quote(q, h->via));

	if (get_str(c, g, "http", "access_log", false, h->access_log, sizeof(h->access_log), &s) != 0)
		return -1;
	if (s != NULL && h->access_log[0] != '\0') {
		if (h->access_log[0] != '/')
			return fail(c, s, "http.access_log", "must be \"\" or an absolute path, got \"%s\"",
				    quote(q, h->access_log));
		for (const char *p = h->access_log; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return fail(c, s, "http.access_log", "must not contain control characters");
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* client_limits                                                            */
/* ------------------------------------------------------------------------ */

#define CLIENT_RATE_MAX    1000000      /* connections or requests per second */
#define CLIENT_CONNS_MAX   4194304      /* the largest tcp.max_streams_per_shard */
#define CLIENT_TABLE_MIN   1024
#define CLIENT_TABLE_MAX   4194304      /* entries of 24 bytes: 96 MiB per shard */

/*
 * client_limits: { max_conns; conn_rate; conn_burst; http_req_rate;
 * http_req_burst; table_size; }. A burst defaults to its rate (one second's
 * worth); every limit needs a table to count in.
 */
static int parse_client_limits(const struct ctx *c, const config_setting_t *root,
			       struct porter_cfg_client_limits *l)
{
	static const char *const known[] = { "max_conns", "conn_rate", "conn_burst", "http_req_rate",
					     "http_req_burst", "table_size", NULL };
	static const char pre[] = "client_limits";
	const config_setting_t *g, *cb, *rb, *ts, *lim[3];

	if (get_group(c, root, "", pre, &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	if (check_known(c, g, pre, known) != 0 ||
	    get_u32(c, g, pre, "max_conns", 0, CLIENT_CONNS_MAX, &l->max_conns, &lim[0]) != 0 ||
	    get_u32(c, g, pre, "conn_rate", 0, CLIENT_RATE_MAX, &l->conn_rate, &lim[1]) != 0 ||
	    get_u32(c, g, pre, "conn_burst", 1, CLIENT_RATE_MAX, &l->conn_burst, &cb) != 0 ||
	    get_u32(c, g, pre, "http_req_rate", 0, CLIENT_RATE_MAX, &l->http_req_rate, &lim[2]) != 0 ||
	    get_u32(c, g, pre, "http_req_burst", 1, CLIENT_RATE_MAX, &l->http_req_burst, &rb) != 0 ||
	    get_u32(c, g, pre, "table_size", 0, CLIENT_TABLE_MAX, &l->table_size, &ts) != 0)
		return -1;
	if (l->table_size != 0 && (l->table_size < CLIENT_TABLE_MIN || (l->table_size & (l->table_size - 1))))
		return fail(c, ts, "client_limits.table_size",
			    "must be 0 or a power of two in %d..%d, got %" PRIu32, CLIENT_TABLE_MIN,
			    CLIENT_TABLE_MAX, l->table_size);
	if (cb == NULL)
		l->conn_burst = l->conn_rate;
	if (rb == NULL)
		l->http_req_burst = l->http_req_rate;
	/* a limit with nothing to count in would silently not apply */
	if (l->table_size == 0) {
		static const char *const names[3] = { "max_conns", "conn_rate", "http_req_rate" };
		const uint32_t vals[3] = { l->max_conns, l->conn_rate, l->http_req_rate };

		for (int i = 0; i < 3; i++)
			if (vals[i] != 0) {
				char path[SETTING_PATH_LEN];

				join(path, pre, names[i]);
				return fail(c, lim[i], path, "needs client_limits.table_size > 0 (it is 0: no table)");
			}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* control                                                                  */
/* ------------------------------------------------------------------------ */

/* metrics.listen: "a.b.c.d:port" (a kernel socket of the primary), "" = off. */
static int parse_metrics(const struct ctx *c, const config_setting_t *root, struct porter_cfg_metrics *m)
{
	static const char *const known[] = { "listen", NULL };
	const config_setting_t *g, *s;
	char q[QUOTE_LEN + 4];

	if (get_group(c, root, "", "metrics", &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	if (check_known(c, g, "metrics", known) != 0 ||
	    get_str(c, g, "metrics", "listen", false, m->listen, sizeof(m->listen), &s) != 0)
		return -1;
	if (s != NULL && m->listen[0] != '\0' && parse_hostport(m->listen, &m->ipv4, &m->port) != 0)
		return fail(c, s, "metrics.listen",
			    "bad address \"%s\" (expected a.b.c.d:port, each part 0..255, port 1..65535, or \"\" for none)",
			    quote(q, m->listen));
	return 0;
}

static int parse_control(const struct ctx *c, const config_setting_t *root,
			 struct porter_cfg_control *ctl)
{
	static const char *const known[] = { "socket", NULL };
	const config_setting_t *g, *s;
	char q[QUOTE_LEN + 4];

	if (get_group(c, root, "", "control", &g) != 0)
		return -1;
	if (g == NULL)
		return 0;
	if (check_known(c, g, "control", known) != 0 ||
	    get_str(c, g, "control", "socket", false, ctl->socket, sizeof(ctl->socket), &s) != 0)
		return -1;
	if (s == NULL)
		return 0;
	if (ctl->socket[0] != '/')
		return fail(c, s, "control.socket", "must be an absolute path, got \"%s\"",
			    quote(q, ctl->socket));
	if (strlen(ctl->socket) > SUN_PATH_MAX)
		return fail(c, s, "control.socket",
			    "too long for a unix socket (%zu characters, at most %zu)",
			    strlen(ctl->socket), (size_t)SUN_PATH_MAX);
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
static int check_int_literals(const struct ctx *c, const char *p)
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

static void set_defaults(struct porter_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->eal.file_prefix, sizeof(cfg->eal.file_prefix), "porter");
	cfg->eal.lcore_base = 10;
	snprintf(cfg->eal.log_level, sizeof(cfg->eal.log_level), "notice");

	cfg->workers.count = 2;
	snprintf(cfg->workers.binary, sizeof(cfg->workers.binary), "porter-worker");
	cfg->workers.ready_timeout_ms = 5000;
	cfg->workers.restart_backoff_ms = 100;
	cfg->workers.max_restart_backoff_ms = 5000;
	cfg->workers.max_failed_starts = 10;
	cfg->workers.heartbeat_timeout_ms = 3000;
	cfg->workers.spin_us = 0;
	cfg->workers.standby = true;
	cfg->workers.drain_timeout_ms = 30000;
	cfg->http_request_id = true;

	cfg->dataplane.mbufs = 16383;
	cfg->dataplane.mbuf_cache = 128;
	cfg->dataplane.ring_size = 1024;
	cfg->dataplane.rx_desc = 1024;
	cfg->dataplane.tx_desc = 1024;
	cfg->dataplane.primary_spin_us = 0;
	cfg->dataplane.arp_timeout_ms = 300000;
	cfg->dataplane.arp_retry_ms = 1000;
	cfg->dataplane.arp_retries = 3;

	cfg->tcp.max_streams_per_shard = 65536;
	cfg->tcp.syn_backlog = 1024;
	snprintf(cfg->tcp.cc, sizeof(cfg->tcp.cc), "cubic");
	cfg->tcp.nodelay = true;
	cfg->tcp.sack = true;
	cfg->tcp.timestamps = true;
	cfg->tcp.window_scaling = true;
	cfg->tcp.syncookies = true;
	cfg->tcp.rcv_buf = 262144;
	cfg->tcp.snd_buf = 262144;
	cfg->tcp.delack_ms = 40;
	cfg->tcp.delack_short_ms = 4;
	cfg->tcp.rto_initial_ms = 1000;
	cfg->tcp.rto_min_ms = 200;
	cfg->tcp.rto_max_ms = 60000;
	cfg->tcp.max_retries = 15;
	cfg->tcp.syn_retries = 5;
	cfg->tcp.time_wait_ms = 60000;
	cfg->tcp.fin_wait2_ms = 60000;
	cfg->tcp.keepalive = false;
	cfg->tcp.keepalive_idle_s = 7200;
	cfg->tcp.keepalive_interval_s = 75;
	cfg->tcp.keepalive_count = 9;
	cfg->tcp.challenge_ack_limit = 5;
	cfg->tcp.ephemeral_lo = 32768;
	cfg->tcp.ephemeral_hi = 60999;
	/* listeners, upstreams, routes: none (counts 0, from the memset) */

	cfg->http.max_request_line = 8192;
	cfg->http.max_header_bytes = 16384;
	cfg->http.max_headers = 100;
	cfg->http.max_body_bytes = 0;
	cfg->http.header_timeout_ms = 10000;
	cfg->http.body_timeout_ms = 20000;       /* Apache's RequestReadTimeout body=20,MinRate=500 */
	cfg->http.body_min_rate = 500;
	cfg->http.idle_timeout_ms = 60000;
	cfg->http.max_sessions = 16384;
	snprintf(cfg->http.via, sizeof(cfg->http.via), "porter");
	/* http.access_log: "" (off) */

	/* client_limits: every limit off; the table is there so a reload can turn them on */
	cfg->client_limits.table_size = 65536;

	snprintf(cfg->control.socket, sizeof(cfg->control.socket), "/run/porter/porter.sock");
}

/*
 * net_af_xdp hands the kernel mbufs of the shared pool for its fill ring at
 * start-up and keeps them there (2048 per port, DPDK 22.11; measured as
 * "in use" on an idle gateway): the pool must hold those and still the
 * smallest pool porter accepts for everything else.
 */
#define AF_XDP_FILL_MBUFS 2048
#define MBUFS_MIN         1023

static int check_mbufs(const struct ctx *c, const config_setting_t *root,
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
static int check_cross(const struct ctx *c, const config_setting_t *root,
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

static int parse_text(const struct ctx *c, const char *text, struct porter_config *out)
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
			  (parse_eal(c, root, &out->eal) != 0) + (parse_ports(c, root, out) != 0) +
			  (parse_static_routes(c, root, out) != 0) + (parse_workers(c, root, &out->workers) != 0) +
			  (parse_dataplane(c, root, &out->dataplane) != 0) + (parse_tcp(c, root, &out->tcp) != 0);
		int up_bad = parse_upstreams(c, root, out) != 0;

		/* listeners and routes name upstreams: after a broken upstreams group they would only
		 * report the names it did not get to */
		bad += up_bad;
		if (!up_bad)
			bad += (parse_listeners(c, root, out) != 0) + (parse_routes(c, root, out) != 0);
		bad += (parse_http(c, root, &out->http, &out->http_request_id) != 0) +
		       (parse_client_limits(c, root, &out->client_limits) != 0) +
		       (parse_control(c, root, &out->control) != 0) +
		       (parse_metrics(c, root, &out->metrics) != 0);
		if (bad == 0 && check_cross(c, root, out) != 0)
			bad++;
		rc = bad ? -1 : 0;
		goto out;
	}
	if (check_int_literals(c, text) != 0 ||
	    check_known(c, root, "", known) != 0 ||
	    parse_eal(c, root, &out->eal) != 0 ||
	    parse_ports(c, root, out) != 0 ||
	    parse_static_routes(c, root, out) != 0 ||
	    parse_workers(c, root, &out->workers) != 0 ||
	    parse_dataplane(c, root, &out->dataplane) != 0 ||
	    parse_tcp(c, root, &out->tcp) != 0 ||
	    parse_upstreams(c, root, out) != 0 ||
	    parse_listeners(c, root, out) != 0 ||
	    parse_routes(c, root, out) != 0 ||
	    parse_http(c, root, &out->http, &out->http_request_id) != 0 ||
	    parse_client_limits(c, root, &out->client_limits) != 0 ||
	    parse_control(c, root, &out->control) != 0 ||
	    parse_metrics(c, root, &out->metrics) != 0 ||
	    check_cross(c, root, out) != 0)
		goto out;
	rc = 0;
out:
	config_destroy(&cfg);
	return rc;
}

static int start(const struct ctx *c, struct porter_config *out)
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
	struct ctx c = { .name = name != NULL ? name : "<string>", .err = err, .errlen = errlen };

	if (start(&c, out) != 0)
		return -1;
	if (text == NULL)
		return fail_at(&c, c.name, 0, "file", "%s", strerror(EINVAL));
	return parse_text(&c, text, out);
}

static int load(const char *path, struct porter_config *out, char *err, size_t errlen, bool all,
		unsigned int *nerr)
{
	struct ctx c = { .name = path != NULL ? path : "(null)", .err = err, .errlen = errlen, .all = all,
			 .nerr = nerr };
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

/* A scalar or string field of struct porter_config and its setting name. */
struct reload_field {
	size_t off;
	size_t size;
	bool str;
	const char *name;
};

#define RF_MEMBER(m)     offsetof(struct porter_config, m), sizeof(((struct porter_config *)0)->m)
#define RF_NUM(m, name)  { RF_MEMBER(m), false, name }
#define RF_STR(m, name)  { RF_MEMBER(m), true, name }

/* Everything a reload must not change, in file order, but ports and listeners. */
static const struct reload_field reload_fields[] = {
	RF_STR(eal.file_prefix, "eal.file_prefix"),
	RF_NUM(eal.lcore_base, "eal.lcore_base"),
	RF_STR(eal.cpus, "eal.cpus"),
	RF_STR(eal.log_level, "eal.log_level"),
	RF_NUM(workers.count, "workers.count"),
	RF_STR(workers.binary, "workers.binary"),
	RF_NUM(workers.ready_timeout_ms, "workers.ready_timeout_ms"),
	RF_NUM(workers.restart_backoff_ms, "workers.restart_backoff_ms"),
	RF_NUM(workers.max_restart_backoff_ms, "workers.max_restart_backoff_ms"),
	RF_NUM(workers.max_failed_starts, "workers.max_failed_starts"),
	RF_NUM(workers.heartbeat_timeout_ms, "workers.heartbeat_timeout_ms"),
	RF_NUM(workers.spin_us, "workers.spin_us"),
	RF_NUM(workers.standby, "workers.standby"),
	RF_NUM(workers.drain_timeout_ms, "workers.drain_timeout_ms"),
	RF_NUM(dataplane.mbufs, "dataplane.mbufs"),
	RF_NUM(dataplane.mbuf_cache, "dataplane.mbuf_cache"),
	RF_NUM(dataplane.ring_size, "dataplane.ring_size"),
	RF_NUM(dataplane.rx_desc, "dataplane.rx_desc"),
	RF_NUM(dataplane.tx_desc, "dataplane.tx_desc"),
	RF_NUM(dataplane.primary_spin_us, "dataplane.primary_spin_us"),
	RF_NUM(dataplane.arp_timeout_ms, "dataplane.arp_timeout_ms"),
	RF_NUM(dataplane.arp_retry_ms, "dataplane.arp_retry_ms"),
	RF_NUM(dataplane.arp_retries, "dataplane.arp_retries"),
	RF_NUM(tcp.max_streams_per_shard, "tcp.max_streams_per_shard"),
	RF_NUM(tcp.syn_backlog, "tcp.syn_backlog"),
	RF_STR(tcp.cc, "tcp.congestion_control"),
	RF_NUM(tcp.nodelay, "tcp.nodelay"),
	RF_NUM(tcp.sack, "tcp.sack"),
	RF_NUM(tcp.timestamps, "tcp.timestamps"),
	RF_NUM(tcp.window_scaling, "tcp.window_scaling"),
	RF_NUM(tcp.syncookies, "tcp.syncookies"),
	RF_NUM(tcp.rcv_buf, "tcp.rcv_buf"),
	RF_NUM(tcp.snd_buf, "tcp.snd_buf"),
	RF_NUM(tcp.delack_ms, "tcp.delayed_ack_ms"),
	RF_NUM(tcp.delack_short_ms, "tcp.delayed_ack_short_ms"),
	RF_NUM(tcp.rto_initial_ms, "tcp.rto_initial_ms"),
	RF_NUM(tcp.rto_min_ms, "tcp.rto_min_ms"),
	RF_NUM(tcp.rto_max_ms, "tcp.rto_max_ms"),
	RF_NUM(tcp.max_retries, "tcp.max_retransmits"),
	RF_NUM(tcp.syn_retries, "tcp.syn_retries"),
	RF_NUM(tcp.time_wait_ms, "tcp.time_wait_ms"),
	RF_NUM(tcp.fin_wait2_ms, "tcp.fin_wait2_timeout_ms"),
	RF_NUM(tcp.keepalive, "tcp.keepalive.enabled"),
	RF_NUM(tcp.keepalive_idle_s, "tcp.keepalive.idle_s"),
	RF_NUM(tcp.keepalive_interval_s, "tcp.keepalive.interval_s"),
	RF_NUM(tcp.keepalive_count, "tcp.keepalive.count"),
	RF_NUM(tcp.challenge_ack_limit, "tcp.challenge_ack_per_s"),
	RF_NUM(tcp.ephemeral_lo, "tcp.ephemeral_ports"),
	RF_NUM(tcp.ephemeral_hi, "tcp.ephemeral_ports"),
	RF_NUM(client_limits.table_size, "client_limits.table_size"),
	RF_STR(control.socket, "control.socket"),
	RF_STR(metrics.listen, "metrics.listen"),
};

static bool field_differs(const struct porter_config *a, const struct porter_config *b,
			  const struct reload_field *f)
{
	const char *pa = (const char *)a + f->off, *pb = (const char *)b + f->off;
	return f->str ? strncmp(pa, pb, f->size) != 0 : memcmp(pa, pb, f->size) != 0;
}

static bool port_differs(const struct porter_cfg_port *a, const struct porter_cfg_port *b)
{
	return strcmp(a->name, b->name) != 0 || strcmp(a->device, b->device) != 0 ||
	       memcmp(a->mac, b->mac, sizeof(a->mac)) != 0 || a->ipv4 != b->ipv4 ||
	       a->prefix_len != b->prefix_len || a->gateway != b->gateway || a->mtu != b->mtu;
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
 * reload, pointing the listener at another upstream is a restart.
 */
static bool listener_differs(const struct porter_config *a, const struct porter_cfg_listener *la,
			     const struct porter_config *b, const struct porter_cfg_listener *lb)
{
	return la->port != lb->port || la->service != lb->service || la->bytes != lb->bytes ||
	       la->client_limits != lb->client_limits ||
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

int porter_config_check_reload(const struct porter_config *old, const struct porter_config *next,
			       char *err, size_t errlen)
{
	static const char restart[] = "changed; needs a restart";

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (old == NULL || next == NULL)
		return refuse(next, err, errlen, "file: %s", strerror(EINVAL));

	for (size_t i = 0; i < sizeof(reload_fields) / sizeof(reload_fields[0]); i++) {
		const struct reload_field *f = &reload_fields[i];
		/* Keep file order: ports come after eal, listeners after tcp. */
		if (strcmp(f->name, "workers.count") == 0) {
			bool ports = old->port_count != next->port_count;
			for (uint32_t p = 0; p < old->port_count && !ports; p++)
				ports = port_differs(&old->ports[p], &next->ports[p]);
			if (ports)
				return refuse(next, err, errlen, "ports: %s", restart);
			bool sr = old->static_route_count != next->static_route_count;
			for (uint32_t r = 0; r < old->static_route_count && !sr; r++)
				sr = static_route_differs(&old->static_routes[r], &next->static_routes[r]);
			if (sr)
				return refuse(next, err, errlen, "static_routes: %s", restart);
		}
		if (strcmp(f->name, "client_limits.table_size") == 0) {
			bool ls = old->listener_count != next->listener_count;
			for (uint32_t l = 0; l < old->listener_count && !ls; l++)
				ls = listener_differs(old, &old->listeners[l], next, &next->listeners[l]);
			if (ls)
				return refuse(next, err, errlen, "listeners: %s", restart);
		}
		if (field_differs(old, next, f))
			return refuse(next, err, errlen, "%s: %s", f->name, restart);
	}
	return 0;
}
