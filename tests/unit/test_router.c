/*
 * test_router.c - http/router.c and http/reply.c through the in-process
 * entry points (api_invoke, api_route) on an app over a temporary
 * database: routing, 404/405, authentication and roles, request limits,
 * query decoding, and a resource created and read back.
 */
#include "check.h"

#include "convene/api.h"
#include "convene/app.h"
#include "convene/config.h"
#include "convene/store.h"
#include "convene/util.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[512];
static struct app app;

static const struct auth admin = {ROLE_ADMIN, "tok_admin", "test admin", ""};
static const struct auth secretary = {ROLE_SECRETARY, "tok_sec", "test secretary", ""};

/* Calls the API; returns the status and leaves the parsed body (or NULL) in *body. */
static int call(const char *method, const char *path, const char *body, const struct auth *who,
                struct api_response *res, json_t **json)
{
    api_invoke(&app, method, path, body, who, res);
    if (json != NULL)
        *json = res->body ? json_loadb(res->body, res->body_len, 0, NULL) : NULL;
    return res->status;
}

/* Just the status (and the body freed). */
static int status_of(const char *method, const char *path, const char *body,
                     const struct auth *who)
{
    struct api_response res;
    int status = call(method, path, body, who, &res, NULL);

    api_response_free(&res);
    return status;
}

static const char *error_code(json_t *body)
{
    return json_string_value(json_object_get(json_object_get(body, "error"), "code"));
}

/* A request built by hand for api_route. */
static void request_init(struct api_request *req, const char *method, const char *path)
{
    memset(req, 0, sizeof(*req));
    req->method = method;
    req->method_len = strlen(method);
    req->path = path;
    req->path_len = strlen(path);
}

static void set_authorization(struct api_request *req, const char *value)
{
    req->authorization = value;
    req->authorization_len = value ? strlen(value) : 0;
}

static int dispatch_status(const struct api_request *req, const struct auth *preauth,
                           char *code, size_t codelen)
{
    struct api_response res;
    json_t *body;

    memset(&res, 0, sizeof(res));
    api_route(&app, req, preauth, &res);
    if (code != NULL) {
        body = res.body ? json_loadb(res.body, res.body_len, 0, NULL) : NULL;
        snprintf(code, codelen, "%s", error_code(body) ? error_code(body) : "");
        json_decref(body);
    }
    api_response_free(&res);
    return res.status;
}

