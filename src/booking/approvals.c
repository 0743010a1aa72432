/*
 * approvals.c - approvals of bookings (CONTRACT section 12). The rules
 * (who is the office director and the principal, the budget tiers,
 * off-day cars, kept rooms) are one document; a new booking they touch is
 * written "pending" with one approval row per reason (approvals_request,
 * called from booking_event_write), holds its time but sends nothing
 * until every approval is given (booking_approval_decide), and is freed
 * when one is refused or none is given in time (booking_approvals_expire,
 * called from notify/approvals.c's timer). The pure parts (tiers in cents,
 * the expiry, who may decide) are src/core/approval.c.
 */
#include "approvals.h"

#include "convene/approval.h"
#include "convene/record.h"
#include "convene/store.h"
#include "convene/token.h"
#include "convene/trips.h"
#include "convene/util.h"
#include "convene/visibility.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_KEY "approval_rules"
#define RULES_MAX_ROOMS 200
#define COMMENT_MAX_CHARS 500
#define OFFICE_MEETING_KIND "办公会" /* the principal's office meeting decides collectively */

/* The rules, loaded from their stored document. */
struct rules {
    int set;
    const char *office_director, *principal; /* into doc */
    int has_tiers;
    int64_t tiers[3];                        /* cents */
    int off_day_vehicles;
    json_t *rooms;                           /* room id -> keeper (borrowed from doc) */
    json_t *doc;                             /* owned */
};

static const char *text(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static json_t *utc_text(int64_t t)
{
    char buf[TIME_UTC_STR];

    time_utc_format(t, buf);
    return json_string(buf);
}

static json_t *text_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static int storage_failed(struct booking_error *err)
{
    return booking_error_set(err, BOOKING_STORAGE, "storage", NULL,
                             "the database failed; the change was not made");
}

/* ---------------- the rules ---------------- */

static void rules_free(struct rules *r)
{
    json_decref(r->doc);
    memset(r, 0, sizeof(*r));
}

/* Reads the stored rules into r (r->set 0 when none). 0, or -1 when the store failed. */
static int rules_load(struct app *app, struct rules *r)
{
    char *stored = NULL;
    json_t *t;
    size_t i;

    memset(r, 0, sizeof(*r));
    if (store_meta_get_text(app->store, RULES_KEY, &stored) != STORE_OK)
        return -1;
    if (stored == NULL || (r->doc = json_loads(stored, 0, NULL)) == NULL) {
        free(stored);
        return 0;
    }
    free(stored);
    r->set = 1;
    r->office_director = text(r->doc, "office_director");
    r->principal = text(r->doc, "principal");
    r->off_day_vehicles = json_is_true(json_object_get(r->doc, "off_day_vehicles"));
    r->rooms = json_object_get(r->doc, "rooms");
    json_array_foreach(json_object_get(r->doc, "budget_tiers"), i, t) {
        if (i < 3 && approval_amount_cents(json_number_value(t), &r->tiers[i]) == 0)
            r->has_tiers = i == 2;
    }
    return 0;
}

int booking_approval_rules_get(struct app *app, json_t **out, struct booking_error *err)
{
    struct rules r;

    *out = NULL;
    if (rules_load(app, &r) != 0)
        return storage_failed(err);
    if (!r.set) {
        rules_free(&r);
        return booking_error_set(err, BOOKING_NOT_FOUND, "not_found", NULL,
                                 "no approval rules are set");
    }
    *out = json_incref(r.doc);
    rules_free(&r);
    return 0;
}

/* A member naming a live person; 422 unknown_id otherwise. */
static int check_person(struct app *app, json_t *obj, const char *name, const char *field,
                        int required, struct booking_error *err)
{
    const char *id = NULL;
    int rc = plan_member_string(obj, name, required, ID_STR_MAX - 1, &id, err);

    if (rc <= 0)
        return rc;
    rc = store_record_exists(app->store, &record_person, id);
    if (rc == STORE_NOTFOUND)
        return booking_error_set(err, BOOKING_INVALID, "unknown_id", field,
                                 "no person with id '%s'", id);
    return rc == STORE_OK ? 0 : storage_failed(err);
}

/* budget_tiers: three amounts in yuan, positive, at most 2 decimals, strictly increasing. */
static int check_tiers(json_t *tiers, struct booking_error *err)
{
    int64_t prev = 0, cents;
    size_t i;
    json_t *t;

    if (tiers == NULL || json_is_null(tiers))
        return 0;
    if (!json_is_array(tiers))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "budget_tiers",
                                 "'budget_tiers' must be an array of three amounts");
    if (json_array_size(tiers) != 3)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "budget_tiers",
                                 "'budget_tiers' must hold exactly three amounts");
    json_array_foreach(tiers, i, t) {
        char field[48];
        snprintf(field, sizeof(field), "budget_tiers[%zu]", i);
        if (!json_is_number(t))
            return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", field,
                                     "'%s' must be a number", field);
        if (approval_amount_cents(json_number_value(t), &cents) != 0 || cents <= prev)
            return booking_error_set(err, BOOKING_INVALID, "invalid", field,
                                     "'%s' must be above the tier before it, with at most "
                                     "2 decimals",
                                     field);
        prev = cents;
    }
    return 0;
}

