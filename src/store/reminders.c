/*
 * reminders.c - reminder rows: written with each booking, sent by the
 * scheduler in src/notify/reminders.c.
 */
#include "store_internal.h"

#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

int store_reminders_clear_unsent(struct store *st, const char *event_id)
{
    /*
     * "+sent": without statistics SQLite chose the reminders_due index for
     * sent = 0 and walked every unsent reminder of every event on each
     * booking (milliseconds per write at a few thousand meetings, found by
     * the load test); the unary plus leaves it the primary key (event_id).
     */
    sqlite3_stmt *stmt = store_stmt(st, "DELETE FROM reminders WHERE event_id = ?1 AND +sent = 0");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    return store_step_done(st, stmt, __func__);
}

/* Parameters 1-5: a reminder's key (event, occurrence, person, offset) and its due time. */
static void bind_reminder_key(sqlite3_stmt *stmt, const struct reminder_row *r)
{
    sqlite3_bind_text(stmt, 1, r->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, r->recurrence_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, r->person, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 4, r->offset_minutes);
    sqlite3_bind_int64(stmt, 5, r->due_utc);
}

int store_reminder_insert(struct store *st, const struct reminder_row *r)
{
    /* OR IGNORE: a reminder already sent for the same time stays sent. */
    sqlite3_stmt *stmt = store_stmt(st, "INSERT OR IGNORE INTO reminders(event_id, recurrence_id, "
                                        "person, offset_minutes, due_utc, start_utc) "
                                        "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    if (stmt == NULL)
        return STORE_ERROR;
    bind_reminder_key(stmt, r);
    sqlite3_bind_int64(stmt, 6, r->start_utc);
    return store_step_done(st, stmt, __func__);
}

int store_reminders_due(struct store *st, int64_t now, size_t limit,
                        int (*cb)(const struct reminder_row *r, void *arg), void *arg)
{
    /*
     * In the order of the reminders_due index (sent, due_utc, then the
     * primary key), so a batch is a prefix of the unsent rows in key order
     * and store_reminders_mark_sent_through() can mark it in one statement.
     */
    sqlite3_stmt *stmt = store_stmt(st, "SELECT event_id, recurrence_id, person, offset_minutes, "
                                        "due_utc, start_utc FROM reminders WHERE sent = 0 AND "
                                        "due_utc <= ?1 ORDER BY due_utc, event_id, recurrence_id, "
                                        "person, offset_minutes LIMIT ?2");
    struct reminder_row *rows = NULL;
    size_t n = 0;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, now);
    sqlite3_bind_int64(stmt, 2, (int64_t)limit);
    /* Collected first: the callback writes (outbox, sent flag). */
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        rows = xrealloc(rows, (n + 1) * sizeof(*rows));
        struct reminder_row *r = &rows[n++];
        store_column_copy(stmt, 0, r->event_id, sizeof(r->event_id));
        store_column_copy(stmt, 1, r->recurrence_id, sizeof(r->recurrence_id));
        store_column_copy(stmt, 2, r->person, sizeof(r->person));
        r->offset_minutes = sqlite3_column_int(stmt, 3);
        r->due_utc = sqlite3_column_int64(stmt, 4);
        r->start_utc = sqlite3_column_int64(stmt, 5);
    }
    store_stmt_done(stmt);
    if (rc != SQLITE_DONE) {
        free(rows);
        return store_fail(st, __func__);
    }
    for (size_t i = 0; i < n; i++) {
        if (cb(&rows[i], arg) != 0) {
            free(rows);
            return STORE_ERROR;
        }
    }
    free(rows);
    return STORE_OK;
}

int store_reminder_mark_sent(struct store *st, const struct reminder_row *r, int sent)
{
    sqlite3_stmt *stmt = store_stmt(st, "UPDATE reminders SET sent = ?6 WHERE event_id = ?1 AND "
                                        "recurrence_id = ?2 AND person = ?3 AND "
                                        "offset_minutes = ?4 AND due_utc = ?5");
    if (stmt == NULL)
        return STORE_ERROR;
    bind_reminder_key(stmt, r);
    sqlite3_bind_int(stmt, 6, sent);
    return store_step_done(st, stmt, __func__);
}

int store_reminders_mark_sent_through(struct store *st, const struct reminder_row *last)
{
    /*
     * A row-value range on the reminders_due index: every unsent row up to
     * `last` in (due_utc, primary key) order. One statement for a batch
     * instead of a primary-key lookup per reminder.
     */
    sqlite3_stmt *stmt = store_stmt(st, "UPDATE reminders SET sent = 1 WHERE sent = 0 AND "
                                        "(due_utc, event_id, recurrence_id, person, offset_minutes) "
                                        "<= (?5, ?1, ?2, ?3, ?4)");
    if (stmt == NULL)
        return STORE_ERROR;
    bind_reminder_key(stmt, last);
    return store_step_done(st, stmt, __func__);
}

int store_reminders_next(struct store *st, int64_t *due)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT min(due_utc) FROM reminders WHERE sent = 0");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    rc = sqlite3_step(stmt);
    *due = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    store_stmt_done(stmt);
    return rc == SQLITE_ROW ? STORE_OK : store_fail(st, __func__);
}
