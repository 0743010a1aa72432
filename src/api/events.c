/*
 * events.c - meetings over HTTP (CONTRACT section 4). Every write is one
 * transaction: load, If-Match, the change the request asks for, then the
 * booking layer books and writes it (booking_event_write) and records it
 * (booking_record_change), then commit and reply.
 */
#include "handlers.h"
#include "../booking/dispatch.h"
#include "../booking/plan.h"

#include "convene/conflict.h"
#include "convene/json.h"
#include "convene/recur.h"
#include "convene/store.h"
#include "convene/util.h"
#include "convene/visibility.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* A string member, or "" when absent or not a string. */
static const char *member_text(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static json_t *render_utc(int64_t t)
{
    char buf[TIME_UTC_STR];
    time_utc_format(t, buf);
    return json_string(buf);
}

/* The layer's context for a call: its caller, the clock at now. */
static void call_ctx(const struct api_call *call, struct booking_actor *actor,
                     struct booking_ctx *ctx, int64_t now)
{
    api_booking_actor(call, actor);
    ctx->app = call->app;
    ctx->actor = actor;
    ctx->now = now;
}

void events_call_ctx(const struct api_call *call, struct booking_actor *actor,
                     struct booking_ctx *ctx)
{
    call_ctx(call, actor, ctx, clock_wall_s());
}

/* Writes doc as row (booking.h); 0, or -1 after replying with the refusal. */
static int event_write_at(struct api_call *call, json_t *doc, struct event_row *row, int is_new,
                          int preempt, int check, int64_t now)
{
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};

    call_ctx(call, &actor, &ctx, now);
    if (booking_event_write(&ctx, doc, row, is_new, preempt, check, &err) == 0)
        return 0;
    api_reply_booking_error(call, &err);
    booking_error_clear(&err);
    return -1;
}

static int event_write(struct api_call *call, json_t *doc, struct event_row *row, int is_new,
                       int preempt, int check)
{
    return event_write_at(call, doc, row, is_new, preempt, check, clock_wall_s());
}

/* The outbox message and audit record of a caller's change (booking_record_change). */
static json_t *record_change(struct api_call *call, struct event_row *row, json_t *doc,
                             const char *type, const char *action, json_t *before, char **text)
{
    struct booking_actor actor;
    struct booking_ctx ctx;

    call_ctx(call, &actor, &ctx, clock_wall_s());
    return booking_record_change(&ctx, row, doc, type, action, before, text);
}

int events_audit(struct api_call *call, const char *event_id, const char *action, json_t *before,
                 json_t *after)
{
    struct booking_actor actor;

    api_booking_actor(call, &actor);
    return booking_audit(call->app, &actor, event_id, action, before, after);
}

/* Commits the change with its outbox message and audit record, then replies. */
static void finish(struct api_call *call, struct event_row *row, json_t *doc, const char *type,
                   const char *action, json_t *before, int status)
{
    struct store *st = call->app->store;
    char *text;
    json_t *after = record_change(call, row, doc, type, action, before, &text);
    int recorded = after != NULL;

    json_decref(after); /* the reply is the text */
    if (!recorded || store_commit(st) != STORE_OK) {
        store_rollback(st);
        free(text);
        api_reply_store_error(call);
        return;
    }
    api_reply_json_text(call, status, text, strlen(text));
    snprintf(call->res->etag, sizeof(call->res->etag), "\"%lld\"", (long long)row->version);
}

/* Takes `preempt` out of a body (an instruction, not part of the event). */
static int take_preempt(struct api_call *call, json_t *body, int *preempt)
{
    json_t *p = json_object_get(body, "preempt");

    *preempt = 0;
    if (p == NULL)
        return 0;
    if (!json_is_boolean(p) && !json_is_null(p)) {
        api_reply_error(call, 400, "wrong_type", "preempt", "'preempt' must be true or false");
        return -1;
    }
    *preempt = json_is_true(p);
    json_object_del(body, "preempt");
    return 0;
}

