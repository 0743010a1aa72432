/*
 * test_trips.c - core/trips.c: day numbers, a driver's hours per day
 * (overlaps counted once, only days the booking touches), the rest between
 * two days, and which trips need approval (weekends, public holidays, but
 * not a make-up working Saturday), on a crafted working calendar.
 */
#include "check.h"

#include "convene/trips.h"
#include "convene/workcal.h"

#include <stdio.h>
#include <string.h>

#define H 3600

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

/* A span on day number `day`, from hour a to hour b of that day (b may pass 24). */
static struct trip_span span(int64_t day, double a, double b, int mine, size_t tag)
{
    struct trip_span s = {day, day * 86400 + (int64_t)(a * H), day * 86400 + (int64_t)(b * H),
                          mine, tag};
    return s;
}

static void test_day_numbers(void)
{
    struct local_time d = lt("1970-01-01"), back;

    CHECK_EQ_INT(trips_day_number(&d), 0);
    d = lt("2026-12-07");
    CHECK_EQ_INT(trips_day_number(&d), 20794);
    d = lt("2024-02-29T23:59:59");
    trips_day_date(trips_day_number(&d), &back);
    CHECK_EQ_INT(back.year, 2024);
    CHECK_EQ_INT(back.month, 2);
    CHECK_EQ_INT(back.day, 29);
    CHECK_EQ_INT(back.hour, 0);
    d = lt("2027-01-01");
    trips_day_date(trips_day_number(&d) - 1, &back);
    CHECK_EQ_INT(back.year * 10000 + back.month * 100 + back.day, 20261231);
}

static void test_hours(void)
{
    struct trip_rules rules = {10, 8};
    struct trip_violation v;
    struct trip_span s[4];

    /* 6 h + 4 h = exactly the limit. */
    s[0] = span(100, 7, 13, 0, 0);
    s[1] = span(100, 14, 18, 1, 7);
    CHECK_EQ_INT(trips_driver_check(s, 2, &rules, &v), TRIP_OK);
    /* Half an hour more is over it; the violation names the booking's span. */
    s[0] = span(100, 7, 13, 0, 0);
    s[1] = span(100, 14, 18.5, 1, 7);
    CHECK_EQ_INT(trips_driver_check(s, 2, &rules, &v), TRIP_DRIVER_HOURS);
    CHECK_EQ_INT(v.day, 100);
    CHECK_EQ_INT(v.seconds, (int64_t)(10.5 * H));
    CHECK_EQ_INT(v.tag, 7);
    /* Overlapping trips count once. */
    s[0] = span(100, 7, 15, 1, 0);
    s[1] = span(100, 8, 16, 1, 1);
    CHECK_EQ_INT(trips_driver_check(s, 2, &rules, &v), TRIP_OK);
    /* A day the booking does not touch is not judged (it was accepted before). */
    s[0] = span(100, 6, 18, 0, 0);
    s[1] = span(103, 9, 10, 1, 1);
    CHECK_EQ_INT(trips_driver_check(s, 2, &rules, &v), TRIP_OK);
    /* No limit configured. */
    struct trip_rules none = {0, 0};
    s[0] = span(100, 0, 23, 1, 0);
    CHECK_EQ_INT(trips_driver_check(s, 1, &none, &v), TRIP_OK);
    CHECK_EQ_INT(trips_driver_check(s, 0, &rules, &v), TRIP_OK);
}

