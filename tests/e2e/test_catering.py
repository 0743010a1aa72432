#!/usr/bin/env python3
"""Meals (统一订餐, CONTRACT section 6, issue 6) against the real binary and a real webhook
receiver.

Covered: counts per meal (attendees who have not declined plus guests, or a fixed count), the
breakdown by the people's diet, a confidential meeting's title kept from the canteen, the day
a meal belongs to (serving times: an overnight meeting has breakfast the next morning), the
range form and the CSV spreadsheet, catering.updated with the day's new totals and the delta
of the event that changed (and nothing when the totals did not move), and changes after a
meal's cutoff: applied, flagged late in the counts and the webhook, and kept visible at 0
when the meeting goes away. A person's new diet re-counts their meals from today on (past days
keep their breakdown) and is written in the events' audit trails; deleting a person takes them
out of the meetings ahead, whose meals drop, and leaves past meetings as they were.

Run: python3 tests/e2e/test_catering.py   (CONVENE_BIN=build/convene)
"""

import csv
import io
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dispatch_support import DispatchBase, at, day, next_day  # noqa: E402
from harness import main  # noqa: E402


class CateringBase(DispatchBase):

    def setUp(self):
        self.halal = self.person("leader", name="马局长", diet="halal", rank=1)["id"]
        self.veg = self.person("staff", name="素食者", diet="vegetarian")["id"]
        self.plain = self.person("staff", name="科员甲")["id"]
        self.other = self.person("staff", name="科员乙")["id"]

    def entry(self, date, meal, event_id):
        m = self.meal(date, meal)
        for e in (m or {}).get("events", []):
            if e["event"] == event_id:
                return e
        return None


