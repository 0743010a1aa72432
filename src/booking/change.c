/*
 * change.c - the frame of every change to a stored event, and the PATCH
 * and cancel kinds. One transaction: load, the version check, the change
 * builds the new document from the stored one, then it is booked and
 * written (booking_event_write) and recorded (booking_record_change)
 * before the commit. The frame lives here once, so a rule added to it
 * (approvals, say) holds for every kind of change and every caller: the
 * HTTP handlers, and a person's deletion.
 */
#include "approvals.h"
#include "dispatch.h"
#include "plan.h"

#include "convene/booking.h"
#include "convene/recur.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string member, or "" when absent or not a string. */
static const char *member_text(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static int storage_failed(struct booking_error *err)
{
    return booking_error_set(err, BOOKING_STORAGE, "storage", NULL,
                             "the database failed; the change was not made");
}

/* ---------------- PATCH ---------------- */

/* Takes `preempt` out of a body (an instruction, not part of the event). */
static int take_preempt(json_t *body, int *preempt, struct booking_error *err)
{
    json_t *p = json_object_get(body, "preempt");

    *preempt = 0;
    if (p == NULL)
        return 0;
    if (!json_is_boolean(p) && !json_is_null(p))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "preempt",
                                 "'preempt' must be true or false");
    *preempt = json_is_true(p);
    json_object_del(body, "preempt");
    return 0;
}

/* Trip entries with an id must name a trip the event has: ids are not minted by clients. */
static int check_trip_ids(json_t *prev, json_t *trips, struct booking_error *err)
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
            return booking_error_set(err, BOOKING_INVALID, "unknown_id", field,
                                     "the event has no trip '%s'", id);
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

