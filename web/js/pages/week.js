// week.js - 领导一周活动安排, the secretaries' home: days x 上午/下午/晚上
// down, leaders across (the principal first, then by rank), each cell the
// meetings of that leader in that part of the day. A change anywhere
// arrives through the change stream, the week reloads and the cells that
// changed are highlighted for a moment. Prints alone on A4 landscape.
import { html, useEffect, useRef, useState } from '../html.js';
import { api } from '../api.js';
import { onChange } from '../live.js';
import { PageHead, LoadState, ErrorBox, Empty } from '../components.js';
import { ORG_TZ, today, addDays, mondayOf, monthDay, weekday, isWeekend, zoned, PERIODS, periodOf } from '../time.js';

const FLASH_MS = 2500;
const RELOAD_DELAY_MS = 150; // a burst of changes (one booking, many rows) reloads once

export function byRank(a, b) {
  return (a.rank ?? 100) - (b.rank ?? 100) || a.name.localeCompare(b.name, 'zh-CN');
}

async function loadWeek(monday) {
  const sunday = addDays(monday, 6);
  const [people, rooms, occurrences] = await Promise.all([
    api('GET', '/people'),
    api('GET', '/rooms').catch(() => []), // names only: the week is useful without them
    api('GET', `/occurrences?from=${monday}&to=${sunday}&tz=${encodeURIComponent(ORG_TZ)}`),
  ]);
  const leaders = people.filter((p) => p.role === 'leader').sort(byRank);
  const roomNames = new Map(rooms.map((r) => [r.id, r.name]));
  return { leaders, cells: buildCells(leaders, occurrences, roomNames), count: occurrences.length };
}

// One line of a cell: what the sheet prints for a meeting.
function entryOf(o, roomNames) {
  const allDay = o.all_day || !o.start_utc;
  const start = allDay ? null : zoned(o.start_utc);
  const end = allDay ? null : zoned(o.end_utc);
  const busy = o.title == null;
  return {
    key: `${o.event}/${o.recurrence_id || ''}`,
    event: o.event,
    date: allDay ? String(o.start).slice(0, 10) : start.date,
    period: allDay ? 0 : periodOf(start.hour),
    time: allDay ? '全天' : `${start.time}–${end.date === start.date ? end.time : '次日' + end.time}`,
    title: busy ? '忙碌' : o.title,
    place: busy ? '' : (o.location || roomNames.get(o.room) || ''),
    busy,
    secret: !busy && !!o.confidential, // the viewer may see it: say it is not for every eye
    pending: o.status === 'pending',
  };
}

// {"date|period|leader": [entries]} for every leader attending.
function buildCells(leaders, occurrences, roomNames) {
  const ids = new Set(leaders.map((l) => l.id));
  const cells = {};
  for (const o of occurrences) {
    if (o.status === 'cancelled') continue;
    const e = entryOf(o, roomNames);
    for (const a of o.attendees || []) {
      const person = typeof a === 'string' ? a : a.person;
      if (!ids.has(person) || a.response === 'declined') continue;
      (cells[`${e.date}|${e.period}|${person}`] ||= []).push(e);
    }
  }
  for (const list of Object.values(cells)) list.sort((x, y) => x.time.localeCompare(y.time));
  return cells;
}

function signature(list) {
  return (list || []).map((e) => `${e.key}|${e.time}|${e.title}|${e.place}|${e.pending}`).join(';');
}

// Keys of the cells whose content differs between two loads.
function changedCells(before, after) {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return new Set([...keys].filter((k) => signature(before[k]) !== signature(after[k])));
}

function Cell({ list, flash }) {
  return html`<td class=${flash ? 'flash' : ''}>
    ${(list || []).map((e) => html`<div class=${'mtg' + (e.busy ? ' busy' : '') + (e.pending ? ' pending' : '')}>
      <span class="time">${e.time}</span>
      <span class="title"><a href=${`#/meeting?id=${encodeURIComponent(e.event)}`}>${e.title}</a>${e.secret ? html` <em class="tag">密</em>` : ''}${e.pending ? html` <em class="tag pending">待审批</em>` : ''}</span>
      ${e.place && html`<span class="place">${e.place}</span>`}
    </div>`)}
  </td>`;
}