void api_events_create(struct api_call *call)
{
    json_t *body = api_body_object(call);
    struct store *st = call->app->store;
    struct event_row row;
    struct api_error err;
    int preempt;

    if (body == NULL)
        return;
    memset(&err, 0, sizeof(err));
    if (json_only_members(body, event_members, &err) != 0) {
        api_reply_api_error(call, &err);
        return;
    }
    if (take_preempt(call, body, &preempt) != 0)
        return;
    booking_event_row_new(&row, NULL);
    if (store_begin(st) != STORE_OK) {
        api_reply_store_error(call);
        return;
    }
    if (event_write(call, body, &row, 1, preempt, 1) != 0)
        store_rollback(st);
    else
        finish(call, &row, body, "event.created", "created", NULL, 201);
    store_event_row_clear(&row);
}

/* Loads the event of the path into row and its parsed document; replies on failure. */
static json_t *load_event(struct api_call *call, struct event_row *row)
{
    int rc = store_event_get(call->app->store, call->params[0], row);
    json_t *doc;

    if (rc == STORE_NOTFOUND) {
        api_reply_error(call, 404, "not_found", NULL, "no event with id '%s'", call->params[0]);
        return NULL;
    }
    if (rc != STORE_OK || (doc = json_loads(row->doc, 0, NULL)) == NULL) {
        api_reply_store_error(call);
        return NULL;
    }
    return doc;
}

/*
 * Office tokens read every event in full; a person's token reads the
 * events they attend, drive or ride in, a confidential one they do not
 * attend as its times and their trip only (visibility.h).
 */
void api_events_get(struct api_call *call)
{
    struct event_row row;
    struct viewer viewer = api_viewer(call);
    json_t *doc;

    memset(&row, 0, sizeof(row));
    if ((doc = load_event(call, &row)) != NULL) {
        enum visibility vis = visibility_of_doc(&viewer, doc);
        if (vis == VISIBLE_NONE) {
            api_reply_error(call, 403, "forbidden", NULL, "not an event of yours");
        } else {
            json_t *full = booking_event_render(&row, doc);
            json_t *shown = visibility_doc_view(full, vis, viewer.person);
            json_decref(full);
            api_reply_json(call, 200, shown, row.version);
        }
        json_decref(doc);
    }
    store_event_row_clear(&row);
}

/* Trip entries with an id must name a trip the event has: ids are not minted by clients. */
static int check_trip_ids(struct api_call *call, json_t *prev, json_t *trips)
{
    size_t i, j;
    json_t *t, *old;

    json_array_foreach(trips, i, t) {
        const char *id = json_string_value(json_object_get(t, "id"));
        int found = 0;
        if (id == NULL)
            continue;
        json_array_foreach(json_object_get(prev, "trips"), j, old) {
            found |= strcmp(member_text(old, "id"), id) == 0;
        }
        if (!found) {
            char field[32];
            snprintf(field, sizeof(field), "trips[%zu].id", i);
            api_reply_error(call, 422, "unknown_id", field, "the event has no trip '%s'", id);
            return -1;
        }
    }
    return 0;
}

/* Attendees listed again without a response keep the one they gave. */
static void keep_responses(json_t *prev, json_t *attendees)
{
    size_t i, j;
    json_t *a, *old;

    json_array_foreach(attendees, i, a) {
        if (!json_is_object(a) || json_object_get(a, "response") != NULL)
            continue;
        json_array_foreach(json_object_get(prev, "attendees"), j, old) {
            if (json_equal(json_object_get(old, "person"), json_object_get(a, "person")))
                json_object_set(a, "response", json_object_get(old, "response"));
        }
    }
}

