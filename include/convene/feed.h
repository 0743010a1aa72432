/*
 * feed.h - iCalendar feeds of people, rooms and vehicles (CONTRACT
 * section 8): rendering from the stored events, and a cache of rendered
 * bodies (plain and gzip) that a change to a calendar invalidates, so
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
    char *body;
    size_t body_len;
    char *gzip;            /* gzip-compressed body */
    size_t gzip_len;
    char etag[48];         /* quoted, from a hash of the body */
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
void feed_cache_clear(struct feed_cache *cache);

#endif
