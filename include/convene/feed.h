/*
 * feed.h - iCalendar feeds of people, rooms and vehicles (CONTRACT
 * section 8): rendering from the stored events, and a cache of rendered
 * bodies (gzip) that a change to a calendar invalidates, so
 * repeated GETs and 304s cost no database or libical work.
 */
#ifndef CONVENE_FEED_H
#define CONVENE_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "convene/util.h"

struct app;

/* Renders the calendar of kind ("person", "room", "vehicle") id into out. 0 or -1. */
int feed_render(struct app *app, const char *kind, const char *id, struct strbuf *out,
                int64_t *last_modified);

struct feed_entry {
    char *body;            /* the plain body, kept only when gzip failed (else NULL) */
    size_t body_len;       /* length of the plain body */
    char *gzip;            /* gzip-compressed body */
    size_t gzip_len;
    char etag[48];         /* quoted, from a hash of the body */
    char etag_gzip[48];    /* the gzip body's own: etag with "-gz" inside the quotes */
    int64_t last_modified; /* newest change among the calendar's events */
};

struct feed_cache;

struct feed_cache *feed_cache_new(void);
void feed_cache_free(struct feed_cache *cache);
/* The cached entry or NULL. Valid until the next put/invalidate. */
const struct feed_entry *feed_cache_get(struct feed_cache *cache, const char *kind, const char *id);
/* Takes ownership of body (malloc'd); compresses and hashes it. */
const struct feed_entry *feed_cache_put(struct feed_cache *cache, const char *kind, const char *id,
                                        char *body, size_t len, int64_t last_modified);
void feed_cache_invalidate(struct feed_cache *cache, const char *kind, const char *id);
/* The plain body (body_len bytes, malloc'd, caller frees), inflated when only gzip is kept; NULL on error. */
char *feed_entry_plain(const struct feed_entry *e);
/* Drops every feed and every cached display name (a person, room or vehicle changed). */
void feed_cache_clear(struct feed_cache *cache);
/*
 * The display names renders look up ("kind:id" -> [name, updated_at]),
 * owned by the cache and emptied by feed_cache_clear.
 */
struct json_t;
struct json_t *feed_cache_names(struct feed_cache *cache);
/* Feeds held and the bytes of their bodies (for /metrics). */
void feed_cache_stats(const struct feed_cache *cache, size_t *entries, size_t *bytes);
/* Changes whenever the names are dropped: text rendered with older names is stale. */
uint64_t feed_cache_names_generation(const struct feed_cache *cache);

#endif
