/*
 * resources.c - people, rooms and vehicles (CONTRACT section 3). One set of
 * handlers serves the three kinds; the route's data names the record type,
 * whose field table drives validation, storage and rendering. A person's
 * changes reach the meetings they are in: a new diet re-counts their meals,
 * and deleting them takes them out of the meetings still ahead.
 */
#include "handlers.h"

#include "convene/account.h"
#include "convene/feed.h"
#include "convene/body.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stores the hash of the calendar's current feed token, retiring the old one. */
static int publish_feed_token(struct app *app, const struct record_type *type,
                              const struct record *rec)
{
    char token[TOKEN_STR_MAX];
    unsigned char hash[TOKEN_HASH_LEN];

    token_feed_derive(app->feed_key, type->kind, rec->id, rec->feed_generation, token);
    token_hash(token, strlen(token), hash);
    return store_feed_token_set(app->store, type->kind, rec->id, hash);
}

static void add_feed_urls(struct app *app, const struct record_type *type,
                          const struct record *rec, json_t *obj)
{
    char url[640], webcal[660];

    app_feed_url(app, type->kind, rec->id, rec->feed_generation, url, sizeof(url));
    /* webcal:// is the same address with the scheme that makes phones subscribe. */
    const char *rest = strstr(url, "://");
    snprintf(webcal, sizeof(webcal), "webcal%s", rest ? rest : url);
    json_object_set_new(obj, "feed_url", json_string(url));
    json_object_set_new(obj, "webcal_url", json_string(webcal));
}

/* A person's access as it applies: the stored one, or their role's default. */
static void render_access(const struct record *rec, json_t *obj)
{
    const struct field_value *access = &rec->values[record_field_index(&record_person, "access")];
    const struct field_value *role = &rec->values[record_field_index(&record_person, "role")];

    json_object_set_new(obj, "access",
                        json_string(account_access_effective(access->set ? access->s : NULL,
                                                             role->set ? role->s : NULL)));
}

static json_t *render(struct app *app, const struct record_type *type, const struct record *rec)
{
    json_t *obj = body_record_render(type, rec);
    add_feed_urls(app, type, rec, obj);
    if (type == &record_person)
        render_access(rec, obj);
    return obj;
}

/* A write refused by a unique column: only a person's login is unique. */
static void reply_login_taken(struct api_call *call, const struct record *rec)
{
    const struct field_value *login = &rec->values[record_field_index(&record_person, "login")];

    api_reply_error(call, 409, "login_taken", "login", "login '%s' belongs to someone else",
                    login->set ? login->s : "");
}

void api_resource_create(struct api_call *call)
{
    const struct record_type *type = call->route_data;
    json_t *body = api_body_object(call);
    struct api_error err;
    struct record rec;
    int64_t now = clock_wall_s();

    if (body == NULL)
        return;
    record_init(&rec, type);
    if (body_record_apply(body, type, 1, &rec, &err) != 0) {
        api_reply_api_error(call, &err);
        goto done;
    }
    if (token_id_generate(type->id_prefix, rec.id) != 0) {
        api_reply_error(call, 500, "internal", NULL, "no randomness available");
        goto done;
    }
    rec.version = 1;
    rec.created_at = rec.updated_at = now;
    rec.feed_generation = 1;
    if (store_begin(call->app->store) != STORE_OK) {
        api_reply_store_error(call);
        goto done;
    }
    int rc = store_record_insert(call->app->store, type, &rec);
    if (rc != STORE_OK || publish_feed_token(call->app, type, &rec) != STORE_OK ||
        booking_resource_changed(call->app->store, type->kind, rec.id) != 0 ||
        store_commit(call->app->store) != STORE_OK) {
        store_rollback(call->app->store);
        if (rc == STORE_DUPLICATE && type == &record_person)
            reply_login_taken(call, &rec);
        else
            api_reply_store_error(call);
        goto done;
    }
    api_reply_json(call, 201, render(call->app, type, &rec), rec.version);
done:
    record_clear(&rec, type);
}

struct list_ctx {
    struct app *app;
    const struct record_type *type;
    json_t *items;
    const char *q; /* ?q=, "" for every record */
};

static int list_one(const struct record *rec, void *arg)
{
    struct list_ctx *ctx = arg;

    if (record_matches(ctx->type, rec, ctx->q))
        json_array_append_new(ctx->items, render(ctx->app, ctx->type, rec));
    return 0;
}

