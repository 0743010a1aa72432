#!/usr/bin/env python3
"""One occurrence of a series moved to another room (issue 15): PATCH
/events/{id}/occurrences/{rid} {"room": ...}. The occurrence holds the new room (with that
room's buffers) and frees the series' room for that slot; the room's list shows it; a busy room
is a 409 naming it, an unknown or too small room a 422, a wrong type a 400; null leaves the
occurrence without a room; a higher-ranked meeting preempting that room takes it from the
occurrence only, and the series keeps its own room.
Run: python3 tests/e2e/test_occurrence_room.py   (CONVENE_BIN=build/convene)
"""

import itertools
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from booking_support import Server  # noqa: E402
from harness import main  # noqa: E402

TZ = "Asia/Shanghai"
_seq = itertools.count(1)


def at(day, hhmm):
    return "%sT%s:00" % (day, hhmm)


D1, D2, D3 = "2027-03-09", "2027-03-10", "2027-03-11"  # Tuesday to Thursday


class OccurrenceRoomTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def make(self, collection, **body):
        r = self.srv.post("/api/v1/" + collection, body)
        self.assertEqual(r.status, 201, r)
        return r.json["id"]

    def person(self, rank=100):
        return self.make("people", name="人员%d" % next(_seq), role="staff", rank=rank)

    def room(self, capacity=20, setup=0):
        return self.make("rooms", name="会议室%d" % next(_seq), capacity=capacity,
                         setup_minutes=setup, teardown_minutes=0)

    def event(self, start, end, people, room=None, status=201, **extra):
        body = {"title": extra.pop("title", "会议%d" % next(_seq)), "start": start, "end": end,
                "tz": TZ, "attendees": [{"person": p} for p in people]}
        if room:
            body["room"] = room
        body.update(extra)
        r = self.srv.post("/api/v1/events", body)
        self.assertEqual(r.status, status, r)
        return r.json

    def in_room(self, room, day_from=D1, day_to=D3):
        r = self.srv.get("/api/v1/occurrences?from=%s&to=%s&room=%s" % (day_from, day_to, room))
        self.assertEqual(r.status, 200, r)
        return [(o["event"], o["recurrence_id"], o.get("room")) for o in r.json]

    def series(self, room):
        return self.event(at(D1, "09:00"), at(D1, "10:00"), [self.person(), self.person()], room,
                          rrule="FREQ=DAILY;COUNT=3", title="周例会")

    def move(self, ev, rid, body, **kw):
        return self.srv.patch("/api/v1/events/%s/occurrences/%s" % (ev["id"], rid), body, **kw)

    def test_a_room_held_by_one_occurrence_is_not_deleted(self):
        # Only one occurrence is in room b: b's calendar does not list the series, the
        # occupancy index does; deleting b would leave that occurrence in a room nobody has.
        a, b = self.room(), self.room()
        s = self.series(a)
        rid = at(D2, "09:00")
        self.assertEqual(self.move(s, rid, {"room": b}).status, 200)
        r = self.srv.delete("/api/v1/rooms/" + b)
        self.assertEqual((r.status, r.json["error"]["code"]), (409, "in_use"), r)
        self.assertIn(s["id"], r.json["error"]["message"])
        self.assertEqual(self.srv.get("/api/v1/rooms/" + b).status, 200)
        # Back in the series' room, b is free to go.
        self.assertEqual(self.move(s, rid, {"room": a}).status, 200)
        self.assertEqual(self.srv.delete("/api/v1/rooms/" + b).status, 204)

    def test_one_occurrence_moves_room(self):
        a, b = self.room(), self.room(setup=30)
        s = self.series(a)
        rid = at(D2, "09:00")
        r = self.move(s, rid, {"room": b})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["overrides"][rid]["room"], b)
        self.assertEqual(self.in_room(b), [(s["id"], rid, b)])
        self.assertEqual([x[1] for x in self.in_room(a)], [at(D1, "09:00"), at(D3, "09:00")])
        # Room a is free in that slot; room b is held, with b's own 30-minute setup.
        self.event(at(D2, "09:00"), at(D2, "10:00"), [self.person()], a)
        r = self.srv.post("/api/v1/events", {"title": "x", "start": at(D2, "08:00"),
                                             "end": at(D2, "08:45"), "tz": TZ, "room": b})
        self.assertEqual(r.status, 409, r)
        [c] = r.json["error"]["conflicts"]
        self.assertEqual((c["resource"]["id"], c["reason"], c["event"]), (b, "buffer", s["id"]))
        # Back to no room of its own: null, and b is free again.
        r = self.move(s, rid, {"room": None})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.in_room(b), [])
        self.assertNotIn((s["id"], rid), [x[:2] for x in self.in_room(a)])

    def test_a_busy_or_wrong_room_is_refused(self):
        a, b, tiny = self.room(), self.room(), self.room(capacity=1)
        s = self.series(a)
        busy = self.event(at(D3, "09:30"), at(D3, "11:00"), [self.person()], b, title="占用")
        rid = at(D3, "09:00")
        r = self.move(s, rid, {"room": b})
        self.assertEqual(r.status, 409, r)
        [c] = r.json["error"]["conflicts"]
        self.assertEqual((c["resource"]["id"], c["name"], c["event"]),
                         (b, self.srv.get("/api/v1/rooms/" + b).json["name"], busy["id"]))
        # The preview says the same, and writes nothing.
        r = self.srv.patch("/api/v1/events/%s/occurrences/%s?dry_run=true" % (s["id"], rid),
                           {"room": b})
        self.assertEqual((r.status, r.json["ok"], r.json["conflicts"][0]["event"]),
                         (200, False, busy["id"]), r)
        for body, status, field in (({"room": "room_nothing"}, 422, "overrides.room"),
                                    ({"room": 5}, 400, "room"),
                                    ({"room": tiny}, 422, "overrides.room")):
            r = self.move(s, rid, body)
            self.assertEqual((r.status, r.field), (status, field), r)
        got = self.srv.get("/api/v1/events/" + s["id"])
        self.assertEqual((got.json["version"], got.json.get("overrides")), (1, None))

    def test_preempting_the_moved_occurrence_room(self):
        a, b = self.room(), self.room()
        s = self.series(a)
        rid = at(D1, "09:00")
        self.assertEqual(self.move(s, rid, {"room": b}).status, 200)
        boss = self.person(rank=1)
        high = self.event(at(D1, "09:00"), at(D1, "09:30"), [boss], b, preempt=True)
        got = self.srv.get("/api/v1/events/" + s["id"]).json
        # The series keeps room a; the moved occurrence lost b and holds no room.
        self.assertEqual((got["room"], got["overrides"][rid]["room"]), (a, None))
        self.assertEqual([x[0] for x in self.in_room(b, D1, D1)], [high["id"]])
        self.assertEqual([x[1] for x in self.in_room(a)], [at(D2, "09:00"), at(D3, "09:00")])


if __name__ == "__main__":
    main()
