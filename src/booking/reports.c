/*
 * reports.c - the office's reports (CONTRACT section 13): meetings by kind,
 * department, leader or month; rooms' use against working hours; vehicles'
 * and drivers' trips with the drivers' hours split into working-day day and
 * night, rest days and public holidays; meals by meal, diet or department;
 * the year's figures and its summary sentence.
 *
 * Each report is one pass over the rows the store hands out (held events
 * only: status confirmed), adding up in memory; the cutting of time by the
 * working calendar is core/report.c's, on a day table built once per
 * report. An occurrence (a trip, a meal) belongs to the period when it
 * starts (departs, is served) on one of its days, and counts whole.
 */
#define _GNU_SOURCE /* qsort_r */
#include "convene/booking.h"

#include "convene/recur.h"
#include "convene/report.h"
#include "convene/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The days a report covers and the table that cuts their time. */
struct period {
    char from[TIME_DATE_STR], to[TIME_DATE_STR];
    int64_t from_utc, to_utc; /* [first midnight, midnight after the last day) */
    size_t ndays;             /* days from..to; the table runs on past them */
    struct report_days days;
};

/* One line of a report being added up: a key (kind, room id, ...) and its sums. */
struct tally {
    char *key;     /* "" stands for none (a meeting without a kind) */
    char *name;    /* display name where the key is an id */
    char *plate;
    int listed;    /* a live room, vehicle or driver: shown even when unused */
    int64_t count, seconds, working, parts[REPORT_PARTS];
};

struct tallies {
    struct tally *v;
    size_t n, cap;
    json_t *index; /* key -> position in v */
};

static void tallies_init(struct tallies *t)
{
    memset(t, 0, sizeof(*t));
    t->index = json_object();
}

static struct tally *tally_of(struct tallies *t, const char *key)
{
    json_t *at = json_object_get(t->index, key ? key : "");

    if (at != NULL)
        return &t->v[json_integer_value(at)];
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    memset(&t->v[t->n], 0, sizeof(t->v[0]));
    t->v[t->n].key = xstrdup(key ? key : "");
    json_object_set_new(t->index, key ? key : "", json_integer((json_int_t)t->n));
    return &t->v[t->n++];
}

static void tallies_free(struct tallies *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].key);
        free(t->v[i].name);
        free(t->v[i].plate);
    }
    free(t->v);
    json_decref(t->index);
    memset(t, 0, sizeof(*t));
}

static json_t *hours(int64_t seconds)
{
    return json_real(report_hours(seconds));
}

static json_t *key_json(const char *key)
{
    return key[0] ? json_string(key) : json_null();
}

/* ---------------- parameters ---------------- */

static int date_param(const char *value, const char *field, struct local_time *out,
                      struct booking_error *err)
{
    if (value == NULL)
        return booking_error_set(err, BOOKING_INVALID, "required", field,
                                 "'%s' is required: a date like 2026-12-01", field);
    if (time_date_parse(value, out) != 0)
        return booking_error_set(err, BOOKING_INVALID, "invalid", field,
                                 "'%s' must be a date like 2026-12-01", field);
    return 0;
}

/*
 * from..to as local days of --tz. At most REPORT_MAX_DAYS: a year is what
 * an office reports on, and the bound keeps a report's work (a year holds
 * some 50,000 occurrences) within what the loop may spend.
 */
static int period_open(struct app *app, const char *from, const char *to, struct period *p,
                       struct booking_error *err)
{
    struct local_time a, b, tail;
    const char *tz = app->cfg.tz;
    int64_t span;

    memset(p, 0, sizeof(*p));
    if (date_param(from, "from", &a, err) != 0 || date_param(to, "to", &b, err) != 0)
        return -1;
    span = recur_local_diff(&a, &b) / 86400;
    if (span < 0)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "to",
                                 "'to' must be on or after 'from'");
    if (span >= REPORT_MAX_DAYS)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "to",
                                 "a report covers at most %d days", REPORT_MAX_DAYS);
    tail = b;
    recur_local_add(&tail, (int64_t)REPORT_SPAN_SLACK_DAYS * 86400);
    if (report_days_build(&p->days, app_workcal(app), tz, &a, &tail) != 0)
        return booking_error_set(err, BOOKING_STORAGE, "internal", NULL,
                                 "the time zone %s is not known", tz);
    p->ndays = (size_t)span + 1;
    p->from_utc = p->days.v[0].start;
    p->to_utc = p->days.v[p->ndays].start;
    time_date_format(&a, p->from);
    time_date_format(&b, p->to);
    return 0;
}

