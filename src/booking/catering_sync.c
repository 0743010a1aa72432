/*
 * catering_sync.c - meal counts that follow the meetings. After every
 * booking, an event's rows (one per occurrence x meal, on the day the meal
 * is served: core/meals.c) are compared with the stored ones; the
 * differences are written, flagged late when made after the meal's
 * cutoff, and each day whose totals moved gets catering.updated with its
 * new totals and this event's delta. Totals are read before and after the
 * change inside the booking's transaction, so a message always describes
 * a state the database really had.
 */
#include "catering_sync.h"

#include "convene/meals.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIET_NONE "regular" /* attendees without a diet, guests, and the rest of fixed counts */

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static int64_t num(json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

/* ---------------- the day summary ---------------- */

struct summary {
    json_t *days; /* date -> {meal -> entry} */
    int with_events;
};

static void diets_add(json_t *into, json_t *diets)
{
    const char *k;
    json_t *v;

    json_object_foreach(diets, k, v) {
        json_object_set_new(into, k, json_integer(num(into, k) + json_integer_value(v)));
    }
}

static int summary_row(const struct catering_row *c, void *arg)
{
    struct summary *s = arg;
    json_t *day = json_object_get(s->days, c->day), *entry, *diets;

    if (day == NULL) {
        day = json_object();
        json_object_set_new(s->days, c->day, day);
    }
    if ((entry = json_object_get(day, c->meal)) == NULL) {
        entry = json_pack("{s:s, s:I, s:b, s:{}}", "meal", c->meal, "total", (json_int_t)0,
                          "late", 0, "diets");
        if (s->with_events)
            json_object_set_new(entry, "events", json_array());
        json_object_set_new(day, c->meal, entry);
    }
    json_object_set_new(entry, "total", json_integer(num(entry, "total") + c->count));
    if (c->late)
        json_object_set_new(entry, "late", json_true());
    if ((diets = json_loads(c->diets ? c->diets : "{}", 0, NULL)) != NULL)
        diets_add(json_object_get(entry, "diets"), diets);
    if (s->with_events)
        json_array_append_new(
            json_object_get(entry, "events"),
            json_pack("{s:s, s:s, s:s, s:o, s:I, s:b, s:o}", "event", c->event_id,
                      "recurrence_id", c->recurrence_id, "start", c->start, "title",
                      c->confidential ? json_null() : json_string(c->title ? c->title : ""),
                      "count", (json_int_t)c->count, "late", c->late, "diets",
                      diets ? json_incref(diets) : json_object()));
    json_decref(diets);
    return 0;
}

static int by_meal(const void *a, const void *b)
{
    return meals_compare(str(*(json_t *const *)a, "meal"), str(*(json_t *const *)b, "meal"));
}

/* {meal -> entry} as an array in serving order. */
static json_t *meals_in_order(json_t *day)
{
    size_t n = json_object_size(day), k = 0;
    json_t **v = xcalloc(n ? n : 1, sizeof(*v)), *entry, *out = json_array();
    const char *key;

    json_object_foreach(day, key, entry) {
        v[k++] = entry;
    }
    qsort(v, n, sizeof(*v), by_meal);
    for (k = 0; k < n; k++)
        json_array_append(out, v[k]);
    free(v);
    return out;
}

int booking_catering_summary(struct store *st, const char *from, const char *to, int with_events,
                     json_t **out)
{
    struct summary s = {json_object(), with_events};
    const char *date;
    json_t *day;

    *out = NULL;
    if (store_catering_of_days(st, from, to, summary_row, &s) != STORE_OK) {
        json_decref(s.days);
        return -1;
    }
    *out = json_object();
    json_object_foreach(s.days, date, day) {
        json_object_set_new(*out, date, meals_in_order(day));
    }
    json_decref(s.days);
    return 0;
}

/* ---------------- the event's rows ---------------- */

static void row_key(char *out, size_t cap, const char *day, const char *meal, const char *rid)
{
    snprintf(out, cap, "%s|%s|%s", day, meal, rid);
}

static int collect_row(const struct catering_row *c, void *arg)
{
    char key[128];
    json_t *diets = json_loads(c->diets ? c->diets : "{}", 0, NULL);

    row_key(key, sizeof(key), c->day, c->meal, c->recurrence_id);
    json_object_set_new(arg, key,
                        json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:b, s:s, s:b}", "day", c->day,
                                  "meal", c->meal, "recurrence_id", c->recurrence_id, "start",
                                  c->start, "count", (json_int_t)c->count, "diets",
                                  diets ? diets : json_object(), "late", c->late, "title",
                                  c->title ? c->title : "", "confidential", c->confidential));
    return 0;
}

/*
 * Each attendee's diet, once per change: a string, or null for none; as
 * the plan's resolve read it in this transaction, else looked up.
 */
