#!/usr/bin/env python3
"""Booking-engine benchmarks (issue 3), each against a reference measured in the same run.

1. Sequential bookings of one-occurrence meetings (3 attendees, a room, a meal) over one
   HTTP keep-alive connection (wrk with bench/booking.lua, and python for comparison), vs raw
   SQLite single-row commits (python sqlite3, WAL) at the same synchronous level. Goal: >= 0.5x.
2. Conflict-check latency (a POST that clashes -> 409) with 1,000 vs 100,000 stored bookings
   of the same room. Goal: the median grows at most 1.5x.
3. A weekly 52-occurrence series holding 5 resources: median booking latency. Goal: < 5 ms.

Usage: bench/booking_bench.py [--bin build/convene] [--n 2000] [--big 100000]
Prints a table and writes bench/results/booking.txt.
"""
import argparse, http.client, json, os, signal, sqlite3, statistics, subprocess, sys, tempfile, time

TOKEN = "bench-admin-token-0123456789"


def start(binary, db, durability):
    env = dict(os.environ, CONVENE_ADMIN_TOKEN=TOKEN)
    p = subprocess.Popen([binary, "serve", "--db", db, "--listen", "127.0.0.1:0",
                          "--durability", durability], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env, text=True)
    line = p.stdout.readline()
    while "listening on" not in line:
        line = p.stdout.readline()
        if not line:
            raise SystemExit("convene did not start")
    port = int(line.strip().rsplit(":", 1)[1])
    return p, port


class Client:
    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        self.c.request(method, path, body=data, headers={"Authorization": "Bearer " + TOKEN,
                                                         "Content-Type": "application/json"})
        r = self.c.getresponse()
        return r.status, r.read()


def ident(client, path, body):
    status, raw = client.call("POST", path, body)
    assert status == 201, (status, raw)
    return json.loads(raw)["id"]


def iso(minutes):
    """Local time `minutes` after 2027-01-04T00:00 as an ISO string."""
    t = time.gmtime(1798329600 + minutes * 60)  # 2027-01-04T00:00:00 (used as wall time)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t)


def raw_sqlite_rate(path, durability, n):
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=" + ("FULL" if durability == "full" else "NORMAL"))
    con.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INTEGER)")
    t0 = time.perf_counter()
    for i in range(n):
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO t(a, b) VALUES(?, ?)", ("row %d" % i, i))
        con.execute("COMMIT")
    rate = n / (time.perf_counter() - t0)
    con.close()
    return rate


def bookings_rate_wrk(port, people, room, seconds):
    """Bookings/s measured by wrk (one connection, sequential): the client costs ~nothing."""
    env = dict(os.environ, CONVENE_TOKEN=TOKEN, CONVENE_PEOPLE=",".join(people), CONVENE_ROOM=room)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "booking.lua")
    out = subprocess.run(["wrk", "-t1", "-c1", "-d%ds" % seconds, "-s", script,
                          "http://127.0.0.1:%d" % port], env=env, capture_output=True,
                         text=True, check=True).stdout
    rate = float(out.split("Requests/sec:")[1].split()[0])
    failures = int(out.split("non201")[1].split()[0])
    if failures:
        raise SystemExit("wrk: %d bookings were not 201:\n%s" % (failures, out))
    return rate


def bookings_rate(client, people, room, n):
    t0 = time.perf_counter()
    for i in range(n):
        body = {"title": "会议 %d" % i, "start": iso(i * 60), "end": iso(i * 60 + 45),
                "attendees": [{"person": p} for p in people], "room": room,
                "meals": [{"meal": "lunch"}]}
        status, raw = client.call("POST", "/api/v1/events", body)
        assert status == 201, (status, raw)
    return n / (time.perf_counter() - t0)


def fill(client, room, start_minute, count):
    for i in range(count):
        m = start_minute + i * 60
        status, raw = client.call("POST", "/api/v1/events", {"title": "占用", "start": iso(m),
                                                              "end": iso(m + 30), "room": room})
        assert status == 201, (status, raw)


