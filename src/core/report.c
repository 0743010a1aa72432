/*
 * report.c - how the reports cut time (CONTRACT section 13): the kind of a
 * day, the day table of a report's span, working hours and a driver's
 * night. Pure: the working calendar and a zone in, seconds out.
 */
#include "convene/report.h"

#include "convene/recur.h"
#include "convene/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum report_day_kind report_day_kind_of(const struct workcal *wc, const struct local_time *date)
{
    int special = 0;

    if (workcal_is_working(wc, date, NULL, &special))
        return REPORT_WORKING;
    /* Only a day the calendar lists as off is a public holiday; other days off are weekends. */
    return special ? REPORT_HOLIDAY : REPORT_REST_DAY;
}

/* The instant of minutes past midnight of date, in tz. */
static int64_t local_at(const struct local_time *date, int minutes, const char *tz)
{
    struct local_time lt = *date;
    int64_t utc = 0;

    lt.hour = lt.minute = lt.second = 0;
    recur_local_add(&lt, (int64_t)minutes * 60);
    time_local_to_utc(&lt, tz, &utc);
    return utc;
}

static void day_fill(struct report_day *d, const struct workcal *wc, const char *tz)
{
    d->kind = report_day_kind_of(wc, &d->date);
    d->start = local_at(&d->date, 0, tz);
    d->night_ends = local_at(&d->date, REPORT_NIGHT_ENDS, tz);
    d->night_begins = local_at(&d->date, REPORT_NIGHT_BEGINS, tz);
    d->nwork = 0;
    if (d->kind != REPORT_WORKING)
        return;
    for (size_t i = 0; i < wc->nperiods && i < WORKCAL_MAX_PERIODS; i++) {
        d->work[d->nwork][0] = local_at(&d->date, wc->periods[i][0], tz);
        d->work[d->nwork][1] = local_at(&d->date, wc->periods[i][1], tz);
        d->nwork++;
    }
}

int report_days_build(struct report_days *t, const struct workcal *wc, const char *tz,
                      const struct local_time *first, const struct local_time *last)
{
    struct local_time d = *first, end;
    int64_t span = recur_local_diff(first, last) / 86400 + 1;

    memset(t, 0, sizeof(*t));
    if (!time_zone_valid(tz) || span < 1 || span > REPORT_MAX_DAYS + 2 * REPORT_SPAN_SLACK_DAYS + 2)
        return -1;
    t->v = xcalloc((size_t)span, sizeof(*t->v));
    d.hour = d.minute = d.second = 0;
    for (int64_t i = 0; i < span; i++, recur_local_add(&d, 86400)) {
        t->v[i].date = d;
        day_fill(&t->v[i], wc, tz);
    }
    t->n = (size_t)span;
    end = d;
    t->end = local_at(&end, 0, tz);
    return 0;
}

void report_days_free(struct report_days *t)
{
    free(t->v);
    memset(t, 0, sizeof(*t));
}

static int64_t day_end(const struct report_days *t, size_t i)
{
    return i + 1 < t->n ? t->v[i + 1].start : t->end;
}

long report_days_find(const struct report_days *t, int64_t utc)
{
    size_t lo = 0, hi = t->n;

    if (t->n == 0 || utc < t->v[0].start || utc >= t->end)
        return -1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].start <= utc)
            lo = mid;
        else
            hi = mid;
    }
    return (long)lo;
}

static int64_t overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
    int64_t s = a0 > b0 ? a0 : b0, e = a1 < b1 ? a1 : b1;

    return e > s ? e - s : 0;
}

/* The first day an interval starting at start touches (0 when it starts before the table). */
static size_t first_day(const struct report_days *t, int64_t start)
{
    long i = report_days_find(t, start);

    return i >= 0 ? (size_t)i : 0;
}

int64_t report_working_seconds(const struct report_days *t, int64_t start, int64_t end)
{
    int64_t sum = 0;

    if (t->n == 0 || end <= t->v[0].start || start >= t->end)
        return 0;
    for (size_t i = first_day(t, start); i < t->n && t->v[i].start < end; i++)
        for (size_t k = 0; k < t->v[i].nwork; k++)
            sum += overlap(start, end, t->v[i].work[k][0], t->v[i].work[k][1]);
    return sum;
}

int64_t report_available_seconds(const struct report_days *t, size_t first, size_t last)
{
    int64_t sum = 0;

    for (size_t i = first; i <= last && i < t->n; i++)
        for (size_t k = 0; k < t->v[i].nwork; k++)
            sum += t->v[i].work[k][1] - t->v[i].work[k][0];
    return sum;
}

int64_t report_split_driver(const struct report_days *t, int64_t start, int64_t end,
                            int64_t parts[REPORT_PARTS])
{
    int64_t added = 0;

    if (t->n == 0 || end <= t->v[0].start || start >= t->end)
        return 0;
    for (size_t i = first_day(t, start); i < t->n && t->v[i].start < end; i++) {
        const struct report_day *d = &t->v[i];
        int64_t e = day_end(t, i), piece = overlap(start, end, d->start, e);

        if (d->kind == REPORT_HOLIDAY) {
            parts[REPORT_PART_HOLIDAY] += piece;
        } else if (d->kind == REPORT_REST_DAY) {
            parts[REPORT_PART_REST_DAY] += piece;
        } else {
            int64_t night = overlap(start, end, d->start, d->night_ends) +
                            overlap(start, end, d->night_begins, e);
            parts[REPORT_WORKDAY_NIGHT] += night;
            parts[REPORT_WORKDAY_DAY] += piece - night;
        }
        added += piece;
    }
    return added;
}

double report_hours(int64_t seconds)
{
    /* seconds / 3600, to two decimals: seconds / 36 hundredths, rounded half away from zero. */
    return round((double)seconds / 36.0) / 100.0;
}
