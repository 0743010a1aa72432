/*
 * trips.c - the motor pool's endpoints (CONTRACT section 6): the dispatch
 * list of a day or of days ahead (GET /api/v1/trips), a driver's
 * acknowledgement (POST /api/v1/trips/{id}/ack), standalone trips with no meeting (POST
 * /api/v1/trips: an airport pickup becomes an event that holds only the
 * trip, so it is checked, booked, fed and dispatched like any other).
 * The escalation of unacknowledged trips is the booking layer's
 * (booking/escalate.c). The rows come from booking/dispatch.c, which keeps them in step with events.
 */
#include "handlers.h"

#include "convene/event_docs.h"
#include "convene/body.h"
#include "convene/recur.h"
#include "convene/util.h"

#include <stdio.h>
#include <string.h>

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/*
 * How the caller sees the trip's meeting. A person's view is decided on
 * the meeting's document (do they attend?); when it cannot be read, as a
 * driver who does not attend.
 */
static enum visibility trip_visibility(struct api_call *call, json_t *inst)
{
    struct viewer viewer = api_viewer(call);
    struct event_doc *ev;
    enum visibility vis;
    int rc;

    if (viewer.kind == VIEWER_OFFICE)
        return VISIBLE_FULL;
    ev = event_docs_get(call->app->event_docs, str(inst, "event"), &rc);
    if (ev == NULL)
        return visibility_decide(&viewer, json_is_true(json_object_get(inst, "confidential")), 0,
                                 1, 0);
    vis = visibility_of_doc(&viewer, ev->doc);
    event_doc_release(ev);
    return vis;
}

/*
 * A trip occurrence as listed: the public shape plus its meeting's title.
 * Who does not see the meeting in full (a driver of a confidential one)
 * gets neither the title nor the passengers, who are its attendees.
 */
static json_t *list_item(struct api_call *call, json_t *inst, json_t *names)
{
    json_t *item = booking_trip_render(call->app, inst, names);
    int confidential = json_is_true(json_object_get(inst, "confidential"));
    int full = trip_visibility(call, inst) == VISIBLE_FULL;

    json_object_set_new(item, "title",
                        full ? json_incref(json_object_get(inst, "title")) : json_null());
    json_object_set_new(item, "confidential", json_boolean(confidential));
    if (!full) {
        json_object_del(item, "passengers");
        json_object_del(item, "passenger_names");
    }
    return item;
}

static json_int_t depart_of(json_t *inst)
{
    return json_integer_value(json_object_get(inst, "depart_utc"));
}

static int collect(const struct trip_row *t, void *arg)
{
    json_array_append_new(arg, booking_trip_json(t));
    return 0;
}

/* ---------------- GET /api/v1/trips ---------------- */

#define TRIPS_MAX_DAYS 92
#define TRIPS_DEFAULT_DAYS 31 /* ?from= without ?to=: "my trips ahead" */

/* One query date; 1 when given, 0 when absent, -1 after replying. */
static int date_param(struct api_call *call, const char *name, struct local_time *out)
{
    char buf[16];
    int rc = api_query_param(call, name, buf, sizeof(buf));

    if (rc == 1 && time_date_parse(buf, out) != 0) {
        api_reply_error(call, 422, "invalid", name, "'%s' must be a date like 2026-12-07", name);
        return -1;
    }
    return rc;
}

/*
 * The local days listed: ?date=D alone, or ?from=D[&to=E] (to defaults to
 * 30 days after from; at most 92 days). 0, or -1 after replying.
 */
static int trips_days(struct api_call *call, char from[TIME_DATE_STR], char to[TIME_DATE_STR])
{
    struct local_time d, a, b;
    int has_date, has_from, has_to;

    if ((has_date = date_param(call, "date", &d)) < 0 ||
        (has_from = date_param(call, "from", &a)) < 0 || (has_to = date_param(call, "to", &b)) < 0)
        return -1;
    if (has_date && (has_from || has_to)) {
        api_reply_error(call, 422, "invalid", "date", "give either 'date' or 'from'/'to', not both");
        return -1;
    }
    if (!has_date && !has_from) {
        api_reply_error(call, 422, "required", has_to ? "from" : "date",
                        "'date' (one day) or 'from' (and 'to') is required, like 2026-12-07");
        return -1;
    }
    if (has_date) {
        a = b = d;
    } else if (!has_to) {
        b = a;
        recur_local_add(&b, (int64_t)(TRIPS_DEFAULT_DAYS - 1) * 86400);
    }
    int64_t days = recur_local_diff(&a, &b) / 86400;
    if (days < 0 || days >= TRIPS_MAX_DAYS) {
        api_reply_error(call, 422, "invalid", "to", "'to' must be on or after 'from', within %d days",
                        TRIPS_MAX_DAYS);
        return -1;
    }
    time_date_format(&a, from);
    time_date_format(&b, to);
    return 0;
}

