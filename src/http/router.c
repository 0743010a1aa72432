/*
 * router.c - the route table and the dispatch of one request: limits,
 * path matching, authentication, authorisation, then the handler.
 * Adding an endpoint means adding a line to `routes` below.
 */
#include "convene/auth.h"
#include "convene/api.h"
#include "convene/record.h"
#include "convene/util.h"

#include "../api/handlers.h"

#include <stdlib.h>
#include <string.h>

#define ROUTE_PUBLIC 0x1 /* no bearer token (health, metrics, feeds) */
#define ROUTE_SELF 0x2   /* a leader or driver may call it for their own person id */
/*
 * A last "*" matches the rest of the path, of any length, without capturing
 * it (the handler reads req->path): a one-tap link's page answers garbage
 * tokens of every length itself, as a page, not as the API's JSON 404.
 */
#define ROUTE_REST 0x4

#define ANY_ROLE (ROLE_ADMIN | ROLE_SECRETARY | ROLE_LEADER | ROLE_DRIVER)
#define OFFICE (ROLE_ADMIN | ROLE_SECRETARY)
/* Signing in and out, and one's own password, concern every kind of account. */
#define EVERY_ROLE (ANY_ROLE | ROLE_CANTEEN)

typedef void (*api_handler)(struct api_call *call);

struct route {
    const char *method;
    const char *pattern; /* segments; ":name" captures one, a last "*" the rest */
    unsigned roles;      /* mask of enum role allowed */
    unsigned flags;
    api_handler handler;
    const void *data;    /* handed to the handler as call->route_data */
};

/* The five CRUD routes plus feed rotation of a simple resource kind. */
#define RESOURCE_ROUTES(plural, type)                                                         \
    {"POST", "/api/v1/" plural, ROLE_ADMIN, 0, api_resource_create, &type},                   \
    {"GET", "/api/v1/" plural, OFFICE, 0, api_resource_list, &type},                          \
    {"GET", "/api/v1/" plural "/:id", OFFICE, ROUTE_SELF, api_resource_get, &type},           \
    {"PATCH", "/api/v1/" plural "/:id", ROLE_ADMIN, 0, api_resource_patch, &type},            \
    {"DELETE", "/api/v1/" plural "/:id", ROLE_ADMIN, 0, api_resource_delete, &type},          \
    {"POST", "/api/v1/" plural "/:id/feed-token", ROLE_ADMIN, ROUTE_SELF,                     \
     api_resource_feed_token, &type}

