/*
 * notify_internal.h - shared by the files of src/notify/ only.
 */
#ifndef CONVENE_NOTIFY_INTERNAL_H
#define CONVENE_NOTIFY_INTERNAL_H

#include <curl/curl.h>
#include <stdint.h>
#include <uv.h>

#include "convene/app.h"
#include "convene/notify.h"
#include "convene/store.h"

#define NOTIFY_MAX_IN_FLIGHT 64     /* attempts at once, overall */
#define NOTIFY_MAX_PER_ENDPOINT 8   /* attempts at once, per endpoint */
#define NOTIFY_LEASE_S 60           /* an attempt in flight is retried after this if we crash */
#define NOTIFY_CONNECT_TIMEOUT_MS 5000
#define NOTIFY_TOTAL_TIMEOUT_MS 15000
#define NOTIFY_MAX_SLEEP_MS 30000   /* timers never sleep longer: clock changes cannot strand them */
#define NOTIFY_DRAIN_MS 5000

struct attempt;

struct notify {
    struct app *app;
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t curl_timer;     /* curl's own timeout */
    uv_timer_t pump_timer;     /* next fan-out / due delivery */
    uv_timer_t reminder_timer; /* next due reminder */
    uv_timer_t escalate_timer; /* next unacknowledged trip to escalate */
    uv_timer_t drain_timer;
    struct attempt *in_flight; /* list of running attempts */
    size_t in_flight_count;
    struct attempt *finished;  /* answered, waiting for the pump to record them */
    int fanout_due;            /* the outbox may hold messages not fanned out yet */
    struct webhook_row webhook_cache; /* one endpoint's row, valid during one pump */
    int webhook_cache_valid;
    int stopping;
    uint64_t drain_started_us;
    void (*on_drained)(void *arg);
    void *drained_arg;
    /* metrics */
    uint64_t delivered, retried, failed, disabled, reminders_sent, reminders_late,
        reminders_dropped;
    uint64_t lateness_buckets[8];
    double lateness_sum;
};

/* fanout.c: outbox -> deliveries, in batches; 0 or -1. */
int notify_fanout(struct notify *n);

/* sender.c: start due deliveries within the concurrency limits; re-arm the pump. */
void notify_pump(struct notify *n);
int notify_sender_init(struct notify *n);
void notify_sender_close(struct notify *n);
/* Forgets the endpoint row the sender keeps during one pump (sender.c). */
void webhook_cache_drop(struct notify *n);
/* Re-queues every in-flight attempt as pending now and aborts it. */
void notify_requeue_in_flight(struct notify *n);

/* reminders.c: turn due reminders into messages; re-arm the reminder timer. */
void notify_reminders_run(struct notify *n);
void notify_reminders_arm(struct notify *n);

/* escalate.c: dispatch.unacknowledged for trips past their ack deadline; re-arm. */
void notify_escalate_run(struct notify *n);
void notify_escalate_arm(struct notify *n);

#endif
