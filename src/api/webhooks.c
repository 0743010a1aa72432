/*
 * webhooks.c - /api/v1/webhooks: endpoints that receive signed messages
 * (CONTRACT section 7), their secrets (shown at creation and rotation
 * only), their delivery log, retry and replay.
 */
#include "handlers.h"

#include "convene/channels.h"
#include "convene/body.h"
#include "convene/notify.h"
#include "convene/signature.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATTERNS 16
#define ROTATION_OVERLAP_S (24 * 3600) /* the old secret keeps signing for a day */
#define DELIVERY_LIST_MAX 500

static const char *const webhook_members[] = {"url",    "events", "person", "enabled",
                                              "format", "secret", NULL};

static json_t *render_utc(int64_t t)
{
    char buf[TIME_UTC_STR];
    time_utc_format(t, buf);
    return json_string(buf);
}

static json_t *webhook_render(const struct webhook_row *w)
{
    json_t *events = json_array();
    const char *p = w->events;
    char url[2100];

    notify_url_shown(w->url, url, sizeof(url));

    while (p != NULL && *p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        json_array_append_new(events, json_stringn(p, len));
        p = comma ? comma + 1 : NULL;
    }
    json_t *out = json_pack("{s:s, s:s, s:o, s:s?, s:b, s:s?, s:I, s:o, s:o, s:s}", "id", w->id,
                            "url", url, "events", events, "person",
                            w->person[0] ? w->person : NULL, "enabled", w->enabled,
                            "disabled_reason", w->disabled_reason[0] ? w->disabled_reason : NULL,
                            "version", (json_int_t)w->version, "created_at",
                            render_utc(w->created_at), "updated_at", render_utc(w->updated_at),
                            "format", webhook_format_name(w->format));
    /* Whether a DingTalk robot signs (加签); its secret is never shown again. */
    if (w->format == WEBHOOK_DINGTALK)
        json_object_set_new(out, "signed", json_boolean(w->secret[0] != '\0'));
    return out;
}

/*
 * The channel members (CONTRACT section 14): "format" only at creation (a
 * robot and a signed system endpoint share nothing but the URL: register
 * another); "secret" only for DingTalk, where it is the 加签 secret the
 * group's robot settings show (null removes it).
 */
static int webhook_apply_channel(json_t *body, int create, struct webhook_row *w,
                                 struct api_error *err)
{
    json_t *secret = json_object_get(body, "secret");
    const char *format;
    enum webhook_format parsed;
    int has;

    if ((has = body_member_string(body, "format", 0, 16, &format, err)) < 0)
        return -1;
    if (has && webhook_format_parse(format, &parsed) != 0)
        return api_error_set(err, 422, "invalid", "format",
                             "'format' must be standard, wecom or dingtalk");
    if (has && !create && parsed != w->format)
        return api_error_set(err, 422, "immutable", "format",
                             "a webhook's format cannot change; register a new webhook");
    if (has)
        w->format = parsed;
    if (secret == NULL)
        return 0;
    if (w->format != WEBHOOK_DINGTALK)
        return api_error_set(err, 422, "invalid", "secret",
                             "only a dingtalk webhook takes a 'secret' (its 加签 secret)");
    if (json_is_null(secret)) {
        w->secret[0] = '\0';
        return 0;
    }
    if (!json_is_string(secret))
        return api_error_set(err, 400, "wrong_type", "secret", "'secret' must be a string");
    if (!channel_secret_valid(json_string_value(secret)))
        return api_error_set(err, 422, "invalid", "secret",
                             "'secret' must be the robot's 加签 secret: SEC followed by "
                             "printable characters, at most %d in all",
                             CHANNEL_SECRET_MAX);
    snprintf(w->secret, sizeof(w->secret), "%s", json_string_value(secret));
    return 0;
}

/*
 * Whether the URL's host resolves to public addresses only: found on a
 * worker thread (url_job) before the handler runs, so the loop never
 * waits for DNS. Consulted only when the URL's form asks for it.
 */
struct url_verdict {
    int refused;
    char why[200];
};

