/*
 * reminders.c - reminder.due messages. Reminder rows are written with the
 * occurrences (events.c); one uv_timer sleeps until the earliest due one
 * (never longer than NOTIFY_MAX_SLEEP_MS, so a clock change cannot strand
 * it). A reminder found due late (after downtime) is still sent, marked
 * late, if its meeting has not started; otherwise it is dropped and counted.
 *
 * A reminder.due message goes straight to the delivery rows of the
 * endpoints that want it, in the transaction that marks the reminder sent:
 * no outbox row (replay finds reminder.due deliveries by their own
 * created_at), no fan-out pass. Its payload is formatted from a template:
 * every reminder has the same shape, and the parts that come from the
 * event (title, location, room) are rendered once per event and batch.
 * A batch is marked sent in one statement at the end.
 */
#include "notify_internal.h"

#include "convene/store.h"
#include "convene/timeutil.h"
#include "convene/token.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REMINDER_BATCH 1000
#define ON_TIME_S 1        /* later than this counts as late */
#define START_GRACE_S 5    /* an at-the-start reminder may still go out this long after */
#define REMINDER_RETRY_MS 1000 /* after a batch failed */

static const double lateness_bounds[] = {0.1, 0.25, 0.5, 1, 2.5, 10, 60};

/* A payload holds ids, times and the event's title, location and room (far less than this). */
#define REMINDER_PAYLOAD_MAX (2u << 20)

struct reminder_ctx {
    struct notify *n;
    int64_t now;
    json_t *events; /* id -> document, loaded once per batch */
    struct fanout fan;
    size_t rows;    /* reminders handled in this batch */
    struct reminder_row last; /* the batch's last row (all are marked sent through it) */
    char stamp[TIME_UTC_STR]; /* the messages' timestamp */
    struct strbuf payload;    /* reused for every payload */
    /*
     * The start of the last occurrence formatted, in UTC and in the event's
     * zone, and the event's own members of the payload: due rows come
     * grouped by event, and one occurrence has a reminder per attendee, so
     * most rows reuse them.
     */
    char last_event[ID_STR_MAX];
    int64_t last_start;
    char start_utc[TIME_UTC_STR];
    char start_local[TIME_LOCAL_STR];
    struct strbuf event_part; /* ,"title":...,"location":...,"room":... as JSON text */
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

/* Appends s as a JSON string: quoted, with quotes, backslashes and control characters escaped. */
static void put_json_string(struct strbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;

    strbuf_append(b, "\"", 1);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        size_t len = 6;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        strbuf_append(b, run, (size_t)(s - run));
        run = s + 1;
        if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') {
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
            len = 2;
        }
        strbuf_append(b, esc, len);
    }
    strbuf_append(b, run, (size_t)(s - run));
    strbuf_append(b, "\"", 1);
}

