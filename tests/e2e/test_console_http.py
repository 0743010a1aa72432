#!/usr/bin/env python3
"""The console's files as HTTP serves them (CONTRACT section 9; issue 15 part 1).

Oracles independent of the server: the files under web/ in the repository (bytes,
SHA-256), Python's gzip, and the raw bytes of requests sent over a socket (so no
client library normalises the path first).

Covers: GET / is web/index.html with the version and zone filled in; every asset the
index and the modules name is served under /assets/<version>/ with its exact bytes;
security headers on every console answer (200, 304, 404); strong ETags that change
with the content and 304 on If-None-Match; gzip with its own ETag and Vary; the
caching policy (index no-cache, current assets immutable, other versions no-cache);
paths outside web/ ('..', encoded slashes or dots, hidden files) are 404; POST is
405; `--web DIR` serves a directory re-read on every request, and a missing one
fails the start; web/vendor matches the digests in web/vendor/VERSIONS.
"""

import gzip
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPO, Server  # noqa: E402

WEB = os.path.join(REPO, "web")
SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def web_bytes(rel):
    with open(os.path.join(WEB, rel), "rb") as f:
        return f.read()


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def raw_get(srv, target, extra=""):
    """Sends GET target exactly as given; returns (status, headers dict lowercased, body)."""
    s = socket.create_connection((srv.host, srv.port), timeout=10)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n"
                   % (target, extra)).encode("latin-1"))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


