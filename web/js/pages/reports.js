// reports.js - 统计报表 (CONTRACT section 13), for secretaries and admins:
// a period (this month, this year, or two dates), then the year's summary
// sentence, meetings (by kind, department, leader or month), rooms' use
// against working hours, vehicles, drivers' hours (day, night, rest days,
// holidays) and meals (by meal, diet or department), each as a table with a
// chart and its CSV and XLSX downloads (the API's own files, fetched with
// the session cookie). Charts are uPlot's (web/vendor/uplot.js) on canvas;
// the tables carry the numbers, so the charts are pictures of them.
import { html, useState, useEffect, useRef } from '../html.js';
import { api } from '../api.js';
import { PageHead, LoadState, Empty, useLoad } from '../components.js';
import { today, mealName, dietName } from '../time.js';
import uPlot from '../../vendor/uplot.js';

// uPlot's stylesheet, linked once (no <style> or inline style: the CSP refuses them).
function linkChartStyles() {
  const href = new URL('../../vendor/uplot.css', import.meta.url).href;
  if (document.querySelector(`link[href="${href}"]`)) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  document.head.appendChild(link);
}

function lastDayOfMonth(iso) {
  const [y, m] = iso.split('-').map(Number);
  const d = new Date(Date.UTC(y, m, 0));
  return d.toISOString().slice(0, 10);
}

// The period a choice stands for: this month, this year, or the dates typed.
function periodOf(mode, custom) {
  const t = today();
  if (mode === 'month') return { from: t.slice(0, 8) + '01', to: lastDayOfMonth(t) };
  if (mode === 'year') return { from: t.slice(0, 4) + '-01-01', to: t.slice(0, 4) + '-12-31' };
  return custom;
}

const NONE = '未注明';
const BY_MEETINGS = [['kind', '会议类别'], ['department', '部门'], ['leader', '领导'], ['month', '月份']];
const BY_MEALS = [['meal', '餐次'], ['diet', '饮食'], ['department', '部门']];

function keyLabel(by, key) {
  if (key == null || key === '') return NONE;
  if (by === 'meal') return mealName(key);
  if (by === 'diet') return dietName(key);
  if (by === 'month') return `${Number(key.slice(5, 7))}月`;
  return key;
}

const percent = (u) => `${(u * 100).toFixed(1)}%`;

// No download attribute: Preact sets a bare one to "true" and Chromium names an
// empty one "download"; the answer's Content-Disposition (attachment, 会议统计_….csv)
// makes the link a download under the server's name.
function Downloads({ path, label }) {
  const url = `/api/v1/reports/${path}`;
  return html`<span class="downloads">
    <a class="button" href=${url + '&format=csv'} aria-label=${`下载${label} CSV`}>CSV</a>
    <a class="button" href=${url + '&format=xlsx'} aria-label=${`下载${label} Excel`}>Excel</a>
  </span>`;
}

// A bar chart of values by label; redrawn when they change or the page is resized.
function BarChart({ title, labels, values, format }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el || labels.length === 0) return undefined;
    let plot = null;
    const draw = () => {
      if (plot) plot.destroy();
      const max = Math.max(...values, 0);
      plot = new uPlot({
        width: Math.max(240, el.clientWidth),
        height: 200,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false, range: [-0.5, labels.length - 0.5] },
          y: { range: [0, max > 0 ? max * 1.15 : 1] } },
        axes: [
          { splits: () => labels.map((_, i) => i), values: (u, splits) => splits.map((i) => labels[i] || ''),
            gap: 4, size: 36, grid: { show: false } },
          { values: (u, splits) => splits.map((v) => (format ? format(v) : String(v))), size: 56 },
        ],
        series: [{}, { label: title, fill: '#4f7cac', stroke: '#3b6291', width: 1,
          paths: uPlot.paths.bars({ size: [0.6, 48] }), points: { show: false } }],
      }, [labels.map((_, i) => i), values], el);
    };
    draw();
    const onResize = () => draw();
    window.addEventListener('resize', onResize);
    return () => { window.removeEventListener('resize', onResize); if (plot) plot.destroy(); };
  }, [labels.join('\u0001'), values.join(',')]);
  if (labels.length === 0) return null;
  const summary = labels.map((l, i) => `${l} ${format ? format(values[i]) : values[i]}`).join('，');
  return html`<figure class="chart" role="img" aria-label=${`${title}：${summary}`}>
    <div ref=${box} class="chart-canvas"></div>
    <figcaption>${title}</figcaption>
  </figure>`;
}

