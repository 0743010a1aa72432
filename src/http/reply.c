/*
 * reply.c - how handlers answer: JSON bodies, the error shape of CONTRACT
 * section 2, ETags and If-Match, and query-string access.
 */
#include "convene/api.h"
#include "convene/body.h"
#include "convene/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int api_error_set(struct api_error *err, int status, const char *code, const char *field,
                  const char *fmt, ...)
{
    va_list ap;

    err->status = status;
    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

static void set_body(struct api_call *call, int status, json_t *value)
{
    struct api_response *res = call->res;

    free(res->body);
    res->status = status;
    res->content_type = "application/json; charset=utf-8";
    /*
     * 15 significant digits: a figure rounded to 4 places (a room's
     * utilisation 0.0026) prints as it is, not as jansson's default 17
     * digits (0.0025999999999999999), and still reads back as the same
     * double.
     */
    res->body = json_dumps(value, JSON_COMPACT | JSON_REAL_PRECISION(15));
    res->body_len = res->body ? strlen(res->body) : 0;
    json_decref(value);
}

void api_reply_json(struct api_call *call, int status, json_t *value, int64_t version)
{
    set_body(call, status, value);
    if (version >= 0)
        snprintf(call->res->etag, sizeof(call->res->etag), "\"%lld\"", (long long)version);
}

void api_reply_json_text(struct api_call *call, int status, char *text, size_t len)
{
    struct api_response *res = call->res;

    free(res->body);
    res->status = status;
    res->content_type = "application/json; charset=utf-8";
    res->body = text;
    res->body_len = len;
}

void api_reply_empty(struct api_call *call, int status)
{
    free(call->res->body);
    call->res->body = NULL;
    call->res->body_len = 0;
    if (call->res->shared != NULL)
        shared_body_release(call->res->shared);
    call->res->shared = NULL;
    call->res->status = status;
}

void api_reply_shared(struct api_call *call, int status, struct shared_body *body)
{
    api_reply_empty(call, status);
    shared_body_retain(body);
    call->res->shared = body;
    call->res->body_len = body->len;
}

/*
 * Copies s into out with every byte that is not part of well-formed UTF-8
 * replaced by '?'. Messages echo client input (ids from the path, names cut
 * at a byte limit, iCalendar text); json_string() refuses invalid UTF-8,
 * and the reply used to go out without its "message" (fuzz_api_body).
 */
static void utf8_scrub(const char *s, char *out, size_t cap)
{
    size_t len = strlen(s), i = 0;

    if (len >= cap)
        len = cap - 1;
    memcpy(out, s, len);
    out[len] = '\0';
    while (i < len) {
        i += utf8_valid_prefix(out + i, len - i);
        if (i < len)
            out[i++] = '?';
    }
}

void api_reply_api_error(struct api_call *call, const struct api_error *err)
{
    json_t *e = json_object();
    char message[sizeof(err->message)], field[sizeof(err->field)];

    utf8_scrub(err->message, message, sizeof(message));
    utf8_scrub(err->field, field, sizeof(field));
    json_object_set_new(e, "code", json_string(err->code));
    json_object_set_new(e, "message", json_string(message));
    if (field[0] != '\0')
        json_object_set_new(e, "field", json_string(field));
    set_body(call, err->status, json_pack("{s:o}", "error", e));
    call->res->etag[0] = '\0';
}

/* The HTTP status of each kind of domain error (booking.h). */
static const int booking_status[] = {
    [BOOKING_OK] = 500,        /* never an answer: a caller forgot to set the error */
    [BOOKING_MALFORMED] = 400, [BOOKING_INVALID] = 422,  [BOOKING_FORBIDDEN] = 403,
    [BOOKING_NOT_FOUND] = 404, [BOOKING_CONFLICT] = 409, [BOOKING_STALE] = 412,
    [BOOKING_STORAGE] = 500,
};

int api_booking_status(enum booking_kind kind)
{
    if ((size_t)kind >= sizeof(booking_status) / sizeof(booking_status[0]))
        return 500;
    return booking_status[kind];
}

void api_reply_booking_error(struct api_call *call, const struct booking_error *err)
{
    struct api_error e;
    json_t *body;

    e.status = api_booking_status(err->kind);
    e.code = err->code ? err->code : "storage";
    snprintf(e.field, sizeof(e.field), "%s", err->field);
    snprintf(e.message, sizeof(e.message), "%s", err->message);
    /* Details (the conflicts of a 409) go beside the message; a message
     * that is not UTF-8 makes json_pack fail, and the plain error goes. */
    body = err->details == NULL
               ? NULL
               : json_pack("{s:{s:s, s:s, s:s?, s:O}}", "error", "code", e.code, "message",
                           e.message, "field", e.field[0] ? e.field : NULL, "conflicts",
                           err->details);
    if (body == NULL)
        api_reply_api_error(call, &e);
    else
        api_reply_json(call, e.status, body, -1);
}

void api_reply_booking(struct api_call *call, int rc, int status, json_t *out,
                       struct booking_error *err)
{
    if (rc != 0)
        api_reply_booking_error(call, err);
    else if (out != NULL)
        api_reply_json(call, status, out, -1);
    else
        api_reply_empty(call, status);
    booking_error_clear(err);
}

void api_reply_error(struct api_call *call, int status, const char *code, const char *field,
                     const char *fmt, ...)
{
    struct api_error err;
    va_list ap;

    err.status = status;
    err.code = code;
    snprintf(err.field, sizeof(err.field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof(err.message), fmt, ap);
    va_end(ap);
    api_reply_api_error(call, &err);
}

void api_reply_store_error(struct api_call *call)
{
    api_reply_error(call, 500, "storage", NULL, "the database failed; the change was not made");
}

/*
 * Whether a Content-Type names JSON: application/json or a +json type,
 * parameters (charset) aside. A missing header is taken as JSON, as most
 * API clients send it; a form or text body is a client mistake worth
 * naming (curl -d without -H sends application/x-www-form-urlencoded).
 */
static int is_json_media_type(const char *value, size_t len)
{
    size_t n = 0;

    if (value == NULL)
        return 1;
    while (n < len && value[n] != ';' && value[n] != ' ' && value[n] != '\t')
        n++;
    return (n == 16 && strncasecmp(value, "application/json", 16) == 0) ||
           (n > 17 && strncasecmp(value, "application/", 12) == 0 &&
            strncasecmp(value + n - 5, "+json", 5) == 0);
}

json_t *api_body_object(struct api_call *call)
{
    struct api_error err;

    if (call->body != NULL)
        return call->body;
    if (!is_json_media_type(call->req->content_type, call->req->content_type_len)) {
        api_reply_error(call, 415, "unsupported_media_type", NULL,
                        "the request body must be JSON: send Content-Type: application/json");
        return NULL;
    }
    if (body_parse_object(call->req->body, call->req->body_len, &call->body, &err) != 0) {
        api_reply_api_error(call, &err);
        return NULL;
    }
    return call->body;
}

int api_has_role(const struct api_call *call, unsigned roles)
{
    return (call->auth.role & roles) != 0;
}

void api_booking_actor(const struct api_call *call, struct booking_actor *actor)
{
    snprintf(actor->token_id, sizeof(actor->token_id), "%s", call->auth.token_id);
    snprintf(actor->name, sizeof(actor->name), "%s", call->auth.name);
    snprintf(actor->person, sizeof(actor->person), "%s", call->auth.person);
    actor->office = api_has_role(call, ROLE_ADMIN | ROLE_SECRETARY);
    actor->admin = api_has_role(call, ROLE_ADMIN);
}

struct viewer api_viewer(const struct api_call *call)
{
    struct viewer v = visibility_person(call->app, call->auth.person);

    if (api_has_role(call, ROLE_ADMIN | ROLE_SECRETARY))
        v.kind = VIEWER_OFFICE;
    return v;
}

int api_check_if_match(struct api_call *call, int64_t version)
{
    const char *h = call->req->if_match;
    size_t len = call->req->if_match_len;
    char want[48];

    if (h == NULL)
        return 0;
    if (len == 1 && h[0] == '*')
        return 0;
    snprintf(want, sizeof(want), "\"%lld\"", (long long)version);
    /* Accept a weak form too: W/"3" names the same version. */
    if (len > 2 && h[0] == 'W' && h[1] == '/') {
        h += 2;
        len -= 2;
    }
    if (len == strlen(want) && memcmp(h, want, len) == 0)
        return 0;
    api_reply_error(call, 412, "precondition_failed", NULL,
                    "the resource changed (now version %lld): reload and retry",
                    (long long)version);
    return -1;
}

int64_t api_if_match_version(const struct api_call *call)
{
    const char *h = call->req->if_match;
    size_t len = call->req->if_match_len;
    int64_t v = 0;

    if (h == NULL || (len == 1 && h[0] == '*'))
        return BOOKING_ANY_VERSION;
    if (len > 2 && h[0] == 'W' && h[1] == '/') {
        h += 2;
        len -= 2;
    }
    /* Exactly the tag this service sends: "N", N without a sign or a leading zero. */
    if (len < 3 || len > 20 || h[0] != '"' || h[len - 1] != '"' || (h[1] == '0' && len > 3))
        return -2;
    for (size_t i = 1; i < len - 1; i++) {
        if (h[i] < '0' || h[i] > '9')
            return -2;
        v = v * 10 + (h[i] - '0');
    }
    return v;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* URL-decodes src[0..len) into buf; -1 on bad escapes, NULs or overflow. */
static int url_decode(const char *src, size_t len, char *buf, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len || (hi = hexval(src[i + 1])) < 0 || (lo = hexval(src[i + 2])) < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == '\0' || o + 1 >= cap)
            return -1;
        buf[o++] = c;
    }
    buf[o] = '\0';
    return 0;
}

int api_form_field(const char *q, size_t len, const char *name, char *buf, size_t cap)
{
    const char *end = q ? q + len : NULL;
    size_t nlen = strlen(name);

    while (q != NULL && q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *item_end = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(item_end - q));
        const char *key_end = eq ? eq : item_end;

        if ((size_t)(key_end - q) == nlen && memcmp(q, name, nlen) == 0) {
            const char *v = eq ? eq + 1 : item_end;
            return url_decode(v, (size_t)(item_end - v), buf, cap) == 0 ? 1 : -1;
        }
        q = amp ? amp + 1 : NULL;
    }
    return 0;
}

