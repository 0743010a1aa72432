#!/usr/bin/env python3
"""Load test (issue 8): 200 concurrent keep-alive clients for 60 s.

1. Starts build/convene on a fresh database (default durability: full) and seeds a realistic
   organisation through the API: 6 leaders, 12 secretaries, 150 staff in 8 departments,
   12 drivers, 16 rooms with setup/teardown buffers, 10 vehicles, then --meetings meetings
   (default 3,000) over 13 weeks of working days: 2-8 attendees, a room for most, weekly
   series (4-10 occurrences) for 10%, a trip with a vehicle and driver for 5%, reminders.
2. Fetches every calendar feed once (people, rooms, vehicles) for its URL and ETag.
3. Runs wrk (C, epoll; bench/load.lua) with --connections keep-alive clients, one wrk thread
   per connection so that each client has its own state, after a --warmup run (5 s). Each
   client subscribes to three calendars and sends, one at a time, a mix of
     60% feed GETs of those, two thirds conditional (If-None-Match with the ETag that client
         last got for that feed: 304 while unchanged), all with Accept-Encoding: gzip as
         calendar clients send it;
     30% occurrence queries: a person's or a room's week, or everybody's day;
     10% bookings: POST /api/v1/events at a random slot (201, or 409 when it clashes).
   (--mix changes the shares.) wrk is the client because a Python client with 200
   connections would measure its own GIL: wrk needs 10-30% of a CPU here, so the service
   is what saturates. With no think time (the default) every client sends its next
   request as soon as the answer arrives: a closed loop at full speed, the hardest case for
   latency (by Little's law the mean latency is then 200 / throughput). --think-ms N makes
   each client pause 0..2N ms between requests instead.
4. Reads the service's VmHWM (peak RSS) from /proc/PID/status at the end, its RSS before
   and after the run, its CPU time over the run, and its access log for the time it spent on
   each kind of request.

Errors are answers other than 200/201/304/409 plus wrk's socket errors (connect, read,
write, timeout). Goals: no errors, p99 < 50 ms, peak RSS < 100 MB.

Results and their reading: docs/PERFORMANCE.md, section "Load (issue 8)".

Usage: bench/load.py [--bin build/convene] [--seconds 60] [--connections 200]
                     [--meetings 3000] [--mix 0.6,0.3] [--think-ms 0] [--seed N] [--keep]
Prints a report and writes bench/results/load.txt. Exit 1 when a goal is missed.
"""
import argparse
import atexit
import datetime
import http.client
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOKEN = "cvn_load_bench_admin_token_0123456789"
TZ = "Asia/Shanghai"
FIRST_DAY = datetime.date(2027, 3, 1)  # a Monday
WEEKS = 13
DEPARTMENTS = ["办公室", "综合科", "财务科", "人事科", "法规科", "规划科", "信息中心", "后勤服务中心"]


def working_days():
    days = []
    for d in range(WEEKS * 7):
        day = FIRST_DAY + datetime.timedelta(days=d)
        if day.weekday() < 5:
            days.append(day)
    return days


