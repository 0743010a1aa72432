// book.js - 预订会议: the whole meeting in one form (title, time and its
// recurrence in words, people by name, room best fit first, trips, meals,
// reminders, confidential), saved with one POST /events, or a PATCH with
// If-Match when editing (#/book?id=evt_…). A refused booking explains
// each clash in Chinese (clash.js); a 422 shows its sentence next to the
// field it names. 找时间 (findtime.js) fills date, times and room. While
// the form is typed, the same request is asked as a dry run (preview.js):
// clashes in Chinese and what saving would do, before 预订 is pressed.
import { html, useEffect, useRef, useState } from '../html.js';
import { api } from '../api.js';
import { errorText } from '../errors.js';
import { clashText } from '../clash.js';
import { PageHead, LoadState, useLoad } from '../components.js';
import { ORG_TZ, today, addDays, dateLabel, mealName, dietName } from '../time.js';
import { DAYS, NTHS, dayName, nthName, emptyRepeat, toRRule, fromRRule, describe } from '../rrule.js';
import { featureName } from '../labels.js';
import FindTime from '../findtime.js';
import { PreviewPanel, usePreview } from '../preview.js';

const REMINDERS = [[1440, '提前1天'], [120, '提前2小时'], [30, '提前30分钟'], [15, '提前15分钟']];
const MEALS = ['breakfast', 'lunch', 'dinner'];
const GUEST_DIETS = ['halal', 'vegetarian'];

function blankForm() {
  const date = addDays(today(), 1);
  return { title: '', location: '', description: '', allDay: false, date, endDate: date,
    start: '09:00', end: '10:00', repeat: emptyRepeat(date), attendees: [], guests: 0, room: '',
    trips: [], meals: [], diets: { halal: 0, vegetarian: 0 }, reminders: [30], confidential: false,
    preempt: false };
}

function newTrip(form) {
  return { vehicle: '', driver: '', from: '机关大院', to: form.location || '', depart: form.start,
    ret: form.end, passengers: [], approved_by: '' };
}

// A stored event back into the form (editing).
function formOf(ev, names) {
  const allDay = !!ev.date;
  const date = allDay ? ev.date : ev.start.slice(0, 10);
  const firstMeal = (ev.meals || [])[0] || {};
  return { ...blankForm(), id: ev.id, version: ev.version, title: ev.title || '',
    location: ev.location || '', description: ev.description || '', allDay, date,
    endDate: ev.end_date || date, start: allDay ? '09:00' : ev.start.slice(11, 16),
    end: allDay ? '10:00' : ev.end.slice(11, 16), repeat: fromRRule(ev.rrule, date),
    attendees: (ev.attendees || []).map((a) => ({ id: a.person, name: names.get(a.person) || a.person, optional: !!a.optional })),
    guests: ev.guests || 0, room: ev.room || '',
    trips: (ev.trips || []).map((t) => ({ id: t.id, vehicle: t.vehicle || '', driver: t.driver || '',
      from: t.from || '', to: t.to || '', depart: t.depart.slice(11, 16), ret: t.return.slice(11, 16),
      passengers: t.passengers || [], approved_by: t.approved_by || '' })),
    meals: (ev.meals || []).map((m) => m.meal),
    diets: { halal: 0, vegetarian: 0, ...(firstMeal.diets || {}) },
    reminders: ev.reminders || [], confidential: !!ev.confidential, preempt: false };
}

function at(date, time) { return `${date}T${time}:00`; }

const minutesOf = (hm) => (/^\d\d:\d\d$/.test(hm || '') ? Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3)) : null);
const clock = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

// A new start takes the cars along, as the server does for a moved meeting:
// the trips keep their distance from the start (left alone past midnight).
function startMoved(f, start) {
  const delta = minutesOf(start) - minutesOf(f.start);
  if (minutesOf(start) == null || minutesOf(f.start) == null || delta === 0) return { start };
  const trips = f.trips.map((t) => {
    if (minutesOf(t.depart) == null || minutesOf(t.ret) == null) return t;
    const d = minutesOf(t.depart) + delta;
    const r = minutesOf(t.ret) + delta;
    return d >= 0 && r < 24 * 60 ? { ...t, depart: clock(d), ret: clock(r) } : t;
  });
  return { start, trips };
}

