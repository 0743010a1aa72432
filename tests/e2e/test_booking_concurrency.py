#!/usr/bin/env python3
"""Booking under contention, and a model-checked random walk.

1. 40 clients (threads, each with its own keep-alive connection) book the
   same room at the same time at once: exactly one 201 and 39 409s, and the
   room holds exactly one meeting. The same for 40 clients booking one person
   in 40 different rooms, and for 40 clients PATCHing one event with the same
   If-Match (one 200, 39 412).
2. A property test: 10,000 random create / move (PATCH start+end) / cancel
   operations on single meetings in 3 rooms (with setup/teardown buffers) x 6
   people over 3 days at 15-minute granularity, sequential so the model is
   deterministic. A brute-force interval model in Python predicts every
   decision (2xx or 409) and the exact set of conflicts reported; the
   occupancy read back through GET /api/v1/occurrences per room and per
   person must equal the model's (checked every 1,000 operations and at the
   end). The seed is printed; CONVENE_SEED=N replays a run.

Run: python3 tests/e2e/test_booking_concurrency.py   (CONVENE_BIN=build/convene)
"""

import datetime
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from booking_support import Server, expect  # noqa: E402  (harness.py underneath)

TZ = "Asia/Shanghai"
CLIENTS = 40
OPS = int(os.environ.get("CONVENE_PROPERTY_OPS", "10000"))
FIRST_DAY = datetime.date(2026, 12, 8)
DAYS = 3
ROOM_BUFFERS = [(15, 10), (0, 15), (30, 0)]  # (setup, teardown) minutes
PEOPLE = 6
STEP = 15  # minutes


def local(minutes):
    """Minutes since FIRST_DAY 00:00 -> local time text."""
    t = datetime.datetime.combine(FIRST_DAY, datetime.time()) + datetime.timedelta(minutes=minutes)
    return t.isoformat(timespec="seconds")


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0


# ------------------------------------------------------------------ part 1

def race(srv, make_request, what):
    """Runs make_request(client, i) in CLIENTS threads released together; returns statuses."""
    clients = [srv.client() for _ in range(CLIENTS)]
    for c in clients:  # connect first, so the requests (not the handshakes) race
        expect(c.get("/healthz", token=None), 200, "healthz")
    barrier = threading.Barrier(CLIENTS)
    results = [None] * CLIENTS

    def worker(i):
        barrier.wait()
        try:
            results[i] = make_request(clients[i], i)
        except Exception as e:  # reported below
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    for c in clients:
        c.close()
    errors = [r for r in results if isinstance(r, Exception)]
    if errors:
        raise AssertionError("%s: client errors: %r" % (what, errors[:3]))
    statuses = sorted(r.status for r in results)
    print("%s: %d concurrent requests in %.3f s (%.0f req/s): %s"
          % (what, CLIENTS, elapsed, CLIENTS / elapsed,
             {s: statuses.count(s) for s in set(statuses)}))
    return results


def contention(srv):
    api = srv.client()
    room = expect(api.post("/api/v1/rooms", {"name": "争用会议室", "capacity": 10,
                                             "setup_minutes": 10, "teardown_minutes": 10}),
                  201, "room").json["id"]
    body = {"title": "race", "start": "2026-12-15T09:00:00", "end": "2026-12-15T10:00:00",
            "tz": TZ, "room": room}
    res = race(srv, lambda c, i: c.post("/api/v1/events", dict(body, title="race %d" % i)),
               "same room, same time")
    statuses = [r.status for r in res]
    assert statuses.count(201) == 1 and statuses.count(409) == CLIENTS - 1, statuses
    winner = next(r for r in res if r.status == 201).json["id"]
    for r in res:
        if r.status == 409:
            c = r.json["error"]["conflicts"]
            assert [(x["resource"]["id"], x["event"]) for x in c] == [(room, winner)], c
    occ = expect(api.get("/api/v1/occurrences?from=2026-12-15&to=2026-12-15&room=" + room),
                 200, "occurrences").json
    assert [o["event"] for o in occ] == [winner], occ
    assert srv.sql("SELECT count(*) FROM events WHERE title LIKE 'race %'")[0][0] == 1

    # One person, 40 rooms: the person is the contended resource.
    person = expect(api.post("/api/v1/people", {"name": "忙人", "role": "staff"}), 201,
                    "person").json["id"]
    rooms = [expect(api.post("/api/v1/rooms", {"name": "r%d" % i, "capacity": 5}), 201,
                    "room").json["id"] for i in range(CLIENTS)]
    res = race(srv, lambda c, i: c.post("/api/v1/events", {
        "title": "p%d" % i, "start": "2026-12-16T09:%02d:00" % i, "end": "2026-12-16T10:30:00",
        "tz": TZ, "room": rooms[i], "attendees": [{"person": person}]}), "same person, 40 rooms")
    statuses = [r.status for r in res]
    assert statuses.count(201) == 1 and statuses.count(409) == CLIENTS - 1, statuses
    occ = expect(api.get("/api/v1/occurrences?from=2026-12-16&to=2026-12-16&person=" + person),
                 200, "occurrences").json
    assert len(occ) == 1, occ

    # One event, 40 PATCHes with the same If-Match: one wins, the others see 412.
    ev = expect(api.post("/api/v1/events", {"title": "etag", "start": "2026-12-17T09:00:00",
                                            "end": "2026-12-17T10:00:00", "tz": TZ}),
                201, "event").json
    res = race(srv, lambda c, i: c.patch("/api/v1/events/" + ev["id"], {"title": "t%d" % i},
                                         headers={"If-Match": ev["etag"]}), "same If-Match")
    statuses = [r.status for r in res]
    assert statuses.count(200) == 1 and statuses.count(412) == CLIENTS - 1, statuses
    now = expect(api.get("/api/v1/events/" + ev["id"]), 200, "get").json
    assert now["version"] == ev["version"] + 1, now
    assert now["title"] == next(r for r in res if r.status == 200).json["title"]
    api.close()


