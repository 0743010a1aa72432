/*
 * feed_cache.c - rendered feeds by calendar, in a small chained hash
 * table. Entries are dropped when a change touches their calendar; the
 * body's hash is the ETag (with "-gz" for the gzip body), so it survives
 * restarts unchanged. Both bodies are kept per version, ready to send: a
 * plain GET used to inflate the gzip body, 71% of its instructions
 * (issue 19). Beside it, the path tokens already resolved.
 */
#include "convene/feed.h"
#include "convene/token.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define BUCKETS 256
/*
 * Level 3 (zlib's fast strategy): on a typical feed 4x less CPU than level
 * 9 for a body about 20% larger (still ~9x smaller than the plain text).
 * Compression was 13% of the loop under load at level 9.
 */
#define FEED_GZIP_LEVEL 3
#define TOKEN_SLOTS 4096 /* power of two: one per recently used feed URL */

struct node {
    char key[80];
    struct feed_entry entry;
    struct node *next;
};

/* A resolved path token; current while its generation is the cache's. */
struct token_slot {
    uint64_t generation; /* 0: never used */
    size_t len;
    char token[FEED_PATH_TOKEN_MAX];
    char kind[16];
    char id[ID_STR_MAX];
};

struct feed_cache {
    struct node *buckets[BUCKETS];
    struct token_slot *tokens; /* TOKEN_SLOTS, direct-mapped by a hash of the token */
    uint64_t token_generation; /* bumped when the database changed: every slot is stale */
    int64_t token_data_version;
    uint64_t token_writes;
    json_t *names; /* display names for renders: "kind:id" -> [name, updated_at] */
    uint64_t names_generation; /* bumped whenever names are dropped */
};

static size_t bucket_of(const char *key)
{
    uint32_t h = 2166136261u;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h % BUCKETS;
}

/* "kind:id", cut to fit as snprintf would; without it: snprintf was 5% of a cached GET. */
static void make_key(char key[80], const char *kind, const char *id)
{
    size_t k = strnlen(kind, 79), i = k < 79 ? strnlen(id, 78 - k) : 0;

    memcpy(key, kind, k);
    if (k < 79) {
        key[k++] = ':';
        memcpy(key + k, id, i);
    }
    key[k + i] = '\0';
}

static void node_free(struct node *n)
{
    shared_body_drop(n->entry.plain);
    shared_body_drop(n->entry.gzip);
    free(n);
}

struct feed_cache *feed_cache_new(void)
{
    struct feed_cache *cache = xcalloc(1, sizeof(struct feed_cache));

    cache->names = json_object();
    cache->tokens = xcalloc(TOKEN_SLOTS, sizeof(*cache->tokens));
    cache->token_generation = 1;
    return cache;
}

json_t *feed_cache_names(struct feed_cache *cache)
{
    return cache->names;
}

uint64_t feed_cache_names_generation(const struct feed_cache *cache)
{
    return cache->names_generation;
}

void feed_cache_clear(struct feed_cache *cache)
{
    for (size_t i = 0; i < BUCKETS; i++) {
        while (cache->buckets[i] != NULL) {
            struct node *n = cache->buckets[i];
            cache->buckets[i] = n->next;
            node_free(n);
        }
    }
    json_object_clear(cache->names);
    cache->names_generation++;
}

void feed_cache_free(struct feed_cache *cache)
{
    if (cache == NULL)
        return;
    feed_cache_clear(cache);
    json_decref(cache->names);
    free(cache->tokens);
    free(cache);
}

const struct feed_entry *feed_cache_get(struct feed_cache *cache, const char *kind, const char *id)
{
    char key[80];

    make_key(key, kind, id);
    for (struct node *n = cache->buckets[bucket_of(key)]; n != NULL; n = n->next)
        if (strcmp(n->key, key) == 0)
            return &n->entry;
    return NULL;
}

void feed_cache_invalidate(struct feed_cache *cache, const char *kind, const char *id)
{
    char key[80];
    struct node **link;

    make_key(key, kind, id);
    for (link = &cache->buckets[bucket_of(key)]; *link != NULL; link = &(*link)->next) {
        if (strcmp((*link)->key, key) == 0) {
            struct node *n = *link;
            *link = n->next;
            node_free(n);
            return;
        }
    }
}

