/*
 * slots.c - finding a time (POST /api/v1/availability): required people
 * free, a room that fits with its buffers, optionally a car and driver
 * around the slot, on the office's working days and hours. The busy time
 * of every candidate is read once, merged, and each slot on the step grid
 * is tried against it; a search that finds nothing says what excluded the
 * most candidates.
 */
#include "plan.h"

#include "convene/booking.h"
#include "convene/recur.h"
#include "convene/slots.h"
#include "convene/store.h"
#include "convene/util.h"
#include "convene/workcal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_MAX_DAYS 62
#define MAX_IDS 50
#define MAX_SLOTS 200
#define MAX_ROOMS 500

static int collect_busy(const struct clash *c, void *arg)
{
    intervals_add(arg, c->start_utc, c->end_utc);
    return 0;
}

int booking_busy_of(struct app *app, const char *type, const char *id, int64_t from, int64_t to,
                    struct interval_set *out)
{
    if (store_occupancy_overlaps(app->store, type, id, from, to, NULL, collect_busy, out) !=
        STORE_OK)
        return -1;
    intervals_merge(out);
    return 0;
}

json_t *booking_render_interval(int64_t s, int64_t e, const char *tz)
{
    struct local_time ls, le;
    char a[TIME_LOCAL_STR], b[TIME_LOCAL_STR], ua[TIME_UTC_STR], ub[TIME_UTC_STR];

    time_utc_to_local(s, tz, &ls);
    time_utc_to_local(e, tz, &le);
    time_local_format(&ls, a);
    time_local_format(&le, b);
    time_utc_format(s, ua);
    time_utc_format(e, ub);
    return json_pack("{s:s, s:s, s:s, s:s}", "start", a, "end", b, "start_utc", ua, "end_utc",
                     ub);
}

struct room_candidate {
    char id[ID_STR_MAX];
    int64_t setup, teardown;
    struct interval_set busy;
    struct room_fit fit; /* rooms only: the rank among those offered; fit.name owned */
};

struct search {
    struct app *app;
    char tz[64];
    /* Whose days and hours slots follow: the office's --tz with working hours, else tz. */
    const char *day_tz;
    int64_t duration, step, from_utc, to_utc;
    int working_hours;
    int unverified; /* the day searched is in a year no working calendar covers */
    struct interval_set *people;  /* merged busy per required person */
    size_t npeople;
    struct interval_set *optional;
    json_t *optional_ids;
    struct room_candidate *rooms;
    size_t nrooms;
    int want_room;
    int64_t min_capacity;
    json_t *features;
    /* a car: some vehicle with enough seats and some driver, free around the slot */
    int want_vehicle;
    int64_t seats, before, after;
    struct room_candidate *vehicles; /* reuses the shape: id + busy time */
    size_t nvehicles;
    struct room_candidate *drivers;
    size_t ndrivers;
    size_t excluded_people, excluded_room, excluded_vehicle, considered;
};

static int has_features(const char *stored, json_t *wanted)
{
    size_t i;
    json_t *f;

    json_array_foreach(wanted, i, f) {
        const char *want = json_string_value(f);
        int found = 0;
        for (const char *p = stored ? stored : ""; *p && !found;) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            found = strlen(want) == len && strncmp(p, want, len) == 0;
            p = nl ? nl + 1 : p + len;
        }
        if (!found)
            return 0;
    }
    return 1;
}

static int add_room(const struct record *rec, void *arg)
{
    struct search *s = arg;
    const struct record_type *t = &record_room;
    struct room_candidate *r;

    if (rec->values[record_field_index(t, "capacity")].i < s->min_capacity ||
        !has_features(rec->values[record_field_index(t, "features")].s, s->features) ||
        s->nrooms == MAX_ROOMS)
        return 0;
    r = &s->rooms[s->nrooms++];
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", rec->id);
    r->setup = rec->values[record_field_index(t, "setup_minutes")].i * 60;
    r->teardown = rec->values[record_field_index(t, "teardown_minutes")].i * 60;
    r->fit.capacity = rec->values[record_field_index(t, "capacity")].i;
    r->fit.buffer_minutes = (r->setup + r->teardown) / 60;
    r->fit.name = xstrdup(rec->values[record_field_index(t, "name")].s);
    /* Wider than the window by the buffers, so holds just outside it count. */
    return booking_busy_of(s->app, "room", r->id, s->from_utc - 86400, s->to_utc + 86400, &r->busy);
}

