/*
 * changes.c - the change stream (GET /api/v1/changes, text/event-stream):
 * how the console learns of a booking made anywhere without polling.
 *
 * The outbox already holds one message per committed change, numbered in
 * commit order (one writer, BEGIN IMMEDIATE), so the stream is the outbox
 * seen through a viewer's eyes: after every write (notify_schedule) the rows
 * newer than `changes_head` are read once and each open stream gets those
 * its viewer may see, as `id: <seq>` and `data: {"type","event"?,
 * "resource"?}`. Ids and types only: a confidential meeting's title cannot
 * leak through a stream. A client that reconnects with Last-Event-ID is
 * sent what it missed from the outbox (up to CHANGES_REPLAY_MAX rows;
 * further behind, a {"type":"reset"} tells it to load everything again).
 *
 * Who sees what: admins and secretaries every message; leaders and drivers
 * the messages about them (the person filter of webhooks, fanout_about:
 * meetings they attend, drive or ride in, dispatch messages addressed to
 * them); canteen catering.updated only; webhook.* admins only. Besides the
 * webhook types, resource.changed (a person, room, vehicle or block
 * written: booking_resource_changed) is the stream's own, for the office.
 */
#include "notify_internal.h"

#include "convene/role.h"
#include "convene/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One open stream. Owned by the notify service from open until detach or close. */
struct change_sub {
    struct notify *n;
    const struct change_writer *writer;
    void *sink;               /* NULL until attached */
    unsigned role;            /* mask of enum role */
    char person[ID_STR_MAX];
    int64_t cursor;           /* the newest outbox row considered for this viewer */
    struct change_sub *prev, *next; /* n->subs, once attached */
};

/* ---------------- what a viewer sees ---------------- */

static int viewer_may_see(const struct change_sub *s, const char *type, json_t *data)
{
    if (strncmp(type, "webhook.", 8) == 0)
        return (s->role & ROLE_ADMIN) != 0;
    if (strcmp(type, "resource.changed") == 0) /* people, rooms, vehicles, blocks: the office's */
        return (s->role & (ROLE_ADMIN | ROLE_SECRETARY)) != 0;
    if (s->role & (ROLE_ADMIN | ROLE_SECRETARY))
        return 1;
    if (s->role & ROLE_CANTEEN)
        return strcmp(type, "catering.updated") == 0;
    if ((s->role & (ROLE_LEADER | ROLE_DRIVER)) && s->person[0] != '\0')
        return data != NULL && fanout_about(data, s->person);
    return 0;
}

static json_t *resource(const char *type, json_t *id)
{
    return json_is_string(id) ? json_pack("{s:s, s:O}", "type", type, "id", id) : NULL;
}

/*
 * The event's data: {"type","event"?,"resource"?} plus "date" for a day's
 * meal counts. Built from ids in the message, never from its text fields.
 */
static char *event_data(const char *type, json_t *data)
{
    json_t *out = json_pack("{s:s}", "type", type);
    json_t *event = json_object_get(data, "event"), *res = NULL, *lost;
    json_t *changed = json_object_get(data, "resource"); /* resource.changed's */
    char *text;

    if (json_is_object(event))
        event = json_object_get(event, "id");
    if (json_is_string(event))
        json_object_set(out, "event", event);
    if ((lost = json_object_get(data, "lost")) != NULL &&
        json_is_string(json_object_get(lost, "type")))
        res = resource(json_string_value(json_object_get(lost, "type")),
                       json_object_get(lost, "id"));
    else if (json_object_get(data, "trip") != NULL)
        res = resource("trip", json_object_get(json_object_get(data, "trip"), "id"));
    else if (json_object_get(data, "webhook") != NULL)
        res = resource("webhook", json_object_get(data, "webhook"));
    else if (json_is_string(json_object_get(changed, "type")))
        res = resource(json_string_value(json_object_get(changed, "type")),
                       json_object_get(changed, "id"));
    if (res != NULL)
        json_object_set_new(out, "resource", res);
    if (strcmp(type, "catering.updated") == 0 && json_is_string(json_object_get(data, "date")))
        json_object_set(out, "date", json_object_get(data, "date"));
    text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return text;
}

/* ---------------- writing to the streams ---------------- */

