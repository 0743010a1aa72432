/*
 * derive.c - trip and catering rows for events stored before those rows
 * existed (a database upgraded to schema version 5). The migration can
 * only flag the work: expanding recurrences and serving times needs the
 * same code every write runs, so the service does it once at start, in one
 * transaction, without messages (an upgrade announces nothing new).
 */
#include "plan.h"
#include "catering_sync.h"
#include "dispatch.h"

#include "convene/store.h"
#include "convene/util.h"

#include <string.h>

#define DERIVE_FLAG "derive_trips_meals"

static int derive_one(const char *id, void *arg)
{
    struct app *app = arg;
    struct event_row row;
    struct event_plan plan;
    struct booking_error err;
    json_t *doc = NULL;
    int rc = -1;

    memset(&row, 0, sizeof(row));
    memset(&plan, 0, sizeof(plan));
    if (store_event_get(app->store, id, &row) != STORE_OK ||
        (doc = json_loads(row.doc, 0, NULL)) == NULL)
        goto done;
    if (event_plan_parse(app, doc, &plan, &err) != 0 ||
        event_plan_expand(&plan, clock_wall_s(), &err) != 0) {
        /* One unreadable event must not hold up the others. */
        log_error("derive: event %s skipped: %s", id, err.message);
        rc = 0;
        goto done;
    }
    rc = dispatch_derive(app, &row, doc, &plan) == 0 && catering_derive(app, &row, doc, &plan) == 0
             ? 0
             : -1;
done:
    event_plan_free(&plan);
    json_decref(doc);
    store_event_row_clear(&row);
    return rc;
}

int booking_derive_pending(struct app *app)
{
    struct store *st = app->store;
    int64_t pending = 0;

    if (store_meta_get_int(st, DERIVE_FLAG, &pending) != STORE_OK)
        return -1;
    if (pending == 0)
        return 0;
    if (store_begin(st) != STORE_OK)
        return -1;
    if (store_events_with_trips_or_meals(st, derive_one, app) != STORE_OK ||
        store_meta_set_int(st, DERIVE_FLAG, 0) != STORE_OK || store_commit(st) != STORE_OK) {
        store_rollback(st);
        return -1;
    }
    log_info("derived the trips and meal counts of the stored events");
    return 0;
}
