/*
 * store_internal.h - shared by the files of src/store/ only.
 */
#ifndef CONVENE_STORE_INTERNAL_H
#define CONVENE_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "convene/store.h"

#define STMT_CACHE_SIZE 256 /* power of two; comfortably above the statements we use */

struct stmt_slot {
    char *sql;
    sqlite3_stmt *stmt;
};

#define STMT_RECENT_SIZE 512 /* power of two */

/* The slot a caller's SQL pointer found last (store_stmt's shortcut). */
struct stmt_recent {
    const char *sql; /* the caller's pointer, compared, never dereferenced alone */
    size_t slot;     /* index into cache[], whose sql is compared before use */
};

struct store {
    sqlite3 *db;           /* the single writer connection, owned */
    int depth; /* open transactions: 1 = BEGIN IMMEDIATE, more = savepoints */
    int durable; /* configured synchronous=FULL */
    struct stmt_slot cache[STMT_CACHE_SIZE];
    struct stmt_recent recent[STMT_RECENT_SIZE];
    void (*on_event_write)(void *arg, const char *event_id); /* see store_on_event_write */
    void *on_event_write_arg;
    uint64_t token_revocations; /* revocations attempted on this connection */
    uint64_t record_writes;     /* changes of people, rooms and vehicles attempted here */
    int64_t data_version;       /* PRAGMA data_version as last read ... */
    uint64_t data_version_at;   /* ... at this clock_monotonic_us (0: never) */
    unsigned char secret_key[32]; /* seals webhook secrets (store_set_secret_key) */
    int has_secret_key;
    struct store_checkpointer *checkpointer; /* checkpoint.c: NULL until first needed */
    atomic_uint_fast64_t checkpoints_thread; /* WAL checkpoints done by its thread ... */
    uint64_t checkpoints_loop;               /* ... and by this connection (past the bound) */
};

/*
 * Returns the prepared statement for sql, preparing it on first use; it
 * stays cached until store_close. Callers must sqlite3_reset() it when done
 * (store_stmt_done) so no read transaction lingers. NULL on error (logged).
 */
sqlite3_stmt *store_stmt(struct store *st, const char *sql);
void store_stmt_done(sqlite3_stmt *stmt);

/*
 * Steps a statement that returns no rows and resets it: STORE_OK,
 * STORE_DUPLICATE on a constraint, or STORE_ERROR (logged with func).
 */
int store_step_done(struct store *st, sqlite3_stmt *stmt, const char *func);

/* Logs the connection's last error once, tagged with the calling function. */
int store_fail(struct store *st, const char *func);

/* Binds a NUL-terminated string, or NULL when s is NULL or empty. */
int store_bind_text(sqlite3_stmt *stmt, int idx, const char *s);

/* Copies a TEXT column into a fixed buffer (truncating safely). */
void store_column_copy(sqlite3_stmt *stmt, int col, char *dst, size_t cap);

/*
 * WAL checkpoints on a thread of their own (checkpoint.c): _start installs
 * the writer's WAL hook (the thread starts when the WAL first needs it);
 * _stop ends and joins the thread, before the writer connection closes.
 */
void store_checkpointer_start(struct store *st);
void store_checkpointer_stop(struct store *st);

/* Runs the migrations up to the newest schema. */
int store_migrate(struct store *st);

#endif