class Api:
    """One keep-alive connection to the service."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, headers=None):
        hdrs = {"Authorization": "Bearer " + TOKEN}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        self.conn.request(method, path, body=data, headers=hdrs)
        r = self.conn.getresponse()
        raw = r.read()
        return r.status, r.headers, raw

    def create(self, collection, body):
        status, _, raw = self.call("POST", "/api/v1/" + collection, body)
        if status != 201:
            raise SystemExit("seeding: POST %s %r -> %d %s" % (collection, body, status, raw[:300]))
        return json.loads(raw)


def start_service(binary, tmp, durability):
    env = dict(os.environ, CONVENE_ADMIN_TOKEN=TOKEN)
    log = open(os.path.join(tmp, "convene.log"), "wb")
    args = [binary, "serve", "--db", os.path.join(tmp, "convene.db"), "--listen", "127.0.0.1:0",
            "--calendars", os.path.join(ROOT, "calendars")]
    if durability:
        args += ["--durability", durability]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                            env=env, cwd=tmp, text=True)
    log.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("listening on http://"):
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain
            return proc, int(line.strip().rsplit(":", 1)[1]), args
    proc.kill()
    raise SystemExit("convene did not start; see %s/convene.log" % tmp)


def seed_organisation(api, rng):
    people = {"leader": [], "secretary": [], "staff": [], "driver": []}
    for i in range(6):
        people["leader"].append(api.create("people", {
            "name": "领导%d" % (i + 1), "role": "leader", "rank": i + 1,
            "department": DEPARTMENTS[0], "phone": "1380000%04d" % i})["id"])
    for i in range(12):
        people["secretary"].append(api.create("people", {
            "name": "秘书%d" % (i + 1), "role": "secretary", "rank": 50,
            "department": DEPARTMENTS[i % len(DEPARTMENTS)]})["id"])
    for i in range(150):
        body = {"name": "职员%d" % (i + 1), "role": "staff",
                "department": DEPARTMENTS[i % len(DEPARTMENTS)]}
        if i % 10 == 0:
            body["diet"] = rng.choice(["halal", "vegetarian"])
        people["staff"].append(api.create("people", body)["id"])
    for i in range(12):
        people["driver"].append(api.create("people", {
            "name": "司机%d" % (i + 1), "role": "driver", "phone": "1390000%04d" % i})["id"])
    rooms = []
    for i in range(16):
        cap = [8, 12, 12, 20, 20, 30, 60][i % 7]
        rooms.append(api.create("rooms", {
            "name": "会议室%d" % (i + 1), "capacity": cap, "location": "%d楼" % (i // 4 + 1),
            "features": ["video", "projector"] if cap >= 20 else ["projector"],
            "setup_minutes": [0, 10, 15][i % 3], "teardown_minutes": [0, 10][i % 2]})["id"])
    vehicles = [api.create("vehicles", {"name": "公务车%d" % (i + 1), "plate": "京A%05d" % i,
                                        "seats": 4 if i < 7 else 7})["id"] for i in range(10)]
    return people, rooms, vehicles


def meeting(rng, people, rooms, vehicles, days):
    day = rng.choice(days)
    start = datetime.datetime.combine(day, datetime.time(8, 30)) + \
        datetime.timedelta(minutes=30 * rng.randrange(0, 17))
    end = start + datetime.timedelta(minutes=rng.choice([30, 60, 60, 60, 90, 120]))
    n = rng.randint(2, 8)
    who = rng.sample(people["staff"] + people["secretary"], n - 1)
    if rng.random() < 0.4:
        who.append(rng.choice(people["leader"]))
    else:
        who.append(rng.choice(people["staff"]))
    who = list(dict.fromkeys(who))
    body = {"title": rng.choice(["周例会", "专题会", "项目评审", "党组会", "协调会", "培训"]),
            "description": "议题：……", "start": start.isoformat(), "end": end.isoformat(),
            "tz": TZ, "attendees": [{"person": p} for p in who], "reminders": [15]}
    if rng.random() < 0.85:
        body["room"] = rng.choice(rooms)
        body["guests"] = 0
    if rng.random() < 0.10:
        body["rrule"] = "FREQ=WEEKLY;COUNT=%d" % rng.randint(4, 10)
    if rng.random() < 0.05:
        body["trips"] = [{"vehicle": rng.choice(vehicles), "driver": rng.choice(people["driver"]),
                          "depart": (start - datetime.timedelta(minutes=40)).isoformat(),
                          "return": (end + datetime.timedelta(minutes=40)).isoformat(),
                          "from": "机关大院", "to": "市政府", "approved_by": people["leader"][0]}]
    return body


def seed_meetings(port, count, people, rooms, vehicles, days, seed):
    """Books `count` meetings from 8 connections (clashing attempts are retried elsewhere)."""
    made = [0]
    lock = threading.Lock()
    errors = []

    def worker(i):
        rng = random.Random(seed * 100 + i)
        api = Api(port)
        while True:
            with lock:
                if made[0] >= count:
                    return
            status, _, raw = api.call("POST", "/api/v1/events",
                                      meeting(rng, people, rooms, vehicles, days))
            if status == 201:
                with lock:
                    made[0] += 1
            elif status not in (409, 422):
                errors.append((status, raw[:300]))
                return

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("seeding meetings: %r" % errors[:3])


def proc_status(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])  # kB
    return 0


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy():
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = v[3] + v[4]
    return (sum(v[:8]) - idle) / hz, sum(v[:8]) / hz


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return "nproc=%d, %s, %d MiB RAM, %s %s" % (os.cpu_count(), model, mem, platform.system(),
                                                 platform.release())


def run_wrk(port, config, a, seconds):
    env = dict(os.environ, CONVENE_LOAD_CONFIG=config, CONVENE_LOAD_THINK_MS=str(a.think_ms))
    # One wrk thread per connection: each is one client with its own state (see load.lua).
    cmd = ["wrk", "-t%d" % a.connections, "-c%d" % a.connections, "-d%ds" % seconds,
           "--timeout", "10s", "-s", os.path.join(HERE, "load.lua"), "http://127.0.0.1:%d" % port]
    t0 = os.times()
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    out = done.stdout
    if done.returncode != 0:
        out += "\nwrk exited with %d\n" % done.returncode
    t1 = os.times()
    wrk_cpu = (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
    return cmd, out, wrk_cpu


def parse_wrk(out):
    res = {"counts": {}, "lat": {}, "socket_errors": {}}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("count "):
            res["counts"][(parts[1], int(parts[2]))] = int(parts[3])
        elif line.startswith("kind_latency_us "):
            res.setdefault("kind_lat", {}).setdefault(parts[1], {})[parts[2]] = \
                float(parts[3]) / 1000.0
        elif line.startswith("latency_us "):
            res["lat"][parts[1]] = float(parts[2]) / 1000.0
        elif "Requests/sec:" in line:
            res["rps"] = float(parts[1])
        elif line.strip().startswith("Socket errors:"):
            for item in line.split(":", 1)[1].split(","):
                k, v = item.split()
                res["socket_errors"][k] = int(v)
        elif "requests in" in line:
            res["requests"] = int(parts[0])
    return res


def service_times(log_path, offset):
    """Per kind of request, the service's own time per request (its access log: route,
    status, microseconds), from byte `offset` of the log on."""
    kinds = {}
    with open(log_path, "rb") as f:
        f.seek(offset)
        for raw in f:
            parts = raw.decode("utf-8", "replace").split()
            if len(parts) < 6 or parts[2] != "access" or not parts[-1].endswith("us"):
                continue
            method, path, status = parts[3], parts[4], parts[5]
            if path.startswith("/feeds/"):
                kind = "feed " + status
            elif path.startswith("/api/v1/occurrences"):
                kind = "occurrences"
            elif method == "POST" and path.startswith("/api/v1/events"):
                kind = "booking " + status
            else:
                kind = "other"
            kinds.setdefault(kind, []).append(int(parts[-1][:-2]))
    out = {}
    for kind, v in kinds.items():
        v.sort()
        out[kind] = (len(v), v[len(v) // 2] / 1000.0, v[min(len(v) - 1, int(len(v) * 0.99))]
                     / 1000.0, v[-1] / 1000.0, sum(v) / 1e6)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("CONVENE_BIN",
                                                    os.path.join(ROOT, "build", "convene")))
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--meetings", type=int, default=3000)
    ap.add_argument("--think-ms", type=int, default=0,
                    help="mean pause between a connection's requests (uniform 0..2x)")
    ap.add_argument("--mix", default="0.6,0.3", help="feed share, occurrence share (rest: bookings)")
    ap.add_argument("--durability", default=None, help="pass --durability to the service")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (database)")
    a = ap.parse_args()

    rng = random.Random(a.seed)
    tmp = tempfile.mkdtemp(prefix="convene-load-")
    if a.keep:
        atexit.register(print, "kept %s" % tmp)
    else:
        atexit.register(shutil.rmtree, tmp, True)  # whatever way the script ends
    proc, port, serve_args = start_service(a.bin, tmp, a.durability)
    report = []
    try:
        api = Api(port)
        t0 = time.monotonic()
        people, rooms, vehicles = seed_organisation(api, rng)
        days = working_days()
        seed_meetings(port, a.meetings, people, rooms, vehicles, days, a.seed)
        seeded_s = time.monotonic() - t0
        everyone = [p for group in people.values() for p in group]
        api = Api(port)  # the first one sat idle while seeding: the service may have closed it
        occurrences = json.loads(api.call(
            "GET", "/api/v1/occurrences?from=%s&to=%s" % (days[0], days[-1]))[2])
        feeds = []
        feed_bytes = [0, 0]  # plain, gzip: what the feed cache holds when every feed is cached
        for kind, ids in (("people", everyone), ("rooms", rooms), ("vehicles", vehicles)):
            for rid in ids:
                url = json.loads(api.call("GET", "/api/v1/%s/%s" % (kind, rid))[2])["feed_url"]
                path = url[url.index("/feeds/"):]
                status, headers, body = api.call("GET", path, headers={"Accept-Encoding": "gzip"})
                assert status == 200, (path, status)
                feeds.append((path, headers["ETag"]))
                feed_bytes[1] += len(body)
                feed_bytes[0] += len(api.call("GET", path)[2])
        config = os.path.join(tmp, "load.conf")
        feed_share, occ_share = (float(x) for x in a.mix.split(","))
        with open(config, "w") as f:
            f.write("token %s\nmix %s %s\n" % (TOKEN, feed_share, occ_share))
            for path, etag in feeds:
                f.write("feed %s %s\n" % (path, etag))
            for p in everyone:
                f.write("person %s\n" % p)
            for r in rooms:
                f.write("room %s\n" % r)
            for d in days:
                f.write("day %s\n" % d)
        print("service pid %d; seeded %d people, %d rooms, %d vehicles, %d meetings (%d occurrences) "
              "in %.1f s"
              % (proc.pid, len(everyone), len(rooms), len(vehicles), a.meetings, len(occurrences),
                 seeded_s), flush=True)

        if a.warmup > 0:
            run_wrk(port, config, a, a.warmup)
        time.sleep(0.5)  # the service flushes its log every 250 ms: start after the warm-up's
        log_path = os.path.join(tmp, "convene.log")
        log_offset = os.path.getsize(log_path)
        cpu0 = cpu_seconds(proc.pid)
        rss_start = proc_status(proc.pid, "VmRSS")
        db_size = os.path.getsize(os.path.join(tmp, "convene.db"))
        busy0, total0 = machine_busy()
        cmd, out, wrk_cpu = run_wrk(port, config, a, a.seconds)
        cpu = cpu_seconds(proc.pid) - cpu0
        hwm = proc_status(proc.pid, "VmHWM")
        rss_end = proc_status(proc.pid, "VmRSS")
        rss_parts = {k: proc_status(proc.pid, k) for k in ("RssAnon", "RssFile", "RssShmem")}
        db_size_end = os.path.getsize(os.path.join(tmp, "convene.db"))
        busy1, total1 = machine_busy()
        other_cpu = (busy1 - busy0) - cpu - wrk_cpu
        events_after = json.loads(Api(port).call("GET", "/healthz")[2])
        api.conn.close()  # an idle keep-alive connection would hold the shutdown 5 s
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
    served = service_times(log_path, log_offset)

    res = parse_wrk(out)
    if "rps" not in res or not res["lat"]:
        print(out[-3000:])
        raise SystemExit("could not parse wrk's output")
    ok_status = {200, 201, 304, 409}
    status_errors = sum(n for (kind, status), n in res["counts"].items() if status not in ok_status)
    socket_errors = sum(res["socket_errors"].values())
    by_kind = {}
    for (kind, status), n in sorted(res["counts"].items()):
        by_kind.setdefault(kind, []).append("%d×%d" % (n, status))
    total = sum(res["counts"].values())
    p99 = res["lat"]["p99"]
    hwm_mb = hwm / 1024.0
    lines = [
        "machine: " + machine(),
        "service: %s (%s)" % (" ".join(os.path.relpath(x, ROOT) if x.startswith(ROOT) else x
                                       for x in serve_args[:1]) + " serve"
                              + (" --durability %s" % a.durability if a.durability else "")
                              + " (durability full unless given)", "exit %d on SIGTERM" % rc),
        "seed: %d people, %d rooms, %d vehicles, %d meetings = %d occurrences over %d weeks; "
        "%d feeds: %.1f MB plain + %.1f MB gzip; database %.1f MB"
        % (len(everyone), len(rooms), len(vehicles), a.meetings, len(occurrences), WEEKS,
           len(feeds), feed_bytes[0] / 1e6, feed_bytes[1] / 1e6, db_size / 1e6),
        "client: " + " ".join(cmd[:-1]) + " URL (think time %d ms; mix feeds %.0f%%, occurrence "
        "queries %.0f%%, bookings %.0f%%)" % (a.think_ms, 100 * feed_share, 100 * occ_share,
                                            100 * (1 - feed_share - occ_share)),
        "requests: %d in %d s = %.0f requests/s" % (total, a.seconds, res["rps"]),
        "answers: " + "; ".join("%s %s" % (k, ", ".join(v)) for k, v in by_kind.items()),
        "errors: %d (answers other than 200/201/304/409: %d; socket errors: %s)"
        % (status_errors + socket_errors, status_errors,
           ", ".join("%s %d" % kv for kv in sorted(res["socket_errors"].items())) or "none"),
        "latency: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms, mean %.2f ms"
        % (res["lat"]["p50"], res["lat"]["p90"], p99, res["lat"]["p99.9"], res["lat"]["max"],
           res["lat"]["mean"]),
        "latency by kind (client side, queueing included): " + "; ".join(
            "%s p50 %.1f / p99 %.1f / max %.1f ms" % (k, v["p50"], v["p99"], v["max"])
            for k, v in sorted(res.get("kind_lat", {}).items())),
        "service time by kind (the service's access log: from request to answer, excluding "
        "the wait in the socket): " + "; ".join(
            "%s %d× p50 %.2f / p99 %.2f / max %.1f ms, %.1f s in all" % ((k,) + v)
            for k, v in sorted(served.items())),
        "service memory: peak RSS (VmHWM) %.1f MB; RSS %.1f MB when the run started, %.1f MB "
        "at its end (anonymous %.1f, file %.1f: libraries and the mmap'd database); database "
        "%.1f MB at the end"
        % (hwm_mb, rss_start / 1024.0, rss_end / 1024.0, rss_parts["RssAnon"] / 1024.0,
           rss_parts["RssFile"] / 1024.0, db_size_end / 1e6),
        "CPU over the run: service %.1f s (%.0f%% of one CPU), wrk %.1f s, everything else "
        "%.1f s (%.0f%% of one CPU: other jobs on the machine)"
        % (cpu, 100 * cpu / a.seconds, wrk_cpu, max(other_cpu, 0), 100 * max(other_cpu, 0)
           / a.seconds),
        "health after: %s" % json.dumps(events_after, ensure_ascii=False),
    ]
    goals = [("no errors", status_errors + socket_errors == 0),
             ("p99 < 50 ms", p99 < 50.0), ("peak RSS < 100 MB", hwm_mb < 100.0)]
    lines.append("goals: " + ", ".join("%s %s" % (name, "PASS" if ok else "FAIL")
                                       for name, ok in goals))
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "load.txt"), "w") as f:
        f.write(text + "\n")
    sys.exit(0 if all(ok for _, ok in goals) else 1)


if __name__ == "__main__":
    main()
