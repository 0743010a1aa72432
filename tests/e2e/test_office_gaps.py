"""The everyday gaps a new office hit (issue 13, findings 4 and 5), end to end against the
real binary: guests' diets, one occurrence declined, conflicts explained by name and reason,
rooms offered best fit first, the car's name and plate for drivers, trips of days ahead,
a passenger's ride in their own feed, people found by name, a canteen token that reads meal
counts and nothing else, LOCATION without the room twice, a refused RRULE part named, and
GET /events pointing to /occurrences.

Feeds are checked with two independent iCalendar oracles: python3-icalendar with
recurring-ical-events, and npm ical.js through icaljs_expand.js (as test_feeds.py does).
"""

import csv
import io
import os
import re
import sys
import unittest

try:
    import icalendar
except ImportError:  # another python3 first on PATH: run under Debian's, which has it
    if not os.environ.get("CONVENE_GAPS_REEXEC") and os.path.exists("/usr/bin/python3"):
        os.environ["CONVENE_GAPS_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("test_office_gaps: needs python3-icalendar and python3-recurring-ical-events")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from dispatch_support import DispatchBase, TZ, at, day, next_day  # noqa: E402
from test_feeds import (icaljs_available, oracle_icaljs, oracle_python, trip_summary,  # noqa: E402
                        unfold, NPM_COMMAND)

ROUTER = os.path.join(os.path.dirname(os.path.dirname(HERE)), "src", "http", "router.c")


def routes_from_source():
    """(method, pattern, public) of every route in src/http/router.c's table, the
    RESOURCE_ROUTES macro expanded: so a route added later is covered too."""
    with open(ROUTER, encoding="utf-8") as f:
        text = f.read()
    macro = re.search(r"#define RESOURCE_ROUTES\(plural, type\)(.*?)\n\n", text, re.S).group(1)
    table = text[text.index("static const struct route routes[]"):]
    table = table[:table.index("};")]
    out = []
    for m in re.finditer(r'\{"([A-Z]+)",\s*"([^"]+)"\s*,\s*([^,]+),\s*([^,]+),', table):
        out.append((m.group(1), m.group(2), "ROUTE_PUBLIC" in m.group(4)))
    for plural in re.findall(r'RESOURCE_ROUTES\("([a-z]+)"', table):
        for m in re.finditer(r'\{"([A-Z]+)",\s*"/api/v1/" plural( "[^"]*")?\s*,', macro):
            out.append((m.group(1), "/api/v1/" + plural + (m.group(2) or "")[2:-1], False))
    return out


def concrete(pattern):
    """A path for a pattern: every ':name' segment filled with something well-formed."""
    fill = {":rid": "2026-12-07T09:00:00", ":token": "x.ics"}
    return "/".join(fill.get(seg, "x_1") if seg.startswith(":") else seg
                    for seg in pattern.split("/"))


class OfficeGaps(DispatchBase):

    # ---- small helpers ----

    def room(self, name, capacity, setup=0, teardown=0, **extra):
        body = {"name": name, "capacity": capacity, "setup_minutes": setup,
                "teardown_minutes": teardown}
        body.update(extra)
        return self.ok(self.srv.post("/api/v1/rooms", body), 201, "room")

    def car(self, name, plate, seats=4):
        return self.ok(self.srv.post("/api/v1/vehicles",
                                     {"name": name, "plate": plate, "seats": seats}), 201, "car")

    def ics(self, person_id):
        body = self.feed(person_id)
        return body.encode("utf-8") if isinstance(body, str) else body

    # ---- 1. canteen ----

    def test_canteen_token_reads_counts_and_nothing_else(self):
        r = self.srv.post("/api/v1/tokens", {"role": "canteen", "name": "食堂"})
        self.assertEqual(r.status, 201, r)
        canteen = r.json["token"]
        date = day(3)
        self.assertEqual(self.srv.get("/api/v1/catering?date=" + date, token=canteen).status, 200)
        csv_r = self.srv.get("/api/v1/catering?from=%s&to=%s&format=csv" % (date, next_day(date)),
                             token=canteen)
        self.assertEqual(csv_r.status, 200, csv_r)
        self.assertIn("text/csv", csv_r.header("Content-Type"))
        refused = []
        checked = 0
        # The canteen's own: meal counts, and the change stream, which gives it catering.updated
        # only (test_changes.py); it never ends, so it is not requested here.
        # Signing in and out concern every account: a token has no session there (401).
        theirs = {("GET", "/api/v1/catering"), ("GET", "/api/v1/changes"),
                  ("GET", "/api/v1/session"), ("DELETE", "/api/v1/session")}
        for method, pattern, public in routes_from_source():
            if public or (method, pattern) in theirs:
                continue
            body = {} if method in ("POST", "PATCH", "PUT") else None
            got = self.srv.request(method, concrete(pattern), body, token=canteen)
            checked += 1
            if got.status != 403:
                refused.append((method, pattern, got.status))
        self.assertGreater(checked, 40)
        self.assertEqual(refused, [], "routes a canteen token reached")
        # The command line mints one too (through the same validation).
        out = self.srv.cli(["token", "create", "--db", self.srv.db, "--role", "canteen",
                            "--name", "食堂二"])
        self.assertEqual(out.returncode, 0, out)
        tok = re.search(r"cvn_[A-Za-z0-9_-]+", out.stdout + out.stderr).group(0)
        self.assertEqual(self.srv.get("/api/v1/catering?date=" + date, token=tok).status, 200)
        self.assertEqual(self.srv.get("/api/v1/rooms", token=tok).status, 403)
        bad = self.srv.post("/api/v1/tokens", {"role": "cook", "name": "x"})
        self.assertEqual((bad.status, bad.field), (422, "role"))

    # ---- 2. small words: 405, BYDAY, LOCATION ----

    def test_get_events_points_to_occurrences(self):
        r = self.srv.get("/api/v1/events")
        self.assertEqual(r.status, 405, r)
        self.assertIn("/api/v1/occurrences", r.message)
        self.assertEqual(r.header("Allow"), "POST")
        # Other wrong methods keep the plain answer.
        r = self.srv.request("PUT", "/api/v1/rooms")
        self.assertEqual(r.status, 405)
        self.assertNotIn("occurrences", r.message)

    def test_refused_rrule_part_is_named(self):
        d = day(5)
        cases = [("FREQ=WEEKLY;BYDAY=XX", "BYDAY=XX"),
                 ("FREQ=WEEKLY;BYDAY=MO;COUNT=X", "COUNT=X"),
                 ("FREQ=DAILY;FOO=1;COUNT=2", "FOO=1"),
                 ("BYDAY=MO;FREQ=WEEKLY", "FREQ=")]
        for rule, named in cases:
            r = self.srv.post("/api/v1/events", {"title": "x", "start": at(d, "09:00"),
                                                 "end": at(d, "10:00"), "rrule": rule})
            self.assertEqual((r.status, r.field), (422, "rrule"), rule)
            self.assertIn(named, r.message, rule)
        self.assertNotIn("start with FREQ", self.srv.post("/api/v1/events", {
            "title": "x", "start": at(d, "09:00"), "end": at(d, "10:00"),
            "rrule": "FREQ=WEEKLY;BYDAY=XX"}).message)

    def test_location_does_not_repeat_the_room(self):
        room = self.room("第二会议室", 20)
        p = self.person("leader", name="位置测试")
        d = day(6)
        cases = [("第二会议室", "第二会议室"),            # the room's name again: once
                 ("三楼第二会议室", "三楼第二会议室"),     # says the room and more: that
                 ("东楼三层", "第二会议室 东楼三层"),      # something else: both
                 (None, "第二会议室")]
        for i, (loc, shown) in enumerate(cases):
            body = {"title": "地点%d" % i, "start": at(d, "%02d:00" % (8 + i)),
                    "end": at(d, "%02d:30" % (8 + i)), "room": room["id"],
                    "attendees": [{"person": p["id"]}]}
            if loc:
                body["location"] = loc
            self.ok(self.srv.post("/api/v1/events", body), 201, "event")
        cal = icalendar.Calendar.from_ical(self.ics(p["id"]))
        got = {str(v["SUMMARY"]): str(v.get("LOCATION")) for v in cal.walk("VEVENT")}
        for i, (_, shown) in enumerate(cases):
            self.assertEqual(got["地点%d" % i], shown)

    # ---- 3. people by name ----

    def test_people_found_by_name_and_department(self):
        a = self.person("leader", name="王建国", department="办公室")
        b = self.person("staff", name="李王明", department="财务处")
        c = self.person("staff", name="张三", department="Office of the Director")
        self.person("staff", name="赵四", department="人事处")

        def ids(q, kind="people"):
            r = self.srv.get("/api/v1/%s?q=%s" % (kind, q))
            self.assertEqual(r.status, 200, r)
            return {x["id"] for x in r.json}

        self.assertEqual(ids("%E7%8E%8B") & {a["id"], b["id"], c["id"]}, {a["id"], b["id"]})
        self.assertEqual(ids("%E8%B4%A2%E5%8A%A1"), {b["id"]})        # 财务 (department)
        self.assertIn(c["id"], ids("office+of"))                      # ASCII case ignored
        self.assertEqual(ids("%E4%B8%8D%E5%AD%98%E5%9C%A8"), set())   # 不存在 -> []
        self.assertEqual(self.srv.get("/api/v1/people?q=nobody-at-all").json, [])
        everyone = ids("")
        self.assertTrue({a["id"], b["id"], c["id"]} <= everyone)
        car = self.car("考斯特", "京B99999", seats=20)
        self.assertEqual(ids("b99999", "vehicles"), {car["id"]})
        self.assertEqual(self.srv.get("/api/v1/people?q=%ZZ").status, 400)
        self.assertEqual(self.srv.get("/api/v1/people?q=" + "x" * 900).status, 400)

    # ---- 4. find a time: best fit first ----

    def test_availability_offers_best_fit_first(self):
        feature = "fit-%d" % os.getpid()
        hall = self.room("A 大礼堂", 120, features=[feature])
        buffered = self.room("B 第一会议室", 12, setup=30, teardown=15, features=[feature])
        plain = self.room("C 第二会议室", 12, features=[feature])
        small = self.room("D 小会议室", 8, features=[feature])
        tiny = self.room("E 谈话室", 2, features=[feature])
        p1, p2 = self.person(), self.person()
        r = self.ok(self.srv.post("/api/v1/availability", {
            "people": [p1["id"], p2["id"]], "duration_minutes": 60, "from": day(20),
            "to": day(20), "tz": TZ, "working_hours": False, "limit": 1, "guests": 1,
            "room": {"features": [feature]}}), 200, "availability")
        slot = r["slots"][0]
        # Three people: the two-seat room does not fit; then capacity, buffers, name.
        self.assertEqual(slot["rooms"], [small["id"], plain["id"], buffered["id"], hall["id"]])
        self.assertNotIn(tiny["id"], slot["rooms"])
        self.assertEqual(slot["booking"]["room"], small["id"])

    # ---- 5. conflicts explained ----

    def test_conflicts_name_the_resource_and_the_reason(self):
        room = self.room("第三会议室", 30, setup=30, teardown=15)
        boss = self.person("leader", name="刘局长", rank=1)
        d = day(8)
        first = self.event(at(d, "09:00"), at(d, "10:00"), [boss["id"]], room=room["id"],
                           title="党组会")
        secret = self.event(at(d, "14:00"), at(d, "15:00"), [boss["id"]], title="机密会",
                            confidential=True)
        # 10:05 is free for the meeting, but not for the room's teardown + setup.
        r = self.srv.post("/api/v1/events", {"title": "x", "start": at(d, "10:05"),
                                             "end": at(d, "11:00"), "room": room["id"]})
        self.assertEqual(r.status, 409, r)
        (c,) = r.json["error"]["conflicts"]
        self.assertEqual((c["name"], c["reason"], c["other_kind"], c["event"], c["title"]),
                         ("第三会议室", "buffer", "event", first["id"], "党组会"))
        self.assertEqual((c["start"], c["other_start"]), (at(d, "10:05"), at(d, "09:00")))
        # Overlapping the meeting itself is an overlap, on the person by name too.
        r = self.srv.post("/api/v1/events", {"title": "x", "start": at(d, "09:30"),
                                             "end": at(d, "10:30"), "room": room["id"],
                                             "attendees": [{"person": boss["id"]}]})
        got = {(c["role"], c["name"], c["reason"]) for c in r.json["error"]["conflicts"]}
        self.assertEqual(got, {("room", "第三会议室", "overlap"), ("attendee", "刘局长", "overlap")})
        # A confidential meeting's title stays hidden; the person is still named.
        r = self.srv.post("/api/v1/events", {"title": "x", "start": at(d, "14:30"),
                                             "end": at(d, "15:30"),
                                             "attendees": [{"person": boss["id"]}]})
        (c,) = r.json["error"]["conflicts"]
        self.assertEqual((c["name"], c["title"], c["event"]), ("刘局长", None, secret["id"]))
        # A block: reason and kind say so.
        self.ok(self.srv.post("/api/v1/blocks", {
            "resource": {"type": "room", "id": room["id"]}, "start": at(d, "16:00"),
            "end": at(d, "18:00"), "tz": TZ, "reason": "布置会场"}), 201, "block")
        r = self.srv.post("/api/v1/events", {"title": "x", "start": at(d, "17:00"),
                                             "end": at(d, "17:30"), "room": room["id"]})
        (c,) = r.json["error"]["conflicts"]
        self.assertEqual((c["reason"], c["other_kind"], c["title"]), ("block", "block", "布置会场"))
        self.assertIn("block", c)
        self.assertNotIn("event", c)

    def test_trip_clashes_carry_the_trips_own_times(self):
        d = self.working_days(9, 1)[0]
        car = self.car("奥迪A6", "京A10001")
        driver = self.person("driver", name="陈师傅")
        boss = self.person("leader", name="周主任")
        meeting = self.event(at(d, "09:00"), at(d, "10:00"), [boss["id"]], trips=[
            self.trip(car["id"], driver["id"], at(d, "08:20"), at(d, "11:30"),
                      passengers=[boss["id"]])])
        # A stand-alone trip at 11:00 clashes with the meeting's car until 11:30.
        r = self.srv.post("/api/v1/trips", {"vehicle": car["id"], "driver": driver["id"],
                                            "depart": at(d, "11:00"), "return": at(d, "12:00"),
                                            "from": "机关", "to": "机场"})
        self.assertEqual(r.status, 409, r)
        by_role = {c["role"]: c for c in r.json["error"]["conflicts"]}
        self.assertEqual(set(by_role), {"vehicle", "driver"})
        v = by_role["vehicle"]
        self.assertEqual((v["name"], v["reason"], v["other_kind"], v["event"]),
                         ("奥迪A6", "overlap", "trip", meeting["id"]))
        self.assertEqual((v["start"], v["depart"], v["return"]),
                         (at(d, "11:00"), at(d, "11:00"), at(d, "12:00")))
        self.assertEqual((v["other_depart"], v["other_return"]), (at(d, "08:20"), at(d, "11:30")))
        self.assertEqual(v["other_trip"], meeting["trips"][0]["id"])
        self.assertEqual(by_role["driver"]["name"], "陈师傅")

    def test_driver_hours_and_rest_list_the_other_trips(self):
        d1, d2 = self.working_days(11, 2)
        driver = self.person("driver", name="吴师傅")
        car1, car2 = self.vehicle(), self.vehicle()
        long_day = self.event(at(d1, "07:00"), at(d1, "08:00"), trips=[
            self.trip(car1["id"], driver["id"], at(d1, "06:00"), at(d1, "13:00"))],
            title="外出调研")
        # 6 more hours the same day: 13 in all.
        r = self.srv.post("/api/v1/trips", {"vehicle": car2["id"], "driver": driver["id"],
                                            "depart": at(d1, "14:00"), "return": at(d1, "20:00")})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.code, "driver_hours")
        (c,) = r.json["error"]["conflicts"]
        self.assertEqual((c["resource"], c["name"], c["reason"], c["other_kind"]),
                         ({"type": "person", "id": driver["id"]}, "吴师傅", "driver_hours", "trip"))
        self.assertEqual((c["event"], c["title"]), (long_day["id"], "外出调研"))
        self.assertEqual((c["depart"], c["return"]), (at(d1, "14:00"), at(d1, "20:00")))
        self.assertEqual((c["other_depart"], c["other_return"]), (at(d1, "06:00"), at(d1, "13:00")))
        # Late the evening before d2's early start: too little rest.
        self.event(at(d2, "07:00"), at(d2, "08:00"), trips=[
            self.trip(car1["id"], driver["id"], at(d2, "05:00"), at(d2, "09:00"))])
        r = self.srv.post("/api/v1/trips", {"vehicle": car2["id"], "driver": driver["id"],
                                            "depart": at(d1, "21:00"), "return": at(d1, "23:30")})
        # The day d1 now holds 7 + 2.5 hours (within 10): the rest is what fails.
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.code, "driver_rest")
        got = r.json["error"]["conflicts"]
        self.assertTrue(got and all(c["reason"] == "driver_rest" for c in got), got)
        self.assertIn((at(d2, "05:00"), at(d2, "09:00")),
                      [(c.get("other_depart"), c.get("other_return")) for c in got])

    # ---- 6. drivers see the car; trips ahead ----

    def test_dispatch_payloads_and_trip_lists_name_the_car(self):
        d1, d2 = self.working_days(13, 2)
        driver = self.person("driver", name="郑师傅")
        other = self.person("driver", name="冯师傅")
        car = self.car("红旗H9", "京A88888")
        path = self.unique_path("dispatch")
        self.webhook(path, ["dispatch.assigned"], person=driver["id"])
        self.event(at(d1, "09:00"), at(d1, "10:00"), trips=[
            self.trip(car["id"], driver["id"], at(d1, "08:30"), at(d1, "10:30"))])
        self.event(at(d2, "09:00"), at(d2, "10:00"), trips=[
            self.trip(car["id"], driver["id"], at(d2, "08:30"), at(d2, "10:30"))])
        self.event(at(d2, "14:00"), at(d2, "15:00"), trips=[
            self.trip(self.vehicle()["id"], other["id"], at(d2, "13:30"), at(d2, "15:30"))])
        msgs = self.messages(path, 2)
        for m in msgs:
            t = m["data"]["trip"]
            self.assertEqual((t["vehicle_name"], t["plate"], t["driver_name"]),
                             ("红旗H9", "京A88888", "郑师傅"))
        # The driver's trips ahead, without a date; theirs only.
        tok = self.token("driver", driver["id"])
        mine = self.ok(self.srv.get("/api/v1/trips?from=%s" % d1, token=tok), 200, "trips")
        self.assertEqual([(t["depart"], t["plate"]) for t in mine],
                         [(at(d1, "08:30"), "京A88888"), (at(d2, "08:30"), "京A88888")])
        two = self.ok(self.srv.get("/api/v1/trips?from=%s&to=%s" % (d1, d2)), 200, "trips")
        self.assertEqual({t["driver"] for t in two} >= {driver["id"], other["id"]}, True)
        one = self.ok(self.srv.get("/api/v1/trips?from=%s&to=%s" % (d1, d1), token=tok), 200, "")
        self.assertEqual(len(one), 1)
        for query, status, field in [("date=%s&from=%s" % (d1, d1), 422, "date"),
                                     ("from=%s&to=%s" % (d2, d1), 422, "to"),
                                     ("to=%s" % d1, 422, "from"), ("", 422, "date"),
                                     ("from=2026-13-01", 422, "from"),
                                     ("from=%s&to=%s" % (d1, next_day(d1, 120)), 422, "to")]:
            r = self.srv.get("/api/v1/trips?" + query)
            self.assertEqual((r.status, r.field), (status, field), query)
        r = self.srv.get("/api/v1/trips?from=%s&driver=%s" % (d1, other["id"]), token=tok)
        self.assertEqual(r.status, 403)

    # ---- 7. feeds: the passenger's ride, the driver's car ----

    def test_leader_and_driver_feeds_show_the_ride(self):
        days = self.working_days(15, 8)
        d = days[0]
        car = self.car("别克GL8", "京A66666", seats=6)
        driver = self.person("driver", name="孙师傅", phone="13800000000")
        boss = self.person("leader", name="钱厅长", rank=1)
        deputy = self.person("leader", name="何副厅长", rank=2)
        trip = {"vehicle": car["id"], "driver": driver["id"], "depart": at(d, "08:20"),
                "return": at(d, "11:30"), "from": "机关大院", "to": "省政府",
                "passengers": [boss["id"], deputy["id"]], "approved_by": boss["id"]}
        weekly = self.event(at(d, "09:00"), at(d, "10:00"), [boss["id"]], title="厅务会",
                            rrule="FREQ=WEEKLY;COUNT=3", trips=[trip])
        # The deputy rides along to a confidential meeting they do not attend.
        secret = self.event(at(days[1], "15:00"), at(days[1], "16:00"), [boss["id"]],
                            title="干部酝酿会", confidential=True, trips=[
                                {"vehicle": car["id"], "driver": driver["id"],
                                 "depart": at(days[1], "14:30"), "return": at(days[1], "16:30"),
                                 "from": "机关大院", "to": "组织部",
                                 "passengers": [boss["id"], deputy["id"]],
                                 "approved_by": boss["id"]}])
        # A stand-alone trip is the boss's event already: not shown twice.
        alone = self.ok(self.srv.post("/api/v1/trips", {
            "vehicle": car["id"], "driver": driver["id"], "depart": at(days[2], "07:00"),
            "return": at(days[2], "08:00"), "from": "家", "to": "机场",
            "passengers": [boss["id"]], "approved_by": boss["id"]}), 201, "stand-alone")
        window = (d, next_day(days[-1], 30))
        oracle_window = (window[0], next_day(window[1]))

        def expected(person):
            out = []
            occ = self.ok(self.srv.get("/api/v1/occurrences?from=%s&to=%s&person=%s"
                                       % (window[0], window[1], person)), 200, "occ")
            for o in occ:
                out.append((o["event"], o["start"], o["end"], o["title"]))
            return out

        boss_ics, deputy_ics, driver_ics = (self.ics(boss["id"]), self.ics(deputy["id"]),
                                            self.ics(driver["id"]))
        ride = trip_summary(trip)
        tid = weekly["trips"][0]["id"] + "@convene"
        rides = [(tid, at(x, "08:20"), at(x, "11:30"), ride)
                 for x in (d, next_day(d, 7), next_day(d, 14))]
        secret_ride = (secret["trips"][0]["id"] + "@convene", at(days[1], "14:30"),
                       at(days[1], "16:30"), "用车：机关大院 → 组织部")
        want = {
            "boss": sorted([(weekly["uid"], at(x, "09:00"), at(x, "10:00"), "厅务会")
                            for x in (d, next_day(d, 7), next_day(d, 14))] + rides +
                           [(secret["uid"], at(days[1], "15:00"), at(days[1], "16:00"), "干部酝酿会"),
                            secret_ride,
                            (alone["event"] + "@convene", at(days[2], "07:00"),
                             at(days[2], "08:00"), "用车：家 → 机场")]),
            "deputy": sorted(rides + [secret_ride]),
            "driver": sorted(rides + [secret_ride,
                                      (alone["id"] + "@convene", at(days[2], "07:00"),
                                       at(days[2], "08:00"), "用车：家 → 机场")]),
        }
        problem = icaljs_available()
        for name, body in (("boss", boss_ics), ("deputy", deputy_ics), ("driver", driver_ics)):
            with self.subTest(feed=name):
                py = sorted((k[0], k[1], k[2], k[4]) for k, status in
                            oracle_python(body, oracle_window))
                self.assertEqual(py, want[name], "recurring-ical-events")
                self.assertIsNone(problem, "ical.js: %s (%s)" % (problem, NPM_COMMAND))
                js, _ = oracle_icaljs(body, oracle_window)
                self.assertEqual(sorted((k[0], k[1], k[2], k[4]) for k, _ in js), want[name],
                                 "ical.js")
        # What the ride says: route, car and plate, driver; never the confidential title.
        cal = icalendar.Calendar.from_ical(deputy_ics)
        descs = {str(v["UID"]): str(v["DESCRIPTION"]) for v in cal.walk("VEVENT")}
        self.assertIn("车辆：别克GL8（京A66666）", descs[tid])
        self.assertIn("驾驶员：孙师傅", descs[tid])
        self.assertIn("路线：机关大院 → 省政府", descs[tid])
        self.assertIn("会议：厅务会", descs[tid])
        self.assertNotIn("干部酝酿会", deputy_ics.decode("utf-8"))
        self.assertNotIn("干部酝酿会", driver_ics.decode("utf-8"))
        self.assertIn("京A66666", "".join(unfold(driver_ics)))

    # ---- 8. guests' diets ----

    def test_guest_diets_join_the_attendees(self):
        d = day(25)
        veg = self.person("leader", name="素食者", diet="vegetarian")
        plain = self.person()
        ev = self.event(at(d, "11:00"), at(d, "12:30"), [veg["id"], plain["id"]], guests=4,
                        meals=[{"meal": "lunch", "diets": {"halal": 2, "vegetarian": 1}}])
        self.assertEqual(ev["meals"][0]["diets"], {"halal": 2, "vegetarian": 1})
        lunch = self.meal(d, "lunch")
        mine = [e for e in lunch["events"] if e["event"] == ev["id"]][0]
        self.assertEqual(mine["count"], 6)
        self.assertEqual(mine["diets"], {"vegetarian": 2, "halal": 2, "regular": 2})
        text = self.srv.get("/api/v1/catering?date=%s&format=csv" % d).body
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        row = [r for r in rows if r["event"] == ev["id"]][0]
        self.assertEqual((row["halal"], row["vegetarian"], row["regular"]), ("2", "2", "2"))
        # A fixed count caps the breakdown: the attendees' first, then the guests'.
        fixed = self.event(at(d, "17:00"), at(d, "19:00"), [veg["id"]], guests=0,
                           meals=[{"meal": "dinner", "count": 3, "diets": {"halal": 3}}])
        dinner = [e for e in self.meal(d, "dinner")["events"] if e["event"] == fixed["id"]][0]
        self.assertEqual((dinner["count"], dinner["diets"]), (3, {"vegetarian": 1, "halal": 2}))
        bad = [({"halal": -1}, 422, "meals[0].diets.halal"),
               ({"halal": "2"}, 400, "meals[0].diets.halal"),
               ({"halal": 2.5}, 400, "meals[0].diets.halal"),
               ([2], 400, "meals[0].diets"),
               ({"": 1}, 422, "meals[0].diets"),
               ({"x" * 41: 1}, 422, "meals[0].diets"),
               ({"halal": 5}, 422, "meals[0].diets")]       # more than the 4 guests
        for diets, status, field in bad:
            r = self.srv.post("/api/v1/events", {
                "title": "x", "start": at(d, "11:00"), "end": at(d, "12:00"), "guests": 4,
                "meals": [{"meal": "lunch", "diets": diets}]})
            self.assertEqual((r.status, r.field), (status, field), diets)
        r = self.srv.patch("/api/v1/events/" + ev["id"], {"guests": 1})
        self.assertEqual((r.status, r.field), (422, "meals[0].diets"), r)

    # ---- 9. one occurrence declined ----

    def test_decline_one_occurrence(self):
        d = self.working_days(30, 1)[0]
        leader = self.person("leader", name="冯局长", diet="halal")
        staff = self.person()
        ev = self.event(at(d, "11:00"), at(d, "12:30"), [leader["id"], staff["id"]],
                        title="周例会", rrule="FREQ=WEEKLY;COUNT=3", reminders=[60],
                        meals=[{"meal": "lunch"}])
        second = next_day(d, 7)
        rid = at(second, "11:00")
        tok = self.token("leader", leader["id"])
        r = self.srv.post("/api/v1/events/%s/rsvp" % ev["id"],
                          {"person": leader["id"], "response": "declined", "recurrence_id": rid},
                          token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["sequence"], ev["sequence"])
        # Meals: that occurrence only.
        counts = {x: [e for e in self.meal(x, "lunch")["events"] if e["event"] == ev["id"]][0]
                  for x in (d, second, next_day(d, 14))}
        self.assertEqual([counts[x]["count"] for x in (d, second, next_day(d, 14))], [2, 1, 2])
        self.assertEqual(counts[second]["diets"], {"regular": 1})
        # Reminders: none for them on that occurrence.
        rows = self.srv.sql("SELECT recurrence_id FROM reminders WHERE event_id = ? AND person = ?",
                            (ev["id"], leader["id"]))
        self.assertEqual(sorted(x[0] for x in rows), [at(d, "11:00"), at(next_day(d, 14), "11:00")])
        # The listing and the feed: declined there, still invited elsewhere. Their own
        # calendar leaves the declined occurrence out, as it does a declined series.
        occ = self.ok(self.srv.get("/api/v1/occurrences?from=%s&to=%s"
                                   % (d, next_day(d, 14))), 200, "occurrences")
        answers = {o["recurrence_id"]: {a["person"]: a["response"] for a in o["attendees"]}
                   for o in occ if o["event"] == ev["id"]}
        self.assertEqual({k: v[leader["id"]] for k, v in answers.items()},
                         {at(d, "11:00"): "needs-action", rid: "declined",
                          at(next_day(d, 14), "11:00"): "needs-action"})
        self.assertEqual(answers[rid][staff["id"]], "needs-action")
        own = self.ok(self.srv.get("/api/v1/occurrences?from=%s&to=%s&person=%s"
                                   % (d, next_day(d, 14), leader["id"]), token=tok), 200, "")
        self.assertEqual([o["recurrence_id"] for o in own if o["event"] == ev["id"]],
                         [at(d, "11:00"), at(next_day(d, 14), "11:00")])
        # Their week with declined=include keeps it, answered, so they can change their mind.
        week = self.ok(self.srv.get("/api/v1/occurrences?from=%s&to=%s&person=%s&declined=include"
                                    % (d, next_day(d, 14), leader["id"]), token=tok), 200, "")
        mine = {o["recurrence_id"]: [a["response"] for a in o["attendees"]
                                     if a["person"] == leader["id"]][0]
                for o in week if o["event"] == ev["id"]}
        self.assertEqual(mine, {at(d, "11:00"): "needs-action", rid: "declined",
                                at(next_day(d, 14), "11:00"): "needs-action"})
        for bad in ("&declined=yes", "&declined=include&room=x"):
            r = self.srv.get("/api/v1/occurrences?from=%s&to=%s%s" % (d, d, bad))
            self.assertEqual((r.status, r.field), (422, "declined"), (bad, r))
        # Another person's invitations stay theirs, declined or not.
        other = self.srv.get("/api/v1/occurrences?from=%s&to=%s&person=%s&declined=include"
                             % (d, d, staff["id"]), token=tok)
        self.assertEqual(other.status, 403, other)
        cal = icalendar.Calendar.from_ical(self.ics(leader["id"]))
        partstat = {}
        for v in cal.walk("VEVENT"):
            key = v["RECURRENCE-ID"].dt.strftime("%Y-%m-%dT%H:%M:%S") if "RECURRENCE-ID" in v \
                else "master"
            att = v.get("ATTENDEE")
            att = att if isinstance(att, list) else [att]
            partstat[key] = [a.params["PARTSTAT"] for a in att
                             if str(a).endswith(leader["id"])][0]
        self.assertEqual(partstat, {"master": "NEEDS-ACTION", rid: "DECLINED"})
        # The time it held is free again: the leader can be booked then.
        meanwhile = self.event(at(second, "11:30"), at(second, "12:00"), [leader["id"]])
        # History records the answer.
        hist = self.ok(self.srv.get("/api/v1/events/%s/history" % ev["id"]), 200, "history")
        self.assertEqual(hist[-1]["action"], "rsvp")
        self.assertEqual(hist[-1]["after"]["overrides"][rid]["responses"][leader["id"]], "declined")
        # Refusals.
        for body, status, field in [
                ({"recurrence_id": at(next_day(d, 1), "11:00")}, 422, "recurrence_id"),
                ({"recurrence_id": "tomorrow"}, 422, "recurrence_id"),
                ({"recurrence_id": 7}, 400, "recurrence_id")]:
            body.update({"person": leader["id"], "response": "declined"})
            r = self.srv.post("/api/v1/events/%s/rsvp" % ev["id"], body, token=tok)
            self.assertEqual((r.status, r.field), (status, field), body)
        self.assertEqual(self.srv.delete("/api/v1/events/%s/occurrences/%s"
                                         % (ev["id"], at(next_day(d, 14), "11:00"))).status, 204)
        r = self.srv.post("/api/v1/events/%s/rsvp" % ev["id"],
                          {"person": leader["id"], "response": "accepted",
                           "recurrence_id": at(next_day(d, 14), "11:00")}, token=tok)
        self.assertEqual((r.status, r.code), (422, "cancelled"), r)
        other = self.person()
        r = self.srv.post("/api/v1/events/%s/rsvp" % ev["id"],
                          {"person": other["id"], "response": "declined", "recurrence_id": rid})
        self.assertEqual((r.status, r.code), (422, "not_invited"))
        # An answer for the whole series replaces the one for the occurrence: accepting
        # it all would put them in two places, until the other meeting goes.
        r = self.srv.post("/api/v1/events/%s/rsvp" % ev["id"],
                          {"person": leader["id"], "response": "accepted"}, token=tok)
        self.assertEqual(r.status, 409, r)
        self.assertEqual([c["event"] for c in r.json["error"]["conflicts"]], [meanwhile["id"]])
        self.assertEqual(self.srv.delete("/api/v1/events/" + meanwhile["id"]).status, 204)
        r = self.srv.post("/api/v1/events/%s/rsvp" % ev["id"],
                          {"person": leader["id"], "response": "accepted"}, token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(leader["id"], str(r.json.get("overrides", {})))

    def test_decline_the_only_occurrence_of_a_single_meeting(self):
        d = day(31)
        p = self.person()
        ev = self.event(at(d, "11:00"), at(d, "12:00"), [p["id"]], meals=[{"meal": "lunch"}])
        r = self.srv.post("/api/v1/events/%s/rsvp" % ev["id"],
                          {"person": p["id"], "response": "declined",
                           "recurrence_id": at(d, "11:00")})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["attendees"][0]["response"], "declined")
        self.assertFalse(r.json.get("overrides"))
        mine = [e for e in self.meal(d, "lunch")["events"] if e["event"] == ev["id"]]
        self.assertEqual(mine[0]["count"], 0)
        r = self.srv.post("/api/v1/events/%s/rsvp" % ev["id"],
                          {"person": p["id"], "response": "declined",
                           "recurrence_id": at(d, "12:00")})
        self.assertEqual((r.status, r.field), (422, "recurrence_id"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
