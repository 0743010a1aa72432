#!/usr/bin/env python3
"""A burst to chat robots: N meetings booked at once, each announced to R robot URLs
(企业微信 and 钉钉 alternately, the DingTalk ones signed), at the robots' real pace.

Measures, per robot URL: when the first and last message arrived, the most in any window
(must be <= the rate), refusals by the fake robot (which enforces the same limit, as the real
ones do: must be 0), and whether a standard webhook registered beside them got its messages
at once (not held up behind the robots' queue). Prints one summary line per run.

    python3 bench/robot_burst.py [--meetings 40] [--robots 5] [--rate 20/60s]
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from dispatch_support import at  # noqa: E402
from harness import Server, metric  # noqa: E402
from robot_receiver import Robots  # noqa: E402
from webhook_receiver import Receiver  # noqa: E402

SECRET = "SEC" + "0123456789abcdef" * 4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meetings", type=int, default=40)
    ap.add_argument("--robots", type=int, default=5)
    ap.add_argument("--rate", default="20/60s")
    args = ap.parse_args()
    count, window = args.rate.split("/")
    count = int(count)
    window = float(window[:-1]) * {"s": 1, "m": 60}[window[-1]]

    with Robots() as robots, Receiver() as rx, \
            Server(extra_args=["--robot-rate", args.rate, "--retry-schedule", "5,30"]) as srv:
        names = []
        for i in range(args.robots):
            name = "r%d" % i
            names.append(name)
            robots.limit(name, count, window)
            if i % 2 == 0:
                body = {"url": robots.wecom_url(name), "format": "wecom"}
            else:
                body = {"url": robots.dingtalk_url(name, SECRET), "format": "dingtalk",
                        "secret": SECRET}
            body["events"] = ["event.created"]
            assert srv.post("/api/v1/webhooks", body).status == 201
        assert srv.post("/api/v1/webhooks", {"url": rx.url("/std"),
                                             "events": ["event.created"]}).status == 201
        date = [d["date"] for d in srv.get("/api/v1/workdays?from=2026-12-07&to=2026-12-31").json
                if d["working"]][0]
        t0 = time.time()
        for i in range(args.meetings):
            minute = i * 5
            start = "%02d:%02d" % (7 + minute // 60, minute % 60)
            end = "%02d:%02d" % (7 + (minute + 4) // 60, (minute + 4) % 60)
            r = srv.post("/api/v1/events", {"title": "会议%d" % i, "start": at(date, start),
                                            "end": at(date, end), "tz": "Asia/Shanghai"})
            assert r.status == 201, r
        booked = time.time() - t0
        rx.wait_for("/std", args.meetings, timeout=60)
        std_last = max(r.arrived for r in rx.received("/std")) - t0
        mid_depth = sum(metric(srv.metrics(), "convene_channel_queue_depth", format=f)
                        for f in ("wecom", "dingtalk"))
        expect = args.meetings
        windows = (expect + count - 1) // count
        robots.wait_for(None, expect * args.robots, timeout=windows * window * 1.1 + 30,
                        delivered=True)
        total = time.time() - t0
        worst, spans, refused = 0, [], 0
        for name in names:
            msgs = robots.received(name)
            refused += sum(1 for m in msgs if m.errcode != 0)
            t = sorted(m.arrived_mono for m in msgs if m.errcode == 0)
            spans.append(t[-1] - t[0])
            worst = max(worst, max(sum(1 for x in t if a <= x < a + window) for a in t))
        m = srv.metrics()
        paced = sum(metric(m, "convene_channel_paced_total", format=f)
                    for f in ("wecom", "dingtalk"))
        print("robot burst: %d meetings x %d robot URLs = %d messages at %s: booked in %.2f s, "
              "standard endpoint had all %d after %.2f s (robots' queue then %d); last robot "
              "message after %.1f s (per URL first-to-last %.1f-%.1f s); worst %.0f s window "
              "%d (limit %d); refused by the robots %d; paced moves %d"
              % (args.meetings, args.robots, expect * args.robots, args.rate, booked,
                 args.meetings, std_last, mid_depth, total, min(spans), max(spans), window,
                 worst, count, refused, paced))
        assert worst <= count and refused == 0


if __name__ == "__main__":
    main()
