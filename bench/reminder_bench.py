#!/usr/bin/env python3
"""Reminder burst benchmark (issue 5): many reminder.due webhooks due in the same minute.

What it does, in one run:
1. Starts nginx (Debian's /usr/sbin/nginx) on loopback as the receiver: every POST to /hook
   gets 204, and its access log records the arrival time ($msec), the webhook-id, the
   webhook-timestamp and webhook-signature, the User-Agent and the connection. It is a real,
   independent receiver that takes tens of thousands of POST/s, so it is not what limits.
2. Starts `convene serve` (CONVENE_BIN, default build/convene) on a fresh database in a
   temporary directory with --allow-private-webhooks, and registers one webhook for
   reminder.due pointing at the receiver.
3. Seeds, through the API, ATTENDEES people and EVENTS one-off meetings with all of them as
   attendees (EVENTS x ATTENDEES = --reminders). Meeting k starts 10k minutes after the due
   minute T and has one reminder offset, 10k minutes, so every reminder falls due at T (the
   next whole minute at least --lead seconds ahead). The meetings are 10 minutes apart and last
   5, so nobody is double-booked. With --spread S the starts are shifted so the due times are
   spread evenly over S seconds from T (S <= 60 keeps them in the same minute).
4. Waits until the receiver has every webhook-id, then reads convene's delivery rows (bodies,
   ids) from the database and computes, per reminder, lateness = arrival - due, where due =
   start_utc - offset_minutes * 60 from the delivered payload itself.
5. Replays the same bodies, signed with the same secret, through bench/webhook_baseline.c
   (plain libcurl multi, compiled here with cc -lcurl) to the same receiver with the same
   concurrency as convene's sender towards one endpoint (8), --baseline-runs times.
6. Verifies a sample of the signatures that reached the receiver with the npm package
   standardwebhooks (tests/e2e/verify_signature.js) when node and the package are installed.
7. Prints a summary and appends one key=value line to bench/results/reminders.txt.

Rates are measured the same way for both: (N - 1) / (last arrival - first arrival) in the
receiver's log. convene's rate "from due" divides N by (last arrival - T) instead, which also
counts the time to turn reminders into messages and fan them out.

Usage: python3 bench/reminder_bench.py [--reminders 10000] [--spread 0] [--lead 45]
Exit status: 0 when all were delivered and p99 lateness < 1 s and ratio >= 0.8, else 1
(2 when the run itself failed). Python 3 standard library only.
"""

import argparse
import base64
import calendar
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ADMIN = "cvn_bench_reminders_admin_0123456789"
TZ = "Asia/Shanghai"        # UTC+8 all year, no DST: local time is UTC + 8 h
TZ_OFFSET_S = 8 * 3600
GAP_MIN = 10                # meetings 10 minutes apart...
LENGTH_MIN = 5              # ...lasting 5, so one person can attend all of them
SENDER_CONCURRENCY = 8      # NOTIFY_MAX_PER_ENDPOINT in src/notify/notify_internal.h


