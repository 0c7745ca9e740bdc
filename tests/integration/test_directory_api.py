"""The directory API and the manifest fallback through the real edge, on a small drive-like folder
made by the test; plus standalone reloads (a good edit is served, a broken one is reported while
the last good snapshot keeps serving)."""
import json
import os
import shutil
import tempfile
import time
import unittest

from harness import WardenTestCase

MANIFEST = """\
model:
  version: 3
types:
  user: {}
  identity:
    relations:
      identifier: user
  group:
    relations:
      member: user | group#member
  folder:
    relations:
      owner: user
      parent: folder
      viewer: user | group#member | user:*
    permissions:
      can_view: viewer | owner | parent->can_view
  document:
    relations:
      parent: folder
      editor: user | group#member
      banned: user
    permissions:
      can_edit: editor - banned
      can_view: (can_edit | parent->can_view) - banned
"""

OBJECTS = [
    {"type": "user", "id": "alice", "display_name": "Alice", "properties": {"roles": ["staff"]}},
    {"type": "user", "id": "bob", "display_name": "Bob"},
    {"type": "user", "id": "carol"},
    {"type": "identity", "id": "alice@acme.com"},
    {"type": "document", "id": "plan", "properties": {"classification": "internal"}},
]
RELATIONS = [
    ("identity", "alice@acme.com", "identifier", "user", "alice", ""),
    ("group", "eng", "member", "user", "bob", ""),
    ("group", "staff", "member", "group", "eng", "member"),
    ("folder", "root", "owner", "user", "alice", ""),
    ("folder", "projects", "parent", "folder", "root", ""),
    ("folder", "projects", "viewer", "group", "staff", "member"),
    ("document", "plan", "parent", "folder", "projects", ""),
    ("document", "plan", "editor", "user", "carol", ""),
    ("document", "plan", "banned", "user", "carol", ""),
]


def write_folder(folder, relations=RELATIONS, manifest=MANIFEST):
    os.makedirs(os.path.join(folder, "data"), exist_ok=True)
    with open(os.path.join(folder, "manifest.yaml"), "w") as f:
        f.write(manifest)
    with open(os.path.join(folder, "data", "objects.jsonl"), "w") as f:
        for o in OBJECTS:
            f.write(json.dumps(o) + "\n")
    with open(os.path.join(folder, "data", "relations.jsonl"), "w") as f:
        for r in relations:
            keys = ("object_type", "object_id", "relation", "subject_type", "subject_id", "subject_relation")
            f.write(json.dumps({k: v for k, v in zip(keys, r) if v}) + "\n")


