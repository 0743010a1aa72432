"""Approvals (CONTRACT section 12) against the real binary: the rules, each budget tier's
boundaries, off-day cars and kept rooms, what a pending booking holds and what it does not
send, who may decide, collective decisions, expiry on time and after a crash.

The 48-hour expiry cannot be waited for: its computation is tests/unit/test_approval.c.
Here a meeting starting in 2 h + a few seconds expires within seconds.
"""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from dispatch_support import (DispatchBase, TZ, at, day, local, next_day, wait_until,  # noqa: E402
                              Server, _seq)


class ApprovalBase(DispatchBase):
    """People and rules of one office: a director, a principal, a deputy in charge of 综合处."""

    def setUp(self):
        self.director = self.person("leader", name="办公室主任 %d" % next(_seq))["id"]
        self.principal = self.person("leader", name="局长 %d" % next(_seq), rank=1)["id"]
        self.deputy = self.person("leader", name="副局长 %d" % next(_seq), rank=2)["id"]
        self.keeper = self.person("staff", name="管理员 %d" % next(_seq))["id"]
        self.clerk = self.person("secretary", name="秘书 %d" % next(_seq))["id"]
        self.dept = "综合处 %d" % next(_seq)
        self.ok(self.srv.post("/api/v1/departments",
                              {"name": self.dept, "in_charge": self.deputy}), 201, "department")
        self.room = self.ok(self.srv.post("/api/v1/rooms", {"name": "贵宾室 %d" % next(_seq),
                                                            "capacity": 10}), 201, "room")["id"]
        self.rules = {"office_director": self.director, "principal": self.principal,
                      "budget_tiers": [1000, 20000, 50000], "off_day_vehicles": True,
                      "rooms": {self.room: self.keeper}}
        self.ok(self.srv.request("PUT", "/api/v1/approval-rules", self.rules), 200, "rules")
        self.sec = self.token("secretary", self.clerk)
        self.hour = 8

    def slot(self, offset=5, minutes=30):
        """A fresh half hour on a working day ahead (no two tests' bookings meet)."""
        d = self.working_days(offset, 1)[0]
        n = next(_seq)
        start = "%sT%02d:%02d:00" % (d, 8 + (n // 2) % 12, (n % 2) * 30)
        end = "%sT%02d:%02d:00" % (d, 8 + (n // 2) % 12, (n % 2) * 30 + 29)
        return start, end

    def book(self, status=201, token=None, **extra):
        start, end = extra.pop("times", None) or self.slot()
        body = {"title": extra.pop("title", "会议 %d" % next(_seq)), "start": start, "end": end,
                "tz": TZ}
        body.update(extra)
        r = self.srv.post("/api/v1/events", body, token=token or self.sec)
        return self.ok(r, status, "event %r" % body)

    def decide(self, approval, token, decision="approve", status=200, **extra):
        body = {"decision": decision, "comment": extra.pop("comment", "同意")}
        body.update(extra)
        kw = {} if token is None else {"token": token}  # None: the admin
        r = self.srv.post("/api/v1/approvals/%s/decision" % approval, body, **kw)
        return self.ok(r, status, "decision")

    def dispatched(self, date, vehicle):
        """The car's trips that are dispatched: the office's list also shows those awaiting
        approval, marked pending (no row, no driver told)."""
        return [t for t in self.trips_of(date, vehicle=vehicle) if not t.get("pending")]

    def weekend(self, offset=3):
        r = self.ok(self.srv.get("/api/v1/workdays?from=%s&to=%s" % (day(offset), day(offset + 30))),
                    200, "workdays")
        return [d["date"] for d in r if not d["working"]][0]


class RulesAndTiers(ApprovalBase):
    def test_rules_round_trip_and_refusals(self):
        got = self.ok(self.srv.get("/api/v1/approval-rules"), 200, "rules")
        self.assertEqual(got["principal"], self.principal)
        self.assertEqual(got["budget_tiers"], [1000, 20000, 50000])
        bad = [({"principal": self.principal}, 422, "office_director"),
               (dict(self.rules, principal="per_nobody"), 422, "principal"),
               (dict(self.rules, budget_tiers=[1000, 1000, 5000]), 422, "budget_tiers[1]"),
               (dict(self.rules, budget_tiers=[1000, 20000]), 422, "budget_tiers"),
               (dict(self.rules, budget_tiers=[1000.001, 20000, 50000]), 422, "budget_tiers[0]"),
               (dict(self.rules, rooms={"room_nope": self.keeper}), 422, "rooms.room_nope"),
               (dict(self.rules, off_day_vehicles="yes"), 400, "off_day_vehicles"),
               (dict(self.rules, approvers=[]), 400, "approvers")]
        for body, status, field in bad:
            r = self.srv.request("PUT", "/api/v1/approval-rules", body)
            self.assertEqual((r.status, r.field), (status, field), r)
        r = self.srv.request("PUT", "/api/v1/approval-rules", self.rules, token=self.sec)
        self.assertEqual(r.status, 403, r)
        # Nothing of the refused bodies was kept.
        self.assertEqual(self.ok(self.srv.get("/api/v1/approval-rules"), 200, "rules"), got)

    def test_each_tier_boundary(self):
        cases = [(999.99, "office_director", self.director),
                 (1000, "in_charge", self.deputy),
                 (19999, "in_charge", self.deputy),
                 (20000, "principal", self.principal),
                 (50000, "principal", self.principal),
                 (50001, "collective", self.principal)]
        for amount, tier, approver in cases:
            ev = self.book(kind="专题会", department=self.dept,
                           budget={"amount": amount, "currency": "CNY"})
            self.assertEqual(ev["status"], "pending", amount)
            self.assertEqual([(a["reason"], a["tier"], a["approver"], a["status"])
                              for a in ev["approvals"]],
                             [("budget", tier, approver, "pending")], amount)
            self.assertTrue(ev["approvals"][0]["expires"].endswith("Z"))
            got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200, "get")
            self.assertEqual(got["status"], "pending")
            self.assertEqual(got["kind"], "专题会")
            self.assertEqual(self.srv.sql("SELECT kind, department, status FROM events WHERE id=?",
                                          (ev["id"],)), [("专题会", self.dept, "pending")])
        # Nothing to approve: a budget of 0, or none.
        for extra in ({"budget": {"amount": 0}}, {}):
            ev = self.book(**extra)
            self.assertEqual(ev["status"], "confirmed", extra)
            self.assertNotIn("approvals", ev)

    def test_budget_and_department_refusals(self):
        bad = [({"budget": {"amount": 1.001}}, 422, "budget.amount"),
               ({"budget": {"amount": -1}}, 422, "budget.amount"),
               ({"budget": {"amount": "12"}}, 400, "budget.amount"),
               ({"budget": {"amount": 5, "currency": "USD"}}, 422, "budget.currency"),
               ({"budget": {"amount": 5, "cur": "CNY"}}, 400, "budget.cur"),
               ({"budget": 5}, 400, "budget"),
               ({"kind": "x" * 33}, 422, "kind"),
               ({"budget": {"amount": 5000}}, 422, "department"),
               ({"budget": {"amount": 5000}, "department": "没有这个处"}, 422, "department"),
               ({"approvals": []}, 400, "approvals")]
        for extra, status, field in bad:
            r = self.srv.post("/api/v1/events", dict({"title": "x", "start": at(day(9), "09:00"),
                                                      "end": at(day(9), "10:00"), "tz": TZ}, **extra))
            self.assertEqual((r.status, r.field), (status, field), (extra, r))

    def test_departments_crud(self):
        r = self.srv.post("/api/v1/departments", {"name": self.dept})
        self.assertEqual((r.status, r.code), (409, "name_taken"), r)
        r = self.srv.post("/api/v1/departments", {"name": "外事处", "in_charge": "per_nobody"})
        self.assertEqual((r.status, r.field), (422, "in_charge"), r)
        d = self.ok(self.srv.post("/api/v1/departments", {"name": "督查室 %d" % next(_seq)}),
                    201, "dept")
        self.assertIsNone(d["in_charge"])
        d = self.ok(self.srv.patch("/api/v1/departments/%s" % d["id"],
                                   {"in_charge": self.principal}), 200, "patch")
        self.assertEqual(d["in_charge"], self.principal)
        r = self.srv.post("/api/v1/departments", {"name": "x"}, token=self.sec)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.srv.delete("/api/v1/departments/%s" % d["id"]).status, 204)
        self.assertEqual(self.srv.get("/api/v1/departments/%s" % d["id"]).status, 404)
        # The name is free again once the department is gone.
        self.ok(self.srv.post("/api/v1/departments", {"name": d["name"]}), 201, "again")

    def test_no_rules_section_6_holds(self):
        self.assertEqual(self.srv.delete("/api/v1/approval-rules").status, 204)
        try:
            self.assertEqual(self.srv.get("/api/v1/approval-rules").status, 404)
            ev = self.book(budget={"amount": 30000})
            self.assertEqual(ev["status"], "confirmed")
            sat = self.weekend()
            v, drv = self.vehicle()["id"], self.person("driver")["id"]
            trip = self.trip(v, drv, at(sat, "08:00"), at(sat, "12:00"))
            r = self.srv.post("/api/v1/events", {"title": "周末调研", "start": at(sat, "09:00"),
                                                 "end": at(sat, "11:00"), "tz": TZ, "trips": [trip]})
            self.assertEqual((r.status, r.code), (422, "approval_required"), r)
            trip["approved_by"] = self.clerk  # anyone, without rules
            self.book(times=(at(sat, "09:00"), at(sat, "11:00")), trips=[trip])
        finally:
            self.ok(self.srv.request("PUT", "/api/v1/approval-rules", self.rules), 200, "rules")


class HoldsAndReasons(ApprovalBase):
    def test_pending_holds_its_time_rejection_frees_it(self):
        who = self.person("leader")["id"]
        times = self.slot()
        ev = self.book(times=times, budget={"amount": 800}, attendees=[{"person": who}])
        r = self.srv.post("/api/v1/events", {"title": "撞车", "start": times[0], "end": times[1],
                                             "tz": TZ, "attendees": [{"person": who}]})
        self.assertEqual(r.status, 409, r)
        entry = r.json["error"]["conflicts"][0]
        self.assertEqual((entry["event"], entry["other_status"]), (ev["id"], "pending"))
        self.decide(ev["approvals"][0]["id"], self.token("leader", self.director), "reject",
                    comment="经费不足")
        self.assertEqual(self.srv.get("/api/v1/events/%s" % ev["id"]).json["status"], "rejected")
        self.assertEqual(self.srv.sql("SELECT count(*) FROM occupancy WHERE event_id=?",
                                      (ev["id"],)), [(0,)])
        self.book(times=times, attendees=[{"person": who}])  # the time is free again

    def test_room_and_off_day_vehicle(self):
        ev = self.book(room=self.room)
        self.assertEqual([(a["reason"], a["approver"]) for a in ev["approvals"]],
                         [("room", self.keeper)])
        sat = self.weekend()
        v, drv = self.vehicle()["id"], self.person("driver")["id"]
        trip = self.trip(v, drv, at(sat, "07:00"), at(sat, "16:00"))
        body = {"times": (at(sat, "09:00"), at(sat, "10:00")), "trips": [trip]}
        ev = self.book(**body)
        self.assertEqual([(a["reason"], a["approver"]) for a in ev["approvals"]],
                         [("off_day_vehicle", self.director)])
        # approved_by must name the approver the rules name.
        trip2 = self.trip(self.vehicle()["id"], self.person("driver")["id"],
                          at(sat, "07:00"), at(sat, "16:00"), approved_by=self.principal)
        r = self.srv.post("/api/v1/events", {"title": "x", "start": at(sat, "13:00"),
                                             "end": at(sat, "14:00"), "tz": TZ, "trips": [trip2]},
                          token=self.sec)
        self.assertEqual((r.status, r.code, r.field), (422, "wrong_approver",
                                                       "trips[0].approved_by"), r)
        trip2["approved_by"] = self.director
        ev = self.book(times=(at(sat, "13:00"), at(sat, "14:00")), trips=[trip2])
        self.assertEqual(ev["status"], "pending")
        # A weekday trip needs nobody.
        wd = self.working_days(5, 1)[0]
        trip3 = self.trip(self.vehicle()["id"], self.person("driver")["id"],
                          at(wd, "07:00"), at(wd, "16:00"))
        ev = self.book(times=(at(wd, "09:00"), at(wd, "10:00")), trips=[trip3])
        self.assertEqual(ev["status"], "confirmed")

    def test_too_late_for_approval(self):
        soon = time.time() + 3600
        r = self.srv.post("/api/v1/events", {"title": "临时", "start": local(soon),
                                             "end": local(soon + 1800), "tz": TZ,
                                             "budget": {"amount": 100}}, token=self.sec)
        self.assertEqual((r.status, r.code), (422, "too_late_for_approval"), r)
        # The same meeting without a budget needs no approval and is booked.
        r = self.srv.post("/api/v1/events", {"title": "临时", "start": local(soon),
                                             "end": local(soon + 1800), "tz": TZ}, token=self.sec)
        self.assertEqual(r.status, 201, r)


class Decisions(ApprovalBase):
    def pending(self, amount=800, token=None, **extra):
        ev = self.book(token=token, budget={"amount": amount}, department=self.dept, **extra)
        self.assertEqual(ev["status"], "pending")
        return ev, ev["approvals"][0]["id"]

    def test_who_may_decide(self):
        other_leader = self.token("leader", self.person("leader")["id"])
        driver = self.token("driver", self.person("driver")["id"])
        director = self.token("leader", self.director)
        other_secretary = self.token("secretary", self.person("secretary")["id"])
        for tok in (other_leader, driver, other_secretary):
            _, apr = self.pending()
            r = self.srv.post("/api/v1/approvals/%s/decision" % apr, {"decision": "approve"},
                              token=tok)
            self.assertEqual((r.status, r.code), (403, "forbidden"), r)
        # The approver, through a token of any role bound to them (a secretary token here).
        ev, apr = self.pending()
        out = self.decide(apr, self.token("secretary", self.director))
        self.assertEqual((out["status"], out["event_status"], out["decided_by"]),
                         ("approved", "confirmed", self.director))
        r = self.srv.post("/api/v1/approvals/%s/decision" % apr, {"decision": "approve"},
                          token=director)
        self.assertEqual((r.status, r.code), (409, "already_decided"), r)
        # An admin.
        _, apr = self.pending()
        self.decide(apr, None)
        # The requester, though they are the approver (and though they are admin).
        _, apr = self.pending(token=self.token("secretary", self.director))
        r = self.srv.post("/api/v1/approvals/%s/decision" % apr, {"decision": "approve"},
                          token=director)
        self.assertEqual((r.status, r.code), (403, "own_request"), r)
        self.decide(apr, None)  # someone else (an admin) may
        # Bad input and unknown ids.
        _, apr = self.pending()
        for body, status, field in (({"decision": "maybe"}, 422, "decision"),
                                    ({}, 422, "decision"),
                                    ({"decision": "approve", "why": 1}, 400, "why"),
                                    ({"decision": "approve", "comment": 5}, 400, "comment")):
            r = self.srv.post("/api/v1/approvals/%s/decision" % apr, body, token=director)
            self.assertEqual((r.status, r.field), (status, field), r)
        r = self.srv.post("/api/v1/approvals/apr_nope/decision", {"decision": "approve"})
        self.assertEqual(r.status, 404, r)

    def test_delegate_inside_and_outside_the_block(self):
        helper = self.person("leader")["id"]
        later = self.person("leader")["id"]
        now = time.time()
        self.ok(self.srv.post("/api/v1/blocks", {"resource": {"type": "person", "id": self.director},
                                                 "start": local(now - 600), "end": local(now + 3600),
                                                 "tz": TZ, "reason": "出差", "delegate": helper}),
                201, "block now")
        self.ok(self.srv.post("/api/v1/blocks", {"resource": {"type": "person", "id": self.director},
                                                 "start": local(now + 86400 * 20),
                                                 "end": local(now + 86400 * 21), "tz": TZ,
                                                 "delegate": later}), 201, "block later")
        r = self.srv.post("/api/v1/blocks", {"resource": {"type": "room", "id": self.room},
                                             "start": local(now + 86400 * 20),
                                             "end": local(now + 86400 * 21), "tz": TZ,
                                             "delegate": later})
        self.assertEqual((r.status, r.field), (422, "delegate"), r)
        _, apr = self.pending()
        r = self.srv.post("/api/v1/approvals/%s/decision" % apr, {"decision": "approve"},
                          token=self.token("leader", later))
        self.assertEqual(r.status, 403, r)
        out = self.decide(apr, self.token("leader", helper))
        self.assertEqual(out["decided_by"], helper)

    def test_collective_needs_an_office_meeting(self):
        ev, apr = self.pending(amount=80000)
        principal = self.token("leader", self.principal)
        r = self.srv.post("/api/v1/approvals/%s/decision" % apr, {"decision": "approve"},
                          token=principal)
        self.assertEqual((r.status, r.code, r.field), (422, "meeting_required", "meeting"), r)
        topic = self.book(kind="专题会")["id"]
        r = self.srv.post("/api/v1/approvals/%s/decision" % apr,
                          {"decision": "approve", "meeting": topic}, token=principal)
        self.assertEqual((r.status, r.code), (422, "not_office_meeting"), r)
        office = self.book(kind="办公会", title="局长办公会")["id"]
        out = self.decide(apr, principal, meeting=office, comment="办公会研究同意")
        self.assertEqual((out["meeting"], out["event_status"]), (office, "confirmed"))
        hist = self.ok(self.srv.get("/api/v1/events/%s/history" % ev["id"]), 200, "history")
        actions = [h["action"] for h in hist]
        self.assertEqual(actions[:4], ["created", "approval_requested", "approval_decided",
                                       "confirmed"], actions)
        decided = [h for h in hist if h["action"] == "approval_decided"][0]
        self.assertEqual(decided["after"]["comment"], "办公会研究同意")

    def test_lists(self):
        ev, apr = self.pending()
        mine = self.ok(self.srv.get("/api/v1/approvals?status=pending",
                                    token=self.token("leader", self.director)), 200, "mine")
        self.assertIn(apr, [a["id"] for a in mine])
        self.assertTrue(all(a["approver"] == self.director for a in mine))
        self.assertEqual([a["summary"]["title"] for a in mine if a["id"] == apr], [ev["title"]])
        other = self.token("leader", self.principal)
        self.assertNotIn(apr, [a["id"] for a in self.srv.get("/api/v1/approvals?status=pending",
                                                             token=other).json])
        r = self.srv.get("/api/v1/approvals?approver=%s" % self.director, token=other)
        self.assertEqual(r.status, 403, r)
        every = self.ok(self.srv.get("/api/v1/approvals?status=pending&approver=%s"
                                     % self.director, token=self.sec), 200, "all")
        self.assertIn(apr, [a["id"] for a in every])
        r = self.srv.get("/api/v1/approvals?status=maybe")
        self.assertEqual((r.status, r.field), (422, "status"), r)
        # Cancelling the booking withdraws its approval.
        self.assertEqual(self.srv.delete("/api/v1/events/%s" % ev["id"]).status, 204)
        self.assertNotIn(apr, [a["id"] for a in self.srv.get("/api/v1/approvals?status=pending").json])


class Messages(ApprovalBase):
    def test_nothing_sent_while_pending_everything_after(self):
        path = self.unique_path("all")
        self.webhook(path, ["*"])
        sat = self.weekend()
        who = self.person("leader", diet="halal")["id"]
        v, drv = self.vehicle()["id"], self.person("driver")["id"]
        trip = self.trip(v, drv, at(sat, "08:00"), at(sat, "12:00"), passengers=[who])
        ev = self.book(times=(at(sat, "09:00"), at(sat, "11:30")), attendees=[{"person": who}],
                       meals=[{"meal": "lunch"}], reminders=[60], trips=[trip],
                       budget={"amount": 30000}, department=self.dept, kind="调研")
        self.assertEqual(sorted((a["reason"], a["approver"]) for a in ev["approvals"]),
                         sorted([("budget", self.principal), ("off_day_vehicle", self.director)]))
        def mine(m):
            e, a = m["data"].get("event"), m["data"].get("approval")
            return (e == ev["id"] or (isinstance(e, dict) and e.get("id") == ev["id"]) or
                    (isinstance(a, dict) and a.get("event") == ev["id"]))
        got = self.messages(path, 3, where=mine)
        self.assertEqual(sorted(m["type"] for m in got),
                         ["approval.requested", "approval.requested", "event.created"])
        # Not counted, no trip, no reminders, TENTATIVE in feeds.
        self.assertIsNone(self.meal(sat, "lunch"))
        self.assertEqual(self.dispatched(sat, v), [])
        self.assertEqual(self.srv.sql("SELECT count(*) FROM reminders WHERE event_id=?",
                                      (ev["id"],)), [(0,)])
        self.assertIn("STATUS:TENTATIVE", self.feed(who))
        # The budget first: still pending, still nothing sent.
        by = {a["reason"]: a["id"] for a in ev["approvals"]}
        out = self.decide(by["budget"], self.token("leader", self.principal))
        self.assertEqual(out["event_status"], "pending")
        got = self.messages(path, 4, where=mine)
        self.assertEqual(got[3]["type"], "approval.decided")
        self.assertEqual(got[3]["data"]["decision"], "approved")
        self.assertEqual(self.dispatched(sat, v), [])
        # The car: confirmed, and now dispatch, catering and reminders follow.
        out = self.decide(by["off_day_vehicle"], self.token("leader", self.director))
        self.assertEqual(out["event_status"], "confirmed")
        got = self.messages(path, 8, where=lambda m: mine(m) or m["type"] == "catering.updated")
        self.assertEqual(sorted(m["type"] for m in got[4:]),
                         ["approval.decided", "catering.updated", "dispatch.assigned",
                          "event.updated"])
        self.assertEqual(self.meal(sat, "lunch")["total"], 1)
        self.assertEqual(len(self.trips_of(sat, vehicle=v)), 1)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM reminders WHERE event_id=?",
                                      (ev["id"],)), [(1,)])
        self.assertIn("STATUS:CONFIRMED", self.feed(who))

    def test_expiry_on_time(self):
        path = self.unique_path("expiry")
        self.webhook(path, ["approval.*"])
        who = self.person("leader")["id"]
        start = int(time.time()) + 7200 + 4
        ev = self.book(times=(local(start), local(start + 1800)), budget={"amount": 300},
                       attendees=[{"person": who}])
        self.assertEqual(ev["status"], "pending")
        got = self.messages(path, 2, timeout=15, settle=0.2)
        self.assertEqual([m["type"] for m in got], ["approval.requested", "approval.decided"])
        self.assertEqual(got[1]["data"]["decision"], "expired")
        self.assertGreaterEqual(time.time(), start - 7200)
        after = self.srv.get("/api/v1/events/%s" % ev["id"]).json
        self.assertEqual((after["status"], after["approvals"][0]["status"]), ("expired", "expired"))
        self.assertEqual(self.srv.sql("SELECT count(*) FROM occupancy WHERE event_id=?",
                                      (ev["id"],)), [(0,)])
        r = self.srv.post("/api/v1/approvals/%s/decision" % ev["approvals"][0]["id"],
                          {"decision": "approve"}, token=self.token("leader", self.director))
        self.assertEqual((r.status, r.code), (409, "already_decided"), r)
        hist = [h["action"] for h in self.srv.get("/api/v1/events/%s/history" % ev["id"]).json]
        self.assertEqual(hist[-1], "expired")


