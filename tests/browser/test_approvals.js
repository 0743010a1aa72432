// test_approvals.js - 待我审批 in a real browser (CONTRACT section 12):
// the office director signs in, sees the count beside the page's name and
// approves a small budget with a comment; the principal approves a
// collective one, which needs the 办公会 picked first; a secretary sees a
// booking still awaiting approval on the leaders' week and the rooms
// board, drawn dashed with 待审批; a trip awaiting approval on the cars board too. Every page is checked by axe-core and
// photographed into $CONVENE_SCREENSHOTS.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const puppeteer = require('puppeteer-core');
const { Convene } = require('./convene.js');
const { ORG_TZ, todayOrg, addDays, mondayOf, step, teardown, run, finish, axeCheck } = require('./support.js');

const SHOTS = process.env.CONVENE_SCREENSHOTS || path.join(__dirname, '..', '..', 'build', 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'correct horse battery';

let base = '';

class Tab {
  constructor(page) {
    this.page = page;
    this.errors = [];
    page.on('console', (msg) => {
      const url = msg.location().url || '';
      // The sign-in page asks who is signed in first: nobody yet is a 401.
      if (msg.type() === 'error' && !(/401/.test(msg.text()) && url.endsWith('/api/v1/session')))
        this.errors.push(`${msg.text()} ${url}`);
    });
    page.on('pageerror', (e) => this.errors.push('pageerror: ' + e.message));
    page.on('requestfailed', (r) => {
      if (!r.url().endsWith('/api/v1/changes')) this.errors.push(`requestfailed: ${r.url()} ${r.failure().errorText}`);
    });
  }

  static async open(browser) {
    const ctx = await browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    return new Tab(page);
  }

  async signIn(login) {
    await this.page.goto(base + '/', { waitUntil: 'networkidle0' });
    await this.page.waitForSelector('form.signin');
    await this.page.type('#login', login);
    await this.page.type('#password', PASSWORD);
    await Promise.all([this.page.waitForSelector('header.top', { timeout: 5000 }),
      this.page.click('form.signin button[type=submit]')]);
  }

  async go(hash, selector) {
    await this.page.evaluate((h) => { location.hash = h; }, hash);
    await this.page.waitForSelector(selector);
  }

  async text(selector) {
    return this.page.$eval(selector, (e) => e.innerText);
  }

  async shot(file) {
    await this.page.screenshot({ path: path.join(SHOTS, file), fullPage: true });
  }

  async axe(label) {
    return axeCheck(this.page, label);
  }

  assertClean(label) {
    const errors = this.errors;
    this.errors = [];
    assert.deepEqual(errors, [], `console of ${label}`);
  }

  async close() {
    await this.page.browserContext().close();
  }
}

async function seed(srv) {
  const person = (body) => srv.must('POST', '/people', body);
  const principal = await person({ name: '王建国', role: 'leader', rank: 1, department: '局领导' });
  const director = await person({ name: '孙主任', role: 'leader', rank: 6, department: '办公室' });
  const clerk = await person({ name: '赵明', role: 'secretary', department: '办公室' });
  const room = await srv.must('POST', '/rooms', { name: '贵宾接待室', capacity: 12 });
  for (const [p, login] of [[principal, 'wangjianguo'], [director, 'sunzhuren'], [clerk, 'zhaoming']]) {
    await srv.must('PATCH', `/people/${p.id}`, { login });
    await srv.must('PUT', `/people/${p.id}/password`, { password: PASSWORD });
  }
  await srv.must('PUT', '/approval-rules', { office_director: director.id, principal: principal.id,
    budget_tiers: [1000, 20000, 50000], off_day_vehicles: true, rooms: { [room.id]: director.id } });
  return { principal, director, clerk, room };
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const srv = await new Convene().start();
  base = srv.base;
  const o = await seed(srv);
  // Tomorrow, and a working-hours slot far enough ahead to be decided.
  const day = addDays(todayOrg(), 1);
  const at = (t) => `${day}T${t}:00`;
  const book = (body) => srv.must('POST', '/events', { tz: ORG_TZ, ...body });
  const small = await book({ title: '接待省厅检查组', kind: '接待', start: at('09:00'), end: at('10:00'),
    budget: { amount: 800 }, attendees: [{ person: o.principal.id }] });
  const office = await book({ title: '局长办公会', kind: '办公会', start: `${todayOrg()}T00:00:00`,
    end: `${todayOrg()}T00:30:00`, attendees: [{ person: o.principal.id }] });
  const big = await book({ title: '全市招商推介会', kind: '专题会', start: at('14:00'), end: at('16:00'),
    budget: { amount: 60000 } });
  const roomed = await book({ title: '外宾会见', kind: '接待', start: at('16:30'), end: at('17:30'),
    room: o.room.id, attendees: [{ person: o.principal.id }] });
  assert.deepEqual([small.status, office.status, big.status, roomed.status],
    ['pending', 'confirmed', 'pending', 'pending']);

  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'convene-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM, headless: true, userDataDir: userDir,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--lang=zh-CN'],
    env: { ...process.env, LANGUAGE: 'zh_CN', LANG: 'zh_CN.UTF-8' },
  });
  try {
    await step('the office director sees the count, approves with a comment', async () => {
      const tab = await Tab.open(browser);
      await tab.signIn('sunzhuren');
      await tab.page.waitForFunction(() => document.querySelector('a[href="#/approvals"] .badge')?.innerText === '2');
      await tab.go('#/approvals', 'li.approval');
      const text = await tab.text('.page-approvals');
      assert.match(text, /接待省厅检查组/);
      assert.match(text, /经费 ¥800\.00（办公室主任审批）/);
      assert.match(text, /使用专管会议室/);
      assert.doesNotMatch(text, /全市招商推介会/); // the principal's, not his
      await tab.shot('approvals-director.png');
      await tab.axe('approvals (director)');
      const item = (await tab.page.$$('li.approval'))[0];
      assert.match(await item.evaluate((e) => e.innerText), /接待省厅检查组/);
      await (await item.$('textarea')).type('同意，按标准接待');
      await (await item.$('button.primary')).click();
      await tab.page.waitForFunction(() => document.querySelectorAll('li.approval').length === 1, { timeout: 5000 })
        .catch(async (e) => { throw new Error(`${e.message}: ${await tab.text('.page-approvals')}`); });
      const ev = await srv.must('GET', `/events/${small.id}`);
      assert.equal(ev.status, 'confirmed');
      assert.equal(ev.approvals[0].comment, '同意，按标准接待');
      await tab.page.waitForFunction(() => document.querySelector('a[href="#/approvals"] .badge')?.innerText === '1');
      tab.assertClean('approvals (director)');
      await tab.close();
    });

    await step('a secretary sees pending bookings dashed with 待审批 on the week and the rooms board', async () => {
      const tab = await Tab.open(browser);
      await tab.signIn('zhaoming');
      await tab.go(`#/week?w=${mondayOf(day)}`, 'table.week');
      await tab.page.waitForFunction(() => document.querySelector('table.week')?.innerText.includes('外宾会见'));
      const pending = await tab.page.$$eval('.mtg.pending', (els) => els.map((e) => e.innerText));
      assert.ok(pending.some((t) => /外宾会见/.test(t) && /待审批/.test(t)), JSON.stringify(pending));
      assert.ok(!pending.some((t) => /接待省厅检查组/.test(t)), 'the confirmed one is not dashed');
      const outline = await tab.page.$eval('.mtg.pending', (e) => getComputedStyle(e).outlineStyle);
      assert.equal(outline, 'dashed');
      await tab.shot('approvals-week.png');
      await tab.axe('week with a pending booking');
      await tab.go(`#/rooms?d=${day}`, '.board');
      await tab.page.waitForFunction(() => document.querySelector('a.booking.pending')?.innerText.includes('外宾会见'));
      assert.match(await tab.text('a.booking.pending'), /待审批/);
      await tab.shot('approvals-rooms.png');
      await tab.axe('rooms board with a pending booking');
      tab.assertClean('secretary');
      await tab.close();
    });

    await step('the principal approves a collective budget only with the 办公会 picked', async () => {
      const tab = await Tab.open(browser);
      await tab.signIn('wangjianguo');
      await tab.go('#/approvals', 'li.approval select');
      assert.match(await tab.text('.page-approvals'), /须经办公会集体研究/);
      const approve = 'li.approval button.primary';
      assert.equal(await tab.page.$eval(approve, (b) => b.disabled), true);
      await tab.page.select('li.approval select', office.id);
      assert.equal(await tab.page.$eval(approve, (b) => b.disabled), false);
      await tab.shot('approvals-collective.png');
      await tab.axe('approvals (collective)');
      await tab.page.click(approve);
      await tab.page.waitForFunction(() => document.querySelector('.page-approvals')?.innerText.includes('暂无待审批事项'));
      const ev = await srv.must('GET', `/events/${big.id}`);
      assert.equal(ev.status, 'confirmed');
      assert.equal(ev.approvals[0].meeting, office.id);
      tab.assertClean('principal');
      await tab.close();
    });

    await step('the cars board shows a trip awaiting approval dashed with 待审批, then as any trip', async () => {
      // Booked last, so the steps above count the approvals they always did.
      const car = await srv.must('POST', '/vehicles', { name: '考斯特', plate: '京A·88888', seats: 12 });
      const drv = await srv.must('POST', '/people', { name: '钱师傅', role: 'driver' });
      const wd = (await srv.must('GET', `/workdays?from=${addDays(day, 1)}&to=${addDays(day, 10)}`))
        .find((d) => d.working).date;
      const trip = await book({ title: '赴县调研', kind: '调研', start: `${wd}T09:00:00`, end: `${wd}T11:00:00`,
        budget: { amount: 500 }, trips: [{ vehicle: car.id, driver: drv.id, depart: `${wd}T08:00:00`,
          return: `${wd}T12:00:00`, from: '机关大院', to: '城关镇' }] });
      assert.equal(trip.status, 'pending');
      const tab = await Tab.open(browser);
      await tab.signIn('zhaoming');
      await tab.go(`#/cars?d=${wd}&v=day`, '.board');
      await tab.page.waitForFunction(() => document.querySelector('a.booking.pending')?.innerText.includes('城关镇'));
      assert.match(await tab.text('a.booking.pending'), /待审批/);
      const border = await tab.page.$eval('a.booking.pending', (e) => getComputedStyle(e).borderTopStyle);
      assert.equal(border, 'dashed');
      assert.equal(await tab.page.$('a.booking.unacked'), null, 'nobody is asked to acknowledge it yet');
      await tab.shot('approvals-cars.png');
      await tab.axe('cars board with a pending trip');
      await srv.must('POST', `/approvals/${trip.approvals[0].id}/decision`, { decision: 'approve' });
      await tab.go('#/approvals', '.page-approvals');
      await tab.go(`#/cars?d=${wd}&v=day`, '.board');
      await tab.page.waitForFunction(() => [...document.querySelectorAll('a.booking')].some((a) => a.innerText.includes('城关镇')));
      assert.equal(await tab.page.$('a.booking.pending'), null);
      tab.assertClean('cars board');
      await tab.close();
    });
  } finally {
    await teardown(browser, srv, [userDir]);
  }
  finish(srv.stderr);
}

run(main);
