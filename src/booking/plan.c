/*
 * plan.c - from an event document to what it books. Parsing checks
 * every member's type and value and names the field in errors; resolving
 * checks ids against the store; expanding turns the recurrence into
 * occurrences; claims are what the occupancy index holds for them.
 */
#include "plan.h"

#include "convene/approval.h"
#include "convene/conflict.h"
#include "convene/doc_check.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A document check's verdict as a domain error: the wrong shape is malformed, a bad value invalid. */
static int from_check(const struct doc_error *v, struct booking_error *err)
{
    booking_error_set(err, v->kind == DOC_MALFORMED ? BOOKING_MALFORMED : BOOKING_INVALID, v->code,
                      v->field[0] ? v->field : NULL, "%s", v->message);
    return -1;
}

int plan_member_string(json_t *obj, const char *name, int required, size_t max_chars,
                       const char **out, struct booking_error *err)
{
    struct doc_error v;
    int rc = doc_member_string(obj, name, required, max_chars, out, &v);

    if (rc < 0)
        from_check(&v, err);
    return rc;
}

int plan_only_members(json_t *obj, const char *const *allowed, struct booking_error *err)
{
    struct doc_error v;

    return doc_only_members(obj, allowed, &v) == 0 ? 0 : from_check(&v, err);
}

const char *const booking_event_members[] = {
    "title",     "description", "location", "start",  "end",       "date",      "end_date",
    "tz",        "rrule",       "exdates",  "rdates", "attendees", "room",      "guests",
    "meals",     "trips",       "reminders", "confidential", "preempt", "kind",
    "department", "budget",     NULL};

/* The document also carries what the server manages. */
static const char *const doc_members[] = {
    "title",     "description", "location",     "start",     "end",      "date",
    "end_date",  "tz",          "rrule",        "exdates",   "rdates",   "attendees",
    "room",      "guests",      "meals",        "trips",     "reminders", "confidential",
    "needs",     "overrides",   "kind",         "department", "budget",  "approvals",
    NULL};

static const char *const attendee_members[] = {"person", "optional", "response", NULL};
static const char *const meal_members[] = {"id", "meal", "count", "diets", NULL};
static const char *const trip_members[] = {"id",   "vehicle",    "driver",     "depart",
                                           "return", "from",     "to",         "passengers",
                                           "approved_by", "acknowledged", NULL};
static const char *const responses[] = {"needs-action", "accepted", "declined", "tentative",
                                        NULL};

/* Prefixes err->field with "name[i]." so the client sees the full path. */
static int in_item(struct booking_error *err, const char *name, size_t i)
{
    char inner[sizeof(err->field)];
    snprintf(inner, sizeof(inner), "%s[%zu]%s%.90s", name, i, err->field[0] ? "." : "",
             err->field);
    memcpy(err->field, inner, sizeof(inner));
    return -1;
}

static int is_one_of(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

/* An optional boolean member; 0 when absent or null. */
static int member_bool(json_t *obj, const char *name, int *out, struct booking_error *err)
{
    json_t *v = json_object_get(obj, name);

    *out = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", name, "'%s' must be true or false", name);
    *out = json_is_true(v);
    return 0;
}

/* An optional integer member in [min, max]; def when absent. */
static int member_int(json_t *obj, const char *name, int64_t min, int64_t max, int64_t def,
                      int64_t *out, struct booking_error *err)
{
    json_t *v = json_object_get(obj, name);

    *out = def;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", name, "'%s' must be an integer", name);
    if (json_integer_value(v) < min || json_integer_value(v) > max)
        return booking_error_set(err, BOOKING_INVALID, "out_of_range", name, "'%s' must be between %lld and %lld",
                             name, (long long)min, (long long)max);
    *out = json_integer_value(v);
    return 0;
}

/* An optional array member of at most max items; *out NULL when absent. */
static int member_array(json_t *obj, const char *name, size_t max, json_t **out,
                        struct booking_error *err)
{
    json_t *v = json_object_get(obj, name);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", name, "'%s' must be an array", name);
    if (json_array_size(v) > max)
        return booking_error_set(err, BOOKING_INVALID, "too_many", name, "'%s' holds at most %zu items", name,
                             max);
    *out = v;
    return 0;
}

static int member_local_time(json_t *obj, const char *name, int required, struct local_time *out,
                             const char **text, struct booking_error *err)
{
    const char *s;
    int rc = plan_member_string(obj, name, required, 32, &s, err);

    if (rc <= 0)
        return rc;
    if (time_local_parse(s, out) != 0)
        return booking_error_set(err, BOOKING_INVALID, "invalid", name,
                             "'%s' must be a local time like 2026-12-07T09:00:00", name);
    if (text != NULL)
        *text = s;
    return 1;
}

/* Assigns an id to an array item that has none (trips and meals are addressed by id). */
static void ensure_id(json_t *item, const char *prefix)
{
    char id[ID_STR_MAX];

    if (json_is_string(json_object_get(item, "id")))
        return;
    token_id_generate(prefix, id);
    json_object_set_new(item, "id", json_string(id));
}

static int parse_times(struct app *app, json_t *doc, struct event_plan *p, struct booking_error *err)
{
    const char *tz = app->cfg.tz, *date, *end_date;
    int has_tz, has_date, has_start;

    if ((has_tz = plan_member_string(doc, "tz", 0, 63, &tz, err)) < 0)
        return -1;
    if (has_tz && !time_zone_valid(tz))
        return booking_error_set(err, BOOKING_INVALID, "invalid", "tz", "unknown time zone '%s'", tz);
    snprintf(p->tz, sizeof(p->tz), "%s", has_tz ? tz : app->cfg.tz);
    json_object_set_new(doc, "tz", json_string(p->tz));

    if ((has_date = plan_member_string(doc, "date", 0, 16, &date, err)) < 0 ||
        (has_start = member_local_time(doc, "start", 0, &p->start, NULL, err)) < 0)
        return -1;
    if (has_date && has_start)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "date",
                             "give either 'date' (all-day) or 'start'/'end', not both");
    if (!has_date && !has_start)
        return booking_error_set(err, BOOKING_INVALID, "required", "start", "'start' (or 'date') is required");
    if (has_date) {
        p->all_day = 1;
        if (time_date_parse(date, &p->start) != 0)
            return booking_error_set(err, BOOKING_INVALID, "invalid", "date", "'date' must look like 2026-12-07");
        p->end = p->start;
        int has_end = plan_member_string(doc, "end_date", 0, 16, &end_date, err);
        if (has_end < 0)
            return -1;
        if (has_end && time_date_parse(end_date, &p->end) != 0)
            return booking_error_set(err, BOOKING_INVALID, "invalid", "end_date",
                                 "'end_date' must look like 2026-12-07");
        recur_local_add(&p->end, 86400); /* end_date is the last day, inclusive */
        if (json_object_get(doc, "end") != NULL)
            return booking_error_set(err, BOOKING_INVALID, "invalid", "end", "an all-day event has no 'end'");
    } else {
        if (member_local_time(doc, "end", 1, &p->end, NULL, err) < 0)
            return -1;
        if (json_object_get(doc, "end_date") != NULL)
            return booking_error_set(err, BOOKING_INVALID, "invalid", "end_date",
                                 "'end_date' is for all-day events");
    }
    int64_t length = recur_local_diff(&p->start, &p->end);
    if (length <= 0)
        return booking_error_set(err, BOOKING_INVALID, "end_before_start", p->all_day ? "end_date" : "end",
                             "the end must be after the start");
    if (length > EVENT_MAX_SECONDS)
        return booking_error_set(err, BOOKING_INVALID, "too_long", p->all_day ? "end_date" : "end",
                             "an event may last at most 31 days");
    return 0;
}