/* The document after a PATCH: members replace, null removes. */
static json_t *merge_patch(json_t *prev, json_t *patch)
{
    json_t *doc = json_deep_copy(prev);
    const char *key;
    json_t *v;

    /* Switching between all-day and timed drops the other form's members. */
    if (json_object_get(patch, "date") != NULL) {
        json_object_del(doc, "start");
        json_object_del(doc, "end");
    }
    if (json_object_get(patch, "start") != NULL) {
        json_object_del(doc, "date");
        json_object_del(doc, "end_date");
    }
    json_object_foreach(patch, key, v) {
        if (json_is_null(v))
            json_object_del(doc, key);
        else
            json_object_set(doc, key, v);
    }
    keep_responses(prev, json_object_get(doc, "attendees"));
    return doc;
}

/*
 * A series moved as a whole (a new start) takes its exceptions along, as
 * calendar programs do: occurrences are named by their original start, so
 * without this a cancelled occurrence came back and a moved one snapped
 * back to the series' time. EXDATE and RDATE move by the same amount
 * unless the PATCH sets them itself; an override keeps what it says (an
 * occurrence placed at an explicit time stays there) under its new name.
 */
static void series_follow(json_t *prev, json_t *doc, json_t *patch)
{
    static const char *const lists[] = {"exdates", "rdates"};
    struct local_time a, b;
    json_t *overrides = json_object_get(doc, "overrides"), *moved, *v;
    const char *rid;
    size_t i;

    if ((json_object_get(patch, "start") == NULL && json_object_get(patch, "date") == NULL) ||
        event_doc_start(prev, &a) != 0 || event_doc_start(doc, &b) != 0)
        return;
    int64_t delta = recur_local_diff(&a, &b);
    if (delta == 0)
        return;
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
        json_t *list = json_object_get(doc, lists[l]);
        if (json_object_get(patch, lists[l]) != NULL || !json_is_array(list))
            continue;
        json_array_foreach(list, i, v) {
            json_t *n = json_is_string(v) ? event_time_shifted(json_string_value(v), delta) : NULL;
            if (n != NULL)
                json_array_set_new(list, i, n);
        }
    }
    if (!json_is_object(overrides) || json_object_size(overrides) == 0)
        return;
    moved = json_object();
    json_object_foreach(overrides, rid, v) {
        json_t *n = event_time_shifted(rid, delta);
        json_object_set(moved, n != NULL ? json_string_value(n) : rid, v);
        json_decref(n);
    }
    json_object_set_new(doc, "overrides", moved);
}

/*
 * The shared frame of every change to an existing event: transaction,
 * load, If-Match, then `change` builds the new document (or replies and
 * returns NULL); the new state is booked and committed.
 */
static void event_modify(struct api_call *call, int check_etag, const char *type,
                         const char *action,
                         json_t *(*change)(struct api_call *call, struct event_row *row,
                                           json_t *prev, int *bump, int *preempt))
{
    struct store *st = call->app->store;
    struct event_row row;
    json_t *prev = NULL, *doc = NULL, *before = NULL;
    int bump = 1, preempt = 0;

    memset(&row, 0, sizeof(row));
    if (store_begin(st) != STORE_OK) {
        api_reply_store_error(call);
        return;
    }
    if ((prev = load_event(call, &row)) == NULL ||
        (check_etag && api_check_if_match(call, row.version) != 0)) {
        store_rollback(st);
        goto done;
    }
    /* Rendered before `change`, which may alter the row: cancelling sets its status. */
    before = booking_event_render(&row, prev);
    if ((doc = change(call, &row, prev, &bump, &preempt)) == NULL) {
        store_rollback(st);
        goto done;
    }
    row.version++;
    row.sequence += bump;
    row.updated_at = clock_wall_s();
    if (event_write(call, doc, &row, 0, preempt, 1) != 0)
        store_rollback(st);
    else
        finish(call, &row, doc, type, action, before, 200);
done:
    json_decref(prev);
    json_decref(doc);
    json_decref(before);
    store_event_row_clear(&row);
}

