#!/usr/bin/env python3
"""iCalendar import and export (CONTRACT section 8, issue 4) end to end.

- POST /api/v1/import?person=ID (text/calendar) of a calendar as Outlook and
  phones write them: VTIMEZONEs (IANA and Windows names such as "China
  Standard Time" and "Tokyo Standard Time" defined only by their own
  VTIMEZONE), a weekly event with EXDATE and a RECURRENCE-ID override (placed
  before its master), an all-day event, an event in UTC, a New York event,
  folded and escaped text. 201; the UIDs are kept (the person's feed shows the
  same UIDs); the occurrences GET /api/v1/occurrences lists are the ones
  python3-recurring-ical-events expands from the imported file (same instants,
  same titles).
- Importing it again: 409 duplicate_uid, nothing added.
- A file whose second event clashes with the person's existing booking: 409
  conflict and nothing of it imported (events and occurrences counted in the
  SQLite file before and after).
- Malformed iCalendar (a broken content line, a missing END, a bad start):
  422 naming the line; nothing added.
- `convene export` / `convene import` on the stopped service's database:
  export, import into a fresh database for another person, export again: the
  same UIDs and the same occurrences (recurring-ical-events on both files).

Run: python3 tests/e2e/test_import.py  (CONVENE_BIN=build/convene)
"""

import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

try:
    import icalendar
    import recurring_ical_events