/* rooms: {room id: keeper's person id}, both live. */
static int check_rooms(struct app *app, json_t *rooms, struct booking_error *err)
{
    const char *room;
    json_t *keeper;

    if (rooms == NULL || json_is_null(rooms))
        return 0;
    if (!json_is_object(rooms))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "rooms",
                                 "'rooms' must be an object {room id: keeper's person id}");
    if (json_object_size(rooms) > RULES_MAX_ROOMS)
        return booking_error_set(err, BOOKING_INVALID, "too_many", "rooms",
                                 "'rooms' may list at most %d rooms", RULES_MAX_ROOMS);
    json_object_foreach(rooms, room, keeper) {
        char field[ID_STR_MAX + 8];
        int rc = store_record_exists(app->store, &record_room, room);
        snprintf(field, sizeof(field), "rooms.%.*s", ID_STR_MAX - 1, room);
        if (rc == STORE_NOTFOUND)
            return booking_error_set(err, BOOKING_INVALID, "unknown_id", field,
                                     "no room with id '%s'", room);
        if (rc != STORE_OK)
            return storage_failed(err);
        json_t *wrap = json_pack("{s:O}", "keeper", keeper);
        rc = check_person(app, wrap, "keeper", field, 1, err);
        json_decref(wrap);
        if (rc != 0) {
            snprintf(err->field, sizeof(err->field), "%s", field);
            return -1;
        }
    }
    return 0;
}

int booking_approval_rules_put(const struct booking_ctx *ctx, json_t *body, json_t **out,
                               struct booking_error *err)
{
    static const char *const members[] = {"office_director", "principal", "budget_tiers",
                                          "off_day_vehicles", "rooms", NULL};
    struct app *app = ctx->app;
    json_t *off;
    char *textual;
    int rc;

    *out = NULL;
    if (body == NULL)
        return store_meta_set_text(app->store, RULES_KEY, "") == STORE_OK ? 0
                                                                           : storage_failed(err);
    off = json_object_get(body, "off_day_vehicles");
    if (plan_only_members(body, members, err) != 0 ||
        check_person(app, body, "office_director", "office_director", 1, err) != 0 ||
        check_person(app, body, "principal", "principal", 1, err) != 0 ||
        check_tiers(json_object_get(body, "budget_tiers"), err) != 0 ||
        check_rooms(app, json_object_get(body, "rooms"), err) != 0)
        return -1;
    if (off != NULL && !json_is_boolean(off) && !json_is_null(off))
        return booking_error_set(err, BOOKING_MALFORMED, "wrong_type", "off_day_vehicles",
                                 "'off_day_vehicles' must be true or false");
    textual = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    rc = textual != NULL ? store_meta_set_text(app->store, RULES_KEY, textual) : STORE_ERROR;
    free(textual);
    if (rc != STORE_OK)
        return storage_failed(err);
    *out = json_incref(body);
    return 0;
}

/* ---------------- approvals as rows and as JSON ---------------- */

/*
 * An event's approvals, every one it was ever asked for: each change that
 * moves a need (another room, a higher budget) withdraws one and adds one,
 * so the list has no fixed bound. Start empty ({0}); list_free when done.
 */
struct approval_list {
    struct approval_row *v;
    size_t n, cap;
};

static struct approval_row *list_push(struct approval_list *l, const struct approval_row *a)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 4;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n] = *a;
    return &l->v[l->n++];
}

static void list_free(struct approval_list *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int collect(const struct approval_row *a, void *arg)
{
    list_push(arg, a);
    return 0;
}

static int load_list(struct store *st, const char *event_id, struct approval_list *l)
{
    l->n = 0;
    return store_approvals_of_event(st, event_id, collect, l) == STORE_OK ? 0 : -1;
}

/* An approval as clients see it; with_event adds the event's id (lists, messages). */
static json_t *approval_render(const struct approval_row *a, int with_event)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", a->id, "reason",
                          a->reason, "tier", a->tier, "approver", a->approver, "status", a->status,
                          "expires", utc_text(a->expires_at), "requested_by",
                          text_or_null(a->requested_by), "requested_at",
                          utc_text(a->requested_at));

    if (with_event)
        json_object_set_new(o, "event", json_string(a->event_id));
    if (a->decided_at > 0) {
        json_object_set_new(o, "decided_by", text_or_null(a->decided_by));
        json_object_set_new(o, "decided_at", utc_text(a->decided_at));
        json_object_set_new(o, "comment", text_or_null(a->comment));
        if (a->meeting[0] != '\0')
            json_object_set_new(o, "meeting", json_string(a->meeting));
    }
    return o;
}

/* The document's copy of its approvals (what GET /events/{id} shows). */
static void doc_set_approvals(json_t *doc, const struct approval_list *l)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(arr, approval_render(&l->v[i], 0));
    json_object_set_new(doc, "approvals", arr);
}

/* ---------------- at booking ---------------- */

/* What one reason needs: who approves and at which tier. */
struct need {
    const char *reason, *tier;
    char approver[ID_STR_MAX];
};

/* A budget, off-day cars, and a room's keeper for the event's room and each occurrence's own. */
#define NEEDS_MAX (2 + 1 + EVENT_MAX_ROOMS)

/* The in-charge leader (分管领导) of the booking's department. */
static int in_charge_of(struct app *app, const struct event_plan *p, char out[ID_STR_MAX],
                        struct booking_error *err)
{
    struct department_row d;
    int rc;

    if (p->department == NULL)
        return booking_error_set(err, BOOKING_INVALID, "department_required", "department",
                                 "a budget in this tier is approved by the department's "
                                 "in-charge leader: name the 'department'");
    rc = store_department_by_name(app->store, p->department, &d);
    if (rc == STORE_NOTFOUND)
        return booking_error_set(err, BOOKING_INVALID, "unknown_department", "department",
                                 "no department named '%s'", p->department);
    if (rc != STORE_OK)
        return storage_failed(err);
    if (d.in_charge[0] == '\0')
        return booking_error_set(err, BOOKING_INVALID, "no_approver", "department",
                                 "department '%s' has no in-charge leader to approve it",
                                 p->department);
    memcpy(out, d.in_charge, ID_STR_MAX);
    return 0;
}

static int budget_need(struct app *app, const struct rules *r, const struct event_plan *p,
                       struct need *n, struct booking_error *err)
{
    enum approval_tier tier;

