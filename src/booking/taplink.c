/*
 * taplink.c - what a one-tap link allows (CONTRACT section 14): finding it
 * by its token's hash, deciding whether it still works, what its page may
 * show, and taking its action as its person through the same changes as
 * the API (booking_trip_ack; the RSVP change with a recurrence id;
 * booking_approval_decide as the approver). The
 * link is only a way in: whether the action is due is decided from the
 * trip or occurrence as they are now, so a changed trip's acknowledgement
 * is due again through the same link, and a cancelled trip, another
 * driver or an attendee taken off makes it void.
 */
#include "dispatch.h"

#include "convene/booking.h"
#include "convene/record.h"
#include "convene/taplink.h"
#include "convene/timeutil.h"
#include "convene/util.h"
#include "convene/visibility.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static int64_t num(json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

static int collect(const struct trip_row *t, void *arg)
{
    json_array_append_new(arg, booking_trip_json(t));
    return 0;
}

/* The stored document of an event (NULL when gone or unreadable); *cancelled its status. */
static json_t *event_doc(struct app *app, const char *id, int *cancelled)
{
    struct event_row row;
    json_t *doc = NULL;

    memset(&row, 0, sizeof(row));
    *cancelled = 0;
    if (store_event_get(app->store, id, &row) == STORE_OK) {
        doc = json_loads(row.doc, 0, NULL);
        *cancelled = row.status == EVENT_CANCELLED;
    }
    store_event_row_clear(&row);
    return doc;
}

/* ---------------- a driver's acknowledgement ---------------- */

/* The trip as its driver's page shows it: one occurrence, and how many are ahead. */
static json_t *ack_shown(struct app *app, json_t *inst, size_t ahead, const char *person)
{
    json_t *names = json_object(), *trip = booking_trip_render(app, inst, names);
    json_t *out = json_pack("{s:s, s:I}", "kind", "ack", "count", (json_int_t)ahead);
    static const char *const copied[] = {"depart", "return", "tz", "from", "to",
                                         "vehicle_name", "plate", "driver_name"};
    struct viewer viewer = visibility_person(app, person);
    int cancelled, confidential = json_is_true(json_object_get(inst, "confidential"));
    /* Only a confidential meeting needs its document: does the driver attend? */
    json_t *doc = confidential ? event_doc(app, str(inst, "event"), &cancelled) : NULL;

    for (size_t i = 0; i < ARRAY_SIZE(copied); i++)
        json_object_set(out, copied[i], json_object_get(trip, copied[i]));
    /* A confidential meeting's title and people only for a driver who attends it. */
    if (!confidential || (doc != NULL && visibility_of_doc(&viewer, doc) == VISIBLE_FULL)) {
        json_object_set(out, "title", json_object_get(inst, "title"));
        json_object_set(out, "passenger_names", json_object_get(trip, "passenger_names"));
    }
    json_decref(doc);
    json_decref(trip);
    json_decref(names);
    return out;
}

static int decide_ack(const struct booking_ctx *ctx, struct booking_link *l)
{
    json_t *rows = json_array(), *r, *first = NULL;
    size_t k, mine = 0, ahead = 0, pending = 0;

    if (store_trips_of_trip(ctx->app->store, l->row.trip_id, collect, rows) != STORE_OK) {
        json_decref(rows);
        return -1;
    }
    json_array_foreach(rows, k, r) {
        if (strcmp(str(r, "driver"), l->row.person) != 0)
            continue;
        mine++;
        if (num(r, "return_utc") <= ctx->now)
            continue;
        if (ahead++ == 0)
            first = r;
        pending += num(r, "acked_at") == 0;
    }
    /* No rows: the trip was removed or its meeting cancelled; none of theirs: another driver. */
    if (mine == 0)
        l->state = BOOKING_LINK_VOID;
    else if (ahead == 0)
        l->state = BOOKING_LINK_EXPIRED;
    else
        l->state = pending > 0 ? BOOKING_LINK_OPEN : BOOKING_LINK_DONE;
    if (first != NULL)
        l->shown = ack_shown(ctx->app, first, ahead, l->row.person);
    json_decref(rows);
    return 0;
}

/* ---------------- an attendee's answer ---------------- */

