// board.js - the 会议室 and 车辆 boards: resources down, time across, for a
// day or a week. A room's setup and teardown are a lighter band around
// each booking, blocks (停用) are hatched. A booking can be dragged to
// another time or room (a one-off moves whole, PATCH with If-Match; an
// occurrence of a series moves alone, into another room too), a trip to
// another time or car. The drop asks the change's preview first (the dry
// run, preview.js): the booking waits where it was dropped while the
// clashes or the effects are shown, and only 确认移动 saves it; 取消 or a
// refusal puts it back. A plain CSS grid: @event-calendar/build sets inline
// style attributes, which this page's CSP (style-src 'self') refuses.
import { html, useEffect, useRef, useState } from '../html.js';
import { api } from '../api.js';
import { errorText } from '../errors.js';
import { clashText } from '../clash.js';
import { onChange } from '../live.js';
import { PageHead, LoadState, Empty, useLoad } from '../components.js';
import { ORG_TZ, today, addDays, mondayOf, dateLabel, monthDay, weekday, zoned, hhmm, localLabel } from '../time.js';
import { featureName } from '../labels.js';
import { PreviewPanel, askPreview } from '../preview.js';

const FIRST = 7 * 60; // the board shows 07:00-22:00 of each day
const LAST = 22 * 60;
const SPAN = LAST - FIRST;
const SNAP = 15;

function minutesOf(z) { return Number(z.time.slice(0, 2)) * 60 + Number(z.time.slice(3, 5)); }

// An interval as {day index, from, to} in board minutes, clipped to the shown hours.
function place(startUtc, endUtc, days) {
  const s = zoned(startUtc);
  const e = zoned(endUtc);
  const i = days.indexOf(s.date);
  if (i < 0) return null;
  const from = minutesOf(s);
  const to = e.date === s.date ? minutesOf(e) : 24 * 60;
  return { day: i, from, to };
}

function pct(day, minutes, n) {
  const m = Math.min(LAST, Math.max(FIRST, minutes)) - FIRST;
  return ((day * SPAN + m) / (n * SPAN)) * 100;
}

function box(day, from, to, n) {
  const left = pct(day, from, n);
  return { left: `${left}%`, width: `${Math.max(0.4, pct(day, to, n) - left)}%` };
}

async function loadBoard(kind, days) {
  const from = days[0];
  const to = days[days.length - 1];
  const resources = await api('GET', kind === 'rooms' ? '/rooms' : '/vehicles');
  const blocks = (await Promise.all(resources.map((r) => api('GET', `/blocks?${kind === 'rooms' ? 'room' : 'vehicle'}=${r.id}`).catch(() => [])))).flat();
  let items;
  if (kind === 'rooms') {
    const occ = await api('GET', `/occurrences?from=${from}&to=${to}&tz=${encodeURIComponent(ORG_TZ)}`);
    items = occ.filter((o) => o.room && o.status !== 'cancelled' && !o.all_day).map((o) => ({
      key: `${o.event}/${o.recurrence_id}`, event: o.event, rid: o.recurrence_id, resource: o.room,
      startUtc: o.start_utc, endUtc: o.end_utc, title: o.title == null ? '忙碌' : o.title, confidential: o.confidential,
      pending: o.status === 'pending' }));
  } else {
    const trips = await api('GET', `/trips?from=${from}&to=${to}`);
    items = trips.filter((t) => t.vehicle).map((t) => ({
      key: `${t.id}/${t.recurrence_id}`, event: t.event, rid: t.recurrence_id, resource: t.vehicle, trip: t.id,
      startUtc: t.depart_utc, endUtc: t.return_utc, title: `${t.from || ''}→${t.to || ''}`,
      sub: [t.driver_name, t.title].filter(Boolean).join(' · '),
      // Awaiting approval: drawn dashed with 待审批, like the rooms board; no one to acknowledge yet.
      pending: t.pending === true, acknowledged: t.pending === true ? undefined : t.acknowledged }));
  }
  return { resources, blocks, items };
}

function shifted(local, deltaMin) {
  const t = new Date(local.slice(0, 19) + 'Z');
  t.setUTCMinutes(t.getUTCMinutes() + deltaMin);
  return t.toISOString().slice(0, 19);
}

const refusal = (code) => Object.assign(new Error(code), { code });

