"""A second, independent client of the sync protocol (sync_ws_client.mjs, Node with the `ws` package
from npm, written from docs/sync-protocol.md alone) against the real hub: hello, a hash-checked
snapshot, live deltas (and a revision large enough to arrive as rev_begin/rev_part/rev_commit),
acks the hub records on /v1/edges, a refused key and a revoked key."""
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

from harness import SOURCE_DIR, WardenTestCase

TOKEN = "integration-admin-token"
WS_PACKAGE = "ws@8.18.3"
CLIENT = "sync_ws_client.mjs"


class NodeClient:
    """The Node client as a child process: its stdout events arrive on a queue, stdin takes commands."""

    def __init__(self, test, cwd, *args):
        self.test = test
        self.events = []
        self.queue = queue.Queue()
        self.stderr_file = tempfile.NamedTemporaryFile(prefix="sync-node-", suffix=".stderr", delete=False)
        test.addCleanup(os.unlink, self.stderr_file.name)
        self.proc = subprocess.Popen(["node", CLIENT] + list(args), cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr_file, text=True)
        test.addCleanup(self.kill)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "unparsed", "line": line}
            self.events.append(event)
            self.queue.put(event)
        self.proc.stdout.close()
        self.queue.put(None)

    def stderr(self):
        with open(self.stderr_file.name) as f:
            return f.read()

    def describe(self):
        return "events so far:\n" + "\n".join(json.dumps(e) for e in self.events) + "\nstderr:\n" + self.stderr()

    def next(self, timeout=15):
        """The next event (heartbeats are returned too); fails the test on a timeout or an early exit."""
        try:
            event = self.queue.get(timeout=timeout)
        except queue.Empty:
            self.test.fail(f"no event from the node client within {timeout}s; " + self.describe())
        if event is None:
            self.test.fail(f"the node client exited ({self.proc.wait()}) early; " + self.describe())
        return event

    def expect(self, name, timeout=15):
        """The next event that is not a heartbeat; it must be `name`."""
        while True:
            event = self.next(timeout)
            if event["event"] == "heartbeat":
                continue
            self.test.assertEqual(name, event["event"], self.describe())
            return event

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait(self, timeout=30):
        code = self.proc.wait(timeout)
        # Drain whatever is left.
        while True:
            try:
                if self.queue.get(timeout=2) is None:
                    break
            except queue.Empty:
                break
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            self.proc.stdin.close()
        except OSError:
            pass  # the client is gone; nothing to flush
        self.stderr_file.close()


