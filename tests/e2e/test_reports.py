"""Reports (CONTRACT section 13) against an oracle computed here.

One organisation and a period around the 2026 National Day holiday
(2026-09-14 .. 2026-10-18): a weekly 党组会 with an EXDATE, a moved occurrence
and a cancelled one; a cancelled 专题会 with a trip and a meal; a 办公会 across
lunch; a meeting on a make-up working day (Sunday 2026-09-20) with an early
trip; stand-alone trips at night, on a weekend, on a public holiday and across
midnight into a make-up working day; meals with attendees' and guests' diets
and a fixed count. Every figure of every report is computed below, minute by
minute, from those bookings and the State Council's 2026 notice (typed in here,
not read from the service), and compared exactly: JSON, then CSV and XLSX
read back (openpyxl) against the JSON. Bad parameters and roles too.

Events gain `kind` and `department` with the approvals work (CONTRACT section
12). Until the service takes them in POST /events, the test writes them into
the stored documents with the service stopped: reports read them from there.
"""

import csv
import datetime as dt
import io
import json
import os
import re
import sqlite3
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server  # noqa: E402

TZ = "Asia/Shanghai"
FROM, TO = "2026-09-14", "2026-10-18"

# The 2026 notice: days off and make-up working days (国务院办公厅, November 2025).
OFF = set()
for a, b in [("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"),
             ("2026-04-04", "2026-04-06"), ("2026-05-01", "2026-05-05"),
             ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
             ("2026-10-01", "2026-10-07")]:
    d = dt.date.fromisoformat(a)
    while d <= dt.date.fromisoformat(b):
        OFF.add(d)
        d += dt.timedelta(days=1)
WORK = {dt.date.fromisoformat(s) for s in
        ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]}
PERIODS = [(8 * 60 + 30, 12 * 60), (14 * 60, 17 * 60 + 30)]


def day_kind(d):
    if d in OFF:
        return "holiday"
    if d in WORK or d.weekday() < 5:
        return "working"
    return "rest"


def minutes(start, end):
    """Each minute of [start, end) as a naive local datetime."""
    t = dt.datetime.fromisoformat(start)
    e = dt.datetime.fromisoformat(end)
    while t < e:
        yield t
        t += dt.timedelta(minutes=1)


def working_minutes(start, end):
    n = 0
    for m in minutes(start, end):
        mod = m.hour * 60 + m.minute
        if day_kind(m.date()) == "working" and any(a <= mod < b for a, b in PERIODS):
            n += 1
    return n


def driver_parts(start, end):
    parts = {"workday_day": 0, "workday_night": 0, "rest_day": 0, "holiday": 0}
    for m in minutes(start, end):
        kind = day_kind(m.date())
        mod = m.hour * 60 + m.minute
        if kind == "holiday":
            parts["holiday"] += 1
        elif kind == "rest":
            parts["rest_day"] += 1
        else:
            parts["workday_night" if mod < 7 * 60 or mod >= 19 * 60 else "workday_day"] += 1
    return parts


def hours(mins):
    return round(mins / 60, 2)


