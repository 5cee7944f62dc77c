#!/bin/bash
# The test command: set up the machine, build, run every suite (unit,
# fuzz-replay, integration). Ends with "N passed, N failed". Exit 0 only if
# every suite passed. Needs root (packages, hugepages, namespaces).
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

for suite in foundation tcp durable crash proxy routing; do
	echo "=== integration suite: $suite ==="
	python3 "tests/integration/test_$suite.py" 2>&1 | tee -a "$log" || rc=1
done

# Totals: Criterion's synthesis lines, the fuzz replays, the integration runner.
read -r cp cf < <(awk -F'|' '/Synthesis: Tested:/ {
		for (i = 1; i <= NF; i++) {
			if ($i ~ /Passing:/) { split($i, a, ":"); p += a[2] }
			if ($i ~ /Failing:/) { split($i, a, ":"); f += a[2] }
			if ($i ~ /Crashing:/) { split($i, a, ":"); f += a[2] }
		}
	} END { print p + 0, f + 0 }' "$log")
read -r fp ff < <(awk '/^ *[0-9]+\/[0-9]+ .*fuzz/ { if ($0 ~ / OK /) p++; else if ($0 ~ /FAIL|TIMEOUT/) f++ }
	END { print p + 0, f + 0 }' "$log")
read -r ip if < <(awk '/^[0-9]+ passed, [0-9]+ failed$/ { p += $1; f += $3 } END { print p + 0, f + 0 }' "$log")
passed=$((cp + fp + ip))
failed=$((cf + ff + if))
[ "$failed" -eq 0 ] || rc=1
echo "unit: $cp passed, $cf failed; fuzz-replay: $fp passed, $ff failed; integration: $ip passed, $if failed"
echo "$passed passed, $failed failed"
exit $rc
