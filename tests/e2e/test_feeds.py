#!/usr/bin/env python3
"""iCalendar feeds (CONTRACT section 8, issue 4) end to end.

A realistic week is booked through the API: a weekly meeting with a long
Chinese title (folding), a description full of commas, semicolons, newlines and
a backslash, an EXDATE, a moved occurrence, a cancelled occurrence, RSVPs and
reminders [30, 0]; a cancelled event; a confidential meeting the driver takes a
leader to; a two-day all-day event; a meeting with a trip (vehicle + driver +
passengers); a weekly meeting with a trip (whose moved occurrence moves the
trip); a visitor meeting in America/New_York; an unrelated room's training.

Then every feed (leaders, secretary, driver, both rooms, the vehicle) is checked:
- the bytes (CRLF, 75 octets, UTF-8 per physical line, the calendar properties,
  VTIMEZONEs with plain IANA TZIDs, UIDs/DTSTAMP/SEQUENCE from the data);
- two independent parsers: Debian's python3-icalendar + recurring-ical-events,
  and npm ical.js (tests/e2e/icaljs_expand.js) expand it to exactly the
  occurrences GET /api/v1/occurrences lists for that calendar (cancelled
  events and declined invitations aside; trips at their offsets);
- privacy (busy-only confidential meeting, no title to the driver), STATUS,
  PARTSTAT, VALARM;
- HTTP: content type, ETag/If-None-Match and Last-Modified/If-Modified-Since
  304s, Cache-Control, gzip, no Content-Disposition, unknown/malformed tokens,
  rotation, byte-identical bodies across re-renders and restarts, and a change
  to one meeting changing exactly the calendars it is on.

ical.js must be installed (npm install --no-save --no-package-lock --prefix
tests/e2e ical.js@2); without it (or without node) the test FAILS, naming the
command. Run: python3 tests/e2e/test_feeds.py  (CONVENE_BIN=build/convene)
"""

import datetime
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import zoneinfo
from email.utils import parsedate_to_datetime
from urllib.parse import urlparse

try:
    import icalendar
    import recurring_ical_events
