/*
 * recur.h - expanding a (possibly recurring) event into occurrences:
 * RRULE (libical's iterator) + RDATE - EXDATE, in the event's zone, within
 * a horizon. Overrides of single occurrences are applied by the caller,
 * because libical 3.0's own expansion ignores RECURRENCE-ID.
 */
#ifndef CONVENE_RECUR_H
#define CONVENE_RECUR_H

#include <stddef.h>
#include <stdint.h>

#include "convene/timeutil.h"

#define RECUR_MAX_OCCURRENCES 1000
#define RECUR_HORIZON_DAYS 731 /* "at most 2 years ahead" */
#define RECUR_RULE_MAX 512
/*
 * A rule is followed at most this far past where its expansion starts
 * (DTSTART, or the window's start): a bounded rule reaching further is
 * refused. It bounds libical's search: at most 36,525 days walked.
 */
#define RECUR_SPAN_YEARS 100
/* At most this many instances asked of libical in one expansion (each bounded by the span). */
#define RECUR_MAX_STEPS 40000

struct occurrence {
    char recurrence_id[TIME_LOCAL_STR]; /* original local start: the occurrence's name */
    char start[TIME_LOCAL_STR];         /* local start (differs after an override moves it) */
    char end[TIME_LOCAL_STR];
    int64_t start_utc, end_utc;
};

struct recur_spec {
    const char *rrule;          /* NULL for a single event */
    struct local_time start;    /* DTSTART, local in tz */
    struct local_time end;      /* DTEND of the first occurrence */
    const char *tz;
    const char *const *exdates; /* local starts to drop */
    size_t nexdates;
    const char *const *rdates;  /* extra local starts */
    size_t nrdates;
    int64_t from_utc;           /* occurrences starting before this are skipped, uncounted */
    int64_t horizon_utc;        /* occurrences starting at or after this are not expanded */
    /*
     * 0: at most RECUR_MAX_OCCURRENCES in all. Otherwise (an unbounded rule,
     * set to now) that many before it and that many from it on: a standing
     * meeting's past does not eat into its next 2 years.
     */
    int64_t count_from_utc;
    struct recur_cost *cost;    /* optional: filled with the work done */
};

/* The work one expansion did, for tests and the fuzz target's bound. */
struct recur_cost {
    long days_scanned; /* days looked at to tell whether the rule ever occurs */
    long steps;        /* instances asked of libical */
};

enum recur_result {
    RECUR_OK = 0,
    RECUR_BAD_RULE = -1,    /* unparsable RRULE */
    RECUR_TOO_FINE = -2,    /* FREQ finer than DAILY */
    RECUR_TOO_MANY = -3,    /* more than RECUR_MAX_OCCURRENCES in the horizon */
    RECUR_NONEXISTENT = -4, /* a single event starting in a DST gap (*out is still filled) */
    RECUR_BAD_ZONE = -5,
    RECUR_NEVER = -6,       /* the rule has no occurrence at all */
    RECUR_TOO_LONG = -7,    /* it reaches more than RECUR_SPAN_YEARS ahead */
    RECUR_TOO_COSTLY = -8,  /* more than RECUR_MAX_STEPS instances asked */
    RECUR_TOO_OLD = -9,     /* more than RECUR_MAX_OCCURRENCES before count_from_utc */
};

/*
 * Checks an RRULE for syntax and frequency (FREQ finer than DAILY, BYHOUR,
 * BYMINUTE, BYSECOND: RECUR_TOO_FINE); writes a reason on error. Whether
 * the rule ever occurs depends on DTSTART: recur_expand tells.
 */
int recur_rule_check(const char *rrule, char *why, size_t whylen);

/*
 * Expands spec into *out (owned by the caller, free()), sorted by start,
 * without duplicates. Returns RECUR_OK or a negative recur_result.
 */
int recur_expand(const struct recur_spec *spec, struct occurrence **out, size_t *count,
                 char *why, size_t whylen);

/* True when the rule ends (COUNT or UNTIL): otherwise the horizon rolls forward. */
int recur_rule_is_bounded(const char *rrule);

/* Adds seconds to a wall time, as on a calendar (no zone involved). */
void recur_local_add(struct local_time *lt, int64_t seconds);

/* Wall-clock seconds from a to b. */
int64_t recur_local_diff(const struct local_time *a, const struct local_time *b);

#endif
