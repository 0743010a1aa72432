#!/usr/bin/env python3
"""Finding a time (CONTRACT section 5, issue 7 parts 2-4) against a brute-force model.

For several seeds a fresh service gets 4 people and 4 rooms (capacities, features,
setup/teardown buffers), a weekly recurring meeting, random single meetings (some
confidential, some refused with 409, one cancelled) and random blocks of people and rooms,
all over 2026-09-28..2026-10-11, a fortnight that holds 国庆节 (10-01..07 off) and the
make-up Saturday 10-10. The model in this file marks every busy minute of every person
and room (room holds widened by the room's buffers) and, minute by minute, finds every
slot start on the step grid of each working day's working hours (08:30-12:00,
14:00-17:30 Asia/Shanghai, lunch never offered) where every required person is free,
with the rooms whose buffered hold is free and that fit people + guests and the asked
features, and the optional people's free/busy. POST /api/v1/availability must give the
same slots in the same order (windows small enough that limit 200 is never reached, plus
the whole fortnight where the answer is the model's first 200).

Also: "prefer": "afternoon"; explained empty answers (rooms too small, people busy,
holidays only); DST in a visitor's zone (America/New_York across 2026-03-08, no working
hours, step 30): no nonexistent local time, exact UTC durations; working hours are the
office's (--tz) when a visitor asks in another zone; a slot's "booking" POSTed to
/api/v1/events books (201) and the slot is gone from the next search;
GET /api/v1/freebusy gives the model's merged busy intervals for people and rooms (room
intervals include buffers), confidential meetings as plain intervals without title.

Run: python3 tests/e2e/test_availability.py   (CONVENE_BIN, CONVENE_SOURCE_DIR)
"""

import datetime
import os
import random
import sys
import unittest
from collections import defaultdict
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPO, Server  # noqa: E402

CALENDARS = os.path.join(REPO, "calendars")
OFFICE_TZ = "Asia/Shanghai"  # the service's default --tz
WINDOW = ("2026-09-28", "2026-10-11")
SEEDS = (1, 7, 99, 20260928, 4242, 31337)
FEATURES = ("video", "projector", "whiteboard")
PERIODS = ((8 * 60 + 30, 12 * 60), (14 * 60, 17 * 60 + 30))
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

# The State Council's arrangement around the window (the oracle, typed from the notice):
# 中秋节 09-25..27 and 国庆节 10-01..07 off; Sunday 09-20 and Saturday 10-10 worked.
OFF_DAYS = {datetime.date(2026, 9, 25) + datetime.timedelta(days=i) for i in range(3)} | \
           {datetime.date(2026, 10, 1) + datetime.timedelta(days=i) for i in range(7)}
MAKEUP_DAYS = {datetime.date(2026, 9, 20), datetime.date(2026, 10, 10)}


def is_working(day):
    assert datetime.date(2026, 9, 1) <= day <= datetime.date(2026, 12, 31), day
    if day in OFF_DAYS:
        return False
    if day in MAKEUP_DAYS:
        return True
    return day.weekday() < 5


def d(s):
    return datetime.date.fromisoformat(s)


def local_str(naive):
    return naive.strftime("%Y-%m-%dT%H:%M:%S")


def to_utc_min(naive, tz):
    """Minutes since the epoch of a wall time in tz (fold=0 for the rare ambiguous time)."""
    aware = naive.replace(tzinfo=ZoneInfo(tz))
    return int((aware - EPOCH).total_seconds()) // 60


def exists(naive, tz):
    """Whether a wall time exists in tz (not in a spring-forward gap)."""
    z = ZoneInfo(tz)
    back = datetime.datetime.fromtimestamp(naive.replace(tzinfo=z).timestamp(), z)
    return back.replace(tzinfo=None) == naive


def from_utc_min(minutes, tz):
    return (EPOCH + datetime.timedelta(minutes=minutes)).astimezone(ZoneInfo(tz)).replace(
        tzinfo=None)


