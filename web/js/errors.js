// errors.js - the API's stable error codes as sentences a secretary can
// act on. One table: every page shows errors through errorText().

const SENTENCES = {
  bad_credentials: '用户名或密码错误',
  unauthorized: '登录已失效，请重新登录',
  no_access: '您的账号没有使用本系统的权限，请联系办公室管理员',
  forbidden: '您没有权限进行此操作',
  csrf: '页面已过期，请刷新页面后重试',
  not_found: '未找到相关记录，可能已被删除',
  method_not_allowed: '不支持此操作',
  conflict: '时间冲突：相关人员、会议室或车辆在该时段已有安排',
  capacity: '会议室容量不足',
  seats: '乘车人数超过车辆座位数',
  driver_hours: '司机当日出车时长超过上限',
  driver_rest: '司机两日之间的休息时间不足',
  approval_required: '周末或节假日用车需经审批',
  too_late_for_approval: '距会议开始已不足2小时，来不及审批，请调整时间或预算',
  own_request: '本预订由您提交，需由他人审批',
  already_decided: '该审批已处理',
  expired: '该审批已逾期，预订已自动取消',
  meeting_required: '超出限额的经费须选择研究决定的办公会',
  not_office_meeting: '所选会议不是已召开的办公会',
  wrong_approver: '休息日用车的审批人应为办公室主任',
  department_required: '该经费须由分管领导审批，请填写承办部门',
  unknown_department: '承办部门不存在',
  no_approver: '该部门尚未设置分管领导',
  precondition_failed: '该记录已被他人修改，请刷新后重试',
  invalid: '填写的内容不符合要求',
  required: '有必填项未填写',
  unknown_id: '所选的人员、会议室或车辆不存在',
  unknown_field: '提交的内容含有系统不认识的项目',
  wrong_type: '填写的内容格式不正确',
  malformed: '提交的内容格式不正确',
  end_before_start: '结束时间早于开始时间',
  too_long: '填写的内容过长',
  too_many: '结果太多，请缩小日期范围',
  too_large: '提交的内容过大',
  not_invited: '您不在该会议的参会人员中',
  not_a_driver: '所选人员不是驾驶员',
  rrule_refused: '无法按此规则重复',
  series_too_old: '该重复会议此前已有超过1000次，无法整体保存：请为它设置结束日期，之后的安排另建一个重复会议',
  nonexistent_time: '该时间在当地不存在（夏令时切换）',
  in_use: '该记录仍在使用中，不能删除',
  duplicate: '已存在相同的记录',
  storage: '服务器存储出现错误，请稍后再试',
  internal: '服务器出现错误，请稍后再试',
  unavailable: '服务暂时不可用，请稍后再试',
  network: '无法连接服务器，请检查网络后重试',
};

// A Chinese sentence for an ApiError (or any error).
export function errorText(err) {
  if (err && err.code === 'too_many_attempts') {
    const seconds = Number(err.retryAfter) || 900;
    return `尝试次数过多，请 ${Math.max(1, Math.ceil(seconds / 60))} 分钟后再试`;
  }
  if (err && SENTENCES[err.code]) return SENTENCES[err.code];
  if (err && err.code) return `操作未成功（错误代码：${err.code}）`;
  return '操作未成功，请稍后再试';
}
