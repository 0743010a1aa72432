/*
 * workcal.h - the working calendar: which days are working days (weekdays,
 * minus public holidays, plus official make-up working days, 调休) and the
 * working hours of such a day. Days come from the iCalendar files in
 * calendars/holidays/ (X-CONVENE-DAY-TYPE HOLIDAY|WORKDAY, or CATEGORIES).
 */
#ifndef CONVENE_WORKCAL_H
#define CONVENE_WORKCAL_H

#include <stddef.h>

#include "convene/timeutil.h"

#define WORKCAL_MAX_PERIODS 4
#define WORKCAL_MAX_DAYS 20000

struct workcal_day {
    char date[TIME_DATE_STR];
    int off;        /* 1: public holiday; 0: make-up working day */
    char name[64];  /* e.g. 国庆节 */
};

struct workcal {
    struct workcal_day *days; /* sorted by date, owned */
    size_t ndays;
    size_t nfiles;
    int periods[WORKCAL_MAX_PERIODS][2]; /* working hours [start, end) in minutes of the day */
    size_t nperiods;
};

/* Default hours 08:30-12:00 and 14:00-17:30, no special days. */
void workcal_init(struct workcal *wc);
void workcal_free(struct workcal *wc);

/* "08:30-12:00,14:00-17:30" -> periods. 0 or -1. */
int workcal_parse_hours(struct workcal *wc, const char *spec);

/*
 * Reads every *.ics file of dir, replacing the special days. A missing
 * directory means no special days (logged). 0, or -1 with why on a bad file.
 */
int workcal_load_dir(struct workcal *wc, const char *dir, char *why, size_t whylen);

/* Whether a date is a working day, and the name of its holiday or make-up day (or NULL). */
int workcal_is_working(const struct workcal *wc, const struct local_time *date,
                       const char **name, int *special);

/* 0 = Monday ... 6 = Sunday. */
int workcal_weekday(const struct local_time *date);

#endif