class CrashSafety(ApprovalBase):
    """kill -9 between request and decision loses nothing; an expiry due while down happens
    at start."""

    def test_kill_between_request_and_decision(self):
        kept = self.book(budget={"amount": 800})
        start = int(time.time()) + 7200 + 3
        due = self.book(times=(local(start), local(start + 1800)), budget={"amount": 800})
        self.srv.kill()
        time.sleep(max(0, start - 7200 - time.time()) + 1)
        self.srv.start()
        # The overdue one expired at start, without waiting for anything else.
        wait_until(lambda: self.srv.get("/api/v1/events/%s" % due["id"]).json["status"] == "expired",
                   3, "expiry at start")
        got = self.srv.get("/api/v1/events/%s" % kept["id"]).json
        self.assertEqual((got["status"], got["approvals"][0]["status"]), ("pending", "pending"))
        out = self.decide(kept["approvals"][0]["id"], self.token("leader", self.director))
        self.assertEqual(out["event_status"], "confirmed")



class ChangesNeedApproval(ApprovalBase):
    """A change of a confirmed booking that needs an approval it did not have makes it
    pending again, holding its time, with nothing downstream live until it is confirmed."""

    def patch(self, ev, body, status=200, token=None):
        cur = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200, "get")
        r = self.srv.request("PATCH", "/api/v1/events/%s" % ev["id"], body,
                             headers={"If-Match": '"%d"' % cur["version"]},
                             token=token or self.sec)
        return self.ok(r, status, "patch %r" % body)

    def mine(self, ev):
        def where(m):
            e, a = m["data"].get("event"), m["data"].get("approval")
            return (e == ev["id"] or (isinstance(e, dict) and e.get("id") == ev["id"]) or
                    (isinstance(a, dict) and a.get("event") == ev["id"]))
        return where

    def reminders(self, ev):
        return self.srv.sql("SELECT count(*) FROM reminders WHERE event_id=? AND sent=0",
                            (ev["id"],))[0][0]

    def test_budget_raised_pending_again_then_back(self):
        path = self.unique_path("change")
        wd = self.working_days(6, 1)[0]
        who = self.person("leader")["id"]
        v, drv = self.vehicle()["id"], self.person("driver")["id"]
        hall = self.ok(self.srv.post("/api/v1/rooms", {"name": "会议室 %d" % next(_seq),
                                                       "capacity": 10}), 201, "room")["id"]
        times = (at(wd, "09:00"), at(wd, "11:30"))
        ev = self.book(times=times, attendees=[{"person": who}], room=hall,
                       meals=[{"meal": "lunch"}], reminders=[60], department=self.dept,
                       trips=[self.trip(v, drv, at(wd, "08:00"), at(wd, "12:00"))])
        self.assertEqual(ev["status"], "confirmed")
        self.assertEqual(len(self.trips_of(wd, vehicle=v)), 1)
        self.assertEqual(self.meal(wd, "lunch")["total"], 1)
        self.assertEqual(self.reminders(ev), 1)
        # A change that needs nothing new leaves it confirmed.
        out = self.patch(ev, {"title": "改名的会议"})
        self.assertEqual(out["status"], "confirmed")
        self.assertNotIn("approvals", out)
        # From no budget into the first tier: pending again, with the new approval.
        time.sleep(1.1)  # the endpoint hears nothing of the changes above (same second)
        self.webhook(path, ["*"])
        out = self.patch(ev, {"budget": {"amount": 800}})
        self.assertEqual(out["status"], "pending")
        self.assertEqual([(a["reason"], a["approver"], a["status"]) for a in out["approvals"]],
                         [("budget", self.director, "pending")])
        # It holds its time: the room is still taken, as pending.
        r = self.srv.post("/api/v1/events", {"title": "抢", "start": times[0], "end": times[1],
                                             "tz": TZ, "room": hall}, token=self.sec)
        self.assertEqual(r.status, 409, r)
        entry = r.json["error"]["conflicts"][0]
        self.assertEqual((entry["event"], entry["other_status"]), (ev["id"], "pending"))
        # Nothing downstream stays live: the trip withdrawn, the lunch uncounted, no reminders.
        self.assertEqual(self.dispatched(wd, v), [])
        self.assertIsNone(self.meal(wd, "lunch"))
        self.assertEqual(self.reminders(ev), 0)
        got = self.messages(path, 4, where=lambda m: self.mine(ev)(m) or
                            m["type"] == "catering.updated")
        types = sorted(m["type"] for m in got)
        self.assertEqual(types, ["approval.requested", "catering.updated", "dispatch.cancelled",
                                 "event.updated"], got)
        cancel = [m for m in got if m["type"] == "dispatch.cancelled"][0]
        self.assertEqual(cancel["data"]["reason"], "awaiting_approval")
        asked = [m for m in got if m["type"] == "approval.requested"][0]
        self.assertEqual(asked["data"]["audience"], [self.director])
        # A second change in the same tier while pending asks nobody again.
        out = self.patch(ev, {"budget": {"amount": 900}})
        self.assertEqual((out["status"], len(out["approvals"])), ("pending", 1))
        # Approved: everything comes back as for a new booking.
        done = self.decide(out["approvals"][0]["id"], self.token("leader", self.director))
        self.assertEqual(done["event_status"], "confirmed")
        self.assertEqual(len(self.trips_of(wd, vehicle=v)), 1)
        self.assertEqual(self.meal(wd, "lunch")["total"], 1)
        self.assertEqual(self.reminders(ev), 1)
        # Lower is covered by what was approved; higher (the in-charge leader) is not.
        out = self.patch(ev, {"budget": {"amount": 500}})
        self.assertEqual(out["status"], "confirmed")
        out = self.patch(ev, {"budget": {"amount": 5000}})
        self.assertEqual(out["status"], "pending")
        self.assertEqual(sorted((a["tier"], a["status"]) for a in out["approvals"]),
                         [("in_charge", "pending"), ("office_director", "approved")])
        hist = self.ok(self.srv.get("/api/v1/events/%s/history" % ev["id"]), 200, "history")
        self.assertEqual([h["action"] for h in hist].count("approval_requested"), 2)
        # Refused: the booking is rejected and its time free.
        new = [a for a in out["approvals"] if a["status"] == "pending"][0]
        done = self.decide(new["id"], self.token("leader", self.deputy), "reject")
        self.assertEqual(done["event_status"], "rejected")
        self.book(times=times, room=hall)

    def test_weekend_trip_and_kept_room_and_occurrence(self):
        wd, sat = self.working_days(6, 1)[0], self.weekend(6)
        v, drv = self.vehicle()["id"], self.person("driver")["id"]
        ev = self.book(times=(at(wd, "14:00"), at(wd, "15:00")),
                       trips=[self.trip(v, drv, at(wd, "13:00"), at(wd, "16:00"))])
        self.assertEqual(ev["status"], "confirmed")
        # Moved onto a weekend, the car (which moves with it) needs the director.
        out = self.patch(ev, {"start": at(sat, "14:00"), "end": at(sat, "15:00")})
        self.assertEqual(out["status"], "pending")
        self.assertEqual([(a["reason"], a["approver"]) for a in out["approvals"]],
                         [("off_day_vehicle", self.director)])
        # A kept room chosen: its keeper too.
        ev2 = self.book()
        out = self.patch(ev2, {"room": self.room})
        self.assertEqual(out["status"], "pending")
        self.assertEqual([(a["reason"], a["approver"]) for a in out["approvals"]],
                         [("room", self.keeper)])
        # One occurrence of a weekly series moved onto a weekend, with the series' car.
        first = self.working_days(8, 1)[0]
        ser = self.book(times=(at(first, "14:00"), at(first, "15:00")), rrule="FREQ=WEEKLY;COUNT=3",
                        trips=[self.trip(v, drv, at(first, "13:00"), at(first, "16:00"))])
        self.assertEqual(ser["status"], "confirmed")
        later = next_day(first, 7)
        r = self.srv.request("PATCH", "/api/v1/events/%s/occurrences/%sT14:00:00" % (ser["id"], later),
                             {"start": at(next_day(sat, 14), "14:00"),
                              "end": at(next_day(sat, 14), "15:00")}, token=self.sec)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["status"], r.json["approvals"][0]["reason"]),
                         ("pending", "off_day_vehicle"))

    def test_too_late_and_forged_approvals(self):
        start = int(time.time()) + 3600
        ev = self.book(times=(local(start), local(start + 1800)))
        r = self.srv.request("PATCH", "/api/v1/events/%s" % ev["id"], {"budget": {"amount": 800}},
                             token=self.sec)
        self.assertEqual((r.status, r.code), (422, "too_late_for_approval"), r)
        got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200, "get")
        self.assertEqual((got["status"], got.get("budget")), ("confirmed", None))
        # A client cannot write approvals into a booking.
        r = self.srv.request("PATCH", "/api/v1/events/%s" % ev["id"],
                             {"approvals": [{"status": "approved"}]}, token=self.sec)
        self.assertEqual((r.status, r.field), (400, "approvals"), r)


