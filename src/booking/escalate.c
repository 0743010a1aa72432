/*
 * escalate.c - trips nobody acknowledged in time (CONTRACT section 6):
 * dispatch.unacknowledged to the secretaries, once per trip occurrence,
 * with an entry in the meeting's audit trail. Called from the loop by
 * notify/escalate.c, which decides when; this file decides what is due
 * and what is said.
 */
#include "dispatch.h"

#include "convene/booking.h"
#include "convene/store.h"

#include <stdlib.h>
#include <string.h>

#define ESCALATE_BATCH 200 /* trips per run: the next run takes the rest */

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static int collect_trip(const struct trip_row *t, void *arg)
{
    json_array_append_new(arg, booking_trip_json(t));
    return 0;
}

static int collect_secretary(const struct record *rec, void *arg)
{
    const char *role = rec->values[record_field_index(&record_person, "role")].s;

    if (role != NULL && strcmp(role, "secretary") == 0)
        json_array_append_new(arg, json_string(rec->id));
    return 0;
}

/* The meeting's audit trail says the office was alerted, and about what. 0 or -1. */
static int audit_escalation(struct app *app, json_t *inst, json_t *data)
{
    json_t *what = json_pack("{s:O, s:O}", "trip", json_object_get(data, "trip"), "minutes_left",
                             json_object_get(data, "minutes_left"));
    char *after = json_dumps(what, JSON_COMPACT);
    int logged = after != NULL && booking_audit_text(app, NULL, str(inst, "event"),
                                                    "trip_unacknowledged", NULL, after) == 0;

    json_decref(what);
    free(after);
    return logged ? 0 : -1;
}

static int escalate_one(struct app *app, json_t *inst, json_t *secretaries, json_t *names,
                        int64_t now)
{
    int confidential = json_is_true(json_object_get(inst, "confidential"));
    json_t *data = json_pack("{s:s, s:b, s:o, s:i, s:I, s:O}", "event", str(inst, "event"),
                             "confidential", confidential, "trip",
                             booking_trip_render(app, inst, names), "deadline_minutes",
                             app->cfg.ack_deadline_minutes, "minutes_left",
                             (json_int_t)((json_integer_value(json_object_get(inst, "depart_utc")) -
                                           now) / 60),
                             "audience", secretaries);

    if (!confidential)
        json_object_set(data, "title", json_object_get(inst, "title"));
    if (audit_escalation(app, inst, data) != 0) {
        json_decref(data);
        return -1;
    }
    if (booking_outbox_append(app->store, "dispatch.unacknowledged", data) != 0)
        return -1;
    return store_trip_mark_escalated(app->store, str(inst, "event"), str(inst, "id"),
                                     str(inst, "recurrence_id"), now) == STORE_OK
               ? 0
               : -1;
}

int booking_trips_escalate(struct app *app, int64_t now)
{
    struct store *st = app->store;
    int64_t deadline = (int64_t)app->cfg.ack_deadline_minutes * 60;
    json_t *due = json_array(), *secretaries = json_array(), *names = json_object(), *inst;
    size_t k;
    int rc = -1;

    if (store_begin(st) != STORE_OK)
        goto done;
    /* Collected first: the messages are written after the scan. */
    if (store_trips_unacked_due(st, now, deadline, ESCALATE_BATCH, collect_trip, due) !=
            STORE_OK ||
        (json_array_size(due) > 0 &&
         store_record_list(st, &record_person, collect_secretary, secretaries) != STORE_OK)) {
        store_rollback(st);
        goto done;
    }
    rc = 0;
    json_array_foreach(due, k, inst) {
        if ((rc = escalate_one(app, inst, secretaries, names, now)) != 0)
            break;
    }
    if (rc != 0 || store_commit(st) != STORE_OK) {
        store_rollback(st);
        rc = -1;
        goto done;
    }
    rc = (int)json_array_size(due);
done:
    json_decref(due);
    json_decref(secretaries);
    json_decref(names);
    return rc;
}
