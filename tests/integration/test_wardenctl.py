"""wardenctl's offline commands: eval (every request form) and test (policy suites)."""
import json
import os
import shutil
import tempfile
import unittest

from harness import SOURCE_DIR, WardenTestCase
from test_directory_api import write_folder

CORPUS = os.path.join(SOURCE_DIR, "tests", "conformance", "corpus")


class Eval(WardenTestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="warden-eval-")
        self.addCleanup(shutil.rmtree, self.folder)
        write_folder(self.folder)
        shutil.copytree(os.path.join(CORPUS, "cerbos", "policies"), os.path.join(self.folder, "policies"))

    def eval(self, lines):
        return self.run_binary("wardenctl", "eval", "--data", self.folder,
                               input="".join(json.dumps(l) + "\n" if not isinstance(l, str) else l + "\n"
                                             for l in lines))

    def test_every_request_form_answers_in_order(self):
        with open(os.path.join(CORPUS, "cerbos", "checks.jsonl")) as f:
            cerbos_case = json.loads(f.readline())
        result = self.eval([
            cerbos_case["request"],
            {"subject": {"type": "user", "id": "alice@acme.com"}, "action": {"name": "can_view"},
             "resource": {"type": "document", "id": "plan"}},
            {"object_type": "document", "object_id": "plan", "relation": "can_view", "subject_type": "user",
             "subject_id": "carol"},
            {"lookup": "subjects", "object_type": "document", "object_id": "plan", "permission": "can_view",
             "subject_type": "user"},
        ])
        self.assertEqual(0, result.returncode, result.stderr)
        answers = [json.loads(l) for l in result.stdout.splitlines()]
        self.assertEqual(4, len(answers))
        got = [{"resource": {"kind": r["resource"]["kind"], "id": r["resource"]["id"]}, "actions": r["actions"]}
               for r in answers[0]["results"]]
        self.assertEqual(cerbos_case["expected"], got)
        self.assertTrue(answers[1]["decision"])
        self.assertEqual({"check": False}, {"check": answers[2]["check"]})
        self.assertEqual(["alice", "bob"], sorted(answers[3]["results"]))

    def test_batches_answer_as_the_edge_does(self):
        batch = {"subject": {"type": "user", "id": "bob"}, "action": {"name": "can_view"},
                 "options": {"evaluations_semantic": "deny_on_first_deny"},
                 "evaluations": [{"resource": {"type": "document", "id": "plan"}},
                                 {"resource": {"type": "document", "id": "nothing-here"}},
                                 {"resource": {"type": "document", "id": "plan"}}]}
        result = self.eval([batch, dict(batch, options={"evaluations_semantic": "execute_all"},
                                        evaluations=batch["evaluations"] + [{"resource": {"type": "nope"}}])])
        self.assertEqual(0, result.returncode, result.stderr)
        first, second = [json.loads(l) for l in result.stdout.splitlines()]
        self.assertEqual([True, False], [e["decision"] for e in first["evaluations"]])  # stopped at the deny
        self.assertEqual([True, False, True, False], [e["decision"] for e in second["evaluations"]])
        self.assertIn("evaluations[3].resource.id", second["evaluations"][3]["context"]["error"]["message"])

    def test_a_bad_line_is_an_error_line_and_the_rest_go_on(self):
        result = self.eval(["{not json", {"subject": {"type": "user"}, "action": {"name": "x"}},
                            {"object_type": "document", "object_id": "plan", "relation": "can_view",
                             "subject_type": "user", "subject_id": "bob"}])
        self.assertEqual(1, result.returncode)
        answers = [json.loads(l) for l in result.stdout.splitlines()]
        self.assertEqual(3, len(answers))
        self.assertEqual(1, answers[0]["error"]["line"])
        self.assertIn("subject.id", answers[1]["error"]["message"])
        self.assertTrue(answers[2]["check"])

    def test_usage_and_load_errors(self):
        self.assertEqual(2, self.run_binary("wardenctl", "eval").returncode)
        broken = self.run_binary("wardenctl", "eval", "--data", "/nonexistent")
        self.assertEqual(1, broken.returncode)
        self.assertIn("does not exist", broken.stderr)
        self.assertEqual(2, self.run_binary("wardenctl", "frobnicate").returncode)


class PolicyTests(WardenTestCase):
    def test_the_expenses_example_suite_passes(self):
        result = self.run_binary("wardenctl", "test", os.path.join(SOURCE_DIR, "examples", "expenses"))
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        self.assertRegex(result.stdout.strip().splitlines()[-1], r"^\d+ passed, 0 failed")

    def test_a_wrong_expectation_fails_naming_the_rule(self):
        folder = tempfile.mkdtemp(prefix="warden-suite-")
        self.addCleanup(shutil.rmtree, folder)
        shutil.copytree(os.path.join(SOURCE_DIR, "examples", "expenses", "policies"), os.path.join(folder, "policies"))
        suite = os.path.join(folder, "policies", "expense_test.yaml")
        with open(suite) as f:
            text = f.read()
        flipped = text.replace("EFFECT_ALLOW", "EFFECT_TMP").replace("EFFECT_DENY", "EFFECT_ALLOW").replace(
            "EFFECT_TMP", "EFFECT_DENY")
        with open(suite, "w") as f:
            f.write(flipped)
        result = self.run_binary("wardenctl", "test", folder)
        self.assertEqual(1, result.returncode)
        self.assertIn("FAIL", result.stdout)
        self.assertRegex(result.stdout.strip().splitlines()[-1], r"^\d+ passed, [1-9]\d* failed")


if __name__ == "__main__":
    unittest.main()
