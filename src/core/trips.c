/*
 * trips.c - a driver's working day: hours per day, rest between days, and
 * which days need an approved trip. Pure functions over spans the caller
 * collected (api/dispatch.c gathers them from the booking and the store),
 * so the rules can be read and tested on their own.
 */
#include "convene/trips.h"

#include <stdlib.h>
#include <string.h>

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
int64_t trips_day_number(const struct local_time *date)
{
    int64_t y = date->year - (date->month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (date->month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + date->day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

void trips_day_date(int64_t day, struct local_time *out)
{
    int64_t z = day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    memset(out, 0, sizeof(*out));
    out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int)(yoe + era * 400 + (out->month <= 2));
}

static int by_day_then_depart(const void *a, const void *b)
{
    const struct trip_span *x = a, *y = b;

    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    if (x->depart_utc != y->depart_utc)
        return x->depart_utc < y->depart_utc ? -1 : 1;
    return 0;
}

/* One day's trips, spans[first..last): what the rules need to know about it. */
struct driver_day {
    int64_t day;
    int64_t driven;       /* seconds, overlaps counted once */
    int64_t first_depart;
    int64_t last_return;
    int mine;
    size_t tag;           /* of a span of the caller's, when mine */
};

/* Summarises spans[i..) of one day; returns the index after that day. */
static size_t day_summarise(const struct trip_span *spans, size_t n, size_t i,
                            struct driver_day *d)
{
    int64_t covered_until = INT64_MIN;

    memset(d, 0, sizeof(*d));
    d->day = spans[i].day;
    d->first_depart = spans[i].depart_utc;
    d->last_return = spans[i].return_utc;
    for (; i < n && spans[i].day == d->day; i++) {
        const struct trip_span *s = &spans[i];
        /* Sorted by departure: the union of the intervals grows left to right. */
        int64_t from = s->depart_utc > covered_until ? s->depart_utc : covered_until;
        if (s->return_utc > from)
            d->driven += s->return_utc - from;
        if (s->return_utc > covered_until)
            covered_until = s->return_utc;
        if (s->return_utc > d->last_return)
            d->last_return = s->return_utc;
        if (s->mine && !d->mine) {
            d->mine = 1;
            d->tag = s->tag;
        }
    }
    return i;
}

enum trip_verdict trips_driver_check(struct trip_span *spans, size_t n,
                                     const struct trip_rules *rules, struct trip_violation *v)
{
    struct driver_day prev = {0}, cur = {0};
    int have_prev = 0;

    memset(v, 0, sizeof(*v));
    if (n == 0)
        return TRIP_OK;
    qsort(spans, n, sizeof(*spans), by_day_then_depart);
    for (size_t i = 0; i < n; prev = cur, have_prev = 1) {
        i = day_summarise(spans, n, i, &cur);
        if (cur.mine && rules->max_hours > 0 && cur.driven > (int64_t)rules->max_hours * 3600) {
            *v = (struct trip_violation){TRIP_DRIVER_HOURS, cur.day, cur.driven, cur.tag};
            return v->verdict;
        }
        if (have_prev && rules->min_rest_hours > 0 && prev.day + 1 == cur.day &&
            (prev.mine || cur.mine) &&
            cur.first_depart - prev.last_return < (int64_t)rules->min_rest_hours * 3600) {
            *v = (struct trip_violation){TRIP_DRIVER_REST, cur.day,
                                         cur.first_depart - prev.last_return,
                                         cur.mine ? cur.tag : prev.tag};
            return v->verdict;
        }
    }
    return TRIP_OK;
}

int trips_needs_approval(const struct workcal *wc, const struct local_time *depart,
                         const struct local_time *ret, struct local_time *day)
{
    struct local_time last = *ret;
    int special;
    const char *name;

    /* A return at midnight ends on the day before: the trip never touches the next one. */
    last.hour = last.minute = last.second = 0;
    if (ret->hour == 0 && ret->minute == 0 && ret->second == 0)
        trips_day_date(trips_day_number(ret) - 1, &last);
    for (int64_t d = trips_day_number(depart); d <= trips_day_number(&last); d++) {
        trips_day_date(d, day);
        if (!workcal_is_working(wc, day, &name, &special))
            return 1;
    }
    return 0;
}
