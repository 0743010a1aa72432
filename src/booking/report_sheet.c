/*
 * report_sheet.c - a report as the table an office opens in a spreadsheet
 * (CONTRACT section 13: CSV and XLSX with a Chinese header row): the
 * columns in Chinese, codes in words (午餐, 清真), numbers left numbers.
 * Built from the report's JSON (reports.c), so the files and the API
 * cannot disagree; src/report/sheet.c writes the bytes.
 */
#include "convene/booking.h"

#include <stdio.h>
#include <string.h>

#define NONE_LABEL "未注明" /* a meeting or meal without a kind or department */

/* What a code means to a reader (meals, diets); anything else as it is. */
static const char *label(const char *code)
{
    static const char *const words[][2] = {
        {"breakfast", "早餐"}, {"lunch", "午餐"},       {"dinner", "晚餐"},
        {"halal", "清真"},     {"vegetarian", "素食"}, {"regular", "普通"},
    };

    if (code == NULL)
        return NONE_LABEL;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(code, words[i][0]) == 0)
            return words[i][1];
    return code;
}

static json_t *member(json_t *row, const char *name)
{
    json_t *v = json_object_get(row, name);

    return v ? json_incref(v) : json_null();
}

/* A row of the named members of a JSON row, keys turned into words. */
static json_t *row_of(json_t *row, const char *const *members, int first_is_label)
{
    json_t *out = json_array();

    for (size_t i = 0; members[i] != NULL; i++) {
        json_t *v = json_object_get(row, members[i]);
        if (i == 0 && first_is_label)
            json_array_append_new(out, json_string(label(json_string_value(v))));
        else
            json_array_append_new(out, member(row, members[i]));
    }
    return out;
}

