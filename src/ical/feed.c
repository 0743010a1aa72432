/*
 * feed.c - rendering a calendar (person, room or vehicle) as RFC 5545 /
 * RFC 7986 text from the stored event documents. Output depends only on
 * the data (DTSTAMP is the event's last change), so an unchanged calendar
 * renders to identical bytes and ETags stay stable.
 */
#include "convene/feed.h"
#include "convene/app.h"
#include "convene/event_docs.h"
#include "convene/ics.h"
#include "convene/record.h"
#include "convene/recur.h"
#include "convene/store.h"
#include "convene/timeutil.h"
#include "convene/visibility.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEED_MAX_BYTES (64 * 1024 * 1024)
#define BUSY_SUMMARY "忙碌"

struct render {
    struct app *app;
    const char *kind, *id;  /* whose calendar */
    struct strbuf events;   /* VEVENTs, written before we know every zone */
    json_t *zones;          /* set of TZIDs used */
    json_t *names;          /* "kind:id" -> [name, updated_at]: the feed cache's, kept across renders */
    int64_t last_modified;
    enum visibility view;   /* how this calendar sees the event being rendered */
};

/*
 * STATUS of an event: a booking awaiting approval is TENTATIVE (it holds
 * its time); one rejected or expired holds nothing, as if cancelled.
 */
static const char *feed_status(enum event_status status)
{
    switch (status) {
    case EVENT_CONFIRMED:
        return "CONFIRMED";
    case EVENT_PENDING:
        return "TENTATIVE";
    case EVENT_CANCELLED:
    case EVENT_REJECTED:
    case EVENT_EXPIRED:
        break;
    }
    return "CANCELLED";
}

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/*
 * Display name of a person, room or vehicle (its id when unknown). Names
 * are kept by the feed cache until any person, room or vehicle changes, so
 * a render costs no query per attendee.
 */
static const char *name_of(struct render *r, const struct record_type *type, const char *id)
{
    char key[16 + ID_STR_MAX];
    json_t *cached;
    struct record rec;

    snprintf(key, sizeof(key), "%s:%s", type->kind, id);
    cached = json_object_get(r->names, key);
    if (cached == NULL) {
        record_init(&rec, type);
        if (store_record_get(r->app->store, type, id, &rec) == STORE_OK && rec.values[0].set)
            cached = json_pack("[s, I]", rec.values[0].s, (json_int_t)rec.updated_at);
        else
            cached = json_pack("[s, I]", id, (json_int_t)0);
        record_clear(&rec, type);
        json_object_set_new(r->names, key, cached);
    }
    /*
     * A renamed calendar, room or attendee changes the body (X-WR-CALNAME,
     * LOCATION, CN) without touching any event: Last-Modified must move too,
     * or If-Modified-Since clients keep the old name forever.
     */
    if (json_integer_value(json_array_get(cached, 1)) > r->last_modified)
        r->last_modified = json_integer_value(json_array_get(cached, 1));
    return json_string_value(json_array_get(cached, 0));
}

/* DTSTART/DTEND/RECURRENCE-ID style line for a local time (or date) in a zone. */
static void time_line(struct render *r, const char *prop, const char *local, const char *tz,
                      int all_day)
{
    char name[128], value[20];

    ics_local_value(local, value);
    if (all_day) {
        value[8] = '\0';
        snprintf(name, sizeof(name), "%s;VALUE=DATE", prop);
    } else {
        snprintf(name, sizeof(name), "%s;TZID=%s", prop, tz);
        json_object_set_new(r->zones, tz, json_true());
    }
    ics_line(&r->events, name, value);
}

/*
 * RFC 5545 wants UNTIL in UTC when DTSTART has a zone; clients send local
 * or date forms too, so rewrite UNTIL to the instant it names.
 */
