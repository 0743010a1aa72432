// live.js - the change stream (GET /api/v1/changes, server-sent events):
// one connection per signed-in page, shared by whatever page is shown.
// Pages subscribe to changes and reload what they show; the header shows
// whether the stream is up. EventSource retries by itself only after a
// dropped connection, not after an HTTP error (the server restarting, a
// proxy answering 502), so a closed stream is reopened here with backoff.

let source = null;
let retryTimer = null;
let delay = 1000;
const listeners = new Set();
const statusListeners = new Set();
let status = 'connecting';

function setStatus(s) {
  if (s === status) return;
  status = s;
  for (const fn of statusListeners) fn(s);
}

function open() {
  clearTimeout(retryTimer);
  source = new EventSource('/api/v1/changes');
  source.onopen = () => {
    const missed = status === 'offline';
    delay = 1000;
    setStatus('live');
    // Changes made while the stream was down are not replayed to a new
    // connection: have every page reload what it shows instead.
    if (missed) for (const fn of listeners) fn({ type: 'resync' });
  };
  source.onmessage = (e) => {
    let change = null;
    try { change = JSON.parse(e.data); } catch (_) { /* a comment or keep-alive */ }
    for (const fn of listeners) fn(change);
  };
  source.onerror = () => {
    setStatus('offline');
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      retryTimer = setTimeout(open, delay);
      delay = Math.min(delay * 2, 15000);
    }
  };
}

export function liveStart() {
  if (!source) open();
}

export function liveStop() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  setStatus('connecting');
}

// fn(change) for every committed change; returns the unsubscribe function.
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function onLiveStatus(fn) {
  statusListeners.add(fn);
  fn(status);
  return () => statusListeners.delete(fn);
}
