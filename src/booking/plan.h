/*
 * plan.h - an event document taken apart for booking: its times,
 * recurrence and the resources it holds. Built from the JSON document by
 * event_plan_parse (shape and values), completed by event_plan_resolve
 * (ids, ranks, capacity: needs the store), then expanded into occurrences
 * and claims. Private to src/booking/.
 */
#ifndef CONVENE_BOOKING_PLAN_H
#define CONVENE_BOOKING_PLAN_H

#include <jansson.h>
#include <stdint.h>

#include "convene/booking.h"
#include "convene/recur.h"
#include "convene/store.h"

#define EVENT_MAX_ATTENDEES 200
#define EVENT_MAX_TRIPS 10
#define EVENT_MAX_MEALS 6
#define EVENT_MAX_DIETS 16 /* per meal: the guests' special diets */
#define EVENT_MAX_REMINDERS 10
#define EVENT_MAX_DATES 366
#define EVENT_MAX_PASSENGERS 60
#define EVENT_MAX_ROOMS 16 /* distinct rooms single occurrences moved to (overrides[].room) */
#define EVENT_MAX_SECONDS (31LL * 86400)
#define EVENT_TITLE_MAX 500
#define EVENT_DESCRIPTION_MAX (64 * 1024)
#define EVENT_NO_RANK 1000000000LL /* an event without attendees outranks nobody */
#define EVENT_ALL_STORED INT64_MAX  /* expanded_until of a bounded series stored to its end */
#define EVENT_KIND_MAX 32          /* 办公会, 党组会, 专题会 ...: a word, not a sentence */
#define EVENT_DEPARTMENT_MAX 200   /* as a person's department */

#define PLAN_DIET_MAX 64 /* a longer diet is read again where it is needed */

struct plan_attendee {
    const char *person;
    int optional;
    int declined;
    int64_t rank;
    /*
     * The person's diet as event_plan_resolve read it, in the booking's
     * transaction, for the meal counts (catering_sync.c), which read it
     * again when diet_known is 0 (not resolved, or longer than diet).
     */
    int diet_known;
    int has_diet; /* 0: the person has none */
    char diet[PLAN_DIET_MAX];
};

struct plan_trip {
    const char *id;
    const char *vehicle;
    const char *driver;
    struct local_time depart, ret;
    int64_t depart_offset, return_offset; /* wall seconds from the event's start */
    size_t npassengers;
    const char *approved_by;
};

/* A room one or more occurrences moved to (doc.overrides[rid].room), with its buffers. */
struct plan_room {
    const char *id; /* borrowed from the document */
    int64_t setup, teardown;
};

struct event_plan {
    json_t *doc;                  /* borrowed: every pointer below points into it */
    const char *title;
    int all_day;
    struct local_time start, end;
    char tz[64];
    const char *rrule;
    const char *exdates[EVENT_MAX_DATES];
    size_t nexdates;
    const char *rdates[EVENT_MAX_DATES];
    size_t nrdates;
    struct plan_attendee attendees[EVENT_MAX_ATTENDEES];
    size_t nattendees;
    const char *room;
    int64_t guests;
    struct plan_trip trips[EVENT_MAX_TRIPS];
    size_t ntrips;
    int confidential;
    int answered_alone;           /* some occurrence has its own answers (overrides[].responses) */
    const char *kind;             /* meeting kind, or NULL */
    const char *department;       /* organising department's name, or NULL */
    int has_budget;
    int64_t budget_cents;         /* exact, in fen */
    int off_days_approved;        /* approvals.c covers off-day trips: dispatch skips section 6 */
    /* filled by event_plan_resolve */
    int64_t best_rank;
    int64_t room_setup, room_teardown;
    struct plan_room rooms[EVENT_MAX_ROOMS]; /* the occurrences' own rooms */
    size_t nrooms;
    /* filled by event_plan_expand */
    struct occurrence *occ;       /* owned: nocc stored, then nbeyond checked only */
    size_t nocc;                  /* stored: before expanded_until (and every RDATE) */
    size_t nbeyond;               /* past the stored window, up to the event's span end */
    int64_t expanded_until;
};

