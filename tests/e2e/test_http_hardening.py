#!/usr/bin/env python3
"""HTTP-layer hardening (issue 12, findings 4, 5, 9 and 10; CONTRACT section 15).

- Connection caps: one client address cannot hold more than --max-connections-per-client
  connections, nor everyone together more than --max-connections; a refused connection gets
  a JSON 429/503 and is closed, and clients from other addresses are still answered
  (127.0.0.2 and 127.0.0.3 are loopback too: client sockets are bound to them).
- Log injection: control characters from a request (percent-decoded path, raw bytes,
  method) reach the log escaped, never raw, so no line can be forged.
- Request smuggling: two different Content-Length headers, Content-Length with
  Transfer-Encoding, two Transfer-Encoding or two Content-Type headers are answered 400 and
  the connection is closed; the request smuggled behind them never runs.
- Errors h2o used to answer by itself in plain text (garbage request line, more than 100
  headers, a head over h2o's limit, broken or oversized chunked bodies, a declared body over
  2 MiB, an unknown Expect) are the JSON error shape with a correct reason phrase, and so is
  every status the API sends (415 used to go out as "415 OK").

Each test here failed before the change that made it pass.
Run: CONVENE_BIN=build/convene CONVENE_SOURCE_DIR=. python3 tests/e2e/test_http_hardening.py
Python 3 standard library only.
"""

import json
import os
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (ADMIN_TOKEN, Server, main, metric, parse_prometheus,  # noqa: E402
                     run_convene, timeout_scale, wait_until, wrapper_from_env)

SCALE = timeout_scale(wrapper_from_env())  # timeouts stretch under valgrind

AUTH = b"Authorization: Bearer " + ADMIN_TOKEN.encode() + b"\r\n"
PER_CLIENT = 20
TOTAL = 30


def parse_responses(data):
    """Raw HTTP/1.1 bytes -> [(status, reason, {lower-case header: value}, body bytes)]."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.split(b"\r\n")
        m = re.match(rb"HTTP/1\.[01] (\d{3}) ?(.*)$", lines[0])
        if not m:
            break
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        length = int(headers.get("content-length", "0") or 0)
        out.append((int(m.group(1)), m.group(2).decode("latin-1"), headers, rest[:length]))
        data = rest[length:]
    return out


def exchange(host, port, data, timeout=5.0 * SCALE, source=None):
    """Sends bytes, reads until the server closes or goes quiet; returns (responses, closed)."""
    got, closed = exchange_raw(host, port, data, timeout, source)
    return parse_responses(got), closed


def exchange_raw(host, port, data, timeout=5.0 * SCALE, source=None):
    """exchange, with the bytes as they came: (bytes, closed)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    got, closed = b"", False
    try:
        s.connect((host, port))
        try:
            s.sendall(data)
        except (ConnectionResetError, BrokenPipeError):
            pass  # refused mid-body: the answer may still be waiting to be read
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            got += chunk
    except socket.timeout:
        pass
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    finally:
        s.close()
    return got, closed


REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed",
           413: "Payload Too Large", 415: "Unsupported Media Type", 417: "Expectation Failed",
           422: "Unprocessable Entity", 429: "Too Many Requests", 503: "Service Unavailable"}


class Checks:
    def assert_json_error(self, response, status, code=None, what=""):
        """A response (status, reason, headers, body) with the JSON error shape."""
        got_status, reason, headers, body = response
        self.assertEqual(got_status, status, "%s: %r" % (what, response))
        self.assertEqual(reason, REASONS[status], "%s: reason phrase" % what)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"),
                        "%s: %r" % (what, headers))
        err = json.loads(body.decode("utf-8"))["error"]
        self.assertIsInstance(err.get("message"), str, what)
        self.assertTrue(err["message"], what)
        if code is not None:
            self.assertEqual(err.get("code"), code, "%s: %r" % (what, err))
        return err


