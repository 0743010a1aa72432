/*
 * test_report.c - core/report.c and core/report_text.c: the kinds of day,
 * working hours cut at lunch and at the end of the day, a driver's hours
 * split into working-day day and night, rest days and public holidays
 * (across midnight, onto a make-up working day), the available hours of a
 * range, the day table's bounds, and the year-end sentence; plus
 * src/report/sheet.c's CSV quoting and Content-Disposition.
 */
#include "check.h"

#include "convene/report.h"
#include "convene/sheet.h"
#include "convene/timeutil.h"
#include "convene/workcal.h"

#include <stdlib.h>
#include <string.h>

#define TZ "Asia/Shanghai"

static struct local_time date_of(const char *s)
{
    struct local_time lt;

    if (time_date_parse(s, &lt) != 0) {
        fprintf(stderr, "bad date in test: %s\n", s);
        exit(2);
    }
    return lt;
}

static int64_t at(const char *local)
{
    struct local_time lt;
    int64_t utc = 0;

    if (time_local_parse(local, &lt) != 0 || time_local_to_utc(&lt, TZ, &utc) != TIME_OK) {
        fprintf(stderr, "bad time in test: %s\n", local);
        exit(2);
    }
    return utc;
}

/* 2026's 国庆/中秋 notice as the office loads it. */
static void calendar_2026(struct workcal *wc)
{
    static struct workcal_holiday holidays[] = {
        {"中秋节", "2026-09-25", "2026-09-27"},
        {"国庆节", "2026-10-01", "2026-10-07"},
    };
    static char workdays[][WORKCAL_DATE_IN] = {"2026-09-20", "2026-10-10"};
    struct workcal_notice n = {2026, holidays, 2, workdays, 2, 0};
    struct workcal_error err;

    workcal_init(wc);
    CHECK_EQ_INT(workcal_notice_check(&n, &err), 0);
    workcal_set_notices(wc, &n, 1);
}

static void test_day_kinds(const struct workcal *wc)
{
    static const struct {
        const char *date;
        enum report_day_kind kind;
    } cases[] = {
        {"2026-09-18", REPORT_WORKING},  /* a Friday */
        {"2026-09-19", REPORT_REST_DAY}, /* an ordinary Saturday */
        {"2026-09-20", REPORT_WORKING},  /* a Sunday made a working day (调休) */
        {"2026-09-26", REPORT_HOLIDAY},  /* a Saturday inside 中秋节 */
        {"2026-10-05", REPORT_HOLIDAY},  /* a Monday inside 国庆节 */
        {"2026-10-10", REPORT_WORKING},  /* a Saturday made a working day */
        {"2026-10-11", REPORT_REST_DAY},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct local_time d = date_of(cases[i].date);
        CHECK_EQ_INT(report_day_kind_of(wc, &d), cases[i].kind);
    }
}