static json_t *patch_change(struct api_call *call, struct event_row *row, json_t *prev, int *bump,
                            int *preempt)
{
    struct api_error err;

    (void)row;
    (void)bump;
    memset(&err, 0, sizeof(err));
    if (json_only_members(call->body, event_members, &err) != 0) {
        api_reply_api_error(call, &err);
        return NULL;
    }
    if (take_preempt(call, call->body, preempt) != 0 ||
        check_trip_ids(call, prev, json_object_get(call->body, "trips")) != 0)
        return NULL;
    json_t *doc = merge_patch(prev, call->body);
    dispatch_trips_follow(prev, doc, call->body); /* the car moves with the meeting */
    series_follow(prev, doc, call->body);         /* and so do the series' exceptions */
    return doc;
}

void api_events_patch(struct api_call *call)
{
    if (api_body_object(call) != NULL)
        event_modify(call, 1, "event.updated", "updated", patch_change);
}

static json_t *cancel_change(struct api_call *call, struct event_row *row, json_t *prev,
                             int *bump, int *preempt)
{
    (void)bump;
    (void)preempt;
    /*
     * Cancelling twice is a no-op (DELETE is idempotent): it used to bump the
     * sequence and send event.cancelled and an audit record again.
     */
    if (strcmp(row->status, "cancelled") == 0) {
        api_reply_empty(call, 204);
        return NULL;
    }
    snprintf(row->status, sizeof(row->status), "cancelled");
    return json_deep_copy(prev);
}

void api_events_delete(struct api_call *call)
{
    event_modify(call, 1, "event.cancelled", "cancelled", cancel_change);
    /* Cancelling answers with no body, as DELETE does elsewhere. */
    if (call->res->status == 200)
        api_reply_empty(call, 204);
}

static const char *const rsvp_members[] = {"person", "response", "recurrence_id", NULL};

static int occurrence_exists(struct api_call *call, json_t *prev, const char *rid);

/*
 * A series-wide answer replaces the person's answers for single
 * occurrences, as "all events" does in calendar programs; overrides left
 * empty go.
 */
static void forget_occurrence_answers(json_t *doc, const char *person)
{
    json_t *overrides = json_object_get(doc, "overrides"), *ov, *tmp;
    const char *rid;

    json_object_foreach_safe(overrides, tmp, rid, ov) {
        json_t *answers = json_object_get(ov, "responses");
        json_object_del(answers, person);
        if (answers != NULL && json_object_size(answers) == 0)
            json_object_del(ov, "responses");
        if (json_object_size(ov) == 0)
            json_object_del(overrides, rid);
    }
}

/*
 * The answer of one occurrence, kept in overrides[rid].responses: its
 * meals, reminders and feeds follow it. With doc NULL, only checks that
 * rid names an occurrence. 0, or -1 after replying.
 */
static int answer_occurrence(struct api_call *call, json_t *prev, json_t *doc, const char *rid,
                             const char *person, const char *response)
{
    json_t *overrides = json_object_get(doc, "overrides"), *ov, *answers;
    struct local_time lt;

    if (time_local_parse(rid, &lt) != 0) {
        api_reply_error(call, 422, "invalid", "recurrence_id",
                        "'recurrence_id' is an occurrence's original start like 2026-12-07T09:00:00");
        return -1;
    }
    if (!occurrence_exists(call, prev, rid)) {
        api_reply_error(call, 422, "unknown_id", "recurrence_id",
                        "the event has no occurrence '%s'", rid);
        return -1;
    }
    if (doc == NULL) /* only checking */
        return 0;
    if (!json_is_object(overrides)) {
        overrides = json_object();
        json_object_set_new(doc, "overrides", overrides);
    }
    if (!json_is_object(ov = json_object_get(overrides, rid))) {
        ov = json_object();
        json_object_set_new(overrides, rid, ov);
    }
    if (json_is_true(json_object_get(ov, "cancelled"))) {
        api_reply_error(call, 422, "cancelled", "recurrence_id", "occurrence '%s' is cancelled",
                        rid);
        return -1;
    }
    if (!json_is_object(answers = json_object_get(ov, "responses"))) {
        answers = json_object();
        json_object_set_new(ov, "responses", answers);
    }
    json_object_set_new(answers, person, json_string(response));
    return 0;
}

