/*
 * workcal.h - the working calendar: which days are working days (weekdays,
 * minus public holidays, plus official make-up working days, 调休) and the
 * working hours of such a day.
 *
 * The special days have two sources. The iCalendar files in
 * calendars/holidays/ (X-CONVENE-DAY-TYPE HOLIDAY|WORKDAY, or CATEGORIES)
 * ship with a release; the office's own notices (one per year, loaded with
 * PUT /api/v1/workdays/{year} or `convene calendar load` and kept in the
 * database) arrive the day the State Council publishes them. The calendar
 * in use is their union, a loaded year replacing the files' days of that
 * year. Each special day belongs to the year of the notice that lists it
 * (a notice's 元旦 can begin in the last days of the year before).
 *
 * A year is "known" when some source has its notice; for other years the
 * weekday rule is only a guess, and callers say so (known:false,
 * "calendar":"unverified"). Nothing here invents dates for such years.
 */
#ifndef CONVENE_WORKCAL_H
#define CONVENE_WORKCAL_H

#include <stddef.h>
#include <stdint.h>

#include "convene/timeutil.h"

#define WORKCAL_MAX_PERIODS 4
#define WORKCAL_MAX_DAYS 20000
#define WORKCAL_NAME_MAX 96        /* bytes of a day's name, NUL included */
#define WORKCAL_NAME_CHARS 20      /* characters of a holiday's name in a notice */
#define WORKCAL_MAX_HOLIDAYS 40    /* holiday ranges in one notice (a real one has 7) */
#define WORKCAL_MAX_WORKDAYS 40    /* make-up working days in one notice (a real one has 3-6) */
#define WORKCAL_YEAR_MIN 2000      /* years a notice may be loaded for */
#define WORKCAL_YEAR_MAX 2199
#define WORKCAL_LEAD_DAYS 7        /* a notice may list days this far into the year before */
#define WORKCAL_WARN_DAYS 60       /* warn when the calendar ends within this many days */
#define WORKCAL_DATE_IN 16         /* a notice's date as given; longer text is cut and refused */

enum workcal_source {
    WORKCAL_NONE = 0,
    WORKCAL_FILES = 1,  /* the .ics files of calendars/holidays */
    WORKCAL_STORED = 2, /* a notice loaded into the database */
};

struct workcal_day {
    char date[TIME_DATE_STR];
    int off;                      /* 1: public holiday; 0: make-up working day */
    int year;                     /* the notice (year) that lists the day */
    enum workcal_source source;
    char name[WORKCAL_NAME_MAX];  /* e.g. 国庆节, 国庆节调休上班 */
};

/* One holiday of a notice: days off from..to, inclusive. */
struct workcal_holiday {
    char name[WORKCAL_NAME_MAX];
    char from[WORKCAL_DATE_IN];
    char to[WORKCAL_DATE_IN];
};

/*
 * One year's arrangement as the State Council's notice gives it (and as
 * PUT /api/v1/workdays/{year} takes it). Arrays owned; free with
 * workcal_notice_free.
 */
struct workcal_notice {
    int year;
    struct workcal_holiday *holidays;
    size_t nholidays;
    char (*workdays)[WORKCAL_DATE_IN]; /* make-up working days */
    size_t nworkdays;
    int64_t updated_at;              /* unix seconds of the load (0: from the files) */
};

/* Why a notice was refused: a stable code, the field path, an English message. */
struct workcal_error {
    const char *code;  /* "required" or "invalid" */
    char field[48];    /* e.g. "holidays[2].to", "workdays[0]" */
    char message[200];
};

#define WORKCAL_YEARS (WORKCAL_YEAR_MAX - 1970 + 1)

