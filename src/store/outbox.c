/*
 * outbox.c - the outbox: every message a change announces, appended in
 * the change's own transaction, and read in order by the sender, the
 * change stream and the audit of deliveries (src/notify/).
 */
#include "store_internal.h"

#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

int store_outbox_append(struct store *st, const char *type, const char *payload,
                        char msg_id_out[ID_STR_MAX])
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT INTO outbox(msg_id, type, created_at, payload) "
                                        "VALUES(?1, ?2, ?3, ?4)");
    char msg_id[ID_STR_MAX];

    if (stmt == NULL || token_id_generate("msg", msg_id) != 0)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, msg_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, clock_wall_s());
    sqlite3_bind_text(stmt, 4, payload, -1, SQLITE_STATIC);
    if (msg_id_out != NULL)
        memcpy(msg_id_out, msg_id, ID_STR_MAX);
    return store_step_done(st, stmt, __func__);
}

static int outbox_rows(struct store *st, sqlite3_stmt *stmt,
                       int (*cb)(const struct outbox_row *m, void *arg), void *arg)
{
    struct outbox_row m;
    int rc;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        m.seq = sqlite3_column_int64(stmt, 0);
        store_column_copy(stmt, 1, m.msg_id, sizeof(m.msg_id));
        store_column_copy(stmt, 2, m.type, sizeof(m.type));
        m.created_at = sqlite3_column_int64(stmt, 3);
        m.payload = (const char *)sqlite3_column_text(stmt, 4);
        if (cb(&m, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_outbox_last(struct store *st, int64_t *seq)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT coalesce(max(seq), 0) FROM outbox");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(stmt, 0);
    store_stmt_done(stmt);
    return rc == SQLITE_ROW ? STORE_OK : store_fail(st, __func__);
}

int store_outbox_after(struct store *st, int64_t seq, size_t limit,
                       int (*cb)(const struct outbox_row *m, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT seq, msg_id, type, created_at, payload FROM outbox "
                                        "WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, seq);
    sqlite3_bind_int64(stmt, 2, (int64_t)limit);
    return outbox_rows(st, stmt, cb, arg);
}
