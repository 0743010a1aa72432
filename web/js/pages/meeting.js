// meeting.js - 会议详情 (#/meeting?id=evt_…): the meeting, its occurrences,
// who answered what, its trips with the drivers' acknowledgements, its
// meal counts and its history (who changed what, before -> after), with
// the actions a secretary takes: move or cancel one occurrence, edit or
// cancel the whole meeting. Every action says what will happen first.
import { html, useEffect, useState } from '../html.js';
import { api } from '../api.js';
import { errorText } from '../errors.js';
import { clashText } from '../clash.js';
import { onChange } from '../live.js';
import { PageHead, LoadState, Empty, useLoad } from '../components.js';
import { ORG_TZ, today, addDays, dateLabel, dateTimeLabel, localLabel, mealName, dietName, DIET_ORDER } from '../time.js';
import { describeRule } from '../rrule.js';
import { responseName, actionName, fieldName, actorName } from '../labels.js';
import { PreviewPanel, usePreview } from '../preview.js';

const SHOWN = 12; // occurrences listed before "还有 N 次"

function lastDay(ev) { return (ev.end || ev.end_date || ev.date || ev.start).slice(0, 10); }
function firstDay(ev) { return (ev.start || ev.date).slice(0, 10); }

async function loadMeeting(id) {
  const enc = encodeURIComponent(id);
  const [ev, history, people, rooms] = await Promise.all([api('GET', `/events/${enc}`),
    api('GET', `/events/${enc}/history`), api('GET', '/people'), api('GET', '/rooms').catch(() => [])]);
  const names = new Map([...people, ...rooms].map((p) => [p.id, p.name]));
  names.rooms = rooms;
  // Occurrences from its first day (or today, for a long series) over a year;
  // trips and meals over the 92 days their listings allow.
  const from = ev.rrule && firstDay(ev) < today() ? today() : firstDay(ev);
  const to = ev.rrule ? addDays(from, 365) : lastDay(ev);
  // The room narrows the listing, unless an occurrence moved to a room of its own.
  const ownRooms = Object.values(ev.overrides || {}).some((o) => o && 'room' in o);
  const filter = ev.room && !ownRooms ? `&room=${ev.room}` : '';
  const near = ev.rrule ? addDays(from, 91) : to;
  const [occ, trips, meals] = await Promise.all([
    api('GET', `/occurrences?from=${from}&to=${to}&tz=${encodeURIComponent(ORG_TZ)}${filter}`),
    (ev.trips || []).length ? api('GET', `/trips?from=${from}&to=${near}`).catch(() => []) : [],
    (ev.meals || []).length ? api('GET', `/catering?from=${from}&to=${near}`).catch(() => ({ days: [] })) : { days: [] },
  ]);
  return { ev, history, names, occurrences: occ.filter((o) => o.event === id),
    trips: trips.filter((t) => t.event === id),
    meals: (meals.days || []).flatMap((d) => d.meals.flatMap((m) => m.events.filter((e) => e.event === id)
      .map((e) => ({ ...e, date: d.date, meal: m.meal })))) };
}

function when(o) {
  if (o.all_day) return `${dateLabel(String(o.start).slice(0, 10))} 全天`;
  const end = String(o.end);
  return `${localLabel(o.start)}–${end.slice(0, 10) === String(o.start).slice(0, 10) ? end.slice(11, 16) : localLabel(end)}`;
}

// A confirmation that says what will happen; Esc or 返回 backs out.
function Confirm({ text, yes, onYes, onNo, busy, error, children }) {
  useEffect(() => {
    const key = (e) => { if (e.key === 'Escape') onNo(); };
    addEventListener('keydown', key);
    return () => removeEventListener('keydown', key);
  }, []);
  return html`<div class="confirm" role="alertdialog" aria-label="请确认" aria-describedby="confirm-text">
    <p id="confirm-text">${text}</p>
    ${children}
    ${error && html`<div class="form-error" role="alert">${error.sentence}
      ${error.clashes.length > 0 && html`<ul>${error.clashes.map((c) => html`<li>${clashText(c)}</li>`)}</ul>`}</div>`}
    <button type="button" class="primary" disabled=${busy} onClick=${onYes}>${yes}</button>
    <button type="button" onClick=${onNo}>返回</button>
  </div>`;
}

