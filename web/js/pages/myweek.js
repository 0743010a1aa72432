// myweek.js - 我的一周, a leader's own page: the week's meetings by day,
// 参加/不参加 for each occurrence (one occurrence, not the series), and the
// personal calendar feed as a webcal link and a QR code to scan with the
// phone's calendar.
import { html, useEffect, useState } from '../html.js';
import { api } from '../api.js';
import { onChange } from '../live.js';
import { errorText } from '../errors.js';
import { PageHead, LoadState, Empty, useLoad } from '../components.js';
import { QrCode } from '../qr.js';
import { ORG_TZ, today, addDays, mondayOf, monthDay, dateLabel, zoned } from '../time.js';

async function loadMine(person, monday) {
  const sunday = addDays(monday, 6);
  const list = await api('GET',
    `/occurrences?from=${monday}&to=${sunday}&person=${encodeURIComponent(person)}&declined=include&tz=${encodeURIComponent(ORG_TZ)}`);
  return list.filter((o) => o.status !== 'cancelled');
}

function myResponse(o, person) {
  const me = (o.attendees || []).find((a) => a.person === person);
  return (me && me.response) || 'needs-action';
}

function Rsvp({ occurrence, person, onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const current = myResponse(occurrence, person);
  const answer = async (response) => {
    setBusy(true);
    setError(null);
    try {
      await api('POST', `/events/${encodeURIComponent(occurrence.event)}/rsvp`,
        { person, response, recurrence_id: occurrence.recurrence_id });
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const what = occurrence.title || '该会议';
  return html`<div class="rsvp" role="group" aria-label=${`是否参加${what}`}>
    <button type="button" aria-pressed=${current === 'accepted'} disabled=${busy}
      onClick=${() => answer('accepted')}>参加</button>
    <button type="button" aria-pressed=${current === 'declined'} disabled=${busy}
      onClick=${() => answer('declined')}>不参加</button>
    ${error && html`<span class="form-error" role="alert">${errorText(error)}</span>`}
  </div>`;
}

function Occurrence({ o, person, onDone }) {
  const start = zoned(o.start_utc);
  const end = zoned(o.end_utc);
  const declined = myResponse(o, person) === 'declined';
  return html`<li class=${'occ' + (declined ? ' declined' : '')}>
    <span class="time">${o.all_day ? '全天' : `${start.time}–${end.time}`}</span>
    <span class="what">
      <span class="title">${o.title || '忙碌'}</span>
      ${o.location && html`<span class="place">${o.location}</span>`}
      ${declined && html`<em class="tag">不参加</em>`}
    </span>
    <${Rsvp} occurrence=${o} person=${person} onDone=${onDone} />
  </li>`;
}

function Subscribe({ person }) {
  const state = useLoad(() => api('GET', `/people/${encodeURIComponent(person)}`), [person]);
  const url = state.data && (state.data.webcal_url || state.data.feed_url);
  return html`<aside class="subscribe" aria-label="订阅我的日历">
    <h2>订阅我的日历</h2>
    <${LoadState} state=${state} />
    ${url && html`
      <p>用手机相机扫描二维码，或在电脑上点击链接，即可在日历中看到本人的全部安排，每 15 分钟自动更新。</p>
      <${QrCode} text=${url} label="订阅我的日历的二维码" />
      <p><a class="webcal" href=${url}>在日历中订阅</a></p>
      <p class="muted small">此链接仅供本人使用，请勿转发。</p>`}
  </aside>`;
}

export default function MyWeek({ session, params }) {
  const monday = mondayOf(params.get('w') || today());
  const state = useLoad(() => loadMine(session.person, monday), [monday]);
  useEffect(() => onChange(() => state.reload()), []);
  const list = state.data || [];
  const days = [0, 1, 2, 3, 4, 5, 6].map((i) => addDays(monday, i));
  const go = (d) => { location.hash = `#/my-week?w=${d}`; };
  return html`<section class="page page-my-week">
    <${PageHead} title=${`我的一周（${monthDay(monday)}—${monthDay(addDays(monday, 6))}）`}>
      <button type="button" onClick=${() => go(addDays(monday, -7))}>上一周</button>
      <button type="button" onClick=${() => go(mondayOf(today()))} disabled=${monday === mondayOf(today())}>本周</button>
      <button type="button" onClick=${() => go(addDays(monday, 7))}>下一周</button>
    <//>
    <div class="two-col">
      <div>
        <${LoadState} state=${state} />
        ${state.data && list.length === 0 && html`<${Empty} text="本周暂无安排" />`}
        ${state.data && days.map((d) => {
          const items = list.filter((o) => (o.start_utc ? zoned(o.start_utc).date : String(o.start).slice(0, 10)) === d);
          return items.length > 0 && html`<section class="day" aria-label=${dateLabel(d)}>
            <h2>${dateLabel(d)}</h2>
            <ul class="occs">${items.map((o) => html`<${Occurrence} key=${o.event + o.recurrence_id} o=${o}
              person=${session.person} onDone=${state.reload} />`)}</ul>
          </section>`;
        })}
      </div>
      <${Subscribe} person=${session.person} />
    </div>
  </section>`;
}