static int add_vehicle(const struct record *rec, void *arg)
{
    struct search *s = arg;
    struct room_candidate *v;

    if (rec->values[record_field_index(&record_vehicle, "seats")].i < s->seats ||
        s->nvehicles == MAX_ROOMS)
        return 0;
    v = &s->vehicles[s->nvehicles++];
    memset(v, 0, sizeof(*v));
    snprintf(v->id, sizeof(v->id), "%s", rec->id);
    return booking_busy_of(s->app, "vehicle", v->id, s->from_utc - 86400, s->to_utc + 86400,
                   &v->busy);
}

static int add_driver(const struct record *rec, void *arg)
{
    struct search *s = arg;
    struct room_candidate *d;

    if (strcmp(rec->values[record_field_index(&record_person, "role")].s, "driver") != 0 ||
        s->ndrivers == MAX_ROOMS)
        return 0;
    d = &s->drivers[s->ndrivers++];
    memset(d, 0, sizeof(*d));
    snprintf(d->id, sizeof(d->id), "%s", rec->id);
    return booking_busy_of(s->app, "person", d->id, s->from_utc - 86400, s->to_utc + 86400,
                   &d->busy);
}

static int by_fit(const void *a, const void *b)
{
    return slots_room_fit_compare(&((const struct room_candidate *)a)->fit,
                                  &((const struct room_candidate *)b)->fit);
}

/* The first candidate free for [start, end), or NULL. */
static const char *first_free(const struct room_candidate *c, size_t n, int64_t start, int64_t end)
{
    for (size_t i = 0; i < n; i++)
        if (!intervals_overlaps(&c[i].busy, start, end))
            return c[i].id;
    return NULL;
}

/* Tries one candidate slot; appends it to slots when every constraint holds. */
static void try_slot(struct search *s, int64_t start, json_t *slots)
{
    int64_t end = start + s->duration;
    json_t *rooms, *optional;

    s->considered++;
    for (size_t p = 0; p < s->npeople; p++) {
        if (intervals_overlaps(&s->people[p], start, end)) {
            s->excluded_people++;
            return;
        }
    }
    rooms = json_array();
    for (size_t r = 0; r < s->nrooms; r++)
        if (!intervals_overlaps(&s->rooms[r].busy, start - s->rooms[r].setup,
                                end + s->rooms[r].teardown))
            json_array_append_new(rooms, json_string(s->rooms[r].id));
    if (s->want_room && json_array_size(rooms) == 0) {
        s->excluded_room++;
        json_decref(rooms);
        return;
    }
    const char *vehicle = NULL, *driver = NULL;
    if (s->want_vehicle) {
        int64_t depart = start - s->before, back = end + s->after;
        vehicle = first_free(s->vehicles, s->nvehicles, depart, back);
        driver = first_free(s->drivers, s->ndrivers, depart, back);
        if (vehicle == NULL || driver == NULL) {
            s->excluded_vehicle++;
            json_decref(rooms);
            return;
        }
    }
    optional = json_object();
    for (size_t o = 0; o < json_array_size(s->optional_ids); o++)
        json_object_set_new(optional, json_string_value(json_array_get(s->optional_ids, o)),
                            json_string(intervals_overlaps(&s->optional[o], start, end) ? "busy"
                                                                                        : "free"));
    json_t *slot = booking_render_interval(start, end, s->tz);
    json_object_set_new(slot, "tz", json_string(s->tz));
    /* Working day by the weekday rule only: a holiday may yet be announced for it. */
    if (s->unverified)
        json_object_set_new(slot, "calendar", json_string("unverified"));
    /* A body POST /api/v1/events accepts as it is (add title and attendees). */
    json_t *booking = json_pack("{s:O, s:O, s:s}", "start", json_object_get(slot, "start"), "end",
                                json_object_get(slot, "end"), "tz", s->tz);
    if (json_array_size(rooms) > 0)
        json_object_set(booking, "room", json_array_get(rooms, 0));
    if (vehicle != NULL) {
        json_t *d = booking_render_interval(start - s->before, end + s->after, s->tz);
        json_object_set_new(slot, "vehicle", json_string(vehicle));
        json_object_set_new(slot, "driver", json_string(driver));
        json_object_set_new(booking, "trips",
                            json_pack("[{s:s, s:s, s:O, s:O}]", "vehicle", vehicle, "driver",
                                      driver, "depart", json_object_get(d, "start"), "return",
                                      json_object_get(d, "end")));
        json_decref(d);
    }
    json_object_set_new(slot, "rooms", rooms);
    json_object_set_new(slot, "optional", optional);
    json_object_set_new(slot, "booking", booking);
    json_array_append_new(slots, slot);
}

