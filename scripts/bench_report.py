"""Turns scripts/bench.sh's raw results into sections of docs/benchmarks.md (replacing the sections
it writes, keeping the rest of the file)."""
import datetime
import glob
import json
import os
import re
import sys

out, doc, machine, commit, seconds = sys.argv[1:]
today = datetime.date.today()
sections = {}

http_file = os.path.join(out, "http.txt")
if os.path.exists(http_file):
    rows = {}
    for line in open(http_file):
        m = re.match(r"(\S+) c=(\d+) rps=(\S+) p50=(\S+) p99=(\S+)", line.strip())
        if m and m.group(3):
            rows.setdefault(m.group(1), {})[int(m.group(2))] = (float(m.group(3)), m.group(4), m.group(5))
    ceiling = rows.get("ceiling", {})
    labels = {
        "ceiling": "do-nothing Beast server (shared/peers/http-ceiling)",
        "edge-ping": "edge `GET /v1/ping` (do-nothing route), 1 thread",
        "authzen-todo-t1": "edge `POST /access/v1/evaluation`, todo example, 1 thread",
        "authzen-todo-t2": "edge `POST /access/v1/evaluation`, todo example, 2 threads",
        "edge-cerbos-check": "edge `POST /api/check/resources`, Cerbos corpus policies, 1 thread",
        "cerbos-server": "real Cerbos server, same policies and script",
    }
    lines = ["## HTTP (scripts/bench.sh http)", "",
             f"Measured {today} on {machine}, commit {commit}; wrk -t1, {seconds} s per row, all rows in one run. "
             "The ratio column divides by the ceiling at the same connection count; the Cerbos rows also give "
             "edge / Cerbos.", "",
             "| what | connections | requests/s | p50 | p99 | ratio to ceiling |", "| --- | --- | --- | --- | --- | --- |"]
    for name, label in labels.items():
        for c, (rps, p50, p99) in sorted(rows.get(name, {}).items()):
            ratio = f"{rps / ceiling[c][0]:.2f}" if c in ceiling else ""
            lines.append(f"| {label} | {c} | {rps:,.0f} | {p50} | {p99} | {ratio} |")
    edge, peer = rows.get("edge-cerbos-check", {}), rows.get("cerbos-server", {})
    if edge and peer:
        lines += ["", "Edge vs Cerbos on the same 50 rotating CheckResources requests (`shared/peers/cerbos/check.lua`): " +
                  ", ".join(f"{c} connections {edge[c][0] / peer[c][0]:.1f}x" for c in sorted(edge) if c in peer) + "."]
    sections["## HTTP (scripts/bench.sh http)"] = "\n".join(lines) + "\n"

bench_files = sorted(glob.glob(os.path.join(out, "bench_*.json")))
if bench_files:
    lines = ["## Engines (scripts/bench.sh engines)", "",
             f"Measured {today} on {machine}, commit {commit}; Google Benchmark, median of 3 repetitions.", "",
             "| benchmark | median time | counters |", "| --- | --- | --- |"]
    for path in bench_files:
        try:
            data = json.load(open(path))
        except ValueError:
            continue
        for b in data.get("benchmarks", []):
            if b.get("aggregate_name") != "median":
                continue
            counters = {k: v for k, v in b.items() if k not in (
                "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
                "threads", "aggregate_name", "aggregate_unit", "iterations", "real_time", "cpu_time", "time_unit")}
            counter_text = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in counters.items())
            lines.append(f"| `{b['run_name']}` | {b['real_time']:.4g} {b['time_unit']} | {counter_text} |")
    sections["## Engines (scripts/bench.sh engines)"] = "\n".join(lines) + "\n"

try:
    text = open(doc).read()
except FileNotFoundError:
    text = "# Benchmarks\n\nFigures from `scripts/bench.sh`; each section says when, where and at which commit.\n"
for heading, body in sections.items():
    start = text.find(heading)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + body + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
# The first seed section is superseded by the HTTP section.
old = text.find("## HTTP ceiling (scripts/bench.sh)")
if old >= 0:
    end = text.find("\n## ", old + 1)
    text = text[:old] + (text[end + 1:] if end >= 0 else "")
open(doc, "w").write(text)
