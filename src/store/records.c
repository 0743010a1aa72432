/*
 * records.c - rows of people, rooms and vehicles, mapped column by column
 * from the field tables in core/record.c. Deletion is soft (deleted_at), so
 * history and past bookings keep resolving their ids.
 */
#include "store_internal.h"

#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

#define SQL_MAX 1024

/* "name, role, rank" for a type's fields. */
static void column_list(struct strbuf *sb, const struct record_type *type)
{
    for (size_t i = 0; i < type->nfields; i++)
        strbuf_printf(sb, "%s%s", i ? ", " : "", type->fields[i].name);
}

static void bind_values(sqlite3_stmt *stmt, int first, const struct record_type *type,
                        const struct record *rec)
{
    for (size_t i = 0; i < type->nfields; i++) {
        const struct field_value *v = &rec->values[i];
        int idx = first + (int)i;
        if (!v->set)
            sqlite3_bind_null(stmt, idx);
        else if (type->fields[i].type == FIELD_INT)
            sqlite3_bind_int64(stmt, idx, v->i);
        else
            sqlite3_bind_text(stmt, idx, v->s, -1, SQLITE_STATIC);
    }
}

/* Row layout of every SELECT here: id, version, created, updated, feed_gen, fields... */
static void read_row(sqlite3_stmt *stmt, const struct record_type *type, struct record *rec)
{
    store_column_copy(stmt, 0, rec->id, sizeof(rec->id));
    rec->version = sqlite3_column_int64(stmt, 1);
    rec->created_at = sqlite3_column_int64(stmt, 2);
    rec->updated_at = sqlite3_column_int64(stmt, 3);
    rec->feed_generation = sqlite3_column_int64(stmt, 4);
    for (size_t i = 0; i < type->nfields; i++) {
        struct field_value *v = &rec->values[i];
        int col = 5 + (int)i;
        free(v->s);
        v->s = NULL;
        v->set = sqlite3_column_type(stmt, col) != SQLITE_NULL;
        if (!v->set)
            continue;
        if (type->fields[i].type == FIELD_INT)
            v->i = sqlite3_column_int64(stmt, col);
        else
            v->s = xstrdup((const char *)sqlite3_column_text(stmt, col));
    }
}

/*
 * The SELECT text of a record type and a WHERE tail (both static), built
 * once per process: building it with printf on every read cost 7% of a
 * record GET. The texts live until exit, like the types they describe.
 */
static const char *select_sql(const struct record_type *type, const char *where)
{
    static struct {
        const struct record_type *type;
        const char *where;
        char *sql;
    } built[32];
    static size_t nbuilt;
    struct strbuf sb;
    size_t i;

    for (i = 0; i < nbuilt; i++)
        if (built[i].type == type && strcmp(built[i].where, where) == 0)
            return built[i].sql;
    if (nbuilt == ARRAY_SIZE(built))
        return NULL; /* more (type, where) pairs than the code has: a bug, refused */
    strbuf_init(&sb, SQL_MAX);
    strbuf_puts(&sb, "SELECT id, version, created_at, updated_at, feed_gen, ");
    column_list(&sb, type);
    strbuf_printf(&sb, " FROM %s WHERE deleted_at IS NULL %s", type->plural, where);
    built[nbuilt].type = type;
    built[nbuilt].where = where;
    built[nbuilt].sql = strbuf_detach(&sb, NULL);
    return built[nbuilt++].sql;
}

static sqlite3_stmt *select_stmt(struct store *st, const struct record_type *type,
                                 const char *where)
{
    const char *sql = select_sql(type, where);

    if (sql == NULL) {
        log_error("%s: too many record queries", __func__);
        return NULL;
    }
    return store_stmt(st, sql);
}

int store_record_insert(struct store *st, const struct record_type *type, const struct record *rec)
{
    struct strbuf sb;
    sqlite3_stmt *stmt;
    int rc;

    strbuf_init(&sb, SQL_MAX);
    strbuf_printf(&sb, "INSERT INTO %s(id, version, created_at, updated_at, feed_gen, ",
                  type->plural);
    column_list(&sb, type);
    strbuf_puts(&sb, ") VALUES(?, ?, ?, ?, ?");
    for (size_t i = 0; i < type->nfields; i++)
        strbuf_puts(&sb, ", ?");
    strbuf_puts(&sb, ")");
    stmt = store_stmt(st, sb.data);
    strbuf_free(&sb);
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, rec->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, rec->version);
    sqlite3_bind_int64(stmt, 3, rec->created_at);
    sqlite3_bind_int64(stmt, 4, rec->updated_at);
    sqlite3_bind_int64(stmt, 5, rec->feed_generation);
    bind_values(stmt, 6, type, rec);
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    if (rc == SQLITE_CONSTRAINT)
        return STORE_DUPLICATE;
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_record_get(struct store *st, const struct record_type *type, const char *id,
                     struct record *rec)
{
    sqlite3_stmt *stmt = select_stmt(st, type, "AND id = ?1");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        read_row(stmt, type, rec);
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}