/* exdates/rdates: local times, or dates for all-day events (normalised to midnight). */
static int parse_date_list(json_t *doc, const char *name, int all_day, const char **out,
                           size_t *n, struct booking_error *err)
{
    json_t *arr, *item;
    size_t i;

    *n = 0;
    if (member_array(doc, name, EVENT_MAX_DATES, &arr, err) != 0)
        return -1;
    json_array_foreach(arr, i, item) {
        struct local_time lt;
        char norm[TIME_LOCAL_STR];
        const char *s = json_string_value(item);
        if (s == NULL) {
            booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "", "must be a string");
            return in_item(err, name, i);
        }
        if (all_day && time_date_parse(s, &lt) == 0) {
            time_local_format(&lt, norm);
            json_array_set_new(arr, i, json_string(norm));
        } else if (time_local_parse(s, &lt) != 0) {
            booking_error_set(err, BOOKING_INVALID, "invalid", "", "must be a local time like 2026-12-07T09:00:00");
            return in_item(err, name, i);
        }
        out[(*n)++] = json_string_value(json_array_get(arr, i));
    }
    return 0;
}

static int parse_recurrence(json_t *doc, struct event_plan *p, struct booking_error *err)
{
    char why[160];
    int has = plan_member_string(doc, "rrule", 0, RECUR_RULE_MAX, &p->rrule, err);

    if (has < 0)
        return -1;
    if (!has)
        p->rrule = NULL;
    /* Accept a leading "RRULE:" as clients copy it from .ics files. */
    if (p->rrule != NULL && strncmp(p->rrule, "RRULE:", 6) == 0) {
        json_object_set_new(doc, "rrule", json_string(p->rrule + 6));
        p->rrule = json_string_value(json_object_get(doc, "rrule"));
    }
    if (p->rrule != NULL) {
        int rc = recur_rule_check(p->rrule, why, sizeof(why));
        if (rc != RECUR_OK)
            return booking_error_set(err, BOOKING_INVALID, rc == RECUR_TOO_FINE ? "rrule_refused" : "invalid",
                                 "rrule", "%s", why);
    }
    if (parse_date_list(doc, "exdates", p->all_day, p->exdates, &p->nexdates, err) != 0 ||
        parse_date_list(doc, "rdates", p->all_day, p->rdates, &p->nrdates, err) != 0)
        return -1;
    return 0;
}

static int parse_attendees(json_t *doc, struct event_plan *p, struct booking_error *err)
{
    json_t *arr, *item;
    size_t i;

    if (member_array(doc, "attendees", EVENT_MAX_ATTENDEES, &arr, err) != 0)
        return -1;
    json_array_foreach(arr, i, item) {
        struct plan_attendee *a = &p->attendees[p->nattendees];
        const char *response = "needs-action";
        int has;
        if (!json_is_object(item)) {
            booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "", "an attendee is an object {\"person\"}");
            return in_item(err, "attendees", i);
        }
        if (plan_only_members(item, attendee_members, err) != 0 ||
            plan_member_string(item, "person", 1, ID_STR_MAX - 1, &a->person, err) < 0 ||
            member_bool(item, "optional", &a->optional, err) != 0 ||
            (has = plan_member_string(item, "response", 0, 16, &response, err)) < 0)
            return in_item(err, "attendees", i);
        if (!is_one_of(response, responses)) {
            booking_error_set(err, BOOKING_INVALID, "invalid", "response",
                          "'response' must be needs-action, accepted, declined or tentative");
            return in_item(err, "attendees", i);
        }
        if (!has)
            json_object_set_new(item, "response", json_string(response));
        a->declined = strcmp(response, "declined") == 0;
        for (size_t j = 0; j < p->nattendees; j++) {
            if (strcmp(p->attendees[j].person, a->person) == 0) {
                booking_error_set(err, BOOKING_INVALID, "duplicate", "person", "person '%s' is listed twice",
                              a->person);
                return in_item(err, "attendees", i);
            }
        }
        p->nattendees++;
    }
    return 0;
}