static void rrule_line(struct render *r, const char *rrule, const char *tz, int all_day)
{
    const char *until = strstr(rrule, "UNTIL=");
    char out[RECUR_RULE_MAX + 32];

    if (until == NULL || all_day) {
        ics_line(&r->events, "RRULE", rrule);
        return;
    }
    const char *v = until + 6;
    size_t vlen = strcspn(v, ";");
    char value[20] = "";
    struct local_time lt = {0};
    int64_t utc;
    if (vlen == 16 && v[15] == 'Z') {
        ics_line(&r->events, "RRULE", rrule);
        return;
    }
    if ((vlen == 8 || vlen == 15) && sscanf(v, "%4d%2d%2d", &lt.year, &lt.month, &lt.day) == 3) {
        /*
         * A date UNTIL is that day's last second, exactly as recur.c expands
         * it for booking: the feed must list the occurrences that were
         * booked, no more and no fewer.
         */
        if (vlen == 15)
            sscanf(v + 9, "%2d%2d%2d", &lt.hour, &lt.minute, &lt.second);
        else
            lt.hour = 23, lt.minute = lt.second = 59;
        time_local_to_utc(&lt, tz, &utc);
        ics_utc_value(utc, value);
        snprintf(out, sizeof(out), "%.*sUNTIL=%s%s", (int)(until - rrule), rrule, value, v + vlen);
        ics_line(&r->events, "RRULE", out);
        return;
    }
    ics_line(&r->events, "RRULE", rrule);
}

/* EXDATE/RDATE lists, plus cancelled overrides as exceptions. */
static void dates_line(struct render *r, const char *prop, json_t *dates, json_t *overrides,
                       const char *tz, int all_day, int64_t shift)
{
    struct strbuf values;
    size_t i;
    json_t *d;
    const char *rid;

    strbuf_init(&values, 64 * 1024);
    json_array_foreach(dates, i, d) {
        struct local_time lt;
        char v[20], local[TIME_LOCAL_STR];
        if (time_local_parse(json_string_value(d) ? json_string_value(d) : "", &lt) != 0)
            continue;
        recur_local_add(&lt, shift);
        time_local_format(&lt, local);
        ics_local_value(local, v);
        if (all_day)
            v[8] = '\0';
        strbuf_printf(&values, "%s%s", values.len ? "," : "", v);
    }
    json_object_foreach(overrides, rid, d) {
        struct local_time lt;
        char v[20], local[TIME_LOCAL_STR];
        if (!json_is_true(json_object_get(d, "cancelled")) || time_local_parse(rid, &lt) != 0)
            continue;
        recur_local_add(&lt, shift);
        time_local_format(&lt, local);
        ics_local_value(local, v);
        if (all_day)
            v[8] = '\0';
        strbuf_printf(&values, "%s%s", values.len ? "," : "", v);
    }
    if (values.len > 0) {
        char name[128];
        if (all_day)
            snprintf(name, sizeof(name), "%s;VALUE=DATE", prop);
        else
            snprintf(name, sizeof(name), "%s;TZID=%s", prop, tz);
        ics_line(&r->events, name, values.data);
    }
    strbuf_free(&values);
}

static void stamp_lines(struct render *r, const struct event_row *ev)
{
    char v[20];

    ics_utc_value(ev->updated_at, v);
    ics_line(&r->events, "DTSTAMP", v);
    ics_line(&r->events, "LAST-MODIFIED", v);
    ics_utc_value(ev->created_at, v);
    ics_line(&r->events, "CREATED", v);
    snprintf(v, sizeof(v), "%lld", (long long)ev->sequence);
    ics_line(&r->events, "SEQUENCE", v);
    if (ev->updated_at > r->last_modified)
        r->last_modified = ev->updated_at;
}

/* The first occurrence's local start and end of a document (dates become midnights). */
static int doc_times(json_t *doc, char start[TIME_LOCAL_STR], char end[TIME_LOCAL_STR],
                     int *all_day)
{
    struct local_time s, e;

    *all_day = json_object_get(doc, "date") != NULL;
    if (*all_day) {
        const char *last = json_string_value(json_object_get(doc, "end_date"));
        if (time_date_parse(str(doc, "date"), &s) != 0 ||
            time_date_parse(last ? last : str(doc, "date"), &e) != 0)
            return -1;
        recur_local_add(&e, 86400);
    } else if (time_local_parse(str(doc, "start"), &s) != 0 ||
               time_local_parse(str(doc, "end"), &e) != 0) {
        return -1;
    }
    time_local_format(&s, start);
    time_local_format(&e, end);
    return 0;
}

static int viewer_attends(struct render *r, json_t *doc)
{
    size_t i;
    json_t *a;

    if (strcmp(r->kind, "person") != 0)
        return 0;
    json_array_foreach(json_object_get(doc, "attendees"), i, a) {
        if (strcmp(str(a, "person"), r->id) == 0)
            return 1;
    }
    return 0;
}

/*
 * LOCATION from the room's name and the meeting's own location. Secretaries
 * often type the room's name as the location too, which gave
 * "第二会议室 第二会议室"; when one already says the other, the longer one
 * is shown alone.
 */
