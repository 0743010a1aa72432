// clash.js - a 409's clashes (CONTRACT section 4) as sentences: who or
// what, why, with what and when. "第一会议室：会场布置或撤场缓冲，与「党组会」
// 12月21日（周一）09:00 相邻". A confidential other meeting (title null)
// is named only as 忙碌（保密会议）.
import { localLabel } from './time.js';

const REASONS = {
  overlap: '时间重叠',
  buffer: '会场布置或撤场缓冲',
  block: '停用',
  driver_hours: '司机当日出车时长超限',
  driver_rest: '司机休息不足',
};
const KINDS = { event: '会议', trip: '出车', block: '停用' };
const ROLES = { room: '会议室', vehicle: '车辆', driver: '司机', attendee: '参会人员', person: '人员', block: '停用' };

export function reasonText(reason) {
  return REASONS[reason] || reason || '时间冲突';
}

function otherText(c) {
  if (c.other_kind === 'block') return `停用原因：${c.title || '未说明'}`;
  const what = c.title == null ? '忙碌（保密会议）' : `「${c.title}」`;
  const kind = c.other_kind === 'trip' ? '出车任务' : KINDS[c.other_kind] || '安排';
  const when = c.other_depart || c.other_start;
  return `与${kind}${what}${when ? ' ' + localLabel(when) : ''}冲突`;
}

// One sentence per clash.
export function clashText(c) {
  const who = c.name || ROLES[c.role] || (c.resource && ROLES[c.resource.type]) || '';
  const when = c.depart || c.start;
  return `${who}：${reasonText(c.reason)}，${otherText(c)}${when ? `（本次 ${localLabel(when)}）` : ''}`;
}
