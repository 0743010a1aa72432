/*
 * sender.c - POSTs deliveries with libcurl's multi interface driven by
 * libuv (curl tells us which sockets to watch and when to time out; we
 * tell curl when they are ready). Curl is never called from inside its
 * own callbacks: socket and timer callbacks only arm uv handles.
 *
 * A delivery stays 'pending' and due in the database while in flight;
 * only this process knows it is taken (it is in n->in_flight, and the
 * sender never reads a row it has in flight). A crash mid-attempt means a
 * retry after restart (at least once), never a lost message, and starting
 * an attempt writes nothing: the one write per attempt records its answer.
 * Due rows are read a window at a time (n->queue) and started as the
 * concurrency limits allow; any write or timed wake-up makes the window
 * stale, so it is read again before the next start.
 */
#include "notify_internal.h"

#include "convene/channels.h"
#include "convene/netaddr.h"
#include "convene/signature.h"
#include "convene/store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * last_error of a delivery whose attempt was in flight when a version that
 * wrote leases into the row (schema 5 and before) stopped: such a lease
 * pushed next_attempt 60 s ahead, so it is released at start.
 */
#define LEASE_MARK "attempt in flight"

/* The wall clock in milliseconds (timers need sub-second precision). */
static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The current millisecond rounded up. An answer's time is where a retry's
 * "not before" delay starts: rounded down, a Retry-After of 2 s was kept
 * 1.9999 s after the receiver's answer (seen in CI).
 */
static int64_t wall_ms_ceil(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + (ts.tv_nsec + 999999) / 1000000;
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
    enum webhook_format format;
    size_t received;
    char *answer;           /* a robot's answer (its errcode decides), owned; NULL otherwise */
    /* The outcome, kept from the finish until a sender run records it. */
    CURLcode result;
    long status;
    long retry_after;
    int64_t finished_ms;    /* wall clock at the answer: retries count from here */
    struct attempt *next;
};

/*
 * The uv_poll handle of one socket curl opened, from its opening to its
 * closing (on_close_socket). Curl stops watching a kept-alive connection
 * after every transfer and watches it again, for reading, for the next
 * one. The handle is kept, and kept reading while curl does not watch the
 * socket: an event then (the server closed it, say) only stops it. So a
 * burst over kept-alive connections makes no uv_poll_init, close or
 * epoll_ctl per transfer (libuv re-registers a descriptor with the kernel
 * at every uv_poll_start and stop, even with the same events).
 */
struct curl_socket {
    uv_poll_t poll;
    curl_socket_t fd;
    struct notify *n;
    int events;               /* UV_READABLE/UV_WRITABLE the handle is started with, 0: stopped */
    int watched;              /* curl watches the socket (between its action and CURL_POLL_REMOVE) */
    int initialized;          /* poll is initialized (so it must be closed) */
    /*
     * Opened by on_open_socket, so on_close_socket is told when it closes,
     * and kept in n->sockets until then. Curl's other descriptors (the
     * threaded resolver's pipe) are closed without telling us: their
     * handles are closed at CURL_POLL_REMOVE, as a descriptor number may
     * come back as another socket.
     */
    int kept;
    struct curl_socket *next; /* n->sockets */
};

static void attempt_free(struct attempt *a)
{
    curl_slist_free_all(a->headers);
    free(a->body);
    free(a->answer);
    free(a);
}

/*
 * Gives an easy handle back after its transfer was removed from the multi:
 * kept for the next attempt (its fixed options stay set), or cleaned up.
 */
