"""A real HTTP webhook receiver on 127.0.0.1 for the end-to-end tests.

Python 3 standard library only. It records every request (arrival time, method, path,
headers, raw body bytes, the answer it gave) and answers per path as scripted:

    from webhook_receiver import Receiver

    with Receiver() as rx:                       # listening on 127.0.0.1:<free port>
        url = rx.url("/a")                       # http://127.0.0.1:PORT/a
        rx.script("/a", 500, 500, 200)           # then the default (200) for the rest
        rx.script("/b", {"status": 429, "retry_after": 2}, 200)
        rx.always("/gone", 410)                  # every request to /gone gets 410
        rx.script("/slow", {"stall": 30})        # first request hangs 30 s (then 200)
        ...
        reqs = rx.wait_for("/a", count=3, timeout=10)   # list of Request, oldest first
        reqs[0].json, reqs[0].headers["webhook-id"], reqs[0].arrived (time.time())

An action is an int status, or a dict with any of
    status       (default 200)
    retry_after  (sent as the Retry-After header, seconds)
    stall        (seconds to sleep before answering; release_stalls() or close() ends it
                  early, and then the connection is dropped without an answer)
    body         (bytes or str to answer with; default b"ok")
Scripted actions are used once each, in order; after them the path's default applies
(always(path, action) sets it; otherwise the receiver-wide default, 200).

Connections are counted (rx.connections) so a test can show that nothing ever connected.
"""

import http.server
import json
import socketserver
import threading
import time

__all__ = ["Receiver", "Request"]


class Request:
    """One recorded request."""

    def __init__(self, method, path, headers, body, arrived, arrived_mono, peer):
        self.method = method
        self.path = path
        self.headers = headers          # {lower-case name: value}
        self.raw_headers = []           # [(name, value)] as received
        self.body = body                # raw bytes exactly as received
        self.arrived = arrived          # time.time() when the request line arrived
        self.arrived_mono = arrived_mono
        self.peer = peer
        self.answered = None            # the status we answered (None: dropped / stalled)
        self.answered_at = None

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def msg_id(self):
        return self.headers.get("webhook-id")

    @property
    def type(self):
        try:
            return self.json.get("type")
        except ValueError:
            return None

    def __repr__(self):
        return "<Request %s %s id=%s type=%s at=%.3f answered=%s>" % (
            self.method, self.path, self.msg_id, self.type, self.arrived, self.answered)


def _normalize(action):
    if isinstance(action, int):
        return {"status": action}
    if isinstance(action, dict):
        return dict(action)
    raise TypeError("an action is an int status or a dict, not %r" % (action,))


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, receiver):
        self.receiver = receiver
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self):
        conn, addr = super().get_request()
        with self.receiver._lock:
            self.receiver.connections += 1
            self.receiver._sockets.add(conn)
        return conn, addr

    def shutdown_request(self, request):
        with self.receiver._lock:
            self.receiver._sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        pass  # a client (convene) hanging up mid-answer is not our error


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as a real receiver would offer
    server_version = "e2e-webhook-receiver/1"

    def log_message(self, fmt, *args):
        pass

    def _read_body(self):
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self):
        rx = self.server.receiver
        arrived, mono = time.time(), time.monotonic()
        body = self._read_body()
        path = self.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request(self.command, path, headers, body, arrived, mono, self.client_address)
        req.raw_headers = list(self.headers.items())
        action = rx._next_action(path)
        rx._record(req)
        stall = float(action.get("stall") or 0)
        if stall > 0 and rx._release.wait(stall):
            # Released early (the test is done with it): hang up without an answer.
            self.close_connection = True
            return
        status = int(action.get("status", 200))
        payload = action.get("body", b"ok")
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        try:
            self.send_response(status)
            if action.get("retry_after") is not None:
                self.send_header("Retry-After", str(action["retry_after"]))
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return
        with rx._cond:
            req.answered = status
            req.answered_at = time.time()
            rx._cond.notify_all()

    do_POST = _handle
    do_GET = _handle
    do_PUT = _handle


class Receiver:
    """The receiver; a context manager (start on enter, close on exit)."""

    def __init__(self, default=200):
        self.default = _normalize(default)
        self.requests = []
        self.connections = 0
        self._scripts = {}
        self._defaults = {}
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._release = threading.Event()
        self._sockets = set()
        self._server = None
        self._thread = None

    # ---- lifecycle ----

    def start(self):
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    @property
    def port(self):
        return self._server.server_address[1]

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def release_stalls(self):
        """Ends every stall now (those requests are dropped unanswered); later stalls run."""
        self._release.set()
        time.sleep(0.05)
        self._release.clear()

    def close(self):
        if self._server is None:
            return
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for s in list(self._sockets):
                try:
                    s.close()
                except OSError:
                    pass
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- scripting ----

    def script(self, path, *actions):
        """Answers the next requests to path with these actions, in order (replaces any
        earlier script of path)."""
        with self._lock:
            self._scripts[path] = [_normalize(a) for a in actions]

    def always(self, path, action):
        """The answer to path once its script is used up."""
        with self._lock:
            self._defaults[path] = _normalize(action)

    def _next_action(self, path):
        with self._lock:
            queue = self._scripts.get(path)
            if queue:
                return queue.pop(0)
            return dict(self._defaults.get(path, self.default))

    def _record(self, req):
        with self._cond:
            self.requests.append(req)
            self._cond.notify_all()

    # ---- reading ----

    def received(self, path=None, type=None, msg_id=None):
        """Recorded requests (oldest first), optionally only to path / of type / with id."""
        with self._lock:
            reqs = list(self.requests)
        out = []
        for r in reqs:
            if path is not None and r.path != path:
                continue
            if msg_id is not None and r.msg_id != msg_id:
                continue
            if type is not None and r.type != type:
                continue
            out.append(r)
        return out

    def wait_for(self, path=None, count=1, timeout=10.0, type=None, msg_id=None):
        """Waits until at least count matching requests arrived; returns them all.
        Raises AssertionError (listing what did arrive) on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = self.received_locked(path, type, msg_id)
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        "receiver: wanted %d request(s) path=%s type=%s id=%s within %.1f s, "
                        "got %d; everything received: %r"
                        % (count, path, type, msg_id, timeout, len(got), self.requests))
                self._cond.wait(min(left, 0.1))

    def wait_answered(self, req, timeout=10.0):
        """Waits until the receiver has answered req."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while req.answered is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("receiver: %r not answered within %.1f s" % (req, timeout))
                self._cond.wait(min(left, 0.1))
        return req

    def received_locked(self, path, type, msg_id):
        out = []
        for r in self.requests:
            if path is not None and r.path != path:
                continue
            if msg_id is not None and r.msg_id != msg_id:
                continue
            if type is not None and r.type != type:
                continue
            out.append(r)
        return out
