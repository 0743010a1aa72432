#!/usr/bin/env python3
"""Schema upgrades (issue 8, item 6): automatic, from every earlier version.

The migrations are read from the code itself: the C string literals of the
`migrations[]` array in src/store/migrate.c (comments skipped, adjacent
literals joined, escapes decoded), so this test follows every migration added
later without being edited.

A reference organisation is built through the API of the current binary
(people, a room with buffers, a vehicle, a block, a secretary token, single
and weekly meetings with an override, a cancelled occurrence, a trip,
reminders, a cancelled meeting, a webhook with delivered messages) and what
the API shows of it is recorded. Then for every schema version v from 0 (an
empty file) to the latest:
1. a database is built at exactly version v by applying migrations 1..v
   with python sqlite3, each in its own transaction with PRAGMA user_version,
   as the binary does;
2. the reference rows of every table that exists at v are inserted (only the
   columns the table has at v; meta keys that a later migration inserts are
   left to it), with the feed key file beside it: the rows that version held;
3. the current binary is started on it: it must migrate to the latest
   version (PRAGMA user_version), keep every row, and serve them as the
   reference did: resources, blocks, tokens, events, occurrences, history,
   feeds (the same VEVENTs), webhooks and their delivery log; conflicts with
   the stored block and meetings are still found (the occupancy index), the
   reminders still due are still there, and a new write works.
Finally a database whose user_version is newer than the binary is refused:
non-zero exit, a message naming both versions, and the file left byte for
byte unchanged (no WAL switch, no key file).

Run: python3 tests/e2e/test_migrations.py   (CONVENE_BIN=build/convene)
"""

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ADMIN_TOKEN, REPO, Server, find_binary, wait_until  # noqa: E402
from webhook_receiver import Receiver  # noqa: E402

MIGRATE_C = os.path.join(REPO, "src", "store", "migrate.c")
TZ = "Asia/Shanghai"
RANGE = ("2027-03-01", "2027-04-30")


# ---------------------------------------------------------------- the C source

def _c_string(text, i):
    """Decodes the C string literal starting at text[i] == '"'; returns (value, next index)."""
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0",
              "a": "\a", "b": "\b", "f": "\f", "v": "\v", "?": "?"}
    out = []
    i += 1
    while True:
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\n":
            raise ValueError("newline inside a C string literal")
        if c == "\\":
            n = text[i + 1]
            if n == "x":
                m = re.match(r"[0-9a-fA-F]+", text[i + 2:])
                out.append(chr(int(m.group(0), 16)))
                i += 2 + len(m.group(0))
                continue
            if n in "01234567":
                m = re.match(r"[0-7]{1,3}", text[i + 1:])
                out.append(chr(int(m.group(0), 8)))
                i += 1 + len(m.group(0))
                continue
            out.append(simple[n])
            i += 2
            continue
        out.append(c)
        i += 1


