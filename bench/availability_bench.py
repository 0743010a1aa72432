#!/usr/bin/env python3
"""Slot-search benchmark (issue 7): 5 leaders, 20 rooms, a two-week window, and
1,000 vs 10,000 vs 100,000 stored events. Goal: median search < 10 ms at 10,000 events,
and at most 2x growth from 1,000 to 100,000.

Not a test: run it by hand on an otherwise idle machine.

    bench/availability_bench.py [--bin build/convene] [--sizes 1000,10000,100000]
                                [--searches 300] [--loaders 3] [--durability normal]

Every event goes in through POST /api/v1/events over keep-alive connections (never
straight into SQLite: the occupancy index and occurrences must stay consistent with the
events, which only the API guarantees). A clash (409) is retried at another random time.
The store grows in place: the 1,000-event measurement is taken, then 9,000 more events
are added, and so on.

Layout (deterministic, --seed):
- 5 leaders, 95 staff, 20 rooms (capacity 6-40, some with video, setup/teardown 0-15 min);
- the first 1,000 events fall in the six weeks around the searched fortnight
  (2026-11-16 .. 2026-12-27), so every size sees the same busy fortnight; the rest are
  spread over 2024-2029 on weekdays' working hours (history and future bookings);
- each event: 1-3 attendees (a leader in about 20%), a room in 70%, 30-120 minutes.

Measured, sequentially on one keep-alive connection after a warm-up, per size:
- search10:  POST /api/v1/availability {5 leaders, 60 min, 2026-11-30..2026-12-13,
             room min_capacity 12 + video, limit 10}  (the issue's question)
- search200: the same with limit 200 (the whole fortnight is scanned)
- freebusy:  GET /api/v1/freebusy for the 5 leaders and 20 rooms over the fortnight
Latency is the client-side round trip (python http.client over loopback), so it
includes ~0.1 ms of client overhead.

Prints a table; writes bench/results/availability.txt (bench/results/ is not committed).
"""

import argparse
import datetime
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TOKEN = "bench-availability-token-0123456789"
TZ = "Asia/Shanghai"
WINDOW = ("2026-11-30", "2026-12-13")
NEAR = (datetime.date(2026, 11, 16), datetime.date(2026, 12, 27))
FAR = (datetime.date(2024, 1, 1), datetime.date(2029, 12, 31))
NEAR_EVENTS = 1000


def start(binary, db, durability):
    env = dict(os.environ, CONVENE_ADMIN_TOKEN=TOKEN)
    p = subprocess.Popen([binary, "serve", "--db", db, "--listen", "127.0.0.1:0",
                          "--durability", durability,
                          "--calendars", os.path.join(REPO, "calendars")],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    line = p.stdout.readline()
    while "listening on" not in line:
        line = p.stdout.readline()
        if not line:
            raise SystemExit("convene did not start")
    return p, int(line.strip().rsplit(":", 1)[1])


class Client:
    """One keep-alive connection; reconnects once when the server closed it while idle."""

    def __init__(self, port):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None):
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        for attempt in (0, 1):
            try:
                self.c.request(method, path, body=data,
                               headers={"Authorization": "Bearer " + TOKEN,
                                        "Content-Type": "application/json"})
                r = self.c.getresponse()
                return r.status, r.read()
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected,
                    http.client.CannotSendRequest):
                self.c.close()
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def create(self, path, body):
        status, raw = self.call("POST", path, body)
        assert status == 201, (path, status, raw)
        return json.loads(raw)["id"]


def weekdays(lo, hi):
    out, day = [], lo
    while day <= hi:
        if day.weekday() < 5:
            out.append(day)
        day += datetime.timedelta(days=1)
    return out


NEAR_DAYS = weekdays(*NEAR)
FAR_DAYS = [x for x in weekdays(*FAR) if not NEAR[0] <= x <= NEAR[1]]


