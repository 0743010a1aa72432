#!/usr/bin/env python3
"""Notification channels (CONTRACT section 14): WeCom and DingTalk robots, end to end.

The real binary posts to fake robots on loopback (robot_receiver.py), which check each request
as the real services do (message shape, 4096-byte content, the DingTalk 加签 signature and its
timestamp) and answer with errcodes, including the rate-limit ones.

Covered: registration (format, the DingTalk secret: validated, never shown, sealed at rest,
changed by PATCH; format immutable; no rotation for robots); every message type a person reads
rendered in Chinese and accepted by both robots; a confidential meeting's title, place and
people never reaching a robot; a person's robot hearing only that person's messages; one
会议提醒 per meeting for a group robot; retries on errcode != 0 (45009, 130101, 310000) and on
HTTP 500 with the delivery log saying why; the pace: a burst of 45 messages to one robot URL
arrives at most 20 in any window (--robot-rate 20/3s here; the fake robot refuses beyond it, as
the real one does at 20 a minute), nothing dropped, a standard endpoint not held up behind it;
/metrics queue depth, refusals and pacing per format.

Run: python3 tests/e2e/test_channels.py   (CONVENE_BIN=build/convene)
"""

import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from dispatch_support import DispatchBase, at, day, local  # noqa: E402
from harness import metric, wait_until  # noqa: E402
from robot_receiver import Robots  # noqa: E402

SECRET = "SEC" + "0123456789abcdef" * 4
RATE, WINDOW = 20, 3.0


class ChannelBase(DispatchBase):
    SERVER_ARGS = ["--retry-schedule", "1,1", "--robot-rate", "%d/%ds" % (RATE, WINDOW)]
    robots = None

    @classmethod
    def setUpClass(cls):
        cls.robots = Robots().start()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.robots.close()

    def robot(self, fmt, name, events, secret=None, url_secret=None, person=None):
        """Registers a robot endpoint; url_secret is what the fake robot expects (default: secret)."""
        if fmt == "wecom":
            url = self.robots.wecom_url(name)
        else:
            url = self.robots.dingtalk_url(name, url_secret or secret)
        body = {"url": url, "events": events, "format": fmt}
        if secret is not None:
            body["secret"] = secret
        if person is not None:
            body["person"] = person
        return self.ok(self.srv.post("/api/v1/webhooks", body), 201, "robot webhook")

    def posted(self, name, count, timeout=15, settle=0.5):
        """Exactly count messages posted (errcode 0) to robot name; none with problems."""
        self.robots.wait_for(name, count, timeout, delivered=True)
        time.sleep(settle)
        msgs = self.robots.delivered(name)
        self.assertEqual(len(msgs), count, msgs)
        for m in msgs:
            self.assertEqual(m.problems, [], m)
        return msgs

    def org(self):
        """A leader, a secretary, a driver and a car, with names unique to the test."""
        n = next_id()
        leader = self.person("leader", name="王局长%d" % n, rank=1)
        secretary = self.person("secretary", name="李秘书%d" % n)
        driver = self.person("driver", name="张师傅%d" % n)
        car = self.ok(self.srv.post("/api/v1/vehicles", {"name": "红旗H5-%d" % n,
                                                         "plate": "京A%05d" % n, "seats": 4}),
                      201, "vehicle")
        return leader, secretary, driver, car


_ids = iter(range(1, 10 ** 6))


def next_id():
    return next(_ids)


