// test_taplinks.js - one-tap links (CONTRACT section 14) on a phone: Debian's
// chromium, headless at 390 px with touch, driven by puppeteer-core, against
// the real convene binary. The links come from real deliveries: a receiver
// on loopback gets the driver's dispatch.assigned and the leader's
// event.created, and the page is opened from their data.ack_url and
// data.rsvp_url. Every page is checked by axe-core (no serious or critical
// violation), for script errors and CSP refusals, for horizontal scrolling,
// and photographed into $CONVENE_SCREENSHOTS (build/screenshots).
//
// Covered: the driver's page (date with weekday, time, route, car and plate,
// passengers), tapping 确认收到 (the answer page; the trip acknowledged
// through the API), opening the link again (已确认); the leader's page of a
// one-off meeting, tapping 不参加 (their answer through the API); the
// director's page of a pending approval (meeting, reason, amount, deadline),
// a typed comment and 同意 (the approval decided through the API, with the
// comment); the principal's page of a collective (办公会) approval: no buttons.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const puppeteer = require('puppeteer-core');
const { Convene } = require('./convene.js');
const { ORG_TZ, todayOrg, addDays, step, teardown, run, finish, axeCheck } = require('./support.js');

const SHOTS = process.env.CONVENE_SCREENSHOTS || path.join(__dirname, '..', '..', 'build', 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// What the messages say; the browser opens the same path on the test's server.
const PUBLIC = 'https://oa.example.gov.cn';
const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

// A webhook receiver on loopback: every JSON body it is sent, by path.
function receiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      try { got.push({ path: req.url, json: JSON.parse(body) }); } catch (_) { /* not JSON */ }
      res.writeHead(200);
      res.end('ok');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: (p) => `http://127.0.0.1:${server.address().port}${p}`,
    async wait(p, type, ms = 10000) {
      const until = Date.now() + ms;
      for (;;) {
        const m = got.find((x) => x.path === p && x.json.type === type);
        if (m) return m.json;
        if (Date.now() > until) throw new Error(`no ${type} at ${p}: ${JSON.stringify(got.map((x) => x.json.type))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise((r) => server.close(r)),
  })));
}

class Phone {
  constructor(page) {
    this.page = page;
    this.errors = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || /Content Security Policy/.test(msg.text())) this.errors.push(msg.text());
    });
    page.on('pageerror', (e) => this.errors.push('pageerror: ' + e.message));
    page.on('requestfailed', (r) => this.errors.push(`requestfailed: ${r.url()} ${r.failure().errorText}`));
  }

  static async open(browser) {
    const ctx = await browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport(PHONE);
    return new Phone(page);
  }

  async text(sel) {
    return this.page.$eval(sel, (e) => e.innerText);
  }

  async fits(label) {
    const [scroll, inner] = await this.page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
    assert.ok(scroll <= inner, `${label}: scrollWidth ${scroll} > ${inner}`);
  }

  async axe(label) {
    return axeCheck(this.page, label);
  }

  async shot(file) {
    await this.page.screenshot({ path: path.join(SHOTS, file), fullPage: true });
  }

  assertClean(label) {
    const errors = this.errors;
    this.errors = [];
    assert.deepEqual(errors, [], `console of ${label}`);
  }

  // Taps the button, as a finger would, and waits for the answer page.
  async tap(sel) {
    await Promise.all([this.page.waitForNavigation({ waitUntil: 'load' }), this.page.tap(sel)]);
  }
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const rx = await receiver();
  const srv = await new Convene(['--allow-private-webhooks', '--public-url', PUBLIC]).start();
  const person = (body) => srv.must('POST', '/people', body);
  const L = await person({ name: '王建国', role: 'leader', rank: 1 });
  const P = await person({ name: '李文华', role: 'leader', rank: 2 });
  const D = await person({ name: '冯师傅', role: 'driver' });
  const car = await srv.must('POST', '/vehicles', { name: '红旗H5', plate: '京A·12345', seats: 4 });
  await srv.must('POST', '/webhooks', { url: rx.url('/driver'), events: ['dispatch.*'], person: D.id });
  await srv.must('POST', '/webhooks', { url: rx.url('/leader'), events: ['event.*'], person: L.id });
  const day = addDays(todayOrg(), 2);
  const at = (t) => `${day}T${t}:00`;
  const ev = await srv.must('POST', '/events', { title: '全市安全生产工作会议', tz: ORG_TZ,
    location: '市政府二楼会议室', start: at('09:00'), end: at('11:30'),
    attendees: [{ person: L.id }, { person: P.id }],
    trips: [{ vehicle: car.id, driver: D.id, depart: at('08:20'), return: at('12:00'), from: '机关大院',
      to: '市政府东门', passengers: [L.id, P.id], approved_by: L.id }] });
  // An approver's link: the director decides a ¥800 budget; the principal's ¥80,000 is the 办公会's.
  const Dir = await person({ name: '赵主任', role: 'leader' });
  await srv.must('PUT', '/approval-rules', { office_director: Dir.id, principal: L.id,
    budget_tiers: [1000, 20000, 50000] });
  await srv.must('POST', '/webhooks', { url: rx.url('/director'), events: ['approval.*'], person: Dir.id });
  await srv.must('POST', '/webhooks', { url: rx.url('/principal'), events: ['approval.*'], person: L.id });
  const pending = await srv.must('POST', '/events', { title: '市委调研座谈会', tz: ORG_TZ,
    start: `${addDays(day, 1)}T14:00:00`, end: `${addDays(day, 1)}T16:00:00`, budget: { amount: 800 } });
  await srv.must('POST', '/events', { title: '年度重大项目论证', tz: ORG_TZ,
    start: `${addDays(day, 1)}T09:00:00`, end: `${addDays(day, 1)}T10:00:00`, budget: { amount: 80000 } });
  const weekday = '日一二三四五六'[new Date(day + 'T00:00:00Z').getUTCDay()];
  const [, mm, dd] = day.split('-').map(Number);

  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'convene-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: userDir,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', '--font-render-hinting=none', '--lang=zh-CN'],
    env: { ...process.env, LANGUAGE: 'zh_CN', LANG: 'zh_CN.UTF-8' },
  });

  try {
    await step('driver at 390 px: the link of a real 派车通知, 确认收到 acknowledges the trip', async () => {
      const msg = await rx.wait('/driver', 'dispatch.assigned');
      const link = new URL(msg.data.ack_url);
      assert.equal(link.origin, PUBLIC);
      assert.match(link.pathname, /^\/t\/[A-Za-z0-9_-]{22}$/);
      const phone = await Phone.open(browser);
      const res = await phone.page.goto(srv.base + link.pathname, { waitUntil: 'load' });
      assert.equal(res.status(), 200);
      assert.equal(await phone.page.$eval('html', (e) => e.lang), 'zh-CN');
      const card = await phone.text('main');
      assert.match(card, new RegExp(`${mm}月${dd}日（周${weekday}）`));
      assert.match(card, /08:20（返回 12:00）/);
      assert.match(card, /机关大院 → 市政府东门/);
      assert.match(card, /红旗H5（京A·12345）/);
      assert.match(card, /王建国、李文华/);
      await phone.fits('the trip');
      await phone.shot('taplink-ack.png');
      await phone.axe('the trip');
      const before = await srv.must('GET', `/trips?date=${day}&driver=${D.id}`);
      assert.equal(before[0].acknowledged, false, 'opening the link changes nothing');
      await phone.tap('form button[value=ack]');
      assert.match(await phone.text('.verdict'), /已确认收到/);
      assert.equal(await phone.page.$('form'), null);
      await phone.fits('acknowledged');
      await phone.shot('taplink-acked.png');
      await phone.axe('acknowledged');
      const after = await srv.must('GET', `/trips?date=${day}&driver=${D.id}`);
      assert.equal(after[0].acknowledged, true);
      // Opened again (the chat keeps the link): it says so, no button.
      await phone.page.goto(srv.base + link.pathname, { waitUntil: 'load' });
      assert.match(await phone.text('.verdict'), /已确认收到/);
      assert.equal(await phone.page.$('form'), null);
      phone.assertClean('driver');
      await phone.page.browserContext().close();
    });

    await step('leader at 390 px: the link of a real 会议通知, 不参加 answers the meeting', async () => {
      const msg = await rx.wait('/leader', 'event.created');
      const link = new URL(msg.data.rsvp_url);
      const phone = await Phone.open(browser);
      await phone.page.goto(srv.base + link.pathname, { waitUntil: 'load' });
      const card = await phone.text('main');
      assert.match(card, /全市安全生产工作会议/);
      assert.match(card, /09:00–11:30/);
      assert.match(card, /市政府二楼会议室/);
      assert.match(card, /未回复/);
      await phone.fits('the meeting');
      await phone.shot('taplink-rsvp.png');
      await phone.axe('the meeting');
      await phone.tap('form button[value=declined]');
      assert.match(await phone.text('.verdict'), /已回复：不参加/);
      await phone.fits('answered');
      await phone.axe('answered');
      const got = await srv.must('GET', `/events/${ev.id}`);
      assert.equal(got.attendees.find((a) => a.person === L.id).response, 'declined');
      assert.equal(got.attendees.find((a) => a.person === P.id).response, 'needs-action');
      phone.assertClean('leader');
      await phone.page.browserContext().close();
    });

    await step('approver at 390 px: the link of a real 审批提醒, 同意 with a comment decides it', async () => {
      const msg = await rx.wait('/director', 'approval.requested');
      const link = new URL(msg.data.approve_url);
      assert.equal(link.origin, PUBLIC);
      const phone = await Phone.open(browser);
      const res = await phone.page.goto(srv.base + link.pathname, { waitUntil: 'load' });
      assert.equal(res.status(), 200);
      const card = await phone.text('main');
      assert.match(card, /会议审批/);
      assert.match(card, /市委调研座谈会/);
      assert.match(card, /经费（办公室主任审批）/);
      assert.match(card, /¥800/);
      assert.match(card, /审批期限/);
      assert.ok(await phone.page.$('textarea[name=comment]'), 'a comment field');
      assert.ok(await phone.page.$('form button[value=approve]'), '同意');
      assert.ok(await phone.page.$('form button[value=reject]'), '不同意');
      await phone.fits('the approval');
      await phone.shot('taplink-approve.png');
      await phone.axe('the approval');
      await phone.page.type('textarea[name=comment]', '同意，请控制开支');
      await phone.tap('form button[value=approve]');
      assert.match(await phone.text('.verdict'), /已同意/);
      assert.equal(await phone.page.$('form'), null);
      await phone.fits('approved');
      await phone.axe('approved');
      const got = await srv.must('GET', `/events/${pending.id}`);
      assert.equal(got.status, 'confirmed');
      assert.equal(got.approvals[0].comment, '同意，请控制开支');
      assert.equal(got.approvals[0].decided_by, Dir.id);
      phone.assertClean('approver');
      await phone.page.browserContext().close();
    });

    await step('principal at 390 px: a collective (办公会) approval says to use the console, no buttons', async () => {
      const msg = await rx.wait('/principal', 'approval.requested');
      const phone = await Phone.open(browser);
      await phone.page.goto(srv.base + new URL(msg.data.approve_url).pathname, { waitUntil: 'load' });
      assert.match(await phone.text('.verdict'), /办公会集体研究决定/);
      assert.match(await phone.text('main'), /¥80,000/);
      assert.equal(await phone.page.$('form'), null);
      await phone.fits('collective');
      await phone.shot('taplink-approve-collective.png');
      await phone.axe('collective');
      phone.assertClean('principal');
      await phone.page.browserContext().close();
    });

    await step('an unknown link: a page in Chinese, 404, at 390 px', async () => {
      const phone = await Phone.open(browser);
      const res = await phone.page.goto(srv.base + '/t/AAAAAAAAAAAAAAAAAAAAAA', { waitUntil: 'load' });
      assert.equal(res.status(), 404);
      assert.match(await phone.text('main'), /链接无效或不存在/);
      await phone.fits('unknown');
      await phone.axe('unknown');
      await phone.page.browserContext().close();
    });
  } finally {
    await rx.close();
    await teardown(browser, srv, [userDir]);
  }

  finish(srv.stderr);
}

run(main);
