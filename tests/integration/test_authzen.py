"""The AuthZEN 1.0 API through the real edge: error paths, batch semantics, pagination, discovery,
and searches that agree with evaluations. The interop scenarios themselves run as
conformance_authzen_* (tests/conformance/authzen)."""
import json
import os
import shutil
import tempfile
import threading
import time
import unittest

import harness
from harness import SOURCE_DIR, WardenTestCase

TODO = os.path.join(SOURCE_DIR, "examples", "authzen-todo")
SEARCH = os.path.join(SOURCE_DIR, "examples", "authzen-search")
RICK_PID = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"
BETH_PID = "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"
USERS = ["alice", "bob", "carol", "dan", "erin", "felix"]
RECORDS = [str(n) for n in range(101, 121)]


def evaluation(subject_id=RICK_PID, action="can_read_todos", resource=None):
    return {"subject": {"type": "user", "id": subject_id}, "action": {"name": action},
            "resource": resource or {"type": "todo", "id": "todo-1"}}


class EdgeOnFolder(WardenTestCase):
    """One edge per test class, on FOLDER."""
    FOLDER = TODO
    ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.edge = harness.Process("warden-edge", ["--data", cls.FOLDER, "--listen", "127.0.0.1:0", *cls.ARGS])
        cls.edge.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.edge.stop()
        report = cls.edge.sanitizer_report()
        if report:
            raise AssertionError(f"warden-edge reported:\n{report}")

    def post(self, path, body, headers=None):
        return self.edge.request("POST", path, body=body, headers=headers)

    def assertError(self, response, status, *fragments):
        self.assertEqual(status, response.status, response.body)
        message = response.json()["error"]["message"]
        for fragment in fragments:
            self.assertIn(fragment, message)
        return message


