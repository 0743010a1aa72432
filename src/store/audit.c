/*
 * audit.c - an event's audit trail (GET /events/{id}/history): who did
 * what, with the event before and after, appended in the change's
 * transaction.
 */
#include "store_internal.h"

#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

int store_history_append(struct store *st, const char *event_id, const struct history_row *h)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT INTO event_history(event_id, at, token_id, actor, "
                                        "actor_person, action, before, after) "
                                        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, h->at);
    store_bind_text(stmt, 3, h->token_id);
    store_bind_text(stmt, 4, h->actor);
    store_bind_text(stmt, 5, h->actor_person);
    sqlite3_bind_text(stmt, 6, h->action, -1, SQLITE_STATIC);
    store_bind_text(stmt, 7, h->before);
    store_bind_text(stmt, 8, h->after);
    return store_step_done(st, stmt, __func__);
}

int store_history_list(struct store *st, const char *event_id,
                       int (*cb)(const struct history_row *h, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT seq, at, token_id, actor, actor_person, action, "
                                        "before, after FROM event_history WHERE event_id = ?1 "
                                        "ORDER BY seq");
    struct history_row h;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        memset(&h, 0, sizeof(h));
        h.seq = sqlite3_column_int64(stmt, 0);
        h.at = sqlite3_column_int64(stmt, 1);
        store_column_copy(stmt, 2, h.token_id, sizeof(h.token_id));
        store_column_copy(stmt, 3, h.actor, sizeof(h.actor));
        store_column_copy(stmt, 4, h.actor_person, sizeof(h.actor_person));
        store_column_copy(stmt, 5, h.action, sizeof(h.action));
        h.before = (const char *)sqlite3_column_text(stmt, 6);
        h.after = (const char *)sqlite3_column_text(stmt, 7);
        if (cb(&h, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}
