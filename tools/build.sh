#!/bin/bash
# Configure (once) and build porter into ./build. Used by demo.sh and test.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=debugoptimized
fi
meson compile -C build
