#!/usr/bin/env python3
"""Reports benchmark (issue 18): a year of 50,000 held occurrences, each report
(JSON, CSV, XLSX) asked several times. Goal: every report of the year under 300 ms.

Not a test: run it by hand on an otherwise idle machine.

    bench/report_bench.py [--bin build/convene] [--occurrences 50000] [--runs 7]

Seeding goes through the API (POST /api/v1/events), so occurrences, occupancy,
trips and meals are what bookings really write: daily series (FREQ=DAILY, one a
POST, 365 occurrences each) of one hour in 20 rooms x 8 hourly slots; the
11:00 series have lunch for their attendees and 2 guests (one halal), the 09:00
series in rooms 0-9 carry a trip (vehicle i, driver i, 17:00-21:00, so part of it
is driver's night); every series has a leader (room i's leader i of
10, rooms 10-19 a staff member) and a staff member. A series' kind and department are
written into the stored documents with the service stopped (POST /events takes
them with the approvals work; reports read them from the document).

Measured after a warm-up, sequentially on one keep-alive connection: the
service's CPU time per answer (from /proc, the thread pool's XLSX work included;
other work on the machine does not inflate it as it does round trips) and the
client-side round trip of each report over 2026-01-01..2026-12-31 (meetings by
kind, department, leader, month; rooms; vehicles; drivers; meals by meal, diet,
department; year), as JSON, CSV and XLSX. Also /healthz while an XLSX report is
being made (the workbook is zipped off the loop). Prints a table; writes
bench/results/reports.txt (bench/results/ is not committed).
"""

import argparse
import http.client
import json
import os
import sqlite3
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from harness import Server  # noqa: E402

KINDS = ["办公会", "党组会", "专题会", "接待", "调研", "培训", "座谈会"]
DEPTS = ["办公室", "党办", "财务处", "人事处", "外事办"]
ROOMS, SLOTS = 20, 8


def post(srv, path, body):
    r = srv.request("POST", path, body)
    if r.status != 201:
        raise SystemExit("%s failed: %s" % (path, r))
    return r.body


def seed(srv, occurrences):
    leaders = [post(srv, "/api/v1/people", {"name": "领导%d" % i, "role": "leader", "rank": i + 1})["id"]
               for i in range(10)]
    staff = [post(srv, "/api/v1/people", dict({"name": "干部%d" % i, "role": "staff"},
                                              **({"diet": "halal"} if i % 7 == 0 else {})))["id"]
             for i in range(ROOMS * SLOTS)]
    drivers = [post(srv, "/api/v1/people", {"name": "司机%d" % i, "role": "driver"})["id"] for i in range(10)]
    vehicles = [post(srv, "/api/v1/vehicles", {"name": "车%d" % i, "plate": "京A%05d" % i, "seats": 7})["id"]
                for i in range(10)]
    rooms = [post(srv, "/api/v1/rooms", {"name": "会议室%02d" % i, "capacity": 30})["id"] for i in range(ROOMS)]
    series = (occurrences + 364) // 365
    facts, n, t0 = {}, 0, time.time()
    for k in range(series):
        slot, room = divmod(k, ROOMS)
        hour = 9 + slot
        body = {"title": "例会%d" % k, "start": "2026-01-01T%02d:00:00" % hour,
                "end": "2026-01-01T%02d:00:00" % (hour + 1), "tz": "Asia/Shanghai",
                "rrule": "FREQ=DAILY;COUNT=%d" % min(365, occurrences - n),
                "attendees": [{"person": leaders[room] if room < 10 else staff[(k + 80) % len(staff)]},
                              {"person": staff[k % len(staff)]}],
                "room": rooms[room]}
        if hour == 11:
            body["guests"] = 2
            body["meals"] = [{"meal": "lunch", "diets": {"halal": 1}}]
        if slot == 0 and room < 10:
            body["trips"] = [{"vehicle": vehicles[room], "driver": drivers[room],
                              "depart": "2026-01-01T17:00:00", "return": "2026-01-01T21:00:00",
                              "from": "机关", "to": "会场", "approved_by": leaders[0]}]
        eid = post(srv, "/api/v1/events", body)["id"]
        facts[eid] = (KINDS[k % len(KINDS)], DEPTS[k % len(DEPTS)])
        n += min(365, occurrences - n)
    print("seeded %d series, %d occurrences in %.1f s" % (series, n, time.time() - t0), flush=True)
    srv.stop()
    con = sqlite3.connect(srv.db)
    con.executemany("UPDATE events SET doc = json_set(doc, '$.kind', ?, '$.department', ?) WHERE id = ?",
                    [(kind, dept, eid) for eid, (kind, dept) in facts.items()])
    con.commit()
    held = con.execute("SELECT count(*) FROM occurrences o JOIN events e ON e.id = o.event_id "
                       "WHERE e.status = 'confirmed' AND o.start_utc >= strftime('%s', '2025-12-31T16:00:00') "
                       "AND o.start_utc < strftime('%s', '2026-12-31T16:00:00')").fetchone()[0]
    con.close()
    srv.start()
    return held


