/*
 * answers.c - the changes that touch one attendee or one occurrence: an
 * answer (RSVP) for the series or for a single occurrence, and an
 * occurrence moved, retitled or cancelled (overrides). Each builds the
 * new document from the stored one; change.c books and records it.
 */
#include "plan.h"

#include "convene/booking.h"
#include "convene/recur.h"
#include "convene/util.h"

#include <string.h>

static const char *const rsvp_members[] = {"person", "response", "recurrence_id", NULL};
static const char *const occurrence_members[] = {"start", "end", "title", "location",
                                                 "description", "room", NULL};

/* A string member, or "" when absent or not a string. */
static const char *member_text(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* Whether rid names an occurrence of the series (before overrides). */
static int occurrence_exists(const struct booking_ctx *ctx, json_t *prev, const char *rid)
{
    struct event_plan plan;
    struct booking_error err;
    json_t *doc = json_deep_copy(prev);
    int found = 0;

    json_object_del(doc, "overrides");
    if (event_plan_parse(ctx->app, doc, &plan, &err) == 0 &&
        event_plan_expand(&plan, ctx->now, &err) == 0)
        for (size_t i = 0; i < plan.nocc && !found; i++)
            found = strcmp(plan.occ[i].recurrence_id, rid) == 0;
    event_plan_free(&plan);
    json_decref(doc);
    return found;
}

/* The object member key of obj, added empty when missing or not an object. */
static json_t *object_member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(obj, key, v);
    }
    return v;
}

/* ---------------- RSVP ---------------- */

/*
 * A series-wide answer replaces the person's answers for single
 * occurrences, as "all events" does in calendar programs; overrides left
 * empty go.
 */
static void forget_occurrence_answers(json_t *doc, const char *person)
{
    json_t *overrides = json_object_get(doc, "overrides"), *ov, *tmp;
    const char *rid;

    json_object_foreach_safe(overrides, tmp, rid, ov) {
        json_t *answers = json_object_get(ov, "responses");
        json_object_del(answers, person);
        if (answers != NULL && json_object_size(answers) == 0)
            json_object_del(ov, "responses");
        if (json_object_size(ov) == 0)
            json_object_del(overrides, rid);
    }
}

/*
 * The answer of one occurrence, kept in overrides[rid].responses: its
 * meals, reminders and feeds follow it. With doc NULL, only checks that
 * rid names an occurrence. 0, or -1 with err.
 */
static int answer_occurrence(const struct booking_ctx *ctx, json_t *prev, json_t *doc,
                             const char *rid, const char *person, const char *response,
                             struct booking_error *err)
{
    struct local_time lt;
    json_t *ov;

    if (time_local_parse(rid, &lt) != 0)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "recurrence_id",
                                 "'recurrence_id' is an occurrence's original start like "
                                 "2026-12-07T09:00:00");
    if (!occurrence_exists(ctx, prev, rid))
        return booking_error_set(err, BOOKING_INVALID, "unknown_id", "recurrence_id",
                                 "the event has no occurrence '%s'", rid);
    if (doc == NULL) /* only checking */
        return 0;
    ov = object_member(object_member(doc, "overrides"), rid);
    if (json_is_true(json_object_get(ov, "cancelled")))
        return booking_error_set(err, BOOKING_INVALID, "cancelled", "recurrence_id",
                                 "occurrence '%s' is cancelled", rid);
    json_object_set_new(object_member(ov, "responses"), person, json_string(response));
    return 0;
}

/* The members of an answer, checked; *has_rid says whether it names an occurrence. */
static int rsvp_parse(const struct booking_ctx *ctx, json_t *body, const char **person,
                      const char **response, const char **rid, int *has_rid,
                      struct booking_error *err)
{
    if (plan_only_members(body, rsvp_members, err) != 0 ||
        plan_member_string(body, "person", 1, ID_STR_MAX - 1, person, err) < 0 ||
        plan_member_string(body, "response", 1, 16, response, err) < 0 ||
        (*has_rid = plan_member_string(body, "recurrence_id", 0, TIME_LOCAL_STR - 1, rid,
                                       err)) < 0)
        return -1;
    if (strcmp(*response, "accepted") != 0 && strcmp(*response, "declined") != 0 &&
        strcmp(*response, "tentative") != 0)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "response",
                                 "'response' must be accepted, declined or tentative");
    if ((ctx->actor == NULL || !ctx->actor->office) &&
        strcmp(*person, ctx->actor ? ctx->actor->person : "") != 0)
        return booking_error_set(err, BOOKING_FORBIDDEN, "forbidden", NULL,
                                 "you may answer only for yourself");
    return 0;
}