// A dropped meeting: the request that moves it, as the API wants it.
async function meetingMove(item, deltaMin, room) {
  const ev = await api('GET', `/events/${encodeURIComponent(item.event)}`);
  const path = `/events/${encodeURIComponent(item.event)}`;
  if (ev.rrule) {
    const occ = (await api('GET', `/occurrences?from=${item.rid.slice(0, 10)}&to=${item.rid.slice(0, 10)}&room=${item.resource}`))
      .find((o) => o.event === item.event && o.recurrence_id === item.rid);
    if (!occ) throw refusal('not_found');
    const body = { start: shifted(occ.start, deltaMin), end: shifted(occ.end, deltaMin) };
    if (room !== item.resource) body.room = room; // this occurrence alone changes room
    return { method: 'PATCH', path: `${path}/occurrences/${encodeURIComponent(item.rid)}`, body };
  }
  const body = { start: shifted(ev.start, deltaMin), end: shifted(ev.end, deltaMin), tz: ev.tz };
  if (room !== ev.room) body.room = room;
  return { method: 'PATCH', path, body, ifMatch: ev.version };
}

// A dropped trip: the meeting's trips with this one at its new time and car.
async function tripMove(item, deltaMin, vehicle) {
  const ev = await api('GET', `/events/${encodeURIComponent(item.event)}`);
  if (ev.rrule) throw refusal('series_trip');
  const trips = (ev.trips || []).map((t) => (t.id !== item.trip ? t
    : { ...t, vehicle, depart: shifted(t.depart, deltaMin), return: shifted(t.return, deltaMin) }));
  return { method: 'PATCH', path: `/events/${encodeURIComponent(item.event)}`, body: { trips }, ifMatch: ev.version };
}

const WHY = {
  series_trip: '系列会议的出车随会议移动，请在会议详情中修改',
};

// The move waiting for 确认移动: what, where to, and the preview of it.
function MoveDialog({ pending, onYes, onNo }) {
  const { label, preview, busy, error } = pending;
  useEffect(() => {
    const key = (e) => { if (e.key === 'Escape') onNo(); };
    addEventListener('keydown', key);
    return () => removeEventListener('keydown', key);
  }, []);
  return html`<div class="confirm move-dialog" role="dialog" aria-label="移动预览" aria-describedby="move-text">
    <p id="move-text">${label}</p>
    <${PreviewPanel} state=${preview} title="移动预览" withPreempt=${false} />
    ${error && html`<p class="form-error" role="alert">${errorText(error)}</p>`}
    <button type="button" class="primary" disabled=${busy || !preview.data || !preview.data.ok} onClick=${onYes}>确认移动</button>
    <button type="button" onClick=${onNo}>取消</button>
  </div>`;
}

function Axis({ days }) {
  const n = days.length;
  const marks = n === 1
    ? Array.from({ length: SPAN / 60 + 1 }, (_, h) => ({ left: pct(0, FIRST + h * 60, 1), text: hhmm(FIRST + h * 60) }))
    : days.map((d, i) => ({ left: pct(i, FIRST, n), text: `${monthDay(d)} ${weekday(d)}` }));
  return html`<div class="axis" aria-hidden="true">${marks.map((m) => html`<span style=${{ left: `${m.left}%` }}>${m.text}</span>`)}</div>`;
}