static json_t *attendee_diet_list(struct app *app, const struct event_plan *p)
{
    json_t *out = json_array();
    struct record rec;
    int idx = record_field_index(&record_person, "diet");

    for (size_t a = 0; a < p->nattendees; a++) {
        const struct plan_attendee *at = &p->attendees[a];
        if (at->diet_known) {
            json_array_append_new(out, at->has_diet ? json_string(at->diet) : json_null());
            continue;
        }
        record_init(&rec, &record_person);
        if (store_record_get(app->store, &record_person, p->attendees[a].person, &rec) ==
                STORE_OK &&
            rec.values[idx].set && rec.values[idx].s != NULL)
            json_array_append_new(out, json_string(rec.values[idx].s));
        else
            json_array_append_new(out, json_null());
        record_clear(&rec, &record_person);
    }
    return out;
}

/* Heads per special diet among the attendees of occurrence o (those who have not declined it). */
static json_t *attendee_diets(const struct event_plan *p, const struct occurrence *o,
                              json_t *diet_list, int64_t *attending)
{
    json_t *diets = json_object();

    *attending = 0;
    for (size_t a = 0; a < p->nattendees; a++) {
        const char *diet = json_string_value(json_array_get(diet_list, a));
        if (!event_plan_attends(p, o, a))
            continue;
        (*attending)++;
        if (diet != NULL)
            json_object_set_new(diets, diet, json_integer(num(diets, diet) + 1));
    }
    return diets;
}

/*
 * A meal's breakdown: the attendees' special diets and then the guests'
 * (meals[].diets), as far as the count reaches for a fixed count, the rest
 * regular.
 */
static json_t *breakdown(json_t *special, json_t *guests, int64_t count)
{
    json_t *out = json_object(), *v, *lists[2] = {special, guests};
    const char *diet;
    int64_t left = count;

    for (int l = 0; l < 2; l++) {
        json_object_foreach(lists[l], diet, v) {
            int64_t n = json_integer_value(v) < left ? json_integer_value(v) : left;
            if (n > 0 && strcmp(diet, DIET_NONE) != 0) {
                json_object_set_new(out, diet, json_integer(num(out, diet) + n));
                left -= n;
            }
        }
    }
    if (left > 0)
        json_object_set_new(out, DIET_NONE, json_integer(left + num(out, DIET_NONE)));
    return out;
}

/* The row of one meal of one occurrence. */
static json_t *meal_row(const struct event_plan *p, const struct occurrence *o, json_t *meal,
                        json_t *special, int64_t attending)
{
    json_t *fixed = json_object_get(meal, "count");
    int64_t count =
        meals_count(attending, p->guests, json_is_integer(fixed) ? json_integer_value(fixed) : -1);
    struct local_time s, e, day;
    char date[TIME_DATE_STR];

    if (time_local_parse(o->start, &s) != 0 || time_local_parse(o->end, &e) != 0)
        return NULL;
    meals_day(&s, &e, str(meal, "meal"), &day);
    time_date_format(&day, date);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:b, s:s, s:b}", "day", date, "meal",
                     str(meal, "meal"), "recurrence_id", o->recurrence_id, "start", o->start,
                     "count", (json_int_t)count, "diets",
                     breakdown(special, json_object_get(meal, "diets"), count), "late", 0, "title",
                     p->title, "confidential", p->confidential);
}

/*
 * The rows the event should have: {key -> row}. A cancelled event has none.
 * Occurrences nobody answered for alone share the series' head count.
 */
static json_t *wanted_rows(struct app *app, const struct event_row *row, json_t *doc,
                           const struct event_plan *p)
{
    json_t *rows = json_object(), *meal, *diet_list, *series = NULL;
    int64_t series_attending = 0;
    size_t m;

    /* Only a confirmed meeting eats: a pending one is not counted until approved. */
    if (row->status != EVENT_CONFIRMED || json_array_size(json_object_get(doc, "meals")) == 0)
        return rows;
    diet_list = attendee_diet_list(app, p);
    for (size_t o = 0; o < p->nocc; o++) {
        int own = event_plan_has_answers(p, &p->occ[o]);
        int64_t attending = series_attending;
        json_t *special;
        if (own || series == NULL) {
            special = attendee_diets(p, &p->occ[o], diet_list, &attending);
            if (!own) {
                series = special;
                series_attending = attending;
            }
        } else {
            special = series;
        }
        json_array_foreach(json_object_get(doc, "meals"), m, meal) {
            json_t *r = meal_row(p, &p->occ[o], meal, special, attending);
            char key[128];
            if (r == NULL)
                continue;
            row_key(key, sizeof(key), str(r, "day"), str(meal, "meal"), p->occ[o].recurrence_id);
            json_object_set_new(rows, key, r);
        }
        if (special != series)
            json_decref(special);
    }
    json_decref(series);
    json_decref(diet_list);
    return rows;
}