static void easy_release(struct notify *n, CURL *easy)
{
    if (easy == NULL)
        return;
    if (n->easy_pooled < NOTIFY_MAX_IN_FLIGHT && !n->stopping)
        n->easy_pool[n->easy_pooled++] = easy;
    else
        curl_easy_cleanup(easy);
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

/* A timed wake-up: retries may be due; also fans out what may have been queued meanwhile. */
static void on_sender_due(uv_timer_t *timer)
{
    struct notify *n = timer->data;

    n->fanout_due = 1;
    n->queue_stale = 1;
    notify_sender_run(n);
}

static void on_sender_scheduled(uv_timer_t *timer)
{
    notify_sender_run(timer->data);
}

void notify_sender_schedule(struct notify *n)
{
    if (n == NULL || n->stopping)
        return;
    n->queue_stale = 1;
    uv_timer_start(&n->sender_timer, on_sender_scheduled, 0, 0);
}

/* After attempts finished: record them and start more; no new outbox messages to fan out. */
static void on_finished_timer(uv_timer_t *timer)
{
    notify_sender_run(timer->data);
}

/* ---------- what to do with an answer ---------- */

/* Milliseconds until the next attempt of a delivery that has had `attempts`. */
static int64_t retry_delay_ms(struct notify *n, int attempts, long retry_after)
{
    const struct config *cfg = &n->app->cfg;
    int64_t base = 1000 * (int64_t)cfg->retry_schedule[(size_t)attempts - 1 < cfg->retry_count
                                                           ? (size_t)attempts - 1
                                                           : cfg->retry_count - 1];
    /*
     * Up to 10% later spreads the retries of many deliveries that failed
     * together; never earlier, so the schedule is a lower bound.
     */
    int64_t jitter = base / 10 > 0 ? (int64_t)(random() % (base / 10 + 1)) : 0;
    int64_t delay = base + jitter;

    if (retry_after > 0 && retry_after < 86400 && 1000 * (int64_t)retry_after > delay)
        delay = 1000 * (int64_t)retry_after;
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
    n->fanout_due = 1;   /* the webhook.disabled message */
    n->queue_stale = 1;  /* read ahead while the endpoint was enabled */
    log_info("webhook %s disabled: %s", w->id, reason);
}

/*
 * The endpoint's row, read once however many of its attempts are recorded
 * or started (a burst to one endpoint read it twice per delivery). Changes
 * made through the pointer are written by the caller; webhook_cache_drop()
 * forgets it when the queue goes stale (any API write schedules us, so a
 * changed secret or URL is read again), or when a write that changed it
 * was rolled back. NULL when the endpoint is gone.
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

/*
 * The verdict on an answer (core/channels.c): Standard Webhooks want a 2xx,
 * robots HTTP 200 with errcode 0 in a JSON body. A robot's refusal is
 * written into error ("errcode 45009: api freq out of limit").
 */
static enum channel_refusal judge(const struct attempt *a, CURLcode result, long status,
                                  char *error, size_t cap)
{
    json_t *answer = NULL, *code = NULL;
    enum channel_refusal verdict;

    if (a->answer != NULL && result == CURLE_OK &&
        (answer = json_loads(a->answer, JSON_DISABLE_EOF_CHECK, NULL)) != NULL)
        code = json_object_get(answer, "errcode");
    verdict = channel_judge(a->format, result == CURLE_OK, status, json_is_integer(code),
                            (long)json_integer_value(code));
    if (verdict != CHANNEL_OK && json_is_integer(code) && error[0] == '\0') {
        const char *msg = json_string_value(json_object_get(answer, "errmsg"));
        snprintf(error, cap, "errcode %lld: %.200s", (long long)json_integer_value(code),
                 msg ? msg : "");
    } else if (verdict == CHANNEL_HTTP_STATUS && a->answer != NULL && status == 200 &&
               error[0] == '\0') {
        snprintf(error, cap, "the robot's answer has no errcode");
    }
    json_decref(answer);
    return verdict;
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
    if (store_begin_derived(st) != STORE_OK) {
        n->queue_stale = 1; /* the row is still pending and due: it is read again */
        return;
    }
    w = webhook_cached(n, a->webhook_id);
    int found = w != NULL;
    enum channel_refusal verdict = judge(a, result, status, error, sizeof(error));
    if (verdict != CHANNEL_OK && verdict != CHANNEL_NO_ANSWER)
        n->channel_refusals[a->format][verdict]++;
    if (verdict == CHANNEL_OK) {
        outcome = "delivered";
        store_delivery_update(st, a->delivery_id, "delivered", a->attempts, (int)status, NULL,
                              now * 1000, now);
        if (found && w->failing_since != 0) {
            w->failing_since = 0;
            store_webhook_update(st, w);
        }
        n->delivered++;
    } else if (result == CURLE_OK && status == 410) {
        outcome = "gone";
        store_delivery_update(st, a->delivery_id, "failed", a->attempts, (int)status,
                              "410 Gone: endpoint disabled", now * 1000, now);
        if (found)
            disable_webhook(n, w, "the endpoint answered 410 Gone");
        n->failed++;
    } else {
        int last = (size_t)a->attempts > n->app->cfg.retry_count;
        int64_t retry_ms = a->finished_ms + retry_delay_ms(n, a->attempts, retry_after);
        outcome = last ? "failed" : "retry";
        if (!last && n->next_retry_known && (n->next_retry_ms == 0 || retry_ms < n->next_retry_ms))
            n->next_retry_ms = retry_ms;
        store_delivery_update(st, a->delivery_id, last ? "failed" : "pending", a->attempts,
                              result == CURLE_OK ? (int)status : 0, error[0] ? error : NULL,
                              last ? now * 1000 : retry_ms, now);
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
        n->queue_stale = 1;
    }
    store_durability_restore(st);
    log_info("webhook %s %s %s attempt %d: %s (HTTP %ld%s%s)", a->webhook_id, a->type, a->msg_id,
             a->attempts, outcome, status, error[0] ? ", " : "", error);
}

/*
 * Records every finished attempt in the caller's transaction (a savepoint
 * each, so one failure loses only its own row, which stays pending and due
 * and is sent again).
 */
static void record_finished(struct notify *n)
{
    while (n->finished != NULL) {
        struct attempt *a = n->finished;

        n->finished = a->next;
        record_result(n, a, a->result, a->status, a->retry_after);
        attempt_free(a);
    }
    n->finished_count = 0;
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
        a->finished_ms = wall_ms_ceil();
        curl_multi_remove_handle(n->multi, a->easy);
        easy_release(n, a->easy);
        a->easy = NULL;
        unlink_attempt(n, a);
        if (n->finished == NULL)
            n->finished_since_ms = a->finished_ms;
        a->next = n->finished;
        n->finished = a;
        n->finished_count++;
        any = 1;
    }
    if (!any)
        return;
    /*
     * Not recorded here: the sender run starts the next attempts at once and
     * records answers in batches (NOTIFY_RECORD_BATCH, or after
     * NOTIFY_RECORD_DELAY_MS), one commit each. During shutdown there is
     * no sender run: record them now.
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
    uv_timer_start(&n->sender_timer, on_finished_timer, 0, 0);
}

/* ---------- curl <-> libuv ---------- */

static void on_poll(uv_poll_t *poll, int status, int events)
{
    struct curl_socket *cs = poll->data;
    int flags = 0, running;

    if (!cs->watched) {
        /* Idle between transfers and something happened: curl looks when it uses it again. */
        uv_poll_stop(&cs->poll);
        cs->events = 0;
        return;
    }

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

/* The handle kept for fd, unlinked from n->sockets when unlink is set; NULL if none. */
static struct curl_socket *socket_find(struct notify *n, curl_socket_t fd, int unlink)
{
    for (struct curl_socket **p = &n->sockets; *p != NULL; p = &(*p)->next) {
        struct curl_socket *cs = *p;
        if (cs->fd != fd)
            continue;
        if (unlink)
            *p = cs->next;
        return cs;
    }
    return NULL;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
    struct notify *n = userp;
    struct curl_socket *cs = socketp;
    int events = 0;

    (void)easy;
    if (action == CURL_POLL_REMOVE) {
        if (cs == NULL)
            return 0;
        curl_multi_assign(n->multi, fd, NULL);
        cs->watched = 0;
        if (!cs->kept) {
            uv_close((uv_handle_t *)&cs->poll, on_poll_closed);
        } else if (cs->events & UV_WRITABLE) {
            /*
             * A kept-alive connection is watched again for its next transfer.
             * A handle waiting to write is stopped (an idle socket is
             * writable at once); one waiting to read stays as it is.
             */
            uv_poll_stop(&cs->poll);
            cs->events = 0;
        }
        return 0;
    }
    if (cs == NULL) {
        if ((cs = socket_find(n, fd, 0)) == NULL) {
            cs = xcalloc(1, sizeof(*cs));
            cs->fd = fd;
            cs->n = n;
        }
        if (!cs->initialized) {
            if (uv_poll_init_socket(n->loop, &cs->poll, fd) != 0) {
                if (!cs->kept)
                    free(cs);
                return -1;
            }
            cs->poll.data = cs;
            cs->initialized = 1;
        }
        curl_multi_assign(n->multi, fd, cs);
    }
    if (action != CURL_POLL_OUT)
        events |= UV_READABLE;
    if (action != CURL_POLL_IN)
        events |= UV_WRITABLE;
    cs->watched = 1;
    if (events != cs->events) {
        uv_poll_start(&cs->poll, events, on_poll);
        cs->events = events;
    }
    return 0;
}

/*
 * Curl closes a socket it opened: its handle goes first (libuv wants a
 * poll handle closed before its descriptor).
 */
static int on_close_socket(void *clientp, curl_socket_t fd)
{
    struct notify *n = clientp;
    struct curl_socket *cs = socket_find(n, fd, 1);

    if (cs != NULL && cs->initialized)
        uv_close((uv_handle_t *)&cs->poll, on_poll_closed);
    else
        free(cs);
    return close(fd);
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
    curl_socket_t fd = socket(address->family, address->socktype, address->protocol);
    if (fd != CURL_SOCKET_BAD) {
        struct curl_socket *cs = xcalloc(1, sizeof(*cs));
        cs->fd = fd;
        cs->n = n;
        cs->kept = 1;
        cs->next = n->sockets;
        n->sockets = cs;
    }
    return fd;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct attempt *a = userp;

    if (a->answer != NULL && a->received < RESPONSE_BODY_MAX) {
        size_t n = size * nmemb < RESPONSE_BODY_MAX - a->received ? size * nmemb
                                                                  : RESPONSE_BODY_MAX - a->received;
        memcpy(a->answer + a->received, data, n);
        a->answer[a->received + n] = '\0';
    }
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

/* An easy handle with the options every attempt shares; NULL if curl cannot make one. */
static CURL *easy_acquire(struct notify *n)
{
    CURL *easy;

    if (n->easy_pooled > 0)
        return n->easy_pool[--n->easy_pooled];
    if ((easy = curl_easy_init()) == NULL)
        return NULL;
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)NOTIFY_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)NOTIFY_TOTAL_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, n);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, n);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    return easy;
}

