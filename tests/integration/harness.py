"""Integration harness: starts Warden's real binaries on 127.0.0.1 with ephemeral ports, talks
HTTP to them, and always stops them, even when a test fails.

Binaries are found in $WARDEN_BIN_DIR (set by ctest). A server prints
"<name> listening on http://HOST:PORT" on stdout once it accepts connections; start() waits for it.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

BIN_DIR = os.environ.get("WARDEN_BIN_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))

_live = []


def binary(name):
    for sub in ("edge", "control-plane", ""):
        path = os.path.join(BIN_DIR, sub, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{name} not found under {BIN_DIR}")


class Process:
    """A running Warden binary. Use as a context manager or register with TestCase.addCleanup."""

    def __init__(self, name, args, env=None, wait_for_listen=True, timeout=20):
        self.name = name
        self.stdout_lines = []
        self.stderr_path = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".stderr", delete=False).name
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(self.stderr_path, "w") as stderr_file:
            self.proc = subprocess.Popen([binary(name)] + list(args), stdout=subprocess.PIPE,
                                         stderr=stderr_file, env=full_env, text=True)
        _live.append(self)
        self.url = None
        self._listening = threading.Event()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        if wait_for_listen:
            if not self._listening.wait(timeout):
                self.kill()
                raise RuntimeError(f"{name} did not start listening within {timeout}s; stderr:\n{self.stderr()}")

    def _read_stdout(self):
        for line in self.proc.stdout:
            self.stdout_lines.append(line.rstrip("\n"))
            if " listening on " in line and self.url is None:
                self.url = line.strip().split(" listening on ")[1]
                self._listening.set()

    @property
    def host(self):
        return self.url.split("://")[1].rsplit(":", 1)[0]

    @property
    def port(self):
        return int(self.url.rsplit(":", 1)[1])

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def sanitizer_report(self):
        """The first sanitizer report in stderr (sanitizer builds, scripts/test.sh), or None."""
        return sanitizer_report(self.stderr())

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15):
        """SIGTERM and wait; returns the exit code (kills after the timeout)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout and self._listening.is_set():
            self.proc.stdout.close()

    def wait(self, timeout=15):
        return self.proc.wait(timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def request(self, method, path, body=None, headers=None, timeout=10):
        return request(self.host, self.port, method, path, body, headers, timeout)

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, _, _ = self.request("GET", "/readyz")
            if status == 200:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready within {timeout}s")


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def __iter__(self):  # allows: status, headers, body = request(...)
        return iter((self.status, self.headers, self.body))


def request(host, port, method, path, body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    headers = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read().decode("utf-8", "replace")
    result = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    conn.close()
    return result


def raw_connection(host, port, timeout=10):
    sock = socket.create_connection((host, port), timeout=timeout)
    return sock


def wait_until(predicate, timeout=30, interval=0.05, message="condition"):
    """Polls `predicate` until it returns something true (returned), or fails the test naming
    `message` and the last value."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} not met within {timeout}s (last: {last!r})")


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
                     "runtime error: ")


def sanitizer_report(text):
    """The sanitizer report in a process's stderr, from its first line on, or None."""
    starts = [text.find(marker) for marker in SANITIZER_MARKERS if marker in text]
    if not starts:
        return None
    start = text.rfind("\n", 0, min(starts)) + 1
    return text[start:start + 6000]


def stop_all():
    for p in _live:
        p.kill()


class WardenTestCase(unittest.TestCase):
    """Stops every process a test started, pass or fail."""

    def start(self, name, *args, env=None, **kwargs):
        p = Process(name, list(args), env=env, **kwargs)
        # Cleanups run last-registered first: a graceful stop (so LeakSanitizer gets to look at
        # exit), then the check of what the sanitizers said over the whole life of the process.
        self.addCleanup(self._assert_no_sanitizer_report, p)
        self.addCleanup(p.stop, 10)
        return p

    def _assert_no_sanitizer_report(self, process):
        report = process.sanitizer_report()
        if report:
            self.fail(f"{process.name} reported:\n{report}")

    def run_binary(self, name, *args, env=None, input=None, timeout=60):
        full_env = dict(os.environ)
        full_env.update(env or {})
        result = subprocess.run([binary(name)] + list(args), capture_output=True, text=True, env=full_env,
                                input=input, timeout=timeout)
        report = sanitizer_report(result.stderr)
        if report:
            self.fail(f"{name} reported:\n{report}")
        return result
