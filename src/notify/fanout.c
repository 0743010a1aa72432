/*
 * fanout.c - from outbox messages to delivery rows: which endpoints want a
 * message (type patterns, person filter), and the exact body each gets
 * ({"type","timestamp","data"}, with confidential details removed for
 * endpoints of people who do not attend). Bodies are fixed at fan-out so
 * every retry sends, and signs, the same bytes.
 */
#include "notify_internal.h"

#include "convene/store.h"
#include "convene/timeutil.h"

#include <jansson.h>
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
static int about(json_t *data, const char *person)
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

struct fanout {
    struct notify *n;
    json_t *webhooks; /* [{id, events, person}] enabled endpoints */
    int64_t last_seq;
    int64_t now;
    size_t count;
    int failed;
};

static int collect_webhook(const struct webhook_row *w, void *arg)
{
    json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:I}", "id", w->id, "events", w->events,
                                         "person", w->person, "created_at",
                                         (json_int_t)w->created_at));
    return 0;
}

static int fan_one(const struct outbox_row *m, void *arg)
{
    struct fanout *f = arg;
    json_t *data = json_loads(m->payload, 0, NULL), *w;
    char stamp[TIME_UTC_STR];
    size_t i;

    f->last_seq = m->seq;
    f->count++;
    if (data == NULL)
        return 0;
    time_utc_format(m->created_at, stamp);
    json_array_foreach(f->webhooks, i, w) {
        const char *person = json_string_value(json_object_get(w, "person"));
        /* An endpoint receives what happened since it was registered (replay covers the rest). */
        if (m->created_at < json_integer_value(json_object_get(w, "created_at")))
            continue;
        if (!wants_type(json_string_value(json_object_get(w, "events")), m->type))
            continue;
        if (person[0] != '\0' && !about(data, person))
            continue;
        /* Only a person's endpoint may get a redacted copy; the others share the message. */
        json_t *copy = person[0] != '\0' ? json_deep_copy(data) : json_incref(data);
        if (person[0] != '\0')
            redact(copy, person);
        json_t *body = json_pack("{s:s, s:s, s:o}", "type", m->type, "timestamp", stamp, "data",
                                 copy);
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (store_delivery_insert(f->n->app->store, json_string_value(json_object_get(w, "id")),
                                  m->msg_id, m->type, text, f->now) != STORE_OK)
            f->failed = 1;
        free(text);
    }
    json_decref(data);
    return f->failed ? -1 : 0;
}

int notify_fanout(struct notify *n)
{
    struct store *st = n->app->store;
    int64_t cursor;
    int more = 1;

    while (more) {
        struct fanout f = {n, json_array(), 0, clock_wall_s(), 0, 0};
        /*
         * With no endpoint there is nothing to write: the cursor waits, and
         * an endpoint registered later skips what happened before it.
         */
        if (store_webhook_list(st, 1, collect_webhook, f.webhooks) != STORE_OK ||
            json_array_size(f.webhooks) == 0) {
            json_decref(f.webhooks);
            return 0;
        }
        if (store_begin_derived(st) != STORE_OK) {
            json_decref(f.webhooks);
            return -1;
        }
        if (store_meta_get_int(st, "outbox_fanned_out", &cursor) != STORE_OK ||
            store_outbox_after(st, cursor, FANOUT_BATCH, fan_one, &f) != STORE_OK || f.failed ||
            (f.last_seq > 0 && store_meta_set_int(st, "outbox_fanned_out", f.last_seq) != STORE_OK) ||
            (f.count > 0 ? store_commit(st) : (store_rollback(st), STORE_OK)) != STORE_OK) {
            store_rollback(st);
            store_durability_restore(st);
            json_decref(f.webhooks);
            return -1;
        }
        store_durability_restore(st);
        more = f.count == FANOUT_BATCH;
        json_decref(f.webhooks);
    }
    return 0;
}
