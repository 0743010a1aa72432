#!/usr/bin/env python3
"""Runs the service under valgrind through a short foundation scenario and fails on
memory errors or definite leaks. Run by `make test-valgrind` (not by ctest: it is slow).

    CONVENE_BIN=build/convene CONVENE_SOURCE_DIR=. python3 tests/e2e/valgrind_check.py

The wrapper is $CONVENE_WRAPPER when set, else
`valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99`.
Passes when the service, stopped with SIGTERM, exits 0 (valgrind turns any memory error or
definite leak into exit code 99) and valgrind reports "definitely lost: 0 bytes" (or no leak
summary at all because every block was freed).
"""

import os
import re
import shutil
import shlex
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ADMIN_TOKEN, Server, ServerError  # noqa: E402

DEFAULT_WRAPPER = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
                   "--error-exitcode=99", "--num-callers=30"]


class Check:
    def __init__(self):
        self.failures = []

    def status(self, r, expected, what):
        if r.status != expected:
            self.failures.append("%s: expected %d, got %r" % (what, expected, r))
        return r


def scenario(srv, check):
    """Touches every foundation path: success, each kind of error, and the metrics."""
    req = srv.request
    ok = check.status

    ok(req("GET", "/healthz", token=None), 200, "healthz")

    # Tokens.
    r = ok(req("POST", "/api/v1/tokens", {"role": "secretary", "name": "秘书"}), 201, "token")
    sec = r.body["token"] if r.status == 201 else "cvn_missing"
    r = ok(req("POST", "/api/v1/tokens", {"role": "secretary", "name": "临时"}), 201, "token 2")
    if r.status == 201:
        ok(req("DELETE", "/api/v1/tokens/" + r.body["id"]), 204, "revoke")
        ok(req("GET", "/api/v1/rooms", token=r.body["token"]), 401, "revoked token")
    ok(req("POST", "/api/v1/tokens", {"role": "leader", "name": "x"}), 422, "leader without person")
    ok(req("POST", "/api/v1/tokens", {"role": "king", "name": "x"}), 422, "bad role")

    # Resources, in Chinese.
    person = ok(req("POST", "/api/v1/people", {"name": "王建国", "role": "leader", "rank": 1,
                                               "department": "办公厅", "diet": "清真"}),
                201, "person").body or {}
    room = ok(req("POST", "/api/v1/rooms", {"name": "第一会议室", "capacity": 20,
                                            "features": ["video", "projector"],
                                            "location": "三楼", "setup_minutes": 10}),
              201, "room").body or {}
    vehicle = ok(req("POST", "/api/v1/vehicles", {"name": "考斯特", "plate": "京A·12345",
                                                  "seats": 19}), 201, "vehicle").body or {}
    pid, rid, vid = person.get("id", "x"), room.get("id", "x"), vehicle.get("id", "x")
    r = ok(req("POST", "/api/v1/tokens", {"role": "leader", "name": "王", "person": pid}), 201,
           "leader token")
    if r.status == 201:
        ok(req("GET", "/api/v1/people/" + pid, token=r.body["token"]), 200, "leader own")
        ok(req("GET", "/api/v1/people", token=r.body["token"]), 403, "leader list")

    for plural in ("people", "rooms", "vehicles"):
        ok(req("GET", "/api/v1/" + plural), 200, "list " + plural)
        ok(req("GET", "/api/v1/" + plural, token=sec), 200, "secretary list " + plural)
    ok(req("GET", "/api/v1/rooms/" + rid), 200, "get room")
    r = ok(req("PATCH", "/api/v1/rooms/" + rid, {"capacity": 30, "features": ["video"]}), 200,
           "patch room")
    ok(req("PATCH", "/api/v1/rooms/" + rid, {"capacity": 31}, headers={"If-Match": '"1"'}), 412,
       "stale patch")
    ok(req("PATCH", "/api/v1/people/" + pid, {"phone": "13800000000", "diet": None}), 200,
       "patch person")
    ok(req("PATCH", "/api/v1/vehicles/" + vid, {"name": None}), 422, "patch null name")
    r = ok(req("POST", "/api/v1/rooms/" + rid + "/feed-token"), 200, "rotate feed")
    if r.status == 200:
        ok(req("GET", "/feeds/" + r.body["feed_url"].rsplit("/", 1)[1], token=None), 200, "feed")
    ok(req("GET", "/feeds/AAAAAAAAAAAAAAAAAAAAAA.ics", token=None), 404, "unknown feed")

    # Blocks.
    block = {"resource": {"type": "room", "id": rid}, "start": "2026-12-07T09:00:00",
             "end": "2026-12-07T12:00:00", "tz": "Asia/Shanghai", "reason": "装修"}
    r = ok(req("POST", "/api/v1/blocks", block, token=sec), 201, "block")
    bid = (r.body or {}).get("id", "x")
    ok(req("POST", "/api/v1/blocks", dict(block, end="2026-12-07T08:00:00")), 422, "block end")
    ok(req("POST", "/api/v1/blocks", dict(block, tz="Mars/Base")), 422, "block tz")
    ok(req("POST", "/api/v1/blocks", dict(block, resource={"type": "room", "id": "room_x"})), 422,
       "block unknown id")
    ok(req("POST", "/api/v1/blocks", dict(block, resource={"type": "x", "id": rid, "y": 1})), 400,
       "block nested unknown field")
    ok(req("GET", "/api/v1/blocks?room=" + rid), 200, "blocks by room")
    ok(req("GET", "/api/v1/blocks/" + bid), 200, "get block")
    ok(req("DELETE", "/api/v1/blocks/" + bid), 204, "delete block")

    # Every kind of refusal.
    ok(req("GET", "/api/v1/rooms", token=None), 401, "no token")
    ok(req("GET", "/api/v1/rooms", token="cvn_unknown"), 401, "unknown token")
    ok(req("POST", "/api/v1/rooms", {"name": "x", "capacity": 1}, token=sec), 403, "secretary")
    ok(req("GET", "/api/v1/nowhere"), 404, "unknown endpoint")
    ok(req("PUT", "/api/v1/rooms"), 405, "wrong method")
    for raw, status in ((b'{"name": ', 400), (b"[1, 2]", 400), (b'{"a": 1, "a": 2}', 400),
                        (b'{"name": "\xff", "capacity": 1}', 400),
                        (b'{"x":' + b"[" * 40 + b"]" * 40 + b"}", 400),
                        (b'{"name": "a", "capacity": 1, "atendees": []}', 400),
                        (b'{"name": "a", "capacity": "1"}', 400),
                        (b'{"name": "", "capacity": 1}', 422),
                        (b'{"name": "a", "capacity": 0}', 422),
                        (b'{"name": "' + b"a" * (1024 * 1024) + b'"}', 413)):
        ok(req("POST", "/api/v1/rooms", raw_body=raw), status, "refused %r" % raw[:30])
    ok(req("GET", "/api/v1/rooms", headers={"X-Pad-%d" % i: "p" * 4000 for i in range(5)}), 400,
       "headers too large")

    # Deletes and the metrics that counted all this.
    ok(req("DELETE", "/api/v1/vehicles/" + vid), 204, "delete vehicle")
    ok(req("GET", "/api/v1/vehicles/" + vid), 404, "deleted vehicle")
    r = ok(req("GET", "/metrics", token=None), 200, "metrics")
    if r.status == 200 and "convene_http_requests_total" not in r.body:
        check.failures.append("metrics lack convene_http_requests_total")

    # A second connection, closed before the stop.
    c = srv.client()
    ok(c.get("/healthz"), 200, "second connection")
    c.close()


