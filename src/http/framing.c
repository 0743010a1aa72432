/*
 * framing.c - the request-head check that runs before h2o parses a
 * request, the JSON form of the errors h2o answers by itself, and reason
 * phrases. server.c calls these; nothing here touches a socket.
 *
 * Why a check before h2o: h2o 2.2.5 takes the first of two Content-Length
 * headers and lets Transfer-Encoding win over Content-Length, without a
 * word, and both headers are gone from the request our handler sees. A
 * proxy in front that reads the framing the other way would pass a
 * request hidden in the body (smuggling). nginx refuses such requests; so
 * do we, before the body is read.
 */
#include "convene/framing.h"
#include "convene/api.h"
#include "convene/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * picohttpparser, the parser h2o runs, as libh2o exports it (Debian ships
 * no header for it). The check must read a head exactly as h2o will: with
 * a parser of our own, a header could look one way here and another there,
 * which is the very gap smuggling lives in.
 */
struct phr_header {
    const char *name; /* NULL for a folded continuation line */
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
                      const char **path, size_t *path_len, int *minor_version,
                      struct phr_header *headers, size_t *num_headers, size_t last_len);

/* Enough to tell "too many headers" from "malformed" for any head a client sends. */
#define HEADERS_COUNTED 2048

static enum http_head_verdict refuse(struct http_refusal *r, int status, const char *code,
                                     const char *message)
{
    r->status = status;
    r->code = code;
    r->message = message;
    return HTTP_HEAD_REFUSE;
}

/* pico's result for buf with room for max headers; *n gets how many it found. */
static int parse_head(const char *buf, size_t len, struct phr_header *headers, size_t max,
                      size_t *n)
{
    const char *method, *path;
    size_t method_len, path_len;
    int minor;

    *n = max;
    return phr_parse_request(buf, len, &method, &method_len, &path, &path_len, &minor, headers,
                             n, 0);
}

/* Whether a head pico refused with room for HTTP_MAX_HEADERS + 1 would parse with more. */
static int too_many_headers(const char *buf, size_t len)
{
    struct phr_header *many = xmalloc(HEADERS_COUNTED * sizeof(*many));
    size_t n;
    int rc = parse_head(buf, len, many, HEADERS_COUNTED, &n);

    free(many);
    return rc != -1;
}

static int header_is(const struct phr_header *h, const char *name, size_t len)
{
    return h->name_len == len && strncasecmp(h->name, name, len) == 0;
}

/* Whether every byte is CR or LF: stray line ends between requests, which h2o drops. */
static int line_ends_only(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != '\r' && buf[i] != '\n')
            return 0;
    return 1;
}

/* The framing headers: one way to know where the body ends, one media type. */
static enum http_head_verdict check_framing(const struct phr_header *h, size_t n,
                                            struct http_refusal *r)
{
    const struct phr_header *length = NULL;
    int encodings = 0, types = 0;

    for (size_t i = 0; i < n; i++) {
        if (h[i].name == NULL)
            return refuse(r, 400, "malformed", "folded (obs-fold) header lines are not accepted");
        if (header_is(&h[i], "content-length", 14)) {
            /* The same value twice is one length (RFC 9112 section 6.3); two are ambiguous. */
            if (length != NULL && (length->value_len != h[i].value_len ||
                                   memcmp(length->value, h[i].value, h[i].value_len) != 0))
                return refuse(r, 400, "malformed",
                              "Content-Length is given twice with different values");
            length = &h[i];
        } else if (header_is(&h[i], "transfer-encoding", 17)) {
            encodings++;
        } else if (header_is(&h[i], "content-type", 12)) {
            types++;
        }
    }
    if (encodings > 1)
        return refuse(r, 400, "malformed", "Transfer-Encoding is given twice");
    if (encodings > 0 && length != NULL)
        return refuse(r, 400, "malformed",
                      "Content-Length and Transfer-Encoding together: the body's end is ambiguous");
    if (types > 1)
        return refuse(r, 400, "malformed", "Content-Type is given twice");
    return HTTP_HEAD_OK;
}

enum http_head_verdict http_head_check(const char *buf, size_t len, size_t *head_len,
                                       struct http_refusal *refusal)
{
    struct phr_header headers[HTTP_MAX_HEADERS + 1];
    size_t n, scanned = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
    int rc = parse_head(buf, scanned, headers, ARRAY_SIZE(headers), &n);

    if (rc == -2 && scanned < HTTP_MAX_HEAD)
        return HTTP_HEAD_INCOMPLETE;
    if (rc == -2)
        return refuse(refusal, 400, "header_too_large",
                      "the request line and headers exceed 417792 bytes");
    if (rc == -1 && scanned <= 4 && line_ends_only(buf, scanned))
        return HTTP_HEAD_PASS;
    if (rc == -1 && too_many_headers(buf, scanned))
        return refuse(refusal, 400, "too_many_headers", "a request may carry at most 100 headers");
    if (rc == -1)
        return refuse(refusal, 400, "malformed", "the request line or a header is malformed");
    if (n > HTTP_MAX_HEADERS)
        return refuse(refusal, 400, "too_many_headers", "a request may carry at most 100 headers");
    *head_len = (size_t)rc;
    return check_framing(headers, n, refusal);
}

void http_h2o_error(int status, const char *h2o_body, struct http_refusal *out)
{
    static const struct {
        int status;
        const char *h2o_body, *code, *message;
    } known[] = {
        {400, "broken chunked-encoding", "malformed", "the chunked request body is malformed"},
        {400, "unknown transfer-encoding", "malformed",
         "Transfer-Encoding other than chunked is not accepted"},
        {400, "broken content-length header", "malformed", "Content-Length is not a number"},
        {413, "request entity is too large", "too_large", "request body exceeds 1048576 bytes"},
        {417, "unknown expectation", "expectation_failed",
         "the only expectation understood is Expect: 100-continue"},
    };
    _Static_assert(API_MAX_BODY == 1048576, "the 413 message names the limit");

    for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
        if (known[i].status == status && h2o_body != NULL &&
            strcmp(known[i].h2o_body, h2o_body) == 0) {
            refuse(out, status, known[i].code, known[i].message);
            return;
        }
    }
    /* h2o's other errors: its sentence is English already. */
    refuse(out, status,
           status == 404 ? "not_found" : status == 413 ? "too_large"
                       : status < 500 ? "malformed" : "internal",
           h2o_body != NULL && *h2o_body != '\0' ? h2o_body : "the request could not be served");
}

const char *http_reason_phrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Entity";
    case 423: return "Locked";
    case 425: return "Too Early";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "";
    }
}

char *http_error_body(const struct http_refusal *r, size_t *len)
{
    json_t *doc = json_pack("{s:{s:s,s:s}}", "error", "code", r->code, "message", r->message);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

    json_decref(doc);
    if (text == NULL)
        text = xstrdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
    *len = strlen(text);
    return text;
}

char *http_error_response(const struct http_refusal *r, size_t *len)
{
    size_t body_len;
    char *body = http_error_body(r, &body_len);
    struct strbuf sb;

    strbuf_init(&sb, body_len + 512);
    strbuf_printf(&sb,
                  "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                  r->status, http_reason_phrase(r->status), body_len);
    strbuf_append(&sb, body, body_len);
    free(body);
    return strbuf_detach(&sb, len);
}
