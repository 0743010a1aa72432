/*
 * test_framing.c - http/framing.c: which request heads pass to h2o, which
 * are refused (and how), the JSON form of h2o's own errors, reason phrases
 * and the raw error response written outside h2o.
 */
#include "check.h"

#include "convene/framing.h"
#include "convene/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define GET "GET /healthz HTTP/1.1\r\nHost: x\r\n"

static void test_head_verdicts(void)
{
    static const struct {
        const char *head;
        enum http_head_verdict verdict;
        const char *code; /* when refused */
    } cases[] = {
        {GET "\r\n", HTTP_HEAD_OK, NULL},
        {GET "\n", HTTP_HEAD_OK, NULL},
        {"GET /healthz HTTP/1.0\r\n\r\n", HTTP_HEAD_OK, NULL},
        {GET, HTTP_HEAD_INCOMPLETE, NULL},
        {"GE", HTTP_HEAD_INCOMPLETE, NULL},
        {"", HTTP_HEAD_INCOMPLETE, NULL},
        {"\r\n", HTTP_HEAD_INCOMPLETE, NULL},
        {"\r\n\r\n", HTTP_HEAD_PASS, NULL},
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", HTTP_HEAD_REFUSE, "malformed"},
        {"\x00\x01\x02 garbage\r\n\r\n", HTTP_HEAD_REFUSE, "malformed"},
        {"GET /healthz\r\n\r\n", HTTP_HEAD_REFUSE, "malformed"},
        {"GET /a\x1b HTTP/1.1\r\n\r\n", HTTP_HEAD_REFUSE, "malformed"},
        {GET "Host x\r\n\r\n", HTTP_HEAD_REFUSE, "malformed"},
        {GET "Bad Name: v\r\n\r\n", HTTP_HEAD_REFUSE, "malformed"},
        /* Framing: one length, one way. */
        {GET "Content-Length: 5\r\n\r\n", HTTP_HEAD_OK, NULL},
        {GET "Content-Length: 5\r\ncontent-length: 5\r\n\r\n", HTTP_HEAD_OK, NULL},
        {GET "Content-Length: 0\r\nContent-Length: 40\r\n\r\n", HTTP_HEAD_REFUSE, "malformed"},
        {GET "Content-Length: 40\r\nCONTENT-LENGTH: 0\r\n\r\n", HTTP_HEAD_REFUSE, "malformed"},
        {GET "Content-Length: 5\r\nContent-Length: 05\r\n\r\n", HTTP_HEAD_REFUSE, "malformed"},
        {GET "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_HEAD_REFUSE,
         "malformed"},
        {GET "transfer-encoding: chunked\r\nContent-length: 5\r\n\r\n", HTTP_HEAD_REFUSE,
         "malformed"},
        {GET "Transfer-Encoding: chunked\r\n\r\n", HTTP_HEAD_OK, NULL},
        {GET "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n",
         HTTP_HEAD_REFUSE, "malformed"},
        {GET "Content-Type: application/json\r\n\r\n", HTTP_HEAD_OK, NULL},
        {GET "Content-Type: application/json\r\ncontent-type: text/plain\r\n\r\n",
         HTTP_HEAD_REFUSE, "malformed"},
        {GET "Content-Type: application/json\r\nContent-Type: application/json\r\n\r\n",
         HTTP_HEAD_REFUSE, "malformed"},
        /* A folded line would continue Content-Length for some readers and not for others. */
        {GET "Content-Length: 5\r\n 6\r\n\r\n", HTTP_HEAD_REFUSE, "malformed"},
        /* Look-alikes are other headers. */
        {GET "Content-Lengths: 1\r\nContent-Length: 2\r\nX-Content-Length: 3\r\n\r\n",
         HTTP_HEAD_OK, NULL},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *head = cases[i].head;
        /* One case starts with NUL: strlen would see nothing of it. */
        size_t len = head[0] == '\0' && cases[i].code != NULL ? 15 : strlen(head);
        struct http_refusal r = {0, NULL, NULL};
        size_t head_len = 0;

        enum http_head_verdict v = http_head_check(head, len, &head_len, &r);
        check_report(v == cases[i].verdict, __FILE__, __LINE__, head);
        if (v != cases[i].verdict)
            fprintf(stderr, "    case %zu: verdict %d, expected %d\n", i, v, cases[i].verdict);
        if (cases[i].verdict == HTTP_HEAD_OK)
            CHECK_EQ_INT(head_len, strlen(head));
        if (cases[i].verdict == HTTP_HEAD_REFUSE && v == HTTP_HEAD_REFUSE) {
            CHECK_EQ_INT(r.status, 400);
            CHECK_EQ_STR(r.code, cases[i].code);
            CHECK(r.message != NULL && r.message[0] != '\0');
        }
    }
}

/* The head is measured on its own: a body and a pipelined request may follow. */
static void test_head_length_with_body_following(void)
{
    static const char req[] = "POST /api/v1/rooms HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
                              "GET / HTTP/1.1\r\n\r\n";
    struct http_refusal r;
    size_t head_len = 0;

    CHECK_EQ_INT(http_head_check(req, sizeof(req) - 1, &head_len, &r), HTTP_HEAD_OK);
    CHECK_EQ_INT(head_len, strstr(req, "{}") - req);
}