static void place_text(const char *room, const char *loc, char *out, size_t cap)
{
    if (*loc == '\0' || strstr(room, loc) != NULL)
        snprintf(out, cap, "%s", room);
    else if (strstr(loc, room) != NULL)
        snprintf(out, cap, "%s", loc);
    else
        snprintf(out, cap, "%s %s", room, loc);
}

static void details_lines(struct render *r, json_t *doc, json_t *ov, const char *summary)
{
    const char *desc = str(ov && json_object_get(ov, "description") ? ov : doc, "description");
    const char *loc = str(ov && json_object_get(ov, "location") ? ov : doc, "location");
    /* An occurrence moved to another room (or to none) says so. */
    json_t *own = ov ? json_object_get(ov, "room") : NULL;
    const char *room = json_string_value(own ? own : json_object_get(doc, "room"));
    char where[1024];

    ics_text(&r->events, "SUMMARY", summary);
    if (*desc)
        ics_text(&r->events, "DESCRIPTION", desc);
    if (room != NULL)
        place_text(name_of(r, &record_room, room), loc, where, sizeof(where));
    else
        snprintf(where, sizeof(where), "%s", loc);
    if (where[0])
        ics_text(&r->events, "LOCATION", where);
}

/* Attendees with their answers: an occurrence's own (ov.responses) before the series'. */
static void attendee_lines(struct render *r, json_t *doc, json_t *ov)
{
    json_t *answers = json_object_get(ov, "responses");
    size_t i;
    json_t *a;

    json_array_foreach(json_object_get(doc, "attendees"), i, a) {
        char name[512], value[128], partstat[24];
        const char *own = json_string_value(json_object_get(answers, str(a, "person")));
        const char *resp = own ? own : str(a, "response");
        size_t k;
        snprintf(partstat, sizeof(partstat), "%s", *resp ? resp : "needs-action");
        for (k = 0; partstat[k]; k++)
            partstat[k] = (char)(partstat[k] >= 'a' && partstat[k] <= 'z' ? partstat[k] - 32
                                                                        : partstat[k]);
        /* CN is a quoted parameter value: it cannot hold a double quote. */
        char cn[256];
        snprintf(cn, sizeof(cn), "%s", name_of(r, &record_person, str(a, "person")));
        for (k = 0; cn[k]; k++)
            if (cn[k] == '"')
                cn[k] = '\'';
        snprintf(name, sizeof(name), "ATTENDEE;CN=\"%s\";ROLE=%s;PARTSTAT=%s", cn,
                 json_is_true(json_object_get(a, "optional")) ? "OPT-PARTICIPANT"
                                                              : "REQ-PARTICIPANT",
                 partstat);
        snprintf(value, sizeof(value), "urn:convene:person:%s", str(a, "person"));
        ics_line(&r->events, name, value);
    }
}

static void alarm_lines(struct render *r, json_t *doc, const char *summary)
{
    size_t i;
    json_t *m;

    json_array_foreach(json_object_get(doc, "reminders"), i, m) {
        char trigger[32];
        /* Offset 0 is "at the start": PT0S, not a negative zero. */
        if (json_integer_value(m) == 0)
            snprintf(trigger, sizeof(trigger), "PT0S");
        else
            snprintf(trigger, sizeof(trigger), "-PT%lldM", (long long)json_integer_value(m));
        ics_line(&r->events, "BEGIN", "VALARM");
        ics_line(&r->events, "ACTION", "DISPLAY");
        ics_text(&r->events, "DESCRIPTION", summary);
        ics_line(&r->events, "TRIGGER", trigger);
        ics_line(&r->events, "END", "VALARM");
    }
}

