/*
 * extend.c - the rolling window. A series is stored about two years
 * ahead (expanded_until); once a day, and at start, every series whose
 * window ends within that is re-expanded to now's. The occurrences
 * entering the window are booked, except those that would clash with
 * what was booked since the series was accepted (a one-off placed beyond
 * the series' span then): double booking them would break CONTRACT
 * section 4, and refusing the whole series would silently cancel a
 * meeting everyone relies on. Those are left out as EXDATEs, and said so.
 */
#include "plan.h"

#include "convene/booking.h"
#include "convene/conflict.h"
#include "convene/recur.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdio.h>
#include <string.h>

/* Clashes of one occurrence entering the window, as reported in its history entry. */
struct window_scan {
    struct app *app;
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

    return store_occupancy_overlaps(w->app->store, c->resource_type, c->resource_id,
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
static json_t *window_entry_clashes(struct app *app, const char *id, json_t *doc,
                                    int64_t old_until, int64_t now)
{
    struct window_scan w = {app, id, NULL};
    struct event_plan plan;
    struct booking_error err;
    json_t *out = json_array();

    if (event_plan_parse(app, doc, &plan, &err) != 0 ||
        event_plan_resolve(app, &plan, &err) != 0 || event_plan_expand(&plan, now, &err) != 0) {
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

/* The log line of one occurrence left out: what is taken, and by what. */
static void log_skipped(const struct event_row *row, json_t *s)
{
    json_t *first = json_array_get(json_object_get(s, "conflicts"), 0);
    const char *by = json_object_get(first, "event") ? "event" : "block";

    log_info("horizon: series %s: occurrence %s not booked: %s %s is taken (%s %s)", row->id,
             json_string_value(json_object_get(s, "recurrence_id")),
             json_string_value(json_object_get(json_object_get(first, "resource"), "type")),
             json_string_value(json_object_get(json_object_get(first, "resource"), "id")), by,
             json_string_value(json_object_get(first, by)));
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
        json_array_append(exdates, json_object_get(s, "recurrence_id"));
        log_skipped(row, s);
    }
}

/* The history entry and event.updated message of occurrences left out. 0 or -1. */
static int record_skipped(const struct booking_ctx *ctx, const struct event_row *row,
                          json_t *doc, json_t *before, json_t *skipped)
{
    json_t *after = booking_event_render(row, doc), *audit_after = json_deep_copy(after);
    int rc;

    json_object_set(audit_after, "skipped", skipped);
    rc = booking_audit(ctx->app, ctx->actor, row->id, "occurrences_skipped", before,
                       audit_after);
    if (rc == 0)
        rc = booking_outbox_append(ctx->app->store, "event.updated",
                                   json_pack("{s:O, s:o, s:O}", "event", after, "changes",
                                             booking_event_changes(before, after), "skipped",
                                             skipped));
    json_decref(audit_after);
    json_decref(after);
    return rc;
}

/* Moves one series' stored window to now's, in the caller's transaction. 0 or -1. */
static int extend_series(const struct booking_ctx *ctx, struct event_row *row, json_t *doc)
{
    json_t *skipped = window_entry_clashes(ctx->app, row->id, doc, row->expanded_until, ctx->now);
    json_t *before = NULL;
    struct booking_error err = {0};
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
    if (booking_event_write(ctx, doc, row, 0, 0, 0, &err) == 0 &&
        (before == NULL || record_skipped(ctx, row, doc, before, skipped) == 0))
        rc = 0;
    booking_error_clear(&err);
    json_decref(before);
    json_decref(skipped);
    return rc;
}

static int extend_one(const char *id, void *arg)
{
    const struct booking_ctx *ctx = arg;
    struct store *st = ctx->app->store;
    struct event_row row;
    json_t *doc = NULL;
    int rc = -1;

    memset(&row, 0, sizeof(row));
    if (store_begin(st) != STORE_OK)
        return -1;
    if (store_event_get(st, id, &row) == STORE_OK &&
        (doc = json_loads(row.doc, 0, NULL)) != NULL && extend_series(ctx, &row, doc) == 0 &&
        store_commit(st) == STORE_OK)
        rc = 0;
    json_decref(doc);
    if (rc != 0) {
        store_rollback(st);
        log_error("horizon: could not extend event %s", id);
    }
    store_event_row_clear(&row);
    return 0; /* one bad event must not stop the others */
}

int booking_extend_windows(struct app *app, int64_t now)
{
    /* The window's changes are audited as "horizon", as they always were. */
    struct booking_actor horizon = {.name = "horizon"};
    struct booking_ctx ctx = {app, &horizon, now};
    /* Re-expand a day before the horizon comes within 2 years of now. */
    int64_t before = now + (int64_t)(RECUR_HORIZON_DAYS - 1) * 86400;

    return store_event_ids_to_extend(app->store, before, extend_one, &ctx) == STORE_OK ? 0 : -1;
}
