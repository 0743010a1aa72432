// time.js - dates and times as the office writes them, always in the
// organisation's zone (the server writes --tz into the page):
// 12月7日（周一）09:00. Dates travel as 'YYYY-MM-DD' strings; arithmetic
// on them is done in UTC so no local zone of the browser leaks in.

const meta = document.querySelector('meta[name="convene-tz"]');
export const ORG_TZ = (meta && meta.content && !meta.content.startsWith('@')) ? meta.content : 'Asia/Shanghai';

const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];

const partsFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: ORG_TZ, year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});

// An instant ('2026-12-07T01:00:00Z' or a Date) as {date, time, hour} in the organisation's zone.
export function zoned(instant) {
  const d = instant instanceof Date ? instant : new Date(instant);
  const p = {};
  for (const { type, value } of partsFormat.formatToParts(d)) p[type] = value;
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}`, hour: Number(p.hour) };
}

export function today() {
  return zoned(new Date()).date;
}

function utcDate(iso) {
  const [y, m, d] = iso.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

export function addDays(iso, n) {
  const d = utcDate(iso);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function weekday(iso) {
  return WEEKDAYS[utcDate(iso).getUTCDay()];
}

// The Monday of iso's week (offices plan Monday to Sunday).
export function mondayOf(iso) {
  const dow = utcDate(iso).getUTCDay();
  return addDays(iso, dow === 0 ? -6 : 1 - dow);
}

export function isWeekend(iso) {
  const dow = utcDate(iso).getUTCDay();
  return dow === 0 || dow === 6;
}

// 12月7日
export function monthDay(iso) {
  const [, m, d] = iso.split('-').map(Number);
  return `${m}月${d}日`;
}

// 12月7日（周一）
export function dateLabel(iso) {
  return `${monthDay(iso)}（${weekday(iso)}）`;
}

// 12月7日（周一）09:00
export function dateTimeLabel(instant) {
  const z = zoned(instant);
  return `${dateLabel(z.date)}${z.time}`;
}

// 上午 before noon, 下午 until 18:00, 晚上 after: the rows of the leaders' week.
export const PERIODS = ['上午', '下午', '晚上'];
export function periodOf(hour) {
  return hour < 12 ? 0 : hour < 18 ? 1 : 2;
}

const MEALS = { breakfast: '早餐', lunch: '午餐', dinner: '晚餐' };
export function mealName(meal) {
  return MEALS[meal] || meal;
}

const DIETS = { halal: '清真', vegetarian: '素食', regular: '普通' };
export function dietName(diet) {
  return DIETS[diet] || diet;
}
export const DIET_ORDER = ['halal', 'vegetarian', 'regular'];

// A local wall time as the API writes it ('2026-12-21T10:30:00') as
// 12月21日（周一）10:30: it is already in the meeting's zone.
export function localLabel(local) {
  const s = String(local || '');
  return s.length >= 16 ? `${dateLabel(s.slice(0, 10))}${s.slice(11, 16)}` : dateLabel(s.slice(0, 10));
}

// Minutes between two 'HH:MM' times.
export function minutesBetween(a, b) {
  const m = (t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
  return m(b) - m(a);
}

export function hhmm(minutes) {
  const m = ((minutes % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}