static void test_rest(void)
{
    struct trip_rules rules = {10, 8};
    struct trip_violation v;
    struct trip_span s[3];

    /* Back at 23:00, out again at 06:00: 7 h of rest. */
    s[0] = span(100, 14, 23, 0, 0);
    s[1] = span(101, 6, 8, 1, 2);
    CHECK_EQ_INT(trips_driver_check(s, 2, &rules, &v), TRIP_DRIVER_REST);
    CHECK_EQ_INT(v.day, 101);
    CHECK_EQ_INT(v.seconds, 7 * H);
    CHECK_EQ_INT(v.tag, 2);
    /* 8 h is enough; so is a day in between. */
    s[1] = span(101, 7, 9, 1, 2);
    CHECK_EQ_INT(trips_driver_check(s, 2, &rules, &v), TRIP_OK);
    s[1] = span(102, 6, 8, 1, 2);
    CHECK_EQ_INT(trips_driver_check(s, 2, &rules, &v), TRIP_OK);
    /* The booking's trip on the first day shortens the rest before an existing one. */
    s[0] = span(100, 20, 23.5, 1, 4);
    s[1] = span(101, 7, 9, 0, 0);
    CHECK_EQ_INT(trips_driver_check(s, 2, &rules, &v), TRIP_DRIVER_REST);
    CHECK_EQ_INT(v.tag, 4);
    /* Measured from the last return of the day, not the last departure. */
    s[0] = span(100, 8, 10, 0, 0);
    s[1] = span(100, 9, 17, 0, 1);
    s[2] = span(101, 0.5, 2, 1, 2);
    CHECK_EQ_INT(trips_driver_check(s, 3, &rules, &v), TRIP_DRIVER_REST);
    CHECK_EQ_INT(v.seconds, (int64_t)(7.5 * H));
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static void test_approval(void)
{
    static const char ics[] =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:h@t\r\nDTSTAMP:20250101T000000Z\r\n"
        "DTSTART;VALUE=DATE:20261001\r\nDTEND;VALUE=DATE:20261008\r\nSUMMARY:国庆节\r\n"
        "X-CONVENE-DAY-TYPE:HOLIDAY\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:w@t\r\nDTSTAMP:20250101T000000Z\r\n"
        "DTSTART;VALUE=DATE:20261010\r\nDTEND;VALUE=DATE:20261011\r\nSUMMARY:调休\r\n"
        "X-CONVENE-DAY-TYPE:WORKDAY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    char dir[256], path[300], why[256];
    struct workcal wc;
    struct local_time a, b, day;

    check_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/cn.ics", dir);
    write_file(path, ics);
    workcal_init(&wc);
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), 0);

    a = lt("2026-10-10T08:00:00"), b = lt("2026-10-10T12:00:00"); /* make-up Saturday */
    CHECK_EQ_INT(trips_needs_approval(&wc, &a, &b, &day), 0);
    a = lt("2026-10-01T08:00:00"), b = lt("2026-10-01T12:00:00"); /* National Day */
    CHECK_EQ_INT(trips_needs_approval(&wc, &a, &b, &day), 1);
    CHECK_EQ_INT(day.day, 1);
    a = lt("2026-12-13T08:00:00"), b = lt("2026-12-13T12:00:00"); /* a Sunday */
    CHECK_EQ_INT(trips_needs_approval(&wc, &a, &b, &day), 1);
    a = lt("2026-12-14T08:00:00"), b = lt("2026-12-14T12:00:00"); /* a Monday */
    CHECK_EQ_INT(trips_needs_approval(&wc, &a, &b, &day), 0);
    /* Friday night into Saturday touches the weekend; back at midnight does not. */
    a = lt("2026-12-11T20:00:00"), b = lt("2026-12-12T02:00:00");
    CHECK_EQ_INT(trips_needs_approval(&wc, &a, &b, &day), 1);
    CHECK_EQ_INT(day.day, 12);
    b = lt("2026-12-12T00:00:00");
    CHECK_EQ_INT(trips_needs_approval(&wc, &a, &b, &day), 0);
    /* From the day before the holidays into them. */
    a = lt("2026-09-30T22:00:00"), b = lt("2026-10-01T01:00:00");
    CHECK_EQ_INT(trips_needs_approval(&wc, &a, &b, &day), 1);

    workcal_free(&wc);
    check_rmdir(dir);
}

int main(void)
{
    test_day_numbers();
    test_hours();
    test_rest();
    test_approval();
    return check_finish();
}