static void test_not_found(void)
{
    struct api_response res;
    json_t *body = NULL;

    CHECK_EQ_INT(call("GET", "/api/v1/nothing", NULL, &admin, &res, &body), 404);
    CHECK_EQ_STR(error_code(body), "not_found");
    CHECK(json_is_string(json_object_get(json_object_get(body, "error"), "message")));
    CHECK_EQ_STR(res.content_type, "application/json; charset=utf-8");
    json_decref(body);
    api_response_free(&res);

    CHECK_EQ_INT(status_of("GET", "/nothing", NULL, &admin), 404);
    CHECK_EQ_INT(status_of("GET", "/api/v1", NULL, &admin), 404);
    CHECK_EQ_INT(status_of("GET", "/api/v1/rooms/", NULL, &admin), 404);
    CHECK_EQ_INT(status_of("GET", "/api/v1/rooms/x/y", NULL, &admin), 404);
    CHECK_EQ_INT(status_of("GET", "/API/v1/rooms", NULL, &admin), 404);
    CHECK_EQ_INT(status_of("GET", "/api/v1/roomsx", NULL, &admin), 404);
    CHECK_EQ_INT(status_of("GET", "//api/v1/rooms", NULL, &admin), 404);
    /* A literal matches whole: neither a prefix nor a longer segment is the route. */
    {
        static const struct {
            const char *path;
            int status;
        } whole[] = {{"/healthz", 200}, {"/health", 404},  {"/healthzz", 404},
                     {"/healthz/", 404}, {"/feeds", 404}, {"/feeds/", 404},
                     {"/api/v1/room", 404}};
        for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
            CHECK_EQ_INT(status_of("GET", whole[i].path, NULL, &admin), whole[i].status);
    }
    /* A NUL byte (h2o decodes %00) ends neither a literal nor a pattern early. */
    {
        static const char nul_after[] = "/healthz\0";
        static const char nul_inside[] = "/heal\0hz";
        static const char nul_in_api[] = "/api/v1/rooms\0";
        struct api_request req;

        request_init(&req, "GET", nul_after);
        req.path_len = sizeof(nul_after) - 1;
        CHECK_EQ_INT(dispatch_status(&req, NULL, NULL, 0), 404);
        request_init(&req, "GET", nul_inside);
        req.path_len = sizeof(nul_inside) - 1;
        CHECK_EQ_INT(dispatch_status(&req, NULL, NULL, 0), 404);
        request_init(&req, "GET", nul_in_api);
        req.path_len = sizeof(nul_in_api) - 1;
        CHECK_EQ_INT(dispatch_status(&req, &admin, NULL, 0), 404);
    }
    /* Unknown paths answer 404 even without credentials: nothing to protect there. */
    CHECK_EQ_INT(status_of("GET", "/api/v1/nothing", NULL, NULL), 404);
    /* A path segment too long for a parameter does not match (nor overflow). */
    {
        char path[256] = "/api/v1/rooms/";
        memset(path + strlen(path), 'x', 150);
        CHECK_EQ_INT(status_of("GET", path, NULL, &admin), 404);
    }
}

/*
 * /t/<anything>: a one-tap link's page, public, the rest of the path of any
 * length reaching the handler uncaptured (ROUTE_REST): an unknown token is
 * the page's 404 in HTML, not the API's JSON.
 */
static void test_taplink_routes(void)
{
    static char path[5000];
    static const size_t lengths[] = {1, 21, 22, 23, 63, 64, 65, 200, 4000};
    struct api_response res;

    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        snprintf(path, sizeof(path), "/t/");
        memset(path + 3, 'A', lengths[i]);
        path[3 + lengths[i]] = '\0';
        api_invoke(&app, "GET", path, NULL, NULL, &res);
        CHECK_EQ_INT(res.status, 404);
        CHECK_EQ_STR(res.content_type, "text/html; charset=utf-8");
        CHECK(res.body != NULL && strstr(res.body, "链接无效") != NULL);
        api_response_free(&res);
        CHECK_EQ_INT(status_of("POST", path, NULL, NULL), 404);
    }
    CHECK_EQ_INT(status_of("DELETE", "/t/AAAAAAAAAAAAAAAAAAAAAA", NULL, &admin), 405);
    /* "/t" alone and "/tx/…" are not the page. */
    api_invoke(&app, "GET", "/tx/AAAAAAAAAAAAAAAAAAAAAA", NULL, NULL, &res);
    CHECK_EQ_STR(res.content_type, "application/json; charset=utf-8");
    api_response_free(&res);
}

