/*
 * test_timeutil.c - core/timeutil.c: strict parsing of local times and
 * dates, zone conversions around DST, UTC formatting and zone names.
 */
#include "check.h"

#include "convene/timeutil.h"
#include "convene/util.h"

#include <string.h>

static void test_local_parse(void)
{
    struct local_time lt;
    static const char *const bad[] = {
        "2026-02-30T00:00:00", "2026-13-01T00:00:00", "2026-00-01T00:00:00",
        "2026-12-00T00:00:00", "2026-04-31T00:00:00", "2026-12-07T24:00:00",
        "2026-12-07T23:60:00", "2026-12-07T23:59:60", "2026-12-07T09:00",
        "2026-12-07T09:00:00Z", "2026-12-07T09:00:00+08:00", "2026-12-07 09:00:00",
        " 2026-12-07T09:00:00", "2026-12-07T09:00:00 ", "2026-12-07t09:00:00",
        "2026-12-7T09:00:00", "2026/12/07T09:00:00", "2026-12-07T9:00:00",
        "2026-12-07T09:00:0a", "+026-12-07T09:00:00", "1969-12-31T23:59:59",
        "2200-01-01T00:00:00", "2026-12-07", "", "2026-12-07T09:00:00.000",
    };

    memset(&lt, 0, sizeof(lt));
    CHECK_EQ_INT(time_local_parse("2026-12-07T09:00:00", &lt), 0);
    CHECK_EQ_INT(lt.year, 2026);
    CHECK_EQ_INT(lt.month, 12);
    CHECK_EQ_INT(lt.day, 7);
    CHECK_EQ_INT(lt.hour, 9);
    CHECK_EQ_INT(lt.minute, 0);
    CHECK_EQ_INT(lt.second, 0);
    CHECK_EQ_INT(time_local_parse("2024-02-29T23:59:59", &lt), 0);
    CHECK_EQ_INT(lt.second, 59);
    CHECK_EQ_INT(time_local_parse("1970-01-01T00:00:00", &lt), 0);
    CHECK_EQ_INT(time_local_parse("2199-12-31T23:59:59", &lt), 0);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct local_time untouched = {1, 2, 3, 4, 5, 6};
        int rc = time_local_parse(bad[i], &untouched);
        if (rc != -1)
            fprintf(stderr, "    accepted: \"%s\"\n", bad[i]);
        CHECK_EQ_INT(rc, -1);
        CHECK_EQ_INT(untouched.year, 1);
    }
}

static void test_date_parse(void)
{
    struct local_time lt;

    memset(&lt, 0x11, sizeof(lt));
    CHECK_EQ_INT(time_date_parse("2024-02-29", &lt), 0);
    CHECK_EQ_INT(lt.year, 2024);
    CHECK_EQ_INT(lt.month, 2);
    CHECK_EQ_INT(lt.day, 29);
    CHECK_EQ_INT(lt.hour, 0);
    CHECK_EQ_INT(lt.minute, 0);
    CHECK_EQ_INT(lt.second, 0);
    CHECK_EQ_INT(time_date_parse("2000-02-29", &lt), 0);
    CHECK_EQ_INT(time_date_parse("2026-02-29", &lt), -1);
    CHECK_EQ_INT(time_date_parse("2100-02-29", &lt), -1);
    CHECK_EQ_INT(time_date_parse("2026-12-31", &lt), 0);
    CHECK_EQ_INT(time_date_parse("2026-12-32", &lt), -1);
    CHECK_EQ_INT(time_date_parse("2026-12-07T00:00:00", &lt), -1);
    CHECK_EQ_INT(time_date_parse("2026-1-07", &lt), -1);
    CHECK_EQ_INT(time_date_parse("20261207", &lt), -1);
    CHECK_EQ_INT(time_date_parse("", &lt), -1);
}

static void test_format(void)
{
    struct local_time lt = {2026, 3, 8, 2, 30, 5};
    char local[TIME_LOCAL_STR], date[TIME_DATE_STR], utc[TIME_UTC_STR];

    time_local_format(&lt, local);
    CHECK_EQ_STR(local, "2026-03-08T02:30:05");
    time_date_format(&lt, date);
    CHECK_EQ_STR(date, "2026-03-08");
    time_utc_format(0, utc);
    CHECK_EQ_STR(utc, "1970-01-01T00:00:00Z");
    time_utc_format(1796605200, utc);
    CHECK_EQ_STR(utc, "2026-12-07T01:00:00Z");
    time_utc_format(1709164800 + 86399, utc);
    CHECK_EQ_STR(utc, "2024-02-29T23:59:59Z");
}

/*
 * time_utc_format's fast path (gmtime_r) agrees with the general zone
 * conversion (libical, "UTC") everywhere: before 1970, on leap days and
 * century years, at the edges of years 0000 and 9999.
 */