json_t *booking_rsvp_doc(const struct booking_ctx *ctx, json_t *prev, json_t *body,
                         struct booking_error *err)
{
    const char *person, *response, *rid = NULL;
    json_t *doc, *a;
    size_t i;
    int has_rid = 0;

    if (rsvp_parse(ctx, body, &person, &response, &rid, &has_rid, err) != 0)
        return NULL;
    /* A meeting that does not repeat has one occurrence: its answer is the meeting's. */
    if (has_rid > 0 && !json_is_string(json_object_get(prev, "rrule")) &&
        json_array_size(json_object_get(prev, "rdates")) == 0) {
        if (answer_occurrence(ctx, prev, NULL, rid, person, response, err) != 0)
            return NULL;
        has_rid = 0;
    }
    doc = json_deep_copy(prev);
    json_array_foreach(json_object_get(doc, "attendees"), i, a) {
        if (strcmp(member_text(a, "person"), person) != 0)
            continue;
        if (has_rid == 0) {
            json_object_set_new(a, "response", json_string(response));
            forget_occurrence_answers(doc, person);
        } else if (answer_occurrence(ctx, prev, doc, rid, person, response, err) != 0) {
            json_decref(doc);
            return NULL;
        }
        return doc;
    }
    json_decref(doc);
    booking_error_set(err, BOOKING_INVALID, "not_invited", "person",
                      "person '%s' is not an attendee", person);
    return NULL;
}

/* ---------------- one occurrence ---------------- */

/* The moved times are checked like any other: well-formed and in order. 0 or -1 with err. */
static int check_moved_times(json_t *ov, const struct local_time *original,
                             struct booking_error *err)
{
    struct local_time s, e;
    const char *start = json_string_value(json_object_get(ov, "start"));
    const char *end = json_string_value(json_object_get(ov, "end"));

    if ((json_object_get(ov, "start") && (start == NULL || time_local_parse(start, &s) != 0)) ||
        (json_object_get(ov, "end") && (end == NULL || time_local_parse(end, &e) != 0)))
        return booking_error_set(err, BOOKING_INVALID, "invalid", start ? "end" : "start",
                                 "times must look like 2026-12-07T09:00:00");
    /* With only an end, the occurrence keeps its start (its recurrence id). */
    if (end && recur_local_diff(start ? &s : original, &e) <= 0)
        return booking_error_set(err, BOOKING_INVALID, "end_before_start", "end",
                                 "the end must be after the start");
    return 0;
}

json_t *booking_occurrence_doc(const struct booking_ctx *ctx, json_t *prev, const char *rid,
                               json_t *body, struct booking_error *err)
{
    struct local_time lt;
    json_t *doc, *overrides;

    if (time_local_parse(rid, &lt) != 0 || !occurrence_exists(ctx, prev, rid)) {
        booking_error_set(err, BOOKING_NOT_FOUND, "not_found", NULL,
                          "the event has no occurrence '%s'", rid);
        return NULL;
    }
    doc = json_deep_copy(prev);
    overrides = object_member(doc, "overrides");
    if (body == NULL) { /* cancel just this occurrence */
        json_object_set_new(overrides, rid, json_pack("{s:b}", "cancelled", 1));
        return doc;
    }
    if (plan_only_members(body, occurrence_members, err) != 0) {
        json_decref(doc);
        return NULL;
    }
    json_t *ov = object_member(overrides, rid);
    json_object_update(ov, body);
    if (check_moved_times(ov, &lt, err) != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
