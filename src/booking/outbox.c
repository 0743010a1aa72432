/*
 * outbox.c - appending a message to the outbox (the webhooks' and the
 * change stream's source) inside the caller's transaction. One helper for
 * every kind of message, so serialising and appending cannot drift apart
 * again (two copies did: one checked json_dumps for NULL, one did not).
 */
#include "convene/booking.h"
#include "convene/store.h"

#include <stdlib.h>

int booking_resource_changed(struct store *st, const char *kind, const char *id)
{
    return booking_outbox_append(st, "resource.changed",
                                 json_pack("{s:{s:s, s:s}}", "resource", "type", kind, "id", id));
}

int booking_outbox_append(struct store *st, const char *type, json_t *data)
{
    char *payload = json_dumps(data, JSON_COMPACT);
    int rc = payload != NULL ? store_outbox_append(st, type, payload, NULL) : STORE_ERROR;

    free(payload);
    json_decref(data);
    return rc == STORE_OK ? 0 : -1;
}
