/*
 * events.c - event rows, their occurrences and the occupancy index (the
 * outbox and the audit trail are outbox.c and audit.c). All of a change
 * is written by one caller inside one store_begin()/store_commit().
 */
#include "store_internal.h"

#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

#define EVENT_COLUMNS                                                                        \
    "id, uid, version, sequence, status, title, confidential, best_rank, doc, expanded_until, " \
    "open_ended, created_at, updated_at"

static const char *const status_names[] = {
    [EVENT_CONFIRMED] = "confirmed", [EVENT_CANCELLED] = "cancelled",
    [EVENT_PENDING] = "pending",     [EVENT_REJECTED] = "rejected",
    [EVENT_EXPIRED] = "expired",
};

const char *event_status_name(enum event_status status)
{
    return (size_t)status < ARRAY_SIZE(status_names) ? status_names[status] : "confirmed";
}

enum event_status event_status_parse(const char *s)
{
    for (size_t i = 0; s != NULL && i < ARRAY_SIZE(status_names); i++)
        if (strcmp(s, status_names[i]) == 0)
            return (enum event_status)i;
    return EVENT_CONFIRMED;
}

int event_status_holds(enum event_status status)
{
    return status == EVENT_CONFIRMED || status == EVENT_PENDING;
}

static void bind_event(sqlite3_stmt *stmt, const struct event_row *ev)
{
    sqlite3_bind_text(stmt, 1, ev->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, ev->uid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, ev->version);
    sqlite3_bind_int64(stmt, 4, ev->sequence);
    sqlite3_bind_text(stmt, 5, event_status_name(ev->status), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, ev->title, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 7, ev->confidential);
    sqlite3_bind_int64(stmt, 8, ev->best_rank);
    sqlite3_bind_text(stmt, 9, ev->doc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 10, ev->expanded_until);
    sqlite3_bind_int(stmt, 11, ev->open_ended);
    sqlite3_bind_int64(stmt, 12, ev->created_at);
    sqlite3_bind_int64(stmt, 13, ev->updated_at);
}

/* Tells the observer (a document cache) of a write, even a failed one: its copy may be stale. */
static int event_written(struct store *st, const struct event_row *ev, int rc)
{
    if (st->on_event_write != NULL)
        st->on_event_write(st->on_event_write_arg, ev->id);
    return rc;
}

int store_event_insert(struct store *st, const struct event_row *ev)
{
    /* kind and department are the document's own members, read by SQLite as it stores them. */
    sqlite3_stmt *stmt = store_stmt(
        st, "INSERT INTO events(" EVENT_COLUMNS ", kind, department) VALUES(?1, ?2, ?3, ?4, ?5, "
            "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, json_extract(?9, '$.kind'), "
            "json_extract(?9, '$.department'))");
    if (stmt == NULL)
        return STORE_ERROR;
    bind_event(stmt, ev);
    return event_written(st, ev, store_step_done(st, stmt, __func__));
}

int store_event_update(struct store *st, const struct event_row *ev)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "UPDATE events SET uid = ?2, version = ?3, sequence = ?4, status = ?5, title = ?6, "
            "confidential = ?7, best_rank = ?8, doc = ?9, expanded_until = ?10, open_ended = ?11, "
            "created_at = ?12, updated_at = ?13, kind = json_extract(?9, '$.kind'), "
            "department = json_extract(?9, '$.department') WHERE id = ?1");
    if (stmt == NULL)
        return STORE_ERROR;
    bind_event(stmt, ev);
    return event_written(st, ev, store_step_done(st, stmt, __func__));
}

void store_event_row_clear(struct event_row *ev)
{
    free(ev->title);
    free(ev->doc);
    ev->title = ev->doc = NULL;
}

int store_event_get(struct store *st, const char *id, struct event_row *out)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " EVENT_COLUMNS " FROM events WHERE id = ?1");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        store_event_row_clear(out);
        store_column_copy(stmt, 0, out->id, sizeof(out->id));
        store_column_copy(stmt, 1, out->uid, sizeof(out->uid));
        out->version = sqlite3_column_int64(stmt, 2);
        out->sequence = sqlite3_column_int64(stmt, 3);
        out->status = event_status_parse((const char *)sqlite3_column_text(stmt, 4));
        out->title = xstrdup((const char *)sqlite3_column_text(stmt, 5));
        out->confidential = sqlite3_column_int(stmt, 6);
        out->best_rank = sqlite3_column_int64(stmt, 7);
        out->doc = xstrdup((const char *)sqlite3_column_text(stmt, 8));
        out->expanded_until = sqlite3_column_int64(stmt, 9);
        out->open_ended = sqlite3_column_int(stmt, 10);
        out->created_at = sqlite3_column_int64(stmt, 11);
        out->updated_at = sqlite3_column_int64(stmt, 12);
    }
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}

