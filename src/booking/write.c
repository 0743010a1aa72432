/*
 * write.c - booking one event: the transaction's body that every write of
 * a meeting runs (create, patch, cancel, RSVP, occurrence edits, the
 * moving window). Validate the document, expand it, check each occurrence
 * x resource against the occupancy index and other series' unstored
 * occurrences (preempting rooms and vehicles of lower-ranked meetings when
 * asked and allowed), then write the event, its occurrences and claims,
 * its calendars, reminders, trips and meals. The caller holds the
 * transaction and records the change (audit.c).
 */
#include "approvals.h"
#include "conflicts.h"
#include "plan.h"
#include "window.h"

#include "catering_sync.h"
#include "dispatch.h"

#include "convene/booking.h"
#include "convene/conflict.h"
#include "convene/feed.h"
#include "convene/recur.h"
#include "convene/store.h"
#include "convene/token.h"
#include "convene/util.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPORTED_CONFLICTS 1000

/* A string member, or "" when absent or not a string. */
static const char *member_text(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* The first occurrence's instants, from the document's start and zone. */
static void first_instants(json_t *doc, int64_t *start, int64_t *end)
{
    struct local_time s, e;
    const char *tz = json_string_value(json_object_get(doc, "tz"));
    const char *date = json_string_value(json_object_get(doc, "date"));

    *start = *end = 0;
    if (tz == NULL)
        return;
    if (date != NULL) {
        const char *last = json_string_value(json_object_get(doc, "end_date"));
        if (time_date_parse(date, &s) != 0 || time_date_parse(last ? last : date, &e) != 0)
            return;
        recur_local_add(&e, 86400);
    } else if (time_local_parse(member_text(doc, "start"), &s) != 0 ||
               time_local_parse(member_text(doc, "end"), &e) != 0) {
        return;
    }
    time_local_to_utc(&s, tz, start);
    time_local_to_utc(&e, tz, end);
}

static json_t *render_utc(int64_t t)
{
    char buf[TIME_UTC_STR];
    time_utc_format(t, buf);
    return json_string(buf);
}

json_t *booking_event_render(const struct event_row *row, json_t *doc)
{
    json_t *out = json_deep_copy(doc);
    int64_t start, end;
    char etag[48];

    first_instants(doc, &start, &end);
    snprintf(etag, sizeof(etag), "\"%lld\"", (long long)row->version);
    json_object_set_new(out, "id", json_string(row->id));
    json_object_set_new(out, "uid", json_string(row->uid));
    json_object_set_new(out, "sequence", json_integer(row->sequence));
    json_object_set_new(out, "status", json_string(event_status_name(row->status)));
    json_object_set_new(out, "version", json_integer(row->version));
    json_object_set_new(out, "etag", json_string(etag));
    json_object_set_new(out, "start_utc", render_utc(start));
    json_object_set_new(out, "end_utc", render_utc(end));
    json_object_set_new(out, "created_at", render_utc(row->created_at));
    json_object_set_new(out, "updated_at", render_utc(row->updated_at));
    if (json_object_get(out, "needs") == NULL)
        json_object_set_new(out, "needs", json_array());
    return out;
}

/* ---------------- conflicts and preemption ---------------- */

/* The check of one booking: its clashes, kept for preemption and reported. */
struct booking {
    const struct booking_ctx *ctx;
    struct event_plan *plan;
    const char *event_id;
    json_t *conflicts;         /* reported to the client */
    struct clash *clashes;     /* kept for the preemption decision */
    size_t nclashes, cap;
    const struct claim *claim; /* the claim being checked */
    int failed;
    struct conflict_report report; /* names and trip times of the entries */
};

static int on_clash(const struct clash *c, void *arg)
{
    struct booking *b = arg;
    const struct occurrence *o = b->claim->occ;
    json_t *entry;

    if (b->nclashes == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->clashes = xrealloc(b->clashes, b->cap * sizeof(*b->clashes));
    }
    b->clashes[b->nclashes++] = *c;
    if (json_array_size(b->conflicts) >= MAX_REPORTED_CONFLICTS)
        return 0;
    entry = conflict_report_clash(&b->report, b->claim, o, c);
    json_array_append_new(b->conflicts, entry);
    return 0;
}

static int check_claim(const struct claim *c, void *arg)
{
    struct booking *b = arg;

    b->claim = c;
    if (store_occupancy_overlaps(b->ctx->app->store, c->resource_type, c->resource_id,
                                 c->start_utc, c->end_utc, b->event_id, on_clash, b) != STORE_OK) {
        b->failed = 1;
        return -1;
    }
    return 0;
}

/* A clash with another series' occurrence not stored yet (event_window.c). */
static int on_window_clash(const struct clash *theirs, const struct claim *mine, void *arg)
{
    struct booking *b = arg;

    b->claim = mine;
    return on_clash(theirs, b);
}

/*
 * Every occurrence of the new booking over its whole span, stored or not,
 * against the occupancy, and then against the occurrences other series
 * have beyond their stored windows.
 */
static int check_booking(struct booking *b)
{
    const struct event_plan *p = b->plan;

    if (event_plan_claims_range(p, b->event_id, 0, p->nocc + p->nbeyond, check_claim, b) != 0)
        return -1;
    if (event_window_check(b->ctx->app, p, b->event_id, on_window_clash, b) != 0) {
        b->failed = 1;
        return -1;
    }
    return 0;
}

static int insert_claim(const struct claim *c, void *arg)
{
    return store_occupancy_insert(arg, c) == STORE_OK ? 0 : -1;
}

static void add_need(json_t *doc, const char *what)
{
    json_t *needs = json_object_get(doc, "needs");
    size_t i;
    json_t *n;

    if (!json_is_array(needs)) {
        needs = json_array();
        json_object_set_new(doc, "needs", needs);
    }
    json_array_foreach(needs, i, n) {
        if (strcmp(json_string_value(n), what) == 0)
            return;
    }
    json_array_append_new(needs, json_string(what));
}

/*
 * What a preempted event lost stops being needed once it has it again (a
 * room, or a vehicle on every trip): `needs` used to keep ["room"] after a
 * PATCH gave the meeting a new room.
 */
static void settle_needs(json_t *doc)
{
    json_t *needs = json_object_get(doc, "needs"), *t;
    int vehicles = 1;
    size_t i;

    if (!json_is_array(needs))
        return;
    json_array_foreach(json_object_get(doc, "trips"), i, t) {
        vehicles &= json_is_string(json_object_get(t, "vehicle"));
    }
    for (i = json_array_size(needs); i-- > 0;) {
        const char *n = json_string_value(json_array_get(needs, i));
        if (n != NULL && ((strcmp(n, "room") == 0 && json_is_string(json_object_get(doc, "room"))) ||
                          (strcmp(n, "vehicle") == 0 && vehicles)))
            json_array_remove(needs, i);
    }
}

static int publish_calendars(struct app *app, const char *event_id, json_t *doc, int is_new);

/* Occurrences moved into room (overrides[].room) lose it too: they keep no room at all. */
static void drop_occurrence_rooms(json_t *doc, const char *room)
{
    const char *rid;
    json_t *ov;

    json_object_foreach(json_object_get(doc, "overrides"), rid, ov) {
        if (strcmp(member_text(ov, "room"), room) == 0)
            json_object_set_new(ov, "room", json_null());
    }
}

/* Takes a room or vehicle from a lower-ranked event, which keeps its slot. */
static int preempt_one(const struct booking_ctx *ctx, const struct clash *c, const char *by)
{
    struct store *st = ctx->app->store;
    struct event_row row;
    json_t *doc, *before, *after, *trips, *trip;
    size_t i;
    int rc = -1;

    memset(&row, 0, sizeof(row));
    if (store_event_get(st, c->event_id, &row) != STORE_OK)
        return -1;
    doc = json_loads(row.doc, 0, NULL);
    before = booking_event_render(&row, doc);
    if (strcmp(c->role, "room") == 0) {
        if (strcmp(member_text(doc, "room"), c->resource_id) == 0) {
            json_object_set_new(doc, "room", json_null());
            add_need(doc, "room");
        }
        drop_occurrence_rooms(doc, c->resource_id);
    } else {
        trips = json_object_get(doc, "trips");
        json_array_foreach(trips, i, trip) {
            const char *v = json_string_value(json_object_get(trip, "vehicle"));
            if (v != NULL && strcmp(v, c->resource_id) == 0)
                json_object_set_new(trip, "vehicle", json_null());
        }
        add_need(doc, "vehicle");
    }
    free(row.doc);
    row.doc = json_dumps(doc, JSON_COMPACT);
    row.sequence++;
    row.version++;
    row.updated_at = clock_wall_s();
    after = booking_event_render(&row, doc);
    if (store_occupancy_release(st, row.id, c->resource_type, c->resource_id) == STORE_OK &&
        store_event_update(st, &row) == STORE_OK && publish_calendars(ctx->app, row.id, doc, 0) == 0 &&
        dispatch_sync(ctx->app, &row, doc, NULL) == 0 &&
        booking_outbox_append(st, "event.preempted",
               json_pack("{s:O, s:{s:s, s:s}, s:s}", "event", after, "lost", "type",
                         c->resource_type, "id", c->resource_id, "by", by)) == 0 &&
        booking_audit(ctx->app, ctx->actor, row.id, "preempted", before, after) == 0)
        rc = 0;
    json_decref(before);
    json_decref(after);
    json_decref(doc);
    store_event_row_clear(&row);
    return rc;
}

/* Preempts every distinct (event, resource) clash; the rule has been checked. */
static int preempt_all(struct booking *b)
{
    for (size_t i = 0; i < b->nclashes; i++) {
        const struct clash *c = &b->clashes[i];
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(b->clashes[j].event_id, c->event_id) == 0 &&
                   strcmp(b->clashes[j].resource_id, c->resource_id) == 0 &&
                   strcmp(b->clashes[j].resource_type, c->resource_type) == 0;
        if (!seen && preempt_one(b->ctx, c, b->event_id) != 0)
            return -1;
    }
    return 0;
}

static int may_preempt(const struct booking *b)
{
    struct preempt_case *cases = xcalloc(b->nclashes, sizeof(*cases));
    int ok;

    for (size_t i = 0; i < b->nclashes; i++) {
        cases[i].role = b->clashes[i].role;
        cases[i].is_event = b->clashes[i].event_id[0] != '\0';
        cases[i].other_rank = b->clashes[i].best_rank;
    }
    ok = conflict_may_preempt(cases, b->nclashes, b->plan->best_rank);
    free(cases);
    return ok;
}

/* ---------------- the write pipeline ---------------- */

static int invalidate_feed(const char *type, const char *id, void *arg)
{
    feed_cache_invalidate(((struct app *)arg)->feeds, type, id);
    return 0;
}

/* Shows the event in one calendar and drops that calendar's cached feed. */
static int publish_one(struct app *app, const char *event_id, const char *type, const char *id)
{
    if (store_event_resource_add(app->store, event_id, type, id) != STORE_OK)
        return -1;
    feed_cache_invalidate(app->feeds, type, id);
    return 0;
}

/*
 * Records which calendars show the event (attendees, room, vehicles,
 * drivers, passengers) and drops their cached feeds, before and after.
 * A new event (is_new: its row was inserted in this transaction) was in
 * no calendar, so there is nothing to list or clear first; after the
 * clear, the calendars are exactly those added, so they are dropped as
 * they are added instead of listed again (together ~30k instructions of
 * a booking).
 */
static int publish_calendars(struct app *app, const char *event_id, json_t *doc, int is_new)
{
    struct store *st = app->store;
    size_t i, k;
    json_t *a, *t, *p;
    int rc = 0;

    if (!is_new && (store_event_resources_list(st, event_id, invalidate_feed, app) != STORE_OK ||
                    store_event_resources_clear(st, event_id, clock_wall_s()) != STORE_OK))
        return -1;
    json_array_foreach(json_object_get(doc, "attendees"), i, a) {
        rc |= publish_one(app, event_id, "person", member_text(a, "person"));
    }
    if (json_is_string(json_object_get(doc, "room")))
        rc |= publish_one(app, event_id, "room", member_text(doc, "room"));
    json_array_foreach(json_object_get(doc, "trips"), i, t) {
        if (json_is_string(json_object_get(t, "vehicle")))
            rc |= publish_one(app, event_id, "vehicle", member_text(t, "vehicle"));
        rc |= publish_one(app, event_id, "person", member_text(t, "driver"));
        json_array_foreach(json_object_get(t, "passengers"), k, p) {
            rc |= publish_one(app, event_id, "person",
                              json_string_value(p) ? json_string_value(p) : "");
        }
    }
    return rc != 0 ? -1 : 0;
}

/*
 * Materialises the reminders of the occurrences: one per attendee who has
 * not declined and per offset, only those still ahead (past meetings are
 * records; nobody is reminded of them). Unsent ones are rewritten on every
 * change, so moves, cancels, declines and overrides are followed.
 */
static int write_reminders(struct store *st, const char *event_id, json_t *doc,
                           const struct event_plan *plan, int confirmed)
{
    json_t *offsets = json_object_get(doc, "reminders"), *m;
    int64_t now = clock_wall_s();
    size_t i;

    if (store_reminders_clear_unsent(st, event_id) != STORE_OK)
        return -1;
    if (!confirmed)
        return 0;
    for (size_t o = 0; o < plan->nocc; o++) {
        for (size_t a = 0; a < plan->nattendees; a++) {
            if (!event_plan_attends(plan, &plan->occ[o], a))
                continue;
            json_array_foreach(offsets, i, m) {
                struct reminder_row r;
                memset(&r, 0, sizeof(r));
                r.offset_minutes = (int)json_integer_value(m);
                r.start_utc = plan->occ[o].start_utc;
                r.due_utc = r.start_utc - (int64_t)r.offset_minutes * 60;
                if (r.due_utc < now)
                    continue;
                snprintf(r.event_id, sizeof(r.event_id), "%s", event_id);
                snprintf(r.recurrence_id, sizeof(r.recurrence_id), "%s",
                         plan->occ[o].recurrence_id);
                snprintf(r.person, sizeof(r.person), "%s", plan->attendees[a].person);
                if (store_reminder_insert(st, &r) != STORE_OK)
                    return -1;
            }
        }
    }
    return 0;
}

/* A storage failure as a domain error (the store has logged the cause). */
static int storage_failed(struct booking_error *err)
{
    return booking_error_set(err, BOOKING_STORAGE, "storage", NULL,
                             "the database failed; the change was not made");
}

/* The 409 of clashes that stand: every entry, and whether preemption was asked. */
static int refuse_clashes(struct booking *b, int preempt, struct booking_error *err)
{
    booking_error_set(err, BOOKING_CONFLICT, "conflict", NULL, "%s",
                      preempt ? "clashes that this meeting may not preempt"
                              : "the meeting clashes with existing bookings");
    err->details = json_incref(b->conflicts);
    return -1;
}

/* The row's stored state from the plan and the settled document. */
static void row_fill(struct event_row *row, json_t *doc, const struct event_plan *plan)
{
    free(row->title);
    row->title = xstrdup(plan->title);
    settle_needs(doc);
    free(row->doc);
    row->doc = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    row->confidential = plan->confidential;
    row->best_rank = plan->best_rank;
    row->expanded_until = plan->expanded_until;
    row->open_ended = plan->rrule != NULL;
}

/*
 * Writes the row and everything derived from it (booking_event_write's
 * last part). A live row (confirmed or pending) holds its time; only a
 * confirmed one has reminders, trips and meals.
 */
static int write_rows(struct app *app, json_t *doc, struct event_row *row, int is_new,
                      const struct event_plan *plan, int live)
{
    struct store *st = app->store;

    /* A new event's row was inserted just now: it has no occurrences or claims to clear. */
    if ((is_new ? store_event_insert(st, row) : store_event_update(st, row)) != STORE_OK ||
        (!is_new && store_event_bookings_clear(st, row->id) != STORE_OK) ||
        publish_calendars(app, row->id, doc, is_new) != 0)
        return -1;
    for (size_t i = 0; i < plan->nocc; i++)
        if (store_occurrence_insert(st, row->id, &plan->occ[i]) != STORE_OK)
            return -1;
    if (live && event_plan_claims(plan, row->id, insert_claim, st) != 0)
        return -1;
    if (write_reminders(st, row->id, doc, plan, row->status == EVENT_CONFIRMED) != 0 ||
        dispatch_sync(app, row, doc, plan) != 0 || catering_sync(app, row, doc, plan) != 0)
        return -1;
    return 0;
}

int booking_event_write(const struct booking_ctx *ctx, json_t *doc, struct event_row *row,
                        int is_new, int preempt, int check, struct booking_error *err)
{
    struct app *app = ctx->app;
    struct event_plan plan;
    json_t *refusal = NULL;
    struct booking b = {ctx, &plan, row->id, json_array(), NULL, 0, 0, NULL, 0, {0}};
    int rc = -1;

    conflict_report_init(&b.report, app, &plan);
    if (event_plan_parse(app, doc, &plan, err) != 0 || event_plan_resolve(app, &plan, err) != 0 ||
        event_plan_expand(&plan, ctx->now, err) != 0)
        goto done;
    /* A booking the rules want approved (new, or changed into needing more) is pending (approvals.c). */
    if ((is_new ? approvals_request(ctx, &plan, row, doc, err)
                : approvals_change(ctx, &plan, row, doc, err)) != 0)
        goto done;
    /* Cancelled, rejected and expired events hold nothing; only live ones are checked and claimed. */
    int live = event_status_holds(row->status);
    if (live && check && check_booking(&b) != 0) {
        storage_failed(err);
        goto done;
    }
    if (b.nclashes > 0) {
        if (!preempt || !may_preempt(&b)) {
            refuse_clashes(&b, preempt, err);
            goto done;
        }
        if (preempt_all(&b) != 0) {
            storage_failed(err);
            goto done;
        }
    }
    /* Driver hours, rest and weekend approval (dispatch.c). */
    if (live && check && dispatch_check(app, row->id, &plan, &b.report, err, &refusal) != 0) {
        err->details = json_array_size(refusal) > 0 ? json_incref(refusal) : NULL;
        goto done;
    }
    row_fill(row, doc, &plan);
    if (write_rows(app, doc, row, is_new, &plan, live) != 0) {
        storage_failed(err);
        goto done;
    }
    rc = 0;
done:
    event_plan_free(&plan);
    json_decref(b.conflicts);
    json_decref(refusal);
    conflict_report_free(&b.report);
    free(b.clashes);
    return rc;
}

void booking_event_row_new(struct event_row *row, const char *uid)
{
    memset(row, 0, sizeof(*row));
    token_id_generate("evt", row->id);
    snprintf(row->uid, sizeof(row->uid), "%s", uid ? uid : "");
    if (uid == NULL)
        snprintf(row->uid, sizeof(row->uid), "%s@convene", row->id);
    row->status = EVENT_CONFIRMED;
    row->version = 1;
    row->created_at = row->updated_at = clock_wall_s();
}

int booking_event_create(const struct booking_ctx *ctx, json_t *doc, const char *uid,
                         const char *action, char id_out[ID_STR_MAX], struct booking_error *err)
{
    struct event_row row;
    json_t *after;
    char *text = NULL;
    int rc = -1;

    booking_event_row_new(&row, uid);
    if (store_event_uid_exists(ctx->app->store, row.uid) == STORE_OK) {
        booking_error_set(err, BOOKING_CONFLICT, "duplicate_uid", "uid",
                          "an event with UID '%s' exists", row.uid);
    } else if (booking_event_write(ctx, doc, &row, 1, 0, 1, err) == 0) {
        after = booking_record_change(ctx, &row, doc, "event.created", action, NULL, &text);
        if (after != NULL) {
            json_decref(after);
            free(text);
            memcpy(id_out, row.id, ID_STR_MAX);
            rc = 0;
        } else {
            storage_failed(err);
        }
    }
    store_event_row_clear(&row);
    return rc;
}