function Row({ r, kind, days, data, drag, onDown }) {
  const n = days.length;
  const mine = data.items.filter((it) => it.resource === r.id);
  const blocks = data.blocks.filter((b) => b.resource && b.resource.id === r.id);
  const setup = r.setup_minutes || 0;
  const teardown = r.teardown_minutes || 0;
  const label = kind === 'rooms'
    ? `${r.name}（${r.capacity}人${(r.features || []).length ? '，' + r.features.map(featureName).join('、') : ''}）`
    : `${r.name} ${r.plate || ''}（${r.seats}座）`;
  return html`<div class="board-row" role="row" data-resource=${r.id}>
    <div class="res" role="rowheader">${label}</div>
    <div class="track" role="gridcell">
      ${days.map((d, i) => (i === 0 ? null : html`<span class="day-rule" style=${{ left: `${pct(i, FIRST, n)}%` }}></span>`))}
      ${blocks.map((b) => days.map((d, i) => {
        const s = zoned(b.start_utc); const e = zoned(b.end_utc);
        if (e.date < d || s.date > d) return null;
        const from = s.date < d ? FIRST : minutesOf(s);
        const to = e.date > d ? LAST : minutesOf(e);
        return html`<span class="block" style=${box(i, from, to, n)} title=${`停用：${b.reason || ''}`}><span class="sr-only">停用：${b.reason || ''}</span></span>`;
      }))}
      ${mine.map((it) => {
        const p = place(it.startUtc, it.endUtc, days);
        if (!p) return null;
        const moving = drag && drag.item.key === it.key;
        const style = box(p.day, p.from, p.to, n);
        if (moving) style.transform = `translate(${drag.dx}px, ${drag.dy}px)`;
        const z = zoned(it.startUtc);
        return html`
          ${setup + teardown > 0 ? html`<span class="buffer" style=${box(p.day, p.from - setup, p.to + teardown, n)} title="会场布置或撤场缓冲"></span>` : null}
          <a class=${'booking' + (moving ? ' moving' : '') + (moving && drag.dropped ? ' dropped' : '') + (it.acknowledged === false ? ' unacked' : '') + (it.pending ? ' pending' : '')} style=${style}
            href=${`#/meeting?id=${encodeURIComponent(it.event)}`} data-key=${it.key}
            title=${[`${it.title} ${z.time}–${zoned(it.endUtc).time}`, it.sub].filter(Boolean).join('\n')} onPointerDown=${(e) => onDown(e, it)}
            onClick=${(e) => { if (e.currentTarget.dataset.dragged) { e.preventDefault(); delete e.currentTarget.dataset.dragged; } }}>
            <span class="t">${it.pending ? html`<em class="tag">待审批</em>` : ''}<span class="when">${z.time}</span> ${it.title}${it.confidential && it.title !== '忙碌' ? html`<em class="tag">密</em>` : ''}</span>
            ${it.sub && html`<span class="sub">${it.sub}</span>`}
          </a>`;
      })}
    </div>
  </div>`;
}

