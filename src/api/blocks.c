/*
 * blocks.c - POST/GET/DELETE /api/v1/blocks: a person, room or vehicle is
 * unavailable for a while (leave, renovation, maintenance). Blocks count as
 * conflicts for bookings.
 */
#include "handlers.h"

#include "convene/body.h"
#include "convene/store.h"
#include "convene/timeutil.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MAX_SECONDS (5LL * 366 * 86400) /* a renovation, not forever */
#define REASON_MAX_CHARS 500

static const char *const block_members[] = {"resource", "start", "end", "tz", "reason",
                                             "delegate", NULL};
static const char *const resource_members[] = {"type", "id", NULL};

static int validate_resource(struct app *app, json_t *body, struct block_record *b,
                             struct api_error *err)
{
    json_t *res = json_object_get(body, "resource");
    const char *type, *id;
    const struct record_type *rt;

    if (res == NULL || json_is_null(res))
        return api_error_set(err, 422, "required", "resource", "'resource' is required");
    if (!json_is_object(res))
        return api_error_set(err, 400, "wrong_type", "resource",
                             "'resource' must be an object {\"type\", \"id\"}");
    if (body_only_members(res, resource_members, err) != 0 ||
        body_member_string(res, "type", 1, 16, &type, err) < 0 ||
        body_member_string(res, "id", 1, ID_STR_MAX - 1, &id, err) < 0) {
        /* Name the field by its full path, as the client wrote it. */
        char inner[sizeof(err->field)];
        snprintf(inner, sizeof(inner), "resource.%.100s", err->field);
        memcpy(err->field, inner, sizeof(inner));
        return -1;
    }
    rt = record_type_by_kind(type);
    if (rt == NULL)
        return api_error_set(err, 422, "invalid", "resource.type",
                             "'resource.type' must be one of: person, room, vehicle");
    int rc = store_record_exists(app->store, rt, id);
    if (rc == STORE_NOTFOUND)
        return api_error_set(err, 422, "unknown_id", "resource.id", "no %s with id '%s'", type,
                             id);
    if (rc != STORE_OK)
        return api_error_set(err, 500, "storage", NULL, "the database failed");
    snprintf(b->resource_type, sizeof(b->resource_type), "%s", type);
    snprintf(b->resource_id, sizeof(b->resource_id), "%s", id);
    return 0;
}

/* Parses one local time member into text and UTC. */
static int validate_time(json_t *body, const char *name, const char *tz, char out[TIME_LOCAL_STR],
                         int64_t *utc, struct api_error *err)
{
    const char *s;
    struct local_time lt;

    if (body_member_string(body, name, 1, 32, &s, err) < 0)
        return -1;
    if (time_local_parse(s, &lt) != 0)
        return api_error_set(err, 422, "invalid", name,
                             "'%s' must be a local time like 2026-12-07T09:00:00", name);
    /* A block in a DST gap is harmless: it simply starts at the shifted instant. */
    time_local_to_utc(&lt, tz, utc);
    time_local_format(&lt, out);
    return 0;
}

/*
 * delegate: the person who decides a blocked person's approvals while the
 * block lasts (CONTRACT section 12); only a person's block may name one.
 */
static int block_delegate(struct app *app, json_t *body, struct block_record *b,
                          struct api_error *err)
{
    const char *delegate = NULL;
    int rc;

    if (body_member_string(body, "delegate", 0, ID_STR_MAX - 1, &delegate, err) < 0)
        return -1;
    if (delegate == NULL)
        return 0;
    if (strcmp(b->resource_type, "person") != 0)
        return api_error_set(err, 422, "invalid", "delegate", "only a person's block names a delegate");
    if (strcmp(delegate, b->resource_id) == 0)
        return api_error_set(err, 422, "invalid", "delegate", "a person cannot be their own delegate");
    rc = store_record_exists(app->store, &record_person, delegate);
    if (rc == STORE_NOTFOUND)
        return api_error_set(err, 422, "unknown_id", "delegate", "no person with id '%s'", delegate);
    if (rc != STORE_OK)
        return api_error_set(err, 500, "storage", NULL, "the database failed");
    snprintf(b->delegate, sizeof(b->delegate), "%s", delegate);
    return 0;
}

static int block_validate(struct app *app, json_t *body, struct block_record *b,
                          struct api_error *err)
{
    const char *tz = app->cfg.tz, *reason = NULL;
    int has;

    if (body_only_members(body, block_members, err) != 0 ||
        validate_resource(app, body, b, err) != 0 ||
        (has = body_member_string(body, "tz", 0, 63, &tz, err)) < 0)
        return -1;
    if (has && !time_zone_valid(tz))
        return api_error_set(err, 422, "invalid", "tz", "unknown time zone '%s'", tz);
    snprintf(b->tz, sizeof(b->tz), "%s", has ? tz : app->cfg.tz);
    if (validate_time(body, "start", b->tz, b->start, &b->start_utc, err) != 0 ||
        validate_time(body, "end", b->tz, b->end, &b->end_utc, err) != 0)
        return -1;
    if (b->end_utc <= b->start_utc)
        return api_error_set(err, 422, "end_before_start", "end", "'end' must be after 'start'");
    if (b->end_utc - b->start_utc > BLOCK_MAX_SECONDS)
        return api_error_set(err, 422, "too_long", "end", "a block may last at most 5 years");
    if (body_member_string(body, "reason", 0, REASON_MAX_CHARS, &reason, err) < 0)
        return -1;
    b->reason = reason ? xstrdup(reason) : NULL;
    return block_delegate(app, body, b, err);
}