static const struct route routes[] = {
    {"GET", "/", 0, ROUTE_PUBLIC, api_console_index, NULL},
    {"GET", "/assets/:version/*", 0, ROUTE_PUBLIC, api_console_asset, NULL},
    {"GET", "/healthz", 0, ROUTE_PUBLIC, api_healthz, NULL},
    {"GET", "/metrics", 0, ROUTE_PUBLIC, api_metrics, NULL},
    /* The holiday feed is public data; it must precede the secret-token pattern. */
    {"GET", "/feeds/holidays.ics", 0, ROUTE_PUBLIC, api_holidays_feed, NULL},
    {"GET", "/feeds/:token", 0, ROUTE_PUBLIC, api_feed_get, NULL},
    {"GET", "/t/*", 0, ROUTE_PUBLIC | ROUTE_REST, api_taplink_get, NULL},
    {"POST", "/t/*", 0, ROUTE_PUBLIC | ROUTE_REST, api_taplink_post, NULL},
    {"GET", "/api/v1/workdays", ANY_ROLE, 0, api_workdays, NULL},
    {"GET", "/api/v1/workdays/:year", ANY_ROLE, 0, api_workdays_year_get, NULL},
    {"PUT", "/api/v1/workdays/:year", ROLE_ADMIN, 0, api_workdays_year_put, NULL},
    {"GET", "/api/v1/freebusy", OFFICE, 0, api_freebusy, NULL},
    {"POST", "/api/v1/availability", OFFICE, 0, api_availability, NULL},
    {"POST", "/api/v1/session", 0, ROUTE_PUBLIC, api_session_create, NULL},
    {"GET", "/api/v1/session", EVERY_ROLE, 0, api_session_get, NULL},
    {"DELETE", "/api/v1/session", EVERY_ROLE, 0, api_session_delete, NULL},
    {"PUT", "/api/v1/people/:id/password", EVERY_ROLE, 0, api_password_set, NULL},
    {"GET", "/api/v1/changes", EVERY_ROLE, 0, api_changes, NULL},
    {"POST", "/api/v1/tokens", ROLE_ADMIN, 0, api_tokens_create, NULL},
    {"GET", "/api/v1/tokens", ROLE_ADMIN, 0, api_tokens_list, NULL},
    {"DELETE", "/api/v1/tokens/:id", ROLE_ADMIN, 0, api_tokens_revoke, NULL},
    RESOURCE_ROUTES("people", record_person),
    RESOURCE_ROUTES("rooms", record_room),
    RESOURCE_ROUTES("vehicles", record_vehicle),
    {"GET", "/api/v1/approval-rules", ROLE_ADMIN, 0, api_approval_rules_get, NULL},
    {"PUT", "/api/v1/approval-rules", ROLE_ADMIN, 0, api_approval_rules_put, NULL},
    {"DELETE", "/api/v1/approval-rules", ROLE_ADMIN, 0, api_approval_rules_delete, NULL},
    /*
     * Open to every role that reaches meetings: an approver acts through whatever account is
     * theirs, and who may decide is the booking layer's rule. Not canteen: its accounts read
     * meal counts and nothing else (CONTRACT section 2).
     */
    {"GET", "/api/v1/approvals", ANY_ROLE, 0, api_approvals_list, NULL},
    {"POST", "/api/v1/approvals/:id/decision", ANY_ROLE, 0, api_approvals_decide, NULL},
    {"POST", "/api/v1/departments", ROLE_ADMIN, 0, api_departments_create, NULL},
    {"GET", "/api/v1/departments", OFFICE, 0, api_departments_list, NULL},
    {"GET", "/api/v1/departments/:id", OFFICE, 0, api_departments_get, NULL},
    {"PATCH", "/api/v1/departments/:id", ROLE_ADMIN, 0, api_departments_patch, NULL},
    {"DELETE", "/api/v1/departments/:id", ROLE_ADMIN, 0, api_departments_delete, NULL},
    {"POST", "/api/v1/blocks", OFFICE, 0, api_blocks_create, NULL},
    {"GET", "/api/v1/blocks", OFFICE, 0, api_blocks_list, NULL},
    {"GET", "/api/v1/blocks/:id", OFFICE, 0, api_blocks_get, NULL},
    {"DELETE", "/api/v1/blocks/:id", OFFICE, 0, api_blocks_delete, NULL},
    {"POST", "/api/v1/events", OFFICE, 0, api_events_create, NULL},
    {"GET", "/api/v1/events/:id", ANY_ROLE, 0, api_events_get, NULL},
    {"PATCH", "/api/v1/events/:id", OFFICE, 0, api_events_patch, NULL},
    {"DELETE", "/api/v1/events/:id", OFFICE, 0, api_events_delete, NULL},
    {"POST", "/api/v1/events/:id/rsvp", OFFICE | ROLE_LEADER, 0, api_events_rsvp, NULL},
    {"GET", "/api/v1/events/:id/history", OFFICE, 0, api_events_history, NULL},
    {"PATCH", "/api/v1/events/:id/occurrences/:rid", OFFICE, 0, api_events_occurrence_patch,
     NULL},
    {"DELETE", "/api/v1/events/:id/occurrences/:rid", OFFICE, 0, api_events_occurrence_delete,
     NULL},
    {"GET", "/api/v1/occurrences", ANY_ROLE, 0, api_occurrences_list, NULL},
    {"GET", "/api/v1/trips", OFFICE | ROLE_DRIVER, 0, api_trips_list, NULL},
    {"POST", "/api/v1/trips", OFFICE, 0, api_trips_create, NULL},
    {"POST", "/api/v1/trips/:id/ack", ROLE_ADMIN | ROLE_DRIVER, 0, api_trips_ack, NULL},
    /* The canteen reads its counts with a token that can do nothing else (not book meetings). */
    {"GET", "/api/v1/catering", OFFICE | ROLE_CANTEEN, 0, api_catering_get, NULL},
    {"GET", "/api/v1/reports/:name", OFFICE, 0, api_reports_get, NULL},
    {"POST", "/api/v1/import", OFFICE, 0, api_import, NULL},
    {"POST", "/api/v1/webhooks", ROLE_ADMIN, 0, api_webhooks_create, NULL},
    {"GET", "/api/v1/webhooks", ROLE_ADMIN, 0, api_webhooks_list, NULL},
    {"GET", "/api/v1/webhooks/:id", ROLE_ADMIN, 0, api_webhooks_get, NULL},
    {"PATCH", "/api/v1/webhooks/:id", ROLE_ADMIN, 0, api_webhooks_patch, NULL},
    {"DELETE", "/api/v1/webhooks/:id", ROLE_ADMIN, 0, api_webhooks_delete, NULL},
    {"POST", "/api/v1/webhooks/:id/rotate-secret", ROLE_ADMIN, 0, api_webhooks_rotate, NULL},
    {"GET", "/api/v1/webhooks/:id/deliveries", ROLE_ADMIN, 0, api_webhooks_deliveries, NULL},
    {"POST", "/api/v1/webhooks/:id/deliveries/:msg/retry", ROLE_ADMIN, 0, api_webhooks_retry,
     NULL},
    {"POST", "/api/v1/webhooks/:id/replay", ROLE_ADMIN, 0, api_webhooks_replay, NULL},
};

