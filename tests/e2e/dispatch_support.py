"""Helpers shared by test_dispatch.py and test_catering.py, on top of harness.py (the real
binary on a temporary database) and webhook_receiver.py (a real HTTP receiver).

Dates are computed from today in Asia/Shanghai, so the meetings are always ahead of the
clock (messages are only sent for trips and meals still to come); working days are asked
from the server's own working calendar (GET /api/v1/workdays).
"""

import datetime
import itertools
import json
import os
import sys
import time
import unittest
import urllib.parse
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import Server, wait_until  # noqa: E402,F401
from webhook_receiver import Receiver  # noqa: E402,F401

TZ = "Asia/Shanghai"
_seq = itertools.count(1)


def now_local():
    return datetime.datetime.now(ZoneInfo(TZ)).replace(tzinfo=None)


def day(offset):
    """Today + offset days, local, as YYYY-MM-DD."""
    return (now_local().date() + datetime.timedelta(days=offset)).isoformat()


def at(date, hhmm):
    """'2026-12-07', '09:30' -> '2026-12-07T09:30:00'."""
    return "%sT%s:00" % (date, hhmm)


def local(ts):
    return datetime.datetime.fromtimestamp(ts, ZoneInfo(TZ)).strftime("%Y-%m-%dT%H:%M:%S")


def next_day(date, n=1):
    return (datetime.date.fromisoformat(date) + datetime.timedelta(days=n)).isoformat()


def feed_path(url):
    return urllib.parse.urlparse(url).path


class DispatchBase(unittest.TestCase):
    """A server (self.srv) and a receiver (self.rx) per class; endpoints dropped per test."""

    SERVER_ARGS = ["--retry-schedule", "1,1"]
    srv = None
    rx = None

    @classmethod
    def setUpClass(cls):
        cls.rx = Receiver().start()
        cls.srv = Server(extra_args=cls.SERVER_ARGS).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        tail = cls.srv.stderr_tail()
        cls.srv.cleanup()
        cls.rx.close()
        if rc != 0:
            raise AssertionError("convene exited %s on SIGTERM:\n%s" % (rc, tail))

    def tearDown(self):
        for w in self.srv.get("/api/v1/webhooks").json or []:
            self.srv.delete("/api/v1/webhooks/%s" % w["id"])

    # ---- resources ----

    def ok(self, res, status, what=""):
        self.assertEqual(res.status, status, "%s: %r" % (what, res))
        return res.json

    def person(self, role="staff", **extra):
        body = {"name": extra.pop("name", "同事 %d" % next(_seq)), "role": role}
        body.update(extra)
        return self.ok(self.srv.post("/api/v1/people", body), 201, "person")

    def vehicle(self, seats=4):
        body = {"name": "车 %d" % next(_seq), "plate": "京A%05d" % next(_seq), "seats": seats}
        return self.ok(self.srv.post("/api/v1/vehicles", body), 201, "vehicle")

    def token(self, role, person=None):
        return self.srv.create_token(role, "e2e %s" % role, person)[1]

    def webhook(self, path, events, person=None):
        body = {"url": self.rx.url(path), "events": events}
        if person is not None:
            body["person"] = person
        return self.ok(self.srv.post("/api/v1/webhooks", body), 201, "webhook")

    def unique_path(self, name):
        """A receiver path of its own per test, so earlier tests' late messages never mix in."""
        return "/%s-%d" % (name, next(_seq))

    def working_days(self, first_offset, count):
        """The first `count` working days from today + first_offset (server's calendar)."""
        r = self.ok(self.srv.get("/api/v1/workdays?from=%s&to=%s"
                                 % (day(first_offset), day(first_offset + 40))), 200, "workdays")
        days = [d["date"] for d in r if d["working"]]
        self.assertGreaterEqual(len(days), count)
        return days[:count]

    # ---- events ----

    def event(self, start, end, people=(), status=201, **extra):
        body = {"title": extra.pop("title", "会议 %d" % next(_seq)), "start": start, "end": end,
                "tz": TZ, "attendees": [{"person": p} for p in people]}
        body.update(extra)
        r = self.srv.post("/api/v1/events", body)
        return self.ok(r, status, "event")

    def trip(self, vehicle, driver, depart, ret, **extra):
        t = {"vehicle": vehicle, "driver": driver, "depart": depart, "return": ret,
             "from": "机关大院", "to": "市政府"}
        t.update(extra)
        return t

    def trips_of(self, date, token=None, **filters):
        q = "&".join("%s=%s" % kv for kv in filters.items())
        path = "/api/v1/trips?date=%s%s" % (date, "&" + q if q else "")
        kw = {} if token is None else {"token": token}
        return self.ok(self.srv.get(path, **kw), 200, "trips")

    def catering(self, date):
        return self.ok(self.srv.get("/api/v1/catering?date=%s" % date), 200, "catering")

    def meal(self, date, name):
        for m in self.catering(date)["meals"]:
            if m["meal"] == name:
                return m
        return None

    def feed(self, person_id):
        p = self.ok(self.srv.get("/api/v1/people/%s" % person_id), 200, "person")
        r = self.srv.request("GET", feed_path(p["feed_url"]), token=None)
        self.assertEqual(r.status, 200, r)
        return r.body

    # ---- webhooks ----

    def messages(self, path, count, timeout=10, settle=0.6, where=None):
        """Exactly `count` messages (those `where` accepts, if given) arrive at path: waits
        for them, then checks that nothing more follows for `settle` seconds. An endpoint
        registered in the same second as an earlier test's change may also get that change's
        messages: unfiltered endpoints pass `where` to look at their own test's only."""
        def got():
            return [r.json for r in self.rx.received(path) if where is None or where(r.json)]
        deadline = time.monotonic() + timeout
        while len(got()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(settle)
        out = got()
        self.assertEqual(len(out), count, "%s: %s" % (path, [(m["type"], m["data"]) for m in out]))
        return out

    def new_messages(self, path, seen, count, timeout=10, where=None):
        """The `count` messages after the first `seen` ones (and no more)."""
        return self.messages(path, seen + count, timeout, where=where)[seen:]


def raw_bodies(rx, path):
    return [r.body.decode("utf-8") for r in rx.received(path)]


def dumps(x):
    return json.dumps(x, ensure_ascii=False, sort_keys=True)
