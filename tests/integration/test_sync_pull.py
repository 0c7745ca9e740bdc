"""An edge following a control plane in pull mode: writes become visible (the write's revision
as a consistency token never sees the old answer), the edge keeps answering with the control
plane killed, restarts from its replica while the control plane is down, and says why it is not
ready when it never synced."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import SOURCE_DIR, WardenTestCase

TOKEN = "integration-admin-token"


class PullSync(WardenTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="warden-sync-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.db = os.path.join(self.dir, "store.db")
        self.key = os.path.join(self.dir, "key")
        with open(self.key, "w") as f:
            f.write(TOKEN + "\n")

    def start_control_plane(self, listen="127.0.0.1:0"):
        return self.start("warden-control-plane", "--db", self.db, "--listen", listen,
                          env={"WARDEN_ADMIN_TOKEN": TOKEN})

    def ctl(self, cp, *args):
        result = self.run_binary("wardenctl", *args, "--json", env={"WARDEN_URL": cp.url, "WARDEN_TOKEN": TOKEN})
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        import json
        return json.loads(result.stdout)

    def start_edge(self, cp_url, replica="replica.db"):
        return self.start("warden-edge", "--control-plane", cp_url, "--key-file", self.key, "--replica",
                          os.path.join(self.dir, replica), "--listen", "127.0.0.1:0", "--sync-mode", "pull", "--sync-poll-interval", "50ms")

    def can_view(self, edge, user, document, min_revision=None):
        headers = {"Warden-Min-Revision": str(min_revision)} if min_revision else {}
        response = edge.request("POST", "/access/v1/evaluation", headers=headers, body={
            "subject": {"type": "user", "id": user}, "action": {"name": "can_view"},
            "resource": {"type": "document", "id": document}})
        self.assertEqual(200, response.status, response.body)
        return response.json()["decision"], int(response.headers["warden-revision"])

    def test_writes_reach_the_edge_and_the_token_never_sees_the_old_answer(self):
        cp = self.start_control_plane()
        pushed = self.ctl(cp, "push", os.path.join(SOURCE_DIR, "examples", "drive"))
        edge = self.start_edge(cp.url)
        edge.wait_ready()
        self.assertEqual((False, pushed["revision"]), self.can_view(edge, "eve", "roadmap", pushed["revision"]))
        for i in range(20):
            granted = self.ctl(cp, "relation", "set", f"document:roadmap#viewer@user:zoe{i}")
            decision, revision = self.can_view(edge, f"zoe{i}", "roadmap", granted["revision"])
            self.assertTrue(decision, f"write {i} at revision {granted['revision']} not visible")
            self.assertGreaterEqual(revision, granted["revision"])
        status = edge.request("GET", "/v1/status").json()
        self.assertEqual("following", status["sync"]["state"])
        self.assertEqual(cp.request("GET", "/v1/revision", headers={"Authorization": "Bearer " + TOKEN}).json()["store_id"],
                         status["store_id"])

    def test_the_edge_keeps_answering_without_the_control_plane_and_catches_up_after(self):
        cp = self.start_control_plane()
        pushed = self.ctl(cp, "push", os.path.join(SOURCE_DIR, "examples", "drive"))
        edge = self.start_edge(cp.url)
        edge.wait_ready()
        self.assertTrue(self.can_view(edge, "ada", "roadmap", pushed["revision"])[0])
        cp.proc.send_signal(signal.SIGKILL)
        cp.wait()
        for _ in range(50):
            self.assertTrue(self.can_view(edge, "ada", "roadmap")[0])
        time.sleep(0.3)
        self.assertEqual("unreachable", edge.request("GET", "/v1/status").json()["sync"]["state"])

        # An edge restarted while the control plane is down serves from its replica at once.
        edge.stop()
        restarted = self.start_edge("http://127.0.0.1:9")  # nothing listens there
        self.assertEqual(200, restarted.request("GET", "/readyz").status)
        self.assertTrue(self.can_view(restarted, "ada", "roadmap")[0])
        restarted.stop()

        # The control plane comes back on its database; later writes reach the edge.
        cp2 = self.start_control_plane()
        edge2 = self.start_edge(cp2.url)
        granted = self.ctl(cp2, "relation", "set", "document:roadmap#viewer@user:late")
        self.assertTrue(self.can_view(edge2, "late", "roadmap", granted["revision"])[0])

    def test_a_never_synced_edge_is_not_ready_and_says_why(self):
        edge = self.start_edge("http://127.0.0.1:9", replica="fresh.db")
        ready = edge.request("GET", "/readyz")
        self.assertEqual(503, ready.status)
        self.assertIn("never synced", ready.json()["reason"])
        response = edge.request("POST", "/access/v1/evaluation", body={
            "subject": {"type": "user", "id": "a"}, "action": {"name": "x"}, "resource": {"type": "t", "id": "1"}})
        self.assertEqual(503, response.status)

    def test_a_refused_token_shows_as_degraded(self):
        cp = self.start_control_plane()
        with open(self.key, "w") as f:
            f.write("wrong-token\n")
        edge = self.start_edge(cp.url)
        deadline = time.time() + 10
        while time.time() < deadline:
            sync = edge.request("GET", "/v1/status").json()["sync"]
            if sync["state"] == "degraded":
                break
            time.sleep(0.05)
        self.assertEqual("degraded", sync["state"])
        self.assertIn("refused the edge key", sync["error"])

    def test_bad_follow_options_are_refused_at_start(self):
        result = self.run_binary("warden-edge", "--control-plane", "ftp://x", "--key-file", self.key)
        self.assertEqual(2, result.returncode)
        self.assertIn("control-plane", result.stderr)
        result = self.run_binary("warden-edge", "--control-plane", "http://127.0.0.1:9")
        self.assertEqual(2, result.returncode)
        self.assertIn("--key-file", result.stderr)
        empty_key = os.path.join(self.dir, "empty.key")
        open(empty_key, "w").close()
        result = self.run_binary("warden-edge", "--control-plane", "http://127.0.0.1:9", "--key-file", empty_key)
        self.assertEqual(2, result.returncode)
        self.assertIn("is empty", result.stderr)
        folder = os.path.join(SOURCE_DIR, "examples", "drive")
        result = self.run_binary("warden-edge", "--data", folder, "--replica", os.path.join(self.dir, "r.db"))
        self.assertEqual(2, result.returncode)
        self.assertIn("exclude each other", result.stderr)
        result = self.run_binary("warden-edge", "--data", folder, "--control-plane", "http://127.0.0.1:9",
                                 "--key-file", self.key)
        self.assertEqual(2, result.returncode)
        self.assertIn("exclude each other", result.stderr)

    def test_bad_sync_and_logging_options_are_refused_naming_the_option(self):
        follow = ["--control-plane", "http://127.0.0.1:9", "--key-file", self.key,
                  "--replica", os.path.join(self.dir, "r.db")]
        for extra, named in ((["--sync-mode", "sometimes"], "sync-mode"),
                             (["--replica-durability", "maybe"], "replica-durability"),
                             (["--control-plane-ca", "/nonexistent/ca.pem"], "control-plane-ca"),
                             (["--decision-log", "everything"], "decision-log"),
                             (["--decision-log", "graphql=all"], "unknown API 'graphql'"),
                             (["--decision-log-mask", "subject.id"], "decision-log-mask"),
                             (["--decision-log-batch", "0"], "decision-log-batch")):
            result = self.run_binary("warden-edge", *follow, *extra)
            self.assertEqual(2, result.returncode, extra)
            self.assertIn(named, result.stderr, extra)
        result = self.run_binary("warden-edge", "--data", os.path.join(SOURCE_DIR, "examples", "drive"),
                                 "--decision-log", "all")
        self.assertEqual(2, result.returncode)
        self.assertIn("--decision-log-spool", result.stderr)
        db = os.path.join(self.dir, "bad-options.db")
        for extra, named in ((["--sync-listen", "nowhere"], "sync-listen"),
                             (["--sync-heartbeat", "1ms"], "sync-heartbeat"),
                             (["--sync-window", "0"], "sync-window"),
                             (["--change-log-retain", "-1"], "change-log-retain"),
                             (["--decision-log-retain-hours", "-1"], "decision-log-retain-hours")):
            result = self.run_binary("warden-control-plane", "--db", db, *extra)
            self.assertEqual(2, result.returncode, extra)
            self.assertIn(named, result.stderr, extra)


if __name__ == "__main__":
    unittest.main()
