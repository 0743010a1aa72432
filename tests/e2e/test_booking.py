#!/usr/bin/env python3
"""Booking rules of CONTRACT section 4 against the real binary.

Conflicts (attendees, rooms with setup/teardown buffers, vehicles and drivers
through trips, blocks) and the fields of each conflict entry; half-open
intervals; capacity; preemption (allowed and refused); PATCH moves with
ETag/If-Match; cancelling a meeting and a single occurrence; RSVP; the audit
trail; bad input that must change nothing; what a leader's token may do.
The outbox is read straight from the SQLite file while the server runs (WAL).

Every test makes its own people/rooms/vehicles, so tests never share a clash.
Run: python3 tests/e2e/test_booking.py   (CONVENE_BIN=build/convene)
"""

import itertools
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from booking_support import Server  # noqa: E402  (harness.py underneath)

TZ = "Asia/Shanghai"
DAY = "2026-12-08"  # a Tuesday, an ordinary working day
_seq = itertools.count(1)


def at(hhmm, day=DAY):
    return "%sT%s:00" % (day, hhmm)


class BookingTest(unittest.TestCase):
    srv = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        cls.api = cls.srv.client()

    @classmethod
    def tearDownClass(cls):
        cls.api.close()
        cls.srv.cleanup()

    # ---- helpers ----

    def ok(self, res, status, what=""):
        self.assertEqual(res.status, status, "%s: %r" % (what, res))
        return res.json

    def person(self, rank=100, role="staff", name=None):
        body = {"name": name or "person %d" % next(_seq), "role": role, "rank": rank}
        return self.ok(self.api.post("/api/v1/people", body), 201, "person")["id"]

    def room(self, capacity=20, setup=0, teardown=0):
        body = {"name": "room %d" % next(_seq), "capacity": capacity, "setup_minutes": setup,
                "teardown_minutes": teardown}
        return self.ok(self.api.post("/api/v1/rooms", body), 201, "room")["id"]

    def vehicle(self, seats=4):
        body = {"name": "car %d" % next(_seq), "seats": seats}
        return self.ok(self.api.post("/api/v1/vehicles", body), 201, "vehicle")["id"]

    def event_body(self, start, end, people=(), room=None, **extra):
        body = {"title": extra.pop("title", "meeting %d" % next(_seq)), "start": start,
                "end": end, "tz": TZ,
                "attendees": [{"person": p} for p in people]}
        if room is not None:
            body["room"] = room
        body.update(extra)
        return body

    def create(self, *args, **kw):
        return self.api.post("/api/v1/events", self.event_body(*args, **kw))

    def booked(self, *args, **kw):
        return self.ok(self.create(*args, **kw), 201, "create")

    def clash(self, res):
        self.assertEqual(res.status, 409, repr(res))
        self.assertEqual(res.code, "conflict", repr(res))
        return res.json["error"]["conflicts"]

    def occurrences(self, what, rid, frm=DAY, to=DAY, token=None):
        client = self.api if token is None else self.srv.client(token)
        res = client.get("/api/v1/occurrences?from=%s&to=%s&tz=%s&%s=%s"
                         % (frm, to, TZ, what, rid))
        self.assertEqual(res.status, 200, repr(res))
        return res.json

    def outbox(self, type_, event_id):
        rows = self.srv.sql("SELECT payload FROM outbox WHERE type = ?", (type_,))
        return [json.loads(p) for (p,) in rows if json.loads(p)["event"]["id"] == event_id]

    # ---- conflicts ----

    def test_attendee_conflict_and_entry_fields(self):
        p, q = self.person(), self.person()
        a = self.booked(at("09:00"), at("10:00"), [p], title="党组会")
        conflicts = self.clash(self.create(at("09:30"), at("10:30"), [q, p]))
        self.assertEqual(len(conflicts), 1, conflicts)
        c = conflicts[0]
        self.assertEqual(c["resource"], {"type": "person", "id": p})
        self.assertEqual(c["start"], at("09:30"))
        self.assertEqual(c["other_start"], at("09:00"))
        self.assertEqual(c["event"], a["id"])
        self.assertEqual(c["title"], "党组会")
        # Optional attendees are checked too.
        r = self.api.post("/api/v1/events", {
            "title": "optional", "start": at("09:45"), "end": at("11:00"), "tz": TZ,
            "attendees": [{"person": p, "optional": True}]})
        self.assertEqual(self.clash(r)[0]["resource"]["id"], p)
        # The clashing occurrence of a series is named by its own start.
        r = self.create(at("09:30", "2026-12-01"), at("10:30", "2026-12-01"), [p],
                        rrule="FREQ=WEEKLY;COUNT=3")
        c = self.clash(r)
        self.assertEqual([x["start"] for x in c], [at("09:30")], c)

    def test_half_open_intervals_without_buffers(self):
        p, r = self.person(), self.room()
        self.booked(at("09:00"), at("10:00"), [p], r)
        self.booked(at("10:00"), at("11:00"), [p], r)     # starts when the other ends
        self.booked(at("08:00"), at("09:00"), [p], r)     # ends when the other starts
        self.clash(self.create(at("09:59"), at("10:01"), [], r))

    def test_room_buffers(self):
        r = self.room(setup=15, teardown=10)
        a = self.booked(at("09:00"), at("10:00"), [], r)
        # After: 10 min teardown + 15 min setup are needed between meetings.
        c = self.clash(self.create(at("10:20"), at("11:00"), [], r))
        self.assertEqual(c[0]["resource"], {"type": "room", "id": r})
        self.assertEqual(c[0]["start"], at("10:20"))
        self.assertEqual(c[0]["other_start"], at("09:00"))
        self.assertEqual(c[0]["event"], a["id"])
        self.clash(self.create(at("10:00"), at("10:30"), [], r))
        self.booked(at("10:25"), at("11:00"), [], r)
        # Before: a meeting ending 08:40 + 10 teardown runs into 08:45's setup.
        self.clash(self.create(at("08:00"), at("08:40"), [], r))
        self.booked(at("08:00"), at("08:35"), [], r)
        # The buffers are the room's: people are free back to back.
        p = self.person()
        self.booked(at("11:00"), at("12:00"), [p])
        self.booked(at("12:00"), at("13:00"), [p])

    def test_vehicle_and_driver_via_trips(self):
        v, v2 = self.vehicle(), self.vehicle()
        d, d2 = self.person(role="driver"), self.person(role="driver")
        p = self.person()

        def trip(vehicle, driver, depart, ret, passengers=()):
            return {"vehicle": vehicle, "driver": driver, "depart": at(depart),
                    "return": at(ret), "passengers": list(passengers)}

        a = self.booked(at("09:00"), at("11:00"), [p], trips=[trip(v, d, "08:00", "12:00", [p])])
        # The same vehicle, another driver.
        c = self.clash(self.create(at("13:00"), at("14:00"),
                                   trips=[trip(v, d2, "11:00", "13:00")]))
        self.assertEqual([(x["resource"]["type"], x["resource"]["id"]) for x in c],
                         [("vehicle", v)], c)
        self.assertEqual(c[0]["event"], a["id"])
        self.assertEqual(c[0]["other_start"], at("09:00"))
        # The same driver, another vehicle.
        c = self.clash(self.create(at("13:00"), at("14:00"),
                                   trips=[trip(v2, d, "11:30", "13:00")]))
        self.assertEqual([(x["resource"]["type"], x["resource"]["id"]) for x in c],
                         [("person", d)], c)
        # A driver on a trip is not free to attend a meeting either.
        c = self.clash(self.create(at("10:00"), at("10:30"), [d]))
        self.assertEqual(c[0]["resource"], {"type": "person", "id": d})
        # Back to back at the return time is fine.
        self.booked(at("13:00"), at("14:00"), trips=[trip(v, d, "12:00", "14:00")])

    def test_block_clash(self):
        r, p = self.room(), self.person()
        b = self.api.post("/api/v1/blocks", {"resource": {"type": "room", "id": r},
                                             "start": at("14:00"), "end": at("16:00"),
                                             "tz": TZ, "reason": "装修"})
        self.assertEqual(b.status, 201, repr(b))
        c = self.clash(self.create(at("15:00"), at("15:30"), [], r))
        self.assertEqual(c[0]["resource"], {"type": "room", "id": r})
        self.assertEqual(c[0]["start"], at("15:00"))
        self.assertEqual(c[0]["other_start"], at("14:00"))
        self.assertIsNone(c[0].get("event"))
        self.assertEqual(c[0].get("block"), b.json["id"])
        self.booked(at("16:00"), at("17:00"), [], r)
        b = self.api.post("/api/v1/blocks", {"resource": {"type": "person", "id": p},
                                             "start": at("08:00"), "end": at("18:00"),
                                             "tz": TZ, "reason": "请假"})
        self.assertEqual(b.status, 201, repr(b))
        c = self.clash(self.create(at("09:00"), at("10:00"), [p]))
        self.assertEqual(c[0]["resource"], {"type": "person", "id": p})

    def test_confidential_other_event_has_null_title(self):
        p = self.person()
        a = self.booked(at("09:00"), at("10:00"), [p], title="人事调整", confidential=True)
        c = self.clash(self.create(at("09:00"), at("09:30"), [p]))
        self.assertEqual(c[0]["event"], a["id"])
        self.assertIn("title", c[0])
        self.assertIsNone(c[0]["title"])
        self.assertNotIn("人事调整", json.dumps(c, ensure_ascii=False))

    def test_capacity(self):
        r = self.room(capacity=3)
        p, q = self.person(), self.person()
        res = self.create(at("09:00"), at("10:00"), [p, q], r, guests=2)
        self.assertEqual(res.status, 422, repr(res))
        self.assertEqual(res.code, "capacity")
        self.booked(at("09:00"), at("10:00"), [p, q], r, guests=1)

    def test_all_day_events_hold_the_day(self):
        r = self.room()
        scl = "America/Santiago"  # springs forward at 24:00: 2027-09-05 has no midnight
        for date in ("2026-12-10", "2027-09-05"):
            tz = scl if date.startswith("2027") else TZ
            self.ok(self.api.post("/api/v1/events", {"title": "all day", "date": date, "tz": tz,
                                                     "room": r}), 201, "all-day " + date)
            res = self.api.post("/api/v1/events", {"title": "same day", "date": date, "tz": tz,
                                                   "room": r})
            self.assertEqual(res.status, 409, "%s: %r" % (date, res))
            res = self.api.post("/api/v1/events", {"title": "noon", "tz": tz, "room": r,
                                                   "start": date + "T12:00:00",
                                                   "end": date + "T13:00:00"})
            self.assertEqual(res.status, 409, "%s: %r" % (date, res))

    # ---- preemption ----

    def test_preempt_takes_the_room(self):
        boss, staff = self.person(rank=1, role="leader"), self.person(rank=50)
        r = self.room()
        low = self.booked(at("09:00"), at("10:00"), [staff], r, title="科室例会")
        outbox_before = len(self.outbox("event.preempted", low["id"]))
        high = self.booked(at("09:30"), at("11:00"), [boss], r, preempt=True)
        self.assertNotIn("preempt", high)
        after = self.ok(self.api.get("/api/v1/events/" + low["id"]), 200, "get loser")
        self.assertIsNone(after.get("room"), after)
        self.assertEqual(after["needs"], ["room"])
        self.assertEqual(after["sequence"], low["sequence"] + 1)
        self.assertEqual(after["status"], "confirmed")
        msgs = self.outbox("event.preempted", low["id"])
        self.assertEqual(len(msgs), outbox_before + 1, msgs)
        self.assertEqual(msgs[-1]["event"]["room"], None)
        # The room is the winner's; the loser keeps its people and slot.
        self.assertEqual([o["event"] for o in self.occurrences("room", r)], [high["id"]])
        self.assertEqual([o["event"] for o in self.occurrences("person", staff)], [low["id"]])
        # Its old room slot is free for the winner only: a third meeting still clashes.
        self.clash(self.create(at("10:00"), at("10:30"), [], r))

    def test_preempt_takes_a_vehicle_then_needs_clear(self):
        boss, staff = self.person(rank=1, role="leader"), self.person(rank=50)
        v, d1, d2 = self.vehicle(), self.person(role="driver"), self.person(role="driver")
        r, r2 = self.room(), self.room()

        def trip(driver, depart, ret):
            return [{"vehicle": v, "driver": driver, "depart": at(depart), "return": at(ret)}]

        low = self.booked(at("09:00"), at("10:00"), [staff], r, trips=trip(d1, "08:00", "11:00"))
        # Another driver, the same car: only the vehicle clashes, so it can be taken.
        high = self.booked(at("14:00"), at("15:00"), [boss], trips=trip(d2, "10:00", "16:00"),
                           preempt=True)
        after = self.ok(self.api.get("/api/v1/events/" + low["id"]), 200, "get")
        self.assertIsNone(after["trips"][0].get("vehicle"), after)
        self.assertEqual(after["trips"][0]["driver"], d1)
        self.assertEqual(after["needs"], ["vehicle"])
        self.assertEqual(after["room"], r)
        self.assertEqual([o["event"] for o in self.occurrences("vehicle", v)], [high["id"]])
        self.assertEqual(len(self.outbox("event.preempted", low["id"])), 1)
        # Given a room / vehicle again, the meeting no longer needs it.
        boss2 = self.person(rank=1, role="leader")
        self.booked(at("09:00"), at("10:00"), [boss2], r, preempt=True)
        lost = self.ok(self.api.get("/api/v1/events/" + low["id"]), 200, "get")
        self.assertEqual(sorted(lost["needs"]), ["room", "vehicle"])
        fixed = self.ok(self.api.patch("/api/v1/events/" + low["id"], {"room": r2}), 200, "patch")
        self.assertEqual(fixed["needs"], ["vehicle"], "a PATCH giving a room settles 'room'")
        fixed = self.ok(self.api.patch("/api/v1/events/" + low["id"], {"trips": []}), 200, "patch")
        self.assertEqual(fixed["needs"], [])

    def test_preempt_refused(self):
        boss, mid, staff = (self.person(rank=1, role="leader"), self.person(rank=10),
                            self.person(rank=50))
        r = self.room()
        low = self.booked(at("09:00"), at("10:00"), [staff], r)
        # A person clash is never preempted, even by a higher rank.
        c = self.clash(self.create(at("09:00"), at("10:00"), [boss, staff], r, preempt=True))
        self.assertIn(("person", staff), [(x["resource"]["type"], x["resource"]["id"]) for x in c])
        # Same rank does not outrank.
        peer = self.person(rank=50)
        self.clash(self.create(at("09:00"), at("10:00"), [peer], r, preempt=True))
        # Lower rank (a larger number) does not either; nor does a meeting without people.
        junior = self.person(rank=90)
        self.clash(self.create(at("09:00"), at("10:00"), [junior], r, preempt=True))
        self.clash(self.create(at("09:00"), at("10:00"), [], r, preempt=True))
        # preempt is an instruction, not a flag to store or a boolean-ish string.
        res = self.create(at("09:00"), at("10:00"), [mid], r, preempt="yes")
        self.assertEqual(res.status, 400, repr(res))
        # Nothing happened to the lower-ranked meeting.
        after = self.ok(self.api.get("/api/v1/events/" + low["id"]), 200, "get")
        self.assertEqual(after["room"], r)
        self.assertEqual(after["sequence"], low["sequence"])
        self.assertEqual(self.outbox("event.preempted", low["id"]), [])

    # ---- changes ----

    def test_patch_moves_with_etag(self):
        p, r = self.person(), self.room()
        a = self.booked(at("09:00"), at("10:00"), [p], r)
        etag = a["etag"]
        got = self.api.get("/api/v1/events/" + a["id"])
        self.assertEqual(got.header("ETag"), etag)
        moved = self.api.patch("/api/v1/events/" + a["id"],
                               {"start": at("11:00"), "end": at("12:00")},
                               headers={"If-Match": etag})
        m = self.ok(moved, 200, "move")
        self.assertGreater(m["sequence"], a["sequence"])
        self.assertNotEqual(m["etag"], etag)
        self.assertEqual(moved.header("ETag"), m["etag"])
        # The old slot is free, the new one taken.
        self.booked(at("09:00"), at("10:00"), [p], r)
        self.clash(self.create(at("11:30"), at("12:30"), [], r))
        # A stale ETag is refused and changes nothing.
        stale = self.api.patch("/api/v1/events/" + a["id"], {"title": "stale"},
                               headers={"If-Match": etag})
        self.assertEqual(stale.status, 412, repr(stale))
        self.assertEqual(self.api.get("/api/v1/events/" + a["id"]).json["version"], m["version"])
        # Moving onto a taken slot is a conflict and changes nothing.
        c = self.clash(self.api.patch("/api/v1/events/" + a["id"],
                                      {"start": at("09:30"), "end": at("10:30")},
                                      headers={"If-Match": m["etag"]}))
        self.assertTrue(c)
        now = self.api.get("/api/v1/events/" + a["id"]).json
        self.assertEqual((now["start"], now["version"]), (at("11:00"), m["version"]))

    def test_delete_cancels_and_frees(self):
        p, r = self.person(), self.room()
        a = self.booked(at("14:00"), at("15:00"), [p], r)
        stale = self.api.delete("/api/v1/events/" + a["id"], headers={"If-Match": '"999"'})
        self.assertEqual(stale.status, 412, repr(stale))
        res = self.api.delete("/api/v1/events/" + a["id"], headers={"If-Match": a["etag"]})
        self.assertEqual(res.status, 204, repr(res))
        got = self.ok(self.api.get("/api/v1/events/" + a["id"]), 200, "get")
        self.assertEqual(got["status"], "cancelled")
        self.assertEqual(self.occurrences("room", r), [])
        self.assertEqual(len(self.outbox("event.cancelled", a["id"])), 1)
        self.booked(at("14:00"), at("15:00"), [p], r)
        # Cancelling again is a no-op: no second webhook, audit record or new sequence.
        res = self.api.delete("/api/v1/events/" + a["id"])
        self.assertEqual(res.status, 204, repr(res))
        self.assertEqual(len(self.outbox("event.cancelled", a["id"])), 1)
        again = self.ok(self.api.get("/api/v1/events/" + a["id"]), 200, "get")
        self.assertEqual(again["sequence"], got["sequence"])
        history = self.ok(self.api.get("/api/v1/events/%s/history" % a["id"]), 200, "history")
        self.assertEqual([e["action"] for e in history], ["created", "cancelled"])

    def test_occurrence_query_edges(self):
        # A room's setup buffer reaches into the previous day; the meeting does not.
        r = self.room(setup=30)
        a = self.booked(at("00:15", "2026-12-09"), at("01:00", "2026-12-09"), [], r)
        self.assertEqual(self.occurrences("room", r, "2026-12-08", "2026-12-08"), [])
        self.assertEqual([o["event"] for o in
                          self.occurrences("room", r, "2026-12-09", "2026-12-09")], [a["id"]])
        # `to` is inclusive up to the next local midnight, also on DST days (25 and 23 hours).
        r2 = self.room()
        ny = "America/New_York"
        late = self.ok(self.api.post("/api/v1/events", {
            "title": "late", "start": "2027-11-07T23:30:00", "end": "2027-11-07T23:59:00",
            "tz": ny, "room": r2}), 201, "late")
        early = self.ok(self.api.post("/api/v1/events", {
            "title": "early", "start": "2027-03-15T00:30:00", "end": "2027-03-15T00:45:00",
            "tz": ny, "room": r2}), 201, "early")

        def day(d):
            res = self.api.get("/api/v1/occurrences?from=%s&to=%s&tz=%s&room=%s" % (d, d, ny, r2))
            self.assertEqual(res.status, 200, repr(res))
            return [o["event"] for o in res.json]

        self.assertEqual(day("2027-11-07"), [late["id"]])
        self.assertEqual(day("2027-03-14"), [])
        self.assertEqual(day("2027-03-15"), [early["id"]])

    def test_cancel_one_occurrence(self):
        r = self.room()
        s = self.booked(at("09:00", "2026-12-07"), at("10:00", "2026-12-07"), [], r,
                        rrule="FREQ=WEEKLY;COUNT=4")
        res = self.api.delete("/api/v1/events/%s/occurrences/2026-12-14T09:00:00" % s["id"])
        self.assertEqual(res.status, 204, repr(res))
        rids = [o["recurrence_id"] for o in
                self.occurrences("room", r, "2026-12-01", "2026-12-31")]
        self.assertEqual(rids, ["2026-12-07T09:00:00", "2026-12-21T09:00:00",
                                "2026-12-28T09:00:00"])
        self.booked(at("09:00", "2026-12-14"), at("10:00", "2026-12-14"), [], r)
        self.clash(self.create(at("09:00", "2026-12-21"), at("10:00", "2026-12-21"), [], r))
        res = self.api.delete("/api/v1/events/%s/occurrences/2026-12-15T09:00:00" % s["id"])
        self.assertEqual(res.status, 404, repr(res))

    def test_date_until_includes_that_day(self):
        """UNTIL=<date> on a timed series means "ends on that day", inclusive: the
        meeting on that day is booked, listed, and clashes."""
        r = self.room()
        s = self.booked(at("09:00", "2026-12-07"), at("10:00", "2026-12-07"), [], r,
                        rrule="FREQ=DAILY;UNTIL=20261209")
        occ = [o["recurrence_id"] for o in
               self.occurrences("room", r, "2026-12-07", "2026-12-11") if o["event"] == s["id"]]
        self.assertEqual(occ, ["2026-12-07T09:00:00", "2026-12-08T09:00:00",
                               "2026-12-09T09:00:00"])
        self.clash(self.create(at("09:30", "2026-12-09"), at("10:30", "2026-12-09"), [], r))
        self.booked(at("09:00", "2026-12-10"), at("10:00", "2026-12-10"), [], r)  # after UNTIL

    def test_moving_a_series_keeps_its_exceptions(self):
        """A weekly meeting moved an hour later keeps its exceptions: the excluded and the
        cancelled occurrences stay away, the one placed at its own time stays there, a
        retitled one keeps its title, and the old slots are free."""
        r = self.room()
        s = self.booked(at("09:00", "2026-12-07"), at("10:00", "2026-12-07"), [], r,
                        rrule="FREQ=WEEKLY;COUNT=5", exdates=["2026-12-14T09:00:00"])
        base = "/api/v1/events/%s/occurrences/" % s["id"]
        self.assertEqual(self.api.delete(base + "2026-12-21T09:00:00").status, 204)
        self.ok(self.api.patch(base + "2026-12-28T09:00:00",
                               {"start": at("15:00", "2026-12-29"), "end": at("16:00", "2026-12-29")}),
                200, "move one")
        self.ok(self.api.patch(base + "2027-01-04T09:00:00", {"title": "年初例会"}), 200, "retitle")
        self.ok(self.api.patch("/api/v1/events/" + s["id"],
                               {"start": at("10:00", "2026-12-07"), "end": at("11:00", "2026-12-07")}),
                200, "move the series")
        occ = {o["recurrence_id"]: (o["start"], o["title"]) for o in
               self.occurrences("room", r, "2026-12-01", "2027-01-31") if o["event"] == s["id"]}
        self.assertEqual(occ, {
            "2026-12-07T10:00:00": (at("10:00", "2026-12-07"), s["title"]),
            "2026-12-28T10:00:00": (at("15:00", "2026-12-29"), s["title"]),
            "2027-01-04T10:00:00": (at("10:00", "2027-01-04"), "年初例会")})
        got = self.ok(self.api.get("/api/v1/events/" + s["id"]), 200, "get")
        self.assertEqual(got["exdates"], ["2026-12-14T10:00:00"])
        # The old 09:00 slot is free, the new 10:00 one is taken, the excluded week is free.
        self.booked(at("09:00", "2027-01-04"), at("10:00", "2027-01-04"), [], r)
        self.clash(self.create(at("10:30", "2027-01-04"), at("11:00", "2027-01-04"), [], r))
        self.booked(at("10:00", "2026-12-14"), at("11:00", "2026-12-14"), [], r)
        self.booked(at("10:00", "2026-12-21"), at("11:00", "2026-12-21"), [], r)

    def test_deleting_a_booked_room_or_vehicle(self):
        """A room or car still booked ahead is not deleted (409 in_use naming the meeting);
        once the meeting is cancelled it is. A meeting that is over keeps its room."""
        r, old_room, v, d = self.room(), self.room(), self.vehicle(), self.person(role="driver")
        m = self.booked(at("09:00"), at("10:00"), [], r,
                        trips=[{"vehicle": v, "driver": d, "depart": at("08:30"),
                                "return": at("10:30"), "from": "A", "to": "B"}])
        past = self.booked(at("09:00", "2026-01-06"), at("10:00", "2026-01-06"), [], old_room)
        for path in ("/api/v1/rooms/" + r, "/api/v1/vehicles/" + v):
            res = self.api.delete(path)
            self.assertEqual((res.status, res.code), (409, "in_use"), repr(res))
            self.assertIn(m["id"], res.json["error"]["message"])
            self.ok(self.api.get(path), 200, "still there")
        self.assertEqual(self.api.delete("/api/v1/events/" + m["id"]).status, 204)
        for path in ("/api/v1/rooms/" + r, "/api/v1/vehicles/" + v):
            self.assertEqual(self.api.delete(path).status, 204, path)
            self.assertEqual(self.api.get(path).status, 404, path)
        self.assertEqual(self.api.delete("/api/v1/rooms/" + old_room).status, 204)
        self.assertEqual(self.ok(self.api.get("/api/v1/events/" + past["id"]), 200, "past")["room"],
                         old_room)

    def test_deleting_a_person_revokes_their_tokens(self):
        """A leader's own token stops working when the leader is deleted; others' do not."""
        p, q = self.person(role="leader"), self.person(role="leader")
        _, ptok = self.srv.create_token("leader", person=p)
        _, qtok = self.srv.create_token("leader", person=q)
        mine = "/api/v1/occurrences?from=2026-12-01&to=2026-12-31&person="
        pc, qc = self.srv.client(ptok), self.srv.client(qtok)
        try:
            self.assertEqual(pc.get(mine + p).status, 200)
            self.assertEqual(self.api.delete("/api/v1/people/" + p).status, 204)
            self.assertEqual(pc.get(mine + p).status, 401)
            self.assertEqual(qc.get(mine + q).status, 200)
        finally:
            pc.close()
            qc.close()

    def test_move_one_occurrence(self):
        r = self.room()
        s = self.booked(at("09:00", "2026-12-07"), at("10:00", "2026-12-07"), [], r,
                        rrule="FREQ=DAILY;COUNT=3")
        path = "/api/v1/events/%s/occurrences/2026-12-08T09:00:00" % s["id"]
        # Only a new start: the occurrence keeps its length (11:00-12:00, not 11:00-10:00).
        self.ok(self.api.patch(path, {"start": at("11:00", "2026-12-08")}), 200, "move")
        occ = {o["recurrence_id"]: (o["start"], o["end"]) for o in
               self.occurrences("room", r, "2026-12-07", "2026-12-09")}
        self.assertEqual(occ["2026-12-08T09:00:00"],
                         (at("11:00", "2026-12-08"), at("12:00", "2026-12-08")))
        self.clash(self.create(at("11:30", "2026-12-08"), at("12:30", "2026-12-08"), [], r))
        self.booked(at("09:00", "2026-12-08"), at("10:00", "2026-12-08"), [], r)  # freed
        # Only an end: before the occurrence's start is refused.
        res = self.api.patch("/api/v1/events/%s/occurrences/2026-12-09T09:00:00" % s["id"],
                             {"end": at("08:00", "2026-12-09")})
        self.assertEqual(res.status, 422, repr(res))
        # Moving onto a taken slot is a conflict.
        other = self.booked(at("15:00", "2026-12-09"), at("16:00", "2026-12-09"), [], r)
        c = self.clash(self.api.patch(
            "/api/v1/events/%s/occurrences/2026-12-09T09:00:00" % s["id"],
            {"start": at("15:30", "2026-12-09"), "end": at("16:30", "2026-12-09")}))
        self.assertEqual(c[0]["event"], other["id"])
        self.assertEqual(c[0]["start"], at("15:30", "2026-12-09"))

    def test_rsvp_declined_frees_the_person(self):
        p, q = self.person(), self.person()
        a = self.booked(at("16:00"), at("17:00"), [p, q])
        res = self.api.post("/api/v1/events/%s/rsvp" % a["id"],
                            {"person": p, "response": "declined"})
        got = self.ok(res, 200, "rsvp")
        self.assertEqual(got["sequence"], a["sequence"])
        self.booked(at("16:00"), at("17:00"), [p])
        self.clash(self.create(at("16:00"), at("17:00"), [q]))
        res = self.api.post("/api/v1/events/%s/rsvp" % a["id"],
                            {"person": self.person(), "response": "accepted"})
        self.assertEqual(res.status, 422, repr(res))

    def test_history(self):
        _, sec_token = self.srv.create_token("secretary", name="王秘书")
        sec = self.srv.client(sec_token)
        a = self.booked(at("08:00"), at("09:00"), [self.person()], title="v1")
        self.ok(sec.patch("/api/v1/events/" + a["id"], {"title": "v2"}), 200, "patch")
        self.assertEqual(sec.delete("/api/v1/events/" + a["id"]).status, 204)
        h = self.ok(self.api.get("/api/v1/events/%s/history" % a["id"]), 200, "history")
        self.assertEqual([e["action"] for e in h], ["created", "updated", "cancelled"])
        self.assertIsNone(h[0]["before"])
        self.assertEqual(h[0]["after"]["title"], "v1")
        self.assertEqual((h[1]["before"]["title"], h[1]["after"]["title"]), ("v1", "v2"))
        self.assertEqual((h[2]["before"]["status"], h[2]["after"]["status"]),
                         ("confirmed", "cancelled"))
        self.assertEqual(h[0]["actor"]["name"], "bootstrap admin")
        self.assertEqual([e["actor"]["name"] for e in h[1:]], ["王秘书", "王秘书"])
        for e in h:
            self.assertTrue(e["at"].endswith("Z"), e)

    # ---- bad input changes nothing ----

    def snapshot(self):
        occ = self.api.get("/api/v1/occurrences?from=2026-12-01&to=2027-11-30&tz=" + TZ)
        self.assertEqual(occ.status, 200, repr(occ))
        counts = {t: self.srv.sql("SELECT count(*) FROM %s" % t)[0][0]
                  for t in ("events", "occupancy", "outbox", "event_history", "occurrences")}
        docs = self.srv.sql("SELECT id, version, doc FROM events ORDER BY id")
        return occ.json, counts, docs

    def test_bad_input_changes_nothing(self):
        p, r = self.person(), self.room(capacity=500)
        existing = self.booked(at("13:00"), at("14:00"), [p], r)
        good = self.event_body(at("15:00"), at("16:00"), [p], r)
        people = [self.person() for _ in range(201)]
        before = self.snapshot()

        def variant(**changes):
            body = json.loads(json.dumps(good))
            for k, v in changes.items():
                if v is None:
                    body.pop(k, None)
                else:
                    body[k] = v
            return body

        bad = [
            ("unknown field", variant(atendees=[{"person": p}]), 400, "unknown_field", "atendees"),
            ("unknown attendee field", variant(attendees=[{"person": p, "rol": "x"}]), 400,
             "unknown_field", None),
            ("unknown person", variant(attendees=[{"person": "per_nope"}]), 422, "unknown_id",
             "attendees[0].person"),
            ("unknown second person", variant(attendees=[{"person": p}, {"person": "x"}]), 422,
             "unknown_id", "attendees[1].person"),
            ("unknown room", variant(room="room_nope"), 422, "unknown_id", "room"),
            ("unknown vehicle", variant(trips=[{"vehicle": "veh_nope", "driver": p,
                                                "depart": at("14:00"), "return": at("17:00")}]),
             422, "unknown_id", "trips[0].vehicle"),
            ("title not a string", variant(title=5), 400, "wrong_type", "title"),
            ("attendees not an array", variant(attendees="x"), 400, "wrong_type", "attendees"),
            ("attendee not an object", variant(attendees=["x"]), 400, "wrong_type", None),
            ("guests a string", variant(guests="3"), 400, "wrong_type", "guests"),
            ("confidential a string", variant(confidential="no"), 400, "wrong_type",
             "confidential"),
            ("start a number", variant(start=20261208), 400, "wrong_type", "start"),
            ("end before start", variant(end=at("14:00")), 422, None, "end"),
            ("end equals start", variant(end=at("15:00")), 422, None, "end"),
            ("bad time", variant(start="2026-12-08 15:00"), 422, None, "start"),
            ("February 30", variant(start="2027-02-30T09:00:00", end="2027-02-30T10:00:00"),
             422, None, "start"),
            ("unknown zone", variant(tz="Mars/Olympus"), 422, None, "tz"),
            ("201 attendees", variant(attendees=[{"person": x} for x in people] +
                                      [{"person": p}]), 422, None, "attendees"),
            ("title 501 chars", variant(title="会" * 501), 422, None, "title"),
            ("empty title", variant(title=""), 422, None, "title"),
            ("no title", variant(title=None), 422, None, "title"),
            ("capacity", variant(guests=600), 422, "capacity", None),
            ("clash", variant(start=at("13:30")), 409, "conflict", None),
            ("bad rrule", variant(rrule="FREQ=SOMETIMES"), 422, None, "rrule"),
        ]
        failures = []
        for what, body, status, code, field in bad:
            res = self.api.post("/api/v1/events", body)
            if (res.status != status or (code and res.code != code)
                    or (field and res.field != field)):
                failures.append("%s: expected %d %s %s, got %r" % (what, status, code, field, res))
        for raw in ('{"title": "x", ', "[]", '"x"', "", "{\"title\": \"x\"} trailing"):
            res = self.api.post("/api/v1/events", raw_body=raw)
            if res.status != 400:
                failures.append("malformed body %r: expected 400, got %r" % (raw, res))
        # The same on PATCH of an existing event.
        path = "/api/v1/events/" + existing["id"]
        for what, body, status in [
                ("patch unknown field", {"titel": "x"}, 400),
                ("patch unknown person", {"attendees": [{"person": "per_nope"}]}, 422),
                ("patch end before start", {"end": at("12:00")}, 422),
                ("patch wrong type", {"room": 7}, 400),
                ("patch long title", {"title": "x" * 501}, 422)]:
            res = self.api.patch(path, body)
            if res.status != status:
                failures.append("%s: expected %d, got %r" % (what, status, res))
        after = self.snapshot()
        self.assertEqual(failures, [], "\n".join(failures))
        self.assertEqual(before[1], after[1], "row counts changed")
        self.assertEqual(before[2], after[2], "event documents changed")
        self.assertEqual(before[0], after[0], "occurrences changed")
        # The good body itself is fine, and a 500-character title is allowed.
        self.booked(**dict(self._args(good), title="会" * 500))

    @staticmethod
    def _args(body):
        b = dict(body)
        people = [a["person"] for a in b.pop("attendees", [])]
        return dict(start=b.pop("start"), end=b.pop("end"), people=people,
                    room=b.pop("room", None), **{k: v for k, v in b.items() if k != "tz"})

    # ---- leaders ----

    def test_leader_token(self):
        leader, other = self.person(rank=2, role="leader"), self.person()
        _, token = self.srv.create_token("leader", name="张局长", person=leader)
        me = self.srv.client(token)
        a = self.booked(at("10:00"), at("11:00"), [leader, other])
        b = self.booked(at("15:00"), at("16:00"), [other])
        got = me.get("/api/v1/occurrences?from=%s&to=%s&person=%s" % (DAY, DAY, leader))
        self.assertEqual(got.status, 200, repr(got))
        self.assertEqual([o["event"] for o in got.json], [a["id"]])
        for q in ("person=" + other, "room=" + self.room(), ""):
            res = me.get("/api/v1/occurrences?from=%s&to=%s&%s" % (DAY, DAY, q))
            self.assertEqual(res.status, 403, "%s: %r" % (q, res))
        self.assertEqual(me.get("/api/v1/events/" + a["id"]).status, 200)
        self.assertEqual(me.get("/api/v1/events/" + b["id"]).status, 403)
        res = me.post("/api/v1/events/%s/rsvp" % a["id"], {"person": leader,
                                                          "response": "tentative"})
        self.assertEqual(res.status, 200, repr(res))
        res = me.post("/api/v1/events/%s/rsvp" % a["id"], {"person": other,
                                                          "response": "declined"})
        self.assertEqual(res.status, 403, repr(res))
        # A leader may not book or change meetings.
        self.assertEqual(me.post("/api/v1/events", self.event_body(
            at("18:00"), at("19:00"), [leader])).status, 403)
        self.assertEqual(me.patch("/api/v1/events/" + a["id"], {"title": "x"}).status, 403)
        self.assertEqual(me.delete("/api/v1/events/" + a["id"]).status, 403)
        responses = {x["person"]: x["response"] for x in
                     self.api.get("/api/v1/events/" + a["id"]).json["attendees"]}
        self.assertEqual(responses, {leader: "tentative", other: "needs-action"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
