"""Decision-log benchmarks (issue 9), run by scripts/bench.sh (mode `decision-logs`).

  bench_decision_logs.py BUILD_DIR ROOT OUT_FILE SECONDS [ROWS]

1. Check throughput at one edge with logging off and with every decision logged, in the same
   run: a control plane holding examples/authzen-todo and two edges following it (one logging
   nothing, one logging all, shipping over the sync socket), wrk -t1 -c16 on AuthZEN evaluations.
2. Ingest rate at the control plane: 4 clients posting batches of 1,000 entries.
3. Query latency over ROWS stored entries (default 10,000,000): a decision-log file filled
   directly, then GET /v1/decisions by subject, resource, and decision time.
Writes `key value` lines to OUT_FILE for bench_report.py.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

build, root, out_file, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rows_wanted = int(sys.argv[5]) if len(sys.argv) > 5 else 10_000_000
TOKEN = "bench-token"
work = tempfile.mkdtemp(prefix="warden-bench-logs-")
processes = []
results = []


def start(binary, *args, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.Popen([binary, *args, "--log-level", "warn"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=full_env)
    processes.append(proc)
    for line in proc.stdout:
        if " listening on " in line:
            return proc, line.strip().split(" listening on ")[1]
    raise RuntimeError(f"{binary} did not start")


def call(method, url, body=None, headers=None, timeout=60):
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def record(key, value):
    results.append(f"{key} {value}")
    print(f"{key} {value}", flush=True)


def cpu_seconds(pid):
    """User plus system CPU time of a process so far, every thread included."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drain(url, limit=60):
    """Waits until a following edge has shipped everything it spooled."""
    deadline = time.time() + limit
    while call("GET", url + "/v1/status")["decision_log"]["spooled"] > 0 and time.time() < deadline:
        time.sleep(0.2)


def wrk(url, pid, shipping=False, connections=16):
    """(requests/s, p99, the edge's CPU microseconds per request, shipping them included)."""
    lua = os.path.join(root, "tests", "bench", "http", "authzen_todo.lua")
    cpu_before = cpu_seconds(pid)
    output = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua, url],
                            capture_output=True, text=True).stdout
    if shipping:
        drain(url)
    cpu = cpu_seconds(pid) - cpu_before
    rps = float(re.search(r"Requests/sec:\s+(\S+)", output).group(1))
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return rps, p99, cpu * 1e6 / max(requests, 1)


