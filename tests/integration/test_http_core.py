"""The HTTP core as the real binaries serve it: health, errors, limits, config, graceful stop."""
import http.client
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import WardenTestCase, raw_connection


class EdgeHttpCore(WardenTestCase):
    def test_health_metrics_and_not_ready_without_a_snapshot(self):
        edge = self.start("warden-edge", "--listen", "127.0.0.1:0")
        status, _, body = edge.request("GET", "/healthz")
        self.assertEqual(200, status)
        self.assertEqual({"status": "ok"}, __import__("json").loads(body))
        ready = edge.request("GET", "/readyz")
        self.assertEqual(503, ready.status)
        self.assertEqual("not_ready", ready.json()["status"])
        self.assertIn("no snapshot", ready.json()["reason"])
        metrics = edge.request("GET", "/metrics")
        self.assertEqual(200, metrics.status)
        self.assertTrue(metrics.headers["content-type"].startswith("text/plain"))
        self.assertIn('warden_http_requests_total{route="GET /healthz",code="2xx"} 1', metrics.body)
        self.assertIn("warden_http_request_duration_seconds_bucket", metrics.body)
        self.assertEqual(0, edge.stop())

    def test_error_bodies(self):
        edge = self.start("warden-edge", "--listen", "127.0.0.1:0", "--max-body", "1KiB")
        missing = edge.request("GET", "/no/such/route")
        self.assertEqual(404, missing.status)
        self.assertEqual("not_found", missing.json()["error"]["code"])
        wrong = edge.request("POST", "/healthz", body="{}")
        self.assertEqual(405, wrong.status)
        self.assertEqual("GET", wrong.headers["allow"])
        big = edge.request("GET", "/v1/ping", body="x" * 2048)
        self.assertEqual(413, big.status)
        self.assertIn("1024 bytes", big.json()["error"]["message"])

    def test_sigterm_finishes_the_request_in_flight_and_exits_zero(self):
        edge = self.start("warden-edge", "--listen", "127.0.0.1:0")
        sock = raw_connection(edge.host, edge.port)
        sock.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello")
        time.sleep(0.2)  # the request is now in flight: headers read, body half sent
        edge.signal(signal.SIGTERM)
        time.sleep(0.3)
        self.assertIsNone(edge.proc.poll(), "the edge exited with a request still in flight")
        sock.sendall(b"world")
        data = b""
        while b"\r\n\r\n{}" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data)
        self.assertIn(b"Connection: close", data)
        sock.close()
        self.assertEqual(0, edge.wait(10))

    def test_config_file_env_and_flags(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write("listen: 127.0.0.1:0\nmax-body: 100\n")
            path = f.name
        edge = self.start("warden-edge", "--config", path, env={"WARDEN_MAX_BODY": "200"})
        self.assertEqual(413, edge.request("GET", "/v1/ping", body="x" * 201).status)
        self.assertEqual(200, edge.request("GET", "/v1/ping", body="x" * 150).status)
        os.unlink(path)

    def test_invalid_config_is_one_line_and_exit_2(self):
        result = self.run_binary("warden-edge", "--threads", "zero")
        self.assertEqual(2, result.returncode)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(1, len(lines), result.stderr)
        self.assertIn("option 'threads'", lines[0])
        result = self.run_binary("warden-edge", "--listen", "nowhere")
        self.assertEqual(2, result.returncode)
        self.assertIn("HOST:PORT", result.stderr)

    def test_help_lists_options(self):
        result = self.run_binary("warden-edge", "--help")
        self.assertEqual(0, result.returncode)
        for option in ("--listen", "--threads", "--max-body", "--data", "WARDEN_LISTEN", "--log-format"):
            self.assertIn(option, result.stdout)

    def test_json_logs(self):
        edge = self.start("warden-edge", "--listen", "127.0.0.1:0", "--log-format", "json")
        edge.stop()
        import json
        lines = [l for l in edge.stderr().splitlines() if l.strip()]
        self.assertTrue(lines)
        for line in lines:
            self.assertIn("message", json.loads(line))


class Tls(WardenTestCase):
    def make_certificate(self, folder):
        cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        return cert, key

    def test_https_only_with_tls_1_2_or_later(self):
        folder = tempfile.mkdtemp(prefix="warden-tls-")
        cert, key = self.make_certificate(folder)
        edge = self.start("warden-edge", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key)
        context = ssl.create_default_context(cafile=cert)
        conn = http.client.HTTPSConnection(edge.host, edge.port, context=context, timeout=10)
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        self.assertEqual(200, response.status)
        self.assertIn(conn.sock.version(), ("TLSv1.2", "TLSv1.3"))
        conn.close()
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(cert)
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.minimum_version = ssl.TLSVersion.TLSv1
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            legacy = http.client.HTTPSConnection(edge.host, edge.port, context=old, timeout=5)
            legacy.request("GET", "/healthz")
            legacy.getresponse()
        # Plain HTTP on the TLS port gets no HTTP answer.
        plain = http.client.HTTPConnection(edge.host, edge.port, timeout=5)
        with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
            plain.request("GET", "/healthz")
            plain.getresponse()

    def test_tls_1_2_offers_only_forward_secret_suites(self):
        folder = tempfile.mkdtemp(prefix="warden-tls-")
        cert, key = self.make_certificate(folder)
        edge = self.start("warden-edge", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key)

        def client(ciphers):  # made outside the assertRaises: a client that cannot offer the suite proves nothing
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.load_verify_locations(cert)
            context.maximum_version = ssl.TLSVersion.TLSv1_2
            context.set_ciphers(ciphers)
            return context

        def handshake(context):
            conn = http.client.HTTPSConnection(edge.host, edge.port, context=context, timeout=5)
            try:
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                return conn.sock.cipher()[0]
            finally:
                conn.close()

        static_rsa = client("AES128-SHA")  # static RSA key exchange, CBC: no forward secrecy
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            handshake(static_rsa)
        self.assertTrue(handshake(client("ECDHE-RSA-AES128-GCM-SHA256")).startswith("ECDHE-RSA-AES128-GCM"))

    def test_missing_key_file_is_a_clear_startup_error(self):
        result = self.run_binary("warden-edge", "--listen", "127.0.0.1:0", "--tls-cert", "/nonexistent.pem",
                                 "--tls-key", "/nonexistent.key")
        self.assertEqual(1, result.returncode)
        self.assertIn("cannot load TLS certificate /nonexistent.pem", result.stderr)


class ControlPlaneHttpCore(WardenTestCase):
    def test_health(self):
        folder = tempfile.mkdtemp(prefix="warden-cp-")
        self.addCleanup(shutil.rmtree, folder, ignore_errors=True)
        cp = self.start("warden-control-plane", "--listen", "127.0.0.1:0", "--db", os.path.join(folder, "store.db"))
        self.assertEqual(200, cp.request("GET", "/healthz").status)
        self.assertEqual(0, cp.stop())


if __name__ == "__main__":
    unittest.main()
