#!/usr/bin/env python3
"""The working calendar over HTTP (CONTRACT section 5, issue 7 part 1).

GET /api/v1/workdays against the State Council's arrangement for 2025 and 2026 (国庆节
2026-10-01..07 off, make-up working days on Saturday 2026-10-10, Sunday 2026-09-20 and
Saturday 2026-02-14, ordinary weekends off), working hours listed only for working days,
bad ranges refused; /feeds/holidays.ics parsed by an independent parser (Debian's
python3-icalendar) and compared with the committed calendars/holidays/*.ics, also parsed
by python3-icalendar; SIGHUP reloads the calendar from a copy of the calendars folder,
and a malformed file on reload keeps the old calendar with the service up.

Run: python3 tests/e2e/test_workcal.py   (CONVENE_BIN, CONVENE_SOURCE_DIR as for ctest)
"""

import datetime
import os
import shutil
import signal
import sys
import tempfile
import unittest

try:
    import icalendar
except ImportError:
    # A python3 earlier on PATH (pyenv, venv) may not see Debian's packages: retry once
    # with the system interpreter before giving up.
    SYSTEM_PY = "/usr/bin/python3"
    if (os.path.exists(SYSTEM_PY) and not os.environ.get("CONVENE_WORKCAL_REEXEC")
            and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PY)):
        os.environ["CONVENE_WORKCAL_REEXEC"] = "1"
        os.execv(SYSTEM_PY, [SYSTEM_PY, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("test_workcal: needs python3-icalendar (apt-get install -y python3-icalendar)")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPO, Server, wait_until  # noqa: E402

CALENDARS = os.path.join(REPO, "calendars")
HOLIDAYS = os.path.join(CALENDARS, "holidays")
DAY = datetime.timedelta(days=1)
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
DEFAULT_HOURS = [{"start": "08:30", "end": "12:00"}, {"start": "14:00", "end": "17:30"}]


def d(s):
    return datetime.date.fromisoformat(s)


def special_days_of(calendar_bytes_list):
    """{date: (off, name)} from iCalendar texts, as python3-icalendar reads them.

    The day type is X-CONVENE-DAY-TYPE, else CATEGORIES (HOLIDAY / WORKDAY); DTEND is
    exclusive, a missing DTEND means one day.
    """
    days = {}
    for raw in calendar_bytes_list:
        cal = icalendar.Calendar.from_ical(raw)
        for ev in cal.walk("VEVENT"):
            kind = ev.get("X-CONVENE-DAY-TYPE")
            kind = str(kind) if kind is not None else None
            if kind is None:
                cats = ev.get("CATEGORIES")
                text = ""
                if cats is not None:
                    for c in (cats if isinstance(cats, list) else [cats]):
                        text += ",".join(str(x) for x in c.cats)
                kind = "HOLIDAY" if "HOLIDAY" in text else "WORKDAY" if "WORKDAY" in text else None
            if kind not in ("HOLIDAY", "WORKDAY"):
                continue
            start = ev.decoded("DTSTART")
            assert isinstance(start, datetime.date) and not isinstance(start, datetime.datetime)
            end = ev.decoded("DTEND") if ev.get("DTEND") is not None else start + DAY
            day = start
            while day < end:
                days[day] = (kind == "HOLIDAY", str(ev.get("SUMMARY", "")))
                day += DAY
    return days


def repo_special_days():
    texts = []
    for name in sorted(os.listdir(HOLIDAYS)):
        if name.endswith(".ics"):
            with open(os.path.join(HOLIDAYS, name), "rb") as f:
                texts.append(f.read())
    return special_days_of(texts)


def expected_working(day, specials):
    if day in specials:
        return not specials[day][0]
    return day.weekday() < 5


class WorkdaysTest(unittest.TestCase):
    srv = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(calendars=CALENDARS).start()
        cls.specials = repo_special_days()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def workdays(self, frm, to):
        r = self.srv.get("/api/v1/workdays?from=%s&to=%s" % (frm, to))
        self.assertEqual(r.status, 200, r)
        self.assertIsInstance(r.body, list)
        return {d(x["date"]): x for x in r.body}

    def test_2026_special_days(self):
        days = self.workdays("2026-01-01", "2026-12-31")
        self.assertEqual(len(days), 365)
        for n in range(1, 8):
            day = days[datetime.date(2026, 10, n)]
            self.assertFalse(day["working"], day)
            self.assertEqual(day["holiday"], "国庆节")
            self.assertFalse(day["makeup"])
            self.assertEqual(day["hours"], [])
        for date, weekday, name in (("2026-10-10", "Sat", "国庆节调休上班"),
                                    ("2026-09-20", "Sun", "国庆节调休上班"),
                                    ("2026-02-14", "Sat", "春节调休上班"),
                                    ("2026-02-28", "Sat", "春节调休上班"),
                                    ("2026-01-04", "Sun", "元旦调休上班")):
            day = days[d(date)]
            self.assertEqual(day["weekday"], weekday, day)
            self.assertTrue(day["working"], day)
            self.assertTrue(day["makeup"], day)
            self.assertEqual(day["holiday"], name)
            self.assertEqual(day["hours"], DEFAULT_HOURS)
        # An ordinary Saturday and Sunday, and the weekend adjoining the holiday.
        for date in ("2026-11-28", "2026-11-29", "2026-10-11"):
            day = days[d(date)]
            self.assertFalse(day["working"], day)
            self.assertIsNone(day["holiday"])
            self.assertFalse(day["makeup"])
            self.assertEqual(day["hours"], [])
        # The Thursday after the holiday is an ordinary working day.
        day = days[d("2026-10-08")]
        self.assertTrue(day["working"])
        self.assertIsNone(day["holiday"])
        self.assertEqual(days[d("2026-02-17")]["holiday"], "春节")
        self.assertEqual(days[d("2026-05-05")]["holiday"], "劳动节")

    def test_2025_special_days(self):
        days = self.workdays("2025-01-01", "2025-12-31")
        for date in ("2025-10-01", "2025-10-08", "2025-01-28", "2025-02-04", "2025-05-05",
                     "2025-04-04", "2025-06-02"):
            self.assertFalse(days[d(date)]["working"], date)
            self.assertTrue(days[d(date)]["holiday"], date)
        self.assertEqual(days[d("2025-10-01")]["holiday"], "国庆节、中秋节")
        for date in ("2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"):
            day = days[d(date)]
            self.assertIn(day["weekday"], ("Sat", "Sun"), day)
            self.assertTrue(day["working"], day)
            self.assertTrue(day["makeup"], day)
        self.assertFalse(days[d("2025-11-29")]["working"])  # an ordinary Saturday

    def test_every_day_matches_the_committed_calendars(self):
        """Each day of 2025 and 2026 against the .ics files read by python3-icalendar."""
        self.assertGreater(len(self.specials), 40)
        for frm, to in (("2025-01-01", "2025-12-31"), ("2026-01-01", "2026-12-31")):
            days = self.workdays(frm, to)
            day = d(frm)
            while day <= d(to):
                got = days[day]
                self.assertEqual(got["date"], day.isoformat())
                self.assertEqual(got["weekday"], WEEKDAYS[day.weekday()], got)
                working = expected_working(day, self.specials)
                self.assertEqual(got["working"], working, got)
                self.assertEqual(got["holiday"],
                                 self.specials[day][1] if day in self.specials else None, got)
                self.assertEqual(got["makeup"], day in self.specials and working, got)
                # Hours only on working days.
                self.assertEqual(got["hours"], DEFAULT_HOURS if working else [], got)
                day += DAY

    def test_a_year_without_a_file_is_plain_weekdays(self):
        days = self.workdays("2031-09-29", "2031-10-12")
        for day, got in days.items():
            self.assertEqual(got["working"], day.weekday() < 5, got)
            self.assertIsNone(got["holiday"])

    def test_single_day_range_and_order(self):
        r = self.srv.get("/api/v1/workdays?from=2026-10-10&to=2026-10-10")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.body), 1)
        self.assertEqual(r.body[0]["date"], "2026-10-10")
        r = self.srv.get("/api/v1/workdays?from=2026-12-28&to=2027-01-03")
        self.assertEqual([x["date"] for x in r.body],
                         ["2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01",
                          "2027-01-02", "2027-01-03"])

    def test_bad_ranges(self):
        for query, field in (("", "from"),
                             ("?from=2026-10-01", "to"),
                             ("?to=2026-10-01", "from"),
                             ("?from=2026-13-01&to=2026-10-01", "from"),
                             ("?from=2026-10-1&to=2026-10-07", "from"),
                             ("?from=2026-02-30&to=2026-03-07", "from"),
                             ("?from=2026-10-01&to=2026-10-07T00", "to"),
                             ("?from=yesterday&to=2026-10-07", "from"),
                             ("?from=2026-10-07&to=2026-10-01", "to"),
                             ("?from=2026-01-01&to=2027-01-02", "to"),   # 367 days
                             ("?from=2026-01-01&to=2036-01-01", "to")):
            r = self.srv.get("/api/v1/workdays" + query)
            self.assertEqual(r.status, 422, (query, r))
            self.assertEqual(r.field, field, (query, r))
        # A value too long for any date is malformed (400), not merely invalid.
        r = self.srv.get("/api/v1/workdays?from=2026-10-01&to=2026-10-07T00:00:00")
        self.assertEqual((r.status, r.field), (400, "to"), r)
        # 366 days (a leap year's worth) is the most.
        r = self.srv.get("/api/v1/workdays?from=2026-01-01&to=2027-01-01")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.body), 366)
        # The API needs a token; the feed does not.
        r = self.srv.get("/api/v1/workdays?from=2026-10-01&to=2026-10-07", token=None)
        self.assertEqual(r.status, 401, r)

    def test_feed_lists_the_same_special_days(self):
        r = self.srv.get("/feeds/holidays.ics", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type", "").startswith("text/calendar"), r.headers)
        raw = r.raw
        self.assertTrue(raw.startswith(b"BEGIN:VCALENDAR\r\n"))
        # RFC 5545: CRLF line ends, no line over 75 octets.
        for line in raw.split(b"\r\n"):
            self.assertNotIn(b"\n", line)
            self.assertLessEqual(len(line), 75, line)
        cal = icalendar.Calendar.from_ical(raw)
        self.assertEqual(str(cal.get("VERSION")), "2.0")
        uids = [str(ev.get("UID")) for ev in cal.walk("VEVENT")]
        self.assertEqual(len(uids), len(set(uids)), "UIDs must be unique")
        published = special_days_of([raw])
        self.assertEqual(set(published), set(self.specials))
        for day, (off, name) in self.specials.items():
            self.assertEqual(published[day][0], off, day)
            # The feed marks each day 休 or 班 after the name.
            self.assertTrue(published[day][1].startswith(name), (day, published[day]))
        self.assertTrue(published[d("2026-10-01")][0])
        self.assertFalse(published[d("2026-10-10")][0])
        self.assertFalse(published[d("2026-09-20")][0])
        self.assertFalse(published[d("2026-02-14")][0])
        self.assertNotIn(d("2026-11-28"), published)
        for ev in cal.walk("VEVENT"):
            self.assertEqual(str(ev.get("TRANSP")), "TRANSPARENT")
            start = ev.decoded("DTSTART")
            self.assertNotIsInstance(start, datetime.datetime)  # all-day


class WorkingHoursOptionTest(unittest.TestCase):
    def test_configured_hours_are_listed(self):
        with Server(calendars=CALENDARS,
                    extra_args=["--working-hours", "09:00-12:00,13:30-18:00"]) as srv:
            r = srv.get("/api/v1/workdays?from=2026-10-09&to=2026-10-11")
            self.assertEqual(r.status, 200, r)
            hours = [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}]
            self.assertEqual([x["hours"] for x in r.body], [hours, hours, []])


