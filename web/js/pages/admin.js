// admin.js - 系统设置 for admins: people (with login, access and a new
// password), rooms, vehicles, tokens, webhooks with their deliveries
// (retry, replay) and the working calendar (which years are loaded, how
// long it lasts, and loading a year from the State Council's notice).
import { html, useState } from '../html.js';
import { api } from '../api.js';
import { errorText } from '../errors.js';
import { PageHead, LoadState, Empty, useLoad } from '../components.js';
import { today, dateTimeLabel, dietName } from '../time.js';
import { featureName, featureCode, ROLE_NAMES, ACCESS_NAMES } from '../labels.js';

const TABS = [['people', '人员'], ['rooms', '会议室'], ['vehicles', '车辆'], ['tokens', '令牌'], ['webhooks', 'Webhook 推送'], ['calendar', '工作日历']];

const opts = (m) => Object.entries(m);
const FIELDS = {
  people: [['name', '姓名', 'text', true], ['role', '身份', opts(ROLE_NAMES), true], ['rank', '排序（1 为主要领导）', 'number'],
    ['department', '部门', 'text'], ['phone', '电话', 'text'], ['diet', '饮食', [['', '普通'], ['halal', '清真'], ['vegetarian', '素食']]]],
  rooms: [['name', '名称', 'text', true], ['capacity', '容纳人数', 'number', true], ['location', '位置', 'text'],
    ['features', '设备（顿号或逗号分隔，如 视频会议、投影仪）', 'list'], ['setup_minutes', '布置（分钟）', 'number'], ['teardown_minutes', '撤场（分钟）', 'number']],
  vehicles: [['name', '车型', 'text', true], ['plate', '车牌', 'text'], ['seats', '座位数', 'number', true]],
};

// /healthz's warning is written for operators (the API call, the command line);
// here the form to load the year is right below, so it says that instead.
function calendarWarning(w) {
  return w.replace(/\s*The working calendar[\s\S]*$/, '')
    .replace(/用 PUT \S+ 或 convene calendar load 载入/, '在下方“载入一年的放假安排”中载入');
}

function valueOf(type, raw) {
  if (type === 'number') return raw === '' ? undefined : Number(raw);
  if (type === 'list') return raw.split(/[,，、\s]+/).filter(Boolean).map(featureCode);
  return raw === '' ? undefined : raw;
}

// A form that POSTs one record; the API's 422 shows next to its field.
function AddForm({ kind, onDone }) {
  const fields = FIELDS[kind];
  const [v, setV] = useState({});
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const body = {};
    for (const [k, , type] of fields) { const x = valueOf(type, v[k] ?? ''); if (x !== undefined) body[k] = x; }
    try { await api('POST', `/${kind}`, body); setV({}); onDone(); } catch (err) { setError(err); }
  };
  return html`<form class="add-form" onSubmit=${submit} aria-label="新增">
    ${fields.map(([k, label, type, req]) => html`<div class="field">
      <label for=${`add-${kind}-${k}`}>${label}${req ? ' *' : ''}</label>
      ${Array.isArray(type)
        ? html`<select id=${`add-${kind}-${k}`} value=${v[k] ?? ''} onChange=${(e) => setV({ ...v, [k]: e.target.value })}>
            ${!req ? '' : html`<option value="">（请选择）</option>`}${type.map(([val, name]) => html`<option value=${val}>${name}</option>`)}</select>`
        : html`<input id=${`add-${kind}-${k}`} type=${type === 'number' ? 'number' : 'text'} value=${v[k] ?? ''}
            onInput=${(e) => setV({ ...v, [k]: e.target.value })} />`}
      ${error && error.field === k && html`<p class="field-error" role="alert">${errorText(error)}</p>`}
    </div>`)}
    <div class="field"><button type="submit" class="primary">添加</button></div>
    ${error && !fields.some(([k]) => k === error.field) && html`<p class="form-error" role="alert">${errorText(error)}</p>`}
  </form>`;
}

function DeleteButton({ path, name, onDone, verb = '删除' }) {
  const [ask, setAsk] = useState(false);
  const [error, setError] = useState(null);
  const del = async () => { try { await api('DELETE', path); onDone(); } catch (e) { setError(e); } };
  if (!ask) return html`<button type="button" class="link" onClick=${() => setAsk(true)} aria-label=${`${verb}${name}`}>${verb}</button>`;
  return html`<span class="inline-confirm">确定${verb}「${name}」？<button type="button" class="danger" onClick=${del}>${verb}</button>
    <button type="button" onClick=${() => { setAsk(false); setError(null); }}>返回</button>
    ${error && html`<span class="form-error" role="alert">${errorText(error)}</span>`}</span>`;
}