/* GET / and /assets/<version>/<path...>: the console, public, the rest of the path captured. */
static void test_console_routes(void)
{
    char path[256];
    struct api_response res;

    api_invoke(&app, "GET", "/", NULL, NULL, &res);
    CHECK_EQ_INT(res.status, 200);
    CHECK_EQ_STR(res.content_type, "text/html; charset=utf-8");
    CHECK(res.nheaders > 0 && strcmp(res.headers[0].name, "content-security-policy") == 0);
    CHECK(strstr(res.headers[0].value, "frame-ancestors 'none'") != NULL);
    api_response_free(&res);
    CHECK_EQ_INT(status_of("GET", "/assets/v1/js/main.js", NULL, NULL), 200);
    CHECK_EQ_INT(status_of("GET", "/assets/v1/vendor/preact.js", NULL, NULL), 200);
    CHECK_EQ_INT(status_of("GET", "/assets/v1/", NULL, NULL), 404);
    CHECK_EQ_INT(status_of("GET", "/assets/v1", NULL, NULL), 404);
    CHECK_EQ_INT(status_of("GET", "/assets//js/main.js", NULL, NULL), 404);
    CHECK_EQ_INT(status_of("GET", "/assets/v1/js//main.js", NULL, NULL), 404);
    CHECK_EQ_INT(status_of("GET", "/assets/v1/js/../js/main.js", NULL, NULL), 404);
    CHECK_EQ_INT(status_of("GET", "/assets/v1/.hidden", NULL, NULL), 404);
    CHECK_EQ_INT(status_of("DELETE", "/assets/v1/js/main.js", NULL, &admin), 405);
    /* A rest longer than a parameter holds does not match, nor overflow. */
    snprintf(path, sizeof(path), "/assets/v1/");
    memset(path + strlen(path), 'x', 150);
    path[200] = '\0';
    CHECK_EQ_INT(status_of("GET", path, NULL, NULL), 404);
}

static void test_method_not_allowed(void)
{
    struct api_response res;
    json_t *body = NULL;

    CHECK_EQ_INT(call("DELETE", "/api/v1/rooms", NULL, &admin, &res, &body), 405);
    CHECK_EQ_STR(error_code(body), "method_not_allowed");
    CHECK(res.allow != NULL);
    if (res.allow != NULL) {
        CHECK(strstr(res.allow, "GET") != NULL);
        CHECK(strstr(res.allow, "POST") != NULL);
        CHECK(strstr(res.allow, "DELETE") == NULL);
        CHECK(strstr(res.allow, "PATCH") == NULL);
    }
    json_decref(body);
    api_response_free(&res);

    CHECK_EQ_INT(call("PUT", "/api/v1/rooms/room_1", "{}", &admin, &res, NULL), 405);
    CHECK(res.allow != NULL);
    if (res.allow != NULL) {
        CHECK(strstr(res.allow, "GET") != NULL);
        CHECK(strstr(res.allow, "PATCH") != NULL);
        CHECK(strstr(res.allow, "DELETE") != NULL);
        CHECK(strstr(res.allow, "POST") == NULL);
    }
    api_response_free(&res);

    CHECK_EQ_INT(call("POST", "/healthz", NULL, NULL, &res, NULL), 405);
    CHECK(res.allow != NULL && strcmp(res.allow, "GET") == 0);
    api_response_free(&res);
    /* Methods are case-sensitive (RFC 9110). */
    CHECK_EQ_INT(status_of("get", "/healthz", NULL, NULL), 405);
}