def random_event(rng, leaders, staff, rooms, near, n):
    day = rng.choice(NEAR_DAYS if near else FAR_DAYS)
    minute = rng.randrange(8 * 60 + 30, 17 * 60, 15)
    length = rng.choice((30, 45, 60, 60, 90, 120))
    people = rng.sample(staff, rng.randint(1, 3))
    if rng.random() < 0.2:
        people[0] = rng.choice(leaders)
    start = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(minutes=minute)
    body = {"title": "会议 %d" % n, "start": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "end": (start + datetime.timedelta(minutes=length)).strftime("%Y-%m-%dT%H:%M:%S"),
            "tz": TZ, "attendees": [{"person": p} for p in people]}
    if rng.random() < 0.7:
        body["room"] = rng.choice(rooms)
    return body


def load(port, count, first_n, near, resources, loaders, seed):
    """POSTs `count` events over `loaders` keep-alive connections; returns (stored, refused)."""
    leaders, staff, rooms = resources
    stats = {"stored": 0, "refused": 0}
    lock = threading.Lock()
    errors = []

    def worker(k):
        rng = random.Random(seed * 1000003 + first_n * 7 + k)
        client = Client(port)
        mine = count // loaders + (1 if k < count % loaders else 0)
        stored = refused = 0
        try:
            for i in range(mine):
                for attempt in range(20):
                    body = random_event(rng, leaders, staff, rooms, near, first_n + i)
                    status, raw = client.call("POST", "/api/v1/events", body)
                    if status == 201:
                        stored += 1
                        break
                    if status != 409:
                        raise AssertionError((status, raw[:300]))
                    refused += 1
                else:
                    raise AssertionError("20 clashes in a row: the calendar is too full")
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)
        with lock:
            stats["stored"] += stored
            stats["refused"] += refused

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(loaders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("loading failed: %r" % errors[0])
    return stats["stored"], stats["refused"]


def latencies(client, method, path, body, n, warmup=20):
    out = []
    for i in range(warmup + n):
        t0 = time.perf_counter()
        status, raw = client.call(method, path, body)
        dt = (time.perf_counter() - t0) * 1000
        assert status == 200, (status, raw[:300])
        if i >= warmup:
            out.append(dt)
    out.sort()
    return {"p50": statistics.median(out), "p90": out[int(len(out) * 0.9)],
            "min": out[0], "last": json.loads(raw)}


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("CONVENE_BIN",
                                                     os.path.join(REPO, "build", "convene")))
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--searches", type=int, default=300)
    ap.add_argument("--loaders", type=int, default=3)
    ap.add_argument("--durability", default="normal",
                    help="SQLite synchronous level while loading (reads do not depend on it)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "availability.txt"))
    a = ap.parse_args()
    sizes = sorted(int(x) for x in a.sizes.split(","))
    if sizes[0] < NEAR_EVENTS:
        raise SystemExit("the smallest size must be at least %d" % NEAR_EVENTS)

    tmp = tempfile.mkdtemp(prefix="convene-availbench-")
    db = os.path.join(tmp, "convene.db")
    proc, port = start(a.bin, db, a.durability)
    rows = []
    try:
        client = Client(port)
        rng = random.Random(a.seed)
        leaders = [client.create("/api/v1/people", {"name": "领导%d" % i, "role": "leader",
                                                     "rank": i + 1}) for i in range(5)]
        staff = [client.create("/api/v1/people", {"name": "干部%d" % i, "role": "staff"})
                 for i in range(95)]
        rooms = []
        for i in range(20):
            feats = ["video"] if rng.random() < 0.5 else []
            if rng.random() < 0.5:
                feats.append("projector")
            rooms.append(client.create("/api/v1/rooms", {
                "name": "会议室%d" % i, "capacity": rng.choice((6, 10, 12, 16, 20, 30, 40)),
                "features": feats, "setup_minutes": rng.choice((0, 5, 10, 15)),
                "teardown_minutes": rng.choice((0, 5, 10))}))
        resources = (leaders, staff, rooms)
        search = {"people": leaders, "duration_minutes": 60, "from": WINDOW[0], "to": WINDOW[1],
                  "tz": TZ, "room": {"min_capacity": 12, "features": ["video"]}, "limit": 10}
        freebusy = "/api/v1/freebusy?people=%s&rooms=%s&from=%s&to=%s" % (
            ",".join(leaders), ",".join(rooms), WINDOW[0], WINDOW[1])

        stored = 0
        for size in sizes:
            t0 = time.perf_counter()
            refused = 0
            if stored < NEAR_EVENTS:
                s, r = load(port, NEAR_EVENTS - stored, stored, True, resources, a.loaders,
                            a.seed)
                stored += s
                refused += r
            if stored < size:
                s, r = load(port, size - stored, stored, False, resources, a.loaders, a.seed)
                stored += s
                refused += r
            load_s = time.perf_counter() - t0
            client = Client(port)  # a fresh connection: the old one idled through the load
            s10 = latencies(client, "POST", "/api/v1/availability", search, a.searches)
            s200 = latencies(client, "POST", "/api/v1/availability", dict(search, limit=200),
                             a.searches)
            fb = latencies(client, "GET", freebusy, None, a.searches)
            rows.append({"events": stored, "load_s": load_s, "refused": refused,
                         "s10": s10, "s200": s200, "fb": fb,
                         "slots200": len(s200["last"]["slots"]),
                         "db_mib": os.path.getsize(db) / 1048576,
                         "rss_mib": rss_kib(proc.pid) / 1024})
            r = rows[-1]
            print("%7d events loaded in %6.1f s (%d clashes retried): search10 p50 %.2f ms, "
                  "search200 p50 %.2f ms (%d slots), freebusy p50 %.2f ms" %
                  (stored, load_s, refused, s10["p50"], s200["p50"], r["slots200"], fb["p50"]),
                  flush=True)
    finally:
        proc.terminate()
        proc.wait()

    head = ("events", "search10 p50", "p90", "search200 p50", "p90", "freebusy p50", "p90",
            "load s", "ev/s", "db MiB", "rss MiB")
    lines = ["%8s %13s %7s %14s %7s %13s %7s %8s %7s %7s %8s" % head]
    for r in rows:
        lines.append("%8d %13.2f %7.2f %14.2f %7.2f %13.2f %7.2f %8.1f %7.0f %7.1f %8.1f" % (
            r["events"], r["s10"]["p50"], r["s10"]["p90"], r["s200"]["p50"], r["s200"]["p90"],
            r["fb"]["p50"], r["fb"]["p90"], r["load_s"],
            (r["events"] - (rows[rows.index(r) - 1]["events"] if rows.index(r) else 0))
            / max(r["load_s"], 1e-9), r["db_mib"], r["rss_mib"]))
    first, last = rows[0], rows[-1]
    at10k = next((r for r in rows if r["events"] == 10000), None)
    growth10 = last["s10"]["p50"] / first["s10"]["p50"]
    growth200 = last["s200"]["p50"] / first["s200"]["p50"]
    lines.append("growth %d -> %d events: search10 %.2fx, search200 %.2fx, freebusy %.2fx "
                 "(goal <= 2x)" % (first["events"], last["events"], growth10, growth200,
                                   last["fb"]["p50"] / first["fb"]["p50"]))
    if at10k is not None:
        lines.append("at 10,000 events: search10 median %.2f ms, search200 median %.2f ms "
                     "(goal < 10 ms): %s" % (at10k["s10"]["p50"], at10k["s200"]["p50"],
                                             "PASS" if at10k["s10"]["p50"] < 10 else "FAIL"))
    lines.append("goal growth: %s" % ("PASS" if growth10 <= 2 and growth200 <= 2 else "FAIL"))
    text = "\n".join(lines)
    print()
    print(text)
    try:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("date=%s commit=%s nproc=%d searches=%d durability=%s\n%s\n" % (
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            commit, os.cpu_count(), a.searches, a.durability, text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
