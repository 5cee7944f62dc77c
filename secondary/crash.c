/* SPDX-License-Identifier: BSD-3-Clause */
/* Crash-point registry and arming (secondary/crash.h); test builds only. */
#include <stdlib.h>
#include <string.h>

#include "secondary/crash.h"

#ifdef PORTER_CRASH_POINTS

const char *porter_crash_armed;
uint64_t porter_crash_left;

extern const struct porter_crash_point __start_porter_crash[];
extern const struct porter_crash_point __stop_porter_crash[];

/* A point in a header can be registered once per translation unit: sorted, unique by name. */
static const struct porter_crash_point **sorted;
static unsigned int nsorted;

static int by_name(const void *a, const void *b)
{
	const struct porter_crash_point *x = *(const struct porter_crash_point *const *)a;
	const struct porter_crash_point *y = *(const struct porter_crash_point *const *)b;

	return strcmp(x->name, y->name);
}

static void index_points(void)
{
	size_t n = (size_t)(__stop_porter_crash - __start_porter_crash);

	if (sorted)
		return;
	sorted = calloc(n ? n : 1, sizeof(*sorted));
	if (sorted == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		sorted[i] = &__start_porter_crash[i];
	qsort(sorted, n, sizeof(*sorted), by_name);
	nsorted = 0;
	for (size_t i = 0; i < n; i++)
		if (nsorted == 0 || strcmp(sorted[nsorted - 1]->name, sorted[i]->name) != 0)
			sorted[nsorted++] = sorted[i];
}

unsigned int porter_crash_count(void)
{
	index_points();
	return nsorted;
}

const struct porter_crash_point *porter_crash_at(unsigned int i)
{
	index_points();
	return i < nsorted ? sorted[i] : NULL;
}

void porter_crash_list(FILE *f)
{
	index_points();
	for (unsigned int i = 0; i < nsorted; i++)
		fprintf(f, "%s %s:%u\n", sorted[i]->name, sorted[i]->file, sorted[i]->line);
}

int porter_crash_arm(const char *name, uint64_t nth)
{
	index_points();
	if (name == NULL) {
		porter_crash_armed = NULL;
		return 0;
	}
	for (unsigned int i = 0; i < nsorted; i++)
		if (strcmp(sorted[i]->name, name) == 0) {
			porter_crash_left = nth ? nth : 1;
			porter_crash_armed = sorted[i]->name;
			return 0;
		}
	return -1;
}

void porter_crash_pass(const struct porter_crash_point *p)
{
	const char *a = porter_crash_armed;

	if (a == NULL || (p->name != a && strcmp(p->name, a) != 0))
		return;
	if (--porter_crash_left != 0)
		return;
	porter_crash_armed = NULL;
	porter_crash_fire(p);
}

#endif
