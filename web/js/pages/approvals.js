// approvals.js - 待我审批 (CONTRACT section 12): the bookings waiting for
// this account's decision, each with why (经费 tier, 休息日用车, 专管会议室),
// the meeting, and the deadline; 同意 / 不同意 with a comment. Above the last
// budget tier the principal names the 办公会 that decided it (a picker of
// recent office meetings). Secretaries and admins see everyone's list;
// only the approver (or an admin) gets the buttons: the rule itself is the
// server's (booking/approvals.c), which answers 403 to anyone else.
import { html, useEffect, useState } from '../html.js';
import { api } from '../api.js';
import { onChange } from '../live.js';
import { errorText } from '../errors.js';
import { PageHead, LoadState, Empty, useLoad } from '../components.js';
import { ORG_TZ, today, addDays, localLabel, dateTimeLabel } from '../time.js';
import { APPROVALS_CHANGED } from '../badge.js';

const TIERS = {
  office_director: '办公室主任审批', in_charge: '分管领导审批', principal: '主要领导审批',
  collective: '须经办公会集体研究', keeper: '会议室管理员审批',
};

function reasonText(a) {
  const s = a.summary || {};
  if (a.reason === 'budget') {
    const amount = s.budget ? Number(s.budget.amount).toLocaleString('zh-CN', { minimumFractionDigits: 2 }) : '';
    return `经费 ¥${amount}（${TIERS[a.tier] || a.tier}）`;
  }
  if (a.reason === 'off_day_vehicle') return '休息日、节假日用车';
  if (a.reason === 'room') return '使用专管会议室';
  return a.reason;
}

// A leader reads only their own calendar: the principal picks among the 办公会 they attended.
async function loadAll(session) {
  const list = await api('GET', '/approvals?status=pending');
  let meetings = [];
  if (list.some((a) => a.tier === 'collective')) {
    const from = addDays(today(), -180);
    const to = addDays(today(), 30);
    const mine = session.access === 'leader' ? `&person=${encodeURIComponent(session.person)}` : '';
    const occ = await api('GET', `/occurrences?from=${from}&to=${to}${mine}&tz=${encodeURIComponent(ORG_TZ)}`);
    meetings = occ.filter((o) => o.kind === '办公会' && o.status === 'confirmed');
  }
  return { list, meetings };
}

function Decide({ a, meetings, onDone }) {
  const [comment, setComment] = useState('');
  const [meeting, setMeeting] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const collective = a.tier === 'collective';
  const send = async (decision) => {
    setBusy(true);
    setError(null);
    const body = { decision, comment };
    if (collective && decision === 'approve' && meeting) body.meeting = meeting;
    try {
      await api('POST', `/approvals/${encodeURIComponent(a.id)}/decision`, body);
      dispatchEvent(new Event(APPROVALS_CHANGED));
      onDone();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return html`<div class="decide">
    <label>审批意见
      <textarea rows="2" value=${comment} onInput=${(e) => setComment(e.target.value)} maxlength="500"></textarea>
    </label>
    ${collective && html`<label>研究决定的办公会
      <select value=${meeting} onChange=${(e) => setMeeting(e.target.value)}>
        <option value="">请选择</option>
        ${meetings.map((m) => html`<option value=${m.event}>${localLabel(m.start)} ${m.title}</option>`)}
      </select>
    </label>`}
    <button type="button" class="primary" disabled=${busy || (collective && !meeting)} onClick=${() => send('approve')}>同意</button>
    <button type="button" disabled=${busy} onClick=${() => send('reject')}>不同意</button>
    ${error && html`<p class="state error" role="alert">${errorText(error)}</p>`}
  </div>`;
}

function Item({ a, meetings, session, names, onDone }) {
  const s = a.summary || {};
  // A delegate standing in now (the server marks it as_delegate_of) decides as the approver would.
  const mine = a.approver === session.person || Boolean(a.as_delegate_of) || session.access === 'admin';
  const own = a.requested_by && a.requested_by === session.person;
  return html`<li class="approval" aria-label=${s.title || '预订'}>
    <h2><a href=${`#/meeting?id=${encodeURIComponent(a.event)}`}>${s.title || '（内部会议）'}</a>
      <em class="tag pending">待审批</em></h2>
    <dl>
      <dt>事由</dt><dd>${reasonText(a)}</dd>
      <dt>时间</dt><dd>${s.start ? localLabel(s.start) : (s.date || '')}${s.end ? `–${String(s.end).slice(11, 16)}` : ''}</dd>
      ${s.department && html`<dt>承办部门</dt><dd>${s.department}</dd>`}
      <dt>审批人</dt><dd>${names.get(a.approver) || a.approver}${a.as_delegate_of ? '（您代为审批）' : ''}</dd>
      <dt>截止</dt><dd>${dateTimeLabel(a.expires)}前（逾期自动取消）</dd>
    </dl>
    ${own ? html`<p class="muted">本预订由您提交，需由他人审批。</p>`
      : mine ? html`<${Decide} a=${a} meetings=${meetings} onDone=${onDone} />`
      : html`<p class="muted">等待${names.get(a.approver) || '审批人'}审批。</p>`}
  </li>`;
}

export default function Approvals({ session }) {
  const state = useLoad(() => loadAll(session), []);
  const [names, setNames] = useState(new Map());
  useEffect(() => onChange(() => state.reload()), []);
  useEffect(() => {
    // People's names for the office; an approver's own list names only themself.
    if (session.access === 'leader') { setNames(new Map([[session.person, session.name]])); return; }
    api('GET', '/people').then((ps) => setNames(new Map(ps.map((p) => [p.id, p.name]))), () => {});
  }, []);
  const data = state.data || { list: [], meetings: [] };
  return html`<section class="page page-approvals">
    <${PageHead} title="待我审批" />
    <${LoadState} state=${state} />
    ${state.data && (data.list.length === 0 ? html`<${Empty} text="暂无待审批事项" />`
      : html`<ul class="approvals">${data.list.map((a) => html`<${Item} key=${a.id} a=${a}
          meetings=${data.meetings} session=${session} names=${names} onDone=${state.reload} />`)}</ul>`)}
  </section>`;
}
