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

#include "convene/token.h"
#include "convene/util.h"

struct app;

/* Renders the calendar of kind ("person", "room", "vehicle") id into out. 0 or -1. */
int feed_render(struct app *app, const char *kind, const char *id, struct strbuf *out,
                int64_t *last_modified);

/*
 * One version of a calendar, in both representations, each sent as is
 * (no copy, no inflating) for as long as the version is current.
 */
struct feed_entry {
    struct shared_body *plain; /* the body as rendered */
    struct shared_body *gzip;  /* gzip of it; NULL when compression failed */
    char etag[48];             /* quoted, from a hash of the body */
    char etag_gzip[48];        /* the gzip body's own: etag with "-gz" inside the quotes */
    char last_modified_http[32]; /* last_modified as an HTTP date */
    int64_t last_modified;     /* newest change among the calendar's events */
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

/*
 * Path tokens resolved before, so a repeated GET skips hashing the token
 * and asking the database: token -> calendar, valid while the caller's view
 * of the database (data_version, writes) is what it was when put. Found:
 * 1 with kind and id filled; else 0. Only tokens found live are put.
 */
#define FEED_PATH_TOKEN_MAX 32
int feed_cache_token_get(struct feed_cache *cache, int64_t data_version, uint64_t writes,
                         const char *token, size_t len, char *kind, size_t kindlen,
                         char id[ID_STR_MAX]);
void feed_cache_token_put(struct feed_cache *cache, int64_t data_version, uint64_t writes,
                          const char *token, size_t len, const char *kind, const char *id);

#endif