class CateringTest(CateringBase):

    def test_counts_diets_and_the_day_summary(self):
        d = day(40)
        a = self.event(at(d, "09:00"), at(d, "11:00"), [self.halal, self.veg, self.plain],
                       guests=2, title="预算会", meals=[{"meal": "lunch"}])
        b = self.srv.post("/api/v1/events", {
            "title": "接待", "start": at(d, "11:00"), "end": at(d, "19:00"),
            "attendees": [{"person": self.other},
                          {"person": self.plain, "response": "declined"}],
            "meals": [{"meal": "dinner", "count": 10}, {"meal": "lunch"}]}).json
        c = self.event(at(d, "11:00"), at(d, "12:30"), [self.halal], title="机密会",
                       confidential=True, meals=[{"meal": "lunch"}])
        summary = self.catering(d)
        self.assertEqual(summary["date"], d)
        self.assertEqual([m["meal"] for m in summary["meals"]], ["lunch", "dinner"])
        lunch, dinner = summary["meals"]
        self.assertEqual(lunch["total"], 5 + 1 + 1)
        self.assertEqual(lunch["diets"], {"halal": 2, "vegetarian": 1, "regular": 4})
        self.assertFalse(lunch["late"])
        counts = {e["event"]: (e["count"], e["title"]) for e in lunch["events"]}
        self.assertEqual(counts, {a["id"]: (5, "预算会"), b["id"]: (1, "接待"),
                                  c["id"]: (1, None)})
        self.assertEqual((dinner["total"], dinner["diets"]), (10, {"regular": 10}))
        self.assertEqual([(e["event"], e["count"]) for e in dinner["events"]], [(b["id"], 10)])
        # A fixed count smaller than the special diets still adds up.
        e = self.event(at(d, "17:00"), at(d, "19:00"), [self.halal, self.veg],
                       meals=[{"meal": "dinner", "count": 1}])
        got = self.entry(d, "dinner", e["id"])
        self.assertEqual(got["count"], 1)
        self.assertEqual(sum(got["diets"].values()), 1)
        # An unknown meal is refused.
        r = self.srv.post("/api/v1/events", {"title": "x", "start": at(d, "15:00"),
                                             "end": at(d, "16:00"), "meals": [{"meal": "tea"}]})
        self.assertEqual((r.status, r.code), (422, "invalid"), r)

    def test_the_day_a_meal_belongs_to(self):
        d = day(41)
        nd = next_day(d)
        night = self.event(at(d, "20:00"), at(nd, "09:00"), [self.plain],
                           meals=[{"meal": "breakfast"}, {"meal": "dinner"}])
        self.assertIsNotNone(self.entry(nd, "breakfast", night["id"]))
        self.assertIsNone(self.entry(d, "breakfast", night["id"]))
        self.assertIsNotNone(self.entry(d, "dinner", night["id"]))
        morning = self.event(at(d, "09:00"), at(d, "11:00"), [self.plain],
                             meals=[{"meal": "lunch"}])
        self.assertIsNotNone(self.entry(d, "lunch", morning["id"]))
        # A recurring meeting eats on each of its days.
        weekly = self.event(at(d, "12:00"), at(d, "13:00"), [self.veg],
                            rrule="FREQ=WEEKLY;COUNT=2", meals=[{"meal": "lunch"}])
        self.assertEqual(self.entry(next_day(d, 7), "lunch", weekly["id"])["recurrence_id"],
                         at(next_day(d, 7), "12:00"))

    def test_range_and_csv(self):
        d = day(43)
        d2 = next_day(d, 2)
        a = self.event(at(d, "11:00"), at(d, "13:00"), [self.halal, self.plain],
                       title='会议, "引号"', meals=[{"meal": "lunch"}])
        b = self.event(at(d2, "17:00"), at(d2, "19:00"), [self.veg], title="=HYPERLINK(1)",
                       meals=[{"meal": "dinner"}])
        r = self.ok(self.srv.get("/api/v1/catering?from=%s&to=%s" % (d, d2)), 200, "range")
        self.assertEqual((r["from"], r["to"]), (d, d2))
        self.assertEqual([x["date"] for x in r["days"]], [d, next_day(d), d2])
        self.assertEqual([m["meal"] for m in r["days"][0]["meals"]], ["lunch"])
        self.assertEqual(r["days"][1]["meals"], [])
        self.assertEqual(r["days"][2]["meals"][0]["events"][0]["event"], b["id"])

        res = self.srv.get("/api/v1/catering?from=%s&to=%s" % (d, d2),
                           headers={"Accept": "text/csv"})
        self.assertEqual(res.status, 200, res)
        self.assertTrue(res.header("Content-Type").startswith("text/csv"))
        self.assertIn("catering-%s_%s.csv" % (d, d2), res.header("Content-Disposition"))
        rows = list(csv.reader(io.StringIO(res.raw.decode("utf-8-sig"))))
        self.assertEqual(rows[0][:7], ["date", "meal", "event", "start", "title", "count", "late"])
        diets = rows[0][7:]
        self.assertEqual(sorted(diets), diets)
        self.assertTrue({"halal", "regular", "vegetarian"} <= set(diets))
        body = [dict(zip(rows[0], row)) for row in rows[1:]]
        lines = [(x["date"], x["meal"], x["event"], x["title"], x["count"]) for x in body]
        self.assertIn((d, "lunch", a["id"], '会议, "引号"', "2"), lines)
        self.assertIn((d, "lunch", "", "total", "2"), lines)
        self.assertIn((d2, "dinner", b["id"], "'=HYPERLINK(1)", "1"), lines)
        total = [x for x in body if x["date"] == d and x["event"] == ""][0]
        self.assertEqual((total["halal"], total["regular"], total["vegetarian"]), ("1", "1", "0"))
        self.assertEqual(self.srv.get("/api/v1/catering?date=%s&format=csv" % d).raw[:3],
                         b"\xef\xbb\xbf")

    def test_bad_requests_and_rights(self):
        self.assertEqual(self.srv.get("/api/v1/catering").status, 422)
        self.assertEqual(self.srv.get("/api/v1/catering?date=2026-02-30").status, 422)
        self.assertEqual(self.srv.get("/api/v1/catering?from=%s&to=%s"
                                      % (day(5), day(4))).status, 422)
        self.assertEqual(self.srv.get("/api/v1/catering?from=%s&to=%s"
                                      % (day(5), day(200))).status, 422)
        driver = self.person("driver")["id"]
        r = self.srv.get("/api/v1/catering?date=%s" % day(5), token=self.token("driver", driver))
        self.assertEqual(r.status, 403)
        sec = self.person("secretary")["id"]
        r = self.srv.get("/api/v1/catering?date=%s" % day(5), token=self.token("secretary", sec))
        self.assertEqual(r.status, 200)

    def test_updates_carry_totals_and_the_delta(self):
        d = day(50)
        canteen = self.unique_path("canteen")
        self.webhook(canteen, ["catering.updated"])
        ours = lambda m: m["data"]["date"] == d  # noqa: E731

        a = self.event(at(d, "09:00"), at(d, "11:00"), [self.halal, self.veg, self.plain],
                       title="A", meals=[{"meal": "lunch"}])
        [m] = self.messages(canteen, 1, where=ours)
        self.assertEqual(m["data"]["meals"],
                         [{"meal": "lunch", "total": 3, "late": False,
                           "diets": {"halal": 1, "vegetarian": 1, "regular": 1}}])
        self.assertEqual(m["data"]["changes"],
                         [{"event": a["id"], "recurrence_id": at(d, "09:00"), "meal": "lunch",
                           "old": 0, "new": 3, "delta": 3, "late": False, "title": "A"}])
        self.assertFalse(m["data"]["late"])

        b = self.event(at(d, "10:00"), at(d, "12:00"), [self.other], guests=1, title="B",
                       meals=[{"meal": "lunch"}])
        [m] = self.new_messages(canteen, 1, 1, where=ours)
        self.assertEqual(m["data"]["meals"][0]["total"], 5)
        self.assertEqual([(c["event"], c["delta"]) for c in m["data"]["changes"]], [(b["id"], 2)])

        self.ok(self.srv.post("/api/v1/events/%s/rsvp" % a["id"],
                              {"person": self.veg, "response": "declined"}), 200, "decline")
        [m] = self.new_messages(canteen, 2, 1, where=ours)
        self.assertEqual(m["data"]["meals"][0]["total"], 4)
        self.assertEqual(m["data"]["meals"][0]["diets"], {"halal": 1, "regular": 3})
        self.assertEqual([(c["event"], c["old"], c["new"]) for c in m["data"]["changes"]],
                         [(a["id"], 3, 2)])

        # No change of the totals, no message: a new title, a move within the day.
        self.ok(self.srv.patch("/api/v1/events/%s" % a["id"], {"title": "A2"}), 200, "title")
        self.ok(self.srv.patch("/api/v1/events/%s" % a["id"],
                               {"start": at(d, "09:30"), "end": at(d, "11:30")}), 200, "move")
        self.messages(canteen, 3, where=ours)
        self.assertEqual(self.entry(d, "lunch", a["id"])["title"], "A2")

        self.ok(self.srv.patch("/api/v1/events/%s" % b["id"], {"guests": 4}), 200, "guests")
        [m] = self.new_messages(canteen, 3, 1, where=ours)
        self.assertEqual((m["data"]["meals"][0]["total"], m["data"]["changes"][0]["delta"]),
                         (7, 3))
        self.assertEqual(self.srv.delete("/api/v1/events/%s" % b["id"]).status, 204)
        [m] = self.new_messages(canteen, 4, 1, where=ours)
        self.assertEqual(m["data"]["meals"][0]["total"], 2)
        self.assertEqual(m["data"]["changes"][0]["new"], 0)
        self.assertIsNone(self.entry(d, "lunch", b["id"]))

    def test_confidential_title_stays_out_of_messages(self):
        d = day(52)
        canteen = self.unique_path("canteen")
        self.webhook(canteen, ["catering.updated"])
        self.event(at(d, "11:00"), at(d, "13:00"), [self.halal], title="人事秘密",
                   confidential=True, meals=[{"meal": "lunch"}])
        [m] = self.messages(canteen, 1, where=lambda m: m["data"]["date"] == d)
        self.assertNotIn("title", m["data"]["changes"][0])
        self.assertNotIn("人事秘密", str(m))

    def test_a_new_diet_reaches_the_counts(self):
        d, past = day(54), day(-2)
        canteen = self.unique_path("canteen")
        self.webhook(canteen, ["catering.updated"])
        ours = lambda m: m["data"]["date"] == d  # noqa: E731
        e = self.event(at(d, "11:00"), at(d, "13:00"), [self.plain, self.other],
                       meals=[{"meal": "lunch"}])
        held = self.event(at(past, "11:00"), at(past, "13:00"), [self.plain],
                          meals=[{"meal": "lunch"}])
        self.messages(canteen, 1, where=ours)
        r = self.srv.patch("/api/v1/people/%s" % self.plain, {"diet": "halal"})
        self.ok(r, 200, "diet")
        self.assertEqual(self.entry(d, "lunch", e["id"])["diets"], {"halal": 1, "regular": 1})
        [m] = self.new_messages(canteen, 1, 1, where=ours)
        self.assertEqual(m["data"]["meals"][0]["diets"], {"halal": 1, "regular": 1})
        self.assertEqual(m["data"]["changes"][0]["delta"], 0)
        # A meal already served keeps the breakdown it was served with.
        self.assertEqual(self.entry(past, "lunch", held["id"])["diets"], {"regular": 1})
        # The event's audit trail says why its counts moved, and by whom.
        h = self.ok(self.srv.get("/api/v1/events/%s/history" % e["id"]), 200, "history")[-1]
        self.assertEqual(h["action"], "meals_recounted")
        self.assertIsNotNone(h["actor"]["token"])
        self.assertEqual((h["after"]["reason"], h["after"]["person"]),
                         ("diet_changed", self.plain))
        self.assertEqual([(x["day"], x["meal"], x["count"], x["diets"])
                          for x in h["before"]["meals"]], [(d, "lunch", 2, {"regular": 2})])
        self.assertEqual([(x["day"], x["meal"], x["count"], x["diets"])
                          for x in h["after"]["meals"]],
                         [(d, "lunch", 2, {"halal": 1, "regular": 1})])
        history = self.ok(self.srv.get("/api/v1/events/%s/history" % held["id"]), 200, "h")
        self.assertEqual([x["action"] for x in history], ["created"])
        # Another change of the person (a phone number) changes no count and writes no entry.
        self.ok(self.srv.patch("/api/v1/people/%s" % self.plain, {"phone": "110"}), 200, "phone")
        self.messages(canteen, 2, where=ours)
        # The same diet again: nothing moves either.
        self.ok(self.srv.patch("/api/v1/people/%s" % self.plain, {"diet": "halal"}), 200, "same")
        self.messages(canteen, 2, where=ours)
        history = self.ok(self.srv.get("/api/v1/events/%s/history" % e["id"]), 200, "h")
        self.assertEqual([x["action"] for x in history], ["created", "meals_recounted"])

    def test_deleting_a_person_drops_their_meals(self):
        d, past = day(56), day(-2)
        canteen = self.unique_path("canteen")
        self.webhook(canteen, ["catering.updated"])
        ours = lambda m: m["data"]["date"] == d  # noqa: E731
        e = self.event(at(d, "11:00"), at(d, "13:00"), [self.halal, self.plain, self.other],
                       meals=[{"meal": "lunch"}])
        held = self.event(at(past, "11:00"), at(past, "13:00"), [self.halal, self.other],
                          meals=[{"meal": "lunch"}])
        self.messages(canteen, 1, where=ours)
        self.assertEqual(self.srv.delete("/api/v1/people/%s" % self.halal).status, 204)
        self.assertEqual(self.srv.get("/api/v1/people/%s" % self.halal).status, 404)

        # The meeting ahead lost the person: one lunch fewer, the halal one.
        got = self.entry(d, "lunch", e["id"])
        self.assertEqual((got["count"], got["diets"]), (2, {"regular": 2}))
        [m] = self.new_messages(canteen, 1, 1, where=ours)
        self.assertEqual(m["data"]["meals"][0]["diets"], {"regular": 2})
        self.assertEqual([(c["event"], c["old"], c["new"], c["delta"])
                          for c in m["data"]["changes"]], [(e["id"], 3, 2, -1)])
        ev = self.ok(self.srv.get("/api/v1/events/%s" % e["id"]), 200, "event")
        self.assertEqual([a["person"] for a in ev["attendees"]], [self.plain, self.other])
        self.assertEqual(ev["sequence"], e["sequence"] + 1)
        h = self.ok(self.srv.get("/api/v1/events/%s/history" % e["id"]), 200, "history")[-1]
        self.assertEqual(h["action"], "updated")
        self.assertIn(self.halal, [a["person"] for a in h["before"]["attendees"]])
        # The meeting stays editable, and the others still answer.
        self.ok(self.srv.patch("/api/v1/events/%s" % e["id"], {"guests": 1}), 200, "patch")
        self.ok(self.srv.post("/api/v1/events/%s/rsvp" % e["id"],
                              {"person": self.other, "response": "declined"}), 200, "rsvp")
        self.assertEqual(self.entry(d, "lunch", e["id"])["count"], 2)

        # A meeting held before is a record: the person stays in it, and so do the meals.
        ev = self.ok(self.srv.get("/api/v1/events/%s" % held["id"]), 200, "held")
        self.assertEqual([a["person"] for a in ev["attendees"]], [self.halal, self.other])
        got = self.entry(past, "lunch", held["id"])
        self.assertEqual((got["count"], got["diets"]), (2, {"halal": 1, "regular": 1}))

    def test_past_days_are_records(self):
        canteen = self.unique_path("canteen")
        self.webhook(canteen, ["catering.updated"])
        d = day(-3)
        e = self.event(at(d, "11:00"), at(d, "13:00"), [self.plain], meals=[{"meal": "lunch"}])
        self.assertEqual(self.entry(d, "lunch", e["id"])["count"], 1)
        self.messages(canteen, 0, where=lambda m: m["data"]["date"] == d)