except ImportError:
    SYSTEM_PY = "/usr/bin/python3"
    if (os.path.exists(SYSTEM_PY) and not os.environ.get("CONVENE_IMPORT_REEXEC")
            and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PY)):
        os.environ["CONVENE_IMPORT_REEXEC"] = "1"
        os.execv(SYSTEM_PY, [SYSTEM_PY, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("test_import: needs python3-icalendar and python3-recurring-ical-events "
             "(apt-get install -y python3-icalendar python3-recurring-ical-events)")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import Server  # noqa: E402
from test_feeds import tree, unescape, feed_path  # noqa: E402

UTC = datetime.timezone.utc
WINDOW = (datetime.date(2026, 12, 1), datetime.date(2027, 3, 1))
API_WINDOW = ("2026-12-01", "2027-02-28")

VTZ_SHANGHAI = """BEGIN:VTIMEZONE
TZID:Asia/Shanghai
BEGIN:STANDARD
DTSTART:19700101T000000
TZOFFSETFROM:+0800
TZOFFSETTO:+0800
TZNAME:CST
END:STANDARD
END:VTIMEZONE"""

# Windows zone names, as Outlook writes them: known only through these definitions.
VTZ_CHINA = """BEGIN:VTIMEZONE
TZID:China Standard Time
BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:+0800
TZOFFSETTO:+0800
END:STANDARD
END:VTIMEZONE"""

VTZ_TOKYO = """BEGIN:VTIMEZONE
TZID:Tokyo Standard Time
BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:+0900
TZOFFSETTO:+0900
END:STANDARD
END:VTIMEZONE"""

VTZ_NEW_YORK = """BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE"""

WEEKLY_DESC = ("本周重点：一、年度预算执行情况; 二、人事安排, 三、其他事项。请各处室负责人准时参加"
               "并提前准备书面材料，会议材料请于周五前报送办公厅综合处。")


def fold(line):
    """RFC 5545 folding at 75 octets, never inside a UTF-8 character."""
    data = line.encode("utf-8")
    out, limit = [], 75
    while len(data) > limit:
        cut = limit
        while (data[cut] & 0xC0) == 0x80:
            cut -= 1
        out.append(data[:cut])
        data = data[cut:]
        limit = 74
    out.append(data)
    return b"\r\n ".join(out).decode("utf-8")


def ics(*blocks):
    """A VCALENDAR from blocks of text lines, CRLF, long lines folded."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0",
             "PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN", "METHOD:PUBLISH"]
    for b in blocks:
        lines += [x for x in b.strip().splitlines() if x.strip()]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(fold(x) for x in lines) + "\r\n").encode("utf-8")


def vevent(uid, *props):
    return "\n".join(["BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20261120T080000Z"] + list(props)
                     + ["END:VEVENT"])


UIDS = {
    "weekly": "040000008200E00074C5B7101A82E008000000001A2B3C4D5E6F@outlook.example",
    "allday": "allday-research-2027@phone.example",
    "utc": "utc-video-link-1@example.org",
    "cst": "outlook-china-standard-time-1@outlook.example",
    "tokyo": "outlook-tokyo-standard-time-1@outlook.example",
    "ny": "ny-visit-2027@example.org",
}

MAIN_FILE = ics(
    VTZ_SHANGHAI, VTZ_CHINA, VTZ_TOKYO, VTZ_NEW_YORK,
    # The override comes first: masters may follow their exceptions.
    vevent(UIDS["weekly"], "RECURRENCE-ID;TZID=Asia/Shanghai:20270118T090000",
           "DTSTART;TZID=Asia/Shanghai:20270119T140000", "DTEND;TZID=Asia/Shanghai:20270119T150000",
           "SUMMARY:周例会（改期至周二下午）", "SEQUENCE:1"),
    vevent(UIDS["weekly"], "DTSTART;TZID=Asia/Shanghai:20270104T090000",
           "DTEND;TZID=Asia/Shanghai:20270104T100000", "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=5",
           "EXDATE;TZID=Asia/Shanghai:20270111T090000", "SUMMARY:周例会\\, 各处室负责人参加",
           "DESCRIPTION:" + WEEKLY_DESC.replace(",", "\\,").replace(";", "\\;")
           + "\\n联系人：王秘书", "LOCATION:三楼第一会议室", "CLASS:PUBLIC",
           "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
           "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER:-PT15M",
           "END:VALARM"),
    vevent(UIDS["allday"], "DTSTART;VALUE=DATE:20270112", "DTEND;VALUE=DATE:20270114",
           "SUMMARY:赴基层调研（两天）", "TRANSP:OPAQUE"),
    vevent(UIDS["utc"], "DTSTART:20270105T020000Z", "DTEND:20270105T033000Z",
           "SUMMARY:与省厅视频连线"),
    vevent(UIDS["cst"], 'DTSTART;TZID="China Standard Time":20270107T150000',
           'DTEND;TZID="China Standard Time":20270107T160000', "RRULE:FREQ=WEEKLY;COUNT=4",
           'EXDATE;TZID="China Standard Time":20270114T150000', "SUMMARY:周四业务学习"),
    vevent(UIDS["cst"], 'RECURRENCE-ID;TZID="China Standard Time":20270121T150000',
           'DTSTART;TZID="China Standard Time":20270122T100000',
           'DTEND;TZID="China Standard Time":20270122T110000', "SUMMARY:周四业务学习（调至周五）"),
    vevent(UIDS["tokyo"], 'DTSTART;TZID="Tokyo Standard Time":20270108T170000',
           'DTEND;TZID="Tokyo Standard Time":20270108T180000', "RRULE:FREQ=WEEKLY;COUNT=3",
           'EXDATE;TZID="Tokyo Standard Time":20270115T170000', "SUMMARY:与东京办事处周会"),
    vevent(UIDS["tokyo"], 'RECURRENCE-ID;TZID="Tokyo Standard Time":20270122T170000',
           'DTSTART;TZID="Tokyo Standard Time":20270122T190000',
           'DTEND;TZID="Tokyo Standard Time":20270122T200000', "SUMMARY:与东京办事处周会（推迟）"),
    vevent(UIDS["ny"], "DTSTART;TZID=America/New_York:20270108T070000",
           "DTEND;TZID=America/New_York:20270108T080000", "SUMMARY:纽约客人来访（视频）"),
)


def expand(body, uid_map=None):
    """Occurrences as recurring-ical-events sees them: sorted (uid, start, end, summary),
    timed values as UTC instants, all-day ones as dates."""
    cal = icalendar.Calendar.from_ical(body)
    out = []
    for comp in recurring_ical_events.of(cal).between(*WINDOW):
        if str(comp.get("STATUS", "")).upper() == "CANCELLED":
            continue
        s, e = comp["DTSTART"].dt, comp["DTEND"].dt
        if isinstance(s, datetime.datetime):
            s = s.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            e = e.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            s, e = s.isoformat(), e.isoformat()
        uid = str(comp["UID"])
        out.append(((uid_map or {}).get(uid, uid), s, e, str(comp.get("SUMMARY"))))
    return sorted(out)


class ImportTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.srv.start()
        cls.P = cls.srv.create("people", {"name": "张三", "role": "leader", "rank": 1})
        cls.other = cls.srv.create("people", {"name": "李四", "role": "leader", "rank": 2})
        cls.tmp = tempfile.mkdtemp(prefix="convene-import-")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers ----

    def post_import(self, body, person=None):
        return self.srv.request("POST", "/api/v1/import?person=%s" % (person or self.P["id"]),
                                raw_body=body, headers={"Content-Type": "text/calendar"})

    def counts(self):
        return (self.srv.sql("SELECT count(*) FROM events")[0][0],
                self.srv.sql("SELECT count(*) FROM occurrences")[0][0])

    def api_occurrences(self, person):
        r = self.srv.get("/api/v1/occurrences?from=%s&to=%s&person=%s"
                         % (API_WINDOW[0], API_WINDOW[1], person))
        self.assertEqual(r.status, 200, r)
        uids = {}
        out = []
        for it in r.body:
            if it["event"] not in uids:
                uids[it["event"]] = self.srv.get("/api/v1/events/" + it["event"]).body["uid"]
            if it.get("all_day"):
                s, e = it["start"][:10], it["end"][:10]
            else:
                s, e = it["start_utc"], it["end_utc"]
            out.append((uids[it["event"]], s, e, it["title"]))
        return sorted(out)

    def cli(self, args):
        """`convene ARGS` with bytes output (the export's CRLFs must survive)."""
        env = dict(os.environ)
        env.pop("CONVENE_ADMIN_TOKEN", None)
        return subprocess.run([self.srv.bin] + args, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                              cwd=self.tmp, timeout=60)

    def feed_uids(self, person_rec):
        r = self.srv.request("GET", feed_path(person_rec["feed_url"]), token=None)
        self.assertEqual(r.status, 200, r)
        return {v.one("UID") for v in tree(r.raw).sub("VEVENT")}, r.raw

    # ---- 1. import ----

    def test_1_import_keeps_uids_and_times(self):
        before_uids, _ = self.feed_uids(self.P)  # warms the feed cache: import must drop it
        self.assertEqual(before_uids, set())
        r = self.post_import(MAIN_FILE)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["imported"], len(UIDS))
        self.assertEqual(len(r.body["events"]), len(UIDS))
        stored = {}
        for eid in r.body["events"]:
            ev = self.srv.get("/api/v1/events/" + eid).body
            stored[ev["uid"]] = ev
        self.assertEqual(set(stored), set(UIDS.values()), "UIDs kept")
        # Times land where they should.
        utc = stored[UIDS["utc"]]
        self.assertEqual((utc["start_utc"], utc["end_utc"]),
                         ("2027-01-05T02:00:00Z", "2027-01-05T03:30:00Z"))
        self.assertEqual(utc["tz"], "Asia/Shanghai")  # UTC becomes the organisation's zone
        self.assertEqual(utc["start"], "2027-01-05T10:00:00")
        cst = stored[UIDS["cst"]]
        self.assertEqual(cst["start_utc"], "2027-01-07T07:00:00Z")
        tokyo = stored[UIDS["tokyo"]]
        self.assertEqual(tokyo["start_utc"], "2027-01-08T08:00:00Z")
        ny = stored[UIDS["ny"]]
        self.assertEqual((ny["tz"], ny["start"], ny["start_utc"]),
                         ("America/New_York", "2027-01-08T07:00:00", "2027-01-08T12:00:00Z"))
        allday = stored[UIDS["allday"]]
        self.assertEqual(allday.get("date"), "2027-01-12")
        self.assertEqual(allday.get("end_date"), "2027-01-13")
        weekly = stored[UIDS["weekly"]]
        self.assertEqual(weekly["title"], "周例会, 各处室负责人参加")
        self.assertEqual(weekly["description"], WEEKLY_DESC + "\n联系人：王秘书")
        self.assertEqual(weekly["location"], "三楼第一会议室")
        self.assertEqual([a["person"] for a in weekly["attendees"]], [self.P["id"]])
        # Every occurrence: the API lists what recurring-ical-events expands from the file.
        expected = expand(MAIN_FILE)
        got = self.api_occurrences(self.P["id"])
        self.assertEqual(got, expected, "API occurrences vs the imported file\n missing %r\n"
                         " extra %r" % (sorted(set(expected) - set(got)),
                                        sorted(set(got) - set(expected))))
        self.assertEqual(len(expected), 4 + 1 + 1 + 3 + 2 + 1)
        # The person's feed shows the same UIDs, and expands to the same occurrences.
        uids, body = self.feed_uids(self.P)
        self.assertEqual(uids, set(UIDS.values()))
        self.assertEqual(expand(body), expected)

    # ---- 2. duplicates ----

    def test_1b_windows_zone_with_daylight_saving(self):
        """Outlook's "Eastern Standard Time" (its own VTIMEZONE, with DST rules) is stored as
        America/New_York: a weekly 09:00 series stays at 09:00 New York time across the
        March change (14:00Z, then 13:00Z), as recurring-ical-events reads the file."""
        vtz = VTZ_NEW_YORK.replace("TZID:America/New_York", "TZID:Eastern Standard Time")
        uid = "outlook-eastern-standard-time-1@outlook.example"
        body = ics(vtz, vevent(uid, 'DTSTART;TZID="Eastern Standard Time":20270301T090000',
                               'DTEND;TZID="Eastern Standard Time":20270301T100000',
                               "RRULE:FREQ=WEEKLY;COUNT=4", "SUMMARY:与纽约办事处周会"))
        r = self.post_import(body, self.other["id"])
        self.assertEqual(r.status, 201, r)
        ev = self.srv.get("/api/v1/events/" + r.body["events"][0]).body
        self.assertEqual((ev["tz"], ev["start"]), ("America/New_York", "2027-03-01T09:00:00"))
        got = self.srv.get("/api/v1/occurrences?from=2027-02-28&to=2027-03-31&person="
                           + self.other["id"]).body
        api = sorted(it["start_utc"] for it in got if it["event"] == ev["id"])
        cal = icalendar.Calendar.from_ical(body)
        oracle = sorted(c["DTSTART"].dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                        for c in recurring_ical_events.of(cal).between(
                            datetime.date(2027, 2, 28), datetime.date(2027, 4, 1)))
        self.assertEqual(api, oracle)
        self.assertEqual(api, ["2027-03-01T14:00:00Z", "2027-03-08T14:00:00Z",
                               "2027-03-15T13:00:00Z", "2027-03-22T13:00:00Z"])

    def test_2_duplicate_import_is_refused(self):
        before = self.counts()
        r = self.post_import(MAIN_FILE)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.code, "duplicate_uid", r)
        self.assertEqual(self.counts(), before)
        # One new event plus one already there: still nothing added.
        body = ics(vevent("brand-new-1@example.org", "DTSTART:20270203T010000Z",
                          "DTEND:20270203T020000Z", "SUMMARY:新会议"),
                   vevent(UIDS["utc"], "DTSTART:20270202T010000Z", "DTEND:20270202T020000Z",
                          "SUMMARY:重复"))
        r = self.post_import(body)
        self.assertEqual((r.status, r.code), (409, "duplicate_uid"), r)
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM events WHERE uid = ?",
                                      ("brand-new-1@example.org",))[0][0], 0)

    # ---- 3. atomic on conflict ----

    def test_3_conflict_imports_nothing(self):
        before = self.counts()
        body = ics(VTZ_SHANGHAI,
                   vevent("fine-1@example.org", "DTSTART;TZID=Asia/Shanghai:20270205T090000",
                          "DTEND;TZID=Asia/Shanghai:20270205T100000", "SUMMARY:本可导入"),
                   # 10:30-11:00 Shanghai on 5 January: inside the imported UTC meeting.
                   vevent("clash-1@example.org", "DTSTART;TZID=Asia/Shanghai:20270105T103000",
                          "DTEND;TZID=Asia/Shanghai:20270105T110000", "SUMMARY:撞车的会"))
        r = self.post_import(body)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.code, "conflict", r)
        conflicts = r.body["error"]["conflicts"]
        self.assertTrue(conflicts)
        self.assertEqual(conflicts[0]["resource"], {"type": "person", "id": self.P["id"]})
        self.assertEqual(conflicts[0]["start"], "2027-01-05T10:30:00")
        self.assertEqual(self.counts(), before, "a refused import left something behind")
        for uid in ("fine-1@example.org", "clash-1@example.org"):
            self.assertEqual(self.srv.sql("SELECT count(*) FROM events WHERE uid = ?",
                                          (uid,))[0][0], 0, uid)
        self.assertEqual(self.feed_uids(self.P)[0], set(UIDS.values()))
        # Two events of the same file clashing with each other: refused as well.
        own = ics(vevent("self-1@example.org", "DTSTART:20270301T010000Z",
                         "DTEND:20270301T020000Z", "SUMMARY:甲"),
                  vevent("self-2@example.org", "DTSTART:20270301T013000Z",
                         "DTEND:20270301T023000Z", "SUMMARY:乙"))
        r = self.post_import(own)
        self.assertEqual((r.status, r.code), (409, "conflict"), r)
        self.assertEqual(self.counts(), before)
        # The same file for someone free at that time goes in whole.
        r = self.post_import(body, person=self.other["id"])
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["imported"], 2)
        self.assertEqual(self.counts()[0], before[0] + 2)

    # ---- 4. malformed bodies ----

    def test_4_malformed_icalendar(self):
        before = self.counts()
        good = ics(vevent("m-1@example.org", "DTSTART:20270210T010000Z",
                          "DTEND:20270210T020000Z", "SUMMARY:好"))
        lines = good.decode().split("\r\n")
        cases = []
        # A broken content line (no colon) on line 8.
        broken = lines[:7] + ["SUMMARY 缺少冒号"] + lines[7:]
        cases.append(("broken line", "\r\n".join(broken), 8))
        # A bad property name on line 6.
        bad_name = lines[:5] + ["X_BAD NAME:值"] + lines[5:]
        cases.append(("bad name", "\r\n".join(bad_name), 6))
        # END:VEVENT missing: the END:VCALENDAR that follows does not match.
        no_end = [x for x in lines if x != "END:VEVENT"]
        cases.append(("missing END:VEVENT", "\r\n".join(no_end),
                      no_end.index("END:VCALENDAR") + 1))
        # END:VCALENDAR missing: reported at the last line.
        no_cal_end = [x for x in lines if x not in ("END:VCALENDAR", "")]
        cases.append(("missing END:VCALENDAR", "\r\n".join(no_cal_end) + "\r\n",
                      len(no_cal_end)))
        cases.append(("not a calendar", "hello\r\n", 1))
        for what, body, line in cases:
            with self.subTest(case=what):
                r = self.post_import(body.encode("utf-8"))
                self.assertEqual(r.status, 422, "%s: %r" % (what, r))
                self.assertIn("line %d" % line, r.message or "", "%s: %r" % (what, r))
        r = self.post_import(b"")
        self.assertIn(r.status, (400, 422), r)
        self.assertEqual(self.counts(), before)

    # ---- 5. command line round trip ----

    def test_5_cli_export_import_round_trip(self):
        db = self.srv.db
        first = expand(MAIN_FILE)
        self.assertEqual(self.srv.stop(), 0)
        try:
            exp1 = self.cli(["export", "--db", db, "--person", self.P["id"]])
            self.assertEqual(exp1.returncode, 0, exp1.stderr)
            a = exp1.stdout
            self.assertTrue(a.startswith(b"BEGIN:VCALENDAR\r\n"), a[:100])
            self.assertEqual({v.one("UID") for v in tree(a).sub("VEVENT")}, set(UIDS.values()))
            self.assertEqual(expand(a), first, "the export expands like the imported file")
            path_a = os.path.join(self.tmp, "a.ics")
            with open(path_a, "wb") as f:
                f.write(a)
            # A fresh database with one person in it (made by a short-lived service).
            fresh_dir = tempfile.mkdtemp(prefix="fresh-", dir=self.tmp)
            fresh = Server(tmpdir=fresh_dir)
            with fresh:
                q = fresh.create("people", {"name": "王五", "role": "leader"})
            fresh_db = fresh.db
            imp = self.cli(["import", "--db", fresh_db, "--person", q["id"], path_a])
            self.assertEqual(imp.returncode, 0, (imp.stdout + imp.stderr).decode())
            self.assertIn(b'"imported"', imp.stdout)
            exp2 = self.cli(["export", "--db", fresh_db, "--person", q["id"]])
            self.assertEqual(exp2.returncode, 0, exp2.stderr)
            b = exp2.stdout
            self.assertEqual({v.one("UID") for v in tree(b).sub("VEVENT")}, set(UIDS.values()))
            self.assertEqual(expand(b), expand(a), "occurrences changed on the round trip")
            # The second export names the new person as attendee, not the first.
            ve = tree(b).sub("VEVENT")[0]
            self.assertEqual([v.rsplit(":", 1)[1] for _, _, v in ve.get("ATTENDEE")], [q["id"]])
            self.assertEqual(unescape(tree(b).one("X-WR-CALNAME")), "王五")
            # Importing the same file again from the command line: refused, exit non-zero.
            again = self.cli(["import", "--db", fresh_db, "--person", q["id"], path_a])
            self.assertNotEqual(again.returncode, 0)
            self.assertIn(b"duplicate_uid", again.stdout + again.stderr)
            exp3 = self.cli(["export", "--db", fresh_db, "--person", q["id"]])
            self.assertEqual(exp3.stdout, exp2.stdout, "a refused import changed the calendar")
            # A malformed file: non-zero, the line named.
            bad = os.path.join(self.tmp, "bad.ics")
            with open(bad, "wb") as f:
                f.write(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBROKEN LINE\r\nEND:VCALENDAR\r\n")
            r = self.cli(["import", "--db", fresh_db, "--person", q["id"], bad])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(b"line 3", r.stdout + r.stderr)
            # An unknown person: export refuses.
            r = self.cli(["export", "--db", fresh_db, "--person", "per_nobody"])
            self.assertNotEqual(r.returncode, 0)
        finally:
            self.srv.start()


if __name__ == "__main__":
    unittest.main(verbosity=2)