def clash_latency(client, room, minute, tries=300):
    lat = []
    for _ in range(tries):
        t0 = time.perf_counter()
        status, _ = client.call("POST", "/api/v1/events", {"title": "冲突", "start": iso(minute),
                                                           "end": iso(minute + 30), "room": room})
        lat.append((time.perf_counter() - t0) * 1000)
        assert status == 409
    return statistics.median(lat)


def series_latency(client, resources, tries=50):
    lat = []
    people, room, vehicle, driver = resources
    for i in range(tries):
        base = 600000 + i * 1440 * 400  # far apart so series never clash
        body = {"title": "周例会", "start": iso(base), "end": iso(base + 60),
                "rrule": "FREQ=WEEKLY;COUNT=52", "attendees": [{"person": p} for p in people],
                "room": room, "trips": [{"vehicle": vehicle, "driver": driver,
                                         "depart": iso(base - 30), "return": iso(base + 90),
                                         "approved_by": people[0]}]}
        t0 = time.perf_counter()
        status, raw = client.call("POST", "/api/v1/events", body)
        lat.append((time.perf_counter() - t0) * 1000)
        assert status == 201, (status, raw)
    return statistics.median(lat)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/convene")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--big", type=int, default=100000)
    ap.add_argument("--durability", default="full")
    ap.add_argument("--seconds", type=int, default=10)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="convene-bench-")
    out = []

    raw = raw_sqlite_rate(os.path.join(tmp, "raw.db"), a.durability, a.n)
    proc, port = start(a.bin, os.path.join(tmp, "c.db"), a.durability)
    try:
        c = Client(port)
        people = [ident(c, "/api/v1/people", {"name": "P%d" % i, "role": "leader", "rank": i + 1})
                  for i in range(3)]
        room = ident(c, "/api/v1/rooms", {"name": "R", "capacity": 50})
        py_rate = bookings_rate(c, people, room, a.n)
        out.append(("bookings/s, python http.client (3 attendees, room, meal), sync=%s"
                    % a.durability, "%.0f" % py_rate))
        rate = bookings_rate_wrk(port, people, room, a.seconds)
        out.append(("bookings/s, wrk 1 connection (same bookings), sync=%s" % a.durability,
                    "%.0f" % rate))
        out.append(("raw SQLite single-row commits/s, same sync", "%.0f" % raw))
        out.append(("ratio wrk/raw (goal >= 0.5)", "%.2f" % (rate / raw)))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()

    # Conflict checks: fill one room with many bookings (durability normal to fill fast).
    proc, port = start(a.bin, os.path.join(tmp, "big.db"), "normal")
    try:
        c = Client(port)
        room = ident(c, "/api/v1/rooms", {"name": "Big", "capacity": 50})
        fill(c, room, 0, 1000)
        small = clash_latency(c, room, 500 * 60)
        t0 = time.perf_counter()
        fill(c, room, 1000 * 60, a.big - 1000)
        fill_s = time.perf_counter() - t0
        large = clash_latency(c, room, 500 * 60)
        out.append(("conflict check median, 1,000 bookings (ms)", "%.3f" % small))
        out.append(("conflict check median, %d bookings (ms)" % a.big, "%.3f" % large))
        out.append(("growth (goal <= 1.5)", "%.2f" % (large / small)))
        out.append(("fill rate, sync=normal (bookings/s)", "%.0f" % ((a.big - 1000) / fill_s)))
        people = [ident(c, "/api/v1/people", {"name": "S%d" % i, "role": "leader"}) for i in range(2)]
        driver = ident(c, "/api/v1/people", {"name": "D", "role": "driver"})
        vehicle = ident(c, "/api/v1/vehicles", {"name": "V", "seats": 5})
        room2 = ident(c, "/api/v1/rooms", {"name": "S", "capacity": 10})
        med = series_latency(c, (people, room2, vehicle, driver))
        out.append(("52-occurrence weekly series, 5 resources: median (ms, goal < 5)", "%.2f" % med))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()

    width = max(len(k) for k, _ in out)
    lines = ["%-*s  %s" % (width, k, v) for k, v in out]
    print("\n".join(lines))
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "results", "booking.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