// The form as the API's event body. editing: nulls remove what was cleared.
export function bodyOf(f, editing) {
  const none = editing ? null : undefined;
  const b = { title: f.title.trim(), tz: ORG_TZ, location: f.location.trim() || none,
    description: f.description.trim() || none, rrule: toRRule(f.repeat) || none,
    attendees: f.attendees.map((a) => (a.optional ? { person: a.id, optional: true } : { person: a.id })),
    room: f.room || none, guests: Number(f.guests) || 0, reminders: f.reminders,
    confidential: f.confidential };
  if (f.allDay) {
    b.date = f.date;
    if (f.endDate && f.endDate !== f.date) b.end_date = f.endDate;
  } else {
    b.start = at(f.date, f.start);
    b.end = at(f.date, f.end);
  }
  const diets = Object.fromEntries(Object.entries(f.diets).filter(([, n]) => Number(n) > 0).map(([d, n]) => [d, Number(n)]));
  b.meals = f.meals.map((m) => (Object.keys(diets).length ? { meal: m, diets } : { meal: m }));
  b.trips = f.trips.map((t) => {
    const trip = { vehicle: t.vehicle || null, driver: t.driver || null, from: t.from, to: t.to,
      depart: at(f.date, t.depart), return: at(f.date, t.ret), passengers: t.passengers };
    if (t.id) trip.id = t.id;
    if (t.approved_by) trip.approved_by = t.approved_by;
    return trip;
  });
  if (f.preempt) b.preempt = true;
  for (const k of Object.keys(b)) if (b[k] === undefined) delete b[k];
  return b;
}

// The request saving would send, for its dry run; null until there is a time to check.
// A title not typed yet is no reason to hide the clashes.
function previewRequest(f, editing) {
  if (!f.date || (!f.allDay && (!f.start || !f.end))) return null;
  const body = bodyOf({ ...f, title: f.title.trim() || '（未命名）' }, editing);
  return editing
    ? { method: 'PATCH', path: `/events/${encodeURIComponent(f.id)}`, body, ifMatch: f.version }
    : { method: 'POST', path: '/events', body };
}

async function loadRefs(id) {
  const [people, rooms, vehicles] = await Promise.all([api('GET', '/people'), api('GET', '/rooms'), api('GET', '/vehicles')]);
  const names = new Map(people.map((p) => [p.id, p.name]));
  const event = id ? await api('GET', `/events/${encodeURIComponent(id)}`) : null;
  return { people, rooms, vehicles, names, form: event ? formOf(event, names) : blankForm() };
}

// A 422's sentence under the fields it names (field "trips[0].driver" shows under trips[0]).
function FieldError({ errors, at: prefix }) {
  const hits = Object.entries(errors).filter(([f]) => f === prefix || f.startsWith(prefix + '.') || f.startsWith(prefix + '['));
  if (!hits.length) return null;
  return html`<p class="field-error" role="alert">${hits.map(([, m]) => m).join('；')}</p>`;
}

// Type 王 -> the people whose name, login or department holds it.
function PersonPicker({ chosen, onPick }) {
  const [q, setQ] = useState('');
  const [list, setList] = useState([]);
  const [active, setActive] = useState(0);
  useEffect(() => {
    if (!q.trim()) { setList([]); return undefined; }
    const timer = setTimeout(() => {
      api('GET', `/people?q=${encodeURIComponent(q.trim())}`).then(
        (ps) => { setList(ps.filter((p) => !chosen.some((c) => c.id === p.id)).slice(0, 8)); setActive(0); },
        () => setList([]));
    }, 120);
    return () => clearTimeout(timer);
  }, [q, chosen.length]);
  const pick = (p) => { onPick(p); setQ(''); setList([]); };
  const onKey = (e) => {
    if (!list.length) return;
    if (e.key === 'ArrowDown') { e.preventDefault(); setActive((active + 1) % list.length); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); setActive((active + list.length - 1) % list.length); }
    else if (e.key === 'Enter') { e.preventDefault(); pick(list[active]); }
    else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); setList([]); }
  };
  const open = list.length > 0;
  return html`<div class="combo">
    <input id="people-q" role="combobox" aria-expanded=${open} aria-controls="people-list" aria-autocomplete="list"
      aria-activedescendant=${open ? `person-opt-${active}` : undefined} placeholder="输入姓名、部门，如：王"
      value=${q} onInput=${(e) => setQ(e.target.value)} onKeyDown=${onKey} autocomplete="off" />
    ${open && html`<ul id="people-list" role="listbox" class="listbox" aria-label="匹配的人员">
      ${list.map((p, i) => html`<li id=${`person-opt-${i}`} role="option" aria-selected=${i === active}
        class=${i === active ? 'active' : ''} onMouseDown=${(e) => { e.preventDefault(); pick(p); }}>
        ${p.name} <span class="muted">${p.department || ''}</span></li>`)}
    </ul>`}
  </div>`;
}

