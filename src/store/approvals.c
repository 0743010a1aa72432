/*
 * approvals.c - the rows of CONTRACT section 12: one per approval a
 * booking needs (approvals), the departments with their in-charge leader,
 * and the rules as one opaque text in meta. The booking layer
 * (src/booking/approvals.c) decides; this file only keeps.
 */
#include "store_internal.h"

#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

/* ---------------- meta as text ---------------- */

int store_meta_get_text(struct store *st, const char *key, char **value)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT value FROM meta WHERE key = ?1");
    int rc;

    *value = NULL;
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *value = xstrdup((const char *)sqlite3_column_text(stmt, 0));
    store_stmt_done(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_meta_set_text(struct store *st, const char *key, const char *value)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
    return store_step_done(st, stmt, __func__);
}

/* ---------------- approvals ---------------- */

#define APPROVAL_COLUMNS                                                                   \
    "id, event_id, reason, tier, approver, status, requested_by, requested_at, expires_at, " \
    "decided_by, decided_at, comment, meeting"

static void read_approval(sqlite3_stmt *stmt, struct approval_row *a)
{
    memset(a, 0, sizeof(*a));
    store_column_copy(stmt, 0, a->id, sizeof(a->id));
    store_column_copy(stmt, 1, a->event_id, sizeof(a->event_id));
    store_column_copy(stmt, 2, a->reason, sizeof(a->reason));
    store_column_copy(stmt, 3, a->tier, sizeof(a->tier));
    store_column_copy(stmt, 4, a->approver, sizeof(a->approver));
    store_column_copy(stmt, 5, a->status, sizeof(a->status));
    store_column_copy(stmt, 6, a->requested_by, sizeof(a->requested_by));
    a->requested_at = sqlite3_column_int64(stmt, 7);
    a->expires_at = sqlite3_column_int64(stmt, 8);
    store_column_copy(stmt, 9, a->decided_by, sizeof(a->decided_by));
    a->decided_at = sqlite3_column_int64(stmt, 10);
    store_column_copy(stmt, 11, a->comment, sizeof(a->comment));
    store_column_copy(stmt, 12, a->meeting, sizeof(a->meeting));
}

int store_approval_insert(struct store *st, const struct approval_row *a)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT INTO approvals(" APPROVAL_COLUMNS ") VALUES(?1, "
                                        "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, NULL, NULL)");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, a->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, a->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, a->tier, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, a->approver, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, a->status, -1, SQLITE_STATIC);
    store_bind_text(stmt, 7, a->requested_by);
    sqlite3_bind_int64(stmt, 8, a->requested_at);
    sqlite3_bind_int64(stmt, 9, a->expires_at);
    return store_step_done(st, stmt, __func__);
}

int store_approval_update(struct store *st, const struct approval_row *a)
{
    sqlite3_stmt *stmt = store_stmt(st, "UPDATE approvals SET status = ?2, decided_by = ?3, "
                                        "decided_at = ?4, comment = ?5, meeting = ?6 WHERE id = ?1");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, a->status, -1, SQLITE_STATIC);
    store_bind_text(stmt, 3, a->decided_by);
    sqlite3_bind_int64(stmt, 4, a->decided_at);
    store_bind_text(stmt, 5, a->comment);
    store_bind_text(stmt, 6, a->meeting);
    return store_step_done(st, stmt, __func__);
}

int store_approval_get(struct store *st, const char *id, struct approval_row *out)
{
    sqlite3_stmt *stmt =
        store_stmt(st, "SELECT " APPROVAL_COLUMNS " FROM approvals WHERE id = ?1");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        read_approval(stmt, out);
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}

/* Steps a bound query and calls cb per row; rows are read one at a time (cb must not write). */
static int each_approval(struct store *st, sqlite3_stmt *stmt,
                         int (*cb)(const struct approval_row *a, void *arg), void *arg,
                         const char *func)
{
    struct approval_row a;
    int rc;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_approval(stmt, &a);
        if (cb(&a, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, func);
}

int store_approvals_of_event(struct store *st, const char *event_id,
                             int (*cb)(const struct approval_row *a, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " APPROVAL_COLUMNS " FROM approvals "
                                        "WHERE event_id = ?1 ORDER BY requested_at, reason, id");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, event_id, -1, SQLITE_STATIC);
    return each_approval(st, stmt, cb, arg, __func__);
}

int store_approvals_list(struct store *st, const char *status, const char *approver,
                         int (*cb)(const struct approval_row *a, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " APPROVAL_COLUMNS " FROM approvals "
                                        "WHERE (?1 IS NULL OR status = ?1) "
                                        "AND (?2 IS NULL OR approver = ?2) "
                                        "ORDER BY expires_at, id LIMIT 1000");

    if (stmt == NULL)
        return STORE_ERROR;
    store_bind_text(stmt, 1, status);
    store_bind_text(stmt, 2, approver);
    return each_approval(st, stmt, cb, arg, __func__);
}

