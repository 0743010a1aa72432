/*
 * webhooks.c - endpoints and their delivery rows; the sender in
 * src/notify/ drives these. The outbox is store/outbox.c, reminders
 * store/reminders.c.
 */
#include "store_internal.h"

#include "convene/secretbox.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_meta_get_int(struct store *st, const char *key, int64_t *value)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT value FROM meta WHERE key = ?1");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    *value = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    store_stmt_done(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_meta_set_int(struct store *st, const char *key, int64_t value)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, value);
    return store_step_done(st, stmt, __func__);
}

#define WEBHOOK_COLUMNS                                                                      \
    "id, url, events, person, enabled, secret, old_secret, old_secret_until, failing_since, " \
    "disabled_reason, version, created_at, updated_at, format"

/* The stored form of a secret: sealed when the store has a key (always, in the service). */
struct sealed {
    char text[SECRETBOX_SEALED_MAX(WEBHOOK_SECRET_MAX)];
};

static int seal(struct store *st, const char *plain, struct sealed *out)
{
    if (!st->has_secret_key || plain[0] == '\0') {
        snprintf(out->text, sizeof(out->text), "%s", plain);
        return 0;
    }
    return secretbox_seal(st->secret_key, plain, out->text, sizeof(out->text));
}

/* Binds a row; the sealed secrets must outlive the statement's step. -1 if sealing failed. */
static int bind_webhook(struct store *st, sqlite3_stmt *stmt, const struct webhook_row *w,
                        struct sealed *secret, struct sealed *old_secret)
{
    if (seal(st, w->secret, secret) != 0 || seal(st, w->old_secret, old_secret) != 0) {
        log_error("%s: cannot seal the secret of webhook %s", __func__, w->id);
        return -1;
    }
    sqlite3_bind_text(stmt, 1, w->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, w->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, w->events, -1, SQLITE_STATIC);
    store_bind_text(stmt, 4, w->person);
    sqlite3_bind_int(stmt, 5, w->enabled);
    sqlite3_bind_text(stmt, 6, secret->text, -1, SQLITE_STATIC);
    store_bind_text(stmt, 7, old_secret->text);
    sqlite3_bind_int64(stmt, 8, w->old_secret_until);
    sqlite3_bind_int64(stmt, 9, w->failing_since);
    store_bind_text(stmt, 10, w->disabled_reason);
    sqlite3_bind_int64(stmt, 11, w->version);
    sqlite3_bind_int64(stmt, 12, w->created_at);
    sqlite3_bind_int64(stmt, 13, w->updated_at);
    sqlite3_bind_text(stmt, 14, webhook_format_name(w->format), -1, SQLITE_STATIC);
    return 0;
}

/* A stored secret in the clear; an unreadable one (wrong key file) becomes "" and is logged. */
static void open_secret(struct store *st, sqlite3_stmt *stmt, int col, const char *id, char *out,
                        size_t cap)
{
    const char *text = (const char *)sqlite3_column_text(stmt, col);

    out[0] = '\0';
    if (text == NULL || text[0] == '\0')
        return;
    if (secretbox_is_sealed(text) && !st->has_secret_key) {
        log_error("webhook %s: its secret is sealed and this process has no key", id);
        return;
    }
    if (secretbox_open(st->secret_key, text, out, cap) != 0) {
        log_error("webhook %s: its secret does not open with this key file", id);
        out[0] = '\0';
    }
}

static void read_webhook(struct store *st, sqlite3_stmt *stmt, struct webhook_row *w)
{
    store_webhook_row_clear(w);
    store_column_copy(stmt, 0, w->id, sizeof(w->id));
    w->url = xstrdup((const char *)sqlite3_column_text(stmt, 1));
    w->events = xstrdup((const char *)sqlite3_column_text(stmt, 2));
    store_column_copy(stmt, 3, w->person, sizeof(w->person));
    w->enabled = sqlite3_column_int(stmt, 4);
    open_secret(st, stmt, 5, w->id, w->secret, sizeof(w->secret));
    open_secret(st, stmt, 6, w->id, w->old_secret, sizeof(w->old_secret));
    w->old_secret_until = sqlite3_column_int64(stmt, 7);
    w->failing_since = sqlite3_column_int64(stmt, 8);
    store_column_copy(stmt, 9, w->disabled_reason, sizeof(w->disabled_reason));
    w->version = sqlite3_column_int64(stmt, 10);
    w->created_at = sqlite3_column_int64(stmt, 11);
    w->updated_at = sqlite3_column_int64(stmt, 12);
    const char *format = (const char *)sqlite3_column_text(stmt, 13);
    /* Only migrations write other names, and a newer schema is refused at open. */
    if (format == NULL || webhook_format_parse(format, &w->format) != 0)
        w->format = WEBHOOK_STANDARD;
}