class DirectoryApi(WardenTestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="warden-drive-")
        self.addCleanup(shutil.rmtree, self.folder)
        write_folder(self.folder)
        self.edge = self.start("warden-edge", "--data", self.folder, "--listen", "127.0.0.1:0",
                               "--poll-interval", "100ms")

    def check(self, object_type, object_id, relation, subject_id, trace=False):
        response = self.edge.request("POST", "/api/v3/directory/check", body={
            "object_type": object_type, "object_id": object_id, "relation": relation,
            "subject_type": "user", "subject_id": subject_id, "trace": trace})
        self.assertEqual(200, response.status, response.body)
        return response.json()

    def test_checks_follow_usersets_arrows_and_exclusion(self):
        self.assertTrue(self.check("document", "plan", "can_view", "bob")["check"])     # staff ∋ eng ∋ bob
        self.assertTrue(self.check("document", "plan", "can_view", "alice")["check"])   # owner of root
        self.assertFalse(self.check("document", "plan", "can_view", "carol")["check"])  # banned
        self.assertFalse(self.check("document", "plan", "can_edit", "carol")["check"])
        self.assertTrue(self.check("document", "plan", "can_view", "alice@acme.com")["check"])  # by identity
        traced = self.check("document", "plan", "can_view", "bob", trace=True)
        self.assertTrue(traced["trace"])

    def test_authzen_falls_back_to_the_manifest_permission(self):
        response = self.edge.request("POST", "/access/v1/evaluation", body={
            "subject": {"type": "user", "id": "alice@acme.com"}, "action": {"name": "can_view"},
            "resource": {"type": "document", "id": "plan"}, "context": {"warden": {"explain": True}}})
        self.assertEqual(200, response.status, response.body)
        self.assertTrue(response.json()["decision"])
        self.assertIn("relation_path", response.json()["context"]["reason_admin"])
        unknown_action = self.edge.request("POST", "/access/v1/evaluation", body={
            "subject": {"type": "user", "id": "bob"}, "action": {"name": "can_fly"},
            "resource": {"type": "document", "id": "plan"}})
        self.assertEqual(200, unknown_action.status)
        self.assertFalse(unknown_action.json()["decision"])
        unknown_type = self.edge.request("POST", "/access/v1/evaluation", body={
            "subject": {"type": "user", "id": "bob"}, "action": {"name": "can_view"},
            "resource": {"type": "spaceship", "id": "x"}})
        self.assertEqual(400, unknown_type.status)
        self.assertIn("resource.type", unknown_type.json()["error"]["message"])
        unknown_subject = self.edge.request("POST", "/access/v1/evaluation", body={
            "subject": {"type": "user", "id": "nobody@nowhere"}, "action": {"name": "can_view"},
            "resource": {"type": "document", "id": "plan"}})
        self.assertEqual(404, unknown_subject.status)
        self.assertIn("subject.id", unknown_subject.json()["error"]["message"])

    def test_reads_and_lookups(self):
        obj = self.edge.request("GET", "/api/v3/directory/object/user/alice?with_relations=true")
        self.assertEqual(200, obj.status, obj.body)
        self.assertEqual("Alice", obj.json()["result"]["display_name"])
        self.assertEqual(404, self.edge.request("GET", "/api/v3/directory/object/user/zed").status)
        rels = self.edge.request("GET", "/api/v3/directory/relations?object_type=document&object_id=plan&page_size=2")
        self.assertEqual(200, rels.status, rels.body)
        self.assertEqual(2, len(rels.json()["results"]))
        self.assertTrue(rels.json()["next_cursor"])
        rest = self.edge.request("GET", "/api/v3/directory/relations?object_type=document&object_id=plan&page_size=2"
                                        "&cursor=" + rels.json()["next_cursor"])
        self.assertEqual(1, len(rest.json()["results"]))
        bad_cursor = self.edge.request("GET", "/api/v3/directory/relations?cursor=garbage")
        self.assertEqual(400, bad_cursor.status)
        self.assertIn("cursor", bad_cursor.json()["error"]["message"])
        lookup = self.edge.request("POST", "/api/v3/directory/lookup", body={
            "lookup": "subjects", "object_type": "document", "object_id": "plan", "permission": "can_view",
            "subject_type": "user"})
        self.assertEqual(200, lookup.status, lookup.body)
        self.assertEqual(["alice", "bob"], sorted(lookup.json()["results"]))
        resources = self.edge.request("POST", "/api/v3/directory/lookup", body={
            "lookup": "resources", "subject_type": "user", "subject_id": "bob", "permission": "can_view",
            "object_type": "folder"})
        self.assertEqual(["projects"], resources.json()["results"])
        missing = self.edge.request("POST", "/api/v3/directory/check", body={"object_type": "document"})
        self.assertEqual(400, missing.status)

    def test_lookups_page_by_the_max_page_size_when_none_is_asked(self):
        edge = self.start("warden-edge", "--data", self.folder, "--listen", "127.0.0.1:0", "--max-page-size", "1")
        request = {"lookup": "subjects", "object_type": "document", "object_id": "plan", "permission": "can_view",
                   "subject_type": "user"}
        seen = []
        for _ in range(3):  # without page_size, and then page_size 0 ("all") is capped too
            page = edge.request("POST", "/api/v3/directory/lookup", body=request).json()
            self.assertLessEqual(len(page["results"]), 1)
            seen += page["results"]
            if not page["next_cursor"]:
                break
            request = dict(request, cursor=page["next_cursor"], page_size=0)
        self.assertEqual(["alice", "bob"], sorted(seen))  # every result reachable, one per page

    def test_reload_serves_a_good_edit_and_keeps_the_last_good_snapshot_on_a_broken_one(self):
        self.assertFalse(self.check("document", "plan", "can_edit", "bob")["check"])
        write_folder(self.folder, RELATIONS + [("document", "plan", "editor", "user", "bob", "")])
        self.wait_for(lambda: self.check("document", "plan", "can_edit", "bob")["check"])
        revision = self.edge.request("GET", "/v1/status").json()["revision"]
        self.assertGreaterEqual(revision, 2)
        # A relation the manifest does not allow: refused, reported, last good snapshot kept.
        write_folder(self.folder, RELATIONS + [("document", "plan", "owner", "user", "bob", "")])
        self.wait_for(lambda: self.edge.request("GET", "/v1/status").json().get("last_load_error"))
        status = self.edge.request("GET", "/v1/status").json()
        self.assertIn("relations.jsonl", status["last_load_error"])
        self.assertEqual(revision, status["revision"])
        self.assertTrue(self.check("document", "plan", "can_edit", "bob")["check"])
        self.assertEqual(200, self.edge.request("GET", "/readyz").status)

    def wait_for(self, predicate, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        self.fail("condition not reached in time")


class StandaloneStartup(WardenTestCase):
    def test_a_broken_folder_refuses_to_start_naming_the_problem(self):
        folder = tempfile.mkdtemp(prefix="warden-broken-")
        self.addCleanup(shutil.rmtree, folder)
        write_folder(folder, manifest=MANIFEST.replace("parent->can_view", "parent->no_such_thing"))
        result = self.run_binary("warden-edge", "--data", folder, "--listen", "127.0.0.1:0")
        self.assertEqual(2, result.returncode)
        self.assertIn("manifest.yaml", result.stderr)
        self.assertIn("no_such_thing", result.stderr)

    def test_a_missing_folder_refuses_to_start(self):
        result = self.run_binary("warden-edge", "--data", "/nonexistent/warden", "--listen", "127.0.0.1:0")
        self.assertEqual(2, result.returncode)
        self.assertIn("does not exist", result.stderr)


if __name__ == "__main__":
    unittest.main()
