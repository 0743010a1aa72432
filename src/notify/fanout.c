/*
 * fanout.c - from outbox messages to delivery rows: which endpoints want a
 * message (type patterns, person filter), and the exact body each gets
 * ({"type","timestamp","data"}, with confidential details removed for
 * endpoints of people who do not attend). Bodies are fixed at fan-out so
 * every retry sends, and signs, the same bytes. notify_fanout() moves the
 * outbox past a cursor; reminders.c writes its own messages' deliveries
 * with fanout_message() as it creates them.
 */
#include "notify_internal.h"

#include "convene/record.h"
#include "convene/store.h"
#include "convene/taplink.h"
#include "convene/templates.h"
#include "convene/timeutil.h"
#include "convene/visibility.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FANOUT_BATCH 500

const char *const notify_types[] = {
    "event.created",     "event.updated",     "event.cancelled",   "event.preempted",
    "reminder.due",      "dispatch.assigned", "dispatch.updated",  "dispatch.cancelled",
    "dispatch.unacknowledged", "catering.updated", "webhook.disabled", "approval.requested",
    "approval.decided", NULL};

int notify_pattern_matches(const char *pattern, const char *type)
{
    size_t n = strlen(pattern);

    if (strcmp(pattern, "*") == 0)
        return 1;
    if (n >= 2 && strcmp(pattern + n - 2, ".*") == 0)
        return strncmp(pattern, type, n - 1) == 0;
    return strcmp(pattern, type) == 0;
}

int notify_pattern_valid(const char *pattern)
{
    for (size_t i = 0; notify_types[i] != NULL; i++)
        if (notify_pattern_matches(pattern, notify_types[i]))
            return 1;
    return 0;
}

