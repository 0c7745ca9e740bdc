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

    def instance(self, edge):
        """The edge's decision-log instance, from its startup log: /v1/status no longer shows it."""
        match = wait_until(lambda: re.search(r"decision log: .*, instance ([0-9a-f-]{36})", edge.stderr()),
                           message="the decision log's startup line")
        return match.group(1)

    def edges(self, cp):
        response = cp.request("GET", "/v1/edges", headers={"Authorization": "Bearer " + TOKEN})
        assert response.status == 200, response.body
        return response.json()["edges"]

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
        instance = self.instance(edge)
        # One identity: the log's instance is the edge's at the control plane, which shows it to
        # read tokens only; the edge's /v1/status, open to anyone who reaches the edge, does not.
        self.assertEqual([instance], [e["instance"] for e in self.edges(cp)])
        self.assertNotIn(instance, edge.request("GET", "/v1/status").body)
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
        instance = self.instance(edge)
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
        instance = self.instance(edge)
        wait_until(lambda: len(self.stored(cp, edge=instance)) == 10, message="the 10 entries, through the sync listener")

    def test_wardenctl_decisions_follow_prints_entries_as_they_arrive(self):
        import subprocess
        from harness import binary
        cp = self.start_control_plane()
        self.setup_store(cp)
        edge = self.start_edge(cp.url)
        Checker(edge).check("ada", "roadmap")  # one entry before following starts
        instance = self.instance(edge)
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
        instance = self.instance(edge)
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
        instance = self.instance(edge)
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
        instance = self.instance(edge)
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
        self.assertEqual(instance, self.instance(edge))  # the spool survived
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
        instance = self.instance(edge)
        wait_until(lambda: len(self.stored(cp, edge=instance)) == 100, message="the 100 spooled entries")
        wait_until(lambda: self.metric(cp, "warden_cp_decision_log_dropped_reported_total") == 200,
                   message="the drops reported to the control plane")
        self.assertEqual(0, self.decision_log_status(edge)["dropped_unreported"])

    def evaluate_raw(self, edge, body, path="/access/v1/evaluation"):
        conn = http.client.HTTPConnection(edge.host, edge.port, timeout=60)
        try:
            conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            self.assertEqual(200, response.status, data[:200])
            return json.loads(data)
        finally:
            conn.close()

    def test_a_caller_sending_huge_ids_cannot_jam_shipping_over_the_socket(self):
        # Six 3 MB subject ids made one batch over the hub's 16 MiB message limit: the hub dropped
        # the session on every try and no entry after them ever arrived.
        cp = self.start_control_plane()
        self.setup_store(cp)
        edge = self.start_edge(cp.url)
        instance = self.instance(edge)
        huge = "x" * (3 << 20)
        for i in range(6):
            # With properties, a subject the directory does not know is decided as the request says.
            self.evaluate_raw(edge, {"subject": {"type": "user", "id": f"{i}{huge}", "properties": {}},
                                     "action": {"name": "can_view"}, "resource": {"type": "document", "id": "roadmap"}})
        checker = Checker(edge)
        for _ in range(20):
            checker.check("ada", "roadmap")
        checker.close()
        entries = wait_until(lambda: (e := self.stored(cp, edge=instance)) and len(e) >= 26 and e, timeout=60,
                             message="all 26 entries at the control plane")
        self.assertEqual(26, len(entries))
        cut = [e for e in entries if "truncated" in e]
        self.assertEqual(6, len(cut))
        for entry in cut:
            self.assertEqual(["/subject/id"], entry["truncated"])
            self.assertEqual(16 << 10, len(entry["subject"]["id"]))  # --decision-log-max-field's default
        self.assertEqual(20, sum(1 for e in entries if e["subject"]["id"] == "ada" and "truncated" not in e))
        wait_until(lambda: self.decision_log_status(edge)["spooled"] == 0, message="the spool emptied")
        self.assertEqual("shipping", self.decision_log_status(edge)["shipping"])
        # One session throughout: the hub never had to drop it.
        self.assertEqual(1, cp.stderr().count(f"sync: edge {instance} ("))
        self.assertNotIn(f"sync: edge {instance} disconnected", cp.stderr())

    def test_a_batch_refused_as_too_large_is_split_and_an_entry_too_large_alone_is_dropped(self):
        # A control plane whose body limit is below the edge's batch: before, 413 on every retry,
        # forever, with nothing shipped after it.
        cp = self.start("warden-control-plane", "--db", self.db, "--listen", "127.0.0.1:0", "--max-write-body",
                        "64KiB", env={"WARDEN_ADMIN_TOKEN": TOKEN})
        self.setup_store(cp)
        edge = self.start_edge(cp.url, "--sync-mode", "pull", "--decision-log-max-field", "100KiB")
        instance = self.instance(edge)
        for i in range(30):
            self.evaluate_raw(edge, {"subject": {"type": "user", "id": f"u{i}-" + "p" * 5000, "properties": {}},
                                     "action": {"name": "can_view"}, "resource": {"type": "document", "id": "roadmap"}})
        # One entry whose JSON alone is over the control plane's limit.
        self.evaluate_raw(edge, {"subject": {"type": "user", "id": "q" * (80 << 10), "properties": {}},
                                 "action": {"name": "can_view"}, "resource": {"type": "document", "id": "roadmap"}})
        for i in range(30, 60):
            self.evaluate_raw(edge, {"subject": {"type": "user", "id": f"u{i}-" + "p" * 5000, "properties": {}},
                                     "action": {"name": "can_view"}, "resource": {"type": "document", "id": "roadmap"}})
        entries = wait_until(lambda: (e := self.stored(cp, edge=instance)) and len(e) >= 60 and e, timeout=60,
                             message="the 60 entries that fit")
        self.assertEqual(60, len(entries))
        self.assertEqual(set(range(1, 62)) - {31}, {e["sequence"] for e in entries})
        wait_until(lambda: self.metric(edge, 'warden_decision_log_dropped_total{bound="refused"}') == 1,
                   message="the entry refused alone counted")
        wait_until(lambda: self.metric(cp, "warden_cp_decision_log_dropped_reported_total") == 1,
                   message="its drop reported to the control plane")
        wait_until(lambda: self.decision_log_status(edge)["spooled"] == 0, message="the spool emptied")
        self.assertIn("refused entry 31 on its own", edge.stderr())

    def test_another_edge_groups_key_can_neither_forge_nor_suppress_an_edges_entries(self):
        cp = self.start_control_plane()
        self.setup_store(cp)  # the edge's key, in group "logging-edges"
        edge = self.start_edge(cp.url)
        instance = self.instance(edge)
        checker = Checker(edge)
        for _ in range(3):
            checker.check("ada", "roadmap")
        wait_until(lambda: len(self.stored(cp, edge=instance)) == 3, message="the edge's first 3 entries")
        other = self.ctl(cp, "keys", "create", "other-group")[0]["key"]

        def entry(sequence, user):
            return {"instance_id": instance, "sequence": sequence, "time": "2026-11-29T10:00:00Z", "api": "authzen",
                    "subject": {"type": "user", "id": user}, "action": "can_view",
                    "resource": {"type": "document", "id": "roadmap"}, "decision": "allow"}
        forged = cp.request("POST", "/v1/decision-logs", headers={"Authorization": "Bearer " + other},
                            body={"instance_id": instance, "entries": [entry(s, "mallory") for s in (4, 5, 6)]})
        self.assertEqual(403, forged.status, forged.body)
        self.assertIn("another edge group", forged.body)
        # The edge's own entries at those sequences are stored, none taken for a duplicate.
        for _ in range(3):
            checker.check("eve", "roadmap")
        checker.close()
        entries = wait_until(lambda: (e := self.stored(cp, edge=instance)) and len(e) >= 6 and e,
                             message="the edge's next 3 entries")
        self.assertEqual({4: "eve", 5: "eve", 6: "eve"},
                         {e["sequence"]: e["subject"]["id"] for e in entries if e["sequence"] > 3})
        self.assertEqual(0, self.metric(cp, "warden_cp_decision_log_duplicates_total"))
        # A second key of the edge's own group (a rotation) ships for it.
        rotated = self.ctl(cp, "keys", "create", "logging-edges")[0]["key"]
        same_group = cp.request("POST", "/v1/decision-logs", headers={"Authorization": "Bearer " + rotated},
                                body={"instance_id": instance, "entries": [entry(1000, "rotated")]})
        self.assertEqual(200, same_group.status, same_group.body)

    def test_a_truncated_spool_is_salvaged_logged_and_its_lost_entries_counted_at_both_ends(self):
        cp = self.start_control_plane()
        port = cp.port
        self.setup_store(cp)
        edge = self.start_edge(cp.url)
        instance = self.instance(edge)
        cp.proc.send_signal(signal.SIGKILL)
        cp.wait()
        # Entries spooled while the control plane is away, in segments large enough to lie on
        # pages past the first few.
        evaluations = [{"subject": {"type": "user", "id": f"user-{i}-" + "s" * 300, "properties": {}},
                        "action": {"name": "can_view"},
                        "resource": {"type": "document", "id": "roadmap"}} for i in range(200)]
        self.evaluate_raw(edge, {"evaluations": evaluations}, path="/access/v1/evaluations")
        wait_until(lambda: self.decision_log_status(edge)["spooled"] == 200, message="200 entries spooled")
        edge.stop()
        spool = os.path.join(self.dir, "replica.db.decisions")
        self.assertFalse(os.path.exists(spool + "-wal"))
        # Its schema, identity and the segments' table page survive; the rest does not.
        os.truncate(spool, 3 * 16384)
        cp = self.start_control_plane(listen=f"127.0.0.1:{port}")
        edge = self.start_edge(cp.url)
        self.assertEqual(instance, self.instance(edge))  # the identity was carried over
        self.assertIn("is damaged", edge.stderr())
        self.assertTrue(os.path.exists(spool + ".corrupt"))
        # What the writer took in one turn is one segment, so how the 200 fell into segments (and
        # so how many a truncation takes) varies; what must hold is that every entry either
        # arrives or is counted lost, at the edge and at the control plane.
        wait_until(lambda: self.decision_log_status(edge)["spooled"] == 0, message="the salvaged entries shipped")
        damaged = self.decision_log_status(edge)["damaged"]
        self.assertGreater(damaged, 0)
        self.assertIn(f"{damaged} lost", edge.stderr())
        arrived = self.stored(cp, edge=instance)
        if damaged < 200:
            arrived = wait_until(lambda: (e := self.stored(cp, edge=instance)) and len(e) + damaged >= 200 and e,
                                 message="the salvaged entries at the control plane")
        self.assertEqual(200, len(arrived) + damaged)
        row = wait_until(lambda: (r := [e for e in self.edges(cp) if e["instance"] == instance]) and
                         r[0]["decision_log"]["damaged"] == damaged and r[0], message="the loss in the edge list")
        self.assertEqual(damaged, row["decision_log"]["dropped"])
        # Logged just after the batch commits, so a poll of the edge list can see the count first.
        wait_until(lambda: f"lost {damaged} entries to a damaged spool" in cp.stderr(),
                   message="the control plane's log line for the loss")
        # Shipping goes on, at the sequences after the lost ones.
        checker = Checker(edge)
        checker.check("ada", "roadmap")
        checker.close()
        entries = wait_until(lambda: (e := self.stored(cp, edge=instance)) and len(e) > len(arrived) and e,
                             message="the next entry")
        self.assertEqual(201, max(e["sequence"] for e in entries))
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
