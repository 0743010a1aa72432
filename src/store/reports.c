/*
 * reports.c - the rows the office's reports add up (CONTRACT section 13),
 * read from what every booking already writes: occurrences, the
 * occupancy index (who attended), trip_occurrences and catering. Only
 * held events count: status 'confirmed', so cancelled ones and, with
 * approvals, pending, rejected and expired ones stay out.
 *
 * An event's kind and department are its columns (schema 12, written with
 * its document); its room comes from the document. Each is read once per
 * event in a materialised CTE (HELD_EVENTS), not once per occurrence: a
 * weekly series of a year is 52 occurrences of one document.
 */
#include "store_internal.h"

#include <string.h>

/*
 * A stand-alone trip (POST /trips) is stored as an event holding only the
 * ride: no kind, no room, one trip from the event's start to its end. It is
 * driving, not a meeting, so meeting and room reports leave it out.
 */
#define TRIP_ONLY                                                                           \
    "(json_type(e.doc, '$.kind') IS NULL AND json_type(e.doc, '$.room') IS NOT 'text' "   \
    " AND json_array_length(e.doc, '$.trips') = 1 "                                        \
    " AND json_extract(e.doc, '$.trips[0].depart') IS json_extract(e.doc, '$.start') "    \
    " AND json_extract(e.doc, '$.trips[0].return') IS json_extract(e.doc, '$.end'))"

#define REPORT_FACTS                                                                        \
    "e.kind AS kind, e.department AS department, "                                          \
    "CASE json_type(e.doc, '$.room') WHEN 'text' THEN json_extract(e.doc, '$.room') END "  \
    "  AS room, " TRIP_ONLY " AS trip_only"

/* The held events with an occurrence starting in [?1, ?2), and their facts. */
#define HELD_EVENTS                                                                         \
    "WITH held AS MATERIALIZED (SELECT e.id, " REPORT_FACTS " FROM events e "               \
    "  WHERE e.status = 'confirmed' AND e.id IN "                                          \
    "    (SELECT event_id FROM occurrences WHERE start_utc >= ?1 AND start_utc < ?2)) "

#define HELD_COLUMNS "h.id, h.kind, h.department, h.room, h.trip_only"

static const char *text_or_null(sqlite3_stmt *stmt, int col)
{
    return (const char *)sqlite3_column_text(stmt, col);
}

/* Reads an event's facts from columns first..first+4 (HELD_COLUMNS). */
static void read_facts(sqlite3_stmt *stmt, int first, struct report_event_facts *ev)
{
    ev->event_id = text_or_null(stmt, first);
    ev->kind = text_or_null(stmt, first + 1);
    ev->department = text_or_null(stmt, first + 2);
    ev->room = text_or_null(stmt, first + 3);
    ev->trip_only = sqlite3_column_int(stmt, first + 4) != 0;
}

/* Steps stmt, filling a row with fill() for cb; resets it. STORE_OK or STORE_ERROR. */
static int each(struct store *st, sqlite3_stmt *stmt, const char *func,
                void (*fill)(sqlite3_stmt *stmt, struct report_row *row,
                             struct report_event_facts *ev),
                store_report_cb cb, void *arg)
{
    int rc;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct report_row row;
        struct report_event_facts ev;
        memset(&row, 0, sizeof(row));
        memset(&ev, 0, sizeof(ev));
        fill(stmt, &row, &ev);
        if (cb(&row, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, func);
}

static void fill_occurrence(sqlite3_stmt *stmt, struct report_row *row,
                            struct report_event_facts *ev)
{
    read_facts(stmt, 0, ev);
    row->ev = ev;
    row->start = sqlite3_column_int64(stmt, 5);
    row->end = sqlite3_column_int64(stmt, 6);
}

int store_report_occurrences(struct store *st, int64_t from, int64_t to, store_report_cb cb,
                             void *arg)
{
    sqlite3_stmt *stmt = store_stmt(
        st, HELD_EVENTS "SELECT " HELD_COLUMNS ", o.start_utc, o.end_utc "
                        "FROM held h JOIN occurrences o ON o.event_id = h.id "
                        "WHERE o.start_utc >= ?1 AND o.start_utc < ?2");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, from);
    sqlite3_bind_int64(stmt, 2, to);
    return each(st, stmt, __func__, fill_occurrence, cb, arg);
}

static void fill_attendance(sqlite3_stmt *stmt, struct report_row *row,
                            struct report_event_facts *ev)
{
    fill_occurrence(stmt, row, ev);
    row->person = text_or_null(stmt, 7);
    row->name = text_or_null(stmt, 8);
}

