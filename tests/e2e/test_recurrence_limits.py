"""Recurrence limits and bookings beyond a series' stored window (issue 12, CONTRACT section 4).

1. Refused recurrence: FREQ finer than DAILY, BYHOUR/BYMINUTE/BYSECOND, a rule no date ever
   matches, a bounded rule with more than 1,000 occurrences (or reaching more than 100 years):
   422 within 1 s each, while /healthz keeps answering; a title-only PATCH of a stored event
   whose rule is costly answers within 1 s. Legitimate rare rules (29 February) still work.
2. No booking overlaps another however far ahead: a one-off placed on an occurrence of a
   weekly series that lies past the series' stored window (now + 2 years) clashes, for the
   room (with its buffers), a person, a vehicle and a driver; a bounded series reaching past
   its own window clashes with a one-off booked there.
3. Moving a series' window never stores a clash: the occurrence that would land on a booking
   made beyond the series' span is left out (an EXDATE), recorded in the history
   (occurrences_skipped), announced as event.updated and logged. The window job is made to
   run as if 30 days had passed with CONVENE_TEST_HORIZON_SKEW_DAYS (a test-only hook).
"""

import datetime
import json
import os
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Server, wait_until  # noqa: E402

TZ = "Asia/Shanghai"
ANSWER_WITHIN = 1.0
ALL_HOURS = ",".join(str(h) for h in range(24))
# The rules: never occur, and walk hour by hour (8.8 s and 15.6 s on the loop thread).
WORST = [
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=" + ALL_HOURS,
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=%s;BYMINUTE=0,30" % ALL_HOURS,
]

# (rule, code): each refused with 422 and field "rrule".
REFUSED = [
    (WORST[0], "rrule_refused"),
    (WORST[1], "rrule_refused"),
    ("FREQ=DAILY;COUNT=6;BYHOUR=9,10,11", "rrule_refused"),   # hourly in disguise
    ("FREQ=WEEKLY;BYDAY=MO;BYMINUTE=0,15", "rrule_refused"),
    ("FREQ=DAILY;BYSECOND=0,30", "rrule_refused"),
    ("FREQ=HOURLY;COUNT=3", "rrule_refused"),
    ("FREQ=MINUTELY;COUNT=3", "rrule_refused"),
    ("FREQ=SECONDLY;COUNT=3", "rrule_refused"),
    # No date ever matches.
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "rrule_refused"),
    ("FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31", "rrule_refused"),
    ("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=-30", "rrule_refused"),
    ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", "rrule_refused"),
    ("FREQ=MONTHLY;BYDAY=6MO", "rrule_refused"),
    ("FREQ=YEARLY;BYDAY=53MO;BYMONTH=1", "rrule_refused"),
    ("FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", "rrule_refused"),  # from 2026: never a leap year
    # Bounded with more than 1,000 occurrences, or reaching more than 100 years.
    ("FREQ=DAILY;COUNT=1001", "rrule_refused"),
    ("FREQ=WEEKLY;UNTIL=20500101T000000Z", "rrule_refused"),
    ("FREQ=DAILY;COUNT=1000;BYMONTH=2;BYMONTHDAY=29", "rrule_refused"),
    # A numbered BYDAY only means something monthly or yearly (RFC 5545).
    ("FREQ=DAILY;BYDAY=1MO", "invalid"),
    ("FREQ=WEEKLY;BYDAY=2TU", "invalid"),
]


def monday_on_or_after(day):
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7)


def at(day, hhmm):
    return "%sT%s:00" % (day.isoformat(), hhmm)


class RecurrenceLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(start=True)
        cls.api = cls.srv
        cls.seq = 0

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def ok(self, res, status, what):
        self.assertEqual(res.status, status, "%s: %r" % (what, res))
        return res.json

    def make(self, kind, **body):
        type(self).seq += 1
        body.setdefault("name", "%s %d" % (kind, self.seq))
        return self.ok(self.api.post("/api/v1/" + kind, body), 201, kind)["id"]

    def event(self, start, end, **extra):
        type(self).seq += 1
        body = {"title": "meeting %d" % self.seq, "start": start, "end": end, "tz": TZ}
        body.update(extra)
        return body

    def timed_post(self, client, body):
        t0 = time.monotonic()
        res = client.post("/api/v1/events", body)
        return res, time.monotonic() - t0

    # ---------------- 1. refused rules, answered fast ----------------

    def test_refused_rules_answer_within_a_second(self):
        room = self.make("rooms", capacity=10)
        start = "2026-12-07T09:00:00"
        for rule, code in REFUSED:
            with self.subTest(rule=rule):
                res, took = self.timed_post(self.api, self.event(start, "2026-12-07T10:00:00",
                                                                 room=room, rrule=rule))
                self.assertEqual((res.status, res.code, res.field), (422, code, "rrule"),
                                 repr(res))
                self.assertLess(took, ANSWER_WITHIN, "%s took %.2f s" % (rule, took))
        # Nothing of them was booked.
        self.assertEqual(self.srv.sql("SELECT count(*) FROM occupancy WHERE resource_id = ?",
                                      (room,)), [(0,)])

    def test_rare_but_real_rules_still_work(self):
        room = self.make("rooms", capacity=10)
        cases = [
            # every 29 February: the next one 4 years out still makes a series (DTSTART counts)
            ("2028-03-01", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", []),
            ("2027-03-01", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", ["2028-02-29"]),
            ("2026-12-07", "FREQ=YEARLY;COUNT=2", ["2027-12-07"]),
            ("2026-12-25", "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3", ["2027-01-29", "2027-02-26"]),
            ("2026-12-01", "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1;COUNT=2", ["2026-12-28"]),
            ("2026-12-04", "FREQ=YEARLY;BYWEEKNO=53;BYDAY=FR;COUNT=2", ["2027-01-01"]),
        ]
        for i, (day, rule, later) in enumerate(cases):
            with self.subTest(rule=rule, start=day):
                d = datetime.date.fromisoformat(day)
                hh = "%02d" % (8 + i)
                body = self.event(at(d, hh + ":00"), at(d, hh + ":30"), room=room, rrule=rule)
                res, took = self.timed_post(self.api, body)
                self.assertEqual(res.status, 201, repr(res))
                self.assertLess(took, ANSWER_WITHIN)
                mine = [s[:10] for (s,) in self.srv.sql(
                    "SELECT start_local FROM occurrences WHERE event_id = ? ORDER BY start_utc",
                    (res.json["id"],))]
                self.assertEqual(mine, [day] + later)

    def test_healthz_answers_while_the_worst_rules_are_refused(self):
        room = self.make("rooms", capacity=10)
        stop = threading.Event()
        results = []

        def hammer():
            client = self.srv.client(self.srv.admin_token)
            try:
                while not stop.is_set():
                    for rule in WORST:
                        results.append(self.timed_post(client, self.event(
                            "2026-12-07T09:00:00", "2026-12-07T10:00:00", room=room,
                            rrule=rule)))
            finally:
                client.close()

        t = threading.Thread(target=hammer)
        t.start()
        worst = 0.0
        probes = 0
        try:
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                health = self.srv.client(None)
                t0 = time.monotonic()
                res = health.get("/healthz")
                took = time.monotonic() - t0
                health.close()
                self.assertEqual(res.status, 200, repr(res))
                worst = max(worst, took)
                probes += 1
                time.sleep(0.02)
        finally:
            stop.set()
            t.join(30)
        self.assertLess(worst, ANSWER_WITHIN, "/healthz took %.2f s meanwhile" % worst)
        self.assertGreater(probes, 10)
        self.assertTrue(results, "the worst rules were never sent")
        for res, took in results:
            self.assertEqual((res.status, res.code), (422, "rrule_refused"), repr(res))
            self.assertLess(took, ANSWER_WITHIN)

    def test_title_patch_of_a_stored_costly_series_answers_fast(self):
        room = self.make("rooms", capacity=10)
        ok = self.ok(self.api.post("/api/v1/events", self.event(
            "2026-12-07T09:00:00", "2026-12-07T10:00:00", room=room,
            rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=20")), 201, "series")
        legacy = self.ok(self.api.post("/api/v1/events", self.event(
            "2026-12-08T09:00:00", "2026-12-08T10:00:00", room=room,
            rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=20")), 201, "series")
        # A series stored before the rule was refused (written to the database directly).
        self.srv.stop()
        con = sqlite3.connect(self.srv.db)
        with con:
            con.execute("UPDATE events SET doc = json_set(doc, '$.rrule', ?) WHERE id = ?",
                        (WORST[1], legacy["id"]))
        con.close()
        self.srv.start()
        t0 = time.monotonic()
        res = self.api.patch("/api/v1/events/" + legacy["id"], {"title": "renamed"})
        took = time.monotonic() - t0
        self.assertEqual((res.status, res.code, res.field), (422, "rrule_refused", "rrule"),
                         repr(res))
        self.assertLess(took, ANSWER_WITHIN, "PATCH took %.2f s" % took)
        t0 = time.monotonic()
        res = self.api.patch("/api/v1/events/" + ok["id"], {"title": "renamed"})
        self.assertEqual(res.status, 200, repr(res))
        self.assertLess(time.monotonic() - t0, ANSWER_WITHIN)


    def test_a_standing_meeting_is_counted_from_today(self):
        """An unbounded rule is never refused for its count ahead (CONTRACT section 4 refuses
        only a bounded one): a daily 早班会 that started 300 days ago is booked and edited (it
        has 1,031 occurrences up to 2 years ahead, which counted together were refused); its
        past has a cap of its own, 1,000 occurrences, said in words; a bounded rule is counted
        whole, as before."""
        today = datetime.date.today()

        def daily(days_ago, **extra):
            d = (today - datetime.timedelta(days=days_ago)).isoformat()
            return self.event(d + "T07:30:00", d + "T07:45:00", rrule="FREQ=DAILY", **extra)

        room = self.make("rooms", capacity=10)
        res, took = self.timed_post(self.api, daily(300, room=room))
        made = self.ok(res, 201, "a daily series started 300 days ago")
        self.assertLess(took, ANSWER_WITHIN)
        stored = self.srv.sql("SELECT count(*) FROM occurrences WHERE event_id = ?",
                              (made["id"],))[0][0]
        self.assertGreater(stored, 1000)  # the past 300 days and the next 2 years
        t0 = time.monotonic()
        res = self.api.request("PATCH", "/api/v1/events/" + made["id"], {"title": "早班会（改）"},
                               headers={"If-Match": '"%d"' % made["version"]})
        self.assertEqual((res.status, res.json["title"]), (200, "早班会（改）"), repr(res))
        self.assertLess(time.monotonic() - t0, ANSWER_WITHIN)
        # More than 1,000 mornings behind: refused, saying what to do.
        res = self.api.post("/api/v1/events", daily(1100))
        self.assertEqual((res.status, res.code, res.field), (422, "series_too_old", "rrule"),
                         repr(res))
        self.assertIn("before today", res.json["error"]["message"])
        # A bounded rule counts all of its occurrences, past ones included.
        start = (today - datetime.timedelta(days=300)).isoformat()
        res = self.api.post("/api/v1/events", self.event(
            start + "T07:30:00", start + "T07:45:00", rrule="FREQ=DAILY;COUNT=1001"))
        self.assertEqual((res.status, res.code), (422, "rrule_refused"), repr(res))


class BeyondTheWindow(unittest.TestCase):
    """A weekly series' Monday 09:00-10:00 occurrences, far past its stored window."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(start=True)
        cls.api = cls.srv
        cls.today = datetime.date.today()
        cls.first = monday_on_or_after(cls.today + datetime.timedelta(days=1))
        # Past every stored window (now + 731 days) but inside the new bookings' own span.
        cls.far = monday_on_or_after(cls.today + datetime.timedelta(days=760))

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def ok(self, res, status, what):
        self.assertEqual(res.status, status, "%s: %r" % (what, res))
        return res.json

    def make(self, kind, **body):
        body.setdefault("name", "%s %s" % (kind, time.monotonic_ns()))
        return self.ok(self.api.post("/api/v1/" + kind, body), 201, kind)["id"]

    def series(self, **extra):
        body = {"title": "周例会", "start": at(self.first, "09:00"), "end": at(self.first, "10:00"),
                "tz": TZ, "rrule": "FREQ=WEEKLY;BYDAY=MO"}
        body.update(extra)
        return self.ok(self.api.post("/api/v1/events", body), 201, "series")

    def one_off(self, start, end, **extra):
        body = {"title": "one-off", "start": at(self.far, start), "end": at(self.far, end),
                "tz": TZ}
        body.update(extra)
        return self.api.post("/api/v1/events", body)

    def clash(self, res, resource, start, series, role=None):
        self.assertEqual((res.status, res.code), (409, "conflict"), repr(res))
        conflicts = res.json["error"]["conflicts"]
        self.assertEqual(len(conflicts), 1, conflicts)
        c = conflicts[0]
        self.assertEqual(c["resource"], resource)
        self.assertEqual(c["start"], at(self.far, start))
        self.assertEqual(c["other_start"], at(self.far, "09:00"))
        self.assertEqual(c["event"], series["id"])
        self.assertEqual(c["title"], "周例会")
        if role:
            self.assertEqual(c["role"], role)

    def test_one_off_on_an_unstored_occurrence_clashes_for_every_resource(self):
        room = self.make("rooms", capacity=10, setup_minutes=10, teardown_minutes=10)
        person, driver, driver2 = (self.make("people", role=r) for r in ("staff", "driver", "driver"))
        car, car2 = self.make("vehicles", seats=4), self.make("vehicles", seats=4)
        trip = {"vehicle": car, "driver": driver, "depart": at(self.first, "08:20"),
                "return": at(self.first, "11:30")}
        s = self.series(room=room, attendees=[{"person": person}], trips=[trip])
        until = self.srv.sql("SELECT expanded_until FROM events WHERE id = ?", (s["id"],))[0][0]
        far_utc = datetime.datetime.combine(self.far, datetime.time(1, 0),
                                            datetime.timezone.utc).timestamp()
        self.assertLess(until, far_utc, "the test's Monday must lie past the stored window")
        self.assertEqual(self.srv.sql("SELECT count(*) FROM occurrences WHERE event_id = ? "
                                      "AND start_utc >= ?", (s["id"], until))[0][0], 0)

        # The room, through its buffers: 10:00 + 10 min teardown meets 10:15 - 10 min setup.
        self.clash(self.one_off("10:15", "10:45", room=room),
                   {"type": "room", "id": room}, "10:15", s, "room")
        self.clash(self.one_off("09:30", "10:30", attendees=[{"person": person}]),
                   {"type": "person", "id": person}, "09:30", s, "attendee")
        self.clash(self.one_off("11:00", "12:00", trips=[{
            "vehicle": car, "driver": driver2, "depart": at(self.far, "11:00"),
            "return": at(self.far, "12:00")}]), {"type": "vehicle", "id": car}, "11:00", s,
            "vehicle")
        self.clash(self.one_off("07:00", "08:00", trips=[{
            "vehicle": car2, "driver": driver, "depart": at(self.far, "07:00"),
            "return": at(self.far, "08:30")}]), {"type": "person", "id": driver}, "07:00", s,
            "driver")
        # Clear of every hold (10:00 + 10 + 10 = 10:20; the trip ends 11:30): booked.
        self.ok(self.one_off("10:20", "10:50", room=room), 201, "after the buffers")
        self.ok(self.one_off("14:00", "15:00", room=room, attendees=[{"person": person}],
                             trips=[{"vehicle": car, "driver": driver,
                                     "depart": at(self.far, "13:30"),
                                     "return": at(self.far, "15:30")}]), 201, "afternoon")

    def test_preempting_an_unstored_occurrence_takes_the_room(self):
        room = self.make("rooms", capacity=10)
        low = self.make("people", role="staff", rank=50)
        high = self.make("people", role="leader", rank=1)
        s = self.series(room=room, attendees=[{"person": low}])
        res = self.one_off("09:00", "10:00", room=room, attendees=[{"person": high}],
                           preempt=True)
        self.assertEqual(res.status, 201, repr(res))
        got = self.ok(self.api.get("/api/v1/events/" + s["id"]), 200, "series")
        self.assertIsNone(got.get("room"))
        self.assertEqual(got["needs"], ["room"])

    def test_a_series_starting_past_the_window_is_booked_and_checked(self):
        room = self.make("rooms", capacity=10)
        start = self.far + datetime.timedelta(days=14)
        body = {"title": "远期例会", "start": at(start, "09:00"), "end": at(start, "10:00"),
                "tz": TZ, "room": room, "rrule": "FREQ=WEEKLY;BYDAY=MO"}
        s = self.ok(self.api.post("/api/v1/events", body), 201, "series")
        # Nothing stored yet, but its occurrences hold the room ...
        clash = self.api.post("/api/v1/events", dict(body, rrule=None, title="x",
                                                     start=at(start + datetime.timedelta(days=7), "09:30"),
                                                     end=at(start + datetime.timedelta(days=7), "10:30")))
        self.assertEqual((clash.status, clash.code), (409, "conflict"), repr(clash))
        self.assertEqual(clash.json["error"]["conflicts"][0]["event"], s["id"])
        # ... and the room cannot be deleted from under them.
        res = self.api.delete("/api/v1/rooms/" + room)
        self.assertEqual((res.status, res.code), (409, "in_use"), repr(res))

    def test_bounded_series_reaching_past_its_window_clashes_with_a_stored_one_off(self):
        room = self.make("rooms", capacity=10)
        other = self.ok(self.one_off("15:00", "16:00", room=room), 201, "one-off")
        weeks = (self.far - self.first).days // 7 + 3
        body = {"title": "双周会", "start": at(self.first, "15:30"),
                "end": at(self.first, "16:30"), "tz": TZ, "room": room,
                "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=%d" % weeks}
        res = self.api.post("/api/v1/events", body)
        self.assertEqual((res.status, res.code), (409, "conflict"), repr(res))
        c = res.json["error"]["conflicts"]
        self.assertEqual([(x["start"], x["other_start"], x["event"]) for x in c],
                         [(at(self.far, "15:30"), at(self.far, "15:00"), other["id"])])
        # The same series an hour later fits; what is past its window is not stored yet.
        body.update(start=at(self.first, "16:00"), end=at(self.first, "17:00"))
        s = self.ok(self.api.post("/api/v1/events", body), 201, "series")
        stored = self.srv.sql("SELECT count(*) FROM occurrences WHERE event_id = ?", (s["id"],))
        self.assertLess(stored[0][0], weeks)


class WindowExtension(unittest.TestCase):
    def test_moving_the_window_never_books_a_clash(self):
        today = datetime.date.today()
        first = monday_on_or_after(today + datetime.timedelta(days=1))
        # Past the new series' span (its start + 731 days) but within 30 more days.
        later = monday_on_or_after(today + datetime.timedelta(days=742))
        with Server(start=True) as srv:
            api = srv
            room = api.post("/api/v1/rooms", {"name": "第一会议室", "capacity": 10}).json["id"]
            person = api.post("/api/v1/people", {"name": "王处长", "role": "staff"}).json["id"]
            one_off = api.post("/api/v1/events", {
                "title": "专题会", "start": at(later, "09:30"), "end": at(later, "10:30"),
                "tz": TZ, "room": room})
            self.assertEqual(one_off.status, 201, repr(one_off))
            series = api.post("/api/v1/events", {
                "title": "周例会", "start": at(first, "09:00"), "end": at(first, "10:00"),
                "tz": TZ, "room": room, "attendees": [{"person": person}],
                "rrule": "FREQ=WEEKLY;BYDAY=MO"})
            self.assertEqual(series.status, 201, repr(series))
            sid, before = series.json["id"], series.json

            srv.restart(env={"CONVENE_TEST_HORIZON_SKEW_DAYS": "30"})
            api = srv
            # The window job runs at start: wait for the series' window to move.
            wait_until(lambda: srv.sql("SELECT expanded_until FROM events WHERE id = ?",
                                       (sid,))[0][0] > time.time() + 755 * 86400, 10,
                       "the window to move")

            def starts(day):
                occ = api.get("/api/v1/occurrences?from=%s&to=%s&room=%s"
                              % (day, day + datetime.timedelta(days=1), room)).json
                return [(o["event"], o["start"]) for o in occ]

            # The one-off keeps its room; the series' occurrence that week is left out ...
            self.assertEqual(starts(later), [(one_off.json["id"], at(later, "09:30"))])
            # ... and the weeks around it entered the window.
            week_after = later + datetime.timedelta(days=7)
            self.assertEqual(starts(week_after), [(sid, at(week_after, "09:00"))])
            self.assertEqual(srv.sql(
                "SELECT count(*) FROM occupancy o JOIN occupancy p ON o.resource_id = p.resource_id "
                "AND o.event_id != p.event_id AND o.start_utc < p.end_utc "
                "AND p.start_utc < o.end_utc WHERE o.resource_type = 'room' "
                "AND o.resource_id = ?", (room,))[0][0], 0, "double booking stored")

            after = api.get("/api/v1/events/" + sid).json
            self.assertIn(at(later, "09:00"), after["exdates"])
            self.assertEqual(after["sequence"], before["sequence"] + 1)
            history = api.get("/api/v1/events/%s/history" % sid).json
            last = history[-1]
            self.assertEqual(last["action"], "occurrences_skipped")
            skipped = last["after"]["skipped"]
            self.assertEqual([s["recurrence_id"] for s in skipped], [at(later, "09:00")])
            self.assertEqual(skipped[0]["conflicts"][0]["event"], one_off.json["id"])
            self.assertEqual(skipped[0]["conflicts"][0]["resource"], {"type": "room", "id": room})
            updates = [json.loads(p) for (p,) in srv.sql(
                "SELECT payload FROM outbox WHERE type = 'event.updated' ORDER BY seq")]
            mine = [u for u in updates if u["event"]["id"] == sid]
            self.assertEqual(len(mine), 1, updates)
            self.assertEqual(mine[0]["skipped"][0]["recurrence_id"], at(later, "09:00"))
            self.assertIn("exdates", mine[0]["changes"])
            srv.wait_for_log("horizon: series %s: occurrence %s not booked: room %s is taken"
                             % (sid, at(later, "09:00"), room), timeout=5)

            # A second pass finds nothing new to skip: still one history entry of the kind.
            srv.restart(env={"CONVENE_TEST_HORIZON_SKEW_DAYS": "31"})
            api = srv
            wait_until(lambda: srv.sql("SELECT expanded_until FROM events WHERE id = ?",
                                       (sid,))[0][0] > time.time() + 760 * 86400, 10,
                       "the window to move again")
            history = api.get("/api/v1/events/%s/history" % sid).json
            self.assertEqual([h["action"] for h in history].count("occurrences_skipped"), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
