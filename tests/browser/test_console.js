// test_console.js - the console in a real browser: Debian's chromium,
// headless, driven by puppeteer-core, against the real convene binary
// with a fresh database. Every page is checked by axe-core (no serious or
// critical violation), for script errors and CSP refusals, and
// photographed into $CONVENE_SCREENSHOTS (build/screenshots).
//
// Covered: sign-in (a wrong password's sentence, the landing page of each
// access), the leaders' week with meetings and an empty week, times in the
// organisation's zone while the browser sits in New York, the week's
// print view (A4 landscape PDF, one table), a live update booked through
// the API arriving within 3 s, the driver's page at 390 px without
// horizontal scrolling and its 确认, the canteen's counts and print view,
// the leader's week with QR code and RSVP.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const puppeteer = require('puppeteer-core');
const { Convene } = require('./convene.js');
const { ORG_TZ, todayOrg, addDays, mondayOf, monthDay, step, teardown, run, finish, axeCheck } = require('./support.js');

const SHOTS = process.env.CONVENE_SCREENSHOTS || path.join(__dirname, '..', '..', 'build', 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'correct horse battery';
const BROWSER_TZ = 'America/New_York'; // far from the office: times must not follow it

// ---------- dates in the organisation's zone ----------

// ---------- the organisation ----------
async function seed(srv) {
  const person = (body) => srv.must('POST', '/people', body);
  const L1 = await person({ name: '王建国', role: 'leader', rank: 1, department: '局领导' });
  const L2 = await person({ name: '李文华', role: 'leader', rank: 2, department: '局领导' });
  const L3 = await person({ name: '张志强', role: 'leader', rank: 3, department: '局领导', diet: 'halal' });
  const S = await person({ name: '赵明', role: 'secretary', department: '办公室' });
  const D = await person({ name: '冯师傅', role: 'driver', department: '车队' });
  const C = await person({ name: '食堂 刘', role: 'staff', department: '机关食堂' });
  const V = await person({ name: '吴静', role: 'staff', department: '办公室', diet: 'vegetarian' });
  const room = await srv.must('POST', '/rooms', { name: '第一会议室', capacity: 20, location: '三楼' });
  const car = await srv.must('POST', '/vehicles', { name: '红旗H5', plate: '京A·12345', seats: 4 });
  const logins = [[S, 'zhaoming', 'secretary'], [L1, 'wangjianguo', 'leader'], [D, 'fengshifu', 'driver'],
    [C, 'shitang', 'canteen']];
  for (const [p, login, access] of logins) {
    await srv.must('PATCH', `/people/${p.id}`, { login, access });
    await srv.must('PUT', `/people/${p.id}/password`, { password: PASSWORD });
  }
  return { L1, L2, L3, S, D, C, V, room, car };
}

async function book(srv, body) {
  return srv.must('POST', '/events', { tz: ORG_TZ, ...body });
}

async function seedMeetings(srv, o, monday, today) {
  const at = (d, t) => `${d}T${t}:00`;
  // The week: the principal's 党组会 on Monday, a subject meeting on Tuesday,
  // a confidential one on Wednesday, two on Thursday morning.
  await book(srv, { title: '党组会', start: at(monday, '09:00'), end: at(monday, '10:30'), room: o.room.id,
    attendees: [{ person: o.L1.id }, { person: o.L2.id }, { person: o.L3.id }] });
  await book(srv, { title: '全市安全生产专题会', location: '市政府二楼会议室', start: at(addDays(monday, 1), '14:30'),
    end: at(addDays(monday, 1), '16:00'), attendees: [{ person: o.L2.id }] });
  await book(srv, { title: '干部任免酝酿', confidential: true, start: at(addDays(monday, 2), '10:00'),
    end: at(addDays(monday, 2), '11:00'), room: o.room.id, attendees: [{ person: o.L1.id }, { person: o.L3.id }] });
  await book(srv, { title: '接待省厅调研组', location: '机关大院', start: at(addDays(monday, 3), '08:30'),
    end: at(addDays(monday, 3), '09:30'), attendees: [{ person: o.L1.id }] });
  await book(srv, { title: '审阅年度工作报告', start: at(addDays(monday, 3), '10:00'),
    end: at(addDays(monday, 3), '11:30'), attendees: [{ person: o.L1.id }] });
  await book(srv, { title: '专题学习', start: at(addDays(monday, 4), '19:00'),
    end: at(addDays(monday, 4), '21:00'), attendees: [{ person: o.L3.id }] });
  // Meals today and tomorrow; a trip tomorrow for the driver. The times
  // clash with none of the week's above, whatever day today is.
  // Today's breakfast is always ordered late: its cutoff was 18:00 yesterday.
  const tomorrow = addDays(today, 1);
  await book(srv, { title: '早餐会', start: at(today, '07:00'), end: at(today, '08:00'),
    attendees: [{ person: o.V.id }], guests: 1, meals: [{ meal: 'breakfast' }] });
  await book(srv, { title: '办公会', start: at(today, '12:00'), end: at(today, '13:30'), room: o.room.id,
    attendees: [{ person: o.L2.id }, { person: o.L3.id }, { person: o.V.id }], guests: 2, meals: [{ meal: 'lunch' }] });
  await book(srv, { title: '现场调研', start: at(tomorrow, '12:30'), end: at(tomorrow, '14:00'),
    attendees: [{ person: o.L3.id }], guests: 5, meals: [{ meal: 'lunch' }, { meal: 'dinner', count: 12 }],
    trips: [{ vehicle: o.car.id, driver: o.D.id, depart: at(tomorrow, '12:05'), return: at(tomorrow, '14:20'),
      from: '机关大院', to: '市经开区管委会', passengers: [o.L3.id], approved_by: o.L1.id }] });
}

// ---------- the browser ----------
class Tab {
  constructor(browser, page, name) {
    this.browser = browser;
    this.page = page;
    this.name = name;
    this.errors = [];
    this.allowed = [...expectedFailures]; // console lines a step expects (a refused sign-in's 401)
    page.on('console', (msg) => {
      if (msg.type() !== 'error' && msg.type() !== 'warning') return;
      const text = msg.text();
      if (msg.type() === 'warning' && !/Content Security Policy/.test(text)) return;
      if (this.allowed.some((re) => re.test(text) || re.test(msg.location().url || ''))) return;
      this.errors.push(`${msg.type()}: ${text} ${msg.location().url || ''}`);
    });
    page.on('pageerror', (e) => this.errors.push('pageerror: ' + e.message));
    page.on('requestfailed', (r) => {
      // The change stream is closed on navigation; that is not a failure.
      const text = `requestfailed: ${r.url()} ${r.failure().errorText}`;
      if (!r.url().endsWith('/api/v1/changes') && !this.allowed.some((re) => re.test(text))) this.errors.push(text);
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(srvBase) && !r.url().startsWith('data:')) this.errors.push('other origin: ' + r.url());
    });
  }

  static async open(browser, name, viewport = { width: 1440, height: 900 }) {
    const ctx = await browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.emulateTimezone(BROWSER_TZ);
    await page.setViewport(viewport);
    return new Tab(browser, page, name);
  }

  async signIn(login, password = PASSWORD) {
    await this.page.goto(srvBase + '/', { waitUntil: 'networkidle0' });
    await this.page.waitForSelector('form.signin');
    await this.page.type('#login', login);
    await this.page.type('#password', password);
    await Promise.all([
      this.page.waitForSelector('header.top', { timeout: 5000 }),
      this.page.click('form.signin button[type=submit]'),
    ]);
  }

  async text(selector) {
    return this.page.$eval(selector, (e) => e.innerText);
  }

  async shot(file, opts = {}) {
    await this.page.screenshot({ path: path.join(SHOTS, file), fullPage: true, ...opts });
  }

  // axe-core in the page: no serious or critical violation.
  async axe(label) {
    return axeCheck(this.page, label);
  }

  // Clears what it reports, so one fault fails the step it happened in, not every later one.
  assertClean(label) {
    const errors = this.errors;
    this.errors = [];
    assert.deepEqual(errors, [], `console of ${label}`);
  }

  async close() {
    await this.page.browserContext().close();
  }
}