    if (!r->has_tiers || !p->has_budget ||
        (tier = approval_budget_tier(p->budget_cents, r->tiers)) == APPROVAL_TIER_NONE)
        return 0;
    n->reason = "budget";
    n->tier = approval_tier_name(tier);
    if (tier == APPROVAL_TIER_IN_CHARGE)
        return in_charge_of(app, p, n->approver, err) == 0 ? 1 : -1;
    snprintf(n->approver, sizeof(n->approver), "%s",
             tier == APPROVAL_TIER_OFFICE_DIRECTOR ? r->office_director : r->principal);
    return 1;
}

/* Whether a trip of any stored occurrence departs or returns on a day off. */
static int off_day_trip(struct app *app, const struct event_plan *p)
{
    for (size_t t = 0; t < p->ntrips; t++) {
        for (size_t o = 0; o < p->nocc; o++) {
            struct local_time d, ret, day;
            int64_t du, ru;
            event_plan_trip_times(p, &p->occ[o], &p->trips[t], &d, &ret, &du, &ru);
            if (trips_needs_approval(app_workcal(app), &d, &ret, &day))
                return 1;
        }
    }
    return 0;
}

/* approved_by, where given, must name the approver the rules name for cars. */
static int check_approved_by(const struct rules *r, const struct event_plan *p,
                             struct booking_error *err)
{
    for (size_t t = 0; r->off_day_vehicles && t < p->ntrips; t++) {
        const char *by = p->trips[t].approved_by;
        if (by != NULL && strcmp(by, r->office_director) != 0) {
            char field[48];
            snprintf(field, sizeof(field), "trips[%zu].approved_by", t);
            return booking_error_set(err, BOOKING_INVALID, "wrong_approver", field,
                                     "off-day cars are approved by the office director "
                                     "('%s'), not '%s'",
                                     r->office_director, by);
        }
    }
    return 0;
}

/*
 * The keeper of a kept room among the event's room and the rooms single
 * occurrences moved to: one need per keeper (one person decides for all
 * the rooms they keep). n grows by the needs added.
 */
static void room_needs(const struct rules *r, const struct event_plan *p, struct need needs[],
                       int *n)
{
    for (size_t i = 0; i <= p->nrooms; i++) {
        const char *room = i == 0 ? p->room : p->rooms[i - 1].id;
        const char *keeper = room ? json_string_value(json_object_get(r->rooms, room)) : NULL;
        int known = 0;

        for (int k = 0; keeper != NULL && k < *n && !known; k++)
            known = strcmp(needs[k].reason, "room") == 0 && strcmp(needs[k].approver, keeper) == 0;
        if (keeper == NULL || known)
            continue;
        needs[*n].reason = "room";
        needs[*n].tier = "keeper";
        snprintf(needs[(*n)++].approver, ID_STR_MAX, "%s", keeper);
    }
}

/* The needs of a booking under r, in the order they are listed. n or -1. */
static int needs_of(struct app *app, const struct rules *r, struct event_plan *p,
                    struct need needs[NEEDS_MAX], struct booking_error *err)
{
    int n = 0, rc;

    if ((rc = budget_need(app, r, p, &needs[n], err)) < 0)
        return -1;
    n += rc;
    if (r->off_day_vehicles) {
        if (check_approved_by(r, p, err) != 0)
            return -1;
        /* The office director decides these instead of section 6's approved_by. */
        p->off_days_approved = 1;
        if (off_day_trip(app, p)) {
            needs[n].reason = "off_day_vehicle";
            needs[n].tier = "office_director";
            snprintf(needs[n++].approver, ID_STR_MAX, "%s", r->office_director);
        }
    }
    room_needs(r, p, needs, &n);
    return n;
}

/* Stores the approvals of a new pending booking and lists them in doc. */
static int store_needs(const struct booking_ctx *ctx, const struct event_row *row, json_t *doc,
                       const struct need *needs, int n, int64_t start)
{
    struct approval_list l = {0};
    struct approval_row blank;

    memset(&blank, 0, sizeof(blank));
    for (int i = 0; i < n; i++) {
        struct approval_row *a = list_push(&l, &blank);
        token_id_generate("apr", a->id);
        snprintf(a->event_id, sizeof(a->event_id), "%s", row->id);
        snprintf(a->reason, sizeof(a->reason), "%s", needs[i].reason);
        snprintf(a->tier, sizeof(a->tier), "%s", needs[i].tier);
        snprintf(a->approver, sizeof(a->approver), "%s", needs[i].approver);
        snprintf(a->status, sizeof(a->status), "pending");
        if (ctx->actor != NULL)
            snprintf(a->requested_by, sizeof(a->requested_by), "%s", ctx->actor->person);
        a->requested_at = ctx->now;
        a->expires_at = approval_expires(ctx->now, start);
        if (store_approval_insert(ctx->app->store, a) != STORE_OK) {
            list_free(&l);
            return -1;
        }
    }
    doc_set_approvals(doc, &l);
    list_free(&l);
    return 0;
}

int approvals_request(const struct booking_ctx *ctx, struct event_plan *plan,
                      struct event_row *row, json_t *doc, struct booking_error *err)
{
    struct rules r;
    struct need needs[NEEDS_MAX];
    int n = 0, rc = -1;

    json_object_del(doc, "approvals"); /* the server's to write, never the client's */
    if (rules_load(ctx->app, &r) != 0)
        return storage_failed(err);
    if (!r.set || (n = needs_of(ctx->app, &r, plan, needs, err)) <= 0) {
        rc = r.set && n < 0 ? -1 : 0;
        goto done;
    }
    int64_t start = plan->nocc + plan->nbeyond > 0 ? plan->occ[0].start_utc : ctx->now;
    if (approval_too_late(ctx->now, start)) {
        booking_error_set(err, BOOKING_INVALID, "too_late_for_approval", "start",
                          "this booking needs approval (%s), which must be given at least 2 "
                          "hours before the start; that time has passed",
                          needs[0].reason);
        goto done;
    }
    row->status = EVENT_PENDING;
    rc = store_needs(ctx, row, doc, needs, n, start) == 0 ? 0 : storage_failed(err);
done:
    rules_free(&r);
    return rc;
}