def fail(msg):
    print("reminder_bench: " + msg, file=sys.stderr)
    sys.exit(2)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def cpu_ticks(pid):
    """utime + stime of a process and its waited-for children, in clock ticks."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15])
    except OSError:
        return 0


def tree_ticks(pid):
    """cpu_ticks of a process and its direct children (nginx's master and its worker)."""
    total = cpu_ticks(pid)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        total += cpu_ticks(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return total


def machine_busy():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def local_iso(utc_s):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(utc_s + TZ_OFFSET_S))


class Api:
    """One keep-alive connection to convene."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, expect=(200, 201)):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": "Bearer " + ADMIN, "Content-Type": "application/json"}
        try:
            self.conn.request(method, path, body=data, headers=headers)
            r = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed the idle keep-alive connection while we waited: reconnect.
            self.conn.close()
            self.conn.request(method, path, body=data, headers=headers)
            r = self.conn.getresponse()
        raw = r.read()
        if r.status not in expect:
            fail("%s %s -> %d %s" % (method, path, r.status, raw[:300]))
        return json.loads(raw) if raw else None


class Nginx:
    def __init__(self, tmp, port):
        self.dir = os.path.join(tmp, "nginx")
        os.makedirs(self.dir)
        self.port = port
        self.log = os.path.join(self.dir, "hooks.log")
        conf = os.path.join(self.dir, "nginx.conf")
        d = self.dir
        with open(conf, "w") as f:
            f.write("""
worker_processes 1;
daemon off;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 4096; }
http {
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    log_format hook escape=json
        '$msec\\t$http_webhook_id\\t$http_user_agent\\t$connection\\t$connection_requests\\t'
        '$status\\t$request_length\\t$http_webhook_timestamp\\t$http_webhook_signature';
    server {
        listen 127.0.0.1:%(port)d;
        location /hook {
            access_log %(d)s/hooks.log hook buffer=256k flush=100ms;
            return 204;
        }
        location / {
            access_log off;
            return 404;
        }
    }
}
""" % {"d": d, "port": port})
        self.proc = subprocess.Popen(["/usr/sbin/nginx", "-c", conf, "-p", d],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        fail("nginx did not start: %s" % open(os.path.join(d, "error.log")).read()[-2000:])

    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def lines(self, agent):
        """Log lines of one client: list of (arrival, id, conn, conn_requests, status, ts, sig)."""
        out = []
        try:
            with open(self.log) as f:
                for line in f:
                    p = line.rstrip("\n").split("\t")
                    if len(p) < 9 or p[2] != agent:
                        continue
                    out.append((float(p[0]), p[1], p[3], int(p[4]), int(p[5]), p[7], p[8]))
        except FileNotFoundError:
            pass
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Convene:
    def __init__(self, binary, tmp):
        self.db = os.path.join(tmp, "convene.db")
        self.stderr_path = os.path.join(tmp, "convene.stderr")
        env = dict(os.environ, CONVENE_ADMIN_TOKEN=ADMIN)
        self.proc = subprocess.Popen(
            [binary, "serve", "--db", self.db, "--listen", "127.0.0.1:0",
             "--calendars", os.path.join(REPO, "calendars"), "--allow-private-webhooks"],
            cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=open(self.stderr_path, "wb"),
            text=True)
        deadline = time.time() + 15
        self.port = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("listening on http://"):
                self.port = int(line.strip().rsplit(":", 1)[1])
                break
        if self.port is None:
            fail("convene did not start:\n" + open(self.stderr_path).read()[-2000:])

    def sql(self, query, args=()):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=10)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def build_baseline(tmp, given):
    if given:
        return given
    out = os.path.join(tmp, "webhook_baseline")
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-Wshadow",
           "-Wstrict-prototypes", "-Wmissing-prototypes", "-o", out,
           os.path.join(HERE, "webhook_baseline.c"), "-lcurl"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail("could not compile webhook_baseline.c:\n" + r.stderr)
    return out


def sign(secret, msg_id, ts, body):
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, ("%s.%d." % (msg_id, ts)).encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def write_requests(path, url, secret, rows):
    """The baseline's input: the same bodies, signed the way convene signs them."""
    ts = int(time.time())
    with open(path, "wb") as f:
        for msg_id, body in rows:
            f.write(("%s\t%s\t%d\t%s\t%d\n" % (url, msg_id, ts, sign(secret, msg_id, ts, body),
                                               len(body))).encode())
            f.write(body)
            f.write(b"\n")


def rate(arrivals):
    if len(arrivals) < 2:
        return float("nan")
    span = max(arrivals) - min(arrivals)
    return (len(arrivals) - 1) / span if span > 0 else float("inf")


