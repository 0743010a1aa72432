/*
 * recur.c - occurrence expansion. libical iterates the RRULE in local wall
 * time (DTSTART carries the zone, so UNTIL in UTC compares correctly);
 * each occurrence's instant comes from the zone's rules, so 09:00 stays
 * 09:00 across DST changes, as calendar clients expect. Durations are
 * wall-clock, like DTEND - DTSTART in every client we compare with.
 */
#include "convene/recur.h"
#include "convene/util.h"

#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static time_t wall_seconds(const struct local_time *lt)
{
    struct tm tm = {0};
    tm.tm_year = lt->year - 1900;
    tm.tm_mon = lt->month - 1;
    tm.tm_mday = lt->day;
    tm.tm_hour = lt->hour;
    tm.tm_min = lt->minute;
    tm.tm_sec = lt->second;
    return timegm(&tm);
}

int64_t recur_local_diff(const struct local_time *a, const struct local_time *b)
{
    return (int64_t)(wall_seconds(b) - wall_seconds(a));
}

void recur_local_add(struct local_time *lt, int64_t seconds)
{
    time_t t = wall_seconds(lt) + (time_t)seconds;
    struct tm tm;

    gmtime_r(&t, &tm);
    lt->year = tm.tm_year + 1900;
    lt->month = tm.tm_mon + 1;
    lt->day = tm.tm_mday;
    lt->hour = tm.tm_hour;
    lt->minute = tm.tm_min;
    lt->second = tm.tm_sec;
}

/*
 * Names the first part libical refuses in a rule that starts with FREQ=:
 * "BYDAY=XX" used to be reported as a rule not starting with FREQ=. Each
 * part after FREQ is tried alone behind the rule's own FREQ. 1 when found.
 */
static int bad_part(const char *rrule, char *why, size_t whylen)
{
    size_t freq_len = strcspn(rrule, ";");
    const char *p = rrule + freq_len;
    char probe[RECUR_RULE_MAX + 2];

    while (*p == ';') {
        size_t len = strcspn(++p, ";");
        snprintf(probe, sizeof(probe), "%.*s;%.*s", (int)freq_len, rrule, (int)len, p);
        icalerror_clear_errno();
        struct icalrecurrencetype one = icalrecurrencetype_from_string(probe);
        int bad = icalerrno != ICAL_NO_ERROR || one.freq == ICAL_NO_RECURRENCE;
        icalerror_clear_errno();
        if (bad) {
            snprintf(why, whylen, "rrule part '%.*s' is not valid RFC 5545", (int)len, p);
            return 1;
        }
        p += len;
    }
    return 0;
}

static int parse_rule(const char *rrule, struct icalrecurrencetype *rule, char *why, size_t whylen)
{
    if (strlen(rrule) > RECUR_RULE_MAX) {
        snprintf(why, whylen, "rrule is longer than %d characters", RECUR_RULE_MAX);
        return RECUR_BAD_RULE;
    }
    for (const char *p = rrule; *p; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("=;,-+", *p))) {
            snprintf(why, whylen, "rrule may contain only A-Z, digits and = ; , - +");
            return RECUR_BAD_RULE;
        }
    }
    /*
     * RFC 5545 has no empty parts, list items or values; libical skips them,
     * so "FREQ=DAILY;;;" was accepted and went out verbatim in every feed.
     */
    for (const char *p = rrule; *p; p++) {
        if (strchr(";,=", *p) && (p[1] == '\0' || strchr(";,=", p[1]) || p == rrule)) {
            snprintf(why, whylen, "rrule has an empty part, list item or value");
            return RECUR_BAD_RULE;
        }
    }
    icalerror_clear_errno();
    *rule = icalrecurrencetype_from_string(rrule);
    if (icalerrno != ICAL_NO_ERROR || rule->freq == ICAL_NO_RECURRENCE ||
        strncmp(rrule, "FREQ=", 5) != 0) {
        icalerror_clear_errno();
        if (strncmp(rrule, "FREQ=", 5) != 0 || !bad_part(rrule, why, whylen))
            snprintf(why, whylen,
                     "rrule is not a valid RFC 5545 recurrence rule (it must start with FREQ=)");
        return RECUR_BAD_RULE;
    }
    if (rule->freq == ICAL_SECONDLY_RECURRENCE || rule->freq == ICAL_MINUTELY_RECURRENCE ||
        rule->freq == ICAL_HOURLY_RECURRENCE) {
        snprintf(why, whylen, "rrule FREQ finer than DAILY is refused");
        return RECUR_TOO_FINE;
    }
    /*
     * libical takes UNTIL=20262401 (month 24) and rolls it into a later year;
     * a date that does not exist is a typo, not a bound to guess at.
     */
    if (!icaltime_is_null_time(rule->until)) {
        struct icaltimetype u = rule->until, n = icaltime_normalize(rule->until);
        if (u.month < 1 || u.month > 12 || u.day < 1 || u.year != n.year ||
            u.month != n.month || u.day != n.day || u.hour != n.hour || u.minute != n.minute ||
            u.second != n.second) {
            snprintf(why, whylen, "rrule UNTIL is not a valid date or time");
            return RECUR_BAD_RULE;
        }
    }
    if (rule->interval < 1) {
        snprintf(why, whylen, "rrule INTERVAL must be at least 1");
        return RECUR_BAD_RULE;
    }
    return RECUR_OK;
}

