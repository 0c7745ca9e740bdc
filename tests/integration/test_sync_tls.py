"""A control plane and its edges over TLS end to end, with a CA made by the test: wardenctl pushes
over https, one edge follows over wss and one over https pull, both verifying the control plane
against the test CA; an edge that does not trust the CA refuses to sync and is not ready."""
import json
import os
import shutil
import tempfile
import unittest

from certificates import make_ca, make_cert
from harness import SOURCE_DIR, WardenTestCase

TOKEN = "tls-admin-token"


def make_ca_and_server_cert(folder):
    """A test CA and a server certificate for 127.0.0.1 and localhost signed by it."""
    ca = make_ca(folder, "test")
    cert, key = make_cert(folder, ca, "server", server=True)
    return ca[0], cert, key


class TlsSync(WardenTestCase):
    def setUp(self):
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl is not installed")
        self.dir = tempfile.mkdtemp(prefix="warden-tls-sync-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.ca, self.cert, self.key = make_ca_and_server_cert(self.dir)

    def ctl(self, url, *args, ca=None):
        env = {"WARDEN_URL": url, "WARDEN_TOKEN": TOKEN}
        if ca:
            env["WARDEN_CA"] = ca
        return self.run_binary("wardenctl", *args, "--json", env=env)

    def evaluate(self, edge, user, document, revision):
        response = edge.request("POST", "/access/v1/evaluation", headers={"Warden-Min-Revision": str(revision)}, body={
            "subject": {"type": "user", "id": user}, "action": {"name": "can_view"},
            "resource": {"type": "document", "id": document}})
        self.assertEqual(200, response.status, response.body)
        return response.json()["decision"]

    def test_control_plane_and_edges_over_tls(self):
        cp = self.start("warden-control-plane", "--db", os.path.join(self.dir, "store.db"), "--listen", "127.0.0.1:0",
                        "--tls-cert", self.cert, "--tls-key", self.key, env={"WARDEN_ADMIN_TOKEN": TOKEN})
        self.assertTrue(cp.url.startswith("https://127.0.0.1:"), cp.url)

        # wardenctl refuses a server it cannot verify, and works with the CA.
        untrusted = self.ctl(cp.url, "revision")
        self.assertEqual(2, untrusted.returncode, untrusted.stdout + untrusted.stderr)
        pushed = self.ctl(cp.url, "push", os.path.join(SOURCE_DIR, "examples", "drive"), ca=self.ca)
        self.assertEqual(0, pushed.returncode, pushed.stderr)
        pushed = json.loads(pushed.stdout)
        created = self.ctl(cp.url, "keys", "create", "tls-edges", ca=self.ca)
        self.assertEqual(0, created.returncode, created.stderr)
        key_file = os.path.join(self.dir, "edge.key")
        with open(key_file, "w") as f:
            f.write(json.loads(created.stdout)["key"] + "\n")

        edges = []
        for mode in ("ws", "pull"):
            edges.append(self.start("warden-edge", "--control-plane", cp.url, "--control-plane-ca", self.ca,
                                    "--key-file", key_file, "--replica", os.path.join(self.dir, f"{mode}.db"),
                                    "--sync-mode", mode, "--listen", "127.0.0.1:0"))
        for edge in edges:
            self.assertTrue(self.evaluate(edge, "ada", "roadmap", pushed["revision"]))
        granted = self.ctl(cp.url, "relation", "set", "document:roadmap#viewer@user:tls-user", ca=self.ca)
        self.assertEqual(0, granted.returncode, granted.stderr)
        revision = json.loads(granted.stdout)["revision"]
        for edge in edges:
            self.assertTrue(self.evaluate(edge, "tls-user", "roadmap", revision))
            self.assertEqual("following", edge.request("GET", "/v1/status").json()["sync"]["state"])

        # An edge that does not trust the control plane's CA never syncs.
        stranger = self.start("warden-edge", "--control-plane", cp.url, "--key-file", key_file,
                              "--replica", os.path.join(self.dir, "stranger.db"), "--sync-mode", "ws",
                              "--listen", "127.0.0.1:0")
        import time
        deadline = time.time() + 10
        sync = {}
        while time.time() < deadline:
            sync = stranger.request("GET", "/v1/status").json()["sync"]
            if sync["state"] == "unreachable":
                break
            time.sleep(0.05)
        self.assertEqual("unreachable", sync["state"])
        self.assertIn("TLS handshake", sync["error"])
        self.assertEqual(503, stranger.request("GET", "/readyz").status)

    def test_sighup_reloads_the_certificate_for_new_connections(self):
        import signal
        import ssl
        cp = self.start("warden-control-plane", "--db", os.path.join(self.dir, "store.db"), "--listen", "127.0.0.1:0",
                        "--tls-cert", self.cert, "--tls-key", self.key, env={"WARDEN_ADMIN_TOKEN": TOKEN})
        first = ssl.get_server_certificate(("127.0.0.1", cp.port))
        # Rotate: a new certificate from the same CA, written over the files the server was given.
        rotated = os.path.join(self.dir, "rotated")
        os.makedirs(rotated)
        _, new_cert, new_key = make_ca_and_server_cert(rotated)
        shutil.copy(new_cert, self.cert)
        shutil.copy(new_key, self.key)
        cp.signal(signal.SIGHUP)
        import time
        deadline = time.time() + 10
        while time.time() < deadline and "TLS certificate reloaded" not in cp.stderr():
            time.sleep(0.05)
        self.assertIn("TLS certificate reloaded", cp.stderr())
        second = ssl.get_server_certificate(("127.0.0.1", cp.port))
        self.assertNotEqual(first, second)
        with open(new_cert) as f:
            self.assertEqual(ssl.PEM_cert_to_DER_cert(f.read()), ssl.PEM_cert_to_DER_cert(second))
        # A broken rotation keeps the previous certificate serving.
        with open(self.key, "w") as f:
            f.write("not a key\n")
        cp.signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and "not reloaded" not in cp.stderr():
            time.sleep(0.05)
        self.assertIn("TLS certificate not reloaded", cp.stderr())
        self.assertEqual(second, ssl.get_server_certificate(("127.0.0.1", cp.port)))

    def test_a_bad_ca_bundle_is_refused_at_start(self):
        result = self.run_binary("warden-edge", "--control-plane", "https://127.0.0.1:1", "--control-plane-ca",
                                 "/nonexistent/ca.pem", "--key-file", self.ca, "--listen", "127.0.0.1:0")
        self.assertEqual(2, result.returncode)
        self.assertIn("control-plane-ca", result.stderr)


if __name__ == "__main__":
    unittest.main()