class KeptRooms(ApprovalBase):
    """Every kept room a booking holds asks its keeper, the rooms single occurrences moved to
    included; asking one keeper leaves another's standing approval alone; an event keeps all
    the approvals it was ever asked for, however many changes moved them."""

    def kept_room(self):
        keeper = self.person("staff", name="管理员 %d" % next(_seq))["id"]
        room = self.ok(self.srv.post("/api/v1/rooms", {"name": "小会议室 %d" % next(_seq),
                                                       "capacity": 10}), 201, "room")["id"]
        self.rules["rooms"][room] = keeper
        self.ok(self.srv.request("PUT", "/api/v1/approval-rules", self.rules), 200, "rules")
        return room, keeper

    def series(self, first, room):
        ser = self.book(times=(at(first, "14:00"), at(first, "15:00")),
                        rrule="FREQ=WEEKLY;COUNT=3", room=room)
        return ser

    def move_occurrence(self, ser, on, room):
        r = self.srv.request("PATCH", "/api/v1/events/%s/occurrences/%sT14:00:00" % (ser["id"], on),
                             {"room": room}, token=self.sec)
        return self.ok(r, 200, "occurrence to %s" % room)

    def asked(self, ev):
        return [(a["reason"], a["approver"], a["status"]) for a in ev["approvals"]]

    def test_an_occurrence_moved_into_a_kept_room_asks_its_keeper(self):
        first = self.working_days(9, 1)[0]
        plain = self.ok(self.srv.post("/api/v1/rooms", {"name": "会议室 %d" % next(_seq),
                                                        "capacity": 10}), 201, "room")["id"]
        ser = self.series(first, plain)
        self.assertEqual(ser["status"], "confirmed")
        out = self.move_occurrence(ser, next_day(first, 7), self.room)
        self.assertEqual(out["status"], "pending")
        self.assertEqual(self.asked(out), [("room", self.keeper, "pending")])
        # Someone else may not decide it; the keeper may, and the series is confirmed again.
        r = self.srv.post("/api/v1/approvals/%s/decision" % out["approvals"][0]["id"],
                          {"decision": "approve"}, token=self.token("leader", self.director))
        self.assertEqual((r.status, r.code), (403, "forbidden"), r)
        done = self.decide(out["approvals"][0]["id"], self.token("secretary", self.keeper))
        self.assertEqual(done["event_status"], "confirmed")

    def test_a_second_keeper_is_asked_and_the_first_approval_stands(self):
        first = self.working_days(10, 1)[0]
        other_room, other_keeper = self.kept_room()
        ser = self.series(first, self.room)
        self.assertEqual(self.asked(ser), [("room", self.keeper, "pending")])
        self.decide(ser["approvals"][0]["id"], self.token("secretary", self.keeper))
        out = self.move_occurrence(ser, next_day(first, 14), other_room)
        self.assertEqual(out["status"], "pending")
        self.assertEqual(self.asked(out), [("room", self.keeper, "approved"),
                                           ("room", other_keeper, "pending")])
        done = self.decide(out["approvals"][1]["id"], self.token("secretary", other_keeper))
        self.assertEqual(done["event_status"], "confirmed")

    def test_many_changes_keep_every_approval(self):
        other_room, other_keeper = self.kept_room()
        ev = self.book(room=self.room)
        rooms = [other_room, self.room] * 5
        for room in rooms:  # each change withdraws the pending approval and asks the other keeper
            cur = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200, "get")
            r = self.srv.request("PATCH", "/api/v1/events/%s" % ev["id"], {"room": room},
                                 headers={"If-Match": '"%d"' % cur["version"]}, token=self.sec)
            ev = self.ok(r, 200, "to %s" % room)
        got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200, "get")
        self.assertEqual(len(got["approvals"]), 11)
        self.assertEqual([a["status"] for a in got["approvals"]], ["withdrawn"] * 10 + ["pending"])
        self.assertEqual(got["approvals"][-1]["approver"], self.keeper)
        # The last one decides the booking (with the list cut at 8 it was not even seen).
        done = self.decide(got["approvals"][-1]["id"], self.token("secretary", self.keeper))
        self.assertEqual((done["status"], done["event_status"]), ("approved", "confirmed"))