static void period_close(struct period *p)
{
    report_days_free(&p->days);
}

static json_t *period_json(const struct period *p)
{
    return json_pack("{s:s, s:s}", "from", p->from, "to", p->to);
}

static int store_failed(struct booking_error *err)
{
    return booking_error_set(err, BOOKING_STORAGE, "internal", NULL, "the database failed");
}

/* ---------------- meetings ---------------- */

struct meetings {
    const struct period *p;
    const char *by;
    struct tallies t;
    int64_t count, seconds;
};

/* The local month ("2026-12") of an instant inside the period's table. */
static void month_of(const struct period *p, int64_t utc, char out[16])
{
    long i = report_days_find(&p->days, utc);
    const struct local_time *d = &p->days.v[i < 0 ? 0 : i].date;

    snprintf(out, 16, "%04d-%02d", d->year, d->month);
}

static int on_meeting(const struct report_row *r, void *arg)
{
    struct meetings *m = arg;
    struct tally *t;
    char month[16];

    if (r->ev->trip_only)
        return 0;
    m->count++;
    m->seconds += r->end - r->start;
    if (strcmp(m->by, "leader") == 0)
        return 0; /* from the attendance below */
    if (strcmp(m->by, "month") == 0) {
        month_of(m->p, r->start, month);
        t = tally_of(&m->t, month);
    } else {
        t = tally_of(&m->t, strcmp(m->by, "kind") == 0 ? r->ev->kind : r->ev->department);
    }
    t->count++;
    t->seconds += r->end - r->start;
    return 0;
}

static int on_attendance(const struct report_row *r, void *arg)
{
    struct meetings *m = arg;
    struct tally *t;

    if (r->ev->trip_only)
        return 0;
    t = tally_of(&m->t, r->person);
    if (t->name == NULL)
        t->name = xstrdup(r->name ? r->name : "");
    t->count++;
    t->seconds += r->end - r->start;
    return 0;
}

/* Report order: none last; months and names in order; kinds the office's way; else by count. */
static int tally_cmp(const void *a, const void *b, void *arg)
{
    const struct tally *x = *(struct tally *const *)a, *y = *(struct tally *const *)b;
    const char *sort_by = arg;

    if (!x->key[0] != !y->key[0]) /* none last */
        return x->key[0] ? -1 : 1;
    if (strcmp(sort_by, "month") == 0 || strcmp(sort_by, "name") == 0) {
        const char *kx = x->name ? x->name : x->key, *ky = y->name ? y->name : y->key;
        int c = strcmp(kx, ky);
        return c ? c : strcmp(x->key, y->key);
    }
    if (strcmp(sort_by, "kind") == 0 && report_kind_rank(x->key) != report_kind_rank(y->key))
        return report_kind_rank(x->key) < report_kind_rank(y->key) ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->name ? x->name : x->key, y->name ? y->name : y->key);
}

/* The tallies in report order (pointers into t; free the array). */
static struct tally **tallies_sorted(struct tallies *t, const char *by)
{
    struct tally **v = xcalloc(t->n ? t->n : 1, sizeof(*v));

    for (size_t i = 0; i < t->n; i++)
        v[i] = &t->v[i];
    qsort_r(v, t->n, sizeof(*v), tally_cmp, (void *)by);
    return v;
}

/* Every month of the period, so a chart shows the quiet ones too. */
static void months_listed(struct meetings *m)
{
    char month[16];

    for (size_t i = 0; i < m->p->ndays; i++) {
        month_of(m->p, m->p->days.v[i].start, month);
        tally_of(&m->t, month);
    }
}

