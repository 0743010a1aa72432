#!/usr/bin/env python3
"""Webhook URLs refused at registration (CONTRACT section 15), against the real binary.

- userinfo (user:password@, user@, an empty @, user;options@) and port 0 are refused with 422
  `invalid_url` whether or not private webhooks are allowed, on POST and on PATCH; the error
  never repeats the password, and GET /webhooks never shows one (not even of an endpoint an
  older version stored with one);
- without --allow-private-webhooks, IPv6 transition addresses are refused: 6to4 (2002::/16)
  and Teredo (2001::/32) whatever they embed, NAT64 (64:ff9b::/96, 64:ff9b:1::/48) when the
  IPv4 address inside is not public; NAT64 of a public address is accepted. With the flag
  they are private addresses like any other, and allowed.

The unit test test_netaddr holds the full address table; this checks the service applies it.

Run: python3 tests/e2e/test_webhook_urls.py   (CONVENE_BIN=build/convene)
"""

import json
import os
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server  # noqa: E402

SECRET = "hunter2-Pa55"

USERINFO = [
    "http://admin:%s@127.0.0.1:9/hook" % SECRET,
    "http://admin@127.0.0.1:9/hook",
    "http://:%s@127.0.0.1:9/hook" % SECRET,
    "http://@127.0.0.1:9/hook",
    "https://user;auth=basic@93.184.216.34/hook",
    "https://u:%s@93.184.216.34:8443/hook" % SECRET,
]
PORT_ZERO = ["http://127.0.0.1:0/hook", "http://127.0.0.1:00000/hook", "http://[::1]:0/",
             "https://93.184.216.34:0/hook"]

TRANSITION = [
    "http://[2002:7f00:1::1]/hook",                         # 6to4 of 127.0.0.1
    "http://[2002:808:808::1]/hook",                        # 6to4, even of a public address
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",   # Teredo
    "http://[2001::1]:8080/hook",                           # Teredo
    "http://[64:ff9b::7f00:1]/hook",                        # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",        # NAT64 of 169.254.169.254
    "http://[64:ff9b::10.0.0.1]/hook",                      # NAT64 of 10.0.0.1
    "http://[64:ff9b:1::7f00:1]/hook",                      # local-use NAT64 of 127.0.0.1
]
NAT64_PUBLIC = "http://[64:ff9b::808:808]/hook"             # NAT64 of 8.8.8.8


class UrlChecks(unittest.TestCase):
    def refused(self, srv, method, path, url):
        body = {"url": url} if method == "PATCH" else {"url": url, "events": ["event.*"]}
        r = srv.request(method, path, body)
        self.assertEqual((r.status, r.code, r.field), (422, "invalid_url", "url"),
                         "%s %s: %r" % (method, url, r))
        self.assertNotIn(SECRET, r.raw.decode("utf-8"), url)
        return r

    def accepted(self, srv, url):
        r = srv.post("/api/v1/webhooks", {"url": url, "events": ["event.*"]})
        self.assertEqual(r.status, 201, "%s: %r" % (url, r))
        return r.body["id"]

    def check_userinfo_and_port(self, srv):
        wid = self.accepted(srv, "https://93.184.216.34:8443/hook")
        for url in USERINFO + PORT_ZERO:
            self.refused(srv, "POST", "/api/v1/webhooks", url)
            self.refused(srv, "PATCH", "/api/v1/webhooks/" + wid, url)
        listed = srv.get("/api/v1/webhooks")
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual([w["url"] for w in listed.body], ["https://93.184.216.34:8443/hook"])
        self.assertNotIn("@", json.dumps(listed.body))
        # The highest port is fine: only 0 is refused.
        self.accepted(srv, "https://93.184.216.34:65535/hook")

    def test_userinfo_and_port_zero_with_private_allowed(self):
        with Server(start=True) as srv:
            self.check_userinfo_and_port(srv)

    def test_userinfo_and_port_zero_without_private(self):
        with Server(start=True, private_webhooks=False) as srv:
            self.check_userinfo_and_port(srv)

    def test_transition_addresses(self):
        with Server(start=True, private_webhooks=False) as srv:
            for url in TRANSITION:
                r = self.refused(srv, "POST", "/api/v1/webhooks", url)
                self.assertIn("private", r.message, url)
            self.accepted(srv, NAT64_PUBLIC)
            wid = srv.get("/api/v1/webhooks").body[0]["id"]
            for url in TRANSITION:
                self.refused(srv, "PATCH", "/api/v1/webhooks/" + wid, url)
            self.assertEqual([w["url"] for w in srv.get("/api/v1/webhooks").body],
                             [NAT64_PUBLIC])
            # With --allow-private-webhooks they are private addresses, so allowed.
            srv.restart(private_webhooks=True)
            for url in TRANSITION[:4]:
                self.accepted(srv, url)
            self.assertEqual(srv.stop(), 0, srv.stderr_tail())

    def test_stored_credentials_never_shown(self):
        """An endpoint an older version accepted with user:password@ is listed without them."""
        with Server(start=True) as srv:
            wid = self.accepted(srv, "http://127.0.0.1:9/hook?k=1")
            self.assertEqual(srv.stop(), 0, srv.stderr_tail())
            con = sqlite3.connect(srv.db)
            con.execute("UPDATE webhooks SET url = ? WHERE id = ?",
                        ("http://admin:%s@127.0.0.1:9/hook?k=1" % SECRET, wid))
            con.commit()
            con.close()
            srv.start()
            for r in (srv.get("/api/v1/webhooks"), srv.get("/api/v1/webhooks/" + wid)):
                self.assertEqual(r.status, 200, r)
                self.assertNotIn(SECRET, r.raw.decode("utf-8"))
                self.assertNotIn("admin", r.raw.decode("utf-8"))
            self.assertEqual(srv.get("/api/v1/webhooks/" + wid).body["url"],
                             "http://127.0.0.1:9/hook?k=1")


if __name__ == "__main__":
    unittest.main()