/*
 * A meal's "diets": the guests' special diets, {"halal": 2}, added to the
 * attendees' own. Diet names as a person's diet field takes them.
 */
static int parse_diets(json_t *meal, struct booking_error *err)
{
    json_t *diets = json_object_get(meal, "diets"), *n;
    const char *name;

    if (diets == NULL || json_is_null(diets))
        return 0;
    if (!json_is_object(diets))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "diets",
                             "'diets' is an object of heads per diet, like {\"halal\": 2}");
    if (json_object_size(diets) > EVENT_MAX_DIETS)
        return booking_error_set(err, BOOKING_INVALID, "too_many", "diets", "at most %d diets", EVENT_MAX_DIETS);
    json_object_foreach(diets, name, n) {
        if (doc_text_ok(name, 40, 0) != 0 || strspn(name, " ") == strlen(name))
            return booking_error_set(err, BOOKING_INVALID, "invalid", "diets",
                                 "a diet is named by 1 to 40 characters");
        char field[64];
        snprintf(field, sizeof(field), "diets.%s", name);
        if (!json_is_integer(n))
            return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", field,
                                 "heads of diet '%s' must be an integer", name);
        if (json_integer_value(n) < 0 || json_integer_value(n) > 100000)
            return booking_error_set(err, BOOKING_INVALID, "out_of_range", field,
                                 "heads of diet '%s' must be between 0 and 100000", name);
    }
    return 0;
}

/*
 * The guests' diets cannot feed more than the meal's guests (or its fixed
 * count): they describe some of those heads, they do not add any.
 */
static int check_diet_heads(json_t *doc, const struct event_plan *p, struct booking_error *err)
{
    json_t *meal, *n;
    const char *name;
    size_t i;

    json_array_foreach(json_object_get(doc, "meals"), i, meal) {
        json_t *fixed = json_object_get(meal, "count");
        int64_t heads = 0, room = json_is_integer(fixed) ? json_integer_value(fixed) : p->guests;
        json_object_foreach(json_object_get(meal, "diets"), name, n) {
            heads += json_integer_value(n);
        }
        if (heads > room) {
            booking_error_set(err, BOOKING_INVALID, "too_many", "diets",
                          "%lld guests' diets but only %lld %s", (long long)heads,
                          (long long)room, json_is_integer(fixed) ? "in the fixed count" : "guests");
            return in_item(err, "meals", i);
        }
    }
    return 0;
}

static int parse_meals(struct app *app, json_t *doc, struct booking_error *err)
{
    json_t *arr, *item;
    size_t i;

    if (member_array(doc, "meals", EVENT_MAX_MEALS, &arr, err) != 0)
        return -1;
    json_array_foreach(arr, i, item) {
        const char *meal;
        int64_t count;
        int known = 0;
        if (!json_is_object(item)) {
            booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "", "a meal is an object {\"meal\"}");
            return in_item(err, "meals", i);
        }
        if (plan_only_members(item, meal_members, err) != 0 ||
            plan_member_string(item, "meal", 1, 23, &meal, err) < 0 ||
            member_int(item, "count", 0, 100000, -1, &count, err) != 0 ||
            parse_diets(item, err) != 0)
            return in_item(err, "meals", i);
        for (size_t c = 0; c < app->cfg.cutoff_count; c++)
            known |= strcmp(app->cfg.cutoffs[c].meal, meal) == 0;
        if (!known) {
            booking_error_set(err, BOOKING_INVALID, "invalid", "meal", "unknown meal '%s' (see --cutoff)", meal);
            return in_item(err, "meals", i);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(json_string_value(json_object_get(json_array_get(arr, j), "meal")),
                       meal) == 0) {
                booking_error_set(err, BOOKING_INVALID, "duplicate", "meal", "meal '%s' is listed twice", meal);
                return in_item(err, "meals", i);
            }
        }
        ensure_id(item, "meal");
    }
    return 0;
}

static int parse_trip(json_t *item, struct event_plan *p, struct plan_trip *t,
                      struct booking_error *err)
{
    const char *s;
    json_t *passengers, *pass;
    size_t k;
    int acknowledged;

    if (!json_is_object(item))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "", "a trip is an object");
    if (plan_only_members(item, trip_members, err) != 0 ||
        /* A trip may lack its vehicle: a higher-ranked meeting can take it (preemption). */
        plan_member_string(item, "vehicle", 0, ID_STR_MAX - 1, &t->vehicle, err) < 0 ||
        plan_member_string(item, "driver", 1, ID_STR_MAX - 1, &t->driver, err) < 0 ||
        member_local_time(item, "depart", 1, &t->depart, NULL, err) < 0 ||
        member_local_time(item, "return", 1, &t->ret, NULL, err) < 0 ||
        plan_member_string(item, "from", 0, 500, &s, err) < 0 ||
        plan_member_string(item, "to", 0, 500, &s, err) < 0 ||
        plan_member_string(item, "approved_by", 0, ID_STR_MAX - 1, &t->approved_by, err) < 0 ||
        member_bool(item, "acknowledged", &acknowledged, err) != 0 ||
        member_array(item, "passengers", EVENT_MAX_PASSENGERS, &passengers, err) != 0)
        return -1;
    if (recur_local_diff(&t->depart, &t->ret) <= 0)
        return booking_error_set(err, BOOKING_INVALID, "end_before_start", "return",
                             "'return' must be after 'depart'");
    if (recur_local_diff(&t->depart, &t->ret) > 86400)
        return booking_error_set(err, BOOKING_INVALID, "too_long", "return", "a trip may last at most 24 hours");
    json_array_foreach(passengers, k, pass) {
        if (!json_is_string(pass))
            return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "passengers",
                                 "'passengers' must be an array of person ids");
    }
    t->npassengers = passengers ? json_array_size(passengers) : 0;
    t->depart_offset = recur_local_diff(&p->start, &t->depart);
    t->return_offset = recur_local_diff(&p->start, &t->ret);
    ensure_id(item, "trip");
    t->id = json_string_value(json_object_get(item, "id"));
    return 0;
}

