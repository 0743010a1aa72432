/*
 * notify.c - the notify service's lifecycle, its metrics, and the URL
 * check used when an endpoint is registered.
 */
#include "notify_internal.h"

#include "convene/netaddr.h"
#include "convene/store.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>

int notify_start(struct app *app, uv_loop_t *loop, struct notify **out)
{
    struct notify *n = xcalloc(1, sizeof(*n));

    n->app = app;
    n->loop = loop;
    if (notify_sender_init(n) != 0) {
        free(n);
        return -1;
    }
    uv_timer_init(loop, &n->sender_timer);
    uv_timer_init(loop, &n->reminder_timer);
    uv_timer_init(loop, &n->escalate_timer);
    uv_timer_init(loop, &n->approval_timer);
    uv_timer_init(loop, &n->drain_timer);
    n->sender_timer.data = n->reminder_timer.data = n->drain_timer.data = n;
    n->escalate_timer.data = n->approval_timer.data = n;
    notify_changes_init(n);
    *out = n;
    /* Whatever was pending when we stopped (or crashed) goes out now. */
    notify_reminders_run(n);
    notify_escalate_run(n);
    notify_approvals_run(n); /* an expiry due while we were down happens now */
    notify_schedule(n);
    return 0;
}

static void on_scheduled(uv_timer_t *timer)
{
    struct notify *n = timer->data;
    notify_changes_run(n);
    notify_sender_run(n);
}

void notify_schedule(struct notify *n)
{
    if (n == NULL || n->stopping)
        return;
    n->fanout_due = 1;
    n->queue_stale = 1; /* the change may have touched endpoints or deliveries */
    uv_timer_start(&n->sender_timer, on_scheduled, 0, 0);
    /* A change may have moved the earliest reminder or acknowledgement deadline. */
    notify_reminders_schedule(n);
    notify_escalate_schedule(n);
    notify_approvals_schedule(n);
}

static void on_drain_tick(uv_timer_t *timer)
{
    struct notify *n = timer->data;
    uint64_t waited = (clock_monotonic_us() - n->drain_started_us) / 1000;

    if (n->in_flight_count > 0 && waited < NOTIFY_DRAIN_MS)
        return;
    uv_timer_stop(timer);
    if (n->in_flight_count > 0)
        log_info("shutdown: re-queueing %zu webhook attempts still in flight", n->in_flight_count);
    notify_requeue_in_flight(n);
    n->on_drained(n->drained_arg);
}

void notify_shutdown(struct notify *n, void (*on_done)(void *arg), void *arg)
{
    n->stopping = 1;
    uv_timer_stop(&n->sender_timer);
    uv_timer_stop(&n->reminder_timer);
    uv_timer_stop(&n->escalate_timer);
    uv_timer_stop(&n->approval_timer);
    uv_timer_stop(&n->keepalive_timer);
    n->on_drained = on_done;
    n->drained_arg = arg;
    n->drain_started_us = clock_monotonic_us();
    uv_timer_start(&n->drain_timer, on_drain_tick, 0, 20);
}

void notify_free(struct notify *n)
{
    if (n == NULL)
        return;
    uv_handle_t *timers[] = {(uv_handle_t *)&n->sender_timer, (uv_handle_t *)&n->reminder_timer,
                             (uv_handle_t *)&n->escalate_timer, (uv_handle_t *)&n->approval_timer,
                             (uv_handle_t *)&n->drain_timer,
                             (uv_handle_t *)&n->curl_timer, (uv_handle_t *)&n->keepalive_timer};

    notify_sender_close(n);
    /* The timers live inside n: close them and let the loop finish before freeing. */
    for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++)
        if (!uv_is_closing(timers[i]))
            uv_close(timers[i], NULL);
    /*
     * One pass runs those closes. Not UV_RUN_DEFAULT: serve's signal handles
     * (and the HTTP server's) are still open, so it would never return.
     */
    uv_run(n->loop, UV_RUN_NOWAIT);
    free(n);
}

static void channel_metrics_render(struct notify *n, struct strbuf *out);

