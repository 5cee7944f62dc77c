/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lists of the configuration: ports, static_routes, upstreams (and their
 * servers), listeners, routes.
 *
 * Each element's scalar fields are rows of a table here (config_table.h:
 * type, range, default, the row's own check); the row engine reads them
 * (config_table.c). What stays code is what spans elements or lists: the
 * number of entries, duplicates (reported on the later entry), names that
 * point into another list (upstreams before listeners and routes, ports
 * before static_routes: config.c parses the groups in that order) and a
 * listener's service / protocol / upstream, which depend on each other.
 */
#include "config/config-int.h"
#include "shm/rate.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SERVER_MAX_CONNS    4194304     /* = the largest tcp.max_streams_per_shard */
#define LISTENER_BYTES_MAX  ((int64_t)1 << 62)

/* Row makers for the tables below: T is the element's struct. */
#define L_INT(T, p, fl, m, lo, hi, d) \
	{ .path = p, .type = PORTER_CFG_INT, .flags = fl, .off = offsetof(T, m), .size = sizeof(((T *)0)->m), \
	  .min = lo, .max = hi, .def = d }
#define L_STR(T, p, fl, m, d, ck) \
	{ .path = p, .type = PORTER_CFG_STR, .flags = fl, .off = offsetof(T, m), .size = sizeof(((T *)0)->m), \
	  .def_str = d, .check = ck }
/* A string that is only checked (and parsed into other fields by CK); at most SZ - 1 characters. */
#define L_TXT(p, fl, sz, ck) \
	{ .path = p, .type = PORTER_CFG_STR, .flags = fl, .off = PORTER_CFG_NO_OFF, .size = sz, .check = ck }
#define L_GROUP(p, pst) { .path = p, .type = PORTER_CFG_GROUP, .off = PORTER_CFG_NO_OFF, .post = pst }
#define L_GROUP_R(p, pst) { .path = p, .type = PORTER_CFG_GROUP, .flags = RELOAD, .off = PORTER_CFG_NO_OFF, .post = pst }
#define MANDATORY PORTER_CFG_F_MANDATORY
/* upstreams (and their servers) and routes: a reload may change them (ports, static_routes, listeners: not) */
#define RELOAD    PORTER_CFG_F_RELOAD

