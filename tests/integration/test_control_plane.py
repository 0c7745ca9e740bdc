"""Shared helpers for the control-plane integration tests: start warden-control-plane on an
ephemeral port over a fresh SQLite file, talk to it with a token, run wardenctl against it."""
import json
import os
import tempfile

from harness import WardenTestCase, request

ADMIN = "admin-secret-token"

POLICY = """apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: document
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
"""

BROKEN_POLICY = """apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: report
  rules:
    - actions: ["view"]
      effect: EFFECT_MAYBE
      roles: ["user"]
"""

MANIFEST = """model:
  version: 3
types:
  user: {}
  group:
    relations:
      member: user | group#member
  document:
    relations:
      owner: user
      viewer: user | group#member
    permissions:
      can_view: viewer | owner
"""


class ControlPlaneCase(WardenTestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="warden-cp-")
        self.addCleanup(self.tmp.cleanup)
        self.db = os.path.join(self.tmp.name, "store.db")

    def start_cp(self, db=None, token=ADMIN, extra=(), env=None):
        full_env = {"WARDEN_ADMIN_TOKEN": token} if token is not None else {}
        full_env.update(env or {})
        if token is None:
            full_env["WARDEN_ADMIN_TOKEN"] = ""
        self.cp = self.start("warden-control-plane", "--db", db or self.db, "--listen", "127.0.0.1:0", *extra,
                             env=full_env)
        return self.cp

    def call(self, method, path, body=None, token=ADMIN, headers=None, cp=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        target = cp or self.cp
        return request(target.host, target.port, method, path, body, h, timeout=120)

    def ok(self, method, path, body=None, token=ADMIN, status=200):
        r = self.call(method, path, body, token)
        self.assertEqual(r.status, status, f"{method} {path}: {r.status} {r.body[:2000]}")
        return r.json()

    def revision(self):
        return self.ok("GET", "/v1/revision")["revision"]

    def error(self, method, path, body=None, token=ADMIN, status=400, headers=None):
        r = self.call(method, path, body, token, headers)
        self.assertEqual(r.status, status, f"{method} {path}: {r.status} {r.body[:2000]}")
        return r.json()["error"]

    def ctl(self, *args, token=ADMIN, input=None, env=None):
        full_env = {"WARDEN_URL": self.cp.url, "WARDEN_TOKEN": token or "", "HOME": self.tmp.name}
        full_env.update(env or {})
        return self.run_binary("wardenctl", *args, env=full_env, input=input, timeout=300)


def relation(ot, oid, rel, st, sid, srel=None):
    r = {"object_type": ot, "object_id": oid, "relation": rel, "subject_type": st, "subject_id": sid}
    if srel:
        r["subject_relation"] = srel
    return r


def jsonl(items):
    return "".join(json.dumps(i) + "\n" for i in items)


# ---------------------------------------------------------------------------------------------
# The tests. (The helpers above are imported by the other test_control_plane_*.py files.)


class AuthTest(ControlPlaneCase):
    def test_missing_bad_and_read_tokens(self):
        self.start_cp()
        r = self.call("GET", "/v1/revision", token=None)
        self.assertEqual(r.status, 401)
        self.assertIn("bearer", r.headers.get("www-authenticate", "").lower())
        self.assertEqual(r.json()["error"]["code"], "unauthenticated")
        self.assertEqual(self.call("GET", "/v1/revision", token="wrong").status, 401)
        self.assertEqual(self.call("GET", "/v1/revision", headers={"Authorization": "Basic abc"}, token=None).status, 401)
        created = self.ok("POST", "/v1/tokens", {"name": "reader", "scope": "read"}, status=201)
        reader = created["token"]
        self.assertEqual(self.ok("GET", "/v1/revision", token=reader)["revision"], 0)
        e = self.error("POST", "/v1/relations", relation("document", "d", "viewer", "user", "a"), token=reader, status=403)
        self.assertEqual(e["code"], "permission_denied")
        self.assertEqual(self.call("GET", "/v1/backup", token=reader).status, 403)
        # Revoking a token takes effect at once.
        self.ok("DELETE", "/v1/tokens/" + created["id"])
        self.assertEqual(self.call("GET", "/v1/revision", token=reader).status, 401)
        listed = self.ok("GET", "/v1/tokens")["tokens"]
        self.assertEqual([t["name"] for t in listed], ["bootstrap"])
        self.assertNotIn("token", listed[0])

    def test_bootstrap_token_only_while_store_has_none(self):
        self.start_cp(token="first")
        self.assertEqual(self.call("GET", "/v1/revision", token="first").status, 200)
        self.cp.stop()
        self.start_cp(token="second")
        self.assertEqual(self.call("GET", "/v1/revision", token="second").status, 401)
        self.assertEqual(self.call("GET", "/v1/revision", token="first").status, 200)
        self.assertIn("ignored", self.cp.stderr())

    def test_no_token_at_all_locks_everything(self):
        self.start_cp(token=None)
        self.assertEqual(self.call("GET", "/v1/revision", token="").status, 401)
        self.assertEqual(self.call("GET", "/v1/revision", token="x").status, 401)
        # Health endpoints need no token.
        self.assertEqual(self.call("GET", "/healthz", token=None).status, 200)
        self.assertEqual(self.call("GET", "/readyz", token=None).status, 200)

    def test_bad_token_requests(self):
        self.start_cp()
        e = self.error("POST", "/v1/tokens", {"name": "x", "scope": "admin"})
        self.assertIn("scope", e["message"])
        e = self.error("POST", "/v1/tokens", {"scope": "read"})
        self.assertIn("name", e["message"])
        e = self.error("DELETE", "/v1/tokens/tok_nope", status=404)
        self.assertIn("tok_nope", e["message"])


class DirectoryApiTest(ControlPlaneCase):
    def setUp(self):
        super().setUp()
        self.start_cp()
        self.ok("PUT", "/v1/manifest", {"format": "yaml", "text": MANIFEST})

    def test_revision_and_store_id(self):
        r = self.ok("GET", "/v1/revision")
        self.assertEqual(r["revision"], 1)
        self.assertRegex(r["store_id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

    def test_objects_crud_and_paging(self):
        w = self.ok("PUT", "/v1/objects/user/alice", {"display_name": "Alice", "properties": {"roles": ["admin"]}})
        self.assertEqual(w["revision"], 2)
        self.assertTrue(w["changed"])
        got = self.ok("GET", "/v1/objects/user/alice")
        self.assertEqual(got["display_name"], "Alice")
        self.assertEqual(got["properties"], {"roles": ["admin"]})
        for i in range(5):
            self.ok("PUT", f"/v1/objects/user/u{i}", {})
        page = self.ok("GET", "/v1/objects?type=user&page_size=4")
        self.assertEqual(len(page["objects"]), 4)
        self.assertTrue(page["next_cursor"])
        rest = self.ok("GET", "/v1/objects?type=user&page_size=4&cursor=" + page["next_cursor"])
        self.assertEqual(len(rest["objects"]), 2)
        self.assertEqual(rest["next_cursor"], "")
        ids = {o["id"] for o in page["objects"] + rest["objects"]}
        self.assertEqual(ids, {"alice", "u0", "u1", "u2", "u3", "u4"})
        d = self.ok("DELETE", "/v1/objects/user/alice")
        self.assertEqual(d["revision"], 8)
        self.error("GET", "/v1/objects/user/alice", status=404)
        e = self.error("DELETE", "/v1/objects/user/alice", status=404)
        self.assertIn("user:alice", e["message"])
        self.assertEqual(self.revision(), 8)

    def test_object_errors(self):
        e = self.error("PUT", "/v1/objects/planet/earth", {})
        self.assertIn("planet", e["message"])
        e = self.error("PUT", "/v1/objects/user/bob", {"display_name": 5})
        self.assertIn("display_name", e["message"])
        e = self.error("PUT", "/v1/objects/user/bob", {"colour": "red"})
        self.assertIn("colour", e["message"])
        e = self.error("PUT", "/v1/objects/user/bob", {"id": "carol"})
        self.assertIn("id", e["message"])
        e = self.error("PUT", "/v1/objects/user/" + "x" * 600, {})
        self.assertIn("object.id", e["message"])
        e = self.error("PUT", "/v1/objects/user/bob", "{not json", headers={"Content-Type": "application/json"})
        self.assertIn("JSON", e["message"])
        deep = "[" * 200 + "]" * 200
        e = self.error("PUT", "/v1/objects/user/bob", '{"properties": {"a": ' + deep + "}}",
                       headers={"Content-Type": "application/json"})
        self.assertTrue("nest" in e["message"].lower() or "depth" in e["message"].lower(), e["message"])
        self.assertEqual(self.revision(), 1)

    def test_relations_crud_batch_and_filters(self):
        w = self.ok("POST", "/v1/relations", relation("document", "d1", "viewer", "user", "alice"))
        self.assertEqual(w["revision"], 2)
        batch = {"relations": [relation("document", f"d{i}", "owner", "user", "bob") for i in range(10)] +
                 [relation("document", "d1", "viewer", "group", "eng", "member")]}
        w = self.ok("POST", "/v1/relations", batch)
        self.assertEqual(w["revision"], 3)
        listed = self.ok("GET", "/v1/relations?object_type=document&object_id=d1")["relations"]
        self.assertEqual(len(listed), 3)
        owners = self.ok("GET", "/v1/relations?relation=owner&subject_type=user&subject_id=bob&page_size=7")
        self.assertEqual(len(owners["relations"]), 7)
        more = self.ok("GET", "/v1/relations?relation=owner&subject_type=user&subject_id=bob&page_size=7&cursor=" + owners["next_cursor"])
        self.assertEqual(len(more["relations"]), 3)
        q = "object_type=document&object_id=d1&relation=viewer&subject_type=group&subject_id=eng&subject_relation=member"
        w = self.ok("DELETE", "/v1/relations?" + q)
        self.assertEqual(w["revision"], 4)
        e = self.error("DELETE", "/v1/relations?" + q, status=404)
        self.assertIn("document:d1#viewer@group:eng#member", e["message"])
        e = self.error("DELETE", "/v1/relations?object_type=document")
        self.assertIn("object_id", e["message"])

    def test_relation_refusals_store_nothing(self):
        e = self.error("POST", "/v1/relations", relation("document", "d1", "editor", "user", "alice"))
        self.assertIn("editor", e["message"])
        e = self.error("POST", "/v1/relations", relation("document", "d1", "owner", "group", "eng"))
        self.assertIn("group", e["message"])
        batch = {"relations": [relation("document", "d1", "owner", "user", "a"), {"object_type": "document"}]}
        e = self.error("POST", "/v1/relations", batch)
        self.assertIn("relations[1]", e["message"])
        e = self.error("POST", "/v1/relations", relation("document", "d1", "own er", "user", "a"))
        self.assertIn("relation", e["message"])
        # Well-formed JSON with a bad name, and one the manifest does not allow, deep in a batch
        # large enough that SQLite is written while the batch is validated (then rolled back).
        batch = {"relations": [relation("document", f"d{i}", "owner", "user", "a") for i in range(300)]}
        batch["relations"][299]["relation"] = "own er"
        e = self.error("POST", "/v1/relations", batch)
        self.assertIn("relations[299].relation", e["message"])
        batch["relations"][299]["relation"] = "approver"
        e = self.error("POST", "/v1/relations", batch)
        self.assertIn("approver", e["message"])
        e = self.error("POST", "/v1/relations", {"relations": []})
        self.assertIn("relations", e["message"])
        self.assertEqual(self.revision(), 1)
        self.assertEqual(self.ok("GET", "/v1/relations")["relations"], [])
        e = self.error("GET", "/v1/relations?page_size=0")
        self.assertIn("page_size", e["message"])
        e = self.error("GET", "/v1/relations?cursor=garbage")
        self.assertIn("cursor", e["message"])
        # The refused batches took no revision: the same batch made valid is revision 2, whole.
        batch["relations"][299]["relation"] = "owner"
        self.assertEqual(self.ok("POST", "/v1/relations", batch)["revision"], 2)
        self.assertEqual(len(self.ok("GET", "/v1/relations?page_size=1000")["relations"]), 300)

    def test_manifest_get_put_and_refusals(self):
        m = self.ok("GET", "/v1/manifest")
        self.assertEqual(m["text"], MANIFEST)
        self.assertEqual(m["format"], "yaml")
        self.assertEqual(len(m["sha256"]), 64)
        same = self.ok("PUT", "/v1/manifest", {"format": "yaml", "text": MANIFEST})
        self.assertFalse(same["changed"])
        self.assertEqual(same["revision"], 1)
        self.ok("POST", "/v1/relations", relation("document", "d1", "viewer", "user", "alice"))
        # Dropping a relation still in use is refused, naming it.
        dropped = MANIFEST.replace("      viewer: user | group#member\n", "").replace("viewer | owner", "owner")
        e = self.error("PUT", "/v1/manifest", {"format": "yaml", "text": dropped})
        self.assertIn("document:d1#viewer@user:alice", e["message"])
        e = self.error("PUT", "/v1/manifest", {"format": "yaml", "text": "model:\n  version: 3\ntypes:\n  user: [\n"})
        self.assertRegex(e["message"], r"manifest\.yaml:\d+:\d+")
        e = self.error("PUT", "/v1/manifest", {"format": "toml", "text": "x"})
        self.assertIn("manifest.format", e["message"])
        self.assertEqual(self.revision(), 2)
        zed = "definition user {}\ndefinition group {\n relation member: user | group#member\n}\n" \
              "definition document {\n relation owner: user\n relation viewer: user | group#member\n" \
              " permission can_view = viewer + owner\n}\n"
        w = self.ok("PUT", "/v1/manifest", {"format": "zed", "text": zed})
        self.assertEqual(w["revision"], 3)
        self.assertEqual(self.ok("GET", "/v1/manifest")["format"], "zed")

    def test_changes_log_holds_delta_ops(self):
        self.ok("PUT", "/v1/objects/user/alice", {"display_name": "Alice"})
        self.ok("POST", "/v1/relations", relation("document", "d1", "viewer", "user", "alice"))
        changes = self.ok("GET", "/v1/changes?after=0")["changes"]
        self.assertEqual([c["revision"] for c in changes], [1, 2, 3])
        self.assertEqual(changes[0]["ops"][0]["op"], "manifest.set")
        self.assertEqual(len(changes[0]["ops"][0]["manifest"]["sha256"]), 64)
        self.assertEqual(changes[1]["ops"], [{"op": "object.set", "object": {
            "type": "user", "id": "alice", "display_name": "Alice", "properties": {}}}])
        self.assertEqual(changes[2]["ops"][0]["relation"]["subject_id"], "alice")
        self.assertEqual(changes[2]["author"], "bootstrap")
        self.assertEqual(len(self.ok("GET", "/v1/changes?after=2")["changes"]), 1)
        self.error("GET", "/v1/changes?limit=0")

    def test_wrong_method_and_unknown_path(self):
        self.assertEqual(self.call("PATCH", "/v1/revision").status, 405)
        self.assertEqual(self.call("GET", "/v1/nothing").status, 404)


class PolicyApiTest(ControlPlaneCase):
    def setUp(self):
        super().setUp()
        self.start_cp()

    def test_policy_crud_and_history(self):
        w = self.ok("PUT", "/v1/policies/docs/document.yaml", {"text": POLICY})
        self.assertEqual(w["revision"], 1)
        got = self.ok("GET", "/v1/policies/docs/document.yaml")
        self.assertEqual(got["text"], POLICY)
        listed = self.ok("GET", "/v1/policies")["policies"]
        self.assertEqual([p["path"] for p in listed], ["docs/document.yaml"])
        self.assertFalse(self.ok("PUT", "/v1/policies/docs/document.yaml", {"text": POLICY})["changed"])
        v2 = POLICY.replace('["view"]', '["view", "edit"]')
        self.assertEqual(self.ok("PUT", "/v1/policies/docs/document.yaml", {"text": v2})["revision"], 2)
        sets = self.ok("GET", "/v1/policy-sets")["policy_sets"]
        self.assertEqual([s["revision"] for s in sets], [2, 1])
        self.assertEqual(sets[0]["author"], "bootstrap")
        self.assertRegex(sets[0]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertNotEqual(sets[0]["sha256"], sets[1]["sha256"])
        files = self.ok("GET", "/v1/policy-sets/1")["files"]
        self.assertEqual(files[0]["text"], POLICY)
        self.ok("POST", "/v1/policy-sets/1/tags", {"tag": "stable"})
        self.assertEqual(self.ok("GET", "/v1/policy-sets")["policy_sets"][1]["tags"], ["stable"])
        # Rollback to a tag is a new revision with the old text.
        w = self.ok("POST", "/v1/rollback", {"tag": "stable"})
        self.assertEqual(w["revision"], 3)
        self.assertEqual(self.ok("GET", "/v1/policies/docs/document.yaml")["text"], POLICY)
        w = self.ok("POST", "/v1/rollback", {"revision": 2})
        self.assertEqual(w["revision"], 4)
        self.assertEqual(self.ok("GET", "/v1/policies/docs/document.yaml")["text"], v2)
        self.assertEqual(len(self.ok("GET", "/v1/policy-sets")["policy_sets"]), 4)
        w = self.ok("DELETE", "/v1/policies/docs/document.yaml")
        self.assertEqual(w["revision"], 5)
        self.assertEqual(self.ok("GET", "/v1/policies")["policies"], [])
        self.error("GET", "/v1/policies/docs/document.yaml", status=404)
        self.error("DELETE", "/v1/policies/docs/document.yaml", status=404)

    def test_policy_refusals_store_nothing(self):
        self.ok("PUT", "/v1/policies/document.yaml", {"text": POLICY})
        e = self.error("PUT", "/v1/policies/report.yaml", {"text": BROKEN_POLICY})
        self.assertIn("report.yaml:7:", e["message"])
        self.assertIn("EFFECT_MAYBE", e["message"])
        e = self.error("PUT", "/v1/policies/../etc.yaml", {"text": POLICY})
        self.assertIn("path", e["message"])
        e = self.error("PUT", "/v1/policies/x.txt", {"text": POLICY})
        self.assertIn(".yaml", e["message"])
        e = self.error("PUT", "/v1/policies/x.yaml", {"body": POLICY})
        self.assertIn("text", e["message"])
        self.assertEqual(self.revision(), 1)
        self.assertEqual(len(self.ok("GET", "/v1/policy-sets")["policy_sets"]), 1)

    def test_tag_and_rollback_errors(self):
        self.ok("PUT", "/v1/policies/document.yaml", {"text": POLICY})
        self.error("POST", "/v1/policy-sets/99/tags", {"tag": "x"}, status=404)
        e = self.error("POST", "/v1/policy-sets/1/tags", {"tag": "bad tag!"})
        self.assertIn("tag", e["message"])
        e = self.error("POST", "/v1/policy-sets/1/tags", {"tag": "123"})
        self.assertIn("digits", e["message"])
        self.error("POST", "/v1/policy-sets/abc/tags", {"tag": "x"})
        e = self.error("POST", "/v1/rollback", {"tag": "nope"}, status=404)
        self.assertIn("nope", e["message"])
        self.error("POST", "/v1/rollback", {"revision": 42}, status=404)
        self.error("POST", "/v1/rollback", {"tag": "a", "revision": 1})
        self.error("POST", "/v1/rollback", {})
        # Rolling back to the current set changes nothing and takes no revision.
        w = self.ok("POST", "/v1/rollback", {"revision": 1})
        self.assertFalse(w["changed"])
        self.assertEqual(self.revision(), 1)


class KeysAndEdgesTest(ControlPlaneCase):
    def test_keys_lifecycle(self):
        self.start_cp()
        k = self.ok("POST", "/v1/keys", {"name": "edge-group-a"}, status=201)
        self.assertRegex(k["key"], r"^wk_[0-9a-f]{64}$")
        listed = self.ok("GET", "/v1/keys")["keys"]
        self.assertEqual([(x["id"], x["name"]) for x in listed], [(k["id"], "edge-group-a")])
        self.assertNotIn("key", listed[0])
        self.cp.stop()
        # Only the hash is stored.
        import sqlite3
        con = sqlite3.connect(self.db)
        stored = con.execute("SELECT sha256 FROM api_keys").fetchone()[0]
        con.close()
        import hashlib
        self.assertEqual(stored, hashlib.sha256(k["key"].encode()).hexdigest())
        self.start_cp()
        self.ok("DELETE", "/v1/keys/" + k["id"])
        self.assertEqual(self.ok("GET", "/v1/keys")["keys"], [])
        self.error("DELETE", "/v1/keys/" + k["id"], status=404)
        self.error("POST", "/v1/keys", {"name": ""})
        self.error("POST", "/v1/keys", {"name": "a", "extra": 1})

    def test_edges_empty(self):
        self.start_cp()
        r = self.ok("GET", "/v1/edges")
        self.assertEqual(r["edges"], [])


class HealthAndMetricsTest(ControlPlaneCase):
    def test_metrics_count_writes(self):
        self.start_cp()
        self.ok("PUT", "/v1/objects/user/a", {})
        self.error("PUT", "/v1/objects/nope/a", {})
        m = self.call("GET", "/metrics", token=None).body
        self.assertIn("warden_cp_writes_total 1", m)
        self.assertIn("warden_cp_revision 1", m)
        self.assertIn("warden_cp_write_refusals_total 1", m)
