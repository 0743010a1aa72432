"""Fake 企业微信 (WeCom) group robots and 钉钉 (DingTalk) custom robots on 127.0.0.1.

Python 3 standard library only. One HTTP server plays any number of robots, each known by
its key (WeCom `?key=`) or access token (DingTalk `?access_token=`), and checks every request
the way the real services do before answering with their JSON `{"errcode", "errmsg"}`:

    from robot_receiver import Robots

    with Robots() as robots:
        url = robots.wecom_url("drivers")                   # .../cgi-bin/webhook/send?key=drivers
        url = robots.dingtalk_url("canteen", secret="SEC…") # .../robot/send?access_token=canteen
        robots.script("drivers", 45009, 0)                  # answers, in order; then errcode 0
        robots.script("canteen", {"http": 500}, 310000)     # an HTTP 500, then a bad-sign errcode
        robots.limit("drivers", 20, 60.0)                   # refuse (45009/130101) past 20 per 60 s
        msgs = robots.wait_for("drivers", count=3)          # [Message], oldest first
        msgs[0].markdown, msgs[0].title, msgs[0].problems, msgs[0].errcode

What is checked (each failure is listed in Message.problems and answered as the real robot
would; a test asserts `problems == []` for the messages it expects to succeed):
- POST, Content-Type application/json, a UTF-8 JSON object body;
- WeCom: {"msgtype":"markdown","markdown":{"content"}} and nothing else; content at most 4096
  bytes (else errcode 40058);
- DingTalk: {"msgtype":"markdown","markdown":{"title","text"}}; with a secret, `timestamp`
  (milliseconds) and `sign` in the query: sign = urlencode(base64(HMAC-SHA256(key=secret,
  msg=timestamp + "\\n" + secret))) and the timestamp within an hour of now (else 310000);
  Message.skew_s says how far the timestamp was from the arrival;
- the robot's own rate limit, when set with limit(): more than N requests in any window
  is refused (WeCom 45009, DingTalk 130101), as the real robots do with 20 a minute.

An action is an errcode (int), or a dict with `http` (answer that HTTP status with a plain
body) or `errcode`/`errmsg`. Scripted actions apply only to requests that pass the checks.
"""

import base64
import hashlib
import hmac
import http.server
import json
import socketserver
import threading
import time
import urllib.parse

__all__ = ["Robots", "Message", "dingtalk_sign"]

WECOM_MAX = 4096
ERRMSG = {0: "ok", 45009: "api freq out of limit", 130101: "send too fast, exceed 20 times per minute",
          310000: "sign not match", 40058: "markdown.content exceed max length 4096",
          40008: "invalid message type", 400: "bad request"}


def dingtalk_sign(secret, timestamp_ms):
    """The 加签 of DingTalk's documentation, computed independently of convene."""
    msg = ("%d\n%s" % (timestamp_ms, secret)).encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


class Message:
    """One request a robot received."""

    def __init__(self, kind, name, path, query, headers, body, arrived):
        self.kind = kind            # "wecom" | "dingtalk"
        self.name = name            # key or access token
        self.path = path
        self.query = query          # {name: value} as sent (raw, still percent-encoded)
        self.headers = headers      # {lower-case name: value}
        self.body = body            # raw bytes
        self.arrived = arrived      # time.time()
        self.arrived_mono = time.monotonic()
        self.problems = []
        self.skew_s = None          # DingTalk: arrival minus signed timestamp, seconds
        self.errcode = None         # what we answered (None: an HTTP error without errcode)
        self.http_status = None
        try:
            self.json = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.json = None

    @property
    def markdown(self):
        md = (self.json or {}).get("markdown") or {}
        return md.get("content") if self.kind == "wecom" else md.get("text")

    @property
    def title(self):
        return ((self.json or {}).get("markdown") or {}).get("title")

    @property
    def headline(self):
        """The first line without its '### '."""
        text = self.markdown or ""
        return text.split("\n", 1)[0].lstrip("#").strip()

    def __repr__(self):
        return "<Message %s/%s errcode=%s %r problems=%s>" % (
            self.kind, self.name, self.errcode, (self.markdown or "")[:60], self.problems)


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, robots):
        self.robots = robots
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request, client_address):
        pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "e2e-robot/1"

    def log_message(self, fmt, *args):
        pass

    def _answer(self, status, payload, ctype="application/json"):
        data = payload if isinstance(payload, bytes) else payload.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        robots = self.server.robots
        arrived = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        raw_query = dict(p.split("=", 1) if "=" in p else (p, "")
                         for p in parsed.query.split("&") if p)
        if parsed.path == "/cgi-bin/webhook/send":
            kind, name = "wecom", query.get("key", "")
        elif parsed.path == "/robot/send":
            kind, name = "dingtalk", query.get("access_token", "")
        else:
            self._answer(404, "no such robot", "text/plain")
            return
        msg = Message(kind, name, parsed.path, raw_query,
                      {k.lower(): v for k, v in self.headers.items()}, body, arrived)
        status, errcode = robots._judge(msg, query)
        msg.http_status = status
        msg.errcode = errcode
        robots._record(msg)
        if errcode is None:
            self._answer(status, "internal error", "text/plain")
        else:
            self._answer(status, json.dumps({"errcode": errcode,
                                             "errmsg": ERRMSG.get(errcode, "error")}))

    def do_GET(self):
        self._answer(405, "method not allowed", "text/plain")


