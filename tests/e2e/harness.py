"""Reusable end-to-end harness: run the real `convene` binary and talk HTTP to it.

Python 3 standard library only. Typical use:

    from harness import Server, ADMIN_TOKEN

    with Server() as srv:                       # temp dir, fresh db, started
        r = srv.request("POST", "/api/v1/rooms", {"name": "第一会议室", "capacity": 12})
        assert r.status == 201, r
        status, headers, body = r              # a Response also unpacks as a 3-tuple
        srv.restart()                           # same db, new port
        assert srv.stop() == 0                  # SIGTERM, returns the exit code

What it does:
- `convene serve --db TMP/convene.db --listen 127.0.0.1:0 --calendars REPO/calendars
  [--allow-private-webhooks] [extra args]` with CONVENE_ADMIN_TOKEN set (or removed, with
  admin_token=None), cwd = the temporary directory.
- Waits for the stdout line `listening on http://127.0.0.1:PORT` (10 s, scaled under a
  wrapper); on failure the error shows the server's stderr.
- stdout lines are collected (srv.stdout_lines, srv.stdout_text()); stderr goes to a log file
  per start (srv.stderr_text(), srv.stderr_tail()), so a chatty server never blocks on a pipe.
- request(method, path, body=None, token=ADMIN, headers=None, raw_body=None) over one
  persistent http.client connection, reconnecting when the server closed it. body is sent as
  JSON (UTF-8, Content-Type application/json); raw_body (bytes or str) is sent as is.
  token=None sends no Authorization header. Returns a Response (status, headers, body) where
  body is the parsed JSON, text for text/* responses, else bytes. r.raw is the raw bytes.
- srv.client(token) gives an independent keep-alive connection (one per thread).
- stop(signal=SIGTERM) returns the exit code; kill() is SIGKILL; restart() keeps the db.
- sql(query) reads the live database (read-only, WAL lets it in beside the server).
- cli(args) runs another command of the binary (token, backup, seed, ...).
- The temporary directory is removed on cleanup() / leaving the `with` block, unless
  CONVENE_KEEP_TMP=1 (then its path is printed); a running server is killed at exit.
- CONVENE_WRAPPER (or wrapper=...) prefixes the serve command, e.g.
  "valgrind --leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite";
  then every timeout is multiplied by CONVENE_TIMEOUT_SCALE (default 10).

Environment: CONVENE_BIN (binary; default REPO/build/convene), CONVENE_SOURCE_DIR (repo root).
"""