def parse_migrations(path=MIGRATE_C):
    """The SQL of each entry of `migrations[]` in migrate.c, in order."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"\bmigrations\s*\[\s*\]\s*=\s*\{", text)
    if m is None:
        raise AssertionError("no migrations[] array in %s" % path)
    i = m.end()
    entries, current = [], None
    while True:
        if text.startswith("/*", i):
            i = text.index("*/", i) + 2
        elif text.startswith("//", i):
            i = text.index("\n", i) + 1
        elif text[i].isspace():
            i += 1
        elif text[i] == '"':
            value, i = _c_string(text, i)
            current = (current or "") + value
        elif text[i] == ",":
            if current is None:
                raise AssertionError("empty entry in migrations[] at offset %d" % i)
            entries.append(current)
            current = None
            i += 1
        elif text[i] == "}":
            if current is not None:
                entries.append(current)
            return entries
        else:
            raise AssertionError("unexpected %r in migrations[] at offset %d: %r"
                                 % (text[i], i, text[i:i + 40]))


def build_database(path, migrations, version):
    """A database at exactly `version`: migrations 1..version, as store_migrate runs them."""
    open(path, "wb").close()  # version 0: an empty file
    con = sqlite3.connect(path, isolation_level=None)
    try:
        for v in range(version):
            con.executescript("BEGIN IMMEDIATE;\n%s;\nPRAGMA user_version=%d;\nCOMMIT;"
                              % (migrations[v], v + 1))
        assert con.execute("PRAGMA user_version").fetchone()[0] == version
    finally:
        con.close()


def tables_of(con, schema="main"):
    return [r[0] for r in con.execute(
        "SELECT name FROM %s.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%%' "
        "ORDER BY name" % schema)]


def columns_of(con, table, schema="main"):
    return [r[1] for r in con.execute("PRAGMA %s.table_info(%s)" % (schema, table))]


def later_meta_keys(migrations, version):
    """meta keys that migrations after `version` insert themselves."""
    keys = set()
    for sql in migrations[version:]:
        keys.update(re.findall(r"INSERT\s+INTO\s+meta\s*\([^)]*\)\s*VALUES\s*\(\s*'([^']+)'",
                               sql, re.I))
    return keys


def copy_rows(path, reference, migrations, version):
    """Inserts the reference rows of every table that exists at `version`."""
    con = sqlite3.connect(path, isolation_level=None)
    copied = {}
    try:
        con.execute("ATTACH DATABASE ? AS ref", ("file:%s?mode=ro" % reference,))
        ref_tables = set(tables_of(con, "ref"))
        con.execute("BEGIN")
        for table in tables_of(con):
            if table not in ref_tables:
                continue
            ref_cols = set(columns_of(con, table, "ref"))
            cols = [c for c in columns_of(con, table) if c in ref_cols]
            where = ""
            if table == "meta":
                skip = later_meta_keys(migrations, version)
                if skip:
                    where = " WHERE key NOT IN (%s)" % ",".join("'%s'" % k for k in skip)
            col_list = ", ".join('"%s"' % c for c in cols)
            cur = con.execute("INSERT OR REPLACE INTO main.%s(%s) SELECT %s FROM ref.%s%s"
                              % (table, col_list, col_list, table, where))
            copied[table] = cur.rowcount
        con.execute("COMMIT")
        con.execute("DETACH DATABASE ref")
    finally:
        con.close()
    return copied


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---------------------------------------------------------------- the reference

class Reference:
    """The organisation built through the API, and what the API showed of it."""

    def build(self, srv, rx):
        self.base = srv.base_url
        p = lambda body: srv.create("people", body)["id"]  # noqa: E731
        self.leader = p({"name": "王局长", "role": "leader", "rank": 1, "department": "办公室",
                         "phone": "13800000000", "diet": "halal"})
        self.staff = p({"name": "李秘书", "role": "secretary"})
        self.driver = p({"name": "张师傅", "role": "driver"})
        self.people = [self.leader, self.staff, self.driver]
        self.room = srv.create("rooms", {"name": "第一会议室", "capacity": 12,
                                         "features": ["video", "projector"], "location": "三楼",
                                         "setup_minutes": 15, "teardown_minutes": 10})["id"]
        self.vehicle = srv.create("vehicles", {"name": "考斯特", "plate": "京A12345",
                                               "seats": 7})["id"]
        self.block = srv.create("blocks", {"resource": {"type": "room", "id": self.room},
                                           "start": "2027-03-05T08:00:00",
                                           "end": "2027-03-05T18:00:00", "tz": TZ,
                                           "reason": "装修"})["id"]
        _, self.secretary_token = srv.create_token("secretary", "migration test")
        self.webhook = srv.create("webhooks", {"url": rx.url("/hook"),
                                               "events": ["event.*"]})["id"]
        weekly = srv.create("events", {
            "title": "党组会", "description": "议题：预算", "location": "三楼第一会议室",
            "start": "2027-03-01T09:00:00", "end": "2027-03-01T10:30:00", "tz": TZ,
            "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=6",
            "attendees": [{"person": self.leader}, {"person": self.staff, "optional": True}],
            "room": self.room, "reminders": [1440, 30], "meals": [{"meal": "lunch"}]})["id"]
        r = srv.patch("/api/v1/events/%s/occurrences/2027-03-15T09:00:00" % weekly,
                      {"start": "2027-03-15T14:00:00", "end": "2027-03-15T15:30:00"})
        assert r.status == 200, r
        r = srv.delete("/api/v1/events/%s/occurrences/2027-03-22T09:00:00" % weekly)
        assert r.status == 204, r
        trip = srv.create("events", {
            "title": "市政府汇报", "start": "2027-03-03T09:00:00", "end": "2027-03-03T11:00:00",
            "tz": TZ, "attendees": [{"person": self.leader}],
            "trips": [{"vehicle": self.vehicle, "driver": self.driver,
                       "depart": "2027-03-03T08:20:00", "return": "2027-03-03T11:40:00",
                       "from": "机关大院", "to": "市政府", "passengers": [self.leader]}]})["id"]
        secret = srv.create("events", {
            "title": "人事会", "start": "2027-03-04T15:00:00", "end": "2027-03-04T16:00:00",
            "tz": TZ, "attendees": [{"person": self.staff}], "room": self.room,
            "confidential": True})["id"]
        cancelled = srv.create("events", {
            "title": "取消的会", "start": "2027-03-02T09:00:00", "end": "2027-03-02T10:00:00",
            "tz": TZ, "attendees": [{"person": self.staff}]})["id"]
        assert srv.delete("/api/v1/events/" + cancelled).status == 204
        r = srv.post("/api/v1/events/%s/rsvp" % weekly,
                     {"person": self.staff, "response": "accepted"})
        assert r.status == 200, r
        self.events = [weekly, trip, secret, cancelled]
        self.weekly = weekly
        rx.wait_for("/hook", count=6, timeout=15)
        wait_until(lambda: srv.sql("SELECT count(*) FROM deliveries WHERE status != "
                                   "'delivered'")[0][0] == 0, 15, "every delivery done")
        # A year of holidays the office loaded itself (schema 8; test data, not a notice).
        r = srv.request("PUT", "/api/v1/workdays/2027", {
            "holidays": [{"name": "春节", "from": "2027-02-06", "to": "2027-02-12"}],
            "workdays": ["2027-02-20"]})
        assert r.status == 200, r
        self.workdays_2027 = r.body
        self.views = self.snapshot(srv, self.base)
        self.feed_urls = {pid: srv.get("/api/v1/people/" + pid).body["feed_url"]
                          for pid in self.people}
        self.feed_urls[self.room] = srv.get("/api/v1/rooms/" + self.room).body["feed_url"]
        self.feeds = {k: self.vevents(srv, url) for k, url in self.feed_urls.items()}
        self.reminders = srv.sql("SELECT event_id, recurrence_id, person, offset_minutes, "
                                 "due_utc, start_utc FROM reminders WHERE sent = 0 ORDER BY 1,2,3,4")
        assert self.reminders, "the reference has reminders"

    @staticmethod
    def normalise(value, base):
        """Replaces the server's own base URL (its port changes) by a placeholder."""
        if isinstance(value, dict):
            return {k: Reference.normalise(v, base) for k, v in value.items()}
        if isinstance(value, list):
            return [Reference.normalise(v, base) for v in value]
        if isinstance(value, str):
            return value.replace(base, "BASE").replace(base.replace("http://", "webcal://"),
                                                       "WEBCAL")
        return value

    def paths(self, kinds):
        out = []
        if "people" in kinds:
            out += ["/api/v1/people/" + p for p in self.people] + ["/api/v1/people"]
            out += ["/api/v1/rooms/" + self.room, "/api/v1/rooms",
                    "/api/v1/vehicles/" + self.vehicle, "/api/v1/vehicles"]
        if "blocks" in kinds:
            out += ["/api/v1/blocks/" + self.block]
        if "events" in kinds:
            out += ["/api/v1/events/" + e for e in self.events]
            out += ["/api/v1/events/%s/history" % e for e in self.events]
            out += ["/api/v1/occurrences?from=%s&to=%s" % RANGE,
                    "/api/v1/occurrences?from=%s&to=%s&room=%s" % (RANGE + (self.room,)),
                    "/api/v1/occurrences?from=%s&to=%s&person=%s" % (RANGE + (self.leader,)),
                    # Derived per trip and meal (dispatch and catering, where the binary has
                    # them): a migrated database must show the same.
                    "/api/v1/trips?date=2027-03-03", "/api/v1/catering?date=2027-03-08"]
        if "webhooks" in kinds:
            out += ["/api/v1/webhooks/" + self.webhook,
                    "/api/v1/webhooks/%s/deliveries" % self.webhook]
        return out

    def snapshot(self, srv, base, kinds=("people", "blocks", "events", "webhooks")):
        views = {}
        for path in self.paths(kinds):
            r = srv.get(path)
            views[path] = (r.status, self.normalise(r.body, base))
        return views

    @staticmethod
    def vevents(srv, url):
        """{UID/RECURRENCE-ID: SUMMARY/STATUS} of a feed, unfolded."""
        path = url[url.index("/feeds/"):]
        r = srv.get(path, token=None)
        assert r.status == 200, (path, r)
        text = r.body.replace("\r\n ", "").replace("\r\n\t", "")
        out = {}
        for block in text.split("BEGIN:VEVENT")[1:]:
            fields = {}
            for line in block.split("END:VEVENT")[0].split("\r\n"):
                if ":" in line:
                    name, value = line.split(":", 1)
                    fields.setdefault(name.split(";")[0], value)
            key = (fields.get("UID"), fields.get("RECURRENCE-ID"))
            out[key] = (fields.get("SUMMARY"), fields.get("STATUS"), fields.get("DTSTART"),
                        fields.get("SEQUENCE"))
        return out


class MigrationTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.migrations = parse_migrations()
        cls.latest = len(cls.migrations)
        cls.tmp = tempfile.mkdtemp(prefix="convene-migrate-")
        cls.ref = Reference()
        with Receiver() as rx, Server(tmpdir=cls.tmp, db=os.path.join(cls.tmp, "ref.db")) as srv:
            cls.ref.build(srv, rx)
            assert srv.stop() == 0
        cls.ref_db = os.path.join(cls.tmp, "ref.db")
        # Which migration created each table: what the API can show at each version.
        cls.introduced = {}
        for v, sql in enumerate(cls.migrations, 1):
            for name in re.findall(r"CREATE\s+TABLE\s+(\w+)", sql, re.I):
                cls.introduced.setdefault(name, v)

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("CONVENE_KEEP_TMP"):
            sys.stderr.write("keeping %s\n" % cls.tmp)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def exists_at(self, table, version):
        return self.introduced.get(table, 10 ** 9) <= version

    def test_parsed_migrations_are_the_binarys(self):
        """The parse found every migration: a fresh database ends at the binary's latest."""
        self.assertGreaterEqual(self.latest, 4)
        for sql in self.migrations:
            self.assertTrue(sqlite3.complete_statement(sql + ";"), sql[:80])
        with Server() as srv:
            self.assertEqual(srv.sql("PRAGMA user_version")[0][0], self.latest,
                             "migrations parsed from migrate.c vs the binary's schema version")

    def test_upgrade_from_every_version(self):
        for version in range(0, self.latest + 1):
            with self.subTest(version=version):
                self.upgrade_from(version)

    def upgrade_from(self, version):
        d = tempfile.mkdtemp(prefix="v%d-" % version, dir=self.tmp)
        db = os.path.join(d, "convene.db")
        build_database(db, self.migrations, version)
        copied = {}
        if version > 0:
            copied = copy_rows(db, self.ref_db, self.migrations, version)
            shutil.copy(self.ref_db + ".key", db + ".key")
        with Server(tmpdir=d, db=db) as srv:
            self.assertEqual(srv.sql("PRAGMA user_version")[0][0], self.latest,
                             "migrated to the latest schema")
            if version < self.latest:
                srv.wait_for_log("database migrated to schema version %d" % self.latest)
            for table, n in copied.items():
                have = srv.sql("SELECT count(*) FROM %s" % table)[0][0]
                self.assertGreaterEqual(have, n, "rows of %s kept" % table)

            kinds = [k for k in ("people", "blocks", "events", "webhooks")
                     if version > 0 and self.exists_at(k, version)]
            views = self.ref.snapshot(srv, srv.base_url, kinds)
            for path, view in views.items():
                self.assertEqual(view, self.ref.views[path], "v%d: GET %s" % (version, path))

            if kinds:
                # Tokens: the secretary's still works.
                r = srv.get("/api/v1/rooms", token=self.ref.secretary_token)
                self.assertEqual(r.status, 200, r)
                # Feeds: the same URLs, the same meetings (if the meetings existed then).
                for key, url in self.ref.feed_urls.items():
                    got = self.ref.vevents(srv, url)
                    want = self.ref.feeds[key] if "events" in kinds else {}
                    self.assertEqual(got, want, "v%d: feed of %s" % (version, key))
                # The occupancy index: the block (kept or derived) still clashes.
                r = srv.post("/api/v1/events", {
                    "title": "撞装修", "start": "2027-03-05T10:00:00",
                    "end": "2027-03-05T11:00:00", "tz": TZ, "room": self.ref.room})
                self.assertEqual(r.status, 409, "v%d: booking over the block: %r" % (version, r))
                self.assertEqual([c.get("block") for c in r.body["error"]["conflicts"]],
                                 [self.ref.block])
            if "events" in kinds:
                # ... and so does a stored meeting (the moved occurrence).
                r = srv.post("/api/v1/events", {
                    "title": "撞会", "start": "2027-03-15T14:30:00", "end": "2027-03-15T15:00:00",
                    "tz": TZ, "attendees": [{"person": self.ref.leader}]})
                self.assertEqual(r.status, 409, "v%d: booking over a meeting: %r" % (version, r))
                self.assertEqual({c["event"] for c in r.body["error"]["conflicts"]},
                                 {self.ref.weekly})
                # The reminders still ahead are still there.
                got = srv.sql("SELECT event_id, recurrence_id, person, offset_minutes, due_utc, "
                              "start_utc FROM reminders WHERE sent = 0 ORDER BY 1,2,3,4")
                self.assertEqual(got, self.ref.reminders, "v%d: reminders" % version)
            # The loaded holiday year: kept where it existed, absent (the files' days) before.
            r = srv.get("/api/v1/workdays/2027")
            if self.exists_at("workcal_years", version):
                self.assertEqual((r.status, r.body), (200, self.ref.workdays_2027),
                                 "v%d: the loaded year" % version)
            else:
                self.assertEqual(r.status, 404, "v%d: %r" % (version, r))
            # A new write works on the upgraded database.
            person = srv.create("people", {"name": "新同事 v%d" % version, "role": "staff"})
            self.assertEqual(srv.get("/api/v1/people/" + person["id"]).status, 200)
            self.assertEqual(srv.stop(), 0)

    def test_newer_database_is_refused_unchanged(self):
        d = tempfile.mkdtemp(prefix="newer-", dir=self.tmp)
        db = os.path.join(d, "convene.db")
        build_database(db, self.migrations, self.latest)
        copy_rows(db, self.ref_db, self.migrations, self.latest)
        con = sqlite3.connect(db, isolation_level=None)
        con.execute("PRAGMA user_version = %d" % (self.latest + 1))
        con.close()
        for mode in ("delete", "wal"):
            with self.subTest(journal_mode=mode):
                con = sqlite3.connect(db, isolation_level=None)
                con.execute("PRAGMA journal_mode = %s" % mode)
                con.close()
                before = sha256_file(db)
                listing = sorted(os.listdir(d))
                env = dict(os.environ, CONVENE_ADMIN_TOKEN=ADMIN_TOKEN)
                proc = subprocess.run([find_binary(), "serve", "--db", db, "--listen",
                                       "127.0.0.1:0"], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                      cwd=d, timeout=30, universal_newlines=True)
                self.assertNotEqual(proc.returncode, 0, proc)
                self.assertNotIn("listening on", proc.stdout)
                self.assertRegex(proc.stderr, r"version %d.*newer.*\(%d\)"
                                 % (self.latest + 1, self.latest))
                self.assertEqual(sha256_file(db), before, "the database file is unchanged")
                self.assertEqual(sorted(os.listdir(d)), listing, "no file added or removed")
                con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
                self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0],
                                 self.latest + 1)
                self.assertEqual(con.execute("PRAGMA journal_mode").fetchone()[0], mode)
                con.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
