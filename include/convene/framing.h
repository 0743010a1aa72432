/*
 * framing.h - what the service checks and writes on the wire around h2o:
 * a request head is read by h2o's own parser (picohttpparser) before h2o
 * acts on it, so the framing is refused when it is ambiguous (two lengths,
 * a length and chunked: request smuggling) or broken; errors h2o would
 * answer in plain text get the JSON error shape; and every status gets its
 * reason phrase. Pure: no socket, no h2o type.
 */
#ifndef CONVENE_FRAMING_H
#define CONVENE_FRAMING_H

#include <stddef.h>

/* h2o 2.2.5's limits (H2O_MAX_HEADERS, H2O_MAX_REQLEN); server.c asserts they agree. */
#define HTTP_MAX_HEADERS 100
#define HTTP_MAX_HEAD (8192 + 4096 * HTTP_MAX_HEADERS)

/* An error the service answers itself, then closes the connection. */
struct http_refusal {
    int status;
    const char *code;    /* stable, as in the API's error shape */
    const char *message; /* English, static */
};

enum http_head_verdict {
    HTTP_HEAD_INCOMPLETE, /* no complete head yet, and still under HTTP_MAX_HEAD */
    HTTP_HEAD_OK,         /* a complete head with unambiguous framing */
    HTTP_HEAD_PASS,       /* not a request but stray line ends: h2o closes quietly */
    HTTP_HEAD_REFUSE,     /* answer *refusal and close */
};

/*
 * Checks the request head at the start of buf[0..len) (the bytes read so
 * far). HTTP_HEAD_OK sets *head_len to the head's length (request line and
 * headers, up to the empty line). Refused: a request line or header h2o
 * would not parse, more than HTTP_MAX_HEADERS headers, a head longer than
 * HTTP_MAX_HEAD, folded (obs-fold) header lines, Content-Length twice with
 * different values, Content-Length with Transfer-Encoding, Transfer-Encoding
 * or Content-Type twice (CONTRACT section 15).
 */
enum http_head_verdict http_head_check(const char *buf, size_t len, size_t *head_len,
                                       struct http_refusal *refusal);

/*
 * The JSON error for a response h2o generated itself (h2o_send_error_*:
 * a broken or oversized body, an unknown Expect), from its status and the
 * plain-text body h2o chose.
 */
void http_h2o_error(int status, const char *h2o_body, struct http_refusal *out);

/* The reason phrase of a status (RFC 9110 section 15), "" for an unregistered one. */
const char *http_reason_phrase(int status);

/*
 * The JSON error body {"error":{"code","message"}} of r. Owner: the
 * caller (free); *len is its length.
 */
char *http_error_body(const struct http_refusal *r, size_t *len);

/*
 * A whole HTTP/1.1 response carrying r as JSON, with Connection: close, for
 * a connection answered outside h2o. Owner: the caller (free).
 */
char *http_error_response(const struct http_refusal *r, size_t *len);

#endif