import atexit
import gzip
import http.client
import json
import os
import queue
import select
import shlex
import shutil
import signal as _signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("CONVENE_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
ADMIN_TOKEN = "cvn_e2e_admin_token_0123456789abcdef"
START_TIMEOUT = 10.0
REQUEST_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

_DEFAULT = object()  # "use the server's admin token"
_live_servers = set()


def find_binary():
    """The convene binary: $CONVENE_BIN, else REPO/build/convene."""
    path = os.environ.get("CONVENE_BIN") or os.path.join(REPO, "build", "convene")
    if not os.path.isfile(path):
        sys.exit("convene binary not found at %s: build first or set CONVENE_BIN" % path)
    return os.path.abspath(path)


def wrapper_from_env():
    """The command prefix from $CONVENE_WRAPPER as a list ([] when unset)."""
    return shlex.split(os.environ.get("CONVENE_WRAPPER", ""))


def timeout_scale(wrapper):
    if not wrapper:
        return 1.0
    return float(os.environ.get("CONVENE_TIMEOUT_SCALE", "10"))


class Response:
    """One HTTP answer. Unpacks as (status, headers, body); headers are case-insensitive."""

    def __init__(self, status, headers, raw, reason=""):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage: get() is case-insensitive
        self.raw = raw
        self.reason = reason
        self.body = self._decode()

    def _decode(self):
        ctype = (self.headers.get("Content-Type") or "").lower()
        data = self.raw
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            try:
                data = gzip.decompress(data)
            except OSError:
                return self.raw
        if "json" in ctype:
            if not data:
                return None
            try:
                return json.loads(data.decode("utf-8"))
            except ValueError:
                return data.decode("utf-8", "replace")
        if ctype.startswith("text/") or not ctype:
            return data.decode("utf-8", "replace")
        return data

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    def __getitem__(self, i):
        return (self.status, self.headers, self.body)[i]

    def __len__(self):
        return 3

    @property
    def json(self):
        return self.body if isinstance(self.body, (dict, list)) else None

    def _error(self):
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"]
        return {}

    @property
    def code(self):
        """error.code of an error reply, or None."""
        return self._error().get("code")

    @property
    def field(self):
        """error.field of an error reply, or None."""
        return self._error().get("field")

    @property
    def message(self):
        return self._error().get("message")

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def __repr__(self):
        shown = self.raw[:600].decode("utf-8", "replace")
        return "<Response %d %s>" % (self.status, shown)


class Client:
    """One keep-alive HTTP/1.1 connection with a default bearer token."""

    def __init__(self, host, port, token=ADMIN_TOKEN, timeout=REQUEST_TIMEOUT):
        self.host = host
        self.port = port
        self.token = token
        self.timeout = timeout
        self.conn = None
        self.connects = 0       # TCP connections opened so far
        self.last_reused = False  # whether the last request went over an existing connection

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.conn.connect()
        self.connects += 1

    def _peer_closed(self):
        """True when the idle connection was closed by the server (EOF readable)."""
        sock = self.conn.sock if self.conn is not None else None
        if sock is None:
            return True
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            return sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None

    def request(self, method, path, body=None, token=_DEFAULT, headers=None, raw_body=None):
        token = self.token if token is _DEFAULT else token
        hdrs = {}
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        data = None
        if raw_body is not None:
            data = raw_body.encode("utf-8") if isinstance(raw_body, str) else raw_body
            hdrs["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if headers:
            hdrs.update(headers)
        for attempt in (0, 1):
            if self.conn is not None and self._peer_closed():
                self.close()
            reused = self.conn is not None
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                # Only a reused connection is retried: the server closed it while idle, so
                # the request never reached it. A fresh connection failing is a real error.
                self.close()
                if not reused or attempt == 1:
                    raise
                continue
            self.last_reused = reused
            res = Response(resp.status, resp.headers, raw, resp.reason)
            if resp.will_close:
                self.close()
            return res
        raise AssertionError("unreachable")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class ServerError(AssertionError):
    pass


class Server:
    """A convene service on its own temporary directory and database.

    Server(extra_args=[...], admin_token=ADMIN_TOKEN|None|"...", env={...},
           wrapper=None (from $CONVENE_WRAPPER) | [] | [...], private_webhooks=True,
           calendars=REPO/calendars, start=False, tmpdir=None, db=None)
    """

    def __init__(self, extra_args=(), admin_token=ADMIN_TOKEN, env=None, wrapper=None,
                 private_webhooks=True, calendars=None, start=False, tmpdir=None, db=None):
        self.bin = find_binary()
        self.own_tmp = tmpdir is None
        self.dir = tmpdir or tempfile.mkdtemp(prefix="convene-e2e-")
        self.db = db or os.path.join(self.dir, "convene.db")
        self.extra_args = list(extra_args)
        self.admin_token = admin_token
        self.env = dict(env or {})
        self.wrapper = wrapper_from_env() if wrapper is None else list(wrapper)
        self.scale = timeout_scale(self.wrapper)
        self.private_webhooks = private_webhooks
        if calendars is None:
            calendars = os.path.join(REPO, "calendars")
        self.calendars = calendars if calendars and os.path.isdir(calendars) else None
        self.proc = None
        self.port = None
        self.host = "127.0.0.1"
        self.starts = 0
        self.stdout_lines = []
        self.log_path = None
        self._lines = None
        self._client = None
        self.exit_code = None
        if start:
            self.start()

    # ---- lifecycle ----

    def command(self):
        args = [self.bin, "serve", "--db", self.db, "--listen", "127.0.0.1:0"]
        if self.calendars:
            args += ["--calendars", self.calendars]
        if self.private_webhooks:
            args.append("--allow-private-webhooks")
        return self.wrapper + args + self.extra_args

    def _environment(self):
        env = dict(os.environ)
        env.pop("CONVENE_ADMIN_TOKEN", None)
        if self.admin_token is not None:
            env["CONVENE_ADMIN_TOKEN"] = self.admin_token
        env.update(self.env)
        return env

    def start(self, timeout=START_TIMEOUT):
        """Starts the service; returns self. Raises ServerError (with stderr) on failure."""
        if self.running():
            raise ServerError("already running")
        self.starts += 1
        self.stdout_lines = []
        self.exit_code = None
        self.log_path = os.path.join(self.dir, "server-%d.log" % self.starts)
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=log,
                                         stdin=subprocess.DEVNULL, env=self._environment(),
                                         cwd=self.dir)
        finally:
            log.close()
        _live_servers.add(self)
        self._lines = queue.Queue()
        # Each run's reader appends to that run's list, so a late line of a stopped run
        # never lands in the next one.
        threading.Thread(target=self._read_stdout, args=(self.proc, self._lines,
                                                         self.stdout_lines),
                         daemon=True).start()
        deadline = time.monotonic() + timeout * self.scale
        self.port = None
        while self.port is None:
            left = deadline - time.monotonic()
            if left <= 0:
                try:
                    self.stop(timeout=2)  # SIGTERM first: the service flushes its log
                except ServerError:
                    pass
                raise ServerError("no 'listening on' line within %.0f s\n%s"
                                  % (timeout * self.scale, self._diagnostics()))
            try:
                line = self._lines.get(timeout=min(left, 0.2))
            except queue.Empty:
                if self.proc.poll() is not None:
                    self.proc.wait()
                    self.exit_code = self.proc.returncode
                    raise ServerError("server exited with %d before listening\n%s"
                                      % (self.exit_code, self._diagnostics()))
                continue
            if line is None:
                continue
            if line.startswith("listening on http://"):
                hostport = line[len("listening on http://"):].strip()
                self.host, port = hostport.rsplit(":", 1)
                self.port = int(port)
        self._client = Client(self.host, self.port, self.admin_token,
                              REQUEST_TIMEOUT * self.scale)
        return self

    @staticmethod
    def _read_stdout(proc, lines, collected):
        try:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                collected.append(line)
                lines.put(line)
        except (OSError, ValueError):
            pass  # stdout closed by _finish
        lines.put(None)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, signal=_signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Sends signal and waits; returns the exit code (negative: killed by a signal).

        If the process outlives timeout it is killed and ServerError is raised.
        """
        if self._client is not None:
            self._client.close()
        if self.proc is None:
            return self.exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(signal)
            try:
                self.proc.wait(timeout=timeout * self.scale)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._finish()
                raise ServerError("server did not exit within %.0f s of signal %d\n%s"
                                  % (timeout * self.scale, signal, self._diagnostics()))
        self._finish()
        return self.exit_code

    def kill(self):
        """SIGKILL (a crash); returns the exit code."""
        return self.stop(_signal.SIGKILL)

    def _finish(self):
        self.exit_code = self.proc.returncode
        try:
            self.proc.stdout.close()
        except OSError:
            pass
        self.proc = None
        _live_servers.discard(self)

    def restart(self, extra_args=None, signal=_signal.SIGTERM, **changes):
        """Stops (if running) and starts again on the same database; returns the exit code
        of the stop. extra_args / admin_token / env / wrapper may be replaced."""
        rc = self.stop(signal) if self.running() else self.exit_code
        if extra_args is not None:
            self.extra_args = list(extra_args)
        for key, value in changes.items():
            if key not in ("admin_token", "env", "wrapper", "private_webhooks", "calendars"):
                raise TypeError("restart() got an unexpected argument %r" % key)
            setattr(self, key, value)
        self.scale = timeout_scale(self.wrapper)
        self.start()
        return rc

    def cleanup(self):
        """Kills a running server and removes the temporary directory."""
        if self.running():
            try:
                self.stop()
            except ServerError:
                pass
        if self.own_tmp:
            if os.environ.get("CONVENE_KEEP_TMP"):
                sys.stderr.write("keeping %s\n" % self.dir)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        if not self.running():
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.log_path:
            if self.running():
                try:
                    self.stop(timeout=5)  # flushes the service's buffered log
                except ServerError:
                    pass
            sys.stderr.write("--- convene stderr (tail) ---\n%s\n" % self.stderr_tail())
        self.cleanup()
        return False

    # ---- output ----

    def stdout_text(self):
        return "\n".join(self.stdout_lines)

    def stderr_text(self, start=None):
        """The stderr of the current (or last) run; start=N for an earlier run."""
        path = self.log_path if start is None else os.path.join(self.dir, "server-%d.log" % start)
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def stderr_tail(self, n=4000):
        return self.stderr_text()[-n:]

    def _diagnostics(self):
        return ("command: %s\n--- stdout ---\n%s\n--- stderr ---\n%s"
                % (" ".join(shlex.quote(a) for a in self.command()), self.stdout_text(),
                   self.stderr_tail()))

    def wait_for_log(self, text, timeout=5.0):
        """Waits until text appears in stderr (the service flushes its log every 250 ms)."""
        return wait_until(lambda: text in self.stderr_text(), timeout * self.scale,
                          "%r in the server log" % text)

    # ---- HTTP ----

    @property
    def base_url(self):
        return "http://%s:%d" % (self.host, self.port)

    def url(self, path):
        return self.base_url + path

    def request(self, method, path, body=None, token=_DEFAULT, headers=None, raw_body=None):
        """One request over the server's shared keep-alive connection; see Client.request."""
        if self._client is None:
            raise ServerError("server not started")
        return self._client.request(method, path, body, token, headers, raw_body)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    @property
    def connection(self):
        """The shared Client (its .connects counts TCP connections opened)."""
        return self._client

    def client(self, token=_DEFAULT):
        """A new independent keep-alive connection (e.g. one per thread)."""
        return Client(self.host, self.port, self.admin_token if token is _DEFAULT else token,
                      REQUEST_TIMEOUT * self.scale)

    def create_token(self, role, name="e2e", person=None):
        """Mints a token through the API as admin; returns (id, token)."""
        body = {"role": role, "name": name}
        if person is not None:
            body["person"] = person
        r = self.request("POST", "/api/v1/tokens", body)
        if r.status != 201:
            raise ServerError("token create failed: %r" % (r,))
        return r.body["id"], r.body["token"]

    def create(self, collection, body, token=_DEFAULT):
        """POSTs to /api/v1/<collection>, asserts 201 and returns the JSON object."""
        r = self.request("POST", "/api/v1/" + collection, body, token=token)
        if r.status != 201:
            raise ServerError("POST /api/v1/%s %r -> %r" % (collection, body, r))
        return r.body

    def metrics(self):
        """Parses /metrics into {(name, frozenset(labels.items())): value}."""
        r = self.request("GET", "/metrics", token=None)
        if r.status != 200:
            raise ServerError("GET /metrics -> %r" % (r,))
        return parse_prometheus(r.body)

    # ---- database and other commands ----

    def sql(self, query, args=()):
        """Rows of a query on the live database, read-only."""
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=10)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def cli(self, args, env=None, timeout=60, wrapper=False):
        """Runs `convene ARGS...` (not wrapped unless wrapper=True); returns CompletedProcess
        with text stdout/stderr."""
        full_env = dict(os.environ)
        full_env.pop("CONVENE_ADMIN_TOKEN", None)
        full_env.update(env or {})
        cmd = (self.wrapper if wrapper else []) + [self.bin] + list(args)
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, env=full_env, cwd=self.dir,
                              timeout=timeout * (self.scale if wrapper else 1),
                              universal_newlines=True)


