#!/usr/bin/env bash
# Benchmarks, written to docs/benchmarks.md with the machine, date and commit.
#   scripts/bench.sh [SECONDS] [http|engines|all]     (default: 10 s per wrk run, all)
#
# http:    the do-nothing Beast server (../shared/peers/http-ceiling) beside the edge's do-nothing
#          route; AuthZEN evaluations on examples/authzen-todo beside the ceiling at 1/16/64
#          connections with one and two worker threads; the real Cerbos server
#          (../shared/peers/cerbos) beside the edge on the same policies and the same wrk script.
# engines: the Google Benchmark targets (CEL, policies, directory), medians of 3 repetitions.
# Machines here are shared and noisy: HTTP figures are only compared within one run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
mode=${2:-all}
"$root/scripts/setup.sh"
build=${WARDEN_BENCH_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
peers=${WARDEN_PEERS_DIR:-$root/../shared/peers}
out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$out"; }
trap cleanup EXIT

start_edge() {  # name args... -> sets $url
  local name=$1; shift
  "$build/edge/warden-edge" --listen 127.0.0.1:0 --log-level warn "$@" >"$out/$name.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$out/$name.out" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^warden-edge listening on //p' "$out/$name.out")
}
measure() {  # label url conns [lua]
  local o
  if [ -n "${4:-}" ]; then o=$(wrk -t1 -c"$3" -d"${seconds}s" --latency -s "$4" "$2"); else o=$(wrk -t1 -c"$3" -d"${seconds}s" --latency "$2"); fi
  echo "$1 c=$3 rps=$(echo "$o" | awk '/Requests\/sec/{print $2}') p50=$(echo "$o" | awk '$1=="50%"{print $2}') p99=$(echo "$o" | awk '$1=="99%"{print $2}') errors=$(echo "$o" | awk '/Non-2xx/{print $NF}')"
}

if [ "$mode" = http ] || [ "$mode" = all ]; then
  cmake --build "$build" -j2 --target warden-edge >/dev/null
  # Not a pipeline: start_edge must record its pids in this shell for the cleanup trap.
  exec 3>&1 >"$out/http.txt"
  {
    start_edge ping
    if [ -x "$peers/http-ceiling/bench.sh" ]; then
      "$peers/http-ceiling/bench.sh" "$seconds" "$url/v1/ping" | sed 's/^target /edge-ping /'
    fi
    for threads in 1 2; do
      start_edge "todo$threads" --threads "$threads" --data "$root/examples/authzen-todo"
      for c in 1 16 64; do measure "authzen-todo-t$threads" "$url" "$c" "$root/tests/bench/http/authzen_todo.lua"; done
    done
    if [ -x "$peers/cerbos/bench.sh" ]; then
      policies=$(mktemp -d); cp -r "$peers/../conformance/cerbos/policies" "$policies/policies"
      start_edge cerbos --data "$policies"
      for c in 1 16 64; do measure edge-cerbos-check "$url" "$c" "$peers/cerbos/check.lua"; done
      "$peers/cerbos/bench.sh" "$seconds" | sed 's/^cerbos /cerbos-server /'
      rm -rf "$policies"
    fi
  }
  exec >&3 3>&-
  cat "$out/http.txt"
fi

if [ "$mode" = engines ] || [ "$mode" = all ]; then
  cmake --build "$build" -j2 >/dev/null
  for bench in "$build"/tests/bench/*/bench_*; do
    [ -x "$bench" ] || continue
    "$bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_format=json \
      >"$out/$(basename "$bench").json" 2>/dev/null || echo "$(basename "$bench") failed" >&2
  done
fi

machine="$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 "$root/scripts/bench_report.py" "$out" "$root/docs/benchmarks.md" "$machine" "$commit" "$seconds"
echo "written to docs/benchmarks.md"
