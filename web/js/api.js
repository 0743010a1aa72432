// api.js - every request the console makes goes through api(): the
// session cookie rides along by itself, and state-changing requests carry
// the CSRF token the sign-in returned (CONTRACT section 9). Errors come
// back as ApiError with the API's stable code; errors.js words them.

let csrfToken = null;
let onSignedOut = null;

export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.retryAfter = retryAfter || null;
  }
}

export function setCsrf(token) {
  csrfToken = token || null;
}

// Called when a request finds the session gone (expired, signed out elsewhere).
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

// The body is always read, even a 204's empty one: Chromium cancels a
// response whose body is never consumed, so the request would end as
// net::ERR_ABORTED (in DevTools and to a test) though the server answered.
async function parse(res) {
  const type = res.headers.get('Content-Type') || '';
  const text = await res.text().catch(() => '');
  if (res.status === 204 || text === '') return null;
  if (!type.includes('json')) return text;
  try { return JSON.parse(text); } catch (_) { return null; }
}

// api('GET', '/people') -> parsed JSON; throws ApiError (a 409's clashes in
// error.conflicts). options.ifMatch: the version a PATCH/DELETE expects.
export async function api(method, path, body, options = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  if (options.ifMatch != null) headers['If-Match'] = `"${options.ifMatch}"`;
  let res;
  try {
    res = await fetch('/api/v1' + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', String(e));
  }
  const data = await parse(res);
  if (res.ok) return data;
  const err = (data && data.error) || {};
  const error = new ApiError(res.status, err.code || `http_${res.status}`, err.message,
    err.field, res.headers.get('Retry-After'));
  error.conflicts = err.conflicts || [];
  if (res.status === 401 && !options.signIn && onSignedOut) onSignedOut();
  throw error;
}
