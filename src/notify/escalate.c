/*
 * escalate.c - dispatch.unacknowledged on time. One uv_timer sleeps until
 * the earliest acknowledgement deadline of a trip occurrence (departure
 * minus --ack-deadline; never longer than NOTIFY_MAX_SLEEP_MS, so a clock
 * change cannot strand it) and then lets the booking layer
 * (booking_trips_escalate) write the messages for every trip past its
 * deadline, once each. Acknowledging, or any change, schedules the notify service, which reschedules this timer.
 */
#include "notify_internal.h"

#include "convene/booking.h"
#include "convene/store.h"

#define ESCALATE_RETRY_MS 1000 /* after a failed run: the database may be busy */

static void on_escalate_timer(uv_timer_t *timer)
{
    notify_escalate_run(timer->data);
}

void notify_escalate_run(struct notify *n)
{
    int sent = booking_trips_escalate(n->app, clock_wall_s());

    if (sent < 0) {
        log_error("escalate: could not raise dispatch.unacknowledged; will retry");
        if (!n->stopping)
            uv_timer_start(&n->escalate_timer, on_escalate_timer, ESCALATE_RETRY_MS, 0);
        return;
    }
    if (sent > 0)
        notify_schedule(n); /* fans out the new messages and reschedules this timer */
    else
        notify_escalate_schedule(n);
}

void notify_escalate_schedule(struct notify *n)
{
    int64_t deadline = (int64_t)n->app->cfg.ack_deadline_minutes * 60, due = 0;
    uint64_t sleep_ms = NOTIFY_MAX_SLEEP_MS;
    struct timespec ts;

    if (n->stopping)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (deadline > 0 && store_trips_next_unacked(n->app->store, ts.tv_sec, deadline, &due) ==
                            STORE_OK && due > 0) {
        int64_t wait = due * 1000 - now_ms;
        if (wait < (int64_t)sleep_ms)
            sleep_ms = wait > 0 ? (uint64_t)wait : 0;
    }
    uv_timer_start(&n->escalate_timer, on_escalate_timer, sleep_ms, 0);
}