/*
 * The Standard Webhooks headers of an attempt: its id, time and signature
 * (two during a secret's rotation). 0, or -1 if the secret is malformed.
 */
static int sign_standard(struct attempt *a, const struct webhook_row *w, const char *body,
                         size_t len)
{
    int64_t now = clock_wall_s();
    char stamp[24], sig[SIGNATURE_MAX], sigs[2 * SIGNATURE_MAX + 2];

    snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
    if (signature_sign(w->secret, a->msg_id, now, body, len, sig) != 0)
        return -1;
    snprintf(sigs, sizeof(sigs), "%s", sig);
    /* During a rotation both signatures go out, space-separated, as the spec allows. */
    if (w->old_secret[0] != '\0' && w->old_secret_until > now &&
        signature_sign(w->old_secret, a->msg_id, now, body, len, sig) == 0)
        snprintf(sigs + strlen(sigs), sizeof(sigs) - strlen(sigs), " %s", sig);
    add_header(a, "Content-Type", "application/json");
    add_header(a, "webhook-id", a->msg_id);
    add_header(a, "webhook-timestamp", stamp);
    add_header(a, "webhook-signature", sigs);
    return 0;
}

/*
 * The URL a robot is posted at: as registered, plus DingTalk's 加签 query
 * (timestamp and sign, made now: DingTalk refuses a timestamp more than an
 * hour old, so a retry signs again). 0, or -1.
 */