class EvaluationErrors(EdgeOnFolder):
    def test_malformed_json_names_the_byte(self):
        response = self.post("/access/v1/evaluation", '{"subject": {"type": "user",, }',
                             headers={"Content-Type": "application/json"})
        self.assertError(response, 400, "malformed JSON at byte")

    def test_content_type_must_be_json(self):
        body = json.dumps(evaluation())
        self.assertError(self.post("/access/v1/evaluation", body, headers={"Content-Type": "text/plain"}), 400,
                         "Content-Type", "text/plain")
        self.assertError(self.post("/access/v1/evaluation", body), 400, "Content-Type: required")

    def test_empty_body_and_non_object(self):
        self.assertError(self.post("/access/v1/evaluation", "", headers={"Content-Type": "application/json"}), 400,
                         "empty")
        self.assertError(self.post("/access/v1/evaluation", [1, 2]), 400, "must be a JSON object")

    def test_missing_fields_are_named(self):
        for drop, field in (("subject", "subject: is required"), ("action", "action: is required"),
                            ("resource", "resource: is required")):
            body = evaluation()
            del body[drop]
            self.assertError(self.post("/access/v1/evaluation", body), 400, field)
        body = evaluation()
        body["action"] = {}
        self.assertError(self.post("/access/v1/evaluation", body), 400, "action.name: is required")
        body = evaluation()
        del body["resource"]["type"]
        self.assertError(self.post("/access/v1/evaluation", body), 400, "resource.type: is required")
        body = evaluation()
        del body["subject"]["id"]
        self.assertError(self.post("/access/v1/evaluation", body), 400, "subject.id: is required")

    def test_wrong_types_are_named(self):
        cases = [
            (("subject", "alice"), "subject: must be an object"),
            (("action", {"name": 123}), "action.name: must be a string"),
            (("resource", {"type": "todo", "id": 7}), "resource.id: must be a string"),
            (("resource", {"type": "todo", "id": "t", "properties": []}), "resource.properties: must be an object"),
            (("action", {"name": "x", "properties": "soft"}), "action.properties: must be an object"),
            (("context", "now"), "context: must be an object"),
            (("subject", {"type": "", "id": "x"}), "subject.type: must not be empty"),
        ]
        for (key, value), fragment in cases:
            body = evaluation()
            body[key] = value
            self.assertError(self.post("/access/v1/evaluation", body), 400, fragment)

    def test_unknown_resource_type(self):
        body = evaluation(resource={"type": "spaceship", "id": "1"})
        self.assertError(self.post("/access/v1/evaluation", body), 400, "resource.type", "spaceship")

    def test_unknown_subject_identity(self):
        self.assertError(self.post("/access/v1/evaluation", evaluation(subject_id="nobody@nowhere")), 404,
                         "subject.id", "nobody@nowhere")

    def test_unknown_fields_are_ignored_and_deny_is_200(self):
        body = evaluation(BETH_PID, "can_create_todo")
        body["futureField"] = {"nested": True}
        response = self.post("/access/v1/evaluation", body)
        self.assertEqual(200, response.status, response.body)
        self.assertIs(False, response.json()["decision"])

    def test_revision_request_id_and_explain(self):
        body = evaluation()
        body["context"] = {"warden": {"explain": True}}
        response = self.post("/access/v1/evaluation", body, headers={"X-Request-ID": "req-42"})
        self.assertEqual(200, response.status, response.body)
        self.assertEqual("req-42", response.headers["x-request-id"])
        self.assertEqual("1", response.headers["warden-revision"])
        answer = response.json()
        self.assertIs(True, answer["decision"])
        self.assertEqual(1, answer["context"]["revision"])
        reason = answer["context"]["reason_admin"]
        self.assertEqual("resource.todo.vdefault", reason["policy"])
        self.assertEqual("read-todos", reason["rule"])
        self.assertEqual("rick@the-citadel.com", reason["subject_id"])
        # errors echo the request id too
        response = self.post("/access/v1/evaluation", {}, headers={"X-Request-ID": "req-43"})
        self.assertEqual(400, response.status)
        self.assertEqual("req-43", response.headers["x-request-id"])

    def test_min_revision(self):
        body = evaluation()
        body["context"] = {"warden": {"min_revision": 1}}
        self.assertEqual(200, self.post("/access/v1/evaluation", body).status)
        body["context"] = {"warden": {"min_revision": 99}}
        started = time.time()
        response = self.assertError(self.post("/access/v1/evaluation", body), 503, "revision 99", "revision 1")
        self.assertGreaterEqual(time.time() - started, 0.9)  # it waited for the revision first
        self.assertError(self.post("/access/v1/evaluation", evaluation(), headers={"Warden-Min-Revision": "soon"}),
                         400, "Warden-Min-Revision")
        body["context"] = {"warden": {"min_revision": -3}}
        self.assertError(self.post("/access/v1/evaluation", body), 400, "context.warden.min_revision")

    def test_a_request_waiting_for_a_revision_holds_no_worker(self):
        # The edge runs one worker thread; while one request waits (1 s) for a revision the edge
        # does not hold, others are still answered at once.
        waiting = {}

        def wait_for_revision():
            waiting["response"] = self.post("/access/v1/evaluation", evaluation(),
                                            headers={"Warden-Min-Revision": "1000"})
            waiting["done"] = time.time()

        started = time.time()
        thread = threading.Thread(target=wait_for_revision)
        thread.start()
        time.sleep(0.1)
        for _ in range(5):
            self.assertEqual(200, self.post("/access/v1/evaluation", evaluation()).status)
            self.assertEqual(200, self.edge.request("GET", "/healthz").status)
        answered = time.time()
        thread.join()
        self.assertLess(answered - started, 0.8)
        self.assertGreaterEqual(waiting["done"] - started, 0.9)
        self.assertError(waiting["response"], 503, "revision 1000")

    def test_discovery(self):
        status, headers, body = self.edge.request("GET", "/.well-known/authzen-configuration")
        self.assertEqual(200, status)
        self.assertTrue(headers["content-type"].startswith("application/json"))
        meta = json.loads(body)
        base = f"http://{self.edge.host}:{self.edge.port}"
        self.assertEqual(base, meta["policy_decision_point"])
        for key, path in (("access_evaluation_endpoint", "/access/v1/evaluation"),
                          ("access_evaluations_endpoint", "/access/v1/evaluations"),
                          ("search_subject_endpoint", "/access/v1/search/subject"),
                          ("search_resource_endpoint", "/access/v1/search/resource"),
                          ("search_action_endpoint", "/access/v1/search/action")):
            self.assertEqual(base + path, meta[key])
        self.assertNotIn("capabilities", meta)  # parameters with no values are omitted


