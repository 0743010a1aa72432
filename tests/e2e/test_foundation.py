#!/usr/bin/env python3
"""End-to-end tests of the foundation (CONTRACT sections 1-3): the command line, health and
metrics, tokens and roles, people/rooms/vehicles, blocks, request validation and limits,
persistence, shutdown, backup, keep-alive and slow clients.

Run: CONVENE_BIN=build/convene CONVENE_SOURCE_DIR=. python3 tests/e2e/test_foundation.py
(exit status non-zero on failure). Python 3 standard library only.
"""

import base64
import hashlib
import os
import re
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import ADMIN_TOKEN, Server, metric, run_convene, wait_until  # noqa: E402

TOKEN_RE = re.compile(r"^cvn_[A-Za-z0-9_-]{22}$")

PERSON = {"name": "王建国", "role": "leader", "rank": 1, "department": "办公厅",
          "phone": "+86 10 6512 3456", "diet": "清真"}
ROOM = {"name": "第一会议室", "capacity": 20, "features": ["video", "projector"],
        "location": "机关大楼三楼", "setup_minutes": 15, "teardown_minutes": 10}
VEHICLE = {"name": "考斯特中巴", "plate": "京A·12345", "seats": 19}


def assert_error(test, r, status, code=None, field=None):
    """Checks status, the error shape of CONTRACT section 2, and code/field when given."""
    test.assertEqual(r.status, status, r)
    test.assertIsInstance(r.body, dict, r)
    err = r.body.get("error")
    test.assertIsInstance(err, dict, r)
    test.assertIsInstance(err.get("code"), str, r)
    test.assertIsInstance(err.get("message"), str, r)
    test.assertTrue(err["message"], r)
    if code is not None:
        test.assertEqual(err["code"], code, r)
    if field is not None:
        test.assertEqual(err.get("field"), field, r)
    test.assertTrue((r.header("Content-Type") or "").startswith("application/json"), r)


# --------------------------------------------------------------------------------------
# 1. The command line
# --------------------------------------------------------------------------------------