static int robot_url(const struct webhook_row *w, char *out, size_t cap)
{
    char query[CHANNEL_SIGN_QUERY_MAX];
    int len;

    if (w->format != WEBHOOK_DINGTALK || w->secret[0] == '\0') {
        len = snprintf(out, cap, "%s", w->url);
    } else {
        if (channel_dingtalk_sign(w->secret, wall_ms(), query, sizeof(query)) != 0)
            return -1;
        len = snprintf(out, cap, "%s%s%s", w->url, strchr(w->url, '?') ? "&" : "?", query);
    }
    return len < 0 || (size_t)len >= cap ? -1 : 0;
}

/*
 * Starts one attempt of q towards w. The body moves from q to the attempt
 * (owned by n->in_flight until it finishes). 0, or -1 (q keeps its body).
 */
static int start_attempt(struct notify *n, struct queued *q, const struct webhook_row *w)
{
    struct attempt *a = xcalloc(1, sizeof(*a));
    size_t len = strlen(q->body);
    char url[2048 + CHANNEL_SIGN_QUERY_MAX + 2];

    a->n = n;
    a->delivery_id = q->id;
    a->attempts = q->attempts + 1;
    a->format = w->format;
    snprintf(a->webhook_id, sizeof(a->webhook_id), "%s", q->webhook_id);
    snprintf(a->msg_id, sizeof(a->msg_id), "%s", q->msg_id);
    snprintf(a->type, sizeof(a->type), "%s", q->type);
    if (webhook_format_is_robot(w->format)) {
        /* A robot's answer is read: its errcode, not the HTTP status, says whether it posted. */
        a->answer = xcalloc(1, RESPONSE_BODY_MAX + 1);
        add_header(a, "Content-Type", "application/json; charset=utf-8");
    }
    if ((webhook_format_is_robot(w->format) ? robot_url(w, url, sizeof(url))
                                            : sign_standard(a, w, q->body, len)) != 0 ||
        (a->easy = easy_acquire(n)) == NULL) {
        attempt_free(a);
        return -1;
    }
    a->body = q->body;
    q->body = NULL;
    add_header(a, "User-Agent", "convene-webhooks/1");
    add_header(a, "Expect", "");
    curl_easy_setopt(a->easy, CURLOPT_URL, webhook_format_is_robot(w->format) ? url : w->url);
    curl_easy_setopt(a->easy, CURLOPT_HTTPHEADER, a->headers);
    curl_easy_setopt(a->easy, CURLOPT_POSTFIELDS, a->body);
    curl_easy_setopt(a->easy, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(a->easy, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(a->easy, CURLOPT_PRIVATE, a);
    a->next = n->in_flight;
    n->in_flight = a;
    n->in_flight_count++;
    n->channel_sent[a->format]++;
    curl_multi_add_handle(n->multi, a->easy);
    return 0;
}

/* Attempts in flight towards one endpoint, counted once per sender run. */
struct endpoint_load {
    char webhook_id[ID_STR_MAX];
    int count;
};

struct loads {
    /* Every endpoint with an attempt in flight has one (so at most NOTIFY_MAX_IN_FLIGHT). */
    struct endpoint_load of[NOTIFY_MAX_IN_FLIGHT];
    size_t n;
    size_t full; /* endpoints at NOTIFY_MAX_PER_ENDPOINT */
};

static struct endpoint_load *load_of(struct loads *l, const char *webhook_id, int add)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->of[i].webhook_id, webhook_id) == 0)
            return &l->of[i];
    if (!add || l->n == NOTIFY_MAX_IN_FLIGHT)
        return NULL;
    struct endpoint_load *e = &l->of[l->n++];
    snprintf(e->webhook_id, sizeof(e->webhook_id), "%s", webhook_id);
    e->count = 0;
    return e;
}

