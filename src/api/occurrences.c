/*
 * occurrences.c - GET /api/v1/occurrences?from=&to=[&person=|&room=|
 * &vehicle=|&driver=]: the expanded meetings of a period, sorted, from the
 * occurrences table (and the occupancy index when filtered by resource).
 */
#include "handlers.h"

#include "convene/event_docs.h"
#include "convene/json.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdio.h>
#include <string.h>

#define MAX_RANGE_DAYS 366

struct list_ctx {
    struct api_call *call;
    json_t *items;
    int failed;
};

/* Leaders and drivers see others' confidential meetings as busy time only. */
static int sees_details(struct list_ctx *ctx, json_t *doc)
{
    size_t i;
    json_t *a;

    if (!json_is_true(json_object_get(doc, "confidential")) ||
        api_has_role(ctx->call, ROLE_ADMIN | ROLE_SECRETARY))
        return 1;
    json_array_foreach(json_object_get(doc, "attendees"), i, a) {
        const char *person = json_string_value(json_object_get(a, "person"));
        if (person != NULL && strcmp(person, ctx->call->auth.person) == 0)
            return 1;
    }
    return 0;
}

static int add_item(const struct occurrence_row *r, void *arg)
{
    struct list_ctx *ctx = arg;
    int rc;
    struct event_doc *ev = event_docs_get(ctx->call->app->event_docs, r->event_id, &rc);
    json_t *doc, *ov, *item;
    char s[TIME_UTC_STR], e[TIME_UTC_STR];

    if (ev == NULL) {
        ctx->failed = 1;
        return -1;
    }
    doc = ev->doc;
    ov = json_object_get(json_object_get(doc, "overrides"), r->occ.recurrence_id);
    time_utc_format(r->occ.start_utc, s);
    time_utc_format(r->occ.end_utc, e);
    item = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O?, s:s, s:b}", "event", r->event_id,
                     "recurrence_id", r->occ.recurrence_id, "start", r->occ.start, "end",
                     r->occ.end, "start_utc", s, "end_utc", e, "tz", json_object_get(doc, "tz"),
                     "status", ev->row.status, "confidential",
                     json_is_true(json_object_get(doc, "confidential")));
    if (sees_details(ctx, doc)) {
        static const char *const copied[] = {"title", "location", "room"};
        for (size_t i = 0; i < ARRAY_SIZE(copied); i++) {
            json_t *v = ov ? json_object_get(ov, copied[i]) : NULL;
            if (v == NULL)
                v = json_object_get(doc, copied[i]);
            json_object_set(item, copied[i], v ? v : json_null());
        }
        /*
         * Shared with the cached document, not copied: the answer is only
         * serialised, and nothing here modifies either.
         */
        json_object_set(item, "attendees", json_object_get(doc, "attendees"));
    } else {
        json_object_set_new(item, "title", json_string("忙碌"));
    }
    json_object_set_new(item, "all_day", json_boolean(json_object_get(doc, "date") != NULL));
    json_array_append_new(ctx->items, item);
    event_doc_release(ev);
    return 0;
}

/*
 * Parses a YYYY-MM-DD query parameter into the UTC instant of that local
 * midnight, or of the next day's (`to` is inclusive).
 */
static int day_param(struct api_call *call, const char *name, const char *tz, int64_t *utc,
                     int required, int next_day)
{
    char buf[16];
    struct local_time lt;
    int rc = api_query_param(call, name, buf, sizeof(buf));

    if (rc < 0)
        return -1;
    if (rc == 0) {
        if (required)
            api_reply_error(call, 422, "required", name, "query parameter '%s' is required",
                            name);
        return required ? -1 : 0;
    }
    if (time_date_parse(buf, &lt) != 0) {
        api_reply_error(call, 422, "invalid", name, "'%s' must look like 2026-12-07", name);
        return -1;
    }
    if (next_day)
        recur_local_add(&lt, 86400);
    time_local_to_utc(&lt, tz, utc);
    return 1;
}

void api_occurrences_list(struct api_call *call)
{
    static const struct {
        const char *param, *type, *role;
    } filters[] = {{"person", "person", NULL},
                   {"room", "room", NULL},
                   {"vehicle", "vehicle", NULL},
                   {"driver", "person", "driver"}};
    char id[ID_STR_MAX], tz[64];
    const char *type = NULL, *role = NULL, *filter = NULL;
    int64_t from, to;
    int rc;

    snprintf(tz, sizeof(tz), "%s", call->app->cfg.tz);
    if ((rc = api_query_param(call, "tz", tz, sizeof(tz))) < 0)
        return;
    if (rc == 1 && !time_zone_valid(tz)) {
        api_reply_error(call, 422, "invalid", "tz", "unknown time zone '%s'", tz);
        return;
    }
    /*
     * `to` is the last day, inclusive: up to the next local midnight. Adding
     * 86400 s to its midnight was an hour short on a fall-back day (a 23:30
     * meeting was missing) and an hour long on a spring-forward day.
     */
    if (day_param(call, "from", tz, &from, 1, 0) < 0 || day_param(call, "to", tz, &to, 1, 1) < 0)
        return;
    if (to <= from || to - from > MAX_RANGE_DAYS * 86400LL) {
        api_reply_error(call, 422, "invalid", "to", "'to' must be on or after 'from', within %d days",
                        MAX_RANGE_DAYS);
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(filters) && type == NULL; i++) {
        if ((rc = api_query_param(call, filters[i].param, id, sizeof(id))) < 0)
            return;
        if (rc == 1) {
            type = filters[i].type;
            role = filters[i].role;
            filter = filters[i].param;
        }
    }
    /* Leaders and drivers read their own calendar only. */
    if (!api_has_role(call, ROLE_ADMIN | ROLE_SECRETARY) &&
        (type == NULL || strcmp(type, "person") != 0 || strcmp(id, call->auth.person) != 0)) {
        api_reply_error(call, 403, "forbidden", filter,
                        "filter by your own person (?person= or ?driver=)");
        return;
    }
    struct list_ctx ctx = {call, json_array(), 0};
    rc = store_occurrences_list(call->app->store, from, to, type, type ? id : NULL, role, add_item,
                                &ctx);
    if (rc != STORE_OK || ctx.failed) {
        json_decref(ctx.items);
        api_reply_store_error(call);
        return;
    }
    api_reply_json(call, 200, ctx.items, -1);
}
