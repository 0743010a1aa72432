/*
 * workcal_notice.c - one year's holiday arrangement as the State Council
 * publishes it (国务院办公厅关于 YYYY 年部分节假日安排的通知): named
 * holidays as date ranges plus the weekend days worked in exchange (调休).
 * The office loads it the day it appears, so it is checked here with the
 * mistakes a person typing it in makes (a date in the wrong year, a range
 * backwards, a make-up day on a weekday, a day both off and worked), each
 * reported with the field that holds it.
 */
#include "convene/workcal.h"
#include "convene/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const weekday_names[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                            "Friday", "Saturday", "Sunday"};

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static int64_t day_number(const struct local_time *d)
{
    int64_t y = d->year - (d->month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (d->month + (d->month > 2 ? -3 : 9)) + 2) / 5 + d->day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static struct local_time date_of_number(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int day = (int)(doy - (153 * mp + 2) / 5 + 1);
    int month = (int)(mp < 10 ? mp + 3 : mp - 9);
    return (struct local_time){(int)(yoe + era * 400 + (month <= 2)), month, day, 0, 0, 0};
}

static int fail(struct workcal_error *err, const char *code, const char *field, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

static int fail(struct workcal_error *err, const char *code, const char *field, const char *fmt,
                ...)
{
    va_list ap;

    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

/*
 * Parses a date of the notice of year into its day number: a real date in
 * the year, or in its last WORKCAL_LEAD_DAYS days before (元旦 may begin
 * on 30 December). 0 or -1 with err naming field.
 */
static int notice_date(int year, const char *s, const char *field, int64_t *out,
                       struct workcal_error *err)
{
    struct local_time d, first = {year, 1, 1, 0, 0, 0}, last = {year, 12, 31, 0, 0, 0};

    if (time_date_parse(s, &d) != 0)
        return fail(err, "invalid", field, "'%s' must be a date like %d-02-06", field, year);
    *out = day_number(&d);
    if (*out < day_number(&first) - WORKCAL_LEAD_DAYS || *out > day_number(&last))
        return fail(err, "invalid", field,
                    "'%s' (%s) is not in %d or the last %d days of %d (%d-12-%02d..%d-12-31)",
                    field, s, year, WORKCAL_LEAD_DAYS, year - 1, year - 1,
                    32 - WORKCAL_LEAD_DAYS, year);
    return 0;
}

/* A holiday's name: present, short, printable. */
static int check_name(const char *name, const char *field, struct workcal_error *err)
{
    size_t chars = 0;

    if (name[0] == '\0')
        return fail(err, "required", field, "'%s' is required (e.g. 春节)", field);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return fail(err, "invalid", field, "'%s' must not contain control characters",
                        field);
        chars += (*p & 0xc0) != 0x80;
    }
    if (chars > WORKCAL_NAME_CHARS)
        return fail(err, "invalid", field, "'%s' must be at most %d characters", field,
                    WORKCAL_NAME_CHARS);
    return 0;
}

/* Day numbers of each holiday's first and last day, filled by check_holidays. */
struct spans {
    int64_t from[WORKCAL_MAX_HOLIDAYS], to[WORKCAL_MAX_HOLIDAYS];
};

static int check_holidays(const struct workcal_notice *n, struct spans *sp,
                          struct workcal_error *err)
{
    char field[48];

    if (n->nholidays == 0)
        return fail(err, "required", "holidays",
                    "'holidays' must list at least one holiday of %d", n->year);
    if (n->nholidays > WORKCAL_MAX_HOLIDAYS)
        return fail(err, "invalid", "holidays", "at most %d holidays", WORKCAL_MAX_HOLIDAYS);
    for (size_t i = 0; i < n->nholidays; i++) {
        const struct workcal_holiday *h = &n->holidays[i];
        snprintf(field, sizeof(field), "holidays[%zu].name", i);
        if (check_name(h->name, field, err) != 0)
            return -1;
        snprintf(field, sizeof(field), "holidays[%zu].from", i);
        if (notice_date(n->year, h->from, field, &sp->from[i], err) != 0)
            return -1;
        snprintf(field, sizeof(field), "holidays[%zu].to", i);
        if (notice_date(n->year, h->to, field, &sp->to[i], err) != 0)
            return -1;
        if (sp->to[i] < sp->from[i])
            return fail(err, "invalid", field, "'%s' (%s) is before 'from' (%s)", field, h->to,
                        h->from);
        for (size_t k = 0; k < i; k++) {
            if (sp->from[i] <= sp->to[k] && sp->from[k] <= sp->to[i]) {
                snprintf(field, sizeof(field), "holidays[%zu]", i);
                return fail(err, "invalid", field,
                            "%s..%s overlaps holidays[%zu] (%s, %s..%s)", h->from, h->to, k,
                            n->holidays[k].name, n->holidays[k].from, n->holidays[k].to);
            }
        }
    }
    return 0;
}

static int check_workdays(const struct workcal_notice *n, const struct spans *sp,
                          struct workcal_error *err)
{
    int64_t days[WORKCAL_MAX_WORKDAYS];
    char field[48];

    if (n->nworkdays > WORKCAL_MAX_WORKDAYS)
        return fail(err, "invalid", "workdays", "at most %d make-up working days",
                    WORKCAL_MAX_WORKDAYS);
    for (size_t j = 0; j < n->nworkdays; j++) {
        snprintf(field, sizeof(field), "workdays[%zu]", j);
        if (notice_date(n->year, n->workdays[j], field, &days[j], err) != 0)
            return -1;
        struct local_time d = date_of_number(days[j]);
        int wd = workcal_weekday(&d);
        if (wd < 5)
            return fail(err, "invalid", field,
                        "%s is a %s: a make-up working day is a Saturday or Sunday "
                        "(weekdays are working days already)",
                        n->workdays[j], weekday_names[wd]);
        for (size_t k = 0; k < j; k++)
            if (days[k] == days[j])
                return fail(err, "invalid", field, "%s is listed twice (workdays[%zu])",
                            n->workdays[j], k);
        for (size_t i = 0; i < n->nholidays; i++)
            if (days[j] >= sp->from[i] && days[j] <= sp->to[i])
                return fail(err, "invalid", field,
                            "%s is both a working day and a day of holidays[%zu] (%s)",
                            n->workdays[j], i, n->holidays[i].name);
    }
    return 0;
}

int workcal_notice_check(const struct workcal_notice *n, struct workcal_error *err)
{
    struct spans sp;

    if (n->year < WORKCAL_YEAR_MIN || n->year > WORKCAL_YEAR_MAX)
        return fail(err, "invalid", "year", "the year must be %d to %d", WORKCAL_YEAR_MIN,
                    WORKCAL_YEAR_MAX);
    if (check_holidays(n, &sp, err) != 0 || check_workdays(n, &sp, err) != 0)
        return -1;
    return 0;
}

static struct workcal_day *push_day(struct workcal_day **days, size_t *ndays, size_t *cap)
{
    if (*ndays == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *days = xrealloc(*days, *cap * sizeof(**days));
    }
    memset(&(*days)[*ndays], 0, sizeof(**days));
    return &(*days)[(*ndays)++];
}

/*
 * The holiday a make-up day is worked for: the nearest one (a notice puts
 * the 调休 Saturday right before or after its holiday). Ties go to the
 * holiday listed first.
 */
static const char *nearest_holiday(const struct workcal_notice *n, int64_t day)
{
    const char *best = NULL;
    int64_t best_gap = INT64_MAX;

    for (size_t i = 0; i < n->nholidays; i++) {
        struct local_time f, t;
        if (time_date_parse(n->holidays[i].from, &f) != 0 ||
            time_date_parse(n->holidays[i].to, &t) != 0)
            continue;
        int64_t gap = day < day_number(&f) ? day_number(&f) - day : day - day_number(&t);
        if (gap < best_gap) {
            best_gap = gap;
            best = n->holidays[i].name;
        }
    }
    return best;
}

void workcal_notice_days(const struct workcal_notice *n, struct workcal_day **days, size_t *ndays,
                         size_t *cap)
{
    for (size_t i = 0; i < n->nholidays; i++) {
        struct local_time f, t;
        if (time_date_parse(n->holidays[i].from, &f) != 0 ||
            time_date_parse(n->holidays[i].to, &t) != 0)
            continue;
        for (int64_t z = day_number(&f); z <= day_number(&t); z++) {
            struct workcal_day *d = push_day(days, ndays, cap);
            struct local_time lt = date_of_number(z);
            time_date_format(&lt, d->date);
            d->off = 1;
            d->year = n->year;
            d->source = WORKCAL_STORED;
            snprintf(d->name, sizeof(d->name), "%s", n->holidays[i].name);
        }
    }
    for (size_t j = 0; j < n->nworkdays; j++) {
        struct local_time lt;
        if (time_date_parse(n->workdays[j], &lt) != 0)
            continue;
        const char *for_holiday = nearest_holiday(n, day_number(&lt));
        struct workcal_day *d = push_day(days, ndays, cap);
        time_date_format(&lt, d->date);
        d->off = 0;
        d->year = n->year;
        d->source = WORKCAL_STORED;
        snprintf(d->name, sizeof(d->name), "%.80s调休上班", for_holiday ? for_holiday : "");
    }
}

void workcal_notice_copy(const struct workcal_notice *src, struct workcal_notice *out)
{
    *out = *src;
    out->holidays = NULL;
    out->workdays = NULL;
    if (src->nholidays > 0) {
        out->holidays = xmalloc(src->nholidays * sizeof(*out->holidays));
        memcpy(out->holidays, src->holidays, src->nholidays * sizeof(*out->holidays));
    }
    if (src->nworkdays > 0) {
        out->workdays = xmalloc(src->nworkdays * sizeof(*out->workdays));
        memcpy(out->workdays, src->workdays, src->nworkdays * sizeof(*out->workdays));
    }
}

int workcal_notice_of_year(const struct workcal *wc, int year, struct workcal_notice *out)
{
    size_t hcap = 0, wcap = 0;
    int64_t prev = 0;

    memset(out, 0, sizeof(*out));
    if (workcal_year_source(wc, year) == WORKCAL_NONE)
        return -1;
    for (size_t i = 0; i < wc->nnotices; i++) {
        if (wc->notices[i].year == year) {
            workcal_notice_copy(&wc->notices[i], out);
            return 0;
        }
    }
    out->year = year;
    for (size_t i = 0; i < wc->ndays; i++) {
        const struct workcal_day *d = &wc->days[i];
        struct local_time lt;
        if (d->year != year || time_date_parse(d->date, &lt) != 0)
            continue;
        int64_t z = day_number(&lt);
        if (!d->off) {
            if (out->nworkdays == wcap) {
                wcap = wcap ? wcap * 2 : 8;
                out->workdays = xrealloc(out->workdays, wcap * sizeof(*out->workdays));
            }
            snprintf(out->workdays[out->nworkdays++], WORKCAL_DATE_IN, "%s", d->date);
            continue;
        }
        /* The days are sorted: a day off right after one of the same name extends it. */
        struct workcal_holiday *h = out->nholidays ? &out->holidays[out->nholidays - 1] : NULL;
        if (h != NULL && z == prev + 1 && strcmp(h->name, d->name) == 0) {
            snprintf(h->to, sizeof(h->to), "%s", d->date);
        } else {
            if (out->nholidays == hcap) {
                hcap = hcap ? hcap * 2 : 8;
                out->holidays = xrealloc(out->holidays, hcap * sizeof(*out->holidays));
            }
            h = &out->holidays[out->nholidays++];
            snprintf(h->name, sizeof(h->name), "%s", d->name);
            snprintf(h->from, sizeof(h->from), "%s", d->date);
            snprintf(h->to, sizeof(h->to), "%s", d->date);
        }
        prev = z;
    }
    return 0;
}

void workcal_notice_free(struct workcal_notice *n)
{
    free(n->holidays);
    free(n->workdays);
    n->holidays = NULL;
    n->workdays = NULL;
    n->nholidays = n->nworkdays = 0;
}
