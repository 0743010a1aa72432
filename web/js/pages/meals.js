// meals.js - 今明用餐, the canteen's page: today's and tomorrow's head
// counts per meal, by diet (清真, 素食, 普通), late changes marked 迟报,
// and the meetings behind each count. Prints as it is shown; the CSV is
// the API's own (GET /catering?format=csv), downloaded with the session.
import { html, useEffect } from '../html.js';
import { api } from '../api.js';
import { onChange } from '../live.js';
import { PageHead, LoadState, Empty, useLoad } from '../components.js';
import { today, addDays, dateLabel, zoned, mealName, dietName, DIET_ORDER } from '../time.js';

function dietsOf(diets) {
  const keys = Object.keys(diets || {});
  const order = [...DIET_ORDER, ...keys.filter((k) => !DIET_ORDER.includes(k)).sort()];
  return order.map((k) => [k, (diets || {})[k] || 0]);
}

function Meal({ meal }) {
  return html`<section class=${'meal' + (meal.late ? ' late' : '')} aria-label=${mealName(meal.meal)}>
    <h3>${mealName(meal.meal)}
      <span class="total"><span class="n">${meal.total}</span> 人</span>
      ${meal.late && html`<em class="tag late">迟报</em>`}
    </h3>
    <ul class="diets">
      ${dietsOf(meal.diets).map(([k, n]) => html`<li><span>${dietName(k)}</span> <strong>${n}</strong></li>`)}
    </ul>
    <table class="by-meeting">
      <caption class="sr-only">${mealName(meal.meal)}按会议</caption>
      <thead><tr><th scope="col">时间</th><th scope="col">会议</th><th scope="col" class="num">人数</th>
        <th scope="col">其中</th><th scope="col"><span class="sr-only">迟报</span></th></tr></thead>
      <tbody>
        ${(meal.events || []).map((e) => html`<tr class=${e.late ? 'late' : ''}>
          <td>${e.start ? String(e.start).slice(11, 16) : ''}</td>
          <td>${e.title == null ? '（内部会议）' : e.title}</td>
          <td class="num">${e.count}</td>
          <td class="muted"><span class="diet-list">${dietsOf(e.diets).filter(([, n]) => n > 0)
            .map(([k, n]) => html`<span class="diet">${dietName(k)}${n}</span>`)}</span></td>
          <td>${e.late && html`<em class="tag late">迟报</em>`}</td>
        </tr>`)}
      </tbody>
    </table>
  </section>`;
}

function Day({ day, label }) {
  return html`<section class="meal-day" aria-label=${`${label} ${dateLabel(day.date)}`}>
    <h2>${label} <span class="muted">${dateLabel(day.date)}</span></h2>
    ${day.meals.length === 0 ? html`<${Empty} text="当日暂无用餐安排" />`
      : html`<div class="meals">${day.meals.map((m) => html`<${Meal} meal=${m} />`)}</div>`}
  </section>`;
}

export default function Meals() {
  const from = today();
  const to = addDays(from, 1);
  const state = useLoad(() => api('GET', `/catering?from=${from}&to=${to}`), [from]);
  useEffect(() => onChange(() => state.reload()), []);
  const days = state.data ? state.data.days : [];
  return html`<section class="page page-meals">
    <${PageHead} title=${`今明用餐（${dateLabel(from)}、${dateLabel(to)}）`}>
      <a class="button" href=${`/api/v1/catering?from=${from}&to=${to}&format=csv`}
        download=${`用餐人数-${from}.csv`}>下载 CSV</a>
      <button type="button" class="primary" onClick=${() => print()} disabled=${!state.data}>打印</button>
    <//>
    <${LoadState} state=${state} />
    ${days.map((d, i) => html`<${Day} day=${d} label=${i === 0 ? '今天' : '明天'} />`)}
    <p class="muted small print-note">生成时间：${dateLabel(zoned(new Date()).date)}${zoned(new Date()).time}</p>
  </section>`;
}
