/*
 * leave.c - what deleting a person does to the meetings they are in,
 * decided before anything is written. Meetings that are over, or
 * cancelled, are records and stay as they are. A meeting with an
 * occurrence still ahead loses the person from its attendees and from its
 * trips' passengers, as if the secretary had sent that PATCH
 * (event.updated, sequence, audit trail, reminders, meal counts with
 * catering.updated, dispatch.updated to the driver). A person who drives
 * or approved a trip that has not returned yet is not deleted: the trip
 * needs someone else first (409 in_use).
 */
#include "plan.h"

#include "convene/booking.h"
#include "convene/store.h"

#include <stdlib.h>
#include <string.h>

struct leave {
    const struct booking_ctx *ctx;
    const char *person;
    json_t *patches; /* [{"event", "patch"}] to apply once the scan is over */
    struct booking_error *err;
    int refused;
};

static const char *member(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static int check_trip(const struct trip_row *t, void *arg)
{
    struct leave *l = arg;
    const char *as = strcmp(t->driver, l->person) == 0        ? "drives"
                     : strcmp(t->approved_by, l->person) == 0 ? "approved"
                                                              : NULL;

    if (as == NULL)
        return 0;
    booking_error_set(l->err, BOOKING_CONFLICT, "in_use", NULL,
                      "person '%s' %s trip '%s' of event '%s' departing %s: give the trip "
                      "another %s first",
                      l->person, as, t->trip_id, t->event_id, t->depart,
                      as[0] == 'd' ? "driver" : "approver");
    l->refused = 1;
    return 1; /* the first is enough */
}

int booking_event_has_future(struct app *app, json_t *doc, int64_t now)
{
    struct event_plan plan;
    struct booking_error err;
    json_t *copy = json_deep_copy(doc); /* parsing writes defaults into the document */
    int ahead = 0;

    if (event_plan_parse(app, copy, &plan, &err) == 0 && event_plan_expand(&plan, now, &err) == 0)
        /* A series starting past its stored window has only beyond occurrences. */
        for (size_t i = 0; i < plan.nocc + plan.nbeyond && !ahead; i++)
            ahead = plan.occ[i].end_utc > now;
    event_plan_free(&plan);
    json_decref(copy);
    return ahead;
}

/* Removes person from a JSON array of ids (passengers) or of {"person"} (attendees). */
static int drop_person(json_t *list, const char *person)
{
    int dropped = 0;

    for (size_t i = json_array_size(list); i-- > 0;) {
        json_t *v = json_array_get(list, i);
        const char *id = json_is_object(v) ? member(v, "person") : json_string_value(v);
        if (id != NULL && strcmp(id, person) == 0) {
            json_array_remove(list, i);
            dropped = 1;
        }
    }
    return dropped;
}

/* The PATCH that drops the person from one meeting ahead, or NULL when they are not in it. */
static json_t *leave_patch(json_t *doc, const char *person)
{
    json_t *patch = json_object(), *t;
    size_t i;
    int changed = 0;

    if (drop_person(json_object_get(doc, "attendees"), person)) {
        json_object_set(patch, "attendees", json_object_get(doc, "attendees"));
        changed = 1;
    }
    json_array_foreach(json_object_get(doc, "trips"), i, t) {
        changed |= drop_person(json_object_get(t, "passengers"), person) << 1;
    }
    if (changed & 2)
        json_object_set(patch, "trips", json_object_get(doc, "trips"));
    if (changed)
        return patch;
    json_decref(patch);
    return NULL;
}

static int leave_event(const struct event_row *ev, void *arg)
{
    struct leave *l = arg;
    json_t *doc, *patch;

    if (!event_status_holds(ev->status) || (doc = json_loads(ev->doc, 0, NULL)) == NULL)
        return 0;
    if (booking_event_has_future(l->ctx->app, doc, l->ctx->now) &&
        (patch = leave_patch(doc, l->person)) != NULL)
        json_array_append_new(l->patches,
                              json_pack("{s:s, s:o}", "event", ev->id, "patch", patch));
    json_decref(doc);
    return 0;
}

/*
 * Applies each patch as a PATCH of the caller's (booking_event_change), in
 * the caller's transaction (a savepoint each): the same checks, messages
 * and audit trail as a secretary's edit. A refusal (a clash, another
 * deleted id in the meeting) names the meeting. 0 or -1 with err.
 */
static int leave_apply(struct leave *l)
{
    json_t *p;
    size_t k;

    json_array_foreach(l->patches, k, p) {
        struct booking_change ch = {BOOKING_PATCH, json_object_get(p, "patch"), NULL,
                                    BOOKING_ANY_VERSION};
        struct booking_error why = {0};
        struct event_row row;
        char *text = NULL;
        int rc = booking_event_change(l->ctx, member(p, "event"), &ch, &row, &text, &why);

        free(text);
        store_event_row_clear(&row);
        if (rc == 0)
            continue;
        if (why.kind == BOOKING_STORAGE)
            booking_error_set(l->err, BOOKING_STORAGE, "storage", NULL,
                              "the database failed; the change was not made");
        else
            booking_error_set(l->err, BOOKING_CONFLICT, "in_use", NULL,
                              "event '%s' cannot drop person '%s': %s", member(p, "event"),
                              l->person, why.message);
        booking_error_clear(&why);
        return -1;
    }
    return 0;
}

int booking_person_leave(const struct booking_ctx *ctx, const char *person,
                         struct booking_error *err)
{
    struct leave l = {ctx, person, json_array(), err, 0};
    struct store *st = ctx->app->store;
    int rc = 0;

    /* Trip rows ahead are rewritten with their events, so they are current. */
    if (store_trips_held_by(st, person, ctx->now, check_trip, &l) != STORE_OK ||
        (!l.refused && store_calendar_events(st, "person", person, leave_event, &l) != STORE_OK)) {
        if (!l.refused)
            booking_error_set(err, BOOKING_STORAGE, "storage", NULL,
                              "the database failed; the change was not made");
        rc = -1;
    } else if (l.refused || leave_apply(&l) != 0) {
        rc = -1;
    }
    json_decref(l.patches);
    return rc;
}