size_t api_route_count(void)
{
    return ARRAY_SIZE(routes);
}

const char *api_route_pattern(size_t index)
{
    return routes[index].pattern;
}

const char *api_route_method(size_t index)
{
    return routes[index].method;
}

/* Copies a captured piece into the next parameter; 0 when it cannot be one. */
static int route_capture(struct api_call *call, size_t *nparams, const char *s, size_t len)
{
    if (len == 0 || len >= sizeof(call->params[0]) || *nparams == API_MAX_PARAMS ||
        memchr(s, '\0', len) != NULL)
        return 0;
    memcpy(call->params[*nparams], s, len);
    call->params[*nparams][len] = '\0';
    (*nparams)++;
    return 1;
}

/*
 * Matches path against pattern segment by segment, capturing ":name"
 * segments into call->params, and with a last segment "*" the rest of the
 * path, slashes included. A capture must be non-empty, short enough for the
 * buffer and free of NUL bytes; anything else does not match. (h2o decodes
 * %00 in the normalised path, and a NUL cut the id short as a C string:
 * /api/v1/rooms/<id>%00junk named <id>.)
 */
static int route_match(const char *pattern, unsigned flags, const char *path, size_t len,
                       struct api_call *call)
{
    const char *end = path + len;
    size_t nparams = 0;

    /*
     * Every request tries the routes in order, so a literal segment is
     * compared as it is read and fails at its first different byte; only a
     * capture looks for the segment's end (memchr: a feed token is long).
     */
    while (*pattern != '\0') {
        if (path >= end || *path != '/' || *pattern != '/')
            return 0;
        pattern++;
        path++;
        if (pattern[0] == '*' && pattern[1] == '\0') {
            if (!(flags & ROUTE_REST) && !route_capture(call, &nparams, path, (size_t)(end - path)))
                return 0;
            path = end;
            break;
        }
        if (pattern[0] == ':') {
            const char *slash = memchr(path, '/', (size_t)(end - path));
            size_t slen = slash != NULL ? (size_t)(slash - path) : (size_t)(end - path);
            if (!route_capture(call, &nparams, path, slen))
                return 0;
            path += slen;
            while (*pattern != '\0' && *pattern != '/')
                pattern++;
            continue;
        }
        for (; *pattern != '\0' && *pattern != '/'; pattern++, path++)
            if (path >= end || *path != *pattern)
                return 0;
        if (path < end && *path != '/')
            return 0; /* the path's segment goes on */
    }
    if (path != end)
        return 0;
    call->nparams = nparams;
    return 1;
}