/* Moves the strings of a list (EXDATE, RDATE) by delta seconds of wall clock. */
static void shift_list(json_t *list, int64_t delta)
{
    size_t i;
    json_t *v;

    json_array_foreach(list, i, v) {
        json_t *n = json_is_string(v) ? event_time_shifted(json_string_value(v), delta) : NULL;
        if (n != NULL)
            json_array_set_new(list, i, n);
    }
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

    if ((json_object_get(patch, "start") == NULL && json_object_get(patch, "date") == NULL) ||
        event_doc_start(prev, &a) != 0 || event_doc_start(doc, &b) != 0)
        return;
    int64_t delta = recur_local_diff(&a, &b);
    if (delta == 0)
        return;
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
        json_t *list = json_object_get(doc, lists[l]);
        if (json_object_get(patch, lists[l]) == NULL && json_is_array(list))
            shift_list(list, delta);
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

static json_t *patch_doc(json_t *prev, json_t *patch, int *preempt, struct booking_error *err)
{
    if (plan_only_members(patch, booking_event_members, err) != 0 ||
        take_preempt(patch, preempt, err) != 0 ||
        check_trip_ids(prev, json_object_get(patch, "trips"), err) != 0)
        return NULL;
    json_t *doc = merge_patch(prev, patch);
    dispatch_trips_follow(prev, doc, patch); /* the car moves with the meeting */
    series_follow(prev, doc, patch);         /* and so do the series' exceptions */
    return doc;
}

/* ---------------- the frame ---------------- */

/* What each kind is announced and audited as. */
static const struct {
    const char *type, *action;
} change_names[] = {
    [BOOKING_PATCH] = {"event.updated", "updated"},
    [BOOKING_CANCEL] = {"event.cancelled", "cancelled"},
    [BOOKING_RSVP] = {"event.updated", "rsvp"},
    [BOOKING_OCCURRENCE_EDIT] = {"event.updated", "occurrence_updated"},
    [BOOKING_OCCURRENCE_CANCEL] = {"event.updated", "occurrence_cancelled"},
};

/*
 * The new document of the change, or NULL with err; *unchanged when there
 * is nothing to do. May alter row (cancelling sets its status) and clear
 * *bump (an answer is not a change of the meeting: calendar clients keep
 * the same SEQUENCE).
 */
static json_t *change_doc(const struct booking_ctx *ctx, const struct booking_change *ch,
                          struct event_row *row, json_t *prev, int *bump, int *preempt,
                          int *unchanged, struct booking_error *err)
{
    json_t *doc;

    switch (ch->kind) {
    case BOOKING_PATCH:
        return patch_doc(prev, ch->body, preempt, err);
    case BOOKING_CANCEL:
        /* Cancelling twice is a no-op: no second sequence, message or audit record. */
        if (row->status == EVENT_CANCELLED) {
            *unchanged = 1;
            return NULL;
        }
        row->status = EVENT_CANCELLED;
        doc = json_deep_copy(prev);
        /* A cancelled booking awaiting approval needs no one's decision any more. */
        if (approvals_withdraw(ctx, row->id, doc) != 0) {
            json_decref(doc);
            storage_failed(err);
            return NULL;
        }
        return doc;
    case BOOKING_RSVP:
        *bump = 0;
        return booking_rsvp_doc(ctx, prev, ch->body, err);
    case BOOKING_OCCURRENCE_EDIT:
        return booking_occurrence_doc(ctx, prev, ch->recurrence_id, ch->body, err);
    case BOOKING_OCCURRENCE_CANCEL:
        return booking_occurrence_doc(ctx, prev, ch->recurrence_id, NULL, err);
    }
    booking_error_set(err, BOOKING_INVALID, "invalid", NULL, "unknown change");
    return NULL;
}

/* Loads the event into row and its parsed document; NULL with err. */
static json_t *load_event(struct store *st, const char *id, struct event_row *row,
                          struct booking_error *err)
{
    int rc = store_event_get(st, id, row);
    json_t *doc;

    if (rc == STORE_NOTFOUND) {
        booking_error_set(err, BOOKING_NOT_FOUND, "not_found", NULL, "no event with id '%s'", id);
        return NULL;
    }
    if (rc != STORE_OK || (doc = json_loads(row->doc, 0, NULL)) == NULL) {
        storage_failed(err);
        return NULL;
    }
    return doc;
}

/* The caller read the stored version (an answer is not an edit: it races nobody). */
static int check_version(const struct booking_change *ch, const struct event_row *row,
                         struct booking_error *err)
{
    if (ch->kind == BOOKING_RSVP || ch->if_match == BOOKING_ANY_VERSION ||
        ch->if_match == row->version)
        return 0;
    return booking_error_set(err, BOOKING_STALE, "precondition_failed", NULL,
                             "the resource changed (now version %lld): reload and retry",
                             (long long)row->version);
}

/* Writes, records and commits the new state; 0 with *text, or -1 with err (not rolled back). */
static int commit_change(const struct booking_ctx *ctx, const struct booking_change *ch,
                         struct event_row *row, json_t *doc, json_t *before, int preempt,
                         char **text, struct booking_error *err)
{
    struct store *st = ctx->app->store;
    json_t *after;

    if (booking_event_write(ctx, doc, row, 0, preempt, 1, err) != 0)
        return -1;
    after = booking_record_change(ctx, row, doc, change_names[ch->kind].type,
                                  change_names[ch->kind].action, before, text);
    if (after == NULL || store_commit(st) != STORE_OK) {
        json_decref(after);
        free(*text);
        *text = NULL;
        return storage_failed(err);
    }
    json_decref(after); /* the caller's reply is the text */
    return 0;
}

int booking_event_change(const struct booking_ctx *ctx, const char *event_id,
                         const struct booking_change *ch, struct event_row *row, char **text,
                         struct booking_error *err)
{
    struct store *st = ctx->app->store;
    json_t *prev = NULL, *doc = NULL, *before = NULL;
    int bump = 1, preempt = 0, unchanged = 0, rc = -1;

    memset(row, 0, sizeof(*row));
    *text = NULL;
    if (store_begin(st) != STORE_OK)
        return storage_failed(err);
    if ((prev = load_event(st, event_id, row, err)) == NULL || check_version(ch, row, err) != 0)
        goto done;
    /* Rendered before the change, which may alter the row: cancelling sets its status. */
    before = booking_event_render(row, prev);
    if ((doc = change_doc(ctx, ch, row, prev, &bump, &preempt, &unchanged, err)) == NULL) {
        rc = unchanged ? 1 : -1;
        goto done;
    }
    row->version++;
    row->sequence += bump;
    row->updated_at = ctx->now;
    rc = commit_change(ctx, ch, row, doc, before, preempt, text, err);
done:
    if (rc != 0)
        store_rollback(st);
    json_decref(prev);
    json_decref(doc);
    json_decref(before);
    return rc;
}
