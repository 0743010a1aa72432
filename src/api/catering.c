/*
 * catering.c - GET /api/v1/catering: the canteen's order (统一订餐, CONTRACT
 * section 6). ?date=D gives {"date","meals":[...]}; ?from=&to= gives
 * {"from","to","days":[{"date","meals"}]} for every day of the range; with
 * Accept: text/csv (or ?format=csv) a spreadsheet: one line per meeting
 * and meal, then the meal's total, with one column per diet. Counts come
 * from the rows booking/catering_sync.c keeps in step with the meetings.
 */
#include "handlers.h"

#include "convene/recur.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CATERING_MAX_DAYS 92
#define CSV_MAX (16 * 1024 * 1024)

/* ?date= or ?from=&to=, as date strings; replies and returns -1 when bad. */
static int catering_range(struct api_call *call, char from[TIME_DATE_STR], char to[TIME_DATE_STR],
                          int *single)
{
    struct local_time a, b;
    char buf[16];
    int rc = api_query_param(call, "date", buf, sizeof(buf));

    if (rc < 0)
        return -1;
    *single = rc == 1;
    if (rc == 1) {
        if (time_date_parse(buf, &a) != 0) {
            api_reply_error(call, 422, "invalid", "date", "'date' must be a date like 2026-12-07");
            return -1;
        }
        b = a;
    } else if (api_date_range(call, &a, &b, CATERING_MAX_DAYS) != 0) {
        return -1;
    }
    time_date_format(&a, from);
    time_date_format(&b, to);
    return 0;
}

static int wants_csv(struct api_call *call)
{
    char format[8];
    const char *accept = call->req->accept;
    size_t len = call->req->accept_len;

    if (api_query_param(call, "format", format, sizeof(format)) == 1)
        return strcmp(format, "csv") == 0;
    for (size_t i = 0; accept != NULL && i + 8 <= len; i++)
        if (strncmp(accept + i, "text/csv", 8) == 0)
            return 1;
    return 0;
}

/* ---------------- CSV ---------------- */

/*
 * One CSV field (RFC 4180 quoting). Text a spreadsheet would run as a
 * formula (= + - @) is prefixed with ' so a meeting title cannot be one.
 */
static void csv_field(struct strbuf *out, const char *s, int text)
{
    int formula = text && s[0] != '\0' && strchr("=+-@", s[0]) != NULL;
    int quote = formula || strpbrk(s, ",\"\r\n") != NULL;

    strbuf_puts(out, formula ? "\"'" : quote ? "\"" : "");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            strbuf_puts(out, "\"\"");
        else
            strbuf_append(out, p, 1);
    }
    if (quote)
        strbuf_puts(out, "\"");
}

/* Every diet named in the range, sorted: the CSV's extra columns. */
static json_t *diet_columns(json_t *days)
{
    json_t *set = json_object(), *cols = json_array(), *day, *meal, *v;
    const char *date, *diet;
    size_t i;

    json_object_foreach(days, date, day) {
        json_array_foreach(day, i, meal) {
            json_object_foreach(json_object_get(meal, "diets"), diet, v) {
                json_object_set_new(set, diet, json_true());
            }
        }
    }
    json_object_foreach(set, diet, v) {
        json_array_append_new(cols, json_string(diet));
    }
    json_decref(set);
    return cols;
}

static void csv_line(struct strbuf *out, const char *date, const char *meal, json_t *ev,
                     json_t *count_obj, json_t *cols)
{
    json_t *c;
    size_t i;
    char num[32];

    csv_field(out, date, 0);
    strbuf_puts(out, ",");
    csv_field(out, meal, 1);
    strbuf_puts(out, ",");
    csv_field(out, ev ? json_string_value(json_object_get(ev, "event")) : "", 0);
    strbuf_puts(out, ",");
    csv_field(out, ev ? json_string_value(json_object_get(ev, "start")) : "", 0);
    strbuf_puts(out, ",");
    const char *title = ev ? json_string_value(json_object_get(ev, "title")) : "total";
    csv_field(out, title ? title : "", 1);
    snprintf(num, sizeof(num), ",%lld,%s",
             (long long)json_integer_value(json_object_get(count_obj, ev ? "count" : "total")),
             json_is_true(json_object_get(count_obj, "late")) ? "true" : "false");
    strbuf_puts(out, num);
    json_array_foreach(cols, i, c) {
        json_t *n = json_object_get(json_object_get(count_obj, "diets"), json_string_value(c));
        snprintf(num, sizeof(num), ",%lld", (long long)json_integer_value(n));
        strbuf_puts(out, num);
    }
    strbuf_puts(out, "\r\n");
}

