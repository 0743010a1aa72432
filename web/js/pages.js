// pages.js - the console's pages, who may open them and where each
// access lands (CONTRACT section 9). A page is a module loaded when first
// shown; its default export is a component given the session and the
// hash's parameters. A hidden page (the meeting) is reached by links, not
// from the nav.

export const PAGES = [
  { id: 'week', title: '领导一周活动安排', access: ['secretary', 'admin'],
    load: () => import('./pages/week.js') },
  { id: 'book', title: '预订会议', access: ['secretary', 'admin'],
    load: () => import('./pages/book.js') },
  { id: 'rooms', title: '会议室', access: ['secretary', 'admin'],
    load: () => import('./pages/board.js').then((m) => ({ default: m.RoomBoard })) },
  { id: 'cars', title: '车辆', access: ['secretary', 'admin'],
    load: () => import('./pages/board.js').then((m) => ({ default: m.CarBoard })) },
  { id: 'meeting', title: '会议详情', access: ['secretary', 'admin'], hidden: true,
    load: () => import('./pages/meeting.js') },
  { id: 'meals', title: '今明用餐', access: ['canteen', 'secretary', 'admin'],
    load: () => import('./pages/meals.js') },
  { id: 'reports', title: '统计报表', access: ['secretary', 'admin'],
    load: () => import('./pages/reports.js') },
  { id: 'approvals', title: '待我审批', access: ['leader', 'secretary', 'admin'], badge: true,
    load: () => import('./pages/approvals.js') },
  { id: 'admin', title: '系统设置', access: ['admin'],
    load: () => import('./pages/admin.js') },
  { id: 'trips', title: '我的出车', access: ['driver'],
    load: () => import('./pages/trips.js') },
  { id: 'my-week', title: '我的一周', access: ['leader'],
    load: () => import('./pages/myweek.js') },
];

const LANDING = { secretary: 'week', admin: 'week', canteen: 'meals', driver: 'trips', leader: 'my-week' };

export function navFor(access) {
  return pagesFor(access).filter((p) => !p.hidden);
}

export function pagesFor(access) {
  return PAGES.filter((p) => p.access.includes(access));
}

export function landingFor(access) {
  return LANDING[access] || null;
}

// '#/week?w=2026-12-07' -> {id: 'week', params: URLSearchParams}
export function parseHash(hash) {
  const text = (hash || '').replace(/^#\/?/, '');
  const q = text.indexOf('?');
  return {
    id: q < 0 ? text : text.slice(0, q),
    params: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)),
  };
}
