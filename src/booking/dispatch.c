/*
 * dispatch.c - what a booking means for the motor pool. Before a booking
 * is written its trips are checked against the driver rules (core/trips.c)
 * and the working calendar; after, its trip occurrences are compared with
 * the stored ones and the differences are written, with the messages the
 * drivers hear: dispatch.assigned, dispatch.updated (old and new values)
 * and dispatch.cancelled. Everything runs in the booking's transaction, so
 * a change and its messages commit or vanish together.
 *
 * Messages are addressed ("audience") to the drivers concerned, so a
 * driver's person-filtered endpoint also hears that a trip was handed to
 * someone else. They never carry a confidential meeting's title.
 */
#include "dispatch.h"

#include "convene/trips.h"
#include "convene/util.h"
#include "convene/visibility.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISPATCH_MAX_LISTED 1000 /* recurrence ids listed in one message */

/* ---------------- small helpers ---------------- */

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static int64_t num(json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

static json_t *text_or_null(const char *s)
{
    return s != NULL && *s != '\0' ? json_string(s) : json_null();
}

static json_t *utc_or_null(int64_t t)
{
    char buf[TIME_UTC_STR];

    if (t == 0)
        return json_null();
    time_utc_format(t, buf);
    return json_string(buf);
}

/* ---------------- the driver rules ---------------- */

static int check_approval(struct app *app, const struct event_plan *p, struct booking_error *err)
{
    /* Under approval rules a new booking's off-day trips go to the office director instead. */
    if (p->off_days_approved)
        return 0;
    for (size_t t = 0; t < p->ntrips; t++) {
        if (p->trips[t].approved_by != NULL)
            continue;
        for (size_t o = 0; o < p->nocc; o++) {
            struct local_time d, r, day;
            int64_t du, ru;
            const char *name = NULL;
            int special = 0;
            char date[TIME_DATE_STR], field[48];

            event_plan_trip_times(p, &p->occ[o], &p->trips[t], &d, &r, &du, &ru);
            if (!trips_needs_approval(app_workcal(app), &d, &r, &day))
                continue;
            workcal_is_working(app_workcal(app), &day, &name, &special);
            time_date_format(&day, date);
            snprintf(field, sizeof(field), "trips[%zu].approved_by", t);
            return booking_error_set(err, BOOKING_INVALID, "approval_required", field,
                                 "a trip on %s (%s) needs 'approved_by'", date,
                                 special && name ? name : "weekend");
        }
    }
    return 0;
}

struct span_list {
    struct trip_span *v;
    size_t n, cap;
    const char *exclude_event; /* the booking's own stored rows are its old version */
    json_t *others;            /* other events' trips: a span's tag is its index here */
};

static void span_push(struct span_list *l, struct trip_span s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = s;
}

static int collect_span(const struct trip_row *t, void *arg)
{
    struct span_list *l = arg;
    struct local_time day;

    if (strcmp(t->event_id, l->exclude_event) == 0 || time_date_parse(t->day, &day) != 0)
        return 0;
    span_push(l, (struct trip_span){trips_day_number(&day), t->depart_utc, t->return_utc, 0,
                                    json_array_size(l->others)});
    /* What a refusal names of it; never a confidential meeting's title. */
    json_array_append_new(
        l->others, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "event", t->event_id, "id",
                             t->trip_id, "recurrence_id", t->recurrence_id, "depart", t->depart,
                             "return", t->ret, "day", (json_int_t)trips_day_number(&day),
                             "title",
                             t->confidential || t->title == NULL ? json_null()
                                                                 : json_string(t->title)));
    return 0;
}

/* A trip instance (JSON) as a span of the driver's days, like a stored row. */
static void push_instance(struct span_list *l, json_t *inst)
{
    struct trip_row t;

    memset(&t, 0, sizeof(t));
    snprintf(t.event_id, sizeof(t.event_id), "%s", str(inst, "event"));
    snprintf(t.trip_id, sizeof(t.trip_id), "%s", str(inst, "id"));
    snprintf(t.recurrence_id, sizeof(t.recurrence_id), "%s", str(inst, "recurrence_id"));
    snprintf(t.day, sizeof(t.day), "%s", str(inst, "day"));
    snprintf(t.depart, sizeof(t.depart), "%s", str(inst, "depart"));
    snprintf(t.ret, sizeof(t.ret), "%s", str(inst, "return"));
    t.depart_utc = num(inst, "depart_utc");
    t.return_utc = num(inst, "return_utc");
    t.title = str(inst, "title");
    t.confidential = json_is_true(json_object_get(inst, "confidential"));
    collect_span(&t, l);
}

