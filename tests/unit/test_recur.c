/*
 * test_recur.c - core/recur.c: what recurrence is refused (finer than
 * daily, no date ever matching, too many or too far), that rare but real
 * rules still expand, that every expansion's work stays bounded (days
 * scanned, instances asked of libical, time), and windowed expansion
 * (from_utc) agreeing with the whole one.
 */
#include "check.h"

#include "convene/recur.h"
#include "convene/util.h"

#include <stdint.h>
#include <string.h>

#define TZ "Asia/Shanghai"
#define ALL_HOURS "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23"
#define DAY 86400LL

/* The measurement was 8.8 s; every expansion must now stay far below 1 s. */
#define MAX_SECONDS 0.5

static struct recur_cost last_cost;
static double last_seconds;

/* Expands rule from start (local, Asia/Shanghai, one hour long) up to horizon_days past it. */
static int expand(const char *rule, const char *start, int64_t horizon_days,
                  struct occurrence **occ, size_t *n)
{
    struct recur_spec spec;
    char why[256] = "";
    int64_t start_utc;
    uint64_t t0;
    int rc;

    memset(&spec, 0, sizeof(spec));
    memset(&last_cost, 0, sizeof(last_cost));
    spec.rrule = rule;
    spec.tz = TZ;
    spec.cost = &last_cost;
    time_local_parse(start, &spec.start);
    spec.end = spec.start;
    recur_local_add(&spec.end, 3600);
    time_local_to_utc(&spec.start, TZ, &start_utc);
    spec.horizon_utc = horizon_days < 0 ? INT64_MAX : start_utc + horizon_days * DAY;
    t0 = clock_monotonic_us();
    rc = recur_rule_check(rule, why, sizeof(why));
    if (rc == RECUR_OK)
        rc = recur_expand(&spec, occ, n, why, sizeof(why));
    else
        *occ = NULL, *n = 0;
    last_seconds = (double)(clock_monotonic_us() - t0) / 1e6;
    if (rc != RECUR_OK)
        CHECK(why[0] != '\0'); /* every refusal says why */
    return rc;
}

static void check_bounded_work(const char *rule)
{
    if (last_seconds >= MAX_SECONDS || last_cost.days_scanned > 210000 ||
        last_cost.steps > RECUR_MAX_STEPS)
        fprintf(stderr, "    %s: %.3f s, %ld days, %ld steps\n", rule, last_seconds,
                last_cost.days_scanned, last_cost.steps);
    CHECK(last_seconds < MAX_SECONDS);
    CHECK(last_cost.days_scanned <= 210000); /* DTSTART's year to 2582 */
    CHECK(last_cost.steps <= RECUR_MAX_STEPS);
}

