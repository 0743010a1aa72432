#!/usr/bin/env python3
"""The preview of a change (?dry_run=true, issue 15) against the real binary and a real webhook
receiver.

A meeting with a trip and a lunch moved to another day, into a room a lower-ranked meeting
holds: the preview names the driver who must acknowledge again, the canteen's counts before and
after on both days, the meeting that would lose its room; it writes nothing (the event, its
history, the outbox, the trip's acknowledgement, the other meeting, the canteen's counts and
the receiver are checked) and then the real save does what the preview said. A new meeting
that clashes gets the same entries as its 409, and what preempting would do; bad input is
answered as the real write answers it.
Run: python3 tests/e2e/test_preview.py   (CONVENE_BIN=build/convene)
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dispatch_support import DispatchBase, at  # noqa: E402
from harness import main  # noqa: E402


class PreviewTest(DispatchBase):

    def setUp(self):
        self.lead = self.person("leader", name="王局长", rank=1)["id"]
        self.staff = self.person("staff", name="李科长", rank=50)["id"]
        self.clerk = self.person("staff", name="赵科员", rank=90)["id"]
        self.driver = self.person("driver", name="张师傅")["id"]
        self.car = self.vehicle()["id"]
        self.room = self.ok(self.srv.post("/api/v1/rooms", {
            "name": "第%d会议室" % id(self), "capacity": 10}), 201, "room")["id"]

    def state(self, *event_ids):
        """What a preview must leave as it was: rows, versions, history, outbox, meals."""
        out = [self.srv.sql("SELECT * FROM %s ORDER BY 1, 2, 3" % table)
               for table in ("outbox", "event_history", "occupancy", "catering", "reminders",
                             "trip_occurrences", "event_resources", "calendar_changes")]
        for e in event_ids:
            r = self.srv.get("/api/v1/events/%s" % e)
            out.append((r.json, r.header("ETag")))
            out.append(self.srv.get("/api/v1/events/%s/history" % e).json)
        return out

    def settled(self, path):
        """The messages at path once the fan-out has had time to send what it would."""
        time.sleep(1.2)
        return [(r.json["type"], r.json["data"]) for r in self.rx.received(path)]

    def test_a_moved_meeting_with_a_trip_and_meals(self):
        d1, d2 = self.working_days(30, 2)
        hook = self.unique_path("all")
        meeting = self.event(at(d1, "09:00"), at(d1, "10:00"), [self.lead, self.staff],
                             title="专题会", room=self.room, meals=[{"meal": "lunch"}],
                             trips=[self.trip(self.car, self.driver, at(d1, "08:20"),
                                              at(d1, "10:40"), passengers=[self.lead])])
        trip_id = meeting["trips"][0]["id"]
        self.ok(self.srv.post("/api/v1/trips/%s/ack" % trip_id,
                              token=self.token("driver", self.driver)), 200, "ack")
        other = self.event(at(d2, "14:00"), at(d2, "15:00"), [self.clerk], title="科室例会",
                           room=self.room, meals=[{"meal": "lunch"}])
        self.webhook(hook, ["*"])
        # An endpoint registered in the second of a change may get it too: count those.
        seen = self.settled(hook)
        before = self.state(meeting["id"], other["id"])
        lunch = lambda d: (self.meal(d, "lunch") or {}).get("total", 0)  # noqa: E731
        self.assertEqual((lunch(d1), lunch(d2)), (2, 1))

        move = {"start": at(d2, "14:00"), "end": at(d2, "15:00"), "preempt": True}
        r = self.srv.patch("/api/v1/events/%s?dry_run=true" % meeting["id"], move,
                           headers={"If-Match": '"%d"' % meeting["version"]})
        p = self.ok(r, 200, "preview")
        self.assertEqual((p["dry_run"], p["ok"], p["conflicts"]), (True, True, []))
        fx = p["effects"]
        self.assertEqual(fx["changes"]["start"], {"old": at(d1, "09:00"), "new": at(d2, "14:00")})
        # The driver is named for a new acknowledgement, with the trip's new times.
        self.assertEqual(fx["acknowledge"], [{"driver": self.driver, "name": "张师傅"}])
        [t] = fx["trips"]
        self.assertEqual((t["change"], t["trip"], t["driver_name"], t["depart"], t["return"],
                          t["acknowledge"]),
                         ("updated", trip_id, "张师傅", at(d2, "13:20"), at(d2, "15:40"), True))
        # The canteen: lunch leaves the first day and joins the second.
        self.assertEqual(sorted((c["date"], c["meal"], c["before"], c["after"], c["delta"])
                                for c in fx["catering"]),
                         [(d1, "lunch", 2, 0, -2), (d2, "lunch", 1, 3, 2)])
        # The lower-ranked meeting would lose the room, named.
        [lost] = fx["preempted"]
        self.assertEqual((lost["event"], lost["title"], lost["lost"]["id"], lost["lost"]["type"]),
                         (other["id"], "科室例会", self.room, "room"))
        self.assertTrue(lost["lost"]["name"].startswith("第"))
        self.assertEqual(fx["messages"], {"event.updated": 1, "event.preempted": 1,
                                          "dispatch.updated": 1, "catering.updated": 2})

        # Nothing was written, sent or audited; the trip is still acknowledged.
        self.assertEqual(self.state(meeting["id"], other["id"]), before)
        self.assertTrue(self.trips_of(d1, driver=self.driver)[0]["acknowledged"])
        self.assertEqual(self.settled(hook), seen)

        # The real save does what the preview said.
        r = self.srv.patch("/api/v1/events/%s" % meeting["id"], move)
        self.ok(r, 200, "save")
        self.assertEqual((lunch(d1), lunch(d2)), (0, 3))
        self.assertFalse(self.trips_of(d2, driver=self.driver)[0]["acknowledged"])
        self.assertIsNone(self.srv.get("/api/v1/events/%s" % other["id"]).json.get("room"))
        got = sorted(m["type"] for m in self.new_messages(hook, len(seen), 5))
        self.assertEqual(got, ["catering.updated", "catering.updated", "dispatch.updated",
                               "event.preempted", "event.updated"])

    def test_a_new_meeting_that_clashes(self):
        [d] = self.working_days(36, 1)
        low = self.event(at(d, "10:00"), at(d, "11:00"), [self.clerk], title="低位会议",
                         room=self.room)
        body = {"title": "局长办公会", "start": at(d, "10:30"), "end": at(d, "11:30"),
                "tz": "Asia/Shanghai", "attendees": [{"person": self.lead}], "room": self.room}
        boss = self.event(at(d, "15:00"), at(d, "16:00"), [self.lead], room=self.room)
        before = self.state(low["id"], boss["id"])
        real = self.srv.post("/api/v1/events", body)
        self.assertEqual(real.status, 409, real)
        p = self.ok(self.srv.post("/api/v1/events?dry_run=true", body), 200, "preview")
        # The same entries as the 409, and what ticking preempt would do.
        self.assertEqual((p["ok"], p["conflicts"]), (False, real.json["error"]["conflicts"]))
        self.assertEqual(p["conflicts"][0]["reason"], "overlap")
        self.assertEqual([x["event"] for x in p["with_preempt"]["preempted"]], [low["id"]])
        self.assertEqual(p["effects"]["preempted"], [])
        # A higher-ranked meeting in the way cannot be preempted: no with_preempt.
        body["attendees"] = [{"person": self.clerk}]
        body.update(start=at(d, "15:30"), end=at(d, "16:30"))
        p = self.ok(self.srv.post("/api/v1/events?dry_run=true", body), 200, "preview")
        self.assertEqual([c["event"] for c in p["conflicts"]], [boss["id"]])
        self.assertNotIn("with_preempt", p)
        # A free time: ok, and the event.created it would send; still nothing stored.
        body.update(start=at(d, "18:00"), end=at(d, "19:00"))
        p = self.ok(self.srv.post("/api/v1/events?dry_run=true", body), 200, "preview")
        self.assertEqual((p["ok"], p["effects"]["messages"]), (True, {"event.created": 1}))
        self.assertEqual(self.state(low["id"], boss["id"]), before)

    def test_bad_input_is_answered_as_the_write_would(self):
        [d] = self.working_days(38, 1)
        ev = self.event(at(d, "09:00"), at(d, "10:00"), [self.staff])
        path = "/api/v1/events/%s" % ev["id"]
        r = self.srv.patch(path + "?dry_run=yes", {"title": "x"})
        self.assertEqual((r.status, r.field), (422, "dry_run"), r)
        r = self.srv.patch(path + "?dry_run=true", {"end": at(d, "08:00")})
        self.assertEqual((r.status, r.code), (422, "end_before_start"), r)
        r = self.srv.patch(path + "?dry_run=true", {"title": "x"}, headers={"If-Match": '"9"'})
        self.assertEqual(r.status, 412, r)
        r = self.srv.patch("/api/v1/events/evt_none?dry_run=true", {"title": "x"})
        self.assertEqual(r.status, 404, r)
        r = self.srv.post("/api/v1/events?dry_run=true", {"title": "x"})
        self.assertEqual(r.status, 422, r)
        # dry_run=false is the real write.
        r = self.srv.patch(path + "?dry_run=false", {"title": "改名"})
        self.assertEqual(self.ok(r, 200, "real")["title"], "改名")
        # A driver may not preview what they may not do.
        r = self.srv.patch(path + "?dry_run=true", {"title": "y"},
                           token=self.token("driver", self.driver))
        self.assertEqual(r.status, 403, r)

    def test_one_occurrence_moved(self):
        d1, d2 = self.working_days(40, 2)
        series = self.event(at(d1, "09:00"), at(d1, "10:00"), [self.staff], room=self.room,
                            rrule="FREQ=DAILY;COUNT=3", meals=[{"meal": "lunch"}])
        rid = at(d1, "09:00")
        before = self.state(series["id"])
        p = self.ok(self.srv.patch("/api/v1/events/%s/occurrences/%s?dry_run=true"
                                   % (series["id"], rid), {"start": at(d1, "18:00"),
                                                           "end": at(d1, "19:00")}),
                    200, "preview")
        self.assertTrue(p["ok"])
        self.assertEqual(p["effects"]["messages"].get("event.updated"), 1)
        self.assertEqual(self.state(series["id"]), before)


if __name__ == "__main__":
    main()
