#!/usr/bin/env bash
# Builds Warden and runs every test through ctest. The README's test command; .ci/run calls it.
#
# Three passes:
#   1. the Release build (gcc): every test (unit, conformance, integration, fuzz-input replays);
#   2. clang with AddressSanitizer + UndefinedBehaviorSanitizer, also building the libFuzzer
#      targets: every test again, each fuzz target fuzzing for a short while;
#   3. clang with ThreadSanitizer: the tests labelled "concurrency".
# WARDEN_TEST_SANITIZERS=0 runs the first pass only (a quick local run). Extra arguments go to
# every ctest (e.g. -R sync).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
jobs=${WARDEN_JOBS:-2}
build=${WARDEN_BUILD_DIR:-$root/build}

started=$SECONDS
# Unity-built, without the benchmarks (scripts/bench.sh turns them back on): CI builds from clean.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWARDEN_UNITY_BUILD=ON \
  -DWARDEN_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs" "$@"
echo "test.sh: release pass done at $((SECONDS - started)) s"
[ "${WARDEN_TEST_SANITIZERS:-1}" = 0 ] && exit 0

# Reports go to stderr, which the integration harness reads; any report fails the test.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

asan=${WARDEN_ASAN_BUILD_DIR:-$root/build-asan}
"$root/scripts/sanitizer_build.sh" "$asan" address,undefined,fuzzer-no-link
ctest --test-dir "$asan" --output-on-failure -j"$jobs" "$@"
echo "test.sh: address and undefined-behaviour pass done at $((SECONDS - started)) s"

tsan=${WARDEN_TSAN_BUILD_DIR:-$root/build-tsan}
"$root/scripts/sanitizer_build.sh" "$tsan" thread unit_util unit_http unit_edge unit_control-plane \
  warden-edge warden-control-plane wardenctl
ctest --test-dir "$tsan" --output-on-failure -j"$jobs" -L concurrency "$@"
echo "test.sh: thread pass done at $((SECONDS - started)) s"
