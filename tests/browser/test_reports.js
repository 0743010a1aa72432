// test_reports.js - 统计报表 in a real browser (Debian's chromium, headless,
// puppeteer-core) against the real convene binary with a fresh database:
// a secretary opens the page; this month's tables show what the API
// answers (meetings, rooms with utilisation, drivers' hours, meals); the
// grouping changes (by leader); a custom period is queried; the CSV
// download arrives under its Chinese name with a BOM; the charts are drawn;
// axe-core finds no serious or critical violation; no script error or CSP
// refusal. Screenshots go to $CONVENE_SCREENSHOTS and docs/screenshots/.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const puppeteer = require('puppeteer-core');
const { Convene } = require('./convene.js');
const { ORG_TZ, todayOrg, step, teardown, run, finish, axeCheck } = require('./support.js');

const REPO = process.env.CONVENE_SOURCE_DIR || path.resolve(__dirname, '..', '..');
const SHOTS = process.env.CONVENE_SCREENSHOTS || path.join(REPO, 'build', 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'correct horse battery';

function lastOfMonth(iso) {
  const [y, m] = iso.split('-').map(Number);
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

// This month's bookings: the 1st and 2nd of the month (whatever today is), so
// a period of this month always holds them.
async function seed(srv, first) {
  const person = (body) => srv.must('POST', '/people', body);
  const L1 = await person({ name: '王建国', role: 'leader', rank: 1 });
  const L2 = await person({ name: '李文华', role: 'leader', rank: 2 });
  const S = await person({ name: '赵明', role: 'secretary', department: '办公室' });
  const D = await person({ name: '冯师傅', role: 'driver' });
  const V = await person({ name: '吴静', role: 'staff', diet: 'vegetarian' });
  await srv.must('PATCH', `/people/${S.id}`, { login: 'zhaoming', access: 'secretary' });
  await srv.must('PUT', `/people/${S.id}/password`, { password: PASSWORD });
  const r1 = await srv.must('POST', '/rooms', { name: '第一会议室', capacity: 20 });
  await srv.must('POST', '/rooms', { name: '第二会议室', capacity: 8 });
  const car = await srv.must('POST', '/vehicles', { name: '红旗H5', plate: '京A·12345', seats: 4 });
  const second = first.slice(0, 8) + '02';
  const at = (d, t) => `${d}T${t}:00`;
  const book = (body) => srv.must('POST', '/events', { tz: ORG_TZ, ...body });
  await book({ title: '党组会', start: at(first, '09:00'), end: at(first, '10:30'), room: r1.id,
    attendees: [{ person: L1.id }, { person: L2.id }] });
  await book({ title: '办公会', start: at(first, '11:00'), end: at(first, '13:00'), room: r1.id,
    attendees: [{ person: L1.id }, { person: V.id }], guests: 2, meals: [{ meal: 'lunch' }] });
  await book({ title: '现场调研', start: at(second, '14:00'), end: at(second, '17:00'),
    attendees: [{ person: L2.id }],
    trips: [{ vehicle: car.id, driver: D.id, depart: at(second, '13:30'), return: at(second, '20:00'),
      from: '机关大院', to: '经开区', passengers: [L2.id], approved_by: L1.id }] });
  return { L1, L2 };
}

async function tableRows(page, section) {
  return page.$$eval(`section[aria-labelledby="${section}"] table tbody tr`,
    (rows) => rows.map((r) => [...r.children].map((c) => c.innerText.trim())));
}

const axe = axeCheck;

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const srv = await new Convene().start();
  const today = todayOrg();
  const first = today.slice(0, 8) + '01';
  const last = lastOfMonth(today);
  const o = await seed(srv, first);
  const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'convene-downloads-'));
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'convene-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM, headless: true, userDataDir: userDir,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', '--font-render-hinting=none', '--lang=zh-CN'],
    env: { ...process.env, LANGUAGE: 'zh_CN', LANG: 'zh_CN.UTF-8' },
  });
  const errors = [];
  let page;
  try {
    await step('a secretary opens 统计报表: this month, every section', async () => {
      page = await browser.newPage();
      page.on('console', (m) => {
        // Before signing in the page asks who is signed in: that 401 is expected.
        if (/\/api\/v1\/session$/.test(m.location().url || '')) return;
        if (m.type() === 'error' || (m.type() === 'warning' && /Content Security Policy/.test(m.text()))) {
          errors.push(`${m.type()}: ${m.text()}`);
        }
      });
      page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
      page.on('requestfailed', (r) => {
        if (!r.url().endsWith('/api/v1/changes')) errors.push(`requestfailed: ${r.url()} ${r.failure().errorText}`);
      });
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(srv.base + '/', { waitUntil: 'networkidle0' });
      await page.waitForSelector('form.signin');
      await page.type('#login', 'zhaoming');
      await page.type('#password', PASSWORD);
      await Promise.all([page.waitForSelector('header.top'), page.click('form.signin button[type=submit]')]);
      const nav = await page.$$eval('header.top a', (a) => a.map((x) => x.innerText));
      assert.ok(nav.some((t) => t.includes('统计报表')), JSON.stringify(nav));
      await page.evaluate(() => { location.hash = '#/reports'; });
      for (const id of ['r-meetings', 'r-rooms', 'r-drivers', 'r-meals', 'r-vehicles']) {
        await page.waitForSelector(`section[aria-labelledby="${id}"] table`);
      }
      await page.waitForSelector('.year-text');
      assert.match(await page.$eval('.period-shown', (e) => e.innerText), new RegExp(`${first}\\s*至\\s*${last}`));
    });

    await step('the tables show what the API answers', async () => {
      const span = `from=${first}&to=${last}`;
      const meetings = await srv.must('GET', `/reports/meetings?${span}`);
      assert.equal(meetings.total.count, 3);
      assert.deepEqual(await tableRows(page, 'r-meetings'),
        meetings.rows.map((r) => [r.key == null ? '未注明' : r.key, String(r.count), String(r.hours)]));
      const rooms = await srv.must('GET', `/reports/rooms?${span}`);
      assert.deepEqual(await tableRows(page, 'r-rooms'), rooms.rows.map((r) => [r.name, String(r.bookings),
        String(r.hours), String(r.working_hours), `${(r.utilisation * 100).toFixed(1)}%`]));
      const drivers = await srv.must('GET', `/reports/drivers?${span}`);
      assert.deepEqual(await tableRows(page, 'r-drivers'), drivers.rows.map((r) => [r.name, String(r.trips),
        String(r.hours), String(r.workday_day), String(r.workday_night), String(r.rest_day), String(r.holiday)]));
      assert.equal(drivers.rows[0].hours, 6.5);
      const meals = await srv.must('GET', `/reports/meals?${span}`);
      assert.deepEqual(await tableRows(page, 'r-meals'), [['午餐', String(meals.total)]]);
      const year = await srv.must('GET', `/reports/year?year=${first.slice(0, 4)}`);
      assert.equal(await page.$eval('.year-text', (e) => e.innerText), year.text);
      // The charts are drawn (canvas) and described in words for screen readers.
      const charts = await page.$$eval('figure.chart', (f) => f.map((x) => [x.querySelectorAll('canvas').length,
        x.getAttribute('aria-label')]));
      assert.ok(charts.length >= 3, JSON.stringify(charts));
      assert.ok(charts.every(([canvas, label]) => canvas > 0 && label.length > 4), JSON.stringify(charts));
    });

    await step('by leader, then a custom period', async () => {
      await page.select('section[aria-labelledby="r-meetings"] select', 'leader');
      await page.waitForFunction(() => document.querySelector('section[aria-labelledby="r-meetings"] thead')
        ?.innerText.includes('领导'));
      await page.waitForFunction(() => document.querySelector('section[aria-labelledby="r-meetings"] tbody')
        ?.innerText.includes('王建国'));
      const rows = await tableRows(page, 'r-meetings');
      const api = await srv.must('GET', `/reports/meetings?from=${first}&to=${last}&by=leader`);
      assert.deepEqual(rows, api.rows.map((r) => [r.key, String(r.count), String(r.hours)]));
      assert.deepEqual(api.rows.find((r) => r.person === o.L1.id).count, 2);
      await page.screenshot({ path: path.join(SHOTS, 'reports.png'), fullPage: true });
      await page.screenshot({ path: path.join(REPO, 'docs', 'screenshots', 'reports.png'), fullPage: true });
      await axe(page, 'reports');
      await page.click('input[name=period][value=custom]');
      await page.waitForSelector('form.period input[type=date]');
      const inputs = await page.$$('form.period input[type=date]');
      for (const [el, v] of [[inputs[0], first], [inputs[1], first]]) {
        await el.evaluate((e, value) => { e.value = value; e.dispatchEvent(new Event('input', { bubbles: true })); }, v);
      }
      await page.click('form.period button[type=submit]');
      await page.waitForFunction((d) => document.querySelector('.period-shown')?.innerText.includes(`${d} 至 ${d}`), {}, first);
      await page.waitForFunction(() => document.querySelector('section[aria-labelledby="r-meetings"] tfoot')
        ?.innerText.replace(/\s+/g, ' ').includes('合计 2 3.5'));
      await axe(page, 'reports, custom period');
    });

    await step('the CSV download arrives under its Chinese name, with a BOM', async () => {
      // In a browser of its own without the zh-CN locale: headless Chromium under
      // LANGUAGE=zh_CN names every download whose Content-Disposition has a non-ASCII
      // filename* "download" (a bare node server shows the same; the en-US browser and
      // desktop Chromium take the name), so the name is checked where it can be.
      const plain = await puppeteer.launch({ executablePath: CHROMIUM, headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'] });
      try {
        const p2 = await plain.newPage();
        p2.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
        await p2.goto(srv.base + '/', { waitUntil: 'networkidle0' });
        await p2.waitForSelector('form.signin');
        await p2.type('#login', 'zhaoming');
        await p2.type('#password', PASSWORD);
        await Promise.all([p2.waitForSelector('header.top'), p2.click('form.signin button[type=submit]')]);
        await p2.evaluate(() => { location.hash = '#/reports'; });
        await p2.waitForSelector('section[aria-labelledby="r-meetings"] table');
        const cdp = await plain.target().createCDPSession();
        await cdp.send('Browser.setDownloadBehavior', { behavior: 'allowAndName', downloadPath: downloads,
          eventsEnabled: true });
        const begun = new Promise((resolve) => cdp.on('Browser.downloadWillBegin', resolve));
        const done = new Promise((resolve) => cdp.on('Browser.downloadProgress', (e) => {
          if (e.state === 'completed' || e.state === 'canceled') resolve(e);
        }));
        await p2.click('section[aria-labelledby="r-meetings"] a[href*="format=csv"]');
        const info = await begun;
        assert.equal(info.suggestedFilename, `会议统计_${first}至${last}.csv`);
        assert.equal((await done).state, 'completed');
        const bytes = fs.readFileSync(path.join(downloads, info.guid));
        assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
        const text = bytes.subarray(3).toString('utf8');
        assert.match(text, /^会议类别,次数,时长（小时）\r\n/);
        assert.match(text, /\r\n合计,3,6\.5\r\n$/);
      } finally {
        await plain.close();
      }
    });

    await step('no script error, CSP refusal or failed request', async () => {
      assert.deepEqual(errors, []);
    });
  } finally {
    await teardown(browser, srv, [userDir, downloads]);
  }
  finish(srv.stderr);
}

run(main);
