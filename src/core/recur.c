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

static int has_parts(const short *list)
{
    return list[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

/*
 * RFC 5545 3.3.10: a numbered BYDAY (2MO, -1FR) only with MONTHLY or
 * YEARLY, and not with BYWEEKNO. libical takes the others and never
 * matches them (FREQ=DAILY;BYDAY=1MO searched for 1.1 s and found nothing).
 */
static int check_byday(const struct icalrecurrencetype *rule, char *why, size_t whylen)
{
    for (int i = 0; i < ICAL_BY_DAY_SIZE && rule->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
        if (icalrecurrencetype_day_position(rule->by_day[i]) == 0)
            continue;
        if ((rule->freq != ICAL_MONTHLY_RECURRENCE && rule->freq != ICAL_YEARLY_RECURRENCE) ||
            has_parts(rule->by_week_no)) {
            snprintf(why, whylen, "rrule BYDAY with a number (like 2MO) needs FREQ=MONTHLY or "
                                  "YEARLY, without BYWEEKNO");
            return RECUR_BAD_RULE;
        }
    }
    return RECUR_OK;
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
     * BYHOUR, BYMINUTE and BYSECOND make any frequency finer than daily
     * (FREQ=DAILY;BYHOUR=9,10,11 is hourly), and libical walks them hour by
     * hour: FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=0,...,23 searched
     * until the year 2582 and held the loop for 8 s.
     */
    if (has_parts(rule->by_hour) || has_parts(rule->by_minute) || has_parts(rule->by_second)) {
        snprintf(why, whylen, "rrule BYHOUR, BYMINUTE and BYSECOND are refused (finer than daily)");
        return RECUR_TOO_FINE;
    }
    if (check_byday(rule, why, whylen) != RECUR_OK)
        return RECUR_BAD_RULE;
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

/* ---------------- does the rule ever occur? ---------------- */

/*
 * libical looks for the next instance until it finds one or passes the
 * year 2582 (20000 while placing the first), so a rule that never occurs
 * held the loop thread: FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6 for 1.3 s,
 * FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 for 0.5 s. Before libical sees a
 * rule, one pass over the calendar day by day (at most ~203,000 days, from
 * the start's year to UNTIL or 2582: 2 ms measured) tells whether any day
 * can be an instance. The test is looser than the rule (BYWEEKNO is not
 * applied, BYSETPOS only as "some period has that many candidates"), so
 * it refuses only rules that truly never occur; what it lets through,
 * libical finds within a few periods.
 */
struct day {
    int year, month, day; /* the date */
    int wday;             /* 1 = Sunday ... 7 = Saturday, as libical numbers them */
    int yday, mdays, ydays;
};

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

static void day_set(struct day *d, int y, int m, int dd)
{
    struct local_time lt = {y, m, dd, 0, 0, 0};
    struct local_time jan1 = {y, 1, 1, 0, 0, 0};
    time_t t = wall_seconds(&lt);

    d->year = y;
    d->month = m;
    d->day = dd;
    d->wday = (int)(((t / 86400) % 7 + 7 + 4) % 7) + 1; /* 1970-01-01 was a Thursday */
    d->yday = (int)((t - wall_seconds(&jan1)) / 86400) + 1;
    d->mdays = month_days(y, m);
    d->ydays = leap(y) ? 366 : 365;
}

static void day_next(struct day *d)
{
    d->wday = d->wday % 7 + 1;
    d->yday++;
    if (++d->day <= d->mdays)
        return;
    d->day = 1;
    if (++d->month > 12) {
        d->month = 1;
        d->year++;
        d->yday = 1;
        d->ydays = leap(d->year) ? 366 : 365;
    }
    d->mdays = month_days(d->year, d->month);
}

/* Whether v (1..n, or -n..-1 from the end) names position pos of n. */
static int nth(int v, int pos, int n)
{
    return v > 0 ? v == pos : v < 0 && n + 1 + v == pos;
}

static int listed_nth(const short *list, int pos, int n)
{
    for (int i = 0; list[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        if (nth(list[i], pos, n))
            return 1;
    return 0;
}

/* Whether the day is the pos-th (from the end when negative) of its weekday in n days. */
static int weekday_nth(int pos, int index, int n)
{
    return pos > 0 ? (index - 1) / 7 + 1 == pos : (n - index) / 7 + 1 == -pos;
}

static int byday_matches(const struct icalrecurrencetype *r, const struct day *d)
{
    /* A number counts weekdays in the month (MONTHLY, or YEARLY with BYMONTH), else in the year. */
    int in_month = r->freq == ICAL_MONTHLY_RECURRENCE || has_parts(r->by_month);

    for (int i = 0; r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
        int pos = icalrecurrencetype_day_position(r->by_day[i]);
        if ((int)icalrecurrencetype_day_day_of_week(r->by_day[i]) != d->wday)
            continue;
        if (pos == 0 || (in_month ? weekday_nth(pos, d->day, d->mdays)
                                  : weekday_nth(pos, d->yday, d->ydays)))
            return 1;
    }
    return 0;
}

/* The rule's day filters, with the defaults RFC 5545 takes from DTSTART. */
static int day_matches(const struct icalrecurrencetype *r, const struct day *d,
                       const struct local_time *start, int start_wday)
{
    int bymd = has_parts(r->by_month_day), byday = has_parts(r->by_day);

    if (has_parts(r->by_month) && !listed_nth(r->by_month, d->month, 12))
        return 0;
    if (bymd && !listed_nth(r->by_month_day, d->day, d->mdays))
        return 0;
    if (has_parts(r->by_year_day) && !listed_nth(r->by_year_day, d->yday, d->ydays))
        return 0;
    if (byday && !byday_matches(r, d))
        return 0;
    switch (r->freq) {
    case ICAL_WEEKLY_RECURRENCE:
        return byday || d->wday == start_wday;
    case ICAL_MONTHLY_RECURRENCE:
        return bymd || byday || d->day == start->day;
    case ICAL_YEARLY_RECURRENCE:
        if (bymd || byday || has_parts(r->by_year_day) || has_parts(r->by_week_no))
            return 1;
        return d->day == start->day && (has_parts(r->by_month) || d->month == start->month);
    default:
        return 1;
    }
}

#define SCAN_LAST_YEAR 2582 /* libical's own limit (MAX_TIME_T_YEAR) */

/* Whether the day lies in a period the INTERVAL selects (counted from DTSTART's). */
static int in_interval(const struct icalrecurrencetype *r, const struct day *d,
                       const struct local_time *start, long dayno)
{
    long k = r->interval, n;

    switch (r->freq) {
    case ICAL_DAILY_RECURRENCE:
        n = dayno;
        break;
    case ICAL_MONTHLY_RECURRENCE:
        n = (long)(d->year - start->year) * 12 + (d->month - start->month);
        break;
    case ICAL_YEARLY_RECURRENCE:
        n = d->year - start->year;
        break;
    default:
        return 1; /* weekly: libical counts weeks its own way; the looser test is enough */
    }
    return ((n % k) + k) % k == 0;
}

/* The smallest |BYSETPOS|: a period needs that many candidate days (MONTHLY, YEARLY). */
static int setpos_needed(const struct icalrecurrencetype *r)
{
    int need = 0;

    if (r->freq != ICAL_MONTHLY_RECURRENCE && r->freq != ICAL_YEARLY_RECURRENCE)
        return 0; /* libical ignores BYSETPOS there */
    for (int i = 0; r->by_set_pos[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
        int v = r->by_set_pos[i] < 0 ? -r->by_set_pos[i] : r->by_set_pos[i];
        if (need == 0 || v < need)
            need = v;
    }
    return need;
}

/*
 * 1 when some day from DTSTART (the start of its year with BYSETPOS) to
 * libical's last year can be an instance of the rule. UNTIL is left out:
 * a rule whose only instance is DTSTART (a Wednesday start of a weekly
 * Monday rule ending on Thursday) has that one occurrence (RFC 5545
 * 3.8.5.3), while one no date ever matches has none. *days counts the
 * days looked at (the fuzz target checks the bound).
 */
static int rule_ever_occurs(const struct icalrecurrencetype *r, const struct local_time *start,
                            long *days)
{
    struct day d, s;
    int need = setpos_needed(r), count = 0, period = -1;
    long dayno;

    day_set(&s, start->year, start->month, start->day);
    /* BYSETPOS counts whole periods: from the year's start then (a month's is in it). */
    if (need > 0)
        day_set(&d, start->year, 1, 1);
    else
        d = s;
    dayno = d.yday - s.yday; /* days from DTSTART, for DAILY's INTERVAL */
    *days = 0;
    for (;; day_next(&d), dayno++) {
        int key = r->freq == ICAL_MONTHLY_RECURRENCE ? d.year * 12 + d.month : d.year;
        if (d.year > SCAN_LAST_YEAR)
            return 0;
        ++*days;
        if (key != period) {
            period = key;
            count = 0;
        }
        if (!in_interval(r, &d, start, dayno) || !day_matches(r, &d, start, s.wday))
            continue;
        if (++count >= need)
            return 1;
    }
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
    size_t before; /* of count, those starting before spec->count_from_utc */
};

/*
 * Whether one more occurrence starting at start_utc stays within the caps:
 * RECUR_MAX_OCCURRENCES in all, or, with count_from_utc set, that many on
 * each side of it (RECUR_TOO_OLD for the past, RECUR_TOO_MANY ahead).
 */
static int within_cap(const struct occ_list *list, const struct recur_spec *spec,
                      int64_t start_utc)
{
    if (spec->count_from_utc == 0)
        return list->count == RECUR_MAX_OCCURRENCES ? RECUR_TOO_MANY : RECUR_OK;
    if (start_utc < spec->count_from_utc)
        return list->before == RECUR_MAX_OCCURRENCES ? RECUR_TOO_OLD : RECUR_OK;
    return list->count - list->before == RECUR_MAX_OCCURRENCES ? RECUR_TOO_MANY : RECUR_OK;
}

/* Appends the occurrence starting at local start; the end keeps the wall-clock duration. */
static int add_occurrence(struct occ_list *list, const struct recur_spec *spec,
                          const struct local_time *start, int64_t duration)
{
    struct occurrence *o;
    struct local_time real = *start, end;
    enum time_conv conv;
    int64_t start_utc;
    int rc;

    /* Times in a DST gap convert shifted forward (RFC 5545 3.3.5); that is fine for a series. */
    conv = time_local_to_utc(start, spec->tz, &start_utc);
    if (conv == TIME_BAD_ZONE)
        return RECUR_BAD_ZONE;
    if ((rc = within_cap(list, spec, start_utc)) != RECUR_OK)
        return rc;
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 16;
        list->items = xrealloc(list->items, list->cap * sizeof(*list->items));
    }
    o = &list->items[list->count++];
    o->start_utc = start_utc;
    if (spec->count_from_utc != 0 && start_utc < spec->count_from_utc)
        list->before++;
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

/*
 * One rule instance (or DTSTART): 1 when it starts at or after the horizon
 * (stop). skip_before: instances at wall times before it start before
 * from_utc whatever the zone's offset (a day's margin), so they are passed
 * over without converting them: a counted series' window is expanded from
 * DTSTART, and the conversions were most of a booking's time when it was
 * checked against many series' unstored occurrences.
 */
static int take_instance(const struct recur_spec *spec, struct occ_list *list,
                         const struct local_time *lt, int64_t duration,
                         const struct local_time *skip_before, int *rc)
{
    char local[TIME_LOCAL_STR];
    int64_t utc;

    if (skip_before != NULL && recur_local_diff(lt, skip_before) > 0)
        return 0;
    time_local_to_utc(lt, spec->tz, &utc);
    if (utc >= spec->horizon_utc)
        return 1;
    time_local_format(lt, local);
    if (utc < spec->from_utc || listed(spec->exdates, spec->nexdates, local))
        return 0;
    *rc = add_occurrence(list, spec, lt, duration);
    return *rc != RECUR_OK;
}

static struct icaltimetype floating(const struct local_time *lt)
{
    struct icaltimetype t = icaltime_null_time();

    t.year = lt->year;
    t.month = lt->month;
    t.day = lt->day;
    t.hour = lt->hour;
    t.minute = lt->minute;
    t.second = lt->second;
    return t; /* zone NULL: floating */
}

/*
 * UNTIL as the wall time the iterator compares with. A DATE UNTIL includes
 * that whole day, as calendar programs mean "ends on 29 December" (Google
 * writes the day's last second): compare with 23:59:59. libical would rank
 * the date below any time of that day, and a weekly 09:00 meeting "until
 * the 29th" lost its meeting on the 29th. ical/feed.c writes the same
 * instant as a UTC UNTIL. A UTC UNTIL becomes the zone's wall time.
 */
static void until_to_wall(struct icalrecurrencetype *rule, const char *tz)
{
    if (!icaltime_is_null_time(rule->until) && rule->until.is_date) {
        rule->until.is_date = 0;
        rule->until.hour = 23;
        rule->until.minute = rule->until.second = 59;
        rule->until.zone = NULL;
    } else if (!icaltime_is_null_time(rule->until) && icaltime_is_utc(rule->until)) {
        struct local_time u;
        time_utc_to_local((int64_t)icaltime_as_timet(rule->until), tz, &u);
        rule->until = floating(&u);
    }
}

/*
 * The iterator's work is bounded by giving it an UNTIL no later than the
 * horizon (plus a day for zone offsets) and RECUR_SPAN_YEARS past where it
 * starts: libical checks UNTIL at every step of its search, so a rule that
 * rarely occurs stops there instead of walking on to the year 2582
 * (FREQ=DAILY;COUNT=1000;BYMONTH=2;BYMONTHDAY=29 took 0.5 s). Returns 1
 * when the span limit cut the rule short of its own end and the horizon.
 */
static int clamp_until(struct icalrecurrencetype *rule, const struct recur_spec *spec,
                       const struct local_time *from)
{
    struct local_time span = *from;
    struct icaltimetype limit;
    int64_t span_utc;
    int by_span = 1;

    span.year += RECUR_SPAN_YEARS;
    limit = floating(&span);
    if (time_local_to_utc(&span, spec->tz, &span_utc) != TIME_BAD_ZONE &&
        spec->horizon_utc < span_utc - 86400) {
        struct local_time h;
        time_utc_to_local(spec->horizon_utc + 86400, spec->tz, &h);
        limit = floating(&h);
        by_span = 0;
    }
    if (!icaltime_is_null_time(rule->until) && icaltime_compare(rule->until, limit) <= 0)
        return 0;
    rule->until = limit;
    return by_span;
}

/*
 * Where the iterator starts: DTSTART, or just before from_utc when the rule
 * has no COUNT (nothing to count from the beginning), so a window far from
 * DTSTART costs only its own length.
 */
static struct local_time iterator_start(const struct recur_spec *spec,
                                        const struct icalrecurrencetype *rule)
{
    struct local_time from = spec->start;
    int64_t start_utc;

    if (rule->count == 0 && time_local_to_utc(&spec->start, spec->tz, &start_utc) == TIME_OK &&
        spec->from_utc > start_utc + 2 * 86400) {
        time_utc_to_local(spec->from_utc - 2 * 86400, spec->tz, &from);
        from.hour = from.minute = from.second = 0;
    }
    return from;
}

static icalrecur_iterator *iterator_new(const struct icalrecurrencetype *rule,
                                        const struct recur_spec *spec,
                                        const struct local_time *from)
{
    icalrecur_iterator *it;

    /*
     * The rule runs in floating wall time. With the zone attached, libical
     * 3.0 normalises a wall time falling in a DST gap (02:30 -> 03:30) and
     * carries on from the shifted time, so a daily 02:30 series stayed at
     * 03:30 for good after spring-forward, and an EXDATE or override naming
     * 02:30 no longer matched. Each instant comes from the zone in
     * add_occurrence.
     */
    it = icalrecur_iterator_new(*rule, floating(&spec->start));
    if (it != NULL && recur_local_diff(&spec->start, from) > 0 &&
        !icalrecur_iterator_set_start(it, floating(from))) {
        icalrecur_iterator_free(it);
        it = NULL;
    }
    if (it == NULL)
        icalerror_clear_errno();
    return it;
}

static void set_reason(int rc, char *why, size_t whylen)
{
    if (rc == RECUR_TOO_MANY)
        snprintf(why, whylen, "the series has more than %d occurrences (within 2 years when "
                              "it has no end)", RECUR_MAX_OCCURRENCES);
    else if (rc == RECUR_TOO_OLD)
        snprintf(why, whylen, "the series has more than %d occurrences before today: give it "
                              "an end (UNTIL) and book what follows as a new series",
                 RECUR_MAX_OCCURRENCES);
    else if (rc == RECUR_TOO_LONG)
        snprintf(why, whylen, "the series reaches more than %d years past its start",
                 RECUR_SPAN_YEARS);
    else if (rc == RECUR_TOO_COSTLY)
        snprintf(why, whylen, "the series is too costly to expand");
}

static int expand_rule(const struct recur_spec *spec, struct occ_list *list, int64_t duration,
                       char *why, size_t whylen)
{
    struct icalrecurrencetype rule;
    struct local_time from, skip, *skip_before = NULL;
    icalrecur_iterator *it;
    int rc = parse_rule(spec->rrule, &rule, why, whylen), first = 1, counted = 0, cut;
    long steps = 0, days = 0;

    if (rc != RECUR_OK)
        return rc;
    if (!time_zone_valid(spec->tz))
        return RECUR_BAD_ZONE;
    until_to_wall(&rule, spec->tz);
    if (!rule_ever_occurs(&rule, &spec->start, &days)) {
        if (spec->cost != NULL)
            spec->cost->days_scanned = days;
        snprintf(why, whylen, "the rule has no occurrence (no date ever matches it)");
        return RECUR_NEVER;
    }
    from = iterator_start(spec, &rule);
    cut = clamp_until(&rule, spec, &from);
    if (spec->from_utc > 0) {
        time_utc_to_local(spec->from_utc - 86400, spec->tz, &skip);
        skip_before = &skip;
    }
    if ((it = iterator_new(&rule, spec, &from)) == NULL) {
        snprintf(why, whylen, "rrule cannot be expanded from this start");
        return RECUR_BAD_RULE;
    }
    for (;; steps++) {
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
                if (take_instance(spec, list, &spec->start, duration, skip_before, &rc))
                    break;
            }
        }
        if (done && cut && (rule.count == 0 || counted < rule.count))
            rc = RECUR_TOO_LONG; /* the rule goes on past the span we follow */
        if (done || (rule.count > 0 && counted >= rule.count))
            break;
        if (steps >= RECUR_MAX_STEPS) {
            rc = RECUR_TOO_COSTLY;
            break;
        }
        counted++;
        if (take_instance(spec, list, &lt, duration, skip_before, &rc))
            break;
    }
    icalrecur_iterator_free(it);
    if (spec->cost != NULL) {
        spec->cost->days_scanned = days;
        spec->cost->steps = steps;
    }
    set_reason(rc, why, whylen);
    return rc;
}

int recur_expand(const struct recur_spec *spec, struct occurrence **out, size_t *count,
                 char *why, size_t whylen)
{
    struct occ_list list = {NULL, 0, 0, 0};
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
        if (!listed(spec->exdates, spec->nexdates, local) && utc >= spec->from_utc)
            rc = add_occurrence(&list, spec, &spec->start, duration);
    } else {
        rc = expand_rule(spec, &list, duration, why, whylen);
    }
    for (size_t i = 0; rc == RECUR_OK && i < spec->nrdates; i++) {
        struct local_time lt;
        int64_t utc;
        if (time_local_parse(spec->rdates[i], &lt) != 0 ||
            listed(spec->exdates, spec->nexdates, spec->rdates[i]) ||
            (time_local_to_utc(&lt, spec->tz, &utc) != TIME_BAD_ZONE && utc < spec->from_utc))
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
