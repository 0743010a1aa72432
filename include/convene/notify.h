/*
 * notify.h - everything that leaves convene on its own: the outbox is
 * fanned out to matching webhook endpoints as durable deliveries, which a
 * libcurl multi sender on the loop POSTs with Standard Webhooks signatures
 * and retries; reminders are turned into reminder.due messages when due.
 */
#ifndef CONVENE_NOTIFY_H
#define CONVENE_NOTIFY_H

#include <uv.h>

#include "convene/util.h"

struct app;
struct notify;

/* Starts the sender and the reminder timer on loop. Owner: the caller (notify_free). */
int notify_start(struct app *app, uv_loop_t *loop, struct notify **out);

/* Something was written: fan out new messages and reschedule timers soon (on the loop). */
void notify_schedule(struct notify *n);

/*
 * Stops starting attempts; in-flight ones get until the drain timeout,
 * then are re-queued as pending. on_done runs on the loop.
 */
void notify_shutdown(struct notify *n, void (*on_done)(void *arg), void *arg);
void notify_free(struct notify *n);

/*
 * The writing end of a change stream, supplied by whoever carries it (the
 * HTTP layer's text/event-stream). write queues bytes and answers -1 when
 * the reader is too slow; close ends the stream from our side, after which
 * neither the sink nor the subscription is touched again by anyone.
 */
struct change_writer {
    int (*write)(void *sink, const char *data, size_t len);
    void (*close)(void *sink);
};

/*
 * Opens a change stream (GET /api/v1/changes) for a viewer: role is a mask
 * of enum role (role.h), person the viewer's person id ("" for none).
 * last_id is the client's Last-Event-ID (-1: start from now). Once
 * attached, the stream is sent, in commit order, one event per outbox
 * message the viewer may see, with the message's id and
 * {"type","event"?,"resource"?} (ids only, never titles). Returns NULL
 * when the --max-streams cap is reached or the service is stopping.
 * notify_changes_detach (the reader is gone) frees it, unless the writer's
 * close was called first.
 */
struct change_sub;
struct change_sub *notify_changes_open(struct notify *n, unsigned role, const char *person,
                                       int64_t last_id);
void notify_changes_attach(struct change_sub *s, const struct change_writer *writer, void *sink);
void notify_changes_detach(struct change_sub *s);

/* Appends the notify families to /metrics. */
void notify_metrics_render(struct notify *n, struct strbuf *out);

/* Known message types, NULL-terminated; and whether pattern ("x.*", "*", exact) is valid/matches. */
extern const char *const notify_types[];
int notify_pattern_valid(const char *pattern);
int notify_pattern_matches(const char *pattern, const char *type);

/*
 * Checks a webhook URL's form: http/https, a host, no userinfo, a port
 * other than 0. 0 when it is acceptable as it is (allow_private); 1 when
 * its host (in host, brackets stripped) must still be resolved with
 * notify_host_public; -1 with a reason in why that never repeats the URL.
 */
int notify_url_form(const char *url, int allow_private, char *host, size_t hostlen, char *why,
                    size_t whylen);

/*
 * Whether every address host resolves to is public (netaddr_is_public, the
 * rule the sender applies again at connect). Resolves, so it blocks: call
 * it off the loop (an api_job's work). 0, or -1 with a reason in why.
 */
int notify_host_public(const char *host, char *why, size_t whylen);

/*
 * url as it may be shown (GET /webhooks): without the user name and
 * password an endpoint registered before they were refused may still
 * hold. Writes at most cap bytes to out; 1 if something was removed.
 */
int notify_url_shown(const char *url, char *out, size_t cap);

#endif
