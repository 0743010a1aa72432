#!/usr/bin/env python3
"""One-tap links (CONTRACT section 14, issue 16) against the real binary, a real webhook
receiver and fake WeCom robots.

Covered: a driver's link taken from a real delivered payload (data.ack_url, signed over the
body with the link in it) and from a WeCom message ([确认收到](…)); the page (zh-CN, viewport,
the console's security headers, weekday, car and plate); GET changes nothing; POST
acknowledges as the driver (the trip list, the history's actor and its "via": "link"); a
second POST says so and writes nothing; a changed trip keeps its link working (a new
acknowledgement is due); a cancelled trip, another driver, a trip that has returned; one
trip's token acknowledges only that trip; garbage tokens of every length (404 page, nothing
written); an attendee's answer to one occurrence of a series from a reminder's rsvp_url (the
other occurrences untouched) and to a one-off meeting from event.created; a confidential
meeting's trip page without title or passengers; office-wide endpoints get no link; no token
in clear anywhere in the SQLite files; without --public-url no link at all.

Run: python3 tests/e2e/test_taplinks.py   (CONVENE_BIN=build/convene)
"""

import base64
import datetime
import glob
import hashlib
import hmac
import os
import re
import sqlite3
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dispatch_support import TZ, DispatchBase, at, local, now_local  # noqa: E402
from harness import Server, main, wait_until  # noqa: E402
from robot_receiver import Robots  # noqa: E402

PUBLIC = "https://oa.example.gov.cn/convene"
LINK_RE = re.compile(re.escape(PUBLIC) + r"/t/([A-Za-z0-9_-]{22})$")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def token_of(url):
    m = LINK_RE.match(url or "")
    assert m, "not a one-tap link: %r" % (url,)
    return m.group(1)


def signed_ok(secret, req):
    key = base64.b64decode(secret[len("whsec_"):])
    msg = b"%s.%s.%s" % (req.headers["webhook-id"].encode(), req.headers["webhook-timestamp"].encode(),
                         req.body)
    want = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    return ("v1," + want) in req.headers["webhook-signature"].split(" ")