/*
 * A booking awaiting approval holds its driver's hours too: were it
 * approved after a confirmed booking took the rest of the day, the driver
 * would be over the limit with nobody asked.
 */
static int add_pending_spans(struct app *app, const char *from, const char *to,
                             const char *driver, struct span_list *l)
{
    json_t *pending, *inst;
    size_t k;

    if (booking_pending_trips(app, from, to, driver, NULL, l->exclude_event, &pending) != 0) {
        json_decref(pending);
        return -1;
    }
    json_array_foreach(pending, k, inst) {
        push_instance(l, inst);
    }
    json_decref(pending);
    return 0;
}

/* The occurrence in which trip t departs on one of the days [first, last], or NULL. */
static const struct occurrence *occurrence_on(const struct event_plan *p, size_t t, int64_t first,
                                              int64_t last)
{
    for (size_t o = 0; o < p->nocc; o++) {
        struct local_time d, r;
        int64_t du, ru, day;
        event_plan_trip_times(p, &p->occ[o], &p->trips[t], &d, &r, &du, &ru);
        day = trips_day_number(&d);
        if (day >= first && day <= last)
            return &p->occ[o];
    }
    return NULL;
}

/*
 * The conflict entries of a violation: one per other trip of the driver on
 * the day over its hours (or on the two days around a short rest), or one
 * for the booking's own trip when its trips break the rule alone.
 */
static void violation_entries(const struct trip_violation *v, const struct event_plan *p,
                              const struct span_list *l, struct conflict_report *report,
                              json_t *out)
{
    enum conflict_reason reason =
        v->verdict == TRIP_DRIVER_HOURS ? CONFLICT_DRIVER_HOURS : CONFLICT_DRIVER_REST;
    int64_t first = v->verdict == TRIP_DRIVER_HOURS ? v->day : v->day - 1;
    const struct occurrence *o = occurrence_on(p, v->tag, first, v->day);
    json_t *other;
    size_t k;

    if (o == NULL || v->tag >= p->ntrips)
        return;
    json_array_foreach(l->others, k, other) {
        int64_t day = json_integer_value(json_object_get(other, "day"));
        if (day >= first && day <= v->day && json_array_size(out) < 100)
            json_array_append_new(out, conflict_report_driver(report, reason, &p->trips[v->tag],
                                                              o, other));
    }
    if (json_array_size(out) == 0)
        json_array_append_new(out,
                              conflict_report_driver(report, reason, &p->trips[v->tag], o, NULL));
}

static int report_violation(const struct trip_violation *v, const char *driver,
                            const struct trip_rules *rules, struct booking_error *err)
{
    struct local_time day;
    char date[TIME_DATE_STR], field[48];

    trips_day_date(v->day, &day);
    time_date_format(&day, date);
    snprintf(field, sizeof(field), "trips[%zu].driver", v->tag);
    if (v->verdict == TRIP_DRIVER_HOURS)
        return booking_error_set(err, BOOKING_CONFLICT, "driver_hours", field,
                             "driver '%s' would drive %.1f hours on %s (at most %d)", driver,
                             (double)v->seconds / 3600.0, date, rules->max_hours);
    return booking_error_set(err, BOOKING_CONFLICT, "driver_rest", field,
                         "driver '%s' would rest only %.1f hours before the first trip of %s "
                         "(at least %d)",
                         driver, (double)v->seconds / 3600.0, date, rules->min_rest_hours);
}

/* One driver's days: this booking's trips plus every other event's around them. */
static int check_driver(struct app *app, const char *event_id, const struct event_plan *p,
                        const char *driver, struct conflict_report *report,
                        struct booking_error *err, json_t *conflicts)
{
    struct trip_rules rules = {app->cfg.driver_max_hours, app->cfg.driver_min_rest_hours};
    struct span_list l = {NULL, 0, 0, event_id, NULL};
    struct trip_violation v;
    int64_t first = INT64_MAX, last = INT64_MIN;
    struct local_time lt;
    char from[TIME_DATE_STR], to[TIME_DATE_STR];
    int rc = 0;