static int parse_trips(json_t *doc, struct event_plan *p, struct booking_error *err)
{
    json_t *arr, *item;
    size_t i;

    if (member_array(doc, "trips", EVENT_MAX_TRIPS, &arr, err) != 0)
        return -1;
    json_array_foreach(arr, i, item) {
        if (parse_trip(item, p, &p->trips[p->ntrips], err) != 0)
            return in_item(err, "trips", i);
        p->ntrips++;
    }
    return 0;
}

static int parse_reminders(json_t *doc, struct booking_error *err)
{
    json_t *arr, *item;
    size_t i;

    if (member_array(doc, "reminders", EVENT_MAX_REMINDERS, &arr, err) != 0)
        return -1;
    json_array_foreach(arr, i, item) {
        if (!json_is_integer(item)) {
            booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "", "a reminder is minutes before the start");
            return in_item(err, "reminders", i);
        }
        if (json_integer_value(item) < 0 || json_integer_value(item) > 40320) {
            booking_error_set(err, BOOKING_INVALID, "out_of_range", "", "between 0 and 40320 minutes (4 weeks)");
            return in_item(err, "reminders", i);
        }
    }
    return 0;
}

/*
 * Overrides of single occurrences (occurrence PATCH, imported RECURRENCE-ID
 * components) carry texts that reach feeds and webhooks like the event's
 * own, so they have the same limits. They used to be stored unchecked: a
 * PATCH of one occurrence took a 501-character title (test_hostile.py).
 */
static int parse_answers(json_t *ov, struct booking_error *err)
{
    json_t *answers = json_object_get(ov, "responses"), *v;
    const char *person;

    if (answers == NULL)
        return 0;
    if (!json_is_object(answers) || json_object_size(answers) > EVENT_MAX_ATTENDEES)
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "overrides",
                             "an occurrence's responses are an object person -> response");
    json_object_foreach(answers, person, v) {
        if (strlen(person) >= ID_STR_MAX || !json_is_string(v) ||
            !is_one_of(json_string_value(v), responses))
            return booking_error_set(err, BOOKING_INVALID, "invalid", "overrides",
                                 "an occurrence's response must be needs-action, accepted, "
                                 "declined or tentative");
    }
    return 0;
}

/*
 * One occurrence moved to another room (or to none: null). Its id is
 * checked against the store with the event's own (resolve_rooms); here
 * only its shape, and that the distinct rooms stay few.
 */
static int parse_override_room(json_t *ov, struct event_plan *p, struct booking_error *err)
{
    json_t *r = json_object_get(ov, "room");
    const char *id;

    if (r == NULL || json_is_null(r))
        return 0;
    if (!json_is_string(r) || json_string_length(r) == 0 || json_string_length(r) >= ID_STR_MAX)
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "room",
                                 "an occurrence's 'room' is a room id or null");
    id = json_string_value(r);
    for (size_t i = 0; i < p->nrooms; i++)
        if (strcmp(p->rooms[i].id, id) == 0)
            return 0;
    if (p->nrooms == EVENT_MAX_ROOMS)
        return booking_error_set(err, BOOKING_INVALID, "too_many", "room",
                                 "single occurrences may move to at most %d rooms",
                                 EVENT_MAX_ROOMS);
    p->rooms[p->nrooms++].id = id;
    return 0;
}

static int parse_overrides(json_t *doc, struct event_plan *p, struct booking_error *err)
{
    json_t *o = json_object_get(doc, "overrides"), *ov, *d;
    const char *key, *s;

    if (o == NULL)
        return 0;
    if (!json_is_object(o))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "overrides", "'overrides' is an object");
    json_object_foreach(o, key, ov) {
        if (!json_is_object(ov))
            return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "overrides",
                                 "an override is an object");
        if (plan_member_string(ov, "title", 0, EVENT_TITLE_MAX, &s, err) < 0 ||
            plan_member_string(ov, "location", 0, 500, &s, err) < 0 ||
            parse_answers(ov, err) != 0 || parse_override_room(ov, p, err) != 0)
            return -1;
        p->answered_alone |= json_object_size(json_object_get(ov, "responses")) > 0;
        d = json_object_get(ov, "description");
        if (d != NULL && !json_is_null(d) &&
            (!json_is_string(d) ||
             doc_text_ok(json_string_value(d), EVENT_DESCRIPTION_MAX, 1) != 0))
            return booking_error_set(err, BOOKING_INVALID, "invalid", "description",
                                 "'description' must be a string of at most 65536 characters");
    }
    return 0;
}

static const char *const budget_members[] = {"amount", "currency", NULL};

/*
 * budget {"amount": yuan with at most 2 decimals, "currency": "CNY"}: kept
 * as exact cents in the plan, the tiers' unit (approval.h).
 */
