#!/usr/bin/env python3
"""Bookings under concurrent clients against raw SQLite commits, in one run (issue 19).

For each run: raw SQLite single-row commits (python sqlite3, WAL, the same synchronous
level, one row per BEGIN IMMEDIATE ... COMMIT), then convene serve --durability DUR on a
fresh database booking one-occurrence meetings (3 attendees, a room, lunch: bench/booking.lua)
under wrk with 1, 16 and 32 connections, the raw reference again after each. Each ratio is
bookings/s over the mean of the raw figures just before and just after it. The machine's busy and steal time while
convene is measured are printed too: other jobs on the 2 shared vCPUs make a run noisy.

Usage: bench/group_commit_bench.py [--bin build/convene] [--runs 3] [--seconds 10]
       [--clients 1,16,32] [--n 3000] [--durability full] [--baseline OTHER_BINARY]
--baseline also measures another binary (an older commit) in each run, between the same two
raw references, for a before/after comparison on the same machine state.
Prints a table per run and appends one line per run to bench/results/group_commit.txt.
Exits 1 when a run's ratio at the most connections is under --goal (0.5).
"""
import argparse, json, os, resource, shutil, signal, sqlite3, subprocess, sys, tempfile, time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "bench-admin-token-0123456789"


def raw_sqlite_rate(path, durability, n):
    """Single-row commits/s: what one fsync'd transaction costs on this disk."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
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
    return p, int(line.strip().rsplit(":", 1)[1])


def call(port, method, path, body=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + TOKEN,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return r.read().decode()


def metrics(port):
    """convene_commit_group* series from /metrics (absent before group commit existed)."""
    out = {}
    for line in call(port, "GET", "/metrics").splitlines():
        if line.startswith("convene_commit_group") and " " in line:
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def cpu_times():
    """(busy, steal, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, v[7] if len(v) > 7 else 0, sum(v)


def process_cpu(pid):
    """Seconds of user and system CPU a process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / hz, int(fields[12]) / hz


def wrk_bookings(pid, port, people, room, clients, seconds, base):
    env = dict(os.environ, CONVENE_TOKEN=TOKEN, CONVENE_PEOPLE=",".join(people),
               CONVENE_ROOM=room, CONVENE_BASE=str(base))
    threads = 1 if clients == 1 else 2
    s0, w0 = process_cpu(pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    c0 = cpu_times()
    out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % clients, "-d%ds" % seconds,
                          "-s", os.path.join(HERE, "booking.lua"), "http://127.0.0.1:%d" % port],
                         env=env, capture_output=True, text=True, check=True).stdout
    c1 = cpu_times()
    s1, w1 = process_cpu(pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    failures = int(out.split("non201")[1].split()[0])
    if failures:
        raise SystemExit("wrk: %d bookings were not 201:\n%s" % (failures, out))
    span = max(1, c1[2] - c0[2])
    wall = span / os.sysconf("SC_CLK_TCK") / 2  # jiffies of 2 CPUs
    rate = float(out.split("Requests/sec:")[1].split()[0])
    server = (s1[0] - s0[0]) + (s1[1] - s0[1])
    client = (w1.ru_utime - w0.ru_utime) + (w1.ru_stime - w0.ru_stime)
    busy = 200.0 * (c1[0] - c0[0]) / span
    return {"rate": rate,
            "user_us": (s1[0] - s0[0]) / (rate * wall) * 1e6,
            "sys_us": (s1[1] - s0[1]) / (rate * wall) * 1e6,
            "server": 100.0 * server / wall, "wrk": 100.0 * client / wall,
            "other": busy - 100.0 * (server + client) / wall,
            "p50": float(out.split("latency_p50_ms")[1].split()[0]),
            "p99": float(out.split("latency_p99_ms")[1].split()[0]),
            "busy": busy, "steal": 200.0 * (c1[1] - c0[1]) / span}


def measure(a, binary, tmp):
    """Bookings/s of one binary at each connection count, on a fresh database. The raw
    reference is measured again after each count: each ratio uses the reference just
    before and just after it (the disk's fsync time drifts with the other jobs' I/O)."""
    db = os.path.join(tmp, "c.db")
    for suffix in ("", "-wal", "-shm", ".key"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    proc, port = start(binary, db, a.durability)
    rows = []
    try:
        people = [json.loads(call(port, "POST", "/api/v1/people",
                                  {"name": "P%d" % i, "role": "leader", "rank": i + 1}))["id"]
                  for i in range(3)]
        room = json.loads(call(port, "POST", "/api/v1/rooms", {"name": "R", "capacity": 50}))["id"]
        for k, clients in enumerate(int(c) for c in a.clients.split(",")):
            before = metrics(port)
            # Each measurement books its own decade: none clashes with an earlier one.
            r = wrk_bookings(proc.pid, port, people, room, clients, a.seconds,
                             1893456000 + k * 400000 * 3600)
            after = metrics(port)
            groups = after.get("convene_commit_groups_total", 0) - before.get(
                "convene_commit_groups_total", 0)
            members = after.get("convene_commit_group_members_total", 0) - before.get(
                "convene_commit_group_members_total", 0)
            r["clients"] = clients
            r["group"] = members / groups if groups else 0.0
            r["raw_before"] = a.raw[-1]
            a.raw.append(raw_sqlite_rate(os.path.join(tmp, "raw.db"), a.durability, a.n))
            r["raw"] = (r["raw_before"] + a.raw[-1]) / 2
            rows.append(r)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    return rows


def print_rows(label, rows, line):
    print("  %s\n  clients  bookings/s  raw/s (around)  ratio  p50 ms  p99 ms  members/group"
          "  server us/booking (user+sys)  CPU%% server/wrk/other  steal%%" % label)
    for r in rows:
        print("  %7d  %10.0f  %14.0f  %5.2f  %6.2f  %6.2f  %13.1f  %13.0f+%-13.0f  %5.0f/%.0f/%.0f"
              "  %6.0f"
              % (r["clients"], r["rate"], r["raw"], r["rate"] / r["raw"], r["p50"], r["p99"],
                 r["group"], r["user_us"], r["sys_us"], r["server"], r["wrk"], r["other"],
                 r["steal"]))
        line.append("%sc%d=%.0f/raw%.0f/%.2f/group%.1f/us%.0f+%.0f/cpu%.0f,%.0f,%.0f" % (
            "base_" if label.startswith("baseline") else "", r["clients"], r["rate"], r["raw"],
            r["rate"] / r["raw"], r["group"], r["user_us"], r["sys_us"], r["server"], r["wrk"],
            r["other"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/convene")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--clients", default="1,16,32")
    ap.add_argument("--n", type=int, default=3000, help="raw commits per reference measurement")
    ap.add_argument("--durability", default="full", choices=("full", "normal"))
    ap.add_argument("--baseline", help="another convene binary to measure in the same runs")
    ap.add_argument("--goal", type=float, default=0.5,
                    help="bookings/raw commits wanted at the most connections")
    a = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not installed (make deps-bench)")
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    missed = 0
    for run in range(1, a.runs + 1):
        tmp = tempfile.mkdtemp(prefix="convene-gc-bench-")
        base_rows = None
        try:
            load = open("/proc/loadavg").read().split()[0]
            a.raw = [raw_sqlite_rate(os.path.join(tmp, "raw.db"), a.durability, a.n)]
            rows = measure(a, a.bin, tmp)
            if a.baseline:
                base_rows = measure(a, a.baseline, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print("run %d (%s, load %s before, sync=%s): raw SQLite single-row commits/s %s"
              % (run, time.strftime("%H:%M:%S"), load, a.durability,
                 " ".join("%.0f" % x for x in a.raw)))
        line = ["time=%s" % time.strftime("%Y-%m-%dT%H:%M:%S"), "commit=%s" % commit,
                "sync=%s" % a.durability, "raw=%s" % ",".join("%.0f" % x for x in a.raw)]
        print_rows(a.bin, rows, line)
        if base_rows is not None:
            print_rows("baseline " + a.baseline, base_rows, line)
        with open(os.path.join(HERE, "results", "group_commit.txt"), "a") as f:
            f.write(" ".join(line) + "\n")
        ratio = rows[-1]["rate"] / rows[-1]["raw"]
        print("  goal %.2f at %d connections: %s" % (a.goal, rows[-1]["clients"],
                                                     "met" if ratio >= a.goal else "MISSED"))
        missed += ratio < a.goal
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