static json_t *rsvp_change(struct api_call *call, struct event_row *row, json_t *prev, int *bump,
                           int *preempt)
{
    struct api_error err;
    const char *person, *response, *rid = NULL;
    json_t *doc, *a;
    size_t i;
    int has_rid;

    (void)row;
    (void)preempt;
    memset(&err, 0, sizeof(err));
    if (json_only_members(call->body, rsvp_members, &err) != 0 ||
        json_member_string(call->body, "person", 1, ID_STR_MAX - 1, &person, &err) < 0 ||
        json_member_string(call->body, "response", 1, 16, &response, &err) < 0 ||
        (has_rid = json_member_string(call->body, "recurrence_id", 0, TIME_LOCAL_STR - 1, &rid,
                                      &err)) < 0) {
        api_reply_api_error(call, &err);
        return NULL;
    }
    if (strcmp(response, "accepted") != 0 && strcmp(response, "declined") != 0 &&
        strcmp(response, "tentative") != 0) {
        api_reply_error(call, 422, "invalid", "response",
                        "'response' must be accepted, declined or tentative");
        return NULL;
    }
    if (!api_has_role(call, ROLE_ADMIN | ROLE_SECRETARY) &&
        strcmp(person, call->auth.person) != 0) {
        api_reply_error(call, 403, "forbidden", NULL, "you may answer only for yourself");
        return NULL;
    }
    /* An answer is not a change of the meeting: calendar clients keep the same SEQUENCE. */
    *bump = 0;
    doc = json_deep_copy(prev);
    /* A meeting that does not repeat has one occurrence: its answer is the meeting's. */
    if (has_rid > 0 && !json_is_string(json_object_get(doc, "rrule")) &&
        json_array_size(json_object_get(doc, "rdates")) == 0) {
        if (answer_occurrence(call, prev, NULL, rid, person, response) != 0) {
            json_decref(doc);
            return NULL;
        }
        has_rid = 0;
    }
    json_array_foreach(json_object_get(doc, "attendees"), i, a) {
        if (strcmp(member_text(a, "person"), person) != 0)
            continue;
        if (has_rid > 0) {
            if (answer_occurrence(call, prev, doc, rid, person, response) != 0) {
                json_decref(doc);
                return NULL;
            }
        } else {
            json_object_set_new(a, "response", json_string(response));
            forget_occurrence_answers(doc, person);
        }
        return doc;
    }
    json_decref(doc);
    api_reply_error(call, 422, "not_invited", "person", "person '%s' is not an attendee", person);
    return NULL;
}

void api_events_rsvp(struct api_call *call)
{
    if (api_body_object(call) != NULL)
        event_modify(call, 0, "event.updated", "rsvp", rsvp_change);
}

static const char *const occurrence_members[] = {"start", "end", "title", "location",
                                                 "description", NULL};

/* Whether recurrence_id names an occurrence of the series (before overrides). */
static int occurrence_exists(struct api_call *call, json_t *prev, const char *rid)
{
    struct event_plan plan;
    struct booking_error err;
    json_t *doc = json_deep_copy(prev);
    int found = 0;

    json_object_del(doc, "overrides");
    if (event_plan_parse(call->app, doc, &plan, &err) == 0 &&
        event_plan_expand(&plan, clock_wall_s(), &err) == 0)
        for (size_t i = 0; i < plan.nocc && !found; i++)
            found = strcmp(plan.occ[i].recurrence_id, rid) == 0;
    event_plan_free(&plan);
    json_decref(doc);
    return found;
}