int recur_rule_check(const char *rrule, char *why, size_t whylen)
{
    struct icalrecurrencetype rule;
    return parse_rule(rrule, &rule, why, whylen);
}

int recur_rule_is_bounded(const char *rrule)
{
    return rrule == NULL || strstr(rrule, "COUNT=") != NULL || strstr(rrule, "UNTIL=") != NULL;
}

struct occ_list {
    struct occurrence *items;
    size_t count, cap;
};

/* Appends the occurrence starting at local start; the end keeps the wall-clock duration. */
static int add_occurrence(struct occ_list *list, const struct recur_spec *spec,
                          const struct local_time *start, int64_t duration)
{
    struct occurrence *o;
    struct local_time real = *start, end;
    enum time_conv conv;

    if (list->count == RECUR_MAX_OCCURRENCES)
        return RECUR_TOO_MANY;
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 16;
        list->items = xrealloc(list->items, list->cap * sizeof(*list->items));
    }
    o = &list->items[list->count++];
    /* Times in a DST gap convert shifted forward (RFC 5545 3.3.5); that is fine for a series. */
    conv = time_local_to_utc(start, spec->tz, &o->start_utc);
    if (conv == TIME_BAD_ZONE)
        return RECUR_BAD_ZONE;
    /*
     * A start in a gap (02:30 on spring-forward day) happens at 03:30: show
     * and book it there, lasting as long as the others, so end_utc never
     * precedes start_utc. The recurrence id keeps the rule's name (02:30),
     * which is what EXDATE, RECURRENCE-ID and overrides refer to.
     */
    if (conv == TIME_NONEXISTENT)
        time_utc_to_local(o->start_utc, spec->tz, &real);
    end = real;
    recur_local_add(&end, duration);
    time_local_format(start, o->recurrence_id);
    time_local_format(&real, o->start);
    if (time_local_to_utc(&end, spec->tz, &o->end_utc) == TIME_NONEXISTENT)
        time_utc_to_local(o->end_utc, spec->tz, &end); /* an end in a gap, likewise */
    time_local_format(&end, o->end);
    return RECUR_OK;
}

static int listed(const char *const *list, size_t n, const char *local)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], local) == 0)
            return 1;
    return 0;
}

static int cmp_occurrence(const void *a, const void *b)
{
    const struct occurrence *x = a, *y = b;
    if (x->start_utc != y->start_utc)
        return x->start_utc < y->start_utc ? -1 : 1;
    return strcmp(x->recurrence_id, y->recurrence_id);
}

/* One rule instance (or DTSTART): 1 when it starts at or after the horizon (stop). */
static int take_instance(const struct recur_spec *spec, struct occ_list *list,
                         const struct local_time *lt, int64_t duration, int *rc)
{
    char local[TIME_LOCAL_STR];
    int64_t utc;

    time_local_to_utc(lt, spec->tz, &utc);
    if (utc >= spec->horizon_utc)
        return 1;
    time_local_format(lt, local);
    if (listed(spec->exdates, spec->nexdates, local))
        return 0;
    *rc = add_occurrence(list, spec, lt, duration);
    return *rc != RECUR_OK;
}

