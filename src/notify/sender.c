/*
 * sender.c - POSTs deliveries with libcurl's multi interface driven by
 * libuv (curl tells us which sockets to watch and when to time out; we
 * tell curl when they are ready). Curl is never called from inside its
 * own callbacks: socket and timer callbacks only arm uv handles.
 *
 * A delivery stays 'pending' in the database while in flight, with its
 * next attempt pushed NOTIFY_LEASE_S ahead: a crash mid-attempt means a
 * retry after restart (at least once), never a lost message.
 */
#include "notify_internal.h"

#include "convene/netaddr.h"
#include "convene/signature.h"
#include "convene/store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/*
 * last_error of a delivery whose attempt is in flight (the lease). A new
 * process has nothing in flight, so at start every such lease is stale and
 * released at once: without that, a kill -9 mid-attempt delayed the retry
 * by the whole lease (60 s) after the restart.
 */
#define LEASE_MARK "attempt in flight"

/* The wall clock in milliseconds (timers need sub-second precision). */
static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define RESPONSE_BODY_MAX 4096 /* we read a little of the answer, for the log */

struct attempt {
    struct notify *n;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    int64_t delivery_id;
    char webhook_id[ID_STR_MAX];
    char msg_id[ID_STR_MAX];
    char type[48];
    int attempts;           /* including this one */
    size_t received;
    /* The outcome, kept from the finish until the next pump records it. */
    CURLcode result;
    long status;
    long retry_after;
    struct attempt *next;
};

struct curl_socket {
    uv_poll_t poll;
    curl_socket_t fd;
    struct notify *n;
};

static void attempt_free(struct attempt *a)
{
    curl_slist_free_all(a->headers);
    free(a->body);
    free(a);
}

static void unlink_attempt(struct notify *n, struct attempt *a)
{
    for (struct attempt **p = &n->in_flight; *p != NULL; p = &(*p)->next) {
        if (*p == a) {
            *p = a->next;
            n->in_flight_count--;
            return;
        }
    }
}

/* A timed wake-up: also fans out what other processes may have queued meanwhile. */
static void on_pump_timer(uv_timer_t *timer)
{
    struct notify *n = timer->data;

    n->fanout_due = 1;
    notify_pump(n);
}

/* After attempts finished: record them and start more; no new outbox messages to fan out. */
static void on_finished_timer(uv_timer_t *timer)
{
    notify_pump(timer->data);
}

/* ---------- what to do with an answer ---------- */

static int64_t retry_delay(struct notify *n, int attempts, long retry_after)
{
    const struct config *cfg = &n->app->cfg;
    int64_t base = cfg->retry_schedule[(size_t)attempts - 1 < cfg->retry_count
                                           ? (size_t)attempts - 1
                                           : cfg->retry_count - 1];
    /* +-10% jitter spreads retries of many deliveries that failed together. */
    int64_t jitter = base / 10 > 0 ? (int64_t)(random() % (2 * (base / 10) + 1)) - base / 10 : 0;
    int64_t delay = base + jitter;

    if (retry_after > delay && retry_after < 86400)
        delay = retry_after;
    return delay;
}

/* Disables an endpoint and tells the admins' endpoints why. */
static void disable_webhook(struct notify *n, struct webhook_row *w, const char *reason)
{
    struct store *st = n->app->store;
    json_t *data;
    char *payload;

    w->enabled = 0;
    snprintf(w->disabled_reason, sizeof(w->disabled_reason), "%s", reason);
    w->updated_at = clock_wall_s();
    w->version++;
    data = json_pack("{s:s, s:s, s:s}", "webhook", w->id, "url", w->url, "reason", reason);
    payload = json_dumps(data, JSON_COMPACT);
    if (store_webhook_update(st, w) != STORE_OK ||
        store_outbox_append(st, "webhook.disabled", payload, NULL) != STORE_OK)
        log_error("webhook %s: could not record that it is disabled", w->id);
    free(payload);
    json_decref(data);
    n->disabled++;
    n->fanout_due = 1; /* the webhook.disabled message */
    log_info("webhook %s disabled: %s", w->id, reason);
}

/*
 * The endpoint's row, read once per pump however many of its attempts the
 * pump records or starts (a burst to one endpoint read it twice per
 * delivery). Changes made through the pointer are written by the caller;
 * webhook_cache_drop() forgets it at the end of the pump, or when a write
 * that changed it was rolled back. NULL when the endpoint is gone.
 */