class ConsoleServing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(start=True)
        r = cls.srv.request("GET", "/", token=None)
        assert r.status == 200, r
        m = re.search(r'/assets/([0-9a-f]{12})/js/main\.js', r.body)
        assert m, r.body
        cls.version = m.group(1)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def get(self, path, headers=None):
        return self.srv.request("GET", path, token=None, headers=headers)

    def assert_security(self, r):
        csp = r.header("Content-Security-Policy") or ""
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertIn("script-src 'self'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("unsafe-eval", csp)
        # Nothing from another origin: no host names or schemes in any source list.
        self.assertNotRegex(csp, r"https?:|\*|data:")
        for name, value in SECURITY.items():
            self.assertEqual(r.header(name), value, name)

    def test_index_is_web_index_with_version_and_zone(self):
        r = self.get("/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        self.assert_security(r)
        self.assertEqual(r.header("Cache-Control"), "no-cache")
        want = web_bytes("index.html").decode("utf-8")
        want = want.replace("@VERSION@", self.version).replace("@TZ@", "Asia/Shanghai")
        self.assertEqual(r.body, want)
        self.assertIn('<html lang="zh-CN">', r.body)
        self.assertIn('name="viewport"', r.body)
        # No inline script or style: every <script> has a src, no style attributes.
        self.assertNotRegex(r.body, r"<script(?![^>]*\bsrc=)[^>]*>")
        self.assertNotIn("style=", r.body)
        self.assertNotIn("<style", r.body)

    def test_every_file_under_web_is_served_with_its_bytes(self):
        count = 0
        for root, _, files in os.walk(WEB):
            for name in files:
                rel = os.path.relpath(os.path.join(root, name), WEB)
                if rel == "index.html":
                    continue
                r = self.get("/assets/%s/%s" % (self.version, rel))
                self.assertEqual(r.status, 200, rel)
                self.assertEqual(r.raw, web_bytes(rel), rel)
                self.assert_security(r)
                self.assertEqual(r.header("Cache-Control"),
                                 "public, max-age=31536000, immutable", rel)
                digest = hashlib.sha256(web_bytes(rel)).hexdigest()[:16]
                self.assertEqual(r.header("ETag"), '"%s"' % digest, rel)
                count += 1
        self.assertGreater(count, 10)

    def test_content_types(self):
        for rel, ctype in [("js/main.js", "text/javascript; charset=utf-8"),
                           ("css/console.css", "text/css; charset=utf-8"),
                           ("icon.svg", "image/svg+xml"),
                           ("vendor/LICENSE.preact", "text/plain; charset=utf-8")]:
            r = self.get("/assets/%s/%s" % (self.version, rel))
            self.assertEqual(r.header("Content-Type"), ctype, rel)

    def test_modules_name_only_files_that_exist(self):
        """Every relative import in the console's modules resolves to a served file."""
        for root, _, files in os.walk(os.path.join(WEB, "js")):
            for name in files:
                path = os.path.join(root, name)
                src = read_text(path)
                for spec in re.findall(r"""(?:from|import\()\s*['"](\.[^'"]+)['"]""", src):
                    target = os.path.normpath(os.path.join(os.path.dirname(path), spec))
                    rel = os.path.relpath(target, WEB)
                    self.assertFalse(rel.startswith(".."), (path, spec))
                    r = self.get("/assets/%s/%s" % (self.version, rel))
                    self.assertEqual(r.status, 200, (path, spec))

    def test_conditional_get(self):
        path = "/assets/%s/js/main.js" % self.version
        r = self.get(path)
        etag = r.header("ETag")
        r2 = self.get(path, headers={"If-None-Match": etag})
        self.assertEqual(r2.status, 304)
        self.assertEqual(r2.raw, b"")
        self.assertEqual(r2.header("ETag"), etag)
        self.assert_security(r2)
        weak = self.get(path, headers={"If-None-Match": 'W/%s, "zzz"' % etag})
        self.assertEqual(weak.status, 304)
        other = self.get(path, headers={"If-None-Match": '"0000000000000000"'})
        self.assertEqual(other.status, 200)
        idx = self.get("/")
        self.assertEqual(self.get("/", headers={"If-None-Match": idx.header("ETag")}).status, 304)

    def test_gzip_has_its_own_etag(self):
        path = "/assets/%s/vendor/qrcode.js" % self.version
        plain = self.get(path)
        z = self.srv.client(None)
        r = z.request("GET", path, headers={"Accept-Encoding": "gzip"})
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(r.header("Vary"), "Accept-Encoding")
        self.assertEqual(gzip.decompress(r.raw), web_bytes("vendor/qrcode.js"))
        self.assertLess(len(r.raw), len(plain.raw) / 2)
        self.assertNotEqual(r.header("ETag"), plain.header("ETag"))
        self.assertTrue(r.header("ETag").endswith('-gz"'))
        # The plain tag does not validate the gzip body and the other way round.
        again = z.request("GET", path, headers={"Accept-Encoding": "gzip",
                                                "If-None-Match": plain.header("ETag")})
        self.assertEqual(again.status, 200)
        self.assertEqual(z.request("GET", path, headers={
            "Accept-Encoding": "gzip", "If-None-Match": r.header("ETag")}).status, 304)
        refused = z.request("GET", path, headers={"Accept-Encoding": "gzip;q=0"})
        self.assertIsNone(refused.header("Content-Encoding"))
        z.close()

    def test_first_load_under_300_kb_compressed(self):
        """index + style + every module and vendored script, gzip as served."""
        total = len(gzip.compress(self.get("/").raw))
        for root, _, files in os.walk(WEB):
            for name in files:
                rel = os.path.relpath(os.path.join(root, name), WEB)
                if rel.endswith((".js", ".css", ".svg")):
                    r = raw_get(self.srv, "/assets/%s/%s" % (self.version, rel),
                                "Accept-Encoding: gzip\r\n")
                    total += len(r[2])
        self.assertLess(total, 300 * 1024, total)

    def test_other_version_is_served_but_not_cached(self):
        r = self.get("/assets/000000000000/js/main.js")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Cache-Control"), "no-cache")
        self.assertEqual(r.raw, web_bytes("js/main.js"))

    def test_paths_outside_web_are_404(self):
        v = self.version
        for target in ["/assets/%s/../../CMakeLists.txt" % v,
                       "/assets/%s/js/../../src/main.c" % v,
                       "/assets/%s/js%%2Fmain.js" % v,
                       "/assets/%s/js%%2fmain.js" % v,
                       "/assets/%s/%%2e%%2e/CMakeLists.txt" % v,
                       "/assets/%s/..%%2f..%%2fCMakeLists.txt" % v,
                       "/assets/%s/js/%%2e%%2e/index.html" % v,
                       "/assets/%s/index.html" % v,
                       "/assets/%s/.gitignore" % v,
                       "/assets/%s/js/" % v,
                       "/assets/%s/" % v,
                       "/assets/%s/nope.js" % v,
                       "/assets/%s/js/main.js%%00.png" % v,
                       "/index.html",
                       "/web/js/main.js",
                       "/%2e%2e/CMakeLists.txt"]:
            status, headers, body = raw_get(self.srv, target)
            self.assertEqual(status, 404, target)
            self.assertIn(b'"code":"not_found"', body, target)
            self.assertNotIn(b"cmake_minimum_required", body, target)

    def test_404_of_an_asset_keeps_the_security_headers(self):
        r = self.get("/assets/%s/missing.js" % self.version)
        self.assertEqual(r.status, 404)
        self.assert_security(r)

    def test_post_is_405(self):
        r = self.srv.request("POST", "/", {"x": 1}, token=None)
        self.assertEqual(r.status, 405)
        self.assertEqual(r.code, "method_not_allowed")


class ConsoleFromDirectory(unittest.TestCase):
    def test_web_dir_is_read_on_every_request(self):
        tmp = tempfile.mkdtemp(prefix="convene-web-")
        try:
            web = os.path.join(tmp, "web")
            shutil.copytree(WEB, web)
            with Server(extra_args=["--web", web], start=True) as srv:
                r = srv.request("GET", "/", token=None)
                self.assertIn("/assets/dev/js/main.js", r.body)
                a = srv.request("GET", "/assets/dev/js/time.js", token=None)
                self.assertEqual(a.raw, web_bytes("js/time.js"))
                self.assertEqual(a.header("Cache-Control"), "no-cache")
                with open(os.path.join(web, "js", "time.js"), "ab") as f:
                    f.write(b"\n// edited\n")
                b = srv.request("GET", "/assets/dev/js/time.js", token=None)
                self.assertTrue(b.raw.endswith(b"// edited\n"))
                self.assertNotEqual(a.header("ETag"), b.header("ETag"))
                # A symlink out of the directory is not followed.
                os.symlink(os.path.join(REPO, "CMakeLists.txt"), os.path.join(web, "x.txt"))
                self.assertEqual(srv.request("GET", "/assets/dev/x.txt", token=None).status, 404)
                self.assertEqual(raw_get(srv, "/assets/dev/js/..%2F..%2Fweb/index.html")[0], 404)
        finally:
            shutil.rmtree(tmp)

    def test_missing_web_dir_fails_the_start(self):
        srv = Server(extra_args=["--web", "/nonexistent/web"])
        try:
            with self.assertRaises(AssertionError):
                srv.start(timeout=5)
            self.assertIn("not a directory", srv.stderr_text())
        finally:
            srv.cleanup()


class VendoredFiles(unittest.TestCase):
    def test_vendor_digests_match_versions(self):
        r = subprocess.run([os.path.join(REPO, "tools", "vendor-refresh.sh"), "--check"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        versions = read_text(os.path.join(WEB, "vendor", "VERSIONS"))
        files = re.findall(r"^file (\S+) ([0-9a-f]{64})$", versions, re.M)
        self.assertGreaterEqual(len(files), 4)
        for name, digest in files:
            self.assertEqual(hashlib.sha256(web_bytes("vendor/" + name)).hexdigest(), digest, name)
        for pkg in re.findall(r"^package (\S+) \S+ [0-9a-f]{64} \S+$", versions, re.M):
            self.assertTrue(os.path.exists(os.path.join(WEB, "vendor", "LICENSE." + pkg))
                            or pkg == "qrcode-generator", pkg)
        self.assertIn("Licensed under the MIT license", web_bytes("vendor/qrcode.js").decode())


if __name__ == "__main__":
    unittest.main()
