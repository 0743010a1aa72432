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
// The package is installed (not committed) with
//   npm install --no-save --prefix tests/e2e/webhook_verifier standardwebhooks
// When it is missing this exits 3 saying so; the tests then fail (they never skip).
"use strict";

const path = require("path");
const readline = require("readline");

const PREFIX = path.join(__dirname, "webhook_verifier");
let Webhook;
try {
  ({ Webhook } = require(path.join(PREFIX, "node_modules", "standardwebhooks")));
} catch (e) {
  process.stderr.write(
    "verify_signature.js: the npm package standardwebhooks is not installed (" + e.message +
      ")\ninstall it with: npm install --no-save --prefix " + PREFIX + " standardwebhooks\n");
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