class ApproversSee(ApprovalBase):
    """Who decides a pending approval (its approver, or their delegate now) reads the meeting
    in full on every path; once decided, and for anyone else, the visibility rule holds."""

    SECRET = "绝密-人事酝酿"

    def delegate_block(self, approver, delegate):
        now = time.time()
        return self.ok(self.srv.post("/api/v1/blocks", {
            "resource": {"type": "person", "id": approver}, "start": local(now - 600),
            "end": local(now + 3600), "tz": TZ, "reason": "出差", "delegate": delegate}),
            201, "block")

    def test_approver_and_delegate_see_in_full_until_decided(self):
        helper, other = self.person("leader")["id"], self.person("leader")["id"]
        self.delegate_block(self.director, helper)
        mine, theirs = self.unique_path("dir"), self.unique_path("other")
        self.webhook(mine, ["approval.*"], person=self.director)
        self.webhook(theirs, ["approval.*", "event.*"], person=other)
        ev = self.book(title=self.SECRET, confidential=True, budget={"amount": 800},
                       description="绝密-议程")
        apr = ev["approvals"][0]["id"]
        tokens = {who: self.token("leader", who) for who in (self.director, helper, other)}
        path = "/api/v1/events/%s" % ev["id"]
        # GET /events/{id}: the approver and the delegate in full; anyone else refused.
        for who in (self.director, helper):
            got = self.ok(self.srv.get(path, token=tokens[who]), 200, "approver")
            self.assertEqual((got["title"], got["description"]), (self.SECRET, "绝密-议程"))
        self.assertEqual(self.srv.get(path, token=tokens[other]).status, 403)
        # The approver's own endpoint: the meeting in full; another person's: nothing.
        [m] = self.messages(mine, 1)
        self.assertEqual((m["type"], m["data"]["event"]["title"]),
                         ("approval.requested", self.SECRET))
        self.assertEqual(self.messages(theirs, 0), [])
        # GET /approvals summaries, the approver's and the delegate's.
        for who in (self.director, helper):
            got = self.ok(self.srv.get("/api/v1/approvals?status=pending", token=tokens[who]),
                          200, "list")
            self.assertEqual([(a["id"], a["summary"]["title"]) for a in got],
                             [(apr, self.SECRET)])
        # Decided: the approver no longer reads the confidential meeting.
        self.decide(apr, tokens[self.director])
        self.assertEqual(self.srv.get(path, token=tokens[self.director]).status, 403)
        self.assertEqual(self.srv.get(path, token=tokens[helper]).status, 403)
        got = self.ok(self.srv.get("/api/v1/approvals?status=approved", token=tokens[self.director]),
                      200, "decided list")
        self.assertEqual([(a["id"], a["summary"]["title"]) for a in got], [(apr, None)])
        self.assertNotIn("attendees", got[0]["summary"])

    def test_open_meeting_approver_reads_it(self):
        ev = self.book(title="公开-调研", budget={"amount": 800})
        tok = self.token("leader", self.director)
        got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"], token=tok), 200, "open")
        self.assertEqual(got["title"], "公开-调研")
        # Not the approver of it: refused (nobody else gains anything).
        r = self.srv.get("/api/v1/events/%s" % ev["id"],
                         token=self.token("leader", self.person("leader")["id"]))
        self.assertEqual(r.status, 403)