/* Candidate windows of one day: its working periods, or the whole day. */
static void search_day(struct search *s, const struct local_time *day, json_t *slots, size_t cap)
{
    const struct workcal *wc = app_workcal(s->app);
    int periods[WORKCAL_MAX_PERIODS][2];
    size_t n = 0;

    s->unverified = 0;
    if (s->working_hours) {
        if (!workcal_is_working(wc, day, NULL, NULL))
            return;
        s->unverified = !workcal_is_known(wc, day);
        memcpy(periods, wc->periods, sizeof(periods));
        n = wc->nperiods;
    } else {
        periods[0][0] = 0;
        periods[0][1] = 24 * 60;
        n = 1;
    }
    for (size_t p = 0; p < n && json_array_size(slots) < cap; p++) {
        /* Slots start on the step grid of the local day. */
        int64_t first = ((periods[p][0] * 60 + s->step - 1) / s->step) * s->step;
        for (int64_t m = first; m + s->duration <= (int64_t)periods[p][1] * 60 &&
                                json_array_size(slots) < cap;
             m += s->step) {
            struct local_time lt = *day;
            int64_t start;
            recur_local_add(&lt, m);
            if (time_local_to_utc(&lt, s->day_tz, &start) != TIME_OK)
                continue; /* a wall time that does not exist today */
            /* An office day seen from another zone can stick out of the asked dates. */
            if (start < s->from_utc || start + s->duration > s->to_utc)
                continue;
            try_slot(s, start, slots);
        }
    }
}

static const char *const availability_members[] = {
    "people", "optional", "duration_minutes", "from", "to", "tz", "room", "working_hours",
    "limit", "step_minutes", "prefer", "guests", "vehicle", NULL};
static const char *const room_members[] = {"min_capacity", "features", NULL};
static const char *const vehicle_members[] = {"seats", "before_minutes", "after_minutes", NULL};

/* "vehicle": {"seats", "before_minutes", "after_minutes"}: a car and driver around the slot. */
static int parse_vehicle(json_t *vehicle, struct search *s, struct booking_error *err)
{
    static const char *const fields[] = {"seats", "before_minutes", "after_minutes"};
    int64_t *targets[] = {&s->seats, &s->before, &s->after};

    if (vehicle == NULL || json_is_null(vehicle))
        return 0;
    if (!json_is_object(vehicle))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "vehicle", "'vehicle' is an object");
    if (plan_only_members(vehicle, vehicle_members, err) != 0)
        return -1;
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(vehicle, fields[i]);
        char field[40];
        snprintf(field, sizeof(field), "vehicle.%s", fields[i]);
        if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
                          json_integer_value(v) > 24 * 60))
            return booking_error_set(err, v && !json_is_integer(v) ? BOOKING_MALFORMED : BOOKING_INVALID, "invalid", field,
                                 "'%s' must be 0 to 1440", field);
        *targets[i] = v ? json_integer_value(v) : 0;
    }
    s->before *= 60;
    s->after *= 60;
    s->want_vehicle = 1;
    return 0;
}