def run_convene(args, env=None, timeout=60, cwd=None):
    """Runs the binary outside any server; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env.pop("CONVENE_ADMIN_TOKEN", None)
    full_env.update(env or {})
    return subprocess.run([find_binary()] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=full_env,
                          cwd=cwd, timeout=timeout, universal_newlines=True)


def wait_until(predicate, timeout, what="condition", interval=0.05):
    """Polls predicate until true; raises AssertionError naming what after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def parse_prometheus(text):
    """Prometheus text format -> {(name, frozenset(labels)): float}. Comments skipped."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "{" in line:
            name, rest = line.split("{", 1)
            labels_text, value = rest.rsplit("}", 1)
            labels = {}
            for part in _split_labels(labels_text):
                key, val = part.split("=", 1)
                labels[key.strip()] = json.loads(val)  # quoted, backslash escapes
        else:
            name, value = line.split(None, 1)
            labels = {}
        out[(name, frozenset(labels.items()))] = float(value.split()[0])
    return out


def _split_labels(text):
    parts, cur, quoted, escaped = [], "", False, False
    for ch in text:
        if escaped:
            cur += ch
            escaped = False
        elif ch == "\\":
            cur += ch
            escaped = True
        elif ch == '"':
            cur += ch
            quoted = not quoted
        elif ch == "," and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def metric(metrics, name, **labels):
    """The value of one series (0.0 when absent)."""
    return metrics.get((name, frozenset(labels.items())), 0.0)


def main():
    """unittest.main() that exits non-zero on failure (for ctest)."""
    unittest.main(verbosity=2)


@atexit.register
def _kill_leftovers():
    for srv in list(_live_servers):
        try:
            if srv.proc is not None and srv.proc.poll() is None:
                srv.proc.kill()
                srv.proc.wait()
        except OSError:
            pass
