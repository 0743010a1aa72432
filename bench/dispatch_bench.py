#!/usr/bin/env python3
"""Catering summary and dispatch list benchmark (issue 6).

Goal (issue 6): the catering summary of a day with 200 meetings, and the trip list of a day
with 100 trips, answer with a median under 5 ms each.

What it does:
1. Starts `convene serve` ($CONVENE_BIN, default build/convene) on a fresh SQLite database in
   a temporary directory, its stderr (one access-log line per request, with the server's own
   time in microseconds) going to a file there.
2. Seeds everything through the HTTP API, as a secretary would:
   - 400 people (20% halal, 10% vegetarian, 5% gluten-free, the rest without a diet),
     20 rooms, 25 drivers and 25 vehicles (4 to 7 seats), 75 passengers;
   - the catering day: 200 meetings with 3 to 10 attendees (some declined), 0 to 3 guests,
     lunch for all, dinner for a third, breakfast for a tenth, a fixed count for some, some
     confidential; 100 more meetings with meals on each of the days around it, so the query
     has to pick its day out of others;
   - the dispatch day (a working weekday, so no approval is needed): 100 trips, 4 per
     driver of 2 hours each (8 h, under --driver-max-hours 10), each driver keeping one car,
     1 to 3 passengers within the seats; half belong to meetings, half are standalone
     (airport-style) trips; 100 more trips on the next working day (the drivers' rest
     between the days is 13 h, over --driver-min-rest 8).
   Every seeding call must succeed (201), and the seeded day is checked (200 meetings in the
   lunch summary, 100 trips, 4 per driver) before anything is measured.
3. Measures, over one keep-alive connection (python http.client), each request on its own
   (perf_counter around send + full read), after a warm-up:
   - GET /api/v1/catering?date=D               (JSON)
   - GET /api/v1/catering?date=D + Accept: text/csv
   - GET /api/v1/trips?date=D2
   - GET /api/v1/trips?date=D2&driver=ID        (the 25 drivers in turn)
   and, for the same requests, the server's own time from its access log (the time from the
   request parsed to the response queued: it excludes the kernel and the client), so the
   client's share is visible. With wrk installed, also wrk -t1 -c1 --latency per endpoint
   (--no-wrk to skip).
4. Prints median / p90 / p99 (nearest rank) and exits 1 when a python-client median is 5 ms
   or more. Writes the table to bench/results/dispatch.txt.

Usage: bench/dispatch_bench.py [--bin PATH] [--requests 500] [--warmup 50] [--wrk-seconds 5]
                               [--no-wrk] [--durability full|normal] [--keep]
"""
import argparse
import datetime
import http.client
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOKEN = "bench-dispatch-admin-token-0123456789"
GOAL_MS = 5.0
ACCESS = re.compile(r" access (\S+) (\S+) (\d{3}) (\d+)us$")

PEOPLE = 400            # attendees of the catering day's meetings
ROOMS = 20              # meetings held at once
SLOTS = 10              # hourly slots 08:00 .. 17:50
MEETINGS = 200          # on the catering day
NOISE_MEETINGS = 100    # on each neighbouring day
DRIVERS = 25            # each with one vehicle and 4 trips a day
TRIPS = 100


# ---------------------------------------------------------------- server and client

def start(binary, tmp, durability):
    env = dict(os.environ, CONVENE_ADMIN_TOKEN=TOKEN)
    log_path = os.path.join(tmp, "convene.stderr")
    log = open(log_path, "wb")
    proc = subprocess.Popen([binary, "serve", "--db", os.path.join(tmp, "bench.db"),
                             "--listen", "127.0.0.1:0", "--durability", durability,
                             "--calendars", os.path.join(ROOT, "calendars")],
                            stdout=subprocess.PIPE, stderr=log, env=env, text=True, cwd=tmp)
    log.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "listening on" in line:
            return proc, int(line.strip().rsplit(":", 1)[1]), log_path
    proc.kill()
    with open(log_path, encoding="utf-8", errors="replace") as f:
        raise SystemExit("convene did not start:\n" + f.read()[-2000:])


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