/* The meeting itself: master VEVENT plus one per moved occurrence. */
static void meeting_events(struct render *r, const struct event_row *ev, json_t *doc)
{
    char start[TIME_LOCAL_STR], end[TIME_LOCAL_STR];
    int all_day, full = r->view == VISIBLE_FULL;
    const char *tz = str(doc, "tz"), *rid;
    const char *summary = full ? str(doc, "title") : BUSY_SUMMARY;
    json_t *overrides = json_object_get(doc, "overrides"), *ov;

    if (doc_times(doc, start, end, &all_day) != 0)
        return;
    ics_line(&r->events, "BEGIN", "VEVENT");
    ics_line(&r->events, "UID", ev->uid);
    stamp_lines(r, ev);
    time_line(r, "DTSTART", start, tz, all_day);
    time_line(r, "DTEND", end, tz, all_day);
    if (json_is_string(json_object_get(doc, "rrule")))
        rrule_line(r, str(doc, "rrule"), tz, all_day);
    dates_line(r, "EXDATE", json_object_get(doc, "exdates"), overrides, tz, all_day, 0);
    dates_line(r, "RDATE", json_object_get(doc, "rdates"), NULL, tz, all_day, 0);
    ics_line(&r->events, "STATUS", feed_status(ev->status));
    ics_line(&r->events, "CLASS", ev->confidential ? "CONFIDENTIAL" : "PUBLIC");
    ics_line(&r->events, "TRANSP", "OPAQUE");
    if (full) {
        details_lines(r, doc, NULL, summary);
        attendee_lines(r, doc, NULL);
        alarm_lines(r, doc, summary);
    } else {
        ics_text(&r->events, "SUMMARY", summary);
    }
    ics_line(&r->events, "END", "VEVENT");

    json_object_foreach(overrides, rid, ov) {
        if (json_is_true(json_object_get(ov, "cancelled")))
            continue;
        struct local_time s, e;
        char os[TIME_LOCAL_STR], oe[TIME_LOCAL_STR];
        int64_t length = 0;
        if (time_local_parse(start, &s) == 0 && time_local_parse(end, &e) == 0)
            length = recur_local_diff(&s, &e);
        /* An override that moves only the start keeps the series' length. */
        if (time_local_parse(json_object_get(ov, "start") ? str(ov, "start") : rid, &s) != 0)
            continue;
        if (json_object_get(ov, "end") == NULL || time_local_parse(str(ov, "end"), &e) != 0) {
            e = s;
            recur_local_add(&e, length);
        }
        time_local_format(&s, os);
        time_local_format(&e, oe);
        ics_line(&r->events, "BEGIN", "VEVENT");
        ics_line(&r->events, "UID", ev->uid);
        stamp_lines(r, ev);
        time_line(r, "RECURRENCE-ID", rid, tz, all_day);
        time_line(r, "DTSTART", os, tz, all_day);
        time_line(r, "DTEND", oe, tz, all_day);
        ics_line(&r->events, "STATUS", feed_status(ev->status));
        ics_line(&r->events, "CLASS", ev->confidential ? "CONFIDENTIAL" : "PUBLIC");
        if (full) {
            details_lines(r, doc, ov, json_object_get(ov, "title") ? str(ov, "title") : summary);
            attendee_lines(r, doc, ov);
            alarm_lines(r, doc, summary);
        } else {
            ics_text(&r->events, "SUMMARY", summary);
        }
        ics_line(&r->events, "END", "VEVENT");
    }
}

/*
 * A vehicle as a driver looks for it: "奥迪A6（京A12345）", or its name
 * alone without a plate. Cached like the names (dropped on any change).
 */
static const char *vehicle_text(struct render *r, const char *id)
{
    const struct record_type *vt = &record_vehicle;
    char key[16 + ID_STR_MAX], text[1024];
    json_t *cached;
    struct record rec;

    snprintf(key, sizeof(key), "vehicle-text:%s", id);
    if ((cached = json_object_get(r->names, key)) == NULL) {
        const char *name = name_of(r, vt, id);
        record_init(&rec, vt);
        const struct field_value *plate = &rec.values[record_field_index(vt, "plate")];
        if (store_record_get(r->app->store, vt, id, &rec) == STORE_OK && plate->set &&
            plate->s != NULL)
            snprintf(text, sizeof(text), "%s（%s）", name, plate->s);
        else
            snprintf(text, sizeof(text), "%s", name);
        record_clear(&rec, vt);
        cached = json_pack("[s, I]", text, (json_int_t)0);
        json_object_set_new(r->names, key, cached);
    }
    return json_string_value(json_array_get(cached, 0));
}

/*
 * What a trip VEVENT says besides its times: the route, the car and its
 * plate, the driver; and, to whoever sees the meeting in full, who rides and
 * what meeting it is. A confidential meeting's driver and vehicle see the
 * trip only (its passengers are its attendees). The same text in the
 * driver's, the vehicle's and each passenger's feed.
 */
