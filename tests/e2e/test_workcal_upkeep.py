#!/usr/bin/env python3
"""Working calendar upkeep (CONTRACT section 11, issue 13 finding 1; section 10 for the feed).

The shipped calendars end on 2026-12-31. The service must say so before it matters
(/healthz calendar_until and warnings, a log line, a metric), mark days it only guesses
(known:false, "calendar":"unverified"), and let the office load the next year's notice the
day it appears: PUT /api/v1/workdays/{year} (admin) or `convene calendar load FILE`, stored
in the database, in effect at once for /workdays, availability, trip approval and
/feeds/holidays.ics (whose ETag and Last-Modified move, with 304s and a gzip ETag of its
own), kept across restarts and SIGHUP. Every kind of bad notice is refused with the field.

The 2027 and 2028 dates below are test input (the CONTRACT's example), not published data.
There is no clock override in the service, so the warning is checked against the real date
(the expected text follows from today in Asia/Shanghai); core/workcal.c's warning itself is
unit-tested with chosen dates in tests/unit/test_workcal.c.

Run: python3 tests/e2e/test_workcal_upkeep.py   (CONVENE_BIN=build/convene)
"""

import datetime
import gzip
import json
import os
import signal
import sys
import time
import unittest
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, wait_until  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
METRIC = ("convene_workcal_covered_until_timestamp_seconds", frozenset())
NOTICE_2027 = {"holidays": [{"name": "元旦", "from": "2026-12-31", "to": "2027-01-02"},
                            {"name": "春节", "from": "2027-02-06", "to": "2027-02-12"}],
               "workdays": ["2027-02-20"]}


def today():
    return datetime.datetime.now(TZ).date()


def end_of(year):
    """Unix time of the midnight after 31 December of year in Asia/Shanghai."""
    return datetime.datetime(year + 1, 1, 1, tzinfo=TZ).timestamp()


def expect_warning(last_day):
    """Whether a calendar ending on last_day must warn today (60 days, inclusive)."""
    return (last_day - today()).days <= 60


def unfold(raw):
    return raw.decode("utf-8").replace("\r\n ", "").split("\r\n")


class Base(unittest.TestCase):
    srv = None

    def put(self, year, body, token=None):
        kw = {} if token is None else {"token": token}
        return self.srv.request("PUT", "/api/v1/workdays/%s" % year, body, **kw)

    def days(self, frm, to):
        r = self.srv.get("/api/v1/workdays?from=%s&to=%s" % (frm, to))
        self.assertEqual(r.status, 200, r)
        return {x["date"]: x for x in r.body}

    def slots(self, date):
        r = self.srv.post("/api/v1/availability", {"people": [self.person], "duration_minutes": 60,
                                                   "from": date, "to": date, "limit": 50})
        self.assertEqual(r.status, 200, r)
        return r.body["slots"]

    def booking_with_trip(self, date):
        """An event with a trip on date, without approved_by; a fresh car and driver each time."""
        car = self.srv.create("vehicles", {"name": "车%s" % time.monotonic_ns(), "seats": 4})
        driver = self.srv.create("people", {"name": "司机", "role": "driver"})
        return self.srv.post("/api/v1/events", {
            "title": "出车", "start": "%sT09:00:00" % date, "end": "%sT10:00:00" % date,
            "trips": [{"vehicle": car["id"], "driver": driver["id"],
                       "depart": "%sT08:00:00" % date, "return": "%sT12:00:00" % date,
                       "from": "机关大院", "to": "市政府"}]})


