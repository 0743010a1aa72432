/*
 * fanout.c - from outbox messages to delivery rows: which endpoints want a
 * message (type patterns, person filter), and the exact body each gets
 * ({"type","timestamp","data"}, with confidential details removed for
 * endpoints of people who do not attend). Bodies are fixed at fan-out so
 * every retry sends, and signs, the same bytes. notify_fanout() moves the
 * outbox past a cursor; reminders.c writes its own messages' deliveries
 * with fanout_message() as it creates them.
 */
#include "notify_internal.h"

#include "convene/store.h"
#include "convene/timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FANOUT_BATCH 500

const char *const notify_types[] = {
    "event.created",     "event.updated",     "event.cancelled",   "event.preempted",
    "reminder.due",      "dispatch.assigned", "dispatch.updated",  "dispatch.cancelled",
    "dispatch.unacknowledged", "catering.updated", "webhook.disabled", NULL};

int notify_pattern_matches(const char *pattern, const char *type)
{
    size_t n = strlen(pattern);

    if (strcmp(pattern, "*") == 0)
        return 1;
    if (n >= 2 && strcmp(pattern + n - 2, ".*") == 0)
        return strncmp(pattern, type, n - 1) == 0;
    return strcmp(pattern, type) == 0;
}

int notify_pattern_valid(const char *pattern)
{
    for (size_t i = 0; notify_types[i] != NULL; i++)
        if (notify_pattern_matches(pattern, notify_types[i]))
            return 1;
    return 0;
}