static void trip_details(struct render *r, const struct event_row *ev, json_t *doc, json_t *trip,
                         const char *summary)
{
    struct strbuf who;
    size_t i;
    json_t *p;

    ics_line(&r->events, "STATUS", feed_status(ev->status));
    ics_text(&r->events, "SUMMARY", summary);
    if (*str(trip, "from"))
        ics_text(&r->events, "LOCATION", str(trip, "from"));
    strbuf_init(&who, 64 * 1024);
    strbuf_printf(&who, "路线：%s → %s\n", *str(trip, "from") ? str(trip, "from") : "?",
                  *str(trip, "to") ? str(trip, "to") : "?");
    if (json_is_string(json_object_get(trip, "vehicle")))
        strbuf_printf(&who, "车辆：%s\n", vehicle_text(r, str(trip, "vehicle")));
    strbuf_printf(&who, "驾驶员：%s", name_of(r, &record_person, str(trip, "driver")));
    if (r->view != VISIBLE_FULL) {
        ics_text(&r->events, "DESCRIPTION", who.data);
        strbuf_free(&who);
        return;
    }
    strbuf_puts(&who, "\n乘车人：");
    json_array_foreach(json_object_get(trip, "passengers"), i, p) {
        strbuf_printf(&who, "%s%s", i ? "、" : "",
                      name_of(r, &record_person, json_string_value(p) ? json_string_value(p) : ""));
    }
    strbuf_printf(&who, "\n会议：%s", str(doc, "title"));
    ics_text(&r->events, "DESCRIPTION", who.data);
    strbuf_free(&who);
}

/* Local starts from a document's array of strings (pointers into it), for recur_expand. */
static const char **string_list(json_t *array, size_t *n)
{
    const char **out = xcalloc(json_array_size(array) + 1, sizeof(*out));
    size_t i;
    json_t *v;

    *n = 0;
    json_array_foreach(array, i, v) {
        if (json_is_string(v))
            out[(*n)++] = json_string_value(v);
    }
    return out;
}

/*
 * A recurring trip that leaves on another day than its meeting (the evening
 * before a distant morning meeting) cannot reuse the meeting's RRULE: a
 * BYDAY=MO rule on a Sunday DTSTART names Mondays. Its departures are
 * listed instead (DTSTART plus RDATE), from the meeting's expansion as
 * booked (up to the event's stored horizon), with moved occurrences at
 * their new times and cancelled ones left out. Returns -1 when the series
 * cannot be expanded (the caller then shows the trip as written).
 */
static int trip_listed(struct render *r, const struct event_row *ev, json_t *doc, json_t *trip,
                       const struct local_time *s, const struct local_time *e, int64_t shift,
                       int64_t back, const char *uid, const char *summary)
{
    struct recur_spec spec = {0};
    struct occurrence *occ = NULL;
    struct strbuf rdates;
    size_t n = 0, listed = 0;
    char why[128], first_dep[TIME_LOCAL_STR] = "", first_ret[TIME_LOCAL_STR] = "";
    const char *tz = str(doc, "tz");
    json_t *overrides = json_object_get(doc, "overrides");

    spec.rrule = str(doc, "rrule");
    spec.start = *s;
    spec.end = *e;
    spec.tz = tz;
    spec.exdates = string_list(json_object_get(doc, "exdates"), &spec.nexdates);
    spec.rdates = string_list(json_object_get(doc, "rdates"), &spec.nrdates);
    spec.horizon_utc = ev->expanded_until;
    /* Counted as when the window was last moved (event_plan_expand): past and ahead apart. */
    if (!recur_rule_is_bounded(spec.rrule))
        spec.count_from_utc = ev->expanded_until - (int64_t)RECUR_HORIZON_DAYS * 86400;
    int rc = recur_expand(&spec, &occ, &n, why, sizeof(why));
    free((void *)spec.exdates);
    free((void *)spec.rdates);
    if (rc != RECUR_OK && rc != RECUR_NONEXISTENT) {
        free(occ);
        return -1;
    }
    strbuf_init(&rdates, 1024 * 1024);
    for (size_t i = 0; i < n; i++) {
        json_t *ov = json_object_get(overrides, occ[i].recurrence_id);
        struct local_time base, dep, ret;
        char v[20], local[TIME_LOCAL_STR];
        if (json_is_true(json_object_get(ov, "cancelled")) ||
            time_local_parse(json_is_string(json_object_get(ov, "start")) ? str(ov, "start")
                                                                          : occ[i].recurrence_id,
                             &base) != 0)
            continue;
        dep = ret = base;
        recur_local_add(&dep, shift);
        recur_local_add(&ret, back);
        time_local_format(&dep, local);
        if (listed++ == 0) {
            snprintf(first_dep, sizeof(first_dep), "%s", local);
            time_local_format(&ret, first_ret);
            continue;
        }
        ics_local_value(local, v);
        strbuf_printf(&rdates, "%s%s", rdates.len ? "," : "", v);
    }
    free(occ);
    if (listed == 0) {
        strbuf_free(&rdates);
        return -1;
    }
    ics_line(&r->events, "BEGIN", "VEVENT");
    ics_line(&r->events, "UID", uid);
    stamp_lines(r, ev);
    time_line(r, "DTSTART", first_dep, tz, 0);
    time_line(r, "DTEND", first_ret, tz, 0);
    if (rdates.len > 0) {
        char name[128];
        /*
         * A rule that yields DTSTART alone. RFC 5545 counts DTSTART as an
         * instance anyway, but ical.js (Thunderbird) drops it from a
         * series made of RDATEs only: the first departure went missing.
         */
        ics_line(&r->events, "RRULE", "FREQ=DAILY;COUNT=1");
        snprintf(name, sizeof(name), "RDATE;TZID=%s", tz);
        ics_line(&r->events, name, rdates.data);
    }
    trip_details(r, ev, doc, trip, summary);
    ics_line(&r->events, "END", "VEVENT");
    strbuf_free(&rdates);
    return 0;
}