static json_t *block_render(const struct block_record *b)
{
    char start_utc[TIME_UTC_STR], end_utc[TIME_UTC_STR], created[TIME_UTC_STR];

    time_utc_format(b->start_utc, start_utc);
    time_utc_format(b->end_utc, end_utc);
    time_utc_format(b->created_at, created);
    return json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:s?, s:I, s:s}", "id", b->id,
                     "resource", "type", b->resource_type, "id", b->resource_id, "start",
                     b->start, "end", b->end, "tz", b->tz, "start_utc", start_utc, "end_utc",
                     end_utc, "reason", b->reason, "version", (json_int_t)b->version,
                     "created_at", created);
}

/* The block as clients see it, with its delegate when it names one. */
static json_t *block_render_full(const struct block_record *b)
{
    json_t *out = block_render(b);

    if (b->delegate[0] != '\0')
        json_object_set_new(out, "delegate", json_string(b->delegate));
    return out;
}

void api_blocks_create(struct api_call *call)
{
    json_t *body = api_body_object(call);
    struct block_record b;
    struct api_error err;
    struct store *st = call->app->store;

    if (body == NULL)
        return;
    memset(&b, 0, sizeof(b));
    if (store_begin(st) != STORE_OK) {
        api_reply_store_error(call);
        return;
    }
    if (block_validate(call->app, body, &b, &err) != 0) {
        store_rollback(st);
        api_reply_api_error(call, &err);
        goto done;
    }
    token_id_generate("blk", b.id);
    b.version = 1;
    b.created_at = clock_wall_s();
    snprintf(b.created_by, sizeof(b.created_by), "%s", call->auth.token_id);
    struct claim hold = {b.resource_type, b.resource_id, b.start_utc, b.end_utc, NULL, NULL,
                         NULL, b.id, "block", NULL};
    if (store_block_insert(st, &b) != STORE_OK || store_occupancy_insert(st, &hold) != STORE_OK ||
        booking_resource_changed(st, "block", b.id) != 0 || store_commit(st) != STORE_OK) {
        store_rollback(st);
        api_reply_store_error(call);
        goto done;
    }
    api_reply_json(call, 201, block_render_full(&b), b.version);
done:
    store_block_clear(&b);
}

static int list_one(const struct block_record *b, void *arg)
{
    json_array_append_new(arg, block_render_full(b));
    return 0;
}

void api_blocks_list(struct api_call *call)
{
    static const char *const filters[] = {"person", "room", "vehicle"};
    char id[ID_STR_MAX];
    const char *type = NULL;
    json_t *items;

    for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
        int rc = api_query_param(call, filters[i], id, sizeof(id));
        if (rc < 0)
            return;
        if (rc == 1) {
            type = filters[i];
            break;
        }
    }
    items = json_array();
    if (store_block_list(call->app->store, type, type ? id : NULL, list_one, items) != STORE_OK) {
        json_decref(items);
        api_reply_store_error(call);
        return;
    }
    api_reply_json(call, 200, items, -1);
}

static int load_block(struct api_call *call, struct block_record *b)
{
    int rc = store_block_get(call->app->store, call->params[0], b);

    if (rc == STORE_NOTFOUND)
        api_reply_error(call, 404, "not_found", NULL, "no block with id '%s'", call->params[0]);
    else if (rc != STORE_OK)
        api_reply_store_error(call);
    return rc == STORE_OK ? 0 : -1;
}

void api_blocks_get(struct api_call *call)
{
    struct block_record b;

    memset(&b, 0, sizeof(b));
    if (load_block(call, &b) == 0)
        api_reply_json(call, 200, block_render_full(&b), b.version);
    store_block_clear(&b);
}

void api_blocks_delete(struct api_call *call)
{
    struct store *st = call->app->store;
    struct block_record b;

    memset(&b, 0, sizeof(b));
    if (store_begin(st) != STORE_OK) {
        api_reply_store_error(call);
        return;
    }
    if (load_block(call, &b) != 0 || api_check_if_match(call, b.version) != 0) {
        store_rollback(st);
    } else if (store_block_delete(st, b.id, clock_wall_s()) != STORE_OK ||
               store_occupancy_delete_block(st, b.id, b.resource_type, b.resource_id) != STORE_OK ||
               booking_resource_changed(st, "block", b.id) != 0 || store_commit(st) != STORE_OK) {
        store_rollback(st);
        api_reply_store_error(call);
    } else {
        api_reply_empty(call, 204);
    }
    store_block_clear(&b);
}