static void test_authentication(void)
{
    struct api_request req;
    char code[64], token[TOKEN_STR_MAX], id[ID_STR_MAX], header[128];

    request_init(&req, "GET", "/api/v1/rooms");
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 401);
    CHECK_EQ_STR(code, "unauthorized");

    set_authorization(&req, "Bearer cvn_AAAAAAAAAAAAAAAAAAAAAA");
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 401);
    set_authorization(&req, "Basic YWRtaW46YWRtaW4=");
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 401);
    set_authorization(&req, "Bearer ");
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 401);
    set_authorization(&req, "");
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 401);

    /* A real token works; scheme names are case-insensitive. */
    CHECK_EQ_INT(app_token_create(&app, "admin", NULL, "unit test", token, id), 0);
    snprintf(header, sizeof(header), "Bearer %s", token);
    set_authorization(&req, header);
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 200);
    snprintf(header, sizeof(header), "bearer %s", token);
    set_authorization(&req, header);
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 200);
    /* The token must match whole. */
    snprintf(header, sizeof(header), "Bearer %sx", token);
    set_authorization(&req, header);
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 401);
    header[strlen(header) - 2] = '\0';
    set_authorization(&req, header);
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 401);

    /* A secretary's token reads rooms but may not create them. */
    char sec_token[TOKEN_STR_MAX], sec_id[ID_STR_MAX];
    CHECK_EQ_INT(app_token_create(&app, "secretary", NULL, "unit secretary", sec_token, sec_id),
                 0);
    snprintf(header, sizeof(header), "Bearer %s", sec_token);
    set_authorization(&req, header);
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 200);
    request_init(&req, "POST", "/api/v1/rooms");
    set_authorization(&req, header);
    req.body = "{\"name\":\"Nope\",\"capacity\":3}";
    req.body_len = strlen(req.body);
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 403);
    CHECK_EQ_STR(code, "forbidden");

    /* Revoked: 401 like an unknown token. */
    CHECK_EQ_INT(store_token_revoke(app.store, id, clock_wall_s()), STORE_OK);
    request_init(&req, "GET", "/api/v1/rooms");
    snprintf(header, sizeof(header), "Bearer %s", token);
    set_authorization(&req, header);
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 401);

    /*
     * Revoked by another process (another connection to the file): the
     * remembered token is dropped too, on the next request.
     */
    char other_token[TOKEN_STR_MAX], other_id[ID_STR_MAX];
    CHECK_EQ_INT(app_token_create(&app, "admin", NULL, "unit other", other_token, other_id), 0);
    request_init(&req, "GET", "/api/v1/rooms");
    snprintf(header, sizeof(header), "Bearer %s", other_token);
    set_authorization(&req, header);
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 200);
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 200); /* now remembered */
    {
        sqlite3 *other = NULL;
        char sql[160];
        CHECK_EQ_INT(sqlite3_open(app.cfg.db_path, &other), SQLITE_OK);
        snprintf(sql, sizeof(sql), "UPDATE tokens SET revoked_at = 1 WHERE id = '%s'", other_id);
        CHECK_EQ_INT(sqlite3_exec(other, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(other);
    }
    usleep(2000); /* store_data_version reuses its answer for up to 1 ms */
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 401);

    /* Public routes need no token. */
    request_init(&req, "GET", "/healthz");
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 200);
    /* preauth is used as is. */
    request_init(&req, "GET", "/api/v1/rooms");
    CHECK_EQ_INT(dispatch_status(&req, &admin, code, sizeof(code)), 200);
}

static void test_roles(void)
{
    const struct auth leader = {ROLE_LEADER, "tok_leader", "leader", "per_self"};
    struct api_response res;
    json_t *body = NULL;

    CHECK_EQ_INT(call("POST", "/api/v1/rooms", "{\"name\":\"Nope\",\"capacity\":3}", &secretary,
                      &res, &body),
                 403);
    CHECK_EQ_STR(error_code(body), "forbidden");
    json_decref(body);
    api_response_free(&res);
    CHECK_EQ_INT(status_of("GET", "/api/v1/rooms", NULL, &secretary), 200);
    CHECK_EQ_INT(status_of("POST", "/api/v1/tokens", "{\"role\":\"admin\",\"name\":\"x\"}",
                           &secretary),
                 403);
    /* A leader reaches their own person only. */
    CHECK_EQ_INT(status_of("GET", "/api/v1/people", NULL, &leader), 403);
    CHECK_EQ_INT(status_of("GET", "/api/v1/people/per_other", NULL, &leader), 403);
    CHECK_EQ_INT(status_of("GET", "/api/v1/people/per_self", NULL, &leader), 404);
    /* A caller with no role at all. */
    const struct auth nobody = {ROLE_NONE, "", "", ""};
    CHECK_EQ_INT(status_of("GET", "/api/v1/rooms", NULL, &nobody), 403);
}

