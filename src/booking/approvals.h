/*
 * approvals.h - the hooks of approvals (approvals.c) into the write of a
 * booking (write.c), its record (audit.c) and its cancel (change.c).
 * Private to src/booking/.
 */
#ifndef CONVENE_BOOKING_APPROVALS_H
#define CONVENE_BOOKING_APPROVALS_H

#include <jansson.h>

#include "plan.h"

#include "convene/booking.h"

/*
 * A new booking under the rules: which approvals it needs (a budget's
 * tier, an off-day trip, a kept room). When it needs some, row->status
 * becomes pending, the approvals are stored and doc["approvals"] lists
 * them; a booking too late to be decided is refused (422
 * too_late_for_approval). Without rules, nothing happens. 0 or -1 with err.
 */
int approvals_request(const struct booking_ctx *ctx, struct event_plan *plan,
                      struct event_row *row, json_t *doc, struct booking_error *err);

/*
 * Under rules that cover off-day vehicles, a trip's approved_by must name
 * the office director (422 wrong_approver). 0 or -1 with err.
 */
int approvals_check_trips(struct app *app, const struct event_plan *plan,
                          struct booking_error *err);

/*
 * After a pending booking's event.created: one approval.requested per
 * approval (to its approver) and the history's "approval_requested".
 * event is the booking as rendered. 0 or -1.
 */
int approvals_announce(const struct booking_ctx *ctx, const char *event_id, json_t *event);

/* Cancelling a pending booking withdraws its approvals (and doc's copy of them). 0 or -1. */
int approvals_withdraw(const struct booking_ctx *ctx, const char *event_id, json_t *doc);

#endif