class Registration(ChannelBase):

    def test_formats_and_secrets(self):
        srv = self.srv
        url = self.robots.dingtalk_url("reg")
        w = self.robot("wecom", "reg-w", ["dispatch.*"])
        self.assertEqual(w["format"], "wecom")
        self.assertNotIn("secret", w, "a robot has no signing secret to show")
        d = self.robot("dingtalk", "reg", ["dispatch.*"], secret=SECRET)
        self.assertEqual((d["format"], d["signed"]), ("dingtalk", True))
        self.assertNotIn("secret", d, "the 加签 secret is never shown back")
        u = self.ok(srv.post("/api/v1/webhooks", {"url": url, "events": ["*"],
                                                  "format": "dingtalk"}), 201, "unsigned")
        self.assertEqual(u["signed"], False)
        s = self.ok(srv.post("/api/v1/webhooks", {"url": url, "events": ["*"]}), 201, "standard")
        self.assertEqual(s["format"], "standard")
        self.assertTrue(s["secret"].startswith("whsec_"))
        got = self.ok(srv.get("/api/v1/webhooks/%s" % d["id"]), 200, "get")
        self.assertEqual((got["format"], got["signed"]), ("dingtalk", True))
        self.assertNotIn("secret", got)

        bad = [
            ({"format": "slack"}, 422, "invalid", "format"),
            ({"format": 3}, 400, "wrong_type", "format"),
            ({"format": "wecom", "secret": SECRET}, 422, "invalid", "secret"),
            ({"secret": SECRET}, 422, "invalid", "secret"),          # standard
            ({"format": "dingtalk", "secret": "whsec_abc"}, 422, "invalid", "secret"),
            ({"format": "dingtalk", "secret": "SEC1"}, 422, "invalid", "secret"),
            ({"format": "dingtalk", "secret": "SEC12345\n6789"}, 422, "invalid", "secret"),
            ({"format": "dingtalk", "secret": 12}, 400, "wrong_type", "secret"),
            ({"format": "dingtalk", "secrets": SECRET}, 400, "unknown_field", "secrets"),
        ]
        before = len(srv.get("/api/v1/webhooks").json)
        for extra, status, code, field in bad:
            body = {"url": url, "events": ["*"]}
            body.update(extra)
            r = srv.post("/api/v1/webhooks", body)
            self.assertEqual((r.status, r.code, r.field), (status, code, field), (extra, r))
        self.assertEqual(len(srv.get("/api/v1/webhooks").json), before, "a refusal wrote nothing")

        # The format is fixed; the DingTalk secret can change (重置 in DingTalk) or go.
        r = srv.patch("/api/v1/webhooks/%s" % d["id"], {"format": "wecom"})
        self.assertEqual((r.status, r.code, r.field), (422, "immutable", "format"), r)
        r = srv.patch("/api/v1/webhooks/%s" % d["id"], {"format": "dingtalk"})
        self.assertEqual(r.status, 200, "the same format is no change")
        r = srv.patch("/api/v1/webhooks/%s" % w["id"], {"secret": SECRET})
        self.assertEqual((r.status, r.field), (422, "secret"), r)
        r = srv.patch("/api/v1/webhooks/%s" % u["id"], {"secret": SECRET})
        self.assertEqual((r.status, r.json["signed"]), (200, True), r)
        r = srv.patch("/api/v1/webhooks/%s" % u["id"], {"secret": None})
        self.assertEqual((r.status, r.json["signed"]), (200, False), r)
        r = srv.post("/api/v1/webhooks/%s/rotate-secret" % d["id"])
        self.assertEqual((r.status, r.field), (422, "format"), r)

        # Sealed at rest like signing secrets: the database alone does not reveal it.
        rows = srv.sql("SELECT format, secret FROM webhooks WHERE id = ?", (d["id"],))
        self.assertEqual(rows[0][0], "dingtalk")
        self.assertTrue(rows[0][1].startswith("enc1:"), rows)
        self.assertNotIn(SECRET[3:20], rows[0][1])
        rows = srv.sql("SELECT secret FROM webhooks WHERE id = ?", (w["id"],))
        self.assertEqual(rows[0][0], "", "a WeCom robot has no secret")


