#!/usr/bin/env python3
"""Verify the committed PRC holiday calendars in calendars/holidays/cn-*.ics.

Run: python3 tests/e2e/test_holidays_ics.py   (exit status non-zero on failure)

The oracle is independent of convene and of tools/gen-holidays.py: Debian's
python3-icalendar parses the files and python3-recurring-ical-events decides which
events fall on a given day (so DTEND's exclusive end is interpreted by a third party).
The checks against ../shared/data/cn-public-holidays.json are skipped when that file
is absent; the files themselves are always parsed and spot-checked.
"""

import datetime
import glob
import os
import subprocess
import sys
import tempfile
import unittest

try:
    import icalendar
    import recurring_ical_events
except ImportError:
    # A python3 earlier on PATH (pyenv, venv) may not see Debian's packages; retry
    # once with the system interpreter before giving up.
    SYSTEM_PY = "/usr/bin/python3"
    if (os.path.exists(SYSTEM_PY) and not os.environ.get("CONVENE_HOLIDAYS_REEXEC")
            and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PY)):
        os.environ["CONVENE_HOLIDAYS_REEXEC"] = "1"
        os.execv(SYSTEM_PY, [SYSTEM_PY, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("test_holidays_ics: needs python3-icalendar and python3-recurring-ical-events "
             "(apt-get install -y python3-icalendar python3-recurring-ical-events)")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOLIDAYS_DIR = os.path.join(REPO, "calendars", "holidays")
GENERATOR = os.path.join(REPO, "tools", "gen-holidays.py")
DATA = os.path.join(REPO, "..", "shared", "data", "cn-public-holidays.json")
HAVE_DATA = os.path.exists(DATA)
DAY = datetime.timedelta(days=1)


def ics_files():
    # Only the generated cn-YYYY.ics files: convene also reads any other .ics dropped
    # into the folder, but those are not this generator's output.
    return sorted(glob.glob(os.path.join(HOLIDAYS_DIR, "cn-*.ics")))


def load(path):
    with open(path, "rb") as f:
        return f.read()


def parse(path):
    return icalendar.Calendar.from_ical(load(path))


def day_type(event):
    return str(event.get("X-CONVENE-DAY-TYPE"))


def categories(event):
    cats = event.get("CATEGORIES")
    if cats is None:
        return []
    lists = cats if isinstance(cats, list) else [cats]  # one list per CATEGORIES line
    return [str(c) for item in lists for c in item.cats]


def events_on(day):
    """All events, from every committed calendar, that occur on the given date."""
    found = []
    for path in ics_files():
        found += recurring_ical_events.of(parse(path)).at(day)
    return found


def expected_days(entries):
    """Map each date listed in one year of the JSON to (day type, summary)."""
    days = {}
    for e in entries:
        d = datetime.date.fromisoformat(e.get("date") or e["from"])
        last = datetime.date.fromisoformat(e.get("date") or e["to"])
        while d <= last:
            if e["off"]:
                days[d] = ("HOLIDAY", e["name"])
            else:
                days[d] = ("WORKDAY", e["name"] + "调休上班")
            d += DAY
    return days


class CommittedFiles(unittest.TestCase):
    """Checks that need only the committed .ics files."""

    def test_files_present(self):
        names = [os.path.basename(p) for p in ics_files()]
        self.assertIn("cn-2025.ics", names)
        self.assertIn("cn-2026.ics", names)

    def test_line_format(self):
        for path in ics_files():
            raw = load(path)
            with self.subTest(file=os.path.basename(path)):
                self.assertTrue(raw.endswith(b"\r\n"), "file must end with CRLF")
                lines = raw[:-2].split(b"\r\n")
                for n, line in enumerate(lines, 1):
                    self.assertNotIn(b"\n", line, "bare LF on line %d" % n)
                    self.assertNotIn(b"\r", line, "bare CR on line %d" % n)
                    self.assertLessEqual(len(line), 75, "line %d exceeds 75 octets" % n)
                    # Each physical line decoding on its own proves folding never
                    # split a multibyte UTF-8 character.
                    line.decode("utf-8")
                self.assertEqual(lines[0], b"BEGIN:VCALENDAR")
                self.assertEqual(lines[-1], b"END:VCALENDAR")

    def test_parse_and_structure(self):
        uids = set()
        for path in ics_files():
            name = os.path.basename(path)
            year = int(name[len("cn-"):-len(".ics")])
            with self.subTest(file=name):
                cal = parse(path)
                for comp in cal.walk():
                    self.assertEqual(comp.errors, [], "%s: parse errors" % comp.name)
                self.assertEqual(str(cal["VERSION"]), "2.0")
                self.assertEqual(str(cal["PRODID"]), "-//convene//holidays//ZH")
                self.assertEqual(str(cal["CALSCALE"]), "GREGORIAN")
                self.assertEqual(str(cal["X-WR-CALNAME"]), "中国法定节假日 %d" % year)
                events = cal.walk("VEVENT")
                self.assertTrue(events)
                for ev in events:
                    start, end = ev["DTSTART"].dt, ev["DTEND"].dt
                    # All-day: plain dates, not datetimes.
                    self.assertNotIsInstance(start, datetime.datetime)
                    self.assertNotIsInstance(end, datetime.datetime)
                    self.assertLess(start, end)
                    self.assertEqual(start.year, year)
                    kind = day_type(ev)
                    self.assertIn(kind, ("HOLIDAY", "WORKDAY"))
                    self.assertEqual(categories(ev), [kind])
                    self.assertEqual(str(ev["TRANSP"]), "TRANSPARENT")
                    self.assertIn("DTSTAMP", ev)
                    uid = str(ev["UID"])
                    self.assertEqual(uid, "%s-%s@holidays.convene"
                                     % (start.strftime("%Y%m%d"), kind.lower()))
                    self.assertNotIn(uid, uids, "duplicate UID")
                    uids.add(uid)
                    if kind == "WORKDAY":
                        self.assertEqual(end - start, DAY)
                        self.assertTrue(str(ev["SUMMARY"]).endswith("调休上班"))

    def test_known_days(self):
        for n in range(1, 8):
            evs = events_on(datetime.date(2026, 10, n))
            self.assertEqual([(day_type(e), str(e["SUMMARY"])) for e in evs],
                             [("HOLIDAY", "国庆节")], "2026-10-%02d" % n)
        self.assertEqual(events_on(datetime.date(2026, 10, 8)), [])
        evs = events_on(datetime.date(2026, 10, 10))
        self.assertEqual([(day_type(e), str(e["SUMMARY"])) for e in evs],
                         [("WORKDAY", "国庆节调休上班")])
        evs = events_on(datetime.date(2025, 1, 1))
        self.assertEqual([(day_type(e), str(e["SUMMARY"])) for e in evs],
                         [("HOLIDAY", "元旦")])
        evs = events_on(datetime.date(2025, 10, 8))
        self.assertEqual([(day_type(e), str(e["SUMMARY"])) for e in evs],
                         [("HOLIDAY", "国庆节、中秋节")])


@unittest.skipUnless(HAVE_DATA, "no %s" % DATA)
class AgainstData(unittest.TestCase):
    """Checks that compare the committed files with shared/data."""

    @classmethod
    def setUpClass(cls):
        import json
        with open(DATA, encoding="utf-8") as f:
            cls.years = json.load(f)["years"]

    def test_one_file_per_year(self):
        names = sorted(os.path.basename(p) for p in ics_files())
        self.assertEqual(names, sorted("cn-%s.ics" % y for y in self.years))

    def test_event_count(self):
        for year, entries in self.years.items():
            with self.subTest(year=year):
                cal = parse(os.path.join(HOLIDAYS_DIR, "cn-%s.ics" % year))
                self.assertEqual(len(cal.walk("VEVENT")), len(entries))

    def test_every_day_of_the_year(self):
        # Every listed day is covered by exactly one event of the right type and
        # name, and every other day of the year by none.
        for year, entries in self.years.items():
            expected = expected_days(entries)
            cal = recurring_ical_events.of(
                parse(os.path.join(HOLIDAYS_DIR, "cn-%s.ics" % year)))
            d = datetime.date(int(year), 1, 1)
            while d.year == int(year):
                got = [(day_type(e), str(e["SUMMARY"])) for e in cal.at(d)]
                want = [expected[d]] if d in expected else []
                self.assertEqual(got, want, d.isoformat())
                d += DAY

    def test_regenerated_files_identical(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, GENERATOR, DATA, tmp], check=True,
                           stdout=subprocess.DEVNULL)
            fresh = sorted(os.listdir(tmp))
            self.assertEqual(fresh, sorted(os.path.basename(p) for p in ics_files()))
            for name in fresh:
                with self.subTest(file=name):
                    self.assertEqual(load(os.path.join(tmp, name)),
                                     load(os.path.join(HOLIDAYS_DIR, name)),
                                     "%s is stale: run python3 tools/gen-holidays.py" % name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
