/*
 * booking.h - the booking layer's public face (src/booking/): the domain
 * of a meeting's booking graph (planning a change, occupancy and
 * conflicts, preemption, trips and their driver rules, meal counts, audit
 * and outbox messages, the moving window). It takes parsed input and a
 * context and returns a result or a domain error; it never sees a request
 * or a reply. The HTTP handlers (src/api/) parse, call and render, and map
 * a booking_error's kind to a status (api_reply_booking_error).
 */
#ifndef CONVENE_BOOKING_H
#define CONVENE_BOOKING_H

#include <jansson.h>
#include <stdint.h>

#include "convene/app.h"
#include "convene/store.h"
#include "convene/util.h"

/* What kind of refusal an error is; the API maps each to one HTTP status. */
enum booking_kind {
    BOOKING_OK = 0,
    BOOKING_MALFORMED,  /* a value of the wrong JSON type (400) */
    BOOKING_INVALID,    /* a value that breaks a rule (422) */
    BOOKING_FORBIDDEN,  /* the actor may not do this (403) */
    BOOKING_NOT_FOUND,  /* the thing changed does not exist (404) */
    BOOKING_CONFLICT,   /* clashes, duplicates, driver rules (409) */
    BOOKING_STALE,      /* the caller's version is not the stored one (412) */
    BOOKING_STORAGE,    /* the database failed (500) */
};

/*
 * A domain error: a stable code, the field it is about ("" when none), an
 * English message, and details (owned, may be NULL: e.g. the conflicts
 * array of a 409). Free details with booking_error_clear.
 */
struct booking_error {
    enum booking_kind kind;
    const char *code;
    char field[128];
    char message[256];
    json_t *details;
};

/* Who makes a change: a token's id and name, and the person it is bound to ("" if none). */
struct booking_actor {
    char token_id[ID_STR_MAX];
    char name[128];
    char person[ID_STR_MAX];
    int office; /* an admin's or secretary's token: may answer for others */
    int admin;  /* an admin's token or session: may decide any approval */
};

/* The context of one call into the layer. */
struct booking_ctx {
    struct app *app;
    const struct booking_actor *actor; /* NULL: convene itself (escalations, the window) */
    int64_t now;                       /* wall clock, seconds */
};

