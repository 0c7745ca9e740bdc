#!/usr/bin/env bash
# Long fuzz runs: builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a time.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default: 600 seconds, every target)
# Each target starts from tests/fuzz/seeds/TARGET, the corpora tests/fuzz/seeds.py draws from
# the tree, tests/fuzz/regressions/TARGET and what earlier runs found (kept in the build folder).
# A crash stops that target and leaves its input in BUILD/fuzz-artifacts/TARGET/: copy it into
# tests/fuzz/regressions/TARGET/ with the fix, and it is replayed by every build's ctest.
# Writes a table of executions and coverage per target to BUILD/fuzz-report.md.
# WARDEN_FUZZ_JOBS (default 1) targets run at once; WARDEN_ASAN_BUILD_DIR picks the build folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-600}
[ $# -gt 0 ] && shift
build=${WARDEN_ASAN_BUILD_DIR:-$root/build-asan}
"$root/scripts/setup.sh"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(sed -n 's/^warden_fuzz_target(\([a-z_0-9]*\) .*/\1/p' "$root/tests/fuzz/targets.cmake")
fi
# WARDEN_FUZZ_SKIP_BUILD=1 runs what is already built (while something else holds the build).
if [ "${WARDEN_FUZZ_SKIP_BUILD:-0}" != 1 ]; then
  "$root/scripts/sanitizer_build.sh" "$build" address,undefined,fuzzer-no-link "${targets[@]/#/fuzz_}"
fi

run_one() {
  local target=$1
  local corpus="$build/fuzz-corpus/$target" artifacts="$build/fuzz-artifacts/$target/" log="$build/fuzz-logs/$target.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  python3 "$root/tests/fuzz/seeds.py" "$target" "$corpus" >/dev/null
  local inputs=()
  for dir in "$root/tests/fuzz/seeds/$target" "$root/tests/fuzz/regressions/$target"; do
    [ -d "$dir" ] && inputs+=("$dir")
  done
  local status=0
  (cd "$root" && "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
     -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" "${inputs[@]}") >"$log" 2>&1 || status=$?
  local execs cov ft corp
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  local outcome=ok
  [ $status -ne 0 ] && outcome="FAILED (exit $status; see $log)"
  printf '| %s | %s s | %s | %s | %s | %s | %s |\n' "$target" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$outcome"
}

report="$build/fuzz-report.md"
{
  echo "Fuzzing on $(date -u +%Y-%m-%d), $(nproc) cores, $(git -C "$root" rev-parse --short HEAD):"
  echo
  echo "| target | time | executions | coverage (edges) | features | corpus | outcome |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
} >"$report"
export -f run_one
export build root seconds
printf '%s\n' "${targets[@]}" | xargs -P "${WARDEN_FUZZ_JOBS:-1}" -I{} bash -c 'run_one {}' | sort >>"$report"
cat "$report"
! grep -q FAILED "$report"
