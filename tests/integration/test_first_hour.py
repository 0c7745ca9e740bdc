"""What a new user trips on in the first hour (issue 17): each test here failed before its fix.

A Cerbos policy folder read as Cerbos reads it, and an empty folder refused instead of served as
deny-everything; arguments a server cannot use refused; wardenctl's flags anywhere, help per
command, live checks at the control plane, validate, policy diff; the first admin token made
offline; variables that would expand without bound refused at once."""
import json
import os
import shutil
import signal
import tempfile
import time
import unittest

from harness import SOURCE_DIR, WardenTestCase, wait_until
from test_control_plane import ADMIN, MANIFEST, POLICY, ControlPlaneCase

CERBOS_POLICY = """apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: expense
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["employee"]
"""

CERBOS_CHECK = {"requestId": "r1", "principal": {"id": "sally", "roles": ["employee"]},
                "resources": [{"actions": ["view", "approve"], "resource": {"kind": "expense", "id": "e1"}}]}


def cerbos_folder(root):
    """Cerbos's disk layout: policy files in the folder itself and below, and a test suite."""
    os.makedirs(os.path.join(root, "nested"), exist_ok=True)
    with open(os.path.join(root, "expense.yaml"), "w") as f:
        f.write(CERBOS_POLICY)
    with open(os.path.join(root, "nested", "report.yaml"), "w") as f:
        f.write(CERBOS_POLICY.replace("expense", "report"))
    with open(os.path.join(root, "expense_test.yaml"), "w") as f:
        f.write("name: ExpenseTests\ndescription: suites are not policies\ntests: []\n")


class CerbosLayout(WardenTestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="warden-cerbos-layout-")
        self.addCleanup(shutil.rmtree, self.folder)

    def test_edge_serves_policy_files_at_the_top_of_the_folder(self):
        cerbos_folder(self.folder)
        edge = self.start("warden-edge", "--data", self.folder, "--listen", "127.0.0.1:0")
        edge.wait_ready()
        r = edge.request("POST", "/api/check/resources", CERBOS_CHECK)
        self.assertEqual(200, r.status, r.body)
        self.assertEqual({"view": "EFFECT_ALLOW", "approve": "EFFECT_DENY"}, r.json()["results"][0]["actions"])
        status = edge.request("GET", "/v1/status").json()
        self.assertEqual(2, status["snapshot"]["policies"])

    def test_eval_and_validate_read_the_same_folder(self):
        cerbos_folder(self.folder)
        r = self.run_binary("wardenctl", "eval", "--data", self.folder, input=json.dumps(CERBOS_CHECK) + "\n")
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertEqual("EFFECT_ALLOW", json.loads(r.stdout)["results"][0]["actions"]["view"])
        r = self.run_binary("wardenctl", "validate", self.folder)
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertIn("2 policies", r.stdout)

    def test_an_empty_folder_is_refused_with_the_reason(self):
        os.makedirs(os.path.join(self.folder, "docs"))
        with open(os.path.join(self.folder, "README.txt"), "w") as f:
            f.write("nothing to serve here\n")
        for command in (["eval", "--data", self.folder], ["validate", self.folder]):
            r = self.run_binary("wardenctl", *command, input="")
            self.assertEqual(1, r.returncode, command)
            self.assertIn("holds nothing to serve", r.stderr)
        # The edge starts but is not ready, says why, and becomes ready once files arrive.
        edge = self.start("warden-edge", "--data", self.folder, "--listen", "127.0.0.1:0", "--poll-interval", "50ms")
        r = edge.request("GET", "/readyz")
        self.assertEqual(503, r.status)
        self.assertIn("holds nothing to serve", r.body)
        with open(os.path.join(self.folder, "expense.yaml"), "w") as f:
            f.write(CERBOS_POLICY)
        wait_until(lambda: edge.request("GET", "/readyz").status == 200, message="the edge to load the new policy")
        r = edge.request("POST", "/api/check/resources", CERBOS_CHECK)
        self.assertEqual("EFFECT_ALLOW", r.json()["results"][0]["actions"]["view"])

    def test_validate_reports_every_problem(self):
        with open(os.path.join(self.folder, "a.yaml"), "w") as f:
            f.write(CERBOS_POLICY.replace("EFFECT_ALLOW", "EFFECT_MAYBE"))
        with open(os.path.join(self.folder, "b.yaml"), "w") as f:
            f.write(CERBOS_POLICY.replace("expense", "report").replace("actions:", "actoins:"))
        r = self.run_binary("wardenctl", "validate", self.folder)
        self.assertEqual(1, r.returncode)
        self.assertIn("a.yaml:", r.stderr)
        self.assertIn("b.yaml:", r.stderr)


