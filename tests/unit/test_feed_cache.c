/*
 * test_feed_cache.c - the feed cache (issue 19): both bodies kept per
 * version and exact, bodies that outlive their entry while a response
 * still holds them, and the path-token cache going stale with the database.
 */
#include "check.h"

#include "convene/feed.h"
#include "convene/util.h"

#include <stdint.h>
#include <zlib.h>

static char *dup_text(const char *s, size_t *len)
{
    *len = strlen(s);
    return xstrndup(s, *len);
}

/* gunzip of b equals want[0..len). */
static int gunzips_to(const struct shared_body *b, const char *want, size_t len)
{
    char out[4096];
    z_stream zs;
    int rc;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return 0;
    zs.next_in = (Bytef *)(uintptr_t)b->data;
    zs.avail_in = (uInt)b->len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = sizeof(out);
    rc = inflate(&zs, Z_FINISH);
    inflateEnd(&zs);
    return rc == Z_STREAM_END && zs.total_out == len && memcmp(out, want, len) == 0;
}

static void test_both_bodies(void)
{
    struct feed_cache *c = feed_cache_new();
    const char *text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
    size_t len, entries, bytes;
    char *body = dup_text(text, &len);
    const struct feed_entry *e = feed_cache_put(c, "person", "p1", body, len, 1700000000);

    CHECK(e->plain != NULL && e->gzip != NULL);
    CHECK_EQ_INT(e->plain->len, len);
    CHECK(memcmp(e->plain->data, text, len) == 0);
    CHECK(gunzips_to(e->gzip, text, len));
    CHECK_EQ_STR(e->last_modified_http, "Tue, 14 Nov 2023 22:13:20 GMT");
    CHECK(e->etag[0] == '"' && strlen(e->etag) == 26);
    /* The gzip tag is the plain one with -gz inside the quotes. */
    CHECK(strncmp(e->etag_gzip, e->etag, 25) == 0 && strcmp(e->etag_gzip + 25, "-gz\"") == 0);
    CHECK(feed_cache_get(c, "person", "p1") == e);
    CHECK(feed_cache_get(c, "person", "p2") == NULL);
    feed_cache_stats(c, &entries, &bytes);
    CHECK_EQ_INT(entries, 1);
    CHECK_EQ_INT(bytes, len + e->gzip->len);
    feed_cache_free(c);
}

/* A key longer than the table's is cut the same way for get and put. */
static void test_long_key(void)
{
    struct feed_cache *c = feed_cache_new();
    char id[100];
    size_t len;

    memset(id, 'x', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    const struct feed_entry *e = feed_cache_put(c, "room", id, dup_text("a", &len), 1, 0);
    CHECK(feed_cache_get(c, "room", id) == e);
    CHECK(feed_cache_get(c, "vehicle", id) == NULL);
    feed_cache_free(c);
}

static int unpinned;
static void count_unpin(void *pin)
{
    (void)pin;
    unpinned++;
}

/*
 * A response holds the body it sends (a reference); the cache dropping the
 * version (a change, a new render) must not free the bytes under it. ASan
 * turns a mistake here into a use-after-free report.
 */
static void test_body_outlives_entry(void)
{
    struct feed_cache *c = feed_cache_new();
    size_t len;
    char *v1 = dup_text("v1 body", &len);
    const struct feed_entry *e = feed_cache_put(c, "person", "p1", v1, len, 5);
    struct shared_body *sending = e->gzip;
    struct shared_body *plain = e->plain;

    shared_body_retain(sending);
    shared_body_retain(plain);
    plain->pin = plain; /* as the HTTP layer's pin would be */
    plain->unpin = count_unpin;
    char *v2 = dup_text("v2 body!", &len);
    e = feed_cache_put(c, "person", "p1", v2, len, 6);
    CHECK_EQ_INT(e->plain->len, 8);
    CHECK_EQ_INT(unpinned, 1); /* the old version let go of its pin */
    CHECK(plain->pin == NULL);
    CHECK(memcmp(plain->data, "v1 body", 7) == 0);
    CHECK(gunzips_to(sending, "v1 body", 7));
    shared_body_release(plain);
    feed_cache_invalidate(c, "person", "p1");
    CHECK(feed_cache_get(c, "person", "p1") == NULL);
    CHECK(gunzips_to(sending, "v1 body", 7));
    shared_body_release(sending);
    feed_cache_free(c);
}

static void test_tokens(void)
{
    struct feed_cache *c = feed_cache_new();
    const char *tok = "AbCdEfGhIjKlMnOpQrStUv";
    char kind[16], id[ID_STR_MAX], small[4];
    size_t n = strlen(tok);

    CHECK(!feed_cache_token_get(c, 7, 1, tok, n, kind, sizeof(kind), id));
    feed_cache_token_put(c, 7, 1, tok, n, "person", "p1");
    CHECK(feed_cache_token_get(c, 7, 1, tok, n, kind, sizeof(kind), id));
    CHECK_EQ_STR(kind, "person");
    CHECK_EQ_STR(id, "p1");
    /* Another token, the same token cut short, or a buffer too small: no answer. */
    CHECK(!feed_cache_token_get(c, 7, 1, "AbCdEfGhIjKlMnOpQrStUw", n, kind, sizeof(kind), id));
    CHECK(!feed_cache_token_get(c, 7, 1, tok, n - 1, kind, sizeof(kind), id));
    CHECK(!feed_cache_token_get(c, 7, 1, tok, n, small, sizeof(small), id));
    /* A write here (a deletion, a rotation) or another process's commit: stale. */
    CHECK(!feed_cache_token_get(c, 7, 2, tok, n, kind, sizeof(kind), id));
    feed_cache_token_put(c, 7, 2, tok, n, "person", "p1");
    CHECK(!feed_cache_token_get(c, 8, 2, tok, n, kind, sizeof(kind), id));
    /* Going back to an older stamp does not revive what was put before it. */
    CHECK(!feed_cache_token_get(c, 7, 2, tok, n, kind, sizeof(kind), id));
    /* Over-long tokens are never kept. */
    char longtok[FEED_PATH_TOKEN_MAX + 2];
    memset(longtok, 'a', sizeof(longtok));
    feed_cache_token_put(c, 8, 2, longtok, sizeof(longtok), "person", "p1");
    CHECK(!feed_cache_token_get(c, 8, 2, longtok, sizeof(longtok), kind, sizeof(kind), id));
    feed_cache_free(c);
}

int main(void)
{
    test_both_bodies();
    test_long_key();
    test_body_outlives_entry();
    test_tokens();
    return check_finish();
}
