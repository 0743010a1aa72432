#!/usr/bin/env python3
"""Crash safety (issue 8, item 4): random bookings under SIGKILL.

Several client threads (each its own keep-alive connection) run 5,000 random
operations between them: creates of single and weekly-recurring meetings
(attendees, a room with setup/teardown buffers, sometimes a trip with a
vehicle and a driver), moves of a whole meeting or series (PATCH), moves and
cancellations of one occurrence (PATCH/DELETE .../occurrences/RID) and
cancellations (DELETE). A webhook endpoint (every type) points at the test
receiver. Meanwhile the service is killed with SIGKILL at random moments (at
least 10 times) and restarted on the same database each time.

Each thread owns the meetings it created (only it changes them), so each
meeting's history is sequential and its state can be modelled exactly:
- an answer 2xx is "acknowledged": the change must be in the final state;
- 409 is "refused": it must have changed nothing;
- a request whose answer was lost (the connection broke after it was sent) is
  "unknown": the change may or may not be there. The meeting is then left
  alone (frozen), so its final state is one of two known states. A request
  that could not be sent (connect refused, send failed) is simply retried.

At the end, after a final SIGKILL and restart and once the sender is idle,
an independent reader (python sqlite3 on the file, not the API) checks:
1. every acknowledged create/move/cancel is present in its final acknowledged
   state (events row: status, version; doc: start, end, room, overrides,
   trips), refused creates left no event, unknown ones left the initial
   state or nothing;
2. the derived rows agree with the documents: occurrences (weekly expansion
   with overrides, recomputed here) and the occupancy index (attendees, room
   with its buffers, vehicle and driver of each trip), and no resource is
   double-booked: no two live meetings' occupancy rows overlap per resource;
3. every change's outbox message is there (event.* messages carry versions
   1..version of each event, none for an event that does not exist);
4. every outbox message created after the webhook existed reached the
   receiver at least once (webhook-id header), and its delivery row says so.

The seed is printed; CONVENE_SEED=N replays the choices (not the kill
timing). CONVENE_CRASH_OPS / CONVENE_CRASH_KILLS scale the run.

Run: python3 tests/e2e/test_crash_safety.py   (CONVENE_BIN=build/convene)
"""

import datetime
import http.client
import json
import os
import random
import select
import socket
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ADMIN_TOKEN, Server, ServerError, wait_until  # noqa: E402
from webhook_receiver import Receiver  # noqa: E402

SEED = int(os.environ.get("CONVENE_SEED") or random.randrange(1 << 30))
OPS = int(os.environ.get("CONVENE_CRASH_OPS", "5000"))
KILLS = int(os.environ.get("CONVENE_CRASH_KILLS", "12"))
THREADS = 8
TZ = "Asia/Shanghai"
UTC_OFFSET = datetime.timedelta(hours=8)  # Asia/Shanghai has no DST
FIRST_DAY = datetime.date(2027, 3, 1)    # a Monday, in the future: no reminder is due
DAYS = [FIRST_DAY + datetime.timedelta(days=d) for d in range(19) if d % 7 < 5]
PEOPLE = 10
DRIVERS = 3
VEHICLES = 3
ROOM_BUFFERS = [(15, 10), (0, 15), (30, 0), (0, 0)]  # (setup, teardown) minutes
EVENT_TYPES = ("event.created", "event.updated", "event.cancelled")

ACK, REFUSED, UNKNOWN = "ack", "refused", "unknown"


def fmt(dt):
    return dt.isoformat(timespec="seconds")