function RepeatFields({ f, set }) {
  const r = f.repeat;
  const setR = (patch) => set({ repeat: { ...r, ...patch } });
  const toggleDay = (d) => setR({ days: r.days.includes(d) ? r.days.filter((x) => x !== d) : DAYS.filter((x) => x === d || r.days.includes(x)) });
  return html`<fieldset class="repeat"><legend>重复</legend>
    <select id="repeat" aria-label="重复方式" value=${r.freq} onChange=${(e) => setR({ freq: e.target.value })}>
      <option value="none">不重复</option><option value="daily">每天</option><option value="weekly">每周</option>
      <option value="monthly_nth">每月第N个周X</option><option value="monthly_day">每月X日</option>
      ${r.freq === 'raw' && html`<option value="raw">其他规则</option>`}
    </select>
    ${r.freq === 'weekly' && html`<span class="days" role="group" aria-label="每周哪几天">
      ${DAYS.map((d) => html`<label class="inline"><input type="checkbox" checked=${r.days.includes(d)} onChange=${() => toggleDay(d)} />${dayName(d)}</label>`)}</span>`}
    ${r.freq === 'monthly_nth' && html`<select aria-label="第几个" value=${r.nth} onChange=${(e) => setR({ nth: Number(e.target.value) })}>
        ${NTHS.map((n) => html`<option value=${n}>${nthName(n)}</option>`)}</select>
      <select aria-label="星期几" value=${r.nthDay} onChange=${(e) => setR({ nthDay: e.target.value })}>
        ${DAYS.map((d) => html`<option value=${d}>${dayName(d)}</option>`)}</select>`}
    ${r.freq === 'monthly_day' && html`<label class="inline">每月<input type="number" class="num" min="1" max="31" value=${r.monthDay}
      onInput=${(e) => setR({ monthDay: Number(e.target.value) })} />日</label>`}
    ${r.freq !== 'none' && r.freq !== 'raw' && html`<span class="ends">
      <select aria-label="结束方式" value=${r.end} onChange=${(e) => setR({ end: e.target.value })}>
        <option value="count">按次数</option><option value="until">到某一天</option><option value="never">不设结束</option></select>
      ${r.end === 'count' && html`<label class="inline">共<input type="number" class="num" min="1" max="1000" value=${r.count}
        onInput=${(e) => setR({ count: Number(e.target.value) })} />次</label>`}
      ${r.end === 'until' && html`<input type="date" aria-label="重复至" value=${r.until} onInput=${(e) => setR({ until: e.target.value })} />`}
    </span>`}
    <p class="said" id="repeat-words" aria-live="polite">${r.freq === 'none' ? '' : describe(r)}</p>
  </fieldset>`;
}

// Rooms best fit first: the smallest that holds everyone, then the rest (too small) last.
export function roomsByFit(rooms, need) {
  const fits = rooms.filter((r) => r.capacity >= need).sort((a, b) => a.capacity - b.capacity || a.name.localeCompare(b.name, 'zh-CN'));
  const small = rooms.filter((r) => r.capacity < need).sort((a, b) => b.capacity - a.capacity);
  return [...fits, ...small];
}

function roomLabel(r, need) {
  const bits = [`${r.capacity}人`, r.location, ...(r.features || []).map(featureName)].filter(Boolean);
  return `${r.name}（${bits.join('，')}）${r.capacity < need ? ' 容量不足' : ''}`;
}