static struct webhook_row *webhook_cached(struct notify *n, const char *webhook_id)
{
    if (n->webhook_cache_valid && strcmp(n->webhook_cache.id, webhook_id) == 0)
        return &n->webhook_cache;
    webhook_cache_drop(n);
    if (store_webhook_get(n->app->store, webhook_id, &n->webhook_cache) != STORE_OK) {
        webhook_cache_drop(n);
        return NULL;
    }
    n->webhook_cache_valid = 1;
    return &n->webhook_cache;
}

void webhook_cache_drop(struct notify *n)
{
    store_webhook_row_clear(&n->webhook_cache);
    memset(&n->webhook_cache, 0, sizeof(n->webhook_cache));
    n->webhook_cache_valid = 0;
}

static void record_result(struct notify *n, struct attempt *a, CURLcode result, long status,
                          long retry_after)
{
    struct store *st = n->app->store;
    struct webhook_row *w;
    int64_t now = clock_wall_s();
    const char *outcome;
    char error[256] = "";

    if (result != CURLE_OK)
        snprintf(error, sizeof(error), "%s", curl_easy_strerror(result));
    if (store_begin_derived(st) != STORE_OK)
        return; /* the lease makes it pending again later */
    w = webhook_cached(n, a->webhook_id);
    int found = w != NULL;
    if (result == CURLE_OK && status >= 200 && status < 300) {
        outcome = "delivered";
        store_delivery_update(st, a->delivery_id, "delivered", a->attempts, (int)status, NULL,
                              now, now);
        if (found && w->failing_since != 0) {
            w->failing_since = 0;
            store_webhook_update(st, w);
        }
        n->delivered++;
    } else if (result == CURLE_OK && status == 410) {
        outcome = "gone";
        store_delivery_update(st, a->delivery_id, "failed", a->attempts, (int)status,
                              "410 Gone: endpoint disabled", now, now);
        if (found)
            disable_webhook(n, w, "the endpoint answered 410 Gone");
        n->failed++;
    } else {
        int last = (size_t)a->attempts > n->app->cfg.retry_count;
        outcome = last ? "failed" : "retry";
        store_delivery_update(st, a->delivery_id, last ? "failed" : "pending", a->attempts,
                              result == CURLE_OK ? (int)status : 0, error[0] ? error : NULL,
                              /*
                               * From the current second rounded up: next_attempt is
                               * whole seconds, and rounding down let a retry (or a
                               * Retry-After: 3) go out up to a second early.
                               */
                              last ? now
                                   : (wall_ms() + 999) / 1000 +
                                         retry_delay(n, a->attempts, retry_after),
                              now);
        if (found && w->failing_since == 0) {
            w->failing_since = now;
            store_webhook_update(st, w);
        } else if (found && w->enabled && now - w->failing_since >= n->app->cfg.disable_after_s) {
            disable_webhook(n, w, "every attempt failed for longer than --disable-after");
        }
        if (last)
            n->failed++;
        else
            n->retried++;
    }
    if (store_commit(st) != STORE_OK) {
        store_rollback(st);
        webhook_cache_drop(n); /* it may hold a change that was just undone */
    }
    store_durability_restore(st);
    log_info("webhook %s %s %s attempt %d: %s (HTTP %ld%s%s)", a->webhook_id, a->type, a->msg_id,
             a->attempts, outcome, status, error[0] ? ", " : "", error);
}

/*
 * Records every finished attempt in the caller's transaction (a savepoint
 * each, so one failure loses only its own row: its lease retries it).
 */
static void record_finished(struct notify *n)
{
    webhook_cache_drop(n);
    while (n->finished != NULL) {
        struct attempt *a = n->finished;

        n->finished = a->next;
        record_result(n, a, a->result, a->status, a->retry_after);
        attempt_free(a);
    }
}

static void check_finished(struct notify *n)
{
    CURLMsg *msg;
    int pending, any = 0;

    while ((msg = curl_multi_info_read(n->multi, &pending)) != NULL) {
        struct attempt *a;
        curl_off_t retry_after = 0;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&a);
        a->status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &a->status);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RETRY_AFTER, &retry_after);
        a->retry_after = (long)retry_after;
        a->result = msg->data.result;
        curl_multi_remove_handle(n->multi, a->easy);
        curl_easy_cleanup(a->easy);
        a->easy = NULL;
        unlink_attempt(n, a);
        a->next = n->finished;
        n->finished = a;
        any = 1;
    }
    if (!any)
        return;
    /*
     * Not recorded here: the pump, once per loop iteration, records every
     * attempt that finished in it and starts the next ones in a single
     * transaction (one commit per burst of answers instead of one per
     * answer). During shutdown there is no pump: record them now.
     */
    if (n->stopping) {
        if (store_begin_derived(n->app->store) == STORE_OK) {
            record_finished(n);
            if (store_commit(n->app->store) != STORE_OK)
                store_rollback(n->app->store);
            store_durability_restore(n->app->store);
            webhook_cache_drop(n);
        }
        return;
    }
    uv_timer_start(&n->pump_timer, on_finished_timer, 0, 0);
}