static int parse_budget(json_t *doc, struct event_plan *p, struct booking_error *err)
{
    json_t *b = json_object_get(doc, "budget"), *amount;
    const char *currency = NULL;

    if (b == NULL || json_is_null(b))
        return 0;
    if (!json_is_object(b))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "budget",
                                 "'budget' must be an object {\"amount\", \"currency\"}");
    if (plan_only_members(b, budget_members, err) != 0) {
        char inner[sizeof(err->field)];
        snprintf(inner, sizeof(inner), "budget.%.100s", err->field);
        memcpy(err->field, inner, sizeof(inner));
        return -1;
    }
    amount = json_object_get(b, "amount");
    if (amount == NULL)
        return booking_error_set(err, BOOKING_INVALID, "required", "budget.amount",
                                 "'budget.amount' is required");
    if (!json_is_number(amount))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "budget.amount",
                                 "'budget.amount' must be a number");
    if (approval_amount_cents(json_number_value(amount), &p->budget_cents) != 0)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "budget.amount",
                                 "'budget.amount' must be at least 0, with at most 2 decimals");
    if (plan_member_string(b, "currency", 0, 3, &currency, err) < 0) {
        snprintf(err->field, sizeof(err->field), "budget.currency");
        return -1;
    }
    if (currency != NULL && strcmp(currency, "CNY") != 0)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "budget.currency",
                                 "'budget.currency' must be CNY");
    p->has_budget = 1;
    return 0;
}

/* kind (会议类型) and department (承办部门): free text, bounded; reports group by them. */
static int parse_kind(json_t *doc, struct event_plan *p, struct booking_error *err)
{
    if (plan_member_string(doc, "kind", 0, EVENT_KIND_MAX, &p->kind, err) < 0 ||
        plan_member_string(doc, "department", 0, EVENT_DEPARTMENT_MAX, &p->department, err) < 0)
        return -1;
    if (p->kind != NULL && p->kind[0] == '\0')
        return booking_error_set(err, BOOKING_INVALID, "invalid", "kind",
                                 "'kind' must not be empty (leave it out instead)");
    if (p->department != NULL && p->department[0] == '\0')
        return booking_error_set(err, BOOKING_INVALID, "invalid", "department",
                                 "'department' must not be empty (leave it out instead)");
    return parse_budget(doc, p, err);
}

int event_plan_parse(struct app *app, json_t *doc, struct event_plan *p, struct booking_error *err)
{
    const char *s;
    int has_room;

    memset(p, 0, sizeof(*p));
    memset(err, 0, sizeof(*err));
    p->doc = doc;
    if (plan_only_members(doc, doc_members, err) != 0 ||
        plan_member_string(doc, "title", 1, EVENT_TITLE_MAX, &p->title, err) < 0 ||
        plan_member_string(doc, "location", 0, 500, &s, err) < 0)
        return -1;
    json_t *d = json_object_get(doc, "description");
    if (d != NULL && !json_is_null(d)) {
        if (!json_is_string(d))
            return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "description",
                                 "'description' must be a string");
        if (doc_text_ok(json_string_value(d), EVENT_DESCRIPTION_MAX, 1) != 0)
            return booking_error_set(err, BOOKING_INVALID, "invalid", "description",
                                 "'description' must be at most 65536 characters");
    }
    if (parse_times(app, doc, p, err) != 0 || parse_recurrence(doc, p, err) != 0 ||
        parse_attendees(doc, p, err) != 0 || parse_meals(app, doc, err) != 0 ||
        parse_trips(doc, p, err) != 0 || parse_reminders(doc, err) != 0 ||
        member_bool(doc, "confidential", &p->confidential, err) != 0 ||
        member_int(doc, "guests", 0, 100000, 0, &p->guests, err) != 0 ||
        (has_room = plan_member_string(doc, "room", 0, ID_STR_MAX - 1, &p->room, err)) < 0)
        return -1;
    if (!has_room)
        p->room = NULL;
    if (check_diet_heads(doc, p, err) != 0 || parse_kind(doc, p, err) != 0)
        return -1;
    return parse_overrides(doc, p, err);
}

/* Looks up a person and its rank; 422 naming field when unknown. */
/* The rank and diet of an attendee, from the person's record. */
static void attendee_fill(struct plan_attendee *a, const struct record *rec)
{
    const struct field_value *diet = &rec->values[record_field_index(&record_person, "diet")];

    a->rank = rec->values[record_field_index(&record_person, "rank")].i;
    a->has_diet = diet->set && diet->s != NULL;
    a->diet_known = !a->has_diet || strlen(diet->s) < sizeof(a->diet);
    if (a->has_diet && a->diet_known)
        memcpy(a->diet, diet->s, strlen(diet->s) + 1);
}

/* Reads a person: an attendee's rank and diet into a, the role into role (each may be NULL). */
static int resolve_person(struct app *app, const char *id, const char *field,
                          struct plan_attendee *a, char *role, size_t rolelen,
                          struct booking_error *err)
{
    struct record rec;
    int rc;

    record_init(&rec, &record_person);
    rc = store_record_get(app->store, &record_person, id, &rec);
    if (rc == STORE_OK) {
        if (a != NULL)
            attendee_fill(a, &rec);
        if (role != NULL)
            snprintf(role, rolelen, "%s", rec.values[record_field_index(&record_person, "role")].s);
    }
    record_clear(&rec, &record_person);
    if (rc == STORE_NOTFOUND)
        return booking_error_set(err, BOOKING_INVALID, "unknown_id", field, "no person with id '%s'", id);
    if (rc != STORE_OK)
        return booking_error_set(err, BOOKING_STORAGE, "storage", NULL, "the database failed");
    return 0;
}

