/*
 * test_booking.c - the booking layer (src/booking/) without HTTP: a real
 * SQLite file, records written through the store, and events booked with
 * booking_event_write / booking_event_create as a handler would, checking
 * the domain errors and what was written. Covers clashes, room buffers,
 * preemption, driver hours and rest, meal counts and series edits.
 */
#include "check.h"

#include "convene/api.h"
#include "convene/booking.h"
#include "convene/body.h"
#include "convene/record.h"
#include "convene/store.h"
#include "convene/token.h"
#include "convene/util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static struct app app;
static char dir[512];
static struct booking_actor actor = {"tok_test", "booking test", "", 1, 0};
static char day1[16], day2[16]; /* a weekday about two months ahead, and the day after */

/* A record of type from JSON text, stored; its id in id. */
static void add_record(const struct record_type *type, const char *json, char id[ID_STR_MAX])
{
    json_t *obj = json_loads(json, 0, NULL);
    struct api_error err;
    struct record rec;

    record_init(&rec, type);
    CHECK_EQ_INT(body_record_apply(obj, type, 1, &rec, &err), 0);
    CHECK_EQ_INT(token_id_generate(type->id_prefix, rec.id), 0);
    rec.version = 1;
    rec.created_at = rec.updated_at = clock_wall_s();
    CHECK_EQ_INT(store_record_insert(app.store, type, &rec), STORE_OK);
    memcpy(id, rec.id, ID_STR_MAX);
    record_clear(&rec, type);
    json_decref(obj);
}

static struct booking_ctx ctx_now(void)
{
    struct booking_ctx ctx = {&app, &actor, clock_wall_s()};
    return ctx;
}

/*
 * Books the event document (JSON text, "%D" replaced by day1 and "%E" by
 * day2) in its own transaction. 0 with the id in id_out, or -1 with err.
 */
