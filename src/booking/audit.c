/*
 * audit.c - what a change leaves behind in its own transaction: the entry
 * of the event's audit trail (GET /events/{id}/history) and the message
 * that announces it (event.created / updated / cancelled), both from one
 * rendering serialised once.
 */
#include "approvals.h"

#include "convene/booking.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int booking_audit_text(struct app *app, const struct booking_actor *who, const char *event_id,
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

int booking_audit(struct app *app, const struct booking_actor *who, const char *event_id,
                  const char *action, json_t *before, json_t *after)
{
    char *b = before ? json_dumps(before, JSON_COMPACT) : NULL;
    char *a = after ? json_dumps(after, JSON_COMPACT) : NULL;
    int rc = booking_audit_text(app, who, event_id, action, b, a);

    free(b);
    free(a);
    return rc;
}

/* What changed between two renderings, for event.updated: old and new per member. */
json_t *booking_event_changes(json_t *before, json_t *after)
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

/*
 * Writes the change's outbox message and audit record; returns the event as
 * rendered, serialised once for both and for the reply (*text, malloc'd),
 * or NULL. Serialising the same rendering three times was a sixth of a
 * booking's CPU.
 */
json_t *booking_record_change(const struct booking_ctx *ctx, const struct event_row *row,
                              json_t *doc, const char *type, const char *action, json_t *before,
                              char **text)
{
    json_t *after = booking_event_render(row, doc);
    char *a = json_dumps(after, JSON_COMPACT), *b = NULL, *payload = NULL;
    int rc = -1;

    *text = NULL;
    if (a == NULL)
        goto done;
    if (before != NULL && strcmp(type, "event.updated") == 0) {
        json_t *data = json_pack("{s:O, s:o}", "event", after, "changes",
                                 booking_event_changes(before, after));
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
    if (payload != NULL && store_outbox_append(ctx->app->store, type, payload, NULL) == STORE_OK &&
        booking_audit_text(ctx->app, ctx->actor, row->id, action, b, a) == 0)
        rc = 0;
    /* A booking that waits for approval asks its (new) approvers, after it is announced itself. */
    if (rc == 0 && row->status == EVENT_PENDING && strcmp(type, "event.cancelled") != 0)
        rc = approvals_announce(ctx, row->id, before, after);
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