/* ---------------- comparing, writing, telling ---------------- */

struct change_set {
    struct app *app;
    const struct event_row *row;
    const char *tz;
    int64_t now;
    json_t *writes;  /* [{row, delete}] to apply */
    json_t *changes; /* day -> [{event, recurrence_id, meal, old, new, delta, late}] */
    int quiet;       /* derive the rows only: no late flags, no messages (an upgrade) */
    const char *floor; /* rows of days before it are left as they are; NULL: none */
    json_t *audit;   /* NULL, or [{day, meal, recurrence_id, old{count, diets}, new{...}}] */
    json_t *have;    /* the event's stored rows by row_key, borrowed */
};

/* Whether now is past the cutoff of meal on day (in the event's zone). */
static int past_cutoff(struct change_set *cs, const char *day, const char *meal)
{
    struct local_time d, cut;
    int64_t utc;

    if (cs->quiet || time_date_parse(day, &d) != 0 ||
        meals_cutoff(&cs->app->cfg, meal, &d, &cut) != 0)
        return 0;
    time_local_to_utc(&cut, cs->tz, &utc);
    return cs->now > utc;
}

/*
 * Notes a changed row for catering.updated (and the audit trail when
 * asked): r names it, old/new are the counts, the diets borrowed (NULL:
 * none).
 */
static void note_change(struct change_set *cs, json_t *r, int64_t old, json_t *old_diets,
                        int64_t new_, json_t *new_diets, int late)
{
    json_t *list = json_object_get(cs->changes, str(r, "day"));
    json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:b}", "event", cs->row->id,
                          "recurrence_id", str(r, "recurrence_id"), "meal", str(r, "meal"), "old",
                          (json_int_t)old, "new", (json_int_t)new_, "delta",
                          (json_int_t)(new_ - old), "late", late);

    if (!json_is_true(json_object_get(r, "confidential")))
        json_object_set(c, "title", json_object_get(r, "title"));
    if (list == NULL) {
        list = json_array();
        json_object_set_new(cs->changes, str(r, "day"), list);
    }
    json_array_append_new(list, c);
    if (cs->audit != NULL)
        json_array_append_new(
            cs->audit,
            json_pack("{s:s, s:s, s:s, s:{s:I, s:O*}, s:{s:I, s:O*}}", "day", str(r, "day"),
                      "meal", str(r, "meal"), "recurrence_id", str(r, "recurrence_id"), "old",
                      "count", (json_int_t)old, "diets", old_diets, "new", "count",
                      (json_int_t)new_, "diets", new_diets));
}

static void plan_write(struct change_set *cs, json_t *r, int del)
{
    json_array_append_new(cs->writes, json_pack("{s:O, s:b}", "row", r, "delete", del));
}

/* A row the event should have, against the stored one (or NULL). */
static void compare_wanted(struct change_set *cs, json_t *want, json_t *have)
{
    int64_t old = have ? num(have, "count") : 0;

    if (have != NULL && old == num(want, "count") &&
        json_equal(json_object_get(have, "diets"), json_object_get(want, "diets"))) {
        /* The same heads: keep the flag; rewrite only what is shown (title, start). */
        json_object_set(want, "late", json_object_get(have, "late"));
        if (!json_equal(have, want))
            plan_write(cs, want, 0);
        return;
    }
    int late = past_cutoff(cs, str(want, "day"), str(want, "meal"));
    if (late || (have && json_is_true(json_object_get(have, "late"))))
        json_object_set_new(want, "late", json_true());
    plan_write(cs, want, 0);
    note_change(cs, want, old, have ? json_object_get(have, "diets") : NULL, num(want, "count"),
                json_object_get(want, "diets"), late);
}

/* A stored row the event no longer has: gone, or kept at 0 to show it went late. */
static void compare_gone(struct change_set *cs, json_t *have)
{
    int late;

    if (num(have, "count") == 0)
        return; /* already a late-change marker */
    late = past_cutoff(cs, str(have, "day"), str(have, "meal"));
    if (late || json_is_true(json_object_get(have, "late"))) {
        json_t *marker = json_deep_copy(have);
        json_object_set_new(marker, "count", json_integer(0));
        json_object_set_new(marker, "diets", json_object());
        json_object_set_new(marker, "late", json_true());
        plan_write(cs, marker, 0);
        json_decref(marker);
    } else {
        plan_write(cs, have, 1);
    }
    note_change(cs, have, num(have, "count"), json_object_get(have, "diets"), 0, NULL, late);
}