/* Appends the trips awaiting approval to rows, in departure order with the others. */
static int add_pending(struct api_call *call, const char *from, const char *to,
                       const char *driver, const char *vehicle, json_t *rows)
{
    json_t *pending, *inst, *merged;
    size_t i, k = 0;

    if (booking_pending_trips(call->app, from, to, driver, vehicle, NULL, &pending) != 0) {
        json_decref(pending);
        return -1;
    }
    if (json_array_size(pending) == 0) {
        json_decref(pending);
        return 0;
    }
    merged = json_array();
    json_array_foreach(rows, i, inst) {
        for (; k < json_array_size(pending) &&
               depart_of(json_array_get(pending, k)) < depart_of(inst); k++)
            json_array_append(merged, json_array_get(pending, k));
        json_array_append(merged, inst);
    }
    for (; k < json_array_size(pending); k++)
        json_array_append(merged, json_array_get(pending, k));
    json_array_clear(rows);
    json_array_extend(rows, merged);
    json_decref(merged);
    json_decref(pending);
    return 0;
}

void api_trips_list(struct api_call *call)
{
    char from[TIME_DATE_STR], to[TIME_DATE_STR], driver[ID_STR_MAX], vehicle[ID_STR_MAX];
    int has_driver, has_vehicle;
    json_t *rows, *items, *names, *r;
    size_t k;

    if ((has_driver = api_query_param(call, "driver", driver, sizeof(driver))) < 0 ||
        (has_vehicle = api_query_param(call, "vehicle", vehicle, sizeof(vehicle))) < 0 ||
        trips_days(call, from, to) != 0)
        return;
    /* A driver reads their own trips only. */
    if (!api_has_role(call, ROLE_ADMIN | ROLE_SECRETARY)) {
        if (has_driver && strcmp(driver, call->auth.person) != 0) {
            api_reply_error(call, 403, "forbidden", "driver", "a driver reads their own trips");
            return;
        }
        snprintf(driver, sizeof(driver), "%s", call->auth.person);
        has_driver = 1;
    }
    rows = json_array();
    if (store_trips_of_days(call->app->store, from, to, has_driver ? driver : NULL,
                            has_vehicle ? vehicle : NULL, collect, rows) != STORE_OK) {
        json_decref(rows);
        api_reply_store_error(call);
        return;
    }
    /* The office also sees trips awaiting approval (the cars board); a driver hears once approved. */
    if (api_has_role(call, ROLE_ADMIN | ROLE_SECRETARY) &&
        add_pending(call, from, to, has_driver ? driver : NULL, has_vehicle ? vehicle : NULL,
                    rows) != 0) {
        json_decref(rows);
        api_reply_store_error(call);
        return;
    }
    items = json_array();
    names = json_object();
    json_array_foreach(rows, k, r) {
        json_t *item = list_item(call, r, names);
        if (json_is_true(json_object_get(r, "pending")))
            json_object_set_new(item, "pending", json_true());
        json_array_append_new(items, item);
    }
    json_decref(names);
    json_decref(rows);
    api_reply_json(call, 200, items, -1);
}

/* ---------------- POST /api/v1/trips/{id}/ack ---------------- */

static const char *const ack_members[] = {"recurrence_id", NULL};

/* The optional body's recurrence_id ("" = every occurrence). 0, or -1 after replying. */
static int ack_target(struct api_call *call, char rid[TIME_LOCAL_STR])
{
    struct api_error err;
    const char *s = NULL;
    json_t *body;
    int has;

    rid[0] = '\0';
    if (call->req->body == NULL || call->req->body_len == 0)
        return 0;
    if ((body = api_body_object(call)) == NULL)
        return -1;
    memset(&err, 0, sizeof(err));
    if (body_only_members(body, ack_members, &err) != 0 ||
        (has = body_member_string(body, "recurrence_id", 0, TIME_LOCAL_STR - 1, &s, &err)) < 0) {
        api_reply_api_error(call, &err);
        return -1;
    }
    if (has)
        snprintf(rid, TIME_LOCAL_STR, "%s", s);
    return 0;
}