def server_cpu_ms(srv):
    """The service's CPU time so far (user + system), from /proc: load on the machine does
    not inflate it the way it inflates round trips."""
    with open("/proc/%d/stat" % srv.proc.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def timed(conn, path, token):
    t = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": "Bearer " + token})
    r = conn.getresponse()
    body = r.read()
    ms = (time.perf_counter() - t) * 1000
    if r.status != 200:
        raise SystemExit("%s: %d %s" % (path, r.status, body[:200]))
    return ms, len(body)


def loop_while_xlsx(srv, token):
    """/healthz round trips while one XLSX year report is made on another connection."""
    done, worst = threading.Event(), [0.0]

    def xlsx():
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=60)
        timed(c, "/api/v1/reports/meetings?from=2026-01-01&to=2026-12-31&format=xlsx", token)
        done.set()

    th = threading.Thread(target=xlsx)
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=60)
    th.start()
    while not done.is_set():
        t = time.perf_counter()
        c.request("GET", "/healthz")
        c.getresponse().read()
        worst[0] = max(worst[0], (time.perf_counter() - t) * 1000)
    th.join()
    return worst[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "convene"))
    ap.add_argument("--occurrences", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    os.environ["CONVENE_BIN"] = os.path.abspath(args.bin)
    token = "bench-reports-token-0123456789abcdef"
    srv = Server(admin_token=token, extra_args=["--durability", "normal"])
    srv.start()
    lines = []
    try:
        held = seed(srv, args.occurrences)
        lines.append("held occurrences in 2026: %d" % held)
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=60)
        span = "from=2026-01-01&to=2026-12-31"
        reports = [("meetings?by=" + b + "&" + span) for b in ("kind", "department", "leader", "month")]
        reports += ["rooms?" + span, "vehicles?" + span, "drivers?" + span]
        reports += [("meals?by=" + b + "&" + span) for b in ("meal", "diet", "department")]
        reports += ["year?year=2026"]
        lines.append("%-22s %-5s %8s %8s %8s %8s %9s" % ("report", "fmt", "median", "min", "max",
                                                        "cpu", "bytes"))
        worst = 0.0
        for rep in reports:
            for fmt in ("json", "csv", "xlsx"):
                path = "/api/v1/reports/%s&format=%s" % (rep, fmt)
                timed(conn, path, token)  # warm-up
                cpu0 = server_cpu_ms(srv)
                runs = [timed(conn, path, token) for _ in range(args.runs)]
                cpu = (server_cpu_ms(srv) - cpu0) / args.runs
                ms = [r[0] for r in runs]
                worst = max(worst, max(ms))
                name = rep.split("&from")[0].split("?from")[0].split("?year")[0]
                lines.append("%-22s %-5s %8.1f %8.1f %8.1f %8.1f %9d" % (
                    name, fmt, statistics.median(ms), min(ms), max(ms), cpu, runs[0][1]))
                print(lines[-1], flush=True)
        lines.append("slowest single answer: %.1f ms (goal < 300 ms)" % worst)
        lines.append("/healthz worst while an XLSX report is made: %.1f ms" % loop_while_xlsx(srv, token))
    finally:
        srv.cleanup()
    print("\n".join(lines[-2:]))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "reports.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
