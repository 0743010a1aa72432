/*
 * workdays.c - the working calendar over HTTP: GET /api/v1/workdays
 * (day by day), GET/PUT /api/v1/workdays/{year} (a year's notice: the
 * office loads the State Council's arrangement the day it appears) and the
 * public /feeds/holidays.ics (holidays and make-up working days as all-day
 * events). The rules a notice must keep are in core/workcal_notice.c.
 */
#include "handlers.h"

#include "convene/feed.h"
#include "convene/ics.h"
#include "convene/body.h"
#include "convene/recur.h"
#include "convene/store.h"
#include "convene/util.h"
#include "convene/workcal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DAYS 366

/* Reads ?from=&to= as dates; replies and returns -1 when missing or bad. */
int api_date_range(struct api_call *call, struct local_time *from, struct local_time *to,
                   int max_days)
{
    char buf[16];
    const char *names[2] = {"from", "to"};
    struct local_time *out[2] = {from, to};

    for (int i = 0; i < 2; i++) {
        int rc = api_query_param(call, names[i], buf, sizeof(buf));
        if (rc < 0)
            return -1;
        if (rc == 0 || time_date_parse(buf, out[i]) != 0) {
            api_reply_error(call, 422, rc == 0 ? "required" : "invalid", names[i],
                            "'%s' must be a date like 2026-12-07", names[i]);
            return -1;
        }
    }
    int64_t days = recur_local_diff(from, to) / 86400;
    if (days < 0 || days >= max_days) {
        api_reply_error(call, 422, "invalid", "to", "'to' must be on or after 'from', within %d days",
                        max_days);
        return -1;
    }
    return 0;
}

void api_workdays(struct api_call *call)
{
    static const char *const weekdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    const struct workcal *wc = app_workcal(call->app);
    struct local_time from, to;
    json_t *items;

    if (api_date_range(call, &from, &to, MAX_DAYS) != 0)
        return;
    items = json_array();
    for (struct local_time d = from; recur_local_diff(&d, &to) >= 0; recur_local_add(&d, 86400)) {
        const char *name;
        int special;
        int working = workcal_is_working(wc, &d, &name, &special);
        char date[TIME_DATE_STR];
        json_t *hours = json_array();

        time_date_format(&d, date);
        for (size_t p = 0; working && p < wc->nperiods; p++) {
            char s[8], e[8];
            snprintf(s, sizeof(s), "%02d:%02d", wc->periods[p][0] / 60 % 100,
                     wc->periods[p][0] % 60);
            snprintf(e, sizeof(e), "%02d:%02d", wc->periods[p][1] / 60 % 100,
                     wc->periods[p][1] % 60);
            json_array_append_new(hours, json_pack("{s:s, s:s}", "start", s, "end", e));
        }
        /* known: false = no notice covers the year, so the weekday rule is a guess. */
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:b, s:s?, s:b, s:o, s:b}", "date", date, "weekday",
                             weekdays[workcal_weekday(&d)], "working", working, "holiday",
                             special ? name : NULL, "makeup", special && working, "hours",
                             hours, "known", workcal_is_known(wc, &d)));
    }
    api_reply_json(call, 200, items, -1);
}

/* ---------------- one year's notice ---------------- */

/* The {year} of the path: four digits in range; 0, or -1 after replying 404. */
static int path_year(struct api_call *call, int *year)
{
    int64_t y;

    if (strlen(call->params[0]) != 4 ||
        parse_int64(call->params[0], WORKCAL_YEAR_MIN, WORKCAL_YEAR_MAX, &y) != 0) {
        api_reply_error(call, 404, "not_found", "year",
                        "no working calendar year '%.8s' (a year from %d to %d)", call->params[0],
                        WORKCAL_YEAR_MIN, WORKCAL_YEAR_MAX);
        return -1;
    }
    *year = (int)y;
    return 0;
}

static json_t *render_notice(const struct workcal_notice *n, enum workcal_source source)
{
    json_t *holidays = json_array(), *workdays = json_array();
    char when[TIME_UTC_STR];

    for (size_t i = 0; i < n->nholidays; i++)
        json_array_append_new(holidays,
                              json_pack("{s:s, s:s, s:s}", "name", n->holidays[i].name, "from",
                                        n->holidays[i].from, "to", n->holidays[i].to));
    for (size_t j = 0; j < n->nworkdays; j++)
        json_array_append_new(workdays, json_string(n->workdays[j]));
    json_t *out = json_pack("{s:i, s:s, s:o, s:o}", "year", n->year, "source",
                            source == WORKCAL_STORED ? "database" : "files", "holidays",
                            holidays, "workdays", workdays);
    if (source == WORKCAL_STORED) {
        time_utc_format(n->updated_at, when);
        json_object_set_new(out, "updated_at", json_string(when));
    }
    return out;
}