    for (size_t t = 0; t < p->ntrips; t++) {
        if (strcmp(p->trips[t].driver, driver) != 0)
            continue;
        for (size_t o = 0; o < p->nocc; o++) {
            struct local_time d, r;
            struct trip_span s = {0, 0, 0, 1, t};
            event_plan_trip_times(p, &p->occ[o], &p->trips[t], &d, &r, &s.depart_utc,
                                  &s.return_utc);
            s.day = trips_day_number(&d);
            first = s.day < first ? s.day : first;
            last = s.day > last ? s.day : last;
            span_push(&l, s);
        }
    }
    if (l.n == 0)
        return 0;
    l.others = json_array();
    /* The day before and after too: the rest rule looks across midnight. */
    trips_day_date(first - 1, &lt);
    time_date_format(&lt, from);
    trips_day_date(last + 1, &lt);
    time_date_format(&lt, to);
    if (store_trips_of_days(app->store, from, to, driver, NULL, collect_span, &l) != STORE_OK ||
        add_pending_spans(app, from, to, driver, &l) != 0)
        rc = booking_error_set(err, BOOKING_STORAGE, "storage", NULL, "the database failed");
    else if (trips_driver_check(l.v, l.n, &rules, &v) != TRIP_OK) {
        rc = report_violation(&v, driver, &rules, err);
        violation_entries(&v, p, &l, report, conflicts);
    }
    free(l.v);
    json_decref(l.others);
    return rc;
}

int dispatch_check(struct app *app, const char *event_id, const struct event_plan *p,
                   struct conflict_report *report, struct booking_error *err, json_t **conflicts)
{
    *conflicts = json_array();
    if (p->ntrips == 0 || p->nocc == 0)
        return 0;
    if (check_approval(app, p, err) != 0)
        return -1;
    for (size_t t = 0; t < p->ntrips; t++) {
        int seen = 0;
        for (size_t u = 0; u < t && !seen; u++)
            seen = strcmp(p->trips[u].driver, p->trips[t].driver) == 0;
        if (!seen &&
            check_driver(app, event_id, p, p->trips[t].driver, report, err, *conflicts) != 0)
            return -1;
    }
    return 0;
}

/* ---------------- trip instances ---------------- */

json_t *booking_trip_json(const struct trip_row *t)
{
    json_t *passengers = json_loads(t->passengers ? t->passengers : "[]", 0, NULL);

    if (!json_is_array(passengers)) {
        json_decref(passengers);
        passengers = json_array();
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:s, s:o, s:o, s:o, "
                     "s:o, s:s, s:b, s:I, s:s, s:I}",
                     "event", t->event_id, "id", t->trip_id, "recurrence_id", t->recurrence_id,
                     "day", t->day, "depart", t->depart, "return", t->ret, "depart_utc",
                     (json_int_t)t->depart_utc, "return_utc", (json_int_t)t->return_utc, "tz",
                     t->tz, "vehicle", text_or_null(t->vehicle), "driver", t->driver, "from",
                     text_or_null(t->from), "to", text_or_null(t->to), "passengers", passengers,
                     "approved_by", text_or_null(t->approved_by), "title",
                     t->title ? t->title : "", "confidential", t->confidential, "acked_at",
                     (json_int_t)t->acked_at, "acked_by", t->acked_by, "escalated_at",
                     (json_int_t)t->escalated_at);
}

static void copy_text(char *dst, size_t cap, json_t *obj, const char *key)
{
    snprintf(dst, cap, "%s", str(obj, key));
}

/* Writes an instance as its row. */
static int instance_put(struct store *st, json_t *i)
{
    struct trip_row t;
    char *passengers = json_dumps(json_object_get(i, "passengers"), JSON_COMPACT);
    int rc;

    memset(&t, 0, sizeof(t));
    copy_text(t.event_id, sizeof(t.event_id), i, "event");
    copy_text(t.trip_id, sizeof(t.trip_id), i, "id");
    copy_text(t.recurrence_id, sizeof(t.recurrence_id), i, "recurrence_id");
    copy_text(t.day, sizeof(t.day), i, "day");
    copy_text(t.depart, sizeof(t.depart), i, "depart");
    copy_text(t.ret, sizeof(t.ret), i, "return");
    copy_text(t.tz, sizeof(t.tz), i, "tz");
    copy_text(t.vehicle, sizeof(t.vehicle), i, "vehicle");
    copy_text(t.driver, sizeof(t.driver), i, "driver");
    copy_text(t.approved_by, sizeof(t.approved_by), i, "approved_by");
    copy_text(t.acked_by, sizeof(t.acked_by), i, "acked_by");
    t.depart_utc = num(i, "depart_utc");
    t.return_utc = num(i, "return_utc");
    t.from = json_string_value(json_object_get(i, "from"));
    t.to = json_string_value(json_object_get(i, "to"));
    t.passengers = passengers;
    t.title = str(i, "title");
    t.confidential = json_is_true(json_object_get(i, "confidential"));
    t.acked_at = num(i, "acked_at");
    t.escalated_at = num(i, "escalated_at");
    rc = store_trip_put(st, &t);
    free(passengers);
    return rc == STORE_OK ? 0 : -1;
}

