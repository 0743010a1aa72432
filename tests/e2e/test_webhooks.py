#!/usr/bin/env python3
"""Webhooks and reminders (CONTRACT section 7) against the real binary and a real receiver.

A threaded HTTP receiver on 127.0.0.1 (webhook_receiver.py) records every request and
answers as scripted (500s, 410, 429/503 with Retry-After, stalls). Every delivery's
signature is checked twice, independently of convene's own code: by the npm package
`standardwebhooks` (verify_signature.js; `make deps` installs it from tests/e2e/package.json
into tests/e2e/node_modules, and this test FAILS when it is missing) and by hmac/hashlib/base64 here over "id.timestamp.body".

Covered: bodies and headers of event.created/updated/cancelled; the person filter and a
confidential meeting's details; retries (same webhook-id, growing gaps, delivery log,
"failed"), Retry-After, 410 disabling with webhook.disabled to an admin endpoint, manual
retry and replay; secret rotation (two signatures); the SSRF guard at registration and at
connect time; reminder.due timing (printed lateness), decliners, moves and cancels;
durability across kill -9 (messages, late and dropped reminders); SIGTERM with an attempt
in flight; the metrics families.

Run: python3 tests/e2e/test_webhooks.py   (CONVENE_BIN=build/convene)
"""

import base64
import datetime
import hashlib
import hmac
import itertools
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import unittest
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import Server, metric, wait_until  # noqa: E402
from webhook_receiver import Receiver  # noqa: E402

TZ = "Asia/Shanghai"
VERIFIER = os.path.join(HERE, "verify_signature.js")
NPM_INSTALL = ("make deps (or: npm install --prefix %s --no-audit --no-fund --no-package-lock)"
               % HERE)
RETRY = ["--retry-schedule", "1,3"]
_seq = itertools.count(1)


# ---------------------------------------------------------------- signatures

def py_signature(secret, msg_id, timestamp, body):
    """Standard Webhooks v1 signature, computed here: base64(HMAC-SHA256(key, id.ts.body))."""
    assert secret.startswith("whsec_"), secret
    key = base64.b64decode(secret[len("whsec_"):])
    content = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def signatures(req):
    return req.headers["webhook-signature"].split(" ")


def py_verifies(secret, req):
    expected = py_signature(secret, req.headers["webhook-id"], req.headers["webhook-timestamp"],
                            req.body)
    return any(hmac.compare_digest(expected, s) for s in signatures(req))