static int parse_search(json_t *body, struct search *s, struct local_time *from,
                        struct local_time *to, int64_t *limit, const char **prefer,
                        struct booking_error *err)
{
    json_t *v, *room = json_object_get(body, "room");
    const char *str;
    int has;

    if (plan_only_members(body, availability_members, err) != 0)
        return -1;
    v = json_object_get(body, "duration_minutes");
    if (!json_is_integer(v) || json_integer_value(v) < 5 || json_integer_value(v) > 24 * 60)
        return booking_error_set(err, v && !json_is_integer(v) ? BOOKING_MALFORMED : BOOKING_INVALID, "invalid",
                             "duration_minutes", "'duration_minutes' must be 5 to 1440");
    s->duration = json_integer_value(v) * 60;
    if (plan_member_string(body, "from", 1, 10, &str, err) < 0)
        return -1;
    if (time_date_parse(str, from) != 0)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "from", "'from' must be a date like 2026-12-07");
    if (plan_member_string(body, "to", 1, 10, &str, err) < 0)
        return -1;
    if (time_date_parse(str, to) != 0)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "to", "'to' must be a date like 2026-12-07");
    int64_t days = recur_local_diff(from, to) / 86400;
    if (days < 0 || days >= SEARCH_MAX_DAYS)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "to",
                             "'to' must be on or after 'from', within %d days", SEARCH_MAX_DAYS);
    if ((has = plan_member_string(body, "tz", 0, 63, &str, err)) < 0)
        return -1;
    if (has && !time_zone_valid(str))
        return booking_error_set(err, BOOKING_INVALID, "invalid", "tz", "unknown time zone '%s'", str);
    snprintf(s->tz, sizeof(s->tz), "%s", has ? str : s->app->cfg.tz);
    v = json_object_get(body, "working_hours");
    if (v != NULL && !json_is_boolean(v))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "working_hours", "must be true or false");
    s->working_hours = v == NULL || json_is_true(v);
    v = json_object_get(body, "limit");
    *limit = v ? json_integer_value(v) : 10;
    if ((v && !json_is_integer(v)) || *limit < 1 || *limit > MAX_SLOTS)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "limit", "'limit' must be 1 to %d", MAX_SLOTS);
    v = json_object_get(body, "step_minutes");
    s->step = (v ? json_integer_value(v) : 15) * 60;
    if ((v && !json_is_integer(v)) || s->step < 300 || s->step > 240 * 60)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "step_minutes", "'step_minutes' must be 5 to 240");
    if ((has = plan_member_string(body, "prefer", 0, 16, prefer, err)) < 0)
        return -1;
    if (has && strcmp(*prefer, "morning") != 0 && strcmp(*prefer, "afternoon") != 0)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "prefer", "'prefer' is morning or afternoon");
    if (!has)
        *prefer = NULL;
    v = json_object_get(body, "guests");
    int64_t guests = v ? json_integer_value(v) : 0;
    if ((v && !json_is_integer(v)) || guests < 0 || guests > 100000)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "guests", "'guests' must be 0 or more");
    if (room != NULL && !json_is_null(room)) {
        if (!json_is_object(room))
            return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "room", "'room' is an object");
        if (plan_only_members(room, room_members, err) != 0)
            return -1;
        s->want_room = 1;
        v = json_object_get(room, "min_capacity");
        s->min_capacity = v ? json_integer_value(v) : 0;
        if (v && !json_is_integer(v))
            return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "room.min_capacity", "an integer");
        s->features = json_object_get(room, "features");
        if (s->features && !json_is_array(s->features))
            return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "room.features", "an array of strings");
    }
    if (parse_vehicle(json_object_get(body, "vehicle"), s, err) != 0)
        return -1;
    size_t npeople = json_array_size(json_object_get(body, "people"));
    /* Everyone must fit: attendees plus guests. */
    if (s->min_capacity < (int64_t)npeople + guests)
        s->min_capacity = (int64_t)npeople + guests;
    return 0;
}

