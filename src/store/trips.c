/*
 * trips.c - trip occurrences: the dispatch list, the rows a driver's
 * hours are counted from, and each occurrence's acknowledgement and
 * escalation. Written by api/dispatch.c in the transaction of the event
 * change they derive from; read by GET /trips and the ack timer.
 */
#include "store_internal.h"

#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

#define TRIP_COLUMNS                                                                           \
    "event_id, trip_id, recurrence_id, day, depart_local, return_local, depart_utc, "          \
    "return_utc, tz, vehicle, driver, from_place, to_place, passengers, approved_by, title, " \
    "confidential, acked_at, acked_by, escalated_at"

static const char *column_text(sqlite3_stmt *stmt, int col)
{
    return (const char *)sqlite3_column_text(stmt, col);
}

static void read_trip(sqlite3_stmt *stmt, struct trip_row *t)
{
    memset(t, 0, sizeof(*t));
    store_column_copy(stmt, 0, t->event_id, sizeof(t->event_id));
    store_column_copy(stmt, 1, t->trip_id, sizeof(t->trip_id));
    store_column_copy(stmt, 2, t->recurrence_id, sizeof(t->recurrence_id));
    store_column_copy(stmt, 3, t->day, sizeof(t->day));
    store_column_copy(stmt, 4, t->depart, sizeof(t->depart));
    store_column_copy(stmt, 5, t->ret, sizeof(t->ret));
    t->depart_utc = sqlite3_column_int64(stmt, 6);
    t->return_utc = sqlite3_column_int64(stmt, 7);
    store_column_copy(stmt, 8, t->tz, sizeof(t->tz));
    store_column_copy(stmt, 9, t->vehicle, sizeof(t->vehicle));
    store_column_copy(stmt, 10, t->driver, sizeof(t->driver));
    t->from = column_text(stmt, 11);
    t->to = column_text(stmt, 12);
    t->passengers = column_text(stmt, 13);
    store_column_copy(stmt, 14, t->approved_by, sizeof(t->approved_by));
    t->title = column_text(stmt, 15);
    t->confidential = sqlite3_column_int(stmt, 16);
    t->acked_at = sqlite3_column_int64(stmt, 17);
    store_column_copy(stmt, 18, t->acked_by, sizeof(t->acked_by));
    t->escalated_at = sqlite3_column_int64(stmt, 19);
}

/* Steps a SELECT of TRIP_COLUMNS, calling cb per row; cb returning non-zero stops. */
static int each_trip(struct store *st, sqlite3_stmt *stmt, const char *func,
                     int (*cb)(const struct trip_row *t, void *arg), void *arg)
{
    struct trip_row t;
    int rc;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_trip(stmt, &t);
        if (cb(&t, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, func);
}

static void bind_int_or_null(sqlite3_stmt *stmt, int idx, int64_t v)
{
    if (v == 0)
        sqlite3_bind_null(stmt, idx);
    else
        sqlite3_bind_int64(stmt, idx, v);
}

int store_trip_put(struct store *st, const struct trip_row *t)
{
    sqlite3_stmt *stmt =
        store_stmt(st, "INSERT OR REPLACE INTO trip_occurrences(" TRIP_COLUMNS ") VALUES(?1, ?2, "
                       "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
                       "?19, ?20)");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, t->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, t->trip_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, t->recurrence_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, t->day, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, t->depart, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, t->ret, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, t->depart_utc);
    sqlite3_bind_int64(stmt, 8, t->return_utc);
    sqlite3_bind_text(stmt, 9, t->tz, -1, SQLITE_STATIC);
    store_bind_text(stmt, 10, t->vehicle);
    sqlite3_bind_text(stmt, 11, t->driver, -1, SQLITE_STATIC);
    store_bind_text(stmt, 12, t->from);
    store_bind_text(stmt, 13, t->to);
    sqlite3_bind_text(stmt, 14, t->passengers ? t->passengers : "[]", -1, SQLITE_STATIC);
    store_bind_text(stmt, 15, t->approved_by);
    sqlite3_bind_text(stmt, 16, t->title ? t->title : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 17, t->confidential);
    bind_int_or_null(stmt, 18, t->acked_at);
    store_bind_text(stmt, 19, t->acked_by);
    bind_int_or_null(stmt, 20, t->escalated_at);
    return store_step_done(st, stmt, __func__);
}

int store_trip_delete(struct store *st, const char *event_id, const char *trip_id,
                      const char *recurrence_id)
{
    sqlite3_stmt *stmt = store_stmt(st, "DELETE FROM trip_occurrences WHERE event_id = ?1 AND "
                                        "trip_id = ?2 AND recurrence_id = ?3");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, trip_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, recurrence_id, -1, SQLITE_STATIC);
    return store_step_done(st, stmt, __func__);
}

int store_trips_of_event(struct store *st, const char *event_id,
                         int (*cb)(const struct trip_row *t, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " TRIP_COLUMNS " FROM trip_occurrences "
                                        "WHERE event_id = ?1 ORDER BY trip_id, depart_utc");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    return each_trip(st, stmt, __func__, cb, arg);
}

int store_trips_held_by(struct store *st, const char *person, int64_t after,
                        int (*cb)(const struct trip_row *t, void *arg), void *arg)
{
    /* A scan: asked only when a person is deleted, and approvals have no index. */
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " TRIP_COLUMNS " FROM trip_occurrences "
                                        "WHERE (driver = ?1 OR approved_by = ?1) AND "
                                        "return_utc > ?2 ORDER BY depart_utc");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, person, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, after);
    return each_trip(st, stmt, __func__, cb, arg);
}

