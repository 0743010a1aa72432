#!/usr/bin/env python3
"""A webhook URL's host is resolved off the loop (the SSRF guard), and the handler then answers
as it always did: the same errors in the same order, against the real binary.
- without --allow-private-webhooks a POST or PATCH whose URL names a host waits for a worker
  thread to resolve it; a name that does not resolve is 422 `invalid_url` saying so;
- what the handler checks besides the URL still decides first: an unknown member, an unknown
  webhook (404), a stale If-Match (412), even while the URL needs resolving;
- a public address is stored and shown (POST 201, PATCH 200 with the new version).
Run: python3 tests/e2e/test_webhook_resolve.py   (CONVENE_BIN=build/convene)
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server  # noqa: E402

PUBLIC = "https://93.184.216.34/hook"
NOWHERE = "https://convene-test.invalid/hook"   # .invalid never resolves (RFC 6761)


class ResolvedOffTheLoop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(start=True, private_webhooks=False)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def create(self, url):
        return self.srv.post("/api/v1/webhooks", {"url": url, "events": ["event.*"]})

    def test_a_name_that_does_not_resolve(self):
        r = self.create(NOWHERE)
        self.assertEqual((r.status, r.code, r.field), (422, "invalid_url", "url"), repr(r))
        self.assertIn("does not resolve", r.message)

    def test_public_address_stored_on_post_and_patch(self):
        r = self.create(PUBLIC)
        self.assertEqual(r.status, 201, repr(r))
        wid = r.body["id"]
        r = self.srv.patch("/api/v1/webhooks/" + wid, {"url": PUBLIC + "2"})
        self.assertEqual((r.status, r.body["url"], r.body["version"]), (200, PUBLIC + "2", 2))

    def test_other_checks_keep_their_order(self):
        r = self.srv.post("/api/v1/webhooks", {"url": PUBLIC, "events": ["event.*"], "x": 1})
        self.assertEqual((r.status, r.code, r.field), (400, "unknown_field", "x"), repr(r))
        r = self.srv.patch("/api/v1/webhooks/whk_nothing", {"url": PUBLIC})
        self.assertEqual((r.status, r.code), (404, "not_found"), repr(r))
        wid = self.create(PUBLIC).body["id"]
        r = self.srv.request("PATCH", "/api/v1/webhooks/" + wid, {"url": PUBLIC},
                             headers={"If-Match": '"7"'})
        self.assertEqual((r.status, r.code), (412, "precondition_failed"), repr(r))
        r = self.srv.request("PATCH", "/api/v1/webhooks/" + wid, {"url": NOWHERE},
                             headers={"If-Match": '"1"'})
        self.assertEqual((r.status, r.code), (422, "invalid_url"), repr(r))


if __name__ == "__main__":
    unittest.main(verbosity=2)