/* Members a client may send to POST/PATCH /events. */

/* http/body.c's shape checks with their verdicts as domain errors (400 or 422 kinds). */
int plan_only_members(json_t *obj, const char *const *allowed, struct booking_error *err);
int plan_member_string(json_t *obj, const char *name, int required, size_t max_chars,
                       const char **out, struct booking_error *err);

/*
 * Checks the whole document's shape and values (no store access) and
 * fills plan. Defaults (tz, ids of trips and meals, attendee responses)
 * are written into doc. 0, or -1 with err.
 */
int event_plan_parse(struct app *app, json_t *doc, struct event_plan *plan,
                     struct booking_error *err);

/* Checks ids against the store, reads ranks, capacity and room buffers. */
int event_plan_resolve(struct app *app, struct event_plan *plan, struct booking_error *err);

/*
 * Expands occurrences and applies doc.overrides. The event's span is what
 * conflicts are checked over (CONTRACT section 4): a bounded rule to its
 * end, an unbounded one 2 years past its start (and at least as far as it
 * is stored). Occurrences before the stored window's end (now + 2 years,
 * plan->expanded_until) come first in plan->occ (nocc), those after it
 * follow (nbeyond): booked later, when the window moves (events.c).
 */
int event_plan_expand(struct event_plan *plan, int64_t now, struct booking_error *err);

/*
 * Expands the occurrences of an already stored event that start in
 * [from, to), without RDATEs (they are stored however far ahead), into
 * plan->occ/nocc. For checking a new booking against what is not stored
 * yet. 0, or -1 with err.
 */
int event_plan_expand_window(struct event_plan *plan, int64_t from, int64_t to,
                             struct booking_error *err);

void event_plan_free(struct event_plan *plan);

/*
 * The room occurrence o holds: its own (doc.overrides[rid].room; null
 * there: none) or the event's, with that room's setup and teardown
 * minutes (0 before event_plan_resolve). NULL when it holds none.
 */
const char *event_plan_room(const struct event_plan *plan, const struct occurrence *o,
                            int64_t *setup, int64_t *teardown);

/*
 * A trip's departure and return in one occurrence: at the same wall-clock
 * offsets from the occurrence's start as from the event's (a moved
 * occurrence takes its car along). Local wall times and instants.
 */
void event_plan_trip_times(const struct event_plan *plan, const struct occurrence *o,
                           const struct plan_trip *t, struct local_time *depart,
                           struct local_time *ret, int64_t *depart_utc, int64_t *return_utc);

/* The local start of an event document: its start, or its date's midnight. 0, or -1 if neither. */
int event_doc_start(json_t *doc, struct local_time *out);

/*
 * A local time ("2026-12-07T09:00:00") or a date moved by delta seconds of
 * wall clock, in the same form: a new reference, or NULL if value is neither.
 * What moving a meeting does to its trips and its exceptions.
 */
json_t *event_time_shifted(const char *value, int64_t delta);

/*
 * Whether attendee a (index into plan->attendees) takes part in occurrence
 * o: the answer they gave for that occurrence (overrides[rid].responses,
 * from an RSVP with a recurrence_id) when there is one, else the series'.
 * A declined occurrence holds none of their time, feeds them no meal and
 * reminds them of nothing.
 */
int event_plan_attends(const struct event_plan *plan, const struct occurrence *o, size_t a);

/* Whether anyone answered for occurrence o alone (its attendance may differ). */
int event_plan_has_answers(const struct event_plan *plan, const struct occurrence *o);

/* Calls cb for every claim (occurrence x resource) of the plan's stored occurrences. */
int event_plan_claims(const struct event_plan *plan, const char *event_id,
                      int (*cb)(const struct claim *c, void *arg), void *arg);

/* The same for occurrences [first, last) of plan->occ (the beyond part included). */
int event_plan_claims_range(const struct event_plan *plan, const char *event_id, size_t first,
                            size_t last, int (*cb)(const struct claim *c, void *arg), void *arg);

#endif
