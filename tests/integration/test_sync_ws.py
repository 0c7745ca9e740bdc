"""Edges following a control plane over the sync WebSocket (docs/sync-protocol.md): writes reach
every edge (and a check carrying the write's revision never sees the old answer), edges keep
answering with the control plane killed and catch up after, an edge killed in the middle of
applying a snapshot recovers, compaction and a different store lead to a snapshot, a revision the
edge cannot apply is nacked while the edge keeps serving, a revoked key's session ends within a
heartbeat, and the pull endpoints (snapshot with ETag and gzip, long-polled changes, 410 after
compaction) answer as documented."""
import gzip
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import tempfile
import time
import unittest

from harness import SOURCE_DIR, WardenTestCase, wait_until

TOKEN = "sync-admin-token"
DRIVE = os.path.join(SOURCE_DIR, "examples", "drive")



class SyncTestCase(WardenTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="warden-ws-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.db = os.path.join(self.dir, "store.db")

    def start_control_plane(self, *extra, listen="127.0.0.1:0", db=None):
        return self.start("warden-control-plane", "--db", db or self.db, "--listen", listen, *extra,
                          env={"WARDEN_ADMIN_TOKEN": TOKEN})

    def ctl(self, cp, *args):
        result = self.run_binary("wardenctl", *args, "--json", env={"WARDEN_URL": cp.url, "WARDEN_TOKEN": TOKEN})
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        return json.loads(result.stdout)

    def new_key(self, cp, name="edges"):
        created = self.ctl(cp, "keys", "create", name)
        path = os.path.join(self.dir, f"key-{created['id']}")
        with open(path, "w") as f:
            f.write(created["key"] + "\n")
        return created["id"], path

    def start_edge(self, cp_url, key_file, replica, mode="ws", env=None, wait_for_listen=True):
        return self.start("warden-edge", "--control-plane", cp_url, "--key-file", key_file, "--replica",
                          os.path.join(self.dir, replica), "--listen", "127.0.0.1:0", "--sync-mode", mode,
                          "--sync-poll-interval", "50ms", env=env, wait_for_listen=wait_for_listen)

    def can_view(self, edge, user, document, min_revision=None):
        headers = {"Warden-Min-Revision": str(min_revision)} if min_revision else {}
        response = edge.request("POST", "/access/v1/evaluation", headers=headers, body={
            "subject": {"type": "user", "id": user}, "action": {"name": "can_view"},
            "resource": {"type": "document", "id": document}})
        self.assertEqual(200, response.status, response.body)
        return response.json()["decision"], int(response.headers["warden-revision"])

    def sync_status(self, edge):
        return edge.request("GET", "/v1/status").json().get("sync", {})

    def admin(self, cp, method, path, headers=None):
        all_headers = {"Authorization": "Bearer " + TOKEN}
        all_headers.update(headers or {})
        return cp.request(method, path, headers=all_headers)


class WebSocketSync(SyncTestCase):
    def test_writes_reach_three_edges_and_the_token_never_sees_the_old_answer(self):
        cp = self.start_control_plane()
        pushed = self.ctl(cp, "push", DRIVE)
        _, key = self.new_key(cp)
        edges = [self.start_edge(cp.url, key, "a.db"), self.start_edge(cp.url, key, "b.db"),
                 self.start_edge(cp.url, key, "c.db", mode="pull")]
        for edge in edges:
            edge.wait_ready()
            self.assertEqual((False, pushed["revision"]), self.can_view(edge, "eve", "roadmap", pushed["revision"]))
        self.assertEqual("ws", self.sync_status(edges[0])["mode"])
        self.assertEqual("pull", self.sync_status(edges[2])["mode"])
        for i in range(10):
            granted = self.ctl(cp, "relation", "set", f"document:roadmap#viewer@user:zoe{i}")
            for edge in edges:
                decision, revision = self.can_view(edge, f"zoe{i}", "roadmap", granted["revision"])
                self.assertTrue(decision, f"write {i} at revision {granted['revision']} not visible at {edge.url}")
                self.assertGreaterEqual(revision, granted["revision"])
        # eve is a viewer but banned: lifting the ban grants, restoring it takes access away again.
        lifted = self.ctl(cp, "relation", "rm", "document:roadmap#banned@user:eve")
        for edge in edges:
            self.assertEqual(True, self.can_view(edge, "eve", "roadmap", lifted["revision"])[0])
        revoked = self.ctl(cp, "relation", "set", "document:roadmap#banned@user:eve")
        for edge in edges:
            self.assertEqual(False, self.can_view(edge, "eve", "roadmap", revoked["revision"])[0])

        # A policy push is a revision like any other.
        policy_dir = os.path.join(self.dir, "drive")
        shutil.copytree(DRIVE, policy_dir)
        os.makedirs(os.path.join(policy_dir, "policies"), exist_ok=True)
        with open(os.path.join(policy_dir, "policies", "report.yaml"), "w") as f:
            f.write("apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: report\n  version: default\n"
                    "  rules:\n    - actions: [read]\n      effect: EFFECT_ALLOW\n      roles: [auditor]\n")
        pushed_policy = self.ctl(cp, "push", policy_dir)
        for edge in edges:
            response = edge.request("POST", "/access/v1/evaluation", headers={
                "Warden-Min-Revision": str(pushed_policy["revision"])}, body={
                "subject": {"type": "user", "id": "ann", "properties": {"roles": ["auditor"]}},
                "action": {"name": "read"}, "resource": {"type": "report", "id": "r1"}})
            self.assertEqual(200, response.status, response.body)
            self.assertTrue(response.json()["decision"], response.body)

        # The control plane lists every edge with its acked revision and no lag.
        latest = pushed_policy["revision"]

        def all_caught_up():
            listed = self.admin(cp, "GET", "/v1/edges").json()["edges"]
            ws_edges = [e for e in listed if e["state"] == "connected"]
            return len(ws_edges) == 2 and all(e["revision"] == latest and e["lag"] == 0 for e in ws_edges) and ws_edges
        for row in wait_until(all_caught_up, message="both WebSocket edges acked the latest revision"):
            self.assertEqual("edges", row["key"])
            self.assertTrue(row["address"].startswith("127.0.0.1:"), row)
        status = self.sync_status(edges[0])
        self.assertEqual(("following", latest, 0), (status["state"], status["hub_revision"], status["lag"]))
        metrics = edges[0].request("GET", "/metrics").body
        self.assertIn("warden_edge_sync_connected 1", metrics)
        self.assertIn("warden_edge_sync_lag_revisions 0", metrics)

    def test_edges_keep_answering_without_the_control_plane_and_catch_up_after_its_restart(self):
        # A short heartbeat: the edge notices a dead hub within 3 intervals even with no FIN.
        cp = self.start_control_plane("--sync-heartbeat", "500ms")
        port = cp.port
        pushed = self.ctl(cp, "push", DRIVE)
        _, key = self.new_key(cp)
        edges = [self.start_edge(cp.url, key, "a.db"), self.start_edge(cp.url, key, "b.db", mode="pull")]
        for edge in edges:
            edge.wait_ready()
            self.assertTrue(self.can_view(edge, "ada", "roadmap", pushed["revision"])[0])
        cp.proc.send_signal(signal.SIGKILL)
        cp.wait()
        for _ in range(30):
            for edge in edges:
                self.assertTrue(self.can_view(edge, "ada", "roadmap")[0])
        wait_until(lambda: self.sync_status(edges[0])["state"] == "unreachable", message="ws edge shows unreachable")

        # An edge restarted while the control plane is down serves from its replica at once.
        edges[0].stop()
        edges[0] = self.start_edge(cp.url, key, "a.db")
        edges[0].wait_ready(timeout=5)
        self.assertTrue(self.can_view(edges[0], "ada", "roadmap")[0])

        restarted = self.start_control_plane("--sync-heartbeat", "500ms", listen=f"127.0.0.1:{port}")
        granted = self.ctl(restarted, "relation", "set", "document:roadmap#viewer@user:newcomer")
        for edge in edges:
            decision, _ = self.can_view(edge, "newcomer", "roadmap", granted["revision"])
            self.assertTrue(decision)

    def test_an_edge_killed_while_applying_a_snapshot_recovers(self):
        cp = self.start_control_plane()
        pushed = self.ctl(cp, "push", DRIVE)
        _, key = self.new_key(cp)
        replica = os.path.join(self.dir, "mid.db")
        edge = self.start_edge(cp.url, key, "mid.db", env={"WARDEN_TEST_SNAPSHOT_COMMIT_PAUSE_MS": "30000"})
        wait_until(lambda: "written, not yet committed" in edge.stderr(), message="the edge pausing mid-snapshot")
        edge.proc.send_signal(signal.SIGKILL)
        edge.wait()
        # The kill landed mid-apply: the replica holds no committed revision.
        with sqlite3.connect(replica) as db:
            rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
        self.assertNotIn("revision", rows)
        edge = self.start_edge(cp.url, key, "mid.db")
        edge.wait_ready()
        self.assertEqual((True, pushed["revision"]), self.can_view(edge, "ada", "roadmap", pushed["revision"]))
        with sqlite3.connect(replica) as db:
            rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
        self.assertEqual(str(pushed["revision"]), rows["revision"])

    def test_acked_revisions_survive_a_killed_edge_through_its_delta_journal(self):
        cp = self.start_control_plane()
        self.ctl(cp, "push", DRIVE)
        _, key = self.new_key(cp)
        edge = self.start_edge(cp.url, key, "j.db")
        edge.wait_ready()
        for i in range(5):
            granted = self.ctl(cp, "relation", "set", f"document:roadmap#viewer@user:jo{i}")
            self.assertTrue(self.can_view(edge, f"jo{i}", "roadmap", granted["revision"])[0])
        latest = granted["revision"]

        def acked():
            listed = self.admin(cp, "GET", "/v1/edges").json()["edges"]
            return any(e["revision"] == latest for e in listed)
        wait_until(acked, message="the edge acked the last write")
        journal = os.path.join(self.dir, "j.db.deltas")
        self.assertGreater(os.path.getsize(journal), 0)  # acked, not yet written into the tables
        edge.proc.send_signal(signal.SIGKILL)
        edge.wait()
        cp.proc.send_signal(signal.SIGKILL)
        cp.wait()
        # Restarted with the control plane down, it serves every acked revision from its replica.
        edge = self.start_edge(cp.url, key, "j.db")
        edge.wait_ready(timeout=5)
        self.assertEqual((True, latest), self.can_view(edge, "jo4", "roadmap"))
        self.assertEqual(0, os.path.getsize(journal))  # written into the tables at start

    def test_a_byte_flipped_in_a_replica_row_is_not_served_and_the_edge_resyncs(self):
        cp = self.start_control_plane()
        port = cp.port
        pushed = self.ctl(cp, "push", DRIVE)
        _, key = self.new_key(cp)
        edge = self.start_edge(cp.url, key, "flip.db")
        # eve is a viewer of roadmap, and banned from it.
        self.assertEqual((False, pushed["revision"]), self.can_view(edge, "eve", "roadmap", pushed["revision"]))
        edge.stop()
        cp.stop()
        replica = os.path.join(self.dir, "flip.db")
        with sqlite3.connect(replica) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with open(replica, "rb") as f:
            data = bytearray(f.read())
        # The ban's row: its columns' bytes follow each other. "eve" becomes "evf", a ban of no one;
        # the row still sorts where it did, and SQLite's quick_check finds nothing wrong.
        row = b"documentroadmapbanneduser" + b"eve"
        self.assertEqual(1, data.count(row))
        at = data.find(row) + len(row) - 1
        data[at] ^= 0x03
        with open(replica, "wb") as f:
            f.write(data)
        with sqlite3.connect(replica) as db:
            self.assertEqual("ok", db.execute("PRAGMA quick_check").fetchone()[0])

        # Offline, the damaged content is not served: the edge waits for a snapshot instead.
        edge = self.start_edge(cp.url, key, "flip.db")
        wait_until(lambda: "does not match its checksum" in edge.stderr(), message="the edge refusing its replica")
        self.assertEqual(503, edge.request("GET", "/readyz").status)
        # With the control plane back, it resyncs from a snapshot: eve is banned again.
        self.start_control_plane(listen=f"127.0.0.1:{port}")
        edge.wait_ready(timeout=30)
        self.assertEqual((False, pushed["revision"]), self.can_view(edge, "eve", "roadmap", pushed["revision"]))
        self.assertIn("warden_edge_sync_snapshots_total 1", edge.request("GET", "/metrics").body)

    def test_an_edge_behind_compaction_or_on_another_store_gets_a_snapshot(self):
        cp = self.start_control_plane("--change-log-retain", "3")
        self.ctl(cp, "push", DRIVE)
        _, key = self.new_key(cp)
        edge = self.start_edge(cp.url, key, "e.db")
        edge.wait_ready()
        edge.stop()
        last = None
        for i in range(8):
            last = self.ctl(cp, "relation", "set", f"document:roadmap#viewer@user:late{i}")
        # The pull endpoint says the same: revision 2 is gone.
        gone = self.admin(cp, "GET", "/v1/changes?since=1")
        self.assertEqual(410, gone.status, gone.body)
        self.assertEqual("compacted", gone.json()["error"]["code"])
        self.assertGreater(gone.json()["oldest"], 2)

        edge = self.start_edge(cp.url, key, "e.db")
        self.assertTrue(self.can_view(edge, "late7", "roadmap", last["revision"])[0])
        self.assertIn("its revision was compacted out of the change log", cp.stderr())
        self.assertIn("warden_edge_sync_snapshots_total 1", edge.request("GET", "/metrics").body)

        # Pointed at another store (a restored or replaced control plane), it takes a snapshot and
        # serves that store only.
        other = self.start_control_plane(db=os.path.join(self.dir, "other.db"))
        other_key_id, other_key = self.new_key(other)
        self.ctl(other, "push", DRIVE)
        granted = self.ctl(other, "relation", "set", "document:roadmap#viewer@user:only-in-other")
        edge.stop()
        edge = self.start_edge(other.url, other_key, "e.db")
        # Revisions of different stores do not compare: wait for the store to change first.
        other_store = granted["store_id"]
        wait_until(lambda: edge.request("GET", "/v1/status").json().get("store_id") == other_store,
                   message="the edge serving the other store")
        self.assertTrue(self.can_view(edge, "only-in-other", "roadmap", granted["revision"])[0])
        only_in_first = edge.request("POST", "/access/v1/evaluation", body={
            "subject": {"type": "user", "id": "late7"}, "action": {"name": "can_view"},
            "resource": {"type": "document", "id": "roadmap"}})
        self.assertEqual(404, only_in_first.status, only_in_first.body)
        self.assertIn("snapshot, as it holds another store", other.stderr())

    def test_a_revision_the_edge_cannot_apply_is_nacked_and_the_edge_keeps_serving(self):
        cp = self.start_control_plane()
        pushed = self.ctl(cp, "push", DRIVE)
        _, key = self.new_key(cp)
        edge = self.start_edge(cp.url, key, "n.db", env={"WARDEN_TEST_REFUSE_POLICY_MARKER": "needs-a-newer-edge"})
        self.assertTrue(self.can_view(edge, "ada", "roadmap", pushed["revision"])[0])
        policy_dir = os.path.join(self.dir, "drive")
        shutil.copytree(DRIVE, policy_dir)
        os.makedirs(os.path.join(policy_dir, "policies"), exist_ok=True)
        with open(os.path.join(policy_dir, "policies", "new.yaml"), "w") as f:
            f.write("# needs-a-newer-edge\napiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: report\n"
                    "  version: default\n  rules:\n    - actions: [read]\n      effect: EFFECT_ALLOW\n"
                    "      roles: [auditor]\n")
        refused = self.ctl(cp, "push", policy_dir)
        status = wait_until(lambda: (s := self.sync_status(edge))["state"] == "degraded" and s,
                            message="edge shows degraded")
        self.assertIn("uses a feature this edge lacks", status["error"])
        self.assertEqual(pushed["revision"], status["revision"])
        # Still serving the previous revision whole.
        self.assertEqual((True, pushed["revision"]), self.can_view(edge, "ada", "roadmap"))
        response = edge.request("POST", "/access/v1/evaluation", headers={"Warden-Min-Revision": str(refused["revision"])},
                                body={"subject": {"type": "user", "id": "ada"}, "action": {"name": "can_view"},
                                      "resource": {"type": "document", "id": "roadmap"}})
        self.assertEqual(503, response.status)
        self.assertIn("warden_edge_sync_degraded 1", edge.request("GET", "/metrics").body)
        row = wait_until(lambda: [e for e in self.admin(cp, "GET", "/v1/edges").json()["edges"] if e["state"] == "degraded"],
                         message="the control plane shows the edge degraded")[0]
        self.assertIn(f"revision {refused['revision']}", row["error"])
        self.assertEqual(pushed["revision"], row["revision"])

    def test_a_revoked_key_ends_its_session_within_a_heartbeat_and_cannot_reconnect(self):
        cp = self.start_control_plane("--sync-heartbeat", "300ms")
        pushed = self.ctl(cp, "push", DRIVE)
        key_id, key = self.new_key(cp)
        edge = self.start_edge(cp.url, key, "r.db")
        self.assertTrue(self.can_view(edge, "ada", "roadmap", pushed["revision"])[0])
        revoked_at = time.time()
        self.ctl(cp, "keys", "revoke", key_id)
        wait_until(lambda: self.sync_status(edge)["state"] == "degraded", timeout=0.3 * 3,
                   message="session ended within one heartbeat (plus slack)")
        self.assertLess(time.time() - revoked_at, 1.0)
        self.assertIn("revoked", self.sync_status(edge)["error"])
        # Still serving what it holds.
        self.assertTrue(self.can_view(edge, "ada", "roadmap")[0])
        # Its reconnects are refused before any upgrade.
        with open(key) as f:
            secret = f.read().strip()
        self.assertEqual(401, websocket_upgrade_status(cp.host, cp.port, secret))
        time.sleep(0.5)
        self.assertEqual("degraded", self.sync_status(edge)["state"])

    def test_sync_on_its_own_listener_and_bad_upgrades(self):
        sync_port = free_port()
        cp = self.start_control_plane("--sync-listen", f"127.0.0.1:{sync_port}")
        self.assertIn(f"warden-control-plane sync endpoints on ws://127.0.0.1:{sync_port}", "\n".join(cp.stdout_lines))
        pushed = self.ctl(cp, "push", DRIVE)
        _, key = self.new_key(cp)
        edge = self.start_edge(f"http://127.0.0.1:{sync_port}", key, "s.db")
        self.assertTrue(self.can_view(edge, "ada", "roadmap", pushed["revision"])[0])
        # The main listener no longer serves sync.
        self.assertEqual(404, self.admin(cp, "GET", "/v1/sync").status)
        with open(key) as f:
            secret = f.read().strip()
        self.assertEqual(101, websocket_upgrade_status("127.0.0.1", sync_port, secret))
        self.assertEqual(401, websocket_upgrade_status("127.0.0.1", sync_port, "not-a-key"))
        self.assertEqual(401, websocket_upgrade_status("127.0.0.1", sync_port, None))
        # A plain GET to the WebSocket endpoint is told what it needs.
        plain = socket_request("127.0.0.1", sync_port, "GET /v1/sync HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn("426", plain.split("\r\n")[0])


class UpgradeRefusingProxy:
    """A reverse proxy that passes plain HTTP to the control plane and refuses WebSocket upgrades,
    as some corporate proxies do."""

    def __init__(self, target_host, target_port):
        import http.server
        import http.client
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                if self.headers.get("Upgrade"):
                    body = b'{"error":"this proxy does not pass WebSocket upgrades"}'
                    self.send_response(502)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body)
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(target_host, target_port, timeout=90)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request(self.command, self.path, body=data, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class AutoMode(SyncTestCase):
    def test_auto_falls_back_to_pull_when_upgrades_are_refused(self):
        cp = self.start_control_plane()
        pushed = self.ctl(cp, "push", DRIVE)
        _, key = self.new_key(cp)
        proxy = UpgradeRefusingProxy(cp.host, cp.port)
        self.addCleanup(proxy.close)
        edge = self.start_edge(f"http://127.0.0.1:{proxy.port}", key, "auto.db", mode="auto")
        edge.wait_ready(timeout=40)  # three refused upgrades (each bounded by the 3 s handshake timeout)
        self.assertTrue(self.can_view(edge, "ada", "roadmap", pushed["revision"])[0])
        self.assertEqual("pull", self.sync_status(edge)["mode"])
        granted = self.ctl(cp, "relation", "set", "document:roadmap#viewer@user:behind-a-proxy")
        self.assertTrue(self.can_view(edge, "behind-a-proxy", "roadmap", granted["revision"])[0])
        self.assertEqual("following", self.sync_status(edge)["state"])
        self.assertIn("falling back to pull", edge.stderr())


    def test_a_control_plane_restart_is_not_a_proxy_refusing_upgrades(self):
        cp = self.start_control_plane()
        port = cp.port
        pushed = self.ctl(cp, "push", DRIVE)
        _, key = self.new_key(cp)
        edge = self.start_edge(cp.url, key, "restart.db", mode="auto")
        self.assertTrue(self.can_view(edge, "ada", "roadmap", pushed["revision"])[0])
        cp.proc.send_signal(signal.SIGKILL)
        cp.wait()
        # Refused connections, more of them than the three refused upgrades that mean a proxy.
        refused = f"session ended (upgraded false): cannot connect to 127.0.0.1:{port}"
        wait_until(lambda: edge.stderr().count(refused) >= 4, timeout=30, message="four refused connections")
        self.assertEqual("ws", self.sync_status(edge)["mode"])
        restarted = self.start_control_plane(listen=f"127.0.0.1:{port}")
        granted = self.ctl(restarted, "relation", "set", "document:roadmap#viewer@user:after-restart")
        # Within the reconnect backoff (at most 10 s plus jitter).
        wait_until(lambda: edge.request("POST", "/access/v1/evaluation",
                                        headers={"Warden-Min-Revision": str(granted["revision"])}, body={
                                            "subject": {"type": "user", "id": "after-restart"},
                                            "action": {"name": "can_view"},
                                            "resource": {"type": "document", "id": "roadmap"}}).status == 200,
                   timeout=30, message="the write visible at the edge")
        self.assertTrue(self.can_view(edge, "after-restart", "roadmap", granted["revision"])[0])
        # Back on the socket, not on the pull fallback's 5 minutes.
        wait_until(lambda: any(e["state"] == "connected" for e in self.admin(restarted, "GET", "/v1/edges").json()["edges"]),
                   message="the edge's WebSocket session at the restarted control plane")
        self.assertEqual("ws", self.sync_status(edge)["mode"])
        self.assertNotIn("falling back to pull", edge.stderr())


class PullEndpoints(SyncTestCase):
    def test_snapshot_etag_gzip_and_long_polled_changes(self):
        cp = self.start_control_plane()
        pushed = self.ctl(cp, "push", DRIVE)
        _, key = self.new_key(cp)
        with open(key) as f:
            secret = f.read().strip()
        auth = {"Authorization": "Bearer " + secret}
        plain = cp.request("GET", "/v1/snapshot", headers=auth)
        self.assertEqual(200, plain.status, plain.body)
        self.assertEqual(str(pushed["revision"]), plain.headers["warden-revision"])
        self.assertEqual(hashlib.sha256(plain.body.encode()).hexdigest(), plain.headers["warden-snapshot-sha256"])
        lines = [json.loads(line) for line in plain.body.splitlines()]
        self.assertEqual("manifest.set", lines[0]["op"])  # drive has no policies: the manifest leads
        self.assertTrue(all(line["op"].endswith(".set") for line in lines))
        etag = plain.headers["etag"]
        self.assertEqual(f"\"{pushed['store_id']}:{pushed['revision']}\"", etag)
        self.assertEqual(304, cp.request("GET", "/v1/snapshot", headers={**auth, "If-None-Match": etag}).status)

        import http.client
        conn = http.client.HTTPConnection(cp.host, cp.port, timeout=10)
        conn.request("GET", "/v1/snapshot", headers={**auth, "Accept-Encoding": "gzip"})
        response = conn.getresponse()
        body = response.read()
        self.assertEqual("gzip", response.getheader("Content-Encoding"))
        self.assertEqual(plain.body.encode(), gzip.decompress(body))
        conn.close()
        self.assertEqual(401, cp.request("GET", "/v1/snapshot", headers={"Authorization": "Bearer wrong"}).status)

        # A long poll returns as soon as a revision commits.
        import threading
        answers = []
        since = pushed["revision"]
        started = time.time()
        poller = threading.Thread(target=lambda: answers.append(
            cp.request("GET", f"/v1/changes?since={since}&wait=20s", headers=auth, timeout=30)))
        poller.start()
        time.sleep(0.5)
        granted = self.ctl(cp, "relation", "set", "document:roadmap#viewer@user:poller")
        poller.join(30)
        self.assertLess(time.time() - started, 10)
        self.assertEqual(200, answers[0].status, answers[0].body)
        changes = answers[0].json()["changes"]
        self.assertEqual([granted["revision"]], [c["revision"] for c in changes])
        self.assertEqual("relation.set", changes[0]["ops"][0]["op"])
        # Without news the wait ends empty.
        quiet = cp.request("GET", f"/v1/changes?since={granted['revision']}&wait=300ms", headers=auth)
        self.assertEqual([], quiet.json()["changes"])
        self.assertEqual(400, cp.request("GET", "/v1/changes?since=0&wait=forever", headers=auth).status)
        self.assertEqual(400, cp.request("GET", "/v1/changes?since=0&wait=90s", headers=auth).status)

    def test_long_polls_hold_no_thread_and_a_shutdown_answers_them(self):
        import threading
        cp = self.start_control_plane()  # 4 worker threads by default
        pushed = self.ctl(cp, "push", DRIVE)
        _, key = self.new_key(cp)
        with open(key) as f:
            auth = {"Authorization": "Bearer " + f.read().strip()}
        since = pushed["revision"]

        def long_polls(count, since):
            answers = []
            path = f"/v1/changes?since={since}&wait=30s"
            pollers = [threading.Thread(target=lambda: answers.append(cp.request("GET", path, headers=auth, timeout=40)))
                       for _ in range(count)]
            for poller in pollers:
                poller.start()
            return pollers, answers

        # Three times as many long polls as worker threads all wait, and the rest is still served.
        pollers, answers = long_polls(12, since)
        time.sleep(0.8)
        self.assertEqual([], answers, "a long poll answered before anything committed")
        admin = {"Authorization": "Bearer " + TOKEN}
        self.assertEqual(since, cp.request("GET", "/v1/revision", headers=admin, timeout=5).json()["revision"])
        granted = self.ctl(cp, "relation", "set", "document:roadmap#viewer@user:many-pollers")
        for poller in pollers:
            poller.join(30)
        self.assertEqual(12, len(answers))
        for answer in answers:
            self.assertEqual(200, answer.status, answer.body)
            self.assertEqual([granted["revision"]], [c["revision"] for c in answer.json()["changes"]])

        # SIGTERM while long polls wait: they are answered (empty) and the process exits well
        # before their 30 s wait would end.
        since = granted["revision"]
        pollers, answers = long_polls(3, since)
        time.sleep(0.5)
        self.assertEqual([], answers)
        stopped = time.time()
        cp.stop(timeout=20)
        for poller in pollers:
            poller.join(20)
        self.assertLess(time.time() - stopped, 10)
        self.assertEqual(3, len(answers))
        for answer in answers:
            self.assertEqual(200, answer.status, answer.body)
            self.assertEqual([], answer.json()["changes"])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def socket_request(host, port, raw):
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(raw.encode())
        return s.recv(65536).decode("utf-8", "replace")


def websocket_upgrade_status(host, port, key):
    auth = f"Authorization: Bearer {key}\r\n" if key is not None else ""
    raw = (f"GET /v1/sync HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{auth}\r\n")
    return int(socket_request(host, port, raw).split(" ")[1])


if __name__ == "__main__":
    unittest.main()