static int apply_writes(struct change_set *cs)
{
    struct store *st = cs->app->store;
    json_t *w;
    size_t k;

    json_array_foreach(cs->writes, k, w) {
        json_t *r = json_object_get(w, "row");
        int rc;
        if (json_is_true(json_object_get(w, "delete"))) {
            rc = store_catering_delete(st, str(r, "day"), str(r, "meal"), cs->row->id,
                                       str(r, "recurrence_id"));
        } else {
            struct catering_row c;
            char *diets = json_dumps(json_object_get(r, "diets"), JSON_COMPACT | JSON_SORT_KEYS);
            memset(&c, 0, sizeof(c));
            snprintf(c.day, sizeof(c.day), "%s", str(r, "day"));
            snprintf(c.meal, sizeof(c.meal), "%s", str(r, "meal"));
            snprintf(c.event_id, sizeof(c.event_id), "%s", cs->row->id);
            snprintf(c.recurrence_id, sizeof(c.recurrence_id), "%s", str(r, "recurrence_id"));
            snprintf(c.start, sizeof(c.start), "%s", str(r, "start"));
            c.count = num(r, "count");
            c.diets = diets;
            c.late = json_is_true(json_object_get(r, "late"));
            c.title = str(r, "title");
            c.confidential = json_is_true(json_object_get(r, "confidential"));
            rc = store_catering_put(st, &c);
            free(diets);
        }
        if (rc != STORE_OK)
            return -1;
    }
    return 0;
}

/* What day_totals collects: the entries by meal, and (when asked) the rows each summed. */
struct totals {
    json_t *meals; /* meal -> {meal, total, late, diets} */
    json_t *rows;  /* meal -> rows, or NULL */
};

static int total_row(const char *meal, int64_t total, int late, const char *diets, int64_t rows,
                     void *arg)
{
    struct totals *t = arg;
    json_t *parsed = json_loads(diets, 0, NULL);

    json_object_set_new(t->meals, meal,
                        json_pack("{s:s, s:I, s:b, s:o}", "meal", meal, "total", (json_int_t)total,
                                  "late", late, "diets", parsed ? parsed : json_object()));
    if (t->rows != NULL)
        json_object_set_new(t->rows, meal, json_integer(rows));
    return 0;
}

/*
 * The day's totals without the per-event lists: what catering.updated
 * compares and sends; the same entries as booking_catering_summary's, summed by
 * the database. rows (may be NULL) gets meal -> rows summed.
 */
static json_t *day_totals_sql(struct change_set *cs, const char *day, json_t *rows)
{
    struct totals t = {json_object(), rows};
    json_t *ordered;

    if (store_catering_day_totals(cs->app->store, day, total_row, &t) != STORE_OK) {
        json_decref(t.meals);
        return NULL;
    }
    ordered = meals_in_order(t.meals);
    json_decref(t.meals);
    return ordered;
}

/* ---------------- the day's totals after the writes, without reading them again ---------------- */

/*
 * One meal while the writes are applied to its totals: {entry, rows,
 * late_gone, late_new}. A late row removed makes the flag unknown unless a
 * late row is written too: the others' flags are not known here.
 */
static json_t *meal_sum(json_t *sums, const char *meal)
{
    json_t *s = json_object_get(sums, meal);

    if (s == NULL) {
        s = json_pack("{s:{s:s, s:I, s:b, s:{}}, s:I, s:b, s:b}", "entry", "meal", meal, "total",
                      (json_int_t)0, "late", 0, "diets", "rows", (json_int_t)0, "late_gone", 0,
                      "late_new", 0);
        json_object_set_new(sums, meal, s);
    }
    return s;
}

