/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porter configuration: parse and validate one libconfig file into a
 * struct porter_config (see config.h for the contract and docs/CONFIG.md for
 * the reference of every setting).
 *
 * Shape of the code: porter_config_parse_string() reads the text with
 * libconfig, then one small function per top-level group (parse_eal,
 * parse_ports/parse_port, parse_workers, parse_dataplane, parse_tcp,
 * parse_listeners/parse_listener, parse_control) checks for unknown settings,
 * reads and range-checks every value and runs the cross checks of its group. The first problem found stops the parse and
 * is reported as one line "FILE:LINE: SETTING: MESSAGE".
 *
 * Pure C, no DPDK include, no global mutable state.
 */
#include "config/config.h"

#include <errno.h>
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
};

/* ------------------------------------------------------------------------ */
/* Error reporting                                                          */
/* ------------------------------------------------------------------------ */

static int vfail_at(const struct ctx *c, const char *file, unsigned line, const char *setting,
		    const char *fmt, va_list ap)
{
	if (c->err == NULL || c->errlen == 0)
		return -1;
	int n = snprintf(c->err, c->errlen, "%s:%u: %s: ", file, line, setting);
	if (n >= 0 && (size_t)n < c->errlen)
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	/* One line, whatever the user put in strings or file names. */
	for (char *p = c->err; *p != '\0'; p++)
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

/* "a.b.c.d/len" with len 1..32; sets a message in why[] on failure. */
static int parse_cidr(const char *s, uint32_t *ip, uint8_t *len, char *why, size_t whylen)
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
		snprintf(why, whylen, "bad prefix length in \"%s\" (expected a.b.c.d/len, len 1..32)",
			 quote(q, s));
		return -1;
	}
	if (v < 1 || v > 32) {
		snprintf(why, whylen, "prefix length must be in 1..32, got %u", v);
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
	static const char *const known[] = { "name", "device", "mac", "ipv4", "gateway", "mtu", NULL };
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
	if (parse_cidr(tmp, &p->ipv4, &p->prefix_len, why, sizeof(why)) != 0)
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
/* workers                                                                  */
/* ------------------------------------------------------------------------ */

static int parse_workers(const struct ctx *c, const config_setting_t *root,
			 struct porter_cfg_workers *w)
{
	static const char *const known[] = { "count", "binary", "ready_timeout_ms", "restart_backoff_ms",
					     "max_restart_backoff_ms", "max_failed_starts",
					     "heartbeat_timeout_ms", "spin_us", NULL };
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
	    get_u32(c, g, "workers", "spin_us", 0, 100000, &w->spin_us, NULL) != 0)
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
					     "rcv_buf", "snd_buf", "delayed_ack_ms", "rto_initial_ms",
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
/* listeners                                                                */
/* ------------------------------------------------------------------------ */

#define LISTENER_BYTES_MAX ((int64_t)1 << 62)

static int parse_listener(const struct ctx *c, const config_setting_t *el, unsigned idx,
			  struct porter_cfg_listener *l)
{
	static const char *const known[] = { "port", "service", "bytes", NULL };
	static const struct {
		const char *name;
		uint32_t svc;
	} services[] = {
		{ "echo", PORTER_SVC_ECHO },
		{ "discard", PORTER_SVC_DISCARD },
		{ "source", PORTER_SVC_SOURCE },
	};
	char pre[SETTING_PATH_LEN], path[SETTING_PATH_LEN], q[QUOTE_LEN + 4];
	char tmp[PORTER_CFG_PATH_LEN];
	const config_setting_t *s;

	snprintf(pre, sizeof(pre), "listeners[%u]", idx);
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

	/* service: mandatory */
	if (get_str(c, el, pre, "service", true, tmp, sizeof(tmp), &s) != 0)
		return -1;
	l->service = 0;
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (strcmp(tmp, services[i].name) == 0)
			l->service = services[i].svc;
	if (l->service == 0) {
		join(path, pre, "service");
		return fail(c, s, path, "expected \"echo\", \"discard\" or \"source\", got \"%s\"",
			    quote(q, tmp));
	}

	/* bytes: source only */
	if (get_u64(c, el, pre, "bytes", 0, LISTENER_BYTES_MAX, &l->bytes, &s) != 0)
		return -1;
	if (s != NULL && l->service != PORTER_SVC_SOURCE) {
		join(path, pre, "bytes");
		return fail(c, s, path, "only for service \"source\"");
	}
	return 0;
}

static int parse_listeners(const struct ctx *c, const config_setting_t *root, struct porter_config *cfg)
{
	const config_setting_t *list = config_setting_get_member(root, "listeners");

	if (list == NULL)
		return 0;
	if (!config_setting_is_list(list))
		return fail(c, list, "listeners", "expected a list of groups ( { ... }, ... ), got %s",
			    type_name(config_setting_type(list)));
	int n = config_setting_length(list);
	if (n > PORTER_CFG_MAX_LISTENERS)
		return fail(c, list, "listeners", "must have 0..%d entries, got %d",
			    PORTER_CFG_MAX_LISTENERS, n);

	for (unsigned i = 0; i < (unsigned)n; i++) {
		const config_setting_t *el = config_setting_get_elem(list, i);
		if (parse_listener(c, el, i, &cfg->listeners[i]) != 0)
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
/* control                                                                  */
/* ------------------------------------------------------------------------ */

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
	cfg->workers.spin_us = 200;

	cfg->dataplane.mbufs = 16383;
	cfg->dataplane.mbuf_cache = 128;
	cfg->dataplane.ring_size = 1024;
	cfg->dataplane.rx_desc = 1024;
	cfg->dataplane.tx_desc = 1024;
	cfg->dataplane.primary_spin_us = 200;
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
	cfg->tcp.challenge_ack_limit = 1000;
	cfg->tcp.ephemeral_lo = 32768;
	cfg->tcp.ephemeral_hi = 60999;
	/* listeners: none (listener_count 0, from the memset) */

	snprintf(cfg->control.socket, sizeof(cfg->control.socket), "/run/porter/porter.sock");
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
	return 0;
}

static int parse_text(const struct ctx *c, const char *text, struct porter_config *out)
{
	static const char *const known[] = { "eal", "ports", "workers", "dataplane", "tcp", "listeners",
					     "control", NULL };
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
	if (check_int_literals(c, text) != 0 ||
	    check_known(c, root, "", known) != 0 ||
	    parse_eal(c, root, &out->eal) != 0 ||
	    parse_ports(c, root, out) != 0 ||
	    parse_workers(c, root, &out->workers) != 0 ||
	    parse_dataplane(c, root, &out->dataplane) != 0 ||
	    parse_tcp(c, root, &out->tcp) != 0 ||
	    parse_listeners(c, root, out) != 0 ||
	    parse_control(c, root, &out->control) != 0 ||
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

int porter_config_load(const char *path, struct porter_config *out, char *err, size_t errlen)
{
	struct ctx c = { .name = path != NULL ? path : "(null)", .err = err, .errlen = errlen };
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
