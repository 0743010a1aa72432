/*
 * events.c - meetings (CONTRACT section 4). Every write is one
 * transaction: validate the document, expand it, check each occurrence x
 * resource against the occupancy index (preempting rooms and vehicles of
 * lower-ranked meetings when asked and allowed), then write the event, its
 * occurrences and claims, its outbox messages and its audit record.
 */
#include "handlers.h"
#include "catering.h"
#include "../booking/conflicts.h"
#include "dispatch.h"
#include "../booking/plan.h"
#include "../booking/window.h"

#include "convene/conflict.h"
#include "convene/feed.h"
#include "convene/json.h"
#include "convene/recur.h"
#include "convene/store.h"
#include "convene/util.h"
#include "convene/visibility.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPORTED_CONFLICTS 1000

/* ---------------- rendering ---------------- */

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

/* The event as clients see it: the document plus what the server keeps. */
static json_t *event_render(const struct event_row *row, json_t *doc)
{
    json_t *out = json_deep_copy(doc);
    int64_t start, end;
    char etag[48];

    first_instants(doc, &start, &end);
    snprintf(etag, sizeof(etag), "\"%lld\"", (long long)row->version);
    json_object_set_new(out, "id", json_string(row->id));
    json_object_set_new(out, "uid", json_string(row->uid));
    json_object_set_new(out, "sequence", json_integer(row->sequence));
    json_object_set_new(out, "status", json_string(row->status));
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

struct booking {
    struct api_call *call;
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
    /* The claim's recurrence_id points into its occurrence in plan->occ. */
    const struct occurrence *o = (const struct occurrence *)(const void *)(
        b->claim->recurrence_id - offsetof(struct occurrence, recurrence_id));
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
    if (store_occupancy_overlaps(b->call->app->store, c->resource_type, c->resource_id,
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
    if (event_window_check(b->call->app, p, b->event_id, on_window_clash, b) != 0) {
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

static int publish_calendars(struct app *app, const char *event_id, json_t *doc);
static int outbox(struct store *st, const char *type, json_t *data);

/* Takes a room or vehicle from a lower-ranked event, which keeps its slot. */
static int preempt_one(struct api_call *call, const struct clash *c, const char *by)
{
    struct store *st = call->app->store;
    struct event_row row;
    json_t *doc, *before, *after, *trips, *trip;
    size_t i;
    int rc = -1;

    memset(&row, 0, sizeof(row));
    if (store_event_get(st, c->event_id, &row) != STORE_OK)
        return -1;
    doc = json_loads(row.doc, 0, NULL);
    before = event_render(&row, doc);
    if (strcmp(c->role, "room") == 0) {
        json_object_set_new(doc, "room", json_null());
        add_need(doc, "room");
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
    after = event_render(&row, doc);
    if (store_occupancy_release(st, row.id, c->resource_type, c->resource_id) == STORE_OK &&
        store_event_update(st, &row) == STORE_OK && publish_calendars(call->app, row.id, doc) == 0 &&
        dispatch_sync(call->app, &row, doc, NULL) == 0 &&
        outbox(st, "event.preempted",
               json_pack("{s:O, s:{s:s, s:s}, s:s}", "event", after, "lost", "type",
                         c->resource_type, "id", c->resource_id, "by", by)) == 0 &&
        events_audit(call, row.id, "preempted", before, after) == 0)
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
        if (!seen && preempt_one(b->call, c, b->event_id) != 0)
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

/*
 * Records which calendars show the event (attendees, room, vehicles,
 * drivers, passengers) and drops their cached feeds, before and after.
 */
static int publish_calendars(struct app *app, const char *event_id, json_t *doc)
{
    struct store *st = app->store;
    size_t i, k;
    json_t *a, *t, *p;
    int rc = 0;

    if (store_event_resources_list(st, event_id, invalidate_feed, app) != STORE_OK ||
        store_event_resources_clear(st, event_id, clock_wall_s()) != STORE_OK)
        return -1;
    json_array_foreach(json_object_get(doc, "attendees"), i, a) {
        rc |= store_event_resource_add(st, event_id, "person", member_text(a, "person"));
    }
    if (json_is_string(json_object_get(doc, "room")))
        rc |= store_event_resource_add(st, event_id, "room", member_text(doc, "room"));
    json_array_foreach(json_object_get(doc, "trips"), i, t) {
        if (json_is_string(json_object_get(t, "vehicle")))
            rc |= store_event_resource_add(st, event_id, "vehicle", member_text(t, "vehicle"));
        rc |= store_event_resource_add(st, event_id, "person", member_text(t, "driver"));
        json_array_foreach(json_object_get(t, "passengers"), k, p) {
            rc |= store_event_resource_add(st, event_id, "person",
                                           json_string_value(p) ? json_string_value(p) : "");
        }
    }
    if (rc != 0 || store_event_resources_list(st, event_id, invalidate_feed, app) != STORE_OK)
        return -1;
    return 0;
}

/*
 * Materialises the reminders of the occurrences: one per attendee who has
 * not declined and per offset, only those still ahead (past meetings are
 * records; nobody is reminded of them). Unsent ones are rewritten on every
 * change, so moves, cancels, declines and overrides are followed.
 */
static int write_reminders(struct store *st, const char *event_id, json_t *doc,
                           const struct event_plan *plan, int live)
{
    json_t *offsets = json_object_get(doc, "reminders"), *m;
    int64_t now = clock_wall_s();
    size_t i;

    if (store_reminders_clear_unsent(st, event_id) != STORE_OK)
        return -1;
    if (!live)
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

/*
 * Validates doc, books it for event row->id and writes it (insert when
 * is_new). Runs inside the caller's transaction. 0, or -1 after replying.
 * On success row holds the stored state; the plan is freed.
 */
static int event_write_at(struct api_call *call, json_t *doc, struct event_row *row, int is_new,
                          int preempt, int check, int64_t now)
{
    struct app *app = call->app;
    struct event_plan plan;
    struct booking_error err = {0};
    json_t *refusal = NULL;
    struct booking b = {call, &plan, row->id, json_array(), NULL, 0, 0, NULL, 0, {0}};
    int rc = -1;

    conflict_report_init(&b.report, app, &plan);

    if (event_plan_parse(app, doc, &plan, &err) != 0 || event_plan_resolve(app, &plan, &err) != 0 ||
        event_plan_expand(&plan, now, &err) != 0) {
        api_reply_booking_error(call, &err);
        goto done;
    }
    /* Cancelled events hold nothing; only live ones are checked and claimed. */
    int live = strcmp(row->status, "cancelled") != 0;
    if (live && check && check_booking(&b) != 0) {
        api_reply_store_error(call);
        goto done;
    }
    if (b.nclashes > 0) {
        if (!preempt || !may_preempt(&b)) {
            json_t *e = json_pack("{s:{s:s, s:s, s:O}}", "error", "code", "conflict", "message",
                                  preempt ? "clashes that this meeting may not preempt"
                                          : "the meeting clashes with existing bookings",
                                  "conflicts", b.conflicts);
            api_reply_json(call, 409, e, -1);
            goto done;
        }
        if (preempt_all(&b) != 0) {
            api_reply_store_error(call);
            goto done;
        }
    }
    /* Driver hours, rest and weekend approval (dispatch.c). */
    if (live && check && dispatch_check(app, row->id, &plan, &b.report, &err, &refusal) != 0) {
        err.details = json_array_size(refusal) > 0 ? json_incref(refusal) : NULL;
        api_reply_booking_error(call, &err);
        booking_error_clear(&err);
        goto done;
    }
    free(row->title);
    row->title = xstrdup(plan.title);
    settle_needs(doc);
    free(row->doc);
    row->doc = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    row->confidential = plan.confidential;
    row->best_rank = plan.best_rank;
    row->expanded_until = plan.expanded_until;
    row->open_ended = plan.rrule != NULL;
    if ((is_new ? store_event_insert(app->store, row) : store_event_update(app->store, row)) !=
            STORE_OK ||
        store_event_bookings_clear(app->store, row->id) != STORE_OK ||
        publish_calendars(app, row->id, doc) != 0) {
        api_reply_store_error(call);
        goto done;
    }
    for (size_t i = 0; i < plan.nocc; i++) {
        if (store_occurrence_insert(app->store, row->id, &plan.occ[i]) != STORE_OK) {
            api_reply_store_error(call);
            goto done;
        }
    }
    if (live && event_plan_claims(&plan, row->id, insert_claim, app->store) != 0) {
        api_reply_store_error(call);
        goto done;
    }
    if (write_reminders(app->store, row->id, doc, &plan, live) != 0 ||
        dispatch_sync(app, row, doc, &plan) != 0 || catering_sync(app, row, doc, &plan) != 0) {
        api_reply_store_error(call);
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

static int event_write(struct api_call *call, json_t *doc, struct event_row *row, int is_new,
                       int preempt, int check)
{
    return event_write_at(call, doc, row, is_new, preempt, check, clock_wall_s());
}

/* Appends an outbox message (steals data). 0 or -1. */
static int outbox(struct store *st, const char *type, json_t *data)
{
    char *payload = json_dumps(data, JSON_COMPACT);
    int rc = store_outbox_append(st, type, payload, NULL);

    free(payload);
    json_decref(data);
    return rc == STORE_OK ? 0 : -1;
}

int events_audit_text(struct app *app, const struct auth *who, const char *event_id,
                      const char *action, const char *b, const char *a)
{
    struct history_row h;

    memset(&h, 0, sizeof(h));
    h.at = clock_wall_s();
    if (who != NULL) {
        snprintf(h.token_id, sizeof(h.token_id), "%s", who->token_id);
        snprintf(h.actor, sizeof(h.actor), "%s", who->name);
        snprintf(h.actor_person, sizeof(h.actor_person), "%s", who->person);
    } else {
        snprintf(h.actor, sizeof(h.actor), "convene");
    }
    snprintf(h.action, sizeof(h.action), "%s", action);
    h.before = b;
    h.after = a;
    return store_history_append(app->store, event_id, &h) == STORE_OK ? 0 : -1;
}

/* The audit record of a caller's change, from the renderings already serialised. */
static int audit_text(struct api_call *call, const char *event_id, const char *action,
                      const char *b, const char *a)
{
    return events_audit_text(call->app, &call->auth, event_id, action, b, a);
}

int events_audit(struct api_call *call, const char *event_id, const char *action, json_t *before,
                 json_t *after)
{
    char *b = before ? json_dumps(before, JSON_COMPACT) : NULL;
    char *a = after ? json_dumps(after, JSON_COMPACT) : NULL;
    int rc = audit_text(call, event_id, action, b, a);

    free(b);
    free(a);
    return rc;
}

/* What changed between two renderings, for event.updated: old and new per member. */
static json_t *event_changes(json_t *before, json_t *after)
{
    static const char *const skip[] = {"version", "etag", "updated_at", "sequence", "needs", NULL};
    json_t *changes = json_object();
    const char *key;
    json_t *v;

    json_object_foreach(after, key, v) {
        json_t *old = json_object_get(before, key);
        int skipped = 0;
        for (size_t i = 0; skip[i]; i++)
            skipped |= strcmp(skip[i], key) == 0;
        if (!skipped && (old == NULL || !json_equal(old, v)))
            json_object_set_new(changes, key,
                                json_pack("{s:O?, s:O}", "old", old, "new", v));
    }
    json_object_foreach(before, key, v) {
        if (json_object_get(after, key) == NULL)
            json_object_set_new(changes, key, json_pack("{s:O, s:n}", "old", v, "new"));
    }
    return changes;
}

/* Writes the change's outbox message and audit record; returns the rendering (owned) or NULL. */
/*
 * Writes the change's outbox message and audit record; returns the event as
 * rendered, serialised once for both and for the reply (*text, malloc'd),
 * or NULL. Serialising the same rendering three times was a sixth of a
 * booking's CPU.
 */
static json_t *record_change(struct api_call *call, struct event_row *row, json_t *doc,
                             const char *type, const char *action, json_t *before, char **text)
{
    json_t *after = event_render(row, doc);
    char *a = json_dumps(after, JSON_COMPACT), *b = NULL, *payload = NULL;
    int rc = -1;

    *text = NULL;
    if (a == NULL)
        goto done;
    if (before != NULL && strcmp(type, "event.updated") == 0) {
        json_t *data = json_pack("{s:O, s:o}", "event", after, "changes",
                                 event_changes(before, after));
        payload = json_dumps(data, JSON_COMPACT);
        json_decref(data);
    } else {
        size_t len = strlen(a);
        payload = xmalloc(len + sizeof("{\"event\":}"));
        memcpy(payload, "{\"event\":", 9);
        memcpy(payload + 9, a, len);
        memcpy(payload + 9 + len, "}", 2);
    }
    b = before != NULL ? json_dumps(before, JSON_COMPACT) : NULL;
    if (payload != NULL && store_outbox_append(call->app->store, type, payload, NULL) == STORE_OK &&
        audit_text(call, row->id, action, b, a) == 0)
        rc = 0;
done:
    free(payload);
    free(b);
    if (rc != 0) {
        free(a);
        json_decref(after);
        return NULL;
    }
    *text = a;
    return after;
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

/* A new event row (not yet stored) with a fresh id, and uid unless given. */
static void new_row(struct event_row *row, const char *uid)
{
    memset(row, 0, sizeof(*row));
    token_id_generate("evt", row->id);
    snprintf(row->uid, sizeof(row->uid), "%s", uid ? uid : "");
    if (uid == NULL)
        snprintf(row->uid, sizeof(row->uid), "%s@convene", row->id);
    snprintf(row->status, sizeof(row->status), "confirmed");
    row->version = 1;
    row->created_at = row->updated_at = clock_wall_s();
}

int events_create_in_transaction(struct api_call *call, json_t *doc, const char *uid,
                                 char id_out[ID_STR_MAX])
{
    struct event_row row;
    json_t *after;
    char *text = NULL;
    int rc = -1;

    new_row(&row, uid);
    if (store_event_uid_exists(call->app->store, row.uid) == STORE_OK) {
        api_reply_error(call, 409, "duplicate_uid", "uid", "an event with UID '%s' exists",
                        row.uid);
    } else if (event_write(call, doc, &row, 1, 0, 1) == 0 &&
               (after = record_change(call, &row, doc, "event.created", "imported", NULL,
                                      &text)) != NULL) {
        json_decref(after);
        free(text);
        memcpy(id_out, row.id, ID_STR_MAX);
        rc = 0;
    } else if (call->res->status == 0) {
        api_reply_store_error(call);
    }
    store_event_row_clear(&row);
    return rc;
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
    new_row(&row, NULL);
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
            json_t *full = event_render(&row, doc);
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
    before = event_render(&row, prev);
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
    json_t *after = event_render(row, doc), *audit_after = json_deep_copy(after);
    int rc;

    json_object_set(audit_after, "skipped", skipped);
    rc = events_audit(call, row->id, "occurrences_skipped", before, audit_after);
    if (rc == 0)
        rc = outbox(call->app->store, "event.updated",
                    json_pack("{s:O, s:o, s:O}", "event", after, "changes",
                              event_changes(before, after), "skipped", skipped));
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
        before = event_render(row, doc);
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
