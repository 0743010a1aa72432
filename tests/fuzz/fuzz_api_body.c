/*
 * fuzz_api_body.c - JSON request bodies of every write endpoint, through
 * the router, validation and handlers the server runs. The first byte picks
 * the endpoint; the rest, with placeholders (@P0, @R0, @E0, ...; see
 * fuzz_app.h) replaced by seeded ids, is the body. The call is made as
 * admin (api_invoke's path: api_route with a preset identity), but with
 * the body in an allocation of exactly its length, not NUL-terminated, as
 * h2o delivers it, so any read past its end is caught.
 *
 * Invariants checked on every answer: a status was set, errors (4xx/5xx)
 * carry the JSON error shape, and a 500 never happens (a storage failure
 * on a valid temp database is a bug). With FUZZ_TRACE set in the
 * environment every answer is printed (to check what a corpus reaches).
 */
#include "fuzz_app.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct endpoint {
    const char *method;
    const char *path; /* with placeholders */
};

static const struct endpoint endpoints[] = {
    {"POST", "/api/v1/people"},          {"POST", "/api/v1/rooms"},
    {"POST", "/api/v1/vehicles"},        {"POST", "/api/v1/blocks"},
    {"POST", "/api/v1/events"},          {"POST", "/api/v1/tokens"},
    {"POST", "/api/v1/webhooks"},        {"POST", "/api/v1/availability"},
    {"PATCH", "/api/v1/events/@E0"},     {"PATCH", "/api/v1/rooms/@R0"},
    {"POST", "/api/v1/events/@E0/rsvp"}, {"PATCH", "/api/v1/events/@E0/occurrences/@RID"},
    {"PATCH", "/api/v1/people/@P1"},     {"PATCH", "/api/v1/vehicles/@V0"},
    {"PATCH", "/api/v1/webhooks/@W0"},   {"POST", "/api/v1/webhooks/@W0/replay"},
    {"PATCH", "/api/v1/events/@E1"},     {"POST", "/api/v1/import?person=@P1"},
    {"PUT", "/api/v1/workdays/2027"},
};

/* An error answer must be {"error": {"code": string, "message": string, ...}}. */
static void check_error_shape(const struct api_response *res)
{
    json_t *doc = json_loadb(res->body, res->body_len, 0, NULL);
    json_t *e = json_object_get(doc, "error");

    if (!json_is_string(json_object_get(e, "code")) ||
        !json_is_string(json_object_get(e, "message"))) {
        fprintf(stderr, "status %d without the JSON error shape: %.*s\n", res->status,
                (int)res->body_len, res->body ? res->body : "");
        abort();
    }
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_request req;
    struct api_response res;
    size_t path_len, body_len;
    char *path, *expanded, *body;

    if (size < 1 || size > API_MAX_BODY)
        return -1;
    fuzz_app_tick();
    const struct endpoint *ep = &endpoints[data[0] % (sizeof(endpoints) / sizeof(endpoints[0]))];
    path = fuzz_app_expand((const uint8_t *)ep->path, strlen(ep->path), &path_len);
    expanded = fuzz_app_expand(data + 1, size - 1, &body_len);
    body = fuzz_dup_exact(expanded, body_len);
    free(expanded);

    memset(&req, 0, sizeof(req));
    req.method = ep->method;
    req.method_len = strlen(ep->method);
    req.path = path;
    req.path_len = path_len;
    char *q = memchr(path, '?', path_len);
    if (q != NULL) {
        req.path_len = (size_t)(q - path);
        req.query = q + 1;
        req.query_len = path_len - req.path_len - 1;
    }
    req.body = body;
    req.body_len = body_len;
    if (strstr(ep->path, "import") != NULL) {
        req.content_type = "text/calendar";
        req.content_type_len = strlen(req.content_type);
    } else {
        req.content_type = "application/json";
        req.content_type_len = strlen(req.content_type);
    }
    memset(&res, 0, sizeof(res));
    api_route(fuzz_app_get(), &req, fuzz_app_admin(), &res);

    static int trace = -1;
    if (trace < 0)
        trace = getenv("FUZZ_TRACE") != NULL; /* replaying a corpus: show each answer */
    if (trace)
        fprintf(stderr, "%s %s -> %d %.*s\n", ep->method, path, res.status,
                (int)(res.body_len > 200 ? 200 : res.body_len), res.body ? res.body : "");
    if (res.status < 200 || res.status > 599 || res.status == 500) {
        fprintf(stderr, "%s %s -> %d %.*s\n", ep->method, path, res.status, (int)res.body_len,
                res.body ? res.body : "");
        abort();
    }
    if (res.status >= 400)
        check_error_shape(&res);
    api_response_free(&res);
    free(body);
    free(path);
    return 0;
}