int store_event_uid_exists(struct store *st, const char *uid)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT 1 FROM events WHERE uid = ?1");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, uid, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}

int store_event_ids_to_extend(struct store *st, int64_t before,
                              int (*cb)(const char *id, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT id FROM events WHERE open_ended = 1 AND "
                                        STORE_EVENT_HOLDS("") " AND expanded_until < ?1");
    char **ids = NULL;
    size_t n = 0;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, before);
    /* Collect first: the callback writes, and must not run under an open read. */
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

int store_event_window_ends_before(struct store *st, int64_t before)
{
    /* The terms of the partial index events_window, so SQLite uses it. */
    sqlite3_stmt *stmt = store_stmt(st, "SELECT 1 FROM events WHERE open_ended = 1 AND "
                                        STORE_EVENT_HOLDS("") " AND expanded_until < ?1 LIMIT 1");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, before);
    rc = sqlite3_step(stmt);
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}

int store_resource_events_unexpanded(struct store *st, const char *type, const char *id,
                                     int64_t before, const char *exclude_event,
                                     int (*cb)(const char *event_id, int64_t expanded_until,
                                               void *arg),
                                     void *arg)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT e.id, e.expanded_until FROM event_resources r JOIN events e "
            "ON e.id = r.event_id WHERE r.resource_type = ?1 AND r.resource_id = ?2 "
            "AND e.open_ended = 1 AND " STORE_EVENT_HOLDS("e.") " AND e.expanded_until < ?3 "
            "AND e.id != ?4");
    char **ids = NULL;
    int64_t *until = NULL;
    size_t n = 0;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, before);
    sqlite3_bind_text(stmt, 4, exclude_event ? exclude_event : "", -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        ids = xrealloc(ids, (n + 1) * sizeof(*ids));
        until = xrealloc(until, (n + 1) * sizeof(*until));
        ids[n] = xstrdup((const char *)sqlite3_column_text(stmt, 0));
        until[n++] = sqlite3_column_int64(stmt, 1);
    }
    store_stmt_done(stmt);
    rc = rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
    for (size_t i = 0; i < n; i++) {
        if (rc == STORE_OK && cb(ids[i], until[i], arg) != 0)
            rc = STORE_ERROR;
        free(ids[i]);
    }
    free(ids);
    free(until);
    return rc;
}

