/*
 * handlers.h - the request handlers of src/api/, as the route table in
 * http/router.c refers to them. Each answers through api_reply_*.
 */
#ifndef CONVENE_HANDLERS_H
#define CONVENE_HANDLERS_H

#include "convene/api.h"

/* health.c */
void api_healthz(struct api_call *call);
void api_metrics(struct api_call *call);

/* console.c: the web console's page and files (public: the page signs in itself) */
void api_console_index(struct api_call *call);
void api_console_asset(struct api_call *call);
/* The console's security headers (CSP, nosniff, no referrer); the link pages send them too. */
void api_console_security_headers(struct api_call *call);
/* The stylesheet of the one-tap link pages ("/assets/<version>/css/taplink.css"), or NULL. */
const char *api_console_asset_url(struct api_call *call, const char *path, char *out, size_t cap);

/* taplinks.c: one-tap links' pages (public: the token in the path is the credential) */
void api_taplink_get(struct api_call *call);
void api_taplink_post(struct api_call *call);

/* session.c: signing in to the console, passwords */
void api_session_create(struct api_call *call);
void api_session_get(struct api_call *call);
void api_session_delete(struct api_call *call);
void api_password_set(struct api_call *call);

/* changes.c: the change stream (its contents: notify/changes.c) */
void api_changes(struct api_call *call);

/* tokens.c */
void api_tokens_create(struct api_call *call);
void api_tokens_list(struct api_call *call);
void api_tokens_revoke(struct api_call *call);

/* resources.c: people, rooms and vehicles; route_data is the record type */
void api_resource_create(struct api_call *call);
void api_resource_list(struct api_call *call);
void api_resource_get(struct api_call *call);
void api_resource_patch(struct api_call *call);
void api_resource_delete(struct api_call *call);
void api_resource_feed_token(struct api_call *call);

/* approvals.c: approval rules, approvals and their decisions, departments */
void api_approval_rules_get(struct api_call *call);
void api_approval_rules_put(struct api_call *call);
void api_approval_rules_delete(struct api_call *call);
void api_approvals_list(struct api_call *call);
void api_approvals_decide(struct api_call *call);
void api_departments_create(struct api_call *call);
void api_departments_list(struct api_call *call);
void api_departments_get(struct api_call *call);
void api_departments_patch(struct api_call *call);
void api_departments_delete(struct api_call *call);

/* blocks.c */
void api_blocks_create(struct api_call *call);
void api_blocks_list(struct api_call *call);
void api_blocks_get(struct api_call *call);
void api_blocks_delete(struct api_call *call);

/* events.c */
void api_events_create(struct api_call *call);
void api_events_get(struct api_call *call);
void api_events_patch(struct api_call *call);
void api_events_delete(struct api_call *call);
void api_events_rsvp(struct api_call *call);
void api_events_occurrence_patch(struct api_call *call);
void api_events_occurrence_delete(struct api_call *call);
void api_events_history(struct api_call *call);

/*
 * The booking layer's context for a call (booking.h): its caller as actor
 * (filled into *actor, which ctx points to) and the wall clock now.
 */
void events_call_ctx(const struct api_call *call, struct booking_actor *actor,
                     struct booking_ctx *ctx);

/*
 * Appends an entry to the event's audit trail (GET /events/{id}/history),
 * by the caller's token, inside the caller's transaction. before and after
 * are borrowed (either may be NULL). 0 or -1.
 */
int events_audit(struct api_call *call, const char *event_id, const char *action, json_t *before,
                 json_t *after);

/* import.c */
void api_import(struct api_call *call);

/* webhooks.c */
void api_webhooks_create(struct api_call *call);
void api_webhooks_list(struct api_call *call);
void api_webhooks_get(struct api_call *call);
void api_webhooks_patch(struct api_call *call);
void api_webhooks_delete(struct api_call *call);
void api_webhooks_rotate(struct api_call *call);
void api_webhooks_deliveries(struct api_call *call);
void api_webhooks_retry(struct api_call *call);
void api_webhooks_replay(struct api_call *call);

/* workdays.c */
void api_workdays(struct api_call *call);
void api_workdays_year_get(struct api_call *call);
void api_workdays_year_put(struct api_call *call);
void api_holidays_feed(struct api_call *call);
/* ?from=&to= dates, at most max_days apart; replies and returns -1 on error. */
int api_date_range(struct api_call *call, struct local_time *from, struct local_time *to,
                   int max_days);

/* availability.c */
void api_freebusy(struct api_call *call);
void api_availability(struct api_call *call);

/* feeds.c */
void api_feed_get(struct api_call *call);
struct feed_entry;
/*
 * Answers a GET with a rendered feed: Last-Modified, ETag (the gzip body's
 * own when gzip is sent), 304 for If-None-Match/If-Modified-Since, gzip
 * when accepted.
 */
void api_feed_reply(struct api_call *call, const struct feed_entry *e, const char *cache_control);

/* occurrences.c */
void api_occurrences_list(struct api_call *call);

/* trips.c */
void api_trips_list(struct api_call *call);
void api_trips_create(struct api_call *call);
void api_trips_ack(struct api_call *call);

/* catering.c */
void api_catering_get(struct api_call *call);

/* reports.c */
void api_reports_get(struct api_call *call);

#endif
