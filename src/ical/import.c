/*
 * import.c - iCalendar text to event documents. We check the content-line
 * structure ourselves first (libical's parser is forgiving and cannot say
 * which line failed), then let libical parse and resolve time zones.
 */
#include "convene/ical_import.h"
#include "convene/timeutil.h"
#include "convene/util.h"

#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIBICAL_TZID_PREFIX "/freeassociation.sourceforge.net/"

/* Checks every unfolded content line for NAME[;PARAM...]:VALUE and BEGIN/END nesting. */
static int check_lines(const char *text, size_t len, char *why, size_t whylen)
{
    size_t line_no = 0, depth = 0, i = 0;
    char stack[16][32];

    if (len < 15 || strncmp(text, "BEGIN:VCALENDAR", 15) != 0) {
        snprintf(why, whylen, "line 1: the body must start with BEGIN:VCALENDAR");
        return -1;
    }
    while (i < len) {
        size_t start = i, end;
        line_no++;
        while (i < len && text[i] != '\n')
            i++;
        end = i > start && text[i - 1] == '\r' ? i - 1 : i;
        i++;
        if (end == start)
            continue;
        if (text[start] == ' ' || text[start] == '\t')
            continue; /* a folded continuation */
        const char *colon = memchr(text + start, ':', end - start);
        /* ":value" has no name: libical dropped such lines without a word. */
        if (colon == NULL || colon == text + start) {
            snprintf(why, whylen, "line %zu: not a content line (NAME:VALUE expected)", line_no);
            return -1;
        }
        for (const char *p = text + start; p < colon && *p != ';'; p++) {
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '-')) {
                snprintf(why, whylen, "line %zu: invalid property name", line_no);
                return -1;
            }
        }
        size_t vlen = (size_t)(text + end - colon - 1);
        if (colon - (text + start) == 5 && strncasecmp(text + start, "BEGIN", 5) == 0) {
            if (depth == 16 || vlen == 0 || vlen >= sizeof(stack[0])) {
                snprintf(why, whylen, "line %zu: components nested too deep", line_no);
                return -1;
            }
            memcpy(stack[depth], colon + 1, vlen);
            stack[depth++][vlen] = '\0';
        } else if (colon - (text + start) == 3 && strncasecmp(text + start, "END", 3) == 0) {
            if (depth == 0 || strlen(stack[depth - 1]) != vlen ||
                strncasecmp(stack[depth - 1], colon + 1, vlen) != 0) {
                snprintf(why, whylen, "line %zu: END does not match its BEGIN", line_no);
                return -1;
            }
            depth--;
        }
    }
    if (depth != 0) {
        snprintf(why, whylen, "line %zu: missing END:%s", line_no, stack[depth - 1]);
        return -1;
    }
    return 0;
}

/* The IANA zone named by a property's TZID parameter, or NULL. */
static const char *prop_tzid(icalcomponent *comp, icalproperty_kind kind)
{
    icalproperty *p = icalcomponent_get_first_property(comp, kind);
    icalparameter *param = p ? icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER) : NULL;
    const char *tzid = param ? icalparameter_get_tzid(param) : NULL;

    if (tzid != NULL && strncmp(tzid, LIBICAL_TZID_PREFIX, strlen(LIBICAL_TZID_PREFIX)) == 0)
        tzid += strlen(LIBICAL_TZID_PREFIX);
    if (tzid == NULL)
        return NULL;
    /* Outlook names zones the Windows way; the event keeps the IANA zone they stand for. */
    return time_zone_valid(tzid) ? tzid : time_zone_from_windows(tzid);
}

/* Expresses t as a local wall time in tz (converting through UTC when t is elsewhere). */
static void to_local(struct icaltimetype t, const char *t_tzid, const char *tz,
                     char out[TIME_LOCAL_STR])
{
    struct local_time lt = {t.year, t.month, t.day, t.hour, t.minute, t.second};

    if (t_tzid != NULL && strcmp(t_tzid, tz) == 0) {
        time_local_format(&lt, out);
        return;
    }
    if (icaltime_is_utc(t) || t.zone != NULL) {
        int64_t utc = (int64_t)icaltime_as_timet_with_zone(
            t, t.zone ? (icaltimezone *)t.zone : icaltimezone_get_utc_timezone());
        time_utc_to_local(utc, tz, &lt);
    }
    time_local_format(&lt, out);
}

static void set_text(json_t *doc, const char *key, const char *value)
{
    if (value != NULL && *value != '\0')
        json_object_set_new(doc, key, json_string(value));
}