static char *head_with_headers(size_t n, size_t *len)
{
    char *buf = malloc(64 + n * 16);
    size_t o = (size_t)sprintf(buf, GET);

    for (size_t i = 0; i < n - 1; i++) /* Host is one */
        o += (size_t)sprintf(buf + o, "X-H%zu: v\r\n", i);
    o += (size_t)sprintf(buf + o, "\r\n");
    *len = o;
    return buf;
}

static void test_header_count_and_size(void)
{
    struct http_refusal r;
    size_t len, head_len;
    char *head;

    head = head_with_headers(HTTP_MAX_HEADERS, &len);
    CHECK_EQ_INT(http_head_check(head, len, &head_len, &r), HTTP_HEAD_OK);
    free(head);
    for (size_t n = HTTP_MAX_HEADERS + 1; n < 1000; n += 449) {
        head = head_with_headers(n, &len);
        CHECK_EQ_INT(http_head_check(head, len, &head_len, &r), HTTP_HEAD_REFUSE);
        CHECK_EQ_STR(r.code, "too_many_headers");
        free(head);
    }
    /* A head still open at h2o's limit is refused; one byte short, it may yet end. */
    head = malloc(HTTP_MAX_HEAD + 10);
    memcpy(head, GET "X-Pad: ", strlen(GET "X-Pad: "));
    memset(head + strlen(GET "X-Pad: "), 'p', HTTP_MAX_HEAD + 10 - strlen(GET "X-Pad: "));
    CHECK_EQ_INT(http_head_check(head, HTTP_MAX_HEAD - 1, &head_len, &r), HTTP_HEAD_INCOMPLETE);
    CHECK_EQ_INT(http_head_check(head, HTTP_MAX_HEAD, &head_len, &r), HTTP_HEAD_REFUSE);
    CHECK_EQ_STR(r.code, "header_too_large");
    CHECK_EQ_INT(http_head_check(head, HTTP_MAX_HEAD + 10, &head_len, &r), HTTP_HEAD_REFUSE);
    free(head);
}

static void test_h2o_errors(void)
{
    static const struct {
        int status;
        const char *h2o_body, *code;
    } cases[] = {
        {400, "broken chunked-encoding", "malformed"},
        {400, "unknown transfer-encoding", "malformed"},
        {400, "broken content-length header", "malformed"},
        {413, "request entity is too large", "too_large"},
        {417, "unknown expectation", "expectation_failed"},
        {404, "not found", "not_found"},
        {400, "something new", "malformed"},
        {502, "too many internal delegations", "internal"},
        {400, NULL, "malformed"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct http_refusal r;
        http_h2o_error(cases[i].status, cases[i].h2o_body, &r);
        CHECK_EQ_INT(r.status, cases[i].status);
        CHECK_EQ_STR(r.code, cases[i].code);
        CHECK(r.message != NULL && r.message[0] != '\0');
    }
}

static void test_reason_phrases(void)
{
    CHECK_EQ_STR(http_reason_phrase(200), "OK");
    CHECK_EQ_STR(http_reason_phrase(201), "Created");
    CHECK_EQ_STR(http_reason_phrase(415), "Unsupported Media Type");
    CHECK_EQ_STR(http_reason_phrase(417), "Expectation Failed");
    CHECK_EQ_STR(http_reason_phrase(429), "Too Many Requests");
    CHECK_EQ_STR(http_reason_phrase(503), "Service Unavailable");
    CHECK_EQ_STR(http_reason_phrase(299), "");
    CHECK_EQ_STR(http_reason_phrase(-1), "");
}

static void test_error_response(void)
{
    struct http_refusal r = {429, "too_many_connections", "say \"why\"\n"};
    size_t len;
    char *text = http_error_response(&r, &len);
    const char *body = strstr(text, "\r\n\r\n");
    json_error_t jerr;
    json_t *doc;

    CHECK_EQ_INT(len, strlen(text));
    CHECK(strncmp(text, "HTTP/1.1 429 Too Many Requests\r\n", 32) == 0);
    CHECK(strstr(text, "\r\nContent-Type: application/json; charset=utf-8\r\n") != NULL);
    CHECK(strstr(text, "\r\nConnection: close\r\n") != NULL);
    CHECK(body != NULL);
    if (body == NULL) {
        free(text);
        return;
    }
    body += 4;
    char want[64];
    snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n", strlen(body));
    CHECK(strstr(text, want) != NULL);
    doc = json_loads(body, 0, &jerr);
    CHECK(doc != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(doc, "error"), "code")),
                 "too_many_connections");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(doc, "error"), "message")),
                 "say \"why\"\n");
    json_decref(doc);
    free(text);
}

int main(void)
{
    test_head_verdicts();
    test_head_length_with_body_following();
    test_header_count_and_size();
    test_h2o_errors();
    test_reason_phrases();
    test_error_response();
    return check_finish();
}