/* Loads the merged busy time of each listed person into sets. */
static int people_busy(struct search *s, json_t *ids, const char *field,
                       struct interval_set **sets, struct booking_error *err)
{
    size_t i;
    json_t *id;

    if (ids != NULL && !json_is_array(ids))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", field, "'%s' must be an array of ids", field);
    if (json_array_size(ids) > MAX_IDS)
        return booking_error_set(err, BOOKING_INVALID, "too_many", field, "at most %d people", MAX_IDS);
    *sets = xcalloc(json_array_size(ids) + 1, sizeof(**sets));
    json_array_foreach(ids, i, id) {
        const char *pid = json_string_value(id);
        if (pid == NULL || store_record_exists(s->app->store, &record_person, pid) != STORE_OK)
            return booking_error_set(err, BOOKING_INVALID, "unknown_id", field, "no person with id '%s'",
                                 pid ? pid : "?");
        if (booking_busy_of(s->app, "person", pid, s->from_utc - 86400, s->to_utc + 86400,
                    &(*sets)[i]) != 0)
            return booking_error_set(err, BOOKING_STORAGE, "storage", NULL, "the database failed");
    }
    return 0;
}

/* The local hour a slot starts at (its "start" is already in the asked zone). */
static int local_hour(json_t *slot)
{
    struct local_time lt;
    time_local_parse(json_string_value(json_object_get(slot, "start")), &lt);
    return lt.hour;
}

/* Reads the busy time of every candidate room, car and driver the search wants. 0 or -1. */
static int load_candidates(struct search *s, struct booking_error *err)
{
    struct store *st = s->app->store;

    if (s->want_room) {
        s->rooms = xcalloc(MAX_ROOMS, sizeof(*s->rooms));
        if (store_record_list(st, &record_room, add_room, s) != STORE_OK)
            return booking_error_set(err, BOOKING_STORAGE, "storage", NULL, "the database failed");
        /* Each slot lists its free rooms in this order; the first is the one proposed. */
        qsort(s->rooms, s->nrooms, sizeof(*s->rooms), by_fit);
    }
    if (s->want_vehicle) {
        s->vehicles = xcalloc(MAX_ROOMS, sizeof(*s->vehicles));
        s->drivers = xcalloc(MAX_ROOMS, sizeof(*s->drivers));
        if (store_record_list(st, &record_vehicle, add_vehicle, s) != STORE_OK ||
            store_record_list(st, &record_person, add_driver, s) != STORE_OK)
            return booking_error_set(err, BOOKING_STORAGE, "storage", NULL, "the database failed");
    }
    return 0;
}

/*
 * Walks the days: working days and hours are the office's, in --tz (issue
 * 7): a visitor asking in America/New_York must get 08:30-12:00 Beijing
 * time, not New York's. The asked dates, read in tz, bound the search; the
 * office days walked are those that overlap them. With tz = --tz this is
 * from..to. Up to cap slots.
 */
static json_t *walk_days(struct search *s, const struct local_time *from,
                         const struct local_time *to, size_t cap)
{
    struct local_time day_from = *from, day_to = *to;
    json_t *slots = json_array();

    s->day_tz = s->working_hours ? s->app->cfg.tz : s->tz;
    if (strcmp(s->day_tz, s->tz) != 0) {
        time_utc_to_local(s->from_utc, s->day_tz, &day_from);
        time_utc_to_local(s->to_utc - 1, s->day_tz, &day_to);
        day_from.hour = day_from.minute = day_from.second = 0;
        day_to.hour = day_to.minute = day_to.second = 0;
    }
    for (struct local_time d = day_from;
         recur_local_diff(&d, &day_to) >= 0 && json_array_size(slots) < cap;
         recur_local_add(&d, 86400))
        search_day(s, &d, slots, cap);
    return slots;
}