static int instance_delete(struct store *st, json_t *i)
{
    return store_trip_delete(st, str(i, "event"), str(i, "id"), str(i, "recurrence_id")) ==
                   STORE_OK
               ? 0
               : -1;
}

/* Every trip x occurrence of the plan, as instances in occurrence order. */
static json_t *plan_instances(const struct event_plan *p, const char *event_id, json_t *doc)
{
    json_t *out = json_array(), *trips = json_object_get(doc, "trips");

    for (size_t o = 0; o < p->nocc; o++) {
        for (size_t t = 0; t < p->ntrips; t++) {
            json_t *item = json_array_get(trips, t), *inst, *pass;
            struct local_time d, r;
            int64_t du, ru;
            char ds[TIME_LOCAL_STR], rs[TIME_LOCAL_STR], day[TIME_DATE_STR];

            event_plan_trip_times(p, &p->occ[o], &p->trips[t], &d, &r, &du, &ru);
            time_local_format(&d, ds);
            time_local_format(&r, rs);
            time_date_format(&d, day);
            pass = json_object_get(item, "passengers");
            inst = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:b, s:I, "
                             "s:s, s:I}",
                             "event", event_id, "id", p->trips[t].id, "recurrence_id",
                             p->occ[o].recurrence_id, "day", day, "depart", ds, "return", rs,
                             "depart_utc", (json_int_t)du, "return_utc", (json_int_t)ru, "tz",
                             p->tz, "driver", p->trips[t].driver, "title", p->title,
                             "confidential", p->confidential, "acked_at", (json_int_t)0,
                             "acked_by", "", "escalated_at", (json_int_t)0);
            json_object_set_new(inst, "vehicle", text_or_null(p->trips[t].vehicle));
            json_object_set_new(inst, "from", text_or_null(str(item, "from")));
            json_object_set_new(inst, "to", text_or_null(str(item, "to")));
            json_object_set_new(inst, "passengers",
                                json_is_array(pass) ? json_deep_copy(pass) : json_array());
            json_object_set_new(inst, "approved_by", text_or_null(p->trips[t].approved_by));
            json_array_append_new(out, inst);
        }
    }
    return out;
}

static int collect_instance(const struct trip_row *t, void *arg)
{
    json_array_append_new(arg, booking_trip_json(t));
    return 0;
}

/* ---------------- trips of bookings awaiting approval ---------------- */

static int collect_id(const char *event_id, void *arg)
{
    json_array_append_new(arg, json_string(event_id));
    return 0;
}

/* The trip instances of one pending event, as its rows would be once confirmed. */
static json_t *pending_instances(struct app *app, const char *event_id)
{
    struct event_row row;
    struct event_plan plan;
    struct booking_error err = {0};
    json_t *doc = NULL, *out = NULL;

    memset(&row, 0, sizeof(row));
    if (store_event_get(app->store, event_id, &row) == STORE_OK && row.status == EVENT_PENDING &&
        (doc = json_loads(row.doc, 0, NULL)) != NULL) {
        if (event_plan_parse(app, doc, &plan, &err) == 0 &&
            event_plan_expand(&plan, clock_wall_s(), &err) == 0)
            out = plan_instances(&plan, event_id, doc);
        event_plan_free(&plan);
    }
    if (out == NULL && doc != NULL)
        log_error("%s: event %s: %s", __func__, event_id, err.message);
    booking_error_clear(&err);
    json_decref(doc);
    store_event_row_clear(&row);
    return out;
}

/* Whether an instance is on the days [from, to] and of the driver and vehicle asked (NULL: any). */
static int instance_wanted(json_t *inst, const char *from, const char *to, const char *driver,
                           const char *vehicle)
{
    return strcmp(str(inst, "day"), from) >= 0 && strcmp(str(inst, "day"), to) <= 0 &&
           (driver == NULL || strcmp(str(inst, "driver"), driver) == 0) &&
           (vehicle == NULL || strcmp(str(inst, "vehicle"), vehicle) == 0);
}