void notify_metrics_render(struct notify *n, struct strbuf *out)
{
    static const char *const bounds[] = {"0.1", "0.25", "0.5", "1", "2.5", "10", "60"};
    int64_t pending = 0, failed = 0;
    uint64_t cumulative = 0;

    if (n == NULL)
        return;
    store_deliveries_count(n->app->store, "pending", &pending);
    store_deliveries_count(n->app->store, "failed", &failed);
    strbuf_printf(out,
                  "# HELP convene_webhook_attempts_total Webhook attempts by outcome.\n"
                  "# TYPE convene_webhook_attempts_total counter\n"
                  "convene_webhook_attempts_total{outcome=\"delivered\"} %llu\n"
                  "convene_webhook_attempts_total{outcome=\"retry\"} %llu\n"
                  "convene_webhook_attempts_total{outcome=\"failed\"} %llu\n"
                  "# HELP convene_webhook_queue_depth Deliveries waiting to be sent.\n"
                  "# TYPE convene_webhook_queue_depth gauge\n"
                  "convene_webhook_queue_depth %lld\n"
                  "# HELP convene_webhook_deliveries_failed Deliveries that gave up.\n"
                  "# TYPE convene_webhook_deliveries_failed gauge\n"
                  "convene_webhook_deliveries_failed %lld\n"
                  "# HELP convene_webhook_in_flight Attempts in progress.\n"
                  "# TYPE convene_webhook_in_flight gauge\n"
                  "convene_webhook_in_flight %zu\n"
                  "# HELP convene_webhooks_disabled_total Endpoints disabled (410 or failing).\n"
                  "# TYPE convene_webhooks_disabled_total counter\n"
                  "convene_webhooks_disabled_total %llu\n"
                  "# HELP convene_reminders_sent_total reminder.due messages written.\n"
                  "# TYPE convene_reminders_sent_total counter\n"
                  "convene_reminders_sent_total %llu\n"
                  "# HELP convene_reminders_late_total Reminders sent late (after downtime).\n"
                  "# TYPE convene_reminders_late_total counter\n"
                  "convene_reminders_late_total %llu\n"
                  "# HELP convene_reminders_dropped_total Reminders dropped: the meeting had started.\n"
                  "# TYPE convene_reminders_dropped_total counter\n"
                  "convene_reminders_dropped_total %llu\n"
                  "# HELP convene_reminder_lateness_seconds Due time to message written.\n"
                  "# TYPE convene_reminder_lateness_seconds histogram\n",
                  (unsigned long long)n->delivered, (unsigned long long)n->retried,
                  (unsigned long long)n->failed, (long long)pending, (long long)failed,
                  n->in_flight_count, (unsigned long long)n->disabled,
                  (unsigned long long)n->reminders_sent, (unsigned long long)n->reminders_late,
                  (unsigned long long)n->reminders_dropped);
    for (size_t b = 0; b < 7; b++) {
        cumulative += n->lateness_buckets[b];
        strbuf_printf(out, "convene_reminder_lateness_seconds_bucket{le=\"%s\"} %llu\n", bounds[b],
                      (unsigned long long)cumulative);
    }
    cumulative += n->lateness_buckets[7];
    strbuf_printf(out,
                  "convene_reminder_lateness_seconds_bucket{le=\"+Inf\"} %llu\n"
                  "convene_reminder_lateness_seconds_sum %.3f\n"
                  "convene_reminder_lateness_seconds_count %llu\n",
                  (unsigned long long)cumulative, n->lateness_sum,
                  (unsigned long long)cumulative);
    channel_metrics_render(n, out);
}

/* The families per endpoint format (standard, wecom, dingtalk): CONTRACT section 14. */
static void channel_metrics_render(struct notify *n, struct strbuf *out)
{
    int64_t pending[WEBHOOK_FORMAT_COUNT];

    if (store_deliveries_pending_by_format(n->app->store, pending) != STORE_OK)
        memset(pending, 0, sizeof(pending));
    strbuf_puts(out, "# HELP convene_channel_queue_depth Deliveries waiting to be sent, by "
                     "endpoint format (a robot's include those waiting for its pace).\n"
                     "# TYPE convene_channel_queue_depth gauge\n");
    for (int f = 0; f < WEBHOOK_FORMAT_COUNT; f++)
        strbuf_printf(out, "convene_channel_queue_depth{format=\"%s\"} %lld\n",
                      webhook_format_name((enum webhook_format)f), (long long)pending[f]);
    strbuf_puts(out, "# HELP convene_channel_requests_total Attempts started, by endpoint format.\n"
                     "# TYPE convene_channel_requests_total counter\n");
    for (int f = 0; f < WEBHOOK_FORMAT_COUNT; f++)
        strbuf_printf(out, "convene_channel_requests_total{format=\"%s\"} %llu\n",
                      webhook_format_name((enum webhook_format)f),
                      (unsigned long long)n->channel_sent[f]);
    strbuf_puts(out, "# HELP convene_channel_refusals_total Answers that refused a message, by "
                     "format and reason (rate_limited: 45009/130101/429; bad_sign: 310000).\n"
                     "# TYPE convene_channel_refusals_total counter\n");
    for (int f = 0; f < WEBHOOK_FORMAT_COUNT; f++)
        for (int r = CHANNEL_RATE_LIMITED; r < CHANNEL_NO_ANSWER; r++)
            strbuf_printf(out, "convene_channel_refusals_total{format=\"%s\",reason=\"%s\"} %llu\n",
                          webhook_format_name((enum webhook_format)f),
                          channel_refusal_name((enum channel_refusal)r),
                          (unsigned long long)n->channel_refusals[f][r]);
    strbuf_puts(out, "# HELP convene_channel_paced_total Deliveries moved back to wait for a "
                     "robot URL's pace (one may wait more than once).\n"
                     "# TYPE convene_channel_paced_total counter\n");
    for (int f = 0; f < WEBHOOK_FORMAT_COUNT; f++)
        strbuf_printf(out, "convene_channel_paced_total{format=\"%s\"} %llu\n",
                      webhook_format_name((enum webhook_format)f),
                      (unsigned long long)n->channel_paced[f]);
}