/* Appends ,"name":value for a member of the event document, if it has one. */
static void put_event_member(struct strbuf *b, const char *name, json_t *value)
{
    char *text;

    if (value == NULL)
        return;
    strbuf_puts(b, ",\"");
    strbuf_puts(b, name);
    strbuf_puts(b, "\":");
    if ((text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL) {
        b->overflow = 1; /* not valid UTF-8, say: the payload is refused */
        return;
    }
    strbuf_puts(b, text);
    free(text);
}

/*
 * Formats the occurrence's start (UTC and local) and the event's members
 * of the payload, unless the previous row had the same event and start.
 */
static void occurrence_parts(struct reminder_ctx *ctx, const struct reminder_row *r)
{
    if (r->start_utc == ctx->last_start && strcmp(r->event_id, ctx->last_event) == 0)
        return;
    json_t *doc = event_doc(ctx, r->event_id);
    const char *tz = json_string_value(json_object_get(doc, "tz"));
    json_t *title = json_object_get(doc, "title");
    struct local_time lt;

    time_utc_format(r->start_utc, ctx->start_utc);
    /* The occurrence may have been moved: its start is the instant, in the event's zone. */
    if (tz == NULL || time_utc_to_local(r->start_utc, tz, &lt) != 0)
        snprintf(ctx->start_local, sizeof(ctx->start_local), "%s", r->recurrence_id);
    else
        time_local_format(&lt, ctx->start_local);
    ctx->event_part.len = 0;
    ctx->event_part.overflow = 0;
    put_event_member(&ctx->event_part, "title", json_is_string(title) ? title : NULL);
    put_event_member(&ctx->event_part, "location", json_object_get(doc, "location"));
    put_event_member(&ctx->event_part, "room", json_object_get(doc, "room"));
    snprintf(ctx->last_event, sizeof(ctx->last_event), "%s", r->event_id);
    ctx->last_start = r->start_utc;
}

/*
 * The message's data, as compact JSON text in ctx->payload:
 * {"event","recurrence_id","person","offset_minutes","start","start_utc",
 * "title"?,"location"?,"room"?,"late"}. 0, or -1 if it did not fit.
 */
static int format_payload(struct reminder_ctx *ctx, const struct reminder_row *r, int late)
{
    struct strbuf *b = &ctx->payload;
    char number[24];

    occurrence_parts(ctx, r);
    b->len = 0;
    b->overflow = 0;
    strbuf_puts(b, "{\"event\":");
    put_json_string(b, r->event_id);
    strbuf_puts(b, ",\"recurrence_id\":");
    put_json_string(b, r->recurrence_id);
    strbuf_puts(b, ",\"person\":");
    put_json_string(b, r->person);
    snprintf(number, sizeof(number), "%d", r->offset_minutes);
    strbuf_puts(b, ",\"offset_minutes\":");
    strbuf_puts(b, number);
    strbuf_puts(b, ",\"start\":");
    put_json_string(b, ctx->start_local);
    strbuf_puts(b, ",\"start_utc\":");
    put_json_string(b, ctx->start_utc);
    if (ctx->event_part.overflow)
        b->overflow = 1;
    else if (ctx->event_part.len > 0)
        strbuf_append(b, ctx->event_part.data, ctx->event_part.len);
    strbuf_puts(b, late ? ",\"late\":true}" : ",\"late\":false}");
    return b->overflow ? -1 : 0;
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

/* The reminder metrics, kept from before a batch in case it is rolled back. */
struct reminder_counters {
    uint64_t sent, late, dropped;
    uint64_t lateness_buckets[8];
    double lateness_sum;
};

static void save_counters(const struct notify *n, struct reminder_counters *c)
{
    c->sent = n->reminders_sent;
    c->late = n->reminders_late;
    c->dropped = n->reminders_dropped;
    memcpy(c->lateness_buckets, n->lateness_buckets, sizeof(c->lateness_buckets));
    c->lateness_sum = n->lateness_sum;
}

static void restore_counters(struct notify *n, const struct reminder_counters *c)
{
    n->reminders_sent = c->sent;
    n->reminders_late = c->late;
    n->reminders_dropped = c->dropped;
    memcpy(n->lateness_buckets, c->lateness_buckets, sizeof(c->lateness_buckets));
    n->lateness_sum = c->lateness_sum;
}

static int send_one(const struct reminder_row *r, void *arg)
{
    struct reminder_ctx *ctx = arg;
    struct notify *n = ctx->n;
    struct store *st = n->app->store;
    int64_t grace = r->offset_minutes == 0 ? START_GRACE_S : 0;
    int late = ctx->now - r->due_utc > ON_TIME_S;
    char msg_id[ID_STR_MAX];

    ctx->rows++;
    ctx->last = *r;
    /* The meeting already began: a reminder now would only confuse. */
    if (ctx->now > r->start_utc + grace) {
        n->reminders_dropped++;
        log_info("reminder for %s %s (%s, -%d min) dropped: the meeting has started",
                 r->event_id, r->recurrence_id, r->person, r->offset_minutes);
        return store_reminder_mark_sent(st, r, 2) == STORE_OK ? 0 : -1;
    }
    /* Without an endpoint there is no one to tell: the reminder is only marked sent. */
    if (ctx->fan.ntargets > 0) {
        if (format_payload(ctx, r, late) != 0) {
            log_error("reminder for %s %s (%s): the message is too large", r->event_id,
                      r->recurrence_id, r->person);
            return -1;
        }
        if (token_id_generate("msg", msg_id) != 0 ||
            fanout_message(&ctx->fan, msg_id, "reminder.due", ctx->now, ctx->stamp,
                           ctx->payload.data, NULL) != 0)
            return -1;
    }
    observe_lateness(n, (double)(ctx->now - r->due_utc));
    n->reminders_sent++;
    n->reminders_late += late;
    return 0;
}

static void on_reminder_timer(uv_timer_t *timer);

void notify_reminders_run(struct notify *n)
{
    struct store *st = n->app->store;
    struct reminder_ctx ctx;
    struct reminder_counters before;
    int failed = 0;

    save_counters(n, &before);
    memset(&ctx, 0, sizeof(ctx));
    ctx.n = n;
    ctx.now = clock_wall_s();
    ctx.events = json_object();
    ctx.last_start = -1;
    time_utc_format(ctx.now, ctx.stamp);
    strbuf_init(&ctx.payload, REMINDER_PAYLOAD_MAX);
    strbuf_init(&ctx.event_part, REMINDER_PAYLOAD_MAX);

    if (fanout_open(n, &ctx.fan) != 0 || store_begin(st) != STORE_OK) {
        failed = 1;
    } else if (store_reminders_due(st, ctx.now, REMINDER_BATCH, send_one, &ctx) == STORE_OK &&
               (ctx.rows == 0 || store_reminders_mark_sent_through(st, &ctx.last) == STORE_OK) &&
               store_commit(st) == STORE_OK) {
        /* The batch wrote its own delivery rows: the sender only has to read them. */
        if (ctx.rows > 0 && ctx.fan.ntargets > 0)
            notify_sender_schedule(n);
    } else {
        store_rollback(st);
        failed = 1;
    }
    if (failed) {
        /* The batch is sent again: count it then. */
        restore_counters(n, &before);
        log_error("reminders: could not send due reminders; will retry");
    }
    fanout_close(&ctx.fan);
    strbuf_free(&ctx.payload);
    strbuf_free(&ctx.event_part);
    json_decref(ctx.events);
    /*
     * A full batch means more are due now. Come back after the loop has
     * polled once, not at once: a 0 ms timer would run again in the same
     * timer pass, and no webhook of the first batches would go out before
     * the last batch was written (10,000 reminders due together were all
     * turned into messages before the first was sent). After a failure,
     * try again in a second rather than spin on the same due rows.
     */
    if (n->stopping)
        return;
    if (failed)
        uv_timer_start(&n->reminder_timer, on_reminder_timer, REMINDER_RETRY_MS, 0);
    else if (ctx.rows == REMINDER_BATCH)
        uv_timer_start(&n->reminder_timer, on_reminder_timer, 1, 0);
    else
        notify_reminders_schedule(n);
}

static void on_reminder_timer(uv_timer_t *timer)
{
    notify_reminders_run(timer->data);
}

void notify_reminders_schedule(struct notify *n)
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
