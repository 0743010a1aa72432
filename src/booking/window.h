/*
 * window.h - checking a booking against other series' occurrences
 * beyond their stored window (window.c).
 */
#ifndef CONVENE_BOOKING_WINDOW_H
#define CONVENE_BOOKING_WINDOW_H

#include "plan.h"

/* A clash found: `theirs` as the occupancy check reports it, `mine` the claim it hits. */
typedef int (*window_clash_cb)(const struct clash *theirs, const struct claim *mine, void *arg);

/*
 * Compares every claim of plan (stored and beyond occurrences alike) with
 * the occurrences other live series (not event_id) have on the same
 * resources after their stored window's end, and calls cb for each
 * overlap. Runs inside the caller's transaction. 0, or -1 when the store
 * failed or cb returned non-zero.
 */
int event_window_check(struct app *app, const struct event_plan *plan, const char *event_id,
                       window_clash_cb cb, void *arg);

#endif
