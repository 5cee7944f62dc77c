/* SPDX-License-Identifier: BSD-3-Clause */
/* A growing string buffer for the control socket's and the metrics endpoint's answers (primary/sbuf.c). */
#ifndef PORTER_SBUF_H
#define PORTER_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;                 /* an allocation failed: what follows is dropped */
};

/* Append, growing as needed. */
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* S as JSON string contents: quotes, backslashes and control characters escaped. */
void sb_json_str(struct sbuf *b, const char *s);

/* Commas between JSON members: the caller tracks first/not-first. */
#define SEP(first) ((first) ? "" : ",")

#endif