HOLIDAY_ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//workcal//EN\r\n"
    "BEGIN:VEVENT\r\nUID:20261224-test@convene.test\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261225\r\n"
    "SUMMARY:测试假日\r\nX-CONVENE-DAY-TYPE:HOLIDAY\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:20261226-test@convene.test\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART;VALUE=DATE:20261226\r\nSUMMARY:测试调休\r\nCATEGORIES:WORKDAY\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n")


class ReloadTest(unittest.TestCase):
    """SIGHUP re-reads DIR/holidays/*.ics; a bad file keeps the calendar in use."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="convene-workcal-")
        self.cals = os.path.join(self.tmp, "calendars")
        shutil.copytree(CALENDARS, self.cals)
        self.srv = Server(calendars=self.cals).start()

    def tearDown(self):
        self.srv.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def day(self, date):
        r = self.srv.get("/api/v1/workdays?from=%s&to=%s" % (date, date))
        self.assertEqual(r.status, 200, r)
        return r.body[0]

    def write(self, name, text):
        path = os.path.join(self.cals, "holidays", name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        return path

    def hup(self):
        """Sends SIGHUP and waits for the reload's log line (success or error)."""
        before = self.srv.stderr_text().count("received SIGHUP")
        self.srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.srv.stderr_text().count("received SIGHUP") > before, 10,
                   "the SIGHUP log line")
        # The load's own result follows on the same loop turn.
        wait_until(lambda: self.srv.stderr_text().split("received SIGHUP")[-1]
                   .count("working calendar:") >= 1, 10, "the reload result")
        return self.srv.stderr_text().split("received SIGHUP")[-1]

    def slots_on(self, date):
        person = self.srv.create("people", {"name": "甲", "role": "leader"})
        r = self.srv.post("/api/v1/availability", {
            "people": [person["id"]], "duration_minutes": 60, "from": date, "to": date,
            "limit": 50})
        self.assertEqual(r.status, 200, r)
        return r.body["slots"]

    def test_reload_adds_a_holiday_and_keeps_it_on_a_bad_file(self):
        self.assertTrue(self.day("2026-12-24")["working"])       # a Thursday
        self.assertFalse(self.day("2026-12-26")["working"])      # a Saturday
        self.assertEqual(len(self.slots_on("2026-12-24")), 22)   # 11 + 11 starts at step 15

        self.write("zz-test.ics", HOLIDAY_ICS)
        log = self.hup()
        self.assertIn("special days", log)
        day = self.day("2026-12-24")
        self.assertFalse(day["working"], day)
        self.assertEqual(day["holiday"], "测试假日")
        self.assertEqual(day["hours"], [])
        day = self.day("2026-12-26")
        self.assertTrue(day["working"], day)
        self.assertTrue(day["makeup"], day)
        # The old calendars are still read alongside the new file.
        self.assertFalse(self.day("2026-10-01")["working"])
        self.assertTrue(self.day("2026-10-10")["working"])
        # Slot search and the feed follow.
        self.assertEqual(self.slots_on("2026-12-24"), [])
        feed = self.srv.get("/feeds/holidays.ics", token=None)
        self.assertEqual(feed.status, 200)
        published = special_days_of([feed.raw])
        self.assertTrue(published[d("2026-12-24")][0])
        self.assertFalse(published[d("2026-12-26")][0])

        # A malformed file: the reload fails, the calendar in use stays, the service runs.
        for bad in ("this is not an iCalendar file\n",
                    # a holiday needs an all-day DTSTART
                    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
                    "UID:x@t\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261231T090000\r\n"
                    "SUMMARY:x\r\nX-CONVENE-DAY-TYPE:HOLIDAY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                    # truncated while being written
                    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n"
                    "DTSTART;VALUE=DATE:20261231\r\n",
                    # two calendars in one file (cat a.ics b.ics): refused, not read as empty
                    HOLIDAY_ICS + HOLIDAY_ICS.replace("1224", "1231")):
            self.write("zz-bad.ics", bad)
            # This reload would also drop the test holiday if it were applied.
            os.rename(os.path.join(self.cals, "holidays", "zz-test.ics"),
                      os.path.join(self.cals, "holidays", "zz-test.ics.off"))
            log = self.hup()
            self.assertIn("zz-bad.ics", log)
            self.assertTrue(self.srv.running())
            day = self.day("2026-12-24")
            self.assertFalse(day["working"], (bad, day))
            self.assertEqual(day["holiday"], "测试假日")
            self.assertFalse(self.day("2026-10-01")["working"])
            self.assertEqual(self.srv.get("/healthz", token=None).status, 200)
            os.rename(os.path.join(self.cals, "holidays", "zz-test.ics.off"),
                      os.path.join(self.cals, "holidays", "zz-test.ics"))

        # Removing both files and reloading goes back to the committed calendar.
        os.unlink(os.path.join(self.cals, "holidays", "zz-bad.ics"))
        os.unlink(os.path.join(self.cals, "holidays", "zz-test.ics"))
        log = self.hup()
        self.assertIn("special days", log)
        self.assertTrue(self.day("2026-12-24")["working"])
        self.assertFalse(self.day("2026-12-26")["working"])
        self.assertFalse(self.day("2026-10-01")["working"])
        self.assertEqual(len(self.slots_on("2026-12-24")), 22)
        # A SIGHUP never stops the service.
        self.assertTrue(self.srv.running())
        self.assertEqual(self.srv.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
