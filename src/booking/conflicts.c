/*
 * conflicts.c - 409 entries that explain a clash (see conflicts.h). An
 * entry used to carry ids only and never said that a room's setup buffer
 * caused it; a clash with a car showed the meeting's start, not when the
 * car leaves.
 */
#include "conflicts.h"

#include "convene/store.h"
#include "convene/util.h"
#include "convene/visibility.h"

#include <stdio.h>
#include <string.h>

static const struct viewer calendar_viewer = {.kind = VIEWER_CALENDAR};

void conflict_report_init(struct conflict_report *r, struct app *app,
                          const struct event_plan *plan)
{
    r->app = app;
    r->plan = plan;
    r->names = json_object();
    r->trips = json_object();
}

void conflict_report_free(struct conflict_report *r)
{
    json_decref(r->names);
    json_decref(r->trips);
    r->names = r->trips = NULL;
}

json_t *conflict_report_name(struct conflict_report *r, const char *type, const char *id)
{
    const struct record_type *rt = record_type_by_kind(type);
    char key[16 + ID_STR_MAX];
    json_t *name;
    struct record rec;

    snprintf(key, sizeof(key), "%s:%s", type, id);
    if ((name = json_object_get(r->names, key)) != NULL)
        return json_incref(name);
    name = json_string(id);
    if (rt != NULL) {
        record_init(&rec, rt);
        if (store_record_get(r->app->store, rt, id, &rec) == STORE_OK && rec.values[0].set)
            json_string_set(name, rec.values[0].s);
        record_clear(&rec, rt);
    }
    json_object_set(r->names, key, name);
    return name;
}

static int collect_trip_times(const struct trip_row *t, void *arg)
{
    json_object_set_new(arg, t->recurrence_id, json_pack("[s, s]", t->depart, t->ret));
    return 0;
}

/* [depart, return] of an existing trip in one occurrence, or NULL. Borrowed. */
static json_t *other_trip_times(struct conflict_report *r, const char *trip_id, const char *rid)
{
    json_t *rows = json_object_get(r->trips, trip_id);

    if (rows == NULL) {
        rows = json_object();
        if (store_trips_of_trip(r->app->store, trip_id, collect_trip_times, rows) != STORE_OK)
            json_object_clear(rows);
        json_object_set_new(r->trips, trip_id, rows);
    }
    return json_object_get(rows, rid);
}

static const struct plan_trip *plan_trip_by_id(const struct event_plan *p, const char *id)
{
    for (size_t t = 0; id != NULL && t < p->ntrips; t++)
        if (strcmp(p->trips[t].id, id) == 0)
            return &p->trips[t];
    return NULL;
}

/* Sets "depart" and "return" of the booking's own trip in occurrence o. */
static void own_trip_times(struct conflict_report *r, json_t *entry, const struct plan_trip *t,
                           const struct occurrence *o)
{
    struct local_time d, b;
    int64_t du, bu;
    char ds[TIME_LOCAL_STR], bs[TIME_LOCAL_STR];

    event_plan_trip_times(r->plan, o, t, &d, &b, &du, &bu);
    time_local_format(&d, ds);
    time_local_format(&b, bs);
    json_object_set_new(entry, "depart", json_string(ds));
    json_object_set_new(entry, "return", json_string(bs));
}

/*
 * Why the clash: a room's other hold less this room's buffers is the other
 * meeting itself; if it does not meet this one, the buffers alone clash.
 */
static enum conflict_reason clash_reason(struct conflict_report *r, const struct claim *claim,
                                         const struct occurrence *o, const struct clash *c)
{
    int64_t setup = 0, teardown = 0;

    if (strcmp(claim->role, "room") == 0) {
        event_plan_room(r->plan, o, &setup, &teardown); /* an occurrence may have its own */
        setup *= 60;
        teardown *= 60;
    }
    return conflict_classify(c->block_id[0] != '\0', o->start_utc, o->end_utc,
                             c->start_utc + setup, c->end_utc - teardown);
}

json_t *conflict_report_clash(struct conflict_report *r, const struct claim *claim,
                              const struct occurrence *o, const struct clash *c)
{
    int block = c->block_id[0] != '\0', trip = c->trip_id[0] != '\0';
    const struct plan_trip *own = plan_trip_by_id(r->plan, claim->trip_id);
    json_t *entry = json_pack("{s:{s:s, s:s}, s:s, s:o, s:s, s:s, s:s, s:s}", "resource", "type",
                              c->resource_type, "id", c->resource_id, "role", c->role, "name",
                              conflict_report_name(r, c->resource_type, c->resource_id), "reason",
                              conflict_reason_name(clash_reason(r, claim, o, c)), "other_kind",
                              block ? "block" : trip ? "trip" : "event", "start", o->start,
                              "other_start", c->other_start);

    json_object_set_new(entry, block ? "block" : "event",
                        json_string(block ? c->block_id : c->event_id));
    /* A booking awaiting approval holds its time too; the client is told which it met. */
    if (!block && c->other_status[0] != '\0')
        json_object_set_new(entry, "other_status", json_string(c->other_status));
    /*
     * A clash is seen from the contested resource's calendar, whoever asks
     * (a 409 says "null if confidential"), so a confidential meeting shows
     * there as busy, without its title: the visibility rule's calendar view.
     */
    json_object_set_new(entry, "title",
                        visibility_decide(&calendar_viewer, c->confidential, 0, 0, 0) == VISIBLE_FULL &&
                                c->title[0] != '\0'
                            ? json_string(c->title)
                            : json_null());
    if (own != NULL)
        own_trip_times(r, entry, own, o);
    if (trip) {
        json_t *times = other_trip_times(r, c->trip_id, c->recurrence_id);
        json_object_set_new(entry, "other_trip", json_string(c->trip_id));
        if (times != NULL) {
            json_object_set(entry, "other_depart", json_array_get(times, 0));
            json_object_set(entry, "other_return", json_array_get(times, 1));
        }
    }
    return entry;
}

json_t *conflict_report_driver(struct conflict_report *r, enum conflict_reason reason,
                               const struct plan_trip *t, const struct occurrence *o,
                               json_t *other)
{
    json_t *entry = json_pack("{s:{s:s, s:s}, s:s, s:o, s:s, s:s, s:s}", "resource", "type",
                              "person", "id", t->driver, "role", "driver", "name",
                              conflict_report_name(r, "person", t->driver), "reason",
                              conflict_reason_name(reason), "other_kind", "trip", "start",
                              o->start);
    static const char *const copied[] = {"event", "recurrence_id", "title"};
    static const char *const renamed[] = {"event", "other_recurrence_id", "title"};

    own_trip_times(r, entry, t, o);
    if (other == NULL)
        return entry;
    for (size_t i = 0; i < ARRAY_SIZE(copied); i++)
        json_object_set(entry, renamed[i], json_object_get(other, copied[i]));
    json_object_set(entry, "other_trip", json_object_get(other, "id"));
    json_object_set(entry, "other_depart", json_object_get(other, "depart"));
    json_object_set(entry, "other_return", json_object_get(other, "return"));
    return entry;
}
