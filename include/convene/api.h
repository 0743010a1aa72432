/*
 * api.h - one HTTP request as the API layer sees it, independent of the
 * HTTP library: the server glue (http/server.c) fills an api_request, the
 * router picks a handler, and the handler answers through api_reply_*.
 * The same entry point serves `convene seed`, unit tests and fuzzers.
 */
#ifndef CONVENE_API_H
#define CONVENE_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "convene/app.h"
#include "convene/booking.h"
#include "convene/role.h"
#include "convene/token.h"
#include "convene/visibility.h"

#define API_MAX_BODY (1024 * 1024)   /* bytes: CONTRACT section 2 */
#define API_MAX_HEADERS (16 * 1024)  /* bytes of all request headers */
#define API_MAX_JSON_DEPTH 32
#define API_MAX_PARAMS 4


struct api_call;
struct shared_body;

/* Who is calling: from the bearer token or session cookie, or synthesised for internal callers. */
struct auth {
    enum role role;
    char token_id[ID_STR_MAX];
    char name[128];
    char person[ID_STR_MAX]; /* "" unless the token is bound to a person */
};

struct api_request {
    const char *method;
    size_t method_len;
    const char *path;          /* normalised, without the query */
    size_t path_len;
    const char *raw_path;      /* as sent, %-escapes and query included; NULL if unknown */
    size_t raw_path_len;
    const char *query;         /* after '?', or NULL */
    size_t query_len;
    const char *authorization; /* header value or NULL */
    size_t authorization_len;
    const char *if_match;
    size_t if_match_len;
    const char *if_none_match;
    size_t if_none_match_len;
    const char *content_type;
    size_t content_type_len;
    const char *accept_encoding;
    size_t accept_encoding_len;
    const char *accept;        /* Accept (GET /catering answers text/csv on request) */
    size_t accept_len;
    const char *if_modified_since;
    size_t if_modified_since_len;
    const char *cookie;        /* Cookie (the console's session) */
    size_t cookie_len;
    const char *csrf_token;    /* X-CSRF-Token */
    size_t csrf_token_len;
    const char *last_event_id; /* Last-Event-ID (resuming GET /api/v1/changes) */
    size_t last_event_id_len;
    const char *body;          /* NULL when no entity */
    size_t body_len;
    size_t header_bytes;       /* total size of names and values */
};

struct api_response {
    int status;
    const char *content_type; /* static string */
    char *body;               /* owned (malloc) */
    size_t body_len;
    struct shared_body *shared; /* instead of body: a cached body sent as is (one reference) */
    char etag[48];            /* "" = none */
    const char *allow;        /* Allow header for 405, static */
    struct {
        const char *name;     /* static */
        char value[256];      /* a Content-Security-Policy (console) is about 200 bytes */
    } headers[10];            /* further response headers */
    size_t nheaders;
    const char *route;        /* matched pattern (static) for logs and metrics */
    int route_index;          /* index into the route table, or -1 */
    struct api_job *job;      /* set by api_defer: the answer comes later (owned) */
    struct api_stream *stream; /* set by a handler answering with a stream (owned) */
};

/*
 * Work a handler hands to a worker thread because it would stall the loop
 * (an Argon2id hash takes tens of milliseconds). The handler embeds this in
 * its own struct, calls api_defer() and returns without replying. `work`
 * then runs on a worker thread and must touch nothing shared (no store, no
 * app state); `finish` runs back on the loop with a call whose auth is the
 * original caller's and replies as a handler would; `free` releases the job
 * after finish, or instead of it when the request is gone.
 */
struct api_job {
    void (*work)(struct api_job *job);
    void (*finish)(struct api_job *job, struct api_call *call);
    void (*free)(struct api_job *job);
    struct auth auth;  /* filled by api_defer */
    char session[48];  /* likewise */
};

/*
 * A long-lived response (text/event-stream). The HTTP layer sends the
 * status and headers of the response, then calls attach with a sink the
 * stream writes to until either side ends it: the stream by
 * http_sink_close, the connection (closed, or the server stopping) by
 * calling detach, after which the sink is gone and the stream frees itself.
 */
struct http_sink;
struct api_stream {
    void (*attach)(struct api_stream *s, struct http_sink *sink);
    void (*detach)(struct api_stream *s);
};

struct api_call {
    struct app *app;
    const struct api_request *req;
    struct api_response *res;
    struct auth auth;
    char session[48]; /* the session id when the caller signed in by cookie, else "" */
    char params[API_MAX_PARAMS][ID_STR_MAX * 2]; /* path parameters, NUL-terminated */
    size_t nparams;
    const void *route_data; /* the route's data pointer (e.g. a record type) */
    json_t *body;           /* parsed JSON body, owned; NULL until api_body_object */
};

