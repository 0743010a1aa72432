#!/usr/bin/env python3
"""Files and feed URLs that must not outlive their purpose (CONTRACT sections 10 and 15).

- Under umask 022 (where SQLite alone makes 0644 files) the database, its -wal and -shm after
  writes, the default key file `<db>.key`, a `--key-file` elsewhere and a `convene backup`
  copy are all mode 0600; files an older version left 0644 are 0600 after the next start.
- A deleted person's feed URL answers 404 at once, also when its body was cached and when the
  client sends the old ETag; rotating it answers 404 like any deleted record, and so does the
  person's own (revoked) token. The same for rooms and vehicles. Others' feeds keep working.

Run: python3 tests/e2e/test_security_files.py   (CONVENE_BIN=build/convene)
"""

import os
import stat
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server  # noqa: E402


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class FileModes(unittest.TestCase):
    def setUp(self):
        self.old_umask = os.umask(0o022)

    def tearDown(self):
        os.umask(self.old_umask)

    def assert_private(self, path):
        self.assertTrue(os.path.exists(path), path)
        self.assertEqual(oct(mode(path)), oct(0o600), path)

    def write_some(self, srv):
        for i in range(20):
            srv.create("people", {"name": "保密测试%d" % i, "role": "staff",
                                  "phone": "1380000%04d" % i})

    def test_database_wal_shm_key_and_backup(self):
        with Server(start=True) as srv:
            self.write_some(srv)
            # While it runs, with writes in the WAL.
            self.assertGreater(os.path.getsize(srv.db + "-wal"), 0)
            for path in (srv.db, srv.db + "-wal", srv.db + "-shm", srv.db + ".key"):
                self.assert_private(path)
            copy = os.path.join(srv.dir, "backup", "copy.db")
            os.mkdir(os.path.dirname(copy))
            r = srv.cli(["backup", "--db", srv.db, copy])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assert_private(copy)
            self.assertFalse(os.path.exists(copy + ".part"))
            self.assertEqual(srv.stop(), 0, srv.stderr_tail())
            # Files left readable (an older version, a copy made by hand) are tightened.
            for path in (srv.db, srv.db + ".key"):
                os.chmod(path, 0o644)
            srv.start()
            self.write_some(srv)
            for path in (srv.db, srv.db + "-wal", srv.db + "-shm", srv.db + ".key"):
                self.assert_private(path)
            self.assertEqual(srv.stop(), 0, srv.stderr_tail())

    def test_key_file_elsewhere(self):
        with Server() as srv:  # started by "with"
            key = os.path.join(srv.dir, "keys", "feed.key")
            os.mkdir(os.path.dirname(key))
            srv.restart(extra_args=["--key-file", key])
            self.write_some(srv)
            self.assert_private(key)
            self.assertEqual(srv.stop(), 0, srv.stderr_tail())


class DeletedFeeds(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(start=True)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def feed_path(self, record):
        return urllib.parse.urlsplit(record["feed_url"]).path

    def feed(self, path, etag=None):
        headers = {"If-None-Match": etag} if etag else None
        return self.srv.request("GET", path, token=None, headers=headers)

    def check_dies(self, plural, record, own_token=None):
        srv = self.srv
        path = self.feed_path(record)
        first = self.feed(path)
        self.assertEqual(first.status, 200, first)
        # Cached now: the second answer comes from the feed cache.
        etag = first.header("ETag")
        self.assertEqual(self.feed(path, etag).status, 304)
        r = srv.delete("/api/v1/%s/%s" % (plural, record["id"]))
        self.assertEqual(r.status, 204, r)
        for tag in (None, etag):
            r = self.feed(path, tag)
            self.assertEqual((r.status, r.code), (404, "not_found"), r)
            self.assertNotIn("BEGIN:VCALENDAR", r.raw.decode("utf-8", "replace"))
        r = srv.post("/api/v1/%s/%s/feed-token" % (plural, record["id"]))
        self.assertEqual((r.status, r.code), (404, "not_found"), r)
        if own_token is not None:
            r = srv.post("/api/v1/%s/%s/feed-token" % (plural, record["id"]), token=own_token)
            self.assertEqual(r.status, 401, r)
        # Still dead after a restart (nothing lives only in memory).
        srv.restart()
        self.assertEqual(self.feed(path).status, 404)

    def test_person(self):
        srv = self.srv
        keep = srv.create("people", {"name": "李留", "role": "leader"})
        gone = srv.create("people", {"name": "王离", "role": "leader"})
        _, own = srv.create_token("leader", person=gone["id"])
        # Before: the person may rotate their own feed.
        r = srv.post("/api/v1/people/%s/feed-token" % gone["id"], token=own)
        self.assertEqual(r.status, 200, r)
        gone["feed_url"] = r.body["feed_url"]
        self.check_dies("people", gone, own_token=own)
        self.assertEqual(self.feed(self.feed_path(keep)).status, 200)

    def test_room_and_vehicle(self):
        srv = self.srv
        room = srv.create("rooms", {"name": "临时会议室", "capacity": 6})
        car = srv.create("vehicles", {"name": "临时用车", "plate": "京A·00001", "seats": 4})
        self.check_dies("rooms", room)
        self.check_dies("vehicles", car)


if __name__ == "__main__":
    unittest.main()