/* Validates members present in body into w (create requires url and events). */
static int webhook_apply(struct app *app, json_t *body, int create, struct webhook_row *w,
                         const struct url_verdict *verdict, struct api_error *err)
{
    const char *url, *person;
    json_t *events = json_object_get(body, "events"), *e, *enabled;
    char why[200], host[256];
    size_t i;
    int has, form;

    if (body_only_members(body, webhook_members, err) != 0 ||
        (has = body_member_string(body, "url", create, 2048, &url, err)) < 0)
        return -1;
    if (has) {
        form = notify_url_form(url, app->cfg.allow_private_webhooks, host, sizeof(host), why,
                               sizeof(why));
        if (form < 0)
            return api_error_set(err, 422, "invalid_url", "url", "%s", why);
        if (form > 0 && verdict->refused)
            return api_error_set(err, 422, "invalid_url", "url", "%s", verdict->why);
        free(w->url);
        w->url = xstrdup(url);
    }
    if (events != NULL || create) {
        struct strbuf sb;
        if (!json_is_array(events))
            return api_error_set(err, events ? 400 : 422, events ? "wrong_type" : "required",
                                 "events", "'events' must be an array of message types");
        if (json_array_size(events) == 0 || json_array_size(events) > MAX_PATTERNS)
            return api_error_set(err, 422, "invalid", "events",
                                 "'events' needs 1 to %d types or patterns", MAX_PATTERNS);
        strbuf_init(&sb, 4096);
        json_array_foreach(events, i, e) {
            const char *pattern = json_string_value(e);
            if (pattern == NULL || strlen(pattern) > 48 || strchr(pattern, ',') ||
                !notify_pattern_valid(pattern)) {
                strbuf_free(&sb);
                char field[32];
                snprintf(field, sizeof(field), "events[%zu]", i);
                return api_error_set(err, pattern ? 422 : 400, pattern ? "invalid" : "wrong_type",
                                     field, "unknown message type or pattern");
            }
            strbuf_printf(&sb, "%s%s", i ? "," : "", pattern);
        }
        free(w->events);
        w->events = strbuf_detach(&sb, NULL);
    }
    if ((has = body_member_string(body, "person", 0, ID_STR_MAX - 1, &person, err)) < 0)
        return -1;
    if (has) {
        int rc = store_record_exists(app->store, &record_person, person);
        if (rc == STORE_NOTFOUND)
            return api_error_set(err, 422, "unknown_id", "person", "no person with id '%s'",
                                 person);
        if (rc != STORE_OK)
            return api_error_set(err, 500, "storage", NULL, "the database failed");
        snprintf(w->person, sizeof(w->person), "%s", person);
    } else if (json_is_null(json_object_get(body, "person"))) {
        w->person[0] = '\0';
    }
    enabled = json_object_get(body, "enabled");
    if (enabled != NULL) {
        if (!json_is_boolean(enabled))
            return api_error_set(err, 400, "wrong_type", "enabled", "'enabled' must be a boolean");
        w->enabled = json_is_true(enabled);
        if (w->enabled) {
            w->disabled_reason[0] = '\0';
            w->failing_since = 0;
        }
    }
    return webhook_apply_channel(body, create, w, err);
}

static void webhook_create(struct api_call *call, json_t *body, const struct url_verdict *verdict)
{
    struct webhook_row w;
    struct api_error err;
    json_t *out;

    memset(&w, 0, sizeof(w));
    memset(&err, 0, sizeof(err));
    w.enabled = 1;
    if (webhook_apply(call->app, body, 1, &w, verdict, &err) != 0) {
        api_reply_api_error(call, &err);
        goto done;
    }
    token_id_generate("whk", w.id);
    /* Robots are not signed by us (a DingTalk secret, if any, came with the request). */
    if (w.format == WEBHOOK_STANDARD)
        signature_secret_new(w.secret, sizeof(w.secret));
    w.version = 1;
    w.created_at = w.updated_at = clock_wall_s();
    if (store_webhook_insert(call->app->store, &w) != STORE_OK) {
        api_reply_store_error(call);
        goto done;
    }
    out = webhook_render(&w);
    /* The secret is shown this once; afterwards only rotation reveals a new one. */
    if (w.format == WEBHOOK_STANDARD)
        json_object_set_new(out, "secret", json_string(w.secret));
    api_reply_json(call, 201, out, w.version);
done:
    store_webhook_row_clear(&w);
}

static int list_one(const struct webhook_row *w, void *arg)
{
    json_array_append_new(arg, webhook_render(w));
    return 0;
}

void api_webhooks_list(struct api_call *call)
{
    json_t *items = json_array();

    if (store_webhook_list(call->app->store, 0, list_one, items) != STORE_OK) {
        json_decref(items);
        api_reply_store_error(call);
        return;
    }
    api_reply_json(call, 200, items, -1);
}

static int load_webhook(struct api_call *call, struct webhook_row *w)
{
    int rc = store_webhook_get(call->app->store, call->params[0], w);

    if (rc == STORE_NOTFOUND)
        api_reply_error(call, 404, "not_found", NULL, "no webhook with id '%s'", call->params[0]);
    else if (rc != STORE_OK)
        api_reply_store_error(call);
    return rc == STORE_OK ? 0 : -1;
}