static int book(const char *json, int preempt, char id_out[ID_STR_MAX], struct booking_error *err)
{
    char text[4096], *o = text;
    struct booking_ctx ctx = ctx_now();
    struct event_row row;
    json_t *doc;
    int rc;

    for (const char *p = json; *p && o < text + sizeof(text) - 16; p++) {
        if (p[0] == '%' && (p[1] == 'D' || p[1] == 'E')) {
            o += snprintf(o, 16, "%s", p[1] == 'D' ? day1 : day2);
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    doc = json_loads(text, 0, NULL);
    CHECK(doc != NULL);
    memset(err, 0, sizeof(*err));
    booking_event_row_new(&row, NULL);
    CHECK_EQ_INT(store_begin(app.store), STORE_OK);
    rc = booking_event_write(&ctx, doc, &row, 1, preempt, 1, err);
    if (rc == 0) {
        char *t = NULL;
        json_t *after = booking_record_change(&ctx, &row, doc, "event.created", "created", NULL, &t);
        CHECK(after != NULL);
        json_decref(after);
        free(t);
        CHECK_EQ_INT(store_commit(app.store), STORE_OK);
        memcpy(id_out, row.id, ID_STR_MAX);
    } else {
        store_rollback(app.store);
    }
    store_event_row_clear(&row);
    json_decref(doc);
    return rc;
}

/* The stored document of an event (owned). */
static json_t *stored_doc(const char *id)
{
    struct event_row row;
    json_t *doc = NULL;

    memset(&row, 0, sizeof(row));
    if (store_event_get(app.store, id, &row) == STORE_OK)
        doc = json_loads(row.doc, 0, NULL);
    store_event_row_clear(&row);
    return doc;
}

static char boss[ID_STR_MAX], clerk[ID_STR_MAX], guest[ID_STR_MAX], halal[ID_STR_MAX];
static char driver[ID_STR_MAX], room[ID_STR_MAX], buffered[ID_STR_MAX], car[ID_STR_MAX];

static void test_bad_input(void)
{
    struct booking_error err;
    char id[ID_STR_MAX];

    /* A rule broken: 422, naming the field. */
    CHECK_EQ_INT(book("{\"title\":\"x\",\"start\":\"%DT10:00:00\",\"end\":\"%DT09:00:00\"}", 0,
                      id, &err),
                 -1);
    CHECK_EQ_INT(err.kind, BOOKING_INVALID);
    CHECK_EQ_STR(err.code, "end_before_start");
    CHECK_EQ_STR(err.field, "end");
    CHECK_EQ_INT(api_booking_status(err.kind), 422);
    /* A wrong type: 400, through the shared shape checks. */
    CHECK_EQ_INT(book("{\"title\":5,\"start\":\"%DT10:00:00\",\"end\":\"%DT11:00:00\"}", 0, id,
                      &err),
                 -1);
    CHECK_EQ_INT(err.kind, BOOKING_MALFORMED);
    CHECK_EQ_STR(err.field, "title");
    CHECK_EQ_INT(api_booking_status(err.kind), 400);
    /* An unknown id is refused before anything is written. */
    CHECK_EQ_INT(book("{\"title\":\"x\",\"start\":\"%DT10:00:00\",\"end\":\"%DT11:00:00\","
                      "\"room\":\"roo_nothing\"}",
                      0, id, &err),
                 -1);
    CHECK_EQ_STR(err.code, "unknown_id");
    CHECK_EQ_STR(err.field, "room");
}

static void test_status_table(void)
{
    static const struct {
        enum booking_kind kind;
        int status;
    } cases[] = {
        {BOOKING_MALFORMED, 400}, {BOOKING_INVALID, 422}, {BOOKING_FORBIDDEN, 403},
        {BOOKING_NOT_FOUND, 404}, {BOOKING_CONFLICT, 409}, {BOOKING_STALE, 412},
        {BOOKING_STORAGE, 500},   {BOOKING_OK, 500},      {(enum booking_kind)99, 500},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_EQ_INT(api_booking_status(cases[i].kind), cases[i].status);
}

static void test_conflicts(void)
{
    struct booking_error err;
    char a[ID_STR_MAX], b[ID_STR_MAX];
    char json[512];

    snprintf(json, sizeof(json),
             "{\"title\":\"A\",\"start\":\"%%DT09:00:00\",\"end\":\"%%DT10:00:00\","
             "\"room\":\"%s\",\"attendees\":[{\"person\":\"%s\"}]}",
             room, clerk);
    CHECK_EQ_INT(book(json, 0, a, &err), 0);
    /* The same room half an hour later: a 409 whose details name the room. */
    snprintf(json, sizeof(json),
             "{\"title\":\"B\",\"start\":\"%%DT09:30:00\",\"end\":\"%%DT10:30:00\","
             "\"room\":\"%s\"}",
             room);
    CHECK_EQ_INT(book(json, 0, b, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_CONFLICT);
    CHECK_EQ_STR(err.code, "conflict");
    CHECK(json_array_size(err.details) == 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(err.details, 0), "event")), a);
    booking_error_clear(&err);
    CHECK(err.details == NULL);
    /* Back to back is no clash (a room without buffers). */
    snprintf(json, sizeof(json),
             "{\"title\":\"C\",\"start\":\"%%DT10:00:00\",\"end\":\"%%DT11:00:00\","
             "\"room\":\"%s\",\"attendees\":[{\"person\":\"%s\"}]}",
             room, clerk);
    CHECK_EQ_INT(book(json, 0, b, &err), 0);
    /* A person booked twice clashes too, whatever the room. */
    snprintf(json, sizeof(json),
             "{\"title\":\"D\",\"start\":\"%%DT10:30:00\",\"end\":\"%%DT10:45:00\","
             "\"attendees\":[{\"person\":\"%s\"}]}",
             clerk);
    CHECK_EQ_INT(book(json, 0, b, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_CONFLICT);
    booking_error_clear(&err);
}

static void test_buffers(void)
{
    struct booking_error err;
    char a[ID_STR_MAX], b[ID_STR_MAX], json[512];

    snprintf(json, sizeof(json),
             "{\"title\":\"A\",\"start\":\"%%DT13:00:00\",\"end\":\"%%DT14:00:00\","
             "\"room\":\"%s\"}",
             buffered);
    CHECK_EQ_INT(book(json, 0, a, &err), 0);
    /* The room needs 30 minutes of setup: 14:15 puts it inside the last meeting. */
    snprintf(json, sizeof(json),
             "{\"title\":\"B\",\"start\":\"%%DT14:15:00\",\"end\":\"%%DT15:00:00\","
             "\"room\":\"%s\"}",
             buffered);
    CHECK_EQ_INT(book(json, 0, b, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_CONFLICT);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(err.details, 0), "reason")),
                 "buffer");
    booking_error_clear(&err);
    snprintf(json, sizeof(json),
             "{\"title\":\"B\",\"start\":\"%%DT14:30:00\",\"end\":\"%%DT15:00:00\","
             "\"room\":\"%s\"}",
             buffered);
    CHECK_EQ_INT(book(json, 0, b, &err), 0);
}

static void test_preemption(void)
{
    struct booking_error err;
    char low[ID_STR_MAX], high[ID_STR_MAX], json[512];
    json_t *doc;

    snprintf(json, sizeof(json),
             "{\"title\":\"low\",\"start\":\"%%ET09:00:00\",\"end\":\"%%ET10:00:00\","
             "\"room\":\"%s\",\"attendees\":[{\"person\":\"%s\"}]}",
             room, guest);
    CHECK_EQ_INT(book(json, 0, low, &err), 0);
    snprintf(json, sizeof(json),
             "{\"title\":\"high\",\"start\":\"%%ET09:00:00\",\"end\":\"%%ET10:00:00\","
             "\"room\":\"%s\",\"attendees\":[{\"person\":\"%s\"}]}",
             room, boss);
    /* Not asked: a clash. */
    CHECK_EQ_INT(book(json, 0, high, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_CONFLICT);
    booking_error_clear(&err);
    /* Asked by the higher rank: the room changes hands, the other meeting needs one. */
    CHECK_EQ_INT(book(json, 1, high, &err), 0);
    doc = stored_doc(low);
    CHECK(doc != NULL && json_is_null(json_object_get(doc, "room")));
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(doc, "needs"), 0)), "room");
    json_decref(doc);
    /* The lower rank may not take it back. */
    snprintf(json, sizeof(json),
             "{\"title\":\"again\",\"start\":\"%%ET09:30:00\",\"end\":\"%%ET10:30:00\","
             "\"room\":\"%s\",\"attendees\":[{\"person\":\"%s\"}]}",
             room, guest);
    CHECK_EQ_INT(book(json, 1, low, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_CONFLICT);
    CHECK_EQ_STR(err.message, "clashes that this meeting may not preempt");
    booking_error_clear(&err);
}

