/* SPDX-License-Identifier: BSD-3-Clause */
/* vdev strings: see devargs.h. */
#include <stdio.h>
#include <string.h>

#include "primary/devargs.h"

bool devarg_get(const char *device, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);

	for (const char *a = strchr(device, ','); a != NULL; a = strchr(a, ',')) {
		a++;
		if (strncmp(a, key, klen) != 0 || a[klen] != '=')
			continue;
		if (out != NULL && len > 0) {
			size_t n = strcspn(a + klen + 1, ",");

			if (n >= len)
				n = len - 1;
			memcpy(out, a + klen + 1, n);
			out[n] = '\0';
		}
		return true;
	}
	return false;
}

static bool is_af_packet(const char *device)
{
	return strncmp(device, "net_af_packet", 13) == 0 || strncmp(device, "eth_af_packet", 13) == 0;
}

size_t devargs_with_defaults(const char *device, char *out, size_t len)
{
	int n;

	if (is_af_packet(device) && !devarg_get(device, "framecnt", NULL, 0) &&
	    !devarg_get(device, "framesz", NULL, 0) && !devarg_get(device, "blocksz", NULL, 0))
		n = snprintf(out, len, "%s,framecnt=%u", device, AF_PACKET_DEFAULT_FRAMECNT);
	else
		n = snprintf(out, len, "%s", device);
	return n < 0 ? 0 : (size_t)n;
}
