/*
 * notify_internal.h - shared by the files of src/notify/ only.
 */
#ifndef CONVENE_NOTIFY_INTERNAL_H
#define CONVENE_NOTIFY_INTERNAL_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "convene/app.h"
#include "convene/channels.h"
#include "convene/notify.h"
#include "convene/store.h"

#define NOTIFY_MAX_IN_FLIGHT 64     /* attempts at once, overall */
#define NOTIFY_MAX_PER_ENDPOINT 8   /* attempts at once, per endpoint */
#define NOTIFY_QUEUE_MAX 256        /* due deliveries read ahead of the sender */
#define NOTIFY_RECORD_BATCH 64      /* answers recorded in one commit... */
#define NOTIFY_RECORD_DELAY_MS 10   /* ...or at most this long after the first came */
#define NOTIFY_CONNECT_TIMEOUT_MS 5000
#define NOTIFY_TOTAL_TIMEOUT_MS 15000
#define NOTIFY_MAX_SLEEP_MS 30000   /* timers never sleep longer: clock changes cannot strand them */
#define NOTIFY_DRAIN_MS 5000

#define CHANGES_KEEPALIVE_MS 15000  /* a comment on every change stream this often */
#define CHANGES_BATCH 500            /* outbox rows read at a time for the streams */
#define CHANGES_REPLAY_MAX 5000      /* a resume further behind than this starts over */

struct attempt;
struct curl_socket;
struct change_sub;
struct robot_pace;

/*
 * A due delivery read from the database but not started yet. The sender
 * reads due rows a window at a time and starts them as the concurrency
 * limits allow, instead of querying for every slot that frees up.
 */
struct queued {
    int64_t id;
    int attempts;              /* made so far */
    char webhook_id[ID_STR_MAX];
    char msg_id[ID_STR_MAX];
    char type[48];
    char *body;                /* owned; moves to the attempt that sends it */
};

/* The enabled endpoints a batch of messages may go to (fanout.c). */
struct fanout_target {
    char id[ID_STR_MAX];
    char *events;              /* owned: patterns joined by ',' */
    char person[ID_STR_MAX];   /* "" = every message */
    int64_t created_at;
    enum webhook_format format;
    /*
     * A group robot hears one 会议提醒 per meeting and offset, not one per
     * attendee: the last reminder (event, occurrence, due) it was given.
     */
    char last_reminder[2 * ID_STR_MAX + 2 * TIME_LOCAL_STR];
};

struct fanout {
    struct notify *n;
    struct fanout_target *targets; /* owned */
    size_t ntargets;
    int64_t now;               /* created_at of the delivery rows */
    struct strbuf body;        /* reused for every body */
    /* What robot templates looked up, kept for the batch: "kind:id" -> name or null. */
    json_t *names;
    json_t *events;            /* event id -> stored document (or null) */
    /*
     * Where a one-tap link goes in a body: a random string of the URL's
     * length, cut out again after rendering (fanout.c). "" when links are
     * off (no --public-url).
     */
    char link_marker[600];
};

