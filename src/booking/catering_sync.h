/*
 * catering_sync.h - meal counts kept in step with the meetings (统一订餐,
 * CONTRACT section 6), part of the booking layer: the hook that rewrites
 * an event's catering rows in its booking's transaction and sends
 * catering.updated, and the day summary both that message and GET
 * /catering are built from. Private to src/booking/ and the handlers that
 * render its results (src/api/).
 */
#ifndef CONVENE_BOOKING_CATERING_SYNC_H
#define CONVENE_BOOKING_CATERING_SYNC_H

#include <jansson.h>

#include "plan.h"

#include "convene/booking.h"

/*
 * Rewrites the catering rows of row->id from doc expanded as plan (a
 * cancelled event has none); rows changed after their meal's cutoff stay
 * flagged late. For every day from today on whose totals changed, appends
 * catering.updated with the day's new totals and this event's delta.
 * Runs inside the caller's transaction. 0 or -1.
 */
int catering_sync(struct app *app, const struct event_row *row, json_t *doc,
                  const struct event_plan *plan);

/* The same without late flags or messages: rows derived after an upgrade. */
int catering_derive(struct app *app, const struct event_row *row, json_t *doc,
                    const struct event_plan *plan);



#endif
