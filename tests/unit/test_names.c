/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every enum printed by porterctl, /metrics and the logs has one name table
 * next to it (designated initialisers). A table sized by the enum's count
 * compiles with a hole in it; this suite finds the hole: every value has a
 * name, names are unique within their table, and they are what Prometheus
 * labels and the JSON keys want (lower case, digits and '_'; states upper case).
 */
#include <ctype.h>
#include <string.h>

#include <criterion/criterion.h>

#include "shm/http-t.h"
#include "secondary/http/proxy_names.h"
#include "shm/tcp-t.h"
#include "secondary/tcp/tcp_names.h"
#include "shm/names.h"
#include "shm/porter-shm-t.h"

typedef const char *(*name_fn)(unsigned int);

static const char *pdrop(unsigned int r) { return porter_pdrop_name((enum porter_pdrop)r); }
static const char *wdrop(unsigned int r) { return porter_wdrop_name((enum porter_wdrop)r); }

static void check_table(const char *what, name_fn f, unsigned int first, unsigned int count, bool upper)
{
	for (unsigned int i = first; i < count; i++) {
		const char *n = f(i);

		cr_assert(n != NULL && strcmp(n, "?") != 0 && n[0] != '\0', "%s: value %u has no name", what, i);
		for (const char *c = n; *c; c++)
			cr_assert(upper ? (isupper((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_')
					: (islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_'),
				  "%s: value %u is named \"%s\"", what, i, n);
		for (unsigned int k = first; k < i; k++)
			cr_assert(strcmp(f(k), n) != 0, "%s: values %u and %u are both \"%s\"", what, k, i, n);
	}
	cr_assert_str_eq(f(count), "?", "%s: a value past the count has a name", what);
}

Test(names, tcp_tables_are_complete)
{
	check_table("tcp states", tcp_state_name, 0, TCP_STATE__COUNT, true);
	check_table("tcp drops", tcp_drop_name, 0, TDROP__COUNT, false);
	check_table("tcp events", tcp_event_name, 0, TEV__COUNT, false);
	check_table("tcp anomalies", tcp_anomaly_name, 0, TAN__COUNT, false);
	check_table("tcp more counters", tcp_more_name, 0, TMORE__COUNT, false);
	/* reported beside the tcp events, under the same key: no name may be taken twice */
	for (unsigned int m = 0; m < TMORE__COUNT; m++)
		for (unsigned int k = 0; k < TEV__COUNT; k++)
			cr_assert(strcmp(tcp_more_name(m), tcp_event_name(k)) != 0, "\"%s\" is a tcp event too",
				  tcp_event_name(k));
}

Test(names, proxy_counters_are_complete)
{
	check_table("proxy counters", proxy_count_name, 0, HC__COUNT, false);
}

Test(names, shared_memory_tables_are_complete)
{
	check_table("port drops", pdrop, 0, PDROP__COUNT, false);
	check_table("worker drops", wdrop, 0, WDROP__COUNT, false);
	check_table("slot states", porter_slot_state_name, 0, SLOT__COUNT, false);
	check_table("port wait kinds", porter_port_wait_name, 0, PORT_WAIT__COUNT, false);
	check_table("port drivers", porter_port_driver_name, 0, PORT_DRV__COUNT, false);
}
