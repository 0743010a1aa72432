/*
 * approvals.c - bookings expire on time when their approvals are not
 * given (CONTRACT section 12). One uv_timer sleeps until the earliest
 * expiry of a pending approval (never longer than NOTIFY_MAX_SLEEP_MS, so
 * a clock change cannot strand it) and lets the booking layer
 * (booking_approvals_expire) free their time and tell their requesters.
 * Any change schedules the notify service, which reschedules this timer; at start
 * it runs once, so an expiry due while the service was down happens then.
 */
#include "notify_internal.h"

#include "convene/booking.h"
#include "convene/store.h"

#define APPROVALS_RETRY_MS 1000 /* after a failed run: the database may be busy */

static void on_approval_timer(uv_timer_t *timer)
{
    notify_approvals_run(timer->data);
}

void notify_approvals_run(struct notify *n)
{
    int expired = booking_approvals_expire(n->app, clock_wall_s());

    if (expired < 0) {
        log_error("approvals: could not expire overdue approvals; will retry");
        if (!n->stopping)
            uv_timer_start(&n->approval_timer, on_approval_timer, APPROVALS_RETRY_MS, 0);
        return;
    }
    if (expired > 0)
        notify_schedule(n); /* fans out approval.decided and reschedules this timer */
    else
        notify_approvals_schedule(n);
}

void notify_approvals_schedule(struct notify *n)
{
    uint64_t sleep_ms = NOTIFY_MAX_SLEEP_MS;
    int64_t due = 0;
    struct timespec ts;

    if (n->stopping)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (store_approvals_next_expiry(n->app->store, &due) == STORE_OK && due > 0) {
        /* Expiry is to the second: wake just after it, not a millisecond early. */
        int64_t wait = due * 1000 - now_ms;
        if (wait < (int64_t)sleep_ms)
            sleep_ms = wait > 0 ? (uint64_t)wait : 0;
    }
    uv_timer_start(&n->approval_timer, on_approval_timer, sleep_ms, 0);
}
