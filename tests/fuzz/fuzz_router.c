/*
 * fuzz_router.c - the router and path parsing: arbitrary method, path,
 * query and headers through api_route with no preset identity, so the
 * Authorization header is authenticated as over HTTP. Input lines:
 *
 *   0 method   1 path[?query]   2 Authorization   3 If-None-Match
 *   4 Accept-Encoding   5 If-Modified-Since   6 If-Match   rest: body
 *
 * An empty header line leaves that header out. Placeholders (see
 * fuzz_app.h) name seeded ids, feed tokens (/feeds/@FP0) and bearer
 * secrets ("Bearer @ADMIN"), so the fuzzer reaches past 401 and 404.
 *
 * Invariants: a status is set, no 500, errors carry the JSON error shape,
 * a 200 feed is a VCALENDAR, a 405 names the allowed methods, and no path
 * with a NUL byte reaches a handler.
 */
#include "fuzz_app.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NLINES 7

static void fail(const struct api_request *req, const struct api_response *res, const char *what)
{
    fprintf(stderr, "%s: %.*s %.*s -> %d %.*s\n", what, (int)req->method_len, req->method,
            (int)req->path_len, req->path, res->status,
            (int)(res->body_len > 400 ? 400 : res->body_len), res->body ? res->body : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_request req;
    struct api_response res;
    char *line[NLINES] = {NULL};
    size_t len[NLINES] = {0};
    char *text, *body;
    size_t text_len, at = 0, n;

    if (size > 64 * 1024)
        return -1;
    fuzz_app_tick();
    text = fuzz_app_expand(data, size, &text_len);
    /* Each field in its own exact-size allocation: over-reads are caught. */
    for (n = 0; n < NLINES && at <= text_len; n++) {
        const char *nl = memchr(text + at, '\n', text_len - at);
        size_t end = nl ? (size_t)(nl - text) : text_len;
        len[n] = end - at;
        line[n] = fuzz_dup_exact(text + at, len[n]);
        at = end + 1;
        if (nl == NULL)
            break;
    }
    body = at < text_len ? fuzz_dup_exact(text + at, text_len - at) : NULL;

    memset(&req, 0, sizeof(req));
    req.method = line[0] ? line[0] : "";
    req.method_len = len[0];
    req.path = line[1] ? line[1] : "";
    req.path_len = len[1];
    const char *q = line[1] ? memchr(line[1], '?', len[1]) : NULL;
    if (q != NULL) {
        req.path_len = (size_t)(q - line[1]);
        req.query = q + 1;
        req.query_len = len[1] - req.path_len - 1;
    }
#define HEADER(i, field)                                                                           \
    do {                                                                                           \
        if (line[i] != NULL) {                                                                     \
            req.field = line[i];                                                                   \
            req.field##_len = len[i];                                                              \
            req.header_bytes += len[i] + 16;                                                       \
        }                                                                                          \
    } while (0)
    HEADER(2, authorization);
    HEADER(3, if_none_match);
    HEADER(4, accept_encoding);
    HEADER(5, if_modified_since);
    HEADER(6, if_match);
#undef HEADER
    req.body = body;
    req.body_len = body ? text_len - at : 0;

    memset(&res, 0, sizeof(res));
    api_route(fuzz_app_get(), &req, NULL, &res);

    if (res.status < 200 || res.status > 599 || res.status == 500)
        fail(&req, &res, "bad status");
    if (res.status >= 400) {
        json_t *doc = json_loadb(res.body, res.body_len, 0, NULL);
        json_t *e = json_object_get(doc, "error");
        if (!json_is_string(json_object_get(e, "code")) ||
            !json_is_string(json_object_get(e, "message")))
            fail(&req, &res, "error without the JSON error shape");
        json_decref(doc);
    }
    /* A NUL in an id would name another record once read as a C string. */
    if (res.route_index >= 0 && memchr(req.path, '\0', req.path_len) != NULL)
        fail(&req, &res, "a path with a NUL byte reached a handler");
    if (res.status == 405 && (res.allow == NULL || res.allow[0] == '\0'))
        fail(&req, &res, "405 without Allow");
    if (res.status == 200 && res.route != NULL && strcmp(res.route, "/feeds/:token") == 0 &&
        res.body_len > 0 && res.nheaders > 0 &&
        strcmp(res.headers[res.nheaders - 1].name, "content-encoding") != 0 &&
        (res.body_len < 15 || memcmp(res.body, "BEGIN:VCALENDAR", 15) != 0))
        fail(&req, &res, "a feed that is not a VCALENDAR");
    api_response_free(&res);
    for (size_t i = 0; i < NLINES; i++)
        free(line[i]);
    free(body);
    free(text);
    return 0;
}