/* Error details a validator hands back; the reply is built from it. */
struct api_error {
    int status;
    const char *code;  /* stable machine-readable code */
    char field[128];   /* "" when not about one field */
    char message[256];
};

/*
 * Routes and answers one request. With preauth NULL, the caller is
 * identified from the Authorization header; otherwise preauth is used as is
 * (internal callers). res must be zeroed; free it with api_response_free.
 */
void api_route(struct app *app, const struct api_request *req, const struct auth *preauth,
                  struct api_response *res);
void api_response_free(struct api_response *res);

/*
 * Calls the API in-process as `auth` (command-line tools, seeding, tests):
 * method and path as over HTTP, body NUL-terminated JSON or NULL.
 */
void api_invoke(struct app *app, const char *method, const char *path, const char *body,
                const struct auth *auth, struct api_response *res);


/* The number of routes and their patterns, for metrics. */
size_t api_route_count(void);
const char *api_route_pattern(size_t index);
const char *api_route_method(size_t index);

/* --- for handlers --- */

/* Parses the request body as a JSON object; replies 400/413 and returns NULL on error. */
json_t *api_body_object(struct api_call *call);

/* Steals value; adds an ETag when version >= 0. */
void api_reply_json(struct api_call *call, int status, json_t *value, int64_t version);
/* Replies with JSON text serialised by the caller (malloc'd, ownership passes to the reply). */
void api_reply_json_text(struct api_call *call, int status, char *text, size_t len);
void api_reply_empty(struct api_call *call, int status);
/* Replies with a cached body, sent without a copy; takes a reference to it. */
void api_reply_shared(struct api_call *call, int status, struct shared_body *body);
void api_reply_error(struct api_call *call, int status, const char *code, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void api_reply_api_error(struct api_call *call, const struct api_error *err);
/* The HTTP status of a domain error's kind (400, 403, 404, 409, 412, 422, 500). */
int api_booking_status(enum booking_kind kind);
/*
 * Answers a domain error: its kind's status, code, message and field, and
 * its details (the clashes of a 409) as "conflicts" when it has some.
 */
void api_reply_booking_error(struct api_call *call, const struct booking_error *err);
/*
 * The outcome of a booking-layer call, rc its return: 0 answers status
 * with out (stolen; NULL: an empty body), else err as above. Clears err.
 */
void api_reply_booking(struct api_call *call, int rc, int status, json_t *out,
                       struct booking_error *err);
/* 500 for a storage failure (already logged by the store). */
void api_reply_store_error(struct api_call *call);

/*
 * If-Match against the current version: 0 to go on, -1 after replying 412.
 * Without If-Match the write goes ahead (last writer wins).
 */
int api_check_if_match(struct api_call *call, int64_t version);

/*
 * The version If-Match names, for the booking layer to compare:
 * BOOKING_ANY_VERSION without the header or with "*", -2 (matching no
 * version) when it names none. "3" and W/"3" name version 3.
 */
int64_t api_if_match_version(const struct api_call *call);

/*
 * Copies the URL-decoded value of query parameter name into buf.
 * Returns 1 if present, 0 if absent, -1 (after replying 400) if malformed or too long.
 */
int api_query_param(struct api_call *call, const char *name, char *buf, size_t cap);

/*
 * The same over any application/x-www-form-urlencoded text (q, len bytes;
 * a form's body): 1 with the decoded value in buf, 0 when absent, -1 when
 * malformed, holding a NUL or longer than cap - 1. Replies nothing.
 */
int api_form_field(const char *q, size_t len, const char *name, char *buf, size_t cap);

/* Adds a response header (name static, value copied, at most 255 bytes). */
void api_add_header(struct api_call *call, const char *name, const char *value);

/* 1 if Accept-Encoding admits gzip (an element gzip, x-gzip or * with a non-zero q). */
int api_accepts_gzip(const struct api_request *req);

/* Answers later: see struct api_job. Ownership of job passes to the request. */
void api_defer(struct api_call *call, struct api_job *job);

/*
 * Runs a deferred job's finish as the router would run a handler (the HTTP
 * layer calls it on the loop once the work is done), then frees the job.
 * res must be zeroed.
 */
void api_job_finish(struct app *app, const struct api_request *req, struct api_job *job,
                    struct api_response *res);

/* 1 if the caller's role is among roles (a mask of enum role). */
int api_has_role(const struct api_call *call, unsigned roles);

/*
 * The caller as the visibility rule knows them (visibility.h): admins and
 * secretaries are the office, every other role is the person its token is
 * bound to (none: sees no meeting's details). person points into call.
 */
struct viewer api_viewer(const struct api_call *call);

/* The caller as the booking layer knows them (booking.h): token id, name, person. */
void api_booking_actor(const struct api_call *call, struct booking_actor *actor);

/* Fills err; returns -1 so validators can `return api_error_set(...)`. */
int api_error_set(struct api_error *err, int status, const char *code, const char *field,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
