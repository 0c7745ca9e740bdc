"""Durability of the control plane's store: kill -9 during an import, 16 concurrent writers,
migration of an older database, refusal of a newer one, backup and restore."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
import unittest

from harness import SOURCE_DIR, binary, request
from test_control_plane import ADMIN, MANIFEST, ControlPlaneCase, relation


class KillDuringImportTest(ControlPlaneCase):
    LINES = 200_000

    def test_kill_9_while_parsing_import(self):
        self.kill_mid_import("bytes received, parsing")

    def test_kill_9_while_committing_import(self):
        # After parsing: the kill lands while the revision is validated, applied and written to SQLite.
        self.kill_mid_import("rows parsed, committing")

    def kill_mid_import(self, marker):
        self.start_cp()
        self.ok("PUT", "/v1/manifest", {"format": "yaml", "text": MANIFEST})
        body = "".join(json.dumps(relation("document", f"doc{i}", "viewer", "user", f"u{i % 5000}")) + "\n"
                       for i in range(self.LINES))
        outcome = {}

        def send():
            try:
                outcome["response"] = request(self.cp.host, self.cp.port, "POST", "/v1/import", body,
                                              {"Authorization": "Bearer " + ADMIN}, timeout=120)
            except Exception as e:  # the connection dies with the process
                outcome["error"] = e

        sender = threading.Thread(target=send)
        sender.start()
        # The server logs each stage of the import; kill it as soon as `marker` appears.
        deadline = time.time() + 60
        while marker not in self.cp.stderr():
            self.assertLess(time.time(), deadline, "import never started")
            time.sleep(0.005)
        self.cp.proc.send_signal(signal.SIGKILL)
        self.cp.proc.wait()
        sender.join(30)
        log = self.cp.stderr()
        # Proof the kill landed mid-import: the server never logged the commit and the client
        # never got an answer.
        self.assertNotIn("rows committed", log)
        self.assertNotIn("response", outcome)
        self.assertIn("error", outcome)

        self.start_cp()
        rev = self.revision()
        count = 0
        cursor = ""
        while True:
            page = self.ok("GET", "/v1/relations?page_size=10000" + ("&cursor=" + cursor if cursor else ""))
            count += len(page["relations"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertIn((rev, count), [(1, 0), (2, self.LINES)])
        self.cp.stop()
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        self.assertEqual(con.execute("SELECT count(*) FROM relations").fetchone()[0], count)
        self.assertEqual(con.execute("SELECT max(revision) FROM change_log").fetchone()[0], rev)
        con.close()
        # And the store takes writes again.
        self.start_cp()
        self.assertEqual(self.ok("POST", "/v1/relations", relation("document", "x", "viewer", "user", "y"))["revision"],
                         rev + 1)


class ImportTest(ControlPlaneCase):
    def test_reads_answer_during_a_long_import(self):
        self.start_cp()
        self.ok("PUT", "/v1/manifest", {"format": "yaml", "text": MANIFEST})
        body = "".join(json.dumps(relation("document", f"doc{i}", "viewer", "user", f"u{i}")) + "\n"
                       for i in range(200_000))
        done = {}

        def send():
            r = request(self.cp.host, self.cp.port, "POST", "/v1/import", body,
                        {"Authorization": "Bearer " + ADMIN}, timeout=120)
            done["status"], done["at"] = r.status, time.time()

        sender = threading.Thread(target=send)
        sender.start()
        deadline = time.time() + 60
        while "bytes received, parsing" not in self.cp.stderr():
            self.assertLess(time.time(), deadline)
            time.sleep(0.005)
        read = self.ok("GET", "/v1/revision")
        read_at = time.time()
        sender.join(120)
        self.assertEqual(done["status"], 200)
        self.assertEqual(read["revision"], 1)  # answered from the snapshot before the import
        self.assertLess(read_at, done["at"])
        self.assertEqual(self.revision(), 2)

    def test_import_lists_every_bad_line_and_stores_nothing(self):
        self.start_cp()
        self.ok("PUT", "/v1/manifest", {"format": "yaml", "text": MANIFEST})
        lines = [json.dumps({"type": "user", "id": "ann"}),
                 "{broken",
                 json.dumps(relation("document", "d", "viewer", "user", "ann")),
                 json.dumps(relation("document", "d", "approver", "user", "ann")),
                 "",
                 json.dumps({"type": "user"}),
                 "[" * 100 + "]" * 100]
        r = self.call("POST", "/v1/import", "\n".join(lines) + "\n", headers={"Content-Type": "application/x-ndjson"})
        self.assertEqual(r.status, 400, r.body)
        errors = r.json()["error"]["errors"]
        self.assertEqual([e["line"] for e in errors], [2, 4, 6, 7])
        self.assertIn("approver", errors[1]["message"])
        self.assertIn("id", errors[2]["message"])
        self.assertEqual(self.revision(), 1)
        # Lines that parse but do not fit the manifest are named too (the write refuses them first).
        unfit = [json.dumps(relation("document", "d", "viewer", "user", "ann")),
                 json.dumps(relation("document", "d", "approver", "user", "ann")),
                 json.dumps(relation("document", "e", "viewer", "robot", "r2"))]
        r = self.call("POST", "/v1/import", "\n".join(unfit) + "\n")
        self.assertEqual(r.status, 400, r.body)
        errors = r.json()["error"]["errors"]
        self.assertEqual([e["line"] for e in errors], [2, 3])
        self.assertIn("approver", errors[0]["message"])
        self.assertIn("robot", errors[1]["message"])
        self.assertEqual(self.revision(), 1)
        good = "\n".join(lines[i] for i in (0, 2)) + "\n"
        r = self.call("POST", "/v1/import", good)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["rows"], 2)
        self.assertEqual(r.json()["revision"], 2)
        self.error("POST", "/v1/import", "\n\n")

    def test_import_limits(self):
        self.start_cp(extra=("--max-import-lines", "3", "--max-write-body", "1KiB"))
        body = "".join(json.dumps({"type": "user", "id": f"u{i}"}) + "\n" for i in range(10))
        e = self.error("POST", "/v1/import", body, status=413)
        self.assertIn("import limit", e["message"])
        e = self.error("PUT", "/v1/objects/user/a", {"display_name": "x" * 2000}, status=413)
        self.assertIn("body", e["message"])

    def test_wardenctl_import(self):
        self.start_cp()
        path = os.path.join(self.tmp.name, "data.jsonl")
        with open(path, "w") as f:
            for i in range(1000):
                f.write(json.dumps(relation("group", "g", "member", "user", f"u{i}")) + "\n")
        r = self.ctl("import", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("imported 1000 rows at revision 1", r.stdout)
        with open(path, "a") as f:
            f.write("nonsense\n")
        r = self.ctl("import", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 1001", r.stderr)


class ConcurrentWritersTest(ControlPlaneCase):
    def test_16_writers_get_distinct_gap_free_revisions(self):
        self.start_cp(extra=("--threads", "4"))
        writers, per_writer = 16, 25
        results = [[] for _ in range(writers)]
        errors = []

        def write(w):
            try:
                for i in range(per_writer):
                    r = request(self.cp.host, self.cp.port, "POST", "/v1/relations",
                                relation("group", f"g{w}", "member", "user", f"u{i}"),
                                {"Authorization": "Bearer " + ADMIN}, timeout=60)
                    if r.status != 200:
                        errors.append(r.body)
                    else:
                        results[w].append(r.json()["revision"])
            except Exception as e:
                errors.append(repr(e))

        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        revisions = sorted(r for rs in results for r in rs)
        self.assertEqual(revisions, list(range(1, writers * per_writer + 1)))
        for rs in results:
            self.assertEqual(rs, sorted(rs))  # each writer sees its own writes in order
        changes, after = [], 0
        while True:
            page = self.ok("GET", f"/v1/changes?after={after}&limit=100")["changes"]
            if not page:
                break
            changes += page
            after = page[-1]["revision"]
        self.assertEqual([c["revision"] for c in changes], revisions)
        written = {(c["ops"][0]["relation"]["object_id"], c["ops"][0]["relation"]["subject_id"]) for c in changes}
        self.assertEqual(len(written), writers * per_writer)


class MigrationTest(ControlPlaneCase):
    def test_opens_and_upgrades_a_version_1_database(self):
        fixture = os.path.join(SOURCE_DIR, "tests", "integration", "fixtures", "store-v1.db")
        shutil.copy(fixture, self.db)
        self.start_cp(token="ignored-because-a-token-exists")
        self.assertIn("migrated database", self.cp.stderr())
        r = self.ok("GET", "/v1/revision", token="fixture-token")
        self.assertEqual(r, {"revision": 3, "store_id": "0b6c54c3-1f1e-4c52-9d8e-3f5a7c2d9e10"})
        rel = self.ok("GET", "/v1/relations", token="fixture-token")["relations"]
        self.assertEqual(rel, [relation("document", "plan", "viewer", "user", "alice")])
        alice = self.ok("GET", "/v1/objects/user/alice", token="fixture-token")
        self.assertEqual(alice["properties"], {"roles": ["admin"]})
        # Version 2 added tags and edges; both work on the upgraded store.
        self.ok("POST", "/v1/policy-sets/3/tags", {"tag": "from-v1"}, token="fixture-token")
        self.assertEqual(self.ok("GET", "/v1/edges", token="fixture-token")["edges"], [])
        w = self.ok("POST", "/v1/relations", relation("document", "plan", "viewer", "user", "bob"), token="fixture-token")
        self.assertEqual(w["revision"], 4)
        self.cp.stop()
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 2)
        con.close()
        backups = [f for f in os.listdir(self.tmp.name) if f.startswith("store.db.v1-") and f.endswith(".bak")]
        self.assertEqual(len(backups), 1)
        con = sqlite3.connect(os.path.join(self.tmp.name, backups[0]))
        self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 1)
        self.assertEqual(con.execute("SELECT count(*) FROM relations").fetchone()[0], 1)
        con.close()
        # A second start has nothing to migrate and makes no new backup.
        self.start_cp()
        self.cp.stop()
        self.assertEqual(len([f for f in os.listdir(self.tmp.name) if f.endswith(".bak")]), 1)

    def test_newer_database_exits_2_with_one_line(self):
        con = sqlite3.connect(self.db)
        con.execute("CREATE TABLE future (x)")
        con.execute("PRAGMA user_version = 99")
        con.commit()
        con.close()
        r = subprocess.run([binary("warden-control-plane"), "--db", self.db, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("schema version 99", lines[0])
        self.assertIn("newer than this binary", lines[0])

    def test_missing_db_option_exits_2(self):
        r = subprocess.run([binary("warden-control-plane"), "--listen", "127.0.0.1:0"], capture_output=True,
                           text=True, timeout=30, env={k: v for k, v in os.environ.items() if k != "WARDEN_DB"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("--db", r.stderr)

    def test_wal_and_synchronous_full(self):
        self.start_cp()
        self.ok("PUT", "/v1/objects/user/a", {})
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("PRAGMA journal_mode").fetchone()[0], "wal")
        con.close()


class BackupRestoreTest(ControlPlaneCase):
    def test_backup_then_restore(self):
        self.start_cp()
        self.ok("PUT", "/v1/objects/user/a", {"display_name": "A"})
        backup = os.path.join(self.tmp.name, "backup.db")
        r = self.ctl("backup", backup)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.ctl("backup", backup).returncode, 2)  # never overwrites
        self.ok("PUT", "/v1/objects/user/b", {})
        store_id = self.ok("GET", "/v1/revision")["store_id"]
        # Restore refuses while the control plane holds the database.
        r = self.ctl("restore", backup, "--db", self.db)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("stop the control plane", r.stderr)
        self.cp.stop()
        r = self.ctl("restore", backup, "--db", self.db)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("revision 1", r.stdout)
        self.start_cp()
        self.assertEqual(self.ok("GET", "/v1/revision"), {"revision": 1, "store_id": store_id})
        self.error("GET", "/v1/objects/user/b", status=404)
        self.assertEqual(self.ok("GET", "/v1/objects/user/a")["display_name"], "A")
        bad = os.path.join(self.tmp.name, "not-a-db")
        with open(bad, "w") as f:
            f.write("hello")
        self.cp.stop()
        r = self.ctl("restore", bad, "--db", self.db)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a usable store", r.stderr)


if __name__ == "__main__":
    unittest.main()