static void test_create_and_get(void)
{
    struct api_response res;
    json_t *body = NULL;
    char id[ID_STR_MAX * 2] = "", path[128], etag[48] = "";

    CHECK_EQ_INT(call("POST", "/api/v1/rooms",
                      "{\"name\":\"\xe7\xac\xac\xe4\xb8\x80\xe4\xbc\x9a\xe8\xae\xae\xe5\xae\xa4\","
                      "\"capacity\":12,\"features\":[\"video\"]}",
                      &admin, &res, &body),
                 201);
    CHECK(json_is_object(body));
    if (json_is_string(json_object_get(body, "id")))
        snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(body, "id")));
    CHECK(strncmp(id, "room_", 5) == 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(body, "version")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(body, "setup_minutes")), 0);
    CHECK(json_is_string(json_object_get(body, "feed_url")));
    CHECK(json_is_string(json_object_get(body, "webcal_url")));
    CHECK_EQ_STR(res.etag, "\"1\"");
    snprintf(etag, sizeof(etag), "%s", res.etag);
    json_decref(body);
    api_response_free(&res);

    snprintf(path, sizeof(path), "/api/v1/rooms/%s", id);
    CHECK_EQ_INT(call("GET", path, NULL, &admin, &res, &body), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(body, "id")), id);
    CHECK_EQ_STR(json_string_value(json_object_get(body, "name")),
                 "\xe7\xac\xac\xe4\xb8\x80\xe4\xbc\x9a\xe8\xae\xae\xe5\xae\xa4");
    CHECK_EQ_INT(json_integer_value(json_object_get(body, "capacity")), 12);
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(body, "features"), 0)),
                 "video");
    CHECK_EQ_STR(res.etag, etag);
    json_decref(body);
    api_response_free(&res);
    /* Secretaries read resources too. */
    CHECK_EQ_INT(status_of("GET", path, NULL, &secretary), 200);

    /* In the list. */
    CHECK_EQ_INT(call("GET", "/api/v1/rooms", NULL, &admin, &res, &body), 200);
    CHECK(json_is_array(body));
    int found = 0;
    size_t i;
    json_t *item;
    json_array_foreach(body, i, item) {
        if (strcmp(json_string_value(json_object_get(item, "id")), id) == 0)
            found = 1;
    }
    CHECK(found);
    json_decref(body);
    api_response_free(&res);

    /* Refusals. */
    CHECK_EQ_INT(call("POST", "/api/v1/rooms", "{\"name\":\"R\",\"capacity\":12,\"colour\":1}",
                      &admin, &res, &body),
                 400);
    CHECK_EQ_STR(error_code(body), "unknown_field");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(body, "error"), "field")),
                 "colour");
    json_decref(body);
    api_response_free(&res);
    CHECK_EQ_INT(status_of("POST", "/api/v1/rooms", "{\"name\":\"R\"}", &admin), 422);
    CHECK_EQ_INT(status_of("POST", "/api/v1/rooms", "[1]", &admin), 400);
    CHECK_EQ_INT(status_of("POST", "/api/v1/rooms", "{", &admin), 400);
    CHECK_EQ_INT(status_of("POST", "/api/v1/rooms", NULL, &admin), 400);
    CHECK_EQ_INT(status_of("GET", "/api/v1/rooms/room_nope", NULL, &admin), 404);
    /* A room id is not a vehicle id. */
    snprintf(path, sizeof(path), "/api/v1/vehicles/%s", id);
    CHECK_EQ_INT(status_of("GET", path, NULL, &admin), 404);

    /* PATCH with a stale If-Match: 412, and nothing changed. */
    struct api_request req;
    snprintf(path, sizeof(path), "/api/v1/rooms/%s", id);
    request_init(&req, "PATCH", path);
    req.body = "{\"capacity\":20}";
    req.body_len = strlen(req.body);
    req.if_match = "\"7\"";
    req.if_match_len = 3;
    CHECK_EQ_INT(dispatch_status(&req, &admin, NULL, 0), 412);
    req.if_match = etag;
    req.if_match_len = strlen(etag);
    CHECK_EQ_INT(dispatch_status(&req, &admin, NULL, 0), 200);
    CHECK_EQ_INT(call("GET", path, NULL, &admin, &res, &body), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(body, "capacity")), 20);
    CHECK_EQ_INT(json_integer_value(json_object_get(body, "version")), 2);
    CHECK_EQ_STR(res.etag, "\"2\"");
    json_decref(body);
    api_response_free(&res);
}