function TripFields({ t, i, f, refs, setTrip, remove, errors }) {
  const drivers = refs.people.filter((p) => p.role === 'driver');
  const leaders = refs.people.filter((p) => p.role === 'leader');
  const id = (k) => `trip-${i}-${k}`;
  const toggle = (p) => setTrip({ passengers: t.passengers.includes(p) ? t.passengers.filter((x) => x !== p) : [...t.passengers, p] });
  return html`<fieldset class="trip-row"><legend>用车 ${i + 1}</legend>
    <div class="grid4">
      <div><label for=${id('vehicle')}>车辆</label><select id=${id('vehicle')} value=${t.vehicle} onChange=${(e) => setTrip({ vehicle: e.target.value })}>
        <option value="">（待定）</option>${refs.vehicles.map((v) => html`<option value=${v.id}>${v.name} ${v.plate || ''}（${v.seats}座）</option>`)}</select></div>
      <div><label for=${id('driver')}>司机</label><select id=${id('driver')} value=${t.driver} onChange=${(e) => setTrip({ driver: e.target.value })}>
        <option value="">（待定）</option>${drivers.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select></div>
      <div><label for=${id('from')}>出发地</label><input id=${id('from')} value=${t.from} onInput=${(e) => setTrip({ from: e.target.value })} /></div>
      <div><label for=${id('to')}>目的地</label><input id=${id('to')} value=${t.to} onInput=${(e) => setTrip({ to: e.target.value })} /></div>
      <div><label for=${id('depart')}>出发时间</label><input id=${id('depart')} type="time" value=${t.depart} onInput=${(e) => setTrip({ depart: e.target.value })} /></div>
      <div><label for=${id('ret')}>返回时间</label><input id=${id('ret')} type="time" value=${t.ret} onInput=${(e) => setTrip({ ret: e.target.value })} /></div>
      <div><label for=${id('approved')}>审批人（周末、节假日）</label><select id=${id('approved')} value=${t.approved_by} onChange=${(e) => setTrip({ approved_by: e.target.value })}>
        <option value="">（无需审批）</option>${leaders.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select></div>
    </div>
    <div role="group" aria-label="乘车人员" class="passengers"><span class="muted">乘车：</span>
      ${f.attendees.length === 0 && html`<span class="muted">先在参会人员中添加</span>`}
      ${f.attendees.map((a) => html`<label class="inline"><input type="checkbox" checked=${t.passengers.includes(a.id)} onChange=${() => toggle(a.id)} />${a.name}</label>`)}
    </div>
    <${FieldError} errors=${errors} at=${`trips[${i}]`} />
    <button type="button" class="link" onClick=${remove}>删除此用车</button>
  </fieldset>`;
}

function Clashes({ list }) {
  return html`<div class="clashes" role="alert">
    <h2>无法预订：以下安排冲突</h2>
    <ul>${list.map((c) => html`<li>${clashText(c)}</li>`)}</ul>
  </div>`;
}