def parse(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")


def utc_epoch(local_text):
    """Local Asia/Shanghai wall time -> Unix seconds."""
    dt = parse(local_text) - UTC_OFFSET
    return int(dt.replace(tzinfo=datetime.timezone.utc).timestamp())


# ---------------------------------------------------------------- the target

class Target:
    """Where the service currently listens; None while it is down."""

    def __init__(self):
        self.cond = threading.Condition()
        self.port = None
        self.generation = 0

    def set(self, port):
        with self.cond:
            self.port = port
            self.generation += 1
            self.cond.notify_all()

    def down(self):
        with self.cond:
            self.port = None

    def current(self, timeout=30.0):
        with self.cond:
            if not self.cond.wait_for(lambda: self.port is not None, timeout):
                raise AssertionError("the service stayed down for %.0f s" % timeout)
            return self.port, self.generation


class CrashClient:
    """One keep-alive connection that follows the service across restarts.

    request() returns (status, body) or None when the outcome is unknown (the
    request was sent but its answer lost). A request that was not sent in
    full (connect refused, send failed) cannot have been processed: retried.
    """

    def __init__(self, target):
        self.target = target
        self.conn = None
        self.generation = None
        self.unsent_retries = 0

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _stale(self):
        if self.generation != self.target.generation:
            return True
        sock = self.conn.sock
        if sock is None:
            return True
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Authorization": "Bearer " + ADMIN_TOKEN}
        if data is not None:
            headers["Content-Type"] = "application/json"
        while True:
            if self.conn is not None and self._stale():
                self.close()
            if self.conn is None:
                port, generation = self.target.current()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                try:
                    conn.connect()
                except OSError:
                    conn.close()
                    self.unsent_retries += 1
                    time.sleep(0.01)
                    continue
                self.conn, self.generation = conn, generation
            try:
                self.conn.request(method, path, body=data, headers=headers)
            except OSError:
                # Not all of it reached the socket: the service cannot act on a partial
                # request, so this is "not sent", and sent again.
                self.close()
                self.unsent_retries += 1
                continue
            try:
                resp = self.conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                self.close()
                return None
            if resp.will_close:
                self.close()
            text = raw.decode("utf-8", "replace")
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
            return resp.status, parsed


# ---------------------------------------------------------------- the model

class Meeting:
    """What one thread knows of one of its meetings.

    states: the candidate final states [(state, version)]; one while every
    answer came back, two once an answer was lost (then it is frozen).
    """

    def __init__(self, title, state, outcome):
        self.title = title
        self.id = None
        self.create_outcome = outcome
        self.states = [(state, 1)]
        self.frozen = outcome != ACK
        self.ops = []  # (op, outcome) for the failure message

    @property
    def state(self):
        return self.states[-1][0]

    @property
    def version(self):
        return self.states[-1][1]

    def live(self):
        return not self.frozen and self.state["status"] != "cancelled"


def copy_state(s):
    return json.loads(json.dumps(s))


class Worker(threading.Thread):
    def __init__(self, test, tid):
        super().__init__(name="client-%d" % tid, daemon=True)
        self.test = test
        self.tid = tid
        self.rng = random.Random(SEED * 31 + tid)
        self.client = CrashClient(test.target)
        self.meetings = []
        self.counts = {}
        self.unexpected = []
        self.error = None

    def count(self, op, outcome):
        key = (op, outcome)
        self.counts[key] = self.counts.get(key, 0) + 1

    def run(self):
        try:
            while True:
                n = self.test.next_op()
                if n is None:
                    break
                self.one(n)
        except BaseException as e:  # reported by the test
            self.error = e
        finally:
            self.client.close()

    def classify(self, res, op, allowed=(409,)):
        if res is None:
            return UNKNOWN
        status, body = res
        if 200 <= status < 300:
            return ACK
        if status not in allowed:
            self.unexpected.append((op, status, body))
        return REFUSED

    # -- choosing --

    def one(self, n):
        rng = self.rng
        live = [m for m in self.meetings if m.live()]
        r = rng.random()
        if not live or r < 0.45:
            self.create(n)
            return
        m = rng.choice(live)
        recurring = m.state["count"] > 1
        if r < 0.90 and recurring and (r >= 0.70 or m.state["overrides"]):
            # A series with exceptions is edited per occurrence only: what a series
            # move does to its exceptions is not what this test is about.
            self.occurrence(m)
        elif r < 0.90:
            self.move(m)
        else:
            self.cancel(m)

    def slot(self):
        rng = self.rng
        day = rng.choice(DAYS)
        start = datetime.datetime.combine(day, datetime.time(8)) + \
            datetime.timedelta(minutes=30 * rng.randrange(0, 20))
        return start, start + datetime.timedelta(minutes=rng.choice([30, 60, 60, 90, 120]))

    def trips_for(self, start, end, trips):
        """The meeting's trips around [start, end) (ids kept)."""
        out = []
        for t in trips:
            u = dict(t)
            u["depart"] = fmt(start - datetime.timedelta(minutes=40))
            u["return"] = fmt(end + datetime.timedelta(minutes=30))
            out.append(u)
        return out

    # -- operations --

    def create(self, n):
        rng, t = self.rng, self.test
        start, end = self.slot()
        title = "crash t%d n%d" % (self.tid, n)
        count = rng.choice([2, 3, 4]) if rng.random() < 0.35 else 1
        attendees = rng.sample(t.people, rng.randint(1, 3))
        room = rng.choice(t.rooms) if rng.random() < 0.85 else None
        trips = []
        if rng.random() < 0.25:
            trips = self.trips_for(start, end, [{"vehicle": rng.choice(t.vehicles),
                                                 "driver": rng.choice(t.drivers),
                                                 "approved_by": t.people[0]}])
        body = {"title": title, "start": fmt(start), "end": fmt(end), "tz": TZ,
                "attendees": [{"person": p} for p in attendees]}
        if count > 1:
            body["rrule"] = "FREQ=WEEKLY;COUNT=%d" % count
        if room:
            body["room"] = room
        if trips:
            body["trips"] = trips
        res = self.client.request("POST", "/api/v1/events", body)
        outcome = self.classify(res, "create")
        self.count("create", outcome)
        state = {"status": "confirmed", "start": fmt(start), "end": fmt(end), "room": room,
                 "count": count, "overrides": {}, "trips": trips}
        m = Meeting(title, state, outcome)
        if outcome == ACK:
            m.id = res[1]["id"]
            # The trips' ids are the service's: the model keeps them for later PATCHes.
            state["trips"] = [{k: tr[k] for k in ("id", "vehicle", "driver", "depart",
                                                  "return", "approved_by")}
                              for tr in res[1].get("trips") or []]
            if len(state["trips"]) != len(trips):
                self.unexpected.append(("create", "trips", res[1]))
        if outcome != REFUSED:
            self.meetings.append(m)
        else:
            self.test.refused_titles.add(title)

    def apply(self, m, op, method, path, body, new_state, allowed=(409,)):
        res = self.client.request(method, path, body)
        outcome = self.classify(res, op, allowed)
        self.count(op, outcome)
        m.ops.append((op, body, outcome))
        if outcome == ACK:
            m.states = [(new_state, m.version + 1)]
        elif outcome == UNKNOWN:
            m.states.append((new_state, m.version + 1))
            m.frozen = True

    def move(self, m):
        rng, t = self.rng, self.test
        start, end = self.slot()
        new = copy_state(m.state)
        body = {"start": fmt(start), "end": fmt(end)}
        new["start"], new["end"] = body["start"], body["end"]
        if rng.random() < 0.2:
            body["room"] = rng.choice(t.rooms)
            new["room"] = body["room"]
        if new["trips"]:
            body["trips"] = self.trips_for(start, end, new["trips"])
            new["trips"] = body["trips"]
        self.apply(m, "move", "PATCH", "/api/v1/events/" + m.id, body, new)

    def occurrence(self, m):
        rng = self.rng
        s = m.state
        first = parse(s["start"])
        rids = [fmt(first + datetime.timedelta(days=7 * k)) for k in range(s["count"])]
        open_rids = [r for r in rids if not s["overrides"].get(r, {}).get("cancelled")]
        rid = rng.choice(open_rids)
        new = copy_state(s)
        path = "/api/v1/events/%s/occurrences/%s" % (m.id, rid)
        if len(open_rids) > 1 and rng.random() < 0.4:  # the last one is moved, not cancelled
            new["overrides"][rid] = {"cancelled": True}  # replaces a move of it
            self.apply(m, "occ_cancel", "DELETE", path, None, new)
            return
        duration = parse(s["end"]) - first
        if rng.random() < 0.5:
            start = parse(rid) + datetime.timedelta(minutes=rng.choice([-120, -60, 60, 120, 180]))
        else:
            start = datetime.datetime.combine(rng.choice(DAYS), parse(rid).time()) + \
                datetime.timedelta(days=7 * rng.randrange(0, s["count"]))
        body = {"start": fmt(start), "end": fmt(start + duration)}
        new["overrides"][rid] = dict(new["overrides"].get(rid, {}), **body)
        self.apply(m, "occ_move", "PATCH", path, body, new)

    def cancel(self, m):
        new = copy_state(m.state)
        new["status"] = "cancelled"
        self.apply(m, "cancel", "DELETE", "/api/v1/events/" + m.id, None, new)


# ---------------------------------------------------------------- checking

def doc_state(status, doc):
    """The model's view of a stored event (events.status + the document)."""
    rrule = doc.get("rrule")
    count = 1
    if rrule:
        parts = dict(p.split("=", 1) for p in rrule.split(";"))
        count = int(parts["COUNT"])
    return {"status": status, "start": doc["start"], "end": doc["end"], "room": doc.get("room"),
            "count": count, "overrides": doc.get("overrides") or {},
            "trips": [{k: tr.get(k) for k in ("id", "vehicle", "driver", "depart", "return",
                                               "approved_by")}
                      for tr in doc.get("trips") or []]}


def expected_occurrences(doc):
    """[(recurrence_id, start_local, end_local)] of a weekly (or single) event, recomputed
    here from its document: the independent check of the occurrences table."""
    st = doc_state("confirmed", doc)
    first, end = parse(st["start"]), parse(st["end"])
    out = []
    for k in range(st["count"]):
        rid = fmt(first + datetime.timedelta(days=7 * k))
        s, e = rid, fmt(end + datetime.timedelta(days=7 * k))
        ov = st["overrides"].get(rid)
        if ov:
            if ov.get("cancelled"):
                continue
            s, e = ov.get("start", s), ov.get("end", e)
        out.append((rid, s, e))
    return out


def expected_claims(event_id, doc, occs, buffers):
    """The occupancy rows a live event must hold: (type, id, start_utc, end_utc, role)."""
    rows = []
    start = parse(doc["start"])
    for rid, s, e in occs:
        su, eu = utc_epoch(s), utc_epoch(e)
        for a in doc.get("attendees") or []:
            if a.get("response") != "declined":
                rows.append(("person", a["person"], su, eu, "attendee", rid))
        if doc.get("room"):
            setup, teardown = buffers[doc["room"]]
            rows.append(("room", doc["room"], su - 60 * setup, eu + 60 * teardown, "room", rid))
        for tr in doc.get("trips") or []:
            dep = utc_epoch(fmt(parse(s) + (parse(tr["depart"]) - start)))
            ret = utc_epoch(fmt(parse(s) + (parse(tr["return"]) - start)))
            rows.append(("vehicle", tr["vehicle"], dep, ret, "vehicle", rid))
            rows.append(("person", tr["driver"], dep, ret, "driver", rid))
    return sorted(rows)


class CrashSafetyTest(unittest.TestCase):

    def next_op(self):
        with self.lock:
            if self.issued >= OPS or self.stop_all:
                return None
            self.issued += 1
            return self.issued

    def killer(self, rng):
        try:
            points = sorted(rng.sample(range(OPS // 25, OPS - OPS // 25), KILLS))
            for p in points:
                while self.issued < p and not self.stop_all:
                    time.sleep(0.002)
                if self.stop_all:
                    return
                time.sleep(rng.uniform(0, 0.03))  # a random moment, mid-request or not
                self.target.down()
                self.srv.kill()
                self.kills += 1
                time.sleep(rng.choice([0, 0, 0.05, 0.3]))
                self.srv.start()
                self.target.set(self.srv.port)
        except BaseException as e:
            self.killer_error = e
            self.stop_all = True

    def test_crash_safety(self):
        t0 = time.monotonic()
        print("seed %d (CONVENE_SEED=%d replays the choices)" % (SEED, SEED), flush=True)
        rng = random.Random(SEED)
        self.lock = threading.Lock()
        self.issued = 0
        self.kills = 0
        self.stop_all = False
        self.killer_error = None
        self.refused_titles = set()
        self.target = Target()
        with Receiver() as rx, Server(extra_args=["--retry-schedule", "1,1,1,2,2,2,2,2,2,2"]) \
                as srv:
            self.srv = srv
            self.people = [srv.create("people", {"name": "人员%d" % i, "role": "staff"})["id"]
                           for i in range(PEOPLE)]
            self.drivers = [srv.create("people", {"name": "司机%d" % i, "role": "driver"})["id"]
                            for i in range(DRIVERS)]
            self.vehicles = [srv.create("vehicles", {"name": "车%d" % i, "plate": "京A%04d" % i,
                                                     "seats": 5})["id"]
                             for i in range(VEHICLES)]
            self.rooms = [srv.create("rooms", {"name": "会议室%d" % i, "capacity": 20,
                                               "setup_minutes": su, "teardown_minutes": td})["id"]
                          for i, (su, td) in enumerate(ROOM_BUFFERS)]
            hook = srv.create("webhooks", {"url": rx.url("/hook"), "events": ["*"]})
            self.target.set(srv.port)

            workers = [Worker(self, i) for i in range(THREADS)]
            killer = threading.Thread(target=self.killer, args=(rng,), daemon=True)
            for w in workers:
                w.start()
            killer.start()
            for w in workers:
                w.join(timeout=600)
            self.stop_all = True
            killer.join(timeout=60)
            ops_done = time.monotonic() - t0
            if self.killer_error:
                raise self.killer_error
            for w in workers:
                if w.error:
                    raise w.error
            self.assertGreaterEqual(self.kills, min(KILLS, 10), "kills")

            # A last crash, then the sender drains everything after the restart.
            self.target.down()
            srv.kill()
            srv.start()
            self.kills += 1
            db = srv.db
            hook_created = srv.sql("SELECT created_at FROM webhooks WHERE id = ?",
                                   (hook["id"],))[0][0]
            # resource.changed is the change stream's own: no endpoint ever gets it.
            wanted = {row[0] for row in srv.sql(
                "SELECT msg_id FROM outbox WHERE created_at >= ? AND type != 'resource.changed'",
                (hook_created,))}

            def all_delivered():
                got = {r.msg_id for r in rx.received(path="/hook")}
                return wanted <= got

            try:
                wait_until(all_delivered, 60, "every outbox message at the receiver")
                wait_until(lambda: srv.sql("SELECT count(*) FROM deliveries WHERE status != "
                                           "'delivered'")[0][0] == 0,
                           30, "every delivery row marked delivered")
            except AssertionError as e:
                print(e)  # the check below names what is missing
            self.assertEqual(srv.stop(), 0, "clean exit after SIGTERM")
            received = rx.received(path="/hook")

            self.check(db, workers, wanted, received, hook["id"])

        counts = {}
        for w in workers:
            for k, v in w.counts.items():
                counts[k] = counts.get(k, 0) + v
        summary = ", ".join("%s %s %d" % (op, oc, n) for (op, oc), n in sorted(counts.items()))
        print("%d operations, %d SIGKILLs, %d unsent retries; %s"
              % (self.issued, self.kills, sum(w.client.unsent_retries for w in workers), summary))
        print("%d outbox messages delivered (%d requests at the receiver); operations %.1f s, "
              "total %.1f s" % (len(wanted), len(received), ops_done, time.monotonic() - t0))

    def check(self, db, workers, wanted, received, hook_id):
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        try:
            self._check(con, workers, wanted, received, hook_id)
        finally:
            con.close()

    def _check(self, con, workers, wanted, received, hook_id):
        problems = []
        unexpected = [u for w in workers for u in w.unexpected]
        if unexpected:
            problems.append("unexpected answers: %r" % unexpected[:5])

        events = {}
        for eid, title, status, version, doc in con.execute(
                "SELECT id, title, status, version, doc FROM events"):
            events[title] = (eid, status, version, json.loads(doc))
        by_id = {v[0]: v for v in events.values()}

        # 1. Every acknowledged change in its final acknowledged state.
        modelled = set()
        lost = {False: 0, True: 0}  # requests whose answer was lost: applied or not
        acked_creates = 0
        for w in workers:
            for m in w.meetings:
                modelled.add(m.title)
                got = events.get(m.title)
                if got is None:
                    if m.create_outcome == UNKNOWN:
                        lost[False] += 1
                    if m.create_outcome == ACK:
                        problems.append("%s: acknowledged create is missing" % m.title)
                    continue
                eid, status, version, doc = got
                if m.create_outcome == ACK:
                    acked_creates += 1
                    if eid != m.id:
                        problems.append("%s: id %s, acknowledged %s" % (m.title, eid, m.id))
                actual = (doc_state(status, doc), version)
                if m.create_outcome == UNKNOWN:
                    lost[True] += 1
                    # The create alone may have happened: nothing else was sent for it.
                    candidates = m.states[:1]
                    actual = (dict(actual[0], trips=[dict(t, id=None) for t in
                                                     actual[0]["trips"]]), version)
                    candidates = [(dict(s, trips=[dict(t, id=None) for t in s["trips"]]), v)
                                  for s, v in candidates]
                else:
                    candidates = m.states
                if len(candidates) > 1 and actual in candidates:
                    lost[candidates.index(actual) > 0] += 1
                if actual not in candidates:
                    problems.append("%s (%s): stored %r, expected one of %r; ops %r"
                                    % (m.title, eid, actual, candidates, m.ops))
        for title in events:
            if title in self.refused_titles:
                problems.append("%s: a refused create left an event" % title)
            elif title not in modelled:
                problems.append("%s: an event nobody created" % title)

        # 2. Derived rows agree with the documents; no resource is double-booked.
        buffers = {rid: (su, td) for rid, su, td in con.execute(
            "SELECT id, setup_minutes, teardown_minutes FROM rooms")}
        occ_rows = {}
        for eid, rid, sl, el, su, eu in con.execute(
                "SELECT event_id, recurrence_id, start_local, end_local, start_utc, end_utc "
                "FROM occurrences"):
            occ_rows.setdefault(eid, []).append((rid, sl, el))
            if (su, eu) != (utc_epoch(sl), utc_epoch(el)):
                problems.append("occurrence %s %s: utc %d-%d for %s-%s" % (eid, rid, su, eu, sl, el))
        occupancy = {}
        for rtype, rid, su, eu, eid, rec, role in con.execute(
                "SELECT resource_type, resource_id, start_utc, end_utc, event_id, recurrence_id, "
                "role FROM occupancy WHERE block_id IS NULL"):
            occupancy.setdefault(eid, []).append((rtype, rid, su, eu, role, rec))
        live = 0
        for eid, status, version, doc in by_id.values():
            occs = expected_occurrences(doc)
            if sorted(occ_rows.get(eid, [])) != sorted(occs):
                problems.append("%s: occurrences %r, document says %r"
                                % (eid, sorted(occ_rows.get(eid, [])), occs))
            want = expected_claims(eid, doc, occs, buffers) if status != "cancelled" else []
            live += status != "cancelled"
            if sorted(occupancy.get(eid, [])) != want:
                problems.append("%s (%s): occupancy %r, document says %r"
                                % (eid, status, sorted(occupancy.get(eid, [])), want))
        for eid in set(occupancy) - set(by_id):
            problems.append("occupancy rows of a missing event %s" % eid)
        per_resource = {}
        for eid, rows in occupancy.items():
            if eid in by_id and by_id[eid][1] == "cancelled":
                continue  # reported above
            for rtype, rid, su, eu, role, rec in rows:
                per_resource.setdefault((rtype, rid), []).append((su, eu, eid, rec, role))
        double = []
        for res, spans in per_resource.items():
            spans.sort()
            # Sweep: each span against every later one starting before it ends.
            for i, (su, eu, eid, rec, role) in enumerate(spans):
                for su2, eu2, eid2, rec2, role2 in spans[i + 1:]:
                    if su2 >= eu:
                        break
                    # One meeting's own rows may touch (a moved occurrence beside another
                    # occurrence of the same series): it is never checked against itself.
                    if eid2 != eid:
                        double.append((res, (eid, rec, role, su, eu), (eid2, rec2, role2, su2, eu2)))
        if double:
            problems.append("%d double bookings, e.g. %r" % (len(double), double[:5]))

        # 3. Every change's outbox message; none for events that do not exist.
        versions = {}
        for mtype, payload in con.execute("SELECT type, payload FROM outbox"):
            if mtype not in EVENT_TYPES:
                continue
            ev = json.loads(payload)["event"]
            versions.setdefault(ev["id"], []).append(ev["version"])
        for eid, (_, status, version, doc) in by_id.items():
            if sorted(versions.get(eid, [])) != list(range(1, version + 1)):
                problems.append("%s: outbox versions %r, event at version %d"
                                % (eid, sorted(versions.get(eid, [])), version))
        for eid in set(versions) - set(by_id):
            problems.append("outbox messages %r for a missing event %s" % (versions[eid], eid))

        # 4. Delivered at least once; the delivery rows agree.
        got = {r.msg_id for r in received}
        missing = wanted - got
        if missing:
            problems.append("%d outbox messages never reached the receiver, e.g. %r"
                            % (len(missing), sorted(missing)[:5]))
        rows = {msg: status for msg, status in con.execute(
            "SELECT msg_id, status FROM deliveries WHERE webhook_id = ?", (hook_id,))}
        bad = [(m, rows.get(m)) for m in wanted if rows.get(m) != "delivered"]
        if bad:
            problems.append("%d delivery rows not delivered, e.g. %r" % (len(bad), bad[:5]))
        if not wanted:
            problems.append("no outbox message at all")

        print("checked %d events (%d acknowledged creates, %d live, %d frozen by a lost answer), "
              "%d occupancy rows; of the requests whose answer was lost %d had been applied, "
              "%d not" % (len(events), acked_creates, live,
                          sum(m.frozen and m.create_outcome == ACK
                              for w in workers for m in w.meetings),
                          sum(len(r) for r in occupancy.values()), lost[True], lost[False]))
        if problems:
            self.fail("%d problems:\n%s" % (len(problems), "\n".join(problems[:30])))


if __name__ == "__main__":
    unittest.main(verbosity=2)