static json_t *override_change(struct api_call *call, struct event_row *row, json_t *prev,
                               int *bump, int *preempt)
{
    const char *rid = call->params[1];
    struct api_error err;
    json_t *doc, *overrides, *ov;
    struct local_time lt;

    (void)row;
    (void)bump;
    (void)preempt;
    memset(&err, 0, sizeof(err));
    if (time_local_parse(rid, &lt) != 0 || !occurrence_exists(call, prev, rid)) {
        api_reply_error(call, 404, "not_found", NULL, "the event has no occurrence '%s'", rid);
        return NULL;
    }
    doc = json_deep_copy(prev);
    overrides = json_object_get(doc, "overrides");
    if (!json_is_object(overrides)) {
        overrides = json_object();
        json_object_set_new(doc, "overrides", overrides);
    }
    if (call->body == NULL) { /* DELETE: cancel just this occurrence */
        json_object_set_new(overrides, rid, json_pack("{s:b}", "cancelled", 1));
        return doc;
    }
    if (json_only_members(call->body, occurrence_members, &err) != 0) {
        api_reply_api_error(call, &err);
        json_decref(doc);
        return NULL;
    }
    ov = json_object_get(overrides, rid);
    if (!json_is_object(ov)) {
        ov = json_object();
        json_object_set_new(overrides, rid, ov);
    }
    json_object_update(ov, call->body);
    /* Check the moved times like any other: well-formed and in order. */
    struct local_time s, e;
    const char *start = json_string_value(json_object_get(ov, "start"));
    const char *end = json_string_value(json_object_get(ov, "end"));
    if ((json_object_get(ov, "start") && (start == NULL || time_local_parse(start, &s) != 0)) ||
        (json_object_get(ov, "end") && (end == NULL || time_local_parse(end, &e) != 0))) {
        api_reply_error(call, 422, "invalid", start ? "end" : "start",
                        "times must look like 2026-12-07T09:00:00");
        json_decref(doc);
        return NULL;
    }
    /* With only an end, the occurrence keeps its start (its recurrence id). */
    if (end && recur_local_diff(start ? &s : &lt, &e) <= 0) {
        api_reply_error(call, 422, "end_before_start", "end", "the end must be after the start");
        json_decref(doc);
        return NULL;
    }
    return doc;
}

void api_events_occurrence_patch(struct api_call *call)
{
    if (api_body_object(call) != NULL)
        event_modify(call, 1, "event.updated", "occurrence_updated", override_change);
}

void api_events_occurrence_delete(struct api_call *call)
{
    event_modify(call, 1, "event.updated", "occurrence_cancelled", override_change);
    if (call->res->status == 200)
        api_reply_empty(call, 204);
}

struct history_ctx {
    json_t *items;
    int full; /* the viewer sees the event in full: before/after documents hold its details */
};

static int history_one(const struct history_row *h, void *arg)
{
    struct history_ctx *ctx = arg;
    json_t *entry = json_pack("{s:I, s:o, s:s, s:{s:s?, s:s?, s:s?}}", "seq", (json_int_t)h->seq,
                              "at", render_utc(h->at), "action", h->action, "actor", "token",
                              h->token_id[0] ? h->token_id : NULL, "name",
                              h->actor[0] ? h->actor : NULL, "person",
                              h->actor_person[0] ? h->actor_person : NULL);
    if (ctx->full) {
        json_object_set_new(entry, "before",
                            h->before ? json_loads(h->before, 0, NULL) : json_null());
        json_object_set_new(entry, "after", h->after ? json_loads(h->after, 0, NULL) : json_null());
    } else {
        /* Who changed it and when may be said; what it was and became may not. */
        json_object_set_new(entry, "before", json_null());
        json_object_set_new(entry, "after", json_null());
    }
    json_array_append_new(ctx->items, entry);
    return 0;
}

/* The audit trail as the caller may see it (the route admits the office only, today). */
void api_events_history(struct api_call *call)
{
    struct event_row row;
    struct viewer viewer = api_viewer(call);
    struct history_ctx ctx = {NULL, 0};
    enum visibility vis;
    json_t *doc;

    memset(&row, 0, sizeof(row));
    if ((doc = load_event(call, &row)) == NULL)
        goto done;
    if ((vis = visibility_of_doc(&viewer, doc)) == VISIBLE_NONE) {
        api_reply_error(call, 403, "forbidden", NULL, "not an event of yours");
        json_decref(doc);
        goto done;
    }
    ctx.items = json_array();
    ctx.full = vis == VISIBLE_FULL;
    if (store_history_list(call->app->store, row.id, history_one, &ctx) != STORE_OK) {
        json_decref(ctx.items);
        api_reply_store_error(call);
    } else {
        api_reply_json(call, 200, ctx.items, -1);
    }
    json_decref(doc);
done:
    store_event_row_clear(&row);
}