class Batches(EdgeOnFolder):
    ARGS = ("--max-batch", "3")

    def batch(self, semantic, resources, subject=RICK_PID, action="can_update_todo"):
        body = {"subject": {"type": "user", "id": subject}, "action": {"name": action},
                "evaluations": [{"resource": r} if r is not None else {} for r in resources]}
        if semantic:
            body["options"] = {"evaluations_semantic": semantic}
        return self.post("/access/v1/evaluations", body)

    def todo(self, owner):
        return {"type": "todo", "id": f"t-{owner}", "properties": {"ownerID": owner}}

    def decisions(self, response):
        self.assertEqual(200, response.status, response.body)
        return [e["decision"] for e in response.json()["evaluations"]]

    def test_over_the_batch_limit_is_413(self):
        response = self.batch(None, [self.todo("a")] * 4)
        self.assertError(response, 413, "evaluations", "4 items", "limit of 3")

    def test_execute_all_reports_a_bad_item_in_place(self):
        morty = "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"
        response = self.batch("execute_all", [self.todo("rick@the-citadel.com"), None,
                                              self.todo("morty@the-citadel.com")], subject=morty)
        self.assertEqual([False, False, True], self.decisions(response))
        error = response.json()["evaluations"][1]["context"]["error"]
        self.assertEqual(400, error["status"])
        self.assertIn("evaluations[1].resource: is required", error["message"])
        self.assertNotIn("decision", response.json())  # the spec recommends no top-level decision

    def test_item_errors_from_the_engine_are_per_item(self):
        response = self.batch(None, [{"type": "spaceship", "id": "1"}, self.todo("x")])
        self.assertEqual([False, True], self.decisions(response))
        error = response.json()["evaluations"][0]["context"]["error"]
        self.assertEqual(400, error["status"])
        self.assertIn("evaluations[0]", error["message"])
        self.assertIn("spaceship", error["message"])

    def test_deny_on_first_deny_stops_at_the_first_deny(self):
        beth_owned = self.todo("beth@the-smiths.com")
        summer = "CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"
        response = self.batch("deny_on_first_deny", [self.todo("summer@the-smiths.com"), beth_owned,
                                                     self.todo("summer@the-smiths.com")], subject=summer)
        self.assertEqual([True, False], self.decisions(response))
        # an error is a denial too
        response = self.batch("deny_on_first_deny", [None, self.todo("x")], subject=summer)
        self.assertEqual([False], self.decisions(response))

    def test_permit_on_first_permit_stops_at_the_first_permit(self):
        summer = "CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"
        response = self.batch("permit_on_first_permit", [self.todo("rick@the-citadel.com"),
                                                         self.todo("summer@the-smiths.com"),
                                                         self.todo("summer@the-smiths.com")], subject=summer)
        self.assertEqual([False, True], self.decisions(response))

    def test_bad_semantic_and_options(self):
        self.assertError(self.batch("all_of_them", [self.todo("x")]), 400, "options.evaluations_semantic",
                         "all_of_them")
        body = {"options": 3, "evaluations": [evaluation()]}
        self.assertError(self.post("/access/v1/evaluations", body), 400, "options: must be an object")
        body = {"evaluations": {"a": 1}}
        self.assertError(self.post("/access/v1/evaluations", body), 400, "evaluations: must be an array")
        body = {"subject": "rick", "evaluations": [evaluation()]}
        self.assertError(self.post("/access/v1/evaluations", body), 400, "subject: must be an object")

    def test_without_evaluations_it_is_one_evaluation(self):
        for extra in ({}, {"evaluations": []}):
            body = dict(evaluation(), **extra)
            response = self.post("/access/v1/evaluations", body)
            self.assertEqual(200, response.status, response.body)
            self.assertIs(True, response.json()["decision"])
            self.assertNotIn("evaluations", response.json())
        self.assertError(self.post("/access/v1/evaluations", {"evaluations": []}), 400, "subject: is required")

    def test_items_override_defaults_entity_by_entity(self):
        body = {"subject": {"type": "user", "id": BETH_PID}, "action": {"name": "can_read_todos"},
                "resource": {"type": "todo", "id": "todo-1"},
                "evaluations": [{}, {"action": {"name": "can_create_todo"}},
                                {"subject": {"type": "user", "id": RICK_PID}, "action": {"name": "can_create_todo"}}]}
        response = self.post("/access/v1/evaluations", body)
        self.assertEqual([True, False, True], self.decisions(response))
        self.assertEqual(1, response.json()["context"]["revision"])


