/*
 * import.c - POST /api/v1/import?person=ID with a text/calendar body: every
 * VEVENT becomes an event (UIDs kept) with the person as attendee, all in
 * one transaction: all or nothing. A clash answers as POST /events does.
 */
#include "handlers.h"

#include "convene/ical_import.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdio.h>
#include <string.h>

void api_import(struct api_call *call)
{
    struct store *st = call->app->store;
    char person[ID_STR_MAX], why[256], id[ID_STR_MAX];
    json_t *items, *item, *ids;
    struct booking_error err = {0};
    struct booking_actor actor;
    struct booking_ctx ctx;
    size_t i;
    int rc;

    if ((rc = api_query_param(call, "person", person, sizeof(person))) < 0)
        return;
    if (rc == 0)
        person[0] = '\0';
    if (call->req->body == NULL || call->req->body_len == 0) {
        api_reply_error(call, 400, "malformed", NULL, "the body must be text/calendar");
        return;
    }
    items = ical_import_parse(call->req->body, call->req->body_len, call->app->cfg.tz, why,
                              sizeof(why));
    if (items == NULL) {
        api_reply_error(call, 422, "invalid_icalendar", NULL, "%s", why);
        return;
    }
    if (store_begin(st) != STORE_OK) {
        json_decref(items);
        api_reply_store_error(call);
        return;
    }
    ids = json_array();
    events_call_ctx(call, &actor, &ctx);
    json_array_foreach(items, i, item) {
        json_t *doc = json_object_get(item, "doc");
        if (person[0] != '\0')
            json_object_set_new(doc, "attendees", json_pack("[{s:s}]", "person", person));
        if (booking_event_create(&ctx, doc, json_string_value(json_object_get(item, "uid")),
                                 "imported", id, &err) != 0) {
            /* The reply names the problem; the whole import is undone. */
            store_rollback(st);
            api_reply_booking_error(call, &err);
            booking_error_clear(&err);
            json_decref(items);
            json_decref(ids);
            return;
        }
        json_array_append_new(ids, json_string(id));
    }
    json_decref(items);
    if (store_commit(st) != STORE_OK) {
        json_decref(ids);
        api_reply_store_error(call);
        return;
    }
    api_reply_json(call, 201, json_pack("{s:I, s:o}", "imported", (json_int_t)json_array_size(ids),
                                        "events", ids),
                   -1);
}