/* ---------- curl <-> libuv ---------- */

static void on_poll(uv_poll_t *poll, int status, int events)
{
    struct curl_socket *cs = poll->data;
    int flags = 0, running;

    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(cs->n->multi, cs->fd, flags, &running);
    check_finished(cs->n);
}

static void on_curl_timeout(uv_timer_t *timer)
{
    struct notify *n = timer->data;
    int running;

    curl_multi_socket_action(n->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_finished(n);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct notify *n = userp;

    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&n->curl_timer);
    else
        uv_timer_start(&n->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

static void on_poll_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
    struct notify *n = userp;
    struct curl_socket *cs = socketp;
    int events = 0;

    (void)easy;
    if (action == CURL_POLL_REMOVE) {
        if (cs != NULL) {
            uv_poll_stop(&cs->poll);
            uv_close((uv_handle_t *)&cs->poll, on_poll_closed);
            curl_multi_assign(n->multi, fd, NULL);
        }
        return 0;
    }
    if (cs == NULL) {
        cs = xcalloc(1, sizeof(*cs));
        cs->fd = fd;
        cs->n = n;
        uv_poll_init_socket(n->loop, &cs->poll, fd);
        cs->poll.data = cs;
        curl_multi_assign(n->multi, fd, cs);
    }
    if (action != CURL_POLL_OUT)
        events |= UV_READABLE;
    if (action != CURL_POLL_IN)
        events |= UV_WRITABLE;
    uv_poll_start(&cs->poll, events, on_poll);
    return 0;
}

/* The SSRF guard at connect time: whatever DNS said, no private address unless allowed. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *address)
{
    struct notify *n = clientp;

    (void)purpose;
    if (!n->app->cfg.allow_private_webhooks && !netaddr_is_public(&address->addr)) {
        log_error("webhook: refused to connect to a private address (SSRF guard)");
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct attempt *a = userp;

    (void)data;
    a->received += size * nmemb;
    /* A receiver that streams forever is cut off; the answer's status is what counts. */
    return a->received > RESPONSE_BODY_MAX ? 0 : size * nmemb;
}

/* ---------- starting attempts ---------- */


static void add_header(struct attempt *a, const char *name, const char *value)
{
    char line[512];

    snprintf(line, sizeof(line), "%s: %s", name, value);
    a->headers = curl_slist_append(a->headers, line);
}