class Search(EdgeOnFolder):
    FOLDER = SEARCH
    ARGS = ("--max-page-size", "7")

    def search(self, kind, body, headers=None):
        response = self.post(f"/access/v1/search/{kind}", body, headers)
        self.assertEqual(200, response.status, response.body)
        return response.json()

    def all_pages(self, kind, body):
        results, token, pages = [], None, 0
        while True:
            request = dict(body)
            if token:
                request["page"] = dict(body.get("page", {}), token=token)
            answer = self.search(kind, request)
            pages += 1
            self.assertEqual(len(answer["results"]), answer["page"]["count"])
            results += answer["results"]
            token = answer["page"]["next_token"]
            if not token:
                return results, pages

    def test_resource_search_pages_through_every_record(self):
        body = {"subject": {"type": "user", "id": "alice"}, "action": {"name": "view"}, "resource": {"type": "record"},
                "page": {"limit": 3}}
        results, pages = self.all_pages("resource", body)
        self.assertEqual([{"type": "record", "id": r} for r in RECORDS], results)
        self.assertEqual(7, pages)
        # without a limit the edge's bound (--max-page-size 7) applies; a larger limit is capped
        for page in ({}, {"limit": 1000}):
            answer = self.search("resource", dict(body, page=page))
            self.assertEqual(7, len(answer["results"]))
            self.assertTrue(answer["page"]["next_token"])

    def test_bad_page_tokens(self):
        body = {"subject": {"type": "user", "id": "alice"}, "action": {"name": "view"}, "resource": {"type": "record"},
                "page": {"limit": 2}}
        for token in ("zzz", "w1" + "0" * 16 + "q1", "not a token at all!"):
            response = self.post("/access/v1/search/resource", dict(body, page={"limit": 2, "token": token}))
            self.assertError(response, 400, "page.token: malformed")
        token = self.search("resource", body)["page"]["next_token"]
        changed = dict(body, action={"name": "edit"}, page={"limit": 2, "token": token})
        self.assertError(self.post("/access/v1/search/resource", changed), 400, "page.token: belongs to a different")
        self.assertError(self.post("/access/v1/search/resource", dict(body, page={"token": 5})), 400,
                         "page.token: must be a string")
        self.assertError(self.post("/access/v1/search/resource", dict(body, page={"limit": -1})), 400,
                         "page.limit: must be a non-negative integer")
        self.assertError(self.post("/access/v1/search/resource", dict(body, page="next")), 400,
                         "page: must be an object")

    def test_search_errors_name_the_field(self):
        self.assertError(self.post("/access/v1/search/subject", {"subject": {"type": "user"},
                                                                 "resource": {"type": "record", "id": "101"}}),
                         400, "action: is required")
        self.assertError(self.post("/access/v1/search/subject", {"subject": {"type": "user"},
                                                                 "action": {"name": "view"},
                                                                 "resource": {"type": "record"}}),
                         400, "resource.id: is required")
        self.assertError(self.post("/access/v1/search/resource", {"subject": {"type": "user"},
                                                                  "action": {"name": "view"},
                                                                  "resource": {"type": "record"}}),
                         400, "subject.id: is required")
        self.assertError(self.post("/access/v1/search/action", {"subject": {"type": "user", "id": "alice"}}),
                         400, "resource: is required")

    def test_unknown_types_and_subjects_find_nothing(self):
        self.assertEqual([], self.search("subject", {"subject": {"type": "spaceship"}, "action": {"name": "view"},
                                                     "resource": {"type": "record", "id": "101"}})["results"])
        self.assertEqual([], self.search("action", {"subject": {"type": "user", "id": "nonexistent-user"},
                                                    "resource": {"type": "record", "id": "101"}})["results"])
        self.assertEqual([], self.search("resource", {"subject": {"type": "user", "id": "alice"},
                                                      "action": {"name": "view"},
                                                      "resource": {"type": "galaxy"}})["results"])

    def test_searches_agree_with_evaluations(self):
        """Every search result is a permit and every permit is found: all 6x20x3 combinations."""
        permits = set()
        for user in USERS:
            body = {"subject": {"type": "user", "id": user},
                    "evaluations": [{"action": {"name": a}, "resource": {"type": "record", "id": r}}
                                    for a in ("view", "edit", "delete") for r in RECORDS[:7]]}
            for chunk in (RECORDS[:7], RECORDS[7:14], RECORDS[14:]):
                body["evaluations"] = [{"action": {"name": a}, "resource": {"type": "record", "id": r}}
                                       for a in ("view", "edit", "delete") for r in chunk]
                response = self.post("/access/v1/evaluations", body)
                self.assertEqual(200, response.status, response.body)
                for item, answer in zip(body["evaluations"], response.json()["evaluations"]):
                    if answer["decision"]:
                        permits.add((user, item["action"]["name"], item["resource"]["id"]))
        self.assertGreater(len(permits), 40)
        found = set()
        for user in USERS:
            for action in ("view", "edit", "delete"):
                results, _ = self.all_pages("resource", {"subject": {"type": "user", "id": user},
                                                         "action": {"name": action}, "resource": {"type": "record"}})
                found |= {(user, action, r["id"]) for r in results}
        self.assertEqual(permits, found)
        by_subject, by_action = set(), set()
        for record in RECORDS:
            for action in ("view", "edit", "delete"):
                results, _ = self.all_pages("subject", {"subject": {"type": "user"}, "action": {"name": action},
                                                        "resource": {"type": "record", "id": record}})
                by_subject |= {(r["id"], action, record) for r in results}
            for user in USERS:
                results, _ = self.all_pages("action", {"subject": {"type": "user", "id": user},
                                                       "resource": {"type": "record", "id": record}})
                by_action |= {(user, r["name"], record) for r in results}
        self.assertEqual(permits, by_subject)
        self.assertEqual(permits, by_action)

    def test_request_properties_join_the_search(self):
        # felix (Accounting) may view Legal records only when the request says he is in Legal
        body = {"subject": {"type": "user", "id": "felix", "properties": {"department": "Legal"}},
                "action": {"name": "view"}, "resource": {"type": "record"}}
        results, _ = self.all_pages("resource", body)
        self.assertIn({"type": "record", "id": "101"}, results)
        self.assertIn({"type": "record", "id": "106"}, results)  # and still his own