int booking_pending_trips(struct app *app, const char *from_day, const char *to_day,
                          const char *driver, const char *vehicle, const char *exclude_event,
                          json_t **out)
{
    struct local_time a, b;
    json_t *ids = json_array(), *id, *inst;
    size_t i, k;
    int rc = 0;

    *out = json_array();
    if (time_date_parse(from_day, &a) != 0 || time_date_parse(to_day, &b) != 0) {
        json_decref(ids);
        return 0;
    }
    /* A day either side covers every zone's local day; the days are then compared exactly. */
    if (store_pending_trip_events(app->store, (trips_day_number(&a) - 1) * 86400,
                                  (trips_day_number(&b) + 2) * 86400, driver, collect_id,
                                  ids) != STORE_OK)
        rc = -1;
    json_array_foreach(ids, i, id) {
        json_t *all;
        if (rc != 0 || (exclude_event != NULL && strcmp(json_string_value(id), exclude_event) == 0))
            continue;
        if ((all = pending_instances(app, json_string_value(id))) == NULL)
            continue; /* unreadable: logged, and the rest still count */
        json_array_foreach(all, k, inst) {
            if (!instance_wanted(inst, from_day, to_day, driver, vehicle))
                continue;
            json_object_set_new(inst, "pending", json_true());
            json_array_append(*out, inst);
        }
        json_decref(all);
    }
    json_decref(ids);
    return rc;
}

/* ---------------- comparing old and new ---------------- */

/* What the driver must know about: a change here is a new assignment to acknowledge. */
static const char *const material[] = {"depart", "return", "from", "to", "vehicle", "driver",
                                       "passengers", NULL};

static json_t *instance_changes(json_t *old, json_t *new_)
{
    json_t *changes = json_object();

    for (size_t f = 0; material[f] != NULL; f++) {
        json_t *a = json_object_get(old, material[f]), *b = json_object_get(new_, material[f]);
        if (!json_equal(a, b))
            json_object_set_new(changes, material[f], json_pack("{s:O, s:O}", "old", a, "new", b));
    }
    /* The same wall time in another zone is another instant: the driver must hear it. */
    if (json_object_size(changes) == 0 && num(old, "depart_utc") != num(new_, "depart_utc"))
        json_object_set_new(changes, "depart",
                            json_pack("{s:O, s:O}", "old", json_object_get(old, "depart"), "new",
                                      json_object_get(new_, "depart")));
    return changes;
}

static int same_quiet(json_t *old, json_t *new_)
{
    static const char *const quiet[] = {"recurrence_id", "day", "tz", "title", "confidential",
                                         "approved_by", "return_utc", NULL};

    for (size_t f = 0; quiet[f] != NULL; f++)
        if (!json_equal(json_object_get(old, quiet[f]), json_object_get(new_, quiet[f])))
            return 0;
    return 1;
}

struct sync {
    struct app *app;
    int live;
    int64_t now;
    json_t *assigned;  /* instances */
    json_t *updated;   /* [{old, new, changes}] */
    json_t *cancelled; /* instances, with "reason" */
    json_t *trip_ids;  /* ids the event still has */
    int quiet;         /* derive the rows only: no messages (an upgrade) */
    int pending;       /* awaiting approval: its trips are withdrawn until it is confirmed */
};

/* An old and a new version of one trip occurrence. */
static int pair_apply(struct sync *s, json_t *old, json_t *new_)
{
    struct store *st = s->app->store;
    json_t *changes = instance_changes(old, new_);
    int moved = strcmp(str(old, "recurrence_id"), str(new_, "recurrence_id")) != 0;
    int rc = 0;

    if (json_object_size(changes) == 0) {
        /* Unchanged for the driver: the acknowledgement and escalation stand. */
        json_object_set(new_, "acked_at", json_object_get(old, "acked_at"));
        json_object_set(new_, "acked_by", json_object_get(old, "acked_by"));
        json_object_set(new_, "escalated_at", json_object_get(old, "escalated_at"));
        json_decref(changes);
        if (same_quiet(old, new_))
            return 0;
    } else {
        json_array_append_new(s->updated, json_pack("{s:O, s:O, s:o}", "old", old, "new", new_,
                                                    "changes", changes));
    }
    if (moved)
        rc = instance_delete(st, old);
    return rc == 0 ? instance_put(st, new_) : -1;
}

/*
 * Pairs one trip's old and new occurrences by recurrence id, and applies
 * the differences. When none keeps its id, the meeting itself moved (a
 * moved single meeting renames its only occurrence, a moved series every
 * one): they are paired in order, so the driver hears "moved", not
 * "cancelled" and "assigned".
 */