/*
 * Refuses what --allow-private-webhooks never permits: credentials in the
 * URL (curl would send them as Basic auth to whoever answers, and GET
 * /webhooks would show them to every admin), and port 0 (no service
 * listens there; some stacks connect it to a random port). The message
 * never repeats the URL, which may hold the password.
 */
static int url_authority_refused(CURLU *u, char *why, size_t whylen)
{
    static const CURLUPart userinfo[] = {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS};
    char *part = NULL;
    int refused = 0;

    for (size_t i = 0; i < sizeof(userinfo) / sizeof(userinfo[0]) && !refused; i++) {
        /* An empty "@host" still has a user part (""), and is refused too. */
        if (curl_url_get(u, userinfo[i], &part, 0) == CURLUE_OK) {
            snprintf(why, whylen, "'url' may not carry a user name or password (user@host)");
            refused = 1;
        }
        curl_free(part);
        part = NULL;
    }
    if (!refused && curl_url_get(u, CURLUPART_PORT, &part, 0) == CURLUE_OK &&
        strtoul(part, NULL, 10) == 0) {
        snprintf(why, whylen, "'url' port must be 1 to 65535");
        refused = 1;
    }
    curl_free(part);
    return refused;
}

int notify_url_shown(const char *url, char *out, size_t cap)
{
    static const CURLUPart userinfo[] = {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS};
    CURLU *u = curl_url();
    char *part = NULL, *clean = NULL;
    int had = 0;

    snprintf(out, cap, "%s", url);
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        curl_url_cleanup(u);
        return 0;
    }
    for (size_t i = 0; i < sizeof(userinfo) / sizeof(userinfo[0]); i++) {
        if (curl_url_get(u, userinfo[i], &part, 0) == CURLUE_OK) {
            had = 1;
            curl_url_set(u, userinfo[i], NULL, 0);
        }
        curl_free(part);
        part = NULL;
    }
    if (had && curl_url_get(u, CURLUPART_URL, &clean, 0) == CURLUE_OK)
        snprintf(out, cap, "%s", clean);
    curl_free(clean);
    curl_url_cleanup(u);
    return had;
}

int notify_url_form(const char *url, int allow_private, char *host, size_t hostlen, char *why,
                    size_t whylen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *name = NULL;
    int rc = -1;

    if (u == NULL)
        return -1;
    if (strlen(url) > 2048 || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &name, 0) != CURLUE_OK) {
        snprintf(why, whylen, "'url' is not a valid absolute URL");
        goto done;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(why, whylen, "'url' must use http or https");
        goto done;
    }
    if (url_authority_refused(u, why, whylen))
        goto done;
    rc = 0;
    if (allow_private)
        goto done;
    /* Strip the brackets of an IPv6 literal for the resolver. */
    size_t len = strlen(name);
    if (name[0] == '[' && len > 2)
        snprintf(host, hostlen, "%.*s", (int)(len - 2), name + 1);
    else
        snprintf(host, hostlen, "%s", name);
    rc = 1;
done:
    curl_free(scheme);
    curl_free(name);
    curl_url_cleanup(u);
    return rc;
}

int notify_host_public(const char *host, char *why, size_t whylen)
{
    struct addrinfo hints, *res = NULL;
    int rc = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
        snprintf(why, whylen, "'url' host '%s' does not resolve", host);
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL && rc == 0; ai = ai->ai_next) {
        if (!netaddr_is_public(ai->ai_addr)) {
            snprintf(why, whylen,
                     "'url' resolves to a private or loopback address (refused: SSRF guard; "
                     "see --allow-private-webhooks)");
            rc = -1;
        }
    }
    freeaddrinfo(res);
    return rc;
}
