/*
 * catering.c - meal counts per occurrence and meal, on the local day the
 * meal is served. Written by api/catering_sync.c in the transaction of the
 * event change they derive from; read by GET /catering and, before and
 * after a change, to compute catering.updated's totals.
 */
#include "store_internal.h"

#include <string.h>

#define CATERING_COLUMNS                                                                    \
    "day, meal, event_id, recurrence_id, start_local, count, diets, late, title, confidential"

/* Steps a SELECT of CATERING_COLUMNS, calling cb per row; cb returning non-zero stops. */
static int each_row(struct store *st, sqlite3_stmt *stmt, const char *func,
                    int (*cb)(const struct catering_row *c, void *arg), void *arg)
{
    struct catering_row c;
    int rc;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        memset(&c, 0, sizeof(c));
        store_column_copy(stmt, 0, c.day, sizeof(c.day));
        store_column_copy(stmt, 1, c.meal, sizeof(c.meal));
        store_column_copy(stmt, 2, c.event_id, sizeof(c.event_id));
        store_column_copy(stmt, 3, c.recurrence_id, sizeof(c.recurrence_id));
        store_column_copy(stmt, 4, c.start, sizeof(c.start));
        c.count = sqlite3_column_int64(stmt, 5);
        c.diets = (const char *)sqlite3_column_text(stmt, 6);
        c.late = sqlite3_column_int(stmt, 7);
        c.title = (const char *)sqlite3_column_text(stmt, 8);
        c.confidential = sqlite3_column_int(stmt, 9);
        if (cb(&c, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, func);
}

int store_catering_put(struct store *st, const struct catering_row *c)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT OR REPLACE INTO catering(" CATERING_COLUMNS ") "
                                        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, c->day, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, c->meal, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, c->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, c->recurrence_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, c->start, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, c->count);
    sqlite3_bind_text(stmt, 7, c->diets ? c->diets : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 8, c->late);
    sqlite3_bind_text(stmt, 9, c->title ? c->title : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 10, c->confidential);
    return store_step_done(st, stmt, __func__);
}

int store_catering_delete(struct store *st, const char *day, const char *meal,
                          const char *event_id, const char *recurrence_id)
{
    sqlite3_stmt *stmt = store_stmt(st, "DELETE FROM catering WHERE day = ?1 AND meal = ?2 AND "
                                        "event_id = ?3 AND recurrence_id = ?4");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, day, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, meal, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, recurrence_id, -1, SQLITE_STATIC);
    return store_step_done(st, stmt, __func__);
}

int store_catering_of_event(struct store *st, const char *event_id,
                            int (*cb)(const struct catering_row *c, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " CATERING_COLUMNS " FROM catering "
                                        "WHERE event_id = ?1 ORDER BY day, meal");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    return each_row(st, stmt, __func__, cb, arg);
}

int store_catering_of_days(struct store *st, const char *from_day, const char *to_day,
                           int (*cb)(const struct catering_row *c, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " CATERING_COLUMNS " FROM catering "
                                        "WHERE day >= ?1 AND day <= ?2 "
                                        "ORDER BY day, meal, start_local, event_id");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, from_day, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, to_day, -1, SQLITE_STATIC);
    return each_row(st, stmt, __func__, cb, arg);
}

int store_catering_day_rows(struct store *st, const char *day,
                            int (*cb)(const char *meal, int64_t count, int late,
                                      const char *diets, void *arg),
                            void *arg)
{
    sqlite3_stmt *stmt =
        store_stmt(st, "SELECT meal, count, late, diets FROM catering WHERE day = ?1");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, day, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *diets = (const char *)sqlite3_column_text(stmt, 3);
        if (cb((const char *)sqlite3_column_text(stmt, 0), sqlite3_column_int64(stmt, 1),
               sqlite3_column_int(stmt, 2) != 0, diets ? diets : "{}", arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_catering_day_totals(struct store *st, const char *day,
                              int (*cb)(const char *meal, int64_t total, int late,
                                        const char *diets, int64_t rows, void *arg),
                              void *arg)
{
    /*
     * Summed in SQLite: a change's catering.updated needs the day's totals
     * before and after it, and reading each row into JSON made a booking's
     * cost grow with the number of meals that day.
     */
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT c.meal, sum(c.count), max(c.late), "
            "  (SELECT json_group_object(k, n) FROM (SELECT j.key AS k, sum(j.value) AS n "
            "     FROM catering d, json_each(d.diets) j WHERE d.day = ?1 AND d.meal = c.meal "
            "     GROUP BY j.key ORDER BY j.key)), count(*) "
            "FROM catering c WHERE c.day = ?1 GROUP BY c.meal");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, day, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *diets = (const char *)sqlite3_column_text(stmt, 3);
        if (cb((const char *)sqlite3_column_text(stmt, 0), sqlite3_column_int64(stmt, 1),
               sqlite3_column_int(stmt, 2) != 0, diets ? diets : "{}",
               sqlite3_column_int64(stmt, 4), arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}
