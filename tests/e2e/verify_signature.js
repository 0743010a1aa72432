#!/usr/bin/env node
// Verifies webhook deliveries with the npm `standardwebhooks` package (the reference
// implementation of the Standard Webhooks specification), not with convene's own code.
//
// Input: JSON lines on stdin, one delivery each:
//   {"secret": "whsec_...", "headers": {"webhook-id": ..., "webhook-timestamp": ...,
//    "webhook-signature": ...}, "body_b64": "<the raw body bytes, base64>"}
//   ("body": "<text>" may be given instead of body_b64).
// Output: one JSON line per input line, in order:
//   {"ok": true, "payload": <what verify() returned>}  or  {"ok": false, "error": "..."}
//
// The package is installed (not committed) by `make deps` from tests/e2e/package.json:
//   npm install --prefix tests/e2e --no-audit --no-fund --no-package-lock
// (or by hand: npm install --no-save --prefix tests/e2e standardwebhooks). It is looked up in
// tests/e2e/node_modules, then tests/e2e/webhook_verifier/node_modules. When it is missing this
// exits 3 saying so; the tests then fail (they never skip).
"use strict";

const path = require("path");
const readline = require("readline");

const INSTALL = "npm install --prefix " + __dirname + " --no-audit --no-fund --no-package-lock";
let Webhook;
try {
  const where = require.resolve("standardwebhooks", {
    paths: [__dirname, path.join(__dirname, "webhook_verifier")],
  });
  ({ Webhook } = require(where));
} catch (e) {
  process.stderr.write(
    "verify_signature.js: the npm package standardwebhooks is not installed (" + e.message +
      ")\ninstall it with `make deps`, or: " + INSTALL + "\n");
  process.exit(3);
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  if (line.trim() === "") return;
  let out;
  try {
    const item = JSON.parse(line);
    const body = item.body_b64 !== undefined ? Buffer.from(item.body_b64, "base64") : item.body;
    const payload = new Webhook(item.secret).verify(body, item.headers);
    out = { ok: true, payload: payload === undefined ? null : payload };
  } catch (e) {
    out = { ok: false, error: (e && e.name ? e.name + ": " : "") + (e && e.message) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
});