int api_query_param(struct api_call *call, const char *name, char *buf, size_t cap)
{
    int rc = api_form_field(call->req->query, call->req->query_len, name, buf, cap);

    if (rc < 0)
        api_reply_error(call, 400, "malformed", name,
                        "query parameter '%s' is malformed or too long", name);
    return rc;
}

void api_add_header(struct api_call *call, const char *name, const char *value)
{
    struct api_response *res = call->res;

    if (res->nheaders == ARRAY_SIZE(res->headers))
        return;
    /* Cut to fit, as snprintf did: memcpy is a tenth of its cost (a feed adds four). */
    size_t n = strnlen(value, sizeof(res->headers[0].value) - 1);
    res->headers[res->nheaders].name = name;
    memcpy(res->headers[res->nheaders].value, value, n);
    res->headers[res->nheaders].value[n] = '\0';
    res->nheaders++;
}

/*
 * Whether Accept-Encoding admits gzip: some element "gzip" (or "x-gzip", or
 * "*") whose q-value is not zero. RFC 9110 allows spaces around ";" and any
 * q from 0 to 1, so "gzip;q=0.5" accepts and "gzip; q=0" refuses.
 */
int api_accepts_gzip(const struct api_request *req)
{
    const char *p = req->accept_encoding, *end;
    int star = 0, gzip = -1;

    /* Checked before computing end: NULL + len is undefined (UBSan, fuzz_router). */
    if (p == NULL)
        return 0;
    end = p + req->accept_encoding_len;
    while (p < end) {
        const char *item = p, *stop = memchr(p, ',', (size_t)(end - p));
        if (stop == NULL)
            stop = end;
        p = stop < end ? stop + 1 : end;
        while (item < stop && (*item == ' ' || *item == '\t'))
            item++;
        size_t n = 0;
        while (item + n < stop && item[n] != ';' && item[n] != ' ' && item[n] != '\t')
            n++;
        double q = 1.0;
        for (const char *c = item + n; c < stop; c++) {
            if ((*c == 'q' || *c == 'Q') && c + 1 < stop && c[1] == '=') {
                char num[16];
                size_t len = (size_t)(stop - c - 2) < sizeof(num) - 1 ? (size_t)(stop - c - 2)
                                                                     : sizeof(num) - 1;
                memcpy(num, c + 2, len);
                num[len] = '\0';
                q = strtod(num, NULL);
                break;
            }
        }
        if ((n == 4 && strncasecmp(item, "gzip", 4) == 0) ||
            (n == 6 && strncasecmp(item, "x-gzip", 6) == 0))
            gzip = q > 0;
        else if (n == 1 && *item == '*')
            star = q > 0;
    }
    return gzip >= 0 ? gzip : star;
}
