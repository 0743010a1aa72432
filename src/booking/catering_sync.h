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

/*
 * A person's diet changed: re-counts the meals from today on of every
 * live event the person attends (past days are records and keep their
 * breakdown), inside the caller's transaction, with catering.updated as
 * for any change and an audit entry "meals_recounted" by the caller on
 * each event whose counts moved, by ctx->actor. 0 or -1.
 */
int catering_person_changed(const struct booking_ctx *ctx, const char *person);

/*
 * The meals of local days [from, to]: {"YYYY-MM-DD": [{"meal","total",
 * "late","diets"{, "events"}}]} with meals in serving order and days
 * without meals left out. with_events adds each meeting's count. 0 or -1.
 */
int catering_summary(struct store *st, const char *from, const char *to, int with_events,
                     json_t **out);

#endif
