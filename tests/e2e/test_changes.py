#!/usr/bin/env python3
"""End-to-end tests of the change stream, GET /api/v1/changes (CONTRACT section 9): a raw
socket client reads the text/event-stream (chunked HTTP/1.1, parsed here by hand, so nothing
is taken on trust from a client library): a booking appears within 1 s, ids increase,
Last-Event-ID resumes without loss or duplicates, each viewer sees only what they may (a
driver nothing of a meeting they have nothing to do with), no title ever travels in it,
bearer and cookie both work, no credentials is 401, the --max-streams cap, and a gone
client's slot is freed at once.

Run: CONVENE_BIN=build/convene CONVENE_SOURCE_DIR=. python3 tests/e2e/test_changes.py
"""

import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ADMIN_TOKEN, Server, wait_until  # noqa: E402

PASSWORD = "correct horse battery"


class Stream:
    """One GET /api/v1/changes over a raw socket, decoded by hand."""

    def __init__(self, port, token=ADMIN_TOKEN, cookie=None, last_event_id=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        lines = ["GET /api/v1/changes HTTP/1.1", "Host: 127.0.0.1", "Accept: text/event-stream"]
        if token is not None:
            lines.append("Authorization: Bearer " + token)
        if cookie is not None:
            lines.append("Cookie: " + cookie)
        if last_event_id is not None:
            lines.append("Last-Event-ID: %s" % last_event_id)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.raw = b""        # undecoded bytes after the headers
        self.text = ""        # decoded body so far
        self.all_text = ""    # everything the stream ever sent
        self.ended = False
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {}
        for h in header_lines:
            k, _, v = h.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if self.status != 200:
            length = int(self.headers.get("content-length", "0"))
            while len(self.raw) < length:
                self._recv(5)
            self.body = json.loads(self.raw[:length].decode())

    def _recv(self, timeout):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            self.ended = True
        self.raw += data
        return data

    def _read_until(self, marker):
        while marker not in self.raw:
            if not self._recv(5):
                raise AssertionError("connection closed before %r" % marker)
        head, _, self.raw = self.raw.partition(marker)
        return head

    def _decode_chunks(self):
        while True:
            size_line, sep, rest = self.raw.partition(b"\r\n")
            if not sep:
                return
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                self.ended = True
                self.raw = b""
                return
            if len(rest) < size + 2:
                return
            chunk = rest[:size].decode("utf-8")
            self.text += chunk
            self.all_text += chunk
            self.raw = rest[size + 2:]

    def next_event(self, timeout=2.0):
        """The next event with data ({"id", "data"}), skipping comments; None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self._decode_chunks()
            while "\n\n" in self.text:
                block, _, self.text = self.text.partition("\n\n")
                event = {}
                for line in block.split("\n"):
                    if line.startswith(":"):
                        continue
                    key, _, value = line.partition(":")
                    event[key] = value[1:] if value.startswith(" ") else value
                if "data" in event:
                    event["data"] = json.loads(event["data"])
                    event["id"] = int(event["id"])
                    return event
            left = deadline - time.monotonic()
            if left <= 0 or self.ended:
                return None
            try:
                self._recv(left)
            except socket.timeout:
                return None

    def events(self, quiet=0.5):
        """Every event until the stream has been quiet for `quiet` seconds."""
        out = []
        while True:
            e = self.next_event(quiet)
            if e is None:
                return out
            out.append(e)

    def close(self):
        self.sock.close()


def weekdays():
    """Working days from Monday 2027-01-04 on: one per booking, so tests never clash."""
    import datetime
    d = datetime.date(2027, 1, 4)
    while True:
        if d.weekday() < 5:
            yield d.isoformat()
        d += datetime.timedelta(days=1)


DAYS = weekdays()


def event_body(title, room=None, attendees=(), trips=(), day=None, hour=9, confidential=False):
    day = day or next(DAYS)
    body = {"title": title, "start": "%sT%02d:00:00" % (day, hour),
            "end": "%sT%02d:00:00" % (day, hour + 1), "tz": "Asia/Shanghai",
            "attendees": [{"person": p} for p in attendees], "confidential": confidential}
    if room:
        body["room"] = room
    for t in trips:
        t = dict(t, depart="%sT08:30:00" % day, **{"return": "%sT11:00:00" % day})
        body.setdefault("trips", []).append(t)
    return body


class ChangesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.srv.start()
        srv = cls.srv
        cls.room = srv.post("/api/v1/rooms", {"name": "第一会议室", "capacity": 30}).body["id"]
        cls.room2 = srv.post("/api/v1/rooms", {"name": "第二会议室", "capacity": 30}).body["id"]
        cls.car = srv.post("/api/v1/vehicles", {"name": "帕萨特", "plate": "京A·10001",
                                                "seats": 4}).body["id"]
        mk = lambda name, role, login: srv.post("/api/v1/people", {  # noqa: E731
            "name": name, "role": role, "login": login}).body["id"]
        cls.leader = mk("王建国", "leader", "wangjianguo")
        cls.other_leader = mk("李文华", "leader", "liwenhua")
        cls.driver = mk("冯师傅", "driver", "fengshifu")
        cls.other_driver = mk("何师傅", "driver", "heshifu")
        cls.secretary = mk("赵明", "secretary", "zhaoming")
        for p in (cls.leader, cls.driver, cls.secretary):
            r = srv.request("PUT", "/api/v1/people/%s/password" % p, {"password": PASSWORD})
            assert r.status == 204, r

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def book(self, title, **kw):
        """Books a meeting on a day of its own (no clashes between tests); returns its id."""
        r = self.srv.post("/api/v1/events", event_body(title, **kw))
        self.assertEqual(r.status, 201, r)
        return r.body["id"]

    def open(self, **kw):
        s = Stream(self.srv.port, **kw)
        self.addCleanup(s.close)
        return s

    def test_unauthenticated_is_401(self):
        s = self.open(token=None)
        self.assertEqual(s.status, 401)
        self.assertEqual(s.body["error"]["code"], "unauthorized")
        s = self.open(token="cvn_not_a_token_at_all_123456")
        self.assertEqual(s.status, 401)
        s = self.open(token=None, cookie="convene_session=" + "A" * 43)
        self.assertEqual(s.status, 401)
        # HEAD answers with a stream's headers and does not hang.
        r = self.srv.request("HEAD", "/api/v1/changes")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/event-stream"), r.headers)

    def test_a_booking_appears_within_a_second(self):
        s = self.open()
        self.assertEqual(s.status, 200)
        self.assertTrue(s.headers["content-type"].startswith("text/event-stream"), s.headers)
        self.assertEqual(s.headers.get("cache-control"), "no-cache")
        s.events(0.2)  # whatever earlier tests left
        t = time.monotonic()
        eid = self.book("党组会", room=self.room)
        e = s.next_event(1.0)
        took = time.monotonic() - t
        self.assertIsNotNone(e, "no event within 1 s")
        self.assertLess(took, 1.0)
        self.assertEqual(e["data"], {"type": "event.created", "event": eid})
        self.assertIn("retry:", s.all_text)

    def test_ids_increase_in_commit_order(self):
        s = self.open()
        s.events(0.2)
        a = self.book("周例会", room=self.room)
        r = self.srv.patch("/api/v1/events/" + a, {"title": "周例会（改）"})
        self.assertEqual(r.status, 200, r)
        b = self.book("专题会", room=self.room)
        self.assertEqual(self.srv.delete("/api/v1/events/" + b).status, 204)
        got = s.events()
        self.assertEqual([(e["data"]["type"], e["data"]["event"]) for e in got],
                         [("event.created", a), ("event.updated", a), ("event.created", b),
                          ("event.cancelled", b)])
        ids = [e["id"] for e in got]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(set(ids)), len(ids))
        # The ids are the outbox's commit order.
        rows = self.srv.sql("SELECT seq, type FROM outbox WHERE seq >= ? ORDER BY seq", (ids[0],))
        self.assertEqual([r[0] for r in rows][:4], ids)

    def test_resume_with_last_event_id(self):
        s = self.open()
        s.events(0.2)
        first = self.book("办公会一", room=self.room)
        e1 = s.next_event()
        self.assertEqual(e1["data"]["event"], first)
        s.close()
        missed = [self.book("办公会二", room=self.room), self.book("办公会三", room=self.room)]
        resumed = self.open(last_event_id=e1["id"])
        got = resumed.events()
        self.assertEqual([e["data"]["event"] for e in got], missed, "missed ones, once, in order")
        self.assertTrue(all(e["id"] > e1["id"] for e in got))
        # And it goes on live.
        later = self.book("办公会四", room=self.room)
        e = resumed.next_event(1.0)
        self.assertEqual(e["data"]["event"], later)
        self.assertGreater(e["id"], got[-1]["id"])
        # Resuming from the newest id gives nothing old.
        again = self.open(last_event_id=e["id"])
        self.assertEqual(again.events(0.3), [])
        # A malformed id is refused; one from the future starts from now.
        self.assertEqual(self.open(last_event_id="abc").status, 400)
        future = self.open(last_event_id=10 ** 12)
        self.assertEqual(future.status, 200)
        self.assertEqual(future.events(0.3), [])

    def test_a_driver_sees_only_their_meetings(self):
        driver = self.open(token=self.srv.create_token("driver", person=self.driver)[1])
        leader = self.open(token=self.srv.create_token("leader", person=self.leader)[1])
        office = self.open()
        for s in (driver, leader, office):
            s.events(0.2)
        unrelated = self.book("无关的会", room=self.room2, attendees=[self.other_leader])
        trip = {"vehicle": self.car, "driver": self.driver, "from": "机关大院", "to": "市政府",
                "passengers": [self.leader]}
        driven = self.book("调研", attendees=[self.leader], trips=[trip])
        other_trip = dict(trip, driver=self.other_driver, passengers=[])
        not_driven = self.book("别人的车", attendees=[self.other_leader], trips=[other_trip])

        office_events = {(e["data"]["type"], e["data"].get("event")) for e in office.events()}
        self.assertIn(("event.created", unrelated), office_events)
        self.assertIn(("event.created", not_driven), office_events)
        self.assertIn(("dispatch.assigned", not_driven), office_events)

        driver_events = driver.events()
        seen = {e["data"].get("event") for e in driver_events}
        self.assertIn(driven, seen)
        self.assertNotIn(unrelated, seen)
        self.assertNotIn(not_driven, seen)
        kinds = {e["data"]["type"] for e in driver_events}
        self.assertIn("dispatch.assigned", kinds)
        assigned = [e for e in driver_events if e["data"]["type"] == "dispatch.assigned"][0]
        self.assertEqual(assigned["data"]["resource"]["type"], "trip")

        leader_seen = {e["data"].get("event") for e in leader.events()}
        self.assertIn(driven, leader_seen)  # attends and rides
        self.assertNotIn(unrelated, leader_seen)
        self.assertNotIn(not_driven, leader_seen)

    def test_people_rooms_vehicles_and_blocks_reach_the_office_only(self):
        """A room, a person, a vehicle or a block created, changed or removed by someone else
        reaches every open console of the office (so its pages reload), as resource.changed
        naming what changed; leaders' and drivers' streams do not get it, and no webhook does
        (it is not a webhook type), even one that asked for "*"."""
        hook = self.srv.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/all",
                                                  "events": ["*"]}).body["id"]
        self.addCleanup(self.srv.delete, "/api/v1/webhooks/" + hook)
        office = self.open()
        sec = self.open(token=self.srv.create_token("secretary", person=self.secretary)[1])
        leader = self.open(token=self.srv.create_token("leader", person=self.leader)[1])
        for s in (office, sec, leader):
            s.events(0.2)
        room = self.srv.post("/api/v1/rooms", {"name": "第三会议室", "capacity": 12}).body["id"]
        self.assertEqual(self.srv.patch("/api/v1/rooms/" + room, {"capacity": 14}).status, 200)
        car = self.srv.post("/api/v1/vehicles", {"name": "考斯特", "plate": "京A·20002",
                                                 "seats": 20}).body["id"]
        r = self.srv.post("/api/v1/blocks", {
            "resource": {"type": "person", "id": self.leader}, "start": "2027-03-01T09:00:00",
            "end": "2027-03-01T12:00:00", "tz": "Asia/Shanghai", "reason": "外出"})
        self.assertEqual(r.status, 201, r)
        block = r.body["id"]
        self.assertEqual(self.srv.delete("/api/v1/blocks/" + block).status, 204)
        self.assertEqual(self.srv.delete("/api/v1/rooms/" + room).status, 204)
        self.assertEqual(self.srv.patch("/api/v1/people/" + self.other_leader,
                                        {"phone": "010-12345678"}).status, 200)
        want = [{"type": "room", "id": room}, {"type": "room", "id": room},
                {"type": "vehicle", "id": car}, {"type": "block", "id": block},
                {"type": "block", "id": block}, {"type": "room", "id": room},
                {"type": "person", "id": self.other_leader}]
        for s in (office, sec):
            got = s.events()
            self.assertEqual([e["data"] for e in got],
                             [{"type": "resource.changed", "resource": w} for w in want])
        self.assertEqual([e for e in leader.events(0.5)
                          if e["data"]["type"] == "resource.changed"], [])
        # The webhook had a meeting booked meanwhile, and none of these.
        self.book("例会", room=self.room)
        wait_until(lambda: self.srv.sql("SELECT count(*) FROM deliveries WHERE webhook_id = ?",
                                         (hook,))[0][0] > 0, 5)
        self.assertEqual(self.srv.sql("SELECT type FROM deliveries WHERE webhook_id = ? AND "
                                      "type NOT LIKE 'event.%'", (hook,)), [])

    def test_no_title_travels_in_any_stream(self):
        office = self.open()
        leader = self.open(token=self.srv.create_token("leader", person=self.leader)[1])
        office.events(0.2)
        leader.events(0.2)
        eid = self.book("绝密：人事调整酝酿", room=self.room, attendees=[self.leader],
                        confidential=True)
        r = self.srv.patch("/api/v1/events/" + eid, {"title": "绝密：人事调整（二）"})
        self.assertEqual(r.status, 200, r)
        for s in (office, leader):
            got = s.events()
            self.assertTrue(any(e["data"].get("event") == eid for e in got), got)
            self.assertNotIn("绝密", s.all_text)
            self.assertNotIn("人事", s.all_text)
            for e in got:
                self.assertLessEqual(set(e["data"]), {"type", "event", "resource", "date"}, e)

    def test_cookie_works_and_needs_no_csrf(self):
        r = self.srv.request("POST", "/api/v1/session",
                             {"login": "zhaoming", "password": PASSWORD}, token=None)
        self.assertEqual(r.status, 200, r)
        cookie = r.header("Set-Cookie").split(";")[0]
        s = self.open(token=None, cookie=cookie)
        self.assertEqual(s.status, 200)
        s.events(0.2)
        eid = self.book("秘书看到的会", room=self.room)
        e = s.next_event(1.0)
        self.assertEqual(e["data"]["event"], eid)
        # A driver's session stream is filtered like a driver's token.
        r = self.srv.request("POST", "/api/v1/session",
                             {"login": "fengshifu", "password": PASSWORD}, token=None)
        d = self.open(token=None, cookie=r.header("Set-Cookie").split(";")[0])
        d.events(0.2)
        self.book("司机看不到", room=self.room)
        self.assertEqual(d.events(0.5), [])

    def test_catering_reaches_the_canteen_stream_only_as_counts(self):
        _, tok = self.srv.create_token("canteen") if self._canteen_tokens() else (None, None)
        if tok is None:
            self.skipTest("canteen tokens arrive with the canteen role (branch gaps)")
        canteen = self.open(token=tok)
        canteen.events(0.2)
        self.book("不带餐的会", room=self.room)
        day = next(DAYS)
        body = event_body("带午餐的会", room=self.room, day=day, hour=10)
        body["meals"] = [{"meal": "lunch", "count": 12}]
        r = self.srv.post("/api/v1/events", body)
        self.assertEqual(r.status, 201, r)
        got = canteen.events()
        self.assertEqual({e["data"]["type"] for e in got}, {"catering.updated"}, got)
        self.assertEqual(got[0]["data"]["date"], day)

    def _canteen_tokens(self):
        return self.srv.request("POST", "/api/v1/tokens",
                                {"role": "canteen", "name": "probe"}).status == 201


class StreamLimitsTest(unittest.TestCase):
    def test_cap_and_slots_freed_when_clients_leave(self):
        with Server(extra_args=["--max-streams", "2"]) as srv:
            a, b = Stream(srv.port), Stream(srv.port)
            self.assertEqual((a.status, b.status), (200, 200))
            c = Stream(srv.port)
            self.assertEqual(c.status, 503)
            self.assertEqual(c.body["error"]["code"], "too_many_streams")
            self.assertTrue(c.headers.get("retry-after"))
            c.close()
            # A client that goes away frees its slot at once, without waiting for a write.
            a.close()
            ok = []
            def reopened():
                s = Stream(srv.port)
                ok.append(s)
                return s.status == 200
            wait_until(reopened, 2.0, "a slot freed by a closed client")
            for s in ok:
                s.close()
            b.close()
            self.assertEqual(srv.stop(), 0)

    def test_shutdown_ends_open_streams_promptly(self):
        with Server() as srv:
            streams = [Stream(srv.port) for _ in range(3)]
            for s in streams:
                self.assertEqual(s.status, 200)
            t = time.monotonic()
            self.assertEqual(srv.stop(), 0)
            self.assertLess(time.monotonic() - t, 2.5)
            for s in streams:
                s.next_event(1.0)
                self.assertTrue(s.ended, "the stream was ended by the server")
                s.close()

    def test_an_unread_stream_does_not_hold_the_service(self):
        with Server() as srv:
            room = srv.post("/api/v1/rooms", {"name": "大会议室", "capacity": 50}).body["id"]
            s = Stream(srv.port)
            s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            # Bookings go on while a stream's reader sleeps; /healthz keeps answering.
            for i in range(40):
                r = srv.post("/api/v1/events", event_body("会议%d" % i, room=room))
                self.assertEqual(r.status, 201, r)
            self.assertEqual(srv.get("/healthz", token=None).status, 200)
            got = s.events(0.5)
            self.assertEqual(len(got), 40)
            s.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