static json_t *meetings_json(struct meetings *m)
{
    json_t *out = period_json(m->p), *rows = json_array();
    struct tally **v = tallies_sorted(&m->t, m->by);

    for (size_t i = 0; i < m->t.n; i++) {
        json_t *row = json_pack("{s:o, s:I, s:o}", "key",
                                v[i]->name ? json_string(v[i]->name) : key_json(v[i]->key),
                                "count", (json_int_t)v[i]->count, "hours", hours(v[i]->seconds));
        if (v[i]->name != NULL)
            json_object_set_new(row, "person", json_string(v[i]->key));
        json_array_append_new(rows, row);
    }
    free(v);
    json_object_set_new(out, "by", json_string(m->by));
    json_object_set_new(out, "rows", rows);
    json_object_set_new(out, "total", json_pack("{s:I, s:o}", "count", (json_int_t)m->count,
                                                "hours", hours(m->seconds)));
    return out;
}

static int one_of(const char *value, const char *const *allowed)
{
    for (size_t i = 0; allowed[i] != NULL; i++)
        if (strcmp(value, allowed[i]) == 0)
            return 1;
    return 0;
}

static int by_param(const char *by, const char *const *allowed, const char **out,
                    struct booking_error *err)
{
    *out = by ? by : allowed[0];
    if (one_of(*out, allowed))
        return 0;
    return booking_error_set(err, BOOKING_INVALID, "invalid", "by",
                             "'by' must be one of %s, %s, %s%s%s", allowed[0], allowed[1],
                             allowed[2], allowed[3] ? ", " : "", allowed[3] ? allowed[3] : "");
}

static int report_meetings(const struct booking_ctx *ctx, const struct booking_report_query *q,
                           struct period *p, json_t **out, struct booking_error *err)
{
    static const char *const bys[] = {"kind", "department", "leader", "month", NULL};
    struct store *st = ctx->app->store;
    struct meetings m = {p, NULL, {0}, 0, 0};
    int rc = 0;

    if (by_param(q->by, bys, &m.by, err) != 0)
        return -1;
    tallies_init(&m.t);
    if (strcmp(m.by, "month") == 0)
        months_listed(&m);
    if (store_report_occurrences(st, p->from_utc, p->to_utc, on_meeting, &m) != STORE_OK ||
        (strcmp(m.by, "leader") == 0 &&
         store_report_attendance(st, p->from_utc, p->to_utc, on_attendance, &m) != STORE_OK))
        rc = store_failed(err);
    else
        *out = meetings_json(&m);
    tallies_free(&m.t);
    return rc;
}

/* ---------------- rooms, vehicles, drivers ---------------- */

struct resources {
    const struct period *p;
    struct tallies t, drivers;
};

static int on_room_use(const struct report_row *r, void *arg)
{
    struct resources *x = arg;
    struct tally *t;

    if (r->ev->trip_only || r->ev->room == NULL)
        return 0;
    t = tally_of(&x->t, r->ev->room);
    t->count++;
    t->seconds += r->end - r->start;
    t->working += report_working_seconds(&x->p->days, r->start, r->end);
    return 0;
}

static int on_trip(const struct report_row *r, void *arg)
{
    struct resources *x = arg;
    struct tally *t;

    if (r->vehicle != NULL) {
        t = tally_of(&x->t, r->vehicle);
        t->count++;
        t->seconds += r->end - r->start;
    }
    if (r->driver != NULL) {
        t = tally_of(&x->drivers, r->driver);
        t->count++;
        t->seconds += r->end - r->start;
        report_split_driver(&x->p->days, r->start, r->end, t->parts);
    }
    return 0;
}

/* Names what was used; lists what is live and unused too (rooms, vehicles). */
static int on_name(const char *id, const char *name, const char *plate, int live, void *arg)
{
    struct tallies *t = arg;
    int used = json_object_get(t->index, id) != NULL;
    struct tally *row;

    if (!used && !live)
        return 0;
    row = tally_of(t, id);
    row->listed = 1;
    free(row->name);
    row->name = xstrdup(name ? name : "");
    free(row->plate);
    row->plate = plate ? xstrdup(plate) : NULL;
    return 0;
}

/* People: names the drivers who drove, and lists every live driver (role driver). */
static int on_person(const char *id, const char *name, const char *role, int live, void *arg)
{
    struct tallies *t = arg;

    if (json_object_get(t->index, id) == NULL && !(live && role && strcmp(role, "driver") == 0))
        return 0;
    return on_name(id, name, NULL, 1, arg);
}