function Login({ p, onDone }) {
  const [open, setOpen] = useState(false);
  const [login, setLogin] = useState(p.login || '');
  const [access, setAccess] = useState(p.access || 'none');
  const [password, setPassword] = useState('');
  const [msg, setMsg] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    setMsg(null);
    try {
      await api('PATCH', `/people/${p.id}`, { login: login || null, access }, { ifMatch: p.version });
      if (password) await api('PUT', `/people/${p.id}/password`, { password });
      setPassword('');
      setMsg({ ok: true, text: password ? '已保存，密码已设置' : '已保存' });
      onDone();
    } catch (err) { setMsg({ text: errorText(err) + (err.field === 'password' ? '（密码至少 10 个字符）' : '') }); }
  };
  if (!open) return html`<button type="button" class="link" onClick=${() => setOpen(true)}>登录与权限</button>`;
  return html`<form class="login-form" onSubmit=${save}>
    <label class="inline">登录名<input value=${login} onInput=${(e) => setLogin(e.target.value)} /></label>
    <label class="inline">权限<select value=${access} onChange=${(e) => setAccess(e.target.value)}>
      ${opts(ACCESS_NAMES).map(([k, n]) => html`<option value=${k}>${n}</option>`)}</select></label>
    <label class="inline">新密码<input type="password" autocomplete="new-password" value=${password} onInput=${(e) => setPassword(e.target.value)} placeholder="不改则留空" /></label>
    <button type="submit" class="primary">保存</button><button type="button" onClick=${() => setOpen(false)}>收起</button>
    ${msg && html`<span class=${msg.ok ? 'ok' : 'form-error'} role=${msg.ok ? 'status' : 'alert'}>${msg.text}</span>`}
  </form>`;
}

function Records({ kind }) {
  const state = useLoad(() => api('GET', `/${kind}`), [kind]);
  const list = state.data || [];
  const cols = {
    people: [['姓名', (p) => p.name], ['身份', (p) => ROLE_NAMES[p.role] || p.role], ['部门', (p) => p.department || ''],
      ['饮食', (p) => (p.diet ? dietName(p.diet) : '')], ['登录名', (p) => p.login || '—'], ['权限', (p) => ACCESS_NAMES[p.access] || p.access]],
    rooms: [['名称', (r) => r.name], ['容纳', (r) => `${r.capacity}人`], ['位置', (r) => r.location || ''],
      ['设备', (r) => (r.features || []).map(featureName).join('、')], ['布置/撤场', (r) => `${r.setup_minutes || 0}/${r.teardown_minutes || 0} 分钟`]],
    vehicles: [['车型', (v) => v.name], ['车牌', (v) => v.plate || ''], ['座位', (v) => `${v.seats}座`]],
  }[kind];
  return html`<div>
    <${AddForm} kind=${kind} onDone=${state.reload} />
    <${LoadState} state=${state} />
    ${state.data && list.length === 0 && html`<${Empty} text="尚无记录" />`}
    ${list.length > 0 && html`<table class="records"><thead><tr>${cols.map(([h]) => html`<th scope="col">${h}</th>`)}<th scope="col">操作</th></tr></thead>
      <tbody>${list.map((r) => html`<tr key=${r.id}>${cols.map(([, f]) => html`<td>${f(r)}</td>`)}
        <td class="acts">${kind === 'people' && html`<${Login} p=${r} onDone=${state.reload} />`}
          <${DeleteButton} path=${`/${kind}/${r.id}`} name=${r.name} onDone=${state.reload} /></td></tr>`)}</tbody></table>`}
  </div>`;
}

