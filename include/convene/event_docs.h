/*
 * event_docs.h - a bounded cache of parsed event documents, shared by the
 * read paths (feed rendering, occurrence lists).
 *
 * Under load most of a read used to be json_loads of documents that had
 * not changed since the last read. The cache keeps the parsed document and
 * the row's metadata per event id, least recently used first out.
 *
 * Consistency: the store tells the cache about every write to an event
 * (store_on_event_write), and the cache never keeps what it read inside an
 * open transaction, which might still roll back. So an entry is always the
 * committed row. Entries are reference counted: a caller may keep one
 * across later lookups that evict it.
 */
#ifndef CONVENE_EVENT_DOCS_H
#define CONVENE_EVENT_DOCS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "convene/store.h"

struct event_doc {
    struct event_row row; /* row.doc is NULL: the text is dropped once parsed */
    json_t *doc;          /* parsed document; shared, never modify it */
    /*
     * What read paths derived from this version of the event (the feed
     * renderer's VEVENT text, the occurrence list's JSON), each under its
     * own key and freed with the entry: a write to the event drops all.
     */
    struct event_doc_attachment *attachments;
    /* The fields below belong to the cache. */
    unsigned refs;
    size_t cost;          /* bytes charged against the cache's budget (estimate) */
    struct event_doc *hash_next, *lru_prev, *lru_next;
    int cached;           /* linked into the cache (else freed on last release) */
};

struct event_doc_attachment {
    const void *key;             /* the owner's identity: the address of one of its statics */
    void *data;
    void (*free_fn)(void *data);
    struct event_doc_attachment *next;
};

struct event_docs;

/* A cache holding about max_bytes of parsed documents; it reads through st. */
struct event_docs *event_docs_new(struct store *st, size_t max_bytes);
void event_docs_free(struct event_docs *cache);

/*
 * The event's row and parsed document: a new reference, to be released with
 * event_doc_release. NULL with *rc = STORE_NOTFOUND, or STORE_ERROR (also
 * when the stored document does not parse: logged).
 */
struct event_doc *event_docs_get(struct event_docs *cache, const char *id, int *rc);
void event_doc_release(struct event_doc *d);

/* What the owner `key` attached to d, or NULL. */
void *event_doc_attached(const struct event_doc *d, const void *key);
/*
 * Attaches data under key (one per key; the caller checked there is none),
 * charged `bytes` against the budget; free_fn(data) runs when d goes.
 */
void event_doc_attach(struct event_docs *cache, struct event_doc *d, const void *key, void *data,
                      void (*free_fn)(void *data), size_t bytes);
/* Counts bytes attached to (or, negative, freed from) an entry against the budget; may evict others. */
void event_docs_charge(struct event_docs *cache, struct event_doc *d, long bytes);

/* Drops the entry of an event that was written (the store's observer). */
void event_docs_forget(struct event_docs *cache, const char *id);

/* Counters for /metrics. */
void event_docs_stats(const struct event_docs *cache, uint64_t *hits, uint64_t *misses,
                      size_t *entries, size_t *bytes);

#endif