static json_t *rooms_json(struct resources *x)
{
    json_t *out = period_json(x->p), *rows = json_array();
    int64_t available = report_available_seconds(&x->p->days, 0, x->p->ndays - 1);
    struct tally **v = tallies_sorted(&x->t, "name");

    for (size_t i = 0; i < x->t.n; i++) {
        double use = available > 0 ? round((double)v[i]->working / (double)available * 10000.0) /
                                         10000.0
                                   : 0.0;
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:f}", "room", v[i]->key, "name",
                            v[i]->name ? v[i]->name : "", "bookings", (json_int_t)v[i]->count,
                            "hours", hours(v[i]->seconds), "working_hours",
                            hours(v[i]->working), "available_hours", hours(available),
                            "utilisation", use));
    }
    free(v);
    json_object_set_new(out, "available_hours", hours(available));
    json_object_set_new(out, "rows", rows);
    return out;
}

static int report_rooms(const struct booking_ctx *ctx, struct period *p, json_t **out,
                        struct booking_error *err)
{
    struct store *st = ctx->app->store;
    struct resources x = {p, {0}, {0}};
    int rc = 0;

    tallies_init(&x.t);
    if (store_report_occurrences(st, p->from_utc, p->to_utc, on_room_use, &x) != STORE_OK ||
        store_report_names(st, "room", on_name, &x.t) != STORE_OK)
        rc = store_failed(err);
    else
        *out = rooms_json(&x);
    tallies_free(&x.t);
    return rc;
}

static json_t *vehicles_json(struct resources *x)
{
    json_t *out = period_json(x->p), *rows = json_array();
    struct tally **v = tallies_sorted(&x->t, "name");
    int64_t trips = 0, seconds = 0;

    for (size_t i = 0; i < x->t.n; i++) {
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:o, s:I, s:o}", "vehicle", v[i]->key, "name",
                            v[i]->name ? v[i]->name : "", "plate",
                            v[i]->plate ? json_string(v[i]->plate) : json_null(), "trips",
                            (json_int_t)v[i]->count, "hours", hours(v[i]->seconds)));
        trips += v[i]->count;
        seconds += v[i]->seconds;
    }
    free(v);
    json_object_set_new(out, "rows", rows);
    json_object_set_new(out, "total", json_pack("{s:I, s:o}", "trips", (json_int_t)trips, "hours",
                                                hours(seconds)));
    return out;
}

static json_t *drivers_json(struct resources *x)
{
    json_t *out = period_json(x->p), *rows = json_array();
    struct tally **v = tallies_sorted(&x->drivers, "name");

    for (size_t i = 0; i < x->drivers.n; i++) {
        const int64_t *h = v[i]->parts;
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "driver", v[i]->key,
                            "name", v[i]->name ? v[i]->name : "", "trips",
                            (json_int_t)v[i]->count, "hours", hours(v[i]->seconds),
                            "workday_day", hours(h[REPORT_WORKDAY_DAY]), "workday_night",
                            hours(h[REPORT_WORKDAY_NIGHT]), "rest_day",
                            hours(h[REPORT_PART_REST_DAY]), "holiday",
                            hours(h[REPORT_PART_HOLIDAY])));
    }
    free(v);
    json_object_set_new(out, "rows", rows);
    return out;
}

static int report_trips(const struct booking_ctx *ctx, const struct booking_report_query *q,
                        struct period *p, json_t **out, struct booking_error *err)
{
    struct store *st = ctx->app->store;
    struct resources x = {p, {0}, {0}};
    int drivers = strcmp(q->name, "drivers") == 0, rc = 0;
    struct local_time before, after;
    char day_from[TIME_DATE_STR], day_to[TIME_DATE_STR];

    /* trip_occurrences.day is the trip's own zone's day: a day wider on each side finds them all. */
    time_date_parse(p->from, &before);
    time_date_parse(p->to, &after);
    recur_local_add(&before, -86400);
    recur_local_add(&after, 86400);
    time_date_format(&before, day_from);
    time_date_format(&after, day_to);
    tallies_init(&x.t);
    tallies_init(&x.drivers);
    if (store_report_trips(st, day_from, day_to, p->from_utc, p->to_utc, on_trip, &x) != STORE_OK ||
        (drivers ? store_report_names(st, "person", on_person, &x.drivers)
                 : store_report_names(st, "vehicle", on_name, &x.t)) != STORE_OK)
        rc = store_failed(err);
    else
        *out = drivers ? drivers_json(&x) : vehicles_json(&x);
    tallies_free(&x.t);
    tallies_free(&x.drivers);
    return rc;
}

