/*
 * workcal.c - the working calendar's notices loaded by the office (schema
 * 8): one row per year in workcal_years, its holidays and make-up working
 * days in workcal_days. The files shipped in calendars/holidays/ are not
 * here; core/workcal.c merges the two.
 */
#include "store_internal.h"

#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

static int put_day(struct store *st, int year, int seq, int off, const char *name,
                   const char *first, const char *last)
{
    sqlite3_stmt *stmt = store_stmt(st, "INSERT INTO workcal_days(year, seq, off, name, first, "
                                        "last) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int(stmt, 1, year);
    sqlite3_bind_int(stmt, 2, seq);
    sqlite3_bind_int(stmt, 3, off);
    store_bind_text(stmt, 4, name);
    sqlite3_bind_text(stmt, 5, first, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, last, -1, SQLITE_STATIC);
    return store_step_done(st, stmt, __func__);
}

int store_workcal_put(struct store *st, const struct workcal_notice *n, const char *by)
{
    sqlite3_stmt *stmt = store_stmt(st, "DELETE FROM workcal_days WHERE year = ?1");
    int rc, seq = 0;

    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int(stmt, 1, n->year);
    if ((rc = store_step_done(st, stmt, __func__)) != STORE_OK)
        return rc;
    stmt = store_stmt(st, "INSERT INTO workcal_years(year, updated_at, updated_by) "
                          "VALUES(?1, ?2, ?3) ON CONFLICT(year) DO UPDATE SET "
                          "updated_at = excluded.updated_at, updated_by = excluded.updated_by");
    if (stmt == NULL)
        return STORE_ERROR;
    sqlite3_bind_int(stmt, 1, n->year);
    sqlite3_bind_int64(stmt, 2, n->updated_at);
    store_bind_text(stmt, 3, by);
    if ((rc = store_step_done(st, stmt, __func__)) != STORE_OK)
        return rc;
    for (size_t i = 0; i < n->nholidays && rc == STORE_OK; i++)
        rc = put_day(st, n->year, seq++, 1, n->holidays[i].name, n->holidays[i].from,
                     n->holidays[i].to);
    for (size_t j = 0; j < n->nworkdays && rc == STORE_OK; j++)
        rc = put_day(st, n->year, seq++, 0, NULL, n->workdays[j], n->workdays[j]);
    return rc;
}

/* Appends one stored day to the notice it belongs to. */
static void add_row(sqlite3_stmt *stmt, struct workcal_notice *n, size_t *hcap, size_t *wcap)
{
    if (sqlite3_column_int(stmt, 2)) {
        if (n->nholidays == *hcap) {
            *hcap = *hcap ? *hcap * 2 : 8;
            n->holidays = xrealloc(n->holidays, *hcap * sizeof(*n->holidays));
        }
        struct workcal_holiday *h = &n->holidays[n->nholidays++];
        store_column_copy(stmt, 3, h->name, sizeof(h->name));
        store_column_copy(stmt, 4, h->from, sizeof(h->from));
        store_column_copy(stmt, 5, h->to, sizeof(h->to));
        return;
    }
    if (n->nworkdays == *wcap) {
        *wcap = *wcap ? *wcap * 2 : 8;
        n->workdays = xrealloc(n->workdays, *wcap * sizeof(*n->workdays));
    }
    store_column_copy(stmt, 4, n->workdays[n->nworkdays++], WORKCAL_DATE_IN);
}

int store_workcal_load(struct store *st, struct workcal_notice **out, size_t *count)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT y.year, y.updated_at, d.off, d.name, d.first, d.last FROM workcal_years y "
            "JOIN workcal_days d ON d.year = y.year ORDER BY y.year, d.seq");
    struct workcal_notice *v = NULL;
    size_t n = 0, cap = 0, hcap = 0, wcap = 0;
    int rc;

    *out = NULL;
    *count = 0;
    if (stmt == NULL)
        return STORE_ERROR;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int year = sqlite3_column_int(stmt, 0);
        if (n == 0 || v[n - 1].year != year) {
            if (n == cap) {
                cap = cap ? cap * 2 : 4;
                v = xrealloc(v, cap * sizeof(*v));
            }
            memset(&v[n], 0, sizeof(v[n]));
            v[n].year = year;
            v[n].updated_at = sqlite3_column_int64(stmt, 1);
            n++;
            hcap = wcap = 0;
        }
        add_row(stmt, &v[n - 1], &hcap, &wcap);
    }
    store_stmt_done(stmt);
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < n; i++)
            workcal_notice_free(&v[i]);
        free(v);
        return store_fail(st, __func__);
    }
    *out = v;
    *count = n;
    return STORE_OK;
}