function BookForm({ refs }) {
  const [f, setF] = useState(refs.form);
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null); // {sentence, clashes}
  const [saving, setSaving] = useState(false);
  const [finding, setFinding] = useState(false);
  const titleRef = useRef(null);
  const set = (patch) => setF((old) => ({ ...old, ...patch }));
  const editing = !!f.id;
  useEffect(() => { titleRef.current && titleRef.current.focus(); }, []);
  useEffect(() => {
    const onKey = (e) => { if (e.key === 'Escape') { setFinding(false); setFailure(null); } };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const need = f.attendees.length + (Number(f.guests) || 0);
  const rooms = roomsByFit(refs.rooms, need);
  const room = refs.rooms.find((r) => r.id === f.room);
  const setTrip = (i, patch) => set({ trips: f.trips.map((t, j) => (j === i ? { ...t, ...patch } : t)) });
  const preview = usePreview(previewRequest(f, editing));
  const mayPreempt = f.preempt || !!(preview.data && preview.data.with_preempt);

  const save = async (e) => {
    e.preventDefault();
    setErrors({});
    setFailure(null);
    if (!f.title.trim()) { setErrors({ title: '请填写会议名称' }); titleRef.current.focus(); return; }
    setSaving(true);
    try {
      const body = bodyOf(f, editing);
      const ev = editing
        ? await api('PATCH', `/events/${encodeURIComponent(f.id)}`, body, { ifMatch: f.version })
        : await api('POST', '/events', body);
      location.hash = `#/meeting?id=${encodeURIComponent(ev.id)}`;
    } catch (err) {
      const sentence = errorText(err);
      if (err.status === 422 || err.status === 400) {
        if (err.field) setErrors({ [err.field]: `${sentence}${err.message && err.message !== err.code ? `：${err.message}` : ''}` });
      }
      setFailure({ sentence, clashes: err.conflicts || [], field: err.field });
    } finally {
      setSaving(false);
    }
  };

  return html`<form class="book" onSubmit=${save} noValidate>
    <div class="book-main">
      <label for="title">会议名称</label>
      <input id="title" ref=${titleRef} value=${f.title} onInput=${(e) => set({ title: e.target.value })} aria-required="true" />
      <${FieldError} errors=${errors} at="title" />

      <fieldset class="when"><legend>时间</legend>
        <label class="inline"><input type="checkbox" id="all-day" checked=${f.allDay} onChange=${(e) => set({ allDay: e.target.checked })} />全天</label>
        <div class="grid4">
          <div><label for="date">日期</label><input id="date" type="date" value=${f.date}
            onInput=${(e) => set({ date: e.target.value, endDate: e.target.value, repeat: f.repeat.freq === 'none' ? emptyRepeat(e.target.value) : f.repeat })} /></div>
          ${f.allDay
            ? html`<div><label for="end-date">结束日期</label><input id="end-date" type="date" value=${f.endDate} onInput=${(e) => set({ endDate: e.target.value })} /></div>`
            : html`<div><label for="start">开始</label><input id="start" type="time" step="300" value=${f.start} onInput=${(e) => set(startMoved(f, e.target.value))} /></div>
              <div><label for="end">结束</label><input id="end" type="time" step="300" value=${f.end} onInput=${(e) => set({ end: e.target.value })} /></div>`}
          <div class="find"><button type="button" id="find-time" onClick=${() => setFinding(true)}>找时间…</button></div>
        </div>
        <p class="muted small">${f.date ? dateLabel(f.date) : ''}</p>
        <${FieldError} errors=${errors} at="start" /><${FieldError} errors=${errors} at="end" /><${FieldError} errors=${errors} at="date" />
        <${RepeatFields} f=${f} set=${set} />
        <${FieldError} errors=${errors} at="rrule" />
      </fieldset>
      ${finding && html`<${FindTime} form=${f} rooms=${refs.rooms} onClose=${() => setFinding(false)}
        onPick=${(slot) => { set(slot); setFinding(false); }} />`}

      <fieldset><legend>参会人员</legend>
        <${PersonPicker} chosen=${f.attendees} onPick=${(p) => set({ attendees: [...f.attendees, { id: p.id, name: p.name, optional: false }] })} />
        <ul class="chosen">${f.attendees.map((a, i) => html`<li>
          <span>${a.name}</span>
          <select aria-label=${`${a.name}：必须或可选`} value=${a.optional ? 'optional' : 'required'}
            onChange=${(e) => set({ attendees: f.attendees.map((x, j) => (j === i ? { ...x, optional: e.target.value === 'optional' } : x)) })}>
            <option value="required">必须参加</option><option value="optional">可选</option></select>
          <button type="button" class="link" aria-label=${`移除${a.name}`} onClick=${() => set({ attendees: f.attendees.filter((_, j) => j !== i) })}>移除</button>
        </li>`)}</ul>
        <${FieldError} errors=${errors} at="attendees" />
        <label for="guests">来宾人数</label>
        <input id="guests" type="number" class="num" min="0" value=${f.guests} onInput=${(e) => set({ guests: e.target.value })} />
      </fieldset>

      <fieldset><legend>会议室与地点</legend>
        <label for="room">会议室</label>
        <select id="room" value=${f.room} onChange=${(e) => set({ room: e.target.value })}>
          <option value="">（不用会议室）</option>
          ${rooms.map((r) => html`<option value=${r.id}>${roomLabel(r, need)}</option>`)}
        </select>
        <p class=${'capacity' + (room && need > room.capacity ? ' over' : '')} id="capacity">
          参会 ${f.attendees.length} 人 + 来宾 ${Number(f.guests) || 0} 人 = ${need} 人${room ? `；${room.name}容量 ${room.capacity} 人` : ''}${room && need > room.capacity ? '，容量不足' : ''}</p>
        <${FieldError} errors=${errors} at="room" /><${FieldError} errors=${errors} at="guests" />
        <label for="location">地点（不用本单位会议室时填写）</label>
        <input id="location" value=${f.location} onInput=${(e) => set({ location: e.target.value })} />
      </fieldset>

      <fieldset><legend>用车</legend>
        ${f.trips.map((t, i) => html`<${TripFields} t=${t} i=${i} f=${f} refs=${refs} errors=${errors}
          setTrip=${(p) => setTrip(i, p)} remove=${() => set({ trips: f.trips.filter((_, j) => j !== i) })} />`)}
        <button type="button" id="add-trip" onClick=${() => set({ trips: [...f.trips, newTrip(f)] })}>添加用车</button>
      </fieldset>

      <fieldset><legend>用餐</legend>
        <div role="group" aria-label="用餐">${MEALS.map((m) => html`<label class="inline"><input type="checkbox" id=${`meal-${m}`}
          checked=${f.meals.includes(m)} onChange=${() => set({ meals: f.meals.includes(m) ? f.meals.filter((x) => x !== m) : MEALS.filter((x) => x === m || f.meals.includes(x)) })} />${mealName(m)}</label>`)}</div>
        ${f.meals.length > 0 && html`<div class="diets-in"><span class="muted">来宾中：</span>
          ${GUEST_DIETS.map((d) => html`<label class="inline">${dietName(d)}<input type="number" class="num" min="0" id=${`diet-${d}`}
            value=${f.diets[d]} onInput=${(e) => set({ diets: { ...f.diets, [d]: e.target.value } })} />人</label>`)}</div>`}
        <${FieldError} errors=${errors} at="meals" />
      </fieldset>

      <fieldset><legend>提醒与保密</legend>
        <div role="group" aria-label="提醒">${REMINDERS.map(([m, label]) => html`<label class="inline"><input type="checkbox"
          checked=${f.reminders.includes(m)} onChange=${() => set({ reminders: f.reminders.includes(m) ? f.reminders.filter((x) => x !== m) : [...f.reminders, m].sort((a, b) => b - a) })} />${label}</label>`)}</div>
        <label class="inline"><input type="checkbox" id="confidential" checked=${f.confidential} onChange=${(e) => set({ confidential: e.target.checked })} />保密会议（司机等无关人员只看到“忙碌”）</label>
      </fieldset>
    </div>

    <div class="book-actions">
      <${PreviewPanel} state=${preview} />
      ${mayPreempt && html`<label class="inline preempt"><input type="checkbox" id="preempt" checked=${f.preempt}
        onChange=${(e) => set({ preempt: e.target.checked })} />优先占用（按领导职级取得已被较低职级会议占用的会议室、车辆）</label>`}
      ${failure && failure.clashes.length > 0 && html`<${Clashes} list=${failure.clashes} />`}
      ${failure && failure.clashes.length === 0 && html`<p class="form-error" role="alert">${failure.sentence}</p>`}
      <button type="submit" class="primary" disabled=${saving}>${saving ? '正在保存…' : editing ? '保存修改' : '预订'}</button>
      <a class="button" href=${editing ? `#/meeting?id=${encodeURIComponent(f.id)}` : '#/week'}>取消</a>
      <p class="muted small">回车保存，Esc 关闭弹出内容。</p>
    </div>
  </form>`;
}

export default function Book({ params }) {
  const id = params.get('id');
  const state = useLoad(() => loadRefs(id), [id]);
  return html`<section class="page page-book">
    <${PageHead} title=${id ? '修改会议' : '预订会议'} />
    <${LoadState} state=${state} />
    ${state.data && html`<${BookForm} key=${id || 'new'} refs=${state.data} />`}
  </section>`;
}
