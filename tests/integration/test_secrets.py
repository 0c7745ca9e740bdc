"""Secrets stay secret: admin tokens and edge keys never appear in any log line of either binary
(at trace level, access log on, JSON or text), nor in the store's database, where only their
SHA-256 is kept; a wrong token is refused the same way whether or not it is close to a real one."""
import json
import os
import shutil
import sqlite3
import tempfile
import unittest

from harness import SOURCE_DIR, WardenTestCase, wait_until

TOKEN = "admin-secret-9f8e7d6c5b4a"
DRIVE = os.path.join(SOURCE_DIR, "examples", "drive")


class SecretsTest(WardenTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="warden-secrets-")
        self.addCleanup(shutil.rmtree, self.dir)

    def ctl(self, cp, *args):
        result = self.run_binary("wardenctl", *args, "--json", env={"WARDEN_URL": cp.url, "WARDEN_TOKEN": TOKEN})
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        return json.loads(result.stdout)

    def test_tokens_and_keys_are_never_logged_nor_stored(self):
        db = os.path.join(self.dir, "store.db")
        cp = self.start("warden-control-plane", "--db", db, "--listen", "127.0.0.1:0", "--access-log",
                        "--log-level", "trace", "--log-format", "json", env={"WARDEN_ADMIN_TOKEN": TOKEN})
        self.ctl(cp, "push", DRIVE)
        created = self.ctl(cp, "keys", "create", "edges")
        key = created["key"]
        key_file = os.path.join(self.dir, "key")
        with open(key_file, "w") as f:
            f.write(key + "\n")
        edge = self.start("warden-edge", "--control-plane", cp.url, "--key-file", key_file, "--replica",
                          os.path.join(self.dir, "replica.db"), "--listen", "127.0.0.1:0", "--access-log",
                          "--log-level", "trace", "--decision-log", "all")
        edge.wait_ready()
        response = edge.request("POST", "/access/v1/evaluation", body={
            "subject": {"type": "user", "id": "ada"}, "action": {"name": "can_view"},
            "resource": {"type": "document", "id": "roadmap"}})
        self.assertEqual(200, response.status, response.body)
        # Wrong credentials of every shape, including one a character away from the real token.
        for presented in (TOKEN[:-1] + "x", TOKEN + "x", key, "", "Bearer"):
            refused = cp.request("GET", "/v1/policies", headers={"Authorization": "Bearer " + presented})
            if presented == key:  # an edge key is not an admin token
                self.assertIn(refused.status, (401, 403))
            else:
                self.assertEqual(401, refused.status)
        wait_until(lambda: self.run_binary("wardenctl", "decisions", "--json", env={
                       "WARDEN_URL": cp.url, "WARDEN_TOKEN": TOKEN}).stdout.strip() or None, timeout=30,
                   message="the edge's decision log reached the control plane")
        edge.stop()
        cp.stop()
        for process in (cp, edge):
            output = process.stderr() + "\n".join(process.stdout_lines)
            self.assertGreater(len(output), 0)
            self.assertNotIn(TOKEN, output, f"{process.name} logged the admin token")
            self.assertNotIn(key, output, f"{process.name} logged the edge key")
        with sqlite3.connect(db) as conn:
            dump = "\n".join(conn.iterdump())
        self.assertNotIn(TOKEN, dump)
        self.assertNotIn(key, dump)


if __name__ == "__main__":
    unittest.main()