function Section({ id, title, tools, children }) {
  return html`<section class="report" aria-labelledby=${id}>
    <div class="report-head"><h2 id=${id}>${title}</h2><div class="tools no-print">${tools}</div></div>
    ${children}
  </section>`;
}

function ByPicker({ label, value, options, onChange }) {
  return html`<label class="inline">${label}
    <select value=${value} onChange=${(e) => onChange(e.target.value)}>
      ${options.map(([v, name]) => html`<option value=${v}>${name}</option>`)}
    </select></label>`;
}

function Table({ caption, head, rows, foot }) {
  return html`<div class="table-wrap"><table class="report-table">
    <caption class="sr-only">${caption}</caption>
    <thead><tr>${head.map((h, i) => html`<th scope="col" class=${i > 0 ? 'num' : ''}>${h}</th>`)}</tr></thead>
    <tbody>${rows.map((r) => html`<tr>${r.map((c, i) => (i === 0
      ? html`<th scope="row">${c}</th>` : html`<td class="num">${c}</td>`))}</tr>`)}</tbody>
    ${foot && html`<tfoot><tr>${foot.map((c, i) => (i === 0
      ? html`<th scope="row">${c}</th>` : html`<td class="num">${c}</td>`))}</tr></tfoot>`}
  </table></div>`;
}

function useReport(path) {
  return useLoad(() => api('GET', `/reports/${path}`), [path]);
}

function Year({ year }) {
  const state = useReport(`year?year=${year}`);
  const d = state.data;
  return html`<${Section} id="r-year" title=${`${year}年概况`}
      tools=${html`<${Downloads} path=${`year?year=${year}`} label=${`${year}年概况`} />`}>
    <${LoadState} state=${state} />
    ${d && html`<p class="year-text">${d.text}</p>`}
  <//>`;
}

function Meetings({ span }) {
  const [by, setBy] = useState('kind');
  const path = `meetings?${span}&by=${by}`;
  const state = useReport(path);
  const d = state.data;
  const rows = d ? d.rows : [];
  return html`<${Section} id="r-meetings" title="会议"
      tools=${html`<${ByPicker} label="按" value=${by} options=${BY_MEETINGS} onChange=${setBy} />
        <${Downloads} path=${path} label="会议统计" />`}>
    <${LoadState} state=${state} />
    ${d && (rows.length === 0 && d.total.count === 0 ? html`<${Empty} text="该时段没有会议" />` : html`
      <div class="report-body">
        <${Table} caption="会议统计" head=${[BY_MEETINGS.find(([v]) => v === by)[1], '次数', '时长（小时）']}
          rows=${rows.map((r) => [keyLabel(by, r.key), r.count, r.hours])}
          foot=${['合计', d.total.count, d.total.hours]} />
        <${BarChart} title="会议次数" labels=${rows.map((r) => keyLabel(by, r.key))}
          values=${rows.map((r) => r.count)} />
      </div>`)}
  <//>`;
}

function Rooms({ span }) {
  const path = `rooms?${span}`;
  const state = useReport(path);
  const d = state.data;
  return html`<${Section} id="r-rooms" title="会议室使用"
      tools=${html`<${Downloads} path=${path} label="会议室使用统计" />`}>
    <${LoadState} state=${state} />
    ${d && (d.rows.length === 0 ? html`<${Empty} text="还没有会议室" />` : html`
      <p class="muted small">可用时长 ${d.available_hours} 小时（工作日的工作时间）；利用率 = 工作时间内的使用时长 ÷ 可用时长。</p>
      <div class="report-body">
        <${Table} caption="会议室使用统计"
          head=${['会议室', '使用次数', '使用时长（小时）', '工作时间内（小时）', '利用率']}
          rows=${d.rows.map((r) => [r.name, r.bookings, r.hours, r.working_hours, percent(r.utilisation)])} />
        <${BarChart} title="会议室利用率" labels=${d.rows.map((r) => r.name)}
          values=${d.rows.map((r) => Math.round(r.utilisation * 1000) / 10)} format=${(v) => `${v}%`} />
      </div>`)}
  <//>`;
}

function Vehicles({ span }) {
  const path = `vehicles?${span}`;
  const state = useReport(path);
  const d = state.data;
  return html`<${Section} id="r-vehicles" title="车辆使用"
      tools=${html`<${Downloads} path=${path} label="车辆使用统计" />`}>
    <${LoadState} state=${state} />
    ${d && (d.rows.length === 0 ? html`<${Empty} text="还没有车辆" />` : html`
      <${Table} caption="车辆使用统计" head=${['车辆', '车牌号', '出车次数', '时长（小时）']}
        rows=${d.rows.map((r) => [r.name, r.plate || '', r.trips, r.hours])}
        foot=${['合计', '', d.total.trips, d.total.hours]} />`)}
  <//>`;
}