def js_verify(items):
    """[(secret, headers, body bytes)] -> [result dict] via the npm standardwebhooks package."""
    node = shutil.which("node")
    if node is None:
        raise AssertionError("node is not installed: the signatures must be checked with the npm "
                             "package standardwebhooks (apt-get install nodejs npm; %s)"
                             % NPM_INSTALL)
    lines = []
    for secret, headers, body in items:
        hdrs = {k: headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        lines.append(json.dumps({"secret": secret, "headers": hdrs,
                                 "body_b64": base64.b64encode(body).decode()}))
    proc = subprocess.run([node, VERIFIER], input="\n".join(lines) + "\n",
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("verify_signature.js failed (exit %d): %s\nIs the npm package "
                             "installed? %s" % (proc.returncode, proc.stderr.strip(), NPM_INSTALL))
    out = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
    if len(out) != len(items):
        raise AssertionError("verify_signature.js answered %d of %d: %s"
                             % (len(out), len(items), proc.stderr))
    return out


# ---------------------------------------------------------------- times

def local(ts):
    """Epoch seconds -> local wall time in TZ, as the API takes it."""
    return datetime.datetime.fromtimestamp(ts, ZoneInfo(TZ)).strftime("%Y-%m-%dT%H:%M:%S")


def utc(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def whole_second_ahead(seconds):
    """An integral epoch second at least `seconds` from now."""
    return int(time.time()) + 1 + seconds


# ---------------------------------------------------------------- the tests

class WebhookBase(unittest.TestCase):
    """Helpers on top of a server (self.srv) and a receiver (self.rx)."""

    srv = None
    rx = None

    def ok(self, res, status, what=""):
        self.assertEqual(res.status, status, "%s: %r" % (what, res))
        return res.json

    def person(self, role="staff", name=None, srv=None):
        srv = srv or self.srv
        body = {"name": name or "同事 %d" % next(_seq), "role": role}
        return self.ok(srv.post("/api/v1/people", body), 201, "person")["id"]

    def vehicle(self, srv=None):
        srv = srv or self.srv
        body = {"name": "车 %d" % next(_seq), "seats": 4}
        return self.ok(srv.post("/api/v1/vehicles", body), 201, "vehicle")["id"]

    def webhook(self, path, events, person=None, srv=None, rx=None):
        srv, rx = srv or self.srv, rx or self.rx
        body = {"url": rx.url(path), "events": events}
        if person is not None:
            body["person"] = person
        w = self.ok(srv.post("/api/v1/webhooks", body), 201, "webhook")
        self.assertRegex(w["secret"], r"^whsec_[A-Za-z0-9+/]{43}=$")
        self.assertEqual(len(base64.b64decode(w["secret"][6:])), 32)
        return w

    def event(self, start, end, people=(), srv=None, declined=(), **extra):
        srv = srv or self.srv
        attendees = [{"person": p} for p in people]
        attendees += [{"person": p, "response": "declined"} for p in declined]
        body = {"title": extra.pop("title", "会议 %d" % next(_seq)), "start": start, "end": end,
                "tz": TZ, "attendees": attendees}
        body.update(extra)
        return self.ok(srv.post("/api/v1/events", body), 201, "event")

    def cancel(self, event_id, srv=None):
        r = (srv or self.srv).delete("/api/v1/events/%s" % event_id)
        self.assertIn(r.status, (200, 204), "cancel: %r" % (r,))

    def deliveries(self, wid, srv=None):
        return self.ok((srv or self.srv).get("/api/v1/webhooks/%s/deliveries" % wid), 200,
                       "deliveries")

    def delivery(self, wid, msg_id, srv=None):
        for d in self.deliveries(wid, srv):
            if d["id"] == msg_id:
                return d
        return None

    def wait_delivery(self, wid, msg_id, pred, timeout=10, srv=None):
        return wait_until(lambda: (lambda d: d if d is not None and pred(d) else None)(
            self.delivery(wid, msg_id, srv)), timeout, "delivery %s of %s" % (msg_id, wid))

    def assert_signed(self, secret, reqs, also_secret=None):
        """Every request verifies with secret (and also_secret) by python and standardwebhooks."""
        secrets = [secret] + ([also_secret] if also_secret else [])
        items = [(s, r.headers, r.body) for r in reqs for s in secrets]
        for (s, headers, body), res in zip(items, js_verify(items)):
            self.assertTrue(res["ok"], "standardwebhooks rejected %s: %s" % (headers, res))
            self.assertEqual(res["payload"], json.loads(body.decode("utf-8")))
        for r in reqs:
            for s in secrets:
                self.assertTrue(py_verifies(s, r), "python HMAC check failed for %r" % r)

    def assert_headers(self, req):
        h = req.headers
        self.assertRegex(h.get("webhook-id", ""), r"^[A-Za-z0-9_-]+$")
        self.assertRegex(h.get("webhook-timestamp", ""), r"^[0-9]+$")
        self.assertLessEqual(abs(int(h["webhook-timestamp"]) - req.arrived), 5)
        for s in signatures(req):
            self.assertRegex(s, r"^v1,[A-Za-z0-9+/]{43}=$")
        self.assertTrue(h.get("content-type", "").startswith("application/json"), h)
        self.assertEqual(int(h["content-length"]), len(req.body))

    def assert_body(self, req, type_):
        doc = req.json
        self.assertEqual(list(doc.keys()), ["type", "timestamp", "data"], req.body)
        self.assertEqual(doc["type"], type_)
        self.assertRegex(doc["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIsInstance(doc["data"], dict)
        return doc["data"]


class WebhooksTest(WebhookBase):
    """One server (retry schedule 1,3 s; private URLs allowed) and one receiver."""

    @classmethod
    def setUpClass(cls):
        cls.rx = Receiver().start()
        cls.srv = Server(extra_args=RETRY).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        tail = cls.srv.stderr_tail()
        cls.srv.cleanup()
        cls.rx.close()
        if rc != 0:  # e.g. a sanitizer report at exit
            raise AssertionError("convene exited %s on SIGTERM:\n%s" % (rc, tail))

    def tearDown(self):
        # Endpoints of one test must not receive the next test's messages.
        for w in self.srv.get("/api/v1/webhooks").json or []:
            self.srv.delete("/api/v1/webhooks/%s" % w["id"])

    def slot(self, hours_ahead):
        base = (int(time.time()) // 3600 + hours_ahead) * 3600
        return local(base), local(base + 3600)

    # ---- delivery, bodies, signatures ----

    def test_delivery_bodies_headers_and_signatures(self):
        w = self.webhook("/sig", ["event.*"])
        p = self.person()
        start, end = self.slot(30)
        ev = self.event(start, end, [p], title="党组会「预算」 ✓", location="三楼第一会议室")
        r = self.srv.patch("/api/v1/events/%s" % ev["id"], {"title": "党组会（改）"})
        self.ok(r, 200, "patch")
        self.cancel(ev["id"])

        reqs = self.rx.wait_for("/sig", count=3, timeout=10)
        time.sleep(0.5)
        reqs = self.rx.received("/sig")
        by_type = {}
        for r in reqs:
            self.assertEqual(r.method, "POST")
            self.assert_headers(r)
            by_type.setdefault(r.json["type"], []).append(r)
        self.assertEqual(sorted(by_type), ["event.cancelled", "event.created", "event.updated"])
        self.assertTrue(all(len(v) == 1 for v in by_type.values()), reqs)
        ids = {r.headers["webhook-id"] for r in reqs}
        self.assertEqual(len(ids), 3, "each message has its own webhook-id")

        created = self.assert_body(by_type["event.created"][0], "event.created")
        self.assertEqual(created["event"]["id"], ev["id"])
        self.assertEqual(created["event"]["title"], "党组会「预算」 ✓")
        self.assertEqual(created["event"]["start_utc"], ev["start_utc"])
        updated = self.assert_body(by_type["event.updated"][0], "event.updated")
        self.assertEqual(updated["event"]["title"], "党组会（改）")
        self.assertEqual(updated["changes"]["title"],
                         {"old": "党组会「预算」 ✓", "new": "党组会（改）"})
        cancelled = self.assert_body(by_type["event.cancelled"][0], "event.cancelled")
        self.assertEqual(cancelled["event"]["status"], "cancelled")
        # UTF-8 on the wire, and signed over exactly those bytes.
        self.assertIn("党组会".encode("utf-8"), by_type["event.created"][0].body)
        self.assert_signed(w["secret"], reqs)

        # The checkers are not trivially satisfied: a changed byte or a wrong key fails both.
        r0 = by_type["event.created"][0]
        tampered = r0.body.replace("党组会".encode(), "党委会".encode())
        other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        res = js_verify([(w["secret"], r0.headers, tampered), (other, r0.headers, r0.body)])
        self.assertEqual([x["ok"] for x in res], [False, False], res)
        self.assertNotEqual(py_signature(w["secret"], r0.msg_id,
                                         r0.headers["webhook-timestamp"], tampered),
                            signatures(r0)[0])

        log = {d["id"]: d for d in self.deliveries(w["id"])}
        for r in reqs:
            d = log[r.msg_id]
            self.assertEqual((d["status"], d["attempts"], d["last_status"], d["next_attempt"]),
                             ("delivered", 1, 200, None), d)
            self.assertEqual(d["type"], r.json["type"])

    # ---- secrets at rest ----

    def test_secrets_sealed_at_rest(self):
        """The database never holds a signing secret in the clear (it is sealed with a key
        derived from the key file); one written in the clear by an older version is sealed
        at the next start and still signs."""
        w = self.webhook("/sealed", ["event.*"])
        stored = self.srv.sql("SELECT secret FROM webhooks WHERE id = ?", (w["id"],))[0][0]
        self.assertTrue(stored.startswith("enc1:"), stored)
        secret_bytes = w["secret"].encode()
        for suffix in ("", "-wal"):
            if os.path.exists(self.srv.db + suffix):
                with open(self.srv.db + suffix, "rb") as f:
                    self.assertNotIn(secret_bytes, f.read(), "secret in the clear in db" + suffix)
        # As an older version left it: in the clear.
        con = sqlite3.connect(self.srv.db, timeout=10)
        with con:
            con.execute("UPDATE webhooks SET secret = ? WHERE id = ?", (w["secret"], w["id"]))
        con.close()
        self.assertEqual(self.srv.restart(), 0)
        wait_until(lambda: "sealed the secrets of 1 webhook endpoints" in self.srv.stderr_text(),
                   5, "the start to log that it sealed the secret")
        stored = self.srv.sql("SELECT secret FROM webhooks WHERE id = ?", (w["id"],))[0][0]
        self.assertTrue(stored.startswith("enc1:"), stored)
        p = self.person()
        start, end = self.slot(50)
        self.event(start, end, [p], title="密钥加密后的会议")
        reqs = self.rx.wait_for("/sealed", count=1, timeout=10)
        self.assert_signed(w["secret"], reqs)

    # ---- person filter and confidentiality ----

    def test_person_filter_and_confidential_details(self):
        leader, driver, other = self.person("leader"), self.person("driver"), self.person()
        car = self.vehicle()
        catch_all = self.webhook("/pf-all", ["event.*"])
        w_leader = self.webhook("/pf-leader", ["event.*"], person=leader)
        w_driver = self.webhook("/pf-driver", ["event.*"], person=driver)
        w_other = self.webhook("/pf-other", ["event.*"], person=other)
        self.assertEqual(self.srv.get("/api/v1/webhooks/%s" % w_driver["id"]).json["person"],
                         driver)
        start, end = self.slot(40)
        day = start[:10]
        secret_words = ["绝密议题-TITLE", "绝密说明-DESC", "绝密地点-LOC"]
        conf = self.event(start, end, [leader], title=secret_words[0],
                          description=secret_words[1], location=secret_words[2],
                          confidential=True,
                          trips=[{"vehicle": car, "driver": driver, "depart": start,
                                  "return": end, "from": "机关大院", "to": "市政府",
                                  "passengers": [leader],
                                  # the slot may fall on a weekend: trips then need approval
                                  "approved_by": leader}])
        r = self.srv.patch("/api/v1/events/%s" % conf["id"],
                           {"description": secret_words[1] + "（二）"})
        self.ok(r, 200, "patch confidential")
        start2, end2 = self.slot(42)
        plain = self.event(start2, end2, [other], title="普通会议 %s" % day)

        self.rx.wait_for("/pf-all", count=3, timeout=10)
        self.rx.wait_for("/pf-leader", count=2, timeout=10)
        self.rx.wait_for("/pf-driver", count=2, timeout=10)
        self.rx.wait_for("/pf-other", count=1, timeout=10)
        time.sleep(1.0)  # anything wrongly fanned out would have arrived by now

        def events_of(path):
            return sorted((r.json["type"], r.json["data"]["event"]["id"])
                          for r in self.rx.received(path))

        self.assertEqual(events_of("/pf-leader"),
                         [("event.created", conf["id"]), ("event.updated", conf["id"])])
        self.assertEqual(events_of("/pf-driver"),
                         [("event.created", conf["id"]), ("event.updated", conf["id"])])
        self.assertEqual(events_of("/pf-other"), [("event.created", plain["id"])])

        # The attendee's endpoint gets the details; the driver's (not an attendee) never does.
        leader_bytes = b"".join(r.body for r in self.rx.received("/pf-leader"))
        for word in secret_words:
            self.assertIn(word.encode("utf-8"), leader_bytes)
        for r in self.rx.received("/pf-driver"):
            for word in secret_words:
                self.assertNotIn(word.encode("utf-8"), r.body, "leaked to the driver: %s" % r.body)
            ev = r.json["data"]["event"]
            self.assertEqual(ev["id"], conf["id"])
            self.assertTrue(ev["confidential"])
            self.assertEqual(ev["trips"][0]["driver"], driver)  # the driver still gets the job
        self.assert_signed(w_leader["secret"], self.rx.received("/pf-leader"))
        self.assert_signed(w_driver["secret"], self.rx.received("/pf-driver"))
        self.assert_signed(w_other["secret"], self.rx.received("/pf-other"))
        self.assert_signed(catch_all["secret"], self.rx.received("/pf-all"))

    # ---- retries ----

    def test_retry_same_id_growing_gaps_and_log(self):
        self.rx.script("/retry", 500, 500, 200)
        w = self.webhook("/retry", ["event.created"])
        start, end = self.slot(50)
        self.event(start, end, [self.person()])
        first = self.rx.wait_for("/retry", count=1, timeout=5)[0]
        self.rx.wait_answered(first)
        d = self.wait_delivery(w["id"], first.msg_id, lambda d: d["attempts"] == 1)
        self.assertEqual((d["status"], d["last_status"]), ("pending", 500), d)
        self.assertIsNotNone(d["next_attempt"])
        reqs = self.rx.wait_for("/retry", count=3, timeout=12)
        self.rx.wait_answered(reqs[2])
        self.assertEqual({r.msg_id for r in reqs}, {first.msg_id}, "same webhook-id every time")
        self.assertEqual(len({r.body for r in reqs}), 1, "same body every time")
        self.assertEqual([r.answered for r in reqs], [500, 500, 200])
        gaps = [reqs[i + 1].arrived - reqs[i].arrived for i in range(2)]
        print("\nretry gaps with --retry-schedule 1,3: %.3f s, %.3f s" % tuple(gaps))
        # Never early: the schedule is a lower bound, jitter adds up to 10%. Retries are
        # scheduled in milliseconds from the answer (schema 6), so 3 s means 3.0-3.3 s plus
        # the time to send; before, whole seconds rounded up made it up to 4 s (5.0005 s was
        # measured with the sanitizer build on a loaded CI machine).
        self.assertGreaterEqual(gaps[0], 1.0)
        self.assertGreaterEqual(gaps[1], 3.0)
        self.assertGreater(gaps[1], gaps[0] + 0.5, "gaps grow")
        self.assertLess(gaps[0], 2.5)
        self.assertLess(gaps[1], 4.5)
        self.assert_signed(w["secret"], reqs)
        d = self.wait_delivery(w["id"], first.msg_id, lambda d: d["status"] != "pending")
        self.assertEqual((d["status"], d["attempts"], d["last_status"], d["next_attempt"]),
                         ("delivered", 3, 200, None), d)

    def test_always_failing_ends_failed_then_manual_retry(self):
        self.rx.always("/fail", 500)
        w = self.webhook("/fail", ["event.created"])
        start, end = self.slot(52)
        self.event(start, end, [self.person()])
        reqs = self.rx.wait_for("/fail", count=3, timeout=12)
        msg = reqs[0].msg_id
        d = self.wait_delivery(w["id"], msg, lambda d: d["status"] != "pending")
        self.assertEqual((d["status"], d["attempts"], d["last_status"], d["next_attempt"]),
                         ("failed", 3, 500, None), d)
        time.sleep(1.5)
        self.assertEqual(len(self.rx.received("/fail")), 3, "no attempt after giving up")
        self.assertEqual({r.msg_id for r in self.rx.received("/fail")}, {msg})
        # The receiver is fixed; an operator retries the failed delivery by hand.
        self.rx.always("/fail", 200)
        r = self.srv.post("/api/v1/webhooks/%s/deliveries/%s/retry" % (w["id"], msg))
        self.ok(r, 202, "manual retry")
        again = self.rx.wait_for("/fail", count=4, timeout=5)[3]
        self.assertEqual(again.msg_id, msg)
        self.assertEqual(again.body, reqs[0].body)
        self.assert_signed(w["secret"], [again])
        d = self.wait_delivery(w["id"], msg, lambda d: d["status"] == "delivered")
        self.assertEqual(d["last_status"], 200)
        self.ok(self.srv.post("/api/v1/webhooks/%s/deliveries/msg_nope/retry" % w["id"]), 404,
                "unknown delivery")

    def test_retry_after_honoured_on_429_and_503(self):
        self.rx.script("/ra429", {"status": 429, "retry_after": 3}, 200)
        self.rx.script("/ra503", {"status": 503, "retry_after": 2}, 200)
        w1 = self.webhook("/ra429", ["event.created"])
        w2 = self.webhook("/ra503", ["event.created"])
        start, end = self.slot(54)
        self.event(start, end, [self.person()])
        a = self.rx.wait_for("/ra429", count=2, timeout=10)
        b = self.rx.wait_for("/ra503", count=2, timeout=10)
        gap_a, gap_b = a[1].arrived - a[0].arrived, b[1].arrived - b[0].arrived
        print("\nRetry-After 3 on 429 -> gap %.3f s; Retry-After 2 on 503 -> gap %.3f s"
              % (gap_a, gap_b))
        self.assertGreaterEqual(gap_a, 3.0)
        self.assertGreaterEqual(gap_b, 2.0)
        self.assertLess(gap_a, 5.0)
        self.assertLess(gap_b, 4.0)
        self.assertEqual(a[0].msg_id, a[1].msg_id)
        self.assertEqual(b[0].msg_id, b[1].msg_id)
        self.wait_delivery(w1["id"], a[0].msg_id, lambda d: d["status"] == "delivered")
        self.wait_delivery(w2["id"], b[0].msg_id, lambda d: d["status"] == "delivered")

    def test_410_disables_and_admins_hear_of_it(self):
        admin = self.webhook("/admin", ["webhook.disabled"])
        self.rx.always("/gone", 410)
        gone = self.webhook("/gone", ["event.created"])
        start, end = self.slot(56)
        self.event(start, end, [self.person()])
        first = self.rx.wait_for("/gone", count=1, timeout=5)[0]
        note = self.rx.wait_for("/admin", count=1, timeout=5)[0]
        data = self.assert_body(note, "webhook.disabled")
        self.assertEqual(data["webhook"], gone["id"])
        self.assertEqual(data["url"], self.rx.url("/gone"))
        self.assert_signed(admin["secret"], [note])
        g = self.ok(self.srv.get("/api/v1/webhooks/%s" % gone["id"]), 200, "get")
        self.assertIs(g["enabled"], False)
        self.assertIn("410", g["disabled_reason"] or "")
        d = self.delivery(gone["id"], first.msg_id)
        self.assertEqual((d["status"], d["last_status"]), ("failed", 410), d)
        start, end = self.slot(58)
        self.event(start, end, [self.person()])
        time.sleep(1.0)
        self.assertEqual(len(self.rx.received("/gone")), 1, "a disabled endpoint gets nothing")
        # Re-enabled by PATCH, it receives new messages again.
        self.rx.always("/gone", 200)
        self.ok(self.srv.patch("/api/v1/webhooks/%s" % gone["id"], {"enabled": True}), 200,
                "re-enable")
        start, end = self.slot(60)
        self.event(start, end, [self.person()])
        self.rx.wait_for("/gone", count=2, timeout=5)

    def test_replay_resends_with_same_ids(self):
        since = utc(int(time.time()) - 1)
        w = self.webhook("/replay", ["event.*"])
        start, end = self.slot(62)
        ev = self.event(start, end, [self.person()])
        self.cancel(ev["id"])
        orig = self.rx.wait_for("/replay", count=2, timeout=5)
        self.wait_delivery(w["id"], orig[1].msg_id, lambda d: d["status"] == "delivered")
        self.wait_delivery(w["id"], orig[0].msg_id, lambda d: d["status"] == "delivered")
        r = self.srv.post("/api/v1/webhooks/%s/replay" % w["id"], {"since": since})
        self.assertEqual(self.ok(r, 202, "replay")["replayed"], 2)
        reqs = self.rx.wait_for("/replay", count=4, timeout=5)
        first_ids = sorted(r.msg_id for r in reqs[:2])
        self.assertEqual(sorted(r.msg_id for r in reqs[2:]), first_ids)
        bodies = {r.msg_id: r.body for r in reqs[:2]}
        for r in reqs[2:]:
            self.assertEqual(r.body, bodies[r.msg_id])
        self.assert_signed(w["secret"], reqs)
        r = self.srv.post("/api/v1/webhooks/%s/replay" % w["id"], {"since": "yesterday"})
        self.assertEqual(r.status, 422, r)

    # ---- rotation ----

    def test_rotation_sends_both_signatures(self):
        w = self.webhook("/rot", ["event.created"])
        r = self.ok(self.srv.post("/api/v1/webhooks/%s/rotate-secret" % w["id"]), 200, "rotate")
        new = r["secret"]
        self.assertNotEqual(new, w["secret"])
        self.assertRegex(new, r"^whsec_[A-Za-z0-9+/]{43}=$")
        self.assertNotIn("secret", self.srv.get("/api/v1/webhooks/%s" % w["id"]).json)
        start, end = self.slot(64)
        self.event(start, end, [self.person()])
        req = self.rx.wait_for("/rot", count=1, timeout=5)[0]
        sigs = signatures(req)
        self.assertEqual(len(sigs), 2, req.headers["webhook-signature"])
        # The whole header verifies with either secret (a receiver not yet updated, or one
        # already updated) ...
        self.assert_signed(new, [req], also_secret=w["secret"])
        # ... and each signature on its own is the right one: the first with the new secret,
        # the second with the old one.
        ts, mid = req.headers["webhook-timestamp"], req.msg_id
        self.assertEqual(sigs[0], py_signature(new, mid, ts, req.body))
        self.assertEqual(sigs[1], py_signature(w["secret"], mid, ts, req.body))
        single = [dict(req.headers, **{"webhook-signature": s}) for s in sigs]
        res = js_verify([(new, single[0], req.body), (w["secret"], single[1], req.body),
                         (new, single[1], req.body), (w["secret"], single[0], req.body)])
        self.assertEqual([x["ok"] for x in res], [True, True, False, False], res)

    # ---- reminders ----

    def test_reminders_timing_decliners_moves_cancels(self):
        w = self.webhook("/rem", ["reminder.due"])
        a, b, declined, later = self.person(), self.person(), self.person(), self.person()
        d, e = self.person(), self.person()
        t0 = whole_second_ahead(10)
        main = self.event(local(t0), local(t0 + 1800), [a, b, later], declined=[declined],
                          reminders=[0], title="提醒测试")
        # Declining by RSVP after the booking removes that person's reminder too.
        self.ok(self.srv.post("/api/v1/events/%s/rsvp" % main["id"],
                              {"person": later, "response": "declined"}), 200, "rsvp")
        moved = self.event(local(t0 - 2), local(t0 + 1800), [d], reminders=[0])
        new_start = t0 + 3
        self.ok(self.srv.patch("/api/v1/events/%s" % moved["id"],
                               {"start": local(new_start), "end": local(new_start + 1800)}),
                200, "move")
        gone = self.event(local(t0 + 1), local(t0 + 1800), [e], reminders=[0])
        self.cancel(gone["id"])

        self.rx.wait_for("/rem", count=3, timeout=(new_start - time.time()) + 5)
        time.sleep(max(0.0, t0 + 6 - time.time()))
        reqs = self.rx.received("/rem")
        per_event = {}
        for r in reqs:
            data = self.assert_body(r, "reminder.due")
            per_event.setdefault(data["event"], []).append(r)
        self.assertEqual(sorted(per_event), sorted([main["id"], moved["id"]]),
                         "reminders: %r" % [r.json for r in reqs])
        main_reqs = per_event[main["id"]]
        self.assertEqual(sorted(r.json["data"]["person"] for r in main_reqs), sorted([a, b]),
                         "one per attendee who has not declined")
        self.assertEqual(len({r.msg_id for r in main_reqs}), 2)
        lateness = []
        for r in main_reqs:
            data = r.json["data"]
            self.assertEqual(data["offset_minutes"], 0)
            self.assertIs(data["late"], False)
            self.assertEqual(data["start_utc"], utc(t0))
            self.assertEqual(data["title"], "提醒测试")
            lateness.append(r.arrived - t0)
        (mv,) = per_event[moved["id"]]
        self.assertEqual(mv.json["data"]["start_utc"], utc(new_start), "follows the move")
        self.assertEqual(mv.json["data"]["person"], d)
        lateness.append(mv.arrived - new_start)
        print("\nreminder lateness (arrival at the receiver - due time): %s"
              % ", ".join("%.3f s" % x for x in lateness))
        for late in lateness:
            self.assertGreaterEqual(late, 0.0, "a reminder must not arrive before it is due")
            self.assertLess(late, 1.0, "a reminder must arrive within 1 s of its due time")
        self.assert_signed(w["secret"], reqs)
        m = self.srv.metrics()
        self.assertGreaterEqual(metric(m, "convene_reminder_lateness_seconds_count"), 3)
        self.assertGreaterEqual(metric(m, "convene_reminder_lateness_seconds_bucket", le="1"), 3)

        # reminder.due messages have no outbox row: replay finds them by their deliveries.
        sent = {r.msg_id: r.body for r in reqs}
        for msg_id in sent:
            self.wait_delivery(w["id"], msg_id, lambda d: d["status"] == "delivered")
        r = self.srv.post("/api/v1/webhooks/%s/replay" % w["id"], {"since": utc(t0 - 60)})
        replayed = self.ok(r, 202, "replay")["replayed"]
        self.assertGreaterEqual(replayed, len(sent))
        again = self.rx.wait_for("/rem", count=len(reqs) + replayed, timeout=5)[len(reqs):]
        for msg_id, body in sent.items():
            self.assertIn(msg_id, {x.msg_id for x in again}, "replayed with the same webhook-id")
            self.assertEqual([x.body for x in again if x.msg_id == msg_id], [body])
        self.assert_signed(w["secret"], again)

    # ---- metrics ----

    def test_metrics_families(self):
        self.webhook("/metrics", ["event.created"])
        start, end = self.slot(66)
        self.event(start, end, [self.person()])
        self.rx.wait_for("/metrics", count=1, timeout=5)
        time.sleep(0.2)
        text = self.srv.get("/metrics", token=None).body
        for family, kind in (("convene_webhook_attempts_total", "counter"),
                             ("convene_webhook_queue_depth", "gauge"),
                             ("convene_reminder_lateness_seconds", "histogram"),
                             ("convene_reminders_dropped_total", "counter")):
            self.assertIn("# TYPE %s %s" % (family, kind), text)
        m = self.srv.metrics()
        self.assertGreaterEqual(metric(m, "convene_webhook_attempts_total", outcome="delivered"),
                                1)
        self.assertIn(("convene_webhook_queue_depth", frozenset()), m)
        self.assertIn(("convene_reminder_lateness_seconds_bucket", frozenset({("le", "+Inf")})),
                      m)
        self.assertIn(("convene_reminder_lateness_seconds_sum", frozenset()), m)


class SsrfTest(WebhookBase):
    """Without --allow-private-webhooks: private URLs are refused and never connected to."""

    def test_private_urls_refused_and_never_connected(self):
        with Receiver() as rx, Server(extra_args=RETRY) as srv:
            # An endpoint registered while private URLs were allowed ...
            w = self.webhook("/ssrf-old", ["event.created"], srv=srv, rx=rx)
            srv.restart(private_webhooks=False)
            port = rx.port
            refused = [
                "http://127.0.0.1:%d/ssrf" % port,
                "http://localhost:%d/ssrf" % port,
                "http://10.0.0.1/",
                "http://[::1]:%d/ssrf" % port,
                "http://169.254.169.254/latest/meta-data/",
                "http://[::ffff:127.0.0.1]:%d/ssrf" % port,
                "http://0.0.0.0:%d/ssrf" % port,
                "http://100.64.0.1/",
                "http://192.168.1.1/",
                "http://172.16.0.1/",
                "http://127.1:%d/ssrf" % port,
                "http://2130706433:%d/ssrf" % port,
                "https://[fe80::1]/",
                "http://[fd00::1]/",
            ]
            for url in refused:
                r = srv.post("/api/v1/webhooks", {"url": url, "events": ["event.*"]})
                self.assertEqual((r.status, r.code), (422, "invalid_url"), "%s: %r" % (url, r))
                self.assertEqual(r.field, "url")
            for url in ["ftp://example.com/hook", "file:///etc/passwd", "not a url",
                        "http://", "gopher://127.0.0.1:%d/" % port, "//example.com/x",
                        "javascript:alert(1)"]:
                r = srv.post("/api/v1/webhooks", {"url": url, "events": ["event.*"]})
                self.assertEqual((r.status, r.code), (422, "invalid_url"), "%s: %r" % (url, r))
            r = srv.patch("/api/v1/webhooks/%s" % w["id"], {"url": "http://10.1.2.3/"})
            self.assertEqual((r.status, r.code), (422, "invalid_url"), r)
            self.assertEqual(len(srv.get("/api/v1/webhooks").json), 1)
            # ... is still refused at connect time (the address is checked again when the
            # socket opens), so even it never reaches the receiver.
            p = self.person(srv=srv)
            base = (int(time.time()) // 3600 + 70) * 3600
            self.event(local(base), local(base + 3600), [p], srv=srv)
            msg = wait_until(lambda: srv.get("/api/v1/webhooks/%s/deliveries" % w["id"]).json,
                             5, "the delivery row")[0]
            wait_until(lambda: self.delivery(w["id"], msg["id"], srv)["attempts"] >= 1, 5,
                       "a refused attempt")
            time.sleep(1.0)
            self.assertEqual(rx.connections, 0, "something connected: %r" % rx.requests)
            self.assertEqual(rx.requests, [])
            d = self.delivery(w["id"], msg["id"], srv)
            self.assertNotEqual(d["status"], "delivered", d)
            self.assertIsNone(d["last_status"], d)
            self.assertEqual(srv.stop(), 0, srv.stderr_tail())


class DurabilityTest(WebhookBase):
    """kill -9 and SIGTERM: accepted messages still arrive; reminders after downtime."""

    def test_kill9_messages_and_reminders_after_downtime(self):
        with Receiver() as rx, Server(extra_args=RETRY) as srv:
            wr = self.webhook("/dur-rem", ["reminder.due"], srv=srv, rx=rx)
            p1, p2, p3, p4 = (self.person(srv=srv) for _ in range(4))
            t0 = int(time.time())
            # Starts (and is due) while the service is down: dropped, counted.
            started = self.event(local(t0 + 3), local(t0 + 1800), [p1], srv=srv, reminders=[0])
            # Due while down, meeting still ahead at restart: sent late.
            ahead = self.event(local(t0 + 64), local(t0 + 1800), [p2], srv=srv, reminders=[1])
            rx.script("/dur", {"stall": 60})
            w = self.webhook("/dur", ["event.created"], srv=srv, rx=rx)
            base = (t0 // 3600 + 80) * 3600
            e1 = self.event(local(base), local(base + 3600), [p3], srv=srv)
            stalled = rx.wait_for("/dur", count=1, timeout=5)[0]  # the attempt is in flight
            e2 = self.event(local(base + 7200), local(base + 10800), [p4], srv=srv)
            srv.kill()  # right after the 201: no chance to finish anything
            rx.release_stalls()
            rx.always("/dur", 200)
            time.sleep(max(0.0, t0 + 3 + 5 + 2 - time.time()))  # past the start (and grace)
            srv.restart()
            restarted = time.time()

            # Both accepted changes' messages arrive (e1's again, with the same id).
            def delivered():
                ok = {}
                for r in rx.received("/dur"):
                    if r.answered == 200:
                        ok[r.json["data"]["event"]["id"]] = r
                return ok if len(ok) >= 2 else None

            got = wait_until(delivered, 10, "both messages after restart")
            self.assertEqual(sorted(got), sorted([e1["id"], e2["id"]]))
            self.assertEqual(got[e1["id"]].msg_id, stalled.msg_id, "same webhook-id")
            self.assertGreaterEqual(got[e1["id"]].arrived, restarted - 0.1)
            print("\nkill -9 with an attempt in flight: redelivered %.3f s after restart"
                  % (got[e1["id"]].arrived - restarted))
            self.assert_signed(w["secret"], list(got.values()))
            self.wait_delivery(w["id"], stalled.msg_id, lambda d: d["status"] == "delivered",
                               srv=srv)

            # Reminders: the one whose meeting is still ahead comes late; the other never.
            late = rx.wait_for("/dur-rem", count=1, timeout=5)[0]
            data = self.assert_body(late, "reminder.due")
            self.assertEqual(data["event"], ahead["id"])
            self.assertIs(data["late"], True)
            self.assertEqual(data["offset_minutes"], 1)
            self.assert_signed(wr["secret"], [late])
            time.sleep(1.0)
            self.assertEqual([r.json["data"]["event"] for r in rx.received("/dur-rem")],
                             [ahead["id"]], "the started meeting's reminder is not sent")
            m = srv.metrics()
            self.assertEqual(metric(m, "convene_reminders_dropped_total"), 1)
            self.assertEqual(metric(m, "convene_reminders_late_total"), 1)
            self.assertNotEqual(started["id"], ahead["id"])
            self.assertEqual(srv.stop(), 0, srv.stderr_tail())

    def test_sigterm_with_attempt_in_flight(self):
        with Receiver() as rx, Server(extra_args=RETRY) as srv:
            rx.script("/term", {"stall": 60})
            w = self.webhook("/term", ["event.created"], srv=srv, rx=rx)
            base = (int(time.time()) // 3600 + 90) * 3600
            self.event(local(base), local(base + 3600), [self.person(srv=srv)], srv=srv)
            stalled = rx.wait_for("/term", count=1, timeout=5)[0]
            t = time.monotonic()
            rc = srv.stop(signal.SIGTERM)
            took = time.monotonic() - t
            print("\nSIGTERM with a stalled receiver: exit %s after %.2f s" % (rc, took))
            self.assertEqual(rc, 0)
            self.assertLess(took, 6.5)
            rx.release_stalls()
            rx.always("/term", 200)
            srv.start()
            again = wait_until(lambda: [r for r in rx.received("/term") if r.answered == 200],
                               10, "the re-queued attempt after restart")[0]
            self.assertEqual(again.msg_id, stalled.msg_id)
            self.assertEqual(again.body, stalled.body)
            self.assert_signed(w["secret"], [again])
            d = self.wait_delivery(w["id"], stalled.msg_id, lambda d: d["status"] == "delivered",
                                   srv=srv)
            self.assertEqual(d["last_status"], 200)
            self.assertEqual(srv.stop(), 0, srv.stderr_tail())


if __name__ == "__main__":
    unittest.main(verbosity=2)
