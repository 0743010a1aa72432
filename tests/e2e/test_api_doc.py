#!/usr/bin/env python3
"""docs/API.md runs as printed (CONTRACT §10): every ```sh block of the document is executed,
top to bottom, in one bash process against a live server loaded with the demo organisation,
exactly as a reader would paste them after `make run`. Only the address is changed (the server
listens on a free port instead of 127.0.0.1:8080).

What counts as passing:
- every block exits 0 under `set -eo pipefail` (so a failing `jq` or a missing variable stops it);
- every HTTP answer is 2xx or 304, unless the block says otherwise: an answer of 4xx/5xx must be
  announced by a `# NNN` comment in that block (as the document shows expected errors, e.g.
  `# 409 {"error":{"code":"conflict",...}}`), and every error code a block announces must occur.
- the document names no file a user does not have (the contract, shared/ notes).

Also here: `make build` and `make run` need no npm (CONTRACT §10), checked on make's dry run.
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

from harness import ADMIN_TOKEN, REPO, Server

DOC = os.path.join(REPO, "docs", "API.md")

# A curl that records every answer's status in $DOC_STATUS, one "block status" line each,
# and otherwise behaves as curl does for the reader (body on stdout, -o honoured).
CURL_SHIM = r'''
curl() {
  local out code call
  out=$(command curl -sS -w '\n%{http_code}' "$@") || return $?
  code=${out##*$'\n'}
  local call="$*"
  printf '%s %s %s\n' "$DOC_BLOCK" "$code" "${call//$'\n'/ }" >> "$DOC_STATUS"
  printf '%s' "${out%$'\n'*}"
  case $out in *$'\n'*$'\n'*) printf '\n' ;; esac
}
'''


def sh_blocks(text):
    """The ```sh blocks of a Markdown text, in order, with the line each starts on."""
    blocks, lines, start = [], None, 0
    for number, line in enumerate(text.split("\n"), 1):
        if lines is None and line.strip() == "```sh":
            lines, start = [], number + 1
        elif lines is not None and line.strip() == "```":
            blocks.append((start, "\n".join(lines)))
            lines = None
        elif lines is not None:
            lines.append(line)
    return blocks


def declared_errors(block):
    """HTTP error codes a block announces in `# NNN` comments."""
    return {int(c) for c in re.findall(r"#\s*(?:→\s*)?([45]\d\d)\b", block)}


def run_document(srv, workdir):
    with open(DOC, encoding="utf-8") as f:
            text = f.read()
    blocks = sh_blocks(text)
    assert len(blocks) >= 15, "docs/API.md should have its curl examples in ```sh blocks"
    address = "%s:%d" % (srv.host, srv.port)
    status_log = os.path.join(workdir, "statuses")
    script = ["set -eo pipefail", CURL_SHIM]
    for index, (line, block) in enumerate(blocks):
        script.append("DOC_BLOCK=%d" % index)
        script.append(block.replace("127.0.0.1:8080", address))
    script.append("echo DOC_DONE")
    env = dict(os.environ, DOC_STATUS=status_log, LC_ALL="C.UTF-8")
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=workdir, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, universal_newlines=True, timeout=120)
    statuses = {}
    if os.path.exists(status_log):
        with open(status_log) as f:
            entries = f.read().split("\n")
        for entry in entries:
            if entry:
                block, code, call = entry.split(" ", 2)
                statuses.setdefault(int(block), []).append((int(code), call))
    last = max(statuses) if statuses else -1
    where = blocks[last][0] if last >= 0 else 0
    assert proc.returncode == 0 and "DOC_DONE" in proc.stdout, (
        "docs/API.md stopped in the block starting on line %d (exit %d)\nstderr:\n%s\n"
        "stdout tail:\n%s" % (where, proc.returncode, proc.stderr[-3000:], proc.stdout[-2000:]))

    problems = []
    for index, (line, block) in enumerate(blocks):
        got = statuses.get(index, [])
        allowed = declared_errors(block)
        for code, call in got:
            if code >= 400 and code not in allowed:
                problems.append("line %d: answered %d, not announced by a '# %d' comment: curl %s"
                                % (line, code, code, call))
            if code < 200 or (300 <= code < 400 and code != 304):
                problems.append("line %d: answered %d: curl %s" % (line, code, call))
        for code in allowed - {c for c, _ in got}:
            problems.append("line %d: announces %d but no call answered it" % (line, code))
    assert not problems, "docs/API.md examples:\n" + "\n".join(problems)
    calls = sum(len(v) for v in statuses.values())
    assert calls >= 50, "only %d HTTP calls ran" % calls
    return len(blocks), calls


class ApiDocTest(unittest.TestCase):
    def test_examples_run_as_printed(self):
        # The reader's directory after `make run`: var/convene.db, var/admin-token, build/convene.
        with tempfile.TemporaryDirectory(prefix="convene-doc-") as workdir:
            os.makedirs(os.path.join(workdir, "var"))
            os.makedirs(os.path.join(workdir, "build"))
            with open(os.path.join(workdir, "var", "admin-token"), "w") as f:
                f.write(ADMIN_TOKEN + "\n")
            with Server(db=os.path.join(workdir, "var", "convene.db")) as srv:
                srv.stop()
                binary = srv.bin
                os.symlink(binary, os.path.join(workdir, "build", "convene"))
                seeded = srv.cli(["seed", "--db", srv.db, os.path.join(REPO, "calendars", "demo")])
                self.assertEqual(seeded.returncode, 0, seeded.stderr)
                srv.start()
                blocks, calls = run_document(srv, workdir)
        print("docs/API.md: %d blocks, %d HTTP calls, all as announced" % (blocks, calls))

    def test_names_no_private_documents(self):
        with open(DOC, encoding="utf-8") as f:
            text = f.read()
        for word in ("CONTRACT", "shared/", "DESIGN.md", "STYLE.md", "OFFICE.md"):
            assert word not in text, "docs/API.md refers to %s, which users do not have" % word

    def test_build_and_run_need_no_npm(self):
        """`make -n` prints what build and run would execute; none of it may involve npm or node."""
        for target in ("build", "run", "deps"):
            proc = subprocess.run(["make", "-n", "-C", REPO, target, "BUILD=/nonexistent"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  universal_newlines=True, timeout=60)
            assert proc.returncode == 0, proc.stdout
            for word in ("npm", "nodejs", "node_modules"):
                assert word not in proc.stdout, "make %s would use %s:\n%s" % (target, word, proc.stdout)
        test = subprocess.run(["make", "-n", "-C", REPO, "test"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
        assert "npm" in test.stdout, "make test should still install the npm oracles"


if __name__ == "__main__":
    unittest.main(verbosity=2)