/* ---------------- the rolling horizon ---------------- */

/* Clashes of one occurrence entering the window, as reported in its history entry. */
struct window_scan {
    struct api_call *call;
    const char *event_id;
    json_t *conflicts;
};

static int on_window_entry_clash(const struct clash *c, void *arg)
{
    struct window_scan *w = arg;
    json_t *entry = json_pack("{s:{s:s, s:s}, s:s, s:s?, s:s?}", "resource", "type",
                              c->resource_type, "id", c->resource_id, "other_start",
                              c->other_start, "event", c->event_id[0] ? c->event_id : NULL,
                              "block", c->block_id[0] ? c->block_id : NULL);

    json_object_set_new(entry, "title", c->confidential || c->title[0] == '\0'
                                            ? json_null()
                                            : json_string(c->title));
    json_array_append_new(w->conflicts, entry);
    return 0;
}

static int check_window_entry(const struct claim *c, void *arg)
{
    struct window_scan *w = arg;

    return store_occupancy_overlaps(w->call->app->store, c->resource_type, c->resource_id,
                                    c->start_utc, c->end_utc, w->event_id,
                                    on_window_entry_clash, w) == STORE_OK
               ? 0
               : -1;
}

/*
 * The occurrences that enter the stored window (from old_until to now's
 * window end) and would clash with what was booked meanwhile:
 * [{"recurrence_id", "start", "conflicts": [...]}], or NULL (logged) when
 * the series cannot be expanded or the store failed. Only these are new:
 * the earlier ones were checked when booked.
 */
static json_t *window_entry_clashes(struct api_call *call, const char *id, json_t *doc,
                                    int64_t old_until, int64_t now)
{
    struct window_scan w = {call, id, NULL};
    struct event_plan plan;
    struct booking_error err;
    json_t *out = json_array();

    if (event_plan_parse(call->app, doc, &plan, &err) != 0 ||
        event_plan_resolve(call->app, &plan, &err) != 0 ||
        event_plan_expand(&plan, now, &err) != 0) {
        log_error("horizon: event %s cannot be expanded: %s", id, err.message);
        event_plan_free(&plan);
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < plan.nocc && out != NULL; i++) {
        if (plan.occ[i].start_utc < old_until)
            continue;
        w.conflicts = json_array();
        if (event_plan_claims_range(&plan, id, i, i + 1, check_window_entry, &w) != 0) {
            json_decref(out);
            out = NULL;
        } else if (json_array_size(w.conflicts) > 0) {
            json_array_append_new(out, json_pack("{s:s, s:s, s:O}", "recurrence_id",
                                                 plan.occ[i].recurrence_id, "start",
                                                 plan.occ[i].start, "conflicts", w.conflicts));
        }
        json_decref(w.conflicts);
    }
    event_plan_free(&plan);
    return out;
}

/*
 * Leaves the clashing occurrences out of the series as EXDATEs, so every
 * calendar shows the series as it is booked, and says so: a log line per
 * occurrence here, the history entry and event.updated in record_skipped.
 */
static void exclude_skipped(const struct event_row *row, json_t *doc, json_t *skipped)
{
    json_t *exdates = json_object_get(doc, "exdates"), *s;
    size_t i;

    if (!json_is_array(exdates)) {
        exdates = json_array();
        json_object_set_new(doc, "exdates", exdates);
    }
    json_array_foreach(skipped, i, s) {
        json_t *first = json_array_get(json_object_get(s, "conflicts"), 0);
        json_array_append(exdates, json_object_get(s, "recurrence_id"));
        log_info("horizon: series %s: occurrence %s not booked: %s %s is taken (%s %s)", row->id,
                 json_string_value(json_object_get(s, "recurrence_id")),
                 json_string_value(json_object_get(json_object_get(first, "resource"), "type")),
                 json_string_value(json_object_get(json_object_get(first, "resource"), "id")),
                 json_object_get(first, "event") ? "event" : "block",
                 json_string_value(json_object_get(first, json_object_get(first, "event")
                                                              ? "event"
                                                              : "block")));
    }
}

