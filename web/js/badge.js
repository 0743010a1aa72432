// badge.js - the count beside 待我审批 in the header: the approvals still
// waiting for this account (GET /approvals?status=pending lists an
// approver's own; secretaries and admins see everyone's). Refreshed on
// every change the live stream reports, so a decision elsewhere clears it,
// and on this tab's own decisions (APPROVALS_CHANGED): the stream shows a
// leader only the meetings they attend, not those they approve.
import { html, useState, useEffect } from './html.js';
import { api } from './api.js';
import { onChange } from './live.js';

export const APPROVALS_CHANGED = 'convene:approvals-changed';

export function PendingBadge() {
  const [count, setCount] = useState(0);
  useEffect(() => {
    let alive = true;
    const load = () => api('GET', '/approvals?status=pending').then(
      (list) => alive && setCount((list || []).length), () => {});
    load();
    const off = onChange(load);
    addEventListener(APPROVALS_CHANGED, load);
    return () => { alive = false; off(); removeEventListener(APPROVALS_CHANGED, load); };
  }, []);
  if (!count) return null;
  return html`<span class="badge" aria-label=${`${count}项待审批`}>${count}</span>`;
}