/* GET /api/v1/{people|rooms|vehicles}[?q=text]: all, or those whose searched fields hold q. */
void api_resource_list(struct api_call *call)
{
    char q[RECORD_QUERY_MAX * 4 + 1] = "";
    struct list_ctx ctx = {call->app, call->route_data, NULL, q};

    if (api_query_param(call, "q", q, sizeof(q)) < 0)
        return;
    ctx.items = json_array();
    if (store_record_list(call->app->store, ctx.type, list_one, &ctx) != STORE_OK) {
        json_decref(ctx.items);
        api_reply_store_error(call);
        return;
    }
    api_reply_json(call, 200, ctx.items, -1);
}

/* Loads the record named by the path; replies 404/500 and returns -1 when it cannot. */
static int load(struct api_call *call, struct record *rec)
{
    const struct record_type *type = call->route_data;
    int rc = store_record_get(call->app->store, type, call->params[0], rec);

    if (rc == STORE_NOTFOUND)
        api_reply_error(call, 404, "not_found", NULL, "no %s with id '%s'", type->kind,
                        call->params[0]);
    else if (rc != STORE_OK)
        api_reply_store_error(call);
    return rc == STORE_OK ? 0 : -1;
}

/*
 * Rendered records, "kind:id" -> [JSON text, version], for GET of one
 * record: a room or a person is read far more often than it changes. The
 * whole cache is dropped whenever any record changes here
 * (store_record_writes) or another process writes the database
 * (data_version); nothing read inside a transaction is kept.
 */
#define RECORD_CACHE_MAX 20000

static json_t *record_cache(struct app *app)
{
    struct record_cache *c = &app->record_cache;
    int64_t data_version;

    if (store_data_version(app->store, &data_version) != STORE_OK)
        return NULL;
    if (c->texts == NULL)
        c->texts = json_object();
    if (data_version != c->data_version || store_record_writes(app->store) != c->writes ||
        json_object_size(c->texts) >= RECORD_CACHE_MAX) {
        json_object_clear(c->texts);
        c->data_version = data_version;
        c->writes = store_record_writes(app->store);
    }
    return store_in_transaction(app->store) ? NULL : c->texts;
}

void api_resource_get(struct api_call *call)
{
    const struct record_type *type = call->route_data;
    json_t *cache = record_cache(call->app), *hit;
    char key[16 + sizeof(call->params[0])];
    struct record rec;

    snprintf(key, sizeof(key), "%s:%s", type->kind, call->params[0]);
    if (cache != NULL && (hit = json_object_get(cache, key)) != NULL) {
        const char *text = json_string_value(json_array_get(hit, 0));
        size_t len = json_string_length(json_array_get(hit, 0));
        char *body = xmalloc(len + 1);
        memcpy(body, text, len + 1);
        api_reply_json_text(call, 200, body, len);
        snprintf(call->res->etag, sizeof(call->res->etag), "\"%lld\"",
                 (long long)json_integer_value(json_array_get(hit, 1)));
        return;
    }
    record_init(&rec, type);
    if (load(call, &rec) == 0) {
        api_reply_json(call, 200, render(call->app, type, &rec), rec.version);
        if (cache != NULL && call->res->body != NULL)
            json_object_set_new(cache, key,
                                json_pack("[s#, I]", call->res->body, call->res->body_len,
                                          (json_int_t)rec.version));
    }
    record_clear(&rec, type);
}

/* Re-counts the person's meals by the caller (catering_sync.h). 0 or -1. */
static int diet_changed(struct api_call *call, const char *person)
{
    struct booking_actor actor;
    struct booking_ctx ctx;

    events_call_ctx(call, &actor, &ctx);
    return booking_person_diet_changed(&ctx, person);
}

/*
 * Runs `change` on the record inside one write transaction: load, If-Match,
 * change, commit. change returns 0 to commit (having replied), -1 to roll
 * back (having replied).
 */
static void modify(struct api_call *call,
                   int (*change)(struct api_call *call, struct record *rec))
{
    const struct record_type *type = call->route_data;
    struct store *st = call->app->store;
    struct record rec;

    record_init(&rec, type);
    if (store_begin(st) != STORE_OK) {
        api_reply_store_error(call);
        goto done;
    }
    if (load(call, &rec) != 0 || api_check_if_match(call, rec.version) != 0 ||
        change(call, &rec) != 0) {
        store_rollback(st);
        goto done;
    }
    if (store_commit(st) != STORE_OK) {
        api_reply_store_error(call);
        goto done;
    }
done:
    record_clear(&rec, type);
}