static int method_is(const struct api_request *req, const char *method)
{
    /* HEAD is a GET whose body the HTTP layer leaves out (feed clients probe with it). */
    if (req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0)
        return strcmp(method, "GET") == 0;
    return strlen(method) == req->method_len && memcmp(method, req->method, req->method_len) == 0;
}

/* Finds the route; sets *path_known when the path matched under another method. */
static const struct route *route_find(struct api_call *call, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
        if (!route_match(routes[i].pattern, routes[i].flags, call->req->path, call->req->path_len,
                         call))
            continue;
        if (method_is(call->req, routes[i].method)) {
            call->res->route = routes[i].pattern;
            call->res->route_index = (int)i;
            return &routes[i];
        }
        *path_known = 1;
    }
    return NULL;
}

static int authorised(const struct route *r, const struct api_call *call)
{
    if (call->auth.role & r->roles)
        return 1;
    /* Leaders and drivers reach their own records only. */
    return (r->flags & ROUTE_SELF) && (call->auth.role & (ROLE_LEADER | ROLE_DRIVER)) &&
           call->auth.person[0] != '\0' && call->nparams > 0 &&
           strcmp(call->params[0], call->auth.person) == 0;
}

/* Checks identity and rights; replies and returns -1 when the call may not proceed. */
static int authenticate(struct api_call *call, const struct route *r, const struct auth *preauth)
{
    if (r->flags & ROUTE_PUBLIC)
        return 0;
    if (preauth != NULL) {
        call->auth = *preauth;
    } else {
        const struct api_request *req = call->req;
        int rc = auth_identify(call->app, req->authorization, req->authorization_len, &call->auth);
        /* A bearer token, when sent, decides; the console's cookie is the other way in. */
        int by_cookie = rc == AUTH_MISSING && req->cookie != NULL;
        if (by_cookie)
            rc = auth_identify_session(call->app, req->cookie, req->cookie_len, &call->auth,
                                       call->session);
        if (rc == AUTH_ERROR) {
            api_reply_store_error(call);
            return -1;
        }
        if (rc != AUTH_OK) {
            api_reply_error(call, 401, "unauthorized", NULL, "%s",
                            rc != AUTH_MISSING ? (by_cookie ? "not signed in, or the session ended"
                                                            : "unknown or revoked token")
                                               : "missing 'Authorization: Bearer TOKEN' header "
                                                 "or session cookie");
            return -1;
        }
        /* A browser sends the cookie with any request; only our own pages know the token. */
        if (!method_is(req, "GET") &&
            !auth_csrf_ok(call->app, call->session, req->csrf_token, req->csrf_token_len)) {
            api_reply_error(call, 403, "csrf", NULL,
                            "a change made with a session cookie needs the session's "
                            "X-CSRF-Token header");
            return -1;
        }
    }
    if (!authorised(r, call)) {
        api_reply_error(call, 403, "forbidden", NULL, "this token's role may not do that");
        return -1;
    }
    return 0;
}

/*
 * What a caller who tried the wrong method most likely wanted. Meetings are
 * listed as occurrences (a series is many of them), so GET /events, the
 * first thing a newcomer tries, answered a bare "allowed: POST".
 */
static const struct {
    const char *method, *pattern, *hint;
} method_hints[] = {
    {"GET", "/api/v1/events", "; to list meetings use GET /api/v1/occurrences?from=&to="},
};

static const char *method_hint(struct api_call *call)
{
    struct api_call probe = *call;

    for (size_t i = 0; i < ARRAY_SIZE(method_hints); i++)
        if (method_is(call->req, method_hints[i].method) &&
            route_match(method_hints[i].pattern, 0, call->req->path, call->req->path_len,
                        &probe))
            return method_hints[i].hint;
    return "";
}