/* A meeting with one trip of the driver from depart to return (local times). */
static int book_trip(const char *depart, const char *ret, char id[ID_STR_MAX],
                     struct booking_error *err)
{
    char json[1024];

    snprintf(json, sizeof(json),
             "{\"title\":\"trip\",\"start\":\"%s\",\"end\":\"%s\",\"trips\":[{\"vehicle\":null,"
             "\"driver\":\"%s\",\"depart\":\"%s\",\"return\":\"%s\",\"approved_by\":\"%s\"}]}",
             depart, ret, driver, depart, ret, clerk);
    return book(json, 0, id, err);
}

static void test_driver_rules(void)
{
    struct booking_error err;
    char id[ID_STR_MAX];

    /* 11 hours in one day break --driver-max-hours (10). */
    CHECK_EQ_INT(book_trip("%DT07:00:00", "%DT18:00:00", id, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_CONFLICT);
    CHECK_EQ_STR(err.code, "driver_hours");
    CHECK(json_array_size(err.details) >= 1);
    booking_error_clear(&err);
    /* Late one day, early the next: 6 hours of rest break --driver-min-rest (8). */
    CHECK_EQ_INT(book_trip("%DT20:00:00", "%DT23:00:00", id, &err), 0);
    CHECK_EQ_INT(book_trip("%ET05:00:00", "%ET06:00:00", id, &err), -1);
    CHECK_EQ_STR(err.code, "driver_rest");
    CHECK_EQ_INT(api_booking_status(err.kind), 409);
    booking_error_clear(&err);
    CHECK_EQ_INT(book_trip("%ET07:00:00", "%ET08:00:00", id, &err), 0);
}

static int meal_count(const struct catering_row *c, void *arg)
{
    *(int64_t *)arg += c->count;
    return 0;
}

static void test_meal_counts(void)
{
    struct booking_error err;
    char id[ID_STR_MAX], json[512];
    int64_t count = 0;

    /* Two who attend, one who declined, two guests: four lunches. */
    snprintf(json, sizeof(json),
             "{\"title\":\"lunch\",\"start\":\"%%ET11:00:00\",\"end\":\"%%ET13:00:00\","
             "\"guests\":2,\"meals\":[{\"meal\":\"lunch\"}],\"attendees\":["
             "{\"person\":\"%s\"},{\"person\":\"%s\"},"
             "{\"person\":\"%s\",\"response\":\"declined\"}]}",
             halal, clerk, guest);
    CHECK_EQ_INT(book(json, 0, id, &err), 0);
    CHECK_EQ_INT(store_catering_of_event(app.store, id, meal_count, &count), STORE_OK);
    CHECK_EQ_INT(count, 4);
}

static void test_series_edit(void)
{
    struct booking_error err;
    struct booking_ctx ctx = ctx_now();
    char series[ID_STR_MAX], one[ID_STR_MAX], json[512], ex[32];
    struct event_row row;
    json_t *doc;

    snprintf(json, sizeof(json),
             "{\"title\":\"weekly\",\"start\":\"%%DT16:00:00\",\"end\":\"%%DT17:00:00\","
             "\"rrule\":\"FREQ=DAILY;COUNT=3\",\"room\":\"%s\"}",
             buffered);
    CHECK_EQ_INT(book(json, 0, series, &err), 0);
    /* The second day is taken by the series... */
    snprintf(json, sizeof(json),
             "{\"title\":\"one\",\"start\":\"%%ET16:00:00\",\"end\":\"%%ET16:30:00\","
             "\"room\":\"%s\"}",
             buffered);
    CHECK_EQ_INT(book(json, 0, one, &err), -1);
    booking_error_clear(&err);
    /* ...until the series leaves that day out (an EXDATE written through the layer). */
    memset(&row, 0, sizeof(row));
    CHECK_EQ_INT(store_event_get(app.store, series, &row), STORE_OK);
    doc = json_loads(row.doc, 0, NULL);
    snprintf(ex, sizeof(ex), "%sT16:00:00", day2);
    json_object_set_new(doc, "exdates", json_pack("[s]", ex));
    row.version++;
    CHECK_EQ_INT(store_begin(app.store), STORE_OK);
    CHECK_EQ_INT(booking_event_write(&ctx, doc, &row, 0, 0, 1, &err), 0);
    CHECK_EQ_INT(store_commit(app.store), STORE_OK);
    store_event_row_clear(&row);
    json_decref(doc);
    CHECK_EQ_INT(book(json, 0, one, &err), 0);
}

/* A change through the layer's frame, in a transaction of its own; the text is dropped. */
static int change_event(const struct booking_actor *who, const char *id,
                        const struct booking_change *ch, struct event_row *row,
                        struct booking_error *err)
{
    struct booking_ctx ctx = {&app, who, clock_wall_s()};
    char *text = NULL;
    int rc;

    memset(err, 0, sizeof(*err));
    rc = booking_event_change(&ctx, id, ch, row, &text, err);
    CHECK(rc == 0 ? text != NULL : text == NULL);
    free(text);
    return rc;
}

static void test_changes(void)
{
    struct booking_actor staff = {"tok_staff", "staff", "", 0, 0};
    struct booking_error err;
    struct event_row row;
    char id[ID_STR_MAX], json[512];
    json_t *body, *doc;

    snprintf(json, sizeof(json),
             "{\"title\":\"v1\",\"start\":\"%%DT14:00:00\",\"end\":\"%%DT15:00:00\","
             "\"attendees\":[{\"person\":\"%s\"}]}",
             guest);
    CHECK_EQ_INT(book(json, 0, id, &err), 0);
    body = json_pack("{s:s}", "title", "v2");
    struct booking_change patch = {BOOKING_PATCH, body, NULL, 7};
    /* A version the caller did not read: 412, nothing written. */
    CHECK_EQ_INT(change_event(&actor, id, &patch, &row, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_STALE);
    CHECK_EQ_STR(err.code, "precondition_failed");
    store_event_row_clear(&row);
    CHECK_EQ_INT(change_event(&actor, "evt_nothing", &patch, &row, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_NOT_FOUND);
    store_event_row_clear(&row);
    patch.if_match = 1;
    CHECK_EQ_INT(change_event(&actor, id, &patch, &row, &err), 0);
    CHECK_EQ_INT(row.version, 2);
    CHECK_EQ_INT(row.sequence, 1);
    store_event_row_clear(&row);
    doc = stored_doc(id);
    CHECK_EQ_STR(json_string_value(json_object_get(doc, "title")), "v2");
    json_decref(doc);
    json_decref(body);
    /* Trip ids are the server's: a PATCH may not mint one. */
    body = json_pack("{s:[{s:s, s:s, s:s, s:s}]}", "trips", "id", "trp_made_up", "driver", driver,
                     "depart", "x", "return", "y");
    patch.body = body;
    patch.if_match = BOOKING_ANY_VERSION;
    CHECK_EQ_INT(change_event(&actor, id, &patch, &row, &err), -1);
    CHECK_EQ_STR(err.code, "unknown_id");
    CHECK_EQ_STR(err.field, "trips[0].id");
    store_event_row_clear(&row);
    json_decref(body);
    /* An answer for someone else needs an office token; it keeps the SEQUENCE. */
    body = json_pack("{s:s, s:s}", "person", guest, "response", "declined");
    struct booking_change rsvp = {BOOKING_RSVP, body, NULL, 99};
    CHECK_EQ_INT(change_event(&staff, id, &rsvp, &row, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_FORBIDDEN);
    store_event_row_clear(&row);
    CHECK_EQ_INT(change_event(&actor, id, &rsvp, &row, &err), 0); /* If-Match is not asked */
    CHECK_EQ_INT(row.sequence, 1);
    store_event_row_clear(&row);
    json_decref(body);
    /* Cancelling twice writes once. */
    struct booking_change cancel = {BOOKING_CANCEL, NULL, NULL, BOOKING_ANY_VERSION};
    CHECK_EQ_INT(change_event(&actor, id, &cancel, &row, &err), 0);
    CHECK_EQ_INT(row.status, EVENT_CANCELLED);
    CHECK_EQ_INT(row.version, 4);
    store_event_row_clear(&row);
    CHECK_EQ_INT(change_event(&actor, id, &cancel, &row, &err), 1);
    store_event_row_clear(&row);
    CHECK_EQ_INT(change_event(&actor, id, &cancel, &row, &err), 1);
    CHECK_EQ_INT(row.version, 4);
    store_event_row_clear(&row);
}

/* The newest outbox message's seq. */
static int64_t outbox_last(void)
{
    int64_t seq = -1;
    CHECK_EQ_INT(store_outbox_last(app.store, &seq), STORE_OK);
    return seq;
}

/*
 * A preview inside a caller's transaction (group commit batches requests
 * so, each in a savepoint) rolls back its own work only: the batch's
 * earlier booking is committed, the previewed move is not.
 */
static void test_preview_in_batch(void)
{
    struct booking_ctx ctx = ctx_now();
    struct booking_error err = {0};
    struct event_row row;
    char json[512], start[32];
    json_t *doc, *out = NULL, *body;
    int64_t seq;

    snprintf(json, sizeof(json),
             "{\"title\":\"批内\",\"start\":\"%sT08:00:00\",\"end\":\"%sT08:30:00\","
             "\"room\":\"%s\",\"attendees\":[{\"person\":\"%s\"}]}",
             day2, day2, room, guest);
    doc = json_loads(json, 0, NULL);
    CHECK(doc != NULL);
    CHECK_EQ_INT(store_begin(app.store), STORE_OK); /* the batch */
    booking_event_row_new(&row, NULL);
    CHECK_EQ_INT(booking_event_write(&ctx, doc, &row, 1, 0, 1, &err), 0);
    seq = outbox_last();
    snprintf(start, sizeof(start), "%sT11:00:00", day2);
    body = json_pack("{s:s, s:s}", "start", start, "end", start); /* refused: no length */
    struct booking_change move = {BOOKING_PATCH, body, NULL, BOOKING_ANY_VERSION};
    CHECK_EQ_INT(booking_preview_change(&ctx, row.id, &move, &out, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_INVALID);
    booking_error_clear(&err);
    snprintf(start, sizeof(start), "%sT11:30:00", day2);
    json_object_set_new(body, "end", json_string(start));
    CHECK_EQ_INT(booking_preview_change(&ctx, row.id, &move, &out, &err), 0);
    CHECK(json_is_true(json_object_get(out, "ok")));
    CHECK(json_object_get(json_object_get(json_object_get(out, "effects"), "changes"), "start") !=
          NULL);
    CHECK_EQ_INT(store_in_transaction(app.store), 1); /* the batch is still open */
    CHECK_EQ_INT(outbox_last(), seq);                 /* the preview's message is gone */
    CHECK_EQ_INT(store_commit(app.store), STORE_OK);
    CHECK_EQ_INT(store_in_transaction(app.store), 0);
    json_decref(doc);
    doc = stored_doc(row.id); /* the batch's booking stands, unmoved */
    CHECK(doc != NULL);
    CHECK(strstr(json_string_value(json_object_get(doc, "start")), "T08:00:00") != NULL);
    json_decref(doc);
    json_decref(body);
    json_decref(out);
    store_event_row_clear(&row);
}

static void test_person_leave(void)
{
    struct booking_ctx ctx = ctx_now();
    struct booking_error err = {0};
    char id[ID_STR_MAX], json[512];
    int64_t count = 0;
    json_t *doc;

    /* Whoever drives or approved a trip ahead stays until the trip has someone else. */
    CHECK_EQ_INT(booking_person_leave(&ctx, driver, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_CONFLICT);
    CHECK_EQ_STR(err.code, "in_use");
    CHECK(strstr(err.message, "another driver first") != NULL);
    /* An attendee leaves the meetings ahead, and their lunch goes with them. */
    snprintf(json, sizeof(json),
             "{\"title\":\"lunch 2\",\"start\":\"%%ET11:00:00\",\"end\":\"%%ET12:00:00\","
             "\"meals\":[{\"meal\":\"lunch\"}],\"attendees\":[{\"person\":\"%s\"},"
             "{\"person\":\"%s\"}]}",
             guest, boss);
    CHECK_EQ_INT(book(json, 0, id, &err), 0);
    CHECK_EQ_INT(store_begin(app.store), STORE_OK);
    CHECK_EQ_INT(booking_person_leave(&ctx, guest, &err), 0);
    CHECK_EQ_INT(store_commit(app.store), STORE_OK);
    doc = stored_doc(id);
    CHECK_EQ_INT(json_array_size(json_object_get(doc, "attendees")), 1);
    json_decref(doc);
    CHECK_EQ_INT(store_catering_of_event(app.store, id, meal_count, &count), STORE_OK);
    CHECK_EQ_INT(count, 1);
}

static int first_depart(const struct trip_row *t, void *arg)
{
    int64_t *d = arg;

    if (*d == 0 || t->depart_utc < *d)
        *d = t->depart_utc;
    return 0;
}

static void test_escalation(void)
{
    int64_t depart = 0;

    CHECK_EQ_INT(store_trips_held_by(app.store, driver, 0, first_depart, &depart), STORE_OK);
    CHECK(depart > 0);
    /* Before the deadline nothing is due; past it once, then never again. */
    CHECK_EQ_INT(booking_trips_escalate(&app, depart - 2 * 3600), 0);
    CHECK_EQ_INT(booking_trips_escalate(&app, depart - 30 * 60), 1);
    CHECK_EQ_INT(booking_trips_escalate(&app, depart - 20 * 60), 0);
}

/* Whether the search offers a slot starting at day1's local time hhmm ("03:00"). */
static int offers(json_t *found, const char *hhmm)
{
    char want[32];
    size_t i;
    json_t *slot;

    snprintf(want, sizeof(want), "%sT%s:00", day1, hhmm);
    json_array_foreach(json_object_get(found, "slots"), i, slot) {
        if (strcmp(json_string_value(json_object_get(slot, "start")), want) == 0)
            return 1;
    }
    return 0;
}

static void test_find_slots(void)
{
    struct booking_ctx ctx = ctx_now();
    struct booking_error err = {0};
    char id[ID_STR_MAX], json[512];
    json_t *body, *found = NULL;

    snprintf(json, sizeof(json),
             "{\"title\":\"early\",\"start\":\"%%DT03:00:00\",\"end\":\"%%DT04:00:00\","
             "\"attendees\":[{\"person\":\"%s\"}]}",
             boss);
    CHECK_EQ_INT(book(json, 0, id, &err), 0);
    body = json_pack("{s:[s], s:i, s:s, s:s, s:b, s:i, s:i}", "people", boss, "duration_minutes",
                     60, "from", day1, "to", day1, "working_hours", 0, "step_minutes", 60,
                     "limit", 30);
    CHECK_EQ_INT(booking_find_slots(&ctx, body, &found, &err), 0);
    /* Half-open: the hour before and the hour after are free, the hour itself is not. */
    CHECK(offers(found, "02:00"));
    CHECK(!offers(found, "03:00"));
    CHECK(offers(found, "04:00"));
    json_decref(found);
    /* Bad input: a rule broken (422 kind), a wrong type (400 kind), each naming the field. */
    json_object_set_new(body, "duration_minutes", json_integer(3));
    CHECK_EQ_INT(booking_find_slots(&ctx, body, &found, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_INVALID);
    CHECK_EQ_STR(err.field, "duration_minutes");
    CHECK(found == NULL);
    json_object_set_new(body, "duration_minutes", json_integer(60));
    json_object_set_new(body, "working_hours", json_string("yes"));
    CHECK_EQ_INT(booking_find_slots(&ctx, body, &found, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_MALFORMED);
    CHECK_EQ_STR(err.field, "working_hours");
    json_decref(body);
}

/* day1: a Wednesday about two months ahead (Shanghai's date, UTC+8); day2 the Thursday. */
static void pick_days(void)
{
    time_t t = (time_t)clock_wall_s() + 60 * 86400 + 8 * 3600;
    struct tm tm;

    gmtime_r(&t, &tm);
    t += (time_t)((3 - tm.tm_wday + 7) % 7) * 86400;
    gmtime_r(&t, &tm);
    strftime(day1, sizeof(day1), "%Y-%m-%d", &tm);
    t += 86400;
    gmtime_r(&t, &tm);
    strftime(day2, sizeof(day2), "%Y-%m-%d", &tm);
}

/* A department names a leader on record; its name is unique among live ones. */
static void test_departments(void)
{
    struct booking_error err = {0};
    struct department_row d, twin;
    json_t *body;

    memset(&d, 0, sizeof(d));
    body = json_pack("{s:s, s:s}", "name", "dept-test", "in_charge", "per_nobody");
    CHECK_EQ_INT(booking_department_apply(&app, body, &d, 1, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_INVALID);
    CHECK_EQ_STR(err.code, "unknown_id");
    CHECK_EQ_STR(err.field, "in_charge");
    json_decref(body);
    body = json_pack("{s:s, s:i}", "name", "dept-test", "budget", 1);
    CHECK_EQ_INT(booking_department_apply(&app, body, &d, 1, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_MALFORMED);
    json_decref(body);
    body = json_pack("{s:s, s:s}", "name", "dept-test", "in_charge", boss);
    CHECK_EQ_INT(booking_department_apply(&app, body, &d, 1, &err), 0);
    CHECK_EQ_STR(d.in_charge, boss);
    json_decref(body);
    snprintf(d.id, sizeof(d.id), "dep_unit1");
    d.version = 1;
    CHECK_EQ_INT(booking_department_save(&app, &d, 1, &err), 0);
    twin = d;
    snprintf(twin.id, sizeof(twin.id), "dep_unit2");
    CHECK_EQ_INT(booking_department_save(&app, &twin, 1, &err), -1);
    CHECK_EQ_INT(err.kind, BOOKING_CONFLICT);
    CHECK_EQ_STR(err.code, "name_taken");
}

int main(void)
{
    struct config cfg;
    const char *src = __FILE__;
    const char *tail = strstr(src, "tests/unit/");

    check_tmpdir(dir, sizeof(dir));
    config_defaults(&cfg);
    snprintf(cfg.db_path, sizeof(cfg.db_path), "%s/booking.db", dir);
    if (tail != NULL)
        snprintf(cfg.calendars_dir, sizeof(cfg.calendars_dir), "%.*scalendars",
                 (int)(tail - src), src);
    cfg.durability = DURABILITY_NORMAL;
    if (app_open(&app, &cfg) != 0) {
        fprintf(stderr, "app_open failed\n");
        check_rmdir(dir);
        return 2;
    }
    pick_days();
    add_record(&record_person, "{\"name\":\"主任\",\"role\":\"leader\",\"rank\":1}", boss);
    add_record(&record_person, "{\"name\":\"秘书\",\"role\":\"secretary\"}", clerk);
    add_record(&record_person, "{\"name\":\"科员\",\"role\":\"staff\",\"rank\":500}", guest);
    add_record(&record_person, "{\"name\":\"回民\",\"role\":\"staff\",\"diet\":\"halal\"}", halal);
    add_record(&record_person, "{\"name\":\"司机\",\"role\":\"driver\"}", driver);
    add_record(&record_room, "{\"name\":\"一号会议室\",\"capacity\":20}", room);
    add_record(&record_room, "{\"name\":\"礼堂\",\"capacity\":200,\"setup_minutes\":30}",
               buffered);
    add_record(&record_vehicle, "{\"name\":\"考斯特\",\"seats\":20}", car);

    test_status_table();
    test_bad_input();
    test_conflicts();
    test_buffers();
    test_preemption();
    test_driver_rules();
    test_meal_counts();
    test_series_edit();
    test_changes();
    test_preview_in_batch();
    test_departments();
    test_person_leave();
    test_escalation();
    test_find_slots();

    app_close(&app);
    check_rmdir(dir);
    return check_finish();
}