int store_report_attendance(struct store *st, int64_t from, int64_t to, store_report_cb cb,
                            void *arg)
{
    /*
     * The occupancy index holds an attendee's row per occurrence only when
     * they did not decline it (one occurrence's answer included), which is
     * exactly "attending"; its (type, id, start) index makes this a range
     * scan per leader. CROSS JOIN keeps people outside: left to itself the
     * planner walked every person's rows of the index (all attendees'), 2x
     * slower at 50,000 occurrences a year.
     */
    sqlite3_stmt *stmt = store_stmt(
        st, HELD_EVENTS "SELECT " HELD_COLUMNS ", oc.start_utc, oc.end_utc, p.id, p.name "
                        "FROM people p CROSS JOIN occupancy oc ON oc.resource_type = 'person' "
                        "  AND oc.resource_id = p.id AND oc.start_utc >= ?1 AND oc.start_utc < ?2 "
                        "  AND oc.role = 'attendee' "
                        "JOIN held h ON h.id = oc.event_id WHERE p.role = 'leader'");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, from);
    sqlite3_bind_int64(stmt, 2, to);
    return each(st, stmt, __func__, fill_attendance, cb, arg);
}

static void fill_trip(sqlite3_stmt *stmt, struct report_row *row, struct report_event_facts *ev)
{
    (void)ev;
    row->vehicle = text_or_null(stmt, 0);
    row->driver = text_or_null(stmt, 1);
    row->start = sqlite3_column_int64(stmt, 2);
    row->end = sqlite3_column_int64(stmt, 3);
}

int store_report_trips(struct store *st, const char *day_from, const char *day_to, int64_t from,
                       int64_t to, store_report_cb cb, void *arg)
{
    /* The day index finds the rows; the instants decide (days are in each trip's zone). */
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT t.vehicle, t.driver, t.depart_utc, t.return_utc FROM trip_occurrences t "
            "JOIN events e ON e.id = t.event_id AND e.status = 'confirmed' "
            "WHERE t.day >= ?1 AND t.day <= ?2 AND t.depart_utc >= ?3 AND t.depart_utc < ?4");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, day_from, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, day_to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, from);
    sqlite3_bind_int64(stmt, 4, to);
    return each(st, stmt, __func__, fill_trip, cb, arg);
}

static void fill_meal(sqlite3_stmt *stmt, struct report_row *row, struct report_event_facts *ev)
{
    read_facts(stmt, 0, ev);
    row->ev = ev;
    row->meal = text_or_null(stmt, 5);
    row->count = sqlite3_column_int64(stmt, 6);
    row->diets = text_or_null(stmt, 7);
}

int store_report_meals(struct store *st, const char *day_from, const char *day_to,
                       store_report_cb cb, void *arg)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "WITH held AS MATERIALIZED (SELECT e.id, " REPORT_FACTS " FROM events e "
            "  WHERE e.status = 'confirmed' AND e.id IN "
            "    (SELECT event_id FROM catering WHERE day >= ?1 AND day <= ?2)) "
            "SELECT " HELD_COLUMNS ", c.meal, c.count, c.diets "
            "FROM catering c JOIN held h ON h.id = c.event_id "
            "WHERE c.day >= ?1 AND c.day <= ?2 AND c.count > 0");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, day_from, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, day_to, -1, SQLITE_STATIC);
    return each(st, stmt, __func__, fill_meal, cb, arg);
}

int store_report_names(struct store *st, const char *type,
                       int (*cb)(const char *id, const char *name, const char *plate, int live,
                                 void *arg),
                       void *arg)
{
    const char *sql =
        strcmp(type, "room") == 0 ? "SELECT id, name, NULL, deleted_at IS NULL FROM rooms"
        : strcmp(type, "vehicle") == 0
            ? "SELECT id, name, plate, deleted_at IS NULL FROM vehicles"
            : "SELECT id, name, role, deleted_at IS NULL FROM people";
    sqlite3_stmt *stmt = store_stmt(st, sql);
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (cb(text_or_null(stmt, 0), text_or_null(stmt, 1), text_or_null(stmt, 2),
               sqlite3_column_int(stmt, 3), arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_report_approvals(struct store *st, int64_t from, int64_t to, int64_t *approved,
                           int64_t *rejected, int64_t *expired)
{
    sqlite3_stmt *stmt;
    int rc;

    *approved = *rejected = *expired = 0;
    /* Counted in the year they were decided (expiry is a decision by the clock). */
    stmt = store_stmt(st, "SELECT status, count(*) FROM approvals "
                          "WHERE decided_at >= ?1 AND decided_at < ?2 GROUP BY status");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, from);
    sqlite3_bind_int64(stmt, 2, to);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *status = text_or_null(stmt, 0);
        int64_t n = sqlite3_column_int64(stmt, 1);
        if (status != NULL && strcmp(status, "approved") == 0)
            *approved = n;
        else if (status != NULL && strcmp(status, "rejected") == 0)
            *rejected = n;
        else if (status != NULL && strcmp(status, "expired") == 0)
            *expired = n;
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}