/* ---------------- at a change ---------------- */

/* How high a budget tier reaches: a higher tier's approval covers a lower amount. */
static int tier_rank(const char *tier)
{
    static const char *const order[] = {"office_director", "in_charge", "principal",
                                        "collective"};

    for (size_t i = 0; i < ARRAY_SIZE(order); i++)
        if (strcmp(tier, order[i]) == 0)
            return (int)i + 1;
    return 0;
}

/*
 * Whether an approval of (reason, tier, approver) already answers need: the
 * same reason, and for a budget a tier at least as high (the same tier by
 * the same person: another department's in-charge leader is another
 * decision); for a car or a room, the same approver.
 */
static int covers(const char *reason, const char *tier, const char *approver,
                  const struct need *n)
{
    int a = tier_rank(tier), b = tier_rank(n->tier);

    if (strcmp(reason, n->reason) != 0)
        return 0;
    if (strcmp(reason, "budget") == 0 && a != b)
        return a > b;
    return strcmp(approver, n->approver) == 0;
}

/* Whether a stored approval that still stands (approved; or pending, when the event is) covers n. */
static int covered_by_list(const struct approval_list *l, const struct need *n, int pending)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct approval_row *a = &l->v[i];
        int stands = strcmp(a->status, "approved") == 0 ||
                     (pending && strcmp(a->status, "pending") == 0);
        if (stands && covers(a->reason, a->tier, a->approver, n))
            return 1;
    }
    return 0;
}

/*
 * The needs of the event as stored before this change (its row is not yet
 * rewritten): what it needed then was settled then, approved or booked
 * before the rules. n, or -1 when it cannot be read.
 */
static int needs_before(const struct booking_ctx *ctx, const struct rules *r,
                        const char *event_id, struct need needs[NEEDS_MAX])
{
    struct event_row prev;
    struct event_plan plan;
    struct booking_error err = {0};
    json_t *doc = NULL;
    int n = -1;

    memset(&prev, 0, sizeof(prev));
    if (store_event_get(ctx->app->store, event_id, &prev) == STORE_OK &&
        (doc = json_loads(prev.doc, 0, NULL)) != NULL &&
        event_plan_parse(ctx->app, doc, &plan, &err) == 0) {
        if (event_plan_resolve(ctx->app, &plan, &err) == 0 &&
            event_plan_expand(&plan, ctx->now, &err) == 0)
            n = needs_of(ctx->app, r, &plan, needs, &err);
        event_plan_free(&plan);
    }
    booking_error_clear(&err);
    json_decref(doc);
    store_event_row_clear(&prev);
    return n;
}

/* The first occurrence still ahead: a change's approvals are due before it. */
static int64_t next_start(const struct event_plan *p, int64_t now)
{
    for (size_t o = 0; o < p->nocc; o++)
        if (p->occ[o].start_utc > now)
            return p->occ[o].start_utc;
    return p->nocc > 0 ? p->occ[p->nocc - 1].start_utc : now;
}

/*
 * Copies into fresh[] the needs of all[] nothing answers yet: no approval
 * that stands covers it and the event did not need it before the change.
 * Returns how many.
 */
static int fresh_needs(const struct booking_ctx *ctx, const struct rules *r,
                       const struct event_row *row, const struct approval_list *l,
                       const struct need all[], int n, struct need fresh[NEEDS_MAX])
{
    struct need before[NEEDS_MAX];
    int nb = -2, kept = 0;

    for (int i = 0; i < n; i++) {
        int old = 0;
        if (covered_by_list(l, &all[i], row->status == EVENT_PENDING))
            continue;
        if (nb == -2) /* read only when something is uncovered: most changes stop above */
            nb = needs_before(ctx, r, row->id, before);
        for (int k = 0; k < nb && !old; k++)
            old = covers(before[k].reason, before[k].tier, before[k].approver, &all[i]);
        if (!old)
            fresh[kept++] = all[i];
    }
    return kept;
}

/* Whether the approval answers one of the event's needs. */
static int answers_a_need(const struct approval_row *a, const struct need all[], int nall)
{
    for (int k = 0; k < nall; k++)
        if (covers(a->reason, a->tier, a->approver, &all[k]))
            return 1;
    return 0;
}

/*
 * A pending approval that a new one of its reason replaces is withdrawn, one
 * decision each: a budget asked of a higher tier, a room whose keeper is no
 * longer concerned. One that still answers a need of all[] stays (the
 * keeper of the event's room, when an occurrence moves to another kept room).
 */
static int withdraw_replaced(const struct booking_ctx *ctx, struct approval_list *l,
                             const struct need fresh[], int nfresh, const struct need all[],
                             int nall)
{
    for (size_t i = 0; i < l->n; i++) {
        int replaced = 0;
        for (int k = 0; k < nfresh; k++)
            replaced |= strcmp(l->v[i].reason, fresh[k].reason) == 0;
        if (!replaced || strcmp(l->v[i].status, "pending") != 0 ||
            answers_a_need(&l->v[i], all, nall))
            continue;
        snprintf(l->v[i].status, sizeof(l->v[i].status), "withdrawn");
        l->v[i].decided_at = ctx->now;
        if (store_approval_update(ctx->app->store, &l->v[i]) != STORE_OK)
            return -1;
    }
    return 0;
}