class LateTest(CateringBase):
    """Cutoffs that make lunch two days ahead already late, and dinner not yet."""

    SERVER_ARGS = ["--retry-schedule", "1,1",
                   "--cutoff", "breakfast=-1d18:00,lunch=-3d10:00,dinner=-1d18:00"]

    def test_change_after_cutoff_applies_and_is_flagged(self):
        d = day(2)
        canteen = self.unique_path("canteen")
        self.webhook(canteen, ["catering.updated"])
        ours = lambda m: m["data"]["date"] == d  # noqa: E731
        ev = self.event(at(d, "11:00"), at(d, "19:00"), [self.halal, self.plain],
                        meals=[{"meal": "lunch"}, {"meal": "dinner"}])
        lunch, dinner = self.meal(d, "lunch"), self.meal(d, "dinner")
        self.assertEqual((lunch["total"], lunch["late"]), (2, True))
        self.assertEqual((dinner["total"], dinner["late"]), (2, False))
        self.assertTrue(self.entry(d, "lunch", ev["id"])["late"])
        [m] = self.messages(canteen, 1, where=ours)
        self.assertTrue(m["data"]["late"])
        flags = {c["meal"]: c["late"] for c in m["data"]["changes"]}
        self.assertEqual(flags, {"lunch": True, "dinner": False})
        self.assertEqual({x["meal"]: x["late"] for x in m["data"]["meals"]},
                         {"lunch": True, "dinner": False})

        # A late decline still counts.
        self.ok(self.srv.post("/api/v1/events/%s/rsvp" % ev["id"],
                              {"person": self.plain, "response": "declined"}), 200, "decline")
        self.assertEqual((self.meal(d, "lunch")["total"], self.meal(d, "lunch")["late"]), (1, True))
        self.assertEqual((self.meal(d, "dinner")["total"], self.meal(d, "dinner")["late"]),
                         (1, False))
        [m] = self.new_messages(canteen, 1, 1, where=ours)
        self.assertTrue(m["data"]["late"])

        # Cancelled after the cutoff: lunch stays listed at 0, flagged; dinner simply goes.
        self.assertEqual(self.srv.delete("/api/v1/events/%s" % ev["id"]).status, 204)
        lunch = self.meal(d, "lunch")
        self.assertEqual((lunch["total"], lunch["late"]), (0, True))
        self.assertEqual([(e["event"], e["count"], e["late"]) for e in lunch["events"]],
                         [(ev["id"], 0, True)])
        self.assertIsNone(self.entry(d, "dinner", ev["id"]))
        [m] = self.new_messages(canteen, 2, 1, where=ours)
        self.assertTrue(m["data"]["late"])
        self.assertEqual({c["meal"]: (c["new"], c["late"]) for c in m["data"]["changes"]},
                         {"lunch": (0, True), "dinner": (0, False)})

    def test_meals_come_from_the_cutoffs(self):
        r = self.srv.post("/api/v1/events", {"title": "x", "start": at(day(3), "11:00"),
                                             "end": at(day(3), "12:00"),
                                             "meals": [{"meal": "supper"}]})
        self.assertEqual((r.status, r.code, r.field), (422, "invalid", "meals[0].meal"), r)


if __name__ == "__main__":
    main()