static int wants_type(const char *events, const char *type)
{
    const char *p = events;

    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char pattern[64];
        if (len < sizeof(pattern)) {
            memcpy(pattern, p, len);
            pattern[len] = '\0';
            if (notify_pattern_matches(pattern, type))
                return 1;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}

static int same(json_t *v, const char *person)
{
    return json_is_string(v) && strcmp(json_string_value(v), person) == 0;
}

/*
 * Whether a message concerns person: attendee, driver, passenger, or named
 * directly. A message with an "audience" is for exactly those people
 * (dispatch.*: the drivers, old and new; dispatch.unacknowledged: the
 * secretaries, not the driver who has not answered).
 */
int fanout_about(json_t *data, const char *person)
{
    json_t *event = json_object_get(data, "event"), *trip = json_object_get(data, "trip");
    json_t *audience = json_object_get(data, "audience");
    size_t i;
    json_t *p;

    if (json_is_array(audience)) {
        json_array_foreach(audience, i, p) {
            if (same(p, person))
                return 1;
        }
        return 0;
    }
    if (same(json_object_get(data, "person"), person) ||
        visibility_doc_attends(event, person))
        return 1;
    if (trip != NULL && (same(json_object_get(trip, "driver"), person)))
        return 1;
    return visibility_doc_on_trip(event, person);
}

/*
 * A person's endpoint gets the event as that person sees it (visibility.h):
 * a confidential meeting's details only if they attend or decide one of
 * its pending approvals, its times and their trip if they drive or ride. The changes and the title beside the
 * event go with the details.
 */
static void redact(struct app *app, json_t *data, const char *person)
{
    struct viewer viewer = visibility_person(app, person);
    json_t *event = json_object_get(data, "event");
    enum visibility vis;

    /*
     * about() admitted the message to this endpoint (the person may be
     * named in it without being on the meeting); an open meeting then has
     * nothing to hide from them.
     */
    if (!json_is_true(json_object_get(event, "confidential")) ||
        (vis = visibility_of_doc(&viewer, event)) == VISIBLE_FULL)
        return;
    json_object_set_new(data, "event", visibility_doc_view(event, vis, person));
    json_object_del(data, "changes");
    json_object_del(data, "title");
}

/* A message's body is its data with two fields around it; larger ones are refused. */
#define FANOUT_BODY_MAX (4u << 20)

static int collect_target(const struct webhook_row *w, void *arg)
{
    struct fanout *f = arg;
    struct fanout_target *t;

    f->targets = xrealloc(f->targets, (f->ntargets + 1) * sizeof(*f->targets));
    t = &f->targets[f->ntargets++];
    snprintf(t->id, sizeof(t->id), "%s", w->id);
    snprintf(t->person, sizeof(t->person), "%s", w->person);
    t->events = xstrdup(w->events);
    t->created_at = w->created_at;
    t->format = w->format;
    t->last_reminder[0] = '\0';
    return 0;
}

/*
 * The marker where a link's URL goes: 128 random bits in hex, padded to
 * the URL's length so that a robot message's size limit is kept with the
 * URL in place. Text from bookings cannot guess it, so cutting it out
 * finds exactly the place fan-out chose.
 */
static void link_marker_init(struct fanout *f)
{
    unsigned char raw[16];
    char probe[sizeof(f->link_marker)];
    size_t len;

    f->link_marker[0] = '\0';
    if (app_taplink_url(f->n->app, "probe", probe, sizeof(probe)) != 0 ||
        token_random_bytes(raw, sizeof(raw)) != 0)
        return;
    token_hex(raw, sizeof(raw), f->link_marker);
    for (len = strlen(f->link_marker); len < strlen(probe); len++)
        f->link_marker[len] = 'z';
    f->link_marker[len] = '\0';
}

int fanout_open(struct notify *n, struct fanout *f)
{
    memset(f, 0, sizeof(*f));
    f->n = n;
    link_marker_init(f);
    f->now = clock_wall_s();
    strbuf_init(&f->body, FANOUT_BODY_MAX);
    f->names = json_object();
    f->events = json_object();
    if (store_webhook_list(n->app->store, 1, collect_target, f) != STORE_OK) {
        fanout_close(f);
        return -1;
    }
    return 0;
}

void fanout_close(struct fanout *f)
{
    for (size_t i = 0; i < f->ntargets; i++)
        free(f->targets[i].events);
    free(f->targets);
    f->targets = NULL;
    f->ntargets = 0;
    strbuf_free(&f->body);
    json_decref(f->names);
    json_decref(f->events);
    f->names = f->events = NULL;
}

/* ---------- robots: a message people read, rendered at fan-out ---------- */

/* One field of a person, room or vehicle as a JSON string, or null. */
static json_t *load_field(struct fanout *f, const struct record_type *type, const char *field,
                          const char *id)
{
    struct record rec;
    json_t *out = json_null();

    record_init(&rec, type);
    if (store_record_get(f->n->app->store, type, id, &rec) == STORE_OK) {
        const struct field_value *v = &rec.values[record_field_index(type, field)];
        if (v->set && v->s != NULL)
            out = json_string(v->s);
    }
    record_clear(&rec, type);
    return out != NULL ? out : json_null();
}

static const char *lookup_name(void *arg, const char *kind, const char *id)
{
    static const struct {
        const char *kind;
        const struct record_type *type;
        const char *field;
    } kinds[] = {{"person", &record_person, "name"},   {"room", &record_room, "name"},
                 {"room_location", &record_room, "location"},
                 {"vehicle", &record_vehicle, "name"}, {"plate", &record_vehicle, "plate"}};
    struct fanout *f = arg;
    char key[32 + ID_STR_MAX];
    json_t *v;

    snprintf(key, sizeof(key), "%s:%s", kind, id);
    if ((v = json_object_get(f->names, key)) != NULL)
        return json_string_value(v);
    for (size_t i = 0; i < ARRAY_SIZE(kinds) && v == NULL; i++)
        if (strcmp(kind, kinds[i].kind) == 0)
            v = load_field(f, kinds[i].type, kinds[i].field, id);
    json_object_set_new(f->names, key, v != NULL ? v : json_null());
    return json_string_value(json_object_get(f->names, key));
}

static json_t *lookup_event(void *arg, const char *id)
{
    struct fanout *f = arg;
    struct event_row row;
    json_t *doc = json_object_get(f->events, id);

    if (doc != NULL)
        return json_is_object(doc) ? doc : NULL;
    memset(&row, 0, sizeof(row));
    if (store_event_get(f->n->app->store, id, &row) == STORE_OK)
        doc = json_loads(row.doc, 0, NULL);
    store_event_row_clear(&row);
    json_object_set_new(f->events, id, doc != NULL ? doc : json_null());
    return doc;
}

/*
 * Whether a group robot already has this reminder: reminders come one per
 * attendee, grouped by meeting, occurrence and due time (the order of
 * store_reminders_due), and the group needs one.
 */
static int reminder_repeated(struct fanout_target *t, json_t *data)
{
    char key[sizeof(t->last_reminder)];

    snprintf(key, sizeof(key), "%s|%s|%lld", json_string_value(json_object_get(data, "event")),
             json_string_value(json_object_get(data, "recurrence_id")),
             (long long)json_integer_value(json_object_get(data, "offset_minutes")));
    if (strcmp(key, t->last_reminder) == 0)
        return 1;
    memcpy(t->last_reminder, key, sizeof(key));
    return 0;
}

/* ---------- one-tap links: which copy carries one, and where ---------- */

/* The link a copy for one person may carry (ref, the row to store, the field it goes in). */
struct link_plan {
    char ref[TAPLINK_REF_MAX];
    struct taplink_row row;
    const char *field;     /* "ack_url", "rsvp_url" or "approve_url" */
};

static int latest_return(const struct trip_row *t, void *arg)
{
    int64_t *until = arg;

    if (t->return_utc > *until)
        *until = t->return_utc;
    return 0;
}

/* A trip's acknowledgement, for its driver: dispatch.assigned and .updated. */
static int plan_ack(struct fanout *f, json_t *data, const char *person, struct link_plan *lp)
{
    json_t *trip = json_object_get(data, "trip");
    const char *trip_id = json_string_value(json_object_get(trip, "id"));
    const char *event = json_string_value(json_object_get(data, "event"));
    const char *driver = json_string_value(json_object_get(trip, "driver"));
    int64_t until = 0;

    /* dispatch.updated also reaches the driver taken off the trip: not theirs to acknowledge. */
    if (trip_id == NULL || event == NULL || driver == NULL || strcmp(driver, person) != 0 ||
        taplink_ref_ack(trip_id, person, lp->ref) != 0 ||
        store_trips_of_trip(f->n->app->store, trip_id, latest_return, &until) != STORE_OK ||
        until <= f->now)
        return 0;
    snprintf(lp->row.purpose, sizeof(lp->row.purpose), "ack");
    snprintf(lp->row.event_id, sizeof(lp->row.event_id), "%s", event);
    snprintf(lp->row.trip_id, sizeof(lp->row.trip_id), "%s", trip_id);
    lp->row.expires_utc = until;
    lp->field = "ack_url";
    return 1;
}

/*
 * An attendee's answer to one occurrence: a reminder's, or a meeting's
 * that does not repeat (event.created, .updated). A series' messages have
 * none: which occurrence would it answer? Each reminder carries its own.
 */
static int plan_rsvp(struct fanout *f, const char *type, json_t *data, const char *person,
                     struct link_plan *lp)
{
    json_t *ev = json_object_get(data, "event");
    const char *event, *rid;
    struct occurrence o;
    json_t *doc;

    if (strcmp(type, "reminder.due") == 0) {
        event = json_string_value(ev);
        rid = json_string_value(json_object_get(data, "recurrence_id"));
        doc = event != NULL ? lookup_event(f, event) : NULL;
    } else {
        if (json_is_string(json_object_get(ev, "rrule")) ||
            json_array_size(json_object_get(ev, "rdates")) > 0)
            return 0;
        event = json_string_value(json_object_get(ev, "id"));
        rid = json_string_value(json_object_get(ev, "start"));
        doc = ev;
    }
    if (event == NULL || rid == NULL || doc == NULL || !visibility_doc_attends(doc, person) ||
        taplink_ref_rsvp(event, rid, person, lp->ref) != 0 ||
        store_occurrence_get(f->n->app->store, event, rid, &o) != STORE_OK || o.start_utc <= f->now)
        return 0;
    snprintf(lp->row.purpose, sizeof(lp->row.purpose), "rsvp");
    snprintf(lp->row.event_id, sizeof(lp->row.event_id), "%s", event);
    snprintf(lp->row.recurrence_id, sizeof(lp->row.recurrence_id), "%s", rid);
    lp->row.expires_utc = o.start_utc;
    lp->field = "rsvp_url";
    return 1;
}

/*
 * An approver's decision, for the approver named (approval.requested):
 * valid while the approval waits, until its deadline. A delegate decides
 * in the console: a link acts as the one person it was sent to.
 */
static int plan_approve(struct fanout *f, json_t *data, const char *person,
                        struct link_plan *lp)
{
    const char *id = json_string_value(json_object_get(json_object_get(data, "approval"), "id"));
    struct approval_row a;

    if (id == NULL || store_approval_get(f->n->app->store, id, &a) != STORE_OK ||
        strcmp(a.approver, person) != 0 || strcmp(a.status, "pending") != 0 ||
        a.expires_at <= f->now || taplink_ref_approve(id, person, lp->ref) != 0)
        return 0;
    snprintf(lp->row.purpose, sizeof(lp->row.purpose), "approve");
    snprintf(lp->row.event_id, sizeof(lp->row.event_id), "%s", a.event_id);
    snprintf(lp->row.approval_id, sizeof(lp->row.approval_id), "%s", id);
    lp->row.expires_utc = a.expires_at;
    lp->field = "approve_url";
    return 1;
}

/*
 * Whether the copy for endpoint t carries a link, and which. Only an
 * endpoint bound to the person who acts gets one: a link acts as that
 * person, and an office-wide endpoint (a group, a system) is read by
 * others. Links are off without --public-url (no marker).
 */
static int link_plan(struct fanout *f, const struct fanout_target *t, const char *type,
                     json_t *data, struct link_plan *lp)
{
    int found = 0;

    memset(lp, 0, sizeof(*lp));
    if (f->link_marker[0] == '\0' || t->person[0] == '\0')
        return 0;
    if (strcmp(type, "dispatch.assigned") == 0 || strcmp(type, "dispatch.updated") == 0)
        found = plan_ack(f, data, t->person, lp);
    else if (strcmp(type, "reminder.due") == 0 || strcmp(type, "event.created") == 0 ||
             strcmp(type, "event.updated") == 0)
        found = plan_rsvp(f, type, data, t->person, lp);
    else if (strcmp(type, "approval.requested") == 0)
        found = plan_approve(f, data, t->person, lp);
    if (found) {
        char token[TAPLINK_TOKEN_LEN + 1];
        snprintf(lp->row.person, sizeof(lp->row.person), "%s", t->person);
        lp->row.created_at = f->now;
        taplink_derive(f->n->app->taplink_key, lp->ref, token);
        token_hash(token, TAPLINK_TOKEN_LEN, lp->row.hash);
    }
    return found;
}

/*
 * Writes the delivery of body (the marker in it when lp is given, cut
 * out here) and the link's row. 0, or -1.
 */
static int insert_delivery(struct fanout *f, const struct fanout_target *t, const char *msg_id,
                           const char *type, char *body, const struct link_plan *lp)
{
    struct store *st = f->n->app->store;
    int64_t at;

    if (lp == NULL || (at = taplink_marker_cut(body, f->link_marker)) < 0)
        return store_delivery_insert(st, t->id, msg_id, type, body, f->now) == STORE_OK ? 0 : -1;
    if (store_taplink_put(st, &lp->row) != STORE_OK ||
        store_delivery_insert_link(st, t->id, msg_id, type, body, lp->ref, at, f->now) !=
            STORE_OK)
        return -1;
    return 0;
}

/* The delivery row of one message to a robot; 0, or -1 if it could not be written. */
static int fanout_robot(struct fanout *f, struct fanout_target *t, const char *msg_id,
                        const char *type, json_t *data)
{
    struct template_lookup lookup = {lookup_name, lookup_event, f};
    struct message m;
    char *body;
    int rc = 0;

    if (t->person[0] != '\0' && !fanout_about(data, t->person))
        return 0;
    if (t->person[0] == '\0' && strcmp(type, "reminder.due") == 0 && reminder_repeated(t, data))
        return 0;
    struct link_plan lp;
    int linked;

    if (template_render(type, data, &lookup, &m) != 0)
        return 0; /* a type people do not read */
    if ((linked = link_plan(f, t, type, data, &lp)))
        message_set_link(&m, lp.row.purpose, f->link_marker);
    body = message_robot_body(&m, t->format);
    if (body == NULL || insert_delivery(f, t, msg_id, type, body, linked ? &lp : NULL) != 0)
        rc = -1;
    free(body);
    message_clear(&m);
    return rc;
}

/* Whether messages of type go to endpoints (resource.changed is the change stream's only). */
static int webhook_type(const char *type)
{
    for (size_t i = 0; notify_types[i] != NULL; i++)
        if (strcmp(notify_types[i], type) == 0)
            return 1;
    return 0;
}

int fanout_message(struct fanout *f, const char *msg_id, const char *type, int64_t created_at,
                   const char *created_utc, const char *payload, json_t *data)
{
    struct store *st = f->n->app->store;
    json_t *parsed = NULL;
    char formatted[TIME_UTC_STR];
    const char *stamp = created_utc;
    int rc = 0;

    if (!webhook_type(type))
        return 0;

    if (stamp == NULL) {
        time_utc_format(created_at, formatted);
        stamp = formatted;
    }
    for (size_t i = 0; i < f->ntargets && rc == 0; i++) {
        struct fanout_target *t = &f->targets[i];
        char *text = NULL;

        /* An endpoint receives what happened since it was registered (replay covers the rest). */
        if (created_at < t->created_at || !wants_type(t->events, type))
            continue;
        if (webhook_format_is_robot(t->format)) {
            if (data == NULL && (data = parsed = json_loads(payload, 0, NULL)) == NULL)
                break;
            rc = fanout_robot(f, t, msg_id, type, data);
            continue;
        }
        if (t->person[0] == '\0') {
            /*
             * The body is the payload as written, between the type and the
             * timestamp: payloads are compact JSON objects, so this is what
             * dumping {"type","timestamp","data"} gave, without parsing the
             * payload again for every message.
             */
            f->body.len = 0;
            f->body.overflow = 0;
            strbuf_puts(&f->body, "{\"type\":\"");
            strbuf_puts(&f->body, type);
            strbuf_puts(&f->body, "\",\"timestamp\":\"");
            strbuf_puts(&f->body, stamp);
            strbuf_puts(&f->body, "\",\"data\":");
            strbuf_puts(&f->body, payload);
            strbuf_puts(&f->body, "}");
            if (f->body.overflow) {
                log_error("webhooks: message %s is too large to send", msg_id);
                continue;
            }
            if (store_delivery_insert(st, t->id, msg_id, type, f->body.data, f->now) != STORE_OK)
                rc = -1;
            continue;
        }
        /* Only a person's endpoint may get a redacted copy: it needs the parsed message. */
        if (data == NULL && (data = parsed = json_loads(payload, 0, NULL)) == NULL)
            break;
        if (!fanout_about(data, t->person))
            continue;
        json_t *copy = json_deep_copy(data);
        struct link_plan lp;
        int linked = link_plan(f, t, type, data, &lp);
        redact(f->n->app, copy, t->person);
        if (linked)
            json_object_set_new(copy, lp.field, json_string(f->link_marker));
        json_t *body = json_pack("{s:s, s:s, s:o}", "type", type, "timestamp", stamp, "data", copy);
        text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (text == NULL || insert_delivery(f, t, msg_id, type, text, linked ? &lp : NULL) != 0)
            rc = -1;
        free(text);
    }
    json_decref(parsed);
    return rc;
}

struct fanout_batch {
    struct fanout *f;
    int64_t last_seq;
    size_t count;
    int failed; /* a stop by the callback reads as the end of the rows: remember why */
};

static int fan_one(const struct outbox_row *m, void *arg)
{
    struct fanout_batch *b = arg;

    b->last_seq = m->seq;
    b->count++;
    if (fanout_message(b->f, m->msg_id, m->type, m->created_at, NULL, m->payload, NULL) != 0)
        b->failed = 1;
    return b->failed;
}

/*
 * Links whose trip returned or whose occurrence started a while ago: their
 * page said "expired" for TAPLINK_KEEP_S, now it says "unknown". A slice
 * per fan-out batch, in its transaction (kept when the batch wrote something).
 */
#define TAPLINK_KEEP_S (30 * 86400)

static int prune_links(struct fanout *f)
{
    int64_t pruned = 0;

    return store_taplinks_prune(f->n->app->store, f->now - TAPLINK_KEEP_S, &pruned) == STORE_OK
               ? 0
               : -1;
}

int notify_fanout(struct notify *n)
{
    struct store *st = n->app->store;
    struct fanout f;
    int64_t cursor;
    int more = 1, rc = 0;

    /*
     * With no endpoint there is nothing to write: the cursor waits, and
     * an endpoint registered later skips what happened before it.
     */
    if (fanout_open(n, &f) != 0)
        return -1;
    while (more && f.ntargets > 0) {
        struct fanout_batch b = {&f, 0, 0, 0};

        f.now = clock_wall_s();
        if (store_begin_derived(st) != STORE_OK) {
            rc = -1;
            break;
        }
        if (prune_links(&f) != 0 ||
            store_meta_get_int(st, "outbox_fanned_out", &cursor) != STORE_OK ||
            store_outbox_after(st, cursor, FANOUT_BATCH, fan_one, &b) != STORE_OK || b.failed ||
            (b.last_seq > 0 && store_meta_set_int(st, "outbox_fanned_out", b.last_seq) != STORE_OK) ||
            (b.count > 0 ? store_commit(st) : (store_rollback(st), STORE_OK)) != STORE_OK) {
            store_rollback(st);
            store_durability_restore(st);
            rc = -1;
            break;
        }
        store_durability_restore(st);
        if (b.count > 0)
            n->queue_stale = 1; /* new deliveries may be due */
        more = b.count == FANOUT_BATCH;
    }
    fanout_close(&f);
    return rc;
}
