/* SPDX-License-Identifier: BSD-3-Clause */
/* vdev strings: reading an argument, porter's af_packet ring default. */
#include <criterion/criterion.h>
#include <string.h>

#include "primary/devargs.h"

static const char *with_defaults(const char *device)
{
	static char out[512];

	cr_assert_lt(devargs_with_defaults(device, out, sizeof(out)), sizeof(out));
	return out;
}

Test(devargs, af_packet_gets_a_larger_ring)
{
	cr_assert_str_eq(with_defaults("net_af_packet0,iface=veth0"),
			 "net_af_packet0,iface=veth0,framecnt=4096");
	cr_assert_str_eq(with_defaults("eth_af_packet1,iface=v1,qpairs=1"),
			 "eth_af_packet1,iface=v1,qpairs=1,framecnt=4096");
}

Test(devargs, ring_geometry_given_is_kept)
{
	static const char *const given[] = {
		"net_af_packet0,iface=veth0,framecnt=512",
		"net_af_packet0,framesz=4096,iface=veth0",
		"net_af_packet0,iface=veth0,blocksz=8192",
	};

	for (unsigned int i = 0; i < sizeof(given) / sizeof(given[0]); i++)
		cr_assert_str_eq(with_defaults(given[i]), given[i]);
}

Test(devargs, other_drivers_untouched)
{
	cr_assert_str_eq(with_defaults("net_tap0,iface=porter0"), "net_tap0,iface=porter0");
	cr_assert_str_eq(with_defaults("net_af_xdp0,iface=veth0"), "net_af_xdp0,iface=veth0");
	cr_assert_str_eq(with_defaults("net_memif0"), "net_memif0");
}

Test(devargs, get)
{
	char v[8];

	cr_assert(devarg_get("net_af_packet0,iface=veth0,framecnt=2048", "framecnt", v, sizeof(v)));
	cr_assert_str_eq(v, "2048");
	cr_assert(devarg_get("net_af_packet0,iface=veth0,framecnt=2048", "iface", v, sizeof(v)));
	cr_assert_str_eq(v, "veth0");
	/* a key is a whole key, the name is not an argument, values are cut to fit */
	cr_assert_not(devarg_get("net_af_packet0,xiface=veth0", "iface", NULL, 0));
	cr_assert_not(devarg_get("net_af_packet0,ifacex=veth0", "iface", NULL, 0));
	cr_assert_not(devarg_get("iface=veth0", "iface", NULL, 0));
	cr_assert(devarg_get("n,iface=averylongname", "iface", v, sizeof(v)));
	cr_assert_str_eq(v, "averylo");
	cr_assert(devarg_get("n,iface=", "iface", v, sizeof(v)));
	cr_assert_str_eq(v, "");
}

Test(devargs, cut_result_reports_full_length)
{
	char out[8];

	cr_assert_eq(devargs_with_defaults("net_af_packet0", out, sizeof(out)),
		     strlen("net_af_packet0,framecnt=4096"));
	cr_assert_str_eq(out, "net_af_");
}
