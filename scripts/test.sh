#!/usr/bin/env bash
# Builds Warden and runs every test through ctest. The README's test command; .ci/run calls it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build=${WARDEN_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"${WARDEN_JOBS:-2}"
ctest --test-dir "$build" --output-on-failure -j"${WARDEN_JOBS:-2}" "$@"
