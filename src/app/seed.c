/*
 * seed.c - loading an organisation (the demo in calendars/demo/) through
 * the same API calls a client would make, so seeded data is exactly as
 * valid as data entered over HTTP.
 */
#include "convene/api.h"
#include "convene/app.h"
#include "convene/record.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct auth seed_auth = {ROLE_ADMIN, "system", "seed", ""};

static int load_kind(struct app *app, json_t *root, const struct record_type *type, FILE *out)
{
    json_t *items = json_object_get(root, type->plural);
    char path[64];
    size_t i;
    json_t *item;

    if (items == NULL)
        return 0;
    if (!json_is_array(items)) {
        log_error("seed: '%s' must be an array", type->plural);
        return -1;
    }
    snprintf(path, sizeof(path), "/api/v1/%s", type->plural);
    json_array_foreach(items, i, item) {
        struct api_response res;
        char *body = json_dumps(item, JSON_COMPACT);
        api_invoke(app, "POST", path, body, &seed_auth, &res);
        free(body);
        if (res.status != 201) {
            log_error("seed: %s[%zu] refused (%d): %.*s", type->plural, i, res.status,
                      (int)res.body_len, res.body ? res.body : "");
            api_response_free(&res);
            return -1;
        }
        api_response_free(&res);
    }
    fprintf(out, "loaded %zu %s\n", json_array_size(items), type->plural);
    return 0;
}

struct print_ctx {
    struct app *app;
    FILE *out;
};

static int print_feed(const struct record *rec, void *arg)
{
    struct print_ctx *ctx = arg;
    char url[640];

    app_feed_url(ctx->app, record_person.kind, rec->id, rec->feed_generation, url, sizeof(url));
    fputs("  ", ctx->out);
    fput_padded(ctx->out, rec->values[0].s, 12);
    fputc(' ', ctx->out);
    fput_padded(ctx->out, rec->values[1].s, 10);
    fprintf(ctx->out, " %s\n", url);
    return 0;
}

/* Whether a base URL names 127.0.0.0/8, ::1 or localhost, unreachable from a phone. */
static int url_is_loopback(const char *url)
{
    const char *host = strstr(url, "://");

    host = host ? host + 3 : url;
    return strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost", 9) == 0 ||
           strncmp(host, "[::1]", 5) == 0;
}

int seed_organisation(struct app *app, const char *dir, FILE *out)
{
    char file[CONFIG_PATH_MAX + 32];
    json_error_t jerr;
    json_t *root;
    int64_t people = 0;
    int rc = 0;

    if (store_record_count(app->store, &record_person, &people) != STORE_OK)
        return -1;
    if (people == 0) {
        snprintf(file, sizeof(file), "%s/organisation.json", dir);
        root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
        if (root == NULL) {
            log_error("seed: %s:%d: %s", file, jerr.line, jerr.text);
            return -1;
        }
        /* All or nothing: a half-loaded organisation would be worse than none. */
        if (store_begin(app->store) != STORE_OK) {
            json_decref(root);
            return -1;
        }
        rc = load_kind(app, root, &record_person, out);
        if (rc == 0)
            rc = load_kind(app, root, &record_room, out);
        if (rc == 0)
            rc = load_kind(app, root, &record_vehicle, out);
        if (rc == 0)
            rc = store_commit(app->store) == STORE_OK ? 0 : -1;
        else
            store_rollback(app->store);
        json_decref(root);
        if (rc != 0)
            return -1;
    } else {
        fprintf(out, "organisation already loaded (%lld people)\n", (long long)people);
    }
    struct print_ctx ctx = {app, out};
    fprintf(out, "feed URLs:\n");
    if (store_record_list(app->store, &record_person, print_feed, &ctx) != STORE_OK)
        return -1;
    if (url_is_loopback(app->public_url))
        fprintf(out, "These URLs name this machine's loopback address, which phones cannot reach.\n"
                     "For leaders' phones, serve with --public-url https://calendar.example.gov.cn\n"
                     "(the address phones use, e.g. behind nginx with HTTPS): see docs/DEPLOY.md.\n");
    return 0;
}
