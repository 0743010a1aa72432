/*
 * event_docs.c - the parsed-document cache (see event_docs.h): a chained
 * hash table by event id plus a doubly linked LRU list, bounded by an
 * estimate of the bytes the parsed documents take.
 */
#include "convene/event_docs.h"
#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

#define MIN_BUCKETS 1024

/*
 * jansson spends several times the text's size on a parsed document (an
 * object and a hashtable per JSON object, a malloc per string); measured at
 * about 4x on the load benchmark's documents, plus the row and our node.
 */
#define PARSED_FACTOR 4
#define NODE_OVERHEAD 512

struct event_docs {
    struct store *st;             /* not owned */
    struct event_doc **buckets;
    size_t nbuckets, entries, bytes, max_bytes;
    struct event_doc *lru_head;   /* most recently used */
    struct event_doc *lru_tail;   /* next to go */
    uint64_t hits, misses;
};

static size_t bucket_of(const struct event_docs *c, const char *id)
{
    uint32_t h = 2166136261u;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h & (c->nbuckets - 1);
}

static void doc_free(struct event_doc *d)
{
    while (d->attachments != NULL) {
        struct event_doc_attachment *a = d->attachments;
        d->attachments = a->next;
        a->free_fn(a->data);
        free(a);
    }
    json_decref(d->doc);
    store_event_row_clear(&d->row);
    free(d);
}

void event_doc_release(struct event_doc *d)
{
    if (d != NULL && --d->refs == 0)
        doc_free(d);
}

struct event_docs *event_docs_new(struct store *st, size_t max_bytes)
{
    struct event_docs *c = xcalloc(1, sizeof(*c));

    c->st = st;
    c->nbuckets = MIN_BUCKETS;
    c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
    c->max_bytes = max_bytes;
    return c;
}

static void lru_unlink(struct event_docs *c, struct event_doc *d)
{
    if (d->lru_prev != NULL)
        d->lru_prev->lru_next = d->lru_next;
    else
        c->lru_head = d->lru_next;
    if (d->lru_next != NULL)
        d->lru_next->lru_prev = d->lru_prev;
    else
        c->lru_tail = d->lru_prev;
    d->lru_prev = d->lru_next = NULL;
}

static void lru_push_front(struct event_docs *c, struct event_doc *d)
{
    d->lru_prev = NULL;
    d->lru_next = c->lru_head;
    if (c->lru_head != NULL)
        c->lru_head->lru_prev = d;
    c->lru_head = d;
    if (c->lru_tail == NULL)
        c->lru_tail = d;
}

/* Unlinks d from the table and the list and drops the cache's reference. */
static void evict(struct event_docs *c, struct event_doc *d)
{
    struct event_doc **link = &c->buckets[bucket_of(c, d->row.id)];

    while (*link != d)
        link = &(*link)->hash_next;
    *link = d->hash_next;
    lru_unlink(c, d);
    c->entries--;
    c->bytes -= d->cost;
    d->cached = 0;
    event_doc_release(d);
}

void event_docs_free(struct event_docs *c)
{
    if (c == NULL)
        return;
    while (c->lru_tail != NULL)
        evict(c, c->lru_tail);
    free(c->buckets);
    free(c);
}

static struct event_doc *find(struct event_docs *c, const char *id)
{
    for (struct event_doc *d = c->buckets[bucket_of(c, id)]; d != NULL; d = d->hash_next)
        if (strcmp(d->row.id, id) == 0)
            return d;
    return NULL;
}

/* Doubles the table when it gets crowded, so chains stay short as the cache fills. */
static void grow(struct event_docs *c)
{
    struct event_doc **old = c->buckets;
    size_t n = c->nbuckets;

    c->nbuckets *= 2;
    c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
    for (size_t i = 0; i < n; i++) {
        while (old[i] != NULL) {
            struct event_doc *d = old[i];
            size_t b;
            old[i] = d->hash_next;
            b = bucket_of(c, d->row.id);
            d->hash_next = c->buckets[b];
            c->buckets[b] = d;
        }
    }
    free(old);
}

static void insert(struct event_docs *c, struct event_doc *d)
{
    size_t b;

    if (c->entries >= c->nbuckets)
        grow(c);
    b = bucket_of(c, d->row.id);
    d->hash_next = c->buckets[b];
    c->buckets[b] = d;
    lru_push_front(c, d);
    d->cached = 1;
    d->refs++;
    c->entries++;
    c->bytes += d->cost;
    /* Never evict the entry just added: a document larger than the budget still serves this read. */
    while (c->bytes > c->max_bytes && c->lru_tail != d)
        evict(c, c->lru_tail);
}

struct event_doc *event_docs_get(struct event_docs *c, const char *id, int *rc)
{
    struct event_doc *d = find(c, id);
    json_error_t jerr;
    size_t text_len;

    if (d != NULL) {
        c->hits++;
        lru_unlink(c, d);
        lru_push_front(c, d);
        d->refs++;
        *rc = STORE_OK;
        return d;
    }
    c->misses++;
    d = xcalloc(1, sizeof(*d));
    *rc = store_event_get(c->st, id, &d->row);
    if (*rc != STORE_OK) {
        doc_free(d);
        return NULL;
    }
    text_len = strlen(d->row.doc);
    d->doc = json_loadb(d->row.doc, text_len, 0, &jerr);
    if (d->doc == NULL) {
        log_error("event_docs: event %s: stored document does not parse: %s", id, jerr.text);
        doc_free(d);
        *rc = STORE_ERROR;
        return NULL;
    }
    free(d->row.doc);
    d->row.doc = NULL;
    d->cost = PARSED_FACTOR * text_len + NODE_OVERHEAD;
    d->refs = 1;
    /* What a transaction read may still roll back: serve it, but do not keep it. */
    if (!store_in_transaction(c->st))
        insert(c, d);
    return d;
}

void *event_doc_attached(const struct event_doc *d, const void *key)
{
    for (const struct event_doc_attachment *a = d->attachments; a != NULL; a = a->next)
        if (a->key == key)
            return a->data;
    return NULL;
}

void event_doc_attach(struct event_docs *c, struct event_doc *d, const void *key, void *data,
                      void (*free_fn)(void *data), size_t bytes)
{
    struct event_doc_attachment *a = xcalloc(1, sizeof(*a));

    a->key = key;
    a->data = data;
    a->free_fn = free_fn;
    a->next = d->attachments;
    d->attachments = a;
    event_docs_charge(c, d, (long)(bytes + sizeof(*a)));
}

void event_docs_charge(struct event_docs *c, struct event_doc *d, long bytes)
{
    d->cost += (size_t)bytes; /* wraps back for a negative amount, which is what we want */
    if (!d->cached)
        return;
    c->bytes += (size_t)bytes;
    while (c->bytes > c->max_bytes && c->lru_tail != d)
        evict(c, c->lru_tail);
}

void event_docs_forget(struct event_docs *c, const char *id)
{
    struct event_doc *d = find(c, id);

    if (d != NULL)
        evict(c, d);
}

void event_docs_stats(const struct event_docs *c, uint64_t *hits, uint64_t *misses,
                      size_t *entries, size_t *bytes)
{
    *hits = c->hits;
    *misses = c->misses;
    *entries = c->entries;
    *bytes = c->bytes;
}