static void sub_unlink(struct change_sub *s)
{
    struct notify *n = s->n;

    if (s->prev != NULL)
        s->prev->next = s->next;
    else if (n->subs == s)
        n->subs = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

/* Ends a stream from our side (a reader too slow to keep up). */
static void sub_drop(struct change_sub *s)
{
    log_info("changes: closing a stream whose reader does not keep up");
    sub_unlink(s);
    if (s->sink != NULL)
        s->writer->close(s->sink);
    s->n->nsubs--;
    free(s);
}

/* Writes text to the stream; 0, or -1 after dropping it. */
static int sub_write(struct change_sub *s, const char *text, size_t len)
{
    if (s->writer->write(s->sink, text, len) == 0)
        return 0;
    sub_drop(s);
    return -1;
}

/* Sends one message to s if its viewer may see it and has not had it. 0, or -1 if s is gone. */
static int sub_offer(struct change_sub *s, const struct outbox_row *m, json_t *data,
                     const char *line)
{
    char head[40];
    int n;

    if (m->seq <= s->cursor)
        return 0;
    s->cursor = m->seq;
    if (line == NULL || !viewer_may_see(s, m->type, data))
        return 0;
    n = snprintf(head, sizeof(head), "id: %lld\ndata: ", (long long)m->seq);
    if (sub_write(s, head, (size_t)n) != 0 || sub_write(s, line, strlen(line)) != 0 ||
        sub_write(s, "\n\n", 2) != 0)
        return -1;
    return 0;
}

struct offer_ctx {
    struct notify *n;
    int replay;              /* to `only`, not to every stream */
    struct change_sub *only; /* NULL once a replayed stream was dropped */
    int64_t last;
    size_t count;
};

static int offer_row(const struct outbox_row *m, void *arg)
{
    struct offer_ctx *c = arg;
    json_t *data = json_loads(m->payload, 0, NULL);
    char *line = event_data(m->type, data);

    c->last = m->seq;
    c->count++;
    if (c->replay) {
        if (c->only != NULL && sub_offer(c->only, m, data, line) != 0)
            c->only = NULL; /* dropped: stop the replay */
    } else {
        for (struct change_sub *s = c->n->subs, *next; s != NULL; s = next) {
            next = s->next;
            sub_offer(s, m, data, line);
        }
    }
    free(line);
    json_decref(data);
    return c->replay && c->only == NULL;
}

void notify_changes_run(struct notify *n)
{
    struct offer_ctx c = {n, 0, NULL, 0, 0};

    if (n->changes_head < 0) {
        if (store_outbox_last(n->app->store, &n->changes_head) != STORE_OK)
            n->changes_head = -1;
        return;
    }
    /* Nobody listening: only remember where the outbox ends. */
    if (n->subs == NULL) {
        int64_t last;
        if (store_outbox_last(n->app->store, &last) == STORE_OK)
            n->changes_head = last;
        return;
    }
    do {
        c.count = 0;
        c.last = n->changes_head;
        if (store_outbox_after(n->app->store, n->changes_head, CHANGES_BATCH, offer_row, &c) !=
            STORE_OK)
            return; /* logged; the next schedule or keep-alive tick tries again */
        n->changes_head = c.last;
    } while (c.count == CHANGES_BATCH);
}

/* ---------------- opening, attaching, detaching ---------------- */

/* Brings a resuming stream up to the head: what it missed, or a reset if that is too much. */
static void sub_replay(struct change_sub *s)
{
    struct notify *n = s->n;
    char reset[64];
    int len;

    if (s->cursor >= n->changes_head)
        return;
    if (n->changes_head - s->cursor > CHANGES_REPLAY_MAX) {
        len = snprintf(reset, sizeof(reset), "id: %lld\ndata: {\"type\":\"reset\"}\n\n",
                       (long long)n->changes_head);
        s->cursor = n->changes_head;
        sub_write(s, reset, (size_t)len);
        return;
    }
    while (s->cursor < n->changes_head) {
        struct offer_ctx c = {n, 1, s, s->cursor, 0};
        int64_t before = s->cursor;
        if (store_outbox_after(n->app->store, s->cursor, CHANGES_BATCH, offer_row, &c) !=
                STORE_OK ||
            c.only == NULL || s->cursor == before)
            return; /* a failed read leaves the stream where it was; a dropped one is gone */
    }
}

void notify_changes_attach(struct change_sub *s, const struct change_writer *writer, void *sink)
{
    struct notify *n = s->n;

    s->writer = writer;
    s->sink = sink;
    s->next = n->subs;
    if (n->subs != NULL)
        n->subs->prev = s;
    n->subs = s;
    /* Browsers reconnect after this many ms, with the last id they saw. */
    if (sub_write(s, "retry: 2000\n\n", 13) != 0)
        return;
    /* What it missed up to the head, then whatever came after, to everyone. */
    sub_replay(s);
    notify_changes_run(n);
}

void notify_changes_detach(struct change_sub *s)
{
    sub_unlink(s);
    s->n->nsubs--;
    free(s);
}

struct change_sub *notify_changes_open(struct notify *n, unsigned role, const char *person,
                                       int64_t last_id)
{
    struct change_sub *s;

    if (n == NULL || n->stopping || n->nsubs >= (size_t)n->app->cfg.max_streams)
        return NULL;
    if (n->changes_head < 0)
        notify_changes_run(n);
    s = xcalloc(1, sizeof(*s));
    s->n = n;
    s->role = role;
    snprintf(s->person, sizeof(s->person), "%s", person ? person : "");
    /* An id from the future (another database, a restored backup) resumes from now. */
    s->cursor = last_id >= 0 && last_id <= n->changes_head ? last_id : n->changes_head;
    n->nsubs++;
    return s;
}

/* Keeps idle streams open through proxies, notices gone readers, and picks up other writers. */
static void on_keepalive(uv_timer_t *timer)
{
    struct notify *n = timer->data;

    notify_changes_run(n);
    for (struct change_sub *s = n->subs, *next; s != NULL; s = next) {
        next = s->next;
        sub_write(s, ": keep-alive\n\n", 14);
    }
}

void notify_changes_init(struct notify *n)
{
    n->changes_head = -1;
    notify_changes_run(n);
    uv_timer_init(n->loop, &n->keepalive_timer);
    n->keepalive_timer.data = n;
    uv_timer_start(&n->keepalive_timer, on_keepalive, CHANGES_KEEPALIVE_MS, CHANGES_KEEPALIVE_MS);
    uv_unref((uv_handle_t *)&n->keepalive_timer);
}