def main():
    wrapper = os.environ.get("CONVENE_WRAPPER")
    wrapper = shlex.split(wrapper) if wrapper else list(DEFAULT_WRAPPER)
    if shutil.which(wrapper[0]) is None:
        sys.exit("valgrind_check: %s is not installed (apt-get install valgrind)" % wrapper[0])

    check = Check()
    srv = Server(wrapper=wrapper)
    try:
        srv.start()
        scenario(srv, check)
        # A restart on the same database runs the open/migrate/close paths once more.
        rc = srv.restart()
        if rc != 0:
            check.failures.append("first run exited with %r" % rc)
        first_log = srv.stderr_text(1)
        check.status(srv.request("GET", "/api/v1/rooms", token=ADMIN_TOKEN), 200, "after restart")
        # Stop with connections left open: an idle keep-alive client and one stalled in the
        # middle of a request line. The drain closes them (after its timeout) without leaks.
        idle = srv.client()
        check.status(idle.get("/healthz"), 200, "idle keep-alive client")
        stalled = socket.create_connection((srv.host, srv.port))
        stalled.sendall(b"GET /heal")
        rc = srv.stop(signal.SIGTERM, timeout=30)
        idle.close()
        stalled.close()
        logs = [first_log, srv.stderr_text()]
    except ServerError as e:
        print(str(e))
        srv.cleanup()
        return 1
    if rc != 0:
        check.failures.append("exit code %r after SIGTERM (valgrind uses 99 for errors/leaks)" % rc)

    for n, log in enumerate(logs, 1):
        m = re.search(r"definitely lost: ([\d,]+) bytes", log)
        if m is not None and m.group(1) != "0":
            check.failures.append("run %d: definitely lost: %s bytes" % (n, m.group(1)))
        if m is None and "no leaks are possible" not in log and "LEAK SUMMARY" in log:
            check.failures.append("run %d: unreadable leak summary" % n)
        errors = re.search(r"ERROR SUMMARY: (\d+) errors", log)
        if errors is None:
            check.failures.append("run %d: no valgrind ERROR SUMMARY: was it run under valgrind?"
                                  % n)
        elif errors.group(1) != "0":
            check.failures.append("run %d: valgrind ERROR SUMMARY: %s errors" % (n, errors.group(1)))
        if "stopped" not in log:
            check.failures.append("run %d: no 'stopped' line" % n)
        summary = [l for l in log.splitlines()
                   if re.search(r"(definitely|indirectly|possibly) lost|still reachable|"
                                r"ERROR SUMMARY|All heap blocks", l)]
        print("run %d:\n  %s" % (n, "\n  ".join(summary)))

    if check.failures:
        print("\nFAILED:\n- " + "\n- ".join(check.failures))
        for n, log in enumerate(logs, 1):
            print("\n--- run %d log (valgrind part) ---" % n)
            start = log.find("HEAP SUMMARY")
            print(log[max(0, start - 20000):] if start >= 0 else log[-20000:])
        srv.cleanup()
        return 1
    print("\nOK: no memory errors, no definite leaks, clean SIGTERM exits")
    srv.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
