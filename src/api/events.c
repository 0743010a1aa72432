/*
 * events.c - meetings over HTTP (CONTRACT section 4): parse, call the
 * booking layer, render. A new meeting is written by booking_event_write
 * and recorded by booking_record_change; every change to a stored one
 * (PATCH, DELETE, RSVP, an occurrence's edit or cancel) is one call of
 * booking_event_change, which holds the transaction frame (load,
 * If-Match, change, write, record, commit). Here: the If-Match header
 * read as a version, the reply with its ETag, the history's visibility.
 */
#include "handlers.h"

#include "convene/conflict.h"
#include "convene/body.h"
#include "convene/recur.h"
#include "convene/store.h"
#include "convene/util.h"
#include "convene/visibility.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static int event_write(struct api_call *call, json_t *doc, struct event_row *row, int is_new,
                       int preempt, int check)
{
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};

    call_ctx(call, &actor, &ctx, clock_wall_s());
    if (booking_event_write(&ctx, doc, row, is_new, preempt, check, &err) == 0)
        return 0;
    api_reply_booking_error(call, &err);
    booking_error_clear(&err);
    return -1;
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

/* ?dry_run=true asks for a preview: 1, 0 when absent or false, -1 after replying 422. */
static int dry_run_asked(struct api_call *call)
{
    char v[8];
    int rc = api_query_param(call, "dry_run", v, sizeof(v));

    if (rc <= 0)
        return rc;
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
        return strcmp(v, "true") == 0;
    api_reply_error(call, 422, "invalid", "dry_run", "'dry_run' must be true or false");
    return -1;
}

/* Answers a preview (booking_preview_*): 200 with what the change would do, or the refusal. */
static void reply_preview(struct api_call *call, int rc, json_t *out, struct booking_error *err)
{
    if (rc == 0)
        api_reply_json(call, 200, out, -1);
    else
        api_reply_booking_error(call, err);
    booking_error_clear(err);
}

static void preview_create(struct api_call *call, json_t *body, int preempt)
{
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};
    json_t *out = NULL;
    int rc;

    events_call_ctx(call, &actor, &ctx);
    rc = booking_preview_create(&ctx, body, preempt, &out, &err);
    reply_preview(call, rc, out, &err);
}

void api_events_create(struct api_call *call)
{
    json_t *body = api_body_object(call);
    struct store *st = call->app->store;
    struct event_row row;
    struct api_error err;
    int preempt, dry;

    if (body == NULL)
        return;
    memset(&err, 0, sizeof(err));
    if (body_only_members(body, booking_event_members, &err) != 0) {
        api_reply_api_error(call, &err);
        return;
    }
    if (take_preempt(call, body, &preempt) != 0 || (dry = dry_run_asked(call)) < 0)
        return;
    if (dry) {
        preview_create(call, body, preempt);
        return;
    }
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

/*
 * Answers a change made by the layer: the event as it now is with its
 * ETag, or (empty: DELETE) 204 with the ETag; 204 alone when there was
 * nothing to do; otherwise the refusal.
 */
static void change(struct api_call *call, const struct booking_change *ch, int empty)
{
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};
    struct event_row row;
    char *text = NULL;
    json_t *out = NULL;
    int rc, dry = dry_run_asked(call);

    if (dry < 0)
        return;
    events_call_ctx(call, &actor, &ctx);
    if (dry) {
        rc = booking_preview_change(&ctx, call->params[0], ch, &out, &err);
        reply_preview(call, rc, out, &err);
        return;
    }
    rc = booking_event_change(&ctx, call->params[0], ch, &row, &text, &err);
    if (rc < 0) {
        api_reply_booking_error(call, &err);
    } else if (rc > 0 || empty) { /* cancelling answers with no body, as DELETE does elsewhere */
        api_reply_empty(call, 204);
    } else {
        api_reply_json_text(call, 200, text, strlen(text)); /* takes the text */
        text = NULL;
    }
    if (rc == 0)
        snprintf(call->res->etag, sizeof(call->res->etag), "\"%lld\"", (long long)row.version);
    free(text);
    booking_error_clear(&err);
    store_event_row_clear(&row);
}

void api_events_patch(struct api_call *call)
{
    struct booking_change ch = {BOOKING_PATCH, NULL, NULL, api_if_match_version(call)};

    if ((ch.body = api_body_object(call)) != NULL)
        change(call, &ch, 0);
}

void api_events_delete(struct api_call *call)
{
    struct booking_change ch = {BOOKING_CANCEL, NULL, NULL, api_if_match_version(call)};

    change(call, &ch, 1);
}

void api_events_rsvp(struct api_call *call)
{
    struct booking_change ch = {BOOKING_RSVP, NULL, NULL, BOOKING_ANY_VERSION};

    if ((ch.body = api_body_object(call)) != NULL)
        change(call, &ch, 0);
}

void api_events_occurrence_patch(struct api_call *call)
{
    struct booking_change ch = {BOOKING_OCCURRENCE_EDIT, NULL, call->params[1],
                                api_if_match_version(call)};

    if ((ch.body = api_body_object(call)) != NULL)
        change(call, &ch, 0);
}

void api_events_occurrence_delete(struct api_call *call)
{
    struct booking_change ch = {BOOKING_OCCURRENCE_CANCEL, NULL, call->params[1],
                                api_if_match_version(call)};

    change(call, &ch, 1);
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