static int trip_apply(struct sync *s, json_t *olds, json_t *news)
{
    json_t *by_rid = json_object(), *left_old = json_array(), *left_new = json_array(), *i;
    size_t k, n;
    int rc = 0;

    json_array_foreach(olds, k, i) {
        json_object_set(by_rid, str(i, "recurrence_id"), i);
    }
    json_array_foreach(news, k, i) {
        json_t *old = json_object_get(by_rid, str(i, "recurrence_id"));
        if (old != NULL) {
            rc |= pair_apply(s, old, i);
            json_object_del(by_rid, str(i, "recurrence_id"));
        } else {
            json_array_append(left_new, i);
        }
    }
    json_array_foreach(olds, k, i) {
        if (json_object_get(by_rid, str(i, "recurrence_id")) != NULL)
            json_array_append(left_old, i);
    }
    n = json_array_size(left_old) < json_array_size(left_new) ? json_array_size(left_old)
                                                              : json_array_size(left_new);
    if (json_array_size(left_old) != json_array_size(olds))
        n = 0; /* some kept their id: the rest really came and went */
    for (k = 0; k < n && rc == 0; k++)
        rc |= pair_apply(s, json_array_get(left_old, k), json_array_get(left_new, k));
    for (k = n; k < json_array_size(left_new) && rc == 0; k++) {
        rc |= instance_put(s->app->store, json_array_get(left_new, k));
        json_array_append(s->assigned, json_array_get(left_new, k));
    }
    for (k = n; k < json_array_size(left_old) && rc == 0; k++) {
        json_t *old = json_array_get(left_old, k);
        const char *reason = s->pending ? "awaiting_approval"
                             : !s->live ? "event_cancelled"
                             : json_object_get(s->trip_ids, str(old, "id")) ? "occurrence_cancelled"
                                                                             : "trip_removed";
        rc |= instance_delete(s->app->store, old);
        json_object_set_new(old, "reason", json_string(reason));
        json_array_append(s->cancelled, old);
    }
    json_decref(by_rid);
    json_decref(left_old);
    json_decref(left_new);
    return rc == 0 ? 0 : -1;
}

/* Instances of one trip id, in their array order. */
static json_t *of_trip(json_t *instances, const char *id)
{
    json_t *out = json_array(), *i;
    size_t k;

    json_array_foreach(instances, k, i) {
        if (strcmp(str(i, "id"), id) == 0)
            json_array_append(out, i);
    }
    return out;
}

static int apply_all(struct sync *s, json_t *before, json_t *after)
{
    json_t *ids = json_array(), *seen = json_object(), *i;
    size_t k;
    int rc = 0;

    json_array_foreach(after, k, i) {
        json_object_set_new(s->trip_ids, str(i, "id"), json_true());
    }
    /* Trip ids in order: the event's current trips first, then those it dropped. */
    json_t *lists[2] = {after, before};
    for (int l = 0; l < 2; l++) {
        json_array_foreach(lists[l], k, i) {
            if (json_object_get(seen, str(i, "id")) == NULL) {
                json_object_set_new(seen, str(i, "id"), json_true());
                json_array_append_new(ids, json_string(str(i, "id")));
            }
        }
    }
    json_array_foreach(ids, k, i) {
        json_t *olds = of_trip(before, json_string_value(i));
        json_t *news = of_trip(after, json_string_value(i));
        rc |= trip_apply(s, olds, news);
        json_decref(olds);
        json_decref(news);
        if (rc != 0)
            break;
    }
    json_decref(ids);
    json_decref(seen);
    return rc;
}

/* ---------------- messages ---------------- */

static json_t *person_name(struct app *app, const char *id, json_t *names)
{
    json_t *name = id ? json_object_get(names, id) : json_null();
    struct record rec;

    if (name != NULL)
        return json_incref(name);
    record_init(&rec, &record_person);
    if (store_record_get(app->store, &record_person, id, &rec) == STORE_OK)
        name = json_string(rec.values[record_field_index(&record_person, "name")].s);
    else
        name = json_null();
    record_clear(&rec, &record_person);
    json_object_set(names, id, name);
    return name;
}

/* [name, plate] of a vehicle (nulls when unknown), cached in names under "vehicle:<id>". */
static json_t *vehicle_label(struct app *app, const char *id, json_t *names)
{
    char key[16 + ID_STR_MAX];
    json_t *label;
    struct record rec;
    const struct record_type *vt = &record_vehicle;

    snprintf(key, sizeof(key), "vehicle:%s", id);
    if ((label = json_object_get(names, key)) != NULL)
        return label;
    label = json_pack("[n, n]");
    record_init(&rec, vt);
    if (store_record_get(app->store, vt, id, &rec) == STORE_OK) {
        const struct field_value *plate = &rec.values[record_field_index(vt, "plate")];
        json_array_set_new(label, 0, json_string(rec.values[record_field_index(vt, "name")].s));
        if (plate->set && plate->s != NULL)
            json_array_set_new(label, 1, json_string(plate->s));
    }
    record_clear(&rec, vt);
    json_object_set_new(names, key, label);
    return label;
}