static int expand_rule(const struct recur_spec *spec, struct occ_list *list, int64_t duration,
                       char *why, size_t whylen)
{
    struct icalrecurrencetype rule;
    struct icaltimetype dtstart = icaltime_null_time();
    icalrecur_iterator *it;
    int rc = parse_rule(spec->rrule, &rule, why, whylen), first = 1, counted = 0;

    if (rc != RECUR_OK)
        return rc;
    if (!time_zone_valid(spec->tz))
        return RECUR_BAD_ZONE;
    dtstart.year = spec->start.year;
    dtstart.month = spec->start.month;
    dtstart.day = spec->start.day;
    dtstart.hour = spec->start.hour;
    dtstart.minute = spec->start.minute;
    dtstart.second = spec->start.second;
    /*
     * The rule runs in floating wall time. With the zone attached, libical
     * 3.0 normalises a wall time falling in a DST gap (02:30 -> 03:30) and
     * carries on from the shifted time, so a daily 02:30 series stayed at
     * 03:30 for good after spring-forward, and an EXDATE or override naming
     * 02:30 no longer matched. Each instant comes from the zone in
     * add_occurrence. A UTC UNTIL becomes the zone's wall time to compare.
     */
    dtstart.zone = NULL;
    /*
     * A DATE UNTIL includes that whole day, as calendar programs mean "ends
     * on 29 December" (Google writes the day's last second): compare with
     * 23:59:59. libical would rank the date below any time of that day, and
     * a weekly 09:00 meeting "until the 29th" lost its meeting on the 29th.
     * ical/feed.c writes the same instant as a UTC UNTIL.
     */
    if (!icaltime_is_null_time(rule.until) && rule.until.is_date) {
        rule.until.is_date = 0;
        rule.until.hour = 23;
        rule.until.minute = rule.until.second = 59;
        rule.until.zone = NULL;
    } else if (!icaltime_is_null_time(rule.until) && icaltime_is_utc(rule.until)) {
        struct local_time u;
        time_utc_to_local((int64_t)icaltime_as_timet(rule.until), spec->tz, &u);
        rule.until = icaltime_null_time();
        rule.until.year = u.year;
        rule.until.month = u.month;
        rule.until.day = u.day;
        rule.until.hour = u.hour;
        rule.until.minute = u.minute;
        rule.until.second = u.second;
    }
    it = icalrecur_iterator_new(rule, dtstart);
    if (it == NULL) {
        icalerror_clear_errno();
        snprintf(why, whylen, "rrule cannot be expanded from this start");
        return RECUR_BAD_RULE;
    }
    for (;;) {
        struct icaltimetype t = icalrecur_iterator_next(it);
        struct local_time lt = {t.year, t.month, t.day, t.hour, t.minute, t.second};
        int done = icaltime_is_null_time(t);

        /*
         * RFC 5545 3.8.5.3: DTSTART is the first instance and counts toward
         * COUNT even when the rule would not generate it (a Wednesday start
         * of a MO,FR rule); libical skips it, which left the event's own
         * first slot unbooked and unlisted.
         */
        if (first) {
            first = 0;
            if (done || recur_local_diff(&spec->start, &lt) != 0) {
                counted++;
                if (take_instance(spec, list, &spec->start, duration, &rc))
                    break;
            }
        }
        if (done || (rule.count > 0 && counted >= rule.count))
            break;
        counted++;
        if (take_instance(spec, list, &lt, duration, &rc))
            break;
    }
    icalrecur_iterator_free(it);
    if (rc == RECUR_TOO_MANY)
        snprintf(why, whylen, "the series has more than %d occurrences within 2 years",
                 RECUR_MAX_OCCURRENCES);
    return rc;
}

int recur_expand(const struct recur_spec *spec, struct occurrence **out, size_t *count,
                 char *why, size_t whylen)
{
    struct occ_list list = {NULL, 0, 0};
    int64_t duration = recur_local_diff(&spec->start, &spec->end);
    int rc = RECUR_OK, nonexistent = 0;

    *out = NULL;
    *count = 0;
    if (spec->rrule == NULL || *spec->rrule == '\0') {
        int64_t utc;
        enum time_conv c = time_local_to_utc(&spec->start, spec->tz, &utc);
        if (c == TIME_BAD_ZONE)
            return RECUR_BAD_ZONE;
        if (c == TIME_NONEXISTENT) {
            snprintf(why, whylen, "the start time does not exist in %s (clocks skip it)",
                     spec->tz);
            /*
             * Still expanded: the caller refuses a timed event, but an
             * all-day one whose midnight is skipped (Chile springs forward
             * at 24:00) used to book nothing at all.
             */
            nonexistent = 1;
        }
        /*
         * EXDATE removes DTSTART without an RRULE too (RFC 5545 3.8.5.1), as
         * in the rule branch and in the clients reading our feeds; the start
         * used to be booked regardless (fuzz_rrule).
         */
        char local[TIME_LOCAL_STR];
        time_local_format(&spec->start, local);
        if (!listed(spec->exdates, spec->nexdates, local))
            rc = add_occurrence(&list, spec, &spec->start, duration);
    } else {
        rc = expand_rule(spec, &list, duration, why, whylen);
    }
    for (size_t i = 0; rc == RECUR_OK && i < spec->nrdates; i++) {
        struct local_time lt;
        if (time_local_parse(spec->rdates[i], &lt) != 0 ||
            listed(spec->exdates, spec->nexdates, spec->rdates[i]))
            continue;
        int dup = 0;
        for (size_t j = 0; j < list.count; j++)
            dup |= strcmp(list.items[j].recurrence_id, spec->rdates[i]) == 0;
        if (!dup)
            rc = add_occurrence(&list, spec, &lt, duration);
    }
    if (rc != RECUR_OK) {
        free(list.items);
        return rc;
    }
    /* Everything may be excluded (EXDATE on DTSTART): qsort() must not see NULL (UBSan). */
    if (list.count > 1)
        qsort(list.items, list.count, sizeof(list.items[0]), cmp_occurrence);
    *out = list.items;
    *count = list.count;
    return nonexistent ? RECUR_NONEXISTENT : RECUR_OK;
}