static void put_times(json_t *doc, icalcomponent *ev, const char *tz, const char *tzid)
{
    struct icaltimetype s = icalcomponent_get_dtstart(ev);
    struct icaltimetype e = icalcomponent_get_dtend(ev);
    char buf[TIME_LOCAL_STR];

    if (s.is_date) {
        struct local_time d = {s.year, s.month, s.day, 0, 0, 0};
        char date[TIME_DATE_STR];
        time_date_format(&d, date);
        json_object_set_new(doc, "date", json_string(date));
        if (!icaltime_is_null_time(e)) {
            struct local_time last = {e.year, e.month, e.day, 0, 0, 0};
            /* DTEND of an all-day event is exclusive; end_date is the last day. */
            struct icaltimetype prev = e;
            icaltime_adjust(&prev, -1, 0, 0, 0);
            last.year = prev.year, last.month = prev.month, last.day = prev.day;
            time_date_format(&last, date);
            if (icaltime_compare_date_only(prev, s) > 0)
                json_object_set_new(doc, "end_date", json_string(date));
        }
        return;
    }
    to_local(s, tzid, tz, buf);
    json_object_set_new(doc, "start", json_string(buf));
    if (icaltime_is_null_time(e)) {
        e = s; /* RFC 5545: no DTEND and no DURATION means an instant; give it a minute */
        icaltime_adjust(&e, 0, 0, 1, 0);
    }
    to_local(e, prop_tzid(ev, ICAL_DTEND_PROPERTY) ? prop_tzid(ev, ICAL_DTEND_PROPERTY) : tzid,
             tz, buf);
    json_object_set_new(doc, "end", json_string(buf));
}

static void put_dates(json_t *doc, icalcomponent *ev, icalproperty_kind kind, const char *key,
                      const char *tz, int all_day)
{
    json_t *arr = json_array();

    for (icalproperty *p = icalcomponent_get_first_property(ev, kind); p != NULL;
         p = icalcomponent_get_next_property(ev, kind)) {
        struct icaltimetype t = kind == ICAL_EXDATE_PROPERTY ? icalproperty_get_exdate(p)
                                                             : icalproperty_get_rdate(p).time;
        char buf[TIME_LOCAL_STR];
        icalparameter *param = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
        const char *tzid = param ? icalparameter_get_tzid(param) : NULL;
        if (icaltime_is_null_time(t))
            continue;
        if (all_day) {
            struct local_time d = {t.year, t.month, t.day, 0, 0, 0};
            time_local_format(&d, buf);
        } else {
            to_local(t, tzid && time_zone_valid(tzid) ? tzid : time_zone_from_windows(tzid), tz,
                     buf);
        }
        json_array_append_new(arr, json_string(buf));
    }
    if (json_array_size(arr) > 0)
        json_object_set_new(doc, key, arr);
    else
        json_decref(arr);
}

static json_t *event_doc(icalcomponent *ev, const char *default_tz, const char **tz_out)
{
    json_t *doc = json_object();
    const char *tzid = prop_tzid(ev, ICAL_DTSTART_PROPERTY);
    const char *tz = tzid ? tzid : default_tz;
    icalproperty *rrule = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY);
    const char *summary = icalcomponent_get_summary(ev);

    *tz_out = tz;
    set_text(doc, "title", summary && *summary ? summary : "(无标题)");
    set_text(doc, "description", icalcomponent_get_description(ev));
    set_text(doc, "location", icalcomponent_get_location(ev));
    json_object_set_new(doc, "tz", json_string(tz));
    put_times(doc, ev, tz, tzid);
    if (rrule != NULL) {
        struct icalrecurrencetype r = icalproperty_get_rrule(rrule);
        char *s = icalrecurrencetype_as_string_r(&r);
        if (s != NULL)
            json_object_set_new(doc, "rrule", json_string(s));
        free(s);
    }
    int all_day = icalcomponent_get_dtstart(ev).is_date;
    put_dates(doc, ev, ICAL_EXDATE_PROPERTY, "exdates", tz, all_day);
    put_dates(doc, ev, ICAL_RDATE_PROPERTY, "rdates", tz, all_day);
    if (icalproperty_get_class(icalcomponent_get_first_property(ev, ICAL_CLASS_PROPERTY)) ==
        ICAL_CLASS_CONFIDENTIAL)
        json_object_set_new(doc, "confidential", json_true());
    return doc;
}

/*
 * A property's time with its TZID resolved to a zone: the file's own
 * VTIMEZONE first (Outlook's "Tokyo Standard Time"), then libical's built-in
 * ones. icalcomponent_get_recurrenceid() leaves the zone unset, so a
 * RECURRENCE-ID in a zone of the file's own was read as the organisation's
 * wall time and named an occurrence that does not exist.
 */
static struct icaltimetype resolved_time(icalcomponent *ev, icalproperty_kind kind,
                                         struct icaltimetype t)
{
    icalproperty *p = icalcomponent_get_first_property(ev, kind);
    icalparameter *param = p ? icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER) : NULL;
    const char *tzid = param ? icalparameter_get_tzid(param) : NULL;
    icalcomponent *cal = icalcomponent_get_parent(ev);
    icaltimezone *zone = NULL;

    if (tzid == NULL || t.is_date || t.zone != NULL || icaltime_is_utc(t))
        return t;
    if (cal != NULL)
        zone = icalcomponent_get_timezone(cal, tzid);
    if (zone == NULL)
        zone = icaltimezone_get_builtin_timezone(tzid);
    t.zone = zone;
    return t;
}