struct workcal {
    struct workcal_day *days; /* in use: sorted by date, one per date, owned */
    size_t ndays;
    struct workcal_day *file_days; /* read from the .ics files, owned */
    size_t nfile_days;
    struct workcal_day *stored_days; /* from the loaded notices, owned */
    size_t nstored_days;
    struct workcal_notice *notices; /* the loaded notices as given, one per year, owned */
    size_t nnotices;
    int64_t stored_at[WORKCAL_YEARS];        /* when the notice of 1970 + i was loaded (0: not) */
    unsigned char known_year[WORKCAL_YEARS]; /* 1: some source has 1970 + i */
    size_t nfiles;
    int64_t files_changed_at; /* newest mtime among the files and their directory */
    int periods[WORKCAL_MAX_PERIODS][2]; /* working hours [start, end) in minutes of the day */
    size_t nperiods;
};

/* Default hours 08:30-12:00 and 14:00-17:30, no special days. */
void workcal_init(struct workcal *wc);
void workcal_free(struct workcal *wc);

/* "08:30-12:00,14:00-17:30" -> periods. 0 or -1. */
int workcal_parse_hours(struct workcal *wc, const char *spec);

/*
 * Reads every *.ics file of dir, replacing the files' special days (the
 * loaded notices stay). A missing directory means no files (logged). 0, or
 * -1 with why on a bad file, the calendar in use left as it was.
 */
int workcal_load_dir(struct workcal *wc, const char *dir, char *why, size_t whylen);

/*
 * Replaces the loaded notices with these (each already checked by
 * workcal_notice_check; a year given twice keeps the last). Borrowed.
 */
void workcal_set_notices(struct workcal *wc, const struct workcal_notice *notices, size_t n);

/* Whether a date is a working day, and the name of its holiday or make-up day (or NULL). */
int workcal_is_working(const struct workcal *wc, const struct local_time *date,
                       const char **name, int *special);

/* 1 if some source has the notice of date's year (or lists the date itself), else 0. */
int workcal_is_known(const struct workcal *wc, const struct local_time *date);

/* Where year's days come from: a loaded notice, the files, or nowhere. */
enum workcal_source workcal_year_source(const struct workcal *wc, int year);

/* The newest change of its data: the files' mtimes and the notices' loads (unix seconds). */
int64_t workcal_changed_at(const struct workcal *wc);

/* The last day of the last year with data: 0, or -1 when there is none at all. */
int workcal_covered_until(const struct workcal *wc, struct local_time *out);

/*
 * When the calendar ends within WORKCAL_WARN_DAYS of today (its last known
 * day before the first day of a year no source has is at most that many
 * days away, or today itself is unknown), writes into buf what an office's
 * IT staff should do (Chinese, then English) and returns 1; otherwise
 * returns 0 and buf is "".
 */
int workcal_warning(const struct workcal *wc, const struct local_time *today, char *buf,
                    size_t cap);

/* 0 = Monday ... 6 = Sunday. */
int workcal_weekday(const struct local_time *date);

/* ---- notices (workcal_notice.c) ---- */

/*
 * Checks a notice: year in range; at least one holiday, each named (at most
 * WORKCAL_NAME_CHARS characters) with from <= to; every date a real date in
 * the year or its last WORKCAL_LEAD_DAYS days before; make-up days on a
 * Saturday or Sunday; no day in two holidays, listed twice, or both a
 * holiday and a working day. 0, or -1 with err filled.
 */
int workcal_notice_check(const struct workcal_notice *n, struct workcal_error *err);

/*
 * The special days of a checked notice, appended to *days (grown with
 * xrealloc; *cap its capacity). A make-up day is named after the nearest
 * holiday: "春节调休上班".
 */
void workcal_notice_days(const struct workcal_notice *n, struct workcal_day **days, size_t *ndays,
                         size_t *cap);

/*
 * The notice of year, for GET /api/v1/workdays/{year}: a loaded one as it
 * was given; from the files, as the calendar in use has it (runs of days
 * off with one name become one holiday). 0, or -1 when no source has the
 * year. out owned by the caller.
 */
int workcal_notice_of_year(const struct workcal *wc, int year, struct workcal_notice *out);

/* A deep copy of src into out (owned by the caller). */
void workcal_notice_copy(const struct workcal_notice *src, struct workcal_notice *out);

/* Frees the arrays; accepts a zeroed notice. */
void workcal_notice_free(struct workcal_notice *n);

#endif
