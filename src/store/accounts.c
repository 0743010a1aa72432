/*
 * accounts.c - what signing in keeps: password hashes (Argon2id strings,
 * in their own table so no record query reads them), sessions by the
 * SHA-256 of their id, and failed attempts per login for the lockout.
 */
#include "store_internal.h"

#include <string.h>

/* Row layout of the two login queries: id, name, role, access, hash, login. */
static int login_row_read(struct store *st, sqlite3_stmt *stmt, struct login_row *out,
                          const char *func)
{
    int rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        store_column_copy(stmt, 0, out->person, sizeof(out->person));
        store_column_copy(stmt, 1, out->name, sizeof(out->name));
        store_column_copy(stmt, 2, out->role, sizeof(out->role));
        store_column_copy(stmt, 3, out->access, sizeof(out->access));
        store_column_copy(stmt, 4, out->hash, sizeof(out->hash));
        store_column_copy(stmt, 5, out->login, sizeof(out->login));
    }
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, func);
}

int store_login_find(struct store *st, const char *login, struct login_row *out)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT p.id, p.name, p.role, p.access, w.hash, p.login FROM people p "
            "LEFT JOIN passwords w ON w.person = p.id "
            "WHERE p.login = ?1 AND p.deleted_at IS NULL");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, login, -1, SQLITE_STATIC);
    return login_row_read(st, stmt, out, __func__);
}

int store_login_of_person(struct store *st, const char *person, struct login_row *out)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT p.id, p.name, p.role, p.access, w.hash, p.login FROM people p "
            "LEFT JOIN passwords w ON w.person = p.id "
            "WHERE p.id = ?1 AND p.deleted_at IS NULL");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, person, -1, SQLITE_STATIC);
    return login_row_read(st, stmt, out, __func__);
}

int store_password_set(struct store *st, const char *person, const char *hash, int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "INSERT INTO passwords(person, hash, updated_at) VALUES(?1, ?2, ?3) "
            "ON CONFLICT(person) DO UPDATE SET hash = excluded.hash, "
            "updated_at = excluded.updated_at");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, person, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now);
    return store_step_done(st, stmt, __func__);
}

int store_session_insert(struct store *st, const unsigned char hash[TOKEN_HASH_LEN],
                         const char *person, int64_t now_ms)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT INTO sessions(hash, person, created_ms, "
                                        "last_seen_ms) VALUES(?1, ?2, ?3, ?3)");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_blob(stmt, 1, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, person, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now_ms);
    return store_step_done(st, stmt, __func__);
}

int store_session_find(struct store *st, const unsigned char hash[TOKEN_HASH_LEN],
                       struct session_row *out)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT p.id, p.name, p.role, p.access, s.created_ms, s.last_seen_ms "
            "FROM sessions s JOIN people p ON p.id = s.person "
            "WHERE s.hash = ?1 AND p.deleted_at IS NULL");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    memset(out, 0, sizeof(*out));
    sqlite3_bind_blob(stmt, 1, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        store_column_copy(stmt, 0, out->who.person, sizeof(out->who.person));
        store_column_copy(stmt, 1, out->who.name, sizeof(out->who.name));
        store_column_copy(stmt, 2, out->who.role, sizeof(out->who.role));
        store_column_copy(stmt, 3, out->who.access, sizeof(out->who.access));
        out->created_ms = sqlite3_column_int64(stmt, 4);
        out->last_seen_ms = sqlite3_column_int64(stmt, 5);
    }
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}

int store_session_touch(struct store *st, const unsigned char hash[TOKEN_HASH_LEN],
                        int64_t now_ms)
{
    sqlite3_stmt *stmt = store_stmt(st, "UPDATE sessions SET last_seen_ms = ?2 WHERE hash = ?1");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_blob(stmt, 1, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now_ms);
    return store_step_done(st, stmt, __func__);
}

int store_session_delete(struct store *st, const unsigned char hash[TOKEN_HASH_LEN])
{
    sqlite3_stmt *stmt = store_stmt(st, "DELETE FROM sessions WHERE hash = ?1");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_blob(stmt, 1, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    return store_step_done(st, stmt, __func__);
}

int store_sessions_end_person(struct store *st, const char *person,
                              const unsigned char *keep_hash)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "DELETE FROM sessions WHERE person = ?1 AND (?2 IS NULL OR hash != ?2)");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, person, -1, SQLITE_STATIC);
    if (keep_hash != NULL)
        sqlite3_bind_blob(stmt, 2, keep_hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 2);
    return store_step_done(st, stmt, __func__);
}

int store_sessions_prune(struct store *st, int64_t idle_before_ms, int64_t max_before_ms)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "DELETE FROM sessions WHERE last_seen_ms <= ?1 OR created_ms <= ?2");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, idle_before_ms);
    sqlite3_bind_int64(stmt, 2, max_before_ms);
    return store_step_done(st, stmt, __func__);
}

int store_login_failure_add(struct store *st, const char *login, int64_t now_ms,
                            int64_t before_ms)
{
    sqlite3_stmt *prune = store_stmt(st, "DELETE FROM login_failures WHERE at_ms < ?1");
    sqlite3_stmt *add = store_stmt(st, "INSERT INTO login_failures(login, at_ms) VALUES(?1, ?2)");

    if (prune == NULL || add == NULL)
        return STORE_ERROR;
    /* Old failures count for nothing: dropping them keeps the table as small as the window. */
    sqlite3_bind_int64(prune, 1, before_ms);
    if (store_step_done(st, prune, __func__) != STORE_OK)
        return STORE_ERROR;
    sqlite3_bind_text(add, 1, login, -1, SQLITE_STATIC);
    sqlite3_bind_int64(add, 2, now_ms);
    return store_step_done(st, add, __func__);
}

int store_login_failures_recent(struct store *st, const char *login, int64_t since_ms,
                                int64_t *out, size_t cap, size_t *n)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT at_ms FROM login_failures WHERE login = ?1 AND at_ms >= ?2 "
            "ORDER BY at_ms DESC LIMIT ?3");
    int rc;

    *n = 0;
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, login, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, since_ms);
    sqlite3_bind_int64(stmt, 3, (int64_t)cap);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && *n < cap)
        out[(*n)++] = sqlite3_column_int64(stmt, 0);
    store_stmt_done(stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : store_fail(st, __func__);
}

int store_login_failures_clear(struct store *st, const char *login)
{
    sqlite3_stmt *stmt = store_stmt(st, "DELETE FROM login_failures WHERE login = ?1");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, login, -1, SQLITE_STATIC);
    return store_step_done(st, stmt, __func__);
}