function Board({ kind, params }) {
  const view = params.get('v') === 'week' ? 'week' : 'day';
  const anchor = params.get('d') || today();
  const first = view === 'week' ? mondayOf(anchor) : anchor;
  const days = view === 'week' ? [0, 1, 2, 3, 4, 5, 6].map((i) => addDays(first, i)) : [first];
  const state = useLoad(() => loadBoard(kind, days), [kind, view, first]);
  const [drag, setDrag] = useState(null);
  const [message, setMessage] = useState(null);
  const dragRef = useRef(null);
  const gridRef = useRef(null);
  useEffect(() => onChange(() => { if (!dragRef.current) state.reload(); }), []);

  const base = kind === 'rooms' ? 'rooms' : 'cars';
  const go = (d, v = view) => { location.hash = `#/${base}?d=${d}&v=${v}`; };
  const step = view === 'week' ? 7 : 1;

  // The booking stays where it was dropped while its preview is open.
  const [pending, setPending] = useState(null);
  const putBack = () => { dragRef.current = null; setDrag(null); setPending(null); };
  const confirmMove = async () => {
    const { item, req } = pending;
    setPending({ ...pending, busy: true, error: null });
    try {
      await api(req.method, req.path, req.body, { ifMatch: req.ifMatch });
      setMessage({ text: `已移动「${item.title}」`, ok: true });
      putBack();
      state.reload();
    } catch (err) {
      setPending({ ...pending, busy: false, error: err });
    }
  };

  const onDown = (e, item) => {
    if (e.button !== 0 || pending) return;
    const track = e.currentTarget.parentElement;
    const row = track.parentElement;
    const d = { item, x0: e.clientX, y0: e.clientY, dx: 0, dy: 0, width: track.getBoundingClientRect().width,
      rowH: row.getBoundingClientRect().height, el: e.currentTarget };
    dragRef.current = d;
    const move = (ev) => {
      const cur = dragRef.current;
      cur.dx = ev.clientX - cur.x0;
      cur.dy = ev.clientY - cur.y0;
      setDrag({ ...cur });
    };
    const up = async () => {
      removeEventListener('pointermove', move);
      removeEventListener('pointerup', up);
      const cur = dragRef.current;
      const minutes = Math.round((cur.dx / cur.width) * days.length * SPAN / SNAP) * SNAP;
      const rows = Math.round(cur.dy / cur.rowH);
      const list = state.data.resources;
      const from = list.findIndex((r) => r.id === item.resource);
      const to = list[Math.min(list.length - 1, Math.max(0, from + rows))];
      if (minutes === 0 && to.id === item.resource) { putBack(); return; }
      cur.el.dataset.dragged = '1';
      setDrag({ ...cur, dropped: true }); // waits in the lower half: what it meets stays readable
      const where = kind === 'rooms' ? to.name : `${to.name} ${to.plate || ''}`.trim();
      const z = zoned(item.startUtc);
      const label = `将把「${item.title}」移到 ${where}，${localLabel(shifted(`${z.date}T${z.time}:00`, minutes))}${kind === 'rooms' ? ' 开始' : ' 出发'}`;
      setPending({ item, label, preview: { busy: true }, busy: false });
      try {
        const req = await (kind === 'rooms' ? meetingMove(item, minutes, to.id) : tripMove(item, minutes, to.id));
        const data = await askPreview(req);
        setPending({ item, label, req, preview: { data }, busy: false });
      } catch (err) {
        putBack();
        setMessage({ text: `未能移动「${item.title}」：${WHY[err.code] || errorText(err)}`, clashes: err.conflicts || [] });
      }
    };
    addEventListener('pointermove', move);
    addEventListener('pointerup', up);
  };

  const title = kind === 'rooms' ? '会议室' : '车辆';
  const range = view === 'week' ? `${monthDay(days[0])}—${monthDay(days[6])}` : dateLabel(first);
  const data = state.data;
  return html`<section class="page page-board">
    <${PageHead} title=${`${title}（${range}）`}>
      <button type="button" aria-pressed=${view === 'day'} onClick=${() => go(first, 'day')}>日</button>
      <button type="button" aria-pressed=${view === 'week'} onClick=${() => go(first, 'week')}>周</button>
      <button type="button" onClick=${() => go(addDays(first, -step))}>${view === 'week' ? '上一周' : '前一天'}</button>
      <button type="button" onClick=${() => go(today())}>今天</button>
      <button type="button" onClick=${() => go(addDays(first, step))}>${view === 'week' ? '下一周' : '后一天'}</button>
      <a class="button primary-link" href="#/book">预订会议</a>
    <//>
    ${message && html`<div class=${'board-msg' + (message.ok ? '' : ' error')} role=${message.ok ? 'status' : 'alert'}>
      ${message.text}${(message.clashes || []).length > 0 && html`<ul>${message.clashes.map((c) => html`<li>${clashText(c)}</li>`)}</ul>`}
      <button type="button" class="link" onClick=${() => setMessage(null)}>知道了</button></div>`}
    ${pending && html`<${MoveDialog} pending=${pending} onYes=${confirmMove} onNo=${putBack} />`}
    <${LoadState} state=${state} />
    ${data && data.resources.length === 0 && html`<${Empty} text=${kind === 'rooms' ? '尚未登记会议室：请管理员在系统设置中添加。' : '尚未登记车辆：请管理员在系统设置中添加。'} />`}
    ${data && data.resources.length > 0 && html`
      ${data.items.length === 0 && html`<${Empty} text=${`${range}${kind === 'rooms' ? '各会议室均无预订' : '各车辆均无出车任务'}（显示 07:00—22:00）`} />`}
      <p class="legend muted small"><span class="key booking-key"></span>${kind === 'rooms' ? '会议' : '出车（司机已确认）'}
        ${kind !== 'rooms' && html`<span class="key unacked-key"></span>司机未确认`}
        ${kind === 'rooms' && html`<span class="key buffer-key"></span>布置/撤场缓冲`}<span class="key pending-key"></span>待审批<span class="key block-key"></span>停用
        ${kind === 'rooms' ? ' · 拖动会议可改时间或换会议室；点击查看详情' : ' · 拖动出车可改时间或换车；点击查看会议'}</p>
      <div class=${'board ' + view} role="grid" aria-label=${`${title}占用情况`} aria-busy=${state.loading ? 'true' : 'false'} ref=${gridRef}>
        <div class="board-row head" role="row"><div class="res" role="columnheader">${title}</div><div class="track" role="columnheader"><${Axis} days=${days} /></div></div>
        ${data.resources.map((r) => html`<${Row} key=${r.id} r=${r} kind=${kind} days=${days} data=${data} drag=${drag} onDown=${onDown} />`)}
      </div>`}
  </section>`;
}

export function RoomBoard(props) { return html`<${Board} kind="rooms" ...${props} />`; }
export function CarBoard(props) { return html`<${Board} kind="vehicles" ...${props} />`; }
export default RoomBoard;