static int wants_type(const char *events, const char *type)
{
    const char *p = events;

    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char pattern[64];
        if (len < sizeof(pattern)) {
            memcpy(pattern, p, len);
            pattern[len] = '\0';
            if (notify_pattern_matches(pattern, type))
                return 1;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}

static int same(json_t *v, const char *person)
{
    return json_is_string(v) && strcmp(json_string_value(v), person) == 0;
}

static int attends(json_t *event, const char *person)
{
    size_t i;
    json_t *a;

    json_array_foreach(json_object_get(event, "attendees"), i, a) {
        if (same(json_object_get(a, "person"), person))
            return 1;
    }
    return 0;
}

/*
 * Whether a message concerns person: attendee, driver, passenger, or named
 * directly. A message with an "audience" is for exactly those people
 * (dispatch.*: the drivers, old and new; dispatch.unacknowledged: the
 * secretaries, not the driver who has not answered).
 */
int fanout_about(json_t *data, const char *person)
{
    json_t *event = json_object_get(data, "event"), *trip = json_object_get(data, "trip");
    json_t *audience = json_object_get(data, "audience");
    size_t i, k;
    json_t *t, *p;

    if (json_is_array(audience)) {
        json_array_foreach(audience, i, p) {
            if (same(p, person))
                return 1;
        }
        return 0;
    }
    if (same(json_object_get(data, "person"), person) || attends(event, person))
        return 1;
    if (trip != NULL && (same(json_object_get(trip, "driver"), person)))
        return 1;
    json_array_foreach(json_object_get(event, "trips"), i, t) {
        if (same(json_object_get(t, "driver"), person))
            return 1;
        json_array_foreach(json_object_get(t, "passengers"), k, p) {
            if (same(p, person))
                return 1;
        }
    }
    return 0;
}

/* A confidential meeting's details reach only its attendees' endpoints. */
static void redact(json_t *data, const char *person)
{
    static const char *const secret[] = {"title", "description", "location", "attendees",
                                         "overrides", "meals"};
    json_t *event = json_object_get(data, "event");

    if (!json_is_true(json_object_get(event, "confidential")) || attends(event, person))
        return;
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        json_object_del(event, secret[i]);
    json_object_del(data, "changes");
    json_object_del(data, "title");
}

/* A message's body is its data with two fields around it; larger ones are refused. */
#define FANOUT_BODY_MAX (4u << 20)

static int collect_target(const struct webhook_row *w, void *arg)
{
    struct fanout *f = arg;
    struct fanout_target *t;

    f->targets = xrealloc(f->targets, (f->ntargets + 1) * sizeof(*f->targets));
    t = &f->targets[f->ntargets++];
    snprintf(t->id, sizeof(t->id), "%s", w->id);
    snprintf(t->person, sizeof(t->person), "%s", w->person);
    t->events = xstrdup(w->events);
    t->created_at = w->created_at;
    return 0;
}

int fanout_open(struct notify *n, struct fanout *f)
{
    memset(f, 0, sizeof(*f));
    f->n = n;
    f->now = clock_wall_s();
    strbuf_init(&f->body, FANOUT_BODY_MAX);
    if (store_webhook_list(n->app->store, 1, collect_target, f) != STORE_OK) {
        fanout_close(f);
        return -1;
    }
    return 0;
}

void fanout_close(struct fanout *f)
{
    for (size_t i = 0; i < f->ntargets; i++)
        free(f->targets[i].events);
    free(f->targets);
    f->targets = NULL;
    f->ntargets = 0;
    strbuf_free(&f->body);
}

int fanout_message(struct fanout *f, const char *msg_id, const char *type, int64_t created_at,
                   const char *created_utc, const char *payload, json_t *data)
{
    struct store *st = f->n->app->store;
    json_t *parsed = NULL;
    char formatted[TIME_UTC_STR];
    const char *stamp = created_utc;
    int rc = 0;

    if (stamp == NULL) {
        time_utc_format(created_at, formatted);
        stamp = formatted;
    }
    for (size_t i = 0; i < f->ntargets && rc == 0; i++) {
        const struct fanout_target *t = &f->targets[i];
        char *text = NULL;

        /* An endpoint receives what happened since it was registered (replay covers the rest). */
        if (created_at < t->created_at || !wants_type(t->events, type))
            continue;
        if (t->person[0] == '\0') {
            /*
             * The body is the payload as written, between the type and the
             * timestamp: payloads are compact JSON objects, so this is what
             * dumping {"type","timestamp","data"} gave, without parsing the
             * payload again for every message.
             */
            f->body.len = 0;
            f->body.overflow = 0;
            strbuf_puts(&f->body, "{\"type\":\"");
            strbuf_puts(&f->body, type);
            strbuf_puts(&f->body, "\",\"timestamp\":\"");
            strbuf_puts(&f->body, stamp);
            strbuf_puts(&f->body, "\",\"data\":");
            strbuf_puts(&f->body, payload);
            strbuf_puts(&f->body, "}");
            if (f->body.overflow) {
                log_error("webhooks: message %s is too large to send", msg_id);
                continue;
            }
            if (store_delivery_insert(st, t->id, msg_id, type, f->body.data, f->now) != STORE_OK)
                rc = -1;
            continue;
        }
        /* Only a person's endpoint may get a redacted copy: it needs the parsed message. */
        if (data == NULL && (data = parsed = json_loads(payload, 0, NULL)) == NULL)
            break;
        if (!fanout_about(data, t->person))
            continue;
        json_t *copy = json_deep_copy(data);
        redact(copy, t->person);
        json_t *body = json_pack("{s:s, s:s, s:o}", "type", type, "timestamp", stamp, "data", copy);
        text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (text == NULL ||
            store_delivery_insert(st, t->id, msg_id, type, text, f->now) != STORE_OK)
            rc = -1;
        free(text);
    }
    json_decref(parsed);
    return rc;
}

struct fanout_batch {
    struct fanout *f;
    int64_t last_seq;
    size_t count;
    int failed; /* a stop by the callback reads as the end of the rows: remember why */
};

static int fan_one(const struct outbox_row *m, void *arg)
{
    struct fanout_batch *b = arg;

    b->last_seq = m->seq;
    b->count++;
    if (fanout_message(b->f, m->msg_id, m->type, m->created_at, NULL, m->payload, NULL) != 0)
        b->failed = 1;
    return b->failed;
}

int notify_fanout(struct notify *n)
{
    struct store *st = n->app->store;
    struct fanout f;
    int64_t cursor;
    int more = 1, rc = 0;

    /*
     * With no endpoint there is nothing to write: the cursor waits, and
     * an endpoint registered later skips what happened before it.
     */
    if (fanout_open(n, &f) != 0)
        return -1;
    while (more && f.ntargets > 0) {
        struct fanout_batch b = {&f, 0, 0, 0};

        f.now = clock_wall_s();
        if (store_begin_derived(st) != STORE_OK) {
            rc = -1;
            break;
        }
        if (store_meta_get_int(st, "outbox_fanned_out", &cursor) != STORE_OK ||
            store_outbox_after(st, cursor, FANOUT_BATCH, fan_one, &b) != STORE_OK || b.failed ||
            (b.last_seq > 0 && store_meta_set_int(st, "outbox_fanned_out", b.last_seq) != STORE_OK) ||
            (b.count > 0 ? store_commit(st) : (store_rollback(st), STORE_OK)) != STORE_OK) {
            store_rollback(st);
            store_durability_restore(st);
            rc = -1;
            break;
        }
        store_durability_restore(st);
        if (b.count > 0)
            n->queue_stale = 1; /* new deliveries may be due */
        more = b.count == FANOUT_BATCH;
    }
    fanout_close(&f);
    return rc;
}
