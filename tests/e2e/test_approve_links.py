#!/usr/bin/env python3
"""An approver's one-tap decision (CONTRACT sections 12 and 14, issues 16 and 17) against the
real binary, a real webhook receiver and a fake WeCom robot.

Covered: data.approve_url in approval.requested to the approver's own endpoint only (not an
office-wide one, nor the requester's); the 审批 markdown's link on the approver's robot; the
page (meeting, reason, amount, deadline, comment field, 同意 / 不同意; a confidential title
for the approver); GET changes nothing; POST decides as the approver with the comment
(history: the person, "one-tap link"); a second press writes nothing; a link whose approval
was decided in the console is void; a collective approval's page has no buttons and a forged
POST is refused; an expired approval's link; a rejection by link frees the time; the
schema-13 taplinks table keeps its rows through migration 14.

Run: python3 tests/e2e/test_approve_links.py   (CONVENE_BIN=build/convene)
"""

import os
import sqlite3
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dispatch_support import TZ, DispatchBase, at, local, _seq  # noqa: E402
from harness import Server, main, wait_until  # noqa: E402
from robot_receiver import Robots  # noqa: E402
from test_taplinks import FORM, PUBLIC, token_of  # noqa: E402


class ApproveLinks(DispatchBase):
    SERVER_ARGS = ["--retry-schedule", "1,1", "--public-url", PUBLIC + "/"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.robots = Robots().start()

    @classmethod
    def tearDownClass(cls):
        cls.robots.close()
        super().tearDownClass()

    def setUp(self):
        n = next(_seq)
        self.director = self.person("leader", name="办公室主任%d" % n)["id"]
        self.principal = self.person("leader", name="局长%d" % n, rank=1)["id"]
        self.clerk = self.person("secretary", name="秘书%d" % n)["id"]
        self.sec = self.token("secretary", self.clerk)
        self.rules = {"office_director": self.director, "principal": self.principal,
                      "budget_tiers": [1000, 20000, 50000]}
        self.ok(self.srv.request("PUT", "/api/v1/approval-rules", self.rules), 200, "rules")

    def book(self, amount, offset=6, **extra):
        d = self.working_days(offset, 1)[0]
        n = next(_seq)
        start, end = at(d, "%02d:00" % (8 + n % 10)), at(d, "%02d:45" % (8 + n % 10))
        body = {"title": extra.pop("title", "调研座谈 %d" % n), "start": start, "end": end,
                "tz": TZ, "budget": {"amount": amount}}
        body.update(extra)
        ev = self.ok(self.srv.post("/api/v1/events", body, token=self.sec), 201, "book")
        self.assertEqual(ev["status"], "pending")
        return ev

    def page(self, token, method="GET", action=None, comment=None):
        fields = {}
        if action is not None:
            fields["action"] = action
        if comment is not None:
            fields["comment"] = comment
        body = urllib.parse.urlencode(fields) if fields else None
        return self.srv.request(method, "/t/%s" % token, token=None, raw_body=body,
                                headers=FORM if body is not None else None)

    def history(self, event_id):
        return self.ok(self.srv.get("/api/v1/events/%s/history" % event_id), 200, "history")

    def link_for(self, path, ev):
        [m] = self.messages(path, 1, where=lambda x: x["data"]["approval"]["event"] == ev["id"])
        return m

    def test_approve_from_payload_and_robot(self):
        mine, office = self.unique_path("dir"), self.unique_path("office")
        clerk = self.unique_path("clerk")
        self.webhook(mine, ["approval.*"], person=self.director)
        self.webhook(office, ["approval.*"])
        self.webhook(clerk, ["approval.*"], person=self.clerk)
        key = "dir-%s" % self.director
        self.ok(self.srv.post("/api/v1/webhooks", {"url": self.robots.wecom_url(key),
                                                   "events": ["approval.*"], "format": "wecom",
                                                   "person": self.director}), 201, "robot")
        ev = self.book(800.5, title="机密调研", confidential=True)
        m = self.link_for(mine, ev)
        url = m["data"]["approve_url"]
        token = token_of(url)
        # Only the approver's own endpoint carries it.
        o = self.link_for(office, ev)
        self.assertNotIn("approve_url", o["data"])
        self.assertEqual(self.messages(clerk, 0), [])
        [rm] = self.robots.wait_for(key, 1)
        self.assertEqual(rm.problems, [])
        self.assertIn("[审批：同意 / 不同意](%s)" % url, rm.markdown)

        # GET: the meeting in full for its approver, and nothing changes.
        before = len(self.history(ev["id"]))
        r = self.page(token)
        self.assertEqual(r.status, 200, r)
        html = r.body
        for want in ('<html lang="zh-CN">', 'name="viewport"', "会议审批", "机密调研",
                     "经费（办公室主任审批）", "¥800.50", "审批期限", 'name="comment"',
                     'value="approve"', 'value="reject"', "秘书"):
            self.assertIn(want, html)
        self.assertNotIn("<script", html)
        self.assertIn("default-src 'none'", r.header("Content-Security-Policy"))
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertEqual(len(self.history(ev["id"])), before)
        got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200)
        self.assertEqual(got["status"], "pending")

        # A wrong action is refused and changes nothing.
        r = self.page(token, "POST", "ack")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(len(self.history(ev["id"])), before)

        # POST: decided as the director, by link, with the comment.
        r = self.page(token, "POST", "approve", "同意，注意节约")
        self.assertEqual(r.status, 200, r)
        self.assertIn("已同意", r.body)
        self.assertNotIn("<form", r.body)
        got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200)
        self.assertEqual(got["status"], "confirmed")
        a = got["approvals"][0]
        self.assertEqual((a["status"], a["decided_by"], a["comment"]),
                         ("approved", self.director, "同意，注意节约"))
        h = [x for x in self.history(ev["id"]) if x["action"] == "approval_decided"]
        self.assertEqual((h[-1]["actor"]["person"], h[-1]["actor"]["name"]),
                         (self.director, "one-tap link"))
        # Again: already done, nothing written.
        n = len(self.history(ev["id"]))
        r = self.page(token, "POST", "reject")
        self.assertEqual(r.status, 200, r)
        self.assertIn("审批过", r.body)
        self.assertEqual(len(self.history(ev["id"])), n)
        self.assertEqual(self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200)["status"],
                         "confirmed")

    def test_reject_by_link_frees_the_time(self):
        mine = self.unique_path("dir")
        self.webhook(mine, ["approval.requested"], person=self.director)
        ev = self.book(300)
        token = token_of(self.link_for(mine, ev)["data"]["approve_url"])
        r = self.page(token, "POST", "reject", "")
        self.assertEqual(r.status, 200, r)
        self.assertIn("已不同意", r.body)
        got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200)
        self.assertEqual((got["status"], got["approvals"][0]["comment"]), ("rejected", None))
        r = self.srv.post("/api/v1/events", {"title": "接着用", "start": ev["start"],
                                             "end": ev["end"], "tz": TZ})
        self.assertEqual(r.status, 201, r)

    def test_decided_in_console_link_is_void(self):
        mine = self.unique_path("dir")
        self.webhook(mine, ["approval.requested"], person=self.director)
        ev = self.book(300, title="公开会议")
        token = token_of(self.link_for(mine, ev)["data"]["approve_url"])
        self.ok(self.srv.post("/api/v1/approvals/%s/decision" % ev["approvals"][0]["id"],
                              {"decision": "approve"}), 200, "decided")
        n = len(self.history(ev["id"]))
        r = self.page(token, "POST", "reject")
        self.assertEqual(r.status, 410, r)
        self.assertIn("已失效", r.body)
        self.assertIn("公开会议", r.body)  # an open meeting may still be shown
        self.assertEqual(len(self.history(ev["id"])), n)
        self.assertEqual(self.page(token).status, 410)

    def test_collective_is_decided_in_the_console(self):
        mine = self.unique_path("p")
        self.webhook(mine, ["approval.requested"], person=self.principal)
        ev = self.book(80000)
        self.assertEqual(ev["approvals"][0]["tier"], "collective")
        token = token_of(self.link_for(mine, ev)["data"]["approve_url"])
        r = self.page(token)
        self.assertEqual(r.status, 200, r)
        self.assertIn("办公会", r.body)
        self.assertIn("在电脑上登录系统", r.body)
        self.assertNotIn("<form", r.body)
        self.assertIn("¥80,000", r.body)
        for action in ("approve", "reject"):
            r = self.page(token, "POST", action)
            self.assertEqual(r.status, 422, r)
        got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200)
        self.assertEqual((got["status"], got["approvals"][0]["status"]), ("pending", "pending"))

    def test_expired_link(self):
        mine = self.unique_path("dir")
        self.webhook(mine, ["approval.requested"], person=self.director)
        start = int(time.time()) + 7200 + 3
        ev = self.ok(self.srv.post("/api/v1/events", {
            "title": "临近的会", "start": local(start), "end": local(start + 1800), "tz": TZ,
            "budget": {"amount": 200}}, token=self.sec), 201, "book")
        token = token_of(self.link_for(mine, ev)["data"]["approve_url"])
        wait_until(lambda: self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200)["status"]
                   == "expired", timeout=15)
        r = self.page(token, "POST", "approve")
        self.assertEqual(r.status, 410, r)
        self.assertIn("已过期", r.body)

    def test_comment_too_long_changes_nothing(self):
        mine = self.unique_path("dir")
        self.webhook(mine, ["approval.requested"], person=self.director)
        ev = self.book(300)
        token = token_of(self.link_for(mine, ev)["data"]["approve_url"])
        r = self.page(token, "POST", "approve", "长" * 501)
        self.assertEqual(r.status, 422, r)
        r = self.page(token, "POST", "approve", "x" * 3000)
        self.assertEqual(r.status, 400, r)
        got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200)
        self.assertEqual(got["status"], "pending")
        self.assertEqual(self.page(token, "POST", "approve", "好").status, 200)