void store_webhook_row_clear(struct webhook_row *w)
{
    free(w->url);
    free(w->events);
    w->url = w->events = NULL;
}

int store_webhook_insert(struct store *st, const struct webhook_row *w)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT INTO webhooks(" WEBHOOK_COLUMNS ") VALUES(?1, ?2, "
                                        "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
    struct sealed secret, old_secret;

    if (stmt == NULL)
        return STORE_ERROR;
    if (bind_webhook(st, stmt, w, &secret, &old_secret) != 0) {
        store_stmt_done(stmt);
        return STORE_ERROR;
    }
    return store_step_done(st, stmt, __func__);
}

int store_webhook_update(struct store *st, const struct webhook_row *w)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "UPDATE webhooks SET url = ?2, events = ?3, person = ?4, enabled = ?5, secret = ?6, "
            "old_secret = ?7, old_secret_until = ?8, failing_since = ?9, disabled_reason = ?10, "
            "version = ?11, created_at = ?12, updated_at = ?13, format = ?14 WHERE id = ?1");
    struct sealed secret, old_secret;

    if (stmt == NULL)
        return STORE_ERROR;
    if (bind_webhook(st, stmt, w, &secret, &old_secret) != 0) {
        store_stmt_done(stmt);
        return STORE_ERROR;
    }
    return store_step_done(st, stmt, __func__);
}

int store_webhook_get(struct store *st, const char *id, struct webhook_row *out)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE id = ?1 AND deleted_at IS NULL");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        read_webhook(st, stmt, out);
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}

int store_webhook_list(struct store *st, int enabled_only,
                       int (*cb)(const struct webhook_row *w, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE "
                                        "deleted_at IS NULL AND (?1 = 0 OR enabled = 1) "
                                        "ORDER BY created_at, id");
    struct webhook_row w;
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    memset(&w, 0, sizeof(w));
    sqlite3_bind_int(stmt, 1, enabled_only);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_webhook(st, stmt, &w);
        if (cb(&w, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    store_webhook_row_clear(&w);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_webhook_delete(struct store *st, const char *id, int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(st, "UPDATE webhooks SET deleted_at = ?2, enabled = 0 "
                                        "WHERE id = ?1 AND deleted_at IS NULL");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    if (store_step_done(st, stmt, __func__) != STORE_OK)
        return STORE_ERROR;
    return sqlite3_changes(st->db) == 1 ? STORE_OK : STORE_NOTFOUND;
}

int store_delivery_insert(struct store *st, const char *webhook_id, const char *msg_id,
                          const char *type, const char *body, int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "INSERT OR IGNORE INTO deliveries(webhook_id, msg_id, type, body, status, "
            "next_attempt, created_at, updated_at) "
            "VALUES(?1, ?2, ?3, ?4, 'pending', ?5 * 1000, ?5, ?5)");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, webhook_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, msg_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 5, now);
    return store_step_done(st, stmt, __func__);
}

int store_delivery_insert_link(struct store *st, const char *webhook_id, const char *msg_id,
                               const char *type, const char *body, const char *link_ref,
                               int64_t link_at, int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "INSERT OR IGNORE INTO deliveries(webhook_id, msg_id, type, body, status, "
            "next_attempt, created_at, updated_at, link_ref, link_at) "
            "VALUES(?1, ?2, ?3, ?4, 'pending', ?5 * 1000, ?5, ?5, ?6, ?7)");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, webhook_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, msg_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 5, now);
    sqlite3_bind_text(stmt, 6, link_ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, link_at);
    return store_step_done(st, stmt, __func__);
}

#define DELIVERY_COLUMNS                                                                   \
    "d.id, d.webhook_id, d.msg_id, d.type, d.status, d.attempts, coalesce(d.last_status, 0), " \
    "d.next_attempt, d.created_at, d.body, coalesce(d.last_error, ''), d.link_ref, "         \
    "coalesce(d.link_at, -1)"

static void read_delivery(sqlite3_stmt *stmt, struct delivery_row *d)
{
    d->id = sqlite3_column_int64(stmt, 0);
    store_column_copy(stmt, 1, d->webhook_id, sizeof(d->webhook_id));
    store_column_copy(stmt, 2, d->msg_id, sizeof(d->msg_id));
    store_column_copy(stmt, 3, d->type, sizeof(d->type));
    store_column_copy(stmt, 4, d->status, sizeof(d->status));
    d->attempts = sqlite3_column_int(stmt, 5);
    d->last_status = sqlite3_column_int(stmt, 6);
    d->next_attempt_ms = sqlite3_column_int64(stmt, 7);
    d->next_attempt = (d->next_attempt_ms + 999) / 1000;
    d->created_at = sqlite3_column_int64(stmt, 8);
    d->body = (const char *)sqlite3_column_text(stmt, 9);
    store_column_copy(stmt, 10, d->last_error, sizeof(d->last_error));
    d->link_ref = (const char *)sqlite3_column_text(stmt, 11);
    d->link_at = sqlite3_column_int64(stmt, 12);
}