static void test_working_seconds(const struct report_days *t)
{
    static const struct {
        const char *start, *end;
        int64_t minutes;
    } cases[] = {
        {"2026-09-17T11:00:00", "2026-09-17T15:00:00", 120}, /* across lunch: 11-12, 14-15 */
        {"2026-09-17T16:00:00", "2026-09-17T18:30:00", 90},  /* past 17:30 */
        {"2026-09-17T07:00:00", "2026-09-17T08:30:00", 0},   /* before the day starts */
        {"2026-09-19T09:00:00", "2026-09-19T11:00:00", 0},   /* a rest day */
        {"2026-09-20T09:00:00", "2026-09-20T11:30:00", 150}, /* the make-up Sunday */
        {"2026-10-05T09:00:00", "2026-10-05T10:00:00", 0},   /* a holiday Monday */
        {"2026-09-17T17:00:00", "2026-09-18T09:00:00", 60},  /* overnight: 30 + 30 */
        {"2026-09-17T08:30:00", "2026-09-17T17:30:00", 420}, /* a whole day */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_EQ_INT(report_working_seconds(t, at(cases[i].start), at(cases[i].end)),
                     cases[i].minutes * 60);
}

static void test_driver_split(const struct report_days *t)
{
    static const struct {
        const char *depart, *ret;
        int64_t day, night, rest, holiday; /* minutes */
    } cases[] = {
        {"2026-09-22T18:00:00", "2026-09-22T21:30:00", 60, 150, 0, 0},  /* evening */
        {"2026-09-22T05:30:00", "2026-09-22T07:30:00", 30, 90, 0, 0},   /* dawn */
        {"2026-09-22T07:00:00", "2026-09-22T19:00:00", 720, 0, 0, 0},   /* 07:00 and 19:00 are day's edges */
        {"2026-09-19T09:00:00", "2026-09-19T12:00:00", 0, 0, 180, 0},   /* Saturday */
        {"2026-10-03T08:00:00", "2026-10-03T10:00:00", 0, 0, 0, 120},   /* 国庆 */
        {"2026-10-09T22:00:00", "2026-10-10T01:00:00", 0, 180, 0, 0},   /* into the make-up Saturday */
        {"2026-09-30T22:00:00", "2026-10-01T02:00:00", 0, 120, 0, 120}, /* into the holiday */
        {"2026-09-19T23:00:00", "2026-09-20T08:00:00", 60, 420, 60, 0}, /* rest day into 调休 */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t parts[REPORT_PARTS] = {0};
        int64_t s = at(cases[i].depart), e = at(cases[i].ret);
        CHECK_EQ_INT(report_split_driver(t, s, e, parts), e - s);
        CHECK_EQ_INT(parts[REPORT_WORKDAY_DAY], cases[i].day * 60);
        CHECK_EQ_INT(parts[REPORT_WORKDAY_NIGHT], cases[i].night * 60);
        CHECK_EQ_INT(parts[REPORT_PART_REST_DAY], cases[i].rest * 60);
        CHECK_EQ_INT(parts[REPORT_PART_HOLIDAY], cases[i].holiday * 60);
    }
}

static void test_table_bounds(const struct workcal *wc, const struct report_days *t)
{
    struct report_days bad;
    struct local_time a = date_of("2026-01-01"), b = date_of("2028-01-01");
    int64_t parts[REPORT_PARTS] = {0};

    /* 2026-09-14 .. 2026-10-18: 35 days; working days: 25 of them less 中秋 and 国庆, plus 2 调休 */
    CHECK_EQ_INT(t->n, 35);
    CHECK_EQ_INT(report_available_seconds(t, 0, t->n - 1), (35 - 10 - 6 + 2) * 7 * 3600);
    CHECK_EQ_INT(report_days_find(t, at("2026-09-14T00:00:00")), 0);
    CHECK_EQ_INT(report_days_find(t, at("2026-09-13T23:59:59")), -1);
    CHECK_EQ_INT(report_days_find(t, at("2026-10-18T23:59:59")), 34);
    CHECK_EQ_INT(report_days_find(t, at("2026-10-19T00:00:00")), -1);
    /* Outside the table nothing is added: a booking reaching past it counts its part within. */
    CHECK_EQ_INT(report_split_driver(t, at("2026-10-18T20:00:00"), at("2026-10-19T02:00:00"), parts),
                 4 * 3600);
    CHECK_EQ_INT(parts[REPORT_PART_REST_DAY], 4 * 3600);
    CHECK_EQ_INT(report_working_seconds(t, at("2026-09-10T09:00:00"), at("2026-09-14T09:30:00")),
                 3600);
    /* Too long a span, or an unknown zone, is refused. */
    CHECK_EQ_INT(report_days_build(&bad, wc, TZ, &a, &b), -1);
    CHECK_EQ_INT(report_days_build(&bad, wc, "Mars/Olympus", &a, &a), -1);
    CHECK_EQ_INT(report_days_build(&bad, wc, TZ, &b, &a), -1);
}

static void test_hours(void)
{
    CHECK(report_hours(5400) == 1.5);
    CHECK(report_hours(0) == 0.0);
    CHECK(report_hours(20 * 60) == 0.33);  /* a third of an hour */
    CHECK(report_hours(40 * 60) == 0.67);
    CHECK(report_hours(18) == 0.01);       /* half a hundredth rounds up */
}

static void check_text(const struct report_year_facts *f, const char *want)
{
    char *text = report_year_text(f);

    CHECK_EQ_STR(text, want);
    free(text);
}

static void test_year_text(void)
{
    struct report_kind_count kinds[] = {
        {"调研", 2}, {NULL, 1}, {"专题会", 5}, {"党组会", 10}, {"办公会", 12},
        {"接待", 3}, {"座谈会", 4}, {"培训", 0},
    };
    struct report_year_facts f = {2026, kinds, 8, 120, 3400, 0, 0, 0};
    struct report_year_facts none = {2025, NULL, 0, 0, 0, 0, 0, 0};
    struct report_year_facts visits = {2027, kinds, 1, 1, 2, 3, 1, 1};

    check_text(&f, "2026年共召开办公会12次、党组会10次、专题会5次、座谈会4次、其他会议1次，"
                   "安排接待3次、调研2次，派车120次，用餐3400人次。");
    check_text(&none, "2025年未召开会议，派车0次，用餐0人次。");
    check_text(&visits, "2027年未召开会议，安排调研2次，派车1次，用餐2人次；"
                        "办理审批5件，其中同意3件、不同意1件、逾期未批1件。");
    CHECK(report_kind_rank("办公会") < report_kind_rank("党组会"));
    CHECK(report_kind_rank("培训") < report_kind_rank("座谈会"));
    CHECK(report_kind_rank("座谈会") < report_kind_rank(NULL));
}

static void test_csv(void)
{
    json_t *sheet = json_pack("{s:s, s:[s, s], s:[[s, i], [s, f], [s, n], [s, s]]}", "title", "t",
                              "columns", "部门", "人次", "rows", "办公室, \"综合\"", 3, "=SUM(A1)",
                              1.5, "-", "a\r\nb", "@x");
    char *csv;
    size_t len;

    CHECK_EQ_INT(sheet_csv(sheet, &csv, &len), 0);
    CHECK_EQ_STR(csv, "\xEF\xBB\xBF" "部门,人次\r\n"
                      "\"办公室, \"\"综合\"\"\",3\r\n"
                      "\"'=SUM(A1)\",1.5\r\n"
                      "\"'-\",\r\n"
                      "\"a\r\nb\",\"'@x\"\r\n");
    CHECK_EQ_INT(len, strlen(csv));
    free(csv);
    json_decref(sheet);
}

static void test_disposition(void)
{
    char out[256], tiny[40];

    CHECK_EQ_INT(sheet_disposition("会议统计_2026年", "report-meetings_2026", "csv", out,
                                   sizeof(out)),
                 0);
    CHECK_EQ_STR(out, "attachment; filename=\"report-meetings_2026.csv\"; "
                      "filename*=UTF-8''%E4%BC%9A%E8%AE%AE%E7%BB%9F%E8%AE%A1_2026%E5%B9%B4.csv");
    /* The fallback carries no quote or backslash; a space is %-encoded in filename*. */
    CHECK_EQ_INT(sheet_disposition("a b", "x\"y\\z", "xlsx", out, sizeof(out)), 0);
    CHECK_EQ_STR(out, "attachment; filename=\"xyz.xlsx\"; filename*=UTF-8''a%20b.xlsx");
    CHECK_EQ_INT(sheet_disposition("会议统计_2026年", "r", "csv", tiny, sizeof(tiny)), -1);
}

int main(void)
{
    struct workcal wc;
    struct report_days t;
    struct local_time first = date_of("2026-09-14"), last = date_of("2026-10-18");

    calendar_2026(&wc);
    test_day_kinds(&wc);
    CHECK_EQ_INT(report_days_build(&t, &wc, TZ, &first, &last), 0);
    test_working_seconds(&t);
    test_driver_split(&t);
    test_table_bounds(&wc, &t);
    report_days_free(&t);
    workcal_free(&wc);
    test_hours();
    test_year_text();
    test_csv();
    test_disposition();
    return check_finish();
}