/* The person's answer to the occurrence: its own, else the series', else needs-action. */
static const char *answer_of(json_t *doc, const char *rid, const char *person)
{
    json_t *ov = json_object_get(json_object_get(doc, "overrides"), rid), *a;
    const char *own = json_string_value(json_object_get(json_object_get(ov, "responses"), person));
    size_t i;

    if (own != NULL)
        return own;
    json_array_foreach(json_object_get(doc, "attendees"), i, a) {
        if (strcmp(str(a, "person"), person) == 0 && json_is_string(json_object_get(a, "response")))
            return str(a, "response");
    }
    return "needs-action";
}

/* The name of a room or person by id (null when none or gone). */
static json_t *record_name(struct app *app, const struct record_type *type, const char *id)
{
    struct record rec;
    json_t *out = json_null();

    if (id[0] == '\0')
        return out;
    record_init(&rec, type);
    if (store_record_get(app->store, type, id, &rec) == STORE_OK) {
        const struct field_value *v = &rec.values[record_field_index(type, "name")];
        if (v->set && v->s != NULL)
            out = json_string(v->s);
    }
    record_clear(&rec, type);
    return out != NULL ? out : json_null();
}

static json_t *room_name(struct app *app, const char *id)
{
    return record_name(app, &record_room, id);
}

static json_t *rsvp_shown(struct app *app, json_t *doc, const struct occurrence *o,
                          const char *person)
{
    json_t *ov = json_object_get(json_object_get(doc, "overrides"), o->recurrence_id);
    json_t *title = json_object_get(ov, "title") ? json_object_get(ov, "title")
                                                  : json_object_get(doc, "title");
    json_t *location = json_object_get(ov, "location") ? json_object_get(ov, "location")
                                                        : json_object_get(doc, "location");

    /* Only an attendee reaches this: they may read the meeting in full, confidential or not. */
    return json_pack("{s:s, s:O?, s:s, s:s, s:s, s:o, s:O?, s:s}", "kind", "rsvp", "title", title,
                     "start", o->start, "end", o->end, "tz", str(doc, "tz"), "room",
                     room_name(app, str(doc, "room")), "location", location, "response",
                     answer_of(doc, o->recurrence_id, person));
}

static int decide_rsvp(const struct booking_ctx *ctx, struct booking_link *l)
{
    struct occurrence o;
    int cancelled, rc;
    json_t *doc = event_doc(ctx->app, l->row.event_id, &cancelled);

    l->state = BOOKING_LINK_VOID;
    if (doc == NULL || cancelled || !visibility_doc_attends(doc, l->row.person)) {
        json_decref(doc);
        return 0;
    }
    /* A cancelled occurrence is no longer stored. */
    rc = store_occurrence_get(ctx->app->store, l->row.event_id, l->row.recurrence_id, &o);
    if (rc == STORE_OK) {
        l->shown = rsvp_shown(ctx->app, doc, &o, l->row.person);
        if (o.start_utc <= ctx->now)
            l->state = BOOKING_LINK_EXPIRED;
        else
            l->state = l->row.used_at != 0 ? BOOKING_LINK_DONE : BOOKING_LINK_OPEN;
    }
    json_decref(doc);
    return rc == STORE_ERROR ? -1 : 0;
}

/* ---------------- an approver's decision ---------------- */

/* The approval's deadline as a wall time of the meeting's zone ("" when it cannot be). */
static json_t *deadline_local(int64_t utc, const char *tz)
{
    struct local_time lt;
    char out[TIME_LOCAL_STR];

    if (time_utc_to_local(utc, tz, &lt) != 0)
        return json_string("");
    time_local_format(&lt, out);
    return json_string(out);
}

/*
 * What the approver's page shows: the meeting (they decide it, so they
 * read it in full, confidential or not: section 12 and visibility.h), the
 * reason, the amount and the deadline; "collective" when only a 办公会,
 * picked in the console, decides it.
 */
static json_t *approve_shown(struct app *app, const struct approval_row *a, json_t *doc)
{
    json_t *budget = json_object_get(doc, "budget");
    const char *start = str(doc, "start")[0] ? str(doc, "start") : str(doc, "date");
    const char *end = str(doc, "end")[0] ? str(doc, "end") : str(doc, "end_date");

    return json_pack("{s:s, s:O?, s:s, s:s, s:s, s:o, s:O?, s:s, s:s, s:O?, s:o, s:o, s:b, "
                     "s:s, s:s}",
                     "kind", "approve", "title", json_object_get(doc, "title"), "start", start,
                     "end", end, "tz", str(doc, "tz"), "room", room_name(app, str(doc, "room")),
                     "location", json_object_get(doc, "location"), "reason", a->reason, "tier",
                     a->tier, "amount", json_object_get(budget, "amount"), "expires",
                     deadline_local(a->expires_at, str(doc, "tz")), "requested_by",
                     record_name(app, &record_person, a->requested_by), "collective",
                     strcmp(a->tier, "collective") == 0, "status", a->status, "comment",
                     a->comment);
}