int store_record_list(struct store *st, const struct record_type *type,
                      int (*cb)(const struct record *rec, void *arg), void *arg)
{
    sqlite3_stmt *stmt = select_stmt(st, type, "ORDER BY name, id");
    struct record rec;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    record_init(&rec, type);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_row(stmt, type, &rec);
        if (cb(&rec, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    record_clear(&rec, type);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_record_update(struct store *st, const struct record_type *type, const struct record *rec)
{
    struct strbuf sb;
    sqlite3_stmt *stmt;
    int rc;

    st->record_writes++; /* even if it fails: a cache only reloads for nothing */
    strbuf_init(&sb, SQL_MAX);
    strbuf_printf(&sb, "UPDATE %s SET version = ?1, updated_at = ?2", type->plural);
    for (size_t i = 0; i < type->nfields; i++)
        strbuf_printf(&sb, ", %s = ?%zu", type->fields[i].name, i + 4);
    strbuf_puts(&sb, " WHERE id = ?3 AND deleted_at IS NULL");
    stmt = store_stmt(st, sb.data);
    strbuf_free(&sb);
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, rec->version);
    sqlite3_bind_int64(stmt, 2, rec->updated_at);
    sqlite3_bind_text(stmt, 3, rec->id, -1, SQLITE_STATIC);
    bind_values(stmt, 4, type, rec);
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    if (rc == SQLITE_CONSTRAINT)
        return STORE_DUPLICATE; /* a unique column (a person's login) is taken */
    if (rc != SQLITE_DONE)
        return store_fail(st, __func__);
    return sqlite3_changes(st->db) == 1 ? STORE_OK : STORE_NOTFOUND;
}

/* Runs a one-row UPDATE/DELETE built from a format with the table name. */
static int change_one(struct store *st, const char *fmt, const struct record_type *type,
                      const char *id, int64_t value)
{
    char sql[256];
    sqlite3_stmt *stmt;
    int rc;

    st->record_writes++;
    snprintf(sql, sizeof(sql), fmt, type->plural);
    stmt = store_stmt(st, sql);
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, value);
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    if (rc != SQLITE_DONE)
        return store_fail(st, __func__);
    return sqlite3_changes(st->db) == 1 ? STORE_OK : STORE_NOTFOUND;
}

/* A deleted record's feed URL dies with it: its token row goes in the same transaction. */
static int feed_token_drop(struct store *st, const char *kind, const char *id)
{
    sqlite3_stmt *stmt =
        store_stmt(st, "DELETE FROM feed_tokens WHERE kind = ?1 AND resource_id = ?2");
    int rc;

    st->record_writes++; /* the feeds' token cache must not find this token any more */
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_record_delete(struct store *st, const struct record_type *type, const char *id,
                        int64_t now)
{
    int rc = change_one(st, "UPDATE %s SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
                        type, id, now);

    return rc == STORE_OK ? feed_token_drop(st, type->kind, id) : rc;
}

int store_record_set_feed_generation(struct store *st, const struct record_type *type,
                                     const char *id, int64_t generation)
{
    return change_one(st, "UPDATE %s SET feed_gen = ?2 WHERE id = ?1 AND deleted_at IS NULL",
                      type, id, generation);
}

uint64_t store_record_writes(const struct store *st)
{
    return st->record_writes;
}

int store_record_exists(struct store *st, const struct record_type *type, const char *id)
{
    char sql[128];
    sqlite3_stmt *stmt;
    int rc;

    snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE id = ?1 AND deleted_at IS NULL",
             type->plural);
    stmt = store_stmt(st, sql);
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}

int store_record_count(struct store *st, const struct record_type *type, int64_t *count)
{
    char sql[128];
    sqlite3_stmt *stmt;
    int rc;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE deleted_at IS NULL", type->plural);
    stmt = store_stmt(st, sql);
    if (stmt == NULL)
        return STORE_ERROR;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(stmt, 0);
    store_stmt_done(stmt);
    return rc == SQLITE_ROW ? STORE_OK : store_fail(st, __func__);
}

int store_feed_token_set(struct store *st, const char *kind, const char *id,
                         const unsigned char hash[TOKEN_HASH_LEN])
{
    /* The UNIQUE(kind, resource_id) makes REPLACE drop the old token: the old URL dies. */
    sqlite3_stmt *stmt = store_stmt(
        st, "INSERT OR REPLACE INTO feed_tokens(hash, kind, resource_id) VALUES(?1, ?2, ?3)");
    int rc;

    st->record_writes++; /* the old token dies: the feeds' token cache must forget it */
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_blob(stmt, 1, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_feed_token_find(struct store *st, const unsigned char hash[TOKEN_HASH_LEN], char *kind,
                          size_t kindlen, char id[ID_STR_MAX])
{
    /*
     * The record must be live: records deleted before their token rows
     * were dropped with them (older versions) kept a working URL.
     */
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT f.kind, f.resource_id FROM feed_tokens f WHERE f.hash = ?1 AND CASE f.kind"
            " WHEN 'person' THEN EXISTS (SELECT 1 FROM people r"
            "   WHERE r.id = f.resource_id AND r.deleted_at IS NULL)"
            " WHEN 'room' THEN EXISTS (SELECT 1 FROM rooms r"
            "   WHERE r.id = f.resource_id AND r.deleted_at IS NULL)"
            " WHEN 'vehicle' THEN EXISTS (SELECT 1 FROM vehicles r"
            "   WHERE r.id = f.resource_id AND r.deleted_at IS NULL)"
            " ELSE 0 END");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_blob(stmt, 1, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        store_column_copy(stmt, 0, kind, kindlen);
        store_column_copy(stmt, 1, id, ID_STR_MAX);
    }
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}