/* A trip as the driver and the vehicle's calendar see it: place, time, passengers; never a confidential title. */
static void trip_event(struct render *r, const struct event_row *ev, json_t *doc, json_t *trip)
{
    char start[TIME_LOCAL_STR], end[TIME_LOCAL_STR], uid[128], summary[1200];
    struct local_time s, d, b;
    int all_day;
    const char *tz = str(doc, "tz"), *rid;
    json_t *ov;

    if (doc_times(doc, start, end, &all_day) != 0 || time_local_parse(start, &s) != 0 ||
        time_local_parse(str(trip, "depart"), &d) != 0 ||
        time_local_parse(str(trip, "return"), &b) != 0)
        return;
    int64_t shift = recur_local_diff(&s, &d), back = recur_local_diff(&s, &b);
    snprintf(uid, sizeof(uid), "%s@convene", str(trip, "id"));
    snprintf(summary, sizeof(summary), "用车：%s → %s", *str(trip, "from") ? str(trip, "from") : "?",
             *str(trip, "to") ? str(trip, "to") : "?");
    if (json_is_string(json_object_get(doc, "rrule")) &&
        (s.year != d.year || s.month != d.month || s.day != d.day)) {
        struct local_time e;
        if (time_local_parse(end, &e) == 0 &&
            trip_listed(r, ev, doc, trip, &s, &e, shift, back, uid, summary) == 0)
            return;
    }
    ics_line(&r->events, "BEGIN", "VEVENT");
    ics_line(&r->events, "UID", uid);
    stamp_lines(r, ev);
    time_line(r, "DTSTART", str(trip, "depart"), tz, 0);
    time_line(r, "DTEND", str(trip, "return"), tz, 0);
    if (json_is_string(json_object_get(doc, "rrule")))
        rrule_line(r, str(doc, "rrule"), tz, 0);
    dates_line(r, "EXDATE", json_object_get(doc, "exdates"), json_object_get(doc, "overrides"), tz,
               0, shift);
    trip_details(r, ev, doc, trip, summary);
    ics_line(&r->events, "END", "VEVENT");

    /*
     * A moved occurrence takes its trip along at the same offsets from the
     * meeting's start (as the booking engine reserves the car and driver), so
     * the trip needs its own RECURRENCE-ID component too.
     */
    json_object_foreach(json_object_get(doc, "overrides"), rid, ov) {
        struct local_time orig, moved, dep, ret;
        char t1[TIME_LOCAL_STR], t2[TIME_LOCAL_STR], t3[TIME_LOCAL_STR];
        if (json_is_true(json_object_get(ov, "cancelled")) ||
            !json_is_string(json_object_get(ov, "start")) || time_local_parse(rid, &orig) != 0 ||
            time_local_parse(str(ov, "start"), &moved) != 0)
            continue;
        recur_local_add(&orig, shift);
        dep = moved;
        recur_local_add(&dep, shift);
        ret = moved;
        recur_local_add(&ret, back);
        time_local_format(&orig, t1);
        time_local_format(&dep, t2);
        time_local_format(&ret, t3);
        ics_line(&r->events, "BEGIN", "VEVENT");
        ics_line(&r->events, "UID", uid);
        stamp_lines(r, ev);
        time_line(r, "RECURRENCE-ID", t1, tz, 0);
        time_line(r, "DTSTART", t2, tz, 0);
        time_line(r, "DTEND", t3, tz, 0);
        trip_details(r, ev, doc, trip, summary);
        ics_line(&r->events, "END", "VEVENT");
    }
}