/*
 * Open while the approval waits for its approver and is not past its
 * deadline; done when this link decided it; void when it was decided in
 * the console (or by a delegate), withdrawn, or the link's person is no
 * longer its approver.
 */
static enum booking_link_state approve_state(const struct booking_link *l,
                                             const struct approval_row *a, int64_t now)
{
    if (strcmp(a->approver, l->row.person) != 0)
        return BOOKING_LINK_VOID;
    if (l->row.used_at != 0)
        return BOOKING_LINK_DONE;
    if (strcmp(a->status, "expired") == 0 ||
        (strcmp(a->status, "pending") == 0 && now >= a->expires_at))
        return BOOKING_LINK_EXPIRED;
    return strcmp(a->status, "pending") == 0 ? BOOKING_LINK_OPEN : BOOKING_LINK_VOID;
}

static int decide_approve(const struct booking_ctx *ctx, struct booking_link *l)
{
    struct approval_row a;
    int cancelled, rc = store_approval_get(ctx->app->store, l->row.approval_id, &a);
    json_t *doc;

    l->state = BOOKING_LINK_VOID;
    if (rc == STORE_NOTFOUND)
        return 0;
    if (rc != STORE_OK)
        return -1;
    l->state = approve_state(l, &a, ctx->now);
    doc = event_doc(ctx->app, a.event_id, &cancelled);
    /* Once it is no longer theirs to decide, a confidential meeting is no longer theirs to read. */
    if (doc != NULL && (l->state == BOOKING_LINK_OPEN || l->state == BOOKING_LINK_DONE ||
                        !json_is_true(json_object_get(doc, "confidential"))))
        l->shown = approve_shown(ctx->app, &a, doc);
    json_decref(doc);
    return 0;
}

/* ---------------- opening and acting ---------------- */

int booking_link_open(const struct booking_ctx *ctx, const char *token, size_t len,
                      struct booking_link *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    out->state = BOOKING_LINK_UNKNOWN;
    if (!taplink_token_plausible(token, len))
        return 0;
    token_hash(token, len, out->row.hash);
    rc = store_taplink_find(ctx->app->store, out->row.hash, &out->row);
    if (rc == STORE_NOTFOUND)
        return 0;
    if (rc != STORE_OK)
        return -1;
    if (strcmp(out->row.purpose, "approve") == 0)
        return decide_approve(ctx, out);
    return strcmp(out->row.purpose, "ack") == 0 ? decide_ack(ctx, out) : decide_rsvp(ctx, out);
}

void booking_link_clear(struct booking_link *l)
{
    json_decref(l->shown);
    l->shown = NULL;
}

static int storage_failed(struct booking_error *err)
{
    return booking_error_set(err, BOOKING_STORAGE, "storage", NULL,
                             "the database failed; the change was not made");
}

/* The answer, and the link used, in one transaction: a second press finds it used. */
static int act_rsvp(const struct booking_ctx *ctx, struct booking_link *l, const char *response,
                    struct booking_error *err)
{
    struct store *st = ctx->app->store;
    json_t *body = json_pack("{s:s, s:s, s:s}", "person", l->row.person, "response", response,
                             "recurrence_id", l->row.recurrence_id);
    struct booking_change ch = {BOOKING_RSVP, body, NULL, BOOKING_ANY_VERSION};
    struct event_row row;
    char *text = NULL;
    int rc = -1, used;

    memset(&row, 0, sizeof(row));
    if (store_begin(st) != STORE_OK) {
        json_decref(body);
        return storage_failed(err);
    }
    used = store_taplink_use(st, l->row.hash, ctx->now);
    if (used == STORE_NOTFOUND) { /* another press won */
        l->state = BOOKING_LINK_DONE;
        rc = 0;
    } else if (used != STORE_OK) {
        storage_failed(err);
    } else if (booking_event_change(ctx, l->row.event_id, &ch, &row, &text, err) >= 0) {
        rc = store_commit(st) == STORE_OK ? 0 : storage_failed(err);
        if (rc == 0)
            l->acted = strcmp(response, "accepted") == 0 ? "accepted" : "declined";
    }
    if (rc != 0 || l->acted == NULL)
        store_rollback(st);
    free(text);
    store_event_row_clear(&row);
    json_decref(body);
    return rc;
}

