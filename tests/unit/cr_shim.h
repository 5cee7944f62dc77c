/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The part of Criterion's assertion API the TCP harness uses, for programs
 * that link the harness without Criterion (the fuzz target
 * tests/fuzz/fuzz_tcp.c and its replay driver). tcp_harness.h includes this
 * instead of <criterion/criterion.h> when H_NO_CRITERION is defined.
 *
 * A failed assertion prints where and why to stderr and calls abort(): the
 * fuzzer (libFuzzer, or the replay driver in CI) reports the input that did
 * it. Only the assertion macros exist here; Test(), TestSuite() and the
 * cr_expect/cr_log families are Criterion's alone (HTEST/HSUITE expand to
 * them, so a unit suite still needs Criterion).
 *
 * As in Criterion, the message is optional and, when given, is a printf
 * format string literal followed by its arguments.
 */
#ifndef PORTER_TESTS_CR_SHIM_H
#define PORTER_TESTS_CR_SHIM_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noreturn, format(printf, 4, 5))) static inline void
cr_shim_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: assertion failed: %s", file, line, cond);
	if (fmt[2]) {   /* ": " and a message */
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	abort();
}

/* ": " __VA_ARGS__: no message gives ": ", a message literal is joined to it. */
#define cr_assert(cond, ...)                                                          \
	do {                                                                          \
		if (!(cond))                                                          \
			cr_shim_fail(__FILE__, __LINE__, #cond, ": " __VA_ARGS__);    \
	} while (0)

#define cr_assert_fail(...) cr_shim_fail(__FILE__, __LINE__, "cr_assert_fail", ": " __VA_ARGS__)

#endif
