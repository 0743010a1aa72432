// labels.js - the API's English words (room features, roles, accesses,
// history actions) as the office says them, so none leaks onto a page.

const FEATURES = { video: '视频会议', projector: '投影仪', screen: '大屏', whiteboard: '白板',
  microphone: '话筒', audio: '音响', recording: '录音录像', wheelchair: '无障碍', phone: '电话会议' };
export function featureName(f) { return FEATURES[f] || f; }
// The other way, for an admin typing 视频会议 where the API wants video; a code passes as it is.
const FEATURE_CODES = Object.fromEntries(Object.entries(FEATURES).map(([code, name]) => [name, code]));
export function featureCode(text) { return FEATURE_CODES[text] || text; }

export const ROLE_NAMES = { leader: '领导', secretary: '秘书', staff: '工作人员', driver: '驾驶员' };
export const ACCESS_NAMES = { admin: '管理员', secretary: '秘书', leader: '领导', driver: '驾驶员',
  canteen: '食堂', none: '无' };

export const RESPONSES = { accepted: '参加', declined: '不参加', tentative: '待定', needs_action: '未答复' };
export function responseName(r) { return RESPONSES[r] || '未答复'; }

const ACTIONS = { created: '创建', imported: '导入', updated: '修改', rsvp: '答复', cancelled: '取消',
  occurrence_updated: '修改单次', occurrence_cancelled: '取消单次', preempted: '被优先占用',
  trip_acknowledged: '司机确认出车', trip_unacknowledged: '司机未确认（提醒秘书）',
  meals_recounted: '用餐重新统计', occurrences_skipped: '部分日期未能预订' };
export function actionName(a) { return ACTIONS[a] || a; }

// Members of an event as the history shows them.
const FIELDS = { title: '会议名称', location: '地点', description: '说明', start: '开始', end: '结束',
  date: '日期', end_date: '结束日期', rrule: '重复', exdates: '不举行的日期', attendees: '参会人员',
  room: '会议室', guests: '来宾人数', meals: '用餐', trips: '用车', reminders: '提醒',
  confidential: '保密', status: '状态', tz: '时区', responses: '答复', overrides: '单次调整',
  skipped: '未能预订的日期', needs: '待补资源' };
export function fieldName(f) { return FIELDS[f] || f; }

// Who made a change, for the history. A person (signed in, or a token of
// theirs) by name; the service's own changes (escalations) as 系统; any other
// API token as 接口 with its name; a one-tap link as the person 通过消息链接. The token the service makes on its first
// start is named in English by the server, so it is said here in Chinese.
const TOKEN_NAMES = { 'bootstrap admin': '初始管理员' };
export function actorName(actor, names) {
  if (!actor || (!actor.token && !actor.person && (!actor.name || actor.name === 'convene'))) return '系统';
  // A person's one-tap link (a message's 确认收到 / 参加): the person, and how.
  if (actor.person && !actor.token && actor.name === 'one-tap link') {
    return `${names.get(actor.person) || '（已删除人员）'}（通过消息链接）`;
  }
  if (actor.person) return names.get(actor.person) || actor.name || '（已删除人员）';
  const name = actor.name ? (TOKEN_NAMES[actor.name] || actor.name) : '';
  return name ? `接口令牌「${name}」` : '接口令牌';
}
