/*
 * occurrences.c - GET /api/v1/occurrences?from=&to=[&person=|&room=|
 * &vehicle=|&driver=][&declined=include]: the expanded meetings of a
 * period, sorted, from the occurrences table (and the occupancy index when
 * filtered by resource; a person's invitations when declined ones are asked
 * for too, since a declined answer holds no time).
 */
#include "handlers.h"

#include "convene/event_docs.h"
#include "convene/body.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdio.h>
#include <string.h>

#define MAX_RANGE_DAYS 366

#define LIST_MAX_BYTES (256u << 20)

struct list_ctx {
    struct api_call *call;
    struct strbuf out; /* the answer's JSON text, item by item */
    int failed;
};

/*
 * The office sees every meeting in full; a person sees theirs in full and
 * a confidential one they only drive or ride to as busy time (its trip is
 * in GET /trips and their feed).
 */
static int sees_details(struct list_ctx *ctx, json_t *doc)
{
    struct viewer viewer = api_viewer(ctx->call);

    return visibility_of_doc(&viewer, doc) == VISIBLE_FULL;
}

/*
 * What a list item says of its event, after the occurrence's own times: the
 * same for every occurrence that no override changes. Serialised once per
 * version of the event and kept with its cached document; the two forms
 * are for those who see the details and those who see busy time only.
 */
struct item_tails {
    char *details, *busy; /* JSON members without the braces; NULL until first used */
};

static const char tails_key = 'O';

static void tails_free(void *data)
{
    struct item_tails *t = data;

    free(t->details);
    free(t->busy);
    free(t);
}

/* The attendees with the answers given for this occurrence alone (RSVP with a recurrence_id). */
static json_t *occurrence_attendees(json_t *doc, json_t *ov)
{
    json_t *out = json_deep_copy(json_object_get(doc, "attendees")), *a;
    json_t *answers = json_object_get(ov, "responses");
    size_t i;

    json_array_foreach(out, i, a) {
        json_t *own = json_object_get(answers, json_string_value(json_object_get(a, "person")));
        if (json_is_string(own))
            json_object_set(a, "response", own);
    }
    return out;
}

/* Serialises the event's members of an item: an object's text without its braces. */
static char *tail_text(const struct event_doc *ev, json_t *ov, int details)
{
    json_t *doc = ev->doc;
    json_t *item = json_pack("{s:O?, s:s, s:b}", "tz", json_object_get(doc, "tz"), "status",
                             event_status_name(ev->row.status), "confidential",
                             json_is_true(json_object_get(doc, "confidential")));
    char *text;
    size_t len;

    if (details) {
        static const char *const copied[] = {"title", "location", "room", "kind"};
        for (size_t i = 0; i < ARRAY_SIZE(copied); i++) {
            json_t *v = ov ? json_object_get(ov, copied[i]) : NULL;
            if (v == NULL)
                v = json_object_get(doc, copied[i]);
            json_object_set(item, copied[i], v ? v : json_null());
        }
        /* Shared with the cached document, not copied: it is only serialised. */
        json_object_set(item, "attendees", json_object_get(doc, "attendees"));
        if (json_object_size(json_object_get(ov, "responses")) > 0)
            json_object_set_new(item, "attendees", occurrence_attendees(doc, ov));
    } else {
        json_object_set_new(item, "title", json_string("忙碌"));
    }
    json_object_set_new(item, "all_day", json_boolean(json_object_get(doc, "date") != NULL));
    text = json_dumps(item, JSON_COMPACT);
    json_decref(item);
    len = strlen(text);
    memmove(text, text + 1, len - 2); /* drop "{" and "}" */
    text[len - 2] = '\0';
    return text;
}

