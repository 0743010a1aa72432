/*
 * timeutil.c - parsing and zone conversion of wall times. libical owns the
 * zone objects (built-in, cached for the process); we never free them.
 */
#include "convene/timeutil.h"
#include "convene/util.h"

#include <libical/ical.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int parse_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static int parse_date_part(const char *s, struct local_time *out)
{
    if (s[4] != '-' || s[7] != '-')
        return -1;
    if (parse_digits(s, 4, &out->year) || parse_digits(s + 5, 2, &out->month) ||
        parse_digits(s + 8, 2, &out->day))
        return -1;
    if (out->year < 1970 || out->year > 2199 || out->month < 1 || out->month > 12 ||
        out->day < 1 || out->day > days_in_month(out->year, out->month))
        return -1;
    return 0;
}

int time_date_parse(const char *s, struct local_time *out)
{
    struct local_time lt = {0};

    if (strlen(s) != 10 || parse_date_part(s, &lt) != 0)
        return -1;
    *out = lt;
    return 0;
}

int time_local_parse(const char *s, struct local_time *out)
{
    struct local_time lt = {0};

    if (strlen(s) != 19 || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -1;
    if (parse_date_part(s, &lt) != 0)
        return -1;
    if (parse_digits(s + 11, 2, &lt.hour) || parse_digits(s + 14, 2, &lt.minute) ||
        parse_digits(s + 17, 2, &lt.second))
        return -1;
    if (lt.hour > 23 || lt.minute > 59 || lt.second > 59)
        return -1;
    *out = lt;
    return 0;
}

static void put_digits(char *p, int value, int width)
{
    for (int i = width - 1; i >= 0; i--, value /= 10)
        p[i] = (char)('0' + value % 10);
}

/*
 * Digit by digit, not snprintf (3,000 instructions a call; a booking
 * formats a dozen times): each field reduced modulo its width as unsigned,
 * exactly as "%04u-%02u-%02u" printed it.
 */
static void date_put(const struct local_time *lt, char *out)
{
    memcpy(out, "0000-00-00", 10);
    put_digits(out, (int)((unsigned)lt->year % 10000u), 4);
    put_digits(out + 5, (int)((unsigned)lt->month % 100u), 2);
    put_digits(out + 8, (int)((unsigned)lt->day % 100u), 2);
}

void time_local_format(const struct local_time *lt, char out[TIME_LOCAL_STR])
{
    date_put(lt, out);
    memcpy(out + 10, "T00:00:00", 10);
    put_digits(out + 11, (int)((unsigned)lt->hour % 100u), 2);
    put_digits(out + 14, (int)((unsigned)lt->minute % 100u), 2);
    put_digits(out + 17, (int)((unsigned)lt->second % 100u), 2);
}

void time_date_format(const struct local_time *lt, char out[TIME_DATE_STR])
{
    date_put(lt, out);
    out[10] = '\0';
}

/*
 * UTC needs no zone rules: gmtime_r and a fixed layout, not libical's
 * conversion and printf (5% of a record GET, two per listed occurrence).
 * Years outside 0000-9999 take the general path, which clamps them.
 */
void time_utc_format(int64_t utc, char out[TIME_UTC_STR])
{
    time_t t = (time_t)utc;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
        struct local_time lt;
        time_utc_to_local(utc, "UTC", &lt);
        time_local_format(&lt, out);
    } else {
        memcpy(out, "0000-00-00T00:00:00", 19);
        put_digits(out, tm.tm_year + 1900, 4);
        put_digits(out + 5, tm.tm_mon + 1, 2);
        put_digits(out + 8, tm.tm_mday, 2);
        put_digits(out + 11, tm.tm_hour, 2);
        put_digits(out + 14, tm.tm_min, 2);
        put_digits(out + 17, tm.tm_sec, 2);
    }
    out[19] = 'Z';
    out[20] = '\0';
}

/*
 * libical finds a builtin zone by comparing its name with each of ~400 in
 * turn: a quarter of a series' expansion went to strcmp (profile of the
 * check against other series' unstored occurrences, issue 12). The zones
 * live as long as the process, so the last one found is kept (per thread).
 */