static void count_load(struct loads *l, const char *webhook_id)
{
    struct endpoint_load *e = load_of(l, webhook_id, 1);

    if (e != NULL && ++e->count == NOTIFY_MAX_PER_ENDPOINT)
        l->full++;
}

/* Whether this process holds the row: an attempt runs, or its answer is not recorded yet. */
static int in_flight(const struct notify *n, int64_t delivery_id)
{
    for (const struct attempt *a = n->in_flight; a != NULL; a = a->next)
        if (a->delivery_id == delivery_id)
            return 1;
    for (const struct attempt *a = n->finished; a != NULL; a = a->next)
        if (a->delivery_id == delivery_id)
            return 1;
    return 0;
}

static void queue_clear(struct notify *n)
{
    for (size_t i = 0; i < n->queue_len; i++)
        free(n->queue[i].body);
    n->queue_len = 0;
}

struct queue_load {
    struct notify *n;
    size_t rows;
};

/*
 * The body to send: as stored, with its one-tap link's URL derived again
 * and put where fan-out left room (taplink.h), so the link exists only in
 * memory and on the wire. Without --public-url now, the place stays empty.
 */
static char *body_with_link(struct notify *n, const struct delivery_row *d)
{
    char url[sizeof(n->app->public_url) + TAPLINK_PATH_MAX];
    char *body;

    if (d->link_ref == NULL || d->link_at < 0)
        return xstrdup(d->body);
    if (app_taplink_url(n->app, d->link_ref, url, sizeof(url)) != 0)
        url[0] = '\0';
    body = taplink_body_insert(d->body, d->link_at, url);
    return body != NULL ? body : xstrdup(d->body);
}

static int queue_row(const struct delivery_row *d, void *arg)
{
    struct queue_load *ql = arg;
    struct notify *n = ql->n;
    struct queued *q;

    ql->rows++;
    /* Its attempt is running: the row is still due, but ours. */
    if (in_flight(n, d->id) || n->queue_len == NOTIFY_QUEUE_MAX)
        return 0;
    q = &n->queue[n->queue_len++];
    q->id = d->id;
    q->attempts = d->attempts;
    snprintf(q->webhook_id, sizeof(q->webhook_id), "%s", d->webhook_id);
    snprintf(q->msg_id, sizeof(q->msg_id), "%s", d->msg_id);
    snprintf(q->type, sizeof(q->type), "%s", d->type);
    q->body = body_with_link(n, d);
    return 0;
}

/* Reads the window of due rows again (those in flight are skipped). 0, or -1. */
static int queue_load(struct notify *n, int64_t now_ms)
{
    size_t limit = NOTIFY_QUEUE_MAX + n->in_flight_count + n->finished_count;
    struct queue_load ql = {n, 0};

    queue_clear(n);
    n->queue_more = 0;
    if (store_deliveries_due(n->app->store, now_ms, limit, queue_row, &ql) != STORE_OK) {
        queue_clear(n);
        n->queue_more = 1;
        return -1;
    }
    n->queue_more = ql.rows == limit;
    return 0;
}

/* ---------- the pace of robot URLs ---------- */

/*
 * One robot URL's recent starts. Kept per URL, not per endpoint: two
 * endpoints registered with one robot's URL share its limit. Entries idle
 * for a whole window are dropped (pace_prune), so the list holds only the
 * robots sent to lately.
 */
struct robot_pace {
    char *url;                    /* owned */
    enum webhook_format format;
    struct channel_pace pace;
    int64_t defer_to_ms;          /* this pass found rows that must wait until then (0: none) */
    struct robot_pace *next;
};

/*
 * The window the sender keeps, a sixtieth longer than --robot-rate's (one
 * second a minute) plus a quarter second: the robot counts arrivals, we
 * count starts, and a request that waited in a slow network or a busy
 * loop must not land inside the window of the one that follows it. A
 * sixtieth alone (50 ms of a 3 s test window) was once too little under
 * load: a fake robot refused one message after a restart (test_channels).
 */
static int64_t pace_window_ms(const struct notify *n)
{
    int64_t window = 1000 * n->app->cfg.robot_rate_window_s;
    return window + window / 60 + 250;
}

static struct robot_pace *pace_of(struct notify *n, const struct webhook_row *w)
{
    struct robot_pace *p;

