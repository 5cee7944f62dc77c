/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crash points (test builds only). CRASH_POINT("name") marks a place where a
 * worker killed by SIGKILL leaves shared memory half-changed: between the
 * stores of a multi-field update, after a journal entry, around a marker.
 * In a build with PORTER_CRASH_POINTS defined, each point registers itself in
 * the section "porter_crash" and one point can be armed to fire on its Nth
 * pass; the environment decides what firing means (the worker: SIGKILL
 * itself; the unit harness: abandon the call as a kill would). Without the
 * flag the macro is empty: production binaries carry no trace of it.
 *
 * Names are "file.step" and unique; the sweep (tests/integration/test_crash.py,
 * tests/unit/test_crash.c) arms every one in turn. docs/RECOVERY.md lists
 * the rules each point checks.
 */
#ifndef PORTER_CRASH_H
#define PORTER_CRASH_H

#ifdef PORTER_CRASH_POINTS

#include <stdint.h>
#include <stdio.h>

/* 32 bytes, 32-aligned: the section is an array with no padding between entries. */
struct porter_crash_point {
	const char *name;
	const char *file;
	unsigned int line;
	unsigned int reserved;
	uint64_t pad;
} __attribute__((aligned(32)));

/* The armed point (NULL: none) and the passes left before it fires. */
extern const char *porter_crash_armed;
extern uint64_t porter_crash_left;

/* Count a pass of P; fire if P is armed and this is its Nth pass. */
void porter_crash_pass(const struct porter_crash_point *p);

/* Provided by the environment: what a crash at P does (does not return). */
void porter_crash_fire(const struct porter_crash_point *p);

#define CRASH_POINT(nm)                                                                         \
	do {                                                                                    \
		static const struct porter_crash_point porter_cp_                               \
			__attribute__((used, section("porter_crash"), aligned(32))) = {         \
				.name = (nm), .file = __FILE__, .line = __LINE__ };             \
		if (__builtin_expect(porter_crash_armed != NULL, 0))                            \
			porter_crash_pass(&porter_cp_);                                         \
	} while (0)

/* Arm NAME to fire on its Nth pass (N >= 1); NULL disarms. -1 if no point has that name. */
int porter_crash_arm(const char *name, uint64_t nth);

/* The registered points (one entry per name, sorted by name). */
unsigned int porter_crash_count(void);
const struct porter_crash_point *porter_crash_at(unsigned int i);

/* "NAME FILE:LINE" per point, one per line, sorted. */
void porter_crash_list(FILE *f);

#else
#define CRASH_POINT(nm) ((void)0)
#endif

#endif