int store_trips_of_days(struct store *st, const char *from_day, const char *to_day,
                        const char *driver, const char *vehicle,
                        int (*cb)(const struct trip_row *t, void *arg), void *arg)
{
    /* A driver's rows come through their own index: hours checks ask for one driver. */
    static const char by_driver[] =
        "SELECT " TRIP_COLUMNS " FROM trip_occurrences WHERE driver = ?3 AND day >= ?1 AND "
        "day <= ?2 AND (?4 IS NULL OR vehicle = ?4) ORDER BY depart_utc, event_id, trip_id";
    static const char by_day[] =
        "SELECT " TRIP_COLUMNS " FROM trip_occurrences WHERE day >= ?1 AND day <= ?2 AND "
        "(?4 IS NULL OR vehicle = ?4) ORDER BY depart_utc, event_id, trip_id";
    sqlite3_stmt *stmt = store_stmt(st, driver ? by_driver : by_day);

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, from_day, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, to_day, -1, SQLITE_STATIC);
    store_bind_text(stmt, 3, driver);
    store_bind_text(stmt, 4, vehicle);
    return each_trip(st, stmt, __func__, cb, arg);
}

int store_pending_trip_events(struct store *st, int64_t from_utc, int64_t to_utc,
                              const char *driver, int (*cb)(const char *event_id, void *arg),
                              void *arg)
{
    /* Through the pending approvals (a partial index: few rows), then their claims. */
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT DISTINCT o.event_id FROM approvals a "
            "JOIN events e ON e.id = a.event_id AND e.status = 'pending' "
            "JOIN occupancy o ON o.event_id = a.event_id "
            "WHERE a.status = 'pending' AND o.role = 'driver' AND o.resource_type = 'person' "
            "AND (?3 IS NULL OR o.resource_id = ?3) AND o.start_utc < ?2 AND o.end_utc > ?1 "
            "ORDER BY o.event_id");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, from_utc);
    sqlite3_bind_int64(stmt, 2, to_utc);
    store_bind_text(stmt, 3, driver);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (cb((const char *)sqlite3_column_text(stmt, 0), arg) != 0) {
            store_stmt_done(stmt);
            return STORE_OK;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_trips_of_trip(struct store *st, const char *trip_id,
                        int (*cb)(const struct trip_row *t, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " TRIP_COLUMNS " FROM trip_occurrences "
                                        "WHERE trip_id = ?1 ORDER BY depart_utc");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, trip_id, -1, SQLITE_STATIC);
    return each_trip(st, stmt, __func__, cb, arg);
}

int store_trip_ack(struct store *st, const char *event_id, const char *trip_id,
                   const char *recurrence_id, int64_t at, const char *by)
{
    sqlite3_stmt *stmt = store_stmt(st, "UPDATE trip_occurrences SET acked_at = ?4, acked_by = ?5 "
                                        "WHERE event_id = ?1 AND trip_id = ?2 AND "
                                        "recurrence_id = ?3");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, trip_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, recurrence_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, at);
    store_bind_text(stmt, 5, by);
    return store_step_done(st, stmt, __func__);
}

int store_trips_unacked_due(struct store *st, int64_t now, int64_t deadline_s, size_t limit,
                            int (*cb)(const struct trip_row *t, void *arg), void *arg)
{
    /* depart_utc <= now + deadline: the deadline has come; > now: not yet gone. */
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT " TRIP_COLUMNS " FROM trip_occurrences WHERE acked_at IS NULL AND "
            "escalated_at IS NULL AND depart_utc > ?1 AND depart_utc <= ?1 + ?2 "
            "ORDER BY depart_utc LIMIT ?3");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, now);
    sqlite3_bind_int64(stmt, 2, deadline_s);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)limit);
    return each_trip(st, stmt, __func__, cb, arg);
}

int store_trip_mark_escalated(struct store *st, const char *event_id, const char *trip_id,
                              const char *recurrence_id, int64_t at)
{
    sqlite3_stmt *stmt = store_stmt(st, "UPDATE trip_occurrences SET escalated_at = ?4 "
                                        "WHERE event_id = ?1 AND trip_id = ?2 AND "
                                        "recurrence_id = ?3");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, trip_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, recurrence_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, at);
    return store_step_done(st, stmt, __func__);
}

int store_trips_next_unacked(struct store *st, int64_t now, int64_t deadline_s, int64_t *due)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT min(depart_utc) FROM trip_occurrences WHERE acked_at IS NULL AND "
            "escalated_at IS NULL AND depart_utc > ?1");
    int rc;

    *due = 0;
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, now);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        *due = sqlite3_column_int64(stmt, 0) - deadline_s;
    store_stmt_done(stmt);
    return rc == SQLITE_ROW ? STORE_OK : store_fail(st, __func__);
}

int store_events_with_trips_or_meals(struct store *st, int (*cb)(const char *id, void *arg),
                                     void *arg)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT id FROM events WHERE status = 'confirmed' AND "
            "(json_array_length(doc, '$.trips') > 0 OR json_array_length(doc, '$.meals') > 0)");
    char **ids = NULL;
    size_t n = 0;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    /* Collected first: the callback writes, and must not run under an open read. */
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        ids = xrealloc(ids, (n + 1) * sizeof(*ids));
        ids[n++] = xstrdup((const char *)sqlite3_column_text(stmt, 0));
    }
    store_stmt_done(stmt);
    for (size_t i = 0; i < n; i++) {
        if (rc == SQLITE_DONE && cb(ids[i], arg) != 0)
            rc = SQLITE_ERROR;
        free(ids[i]);
    }
    free(ids);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}