static int delivery_rows(struct store *st, sqlite3_stmt *stmt,
                         int (*cb)(const struct delivery_row *d, void *arg), void *arg)
{
    struct delivery_row d;
    int rc;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_delivery(stmt, &d);
        if (cb(&d, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_deliveries_due(struct store *st, int64_t now_ms, size_t limit,
                         int (*cb)(const struct delivery_row *d, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " DELIVERY_COLUMNS " FROM deliveries d "
                                        "JOIN webhooks w ON w.id = d.webhook_id AND w.enabled = 1 "
                                        "WHERE d.status = 'pending' AND d.next_attempt <= ?1 "
                                        "ORDER BY d.next_attempt, d.id LIMIT ?2");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, now_ms);
    sqlite3_bind_int64(stmt, 2, (int64_t)limit);
    return delivery_rows(st, stmt, cb, arg);
}

int store_delivery_get(struct store *st, int64_t id, struct delivery_row *out)
{
    sqlite3_stmt *stmt =
        store_stmt(st, "SELECT " DELIVERY_COLUMNS " FROM deliveries d WHERE d.id = ?1");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, id);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        read_delivery(stmt, out);
        out->body = NULL; /* not valid after the statement resets */
        out->link_ref = NULL;
    }
    store_stmt_done(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(st, __func__);
}

int store_delivery_update(struct store *st, int64_t id, const char *status, int attempts,
                          int last_status, const char *last_error, int64_t next_attempt_ms,
                          int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(st, "UPDATE deliveries SET status = ?2, attempts = ?3, "
                                        "last_status = ?4, last_error = ?5, next_attempt = ?6, "
                                        "updated_at = ?7 WHERE id = ?1");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_text(stmt, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 3, attempts);
    if (last_status > 0)
        sqlite3_bind_int(stmt, 4, last_status);
    else
        sqlite3_bind_null(stmt, 4);
    store_bind_text(stmt, 5, last_error);
    sqlite3_bind_int64(stmt, 6, next_attempt_ms);
    sqlite3_bind_int64(stmt, 7, now);
    return store_step_done(st, stmt, __func__);
}

int store_deliveries_list(struct store *st, const char *webhook_id, size_t limit,
                          int (*cb)(const struct delivery_row *d, void *arg), void *arg)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT " DELIVERY_COLUMNS " FROM deliveries d "
                                        "WHERE d.webhook_id = ?1 ORDER BY d.id DESC LIMIT ?2");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, webhook_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, (int64_t)limit);
    return delivery_rows(st, stmt, cb, arg);
}

int store_delivery_retry(struct store *st, const char *webhook_id, const char *msg_id,
                         int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(st, "UPDATE deliveries SET status = 'pending', "
                                        "next_attempt = ?3 * 1000, updated_at = ?3 "
                                        "WHERE webhook_id = ?1 AND msg_id = ?2");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, webhook_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, msg_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now);
    if (store_step_done(st, stmt, __func__) != STORE_OK)
        return STORE_ERROR;
    return sqlite3_changes(st->db) == 1 ? STORE_OK : STORE_NOTFOUND;
}

int store_deliveries_replay(struct store *st, const char *webhook_id, int64_t since, int64_t now,
                            int64_t *count)
{
    /*
     * The messages of the period are those in the outbox since then, and
     * the reminder.due messages, which have no outbox row: their delivery
     * rows are written when they fall due, so their created_at is the
     * message's time.
     */
    sqlite3_stmt *stmt = store_stmt(
        st, "UPDATE deliveries SET status = 'pending', next_attempt = ?3 * 1000, updated_at = ?3 "
            "WHERE webhook_id = ?1 AND ((type = 'reminder.due' AND created_at >= ?2) OR "
            "msg_id IN (SELECT msg_id FROM outbox WHERE created_at >= ?2))");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, webhook_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, since);
    sqlite3_bind_int64(stmt, 3, now);
    if (store_step_done(st, stmt, __func__) != STORE_OK)
        return STORE_ERROR;
    *count = sqlite3_changes(st->db);
    return STORE_OK;
}

int store_deliveries_release_leases(struct store *st, const char *lease_mark, int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(st, "UPDATE deliveries SET next_attempt = ?2 * 1000, "
                                        "last_error = 'interrupted (service restarted)', "
                                        "updated_at = ?2 WHERE status = 'pending' AND "
                                        "last_error = ?1 AND next_attempt > ?2 * 1000");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, lease_mark, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    return store_step_done(st, stmt, __func__);
}