class Robots:
    """The fake robots; a context manager (start on enter, close on exit)."""

    def __init__(self):
        self.messages = []
        self._secrets = {}     # access token -> DingTalk secret
        self._scripts = {}     # name -> [action]
        self._limits = {}      # name -> (count, window_s)
        self._accepted = {}    # name -> [monotonic times of requests counted by the limit]
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._server = None

    def start(self):
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def close(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def port(self):
        return self._server.server_address[1]

    # ---- robots ----

    def wecom_url(self, key):
        return "http://127.0.0.1:%d/cgi-bin/webhook/send?key=%s" % (self.port, key)

    def dingtalk_url(self, token, secret=None):
        with self._lock:
            if secret is not None:
                self._secrets[token] = secret
        return "http://127.0.0.1:%d/robot/send?access_token=%s" % (self.port, token)

    def script(self, name, *actions):
        with self._lock:
            self._scripts[name] = list(actions)

    def limit(self, name, count, window_s):
        """Refuses requests to name past `count` in any `window_s` seconds, as the robots do."""
        with self._lock:
            self._limits[name] = (count, window_s)

    # ---- judging a request, as the real robot would ----

    def _shape(self, msg):
        body = msg.json
        if msg.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            msg.problems.append("content-type %r" % msg.headers.get("content-type"))
        if not isinstance(body, dict) or body.get("msgtype") != "markdown":
            msg.problems.append("not a markdown message: %r" % msg.body[:200])
            return 40008
        md = body.get("markdown")
        want = {"content"} if msg.kind == "wecom" else {"title", "text"}
        if set(body) != {"msgtype", "markdown"} or not isinstance(md, dict) or set(md) != want \
                or not all(isinstance(md[k], str) and md[k] for k in want):
            msg.problems.append("markdown members %r" % (md,))
            return 400
        if msg.kind == "wecom" and len(md["content"].encode("utf-8")) > WECOM_MAX:
            msg.problems.append("content of %d bytes" % len(md["content"].encode("utf-8")))
            return 40058
        return 0

    def _signature(self, msg, query):
        secret = self._secrets.get(msg.name)
        if msg.kind != "dingtalk" or secret is None:
            return 0
        stamp, sign = msg.query.get("timestamp"), msg.query.get("sign")
        if not stamp or not sign or not stamp.isdigit():
            msg.problems.append("unsigned request to a signed robot")
            return 310000
        msg.skew_s = msg.arrived - int(stamp) / 1000.0
        if abs(msg.skew_s) > 3600:
            msg.problems.append("timestamp %s is %.0f s away" % (stamp, msg.skew_s))
            return 310000
        if not hmac.compare_digest(sign, dingtalk_sign(secret, int(stamp))):
            msg.problems.append("sign %s does not match" % sign)
            return 310000
        return 0

    def _rate(self, msg):
        lim = self._limits.get(msg.name)
        if lim is None:
            return 0
        count, window = lim
        now = msg.arrived_mono
        times = [t for t in self._accepted.get(msg.name, []) if t > now - window]
        if len(times) >= count:
            msg.problems.append("over the robot's limit of %d per %.1f s" % (count, window))
            return 45009 if msg.kind == "wecom" else 130101
        times.append(now)
        self._accepted[msg.name] = times
        return 0

    def _judge(self, msg, query):
        with self._lock:
            code = self._shape(msg) or self._signature(msg, query) or self._rate(msg)
            if code:
                return 200, code
            script = self._scripts.get(msg.name)
            action = script.pop(0) if script else 0
        if isinstance(action, dict):
            if "http" in action:
                return action["http"], None
            return 200, action.get("errcode", 0)
        return 200, action

    def _record(self, msg):
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    # ---- reading ----

    def received(self, name=None):
        with self._lock:
            return [m for m in self.messages if name is None or m.name == name]

    def delivered(self, name=None):
        """The messages the robot posted to its group (errcode 0)."""
        return [m for m in self.received(name) if m.errcode == 0]

    def wait_for(self, name=None, count=1, timeout=10.0, delivered=False):
        """Waits for at least count requests (or posted messages) to name; returns them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [m for m in self.messages if (name is None or m.name == name)
                       and (not delivered or m.errcode == 0)]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("robots: wanted %d message(s) to %s within %.1f s, got "
                                         "%d: %r" % (count, name, timeout, len(got), got))
                self._cond.wait(min(left, 0.1))