    for (p = n->paces; p != NULL; p = p->next)
        if (strcmp(p->url, w->url) == 0)
            return p;
    p = xcalloc(1, sizeof(*p));
    p->url = xstrdup(w->url);
    p->format = w->format;
    p->next = n->paces;
    n->paces = p;
    return p;
}

/* Forgets URLs with no start within the window (their pace allows a full burst again). */
static void pace_prune(struct notify *n, int64_t now_ms)
{
    size_t limit = (size_t)n->app->cfg.robot_rate_count;

    for (struct robot_pace **pp = &n->paces; *pp != NULL;) {
        struct robot_pace *p = *pp;
        int64_t newest = p->pace.count ? p->pace.sent_ms[(p->pace.head + p->pace.count - 1) % limit]
                                       : 0;
        if (p->defer_to_ms == 0 && newest + pace_window_ms(n) <= now_ms) {
            *pp = p->next;
            free(p->url);
            free(p);
        } else {
            pp = &p->next;
        }
    }
}

static void pace_free_all(struct notify *n)
{
    while (n->paces != NULL) {
        struct robot_pace *p = n->paces;
        n->paces = p->next;
        free(p->url);
        free(p);
    }
}

/* A robot's queue read for re-slotting: the rows waiting, in id order. */
struct waiting {
    struct notify *n;
    struct robot_pace *p;
    int64_t now_ms;
    size_t rank;                  /* rows of the queue before this one */
    int64_t (*moves)[2];          /* owned: (id, slot) of rows to move */
    size_t nmoves;
};

static int on_waiting(int64_t id, int64_t next_attempt_ms, void *arg)
{
    struct waiting *w = arg;
    int64_t slot;

    /* An attempt in flight has taken its slot already (the pace noted its start). */
    if (in_flight(w->n, id))
        return 0;
    slot = channel_pace_slot(&w->p->pace, (size_t)w->n->app->cfg.robot_rate_count,
                             pace_window_ms(w->n), w->now_ms, w->rank++);
    /* Rows given a later slot before keep it; those due too early take theirs. */
    if (next_attempt_ms < w->p->defer_to_ms && next_attempt_ms != slot) {
        w->moves = xrealloc(w->moves, (w->nmoves + 1) * sizeof(*w->moves));
        w->moves[w->nmoves][0] = id;
        w->moves[w->nmoves][1] = slot;
        w->nmoves++;
    }
    return 0;
}

/*
 * Gives every waiting delivery of one robot URL found at its limit a start
 * of its own: the k-th of its queue (by id, the order its group reads)
 * gets the pace's k-th free slot, so the due rows read next are other
 * endpoints' (a burst to one robot must not hold up everyone else's
 * messages for minutes), and a burst is moved once, not again at every
 * slot (moving all of it to the next free slot each time moved 82,000 rows
 * for 1,000 messages to 5 robots). Rows already given a later slot keep
 * it; a row found due early (its predecessor started late) is moved again,
 * alone. *moved counts the rows moved. 0, or -1 if the store failed.
 */
static int pace_slot_queue(struct notify *n, struct robot_pace *p, int64_t now_ms, int64_t *moved)
{
    struct store *st = n->app->store;
    struct waiting w = {n, p, now_ms, 0, NULL, 0};
    int rc = 0;

    *moved = 0;
    if (store_begin_derived(st) != STORE_OK ||
        store_deliveries_waiting(st, p->url, on_waiting, &w) != STORE_OK)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < w.nmoves; i++)
        if (store_delivery_defer(st, w.moves[i][0], w.moves[i][1], clock_wall_s()) != STORE_OK)
            rc = -1;
        else if (n->next_retry_known && (n->next_retry_ms == 0 || w.moves[i][1] < n->next_retry_ms))
            n->next_retry_ms = w.moves[i][1];
    if (rc == 0 && store_commit(st) != STORE_OK)
        rc = -1;
    if (rc != 0)
        store_rollback(st);
    else
        *moved = (int64_t)w.nmoves;
    store_durability_restore(st);
    free(w.moves);
    return rc;
}

/* Re-slots the queue of every URL found at its limit in this pass. 0, or -1 (read again). */
static int pace_defer(struct notify *n, int64_t now_ms)
{
    int rc = 0;

    for (struct robot_pace *p = n->paces; p != NULL; p = p->next) {
        int64_t moved = 0;
        if (p->defer_to_ms == 0)
            continue;
        if (pace_slot_queue(n, p, now_ms, &moved) != 0)
            rc = -1;
        else
            n->channel_paced[p->format] += (uint64_t)moved;
        p->defer_to_ms = 0;
    }
    return rc;
}

/*
 * Whether q must wait for its robot's pace; then it is dropped from the
 * queue (its row stays pending) and its URL is marked for pace_defer.
 */
