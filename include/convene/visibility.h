/*
 * visibility.h - who sees what of a meeting (CONTRACT section 15): the one
 * rule every read path applies (GET /events/{id} and its history,
 * occurrences, trips, feeds, webhook fan-out, conflict bodies).
 *
 * A confidential meeting's title, description, location and attendees
 * reach only its attendees, secretaries and admins. Its drivers and
 * passengers who do not attend see their trip only: time, from and to,
 * vehicle, driver, never the title nor who rides (the passengers are its
 * attendees). Calendars that are nobody's in particular (a room's, a
 * vehicle's) show it as busy time. A meeting that is not confidential is
 * seen in full by anyone it concerns.
 *
 * Which meetings a viewer may reach at all is the route's business (a
 * leader's token reads their own calendar); this says what they see of one
 * they reach, and "none" for a person it does not concern.
 */
#ifndef CONVENE_VISIBILITY_H
#define CONVENE_VISIBILITY_H

/* Ordered: each sees less than the one after it. */
enum visibility {
    VISIBLE_NONE = 0, /* not theirs: refused, or left out */
    VISIBLE_BUSY,     /* its times only, as "busy" */
    VISIBLE_TRIP,     /* its times and their trip's where, when and car; no passengers */
    VISIBLE_FULL,     /* everything */
};

enum viewer_kind {
    VIEWER_OFFICE,   /* an admin or secretary: every detail of every meeting */
    VIEWER_PERSON,   /* a person (leader, driver, staff; a person's feed or endpoint) */
    VIEWER_CALENDAR, /* a calendar that is no person's: a room's, a vehicle's feed */
};

struct viewer {
    enum viewer_kind kind;
    const char *person; /* VIEWER_PERSON: the person's id; otherwise unused */
    /*
     * Whether person stands in for approver now (a block on the approver
     * naming them its delegate covers this moment); NULL: nobody is asked,
     * so the viewer decides for themselves only. Asked only of a meeting
     * awaiting someone else's approval, so most reads never call it.
     */
    int (*delegate_of)(void *arg, const char *approver, const char *person);
    void *arg;
};

/*
 * The rule on facts: whether the meeting is confidential, whether the
 * viewer attends it (as a required or optional attendee), whether they
 * drive or ride one of its trips, and whether they decide one of its
 * pending approvals (its approver, or the approver's delegate now): who
 * decides a meeting reads it as an attendee does.
 */
enum visibility visibility_decide(const struct viewer *v, int confidential, int attends,
                                  int on_trip, int approves);

struct json_t;

/*
 * The rule on a stored event document (its "confidential", "attendees"
 * and "trips"[].driver/passengers). Implemented beside the documents
 * (app/visibility_doc.c) so that core stays free of JSON.
 */
enum visibility visibility_of_doc(const struct viewer *v, struct json_t *doc);

/* The facts the rule reads: person is an attendee; person drives or rides one of its trips. */
int visibility_doc_attends(struct json_t *doc, const char *person);
int visibility_doc_on_trip(struct json_t *doc, const char *person);
/* The viewer's person decides one of doc's pending "approvals" (v->delegate_of asked). */
int visibility_doc_approves(const struct viewer *v, struct json_t *doc);

struct app;
/*
 * A person's viewer whose delegations are read from app's store at the
 * moment of asking (app/visibility_doc.c): the one every path that shows a
 * person a meeting uses.
 */
struct viewer visibility_person(struct app *app, const char *person);

/*
 * The event as a viewer who sees it as vis may read it (a new object, the
 * caller's): the whole document when VISIBLE_FULL; otherwise only its
 * identity, status and times, "confidential", "title": null, "visibility":
 * "trip" or "busy", overrides reduced to their times, and under
 * VISIBLE_TRIP the trips person drives or rides, without passengers.
 */
struct json_t *visibility_doc_view(struct json_t *doc, enum visibility vis, const char *person);

#endif