/* The acknowledgement is the booking layer's (booking_trip_ack); a one-tap link makes the same. */
void api_trips_ack(struct api_call *call)
{
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};
    char rid[TIME_LOCAL_STR];
    json_t *done = NULL, *out, *names, *r;
    size_t k;

    if (ack_target(call, rid) != 0)
        return;
    events_call_ctx(call, &actor, &ctx);
    if (booking_trip_ack(&ctx, call->params[0], rid, 0, &done, &err) != 0) {
        api_reply_booking_error(call, &err);
        booking_error_clear(&err);
        return;
    }
    out = json_array();
    names = json_object();
    json_array_foreach(done, k, r) {
        json_array_append_new(out, list_item(call, r, names));
    }
    json_decref(names);
    json_decref(done);
    api_reply_json(call, 200, json_pack("{s:s, s:o}", "trip", call->params[0], "acknowledged", out),
                   -1);
}

/* ---------------- POST /api/v1/trips: a trip with no meeting ---------------- */

static const char *const standalone_members[] = {
    "title", "description", "tz",         "vehicle",     "driver", "depart",
    "return", "from",       "to",         "passengers",  "approved_by", NULL};

static const char *const trip_keys[] = {"vehicle", "driver", "depart", "return", "from", "to",
                                        "passengers", "approved_by", NULL};

/*
 * The event that holds only the trip: from its departure to its return,
 * with the passengers as its attendees, so the ride is in their calendars
 * and their rank protects the car from preemption like a meeting's would.
 */
static json_t *standalone_event(json_t *body)
{
    json_t *trip = json_object(), *doc = json_object(), *attendees = json_array(), *p;
    char title[1100];
    size_t i;

    for (size_t k = 0; trip_keys[k] != NULL; k++)
        if (json_object_get(body, trip_keys[k]) != NULL)
            json_object_set(trip, trip_keys[k], json_object_get(body, trip_keys[k]));
    if (json_is_string(json_object_get(body, "title")))
        snprintf(title, sizeof(title), "%s", str(body, "title"));
    else
        snprintf(title, sizeof(title), "用车：%s → %s", *str(body, "from") ? str(body, "from") : "?",
                 *str(body, "to") ? str(body, "to") : "?");
    json_object_set_new(doc, "title", json_string(title));
    json_object_set(doc, "start", json_object_get(body, "depart"));
    json_object_set(doc, "end", json_object_get(body, "return"));
    if (json_object_get(body, "tz") != NULL)
        json_object_set(doc, "tz", json_object_get(body, "tz"));
    if (json_object_get(body, "description") != NULL)
        json_object_set(doc, "description", json_object_get(body, "description"));
    json_array_foreach(json_object_get(body, "passengers"), i, p) {
        json_array_append_new(attendees, json_pack("{s:O}", "person", p));
    }
    json_object_set_new(doc, "attendees", attendees);
    json_object_set_new(doc, "trips", json_pack("[o]", trip));
    return doc;
}

void api_trips_create(struct api_call *call)
{
    struct store *st = call->app->store;
    json_t *body = api_body_object(call), *doc, *rows, *r;
    struct api_error err;
    struct booking_error berr = {0};
    struct booking_actor actor;
    struct booking_ctx ctx;
    char id[ID_STR_MAX];

    if (body == NULL)
        return;
    memset(&err, 0, sizeof(err));
    if (body_only_members(body, standalone_members, &err) != 0) {
        api_reply_api_error(call, &err);
        return;
    }
    doc = standalone_event(body);
    rows = json_array();
    events_call_ctx(call, &actor, &ctx);
    if (store_begin(st) != STORE_OK) {
        api_reply_store_error(call);
    } else if (booking_event_create(&ctx, doc, NULL, "created", id, &berr) != 0) {
        /* Errors name the event's fields (start, trips[0].driver): the trip's own. */
        store_rollback(st);
        api_reply_booking_error(call, &berr);
        booking_error_clear(&berr);
    } else if (store_trips_of_event(st, id, collect, rows) != STORE_OK ||
               store_commit(st) != STORE_OK) {
        store_rollback(st);
        api_reply_store_error(call);
    } else {
        json_t *names = json_object();
        r = json_array_get(rows, 0);
        api_reply_json(call, 201,
                       r ? list_item(call, r, names) : json_pack("{s:s}", "event", id), -1);
        json_decref(names);
    }
    json_decref(rows);
    json_decref(doc);
}