class CommandLineTest(unittest.TestCase):
    SERVE_DEFAULTS = {
        "--db": "var/convene.db",
        "--listen": "127.0.0.1:8080",
        "--public-url": "http://HOST:PORT",
        "--retry-schedule": "5,300,1800,7200,18000,36000,36000",
        "--allow-private-webhooks": "off",
        "--durability": "full",
        "--tz": "Asia/Shanghai",
        "--calendars": "calendars",
        "--driver-max-hours": "10",
        "--driver-min-rest": "8",
        "--ack-deadline": "60",
        "--cutoff": None,  # any default, but one must be shown
        "--disable-after": "5d",
    }

    def test_top_level_help(self):
        r = run_convene(["--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for command in ("serve", "token", "backup"):
            self.assertRegex(r.stdout, r"(?m)^\s+%s\b" % command)
        self.assertIn("--help", r.stdout)
        # No command at all is a usage error, not a crash.
        r = run_convene([])
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)

    def test_serve_help_lists_every_option_with_default(self):
        r = run_convene(["serve", "--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for option, default in self.SERVE_DEFAULTS.items():
            lines = [l for l in r.stdout.splitlines() if re.search(r"(^|\s)%s(\s|$)" % re.escape(option), l)]
            self.assertTrue(lines, "%s missing from serve --help:\n%s" % (option, r.stdout))
            m = re.search(r"\(default: ([^)]*)\)", lines[0])
            self.assertIsNotNone(m, "%s shows no default: %r" % (option, lines[0]))
            if default is not None:
                self.assertEqual(m.group(1), default, lines[0])
            else:
                self.assertTrue(m.group(1).strip(), lines[0])
        self.assertIn("CONVENE_ADMIN_TOKEN", r.stdout)

    def test_other_commands_help(self):
        for command in ("token", "backup"):
            r = run_convene([command, "--help"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"--db PATH.*\(default: var/convene\.db\)")

    def test_unknown_option_is_exit_2_with_message(self):
        with tempfile.TemporaryDirectory() as d:
            db = os.path.join(d, "x.db")
            r = run_convene(["serve", "--db", db, "--listen", "127.0.0.1:0", "--bogus"])
            self.assertEqual(r.returncode, 2)
            self.assertIn("--bogus", r.stderr)
            self.assertIn("unknown option", r.stderr)
            self.assertFalse(os.path.exists(db), "a refused start must not create the database")
            r = run_convene(["frobnicate"])
            self.assertEqual(r.returncode, 2)
            self.assertIn("frobnicate", r.stderr)

    def test_bad_values_refused(self):
        with tempfile.TemporaryDirectory() as d:
            db = os.path.join(d, "x.db")
            for args in (["--tz", "Mars/Base"], ["--tz=Mars/Base"], ["--durability", "sometimes"],
                         ["--retry-schedule", "5,,10"], ["--listen", "nowhere"],
                         ["--driver-max-hours", "ten"], ["--disable-after", "5x"],
                         ["--cutoff", "lunch=25:00"], ["--listen"]):
                r = run_convene(["serve", "--db", db, "--listen", "127.0.0.1:0"] + args)
                self.assertEqual(r.returncode, 2, "%s accepted: %s" % (args, r.stderr))
                self.assertTrue(r.stderr.strip(), args)
                if "Mars/Base" in " ".join(args):
                    self.assertIn("Mars/Base", r.stderr)
            self.assertFalse(os.path.exists(db))


# --------------------------------------------------------------------------------------
# 2-3. The API on one shared server
# --------------------------------------------------------------------------------------

class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        cls.srv.cleanup()
        if rc != 0:
            raise AssertionError("server exited with %r" % rc)

    def setUp(self):
        self.assertTrue(self.srv.running(), "the shared server died:\n" + self.srv.stderr_tail())

    # ---- helpers ----

    def req(self, *a, **kw):
        return self.srv.request(*a, **kw)

    def listing(self, plural):
        r = self.req("GET", "/api/v1/" + plural)
        self.assertEqual(r.status, 200, r)
        self.assertIsInstance(r.body, list)
        return r.body

    def row_count(self, table):
        return self.srv.sql("SELECT count(*) FROM %s" % table)[0][0]

    def assert_nothing_stored(self, plural, table, fn):
        """Runs fn (which makes refused requests); the list and the table must not change."""
        before, rows = self.listing(plural), self.row_count(table)
        fn()
        self.assertEqual(self.listing(plural), before)
        self.assertEqual(self.row_count(table), rows)

    def new_person(self, **over):
        body = dict(PERSON, **over)
        return self.srv.create("people", body)

    def new_room(self, **over):
        return self.srv.create("rooms", dict(ROOM, **over))

    # ---- health and metrics ----

    def test_healthz(self):
        r = self.req("GET", "/healthz", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["status"], "ok")
        # CONTRACT section 11 adds how far the working calendar reaches (and warnings while it
        # runs out: tests/e2e/test_workcal_upkeep.py).
        self.assertEqual(set(r.body) - {"warnings"}, {"status", "calendar_until"})
        self.assertTrue(r.header("Content-Type").startswith("application/json"))

    def test_metrics(self):
        before = self.srv.metrics()
        for _ in range(3):
            self.assertEqual(self.req("GET", "/healthz", token=None).status, 200)
        for _ in range(2):
            self.assertEqual(self.req("GET", "/no/such/thing").status, 404)
        self.assertEqual(self.req("POST", "/api/v1/rooms", {"name": "x", "capacity": 0}).status,
                         422)
        self.assertEqual(self.req("GET", "/api/v1/rooms", token="cvn_nope").status, 401)
        other = self.srv.client()
        self.assertEqual(other.get("/healthz").status, 200)

        r = self.req("GET", "/metrics", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/plain"), r.headers)
        text = r.body
        after = harness.parse_prometheus(text)
        other.close()

        def delta(**labels):
            name = "convene_http_requests_total"
            return metric(after, name, **labels) - metric(before, name, **labels)

        self.assertIn("# TYPE convene_http_requests_total counter", text)
        self.assertEqual(delta(method="GET", route="/healthz", status="200"), 4)
        self.assertEqual(delta(method="", route="unmatched", status="404"), 2)
        self.assertEqual(delta(method="POST", route="/api/v1/rooms", status="422"), 1)
        self.assertEqual(delta(method="GET", route="/api/v1/rooms", status="401"), 1)

        # A histogram: cumulative buckets ending in +Inf == _count, with a _sum.
        self.assertRegex(text, r"# TYPE convene_\w+_seconds histogram")
        hist = re.search(r"# TYPE (convene_\w+) histogram", text).group(1)
        buckets = []
        for (name, labels), value in after.items():
            d = dict(labels)
            if name == hist + "_bucket" and d.get("route") == "/healthz":
                buckets.append((float("inf") if d["le"] == "+Inf" else float(d["le"]), value))
        self.assertTrue(buckets, "no histogram buckets for /healthz")
        buckets.sort()
        values = [v for _, v in buckets]
        self.assertEqual(values, sorted(values), "buckets are not cumulative")
        self.assertEqual(buckets[-1][0], float("inf"))
        count = metric(after, hist + "_count", method="GET", route="/healthz")
        self.assertEqual(buckets[-1][1], count)
        self.assertGreaterEqual(count, 4)
        self.assertIn((hist + "_sum", frozenset({"method": "GET", "route": "/healthz"}.items())),
                      after)

        sizes = [v for (n, _), v in after.items() if n == "convene_db_size_bytes"]
        self.assertEqual(len(sizes), 1)
        self.assertGreater(sizes[0], 0)
        conns = [v for (n, _), v in after.items() if n == "convene_open_connections"]
        self.assertEqual(len(conns), 1)
        self.assertGreaterEqual(conns[0], 2, "this connection and the other one are open")
        # The other connection was closed: the gauge goes down.
        wait_until(lambda: metric(self.srv.metrics(), "convene_open_connections") < conns[0], 5,
                   "convene_open_connections to drop after a client left")

    # ---- auth ----

    def test_missing_and_unknown_tokens_401(self):
        for token, headers in ((None, None), ("cvn_AAAAAAAAAAAAAAAAAAAAAA", None),
                               (None, {"Authorization": "Basic YWRtaW46YWRtaW4="}),
                               (None, {"Authorization": "Bearer"}),
                               (ADMIN_TOKEN + "x", None), (ADMIN_TOKEN[:-1], None)):
            r = self.req("GET", "/api/v1/rooms", token=token, headers=headers)
            assert_error(self, r, 401, "unauthorized")
            self.assertIn("Bearer", r.header("WWW-Authenticate", ""))
        # A write without a token changes nothing.
        self.assert_nothing_stored("rooms", "rooms", lambda: assert_error(
            self, self.req("POST", "/api/v1/rooms", dict(ROOM), token=None), 401))

    def test_token_create_format_and_storage(self):
        r = self.req("POST", "/api/v1/tokens", {"role": "secretary", "name": "办公室秘书"})
        self.assertEqual(r.status, 201, r)
        self.assertIsInstance(r.body.get("id"), str)
        token = r.body.get("token")
        self.assertRegex(token, TOKEN_RE)
        raw = base64.urlsafe_b64decode(token[4:] + "==")
        self.assertEqual(len(raw), 16, "128 random bits")
        r2 = self.req("POST", "/api/v1/tokens", {"role": "secretary", "name": "another"})
        self.assertEqual(r2.status, 201, r2)
        self.assertNotEqual(r2.body["token"], token)
        self.assertNotEqual(r2.body["id"], r.body["id"])
        self.assertEqual(self.req("GET", "/api/v1/rooms", token=token).status, 200)

        # Nowhere in the database in plaintext, neither the new token nor the bootstrap one,
        # nor a feed token; tokens.hash is SHA-256 of the token.
        room = self.new_room(name="令牌检查室")
        feed_token = room["feed_url"].rsplit("/", 1)[1][:-len(".ics")]
        secrets = [token, r2.body["token"], ADMIN_TOKEN, feed_token]
        con = sqlite3.connect("file:%s?mode=ro" % self.srv.db, uri=True)
        try:
            tables = [t for (t,) in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")]
            self.assertIn("tokens", tables)
            for table in tables:
                for row in con.execute("SELECT * FROM \"%s\"" % table):
                    for value in row:
                        if isinstance(value, bytes):
                            value = value.decode("latin-1")
                        if isinstance(value, str):
                            for secret in secrets:
                                self.assertNotIn(secret, value, "plaintext secret in %s" % table)
            row = con.execute("SELECT hash FROM tokens WHERE id = ?", (r.body["id"],)).fetchone()
            self.assertIsNotNone(row, "token id not in tokens table")
            stored = row[0]
            digest = hashlib.sha256(token.encode()).digest()
            self.assertIn(stored, (digest, digest.hex(), hashlib.sha256(token.encode()).hexdigest()))
        finally:
            con.close()
        # Nor in the raw files (WAL included).
        for suffix in ("", "-wal"):
            path = self.srv.db + suffix
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data = f.read()
                for secret in secrets:
                    self.assertNotIn(secret.encode(), data, "plaintext secret in " + path)

    def test_token_validation(self):
        def refused():
            assert_error(self, self.req("POST", "/api/v1/tokens", {"role": "king", "name": "x"}),
                         422, field="role")
            assert_error(self, self.req("POST", "/api/v1/tokens", {"role": "leader", "name": "x"}),
                         422, field="person")
            assert_error(self, self.req("POST", "/api/v1/tokens", {"role": "driver", "name": "x"}),
                         422, field="person")
            assert_error(self, self.req("POST", "/api/v1/tokens",
                                        {"role": "leader", "name": "x", "person": "per_nobody"}),
                         422, field="person")
            assert_error(self, self.req("POST", "/api/v1/tokens", {"name": "x"}), 422,
                         field="role")
            assert_error(self, self.req("POST", "/api/v1/tokens", {"role": 1, "name": "x"}), 400,
                         field="role")
            assert_error(self, self.req("POST", "/api/v1/tokens",
                                        {"role": "admin", "name": "x", "rol": "y"}),
                         400, "unknown_field", "rol")
        before = self.row_count("tokens")
        refused()
        self.assertEqual(self.row_count("tokens"), before)

    def test_secretary_rights(self):
        _, token = self.srv.create_token("secretary", "秘书甲")
        room = self.new_room(name="秘书测试室")
        for plural in ("rooms", "people", "vehicles"):
            self.assertEqual(self.req("GET", "/api/v1/" + plural, token=token).status, 200)
        self.assertEqual(self.req("GET", "/api/v1/rooms/" + room["id"], token=token).status, 200)
        r = self.req("POST", "/api/v1/blocks",
                     {"resource": {"type": "room", "id": room["id"]},
                      "start": "2026-12-08T09:00:00", "end": "2026-12-08T10:00:00",
                      "tz": "Asia/Shanghai", "reason": "保洁"}, token=token)
        self.assertEqual(r.status, 201, r)

        def refused():
            assert_error(self, self.req("POST", "/api/v1/rooms", dict(ROOM), token=token), 403,
                         "forbidden")
            assert_error(self, self.req("PATCH", "/api/v1/rooms/" + room["id"],
                                        {"capacity": 99}, token=token), 403)
            assert_error(self, self.req("DELETE", "/api/v1/rooms/" + room["id"], token=token),
                         403)
        self.assert_nothing_stored("rooms", "rooms", refused)
        before = self.row_count("tokens")
        assert_error(self, self.req("POST", "/api/v1/tokens",
                                    {"role": "admin", "name": "escalate"}, token=token), 403)
        self.assertEqual(self.row_count("tokens"), before)

    def test_leader_rights(self):
        me = self.new_person(name="李领导")
        other = self.new_person(name="张副职", rank=2)
        r = self.req("POST", "/api/v1/tokens", {"role": "leader", "name": "李", "person": me["id"]})
        self.assertEqual(r.status, 201, r)
        token = r.body["token"]
        r = self.req("GET", "/api/v1/people/" + me["id"], token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["name"], "李领导")
        assert_error(self, self.req("GET", "/api/v1/people/" + other["id"], token=token), 403)
        assert_error(self, self.req("GET", "/api/v1/people", token=token), 403)
        assert_error(self, self.req("POST", "/api/v1/people", dict(PERSON), token=token), 403)
        assert_error(self, self.req("PATCH", "/api/v1/people/" + me["id"], {"rank": 1},
                                    token=token), 403)
        assert_error(self, self.req("POST", "/api/v1/tokens", {"role": "admin", "name": "x"},
                                    token=token), 403)

    def test_revoked_token_401(self):
        tid, token = self.srv.create_token("secretary", "临时")
        self.assertEqual(self.req("GET", "/api/v1/rooms", token=token).status, 200)
        r = self.req("DELETE", "/api/v1/tokens/" + tid)
        self.assertEqual(r.status, 204, r)
        assert_error(self, self.req("GET", "/api/v1/rooms", token=token), 401, "unauthorized")
        assert_error(self, self.req("DELETE", "/api/v1/tokens/" + tid), 404)
        assert_error(self, self.req("DELETE", "/api/v1/tokens/tok_doesnotexist"), 404)

    # ---- CRUD round trips ----

    def crud_round_trip(self, plural, body, change):
        base = "/api/v1/" + plural
        r = self.req("POST", base, body)
        self.assertEqual(r.status, 201, r)
        created = r.body
        rid = created["id"]
        self.assertIsInstance(rid, str)
        self.assertTrue(rid)
        etag = r.header("ETag")
        self.assertTrue(etag, "no ETag on 201")
        for key, value in body.items():
            self.assertEqual(created.get(key), value, key)
        feed = created["feed_url"]
        self.assertRegex(feed, r"^%s/feeds/[A-Za-z0-9_-]{16,}\.ics$" % re.escape(self.srv.base_url))
        self.assertEqual(created["webcal_url"], "webcal://" + feed[len("http://"):])

        r = self.req("GET", base + "/" + rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, created)
        self.assertEqual(r.header("ETag"), etag)

        listed = [x for x in self.listing(plural) if x["id"] == rid]
        self.assertEqual(listed, [created])

        # PATCH: the field changes, the version goes up, the ETag changes.
        r = self.req("PATCH", base + "/" + rid, change)
        self.assertEqual(r.status, 200, r)
        patched = r.body
        for key, value in change.items():
            self.assertEqual(patched[key], value)
        for key in body:
            if key not in change:
                self.assertEqual(patched[key], created[key], key)
        self.assertEqual(patched["version"], created["version"] + 1)
        etag2 = r.header("ETag")
        self.assertTrue(etag2)
        self.assertNotEqual(etag2, etag)
        self.assertEqual(self.req("GET", base + "/" + rid).body, patched)

        # Stale If-Match: 412, nothing changed.
        stale_change = {k: v for k, v in body.items() if k in change}
        r = self.req("PATCH", base + "/" + rid, stale_change, headers={"If-Match": etag})
        assert_error(self, r, 412, "precondition_failed")
        r = self.req("GET", base + "/" + rid)
        self.assertEqual(r.body, patched)
        self.assertEqual(r.header("ETag"), etag2)
        # Current If-Match: 200.
        r = self.req("PATCH", base + "/" + rid, stale_change, headers={"If-Match": etag2})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["version"], patched["version"] + 1)
        self.assertNotIn(r.header("ETag"), (etag, etag2))

        # Feed token rotation changes the URL; the old one stops working, the new one works.
        old_path = "/feeds/" + feed.rsplit("/", 1)[1]
        self.assertEqual(self.req("GET", old_path, token=None).status, 200)
        r = self.req("POST", base + "/" + rid + "/feed-token")
        self.assertEqual(r.status, 200, r)
        new_feed = r.body["feed_url"]
        self.assertNotEqual(new_feed, feed)
        self.assertEqual(r.body["webcal_url"], "webcal://" + new_feed[len("http://"):])
        self.assertEqual(self.req("GET", base + "/" + rid).body["feed_url"], new_feed)
        self.assertEqual(self.req("GET", old_path, token=None).status, 404)
        self.assertEqual(self.req("GET", "/feeds/" + new_feed.rsplit("/", 1)[1], token=None).status,
                         200)

        # DELETE: a stale If-Match is refused, then 204, then 404 everywhere.
        r = self.req("GET", base + "/" + rid)
        current = r.header("ETag")
        assert_error(self, self.req("DELETE", base + "/" + rid, headers={"If-Match": etag}), 412)
        self.assertEqual(self.req("GET", base + "/" + rid).status, 200)
        r = self.req("DELETE", base + "/" + rid, headers={"If-Match": current})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.raw, b"")
        assert_error(self, self.req("GET", base + "/" + rid), 404, "not_found")
        assert_error(self, self.req("PATCH", base + "/" + rid, change), 404)
        assert_error(self, self.req("DELETE", base + "/" + rid), 404)
        self.assertEqual([x for x in self.listing(plural) if x["id"] == rid], [])

    def test_people_crud(self):
        self.crud_round_trip("people", dict(PERSON), {"department": "综合处"})

    def test_rooms_crud(self):
        self.crud_round_trip("rooms", dict(ROOM), {"capacity": 30, "features": ["video"]})

    def test_vehicles_crud(self):
        self.crud_round_trip("vehicles", dict(VEHICLE), {"seats": 17, "plate": "京B·67890"})

    def test_defaults_and_optional_fields(self):
        p = self.srv.create("people", {"name": "刘司机", "role": "driver"})
        self.assertEqual(p["rank"], 100)
        self.assertIsNone(p.get("diet"))
        r = self.srv.create("rooms", {"name": "小会议室", "capacity": 6})
        self.assertEqual(r["features"], [])
        self.assertEqual(r["setup_minutes"], 0)
        self.assertEqual(r["teardown_minutes"], 0)
        # PATCH null clears an optional field.
        r2 = self.req("PATCH", "/api/v1/people/" + p["id"], {"phone": "13800000000"})
        self.assertEqual(r2.body["phone"], "13800000000")
        r2 = self.req("PATCH", "/api/v1/people/" + p["id"], {"phone": None})
        self.assertEqual(r2.status, 200, r2)
        self.assertIsNone(r2.body["phone"])
        # Exactly 200 characters (Chinese, 600 bytes) is within the limit.
        name = "会" * 200
        r3 = self.req("POST", "/api/v1/rooms", {"name": name, "capacity": 1})
        self.assertEqual(r3.status, 201, r3)
        self.assertEqual(r3.body["name"], name)

    # ---- validation: each refused, nothing stored ----

    def test_room_validation(self):
        long_name = "长" * 201
        cases = [
            ({"name": "a", "capacity": 0}, 422, None, "capacity"),
            ({"name": "a", "capacity": -5}, 422, None, "capacity"),
            ({"name": "", "capacity": 5}, 422, None, "name"),
            ({"name": "   ", "capacity": 5}, 422, None, "name"),
            ({"name": "\t\n", "capacity": 5}, 422, None, "name"),
            ({"capacity": 5}, 422, None, "name"),
            ({"name": "a"}, 422, None, "capacity"),
            ({"name": "a", "capacity": "10"}, 400, None, "capacity"),
            ({"name": "a", "capacity": 10.5}, 400, None, "capacity"),
            ({"name": "a", "capacity": True}, 400, None, "capacity"),
            ({"name": 123, "capacity": 5}, 400, None, "name"),
            ({"name": ["a"], "capacity": 5}, 400, None, "name"),
            ({"name": "a", "capacity": 5, "atendees": []}, 400, "unknown_field", "atendees"),
            ({"name": long_name, "capacity": 5}, 422, None, "name"),
            ({"name": "a", "capacity": 5, "features": "video"}, 400, None, "features"),
            ({"name": "a", "capacity": 5, "features": [1]}, 400, None, None),
            ({"name": "a", "capacity": None}, 422, None, "capacity"),
            ({"name": None, "capacity": 5}, 422, None, "name"),
            ({"name": "a\u0001b", "capacity": 5}, 422, None, "name"),
            ({"name": "a", "capacity": 5, "setup_minutes": -1}, 422, None, "setup_minutes"),
        ]

        def refused():
            for body, status, code, field in cases:
                r = self.req("POST", "/api/v1/rooms", body)
                assert_error(self, r, status, code, field)
                if code == "unknown_field":
                    self.assertIn("atendees", r.body["error"]["message"])
        self.assert_nothing_stored("rooms", "rooms", refused)

    def test_person_and_vehicle_validation(self):
        def people():
            for body, status, field in (
                    (dict(PERSON, role="chairman"), 422, "role"),
                    (dict(PERSON, role=""), 422, "role"),
                    (dict(PERSON, rank=0), 422, "rank"),
                    (dict(PERSON, rank="1"), 400, "rank"),
                    ({"name": "无角色"}, 422, "role"),
                    (dict(PERSON, diet=""), 422, "diet"),
                    (dict(PERSON, name="x" * 201), 422, "name")):
                assert_error(self, self.req("POST", "/api/v1/people", body), status, field=field)

        def vehicles():
            for body, status, field in (
                    ({"name": "车", "seats": 0}, 422, "seats"),
                    ({"name": "车"}, 422, "seats"),
                    ({"name": "车", "seats": "5"}, 400, "seats"),
                    ({"name": "", "seats": 5}, 422, "name"),
                    ({"name": "车", "seats": 5, "colour": "黑"}, 400, "colour")):
                assert_error(self, self.req("POST", "/api/v1/vehicles", body), status,
                             field=field)
        self.assert_nothing_stored("people", "people", people)
        self.assert_nothing_stored("vehicles", "vehicles", vehicles)

    def test_malformed_bodies(self):
        deep = '{"name":"a","capacity":5,"features":' + "[" * 40 + "]" * 40 + "}"
        bodies = [
            b'{"name": "a", "capacity": ',           # bad JSON
            b"not json at all",
            b'[{"name": "a", "capacity": 5}]',         # an array, not an object
            b'"a string"',
            b"",                                        # empty
            deep.encode(),                              # deeper than 32
            b'{"name": "a", "name": "b", "capacity": 5}',  # duplicate keys
            b'{"name": "\xff\xfe", "capacity": 5}',     # invalid UTF-8
            b'{"name": "\xe4\xb8", "capacity": 5}',     # truncated UTF-8 sequence
            b'{"name": "a\\u0000b", "capacity": 5}',    # NUL
        ]

        def refused():
            for raw in bodies:
                assert_error(self, self.req("POST", "/api/v1/rooms", raw_body=raw), 400)
        self.assert_nothing_stored("rooms", "rooms", refused)

    def test_nesting_limit_boundary(self):
        # Depth exactly 32 parses (and then fails on field validation, not depth).
        inner = "[" * 30 + "]" * 30  # object(1) + features array(1) + 30 = 32
        r = self.req("POST", "/api/v1/rooms",
                     raw_body='{"name":"a","capacity":5,"features":[%s]}' % inner[1:-1])
        self.assertNotEqual(r.code, "too_deep", r)
        r = self.req("POST", "/api/v1/rooms",
                     raw_body='{"name":"a","capacity":5,"features":%s}' % ("[" * 32 + "]" * 32))
        assert_error(self, r, 400)

    def test_body_too_large_413(self):
        def refused():
            big = '{"name": "%s", "capacity": 5}' % ("a" * (1024 * 1024))
            r = self.req("POST", "/api/v1/rooms", raw_body=big)
            assert_error(self, r, 413)
        self.assert_nothing_stored("rooms", "rooms", refused)
        # Just under the limit is parsed (and refused for the long name, not the size).
        small = '{"name": "%s", "capacity": 5}' % ("a" * (1024 * 1024 - 100))
        r = self.req("POST", "/api/v1/rooms", raw_body=small)
        assert_error(self, r, 422, field="name")

    def test_headers_too_large_400(self):
        pad = {"X-Pad-%d" % i: "p" * 4000 for i in range(5)}
        r = self.req("GET", "/api/v1/rooms", headers=pad)
        assert_error(self, r, 400, "header_too_large")
        before = self.row_count("rooms")
        r = self.req("POST", "/api/v1/rooms", dict(ROOM), headers=pad)
        assert_error(self, r, 400, "header_too_large")
        self.assertEqual(self.row_count("rooms"), before)
        # Well under the limit is fine.
        r = self.req("GET", "/api/v1/rooms", headers={"X-Pad": "p" * 4000})
        self.assertEqual(r.status, 200, r)

    def test_unknown_endpoint_and_method(self):
        assert_error(self, self.req("GET", "/api/v1/nothing-here"), 404, "not_found")
        assert_error(self, self.req("GET", "/api/v1/rooms/x/y/z"), 404)
        assert_error(self, self.req("GET", "/nothing-here"), 404)
        for method, path, allowed in (("PUT", "/api/v1/rooms", {"GET", "POST"}),
                                      ("DELETE", "/api/v1/rooms", {"GET", "POST"}),
                                      ("POST", "/healthz", {"GET"}),
                                      ("PUT", "/api/v1/people/per_x", {"GET", "PATCH", "DELETE"})):
            r = self.req(method, path, raw_body=b"{}")
            assert_error(self, r, 405)
            allow = {m.strip() for m in (r.header("Allow") or "").split(",") if m.strip()}
            self.assertEqual(allow, allowed, r.headers)

    def test_patch_validation_changes_nothing(self):
        room = self.new_room(name="原名会议室")
        path = "/api/v1/rooms/" + room["id"]
        for body, status, field in (({"name": None}, 422, "name"),
                                    ({"capacity": None}, 422, "capacity"),
                                    ({"name": "新名字", "capacity": 0}, 422, "capacity"),
                                    ({"name": "新名字", "capacity": "9"}, 400, "capacity"),
                                    ({"name": "新名字", "atendees": 1}, 400, "atendees"),
                                    ({"id": "room_other"}, 400, "id"),
                                    ({"version": 7}, 400, "version")):
            assert_error(self, self.req("PATCH", path, body), status, field=field)
        r = self.req("PATCH", path, raw_body=b"[]")
        assert_error(self, r, 400)
        r = self.req("GET", path)
        self.assertEqual(r.body, room)

    # ---- blocks ----

    def block(self, resource, **over):
        body = {"resource": resource, "start": "2026-12-07T09:00:00",
                "end": "2026-12-07T12:00:00", "tz": "Asia/Shanghai", "reason": "装修"}
        body.update(over)
        return body

    def test_blocks(self):
        room = self.new_room(name="装修会议室")
        person = self.new_person(name="休假人员")
        r = self.req("POST", "/api/v1/blocks", self.block({"type": "room", "id": room["id"]}))
        self.assertEqual(r.status, 201, r)
        b = r.body
        self.assertTrue(r.header("ETag"))
        self.assertEqual(b["start_utc"], "2026-12-07T01:00:00Z")
        self.assertEqual(b["end_utc"], "2026-12-07T04:00:00Z")
        self.assertEqual(b["start"], "2026-12-07T09:00:00")
        self.assertEqual(b["tz"], "Asia/Shanghai")
        self.assertEqual(b["reason"], "装修")
        self.assertEqual(b["resource"], {"type": "room", "id": room["id"]})
        r = self.req("GET", "/api/v1/blocks/" + b["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b)

        # Another zone: New York wall time converts with its own offset (EST, UTC-5).
        r = self.req("POST", "/api/v1/blocks", self.block(
            {"type": "person", "id": person["id"]}, tz="America/New_York", reason="年假"))
        self.assertEqual(r.status, 201, r)
        pb = r.body
        self.assertEqual(pb["start_utc"], "2026-12-07T14:00:00Z")

        # Filters.
        r = self.req("GET", "/api/v1/blocks?room=" + room["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["id"] for x in r.body], [b["id"]])
        r = self.req("GET", "/api/v1/blocks?person=" + person["id"])
        self.assertEqual([x["id"] for x in r.body], [pb["id"]])
        all_ids = [x["id"] for x in self.req("GET", "/api/v1/blocks").body]
        self.assertIn(b["id"], all_ids)
        self.assertIn(pb["id"], all_ids)

        # Delete.
        r = self.req("DELETE", "/api/v1/blocks/" + b["id"])
        self.assertEqual(r.status, 204, r)
        assert_error(self, self.req("GET", "/api/v1/blocks/" + b["id"]), 404)
        self.assertEqual(self.req("GET", "/api/v1/blocks?room=" + room["id"]).body, [])
        assert_error(self, self.req("DELETE", "/api/v1/blocks/" + b["id"]), 404)

    def test_block_validation(self):
        room = self.new_room(name="校验会议室")
        res = {"type": "room", "id": room["id"]}
        cases = [
            (self.block(res, end="2026-12-07T08:00:00"), 422, "end"),
            (self.block(res, end="2026-12-07T09:00:00"), 422, "end"),
            (self.block({"type": "room", "id": "room_doesnotexist"}), 422, "resource.id"),
            (self.block({"type": "person", "id": room["id"]}), 422, "resource.id"),
            (self.block({"type": "building", "id": room["id"]}), 422, "resource.type"),
            (self.block(res, tz="Mars/Base"), 422, "tz"),
            (self.block(res, start="2026-12-07 09:00"), 422, "start"),
            (self.block(res, start="2026-02-30T09:00:00"), 422, "start"),
            (self.block(res, end="2026-12-07T25:00:00"), 422, "end"),
            (self.block(res, start=20261207), 400, "start"),
            ({"start": "2026-12-07T09:00:00", "end": "2026-12-07T12:00:00"}, 422, "resource"),
            (self.block(res, start=None), 422, "start"),
            (self.block("room"), 400, "resource"),
            (self.block(res, reasn="x"), 400, "reasn"),
            (self.block({"type": "room", "id": room["id"], "name": "x"}), 400, "resource.name"),
        ]
        before = self.row_count("blocks")
        listed = self.req("GET", "/api/v1/blocks").body
        for body, status, field in cases:
            assert_error(self, self.req("POST", "/api/v1/blocks", body), status, field=field)
        self.assertEqual(self.row_count("blocks"), before)
        self.assertEqual(self.req("GET", "/api/v1/blocks").body, listed)

    # ---- keep-alive and slow clients ----

    def test_keep_alive_reuse(self):
        c = self.srv.client()
        try:
            for _ in range(5):
                self.assertEqual(c.get("/healthz").status, 200)
            self.assertEqual(c.connects, 1)
            self.assertTrue(c.last_reused)
            room = c.post("/api/v1/rooms", dict(ROOM, name="长连接会议室"))
            self.assertEqual(room.status, 201, room)
            # Error answers keep the connection too.
            for method, path, body, token, status in (
                    ("GET", "/nope", None, ADMIN_TOKEN, 404),
                    ("GET", "/api/v1/rooms", None, None, 401),
                    ("POST", "/api/v1/rooms", {"name": "a", "capacity": 0}, ADMIN_TOKEN, 422),
                    ("POST", "/api/v1/rooms", {"name": "a", "capacity": "x"}, ADMIN_TOKEN, 400),
                    ("PUT", "/api/v1/rooms", None, ADMIN_TOKEN, 405),
                    ("PATCH", "/api/v1/rooms/" + room.body["id"], {"name": "b"}, ADMIN_TOKEN, 200),
                    ("PATCH", "/api/v1/rooms/" + room.body["id"], {"name": "c"}, ADMIN_TOKEN, 412),
                    ("DELETE", "/api/v1/rooms/" + room.body["id"], None, ADMIN_TOKEN, 204),
                    ("GET", "/api/v1/rooms", None, ADMIN_TOKEN, 200)):
                headers = {"If-Match": '"1"'} if status == 412 else None
                r = c.request(method, path, body, token=token, headers=headers)
                self.assertEqual(r.status, status, r)
                self.assertNotEqual((r.header("Connection") or "").lower(), "close",
                                    "%s %s -> %d closed the connection" % (method, path, status))
                self.assertEqual(c.connects, 1, "%s %s -> %d" % (method, path, status))
                self.assertTrue(c.last_reused)
        finally:
            c.close()

    def test_pipelined_requests(self):
        s = socket.create_connection((self.srv.host, self.srv.port), timeout=10)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
        self.assertEqual(statuses, [b"200", b"404", b"200"], data)

    def test_slow_client_does_not_block_others(self):
        stalled = []
        try:
            s1 = socket.create_connection((self.srv.host, self.srv.port), timeout=20)
            stalled.append(s1)
            s1.sendall(b"GET /healthz HT")  # half a request line, then nothing
            s2 = socket.create_connection((self.srv.host, self.srv.port), timeout=20)
            stalled.append(s2)
            s2.sendall(b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                       b"\r\nAuthorization: Bearer " + ADMIN_TOKEN.encode() +
                       b"\r\nContent-Length: 100\r\n\r\n{\"name\":")  # body never completes
            started = time.monotonic()
            results = []

            def worker():
                c = self.srv.client()
                for _ in range(5):
                    results.append(c.get("/healthz").status)
                results.append(c.get("/api/v1/rooms").status)
                c.close()
            threads = [threading.Thread(target=worker) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(10)
            self.assertEqual(results, [200] * 18)
            self.assertLess(time.monotonic() - started, 3.0, "others waited for the slow client")

            # The stalled connections are closed by the server (request timeout), not kept
            # forever.
            for s in stalled:
                s.settimeout(16)
                t0 = time.monotonic()
                try:
                    data = s.recv(65536)
                    while data:
                        # A 408/400 answer before the close is fine.
                        data = s.recv(65536)
                except (ConnectionResetError, socket.timeout) as e:
                    if isinstance(e, socket.timeout):
                        self.fail("stalled connection still open after %.0f s"
                                  % (time.monotonic() - t0))
            self.assertLess(time.monotonic() - started, 16)
            self.assertEqual(self.req("GET", "/healthz", token=None).status, 200)
        finally:
            for s in stalled:
                s.close()


# --------------------------------------------------------------------------------------
# Lifecycle: persistence, bootstrap, signals, backup, token command
# --------------------------------------------------------------------------------------

class LifecycleTest(unittest.TestCase):
    def test_persistence_across_restart(self):
        with Server() as srv:
            person = srv.create("people", dict(PERSON))
            room = srv.create("rooms", dict(ROOM))
            vehicle = srv.create("vehicles", dict(VEHICLE))
            r = srv.request("POST", "/api/v1/blocks", {
                "resource": {"type": "vehicle", "id": vehicle["id"]},
                "start": "2026-12-10T08:00:00", "end": "2026-12-10T18:00:00",
                "tz": "Asia/Shanghai", "reason": "年检"})
            self.assertEqual(r.status, 201, r)
            block = r.body
            _, sec = srv.create_token("secretary", "重启后")
            r = srv.request("PATCH", "/api/v1/rooms/" + room["id"], {"capacity": 25})
            room = r.body

            rc = srv.restart()
            self.assertEqual(rc, 0)
            self.assertIn("stopped", srv.stderr_text(1))
            self.assertIn("SIGTERM", srv.stderr_text(1))

            for plural, obj in (("people", person), ("rooms", room), ("vehicles", vehicle)):
                r = srv.request("GET", "/api/v1/%s/%s" % (plural, obj["id"]))
                self.assertEqual(r.status, 200, r)
                expected = dict(obj)
                # Links follow the new port; everything else is as stored.
                for key in ("feed_url", "webcal_url"):
                    self.assertEqual(r.body[key].rsplit("/", 1)[1], expected.pop(key).rsplit("/", 1)[1])
                    r.body.pop(key)
                self.assertEqual(r.body, expected)
            self.assertEqual(srv.request("GET", "/api/v1/blocks/" + block["id"]).body, block)
            self.assertEqual(srv.request("GET", "/api/v1/rooms", token=sec).status, 200)
            self.assertEqual(srv.request("GET", "/api/v1/rooms", token=ADMIN_TOKEN).status, 200)

            # A crash (SIGKILL) right after a committed write loses nothing.
            room2 = srv.create("rooms", dict(ROOM, name="第二会议室"))
            srv.kill()
            srv.start()
            self.assertEqual(srv.request("GET", "/api/v1/rooms/" + room2["id"]).status, 200)
            self.assertEqual(srv.stop(), 0)

    def test_bootstrap_admin_printed_once(self):
        with Server(admin_token=None) as srv:
            lines = [l for l in srv.stdout_lines if "admin token" in l]
            self.assertEqual(len(lines), 1, srv.stdout_lines)
            m = re.search(r"(cvn_[A-Za-z0-9_-]{22})", lines[0])
            self.assertIsNotNone(m, lines[0])
            token = m.group(1)
            self.assertEqual(srv.request("GET", "/api/v1/rooms", token=token).status, 200)
            self.assertEqual(srv.request("POST", "/api/v1/rooms", dict(ROOM), token=token).status,
                             201)
            self.assertEqual(srv.request("GET", "/api/v1/rooms", token=ADMIN_TOKEN).status, 401)
            with open(srv.db, "rb") as f:
                self.assertNotIn(token.encode(), f.read())

            self.assertEqual(srv.restart(), 0)
            self.assertFalse([l for l in srv.stdout_lines if "admin token" in l or "cvn_" in l],
                             srv.stdout_lines)
            self.assertEqual(srv.request("GET", "/api/v1/rooms", token=token).status, 200)

            # CONVENE_ADMIN_TOKEN only seeds a database that has no admin yet.
            self.assertEqual(srv.restart(admin_token="cvn_late_bootstrap_token_0123456789"), 0)
            self.assertEqual(srv.request("GET", "/api/v1/rooms",
                                         token="cvn_late_bootstrap_token_0123456789").status, 401)
            self.assertEqual(srv.request("GET", "/api/v1/rooms", token=token).status, 200)
            self.assertEqual(srv.stop(), 0)

    def test_sigterm_with_keepalive_client_exits_promptly(self):
        with Server() as srv:
            c = srv.client()
            self.assertEqual(c.get("/healthz").status, 200)
            self.assertEqual(c.get("/api/v1/rooms").status, 200)  # now idle, kept alive
            started = time.monotonic()
            rc = srv.stop(signal.SIGTERM, timeout=10)
            elapsed = time.monotonic() - started
            c.close()
            self.assertEqual(rc, 0, srv.stderr_tail())
            # The idle connection is closed after a short grace, not after the drain timeout.
            self.assertLess(elapsed, 2.5)
            self.assertIn("closing 1 idle or stalled connections", srv.stderr_text())
            self.assertIn("stopped", srv.stderr_text())

            # SIGINT, nothing connected: exit 0 at once.
            srv.start()
            started = time.monotonic()
            self.assertEqual(srv.stop(signal.SIGINT), 0)
            self.assertLess(time.monotonic() - started, 3.0)

    def test_backup_while_running(self):
        with Server() as srv:
            names = ["备份会议室%d" % i for i in range(20)]
            ids = [srv.create("rooms", dict(ROOM, name=n))["id"] for n in names]
            srv.request("DELETE", "/api/v1/rooms/" + ids[0])
            out = os.path.join(srv.dir, "backup.db")
            r = srv.cli(["backup", "--db", srv.db, out])
            self.assertEqual(r.returncode, 0, r.stderr)
            # The service is still up and writable after the backup.
            srv.create("rooms", dict(ROOM, name="备份后会议室"))
            self.assertFalse(os.path.exists(out + "-wal") and os.path.getsize(out + "-wal") > 0)
            con = sqlite3.connect("file:%s?mode=ro" % out, uri=True)
            try:
                self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
                rows = dict(con.execute("SELECT id, name FROM rooms WHERE deleted_at IS NULL"))
                self.assertEqual(set(rows), set(ids[1:]))
                self.assertEqual(sorted(rows.values()), sorted(names[1:]))
                self.assertGreaterEqual(con.execute("SELECT count(*) FROM tokens").fetchone()[0], 1)
            finally:
                con.close()
            self.assertEqual(srv.stop(), 0)

            # A server started on the copy (with the key file) serves the same data.
            copy = Server(db=out, tmpdir=srv.dir, extra_args=["--key-file", srv.db + ".key"])
            copy.own_tmp = False
            copy.start()
            try:
                self.assertEqual(copy.request("GET", "/api/v1/rooms/" + ids[1]).status, 200)
                self.assertEqual(copy.request("GET", "/api/v1/rooms/" + ids[0]).status, 404)
            finally:
                self.assertEqual(copy.stop(), 0)

        r = run_convene(["backup"])
        self.assertEqual(r.returncode, 2)
        with tempfile.TemporaryDirectory() as d:
            r = run_convene(["backup", "--db", os.path.join(d, "missing.db"),
                             os.path.join(d, "out.db")])
            self.assertNotEqual(r.returncode, 0)
            self.assertFalse(os.path.exists(os.path.join(d, "out.db")))

    def test_token_command(self):
        srv = Server()
        try:
            r = srv.cli(["token", "create", "--db", srv.db, "--role", "secretary", "--name", "x"])
            self.assertEqual(r.returncode, 0, r.stderr)
            token = r.stdout.strip()
            self.assertRegex(token, TOKEN_RE)
            r = srv.cli(["token", "create", "--db", srv.db, "--role", "leader", "--name", "y"])
            self.assertNotEqual(r.returncode, 0)
            r = srv.cli(["token", "create", "--db", srv.db, "--role", "emperor"])
            self.assertNotEqual(r.returncode, 0)
            r = srv.cli(["token", "--db", srv.db])
            self.assertEqual(r.returncode, 2)

            srv.start()
            self.assertEqual(srv.request("GET", "/api/v1/rooms", token=token).status, 200)
            self.assertEqual(srv.request("POST", "/api/v1/rooms", dict(ROOM), token=token).status,
                             403)
            self.assertEqual(srv.request("GET", "/api/v1/rooms").status, 200)  # admin bootstrapped
            r = srv.cli(["token", "create", "--db", srv.db, "--role", "admin", "--name", "ops"])
            self.assertEqual(r.returncode, 0, r.stderr)
            admin2 = r.stdout.strip()
            self.assertEqual(srv.request("POST", "/api/v1/rooms", dict(ROOM), token=admin2).status,
                             201)
            self.assertEqual(srv.stop(), 0)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    harness.main()
