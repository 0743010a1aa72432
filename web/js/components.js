// components.js - the pieces every page shares: loading, error and empty
// states, the page heading with its tools, and a data loader hook.
import { html, useState, useEffect, useCallback } from './html.js';
import { errorText } from './errors.js';

export function Loading({ text = '正在加载…' }) {
  return html`<p class="state" role="status">${text}</p>`;
}

export function ErrorBox({ error, onRetry }) {
  return html`<div class="state error" role="alert">
    <span>${errorText(error)}</span>
    ${onRetry && html` <button type="button" class="link" onClick=${onRetry}>重试</button>`}
  </div>`;
}

export function Empty({ text }) {
  return html`<p class="state empty">${text}</p>`;
}

export function PageHead({ title, children }) {
  return html`<div class="page-head">
    <h1>${title}</h1>
    <div class="tools no-print">${children}</div>
  </div>`;
}

// Runs load() now and whenever deps change or reload() is called; keeps the
// last data shown while a reload runs, so a live update does not flash.
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => alive && setState({ data, error: null, loading: false }),
      (error) => alive && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => { alive = false; };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

// The three states before data can be shown; null once it can.
export function LoadState({ state }) {
  if (state.error && !state.data) return html`<${ErrorBox} error=${state.error} onRetry=${state.reload} />`;
  if (!state.data) return html`<${Loading} />`;
  return null;
}
