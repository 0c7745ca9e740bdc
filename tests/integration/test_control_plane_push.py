"""POST /v1/push and wardenctl push: a folder as one revision, prune, and all-or-nothing refusals."""
import json
import os
import shutil
import unittest

from harness import SOURCE_DIR
from test_control_plane import ADMIN, BROKEN_POLICY, POLICY, ControlPlaneCase


def read(path):
    with open(path) as f:
        return f.read()


class PushTest(ControlPlaneCase):
    def setUp(self):
        super().setUp()
        self.start_cp()
        self.folder = os.path.join(self.tmp.name, "drive")
        shutil.copytree(os.path.join(SOURCE_DIR, "examples", "drive"), self.folder)
        os.makedirs(os.path.join(self.folder, "policies", "docs"))
        with open(os.path.join(self.folder, "policies", "docs", "document.yaml"), "w") as f:
            f.write(POLICY)

    def all_relations(self):
        out, cursor = [], ""
        while True:
            page = self.ok("GET", "/v1/relations?page_size=1000" + ("&cursor=" + cursor if cursor else ""))
            out += page["relations"]
            cursor = page["next_cursor"]
            if not cursor:
                return out

    def state(self):
        return (self.revision(), sorted(json.dumps(r, sort_keys=True) for r in self.all_relations()),
                self.ok("GET", "/v1/objects?page_size=10000")["objects"], self.ok("GET", "/v1/policies")["policies"])

    def count_lines(self, name):
        with open(os.path.join(self.folder, "data", name)) as f:
            return sum(1 for line in f if line.strip())

    def test_push_then_changed_copy_with_prune(self):
        r = self.ctl("push", self.folder, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        first = json.loads(r.stdout)
        self.assertEqual(first["revision"], 1)
        relations = self.all_relations()
        self.assertGreater(len(relations), 10)
        self.assertEqual(self.ok("GET", "/v1/manifest")["name"], "manifest.yaml")
        self.assertEqual([p["path"] for p in self.ok("GET", "/v1/policies")["policies"]], ["docs/document.yaml"])
        # The same folder again changes nothing.
        r = self.ctl("push", self.folder)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("nothing changed", r.stdout)
        self.assertEqual(self.revision(), 1)
        # A changed copy: one relation file loses its last line, a policy is added, one removed.
        path = os.path.join(self.folder, "data", "drive.jsonl")
        with open(path) as f:
            lines = [line for line in f if line.strip()]
        removed = json.loads(lines[-1])
        with open(path, "w") as f:
            f.writelines(lines[:-1])
        os.remove(os.path.join(self.folder, "policies", "docs", "document.yaml"))
        with open(os.path.join(self.folder, "policies", "folder.yaml"), "w") as f:
            f.write(POLICY.replace("resource: document", "resource: folder"))
        # Without prune nothing is deleted.
        r = self.ctl("push", self.folder, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["revision"], 2)
        self.assertEqual(len(self.all_relations()), len(relations))
        self.assertEqual(len(self.ok("GET", "/v1/policies")["policies"]), 2)
        r = self.ctl("push", self.folder, "--prune", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["revision"], 3)
        after = self.all_relations()
        self.assertEqual(len(after), len(relations) - 1)
        key = {k: v for k, v in removed.items() if k in (
            "object_type", "object_id", "relation", "subject_type", "subject_id", "subject_relation")}
        self.assertNotIn(key, [{k: v for k, v in r.items() if k in key} for r in after])
        self.assertEqual([p["path"] for p in self.ok("GET", "/v1/policies")["policies"]], ["folder.yaml"])
        # Each push is one revision in the change log.
        changes = self.ok("GET", "/v1/changes?after=0")["changes"]
        self.assertEqual([c["revision"] for c in changes], [1, 2, 3])
        kinds = {op["op"] for op in changes[2]["ops"]}
        self.assertEqual(kinds, {"relation.delete", "policy.delete"})
        sets = self.ok("GET", "/v1/policy-sets")["policy_sets"]
        self.assertEqual([s["revision"] for s in sets], [3, 2, 1])

    def test_push_with_broken_policy_stores_nothing(self):
        self.assertEqual(self.ctl("push", self.folder).returncode, 0)
        before = self.state()
        with open(os.path.join(self.folder, "policies", "report.yaml"), "w") as f:
            f.write(BROKEN_POLICY)
        with open(os.path.join(self.folder, "data", "extra.jsonl"), "w") as f:
            f.write('{"type": "user", "id": "newcomer"}\n')
        r = self.ctl("push", self.folder, "--prune")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("report.yaml:7:", r.stderr)
        self.assertEqual(self.state(), before)

    def test_push_with_disallowed_relation_stores_nothing(self):
        self.assertEqual(self.ctl("push", self.folder).returncode, 0)
        before = self.state()
        with open(os.path.join(self.folder, "data", "bad.jsonl"), "w") as f:
            f.write('{"type": "user", "id": "newcomer"}\n')
            f.write('\n')
            f.write(json.dumps({"object_type": "document", "object_id": "x", "relation": "viewer",
                                "subject_type": "folder", "subject_id": "root"}) + "\n")
            f.write(json.dumps({"object_type": "document", "object_id": "x", "relation": "approver",
                                "subject_type": "user", "subject_id": "a"}) + "\n")
        r = self.call("POST", "/v1/push", self.push_body())
        self.assertEqual(r.status, 400, r.body)
        err = r.json()["error"]
        where = [e["where"] for e in err["errors"]]
        self.assertEqual(where, ["data/bad.jsonl:3", "data/bad.jsonl:4"])
        self.assertIn("approver", err["errors"][1]["message"])
        self.assertEqual(self.state(), before)
        r = self.ctl("push", self.folder)
        self.assertEqual(r.returncode, 1)
        self.assertIn("data/bad.jsonl:3", r.stderr)

    def push_body(self, prune=False):
        body = {"prune": prune, "policies": [], "data": []}
        for root, _, files in os.walk(os.path.join(self.folder, "policies")):
            for name in sorted(files):
                full = os.path.join(root, name)
                body["policies"].append({"path": os.path.relpath(full, os.path.join(self.folder, "policies")),
                                         "text": read(full)})
        for name in sorted(os.listdir(os.path.join(self.folder, "data"))):
            body["data"].append({"path": "data/" + name, "text": read(os.path.join(self.folder, "data", name))})
        body["manifest"] = {"format": "yaml", "text": read(os.path.join(self.folder, "manifest.yaml"))}
        return body

    def test_push_body_errors(self):
        e = self.error("POST", "/v1/push", {"prune": "yes"})
        self.assertIn("prune", e["message"])
        e = self.error("POST", "/v1/push", {"policies": [{"path": "a.yaml"}]})
        self.assertIn("policies[0]", e["message"])
        e = self.error("POST", "/v1/push", {"policies": [{"path": "a.yaml", "text": POLICY}, {"path": "a.yaml", "text": POLICY}]})
        self.assertIn("twice", e["message"])
        e = self.error("POST", "/v1/push", {"data": [{"path": "data/x.csv", "text": ""}]})
        self.assertIn("data[0].path", e["message"])
        e = self.error("POST", "/v1/push", {"data": [{"path": "data/x.json", "text": "{\"objects\": 3}"}]})
        self.assertIn("objects: must be an array", e["message"])
        e = self.error("POST", "/v1/push", {"manifest": {"format": "yaml", "text": "types: [\n"}})
        self.assertIn("manifest", e["message"])
        e = self.error("POST", "/v1/push", {"bogus": 1})
        self.assertIn("bogus", e["message"])
        self.assertEqual(self.revision(), 0)

    def test_push_from_zed_schema(self):
        folder = os.path.join(self.tmp.name, "zed")
        os.makedirs(os.path.join(folder, "data"))
        with open(os.path.join(folder, "schema.zed"), "w") as f:
            f.write("definition user {}\ndefinition doc {\n relation reader: user\n permission read = reader\n}\n")
        with open(os.path.join(folder, "data", "r.jsonl"), "w") as f:
            f.write(json.dumps({"object_type": "doc", "object_id": "1", "relation": "reader",
                                "subject_type": "user", "subject_id": "ann"}) + "\n")
        r = self.ctl("push", folder, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.ok("GET", "/v1/manifest")["format"], "zed")
        self.assertEqual(len(self.all_relations()), 1)


if __name__ == "__main__":
    unittest.main()