/* Allow header value for a path known under other methods. */
static const char *allowed_methods(struct api_call *call)
{
    static char allow[64];
    struct api_call probe = *call;

    allow[0] = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
        if (route_match(routes[i].pattern, routes[i].flags, call->req->path, call->req->path_len,
                        &probe) &&
            strstr(allow, routes[i].method) == NULL && strlen(allow) + 8 < sizeof(allow))
            snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
                     allow[0] ? ", " : "", routes[i].method);
    }
    return allow;
}

void api_route(struct app *app, const struct api_request *req, const struct auth *preauth,
                  struct api_response *res)
{
    struct api_call call;
    const struct route *r;
    int path_known;

    memset(&call, 0, sizeof(call));
    call.app = app;
    call.req = req;
    call.res = res;
    res->route = "unmatched";
    res->route_index = -1;

    if (req->header_bytes > API_MAX_HEADERS) {
        api_reply_error(&call, 400, "header_too_large", "headers",
                        "request headers exceed %d bytes", API_MAX_HEADERS);
        return;
    }
    r = route_find(&call, &path_known);
    if (r == NULL) {
        if (path_known) {
            res->allow = allowed_methods(&call);
            api_reply_error(&call, 405, "method_not_allowed", NULL, "allowed: %s%s", res->allow,
                            method_hint(&call));
        } else {
            api_reply_error(&call, 404, "not_found", NULL, "no such endpoint");
        }
        return;
    }
    if (req->body_len > API_MAX_BODY) {
        api_reply_error(&call, 413, "too_large", NULL, "request body exceeds %d bytes",
                        API_MAX_BODY);
        return;
    }
    call.route_data = r->data;
    if (authenticate(&call, r, preauth) == 0)
        r->handler(&call);
    if (res->status == 0)
        api_reply_error(&call, 500, "internal", NULL, "the handler gave no answer");
    json_decref(call.body);
}

void api_response_free(struct api_response *res)
{
    free(res->body);
    res->body = NULL;
    if (res->shared != NULL)
        shared_body_release(res->shared);
    res->shared = NULL;
    if (res->job != NULL)
        res->job->free(res->job);
    res->job = NULL;
    if (res->stream != NULL)
        res->stream->detach(res->stream);
    res->stream = NULL;
}

void api_defer(struct api_call *call, struct api_job *job)
{
    job->auth = call->auth;
    memcpy(job->session, call->session, sizeof(job->session));
    call->res->job = job;
    call->res->status = -1; /* answered later: not 0, which reads as "no answer" */
}

void api_job_finish(struct app *app, const struct api_request *req, struct api_job *job,
                    struct api_response *res)
{
    struct api_call call;

    memset(&call, 0, sizeof(call));
    call.app = app;
    call.req = req;
    call.res = res;
    call.auth = job->auth;
    memcpy(call.session, job->session, sizeof(call.session));
    job->finish(job, &call);
    if (res->status <= 0)
        api_reply_error(&call, 500, "internal", NULL, "the handler gave no answer");
    job->free(job);
}

void api_invoke(struct app *app, const char *method, const char *path, const char *body,
                const struct auth *auth, struct api_response *res)
{
    struct api_request req;
    const char *q = strchr(path, '?');

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.method_len = strlen(method);
    req.path = path;
    req.path_len = q ? (size_t)(q - path) : strlen(path);
    if (q != NULL) {
        req.query = q + 1;
        req.query_len = strlen(q + 1);
    }
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    memset(res, 0, sizeof(*res));
    api_route(app, &req, auth, res);
    /* No loop here: deferred work runs in place (command-line tools may wait). */
    if (res->job != NULL) {
        struct api_job *job = res->job;

        res->job = NULL;
        res->status = 0;
        job->work(job);
        api_job_finish(app, &req, job, res);
    }
    if (res->stream != NULL) {
        res->stream->detach(res->stream);
        res->stream = NULL;
    }
}