json_t *booking_trip_render(struct app *app, json_t *i, json_t *names)
{
    json_t *out = json_object(), *names_out = json_array(), *p;
    static const char *const copied[] = {"id", "event", "recurrence_id", "depart", "return", "tz",
                                         "from", "to", "vehicle", "driver", "passengers",
                                         "approved_by"};
    size_t k;

    for (k = 0; k < ARRAY_SIZE(copied); k++)
        json_object_set(out, copied[k], json_object_get(i, copied[k]));
    json_object_set_new(out, "depart_utc", utc_or_null(num(i, "depart_utc")));
    json_object_set_new(out, "return_utc", utc_or_null(num(i, "return_utc")));
    json_array_foreach(json_object_get(i, "passengers"), k, p) {
        json_array_append_new(names_out, person_name(app, json_string_value(p), names));
    }
    json_object_set_new(out, "passenger_names", names_out);
    /* The driver must know which car: its name and plate beside its id (null without one). */
    json_t *label = json_is_string(json_object_get(i, "vehicle"))
                        ? vehicle_label(app, str(i, "vehicle"), names)
                        : NULL;
    json_object_set(out, "vehicle_name", label ? json_array_get(label, 0) : json_null());
    json_object_set(out, "plate", label ? json_array_get(label, 1) : json_null());
    json_object_set_new(out, "driver_name", person_name(app, str(i, "driver"), names));
    json_object_set_new(out, "acknowledged", json_boolean(num(i, "acked_at") != 0));
    json_object_set_new(out, "acknowledged_at", utc_or_null(num(i, "acked_at")));
    return out;
}

static void audience_add(json_t *audience, json_t *person)
{
    json_t *a;
    size_t k;

    if (!json_is_string(person))
        return;
    json_array_foreach(audience, k, a) {
        if (json_equal(a, person))
            return;
    }
    json_array_append(audience, person);
}

/* Whoever drives: the decision does not depend on which person it is. */
static const struct viewer driver_viewer = {.kind = VIEWER_PERSON, .person = ""};

/* One message for the group of one trip's occurrences that changed alike. */
static int emit(struct sync *s, const char *type, json_t *group, json_t *names)
{
    json_t *first = json_array_get(group, 0), *audience = json_array(), *rids = json_array(), *g;
    int updated = strcmp(type, "dispatch.updated") == 0;
    json_t *shown = updated ? json_object_get(first, "new") : first;
    size_t k;

    json_array_foreach(group, k, g) {
        json_t *inst = updated ? json_object_get(g, "new") : g;
        audience_add(audience, json_object_get(inst, "driver"));
        if (updated)
            audience_add(audience, json_object_get(json_object_get(g, "old"), "driver"));
        if (k < DISPATCH_MAX_LISTED)
            json_array_append(rids, json_object_get(inst, "recurrence_id"));
    }
    int confidential = json_is_true(json_object_get(shown, "confidential"));
    int full = visibility_decide(&driver_viewer, confidential, 0, 1, 0) == VISIBLE_FULL;
    json_t *trip = booking_trip_render(s->app, shown, names);
    json_t *data = json_pack("{s:s, s:b, s:o, s:o, s:I, s:o}", "event", str(shown, "event"),
                             "confidential", confidential, "trip", trip, "occurrences", rids,
                             "occurrence_count", (json_int_t)json_array_size(group), "audience",
                             audience);
    /*
     * Written once for every endpoint, as its audience sees it: a driver
     * who does not attend. Of a confidential meeting they learn where and
     * when, never what it is about nor who rides (its attendees).
     */
    if (full) {
        json_object_set(data, "title", json_object_get(shown, "title"));
    } else {
        json_object_del(trip, "passengers");
        json_object_del(trip, "passenger_names");
    }
    if (updated) {
        json_t *changes = json_deep_copy(json_object_get(first, "changes"));
        /* Who rides changed: said, but not who. */
        if (!full && json_object_get(changes, "passengers") != NULL)
            json_object_set_new(changes, "passengers", json_pack("{s:b}", "changed", 1));
        json_object_set_new(data, "changes", changes);
    }
    if (strcmp(type, "dispatch.cancelled") == 0)
        json_object_set(data, "reason", json_object_get(first, "reason"));
    return booking_outbox_append(s->app->store, type, data);
}

/* Whether the driver still needs to hear of it: not over yet. */
static int ahead(struct sync *s, json_t *item)
{
    if (json_object_get(item, "new") != NULL)
        return num(json_object_get(item, "new"), "return_utc") > s->now ||
               num(json_object_get(item, "old"), "return_utc") > s->now;
    return num(item, "return_utc") > s->now;
}