class Migration14(unittest.TestCase):
    """A schema-13 database's links survive the table's rebuild, and 'approve' is admitted."""

    def test_rows_kept_and_purpose_admitted(self):
        srv = Server().start()
        try:
            srv.stop()
            db = sqlite3.connect(srv.db)
            db.executescript(
                "DROP TABLE taplinks;"
                "CREATE TABLE taplinks(hash BLOB PRIMARY KEY, purpose TEXT NOT NULL "
                "CHECK(purpose IN ('ack', 'rsvp')), person TEXT NOT NULL, event_id TEXT NOT NULL,"
                " trip_id TEXT NOT NULL DEFAULT '', recurrence_id TEXT NOT NULL DEFAULT '',"
                " expires_utc INTEGER NOT NULL, used_at INTEGER, created_at INTEGER NOT NULL)"
                " WITHOUT ROWID;"
                "CREATE INDEX taplinks_by_expiry ON taplinks(expires_utc);"
                "INSERT INTO taplinks VALUES(x'01', 'rsvp', 'per_a', 'evt_a', '', "
                "'2030-01-01T09:00:00', 1900000000, 1800000000, 1700000000);"
                "PRAGMA user_version=13;")
            db.close()
            srv.start()
            self.assertEqual(srv.sql("PRAGMA user_version"), [(14,)])
            self.assertEqual(srv.sql("SELECT purpose, person, recurrence_id, used_at, approval_id "
                                     "FROM taplinks"),
                             [("rsvp", "per_a", "2030-01-01T09:00:00", 1800000000, "")])
            srv.stop()
            db = sqlite3.connect(srv.db)
            with db:
                db.execute("INSERT INTO taplinks(hash, purpose, person, event_id, expires_utc, "
                           "created_at, approval_id) VALUES(x'02', 'approve', 'per_b', 'evt_b', "
                           "1, 1, 'apr_b')")
            with self.assertRaises(sqlite3.IntegrityError):
                db.execute("INSERT INTO taplinks(hash, purpose, person, event_id, expires_utc, "
                           "created_at) VALUES(x'03', 'other', 'p', 'e', 1, 1)")
            db.close()
        finally:
            srv.stop()
            srv.cleanup()


if __name__ == "__main__":
    main()