class TapLinks(DispatchBase):
    SERVER_ARGS = ["--retry-schedule", "1,1", "--public-url", PUBLIC + "/"]
    seen_tokens = set()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.robots = Robots().start()

    @classmethod
    def tearDownClass(cls):
        cls.robots.close()
        super().tearDownClass()

    def setUp(self):
        self.drv = self.person("driver", name="司机张")["id"]
        self.drv2 = self.person("driver", name="司机李")["id"]
        self.lead = self.person("leader", name="王局长", rank=1)["id"]
        self.car = self.vehicle()["id"]
        self.car_row = self.ok(self.srv.get("/api/v1/vehicles/%s" % self.car), 200)

    # ---- helpers ----

    def page(self, token, method="GET", action=None):
        body = None if action is None else "action=%s" % action
        r = self.srv.request(method, "/t/%s" % token, token=None, raw_body=body,
                             headers=FORM if body is not None else None)
        if r.status in (200, 404, 410, 422):
            self.assertTrue(r.header("Content-Type", "").startswith("text/html"), r)
        return r

    def remember(self, token):
        TapLinks.seen_tokens.add(token)
        return token

    def trip_event(self, start, end, driver=None, **extra):
        d = start[:10]
        trip = self.trip(self.car, driver or self.drv, start, end, passengers=[self.lead],
                         approved_by=self.lead)
        return self.event(start, end, [self.lead], title=extra.pop("title", "专题会"),
                          trips=[trip], **extra)

    def history(self, event_id):
        return self.ok(self.srv.get("/api/v1/events/%s/history" % event_id), 200, "history")

    def acked(self, event_id, date):
        return [t["acknowledged"] for t in self.trips_of(date, vehicle=self.car)
                if t["event"] == event_id]

    def ack_message(self, path, count=1, type_="dispatch.assigned"):
        msgs = [m for m in self.messages(path, count) if m["type"] == type_]
        return msgs[-1]

    # ---- the driver's acknowledgement ----

    def test_ack_from_payload_and_robot(self):
        d = self.working_days(20, 1)[0]
        mine, office = self.unique_path("drv"), self.unique_path("office")
        hook = self.webhook(mine, ["dispatch.*"], person=self.drv)
        self.webhook(office, ["dispatch.*"])
        key = "drv-%s" % self.drv
        self.ok(self.srv.post("/api/v1/webhooks", {"url": self.robots.wecom_url(key),
                                                   "events": ["dispatch.*"], "format": "wecom",
                                                   "person": self.drv}), 201, "robot")
        group = "group-%s" % self.drv
        self.ok(self.srv.post("/api/v1/webhooks", {"url": self.robots.wecom_url(group),
                                                   "events": ["dispatch.*"],
                                                   "format": "wecom"}), 201, "group robot")
        ev = self.trip_event(at(d, "09:00"), at(d, "11:00"))

        # The driver's own endpoint has the link, signed with it; the office's has none.
        [m] = self.messages(mine, 1)
        url = m["data"]["ack_url"]
        token = self.remember(token_of(url))
        [req] = self.rx.received(mine)
        self.assertTrue(signed_ok(hook["secret"], req), "signature over the body with the link")
        [o] = self.messages(office, 1, where=lambda x: x["data"]["event"] == ev["id"])
        self.assertNotIn("ack_url", o["data"])
        self.assertNotIn("rsvp_url", o["data"])
        # The driver's robot shows it as a markdown link; the group's robot does not.
        [rm] = self.robots.wait_for(key, 1)
        self.assertEqual(rm.problems, [])
        self.assertIn("[确认收到](%s)" % url, rm.markdown)
        [gm] = self.robots.wait_for(group, 1)
        self.assertNotIn("/t/", gm.markdown)

        # GET: the page, and nothing changes (chat apps prefetch).
        before = len(self.history(ev["id"]))
        r = self.page(token)
        self.assertEqual(r.status, 200, r)
        html = r.body
        self.assertIn('<html lang="zh-CN">', html)
        self.assertIn('name="viewport"', html)
        self.assertIn('<form method="post"', html)
        self.assertIn("确认收到", html)
        self.assertIn(self.car_row["plate"], html)
        self.assertIn(self.car_row["name"], html)
        self.assertIn("机关大院 → 市政府", html)
        self.assertIn("王局长", html)          # passengers of an open meeting
        self.assertIn("专题会", html)
        weekday = "日一二三四五六"[(datetime.date.fromisoformat(d).isoweekday()) % 7]
        self.assertIn("（周%s）" % weekday, html)
        self.assertNotIn("<script", html)
        self.assertIn("default-src 'none'", r.header("Content-Security-Policy"))
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        self.assertEqual(r.header("Referrer-Policy"), "no-referrer")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertEqual(self.page(token, "HEAD").status, 200)
        self.assertEqual(self.acked(ev["id"], d), [False])
        self.assertEqual(len(self.history(ev["id"])), before)

        # POST: acknowledged as the driver, by link.
        r = self.page(token, "POST", "ack")
        self.assertEqual(r.status, 200, r)
        self.assertIn("已确认收到", r.body)
        self.assertNotIn("<form", r.body)
        self.assertEqual(self.acked(ev["id"], d), [True])
        h = self.history(ev["id"])
        self.assertEqual(len(h), before + 1)
        self.assertEqual(h[-1]["action"], "trip_acknowledged")
        self.assertEqual(h[-1]["actor"]["person"], self.drv)
        self.assertEqual(h[-1]["actor"]["name"], "one-tap link")
        self.assertEqual(h[-1]["after"]["via"], "link")
        self.assertEqual(h[-1]["after"]["acknowledged_by"], self.drv)

        # Again: "already", nothing written.
        r = self.page(token, "POST", "ack")
        self.assertEqual(r.status, 200, r)
        self.assertIn("此前已确认收到", r.body)
        self.assertEqual(len(self.history(ev["id"])), before + 1)
        self.assertIn("已确认收到", self.page(token).body)

        # A change of the trip: a new acknowledgement is due through the same link.
        trip = dict(ev["trips"][0])
        trip["depart"] = at(d, "08:10")
        got = self.ok(self.srv.patch("/api/v1/events/%s" % ev["id"], {"trips": [trip]}), 200)
        self.assertEqual(got["trips"][0]["id"], trip["id"])
        upd = self.ack_message(mine, 2, "dispatch.updated")
        self.assertEqual(upd["data"]["ack_url"], url)
        self.assertEqual(self.acked(ev["id"], d), [False])
        r = self.page(token)
        self.assertIn('<form method="post"', r.body)
        self.assertIn("08:10", r.body)
        self.assertEqual(self.page(token, "POST", "ack").status, 200)
        self.assertEqual(self.acked(ev["id"], d), [True])

        # A wrong action changes nothing and says so.
        self.assertEqual(self.page(token, "POST", "accepted").status, 200)  # link done: no-op

    def test_one_trip_token_acks_only_that_trip(self):
        d = self.working_days(21, 1)[0]
        mine = self.unique_path("drv")
        self.webhook(mine, ["dispatch.*"], person=self.drv)
        a = self.trip_event(at(d, "09:00"), at(d, "10:00"))
        b = self.trip_event(at(d, "14:00"), at(d, "15:00"))
        msgs = self.messages(mine, 2)
        by_event = {m["data"]["event"]: self.remember(token_of(m["data"]["ack_url"]))
                    for m in msgs}
        self.assertNotEqual(by_event[a["id"]], by_event[b["id"]])
        r = self.page(by_event[a["id"]], "POST", "ack")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.acked(a["id"], d), [True])
        self.assertEqual(self.acked(b["id"], d), [False])
        # A wrong action on an open link: 422 page, nothing written.
        before = len(self.history(b["id"]))
        r = self.page(by_event[b["id"]], "POST", "declined")
        self.assertEqual(r.status, 422, r)
        self.assertIn("未做任何更改", r.body)
        r = self.page(by_event[b["id"]], "POST", None)
        self.assertEqual(r.status, 422, r)
        self.assertEqual(self.acked(b["id"], d), [False])
        self.assertEqual(len(self.history(b["id"])), before)

    def test_cancelled_and_reassigned_trips(self):
        d = self.working_days(22, 1)[0]
        mine = self.unique_path("drv")
        self.webhook(mine, ["dispatch.*"], person=self.drv)
        gone = self.trip_event(at(d, "09:00"), at(d, "10:00"))
        moved = self.trip_event(at(d, "14:00"), at(d, "15:00"))
        tokens = {m["data"]["event"]: self.remember(token_of(m["data"]["ack_url"]))
                  for m in self.messages(mine, 2)}

        self.assertEqual(self.srv.delete("/api/v1/events/%s" % gone["id"]).status, 204)
        r = self.page(tokens[gone["id"]])
        self.assertEqual(r.status, 410, r)
        self.assertIn("已失效", r.body)
        self.assertNotIn("<form", r.body)
        before = len(self.history(gone["id"]))
        self.assertEqual(self.page(tokens[gone["id"]], "POST", "ack").status, 410)
        self.assertEqual(len(self.history(gone["id"])), before)

        trip = dict(moved["trips"][0])
        trip["driver"] = self.drv2
        self.ok(self.srv.patch("/api/v1/events/%s" % moved["id"], {"trips": [trip]}), 200)
        r = self.page(tokens[moved["id"]], "POST", "ack")
        self.assertEqual(r.status, 410, r)
        self.assertIn("改派", r.body)
        self.assertEqual(self.acked(moved["id"], d), [False])
        # The old driver's dispatch.updated (they are taken off) carries no link.
        upd = [m for m in self.messages(mine, 4) if m["type"] == "dispatch.updated"]
        self.assertEqual(len(upd), 1)
        self.assertNotIn("ack_url", upd[0]["data"])

    def test_expired_after_return(self):
        mine = self.unique_path("drv")
        self.webhook(mine, ["dispatch.*"], person=self.drv)
        now = now_local()
        ret = now + datetime.timedelta(seconds=4)
        start = (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
        ev = self.trip_event(start, ret.strftime("%Y-%m-%dT%H:%M:%S"))
        [m] = self.messages(mine, 1)
        token = self.remember(token_of(m["data"]["ack_url"]))
        wait_until(lambda: self.page(token).status == 410, 10, "the link to expire")
        r = self.page(token, "POST", "ack")
        self.assertEqual(r.status, 410, r)
        self.assertIn("已过期", r.body)
        self.assertEqual(self.acked(ev["id"], start[:10]), [False])

    def test_confidential_meeting_page_for_driver(self):
        d = self.working_days(23, 1)[0]
        mine = self.unique_path("drv")
        self.webhook(mine, ["dispatch.*"], person=self.drv)
        self.trip_event(at(d, "09:00"), at(d, "10:00"), title="绝密议题会", confidential=True)
        [m] = self.messages(mine, 1)
        token = self.remember(token_of(m["data"]["ack_url"]))
        html = self.page(token).body
        self.assertNotIn("绝密议题会", html)
        self.assertNotIn("王局长", html)
        self.assertIn("机关大院 → 市政府", html)
        self.assertIn(self.car_row["plate"], html)

    def test_database_busy_changes_nothing(self):
        """Another process holds the database: the press fails after the busy timeout with a
        page that says so (500), nothing is written, and the link works once it is free."""
        d = self.working_days(26, 1)[0]
        mine = self.unique_path("drv")
        self.webhook(mine, ["dispatch.*"], person=self.drv)
        ev = self.trip_event(at(d, "09:00"), at(d, "10:00"))
        [m] = self.messages(mine, 1)
        token = self.remember(token_of(m["data"]["ack_url"]))
        con = sqlite3.connect(self.srv.db, timeout=5, isolation_level=None)
        try:
            con.execute("BEGIN EXCLUSIVE")
            r = self.page(token, "POST", "ack")
        finally:
            con.execute("ROLLBACK")
            con.close()
        self.assertEqual(r.status, 500, r)
        self.assertIn("服务暂时不可用", r.body)
        self.assertEqual(self.acked(ev["id"], d), [False])
        self.assertEqual(self.page(token, "POST", "ack").status, 200)
        self.assertEqual(self.acked(ev["id"], d), [True])

    def test_garbage_tokens(self):
        writes = self.srv.sql("SELECT count(*) FROM event_history")[0][0]
        samples = ["", "x", "..x", "A" * 21, "A" * 22, "A" * 23, "a" * 22 + "/x",
                   "!" * 22, "ä" * 11, "A" * 64, "A" * 65, "A" * 300, "A" * 4000]
        samples += ["B" * n for n in range(1, 100)]
        for s in samples:
            for method in ("GET", "POST"):
                r = self.srv.request(method, "/t/" + urllib.parse.quote(s, safe="/%"), token=None,
                                     raw_body="action=ack" if method == "POST" else None,
                                     headers=FORM if method == "POST" else None)
                self.assertEqual(r.status, 404, (s[:40], method, r))
                self.assertIn("链接无效", r.body)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM event_history")[0][0], writes)

    # ---- an attendee's answer ----

    def test_rsvp_one_occurrence_of_a_series(self):
        mine = self.unique_path("lead")
        office = self.unique_path("office")
        self.webhook(mine, ["reminder.due"], person=self.lead)
        self.webhook(office, ["reminder.due"])
        # Its reminder, 61 minutes ahead, falls due in 3 seconds.
        first = (now_local() + datetime.timedelta(minutes=61, seconds=3)).replace(microsecond=0)
        end = first + datetime.timedelta(minutes=30)
        fmt = "%Y-%m-%dT%H:%M:%S"
        ev = self.event(first.strftime(fmt), end.strftime(fmt), [self.lead], title="周例会",
                        rrule="FREQ=DAILY;COUNT=3", reminders=[61])
        rid = first.strftime(fmt)
        [m] = self.messages(mine, 1, timeout=15)
        self.assertEqual(m["data"]["recurrence_id"], rid)
        token = self.remember(token_of(m["data"]["rsvp_url"]))
        [o] = self.messages(office, 1, where=lambda x: x["data"]["event"] == ev["id"])
        self.assertNotIn("rsvp_url", o["data"])

        html = self.page(token).body
        self.assertIn("周例会", html)
        self.assertIn('value="accepted"', html)
        self.assertIn('value="declined"', html)
        before = len(self.history(ev["id"]))
        r = self.page(token, "POST", "declined")
        self.assertEqual(r.status, 200, r)
        self.assertIn("已回复：不参加", r.body)
        got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200)
        self.assertEqual(got["overrides"], {rid: {"responses": {self.lead: "declined"}}})
        self.assertEqual(got["attendees"][0]["response"], "needs-action")  # the series' answer
        h = self.history(ev["id"])
        self.assertEqual(len(h), before + 1)
        self.assertEqual((h[-1]["action"], h[-1]["actor"]["person"], h[-1]["actor"]["name"]),
                         ("rsvp", self.lead, "one-tap link"))
        r = self.page(token, "POST", "accepted")
        self.assertIn("回复过", r.body)
        self.assertEqual(len(self.history(ev["id"])), before + 1)
        got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200)
        self.assertEqual(got["overrides"], {rid: {"responses": {self.lead: "declined"}}})

        # Taken off the meeting: the link is void.
        self.ok(self.srv.patch("/api/v1/events/%s" % ev["id"], {"attendees": []}), 200)
        self.assertEqual(self.page(token).status, 410)

    def test_rsvp_one_off_meeting_from_event_created(self):
        d = self.working_days(24, 1)[0]
        mine = self.unique_path("lead")
        self.webhook(mine, ["event.*"], person=self.lead)
        ev = self.event(at(d, "15:00"), at(d, "16:00"), [self.lead], title="座谈会",
                        confidential=True)
        [m] = self.messages(mine, 1)
        token = self.remember(token_of(m["data"]["rsvp_url"]))
        html = self.page(token).body
        self.assertIn("座谈会", html)  # the attendee may read a confidential title
        r = self.page(token, "POST", "accepted")
        self.assertEqual(r.status, 200, r)
        got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200)
        self.assertEqual(got["attendees"][0].get("response"), "accepted")

    def test_rsvp_accept_that_would_clash(self):
        """Declined in the console, the time given to another meeting: accepting by link is
        refused as the API would (409), says why, changes nothing, and the link still works."""
        d = self.working_days(25, 1)[0]
        mine = self.unique_path("lead")
        self.webhook(mine, ["event.created"], person=self.lead)
        a = self.event(at(d, "15:00"), at(d, "16:00"), [self.lead], title="甲会")
        [m] = self.messages(mine, 1)
        token = self.remember(token_of(m["data"]["rsvp_url"]))
        self.ok(self.srv.post("/api/v1/events/%s/rsvp" % a["id"],
                              {"person": self.lead, "response": "declined"}), 200)
        self.event(at(d, "15:00"), at(d, "16:00"), [self.lead], title="乙会")
        before = len(self.history(a["id"]))
        r = self.page(token, "POST", "accepted")
        self.assertEqual(r.status, 409, r)
        self.assertIn("已有其他安排", r.body)
        self.assertIn('<form method="post"', r.body)
        self.assertEqual(len(self.history(a["id"])), before)
        got = self.ok(self.srv.get("/api/v1/events/%s" % a["id"]), 200)
        self.assertEqual(got["attendees"][0]["response"], "declined")
        self.assertEqual(self.page(token, "POST", "declined").status, 200)
        self.assertEqual(len(self.history(a["id"])), before + 1)

    # ---- at rest ----

    def test_zz_no_token_in_clear_in_the_database(self):
        self.assertGreater(len(TapLinks.seen_tokens), 5)
        blob = b""
        for path in glob.glob(self.srv.db + "*"):
            if not path.endswith(".key"):
                with open(path, "rb") as f:
                    blob += f.read()
        self.assertGreater(len(blob), 10000)
        for t in TapLinks.seen_tokens:
            self.assertNotIn(t.encode(), blob, "token in clear in the database files")
        self.assertEqual(self.srv.sql("SELECT count(*) FROM deliveries WHERE body LIKE '%/t/%'"),
                         [(0,)])
        self.assertGreater(self.srv.sql("SELECT count(*) FROM deliveries WHERE link_ref IS NOT "
                                        "NULL")[0][0], 5)


