/*
 * test_meals.c - core/meals.c: serving times, the day a meal of an
 * occurrence belongs to, cutoffs from the configuration, head counts and
 * the order of meals in a day.
 */
#include "check.h"

#include "convene/config.h"
#include "convene/meals.h"

#include <string.h>

static struct local_time lt(const char *s)
{
    struct local_time t;

    memset(&t, 0, sizeof(t));
    if (time_local_parse(s, &t) != 0 && time_date_parse(s, &t) != 0) {
        fprintf(stderr, "bad time in test: %s\n", s);
        exit(2);
    }
    return t;
}

static void check_day(const char *start, const char *end, const char *meal, const char *want)
{
    struct local_time s = lt(start), e = lt(end), d;
    char got[TIME_DATE_STR];

    meals_day(&s, &e, meal, &d);
    time_date_format(&d, got);
    CHECK_EQ_STR(got, want);
    CHECK_EQ_INT(d.hour + d.minute + d.second, 0);
}

static void test_days(void)
{
    check_day("2026-12-07T09:00:00", "2026-12-07T11:00:00", "lunch", "2026-12-07");
    check_day("2026-12-07T11:00:00", "2026-12-07T13:00:00", "lunch", "2026-12-07");
    /* Overnight: breakfast the next morning; dinner before the start falls back to day one. */
    check_day("2026-12-07T20:00:00", "2026-12-08T09:00:00", "breakfast", "2026-12-08");
    check_day("2026-12-07T20:00:00", "2026-12-08T09:00:00", "dinner", "2026-12-07");
    /* Ending exactly at the serving time does not include it. */
    check_day("2026-12-07T20:00:00", "2026-12-08T07:30:00", "breakfast", "2026-12-07");
    /* A three-day all-day event eats its one lunch on its first day. */
    check_day("2026-12-07T00:00:00", "2026-12-10T00:00:00", "lunch", "2026-12-07");
    /* Unknown meals are served at noon. */
    CHECK_EQ_INT(meals_minute("tea"), 12 * 60);
    CHECK_EQ_INT(meals_minute("breakfast"), 7 * 60 + 30);
    CHECK_EQ_INT(meals_minute("dinner"), 18 * 60);
}

static void test_cutoffs(void)
{
    struct config cfg;
    struct local_time day = lt("2026-12-07"), cut;
    char buf[TIME_LOCAL_STR];

    config_defaults(&cfg);
    CHECK_EQ_INT(meals_cutoff(&cfg, "lunch", &day, &cut), 0);
    time_local_format(&cut, buf);
    CHECK_EQ_STR(buf, "2026-12-07T10:00:00");
    CHECK_EQ_INT(meals_cutoff(&cfg, "breakfast", &day, &cut), 0);
    time_local_format(&cut, buf);
    CHECK_EQ_STR(buf, "2026-12-06T18:00:00");
    CHECK_EQ_INT(meals_cutoff(&cfg, "tea", &day, &cut), -1);
    CHECK_EQ_INT(config_parse_cutoffs("lunch=-3d09:15", &cfg), 0);
    day = lt("2027-01-02");
    CHECK_EQ_INT(meals_cutoff(&cfg, "lunch", &day, &cut), 0);
    time_local_format(&cut, buf);
    CHECK_EQ_STR(buf, "2026-12-30T09:15:00");
}

static void test_counts_and_order(void)
{
    CHECK_EQ_INT(meals_count(12, 3, -1), 15);
    CHECK_EQ_INT(meals_count(12, 3, 40), 40);
    CHECK_EQ_INT(meals_count(12, 3, 0), 0);
    CHECK(meals_compare("breakfast", "lunch") < 0);
    CHECK(meals_compare("dinner", "lunch") > 0);
    CHECK(meals_compare("lunch", "tea") < 0); /* same time: by name */
    CHECK_EQ_INT(meals_compare("lunch", "lunch"), 0);
}

int main(void)
{
    test_days();
    test_cutoffs();
    test_counts_and_order();
    return check_finish();
}
