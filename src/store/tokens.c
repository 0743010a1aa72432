/*
 * tokens.c - API tokens, kept only as SHA-256 hashes.
 */
#include "store_internal.h"

#include <string.h>

int store_token_insert(struct store *st, const struct token_record *tok)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT INTO tokens(id, name, role, person, hash, "
                                        "created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, tok->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, tok->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, tok->role, -1, SQLITE_STATIC);
    store_bind_text(stmt, 4, tok->person);
    sqlite3_bind_blob(stmt, 5, tok->hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, tok->created_at);
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    if (rc == SQLITE_CONSTRAINT)
        return STORE_DUPLICATE;
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_token_find(struct store *st, const unsigned char hash[TOKEN_HASH_LEN],
                     struct token_record *out)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT id, name, role, person, hash, created_at "
                                        "FROM tokens WHERE hash = ?1 AND revoked_at IS NULL");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_blob(stmt, 1, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(stmt, 4) == TOKEN_HASH_LEN) {
        store_column_copy(stmt, 0, out->id, sizeof(out->id));
        store_column_copy(stmt, 1, out->name, sizeof(out->name));
        store_column_copy(stmt, 2, out->role, sizeof(out->role));
        store_column_copy(stmt, 3, out->person, sizeof(out->person));
        memcpy(out->hash, sqlite3_column_blob(stmt, 4), TOKEN_HASH_LEN);
        out->created_at = sqlite3_column_int64(stmt, 5);
        store_stmt_done(stmt);
        return STORE_OK;
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}

int store_token_list(struct store *st, int (*cb)(const struct token_record *tok, void *arg),
                     void *arg)
{
    /* The hash is not read: a listing has no use for it and must not leak it. */
    sqlite3_stmt *stmt = store_stmt(st, "SELECT id, name, role, person, created_at FROM tokens "
                                        "WHERE revoked_at IS NULL ORDER BY created_at, id");
    struct token_record tok;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        memset(&tok, 0, sizeof(tok));
        store_column_copy(stmt, 0, tok.id, sizeof(tok.id));
        store_column_copy(stmt, 1, tok.name, sizeof(tok.name));
        store_column_copy(stmt, 2, tok.role, sizeof(tok.role));
        store_column_copy(stmt, 3, tok.person, sizeof(tok.person));
        tok.created_at = sqlite3_column_int64(stmt, 4);
        if (cb(&tok, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_tokens_revoke_person(struct store *st, const char *person, int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "UPDATE tokens SET revoked_at = ?2 WHERE person = ?1 AND revoked_at IS NULL");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, person, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    st->token_revocations++;
    return store_step_done(st, stmt, __func__);
}

uint64_t store_token_revocations(const struct store *st)
{
    return st->token_revocations;
}

int store_token_count_role(struct store *st, const char *role, int64_t *count)
{
    sqlite3_stmt *stmt =
        store_stmt(st, "SELECT count(*) FROM tokens WHERE role = ?1 AND revoked_at IS NULL");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, role, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(stmt, 0);
    store_stmt_done(stmt);
    return rc == SQLITE_ROW ? STORE_OK : store_fail(st, __func__);
}

int store_token_revoke(struct store *st, const char *id, int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    /* Bumped even if the statement fails or rolls back: a cache only reloads for nothing. */
    st->token_revocations++;
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    if (rc != SQLITE_DONE)
        return store_fail(st, __func__);
    return sqlite3_changes(st->db) == 1 ? STORE_OK : STORE_NOTFOUND;
}
