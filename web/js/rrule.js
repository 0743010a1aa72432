// rrule.js - recurrence as the office says it (每周一、周三，共10次; 每月第一个周三，
// 至2027年6月30日) to and from the RFC 5545 RRULE the API stores. Only the
// shapes the form offers are built; any other rule read back is shown as
// it is, so editing never silently rewrites a rule the form cannot say.

export const DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const DAY_NAMES = { MO: '周一', TU: '周二', WE: '周三', TH: '周四', FR: '周五', SA: '周六', SU: '周日' };
const NTH_NAMES = { 1: '第一个', 2: '第二个', 3: '第三个', 4: '第四个', '-1': '最后一个' };
export const NTHS = [1, 2, 3, 4, -1];

export function dayName(code) { return DAY_NAMES[code] || code; }
export function nthName(n) { return NTH_NAMES[String(n)] || `第${n}个`; }

// 'YYYY-MM-DD' -> 'MO'..'SU', and which of the month's weekdays it is (1..4, or -1 for the last).
export function dayCode(iso) {
  const dow = new Date(iso + 'T00:00:00Z').getUTCDay();
  return DAYS[(dow + 6) % 7];
}
export function nthOf(iso) {
  const d = Number(iso.slice(8, 10));
  const n = Math.ceil(d / 7);
  return n > 4 ? -1 : n;
}

// A form's recurrence from the meeting's date: nothing repeats yet.
export function emptyRepeat(iso) {
  return { freq: 'none', days: [dayCode(iso)], nth: nthOf(iso), nthDay: dayCode(iso),
    monthDay: Number(iso.slice(8, 10)), end: 'count', count: 10, until: '', raw: '' };
}

// The RRULE for a form's recurrence, or null when it does not repeat.
export function toRRule(r) {
  let rule;
  switch (r.freq) {
    case 'none': return null;
    case 'raw': return r.raw || null;
    case 'daily': rule = 'FREQ=DAILY'; break;
    case 'weekly': rule = `FREQ=WEEKLY;BYDAY=${(r.days.length ? r.days : ['MO']).join(',')}`; break;
    case 'monthly_nth': rule = `FREQ=MONTHLY;BYDAY=${r.nth}${r.nthDay}`; break;
    case 'monthly_day': rule = `FREQ=MONTHLY;BYMONTHDAY=${r.monthDay}`; break;
    default: return null;
  }
  if (r.end === 'count') rule += `;COUNT=${Math.max(1, Number(r.count) || 1)}`;
  if (r.end === 'until' && r.until) rule += `;UNTIL=${r.until.replaceAll('-', '')}`;
  return rule;
}

function parts(rule) {
  const p = {};
  for (const kv of String(rule).split(';')) {
    const [k, v] = kv.split('=');
    if (k && v !== undefined) p[k.toUpperCase()] = v;
  }
  return p;
}

// An RRULE back into the form's shape; a rule the form cannot say stays 'raw'.
export function fromRRule(rule, iso) {
  const r = emptyRepeat(iso);
  if (!rule) return r;
  const p = parts(rule);
  const known = new Set(['FREQ', 'BYDAY', 'BYMONTHDAY', 'COUNT', 'UNTIL']);
  const raw = { ...r, freq: 'raw', raw: rule };
  if (Object.keys(p).some((k) => !known.has(k)) || (p.COUNT && p.UNTIL)) return raw;
  if (p.COUNT) { r.end = 'count'; r.count = Number(p.COUNT); }
  else if (p.UNTIL) {
    const u = p.UNTIL.slice(0, 8);
    r.end = 'until';
    r.until = `${u.slice(0, 4)}-${u.slice(4, 6)}-${u.slice(6, 8)}`;
  } else r.end = 'never';
  if (p.FREQ === 'DAILY' && !p.BYDAY && !p.BYMONTHDAY) r.freq = 'daily';
  else if (p.FREQ === 'WEEKLY' && p.BYDAY && /^(MO|TU|WE|TH|FR|SA|SU)(,(MO|TU|WE|TH|FR|SA|SU))*$/.test(p.BYDAY)) {
    r.freq = 'weekly';
    r.days = p.BYDAY.split(',');
  } else if (p.FREQ === 'WEEKLY' && !p.BYDAY) r.freq = 'weekly';
  else if (p.FREQ === 'MONTHLY' && /^(-1|[1-4])(MO|TU|WE|TH|FR|SA|SU)$/.test(p.BYDAY || '') && !p.BYMONTHDAY) {
    r.freq = 'monthly_nth';
    r.nth = Number(p.BYDAY.slice(0, -2));
    r.nthDay = p.BYDAY.slice(-2);
  } else if (p.FREQ === 'MONTHLY' && /^\d{1,2}$/.test(p.BYMONTHDAY || '') && !p.BYDAY) {
    r.freq = 'monthly_day';
    r.monthDay = Number(p.BYMONTHDAY);
  } else return raw;
  return r;
}

function untilWords(u) {
  const [y, m, d] = u.split('-').map(Number);
  return `至${y}年${m}月${d}日`;
}

// The recurrence in words: 每周一、周三，共10次.
export function describe(r) {
  let words;
  switch (r.freq) {
    case 'none': return '不重复';
    case 'raw': return `按规则 ${r.raw} 重复`;
    case 'daily': words = '每天'; break;
    case 'weekly': words = '每' + (r.days.length ? r.days : ['MO']).map(dayName).join('、'); break;
    case 'monthly_nth': words = `每月${nthName(r.nth)}${dayName(r.nthDay)}`; break;
    case 'monthly_day': words = `每月${r.monthDay}日`; break;
    default: return '';
  }
  if (r.end === 'count') return `${words}，共${Math.max(1, Number(r.count) || 1)}次`;
  if (r.end === 'until' && r.until) return `${words}，${untilWords(r.until)}`;
  return `${words}，不设结束日期`;
}

export function describeRule(rule, iso) {
  return describe(fromRRule(rule, iso));
}
