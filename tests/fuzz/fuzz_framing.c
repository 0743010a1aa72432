/*
 * fuzz_framing.c - http/framing.c's request-head check on arbitrary bytes.
 *
 * Invariants: the verdict is one of the four; a refusal carries a 4xx, a
 * code and a message, and renders as a response whose body is the JSON
 * error shape; a head passed as sound has a length within the input, is
 * judged the same when nothing follows it, and, read line by line by an
 * independent scan, holds no second different Content-Length, no
 * Content-Length beside Transfer-Encoding, no second Transfer-Encoding or
 * Content-Type: the framing h2o is then given is unambiguous.
 */
#include "convene/framing.h"
#include "convene/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void fail(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "%s: %.*s\n", what, (int)(size > 400 ? 400 : size), (const char *)data);
    abort();
}

/* A header line's name and value, by hand: "name:" then optional blanks. */
static int header_line(const char *line, size_t len, const char *name, const char **value,
                       size_t *value_len)
{
    size_t n = strlen(name);

    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return 0;
    *value = line + n + 1;
    *value_len = len - n - 1;
    while (*value_len > 0 && (**value == ' ' || **value == '\t')) {
        (*value)++;
        (*value_len)--;
    }
    while (*value_len > 0 && ((*value)[*value_len - 1] == ' ' || (*value)[*value_len - 1] == '\t'))
        (*value_len)--;
    return 1;
}

/* The framing headers of a head the check passed, counted independently of picohttpparser. */
static void check_framing_by_hand(const char *head, size_t len, const uint8_t *data, size_t size)
{
    const char *length = NULL, *value;
    size_t length_len = 0, value_len, start = 0;
    int encodings = 0, types = 0, first = 1;

    while (start < len) {
        const char *nl = memchr(head + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - head) : len, line_len = end - start;
        const char *line = head + start;

        if (line_len > 0 && line[line_len - 1] == '\r')
            line_len--;
        /* The request line, and one empty line a client may send before it. */
        if (first && line_len > 0)
            first = 0;
        else if (line_len > 0 && header_line(line, line_len, "content-length", &value, &value_len)) {
            if (length != NULL && (length_len != value_len || memcmp(length, value, value_len) != 0))
                fail("two different Content-Length passed", data, size);
            length = value;
            length_len = value_len;
        } else if (line_len > 0 &&
                   header_line(line, line_len, "transfer-encoding", &value, &value_len)) {
            encodings++;
        } else if (line_len > 0 && header_line(line, line_len, "content-type", &value, &value_len)) {
            types++;
        }
        start = end + 1;
    }
    if (encodings > 1 || (encodings > 0 && length != NULL) || types > 1)
        fail("ambiguous framing passed", data, size);
}

static void check_refusal(const struct http_refusal *r, const uint8_t *data, size_t size)
{
    size_t len;
    char *text, *body;
    json_t *doc;

    if (r->status < 400 || r->status > 499 || r->code == NULL || r->message == NULL ||
        r->message[0] == '\0')
        fail("refusal without status, code or message", data, size);
    text = http_error_response(r, &len);
    body = strstr(text, "\r\n\r\n");
    doc = body ? json_loads(body + 4, 0, NULL) : NULL;
    if (doc == NULL || !json_is_string(json_object_get(json_object_get(doc, "error"), "code")))
        fail("refusal not in the JSON error shape", data, size);
    json_decref(doc);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct http_refusal r = {0, NULL, NULL};
    size_t head_len = 0, again_len = 0;
    enum http_head_verdict v = http_head_check(buf, size, &head_len, &r);

    switch (v) {
    case HTTP_HEAD_INCOMPLETE:
    case HTTP_HEAD_PASS:
        break;
    case HTTP_HEAD_REFUSE:
        check_refusal(&r, data, size);
        break;
    case HTTP_HEAD_OK:
        if (head_len == 0 || head_len > size || head_len > HTTP_MAX_HEAD)
            fail("head length outside the input", data, size);
        if (http_head_check(buf, head_len, &again_len, &r) != HTTP_HEAD_OK || again_len != head_len)
            fail("the head alone is judged differently", data, size);
        check_framing_by_hand(buf, head_len, data, size);
        break;
    default:
        fail("unknown verdict", data, size);
    }
    return 0;
}
