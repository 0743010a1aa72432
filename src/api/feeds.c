/*
 * feeds.c - GET /feeds/{token}.ics. The secret token in the path is the
 * credential (no bearer token): its hash names the calendar. Rendered
 * bodies are cached until a change touches the calendar; conditional
 * requests (ETag, Last-Modified) and gzip are answered from the cache,
 * whose bodies are sent as they are.
 */
#define _GNU_SOURCE /* strptime, strcasestr */
#include "handlers.h"

#include "convene/feed.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FEED_TOKEN_LEN 22

static int64_t parse_http_date(const char *s, size_t len)
{
    char buf[64];
    struct tm tm;

    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(&tm, 0, sizeof(tm));
    if (strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL)
        return -1;
    return (int64_t)timegm(&tm);
}

/*
 * The calendar a path token names; 0, or -1 after replying 404. A token
 * found before is taken from the feed cache while the database is as it
 * was then: hashing it and asking SQLite was 40% of a cached GET.
 */
static int resolve(struct api_call *call, char *kind, size_t kindlen, char id[ID_STR_MAX])
{
    const char *p = call->params[0];
    size_t len = strlen(p);
    unsigned char hash[TOKEN_HASH_LEN];
    struct store *st = call->app->store;
    int64_t data_version = 0;
    int rc, cacheable;

    if (len != FEED_TOKEN_LEN + 4 || strcmp(p + FEED_TOKEN_LEN, ".ics") != 0) {
        api_reply_error(call, 404, "not_found", NULL, "no such feed");
        return -1;
    }
    /* A deleted record or a rotated token moves store_record_writes: nothing stale is served. */
    cacheable = store_data_version(st, &data_version) == STORE_OK && !store_in_transaction(st);
    if (cacheable && feed_cache_token_get(call->app->feeds, data_version, store_record_writes(st),
                                          p, FEED_TOKEN_LEN, kind, kindlen, id))
        return 0;
    token_hash(p, FEED_TOKEN_LEN, hash);
    rc = store_feed_token_find(st, hash, kind, kindlen, id);
    if (rc == STORE_NOTFOUND) {
        api_reply_error(call, 404, "not_found", NULL, "no such feed");
        return -1;
    }
    if (rc != STORE_OK) {
        api_reply_store_error(call);
        return -1;
    }
    if (cacheable)
        feed_cache_token_put(call->app->feeds, data_version, store_record_writes(st), p,
                             FEED_TOKEN_LEN, kind, id);
    return 0;
}

/* If-None-Match against the representation being sent, else If-Modified-Since. */
static int not_modified(const struct api_request *req, const char *etag, int64_t last_modified)
{
    if (req->if_none_match != NULL) {
        size_t n = strlen(etag);
        /* A list of tags may come back; any match counts. */
        for (size_t i = 0; i + n <= req->if_none_match_len; i++)
            if (memcmp(req->if_none_match + i, etag, n) == 0)
                return 1;
        return req->if_none_match_len == 1 && req->if_none_match[0] == '*';
    }
    if (req->if_modified_since != NULL) {
        int64_t since = parse_http_date(req->if_modified_since, req->if_modified_since_len);
        return since >= 0 && last_modified <= since;
    }
    return 0;
}

void api_feed_reply(struct api_call *call, const struct feed_entry *e, const char *cache_control)
{
    struct api_response *res = call->res;
    int gzip = e->gzip != NULL && api_accepts_gzip(call->req);
    /*
     * The gzip bytes are another representation: a strong ETag names one
     * byte sequence (RFC 9110 8.8.3), so each has its own, and a 304 is
     * given only for the tag of the one this request would get.
     */
    const char *etag = gzip ? e->etag_gzip : e->etag;

    api_add_header(call, "last-modified", e->last_modified_http);
    api_add_header(call, "cache-control", cache_control);
    api_add_header(call, "vary", "Accept-Encoding");
    _Static_assert(sizeof(res->etag) == sizeof(e->etag), "an entry's tag fits the response's");
    memcpy(res->etag, etag, sizeof(res->etag));
    if (not_modified(call->req, etag, e->last_modified)) {
        api_reply_empty(call, 304);
        return;
    }
    res->content_type = "text/calendar; charset=utf-8";
    if (gzip)
        api_add_header(call, "content-encoding", "gzip");
    /* The cached bytes go out as they are: no copy per request. */
    api_reply_shared(call, 200, gzip ? e->gzip : e->plain);
}

void api_feed_get(struct api_call *call)
{
    char kind[16], id[ID_STR_MAX];
    const struct feed_entry *e;

    if (resolve(call, kind, sizeof(kind), id) != 0)
        return;
    e = feed_cache_get(call->app->feeds, kind, id);
    if (e == NULL) {
        struct strbuf body;
        int64_t last_modified;
        if (feed_render(call->app, kind, id, &body, &last_modified) != 0) {
            strbuf_free(&body);
            api_reply_store_error(call);
            return;
        }
        size_t len;
        char *data = strbuf_detach(&body, &len);
        e = feed_cache_put(call->app->feeds, kind, id, data, len, last_modified);
    }
    api_feed_reply(call, e, "private, max-age=300");
}
