#!/usr/bin/env python3
"""Vehicles and drivers (CONTRACT section 6, issue 6) against the real binary and a real
webhook receiver.

Covered: a meeting with a car and lunch through its life (create, a decline, a move to the
next working day, a new driver, cancel), checking after each step the dispatch list, the
catering count, the drivers' feeds and exactly the webhooks each endpoint gets (types, order
per trip, old/new values, the person filter reaching the old and the new driver); a
confidential meeting's title never reaching a driver (messages, list, feed); driver hours per
day, across events and per occurrence; rest between days; seats; a maintenance block; the
weekend rule with the make-up working Saturday 2026-10-10 and the holiday 2026-10-01; trips
of a recurring meeting (one occurrence moved or cancelled); a preempted car; standalone
trips; the list's filters and rights; acknowledgement (own trips only, written in the
event's audit trail) and the dispatch.unacknowledged escalation (once, to the secretaries,
not to the driver) with a short --ack-deadline; deleting people who are in trips (a
passenger leaves the trip and the driver is told; a driver or approver of a trip ahead is
not deleted).

Run: python3 tests/e2e/test_dispatch.py   (CONVENE_BIN=build/convene)
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dispatch_support import (TZ, DispatchBase, at, day, local, next_day,  # noqa: E402
                              raw_bodies)
from harness import main  # noqa: E402


class DispatchTest(DispatchBase):

    def setUp(self):
        self.d1 = self.person("driver", name="司机张")["id"]
        self.d2 = self.person("driver", name="司机李")["id"]
        self.lead = self.person("leader", name="王局长", diet="halal", rank=1)["id"]
        self.staff = self.person("staff", name="科员")["id"]
        self.car = self.vehicle()["id"]

    # ---- the whole life of a meeting with a car and lunch ----

    def test_meeting_lifecycle(self):
        d, d_next = self.working_days(30, 2)
        office, p1, p2, canteen = (self.unique_path(n) for n in ("office", "d1", "d2", "canteen"))
        self.webhook(office, ["dispatch.*"])
        self.webhook(p1, ["dispatch.*"], person=self.d1)
        self.webhook(p2, ["dispatch.*"], person=self.d2)
        self.webhook(canteen, ["catering.updated"])

        ev = self.event(at(d, "09:00"), at(d, "11:00"), [self.lead, self.staff], guests=1,
                        title="专题会", meals=[{"meal": "lunch"}],
                        trips=[self.trip(self.car, self.d1, at(d, "08:20"), at(d, "11:30"),
                                         passengers=[self.lead])])
        trip_id = ev["trips"][0]["id"]

        # Created: the driver hears of the trip, the canteen of three lunches.
        [t] = self.trips_of(d, vehicle=self.car)
        self.assertEqual((t["id"], t["event"], t["driver"], t["vehicle"]),
                         (trip_id, ev["id"], self.d1, self.car))
        self.assertEqual((t["depart"], t["return"], t["recurrence_id"]),
                         (at(d, "08:20"), at(d, "11:30"), at(d, "09:00")))
        self.assertEqual(t["depart_utc"], "%sT00:20:00Z" % d)
        self.assertEqual((t["from"], t["to"], t["passengers"], t["passenger_names"]),
                         ("机关大院", "市政府", [self.lead], ["王局长"]))
        self.assertEqual((t["title"], t["acknowledged"]), ("专题会", False))
        self.assertEqual(self.meal(d, "lunch")["total"], 3)
        [m] = self.messages(p1, 1)
        self.assertEqual(m["type"], "dispatch.assigned")
        self.assertEqual(m["data"]["trip"]["id"], trip_id)
        self.assertEqual(m["data"]["trip"]["driver"], self.d1)
        self.assertEqual(m["data"]["trip"]["depart"], at(d, "08:20"))
        self.assertEqual(m["data"]["title"], "专题会")
        self.messages(p2, 0, settle=0)
        ours = lambda m: m["data"]["date"] in (d, d_next)  # noqa: E731
        [c] = self.messages(canteen, 1, where=ours)
        self.assertEqual(c["data"]["date"], d)
        self.assertEqual(c["data"]["meals"][0]["total"], 3)
        self.assertEqual(c["data"]["changes"][0]["delta"], 3)
        self.assertIn("UID:%s@convene" % trip_id, self.feed(self.d1))

        # A decline: fewer lunches, nothing for the driver.
        r = self.srv.post("/api/v1/events/%s/rsvp" % ev["id"],
                          {"person": self.staff, "response": "declined"})
        self.ok(r, 200, "rsvp")
        self.assertEqual(self.meal(d, "lunch")["total"], 2)
        [c] = self.new_messages(canteen, 1, 1, where=ours)
        self.assertEqual((c["data"]["meals"][0]["total"], c["data"]["changes"][0]["delta"]),
                         (2, -1))
        self.messages(p1, 1, settle=0)

        # Moved to the next working day: the car moves with it.
        r = self.srv.patch("/api/v1/events/%s" % ev["id"],
                           {"start": at(d_next, "14:00"), "end": at(d_next, "16:00")})
        moved = self.ok(r, 200, "move")
        self.assertEqual(moved["trips"][0]["depart"], at(d_next, "13:20"))
        self.assertEqual(moved["trips"][0]["return"], at(d_next, "16:30"))
        self.assertEqual(self.trips_of(d, vehicle=self.car), [])
        [t] = self.trips_of(d_next, vehicle=self.car)
        self.assertEqual((t["id"], t["depart"], t["return"]),
                         (trip_id, at(d_next, "13:20"), at(d_next, "16:30")))
        [m] = self.new_messages(p1, 1, 1)
        self.assertEqual(m["type"], "dispatch.updated")
        self.assertEqual(m["data"]["changes"]["depart"],
                         {"old": at(d, "08:20"), "new": at(d_next, "13:20")})
        self.assertEqual(m["data"]["changes"]["return"],
                         {"old": at(d, "11:30"), "new": at(d_next, "16:30")})
        self.assertNotIn("driver", m["data"]["changes"])
        self.assertIsNone(self.meal(d, "lunch"))
        self.assertEqual(self.meal(d_next, "lunch")["total"], 2)
        cs = self.new_messages(canteen, 2, 2, where=ours)
        self.assertEqual(sorted((c["data"]["date"], sum(x["total"] for x in c["data"]["meals"]))
                                for c in cs), sorted([(d, 0), (d_next, 2)]))

        # Another driver: both drivers hear it; the trip leaves the first one's feed.
        trip = dict(moved["trips"][0], driver=self.d2)
        self.ok(self.srv.patch("/api/v1/events/%s" % ev["id"], {"trips": [trip]}), 200, "driver")
        [m1] = self.new_messages(p1, 2, 1)
        [m2] = self.messages(p2, 1)
        for m in (m1, m2):
            self.assertEqual(m["type"], "dispatch.updated")
            self.assertEqual(m["data"]["changes"]["driver"], {"old": self.d1, "new": self.d2})
            self.assertEqual(m["data"]["trip"]["driver"], self.d2)
            self.assertEqual(sorted(m["data"]["audience"]), sorted([self.d1, self.d2]))
        self.assertEqual(self.trips_of(d_next, driver=self.d2)[0]["id"], trip_id)
        self.assertEqual(self.trips_of(d_next, driver=self.d1), [])
        self.assertNotIn("UID:%s@convene" % trip_id, self.feed(self.d1))
        self.assertIn("UID:%s@convene" % trip_id, self.feed(self.d2))
        self.messages(canteen, 4, settle=0, where=ours)

        # Cancelled: the trip and the lunches go.
        self.assertEqual(self.srv.delete("/api/v1/events/%s" % ev["id"]).status, 204)
        [m] = self.new_messages(p2, 1, 1)
        self.assertEqual(m["type"], "dispatch.cancelled")
        self.assertEqual(m["data"]["reason"], "event_cancelled")
        self.assertEqual(m["data"]["trip"]["id"], trip_id)
        self.messages(p1, 3, settle=0)
        self.assertEqual(self.trips_of(d_next, vehicle=self.car), [])
        self.assertIsNone(self.meal(d_next, "lunch"))
        [c] = self.new_messages(canteen, 4, 1, where=ours)
        self.assertEqual((c["data"]["date"], c["data"]["meals"]), (d_next, []))
        feed = self.feed(self.d2)
        block = feed[feed.index("UID:%s@convene" % trip_id):]
        self.assertIn("STATUS:CANCELLED", block[:block.index("END:VEVENT")])

        # The dispatch office saw every step of the trip, in order.
        mine = lambda m: m["data"]["trip"]["id"] == trip_id  # noqa: E731
        types = [m["type"] for m in self.messages(office, 4, settle=0, where=mine)]
        self.assertEqual(types, ["dispatch.assigned", "dispatch.updated", "dispatch.updated",
                                 "dispatch.cancelled"])

    def test_trip_removed_and_added_by_patch(self):
        d = self.working_days(3, 1)[0]
        p1 = self.unique_path("d1")
        self.webhook(p1, ["dispatch.*"], person=self.d1)
        ev = self.event(at(d, "09:00"), at(d, "10:00"), [self.lead],
                        trips=[self.trip(self.car, self.d1, at(d, "08:30"), at(d, "10:30"))])
        self.messages(p1, 1)
        other = self.vehicle()["id"]
        new = self.trip(other, self.d1, at(d, "15:00"), at(d, "16:00"))
        r = self.srv.patch("/api/v1/events/%s" % ev["id"], {"trips": [new]})
        new_id = self.ok(r, 200, "patch")["trips"][0]["id"]
        # Two trips, two messages; deliveries run in parallel, so their order is free.
        got = {m["type"]: m["data"] for m in self.new_messages(p1, 1, 2)}
        self.assertEqual(sorted(got), ["dispatch.assigned", "dispatch.cancelled"])
        self.assertEqual(got["dispatch.cancelled"]["reason"], "trip_removed")
        self.assertEqual(got["dispatch.cancelled"]["trip"]["id"], ev["trips"][0]["id"])
        self.assertEqual(got["dispatch.assigned"]["trip"]["id"], new_id)
        # A change that is no change for the driver sends nothing.
        self.ok(self.srv.patch("/api/v1/events/%s" % ev["id"], {"description": "议程"}), 200, "")
        self.messages(p1, 3)

    def test_confidential_title_never_reaches_the_driver(self):
        d = self.working_days(3, 1)[0]
        p1, office = self.unique_path("d1"), self.unique_path("office")
        self.webhook(p1, ["*"], person=self.d1)
        self.webhook(office, ["dispatch.*"])
        title = "绝密人事会议"
        ev = self.event(at(d, "09:00"), at(d, "10:00"), [self.lead], title=title,
                        confidential=True, location="保密室", meals=[{"meal": "lunch"}],
                        trips=[self.trip(self.car, self.d1, at(d, "08:30"), at(d, "10:30"),
                                         passengers=[self.lead])])
        r = self.srv.patch("/api/v1/events/%s" % ev["id"],
                           {"start": at(d, "09:30"), "end": at(d, "10:30")})
        self.ok(r, 200, "move")
        self.srv.delete("/api/v1/events/%s" % ev["id"])
        # The driver's endpoint takes everything: the meeting's messages come redacted.
        got = [m for m in self.messages(p1, 6) if m["type"].startswith("dispatch.")]
        # The move and the cancel follow each other without waiting, and the sender
        # delivers to one endpoint in parallel: their order of arrival is not fixed.
        self.assertCountEqual([m["type"] for m in got],
                              ["dispatch.assigned", "dispatch.updated", "dispatch.cancelled"])
        for m in got:
            self.assertNotIn("title", m["data"])
            self.assertTrue(m["data"]["confidential"])
            # Nor who rides: the passengers are the meeting's attendees (CONTRACT section 15).
            self.assertNotIn("passengers", m["data"]["trip"])
            self.assertNotIn("passenger_names", m["data"]["trip"])
        for body in raw_bodies(self.rx, p1) + raw_bodies(self.rx, office):
            self.assertNotIn(title, body)
            self.assertNotIn("保密室", body)
        self.messages(office, 3, settle=0, where=lambda m: m["data"]["event"] == ev["id"])
        # The list and the driver's own view show place and time, no title.
        ev2 = self.event(at(d, "14:00"), at(d, "15:00"), [self.lead], title=title,
                         confidential=True,
                         trips=[self.trip(self.car, self.d1, at(d, "13:30"), at(d, "15:30"))])
        tok = self.token("driver", self.d1)
        [t] = [t for t in self.trips_of(d, token=tok) if t["event"] == ev2["id"]]
        self.assertEqual((t["title"], t["confidential"]), (None, True))
        self.assertNotIn(title, self.feed(self.d1))

    # ---- the driver's day ----

    def test_driver_hours_per_day_across_events(self):
        d = self.working_days(3, 1)[0]
        self.event(at(d, "08:00"), at(d, "09:00"), [self.lead],
                   trips=[self.trip(self.car, self.d1, at(d, "07:00"), at(d, "13:00"))])
        car2 = self.vehicle()["id"]
        over = self.trip(car2, self.d1, at(d, "14:00"), at(d, "19:00"))
        r = self.srv.post("/api/v1/events", {"title": "下午会", "start": at(d, "15:00"),
                                             "end": at(d, "16:00"), "trips": [over]})
        self.assertEqual((r.status, r.code, r.field), (409, "driver_hours", "trips[0].driver"), r)
        self.assertIn("11.0", r.message)
        # Exactly the limit (6 h + 4 h) is fine; stretching it by half an hour is not.
        ok = self.event(at(d, "15:00"), at(d, "16:00"),
                        trips=[self.trip(car2, self.d1, at(d, "14:00"), at(d, "18:00"))])
        longer = dict(ok["trips"][0], **{"return": at(d, "18:30")})
        r = self.srv.patch("/api/v1/events/%s" % ok["id"], {"trips": [longer]})
        self.assertEqual((r.status, r.code), (409, "driver_hours"), r)
        # Another driver is not affected; the refused request changed nothing.
        self.event(at(d, "15:00"), at(d, "16:00"),
                   trips=[self.trip(self.vehicle()["id"], self.d2, at(d, "08:00"), at(d, "17:00"))])
        self.assertEqual(len(self.trips_of(d, driver=self.d1)), 2)
        self.assertEqual(self.trips_of(d, driver=self.d1)[1]["return"], at(d, "18:00"))

    def test_driver_hours_per_occurrence(self):
        days = self.working_days(3, 3)
        # A daily meeting with a 6-hour trip; on its second day another 5-hour trip is too much.
        first = days[0]
        self.event(at(first, "09:00"), at(first, "10:00"), rrule="FREQ=DAILY;COUNT=10",
                   trips=[self.trip(self.car, self.d1, at(first, "07:00"), at(first, "13:00"),
                                    approved_by=self.lead)])
        second = next_day(first)
        r = self.srv.post("/api/v1/events", {
            "title": "加班", "start": at(second, "15:00"), "end": at(second, "16:00"),
            "trips": [self.trip(self.vehicle()["id"], self.d1, at(second, "14:00"),
                                at(second, "19:00"), approved_by=self.lead)]})
        self.assertEqual((r.status, r.code), (409, "driver_hours"), r)
        self.assertIn(second, r.message)

    def test_driver_rest_between_days(self):
        d, _ = self.working_days(3, 2)
        nd = next_day(d)
        self.event(at(d, "15:00"), at(d, "16:00"),
                   trips=[self.trip(self.car, self.d1, at(d, "14:00"), at(d, "23:00"),
                                    approved_by=self.lead)])
        car2 = self.vehicle()["id"]
        early = self.trip(car2, self.d1, at(nd, "06:00"), at(nd, "08:00"), approved_by=self.lead)
        r = self.srv.post("/api/v1/events", {"title": "早班", "start": at(nd, "06:30"),
                                             "end": at(nd, "07:30"), "trips": [early]})
        self.assertEqual((r.status, r.code, r.field), (409, "driver_rest", "trips[0].driver"), r)
        self.assertIn("7.0", r.message)
        # Eight hours after the last return is enough.
        self.event(at(nd, "07:30"), at(nd, "08:00"),
                   trips=[self.trip(car2, self.d1, at(nd, "07:00"), at(nd, "09:00"),
                                    approved_by=self.lead)])

    # ---- seats, blocks, approval ----

    def test_seats(self):
        d = self.working_days(3, 1)[0]
        small = self.vehicle(seats=2)["id"]
        riders = [self.person()["id"] for _ in range(3)]
        r = self.srv.post("/api/v1/events", {
            "title": "考察", "start": at(d, "09:00"), "end": at(d, "10:00"),
            "trips": [self.trip(small, self.d1, at(d, "08:00"), at(d, "11:00"),
                                passengers=riders)]})
        self.assertEqual((r.status, r.code), (422, "seats"), r)
        self.assertEqual(self.trips_of(d, vehicle=small), [])

    def test_maintenance_block_clashes(self):
        d = self.working_days(3, 1)[0]
        r = self.srv.post("/api/v1/blocks", {"resource": {"type": "vehicle", "id": self.car},
                                             "start": at(d, "08:00"), "end": at(d, "12:00"),
                                             "tz": TZ, "reason": "年检"})
        self.ok(r, 201, "block")
        r = self.srv.post("/api/v1/events", {
            "title": "调研", "start": at(d, "10:00"), "end": at(d, "11:00"),
            "trips": [self.trip(self.car, self.d1, at(d, "09:30"), at(d, "13:00"))]})
        self.assertEqual((r.status, r.code), (409, "conflict"), r)
        clash = r.json["error"]["conflicts"][0]
        self.assertEqual((clash["resource"], clash["role"], clash["title"]),
                         ({"type": "vehicle", "id": self.car}, "block", "年检"))
        # After the block the car is free.
        self.event(at(d, "13:00"), at(d, "14:00"),
                   trips=[self.trip(self.car, self.d1, at(d, "12:00"), at(d, "15:00"))])

    def test_weekend_and_holiday_trips_need_approval(self):
        def book(date, approved=None, driver=None):
            t = self.trip(self.vehicle()["id"], driver or self.person("driver")["id"],
                          at(date, "08:00"), at(date, "12:00"))
            if approved:
                t["approved_by"] = approved
            return self.srv.post("/api/v1/events", {"title": "出车", "start": at(date, "09:00"),
                                                    "end": at(date, "10:00"), "trips": [t]})

        # 2026-10-10 is a Saturday and an official make-up working day: no approval.
        self.ok(book("2026-10-10"), 201, "make-up Saturday")
        # 2026-10-01, National Day: a public holiday.
        r = book("2026-10-01")
        self.assertEqual((r.status, r.code, r.field),
                         (422, "approval_required", "trips[0].approved_by"), r)
        self.assertIn("2026-10-01", r.message)
        self.ok(book("2026-10-01", approved=self.lead), 201, "approved holiday")
        # An ordinary Sunday, and a weekday.
        r = book("2026-12-13")
        self.assertEqual((r.status, r.code), (422, "approval_required"), r)
        self.ok(book("2026-12-13", approved=self.lead), 201, "approved Sunday")
        self.ok(book("2026-12-14"), 201, "Monday")
        # approved_by must name a person.
        r = book("2026-12-13", approved="per_nobody")
        self.assertEqual((r.status, r.code), (422, "unknown_id"), r)
        # A Friday-night trip returning on Saturday touches the weekend.
        t = self.trip(self.vehicle()["id"], self.person("driver")["id"],
                      "2026-12-11T20:00:00", "2026-12-12T02:00:00")
        r = self.srv.post("/api/v1/events", {"title": "夜车", "start": "2026-12-11T21:00:00",
                                             "end": "2026-12-11T22:00:00", "trips": [t]})
        self.assertEqual((r.status, r.code), (422, "approval_required"), r)
        self.assertIn("2026-12-12", r.message)

    # ---- recurring meetings, preemption ----

    def test_recurring_trip_occurrences(self):
        first = self.working_days(7, 1)[0]
        p1 = self.unique_path("d1")
        self.webhook(p1, ["dispatch.*"], person=self.d1)
        ev = self.event(at(first, "09:00"), at(first, "10:00"), [self.lead],
                        rrule="FREQ=WEEKLY;COUNT=3",
                        trips=[self.trip(self.car, self.d1, at(first, "08:30"),
                                         at(first, "10:30"), approved_by=self.lead)])
        trip_id = ev["trips"][0]["id"]
        dates = [next_day(first, 7 * k) for k in range(3)]
        for date in dates:
            [t] = self.trips_of(date, driver=self.d1)
            self.assertEqual((t["id"], t["recurrence_id"]), (trip_id, at(date, "09:00")))
        [m] = self.messages(p1, 1)
        self.assertEqual(m["type"], "dispatch.assigned")
        self.assertEqual(m["data"]["occurrences"], [at(x, "09:00") for x in dates])
        self.assertEqual(m["data"]["trip"]["recurrence_id"], at(first, "09:00"))

        # One occurrence moved: one trip occurrence moves, at the same offset.
        rid = at(dates[1], "09:00")
        r = self.srv.patch("/api/v1/events/%s/occurrences/%s" % (ev["id"], rid),
                           {"start": at(dates[1], "14:00"), "end": at(dates[1], "15:00")})
        self.ok(r, 200, "move one")
        [t] = self.trips_of(dates[1], driver=self.d1)
        self.assertEqual((t["depart"], t["recurrence_id"]), (at(dates[1], "13:30"), rid))
        [m] = self.new_messages(p1, 1, 1)
        self.assertEqual(m["type"], "dispatch.updated")
        self.assertEqual(m["data"]["occurrences"], [rid])
        self.assertEqual(m["data"]["changes"]["depart"],
                         {"old": at(dates[1], "08:30"), "new": at(dates[1], "13:30")})

        # One occurrence cancelled.
        rid3 = at(dates[2], "09:00")
        r = self.srv.delete("/api/v1/events/%s/occurrences/%s" % (ev["id"], rid3))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.trips_of(dates[2], driver=self.d1), [])
        [m] = self.new_messages(p1, 2, 1)
        self.assertEqual((m["type"], m["data"]["reason"], m["data"]["occurrences"]),
                         ("dispatch.cancelled", "occurrence_cancelled", [rid3]))

    def test_preempted_car_tells_the_driver(self):
        d = self.working_days(3, 1)[0]
        p1 = self.unique_path("d1")
        self.webhook(p1, ["dispatch.*"], person=self.d1)
        staff_ev = self.event(at(d, "09:00"), at(d, "10:00"), [self.staff],
                              trips=[self.trip(self.car, self.d1, at(d, "08:30"),
                                               at(d, "10:30"))])
        self.messages(p1, 1)
        r = self.srv.post("/api/v1/events", {
            "title": "省长来访", "start": at(d, "09:00"), "end": at(d, "10:00"), "tz": TZ,
            "attendees": [{"person": self.lead}], "preempt": True,
            "trips": [self.trip(self.car, self.d2, at(d, "08:30"), at(d, "10:30"))]})
        self.ok(r, 201, "preempt")
        [m] = self.new_messages(p1, 1, 1)
        self.assertEqual(m["type"], "dispatch.updated")
        self.assertEqual(m["data"]["changes"]["vehicle"], {"old": self.car, "new": None})
        self.assertEqual(m["data"]["event"], staff_ev["id"])
        [t] = self.trips_of(d, driver=self.d1)
        self.assertIsNone(t["vehicle"])

    # ---- standalone trips ----

    def test_standalone_trip(self):
        d = self.working_days(3, 1)[0]
        p1 = self.unique_path("d1")
        self.webhook(p1, ["dispatch.*"], person=self.d1)
        body = {"vehicle": self.car, "driver": self.d1, "depart": at(d, "06:00"),
                "return": at(d, "08:30"), "from": "机关大院", "to": "首都机场T3",
                "passengers": [self.lead]}
        t = self.ok(self.srv.post("/api/v1/trips", body), 201, "standalone")
        self.assertEqual((t["depart"], t["return"], t["to"], t["driver"]),
                         (at(d, "06:00"), at(d, "08:30"), "首都机场T3", self.d1))
        self.assertEqual(t["title"], "用车：机关大院 → 首都机场T3")
        self.assertEqual(self.trips_of(d, driver=self.d1)[0]["id"], t["id"])
        ev = self.ok(self.srv.get("/api/v1/events/%s" % t["event"]), 200, "event")
        self.assertEqual(ev["attendees"][0]["person"], self.lead, "passengers attend")
        self.assertEqual((ev["start"], ev["end"]), (at(d, "06:00"), at(d, "08:30")))
        [m] = self.messages(p1, 1)
        self.assertEqual((m["type"], m["data"]["trip"]["id"]), ("dispatch.assigned", t["id"]))
        # It blocks the car like any trip, and is cancelled through its event.
        r = self.srv.post("/api/v1/trips", dict(body, driver=self.d2))
        self.assertEqual((r.status, r.code), (409, "conflict"), r)
        r = self.srv.post("/api/v1/trips", dict(body, passengers="x"))
        self.assertEqual(r.status, 400, r)
        r = self.srv.post("/api/v1/trips", dict(body, colour="red"))
        self.assertEqual((r.status, r.code), (400, "unknown_field"), r)
        self.assertEqual(self.srv.delete("/api/v1/events/%s" % t["event"]).status, 204)
        [m] = self.new_messages(p1, 1, 1)
        self.assertEqual(m["type"], "dispatch.cancelled")

    # ---- the list ----

    def test_deleting_people_who_are_in_trips(self):
        d = self.working_days(34, 1)[0]
        p1 = self.unique_path("d1")
        self.webhook(p1, ["dispatch.*"], person=self.d1)
        ev = self.event(at(d, "09:00"), at(d, "11:00"), [self.lead, self.staff],
                        trips=[self.trip(self.car, self.d1, at(d, "08:20"), at(d, "11:30"),
                                         passengers=[self.lead, self.staff])])
        trip_id = ev["trips"][0]["id"]
        self.messages(p1, 1)
        self.ok(self.srv.post("/api/v1/trips/%s/ack" % trip_id,
                              token=self.token("driver", self.d1)), 200, "ack")

        # The driver of a trip ahead stays until the trip has another driver.
        r = self.srv.delete("/api/v1/people/%s" % self.d1)
        self.assertEqual((r.status, r.code), (409, "in_use"), r)
        self.assertIn(trip_id, r.json["error"]["message"])
        self.ok(self.srv.get("/api/v1/people/%s" % self.d1), 200, "driver kept")
        self.assertEqual(self.trips_of(d, driver=self.d1)[0]["passengers"],
                         [self.lead, self.staff])

        # A passenger leaves the meeting and the car: the driver hears it and acknowledges anew.
        self.assertEqual(self.srv.delete("/api/v1/people/%s" % self.staff).status, 204)
        [t] = self.trips_of(d, driver=self.d1)
        self.assertEqual((t["passengers"], t["acknowledged"]), ([self.lead], False))
        [m] = self.new_messages(p1, 1, 1)
        self.assertEqual(m["type"], "dispatch.updated")
        self.assertEqual(m["data"]["changes"]["passengers"],
                         {"old": [self.lead, self.staff], "new": [self.lead]})
        got = self.ok(self.srv.get("/api/v1/events/%s" % ev["id"]), 200, "event")
        self.assertEqual([a["person"] for a in got["attendees"]], [self.lead])

        # With the trip given to another driver, the first one can go.
        trip = dict(got["trips"][0], driver=self.d2)
        self.ok(self.srv.patch("/api/v1/events/%s" % ev["id"], {"trips": [trip]}), 200, "driver")
        self.assertEqual(self.srv.delete("/api/v1/people/%s" % self.d1).status, 204)

    def test_the_approver_of_a_trip_ahead_is_not_deleted(self):
        r = self.ok(self.srv.get("/api/v1/workdays?from=%s&to=%s" % (day(30), day(45))), 200,
                    "workdays")
        off = [x["date"] for x in r if not x["working"]][0]
        boss = self.person("leader", rank=1)["id"]
        ev = self.event(at(off, "09:00"), at(off, "11:00"), [self.lead],
                        trips=[self.trip(self.car, self.d1, at(off, "08:20"), at(off, "11:30"),
                                         approved_by=boss)])
        r = self.srv.delete("/api/v1/people/%s" % boss)
        self.assertEqual((r.status, r.code), (409, "in_use"), r)
        self.assertIn("approver", r.json["error"]["message"])
        # Once the meeting is cancelled, nothing holds the approver any more.
        self.assertEqual(self.srv.delete("/api/v1/events/%s" % ev["id"]).status, 204)
        self.assertEqual(self.srv.delete("/api/v1/people/%s" % boss).status, 204)

    def test_trip_list_filters_and_rights(self):
        d = self.working_days(3, 1)[0]
        car2 = self.vehicle()["id"]
        self.event(at(d, "09:00"), at(d, "10:00"),
                   trips=[self.trip(self.car, self.d1, at(d, "08:00"), at(d, "11:00")),
                          self.trip(car2, self.d2, at(d, "07:00"), at(d, "11:00"))])
        both = [t for t in self.trips_of(d) if t["driver"] in (self.d1, self.d2)]
        self.assertEqual([t["driver"] for t in both], [self.d2, self.d1], "by departure")
        self.assertEqual([t["driver"] for t in self.trips_of(d, vehicle=self.car)], [self.d1])
        self.assertEqual([t["driver"] for t in self.trips_of(d, driver=self.d2)], [self.d2])
        self.assertEqual(self.trips_of(next_day(d), driver=self.d1), [])
        tok = self.token("driver", self.d1)
        self.assertEqual([t["driver"] for t in self.trips_of(d, token=tok)], [self.d1])
        r = self.srv.get("/api/v1/trips?date=%s&driver=%s" % (d, self.d2), token=tok)
        self.assertEqual(r.status, 403, r)
        r = self.srv.get("/api/v1/trips?date=%s" % d, token=self.token("leader", self.lead))
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.srv.get("/api/v1/trips").status, 422)
        self.assertEqual(self.srv.get("/api/v1/trips?date=2026-13-01").status, 422)
        self.assertEqual(self.srv.get("/api/v1/trips?date=%s" % d, token=None).status, 401)


class RuleOptionsTest(DispatchBase):
    """--driver-max-hours and --driver-min-rest are what the rules use."""

    SERVER_ARGS = ["--driver-max-hours", "3", "--driver-min-rest", "0"]

    def test_options(self):
        d = self.working_days(3, 1)[0]
        nd = next_day(d)
        boss = self.person("leader")["id"]
        driver = self.person("driver")["id"]
        car = self.vehicle()["id"]
        r = self.srv.post("/api/v1/events", {
            "title": "远途", "start": at(d, "09:00"), "end": at(d, "10:00"),
            "trips": [self.trip(car, driver, at(d, "08:00"), at(d, "11:30"))]})
        self.assertEqual((r.status, r.code), (409, "driver_hours"), r)
        self.assertIn("at most 3", r.message)
        self.event(at(d, "09:00"), at(d, "10:00"),
                   trips=[self.trip(car, driver, at(d, "08:00"), at(d, "11:00"))])
        # No rest rule: a late return and an early start the next day are accepted.
        night = self.person("driver")["id"]
        self.event(at(d, "21:00"), at(d, "22:00"),
                   trips=[self.trip(car, night, at(d, "21:00"), at(d, "23:59"),
                                    approved_by=boss)])
        self.event(at(nd, "05:00"), at(nd, "06:00"),
                   trips=[self.trip(self.vehicle()["id"], night, at(nd, "00:30"),
                                    at(nd, "02:00"), approved_by=boss)])


class AckTest(DispatchBase):
    """A server whose trips must be acknowledged a minute before departure."""

    SERVER_ARGS = ["--retry-schedule", "1,1", "--ack-deadline", "1"]

    def setUp(self):
        self.d1 = self.person("driver")["id"]
        self.d2 = self.person("driver")["id"]
        self.boss = self.person("leader", rank=1)["id"]
        self.sec = self.person("secretary")["id"]

    def soon(self, seconds, driver=None):
        """A trip departing `seconds` from now (approved, in case today is a holiday)."""
        dep = int(time.time()) + seconds
        car = self.vehicle()["id"]
        return self.event(local(dep + 600), local(dep + 1200),
                          trips=[self.trip(car, driver or self.d1, local(dep),
                                           local(dep + 3600), approved_by=self.boss)])

    def test_ack_rights_and_state(self):
        ev = self.soon(3 * 3600)
        trip_id = ev["trips"][0]["id"]
        date = ev["trips"][0]["depart"][:10]
        path = "/api/v1/trips/%s/ack" % trip_id
        self.assertEqual(self.srv.post(path, token=self.token("driver", self.d2)).status, 403)
        self.assertEqual(self.srv.post(path, token=self.token("secretary", self.sec)).status, 403)
        self.assertEqual(self.srv.post("/api/v1/trips/trip_nope/ack",
                                       token=self.token("driver", self.d1)).status, 404)
        r = self.srv.post(path, {"recurrence_id": "2020-01-01T00:00:00"},
                          token=self.token("driver", self.d1))
        self.assertEqual(r.status, 404, r)
        self.assertFalse([t for t in self.trips_of(date) if t["id"] == trip_id][0]["acknowledged"])
        r = self.srv.post(path, token=self.token("driver", self.d1))
        body = self.ok(r, 200, "ack")
        self.assertEqual(body["trip"], trip_id)
        self.assertTrue(body["acknowledged"][0]["acknowledged"])
        [t] = [t for t in self.trips_of(date) if t["id"] == trip_id]
        self.assertTrue(t["acknowledged"])
        self.assertRegex(t["acknowledged_at"], r"Z$")
        # The event's audit trail records who acknowledged which trip occurrence, and when.
        h = self.ok(self.srv.get("/api/v1/events/%s/history" % ev["id"]), 200, "history")[-1]
        self.assertEqual((h["action"], h["actor"]["person"], h["before"]),
                         ("trip_acknowledged", self.d1, None))
        self.assertEqual(h["after"], {"trip": trip_id, "acknowledged_by": self.d1,
                                      "recurrence_ids": [t["recurrence_id"]]})
        self.assertRegex(h["at"], r"Z$")
        # An admin may acknowledge for the driver (a phone call); it stays acknowledged.
        self.ok(self.srv.post(path, {"recurrence_id": t["recurrence_id"]}), 200, "admin ack")
        # A new time is a new assignment: it must be acknowledged again.
        moved = dict(ev["trips"][0])
        moved["return"] = local(int(time.time()) + 5 * 3600)
        self.ok(self.srv.patch("/api/v1/events/%s" % ev["id"], {"trips": [moved]}), 200, "move")
        [t] = [t for t in self.trips_of(date) if t["id"] == trip_id]
        self.assertFalse(t["acknowledged"])
        # A change that does not concern the driver keeps the acknowledgement.
        self.ok(self.srv.post(path, token=self.token("driver", self.d1)), 200, "ack again")
        self.ok(self.srv.patch("/api/v1/events/%s" % ev["id"], {"title": "改名"}), 200, "title")
        [t] = [t for t in self.trips_of(date) if t["id"] == trip_id]
        self.assertTrue(t["acknowledged"])

    def test_unacknowledged_trip_escalates_once_to_secretaries(self):
        sec, drv, office = (self.unique_path(n) for n in ("sec", "drv", "office"))
        self.webhook(sec, ["dispatch.unacknowledged"], person=self.sec)
        self.webhook(drv, ["dispatch.*"], person=self.d1)
        self.webhook(office, ["dispatch.unacknowledged"])
        # Departing in 64 s with a 1-minute deadline: due in about 4 s.
        lazy = self.soon(64)
        acked = self.soon(66, self.d2)
        r = self.srv.post("/api/v1/trips/%s/ack" % acked["trips"][0]["id"],
                          token=self.token("driver", self.d2))
        self.ok(r, 200, "ack")
        started = time.time()
        [m] = self.messages(sec, 1, timeout=15, settle=3)
        self.assertLess(time.time() - started, 15)
        self.assertEqual(m["type"], "dispatch.unacknowledged")
        self.assertEqual(m["data"]["trip"]["id"], lazy["trips"][0]["id"])
        self.assertEqual(m["data"]["trip"]["driver"], self.d1)
        self.assertFalse(m["data"]["trip"]["acknowledged"])
        self.assertEqual(m["data"]["deadline_minutes"], 1)
        self.assertIn(self.sec, m["data"]["audience"])
        self.messages(office, 1, settle=0,
                      where=lambda m: m["data"]["trip"]["id"] == lazy["trips"][0]["id"])
        # The meeting's audit trail records the alert, by convene itself.
        h = self.ok(self.srv.get("/api/v1/events/%s/history" % lazy["id"]), 200, "history")
        alerts = [e for e in h if e["action"] == "trip_unacknowledged"]
        self.assertEqual(len(alerts), 1, h)
        self.assertEqual(alerts[0]["actor"]["name"], "convene")
        self.assertEqual(alerts[0]["after"]["trip"]["id"], lazy["trips"][0]["id"])
        # The driver's own endpoint hears of assignments, not of the escalation.
        self.assertEqual([x["type"] for x in self.messages(drv, 1, settle=0)],
                         ["dispatch.assigned"])
        # Once per trip occurrence, also across a restart.
        self.srv.restart()
        time.sleep(2)
        self.messages(sec, 1, settle=0)


if __name__ == "__main__":
    main()
