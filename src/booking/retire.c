/*
 * retire.c - whether a room or a vehicle may be deleted (CONTRACT section
 * 3). Not while a meeting ahead still holds it: its meetings would keep an
 * id nobody can book again, and could no longer be edited. Move them
 * first. Meetings that are over, or cancelled, keep the reference as
 * records; a block (renovation, maintenance) is not a booking.
 *
 * Two looks, because a hold can live in either place: the occupancy index
 * has every stored occurrence's claim, including one occurrence moved to
 * a room of its own (overrides[rid].room, which the room's calendar list
 * does not name); the calendar list has the series whose occurrences go
 * beyond the stored window.
 */
#include "convene/booking.h"
#include "convene/store.h"

#include <jansson.h>
#include <stdint.h>
#include <string.h>

struct retire {
    const struct booking_ctx *ctx;
    const char *kind, *id;
    struct booking_error *err;
    int refused;
};

static int refuse(struct retire *r, const char *event_id, const char *title, int confidential)
{
    booking_error_set(r->err, BOOKING_CONFLICT, "in_use", NULL,
                      "%s '%s' is booked by meeting '%s' (%s) ahead: move or cancel it first",
                      r->kind, r->id, event_id, confidential ? "confidential" : title);
    r->refused = 1;
    return 1; /* the first is enough */
}

static int held_ahead(const struct clash *c, void *arg)
{
    struct retire *r = arg;

    if (c->event_id[0] == '\0' || !event_status_holds(event_status_parse(c->other_status)))
        return 0;
    return refuse(r, c->event_id, c->title, c->confidential);
}

static const char *member(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* Whether the document books the resource for the whole series (its room, a trip's vehicle). */
static int books(json_t *doc, const char *kind, const char *id)
{
    size_t i;
    json_t *t;

    if (strcmp(kind, "room") == 0)
        return strcmp(member(doc, "room"), id) == 0;
    json_array_foreach(json_object_get(doc, "trips"), i, t) {
        if (strcmp(member(t, "vehicle"), id) == 0)
            return 1;
    }
    return 0;
}

static int series_ahead(const struct event_row *ev, void *arg)
{
    struct retire *r = arg;
    json_t *doc;
    int ahead;

    if (!event_status_holds(ev->status) || (doc = json_loads(ev->doc, 0, NULL)) == NULL)
        return 0;
    ahead = books(doc, r->kind, r->id) &&
            booking_event_has_future(r->ctx->app, doc, r->ctx->now);
    json_decref(doc);
    return ahead ? refuse(r, ev->id, ev->title, ev->confidential) : 0;
}

int booking_resource_retirable(const struct booking_ctx *ctx, const char *kind, const char *id,
                               struct booking_error *err)
{
    struct store *st = ctx->app->store;
    struct retire r = {ctx, kind, id, err, 0};

    if (store_occupancy_overlaps(st, kind, id, ctx->now, INT64_MAX, NULL, held_ahead, &r) !=
        STORE_OK)
        return r.refused ? -1
                         : booking_error_set(err, BOOKING_STORAGE, "storage", NULL,
                                             "the database failed");
    if (r.refused)
        return -1;
    if (store_calendar_events(st, kind, id, series_ahead, &r) != STORE_OK && !r.refused)
        return booking_error_set(err, BOOKING_STORAGE, "storage", NULL, "the database failed");
    return r.refused ? -1 : 0;
}