static const char *by_column(const char *by)
{
    static const char *const names[][2] = {
        {"kind", "会议类别"}, {"department", "部门"}, {"leader", "领导"},
        {"month", "月份"},    {"meal", "餐次"},       {"diet", "饮食"},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (by != NULL && strcmp(by, names[i][0]) == 0)
            return names[i][1];
    return "项目";
}

static json_t *sheet_new(const char *title, json_t *columns)
{
    return json_pack("{s:s, s:o, s:o}", "title", title, "columns", columns, "rows", json_array());
}

/* Meetings and meals: the key, its figures, then a 合计 line. */
static json_t *grouped(const char *title, json_t *report, int meetings)
{
    const char *by = json_string_value(json_object_get(report, "by"));
    json_t *sheet = meetings ? sheet_new(title, json_pack("[s, s, s]", by_column(by), "次数",
                                                         "时长（小时）"))
                             : sheet_new(title, json_pack("[s, s]", by_column(by), "人次"));
    json_t *rows = json_object_get(sheet, "rows"), *row, *total = json_object_get(report, "total");
    static const char *const m_members[] = {"key", "count", "hours", NULL};
    static const char *const f_members[] = {"key", "count", NULL};
    size_t i;

    json_array_foreach(json_object_get(report, "rows"), i, row) {
        json_array_append_new(rows, row_of(row, meetings ? m_members : f_members, 1));
    }
    if (meetings)
        json_array_append_new(rows, json_pack("[s, O, O]", "合计", json_object_get(total, "count"),
                                              json_object_get(total, "hours")));
    else
        json_array_append_new(rows, json_pack("[s, O]", "合计", total));
    return sheet;
}

/* Rooms, vehicles and drivers: one line each, members in the given order. */
static json_t *listing(const char *title, json_t *report, json_t *columns,
                       const char *const *members)
{
    json_t *sheet = sheet_new(title, columns), *row;
    size_t i;

    json_array_foreach(json_object_get(report, "rows"), i, row) {
        json_array_append_new(json_object_get(sheet, "rows"), row_of(row, members, 0));
    }
    return sheet;
}

/* The year: 项目 and 数值, then the sentence. */
static json_t *year_sheet(json_t *report)
{
    json_t *sheet = sheet_new("年度统计", json_pack("[s, s]", "项目", "数值"));
    json_t *rows = json_object_get(sheet, "rows"), *n;
    json_t *approvals = json_object_get(report, "approvals");
    const char *kind;
    char name[200];

    json_object_foreach(json_object_get(report, "meetings"), kind, n) {
        snprintf(name, sizeof(name), "%s（次）", kind);
        json_array_append_new(rows, json_pack("[s, O]", name, n));
    }
    json_array_append_new(rows, json_pack("[s, O]", "派车（次）", json_object_get(report, "trips")));
    json_array_append_new(rows, json_pack("[s, O]", "用餐（人次）", json_object_get(report, "meals")));
    json_array_append_new(rows, json_pack("[s, O]", "审批同意（件）",
                                          json_object_get(approvals, "approved")));
    json_array_append_new(rows, json_pack("[s, O]", "审批不同意（件）",
                                          json_object_get(approvals, "rejected")));
    json_array_append_new(rows, json_pack("[s, O]", "审批逾期未批（件）",
                                          json_object_get(approvals, "expired")));
    json_array_append_new(rows, json_pack("[s, O]", "总结", json_object_get(report, "text")));
    return sheet;
}

/* The download's name: 会议统计_2026-12-01至2026-12-31, 年度统计_2026年, and an ASCII one. */
static void sheet_file(json_t *sheet, const char *name, json_t *report)
{
    char file[256], ascii[128];
    const char *title = json_string_value(json_object_get(sheet, "title"));
    json_t *year = json_object_get(report, "year");

    const char *from = json_string_value(json_object_get(report, "from"));
    const char *to = json_string_value(json_object_get(report, "to"));

    if (json_is_integer(year)) {
        snprintf(file, sizeof(file), "%s_%lld年", title, (long long)json_integer_value(year));
        snprintf(ascii, sizeof(ascii), "report-%s_%lld", name, (long long)json_integer_value(year));
    } else {
        snprintf(file, sizeof(file), "%s_%s至%s", title, from ? from : "", to ? to : "");
        snprintf(ascii, sizeof(ascii), "report-%s_%s_%s", name, from ? from : "", to ? to : "");
    }
    json_object_set_new(sheet, "file", json_string(file));
    json_object_set_new(sheet, "file_ascii", json_string(ascii));
}

json_t *booking_report_sheet(const struct booking_report_query *q, json_t *report)
{
    static const char *const room_m[] = {"name", "bookings", "hours", "working_hours",
                                         "available_hours", "utilisation", NULL};
    static const char *const vehicle_m[] = {"name", "plate", "trips", "hours", NULL};
    static const char *const driver_m[] = {"name", "trips", "hours", "workday_day",
                                           "workday_night", "rest_day", "holiday", NULL};
    json_t *sheet;

    if (strcmp(q->name, "meetings") == 0)
        sheet = grouped("会议统计", report, 1);
    else if (strcmp(q->name, "meals") == 0)
        sheet = grouped("用餐统计", report, 0);
    else if (strcmp(q->name, "rooms") == 0)
        sheet = listing("会议室使用统计", report,
                        json_pack("[s, s, s, s, s, s]", "会议室", "使用次数", "使用时长（小时）",
                                  "工作时间内（小时）", "可用时长（小时）", "利用率"),
                        room_m);
    else if (strcmp(q->name, "vehicles") == 0)
        sheet = listing("车辆使用统计", report,
                        json_pack("[s, s, s, s]", "车辆", "车牌号", "出车次数", "时长（小时）"),
                        vehicle_m);
    else if (strcmp(q->name, "drivers") == 0)
        sheet = listing("驾驶员出车统计", report,
                        json_pack("[s, s, s, s, s, s, s]", "驾驶员", "出车次数", "时长（小时）",
                                  "工作日白天（小时）", "工作日夜间（小时）", "休息日（小时）",
                                  "节假日（小时）"),
                        driver_m);
    else
        sheet = year_sheet(report);
    sheet_file(sheet, q->name, report);
    return sheet;
}
