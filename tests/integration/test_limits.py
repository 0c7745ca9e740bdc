"""Hostile-input limits at the real edge: each limit is an option, each refusal a clear error that
names the limit, none a crash or a hang, and the edge keeps answering afterwards.

Covered here: graph depth and fan-out, CEL evaluation cost, expression nesting, JSON nesting,
batch size, body and header size, open connections and slow clients. (Control-plane write
limits are in test_control_plane_durability.py.)"""
import json
import os
import shutil
import socket
import tempfile
import time
import unittest

import harness
from harness import WardenTestCase

MANIFEST = """\
model:
  version: 3
types:
  user: {}
  group:
    relations:
      member: user | group#member
  folder:
    relations:
      parent: folder
      viewer: user | group#member
    permissions:
      can_view: viewer | parent->can_view
"""

# The condition costs a few hundred CEL units at run time (it reads P, so nothing folds at compile
# time): well inside the default budget, far past 50.
COSTLY_POLICY = """\
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: report
  rules:
    - actions: ["read"]
      effect: EFFECT_ALLOW
      roles: ["analyst"]
      condition:
        match:
          expr: size([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(x, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(y, x * y + size(P.roles)))) == 10
"""

CHAIN = 30      # folders f0 <- f1 <- ... <- f29; alice views f0, so f29 is 30 hops away
SUBGROUPS = 40  # group `big` has 40 empty subgroups: a check through it visits them all


def write_folder(root, policy=COSTLY_POLICY):
    os.makedirs(os.path.join(root, "data"))
    os.makedirs(os.path.join(root, "policies"))
    with open(os.path.join(root, "manifest.yaml"), "w") as f:
        f.write(MANIFEST)
    with open(os.path.join(root, "policies", "report.yaml"), "w") as f:
        f.write(policy)
    lines = [{"type": "user", "id": "alice"}, {"type": "user", "id": "bob"}, {"type": "group", "id": "big"}]
    lines += [{"type": "folder", "id": f"f{i}"} for i in range(CHAIN)]
    lines.append({"object_type": "folder", "object_id": "f0", "relation": "viewer",
                  "subject_type": "user", "subject_id": "alice"})
    for i in range(1, CHAIN):
        lines.append({"object_type": "folder", "object_id": f"f{i}", "relation": "parent",
                      "subject_type": "folder", "subject_id": f"f{i - 1}"})
    lines += [{"type": "folder", "id": "shared"},
              {"object_type": "folder", "object_id": "shared", "relation": "viewer",
               "subject_type": "group", "subject_id": "big", "subject_relation": "member"}]
    for i in range(SUBGROUPS):
        lines += [{"type": "group", "id": f"g{i}"},
                  {"object_type": "group", "object_id": "big", "relation": "member",
                   "subject_type": "group", "subject_id": f"g{i}", "subject_relation": "member"}]
    with open(os.path.join(root, "data", "data.jsonl"), "w") as f:
        f.write("\n".join(json.dumps(line) for line in lines) + "\n")


def evaluation(resource_type, resource_id, action, subject="alice", roles=None):
    subject_entity = {"type": "user", "id": subject}
    if roles is not None:
        subject_entity["properties"] = {"roles": roles}
    return {"subject": subject_entity, "action": {"name": action},
            "resource": {"type": resource_type, "id": resource_id}}