try:
    cp_bin = os.path.join(build, "control-plane", "warden-control-plane")
    edge_bin = os.path.join(build, "edge", "warden-edge")
    ctl = os.path.join(build, "control-plane", "wardenctl")
    db = os.path.join(work, "store.db")
    cp, cp_url = start(cp_bin, "--db", db, "--listen", "127.0.0.1:0", env={"WARDEN_ADMIN_TOKEN": TOKEN})
    ctl_env = {**os.environ, "WARDEN_URL": cp_url, "WARDEN_TOKEN": TOKEN}
    subprocess.run([ctl, "push", os.path.join(root, "examples", "authzen-todo")], env=ctl_env, check=True,
                   capture_output=True)
    key = json.loads(subprocess.run([ctl, "keys", "create", "bench", "--json"], env=ctl_env, check=True,
                                    capture_output=True, text=True).stdout)["key"]
    key_file = os.path.join(work, "key")
    with open(key_file, "w") as f:
        f.write(key + "\n")

    # 1. Logging off and on, same run, alternating so drift hits both alike: standalone edges
    # (the edge's own cost: capture, queue, spool) and edges following the control plane (the
    # whole path, with the control plane's ingest on the same two cores).
    edges = {}
    pids = {}
    todo = os.path.join(root, "examples", "authzen-todo")
    for mode in ("standalone-off", "standalone-all"):
        proc, url = start(edge_bin, "--data", todo, "--listen", "127.0.0.1:0", "--threads", "1",
                       "--decision-log", mode.split("-")[1], "--decision-log-spool", os.path.join(work, f"{mode}.spool"),
                       "--decision-log-max-spool", "100000000")
        edges[mode] = url
        pids[mode] = proc.pid
    for mode in ("off", "all"):
        proc, url = start(edge_bin, "--control-plane", cp_url, "--key-file", key_file, "--replica",
                       os.path.join(work, f"replica-{mode}.db"), "--listen", "127.0.0.1:0", "--threads", "1",
                       "--decision-log", mode)
        for _ in range(100):
            try:
                if urllib.request.urlopen(url + "/readyz", timeout=2).status == 200:
                    break
            except Exception:
                pass
            time.sleep(0.1)
        edges[mode] = url
        pids[mode] = proc.pid
    runs = {mode: [] for mode in edges}
    for _ in range(2):
        for mode in edges:
            runs[mode].append(wrk(edges[mode], pids[mode], shipping=(mode == "all")))
    for mode in edges:
        best = max(runs[mode])
        record(f"logging-{mode}-rps", f"{best[0]:.0f}")
        record(f"logging-{mode}-p99", best[1])
        # The edge's own CPU per request, the shipping of a run's entries included (the "all" edge
        # is timed until its spool is empty): its share, told apart from the control plane's.
        record(f"logging-{mode}-cpu-us", f"{min(run[2] for run in runs[mode]):.1f}")
    drain(edges["all"])
    metrics = urllib.request.urlopen(cp_url + "/metrics").read().decode()
    entries = float(re.search(r"^warden_cp_decision_log_entries_total (\S+)$", metrics, re.M).group(1))
    edge_metrics = urllib.request.urlopen(edges["all"] + "/metrics").read().decode()
    logged = float(re.search(r"^warden_decision_log_entries_total (\S+)$", edge_metrics, re.M).group(1))
    dropped = sum(float(v) for v in re.findall(r"^warden_decision_log_dropped_total\{[^}]*\} (\S+)$", edge_metrics, re.M))
    record("logging-entries-logged", f"{logged:.0f}")
    record("logging-entries-stored", f"{entries:.0f}")
    record("logging-entries-dropped", f"{dropped:.0f}")

    # 2. Ingest rate: 4 clients, batches of 1,000 synthetic entries, distinct instances.
    # Bodies are rendered from a template: the client must not be what is measured.
    template = ('{{"instance_id":"{inst}","sequence":{seq},"time":"2026-11-29T10:00:00.000000001Z","revision":1,'
                '"api":"authzen","subject":{{"type":"user","id":"u{u}"}},"action":"can_read",'
                '"resource":{{"type":"doc","id":"d{d}"}},"decision":"{dec}","latency_us":12}}')

    def batch(instance, start_sequence):
        entries = ",".join(template.format(inst=instance, seq=s, u=s % 5000, d=s % 20000,
                                           dec="allow" if s % 3 else "deny")
                           for s in range(start_sequence, start_sequence + 1000))
        return ('{"instance_id":"' + instance + '","dropped":0,"entries":[' + entries + ']}').encode()

    ingested = [0]
    lock = threading.Lock()
    stop_at = time.time() + seconds

    def client(number):
        instance = f"bench-instance-{number}"
        sequence = 1
        while time.time() < stop_at:
            body = batch(instance, sequence)
            answer = call("POST", cp_url + "/v1/decision-logs", body, {"Authorization": "Bearer " + key})
            sequence += 1000
            with lock:
                ingested[0] += answer["stored"]

    started = time.time()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    record("ingest-entries-per-second", f"{ingested[0] / (time.time() - started):.0f}")
    for proc in processes:
        proc.kill()
        proc.wait()
    processes.clear()

    # 3. Query latency over a large store: the file is filled directly (the schema the control
    # plane made), then the control plane answers queries on it.
    decisions_db = db + ".decisions"
    conn = sqlite3.connect(decisions_db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    have = conn.execute("SELECT count(*) FROM decisions").fetchone()[0]
    fill_started = time.time()
    base_ns = 1_795_000_000_000_000_000
    chunk = 200_000
    next_id = have
    while next_id < rows_wanted:
        rows = []
        for i in range(next_id, min(rows_wanted, next_id + chunk)):
            subject = f"user:u{i % 100_000}"
            resource = f"doc:d{i % 1_000_000}"
            body = (f'{{"instance_id":"fill","sequence":{i + 1},"time":"2026-11-20T00:00:00Z","api":"authzen",'
                    f'"subject":{{"type":"user","id":"u{i % 100_000}"}},"action":"read",'
                    f'"resource":{{"type":"doc","id":"d{i % 1_000_000}"}},"decision":"allow"}}')
            rows.append(("fill", i + 1, base_ns + i * 1000, base_ns, "k", "authzen", subject, "read", resource, 1, body))
        conn.executemany("INSERT INTO decisions(instance_id, sequence, time_ns, ingested_ns, key_id, api, subject, "
                         "action, resource, allowed, body) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        conn.commit()
        next_id += chunk
    total = conn.execute("SELECT count(*) FROM decisions").fetchone()[0]
    conn.close()
    record("query-rows", total)
    record("query-fill-seconds", f"{time.time() - fill_started:.0f}")
    cp, cp_url = start(cp_bin, "--db", db, "--listen", "127.0.0.1:0", env={"WARDEN_ADMIN_TOKEN": TOKEN})
    auth = {"Authorization": "Bearer " + TOKEN}

    def timed(path, n=20):
        times = []
        for i in range(n):
            started = time.perf_counter()
            call("GET", cp_url + path.format(i=i * 37), headers=auth)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        return times[len(times) // 2], times[-1]

    for label, path in (("subject", "/v1/decisions?subject=user:u{i}&limit=100"),
                        ("resource", "/v1/decisions?resource=doc:d{i}&limit=100"),
                        ("subject-deny", "/v1/decisions?subject=user:u{i}&decision=deny&limit=100"),
                        ("newest", "/v1/decisions?limit=100")):
        p50, worst = timed(path)
        record(f"query-{label}-p50-ms", f"{p50:.1f}")
        record(f"query-{label}-max-ms", f"{worst:.1f}")
finally:
    for proc in processes:
        proc.kill()
    with open(out_file, "w") as f:
        f.write("\n".join(results) + "\n")
    shutil.rmtree(work, ignore_errors=True)