function WeekTable({ monday, leaders, cells, flash }) {
  const days = [0, 1, 2, 3, 4, 5, 6].map((i) => addDays(monday, i));
  return html`<table class="week">
    <caption class="sr-only">领导一周活动安排，${monthDay(days[0])}至${monthDay(days[6])}</caption>
    <colgroup><col class="c-date" /><col class="c-period" />${leaders.map(() => html`<col />`)}</colgroup>
    <thead><tr>
      <th scope="col">日期</th><th scope="col">时段</th>
      ${leaders.map((l) => html`<th scope="col">${l.name}</th>`)}
    </tr></thead>
    ${days.map((d) => html`<tbody class=${[isWeekend(d) && 'weekend', d === today() && 'today'].filter(Boolean).join(' ')}>
      ${PERIODS.map((p, i) => html`<tr>
        ${i === 0 && html`<th scope="rowgroup" rowspan="3" class="day">
          <span>${monthDay(d)}</span><span class="wd">（${weekday(d)}）</span>
          ${d === today() && html`<span class="today-mark">今天</span>`}</th>`}
        <th scope="row" class="period">${p}</th>
        ${leaders.map((l) => {
          const key = `${d}|${i}|${l.id}`;
          return html`<${Cell} list=${cells[key]} flash=${flash.has(key)} />`;
        })}
      </tr>`)}
    </tbody>`)}
  </table>`;
}

export default function Week({ params }) {
  const monday = mondayOf(params.get('w') || today());
  const [state, setState] = useState({ data: null, error: null });
  const [flash, setFlash] = useState(new Set());
  const shown = useRef(null);

  const load = (highlight) => loadWeek(monday).then((data) => {
    if (highlight && shown.current) {
      const changed = changedCells(shown.current.cells, data.cells);
      if (changed.size) {
        setFlash(changed);
        setTimeout(() => setFlash(new Set()), FLASH_MS);
      }
    }
    shown.current = data;
    setState({ data, error: null });
  }, (error) => setState((s) => ({ data: s.data, error })));

  useEffect(() => {
    shown.current = null;
    setState({ data: null, error: null });
    load(false);
    let timer = null;
    const off = onChange(() => {
      clearTimeout(timer);
      timer = setTimeout(() => load(true), RELOAD_DELAY_MS);
    });
    return () => { off(); clearTimeout(timer); };
  }, [monday]);

  const go = (d) => { location.hash = `#/week?w=${d}`; };
  const title = `领导一周活动安排（${monthDay(monday)}—${monthDay(addDays(monday, 6))}）`;
  const { data, error } = state;
  return html`<section class="page page-week">
    <${PageHead} title=${title}>
      <button type="button" onClick=${() => go(addDays(monday, -7))}>上一周</button>
      <button type="button" onClick=${() => go(mondayOf(today()))} disabled=${monday === mondayOf(today())}>本周</button>
      <button type="button" onClick=${() => go(addDays(monday, 7))}>下一周</button>
      <button type="button" class="primary" onClick=${() => print()} disabled=${!data}>打印</button>
    <//>
    ${error && data && html`<${ErrorBox} error=${error} onRetry=${() => load(false)} />`}
    <${LoadState} state=${{ ...state, reload: () => load(false) }} />
    ${data && data.leaders.length === 0 && html`<${Empty} text="尚未登记领导：请管理员在人员中添加领导。" />`}
    ${data && data.leaders.length > 0 && html`
      ${Object.keys(data.cells).length === 0 && html`<${Empty} text="本周暂无安排" />`}
      <div class="table-wrap">
        <${WeekTable} monday=${monday} leaders=${data.leaders} cells=${data.cells} flash=${flash} />
      </div>`}
  </section>`;
}