/*
 * One calendar's view of one version of an event: a meeting seen in full or
 * as busy time, or one of its trips. Kept with the cached document
 * (event_docs.h), so a write to the event drops it, and shared by every
 * calendar with the same view: re-rendering a feed after a booking formats
 * only the events that changed.
 */
struct fragment {
    struct fragment *next;
    char variant[16 + ID_STR_MAX];  /* "full", "busy", "trip:<trip id>" or "trip-only:<trip id>" */
    uint64_t names_generation;      /* the display names it was written with */
    char *text;
    size_t len;
    int64_t last_modified;          /* newest change of the event and the names it shows */
    char tz[64];                    /* the zone its times use, "" for dates only */
};

/* The fragments of one event, attached to its cached document under &fragments_key. */
struct fragment_set {
    struct fragment *head;
};

static const char fragments_key = 'F';

static void fragment_list_free(struct fragment *f)
{
    while (f != NULL) {
        struct fragment *next = f->next;
        free(f->text);
        free(f);
        f = next;
    }
}

static void fragments_free(void *data)
{
    struct fragment_set *set = data;

    fragment_list_free(set->head);
    free(set);
}

typedef void produce_fn(struct render *r, const struct event_row *ev, json_t *doc, json_t *trip);

static void produce_meeting(struct render *r, const struct event_row *ev, json_t *doc,
                            json_t *trip)
{
    (void)trip;
    meeting_events(r, ev, doc);
}

/* Renders a view into a fragment of its own, outside the calendar's buffer. */
static struct fragment *fragment_make(struct render *r, struct event_doc *ev, const char *variant,
                                      produce_fn *produce, json_t *trip)
{
    struct render sub = *r;
    struct fragment *f = xcalloc(1, sizeof(*f));
    const char *tz;
    json_t *v;

    strbuf_init(&sub.events, FEED_MAX_BYTES);
    sub.zones = json_object();
    sub.last_modified = 0;
    produce(&sub, &ev->row, ev->doc, trip);
    if (sub.events.overflow)
        r->events.overflow = 1;
    snprintf(f->variant, sizeof(f->variant), "%s", variant);
    f->names_generation = feed_cache_names_generation(r->app->feeds);
    f->text = strbuf_detach(&sub.events, &f->len);
    f->last_modified = sub.last_modified;
    /* Every time of one event is in the event's zone: one TZID at most. */
    json_object_foreach(sub.zones, tz, v) {
        snprintf(f->tz, sizeof(f->tz), "%s", tz);
        break;
    }
    json_decref(sub.zones);
    return f;
}

/* Appends a view of an event to the calendar, from its fragment (made on first use). */
static void emit(struct render *r, struct event_doc *ev, const char *variant, produce_fn *produce,
                 json_t *trip)
{
    uint64_t generation = feed_cache_names_generation(r->app->feeds);
    struct fragment_set *set = event_doc_attached(ev, &fragments_key);
    struct fragment **link, *f;

    if (set == NULL) {
        set = xcalloc(1, sizeof(*set));
        event_doc_attach(r->app->event_docs, ev, &fragments_key, set, fragments_free,
                         sizeof(*set));
    }
    link = &set->head;
    while ((f = *link) != NULL) {
        if (f->names_generation != generation) { /* someone was renamed: stale */
            *link = f->next;
            event_docs_charge(r->app->event_docs, ev, -(long)(f->len + sizeof(*f)));
            f->next = NULL;
            fragment_list_free(f);
            continue;
        }
        if (strcmp(f->variant, variant) == 0)
            break;
        link = &f->next;
    }
    if (f == NULL) {
        f = fragment_make(r, ev, variant, produce, trip);
        f->next = set->head;
        set->head = f;
        event_docs_charge(r->app->event_docs, ev, (long)(f->len + sizeof(*f)));
    }
    strbuf_append(&r->events, f->text ? f->text : "", f->len);
    if (f->last_modified > r->last_modified)
        r->last_modified = f->last_modified;
    if (f->tz[0] != '\0')
        json_object_set_new(r->zones, f->tz, json_true());
}

/*
 * A passenger's calendar shows their ride as its own event, as the
 * driver's does: when to leave, from where, in which car with whom. A
 * stand-alone trip is already the whole event (its times are the trip's),
 * so it is not shown twice.
 */