/* Asks for the fresh needs of all[]: the event is pending again, holding its time. */
static int request_again(const struct booking_ctx *ctx, const struct event_plan *plan,
                         struct event_row *row, json_t *doc, struct approval_list *l,
                         const struct need all[], int nall, const struct need *needs, int n,
                         struct booking_error *err)
{
    int64_t start = next_start(plan, ctx->now);

    if (approval_too_late(ctx->now, start))
        return booking_error_set(err, BOOKING_INVALID, "too_late_for_approval", "start",
                                 "this change needs approval (%s), which must be given at "
                                 "least 2 hours before the start; that time has passed",
                                 needs[0].reason);
    if (withdraw_replaced(ctx, l, needs, n, all, nall) != 0 ||
        store_needs(ctx, row, doc, needs, n, start) != 0 ||
        load_list(ctx->app->store, row->id, l) != 0)
        return storage_failed(err);
    row->status = EVENT_PENDING;
    doc_set_approvals(doc, l);
    return 0;
}

int approvals_change(const struct booking_ctx *ctx, struct event_plan *plan,
                     struct event_row *row, json_t *doc, struct booking_error *err)
{
    struct approval_list l = {0};
    struct rules r;
    struct need all[NEEDS_MAX], fresh[NEEDS_MAX];
    int nall, n, rc = -1;

    /* The server's to write: the stored approvals, whatever the change said. */
    json_object_del(doc, "approvals");
    if (load_list(ctx->app->store, row->id, &l) != 0 || rules_load(ctx->app, &r) != 0) {
        list_free(&l);
        return storage_failed(err);
    }
    if (l.n > 0)
        doc_set_approvals(doc, &l);
    if (!r.set) {
        rc = 0;
    } else if (row->status != EVENT_CONFIRMED && row->status != EVENT_PENDING) {
        rc = check_approved_by(&r, plan, err); /* nothing held: nothing to approve */
    } else if ((nall = needs_of(ctx->app, &r, plan, all, err)) >= 0) {
        n = fresh_needs(ctx, &r, row, &l, all, nall, fresh);
        rc = n == 0 ? 0 : request_again(ctx, plan, row, doc, &l, all, nall, fresh, n, err);
    }
    rules_free(&r);
    list_free(&l);
    return rc;
}

/* Whether the approval id is listed in before (an earlier state of the event). */
static int listed_before(json_t *before, const char *id)
{
    size_t i;
    json_t *a;

    json_array_foreach(json_object_get(before, "approvals"), i, a) {
        if (strcmp(text(a, "id"), id) == 0)
            return 1;
    }
    return 0;
}

int approvals_announce(const struct booking_ctx *ctx, const char *event_id, json_t *before,
                       json_t *event)
{
    json_t *asked = json_array(), *a;
    size_t i;
    int rc = 0;

    json_array_foreach(json_object_get(event, "approvals"), i, a) {
        if (strcmp(text(a, "status"), "pending") != 0 || listed_before(before, text(a, "id")))
            continue;
        json_t *msg = json_pack("{s:O, s:O, s:[O]}", "approval", a, "event", event, "audience",
                                json_object_get(a, "approver"));
        json_object_set_new(json_object_get(msg, "approval"), "event", json_string(event_id));
        json_array_append(asked, a);
        if ((rc = booking_outbox_append(ctx->app->store, "approval.requested", msg)) != 0)
            break;
    }
    if (rc == 0 && json_array_size(asked) > 0)
        rc = booking_audit(ctx->app, ctx->actor, event_id, "approval_requested", NULL, asked);
    json_decref(asked);
    return rc;
}

int approvals_withdraw(const struct booking_ctx *ctx, const char *event_id, json_t *doc)
{
    struct approval_list l = {0};
    int rc = load_list(ctx->app->store, event_id, &l);

    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        if (strcmp(l.v[i].status, "pending") != 0)
            continue;
        snprintf(l.v[i].status, sizeof(l.v[i].status), "withdrawn");
        l.v[i].decided_at = ctx->now;
        if (store_approval_update(ctx->app->store, &l.v[i]) != STORE_OK)
            rc = -1;
    }
    if (rc == 0 && l.n > 0)
        doc_set_approvals(doc, &l);
    list_free(&l);
    return rc;
}

/* ---------------- deciding ---------------- */

struct decision {
    int approve;
    const char *comment, *meeting;
};

static int parse_decision(json_t *body, struct decision *d, struct booking_error *err)
{
    static const char *const members[] = {"decision", "comment", "meeting", NULL};
    const char *word = NULL;

    memset(d, 0, sizeof(*d));
    if (plan_only_members(body, members, err) != 0 ||
        plan_member_string(body, "decision", 1, 16, &word, err) < 0 ||
        plan_member_string(body, "comment", 0, COMMENT_MAX_CHARS, &d->comment, err) < 0 ||
        plan_member_string(body, "meeting", 0, ID_STR_MAX - 1, &d->meeting, err) < 0)
        return -1;
    if (strcmp(word, "approve") != 0 && strcmp(word, "reject") != 0)
        return booking_error_set(err, BOOKING_INVALID, "invalid", "decision",
                                 "'decision' must be approve or reject");
    d->approve = strcmp(word, "approve") == 0;
    return 0;
}

/* May the actor decide a? 0, or -1 with a 403. */
static int check_right(const struct booking_ctx *ctx, const struct approval_row *a,
                       struct booking_error *err)
{
    const struct booking_actor *who = ctx->actor;
    int delegate = 0;

    if (who->person[0] != '\0') {
        int rc = store_block_delegates(ctx->app->store, a->approver, who->person, ctx->now);
        if (rc != STORE_OK && rc != STORE_NOTFOUND)
            return storage_failed(err);
        delegate = rc == STORE_OK;
    }
    switch (approval_right_of(who->person, who->admin, a->approver, a->requested_by, delegate)) {
    case APPROVAL_MAY:
        return 0;
    case APPROVAL_REQUESTER:
        return booking_error_set(err, BOOKING_FORBIDDEN, "own_request", NULL,
                                 "you requested this booking; someone else must approve it");
    case APPROVAL_NOT_YOURS:
        break;
    }
    return booking_error_set(err, BOOKING_FORBIDDEN, "forbidden", NULL,
                             "only the approver, their delegate or an admin may decide this");
}

