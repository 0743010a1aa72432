/*
 * visibility_doc.c - the visibility rule (core/visibility.c) applied to a
 * stored event document: the facts read from its JSON.
 */
#include "convene/visibility.h"

#include "convene/app.h"
#include "convene/store.h"
#include "convene/util.h"

#include <jansson.h>
#include <string.h>

static int is_person(json_t *v, const char *person)
{
    return json_is_string(v) && strcmp(json_string_value(v), person) == 0;
}

int visibility_doc_attends(json_t *doc, const char *person)
{
    size_t i;
    json_t *a;

    json_array_foreach(json_object_get(doc, "attendees"), i, a) {
        if (is_person(json_object_get(a, "person"), person))
            return 1;
    }
    return 0;
}

int visibility_doc_on_trip(json_t *doc, const char *person)
{
    size_t i, k;
    json_t *t, *p;

    json_array_foreach(json_object_get(doc, "trips"), i, t) {
        if (is_person(json_object_get(t, "driver"), person))
            return 1;
        json_array_foreach(json_object_get(t, "passengers"), k, p) {
            if (is_person(p, person))
                return 1;
        }
    }
    return 0;
}

int visibility_doc_approves(const struct viewer *v, json_t *doc)
{
    const char *person = v->person != NULL ? v->person : "";
    size_t i;
    json_t *a;

    if (person[0] == '\0')
        return 0;
    json_array_foreach(json_object_get(doc, "approvals"), i, a) {
        json_t *approver = json_object_get(a, "approver");
        const char *status = json_string_value(json_object_get(a, "status"));
        if (!json_is_string(approver) || status == NULL || strcmp(status, "pending") != 0)
            continue;
        if (is_person(approver, person) ||
            (v->delegate_of != NULL && v->delegate_of(v->arg, json_string_value(approver), person)))
            return 1;
    }
    return 0;
}

/* Asks the store whether person is approver's delegate at this moment. */
static int delegate_now(void *arg, const char *approver, const char *person)
{
    struct app *app = arg;

    return store_block_delegates(app->store, approver, person, clock_wall_s()) == STORE_OK;
}

struct viewer visibility_person(struct app *app, const char *person)
{
    struct viewer v = {.kind = VIEWER_PERSON, .person = person, .delegate_of = delegate_now,
                       .arg = app};
    return v;
}

enum visibility visibility_of_doc(const struct viewer *v, json_t *doc)
{
    int confidential = json_is_true(json_object_get(doc, "confidential"));
    const char *person = v->kind == VIEWER_PERSON && v->person != NULL ? v->person : "";

    /* A viewer with no person (a leader token bound to none) concerns no meeting. */
    if (v->kind == VIEWER_PERSON && person[0] == '\0')
        return VISIBLE_NONE;
    int attends = person[0] && visibility_doc_attends(doc, person);
    int on_trip = person[0] && visibility_doc_on_trip(doc, person);
    /* Asked last and only when it can matter: it may ask the store about delegates. */
    int approves = v->kind == VIEWER_PERSON && !attends && (confidential || !on_trip) &&
                   visibility_doc_approves(v, doc);

    return visibility_decide(v, confidential, attends, on_trip, approves);
}

/* What a viewer who does not see a meeting in full still sees of its trip. */
static json_t *trip_view(json_t *trip)
{
    static const char *const kept[] = {"id", "vehicle", "driver", "depart", "return",
                                       "from", "to", "approved_by"};
    json_t *out = json_object();

    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        json_t *v = json_object_get(trip, kept[i]);
        if (v != NULL)
            json_object_set(out, kept[i], v);
    }
    return out;
}

/* Overrides keep only what moves or cancels an occurrence: their titles are secret too. */
static json_t *overrides_view(json_t *overrides)
{
    static const char *const kept[] = {"start", "end", "cancelled"};
    json_t *out = json_object(), *ov;
    const char *rid;

    json_object_foreach(overrides, rid, ov) {
        json_t *o = json_object();
        for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
            json_t *v = json_object_get(ov, kept[i]);
            if (v != NULL)
                json_object_set(o, kept[i], v);
        }
        json_object_set_new(out, rid, o);
    }
    return out;
}

json_t *visibility_doc_view(json_t *doc, enum visibility vis, const char *person)
{
    /*
     * A list of what may be shown, not of what to hide: members added to
     * events later (kind, department, budget...) stay hidden until someone
     * decides they may be seen.
     */
    static const char *const kept[] = {
        "id",     "uid",       "sequence", "status",   "version",    "etag",
        "start",  "end",       "date",     "end_date", "tz",         "rrule",
        "exdates", "rdates",   "start_utc", "end_utc", "created_at", "updated_at",
        "confidential"};
    json_t *out, *trips, *t;
    size_t i;

    if (vis == VISIBLE_FULL)
        return json_deep_copy(doc);
    out = json_object();
    for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        json_t *v = json_object_get(doc, kept[i]);
        if (v != NULL)
            json_object_set_new(out, kept[i], json_deep_copy(v));
    }
    json_object_set_new(out, "title", json_null());
    json_object_set_new(out, "visibility", json_string(vis == VISIBLE_TRIP ? "trip" : "busy"));
    if (json_object_get(doc, "overrides") != NULL)
        json_object_set_new(out, "overrides", overrides_view(json_object_get(doc, "overrides")));
    trips = json_array();
    json_array_foreach(json_object_get(doc, "trips"), i, t) {
        json_t *p;
        size_t k;
        int theirs = vis == VISIBLE_TRIP && person != NULL &&
                     is_person(json_object_get(t, "driver"), person);
        json_array_foreach(json_object_get(t, "passengers"), k, p) {
            theirs |= vis == VISIBLE_TRIP && person != NULL && is_person(p, person);
        }
        if (theirs)
            json_array_append_new(trips, trip_view(t));
    }
    json_object_set_new(out, "trips", trips);
    return out;
}