static int viewer_rides(struct render *r, json_t *doc, json_t *trip)
{
    size_t i;
    json_t *p;

    if (strcmp(r->kind, "person") != 0 ||
        (strcmp(str(trip, "depart"), str(doc, "start")) == 0 &&
         strcmp(str(trip, "return"), str(doc, "end")) == 0))
        return 0;
    json_array_foreach(json_object_get(trip, "passengers"), i, p) {
        if (json_is_string(p) && strcmp(json_string_value(p), r->id) == 0)
            return 1;
    }
    return 0;
}

static int render_event(const char *event_id, void *arg)
{
    struct render *r = arg;
    int rc;
    struct event_doc *ev = event_docs_get(r->app->event_docs, event_id, &rc);
    size_t i;
    json_t *trip;

    /* As before the cache: an event that cannot be read is left out, not the whole feed (logged). */
    if (ev == NULL)
        return 0;
    /* A person's feed is that person; a room's or vehicle's is no one's (visibility.h). */
    /* No delegations asked: a feed shows the person's own calendar, which approvals do not add to. */
    struct viewer viewer = {.kind = strcmp(r->kind, "person") == 0 ? VIEWER_PERSON
                                                                   : VIEWER_CALENDAR,
                            .person = r->id};
    r->view = visibility_of_doc(&viewer, ev->doc);
    /* Fragments are shared by calendars with the same view: the variant names it. */
    int full = r->view == VISIBLE_FULL;
    if (strcmp(r->kind, "room") == 0 || viewer_attends(r, ev->doc))
        emit(r, ev, full ? "full" : "busy", produce_meeting, NULL);
    json_array_foreach(json_object_get(ev->doc, "trips"), i, trip) {
        const char *field = strcmp(r->kind, "vehicle") == 0 ? "vehicle" : "driver";
        char variant[16 + ID_STR_MAX];
        if (strcmp(r->kind, "room") == 0 ||
            (strcmp(str(trip, field), r->id) != 0 && !viewer_rides(r, ev->doc, trip)))
            continue;
        snprintf(variant, sizeof(variant), "%s:%s", full ? "trip" : "trip-only", str(trip, "id"));
        emit(r, ev, variant, trip_event, trip);
    }
    event_doc_release(ev);
    return 0;
}

int feed_render(struct app *app, const char *kind, const char *id, struct strbuf *out,
                int64_t *last_modified)
{
    const struct record_type *type = record_type_by_kind(kind);
    struct render r = {app, kind, id, {0}, json_object(), feed_cache_names(app->feeds), 0,
                       VISIBLE_NONE};
    const char *tz;
    json_t *v;
    int rc;

    strbuf_init(&r.events, FEED_MAX_BYTES);
    rc = store_calendar_event_ids(app->store, kind, id, render_event, &r);
    int64_t lost_at = 0;
    if (rc == STORE_OK)
        rc = store_calendar_changed_at(app->store, kind, id, &lost_at);
    /* An event that left the calendar is not rendered, but its leaving is a change. */
    if (lost_at > r.last_modified)
        r.last_modified = lost_at;
    if (rc == STORE_OK) {
        strbuf_init(out, FEED_MAX_BYTES);
        ics_line(out, "BEGIN", "VCALENDAR");
        ics_line(out, "VERSION", "2.0");
        ics_line(out, "PRODID", "-//convene//convene feeds//ZH");
        ics_line(out, "CALSCALE", "GREGORIAN");
        ics_line(out, "METHOD", "PUBLISH");
        ics_text(out, "NAME", type ? name_of(&r, type, id) : id);
        ics_text(out, "X-WR-CALNAME", type ? name_of(&r, type, id) : id);
        ics_line(out, "X-WR-TIMEZONE", app->cfg.tz);
        ics_line(out, "REFRESH-INTERVAL;VALUE=DURATION", "PT15M");
        ics_line(out, "X-PUBLISHED-TTL", "PT15M");
        json_object_foreach(r.zones, tz, v) {
            if (ics_vtimezone(out, tz) != 0)
                log_error("feed: no VTIMEZONE for %s", tz);
        }
        strbuf_append(out, r.events.data ? r.events.data : "", r.events.len);
        ics_line(out, "END", "VCALENDAR");
        if (out->overflow || r.events.overflow)
            rc = STORE_ERROR;
    }
    *last_modified = r.last_modified;
    strbuf_free(&r.events);
    json_decref(r.zones);
    return rc == STORE_OK ? 0 : -1;
}
