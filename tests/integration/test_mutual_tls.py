"""Mutual TLS end to end, with two CAs made by the test: a control plane with --tls-client-ca lets
in edges (WebSocket, pull, and the decision-log shipper) and wardenctl only with a certificate its
CA signed; edges without one, or with one from the other CA, never sync and are not ready; the
sync listener and an edge's API refuse the TLS handshake of a client without such a certificate."""
import http.client
import json
import re
import os
import shutil
import socket
import ssl
import tempfile
import unittest

from certificates import make_ca, make_cert
from harness import SOURCE_DIR, WardenTestCase, wait_until

TOKEN = "mtls-admin-token"
DRIVE = os.path.join(SOURCE_DIR, "examples", "drive")


class MutualTls(WardenTestCase):
    def setUp(self):
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl is not installed")
        self.dir = tempfile.mkdtemp(prefix="warden-mtls-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.ca = make_ca(self.dir, "trusted")
        self.ca_file = self.ca[0]
        self.server_cert, self.server_key = make_cert(self.dir, self.ca, "server", server=True)
        self.client = make_cert(self.dir, self.ca, "client")
        self.stranger = make_cert(self.dir, make_ca(self.dir, "other"), "stranger")

    # --- clients the test drives itself -------------------------------------------------------

    def tls_context(self, client=None, maximum_version=None):
        context = ssl.create_default_context(cafile=self.ca_file)
        if client:
            context.load_cert_chain(*client)
        if maximum_version:
            context.maximum_version = maximum_version
        return context

    def https(self, port, method, path, client=None, body=None, headers=None):
        """One request over TLS, presenting `client` (cert, key) when given; (status, body)."""
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=self.tls_context(client))
        headers = dict(headers or {})
        if body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def assert_handshake_refused(self, port, client=None):
        """The server ends the handshake of a client that presents `client` (or nothing): with
        TLS 1.2 the handshake itself fails; with TLS 1.3 the client's side completes first and the
        server's alert arrives in place of the first response, before any HTTP is answered."""
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            context = self.tls_context(client, ssl.TLSVersion.TLSv1_2)
            with self.assertRaises(ssl.SSLError) as refused:
                context.wrap_socket(raw, server_hostname="127.0.0.1").close()
        self.assertRegex(str(refused.exception), "HANDSHAKE_FAILURE|UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_REQUIRED")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with self.tls_context(client).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                try:
                    tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    answer = tls.recv(4096)
                except ssl.SSLError as alert:
                    self.assertRegex(str(alert), "CERTIFICATE_REQUIRED|UNKNOWN_CA|BAD_CERTIFICATE")
                except ConnectionResetError:
                    pass  # the reset of the request the server never read overtook its alert
                else:
                    self.assertEqual(b"", answer, "the server answered HTTP to a client it should refuse")

    def ctl(self, url, *args, env=None):
        full_env = {"WARDEN_URL": url, "WARDEN_TOKEN": TOKEN, "WARDEN_CA": self.ca_file, "WARDEN_CONFIG": "/dev/null"}
        full_env.update(env or {})
        return self.run_binary("wardenctl", *args, "--json", env=full_env)

    def client_flags(self):
        return ["--cert", self.client[0], "--key", self.client[1]]

    # --- processes ----------------------------------------------------------------------------

    def start_control_plane(self, *extra):
        return self.start("warden-control-plane", "--db", os.path.join(self.dir, "store.db"), "--listen",
                          "127.0.0.1:0", "--tls-cert", self.server_cert, "--tls-key", self.server_key,
                          "--tls-client-ca", self.ca_file, *extra, env={"WARDEN_ADMIN_TOKEN": TOKEN})

    def push_and_create_key(self, url):
        pushed = self.ctl(url, "push", DRIVE, *self.client_flags())
        self.assertEqual(0, pushed.returncode, pushed.stderr)
        created = self.ctl(url, "keys", "create", "mtls-edges", *self.client_flags())
        self.assertEqual(0, created.returncode, created.stderr)
        self.key_file = os.path.join(self.dir, "edge.key")
        with open(self.key_file, "w") as f:
            f.write(json.loads(created.stdout)["key"] + "\n")
        return json.loads(pushed.stdout)["revision"]

    def start_edge(self, url, name, mode, client=None, *extra):
        certificate = ["--control-plane-cert", client[0], "--control-plane-key", client[1]] if client else []
        return self.start("warden-edge", "--control-plane", url, "--control-plane-ca", self.ca_file, *certificate,
                          "--key-file", self.key_file, "--replica", os.path.join(self.dir, f"{name}.db"),
                          "--sync-mode", mode, "--listen", "127.0.0.1:0", *extra)

    def evaluate(self, edge, user, document, revision):
        response = edge.request("POST", "/access/v1/evaluation", headers={"Warden-Min-Revision": str(revision)}, body={
            "subject": {"type": "user", "id": user}, "action": {"name": "can_view"},
            "resource": {"type": "document", "id": document}})
        self.assertEqual(200, response.status, response.body)
        return response.json()["decision"]

    def assert_never_syncs(self, edge):
        sync = wait_until(lambda: (s := edge.request("GET", "/v1/status").json()["sync"])["state"] == "unreachable"
                          and s, timeout=15, message="the edge reporting the control plane unreachable")
        self.assertRegex(sync["error"], "^TLS .*failed: .*(certificate required|unknown ca)")
        self.assertEqual(0, sync.get("revision", 0), sync)
        self.assertEqual(503, edge.request("GET", "/readyz").status)

    # --- tests --------------------------------------------------------------------------------

    def test_control_plane_admits_only_clients_its_ca_signed(self):
        cp = self.start_control_plane()

        # wardenctl: without a certificate the TLS exchange fails, and says so.
        refused = self.ctl(cp.url, "revision")
        self.assertEqual(2, refused.returncode, refused.stdout + refused.stderr)
        self.assertRegex(refused.stderr, "TLS with .* failed: .*certificate required")
        revision = self.push_and_create_key(cp.url)
        # The certificate from the environment and from the config file work as the flags do.
        by_env = self.ctl(cp.url, "revision", env={"WARDEN_CERT": self.client[0], "WARDEN_KEY": self.client[1]})
        self.assertEqual(0, by_env.returncode, by_env.stderr)
        self.assertEqual(revision, json.loads(by_env.stdout)["revision"])
        config = os.path.join(self.dir, "wardenctl.yaml")
        with open(config, "w") as f:
            f.write(f"url: {cp.url}\ntoken: {TOKEN}\nca: {self.ca_file}\ncert: {self.client[0]}\nkey: {self.client[1]}\n")
        by_config = self.run_binary("wardenctl", "revision", "--json", "--config", config)
        self.assertEqual(0, by_config.returncode, by_config.stderr)
        # A certificate from another CA is refused like none; a key that is not the certificate's
        # is refused before connecting, naming the file.
        stranger = self.ctl(cp.url, "revision", "--cert", self.stranger[0], "--key", self.stranger[1])
        self.assertEqual(2, stranger.returncode, stranger.stdout)
        self.assertRegex(stranger.stderr, "TLS with .* failed: .*unknown ca")
        mismatched = self.ctl(cp.url, "revision", "--cert", self.client[0], "--key", self.stranger[1])
        self.assertEqual(2, mismatched.returncode, mismatched.stdout)
        self.assertIn(self.stranger[1], mismatched.stderr)
        self.assertIn("does not match", mismatched.stderr)

        # Edges with the certificate follow over wss and over https pull, and see new writes.
        edges = [self.start_edge(cp.url, "ws", "ws", self.client),
                 self.start_edge(cp.url, "pull", "pull", self.client, "--decision-log-flush", "200ms")]
        for edge in edges:
            self.assertTrue(self.evaluate(edge, "ada", "roadmap", revision))
        granted = self.ctl(cp.url, "relation", "set", "document:roadmap#viewer@user:mtls-user", *self.client_flags())
        self.assertEqual(0, granted.returncode, granted.stderr)
        revision = json.loads(granted.stdout)["revision"]
        for edge in edges:
            self.assertTrue(self.evaluate(edge, "mtls-user", "roadmap", revision))
            self.assertEqual("following", edge.request("GET", "/v1/status").json()["sync"]["state"])

        # The pull edge ships its decision log over HTTP with the certificate too.
        instance = re.search(r"decision log: .*, instance ([0-9a-f-]{36})", edges[1].stderr()).group(1)
        def shipped():
            status, body = self.https(cp.port, "GET", f"/v1/decisions?edge={instance}", self.client,
                                      headers={"Authorization": "Bearer " + TOKEN})
            self.assertEqual(200, status, body)
            return json.loads(body)["decisions"]
        entries = wait_until(lambda: len(shipped()) >= 2 and shipped(), message="the pull edge's decisions shipped")
        self.assertEqual({"ada", "mtls-user"}, {e["subject"]["id"] for e in entries})

        # Without a certificate, or with one from the other CA, an edge never syncs.
        for name, client in (("bare", None), ("stranger", self.stranger)):
            for mode in ("ws", "pull"):
                with self.subTest(client=name, mode=mode):
                    self.assert_never_syncs(self.start_edge(cp.url, f"{name}-{mode}", mode, client))

        # Python's ssl, the same way.
        self.assert_handshake_refused(cp.port)
        self.assert_handshake_refused(cp.port, self.stranger)
        self.assertEqual(200, self.https(cp.port, "GET", "/healthz", self.client)[0])

    def test_sync_listener_requires_client_certificates(self):
        cp = self.start_control_plane("--sync-listen", "127.0.0.1:0")
        line = wait_until(lambda: next((l for l in cp.stdout_lines if "sync endpoints on" in l), None),
                          message="the sync listener's address")
        sync_port = int(line.rsplit(":", 1)[1])
        self.assertIn("wss://", line)
        revision = self.push_and_create_key(cp.url)

        self.assert_handshake_refused(sync_port)
        self.assert_handshake_refused(sync_port, self.stranger)
        # The handshake with a certificate succeeds; the sync listener serves the sync endpoints only.
        self.assertEqual(401, self.https(sync_port, "GET", "/v1/changes?since=0", self.client)[0])

        sync_url = f"https://127.0.0.1:{sync_port}"
        edge = self.start_edge(sync_url, "ws", "ws", self.client)
        self.assertTrue(self.evaluate(edge, "ada", "roadmap", revision))
        self.assertEqual("following", edge.request("GET", "/v1/status").json()["sync"]["state"])
        self.assert_never_syncs(self.start_edge(sync_url, "bare", "ws"))

    def test_sighup_reloads_the_client_ca(self):
        import signal
        client_ca = os.path.join(self.dir, "clients-ca.pem")
        shutil.copy(self.ca_file, client_ca)
        cp = self.start("warden-control-plane", "--db", os.path.join(self.dir, "store.db"), "--listen",
                        "127.0.0.1:0", "--tls-cert", self.server_cert, "--tls-key", self.server_key,
                        "--tls-client-ca", client_ca, env={"WARDEN_ADMIN_TOKEN": TOKEN})
        self.assertEqual(200, self.https(cp.port, "GET", "/healthz", self.client)[0])
        self.assert_handshake_refused(cp.port, self.stranger)
        # Rotate to the other CA: its clients get in, the old CA's are shut out.
        shutil.copy(os.path.join(self.dir, "other-ca.pem"), client_ca)
        cp.signal(signal.SIGHUP)
        wait_until(lambda: "TLS certificate reloaded" in cp.stderr(), message="the reload")
        self.assertEqual(200, self.https(cp.port, "GET", "/healthz", self.stranger)[0])
        self.assert_handshake_refused(cp.port, self.client)

    def test_edge_api_requires_client_certificates(self):
        edge = self.start("warden-edge", "--data", DRIVE, "--listen", "127.0.0.1:0", "--tls-cert",
                          self.server_cert, "--tls-key", self.server_key, "--tls-client-ca", self.ca_file)
        self.assertTrue(edge.url.startswith("https://"), edge.url)
        self.assert_handshake_refused(edge.port)
        self.assert_handshake_refused(edge.port, self.stranger)
        status, body = self.https(edge.port, "POST", "/access/v1/evaluation", self.client, body={
            "subject": {"type": "user", "id": "ada"}, "action": {"name": "can_view"},
            "resource": {"type": "document", "id": "roadmap"}})
        self.assertEqual(200, status, body)
        self.assertTrue(json.loads(body)["decision"])

        # A client that resumes its TLS session (as curl and proxies do) is let in again, under
        # TLS 1.2 and 1.3 alike (OpenSSL fails such a handshake unless sessions have a context).
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.subTest(version=version):
                context = self.tls_context(self.client, version)
                session = None
                for attempt in range(2):
                    with socket.create_connection(("127.0.0.1", edge.port), timeout=10) as raw:
                        with context.wrap_socket(raw, server_hostname="127.0.0.1", session=session) as tls:
                            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                            answer = b""
                            while chunk := tls.recv(4096):
                                answer += chunk
                            self.assertTrue(answer.startswith(b"HTTP/1.1 200"), answer[:100])
                            self.assertEqual(attempt == 1, tls.session_reused)
                            session = tls.session

    def test_misconfigured_certificates_are_refused_at_start(self):
        base = ["--control-plane", "https://127.0.0.1:1", "--key-file", self.ca_file, "--listen", "127.0.0.1:0",
                "--replica", os.path.join(self.dir, "replica.db")]
        cases = [
            (["--control-plane-cert", self.client[0]], "control-plane-key"),
            (["--control-plane-key", self.client[1]], "control-plane-cert"),
            (["--control-plane-cert", self.client[0], "--control-plane-key", self.stranger[1]],
             f"client key '{self.stranger[1]}' does not match"),
            (["--control-plane-cert", "/nonexistent/cert.pem", "--control-plane-key", self.client[1]],
             "/nonexistent/cert.pem"),
            (["--control-plane-cert", self.client[0], "--control-plane-key", "/nonexistent/key.pem"],
             "/nonexistent/key.pem"),
        ]
        for extra, named in cases:
            with self.subTest(extra=extra):
                result = self.run_binary("warden-edge", *base, *extra)
                self.assertEqual(2, result.returncode, result.stdout + result.stderr)
                self.assertIn(named, result.stderr)
        # A client CA needs TLS: alone it would serve plain HTTP that verifies no one.
        servers = {"warden-edge": ["--data", DRIVE],
                   "warden-control-plane": ["--db", os.path.join(self.dir, "unused.db")]}
        for binary_name, own_args in servers.items():
            with self.subTest(binary=binary_name):
                result = self.run_binary(binary_name, "--listen", "127.0.0.1:0", "--tls-client-ca", self.ca_file,
                                         *own_args, env={"WARDEN_ADMIN_TOKEN": TOKEN})
                self.assertEqual(2, result.returncode, result.stdout + result.stderr)
                self.assertIn("tls-client-ca", result.stderr)
        missing_key = self.run_binary("wardenctl", "revision", "--url", "https://127.0.0.1:1", "--cert", self.client[0],
                                      env={"WARDEN_CONFIG": "/dev/null"})
        self.assertEqual(2, missing_key.returncode)
        self.assertIn(self.client[0], missing_key.stderr)


if __name__ == "__main__":
    unittest.main()
