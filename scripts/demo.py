"""Runs the demo against binaries in the build folder given as argv[1]; see scripts/demo.sh.

Starts a control plane and one edge per example folder on 127.0.0.1 (ephemeral ports), asks each
edge real questions through its public APIs and prints subject, action, resource, decision and the
reason the edge gives. Every process it starts is stopped on the way out, whatever happens."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

build = sys.argv[1]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
processes = []
PID = {"rick": "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs",
       "morty": "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs",
       "beth": "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"}


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
    if not listening.wait(30):
        raise SystemExit(f"{name} did not start")
    return url["url"]


def call(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def row(subject, action, resource, decision, why):
    verdict = "ALLOW" if decision else "DENY "
    print(f"   {subject:<22} {action:<16} {resource:<26} {verdict}  {why}")


def authzen(edge, subject, action, resource, label, properties=None):
    body = {"subject": {"type": "user", "id": subject}, "action": {"name": action},
            "resource": {"type": resource[0], "id": resource[1], **({"properties": properties} if properties else {})},
            "context": {"warden": {"explain": True}}}
    status, answer = call("POST", edge + "/access/v1/evaluation", body)
    if status != 200:
        row(label, action, f"{resource[0]}:{resource[1]}", False, f"error {status}: {answer['error']['message']}")
        return
    reason = answer["context"].get("reason_admin", {})
    why = reason.get("reason", "")
    if reason.get("relation_path"):
        why += "; path: " + " > ".join(reason["relation_path"][:4])
    row(label, action, f"{resource[0]}:{resource[1]}", answer["decision"], why)


def stop_all():
    for proc in processes:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    codes = []
    for proc in processes:
        try:
            codes.append(proc.wait(15))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append("killed")
    print(f"   stopped {len(codes)} processes, exit codes {codes}")


workdir = tempfile.mkdtemp(prefix="warden-demo-")
try:
    print("== control plane (SQLite store) on 127.0.0.1")
    control_plane = start("warden-control-plane", "--listen", "127.0.0.1:0", "--db", os.path.join(workdir, "store.db"))
    status, body = call("GET", control_plane + "/healthz")
    print(f"   {control_plane}  /healthz -> {status} {body}")

    print("\n== edge on examples/authzen-todo (Cerbos-style policies + directory identities, AuthZEN API)")
    todo = start("warden-edge", "--listen", "127.0.0.1:0", "--data", os.path.join(root, "examples", "authzen-todo"))
    authzen(todo, PID["beth"], "can_read_todos", ("todo", "t1"), "beth (viewer, by PID)")
    authzen(todo, PID["beth"], "can_create_todo", ("todo", "t1"), "beth (viewer, by PID)")
    authzen(todo, PID["morty"], "can_update_todo", ("todo", "t2"), "morty (editor)", {"ownerID": "morty@the-citadel.com"})
    authzen(todo, PID["morty"], "can_update_todo", ("todo", "t3"), "morty (editor)", {"ownerID": "rick@the-citadel.com"})
    authzen(todo, PID["rick"], "can_delete_todo", ("todo", "t3"), "rick (admin)", {"ownerID": "morty@the-citadel.com"})

    print("\n== edge on examples/drive (ReBAC: nested groups, folder tree, exclusion; manifest permissions)")
    drive = start("warden-edge", "--listen", "127.0.0.1:0", "--data", os.path.join(root, "examples", "drive"))
    for subject, action, document in (("ada@example.com", "can_view", "roadmap"), ("eve", "can_view", "roadmap"),
                                      ("brian", "can_edit", "driver-model"), ("grace", "can_comment", "handbook")):
        authzen(drive, subject, action, ("document", document), subject)

    print("\n== edge on examples/expenses (Cerbos API: derived roles, conditions on amount and status)")
    expenses = start("warden-edge", "--listen", "127.0.0.1:0", "--data", os.path.join(root, "examples", "expenses"))
    principal = {"id": "sally", "roles": ["manager"], "attr": {"department": "sales", "region": "EMEA"}}
    report = {"kind": "expense", "id": "exp-7",
              "attr": {"ownerId": "tom", "department": "sales", "region": "EMEA", "status": "OPEN", "amount": 420}}
    status, answer = call("POST", expenses + "/api/check/resources", {
        "requestId": "demo", "includeMeta": True, "principal": principal,
        "resources": [{"resource": report, "actions": ["view", "approve", "delete"]}]})
    result = answer["results"][0]
    for action, effect in result["actions"].items():
        meta = result.get("meta", {}).get("actions", {}).get(action, {})
        row("sally (manager, sales)", action, "expense:exp-7", effect == "EFFECT_ALLOW",
            f"policy {meta.get('matchedPolicy', '?')}; derived roles {result.get('meta', {}).get('effectiveDerivedRoles', [])}")
    status, plan = call("POST", expenses + "/api/plan/resources", {
        "requestId": "plan", "action": "approve", "principal": principal,
        "resource": {"kind": "expense", "policyVersion": "default"}})
    print(f"   query plan for sally/approve: {plan['filter']['kind']}: "
          f"{json.dumps(plan['filter'].get('condition', {}))[:150]}...")

    print("\n== bad input gets a clear error")
    status, answer = call("POST", todo + "/access/v1/evaluation", {"subject": {"type": "user"}, "action": {"name": "x"}})
    print(f"   missing subject.id -> {status} {answer}")

    print("\n== stopping")
finally:
    stop_all()
    shutil.rmtree(workdir, ignore_errors=True)
