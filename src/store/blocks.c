/*
 * blocks.c - unavailability of a person, room or vehicle (leave,
 * renovation, maintenance). The booking engine reads them as conflicts.
 */
#include "store_internal.h"

#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK_COLUMNS                                                                         \
    "id, resource_type, resource_id, start_local, end_local, tz, start_utc, end_utc, reason, " \
    "version, created_at, created_by, delegate"

void store_block_clear(struct block_record *b)
{
    free(b->reason);
    b->reason = NULL;
}

static void read_block(sqlite3_stmt *stmt, struct block_record *b)
{
    store_block_clear(b);
    store_column_copy(stmt, 0, b->id, sizeof(b->id));
    store_column_copy(stmt, 1, b->resource_type, sizeof(b->resource_type));
    store_column_copy(stmt, 2, b->resource_id, sizeof(b->resource_id));
    store_column_copy(stmt, 3, b->start, sizeof(b->start));
    store_column_copy(stmt, 4, b->end, sizeof(b->end));
    store_column_copy(stmt, 5, b->tz, sizeof(b->tz));
    b->start_utc = sqlite3_column_int64(stmt, 6);
    b->end_utc = sqlite3_column_int64(stmt, 7);
    if (sqlite3_column_type(stmt, 8) != SQLITE_NULL)
        b->reason = xstrdup((const char *)sqlite3_column_text(stmt, 8));
    b->version = sqlite3_column_int64(stmt, 9);
    b->created_at = sqlite3_column_int64(stmt, 10);
    store_column_copy(stmt, 11, b->created_by, sizeof(b->created_by));
    store_column_copy(stmt, 12, b->delegate, sizeof(b->delegate));
}

int store_block_insert(struct store *st, const struct block_record *b)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT INTO blocks(" BLOCK_COLUMNS ") "
                                        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, b->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, b->resource_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, b->resource_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, b->start, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, b->end, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, b->tz, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, b->start_utc);
    sqlite3_bind_int64(stmt, 8, b->end_utc);
    store_bind_text(stmt, 9, b->reason);
    sqlite3_bind_int64(stmt, 10, b->version);
    sqlite3_bind_int64(stmt, 11, b->created_at);
    store_bind_text(stmt, 12, b->created_by);
    store_bind_text(stmt, 13, b->delegate);
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    if (rc == SQLITE_CONSTRAINT)
        return STORE_DUPLICATE;
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_block_get(struct store *st, const char *id, struct block_record *out)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT " BLOCK_COLUMNS " FROM blocks WHERE id = ?1 AND deleted_at IS NULL");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        read_block(stmt, out);
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}

int store_block_list(struct store *st, const char *type, const char *id,
                     int (*cb)(const struct block_record *b, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " BLOCK_COLUMNS " FROM blocks "
                                        "WHERE deleted_at IS NULL "
                                        "AND (?1 IS NULL OR resource_type = ?1) "
                                        "AND (?2 IS NULL OR resource_id = ?2) "
                                        "ORDER BY start_utc, id");
    struct block_record b;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    memset(&b, 0, sizeof(b));
    store_bind_text(stmt, 1, type);
    store_bind_text(stmt, 2, id);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_block(stmt, &b);
        if (cb(&b, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    store_block_clear(&b);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_block_delete(struct store *st, const char *id, int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "UPDATE blocks SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    if (rc != SQLITE_DONE)
        return store_fail(st, __func__);
    return sqlite3_changes(st->db) == 1 ? STORE_OK : STORE_NOTFOUND;
}

int store_blocks_delegating(struct store *st, const char *delegate, int64_t now,
                            int (*cb)(const char *person, void *arg), void *arg)
{
    /* Rare (a delegate is named on leave blocks only): the scan stays small. */
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT DISTINCT resource_id FROM blocks WHERE resource_type = 'person' "
            "AND delegate = ?1 AND deleted_at IS NULL AND start_utc <= ?2 AND end_utc > ?2 "
            "ORDER BY resource_id");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, delegate, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (cb((const char *)sqlite3_column_text(stmt, 0), arg) != 0) {
            store_stmt_done(stmt);
            return STORE_OK;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_block_delegates(struct store *st, const char *person, const char *delegate,
                          int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT 1 FROM blocks WHERE resource_type = 'person' AND resource_id = ?1 "
            "AND delegate = ?2 AND deleted_at IS NULL AND start_utc <= ?3 AND end_utc > ?3");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, person, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, delegate, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now);
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}
