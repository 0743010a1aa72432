/*
 * reminders.c - reminder.due messages. Reminder rows are written with the
 * occurrences (events.c); one uv_timer sleeps until the earliest due one
 * (never longer than NOTIFY_MAX_SLEEP_MS, so a clock change cannot strand
 * it). A reminder found due late (after downtime) is still sent, marked
 * late, if its meeting has not started; otherwise it is dropped and counted.
 *
 * A reminder.due message is written to the outbox like any other (replay
 * reads it there) and, in the same transaction, straight to the delivery
 * rows of the endpoints that want it, from the JSON it was built from:
 * fanning it out later would parse, copy and dump it again. The outbox
 * messages written before it are fanned out first in that transaction, so
 * the fan-out cursor can then pass the reminders' own messages.
 */
#include "notify_internal.h"

#include "convene/store.h"
#include "convene/timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REMINDER_BATCH 1000
#define ON_TIME_S 1        /* later than this counts as late */
#define START_GRACE_S 5    /* an at-the-start reminder may still go out this long after */

static const double lateness_bounds[] = {0.1, 0.25, 0.5, 1, 2.5, 10, 60};

struct reminder_ctx {
    struct notify *n;
    int64_t now;
    json_t *events; /* id -> document, loaded once per batch */
    struct fanout fan;
    int direct;     /* the batch writes its deliveries itself (fan is loaded, has endpoints) */
    int failed;
    size_t rows;    /* reminders handled in this batch */
    /*
     * The start of the last occurrence formatted, in UTC and in the event's
     * zone: due rows come grouped by event, and one occurrence has a
     * reminder per attendee, so most rows reuse it.
     */
    char last_event[ID_STR_MAX];
    int64_t last_start;
    char start_utc[TIME_UTC_STR];
    char start_local[TIME_LOCAL_STR];
};

static json_t *event_doc(struct reminder_ctx *ctx, const char *id)
{
    json_t *doc = json_object_get(ctx->events, id);
    struct event_row row;

    if (doc != NULL)
        return doc;
    memset(&row, 0, sizeof(row));
    if (store_event_get(ctx->n->app->store, id, &row) == STORE_OK)
        doc = json_loads(row.doc, 0, NULL);
    store_event_row_clear(&row);
    if (doc == NULL)
        doc = json_object();
    json_object_set_new(ctx->events, id, doc);
    return doc;
}

static void observe_lateness(struct notify *n, double seconds)
{
    size_t b;

    for (b = 0; b < sizeof(lateness_bounds) / sizeof(lateness_bounds[0]); b++)
        if (seconds <= lateness_bounds[b])
            break;
    n->lateness_buckets[b]++;
    n->lateness_sum += seconds;
}

static int send_one(const struct reminder_row *r, void *arg)
{
    struct reminder_ctx *ctx = arg;
    struct notify *n = ctx->n;
    struct store *st = n->app->store;
    int64_t grace = r->offset_minutes == 0 ? START_GRACE_S : 0;

    ctx->rows++;
    /* The meeting already began: a reminder now would only confuse. */
    if (ctx->now > r->start_utc + grace) {
        n->reminders_dropped++;
        log_info("reminder for %s %s (%s, -%d min) dropped: the meeting has started",
                 r->event_id, r->recurrence_id, r->person, r->offset_minutes);
        return store_reminder_mark_sent(st, r, 2) == STORE_OK ? 0 : -1;
    }
    json_t *doc = event_doc(ctx, r->event_id);
    const char *title = json_string_value(json_object_get(doc, "title"));
    int late = ctx->now - r->due_utc > ON_TIME_S;

    if (r->start_utc != ctx->last_start || strcmp(r->event_id, ctx->last_event) != 0) {
        time_utc_format(r->start_utc, ctx->start_utc);
        /* The occurrence may have been moved: its start is the instant, in the event's zone. */
        struct local_time lt;
        const char *tz = json_string_value(json_object_get(doc, "tz"));
        if (tz == NULL || time_utc_to_local(r->start_utc, tz, &lt) != 0)
            snprintf(ctx->start_local, sizeof(ctx->start_local), "%s", r->recurrence_id);
        else
            time_local_format(&lt, ctx->start_local);
        snprintf(ctx->last_event, sizeof(ctx->last_event), "%s", r->event_id);
        ctx->last_start = r->start_utc;
    }
    const char *start_utc = ctx->start_utc, *start_local = ctx->start_local;
    json_t *data = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s?, s:O?, s:O?, s:b}", "event",
                             r->event_id, "recurrence_id", r->recurrence_id, "person", r->person,
                             "offset_minutes", r->offset_minutes, "start", start_local,
                             "start_utc", start_utc, "title", title, "location",
                             json_object_get(doc, "location"), "room",
                             json_object_get(doc, "room"), "late", late);
    char *payload = json_dumps(data, JSON_COMPACT);
    char msg_id[ID_STR_MAX];
    int rc = payload != NULL &&
                     store_outbox_append(st, "reminder.due", payload, msg_id) == STORE_OK &&
                     (!ctx->direct || fanout_message(&ctx->fan, msg_id, "reminder.due",
                                                     clock_wall_s(), payload, data) == 0) &&
                     store_reminder_mark_sent(st, r, 1) == STORE_OK
                 ? 0
                 : -1;
    free(payload);
    json_decref(data);
    observe_lateness(n, (double)(ctx->now - r->due_utc));
    n->reminders_sent++;
    n->reminders_late += late;
    return rc;
}