except ImportError:
    SYSTEM_PY = "/usr/bin/python3"
    if (os.path.exists(SYSTEM_PY) and not os.environ.get("CONVENE_FEEDS_REEXEC")
            and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PY)):
        os.environ["CONVENE_FEEDS_REEXEC"] = "1"
        os.execv(SYSTEM_PY, [SYSTEM_PY, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("test_feeds: needs python3-icalendar and python3-recurring-ical-events "
             "(apt-get install -y python3-icalendar python3-recurring-ical-events)")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import Server  # noqa: E402

UTC = datetime.timezone.utc
SH, NY = "Asia/Shanghai", "America/New_York"
WINDOW = ("2026-12-01", "2027-02-28")        # API days, inclusive
ORACLE_WINDOW = ("2026-12-01", "2027-03-01")  # oracle days, end exclusive
ICALJS_SCRIPT = os.path.join(HERE, "icaljs_expand.js")
NPM_COMMAND = "npm install --no-save --no-package-lock --prefix tests/e2e ical.js@2"
BUSY = "忙碌"

LONG_TITLE = "关于推进二〇二六年度全市重点工作任务落实情况暨下一阶段工作安排的专题调度会议"
DESCRIPTION = ("议题：一、预算,审议；二、人事;三、其他\n地点：三楼\\东侧会议室 🏛️\n"
               "请各单位准时参加，勿缺席。📅 材料见附件𠀀𠀁（四字节字符）。")
SECRET_TITLE = "干部人事任免酝酿会（机密）"
SECRET_DESC = "酝酿人选：某某同志"
SECRET_PLACE = "省委组织部保密会议室"


# ---------------------------------------------------------------- raw iCalendar

def physical_lines(body):
    """The CRLF-terminated lines of body (bytes); raises AssertionError on bad endings."""
    assert body.endswith(b"\r\n"), "the body does not end with CRLF"
    lines = body[:-2].split(b"\r\n")
    for n, line in enumerate(lines, 1):
        assert b"\n" not in line and b"\r" not in line, "line %d: bare CR or LF: %r" % (n, line)
    return lines


def unfold(body):
    """Logical content lines (str) of a CRLF body."""
    out = []
    for raw in physical_lines(body):
        line = raw.decode("utf-8")
        if line.startswith((" ", "\t")):
            out[-1] += line[1:]
        else:
            out.append(line)
    return out


def parse_line(line):
    """'NAME;P=V;Q="x:y":VALUE' -> (NAME, {P: V, Q: x:y}, VALUE)."""
    i, quoted = 0, False
    while i < len(line):
        ch = line[i]
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            break
        i += 1
    assert i < len(line), "not a content line: %r" % line
    head, value = line[:i], line[i + 1:]
    parts, cur, quoted = [], "", False
    for ch in head:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    params = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        params[k.upper()] = v[1:-1] if v.startswith('"') and v.endswith('"') else v
    return parts[0].upper(), params, value


class Comp:
    """A component: name, props [(name, params, value)], subs [Comp]."""

    def __init__(self, name):
        self.name, self.props, self.subs = name, [], []

    def get(self, name):
        return [p for p in self.props if p[0] == name]

    def one(self, name):
        found = self.get(name)
        return found[0][2] if found else None

    def sub(self, name):
        return [c for c in self.subs if c.name == name]


def tree(body):
    """The VCALENDAR of a body as a Comp tree (strict BEGIN/END matching)."""
    stack, root = [], None
    for line in unfold(body):
        name, params, value = parse_line(line)
        if name == "BEGIN":
            c = Comp(value.upper())
            if stack:
                stack[-1].subs.append(c)
            else:
                assert root is None, "two top-level components"
                root = c
            stack.append(c)
        elif name == "END":
            assert stack and stack[-1].name == value.upper(), "END:%s does not match" % value
            stack.pop()
        else:
            assert stack, "property outside any component: %r" % line
            stack[-1].props.append((name, params, value))
    assert not stack and root is not None and root.name == "VCALENDAR", "unbalanced calendar"
    return root


_IANA = []


def iana_zones():
    if not _IANA:
        _IANA.append(zoneinfo.available_timezones())
    return _IANA[0]


def unescape(text):
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


# ---------------------------------------------------------------- oracles

def _key(uid, start, end, start_utc, summary):
    return (uid, start, end, start_utc or "", summary)


def oracle_python(body, window=ORACLE_WINDOW):
    """python3-icalendar + recurring-ical-events: occurrences as comparable tuples plus
    {key: status} and {key: component} for filtering."""
    cal = icalendar.Calendar.from_ical(body)
    start = datetime.date.fromisoformat(window[0])
    end = datetime.date.fromisoformat(window[1])
    out = []
    for comp in recurring_ical_events.of(cal).between(start, end):
        s, e = comp["DTSTART"].dt, comp["DTEND"].dt
        if isinstance(s, datetime.datetime):
            key = _key(str(comp["UID"]), s.strftime("%Y-%m-%dT%H:%M:%S"),
                       e.strftime("%Y-%m-%dT%H:%M:%S"),
                       s.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), str(comp.get("SUMMARY")))
        else:
            key = _key(str(comp["UID"]), s.isoformat(), e.isoformat(), None,
                       str(comp.get("SUMMARY")))
        out.append((key, str(comp.get("STATUS", "")).upper()))
    return out


def icaljs_available():
    """None when node + ical.js work, else the reason (the test then fails, naming it)."""
    if shutil.which("node") is None:
        return "node is not installed (apt-get install -y nodejs npm)"
    probe = subprocess.run(["node", ICALJS_SCRIPT], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    if "not installed" in probe.stderr:
        return probe.stderr.strip()
    return None


def oracle_icaljs(body, window=ORACLE_WINDOW):
    """npm ical.js through icaljs_expand.js: (occurrence tuples with status, calendar info)."""
    with tempfile.NamedTemporaryFile(suffix=".ics", delete=False) as f:
        f.write(body)
        path = f.name
    try:
        p = subprocess.run(["node", ICALJS_SCRIPT, path, window[0], window[1]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
    finally:
        os.unlink(path)
    if p.returncode != 0:
        raise AssertionError("ical.js refused the feed: %s" % p.stderr.strip())
    result = json.loads(p.stdout)
    out = []
    for o in result["occurrences"]:
        out.append((_key(o["uid"], o["start"], o["end"], o["start_utc"], o["summary"]),
                    (o["status"] or "").upper()))
    return out, result["calendar"]


def local_plus(local, seconds):
    t = datetime.datetime.fromisoformat(local) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def to_utc(local, tz):
    t = datetime.datetime.fromisoformat(local).replace(tzinfo=zoneinfo.ZoneInfo(tz))
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds_between(a, b):
    return int((datetime.datetime.fromisoformat(b) - datetime.datetime.fromisoformat(a))
               .total_seconds())


def trip_summary(trip):
    return "用车：%s → %s" % (trip.get("from") or "?", trip.get("to") or "?")


def feed_path(url):
    return urlparse(url).path


def diff_text(expected, got):
    exp, gt = set(expected), set(got)
    lines = ["  missing: %r" % (k,) for k in sorted(exp - gt)]
    lines += ["  extra:   %r" % (k,) for k in sorted(gt - exp)]
    return "\n".join(lines)


# ---------------------------------------------------------------- the test

class FeedsTest(unittest.TestCase):
    srv = None

    @classmethod
    def setUpClass(cls):
        cls.icaljs_problem = icaljs_available()
        cls.srv = Server()
        cls.srv.start()
        cls.t0 = time.time()
        try:
            cls.build_week()
        except Exception:
            sys.stderr.write(cls.srv.stderr_tail())
            cls.srv.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.srv is not None:
            cls.srv.cleanup()

    # ---- the realistic week ----

    @classmethod
    def build_week(cls):
        s = cls.srv
        person = lambda name, role, **kw: s.create("people", dict(name=name, role=role, **kw))
        cls.L1 = person("张三", "leader", rank=1, department="办公厅")
        cls.L2 = person("李四", "leader", rank=2)
        cls.S = person("王秘书", "secretary", rank=50)
        cls.D = person("赵师傅", "driver")
        cls.R1 = s.create("rooms", {"name": "第一会议室", "capacity": 20, "location": "三楼"})
        cls.R2 = s.create("rooms", {"name": "第二会议室", "capacity": 30})
        cls.V = s.create("vehicles", {"name": "考斯特", "plate": "京A·12345", "seats": 20})
        L1, L2, S, D, R1, R2, V = (x["id"] for x in (cls.L1, cls.L2, cls.S, cls.D, cls.R1,
                                                      cls.R2, cls.V))
        ev = {}
        # Weekly meeting: EXDATE, a moved and a cancelled occurrence, RSVPs, reminders.
        ev["weekly"] = s.create("events", {
            "title": LONG_TITLE, "description": DESCRIPTION, "location": "东侧",
            "start": "2026-12-07T09:00:00", "end": "2026-12-07T10:30:00", "tz": SH,
            "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=6", "exdates": ["2026-12-14T09:00:00"],
            "attendees": [{"person": L1}, {"person": L2}, {"person": S, "optional": True}],
            "room": R1, "reminders": [30, 0]})
        wid = ev["weekly"]["id"]
        r = s.patch("/api/v1/events/%s/occurrences/2026-12-21T09:00:00" % wid,
                    {"start": "2026-12-22T09:30:00", "end": "2026-12-22T11:00:00"})
        assert r.status == 200, r
        r = s.delete("/api/v1/events/%s/occurrences/2026-12-28T09:00:00" % wid)
        assert r.status == 204, r
        for who, answer in ((L2, "accepted"), (S, "declined")):
            r = s.post("/api/v1/events/%s/rsvp" % wid, {"person": who, "response": answer})
            assert r.status == 200, r
        # A meeting called off.
        ev["cancelled"] = s.create("events", {
            "title": "临时碰头会", "start": "2026-12-08T10:00:00", "end": "2026-12-08T11:00:00",
            "tz": SH, "attendees": [{"person": L1}], "room": R1})
        r = s.delete("/api/v1/events/%s" % ev["cancelled"]["id"])
        assert r.status in (200, 204), r
        # Confidential, with the driver taking the leader there.
        ev["secret"] = s.create("events", {
            "title": SECRET_TITLE, "description": SECRET_DESC, "location": SECRET_PLACE,
            "start": "2026-12-09T15:00:00", "end": "2026-12-09T16:00:00", "tz": SH,
            "attendees": [{"person": L2}], "room": R1, "reminders": [15], "confidential": True,
            "trips": [{"vehicle": V, "driver": D, "depart": "2026-12-09T14:20:00",
                       "return": "2026-12-09T16:30:00", "from": "机关大院", "to": "省委",
                       "passengers": [L2]}]})
        # Two days away (all-day).
        ev["allday"] = s.create("events", {
            "title": "下基层调研（两天）", "date": "2026-12-17", "end_date": "2026-12-18",
            "tz": SH, "attendees": [{"person": L1}, {"person": S}]})
        # A meeting elsewhere with a trip for two.
        ev["trip"] = s.create("events", {
            "title": "市政府常务会议", "location": "市政府第三会议室",
            "start": "2026-12-11T14:00:00", "end": "2026-12-11T16:00:00", "tz": SH,
            "attendees": [{"person": L1}, {"person": S}], "reminders": [60],
            "trips": [{"vehicle": V, "driver": D, "depart": "2026-12-11T13:20:00",
                       "return": "2026-12-11T16:40:00", "from": "机关大院", "to": "市政府",
                       "passengers": [L1, S]}]})
        # Weekly with a trip, a local-date UNTIL, an EXDATE and a moved occurrence.
        ev["weekly_trip"] = s.create("events", {
            "title": "每周二市政府联席会", "start": "2026-12-08T14:00:00",
            "end": "2026-12-08T16:00:00", "tz": SH, "rrule": "FREQ=WEEKLY;BYDAY=TU;UNTIL=20261229",
            "exdates": ["2026-12-15T14:00:00"], "attendees": [{"person": L2}],
            "trips": [{"vehicle": V, "driver": D, "depart": "2026-12-08T13:20:00",
                       "return": "2026-12-08T16:40:00", "from": "机关大院", "to": "市政府",
                       "passengers": [L2]}]})
        r = s.patch("/api/v1/events/%s/occurrences/2026-12-22T14:00:00" % ev["weekly_trip"]["id"],
                    {"start": "2026-12-23T15:00:00", "end": "2026-12-23T17:00:00"})
        assert r.status == 200, r
        # An early weekly meeting out of town: the car leaves the evening before, so the
        # trip cannot follow the meeting's BYDAY rule; one occurrence moved, one dropped.
        ev["early_trip"] = s.create("events", {
            "title": "省里周例会", "start": "2026-12-10T07:30:00", "end": "2026-12-10T08:30:00",
            "tz": SH, "rrule": "FREQ=WEEKLY;BYDAY=TH;COUNT=4", "exdates": ["2026-12-24T07:30:00"],
            "attendees": [{"person": L2}],
            "trips": [{"vehicle": V, "driver": D, "depart": "2026-12-09T23:30:00",
                       "return": "2026-12-10T07:15:00", "from": "机关大院", "to": "省政府",
                       "passengers": [L2]}]})
        r = s.patch("/api/v1/events/%s/occurrences/2026-12-17T07:30:00" % ev["early_trip"]["id"],
                    {"start": "2026-12-18T07:30:00", "end": "2026-12-18T08:30:00"})
        assert r.status == 200, r
        # A visitor meeting held on New York time (Friday evening there, Saturday here).
        ev["visitor"] = s.create("events", {
            "title": "与纽约友好城市代表团视频会谈", "start": "2026-12-11T19:00:00",
            "end": "2026-12-11T20:00:00", "tz": NY, "attendees": [{"person": L1}], "room": R1})
        # Something in the other room only the secretary attends.
        ev["training"] = s.create("events", {
            "title": "档案工作培训", "start": "2026-12-10T09:00:00", "end": "2026-12-10T11:00:00",
            "tz": SH, "attendees": [{"person": S}], "room": R2})
        cls.ev = ev
        cls.feeds = {
            "leader": ("person", L1, cls.L1), "leader2": ("person", L2, cls.L2),
            "secretary": ("person", S, cls.S), "driver": ("person", D, cls.D),
            "room": ("room", R1, cls.R1), "room2": ("room", R2, cls.R2),
            "vehicle": ("vehicle", V, cls.V),
        }

    # ---- helpers ----

    def get_feed(self, name, headers=None, path=None):
        kind, rid, rec = self.feeds[name]
        r = self.srv.request("GET", path or feed_path(rec["feed_url"]), token=None,
                             headers=headers)
        return r

    def body(self, name):
        r = self.get_feed(name)
        self.assertEqual(r.status, 200, "%s feed: %r" % (name, r))
        return r.raw

    def event_docs(self):
        docs = {}
        for key, e in self.ev.items():
            r = self.srv.get("/api/v1/events/" + e["id"])
            self.assertEqual(r.status, 200, r)
            docs[e["id"]] = r.body
        return docs

    def api_expected(self, name):
        """The occurrences GET /api/v1/occurrences gives for the calendar, as the feed
        must show them: meetings (busy-only when confidential and not attended) and, for
        drivers, vehicles and passengers, trips at their offsets from each occurrence's
        start (a stand-alone trip, whose times are the event's, is not shown twice)."""
        kind, rid, _ = self.feeds[name]
        param = {"person": "person", "room": "room", "vehicle": "vehicle"}[kind]
        r = self.srv.get("/api/v1/occurrences?from=%s&to=%s&%s=%s"
                         % (WINDOW[0], WINDOW[1], param, rid))
        self.assertEqual(r.status, 200, r)
        docs = self.event_docs()
        out = []
        for it in r.body:
            ev = docs[it["event"]]
            attendees = {a["person"]: a.get("response") for a in ev.get("attendees") or []}
            attends = kind == "person" and rid in attendees
            if kind == "room" or (attends and attendees[rid] != "declined"):
                summary = it["title"]
                if ev.get("confidential") and not attends:
                    summary = BUSY
                if it.get("all_day"):
                    out.append(_key(ev["uid"], it["start"][:10], it["end"][:10], None, summary))
                else:
                    out.append(_key(ev["uid"], it["start"], it["end"], it["start_utc"], summary))
            for trip in ev.get("trips") or []:
                standalone = (trip["depart"], trip["return"]) == (ev.get("start"), ev.get("end"))
                mine = (kind == "vehicle" and trip.get("vehicle") == rid) or \
                       (kind == "person" and trip.get("driver") == rid) or \
                       (kind == "person" and rid in (trip.get("passengers") or []) and
                        not standalone)
                if not mine:
                    continue
                dep = local_plus(it["start"], seconds_between(ev["start"], trip["depart"]))
                ret = local_plus(it["start"], seconds_between(ev["start"], trip["return"]))
                out.append(_key(trip["id"] + "@convene", dep, ret, to_utc(dep, ev["tz"]),
                                trip_summary(trip)))
        return sorted(out)

    def shown(self, name, occurrences, body):
        """Oracle occurrences a user sees: not cancelled, not declined by the owner."""
        kind, rid, _ = self.feeds[name]
        declined = set()
        if kind == "person":
            for ve in tree(body).sub("VEVENT"):
                for _, params, value in ve.get("ATTENDEE"):
                    if value.endswith(":" + rid) and params.get("PARTSTAT") == "DECLINED":
                        declined.add(ve.one("UID"))
        return sorted(k for k, status in occurrences
                      if status != "CANCELLED" and k[0] not in declined)

    def vevents(self, body, uid):
        return [v for v in tree(body).sub("VEVENT") if v.one("UID") == uid]

    # ---- 1. bytes ----

    def check_bytes(self, name, body):
        kind, rid, rec = self.feeds[name]
        for n, raw in enumerate(physical_lines(body), 1):
            self.assertLessEqual(len(raw), 75, "%s line %d is %d octets: %r"
                                 % (name, n, len(raw), raw))
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                self.fail("%s line %d is not UTF-8 on its own (%s): %r" % (name, n, e, raw))
        cal = tree(body)
        self.assertEqual(cal.one("VERSION"), "2.0")
        self.assertTrue(cal.one("PRODID"), "PRODID")
        self.assertEqual(cal.one("METHOD"), "PUBLISH")
        self.assertEqual(unescape(cal.one("X-WR-CALNAME") or ""), rec["name"])
        refresh = cal.get("REFRESH-INTERVAL")
        self.assertEqual(len(refresh), 1, "REFRESH-INTERVAL")
        self.assertEqual(refresh[0][1].get("VALUE"), "DURATION")
        self.assertEqual(refresh[0][2], "PT15M")
        self.assertEqual(cal.one("X-PUBLISHED-TTL"), "PT15M")
        # Every TZID used has a VTIMEZONE named with the plain IANA name.
        defined = [vtz.one("TZID") for vtz in cal.sub("VTIMEZONE")]
        self.assertEqual(len(defined), len(set(defined)), "duplicate VTIMEZONE: %r" % defined)
        used = set()

        def walk(c):
            for _, params, _ in c.props:
                if "TZID" in params:
                    used.add(params["TZID"])
            for sub in c.subs:
                if sub.name != "VTIMEZONE":
                    walk(sub)
        walk(cal)
        self.assertTrue(used, "%s uses no TZID at all" % name)
        self.assertLessEqual(used, set(defined), "%s: TZIDs without VTIMEZONE" % name)
        for tzid in defined:
            self.assertNotIn("freeassociation", tzid)
            self.assertFalse(tzid.startswith("/"), tzid)
            self.assertIn(tzid, iana_zones(), "TZID %r is not IANA" % tzid)
        for ve in cal.sub("VEVENT"):
            uid = ve.one("UID")
            self.assertTrue(uid, "VEVENT without UID")
            self.assertRegex(ve.one("DTSTAMP") or "", r"^\d{8}T\d{6}Z$", uid)
            self.assertRegex(ve.one("SEQUENCE") or "", r"^\d+$", uid)
            self.assertTrue(ve.get("DTSTART"), uid)
            for _, _, rule in ve.get("RRULE"):
                until = re.search(r"UNTIL=([0-9TZ]+)", rule)
                if until and "VALUE" not in dict(ve.get("DTSTART")[0][1]):
                    self.assertTrue(until.group(1).endswith("Z"),
                                    "%s: UNTIL must be UTC with a zoned DTSTART: %s" % (uid, rule))
        return cal

    def test_1_bytes_and_structure(self):
        for name in self.feeds:
            with self.subTest(feed=name):
                body = self.body(name)
                self.check_bytes(name, body)
        # Folding really happened: the long title spans several physical lines.
        body = self.body("leader")
        self.assertNotIn(LONG_TITLE.encode(), body)
        self.assertIn("SUMMARY:" + LONG_TITLE, unfold(body))
        # The description's special characters are escaped and come back intact.
        ve = self.vevents(body, self.ev["weekly"]["uid"])
        self.assertEqual(unescape(ve[0].one("DESCRIPTION")), DESCRIPTION)
        # DTSTAMP and SEQUENCE come from the event, not from the clock.
        weekly = self.srv.get("/api/v1/events/" + self.ev["weekly"]["id"]).body
        stamp = re.sub(r"[-:]", "", weekly["updated_at"])
        for v in ve:
            self.assertEqual(v.one("DTSTAMP"), stamp)
            self.assertEqual(int(v.one("SEQUENCE")), weekly["sequence"])
        # Master and override share the UID; the override carries a RECURRENCE-ID.
        self.assertEqual(len(ve), 2, "master + one moved occurrence")
        rids = [v.get("RECURRENCE-ID") for v in ve]
        self.assertEqual(sorted(len(x) for x in rids), [0, 1])
        override = [v for v in ve if v.get("RECURRENCE-ID")][0]
        self.assertEqual(override.get("RECURRENCE-ID")[0][1].get("TZID"), SH)
        self.assertEqual(override.one("RECURRENCE-ID"), "20261221T090000")
        self.assertEqual(override.one("DTSTART"), "20261222T093000")
        master = [v for v in ve if not v.get("RECURRENCE-ID")][0]
        exdates = ",".join(v for _, _, v in master.get("EXDATE"))
        self.assertIn("20261214T090000", exdates)  # the EXDATE
        self.assertIn("20261228T090000", exdates)  # the cancelled occurrence
        # The New York meeting keeps its zone and gets its VTIMEZONE.
        visitor = self.vevents(body, self.ev["visitor"]["uid"])[0]
        self.assertEqual(visitor.get("DTSTART")[0][1].get("TZID"), NY)
        self.assertIn(NY, [z.one("TZID") for z in tree(body).sub("VTIMEZONE")])
        # All-day: VALUE=DATE with an exclusive DTEND.
        allday = self.vevents(body, self.ev["allday"]["uid"])[0]
        self.assertEqual(allday.get("DTSTART")[0][1].get("VALUE"), "DATE")
        self.assertEqual((allday.one("DTSTART"), allday.one("DTEND")), ("20261217", "20261219"))

    # ---- 2. the two oracles ----

    def test_2_oracles_match_the_api(self):
        if self.icaljs_problem:
            self.fail("ical.js oracle unavailable: %s\ninstall it with: %s"
                      % (self.icaljs_problem, NPM_COMMAND))
        for name in self.feeds:
            with self.subTest(feed=name):
                body = self.body(name)
                expected = self.api_expected(name)
                self.assertTrue(expected, "%s: the API lists nothing" % name)
                py = self.shown(name, oracle_python(body), body)
                self.assertEqual(py, expected, "%s: recurring-ical-events vs API\n%s"
                                 % (name, diff_text(expected, py)))
                js_occ, js_cal = oracle_icaljs(body)
                js = self.shown(name, js_occ, body)
                self.assertEqual(js, expected, "%s: ical.js vs API\n%s"
                                 % (name, diff_text(expected, js)))
                self.assertEqual(js_cal["method"], "PUBLISH")
                self.assertEqual(js_cal["name"], self.feeds[name][2]["name"])
        # The interesting cases really are in there.
        leader = self.api_expected("leader")
        starts = [k[1] for k in leader if k[0] == self.ev["weekly"]["uid"]]
        self.assertIn("2026-12-22T09:30:00", starts)           # moved
        self.assertNotIn("2026-12-21T09:00:00", starts)
        self.assertNotIn("2026-12-14T09:00:00", starts)        # EXDATE
        self.assertNotIn("2026-12-28T09:00:00", starts)        # cancelled occurrence
        driver = self.api_expected("driver")
        trip_id = self.ev["weekly_trip"]["trips"][0]["id"] + "@convene"
        self.assertIn("2026-12-23T14:20:00", [k[1] for k in driver if k[0] == trip_id],
                      "the moved occurrence's trip moves with it")
        self.assertNotIn("2026-12-22T13:20:00", [k[1] for k in driver if k[0] == trip_id])

    # ---- 3. privacy, status, partstat, alarms ----

    def test_3_privacy_status_partstat_alarms(self):
        secret_uid = self.ev["secret"]["uid"]
        trip = self.ev["secret"]["trips"][0]
        for name in self.feeds:
            body = self.body(name)
            text = "\n".join(unfold(body))
            kind, rid, _ = self.feeds[name]
            own = name == "leader2"  # the only attendee
            with self.subTest(feed=name):
                for ve in self.vevents(body, secret_uid):
                    self.assertEqual(ve.one("CLASS"), "CONFIDENTIAL")
                    if own:
                        self.assertEqual(unescape(ve.one("SUMMARY")), SECRET_TITLE)
                        self.assertEqual(unescape(ve.one("DESCRIPTION")), SECRET_DESC)
                        self.assertIn(SECRET_PLACE, unescape(ve.one("LOCATION")))
                        self.assertTrue(ve.get("ATTENDEE"))
                        self.assertTrue(ve.sub("VALARM"))
                    else:
                        self.assertEqual(unescape(ve.one("SUMMARY")), BUSY)
                        for prop in ("DESCRIPTION", "LOCATION", "ATTENDEE"):
                            self.assertEqual(ve.get(prop), [], "%s in busy-only event" % prop)
                        self.assertEqual(ve.sub("VALARM"), [], "VALARM in busy-only event")
                if not own:
                    for secret in (SECRET_TITLE, SECRET_DESC, SECRET_PLACE):
                        self.assertNotIn(secret, text, "%s leaks %r" % (name, secret))
        self.assertTrue(self.vevents(self.body("room"), secret_uid), "room feed lacks it")
        self.assertTrue(self.vevents(self.body("leader2"), secret_uid))
        # The driver (and the vehicle) see the trip: place and time; no title, and not who
        # rides (the passengers are the meeting's attendees: CONTRACT section 15).
        for name in ("driver", "vehicle"):
            ves = self.vevents(self.body(name), trip["id"] + "@convene")
            self.assertEqual(len(ves), 1, name)
            ve = ves[0]
            self.assertEqual(unescape(ve.one("SUMMARY")), "用车：机关大院 → 省委")
            self.assertEqual(unescape(ve.one("LOCATION")), "机关大院")
            self.assertEqual(ve.one("DTSTART"), "20261209T142000")
            self.assertEqual(ve.one("DTEND"), "20261209T163000")
            # The trip itself (route, car and plate, driver: what a driver needs, CONTRACT
            # section 10), never the passengers (its attendees) or what the meeting is.
            [(_, _, text)] = ve.get("DESCRIPTION")
            self.assertTrue(text.startswith("路线：机关大院 → 省委\\n车辆："), text)
            self.assertNotIn("乘车人", text)
            self.assertNotIn("会议", text)
            self.assertEqual(self.vevents(self.body(name), secret_uid), [],
                             "the meeting itself is not on the %s's calendar" % name)
        # A non-confidential trip names its meeting and both passengers.
        ve = self.vevents(self.body("driver"), self.ev["trip"]["trips"][0]["id"] + "@convene")[0]
        desc = unescape(ve.one("DESCRIPTION"))
        self.assertIn("张三", desc)
        self.assertIn("王秘书", desc)
        self.assertIn("市政府常务会议", desc)
        # The cancelled event stays, cancelled, on every calendar it was on.
        for name in ("leader", "room"):
            ves = self.vevents(self.body(name), self.ev["cancelled"]["uid"])
            self.assertEqual(len(ves), 1, name)
            self.assertEqual(ves[0].one("STATUS"), "CANCELLED")
        for ve in self.vevents(self.body("leader"), self.ev["trip"]["uid"]):
            self.assertEqual(ve.one("STATUS"), "CONFIRMED")
        # PARTSTAT from the RSVPs, on the master and on the moved occurrence.
        ids = {self.L1["id"]: "NEEDS-ACTION", self.L2["id"]: "ACCEPTED",
               self.S["id"]: "DECLINED"}
        for ve in self.vevents(self.body("leader"), self.ev["weekly"]["uid"]):
            got = {v.rsplit(":", 1)[1]: p.get("PARTSTAT") for _, p, v in ve.get("ATTENDEE")}
            self.assertEqual(got, ids)
            cns = sorted(p.get("CN") for _, p, _ in ve.get("ATTENDEE"))
            self.assertEqual(cns, sorted(["张三", "李四", "王秘书"]))
            # Reminders [30, 0]: 30 minutes before and at the start.
            triggers = sorted(a.one("TRIGGER") for a in ve.sub("VALARM"))
            self.assertEqual(triggers, ["-PT30M", "PT0S"])
            for alarm in ve.sub("VALARM"):
                self.assertEqual(alarm.one("ACTION"), "DISPLAY")
                self.assertTrue(alarm.one("DESCRIPTION"))

    # ---- 4. HTTP ----

    def test_4_http(self):
        r = self.get_feed("leader")
        self.assertEqual(r.status, 200)
        plain = r.raw
        for name in self.feeds:
            with self.subTest(feed=name):
                r = self.get_feed(name)
                self.assertEqual(r.header("Content-Type"), "text/calendar; charset=utf-8")
                self.assertIsNone(r.header("Content-Disposition"))
                self.assertIsNone(r.header("Content-Encoding"))
                self.assertTrue((r.header("Cache-Control") or "").startswith("private"),
                                r.header("Cache-Control"))
                self.assertTrue(r.header("ETag"))
                self.assertTrue(r.header("Last-Modified"))
        r = self.get_feed("leader")
        etag, lm = r.header("ETag"), r.header("Last-Modified")
        # ETag: 304 without a body; a different tag gets the body.
        r304 = self.get_feed("leader", headers={"If-None-Match": etag})
        self.assertEqual(r304.status, 304)
        self.assertEqual(r304.raw, b"")
        self.assertEqual(r304.header("ETag"), etag)
        r = self.get_feed("leader", headers={"If-None-Match": '"0000", ' + etag})
        self.assertEqual(r.status, 304, "a list containing the tag matches")
        r = self.get_feed("leader", headers={"If-None-Match": '"not-the-tag"'})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.raw, plain)
        # Last-Modified: 304 at or after it, 200 before it.
        r = self.get_feed("leader", headers={"If-Modified-Since": lm})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.raw, b"")
        r = self.get_feed("leader", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.raw, plain)
        # gzip when accepted; it decompresses to the plain bytes.
        r = self.get_feed("leader", headers={"Accept-Encoding": "gzip, deflate"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertLess(len(r.raw), len(plain))
        self.assertEqual(gzip.decompress(r.raw), plain)
        self.assertIn("Accept-Encoding", r.header("Vary") or "")
        # Other bytes, so another strong ETag (CONTRACT section 10); 304s work for each.
        gz_etag = r.header("ETag")
        self.assertTrue(gz_etag)
        self.assertNotEqual(gz_etag, etag)
        r = self.get_feed("leader", headers={"Accept-Encoding": "gzip",
                                             "If-None-Match": gz_etag})
        self.assertEqual((r.status, r.raw, r.header("ETag")), (304, b"", gz_etag))
        r = self.get_feed("leader", headers={"If-None-Match": gz_etag})
        self.assertEqual((r.status, r.header("ETag")), (200, etag),
                         "the gzip tag does not validate the plain body")
        self.assertEqual(r.raw, plain)
        for accept, gz in (("gzip;q=0", False), ("gzip; q=0", False), ("br, gzip;q=0.0", False),
                           ("gzip;q=0.5", True), ("br, GZIP;q=1.0", True), ("deflate, *", True),
                           ("identity", False), ("*;q=0", False), ("x-gzip", True)):
            r = self.get_feed("leader", headers={"Accept-Encoding": accept})
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Content-Encoding"), "gzip" if gz else None, accept)
            self.assertEqual(gzip.decompress(r.raw) if gz else r.raw, plain, accept)
        # No bearer token is needed, and one does not hurt.
        r = self.srv.get(feed_path(self.L1["feed_url"]))
        self.assertEqual((r.status, r.raw), (200, plain))
        # Unknown and malformed tokens.
        tok = feed_path(self.L1["feed_url"])[len("/feeds/"):-len(".ics")]
        other = ("A" if tok[0] != "A" else "B") + tok[1:]
        for path in ("/feeds/%s.ics" % other, "/feeds/AAAAAAAAAAAAAAAAAAAAAA.ics",
                     "/feeds/%s" % tok, "/feeds/%s.ics.bak" % tok, "/feeds/%s.ICS" % tok,
                     "/feeds/%sA.ics" % tok, "/feeds/short.ics", "/feeds/.ics",
                     "/feeds/%s.ics" % tok.lower() if tok.lower() != tok else "/feeds/x.ics"):
            r = self.srv.request("GET", path, token=None)
            self.assertEqual(r.status, 404, "%s -> %r" % (path, r))
            self.assertNotIn(b"BEGIN:VCALENDAR", r.raw)

    # ---- 5. stability: re-render and restart ----

    def test_5_stable_across_rerender_and_restart(self):
        before = {n: self.body(n) for n in self.feeds}
        etags = {n: self.get_feed(n).header("ETag") for n in self.feeds}
        urls = {n: self.feeds[n][2]["feed_url"] for n in self.feeds}
        # Drop every cached feed (any resource PATCH does) without changing what they show.
        r = self.srv.patch("/api/v1/people/" + self.D["id"], {"phone": "13800000000"})
        self.assertEqual(r.status, 200, r)
        time.sleep(max(0.0, 1.2 - (time.time() - self.t0)))  # a clock-made DTSTAMP would move
        for n in self.feeds:
            self.assertEqual(self.body(n), before[n], "%s changed on re-render" % n)
            self.assertEqual(self.get_feed(n).header("ETag"), etags[n])
        self.assertEqual(self.srv.restart(), 0, "the service did not stop cleanly")
        for n, (kind, rid, rec) in self.feeds.items():
            plural = {"person": "people", "room": "rooms", "vehicle": "vehicles"}[kind]
            r = self.srv.get("/api/v1/%s/%s" % (plural, rid))
            self.assertEqual(feed_path(r.body["feed_url"]), feed_path(urls[n]),
                             "%s feed URL changed across the restart" % n)
            self.assertEqual(self.body(n), before[n], "%s changed across the restart" % n)
            self.assertEqual(self.get_feed(n).header("ETag"), etags[n])
            r = self.get_feed(n, headers={"If-None-Match": etags[n]})
            self.assertEqual(r.status, 304, "%s: the old ETag still matches" % n)

    # ---- 6. a change touches exactly its calendars ----

    def test_6_change_touches_exactly_its_calendars(self):
        before = {n: self.get_feed(n) for n in self.feeds}
        uids = {n: sorted({v.one("UID") for v in tree(before[n].raw).sub("VEVENT")})
                for n in self.feeds}
        eid, uid = self.ev["trip"]["id"], self.ev["trip"]["uid"]
        seq_before = int(self.vevents(before["leader"].raw, uid)[0].one("SEQUENCE"))
        time.sleep(1.1)  # Last-Modified has one-second resolution
        r = self.srv.patch("/api/v1/events/" + eid,
                           {"title": "市政府常务会议（改期议程）", "location": "市政府第一会议室"})
        self.assertEqual(r.status, 200, r)
        after = {n: self.get_feed(n) for n in self.feeds}
        affected = {"leader", "secretary", "driver", "vehicle"}  # attendees, driver, vehicle
        for n in self.feeds:
            with self.subTest(feed=n):
                changed = after[n].header("ETag") != before[n].header("ETag")
                self.assertEqual(changed, n in affected,
                                 "%s: ETag %s" % (n, "changed" if changed else "unchanged"))
                self.assertEqual(after[n].raw != before[n].raw, n in affected)
                if n in affected:
                    self.assertIn("市政府常务会议（改期议程）", "\n".join(unfold(after[n].raw)))
                    # The old validators no longer match.
                    r = self.get_feed(n, headers={"If-None-Match": before[n].header("ETag")})
                    self.assertEqual(r.status, 200)
                    r = self.get_feed(n, headers={
                        "If-Modified-Since": before[n].header("Last-Modified")})
                    self.assertEqual(r.status, 200, "%s: Last-Modified did not move" % n)
                else:
                    r = self.get_feed(n, headers={"If-None-Match": before[n].header("ETag")})
                    self.assertEqual(r.status, 304)
                self.assertEqual(sorted({v.one("UID") for v in tree(after[n].raw).sub("VEVENT")}),
                                 uids[n], "%s: UIDs changed" % n)
                self.check_bytes(n, after[n].raw)
        ve = self.vevents(after["leader"].raw, uid)[0]
        self.assertGreater(int(ve.one("SEQUENCE")), seq_before, "SEQUENCE after a PATCH")
        self.assertEqual(int(ve.one("SEQUENCE")), r_seq(self.srv, eid))
        self.assertEqual(unescape(ve.one("LOCATION")), "市政府第一会议室")

    # ---- 7. a rename moves Last-Modified too ----

    def test_7_rename_moves_last_modified(self):
        before = self.get_feed("room2")
        time.sleep(1.1)
        r = self.srv.patch("/api/v1/rooms/" + self.R2["id"], {"name": "第二会议室（新）"})
        self.assertEqual(r.status, 200, r)
        r = self.get_feed("room2", headers={"If-Modified-Since": before.header("Last-Modified")})
        self.assertEqual(r.status, 200, "renamed calendar answered 304 to If-Modified-Since")
        self.assertEqual(unescape(tree(r.raw).one("X-WR-CALNAME")), "第二会议室（新）")
        self.assertNotEqual(r.header("ETag"), before.header("ETag"))
        r = self.get_feed("room2", headers={"If-Modified-Since": r.header("Last-Modified")})
        self.assertEqual(r.status, 304)

    # ---- 8. rotation ----

    def test_8_rotation(self):
        for name, plural in (("leader", "people"), ("room", "rooms"), ("vehicle", "vehicles")):
            with self.subTest(feed=name):
                kind, rid, rec = self.feeds[name]
                old = feed_path(rec["feed_url"])
                body = self.body(name)
                rot = self.srv.post("/api/v1/%s/%s/feed-token" % (plural, rid))
                self.assertEqual(rot.status, 200, rot)
                new = feed_path(rot.body["feed_url"])
                self.assertNotEqual(new, old)
                self.assertTrue(rot.body["webcal_url"].startswith("webcal://"))
                self.assertTrue(rot.body["webcal_url"].endswith(new))
                self.assertEqual(self.srv.request("GET", old, token=None).status, 404)
                r = self.srv.request("GET", new, token=None)
                self.assertEqual((r.status, r.raw), (200, body))
                got = self.srv.get("/api/v1/%s/%s" % (plural, rid)).body
                self.assertEqual(feed_path(got["feed_url"]), new)
                self.feeds[name] = (kind, rid, dict(rec, feed_url=rot.body["feed_url"]))
        # Only an admin (or the person) may rotate; no token at all is 401.
        r = self.srv.request("POST", "/api/v1/people/%s/feed-token" % self.L2["id"], token=None)
        self.assertEqual(r.status, 401)
        # The old URL stays dead across a restart; the new one lives on.
        self.srv.restart()
        self.assertEqual(self.srv.request("GET", old, token=None).status, 404)
        self.assertEqual(self.get_feed("vehicle").status, 200)

    # ---- 9. the read caches follow every change ----

    def test_9_caches_follow_changes(self):
        """Feeds and occurrence lists are served from cached documents, display names
        and per-event VEVENT text (docs/ARCHITECTURE.md): warm every cache, then change
        a person's name, an RSVP and a title, and read each change back at once."""
        eid = self.ev["training"]["id"]
        occ = "/api/v1/occurrences?from=2026-12-10&to=2026-12-10&room=" + self.R2["id"]
        for _ in range(2):  # warm: the second read is served from the caches
            self.body("room2"), self.body("secretary"), self.srv.get(occ)
        # A renamed attendee: the CN changes in another calendar's feed (the room's).
        old_name = self.S["name"]
        r = self.srv.patch("/api/v1/people/" + self.S["id"], {"name": "档案秘书（改名）"})
        self.assertEqual(r.status, 200, r)
        try:
            room = "\n".join(unfold(self.body("room2")))
            self.assertIn('CN="档案秘书（改名）"', room)
            self.assertNotIn('CN="%s"' % old_name, room)
        finally:
            self.assertEqual(self.srv.patch("/api/v1/people/" + self.S["id"],
                                            {"name": old_name}).status, 200)
        self.assertIn('CN="%s"' % old_name, "\n".join(unfold(self.body("room2"))))
        # An RSVP rewrites the event: PARTSTAT moves in both feeds and in the list.
        r = self.srv.post("/api/v1/events/%s/rsvp" % eid,
                          {"person": self.S["id"], "response": "tentative"})
        self.assertEqual(r.status, 200, r)
        for name in ("room2", "secretary"):
            ve = self.vevents(self.body(name), self.ev["training"]["uid"])
            self.assertEqual(len(ve), 1, name)
            self.assertEqual([p[1].get("PARTSTAT") for p in ve[0].get("ATTENDEE")],
                             ["TENTATIVE"], name)
        items = [i for i in self.srv.get(occ).body if i["event"] == eid]
        self.assertEqual([a.get("response") for a in items[0]["attendees"]], ["tentative"])
        # A new title reaches the occurrence list and the feeds right away.
        r = self.srv.patch("/api/v1/events/" + eid, {"title": "档案工作培训（第二期）"})
        self.assertEqual(r.status, 200, r)
        items = [i for i in self.srv.get(occ).body if i["event"] == eid]
        self.assertEqual(items[0]["title"], "档案工作培训（第二期）")
        # One occurrence retitled: that item only, the others keep the series' title.
        wid = self.ev["weekly_trip"]["id"]
        week = "/api/v1/occurrences?from=2026-12-01&to=2026-12-31&person=" + self.L2["id"]
        self.srv.get(week)
        r = self.srv.patch("/api/v1/events/%s/occurrences/2026-12-08T14:00:00" % wid,
                           {"title": "市政府联席会（年终）"})
        self.assertEqual(r.status, 200, r)
        titles = {i["recurrence_id"]: i["title"] for i in self.srv.get(week).body
                  if i["event"] == wid}
        self.assertEqual(titles.pop("2026-12-08T14:00:00"), "市政府联席会（年终）")
        self.assertEqual(set(titles.values()), {"每周二市政府联席会"}, titles)
        # The driver lists the confidential meeting's trip as busy time, without details.
        _, dtok = self.srv.create_token("driver", person=self.D["id"])
        driver = self.srv.client(dtok)
        r = driver.get("/api/v1/occurrences?from=2026-12-09&to=2026-12-09&driver=" + self.D["id"])
        driver.close()
        self.assertEqual(r.status, 200, r)
        secret = [i for i in r.body if i["event"] == self.ev["secret"]["id"]]
        self.assertEqual(len(secret), 1, r.body)
        self.assertEqual(secret[0]["title"], BUSY)
        for hidden in ("attendees", "location", "room"):
            self.assertNotIn(hidden, secret[0])
        self.assertNotIn(SECRET_TITLE, json.dumps(r.body, ensure_ascii=False))
        for name in ("room2", "secretary"):
            self.assertIn("SUMMARY:档案工作培训（第二期）", unfold(self.body(name)), name)
        # A PATCH that is refused (422) changes nothing, in the caches either.
        r = self.srv.patch("/api/v1/events/" + eid, {"title": "x" * 501})
        self.assertEqual(r.status, 422, r)
        items = [i for i in self.srv.get(occ).body if i["event"] == eid]
        self.assertEqual(items[0]["title"], "档案工作培训（第二期）")
        for name in ("room2", "secretary"):
            self.assertIn("SUMMARY:档案工作培训（第二期）", unfold(self.body(name)), name)

    # ---- 99. (runs after 8, before 9) an event leaving a calendar moves its Last-Modified ----

    def test_99_leaving_moves_last_modified(self):
        """Removing an attendee takes the meeting out of their feed; Last-Modified must move
        forward (not back to the newest remaining event), or If-Modified-Since clients get
        304 and keep the meeting. It stays put across a restart."""
        ev = self.srv.create("events", {
            "title": "临时碰头会", "start": "2026-12-16T10:00:00", "end": "2026-12-16T10:30:00",
            "tz": SH, "attendees": [{"person": self.L1["id"]}, {"person": self.S["id"]}]})
        before = self.get_feed("leader")
        self.assertEqual(len(self.vevents(before.raw, ev["uid"])), 1)
        time.sleep(1.1)  # Last-Modified has one-second resolution
        r = self.srv.patch("/api/v1/events/" + ev["id"], {"attendees": [{"person": self.S["id"]}]})
        self.assertEqual(r.status, 200, r)
        r = self.get_feed("leader", headers={"If-Modified-Since": before.header("Last-Modified")})
        self.assertEqual(r.status, 200, "the leader's feed lost a meeting but answered 304")
        self.assertEqual(self.vevents(r.raw, ev["uid"]), [])
        after_lm = r.header("Last-Modified")
        self.assertGreater(parsedate_to_datetime(after_lm), parsedate_to_datetime(
            before.header("Last-Modified")))
        self.assertEqual(self.get_feed("leader", headers={"If-Modified-Since": after_lm}).status,
                         304)
        self.assertEqual(self.srv.restart(), 0)
        self.assertEqual(self.get_feed("leader").header("Last-Modified"), after_lm)


def r_seq(srv, eid):
    return srv.get("/api/v1/events/" + eid).body["sequence"]


if __name__ == "__main__":
    unittest.main(verbosity=2)
