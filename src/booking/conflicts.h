/*
 * conflicts.h - the entries of a 409 answer, in words a secretary can act
 * on (CONTRACT sections 4 and 10): who or what clashes by name, why
 * (overlap, buffer, block, driver hours, driver rest), with what kind of
 * booking (event, trip, block), and a trip's own departure and return.
 * Deciding a clash is write.c's and dispatch.c's; this file only reports
 * it. Private to src/booking/.
 */
#ifndef CONVENE_BOOKING_CONFLICTS_H
#define CONVENE_BOOKING_CONFLICTS_H

#include <jansson.h>

#include "plan.h"

#include "convene/conflict.h"

/* Names and trip times looked up once per booking. */
struct conflict_report {
    struct app *app;
    const struct event_plan *plan; /* the booking being checked (borrowed) */
    json_t *names;                 /* "type:id" -> name */
    json_t *trips;                 /* trip id -> {recurrence_id -> [depart, return]} */
};

void conflict_report_init(struct conflict_report *r, struct app *app,
                          const struct event_plan *plan);
void conflict_report_free(struct conflict_report *r);

/* The display name of a person, room or vehicle (its id when unknown). New reference. */
json_t *conflict_report_name(struct conflict_report *r, const char *type, const char *id);

/*
 * The entry of one clash: the booking's claim (of occurrence o) against an
 * existing hold c. A confidential meeting's title is null. New reference.
 */
json_t *conflict_report_clash(struct conflict_report *r, const struct claim *claim,
                              const struct occurrence *o, const struct clash *c);

/*
 * The entry of a driver rule broken by trip t of occurrence o (hours over
 * the day, or rest too short) together with the other trip involved
 * (other may be NULL when the booking's own trips break it alone): its
 * event, title (null if confidential), recurrence_id, depart and return.
 */
json_t *conflict_report_driver(struct conflict_report *r, enum conflict_reason reason,
                               const struct plan_trip *t, const struct occurrence *o,
                               json_t *other);

#endif