/* Reads a room's buffers and checks that the meeting fits it; 0 or -1 with err. */
static int resolve_one_room(struct app *app, const struct event_plan *p, const char *id,
                            int64_t *setup, int64_t *teardown, struct booking_error *err)
{
    const struct record_type *t = &record_room;
    struct record rec;
    int rc;

    record_init(&rec, t);
    rc = store_record_get(app->store, t, id, &rec);
    if (rc == STORE_OK) {
        int64_t capacity = rec.values[record_field_index(t, "capacity")].i;
        *setup = rec.values[record_field_index(t, "setup_minutes")].i;
        *teardown = rec.values[record_field_index(t, "teardown_minutes")].i;
        if ((int64_t)p->nattendees + p->guests > capacity)
            rc = booking_error_set(err, BOOKING_INVALID, "capacity", "room",
                               "%zu attendees and %lld guests do not fit room capacity %lld",
                               p->nattendees, (long long)p->guests, (long long)capacity);
    } else if (rc == STORE_NOTFOUND) {
        rc = booking_error_set(err, BOOKING_INVALID, "unknown_id", "room", "no room with id '%s'", id);
    } else {
        rc = booking_error_set(err, BOOKING_STORAGE, "storage", NULL, "the database failed");
    }
    record_clear(&rec, t);
    return rc;
}

/* The event's room, then the rooms single occurrences moved to. */
static int resolve_rooms(struct app *app, struct event_plan *p, struct booking_error *err)
{
    if (p->room != NULL &&
        resolve_one_room(app, p, p->room, &p->room_setup, &p->room_teardown, err) != 0)
        return -1;
    for (size_t i = 0; i < p->nrooms; i++) {
        struct plan_room *r = &p->rooms[i];
        if (resolve_one_room(app, p, r->id, &r->setup, &r->teardown, err) != 0) {
            snprintf(err->field, sizeof(err->field), "overrides.room");
            return -1;
        }
    }
    return 0;
}

const char *event_plan_room(const struct event_plan *p, const struct occurrence *o,
                            int64_t *setup, int64_t *teardown)
{
    json_t *ov = json_object_get(json_object_get(p->doc, "overrides"), o->recurrence_id);
    json_t *own = json_object_get(ov, "room");

    *setup = p->room_setup;
    *teardown = p->room_teardown;
    if (own == NULL)
        return p->room;
    *setup = *teardown = 0;
    for (size_t i = 0; json_is_string(own) && i < p->nrooms; i++) {
        if (strcmp(p->rooms[i].id, json_string_value(own)) == 0) {
            *setup = p->rooms[i].setup;
            *teardown = p->rooms[i].teardown;
        }
    }
    return json_string_value(own); /* NULL for null: this occurrence holds no room */
}

static int resolve_trip(struct app *app, json_t *item, struct plan_trip *t,
                        struct booking_error *err)
{
    const struct record_type *vt = &record_vehicle;
    struct record rec;
    char role[16];
    json_t *pass;
    size_t k;
    int rc;

    record_init(&rec, vt);
    rc = t->vehicle ? store_record_get(app->store, vt, t->vehicle, &rec) : STORE_OK;
    if (rc == STORE_OK && t->vehicle &&
        (int64_t)t->npassengers > rec.values[record_field_index(vt, "seats")].i)
        rc = booking_error_set(err, BOOKING_INVALID, "seats", "passengers", "%zu passengers do not fit %lld seats",
                           t->npassengers, (long long)rec.values[record_field_index(vt, "seats")].i);
    else if (rc == STORE_NOTFOUND)
        rc = booking_error_set(err, BOOKING_INVALID, "unknown_id", "vehicle", "no vehicle with id '%s'",
                           t->vehicle);
    else if (rc != STORE_OK)
        rc = booking_error_set(err, BOOKING_STORAGE, "storage", NULL, "the database failed");
    record_clear(&rec, vt);
    if (rc != 0)
        return -1;
    if (resolve_person(app, t->driver, "driver", NULL, role, sizeof(role), err) != 0)
        return -1;
    if (strcmp(role, "driver") != 0)
        return booking_error_set(err, BOOKING_INVALID, "not_a_driver", "driver", "person '%s' is not a driver",
                             t->driver);
    if (t->approved_by != NULL &&
        resolve_person(app, t->approved_by, "approved_by", NULL, NULL, 0, err) != 0)
        return -1;
    json_array_foreach(json_object_get(item, "passengers"), k, pass) {
        if (resolve_person(app, json_string_value(pass), "passengers", NULL, NULL, 0, err) != 0)
            return -1;
    }
    return 0;
}

int event_plan_resolve(struct app *app, struct event_plan *p, struct booking_error *err)
{
    p->best_rank = EVENT_NO_RANK;
    for (size_t i = 0; i < p->nattendees; i++) {
        struct plan_attendee *a = &p->attendees[i];
        if (resolve_person(app, a->person, "person", a, NULL, 0, err) != 0)
            return in_item(err, "attendees", i);
        if (a->rank < p->best_rank)
            p->best_rank = a->rank;
    }
    if (resolve_rooms(app, p, err) != 0)
        return -1;
    for (size_t i = 0; i < p->ntrips; i++) {
        if (resolve_trip(app, json_array_get(json_object_get(p->doc, "trips"), i), &p->trips[i],
                         err) != 0)
            return in_item(err, "trips", i);
    }
    return 0;
}

