// convene.js - the browser tests' side of the server: start the real
// binary on 127.0.0.1:0 with a fresh database (as tests/e2e/harness.py
// does), call its API with the admin token, stop it.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO = process.env.CONVENE_SOURCE_DIR || path.resolve(__dirname, '..', '..');
const BIN = process.env.CONVENE_BIN || path.join(REPO, 'build', 'convene');
const ADMIN_TOKEN = 'cvn_browser_admin_token_0123456789ab';

class Convene {
  // extraArgs: more `serve` options (e.g. --public-url for one-tap links).
  constructor(extraArgs = []) {
    this.extraArgs = extraArgs;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convene-browser-'));
    this.proc = null;
    this.base = null;
    this.stderr = '';
  }

  async start() {
    const args = ['serve', '--db', path.join(this.dir, 'convene.db'), '--listen', '127.0.0.1:0',
      '--calendars', path.join(REPO, 'calendars'), '--tz', 'Asia/Shanghai', ...this.extraArgs];
    this.proc = spawn(BIN, args, {
      cwd: this.dir,
      env: { ...process.env, CONVENE_ADMIN_TOKEN: ADMIN_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-20000); });
    this.base = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('convene did not start: ' + this.stderr)), 15000);
      this.proc.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      this.proc.on('exit', (code) => reject(new Error(`convene exited ${code}: ${this.stderr}`)));
    });
    return this;
  }

  // The API as admin (or token); resolves {status, body, headers}.
  async api(method, p, body, token = ADMIN_TOKEN) {
    const headers = { Authorization: 'Bearer ' + token };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.base + '/api/v1' + p, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed = text;
    try { parsed = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  // The status of a GET as admin, without reading the body (a stream never ends).
  async status(p) {
    const ctl = new AbortController();
    const res = await fetch(this.base + '/api/v1' + p, {
      headers: { Authorization: 'Bearer ' + ADMIN_TOKEN }, signal: ctl.signal,
    });
    ctl.abort();
    return res.status;
  }

  // Like api() but throws unless the status is one of ok.
  async must(method, p, body, ok = [200, 201, 204]) {
    const r = await this.api(method, p, body);
    if (!ok.includes(r.status)) {
      throw new Error(`${method} ${p} -> ${r.status} ${JSON.stringify(r.body)}`);
    }
    return r.body;
  }

  // SIGTERM; resolves the exit code (null if it had to be killed). A
  // sanitizer's report at exit makes the code non-zero.
  async stop() {
    let code = this.proc ? this.proc.exitCode : null;
    if (this.proc && code === null) {
      const done = new Promise((resolve) => this.proc.on('exit', resolve));
      this.proc.kill('SIGTERM');
      code = await Promise.race([done, new Promise((r) => setTimeout(() => r(null), 10000))]);
      if (code === null) this.proc.kill('SIGKILL');
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}

module.exports = { Convene, REPO, ADMIN_TOKEN };