int store_deliveries_next_due(struct store *st, int64_t after_ms, int64_t *when_ms)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT min(d.next_attempt) FROM deliveries d "
                                        "JOIN webhooks w ON w.id = d.webhook_id AND w.enabled = 1 "
                                        "WHERE d.status = 'pending' AND d.next_attempt > ?1");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, after_ms);
    rc = sqlite3_step(stmt);
    *when_ms = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    store_stmt_done(stmt);
    return rc == SQLITE_ROW ? STORE_OK : store_fail(st, __func__);
}

int store_deliveries_count(struct store *st, const char *status, int64_t *count)
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT count(*) FROM deliveries WHERE status = ?1");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, status, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    store_stmt_done(stmt);
    return rc == SQLITE_ROW ? STORE_OK : store_fail(st, __func__);
}

int store_deliveries_waiting(struct store *st, const char *url,
                             int (*cb)(int64_t id, int64_t next_attempt_ms, void *arg), void *arg)
{
    /* By endpoint (the UNIQUE(webhook_id, msg_id) index), sorted by id: a robot's queue. */
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT id, next_attempt FROM deliveries WHERE status = 'pending' AND webhook_id IN "
            "(SELECT id FROM webhooks WHERE url = ?1 AND deleted_at IS NULL) ORDER BY id");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(stmt, 1, url, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        if (cb(sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1), arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

int store_delivery_defer(struct store *st, int64_t id, int64_t until_ms, int64_t now)
{
    sqlite3_stmt *stmt = store_stmt(st, "UPDATE deliveries SET next_attempt = ?2, updated_at = ?3 "
                                        "WHERE id = ?1 AND status = 'pending'");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, until_ms);
    sqlite3_bind_int64(stmt, 3, now);
    return store_step_done(st, stmt, __func__);
}

int store_deliveries_pending_by_format(struct store *st, int64_t counts[WEBHOOK_FORMAT_COUNT])
{
    sqlite3_stmt *stmt = store_stmt(st, "SELECT w.format, count(*) FROM deliveries d "
                                        "JOIN webhooks w ON w.id = d.webhook_id "
                                        "WHERE d.status = 'pending' GROUP BY w.format");
    int rc;

    if (stmt == NULL)
        return STORE_ERROR;
    memset(counts, 0, sizeof(int64_t) * WEBHOOK_FORMAT_COUNT);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        enum webhook_format f;
        const char *name = (const char *)sqlite3_column_text(stmt, 0);
        if (name != NULL && webhook_format_parse(name, &f) == 0)
            counts[f] += sqlite3_column_int64(stmt, 1);
    }
    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
}

void store_set_secret_key(struct store *st, const unsigned char key[SECRETBOX_KEY_LEN])
{
    memcpy(st->secret_key, key, SECRETBOX_KEY_LEN);
    st->has_secret_key = 1;
}

/*
 * Seals every secret still stored in the clear (databases from before
 * sealing); a deleted endpoint's secret is simply dropped. One transaction.
 */
int store_webhooks_seal_all(struct store *st, int *sealed)
{
    sqlite3_stmt *stmt;
    char (*ids)[ID_STR_MAX] = NULL;
    size_t n = 0, cap = 0;
    int rc;

    *sealed = 0;
    if (!st->has_secret_key)
        return STORE_ERROR;
    if ((rc = store_begin(st)) != STORE_OK)
        return rc;
    stmt = store_stmt(st, "UPDATE webhooks SET secret = '', old_secret = NULL "
                          "WHERE deleted_at IS NOT NULL AND (secret != '' OR old_secret IS NOT NULL)");
    rc = stmt != NULL ? store_step_done(st, stmt, __func__) : STORE_ERROR;
    stmt = rc == STORE_OK ? store_stmt(st, "SELECT id FROM webhooks WHERE deleted_at IS NULL AND "
                                           "((secret != '' AND secret NOT LIKE 'enc1:%') OR "
                                           "(old_secret != '' AND old_secret NOT LIKE 'enc1:%'))")
                          : NULL;
    if (stmt != NULL) {
        int step;
        while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                ids = xrealloc(ids, cap * sizeof(*ids));
            }
            store_column_copy(stmt, 0, ids[n++], ID_STR_MAX);
        }
        store_stmt_done(stmt);
        rc = step == SQLITE_DONE ? STORE_OK : store_fail(st, __func__);
    } else {
        rc = STORE_ERROR;
    }
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        struct webhook_row w;
        memset(&w, 0, sizeof(w));
        /* Read in the clear and written back: store_webhook_update seals. */
        if ((rc = store_webhook_get(st, ids[i], &w)) == STORE_OK &&
            (rc = store_webhook_update(st, &w)) == STORE_OK)
            (*sealed)++;
        store_webhook_row_clear(&w);
    }
    free(ids);
    if (rc != STORE_OK) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st);
}
