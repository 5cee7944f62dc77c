#!/bin/bash
# The test command: set up the machine, build, run every suite (unit,
# fuzz-replay, integration), then the unit and fuzz-replay suites again in a
# second build with AddressSanitizer and UBSan (build-asan). Ends with
# "N passed, N failed". Exit 0 only if every suite passed. Needs root
# (packages, hugepages, namespaces).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

bash tools/setup.sh || { echo "setup failed"; exit 1; }
bash tools/build.sh || { echo "build failed"; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0

echo "=== unit and fuzz-replay suites ==="
meson test -C build --suite unit --suite fuzz --print-errorlogs -v 2>&1 | tee "$log" || rc=1

# The same suites with AddressSanitizer and UBSan. Not the integration suites:
# they run the real workers on hugepages, DPDK memory ASan does not track.
# Only the programs these suites run are built (the daemons are not).
# -Db_lundef=false is not needed: gcc links the sanitizers into executables
# and the project builds no shared library.
#  - UBSAN_OPTIONS=halt_on_error=1: b_sanitize=undefined recovers by default
#    (a report, then the test goes on and passes); halting fails the test.
#  - ASan errors end Criterion's forked worker before it reports: the test
#    fails. Leaks are found at the worker's exit, after its verdict: Criterion
#    still counts the test passed and exits 0, so LeakSanitizer's reports in
#    the unit suites' output are counted as failures below. The fuzz replays
#    are ordinary processes: a leak makes them exit non-zero (no count then).
#    Criterion's fork itself does not trouble ASan (nothing to set for it).
echo "=== unit and fuzz-replay suites, AddressSanitizer + UBSan (build-asan) ==="
asan_log=$(mktemp)      # the unit suites' output, for LeakSanitizer's reports
trap 'rm -f "$log" "$asan_log"' EXIT
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
if { [ -f build-asan/build.ninja ] ||
     meson setup build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined >/dev/null; } &&
   asan_targets=$(meson introspect build-asan --tests | python3 -c '
import json, os, sys
print(" ".join(sorted({os.path.relpath(t["cmd"][0], "build-asan") for t in json.load(sys.stdin)
                       if {"porter:unit", "porter:fuzz"} & set(t["suite"])})))') &&
   ninja -C build-asan $asan_targets; then
	meson test -C build-asan --no-rebuild --suite unit --print-errorlogs -v 2>&1 | tee "$asan_log" || rc=1
	cat "$asan_log" >> "$log"
	meson test -C build-asan --no-rebuild --suite fuzz --print-errorlogs -v 2>&1 | tee -a "$log" || rc=1
else
	echo "build-asan: configure or build failed"
	rc=1
fi
unset UBSAN_OPTIONS ASAN_OPTIONS

# The integration suites, registered in meson (tests/meson.build, suite
# 'integration'), one at a time; -v streams each suite's own report.
echo "=== integration suites: foundation tcp durable crash proxy routing tls_durable tls ==="
meson test -C build --no-rebuild --suite integration -v 2>&1 | tee -a "$log" || rc=1

# Totals: Criterion's synthesis lines, the fuzz replays (both builds), the
# sanitizer build's leak reports, the integration runner. Criterion's
# "Failing" already counts the crashed tests ("Crashing" is a subset).
read -r cp cf < <(awk -F'|' '/Synthesis: Tested:/ {
		for (i = 1; i <= NF; i++) {
			if ($i ~ /Passing:/) { split($i, a, ":"); p += a[2] }
			if ($i ~ /Failing:/) { split($i, a, ":"); f += a[2] }
		}
	} END { print p + 0, f + 0 }' "$log")
# (meson lists a failing test again in its summary: each line counts once)
read -r fp ff < <(awk '/^ *[0-9]+\/[0-9]+ .*fuzz/ && !seen[$0]++ { if ($0 ~ / OK /) p++; else if ($0 ~ /FAIL|TIMEOUT/) f++ }
	END { print p + 0, f + 0 }' "$log")
read -r ip if < <(awk '/^[0-9]+ passed, [0-9]+ failed$/ { p += $1; f += $3 } END { print p + 0, f + 0 }' "$log")
lk=$(grep -c 'ERROR: LeakSanitizer' "$asan_log")
passed=$((cp + fp + ip))
failed=$((cf + ff + lk + if))
[ "$failed" -eq 0 ] || rc=1
echo "unit (both builds): $cp passed, $cf failed; fuzz-replay (both builds): $fp passed, $ff failed;" \
	"leaks in unit tests (ASan): $lk; integration: $ip passed, $if failed"
echo "$passed passed, $failed failed"
exit $rc
