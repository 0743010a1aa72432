// support.js - what every browser test shares: dates in the organisation's
// zone, a tiny step runner whose summary ctest reads, and the axe-core check.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const axeSource = require('axe-core').source;

const ORG_TZ = 'Asia/Shanghai';

// ---------- dates (YYYY-MM-DD) in the organisation's zone ----------
function todayOrg() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ORG_TZ }).format(new Date());
}
function addDays(iso, n) {
  const d = new Date(iso + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
function mondayOf(iso) {
  const dow = new Date(iso + 'T00:00:00Z').getUTCDay();
  return addDays(iso, dow === 0 ? -6 : 1 - dow);
}
function monthDay(iso) {
  const [, m, d] = iso.split('-').map(Number);
  return `${m}月${d}日`;
}

// ---------- steps in order; one failing step does not stop the others ----------
const results = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push([name, null]);
    console.log(`ok - ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push([name, e]);
    console.log(`not ok - ${name}\n  ${String(e && e.stack || e).split('\n').join('\n  ')}`);
  }
}

// The service's own exit is a result too: a crash at SIGTERM fails the test.
function recordExit(code, log) {
  results.push(['the service exits 0 after SIGTERM', code === 0 ? null : new Error(`exit ${code}`)]);
  if (code !== 0) console.log(`not ok - the service exits 0 after SIGTERM (exit ${code})\n${log.slice(-3000)}`);
}

// The end of every test: the browser closed, the service stopped (its exit
// recorded as a result), the test's scratch directories removed.
async function teardown(browser, srv, dirs) {
  await browser.close();
  const code = await srv.stop();
  recordExit(code, srv.stderr);
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
}

// Runs a test's main(): an exception thrown outside a step fails the test.
function run(main) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}

// The summary line, and the exit status ctest reads; the server's log tail when something failed.
function finish(serverLog) {
  const failed = results.filter(([, e]) => e);
  console.log(`\n${results.length - failed.length} passed, ${failed.length} failed`);
  if (failed.length) {
    if (serverLog) console.log('server log tail:\n' + serverLog.split('\n').slice(-30).join('\n'));
    process.exitCode = 1;
  }
}

// ---------- accessibility: axe-core in the page, no serious or critical violation ----------
async function axeCheck(page, label) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe on ${label}: ${JSON.stringify(bad, null, 1)}`);
}

module.exports = { ORG_TZ, todayOrg, addDays, mondayOf, monthDay, step, teardown, run, finish,
  axeCheck, results };