static void on_reminder_timer(uv_timer_t *timer);

void notify_reminders_run(struct notify *n)
{
    struct store *st = n->app->store;
    struct reminder_ctx ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.n = n;
    ctx.now = clock_wall_s();
    ctx.events = json_object();
    ctx.last_start = -1;

    if (store_begin(st) == STORE_OK) {
        int64_t seq = 0;
        /*
         * With endpoints, fan out what the outbox holds first, so every
         * message after the cursor is one of this batch. Without any, the
         * cursor waits (as in notify_fanout) and the batch writes no
         * delivery.
         */
        ctx.direct = fanout_open(n, &ctx.fan) == 0 && ctx.fan.ntargets > 0 &&
                     notify_fanout(n) == 0;
        if (store_reminders_due(st, ctx.now, REMINDER_BATCH, send_one, &ctx) == STORE_OK &&
            (!ctx.direct || ctx.rows == 0 ||
             (store_outbox_last_seq(st, &seq) == STORE_OK &&
              store_meta_set_int(st, "outbox_fanned_out", seq) == STORE_OK)) &&
            store_commit(st) == STORE_OK) {
            /* The batch fanned itself out: the sender only has to read its rows. */
            if (ctx.direct)
                notify_wake(n);
            else
                notify_kick(n);
        } else {
            store_rollback(st);
            log_error("reminders: could not send due reminders; will retry");
        }
        fanout_close(&ctx.fan);
    }
    json_decref(ctx.events);
    /*
     * A full batch means more are due now. Come back after the loop has
     * polled once, not at once: a 0 ms timer would run again in the same
     * timer pass, and no webhook of the first batches would go out before
     * the last batch was written (10,000 reminders due together were all
     * turned into messages before the first was sent).
     */
    if (ctx.rows == REMINDER_BATCH && !n->stopping)
        uv_timer_start(&n->reminder_timer, on_reminder_timer, 1, 0);
    else
        notify_reminders_arm(n);
}

static void on_reminder_timer(uv_timer_t *timer)
{
    notify_reminders_run(timer->data);
}

void notify_reminders_arm(struct notify *n)
{
    int64_t due = 0;
    uint64_t sleep_ms = NOTIFY_MAX_SLEEP_MS;

    if (n->stopping)
        return;
    if (store_reminders_next(n->app->store, &due) == STORE_OK && due > 0) {
        /* Wake at the start of the due second, measured on the wall clock. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        int64_t wait = due * 1000 - now_ms;
        if (wait < (int64_t)sleep_ms)
            sleep_ms = wait > 0 ? (uint64_t)wait : 0;
    }
    uv_timer_start(&n->reminder_timer, on_reminder_timer, sleep_ms, 0);
}