function Drivers({ span }) {
  const path = `drivers?${span}`;
  const state = useReport(path);
  const d = state.data;
  return html`<${Section} id="r-drivers" title="驾驶员出车"
      tools=${html`<${Downloads} path=${path} label="驾驶员出车统计" />`}>
    <${LoadState} state=${state} />
    ${d && (d.rows.length === 0 ? html`<${Empty} text="该时段没有出车" />` : html`
      <p class="muted small">夜间：工作日 7:00 前、19:00 后；休息日：非工作日且非法定节假日；节假日：法定节假日。</p>
      <div class="report-body">
        <${Table} caption="驾驶员出车统计"
          head=${['驾驶员', '出车次数', '时长（小时）', '工作日白天', '工作日夜间', '休息日', '节假日']}
          rows=${d.rows.map((r) => [r.name, r.trips, r.hours, r.workday_day, r.workday_night, r.rest_day, r.holiday])} />
        <${BarChart} title="驾驶员出车时长（小时）" labels=${d.rows.map((r) => r.name)}
          values=${d.rows.map((r) => r.hours)} />
      </div>`)}
  <//>`;
}

function Meals({ span }) {
  const [by, setBy] = useState('meal');
  const path = `meals?${span}&by=${by}`;
  const state = useReport(path);
  const d = state.data;
  return html`<${Section} id="r-meals" title="用餐"
      tools=${html`<${ByPicker} label="按" value=${by} options=${BY_MEALS} onChange=${setBy} />
        <${Downloads} path=${path} label="用餐统计" />`}>
    <${LoadState} state=${state} />
    ${d && (d.rows.length === 0 ? html`<${Empty} text="该时段没有用餐" />` : html`
      <${Table} caption="用餐统计" head=${[BY_MEALS.find(([v]) => v === by)[1], '人次']}
        rows=${d.rows.map((r) => [keyLabel(by, r.key), r.count])} foot=${['合计', d.total]} />`)}
  <//>`;
}

function PeriodPicker({ mode, custom, onMode, onCustom }) {
  const [from, setFrom] = useState(custom.from);
  const [to, setTo] = useState(custom.to);
  return html`<form class="period no-print" onSubmit=${(e) => { e.preventDefault(); onCustom({ from, to }); }}>
    <fieldset>
      <legend>统计时段</legend>
      ${[['month', '本月'], ['year', '本年'], ['custom', '自定义']].map(([v, name]) => html`
        <label class="inline"><input type="radio" name="period" value=${v} checked=${mode === v}
          onChange=${() => onMode(v)} /> ${name}</label>`)}
      ${mode === 'custom' && html`
        <label class="inline">从 <input type="date" value=${from} required onInput=${(e) => setFrom(e.target.value)} /></label>
        <label class="inline">至 <input type="date" value=${to} required onInput=${(e) => setTo(e.target.value)} /></label>
        <button type="submit" class="primary">查询</button>`}
    </fieldset>
  </form>`;
}

export default function Reports({ params }) {
  const t = today();
  const [mode, setMode] = useState(params && params.get('from') ? 'custom' : 'month');
  const [custom, setCustom] = useState({
    from: (params && params.get('from')) || t.slice(0, 8) + '01',
    to: (params && params.get('to')) || t,
  });
  useEffect(() => linkChartStyles(), []);
  const { from, to } = periodOf(mode, custom);
  const span = `from=${from}&to=${to}`;
  const bad = !from || !to || from > to;
  return html`<section class="page page-reports">
    <${PageHead} title="统计报表">
      <button type="button" onClick=${() => print()}>打印</button>
    <//>
    <${PeriodPicker} mode=${mode} custom=${custom} onMode=${setMode} onCustom=${setCustom} />
    <p class="period-shown">统计时段：<strong>${from}</strong> 至 <strong>${to}</strong></p>
    ${bad ? html`<p class="state error" role="alert">结束日期不能早于开始日期</p>` : html`
      <${Year} year=${from.slice(0, 4)} />
      <${Meetings} span=${span} />
      <${Rooms} span=${span} />
      <${Vehicles} span=${span} />
      <${Drivers} span=${span} />
      <${Meals} span=${span} />`}
  </section>`;
}