/* A collective decision names the 办公会 that took it: a held event of that kind. */
static int check_meeting(struct app *app, const char *meeting, struct booking_error *err)
{
    struct event_row ev;
    json_t *doc;
    int ok, rc;

    if (meeting == NULL)
        return booking_error_set(err, BOOKING_INVALID, "meeting_required", "meeting",
                                 "above the last budget tier the office meeting (办公会) "
                                 "decides: name it in 'meeting'");
    memset(&ev, 0, sizeof(ev));
    rc = store_event_get(app->store, meeting, &ev);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return storage_failed(err);
    doc = rc == STORE_OK ? json_loads(ev.doc, 0, NULL) : NULL;
    ok = doc != NULL && ev.status == EVENT_CONFIRMED &&
         strcmp(text(doc, "kind"), OFFICE_MEETING_KIND) == 0;
    json_decref(doc);
    store_event_row_clear(&ev);
    if (rc == STORE_NOTFOUND)
        return booking_error_set(err, BOOKING_INVALID, "unknown_id", "meeting",
                                 "no event with id '%s'", meeting);
    if (!ok)
        return booking_error_set(err, BOOKING_INVALID, "not_office_meeting", "meeting",
                                 "'meeting' must be a confirmed event of kind 办公会");
    return 0;
}

/* What the approvals of an event now make it. */
static enum event_status settled_status(const struct approval_list *l)
{
    int all = 1;

    for (size_t i = 0; i < l->n; i++) {
        /* Replaced by a later request (approvals_change): no longer asked. */
        if (strcmp(l->v[i].status, "withdrawn") == 0)
            continue;
        if (strcmp(l->v[i].status, "rejected") == 0)
            return EVENT_REJECTED;
        if (strcmp(l->v[i].status, "expired") == 0)
            return EVENT_EXPIRED;
        all &= strcmp(l->v[i].status, "approved") == 0;
    }
    return all ? EVENT_CONFIRMED : EVENT_PENDING;
}

/*
 * Brings the event in line with its approvals (l, as now stored): its
 * document's copy, and when settled its status, written through
 * booking_event_write (confirmed: claims, trips, meals and reminders with
 * their messages; rejected or expired: nothing held) and recorded. *event
 * the event as rendered afterwards (a new reference). 0 or -1 with err.
 */
static int settle_event(const struct booking_ctx *ctx, const char *event_id,
                        const struct approval_list *l, json_t **event, struct booking_error *err)
{
    static const char *const actions[] = {[EVENT_CONFIRMED] = "confirmed",
                                          [EVENT_REJECTED] = "rejected",
                                          [EVENT_EXPIRED] = "expired"};
    struct event_row row;
    json_t *doc = NULL, *before = NULL;
    enum event_status next = settled_status(l);
    char *out_text = NULL;
    int rc = -1;

    memset(&row, 0, sizeof(row));
    *event = NULL;
    if (store_event_get(ctx->app->store, event_id, &row) != STORE_OK ||
        (doc = json_loads(row.doc, 0, NULL)) == NULL) {
        storage_failed(err);
        goto done;
    }
    before = booking_event_render(&row, doc);
    doc_set_approvals(doc, l);
    row.version++;
    row.updated_at = ctx->now;
    if (next == EVENT_PENDING) {
        /* One of several given: only the document's copy changes. */
        free(row.doc);
        row.doc = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        if (store_event_update(ctx->app->store, &row) != STORE_OK) {
            storage_failed(err);
            goto done;
        }
        *event = booking_event_render(&row, doc);
        rc = 0;
        goto done;
    }
    row.status = next;
    row.sequence++;
    /* Its time was held all along: written without a second clash check. */
    if (booking_event_write(ctx, doc, &row, 0, 0, 0, err) != 0)
        goto done;
    *event = booking_record_change(ctx, &row, doc, "event.updated", actions[next], before,
                                   &out_text);
    rc = *event != NULL ? 0 : storage_failed(err);
done:
    free(out_text);
    json_decref(before);
    json_decref(doc);
    store_event_row_clear(&row);
    return rc;
}

/* approval.decided to the requester: the approval, the decision's word and the event. */
static int announce_decision(const struct booking_ctx *ctx, const struct approval_row *a,
                             const char *decision, json_t *event)
{
    json_t *audience = json_array();

    if (a->requested_by[0] != '\0')
        json_array_append_new(audience, json_string(a->requested_by));
    return booking_outbox_append(ctx->app->store, "approval.decided",
                                 json_pack("{s:o, s:s, s:O, s:o}", "approval",
                                           approval_render(a, 1), "decision", decision, "event",
                                           event, "audience", audience));
}

/*
 * Records the decision on a (loaded, pending, the actor's to make) and
 * settles its event; l receives the event's approvals.
 */
static int record_decision_in(const struct booking_ctx *ctx, struct approval_row *a,
                              const struct decision *d, struct approval_list *l, json_t **out,
                              struct booking_error *err)
{
    struct store *st = ctx->app->store;
    json_t *event = NULL;