// Tokens: the live ones listed (GET /tokens never shows a token or its
// hash), a new one shown once, each revoked from its row.
function Tokens() {
  const people = useLoad(() => api('GET', '/people'), []);
  const list = useLoad(() => api('GET', '/tokens'), []);
  const [v, setV] = useState({ role: 'secretary', name: '', person: '' });
  const [made, setMade] = useState(null);
  const [error, setError] = useState(null);
  const names = Object.fromEntries((people.data || []).map((p) => [p.id, p.name]));
  const create = async (e) => {
    e.preventDefault(); setError(null);
    const body = { role: v.role, name: v.name };
    if (v.person) body.person = v.person;
    try { setMade(await api('POST', '/tokens', body)); list.reload(); } catch (err) { setError(err); }
  };
  const tokens = list.data || [];
  return html`<div>
    <form class="add-form" onSubmit=${create} aria-label="新建令牌">
      <div class="field"><label for="tok-role">角色</label><select id="tok-role" value=${v.role} onChange=${(e) => setV({ ...v, role: e.target.value })}>
        ${opts(ACCESS_NAMES).filter(([k]) => k !== 'none').map(([k, n]) => html`<option value=${k}>${n}</option>`)}</select></div>
      <div class="field"><label for="tok-name">用途</label><input id="tok-name" value=${v.name} placeholder="如：办公室 小李" onInput=${(e) => setV({ ...v, name: e.target.value })} /></div>
      <div class="field"><label for="tok-person">人员（领导、驾驶员必填）</label><select id="tok-person" value=${v.person} onChange=${(e) => setV({ ...v, person: e.target.value })}>
        <option value="">（无）</option>${(people.data || []).map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select></div>
      <div class="field"><button type="submit" class="primary">生成令牌</button></div>
    </form>
    ${error && html`<p class="form-error" role="alert">${errorText(error)}</p>`}
    ${made && html`<div class="made" role="status"><p>令牌只显示这一次，请立即复制保存：</p><code class="secret">${made.token}</code></div>`}
    <h2>有效令牌</h2>
    <${LoadState} state=${list} />
    ${list.data && tokens.length === 0 && html`<${Empty} text="暂无有效令牌" />`}
    ${tokens.length > 0 && html`<table class="records tokens"><thead><tr><th scope="col">用途</th><th scope="col">角色</th>
      <th scope="col">人员</th><th scope="col">生成时间</th><th scope="col">操作</th></tr></thead>
      <tbody>${tokens.map((t) => html`<tr key=${t.id}><td>${t.name}</td><td>${ACCESS_NAMES[t.role] || t.role}</td>
        <td>${t.person ? names[t.person] || t.person : '—'}</td><td class="num">${dateTimeLabel(t.created)}</td>
        <td class="acts"><${DeleteButton} path=${`/tokens/${t.id}`} name=${t.name} verb="吊销" onDone=${list.reload} /></td></tr>`)}</tbody></table>`}
  </div>`;
}

const DELIVERY = { pending: '待发送', delivered: '已送达', failed: '失败' };

function Deliveries({ hook }) {
  const state = useLoad(() => api('GET', `/webhooks/${hook.id}/deliveries`), [hook.id]);
  const [msg, setMsg] = useState(null);
  const act = async (path, body, ok) => {
    try { await api('POST', path, body); setMsg({ ok: true, text: ok }); state.reload(); } catch (e) { setMsg({ text: errorText(e) }); }
  };
  const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 19) + 'Z';
  return html`<div class="deliveries">
    <button type="button" onClick=${() => act(`/webhooks/${hook.id}/replay`, { since }, '已重新推送最近 24 小时的消息')}>重放最近 24 小时</button>
    ${msg && html`<span class=${msg.ok ? 'ok' : 'form-error'} role=${msg.ok ? 'status' : 'alert'}>${msg.text}</span>`}
    <${LoadState} state=${state} />
    ${state.data && state.data.length === 0 && html`<${Empty} text="暂无推送记录" />`}
    ${state.data && state.data.length > 0 && html`<table class="records"><thead><tr><th scope="col">时间</th><th scope="col">类型</th><th scope="col">状态</th><th scope="col">次数</th><th scope="col">最近结果</th><th scope="col">操作</th></tr></thead>
      <tbody>${state.data.slice(0, 20).map((d) => html`<tr><td>${dateTimeLabel(d.created_at)}</td><td>${d.type}</td>
        <td class=${d.status}>${DELIVERY[d.status] || d.status}</td><td>${d.attempts}</td><td>${d.last_status || ''} ${d.last_error || ''}</td>
        <td>${d.status !== 'delivered' && html`<button type="button" class="link" onClick=${() => act(`/webhooks/${hook.id}/deliveries/${d.id}/retry`, undefined, '已安排重试')}>重试</button>`}</td></tr>`)}</tbody></table>`}
  </div>`;
}

function Webhooks() {
  const state = useLoad(() => api('GET', '/webhooks'), []);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('event.*, dispatch.*');
  const [error, setError] = useState(null);
  const [secret, setSecret] = useState(null);
  const [open, setOpen] = useState(null);
  const add = async (e) => {
    e.preventDefault(); setError(null);
    try {
      const h = await api('POST', '/webhooks', { url, events: events.split(/[,，\s]+/).filter(Boolean) });
      setSecret(h.secret || null); setUrl(''); state.reload();
    } catch (err) { setError(err); }
  };
  return html`<div>
    <form class="add-form" onSubmit=${add} aria-label="新增推送地址">
      <div class="field wide"><label for="hook-url">接收地址（http/https）</label><input id="hook-url" value=${url} onInput=${(e) => setUrl(e.target.value)} /></div>
      <div class="field"><label for="hook-events">消息类型</label><input id="hook-events" value=${events} onInput=${(e) => setEvents(e.target.value)} /></div>
      <div class="field"><button type="submit" class="primary">添加</button></div>
    </form>
    ${error && html`<p class="form-error" role="alert">${errorText(error)}</p>`}
    ${secret && html`<div class="made" role="status">签名密钥只显示这一次：<code class="secret">${secret}</code></div>`}
    <${LoadState} state=${state} />
    ${state.data && state.data.length === 0 && html`<${Empty} text="尚未设置推送地址" />`}
    ${(state.data || []).map((h) => html`<section class="hook">
      <h3>${h.url} ${h.enabled ? html`<em class="tag ok">启用</em>` : html`<em class="tag late">已停用</em>`}</h3>
      <p class="muted small">${(h.events || []).join('、')}${h.format ? ` · ${h.format}` : ''}</p>
      <button type="button" class="link" aria-expanded=${open === h.id} onClick=${() => setOpen(open === h.id ? null : h.id)}>${open === h.id ? '收起推送记录' : '推送记录'}</button>
      ${!h.enabled && html`<button type="button" class="link" onClick=${() => api('PATCH', `/webhooks/${h.id}`, { enabled: true }).then(state.reload, setError)}>重新启用</button>`}
      ${open === h.id && html`<${Deliveries} hook=${h} />`}
    </section>`)}
  </div>`;
}

