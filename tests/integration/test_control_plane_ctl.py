"""wardenctl against a real control plane: every remote command, tables and --json, exit codes,
and where the address and token come from."""
import json
import os
import shutil
import subprocess
import unittest

from harness import binary

from test_control_plane import ADMIN, BROKEN_POLICY, MANIFEST, POLICY, ControlPlaneCase


class WardenctlTest(ControlPlaneCase):
    def setUp(self):
        super().setUp()
        self.start_cp()
        self.ok("PUT", "/v1/manifest", {"format": "yaml", "text": MANIFEST})

    def test_revision_table_and_json(self):
        r = self.ctl("revision")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"revision 1\nstore_id [0-9a-f-]{36}\n")
        r = self.ctl("revision", "--json")
        self.assertEqual(json.loads(r.stdout)["revision"], 1)

    def test_address_and_token_sources(self):
        # Flags beat the environment.
        r = self.ctl("revision", "--url", self.cp.url, "--token", "wrong")
        self.assertEqual(r.returncode, 1)
        self.assertIn("401", r.stderr)
        r = self.ctl("revision", "--token=" + ADMIN, token="wrong")
        self.assertEqual(r.returncode, 0, r.stderr)
        # A config file.
        config = os.path.join(self.tmp.name, "ctl.yaml")
        with open(config, "w") as f:
            f.write(f"# test\nurl: {self.cp.url}\ntoken: \"{ADMIN}\"\n")
        r = self.run_binary("wardenctl", "revision", "--config", config, env={"WARDEN_URL": "", "WARDEN_TOKEN": "",
                                                                            "HOME": self.tmp.name})
        self.assertEqual(r.returncode, 0, r.stderr)
        os.makedirs(os.path.join(self.tmp.name, ".config", "warden"))
        os.rename(config, os.path.join(self.tmp.name, ".config", "warden", "wardenctl.yaml"))
        r = self.run_binary("wardenctl", "revision", env={"WARDEN_URL": "", "WARDEN_TOKEN": "", "HOME": self.tmp.name})
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.tmp.name, "bad.yaml"), "w") as f:
            f.write("colour: blue\n")
        r = self.ctl("revision", "--config", os.path.join(self.tmp.name, "bad.yaml"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.yaml:1: unknown key 'colour'", r.stderr)

    def test_connection_and_usage_errors_exit_2(self):
        r = self.ctl("revision", "--url", "http://127.0.0.1:1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot reach http://127.0.0.1:1", r.stderr)
        r = self.ctl("revision", "--url", "ftp://x")
        self.assertEqual(r.returncode, 2)
        self.assertIn("http://", r.stderr)
        for args in (["object"], ["object", "get", "nocolon"], ["relation", "set", "bad"], ["policy", "frob"],
                     ["keys"], ["revision", "--bogus"], ["push"], ["import"], ["restore", "x"]):
            r = self.ctl(*args)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stdout} {r.stderr}")
            self.assertTrue(r.stderr.strip(), args)

    def test_object_commands(self):
        r = self.ctl("object", "set", "user:alice", '{"display_name": "Alice", "properties": {"team": "eng"}}')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "revision 2")
        r = self.ctl("object", "get", "user:alice", "--json")
        self.assertEqual(json.loads(r.stdout)["properties"], {"team": "eng"})
        r = self.ctl("object", "set", "planet:mars")
        self.assertEqual(r.returncode, 1)
        self.assertIn("planet", r.stderr)
        self.assertEqual(self.ctl("object", "rm", "user:alice").returncode, 0)
        r = self.ctl("object", "get", "user:alice")
        self.assertEqual(r.returncode, 1)
        self.assertIn("404", r.stderr)

    def test_relation_commands(self):
        r = self.ctl("relation", "set", "document:d1#viewer@group:eng#member", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["revision"], 2)
        for i in range(3):
            self.assertEqual(self.ctl("relation", "set", f"document:d{i}#owner@user:ann@example.com").returncode, 0)
        r = self.ctl("relation", "list", "relation=owner")
        self.assertEqual(sorted(r.stdout.splitlines()), [f"document:d{i}#owner@user:ann@example.com" for i in range(3)])
        r = self.ctl("relation", "list", "--json")
        self.assertEqual(len(json.loads(r.stdout)["relations"]), 4)
        r = self.ctl("relation", "rm", "document:d1#viewer@group:eng#member")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.ctl("relation", "rm", "document:d1#viewer@group:eng#member")
        self.assertEqual(r.returncode, 1)
        r = self.ctl("relation", "set", "document:d1#approver@user:x")
        self.assertEqual(r.returncode, 1)
        self.assertIn("approver", r.stderr)

    def test_policy_commands(self):
        folder = os.path.join(self.tmp.name, "p")
        os.makedirs(os.path.join(folder, "policies"))
        with open(os.path.join(folder, "policies", "document.yaml"), "w") as f:
            f.write(POLICY)
        self.assertEqual(self.ctl("push", folder).returncode, 0)
        r = self.ctl("policy", "list")
        self.assertEqual(r.stdout.splitlines()[0].split(), ["PATH", "SHA256", "BYTES"])
        self.assertIn("document.yaml", r.stdout)
        r = self.ctl("policy", "get", "document.yaml")
        self.assertEqual(r.stdout, POLICY)
        self.assertEqual(self.ctl("policy", "tag", "2", "good").returncode, 0)
        with open(os.path.join(folder, "policies", "document.yaml"), "w") as f:
            f.write(POLICY.replace('"view"', '"view", "edit"'))
        self.assertEqual(self.ctl("push", folder).returncode, 0)
        r = self.ctl("policy", "history")
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split()[:3], ["REVISION", "SHA256", "AUTHOR"])
        self.assertTrue(lines[2].startswith("2 ") and lines[2].rstrip().endswith("good"), r.stdout)
        r = self.ctl("policy", "rollback", "good")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "revision 4")
        self.assertEqual(self.ctl("policy", "get", "document.yaml").stdout, POLICY)
        r = self.ctl("policy", "rollback", "missing")
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing", r.stderr)
        with open(os.path.join(folder, "policies", "broken.yaml"), "w") as f:
            f.write(BROKEN_POLICY)
        r = self.ctl("push", folder)
        self.assertEqual(r.returncode, 1)
        self.assertIn("broken.yaml:7:", r.stderr)
        r = self.ctl("manifest", "get")
        self.assertEqual(r.stdout, MANIFEST)

    @unittest.skipUnless(shutil.which("script"), "needs script(1) for a pseudo-terminal")
    def test_import_progress_bar_only_on_a_terminal(self):
        path = os.path.join(self.tmp.name, "users.jsonl")
        with open(path, "w") as f:
            for i in range(50_000):
                f.write(json.dumps({"type": "user", "id": f"u{i}"}) + "\n")
        env = dict(os.environ, WARDEN_URL=self.cp.url, WARDEN_TOKEN=ADMIN, HOME=self.tmp.name)
        r = subprocess.run(["script", "-qec", f"{binary('wardenctl')} import {path}", "/dev/null"],
                           capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("100%", r.stdout)
        self.assertIn("50000/50000 lines", r.stdout)
        self.assertIn("imported 50000 rows at revision 2", r.stdout)
        r = self.ctl("import", path)  # not a terminal: no bar
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertEqual(r.stdout, "imported 50000 rows at revision 3 (50000 objects, 0 relations)\n")

    def test_keys_tokens_edges(self):
        r = self.ctl("keys", "create", "edges-a", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        key = json.loads(r.stdout)
        r = self.ctl("keys", "list")
        self.assertIn(key["id"], r.stdout)
        self.assertNotIn(key["key"], r.stdout)
        self.assertEqual(self.ctl("keys", "revoke", key["id"]).returncode, 0)
        self.assertEqual(self.ctl("keys", "revoke", key["id"]).returncode, 1)
        r = self.ctl("tokens", "create", "reader", "read", "--json")
        reader = json.loads(r.stdout)["token"]
        self.assertEqual(self.ctl("revision", token=reader).returncode, 0)
        r = self.ctl("object", "set", "user:x", token=reader)
        self.assertEqual(r.returncode, 1)
        self.assertIn("403", r.stderr)
        r = self.ctl("edges")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("INSTANCE"))
        self.assertEqual(json.loads(self.ctl("edges", "--json").stdout)["edges"], [])


if __name__ == "__main__":
    unittest.main()