static void reply_year(struct api_call *call, int status, int year)
{
    const struct workcal *wc = app_workcal(call->app);
    struct workcal_notice n;

    if (workcal_notice_of_year(wc, year, &n) != 0) {
        api_reply_error(call, 404, "not_found", NULL,
                        "no working calendar for %d: load the State Council's notice with "
                        "PUT /api/v1/workdays/%d",
                        year, year);
        return;
    }
    api_reply_json(call, status, render_notice(&n, workcal_year_source(wc, year)), -1);
    workcal_notice_free(&n);
}

void api_workdays_year_get(struct api_call *call)
{
    int year;

    if (path_year(call, &year) == 0)
        reply_year(call, 200, year);
}

/* A string member of an array item: 1 copied, 0 absent, -1 wrong type (err set). */
static int item_string(json_t *item, const char *name, const char *field, char *out, size_t cap,
                       struct api_error *err)
{
    json_t *v = json_object_get(item, name);

    if (v == NULL || json_is_null(v)) {
        out[0] = '\0';
        return 0;
    }
    if (!json_is_string(v))
        return api_error_set(err, 400, "wrong_type", field, "'%s' must be a string", field);
    /* Longer text is cut to cap - 1 bytes, still too long to pass as a date or name. */
    snprintf(out, cap, "%s", json_string_value(v));
    return 1;
}

static int parse_holidays(json_t *arr, struct workcal_notice *n, struct api_error *err)
{
    static const char *const members[] = {"name", "from", "to", NULL};
    static const char *const names[] = {"name", "from", "to"};
    char field[64];

    if (arr == NULL || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return api_error_set(err, 400, "wrong_type", "holidays", "'holidays' must be an array");
    if (json_array_size(arr) > WORKCAL_MAX_HOLIDAYS)
        return api_error_set(err, 422, "invalid", "holidays", "at most %d holidays",
                             WORKCAL_MAX_HOLIDAYS);
    n->holidays = xcalloc(json_array_size(arr) + 1, sizeof(*n->holidays));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *item = json_array_get(arr, i);
        struct workcal_holiday *h = &n->holidays[n->nholidays++];
        char *targets[] = {h->name, h->from, h->to};
        size_t caps[] = {sizeof(h->name), sizeof(h->from), sizeof(h->to)};
        if (!json_is_object(item)) {
            snprintf(field, sizeof(field), "holidays[%zu]", i);
            return api_error_set(err, 400, "wrong_type", field,
                                 "'%s' must be an object {\"name\",\"from\",\"to\"}", field);
        }
        if (body_only_members(item, members, err) != 0) {
            /* Name the member by its path, as every other error here does. */
            char member[sizeof(err->field)];
            memcpy(member, err->field, sizeof(member));
            snprintf(err->field, sizeof(err->field), "holidays[%zu].%.64s", i, member);
            return -1;
        }
        for (size_t k = 0; k < 3; k++) {
            snprintf(field, sizeof(field), "holidays[%zu].%s", i, names[k]);
            if (item_string(item, names[k], field, targets[k], caps[k], err) < 0)
                return -1;
        }
    }
    return 0;
}

