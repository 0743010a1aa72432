/*
 * workdays.c - the working calendar over HTTP: GET /api/v1/workdays
 * (day by day) and the public /feeds/holidays.ics (holidays and make-up
 * working days as all-day events).
 */
#include "handlers.h"

#include "convene/ics.h"
#include "convene/recur.h"
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
    const struct workcal *wc = &call->app->workcal;
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
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:b, s:s?, s:b, s:o}", "date", date, "weekday",
                             weekdays[workcal_weekday(&d)], "working", working, "holiday",
                             special ? name : NULL, "makeup", special && working, "hours",
                             hours));
    }
    api_reply_json(call, 200, items, -1);
}

void api_holidays_feed(struct api_call *call)
{
    const struct workcal *wc = &call->app->workcal;
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
    api_reply_empty(call, 200);
    call->res->content_type = "text/calendar; charset=utf-8";
    api_add_header(call, "cache-control", "public, max-age=3600");
    call->res->body = strbuf_detach(&out, &call->res->body_len);
}
