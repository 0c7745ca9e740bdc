"""The Cerbos-compatible API through the real edge: the Cerbos oracle corpora over HTTP, its error
paths, and the official @cerbos/http client from npm."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import SOURCE_DIR, WardenTestCase

CORPUS = os.path.join(SOURCE_DIR, "tests", "conformance", "corpus")


def standalone_folder(corpus):
    folder = tempfile.mkdtemp(prefix="warden-cerbos-")
    shutil.copytree(os.path.join(CORPUS, corpus, "policies"), os.path.join(folder, "policies"))
    return folder


def effects_of(response, expected):
    """The parts of a CheckResources response the oracle recorded (outputs only where it has them)."""
    got = []
    for result, want in zip(response["results"], expected):
        entry = {"resource": {"kind": result["resource"]["kind"], "id": result["resource"]["id"]},
                 "actions": result["actions"]}
        if "outputs" in want:
            # Cerbos does not promise an order for outputs; compare them as a set, as the engine's
            # conformance runner does.
            entry["outputs"] = sorted(result.get("outputs", []), key=lambda o: json.dumps(o, sort_keys=True))
            want["outputs"] = sorted(want["outputs"], key=lambda o: json.dumps(o, sort_keys=True))
        got.append(entry)
    return got


class CerbosCorpusOverHttp(WardenTestCase):
    def run_corpus(self, corpus):
        folder = standalone_folder(corpus)
        self.addCleanup(shutil.rmtree, folder)
        edge = self.start("warden-edge", "--data", folder, "--listen", "127.0.0.1:0")
        cases = 0
        with open(os.path.join(CORPUS, corpus, "checks.jsonl")) as f:
            for number, line in enumerate(f, 1):
                case = json.loads(line)
                response = edge.request("POST", "/api/check/resources", body=case["request"])
                self.assertEqual(200, response.status, f"{corpus} line {number}: {response.body}")
                self.assertEqual(case["expected"], effects_of(response.json(), case["expected"]), f"{corpus} line {number}")
                self.assertEqual(case["request"]["requestId"], response.json()["requestId"])
                self.assertEqual("1", response.headers["warden-revision"])
                cases += 1
        self.assertGreater(cases, 50)
        with open(os.path.join(CORPUS, corpus, "plans.jsonl")) as f:
            for number, line in enumerate(f, 1):
                case = json.loads(line)
                response = edge.request("POST", "/api/plan/resources", body=case["request"])
                self.assertEqual(200, response.status, f"{corpus} plan line {number}: {response.body}")
                self.assertEqual(case["expected"]["filter"]["kind"], response.json()["filter"]["kind"],
                                 f"{corpus} plan line {number}")

    def test_cerbos_corpus(self):
        self.run_corpus("cerbos")

    def test_cerbos2_corpus(self):
        self.run_corpus("cerbos2")

    def test_bad_requests_name_the_field(self):
        folder = standalone_folder("cerbos")
        self.addCleanup(shutil.rmtree, folder)
        edge = self.start("warden-edge", "--data", folder, "--listen", "127.0.0.1:0", "--max-batch", "2")
        malformed = edge.request("POST", "/api/check/resources", body='{"principal": ',
                                 headers={"Content-Type": "application/json"})
        self.assertEqual(400, malformed.status)
        self.assertIn("malformed JSON at byte", malformed.json()["error"]["message"])
        missing = edge.request("POST", "/api/check/resources", body={"principal": {"id": "a", "roles": ["user"]}})
        self.assertEqual(400, missing.status)
        self.assertIn("resources", missing.json()["error"]["message"])
        wrong = edge.request("POST", "/api/check/resources", body={
            "principal": {"id": "a", "roles": "user"},
            "resources": [{"resource": {"kind": "expense", "id": "e"}, "actions": ["view"]}]})
        self.assertEqual(400, wrong.status)
        self.assertIn("principal.roles", wrong.json()["error"]["message"])
        too_many = edge.request("POST", "/api/check/resources", body={
            "principal": {"id": "a", "roles": ["user"]},
            "resources": [{"resource": {"kind": "expense", "id": str(i)}, "actions": ["view"]} for i in range(3)]})
        self.assertEqual(413, too_many.status)
        self.assertIn("limit of 2", too_many.json()["error"]["message"])


class OfficialCerbosClient(WardenTestCase):
    """@cerbos/http from the npm registry, unchanged, against the edge."""

    def install_client(self):
        cache = os.path.join(os.environ.get("WARDEN_BIN_DIR", tempfile.gettempdir()), "npm-cerbos-http")
        if not os.path.isdir(os.path.join(cache, "node_modules", "@cerbos", "http")):
            os.makedirs(cache, exist_ok=True)
            result = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", cache,
                                     "@cerbos/http@0.26.0"], capture_output=True, text=True, timeout=300)
            self.assertEqual(0, result.returncode, result.stderr)
        shutil.copy(os.path.join(os.path.dirname(__file__), "cerbos_client.mjs"), cache)
        return cache

    def test_check_is_allowed_and_plan(self):
        folder = standalone_folder("cerbos")
        self.addCleanup(shutil.rmtree, folder)
        edge = self.start("warden-edge", "--data", folder, "--listen", "127.0.0.1:0")
        checks, expected_checks = [], []
        with open(os.path.join(CORPUS, "cerbos", "checks.jsonl")) as f:
            for line in list(f)[:40]:
                case = json.loads(line)
                request = case["request"]
                for entry, expected in zip(request["resources"], case["expected"]):
                    checks.append({"principal": request["principal"], "resource": entry["resource"],
                                   "actions": entry["actions"]})
                    expected_checks.append({a: e == "EFFECT_ALLOW" for a, e in expected["actions"].items()})
        allowed = [{"principal": c["principal"], "resource": c["resource"], "action": c["actions"][0]} for c in checks]
        expected_allowed = [e[c["actions"][0]] for c, e in zip(checks, expected_checks)]
        plans, expected_plans = [], []
        with open(os.path.join(CORPUS, "cerbos", "plans.jsonl")) as f:
            for line in list(f)[:10]:
                case = json.loads(line)
                plans.append({"principal": case["request"]["principal"], "resource": case["request"]["resource"],
                              "action": case["request"]["action"]})
                expected_plans.append(case["expected"]["filter"]["kind"])
        client_dir = self.install_client()
        cases_file = os.path.join(client_dir, "cases.json")
        with open(cases_file, "w") as f:
            json.dump({"checks": checks, "allowed": allowed, "plans": plans}, f)
        result = subprocess.run(["node", "cerbos_client.mjs", edge.url, cases_file], cwd=client_dir,
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stderr)
        got = json.loads(result.stdout)
        self.assertEqual(expected_checks, got["checks"])
        self.assertEqual(expected_allowed, got["allowed"])
        kinds = {"KIND_ALWAYS_ALLOWED": "KIND_ALWAYS_ALLOWED", "KIND_ALWAYS_DENIED": "KIND_ALWAYS_DENIED",
                 "KIND_CONDITIONAL": "KIND_CONDITIONAL"}
        self.assertEqual([kinds[k] for k in expected_plans], [p["kind"] for p in got["plans"]])
        conditional = [p for p in got["plans"] if p["kind"] == "KIND_CONDITIONAL"]
        self.assertTrue(conditional, "the sample should hold at least one conditional plan")
        for plan in conditional:
            self.assertIsNotNone(plan["condition"])


if __name__ == "__main__":
    unittest.main()