class Messages(ChannelBase):

    def trip_event(self, leader, secretary, driver, car, date, **extra):
        return self.event(at(date, "09:00"), at(date, "10:30"), [leader["id"], secretary["id"]],
                          trips=[self.trip(car["id"], driver["id"], at(date, "08:20"),
                                           at(date, "11:30"), passengers=[leader["id"]])],
                          meals=[{"meal": "lunch"}], location="三楼会议室", **extra)

    def test_every_type_reaches_both_robots(self):
        leader, secretary, driver, car = self.org()
        date = self.working_days(3, 1)[0]
        n = next_id()
        self.robot("wecom", "all-w%d" % n, ["*"])
        self.robot("dingtalk", "all-d%d" % n, ["*"], secret=SECRET)
        ev = self.trip_event(leader, secretary, driver, car, date, title="党组会")
        trip = dict(ev["trips"][0], depart=at(date, "08:10"))
        self.ok(self.srv.patch("/api/v1/events/%s" % ev["id"], {"trips": [trip]}), 200, "patch")
        self.assertEqual(self.srv.delete("/api/v1/events/%s" % ev["id"]).status, 204)
        # created, dispatch.assigned, catering (+4), updated, dispatch.updated, cancelled,
        # dispatch.cancelled, catering (-4)
        expected = ["会议通知", "派车通知", "用餐人数变更", "会议变更", "派车变更", "会议取消",
                    "派车取消", "用餐人数变更"]
        for name, fmt in (("all-w%d" % n, "wecom"), ("all-d%d" % n, "dingtalk")):
            msgs = self.posted(name, len(expected))
            self.assertEqual(sorted(m.headline for m in msgs), sorted(expected), name)
            by = {m.headline: m.markdown for m in msgs}
            weekday = "周" + "一二三四五六日"[__import__("datetime").date.fromisoformat(date).weekday()]
            month, dom = int(date[5:7]), int(date[8:10])
            self.assertIn("**日期**：%d月%d日（%s）" % (month, dom, weekday), by["派车通知"])
            self.assertIn("**出发**：08:20（返回 11:30）", by["派车通知"])
            self.assertIn("**路线**：机关大院 → 市政府", by["派车通知"])
            self.assertIn("**车辆**：%s（%s）" % (car["name"], car["plate"]), by["派车通知"])
            self.assertIn("**驾驶员**：%s" % driver["name"], by["派车通知"])
            self.assertIn("**乘车人**：%s" % leader["name"], by["派车通知"])
            self.assertIn("**会议**：党组会", by["派车通知"])
            self.assertIn("出发 08:20 → 08:10", by["派车变更"])
            self.assertIn("**原因**：会议取消", by["派车取消"])
            self.assertIn("**参加**：%s、%s" % (leader["name"], secretary["name"]), by["会议通知"])
            self.assertIn("**时间**：%d月%d日（%s）09:00–10:30" % (month, dom, weekday),
                          by["会议通知"])
            self.assertIn("**变更**：用车", by["会议变更"])
            self.assertIn("党组会 午餐 0 → 2 人", "\n".join(
                m.markdown for m in msgs if m.headline == "用餐人数变更"))
            if fmt == "dingtalk":
                for m in msgs:
                    self.assertIn(m.title, expected)
                    self.assertLess(abs(m.skew_s), 5, "the timestamp is made at send time")
                    self.assertNotIn("\n**", m.markdown.replace("\n\n**", ""),
                                     "DingTalk lines are paragraphs")

    def test_reminder_once_per_group_and_confidential_never_shown(self):
        leader, secretary, driver, car = self.org()
        n = next_id()
        group = self.robot("wecom", "grp%d" % n, ["reminder.due"])
        mine = self.robot("dingtalk", "mine%d" % n, ["reminder.due"], person=leader["id"])
        std_path = self.unique_path("std")
        self.webhook(std_path, ["reminder.due"])
        t0 = time.time() + 3
        self.event(local(t0), local(t0 + 3600), [leader["id"], secretary["id"], driver["id"]],
                   reminders=[0], title="公开会议%d" % n, location="二楼")
        group_msgs = self.posted("grp%d" % n, 1)
        self.assertEqual(group_msgs[0].headline, "会议提醒")
        self.assertIn("**提醒**：现在开始", group_msgs[0].markdown)
        self.assertIn("公开会议%d" % n, group_msgs[0].markdown)
        self.assertIn(secretary["name"], group_msgs[0].markdown)
        self.posted("mine%d" % n, 1)
        self.assertEqual(len(self.messages(std_path, 3)), 3, "a standard endpoint: one each")
        self.assertEqual(mine["person"], leader["id"])
        self.assertEqual(group["format"], "wecom")

    def test_confidential(self):
        leader, secretary, driver, car = self.org()
        date = self.working_days(3, 1)[0]
        n = next_id()
        self.robot("wecom", "conf%d" % n, ["*"])
        self.robot("dingtalk", "conf-d%d" % n, ["dispatch.*", "reminder.due"])
        title = "机密议题%d" % n
        t0 = time.time() + 3
        self.event(local(t0), local(t0 + 3600), [leader["id"]], reminders=[0], title=title,
                   confidential=True, location="秘密地点%d" % n)
        self.trip_event(leader, secretary, driver, car, date, title=title, confidential=True)
        msgs = self.posted("conf%d" % n, 5, timeout=20)   # 2 created, reminder, assigned, meals
        msgs += self.posted("conf-d%d" % n, 2, timeout=20)
        heads = sorted(m.headline for m in msgs)
        self.assertEqual(heads.count("会议提醒"), 2, heads)
        self.assertEqual(heads.count("派车通知"), 2, heads)
        for m in msgs:
            for secret in (title, "秘密地点", leader["name"], secretary["name"], "三楼会议室"):
                self.assertNotIn(secret, m.markdown, m.markdown)
        ding = [m for m in msgs if m.headline == "派车通知"][0].markdown
        self.assertIn(driver["name"], ding, "the driver still learns where and when")
        self.assertIn("机关大院 → 市政府", ding)

    def test_person_filter(self):
        leader, secretary, driver, car = self.org()
        other = self.person("driver", name="赵师傅%d" % next_id())
        date = self.working_days(3, 1)[0]
        n = next_id()
        self.robot("wecom", "drv%d" % n, ["dispatch.*"], person=driver["id"])
        self.robot("wecom", "oth%d" % n, ["dispatch.*"], person=other["id"])
        self.trip_event(leader, secretary, driver, car, date)
        self.posted("drv%d" % n, 1)
        time.sleep(0.5)
        self.assertEqual(self.robots.received("oth%d" % n), [])