/* Folds a RECURRENCE-ID component into its master's overrides. */
static int add_override(json_t *out, icalcomponent *ev, const char *default_tz)
{
    const char *uid = icalcomponent_get_uid(ev);
    struct icaltimetype rid = resolved_time(ev, ICAL_RECURRENCEID_PROPERTY,
                                            icalcomponent_get_recurrenceid(ev));
    size_t i;
    json_t *item;

    json_array_foreach(out, i, item) {
        if (strcmp(json_string_value(json_object_get(item, "uid")), uid) != 0)
            continue;
        json_t *doc = json_object_get(item, "doc");
        const char *tz = json_string_value(json_object_get(doc, "tz"));
        char key[TIME_LOCAL_STR];
        const char *ignored;
        to_local(rid, prop_tzid(ev, ICAL_RECURRENCEID_PROPERTY), tz, key);
        json_t *ov = json_object();
        if (icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED) {
            json_object_set_new(ov, "cancelled", json_true());
        } else {
            json_t *moved = event_doc(ev, default_tz, &ignored);
            char s[TIME_LOCAL_STR], e[TIME_LOCAL_STR];
            to_local(icalcomponent_get_dtstart(ev), prop_tzid(ev, ICAL_DTSTART_PROPERTY), tz, s);
            to_local(icalcomponent_get_dtend(ev), prop_tzid(ev, ICAL_DTEND_PROPERTY), tz, e);
            json_object_set_new(ov, "start", json_string(s));
            json_object_set_new(ov, "end", json_string(e));
            json_object_set(ov, "title", json_object_get(moved, "title"));
            json_decref(moved);
        }
        json_t *overrides = json_object_get(doc, "overrides");
        if (overrides == NULL) {
            overrides = json_object();
            json_object_set_new(doc, "overrides", overrides);
        }
        json_object_set_new(overrides, key, ov);
        return 0;
    }
    return -1;
}

/* 1 when s is absent or well-formed UTF-8. */
static int text_ok(const char *s)
{
    return s == NULL || utf8_valid_prefix(s, strlen(s)) == strlen(s);
}

/*
 * Whether the texts that become JSON are UTF-8 (RFC 5545 3.1.4). jansson
 * refuses anything else: an invalid UID made json_pack() fail and the
 * event was silently left out, an invalid SUMMARY lost the title
 * (fuzz_ical_import). Checked after libical has unfolded the lines, so a
 * character split by folding is still accepted.
 */
static int event_texts_ok(icalcomponent *ev)
{
    return text_ok(icalcomponent_get_uid(ev)) && text_ok(icalcomponent_get_summary(ev)) &&
           text_ok(icalcomponent_get_description(ev)) &&
           text_ok(icalcomponent_get_location(ev));
}

json_t *ical_import_parse(const char *text, size_t len, const char *default_tz, char *why,
                          size_t whylen)
{
    icalcomponent *cal, *ev;
    json_t *out;
    char *copy;

    if (check_lines(text, len, why, whylen) != 0)
        return NULL;
    copy = xstrndup(text, len);
    cal = icalparser_parse_string(copy);
    free(copy);
    if (cal == NULL || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
        snprintf(why, whylen, "line 1: not an iCalendar VCALENDAR");
        icalcomponent_free(cal);
        icalerror_clear_errno();
        return NULL;
    }
    out = json_array();
    /* Masters first, so overrides (in any order in the file) find them. */
    for (int pass = 0; pass < 2 && out != NULL; pass++) {
        for (ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev != NULL;
             ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
            const char *uid = icalcomponent_get_uid(ev), *tz;
            int is_override = !icaltime_is_null_time(icalcomponent_get_recurrenceid(ev));
            if (uid == NULL || *uid == '\0' || strlen(uid) > 255 ||
                icaltime_is_null_time(icalcomponent_get_dtstart(ev))) {
                snprintf(why, whylen, "a VEVENT lacks a UID or DTSTART (UID '%.60s')",
                         uid ? uid : "");
                json_decref(out);
                out = NULL;
                break;
            }
            if (!event_texts_ok(ev)) {
                snprintf(why, whylen, "a VEVENT has text that is not UTF-8 (UID '%.60s')", uid);
                json_decref(out);
                out = NULL;
                break;
            }
            if (pass == 0 && !is_override) {
                if (json_array_size(out) == IMPORT_MAX_EVENTS) {
                    snprintf(why, whylen, "more than %d events", IMPORT_MAX_EVENTS);
                    json_decref(out);
                    out = NULL;
                    break;
                }
                json_array_append_new(out, json_pack("{s:s, s:o}", "uid", uid, "doc",
                                                     event_doc(ev, default_tz, &tz)));
            } else if (pass == 1 && is_override && add_override(out, ev, default_tz) != 0) {
                snprintf(why, whylen, "RECURRENCE-ID of UID '%.60s' has no master event", uid);
                json_decref(out);
                out = NULL;
                break;
            }
        }
    }
    icalcomponent_free(cal);
    icalerror_clear_errno();
    return out;
}