/* A list element must be a group; SHAPE is how the message shows one. */
static int check_element(const struct porter_cfg_ctx *c, const config_setting_t *el, const char *path,
			 const char *shape)
{
	if (!config_setting_is_group(el))
		return fail(c, el, path, "expected a group { %s }, got %s", shape, type_name(config_setting_type(el)));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* ports                                                                    */
/* ------------------------------------------------------------------------ */

static int check_port_name(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			   void *base, const char *v)
{
	char q[QUOTE_LEN + 4];

	(void)base;
	if (v[0] == '\0' || !all_chars_in(v, "_.-"))
		return fail(c, s, path, "must be non-empty and use only A-Z a-z 0-9 _ . -, got \"%s\"", quote(q, v));
	return 0;
}

/* device: the vdev name is the part before the first ',' */
static int check_device(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			void *base, const char *v)
{
	char q[QUOTE_LEN + 4];

	(void)base;
	if (v[0] == '\0' || v[0] == ',')
		return fail(c, s, path, "expected a device such as \"net_tap0,iface=porter0\", got \"%s\"", quote(q, v));
	return 0;
}

static int check_mac(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
		     void *base, const char *v)
{
	struct porter_cfg_port *p = base;
	char q[QUOTE_LEN + 4];

	if (parse_mac(v, p->mac) != 0)
		return fail(c, s, path, "bad MAC address \"%s\" (expected xx:xx:xx:xx:xx:xx, hex)", quote(q, v));
	if (p->mac[0] & 1)
		return fail(c, s, path, "%s is a multicast address (low bit of the first byte set)", v);
	if ((p->mac[0] | p->mac[1] | p->mac[2] | p->mac[3] | p->mac[4] | p->mac[5]) == 0)
		return fail(c, s, path, "must not be all zero");
	return 0;
}

static int check_port_ipv4(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			   void *base, const char *v)
{
	struct porter_cfg_port *p = base;
	char why[PORTER_CFG_ERR_LEN];

	if (parse_cidr(v, 1, &p->ipv4, &p->prefix_len, why, sizeof(why)) != 0)
		return fail(c, s, path, "%s", why);
	const char *bad = bad_host(p->ipv4, p->ipv4, p->prefix_len);
	if (bad != NULL)
		return fail(c, s, path, "%s %s", v, bad);
	return 0;
}

/* gateway: optional, "" = none */
static int check_gateway(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			 void *base, const char *v)
{
	struct porter_cfg_port *p = base;
	uint32_t mask = prefix_mask(p->prefix_len);
	char q[QUOTE_LEN + 4], a[16];

	if (v[0] == '\0')
		return 0;
	if (porter_parse_ipv4(v, &p->gateway) != 0)
		return fail(c, s, path, "bad address \"%s\" (expected a.b.c.d, each part 0..255)", quote(q, v));
	porter_fmt_ipv4(p->ipv4 & mask, a);
	if ((p->gateway & mask) != (p->ipv4 & mask))
		return fail(c, s, path, "%s is outside the port's subnet %s/%u", v, a, (unsigned)p->prefix_len);
	if (p->gateway == p->ipv4)
		return fail(c, s, path, "%s is the port's own address", v);
	const char *bad = bad_host(p->gateway, p->ipv4, p->prefix_len);
	if (bad != NULL)
		return fail(c, s, path, "%s %s", v, bad);
	return 0;
}

static const char *const csum_names[] = { "auto", "on", "off", NULL };   /* PORTER_CSUM_OFFLOAD_* */

#define P struct porter_cfg_port
static const struct porter_cfg_row port_rows[] = {
	L_STR(P, "name", MANDATORY, name, NULL, check_port_name),
	L_STR(P, "device", MANDATORY, device, NULL, check_device),
	L_TXT("mac", MANDATORY, PORTER_CFG_PATH_LEN, check_mac),
	L_TXT("ipv4", MANDATORY, PORTER_CFG_PATH_LEN, check_port_ipv4),
	L_TXT("gateway", 0, PORTER_CFG_PATH_LEN, check_gateway),
	L_INT(P, "mtu", 0, mtu, 576, 9000, 1500),
	{ .path = "checksum_offload", .type = PORTER_CFG_ENUM, .off = offsetof(P, csum_offload),
	  .size = sizeof(((P *)0)->csum_offload), .def = PORTER_CSUM_OFFLOAD_AUTO, .names = csum_names },
};
#undef P
const struct porter_cfg_table porter_cfg_port_table = {
	"ports[i]", port_rows, sizeof(port_rows) / sizeof(port_rows[0]), sizeof(struct porter_cfg_port)
};

/* Length of the vdev name: the device string up to the first ','. */
static size_t devname_len(const char *dev)
{
	return strcspn(dev, ",");
}

/* Names, devices and addresses must be unique; report on the later port. */
static int check_port_duplicates(const struct porter_cfg_ctx *c, const config_setting_t *list,
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

/*
 * Element I of the list NAME: its table's defaults, then its settings (HINT
 * shows the expected form when it is no group). *EL and PRE (the element's
 * path, SETTING_PATH_LEN bytes) are left for the caller's own checks.
 */
static int parse_element(const struct porter_cfg_ctx *c, const config_setting_t *list, const char *name,
			 unsigned i, const struct porter_cfg_table *table, void *elem, const char *hint,
			 const config_setting_t **el, char *pre)
{
	*el = config_setting_get_elem(list, i);
	snprintf(pre, SETTING_PATH_LEN, "%s[%u]", name, i);
	porter_cfg_apply_defaults(table, elem);
	if (check_element(c, *el, pre, hint) != 0 || rows_parse(c, *el, pre, table, elem) != 0)
		return -1;
	return 0;
}

int parse_ports(const struct porter_cfg_ctx *c, const config_setting_t *root, struct porter_config *cfg)
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
		const config_setting_t *el;
		char pre[SETTING_PATH_LEN];

		if (parse_element(c, list, "ports", i, &porter_cfg_port_table, &cfg->ports[i], "name = ...; ...",
				  &el, pre) != 0 ||
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

/* to: a network, not one that a connected subnet would always win over */
static int check_route_to(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			  void *base, const char *v)
{
	const struct porter_config *cfg = c->cfg;
	struct porter_cfg_static_route *r = base;
	unsigned idx = (unsigned)(r - cfg->static_routes);
	char why[PORTER_CFG_ERR_LEN], a[16];

	if (parse_cidr(v, 0, &r->dst, &r->prefix_len, why, sizeof(why)) != 0)
		return fail(c, s, path, "%s", why);
	uint32_t mask = prefix_mask(r->prefix_len);
	if ((r->dst & ~mask) != 0) {
		porter_fmt_ipv4(r->dst & mask, a);
		return fail(c, s, path, "%s has host bits set (the network is %s/%u)", v, a, (unsigned)r->prefix_len);
	}
	for (uint32_t i = 0; i < cfg->port_count; i++) {
		const struct porter_cfg_port *p = &cfg->ports[i];
		uint32_t pmask = prefix_mask(p->prefix_len);
		if (r->prefix_len >= p->prefix_len && (r->dst & pmask) == (p->ipv4 & pmask)) {
			porter_fmt_ipv4(p->ipv4 & pmask, a);
			return fail(c, s, path, "%s is inside the subnet %s/%u of ports[%" PRIu32 "] (\"%s\"): "
				    "that port's subnet always wins, the route would never be used",
				    v, a, (unsigned)p->prefix_len, i, p->name);
		}
	}
	for (unsigned j = 0; j < idx; j++)
		if (cfg->static_routes[j].dst == r->dst && cfg->static_routes[j].prefix_len == r->prefix_len)
			return fail(c, s, path, "duplicate destination %s (already used by static_routes[%u])", v, j);
	return 0;
}

/* via: a next hop on one of the ports */
static int check_route_via(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			   void *base, const char *v)
{
	const struct porter_config *cfg = c->cfg;
	struct porter_cfg_static_route *r = base;
	char q[QUOTE_LEN + 4];

	if (porter_parse_ipv4(v, &r->via) != 0)
		return fail(c, s, path, "bad address \"%s\" (expected a.b.c.d, each part 0..255)", quote(q, v));
	int port = port_holding(cfg, r->via);
	if (port < 0)
		return fail(c, s, path, "%s is not inside the subnet of any port", v);
	const struct porter_cfg_port *p = &cfg->ports[port];
	for (uint32_t i = 0; i < cfg->port_count; i++)
		if (cfg->ports[i].ipv4 == r->via)
			return fail(c, s, path, "%s is the address of ports[%" PRIu32 "] (\"%s\")", v, i,
				    cfg->ports[i].name);
	const char *bad = bad_host(r->via, p->ipv4, p->prefix_len);
	if (bad != NULL)
		return fail(c, s, path, "%s %s", v, bad);
	r->port = (uint8_t)port;
	return 0;
}

static const struct porter_cfg_row static_route_rows[] = {
	L_TXT("to", MANDATORY, PORTER_CFG_PATH_LEN, check_route_to),
	L_TXT("via", MANDATORY, PORTER_CFG_PATH_LEN, check_route_via),
};
const struct porter_cfg_table porter_cfg_static_route_table = {
	"static_routes[i]", static_route_rows, sizeof(static_route_rows) / sizeof(static_route_rows[0]),
	sizeof(struct porter_cfg_static_route)
};

int parse_static_routes(const struct porter_cfg_ctx *c, const config_setting_t *root, struct porter_config *cfg)
{
	const config_setting_t *list;

	if (get_list(c, root, "static_routes", "static_routes", 0, PORTER_CFG_MAX_STATIC_ROUTES, &list) != 0)
		return -1;
	int n = list != NULL ? config_setting_length(list) : 0;
	for (unsigned i = 0; i < (unsigned)n; i++) {
		const config_setting_t *el;
		char pre[SETTING_PATH_LEN];

		if (parse_element(c, list, "static_routes", i, &porter_cfg_static_route_table, &cfg->static_routes[i],
				  "to = ...; via = ...;", &el, pre) != 0)
			return -1;
	}
	cfg->static_route_count = (uint32_t)n;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* upstreams                                                                */
/* ------------------------------------------------------------------------ */

/* A name of ports and upstreams: non-empty, A-Z a-z 0-9 _ . - */
static bool valid_name(const char *s)
{
	return s[0] != '\0' && all_chars_in(s, "_.-");
}

/*
 * The upstream named V (setting S, its path PATH) into *idx. Upstreams are
 * parsed before listeners and routes, wherever they are in the file, so the
 * name can always be resolved here.
 */
static int resolve_upstream(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			    const char *v, int *idx)
{
	char q[QUOTE_LEN + 4];

	for (uint32_t i = 0; i < c->cfg->upstream_count; i++)
		if (strcmp(c->cfg->upstreams[i].name, v) == 0) {
			*idx = (int)i;
			return 0;
		}
	return fail(c, s, path, "no upstream named \"%s\" in upstreams", quote(q, v));
}

/*
 * The path of an HTTP request target: starts with '/', then visible ASCII
 * only (no space, no control character, nothing above 0x7e).
 */
int check_http_path(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
		    void *base, const char *v)
{
	char q[QUOTE_LEN + 4];
	bool ok = v[0] == '/';

	(void)base;
	for (const char *p = v; *p != '\0' && ok; p++)
		ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f;
	if (!ok)
		return fail(c, s, path,
			    "must start with '/' and use only visible ASCII characters (no space), got \"%s\"",
			    quote(q, v));
	return 0;
}

static int check_upstream_name(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			       void *base, const char *v)
{
	char q[QUOTE_LEN + 4];

	(void)base;
	if (!valid_name(v))
		return fail(c, s, path, "must be non-empty and use only A-Z a-z 0-9 _ . -, got \"%s\"", quote(q, v));
	return 0;
}

static int check_server_address(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
				void *base, const char *v)
{
	struct porter_cfg_server *sv = base;
	char q[QUOTE_LEN + 4];

	if (parse_hostport(v, &sv->ipv4, &sv->port) != 0)
		return fail(c, s, path, "bad address \"%s\" (expected a.b.c.d:port, each part 0..255, port 1..65535)",
			    quote(q, v));
	/* bad_host() with /32: only the checks that do not need a subnet. */
	const char *bad = bad_host(sv->ipv4, sv->ipv4, 32);
	if (bad != NULL)
		return fail(c, s, path, "%s %s", v, bad);
	return 0;
}

#define S struct porter_cfg_server
static const struct porter_cfg_row server_rows[] = {
	L_TXT("address", RELOAD | MANDATORY, PORTER_CFG_PATH_LEN, check_server_address),
	L_INT(S, "weight", RELOAD, weight, 1, 256, 1),
	L_INT(S, "max_connections", RELOAD, max_conns, 0, SERVER_MAX_CONNS, 0),
};
#undef S
const struct porter_cfg_table porter_cfg_server_table = {
	"upstreams[i].servers[j]", server_rows, sizeof(server_rows) / sizeof(server_rows[0]),
	sizeof(struct porter_cfg_server)
};

/* upstreams[i].servers: the LIST row's parser; UP is the upstream (path PRE). */
static int parse_servers(const struct porter_cfg_ctx *c, const config_setting_t *up, const char *pre, void *base)
{
	struct porter_cfg_upstream *u = base;
	char path[SETTING_PATH_LEN], spre[SETTING_PATH_LEN + 16], a[16];
	const config_setting_t *list;

	join(path, pre, "servers");
	if (get_list(c, up, path, "servers", 1, PORTER_CFG_MAX_SERVERS, &list) != 0)
		return -1;
	if (list == NULL)
		return fail(c, up, path, "missing mandatory setting");

	int n = config_setting_length(list);
	for (unsigned j = 0; j < (unsigned)n; j++) {
		const config_setting_t *el = config_setting_get_elem(list, j);
		struct porter_cfg_server *sv = &u->servers[j];

		snprintf(spre, sizeof(spre), "%s[%u]", path, j);
		porter_cfg_apply_defaults(&porter_cfg_server_table, sv);
		if (check_element(c, el, spre, "address = ...; ...") != 0 ||
		    rows_parse(c, el, spre, &porter_cfg_server_table, sv) != 0)
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

/* health_check.timeout_ms < interval_ms: blame interval_ms when it is in the file. */
static int post_health_check(const struct porter_cfg_ctx *c, const config_setting_t *g, const char *gpath,
			     void *base)
{
	const struct porter_cfg_upstream *u = base;
	const config_setting_t *ivl = config_setting_get_member(g, "interval_ms");
	const config_setting_t *tmo = config_setting_get_member(g, "timeout_ms");
	char ipath[SETTING_PATH_LEN], tpath[SETTING_PATH_LEN];

	if (u->health_timeout_ms < u->health_interval_ms)
		return 0;
	join(tpath, gpath, "timeout_ms");
	join(ipath, gpath, "interval_ms");
	if (ivl != NULL)
		return fail(c, ivl, ipath, "must be > %s (%" PRIu32 "), got %" PRIu32, tpath, u->health_timeout_ms,
			    u->health_interval_ms);
	return fail(c, tmo, tpath, "must be < %s (%" PRIu32 "), got %" PRIu32, ipath, u->health_interval_ms,
		    u->health_timeout_ms);
}

static const char *const balance_names[] = { "round_robin", "least_conn", "hash", NULL };   /* PORTER_LB_* */

#define U struct porter_cfg_upstream
static const struct porter_cfg_row upstream_rows[] = {
	L_STR(U, "name", RELOAD | MANDATORY, name, NULL, check_upstream_name),
	{ .path = "balance", .type = PORTER_CFG_ENUM, .flags = RELOAD, .off = offsetof(U, balance), .size = sizeof(uint32_t),
	  .def = PORTER_LB_ROUND_ROBIN, .names = balance_names },
	{ .path = "servers", .type = PORTER_CFG_LIST, .flags = RELOAD | MANDATORY, .off = PORTER_CFG_NO_OFF,
	  .min = 1, .max = PORTER_CFG_MAX_SERVERS, .post = parse_servers },
	L_GROUP_R("keepalive", NULL),
	L_INT(U, "keepalive.max_idle", RELOAD, keepalive_max_idle, 0, 4096, 32),
	L_INT(U, "keepalive.idle_timeout_ms", RELOAD, keepalive_idle_timeout_ms, 100, 3600000, 60000),
	L_GROUP_R("timeouts", NULL),
	L_INT(U, "timeouts.connect_ms", RELOAD, connect_timeout_ms, 10, 600000, 3000),
	L_INT(U, "timeouts.read_ms", RELOAD, read_timeout_ms, 10, 3600000, 30000),
	L_INT(U, "timeouts.write_ms", RELOAD, write_timeout_ms, 10, 3600000, 30000),
	L_INT(U, "retries", RELOAD, retries, 0, 10, 1),
	/* present, even empty, it turns the checks on */
	{ .path = "health_check", .type = PORTER_CFG_GROUP, .flags = RELOAD | PORTER_CFG_F_PRESENCE,
	  .off = offsetof(U, health_enabled), .size = sizeof(bool), .post = post_health_check },
	L_STR(U, "health_check.path", RELOAD, health_path, "/", check_http_path),
	L_INT(U, "health_check.interval_ms", RELOAD, health_interval_ms, 100, 3600000, 2000),
	L_INT(U, "health_check.timeout_ms", RELOAD, health_timeout_ms, 10, 600000, 1000),
	L_INT(U, "health_check.rise", RELOAD, health_rise, 1, 100, 2),
	L_INT(U, "health_check.fall", RELOAD, health_fall, 1, 100, 3),
	L_GROUP_R("passive", NULL),
	L_INT(U, "passive.max_fails", RELOAD, passive_max_fails, 0, 1000, 3),
	L_INT(U, "passive.fail_timeout_ms", RELOAD, passive_fail_timeout_ms, 100, 3600000, 10000),
};
#undef U
const struct porter_cfg_table porter_cfg_upstream_table = {
	"upstreams[i]", upstream_rows, sizeof(upstream_rows) / sizeof(upstream_rows[0]),
	sizeof(struct porter_cfg_upstream)
};

int parse_upstreams(const struct porter_cfg_ctx *c, const config_setting_t *root, struct porter_config *cfg)
{
	const config_setting_t *list;

	if (get_list(c, root, "upstreams", "upstreams", 0, PORTER_CFG_MAX_UPSTREAMS, &list) != 0)
		return -1;
	if (list == NULL)
		return 0;
	int n = config_setting_length(list);
	for (unsigned i = 0; i < (unsigned)n; i++) {
		const config_setting_t *el;
		struct porter_cfg_upstream *u = &cfg->upstreams[i];
		char pre[SETTING_PATH_LEN];

		if (parse_element(c, list, "upstreams", i, &porter_cfg_upstream_table, u, "name = ...; ...", &el,
				  pre) != 0)
			return -1;
		/* Names are unique; report on the later upstream. */
		for (unsigned j = 0; j < i; j++)
			if (strcmp(cfg->upstreams[j].name, u->name) == 0) {
				char path[SETTING_PATH_LEN];
				join(path, pre, "name");
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

static int check_listener_rate(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			       void *base, const char *v)
{
	uint16_t r;

	(void)base;
	(void)v;
	return porter_cfg_rate(c, s, path, &r);
}

/* service, protocol and upstream depend on each other: read by parse_listener(), not by the engine */
#define L struct porter_cfg_listener
static const struct porter_cfg_row listener_rows[] = {
	L_INT(L, "port", MANDATORY, port, 1, 65535, 0),
	{ .path = "service", .type = PORTER_CFG_OWN, .off = PORTER_CFG_NO_OFF },
	{ .path = "protocol", .type = PORTER_CFG_OWN, .off = PORTER_CFG_NO_OFF },
	{ .path = "upstream", .type = PORTER_CFG_OWN, .off = PORTER_CFG_NO_OFF },
	L_INT(L, "bytes", 0, bytes, 0, LISTENER_BYTES_MAX, 0),
	{ .path = "client_limits", .type = PORTER_CFG_BOOL, .off = offsetof(L, client_limits), .size = sizeof(bool),
	  .def = true },
	{ .path = "rate_limit", .type = PORTER_CFG_INT, .off = offsetof(L, rate_limit), .size = sizeof(uint64_t),
	  .min = 0, .max = PORTER_RATE_MAX, .def = 0, .check = check_listener_rate },
	/* present or not: a restart; what is inside: a reload (config_tls.c reads them) */
	{ .path = "tls", .type = PORTER_CFG_GROUP, .flags = PORTER_CFG_F_PRESENCE, .off = offsetof(L, tls),
	  .size = sizeof(bool) },
	{ .path = "tls.certificates", .type = PORTER_CFG_LIST, .flags = RELOAD | MANDATORY, .off = PORTER_CFG_NO_OFF,
	  .min = 1, .max = PORTER_CFG_MAX_TLS_CERTS },
	{ .path = "tls.protocols", .type = PORTER_CFG_STRS, .flags = RELOAD, .off = PORTER_CFG_NO_OFF },
	{ .path = "tls.ciphers", .type = PORTER_CFG_STRS, .flags = RELOAD, .off = PORTER_CFG_NO_OFF },
	{ .path = "tls.alpn", .type = PORTER_CFG_STRS, .flags = RELOAD, .off = PORTER_CFG_NO_OFF },
};
#undef L
const struct porter_cfg_table porter_cfg_listener_table = {
	"listeners[i]", listener_rows, sizeof(listener_rows) / sizeof(listener_rows[0]),
	sizeof(struct porter_cfg_listener)
};

static int parse_listener(const struct porter_cfg_ctx *c, const config_setting_t *el, unsigned idx,
			  struct porter_config *cfg, struct porter_cfg_listener *l)
{
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
	const struct porter_cfg_table *t = &porter_cfg_listener_table;
	char pre[SETTING_PATH_LEN], path[SETTING_PATH_LEN], q[QUOTE_LEN + 4];
	char tmp[PORTER_CFG_PATH_LEN];
	const config_setting_t *s, *svc, *proto;

	snprintf(pre, sizeof(pre), "listeners[%u]", idx);
	porter_cfg_apply_defaults(t, l);
	l->upstream = -1;
	l->service = 0;
	if (check_element(c, el, pre, "port = ...; ...") != 0 ||
	    rows_check_known(c, el, pre, t->rows, t->n, 0) != 0 ||
	    row_read(c, el, pre, porter_cfg_row_find(t, "port"), l, NULL) != 0)
		return -1;

	/* exactly one of service and protocol; neither reads as a missing service */
	proto = config_setting_get_member(el, "protocol");
	svc = config_setting_get_member(el, "service");
	if (svc != NULL && proto != NULL) {
		join(path, pre, "protocol");
		return fail(c, proto, path, "not allowed together with service (give exactly one of "
			    "service and protocol)");
	}
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
	if (s != NULL && resolve_upstream(c, s, path, tmp, &l->upstream) != 0)
		return -1;

	/* bytes: source only */
	if (row_read(c, el, pre, porter_cfg_row_find(t, "bytes"), l, &s) != 0)
		return -1;
	if (s != NULL && l->service != PORTER_SVC_SOURCE) {
		join(path, pre, "bytes");
		return fail(c, s, path, "only for service \"source\"");
	}
	if (row_read(c, el, pre, porter_cfg_row_find(t, "client_limits"), l, NULL) != 0)
		return -1;
	if (row_read(c, el, pre, porter_cfg_row_find(t, "rate_limit"), l, NULL) != 0)
		return -1;
	return parse_listener_tls(c, el, pre, t, cfg, l);
}

int parse_listeners(const struct porter_cfg_ctx *c, const config_setting_t *root, struct porter_config *cfg)
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

static int check_route_host(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			    void *base, const char *v)
{
	const char *why = parse_route_host(v, base);
	char q[QUOTE_LEN + 4];

	if (why != NULL)
		return fail(c, s, path, "bad host \"%s\": %s", quote(q, v), why);
	return 0;
}

/* An HTTP method as routes use it: 1..15 upper-case letters. */
static int check_method(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			void *base, const char *v)
{
	char q[QUOTE_LEN + 4];
	bool ok = v[0] != '\0';

	(void)base;
	for (const char *p = v; *p != '\0' && ok; p++)
		ok = *p >= 'A' && *p <= 'Z';
	if (!ok)
		return fail(c, s, path, "expected an upper-case method such as \"GET\" (1..15 letters A-Z), "
			    "got \"%s\"", quote(q, v));
	return 0;
}

static int check_route_upstream(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
				void *base, const char *v)
{
	struct porter_cfg_route *r = base;
	int u = 0;

	if (resolve_upstream(c, s, path, v, &u) != 0)
		return -1;
	r->upstream = (uint32_t)u;
	return 0;
}

/* listener: 0 = every http listener, else the port of one */
static int check_route_listener(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
				void *base, const char *v)
{
	const struct porter_config *cfg = c->cfg;
	uint32_t port = ((struct porter_cfg_route *)base)->listen_port, i = 0;

	(void)v;
	if (port == 0)
		return 0;
	while (i < cfg->listener_count && cfg->listeners[i].port != port)
		i++;
	if (i == cfg->listener_count)
		return fail(c, s, path, "no listener on port %" PRIu32 " in listeners", port);
	if (cfg->listeners[i].service != PORTER_SVC_HTTP)
		return fail(c, s, path, "listeners[%" PRIu32 "] (port %" PRIu32
			    ") is not an http listener (protocol = \"http\")", i, port);
	return 0;
}

/* routes[i].rate_limit: stored in the proxy conf's 16-bit form (shm/rate.h) */
static int check_route_rate(const struct porter_cfg_ctx *c, const config_setting_t *s, const char *path,
			    void *base, const char *v)
{
	(void)v;
	return porter_cfg_rate(c, s, path, &((struct porter_cfg_route *)base)->rate);
}

#define R struct porter_cfg_route
static const struct porter_cfg_row route_rows[] = {
	L_TXT("host", RELOAD, PORTER_CFG_HOST_LEN, check_route_host),
	L_STR(R, "path", RELOAD, path_prefix, "/", check_http_path),
	L_STR(R, "method", RELOAD, method, "", check_method),
	L_TXT("upstream", RELOAD | MANDATORY, PORTER_CFG_HOST_LEN, check_route_upstream),
	{ .path = "listener", .type = PORTER_CFG_INT, .flags = RELOAD, .off = offsetof(R, listen_port), .size = sizeof(uint16_t),
	  .min = 0, .max = 65535, .def = 0, .check = check_route_listener },
	{ .path = "rate_limit", .type = PORTER_CFG_INT, .flags = RELOAD, .off = PORTER_CFG_NO_OFF, .size = 8,
	  .min = 0, .max = PORTER_RATE_MAX, .def = 0, .check = check_route_rate },
};
#undef R
const struct porter_cfg_table porter_cfg_route_table = {
	"routes[i]", route_rows, sizeof(route_rows) / sizeof(route_rows[0]), sizeof(struct porter_cfg_route)
};

int parse_routes(const struct porter_cfg_ctx *c, const config_setting_t *root, struct porter_config *cfg)
{
	const config_setting_t *list;

	if (get_list(c, root, "routes", "routes", 0, PORTER_CFG_MAX_ROUTES, &list) != 0)
		return -1;
	int n = list != NULL ? config_setting_length(list) : 0;
	for (unsigned i = 0; i < (unsigned)n; i++) {
		const config_setting_t *el;
		char pre[SETTING_PATH_LEN];

		if (parse_element(c, list, "routes", i, &porter_cfg_route_table, &cfg->routes[i],
				  "upstream = ...; ...", &el, pre) != 0)
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