static int parse_workdays(json_t *arr, struct workcal_notice *n, struct api_error *err)
{
    char field[64];

    if (arr == NULL || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return api_error_set(err, 400, "wrong_type", "workdays", "'workdays' must be an array");
    if (json_array_size(arr) > WORKCAL_MAX_WORKDAYS)
        return api_error_set(err, 422, "invalid", "workdays", "at most %d make-up working days",
                             WORKCAL_MAX_WORKDAYS);
    n->workdays = xcalloc(json_array_size(arr) + 1, sizeof(*n->workdays));
    for (size_t j = 0; j < json_array_size(arr); j++) {
        json_t *v = json_array_get(arr, j);
        snprintf(field, sizeof(field), "workdays[%zu]", j);
        if (!json_is_string(v))
            return api_error_set(err, 400, "wrong_type", field,
                                 "'%s' must be a date string like \"2027-02-20\"", field);
        snprintf(n->workdays[n->nworkdays++], WORKCAL_DATE_IN, "%s", json_string_value(v));
    }
    return 0;
}

/*
 * The body of PUT /workdays/{year}: {"holidays":[{"name","from","to"}],
 * "workdays":[dates]}, optionally with "year" (so a file kept for `convene
 * calendar load` can be sent as it is), which must then be the path's.
 */
static int parse_notice(json_t *body, int year, struct workcal_notice *n, struct api_error *err)
{
    static const char *const members[] = {"year", "holidays", "workdays", NULL};
    struct workcal_error werr;
    json_t *y = json_object_get(body, "year");

    memset(n, 0, sizeof(*n));
    n->year = year;
    if (body_only_members(body, members, err) != 0)
        return -1;
    if (y != NULL && !json_is_integer(y))
        return api_error_set(err, 400, "wrong_type", "year", "'year' must be an integer");
    if (y != NULL && json_integer_value(y) != year)
        return api_error_set(err, 422, "invalid", "year",
                             "'year' (%lld) is not the year of the path (%d)",
                             (long long)json_integer_value(y), year);
    if (parse_holidays(json_object_get(body, "holidays"), n, err) != 0 ||
        parse_workdays(json_object_get(body, "workdays"), n, err) != 0)
        return -1;
    if (workcal_notice_check(n, &werr) != 0)
        return api_error_set(err, 422, werr.code, werr.field, "%s", werr.message);
    return 0;
}

void api_workdays_year_put(struct api_call *call)
{
    struct app *app = call->app;
    struct workcal_notice n;
    struct api_error err;
    json_t *body;
    int year;

    if (path_year(call, &year) != 0 || (body = api_body_object(call)) == NULL)
        return;
    if (parse_notice(body, year, &n, &err) != 0) {
        workcal_notice_free(&n);
        api_reply_api_error(call, &err);
        return;
    }
    n.updated_at = clock_wall_s();
    if (store_begin(app->store) != STORE_OK ||
        store_workcal_put(app->store, &n, call->auth.name) != STORE_OK ||
        store_commit(app->store) != STORE_OK) {
        if (store_in_transaction(app->store))
            store_rollback(app->store);
        workcal_notice_free(&n);
        api_reply_store_error(call);
        return;
    }
    workcal_notice_free(&n);
    /* In effect for the very next request: availability, approvals, /workdays, the feed. */
    app_workcal_reload_stored(app);
    log_info("working calendar: %d loaded by %s", year, call->auth.name);
    reply_year(call, 200, year);
}

/* ---------------- /feeds/holidays.ics ---------------- */

static char *render_holidays(const struct workcal *wc, size_t *len)
{
    struct strbuf out;

    strbuf_init(&out, 8 * 1024 * 1024);
    ics_line(&out, "BEGIN", "VCALENDAR");
    ics_line(&out, "VERSION", "2.0");
    ics_line(&out, "PRODID", "-//convene//convene holidays//ZH");
    ics_line(&out, "CALSCALE", "GREGORIAN");
    ics_line(&out, "METHOD", "PUBLISH");
    ics_text(&out, "NAME", "法定节假日与调休");
    ics_text(&out, "X-WR-CALNAME", "法定节假日与调休");
    ics_line(&out, "REFRESH-INTERVAL;VALUE=DURATION", "P1D");
    ics_line(&out, "X-PUBLISHED-TTL", "P1D");
    for (size_t i = 0; i < wc->ndays; i++) {
        const struct workcal_day *d = &wc->days[i];
        struct local_time lt, next;
        char start[20], end[20], uid[64], local[TIME_LOCAL_STR], summary[128];

        time_date_parse(d->date, &lt);
        next = lt;
        recur_local_add(&next, 86400);
        time_local_format(&lt, local);
        ics_local_value(local, start);
        start[8] = '\0';
        time_local_format(&next, local);
        ics_local_value(local, end);
        end[8] = '\0';
        snprintf(uid, sizeof(uid), "%s-%s@holidays.convene", start, d->off ? "off" : "work");
        snprintf(summary, sizeof(summary), "%s%s", d->name,
                 d->off ? "（休）" : "（班）");
        ics_line(&out, "BEGIN", "VEVENT");
        ics_line(&out, "UID", uid);
        ics_line(&out, "DTSTAMP", "20250101T000000Z");
        ics_line(&out, "DTSTART;VALUE=DATE", start);
        ics_line(&out, "DTEND;VALUE=DATE", end);
        ics_text(&out, "SUMMARY", summary);
        ics_line(&out, "CATEGORIES", d->off ? "HOLIDAY" : "WORKDAY");
        ics_line(&out, "TRANSP", "TRANSPARENT");
        ics_line(&out, "END", "VEVENT");
    }
    ics_line(&out, "END", "VCALENDAR");
    return strbuf_detach(&out, len);
}

/*
 * Rendered once per change of the calendar and kept in the feed cache
 * (app_workcal_reload_stored drops it), so calendar clients polling it get
 * 304s; Last-Modified is the newest change of the files or the notices.
 */
void api_holidays_feed(struct api_call *call)
{
    const struct workcal *wc = app_workcal(call->app);
    const struct feed_entry *e = feed_cache_get(call->app->feeds, "holidays", "");

    if (e == NULL) {
        size_t len;
        char *body = render_holidays(wc, &len);
        e = feed_cache_put(call->app->feeds, "holidays", "", body, len, workcal_changed_at(wc));
    }
    api_feed_reply(call, e, "public, max-age=3600");
}