static int act_ack(const struct booking_ctx *ctx, struct booking_link *l,
                   struct booking_error *err)
{
    json_t *done = NULL;

    if (booking_trip_ack(ctx, l->row.trip_id, "", BOOKING_ACK_PENDING | BOOKING_ACK_BY_LINK,
                         &done, err) != 0)
        return -1;
    if (json_array_size(done) > 0)
        l->acted = "ack";
    else
        l->state = BOOKING_LINK_DONE;
    json_decref(done);
    return 0;
}

/*
 * The decision and the link used, in one transaction (the decision's own
 * is a savepoint in it): a second press finds the link used.
 */
static int act_approve(const struct booking_ctx *ctx, struct booking_link *l, const char *action,
                       const char *comment, struct booking_error *err)
{
    struct store *st = ctx->app->store;
    json_t *body = json_pack("{s:s}", "decision", action), *out = NULL;
    int rc = -1, used;

    if (comment != NULL && comment[0] != '\0')
        json_object_set_new(body, "comment", json_string(comment));
    if (store_begin(st) != STORE_OK) {
        json_decref(body);
        return storage_failed(err);
    }
    used = store_taplink_use(st, l->row.hash, ctx->now);
    if (used == STORE_NOTFOUND) { /* another press won */
        l->state = BOOKING_LINK_DONE;
        rc = 0;
    } else if (used != STORE_OK) {
        storage_failed(err);
    } else if (booking_approval_decide(ctx, l->row.approval_id, body, &out, err) == 0) {
        rc = store_commit(st) == STORE_OK ? 0 : storage_failed(err);
        if (rc == 0)
            l->acted = strcmp(action, "approve") == 0 ? "approve" : "reject";
    }
    if (rc != 0 || l->acted == NULL)
        store_rollback(st);
    json_decref(out);
    json_decref(body);
    return rc;
}

/* Whether action is one the link's purpose allows; 0, or -1 with a 422. */
static int check_action(const struct booking_link *l, const char *action,
                        struct booking_error *err)
{
    const char *purpose = l->row.purpose;

    if (strcmp(purpose, "approve") == 0) {
        if (json_is_true(json_object_get(l->shown, "collective")))
            return booking_error_set(err, BOOKING_INVALID, "collective_in_console", "action",
                                     "an office meeting (办公会) decides this approval: "
                                     "decide it in the console, naming the meeting");
        if (strcmp(action, "approve") == 0 || strcmp(action, "reject") == 0)
            return 0;
        return booking_error_set(err, BOOKING_INVALID, "invalid", "action",
                                 "this link decides an approval: action must be approve or "
                                 "reject");
    }
    if (strcmp(purpose, "ack") == 0)
        return strcmp(action, "ack") == 0
                   ? 0
                   : booking_error_set(err, BOOKING_INVALID, "invalid", "action",
                                       "this link acknowledges a trip: action must be ack");
    if (strcmp(action, "accepted") == 0 || strcmp(action, "declined") == 0)
        return 0;
    return booking_error_set(err, BOOKING_INVALID, "invalid", "action",
                             "this link answers a meeting: action must be accepted or declined");
}

int booking_link_act(const struct booking_ctx *ctx, const char *token, size_t len,
                     const char *action, const char *comment, struct booking_link *out,
                     struct booking_error *err)
{
    struct booking_actor actor;
    struct booking_ctx as_person;

    if (booking_link_open(ctx, token, len, out) != 0)
        return storage_failed(err);
    if (out->state != BOOKING_LINK_OPEN)
        return 0;
    if (check_action(out, action, err) != 0)
        return -1;
    /* The person acts; the name says how, so history tells a link from a token. */
    memset(&actor, 0, sizeof(actor));
    snprintf(actor.name, sizeof(actor.name), "one-tap link");
    snprintf(actor.person, sizeof(actor.person), "%s", out->row.person);
    as_person = *ctx;
    as_person.actor = &actor;
    if (strcmp(out->row.purpose, "approve") == 0)
        return act_approve(&as_person, out, action, comment, err);
    return strcmp(out->row.purpose, "ack") == 0 ? act_ack(&as_person, out, err)
                                                : act_rsvp(&as_person, out, action, err);
}