function failure(e) { return { sentence: errorText(e), clashes: e.conflicts || [] }; }

function OccurrenceRow({ o, ev, names, onDone }) {
  const [mode, setMode] = useState(null); // 'move' | 'cancel'
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [date, setDate] = useState(String(o.start).slice(0, 10));
  const [start, setStart] = useState(String(o.start).slice(11, 16));
  const [end, setEnd] = useState(String(o.end).slice(11, 16));
  const [room, setRoom] = useState(o.room || '');
  const rooms = names.rooms || [];
  const rid = encodeURIComponent(o.recurrence_id);
  const path = `/events/${encodeURIComponent(ev.id)}`;
  const run = async (fn) => {
    setBusy(true); setError(null);
    try { await fn(); setMode(null); onDone(); } catch (e) { setError(failure(e)); } finally { setBusy(false); }
  };
  // The move as the API wants it: one occurrence of a series (which may change room), or the meeting.
  const moveReq = () => {
    const times = { start: `${date}T${start}:00`, end: `${date}T${end}:00` };
    if (ev.rrule) {
      const body = room !== (o.room || '') ? { ...times, room: room || null } : times;
      return { method: 'PATCH', path: `${path}/occurrences/${rid}`, body };
    }
    const body = { ...times, tz: ev.tz };
    if (room !== (ev.room || '')) body.room = room || null;
    return { method: 'PATCH', path, body, ifMatch: ev.version };
  };
  const preview = usePreview(mode === 'move' && date && start && end ? moveReq() : null);
  const move = () => run(() => { const r = moveReq(); return api(r.method, r.path, r.body, { ifMatch: r.ifMatch }); });
  const cancel = () => run(() => (ev.rrule ? api('DELETE', `${path}/occurrences/${rid}`) : api('DELETE', path, undefined, { ifMatch: ev.version })));
  const declined = (o.attendees || []).filter((a) => a.response === 'declined').map((a) => names.get(a.person) || a.person);
  const cancelled = o.status === 'cancelled';
  return html`<li class=${'occ-row' + (cancelled ? ' cancelled' : '')}>
    <span class="time">${when(o)}</span>
    <span>${cancelled ? '已取消' : declined.length ? `不参加：${declined.join('、')}` : ''}</span>
    ${!cancelled && !o.all_day && html`<span class="acts">
      <button type="button" onClick=${() => setMode('move')}>改期</button>
      <button type="button" onClick=${() => setMode('cancel')}>${ev.rrule ? '取消本次' : '取消会议'}</button></span>`}
    ${mode === 'move' && html`<${Confirm} yes="确认改期" busy=${busy} error=${error} onYes=${move} onNo=${() => setMode(null)}
      text=${`将把 ${when(o)} 的「${ev.title}」改到 ${dateLabel(date)}${start}–${end}${room ? `，${names.get(room) || room}` : ''}。${ev.rrule ? '只改这一次，其他日期不变；' : ''}参会人员会收到变更通知，用车随会议时间移动。`}>
      <div class="grid4">
        <div><label for=${`mv-r-${rid}`}>会议室</label><select id=${`mv-r-${rid}`} value=${room} onChange=${(e) => setRoom(e.target.value)}>
          <option value="">（不用会议室）</option>${rooms.map((r) => html`<option value=${r.id}>${r.name}（${r.capacity}人）</option>`)}</select></div>
        <div><label for=${`mv-d-${rid}`}>日期</label><input id=${`mv-d-${rid}`} type="date" value=${date} onInput=${(e) => setDate(e.target.value)} /></div>
        <div><label for=${`mv-s-${rid}`}>开始</label><input id=${`mv-s-${rid}`} type="time" value=${start} onInput=${(e) => setStart(e.target.value)} /></div>
        <div><label for=${`mv-e-${rid}`}>结束</label><input id=${`mv-e-${rid}`} type="time" value=${end} onInput=${(e) => setEnd(e.target.value)} /></div>
      </div>
      <${PreviewPanel} state=${preview} title="改期预览" /><//>`}
    ${mode === 'cancel' && html`<${Confirm} yes=${ev.rrule ? '确认取消本次' : '确认取消会议'} busy=${busy} error=${error} onYes=${cancel} onNo=${() => setMode(null)}
      text=${ev.rrule ? `将取消 ${when(o)} 这一次「${ev.title}」，其他日期不变。参会人员会收到取消通知，这一次的会议室、用车和用餐随之释放。`
        : `将取消「${ev.title}」（${when(o)}）。参会人员、司机和食堂会收到通知，会议室和车辆随即释放。`} />`}
  </li>`;
}

function fmt(key, v, names) {
  if (v == null || v === '' || (Array.isArray(v) && !v.length)) return '（无）';
  if (key === 'room') return names.get(v) || v;
  if (key === 'attendees') return v.map((a) => names.get(a.person) || a.person).join('、');
  if (key === 'start' || key === 'end') return localLabel(v);
  if (key === 'rrule') return describeRule(v, '2026-01-05');
  if (key === 'confidential') return v ? '是' : '否';
  if (key === 'meals') return v.map((m) => mealName(m.meal)).join('、');
  if (key === 'trips') return v.map((t) => `${t.from || ''}→${t.to || ''} ${String(t.depart).slice(11, 16)}`).join('；');
  if (key === 'status') return v === 'cancelled' ? '已取消' : '正常';
  if (typeof v === 'object') return JSON.stringify(v).length > 60 ? '（已修改）' : JSON.stringify(v);
  return String(v);
}

const QUIET = new Set(['version', 'sequence', 'etag', 'updated_at', 'created_at', 'start_utc', 'end_utc', 'uid', 'id', 'expanded_until']);

// The members that differ between a history entry's before and after.
export function changes(before, after, names) {
  if (!before || !after) return [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !QUIET.has(k));
  return keys.filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null))
    .map((k) => ({ key: k, label: fieldName(k), before: fmt(k, before[k], names), after: fmt(k, after[k], names) }));
}

function History({ list, names }) {
  if (!list.length) return html`<${Empty} text="暂无修改记录" />`;
  return html`<ol class="history">${[...list].reverse().map((h) => html`<li>
    <div><strong>${actionName(h.action)}</strong> <span class="muted">${dateTimeLabel(h.at)} · ${actorName(h.actor, names)}</span></div>
    <ul class="diffs">${changes(h.before, h.after, names).map((c) => html`<li>
      <span class="muted">${c.label}：</span><del>${c.before}</del> → <ins>${c.after}</ins></li>`)}</ul>
  </li>`)}</ol>`;
}

function SeriesActions({ ev, onDone }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  if (ev.status === 'cancelled') return html`<p class="tag late">已取消</p>`;
  const cancel = async () => {
    setBusy(true);
    try { await api('DELETE', `/events/${encodeURIComponent(ev.id)}`, undefined, { ifMatch: ev.version }); setConfirming(false); onDone(); }
    catch (e) { setError(failure(e)); } finally { setBusy(false); }
  };
  return html`<div class="series-actions">
    <a class="button" href=${`#/book?id=${encodeURIComponent(ev.id)}`}>修改会议</a>
    <button type="button" class="danger" onClick=${() => setConfirming(true)}>${ev.rrule ? '取消整个系列' : '取消会议'}</button>
    ${confirming && html`<${Confirm} yes="确认取消" busy=${busy} error=${error} onYes=${cancel} onNo=${() => setConfirming(false)}
      text=${`将取消「${ev.title}」${ev.rrule ? '的所有日期' : ''}。参会人员、司机和食堂会收到通知，会议室和车辆随即释放；会议仍保留在记录和日历订阅中，显示为已取消。`} />`}
  </div>`;
}

export default function Meeting({ params }) {
  const id = params.get('id') || '';
  const state = useLoad(() => loadMeeting(id), [id]);
  useEffect(() => onChange(() => state.reload()), []);
  const d = state.data;
  if (!d) return html`<section class="page"><${PageHead} title="会议详情" /><${LoadState} state=${state} /></section>`;
  const { ev, names } = d;
  const ahead = d.occurrences;
  return html`<section class="page page-meeting">
    <${PageHead} title=${ev.title || '会议详情'}><${SeriesActions} ev=${ev} onDone=${state.reload} /><//>
    ${state.error && html`<p class="form-error" role="alert">${errorText(state.error)}</p>`}
    <dl class="facts">
      <dt>时间</dt><dd>${ev.date ? `${dateLabel(ev.date)} 全天` : when(ev)}${ev.rrule ? `；${describeRule(ev.rrule, firstDay(ev))}` : ''}</dd>
      <dt>地点</dt><dd>${[ev.room && names.get(ev.room), ev.location].filter(Boolean).join('，') || '（未定）'}${(ev.needs || []).length ? html` <em class="tag late">待补：${ev.needs.map((n) => (n === 'room' ? '会议室' : '车辆')).join('、')}</em>` : ''}</dd>
      ${ev.confidential && html`<dt>保密</dt><dd><em class="tag">密</em> 司机等无关人员只看到“忙碌”</dd>`}
      ${ev.guests > 0 && html`<dt>来宾</dt><dd>${ev.guests} 人</dd>`}
    </dl>
    <div class="meeting-grid">
      <div>
        <h2>日期${ev.rrule ? `（今后 ${ahead.length} 次）` : ''}</h2>
        ${ahead.length === 0 && html`<${Empty} text="今后没有安排" />`}
        <ul class="occ-list">${ahead.slice(0, SHOWN).map((o) => html`<${OccurrenceRow} key=${o.recurrence_id} o=${o} ev=${ev} names=${names} onDone=${state.reload} />`)}</ul>
        ${ahead.length > SHOWN && html`<p class="muted">还有 ${ahead.length - SHOWN} 次未列出</p>`}
        <h2>修改记录</h2>
        <${History} list=${d.history} names=${names} />
      </div>
      <div>
        <h2>参会人员</h2>
        <table class="plain"><tbody>${(ev.attendees || []).map((a) => html`<tr>
          <td>${names.get(a.person) || a.person}${a.optional ? html` <span class="muted">（可选）</span>` : ''}</td>
          <td class=${'resp ' + (a.response || '')}>${responseName(a.response)}</td></tr>`)}</tbody></table>
        ${(ev.trips || []).length > 0 && html`<h2>用车</h2>
          <ul class="trip-list">${(d.trips.length ? d.trips : []).slice(0, 8).map((t) => html`<li>
            <span>${localLabel(t.depart)} ${t.from || ''} → ${t.to || ''}</span>
            <span class="muted">${[t.vehicle_name, t.plate, t.driver_name].filter(Boolean).join(' ') || '车辆待定'}</span>
            <em class=${'tag' + (t.acknowledged ? ' ok' : ' late')}>${t.acknowledged ? '已确认' : '未确认'}</em></li>`)}</ul>
          ${d.trips.length === 0 && html`<${Empty} text="近三个月没有出车" />`}`}
        ${(ev.meals || []).length > 0 && html`<h2>用餐</h2>
          <table class="plain"><tbody>${d.meals.slice(0, 10).map((m) => html`<tr>
            <td>${dateLabel(m.date)} ${mealName(m.meal)}</td><td class="num">${m.count} 人</td>
            <td class="muted">${DIET_ORDER.filter((k) => (m.diets || {})[k]).map((k) => `${dietName(k)}${m.diets[k]}`).join(' ')}</td>
            <td>${m.late ? html`<em class="tag late">迟报</em>` : ''}</td></tr>`)}</tbody></table>`}
      </div>
    </div>
  </section>`;
}