static void test_refused(void)
{
    static const struct {
        const char *rule;
        int horizon_days; /* -1: the whole rule, as for a bounded series */
        int rc;
    } cases[] = {
        {"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=" ALL_HOURS, 731, RECUR_TOO_FINE},
        {"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=" ALL_HOURS ";BYMINUTE=0,30", 731,
         RECUR_TOO_FINE},
        {"FREQ=DAILY;COUNT=6;BYHOUR=9,10,11", -1, RECUR_TOO_FINE},
        {"FREQ=WEEKLY;BYMINUTE=15", 731, RECUR_TOO_FINE},
        {"FREQ=MONTHLY;BYSECOND=1", 731, RECUR_TOO_FINE},
        {"FREQ=HOURLY", 731, RECUR_TOO_FINE},
        {"FREQ=SECONDLY;COUNT=2", -1, RECUR_TOO_FINE},
        /* no date ever matches */
        {"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", 731, RECUR_NEVER},
        {"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=5", -1, RECUR_NEVER},
        {"FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=30", 731, RECUR_NEVER},
        {"FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2,4,6,9,11", 731, RECUR_NEVER},
        {"FREQ=MONTHLY;BYMONTHDAY=-31;BYMONTH=2", 731, RECUR_NEVER},
        {"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", 731, RECUR_NEVER},
        {"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", 731, RECUR_NEVER},
        {"FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=11", 731, RECUR_NEVER},
        {"FREQ=MONTHLY;BYDAY=6MO", 731, RECUR_NEVER},
        {"FREQ=MONTHLY;BYDAY=-6FR", 731, RECUR_NEVER},
        {"FREQ=YEARLY;BYDAY=53MO;BYMONTH=1", 731, RECUR_NEVER},
        {"FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", 731, RECUR_NEVER},
        {"FREQ=YEARLY;INTERVAL=4;BYYEARDAY=366", 731, RECUR_NEVER}, /* 2026, 2030... */
        {"FREQ=YEARLY;BYYEARDAY=-367", 731, RECUR_NEVER},
        /* numbered BYDAY outside MONTHLY/YEARLY, or with BYWEEKNO (RFC 5545) */
        {"FREQ=DAILY;BYDAY=1MO", 731, RECUR_BAD_RULE},
        {"FREQ=WEEKLY;BYDAY=-1FR", 731, RECUR_BAD_RULE},
        {"FREQ=YEARLY;BYWEEKNO=1;BYDAY=1MO", 731, RECUR_BAD_RULE},
        /* bounded: more than 1,000 occurrences, or reaching more than 100 years */
        {"FREQ=DAILY;COUNT=1001", -1, RECUR_TOO_MANY},
        {"FREQ=WEEKLY;UNTIL=20500101T000000Z", -1, RECUR_TOO_MANY},
        {"FREQ=YEARLY;COUNT=102", -1, RECUR_TOO_LONG}, /* COUNT=101 ends exactly 100 years on */
        {"FREQ=DAILY;COUNT=1000;BYMONTH=2;BYMONTHDAY=29", -1, RECUR_TOO_LONG},
        {"FREQ=DAILY;UNTIL=25001231;BYMONTH=2;BYMONTHDAY=29", -1, RECUR_TOO_LONG},
        /* unbounded: more than 1,000 within the horizon */
        {"FREQ=DAILY", 1100, RECUR_TOO_MANY},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct occurrence *occ;
        size_t n;
        int rc = expand(cases[i].rule, "2026-12-07T09:00:00", cases[i].horizon_days, &occ, &n);
        if (rc != cases[i].rc)
            fprintf(stderr, "    rule %s\n", cases[i].rule);
        CHECK_EQ_INT(rc, cases[i].rc);
        CHECK(occ == NULL && n == 0);
        check_bounded_work(cases[i].rule);
    }
}