class ConnectionCapTest(unittest.TestCase, Checks):
    """A service with small caps; every test leaves no connection of its own open."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_args=["--max-connections", str(TOTAL),
                                     "--max-connections-per-client", str(PER_CLIENT)])
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            assert cls.srv.stop() == 0, cls.srv.stderr_tail()
        finally:
            cls.srv.cleanup()

    def connect(self, source):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5 * SCALE)
        s.bind((source, 0))
        s.connect((self.srv.host, self.srv.port))
        return s

    def metrics_from(self, source):
        responses, _ = exchange(self.srv.host, self.srv.port,
                                b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                source=source)
        self.assertEqual(responses[0][0], 200, responses)
        return parse_prometheus(responses[0][3].decode())

    def open_count(self, source="127.0.0.3"):
        # The scrape's own connection is open while it is answered.
        return metric(self.metrics_from(source), "convene_open_connections") - 1

    def hold(self, source, n):
        """n idle connections from source, once the service has accepted all of them."""
        before = self.open_count()
        socks = [self.connect(source) for _ in range(n)]
        wait_until(lambda: self.open_count() >= before + n, 5 * SCALE,
                   "%d connections accepted" % n)
        return socks

    def release(self, socks):
        for s in socks:
            s.close()
        wait_until(lambda: self.open_count() == 0, 5 * SCALE, "connections closed")

    def assert_refused(self, source, status, code):
        """A new connection from source is answered status (JSON) and closed at once."""
        t0 = time.monotonic()
        responses, closed = exchange(self.srv.host, self.srv.port,
                                     b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", source=source)
        self.assertTrue(closed, "a connection over the cap was kept open")
        self.assertLess(time.monotonic() - t0, 2.0 * SCALE)
        # The answer is best effort (the request may reset the close); when it came, it is JSON.
        for response in responses:
            self.assert_json_error(response, status, code, "refused from %s" % source)

    def healthz_from(self, source):
        responses, _ = exchange(self.srv.host, self.srv.port,
                                b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                source=source)
        return responses[0][0] if responses else None

    def test_per_client_cap(self):
        socks = self.hold("127.0.0.1", PER_CLIENT)
        try:
            refused_before = metric(self.metrics_from("127.0.0.2"),
                                    "convene_connections_refused_total", reason="per_client")
            for _ in range(3):
                self.assert_refused("127.0.0.1", 429, "too_many_connections")
            # Another address is still served, repeatedly.
            for _ in range(5):
                self.assertEqual(self.healthz_from("127.0.0.2"), 200)
            m = self.metrics_from("127.0.0.2")
            self.assertEqual(metric(m, "convene_connections_refused_total", reason="per_client"),
                             refused_before + 3)
            self.assertEqual(metric(m, "convene_connections_max_per_client"), PER_CLIENT)
            # One slot given back is one slot usable again.
            socks.pop().close()
            wait_until(lambda: self.open_count() == PER_CLIENT - 1, 5 * SCALE,
                       "one connection closed")
            self.assertEqual(self.healthz_from("127.0.0.1"), 200)
        finally:
            self.release(socks)
        self.assertEqual(self.healthz_from("127.0.0.1"), 200)

    def test_total_cap(self):
        refused_before = metric(self.metrics_from("127.0.0.3"), "convene_connections_refused_total",
                                reason="total")
        socks = self.hold("127.0.0.1", PER_CLIENT)
        try:
            socks += self.hold("127.0.0.2", TOTAL - PER_CLIENT - 1)
            # The last slot, taken by a client whose request is answered and kept alive.
            last = self.connect("127.0.0.2")
            socks.append(last)
            last.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while b'"ok"' not in got:
                got += last.recv(4096)
            for source in ("127.0.0.3", "127.0.0.4", "127.0.0.1"):
                self.assert_refused(source, 503, "too_many_connections")
        finally:
            self.release(socks)
        self.assertEqual(self.healthz_from("127.0.0.3"), 200)
        self.assertEqual(metric(self.metrics_from("127.0.0.3"), "convene_connections_refused_total",
                                reason="total"), refused_before + 3)

    def test_caps_reported_at_start(self):
        self.srv.wait_for_log("connections: at most %d, %d per client address (open-file limit "
                              % (TOTAL, PER_CLIENT))


class CapDefaultsTest(unittest.TestCase):
    """Caps follow the open-file limit; impossible ones are refused at start."""

    def test_defaults_follow_the_file_limit(self):
        with Server() as srv:
            m = srv.metrics()
            total = metric(m, "convene_connections_max")
            per_client = metric(m, "convene_connections_max_per_client")
            limit = metric(m, "convene_open_files_limit")
            self.assertGreater(limit, 0)
            self.assertGreater(total, 0)
            self.assertLess(total, limit, "no descriptors left for the database and webhooks")
            self.assertGreater(per_client, 0)
            self.assertLess(per_client, total)

    def test_cap_over_the_file_limit_is_lowered(self):
        with Server(extra_args=["--max-connections", "5000000"]) as srv:
            m = srv.metrics()
            self.assertLess(metric(m, "convene_connections_max"),
                            metric(m, "convene_open_files_limit"))
            srv.wait_for_log("--max-connections 5000000 is more than")

    def test_bad_values(self):
        for args in (["--max-connections", "0"], ["--max-connections", "-1"],
                     ["--max-connections-per-client", "x"],
                     ["--max-connections-per-client", "0"]):
            r = run_convene(["serve", "--db", "/nonexistent/x.db"] + args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn("invalid value for %s: '%s'" % tuple(args), r.stderr)


class HardeningTest(unittest.TestCase, Checks):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            assert cls.srv.running(), "the service died"
            assert cls.srv.stop() == 0, cls.srv.stderr_tail()
        finally:
            cls.srv.cleanup()

    def send(self, data, **kw):
        return exchange(self.srv.host, self.srv.port, data, **kw)

    def room_names(self):
        return {r["name"] for r in self.srv.get("/api/v1/rooms").body}

    # ================= finding 9: smuggling =================

    def smuggled(self, name):
        body = json.dumps({"name": name, "capacity": 3}).encode()
        return (b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\n" + AUTH +
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    def test_smuggling_refused(self):
        s1, s2, s3, s4, s5, s6 = (self.smuggled("smuggled-%d" % i) for i in range(1, 7))
        cases = {
            "two content-lengths": b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
            b"Content-Length: %d\r\n\r\n" % len(s1) + s1,
            "two content-lengths, longer first": b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: %d\r\nContent-Length: 0\r\n\r\n" % len(s2) + s2,
            "content-length then chunked": b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            % (len(s3) + 5) + s3,
            "chunked then content-length": b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
            b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n0\r\n\r\n"
            % (len(s4) + 5) + s4,
            "two transfer-encodings": b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
            b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + s5,
            "two content-types": b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\n" + AUTH +
            b"Content-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
            b"\r\n{}" + s6,
        }
        for what, data in cases.items():
            responses, closed = self.send(data)
            self.assertEqual(len(responses), 1, "%s: %r" % (what, responses))
            self.assert_json_error(responses[0], 400, "malformed", what)
            self.assertTrue(closed, "%s: connection kept open" % what)
        # Nothing smuggled ran, by the API and by the database.
        names = self.room_names()
        self.assertFalse({n for n in names if n.startswith("smuggled-")}, names)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM rooms WHERE name LIKE 'smuggled-%'"),
                         [(0,)])
        # Framing that agrees is served.
        # The same length twice is one length (RFC 9112 section 6.3); a request after it runs.
        body = json.dumps({"name": "twice-declared", "capacity": 2}).encode()
        data = (b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\n" + AUTH +
                b"Content-Type: application/json\r\nContent-Length: %d\r\nContent-Length: %d\r\n"
                b"\r\n" % (len(body), len(body)) + body +
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        responses, closed = self.send(data)
        self.assertEqual([r[0] for r in responses], [201, 200], responses)
        self.assertIn("twice-declared", self.room_names())
        # A chunked body alone is fine, and so is what is pipelined after it (the gate measures
        # the request h2o decoded in place to find where the next one starts).
        body = body.replace(b"twice-declared", b"chunked-ok")
        chunked = (b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\n" + AUTH +
                   b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n"
                   % (5, body[:5], len(body) - 5, body[5:]) +
                   b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 2 +
                   b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        responses, closed = self.send(chunked)
        self.assertEqual([r[0] for r in responses], [201, 200, 200, 200], responses)
        self.assertTrue(closed)
        self.assertIn("chunked-ok", self.room_names())

    # ================= finding 10: errors h2o wrote itself =================

    def test_h2o_errors_are_json(self):
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(101))
        chunk = b"%x\r\n" % (256 * 1024) + b"a" * (256 * 1024) + b"\r\n"
        cases = [
            ("garbage request line", b"\x00\x01\x02\xff garbage\r\n\r\n", 400, "malformed"),
            ("TLS hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03xyz\r\n\r\n", 400,
             "malformed"),
            ("no version", b"GET /healthz\r\nHost: x\r\n\r\n", 400, "malformed"),
            ("header without colon", b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n", 400, "malformed"),
            ("101 headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n", 400,
             "too_many_headers"),
            ("head over 408 KiB", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " +
             b"p" * (512 * 1024) + b"\r\n\r\n", 400, "header_too_large"),
            ("chunked body over 2 MiB", b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\n" + AUTH +
             b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 9 +
             b"0\r\n\r\n", 413, "too_large"),
            ("declared body over 2 MiB", b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\n" + AUTH +
             b"Content-Length: 3000000\r\n\r\n{", 413, "too_large"),
            ("broken chunks", b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\n" + AUTH +
             b"Transfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n", 400, "malformed"),
            ("content-length not a number", b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\n" + AUTH +
             b"Content-Length: abc\r\n\r\n{}", 400, "malformed"),
            ("unknown transfer-encoding", b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\n" + AUTH +
             b"Transfer-Encoding: gzip\r\n\r\n{}", 400, "malformed"),
            ("unknown expectation", b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\n" + AUTH +
             b"Expect: 200-ok\r\nContent-Length: 2\r\n\r\n{}", 417, "expectation_failed"),
        ]
        for what, data, status, code in cases:
            responses, closed = self.send(data)
            self.assertEqual(len(responses), 1, "%s: %r" % (what, responses))
            self.assert_json_error(responses[0], status, code, what)
            self.assertTrue(closed, "%s: connection kept open" % what)
        self.assertEqual(self.srv.get("/healthz", token=None).status, 200)

    def test_server_header_once_on_every_kind_of_answer(self):
        """Our handlers and the errors h2o writes name the server once (h2o's own is off)."""
        cases = [
            ("an answer", b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200),
            ("a 404", b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404),
            ("h2o's 413", b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\n" + AUTH +
             b"Content-Length: 3000000\r\n\r\n{", 413),
        ]
        for what, data, status in cases:
            got, _ = exchange_raw(self.srv.host, self.srv.port, data)
            head = got.partition(b"\r\n\r\n")[0].decode("latin-1")
            self.assertTrue(head.startswith("HTTP/1.1 %d " % status), "%s: %r" % (what, head))
            names = [line.partition(":")[0].lower() for line in head.split("\r\n")[1:]]
            self.assertEqual(names.count("server"), 1, "%s: %r" % (what, head))
            self.assertIn("\r\nserver: convene", head.lower(), what)

    def test_garbage_after_a_good_request(self):
        """A keep-alive connection's second request is checked like the first."""
        for tail in (b"\x16\x03\x01garbage\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                     b"Content-Length: 2\r\n\r\nab"):
            data = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + tail
            responses, closed = self.send(data)
            self.assertEqual(len(responses), 2, responses)
            self.assertEqual(responses[0][0], 200)
            self.assert_json_error(responses[1], 400, "malformed", repr(tail))
            self.assertTrue(closed)
        # And when it arrives later, in a separate packet.
        s = socket.create_connection((self.srv.host, self.srv.port), timeout=5 * SCALE)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            first = b""
            while b'"ok"' not in first:
                first += s.recv(4096)
            s.sendall(b"\x00\x01 garbage\r\n\r\n")
            rest = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                rest += chunk
        finally:
            s.close()
        self.assert_json_error(parse_responses(rest)[0], 400, "malformed", "late garbage")

    def test_reason_phrases(self):
        """Every status the API sends carries its reason phrase on the status line."""
        r = self.srv.request("POST", "/api/v1/rooms", raw_body=b"name=x",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((r.status, r.reason), (415, "Unsupported Media Type"))
        self.assertEqual(r.code, "unsupported_media_type")
        cases = [
            ("GET", "/api/v1/rooms", None, None, 401),
            ("GET", "/api/v1/rooms/nope", None, ADMIN_TOKEN, 404),
            ("PUT", "/api/v1/rooms", None, ADMIN_TOKEN, 405),
            ("POST", "/api/v1/rooms", {"name": 5}, ADMIN_TOKEN, 400),
            ("POST", "/api/v1/rooms", {"name": "r", "capacity": -1}, ADMIN_TOKEN, 422),
        ]
        for method, path, body, token, status in cases:
            r = self.srv.request(method, path, body, token=token)
            self.assertEqual((r.status, r.reason), (status, REASONS[status]), (method, path, r))

    # ================= finding 5: log injection =================

    def test_control_characters_never_reach_the_log(self):
        forged = "2030-01-01T00:00:00.000Z info access GET /api/v1/forged 200 1us"
        paths = [
            "/api/v1/rooms/x%0a" + forged.replace(" ", "%20"),
            "/api/v1/rooms/x%0d%0a" + forged.replace(" ", "%20"),
            "/api/v1/rooms/esc%1b%5b2J%1b%5b31mred",
            "/api/v1/rooms/nul%00byte",
            "/api/v1/rooms/del%7f%08back",
            "/api/v1/rooms/c1%c2%9bcsi",
        ]
        for path in paths:
            self.assertEqual(self.srv.get(path).status, 404, path)
        # Raw bytes in the request line: a lone C1 CSI (0x9b) and invalid UTF-8.
        responses, _ = self.send(b"GET /api/v1/rooms/raw\x9b31m\xff HTTP/1.1\r\nHost: x\r\n" +
                                 AUTH + b"Connection: close\r\n\r\n")
        self.assertEqual(responses[0][0], 404, responses)
        # A method with a control character never gets to the log raw either.
        self.send(b"G\x1bT /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.srv.wait_for_log("/api/v1/rooms/raw")
        time.sleep(0.4)  # the log is flushed every 250 ms
        with open(self.srv.log_path, "rb") as f:
            log = f.read()
        self.assertNotIn(b"\x1b", log)
        self.assertNotIn(b"\x00", log)
        self.assertNotIn(b"\x7f", log)
        self.assertNotIn(b"\x08", log)
        self.assertNotIn(b"\r", log)
        # The log is UTF-8 throughout (Chinese lines hold 0x9b inside characters such as
        # 国, so look for the C1 control as a character, not as a byte).
        text = log.decode("utf-8")
        self.assertNotIn("\x9b", text)
        self.assertNotIn(b"\xff", log)
        for line in log.split(b"\n"):
            if line:
                self.assertRegex(line, rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warn|error) ",
                                 "a line not written by the service: %r" % line[:200])
                message = re.split(rb" (?:info|warn|error) ", line, maxsplit=1)[1]
                self.assertNotIn(b"access GET /api/v1/forged", message[:30])
        text = log.decode("utf-8")
        # The characters are there, escaped, on the request's own line.
        self.assertIn("/api/v1/rooms/x\\x0a2030-01-01T00:00:00.000Z info access GET /api/v1/forged",
                      text)
        self.assertIn("/api/v1/rooms/esc\\x1b[2J\\x1b[31mred 404", text)
        self.assertIn("/api/v1/rooms/nul\\x00byte 404", text)
        self.assertIn("/api/v1/rooms/c1\\xc2\\x9bcsi 404", text)
        self.assertIn("/api/v1/rooms/raw\\x9b31m\\xff 404", text)


if __name__ == "__main__":
    main()
