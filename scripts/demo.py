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
import time
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
    print("== the loop: a control plane (SQLite store) and two edges following it, on 127.0.0.1")
    token = "demo-admin-token"
    os.environ["WARDEN_ADMIN_TOKEN"] = token
    control_plane = start("warden-control-plane", "--listen", "127.0.0.1:0", "--db", os.path.join(workdir, "store.db"))
    del os.environ["WARDEN_ADMIN_TOKEN"]
    ctl_env = {**os.environ, "WARDEN_URL": control_plane, "WARDEN_TOKEN": token}
    wardenctl = os.path.join(build, "control-plane", "wardenctl")

    def ctl(*args):
        result = subprocess.run([wardenctl, *args, "--json"], env=ctl_env, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise SystemExit(f"wardenctl {' '.join(args)} failed: {result.stdout}{result.stderr}")
        return json.loads(result.stdout)

    pushed = ctl("push", os.path.join(root, "examples", "drive"))
    print(f"   wardenctl push examples/drive -> revision {pushed['revision']} of store {pushed.get('store_id', '?')}")
    key = ctl("keys", "create", "demo-edges")
    print(f"   wardenctl keys create demo-edges -> key {key['id']} (the secret is shown once)")
    key_file = os.path.join(workdir, "edge.key")
    with open(key_file, "w") as f:
        f.write(key["key"] + "\n")
    # Both edges follow over the sync WebSocket; the second would fall back to HTTP pull on its own
    # if the socket could not be held (--sync-mode auto).
    edges = [start("warden-edge", "--listen", "127.0.0.1:0", "--control-plane", control_plane, "--key-file", key_file,
                   "--replica", os.path.join(workdir, f"replica-{i}.db"), "--sync-mode", mode)
             for i, mode in ((1, "ws"), (2, "auto"))]
    for edge in edges:  # an edge is ready once it holds a revision from the control plane
        for _ in range(200):
            if call("GET", edge + "/readyz")[0] == 200:
                break
            time.sleep(0.05)
    print(f"   control plane {control_plane}; edges {edges[0]} and {edges[1]}")

    def at_edges(subject, action, document, revision, label):
        for number, edge in enumerate(edges, 1):
            body = {"subject": {"type": "user", "id": subject}, "action": {"name": action},
                    "resource": {"type": "document", "id": document}, "context": {"warden": {"explain": True}}}
            status, answer = call("POST", edge + "/access/v1/evaluation", body, {"Warden-Min-Revision": str(revision)})
            if status != 200:
                row(f"{label} @edge{number}", action, f"document:{document}", False, f"error {status}: {answer}")
                continue
            reason = answer["context"].get("reason_admin", {})
            why = f"revision {answer['context']['revision']}; " + reason.get("reason", "")
            row(f"{label} @edge{number}", action, f"document:{document}", answer["decision"], why)

    at_edges("ada@example.com", "can_view", "roadmap", pushed["revision"], "ada")
    at_edges("eve", "can_edit", "cobol-notes", pushed["revision"], "eve")
    granted = ctl("relation", "set", "document:cobol-notes#editor@user:eve")
    print(f"   wardenctl relation set document:cobol-notes#editor@user:eve -> revision {granted['revision']}")
    at_edges("eve", "can_edit", "cobol-notes", granted["revision"], "eve")
    revoked = ctl("relation", "rm", "document:cobol-notes#editor@user:eve")
    print(f"   wardenctl relation rm document:cobol-notes#editor@user:eve -> revision {revoked['revision']}")
    at_edges("eve", "can_edit", "cobol-notes", revoked["revision"], "eve")
    status, body = call("GET", edges[0] + "/v1/status")
    sync = body.get("sync", {})
    print(f"   edge1 /v1/status sync: mode {sync.get('mode')}, state {sync.get('state')}, revision "
          f"{sync.get('revision')}, hub revision {sync.get('hub_revision')}, lag {sync.get('lag')}")
    for _ in range(40):  # acks reach the control plane's edge list right after each revision
        listed = ctl("edges")["edges"]
        if len(listed) == 2 and all(e["revision"] == revoked["revision"] for e in listed):
            break
        time.sleep(0.05)
    for e in listed:
        print(f"   wardenctl edges: {e['instance'][:8]}… at {e['address']} key '{e['key']}' {e['state']}, "
              f"revision {e['revision']}, lag {e['lag']}")
    # Every decision above was logged at its edge and shipped over the sync socket.
    made = 8
    for _ in range(60):
        status, page = call("GET", control_plane + "/v1/decisions?limit=100", headers={"Authorization": "Bearer " + token})
        if status == 200 and len(page["decisions"]) >= made:
            break
        time.sleep(0.1)
    print(f"   decision logs at the control plane: {len(page['decisions'])} entries; wardenctl decisions limit=4:")
    table = subprocess.run([wardenctl, "decisions", "limit=4"], env=ctl_env, capture_output=True, text=True, timeout=30)
    for line in table.stdout.splitlines():
        print("     " + line)

    print("\n== standalone edge on examples/authzen-todo (Cerbos-style policies + directory identities, AuthZEN API)")
    todo = start("warden-edge", "--listen", "127.0.0.1:0", "--data", os.path.join(root, "examples", "authzen-todo"))
    authzen(todo, PID["beth"], "can_read_todos", ("todo", "t1"), "beth (viewer, by PID)")
    authzen(todo, PID["beth"], "can_create_todo", ("todo", "t1"), "beth (viewer, by PID)")
    authzen(todo, PID["morty"], "can_update_todo", ("todo", "t2"), "morty (editor)", {"ownerID": "morty@the-citadel.com"})
    authzen(todo, PID["morty"], "can_update_todo", ("todo", "t3"), "morty (editor)", {"ownerID": "rick@the-citadel.com"})
    authzen(todo, PID["rick"], "can_delete_todo", ("todo", "t3"), "rick (admin)", {"ownerID": "morty@the-citadel.com"})

    print("\n== the drive example's relation paths (ReBAC: nested groups, folder tree, exclusion)")
    for subject, action, document in (("eve", "can_view", "roadmap"), ("brian", "can_edit", "driver-model"),
                                      ("grace", "can_comment", "handbook")):
        authzen(edges[0], subject, action, ("document", document), subject)

    print("\n== standalone edge on examples/expenses (Cerbos API: derived roles, conditions on amount and status)")
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