/* One line per meeting and meal, then the meal's total with its diets. */
static void reply_csv(struct api_call *call, json_t *days, const char *from, const char *to)
{
    struct strbuf out;
    json_t *cols = diet_columns(days), *day, *meal, *ev, *c;
    const char *date;
    size_t i, k;
    char disposition[64];

    strbuf_init(&out, CSV_MAX);
    /* A BOM: spreadsheet programs otherwise read UTF-8 (meeting titles) as a legacy code page. */
    strbuf_puts(&out, "\xEF\xBB\xBF" "date,meal,event,start,title,count,late");
    json_array_foreach(cols, i, c) {
        strbuf_puts(&out, ",");
        csv_field(&out, json_string_value(c), 1);
    }
    strbuf_puts(&out, "\r\n");
    json_object_foreach(days, date, day) {
        json_array_foreach(day, i, meal) {
            const char *name = json_string_value(json_object_get(meal, "meal"));
            json_array_foreach(json_object_get(meal, "events"), k, ev) {
                csv_line(&out, date, name, ev, ev, cols);
            }
            csv_line(&out, date, name, NULL, meal, cols);
        }
    }
    json_decref(cols);
    if (out.overflow) {
        strbuf_free(&out);
        api_reply_error(call, 413, "too_large", NULL, "the spreadsheet is too large: ask fewer days");
        return;
    }
    call->res->status = 200;
    call->res->content_type = "text/csv; charset=utf-8";
    call->res->body = strbuf_detach(&out, &call->res->body_len);
    snprintf(disposition, sizeof(disposition), "attachment; filename=\"catering-%s%s%s.csv\"",
             from, strcmp(from, to) ? "_" : "", strcmp(from, to) ? to : "");
    api_add_header(call, "Content-Disposition", disposition);
}

/* ---------------- JSON ---------------- */

static json_t *range_days(json_t *days, const char *from, const char *to)
{
    json_t *out = json_array();
    struct local_time d, last;
    char date[TIME_DATE_STR];

    time_date_parse(from, &d);
    time_date_parse(to, &last);
    for (; recur_local_diff(&d, &last) >= 0; recur_local_add(&d, 86400)) {
        json_t *meals;
        time_date_format(&d, date);
        meals = json_object_get(days, date);
        json_array_append_new(out, json_pack("{s:s, s:o}", "date", date, "meals",
                                             meals ? json_incref(meals) : json_array()));
    }
    return out;
}

void api_catering_get(struct api_call *call)
{
    char from[TIME_DATE_STR], to[TIME_DATE_STR];
    json_t *days, *meals;
    int single;

    if (catering_range(call, from, to, &single) != 0)
        return;
    if (booking_catering_summary(call->app->store, from, to, 1, &days) != 0) {
        api_reply_store_error(call);
        return;
    }
    if (wants_csv(call)) {
        reply_csv(call, days, from, to);
    } else if (single) {
        meals = json_object_get(days, from);
        api_reply_json(call, 200,
                       json_pack("{s:s, s:o}", "date", from, "meals",
                                 meals ? json_incref(meals) : json_array()),
                       -1);
    } else {
        api_reply_json(call, 200,
                       json_pack("{s:s, s:s, s:o}", "from", from, "to", to, "days",
                                 range_days(days, from, to)),
                       -1);
    }
    json_decref(days);
}
