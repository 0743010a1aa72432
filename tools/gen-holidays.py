#!/usr/bin/env python3
"""Generate calendars/holidays/cn-YYYY.ics from the PRC holiday data.

Usage: python3 tools/gen-holidays.py [DATA_JSON [OUTPUT_DIR]]
  DATA_JSON   default ../shared/data/cn-public-holidays.json (relative to the repo root)
  OUTPUT_DIR  default calendars/holidays (relative to the repo root)

The JSON maps each year to entries {name, date | from/to, off}. Every day-off range
becomes one all-day HOLIDAY event, every make-up working day (off=false) a one-day
WORKDAY event; convene's working calendar reads X-CONVENE-DAY-TYPE (CATEGORIES as
fallback). The output is strict RFC 5545 (CRLF, 75-octet folding, escaped TEXT) and
depends only on the data, never on the clock, so regenerating is byte-for-byte stable.
Standard library only.
"""

import datetime
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(REPO, "..", "shared", "data", "cn-public-holidays.json")
DEFAULT_OUT = os.path.join(REPO, "calendars", "holidays")
MAX_OCTETS = 75  # RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets, excluding CRLF


def escape_text(value):
    """Escape a TEXT value (RFC 5545 3.3.11): backslash first, then ; , and newlines."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line):
    """Fold one content line into CRLF-terminated physical lines of <= 75 octets.

    Breaks only between UTF-8 characters (never before a continuation byte
    0b10xxxxxx), and each continuation line starts with one space, which counts
    towards its 75 octets.
    """
    data = line.encode("utf-8")
    out, start, limit = [], 0, MAX_OCTETS
    while len(data) - start > limit:
        cut = start + limit
        while data[cut] & 0xC0 == 0x80:  # back off to the start of a character
            cut -= 1
        out.append(data[start:cut])
        start, limit = cut, MAX_OCTETS - 1  # later lines carry the leading space
    out.append(data[start:])
    return b"\r\n ".join(out) + b"\r\n"


def parse_day(text):
    return datetime.date.fromisoformat(text)


def events_for_year(year, entries):
    """Return (start, end_exclusive, kind, summary) tuples, sorted by date."""
    events = []
    for e in entries:
        first = parse_day(e.get("date") or e["from"])
        last = parse_day(e.get("date") or e["to"])
        if last < first:
            sys.exit("gen-holidays: %s: range ends before it starts: %r" % (year, e))
        if e["off"]:
            events.append((first, last + datetime.timedelta(days=1), "HOLIDAY", e["name"]))
        else:
            # A make-up working day is always a single day; a range would be a data error.
            if first != last:
                sys.exit("gen-holidays: %s: make-up working day must be one date: %r" % (year, e))
            events.append((first, first + datetime.timedelta(days=1), "WORKDAY",
                           e["name"] + "调休上班"))
    events.sort()
    return events


def render_year(year, entries):
    """Render one year's VCALENDAR as bytes."""
    # DTSTAMP comes from the data, not the clock: the State Council publishes each
    # year's arrangement in the November before, so use 1 November of year - 1.
    dtstamp = "%04d1101T000000Z" % (int(year) - 1)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//convene//holidays//ZH",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:" + escape_text("中国法定节假日 %s" % year),
    ]
    for start, end, kind, summary in events_for_year(year, entries):
        lines += [
            "BEGIN:VEVENT",
            "UID:%s-%s@holidays.convene" % (start.strftime("%Y%m%d"), kind.lower()),
            "DTSTAMP:" + dtstamp,
            "DTSTART;VALUE=DATE:" + start.strftime("%Y%m%d"),
            "DTEND;VALUE=DATE:" + end.strftime("%Y%m%d"),
            "SUMMARY:" + escape_text(summary),
            "CATEGORIES:" + escape_text(kind),
            "TRANSP:TRANSPARENT",
            "X-CONVENE-DAY-TYPE:" + kind,
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return b"".join(fold(line) for line in lines)


def main(argv):
    data_path = argv[1] if len(argv) > 1 else DEFAULT_DATA
    out_dir = argv[2] if len(argv) > 2 else DEFAULT_OUT
    with open(data_path, encoding="utf-8") as f:
        years = json.load(f)["years"]
    os.makedirs(out_dir, exist_ok=True)
    for year in sorted(years):
        path = os.path.join(out_dir, "cn-%s.ics" % year)
        with open(path, "wb") as f:
            f.write(render_year(year, years[year]))
        print("wrote", os.path.relpath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