let srvBase = '';
let expectedFailures = [];

// Every waitForFunction predicate below is null-safe (?.): puppeteer polls
// it from requestAnimationFrame, and a predicate that throws once (an h1
// not rendered yet while a page's module loads) ends the polling for good:
// the page reports the TypeError and the wait runs into its 30 s timeout.

// A form field set as a person would: the value, then the event Preact listens to.
async function setField(tab, selector, value, event = 'input') {
  await tab.page.$eval(selector, (e, v, ev) => {
    e.value = v;
    e.dispatchEvent(new Event(ev, { bubbles: true }));
  }, value, event);
}

async function openForm(tab) {
  await tab.page.evaluate(() => { location.hash = '#/week'; });
  await tab.page.waitForSelector('table.week, .page-week .state');
  await tab.page.evaluate(() => { location.hash = '#/book'; });
  await tab.page.waitForSelector('form.book #title');
}

// Type part of a name, wait for the list, pick with the keyboard.
async function pickPerson(tab, typed, name) {
  await tab.page.click('#people-q');
  await tab.page.type('#people-q', typed);
  await tab.page.waitForFunction((n) => [...document.querySelectorAll('#people-list li')]
    .some((li) => li.innerText.startsWith(n)), {}, name);
  const index = await tab.page.$$eval('#people-list li', (li, n) => li.findIndex((l) => l.innerText.startsWith(n)), name);
  for (let i = 0; i < index; i++) await tab.page.keyboard.press('ArrowDown');
  await tab.page.keyboard.press('Enter');
  await tab.page.waitForFunction((n) => [...document.querySelectorAll('ul.chosen li')].some((li) => li.innerText.includes(n)), {}, name);
}

