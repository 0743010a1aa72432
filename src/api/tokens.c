/*
 * tokens.c - POST /api/v1/tokens (admin): mint a token for a role, shown
 * once; GET /api/v1/tokens: the live ones, without the token or its hash;
 * DELETE /api/v1/tokens/{id}: revoke it.
 */
#include "handlers.h"

#include "convene/auth.h"
#include "convene/body.h"
#include "convene/store.h"
#include "convene/util.h"

#include <string.h>

static const char *const token_members[] = {"role", "person", "name", NULL};

/* Checks the body; 0 with the fields set, or -1 with err. */
static int token_validate(struct app *app, json_t *body, const char **role, const char **person,
                          const char **name, struct api_error *err)
{
    int has_person;

    if (body_only_members(body, token_members, err) != 0 ||
        body_member_string(body, "role", 1, 16, role, err) < 0 ||
        body_member_string(body, "name", 1, 100, name, err) < 0 ||
        (has_person = body_member_string(body, "person", 0, ID_STR_MAX - 1, person, err)) < 0)
        return -1;
    enum role r = auth_role_parse(*role);
    if (r == ROLE_NONE)
        return api_error_set(err, 422, "invalid", "role",
                             "'role' must be one of: admin, secretary, leader, driver, canteen");
    if (!has_person) {
        *person = NULL;
        /* A leader's or driver's rights are about their own person. */
        if (r == ROLE_LEADER || r == ROLE_DRIVER)
            return api_error_set(err, 422, "required", "person",
                                 "a %s token needs 'person'", *role);
        return 0;
    }
    int rc = store_record_exists(app->store, &record_person, *person);
    if (rc == STORE_NOTFOUND)
        return api_error_set(err, 422, "unknown_id", "person", "no person with id '%s'", *person);
    if (rc != STORE_OK)
        return api_error_set(err, 500, "storage", NULL, "the database failed");
    return 0;
}

void api_tokens_create(struct api_call *call)
{
    json_t *body = api_body_object(call);
    const char *role, *person = NULL, *name;
    struct api_error err;
    char token[TOKEN_STR_MAX], id[ID_STR_MAX];

    if (body == NULL)
        return;
    if (token_validate(call->app, body, &role, &person, &name, &err) != 0) {
        api_reply_api_error(call, &err);
        return;
    }
    if (app_token_create(call->app, role, person, name, token, id) != 0) {
        api_reply_store_error(call);
        return;
    }
    api_reply_json(call, 201,
                   json_pack("{s:s, s:s, s:s, s:s, s:s?}", "id", id, "token", token, "role", role,
                             "name", name, "person", person),
                   -1);
}

static int list_one(const struct token_record *tok, void *arg)
{
    char created[TIME_UTC_STR];

    time_utc_format(tok->created_at, created);
    json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:s?, s:s}", "id", tok->id, "name",
                                         tok->name, "role", tok->role, "person",
                                         tok->person[0] ? tok->person : NULL, "created", created));
    return 0;
}

void api_tokens_list(struct api_call *call)
{
    json_t *items = json_array();

    if (store_token_list(call->app->store, list_one, items) != STORE_OK) {
        json_decref(items);
        api_reply_store_error(call);
        return;
    }
    api_reply_json(call, 200, items, -1);
}

void api_tokens_revoke(struct api_call *call)
{
    int rc = store_token_revoke(call->app->store, call->params[0], clock_wall_s());

    if (rc == STORE_NOTFOUND)
        api_reply_error(call, 404, "not_found", NULL, "no live token with id '%s'",
                        call->params[0]);
    else if (rc != STORE_OK)
        api_reply_store_error(call);
    else
        api_reply_empty(call, 204);
}
