"""Runs the demo against binaries in the build folder given as argv[1]; see scripts/demo.sh.

Every process it starts is stopped on the way out, whatever happens."""
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request

build = sys.argv[1]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
processes = []


def start(name, *args):
    path = os.path.join(build, "edge" if name == "warden-edge" else "control-plane", name)
    proc = subprocess.Popen([path, *args, "--log-level", "warn"], stdout=subprocess.PIPE, text=True)
    processes.append(proc)
    listening = threading.Event()
    url = {}

    def read():
        for line in proc.stdout:
            if " listening on " in line and not listening.is_set():
                url["url"] = line.strip().split(" listening on ")[1]
                listening.set()

    threading.Thread(target=read, daemon=True).start()
    if not listening.wait(20):
        raise SystemExit(f"{name} did not start")
    return url["url"]


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def stop_all():
    for proc in processes:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in processes:
        try:
            code = proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = "killed"
        print(f"   {proc.args[0].rsplit('/', 1)[1]} exited with {code}")


try:
    print("== starting a control plane and an edge on 127.0.0.1 (ephemeral ports)")
    control_plane = start("warden-control-plane", "--listen", "127.0.0.1:0")
    edge = start("warden-edge", "--listen", "127.0.0.1:0")
    print(f"   control plane: {control_plane}\n   edge:          {edge}")
    print("== health")
    for name, base in (("control plane", control_plane), ("edge", edge)):
        for path in ("/healthz", "/readyz"):
            status, body = call("GET", base + path)
            print(f"   {name:13} GET {path:9} -> {status} {body}")
    print("== errors are JSON and name the problem")
    status, body = call("DELETE", edge + "/healthz")
    print(f"   DELETE /healthz -> {status} {body}")
    print("== stopping")
finally:
    stop_all()