void api_webhooks_get(struct api_call *call)
{
    struct webhook_row w;

    memset(&w, 0, sizeof(w));
    if (load_webhook(call, &w) == 0)
        api_reply_json(call, 200, webhook_render(&w), w.version);
    store_webhook_row_clear(&w);
}

static void webhook_patch(struct api_call *call, json_t *body, const struct url_verdict *verdict)
{
    struct webhook_row w;
    struct api_error err;

    memset(&w, 0, sizeof(w));
    memset(&err, 0, sizeof(err));
    if (load_webhook(call, &w) != 0 || api_check_if_match(call, w.version) != 0)
        goto done;
    if (webhook_apply(call->app, body, 0, &w, verdict, &err) != 0) {
        api_reply_api_error(call, &err);
        goto done;
    }
    w.version++;
    w.updated_at = clock_wall_s();
    if (store_webhook_update(call->app->store, &w) != STORE_OK)
        api_reply_store_error(call);
    else
        api_reply_json(call, 200, webhook_render(&w), w.version);
done:
    store_webhook_row_clear(&w);
}

/* ---------------- the URL's host, resolved off the loop ---------------- */

struct url_job {
    struct api_job job; /* first: the job is the resolution */
    int create;
    char id[ID_STR_MAX * 2]; /* PATCH: the webhook of the path */
    char host[256];
    struct url_verdict verdict;
};

static void url_work(struct api_job *job)
{
    struct url_job *j = (struct url_job *)job;

    j->verdict.refused = notify_host_public(j->host, j->verdict.why, sizeof(j->verdict.why)) != 0;
}

/* Back on the loop: the handler runs as it would have, with the verdict in hand. */
static void url_finish(struct api_job *job, struct api_call *call)
{
    struct url_job *j = (struct url_job *)job;
    json_t *body;

    snprintf(call->params[0], sizeof(call->params[0]), "%s", j->id);
    call->nparams = j->create ? 0 : 1;
    if ((body = api_body_object(call)) != NULL) {
        if (j->create)
            webhook_create(call, body, &j->verdict);
        else
            webhook_patch(call, body, &j->verdict);
    }
    json_decref(call->body);
    call->body = NULL;
}

static void url_free(struct api_job *job)
{
    free(job);
}

/*
 * When the body's URL needs its host resolved (the SSRF guard), defers the
 * handler until a worker thread has resolved it (api_defer: uv_queue_work,
 * where uv_getaddrinfo would also run it) and returns 1; else 0: go on now.
 */
static int resolve_first(struct api_call *call, json_t *body, int create)
{
    const char *url = json_string_value(json_object_get(body, "url"));
    char host[256], why[200];
    struct url_job *j;

    if (url == NULL || notify_url_form(url, call->app->cfg.allow_private_webhooks, host,
                                       sizeof(host), why, sizeof(why)) != 1)
        return 0;
    j = xcalloc(1, sizeof(*j));
    j->job.work = url_work;
    j->job.finish = url_finish;
    j->job.free = url_free;
    j->create = create;
    snprintf(j->id, sizeof(j->id), "%s", create ? "" : call->params[0]);
    snprintf(j->host, sizeof(j->host), "%s", host);
    api_defer(call, &j->job);
    return 1;
}

void api_webhooks_create(struct api_call *call)
{
    static const struct url_verdict unasked;
    json_t *body = api_body_object(call);

    if (body != NULL && !resolve_first(call, body, 1))
        webhook_create(call, body, &unasked);
}

void api_webhooks_patch(struct api_call *call)
{
    static const struct url_verdict unasked;
    json_t *body = api_body_object(call);

    if (body != NULL && !resolve_first(call, body, 0))
        webhook_patch(call, body, &unasked);
}

void api_webhooks_delete(struct api_call *call)
{
    struct webhook_row w;

    memset(&w, 0, sizeof(w));
    if (load_webhook(call, &w) == 0 && api_check_if_match(call, w.version) == 0) {
        if (store_webhook_delete(call->app->store, w.id, clock_wall_s()) != STORE_OK)
            api_reply_store_error(call);
        else
            api_reply_empty(call, 204);
    }
    store_webhook_row_clear(&w);
}