class Failures(ChannelBase):

    def test_retries_on_errcodes_and_http_errors(self):
        n = next_id()
        names = {"wecom": "rw%d" % n, "dingtalk": "rd%d" % n, "bad": "rb%d" % n}
        self.robots.script(names["wecom"], 45009, {"http": 500})
        self.robots.script(names["dingtalk"], 130101, 310000)
        w = self.robot("wecom", names["wecom"], ["event.created"])
        d = self.robot("dingtalk", names["dingtalk"], ["event.created"], secret=SECRET)
        # Registered with a secret the robot does not have: every attempt is refused.
        b = self.robot("dingtalk", names["bad"], ["event.created"], secret=SECRET[:-1] + "X",
                       url_secret=SECRET)
        before = self.srv.metrics()
        date = self.working_days(3, 1)[0]
        self.event(at(date, "15:00"), at(date, "16:00"), title="重试测试")
        for key in ("wecom", "dingtalk"):
            reqs = self.robots.wait_for(names[key], 3, timeout=15)
            self.assertEqual([m.errcode for m in reqs][:3],
                             {"wecom": [45009, None, 0], "dingtalk": [130101, 310000, 0]}[key])
            self.assertEqual(len({m.body for m in reqs}), 1, "a retry sends the same message")
        bad = self.robots.wait_for(names["bad"], 3, timeout=15)
        self.assertTrue(all(m.errcode == 310000 for m in bad))
        self.assertTrue(all("sign" in p for m in bad for p in m.problems))

        def log(hook):
            return self.srv.get("/api/v1/webhooks/%s/deliveries" % hook["id"]).json
        for hook, status in ((b, "failed"), (w, "delivered"), (d, "delivered")):
            wait_until(lambda: log(hook)[0]["status"] == status, timeout=10)
        self.assertEqual(log(b)[0]["attempts"], 3)
        self.assertIn("310000", log(b)[0]["last_error"])
        self.assertEqual((log(w)[0]["status"], log(w)[0]["attempts"]), ("delivered", 3))
        self.assertEqual((log(d)[0]["status"], log(d)[0]["attempts"]), ("delivered", 3))
        after = self.srv.metrics()

        def grew(fmt, reason):
            name = "convene_channel_refusals_total"
            return (metric(after, name, format=fmt, reason=reason)
                    - metric(before, name, format=fmt, reason=reason))
        self.assertEqual(grew("wecom", "rate_limited"), 1)
        self.assertEqual(grew("wecom", "http_status"), 1)
        self.assertEqual(grew("dingtalk", "rate_limited"), 1)
        self.assertEqual(grew("dingtalk", "bad_sign"), 4)  # 1 scripted + 3 with the wrong secret