static void test_utc_format_matches_zone_path(void)
{
    static const int64_t edges[] = {-62167219200LL, -62167219201LL, -1, 951782400, 4107542399LL,
                                    253402300799LL, 253402300800LL, 68043243391LL};
    uint64_t x = 88172645463325252ULL;
    int mismatches = 0;

    for (int i = 0; i < 200000 + (int)ARRAY_SIZE(edges); i++) {
        int64_t utc;
        char fast[TIME_UTC_STR], general[TIME_UTC_STR];
        struct local_time lt;
        if (i < (int)ARRAY_SIZE(edges)) {
            utc = edges[i];
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            utc = (int64_t)(x % 253402300800ULL) - 62167219200LL; /* years 0000-9999 */
        }
        time_utc_format(utc, fast);
        time_utc_to_local(utc, "UTC", &lt);
        time_local_format(&lt, general);
        general[19] = 'Z';
        general[20] = '\0';
        if (strcmp(fast, general) != 0 && mismatches++ < 5)
            CHECK_EQ_STR(fast, general);
    }
    CHECK(mismatches == 0);
}

static void test_windows_zones(void)
{
    static const char *const pairs[][2] = {
        {"Eastern Standard Time", "America/New_York"},   {"China Standard Time", "Asia/Shanghai"},
        {"W. Europe Standard Time", "Europe/Berlin"},    {"GMT Standard Time", "Europe/London"},
        {"AUS Eastern Standard Time", "Australia/Sydney"}, {"India Standard Time", "Asia/Kolkata"},
        {"FLE Standard Time", "Europe/Kiev"},            {"Myanmar Standard Time", "Asia/Yangon"},
        {"Argentina Standard Time", "America/Argentina/Buenos_Aires"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
        const char *got = time_zone_from_windows(pairs[i][0]);
        CHECK_EQ_STR(got ? got : "(null)", pairs[i][1]);
    }
    CHECK(time_zone_from_windows("Mars Standard Time") == NULL);
    CHECK(time_zone_from_windows("eastern standard time") == NULL); /* ids are exact */
    CHECK(time_zone_from_windows(NULL) == NULL);
}

/* Converts a local time string in tz; returns the conversion status. */
static enum time_conv to_utc(const char *s, const char *tz, int64_t *utc)
{
    struct local_time lt;

    if (time_local_parse(s, &lt) != 0)
        return TIME_BAD_ZONE - 100;
    return time_local_to_utc(&lt, tz, utc);
}

static void check_back(int64_t utc, const char *tz, const char *want)
{
    struct local_time lt;
    char out[TIME_LOCAL_STR];

    CHECK_EQ_INT(time_utc_to_local(utc, tz, &lt), 0);
    time_local_format(&lt, out);
    CHECK_EQ_STR(out, want);
}

static void test_conversions(void)
{
    int64_t utc = -1;
    char s[TIME_UTC_STR];

    /* Shanghai: UTC+8 all year. */
    CHECK_EQ_INT(to_utc("2026-12-07T09:00:00", "Asia/Shanghai", &utc), TIME_OK);
    time_utc_format(utc, s);
    CHECK_EQ_STR(s, "2026-12-07T01:00:00Z");
    CHECK_EQ_INT(utc, 1796605200);
    check_back(utc, "Asia/Shanghai", "2026-12-07T09:00:00");
    CHECK_EQ_INT(to_utc("2026-12-07T03:00:00", "Asia/Shanghai", &utc), TIME_OK);
    time_utc_format(utc, s);
    CHECK_EQ_STR(s, "2026-12-06T19:00:00Z");

    /* New York springs forward at 02:00 on 2026-03-08: 02:30 does not exist. */
    CHECK_EQ_INT(to_utc("2026-03-08T02:30:00", "America/New_York", &utc), TIME_NONEXISTENT);
    /* RFC 5545: read with the offset before the gap, i.e. 03:30 EDT. */
    time_utc_format(utc, s);
    CHECK_EQ_STR(s, "2026-03-08T07:30:00Z");
    CHECK_EQ_INT(to_utc("2026-03-08T01:59:59", "America/New_York", &utc), TIME_OK);
    time_utc_format(utc, s);
    CHECK_EQ_STR(s, "2026-03-08T06:59:59Z");
    CHECK_EQ_INT(to_utc("2026-03-08T03:00:00", "America/New_York", &utc), TIME_OK);
    time_utc_format(utc, s);
    CHECK_EQ_STR(s, "2026-03-08T07:00:00Z");
    check_back(utc, "America/New_York", "2026-03-08T03:00:00");
    /* Falling back at 02:00 on 2026-11-01, 01:30 happens twice: the first (EDT) counts. */
    CHECK_EQ_INT(to_utc("2026-11-01T01:30:00", "America/New_York", &utc), TIME_OK);
    time_utc_format(utc, s);
    CHECK_EQ_STR(s, "2026-11-01T05:30:00Z");
    CHECK_EQ_INT(to_utc("2026-11-01T02:30:00", "America/New_York", &utc), TIME_OK);
    time_utc_format(utc, s);
    CHECK_EQ_STR(s, "2026-11-01T07:30:00Z");

    /* London: GMT in winter, BST (UTC+1) in summer. */
    CHECK_EQ_INT(to_utc("2026-07-01T12:00:00", "Europe/London", &utc), TIME_OK);
    time_utc_format(utc, s);
    CHECK_EQ_STR(s, "2026-07-01T11:00:00Z");
    CHECK_EQ_INT(utc, 1782903600);
    check_back(utc, "Europe/London", "2026-07-01T12:00:00");
    CHECK_EQ_INT(to_utc("2026-01-15T12:00:00", "Europe/London", &utc), TIME_OK);
    time_utc_format(utc, s);
    CHECK_EQ_STR(s, "2026-01-15T12:00:00Z");
    CHECK_EQ_INT(utc, 1768478400);
    check_back(utc, "Europe/London", "2026-01-15T12:00:00");
    /* Its gap (01:00 -> 02:00 on 2026-03-29) and overlap (01:00-02:00 on 2026-10-25). */
    CHECK_EQ_INT(to_utc("2026-03-29T01:30:00", "Europe/London", &utc), TIME_NONEXISTENT);
    time_utc_format(utc, s);
    CHECK_EQ_STR(s, "2026-03-29T01:30:00Z");
    check_back(utc, "Europe/London", "2026-03-29T02:30:00");
    CHECK_EQ_INT(to_utc("2026-10-25T01:30:00", "Europe/London", &utc), TIME_OK);
    time_utc_format(utc, s);
    CHECK_EQ_STR(s, "2026-10-25T00:30:00Z");

    /* UTC itself, and the epoch. */
    CHECK_EQ_INT(to_utc("2024-02-29T00:00:00", "UTC", &utc), TIME_OK);
    CHECK_EQ_INT(utc, 1709164800);
    CHECK_EQ_INT(to_utc("1970-01-01T00:00:00", "UTC", &utc), TIME_OK);
    CHECK_EQ_INT(utc, 0);
    check_back(1709164800, "UTC", "2024-02-29T00:00:00");

    /* Unknown zones are refused, never treated as UTC. */
    CHECK_EQ_INT(to_utc("2026-12-07T09:00:00", "Mars/Base", &utc), TIME_BAD_ZONE);
    struct local_time lt;
    CHECK_EQ_INT(time_utc_to_local(0, "Mars/Base", &lt), -1);
}

static void test_zone_valid(void)
{
    char long_name[201];

    CHECK_EQ_INT(time_zone_valid("Asia/Shanghai"), 1);
    CHECK_EQ_INT(time_zone_valid("UTC"), 1);
    CHECK_EQ_INT(time_zone_valid("Europe/London"), 1);
    CHECK_EQ_INT(time_zone_valid("America/New_York"), 1);
    CHECK_EQ_INT(time_zone_valid("Mars/Base"), 0);
    CHECK_EQ_INT(time_zone_valid(""), 0);
    CHECK_EQ_INT(time_zone_valid(NULL), 0);
    memset(long_name, 'A', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    CHECK_EQ_INT(time_zone_valid(long_name), 0);
    memcpy(long_name, "Asia/Shanghai/", 14);
    CHECK_EQ_INT(time_zone_valid(long_name), 0);
}

/*
 * The formats are written digit by digit; they must print what
 * "%04u-%02u-%02uT%02u:%02u:%02u" of each field modulo its width printed,
 * out-of-range and negative fields included.
 */
static void test_format_matches_printf(void)
{
    static const struct local_time cases[] = {
        {2026, 12, 7, 9, 0, 0}, {1970, 1, 1, 0, 0, 0},   {2199, 12, 31, 23, 59, 59},
        {987, 3, 4, 5, 6, 7},   {12345, 123, 45, 99, 100, 61}, {-1, -2, -3, -4, -5, -6},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct local_time *lt = &cases[i];
        char want[64], got[TIME_LOCAL_STR], date[TIME_DATE_STR];
        snprintf(want, sizeof(want), "%04u-%02u-%02uT%02u:%02u:%02u",
                 (unsigned)lt->year % 10000u, (unsigned)lt->month % 100u,
                 (unsigned)lt->day % 100u, (unsigned)lt->hour % 100u,
                 (unsigned)lt->minute % 100u, (unsigned)lt->second % 100u);
        time_local_format(lt, got);
        CHECK_EQ_STR(got, want);
        want[10] = '\0';
        time_date_format(lt, date);
        CHECK_EQ_STR(date, want);
    }
}

int main(void)
{
    test_local_parse();
    test_format_matches_printf();
    test_date_parse();
    test_format();
    test_utc_format_matches_zone_path();
    test_windows_zones();
    test_conversions();
    test_zone_valid();
    return check_finish();
}