/* ---------------- meals ---------------- */

struct meals {
    const struct period *p;
    const char *by;
    struct tallies t;
    int64_t total;
};

/* Adds a meal's heads by diet: its special diets, the rest "regular". */
static void meal_diets(struct meals *m, const struct report_row *r)
{
    json_t *diets = NULL, *n;
    const char *diet;
    int64_t special = 0;

    if (r->diets != NULL && strcmp(r->diets, "{}") != 0)
        diets = json_loads(r->diets, 0, NULL);
    json_object_foreach(diets, diet, n) {
        int64_t heads = json_integer_value(n);
        if (heads <= 0)
            continue;
        tally_of(&m->t, diet)->count += heads;
        special += heads;
    }
    json_decref(diets);
    if (r->count > special)
        tally_of(&m->t, "regular")->count += r->count - special;
}

static int on_meal(const struct report_row *r, void *arg)
{
    struct meals *m = arg;

    m->total += r->count;
    if (strcmp(m->by, "diet") == 0)
        meal_diets(m, r);
    else
        tally_of(&m->t, strcmp(m->by, "meal") == 0 ? r->meal : r->ev->department)->count +=
            r->count;
    return 0;
}

/* Meals in the order of the day; other keys by count. */
static int meal_rank(const char *meal)
{
    static const char *const order[] = {"breakfast", "lunch", "dinner", NULL};

    for (int i = 0; order[i] != NULL; i++)
        if (strcmp(meal, order[i]) == 0)
            return i;
    return 10;
}

static int meal_cmp(const void *a, const void *b, void *arg)
{
    const struct tally *x = *(struct tally *const *)a, *y = *(struct tally *const *)b;
    int rx = meal_rank(x->key), ry = meal_rank(y->key);

    return rx != ry ? (rx < ry ? -1 : 1) : tally_cmp(a, b, arg);
}

static json_t *meals_json(struct meals *m)
{
    json_t *out = period_json(m->p), *rows = json_array();
    struct tally **v = tallies_sorted(&m->t, m->by);

    if (strcmp(m->by, "meal") == 0)
        qsort_r(v, m->t.n, sizeof(*v), meal_cmp, (void *)"meal");
    for (size_t i = 0; i < m->t.n; i++)
        json_array_append_new(rows, json_pack("{s:o, s:I}", "key", key_json(v[i]->key), "count",
                                              (json_int_t)v[i]->count));
    free(v);
    json_object_set_new(out, "by", json_string(m->by));
    json_object_set_new(out, "rows", rows);
    json_object_set_new(out, "total", json_integer((json_int_t)m->total));
    return out;
}

static int report_meals(const struct booking_ctx *ctx, const struct booking_report_query *q,
                        struct period *p, json_t **out, struct booking_error *err)
{
    static const char *const bys[] = {"meal", "diet", "department", NULL};
    struct meals m = {p, NULL, {0}, 0};
    int rc = 0;

    if (by_param(q->by, bys, &m.by, err) != 0)
        return -1;
    tallies_init(&m.t);
    if (store_report_meals(ctx->app->store, p->from, p->to, on_meal, &m) != STORE_OK)
        rc = store_failed(err);
    else
        *out = meals_json(&m);
    tallies_free(&m.t);
    return rc;
}

/* ---------------- the year ---------------- */

#define OTHER_KIND "其他会议" /* the year's key for meetings without a kind */

struct year {
    struct tallies kinds;
    int64_t trips, meals;
};

static int on_year_meeting(const struct report_row *r, void *arg)
{
    struct year *y = arg;

    if (!r->ev->trip_only)
        tally_of(&y->kinds, r->ev->kind)->count++;
    return 0;
}

static int on_year_trip(const struct report_row *r, void *arg)
{
    ((struct year *)arg)->trips++;
    (void)r;
    return 0;
}

static int on_year_meal(const struct report_row *r, void *arg)
{
    ((struct year *)arg)->meals += r->count;
    return 0;
}