/* The preferred half of the day first, then the rest, cut to limit. Steals slots. */
static json_t *prefer_half(json_t *slots, const char *prefer, int64_t limit)
{
    json_t *first = json_array(), *rest = json_array(), *slot;
    size_t i;

    json_array_foreach(slots, i, slot) {
        int morning = local_hour(slot) < 12;
        json_array_append(morning == (strcmp(prefer, "morning") == 0) ? first : rest, slot);
    }
    json_array_extend(first, rest);
    json_decref(rest);
    json_decref(slots);
    while (json_array_size(first) > (size_t)limit)
        json_array_remove(first, json_array_size(first) - 1);
    return first;
}

/* Why nothing was found: the constraint that excluded the most candidates. */
static json_t *explanation(const struct search *s)
{
    const char *why = "people";
    size_t most = s->excluded_people;

    if (s->excluded_room > most)
        why = "room", most = s->excluded_room;
    if (s->excluded_vehicle > most)
        why = "vehicle", most = s->excluded_vehicle;
    if (s->considered == 0)
        why = "working_hours";
    if (s->considered > 0 && s->want_room && s->nrooms == 0)
        why = "room";
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "most_limiting", why, "candidates",
                     (json_int_t)s->considered, "excluded_by_people",
                     (json_int_t)s->excluded_people, "excluded_by_room",
                     (json_int_t)s->excluded_room, "excluded_by_vehicle",
                     (json_int_t)s->excluded_vehicle, "rooms_matching", (json_int_t)s->nrooms);
}

static void search_free(struct search *s)
{
    for (size_t i = 0; s->people && i < s->npeople; i++)
        intervals_free(&s->people[i]);
    for (size_t i = 0; s->optional && i < json_array_size(s->optional_ids); i++)
        intervals_free(&s->optional[i]);
    for (size_t i = 0; i < s->nrooms; i++) {
        intervals_free(&s->rooms[i].busy);
        free((char *)s->rooms[i].fit.name);
    }
    for (size_t i = 0; i < s->nvehicles; i++)
        intervals_free(&s->vehicles[i].busy);
    for (size_t i = 0; i < s->ndrivers; i++)
        intervals_free(&s->drivers[i].busy);
    free(s->people);
    free(s->optional);
    free(s->rooms);
    free(s->vehicles);
    free(s->drivers);
}

int booking_find_slots(const struct booking_ctx *ctx, json_t *body, json_t **out,
                       struct booking_error *err)
{
    struct search s;
    struct local_time from, to, end;
    /* Set by parse_search; initialised so -O2's -Wmaybe-uninitialized (-Werror) builds. */
    int64_t limit = 10;
    const char *prefer = NULL;
    json_t *slots;
    int rc = -1;

    memset(&s, 0, sizeof(s));
    s.app = ctx->app;
    *out = NULL;
    if (parse_search(body, &s, &from, &to, &limit, &prefer, err) != 0)
        goto done;
    end = to;
    recur_local_add(&end, 86400);
    time_local_to_utc(&from, s.tz, &s.from_utc);
    time_local_to_utc(&end, s.tz, &s.to_utc);
    s.optional_ids = json_object_get(body, "optional");
    s.npeople = json_array_size(json_object_get(body, "people"));
    if (people_busy(&s, json_object_get(body, "people"), "people", &s.people, err) != 0 ||
        people_busy(&s, s.optional_ids, "optional", &s.optional, err) != 0 ||
        load_candidates(&s, err) != 0)
        goto done;
    /* With a preference, look further so the preferred half of the day can come first. */
    slots = walk_days(&s, &from, &to, prefer ? MAX_SLOTS * 5 : (size_t)limit);
    if (prefer != NULL)
        slots = prefer_half(slots, prefer, limit);
    *out = json_pack("{s:o}", "slots", slots);
    if (json_array_size(slots) == 0)
        json_object_set_new(*out, "explanation", explanation(&s));
    rc = 0;
done:
    search_free(&s);
    return rc;
}