class Client:
    """One keep-alive connection; the server keeps it open between requests."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None, headers=None):
        h = {"Authorization": "Bearer " + TOKEN}
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers=h)
        r = self.conn.getresponse()
        return r.status, r.read()

    def create(self, path, body):
        status, raw = self.call("POST", path, body)
        if status != 201:
            raise SystemExit("seeding: POST %s -> %d %s\n%s" % (path, status, raw[:600],
                                                                 json.dumps(body)[:600]))
        return json.loads(raw)

    def get_json(self, path):
        status, raw = self.call("GET", path)
        if status != 200:
            raise SystemExit("GET %s -> %d %s" % (path, status, raw[:300]))
        return json.loads(raw)


# ---------------------------------------------------------------- seeding

def at(date, minutes):
    """date 'YYYY-MM-DD' + minutes after local midnight -> local ISO time."""
    return "%sT%02d:%02d:00" % (date, minutes // 60, minutes % 60)


def working_weekdays(c, first, count):
    """`count` working days Monday..Friday from `first` on (the server's working calendar)."""
    last = (datetime.date.fromisoformat(first) + datetime.timedelta(days=60)).isoformat()
    days = c.get_json("/api/v1/workdays?from=%s&to=%s" % (first, last))
    out = [d["date"] for d in days if d["working"] and d["weekday"] not in ("Sat", "Sun")]
    if len(out) < count:
        raise SystemExit("fewer than %d working weekdays after %s" % (count, first))
    return out[:count]


def diet(i):
    k = i % 20
    return "halal" if k < 4 else "vegetarian" if k < 6 else "gluten-free" if k == 6 else None


def seed_people(c):
    people = []
    for i in range(PEOPLE):
        body = {"name": "职员%03d" % i, "role": "leader" if i % 10 == 0 else "staff",
                "rank": 1 + i % 50, "department": "处室%d" % (i % 12)}
        if diet(i):
            body["diet"] = diet(i)
        people.append(c.create("/api/v1/people", body)["id"])
    rooms = [c.create("/api/v1/rooms", {"name": "会议室%02d" % j, "capacity": 40})["id"]
             for j in range(ROOMS)]
    return people, rooms


def seed_meetings(c, date, count, people, rooms):
    """`count` meetings on `date`: ROOMS at a time, in hourly slots, people never doubled."""
    ids = []
    for m in range(count):
        slot, j = divmod(m, ROOMS)
        slot %= SLOTS
        base = (slot % 2) * (PEOPLE // 2) + j * 10  # 10 people of their own per room and slot
        n = 3 + m % 8
        attendees = [{"person": people[base + a]} for a in range(n)]
        if m % 7 == 0:
            attendees[1]["response"] = "declined"
        meals = [{"meal": "lunch"} if m % 17 else {"meal": "lunch", "count": 25}]
        if m % 3 == 0:
            meals.append({"meal": "dinner"})
        if m % 10 == 0:
            meals.append({"meal": "breakfast"})
        start = 8 * 60 + slot * 60
        body = {"title": "会议 %s-%03d" % (date, m), "start": at(date, start),
                "end": at(date, start + 50), "attendees": attendees, "room": rooms[j],
                "guests": m % 4, "meals": meals, "confidential": m % 13 == 0}
        ids.append(c.create("/api/v1/events", body)["id"])
    return ids


def seed_fleet(c):
    drivers = [c.create("/api/v1/people", {"name": "驾驶员%02d" % i, "role": "driver"})["id"]
               for i in range(DRIVERS)]
    vehicles = [c.create("/api/v1/vehicles", {"name": "公务车%02d" % i,
                                              "plate": "京A%05d" % (10000 + i),
                                              "seats": 4 + i % 4})["id"]
                for i in range(DRIVERS)]
    riders = [c.create("/api/v1/people", {"name": "乘车人%02d" % i, "role": "leader",
                                          "rank": 1 + i % 10})["id"]
              for i in range(DRIVERS * 3)]
    return drivers, vehicles, riders


def seed_trips(c, date, drivers, vehicles, riders):
    """TRIPS trips on `date`: 4 per driver (07:00, 10:00, 13:00, 16:00; 2 h each)."""
    for i in range(TRIPS):
        k, d = divmod(i, DRIVERS)
        depart = 7 * 60 + k * 180
        passengers = [riders[d * 3 + p] for p in range(1 + i % 3)]
        trip = {"vehicle": vehicles[d], "driver": drivers[d], "depart": at(date, depart),
                "return": at(date, depart + 120), "from": "机关大院",
                "to": "目的地%d" % (i % 17), "passengers": passengers}
        if i % 2 == 0:
            c.create("/api/v1/events", {
                "title": "外出会议 %s-%03d" % (date, i), "start": at(date, depart + 30),
                "end": at(date, depart + 90), "attendees": [{"person": p} for p in passengers],
                "confidential": i % 10 == 0, "trips": [trip]})
        else:
            c.create("/api/v1/trips", trip)


def check_seed(c, day, trip_day, drivers):
    summary = c.get_json("/api/v1/catering?date=%s" % day)
    lunch = [m for m in summary["meals"] if m["meal"] == "lunch"]
    events = {e["event"] for e in lunch[0]["events"]} if lunch else set()
    if len(events) != MEETINGS:
        raise SystemExit("catering day has %d meetings with lunch, not %d" % (len(events),
                                                                              MEETINGS))
    trips = c.get_json("/api/v1/trips?date=%s" % trip_day)
    if len(trips) != TRIPS:
        raise SystemExit("dispatch day has %d trips, not %d" % (len(trips), TRIPS))
    mine = c.get_json("/api/v1/trips?date=%s&driver=%s" % (trip_day, drivers[0]))
    if len(mine) != TRIPS // DRIVERS:
        raise SystemExit("driver has %d trips, not %d" % (len(mine), TRIPS // DRIVERS))
    return sum(m["total"] for m in summary["meals"]), len(summary["meals"])


# ---------------------------------------------------------------- measuring

def pct(values, q):
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def mark(c, label):
    """A request whose access-log line delimits a batch (the log is buffered: read at the end)."""
    c.call("GET", "/bench-mark/" + label)


def server_times(log_path, label, route):
    """Server times (ms) of the 200 answers to `route` between the marks of batch `label`."""
    out, inside = [], False
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = ACCESS.search(line.rstrip("\n"))
            if m is None:
                continue
            if m.group(2) == "/bench-mark/%s/begin" % label:
                inside = True
            elif m.group(2) == "/bench-mark/%s/end" % label:
                break
            elif inside and m.group(2) == route and m.group(3) == "200":
                out.append(int(m.group(4)) / 1000.0)
    return out


def measure(c, label, paths, headers, warmup, n):
    """Client latencies (ms) of n requests cycling through paths, between two marks."""
    for i in range(warmup):
        status, _ = c.call("GET", paths[i % len(paths)], headers=headers)
        assert status == 200, status
    mark(c, label + "/begin")
    client, size = [], 0
    for i in range(n):
        t0 = time.perf_counter()
        status, raw = c.call("GET", paths[i % len(paths)], headers=headers)
        client.append((time.perf_counter() - t0) * 1000.0)
        if status != 200:
            raise SystemExit("GET %s -> %d" % (paths[i % len(paths)], status))
        size = len(raw)
    mark(c, label + "/end")
    return client, size


def wrk_run(port, path, headers, seconds):
    """wrk -t1 -c1 --latency: (median, p90, p99 in ms, requests/s)."""
    cmd = ["wrk", "-t1", "-c1", "-d%ds" % seconds, "--latency",
           "-H", "Authorization: Bearer " + TOKEN]
    for k, v in (headers or {}).items():
        cmd += ["-H", "%s: %s" % (k, v)]
    out = subprocess.run(cmd + ["http://127.0.0.1:%d%s" % (port, path)], capture_output=True,
                         text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit("wrk got errors:\n" + out)

    def ms(label):
        m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % re.escape(label), out, re.M)
        v = float(m.group(1))
        return v / 1000.0 if m.group(2) == "us" else v * 1000.0 if m.group(2) == "s" else v
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return ms("50%"), ms("90%"), ms("99%"), rate


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("CONVENE_BIN",
                                                    os.path.join(ROOT, "build", "convene")))
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--wrk-seconds", type=int, default=5)
    ap.add_argument("--no-wrk", action="store_true")
    ap.add_argument("--durability", default="full", choices=("full", "normal"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    if not os.access(a.bin, os.X_OK):
        raise SystemExit("%s not found: build first or set CONVENE_BIN" % a.bin)
    use_wrk = not a.no_wrk and shutil.which("wrk") is not None

    tmp = tempfile.mkdtemp(prefix="convene-dispatch-bench-")
    proc, port, log_path = start(a.bin, tmp, a.durability)
    try:
        c = Client(port)
        today = datetime.date.today()
        first = (today + datetime.timedelta(days=21)).isoformat()
        day, trip_day, noise_trip_day = working_weekdays(c, first, 3)
        t0 = time.perf_counter()
        people, rooms = seed_people(c)
        for offset in (-1, 0, 1):
            d = (datetime.date.fromisoformat(day) + datetime.timedelta(days=offset)).isoformat()
            seed_meetings(c, d, MEETINGS if offset == 0 else NOISE_MEETINGS, people, rooms)
        drivers, vehicles, riders = seed_fleet(c)
        seed_trips(c, trip_day, drivers, vehicles, riders)
        seed_trips(c, noise_trip_day, drivers, vehicles, riders)
        seed_s = time.perf_counter() - t0
        heads, nmeals = check_seed(c, day, trip_day, drivers)

        cases = [
            ("catering JSON", ["/api/v1/catering?date=%s" % day], None),
            ("catering CSV", ["/api/v1/catering?date=%s" % day], {"Accept": "text/csv"}),
            ("trips", ["/api/v1/trips?date=%s" % trip_day], None),
            ("trips &driver=", ["/api/v1/trips?date=%s&driver=%s" % (trip_day, d)
                                for d in drivers], None),
        ]
        rows, missed = [], []
        for i, (name, paths, headers) in enumerate(cases):
            client, size = measure(c, str(i), paths, headers, a.warmup, a.requests)
            row = {"name": name, "bytes": size, "route": paths[0].split("?", 1)[0],
                   "client": [pct(client, q) for q in (0.5, 0.9, 0.99)]}
            if use_wrk:
                row["wrk"] = wrk_run(port, paths[0], headers, a.wrk_seconds)
            if row["client"][0] >= GOAL_MS:
                missed.append(name)
            rows.append(row)
        rc = stop(proc)
        if rc != 0:
            raise SystemExit("convene exited %d on SIGTERM" % rc)
        for i, r in enumerate(rows):
            server = server_times(log_path, str(i), r["route"])
            if len(server) != a.requests:
                raise SystemExit("%d access-log lines for the %d requests of %s"
                                 % (len(server), a.requests, r["name"]))
            r["server"] = [pct(server, q) for q in (0.5, 0.9, 0.99)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if a.keep:
            print("kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        "catering day %s: %d meetings (+%d on each neighbouring day), %d meals, %d heads"
        % (day, MEETINGS, NOISE_MEETINGS, nmeals, heads),
        "dispatch day %s: %d trips, %d drivers (+%d trips on %s); seeded in %.1f s (sync=%s)"
        % (trip_day, TRIPS, DRIVERS, TRIPS, noise_trip_day, seed_s, a.durability),
        "%d requests per endpoint over one keep-alive connection (python http.client), "
        "after %d warm-up; ms, median / p90 / p99" % (a.requests, a.warmup),
        "",
        "%-15s %8s  %-20s  %-20s  %s" % ("endpoint", "bytes", "client (python)",
                                         "server (access log)",
                                         "wrk -c1 (req/s)" if use_wrk else ""),
    ]
    fmt3 = lambda v: "%.2f / %.2f / %.2f" % tuple(v)  # noqa: E731
    for r in rows:
        w = ""
        if "wrk" in r:
            w = "%s (%.0f)" % (fmt3(r["wrk"][:3]), r["wrk"][3])
        lines.append("%-15s %8d  %-20s  %-20s  %s" % (r["name"], r["bytes"], fmt3(r["client"]),
                                                      fmt3(r["server"]),
                                                      w))
    lines.append("")
    lines.append("goal: median under %.0f ms each (python client): %s"
                 % (GOAL_MS, "met" if not missed else "MISSED for " + ", ".join(missed)))
    print("\n".join(lines))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "dispatch.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
