#!/usr/bin/env python3
"""Who sees what of a confidential meeting, on every read path (CONTRACT section 15).

One confidential meeting with a trip (a leader attends and rides, a driver drives, a car) and
an open control meeting of the same shape, read through every path by each role:

| path | admin, secretary | leader attending | leader not attending | driver of its trip |
| --- | --- | --- | --- | --- |
| GET /events/{id} | full | full | 403 | its times and their trip only |
| GET /events/{id}/history | before/after | 403 | 403 | 403 |
| GET /occurrences (own calendar) | full | full | absent | busy (忙碌) |
| GET /trips | title, passengers | - | - | neither |
| feeds | - | full | absent | the trip: place and time only |
| room and vehicle feeds | busy | | | |
| webhooks (person filter) | full (no filter) | full | nothing | the trip only |
| 409 conflict bodies | title null | | | |
| freebusy, availability | times only | | | |

The open meeting is seen in full by everyone it concerns (the control: a check that passes for
it and fails for the confidential one is about confidentiality, not about the path).
"Secret" is the title, description, location, and the attendee (also as passenger).

Run: python3 tests/e2e/test_visibility.py   (CONVENE_BIN=build/convene)
"""

import json
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server  # noqa: E402
from webhook_receiver import Receiver  # noqa: E402

DAY = "2027-03-10"  # a Wednesday, a working day, far enough ahead for trips to be dispatched
TZ = "Asia/Shanghai"
TITLE, DESC, PLACE = "绝密-干部任免酝酿", "绝密-议程说明", "绝密-八号楼保密室"
OPEN_TITLE = "公开-市政府常务会议"
BUSY = "忙碌"


def at(hhmm):
    return "%sT%s:00" % (DAY, hhmm)