class ManifestSearch(EdgeOnFolder):
    """Types no policy covers: the directory's lookups answer searches."""

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="warden-authzen-")
        with open(os.path.join(cls.folder, "manifest.yaml"), "w") as f:
            f.write("types:\n  user: {}\n  identity:\n    relations:\n      identifier: user\n"
                    "  group:\n    relations:\n      member: user | group#member\n"
                    "  doc:\n    relations:\n      owner: user\n      viewer: user | group#member\n"
                    "    permissions:\n      can_view: viewer | owner\n      can_edit: owner\n")
        os.mkdir(os.path.join(cls.folder, "data"))
        rel = lambda ot, oi, r, st, si, sr=None: dict(
            {"object_type": ot, "object_id": oi, "relation": r, "subject_type": st, "subject_id": si},
            **({"subject_relation": sr} if sr else {}))
        lines = [{"type": "user", "id": u} for u in ("ann", "ben", "cal")]
        lines += [{"type": "doc", "id": d} for d in ("d1", "d2", "d3")]
        lines += [{"type": "identity", "id": "ann@example.com"},
                  rel("identity", "ann@example.com", "identifier", "user", "ann"),
                  rel("group", "eng", "member", "user", "ben"),
                  rel("doc", "d1", "owner", "user", "ann"),
                  rel("doc", "d2", "viewer", "group", "eng", "member"),
                  rel("doc", "d3", "viewer", "user", "ann")]
        with open(os.path.join(cls.folder, "data", "all.jsonl"), "w") as f:
            f.write("\n".join(json.dumps(line) for line in lines) + "\n")
        cls.FOLDER = cls.folder
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.folder)

    def search(self, kind, body):
        response = self.post(f"/access/v1/search/{kind}", body)
        self.assertEqual(200, response.status, response.body)
        return response.json()["results"]

    def test_lookups_answer_and_agree_with_evaluations(self):
        self.assertEqual([{"type": "doc", "id": "d1"}, {"type": "doc", "id": "d3"}],
                         self.search("resource", {"subject": {"type": "user", "id": "ann@example.com"},
                                                  "action": {"name": "can_view"}, "resource": {"type": "doc"}}))
        self.assertEqual([{"type": "user", "id": "ben"}],
                         self.search("subject", {"subject": {"type": "user"}, "action": {"name": "can_view"},
                                                 "resource": {"type": "doc", "id": "d2"}}))
        actions = self.search("action", {"subject": {"type": "user", "id": "ann"},
                                         "resource": {"type": "doc", "id": "d1"}})
        self.assertEqual([{"name": "can_edit"}, {"name": "can_view"}, {"name": "owner"}], actions)
        for user in ("ann", "ben", "cal"):
            for doc in ("d1", "d2", "d3"):
                response = self.post("/access/v1/evaluation", {"subject": {"type": "user", "id": user},
                                                               "action": {"name": "can_view"},
                                                               "resource": {"type": "doc", "id": doc}})
                found = {"type": "user", "id": user} in self.search(
                    "subject", {"subject": {"type": "user"}, "action": {"name": "can_view"},
                                "resource": {"type": "doc", "id": doc}})
                self.assertEqual(response.json()["decision"], found, f"{user} can_view {doc}")

    def test_unknown_permission_finds_nothing(self):
        self.assertEqual([], self.search("resource", {"subject": {"type": "user", "id": "ann"},
                                                      "action": {"name": "can_fly"}, "resource": {"type": "doc"}}))


if __name__ == "__main__":
    unittest.main()