/* Fills err (details NULL); returns -1 so rules can `return booking_error_set(...)`. */
int booking_error_set(struct booking_error *err, enum booking_kind kind, const char *code,
                      const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Frees err->details; the rest needs no freeing. Accepts a zeroed error. */
void booking_error_clear(struct booking_error *err);

/* ---------------- writing an event (write.c) ---------------- */

/*
 * Validates doc, books it for event row->id and writes it (insert when
 * is_new) with everything derived from it: occurrences, occupancy claims,
 * calendars, reminders, trips and meals. With check, every claim is
 * checked for clashes and the driver rules; with preempt, clashes the
 * ranking allows are settled by taking the room or vehicle (each victim
 * audited and announced as event.preempted). Runs inside the caller's
 * transaction, expanding as of ctx->now. 0 with row holding the stored
 * state, or -1 with err (a 409's clashes in err->details).
 */
int booking_event_write(const struct booking_ctx *ctx, json_t *doc, struct event_row *row,
                        int is_new, int preempt, int check, struct booking_error *err);

/* A new event row (not yet stored): a fresh id, uid (or id@convene), confirmed, version 1. */
void booking_event_row_new(struct event_row *row, const char *uid);

/*
 * Creates one event from doc (with uid, or a fresh one) inside the
 * caller's transaction: checks, writes, outbox (event.created) and audit
 * (action: "created" for a stand-alone trip, "imported" for an .ics
 * import). 0 with the id in id_out, or -1 with err (409 duplicate_uid
 * when the uid exists).
 */
int booking_event_create(const struct booking_ctx *ctx, json_t *doc, const char *uid,
                         const char *action, char id_out[ID_STR_MAX], struct booking_error *err);

/* The event as clients see it: the document plus what the server keeps. New reference. */
json_t *booking_event_render(const struct event_row *row, json_t *doc);

/* ---------------- changing an event (change.c, answers.c) ---------------- */

/* The kinds of change to a stored event; each is audited under its own action. */
enum booking_change_kind {
    BOOKING_PATCH,             /* members replace, null removes ("updated") */
    BOOKING_CANCEL,            /* the whole meeting ("cancelled") */
    BOOKING_RSVP,              /* an attendee's answer, for the series or one occurrence ("rsvp") */
    BOOKING_OCCURRENCE_EDIT,   /* one occurrence moved or retitled ("occurrence_updated") */
    BOOKING_OCCURRENCE_CANCEL, /* one occurrence dropped ("occurrence_cancelled") */
};

#define BOOKING_ANY_VERSION (-1) /* no precondition on the stored version */

/* One change as the caller asked for it. */
struct booking_change {
    enum booking_change_kind kind;
    json_t *body;              /* PATCH, RSVP, occurrence edit: the members sent (borrowed;
                                  PATCH takes "preempt" out of it) */
    const char *recurrence_id; /* occurrence edit and cancel */
    int64_t if_match;          /* the version the caller read, or BOOKING_ANY_VERSION; any
                                  other negative value matches none. An RSVP ignores it. */
};

/*
 * The frame of every change to an existing event, in one transaction of
 * its own (a savepoint inside the caller's): load, the version check, the
 * change builds the new document, the layer books and writes it
 * (booking_event_write, with the clash check), records it (outbox and
 * audit by ctx->actor) and commits. 0 with row holding the stored state
 * and *text the event as rendered (malloc'd, the caller's); 1 when there
 * was nothing to do (cancelling a cancelled meeting: nothing written);
 * -1 with err. Free row with store_event_row_clear in every case.
 */
int booking_event_change(const struct booking_ctx *ctx, const char *event_id,
                         const struct booking_change *change, struct event_row *row, char **text,
                         struct booking_error *err);

/*
 * The new document of an answer (RSVP) or an occurrence edit, built from
 * the stored one prev (answers.c); the frame above calls them. NULL with err.
 */
json_t *booking_rsvp_doc(const struct booking_ctx *ctx, json_t *prev, json_t *body,
                         struct booking_error *err);
json_t *booking_occurrence_doc(const struct booking_ctx *ctx, json_t *prev, const char *rid,
                               json_t *body, struct booking_error *err);

/* ---------------- previewing a change (preview.c) ---------------- */

/*
 * What a change would do, without doing it (`?dry_run=true`): the change
 * runs through the real pipeline inside a savepoint of its own that is
 * rolled back, so nothing is written, sent or audited, and a caller's
 * outer transaction keeps its other work. 0 with *out (a new reference):
 *   {"dry_run": true, "ok": whether it would be saved, "conflicts": [the
 *    entries of its 409], "effects": {"messages": {type: count},
 *    "changes": {member: {old, new}}, "trips": [{change, trip, driver,
 *    driver_name, vehicle_name, plate, depart, return, from, to,
 *    acknowledge}], "acknowledge": [{driver, name}], "catering": [{date,
 *    meal, before, after, delta, late}], "preempted": [{event, title,
 *    start, lost: {type, id, name}}]}}
 * and, when clashes refuse it and preempting was not asked but would
 * settle them, "with_preempt": the effects of saving with preempt.
 * -1 with err for any other refusal (422, 404, 412...) or a store failure.
 */
int booking_preview_create(const struct booking_ctx *ctx, json_t *doc, int preempt, json_t **out,
                           struct booking_error *err);
int booking_preview_change(const struct booking_ctx *ctx, const char *event_id,
                           const struct booking_change *change, json_t **out,
                           struct booking_error *err);

/*
 * A person leaves (deleting a person record): refused (409 in_use) while
 * they drive or approved a trip that has not returned; otherwise every
 * meeting with an occurrence still ahead loses them from its attendees
 * and trips' passengers, as if a secretary had sent that PATCH (by
 * ctx->actor). Meetings that are over, or cancelled, are records and stay.
 * Inside the caller's transaction. 0, or -1 with err (a meeting that
 * cannot drop them is a 409 in_use naming it).
 */
int booking_person_leave(const struct booking_ctx *ctx, const char *person,
                         struct booking_error *err);

/*
 * Whether a room or vehicle (kind "room" or "vehicle") may be deleted: 0,
 * or -1 with a 409 in_use naming the first meeting that holds it ahead
 * (an occurrence's own room included); cancelled and past meetings keep
 * their reference as records.
 */
int booking_resource_retirable(const struct booking_ctx *ctx, const char *kind, const char *id,
                               struct booking_error *err);

/* Whether an occurrence of the event document ends after now. */
int booking_event_has_future(struct app *app, json_t *doc, int64_t now);

/* ---------------- the moving window (extend.c) ---------------- */

/*
 * Moves every series' stored window to now's (run hourly from the loop):
 * the occurrences entering it are booked, except those that would clash
 * with what was booked meanwhile, which are left out as EXDATEs with an
 * audit entry "occurrences_skipped" and event.updated. One event that
 * fails is logged and the others go on. 0, or -1 when the store failed.
 */
int booking_extend_windows(struct app *app, int64_t now);

/* ---------------- finding a time (slots.c) ---------------- */

struct interval_set;

/*
 * Searches slots for a meeting (the members of POST /api/v1/availability,
 * CONTRACT section 5): required people free, a room that fits with its
 * buffers, optionally a car and driver, on the office's working days and
 * hours. 0 with *out {"slots": [...]} (and "explanation" when none), a
 * new reference; or -1 with err.
 */
int booking_find_slots(const struct booking_ctx *ctx, json_t *body, json_t **out,
                       struct booking_error *err);

/* The merged busy time of a resource in [from, to) into out. 0 or -1. */
int booking_busy_of(struct app *app, const char *type, const char *id, int64_t from, int64_t to,
                    struct interval_set *out);

/* An interval as local times in tz and as UTC: {"start","end","start_utc","end_utc"}. */
json_t *booking_render_interval(int64_t s, int64_t e, const char *tz);

/* ---------------- audit and outbox (audit.c, outbox.c) ---------------- */

/*
 * Writes the change's outbox message (type; event.updated carries what
 * changed since before) and audit record (action, by ctx->actor); returns
 * the event as rendered, serialised once for both and for the reply
 * (*text, malloc'd, the caller's), or NULL when the store failed.
 */
json_t *booking_record_change(const struct booking_ctx *ctx, const struct event_row *row,
                              json_t *doc, const char *type, const char *action, json_t *before,
                              char **text);

/*
 * Appends an entry to the event's audit trail inside the caller's
 * transaction: by who (NULL: convene itself), before and after borrowed
 * (either may be NULL). 0 or -1.
 */
int booking_audit(struct app *app, const struct booking_actor *who, const char *event_id,
                  const char *action, json_t *before, json_t *after);

/* The same from renderings already serialised (either may be NULL). */
int booking_audit_text(struct app *app, const struct booking_actor *who, const char *event_id,
                       const char *action, const char *before, const char *after);

/* What changed between two renderings, for event.updated: {member: {old, new}}. New reference. */
json_t *booking_event_changes(json_t *before, json_t *after);

/* Appends an outbox message of type with data (stolen) in the caller's transaction. 0 or -1. */
int booking_outbox_append(struct store *st, const char *type, json_t *data);

/*
 * A person, room, vehicle or block (kind) created, changed or removed, in
 * the caller's transaction: resource.changed for the change stream, so that
 * open consoles reload (admins' and secretaries' streams only). Not a
 * webhook type: it is never delivered to an endpoint. 0 or -1.
 */
int booking_resource_changed(struct store *st, const char *kind, const char *id);

/* ---------------- approvals (approvals.c, CONTRACT section 12) ---------------- */

/* The rules as stored ({"office_director", ...}): *out a new reference; 404 kind when unset. */
int booking_approval_rules_get(struct app *app, json_t **out, struct booking_error *err);

/* Validates and replaces the rules (ids must exist), or clears them when body is NULL. */
int booking_approval_rules_put(const struct booking_ctx *ctx, json_t *body, json_t **out,
                               struct booking_error *err);

/*
 * Approvals with status (NULL: any) for approver (NULL: anyone), each with
 * a summary of its meeting. Someone outside the office lists their own
 * and, while they stand in for an approver (a block covering now names
 * them its delegate), that approver's pending ones marked
 * "as_delegate_of"; another approver is 403. Their summaries follow the
 * visibility rule: in full while they decide it. *out a new array.
 */
int booking_approvals_list(const struct booking_ctx *ctx, const char *status,
                           const char *approver, json_t **out, struct booking_error *err);

/*
 * Decides approval id with body {"decision":"approve|reject","comment","meeting"?}
 * as ctx->actor, in a transaction of its own: the approver, a delegate
 * named in a block on the approver covering now, or an admin; never the
 * person who requested it. The last approval confirms the meeting (its
 * trips, meals and reminders follow); a rejection frees its time. 0 with
 * *out the approval as now stored, or -1 with err.
 */
int booking_approval_decide(const struct booking_ctx *ctx, const char *id, json_t *body,
                            json_t **out, struct booking_error *err);

/*
 * Expires every booking with an approval not decided by its expiry (run
 * from the loop's timer, and at start): the meeting becomes "expired", its
 * time is freed, its requester told (approval.decided). The number of
 * meetings expired, or -1.
 */
int booking_approvals_expire(struct app *app, int64_t now);

/* ---------------- trips (ack.c, escalate.c) ---------------- */

#define BOOKING_ACK_PENDING 0x1 /* only occurrences ahead, not yet acknowledged, the actor's own */
#define BOOKING_ACK_BY_LINK 0x2 /* the audit entry says it came by a one-tap link */

/*
 * Acknowledges trip_id's occurrences (rid "" = every one) as ctx->actor,
 * who must drive them (or be the office), in a transaction of its own,
 * with one audit entry "trip_acknowledged". 0 with *done the rows marked
 * (booking_trip_json shapes; a new array the caller frees), or -1 with
 * err (404 no trip or no such occurrence, 403 not the driver's). With
 * BOOKING_ACK_PENDING, rows that need nothing are skipped and *done may
 * be empty: then nothing was written.
 */
int booking_trip_ack(const struct booking_ctx *ctx, const char *trip_id, const char *rid,
                     int flags, json_t **done, struct booking_error *err);

/*
 * The trips of bookings awaiting approval departing on local days
 * [from_day, to_day] (optionally of one driver, one vehicle; not of
 * exclude_event): the instances their rows will be once confirmed, each
 * with "pending": true. They are no rows yet (nobody is dispatched), but
 * they count for their driver's hours and rest (dispatch.c) and the cars
 * board shows them. *out a new array (empty on failure). 0, or -1 when the
 * store failed.
 */
int booking_pending_trips(struct app *app, const char *from_day, const char *to_day,
                          const char *driver, const char *vehicle, const char *exclude_event,
                          json_t **out);

/* ---------------- one-tap links (taplink.c) ---------------- */

/* What opening a link finds. */
enum booking_link_state {
    BOOKING_LINK_UNKNOWN,  /* no such link (404) */
    BOOKING_LINK_OPEN,     /* its action can be taken */
    BOOKING_LINK_DONE,     /* taken already (acknowledged, answered) */
    BOOKING_LINK_EXPIRED,  /* the trip has returned, the occurrence has started */
    BOOKING_LINK_VOID,     /* no longer valid: cancelled, another driver, not invited */
};

/* A link as found: its row and what its page may show (visibility applied). */
struct booking_link {
    enum booking_link_state state;
    struct taplink_row row;
    /*
     * Owned, NULL when unknown. ack: {"kind":"ack","depart","return","tz",
     * "from","to","vehicle_name","plate","driver_name","count"(occurrences
     * ahead),"title"?,"passenger_names"?}; the title and passengers only
     * when the driver may see the meeting in full. rsvp: {"kind":"rsvp",
     * "title","start","end","tz","room","location","response"}. approve:
     * {"kind":"approve","title","start","end","tz","room","location",
     * "reason","tier","amount","expires"(local),"requested_by"(a name),
     * "collective","status","comment"}; shown while the approver may
     * decide it (or decided it here), else only for an open meeting.
     */
    json_t *shown;
    const char *acted; /* after booking_link_act: "ack", "accepted", "declined", "approve" or
                          "reject"; else NULL */
};

/*
 * Finds the link of token (len bytes, from a URL) and decides its state
 * as of ctx->now; changes nothing (chat apps prefetch links). A token of
 * the wrong shape is unknown without any lookup. 0, or -1 when the store
 * failed. Clear out with booking_link_clear.
 */
int booking_link_open(const struct booking_ctx *ctx, const char *token, size_t len,
                      struct booking_link *out);

/*
 * Takes the link's action as its person (ctx->actor is ignored: the actor
 * is the person, named "one-tap link", so history shows who and how):
 * "ack" acknowledges the trip (booking_trip_ack), "accepted" or "declined"
 * answers the occurrence (the RSVP change with its recurrence_id),
 * "approve" or "reject" (with comment, or NULL) decides the approval
 * (booking_approval_decide; a collective one only in the console: 422
 * collective_in_console). Only an open link acts; out->state says what was found, out->acted what was
 * done (NULL when nothing). 0, or -1 with err (a wrong action for the
 * link is 422; the store failing 500).
 */
int booking_link_act(const struct booking_ctx *ctx, const char *token, size_t len,
                     const char *action, const char *comment, struct booking_link *out,
                     struct booking_error *err);
void booking_link_clear(struct booking_link *l);

/*
 * Sends dispatch.unacknowledged (to the secretaries) for every trip
 * occurrence not acknowledged --ack-deadline minutes before it departs,
 * once each, in a transaction of its own, each with an audit entry
 * "trip_unacknowledged" by convene itself (run from the loop). The number
 * sent, or -1.
 */
int booking_trips_escalate(struct app *app, int64_t now);

/* ---------------- departments (departments.c) ---------------- */

/*
 * Applies a body's members to d: "name" (required when creating, not
 * empty) and "in_charge" (a person on record, or null). 0, or -1 with err
 * (an unknown member or a wrong type malformed; a bad value invalid).
 */
struct department_row;
int booking_department_apply(struct app *app, json_t *body, struct department_row *d,
                             int creating, struct booking_error *err);

/* Inserts or updates d; a live department of the same name is 409 name_taken. */
int booking_department_save(struct app *app, const struct department_row *d, int creating,
                            struct booking_error *err);

/* ---------------- what handlers read and render ---------------- */

/* The members a client may send in an event (POST /events), NULL-terminated. */
extern const char *const booking_event_members[];

/* A stored trip row as an instance object (owned by the caller). */
json_t *booking_trip_json(const struct trip_row *t);

/*
 * The public shape of a trip occurrence (GET /trips, dispatch.* "trip"):
 * no title; the vehicle's name and plate and the driver's name beside their ids.
 * names caches the names across calls (caller owns it).
 */
json_t *booking_trip_render(struct app *app, json_t *instance, json_t *names);

/*
 * The meals of local days [from, to]: {"YYYY-MM-DD": [{"meal","total",
 * "late","diets"{, "events"}}]} with meals in serving order and days
 * without meals left out. with_events adds each meeting's count. 0 or -1.
 */
int booking_catering_summary(struct store *st, const char *from, const char *to,
                             int with_events, json_t **out);

/*
 * A person's diet changed: re-counts the meals from today on of every
 * live event the person attends (past days are records and keep their
 * breakdown), inside the caller's transaction, with catering.updated as
 * for any change and an audit entry "meals_recounted" by the caller on
 * each event whose counts moved, by ctx->actor. 0 or -1.
 */
int booking_person_diet_changed(const struct booking_ctx *ctx, const char *person);

/*
 * Derives the trip and catering rows of events stored before schema
 * version 5 (flagged by that migration), once, without messages: an
 * upgrade does not re-announce every trip. Run by `serve` at start. 0 or -1.
 */
int booking_derive_pending(struct app *app);

/* ---------------- reports (reports.c) ---------------- */

/*
 * One report as asked for (CONTRACT section 13): its name (meetings,
 * rooms, vehicles, drivers, meals, year) and its parameters as given,
 * NULL when absent. Dates are local days of the organisation's zone
 * (--tz), both inclusive, at most REPORT_MAX_DAYS of them.
 */
struct booking_report_query {
    const char *name;
    const char *from, *to; /* all but year */
    const char *by;        /* meetings: kind|department|leader|month; meals: meal|diet|department */
    const char *year;      /* year */
};

/*
 * Adds up the held occurrences (events confirmed) of the period: 0 with
 * *out the report's JSON (a new reference), or -1 with err (an unknown
 * report is not_found; a bad parameter names its field).
 */
int booking_report(const struct booking_ctx *ctx, const struct booking_report_query *q,
                   json_t **out, struct booking_error *err);

/*
 * The same report as one table for a spreadsheet (CSV, XLSX):
 * {"title","file","columns":[...],"rows":[[...]]} with Chinese headers and
 * labels, numbers as JSON numbers. A new reference.
 */
json_t *booking_report_sheet(const struct booking_report_query *q, json_t *report);

#endif