static int paced(struct notify *n, const struct webhook_row *w, int64_t now_ms)
{
    struct robot_pace *p;
    int64_t next;

    if (!webhook_format_is_robot(w->format))
        return 0;
    p = pace_of(n, w);
    next = channel_pace_next(&p->pace, (size_t)n->app->cfg.robot_rate_count, pace_window_ms(n),
                             now_ms);
    if (next <= now_ms)
        return 0;
    p->defer_to_ms = next;
    return 1;
}

static void pace_note(struct notify *n, const struct webhook_row *w, int64_t now_ms)
{
    if (webhook_format_is_robot(w->format))
        channel_pace_note(&pace_of(n, w)->pace, (size_t)n->app->cfg.robot_rate_count, now_ms);
}

/* A robot takes one request at a time: its group reads them in order. */
static int endpoint_limit(const struct webhook_row *w)
{
    return w != NULL && webhook_format_is_robot(w->format) ? 1 : NOTIFY_MAX_PER_ENDPOINT;
}

/*
 * Starts queued deliveries while the limits allow, reading the next window
 * when the queue runs dry. A row whose endpoint is at its limit keeps its
 * place; a row whose robot URL is at its pace leaves the queue and waits
 * in the table (pace_defer). Once every queued row waits for its endpoint,
 * the pass ends (each finish frees a slot and runs the sender again). 0, or
 * -1 if the due rows could not be read or the paced ones moved.
 */
static int start_queued(struct notify *n, int64_t now_ms)
{
    struct loads loads;

    memset(&loads, 0, sizeof(loads));
    for (struct attempt *a = n->in_flight; a != NULL; a = a->next)
        count_load(&loads, a->webhook_id);
    pace_prune(n, now_ms);
    while (n->in_flight_count < NOTIFY_MAX_IN_FLIGHT) {
        size_t kept = 0, started = 0, deferred = 0;

        if (n->queue_len == 0) {
            if (!n->queue_more)
                return 0;
            if (queue_load(n, now_ms) != 0)
                return -1;
            if (n->queue_len == 0)
                return 0;
        }
        for (size_t i = 0; i < n->queue_len; i++) {
            struct queued *q = &n->queue[i];
            struct endpoint_load *e = load_of(&loads, q->webhook_id, 0);
            const struct webhook_row *w;

            /* Full without reading the endpoint (the cache holds one: a burst alternates). */
            if (n->in_flight_count >= NOTIFY_MAX_IN_FLIGHT ||
                (e != NULL && e->count >= NOTIFY_MAX_PER_ENDPOINT)) {
                n->queue[kept++] = *q;
                continue;
            }
            w = webhook_cached(n, q->webhook_id);
            if (w != NULL && paced(n, w, now_ms)) {
                free(q->body);
                deferred++;
                continue;
            }
            if (e != NULL && e->count >= endpoint_limit(w)) {
                n->queue[kept++] = *q;
                continue;
            }
            if (w != NULL && start_attempt(n, q, w) == 0) {
                count_load(&loads, q->webhook_id);
                pace_note(n, w, now_ms);
                started++;
                continue;
            }
            /* Gone, or it could not be signed: the row stays pending for a later read. */
            log_error("webhook %s: could not start delivery %s", q->webhook_id, q->msg_id);
            free(q->body);
        }
        n->queue_len = kept;
        if (deferred > 0 && pace_defer(n, now_ms) != 0)
            return -1;
        if (kept > 0 || (started == 0 && deferred == 0))
            return 0;
    }
    return 0;
}