void api_webhooks_rotate(struct api_call *call)
{
    struct webhook_row w;
    json_t *out;

    memset(&w, 0, sizeof(w));
    if (load_webhook(call, &w) != 0)
        goto done;
    if (w.format != WEBHOOK_STANDARD) {
        api_reply_error(call, 422, "invalid", "format",
                        "only a standard webhook has a signing secret to rotate; a DingTalk "
                        "robot's secret is changed with PATCH {\"secret\"}");
        goto done;
    }
    memcpy(w.old_secret, w.secret, sizeof(w.old_secret));
    w.old_secret_until = clock_wall_s() + ROTATION_OVERLAP_S;
    signature_secret_new(w.secret, sizeof(w.secret));
    w.version++;
    w.updated_at = clock_wall_s();
    if (store_webhook_update(call->app->store, &w) != STORE_OK) {
        api_reply_store_error(call);
        goto done;
    }
    out = webhook_render(&w);
    json_object_set_new(out, "secret", json_string(w.secret));
    json_object_set_new(out, "old_secret_valid_until", render_utc(w.old_secret_until));
    api_reply_json(call, 200, out, w.version);
done:
    store_webhook_row_clear(&w);
}

static int delivery_one(const struct delivery_row *d, void *arg)
{
    json_t *item = json_pack("{s:s, s:s, s:s, s:i, s:o, s:o}", "id", d->msg_id, "type", d->type,
                             "status", d->status, "attempts", d->attempts, "last_status",
                             d->last_status ? json_integer(d->last_status) : json_null(),
                             "created_at", render_utc(d->created_at));
    json_object_set_new(item, "next_attempt", strcmp(d->status, "pending") == 0
                                                  ? render_utc(d->next_attempt)
                                                  : json_null());
    /* A robot answers 200 and says in its errcode why it refused: the status alone misleads. */
    json_object_set_new(item, "last_error", d->last_error[0] ? json_string(d->last_error)
                                                             : json_null());
    json_array_append_new(arg, item);
    return 0;
}

void api_webhooks_deliveries(struct api_call *call)
{
    struct webhook_row w;
    json_t *items;

    memset(&w, 0, sizeof(w));
    if (load_webhook(call, &w) == 0) {
        items = json_array();
        if (store_deliveries_list(call->app->store, w.id, DELIVERY_LIST_MAX, delivery_one,
                                  items) != STORE_OK) {
            json_decref(items);
            api_reply_store_error(call);
        } else {
            api_reply_json(call, 200, items, -1);
        }
    }
    store_webhook_row_clear(&w);
}

void api_webhooks_retry(struct api_call *call)
{
    int rc = store_delivery_retry(call->app->store, call->params[0], call->params[1],
                                  clock_wall_s());

    if (rc == STORE_NOTFOUND)
        api_reply_error(call, 404, "not_found", NULL, "no delivery '%s' for webhook '%s'",
                        call->params[1], call->params[0]);
    else if (rc != STORE_OK)
        api_reply_store_error(call);
    else
        api_reply_json(call, 202, json_pack("{s:s, s:s}", "id", call->params[1], "status", "pending"),
                       -1);
}

void api_webhooks_replay(struct api_call *call)
{
    json_t *body = api_body_object(call);
    static const char *const members[] = {"since", NULL};
    struct webhook_row w;
    struct api_error err;
    struct local_time lt;
    const char *since;
    int64_t since_utc;

    if (body == NULL)
        return;
    memset(&w, 0, sizeof(w));
    memset(&err, 0, sizeof(err));
    if (body_only_members(body, members, &err) != 0 ||
        body_member_string(body, "since", 1, 32, &since, &err) < 0) {
        api_reply_api_error(call, &err);
        return;
    }
    /* "2026-12-01T00:00:00Z" or a local time in the organisation's zone. */
    char trimmed[TIME_LOCAL_STR];
    snprintf(trimmed, sizeof(trimmed), "%.19s", since);
    if (time_local_parse(trimmed, &lt) != 0 ||
        (strlen(since) == 20 ? since[19] != 'Z' : strlen(since) != 19)) {
        api_reply_error(call, 422, "invalid", "since",
                        "'since' must look like 2026-12-01T00:00:00Z or 2026-12-01T08:00:00");
        return;
    }
    time_local_to_utc(&lt, strlen(since) == 20 ? "UTC" : call->app->cfg.tz, &since_utc);
    if (load_webhook(call, &w) != 0)
        return;
    int64_t count = 0;
    if (store_begin(call->app->store) != STORE_OK ||
        store_deliveries_replay(call->app->store, w.id, since_utc, clock_wall_s(), &count) !=
            STORE_OK ||
        store_commit(call->app->store) != STORE_OK) {
        store_rollback(call->app->store);
        api_reply_store_error(call);
    } else {
        api_reply_json(call, 202, json_pack("{s:I}", "replayed", (json_int_t)count), -1);
    }
    store_webhook_row_clear(&w);
}