/* Applies doc.overrides[recurrence_id] to an occurrence; 1 if it is cancelled. */
static int apply_override(const struct event_plan *p, struct occurrence *o)
{
    json_t *ov = json_object_get(json_object_get(p->doc, "overrides"), o->recurrence_id);
    struct local_time lt;

    if (ov == NULL)
        return 0;
    if (json_is_true(json_object_get(ov, "cancelled")))
        return 1;
    if (json_is_string(json_object_get(ov, "start")) &&
        time_local_parse(json_string_value(json_object_get(ov, "start")), &lt) == 0) {
        struct local_time s0, e0;
        /*
         * A moved start without an end keeps the occurrence's length: it
         * used to keep the old end, so 09:00-10:00 moved to 11:00 became
         * 11:00-10:00 and booked nothing.
         */
        int64_t length = time_local_parse(o->start, &s0) == 0 && time_local_parse(o->end, &e0) == 0
                             ? recur_local_diff(&s0, &e0)
                             : 0;
        time_local_format(&lt, o->start);
        time_local_to_utc(&lt, p->tz, &o->start_utc);
        recur_local_add(&lt, length);
        time_local_format(&lt, o->end);
        time_local_to_utc(&lt, p->tz, &o->end_utc);
    }
    if (json_is_string(json_object_get(ov, "end")) &&
        time_local_parse(json_string_value(json_object_get(ov, "end")), &lt) == 0) {
        time_local_format(&lt, o->end);
        time_local_to_utc(&lt, p->tz, &o->end_utc);
    }
    return 0;
}

static void plan_spec(const struct event_plan *p, struct recur_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->rrule = p->rrule;
    spec->start = p->start;
    spec->end = p->end;
    spec->tz = p->tz;
    spec->exdates = p->exdates;
    spec->nexdates = p->nexdates;
    spec->rdates = p->rdates;
    spec->nrdates = p->nrdates;
}

static int expand_error(const struct event_plan *p, int rc, const char *why, struct booking_error *err)
{
    /* An all-day event whose midnight is skipped (Chile) keeps its day, from 01:00. */
    if (rc == RECUR_NONEXISTENT && !p->all_day)
        return booking_error_set(err, BOOKING_INVALID, "nonexistent_time", "start", "%s", why);
    /* Not the rule's fault: the series is fine ahead, its past too long to rewrite. */
    if (rc == RECUR_TOO_OLD)
        return booking_error_set(err, BOOKING_INVALID, "series_too_old", "rrule", "%s", why);
    if (rc == RECUR_TOO_MANY || rc == RECUR_NEVER || rc == RECUR_TOO_LONG ||
        rc == RECUR_TOO_COSTLY)
        return booking_error_set(err, BOOKING_INVALID, "rrule_refused", "rrule", "%s", why);
    if (rc != RECUR_OK && rc != RECUR_NONEXISTENT)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "rrule", "%s", why[0] ? why : "cannot expand");
    return 0;
}

/* Drops cancelled occurrences and moves the others as doc.overrides say, in [from, to). */
static size_t apply_overrides(const struct event_plan *p, size_t from, size_t to, size_t out)
{
    for (size_t i = from; i < to; i++)
        if (!apply_override(p, &p->occ[i]))
            p->occ[out++] = p->occ[i];
    return out;
}

static int is_rdate(const struct event_plan *p, const char *recurrence_id)
{
    for (size_t i = 0; i < p->nrdates; i++)
        if (strcmp(p->rdates[i], recurrence_id) == 0)
            return 1;
    return 0;
}

/*
 * Puts the stored occurrences first (in order) and the beyond ones after;
 * returns how many are stored. recur_expand sorted them by start. A single
 * event and the RDATEs are stored however far ahead: only a rule rolls.
 */
static size_t split_stored(struct event_plan *p)
{
    size_t stored = 0;

    if (p->rrule == NULL)
        return p->nocc;
    for (size_t i = 0; i < p->nocc; i++) {
        if (p->occ[i].start_utc < p->expanded_until || is_rdate(p, p->occ[i].recurrence_id)) {
            struct occurrence o = p->occ[i];
            memmove(&p->occ[stored + 1], &p->occ[stored], (i - stored) * sizeof(o));
            p->occ[stored++] = o;
        }
    }
    return stored;
}

int event_plan_expand(struct event_plan *p, int64_t now, struct booking_error *err)
{
    struct recur_spec spec;
    char why[160] = "";
    int64_t start_utc = now;
    int rc;

    plan_spec(p, &spec);
    p->expanded_until = now + (int64_t)RECUR_HORIZON_DAYS * 86400;
    time_local_to_utc(&p->start, p->tz, &start_utc);
    /* The span checked: a bounded rule whole, an unbounded one 2 years past its start. */
    if (p->rrule != NULL && recur_rule_is_bounded(p->rrule)) {
        spec.horizon_utc = INT64_MAX;
    } else {
        spec.horizon_utc = (start_utc > now ? start_utc : now) +
                           (int64_t)RECUR_HORIZON_DAYS * 86400;
        /*
         * Only a bounded rule with more than 1,000 occurrences is refused
         * (CONTRACT section 4): a standing meeting's past is counted apart
         * from its next 2 years, which a daily rule never fills (731). It
         * used to count together, so a daily series could not be edited
         * (nor one started last year imported) once ~270 days old. Each
         * change still rewrites the past, so that has a cap of its own,
         * 1,000 occurrences: a daily series for 2.7 years, a weekday one
         * for 3.8.
         */
        spec.count_from_utc = now;
    }
    rc = recur_expand(&spec, &p->occ, &p->nocc, why, sizeof(why));
    if (expand_error(p, rc, why, err) != 0)
        return -1;
    size_t stored = split_stored(p), total = p->nocc;
    /*
     * A series stored to its end has no window left to move: neither the
     * hourly job nor the check of unstored occurrences need look at it again.
     */
    if (p->rrule != NULL && recur_rule_is_bounded(p->rrule) && stored == total)
        p->expanded_until = EVENT_ALL_STORED;
    p->nocc = apply_overrides(p, 0, stored, 0);
    p->nbeyond = apply_overrides(p, stored, total, p->nocc) - p->nocc;
    return 0;
}