static int start_attempt(struct notify *n, const struct delivery_row *d, const struct webhook_row *w)
{
    struct attempt *a = xcalloc(1, sizeof(*a));
    int64_t now = clock_wall_s();
    char stamp[24], sig[SIGNATURE_MAX], sigs[2 * SIGNATURE_MAX + 2];

    a->n = n;
    a->delivery_id = d->id;
    a->attempts = d->attempts + 1;
    snprintf(a->webhook_id, sizeof(a->webhook_id), "%s", d->webhook_id);
    snprintf(a->msg_id, sizeof(a->msg_id), "%s", d->msg_id);
    snprintf(a->type, sizeof(a->type), "%s", d->type);
    a->body = xstrdup(d->body);
    snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
    if (signature_sign(w->secret, d->msg_id, now, a->body, strlen(a->body), sig) != 0) {
        attempt_free(a);
        return -1;
    }
    snprintf(sigs, sizeof(sigs), "%s", sig);
    /* During a rotation both signatures go out, space-separated, as the spec allows. */
    if (w->old_secret[0] != '\0' && w->old_secret_until > now &&
        signature_sign(w->old_secret, d->msg_id, now, a->body, strlen(a->body), sig) == 0)
        snprintf(sigs + strlen(sigs), sizeof(sigs) - strlen(sigs), " %s", sig);
    add_header(a, "Content-Type", "application/json");
    add_header(a, "webhook-id", d->msg_id);
    add_header(a, "webhook-timestamp", stamp);
    add_header(a, "webhook-signature", sigs);
    add_header(a, "User-Agent", "convene-webhooks/1");
    add_header(a, "Expect", "");

    a->easy = curl_easy_init();
    if (a->easy == NULL) {
        attempt_free(a);
        return -1;
    }
    curl_easy_setopt(a->easy, CURLOPT_URL, w->url);
    curl_easy_setopt(a->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(a->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(a->easy, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl_easy_setopt(a->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(a->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)NOTIFY_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(a->easy, CURLOPT_TIMEOUT_MS, (long)NOTIFY_TOTAL_TIMEOUT_MS);
    curl_easy_setopt(a->easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(a->easy, CURLOPT_OPENSOCKETDATA, n);
    curl_easy_setopt(a->easy, CURLOPT_HTTPHEADER, a->headers);
    curl_easy_setopt(a->easy, CURLOPT_POSTFIELDS, a->body);
    curl_easy_setopt(a->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(a->body));
    curl_easy_setopt(a->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(a->easy, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(a->easy, CURLOPT_PRIVATE, a);
    a->next = n->in_flight;
    n->in_flight = a;
    n->in_flight_count++;
    curl_multi_add_handle(n->multi, a->easy);
    return 0;
}

/* Attempts in flight towards one endpoint, counted once per pump. */
struct endpoint_load {
    char webhook_id[ID_STR_MAX];
    int count;
};

struct due_ctx {
    struct notify *n;
    int64_t now;
    size_t started;
    /* Every endpoint with an attempt in flight has one (so at most NOTIFY_MAX_IN_FLIGHT). */
    struct endpoint_load loads[NOTIFY_MAX_IN_FLIGHT];
    size_t nloads;
    size_t full;    /* endpoints at NOTIFY_MAX_PER_ENDPOINT */
    long enabled;   /* enabled endpoints; -1 until needed */
};

static struct endpoint_load *load_of(struct due_ctx *ctx, const char *webhook_id, int add)
{
    for (size_t i = 0; i < ctx->nloads; i++)
        if (strcmp(ctx->loads[i].webhook_id, webhook_id) == 0)
            return &ctx->loads[i];
    if (!add || ctx->nloads == NOTIFY_MAX_IN_FLIGHT)
        return NULL;
    struct endpoint_load *l = &ctx->loads[ctx->nloads++];
    snprintf(l->webhook_id, sizeof(l->webhook_id), "%s", webhook_id);
    l->count = 0;
    return l;
}

static void count_load(struct due_ctx *ctx, const char *webhook_id)
{
    struct endpoint_load *l = load_of(ctx, webhook_id, 1);

    if (l != NULL && ++l->count == NOTIFY_MAX_PER_ENDPOINT)
        ctx->full++;
}

static int count_enabled(const struct webhook_row *w, void *arg)
{
    (void)w;
    (*(long *)arg)++;
    return 0;
}

static int start_due(const struct delivery_row *d, void *arg)
{
    struct due_ctx *ctx = arg;
    struct notify *n = ctx->n;
    struct endpoint_load *l = load_of(ctx, d->webhook_id, 0);
    const struct webhook_row *w;

    if (n->in_flight_count >= NOTIFY_MAX_IN_FLIGHT)
        return 1;
    if (l != NULL && l->count >= NOTIFY_MAX_PER_ENDPOINT) {
        /*
         * Once every enabled endpoint is at its limit the rest of the due
         * rows cannot start either: stop reading them. In a burst towards
         * one endpoint each finish frees one slot, and reading the whole
         * window of due rows for it cost more than the attempt itself.
         */
        if (ctx->enabled < 0) {
            ctx->enabled = 0;
            if (store_webhook_list(n->app->store, 1, count_enabled, &ctx->enabled) != STORE_OK)
                ctx->enabled = NOTIFY_MAX_IN_FLIGHT + 1; /* unknown: never stop early */
        }
        return (long)ctx->full >= ctx->enabled ? 1 : 0;
    }
    if ((w = webhook_cached(n, d->webhook_id)) != NULL) {
        /* Take the lease before the attempt starts: a crash now means a retry, not a loss. */
        if (store_delivery_update(n->app->store, d->id, "pending", d->attempts, d->last_status,
                                  LEASE_MARK, ctx->now + NOTIFY_LEASE_S, ctx->now) == STORE_OK &&
            start_attempt(n, d, w) == 0) {
            ctx->started++;
            count_load(ctx, d->webhook_id);
        }
    }
    return 0;
}

void notify_pump(struct notify *n)
{
    struct store *st = n->app->store;
    /*
     * Not clock_wall_s(): time() reads a coarse clock that can still show the
     * previous second when the timer fires at next_attempt's millisecond, and
     * then the delivery waited another full second.
     */
    struct due_ctx ctx;
    int64_t next = 0;
    int fanout_failed = 0;

    if (n->stopping)
        return;
    memset(&ctx, 0, sizeof(ctx));
    ctx.n = n;
    ctx.now = wall_ms() / 1000;
    ctx.enabled = -1;
    for (struct attempt *a = n->in_flight; a != NULL; a = a->next)
        count_load(&ctx, a->webhook_id);
    /*
     * Only when something may have been queued: a kick (a change, a reminder),
     * a timed wake-up, or an endpoint disabled here. Not after each answer.
     */
    if (n->fanout_due) {
        n->fanout_due = 0;
        if (notify_fanout(n) != 0) {
            n->fanout_due = fanout_failed = 1;
            log_error("webhooks: fan-out failed; will retry");
        }
    }
    /* Answers that came in since the last pump and the attempts they make room for: one commit. */
    if ((n->finished != NULL || n->in_flight_count < NOTIFY_MAX_IN_FLIGHT) &&
        store_begin_derived(st) == STORE_OK) {
        int recorded = n->finished != NULL;
        record_finished(n);
        if ((n->in_flight_count < NOTIFY_MAX_IN_FLIGHT &&
             store_deliveries_due(st, ctx.now, NOTIFY_MAX_IN_FLIGHT * 4, start_due, &ctx) !=
                 STORE_OK) ||
            (ctx.started > 0 || recorded ? store_commit(st) : (store_rollback(st), STORE_OK)) !=
                STORE_OK)
            store_rollback(st);
        store_durability_restore(st);
    }
    webhook_cache_drop(n); /* API calls may change endpoints before the next pump */
    /* Sleep until the next due delivery, but never long: a kick or a finish wakes us sooner. */
    uint64_t sleep_ms = NOTIFY_MAX_SLEEP_MS;
    if (store_deliveries_next_due(st, &next) == STORE_OK && next > 0) {
        /* In milliseconds: whole seconds woke us up to a second after the due time. */
        int64_t wait = next * 1000 - wall_ms();
        if (wait < (int64_t)sleep_ms)
            sleep_ms = wait > 0 ? (uint64_t)wait : 1000;
    }
    /* An endpoint disabled just now queued webhook.disabled: fan it out at once. */
    if (n->fanout_due && !fanout_failed)
        sleep_ms = 0;
    uv_timer_start(&n->pump_timer, on_pump_timer,
                   sleep_ms, 0);
}

void notify_requeue_in_flight(struct notify *n)
{
    struct store *st = n->app->store;
    int64_t now = clock_wall_s();

    if ((n->in_flight == NULL && n->finished == NULL) || store_begin(st) != STORE_OK)
        return;
    record_finished(n);
    webhook_cache_drop(n);
    while (n->in_flight != NULL) {
        struct attempt *a = n->in_flight;
        store_delivery_update(st, a->delivery_id, "pending", a->attempts - 1, 0,
                              "interrupted by shutdown", now, now);
        curl_multi_remove_handle(n->multi, a->easy);
        curl_easy_cleanup(a->easy);
        unlink_attempt(n, a);
        attempt_free(a);
    }
    if (store_commit(st) != STORE_OK)
        store_rollback(st);
}

int notify_sender_init(struct notify *n)
{
    n->multi = curl_multi_init();
    if (n->multi == NULL)
        return -1;
    curl_multi_setopt(n->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(n->multi, CURLMOPT_SOCKETDATA, n);
    curl_multi_setopt(n->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(n->multi, CURLMOPT_TIMERDATA, n);
    /*
     * Keep a connection per possible attempt: by default curl keeps 4 per
     * easy handle in the multi, and as handles come and go (one per attempt)
     * it closed idle keep-alive connections only to open new ones (673
     * connects for 10,000 deliveries to one endpoint in the benchmark).
     */
    curl_multi_setopt(n->multi, CURLMOPT_MAXCONNECTS, (long)NOTIFY_MAX_IN_FLIGHT);
    uv_timer_init(n->loop, &n->curl_timer);
    n->curl_timer.data = n;
    /* Nothing is in flight yet: leases left by a process that died are stale. */
    if (store_deliveries_release_leases(n->app->store, LEASE_MARK, clock_wall_s()) != STORE_OK)
        log_error("webhooks: could not release the leases of a previous run; they expire in %d s",
                  NOTIFY_LEASE_S);
    return 0;
}

void notify_sender_close(struct notify *n)
{
    notify_requeue_in_flight(n);
    webhook_cache_drop(n);
    if (n->multi != NULL)
        curl_multi_cleanup(n->multi);
    n->multi = NULL;
}