/* Percent-encodes every byte of s (upper- or lower-case hex). */
static void percent_encode(const char *s, char *out, size_t cap, int lower)
{
    out[0] = '\0';
    for (; *s; s++)
        snprintf(out + strlen(out), cap - strlen(out), lower ? "%%%02x" : "%%%02X",
                 (unsigned char)*s);
}

static int create_room(const char *name, char id[ID_STR_MAX * 2])
{
    struct api_response res;
    json_t *body = NULL;
    char json[128];
    int status;

    snprintf(json, sizeof(json), "{\"name\":\"%s\",\"capacity\":5}", name);
    status = call("POST", "/api/v1/rooms", json, &admin, &res, &body);
    snprintf(id, ID_STR_MAX * 2, "%s",
             json_string_value(json_object_get(body, "id")) ? json_string_value(
                                                                  json_object_get(body, "id"))
                                                            : "");
    json_decref(body);
    api_response_free(&res);
    return status;
}

static int create_block(const char *room_id, const char *start, const char *end)
{
    char json[256];

    snprintf(json, sizeof(json),
             "{\"resource\":{\"type\":\"room\",\"id\":\"%s\"},\"start\":\"%s\",\"end\":\"%s\","
             "\"tz\":\"Asia/Shanghai\",\"reason\":\"renovation\"}",
             room_id, start, end);
    return status_of("POST", "/api/v1/blocks", json, &admin);
}

/* GET path; returns the number of items in the array answered, or -status on error. */
static int list_count(const char *path, const char *room_id)
{
    struct api_response res;
    json_t *body = NULL;
    int status = call("GET", path, NULL, &admin, &res, &body);
    int n = -status;

    if (status == 200 && json_is_array(body)) {
        size_t i;
        json_t *item;
        n = (int)json_array_size(body);
        json_array_foreach(body, i, item) {
            const char *rid = json_string_value(
                json_object_get(json_object_get(item, "resource"), "id"));
            if (room_id != NULL && (rid == NULL || strcmp(rid, room_id) != 0))
                n = -1000; /* an item of another room slipped through */
        }
    }
    json_decref(body);
    api_response_free(&res);
    return n;
}

static void test_query_params(void)
{
    char a[ID_STR_MAX * 2], b[ID_STR_MAX * 2], enc[256], path[512];

    CHECK_EQ_INT(create_room("Query A", a), 201);
    CHECK_EQ_INT(create_room("Query B", b), 201);
    CHECK_EQ_INT(create_block(a, "2026-12-07T09:00:00", "2026-12-07T10:00:00"), 201);
    CHECK_EQ_INT(create_block(a, "2026-12-08T09:00:00", "2026-12-08T10:00:00"), 201);
    CHECK_EQ_INT(create_block(b, "2026-12-07T09:00:00", "2026-12-07T12:00:00"), 201);

    /* Plain, fully percent-encoded in both cases, and among other parameters. */
    snprintf(path, sizeof(path), "/api/v1/blocks?room=%s", a);
    CHECK_EQ_INT(list_count(path, a), 2);
    percent_encode(a, enc, sizeof(enc), 0);
    snprintf(path, sizeof(path), "/api/v1/blocks?room=%s", enc);
    CHECK_EQ_INT(list_count(path, a), 2);
    percent_encode(b, enc, sizeof(enc), 1);
    snprintf(path, sizeof(path), "/api/v1/blocks?x=1&room=%s&y", enc);
    CHECK_EQ_INT(list_count(path, b), 1);
    /* "room_" with only the underscore escaped. */
    snprintf(path, sizeof(path), "/api/v1/blocks?room=room%%5F%s", a + 5);
    CHECK_EQ_INT(list_count(path, a), 2);
    /* A parameter name must match whole. */
    snprintf(path, sizeof(path), "/api/v1/blocks?rooms=%s", a);
    CHECK_EQ_INT(list_count(path, NULL), 3);
    CHECK_EQ_INT(list_count("/api/v1/blocks", NULL), 3);
    CHECK_EQ_INT(list_count("/api/v1/blocks?room=room_nope", NULL), 0);

    /* Malformed escapes, an escaped NUL, or a value too long: 400. */
    CHECK_EQ_INT(list_count("/api/v1/blocks?room=%zz", NULL), -400);
    CHECK_EQ_INT(list_count("/api/v1/blocks?room=abc%4", NULL), -400);
    CHECK_EQ_INT(list_count("/api/v1/blocks?room=abc%", NULL), -400);
    CHECK_EQ_INT(list_count("/api/v1/blocks?room=a%00b", NULL), -400);
    {
        char longq[256] = "/api/v1/blocks?room=";
        memset(longq + strlen(longq), 'r', 100);
        CHECK_EQ_INT(list_count(longq, NULL), -400);
    }
}