class ServerArguments(WardenTestCase):
    def test_a_stray_argument_is_refused(self):
        for server in ("warden-edge", "warden-control-plane"):
            r = self.run_binary(server, "app", "--listen", "127.0.0.1:0")
            self.assertEqual(2, r.returncode, server)
            self.assertIn("unexpected argument 'app'", r.stderr)

    def test_help_prints_the_defaults_the_code_uses(self):
        r = self.run_binary("warden-control-plane", "--help")
        self.assertEqual(0, r.returncode)
        threads = next(line for line in r.stdout.splitlines() if line.strip().startswith("--threads"))
        body = next(line for line in r.stdout.splitlines() if line.strip().startswith("--max-body"))
        self.assertIn("(default: 4)", threads)
        self.assertIn("(default: 512MiB)", body)
        r = self.run_binary("warden-edge", "--help")
        body = next(line for line in r.stdout.splitlines() if line.strip().startswith("--max-body"))
        self.assertIn("(default: 4MiB)", body)

    def test_edge_api_keys_and_the_plain_listener_warning(self):
        folder = tempfile.mkdtemp(prefix="warden-api-keys-")
        self.addCleanup(shutil.rmtree, folder)
        cerbos_folder(folder)
        key = "k" * 32
        keys_file = os.path.join(folder, "keys.txt")
        with open(keys_file, "w") as f:
            f.write("# rotation: old and new\n" + "n" * 32 + "\n")
        edge = self.start("warden-edge", "--data", folder, "--listen", "0.0.0.0:0", "--api-key-file", keys_file,
                          env={"WARDEN_API_KEY": key})
        self.assertEqual(200, edge.request("GET", "/readyz").status)  # probes need no key
        r = edge.request("POST", "/api/check/resources", CERBOS_CHECK)
        self.assertEqual(401, r.status)
        self.assertIn("requires an API key", r.body)
        self.assertEqual(401, edge.request("POST", "/api/check/resources", CERBOS_CHECK,
                                           headers={"Authorization": "Bearer " + "x" * 32}).status)
        for headers in ({"Authorization": "Bearer " + key}, {"X-API-Key": "n" * 32}, {"Authorization": "Basic " + key}):
            self.assertEqual(200, edge.request("POST", "/api/check/resources", CERBOS_CHECK, headers=headers).status)
        self.assertIn("plain HTTP on 0.0.0.0", edge.stderr())
        r = self.run_binary("warden-edge", "--data", folder, "--listen", "127.0.0.1:0", env={"WARDEN_API_KEY": "short"})
        self.assertEqual(2, r.returncode)
        self.assertIn("shorter than 16 bytes", r.stderr)

    def test_a_cerbos_request_with_an_unknown_field_is_refused(self):
        folder = tempfile.mkdtemp(prefix="warden-cerbos-fields-")
        self.addCleanup(shutil.rmtree, folder)
        cerbos_folder(folder)
        edge = self.start("warden-edge", "--data", folder, "--listen", "127.0.0.1:0")
        edge.wait_ready()
        misspelt = json.loads(json.dumps(CERBOS_CHECK))
        misspelt["principal"]["attrs"] = {"department": "marketing"}
        r = edge.request("POST", "/api/check/resources", misspelt)
        self.assertEqual(400, r.status)
        self.assertIn("principal.attrs: unknown field (did you mean 'attr'?)", r.json()["message"])
        # Proto names are Cerbos's other spelling, and are read, not refused.
        proto = json.loads(json.dumps(CERBOS_CHECK))
        proto["request_id"] = proto.pop("requestId")
        proto["resources"][0]["resource"]["policy_version"] = "default"
        r = edge.request("POST", "/api/check/resources", proto)
        self.assertEqual(200, r.status, r.body)
        self.assertEqual("r1", r.json()["requestId"])