    snprintf(a->status, sizeof(a->status), "%s", d->approve ? "approved" : "rejected");
    snprintf(a->decided_by, sizeof(a->decided_by), "%s", ctx->actor->person);
    a->decided_at = ctx->now;
    snprintf(a->comment, sizeof(a->comment), "%s", d->comment ? d->comment : "");
    snprintf(a->meeting, sizeof(a->meeting), "%s", d->meeting && d->approve ? d->meeting : "");
    if (store_approval_update(st, a) != STORE_OK || load_list(st, a->event_id, l) != 0)
        return storage_failed(err);
    /* A refusal ends the others: nobody needs to decide a booking that will not happen. */
    for (size_t i = 0; !d->approve && i < l->n; i++) {
        if (strcmp(l->v[i].status, "pending") != 0)
            continue;
        snprintf(l->v[i].status, sizeof(l->v[i].status), "withdrawn");
        l->v[i].decided_at = ctx->now;
        if (store_approval_update(st, &l->v[i]) != STORE_OK)
            return storage_failed(err);
    }
    json_t *entry = approval_render(a, 0);
    int audited = booking_audit(ctx->app, ctx->actor, a->event_id, "approval_decided", NULL, entry);
    json_decref(entry);
    if (audited != 0)
        return storage_failed(err);
    if (settle_event(ctx, a->event_id, l, &event, err) != 0)
        return -1;
    if (announce_decision(ctx, a, d->approve ? "approved" : "rejected", event) != 0) {
        json_decref(event);
        return storage_failed(err);
    }
    *out = approval_render(a, 1);
    json_object_set(*out, "event_status", json_object_get(event, "status"));
    json_decref(event);
    return 0;
}

static int record_decision(const struct booking_ctx *ctx, struct approval_row *a,
                           const struct decision *d, json_t **out, struct booking_error *err)
{
    struct approval_list l = {0};
    int rc = record_decision_in(ctx, a, d, &l, out, err);

    list_free(&l);
    return rc;
}

static int decide_in(const struct booking_ctx *ctx, const char *id, const struct decision *d,
                     json_t **out, struct booking_error *err)
{
    struct approval_row a;
    int rc = store_approval_get(ctx->app->store, id, &a);

    if (rc == STORE_NOTFOUND)
        return booking_error_set(err, BOOKING_NOT_FOUND, "not_found", NULL,
                                 "no approval with id '%s'", id);
    if (rc != STORE_OK)
        return storage_failed(err);
    if (check_right(ctx, &a, err) != 0)
        return -1;
    if (strcmp(a.status, "pending") != 0)
        return booking_error_set(err, BOOKING_CONFLICT, "already_decided", NULL,
                                 "the approval is already %s", a.status);
    if (ctx->now >= a.expires_at)
        return booking_error_set(err, BOOKING_CONFLICT, "expired", NULL,
                                 "the approval expired; the booking no longer holds its time");
    if (d->approve && strcmp(a.tier, "collective") == 0 &&
        check_meeting(ctx->app, d->meeting, err) != 0)
        return -1;
    return record_decision(ctx, &a, d, out, err);
}

int booking_approval_decide(const struct booking_ctx *ctx, const char *id, json_t *body,
                            json_t **out, struct booking_error *err)
{
    struct store *st = ctx->app->store;
    struct decision d;

    *out = NULL;
    if (parse_decision(body, &d, err) != 0)
        return -1;
    if (store_begin(st) != STORE_OK)
        return storage_failed(err);
    if (decide_in(ctx, id, &d, out, err) != 0 || store_commit(st) != STORE_OK) {
        store_rollback(st);
        json_decref(*out);
        *out = NULL;
        return err->kind != BOOKING_OK ? -1 : storage_failed(err);
    }
    return 0;
}

/* ---------------- expiry ---------------- */

/* Expires the pending approvals of one event due by now, in a transaction of its own. */
static int expire_event(const char *event_id, void *arg)
{
    const struct booking_ctx *ctx = arg;
    struct store *st = ctx->app->store;
    struct booking_error err = {0};
    struct approval_list l = {0};
    json_t *event = NULL;
    int rc = -1;

    if (store_begin(st) != STORE_OK)
        return -1;
    if (load_list(st, event_id, &l) != 0)
        goto done;
    for (size_t i = 0; i < l.n; i++) {
        if (strcmp(l.v[i].status, "pending") != 0 || l.v[i].expires_at > ctx->now)
            continue;
        snprintf(l.v[i].status, sizeof(l.v[i].status), "expired");
        l.v[i].decided_at = ctx->now;
        if (store_approval_update(st, &l.v[i]) != STORE_OK)
            goto done;
    }
    if (settle_event(ctx, event_id, &l, &event, &err) != 0)
        goto done;
    for (size_t i = 0; i < l.n; i++)
        if (strcmp(l.v[i].status, "expired") == 0 && l.v[i].decided_at == ctx->now &&
            announce_decision(ctx, &l.v[i], "expired", event) != 0)
            goto done;
    rc = store_commit(st) == STORE_OK ? 0 : -1;
done:
    if (rc != 0) {
        log_error("%s: event %s: %s", __func__, event_id,
                  err.kind != BOOKING_OK ? err.message : "the database failed");
        store_rollback(st);
    }
    json_decref(event);
    booking_error_clear(&err);
    list_free(&l);
    return rc;
}

static int count_due(const char *event_id, void *arg)
{
    (void)event_id;
    (*(int *)arg)++;
    return 0;
}

int booking_approvals_expire(struct app *app, int64_t now)
{
    struct booking_ctx ctx = {app, NULL, now};
    int due = 0;

    if (store_approvals_due(app->store, now, count_due, &due) != STORE_OK)
        return -1;
    if (due == 0)
        return 0;
    return store_approvals_due(app->store, now, expire_event, &ctx) == STORE_OK ? due : -1;
}

/* ---------------- listing ---------------- */

/*
 * What an approver needs to know of the meeting to decide. viewer NULL:
 * the office, who read every meeting; a person sees it as the one rule
 * says (visibility.h): in full while they (or the approver they stand in
 * for) decide it, as anyone else once it is decided.
 */
