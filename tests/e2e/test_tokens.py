#!/usr/bin/env python3
"""GET /api/v1/tokens (admin, issue 15): the live tokens with id, name, role, person and
created, never the token nor its hash; a revoked one leaves the list; other roles are refused.
Run: python3 tests/e2e/test_tokens.py   (CONVENE_BIN=build/convene)
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, main  # noqa: E402


class TokensListTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_list_and_revoke(self):
        person = self.srv.create("people", {"name": "王局长", "role": "leader", "rank": 1})["id"]
        made = self.srv.post("/api/v1/tokens", {"role": "leader", "person": person,
                                                "name": "王局长手机"})
        self.assertEqual(made.status, 201, made)
        sec = self.srv.post("/api/v1/tokens", {"role": "secretary", "name": "办公室 小李"}).json
        r = self.srv.get("/api/v1/tokens")
        self.assertEqual(r.status, 200, r)
        mine = {t["id"]: t for t in r.json}
        self.assertEqual(mine[made.json["id"]],
                         {"id": made.json["id"], "name": "王局长手机", "role": "leader",
                          "person": person, "created": mine[made.json["id"]]["created"]})
        self.assertRegex(mine[made.json["id"]]["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIsNone(mine[sec["id"]]["person"])
        # Neither the token nor its hash is ever listed.
        text = r.body if isinstance(r.body, str) else json.dumps(r.json)
        self.assertNotIn(made.json["token"], text)
        self.assertNotIn("hash", text)
        [(hash_,)] = self.srv.sql("SELECT hex(hash) FROM tokens WHERE id = ?", (sec["id"],))
        self.assertNotIn(hash_.lower(), text.lower())
        # Revoked: gone from the list; other roles may not read it.
        self.assertEqual(self.srv.delete("/api/v1/tokens/%s" % sec["id"]).status, 204)
        ids = [t["id"] for t in self.srv.get("/api/v1/tokens").json]
        self.assertNotIn(sec["id"], ids)
        self.assertIn(made.json["id"], ids)
        self.assertEqual(self.srv.get("/api/v1/tokens", token=made.json["token"]).status, 403)
        self.assertEqual(self.srv.get("/api/v1/tokens", token=sec["token"]).status, 401)


if __name__ == "__main__":
    main()
