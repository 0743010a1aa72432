/*
 * taplinks.c - one-tap links by the SHA-256 of their token (schema 13, 14):
 * written at fan-out when a message carrying one is delivered, read when
 * the link is opened, marked used by an answer. Also one occurrence of an
 * event by its recurrence id, which a link's page shows.
 */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

int store_taplink_put(struct store *st, const struct taplink_row *l)
{
    /* The same link again (a retry's fan-out, a changed trip): its expiry follows the latest. */
    sqlite3_stmt *stmt = store_stmt(
        st, "INSERT INTO taplinks(hash, purpose, person, event_id, trip_id, recurrence_id, "
            "expires_utc, created_at, approval_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
            "ON CONFLICT(hash) DO UPDATE SET expires_utc = max(expires_utc, excluded.expires_utc)");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_blob(stmt, 1, l->hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, l->purpose, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, l->person, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, l->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, l->trip_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, l->recurrence_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, l->expires_utc);
    sqlite3_bind_int64(stmt, 8, l->created_at);
    sqlite3_bind_text(stmt, 9, l->approval_id, -1, SQLITE_STATIC);
    return store_step_done(st, stmt, __func__);
}

int store_taplink_find(struct store *st, const unsigned char hash[TOKEN_HASH_LEN],
                       struct taplink_row *out)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT purpose, person, event_id, trip_id, recurrence_id, expires_utc, "
            "coalesce(used_at, 0), created_at, approval_id FROM taplinks WHERE hash = ?1");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_blob(stmt, 1, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        unsigned char key[TOKEN_HASH_LEN];
        memcpy(key, hash, TOKEN_HASH_LEN); /* hash may be out->hash itself */
        memset(out, 0, sizeof(*out));
        memcpy(out->hash, key, TOKEN_HASH_LEN);
        store_column_copy(stmt, 0, out->purpose, sizeof(out->purpose));
        store_column_copy(stmt, 1, out->person, sizeof(out->person));
        store_column_copy(stmt, 2, out->event_id, sizeof(out->event_id));
        store_column_copy(stmt, 3, out->trip_id, sizeof(out->trip_id));
        store_column_copy(stmt, 4, out->recurrence_id, sizeof(out->recurrence_id));
        out->expires_utc = sqlite3_column_int64(stmt, 5);
        out->used_at = sqlite3_column_int64(stmt, 6);
        out->created_at = sqlite3_column_int64(stmt, 7);
        store_column_copy(stmt, 8, out->approval_id, sizeof(out->approval_id));
        store_stmt_done(stmt);
        return STORE_OK;
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}

int store_taplink_use(struct store *st, const unsigned char hash[TOKEN_HASH_LEN], int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "UPDATE taplinks SET used_at = ?2 WHERE hash = ?1 AND used_at IS NULL");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_blob(stmt, 1, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    if (store_step_done(st, stmt, __func__) != STORE_OK)
        return STORE_ERROR;
    return sqlite3_changes(st->db) == 1 ? STORE_OK : STORE_NOTFOUND;
}

int store_taplinks_prune(struct store *st, int64_t before, int64_t *count)
{
    /* A bounded slice through the expiry index: pruning never holds the writer long. */
    sqlite3_stmt *stmt = store_stmt(
        st, "DELETE FROM taplinks WHERE hash IN (SELECT hash FROM taplinks "
            "WHERE expires_utc < ?1 ORDER BY expires_utc LIMIT 500)");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, before);
    if (store_step_done(st, stmt, __func__) != STORE_OK)
        return STORE_ERROR;
    *count = sqlite3_changes(st->db);
    return STORE_OK;
}

int store_occurrence_get(struct store *st, const char *event_id, const char *rid,
                         struct occurrence *out)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT start_local, end_local, start_utc, end_utc FROM occurrences "
            "WHERE event_id = ?1 AND recurrence_id = ?2");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, rid, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        snprintf(out->recurrence_id, sizeof(out->recurrence_id), "%s", rid);
        store_column_copy(stmt, 0, out->start, sizeof(out->start));
        store_column_copy(stmt, 1, out->end, sizeof(out->end));
        out->start_utc = sqlite3_column_int64(stmt, 2);
        out->end_utc = sqlite3_column_int64(stmt, 3);
        store_stmt_done(stmt);
        return STORE_OK;
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}
