#!/usr/bin/env bash
# Configures and builds Warden with clang and sanitizers, for scripts/test.sh and scripts/fuzz.sh.
#   scripts/sanitizer_build.sh BUILD_DIR SANITIZERS [TARGET...]
# SANITIZERS as clang spells them: address,undefined,fuzzer-no-link (also makes the libFuzzer
# targets) or thread. -O1 with line tables keeps reports readable and asserts stay on; the
# libraries are unity-built (WARDEN_UNITY_BUILD), which roughly halves a clean build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$1
sanitizers=$2
shift 2
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DWARDEN_SANITIZE="$sanitizers" -DWARDEN_BUILD_BENCHMARKS=OFF -DWARDEN_UNITY_BUILD=ON >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build "$build" -j"${WARDEN_JOBS:-2}" "${targets[@]}"