class DelegatesList(ApprovalBase):
    def test_delegate_lists_what_they_may_decide(self):
        helper, later = self.person("leader")["id"], self.person("leader")["id"]
        now = time.time()
        self.ok(self.srv.post("/api/v1/blocks", {
            "resource": {"type": "person", "id": self.director}, "start": local(now - 600),
            "end": local(now + 3600), "tz": TZ, "delegate": helper}), 201, "block now")
        self.ok(self.srv.post("/api/v1/blocks", {
            "resource": {"type": "person", "id": self.principal},
            "start": local(now + 86400 * 20), "end": local(now + 86400 * 21), "tz": TZ,
            "delegate": helper}), 201, "block later")
        mine = self.book(budget={"amount": 800})["approvals"][0]["id"]  # the director's
        principal = self.book(budget={"amount": 30000})["approvals"][0]["id"]
        # The helper's own approval (the keeper of a room is the helper).
        self.rules["rooms"] = {self.room: helper}
        self.ok(self.srv.request("PUT", "/api/v1/approval-rules", self.rules), 200, "rules")
        own = self.book(room=self.room)["approvals"][0]["id"]
        tok = self.token("leader", helper)
        got = self.ok(self.srv.get("/api/v1/approvals?status=pending", token=tok), 200, "list")
        by = {a["id"]: a.get("as_delegate_of") for a in got}
        self.assertEqual(by, {own: None, mine: self.director})
        self.assertNotIn(principal, by)  # that block is not now
        # Filtered by the approver they stand in for; a stranger's approvals are still 403.
        got = self.ok(self.srv.get("/api/v1/approvals?status=pending&approver=%s" % self.director,
                                   token=tok), 200, "filtered")
        self.assertEqual([(a["id"], a["as_delegate_of"]) for a in got], [(mine, self.director)])
        r = self.srv.get("/api/v1/approvals?approver=%s" % self.principal, token=tok)
        self.assertEqual((r.status, r.field), (403, "approver"), r)
        # Decided ones are the approver's record: not in the delegate's list of approved.
        self.decide(mine, tok)
        got = self.ok(self.srv.get("/api/v1/approvals?status=approved", token=tok), 200, "list")
        self.assertEqual(got, [])
        got = self.ok(self.srv.get("/api/v1/approvals?status=pending", token=tok), 200, "list")
        self.assertEqual([a["id"] for a in got], [own])
        # The director still lists only their own (no "as_delegate_of" there).
        got = self.ok(self.srv.get("/api/v1/approvals", token=self.token("leader", self.director)),
                      200, "director")
        self.assertEqual([(a["id"], "as_delegate_of" in a) for a in got], [(mine, False)])


