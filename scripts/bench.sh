#!/usr/bin/env bash
# Benchmarks, written to docs/benchmarks.md with the machine, date and commit.
#   scripts/bench.sh [SECONDS]          HTTP ceiling vs the edge's do-nothing endpoint and /healthz
# Machines here are shared and noisy: every HTTP figure is given beside the do-nothing Beast server
# (../shared/peers/http-ceiling) measured in the same run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
"$root/scripts/setup.sh"
build=${WARDEN_BENCH_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target warden-edge >/dev/null

ceiling_script=${WARDEN_CEILING_BENCH:-$root/../shared/peers/http-ceiling/bench.sh}
out=$(mktemp -d)
trap 'kill $edge_pid 2>/dev/null; wait $edge_pid 2>/dev/null; rm -rf "$out"' EXIT

"$build/edge/warden-edge" --listen 127.0.0.1:0 --threads 1 --log-level warn >"$out/edge.out" &
edge_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$out/edge.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*listening on //p' "$out/edge.out")

measure() {  # name url conns -> "name c=N rps=.. p50=.. p99=.."
  local o; o=$(wrk -t1 -c"$3" -d"${seconds}s" --latency "$2")
  echo "$1 c=$3 rps=$(echo "$o" | awk '/Requests\/sec/{print $2}') p50=$(echo "$o" | awk '$1=="50%"{print $2}') p99=$(echo "$o" | awk '$1=="99%"{print $2}')"
}

{
  if [ -x "$ceiling_script" ]; then
    "$ceiling_script" "$seconds" "$url/v1/ping" | sed 's/^target /edge-ping /'
  fi
  for c in 1 16 64; do measure edge-healthz "$url/healthz" "$c"; done
} | tee "$out/results.txt"

machine="$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 - "$out/results.txt" "$root/docs/benchmarks.md" "$machine" "$commit" "$seconds" <<'PY'
import re, sys, datetime
results, doc, machine, commit, seconds = sys.argv[1:]
rows = {}
for line in open(results):
    m = re.match(r"(\S+) c=(\d+) rps=(\S+) p50=(\S+) p99=(\S+)", line.strip())
    if m:
        rows.setdefault(m.group(1), {})[int(m.group(2))] = (float(m.group(3)), m.group(4), m.group(5))
lines = [f"## HTTP ceiling (scripts/bench.sh)", "",
         f"Measured {datetime.date.today()} on {machine}, commit {commit}, wrk -t1 for {seconds} s per row, "
         "edge with one worker thread.", "",
         "| endpoint | connections | requests/s | p50 | p99 | ratio to ceiling |", "| --- | --- | --- | --- | --- | --- |"]
for name in ("ceiling", "edge-ping", "edge-healthz"):
    for c, (rps, p50, p99) in sorted(rows.get(name, {}).items()):
        ceiling = rows.get("ceiling", {}).get(c)
        ratio = f"{rps / ceiling[0]:.2f}" if ceiling and name != "ceiling" else ("1.00" if name == "ceiling" else "")
        label = {"ceiling": "do-nothing Beast server (shared/peers/http-ceiling)",
                 "edge-ping": "edge `GET /v1/ping` (do-nothing route)",
                 "edge-healthz": "edge `GET /healthz`"}[name]
        lines.append(f"| {label} | {c} | {rps:,.0f} | {p50} | {p99} | {ratio} |")
section = "\n".join(lines) + "\n"
try:
    text = open(doc).read()
except FileNotFoundError:
    text = "# Benchmarks\n\nFigures from `scripts/bench.sh`; each section says when, where and at which commit it was measured.\n\n"
start = text.find("## HTTP ceiling")
if start >= 0:
    end = text.find("\n## ", start + 1)
    text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
else:
    text = text.rstrip("\n") + "\n\n" + section
open(doc, "w").write(text)
PY
echo "written to docs/benchmarks.md"