int store_approvals_due(struct store *st, int64_t now,
                        int (*cb)(const char *event_id, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT DISTINCT event_id FROM approvals "
                                        "WHERE status = 'pending' AND expires_at <= ?1");
    char **ids = NULL;
    size_t n = 0;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, now);
    /* Collected first: the callback writes, and must not run under an open read. */
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        ids = xrealloc(ids, (n + 1) * sizeof(*ids));
        ids[n++] = xstrdup((const char *)sqlite3_column_text(stmt, 0));
    }
    store_stmt_done(stmt);
    if (rc != SQLITE_DONE)
        store_fail(st, __func__);
    for (size_t i = 0; i < n; i++) {
        if (rc == SQLITE_DONE && cb(ids[i], arg) != 0)
            rc = SQLITE_ERROR;
        free(ids[i]);
    }
    free(ids);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int store_approvals_next_expiry(struct store *st, int64_t *at)
{
    sqlite3_stmt *stmt =
        store_stmt(st, "SELECT min(expires_at) FROM approvals WHERE status = 'pending'");
    int rc;

    *at = 0;
    if (stmt == NULL)
        return STORE_ERROR;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        *at = sqlite3_column_int64(stmt, 0);
    store_stmt_done(stmt);
    return rc == SQLITE_ROW ? STORE_OK : store_fail(st, __func__);
}

/* ---------------- departments ---------------- */

#define DEPARTMENT_COLUMNS "id, name, in_charge, version, created_at, updated_at"

static void read_department(sqlite3_stmt *stmt, struct department_row *d)
{
    memset(d, 0, sizeof(*d));
    store_column_copy(stmt, 0, d->id, sizeof(d->id));
    store_column_copy(stmt, 1, d->name, sizeof(d->name));
    store_column_copy(stmt, 2, d->in_charge, sizeof(d->in_charge));
    d->version = sqlite3_column_int64(stmt, 3);
    d->created_at = sqlite3_column_int64(stmt, 4);
    d->updated_at = sqlite3_column_int64(stmt, 5);
}

static void bind_department(sqlite3_stmt *stmt, const struct department_row *d)
{
    sqlite3_bind_text(stmt, 1, d->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, d->name, -1, SQLITE_STATIC);
    store_bind_text(stmt, 3, d->in_charge);
    sqlite3_bind_int64(stmt, 4, d->version);
    sqlite3_bind_int64(stmt, 5, d->created_at);
    sqlite3_bind_int64(stmt, 6, d->updated_at);
}

int store_department_insert(struct store *st, const struct department_row *d)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT INTO departments(" DEPARTMENT_COLUMNS
                                        ") VALUES(?1, ?2, ?3, ?4, ?5, ?6)");

    if (stmt == NULL)
        return STORE_ERROR;
    bind_department(stmt, d);
    return store_step_done(st, stmt, __func__);
}

int store_department_update(struct store *st, const struct department_row *d)
{
    sqlite3_stmt *stmt = store_stmt(st, "UPDATE departments SET name = ?2, in_charge = ?3, "
                                        "version = ?4, created_at = ?5, updated_at = ?6 "
                                        "WHERE id = ?1 AND deleted_at IS NULL");

    if (stmt == NULL)
        return STORE_ERROR;
    bind_department(stmt, d);
    return store_step_done(st, stmt, __func__);
}

static int one_department(struct store *st, sqlite3_stmt *stmt, struct department_row *out,
                          const char *func)
{
    int rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW)
        read_department(stmt, out);
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, func);
}

int store_department_get(struct store *st, const char *id, struct department_row *out)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " DEPARTMENT_COLUMNS " FROM departments "
                                        "WHERE id = ?1 AND deleted_at IS NULL");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    return one_department(st, stmt, out, __func__);
}

int store_department_by_name(struct store *st, const char *name, struct department_row *out)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " DEPARTMENT_COLUMNS " FROM departments "
                                        "WHERE name = ?1 AND deleted_at IS NULL");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    return one_department(st, stmt, out, __func__);
}

int store_department_delete(struct store *st, const char *id, int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "UPDATE departments SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    if (store_step_done(st, stmt, __func__) != STORE_OK)
        return STORE_ERROR;
    return sqlite3_changes(st->db) > 0 ? STORE_OK : STORE_NOTFOUND;
}

int store_departments_list(struct store *st,
                           int (*cb)(const struct department_row *d, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " DEPARTMENT_COLUMNS " FROM departments "
                                        "WHERE deleted_at IS NULL ORDER BY name");
    struct department_row d;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_department(stmt, &d);
        if (cb(&d, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}