# ------------------------------------------------------------------ part 2

class Model:
    """Live single meetings: id -> (start, end, room index or None, frozenset of person indexes)."""

    def __init__(self):
        self.live = {}

    @staticmethod
    def hold(room, start, end):
        setup, teardown = ROOM_BUFFERS[room]
        return start - setup, end + teardown

    def clashes(self, start, end, room, people, ignore=None):
        """{(type, index, other id)} the booking would clash with."""
        out = set()
        for eid, (s, e, r, ps) in self.live.items():
            if eid == ignore:
                continue
            if s < end and start < e:
                for p in people & ps:
                    out.add(("person", p, eid))
            if room is not None and r == room:
                a0, a1 = self.hold(room, start, end)
                b0, b1 = self.hold(r, s, e)
                if a0 < b1 and b0 < a1:
                    out.add(("room", room, eid))
        return out


def occupancy_from_server(api, kind, ident):
    last = FIRST_DAY + datetime.timedelta(days=DAYS)  # a day past the window, for buffers
    res = expect(api.get("/api/v1/occurrences?from=%s&to=%s&tz=%s&%s=%s"
                         % (FIRST_DAY - datetime.timedelta(days=1), last, TZ, kind, ident)),
                 200, "occurrences")
    return sorted((o["event"], o["start"], o["end"]) for o in res.json)


def check_occupancy(api, model, rooms, people, when):
    for i, rid in enumerate(rooms):
        want = sorted((eid, local(s), local(e)) for eid, (s, e, r, _) in model.live.items()
                      if r == i)
        got = occupancy_from_server(api, "room", rid)
        if got != want:
            raise AssertionError("%s: room %d occupancy differs\n  server only: %s\n  model only: %s"
                                 % (when, i, sorted(set(got) - set(want)),
                                    sorted(set(want) - set(got))))
    for i, pid in enumerate(people):
        want = sorted((eid, local(s), local(e)) for eid, (s, e, _, ps) in model.live.items()
                      if i in ps)
        got = occupancy_from_server(api, "person", pid)
        if got != want:
            raise AssertionError("%s: person %d occupancy differs\n  server only: %s\n  model only: %s"
                                 % (when, i, sorted(set(got) - set(want)),
                                    sorted(set(want) - set(got))))


