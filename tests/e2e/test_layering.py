#!/usr/bin/env python3
"""The layering of docs/ARCHITECTURE.md, checked on the sources (issue 14).

Each rule is about what a directory may reach through #include, followed
transitively through the project's own headers, so a header that pulls in
api.h counts as including it. A rule broken names the file and the chain.
"""
import os
import re
import sys
import unittest

ROOT = os.environ.get("CONVENE_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)

# What sits below the HTTP layer must not see a request or a reply.
HTTP_HEADERS = {"convene/api.h", "convene/http.h", "convene/auth.h", "convene/body.h",
                "handlers.h", "h2o.h"}
LOWER = ("src/booking", "src/core", "src/store", "src/notify", "src/ical", "src/report")


def sources(directory):
    base = os.path.join(ROOT, directory)
    for name in sorted(os.listdir(base)):
        if name.endswith((".c", ".h")):
            yield os.path.join(directory, name)


def resolve(name, from_file):
    """The project file an include names, or None for a system header."""
    for candidate in (os.path.join(os.path.dirname(from_file), name), os.path.join("include", name)):
        if os.path.isfile(os.path.join(ROOT, candidate)):
            return os.path.normpath(candidate)
    return None


def reach(path, seen=None):
    """{include name: chain of files that leads to it} for everything path includes, transitively."""
    seen = set() if seen is None else seen
    out = {}
    if path in seen:
        return out
    seen.add(path)
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        text = f.read()
    for name in INCLUDE.findall(text):
        out.setdefault(name, [path])
        target = resolve(name, path)
        if target is not None:
            for deeper, chain in reach(target, seen).items():
                out.setdefault(deeper, [path] + chain)
    return out


class Layering(unittest.TestCase):
    def broken(self, directories, forbidden):
        found = []
        for d in directories:
            for path in sources(d):
                for name, chain in reach(path).items():
                    if name in forbidden or os.path.basename(name) in forbidden:
                        found.append("%s -> %s" % (" -> ".join(chain), name))
        return found

    def test_nothing_below_http_includes_it(self):
        self.assertEqual(self.broken(LOWER, HTTP_HEADERS), [])

    def test_core_is_pure(self):
        # Pure rules: no event loop, database, HTTP, libcurl or JSON library.
        self.assertEqual(self.broken(["src/core"], {"uv.h", "sqlite3.h", "h2o.h",
                                                    "curl/curl.h", "jansson.h"}), [])

    def test_only_store_speaks_sqlite(self):
        others = [d for d in ("src/core", "src/booking", "src/api", "src/http", "src/notify",
                              "src/ical", "src/app", "src/report")]
        self.assertEqual(self.broken(others, {"sqlite3.h"}), [])

    def test_only_the_server_glue_includes_h2o(self):
        found = [p for p in self.broken(["src/http"], {"h2o.h"})
                 if not p.startswith("src/http/server.c")]
        self.assertEqual(found, [])

    def test_handlers_use_only_the_layers_public_header(self):
        # api/ reaches booking/ through include/convene/booking.h, never a private header.
        private = {os.path.basename(p) for p in sources("src/booking") if p.endswith(".h")}
        self.assertTrue(private, "src/booking has private headers to guard")
        found = []
        for path in sources("src/api"):
            with open(os.path.join(ROOT, path), encoding="utf-8") as f:
                names = INCLUDE.findall(f.read())
            for name in names:
                if "booking/" in name or name in private:
                    found.append("%s -> %s" % (path, name))
        self.assertEqual(found, [])

    def test_the_checker_sees_a_chain(self):
        # The rules above pass by finding nothing; show that the walk finds what is there.
        chains = reach("src/api/events.c")
        self.assertIn("convene/api.h", chains)
        self.assertIn("jansson.h", chains)


if __name__ == "__main__":
    unittest.main(verbosity=2)
