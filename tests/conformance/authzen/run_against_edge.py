#!/usr/bin/env python3
"""Starts the real warden-edge on an example folder and replays an AuthZEN interop scenario at it.

usage: run_against_edge.py WARDEN_EDGE DATA_DIR SCENARIO RUN_PY

The edge listens on an ephemeral port (--listen 127.0.0.1:0) and announces it on stdout
("... listening on http://HOST:PORT"). RUN_PY (the corpus's run.py) is run with that URL and the
scenario; its exit status is ours. The edge is stopped however the run ends: SIGTERM, then SIGKILL
if it does not exit, also on Ctrl-C or an exception here.
"""
import os
import signal
import subprocess
import sys
import threading
import time

START_TIMEOUT = 20
RUN_TIMEOUT = 300


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    edge_bin, data_dir, scenario, run_py = sys.argv[1:]
    edge = subprocess.Popen([edge_bin, "--data", data_dir, "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = []
    announced = threading.Event()
    stderr_lines = []

    def read_stdout():
        for line in edge.stdout:
            if " listening on " in line and not url:
                url.append(line.strip().split(" listening on ")[1])
                announced.set()

    def read_stderr():
        for line in edge.stderr:
            stderr_lines.append(line)

    threading.Thread(target=read_stdout, daemon=True).start()
    threading.Thread(target=read_stderr, daemon=True).start()
    try:
        deadline = time.time() + START_TIMEOUT
        while not announced.wait(0.05):
            if edge.poll() is not None or time.time() > deadline:
                sys.stderr.write(f"warden-edge did not start on {data_dir} (exit {edge.poll()}):\n")
                time.sleep(0.2)
                sys.stderr.write("".join(stderr_lines))
                return 1
        print(f"warden-edge serving {data_dir} at {url[0]}", flush=True)
        run = subprocess.run([sys.executable, run_py, url[0], "--scenario", scenario], timeout=RUN_TIMEOUT)
        if run.returncode != 0 and stderr_lines:
            sys.stderr.write("warden-edge stderr:\n" + "".join(stderr_lines[-50:]))
        return run.returncode
    finally:
        if edge.poll() is None:
            edge.send_signal(signal.SIGTERM)
            try:
                edge.wait(10)
            except subprocess.TimeoutExpired:
                edge.kill()
                edge.wait()


if __name__ == "__main__":
    sys.exit(main())
