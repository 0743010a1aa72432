/*
 * timeutil.h - wall times in a named IANA zone and their UTC instants.
 * The API speaks local wall time plus a zone; storage and conflict checks
 * speak UTC seconds. Zone rules come from libical (system tzdata).
 */
#ifndef CONVENE_TIMEUTIL_H
#define CONVENE_TIMEUTIL_H

#include <stdint.h>

#define TIME_LOCAL_STR 20 /* "2026-12-07T09:00:00" + NUL */
#define TIME_UTC_STR 21   /* "2026-12-07T01:00:00Z" + NUL */
#define TIME_DATE_STR 11  /* "2026-12-07" + NUL */

struct local_time {
    int year, month, day, hour, minute, second;
};

/* Strict "YYYY-MM-DDTHH:MM:SS" (years 1970-2199). Returns 0 or -1. */
int time_local_parse(const char *s, struct local_time *out);

/* Strict "YYYY-MM-DD"; the time part is zeroed. Returns 0 or -1. */
int time_date_parse(const char *s, struct local_time *out);

/* The day of the week of a date: 0 = Sunday ... 6 = Saturday. */
int time_local_weekday(const struct local_time *lt);

void time_local_format(const struct local_time *lt, char out[TIME_LOCAL_STR]);
void time_date_format(const struct local_time *lt, char out[TIME_DATE_STR]);
void time_utc_format(int64_t utc, char out[TIME_UTC_STR]);

/* 1 if tz names a zone we know (IANA name or "UTC"), else 0. */
int time_zone_valid(const char *tz);
/* The IANA zone a Windows time zone id ("Eastern Standard Time") stands for, or NULL. */
const char *time_zone_from_windows(const char *name);

enum time_conv {
    TIME_OK = 0,
    TIME_BAD_ZONE = -1,
    TIME_NONEXISTENT = -2, /* falls in a spring-forward gap */
};

/*
 * Converts a wall time in tz to a UTC instant. A time in a DST gap is
 * still converted (shifted forward, as RFC 5545 says for recurrences) but
 * reported as TIME_NONEXISTENT so one-off bookings can refuse it.
 */
enum time_conv time_local_to_utc(const struct local_time *lt, const char *tz, int64_t *utc);

/* The wall time in tz of a UTC instant. */
int time_utc_to_local(int64_t utc, const char *tz, struct local_time *out);

#endif
