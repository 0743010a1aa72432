/*
 * trips.h - the rules a driver's day must keep (CONTRACT section 6), as
 * pure functions over trip spans: at most --driver-max-hours of trips per
 * calendar day, at least --driver-min-rest hours between the last return
 * of one day and the first departure of the next, and which days need a
 * trip to be approved (weekends and public holidays, but not official
 * make-up working days). No store, no clock: the caller gathers the spans.
 */
#ifndef CONVENE_TRIPS_H
#define CONVENE_TRIPS_H

#include <stddef.h>
#include <stdint.h>

#include "convene/timeutil.h"
#include "convene/workcal.h"

/* One trip of a driver. A trip belongs to the local day it departs on. */
struct trip_span {
    int64_t day;                    /* trips_day_number() of the local departure date */
    int64_t depart_utc, return_utc;
    int mine;                       /* part of the booking being checked */
    size_t tag;                     /* caller's index, handed back on a violation */
};

struct trip_rules {
    int max_hours;      /* per driver per day; 0 = no limit */
    int min_rest_hours; /* between days; 0 = no rest rule */
};

enum trip_verdict {
    TRIP_OK = 0,
    TRIP_DRIVER_HOURS = 1, /* a day holds more than max_hours of trips */
    TRIP_DRIVER_REST = 2,  /* too little rest between two consecutive days */
};

struct trip_violation {
    enum trip_verdict verdict;
    int64_t day;     /* the day over its hours, or the second day of a short rest */
    int64_t seconds; /* hours driven that day, or the rest kept, in seconds */
    size_t tag;      /* tag of one of the caller's own spans involved */
};

/* Days since 1970-01-01 of a local date (time of day ignored). */
int64_t trips_day_number(const struct local_time *date);

/* The local date of a day number (time of day zeroed). */
void trips_day_date(int64_t day, struct local_time *out);

/*
 * Checks one driver's spans (sorted or not; they are sorted in place).
 * Only days that hold a span with `mine` set, and the rest on either side
 * of them, are judged: a booking is refused for what it changes, not for
 * what was there before. Returns TRIP_OK or the first violation (*v).
 */
enum trip_verdict trips_driver_check(struct trip_span *spans, size_t n,
                                     const struct trip_rules *rules, struct trip_violation *v);

/*
 * Whether a trip from depart to ret (local wall times) needs approval:
 * it departs or returns on a day that is not a working day (a weekend
 * day, or a public holiday) in wc. A make-up working Saturday is a
 * working day. Returns 1 and the date that needs it in *day, or 0.
 */
int trips_needs_approval(const struct workcal *wc, const struct local_time *depart,
                         const struct local_time *ret, struct local_time *day);

#endif
