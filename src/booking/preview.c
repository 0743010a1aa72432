/*
 * preview.c - what a change would do, before it is made (the console's
 * preview, `?dry_run=true`). The change runs through the real pipeline
 * (booking_event_write and booking_record_change for a new meeting, the
 * frame booking_event_change for a stored one) inside a savepoint of its
 * own, which is rolled back afterwards: the preview cannot disagree with
 * the write, because it is the write. What the change would do is read
 * from what it left behind before the rollback: the outbox messages it
 * appended (event.*, dispatch.*, catering.updated, event.preempted) and
 * the clashes of its 409. Only this savepoint is rolled back, so a caller
 * that batches requests in one outer transaction keeps its other work.
 */
#include "convene/booking.h"
#include "convene/record.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

/* A change of a long series may send a message per day (the canteen's); more are not read. */
#define PREVIEW_MAX_MESSAGES 2000
/* Entries listed per kind of effect; the counts stay exact. */
#define PREVIEW_MAX_LISTED 50

static int storage_failed(struct booking_error *err)
{
    return booking_error_set(err, BOOKING_STORAGE, "storage", NULL,
                             "the database failed; nothing was previewed");
}

static const char *text_of(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* ---------------- running a change and rolling it back ---------------- */

/* One run of the change: 0, or -1 with err (the frame has rolled its own work back). */
typedef int (*preview_step)(const struct booking_ctx *ctx, void *arg, int preempt,
                            struct booking_error *err);

static int collect_message(const struct outbox_row *m, void *arg)
{
    json_t *data = json_loads(m->payload, 0, NULL);

    json_array_append_new(arg, json_pack("{s:s, s:o}", "type", m->type,
                                         "data", data ? data : json_object()));
    return 0;
}

/*
 * Runs step inside a savepoint and rolls it back, whatever happened. 0
 * with *messages (what it appended to the outbox, new reference) when the
 * change would succeed; -1 with err when it would be refused, or when the
 * store failed (err says which).
 */
static int run_rolled_back(const struct booking_ctx *ctx, preview_step step, void *arg,
                           int preempt, json_t **messages, struct booking_error *err)
{
    struct store *st = ctx->app->store;
    int64_t seq = 0;
    int rc;

    *messages = NULL;
    if (store_begin(st) != STORE_OK)
        return storage_failed(err);
    if (store_outbox_last(st, &seq) != STORE_OK) {
        store_rollback(st);
        return storage_failed(err);
    }
    rc = step(ctx, arg, preempt, err);
    if (rc == 0) {
        *messages = json_array();
        if (store_outbox_after(st, seq, PREVIEW_MAX_MESSAGES, collect_message, *messages) !=
            STORE_OK) {
            json_decref(*messages);
            *messages = NULL;
            rc = storage_failed(err);
        }
    }
    store_rollback(st); /* only ours: the step's own transaction is released or undone */
    return rc;
}

/* ---------------- the effects, from the messages ---------------- */

static void count_type(json_t *counts, const char *type)
{
    json_int_t n = json_integer_value(json_object_get(counts, type));
    json_object_set_new(counts, type, json_integer(n + 1));
}

static void append_bounded(json_t *list, json_t *entry)
{
    if (json_array_size(list) < PREVIEW_MAX_LISTED)
        json_array_append(list, entry);
    json_decref(entry);
}

/* A trip a driver hears of (dispatch.assigned, .updated, .cancelled). */
static void add_trip(json_t *fx, const char *type, json_t *data)
{
    static const char *const copied[] = {"id", "driver", "driver_name", "vehicle", "vehicle_name",
                                         "plate", "depart", "return", "from", "to"};
    json_t *trip = json_object_get(data, "trip"), *entry = json_object();
    const char *change = type + strlen("dispatch.");
    int ack = strcmp(change, "cancelled") != 0;

    json_object_set_new(entry, "change", json_string(change));
    for (size_t i = 0; i < ARRAY_SIZE(copied); i++) {
        json_t *v = json_object_get(trip, copied[i]);
        json_object_set(entry, strcmp(copied[i], "id") == 0 ? "trip" : copied[i],
                        v ? v : json_null());
    }
    json_object_set(entry, "occurrences", json_object_get(data, "occurrence_count"));
    if (json_object_get(data, "changes") != NULL)
        json_object_set(entry, "changes", json_object_get(data, "changes"));
    /* An assigned or changed trip waits for its driver's 确认 again (dispatch.c resets it). */
    json_object_set_new(entry, "acknowledge", json_boolean(ack));
    append_bounded(json_object_get(fx, "trips"), entry);
    if (!ack || !json_is_string(json_object_get(trip, "driver")))
        return;
    json_t *drivers = json_object_get(fx, "acknowledge"), *d;
    size_t k;
    json_array_foreach(drivers, k, d) {
        if (json_equal(json_object_get(d, "driver"), json_object_get(trip, "driver")))
            return;
    }
    append_bounded(drivers, json_pack("{s:O, s:O?}", "driver", json_object_get(trip, "driver"),
                                      "name", json_object_get(trip, "driver_name")));
}

/* The total after of one meal in a day's totals (0 when the meal is no longer ordered). */
static json_int_t meal_total(json_t *meals, const char *meal)
{
    json_t *m;
    size_t k;

    json_array_foreach(meals, k, m) {
        if (strcmp(text_of(m, "meal"), meal) == 0)
            return json_integer_value(json_object_get(m, "total"));
    }
    return 0;
}

/*
 * A day's canteen change (catering.updated): per meal, the count before
 * and after. The message carries the totals after and each row's delta,
 * so before is after less the deltas.
 */
static void add_catering(json_t *fx, json_t *data)
{
    json_t *deltas = json_object(), *c, *v;
    const char *meal;
    size_t k;

    json_array_foreach(json_object_get(data, "changes"), k, c) {
        json_int_t d = json_integer_value(json_object_get(c, "delta"));
        json_int_t have = json_integer_value(json_object_get(deltas, text_of(c, "meal")));
        json_object_set_new(deltas, text_of(c, "meal"), json_integer(have + d));
    }
    json_object_foreach(deltas, meal, v) {
        json_int_t after = meal_total(json_object_get(data, "meals"), meal);
        json_int_t delta = json_integer_value(v);
        if (delta == 0)
            continue;
        append_bounded(json_object_get(fx, "catering"),
                       json_pack("{s:O, s:s, s:I, s:I, s:I, s:O}", "date",
                                 json_object_get(data, "date"), "meal", meal, "before",
                                 after - delta, "after", after, "delta", delta, "late",
                                 json_object_get(data, "late")));
    }
    json_decref(deltas);
}

/* The display name of a room or vehicle (its id when unknown). New reference. */
static json_t *resource_name(struct store *st, const char *type, const char *id)
{
    const struct record_type *rt = record_type_by_kind(type);
    json_t *name = json_string(id);
    struct record rec;

    if (rt == NULL)
        return name;
    record_init(&rec, rt);
    if (store_record_get(st, rt, id, &rec) == STORE_OK && rec.values[0].set)
        json_string_set(name, rec.values[0].s);
    record_clear(&rec, rt);
    return name;
}

/* A lower-ranked meeting that would lose its room or car (event.preempted). */
static void add_preempted(struct store *st, json_t *fx, json_t *data)
{
    json_t *ev = json_object_get(data, "event"), *lost = json_object_get(data, "lost");

    append_bounded(json_object_get(fx, "preempted"),
                   json_pack("{s:O?, s:O?, s:O?, s:O?, s:{s:O?, s:O?, s:o}}", "event",
                             json_object_get(ev, "id"), "title", json_object_get(ev, "title"),
                             "start", json_object_get(ev, "start"), "date",
                             json_object_get(ev, "date"), "lost", "type",
                             json_object_get(lost, "type"), "id", json_object_get(lost, "id"),
                             "name", resource_name(st, text_of(lost, "type"), text_of(lost, "id"))));
}

static json_t *effects_new(void)
{
    return json_pack("{s:{}, s:{}, s:[], s:[], s:[], s:[]}", "messages", "changes", "trips",
                     "acknowledge", "catering", "preempted");
}

/* What the messages of a change say it would do (see booking_preview_create). */
static json_t *effects_of(struct store *st, json_t *messages)
{
    json_t *fx = effects_new(), *m;
    size_t k;

    json_array_foreach(messages, k, m) {
        const char *type = text_of(m, "type");
        json_t *data = json_object_get(m, "data");
        count_type(json_object_get(fx, "messages"), type);
        if (strcmp(type, "event.updated") == 0 && json_object_get(data, "changes") != NULL &&
            json_object_size(json_object_get(fx, "changes")) == 0)
            json_object_set(fx, "changes", json_object_get(data, "changes"));
        else if (strncmp(type, "dispatch.", 9) == 0)
            add_trip(fx, type, data);
        else if (strcmp(type, "catering.updated") == 0)
            add_catering(fx, data);
        else if (strcmp(type, "event.preempted") == 0)
            add_preempted(st, fx, data);
    }
    return fx;
}

/* ---------------- the answer ---------------- */

/* A refusal that is a list of clashes (a 409 with entries), not a malformed change. */
static int is_clash(const struct booking_error *err)
{
    return err->kind == BOOKING_CONFLICT && json_is_array(err->details);
}

/*
 * Runs the change as asked; when clashes refuse it and preempting was not
 * asked, runs it once more with preemption, so the secretary learns
 * whether ticking 优先占用 would settle it and which meetings would then
 * lose their room or car.
 */
static int preview(const struct booking_ctx *ctx, preview_step step, void *arg, int preempt,
                   int may_retry, json_t **out, struct booking_error *err)
{
    json_t *messages = NULL;
    struct booking_error again = {0};

    *out = NULL;
    if (run_rolled_back(ctx, step, arg, preempt, &messages, err) == 0) {
        *out = json_pack("{s:b, s:b, s:[], s:o}", "dry_run", 1, "ok", 1, "conflicts", "effects",
                         effects_of(ctx->app->store, messages));
        json_decref(messages);
        return 0;
    }
    if (!is_clash(err))
        return -1;
    *out = json_pack("{s:b, s:b, s:O, s:o}", "dry_run", 1, "ok", 0, "conflicts", err->details,
                     "effects", effects_new());
    booking_error_clear(err);
    memset(err, 0, sizeof(*err));
    if (!preempt && may_retry) {
        if (run_rolled_back(ctx, step, arg, 1, &messages, &again) == 0) {
            json_object_set_new(*out, "with_preempt", effects_of(ctx->app->store, messages));
            json_decref(messages);
        } else if (again.kind == BOOKING_STORAGE) {
            json_decref(*out);
            *out = NULL;
            *err = again;
            return -1;
        }
        booking_error_clear(&again);
    }
    return 0;
}

/* ---------------- the two kinds of change ---------------- */

/* A new meeting: the same steps as POST /api/v1/events (api/events.c). */
static int create_step(const struct booking_ctx *ctx, void *arg, int preempt,
                       struct booking_error *err)
{
    json_t *doc = json_deep_copy(arg), *after; /* the write settles defaults into it */
    struct event_row row;
    char *text = NULL;
    int rc = -1;

    booking_event_row_new(&row, NULL);
    if (booking_event_write(ctx, doc, &row, 1, preempt, 1, err) == 0) {
        after = booking_record_change(ctx, &row, doc, "event.created", "created", NULL, &text);
        rc = after != NULL ? 0 : storage_failed(err);
        json_decref(after);
        free(text);
    }
    json_decref(doc);
    store_event_row_clear(&row);
    return rc;
}

int booking_preview_create(const struct booking_ctx *ctx, json_t *doc, int preempt, json_t **out,
                           struct booking_error *err)
{
    return preview(ctx, create_step, doc, preempt, 1, out, err);
}

struct change_arg {
    const char *event_id;
    const struct booking_change *change;
};

/* A change to a stored meeting: the frame itself, whose commit only releases its savepoint. */
static int change_step(const struct booking_ctx *ctx, void *arg, int preempt,
                       struct booking_error *err)
{
    struct change_arg *a = arg;
    struct booking_change ch = *a->change;
    struct event_row row;
    char *text = NULL;
    int rc;

    /* The frame takes "preempt" out of a PATCH body: each run gets its own copy. */
    ch.body = ch.body != NULL ? json_deep_copy(ch.body) : NULL;
    if (preempt && ch.kind == BOOKING_PATCH)
        json_object_set_new(ch.body, "preempt", json_true());
    rc = booking_event_change(ctx, a->event_id, &ch, &row, &text, err);
    if (rc > 0) /* nothing to do: nothing would happen */
        rc = 0;
    free(text);
    json_decref(ch.body);
    store_event_row_clear(&row);
    return rc;
}

int booking_preview_change(const struct booking_ctx *ctx, const char *event_id,
                           const struct booking_change *change, json_t **out,
                           struct booking_error *err)
{
    struct change_arg a = {event_id, change};
    int asked = change->kind == BOOKING_PATCH &&
                json_is_true(json_object_get(change->body, "preempt"));

    return preview(ctx, change_step, &a, asked, change->kind == BOOKING_PATCH, out, err);
}