class PendingTrips(ApprovalBase):
    """A booking awaiting approval holds its driver's hours and rest, and the cars board (the
    office's GET /trips) shows its trips as pending; its driver hears of it once approved."""

    def test_pending_trip_counts_for_the_driver_and_shows_as_pending(self):
        wd = self.working_days(7, 1)[0]
        drv = self.person("driver")["id"]
        v1, v2 = self.vehicle()["id"], self.vehicle()["id"]
        pending = self.book(times=(at(wd, "09:00"), at(wd, "12:00")), budget={"amount": 800},
                            trips=[self.trip(v1, drv, at(wd, "08:00"), at(wd, "14:00"))])
        self.assertEqual(pending["status"], "pending")
        # 6 h pending + 5 h more is over the 10 h day: refused, naming the pending trip.
        r = self.srv.post("/api/v1/events", {
            "title": "下午的会", "start": at(wd, "15:00"), "end": at(wd, "18:00"), "tz": TZ,
            "trips": [self.trip(v2, drv, at(wd, "14:30"), at(wd, "19:30"))]}, token=self.sec)
        self.assertEqual((r.status, r.code), (409, "driver_hours"), r)
        self.assertIn(pending["id"], [c.get("event") for c in r.json["error"]["conflicts"]])
        # 4 h more fits.
        ok = self.book(times=(at(wd, "15:00"), at(wd, "17:00")),
                       trips=[self.trip(v2, drv, at(wd, "14:30"), at(wd, "18:30"))])
        self.assertEqual(ok["status"], "confirmed")
        # The rest before the next day's first trip counts the pending one too (8 h).
        nxt = next_day(wd)
        r = self.srv.post("/api/v1/events", {
            "title": "清早的会", "start": at(nxt, "03:00"), "end": at(nxt, "04:00"), "tz": TZ,
            "trips": [self.trip(v2, drv, at(nxt, "02:00"), at(nxt, "05:00"))]}, token=self.sec)
        self.assertEqual((r.status, r.code), (409, "driver_rest"), r)
        # The office's list: both, in departure order, the pending one marked.
        got = self.trips_of(wd, driver=drv)
        self.assertEqual([(t["event"], t.get("pending", False)) for t in got],
                         [(pending["id"], True), (ok["id"], False)])
        self.assertEqual(got[0]["vehicle"], v1)
        self.assertEqual([t["event"] for t in self.trips_of(wd, vehicle=v1)], [pending["id"]])
        # The driver's own list: only what they are dispatched to.
        mine = self.trips_of(wd, token=self.token("driver", drv))
        self.assertEqual([t["event"] for t in mine], [ok["id"]])
        # Approved: a trip like any other.
        self.decide(pending["approvals"][0]["id"], self.token("leader", self.director))
        got = self.trips_of(wd, driver=drv)
        self.assertEqual([(t["event"], "pending" in t) for t in got],
                         [(pending["id"], False), (ok["id"], False)])
        # Rejected, a booking holds nothing: its driver's hours are free again.
        d3, v3, v4 = self.person("driver")["id"], self.vehicle()["id"], self.vehicle()["id"]
        rej = self.book(times=(at(wd, "09:00"), at(wd, "12:00")), budget={"amount": 800},
                        trips=[self.trip(v3, d3, at(wd, "08:00"), at(wd, "14:00"))])
        late = {"title": "晚上的会", "start": at(wd, "15:00"), "end": at(wd, "18:00"), "tz": TZ,
                "trips": [self.trip(v4, d3, at(wd, "14:30"), at(wd, "19:30"))]}
        r = self.srv.post("/api/v1/events", late, token=self.sec)
        self.assertEqual((r.status, r.code), (409, "driver_hours"), r)
        self.decide(rej["approvals"][0]["id"], self.token("leader", self.director), "reject")
        self.assertEqual(self.srv.post("/api/v1/events", late, token=self.sec).status, 201)
        self.assertEqual(self.trips_of(wd, driver=d3)[0].get("pending"), None)

if __name__ == "__main__":
    unittest.main()