def length(start, end):
    return int((dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds() // 60)


def in_period(start, first=FROM, last=TO):
    return first <= start[:10] <= last


class Org:
    """The bookings, as created, for the oracle: meetings (held occurrences), trips, meals."""

    def __init__(self):
        self.meetings = []  # dicts: kind, department, room, leaders, start, end
        self.trips = []     # dicts: vehicle, driver, depart, return
        self.meals = []     # dicts: meal, count, diets, department, day


class ReportsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(start=True)
        cls.org = Org()
        cls.build()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    # ---- building the organisation ----

    @classmethod
    def post(cls, path, body, status=201):
        r = cls.srv.request("POST", path, body)
        assert r.status == status, (path, body, r)
        return r.body

    @classmethod
    def event(cls, body):
        r = cls.srv.request("POST", "/api/v1/events", body)
        assert r.status == 201, (body, r)
        return r.body["id"]

    @classmethod
    def build(cls):
        o = cls.org
        p = lambda body: cls.post("/api/v1/people", body)["id"]  # noqa: E731
        cls.L1 = p({"name": "张局长", "role": "leader", "rank": 1})
        cls.L2 = p({"name": "李副局长", "role": "leader", "rank": 2})
        cls.S1 = p({"name": "马科员", "role": "staff", "diet": "halal"})
        cls.D1 = p({"name": "王师傅", "role": "driver"})
        cls.D2 = p({"name": "赵师傅", "role": "driver"})
        cls.D3 = p({"name": "钱师傅", "role": "driver"})  # drives nothing: listed with zeros
        cls.R1 = cls.post("/api/v1/rooms", {"name": "第一会议室", "capacity": 20})["id"]
        cls.R2 = cls.post("/api/v1/rooms", {"name": "第二会议室", "capacity": 20})["id"]
        cls.V1 = cls.post("/api/v1/vehicles", {"name": "考斯特", "plate": "京A·00001", "seats": 20})["id"]
        cls.V2 = cls.post("/api/v1/vehicles", {"name": "帕萨特", "plate": "京A·00002", "seats": 4})["id"]
        L1, L2, S1 = cls.L1, cls.L2, cls.S1
        att = lambda *ps: [{"person": x} for x in ps]  # noqa: E731

        def meeting(kind, dept, room, leaders, start, end):
            o.meetings.append({"kind": kind, "department": dept, "room": room,
                               "leaders": leaders, "start": start, "end": end})

        # A weekly 党组会: 09-14, 09-21, (09-28 EXDATE), 10-05 moved to 10-06 14:00, (10-12 cancelled).
        a = cls.event({"title": "党组会", "kind": "党组会", "department": "党办",
                       "start": "2026-09-14T09:00:00", "end": "2026-09-14T10:30:00", "tz": TZ,
                       "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=5", "exdates": ["2026-09-28T09:00:00"],
                       "attendees": att(L1, L2), "room": cls.R1, "guests": 2,
                       "meals": [{"meal": "lunch", "diets": {"vegetarian": 1}}]})
        r = cls.srv.request("PATCH", "/api/v1/events/%s/occurrences/2026-10-05T09:00:00" % a,
                            {"start": "2026-10-06T14:00:00", "end": "2026-10-06T15:30:00"})
        assert r.status == 200, r
        r = cls.srv.request("DELETE", "/api/v1/events/%s/occurrences/2026-10-12T09:00:00" % a)
        assert r.status in (200, 204), r
        for s, e in [("2026-09-14T09:00:00", "2026-09-14T10:30:00"),
                     ("2026-09-21T09:00:00", "2026-09-21T10:30:00"),
                     ("2026-10-06T14:00:00", "2026-10-06T15:30:00")]:
            meeting("党组会", "党办", cls.R1, [L1, L2], s, e)
            o.meals.append({"meal": "lunch", "count": 4, "diets": {"vegetarian": 1},
                            "department": "党办", "day": s[:10]})

        # A cancelled 专题会 with its trip and meal: nothing of it counts.
        b = cls.event({"title": "专题会（取消）", "kind": "专题会", "department": "办公室",
                       "start": "2026-09-16T10:00:00", "end": "2026-09-16T11:00:00", "tz": TZ,
                       "attendees": att(L1), "room": cls.R2, "meals": [{"meal": "lunch"}],
                       "trips": [{"vehicle": cls.V2, "driver": cls.D1, "depart": "2026-09-16T09:00:00",
                                  "return": "2026-09-16T12:00:00", "from": "机关", "to": "会场"}]})
        r = cls.srv.request("DELETE", "/api/v1/events/%s" % b)
        assert r.status in (200, 204), r

        # A 办公会 across lunch, the halal staff member and guests.
        cls.event({"title": "办公会", "kind": "办公会", "department": "办公室",
                   "start": "2026-09-17T11:00:00", "end": "2026-09-17T15:00:00", "tz": TZ,
                   "attendees": att(L1, S1), "room": cls.R1, "guests": 3,
                   "meals": [{"meal": "lunch", "diets": {"halal": 1}}]})
        meeting("办公会", "办公室", cls.R1, [L1], "2026-09-17T11:00:00", "2026-09-17T15:00:00")
        o.meals.append({"meal": "lunch", "count": 5, "diets": {"halal": 2}, "department": "办公室",
                        "day": "2026-09-17"})

        # A 专题会 on the make-up working Sunday, with an early trip (06:00-08:00).
        cls.event({"title": "专题会", "kind": "专题会", "department": "办公室",
                   "start": "2026-09-20T09:00:00", "end": "2026-09-20T11:30:00", "tz": TZ,
                   "attendees": att(L2), "room": cls.R2,
                   "trips": [{"vehicle": cls.V1, "driver": cls.D1, "depart": "2026-09-20T06:00:00",
                              "return": "2026-09-20T08:00:00", "from": "机关", "to": "会场",
                              "approved_by": L1}]})
        meeting("专题会", "办公室", cls.R2, [L2], "2026-09-20T09:00:00", "2026-09-20T11:30:00")
        o.trips.append({"vehicle": cls.V1, "driver": cls.D1, "depart": "2026-09-20T06:00:00",
                        "return": "2026-09-20T08:00:00"})

        # A meeting without kind or department, partly after hours.
        cls.event({"title": "碰头会", "start": "2026-09-24T16:00:00", "end": "2026-09-24T18:30:00",
                   "tz": TZ, "attendees": att(S1), "room": cls.R1})
        meeting(None, None, cls.R1, [], "2026-09-24T16:00:00", "2026-09-24T18:30:00")

        # 接待 with a fixed count for dinner.
        cls.event({"title": "接待来访", "kind": "接待", "department": "外事办",
                   "start": "2026-10-15T14:00:00", "end": "2026-10-15T16:00:00", "tz": TZ,
                   "attendees": att(L1), "room": cls.R2,
                   "meals": [{"meal": "dinner", "count": 10, "diets": {"halal": 3}}]})
        meeting("接待", "外事办", cls.R2, [L1], "2026-10-15T14:00:00", "2026-10-15T16:00:00")
        o.meals.append({"meal": "dinner", "count": 10, "diets": {"halal": 3}, "department": "外事办",
                        "day": "2026-10-15"})

        # Outside the period (the year report counts them).
        cls.event({"title": "办公会", "kind": "办公会", "start": "2026-10-20T09:00:00",
                   "end": "2026-10-20T10:00:00", "tz": TZ, "attendees": att(L1), "room": cls.R1})
        meeting("办公会", None, cls.R1, [L1], "2026-10-20T09:00:00", "2026-10-20T10:00:00")
        cls.event({"title": "调研", "kind": "调研", "start": "2026-09-11T09:00:00",
                   "end": "2026-09-11T11:00:00", "tz": TZ, "attendees": att(L2)})
        meeting("调研", None, None, [L2], "2026-09-11T09:00:00", "2026-09-11T11:00:00")

        # Stand-alone trips (not meetings, though their passengers are the events' attendees).
        for vehicle, driver, depart, ret, extra in [
                (cls.V2, cls.D2, "2026-09-22T18:00:00", "2026-09-22T21:30:00", {"passengers": [L2]}),
                (cls.V1, cls.D1, "2026-09-19T09:00:00", "2026-09-19T12:00:00",
                 {"passengers": [L1], "approved_by": L1}),
                (cls.V2, cls.D2, "2026-10-03T08:00:00", "2026-10-03T10:00:00", {"approved_by": L1}),
                (cls.V1, cls.D2, "2026-10-09T22:00:00", "2026-10-10T01:00:00", {})]:
            body = {"vehicle": vehicle, "driver": driver, "depart": depart, "return": ret, "tz": TZ,
                    "from": "机关大院", "to": "市政府"}
            body.update(extra)
            cls.post("/api/v1/trips", body)
            o.trips.append({"vehicle": vehicle, "driver": driver, "depart": depart, "return": ret})

    # ---- the oracle ----

    def held(self, first=FROM, last=TO):
        return [m for m in self.org.meetings if in_period(m["start"], first, last)]

    def expect_meetings(self, by):
        rows = {}
        for m in self.held():
            mins = length(m["start"], m["end"])
            keys = {"kind": [m["kind"]], "department": [m["department"]],
                    "leader": m["leaders"], "month": [m["start"][:7]]}[by]
            for k in keys:
                c = rows.setdefault(k, [0, 0])
                c[0] += 1
                c[1] += mins
        total = (len(self.held()), sum(length(m["start"], m["end"]) for m in self.held()))
        return rows, total

    def get(self, path, status=200, token=None):
        kw = {} if token is None else {"token": token}
        r = self.srv.request("GET", path, **kw)
        self.assertEqual(r.status, status, (path, r))
        return r

    # ---- JSON ----

    def test_meetings_by_kind_department_month(self):
        names = {None: None}
        for by in ("kind", "department", "month"):
            body = self.get("/api/v1/reports/meetings?from=%s&to=%s&by=%s" % (FROM, TO, by)).body
            rows, total = self.expect_meetings(by)
            got = {r["key"]: (r["count"], r["hours"]) for r in body["rows"]}
            self.assertEqual(got, {names.get(k, k): (c, hours(mn)) for k, (c, mn) in rows.items()}, by)
            self.assertEqual(body["total"], {"count": total[0], "hours": hours(total[1])})
        kinds = [r["key"] for r in self.get(
            "/api/v1/reports/meetings?from=%s&to=%s" % (FROM, TO)).body["rows"]]
        self.assertEqual(kinds, ["办公会", "党组会", "专题会", "接待", None])  # the office's order

    def test_meetings_by_leader_not_as_passenger(self):
        body = self.get("/api/v1/reports/meetings?from=%s&to=%s&by=leader" % (FROM, TO)).body
        rows, _ = self.expect_meetings("leader")
        got = {r["person"]: (r["key"], r["count"], r["hours"]) for r in body["rows"]}
        self.assertEqual(got, {self.L1: ("张局长", rows[self.L1][0], hours(rows[self.L1][1])),
                               self.L2: ("李副局长", rows[self.L2][0], hours(rows[self.L2][1]))})
        self.assertEqual(got[self.L1][1], 5)  # 3 党组会, 办公会, 接待: not the ride on 09-19

    def test_rooms(self):
        body = self.get("/api/v1/reports/rooms?from=%s&to=%s" % (FROM, TO)).body
        d, avail = dt.date.fromisoformat(FROM), 0
        while d <= dt.date.fromisoformat(TO):
            if day_kind(d) == "working":
                avail += sum(b - a for a, b in PERIODS)
            d += dt.timedelta(days=1)
        self.assertEqual(body["available_hours"], hours(avail))
        for room, name in [(self.R1, "第一会议室"), (self.R2, "第二会议室")]:
            ms = [m for m in self.held() if m["room"] == room]
            work = sum(working_minutes(m["start"], m["end"]) for m in ms)
            row = [r for r in body["rows"] if r["room"] == room][0]
            self.assertEqual(row, {"room": room, "name": name, "bookings": len(ms),
                                   "hours": hours(sum(length(m["start"], m["end"]) for m in ms)),
                                   "working_hours": hours(work), "available_hours": hours(avail),
                                   "utilisation": round(work / avail, 4)}, name)
        r1 = [r for r in body["rows"] if r["room"] == self.R1][0]
        self.assertEqual(r1["working_hours"], 6.5)
        # Figures print as rounded (0.0026), not with 17 digits (0.0025999999999999999).
        raw = self.get("/api/v1/reports/rooms?from=%s&to=%s" % (FROM, TO)).raw.decode()
        for row in body["rows"]:
            self.assertIn('"utilisation":%s' % json.dumps(row["utilisation"]), raw)
        self.assertIsNone(re.search(r"\d\.\d{15,}", raw), raw)  # 10-06 is a holiday; lunch and 17:30 cut

    def test_vehicles_and_drivers(self):
        body = self.get("/api/v1/reports/vehicles?from=%s&to=%s" % (FROM, TO)).body
        trips = [t for t in self.org.trips if in_period(t["depart"])]
        for v, name, plate in [(self.V1, "考斯特", "京A·00001"), (self.V2, "帕萨特", "京A·00002")]:
            ts = [t for t in trips if t["vehicle"] == v]
            row = [r for r in body["rows"] if r["vehicle"] == v][0]
            self.assertEqual(row, {"vehicle": v, "name": name, "plate": plate, "trips": len(ts),
                                   "hours": hours(sum(length(t["depart"], t["return"]) for t in ts))})
        body = self.get("/api/v1/reports/drivers?from=%s&to=%s" % (FROM, TO)).body
        self.assertEqual({r["driver"] for r in body["rows"]}, {self.D1, self.D2, self.D3})
        for d in (self.D1, self.D2, self.D3):
            ts = [t for t in trips if t["driver"] == d]
            parts = {"workday_day": 0, "workday_night": 0, "rest_day": 0, "holiday": 0}
            for t in ts:
                for k, v in driver_parts(t["depart"], t["return"]).items():
                    parts[k] += v
            row = [r for r in body["rows"] if r["driver"] == d][0]
            want = {"trips": len(ts), "hours": hours(sum(length(t["depart"], t["return"]) for t in ts))}
            want.update({k: hours(v) for k, v in parts.items()})
            self.assertEqual({k: row[k] for k in want}, want, row["name"])
        d2 = [r for r in body["rows"] if r["driver"] == self.D2][0]
        # Tue 18:00-19:00 day, 19:00-21:30 night; Fri 22:00-24:00 night and 00:00-01:00 on the
        # make-up working Saturday night too; 10-03 (a Saturday in 国庆) a holiday.
        self.assertEqual((d2["workday_day"], d2["workday_night"], d2["holiday"]), (1.0, 5.5, 2.0))

    def test_meals(self):
        meals = [m for m in self.org.meals if FROM <= m["day"] <= TO]
        for by in ("meal", "diet", "department"):
            body = self.get("/api/v1/reports/meals?from=%s&to=%s&by=%s" % (FROM, TO, by)).body
            want = {}
            for m in meals:
                if by == "diet":
                    for diet, n in m["diets"].items():
                        want[diet] = want.get(diet, 0) + n
                    rest = m["count"] - sum(m["diets"].values())
                    want["regular"] = want.get("regular", 0) + rest
                else:
                    k = m[by]
                    want[k] = want.get(k, 0) + m["count"]
            self.assertEqual({r["key"]: r["count"] for r in body["rows"]}, want, by)
            self.assertEqual(body["total"], sum(m["count"] for m in meals))
        self.assertEqual(body["total"], 27)

    def test_year(self):
        body = self.get("/api/v1/reports/year?year=2026").body
        kinds = {}
        for m in self.org.meetings:
            k = m["kind"] or "其他会议"
            kinds[k] = kinds.get(k, 0) + 1
        meals = sum(m["count"] for m in self.org.meals)
        self.assertEqual(body["meetings"], kinds)
        self.assertEqual((body["trips"], body["meals"]), (len(self.org.trips), meals))
        self.assertEqual(body["approvals"], {"approved": 0, "rejected": 0, "expired": 0})
        self.assertEqual(body["text"], "2026年共召开办公会2次、党组会3次、专题会1次、其他会议1次，"
                                       "安排接待1次、调研1次，派车5次，用餐27人次。")
        empty = self.get("/api/v1/reports/year?year=2025").body
        self.assertEqual(empty["text"], "2025年未召开会议，派车0次，用餐0人次。")

    def test_year_counts_approvals_by_when_decided(self):
        """The year's approvals: each counted once, in the year it was decided, by its outcome."""
        self.put_rules = self.srv.request(
            "PUT", "/api/v1/approval-rules",
            {"office_director": self.L2, "principal": self.L1, "budget_tiers": [1000, 20000, 50000]})
        self.assertEqual(self.put_rules.status, 200, self.put_rules)
        try:
            decided = {}
            for decision, day in (("approve", "2027-03-01"), ("reject", "2027-03-02")):
                ev = self.post("/api/v1/events", {
                    "title": "小额采购论证", "start": day + "T09:00:00", "end": day + "T10:00:00",
                    "attendees": [{"person": self.L1}], "budget": {"amount": 800, "currency": "CNY"}})
                self.assertEqual(ev["status"], "pending", ev)
                (ap,) = ev["approvals"]
                r = self.srv.request("POST", "/api/v1/approvals/%s/decision" % ap["id"],
                                     {"decision": decision, "comment": "年报统计"})
                self.assertEqual(r.status, 200, r)
                decided[decision] = ev["id"]
            this_year = self.get("/api/v1/reports/year?year=%d" % time.gmtime().tm_year).body
            self.assertEqual(this_year["approvals"], {"approved": 1, "rejected": 1, "expired": 0})
            # Meetings of 2027 are not this year's meetings, and 2027 decided nothing.
            self.assertEqual(self.get("/api/v1/reports/year?year=2027").body["approvals"],
                             {"approved": 0, "rejected": 0, "expired": 0})
        finally:
            self.srv.request("DELETE", "/api/v1/approval-rules")

    def test_period_edges(self):
        # One day: 09-17 only (the 办公会); the day before the series' first occurrence: nothing.
        body = self.get("/api/v1/reports/meetings?from=2026-09-17&to=2026-09-17").body
        self.assertEqual(body["total"], {"count": 1, "hours": 4.0})
        body = self.get("/api/v1/reports/meetings?from=2026-09-13&to=2026-09-13").body
        self.assertEqual((body["rows"], body["total"]["count"]), ([], 0))
        # 366 days is the longest range (a leap year, or a year and a day).
        self.get("/api/v1/reports/rooms?from=2026-01-01&to=2027-01-01")

    # ---- CSV and XLSX ----

    def sheet_rows(self, name, query):
        return self.get("/api/v1/reports/%s?%s" % (name, query)).body

    def check_disposition(self, r, want):
        cd = r.header("Content-Disposition")
        self.assertTrue(cd.startswith('attachment; filename="report-'), cd)
        star = cd.split("filename*=UTF-8''")[1]
        self.assertEqual(urllib.parse.unquote(star), want)

    def read_csv(self, name, query):
        r = self.get("/api/v1/reports/%s?%s&format=csv" % (name, query))
        self.assertEqual(r.header("Content-Type"), "text/csv; charset=utf-8")
        raw = r.raw
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"), raw[:10])
        self.assertTrue(raw.endswith(b"\r\n"))
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""))
        return r, list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))

    @staticmethod
    def csv_value(cell, like):
        """A CSV cell read as the JSON value it stands for (numbers as numbers)."""
        if isinstance(like, bool) or like is None:
            return None if cell == "" else cell
        if isinstance(like, int):
            return int(cell)
        if isinstance(like, float):
            return float(cell)
        return cell

    def read_xlsx(self, name, query):
        import openpyxl
        r = self.get("/api/v1/reports/%s?%s&format=xlsx" % (name, query))
        self.assertEqual(r.header("Content-Type"),
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        wb = openpyxl.load_workbook(io.BytesIO(r.raw))
        self.assertEqual(len(wb.worksheets), 1)
        return r, [list(row) for row in wb.worksheets[0].iter_rows(values_only=True)]

    def test_csv_and_xlsx_match_json(self):
        q = "from=%s&to=%s" % (FROM, TO)
        labels = {"lunch": "午餐", "dinner": "晚餐", "halal": "清真", "vegetarian": "素食",
                  "regular": "普通", None: "未注明"}
        cases = [
            ("meetings", q + "&by=kind", ["会议类别", "次数", "时长（小时）"],
             lambda b: [[labels.get(r["key"], r["key"]), r["count"], r["hours"]] for r in b["rows"]]
             + [["合计", b["total"]["count"], b["total"]["hours"]]], "会议统计_%s至%s" % (FROM, TO)),
            ("meals", q + "&by=diet", ["饮食", "人次"],
             lambda b: [[labels.get(r["key"], r["key"]), r["count"]] for r in b["rows"]]
             + [["合计", b["total"]]], "用餐统计_%s至%s" % (FROM, TO)),
            ("rooms", q, ["会议室", "使用次数", "使用时长（小时）", "工作时间内（小时）", "可用时长（小时）", "利用率"],
             lambda b: [[r["name"], r["bookings"], r["hours"], r["working_hours"], r["available_hours"],
                         r["utilisation"]] for r in b["rows"]], "会议室使用统计_%s至%s" % (FROM, TO)),
            ("vehicles", q, ["车辆", "车牌号", "出车次数", "时长（小时）"],
             lambda b: [[r["name"], r["plate"], r["trips"], r["hours"]] for r in b["rows"]],
             "车辆使用统计_%s至%s" % (FROM, TO)),
            ("drivers", q, ["驾驶员", "出车次数", "时长（小时）", "工作日白天（小时）", "工作日夜间（小时）",
                            "休息日（小时）", "节假日（小时）"],
             lambda b: [[r["name"], r["trips"], r["hours"], r["workday_day"], r["workday_night"],
                         r["rest_day"], r["holiday"]] for r in b["rows"]],
             "驾驶员出车统计_%s至%s" % (FROM, TO)),
            ("year", "year=2026", ["项目", "数值"],
             lambda b: [["%s（次）" % k, v] for k, v in b["meetings"].items()]
             + [["派车（次）", b["trips"]], ["用餐（人次）", b["meals"]], ["审批同意（件）", 0],
                ["审批不同意（件）", 0], ["审批逾期未批（件）", 0], ["总结", b["text"]]], "年度统计_2026年"),
        ]
        for name, query, header, rows_of, file in cases:
            with self.subTest(report=name):
                want = rows_of(self.sheet_rows(name, query))
                r, lines = self.read_csv(name, query)
                self.check_disposition(r, file + ".csv")
                self.assertEqual(lines[0], header)
                self.assertEqual([[self.csv_value(c, w) for c, w in zip(line, row)]
                                  for line, row in zip(lines[1:], want)], want)
                self.assertEqual(len(lines) - 1, len(want))
                r, cells = self.read_xlsx(name, query)
                self.check_disposition(r, file + ".xlsx")
                self.assertEqual(cells[0], header)
                self.assertEqual(cells[1:], want)  # numbers are numbers
                self.assertTrue(any(isinstance(c, (int, float)) for row in cells[1:] for c in row))

    # ---- refusals ----

    def test_bad_parameters(self):
        cases = [
            ("meetings?to=2026-10-01", 422, "required", "from"),
            ("meetings?from=2026-10-01", 422, "required", "to"),
            ("meetings?from=2026-13-01&to=2026-12-31", 422, "invalid", "from"),
            ("meetings?from=2026-10-01&to=tomorrow", 422, "invalid", "to"),
            ("meetings?from=2026-10-02&to=2026-10-01", 422, "invalid", "to"),
            ("rooms?from=2026-01-01&to=2027-01-02", 422, "invalid", "to"),  # 366 days at most
            ("meetings?from=2026-10-01&to=2026-10-02&by=room", 422, "invalid", "by"),
            ("meals?from=2026-10-01&to=2026-10-02&by=kind", 422, "invalid", "by"),
            ("meetings?from=2026-10-01&to=2026-10-02&format=pdf", 422, "invalid", "format"),
            ("year", 422, "required", "year"),
            ("year?year=26", 422, "invalid", "year"),
            ("year?year=1999", 422, "invalid", "year"),
            ("year?year=abcd", 422, "invalid", "year"),
            ("meetings?from=2026-10-01-and-some-more&to=2026-10-02", 400, None, "from"),
            ("trips?from=2026-10-01&to=2026-10-02", 404, "not_found", None),
        ]
        for path, status, code, field in cases:
            with self.subTest(path=path):
                r = self.get("/api/v1/reports/" + path, status=status)
                if code:
                    self.assertEqual(r.code, code, r)
                if field:
                    self.assertEqual(r.field, field, r)

    def test_roles(self):
        tokens = {}
        for role, person in [("driver", self.D1), ("leader", self.L1), ("canteen", None),
                             ("secretary", None)]:
            body = {"role": role, "name": "t-" + role}
            if person:
                body["person"] = person
            tokens[role] = self.post("/api/v1/tokens", body)["token"]
        for role in ("driver", "leader", "canteen"):
            for name in ("meetings?from=2026-10-01&to=2026-10-02", "year?year=2026",
                         "meals?from=2026-10-01&to=2026-10-02&format=csv"):
                self.get("/api/v1/reports/" + name, status=403, token=tokens[role])
        self.get("/api/v1/reports/year?year=2026", token=tokens["secretary"])
        self.get("/api/v1/reports/year?year=2026", status=401, token="cvn_not_a_token")


if __name__ == "__main__":
    unittest.main(verbosity=2)