static int patch_change(struct api_call *call, struct record *rec)
{
    const struct record_type *type = call->route_data;
    struct api_error err;

    if (body_record_apply(call->body, type, 0, rec, &err) != 0) {
        api_reply_api_error(call, &err);
        return -1;
    }
    rec->version++;
    rec->updated_at = clock_wall_s();
    /* Names appear in other calendars (CN, LOCATION): drop every cached feed. */
    feed_cache_clear(call->app->feeds);
    int rc = store_record_update(call->app->store, type, rec);
    if (rc == STORE_DUPLICATE && type == &record_person) {
        reply_login_taken(call, rec);
        return -1;
    }
    if (rc != STORE_OK || booking_resource_changed(call->app->store, type->kind, rec->id) != 0 ||
        /* Meal counts break down by diet: the canteen must hear of a new one. */
        (type == &record_person && json_object_get(call->body, "diet") != NULL &&
         diet_changed(call, rec->id) != 0)) {
        api_reply_store_error(call);
        return -1;
    }
    api_reply_json(call, 200, render(call->app, type, rec), rec->version);
    return 0;
}

void api_resource_patch(struct api_call *call)
{
    if (api_body_object(call) != NULL)
        modify(call, patch_change);
}

/* ---------------- deleting a person ---------------- */

/* The meetings ahead let the person go (booking_person_leave). 0, or -1 after replying. */
static int person_leave(struct api_call *call, const char *person)
{
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};
    int rc;

    events_call_ctx(call, &actor, &ctx);
    if ((rc = booking_person_leave(&ctx, person, &err)) != 0)
        api_reply_booking_error(call, &err);
    booking_error_clear(&err);
    return rc;
}

/* ---------------- deleting a room or a vehicle ---------------- */

/* Not while a meeting ahead holds it (booking_resource_retirable). 0, or -1 after replying. */
static int resource_unbooked(struct api_call *call, const struct record_type *type, const char *id)
{
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};
    int rc;

    events_call_ctx(call, &actor, &ctx);
    if ((rc = booking_resource_retirable(&ctx, type->kind, id, &err)) != 0)
        api_reply_booking_error(call, &err);
    booking_error_clear(&err);
    return rc;
}

static int delete_change(struct api_call *call, struct record *rec)
{
    if (call->route_data == &record_person && person_leave(call, rec->id) != 0)
        return -1;
    /* Their own tokens (a leader's, a driver's) and console sessions die with them. */
    if (call->route_data == &record_person &&
        (store_tokens_revoke_person(call->app->store, rec->id, clock_wall_s()) != STORE_OK ||
         store_sessions_end_person(call->app->store, rec->id, NULL) != STORE_OK)) {
        api_reply_store_error(call);
        return -1;
    }
    if (call->route_data != &record_person &&
        resource_unbooked(call, call->route_data, rec->id) != 0)
        return -1;
    if (store_record_delete(call->app->store, call->route_data, rec->id, clock_wall_s()) !=
            STORE_OK ||
        booking_resource_changed(call->app->store,
                                 ((const struct record_type *)call->route_data)->kind,
                                 rec->id) != 0) {
        api_reply_store_error(call);
        return -1;
    }
    /* The feed answers 404 from now on (the store dropped its token); free its body. */
    feed_cache_invalidate(call->app->feeds, ((const struct record_type *)call->route_data)->kind,
                          rec->id);
    api_reply_empty(call, 204);
    return 0;
}

void api_resource_delete(struct api_call *call)
{
    modify(call, delete_change);
}

static int rotate_change(struct api_call *call, struct record *rec)
{
    const struct record_type *type = call->route_data;
    json_t *out;

    rec->feed_generation++;
    if (store_record_set_feed_generation(call->app->store, type, rec->id, rec->feed_generation) !=
            STORE_OK ||
        publish_feed_token(call->app, type, rec) != STORE_OK ||
        booking_resource_changed(call->app->store, type->kind, rec->id) != 0) {
        api_reply_store_error(call);
        return -1;
    }
    out = json_object();
    json_object_set_new(out, "id", json_string(rec->id));
    add_feed_urls(call->app, type, rec, out);
    api_reply_json(call, 200, out, -1);
    return 0;
}

void api_resource_feed_token(struct api_call *call)
{
    modify(call, rotate_change);
}