/* Adds (sign 1) or takes away (sign -1) a catering row; -1 when a diet is not a whole number. */
static int sum_row(json_t *sums, json_t *r, int sign)
{
    json_t *s = meal_sum(sums, str(r, "meal")), *entry = json_object_get(s, "entry");
    json_t *diets = json_object_get(entry, "diets"), *v;
    const char *k;

    json_object_set_new(entry, "total", json_integer(num(entry, "total") + sign * num(r, "count")));
    json_object_set_new(s, "rows", json_integer(num(s, "rows") + sign));
    if (json_is_true(json_object_get(r, "late")))
        json_object_set_new(s, sign < 0 ? "late_gone" : "late_new", json_true());
    json_object_foreach(json_object_get(r, "diets"), k, v) {
        if (!json_is_integer(v))
            return -1;
        json_object_set_new(diets, k, json_integer(num(diets, k) + sign * json_integer_value(v)));
    }
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The diets as the database orders them (by key, in byte order: strcmp on
 * UTF-8), or NULL when a sum is not positive: a diet at 0 may still be a
 * key of another row (json_each would list it), so that is left to SQL.
 */
static json_t *diets_in_order(json_t *diets)
{
    size_t n = json_object_size(diets), k = 0;
    const char **keys = xcalloc(n ? n : 1, sizeof(*keys)), *key;
    json_t *v, *out = json_object();

    json_object_foreach(diets, key, v) {
        keys[k++] = key;
    }
    qsort(keys, n, sizeof(*keys), by_key);
    for (k = 0; k < n && out != NULL; k++) {
        json_int_t heads = json_integer_value(json_object_get(diets, keys[k]));
        if (heads > 0) {
            json_object_set_new(out, keys[k], json_integer(heads));
        } else {
            json_decref(out);
            out = NULL;
        }
    }
    free(keys);
    return out;
}

/* The entry of one meal after the writes; NULL: dropped (no rows left) or not known (*unknown). */
static json_t *meal_after(json_t *s, int *unknown)
{
    json_t *entry = json_object_get(s, "entry"), *diets;
    int late = json_is_true(json_object_get(entry, "late"));

    if (num(s, "rows") == 0)
        return NULL;
    if (num(s, "rows") < 0 || (json_is_true(json_object_get(s, "late_gone")) &&
                               !json_is_true(json_object_get(s, "late_new")))) {
        *unknown = 1;
        return NULL;
    }
    if ((diets = diets_in_order(json_object_get(entry, "diets"))) == NULL) {
        *unknown = 1;
        return NULL;
    }
    return json_pack("{s:s, s:I, s:b, s:o}", "meal", str(entry, "meal"), "total",
                     (json_int_t)num(entry, "total"), "late",
                     late || json_is_true(json_object_get(s, "late_new")), "diets", diets);
}

/*
 * The day's totals after the writes, derived from those before (with the
 * rows each meal summed) and the rows written over or removed (cs->have),
 * as the database would sum them; NULL when that cannot be known exactly
 * here (then day_totals asks the database). Reading the day again was
 * half of a booking's meal counting (docs/PERFORMANCE.md).
 */
static json_t *day_totals_after(struct change_set *cs, const char *day, json_t *before,
                                json_t *rows)
{
    json_t *sums = json_object(), *e, *w, *out = NULL, *meals, *seen = json_object();
    const char *meal;
    size_t k;
    int unknown = 0;

    json_array_foreach(before, k, e) {
        json_t *s = meal_sum(sums, str(e, "meal"));
        json_object_set_new(s, "entry", json_deep_copy(e));
        json_object_set(s, "rows", json_object_get(rows, str(e, "meal")));
        unknown |= !json_is_integer(json_object_get(rows, str(e, "meal")));
    }
    json_array_foreach(cs->writes, k, w) {
        json_t *r = json_object_get(w, "row"), *old;
        char key[128];
        if (strcmp(str(r, "day"), day) != 0)
            continue;
        row_key(key, sizeof(key), day, str(r, "meal"), str(r, "recurrence_id"));
        unknown |= json_object_get(seen, key) != NULL; /* one write per row, or ask SQL */
        json_object_set_new(seen, key, json_true());
        old = json_is_true(json_object_get(w, "delete")) ? r : json_object_get(cs->have, key);
        if (old != NULL)
            unknown |= sum_row(sums, old, -1) != 0;
        if (!json_is_true(json_object_get(w, "delete")))
            unknown |= sum_row(sums, r, 1) != 0;
    }
    meals = json_object();
    json_object_foreach(sums, meal, e) {
        json_t *entry = unknown ? NULL : meal_after(e, &unknown);
        if (entry != NULL)
            json_object_set_new(meals, meal, entry);
    }
    if (!unknown)
        out = meals_in_order(meals);
    json_decref(meals);
    json_decref(sums);
    json_decref(seen);
    return out;
}


/* ---------------- the day's totals from its rows ---------------- */

#define DIET_KEY_MAX 64
#define DIET_HEADS_MAX 1000000000000000LL /* far from SQL sum()'s overflow error */
#define DAY_MEALS_MAX 8                   /* more, or more diets, and the database sums */
#define MEAL_DIETS_MAX 16

/* One meal of a day as its rows are added up (plain C: jansson per row was 3,600 instructions). */
struct meal_acc {
    char meal[24];
    int64_t total, rows;
    int late;
    size_t ndiets;
    struct {
        char key[DIET_KEY_MAX];
        long long heads;
    } diets[MEAL_DIETS_MAX];
};

struct day_sum {
    struct meal_acc meals[DAY_MEALS_MAX];
    size_t nmeals;
    int unknown; /* a row not in the form read here, or past the bounds above */
};

static int diet_add(struct meal_acc *m, const char *key, long long heads)
{
    size_t i;

    for (i = 0; i < m->ndiets && strcmp(m->diets[i].key, key) != 0; i++)
        ;
    if (i == m->ndiets) {
        if (m->ndiets == MEAL_DIETS_MAX)
            return -1;
        memcpy(m->diets[i].key, key, strlen(key) + 1);
        m->diets[i].heads = 0;
        m->ndiets++;
    }
    m->diets[i].heads += heads;
    return 0;
}

/*
 * Adds a row's diets to m, reading the text as json_dumps writes it
 * ({"key":int,...}, no spaces, no escapes); -1 for anything else, which
 * the database then sums as json_each reads it.
 */
static int diets_add_text(struct meal_acc *m, const char *p)
{
    if (*p++ != '{')
        return -1;
    if (*p == '}')
        return p[1] == '\0' ? 0 : -1;
    for (;;) {
        char key[DIET_KEY_MAX];
        size_t n = 0;
        long long v = 0;
        int neg = 0, digits = 0;
        if (*p++ != '"')
            return -1;
        for (; *p != '"'; p++) {
            if (*p == '\0' || *p == '\\' || (unsigned char)*p < 0x20 || n + 1 >= sizeof(key))
                return -1;
            key[n++] = *p;
        }
        key[n] = '\0';
        p++;
        if (*p++ != ':')
            return -1;
        if (*p == '-') {
            neg = 1;
            p++;
        }
        if (*p == '0' && p[1] >= '0' && p[1] <= '9')
            return -1; /* not JSON */
        for (; *p >= '0' && *p <= '9'; p++, digits++) {
            v = v * 10 + (*p - '0');
            if (v >= DIET_HEADS_MAX)
                return -1;
        }
        if (digits == 0 || diet_add(m, key, neg ? -v : v) != 0)
            return -1;
        if (*p == '}')
            return p[1] == '\0' ? 0 : -1;
        if (*p++ != ',')
            return -1;
    }
}

static int sum_day_row(const char *meal, int64_t count, int late, const char *diets, void *arg)
{
    struct day_sum *d = arg;
    struct meal_acc *m = NULL;

    for (size_t i = 0; i < d->nmeals && m == NULL; i++)
        if (strcmp(d->meals[i].meal, meal) == 0)
            m = &d->meals[i];
    if (m == NULL) {
        if (d->nmeals == DAY_MEALS_MAX || strlen(meal) >= sizeof(m->meal)) {
            d->unknown = 1;
            return 1;
        }
        m = &d->meals[d->nmeals++];
        memcpy(m->meal, meal, strlen(meal) + 1);
    }
    m->total += count;
    m->rows++;
    m->late |= late;
    if (diets_add_text(m, diets) != 0)
        d->unknown = 1;
    return d->unknown; /* stops the scan */
}

/* Orders meal_acc.diets[] elements by key, their first member. */
static int by_diet_key(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* A meal's entry as total_row builds it from the database's sums, diets in key order. */
static json_t *meal_acc_entry(struct meal_acc *m)
{
    json_t *diets = json_object();

    qsort(m->diets, m->ndiets, sizeof(m->diets[0]), by_diet_key);
    for (size_t i = 0; i < m->ndiets; i++)
        json_object_set_new(diets, m->diets[i].key, json_integer(m->diets[i].heads));
    return json_pack("{s:s, s:I, s:b, s:o}", "meal", m->meal, "total", (json_int_t)m->total,
                     "late", m->late, "diets", diets);
}

/*
 * The day's totals added up here from its rows, as day_totals_sql's query
 * sums them (the query, with json_each over every row's diets, was 9% of a
 * booking); NULL with *unknown set when a row is not in the form this
 * program writes, NULL alone when the database failed.
 */
static json_t *day_totals_rows(struct change_set *cs, const char *day, json_t *rows,
                               int *unknown)
{
    struct day_sum *d = xcalloc(1, sizeof(*d));
    json_t *meals, *out = NULL;
    int rc = store_catering_day_rows(cs->app->store, day, sum_day_row, d);

    *unknown = d->unknown;
    if (rc == STORE_OK && !d->unknown) {
        meals = json_object();
        for (size_t i = 0; i < d->nmeals; i++) {
            json_object_set_new(meals, d->meals[i].meal, meal_acc_entry(&d->meals[i]));
            if (rows != NULL)
                json_object_set_new(rows, d->meals[i].meal, json_integer(d->meals[i].rows));
        }
        out = meals_in_order(meals);
        json_decref(meals);
    }
    free(d);
    return out;
}

#ifndef NDEBUG
/* Debug builds (the sanitizer tests) check a day's totals against the database's at each change. */
static void day_totals_check(struct change_set *cs, const char *day, json_t *derived,
                             json_t *derived_rows)
{
    json_t *rows = json_object(), *summed = day_totals_sql(cs, day, rows);
    char *a = json_dumps(derived, JSON_COMPACT), *b = json_dumps(summed, JSON_COMPACT);

    if (a == NULL || b == NULL || strcmp(a, b) != 0 ||
        (derived_rows != NULL && !json_equal(derived_rows, rows))) {
        log_error("%s: %s: derived %s, summed %s", __func__, day, a ? a : "?", b ? b : "?");
        abort();
    }
    free(a);
    free(b);
    json_decref(summed);
    json_decref(rows);
}
#endif

/*
 * The day's totals, and (rows not NULL) the rows each meal summed: added
 * up here from the day's rows, or by the database when a row is not in the
 * form this program writes.
 */
static json_t *day_totals(struct change_set *cs, const char *day, json_t *rows)
{
    int unknown;
    json_t *totals = day_totals_rows(cs, day, rows, &unknown);

    if (totals == NULL && unknown)
        return day_totals_sql(cs, day, rows);
#ifndef NDEBUG
    if (totals != NULL)
        day_totals_check(cs, day, totals, rows);
#endif
    return totals;
}

/* The day's totals after the writes: derived when that is exact, else summed again. */
static json_t *day_totals_now(struct change_set *cs, const char *day, json_t *before,
                              json_t *rows)
{
    json_t *after = day_totals_after(cs, day, before, rows);

    if (after == NULL)
        return day_totals(cs, day, NULL);
#ifndef NDEBUG
    day_totals_check(cs, day, after, NULL);
#endif
    return after;
}

static int tell(struct change_set *cs, const char *day, json_t *before, json_t *after)
{
    json_t *changes = json_object_get(cs->changes, day), *c;
    int late = 0;
    size_t k;

    if (json_equal(before, after))
        return 0;
    json_array_foreach(changes, k, c) {
        late |= json_is_true(json_object_get(c, "late"));
    }
    json_t *data = json_pack("{s:s, s:O, s:O, s:b}", "date", day, "meals", after, "changes",
                             changes, "late", late);
    char *payload = json_dumps(data, JSON_COMPACT);
    int rc = payload ? store_outbox_append(cs->app->store, "catering.updated", payload, NULL)
                     : STORE_ERROR;
    free(payload);
    json_decref(data);
    return rc == STORE_OK ? 0 : -1;
}

/* The local date today in the organisation's zone, as catering.updated counts it. */
static void today_of(struct app *app, int64_t now, char out[TIME_DATE_STR])
{
    struct local_time lt;

    time_utc_to_local(now, app->cfg.tz, &lt);
    time_date_format(&lt, out);
}

/* Applies the writes and sends catering.updated for the days (from today) whose totals moved. */
static int apply_and_tell(struct change_set *cs)
{
    json_t *before, *rows, *v;
    char today[TIME_DATE_STR];
    const char *day;
    int rc = 0;

    /* Past days are records: their counts follow the change, the canteen is not told. */
    if (cs->quiet)
        return apply_writes(cs);
    before = json_object();
    rows = json_object();
    today_of(cs->app, cs->now, today);
    json_object_foreach(cs->changes, day, v) {
        json_t *day_rows = json_object();
        json_t *totals = strcmp(day, today) >= 0 && rc == 0 ? day_totals(cs, day, day_rows) : NULL;
        if (totals != NULL)
            json_object_set_new(before, day, totals);
        else if (strcmp(day, today) >= 0)
            rc = -1;
        json_object_set_new(rows, day, day_rows);
    }
    if (rc == 0)
        rc = apply_writes(cs);
    json_object_foreach(before, day, v) {
        json_t *after = rc == 0 ? day_totals_now(cs, day, v, json_object_get(rows, day)) : NULL;
        if (rc == 0)
            rc = after ? tell(cs, day, v, after) : -1;
        json_decref(after);
    }
    json_decref(before);
    json_decref(rows);
    return rc;
}

/* A stored row the event no longer has under that key, for the same day and meal. */
static json_t *same_meal(json_t *have, json_t *want, json_t *used, json_t *r)
{
    const char *key;
    json_t *h;

    json_object_foreach(have, key, h) {
        if (json_object_get(want, key) == NULL && json_object_get(used, key) == NULL &&
            strcmp(str(h, "day"), str(r, "day")) == 0 && strcmp(str(h, "meal"), str(r, "meal")) == 0) {
            json_object_set_new(used, key, json_true());
            return h;
        }
    }
    return NULL;
}

/*
 * Compares the rows the event should have with the stored ones. A row
 * whose occurrence was renamed (a moved meeting's recurrence id) is paired
 * with the old row of the same day and meal, so moving a meeting within
 * its day changes no count and is never late.
 */
static void compare_all(struct change_set *cs, json_t *have, json_t *want)
{
    json_t *used = json_object(), *r, *h;
    const char *key;

    json_object_foreach(want, key, r) {
        if ((h = json_object_get(have, key)) != NULL) {
            compare_wanted(cs, r, h);
        } else if ((h = same_meal(have, want, used, r)) != NULL) {
            plan_write(cs, h, 1);
            compare_wanted(cs, r, h);
        } else {
            compare_wanted(cs, r, NULL);
        }
    }
    json_object_foreach(have, key, h) {
        if (json_object_get(want, key) == NULL && json_object_get(used, key) == NULL)
            compare_gone(cs, h);
    }
    json_decref(used);
}

/* Drops the rows of days before floor: records that a change of a person does not rewrite. */
static void above_floor(json_t *rows, const char *floor)
{
    const char *key;
    json_t *r, *tmp;

    json_object_foreach_safe(rows, tmp, key, r) {
        if (strcmp(str(r, "day"), floor) < 0)
            json_object_del(rows, key);
    }
}

static int catering_write(struct app *app, const struct event_row *row, json_t *doc,
                          const struct event_plan *plan, int quiet, const char *floor,
                          json_t *audit)
{
    struct change_set cs = {app, row, plan->tz, clock_wall_s(), json_array(), json_object(),
                            quiet, floor, audit, NULL};
    json_t *have = json_object(), *want;
    int rc = -1;

    if (store_catering_of_event(app->store, row->id, collect_row, have) == STORE_OK) {
        want = wanted_rows(app, row, doc, plan);
        if (floor != NULL) {
            above_floor(have, floor);
            above_floor(want, floor);
        }
        cs.have = have;
        compare_all(&cs, have, want);
        json_decref(want);
        rc = apply_and_tell(&cs);
    }
    json_decref(have);
    json_decref(cs.writes);
    json_decref(cs.changes);
    return rc;
}

int catering_sync(struct app *app, const struct event_row *row, json_t *doc,
                  const struct event_plan *plan)
{
    return catering_write(app, row, doc, plan, 0, NULL, NULL);
}

int catering_derive(struct app *app, const struct event_row *row, json_t *doc,
                    const struct event_plan *plan)
{
    return catering_write(app, row, doc, plan, 1, NULL, NULL);
}

/* ---------------- a person's diet ---------------- */

struct recount {
    const struct booking_ctx *ctx;
    const char *person;
    char today[TIME_DATE_STR];
};

/* One side ("old" or "new") of a recounted meal row, as the audit trail shows it. */
static json_t *recount_side(json_t *change, const char *side)
{
    json_t *v = json_object_get(change, side);

    return json_pack("{s:O, s:O, s:O, s:O, s:O*}", "day", json_object_get(change, "day"), "meal",
                     json_object_get(change, "meal"), "recurrence_id",
                     json_object_get(change, "recurrence_id"), "count",
                     json_object_get(v, "count"), "diets", json_object_get(v, "diets"));
}

/*
 * Re-counts one event's meals from today on. When a count or a breakdown
 * moved, the event's audit trail says so (action "meals_recounted"): the
 * rows before and after, and whose diet it was.
 */
static int recount_event(const struct event_row *ev, void *arg)
{
    struct recount *r = arg;
    struct app *app = r->ctx->app;
    struct event_plan plan;
    struct booking_error err;
    json_t *doc, *audit, *before, *after, *c;
    size_t k;
    int rc = 0;

    if (ev->status != EVENT_CONFIRMED || (doc = json_loads(ev->doc, 0, NULL)) == NULL)
        return 0;
    if (json_array_size(json_object_get(doc, "meals")) == 0) {
        json_decref(doc);
        return 0;
    }
    audit = json_array();
    if (event_plan_parse(app, doc, &plan, &err) == 0 &&
        event_plan_expand(&plan, r->ctx->now, &err) == 0)
        rc = catering_write(app, ev, doc, &plan, 0, r->today, audit);
    event_plan_free(&plan);
    if (rc == 0 && json_array_size(audit) > 0) {
        before = json_pack("{s:[]}", "meals");
        after = json_pack("{s:[], s:s, s:s}", "meals", "reason", "diet_changed", "person",
                          r->person);
        json_array_foreach(audit, k, c) {
            json_array_append_new(json_object_get(before, "meals"), recount_side(c, "old"));
            json_array_append_new(json_object_get(after, "meals"), recount_side(c, "new"));
        }
        rc = booking_audit(app, r->ctx->actor, ev->id, "meals_recounted", before, after);
        json_decref(before);
        json_decref(after);
    }
    json_decref(audit);
    json_decref(doc);
    return rc;
}

int booking_person_diet_changed(const struct booking_ctx *ctx, const char *person)
{
    struct recount r = {ctx, person, ""};

    today_of(ctx->app, ctx->now, r.today);
    /* The person's calendar: the events they attend, drive or ride in (only attendees eat). */
    return store_calendar_events(ctx->app->store, "person", person, recount_event, &r) ==
                   STORE_OK
               ? 0
               : -1;
}