static icaltimezone *zone_lookup(const char *tz)
{
    static __thread char last_name[64];
    static __thread icaltimezone *last_zone;
    icaltimezone *zone;

    if (last_zone != NULL && strcmp(tz, last_name) == 0)
        return last_zone;
    if (strcmp(tz, "UTC") == 0 || strcmp(tz, "Etc/UTC") == 0)
        return icaltimezone_get_utc_timezone();
    zone = icaltimezone_get_builtin_timezone(tz);
    if (zone != NULL && strlen(tz) < sizeof(last_name)) {
        memcpy(last_name, tz, strlen(tz) + 1);
        last_zone = zone;
    }
    return zone;
}

/*
 * Windows time zone ids as Outlook and Exchange write them in TZID, with
 * the IANA zone each stands for (the Unicode CLDR "windowsZones" mapping,
 * territory 001), for the zones an office is likely to meet. Without it, a
 * "Eastern Standard Time" series was stored in the organisation's zone and
 * lost its daylight-saving shifts.
 */
static const struct {
    const char *windows, *iana;
} windows_zones[] = {
    {"Dateline Standard Time", "Etc/GMT+12"},
    {"UTC", "UTC"},
    {"Hawaiian Standard Time", "Pacific/Honolulu"},
    {"Alaskan Standard Time", "America/Anchorage"},
    {"Pacific Standard Time", "America/Los_Angeles"},
    {"US Mountain Standard Time", "America/Phoenix"},
    {"Mountain Standard Time", "America/Denver"},
    {"Central Standard Time", "America/Chicago"},
    {"Central Standard Time (Mexico)", "America/Mexico_City"},
    {"Central America Standard Time", "America/Guatemala"},
    {"Canada Central Standard Time", "America/Regina"},
    {"Eastern Standard Time", "America/New_York"},
    {"SA Pacific Standard Time", "America/Bogota"},
    {"Atlantic Standard Time", "America/Halifax"},
    {"Newfoundland Standard Time", "America/St_Johns"},
    {"Pacific SA Standard Time", "America/Santiago"},
    {"E. South America Standard Time", "America/Sao_Paulo"},
    {"Argentina Standard Time", "America/Argentina/Buenos_Aires"},
    {"Greenwich Standard Time", "Atlantic/Reykjavik"},
    {"GMT Standard Time", "Europe/London"},
    {"W. Europe Standard Time", "Europe/Berlin"},
    {"Romance Standard Time", "Europe/Paris"},
    {"Central Europe Standard Time", "Europe/Budapest"},
    {"Central European Standard Time", "Europe/Warsaw"},
    {"W. Central Africa Standard Time", "Africa/Lagos"},
    {"GTB Standard Time", "Europe/Bucharest"},
    {"FLE Standard Time", "Europe/Kiev"},
    {"E. Europe Standard Time", "Europe/Chisinau"},
    {"Israel Standard Time", "Asia/Jerusalem"},
    {"Egypt Standard Time", "Africa/Cairo"},
    {"South Africa Standard Time", "Africa/Johannesburg"},
    {"Turkey Standard Time", "Europe/Istanbul"},
    {"Russian Standard Time", "Europe/Moscow"},
    {"Arab Standard Time", "Asia/Riyadh"},
    {"Iran Standard Time", "Asia/Tehran"},
    {"Arabian Standard Time", "Asia/Dubai"},
    {"Pakistan Standard Time", "Asia/Karachi"},
    {"West Asia Standard Time", "Asia/Tashkent"},
    {"India Standard Time", "Asia/Kolkata"},
    {"Nepal Standard Time", "Asia/Kathmandu"},
    {"Central Asia Standard Time", "Asia/Almaty"},
    {"Bangladesh Standard Time", "Asia/Dhaka"},
    {"Myanmar Standard Time", "Asia/Yangon"},
    {"SE Asia Standard Time", "Asia/Bangkok"},
    {"North Asia Standard Time", "Asia/Krasnoyarsk"},
    {"China Standard Time", "Asia/Shanghai"},
    {"North Asia East Standard Time", "Asia/Irkutsk"},
    {"Singapore Standard Time", "Asia/Singapore"},
    {"W. Australia Standard Time", "Australia/Perth"},
    {"Taipei Standard Time", "Asia/Taipei"},
    {"Ulaanbaatar Standard Time", "Asia/Ulaanbaatar"},
    {"Tokyo Standard Time", "Asia/Tokyo"},
    {"Korea Standard Time", "Asia/Seoul"},
    {"Cen. Australia Standard Time", "Australia/Adelaide"},
    {"AUS Central Standard Time", "Australia/Darwin"},
    {"E. Australia Standard Time", "Australia/Brisbane"},
    {"AUS Eastern Standard Time", "Australia/Sydney"},
    {"Vladivostok Standard Time", "Asia/Vladivostok"},
    {"New Zealand Standard Time", "Pacific/Auckland"},
};