/* The history entry and event.updated message of occurrences left out. 0 or -1. */
static int record_skipped(struct api_call *call, const struct event_row *row, json_t *doc,
                          json_t *before, json_t *skipped)
{
    json_t *after = booking_event_render(row, doc), *audit_after = json_deep_copy(after);
    int rc;

    json_object_set(audit_after, "skipped", skipped);
    rc = events_audit(call, row->id, "occurrences_skipped", before, audit_after);
    if (rc == 0)
        rc = booking_outbox_append(call->app->store, "event.updated",
                    json_pack("{s:O, s:o, s:O}", "event", after, "changes",
                              booking_event_changes(before, after), "skipped", skipped));
    json_decref(audit_after);
    json_decref(after);
    return rc;
}

/*
 * Moves one series' stored window to now's: the occurrences entering it
 * are booked, except those that would clash with what was booked since
 * the series was accepted (a one-off placed beyond the series' span then):
 * double booking them would break CONTRACT section 4, and refusing the
 * whole series would silently cancel a meeting everyone relies on.
 */
static int extend_series(struct api_call *call, struct event_row *row, json_t *doc, int64_t now)
{
    json_t *skipped = window_entry_clashes(call, row->id, doc, row->expanded_until, now);
    json_t *before = NULL;
    int rc = -1;

    if (skipped == NULL)
        return -1;
    if (json_array_size(skipped) > 0) {
        before = booking_event_render(row, doc);
        exclude_skipped(row, doc, skipped);
        row->sequence++; /* calendar clients must take the new EXDATEs */
        row->version++;
        row->updated_at = clock_wall_s();
    }
    if (event_write_at(call, doc, row, 0, 0, 0, now) == 0 &&
        (before == NULL || record_skipped(call, row, doc, before, skipped) == 0))
        rc = 0;
    json_decref(before);
    json_decref(skipped);
    return rc;
}

struct horizon_job {
    struct api_call call;
    int64_t now;
};

static int extend_one(const char *id, void *arg)
{
    struct horizon_job *job = arg;
    struct api_call *call = &job->call;
    struct store *st = call->app->store;
    struct event_row row;
    json_t *doc;
    int rc = -1;

    memset(&row, 0, sizeof(row));
    if (store_begin(st) != STORE_OK)
        return -1;
    snprintf(call->params[0], sizeof(call->params[0]), "%s", id);
    if ((doc = load_event(call, &row)) != NULL) {
        if (extend_series(call, &row, doc, job->now) == 0 && store_commit(st) == STORE_OK)
            rc = 0;
        json_decref(doc);
    }
    if (rc != 0) {
        store_rollback(st);
        log_error("horizon: could not extend event %s", id);
    }
    store_event_row_clear(&row);
    api_response_free(call->res);
    memset(call->res, 0, sizeof(*call->res));
    return 0; /* one bad event must not stop the others */
}

int events_extend_horizons(struct app *app, int64_t now)
{
    struct api_response res;
    struct horizon_job job;
    /* Re-expand a day before the horizon comes within 2 years of now. */
    int64_t before = now + (int64_t)(RECUR_HORIZON_DAYS - 1) * 86400;

    memset(&res, 0, sizeof(res));
    memset(&job, 0, sizeof(job));
    job.call.app = app;
    job.call.res = &res;
    job.now = now;
    snprintf(job.call.auth.name, sizeof(job.call.auth.name), "horizon");
    return store_event_ids_to_extend(app->store, before, extend_one, &job) == STORE_OK ? 0 : -1;
}