static json_t *event_summary(struct app *app, const char *event_id, const struct viewer *viewer)
{
    static const char *const kept[] = {"title", "start", "end", "date", "tz", "kind",
                                       "department", "budget", "room", "location", "trips",
                                       "attendees", "confidential"};
    static const char *const times[] = {"start", "end", "date", "end_date", "tz",
                                        "confidential"};
    struct event_row ev;
    json_t *doc, *out;
    int full;

    memset(&ev, 0, sizeof(ev));
    if (store_event_get(app->store, event_id, &ev) != STORE_OK ||
        (doc = json_loads(ev.doc, 0, NULL)) == NULL) {
        store_event_row_clear(&ev);
        return json_pack("{s:s}", "id", event_id);
    }
    full = viewer == NULL || visibility_of_doc(viewer, doc) == VISIBLE_FULL;
    out = json_pack("{s:s, s:s}", "id", ev.id, "status", event_status_name(ev.status));
    for (size_t i = 0; full && i < ARRAY_SIZE(kept); i++)
        if (json_object_get(doc, kept[i]) != NULL)
            json_object_set(out, kept[i], json_object_get(doc, kept[i]));
    for (size_t i = 0; !full && i < ARRAY_SIZE(times); i++)
        if (json_object_get(doc, times[i]) != NULL)
            json_object_set(out, times[i], json_object_get(doc, times[i]));
    if (!full)
        json_object_set_new(out, "title", json_null());
    json_decref(doc);
    store_event_row_clear(&ev);
    return out;
}

struct listing {
    struct app *app;
    json_t *items;
    const char *as_delegate_of; /* the approver the listed rows are decided for, or NULL */
};

static int list_one(const struct approval_row *a, void *arg)
{
    struct listing *l = arg;
    json_t *item = approval_render(a, 1);

    if (l->as_delegate_of != NULL)
        json_object_set_new(item, "as_delegate_of", json_string(l->as_delegate_of));
    json_array_append_new(l->items, item);
    return 0;
}

static int collect_name(const char *person, void *arg)
{
    json_array_append_new(arg, json_string(person));
    return 0;
}

/* Whom the actor stands in for now: a JSON array of person ids (NULL when the store failed). */
static json_t *delegating(const struct booking_ctx *ctx)
{
    json_t *people = json_array();

    if (store_blocks_delegating(ctx->app->store, ctx->actor->person, ctx->now, collect_name,
                                people) != STORE_OK) {
        json_decref(people);
        return NULL;
    }
    return people;
}

/*
 * A person's own approvals and, while they stand in for an approver, that
 * approver's pending ones (marked as_delegate_of): what they may decide.
 * approver, when given, must be themselves or one they stand in for.
 */
static int list_personal(const struct booking_ctx *ctx, const char *status, const char *approver,
                         struct listing *l, struct booking_error *err)
{
    json_t *people = delegating(ctx), *p;
    int own = approver == NULL || strcmp(approver, ctx->actor->person) == 0, found = own, rc = 0;
    size_t i;

    if (people == NULL)
        return storage_failed(err);
    json_array_foreach(people, i, p) {
        found |= approver != NULL && strcmp(approver, json_string_value(p)) == 0;
    }
    if (!found) {
        json_decref(people);
        return booking_error_set(err, BOOKING_FORBIDDEN, "forbidden", "approver",
                                 "you may list only your own approvals and those of whom you "
                                 "stand in for now");
    }
    if (own && store_approvals_list(ctx->app->store, status, ctx->actor->person, list_one, l) !=
                   STORE_OK)
        rc = storage_failed(err);
    /* A delegate decides pending approvals only: decided ones are the approver's record. */
    json_array_foreach(people, i, p) {
        const char *whom = json_string_value(p);
        if (rc != 0 || (status != NULL && strcmp(status, "pending") != 0) ||
            (approver != NULL && strcmp(approver, whom) != 0) ||
            strcmp(whom, ctx->actor->person) == 0)
            continue;
        l->as_delegate_of = whom;
        if (store_approvals_list(ctx->app->store, "pending", whom, list_one, l) != STORE_OK)
            rc = storage_failed(err);
        l->as_delegate_of = NULL;
    }
    json_decref(people);
    return rc;
}

int booking_approvals_list(const struct booking_ctx *ctx, const char *status,
                           const char *approver, json_t **out, struct booking_error *err)
{
    static const char *const statuses[] = {"pending", "approved", "rejected", "expired",
                                           "withdrawn"};
    struct listing l = {ctx->app, json_array(), NULL};
    struct viewer viewer = visibility_person(ctx->app, ctx->actor->person);
    int known = status == NULL, rc;
    size_t i;
    json_t *item;

    *out = NULL;
    for (i = 0; !known && i < ARRAY_SIZE(statuses); i++)
        known = strcmp(status, statuses[i]) == 0;
    if (!known) {
        json_decref(l.items);
        return booking_error_set(err, BOOKING_INVALID, "invalid", "status",
                                 "'status' must be pending, approved, rejected, expired or "
                                 "withdrawn");
    }
    /* Rows first, then the events: the listing's read must be over before other reads. */
    if (ctx->actor->office)
        rc = store_approvals_list(ctx->app->store, status, approver, list_one, &l) == STORE_OK
                 ? 0
                 : storage_failed(err);
    else if (ctx->actor->person[0] == '\0')
        rc = booking_error_set(err, BOOKING_FORBIDDEN, "forbidden", "approver",
                               "you may list only your own approvals");
    else
        rc = list_personal(ctx, status, approver, &l, err);
    if (rc != 0) {
        json_decref(l.items);
        return -1;
    }
    json_array_foreach(l.items, i, item) {
        json_object_set_new(item, "summary", event_summary(ctx->app, text(item, "event"),
                                                           ctx->actor->office ? NULL : &viewer));
    }
    *out = l.items;
    return 0;
}
