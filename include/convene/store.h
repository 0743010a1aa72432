/*
 * store.h - the storage boundary. Everything the service keeps goes
 * through these functions; nothing above this header sees SQL. The SQLite
 * implementation lives in src/store/; a PostgreSQL one can implement the
 * same functions for multi-instance deployments.
 *
 * Writes run inside store_begin()/store_commit() (BEGIN IMMEDIATE on the
 * single writer connection), so a request's checks and writes are atomic.
 */
#ifndef CONVENE_STORE_H
#define CONVENE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "convene/config.h"
#include "convene/record.h"
#include "convene/timeutil.h"
#include "convene/token.h"

enum store_result {
    STORE_OK = 0,
    STORE_ERROR = -1,     /* I/O, corruption, full disk: logged once */
    STORE_NOTFOUND = -2,
    STORE_DUPLICATE = -3, /* a unique key already exists */
};

struct store;

/* Opens (creating if needed) and migrates the database. *out owned by caller. */
int store_open(const char *path, enum durability durability, struct store **out);
void store_close(struct store *st);

/* Schema version reached by migrations, and the number the binary knows. */
int store_schema_version(struct store *st);
int store_schema_latest(void);

int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* Size of the database file in bytes (page_count * page_size). */
int64_t store_size_bytes(struct store *st);

/* Copies a live database with SQLite's online backup API into dst (atomically renamed). */
int store_backup(const char *src_path, const char *dst_path, char *err, size_t errlen);

/* --- API tokens --- */
struct token_record {
    char id[ID_STR_MAX];
    char name[128];
    char role[16];
    char person[ID_STR_MAX]; /* "" if not bound to a person */
    unsigned char hash[TOKEN_HASH_LEN];
    int64_t created_at;
};

int store_token_insert(struct store *st, const struct token_record *tok);
/* Finds an unrevoked token by hash. STORE_NOTFOUND if none. */
int store_token_find(struct store *st, const unsigned char hash[TOKEN_HASH_LEN],
                     struct token_record *out);
/* Revokes a live token; STORE_NOTFOUND if none. */
int store_token_revoke(struct store *st, const char *id, int64_t now);
int store_token_count_role(struct store *st, const char *role, int64_t *count);

/* --- people, rooms, vehicles --- */
int store_record_insert(struct store *st, const struct record_type *type, const struct record *rec);
/* Loads a live (not deleted) record; rec must be record_init()ed. */
int store_record_get(struct store *st, const struct record_type *type, const char *id,
                     struct record *rec);
/* Calls cb for every live record, ordered by name. cb returning non-zero stops. */
int store_record_list(struct store *st, const struct record_type *type,
                      int (*cb)(const struct record *rec, void *arg), void *arg);
/* Writes all fields and the version/updated_at of rec. */
int store_record_update(struct store *st, const struct record_type *type, const struct record *rec);
int store_record_delete(struct store *st, const struct record_type *type, const char *id,
                        int64_t now);
int store_record_exists(struct store *st, const struct record_type *type, const char *id);
int store_record_count(struct store *st, const struct record_type *type, int64_t *count);
int store_record_set_feed_generation(struct store *st, const struct record_type *type,
                                     const char *id, int64_t generation);

/* --- feed tokens: hash -> calendar --- */
int store_feed_token_set(struct store *st, const char *kind, const char *id,
                         const unsigned char hash[TOKEN_HASH_LEN]);
int store_feed_token_find(struct store *st, const unsigned char hash[TOKEN_HASH_LEN], char *kind,
                          size_t kindlen, char id[ID_STR_MAX]);

/* --- blocks: unavailability of a person, room or vehicle --- */
struct block_record {
    char id[ID_STR_MAX];
    char resource_type[16];
    char resource_id[ID_STR_MAX];
    char start[TIME_LOCAL_STR]; /* local wall time in tz */
    char end[TIME_LOCAL_STR];
    char tz[64];
    int64_t start_utc, end_utc;
    char *reason; /* owned, may be NULL */
    int64_t version;
    int64_t created_at;
    char created_by[ID_STR_MAX]; /* token id */
};

int store_block_insert(struct store *st, const struct block_record *b);
int store_block_get(struct store *st, const char *id, struct block_record *out);
/* Live blocks, optionally of one resource (type/id may be NULL), ordered by start. */
int store_block_list(struct store *st, const char *type, const char *id,
                     int (*cb)(const struct block_record *b, void *arg), void *arg);
int store_block_delete(struct store *st, const char *id, int64_t now);
void store_block_clear(struct block_record *b);

#endif
