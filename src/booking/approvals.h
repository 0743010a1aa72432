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
 * A change of a stored booking under the rules: when it now needs an
 * approval nothing answers (no approved one, nor a pending one of a
 * pending booking, covers it, and the booking did not need it before the
 * change), the approval is stored, row->status becomes pending (the
 * booking holds its time; write.c then withdraws its trips, meals and
 * reminders until it is confirmed again) and doc["approvals"] lists them
 * all. doc's "approvals" is always the stored list, never the client's.
 * Otherwise it only checks trips' approved_by. 0 or -1 with err.
 */
int approvals_change(const struct booking_ctx *ctx, struct event_plan *plan,
                     struct event_row *row, json_t *doc, struct booking_error *err);

/*
 * After a pending booking's event.created or event.updated: one
 * approval.requested per pending approval not listed in before (the
 * booking as it was; NULL for a new one), to its approver, and the
 * history's "approval_requested" listing them. event is the booking as
 * rendered. 0 or -1.
 */
int approvals_announce(const struct booking_ctx *ctx, const char *event_id, json_t *before,
                       json_t *event);

/* Cancelling a pending booking withdraws its approvals (and doc's copy of them). 0 or -1. */
int approvals_withdraw(const struct booking_ctx *ctx, const char *event_id, json_t *doc);

#endif