class Pace(ChannelBase):

    def test_burst_is_paced_never_dropped_and_others_not_held_up(self):
        n = next_id()
        name = "burst%d" % n
        self.robots.limit(name, RATE, WINDOW)   # the robot refuses what the pace lets through
        self.robot("wecom", name, ["event.created"])
        # A second endpoint on the same robot URL shares its limit.
        self.robot("wecom", name, ["event.cancelled"])
        std_path = self.unique_path("std")
        self.webhook(std_path, ["event.created"])
        before = self.srv.metrics()
        date = self.working_days(3, 1)[0]
        sent = time.time()
        ids = []
        for i in range(40):
            start = "%02d:%02d" % (8 + i // 6, (i % 6) * 10)
            ids.append(self.event(at(date, start), at(date, start[:3] + "%02d" % ((i % 6) * 10 + 5)),
                                  title="批量%d-%d" % (n, i))["id"])
        for i in range(5):
            self.assertEqual(self.srv.delete("/api/v1/events/%s" % ids[i]).status, 204)
        # The standard endpoint gets its 40 at once, not after the robot's minutes.
        std = self.messages(std_path, 40, timeout=10,
                            where=lambda m: m["data"]["event"]["title"].startswith("批量%d-" % n))
        self.assertEqual(len(std), 40)
        std_done = max(r.arrived for r in self.rx.received(std_path))
        self.assertLess(std_done - sent, 3 * WINDOW)
        # The queue of the robot is visible while it waits.
        depth = metric(self.srv.metrics(), "convene_channel_queue_depth", format="wecom")
        self.assertGreater(depth, 0)

        msgs = self.posted(name, 45, timeout=30)
        arrivals = sorted(m.arrived_mono for m in msgs)
        worst = max(sum(1 for t in arrivals if a <= t < a + WINDOW) for a in arrivals)
        self.assertLessEqual(worst, RATE, "at most %d in any %.0f s" % (RATE, WINDOW))
        self.assertEqual(worst, RATE, "the pace lets a full window through")
        span = arrivals[-1] - arrivals[0]
        self.assertGreaterEqual(span, 2 * WINDOW, "45 messages need three windows")
        self.assertLess(span, 2 * WINDOW + 3, "and not much more")
        self.assertEqual([m for m in self.robots.received(name) if m.errcode != 0], [],
                         "the robot never had to refuse one")
        titles = sorted(m.markdown.split("**会议**：")[1].split("\n")[0] for m in msgs)
        self.assertEqual(len(set(titles)), 40, "each meeting once (the 5 cancelled twice)")
        print("\nburst of 45 to one robot (%d per %.0f s): first to last %.2f s, worst window %d"
              % (RATE, WINDOW, span, worst))
        after = self.srv.metrics()
        wait_until(lambda: metric(self.srv.metrics(), "convene_channel_queue_depth",
                                  format="wecom") == 0, timeout=5)
        self.assertGreater(metric(after, "convene_channel_paced_total", format="wecom")
                           - metric(before, "convene_channel_paced_total", format="wecom"), 0)
        self.assertEqual(metric(after, "convene_channel_requests_total", format="wecom")
                         - metric(before, "convene_channel_requests_total", format="wecom"), 45)
        self.assertEqual(metric(after, "convene_channel_refusals_total", format="wecom",
                                reason="rate_limited"), 0)


class PaceMovesEachOnce(ChannelBase):

    def test_a_burst_is_moved_once_and_read_in_order(self):
        """A burst waiting for its robot: each message is given its own turn once (it used to
        be moved again at every free slot: n(n+1)/2 row writes), and the group reads the
        messages in the order they were made."""
        n = next_id()
        name = "once%d" % n
        count = 3 * RATE
        self.robots.limit(name, RATE, WINDOW)
        self.robot("wecom", name, ["event.created"])
        before = self.srv.metrics()
        date = self.working_days(4, 1)[0]
        for i in range(count):
            start = "%02d:%02d" % (7 + i // 6, (i % 6) * 10)
            self.event(at(date, start), at(date, start[:3] + "%02d" % ((i % 6) * 10 + 5)),
                       title="顺序%d-%02d" % (n, i))
        msgs = self.posted(name, count, timeout=30)
        titles = [m.markdown.split("**会议**：")[1].split("\n")[0] for m in
                  sorted(msgs, key=lambda m: m.arrived_mono)]
        self.assertEqual(titles, ["顺序%d-%02d" % (n, i) for i in range(count)])
        self.assertEqual([m for m in self.robots.received(name) if m.errcode != 0], [])
        moved = (metric(self.srv.metrics(), "convene_channel_paced_total", format="wecom")
                 - metric(before, "convene_channel_paced_total", format="wecom"))
        waited = count - RATE
        print("\n%d messages, %d waited their turn: %d moves" % (count, waited, moved))
        self.assertGreaterEqual(moved, waited)
        self.assertLessEqual(moved, waited + RATE, "each waiting message moved about once")


class Crash(ChannelBase):

    def test_waiting_messages_survive_kill_9(self):
        """Messages waiting for a robot's pace are rows in the table: a crash loses none, and
        after the restart they still wait their turn (the robot would refuse them earlier)."""
        n = next_id()
        name = "crash%d" % n
        self.robots.limit(name, RATE, WINDOW)
        self.robot("dingtalk", name, ["event.created"], secret=SECRET)
        date = self.working_days(3, 1)[0]
        for i in range(RATE + 6):
            start = "%02d:%02d" % (8 + i // 6, (i % 6) * 10)
            self.event(at(date, start), at(date, start[:3] + "%02d" % ((i % 6) * 10 + 5)),
                       title="崩溃%d-%d" % (n, i))
        self.robots.wait_for(name, RATE, timeout=10, delivered=True)
        # Answers are recorded within 10 ms; one killed before that is sent again (at least
        # once). Here the point is the waiting ones: kill after the answers are written.
        wait_until(lambda: self.srv.sql("SELECT count(*) FROM deliveries WHERE status = "
                                        "'delivered'")[0][0] == RATE, timeout=5)
        wait_until(lambda: self.srv.sql(
            "SELECT count(*) FROM deliveries WHERE status = 'pending' AND next_attempt > ?",
            (int(time.time() * 1000),))[0][0] > 0, timeout=5, what="rows waiting their turn")
        self.srv.kill()
        self.srv.start()
        msgs = self.posted(name, RATE + 6, timeout=4 * WINDOW)
        self.assertEqual(len({m.markdown for m in msgs}), RATE + 6)
        self.assertEqual([m for m in self.robots.received(name) if m.errcode != 0], [],
                         "the restart did not send before the robot's window freed")


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