// '春节 2027-02-06 2027-02-12' per line -> {name, from, to}.
export function parseHolidays(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const [name, from, to] = l.split(/[\s，,]+/);
    return { name, from, to: to || from };
  });
}

async function loadCalendar() {
  const health = await fetch('/healthz', { cache: 'no-store' }).then((r) => r.json()).catch(() => ({}));
  const year = Number(today().slice(0, 4));
  const years = await Promise.all([year - 1, year, year + 1].map((y) => api('GET', `/workdays/${y}`)
    .then((w) => ({ year: y, source: w.source, holidays: w.holidays.length }), () => ({ year: y, source: null }))));
  return { health, years };
}

function Calendar() {
  const state = useLoad(loadCalendar, []);
  const [year, setYear] = useState(String(Number(today().slice(0, 4)) + 1));
  const [holidays, setHolidays] = useState('');
  const [workdays, setWorkdays] = useState('');
  const [msg, setMsg] = useState(null);
  const load = async (e) => {
    e.preventDefault(); setMsg(null);
    try {
      await api('PUT', `/workdays/${year}`, { holidays: parseHolidays(holidays), workdays: workdays.split(/[\s,，]+/).filter(Boolean) });
      setMsg({ ok: true, text: `${year} 年工作日历已载入` }); state.reload();
    } catch (err) { setMsg({ text: `${errorText(err)}${err.field ? `（${err.field}）` : ''}` }); }
  };
  const d = state.data;
  return html`<div>
    <${LoadState} state=${state} />
    ${d && html`<p>工作日历至 <strong>${d.health.calendar_until || '（无数据）'}</strong></p>
      ${(d.health.warnings || []).map((w) => html`<p class="form-error" role="alert">${calendarWarning(w)}</p>`)}
      <ul class="years">${d.years.map((y) => html`<li>${y.year} 年：${y.source ? `已载入（${y.source === 'database' ? '本单位载入' : '随系统提供'}，${y.holidays} 个假期）` : html`<span class="late-text">未载入</span>`}</li>`)}</ul>`}
    <h2>载入一年的放假安排</h2>
    <form class="calendar-form" onSubmit=${load}>
      <label for="cal-year">年份</label><input id="cal-year" class="num" value=${year} onInput=${(e) => setYear(e.target.value)} />
      <label for="cal-holidays">假期（每行：名称 起始日 结束日）</label>
      <textarea id="cal-holidays" rows="7" placeholder="春节 2027-02-06 2027-02-12" value=${holidays} onInput=${(e) => setHolidays(e.target.value)}></textarea>
      <label for="cal-workdays">调休上班日（空格分隔）</label>
      <input id="cal-workdays" placeholder="2027-02-20 2027-10-09" value=${workdays} onInput=${(e) => setWorkdays(e.target.value)} />
      <p><button type="submit" class="primary">载入</button></p>
      ${msg && html`<p class=${msg.ok ? 'ok' : 'form-error'} role=${msg.ok ? 'status' : 'alert'}>${msg.text}</p>`}
    </form>
  </div>`;
}

export default function Admin({ params }) {
  const tab = TABS.some(([k]) => k === params.get('t')) ? params.get('t') : 'people';
  return html`<section class="page page-admin">
    <${PageHead} title="系统设置" />
    <nav class="tabs" aria-label="设置项目">${TABS.map(([k, n]) => html`<a href=${`#/admin?t=${k}`} aria-current=${k === tab ? 'page' : undefined}>${n}</a>`)}</nav>
    ${['people', 'rooms', 'vehicles'].includes(tab) && html`<${Records} key=${tab} kind=${tab} />`}
    ${tab === 'tokens' && html`<${Tokens} />`}
    ${tab === 'webhooks' && html`<${Webhooks} />`}
    ${tab === 'calendar' && html`<${Calendar} />`}
  </section>`;
}
