// findtime.js - 找时间, opened from the booking form: the chosen people
// (required and optional) and the room the meeting needs go to POST
// /availability; the free slots come back by day with the free rooms
// best fit first (the API's order). Picking one fills date, times and the
// best room. A slot on a day the working calendar does not cover yet is
// marked 日历未确认: a holiday may still be announced for it.
import { html, useEffect, useRef, useState } from './html.js';
import { api } from './api.js';
import { errorText } from './errors.js';
import { ORG_TZ, addDays, dateLabel, minutesBetween } from './time.js';
import { featureName } from './labels.js';

const LIMITS = { people: '参会人员在这段时间内没有共同的空闲时间', room: '没有符合人数和设备要求的空闲会议室',
  working_hours: '工作时间内放不下这么长的会议' };

function request(form, days, features) {
  const duration = form.allDay ? 480 : Math.max(15, minutesBetween(form.start, form.end) || 60);
  const need = form.attendees.length + (Number(form.guests) || 0);
  const body = { people: form.attendees.filter((a) => !a.optional).map((a) => a.id),
    optional: form.attendees.filter((a) => a.optional).map((a) => a.id),
    duration_minutes: duration, from: form.date, to: addDays(form.date, days - 1), tz: ORG_TZ,
    working_hours: true, limit: 12, step_minutes: 30 };
  // A meeting held elsewhere (a location, no room) needs no free room.
  if (form.room || !form.location.trim()) body.room = { min_capacity: Math.max(1, need), features };
  return body;
}

export default function FindTime({ form, rooms, onPick, onClose }) {
  const [days, setDays] = useState(7);
  const [features, setFeatures] = useState([]);
  const [state, setState] = useState({ slots: null, error: null, why: null });
  const box = useRef(null);
  const all = [...new Set(rooms.flatMap((r) => r.features || []))];
  const names = new Map(rooms.map((r) => [r.id, r.name]));

  useEffect(() => {
    let alive = true;
    setState({ slots: null, error: null, why: null });
    api('POST', '/availability', request(form, days, features)).then(
      (r) => alive && setState({ slots: r.slots || [], error: null, why: r.explanation || null }),
      (error) => alive && setState({ slots: [], error, why: null }));
    return () => { alive = false; };
  }, [days, features.join(',')]);
  useEffect(() => { box.current && box.current.focus(); }, []);

  const pick = (s) => onPick({ allDay: false, date: s.start.slice(0, 10), endDate: s.start.slice(0, 10),
    start: s.start.slice(11, 16), end: s.end.slice(11, 16), room: (s.rooms && s.rooms[0]) || form.room });
  const toggle = (f) => setFeatures(features.includes(f) ? features.filter((x) => x !== f) : [...features, f]);
  const { slots, error, why } = state;
  return html`<section class="findtime" ref=${box} tabIndex="-1" aria-labelledby="findtime-h">
    <div class="findtime-head">
      <h2 id="findtime-h">找时间：${form.attendees.length ? form.attendees.map((a) => a.name).join('、') : '（未选参会人员）'}</h2>
      <button type="button" class="link" onClick=${onClose}>关闭</button>
    </div>
    <div class="tools">
      <label class="inline">范围<select value=${days} onChange=${(e) => setDays(Number(e.target.value))}>
        <option value="7">从所选日期起一周</option><option value="14">两周</option><option value="28">四周</option></select></label>
      ${all.map((f) => html`<label class="inline"><input type="checkbox" checked=${features.includes(f)} onChange=${() => toggle(f)} />需要${featureName(f)}</label>`)}
    </div>
    ${error && html`<p class="form-error" role="alert">${errorText(error)}</p>`}
    ${!slots && html`<p class="state" role="status">正在查找…</p>`}
    ${slots && !error && slots.length === 0 && html`<p class="state empty">没有合适的时间${why && LIMITS[why.most_limiting] ? `：${LIMITS[why.most_limiting]}` : ''}。可扩大日期范围或减少必须参加的人员。</p>`}
    ${slots && slots.length > 0 && html`<ul class="slots">${slots.map((s) => html`<li>
      <button type="button" class="slot" onClick=${() => pick(s)}>
        <span class="when">${dateLabel(s.start.slice(0, 10))} ${s.start.slice(11, 16)}–${s.end.slice(11, 16)}</span>
        <span class="rooms">${(s.rooms || []).length ? s.rooms.map((r, i) => (i === 0 ? `${names.get(r) || r}（最合适）` : names.get(r) || r)).join('、') : '（无需会议室）'}</span>
        ${s.calendar === 'unverified' && html`<em class="tag late" title="该日期的节假日安排尚未公布">日历未确认</em>`}
        ${Object.values(s.optional || {}).some((v) => v !== 'free') && html`<em class="tag">部分可选人员有安排</em>`}
      </button></li>`)}</ul>`}
  </section>`;
}
