/*
 * ack.c - a driver's acknowledgement of a trip (CONTRACT section 6): the
 * occurrences marked as seen, by whom, and one audit entry
 * ("trip_acknowledged") in the trip's event. POST /api/v1/trips/{id}/ack
 * and a one-tap link (taplink.c) both come here, so a link's
 * acknowledgement is the API's, recorded as the driver.
 */
#include "dispatch.h"

#include "convene/booking.h"
#include "convene/util.h"

#include <stdio.h>
#include <string.h>

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static int collect(const struct trip_row *t, void *arg)
{
    json_array_append_new(arg, booking_trip_json(t));
    return 0;
}

static int storage_failed(struct booking_error *err)
{
    return booking_error_set(err, BOOKING_STORAGE, "storage", NULL,
                             "the database failed; the change was not made");
}

/* Who is recorded as acknowledging: the person of the actor, else its name. */
static const char *ack_by(const struct booking_ctx *ctx)
{
    const struct booking_actor *a = ctx->actor;

    if (a == NULL)
        return "convene";
    return a->person[0] ? a->person : a->name;
}

/* One entry per call: a trip id belongs to one event. */
static int ack_audit(const struct booking_ctx *ctx, json_t *done, int flags)
{
    json_t *first = json_array_get(done, 0), *after, *r;
    size_t k;
    int rc;

    after = json_pack("{s:s, s:s, s:[]}", "trip", str(first, "id"), "acknowledged_by",
                      ack_by(ctx), "recurrence_ids");
    json_array_foreach(done, k, r) {
        json_array_append(json_object_get(after, "recurrence_ids"),
                          json_object_get(r, "recurrence_id"));
    }
    if (flags & BOOKING_ACK_BY_LINK)
        json_object_set_new(after, "via", json_string("link"));
    rc = booking_audit(ctx->app, ctx->actor, str(first, "event"), "trip_acknowledged", NULL, after);
    json_decref(after);
    return rc;
}

/* Whether the actor may acknowledge row r: its driver, or the office. */
static int may_ack(const struct booking_ctx *ctx, json_t *r)
{
    return ctx->actor != NULL &&
           (ctx->actor->office || strcmp(str(r, "driver"), ctx->actor->person) == 0);
}

/* Marks the chosen rows into done. 0, or -1 with err. */
static int ack_rows(const struct booking_ctx *ctx, const char *trip_id, json_t *rows,
                    const char *rid, int flags, json_t *done, struct booking_error *err)
{
    const char *by = ack_by(ctx);
    json_t *r;
    size_t k;

    json_array_foreach(rows, k, r) {
        if (rid[0] != '\0' && strcmp(str(r, "recurrence_id"), rid) != 0)
            continue;
        /* A link acknowledges what is still ahead, not yet seen, and the person's own. */
        if ((flags & BOOKING_ACK_PENDING) &&
            (json_integer_value(json_object_get(r, "return_utc")) <= ctx->now ||
             json_integer_value(json_object_get(r, "acked_at")) != 0 || !may_ack(ctx, r)))
            continue;
        if (!may_ack(ctx, r))
            return booking_error_set(err, BOOKING_FORBIDDEN, "forbidden", "",
                                     "trip '%s' is not yours to acknowledge", trip_id);
        if (store_trip_ack(ctx->app->store, str(r, "event"), str(r, "id"),
                           str(r, "recurrence_id"), ctx->now, by) != STORE_OK)
            return storage_failed(err);
        json_object_set_new(r, "acked_at", json_integer(ctx->now));
        json_object_set_new(r, "acked_by", json_string(by));
        json_array_append(done, r);
    }
    if (json_array_size(done) == 0 && !(flags & BOOKING_ACK_PENDING))
        return booking_error_set(err, BOOKING_NOT_FOUND, "not_found", "recurrence_id",
                                 "trip '%s' has no occurrence '%s'", trip_id, rid);
    if (json_array_size(done) > 0 && ack_audit(ctx, done, flags) != 0)
        return storage_failed(err);
    return 0;
}

int booking_trip_ack(const struct booking_ctx *ctx, const char *trip_id, const char *rid,
                     int flags, json_t **done, struct booking_error *err)
{
    struct store *st = ctx->app->store;
    json_t *rows = json_array();
    int rc = -1;

    *done = json_array();
    if (store_begin(st) != STORE_OK) {
        storage_failed(err);
        goto out;
    }
    if (store_trips_of_trip(st, trip_id, collect, rows) != STORE_OK) {
        storage_failed(err);
    } else if (json_array_size(rows) == 0) {
        booking_error_set(err, BOOKING_NOT_FOUND, "not_found", "", "no trip with id '%s'",
                          trip_id);
    } else if (ack_rows(ctx, trip_id, rows, rid, flags, *done, err) == 0) {
        /* Nothing to mark (a link's second press) writes nothing. */
        if (json_array_size(*done) == 0) {
            store_rollback(st);
            rc = 0;
            goto out;
        }
        if (store_commit(st) == STORE_OK) {
            rc = 0;
            goto out;
        }
        storage_failed(err);
    }
    store_rollback(st);
out:
    if (rc != 0) {
        json_decref(*done);
        *done = NULL;
    }
    json_decref(rows);
    return rc;
}