class NodeSyncClient(WardenTestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("node") is None or shutil.which("npm") is None:
            raise unittest.SkipTest("node and npm are needed for the independent sync client")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="warden-sync-node-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.cp = self.start_control_plane()
        self.client_dir = self.install_client()

    def start_control_plane(self, *extra, db="store.db"):
        return self.start("warden-control-plane", "--db", os.path.join(self.dir, db), "--listen", "127.0.0.1:0",
                          *extra, env={"WARDEN_ADMIN_TOKEN": TOKEN})

    def install_client(self):
        cache = os.path.join(os.environ.get("WARDEN_BIN_DIR", tempfile.gettempdir()), "npm-ws")
        if not os.path.isfile(os.path.join(cache, "node_modules", "ws", "package.json")):
            os.makedirs(cache, exist_ok=True)
            result = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", cache,
                                     WS_PACKAGE], capture_output=True, text=True, timeout=300)
            self.assertEqual(0, result.returncode, "npm install failed:\n" + result.stdout + result.stderr)
        shutil.copy(os.path.join(os.path.dirname(__file__), CLIENT), cache)
        return cache

    def ctl(self, *args):
        result = self.run_binary("wardenctl", *args, "--json", env={"WARDEN_URL": self.cp.url, "WARDEN_TOKEN": TOKEN})
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        return json.loads(result.stdout)

    def admin(self, method, path, body=None):
        response = self.cp.request(method, path, body=body, headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(200, response.status, f"{method} {path}: {response.body}")
        return response

    def relation_count(self):
        count, cursor = 0, ""
        while True:
            page = self.admin("GET", "/v1/relations?page_size=1000" + (f"&cursor={cursor}" if cursor else "")).json()
            count += len(page["relations"])
            cursor = page.get("next_cursor", "")
            if not cursor:
                return count

    def node(self, *args):
        return NodeClient(self, self.client_dir, self.cp.url, *args)

    def edge_entry(self, instance_id):
        for edge in self.admin("GET", "/v1/edges").json()["edges"]:
            # docs/sync-protocol.md names the field instance_id; docs/control-plane-api.md says "instance".
            if edge.get("instance_id", edge.get("instance")) == instance_id:
                return edge
        return None

    def test_hello_snapshot_live_deltas_and_acks(self):
        pushed = self.ctl("push", os.path.join(SOURCE_DIR, "examples", "drive"))
        key = self.ctl("keys", "create", "node-client")
        store_id = self.admin("GET", "/v1/revision").json()["store_id"]
        snapshot_sha = self.admin("GET", "/v1/snapshot").headers["warden-snapshot-sha256"]
        instance_id = str(uuid.uuid4())
        client = self.node(key["key"], "--instance-id", instance_id, "--timeout-ms", "90000")

        hello = client.expect("hello")
        self.assertEqual(instance_id, hello["instance_id"])
        welcome = client.expect("welcome")
        self.assertEqual(1, welcome["protocol_version"])
        self.assertEqual("snapshot", welcome["resume"])
        self.assertEqual(store_id, welcome["store_id"])
        self.assertEqual(pushed["revision"], welcome["revision"])
        self.assertIn("permessage-deflate", welcome["extensions"])

        client.expect("snapshot_begin")
        snapshot = client.expect("snapshot")
        self.assertTrue(snapshot["sha256_ok"])
        self.assertEqual(snapshot_sha, snapshot["sha256"], "the socket's snapshot differs from /v1/snapshot's")
        self.assertEqual(pushed["revision"], snapshot["revision"])
        relations = self.relation_count()
        self.assertEqual(relations, snapshot["relations"])
        self.assertEqual(1, snapshot["manifest"])
        self.assertEqual(pushed["revision"], client.expect("ack")["revision"])

        last = pushed["revision"]
        for i in range(3):
            written = self.ctl("relation", "set", f"document:roadmap#viewer@user:zoe{i}")
            self.assertEqual(last + 1, written["revision"])
            delta = client.expect("delta")
            self.assertEqual(written["revision"], delta["revision"], client.describe())
            self.assertEqual(1, delta["ops"])
            self.assertNotIn("ignored", delta)
            relations += 1
            self.assertEqual(relations, delta["relations"])
            self.assertEqual(written["revision"], client.expect("ack")["revision"])
            last = written["revision"]

        # One revision above 1 MiB of ops arrives as rev_begin / rev_part... / rev_commit.
        bulk = [{"object_type": "document", "object_id": "roadmap", "relation": "viewer", "subject_type": "user",
                 "subject_id": f"bulk{i:05d}"} for i in range(9000)]
        written = self.admin("POST", "/v1/relations", body={"relations": bulk}).json()
        self.assertEqual(last + 1, written["revision"])
        delta = client.expect("delta", timeout=30)
        self.assertEqual(written["revision"], delta["revision"])
        self.assertEqual(9000, delta["ops"])
        self.assertGreaterEqual(delta.get("parts", 0), 2, "expected the revision in parts: " + json.dumps(delta))
        relations += 9000
        self.assertEqual(relations, delta["relations"])
        self.assertEqual(written["revision"], client.expect("ack")["revision"])

        written = self.ctl("relation", "rm", "document:roadmap#viewer@user:zoe0")
        delta = client.expect("delta")
        self.assertEqual(written["revision"], delta["revision"])
        relations -= 1
        self.assertEqual(relations, delta["relations"])
        self.assertEqual(relations, self.relation_count())
        self.assertEqual(written["revision"], client.expect("ack")["revision"])
        last = written["revision"]

        # The hub records the acks for /v1/edges.
        deadline = time.time() + 5
        entry = None
        while time.time() < deadline:
            entry = self.edge_entry(instance_id)
            if entry and entry["revision"] == last:
                break
            time.sleep(0.05)
        self.assertIsNotNone(entry, "the node client is not on /v1/edges: " + self.admin("GET", "/v1/edges").body)
        self.assertEqual(last, entry["revision"], json.dumps(entry))
        self.assertEqual(0, entry["lag"])
        self.assertEqual("connected", entry["state"])
        self.assertEqual("node-test", entry["version"])
        self.assertEqual("node-client", entry["key"])

        client.send("stop")
        done = client.expect("done")
        self.assertEqual(last, done["revision"])
        self.assertEqual(relations, done["relations"])
        self.assertEqual(0, client.wait(), client.describe())

        deadline = time.time() + 5
        while time.time() < deadline and self.edge_entry(instance_id)["state"] != "disconnected":
            time.sleep(0.05)
        self.assertEqual("disconnected", self.edge_entry(instance_id)["state"])

    def test_stop_at_a_revision_given_as_an_argument(self):
        pushed = self.ctl("push", os.path.join(SOURCE_DIR, "examples", "drive"))
        key = self.ctl("keys", "create", "node-client")
        client = self.node(key["key"], "--stop-at", str(pushed["revision"] + 2))
        client.expect("hello")
        client.expect("welcome")
        client.expect("snapshot_begin")
        self.assertEqual(pushed["revision"], client.expect("snapshot")["revision"])
        first = self.ctl("relation", "set", "document:roadmap#viewer@user:amy")
        second = self.ctl("relation", "set", "document:roadmap#viewer@user:bob")
        self.assertEqual(0, client.wait(), client.describe())
        deltas = [e["revision"] for e in client.events if e["event"] == "delta"]
        acks = [e["revision"] for e in client.events if e["event"] == "ack"]
        self.assertEqual([first["revision"], second["revision"]], deltas)
        self.assertEqual([pushed["revision"], first["revision"], second["revision"]], acks)
        self.assertEqual("done", client.events[-1]["event"])

    def test_heartbeats_keep_a_quiet_session_alive(self):
        self.cp = self.start_control_plane("--sync-heartbeat", "100ms", db="heartbeat.db")
        pushed = self.ctl("push", os.path.join(SOURCE_DIR, "examples", "drive"))
        key = self.ctl("keys", "create", "node-client")
        client = self.node(key["key"])
        client.expect("hello")
        self.assertEqual(100, client.expect("welcome")["heartbeat_ms"])
        client.expect("snapshot_begin")
        client.expect("snapshot")
        client.expect("ack")
        # Ten intervals of nothing but heartbeats: the hub would end a silent session after three.
        beats = []
        deadline = time.time() + 1.0
        while time.time() < deadline:
            event = client.next(timeout=2)
            self.assertEqual("heartbeat", event["event"], client.describe())
            self.assertEqual(pushed["revision"], event["hub_revision"])
            beats.append(event)
        self.assertGreaterEqual(len(beats), 5, client.describe())
        written = self.ctl("relation", "set", "document:roadmap#viewer@user:late")
        self.assertEqual(written["revision"], client.expect("delta")["revision"])
        self.assertEqual(written["revision"], client.expect("ack")["revision"])
        client.send("stop")
        client.expect("done")
        self.assertEqual(0, client.wait(), client.describe())

    def test_a_silent_session_ends_with_heartbeat_timeout(self):
        self.cp = self.start_control_plane("--sync-heartbeat", "100ms", db="heartbeat.db")
        self.ctl("push", os.path.join(SOURCE_DIR, "examples", "drive"))
        key = self.ctl("keys", "create", "node-client")
        client = self.node(key["key"], "--mute")
        client.expect("hello")
        client.expect("welcome")
        client.expect("snapshot_begin")
        client.expect("snapshot")
        client.expect("ack")  # the ack is the last message the client sends
        started = time.time()
        self.assertEqual(1, client.wait(), client.describe())
        error = client.events[-1]
        self.assertEqual("error", error["event"], client.describe())
        self.assertEqual("heartbeat_timeout", error.get("code"), client.describe())
        self.assertLess(time.time() - started, 3, "three 100 ms intervals of silence should end the session")

    def test_a_bad_key_is_refused_with_401_before_the_upgrade(self):
        self.ctl("push", os.path.join(SOURCE_DIR, "examples", "drive"))
        client = self.node("wk_" + "0" * 64)
        self.assertEqual(3, client.wait(), client.describe())
        refused = client.events[-1]
        self.assertEqual("refused", refused["event"], client.describe())
        self.assertEqual(401, refused["status"])
        self.assertEqual("unauthenticated", refused["error"]["code"])
        self.assertNotIn("hello", [e["event"] for e in client.events])

    def test_a_revoked_key_ends_the_session_and_is_refused_after(self):
        self.ctl("push", os.path.join(SOURCE_DIR, "examples", "drive"))
        key = self.ctl("keys", "create", "node-client")
        client = self.node(key["key"])
        client.expect("hello")
        client.expect("welcome")
        client.expect("snapshot_begin")
        client.expect("snapshot")
        client.expect("ack")
        self.ctl("keys", "revoke", key["id"])
        self.assertEqual(1, client.wait(), client.describe())
        error = client.events[-1]
        self.assertEqual("error", error["event"], client.describe())
        self.assertEqual("key_revoked", error.get("code"), client.describe())
        again = self.node(key["key"])
        self.assertEqual(3, again.wait(), again.describe())
        self.assertEqual(401, again.events[-1]["status"])


if __name__ == "__main__":
    unittest.main()