def property_test(srv, seed):
    rng = random.Random(seed)
    api = srv.client()
    rooms = [expect(api.post("/api/v1/rooms", {"name": "prop room %d" % i, "capacity": 20,
                                               "setup_minutes": s, "teardown_minutes": t}),
                    201, "room").json["id"] for i, (s, t) in enumerate(ROOM_BUFFERS)]
    people = [expect(api.post("/api/v1/people", {"name": "prop person %d" % i, "role": "staff",
                                                 "rank": 10 + i}), 201, "person").json["id"]
              for i in range(PEOPLE)]
    index = {("room", r): i for i, r in enumerate(rooms)}
    index.update({("person", p): i for i, p in enumerate(people)})
    model = Model()
    stats = {k: [0, 0] for k in ("create", "move", "cancel")}  # [accepted, rejected]
    latencies = {k: [] for k in stats}

    def random_slot():
        day = rng.randrange(DAYS)
        start = day * 1440 + rng.randrange(7 * 60 // STEP, 20 * 60 // STEP) * STEP
        return start, start + rng.randrange(1, 13) * STEP

    def reported(res):
        out = set()
        for c in res.json["error"]["conflicts"]:
            kind = c["resource"]["type"]
            out.add((kind, index.get((kind, c["resource"]["id"]), c["resource"]["id"]),
                     c["event"]))
        return out

    t_start = time.monotonic()
    for n in range(1, OPS + 1):
        r = rng.random()
        op = "create" if r < 0.45 or not model.live else ("move" if r < 0.8 else "cancel")
        if op == "create":
            start, end = random_slot()
            room = rng.randrange(len(rooms)) if rng.random() < 0.85 else None
            ps = frozenset(rng.sample(range(PEOPLE), rng.choice((0, 1, 1, 2, 2, 3))))
            expected = model.clashes(start, end, room, ps)
            body = {"title": "op %d" % n, "start": local(start), "end": local(end), "tz": TZ,
                    "attendees": [{"person": people[p]} for p in sorted(ps)]}
            if room is not None:
                body["room"] = rooms[room]
            t0 = time.monotonic()
            res = api.post("/api/v1/events", body)
            latencies[op].append(time.monotonic() - t0)
            ok_status, desc = 201, "create %s-%s room %s people %s" % (
                local(start), local(end), room, sorted(ps))
        elif op == "move":
            eid = rng.choice(sorted(model.live))
            _, _, room, ps = model.live[eid]
            start, end = random_slot()
            expected = model.clashes(start, end, room, ps, ignore=eid)
            t0 = time.monotonic()
            res = api.patch("/api/v1/events/" + eid, {"start": local(start), "end": local(end)})
            latencies[op].append(time.monotonic() - t0)
            ok_status, desc = 200, "move %s to %s-%s (room %s people %s)" % (
                eid, local(start), local(end), room, sorted(ps))
        else:
            eid = rng.choice(sorted(model.live))
            expected = set()
            t0 = time.monotonic()
            res = api.delete("/api/v1/events/" + eid)
            latencies[op].append(time.monotonic() - t0)
            ok_status, desc = 204, "cancel %s" % eid
        want = 409 if expected else ok_status
        if res.status != want:
            raise AssertionError("op %d (%s): expected %d (model clashes %s), got %r"
                                 % (n, desc, want, sorted(expected), res))
        if res.status == 409:
            got = reported(res)
            if got != expected:
                raise AssertionError("op %d (%s): conflicts reported %s, model %s"
                                     % (n, desc, sorted(got), sorted(expected)))
            stats[op][1] += 1
        else:
            stats[op][0] += 1
            if op == "create":
                model.live[res.json["id"]] = (start, end, room, ps)
            elif op == "move":
                model.live[eid] = (start, end, room, ps)
            else:
                del model.live[eid]
        if n % 1000 == 0 or n == OPS:
            check_occupancy(api, model, rooms, people, "after op %d" % n)
    elapsed = time.monotonic() - t_start
    api.close()
    all_lat = [x for v in latencies.values() for x in v]
    print("property test: %d operations in %.1f s (%.0f ops/s incl. %d occupancy checks); "
          "%d meetings live at the end" % (OPS, elapsed, OPS / elapsed, 9 * (OPS // 1000 + 1),
                                           len(model.live)))
    for k, (acc, rej) in stats.items():
        lat = latencies[k]
        print("  %-6s %5d accepted %5d rejected (409)  latency p50 %.1f ms p99 %.1f ms"
              % (k, acc, rej, 1000 * percentile(lat, 0.5), 1000 * percentile(lat, 0.99)))
    print("  all    p50 %.1f ms p99 %.1f ms max %.1f ms" % (
        1000 * percentile(all_lat, 0.5), 1000 * percentile(all_lat, 0.99),
        1000 * max(all_lat)))
    assert all(acc > 0 and rej > 0 for acc, rej in (stats["create"], stats["move"])), stats


def main():
    seed = int(os.environ.get("CONVENE_SEED", str(int(time.time()) % 100000)))
    print("seed %d (CONVENE_SEED=%d replays it)" % (seed, seed))
    started = time.monotonic()
    with Server() as srv:
        contention(srv)
        property_test(srv, seed)
    print("total %.1f s" % (time.monotonic() - started))


if __name__ == "__main__":
    main()
