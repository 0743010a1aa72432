// main.js - the console's frame: who is signed in (GET /api/v1/session),
// the sign-in form when nobody is, the header with the pages this access
// may open, and the page the location's hash names (#/week, #/trips ...).
import { html, render, useState, useEffect } from './html.js';
import { api, setCsrf, whenSignedOut } from './api.js';
import { pagesFor, navFor, landingFor, parseHash } from './pages.js';
import { liveStart, liveStop, onLiveStatus } from './live.js';
import { Loading, ErrorBox } from './components.js';
import SignIn from './pages/signin.js';
import { PendingBadge } from './badge.js';

const ACCESS_NAMES = { admin: '管理员', secretary: '秘书', leader: '领导', driver: '驾驶员', canteen: '食堂' };

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function LiveStatus() {
  const [status, setStatus] = useState('connecting');
  useEffect(() => onLiveStatus(setStatus), []);
  const text = { live: '实时更新', offline: '连接中断，正在重连…', connecting: '正在连接…' }[status];
  return html`<span class=${'live ' + status} role="status">${text}</span>`;
}

function Header({ session, current, onSignOut }) {
  return html`<header class="top no-print">
    <span class="brand">会议活动安排</span>
    <nav aria-label="页面">
      ${navFor(session.access).map((p) => html`
        <a href=${'#/' + p.id} aria-current=${p.id === current ? 'page' : undefined}>${p.title}${p.badge ? html`<${PendingBadge} />` : ''}</a>`)}
    </nav>
    <span class="who">
      <${LiveStatus} />
      <span>${session.name}（${ACCESS_NAMES[session.access] || session.access}）</span>
      <button type="button" class="link" onClick=${onSignOut}>退出</button>
    </span>
  </header>`;
}

// Loads the page module and shows it; a module that fails to load (an old
// tab after an upgrade, the network gone) says so instead of going blank.
function PageHost({ page, session, params }) {
  const [mod, setMod] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let alive = true;
    setMod(null);
    setError(null);
    page.load().then((m) => alive && setMod(m), (e) => alive && setError(e));
    return () => { alive = false; };
  }, [page.id]);
  if (error) return html`<${ErrorBox} error=${{ code: 'network' }} onRetry=${() => location.reload()} />`;
  if (!mod) return html`<${Loading} />`;
  const Page = mod.default;
  return html`<${Page} session=${session} params=${params} />`;
}

function App() {
  const [session, setSession] = useState(undefined); // undefined: not known yet
  const [error, setError] = useState(null);
  const hash = useHash();

  const check = () => {
    setError(null);
    api('GET', '/session', undefined, { signIn: true }).then(
      (s) => { setCsrf(s.csrf); setSession(s); },
      (e) => (e.status === 401 ? setSession(null) : setError(e)),
    );
  };
  useEffect(() => {
    whenSignedOut(() => { setCsrf(null); setSession(null); });
    check();
  }, []);
  useEffect(() => {
    if (session) liveStart(); else liveStop();
  }, [session]);

  if (error) return html`<main><${ErrorBox} error=${error} onRetry=${check} /></main>`;
  if (session === undefined) return html`<main><${Loading} /></main>`;
  if (session === null) {
    return html`<main class="signin-main"><${SignIn} onSignedIn=${(s) => {
      setCsrf(s.csrf);
      setSession(s);
      location.hash = '#/' + (landingFor(s.access) || '');
    }} /></main>`;
  }

  const route = parseHash(hash);
  const allowed = pagesFor(session.access);
  let page = allowed.find((p) => p.id === route.id);
  if (!page) {
    const landing = landingFor(session.access);
    page = allowed.find((p) => p.id === landing) || null;
  }
  document.title = page ? `${page.title} - 会议活动安排` : '会议活动安排';
  const signOut = async () => {
    try { await api('DELETE', '/session'); } catch (_) { /* signed out either way */ }
    setCsrf(null);
    setSession(null);
    location.hash = '';
  };
  return html`
    <${Header} session=${session} current=${page && page.id} onSignOut=${signOut} />
    <main>
      ${page ? html`<${PageHost} key=${page.id} page=${page} session=${session} params=${route.params} />`
        : html`<p class="state">您的账号没有可用的页面，请联系办公室管理员。</p>`}
    </main>`;
}

// The static "正在加载…" of index.html goes first: Preact would keep it.
const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