static void test_rare_but_real(void)
{
    static const struct {
        const char *start, *rule;
        int horizon_days;
        size_t count;
        const char *first, *last;
    } cases[] = {
        /* every 29 February: a start after one waits 4 years (DTSTART is the first) */
        {"2028-03-01T09:00:00", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", 731, 1,
         "2028-03-01T09:00:00", "2028-03-01T09:00:00"},
        {"2028-03-01T09:00:00", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=3", -1, 3,
         "2028-03-01T09:00:00", "2036-02-29T09:00:00"},
        {"2024-02-29T09:00:00", "FREQ=YEARLY", 3000, 3, "2024-02-29T09:00:00",
         "2032-02-29T09:00:00"}, /* libical skips the missing 29ths */
        {"2026-12-07T09:00:00", "FREQ=YEARLY;COUNT=2", -1, 2, "2026-12-07T09:00:00",
         "2027-12-07T09:00:00"},
        {"2026-12-25T09:00:00", "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3", -1, 3, "2026-12-25T09:00:00",
         "2027-02-26T09:00:00"},
        {"2026-12-07T09:00:00", "FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR;COUNT=2", -1, 2,
         "2026-12-07T09:00:00", "2027-08-13T09:00:00"},
        {"2027-01-01T09:00:00", "FREQ=MONTHLY;BYDAY=5MO;BYMONTH=2;COUNT=2", -1, 2,
         "2027-01-01T09:00:00", "2044-02-29T09:00:00"},
        {"2026-12-07T09:00:00", "FREQ=YEARLY;COUNT=101", -1, 101, "2026-12-07T09:00:00",
         "2126-12-07T09:00:00"},
        {"2026-12-07T09:00:00", "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20261231", -1, 11,
         "2026-12-07T09:00:00", "2026-12-30T09:00:00"},
        {"2026-12-07T09:00:00", "FREQ=DAILY;COUNT=1000", -1, 1000, "2026-12-07T09:00:00",
         "2029-09-01T09:00:00"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct occurrence *occ = NULL;
        size_t n = 0;
        int rc = expand(cases[i].rule, cases[i].start, cases[i].horizon_days, &occ, &n);
        if (rc != RECUR_OK || n != cases[i].count)
            fprintf(stderr, "    rule %s\n", cases[i].rule);
        CHECK_EQ_INT(rc, RECUR_OK);
        CHECK_EQ_INT(n, cases[i].count);
        if (n > 0) {
            CHECK_EQ_STR(occ[0].start, cases[i].first);
            CHECK_EQ_STR(occ[n - 1].start, cases[i].last);
        }
        check_bounded_work(cases[i].rule);
        free(occ);
    }
}

/* A window [from, to) of a series is the whole expansion's occurrences in it. */
static void check_window(const char *rule, const char *from_local, const char *to_local)
{
    struct recur_spec spec;
    struct local_time from, to;
    struct occurrence *all = NULL, *part = NULL;
    size_t nall = 0, npart = 0, k = 0;
    char why[256];
    int64_t from_utc, to_utc;

    memset(&spec, 0, sizeof(spec));
    spec.rrule = rule;
    spec.tz = TZ;
    time_local_parse("2026-12-07T09:00:00", &spec.start);
    time_local_parse("2026-12-07T10:00:00", &spec.end);
    time_local_parse(from_local, &from);
    time_local_parse(to_local, &to);
    time_local_to_utc(&from, TZ, &from_utc);
    time_local_to_utc(&to, TZ, &to_utc);
    spec.horizon_utc = to_utc;
    CHECK_EQ_INT(recur_expand(&spec, &all, &nall, why, sizeof(why)), RECUR_OK);
    spec.from_utc = from_utc;
    CHECK_EQ_INT(recur_expand(&spec, &part, &npart, why, sizeof(why)), RECUR_OK);
    for (size_t i = 0; i < nall; i++) {
        if (all[i].start_utc < from_utc)
            continue;
        CHECK(k < npart);
        if (k < npart)
            CHECK_EQ_STR(part[k].recurrence_id, all[i].recurrence_id);
        k++;
    }
    CHECK_EQ_INT(k, npart);
    CHECK(npart > 0);
    free(all);
    free(part);
}

static void test_windows(void)
{
    /* Unbounded: the iterator starts near `from`; counted: from DTSTART. */
    check_window("FREQ=WEEKLY;BYDAY=MO,TH", "2029-01-01T00:00:00", "2029-06-01T00:00:00");
    check_window("FREQ=WEEKLY;BYDAY=MO,TH;COUNT=400", "2029-01-01T00:00:00", "2029-06-01T00:00:00");
    check_window("FREQ=DAILY;INTERVAL=3", "2031-02-27T09:00:00", "2031-03-09T00:00:00");
    check_window("FREQ=MONTHLY;BYDAY=-1FR", "2040-01-01T00:00:00", "2041-01-01T00:00:00");
    /* A window starting mid-month still sees the month's whole set for BYSETPOS. */
    check_window("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "2031-03-20T00:00:00",
                 "2032-03-20T00:00:00");
    check_window("FREQ=MONTHLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1",
                 "2030-07-15T12:00:00", "2031-07-01T00:00:00");
    check_window("FREQ=YEARLY;BYMONTH=3,9;BYDAY=SU;BYSETPOS=2", "2033-03-05T00:00:00",
                 "2040-01-01T00:00:00");
    check_window("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=SU", "2030-05-01T00:00:00",
                 "2030-09-01T00:00:00");
    check_window("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "2030-01-01T00:00:00",
                 "2045-01-01T00:00:00");

    /* A window far from DTSTART costs only its own length. */
    struct recur_spec spec;
    struct occurrence *occ = NULL;
    size_t n = 0;
    struct local_time lt;
    char why[256];
    struct recur_cost cost = {0, 0};
    memset(&spec, 0, sizeof(spec));
    spec.rrule = "FREQ=DAILY";
    spec.tz = TZ;
    spec.cost = &cost;
    time_local_parse("2026-12-07T09:00:00", &spec.start);
    time_local_parse("2026-12-07T10:00:00", &spec.end);
    time_local_parse("2100-01-01T00:00:00", &lt);
    time_local_to_utc(&lt, TZ, &spec.from_utc);
    spec.horizon_utc = spec.from_utc + 30 * DAY;
    CHECK_EQ_INT(recur_expand(&spec, &occ, &n, why, sizeof(why)), RECUR_OK);
    CHECK_EQ_INT(n, 30);
    CHECK(cost.steps < 40);
    if (n > 0)
        CHECK_EQ_STR(occ[0].start, "2100-01-01T09:00:00");
    free(occ);
}

/*
 * An unbounded rule counts its past apart from what lies ahead
 * (count_from_utc, "now"): a daily series that started 400 days ago has
 * 1,131 occurrences up to 2 years ahead and is fine; a past of more than
 * 1,000 is RECUR_TOO_OLD; ahead, the cap is as before; and with
 * count_from_utc 0 the old single count still refuses the 400-day one.
 */
static int expand_counted_from(const char *start, int64_t now_utc, int64_t count_from_utc,
                               size_t *n, char *why, size_t whylen)
{
    struct recur_spec spec;
    struct occurrence *occ = NULL;
    int rc;

    memset(&spec, 0, sizeof(spec));
    spec.rrule = "FREQ=DAILY";
    spec.tz = TZ;
    time_local_parse(start, &spec.start);
    spec.end = spec.start;
    recur_local_add(&spec.end, 1800);
    spec.horizon_utc = now_utc + (int64_t)RECUR_HORIZON_DAYS * DAY;
    spec.count_from_utc = count_from_utc;
    rc = recur_expand(&spec, &occ, n, why, whylen);
    free(occ);
    return rc;
}

static void test_past_counted_apart(void)
{
    struct local_time lt;
    int64_t now;
    size_t n = 0;
    char why[256] = "";

    time_local_parse("2026-12-07T12:00:00", &lt);
    time_local_to_utc(&lt, TZ, &now);
    /*
     * From 2025-11-02, 400 days before: 401 mornings are past (today's 08:30
     * is before noon) and 731 ahead, the last on the horizon's own day.
     */
    CHECK_EQ_INT(expand_counted_from("2025-11-02T08:30:00", now, now, &n, why, sizeof(why)),
                 RECUR_OK);
    CHECK_EQ_INT(n, 401 + 731);
    CHECK_EQ_INT(expand_counted_from("2025-11-02T08:30:00", now, 0, &n, why, sizeof(why)),
                 RECUR_TOO_MANY);
    /* 1,000 past mornings are the most (from 2024-03-13); from a day earlier, 1,001 are not. */
    CHECK_EQ_INT(expand_counted_from("2024-03-13T08:30:00", now, now, &n, why, sizeof(why)),
                 RECUR_OK);
    CHECK_EQ_INT(n, 1000 + 731);
    why[0] = '\0';
    CHECK_EQ_INT(expand_counted_from("2024-03-12T08:30:00", now, now, &n, why, sizeof(why)),
                 RECUR_TOO_OLD);
    CHECK(strstr(why, "before today") != NULL);
}

int main(void)
{
    test_refused();
    test_rare_but_real();
    test_windows();
    test_past_counted_apart();
    return check_finish();
}
