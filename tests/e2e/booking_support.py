"""Shared helpers for the booking e2e tests (test_booking*.py, test_recurrence_oracle.py).

Uses tests/e2e/harness.py when it offers what we need; otherwise runs its own
minimal server: `convene serve --db TMP --listen 127.0.0.1:0` with
CONVENE_ADMIN_TOKEN, waits for `listening on http://127.0.0.1:PORT`, and
talks JSON over http.client (one connection per Client, so threads can each
hold their own).
"""

import datetime
import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("CONVENE_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
ADMIN_TOKEN = "cvn_e2e_booking_admin_token_0123456789"


def find_binary():
    env = os.environ.get("CONVENE_BIN")
    if env:
        return env
    for cand in (os.path.join(REPO, "build", "convene"),):
        if os.path.exists(cand):
            return cand
    sys.exit("CONVENE_BIN is not set and build/convene does not exist (build first)")


class Response:
    def __init__(self, status, body, headers):
        self.status = status
        self.raw = body
        self.headers = headers
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def code(self):
        """The error code of an error reply, or None."""
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"].get("code")
        return None

    @property
    def field(self):
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"].get("field")
        return None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.raw[:400].decode("utf-8", "replace"))


class Client:
    """One keep-alive HTTP connection with a bearer token."""

    def __init__(self, port, token=ADMIN_TOKEN, timeout=30):
        self.port = port
        self.token = token
        self.timeout = timeout
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def request(self, method, path, body=None, headers=None, raw=None):
        hdrs = {"Authorization": "Bearer " + self.token} if self.token else {}
        data = None
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
            hdrs["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if headers:
            hdrs.update(headers)
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                r = self.conn.getresponse()
                payload = r.read()
                res = Response(r.status, payload, {k.lower(): v for k, v in r.getheaders()})
                if r.getheader("connection", "").lower() == "close":
                    self.close()
                return res
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                # A keep-alive connection the server closed: retry once on a fresh one.
                # (Only idempotent reuse failures land here: the request never reached it.)
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None


class Server:
    """A convene server on a fresh database in a temporary directory."""

    def __init__(self, extra_args=(), env=None):
        self.bin = find_binary()
        self.dir = tempfile.mkdtemp(prefix="convene-e2e-")
        self.db = os.path.join(self.dir, "convene.db")
        self.extra_args = list(extra_args)
        self.env = env or {}
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.dir, "server.log")

    def start(self):
        env = dict(os.environ)
        env["CONVENE_ADMIN_TOKEN"] = ADMIN_TOKEN
        env.update(self.env)
        args = [self.bin, "serve", "--db", self.db, "--listen", "127.0.0.1:0",
                "--allow-private-webhooks",
                "--calendars", os.path.join(REPO, "calendars")] + self.extra_args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, env=env,
                                     cwd=self.dir)
        deadline = time.time() + 20
        line = b""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith(b"listening on http://"):
                self.port = int(line.strip().rsplit(b":", 1)[1])
                break
        if self.port is None:
            self.stop()
            raise RuntimeError("server did not start: %r\n%s" % (line, self.stderr_tail()))
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self):
        try:
            for _ in self.proc.stdout:
                pass
        except Exception:
            pass

    def stderr_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def client(self, token=ADMIN_TOKEN):
        return Client(self.port, token)

    def sql(self, query, args=()):
        """Reads the live database directly (WAL lets a reader in while the server runs)."""
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=10)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if exc[0] is not None:
            sys.stderr.write("--- server log tail ---\n%s\n" % self.stderr_tail())
        self.cleanup()
        return False


def expect(res, status, what=""):
    """Asserts the status; the message shows the body."""
    if res.status != status:
        raise AssertionError("%s: expected %d, got %r" % (what, status, res))
    return res


def today_utc():
    return datetime.datetime.now(datetime.timezone.utc).date()
