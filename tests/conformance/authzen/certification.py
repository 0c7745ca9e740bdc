#!/usr/bin/env python3
"""The AuthZEN Authorization API 1.0 certification profile, replayed at a PDP serving the fixture
in certification_fixture/ (openid/authzen certification/authorization-api-1_0-scenario.md:
levels Basic, Batch, Search and Discovery, with the test ids used there).

usage: certification.py BASE_URL [--scenario certification] [-v]

Prints one line per failing case (every case with -v), then 'N passed, M failed, K skipped'.
Exit status 0 only when nothing failed.
"""
import argparse
import json
import sys
import urllib.error
import urllib.request

ALICE = {"type": "user", "id": "alice"}
BOB = {"type": "user", "id": "bob"}
BOB_ADMIN = {"type": "user", "id": "bob", "properties": {"role": "admin"}}
R1 = {"type": "record", "id": "record-1"}
R2 = {"type": "record", "id": "record-2"}
R2_ARCHIVED = {"type": "record", "id": "record-2", "properties": {"status": "archived"}}
READ, WRITE = {"name": "read"}, {"name": "write"}


class Pdp:
    def __init__(self, base):
        self.base = base.rstrip("/")

    def call(self, method, path, body=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        hdrs.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, headers=hdrs, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, payload, rhdrs = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as e:
            status, payload, rhdrs = e.code, e.read(), e.headers
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = None
        return status, parsed, rhdrs


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def decision(pdp, body, want=None, path="/access/v1/evaluation"):
    status, got, headers = pdp.call("POST", path, body)
    expect(status == 200, f"status {status}: {got}")
    expect(headers.get("Content-Type", "").startswith("application/json"), "response is not application/json")
    expect(isinstance(got, dict) and isinstance(got.get("decision"), bool), f"no boolean decision: {got}")
    expect("context" not in got or isinstance(got["context"], dict), "context is not an object")
    if want is not None:
        expect(got["decision"] is want, f"decision {got['decision']}, want {want}")


def batch(pdp, body, want):
    status, got, _ = pdp.call("POST", "/access/v1/evaluations", body)
    expect(status == 200, f"status {status}: {got}")
    items = got.get("evaluations")
    expect(isinstance(items, list) and len(items) == len(want), f"want {len(want)} evaluations: {got}")
    for item, w in zip(items, want):
        expect(isinstance(item.get("decision"), bool), f"no boolean decision in {item}")
        if w is not None:
            expect(item["decision"] is w, f"decisions {[i['decision'] for i in items]}, want {want}")
    return items


def bad_request(pdp, path, body=None, raw=None, headers=None):
    status, got, _ = pdp.call("POST", path, body, headers=headers, raw=raw)
    expect(status == 400, f"status {status}, want 400: {got}")


def search(pdp, kind, body, must_include=(), key="id"):
    status, got, _ = pdp.call("POST", f"/access/v1/search/{kind}", body)
    expect(status == 200, f"status {status}: {got}")
    results = got.get("results")
    expect(isinstance(results, list), f"no results array: {got}")
    names = {r.get(key) for r in results}
    for wanted in must_include:
        expect(wanted in names, f"{wanted} missing from {sorted(names)}")
    if "page" in got:
        expect(isinstance(got["page"], dict) and isinstance(got["page"].get("next_token", ""), str), "bad page")
    return got


def cases(pdp):
    ev = "/access/v1/evaluation"
    yield "c-2-2-1", lambda: decision(pdp, {"subject": ALICE, "action": READ, "resource": R1}, True)
    yield "c-2-2-2", lambda: decision(pdp, {"subject": BOB, "action": WRITE, "resource": R1}, False)
    yield "c-2-2-3", lambda: decision(pdp, {"subject": ALICE, "action": READ, "resource": R1,
                                            "context": {"time": "2025-06-27T18:03-07:00", "ip": "192.168.1.1"}}, True)
    yield "c-2-2-4", lambda: decision(pdp, {"subject": ALICE, "action": WRITE, "resource": R2_ARCHIVED}, False)
    yield "c-2-2-5", lambda: decision(pdp, {"subject": BOB_ADMIN, "action": WRITE, "resource": R2_ARCHIVED}, True)
    yield "c-2-2-6", lambda: decision(pdp, {  # rule 7: a soft delete is permitted
        "subject": ALICE, "action": {"name": "delete", "properties": {"soft": True}}, "resource": R1}, True)
    yield "c-2-2-7", lambda: decision(pdp, {  # rule 8: a delete that is not soft is not
        "subject": ALICE, "action": {"name": "delete", "properties": {"soft": False}}, "resource": R1}, False)
    yield "c-2-2-8", lambda: decision(pdp, {
        "subject": dict(ALICE, properties={"department": "Sales", "role": "manager"}),
        "action": {"name": "read", "properties": {"method": "GET"}},
        "resource": dict(R1, properties={"status": "active", "owner": "bob"})}, True)
    yield "c-2-2-9", lambda: decision(pdp, {"subject": ALICE, "action": READ, "resource": R1, "foo": "bar",
                                            "futureField": {"nested": True}}, True)
    for name, body in (("subject", {"action": READ, "resource": R1}), ("action", {"subject": ALICE, "resource": R1}),
                       ("resource", {"subject": ALICE, "action": READ})):
        yield f"c-2-4-1 missing {name}", lambda body=body: bad_request(pdp, ev, body)
    for name, body in (
            ("subject.type", {"subject": {"id": "alice"}, "action": READ, "resource": R1}),
            ("subject.id", {"subject": {"type": "user"}, "action": READ, "resource": R1}),
            ("action.name", {"subject": ALICE, "action": {}, "resource": R1}),
            ("resource.type", {"subject": ALICE, "action": READ, "resource": {"id": "record-1"}}),
            ("resource.id", {"subject": ALICE, "action": READ, "resource": {"type": "record"}})):
        yield f"c-2-4-2 missing {name}", lambda body=body: bad_request(pdp, ev, body)
    good = json.dumps({"subject": ALICE, "action": READ, "resource": R1}).encode()
    yield "c-2-4-3", lambda: bad_request(pdp, ev, raw=good, headers={"Content-Type": "text/plain"})
    yield "c-2-4-4", lambda: bad_request(pdp, ev, raw=b'{"subject": {', headers={"Content-Type": "application/json"})
    yield "c-2-4-5", lambda: bad_request(pdp, ev, raw=b"", headers={"Content-Type": "application/json"})
    yield "c-2-4-6 subject string", lambda: bad_request(pdp, ev, {"subject": "alice", "action": READ, "resource": R1})
    yield "c-2-4-6 action.name number", lambda: bad_request(pdp, ev, {"subject": ALICE, "action": {"name": 123},
                                                                      "resource": R1})

    def request_id():
        status, _, headers = pdp.call("POST", ev, {"subject": ALICE, "action": READ, "resource": R1},
                                      headers={"X-Request-ID": "bfe9eb29-ab87-4ca3-be83-a1d5d8305716"})
        expect(status == 200 and headers.get("X-Request-ID") == "bfe9eb29-ab87-4ca3-be83-a1d5d8305716",
               f"X-Request-ID not echoed ({status}, {headers.get('X-Request-ID')})")
    yield "c-2-5-1", request_id
    yield "c-2-5-2", lambda: decision(pdp, {"subject": ALICE, "action": READ, "resource": R1}, True)
    yield "c-2-6", lambda: [decision(pdp, {"subject": BOB, "action": WRITE, "resource": R1}, False) for _ in range(5)]

    yield "c-3-2-1", lambda: batch(pdp, {"subject": ALICE, "action": READ,
                                         "evaluations": [{"resource": R1}, {"resource": R2}]}, [None, None])
    yield "c-3-2-2", lambda: batch(pdp, {"subject": BOB, "resource": R1,
                                         "evaluations": [{"action": READ}, {"action": WRITE}]}, [True, False])
    yield "c-3-2-3", lambda: batch(pdp, {"subject": ALICE, "action": WRITE, "evaluations": [
        {"resource": dict(R1, properties={"status": "active"})}, {"resource": R2_ARCHIVED}]}, [True, False])
    yield "c-3-2-4", lambda: batch(pdp, {"action": WRITE, "resource": R2_ARCHIVED, "evaluations": [
        {"subject": ALICE}, {"subject": BOB_ADMIN}]}, [False, True])
    yield "c-3-2-5", lambda: batch(pdp, {"evaluations": [{"subject": ALICE, "action": READ, "resource": R1},
                                                         {"subject": BOB, "action": WRITE, "resource": R1}]},
                                   [True, False])
    yield "c-3-2-6", lambda: batch(pdp, {"subject": ALICE, "action": READ, "context": {"time": "2025-06-27T18:03-07:00"},
                                         "evaluations": [{"resource": R1}, {"resource": R2, "context": {
                                             "time": "2025-06-27T19:00-07:00", "source": "batch-override"}}]},
                                   [None, None])
    yield "c-3-2-7", lambda: batch(pdp, {"subject": ALICE, "action": WRITE,
                                         "resource": dict(R1, properties={"status": "active"}),
                                         "evaluations": [{}, {"resource": R2_ARCHIVED}]}, [True, False])

    def evaluation_level_error():
        items = batch(pdp, {"subject": ALICE, "action": READ, "options": {"evaluations_semantic": "execute_all"},
                            "evaluations": [{"resource": R1}, {}]}, [True, False])
        expect(isinstance(items[1].get("context"), dict), "the failed item has no context")
    yield "c-3-4-1", evaluation_level_error
    yield "c-3-4-2", lambda: decision(pdp, {"subject": ALICE, "action": READ, "resource": R1}, True,
                                      path="/access/v1/evaluations")
    yield "c-3-4-3", lambda: decision(pdp, {"subject": ALICE, "action": READ, "resource": R1, "evaluations": []},
                                      True, path="/access/v1/evaluations")

    user, record = {"type": "user"}, {"type": "record"}
    yield "c-4-2 S1", lambda: search(pdp, "subject", {"subject": user, "action": READ, "resource": R1},
                                     ["alice", "bob"])
    yield "c-4-2 S4", lambda: search(pdp, "subject", {"subject": user, "action": WRITE, "resource": R2_ARCHIVED},
                                     ["bob"])
    yield "c-4-3 S2", lambda: search(pdp, "resource", {"subject": ALICE, "action": READ, "resource": record},
                                     ["record-1"])
    yield "c-4-3 S5", lambda: search(pdp, "resource", {"subject": BOB_ADMIN, "action": WRITE, "resource": record},
                                     ["record-2"])
    yield "c-4-4 S3", lambda: search(pdp, "action", {"subject": ALICE, "resource": R1}, ["read", "write"], "name")
    yield "c-4-4-2", lambda: search(pdp, "action", {"subject": ALICE, "resource": R1, "context": {
        "time": "2025-06-27T18:03-07:00", "ip": "192.168.1.1"}}, ["read", "write"], "name")
    yield "c-4-4 S6", lambda: search(pdp, "action", {"subject": BOB_ADMIN, "resource": R2_ARCHIVED}, ["write"], "name")

    def pagination():
        body = {"subject": user, "action": READ, "resource": R1, "page": {"limit": 1}}
        first = search(pdp, "subject", body)
        expect(len(first["results"]) == 1, f"limit 1 returned {first['results']}")
        token = first["page"]["next_token"]
        expect(token, "two subjects may read record-1, so a limit of 1 leaves a next page")
        second = search(pdp, "subject", dict(body, page={"limit": 1, "token": token}))
        expect(isinstance(second.get("page"), dict) and second["page"].get("next_token") == "", f"{second}")
        expect({r["id"] for r in first["results"] + second["results"]} == {"alice", "bob"}, "pages lost a result")
    yield "c-4-5", pagination

    def empty(kind, body):
        got = search(pdp, kind, body)
        expect(got["results"] == [], f"want no results: {got}")
    yield "c-4-6-1", lambda: empty("action", {"subject": {"type": "user", "id": "nonexistent-user"}, "resource": R1})
    yield "c-4-6-2", lambda: empty("subject", {"subject": {"type": "spaceship"}, "action": READ, "resource": R1})
    yield "c-4-7-1 subject", lambda: bad_request(pdp, "/access/v1/search/subject", {"subject": user, "resource": R1})
    yield "c-4-7-1 resource", lambda: bad_request(pdp, "/access/v1/search/resource", {"action": READ,
                                                                                      "resource": record})
    yield "c-4-7-1 action", lambda: bad_request(pdp, "/access/v1/search/action", {"subject": ALICE})
    yield "c-4-7-2 subject", lambda: bad_request(pdp, "/access/v1/search/subject", {"subject": user, "action": READ,
                                                                                    "resource": record})
    yield "c-4-7-2 resource", lambda: bad_request(pdp, "/access/v1/search/resource", {"subject": user, "action": READ,
                                                                                      "resource": record})
    yield "c-4-7-2 action", lambda: bad_request(pdp, "/access/v1/search/action", {"subject": user, "resource": R1})

    def metadata():
        status, meta, headers = pdp.call("GET", "/.well-known/authzen-configuration")
        expect(status == 200 and headers.get("Content-Type", "").startswith("application/json"), f"status {status}")
        expect(meta.get("policy_decision_point") == pdp.base, f"{meta.get('policy_decision_point')} != {pdp.base}")
        for key in ("access_evaluation_endpoint", "access_evaluations_endpoint", "search_subject_endpoint",
                    "search_resource_endpoint", "search_action_endpoint"):
            expect(str(meta.get(key, "")).startswith(pdp.base + "/access/v1/"), f"{key}: {meta.get(key)}")
        expect("capabilities" not in meta or isinstance(meta["capabilities"], list), "capabilities")
    yield "c-6", metadata


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base_url")
    ap.add_argument("--scenario", default="certification", choices=["certification"])
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    pdp = Pdp(args.base_url)
    passed = failed = skipped = 0
    for test_id, run in cases(pdp):
        if run is None:
            skipped += 1
            if args.verbose:
                print(f"SKIP {test_id}")
            continue
        try:
            run()
            passed += 1
            if args.verbose:
                print(f"PASS {test_id}")
        except AssertionError as e:
            failed += 1
            print(f"FAIL {test_id}: {e}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