class LimitsTest(WardenTestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="warden-limits-")
        self.addCleanup(shutil.rmtree, self.folder)
        write_folder(self.folder)

    def edge(self, *args):
        edge = self.start("warden-edge", "--data", self.folder, "--listen", "127.0.0.1:0", *args)
        edge.wait_ready()
        return edge

    def post(self, edge, path, body, headers=None):
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
        return edge.request("POST", path, body=body if isinstance(body, str) else json.dumps(body), headers=headers)

    def assert_error(self, response, status, *fragments):
        self.assertEqual(status, response.status, response.body)
        message = response.json()["error"]["message"]
        for fragment in fragments:
            self.assertIn(fragment, message)

    def test_graph_depth_is_bounded_and_named(self):
        edge = self.edge("--max-graph-depth", "8")
        near = self.post(edge, "/access/v1/evaluation", evaluation("folder", "f3", "can_view"))
        self.assertEqual(200, near.status, near.body)
        self.assertTrue(near.json()["decision"])
        far = self.post(edge, "/access/v1/evaluation", evaluation("folder", f"f{CHAIN - 1}", "can_view"))
        self.assert_error(far, 413, "depth limit of 8")
        check = self.post(edge, "/api/v3/directory/check",
                          {"object_type": "folder", "object_id": f"f{CHAIN - 1}", "relation": "can_view",
                           "subject_type": "user", "subject_id": "alice"})
        self.assert_error(check, 413, "depth limit of 8")
        # The default bound lets the same walk through.
        roomy = self.edge()
        far = self.post(roomy, "/access/v1/evaluation", evaluation("folder", f"f{CHAIN - 1}", "can_view"))
        self.assertEqual(200, far.status, far.body)
        self.assertTrue(far.json()["decision"])

    def test_graph_fan_out_is_bounded_and_named(self):
        edge = self.edge("--max-graph-visits", "20")
        wide = self.post(edge, "/access/v1/evaluation", evaluation("folder", "shared", "can_view", subject="bob"))
        self.assert_error(wide, 413, "fan-out limit of 20")
        narrow = self.post(edge, "/access/v1/evaluation", evaluation("folder", "f0", "can_view"))
        self.assertTrue(narrow.json()["decision"])
        roomy = self.edge()
        wide = self.post(roomy, "/access/v1/evaluation", evaluation("folder", "shared", "can_view", subject="bob"))
        self.assertEqual(200, wide.status, wide.body)
        self.assertFalse(wide.json()["decision"])

    def test_evaluation_cost_makes_the_condition_not_hold(self):
        cheap = self.edge("--max-eval-cost", "50")
        body = evaluation("report", "r1", "read", roles=["analyst"])
        denied = self.post(cheap, "/access/v1/evaluation", body)
        self.assertEqual(200, denied.status, denied.body)
        self.assertFalse(denied.json()["decision"])
        cerbos = self.post(cheap, "/api/check/resources", {
            "requestId": "cost", "principal": {"id": "alice", "roles": ["analyst"]},
            "resources": [{"actions": ["read"], "resource": {"kind": "report", "id": "r1"}}]})
        self.assertEqual(200, cerbos.status, cerbos.body)
        self.assertEqual("EFFECT_DENY", cerbos.json()["results"][0]["actions"]["read"])
        roomy = self.edge()
        self.assertTrue(self.post(roomy, "/access/v1/evaluation", body).json()["decision"])

    def test_limit_options_out_of_range_are_refused_at_start(self):
        for option, value in (("--max-graph-depth", "0"), ("--max-graph-visits", "0"), ("--max-eval-cost", "-1"),
                              ("--max-expression-depth", "401"), ("--max-expression-length", "0"),
                              ("--max-json-depth", "0"), ("--max-json-depth", "1001")):
            result = self.run_binary("warden-edge", "--data", self.folder, "--listen", "127.0.0.1:0", option, value)
            self.assertEqual(2, result.returncode, result.stderr)
            self.assertIn(option.lstrip("-"), result.stderr)

    def test_expression_nested_too_deep_is_refused_with_file_and_position(self):
        # Each parenthesis is one level of the parser's nesting: 250 levels, over the default 200.
        deep = "(" * 250 + "true" + ")" * 250
        shutil.rmtree(self.folder)
        write_folder(self.folder, COSTLY_POLICY.replace(
            "size([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(x, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(y, x * y + size(P.roles)))) == 10", deep))
        result = self.run_binary("warden-edge", "--data", self.folder, "--listen", "127.0.0.1:0")
        self.assertEqual(2, result.returncode, result.stderr)
        self.assertIn("report.yaml", result.stderr)
        self.assertIn("nested deeper than", result.stderr)
        # Raised within the hard cap of 400, the same policy loads and decides.
        roomy = self.edge("--max-expression-depth", "350")
        body = evaluation("report", "r1", "read", roles=["analyst"])
        self.assertTrue(self.post(roomy, "/access/v1/evaluation", body).json()["decision"])

    def test_expression_longer_than_the_limit_is_refused(self):
        result = self.run_binary("warden-edge", "--data", self.folder, "--listen", "127.0.0.1:0",
                                 "--max-expression-length", "40")
        self.assertEqual(2, result.returncode, result.stderr)
        self.assertIn("report.yaml", result.stderr)
        self.assertIn("longer than the limit of 40", result.stderr)

    def test_json_nesting_and_batch_size(self):
        edge = self.edge("--max-batch", "3")
        nested = self.post(edge, "/access/v1/evaluation", "[" * 5000 + "]" * 5000)
        self.assert_error(nested, 400, "nest")
        # A real request whose context nests 6 deep: within the default, over --max-json-depth 5.
        deep_context = {**evaluation("folder", "f0", "can_view"), "context": {"a": {"b": {"c": {"d": {}}}}}}
        self.assertEqual(200, self.post(edge, "/access/v1/evaluation", deep_context).status)
        shallow = self.edge("--max-json-depth", "5")
        self.assert_error(self.post(shallow, "/access/v1/evaluation", deep_context), 400, "nest")
        self.assertTrue(self.post(shallow, "/access/v1/evaluation", evaluation("folder", "f0", "can_view")).json()["decision"])
        batch = {"evaluations": [evaluation("folder", "f0", "can_view")] * 4}
        self.assert_error(self.post(edge, "/access/v1/evaluations", batch), 413, "limit of 3")
        batch["evaluations"] = batch["evaluations"][:3]
        self.assertEqual(200, self.post(edge, "/access/v1/evaluations", batch).status)

    def test_body_and_header_sizes(self):
        edge = self.edge("--max-body", "2KiB", "--max-header", "1KiB")
        big_body = json.dumps({**evaluation("folder", "f0", "can_view"), "context": {"pad": "x" * 3000}})
        self.assertEqual(413, self.post(edge, "/access/v1/evaluation", big_body).status)
        big_header = self.post(edge, "/access/v1/evaluation", evaluation("folder", "f0", "can_view"),
                               headers={"X-Padding": "y" * 2000})
        self.assertEqual(431, big_header.status)
        fine = self.post(edge, "/access/v1/evaluation", evaluation("folder", "f0", "can_view"))
        self.assertTrue(fine.json()["decision"])

    def test_framing_a_proxy_could_read_differently_is_refused(self):
        edge = self.edge()

        def exchange(raw):
            sock = harness.raw_connection(edge.host, edge.port)
            sock.settimeout(5)
            try:
                sock.sendall(raw)
                answer = b""
                while chunk := sock.recv(65536):  # the edge closes after refusing: read to the end
                    answer += chunk
                return answer
            finally:
                sock.close()

        smuggled = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
        body = b"5\r\nhello\r\n0\r\n\r\n"
        cases = [
            (b"Transfer-Encoding: chunked, identity\r\n", b"400", b"chunked must be the final coding"),
            (b"Transfer-Encoding: gzip, chunked\r\n", b"501", b"only chunked alone"),
            (b"Transfer-Encoding: identity\r\n", b"501", b"'identity' is not implemented"),
            (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", b"400", b"Transfer-Encoding"),
            (b"Transfer-Encoding: chunked\r\nContent-Length: 15\r\n", b"400", b"Content-Length"),
            (b"X-Folded: a\r\n  b\r\n", b"400", b"obs-fold"),
        ]
        for headers, status, reason in cases:
            answer = exchange(b"POST /access/v1/evaluation HTTP/1.1\r\nHost: t\r\n" + headers + b"\r\n" + body + smuggled)
            self.assertTrue(answer.startswith(b"HTTP/1.1 " + status), (headers, answer[:200]))
            self.assertIn(reason, answer, headers)
            self.assertEqual(1, answer.count(b"HTTP/1.1 "), (headers, answer))  # the smuggled request got no answer
        # Bytes that cannot begin a header block (a TLS ClientHello on the plain port) are answered
        # at once, not held until the read timeout (10 s) while the edge waits for a header's end.
        answer = exchange(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03")
        self.assertTrue(answer.startswith(b"HTTP/1.1 400"), answer[:200])
        # Plain chunked framing is still read.
        good = json.dumps(evaluation("folder", "f0", "can_view")).encode()
        answer = exchange(b"POST /access/v1/evaluation HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                          b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                          hex(len(good))[2:].encode() + b"\r\n" + good + b"\r\n0\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 200"), answer[:200])

    def test_connections_beyond_the_limit_get_503_and_slow_clients_are_cut_off(self):
        edge = self.edge("--max-connections", "2", "--read-timeout", "300ms")
        held = [harness.raw_connection(edge.host, edge.port) for _ in range(2)]
        self.addCleanup(lambda: [s.close() for s in held])
        for s in held:  # each starts a request and never finishes it
            s.sendall(b"POST /access/v1/evaluation HTTP/1.1\r\nHost: t\r\n")
        third = harness.raw_connection(edge.host, edge.port)
        self.addCleanup(third.close)
        third.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        self.assertTrue(third.recv(4096).startswith(b"HTTP/1.1 503"))
        # The slow ones are closed at the read timeout, which frees their slots.
        for s in held:
            s.settimeout(5)
            started = time.monotonic()
            while s.recv(4096):
                pass
            self.assertLess(time.monotonic() - started, 5)
        harness.wait_until(lambda: edge.request("GET", "/healthz").status == 200, timeout=10,
                           message="the edge answers again once the slow clients are gone")


if __name__ == "__main__":
    unittest.main()


class ControlPlaneExpressionLimitsTest(WardenTestCase):
    """The control plane refuses a policy over its expression limits, storing nothing."""

    TOKEN = "limits-admin-token"

    def test_policy_over_the_expression_limits_is_refused_and_nothing_stored(self):
        db = os.path.join(tempfile.mkdtemp(prefix="warden-limits-cp-"), "store.db")
        self.addCleanup(shutil.rmtree, os.path.dirname(db))
        cp = self.start("warden-control-plane", "--db", db, "--listen", "127.0.0.1:0",
                        "--max-expression-depth", "20", "--max-expression-length", "200",
                        env={"WARDEN_ADMIN_TOKEN": self.TOKEN})
        headers = {"Authorization": "Bearer " + self.TOKEN, "Content-Type": "application/json"}

        def put_policy(expr):
            text = COSTLY_POLICY.replace(COSTLY_POLICY.split("expr: ")[1].strip(), expr)
            return cp.request("PUT", "/v1/policies/report.yaml", body=json.dumps({"text": text}), headers=headers)

        before = cp.request("GET", "/v1/revision", headers=headers).json()["revision"]
        deep = put_policy("(" * 30 + "true" + ")" * 30)
        self.assertEqual(400, deep.status, deep.body)
        self.assertIn("nested deeper than", deep.body)
        long = put_policy(" || ".join(["P.id == 'someone'"] * 20))
        self.assertEqual(400, long.status, long.body)
        self.assertIn("longer than the limit of 200", long.body)
        self.assertEqual(before, cp.request("GET", "/v1/revision", headers=headers).json()["revision"])
        self.assertEqual(404, cp.request("GET", "/v1/policies/report.yaml", headers=headers).status)
        fine = put_policy("(" * 5 + "true" + ")" * 5)
        self.assertEqual(200, fine.status, fine.body)
        self.assertEqual(before + 1, fine.json()["revision"])