int event_plan_expand_window(struct event_plan *p, int64_t from, int64_t to,
                             struct booking_error *err)
{
    struct recur_spec spec;
    char why[160] = "";
    int rc;

    plan_spec(p, &spec);
    spec.nrdates = 0;
    spec.from_utc = from;
    spec.horizon_utc = to;
    p->expanded_until = to;
    p->nbeyond = 0;
    rc = recur_expand(&spec, &p->occ, &p->nocc, why, sizeof(why));
    if (expand_error(p, rc, why, err) != 0)
        return -1;
    p->nocc = apply_overrides(p, 0, p->nocc, 0);
    return 0;
}

void event_plan_free(struct event_plan *p)
{
    free(p->occ);
    p->occ = NULL;
    p->nocc = p->nbeyond = 0;
}

/* The wall time of an occurrence's local start plus a wall-clock offset, and its instant. */
static int64_t offset_utc(const struct event_plan *p, const struct occurrence *o, int64_t offset,
                          struct local_time *lt)
{
    int64_t utc;

    time_local_parse(o->start, lt);
    recur_local_add(lt, offset);
    time_local_to_utc(lt, p->tz, &utc);
    return utc;
}

void event_plan_trip_times(const struct event_plan *p, const struct occurrence *o,
                           const struct plan_trip *t, struct local_time *depart,
                           struct local_time *ret, int64_t *depart_utc, int64_t *return_utc)
{
    *depart_utc = offset_utc(p, o, t->depart_offset, depart);
    *return_utc = offset_utc(p, o, t->return_offset, ret);
}

int event_plan_claims(const struct event_plan *p, const char *event_id,
                      int (*cb)(const struct claim *c, void *arg), void *arg)
{
    return event_plan_claims_range(p, event_id, 0, p->nocc, cb, arg);
}

int event_plan_claims_range(const struct event_plan *p, const char *event_id, size_t first,
                            size_t last, int (*cb)(const struct claim *c, void *arg), void *arg)
{
    for (size_t i = first; i < last; i++) {
        const struct occurrence *o = &p->occ[i];
        struct claim c = {NULL, NULL, o->start_utc, o->end_utc, event_id, o->recurrence_id,
                          NULL, NULL, NULL, o};

        for (size_t a = 0; a < p->nattendees; a++) {
            /* A declined invitation leaves the person's time free (one occurrence's too). */
            if (!event_plan_attends(p, o, a))
                continue;
            c.resource_type = "person";
            c.resource_id = p->attendees[a].person;
            c.role = "attendee";
            if (cb(&c, arg) != 0)
                return -1;
        }
        int64_t setup, teardown;
        const char *room = event_plan_room(p, o, &setup, &teardown);
        if (room != NULL) {
            c.resource_type = "room";
            c.resource_id = room;
            c.role = "room";
            conflict_room_interval(o->start_utc, o->end_utc, setup, teardown, &c.start_utc,
                                   &c.end_utc);
            if (cb(&c, arg) != 0)
                return -1;
        }
        for (size_t t = 0; t < p->ntrips; t++) {
            const struct plan_trip *tr = &p->trips[t];
            struct local_time depart, ret;
            event_plan_trip_times(p, o, tr, &depart, &ret, &c.start_utc, &c.end_utc);
            c.trip_id = tr->id;
            c.resource_type = "vehicle";
            c.resource_id = tr->vehicle;
            c.role = "vehicle";
            if (tr->vehicle != NULL && cb(&c, arg) != 0)
                return -1;
            c.resource_type = "person";
            c.resource_id = tr->driver;
            c.role = "driver";
            if (cb(&c, arg) != 0)
                return -1;
            c.trip_id = NULL;
        }
    }
    return 0;
}

int event_doc_start(json_t *doc, struct local_time *out)
{
    const char *start = json_string_value(json_object_get(doc, "start"));
    const char *date = json_string_value(json_object_get(doc, "date"));

    if (start != NULL)
        return time_local_parse(start, out);
    return date != NULL ? time_date_parse(date, out) : -1;
}

json_t *event_time_shifted(const char *value, int64_t delta)
{
    struct local_time lt;
    char buf[TIME_LOCAL_STR];

    if (value != NULL && time_local_parse(value, &lt) == 0) {
        recur_local_add(&lt, delta);
        time_local_format(&lt, buf);
    } else if (value != NULL && time_date_parse(value, &lt) == 0) {
        recur_local_add(&lt, delta);
        time_date_format(&lt, buf);
    } else {
        return NULL;
    }
    return json_string(buf);
}

/* The person's own answer for one occurrence (RSVP with a recurrence_id), or NULL. */
static const char *occurrence_answer(const struct event_plan *p, const struct occurrence *o,
                                     const char *person)
{
    json_t *ov = json_object_get(json_object_get(p->doc, "overrides"), o->recurrence_id);

    return json_string_value(json_object_get(json_object_get(ov, "responses"), person));
}

int event_plan_attends(const struct event_plan *p, const struct occurrence *o, size_t a)
{
    /* Checked for every occurrence x attendee of a booking: no lookups when nobody answered alone. */
    if (!p->answered_alone)
        return !p->attendees[a].declined;
    const char *answer = occurrence_answer(p, o, p->attendees[a].person);

    return answer != NULL ? strcmp(answer, "declined") != 0 : !p->attendees[a].declined;
}

int event_plan_has_answers(const struct event_plan *p, const struct occurrence *o)
{
    if (!p->answered_alone)
        return 0;
    json_t *ov = json_object_get(json_object_get(p->doc, "overrides"), o->recurrence_id);

    return json_object_size(json_object_get(ov, "responses")) > 0;
}