struct notify {
    struct app *app;
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t curl_timer;     /* curl's own timeout */
    uv_timer_t sender_timer;     /* next fan-out / due delivery */
    uv_timer_t reminder_timer; /* next due reminder */
    uv_timer_t escalate_timer; /* next unacknowledged trip to escalate */
    uv_timer_t approval_timer; /* next approval to expire */
    uv_timer_t drain_timer;
    struct attempt *in_flight; /* list of running attempts */
    size_t in_flight_count;
    struct attempt *finished;  /* answered, waiting for the sender run to record them */
    size_t finished_count;
    int64_t finished_since_ms; /* when the oldest of them was answered (wall clock) */
    int fanout_due;            /* the outbox may hold messages not fanned out yet */
    /*
     * Due deliveries read ahead (queue[0..queue_len)), oldest first. An
     * attempt's claim on its row lives only here and in in_flight: the row
     * stays pending and due, so a crash means a retry after restart, and
     * no write is needed before an attempt starts.
     */
    struct queued queue[NOTIFY_QUEUE_MAX];
    size_t queue_len;
    int queue_more;            /* the last read filled the window: more rows may be due */
    int queue_stale;           /* rows may have changed (a write, a timer): read again */
    int64_t next_retry_ms;     /* earliest pending row not due yet (0: none)... */
    int next_retry_known;      /* ...when this is set; read again when the queue goes stale */
    struct curl_socket *sockets; /* a uv_poll handle per socket curl has open (sender.c) */
    CURL *easy_pool[NOTIFY_MAX_IN_FLIGHT]; /* idle easy handles, options already set */
    size_t easy_pooled;
    /* One endpoint's row, kept until the queue goes stale (a write may change it). */
    struct webhook_row webhook_cache;
    int webhook_cache_valid;
    /* The change stream (changes.c): its viewers, and the newest outbox row sent on. */
    struct change_sub *subs;
    size_t nsubs;
    int64_t changes_head;      /* -1 until read from the store */
    uv_timer_t keepalive_timer;
    int stopping;
    uint64_t drain_started_us;
    void (*on_drained)(void *arg);
    void *drained_arg;
    /* The pace of each robot URL that was sent to within its window (sender.c). */
    struct robot_pace *paces;
    /* metrics */
    uint64_t delivered, retried, failed, disabled, reminders_sent, reminders_late,
        reminders_dropped;
    uint64_t channel_sent[WEBHOOK_FORMAT_COUNT];  /* attempts started */
    uint64_t channel_refusals[WEBHOOK_FORMAT_COUNT][CHANNEL_REFUSAL_COUNT];
    uint64_t channel_paced[WEBHOOK_FORMAT_COUNT]; /* deliveries moved back to wait their turn */
    uint64_t lateness_buckets[8];
    double lateness_sum;
};

/* fanout.c: outbox -> deliveries, in batches, in its own transaction (or savepoint); 0 or -1. */
int notify_fanout(struct notify *n);
/* Reads the enabled endpoints into f (0, or -1); fanout_close frees them. */
int fanout_open(struct notify *n, struct fanout *f);
void fanout_close(struct fanout *f);
/*
 * Writes the delivery rows of one message to the endpoints in f that want
 * it, in the caller's transaction. created_utc is created_at formatted
 * (NULL: formatted here). payload is the message's data as compact JSON
 * text; data, when the caller has it, the same parsed (else it is parsed
 * only if a person's endpoint needs it). 0, or -1.
 */
int fanout_message(struct fanout *f, const char *msg_id, const char *type, int64_t created_at,
                   const char *created_utc, const char *payload, json_t *data);

/* sender.c: start due deliveries within the concurrency limits; reschedule the sender run. */
void notify_sender_run(struct notify *n);
int notify_sender_init(struct notify *n);
void notify_sender_close(struct notify *n);
/* Forgets the endpoint row the sender keeps (sender.c). */
void webhook_cache_drop(struct notify *n);
/* New deliveries were written (already fanned out): read them and send, on the loop. */
void notify_sender_schedule(struct notify *n);
/* Re-queues every in-flight attempt as pending now and aborts it. */
void notify_requeue_in_flight(struct notify *n);

/*
 * Whether an outbox message concerns person (attendee, driver, passenger,
 * its audience, or named): what a person's endpoint and a leader's or
 * driver's change stream receive (fanout.c).
 */
int fanout_about(json_t *data, const char *person);

/* changes.c: the change streams; their timer starts with notify_start. */
void notify_changes_init(struct notify *n);
/* Sends every outbox row newer than what was sent to the streams that may see it. */
void notify_changes_run(struct notify *n);

/* reminders.c: turn due reminders into messages; reschedule the reminder timer. */
void notify_reminders_run(struct notify *n);
void notify_reminders_schedule(struct notify *n);

/* escalate.c: dispatch.unacknowledged for trips past their ack deadline; reschedule. */
void notify_escalate_run(struct notify *n);
void notify_escalate_schedule(struct notify *n);

/* approvals.c: expire bookings whose approvals were not given in time; reschedule. */
void notify_approvals_run(struct notify *n);
void notify_approvals_schedule(struct notify *n);

#endif
