"""Decision logs end to end (docs/decision-logs.md): every decision an edge makes reaches the
control plane exactly once, with its fields and masking, across a control-plane outage, a lost
acknowledgement, kill -9 of either side, and a spool bound hit on purpose."""
import http.client
import json
import os
import re
import shutil
import socket
import signal
import tempfile
import time
import unittest

from harness import SOURCE_DIR, WardenTestCase, wait_until

TOKEN = "decision-admin-token"
DRIVE = os.path.join(SOURCE_DIR, "examples", "drive")



class Checker:
    """Checks at an edge over one keep-alive connection."""

    def __init__(self, edge):
        self.edge = edge
        self.conn = http.client.HTTPConnection(edge.host, edge.port, timeout=10)

    def check(self, user, document, request_id=None):
        headers = {"Content-Type": "application/json"}
        if request_id:
            headers["X-Request-Id"] = request_id
        body = json.dumps({"subject": {"type": "user", "id": user}, "action": {"name": "can_view"},
                           "resource": {"type": "document", "id": document}})
        self.conn.request("POST", "/access/v1/evaluation", body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        assert response.status == 200, data
        return json.loads(data)["decision"]

    def close(self):
        self.conn.close()


class DecisionLogs(WardenTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="warden-decisions-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.db = os.path.join(self.dir, "store.db")

    def start_control_plane(self, listen="127.0.0.1:0", env=None):
        full_env = {"WARDEN_ADMIN_TOKEN": TOKEN}
        full_env.update(env or {})
        return self.start("warden-control-plane", "--db", self.db, "--listen", listen, env=full_env)

    def ctl(self, cp, *args):
        result = self.run_binary("wardenctl", *args, "--json", env={"WARDEN_URL": cp.url, "WARDEN_TOKEN": TOKEN})
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def setup_store(self, cp):
        self.ctl(cp, "push", DRIVE)
        created = self.ctl(cp, "keys", "create", "logging-edges")[0]
        self.key = os.path.join(self.dir, "edge.key")
        with open(self.key, "w") as f:
            f.write(created["key"] + "\n")

    def start_edge(self, cp_url, *extra):
        edge = self.start("warden-edge", "--control-plane", cp_url, "--key-file", self.key, "--replica",
                          os.path.join(self.dir, "replica.db"), "--listen", "127.0.0.1:0",
                          "--decision-log-flush", "200ms", *extra)
        edge.wait_ready()
        return edge

    def stored(self, cp, **filters):
        """Every stored entry matching `filters`, following cursors."""
        out = []
        cursor = None
        while True:
            query = "&".join(f"{k}={v}" for k, v in {**filters, "limit": 1000}.items())
            if cursor:
                query += "&cursor=" + cursor
            response = cp.request("GET", "/v1/decisions?" + query, headers={"Authorization": "Bearer " + TOKEN})
            assert response.status == 200, response.body
            page = response.json()
            out.extend(page["decisions"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out

    def metric(self, process, name):
        body = process.request("GET", "/metrics").body
        match = re.search(r"^" + re.escape(name) + r" (\S+)$", body, re.M)
        return float(match.group(1)) if match else None

    def decision_log_status(self, edge):
        return edge.request("GET", "/v1/status").json()["decision_log"]

    def test_a_thousand_checks_arrive_exactly_once_with_their_fields_and_masking(self):
        cp = self.start_control_plane()
        self.setup_store(cp)
        edge = self.start_edge(cp.url, "--decision-log-mask", "/request_id", "--decision-log-drop", "/reason")
        checker = Checker(edge)
        allowed = 0
        for i in range(1000):
            user = "ada" if i % 4 else "eve"  # ada may view the roadmap, eve is banned from it
            allowed += checker.check(user, "roadmap", request_id=f"secret-{i}")
        checker.close()
        instance = self.decision_log_status(edge)["instance_id"]
        # One identity: the log's instance is the edge's, in its status and at the control plane.
        self.assertEqual(instance, edge.request("GET", "/v1/status").json()["instance_id"])
        self.assertEqual(instance, edge.request("GET", "/v1/status").json()["sync"]["instance_id"])
        entries = wait_until(lambda: (e := self.stored(cp, edge=instance)) and len(e) >= 1000 and e,
                             message="1000 entries at the control plane")
        self.assertEqual(1000, len(entries))
        self.assertEqual(list(range(1, 1001)), sorted(e["sequence"] for e in entries))
        self.assertEqual(allowed, sum(1 for e in entries if e["decision"] == "allow"))
        sample = next(e for e in entries if e["subject"]["id"] == "eve")
        self.assertEqual(("authzen", "can_view", {"type": "document", "id": "roadmap"}, "deny"),
                         (sample["api"], sample["action"], sample["resource"], sample["decision"]))
        self.assertEqual("****", sample["request_id"])  # masked before it left the edge
        self.assertNotIn("reason", sample)               # dropped before it left the edge
        self.assertGreaterEqual(sample["revision"], 1)
        self.assertIn("latency_us", sample)
        self.assertRegex(sample["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
        self.assertEqual(250, len(self.stored(cp, subject="user:eve")))
        self.assertEqual(1000 - allowed, len(self.stored(cp, decision="deny")))
        # The export is the same entries as JSON lines.
        export = cp.request("GET", f"/v1/decisions/export?edge={instance}", headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(1000, len(export.body.splitlines()))
        self.assertEqual(0, self.decision_log_status(edge)["spooled"])
        # They rode the sync socket, not HTTP.
        self.assertEqual(0, self.metric(cp, 'warden_http_requests_total{route="POST /v1/decision-logs",code="2xx"}'))
        # wardenctl decisions reads them too.
        listed = self.ctl(cp, "decisions", "subject=user:eve", "limit=5")
        self.assertEqual(5, len(listed))
        self.assertTrue(all(e["subject"]["id"] == "eve" and e["decision"] == "deny" for e in listed))

    def test_a_pull_mode_edge_ships_over_http(self):
        cp = self.start_control_plane()
        self.setup_store(cp)
        edge = self.start_edge(cp.url, "--sync-mode", "pull", "--decision-log", "cerbos=off,authzen=denies")
        checker = Checker(edge)
        for i in range(100):
            checker.check("eve" if i % 2 else "ada", "roadmap")
        checker.close()
        instance = self.decision_log_status(edge)["instance_id"]
        entries = wait_until(lambda: (e := self.stored(cp, edge=instance)) and len(e) >= 50 and e,
                             message="the 50 denies")
        self.assertEqual(50, len(entries))  # denies only
        self.assertTrue(all(e["decision"] == "deny" for e in entries))
        self.assertGreater(self.metric(cp, 'warden_http_requests_total{route="POST /v1/decision-logs",code="2xx"}'), 0)

    def test_a_pull_mode_edge_pointed_at_the_sync_listener_ships_there(self):
        with socket.socket() as probe:  # a free port for --sync-listen
            probe.bind(("127.0.0.1", 0))
            sync_port = probe.getsockname()[1]
        cp = self.start("warden-control-plane", "--db", self.db, "--listen", "127.0.0.1:0", "--sync-listen",
                        f"127.0.0.1:{sync_port}", env={"WARDEN_ADMIN_TOKEN": TOKEN})
        self.setup_store(cp)
        edge = self.start_edge(f"http://127.0.0.1:{sync_port}", "--sync-mode", "pull")
        checker = Checker(edge)
        for _ in range(10):
            checker.check("eve", "roadmap")
        checker.close()
        instance = self.decision_log_status(edge)["instance_id"]
        wait_until(lambda: len(self.stored(cp, edge=instance)) == 10, message="the 10 entries, through the sync listener")

    def test_wardenctl_decisions_follow_prints_entries_as_they_arrive(self):
        import subprocess
        from harness import binary
        cp = self.start_control_plane()
        self.setup_store(cp)
        edge = self.start_edge(cp.url)
        Checker(edge).check("ada", "roadmap")  # one entry before following starts
        instance = self.decision_log_status(edge)["instance_id"]
        wait_until(lambda: len(self.stored(cp, edge=instance)) == 1, message="the first entry")
        follower = subprocess.Popen([binary("wardenctl"), "decisions", "--follow", "--json"], stdout=subprocess.PIPE,
                                    text=True, env={**os.environ, "WARDEN_URL": cp.url, "WARDEN_TOKEN": TOKEN})
        self.addCleanup(follower.kill)
        first = json.loads(follower.stdout.readline())
        self.assertEqual("ada", first["subject"]["id"])
        checker = Checker(edge)
        checker.check("eve", "roadmap")
        checker.check("ada", "handbook")
        followed = [json.loads(follower.stdout.readline()) for _ in range(2)]
        self.assertEqual([("eve", "deny"), ("ada", "allow")],
                         [(e["subject"]["id"], e["decision"]) for e in followed])
        checker.close()

    def test_entries_made_during_a_control_plane_outage_arrive_after_it_none_twice(self):
        cp = self.start_control_plane()
        port = cp.port
        self.setup_store(cp)
        edge = self.start_edge(cp.url)
        checker = Checker(edge)
        made = 0
        for _ in range(20):
            checker.check("ada", "roadmap")
            made += 1
        cp.proc.send_signal(signal.SIGKILL)
        cp.wait()
        # Sixty seconds without the control plane; the edge keeps answering every check.
        outage_end = time.time() + 60
        while time.time() < outage_end:
            checker.check("ada", "roadmap")
            made += 1
            time.sleep(0.05)
        status = self.decision_log_status(edge)
        self.assertEqual("retrying", status["shipping"])
        self.assertGreater(status["spooled"], 0)
        cp = self.start_control_plane(listen=f"127.0.0.1:{port}")
        instance = status["instance_id"]
        entries = wait_until(lambda: (e := self.stored(cp, edge=instance)) and len(e) >= made and e, timeout=60,
                             message=f"{made} entries after the outage")
        self.assertEqual(made, len(entries))
        self.assertEqual(made, len({e["sequence"] for e in entries}))
        checker.close()

    def test_a_batch_whose_acknowledgement_was_lost_is_stored_once(self):
        cp = self.start_control_plane(env={"WARDEN_TEST_DROP_DECISION_LOG_ACKS": "1"})
        self.setup_store(cp)
        edge = self.start_edge(cp.url)
        checker = Checker(edge)
        for _ in range(10):
            checker.check("ada", "roadmap")
        checker.close()
        instance = self.decision_log_status(edge)["instance_id"]
        wait_until(lambda: self.metric(cp, "warden_cp_decision_log_duplicates_total") > 0,
                   message="the resent batch reaching the control plane")
        self.assertIn("dropping the acknowledgement", cp.stderr())
        wait_until(lambda: self.decision_log_status(edge)["spooled"] == 0, message="the spool emptied")
        self.assertEqual(10, len(self.stored(cp, edge=instance)))

    def test_kill_9_of_either_side_loses_nothing_acknowledged_and_doubles_nothing(self):
        cp = self.start_control_plane()
        port = cp.port
        self.setup_store(cp)
        edge = self.start_edge(cp.url)
        instance = self.decision_log_status(edge)["instance_id"]
        checker = Checker(edge)
        made = 0
        # The control plane killed in the middle of ingesting a stream of batches.
        for i in range(3000):
            checker.check("ada", "roadmap")
            made += 1
            if i == 1500:
                cp.proc.send_signal(signal.SIGKILL)
                cp.wait()
        checker.close()
        # Every entry is durable in the spool (the writer takes the queue every 20 ms), part of it
        # unsent since the control plane died.
        spooled = wait_until(lambda: (s := self.decision_log_status(edge))["next_sequence"] == made + 1 and s,
                             message="every entry spooled")
        # The edge killed with entries spooled and unsent.
        edge.proc.send_signal(signal.SIGKILL)
        edge.wait()
        self.assertGreater(spooled["spooled"], 0)
        cp = self.start_control_plane(listen=f"127.0.0.1:{port}")
        edge = self.start_edge(cp.url)
        self.assertEqual(instance, self.decision_log_status(edge)["instance_id"])  # the spool survived
        entries = wait_until(lambda: (e := self.stored(cp, edge=instance)) and len(e) >= made and e, timeout=60,
                             message=f"{made} entries after both kills")
        self.assertEqual(made, len(entries))
        self.assertEqual(list(range(1, made + 1)), sorted(e["sequence"] for e in entries))

    def test_a_full_spool_drops_counts_and_reports_while_checks_go_on(self):
        cp = self.start_control_plane()
        port = cp.port
        self.setup_store(cp)
        edge = self.start_edge(cp.url, "--decision-log-max-spool", "100")
        cp.proc.send_signal(signal.SIGKILL)
        cp.wait()
        checker = Checker(edge)
        started = time.time()
        for _ in range(300):
            self.assertTrue(checker.check("ada", "roadmap"))
        self.assertLess(time.time() - started, 30)
        checker.close()
        wait_until(lambda: self.metric(edge, 'warden_decision_log_dropped_total{bound="spool"}') == 200,
                   message="200 drops counted")
        self.assertEqual(100, self.decision_log_status(edge)["spooled"])
        self.assertEqual(200, self.decision_log_status(edge)["dropped_unreported"])
        cp = self.start_control_plane(listen=f"127.0.0.1:{port}")
        instance = self.decision_log_status(edge)["instance_id"]
        wait_until(lambda: len(self.stored(cp, edge=instance)) == 100, message="the 100 spooled entries")
        wait_until(lambda: self.metric(cp, "warden_cp_decision_log_dropped_reported_total") == 200,
                   message="the drops reported to the control plane")
        self.assertEqual(0, self.decision_log_status(edge)["dropped_unreported"])

    def test_bad_batches_and_queries_are_refused_with_the_field(self):
        cp = self.start_control_plane()
        self.setup_store(cp)
        with open(self.key) as f:
            key = f.read().strip()
        auth = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}

        def post(body):
            return cp.request("POST", "/v1/decision-logs", body=body, headers=auth)
        self.assertEqual(401, cp.request("POST", "/v1/decision-logs", body={"instance_id": "x", "entries": []}).status)
        self.assertIn("instance_id", post({"entries": []}).body)
        bad_time = post({"instance_id": "i1", "entries": [{"sequence": 1, "time": "yesterday", "subject": {
            "type": "user", "id": "a"}, "action": "read", "resource": {"type": "doc", "id": "d"}, "decision": "allow"}]})
        self.assertEqual(400, bad_time.status)
        self.assertIn("entries[0].time", bad_time.body)
        no_decision = post({"instance_id": "i1", "entries": [{"sequence": 1, "time": "2026-11-29T10:00:00Z", "subject": {
            "type": "user", "id": "a"}, "action": "read", "resource": {"type": "doc", "id": "d"}}]})
        self.assertIn("entries[0].decision", no_decision.body)
        self.assertEqual(400, post("{not json").status)
        admin = {"Authorization": "Bearer " + TOKEN}
        self.assertEqual(400, cp.request("GET", "/v1/decisions?decision=maybe", headers=admin).status)
        self.assertEqual(400, cp.request("GET", "/v1/decisions?cursor=bogus", headers=admin).status)
        self.assertEqual(400, cp.request("GET", "/v1/decisions?from=last-week", headers=admin).status)
        self.assertEqual(401, cp.request("GET", "/v1/decisions").status)


if __name__ == "__main__":
    unittest.main()
