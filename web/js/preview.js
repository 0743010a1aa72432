// preview.js - what a change would do, asked before it is saved: the same
// request with ?dry_run=true (CONTRACT section 9), which the server runs
// through the real booking and rolls back. Used while the booking form is
// typed (debounced), by the 改期 dialog and by a drop on the boards. The
// panel says, in Chinese, the clashes (who or what, why) or the effects:
// drivers who must acknowledge again, the canteen's counts before -> after,
// meetings that would lose their room or car, the notices that go out.
import { html, useEffect, useState } from './html.js';
import { api } from './api.js';
import { errorText } from './errors.js';
import { clashText } from './clash.js';
import { dateLabel, localLabel, mealName } from './time.js';

// req: {method, path, body, ifMatch}. Resolves to the preview or throws ApiError.
export function askPreview(req) {
  const sep = req.path.includes('?') ? '&' : '?';
  return api(req.method, `${req.path}${sep}dry_run=true`, req.body, { ifMatch: req.ifMatch });
}

// Asks the preview of req (null: nothing to ask yet) delay ms after it last changed.
export function usePreview(req, delay = 350) {
  const key = req ? JSON.stringify(req) : '';
  const [state, setState] = useState({ data: null, error: null, busy: false, key: '' });
  useEffect(() => {
    if (!req) { setState({ data: null, error: null, busy: false, key: '' }); return undefined; }
    let alive = true;
    setState((s) => ({ ...s, busy: true }));
    const timer = setTimeout(() => {
      askPreview(req).then(
        (data) => alive && setState({ data, error: null, busy: false, key }),
        (error) => alive && setState({ data: null, error, busy: false, key }));
    }, delay);
    return () => { alive = false; clearTimeout(timer); };
  }, [key]);
  return state;
}

const NOTICES = {
  'event.created': '会议通知', 'event.updated': '会议变更通知', 'event.cancelled': '会议取消通知',
  'event.preempted': '被优先占用通知', 'dispatch.assigned': '派车通知', 'dispatch.updated': '派车变更',
  'dispatch.cancelled': '派车取消', 'catering.updated': '用餐人数变更',
};
const TRIP_CHANGE = { assigned: '新派车', updated: '派车变更', cancelled: '派车取消' };

function signed(n) { return n > 0 ? `+${n}` : `−${-n}`; }

function tripLine(t) {
  const car = [t.vehicle_name, t.plate].filter(Boolean).join(' ');
  const route = t.from || t.to ? `，${t.from || ''}→${t.to || ''}` : '';
  const times = t.occurrences > 1 ? `（共 ${t.occurrences} 次）` : '';
  return `${TRIP_CHANGE[t.change] || t.change}：${t.driver_name || '司机待定'}${car ? ' ' + car : ''}，${t.depart ? localLabel(t.depart) + ' 出发' : ''}${route}${times}`;
}

function lostLine(p) {
  const what = p.lost && p.lost.type === 'vehicle' ? '车辆' : '会议室';
  const when = p.start ? `${localLabel(p.start)} ` : p.date ? `${dateLabel(p.date)} ` : '';
  return `「${p.title || '保密会议'}」${when}将失去${what}${p.lost && p.lost.name ? `「${p.lost.name}」` : ''}`;
}

function effectLines(fx) {
  const lines = [];
  const again = (fx.trips || []).some((t) => t.change === 'updated');
  if ((fx.acknowledge || []).length) {
    lines.push({ cls: 'fx-ack', text: `司机需${again ? '重新' : ''}确认出车：${fx.acknowledge.map((d) => d.name || d.driver).join('、')}` });
  }
  for (const t of fx.trips || []) lines.push({ cls: 'fx-trip', text: tripLine(t) });
  const meals = [...(fx.catering || [])].sort((a, b) => a.date.localeCompare(b.date));
  for (const c of meals) {
    lines.push({ cls: 'fx-meal', text: `食堂：${dateLabel(c.date)}${mealName(c.meal)} ${c.before} → ${c.after} 人（${signed(c.delta)}）${c.late ? '，已过报餐时间' : ''}` });
  }
  for (const p of fx.preempted || []) lines.push({ cls: 'fx-lost', text: lostLine(p) });
  const notices = Object.entries(fx.messages || {}).filter(([t]) => NOTICES[t]).map(([t, n]) => `${NOTICES[t]} ${n} 条`);
  if (notices.length) lines.push({ cls: 'fx-notice', text: `将发出：${notices.join('、')}` });
  return lines;
}

function Effects({ fx }) {
  const lines = effectLines(fx || {});
  if (!lines.length) return html`<p class="muted">不影响司机、食堂和其他会议。</p>`;
  return html`<ul class="effects">${lines.map((l) => html`<li class=${l.cls}>${l.text}</li>`)}</ul>`;
}

// The panel. state: usePreview's (or {data, error, busy}); withPreempt: the form
// has the 优先占用 box, so say what ticking it would do.
export function PreviewPanel({ state, title = '保存前预览', withPreempt = true }) {
  const { data, error, busy } = state;
  let body;
  if (error) {
    body = html`<p class="form-error">尚不能保存：${errorText(error)}${error.message && error.message !== error.code ? `（${error.message}）` : ''}</p>`;
  } else if (!data) {
    body = html`<p class="muted">${busy ? '正在检查冲突和影响…' : '填写时间后显示冲突和影响。'}</p>`;
  } else if (!data.ok) {
    body = html`<div class="clashes"><h3>有冲突，暂不能保存</h3>
        <ul>${data.conflicts.map((c) => html`<li>${clashText(c)}</li>`)}</ul></div>
      ${withPreempt && data.with_preempt && html`<p class="hint">本会议职级更高，勾选“优先占用”后可保存，届时：</p><${Effects} fx=${data.with_preempt} />`}`;
  } else {
    body = html`<p class="ok-line">无冲突。保存后：</p><${Effects} fx=${data.effects} />`;
  }
  return html`<section class=${'preview' + (busy ? ' busy' : '')} aria-label=${title} aria-live="polite" aria-busy=${busy ? 'true' : 'false'}>
    <h2>${title}</h2>${body}</section>`;
}
