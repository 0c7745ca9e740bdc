#!/usr/bin/env bash
# Benchmarks, written to docs/benchmarks.md with the machine, date and commit.
#   scripts/bench.sh [SECONDS] [http|engines|control-plane|sync|decision-logs|all]   (default: 10 s per wrk run, all)
#   (modes may be joined with commas: control-plane,sync runs both in one pass)
#
# http:    the do-nothing Beast server (../shared/peers/http-ceiling) beside the edge's do-nothing
#          route; AuthZEN evaluations on examples/authzen-todo (RBAC and ABAC) beside the ceiling at
#          1/16/64 connections with one and two worker threads, and on examples/drive (ReBAC, up to
#          five hops and more) with one; the real Cerbos server
#          (../shared/peers/cerbos) beside the edge on the same policies and the same wrk script.
# engines: the Google Benchmark targets (CEL, policies, directory), medians of 3 repetitions.
# control-plane, sync: scripts/bench_sync.py against a real control plane and real edges holding a
#          generated 1M-relation drive graph: import, single and batch writes, snapshot build;
#          edge bootstrap from the socket and from the replica, commit-to-visible at 1/10/50 edges,
#          and one 200,000-relation import to visible at every one of 10 edges (--bulk-relations,
#          --bulk-edges) with the edges' /v1/status sampled on the way (all runs both in one pass). WARDEN_BENCH_SYNC_ARGS passes options to bench_sync.py
#          (e.g. "--relations 50000 --edges 1,2 --writes 100" for a quick run).
# decision-logs: scripts/bench_decision_logs.py: AuthZEN throughput at an edge logging nothing and
#          one logging every decision (same run, same control plane), ingest rate at the control
#          plane, and queries over a decision-log store of WARDEN_BENCH_LOG_ROWS entries (10M).
# WARDEN_BENCH_BUILD_DIR: the build folder (default build/); WARDEN_BENCH_SKIP_BUILD=1 uses the
#          binaries already there without running cmake.
# Machines here are shared and noisy: HTTP figures are only compared within one run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
mode=${2:-all}
"$root/scripts/setup.sh"
build=${WARDEN_BENCH_BUILD_DIR:-$root/build}
want() { [ "$mode" = all ] || [[ ",$mode," == *",$1,"* ]]; }
for m in ${mode//,/ }; do
  case "$m" in
    all|http|engines|control-plane|sync|decision-logs) ;;
    *) echo "bench.sh: unknown mode '$m' (http, engines, control-plane, sync, decision-logs, all)" >&2; exit 2 ;;
  esac
done
skip_build=${WARDEN_BENCH_SKIP_BUILD:-0}
build_targets() {  # [target...]: nothing when WARDEN_BENCH_SKIP_BUILD=1
  [ "$skip_build" = 1 ] && return 0
  if [ $# -gt 0 ]; then cmake --build "$build" -j2 --target "$@" >/dev/null; else cmake --build "$build" -j2 >/dev/null; fi
}
[ "$skip_build" = 1 ] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DWARDEN_BUILD_BENCHMARKS=ON >/dev/null
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

if want http; then
  build_targets warden-edge
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
    start_edge drive --data "$root/examples/drive"
    for c in 1 16 64; do measure authzen-drive-t1 "$url" "$c" "$root/tests/bench/http/drive_rebac.lua"; done
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

if want engines; then
  build_targets
  for bench in "$build"/tests/bench/*/bench_*; do
    [ -x "$bench" ] || continue
    "$bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_format=json \
      >"$out/$(basename "$bench").json" 2>/dev/null || echo "$(basename "$bench") failed" >&2
  done
fi

sync_mode=
if want control-plane && want sync; then sync_mode=all
elif want control-plane; then sync_mode=control-plane
elif want sync; then sync_mode=sync
fi
if [ -n "$sync_mode" ]; then
  build_targets warden-control-plane warden-edge
  # shellcheck disable=SC2086 # WARDEN_BENCH_SYNC_ARGS is a list of options
  python3 "$root/scripts/bench_sync.py" --build "$build" --out "$out" --mode "$sync_mode" ${WARDEN_BENCH_SYNC_ARGS:-}
fi

if want decision-logs; then
  build_targets warden-control-plane warden-edge wardenctl
  python3 "$root/scripts/bench_decision_logs.py" "$build" "$root" "$out/decision-logs.txt" "$seconds" \
    "${WARDEN_BENCH_LOG_ROWS:-10000000}"
fi

machine="$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 "$root/scripts/bench_report.py" "$out" "$root/docs/benchmarks.md" "$machine" "$commit" "$seconds"
echo "written to docs/benchmarks.md"