void notify_sender_run(struct notify *n)
{
    struct store *st = n->app->store;
    int64_t next = 0, now_ms;
    int fanout_failed = 0, start_failed = 0;

    if (n->stopping)
        return;
    /*
     * Only when something may have been queued: a schedule (a change, a reminder),
     * a timed wake-up, or an endpoint disabled here. Not after each answer.
     */
    if (n->fanout_due) {
        n->fanout_due = 0;
        if (notify_fanout(n) != 0) {
            n->fanout_due = fanout_failed = 1;
            log_error("webhooks: fan-out failed; will retry");
        }
    }
    if (n->queue_stale) {
        n->queue_stale = 0;
        queue_clear(n);
        n->queue_more = 1;
        n->next_retry_known = 0;
        webhook_cache_drop(n);
    }
    /*
     * Answers, a batch at a time: one commit for many. Until then their
     * rows stay pending and due, held by this process (in_flight()); the
     * delivery log lags by NOTIFY_RECORD_DELAY_MS at most.
     */
    now_ms = wall_ms();
    if (n->finished != NULL && (n->finished_count >= NOTIFY_RECORD_BATCH ||
                                now_ms - n->finished_since_ms >= NOTIFY_RECORD_DELAY_MS)) {
        if (store_begin_derived(st) == STORE_OK) {
            record_finished(n);
            if (store_commit(st) != STORE_OK) {
                store_rollback(st);
                n->queue_stale = 1; /* their rows are still due: read them again */
                webhook_cache_drop(n);
            }
            store_durability_restore(st);
        } else {
            /* Not recorded: the rows stay pending and due, and are sent again. */
            while (n->finished != NULL) {
                struct attempt *a = n->finished;
                n->finished = a->next;
                attempt_free(a);
            }
            n->finished_count = 0;
            n->queue_stale = 1;
        }
        /* A 410 just disabled an endpoint, or a commit failed: the window is out of date. */
        if (n->queue_stale) {
            n->queue_stale = 0;
            queue_clear(n);
            n->queue_more = 1;
        }
    }
    /*
     * Not clock_wall_s() for due times: time() reads a coarse clock that can
     * still show the previous second when the timer fires at next_attempt's
     * millisecond; and due times are milliseconds.
     */
    now_ms = wall_ms();
    if (start_queued(n, now_ms) != 0) {
        start_failed = 1;
        log_error("webhooks: could not read due deliveries; will retry");
    }
    /*
     * Sleep until the next delivery that is not due yet (a retry), but never
     * long. Due ones not started wait for a slot: each finish runs the sender run.
     */
    uint64_t sleep_ms = NOTIFY_MAX_SLEEP_MS;
    /*
     * Read once per stale window, then kept up to date by the retries this
     * process schedules (a query per sender run cost more than the attempt's
     * bookkeeping in a burst).
     */
    if (!n->next_retry_known) {
        if (store_deliveries_next_due(st, now_ms, &next) == STORE_OK) {
            n->next_retry_ms = next;
            n->next_retry_known = 1;
        }
    }
    /* Unknown (the query failed): look again in a second. Due now: the timer reads it. */
    next = n->next_retry_known ? n->next_retry_ms : now_ms + 1000;
    if (next > 0) {
        int64_t wait = next - wall_ms();
        if (wait < (int64_t)sleep_ms)
            sleep_ms = wait > 0 ? (uint64_t)wait : 0;
    }
    if (start_failed && sleep_ms > 1000)
        sleep_ms = 1000;
    /* Answers waiting to be recorded are written within NOTIFY_RECORD_DELAY_MS. */
    if (n->finished != NULL) {
        int64_t left = n->finished_since_ms + NOTIFY_RECORD_DELAY_MS - wall_ms();
        uint64_t record_ms = left > 0 ? (uint64_t)left : 0;
        if (record_ms < sleep_ms && !(n->fanout_due && !fanout_failed)) {
            uv_timer_start(&n->sender_timer, on_finished_timer, record_ms, 0);
            return;
        }
    }
    /* An endpoint disabled just now queued webhook.disabled: fan it out at once. */
    if (n->fanout_due && !fanout_failed)
        sleep_ms = 0;
    uv_timer_start(&n->sender_timer, on_sender_due, sleep_ms, 0);
}

void notify_requeue_in_flight(struct notify *n)
{
    struct store *st = n->app->store;
    int64_t now = clock_wall_s();

    queue_clear(n);
    if ((n->in_flight == NULL && n->finished == NULL) || store_begin(st) != STORE_OK)
        return;
    record_finished(n);
    webhook_cache_drop(n);
    while (n->in_flight != NULL) {
        struct attempt *a = n->in_flight;
        store_delivery_update(st, a->delivery_id, "pending", a->attempts - 1, 0,
                              "interrupted by shutdown", now * 1000, now);
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
     * easy handle in the multi, and as handles come and go it closed idle
     * keep-alive connections only to open new ones (673 connects for
     * 10,000 deliveries to one endpoint in the benchmark).
     */
    curl_multi_setopt(n->multi, CURLMOPT_MAXCONNECTS, (long)NOTIFY_MAX_IN_FLIGHT);
    uv_timer_init(n->loop, &n->curl_timer);
    n->curl_timer.data = n;
    n->queue_more = 1;
    /* Leases written into rows by an older version are stale: nothing is in flight yet. */
    if (store_deliveries_release_leases(n->app->store, LEASE_MARK, clock_wall_s()) != STORE_OK)
        log_error("webhooks: could not release the leases of a previous run; they expire in 60 s");
    return 0;
}

void notify_sender_close(struct notify *n)
{
    notify_requeue_in_flight(n);
    queue_clear(n);
    webhook_cache_drop(n);
    while (n->easy_pooled > 0)
        curl_easy_cleanup(n->easy_pool[--n->easy_pooled]);
    if (n->multi != NULL)
        curl_multi_cleanup(n->multi);
    n->multi = NULL;
    pace_free_all(n);
    /* Curl closed its connections above (on_close_socket); nothing should be left. */
    while (n->sockets != NULL) {
        struct curl_socket *cs = n->sockets;
        n->sockets = cs->next;
        if (cs->initialized)
            uv_close((uv_handle_t *)&cs->poll, on_poll_closed);
        else
            free(cs);
    }
}