/* gzip (RFC 1952) of the body; NULL when compression fails (then we serve plain). */
static char *gzip_body(const char *body, size_t len, size_t *out_len)
{
    z_stream zs;
    uLong bound;
    char *out;

    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, FEED_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    bound = deflateBound(&zs, (uLong)len) + 32;
    out = xmalloc(bound);
    zs.next_in = (Bytef *)(uintptr_t)body;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)bound;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&zs);
        free(out);
        return NULL;
    }
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

static void http_date(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

const struct feed_entry *feed_cache_put(struct feed_cache *cache, const char *kind, const char *id,
                                        char *body, size_t len, int64_t last_modified)
{
    struct node *n = xcalloc(1, sizeof(*n));
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char hex[2 * 12 + 1], *gz;
    size_t b, gz_len;

    feed_cache_invalidate(cache, kind, id);
    make_key(n->key, kind, id);
    n->entry.plain = shared_body_new(body, len);
    if ((gz = gzip_body(body, len, &gz_len)) != NULL) {
        n->entry.gzip = shared_body_new(gz, gz_len);
        free(gz);
    }
    free(body);
    n->entry.last_modified = last_modified;
    http_date(last_modified, n->entry.last_modified_http);
    SHA256((const unsigned char *)n->entry.plain->data, len, digest);
    token_hex(digest, 12, hex);
    snprintf(n->entry.etag, sizeof(n->entry.etag), "\"%s\"", hex);
    /* The same content under gzip is different bytes, so it needs a different strong tag. */
    snprintf(n->entry.etag_gzip, sizeof(n->entry.etag_gzip), "\"%s-gz\"", hex);
    b = bucket_of(n->key);
    n->next = cache->buckets[b];
    cache->buckets[b] = n;
    return &n->entry;
}

/* The token's slot, after making every slot stale if the database changed since. */
static struct token_slot *token_slot(struct feed_cache *cache, int64_t data_version,
                                     uint64_t writes, const char *token, size_t len)
{
    uint32_t h = 2166136261u;

    if (data_version != cache->token_data_version || writes != cache->token_writes) {
        cache->token_generation++;
        cache->token_data_version = data_version;
        cache->token_writes = writes;
    }
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)token[i]) * 16777619u;
    return &cache->tokens[h & (TOKEN_SLOTS - 1)];
}

int feed_cache_token_get(struct feed_cache *cache, int64_t data_version, uint64_t writes,
                         const char *token, size_t len, char *kind, size_t kindlen,
                         char id[ID_STR_MAX])
{
    struct token_slot *s;

    if (len == 0 || len > FEED_PATH_TOKEN_MAX)
        return 0;
    s = token_slot(cache, data_version, writes, token, len);
    /* The token is a credential: compared in constant time, like the hash it stands for. */
    if (s->generation != cache->token_generation || s->len != len ||
        CRYPTO_memcmp(s->token, token, len) != 0)
        return 0;
    if (kindlen <= strlen(s->kind))
        return 0;
    memcpy(kind, s->kind, strlen(s->kind) + 1);
    memcpy(id, s->id, ID_STR_MAX);
    return 1;
}

void feed_cache_token_put(struct feed_cache *cache, int64_t data_version, uint64_t writes,
                          const char *token, size_t len, const char *kind, const char *id)
{
    struct token_slot *s;

    if (len == 0 || len > FEED_PATH_TOKEN_MAX || strlen(kind) >= sizeof(s->kind) ||
        strlen(id) >= sizeof(s->id))
        return;
    s = token_slot(cache, data_version, writes, token, len);
    s->generation = cache->token_generation;
    s->len = len;
    memcpy(s->token, token, len);
    snprintf(s->kind, sizeof(s->kind), "%s", kind);
    snprintf(s->id, sizeof(s->id), "%s", id);
}

void feed_cache_stats(const struct feed_cache *cache, size_t *entries, size_t *bytes)
{
    *entries = *bytes = 0;
    for (size_t i = 0; i < BUCKETS; i++) {
        for (const struct node *n = cache->buckets[i]; n != NULL; n = n->next) {
            (*entries)++;
            *bytes += n->entry.plain->len + (n->entry.gzip ? n->entry.gzip->len : 0);
        }
    }
}