async function pdfInfo(file) {
  // pdfinfo (poppler-utils) reports the page size; the bytes say how many tables' text there is.
  const info = execFileSync('pdfinfo', [file]).toString();
  const text = execFileSync('pdftotext', ['-layout', file, '-']).toString();
  return { info, text };
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const srv = await new Convene().start();
  srvBase = srv.base;
  const today = todayOrg();
  const monday = mondayOf(today);
  const o = await seed(srv);
  await seedMeetings(srv, o, monday, today);
  // Parts of CONTRACT sections 9 and 10 built on other branches at the same
  // time: until they are merged, their steps are skipped (and say so) and
  // the console's requests for them are expected to fail.
  // XXX drop these probes once the change stream and the gaps branch are in main.
  const missing = {
    changes: (await srv.status('/changes')) === 404,
    tripsFrom: (await srv.api('GET', `/trips?from=${today}`)).status === 422,
    rsvpOccurrence: false,
  };
  {
    const occ = await srv.must('GET', `/occurrences?from=${monday}&to=${monday}&person=${o.L1.id}`);
    const r = await srv.api('POST', `/events/${occ[0].event}/rsvp`,
      { person: o.L1.id, response: 'accepted', recurrence_id: occ[0].recurrence_id });
    missing.rsvpOccurrence = r.status === 400 && r.body.error.code === 'unknown_field';
  }
  for (const [what, gone] of Object.entries(missing)) if (gone) console.log(`# not in this build yet: ${what}`);
  expectedFailures = [];
  if (missing.changes) expectedFailures.push(/\/api\/v1\/changes/);
  if (missing.tripsFrom) expectedFailures.push(/\/api\/v1\/trips\?from=/);

  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'convene-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: userDir,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', '--font-render-hinting=none', '--lang=zh-CN'],
    // A secretary's browser is Chinese: date and time inputs read 2026/12/07 and
    // 15:30, not 12/07/2026 and 03:30 PM. Chromium on Linux takes its locale from
    // LANGUAGE (--lang is for Windows) and needs Debian's chromium-l10n for it.
    env: { ...process.env, LANGUAGE: 'zh_CN', LANG: 'zh_CN.UTF-8' },
  });
  {
    const probe = await browser.newPage();
    const lang = await probe.evaluate(() => navigator.language);
    await probe.close();
    if (lang !== 'zh-CN') console.log(`# chromium runs in ${lang}: install chromium-l10n, or the screenshots show English date and time inputs`);
  }

  try {
    let sec;
    await step('sign-in: a wrong password is answered in Chinese, the form stays', async () => {
      sec = await Tab.open(browser, 'secretary');
      sec.allowed.push(/\/api\/v1\/session/); // the 401s of "nobody signed in" and of the wrong password
      await sec.page.goto(srvBase + '/', { waitUntil: 'networkidle0' });
      await sec.page.waitForSelector('form.signin');
      assert.equal(await sec.page.$eval('html', (e) => e.lang), 'zh-CN');
      await sec.page.type('#login', 'zhaoming');
      await sec.page.type('#password', 'wrong password!');
      await sec.page.click('form.signin button[type=submit]');
      await sec.page.waitForSelector('.form-error');
      assert.equal(await sec.text('.form-error'), '用户名或密码错误');
      assert.equal(await sec.page.$eval('#password', (e) => e.value), '');
      await sec.shot('signin-error.png');
      await sec.axe('sign-in');
      sec.assertClean('sign-in');
    });

    await step('secretary lands on the leaders\' week: leaders by rank, meetings in their cells', async () => {
      await sec.page.type('#password', PASSWORD);
      await Promise.all([sec.page.waitForSelector('table.week'), sec.page.click('form.signin button[type=submit]')]);
      assert.match(await sec.page.evaluate(() => location.hash), /^#\/week/);
      const title = await sec.text('h1');
      assert.equal(title, `领导一周活动安排（${monthDay(monday)}—${monthDay(addDays(monday, 6))}）`);
      const heads = await sec.page.$$eval('table.week thead th', (ths) => ths.map((t) => t.innerText.trim()));
      assert.deepEqual(heads, ['日期', '时段', '王建国', '李文华', '张志强']);
      // Monday morning, 王建国's column: 党组会 at 09:00 in the organisation's zone.
      // A cell's meetings, each as "time title place".
      const cell = (day, period, col) => sec.page.$eval(
        `table.week tbody:nth-of-type(${day + 1}) tr:nth-child(${period + 1}) td:nth-of-type(${col})`,
        (td) => [...td.querySelectorAll('.mtg')].map((m) => [...m.children].map((c) => c.innerText.trim())
          .join(' ')).join(' '));
      assert.equal(await cell(0, 0, 1), '09:00–10:30 党组会 第一会议室');
      assert.equal(await cell(0, 0, 3), '09:00–10:30 党组会 第一会议室');
      assert.equal(await cell(1, 1, 2), '14:30–16:00 全市安全生产专题会 市政府二楼会议室');
      assert.match(await cell(3, 0, 1), /^08:30–09:30 接待省厅调研组 机关大院 10:00–11:30 审阅年度工作报告$/);
      assert.equal(await cell(4, 2, 3), '19:00–21:00 专题学习');
      assert.equal(await cell(1, 1, 1), '');
      // Secretaries may see what a confidential meeting is.
      assert.match(await cell(2, 0, 1), /干部任免酝酿 密/);
      await sec.shot('week.png');
      await sec.axe('week');
      sec.assertClean('week');
    });

    await step('the week prints alone on A4 landscape with its title', async () => {
      await sec.page.emulateMediaType('print');
      const visible = await sec.page.evaluate(() => ({
        tables: [...document.querySelectorAll('table')].filter((t) => t.offsetParent !== null).length,
        header: document.querySelector('header.top').offsetParent !== null,
        buttons: [...document.querySelectorAll('button')].filter((b) => b.offsetParent !== null).length,
      }));
      assert.deepEqual(visible, { tables: 1, header: false, buttons: 0 });
      const file = path.join(SHOTS, 'week-print.pdf');
      await sec.page.pdf({ path: file, preferCSSPageSize: true, printBackground: false });
      const { info, text } = await pdfInfo(file);
      assert.match(info, /Page size:\s+84[12](\.\d+)? x 59[45](\.\d+)? pts \(A4\)/, info);
      assert.match(info, /Pages:\s+1\b/, info);
      assert.match(text, new RegExp(`领导一周活动安排（${monthDay(monday)}—${monthDay(addDays(monday, 6))}）`));
      assert.doesNotMatch(text, /上一周|打印|退出/);
      await sec.shot('week-print.png');
      await sec.page.emulateMediaType('screen');
    });

    await step('a booking made through the API appears in the open week within 3 s, highlighted', async () => {
      if (missing.changes) {
        console.log('  SKIP: GET /api/v1/changes is not in this build');
        return;
      }
      const day = addDays(monday, 5);
      const t0 = Date.now();
      await book(srv, { title: '周末值班检查', start: `${day}T15:00:00`, end: `${day}T16:00:00`,
        attendees: [{ person: o.L2.id }] });
      await sec.page.waitForFunction(() => [...document.querySelectorAll('table.week td')]
        .some((td) => td.innerText.includes('周末值班检查')), { timeout: 3000 });
      const elapsed = Date.now() - t0;
      const flashed = await sec.page.$$eval('td.flash', (tds) => tds.map((t) => t.innerText));
      assert.ok(flashed.some((t) => t.includes('周末值班检查')), JSON.stringify(flashed));
      console.log(`  live update shown after ${elapsed} ms`);
      await sec.shot('week-live.png');
      sec.assertClean('live update');
    });

    await step('an empty week says so', async () => {
      const far = addDays(monday, 7 * 20);
      await sec.page.evaluate((w) => { location.hash = `#/week?w=${w}`; }, far);
      await sec.page.waitForFunction((t) => document.querySelector('h1')?.innerText.includes(t), {}, monthDay(far));
      await sec.page.waitForSelector('.state.empty');
      assert.equal(await sec.text('.state.empty'), '本周暂无安排');
      await sec.axe('empty week');
      sec.assertClean('empty week');
      await sec.close();
    });

    await step('driver at 390 px: trips ahead with plate, no horizontal scroll, 确认 acknowledges', async () => {
      const drv = await Tab.open(browser, 'driver', { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
      drv.allowed.push(/\/api\/v1\/session/);
      await drv.signIn('fengshifu');
      await drv.page.waitForSelector('li.trip');
      assert.match(await drv.page.evaluate(() => location.hash), /^#\/trips/);
      const card = await drv.text('li.trip');
      assert.match(card, /12:05/);
      assert.match(card, /机关大院\s*→\s*市经开区管委会/);
      assert.match(card, /张志强/);
      const width = await drv.page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
      assert.ok(width[0] <= width[1], `scrollWidth ${width[0]} > ${width[1]}`);
      await drv.shot('driver.png');
      await drv.axe('driver');
      await drv.page.click('li.trip button.primary');
      await drv.page.waitForSelector('li.trip .acked');
      assert.equal(await drv.text('li.trip .acked'), '已确认');
      const trips = await srv.must('GET', `/trips?date=${addDays(today, 1)}&driver=${o.D.id}`);
      assert.equal(trips.length, 1);
      assert.equal(trips[0].acknowledged, true);
      await drv.shot('driver-acknowledged.png');
      drv.assertClean('driver');
      await drv.close();
    });

    await step('canteen: today\'s and tomorrow\'s counts per meal and diet, print view', async () => {
      const cat = await Tab.open(browser, 'canteen');
      cat.allowed.push(/\/api\/v1\/session/);
      await cat.signIn('shitang');
      await cat.page.waitForSelector('section.meal');
      assert.match(await cat.page.evaluate(() => location.hash), /^#\/meals/);
      const days = await cat.page.$$eval('section.meal-day', (s) => s.map((d) => d.innerText));
      assert.equal(days.length, 2);
      // Today: lunch for 3 attendees + 2 guests = 5; 张志强 halal, 吴静 vegetarian.
      assert.match(days[0], /^今天/);
      // Booked after lunch's cutoff (10:00 in the office's zone), today's lunch is 迟报 too.
      const orgNow = new Intl.DateTimeFormat('en-GB', { timeZone: ORG_TZ, hour: '2-digit', minute: '2-digit',
        hourCycle: 'h23' }).format(new Date());
      const lunchLate = orgNow >= '10:00';
      assert.match(days[0], lunchLate ? /午餐\s*5\s*人\s*迟报\s*清真\s*1\s*素食\s*1\s*普通\s*3/
        : /午餐\s*5\s*人\s*清真\s*1\s*素食\s*1\s*普通\s*3/);
      assert.match(days[0], /清真\s*1/);
      assert.match(days[0], /素食\s*1/);
      assert.match(days[0], /普通\s*3/);
      assert.match(days[0], /办公会/);
      const breakfast = await cat.page.$eval('section.meal', (m) => m.innerText);
      assert.match(breakfast, /^早餐\s*2\s*人\s*迟报/);
      assert.equal(await cat.page.$$eval('section.meal.late tr.late .tag.late', (t) => t.length), lunchLate ? 2 : 1);
      // Tomorrow: lunch 1 + 5 guests, dinner a fixed 12.
      assert.match(days[1], /午餐\s*6\s*人\s*清真\s*1\s*素食\s*0\s*普通\s*5/);
      assert.match(days[1], /晚餐\s*12\s*人/);
      const csv = await cat.page.$eval('a.button[download]', (a) => a.getAttribute('href'));
      assert.match(csv, /format=csv/);
      const got = await cat.page.evaluate(async (u) => {
        const r = await fetch(u);
        return [r.status, r.headers.get('Content-Type'), await r.text()];
      }, csv);
      assert.equal(got[0], 200);
      assert.match(got[1], /text\/csv/);
      assert.match(got[2], /办公会/);
      // No meeting title, diet count or 迟报 tag is broken over two lines ("普通" above "3"):
      // the text's line boxes (a Range's rects, one per text node and line) share one top.
      const brokenLines = () => cat.page.$$eval(
        '.by-meeting td:nth-child(2), .by-meeting .diet, .by-meeting .tag, .meal h3 .tag',
        (els) => els.filter((el) => {
          const range = document.createRange();
          range.selectNodeContents(el);
          return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size !== 1;
        }).map((el) => el.textContent));
      assert.deepEqual(await brokenLines(), []);
      await cat.shot('canteen.png');
      await cat.axe('canteen');
      await cat.page.emulateMediaType('print');
      const hidden = await cat.page.evaluate(() => document.querySelector('header.top').offsetParent === null);
      assert.ok(hidden);
      await cat.page.pdf({ path: path.join(SHOTS, 'canteen-print.pdf'), preferCSSPageSize: true });
      await cat.shot('canteen-print.png');
      // On a 390 px phone: one meal under the other, nothing wider than the screen.
      await cat.page.emulateMediaType('screen');
      await cat.page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
      await cat.page.waitForSelector('section.meal'); // a mobile viewport reloads the page
      assert.equal(await cat.page.$$eval('section.meal', (m) => m.length), 4);
      const phone = await cat.page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
      assert.ok(phone[0] <= phone[1], `scrollWidth ${phone[0]} > ${phone[1]}`);
      assert.deepEqual(await brokenLines(), []);
      await cat.shot('canteen-390.png');
      cat.assertClean('canteen');
      await cat.close();
    });

    await step('leader: their week, the feed as a webcal link and QR code, RSVP per occurrence', async () => {
      const ldr = await Tab.open(browser, 'leader');
      ldr.allowed.push(/\/api\/v1\/session/);
      await ldr.signIn('wangjianguo');
      await ldr.page.waitForSelector('li.occ');
      assert.match(await ldr.page.evaluate(() => location.hash), /^#\/my-week/);
      const items = await ldr.page.$$eval('li.occ', (li) => li.map((l) => l.innerText.replace(/\s+/g, ' ')));
      assert.ok(items.some((t) => /09:00–10:30 党组会/.test(t)), JSON.stringify(items));
      assert.ok(items.some((t) => /干部任免酝酿/.test(t)), 'a leader sees their own confidential meeting');
      const href = await ldr.page.$eval('a.webcal', (a) => a.href);
      const me = await srv.must('GET', `/people/${o.L1.id}`);
      assert.equal(href, me.webcal_url || me.feed_url);
      const qr = await ldr.page.$eval('svg.qr path', (p) => p.getAttribute('d').length);
      assert.ok(qr > 500, 'QR code drawn');
      await ldr.shot('leader.png');
      await ldr.axe('leader');
      if (missing.rsvpOccurrence) {
        console.log('  SKIP RSVP: this build refuses recurrence_id in POST /events/{id}/rsvp');
        ldr.assertClean('leader');
        await ldr.close();
        return;
      }
      // Decline one occurrence: the button shows it, the API has it.
      const first = await ldr.page.$('li.occ');
      const [, decline] = await first.$$('.rsvp button');
      await decline.click();
      await ldr.page.waitForFunction(() => document.querySelector('li.occ .rsvp button:nth-child(2)')
        ?.getAttribute('aria-pressed') === 'true', { timeout: 5000 });
      const occ = await srv.must('GET', `/occurrences?from=${monday}&to=${addDays(monday, 6)}&person=${o.L1.id}&declined=include`);
      const mine = occ[0].attendees.find((a) => a.person === o.L1.id);
      assert.equal(mine.response, 'declined');
      await ldr.shot('leader-declined.png');
      ldr.assertClean('leader');
      await ldr.close();
    });

    // ---------- issue 15, part 2: the secretaries' and admins' pages ----------
    const next = addDays(monday, 7); // next Monday: nothing booked there yet
    let booked = null;
    let bk;
    await step('预订会议: one form books room, car with driver and passengers, meals with guests\' diets', async () => {
      bk = await Tab.open(browser, 'booking');
      bk.allowed.push(/\/api\/v1\/session/, /status of 4(09|22)/);
      await bk.signIn('zhaoming');
      const nav = await bk.page.$$eval('header.top nav a', (as) => as.map((a) => a.innerText));
      assert.deepEqual(nav, ['领导一周活动安排', '预订会议', '会议室', '车辆', '今明用餐', '统计报表', '待我审批']);
      await openForm(bk);
      await bk.page.type('#title', '市政府常务会议筹备会');
      await setField(bk, '#date', next);
      await setField(bk, '#start', '15:00');
      await setField(bk, '#end', '16:00');
      // Recurrence in words: weekly on Monday, 4 times.
      await setField(bk, '#repeat', 'weekly', 'change');
      await bk.page.waitForFunction(() => document.querySelector('#repeat-words')?.innerText === '每周一，共10次');
      await setField(bk, '.ends input.num', '4');
      assert.equal(await bk.text('#repeat-words'), '每周一，共4次');
      await pickPerson(bk, '王', '王建国');
      await pickPerson(bk, '张志', '张志强');
      await setField(bk, '#guests', '2');
      await setField(bk, '#room', o.room.id, 'change');
      assert.match(await bk.text('#capacity'), /参会 2 人 \+ 来宾 2 人 = 4 人；第一会议室容量 20 人/);
      await bk.page.click('#add-trip');
      await setField(bk, '#trip-0-vehicle', o.car.id, 'change');
      await setField(bk, '#trip-0-driver', o.D.id, 'change');
      await setField(bk, '#trip-0-to', '市政府');
      await setField(bk, '#trip-0-depart', '14:30');
      await setField(bk, '#trip-0-ret', '16:30');
      await bk.page.$$eval('.passengers input', (cb) => cb[0].click());
      await bk.page.click('#meal-lunch');
      await setField(bk, '#diet-halal', '1');
      await bk.shot('book-form.png');
      await bk.axe('booking form');
      // Enter in a field saves the form.
      await bk.page.focus('#title');
      await Promise.all([bk.page.waitForSelector('.page-meeting'), bk.page.keyboard.press('Enter')]);
      const id = decodeURIComponent((await bk.page.evaluate(() => location.hash)).match(/id=([^&]+)/)[1]);
      booked = await srv.must('GET', `/events/${id}`);
      assert.equal(booked.title, '市政府常务会议筹备会');
      assert.equal(booked.start, `${next}T15:00:00`);
      assert.equal(booked.rrule, 'FREQ=WEEKLY;BYDAY=MO;COUNT=4');
      assert.equal(booked.room, o.room.id);
      assert.deepEqual(booked.attendees.map((a) => a.person).sort(), [o.L1.id, o.L3.id].sort());
      assert.equal(booked.guests, 2);
      assert.deepEqual(booked.meals.map((m) => [m.meal, m.diets]), [['lunch', { halal: 1 }]]);
      assert.equal(booked.trips.length, 1);
      const t = booked.trips[0];
      assert.deepEqual([t.vehicle, t.driver, t.to, t.depart, t.passengers], [o.car.id, o.D.id, '市政府', `${next}T14:30:00`, [o.L1.id]]);
      bk.assertClean('booking');
    });

    await step('a refused booking lists each clash in Chinese (who, why, with what, when); nothing is stored', async () => {
      await openForm(bk);
      await bk.page.type('#title', '临时碰头会');
      await setField(bk, '#date', next);
      await setField(bk, '#start', '15:30');
      await setField(bk, '#end', '16:30');
      await pickPerson(bk, '王', '王建国');
      await setField(bk, '#room', o.room.id, 'change');
      await bk.page.click('.book-actions button[type=submit]');
      await bk.page.waitForSelector('.clashes li');
      const lines = await bk.page.$$eval('.clashes li', (li) => li.map((l) => l.innerText));
      const want = `时间重叠，与会议「市政府常务会议筹备会」 ${monthDay(next)}（周一）15:00冲突`;
      assert.ok(lines.some((l) => l.startsWith('第一会议室：') && l.includes(want)), JSON.stringify(lines));
      assert.ok(lines.some((l) => l.startsWith('王建国：时间重叠')), JSON.stringify(lines));
      assert.match(await bk.page.evaluate(() => location.hash), /^#\/book/);
      const occ = await srv.must('GET', `/occurrences?from=${next}&to=${next}&room=${o.room.id}`);
      assert.deepEqual(occ.map((x) => x.title), ['市政府常务会议筹备会']);
      await bk.shot('book-clash.png');
      await bk.axe('booking clash');
      // A 422 is shown next to the field it names.
      await setField(bk, '#room', '', 'change');
      await setField(bk, '#start', '09:00');
      await setField(bk, '#end', '08:00');
      await bk.page.click('.book-actions button[type=submit]');
      await bk.page.waitForSelector('fieldset.when .field-error');
      assert.match(await bk.text('fieldset.when .field-error'), /结束时间早于开始时间|不符合要求/);
      bk.assertClean('booking clash');
    });

    await step('找时间 lists free slots by day with rooms best fit first, and a pick fills the form', async () => {
      await openForm(bk);
      await setField(bk, '#date', next);
      await pickPerson(bk, '王', '王建国');
      await bk.page.click('#find-time');
      await bk.page.waitForSelector('button.slot');
      const first = await bk.page.$eval('button.slot', (b) => b.innerText.replace(/\s+/g, ' '));
      assert.match(first, new RegExp(`^${monthDay(next)}（周一） 08:30–09:30 第一会议室（最合适）`), first);
      await bk.axe('find a time');
      await bk.page.click('button.slot');
      await bk.page.waitForFunction(() => !document.querySelector('.findtime'));
      const filled = await bk.page.evaluate(() => ['#date', '#start', '#end', '#room'].map((s) => document.querySelector(s).value));
      assert.deepEqual(filled, [next, '08:30', '09:30', o.room.id]);
      await bk.page.click('#find-time');
      await bk.page.waitForSelector('.findtime');
      await bk.page.keyboard.press('Escape');
      await bk.page.waitForFunction(() => !document.querySelector('.findtime'));
      bk.assertClean('find a time');
    });

    await step('会议详情: occurrences, answers, trip 未确认, meals, history before → after; cancel one occurrence', async () => {
      await srv.must('PATCH', `/events/${booked.id}`, { title: '常务会议筹备会' });
      await bk.page.evaluate((id) => { location.hash = `#/meeting?id=${id}`; }, booked.id);
      await bk.page.waitForFunction(() => document.querySelector('h1')?.innerText === '常务会议筹备会');
      await bk.page.waitForSelector('ol.history li');
      const occ = await bk.page.$$eval('.occ-row .time', (s) => s.map((x) => x.innerText));
      assert.equal(occ.length, 4);
      assert.equal(occ[0], `${monthDay(next)}（周一）15:00–16:00`);
      const hist = await bk.text('ol.history');
      assert.match(hist, /修改[\s\S]*会议名称：\s*市政府常务会议筹备会\s*→\s*常务会议筹备会/);
      assert.match(hist, /创建/);
      // The admin token's change is said in Chinese, not as the server's 'bootstrap admin'.
      assert.match(hist, /修改[^\n]*接口令牌「初始管理员」/);
      assert.doesNotMatch(hist, /bootstrap/);
      assert.match(await bk.text('.trip-list'), /未确认/);
      assert.match(await bk.text('.page-meeting'), /每周一，共4次/);
      await bk.shot('meeting.png');
      await bk.axe('meeting');
      // Cancel the second occurrence: the confirmation says what happens.
      const rows = await bk.page.$$('.occ-row');
      const [, cancel] = await rows[1].$$('.acts button');
      await cancel.click();
      await bk.page.waitForSelector('.confirm');
      assert.match(await bk.text('.confirm'), new RegExp(`将取消 ${monthDay(addDays(next, 7))}（周一）15:00–16:00 这一次「常务会议筹备会」，其他日期不变`));
      await bk.page.click('.confirm button.primary');
      await bk.page.waitForFunction(() => document.querySelectorAll('.occ-row')[1]?.innerText.includes('已取消')
        || document.querySelectorAll('.occ-row').length === 3, { timeout: 5000 });
      const left = await srv.must('GET', `/occurrences?from=${addDays(next, 7)}&to=${addDays(next, 7)}&room=${o.room.id}`);
      assert.ok(left.every((x) => x.event !== booked.id || x.status === 'cancelled'), JSON.stringify(left));
      bk.assertClean('meeting');
    });

    await step('会议室 board: a drag moves a booking; a drag onto a clash snaps back with the reason', async () => {
      const other = await book(srv, { title: '预算评审', start: `${next}T17:00:00`, end: `${next}T18:00:00`, room: o.room.id });
      await bk.page.evaluate((d) => { location.hash = `#/rooms?d=${d}&v=day`; }, next);
      const sel = `a.booking[data-key^="${booked.id}/"]`;
      await bk.page.waitForSelector(sel);
      assert.match(await bk.text('h1'), new RegExp(`会议室（${monthDay(next)}（周一））`));
      await bk.shot('rooms.png');
      await bk.axe('room board');
      const drag = async (minutes) => {
        const el = await bk.page.$(sel);
        const b = await el.boundingBox();
        const track = await bk.page.$eval(sel, (a) => a.parentElement.getBoundingClientRect().width);
        const dx = (track * minutes) / (15 * 60);
        await bk.page.mouse.move(b.x + 8, b.y + b.height / 2);
        await bk.page.mouse.down();
        await bk.page.mouse.move(b.x + 8 + dx / 2, b.y + b.height / 2, { steps: 4 });
        await bk.page.mouse.move(b.x + 8 + dx, b.y + b.height / 2, { steps: 4 });
        await bk.page.mouse.up();
      };
      await drag(60); // 15:00 -> 16:00, this occurrence only (a series)
      // The drop shows the move's preview; nothing is saved before 确认移动.
      await bk.page.waitForSelector('.move-dialog .preview .ok-line');
      assert.match(await bk.text('.move-dialog'), new RegExp(`将把「常务会议筹备会」移到 第一会议室，${monthDay(next)}（周一）16:00 开始`));
      assert.match(await bk.text('.move-dialog .preview'), /派车变更：冯师傅 红旗H5 京A·12345/);
      let occ = await srv.must('GET', `/occurrences?from=${next}&to=${next}&room=${o.room.id}`);
      assert.equal(occ.find((x) => x.event === booked.id).start, `${next}T15:00:00`, 'not saved before 确认移动');
      await bk.page.click('.move-dialog button.primary');
      await bk.page.waitForFunction(() => /已移动/.test(document.querySelector('.board-msg')?.innerText), { timeout: 5000 });
      occ = await srv.must('GET', `/occurrences?from=${next}&to=${next}&room=${o.room.id}`);
      const mine = () => occ.find((x) => x.event === booked.id);
      assert.equal(mine().start, `${next}T16:00:00`);
      // The board has reloaded with the move (the grid is aria-busy while it reloads).
      await bk.page.waitForFunction((s) => document.querySelector(s)?.title.includes('16:00')
        && document.querySelector('.board[aria-busy=false]'), {}, sel);
      await drag(60); // 16:00 -> 17:00 meets 预算评审
      // The preview names the clash before anything is saved; 确认移动 cannot be pressed.
      await bk.page.waitForSelector('.move-dialog .clashes li');
      const msg = await bk.text('.move-dialog');
      assert.match(msg, /有冲突，暂不能保存/);
      assert.match(msg, /第一会议室：时间重叠，与会议「预算评审」/);
      assert.equal(await bk.page.$eval('.move-dialog button.primary', (b) => b.disabled), true);
      await bk.shot('rooms-refused.png');
      await bk.axe('room board move preview');
      await bk.page.keyboard.press('Escape');
      await bk.page.waitForFunction(() => !document.querySelector('.move-dialog'));
      occ = await srv.must('GET', `/occurrences?from=${next}&to=${next}&room=${o.room.id}`);
      assert.equal(mine().start, `${next}T16:00:00`);
      const left = await bk.page.$eval(sel, (a) => a.style.transform);
      assert.equal(left, '', 'the booking snapped back');
      await srv.must('DELETE', `/events/${other.id}`);
      // The week view and the car board show the same day.
      await bk.page.evaluate((d) => { location.hash = `#/cars?d=${d}&v=week`; }, next);
      await bk.page.waitForSelector('.page-board a.booking');
      assert.match(await bk.text('.page-board a.booking'), /机关大院→市政府/);
      await bk.shot('cars-week.png');
      await bk.axe('car board');
      bk.assertClean('boards');
      await bk.close();
    });

    // A meeting on Tuesday with a trip and lunch; a lower-ranked one on Wednesday in the room.
    const tue = addDays(next, 1);
    const wed = addDays(next, 2);
    let moved;
    await step('预订会议 while typing: the clash in Chinese before 保存, then the preview of preempting it', async () => {
      moved = await book(srv, { title: '调研座谈', start: `${tue}T15:00:00`, end: `${tue}T16:00:00`,
        attendees: [{ person: o.L2.id }], guests: 1, meals: [{ meal: 'lunch' }],
        trips: [{ vehicle: o.car.id, driver: o.D.id, depart: `${tue}T14:30:00`, return: `${tue}T16:30:00`,
          from: '机关大院', to: '市档案馆', passengers: [o.L2.id] }] });
      const low = await book(srv, { title: '科室例会', start: `${wed}T09:00:00`, end: `${wed}T10:00:00`,
        room: o.room.id, attendees: [{ person: o.V.id }], meals: [{ meal: 'lunch' }] });
      const pv = await Tab.open(browser, 'preview');
      pv.allowed.push(/\/api\/v1\/session/, /status of 4(09|22)/);
      await pv.signIn('zhaoming');
      await pv.page.evaluate((id) => { location.hash = `#/book?id=${id}`; }, moved.id);
      await pv.page.waitForFunction(() => document.querySelector('#title')?.value === '调研座谈');
      const asked = [];
      pv.page.on('request', (r) => { if (r.url().includes('dry_run=true')) asked.push(r.method()); });
      await setField(pv, '#date', wed);
      await setField(pv, '#start', '09:00');
      await setField(pv, '#end', '10:00');
      await setField(pv, '#room', o.room.id, 'change');
      // Typed, not saved: the clash shows, naming the room, the other meeting and why.
      await pv.page.waitForFunction(() => document.querySelector('.preview .clashes li')?.innerText.includes('科室例会'));
      assert.match(await pv.text('.preview .clashes'), new RegExp(`第一会议室：时间重叠，与会议「科室例会」 ${monthDay(wed)}（周三）09:00冲突`));
      assert.ok(asked.length >= 1 && asked.length <= 4, `debounced: ${asked.length} dry runs for 4 fields`);
      // 李文华 ranks above 吴静: ticking 优先占用 is offered, with what it would do.
      assert.match(await pv.text('.preview'), new RegExp(`勾选“优先占用”后可保存[\\s\\S]*「科室例会」${monthDay(wed)}（周三）09:00 将失去会议室「第一会议室」`));
      await pv.page.click('#preempt');
      await pv.page.waitForFunction(() => document.querySelector('.preview .ok-line'));
      const fx = await pv.text('.preview');
      assert.match(fx, /司机需重新确认出车：冯师傅/);
      assert.match(fx, new RegExp(`派车变更：冯师傅 红旗H5 京A·12345，${monthDay(wed)}（周三）08:30 出发，机关大院→市档案馆`));
      assert.match(fx, new RegExp(`食堂：${monthDay(tue)}（周二）午餐 2 → 0 人（−2）`));
      assert.match(fx, new RegExp(`食堂：${monthDay(wed)}（周三）午餐 1 → 3 人（\\+2）`));
      assert.match(fx, new RegExp(`「科室例会」${monthDay(wed)}（周三）09:00 将失去会议室「第一会议室」`));
      await pv.shot('book-preview.png');
      await pv.axe('booking preview');
      // Nothing is written by looking.
      assert.equal((await srv.must('GET', `/events/${moved.id}`)).start, `${tue}T15:00:00`);
      assert.equal((await srv.must('GET', `/events/${low.id}`)).room, o.room.id);
      await Promise.all([pv.page.waitForSelector('.page-meeting'), pv.page.click('.book-actions button[type=submit]')]);
      const after = await srv.must('GET', `/events/${moved.id}`);
      assert.deepEqual([after.start, after.room], [`${wed}T09:00:00`, o.room.id]);
      assert.equal((await srv.must('GET', `/events/${low.id}`)).room ?? null, null);
      pv.assertClean('booking preview');
      await pv.close();
    });

    await step('车辆 board: dragging a trip shows the driver to re-acknowledge, 确认移动 saves it', async () => {
      const cv = await Tab.open(browser, 'cars');
      cv.allowed.push(/\/api\/v1\/session/);
      await cv.signIn('zhaoming');
      await cv.page.evaluate((d) => { location.hash = `#/cars?d=${d}&v=day`; }, wed);
      const [trip] = (await srv.must('GET', `/events/${moved.id}`)).trips;
      const sel = `a.booking[data-key^="${trip.id}/"]`;
      await cv.page.waitForSelector(sel);
      const el = await cv.page.$(sel);
      const b = await el.boundingBox();
      const track = await cv.page.$eval(sel, (a) => a.parentElement.getBoundingClientRect().width);
      const dx = (track * 60) / (15 * 60);
      await cv.page.mouse.move(b.x + 8, b.y + b.height / 2);
      await cv.page.mouse.down();
      await cv.page.mouse.move(b.x + 8 + dx / 2, b.y + b.height / 2, { steps: 4 });
      await cv.page.mouse.move(b.x + 8 + dx, b.y + b.height / 2, { steps: 4 });
      await cv.page.mouse.up();
      await cv.page.waitForSelector('.move-dialog .preview .ok-line');
      const text = await cv.text('.move-dialog');
      assert.match(text, new RegExp(`将把「机关大院→市档案馆」移到 红旗H5 京A·12345，${monthDay(wed)}（周三）09:30 出发`));
      assert.match(text, /司机需重新确认出车：冯师傅/);
      assert.match(text, new RegExp(`派车变更：冯师傅 红旗H5 京A·12345，${monthDay(wed)}（周三）09:30 出发`));
      assert.notEqual(await cv.page.$eval(sel, (a) => a.style.transform), '', 'the trip waits where it was dropped');
      await cv.shot('cars-drag-preview.png');
      await cv.axe('car board move preview');
      assert.equal((await srv.must('GET', `/events/${moved.id}`)).trips[0].depart, `${wed}T08:30:00`);
      await cv.page.click('.move-dialog button.primary');
      await cv.page.waitForFunction(() => /已移动/.test(document.querySelector('.board-msg')?.innerText), { timeout: 5000 });
      const saved = (await srv.must('GET', `/events/${moved.id}`)).trips[0];
      assert.deepEqual([saved.depart, saved.return], [`${wed}T09:30:00`, `${wed}T11:30:00`]);
      cv.assertClean('car board drag');
      await cv.close();
    });

    await step('系统设置: an admin adds a room (with a refused one first), sees the working calendar', async () => {
      const A = await srv.must('POST', '/people', { name: '孙丽', role: 'staff', department: '办公室' });
      await srv.must('PATCH', `/people/${A.id}`, { login: 'sunli', access: 'admin' });
      await srv.must('PUT', `/people/${A.id}/password`, { password: PASSWORD });
      const adm = await Tab.open(browser, 'admin');
      adm.allowed.push(/\/api\/v1\/session/, /status of 4(22|04)/);
      await adm.signIn('sunli');
      await adm.page.evaluate(() => { location.hash = '#/admin?t=rooms'; });
      await adm.page.waitForSelector('table.records');
      await adm.page.type('#add-rooms-name', '第二会议室');
      await adm.page.type('#add-rooms-capacity', '0');
      await adm.page.click('form.add-form button[type=submit]');
      await adm.page.waitForSelector('form.add-form [role=alert]');
      await adm.page.$eval('#add-rooms-capacity', (e) => { e.value = ''; });
      await adm.page.type('#add-rooms-capacity', '12');
      await adm.page.type('#add-rooms-features', '视频会议、projector'); // a name as the admin says it, or the API's code
      await adm.page.type('#add-rooms-setup_minutes', '15');
      await adm.page.click('form.add-form button[type=submit]');
      await adm.page.waitForFunction(() => document.querySelector('table.records')?.innerText.includes('第二会议室'));
      const row = await adm.page.$$eval('table.records tbody tr', (r) => r.map((x) => x.innerText.replace(/\s+/g, ' ')));
      assert.ok(row.some((t) => /第二会议室 12人 视频会议、投影仪 15\/0 分钟/.test(t)), JSON.stringify(row));
      const rooms = await srv.must('GET', '/rooms');
      const made = rooms.find((r) => r.name === '第二会议室');
      assert.deepEqual([made.capacity, made.features, made.setup_minutes], [12, ['video', 'projector'], 15]);
      await adm.shot('admin-rooms.png');
      await adm.axe('admin rooms');
      await adm.page.evaluate(() => { location.hash = '#/admin?t=calendar'; });
      await adm.page.waitForSelector('ul.years');
      assert.match(await adm.text('.page-admin'), /工作日历至 \d{4}-12-31/);
      assert.doesNotMatch(await adm.text('.page-admin'), /PUT \/api|calendar load|The working calendar/);
      await adm.shot('admin-calendar.png');
      await adm.axe('admin calendar');
      adm.assertClean('admin');
      await adm.close();
    });

    // CONSOLE.md's budget: the week renders in under 100 ms. Measured, not enforced: the
    // machine is shared, so the figures go to docs/PERFORMANCE.md, and only what is drawn
    // (every meeting, every trip) is asserted.
    await step('render cost: the week and the boards of a large office (40 leaders, 301 meetings)', async () => {
      const W = addDays(monday, 35); // past the weekly series booked above
      const made = { leaders: [], rooms: [], cars: [], drivers: [] };
      for (let i = 0; i < 40; i++) made.leaders.push(await srv.must('POST', '/people', { name: `领导${i + 1}`, role: 'leader', rank: 10 + i }));
      for (let i = 0; i < 20; i++) made.rooms.push(await srv.must('POST', '/rooms', { name: `${i + 2}号会议室`, capacity: 30 }));
      for (let i = 0; i < 10; i++) {
        made.cars.push(await srv.must('POST', '/vehicles', { name: `公务车${i + 1}`, plate: `京B·${10000 + i}`, seats: 4 }));
        made.drivers.push(await srv.must('POST', '/people', { name: `司机${i + 1}`, role: 'driver' }));
      }
      // 43 a day: a leader never twice in one slot, a room once per slot; trips on weekdays only.
      const SLOTS = [['09:00', '10:00'], ['11:00', '12:00'], ['14:00', '15:00']];
      const hm = (t, d) => { const m = Number(t.slice(0, 2)) * 60 + Number(t.slice(3)) + d; return `${String(m / 60 | 0).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`; };
      let trips = 0;
      for (let d = 0; d < 7; d++) {
        const day = addDays(W, d);
        for (let j = 0; j < 43; j++) {
          const [s, e] = SLOTS[Math.floor(j / 20)];
          const body = { title: `专题会${d * 43 + j + 1}`, start: `${day}T${s}:00`, end: `${day}T${e}:00`,
            attendees: [{ person: made.leaders[j % 40].id }], room: made.rooms[j % 20].id };
          if (d < 5 && j % 2 === 0) {
            const k = Math.floor(j / 2) % 10;
            body.trips = [{ vehicle: made.cars[k].id, driver: made.drivers[k].id, depart: `${day}T${hm(s, -30)}:00`,
              return: `${day}T${hm(e, 30)}:00`, from: '机关大院', to: '市政府', passengers: [made.leaders[j % 40].id] }];
            trips++;
          }
          await book(srv, body);
        }
      }
      const tab = await Tab.open(browser, 'perf', { width: 1920, height: 1080 });
      tab.allowed.push(/\/api\/v1\/session/); // nobody signed in yet: a 401
      await tab.signIn('zhaoming');
      const measure = async (hash, selector, count) => {
        const runs = [];
        for (let r = 0; r < 3; r++) {
          await tab.page.evaluate(() => { location.hash = '#/book'; });
          await tab.page.waitForSelector('form.book #title');
          const m0 = await tab.page.metrics();
          const t0 = await tab.page.evaluate((h) => { performance.clearResourceTimings(); const t = performance.now(); location.hash = h; return t; }, hash);
          const drawn = await tab.page.waitForFunction((sel, n) => document.querySelectorAll(sel).length === n && performance.now(),
            { polling: 'raf', timeout: 20000 }, selector, count);
          // The render alone: from the last API answer's arrival to the frame that shows the last booking.
          const t = await tab.page.evaluate((done, start) => {
            const answers = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/') && e.startTime >= start);
            const last = Math.max(...answers.map((e) => e.responseEnd));
            return { wall: Math.round(done - start), render: Math.round(done - last), fetch: Math.round(last - start) };
          }, await drawn.jsonValue(), t0);
          const m1 = await tab.page.metrics();
          const ms = (k) => Math.round((m1[k] - m0[k]) * 1000);
          runs.push({ ...t, task: ms('TaskDuration'), layout: ms('LayoutDuration'), style: ms('RecalcStyleDuration') });
        }
        runs.sort((a, b) => a.render - b.render);
        return runs[1]; // the median of three
      };
      const week = await measure(`#/week?w=${W}`, 'table.week .mtg', 301);
      const rooms = await measure(`#/rooms?d=${W}&v=week`, '.page-board a.booking', 301);
      const cars = await measure(`#/cars?d=${W}&v=week`, '.page-board a.booking', trips);
      for (const [name, m] of [['leaders\' week (43 leaders)', week], ['rooms board, week (21 rooms)', rooms], [`cars board, week (11 cars, ${trips} trips)`, cars]]) {
        console.log(`# render ${name}: ${m.render} ms from the last answer to the last booking drawn; ${m.wall} ms from the click (${m.fetch} ms fetching); main thread ${m.task} ms (style ${m.style}, layout ${m.layout})`);
      }
      await tab.shot('week-large.png', { fullPage: false });
      tab.assertClean('render cost');
      await tab.close();
    });
  } finally {
    await teardown(browser, srv, [userDir]);
  }

  finish(srv.stderr);
}

run(main);