class LoadYearTest(Base):
    """One server: the shipped calendar, then 2027 loaded over HTTP."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        cls.person = cls.srv.create("people", {"name": "甲", "role": "leader"})["id"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_1_before_loading(self):
        # /healthz: how far the calendar reaches, and the warning while it runs out.
        r = self.srv.get("/healthz", token=None)
        self.assertEqual((r.status, r.body["status"], r.body["calendar_until"]),
                         (200, "ok", "2026-12-31"), r)
        self.assertTrue(expect_warning(datetime.date(2026, 12, 31)), "the shipped data warns by now")
        self.assertEqual(len(r.body["warnings"]), 1, r.body)
        warning = r.body["warnings"][0]
        for text in ("2027", "PUT /api/v1/workdays/2027", "convene calendar load", "国务院办公厅"):
            self.assertIn(text, warning)
        if today() <= datetime.date(2026, 12, 31):
            self.assertIn("工作日历只到 2026-12-31", warning)
            self.assertIn("ends on 2026-12-31", warning)
        # The log said it at start, at warn level.
        self.srv.wait_for_log(" warn working calendar: ")
        log = self.srv.stderr_text()
        self.assertIn("PUT /api/v1/workdays/2027", log.split(" warn working calendar: ")[1])
        self.assertEqual(self.srv.metrics()[METRIC], end_of(2026))

        # Beyond the calendar: the weekday rule, marked as a guess.
        days = self.days("2026-12-30", "2027-02-21")
        self.assertTrue(days["2026-12-31"]["known"])
        for date in ("2027-01-01", "2027-02-08", "2027-02-20"):
            self.assertFalse(days[date]["known"], days[date])
        self.assertTrue(days["2027-02-08"]["working"])       # a Monday
        self.assertFalse(days["2027-02-20"]["working"])      # a Saturday
        slots = self.slots("2027-02-08")
        self.assertEqual(len(slots), 22)
        self.assertTrue(all(s["calendar"] == "unverified" for s in slots), slots[0])
        self.assertTrue(all("calendar" not in s for s in self.slots("2026-12-30")))
        # Nothing for 2027 yet; 2026 shows what the files hold.
        r = self.srv.get("/api/v1/workdays/2027")
        self.assertEqual((r.status, r.code), (404, "not_found"), r)
        r = self.srv.get("/api/v1/workdays/2026")
        self.assertEqual((r.status, r.body["source"]), (200, "files"), r)
        self.assertIn({"name": "国庆节", "from": "2026-10-01", "to": "2026-10-07"},
                      r.body["holidays"])
        self.assertIn("2026-10-10", r.body["workdays"])
        # A trip on 2027-02-08 is an ordinary weekday trip; on Saturday 2027-02-20 it needs approval.
        self.assertEqual(self.booking_with_trip("2027-02-08").status, 201)
        r = self.booking_with_trip("2027-02-20")
        self.assertEqual((r.status, r.code), (422, "approval_required"), r)

    def test_2_load_2027(self):
        feed0 = self.srv.get("/feeds/holidays.ics", token=None)
        self.assertEqual(feed0.status, 200)
        etag0, lm0 = feed0.header("ETag"), feed0.header("Last-Modified")
        self.assertTrue(etag0 and lm0, feed0.headers)
        time.sleep(1.1)  # Last-Modified has whole seconds

        r = self.put(2027, NOTICE_2027)
        self.assertEqual(r.status, 200, r)
        self.assertEqual({k: r.body[k] for k in ("year", "source", "holidays", "workdays")},
                         dict(NOTICE_2027, year=2027, source="database"))
        self.assertRegex(r.body["updated_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        got = self.srv.get("/api/v1/workdays/2027")
        self.assertEqual((got.status, got.body), (200, r.body))
        # The same notice may carry its year (a file kept for `convene calendar load`).
        self.assertEqual(self.put(2027, dict(NOTICE_2027, year=2027)).status, 200)

        # /workdays follows at once.
        days = self.days("2026-12-30", "2027-02-21")
        expect = {"2026-12-31": (False, "元旦"), "2027-01-01": (False, "元旦"),
                  "2027-02-08": (False, "春节"), "2027-02-12": (False, "春节"),
                  "2027-02-13": (False, None), "2027-02-15": (True, None),
                  "2027-02-20": (True, "春节调休上班"), "2027-02-21": (False, None)}
        for date, (working, name) in expect.items():
            self.assertEqual((days[date]["working"], days[date]["holiday"], days[date]["known"]),
                             (working, name, True), date)
        self.assertTrue(days["2027-02-20"]["makeup"])
        self.assertFalse(self.days("2028-03-06", "2028-03-06")["2028-03-06"]["known"])
        # Availability: nothing on a loaded holiday, verified slots around it.
        self.assertEqual(self.slots("2027-02-08"), [])
        for date in ("2027-02-15", "2027-02-20"):
            slots = self.slots(date)
            self.assertEqual(len(slots), 22, date)
            self.assertTrue(all("calendar" not in s for s in slots), slots[0])
        self.assertTrue(all(s["calendar"] == "unverified" for s in self.slots("2028-03-06")))
        # Approval: a trip on the loaded holiday needs it; on the make-up Saturday it does not.
        r = self.booking_with_trip("2027-02-08")
        self.assertEqual((r.status, r.code, r.field),
                         (422, "approval_required", "trips[0].approved_by"), r)
        self.assertIn("春节", r.message)
        self.assertEqual(self.booking_with_trip("2027-02-20").status, 201)

        # /healthz and the metric.
        r = self.srv.get("/healthz", token=None)
        self.assertEqual(r.body["calendar_until"], "2027-12-31")
        self.assertEqual("warnings" in r.body, expect_warning(datetime.date(2027, 12, 31)), r.body)
        self.assertEqual(self.srv.metrics()[METRIC], end_of(2027))

        # The feed: new content, new ETag, later Last-Modified; 304s on the new validators.
        feed = self.srv.get("/feeds/holidays.ics", token=None)
        lines = unfold(feed.raw)
        self.assertIn("DTSTART;VALUE=DATE:20270208", lines)
        self.assertIn("SUMMARY:春节（休）", lines)
        self.assertIn("UID:20270220-work@holidays.convene", lines)
        self.assertIn("SUMMARY:春节调休上班（班）", lines)
        self.assertIn("UID:20261001-off@holidays.convene", lines)  # the files' days stay
        etag, lm = feed.header("ETag"), feed.header("Last-Modified")
        self.assertNotEqual(etag, etag0)
        self.assertGreater(datetime.datetime.strptime(lm, "%a, %d %b %Y %H:%M:%S GMT"),
                           datetime.datetime.strptime(lm0, "%a, %d %b %Y %H:%M:%S GMT"))
        r = self.srv.get("/feeds/holidays.ics", token=None, headers={"If-None-Match": etag0})
        self.assertEqual((r.status, r.raw), (200, feed.raw))
        r = self.srv.get("/feeds/holidays.ics", token=None, headers={"If-None-Match": etag})
        self.assertEqual((r.status, r.raw, r.header("ETag")), (304, b"", etag))
        r = self.srv.get("/feeds/holidays.ics", token=None, headers={"If-Modified-Since": lm})
        self.assertEqual(r.status, 304)
        r = self.srv.get("/feeds/holidays.ics", token=None, headers={"If-Modified-Since": lm0})
        self.assertEqual(r.status, 200)

    def test_3_feed_gzip_has_its_own_etag(self):
        plain = self.srv.get("/feeds/holidays.ics", token=None)
        gz = self.srv.get("/feeds/holidays.ics", token=None, headers={"Accept-Encoding": "gzip"})
        self.assertEqual((gz.status, gz.header("Content-Encoding")), (200, "gzip"))
        self.assertEqual(gzip.decompress(gz.raw), plain.raw)
        self.assertTrue(gz.header("ETag") and plain.header("ETag"))
        self.assertNotEqual(gz.header("ETag"), plain.header("ETag"))
        self.assertIn("Accept-Encoding", gz.header("Vary"))
        self.assertTrue(gz.header("Last-Modified"))
        r = self.srv.get("/feeds/holidays.ics", token=None,
                         headers={"Accept-Encoding": "gzip", "If-None-Match": gz.header("ETag")})
        self.assertEqual((r.status, r.header("ETag")), (304, gz.header("ETag")))
        r = self.srv.get("/feeds/holidays.ics", token=None,
                         headers={"If-None-Match": plain.header("ETag")})
        self.assertEqual(r.status, 304)
        r = self.srv.get("/feeds/holidays.ics", token=None,
                         headers={"Accept-Encoding": "gzip", "If-None-Match": plain.header("ETag")})
        self.assertEqual((r.status, r.header("Content-Encoding")), (200, "gzip"))

    def test_4_a_loaded_year_replaces_the_files_and_survives_reload_and_restart(self):
        # The office corrects 2026 (test data): the files' 2026 days give way entirely.
        r = self.put(2026, {"holidays": [{"name": "国庆节", "from": "2026-10-01",
                                          "to": "2026-10-08"}]})
        self.assertEqual(r.status, 200, r)
        days = self.days("2026-02-16", "2026-02-16")
        self.assertTrue(days["2026-02-16"]["working"])            # no longer 春节 (a Monday)
        days = self.days("2026-10-08", "2026-10-10")
        self.assertFalse(days["2026-10-08"]["working"])
        self.assertFalse(days["2026-10-10"]["working"])            # the files' make-up Saturday
        self.assertEqual(self.srv.get("/api/v1/workdays/2025").body["source"], "files")
        # SIGHUP re-reads the files and keeps the loaded years.
        before = self.srv.stderr_text().count("received SIGHUP")
        self.srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.srv.stderr_text().count("received SIGHUP") > before, 10,
                   "the SIGHUP log line")
        wait_until(lambda: "known until 2027-12-31" in
                   self.srv.stderr_text().split("received SIGHUP")[-1], 10, "the reload")
        self.assertEqual(self.srv.get("/api/v1/workdays/2026").body["source"], "database")
        self.assertFalse(self.days("2026-10-08", "2026-10-08")["2026-10-08"]["working"])
        # A restart reads them from the database.
        self.assertEqual(self.srv.restart(), 0)
        self.assertEqual(self.srv.get("/api/v1/workdays/2027").body["holidays"],
                         NOTICE_2027["holidays"])
        self.assertEqual(self.srv.get("/healthz", token=None).body["calendar_until"], "2027-12-31")
        self.assertFalse(self.days("2027-02-08", "2027-02-08")["2027-02-08"]["working"])


class ValidationTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def with_holiday(self, **change):
        h = dict(NOTICE_2027["holidays"][1], **change)
        return {"holidays": [NOTICE_2027["holidays"][0], h], "workdays": ["2027-02-20"]}

    def test_refused_notices_change_nothing(self):
        cases = [
            # malformed (400)
            ([1, 2], 400, None, None),
            ({"holiday": []}, 400, "unknown_field", "holiday"),
            ({"holidays": {}}, 400, "wrong_type", "holidays"),
            ({"holidays": ["春节"]}, 400, "wrong_type", "holidays[0]"),
            ({"holidays": [{"name": "春节", "from": "2027-02-06", "to": "2027-02-12",
                            "off": True}]}, 400, "unknown_field", "holidays[0].off"),
            (self.with_holiday(**{"from": 20270206}), 400, "wrong_type", "holidays[1].from"),
            ({"holidays": NOTICE_2027["holidays"], "workdays": "2027-02-20"}, 400, "wrong_type",
             "workdays"),
            ({"holidays": NOTICE_2027["holidays"], "workdays": [20270220]}, 400, "wrong_type",
             "workdays[0]"),
            ({"year": "2027", "holidays": NOTICE_2027["holidays"]}, 400, "wrong_type", "year"),
            # invalid (422), each naming its field
            ({}, 422, "required", "holidays"),
            ({"holidays": []}, 422, "required", "holidays"),
            ({"year": 2028, "holidays": NOTICE_2027["holidays"]}, 422, "invalid", "year"),
            (self.with_holiday(name=""), 422, "required", "holidays[1].name"),
            (self.with_holiday(name="春" * 21), 422, "invalid", "holidays[1].name"),
            (self.with_holiday(**{"from": "2027-2-6"}), 422, "invalid", "holidays[1].from"),
            (self.with_holiday(**{"from": "2027-02-30"}), 422, "invalid", "holidays[1].from"),
            (self.with_holiday(**{"from": "2027-02-06" + "0" * 40}), 422, "invalid",
             "holidays[1].from"),
            (self.with_holiday(**{"from": "2026-12-24"}), 422, "invalid", "holidays[1].from"),
            (self.with_holiday(to="2028-01-01"), 422, "invalid", "holidays[1].to"),
            (self.with_holiday(to="2027-02-05"), 422, "invalid", "holidays[1].to"),
            (self.with_holiday(**{"from": "2027-01-02"}), 422, "invalid", "holidays[1]"),
            ({"holidays": NOTICE_2027["holidays"], "workdays": ["2027-02-17"]}, 422, "invalid",
             "workdays[0]"),
            ({"holidays": NOTICE_2027["holidays"], "workdays": ["2027-02-20", "2027-02-06"]},
             422, "invalid", "workdays[1]"),
            ({"holidays": NOTICE_2027["holidays"], "workdays": ["2027-02-20", "2027-02-20"]},
             422, "invalid", "workdays[1]"),
            ({"holidays": NOTICE_2027["holidays"], "workdays": ["2028-01-01"]}, 422, "invalid",
             "workdays[0]"),
            ({"holidays": NOTICE_2027["holidays"], "workdays": ["tomorrow"]}, 422, "invalid",
             "workdays[0]"),
        ]
        for body, status, code, field in cases:
            with self.subTest(body=body):
                r = self.put(2027, body)
                self.assertEqual(r.status, status, r)
                if code is not None:
                    self.assertEqual((r.code, r.field), (code, field), r)
                self.assertTrue(r.message)
        r = self.srv.request("PUT", "/api/v1/workdays/2027", raw_body=b"{not json",
                             headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        for year in ("1999", "2200", "27", "02027", "abcd"):
            r = self.put(year, NOTICE_2027)
            self.assertEqual(r.status, 404, (year, r))
            self.assertEqual(self.srv.get("/api/v1/workdays/%s" % year).status, 404)
        # Nothing was stored.
        self.assertEqual(self.srv.get("/api/v1/workdays/2027").status, 404)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM workcal_years")[0][0], 0)
        self.assertEqual(self.srv.get("/healthz", token=None).body["calendar_until"], "2026-12-31")

    def test_rights(self):
        _, secretary = self.srv.create_token("secretary")
        r = self.put(2027, NOTICE_2027, token=secretary)
        self.assertEqual((r.status, r.code), (403, "forbidden"), r)
        r = self.srv.request("PUT", "/api/v1/workdays/2027", NOTICE_2027, token=None)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(self.srv.get("/api/v1/workdays/2027").status, 404)
        # Anyone signed in may read a year.
        r = self.srv.get("/api/v1/workdays/2026", token=secretary)
        self.assertEqual((r.status, r.body["year"]), (200, 2026), r)


class ShellCommandTest(Base):
    """`convene calendar load` against the database of a running service."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def write(self, name, content):
        path = os.path.join(self.srv.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False))
        return path

    def load(self, path):
        return self.srv.cli(["calendar", "load", "--db", self.srv.db, path])

    def test_1_refused_files_change_nothing(self):
        cases = [
            ("weekday.json", dict(NOTICE_2027, year=2027, workdays=["2027-02-17"]),
             ["workdays[0]", "调休上班日期", "Saturday or Sunday", "calendar not loaded"]),
            ("late.json", {"year": 2027, "holidays": [{"name": "春节", "from": "2027-02-12",
                                                       "to": "2027-02-06"}]},
             ["holidays[0].to", "放假结束日期", "is before 'from'"]),
            ("noyear.json", NOTICE_2027, ["year", "年份"]),
            ("broken.json", "{\"year\": 2027, ", ["不是有效的 JSON", "cannot read"]),
            # Several years load all or nothing: 2028 is fine, 2029's entry is not.
            ("years.json", {"years": {
                "2028": [{"name": "元旦", "date": "2028-01-01", "off": True}],
                "2029": [{"name": "元旦", "date": "2029-01-01", "off": True},
                         {"name": "元旦", "date": "2029-01-03", "off": False}]}},
             ["2029", "workdays[0]", "Wednesday"]),
            ("entry.json", {"years": {"2028": [{"name": "元旦", "off": True}]}},
             ["years.2028[0]"]),
        ]
        for name, content, texts in cases:
            with self.subTest(file=name):
                p = self.load(self.write(name, content))
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn("工作日历未载入" if name != "broken.json" else "无法读取", p.stderr)
                for text in texts:
                    self.assertIn(text, p.stderr)
        p = self.load(os.path.join(self.srv.dir, "missing.json"))
        self.assertEqual(p.returncode, 1)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM workcal_years")[0][0], 0)
        for year in (2027, 2028):
            self.assertEqual(self.srv.get("/api/v1/workdays/%d" % year).status, 404)
        # Usage errors.
        self.assertEqual(self.srv.cli(["calendar"]).returncode, 2)
        self.assertEqual(self.srv.cli(["calendar", "unload", "x.json"]).returncode, 2)
        p = self.srv.cli(["calendar", "--help"])
        self.assertEqual(p.returncode, 0)
        self.assertIn("calendar load", p.stdout)
        self.assertIn("--db", p.stdout)
        self.assertIn("calendar", self.srv.cli(["--help"]).stdout)

    def test_2_load_while_serving(self):
        p = self.load(self.write("2027.json", dict(NOTICE_2027, year=2027)))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("已载入 2027 年工作日历：2 个节假日，1 个调休上班日", p.stdout)
        self.assertIn("loaded 2027: 2 holidays, 1 make-up working days", p.stdout)
        # The running service notices the other process's commit without a restart or signal.
        r = self.srv.get("/api/v1/workdays/2027")
        self.assertEqual((r.status, r.body["source"], r.body["holidays"]),
                         (200, "database", NOTICE_2027["holidays"]), r)
        self.assertFalse(self.days("2027-02-08", "2027-02-08")["2027-02-08"]["working"])
        self.assertEqual(self.srv.get("/healthz", token=None).body["calendar_until"], "2027-12-31")
        feed = self.srv.get("/feeds/holidays.ics", token=None)
        self.assertIn("DTSTART;VALUE=DATE:20270208", unfold(feed.raw))
        self.assertEqual(self.srv.metrics()[METRIC], end_of(2027))

        # The transcription shape ({"years": ...}), several years at once.
        p = self.load(self.write("years-ok.json", {"about": "test data", "years": {
            "2028": [{"name": "元旦", "date": "2028-01-01", "off": True},
                     {"name": "春节", "from": "2028-01-26", "to": "2028-02-01", "off": True},
                     {"name": "春节", "date": "2028-01-22", "off": False}],
            "2029": [{"name": "元旦", "date": "2029-01-01", "off": True}]}}))
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.srv.get("/api/v1/workdays/2028")
        self.assertEqual((r.body["holidays"][1], r.body["workdays"]),
                         ({"name": "春节", "from": "2028-01-26", "to": "2028-02-01"},
                          ["2028-01-22"]), r)
        day = self.days("2028-01-22", "2028-01-22")["2028-01-22"]
        self.assertEqual((day["working"], day["holiday"]), (True, "春节调休上班"))
        self.assertEqual(self.srv.get("/healthz", token=None).body["calendar_until"], "2029-12-31")


if __name__ == "__main__":
    unittest.main(verbosity=2)