class Visibility(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rx = Receiver().start()
        cls.srv = s = Server(start=True)
        cls.lead = s.create("people", {"name": "赵秘密", "role": "leader", "rank": 1})["id"]
        cls.other = s.create("people", {"name": "钱旁观", "role": "leader", "rank": 2})["id"]
        cls.driver = s.create("people", {"name": "孙师傅", "role": "driver"})["id"]
        cls.approver = s.create("people", {"name": "李主任", "role": "staff"})["id"]
        cls.room = s.create("rooms", {"name": "第三会议室", "capacity": 10})
        cls.car = s.create("vehicles", {"name": "考斯特", "plate": "京A·12345", "seats": 7})
        cls.hooks = {}
        for name, person in (("all", None), ("lead", cls.lead), ("other", cls.other),
                             ("driver", cls.driver)):
            body = {"url": cls.rx.url("/" + name), "events": ["event.*", "dispatch.*"]}
            if person:
                body["person"] = person
            cls.hooks[name] = s.create("webhooks", body)
        cls.secret = cls.meeting(TITLE, True, "09:00", "10:00", description=DESC, location=PLACE)
        cls.open = cls.meeting(OPEN_TITLE, False, "14:00", "15:00",
                               description="公开议程", location="市政府")
        cls.tokens = {"admin": None, "secretary": s.create_token("secretary")[1],
                      "lead": s.create_token("leader", person=cls.lead)[1],
                      "other": s.create_token("leader", person=cls.other)[1],
                      "driver": s.create_token("driver", person=cls.driver)[1]}

    @classmethod
    def meeting(cls, title, confidential, start, end, **more):
        body = {"title": title, "start": at(start), "end": at(end), "tz": TZ,
                "attendees": [{"person": cls.lead}], "room": cls.room["id"],
                "confidential": confidential, "reminders": [30],
                "trips": [{"vehicle": cls.car["id"], "driver": cls.driver,
                           "depart": at("%02d:%s" % (int(start[:2]) - 1, start[3:])),
                           "return": at("%02d:%s" % (int(end[:2]) + 1, end[3:])),
                           "from": "机关大院", "to": "市委", "passengers": [cls.lead],
                           "approved_by": cls.approver}]}
        body.update(more)
        return cls.srv.create("events", body)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        cls.rx.close()

    # ---- helpers ----

    def as_(self, who, method, path, body=None):
        token = self.tokens[who]
        if token is None:
            return self.srv.request(method, path, body)
        return self.srv.request(method, path, body, token=token)

    def assert_no_secret(self, value, where, attendee=True):
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        secrets = [TITLE, DESC, PLACE] + ([self.lead, "赵秘密"] if attendee else [])
        for secret in secrets:
            self.assertNotIn(secret, text, "%s leaks %r" % (where, secret))

    def feed_of(self, kind, rid):
        plural = {"person": "people", "room": "rooms", "vehicle": "vehicles"}[kind]
        rec = self.srv.get("/api/v1/%s/%s" % (plural, rid)).body
        r = self.srv.get(urllib.parse.urlsplit(rec["feed_url"]).path, token=None)
        self.assertEqual(r.status, 200, r)
        return r.body.replace("\r\n ", "")  # unfolded

    # ---- GET /events/{id} ----

    def test_event_office_and_attendee_see_all(self):
        for who in ("admin", "secretary", "lead"):
            for ev, title in ((self.secret, TITLE), (self.open, OPEN_TITLE)):
                r = self.as_(who, "GET", "/api/v1/events/" + ev["id"])
                self.assertEqual(r.status, 200, (who, r))
                self.assertEqual(r.body["title"], title, who)
                self.assertEqual([a["person"] for a in r.body["attendees"]], [self.lead], who)
                self.assertEqual(r.body["trips"][0]["passengers"], [self.lead], who)
                self.assertNotIn("visibility", r.body)

    def test_event_driver_sees_the_trip_only(self):
        r = self.as_("driver", "GET", "/api/v1/events/" + self.secret["id"])
        self.assertEqual(r.status, 200, r)
        ev = r.body
        self.assert_no_secret(ev, "GET /events as the driver")
        self.assertEqual((ev["id"], ev["title"], ev["visibility"], ev["confidential"]),
                         (self.secret["id"], None, "trip", True))
        self.assertEqual((ev["start"], ev["end"], ev["tz"]), (at("09:00"), at("10:00"), TZ))
        for hidden in ("description", "location", "attendees", "room", "meals", "reminders",
                       "guests"):
            self.assertNotIn(hidden, ev)
        [trip] = ev["trips"]
        self.assertEqual((trip["driver"], trip["vehicle"], trip["from"], trip["to"],
                          trip["depart"]),
                         (self.driver, self.car["id"], "机关大院", "市委", at("08:00")))
        self.assertNotIn("passengers", trip)
        self.assertEqual(r.header("ETag"), '"%d"' % self.secret["version"])
        # The open meeting: the driver sees it all.
        r = self.as_("driver", "GET", "/api/v1/events/" + self.open["id"])
        self.assertEqual((r.status, r.body["title"], r.body["location"]), (200, OPEN_TITLE, "市政府"))
        self.assertEqual(r.body["trips"][0]["passengers"], [self.lead])

    def test_event_leader_not_attending_is_refused(self):
        for ev in (self.secret, self.open):
            r = self.as_("other", "GET", "/api/v1/events/" + ev["id"])
            self.assertEqual((r.status, r.code), (403, "forbidden"), r)
            self.assert_no_secret(r.body, "403 body")

    # ---- history ----

    def test_history(self):
        for who in ("admin", "secretary"):
            r = self.as_(who, "GET", "/api/v1/events/%s/history" % self.secret["id"])
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body[0]["after"]["title"], TITLE)
        for who in ("lead", "other", "driver"):
            r = self.as_(who, "GET", "/api/v1/events/%s/history" % self.secret["id"])
            self.assertEqual(r.status, 403, (who, r))
            self.assert_no_secret(r.body, "history as " + who)

    # ---- occurrences ----

    def occurrences(self, who, query):
        r = self.as_(who, "GET", "/api/v1/occurrences?from=%s&to=%s&%s" % (DAY, DAY, query))
        self.assertEqual(r.status, 200, (who, r))
        return {i["event"]: i for i in r.body}

    def test_occurrences(self):
        for who, query in (("admin", "room=" + self.room["id"]),
                           ("secretary", "person=" + self.lead),
                           ("lead", "person=" + self.lead)):
            items = self.occurrences(who, query)
            self.assertEqual(items[self.secret["id"]]["title"], TITLE, who)
            self.assertEqual(items[self.secret["id"]]["location"], PLACE, who)
        items = self.occurrences("driver", "driver=" + self.driver)
        self.assertEqual(set(items), {self.secret["id"], self.open["id"]})
        self.assertEqual(items[self.secret["id"]]["title"], BUSY)
        self.assert_no_secret(items[self.secret["id"]], "occurrences as the driver")
        self.assertEqual(items[self.open["id"]]["title"], OPEN_TITLE)
        self.assertEqual(self.occurrences("other", "person=" + self.other), {})

    # ---- trips ----

    def trips(self, who):
        r = self.as_(who, "GET", "/api/v1/trips?date=" + DAY)
        self.assertEqual(r.status, 200, (who, r))
        return {t["event"]: t for t in r.body}

    def test_trips(self):
        for who in ("admin", "secretary"):
            trips = self.trips(who)
            self.assertEqual(trips[self.secret["id"]]["title"], TITLE, who)
            self.assertEqual(trips[self.secret["id"]]["passengers"], [self.lead], who)
        trips = self.trips("driver")
        mine = trips[self.secret["id"]]
        self.assert_no_secret(mine, "GET /trips as the driver")
        self.assertEqual((mine["title"], mine["confidential"], mine["from"], mine["to"]),
                         (None, True, "机关大院", "市委"))
        self.assertNotIn("passengers", mine)
        self.assertNotIn("passenger_names", mine)
        self.assertEqual(trips[self.open["id"]]["title"], OPEN_TITLE)
        self.assertEqual(trips[self.open["id"]]["passenger_names"], ["赵秘密"])
        # Acknowledging answers with the same view.
        r = self.as_("driver", "POST", "/api/v1/trips/%s/ack" % mine["id"])
        self.assertEqual(r.status, 200, r)
        self.assert_no_secret(r.body, "ack as the driver")

    # ---- feeds ----

    def vevents(self, text, uid):
        out, cur = [], None
        for line in text.split("\r\n"):
            if line == "BEGIN:VEVENT":
                cur = []
            elif line == "END:VEVENT" and cur is not None:
                if "UID:" + uid in cur:
                    out.append(cur)
                cur = None
            elif cur is not None:
                cur.append(line)
        return out

    def test_feeds(self):
        lead = self.feed_of("person", self.lead)
        self.assertIn("SUMMARY:" + TITLE, lead)
        self.assertIn(PLACE, lead)
        self.assertNotIn(self.secret["uid"], self.feed_of("person", self.other))
        driver = self.feed_of("person", self.driver)
        # The open meeting's trip names its passenger: the attendee only within the trip.
        self.assert_no_secret(driver, "the driver's feed", attendee=False)
        [trip] = self.vevents(driver, self.secret["trips"][0]["id"] + "@convene")
        self.assert_no_secret("\n".join(trip), "the driver's trip")
        self.assertIn("SUMMARY:用车：机关大院 → 市委", trip)
        # The trip only: route, car and plate, driver; no passengers, no meeting.
        [description] = [p for p in trip if p.startswith("DESCRIPTION")]
        self.assertIn("路线：机关大院 → 市委", description)
        self.assertIn("驾驶员：", description)
        self.assertNotIn("乘车人", description)
        self.assertNotIn("会议", description)
        [open_trip] = self.vevents(driver, self.open["trips"][0]["id"] + "@convene")
        [open_description] = [p for p in open_trip if p.startswith("DESCRIPTION")]
        self.assertIn("乘车人：赵秘密\\n会议：" + OPEN_TITLE, open_description)
        vehicle = self.feed_of("vehicle", self.car["id"])
        self.assert_no_secret(vehicle, "the vehicle feed", attendee=False)
        [trip] = self.vevents(vehicle, self.secret["trips"][0]["id"] + "@convene")
        self.assert_no_secret("\n".join(trip), "the vehicle's trip")
        room = self.feed_of("room", self.room["id"])
        self.assert_no_secret(room, "the room feed", attendee=False)
        [busy] = self.vevents(room, self.secret["uid"])
        self.assert_no_secret("\n".join(busy), "the room's busy time")
        self.assertIn("SUMMARY:" + BUSY, busy)
        self.assertIn("SUMMARY:" + OPEN_TITLE, room)

    # ---- webhooks ----

    def received(self, name, count):
        reqs = self.rx.wait_for("/" + name, count=count, timeout=10)
        return [r for r in reqs if json.dumps(r.json["data"]).find(self.secret["id"]) >= 0]

    def test_webhooks(self):
        # event.created and dispatch.assigned of each meeting.
        everything = self.received("all", 4)
        self.assertIn(TITLE, "".join(r.body.decode("utf-8") for r in everything))
        lead = self.received("lead", 2)
        self.assertIn(TITLE, "".join(r.body.decode("utf-8") for r in lead))
        driver = self.received("driver", 4)
        self.assertEqual(sorted(r.json["type"] for r in driver),
                         ["dispatch.assigned", "event.created"])
        for r in driver:
            self.assert_no_secret(r.body.decode("utf-8"), "the driver's %s" % r.json["type"])
        [created] = [r.json["data"] for r in driver if r.json["type"] == "event.created"]
        self.assertEqual(created["event"]["visibility"], "trip")
        self.assertEqual(created["event"]["trips"][0]["driver"], self.driver)
        [assigned] = [r.json["data"] for r in driver if r.json["type"] == "dispatch.assigned"]
        self.assertEqual((assigned["trip"]["from"], assigned["trip"]["to"]), ("机关大院", "市委"))
        time.sleep(0.5)  # anything wrongly fanned out would have arrived by now
        self.assertEqual(self.rx.received("/other"), [])
        # The open meeting's messages reach the driver whole.
        opened = [r for r in self.rx.received("/driver")
                  if r.json["type"] == "dispatch.assigned"
                  and r.json["data"]["event"] == self.open["id"]]
        self.assertEqual(opened[0].json["data"]["title"], OPEN_TITLE)
        self.assertEqual(opened[0].json["data"]["trip"]["passengers"], [self.lead])

    # ---- conflicts, freebusy, availability ----

    def test_conflict_bodies(self):
        for ev, title in ((self.secret, None), (self.open, OPEN_TITLE)):
            start = ev["start"]
            r = self.as_("secretary", "POST", "/api/v1/events", {
                "title": "撞车", "start": start, "end": ev["end"], "tz": TZ,
                "attendees": [{"person": self.lead}]})
            self.assertEqual(r.status, 409, r)
            titles = {c["title"] for c in r.body["error"]["conflicts"] if c["event"] == ev["id"]}
            self.assertEqual(titles, {title})
            if title is None:
                self.assert_no_secret(r.body, "a 409 body", attendee=False)

    def test_freebusy_and_availability(self):
        r = self.as_("secretary", "GET", "/api/v1/freebusy?people=%s&rooms=%s&from=%s&to=%s"
                     % (self.lead, self.room["id"], DAY, DAY))
        self.assertEqual(r.status, 200, r)
        self.assert_no_secret(r.body, "freebusy", attendee=False)
        busy = r.body["calendars"]["people"][self.lead]["busy"]
        self.assertIn(at("09:00"), [b["start"] for b in busy])
        r = self.as_("secretary", "POST", "/api/v1/availability", {
            "people": [self.lead], "duration_minutes": 60, "from": DAY, "to": DAY, "tz": TZ})
        self.assertEqual(r.status, 200, r)
        self.assert_no_secret(r.body, "availability", attendee=False)
        self.assertNotIn(at("09:00"), [s["start"] for s in r.body["slots"]])
        for who in ("lead", "driver", "other"):
            self.assertEqual(self.as_(who, "GET", "/api/v1/freebusy?people=%s&from=%s&to=%s"
                                      % (self.lead, DAY, DAY)).status, 403, who)


if __name__ == "__main__":
    unittest.main()