class NoPublicUrl(unittest.TestCase):
    """Without --public-url the only base known is the listener's: no link is sent."""

    def test_no_links(self):
        from webhook_receiver import Receiver
        with Receiver() as rx, Robots() as robots, Server() as srv:
            drv = srv.create("people", {"name": "司机", "role": "driver"})["id"]
            car = srv.create("vehicles", {"name": "车", "plate": "京A1", "seats": 4})["id"]
            srv.create("webhooks", {"url": rx.url("/d"), "events": ["dispatch.*"], "person": drv})
            srv.create("webhooks", {"url": robots.wecom_url("d"), "events": ["dispatch.*"],
                                    "format": "wecom", "person": drv})
            d = (now_local() + datetime.timedelta(days=3)).date().isoformat()
            srv.create("events", {"title": "会", "start": at(d, "09:00"), "end": at(d, "10:00"),
                                  "tz": TZ, "trips": [{"vehicle": car, "driver": drv,
                                                       "depart": at(d, "08:30"),
                                                       "return": at(d, "10:30"),
                                                       "approved_by": drv}]})
            [req] = rx.wait_for("/d", 1)
            self.assertEqual(req.json["type"], "dispatch.assigned")
            self.assertNotIn("ack_url", req.json["data"])
            [m] = robots.wait_for("d", 1)
            self.assertNotIn("/t/", m.markdown)
            self.assertNotIn("确认收到](", m.markdown)
            self.assertEqual(srv.sql("SELECT count(*) FROM taplinks"), [(0,)])
            srv.wait_for_log("one-tap links are off: no --public-url")
            # The page still answers (a link from before a restart without the option).
            r = srv.request("GET", "/t/AAAAAAAAAAAAAAAAAAAAAA", token=None)
            self.assertEqual(r.status, 404)


if __name__ == "__main__":
    main()