static const char *item_trip(json_t *item)
{
    json_t *inst = json_object_get(item, "new") ? json_object_get(item, "new") : item;
    return str(inst, "id");
}

/* Groups the items still ahead by trip, in order, and emits one message per group. */
static int emit_all(struct sync *s, const char *type, json_t *items, json_t *names)
{
    json_t *groups = json_object(), *order = json_array(), *it;
    size_t k;
    int rc = 0;

    json_array_foreach(items, k, it) {
        if (!ahead(s, it))
            continue;
        json_t *g = json_object_get(groups, item_trip(it));
        if (g == NULL) {
            g = json_array();
            json_object_set_new(groups, item_trip(it), g);
            json_array_append_new(order, json_string(item_trip(it)));
        }
        json_array_append(g, it);
    }
    json_array_foreach(order, k, it) {
        if ((rc = emit(s, type, json_object_get(groups, json_string_value(it)), names)) != 0)
            break;
    }
    json_decref(groups);
    json_decref(order);
    return rc;
}

/* ---------------- the hook ---------------- */

static int sync_instances(struct app *app, const struct event_row *row, json_t *after, int quiet)
{
    /* A pending meeting has no trips yet: its driver hears of it once it is approved. */
    struct sync s = {app, row->status == EVENT_CONFIRMED, clock_wall_s(), json_array(),
                     json_array(), json_array(), json_object(), quiet,
                     row->status == EVENT_PENDING};
    json_t *before = json_array(), *names = json_object();
    int rc = -1;

    /* Cancelled first, then changed, then new: a driver handed a replacement hears it last. */
    if (store_trips_of_event(app->store, row->id, collect_instance, before) == STORE_OK &&
        apply_all(&s, before, after) == 0 &&
        (quiet || (emit_all(&s, "dispatch.cancelled", s.cancelled, names) == 0 &&
                   emit_all(&s, "dispatch.updated", s.updated, names) == 0 &&
                   emit_all(&s, "dispatch.assigned", s.assigned, names) == 0)))
        rc = 0;
    json_decref(before);
    json_decref(names);
    json_decref(s.assigned);
    json_decref(s.updated);
    json_decref(s.cancelled);
    json_decref(s.trip_ids);
    return rc;
}

/* The rows after plan (or doc parsed here), written with or without messages. */
static int dispatch_write(struct app *app, const struct event_row *row, json_t *doc,
                          const struct event_plan *plan, int quiet)
{
    struct event_plan own;
    struct booking_error err;
    json_t *after;
    int rc;

    if (row->status != EVENT_CONFIRMED) {
        after = json_array();
    } else if (plan != NULL) {
        after = plan_instances(plan, row->id, doc);
    } else {
        /* Called where the document changed without a booking (preemption). */
        if (event_plan_parse(app, doc, &own, &err) != 0 ||
            event_plan_expand(&own, clock_wall_s(), &err) != 0) {
            event_plan_free(&own);
            log_error("%s: event %s: %s", __func__, row->id, err.message);
            return -1;
        }
        after = plan_instances(&own, row->id, doc);
        event_plan_free(&own);
    }
    rc = sync_instances(app, row, after, quiet);
    json_decref(after);
    return rc;
}

int dispatch_sync(struct app *app, const struct event_row *row, json_t *doc,
                  const struct event_plan *plan)
{
    return dispatch_write(app, row, doc, plan, 0);
}

int dispatch_derive(struct app *app, const struct event_row *row, json_t *doc,
                    const struct event_plan *plan)
{
    return dispatch_write(app, row, doc, plan, 1);
}

/* ---------------- trips follow their meeting ---------------- */

static void shift(json_t *trip, const char *key, int64_t delta)
{
    json_t *moved = event_time_shifted(str(trip, key), delta);

    if (moved != NULL)
        json_object_set_new(trip, key, moved);
}

void dispatch_trips_follow(json_t *prev, json_t *doc, json_t *patch)
{
    struct local_time a, b;
    json_t *t;
    size_t k;

    if (json_object_get(patch, "trips") != NULL ||
        (json_object_get(patch, "start") == NULL && json_object_get(patch, "date") == NULL) ||
        event_doc_start(prev, &a) != 0 || event_doc_start(doc, &b) != 0)
        return;
    int64_t delta = recur_local_diff(&a, &b);
    if (delta == 0)
        return;
    json_array_foreach(json_object_get(doc, "trips"), k, t) {
        shift(t, "depart", delta);
        shift(t, "return", delta);
    }
}