def verify_sample(tmp, secret, lines, bodies, n):
    """Checks n received signatures with the npm standardwebhooks package; (checked, ok) or None."""
    script = os.path.join(REPO, "tests", "e2e", "verify_signature.js")
    node = shutil.which("node")
    if n <= 0 or node is None or not os.path.exists(script):
        return None
    step = max(1, len(lines) // n)
    sample = lines[::step][:n]
    inp = "".join(json.dumps({"secret": secret,
                              "headers": {"webhook-id": l[1], "webhook-timestamp": l[5],
                                          "webhook-signature": l[6]},
                              "body_b64": base64.b64encode(bodies[l[1]]).decode()}) + "\n"
                  for l in sample)
    r = subprocess.run([node, script], input=inp, capture_output=True, text=True, timeout=120)
    if r.returncode == 3:
        return None  # the package is not installed (make deps-node installs it)
    results = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    return len(sample), sum(1 for x in results if x.get("ok"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("CONVENE_BIN",
                                                    os.path.join(REPO, "build", "convene")))
    ap.add_argument("--reminders", type=int, default=10000)
    ap.add_argument("--attendees", type=int, default=200, help="people per meeting (max 200)")
    ap.add_argument("--spread", type=int, default=0,
                    help="spread the due times over this many seconds (0: all at one second)")
    ap.add_argument("--lead", type=int, default=45,
                    help="at least this many seconds between the start of seeding and T")
    ap.add_argument("--timeout", type=int, default=180, help="seconds after T to wait for all")
    ap.add_argument("--baseline-runs", type=int, default=3)
    ap.add_argument("--replay-runs", type=int, default=2,
                    help="times to re-send everything through POST .../replay (sender only)")
    ap.add_argument("--baseline-bin", default=None, help="prebuilt webhook_baseline")
    ap.add_argument("--concurrency", type=int, default=SENDER_CONCURRENCY)
    ap.add_argument("--verify", type=int, default=50, help="signatures to check with npm")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--perf", metavar="FILE", default=None,
                    help="perf record -g convene from T-1 s to the last arrival into FILE")
    ap.add_argument("--results", default=os.path.join(HERE, "results", "reminders.txt"))
    args = ap.parse_args()

    if args.reminders % args.attendees:
        fail("--reminders must be a multiple of --attendees")
    events = args.reminders // args.attendees
    if not os.path.isfile(args.bin):
        fail("convene binary not found at %s (build it or set CONVENE_BIN)" % args.bin)
    if not os.path.exists("/usr/sbin/nginx"):
        fail("/usr/sbin/nginx not found: apt-get install nginx-light (make deps-bench)")

    tmp = tempfile.mkdtemp(prefix="convene-reminders.")
    nginx = convene = None
    try:
        baseline = build_baseline(tmp, args.baseline_bin)
        nginx = Nginx(tmp, free_port())
        convene = Convene(args.bin, tmp)
        api = Api(convene.port)

        seed_started = time.time()
        T = (int(seed_started) + args.lead + 59) // 60 * 60
        hook = api.call("POST", "/api/v1/webhooks",
                        {"url": nginx.url(), "events": ["reminder.due"]})
        secret = hook["secret"]
        people = [api.call("POST", "/api/v1/people",
                           {"name": "提醒测试 %03d" % i, "role": "staff"})["id"]
                  for i in range(args.attendees)]
        attendees = [{"person": p} for p in people]
        for k in range(1, events + 1):
            offset = GAP_MIN * k
            shift = (k - 1) * args.spread // events if args.spread else 0
            start = T + offset * 60 + shift
            api.call("POST", "/api/v1/events", {
                "title": "提醒压测 %d" % k, "start": local_iso(start),
                "end": local_iso(start + LENGTH_MIN * 60), "tz": TZ,
                "attendees": attendees, "reminders": [offset]})
        seeded = time.time()
        rows = convene.sql("SELECT count(*) FROM reminders WHERE sent = 0")[0][0]
        if rows != args.reminders:
            fail("expected %d reminder rows, found %d" % (args.reminders, rows))
        if seeded > T - 2:
            fail("seeding took %.1f s and ran past the due time: raise --lead" % (seeded - seed_started))
        print("seeded %d people, %d meetings, %d reminders in %.1f s; due at %s UTC "
              "(spread %d s), %.1f s from now" % (args.attendees, events, rows, seeded - seed_started,
                                                   time.strftime("%H:%M:%S", time.gmtime(T)),
                                                   args.spread, T - seeded), flush=True)

        # The burst. CPU is sampled from 1 s before T until the last arrival.
        while time.time() < T - 1:
            time.sleep(min(1.0, T - 1 - time.time()))
        perf = None
        if args.perf:
            perf = subprocess.Popen(["perf", "record", "--call-graph", "dwarf,16384", "-F", "2000", "-o", os.path.abspath(args.perf),
                                     "-p", str(convene.proc.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cpu0, nginx0, busy0 = (cpu_ticks(convene.proc.pid), tree_ticks(nginx.proc.pid),
                               machine_busy())
        wall0 = time.time()
        deadline = T + args.spread + args.timeout
        got = []
        while time.time() < deadline:
            got = nginx.lines("convene-webhooks/1")
            if len({l[1] for l in got}) >= args.reminders:
                break
            time.sleep(0.25)
        time.sleep(0.3)  # the log is flushed every 100 ms
        got = nginx.lines("convene-webhooks/1")
        cpu1, nginx1, busy1 = (cpu_ticks(convene.proc.pid), tree_ticks(nginx.proc.pid),
                               machine_busy())
        wall = time.time() - wall0
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait(30)
        hz = os.sysconf("SC_CLK_TCK")

        delivered_rows = convene.sql("SELECT msg_id, body, status FROM deliveries ORDER BY id")
        bodies = {m: (b.encode() if isinstance(b, str) else b) for m, b, _ in delivered_rows}
        statuses = {}
        for _, _, s in delivered_rows:
            statuses[s] = statuses.get(s, 0) + 1
        first = {}
        for l in got:
            if l[1] not in first or l[0] < first[l[1]]:
                first[l[1]] = l[0]
        lateness = []
        for m, t in first.items():
            b = bodies.get(m)
            if b is None:
                continue
            d = json.loads(b)["data"]
            start = calendar.timegm(time.strptime(d["start_utc"], "%Y-%m-%dT%H:%M:%SZ"))
            due = start - d["offset_minutes"] * 60
            lateness.append(t - due)
        lateness.sort()
        arrivals = sorted(first.values())
        n_ok = sum(1 for l in got if 200 <= l[4] < 300)
        dup = len(got) - len(first)
        conns = len({l[2] for l in got})
        conv_rate = rate(arrivals)
        from_due = len(arrivals) / (arrivals[-1] - T) if arrivals and arrivals[-1] > T else float("nan")
        late_flags = sum(1 for b in bodies.values() if b"\"late\":true" in b)
        verified = verify_sample(tmp, secret, got, bodies, args.verify)

        print("convene: %d/%d webhook-ids received (%d duplicates, %d non-2xx), delivery rows %s, "
              "%d connections, %d marked late" % (len(first), args.reminders, dup, len(got) - n_ok,
                                                  statuses, conns, late_flags))
        if lateness:
            print("lateness (arrival - due), s: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  min %.3f"
                  % (percentile(lateness, 50), percentile(lateness, 90), percentile(lateness, 99),
                     lateness[-1], lateness[0]))
            print("convene burst: first arrival T+%.3f s, last T+%.3f s; %.0f deliveries/s "
                  "(first to last), %.0f/s from due" % (arrivals[0] - T, arrivals[-1] - T,
                                                        conv_rate, from_due))
        print("CPU from T-1 s to the last arrival (%.1f s): convene %.0f%%, nginx %.0f%%, "
              "machine %.0f%% of %d CPUs"
              % (wall, 100.0 * (cpu1 - cpu0) / hz / wall, 100.0 * (nginx1 - nginx0) / hz / wall,
                 100.0 * (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]) * os.cpu_count(),
                 os.cpu_count()))
        if verified is not None:
            print("signatures checked with npm standardwebhooks: %d/%d valid" % (verified[1],
                                                                                 verified[0]))
        else:
            print("signatures not checked (node or the standardwebhooks package is missing)")

        # convene's sender alone: the replay endpoint puts the same 10,000 deliveries back to
        # pending in one request, so no reminder or fan-out work is in this figure.
        replay_rates = []
        for run in range(args.replay_runs):
            before = len(nginx.lines("convene-webhooks/1"))
            r = api.call("POST", "/api/v1/webhooks/%s/replay" % hook["id"],
                         {"since": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                 time.gmtime(seed_started - 5))},
                         expect=(200, 202))
            deadline = time.time() + args.timeout
            while time.time() < deadline:
                if len(nginx.lines("convene-webhooks/1")) - before >= args.reminders:
                    break
                time.sleep(0.25)
            time.sleep(0.3)
            rl = nginx.lines("convene-webhooks/1")[before:]
            replay_rates.append(rate([l[0] for l in rl]))
            print("convene replay run %d: %d re-sent, %.0f deliveries/s at the receiver "
                  "(sender only)" % (run + 1, len(rl), replay_rates[-1]))
            del r

        # The baseline: the same bodies, the same secret, the same receiver.
        reqfile = os.path.join(tmp, "requests.txt")
        ordered = [(m, bodies[m]) for m, _, _ in delivered_rows]
        base_rates, base_client = [], []
        for run in range(args.baseline_runs):
            agent_lines_before = len(nginx.lines("webhook-baseline/1"))
            write_requests(reqfile, nginx.url(), secret, ordered)
            r = subprocess.run([baseline, "--concurrency", str(args.concurrency), reqfile],
                               capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                fail("webhook_baseline failed: %s %s" % (r.stdout, r.stderr))
            kv = dict(x.split("=", 1) for x in r.stdout.split())
            time.sleep(0.3)
            bl = nginx.lines("webhook-baseline/1")[agent_lines_before:]
            base_rates.append(rate([l[0] for l in bl]))
            base_client.append(float(kv["per_second"]))
            print("baseline run %d: %s requests, %.0f deliveries/s at the receiver "
                  "(client: %.0f/s, %s connections)" % (run + 1, kv["requests"], base_rates[-1],
                                                        base_client[-1], kv["connections"]))
        base = statistics.median(base_rates)
        ratio = conv_rate / base if base else float("nan")
        print("ratio convene / baseline (median of %d): %.2f  (goal >= 0.8)" % (len(base_rates),
                                                                               ratio))
        replay = statistics.median(replay_rates) if replay_rates else float("nan")
        if replay_rates:
            print("ratio convene sender alone (replay) / baseline: %.2f" % (replay / base))

        ok = (len(first) == args.reminders and lateness and percentile(lateness, 99) < 1.0
              and ratio >= 0.8)
        print("%s: all delivered %s, p99 < 1 s %s, ratio >= 0.8 %s" % (
            "PASS" if ok else "FAIL", len(first) == args.reminders,
            bool(lateness) and percentile(lateness, 99) < 1.0, ratio >= 0.8))

        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "src"],
                               capture_output=True, text=True).stdout.strip() != ""
        line = ("time=%s commit=%s src_dirty=%d bin=%s reminders=%d spread=%d received=%d dup=%d "
                "p50=%.3f p99=%.3f max=%.3f convene_per_s=%.0f from_due_per_s=%.0f "
                "baseline_per_s=%s ratio=%.2f replay_per_s=%s replay_ratio=%.2f convene_cpu=%.0f machine_cpu=%.0f" % (
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), commit, dirty, args.bin,
                    args.reminders, args.spread, len(first), dup,
                    percentile(lateness, 50), percentile(lateness, 99),
                    lateness[-1] if lateness else float("nan"), conv_rate, from_due,
                    ",".join("%.0f" % x for x in base_rates), ratio,
                    ",".join("%.0f" % x for x in replay_rates), replay / base,
                    100.0 * (cpu1 - cpu0) / hz / wall,
                    100.0 * (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]) * os.cpu_count()))
        os.makedirs(os.path.dirname(args.results), exist_ok=True)
        with open(args.results, "a") as f:
            f.write(line + "\n")
        return 0 if ok else 1
    finally:
        if convene is not None:
            rc = convene.stop()
            if rc != 0:
                print("convene exited with %s; stderr tail:\n%s" % (
                    rc, open(convene.stderr_path, errors="replace").read()[-1500:]))
        if nginx is not None:
            nginx.stop()
        if args.keep:
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