def utc_str(minutes):
    return (EPOCH + datetime.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(s):
    dt = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    secs = int((dt - EPOCH).total_seconds())
    assert secs % 60 == 0, s
    return secs // 60


def day_bounds(frm, to, tz):
    """[from 00:00, to+1 00:00) of local dates in tz, as UTC minutes."""
    start = datetime.datetime.combine(d(frm), datetime.time())
    end = datetime.datetime.combine(d(to) + datetime.timedelta(days=1), datetime.time())
    return to_utc_min(start, tz), to_utc_min(end, tz)


class Model:
    """Busy minutes per resource: the brute-force reference."""

    def __init__(self):
        self.holds = defaultdict(list)  # ("person"|"room", id) -> [(start, end)] UTC minutes
        self._busy = {}

    def add(self, key, start, end):
        assert end > start
        self.holds[key].append((start, end))
        self._busy.pop(key, None)

    def remove(self, key, start, end):
        self.holds[key].remove((start, end))
        self._busy.pop(key, None)

    def busy_minutes(self, key):
        if key not in self._busy:
            minutes = set()
            for s, e in self.holds[key]:
                minutes.update(range(s, e))
            self._busy[key] = minutes
        return self._busy[key]

    def free(self, key, start, end):
        busy = self.busy_minutes(key)
        return all(m not in busy for m in range(start, end))

    def merged(self, key, lo, hi):
        """Holds overlapping [lo, hi), merged where they overlap or touch (as freebusy)."""
        out = []
        for s, e in sorted(h for h in self.holds[key] if h[0] < hi and h[1] > lo):
            if out and s <= out[-1][1]:
                out[-1][1] = max(out[-1][1], e)
            else:
                out.append([s, e])
        return [tuple(x) for x in out]


def model_search(model, rooms, q):
    """The slots POST /api/v1/availability should return for query q, all of them, in order.

    rooms: [{"id","capacity","features","setup","teardown"}] (every room in the store).
    """
    tz = q.get("tz", OFFICE_TZ)
    step = q.get("step_minutes", 15)
    dur = q["duration_minutes"]
    working_hours = q.get("working_hours", True)
    people = q.get("people", [])
    optional = q.get("optional", [])
    lo, hi = day_bounds(q["from"], q["to"], tz)
    room_q = q.get("room")
    min_cap = max((room_q or {}).get("min_capacity", 0), len(people) + q.get("guests", 0))
    wanted = set((room_q or {}).get("features", []))
    # Rooms are looked for only when the query asks for one.
    fitting = [r for r in rooms if r["capacity"] >= min_cap and wanted <= set(r["features"])
               and room_q is not None]

    if working_hours:
        # The office's days and hours (--tz), whatever zone the slots are shown in.
        day_tz = OFFICE_TZ
        first = from_utc_min(lo, day_tz).date()
        last = from_utc_min(hi - 1, day_tz).date()
    else:
        day_tz = tz
        first, last = d(q["from"]), d(q["to"])
    slots = []
    day = first
    while day <= last:
        if working_hours:
            periods = PERIODS if is_working(day) else ()
        else:
            periods = ((0, 24 * 60),)
        midnight = datetime.datetime.combine(day, datetime.time())
        for p0, p1 in periods:
            m = -(-p0 // step) * step  # the step grid of the local day
            while m + dur <= p1:
                wall = midnight + datetime.timedelta(minutes=m)
                m += step
                if not exists(wall, day_tz):
                    continue
                start = to_utc_min(wall, day_tz)
                end = start + dur
                if start < lo or end > hi:
                    continue
                if not all(model.free(("person", p), start, end) for p in people):
                    continue
                free_rooms = {r["id"] for r in fitting
                              if model.free(("room", r["id"]), start - r["setup"],
                                            end + r["teardown"])}
                if room_q is not None and not free_rooms:
                    continue
                slots.append({"start_utc": start, "end_utc": end, "rooms": free_rooms,
                              "optional": {o: "free" if model.free(("person", o), start, end)
                                           else "busy" for o in optional}})
        day += datetime.timedelta(days=1)
    return slots


def morning(slot, tz):
    return from_utc_min(slot["start_utc"], tz).hour < 12


def check_slots(tc, got, expected, q, what):
    """Asserts that the API's slots are the model's, field by field, in order."""
    tz = q.get("tz", OFFICE_TZ)
    tc.assertEqual(
        [(s["start_utc"], s["end_utc"]) for s in got],
        [(utc_str(e["start_utc"]), utc_str(e["end_utc"])) for e in expected],
        "%s: slot times differ for %r" % (what, q))
    for s, e in zip(got, expected):
        where = "%s %s %r" % (what, s["start"], q)
        tc.assertEqual(s["start"], local_str(from_utc_min(e["start_utc"], tz)), where)
        tc.assertEqual(s["end"], local_str(from_utc_min(e["end_utc"], tz)), where)
        tc.assertEqual(s["tz"], tz, where)
        tc.assertEqual(set(s["rooms"]), e["rooms"], where)
        tc.assertEqual(len(s["rooms"]), len(e["rooms"]), where)
        tc.assertEqual(s["optional"], e["optional"], where)
        booking = dict(s["booking"])
        tc.assertEqual(booking.pop("start"), s["start"], where)
        tc.assertEqual(booking.pop("end"), s["end"], where)
        tc.assertEqual(booking.pop("tz"), tz, where)
        if s["rooms"]:
            tc.assertIn(booking.pop("room"), s["rooms"], where)
        tc.assertEqual(booking, {}, where)


class Fixture:
    """One service with random people, rooms, meetings and blocks, and their model."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seed = seed
        self.srv = Server(calendars=CALENDARS).start()
        self.model = Model()
        self.people = []
        self.rooms = []
        self.events = []       # accepted single meetings: (id, holds)
        self.titles = {}       # event id -> title
        self.confidential_titles = []
        self.refused = 0
        self.build()

    def close(self):
        self.srv.cleanup()

    def wall(self, date, minute):
        return datetime.datetime.combine(date, datetime.time()) + datetime.timedelta(
            minutes=minute)

    def event_holds(self, start, end, attendees, room):
        holds = [(("person", p), start, end) for p in attendees]
        if room is not None:
            holds.append((("room", room["id"]), start - room["setup"], end + room["teardown"]))
        return holds

    def post_event(self, body, occurrences):
        """POSTs a meeting; on 201 adds its holds to the model. occurrences: [(start, end)]."""
        r = self.srv.post("/api/v1/events", body)
        if r.status == 409:
            self.refused += 1
            return None
        assert r.status == 201, (body, r)
        room = next((x for x in self.rooms if x["id"] == body.get("room")), None)
        attendees = [a["person"] for a in body.get("attendees", [])]
        holds = []
        for s, e in occurrences:
            holds += self.event_holds(s, e, attendees, room)
        for key, s, e in holds:
            self.model.add(key, s, e)
        self.titles[r.body["id"]] = body["title"]
        if body.get("confidential"):
            self.confidential_titles.append(body["title"])
        return r.body["id"], holds

    def build(self):
        rng = self.rng
        for i in range(4):
            p = self.srv.create("people", {"name": "领导%d" % i, "role": "leader", "rank": i + 1})
            self.people.append(p["id"])
        for i in range(4):
            room = {"name": "会议室%d" % i, "capacity": rng.choice((3, 4, 6, 10, 20)),
                    "features": sorted(rng.sample(FEATURES, rng.randint(0, 3))),
                    "setup_minutes": rng.choice((0, 5, 10, 15, 30)),
                    "teardown_minutes": rng.choice((0, 5, 10, 20))}
            got = self.srv.create("rooms", room)
            self.rooms.append({"id": got["id"], "capacity": room["capacity"],
                               "features": room["features"], "setup": room["setup_minutes"],
                               "teardown": room["teardown_minutes"]})
        tz = OFFICE_TZ
        # A weekly meeting on Mondays and Wednesdays, first so it never clashes.
        first = d("2026-09-28")
        minute = rng.randrange(9 * 60, 16 * 60, 5)
        length = rng.randrange(30, 95, 5)
        attendees = rng.sample(self.people, 2)
        room = rng.choice(self.rooms)
        occurrences = []
        day = first
        while len(occurrences) < 6:
            if day.weekday() in (0, 2):
                s = to_utc_min(self.wall(day, minute), tz)
                occurrences.append((s, s + length))
            day += datetime.timedelta(days=1)
        got = self.post_event({
            "title": "周例会", "start": local_str(self.wall(first, minute)),
            "end": local_str(self.wall(first, minute + length)), "tz": tz,
            "rrule": "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6",
            "attendees": [{"person": p} for p in attendees], "room": room["id"]}, occurrences)
        assert got is not None
        # Random single meetings, from the day before the window to the day after, any hour.
        for n in range(45):
            day = d("2026-09-27") + datetime.timedelta(days=rng.randrange(16))
            minute = rng.randrange(7 * 60, 19 * 60, 5)
            length = rng.randrange(15, 155, 5)
            attendees = rng.sample(self.people, rng.choice((1, 1, 2, 2, 3)))
            guests = rng.choice((0, 0, 1, 3))
            room = None
            if rng.random() < 0.6:
                fits = [x for x in self.rooms if x["capacity"] >= len(attendees) + guests]
                room = rng.choice(fits) if fits else None
            body = {"title": "会议%d-%d" % (self.seed, n),
                    "start": local_str(self.wall(day, minute)),
                    "end": local_str(self.wall(day, minute + length)), "tz": tz,
                    "attendees": [{"person": p} for p in attendees], "guests": guests,
                    "confidential": rng.random() < 0.25}
            if room is not None:
                body["room"] = room["id"]
            s = to_utc_min(self.wall(day, minute), tz)
            got = self.post_event(body, [(s, s + length)])
            if got is not None:
                self.events.append(got)
        # A room-only meeting (no attendees) right on a boundary.
        room = rng.choice(self.rooms)
        s = to_utc_min(self.wall(d("2026-10-09"), 12 * 60), tz)
        got = self.post_event({"title": "布置", "start": "2026-10-09T12:00:00",
                               "end": "2026-10-09T14:00:00", "tz": tz, "room": room["id"]},
                              [(s, s + 120)])
        # Cancel one accepted meeting: its time is free again.
        if self.events:
            eid, holds = self.events.pop(rng.randrange(len(self.events)))
            r = self.srv.delete("/api/v1/events/" + eid)
            assert r.status == 204, r
            for key, hs, he in holds:
                self.model.remove(key, hs, he)
        # Blocks of people and rooms (blocks never clash: they are simply stored).
        for n in range(8):
            if rng.random() < 0.5:
                kind, rid = "person", rng.choice(self.people)
            else:
                kind, rid = "room", rng.choice(self.rooms)["id"]
            day = d("2026-09-27") + datetime.timedelta(days=rng.randrange(16))
            minute = rng.randrange(6 * 60, 20 * 60, 5)
            length = rng.choice((30, 45, 90, 180, 300, 900))  # 900: overnight
            r = self.srv.post("/api/v1/blocks", {
                "resource": {"type": kind, "id": rid},
                "start": local_str(self.wall(day, minute)),
                "end": local_str(self.wall(day, minute + length)), "tz": tz,
                "reason": "外出%d" % n})
            assert r.status == 201, r
            s = to_utc_min(self.wall(day, minute), tz)
            self.model.add((kind, rid), s, s + length)

    def random_query(self):
        rng = self.rng
        people = rng.sample(self.people, rng.randint(1, 4))
        rest = [p for p in self.people if p not in people]
        q = {"people": people, "duration_minutes": rng.choice((15, 30, 45, 60, 90, 120, 210)),
             "limit": 200}
        if rest and rng.random() < 0.7:
            q["optional"] = rng.sample(rest, rng.randint(1, len(rest)))
        if rng.random() < 0.25:
            q["step_minutes"] = rng.choice((30, 45))
        if rng.random() < 0.75:
            room = {}
            if rng.random() < 0.6:
                room["min_capacity"] = rng.choice((2, 4, 6, 8))
            if rng.random() < 0.5:
                room["features"] = rng.sample(FEATURES, rng.randint(1, 2))
            q["room"] = room
            if rng.random() < 0.4:
                q["guests"] = rng.choice((1, 2, 5))
        return q


class AvailabilityModelTest(unittest.TestCase):
    maxDiff = 4000

    def search(self, srv, q):
        r = srv.post("/api/v1/availability", q)
        self.assertEqual(r.status, 200, (q, r))
        return r.body

    def test_random_calendars_against_the_model(self):
        checked = 0
        for seed in SEEDS:
            fx = Fixture(seed)
            try:
                with self.subTest(seed=seed):
                    for n in range(8):
                        q = fx.random_query()
                        # The whole fortnight: the earliest 200 of the model's slots.
                        q.update(zip(("from", "to"), WINDOW))
                        expected = model_search(fx.model, fx.rooms, q)
                        body = self.search(fx.srv, q)
                        check_slots(self, body["slots"], expected[:200], q, "seed %d" % seed)
                        if not expected:
                            self.assertIn("explanation", body)
                        else:
                            self.assertNotIn("explanation", body)
                        # A small limit: the earliest ones.
                        limit = fx.rng.randint(1, 40)
                        got = self.search(fx.srv, dict(q, limit=limit))["slots"]
                        check_slots(self, got, expected[:limit], q, "seed %d limit" % seed)
                        # Pieces small enough that the answer is complete.
                        for frm, to in (("2026-09-28", "2026-09-30"),
                                        ("2026-09-30", "2026-10-08"),
                                        ("2026-10-09", "2026-10-11")):
                            q.update({"from": frm, "to": to})
                            expected = model_search(fx.model, fx.rooms, q)
                            self.assertLess(len(expected), 200)
                            got = self.search(fx.srv, q)["slots"]
                            check_slots(self, got, expected, q, "seed %d %s..%s" % (seed, frm, to))
                            checked += len(expected)
                            # Lunch and holidays are never offered.
                            for s in got:
                                start = datetime.datetime.fromisoformat(s["start"])
                                end = datetime.datetime.fromisoformat(s["end"])
                                self.assertTrue(is_working(start.date()), s)
                                self.assertTrue(
                                    any(p0 <= start.hour * 60 + start.minute and
                                        end.hour * 60 + end.minute <= p1 for p0, p1 in PERIODS)
                                    and end.date() == start.date(), s)
                        # A preference for the afternoon: afternoon slots first, each half
                        # earliest first; the limit cuts after the reordering.
                        q.update({"from": "2026-09-28", "to": "2026-10-09",
                                  "prefer": "afternoon", "limit": 30})
                        expected = model_search(fx.model, fx.rooms, q)
                        ordered = [e for e in expected if not morning(e, OFFICE_TZ)] + \
                                  [e for e in expected if morning(e, OFFICE_TZ)]
                        got = self.search(fx.srv, q)["slots"]
                        check_slots(self, got, ordered[:30], q, "seed %d prefer" % seed)
                        q["prefer"] = "morning"
                        ordered = [e for e in expected if morning(e, OFFICE_TZ)] + \
                                  [e for e in expected if not morning(e, OFFICE_TZ)]
                        got = self.search(fx.srv, q)["slots"]
                        check_slots(self, got, ordered[:30], q, "seed %d prefer morning" % seed)
                    self.check_freebusy(fx)
            finally:
                fx.close()
        # The scenarios must not be trivially empty.
        self.assertGreater(checked, 500)

    def check_freebusy(self, fx):
        lo, hi = day_bounds(WINDOW[0], WINDOW[1], OFFICE_TZ)
        r = fx.srv.get("/api/v1/freebusy?people=%s&rooms=%s&from=%s&to=%s" % (
            ",".join(fx.people), ",".join(x["id"] for x in fx.rooms), WINDOW[0], WINDOW[1]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["tz"], OFFICE_TZ)
        cals = r.body["calendars"]
        self.assertEqual(cals["vehicles"], {})
        for kind, ids in (("people", fx.people), ("rooms", [x["id"] for x in fx.rooms])):
            self.assertEqual(set(cals[kind]), set(ids))
            for rid in ids:
                key = ("person" if kind == "people" else "room", rid)
                busy = cals[kind][rid]["busy"]
                self.assertEqual([(parse_utc(b["start_utc"]), parse_utc(b["end_utc"]))
                                  for b in busy], fx.model.merged(key, lo, hi),
                                 "freebusy %s %s seed %d" % (kind, rid, fx.seed))
                for b in busy:
                    # Plain intervals: no title, no event, confidential or not.
                    self.assertEqual(set(b), {"start", "end", "start_utc", "end_utc"})
                    self.assertEqual(b["start"], local_str(
                        from_utc_min(parse_utc(b["start_utc"]), OFFICE_TZ)))
        for title in fx.confidential_titles + list(fx.titles.values()):
            self.assertNotIn(title, r.raw.decode("utf-8"))


class AvailabilityCasesTest(unittest.TestCase):
    srv = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(calendars=CALENDARS).start()
        cls.a = cls.srv.create("people", {"name": "甲", "role": "leader"})["id"]
        cls.b = cls.srv.create("people", {"name": "乙", "role": "leader"})["id"]
        cls.c = cls.srv.create("people", {"name": "丙", "role": "staff"})["id"]
        cls.room = cls.srv.create("rooms", {"name": "小会议室", "capacity": 6,
                                            "features": ["video"], "setup_minutes": 15,
                                            "teardown_minutes": 10})["id"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def search(self, q):
        r = self.srv.post("/api/v1/availability", q)
        self.assertEqual(r.status, 200, (q, r))
        return r.body

    def test_optional_attendees_reported(self):
        r = self.srv.post("/api/v1/events", {
            "title": "丙的会", "start": "2026-12-08T09:00:00", "end": "2026-12-08T10:00:00",
            "tz": OFFICE_TZ, "attendees": [{"person": self.c}]})
        self.assertEqual(r.status, 201, r)
        body = self.search({"people": [self.a], "optional": [self.c], "duration_minutes": 60,
                            "from": "2026-12-08", "to": "2026-12-08", "limit": 50})
        status = {s["start"][11:16]: s["optional"][self.c] for s in body["slots"]}
        # Busy exactly where the hour overlaps 09:00-10:00 (half-open).
        self.assertEqual(status["08:30"], "busy")
        self.assertEqual(status["09:45"], "busy")
        self.assertEqual(status["10:00"], "free")
        self.assertEqual(status["14:00"], "free")
        self.assertNotIn("08:00", status)
        # Optional people never remove a slot.
        self.assertEqual(len(body["slots"]), 22)

    def test_all_rooms_too_small_is_explained(self):
        body = self.search({"people": [self.a, self.b], "duration_minutes": 60,
                            "from": "2026-12-07", "to": "2026-12-11",
                            "room": {"min_capacity": 12, "features": ["video"]}})
        self.assertEqual(body["slots"], [])
        self.assertEqual(body["explanation"]["most_limiting"], "room", body)
        self.assertEqual(body["explanation"]["rooms_matching"], 0, body)
        # Guests count too: 2 people + 5 guests > 6 seats.
        body = self.search({"people": [self.a, self.b], "duration_minutes": 60, "guests": 5,
                            "from": "2026-12-07", "to": "2026-12-11", "room": {}})
        self.assertEqual(body["slots"], [])
        self.assertEqual(body["explanation"]["most_limiting"], "room", body)
        body = self.search({"people": [self.a, self.b], "duration_minutes": 60, "guests": 4,
                            "from": "2026-12-07", "to": "2026-12-07", "room": {}, "limit": 1})
        self.assertEqual(body["slots"][0]["rooms"], [self.room])
        # A feature no room has.
        body = self.search({"people": [self.a], "duration_minutes": 30, "from": "2026-12-07",
                            "to": "2026-12-07", "room": {"features": ["hologram"]}})
        self.assertEqual(body["slots"], [])
        self.assertEqual(body["explanation"]["most_limiting"], "room")

    def test_other_empty_answers_are_explained(self):
        # Only holidays: no working time at all.
        body = self.search({"people": [self.a], "duration_minutes": 30, "from": "2026-10-01",
                            "to": "2026-10-07"})
        self.assertEqual(body["slots"], [])
        self.assertEqual(body["explanation"]["most_limiting"], "working_hours", body)
        self.assertEqual(body["explanation"]["candidates"], 0)
        # Longer than any working period.
        body = self.search({"people": [self.a], "duration_minutes": 240, "from": "2026-12-07",
                            "to": "2026-12-11"})
        self.assertEqual(body["slots"], [])
        self.assertEqual(body["explanation"]["most_limiting"], "working_hours", body)
        # A person away all week.
        r = self.srv.post("/api/v1/blocks", {"resource": {"type": "person", "id": self.b},
                                             "start": "2026-12-14T00:00:00",
                                             "end": "2026-12-19T00:00:00", "reason": "出差"})
        self.assertEqual(r.status, 201, r)
        body = self.search({"people": [self.a, self.b], "duration_minutes": 60,
                            "from": "2026-12-14", "to": "2026-12-18", "room": {}})
        self.assertEqual(body["slots"], [])
        self.assertEqual(body["explanation"]["most_limiting"], "people", body)
        self.assertGreater(body["explanation"]["excluded_by_people"], 0)

    def test_bad_requests(self):
        base = {"people": [self.a], "duration_minutes": 60, "from": "2026-12-07",
                "to": "2026-12-11"}
        for change, status, field in (({"duration_minutes": 0}, 422, "duration_minutes"),
                                      ({"duration_minutes": "60"}, 400, "duration_minutes"),
                                      ({"from": "2026-12-32"}, 422, "from"),
                                      ({"to": "2026-12-01"}, 422, "to"),
                                      ({"to": "2027-03-01"}, 422, "to"),
                                      ({"tz": "Mars/Olympus"}, 422, "tz"),
                                      ({"limit": 0}, 422, "limit"),
                                      ({"limit": 201}, 422, "limit"),
                                      ({"step_minutes": 1}, 422, "step_minutes"),
                                      ({"prefer": "evening"}, 422, "prefer"),
                                      ({"people": ["per_nobody"]}, 422, "people"),
                                      ({"optional": ["per_nobody"]}, 422, "optional"),
                                      ({"colour": "red"}, 400, None)):
            q = dict(base)
            q.update(change)
            r = self.srv.post("/api/v1/availability", q)
            self.assertEqual(r.status, status, (change, r))
            if field:
                self.assertEqual(r.field, field, (change, r))
        for query, status in (("people=%s&from=2026-12-07" % self.a, 422),
                              ("people=%s&from=2026-12-07&to=2026-12-01" % self.a, 422),
                              ("people=per_nobody&from=2026-12-07&to=2026-12-08", 422),
                              ("people=%s&from=2026-12-07&to=2026-12-08&tz=Nowhere" % self.a,
                               422)):
            r = self.srv.get("/api/v1/freebusy?" + query)
            self.assertEqual(r.status, status, (query, r))

    def test_booking_a_slot(self):
        q = {"people": [self.a, self.b], "optional": [self.c], "duration_minutes": 45,
             "from": "2026-12-21", "to": "2026-12-21", "room": {"features": ["video"]},
             "limit": 200}
        before = self.search(q)["slots"]
        self.assertEqual(len(before), 24)  # 12 + 12 starts of 45 min at step 15
        slot = before[5]
        self.assertEqual(slot["booking"]["room"], self.room)
        body = dict(slot["booking"])
        body.update({"title": "约见", "attendees": [{"person": self.a}, {"person": self.b},
                                                     {"person": self.c, "optional": True}]})
        r = self.srv.post("/api/v1/events", body)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["start_utc"], slot["start_utc"])
        self.assertEqual(r.body["end_utc"], slot["end_utc"])
        self.assertEqual(r.body["room"], self.room)
        after = self.search(q)["slots"]
        starts = [s["start"] for s in after]
        self.assertNotIn(slot["start"], starts)
        # Gone: every start overlapping the meeting (the people), or whose room hold
        # (15 min setup, 10 min teardown) overlaps the meeting's; the rest stay.
        booked_s = datetime.datetime.fromisoformat(slot["start"])
        booked_e = datetime.datetime.fromisoformat(slot["end"])
        setup, teardown = datetime.timedelta(minutes=15), datetime.timedelta(minutes=10)
        for s in before:
            start = datetime.datetime.fromisoformat(s["start"])
            end = datetime.datetime.fromisoformat(s["end"])
            people_clash = start < booked_e and booked_s < end
            room_clash = start - setup < booked_e + teardown and booked_s - setup < end + teardown
            self.assertEqual(s["start"] in starts, not (people_clash or room_clash), s["start"])
        self.assertIn("2026-12-21T08:30:00", starts)
        self.assertNotIn("2026-12-21T08:45:00", starts)  # its teardown meets the setup
        self.assertIn("2026-12-21T11:00:00", starts)
        # The same booking again clashes.
        r = self.srv.post("/api/v1/events", body)
        self.assertEqual(r.status, 409, r)
        # Freebusy shows it: the people for the meeting, the room with its buffers.
        r = self.srv.get("/api/v1/freebusy?people=%s&rooms=%s&from=2026-12-21&to=2026-12-21"
                         % (self.a, self.room))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["calendars"]["people"][self.a]["busy"],
                         [{"start": slot["start"], "end": slot["end"],
                           "start_utc": slot["start_utc"], "end_utc": slot["end_utc"]}])
        room_busy = r.body["calendars"]["rooms"][self.room]["busy"]
        self.assertEqual(len(room_busy), 1)
        self.assertEqual(room_busy[0]["start"], local_str(booked_s - setup))
        self.assertEqual(room_busy[0]["end"], local_str(booked_e + teardown))

    def test_confidential_is_plain_busy(self):
        r = self.srv.post("/api/v1/events", {
            "title": "人事调整", "start": "2026-12-22T09:00:00", "end": "2026-12-22T10:00:00",
            "tz": OFFICE_TZ, "attendees": [{"person": self.c}], "confidential": True})
        self.assertEqual(r.status, 201, r)
        r = self.srv.get("/api/v1/freebusy?people=%s&from=2026-12-22&to=2026-12-22" % self.c)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["calendars"]["people"][self.c]["busy"],
                         [{"start": "2026-12-22T09:00:00", "end": "2026-12-22T10:00:00",
                           "start_utc": "2026-12-22T01:00:00Z",
                           "end_utc": "2026-12-22T02:00:00Z"}])
        self.assertNotIn("人事调整", r.raw.decode("utf-8"))

    def test_dst_in_a_visitors_zone(self):
        tz = "America/New_York"
        person = self.srv.create("people", {"name": "Visitor", "role": "staff"})["id"]
        model = Model()
        # A meeting soon after the gap, in the visitor's zone.
        r = self.srv.post("/api/v1/events", {
            "title": "call", "start": "2026-03-08T05:00:00", "end": "2026-03-08T06:00:00",
            "tz": tz, "attendees": [{"person": person}]})
        self.assertEqual(r.status, 201, r)
        s = to_utc_min(datetime.datetime(2026, 3, 8, 5, 0), tz)
        model.add(("person", person), s, s + 60)
        for dur in (60, 90, 30):
            q = {"people": [person], "duration_minutes": dur, "from": "2026-03-07",
                 "to": "2026-03-09", "tz": tz, "working_hours": False, "step_minutes": 30,
                 "limit": 200}
            got = self.search(q)["slots"]
            expected = model_search(model, [], q)
            self.assertLess(len(expected), 200)
            check_slots(self, got, expected, q, "DST %d" % dur)
            starts = set()
            for slot in got:
                start = datetime.datetime.fromisoformat(slot["start"])
                self.assertTrue(exists(start, tz), slot)  # never 02:00-02:59 on 03-08
                self.assertFalse(start.date() == datetime.date(2026, 3, 8) and start.hour == 2)
                self.assertEqual(parse_utc(slot["end_utc"]) - parse_utc(slot["start_utc"]), dur)
                self.assertEqual(slot["start_utc"], utc_str(to_utc_min(start, tz)))
                starts.add(slot["start"])
            self.assertIn("2026-03-08T01:30:00", starts)
            self.assertIn("2026-03-08T03:00:00", starts)
            self.assertNotIn("2026-03-08T05:00:00", starts)
            self.assertNotIn("2026-03-08T02:00:00", starts)
            self.assertNotIn("2026-03-08T02:30:00", starts)
        # The slot across the gap: 01:30 EST + 60 min = 03:30 EDT, one hour in UTC.
        q = {"people": [person], "duration_minutes": 60, "from": "2026-03-08",
             "to": "2026-03-08", "tz": tz, "working_hours": False, "step_minutes": 30,
             "limit": 200}
        slot = next(x for x in self.search(q)["slots"] if x["start"] == "2026-03-08T01:30:00")
        self.assertEqual(slot["end"], "2026-03-08T03:30:00")
        self.assertEqual((slot["start_utc"], slot["end_utc"]),
                         ("2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z"))
        body = dict(slot["booking"], title="across the gap", attendees=[{"person": person}])
        r = self.srv.post("/api/v1/events", body)
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.body["start_utc"], r.body["end_utc"]),
                         ("2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z"))
        model.add(("person", person), parse_utc(slot["start_utc"]), parse_utc(slot["end_utc"]))
        got = self.search(q)["slots"]
        check_slots(self, got, model_search(model, [], q), q, "booked")
        starts = [x["start"] for x in got]
        self.assertNotIn("2026-03-08T01:30:00", starts)
        self.assertNotIn("2026-03-08T01:00:00", starts)  # 06:00Z-07:00Z
        self.assertNotIn("2026-03-08T03:00:00", starts)  # 07:00Z-08:00Z
        self.assertIn("2026-03-08T00:30:00", starts)     # ends 06:30Z
        self.assertIn("2026-03-08T03:30:00", starts)     # starts 07:30Z

    def test_dst_fall_back_durations_exact(self):
        """Across the repeated hour (2026-11-01 in New York) every slot lasts its duration."""
        tz = "America/New_York"
        person = self.srv.create("people", {"name": "Late", "role": "staff"})["id"]
        for dur in (30, 60, 90):
            got = self.search({"people": [person], "duration_minutes": dur,
                               "from": "2026-10-31", "to": "2026-11-01", "tz": tz,
                               "working_hours": False, "step_minutes": 30,
                               "limit": 200})["slots"]
            utc = [parse_utc(s["start_utc"]) for s in got]
            self.assertEqual(utc, sorted(set(utc)))  # earliest first, no repeats
            for slot in got:
                start = parse_utc(slot["start_utc"])
                self.assertEqual(parse_utc(slot["end_utc"]) - start, dur, slot)
                self.assertEqual(slot["start"], local_str(from_utc_min(start, tz)), slot)
                self.assertEqual(slot["end"], local_str(from_utc_min(start + dur, tz)), slot)
                self.assertIn(slot["start"][14:16], ("00", "30"))

    def test_visitor_zone_keeps_the_office_hours(self):
        """Working hours are the office's (--tz): a New York visitor sees Beijing's."""
        person = self.srv.create("people", {"name": "Guest", "role": "staff"})["id"]
        q = {"people": [person], "duration_minutes": 60, "from": "2026-10-08",
             "to": "2026-10-12", "tz": "America/New_York", "limit": 200}
        got = self.search(q)["slots"]
        expected = model_search(Model(), [], q)
        self.assertTrue(expected)
        check_slots(self, got, expected, q, "visitor")
        for slot in got:
            office = from_utc_min(parse_utc(slot["start_utc"]), OFFICE_TZ)
            office_end = from_utc_min(parse_utc(slot["end_utc"]), OFFICE_TZ)
            self.assertTrue(is_working(office.date()), slot)
            minute = office.hour * 60 + office.minute
            end_minute = office_end.hour * 60 + office_end.minute
            self.assertTrue(any(p0 <= minute and end_minute <= p1 for p0, p1 in PERIODS), slot)
        # Beijing's make-up Saturday 10-10 is offered; its Sunday 10-11 is not.
        office_days = {from_utc_min(parse_utc(s["start_utc"]), OFFICE_TZ).date() for s in got}
        self.assertIn(datetime.date(2026, 10, 10), office_days)
        self.assertNotIn(datetime.date(2026, 10, 11), office_days)


if __name__ == "__main__":
    unittest.main(verbosity=2)