int store_event_bookings_clear(struct store *st, const char *event_id)
{
    sqlite3_stmt *a = store_stmt(st, "DELETE FROM occurrences WHERE event_id = ?1");
    int rc;

    if (a == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(a, 1, event_id, -1, SQLITE_STATIC);
    if ((rc = store_step_done(st, a, __func__)) != STORE_OK)
        return rc;
    sqlite3_stmt *b = store_stmt(st, "DELETE FROM occupancy WHERE event_id = ?1");
    if (b == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(b, 1, event_id, -1, SQLITE_STATIC);
    return store_step_done(st, b, __func__);
}

int store_occurrence_insert(struct store *st, const char *event_id, const struct occurrence *o)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT INTO occurrences(event_id, recurrence_id, "
                                        "start_local, end_local, start_utc, end_utc) "
                                        "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, o->recurrence_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, o->start, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, o->end, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 5, o->start_utc);
    sqlite3_bind_int64(stmt, 6, o->end_utc);
    return store_step_done(st, stmt, __func__);
}

int store_occupancy_insert(struct store *st, const struct claim *c)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT INTO occupancy(resource_type, resource_id, "
                                        "start_utc, end_utc, event_id, recurrence_id, trip_id, "
                                        "block_id, role) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, c->resource_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, c->resource_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, c->start_utc);
    sqlite3_bind_int64(stmt, 4, c->end_utc);
    store_bind_text(stmt, 5, c->event_id);
    store_bind_text(stmt, 6, c->recurrence_id);
    store_bind_text(stmt, 7, c->trip_id);
    store_bind_text(stmt, 8, c->block_id);
    sqlite3_bind_text(stmt, 9, c->role, -1, SQLITE_STATIC);
    if ((rc = store_step_done(st, stmt, __func__)) != STORE_OK)
        return rc;
    /*
     * Keep the resource's longest booking: it bounds every range scan below.
     * Only a longer one is written: SQLite rewrites a row even to the same
     * value, and most claims are no longer than the longest (a booking's
     * four claims did so each time).
     */
    stmt = store_stmt(st, "INSERT INTO resource_span(resource_type, resource_id, longest) "
                          "VALUES(?1, ?2, ?3) ON CONFLICT(resource_type, resource_id) "
                          "DO UPDATE SET longest = excluded.longest "
                          "WHERE excluded.longest > longest");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, c->resource_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, c->resource_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, c->end_utc - c->start_utc);
    return store_step_done(st, stmt, __func__);
}

int store_occupancy_overlaps(struct store *st, const char *type, const char *id, int64_t start,
                             int64_t end, const char *exclude_event,
                             int (*cb)(const struct clash *c, void *arg), void *arg)
{
    /*
     * start_utc is indexed per resource; a booking overlapping [start, end)
     * began before `end` and no earlier than start minus the resource's
     * longest booking, so the scan touches only candidates.
     */
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT o.resource_type, o.resource_id, o.role, o.event_id, o.recurrence_id, "
            "  coalesce(oc.start_local, b.start_local), o.trip_id, o.block_id, "
            "  coalesce(e.title, b.reason), coalesce(e.confidential, 0), "
            "  coalesce(e.best_rank, 0), o.start_utc, o.end_utc, e.status "
            "FROM occupancy o "
            "LEFT JOIN occurrences oc ON oc.event_id = o.event_id "
            "  AND oc.recurrence_id = o.recurrence_id "
            "LEFT JOIN events e ON e.id = o.event_id "
            "LEFT JOIN blocks b ON b.id = o.block_id "
            "WHERE o.resource_type = ?1 AND o.resource_id = ?2 AND o.start_utc < ?4 "
            "  AND o.start_utc >= ?3 - coalesce((SELECT longest FROM resource_span "
            "      WHERE resource_type = ?1 AND resource_id = ?2), 0) "
            "  AND o.end_utc > ?3 AND (o.event_id IS NULL OR o.event_id != ?5) "
            "ORDER BY o.start_utc");
    struct clash c;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, start);
    sqlite3_bind_int64(stmt, 4, end);
    sqlite3_bind_text(stmt, 5, exclude_event ? exclude_event : "", -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        memset(&c, 0, sizeof(c));
        store_column_copy(stmt, 0, c.resource_type, sizeof(c.resource_type));
        store_column_copy(stmt, 1, c.resource_id, sizeof(c.resource_id));
        store_column_copy(stmt, 2, c.role, sizeof(c.role));
        store_column_copy(stmt, 3, c.event_id, sizeof(c.event_id));
        store_column_copy(stmt, 4, c.recurrence_id, sizeof(c.recurrence_id));
        store_column_copy(stmt, 5, c.other_start, sizeof(c.other_start));
        store_column_copy(stmt, 6, c.trip_id, sizeof(c.trip_id));
        store_column_copy(stmt, 7, c.block_id, sizeof(c.block_id));
        store_column_copy(stmt, 8, c.title, sizeof(c.title));
        c.confidential = sqlite3_column_int(stmt, 9);
        c.best_rank = sqlite3_column_int64(stmt, 10);
        c.start_utc = sqlite3_column_int64(stmt, 11);
        c.end_utc = sqlite3_column_int64(stmt, 12);
        store_column_copy(stmt, 13, c.other_status, sizeof(c.other_status));
        if (cb(&c, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_occupancy_release(struct store *st, const char *event_id, const char *type,
                            const char *id)
{
    sqlite3_stmt *stmt = store_stmt(st, "DELETE FROM occupancy WHERE event_id = ?1 AND "
                                        "resource_type = ?2 AND resource_id = ?3");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, id, -1, SQLITE_STATIC);
    return store_step_done(st, stmt, __func__);
}

int store_occupancy_delete_block(struct store *st, const char *block_id, const char *type,
                                 const char *id)
{
    /* Through the resource index: blocks need no index of their own. */
    sqlite3_stmt *stmt = store_stmt(st, "DELETE FROM occupancy WHERE resource_type = ?2 AND "
                                        "resource_id = ?3 AND block_id = ?1");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, block_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, id, -1, SQLITE_STATIC);
    return store_step_done(st, stmt, __func__);
}

int store_occurrences_list(struct store *st, int64_t from, int64_t to, const char *type,
                           const char *id, const char *role,
                           int (*cb)(const struct occurrence_row *r, void *arg), void *arg)
{
    /* Without a resource: every live event's occurrences in range, by start. */
    static const char all_sql[] =
        "SELECT oc.event_id, oc.recurrence_id, oc.start_local, oc.end_local, oc.start_utc, "
        "  oc.end_utc FROM occurrences oc JOIN events e ON e.id = oc.event_id "
        "WHERE " STORE_EVENT_HOLDS("e.") " AND oc.start_utc < ?2 AND oc.end_utc > ?1 "
        "  AND oc.start_utc >= ?1 - 32 * 86400 " /* no occurrence lasts longer: index-bounded */
        "ORDER BY oc.start_utc, oc.event_id";
    static const char resource_sql[] =
        "SELECT DISTINCT oc.event_id, oc.recurrence_id, oc.start_local, oc.end_local, "
        "  oc.start_utc, oc.end_utc FROM occupancy o "
        "JOIN occurrences oc ON oc.event_id = o.event_id AND oc.recurrence_id = o.recurrence_id "
        "WHERE o.resource_type = ?3 AND o.resource_id = ?4 AND (?5 IS NULL OR o.role = ?5) "
        "  AND o.start_utc < ?2 AND o.end_utc > ?1 "
        /* Bounded below by the resource's longest hold, so a week's list does not walk its whole history. */
        "  AND o.start_utc >= ?1 - coalesce((SELECT longest FROM resource_span "
        "      WHERE resource_type = ?3 AND resource_id = ?4), 0) "
        /* A room's hold includes its setup/teardown buffers; list by the meeting itself. */
        "  AND (o.role != 'room' OR (oc.start_utc < ?2 AND oc.end_utc > ?1)) "
        "ORDER BY oc.start_utc, oc.event_id";
    sqlite3_stmt *stmt = store_stmt(st, type ? resource_sql : all_sql);
    struct occurrence_row r;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, from);
    sqlite3_bind_int64(stmt, 2, to);
    if (type != NULL) {
        sqlite3_bind_text(stmt, 3, type, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, id, -1, SQLITE_STATIC);
        store_bind_text(stmt, 5, role);
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        memset(&r, 0, sizeof(r));
        store_column_copy(stmt, 0, r.event_id, sizeof(r.event_id));
        store_column_copy(stmt, 1, r.occ.recurrence_id, sizeof(r.occ.recurrence_id));
        store_column_copy(stmt, 2, r.occ.start, sizeof(r.occ.start));
        store_column_copy(stmt, 3, r.occ.end, sizeof(r.occ.end));
        r.occ.start_utc = sqlite3_column_int64(stmt, 4);
        r.occ.end_utc = sqlite3_column_int64(stmt, 5);
        if (cb(&r, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_occurrences_invited(struct store *st, int64_t from, int64_t to, const char *person,
                              int (*cb)(const struct occurrence_row *r, void *arg), void *arg)
{
    static const char sql[] =
        "SELECT oc.event_id, oc.recurrence_id, oc.start_local, oc.end_local, oc.start_utc, "
        "  oc.end_utc FROM event_resources er "
        "JOIN events e ON e.id = er.event_id "
        "JOIN occurrences oc ON oc.event_id = er.event_id "
        "WHERE er.resource_type = 'person' AND er.resource_id = ?3 AND " STORE_EVENT_HOLDS("e.") " "
        "  AND oc.start_utc < ?2 AND oc.end_utc > ?1 "
        "ORDER BY oc.start_utc, oc.event_id";
    sqlite3_stmt *stmt = store_stmt(st, sql);
    struct occurrence_row r;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, from);
    sqlite3_bind_int64(stmt, 2, to);
    sqlite3_bind_text(stmt, 3, person, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        memset(&r, 0, sizeof(r));
        store_column_copy(stmt, 0, r.event_id, sizeof(r.event_id));
        store_column_copy(stmt, 1, r.occ.recurrence_id, sizeof(r.occ.recurrence_id));
        store_column_copy(stmt, 2, r.occ.start, sizeof(r.occ.start));
        store_column_copy(stmt, 3, r.occ.end, sizeof(r.occ.end));
        r.occ.start_utc = sqlite3_column_int64(stmt, 4);
        r.occ.end_utc = sqlite3_column_int64(stmt, 5);
        if (cb(&r, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_event_resources_clear(struct store *st, const char *event_id, int64_t now)
{
    /*
     * Every calendar that showed the event is stamped: those the event
     * leaves need it for their Last-Modified; for the others it changes
     * nothing, the event itself being as new.
     */
    sqlite3_stmt *stmt = store_stmt(
        st, "INSERT INTO calendar_changes(resource_type, resource_id, changed_at) "
            "SELECT resource_type, resource_id, ?2 FROM event_resources WHERE event_id = ?1 "
            "ON CONFLICT(resource_type, resource_id) "
            "DO UPDATE SET changed_at = max(changed_at, excluded.changed_at)");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    if ((rc = store_step_done(st, stmt, __func__)) != STORE_OK)
        return rc;
    stmt = store_stmt(st, "DELETE FROM event_resources WHERE event_id = ?1");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    return store_step_done(st, stmt, __func__);
}

int store_calendar_changed_at(struct store *st, const char *type, const char *id, int64_t *at)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT changed_at FROM calendar_changes "
                                        "WHERE resource_type = ?1 AND resource_id = ?2");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
    *at = 0;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *at = sqlite3_column_int64(stmt, 0);
    store_stmt_done(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_event_resource_add(struct store *st, const char *event_id, const char *type,
                             const char *id)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT OR IGNORE INTO event_resources(event_id, "
                                        "resource_type, resource_id) VALUES(?1, ?2, ?3)");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, id, -1, SQLITE_STATIC);
    return store_step_done(st, stmt, __func__);
}

int store_event_resources_list(struct store *st, const char *event_id,
                               int (*cb)(const char *type, const char *id, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT resource_type, resource_id FROM event_resources WHERE event_id = ?1");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (cb((const char *)sqlite3_column_text(stmt, 0),
               (const char *)sqlite3_column_text(stmt, 1), arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

/*
 * The ids of a calendar's events in id order (stable, which is all a feed
 * needs): a malloc'd array of n malloc'd strings. This reads the index
 * alone. Ordering by the events' creation time read each event's row, and
 * created_at sits after the document, so every event cost a walk of its
 * document's overflow pages (6% of the loop under load).
 */
static int calendar_ids(struct store *st, const char *type, const char *id, char ***ids_out,
                        size_t *n_out)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT event_id FROM event_resources "
            "WHERE resource_type = ?1 AND resource_id = ?2 ORDER BY event_id");
    char **ids = NULL;
    size_t n = 0, cap = 0;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            ids = xrealloc(ids, cap * sizeof(*ids));
        }
        ids[n++] = xstrdup((const char *)sqlite3_column_text(stmt, 0));
    }
    store_stmt_done(stmt);
    *ids_out = ids;
    *n_out = n;
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

static void ids_free(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

int store_calendar_events(struct store *st, const char *type, const char *id,
                          int (*cb)(const struct event_row *ev, void *arg), void *arg)
{
    char **ids;
    size_t n;
    int rc = calendar_ids(st, type, id, &ids, &n);

    /* Rows are loaded after the scan: store_event_get reuses the statement cache. */
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        struct event_row ev;
        memset(&ev, 0, sizeof(ev));
        if (store_event_get(st, ids[i], &ev) == STORE_OK && cb(&ev, arg) != 0)
            rc = STORE_ERROR;
        store_event_row_clear(&ev);
    }
    ids_free(ids, n);
    return rc;
}

int store_calendar_event_ids(struct store *st, const char *type, const char *id,
                             int (*cb)(const char *event_id, void *arg), void *arg)
{
    char **ids;
    size_t n;
    int rc = calendar_ids(st, type, id, &ids, &n);

    for (size_t i = 0; i < n && rc == STORE_OK; i++)
        if (cb(ids[i], arg) != 0)
            rc = STORE_ERROR;
    ids_free(ids, n);
    return rc;
}
