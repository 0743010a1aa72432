/*
 * report.h - the pure rules of the office's reports (CONTRACT section 13):
 * which kind of day a date is (working day, rest day, public holiday), how
 * an interval's hours split over days, working hours and a driver's night,
 * and the year-end summary sentence. No I/O: booking/reports.c reads the
 * rows and calls these.
 *
 * Splitting works on a day table built once per report (report_days_build):
 * every local day of the span with its midnight and its breakpoints as UTC
 * instants, so an interval is cut by comparisons alone, however many
 * thousands of bookings a year holds, and a zone's offset changes (DST) are
 * honoured where they happen.
 */
#ifndef CONVENE_REPORT_H
#define CONVENE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "convene/timeutil.h"
#include "convene/workcal.h"

#define REPORT_MAX_DAYS 366        /* a report covers at most a (leap) year of days */
#define REPORT_NIGHT_ENDS (7 * 60)   /* a driver's night: before 07:00 ... */
#define REPORT_NIGHT_BEGINS (19 * 60) /* ... or after 19:00, on a working day */
#define REPORT_SPAN_SLACK_DAYS 31  /* days a booking may reach past the range and still be split */

/* What a day is, for a driver's hours. */
enum report_day_kind {
    REPORT_WORKING = 0, /* a working day (a make-up working day too) */
    REPORT_REST_DAY,    /* not a working day, not a public holiday (an ordinary weekend) */
    REPORT_HOLIDAY,     /* a public holiday */
};

/* The four parts of a driver's hours, in seconds. */
enum report_part {
    REPORT_WORKDAY_DAY = 0,
    REPORT_WORKDAY_NIGHT,
    REPORT_PART_REST_DAY,
    REPORT_PART_HOLIDAY,
    REPORT_PARTS,
};

struct report_day {
    struct local_time date;         /* the day (time part zero) */
    enum report_day_kind kind;
    int64_t start;                  /* local midnight, UTC */
    int64_t work[WORKCAL_MAX_PERIODS][2]; /* working periods (working days only), UTC */
    size_t nwork;
    int64_t night_ends, night_begins;      /* 07:00 and 19:00 that day, UTC */
};

/* Days first..last in a zone; days[n] ends at `end` (midnight after the last). Owned. */
struct report_days {
    struct report_day *v;
    size_t n;
    int64_t end;
};

/* The kind of a date in the working calendar. */
enum report_day_kind report_day_kind_of(const struct workcal *wc, const struct local_time *date);

/*
 * Builds the table of the days first..last (inclusive, at most
 * REPORT_MAX_DAYS + 2 * REPORT_SPAN_SLACK_DAYS + 2 of them) in tz. 0, or -1
 * when the zone is unknown or the span is too long.
 */
int report_days_build(struct report_days *t, const struct workcal *wc, const char *tz,
                      const struct local_time *first, const struct local_time *last);
void report_days_free(struct report_days *t);

/* The index of the day holding instant t, or -1 when outside the table. */
long report_days_find(const struct report_days *t, int64_t utc);

/* Seconds of [start, end) within working hours (working days only); the part outside the table counts none. */
int64_t report_working_seconds(const struct report_days *t, int64_t start, int64_t end);

/* Seconds of working hours of the table's days index first..last (inclusive). */
int64_t report_available_seconds(const struct report_days *t, size_t first, size_t last);

/*
 * Adds [start, end) to parts by the day each piece falls on: working-day
 * daytime and night (before 07:00, after 19:00), rest day, holiday. Parts
 * outside the table are not added; returns the seconds that were.
 */
int64_t report_split_driver(const struct report_days *t, int64_t start, int64_t end,
                            int64_t parts[REPORT_PARTS]);

/* Hours of a number of seconds, rounded to two decimals (what every report shows). */
double report_hours(int64_t seconds);

/* ---- the year-end summary (report_text.c) ---- */

struct report_kind_count {
    const char *kind; /* e.g. 办公会; NULL for meetings without a kind */
    long count;
};

struct report_year_facts {
    int year;
    const struct report_kind_count *kinds; /* any order; counts of 0 are left out */
    size_t nkinds;
    long trips;      /* trips driven (one per trip and occurrence) */
    long meals;      /* meals served (人次) */
    long approved, rejected, expired;
};

/*
 * The office's sentence for the year, e.g. "2026年共召开办公会12次、党组会10次，
 * 安排接待3次，派车120次，用餐3400人次。": meeting kinds in the office's order
 * (办公会, 党组会, 专题会, then others by count), visits and training after
 * 安排, approvals when there were any. malloc'd.
 */
char *report_year_text(const struct report_year_facts *f);

/* The order a kind of meeting takes in tables and the sentence (smaller first). */
int report_kind_rank(const char *kind);

#endif