const char *time_zone_from_windows(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(windows_zones) / sizeof(windows_zones[0]); i++)
        if (strcmp(windows_zones[i].windows, name) == 0)
            return time_zone_valid(windows_zones[i].iana) ? windows_zones[i].iana : NULL;
    return NULL;
}

int time_zone_valid(const char *tz)
{
    /* Bound the name before handing it to libical's lookup. */
    return tz != NULL && strlen(tz) < 64 && zone_lookup(tz) != NULL;
}

static struct icaltimetype to_ical(const struct local_time *lt)
{
    struct icaltimetype t = icaltime_null_time();
    t.year = lt->year;
    t.month = lt->month;
    t.day = lt->day;
    t.hour = lt->hour;
    t.minute = lt->minute;
    t.second = lt->second;
    t.is_date = 0;
    return t;
}

/* Seconds of a wall time read as if it were UTC. */
static int64_t naive_seconds(const struct local_time *lt)
{
    return (int64_t)icaltime_as_timet_with_zone(to_ical(lt), icaltimezone_get_utc_timezone());
}

/* The zone's UTC offset at an instant; *local receives the wall time there. */
static int64_t offset_at(int64_t utc, const char *tz, struct local_time *local)
{
    time_utc_to_local(utc, tz, local);
    return naive_seconds(local) - utc;
}

static int same_wall_time(const struct local_time *a, const struct local_time *b)
{
    return a->year == b->year && a->month == b->month && a->day == b->day &&
           a->hour == b->hour && a->minute == b->minute && a->second == b->second;
}

/*
 * libical resolves the two DST edge cases the other way round from RFC
 * 5545 (section 3.3.5), so both are corrected here from the offsets around
 * its answer:
 * - a wall time in a gap (02:30 in New York on the spring-forward day) is
 *   read with the offset before the gap (03:30 EDT), where libical uses
 *   the offset after it (01:30 EST). Of the two candidates naive - offset,
 *   the RFC's is always the later one;
 * - an ambiguous wall time (01:30 on the fall-back day) is the first
 *   occurrence (EDT), where libical picks the second (EST). Overlaps last
 *   at most a few hours, so the offset 3 hours earlier finds the first.
 */
enum time_conv time_local_to_utc(const struct local_time *lt, const char *tz, int64_t *utc)
{
    icaltimezone *zone = zone_lookup(tz);
    struct local_time back, earlier;
    int64_t naive, candidate;

    if (zone == NULL)
        return TIME_BAD_ZONE;
    *utc = (int64_t)icaltime_as_timet_with_zone(to_ical(lt), zone);
    naive = naive_seconds(lt);
    candidate = naive - offset_at(*utc, tz, &back);
    if (!same_wall_time(&back, lt)) {
        /* A wall time that does not survive the round trip fell into a gap. */
        if (candidate > *utc)
            *utc = candidate;
        return TIME_NONEXISTENT;
    }
    candidate = naive - offset_at(*utc - 3 * 3600, tz, &earlier);
    if (candidate < *utc) {
        time_utc_to_local(candidate, tz, &earlier);
        if (same_wall_time(&earlier, lt))
            *utc = candidate;
    }
    return TIME_OK;
}

int time_utc_to_local(int64_t utc, const char *tz, struct local_time *out)
{
    icaltimezone *zone = zone_lookup(tz);
    struct icaltimetype t;

    if (zone == NULL)
        return -1;
    t = icaltime_from_timet_with_zone((time_t)utc, 0, zone);
    out->year = t.year;
    out->month = t.month;
    out->day = t.day;
    out->hour = t.hour;
    out->minute = t.minute;
    out->second = t.second;
    return 0;
}

int time_local_weekday(const struct local_time *lt)
{
    /* Days since 1970-01-01, a Thursday, counted in 400-year eras from March. */
    int64_t y = lt->year - (lt->month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * ((lt->month + 9) % 12) + 2) / 5 + lt->day - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;

    return (int)(((days + 4) % 7 + 7) % 7);
}