class Wardenctl(ControlPlaneCase):
    def setUp(self):
        super().setUp()
        self.start_cp()
        self.ok("PUT", "/v1/manifest", {"format": "yaml", "text": MANIFEST})

    def test_global_flags_before_the_command(self):
        r = self.run_binary("wardenctl", "--url", self.cp.url, "--token", ADMIN, "revision", "--json",
                            env={"WARDEN_URL": "", "WARDEN_TOKEN": "", "HOME": self.tmp.name})
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertEqual(1, json.loads(r.stdout)["revision"])

    def test_help_for_each_command(self):
        for args in (["push", "--help"], ["help", "push"], ["decisions", "-h"]):
            r = self.run_binary("wardenctl", *args)
            self.assertEqual(0, r.returncode, args)
            self.assertTrue(r.stdout.startswith("usage: wardenctl " + ("push" if "push" in args else "decisions")),
                            r.stdout)
        r = self.run_binary("wardenctl", "help")
        self.assertEqual(0, r.returncode)
        for command in ("validate", "check", "evaluate"):
            self.assertIn(command, r.stdout)

    def test_a_missing_token_says_how_to_give_one(self):
        r = self.ctl("revision", token="")
        self.assertEqual(1, r.returncode)
        self.assertIn("--token", r.stderr)
        self.assertIn("WARDEN_TOKEN", r.stderr)

    def test_check_and_evaluate_at_the_control_plane(self):
        self.assertEqual(0, self.ctl("relation", "set", "group:eng#member@user:ann").returncode)
        self.assertEqual(0, self.ctl("relation", "set", "document:plan#viewer@group:eng#member").returncode)
        self.assertEqual(0, self.ctl("relation", "set", "document:other#owner@user:bob").returncode)
        r = self.ctl("check", "user:ann", "can_view", "document:plan")
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertTrue(r.stdout.startswith("allowed: user:ann can_view document:plan (revision 4)"), r.stdout)
        self.assertIn("group:eng", r.stdout)  # the path goes through the group
        r = self.ctl("check", "user:bob", "can_view", "document:plan")
        self.assertTrue(r.stdout.startswith("denied"), r.stdout)
        r = self.ctl("check", "user:ann", "can_view", "planet:mars")
        self.assertEqual(1, r.returncode)
        self.assertIn("planet", r.stderr)
        body = {"subject": {"type": "user", "id": "ann"}, "action": {"name": "can_view"},
                "resource": {"type": "document", "id": "plan"}}
        r = self.ctl("evaluate", json.dumps(body))
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertTrue(r.stdout.startswith("allowed (revision 4)"), r.stdout)
        r = self.ctl("evaluate", "-", "--json", input=json.dumps(dict(body, subject={"type": "user", "id": "bob"})))
        self.assertEqual(0, r.returncode, r.stderr)
        answer = json.loads(r.stdout)
        self.assertFalse(answer["decision"])
        self.assertEqual("manifest", answer["context"]["reason_admin"]["source"])

    def test_push_of_a_cerbos_folder_and_of_an_empty_one(self):
        folder = os.path.join(self.tmp.name, "cerbos")
        cerbos_folder(folder)
        r = self.ctl("push", folder)
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertEqual(["revision 2", "policies: 2 added, 0 changed, 0 removed; manifest unchanged; objects: 0 set, "
                          "0 deleted; relations: 0 set, 0 deleted"], r.stdout.splitlines())
        listed = self.ok("GET", "/v1/policies?page_size=100")["policies"]
        self.assertEqual(["expense.yaml", "nested/report.yaml"], sorted(p["path"] for p in listed))
        empty = os.path.join(self.tmp.name, "empty")
        os.makedirs(empty)
        r = self.ctl("push", empty)
        self.assertEqual(1, r.returncode)
        self.assertIn("holds nothing to serve", r.stderr)
        self.assertEqual(2, self.revision())

    def test_import_takes_topaz_documents_and_says_what_it_imported(self):
        path = os.path.join(self.tmp.name, "topaz.json")
        with open(path, "w") as f:
            json.dump({"objects": [{"type": "user", "id": "ann", "display_name": "Ann"}],
                       "relations": [{"object_type": "group", "object_id": "eng", "relation": "member",
                                      "subject_type": "user", "subject_id": "ann"}]}, f, indent=2)
        r = self.ctl("import", path)
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertEqual("imported 2 rows at revision 2 (1 objects, 1 relations)\n", r.stdout)
        self.assertEqual("Ann", self.ok("GET", "/v1/objects/user/ann")["display_name"])

    def test_decisions_filters_and_key_names(self):
        r = self.ctl("decisions", "subject=eve")
        self.assertEqual(2, r.returncode)
        self.assertIn("give TYPE:ID (e.g. subject=user:eve)", r.stderr)
        r = self.ctl("decisions")
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertEqual("0 entries, oldest first", r.stdout.splitlines()[0])
        self.assertTrue(r.stdout.splitlines()[1].startswith("TIME"))
        self.assertEqual(0, self.ctl("keys", "create", "fleet").returncode)
        r = self.ctl("keys", "create", "fleet")
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertIn("2 keys are now named 'fleet'", r.stderr)

    def test_policy_diff(self):
        folder = os.path.join(self.tmp.name, "p")
        os.makedirs(os.path.join(folder, "policies"))
        with open(os.path.join(folder, "policies", "document.yaml"), "w") as f:
            f.write(POLICY)
        self.assertEqual(0, self.ctl("push", folder).returncode)
        self.assertEqual(0, self.ctl("policy", "tag", "2", "first").returncode)
        with open(os.path.join(folder, "policies", "document.yaml"), "w") as f:
            f.write(POLICY.replace('roles: ["user"]', 'roles: ["user", "admin"]'))
        with open(os.path.join(folder, "policies", "extra.yaml"), "w") as f:
            f.write(POLICY.replace("document", "report"))
        self.assertEqual(0, self.ctl("push", folder).returncode)
        r = self.ctl("policy", "diff", "first", "3")
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertIn("added   extra.yaml", r.stdout)
        self.assertIn("changed document.yaml", r.stdout)
        self.assertIn('-       roles: ["user"]', r.stdout)
        self.assertIn('+       roles: ["user", "admin"]', r.stdout)
        r = self.ctl("policy", "diff", "first", "3", "--json")
        self.assertEqual({"from": 2, "to": 3, "added": ["extra.yaml"], "removed": [], "changed": ["document.yaml"]},
                         json.loads(r.stdout))
        r = self.ctl("policy", "diff", "first", "nosuchtag")
        self.assertEqual(1, r.returncode)
        self.assertIn("nosuchtag", r.stderr)

    def test_variables_that_double_are_refused_at_once(self):
        variables = "".join(f'      v{i}: "V.v{i - 1} || V.v{i - 1}"\n' for i in range(1, 30))
        text = (POLICY.replace("  rules:", '  variables:\n    local:\n      v0: "P.attr.a == 1"\n' + variables +
                               "  rules:")
                + "      condition:\n        match:\n          expr: V.v29\n")
        started = time.monotonic()
        r = self.call("PUT", "/v1/policies/x.yaml", {"text": text})
        self.assertLess(time.monotonic() - started, 30)  # a bound on the test, not a benchmark
        self.assertEqual(400, r.status, r.body)
        self.assertIn("variable 'v29' makes the condition longer than the limit", r.body)
        self.assertEqual(1, self.revision())


class FirstToken(ControlPlaneCase):
    def test_an_empty_store_says_how_to_make_a_token_and_one_made_offline_works(self):
        self.start_cp(token=None)
        wait_until(lambda: "token create" in self.cp.stderr(), message="the first-token hint on stderr")
        self.assertEqual(401, self.call("GET", "/v1/revision").status)
        r = self.run_binary("warden-control-plane", "token", "create", "first-admin", "--db", self.db)
        self.assertEqual(0, r.returncode, r.stderr)
        token = r.stdout.strip()
        self.assertGreater(len(token), 30)
        self.cp.signal(signal.SIGHUP)
        wait_until(lambda: self.call("GET", "/v1/revision", token=token).status == 200,
                   message="the control plane to load the offline token")
        r = self.run_binary("warden-control-plane", "token", "create", "x", "admin", "--db", self.db)
        self.assertEqual(2, r.returncode)
        self.assertIn("must be read or write", r.stderr)


if __name__ == "__main__":
    unittest.main()