static void test_limits(void)
{
    struct api_request req;
    char code[64];
    char *body;

    request_init(&req, "GET", "/healthz");
    req.header_bytes = API_MAX_HEADERS;
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 200);
    req.header_bytes = API_MAX_HEADERS + 1;
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 400);
    CHECK_EQ_STR(code, "header_too_large");
    request_init(&req, "GET", "/api/v1/rooms");
    req.header_bytes = 64 * 1024;
    CHECK_EQ_INT(dispatch_status(&req, &admin, code, sizeof(code)), 400);

    /* Exactly 1 MiB passes the limit (and is then judged on content). */
    body = xmalloc(API_MAX_BODY + 2);
    memset(body, ' ', API_MAX_BODY + 1);
    body[0] = '{';
    body[API_MAX_BODY - 1] = '}';
    body[API_MAX_BODY] = '\0';
    CHECK_EQ_INT(status_of("POST", "/api/v1/rooms", body, &admin), 422);
    /* One byte more: 413, before any parsing or authentication. */
    body[API_MAX_BODY] = ' ';
    body[API_MAX_BODY + 1] = '\0';
    {
        struct api_response res;
        json_t *json = NULL;
        CHECK_EQ_INT(call("POST", "/api/v1/rooms", body, &admin, &res, &json), 413);
        CHECK_EQ_STR(error_code(json), "too_large");
        json_decref(json);
        api_response_free(&res);
    }
    request_init(&req, "POST", "/api/v1/rooms");
    req.body = body;
    req.body_len = API_MAX_BODY + 1;
    CHECK_EQ_INT(dispatch_status(&req, NULL, code, sizeof(code)), 413);
    free(body);
}

int main(void)
{
    struct config cfg;
    const char *src = __FILE__;
    const char *tail = strstr(src, "tests/unit/");

    check_tmpdir(dir, sizeof(dir));
    config_defaults(&cfg);
    snprintf(cfg.db_path, sizeof(cfg.db_path), "%s/router.db", dir);
    if (tail != NULL)
        snprintf(cfg.calendars_dir, sizeof(cfg.calendars_dir), "%.*scalendars",
                 (int)(tail - src), src);
    cfg.durability = DURABILITY_NORMAL;
    if (app_open(&app, &cfg) != 0) {
        fprintf(stderr, "app_open failed\n");
        check_rmdir(dir);
        return 2;
    }

    test_not_found();
    test_console_routes();
    test_taplink_routes();
    test_method_not_allowed();
    test_authentication();
    test_roles();
    test_create_and_get();
    test_query_params();
    test_limits();

    app_close(&app);
    check_rmdir(dir);
    return check_finish();
}