static json_t *year_json(int year, struct year *y, int64_t approved, int64_t rejected,
                         int64_t expired)
{
    json_t *kinds = json_object(), *out;
    struct report_kind_count *counts = xcalloc(y->kinds.n ? y->kinds.n : 1, sizeof(*counts));
    struct tally **v = tallies_sorted(&y->kinds, "kind");
    struct report_year_facts f = {year, counts, y->kinds.n, (long)y->trips, (long)y->meals,
                                  (long)approved, (long)rejected, (long)expired};
    char *text;

    for (size_t i = 0; i < y->kinds.n; i++) {
        counts[i].kind = v[i]->key[0] ? v[i]->key : NULL;
        counts[i].count = (long)v[i]->count;
        json_object_set_new(kinds, v[i]->key[0] ? v[i]->key : OTHER_KIND,
                            json_integer((json_int_t)v[i]->count));
    }
    text = report_year_text(&f);
    free(v);
    free(counts);
    out = json_pack("{s:i, s:o, s:I, s:I, s:{s:I, s:I, s:I}, s:s}", "year", year, "meetings",
                    kinds, "trips", (json_int_t)y->trips, "meals", (json_int_t)y->meals,
                    "approvals", "approved", (json_int_t)approved, "rejected",
                    (json_int_t)rejected, "expired", (json_int_t)expired, "text", text);
    free(text);
    return out;
}

static int report_year(const struct booking_ctx *ctx, const struct booking_report_query *q,
                       json_t **out, struct booking_error *err)
{
    struct store *st = ctx->app->store;
    struct year y = {{0}, 0, 0};
    struct period p;
    int64_t year, approved, rejected, expired;
    char from[24], to[24], day_from[24], day_to[24];
    int rc = 0;

    if (q->year == NULL)
        return booking_error_set(err, BOOKING_INVALID, "required", "year",
                                 "'year' is required, e.g. 2026");
    if (strlen(q->year) != 4 || parse_int64(q->year, WORKCAL_YEAR_MIN, WORKCAL_YEAR_MAX, &year) != 0)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "year",
                                 "'year' must be a year from %d to %d", WORKCAL_YEAR_MIN,
                                 WORKCAL_YEAR_MAX);
    snprintf(from, sizeof(from), "%04d-01-01", (int)year);
    snprintf(to, sizeof(to), "%04d-12-31", (int)year);
    snprintf(day_from, sizeof(day_from), "%04d-12-31", (int)year - 1);
    snprintf(day_to, sizeof(day_to), "%04d-01-01", (int)year + 1);
    if (period_open(ctx->app, from, to, &p, err) != 0)
        return -1;
    tallies_init(&y.kinds);
    if (store_report_occurrences(st, p.from_utc, p.to_utc, on_year_meeting, &y) != STORE_OK ||
        store_report_trips(st, day_from, day_to, p.from_utc, p.to_utc, on_year_trip, &y) !=
            STORE_OK ||
        store_report_meals(st, from, to, on_year_meal, &y) != STORE_OK ||
        store_report_approvals(st, p.from_utc, p.to_utc, &approved, &rejected, &expired) !=
            STORE_OK)
        rc = store_failed(err);
    else
        *out = year_json((int)year, &y, approved, rejected, expired);
    tallies_free(&y.kinds);
    period_close(&p);
    return rc;
}

/* ---------------- the entry ---------------- */

int booking_report(const struct booking_ctx *ctx, const struct booking_report_query *q,
                   json_t **out, struct booking_error *err)
{
    struct period p;
    int rc;

    *out = NULL;
    if (strcmp(q->name, "year") == 0)
        return report_year(ctx, q, out, err);
    if (!one_of(q->name, (const char *const[]){"meetings", "rooms", "vehicles", "drivers",
                                                "meals", NULL}))
        return booking_error_set(err, BOOKING_NOT_FOUND, "not_found", NULL,
                                 "no report named %s", q->name);
    if (period_open(ctx->app, q->from, q->to, &p, err) != 0)
        return -1;
    if (strcmp(q->name, "meetings") == 0)
        rc = report_meetings(ctx, q, &p, out, err);
    else if (strcmp(q->name, "rooms") == 0)
        rc = report_rooms(ctx, &p, out, err);
    else if (strcmp(q->name, "meals") == 0)
        rc = report_meals(ctx, q, &p, out, err);
    else
        rc = report_trips(ctx, q, &p, out, err);
    period_close(&p);
    return rc;
}
