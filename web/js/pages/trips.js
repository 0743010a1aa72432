// trips.js - 我的出车, a driver's phone page (390 px): the trips ahead,
// each with date and weekday, times, from -> to, car and plate, and who
// rides (never what a confidential meeting is about: the API leaves its
// title out). An unacknowledged trip has a 确认 button that acknowledges
// that one occurrence.
import { html, useEffect, useState } from '../html.js';
import { api } from '../api.js';
import { onChange } from '../live.js';
import { errorText } from '../errors.js';
import { PageHead, LoadState, Empty, useLoad } from '../components.js';
import { today, addDays, dateLabel, zoned } from '../time.js';

const DAYS_AHEAD = 14;

// GET /trips?from=&to= lists days ahead (CONTRACT section 10). A server
// without it answers 422 for a missing `date`; then ask day by day.
async function tripsAhead() {
  const from = today();
  const to = addDays(from, DAYS_AHEAD - 1);
  try {
    return await api('GET', `/trips?from=${from}&to=${to}`);
  } catch (e) {
    if (e.status !== 422 || e.field !== 'date') throw e;
  }
  const days = Array.from({ length: DAYS_AHEAD }, (_, i) => addDays(from, i));
  const lists = await Promise.all(days.map((d) => api('GET', `/trips?date=${d}`)));
  return lists.flat();
}

async function loadTrips() {
  const now = Date.now();
  const trips = await tripsAhead();
  return trips
    .filter((t) => Date.parse(t.return_utc) > now)
    .sort((a, b) => a.depart_utc.localeCompare(b.depart_utc));
}

function TripCard({ trip, onAck }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const depart = zoned(trip.depart_utc);
  const back = zoned(trip.return_utc);
  const car = [trip.vehicle_name, trip.plate].filter(Boolean).join(' ');
  const riders = (trip.passenger_names || []).filter(Boolean);
  const ack = async () => {
    setBusy(true);
    setError(null);
    try {
      await api('POST', `/trips/${encodeURIComponent(trip.id)}/ack`, { recurrence_id: trip.recurrence_id });
      onAck();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<li class=${'trip' + (trip.acknowledged ? ' done' : '')}>
    <div class="when">
      <strong>${depart.time}</strong> 出发
      <span class="muted">· ${back.date === depart.date ? '' : dateLabel(back.date)}${back.time} 返回</span>
    </div>
    <div class="route">${trip.from || '—'} <span aria-label="到">→</span> ${trip.to || '—'}</div>
    <dl>
      <dt>车辆</dt><dd>${car || (trip.vehicle ? '已派车' : '车辆待定')}</dd>
      ${riders.length > 0 && html`<dt>乘车</dt><dd>${riders.join('、')}</dd>`}
      ${trip.title && html`<dt>事由</dt><dd>${trip.title}</dd>`}
    </dl>
    ${error && html`<p class="form-error" role="alert">${errorText(error)}</p>`}
    ${trip.acknowledged
      ? html`<p class="acked">已确认</p>`
      : html`<button type="button" class="primary big" onClick=${ack} disabled=${busy}
          aria-label=${`确认 ${dateLabel(depart.date)}${depart.time} 的出车`}>${busy ? '正在确认…' : '确认'}</button>`}
  </li>`;
}

export default function Trips() {
  const state = useLoad(loadTrips, []);
  useEffect(() => onChange(() => state.reload()), []);
  const trips = state.data || [];
  const days = [...new Set(trips.map((t) => zoned(t.depart_utc).date))];
  return html`<section class="page page-trips">
    <${PageHead} title="我的出车" />
    <${LoadState} state=${state} />
    ${state.data && trips.length === 0 && html`<${Empty} text="近两周暂无出车任务" />`}
    ${days.map((d) => html`<section class="day" aria-label=${dateLabel(d)}>
      <h2>${d === today() ? '今天 ' : d === addDays(today(), 1) ? '明天 ' : ''}${dateLabel(d)}</h2>
      <ul class="trips">
        ${trips.filter((t) => zoned(t.depart_utc).date === d)
          .map((t) => html`<${TripCard} key=${t.id + t.recurrence_id} trip=${t} onAck=${state.reload} />`)}
      </ul>
    </section>`)}
  </section>`;
}