/* The cached tail of an unchanged occurrence. */
static const char *cached_tail(struct api_call *call, struct event_doc *ev, int details)
{
    struct item_tails *t = event_doc_attached(ev, &tails_key);
    char **slot;

    if (t == NULL) {
        t = xcalloc(1, sizeof(*t));
        event_doc_attach(call->app->event_docs, ev, &tails_key, t, tails_free, sizeof(*t));
    }
    slot = details ? &t->details : &t->busy;
    if (*slot == NULL) {
        *slot = tail_text(ev, NULL, details);
        event_docs_charge(call->app->event_docs, ev, (long)strlen(*slot) + 1);
    }
    return *slot;
}

/*
 * Appends one item. Ids and times are ours (letters, digits, "_", "-", ":"),
 * so they need no JSON escaping; everything from users goes through jansson.
 */
static int add_item(const struct occurrence_row *r, void *arg)
{
    struct list_ctx *ctx = arg;
    int rc, details;
    struct event_doc *ev = event_docs_get(ctx->call->app->event_docs, r->event_id, &rc);
    json_t *ov;
    char s[TIME_UTC_STR], e[TIME_UTC_STR], *own_tail = NULL;

    if (ev == NULL) {
        ctx->failed = 1;
        return -1;
    }
    ov = json_object_get(json_object_get(ev->doc, "overrides"), r->occ.recurrence_id);
    details = sees_details(ctx, ev->doc);
    time_utc_format(r->occ.start_utc, s);
    time_utc_format(r->occ.end_utc, e);
    if (ov != NULL)
        own_tail = tail_text(ev, ov, details);
    /* Piece by piece: printf was a tenth of an occurrence query. */
    const char *const parts[] = {ctx->out.len > 1 ? ",{\"event\":\"" : "{\"event\":\"",
                                 r->event_id,
                                 "\",\"recurrence_id\":\"",
                                 r->occ.recurrence_id,
                                 "\",\"start\":\"",
                                 r->occ.start,
                                 "\",\"end\":\"",
                                 r->occ.end,
                                 "\",\"start_utc\":\"",
                                 s,
                                 "\",\"end_utc\":\"",
                                 e,
                                 "\",",
                                 own_tail ? own_tail : cached_tail(ctx->call, ev, details),
                                 "}"};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
        strbuf_puts(&ctx->out, parts[i]);
    free(own_tail);
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

/*
 * ?declined=include (with ?person= only): the person's own week keeps what
 * they declined, so "我的一周" can show it and let them answer again.
 * 1 to include, 0 not, -1 after replying.
 */
static int declined_param(struct api_call *call, const char *filter)
{
    char buf[16];
    int rc = api_query_param(call, "declined", buf, sizeof(buf));

    if (rc <= 0)
        return rc;
    if (strcmp(buf, "include") != 0) {
        api_reply_error(call, 422, "invalid", "declined", "'declined' may only be 'include'");
        return -1;
    }
    if (filter == NULL || strcmp(filter, "person") != 0) {
        api_reply_error(call, 422, "invalid", "declined",
                        "'declined=include' goes with ?person= (a person's invitations)");
        return -1;
    }
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
    int declined = declined_param(call, filter);
    if (declined < 0)
        return;
    struct list_ctx ctx = {call, {0}, 0};
    strbuf_init(&ctx.out, LIST_MAX_BYTES);
    strbuf_puts(&ctx.out, "[");
    if (declined)
        rc = store_occurrences_invited(call->app->store, from, to, id, add_item, &ctx);
    else
        rc = store_occurrences_list(call->app->store, from, to, type, type ? id : NULL, role,
                                    add_item, &ctx);
    strbuf_puts(&ctx.out, "]");
    if (rc != STORE_OK || ctx.failed) {
        strbuf_free(&ctx.out);
        api_reply_store_error(call);
        return;
    }
    if (ctx.out.overflow) {
        strbuf_free(&ctx.out);
        api_reply_error(call, 422, "too_many", "to",
                        "more occurrences than one answer holds: ask for a shorter period");
        return;
    }
    size_t len;
    char *text = strbuf_detach(&ctx.out, &len);
    api_reply_json_text(call, 200, text, len);
}
