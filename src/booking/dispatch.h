/*
 * dispatch.h - trips kept in step with their meetings (CONTRACT section
 * 6): the driver rules every booking must keep, the trip rows rewritten in
 * the booking's own transaction together with their dispatch.* messages,
 * and trips that follow a moved meeting. Part of the booking layer:
 * write.c calls the hooks; the handlers (src/api/trips.c, events.c) render
 * the rows and move trips with a PATCH.
 */
#ifndef CONVENE_BOOKING_DISPATCH_H
#define CONVENE_BOOKING_DISPATCH_H

#include <jansson.h>

#include "conflicts.h"
#include "plan.h"

/*
 * Checks a live booking's trips: weekend and holiday trips need
 * approved_by (422 approval_required), and each driver's day keeps
 * --driver-max-hours (409 driver_hours) and the rest between days
 * --driver-min-rest (409 driver_rest), counting the driver's trips of
 * every other event. 0, or -1 with err; *conflicts (always set, owned by
 * the caller) holds the 409's entries (conflicts.h) naming the trips.
 */
int dispatch_check(struct app *app, const char *event_id, const struct event_plan *plan,
                   struct conflict_report *report, struct booking_error *err, json_t **conflicts);

/*
 * Rewrites the trip rows of row->id from doc (expanded as plan, or parsed
 * here when plan is NULL) and appends dispatch.assigned / updated /
 * cancelled for the trips still ahead that changed. A cancelled event
 * holds no trips. A material change (time, place, car, driver,
 * passengers) clears the acknowledgement. Runs inside the caller's
 * transaction. 0 or -1.
 */
int dispatch_sync(struct app *app, const struct event_row *row, json_t *doc,
                  const struct event_plan *plan);

/* The same without messages: rows derived for events stored before trips had rows. */
int dispatch_derive(struct app *app, const struct event_row *row, json_t *doc,
                    const struct event_plan *plan);

/*
 * A PATCH that moves the meeting (start or date) without sending trips
 * moves its trips by the same wall-clock amount, so the car keeps its
 * place relative to the meeting. prev is the stored document, doc the
 * merged one (changed in place).
 */
void dispatch_trips_follow(json_t *prev, json_t *doc, json_t *patch);


#endif
