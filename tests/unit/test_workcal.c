/*
 * test_workcal.c - core/workcal.c: working-hours specs, the weekday of a
 * date, and loading the special days (public holidays, 调休 make-up working
 * days) from iCalendar files, both crafted ones and the repository's own
 * calendars/holidays/.
 *
 * Where the repository is: $CONVENE_SOURCE_DIR when set, else the directory
 * this file was compiled from (__FILE__ is absolute in CMake builds), else
 * ../calendars or ../../calendars from the working directory (ctest runs
 * unit tests in build/tests/). The first that holds calendars/holidays wins;
 * finding none is a failure, not a silent "no special days".
 */
#include "check.h"

#include "convene/timeutil.h"
#include "convene/workcal.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct local_time date_of(const char *s)
{
    struct local_time lt;

    memset(&lt, 0, sizeof(lt));
    if (time_date_parse(s, &lt) != 0) {
        fprintf(stderr, "bad date in test: %s\n", s);
        exit(2);
    }
    return lt;
}

static int dir_exists(const char *path)
{
    DIR *d = opendir(path);

    if (d == NULL)
        return 0;
    closedir(d);
    return 1;
}

/* Writes the holidays directory of the repository into out; 0, or -1 if none is found. */
static int find_holidays_dir(char *out, size_t cap)
{
    const char *env = getenv("CONVENE_SOURCE_DIR");
    char from_file[PATH_MAX];

    if (env != NULL && *env != '\0') {
        int n = snprintf(out, cap, "%s/calendars/holidays", env);
        if (n > 0 && (size_t)n < cap && dir_exists(out))
            return 0;
    }
    /* __FILE__ = ".../tests/unit/test_workcal.c": strip the last three components. */
    snprintf(from_file, sizeof(from_file), "%s", __FILE__);
    for (int i = 0; i < 3; i++) {
        char *slash = strrchr(from_file, '/');
        if (slash == NULL) {
            from_file[0] = '\0';
            break;
        }
        *slash = '\0';
    }
    if (from_file[0] != '\0') {
        int n = snprintf(out, cap, "%s/calendars/holidays", from_file);
        if (n > 0 && (size_t)n < cap && dir_exists(out))
            return 0;
    }
    static const char *const relative[] = {"../calendars/holidays", "../../calendars/holidays",
                                           "calendars/holidays"};
    for (size_t i = 0; i < sizeof(relative) / sizeof(relative[0]); i++) {
        snprintf(out, cap, "%s", relative[i]);
        if (dir_exists(out))
            return 0;
    }
    return -1;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
    char path[PATH_MAX + 64];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}

/* ---------------- working hours ---------------- */

static void test_default_hours(void)
{
    struct workcal wc;

    workcal_init(&wc);
    CHECK_EQ_INT(wc.nperiods, 2);
    CHECK_EQ_INT(wc.periods[0][0], 8 * 60 + 30);
    CHECK_EQ_INT(wc.periods[0][1], 12 * 60);
    CHECK_EQ_INT(wc.periods[1][0], 14 * 60);
    CHECK_EQ_INT(wc.periods[1][1], 17 * 60 + 30);
    CHECK_EQ_INT(wc.ndays, 0);
    CHECK(wc.days == NULL);
    workcal_free(&wc);
}

static void test_parse_hours_accepts(void)
{
    struct workcal wc;

    workcal_init(&wc);
    CHECK_EQ_INT(workcal_parse_hours(&wc, "08:30-12:00,14:00-17:30"), 0);
    CHECK_EQ_INT(wc.nperiods, 2);
    CHECK_EQ_INT(wc.periods[1][1], 1050);

    CHECK_EQ_INT(workcal_parse_hours(&wc, "09:00-17:00"), 0);
    CHECK_EQ_INT(wc.nperiods, 1);
    CHECK_EQ_INT(wc.periods[0][0], 540);
    CHECK_EQ_INT(wc.periods[0][1], 1020);

    /* The whole day: 24:00 is a valid end. */
    CHECK_EQ_INT(workcal_parse_hours(&wc, "00:00-24:00"), 0);
    CHECK_EQ_INT(wc.periods[0][0], 0);
    CHECK_EQ_INT(wc.periods[0][1], 1440);

    /* Half-open periods may touch. */
    CHECK_EQ_INT(workcal_parse_hours(&wc, "08:00-12:00,12:00-13:00"), 0);
    CHECK_EQ_INT(wc.nperiods, 2);
    CHECK_EQ_INT(wc.periods[1][0], 720);

    /* Up to WORKCAL_MAX_PERIODS periods. */
    CHECK_EQ_INT(workcal_parse_hours(&wc, "07:00-08:00,09:00-10:00,11:00-12:00,13:00-14:00"), 0);
    CHECK_EQ_INT(wc.nperiods, 4);
    CHECK_EQ_INT(wc.periods[3][0], 780);
    CHECK_EQ_INT(wc.periods[3][1], 840);
    workcal_free(&wc);
}

static void test_parse_hours_rejects(void)
{
    static const char *const bad[] = {
        "",
        "garbage",
        "08:30-12:00,11:00-13:00",      /* overlap */
        "08:30-12:00,08:30-12:00",      /* the same period twice */
        "14:00-17:30,08:30-12:00",      /* out of order */
        "09:00-10:00,08:00-12:00",      /* the second encloses the first */
        "12:00-08:00",                  /* end before start */
        "12:00-12:00",                  /* empty */
        "8:30-12:00",                   /* one-digit hour */
        "08:30-12:00,",                 /* trailing comma */
        ",08:30-12:00",
        "08:30-12:00;14:00-17:30",      /* wrong separator */
        "08:30-12:00, 14:00-17:30",     /* blank */
        "08:30-12:00 ",
        " 08:30-12:00",
        "08:30 12:00",
        "08:30-12:00x",
        "25:00-26:00",                  /* no such hour */
        "08:60-09:00",                  /* no such minute */
        "24:30-24:45",
        "08:30-24:01",
        "-1:30-12:00",
        "+8:30-12:00",
        "08:3a-12:00",
        "08:30-12",
        "0830-1200",
        "07:00-08:00,09:00-10:00,11:00-12:00,13:00-14:00,15:00-16:00", /* five periods */
    };
    struct workcal wc;

    workcal_init(&wc);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = workcal_parse_hours(&wc, bad[i]);
        if (rc != -1)
            fprintf(stderr, "    accepted: \"%s\"\n", bad[i]);
        CHECK_EQ_INT(rc, -1);
        /* A rejected spec leaves the hours in force untouched. */
        CHECK_EQ_INT(wc.nperiods, 2);
        CHECK_EQ_INT(wc.periods[0][0], 510);
        CHECK_EQ_INT(wc.periods[0][1], 720);
        CHECK_EQ_INT(wc.periods[1][0], 840);
        CHECK_EQ_INT(wc.periods[1][1], 1050);
    }
    workcal_free(&wc);
}

/* ---------------- weekdays ---------------- */

static void test_weekday_known(void)
{
    static const struct {
        const char *date;
        int weekday; /* 0 = Monday */
    } known[] = {
        {"1970-01-01", 3}, {"1999-12-31", 4}, {"2000-02-29", 1}, {"2024-02-29", 3},
        {"2025-01-26", 6}, {"2026-01-01", 3}, {"2026-02-14", 5}, {"2026-09-20", 6},
        {"2026-10-10", 5}, {"2026-11-28", 5}, {"2026-12-07", 0}, {"2100-03-01", 0},
        {"2199-12-31", 1},
    };

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        struct local_time d = date_of(known[i].date);
        int got = workcal_weekday(&d);
        if (got != known[i].weekday)
            fprintf(stderr, "    %s\n", known[i].date);
        CHECK_EQ_INT(got, known[i].weekday);
    }
}

/* Every day from 1970 to 2199 against a running counter (1970-01-01 was a Thursday). */
static void test_weekday_every_day(void)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int expected = 3, bad = 0;

    for (int y = 1970; y <= 2199; y++) {
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (int m = 1; m <= 12; m++) {
            int n = mdays[m - 1] + (m == 2 && leap);
            for (int dd = 1; dd <= n; dd++) {
                struct local_time d = {y, m, dd, 0, 0, 0};
                if (workcal_weekday(&d) != expected && bad++ < 5)
                    fprintf(stderr, "    %04d-%02d-%02d: %d, expected %d\n", y, m, dd,
                            workcal_weekday(&d), expected);
                expected = (expected + 1) % 7;
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
}

/* ---------------- the repository's calendars ---------------- */

struct expect_day {
    const char *date;
    int working;
    int special;
    const char *name; /* NULL: no name */
};

static void check_days(const struct workcal *wc, const struct expect_day *days, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct local_time d = date_of(days[i].date);
        const char *name = "unset";
        int special = -1;
        int working = workcal_is_working(wc, &d, &name, &special);
        if (working != days[i].working || special != days[i].special)
            fprintf(stderr, "    %s: working %d special %d\n", days[i].date, working, special);
        CHECK_EQ_INT(working, days[i].working);
        CHECK_EQ_INT(special, days[i].special);
        CHECK_EQ_STR(name, days[i].name);
        /* name and special are optional outputs. */
        CHECK_EQ_INT(workcal_is_working(wc, &d, NULL, NULL), days[i].working);
    }
}

static void test_repo_calendars(void)
{
    static const struct expect_day days[] = {
        /* 2026: 国庆节 2026-10-01..07 off, 调休 on Sunday 09-20 and Saturday 10-10. */
        {"2026-09-30", 1, 0, NULL},
        {"2026-10-01", 0, 1, "国庆节"},
        {"2026-10-04", 0, 1, "国庆节"},
        {"2026-10-07", 0, 1, "国庆节"},
        {"2026-10-08", 1, 0, NULL},
        {"2026-10-10", 1, 1, "国庆节调休上班"},
        {"2026-10-11", 0, 0, NULL},
        {"2026-09-20", 1, 1, "国庆节调休上班"},
        {"2026-09-25", 0, 1, "中秋节"},
        {"2026-02-14", 1, 1, "春节调休上班"},
        {"2026-02-15", 0, 1, "春节"},
        {"2026-02-23", 0, 1, "春节"},
        {"2026-02-24", 1, 0, NULL},
        {"2026-01-01", 0, 1, "元旦"},
        {"2026-01-04", 1, 1, "元旦调休上班"},
        {"2026-11-28", 0, 0, NULL}, /* an ordinary Saturday */
        {"2026-11-29", 0, 0, NULL}, /* an ordinary Sunday */
        {"2026-11-30", 1, 0, NULL}, /* an ordinary Monday */
        {"2026-12-25", 1, 0, NULL}, /* Christmas is a working day here */
        /* 2025. */
        {"2025-01-01", 0, 1, "元旦"},
        {"2025-01-26", 1, 1, "春节调休上班"},
        {"2025-01-28", 0, 1, "春节"},
        {"2025-02-04", 0, 1, "春节"},
        {"2025-02-05", 1, 0, NULL},
        {"2025-02-08", 1, 1, "春节调休上班"},
        {"2025-04-27", 1, 1, "劳动节调休上班"},
        {"2025-05-05", 0, 1, "劳动节"},
        {"2025-09-28", 1, 1, "国庆节、中秋节调休上班"},
        {"2025-10-01", 0, 1, "国庆节、中秋节"},
        {"2025-10-08", 0, 1, "国庆节、中秋节"},
        {"2025-10-09", 1, 0, NULL},
        {"2025-10-11", 1, 1, "国庆节、中秋节调休上班"},
        /* A year with no file: plain weekdays. */
        {"2030-01-01", 1, 0, NULL},
        {"2030-01-05", 0, 0, NULL},
    };
    char dir[PATH_MAX], why[512] = "";
    struct workcal wc;

    if (find_holidays_dir(dir, sizeof(dir)) != 0) {
        fprintf(stderr, "    calendars/holidays not found (set CONVENE_SOURCE_DIR)\n");
        CHECK(0);
        return;
    }
    workcal_init(&wc);
    int rc = workcal_load_dir(&wc, dir, why, sizeof(why));
    if (rc != 0)
        fprintf(stderr, "    %s: %s\n", dir, why);
    CHECK_EQ_INT(rc, 0);
    CHECK(wc.nfiles >= 2);
    CHECK(wc.ndays > 40);
    /* Sorted by date, so lookups can bisect. */
    int sorted = 1;
    for (size_t i = 1; i < wc.ndays; i++)
        if (strcmp(wc.days[i - 1].date, wc.days[i].date) > 0)
            sorted = 0;
    CHECK(sorted);
    /* Loading replaces the special days; hours are kept. */
    CHECK_EQ_INT(wc.nperiods, 2);
    check_days(&wc, days, sizeof(days) / sizeof(days[0]));

    /* Loading the same directory again gives the same calendar (no duplicates). */
    size_t before = wc.ndays;
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), 0);
    CHECK_EQ_INT(wc.ndays, before);
    workcal_free(&wc);
    CHECK(wc.days == NULL);
    CHECK_EQ_INT(wc.ndays, 0);
}

/* ---------------- crafted files ---------------- */

#define CAL_HEAD "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//test//EN\r\n"
#define CAL_TAIL "END:VCALENDAR\r\n"

static void test_crafted_dir(void)
{
    /* Short enough that check_rmdir's "dir/name" provably fits its PATH_MAX buffer. */
    char dir[256], why[512];
    struct workcal wc;

    check_tmpdir(dir, sizeof(dir));
    workcal_init(&wc);

    /* X-CONVENE-DAY-TYPE wins; CATEGORIES is the fallback; other events are ignored. */
    write_file(dir, "a.ics",
               CAL_HEAD "BEGIN:VEVENT\r\nUID:1@t\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261226\r\n"
                        "SUMMARY:圣诞\r\nCATEGORIES:WORKDAY\r\nX-CONVENE-DAY-TYPE:HOLIDAY\r\n"
                        "END:VEVENT\r\n"
                        "BEGIN:VEVENT\r\nUID:2@t\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART;VALUE=DATE:20261226\r\nSUMMARY:Extra Saturday\r\n"
                        "CATEGORIES:WORKDAY\r\nEND:VEVENT\r\n"
                        "BEGIN:VEVENT\r\nUID:3@t\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART:20261228T090000\r\nDTEND:20261228T100000\r\n"
                        "SUMMARY:an ordinary meeting\r\nEND:VEVENT\r\n" CAL_TAIL);
    /* Not .ics: ignored. */
    write_file(dir, "notes.txt", "not a calendar");
    write_file(dir, "b.ics",
               CAL_HEAD "BEGIN:VEVENT\r\nUID:4@t\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART;VALUE=DATE:20261231\r\nDTEND;VALUE=DATE:20270101\r\n"
                        "SUMMARY:Year end\r\nCATEGORIES:HOLIDAY,OFFICE\r\nEND:VEVENT\r\n" CAL_TAIL);
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), 0);
    CHECK_EQ_INT(wc.nfiles, 2);
    CHECK_EQ_INT(wc.ndays, 4);
    {
        static const struct expect_day days[] = {
            {"2026-12-23", 1, 0, NULL},
            {"2026-12-24", 0, 1, "圣诞"},
            {"2026-12-25", 0, 1, "圣诞"}, /* DTEND is exclusive: 24 and 25 */
            {"2026-12-26", 1, 1, "Extra Saturday"}, /* no DTEND: one day */
            {"2026-12-27", 0, 0, NULL},
            {"2026-12-28", 1, 0, NULL}, /* the timed meeting is not a day type */
            {"2026-12-31", 0, 1, "Year end"},
            {"2027-01-01", 1, 0, NULL}, /* a Friday, no file says otherwise */
        };
        check_days(&wc, days, sizeof(days) / sizeof(days[0]));
    }

    /* A holiday with a timed DTSTART is refused, and the calendar in use stays. */
    const struct workcal_day *days_before = wc.days;
    write_file(dir, "c.ics",
               CAL_HEAD "BEGIN:VEVENT\r\nUID:5@t\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART:20261230T090000\r\nDTEND:20261230T170000\r\n"
                        "SUMMARY:half day\r\nX-CONVENE-DAY-TYPE:HOLIDAY\r\n"
                        "END:VEVENT\r\n" CAL_TAIL);
    why[0] = '\0';
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), -1);
    CHECK(strstr(why, "c.ics") != NULL);
    CHECK(wc.days == days_before);
    CHECK_EQ_INT(wc.ndays, 4);
    CHECK_EQ_INT(wc.nfiles, 2);
    {
        struct local_time d = date_of("2026-12-24");
        CHECK_EQ_INT(workcal_is_working(&wc, &d, NULL, NULL), 0);
    }

    /* Garbage in a .ics file: refused, calendar unchanged. */
    remove_file(dir, "c.ics");
    write_file(dir, "d.ics", "this is not an iCalendar file\n");
    why[0] = '\0';
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), -1);
    CHECK(strstr(why, "d.ics") != NULL);
    CHECK_EQ_INT(wc.ndays, 4);

    /*
     * Two calendars concatenated into one file: refused, not read as "no
     * holidays" (libical returns an XROOT whose VEVENTs are grandchildren).
     */
    remove_file(dir, "d.ics");
    write_file(dir, "e.ics",
               CAL_HEAD "BEGIN:VEVENT\r\nUID:6@t\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART;VALUE=DATE:20261229\r\nSUMMARY:one\r\n"
                        "X-CONVENE-DAY-TYPE:HOLIDAY\r\nEND:VEVENT\r\n" CAL_TAIL
               CAL_HEAD "BEGIN:VEVENT\r\nUID:7@t\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART;VALUE=DATE:20261230\r\nSUMMARY:two\r\n"
                        "X-CONVENE-DAY-TYPE:HOLIDAY\r\nEND:VEVENT\r\n" CAL_TAIL);
    why[0] = '\0';
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), -1);
    CHECK(strstr(why, "e.ics") != NULL);
    CHECK_EQ_INT(wc.ndays, 4);

    /* A truncated file (no END lines): refused. */
    remove_file(dir, "e.ics");
    write_file(dir, "f.ics", CAL_HEAD "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261229\r\n"
                                      "X-CONVENE-DAY-TYPE:HOLIDAY\r\n");
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), -1);
    CHECK_EQ_INT(wc.ndays, 4);

    /* Fixed: the next load succeeds again. */
    remove_file(dir, "f.ics");
    remove_file(dir, "b.ics");
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), 0);
    CHECK_EQ_INT(wc.nfiles, 1);
    CHECK_EQ_INT(wc.ndays, 3);
    {
        struct local_time d = date_of("2026-12-31");
        CHECK_EQ_INT(workcal_is_working(&wc, &d, NULL, NULL), 1);
    }

    /* An empty directory: no special days. */
    remove_file(dir, "a.ics");
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), 0);
    CHECK_EQ_INT(wc.ndays, 0);
    CHECK_EQ_INT(wc.nfiles, 0);
    {
        struct local_time d = date_of("2026-12-24");
        const char *name = "unset";
        int special = -1;
        CHECK_EQ_INT(workcal_is_working(&wc, &d, &name, &special), 1);
        CHECK_EQ_INT(special, 0);
        CHECK(name == NULL);
    }
    check_rmdir(dir);

    /* A directory that does not exist: weekdays only (documented), not an error. */
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), 0);
    CHECK_EQ_INT(wc.ndays, 0);
    workcal_free(&wc);
}

/* ---------------- notices (the office loads a year itself) ---------------- */

/*
 * A notice for tests. The dates are the CONTRACT's example, not published
 * data: the repository ships no 2027 calendar.
 */
static struct workcal_holiday base_holidays[] = {
    {"元旦", "2026-12-31", "2027-01-02"}, /* may begin in the last days of the year before */
    {"春节", "2027-02-06", "2027-02-12"},
};
static char base_workdays[][WORKCAL_DATE_IN] = {"2027-02-20", "2027-01-03"};

static void base_notice(struct workcal_notice *n, struct workcal_holiday *h,
                        char (*w)[WORKCAL_DATE_IN])
{
    memcpy(h, base_holidays, sizeof(base_holidays));
    memcpy(w, base_workdays, sizeof(base_workdays));
    memset(n, 0, sizeof(*n));
    n->year = 2027;
    n->holidays = h;
    n->nholidays = 2;
    n->workdays = w;
    n->nworkdays = 2;
    n->updated_at = 1800000000;
}

static void test_notice_check_accepts(void)
{
    struct workcal_holiday h[WORKCAL_MAX_HOLIDAYS + 1];
    char w[WORKCAL_MAX_WORKDAYS + 1][WORKCAL_DATE_IN];
    struct workcal_notice n;
    struct workcal_error err;

    base_notice(&n, h, w);
    CHECK_EQ_INT(workcal_notice_check(&n, &err), 0);
    /* The earliest day allowed: 25 December of the year before (its last 7 days). */
    snprintf(h[0].from, sizeof(h[0].from), "2026-12-25");
    CHECK_EQ_INT(workcal_notice_check(&n, &err), 0);
    /* One-day holidays, no make-up days, a name of exactly 20 characters. */
    snprintf(h[0].to, sizeof(h[0].to), "2026-12-25");
    snprintf(h[1].name, sizeof(h[1].name), "一二三四五六七八九十一二三四五六七八九十");
    n.nworkdays = 0;
    CHECK_EQ_INT(workcal_notice_check(&n, &err), 0);
    /* The last day of the year; a make-up Sunday. */
    base_notice(&n, h, w);
    snprintf(h[1].from, sizeof(h[1].from), "2027-12-31");
    snprintf(h[1].to, sizeof(h[1].to), "2027-12-31");
    snprintf(w[0], WORKCAL_DATE_IN, "2027-02-21");
    CHECK_EQ_INT(workcal_notice_check(&n, &err), 0);
    /* A make-up Saturday in the year before's last days (元旦 of 2019 was arranged so). */
    snprintf(w[0], WORKCAL_DATE_IN, "2026-12-26");
    CHECK_EQ_INT(workcal_notice_check(&n, &err), 0);
}

/* Each mistake is refused with the field that holds it (CONTRACT section 11). */
static void test_notice_check_refuses(void)
{
    enum { H0_NAME, H0_FROM, H0_TO, H1_NAME, H1_FROM, H1_TO, W0, W1, YEAR, NHOL, NWORK };
    static const struct {
        int what;
        const char *value;
        const char *field;
        const char *code;
    } cases[] = {
        {YEAR, "1999", "year", "invalid"},
        {YEAR, "2200", "year", "invalid"},
        {NHOL, "0", "holidays", "required"},
        {NHOL, "41", "holidays", "invalid"},
        {NWORK, "41", "workdays", "invalid"},
        {H0_NAME, "", "holidays[0].name", "required"},
        {H1_NAME, "一二三四五六七八九十一二三四五六七八九十一", "holidays[1].name", "invalid"},
        {H1_NAME, "春\n节", "holidays[1].name", "invalid"},
        {H1_FROM, "2027-2-6", "holidays[1].from", "invalid"},
        {H1_FROM, "2027-02-30", "holidays[1].from", "invalid"},
        {H1_FROM, "", "holidays[1].from", "invalid"},
        {H1_FROM, "2027-02-06T00:00:00", "holidays[1].from", "invalid"},
        {H0_FROM, "2026-12-24", "holidays[0].from", "invalid"}, /* 8 days before */
        {H0_FROM, "2025-12-31", "holidays[0].from", "invalid"},
        {H1_TO, "2028-01-01", "holidays[1].to", "invalid"},
        {H1_TO, "2027-02-05", "holidays[1].to", "invalid"}, /* before from */
        {H0_TO, "2027-02-06", "holidays[1]", "invalid"},    /* the two overlap */
        {W0, "2027-02-17", "workdays[0]", "invalid"},       /* a Wednesday */
        {W0, "2027-02-06", "workdays[0]", "invalid"},       /* a Saturday of 春节 */
        {W0, "2026-12-19", "workdays[0]", "invalid"},       /* a Saturday of 2026, too early */
        {W0, "2028-01-01", "workdays[0]", "invalid"},       /* a Saturday of 2028 */
        {W0, "20270220", "workdays[0]", "invalid"},
        {W1, "2027-02-20", "workdays[1]", "invalid"},       /* listed twice */
        {W1, "2027-01-02", "workdays[1]", "invalid"},       /* a Saturday of 元旦 */
    };
    struct workcal_holiday h[WORKCAL_MAX_HOLIDAYS + 1];
    char w[WORKCAL_MAX_WORKDAYS + 1][WORKCAL_DATE_IN];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct workcal_notice n;
        struct workcal_error err;
        char *targets[] = {h[0].name, h[0].from, h[0].to, h[1].name, h[1].from, h[1].to,
                           w[0], w[1]};
        size_t caps[] = {sizeof(h[0].name), WORKCAL_DATE_IN, WORKCAL_DATE_IN,
                         sizeof(h[1].name), WORKCAL_DATE_IN, WORKCAL_DATE_IN,
                         WORKCAL_DATE_IN, WORKCAL_DATE_IN};

        base_notice(&n, h, w);
        memset(&err, 0, sizeof(err));
        if (cases[i].what == YEAR)
            n.year = atoi(cases[i].value);
        else if (cases[i].what == NHOL)
            n.nholidays = (size_t)atoi(cases[i].value);
        else if (cases[i].what == NWORK)
            n.nworkdays = (size_t)atoi(cases[i].value);
        else
            snprintf(targets[cases[i].what], caps[cases[i].what], "%s", cases[i].value);
        /* Counts past the base entries repeat valid, distinct days; the count alone is wrong. */
        for (size_t k = 2; k < n.nholidays && k <= WORKCAL_MAX_HOLIDAYS; k++)
            snprintf(h[k].name, sizeof(h[k].name), "%s", "x");
        int rc = workcal_notice_check(&n, &err);
        if (rc != -1 || err.code == NULL || strcmp(err.field, cases[i].field) != 0)
            fprintf(stderr, "    case %zu (%s): rc %d field '%s' message '%s'\n", i,
                    cases[i].value, rc, err.field, err.message);
        CHECK_EQ_INT(rc, -1);
        CHECK_EQ_STR(err.field, cases[i].field);
        CHECK_EQ_STR(err.code, cases[i].code);
        CHECK(err.message[0] != '\0');
    }
}

static void test_notice_days(void)
{
    struct workcal_holiday h[2];
    char w[2][WORKCAL_DATE_IN];
    struct workcal_notice n;
    struct workcal_day *days = NULL;
    size_t ndays = 0, cap = 0;

    base_notice(&n, h, w);
    workcal_notice_days(&n, &days, &ndays, &cap);
    CHECK_EQ_INT(ndays, 3 + 7 + 2);
    CHECK_EQ_STR(days[0].date, "2026-12-31");
    CHECK_EQ_INT(days[0].year, 2027);
    CHECK_EQ_INT(days[0].off, 1);
    CHECK_EQ_STR(days[0].name, "元旦");
    CHECK_EQ_STR(days[9].date, "2027-02-12");
    CHECK_EQ_STR(days[9].name, "春节");
    /* A make-up day is named after the nearest holiday. */
    CHECK_EQ_STR(days[10].date, "2027-02-20");
    CHECK_EQ_INT(days[10].off, 0);
    CHECK_EQ_STR(days[10].name, "春节调休上班");
    CHECK_EQ_STR(days[11].date, "2027-01-03");
    CHECK_EQ_STR(days[11].name, "元旦调休上班");
    CHECK_EQ_INT(days[11].source, WORKCAL_STORED);
    free(days);
}

/* The files of the repository plus loaded notices: a loaded year replaces the files' days. */
static void test_notices_merge_with_files(void)
{
    char dir[PATH_MAX], why[512];
    struct workcal wc;
    struct workcal_holiday h[2], h26[1] = {{"国庆节", "2026-10-01", "2026-10-08"}};
    char w[2][WORKCAL_DATE_IN];
    struct workcal_notice notices[2], got;
    struct local_time until;

    if (find_holidays_dir(dir, sizeof(dir)) != 0) {
        CHECK(0);
        return;
    }
    workcal_init(&wc);
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), 0);
    CHECK_EQ_INT(workcal_year_source(&wc, 2025), WORKCAL_FILES);
    CHECK_EQ_INT(workcal_year_source(&wc, 2026), WORKCAL_FILES);
    CHECK_EQ_INT(workcal_year_source(&wc, 2027), WORKCAL_NONE);
    CHECK_EQ_INT(workcal_covered_until(&wc, &until), 0);
    CHECK_EQ_INT(until.year * 10000 + until.month * 100 + until.day, 20261231);
    {
        struct local_time d = date_of("2026-12-31"), e = date_of("2027-01-01"),
                          f = date_of("2024-06-03");
        CHECK_EQ_INT(workcal_is_known(&wc, &d), 1);
        CHECK_EQ_INT(workcal_is_known(&wc, &e), 0);
        CHECK_EQ_INT(workcal_is_known(&wc, &f), 0); /* before the shipped data, too */
    }

    base_notice(&notices[0], h, w);
    memset(&notices[1], 0, sizeof(notices[1]));
    notices[1].year = 2026;
    notices[1].holidays = h26;
    notices[1].nholidays = 1;
    notices[1].updated_at = 1790000000;
    workcal_set_notices(&wc, notices, 2);
    {
        static const struct expect_day days[] = {
            {"2027-01-01", 0, 1, "元旦"},
            {"2026-12-31", 0, 1, "元旦"},      /* listed by the 2027 notice */
            {"2027-02-08", 0, 1, "春节"},      /* a Monday */
            {"2027-02-20", 1, 1, "春节调休上班"}, /* a Saturday */
            {"2027-02-13", 0, 0, NULL},        /* the Saturday after: an ordinary weekend */
            {"2026-10-08", 0, 1, "国庆节"},    /* the office's 2026 says so ... */
            {"2026-02-16", 1, 0, NULL},        /* ... and replaced the files' 春节 */
            {"2026-10-10", 0, 0, NULL},        /* and their make-up Saturday */
            {"2025-10-01", 0, 1, "国庆节、中秋节"}, /* 2025 still from the files */
        };
        check_days(&wc, days, sizeof(days) / sizeof(days[0]));
    }
    CHECK_EQ_INT(workcal_year_source(&wc, 2026), WORKCAL_STORED);
    CHECK_EQ_INT(workcal_year_source(&wc, 2027), WORKCAL_STORED);
    CHECK_EQ_INT(workcal_covered_until(&wc, &until), 0);
    CHECK_EQ_INT(until.year, 2027);
    CHECK_EQ_INT(workcal_changed_at(&wc), 1800000000);
    /* One entry per date, still sorted. */
    for (size_t i = 1; i < wc.ndays; i++)
        CHECK(strcmp(wc.days[i - 1].date, wc.days[i].date) < 0);

    /* The notice of a year as GET /workdays/{year} shows it: a loaded one as given. */
    CHECK_EQ_INT(workcal_notice_of_year(&wc, 2027, &got), 0);
    CHECK_EQ_INT(got.nholidays, 2);
    CHECK_EQ_STR(got.holidays[0].from, "2026-12-31");
    CHECK_EQ_STR(got.holidays[0].to, "2027-01-02");
    CHECK_EQ_STR(got.holidays[1].name, "春节");
    CHECK_EQ_STR(got.holidays[1].to, "2027-02-12");
    CHECK_EQ_INT(got.nworkdays, 2);
    CHECK_EQ_STR(got.workdays[0], "2027-02-20");
    CHECK_EQ_STR(got.workdays[1], "2027-01-03");
    CHECK_EQ_INT(got.updated_at, 1800000000);
    CHECK(got.holidays != h && got.workdays != w); /* a copy: the caller's arrays may go */
    workcal_notice_free(&got);
    /* Two holidays of one name side by side stay two, as loaded. */
    {
        struct workcal_holiday split[3] = {{"春节", "2027-02-06", "2027-02-08"},
                                           {"春节", "2027-02-09", "2027-02-12"},
                                           {"元旦", "2027-01-01", "2027-01-01"}};
        struct workcal_notice twice[3];
        twice[0] = notices[0];
        twice[1] = notices[1];
        twice[2] = notices[0];
        twice[2].holidays = split;
        twice[2].nholidays = 3;
        twice[2].nworkdays = 0;
        twice[2].updated_at = 1800000500;
        /* A year given twice keeps the last. */
        workcal_set_notices(&wc, twice, 3);
        CHECK_EQ_INT(workcal_notice_of_year(&wc, 2027, &got), 0);
        CHECK_EQ_INT(got.nholidays, 3);
        CHECK_EQ_STR(got.holidays[1].from, "2027-02-09");
        CHECK_EQ_INT(got.nworkdays, 0);
        CHECK_EQ_INT(got.updated_at, 1800000500);
        workcal_notice_free(&got);
        struct local_time d = date_of("2026-12-31"), e = date_of("2027-02-20");
        CHECK_EQ_INT(workcal_is_working(&wc, &d, NULL, NULL), 1); /* a Thursday again */
        CHECK_EQ_INT(workcal_is_working(&wc, &e, NULL, NULL), 0);
        workcal_set_notices(&wc, notices, 2);
    }
    /* From the files: runs of days off with one name become one holiday. */
    CHECK_EQ_INT(workcal_notice_of_year(&wc, 2025, &got), 0);
    CHECK_EQ_INT(got.nholidays, 6);
    CHECK_EQ_STR(got.holidays[1].name, "春节");
    CHECK_EQ_STR(got.holidays[1].from, "2025-01-28");
    CHECK_EQ_STR(got.holidays[1].to, "2025-02-04");
    CHECK_EQ_INT(got.nworkdays, 5);
    CHECK_EQ_INT(got.updated_at, 0);
    workcal_notice_free(&got);
    CHECK_EQ_INT(workcal_notice_of_year(&wc, 2028, &got), -1);
    workcal_notice_free(&got);

    /* Reloading the files keeps the notices; dropping the notices brings the files back. */
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), 0);
    CHECK_EQ_INT(workcal_year_source(&wc, 2027), WORKCAL_STORED);
    workcal_set_notices(&wc, NULL, 0);
    {
        static const struct expect_day days[] = {
            {"2026-02-16", 0, 1, "春节"},
            {"2026-10-10", 1, 1, "国庆节调休上班"},
            {"2027-02-08", 1, 0, NULL},
        };
        check_days(&wc, days, sizeof(days) / sizeof(days[0]));
    }
    CHECK_EQ_INT(workcal_year_source(&wc, 2027), WORKCAL_NONE);
    workcal_free(&wc);
}

/* A file's days belong to one notice when they lie within it; otherwise to their own years. */
static void test_file_notice_years(void)
{
    char dir[256], why[512];
    struct workcal wc;

    check_tmpdir(dir, sizeof(dir));
    workcal_init(&wc);
    write_file(dir, "y.ics",
               CAL_HEAD "BEGIN:VEVENT\r\nUID:1@t\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART;VALUE=DATE:20291229\r\nDTEND;VALUE=DATE:20300102\r\n"
                        "SUMMARY:元旦\r\nX-CONVENE-DAY-TYPE:HOLIDAY\r\nEND:VEVENT\r\n"
                        "BEGIN:VEVENT\r\nUID:2@t\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART;VALUE=DATE:20300202\r\nSUMMARY:春节\r\n"
                        "X-CONVENE-DAY-TYPE:HOLIDAY\r\nEND:VEVENT\r\n" CAL_TAIL);
    write_file(dir, "z.ics",
               CAL_HEAD "BEGIN:VEVENT\r\nUID:3@t\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART;VALUE=DATE:20320503\r\nSUMMARY:a\r\n"
                        "X-CONVENE-DAY-TYPE:HOLIDAY\r\nEND:VEVENT\r\n"
                        "BEGIN:VEVENT\r\nUID:4@t\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART;VALUE=DATE:20340503\r\nSUMMARY:b\r\n"
                        "X-CONVENE-DAY-TYPE:HOLIDAY\r\nEND:VEVENT\r\n" CAL_TAIL);
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), 0);
    CHECK_EQ_INT(workcal_year_source(&wc, 2030), WORKCAL_FILES);
    CHECK_EQ_INT(workcal_year_source(&wc, 2029), WORKCAL_NONE); /* 12-29..31 are 2030's */
    CHECK_EQ_INT(workcal_year_source(&wc, 2032), WORKCAL_FILES);
    CHECK_EQ_INT(workcal_year_source(&wc, 2033), WORKCAL_NONE);
    CHECK_EQ_INT(workcal_year_source(&wc, 2034), WORKCAL_FILES);
    {
        struct local_time listed = date_of("2029-12-30"), other = date_of("2029-12-20");
        CHECK_EQ_INT(workcal_is_known(&wc, &listed), 1);
        CHECK_EQ_INT(workcal_is_known(&wc, &other), 0);
    }
    CHECK(workcal_changed_at(&wc) > 0);
    remove_file(dir, "y.ics");
    remove_file(dir, "z.ics");
    check_rmdir(dir);
    workcal_free(&wc);
}

static int warning_for(const struct workcal *wc, const char *today, char *buf, size_t cap)
{
    struct local_time d = date_of(today);
    return workcal_warning(wc, &d, buf, cap);
}

static void test_warning(void)
{
    char dir[PATH_MAX], why[512], buf[1024];
    struct workcal wc;
    struct workcal_holiday h[2];
    char w[2][WORKCAL_DATE_IN];
    struct workcal_notice n;
    struct local_time until;

    workcal_init(&wc);
    /* No data at all: today is a guess, and that is said. */
    CHECK_EQ_INT(workcal_covered_until(&wc, &until), -1);
    CHECK_EQ_INT(warning_for(&wc, "2026-12-04", buf, sizeof(buf)), 1);
    CHECK(strstr(buf, "没有 2026 年的数据") != NULL);
    CHECK(strstr(buf, "PUT /api/v1/workdays/2026") != NULL);

    if (find_holidays_dir(dir, sizeof(dir)) != 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ_INT(workcal_load_dir(&wc, dir, why, sizeof(why)), 0);
    /* The shipped data ends on 2026-12-31: quiet until 60 days before, then what to do. */
    CHECK_EQ_INT(warning_for(&wc, "2026-10-31", buf, sizeof(buf)), 0);
    CHECK_EQ_STR(buf, "");
    CHECK_EQ_INT(warning_for(&wc, "2026-11-01", buf, sizeof(buf)), 1); /* 60 days before */
    CHECK(strstr(buf, "工作日历只到 2026-12-31（还有 61 天）") != NULL);
    CHECK_EQ_INT(warning_for(&wc, "2026-12-04", buf, sizeof(buf)), 1);
    CHECK(strstr(buf, "工作日历只到 2026-12-31（还有 28 天）") != NULL);
    CHECK(strstr(buf, "国务院办公厅发布 2027 年放假安排") != NULL);
    CHECK(strstr(buf, "PUT /api/v1/workdays/2027") != NULL);
    CHECK(strstr(buf, "convene calendar load") != NULL);
    CHECK(strstr(buf, "The working calendar ends on 2026-12-31 (in 28 days)") != NULL);
    CHECK_EQ_INT(warning_for(&wc, "2027-01-05", buf, sizeof(buf)), 1);
    CHECK(strstr(buf, "没有 2027 年的数据") != NULL);
    CHECK(strstr(buf, "no data for 2027") != NULL);

    /* Loading 2027 silences it until 60 days before the end of 2027. */
    base_notice(&n, h, w);
    workcal_set_notices(&wc, &n, 1);
    CHECK_EQ_INT(warning_for(&wc, "2026-12-04", buf, sizeof(buf)), 0);
    CHECK_EQ_INT(warning_for(&wc, "2027-10-31", buf, sizeof(buf)), 0);
    CHECK_EQ_INT(warning_for(&wc, "2027-11-15", buf, sizeof(buf)), 1);
    CHECK(strstr(buf, "2027-12-31") != NULL);
    CHECK(strstr(buf, "PUT /api/v1/workdays/2028") != NULL);

    /* A year missing in between is found although a later one is loaded. */
    n.year = 2028;
    snprintf(h[0].from, sizeof(h[0].from), "2028-01-01");
    snprintf(h[0].to, sizeof(h[0].to), "2028-01-01");
    snprintf(h[1].from, sizeof(h[1].from), "2028-01-25");
    snprintf(h[1].to, sizeof(h[1].to), "2028-01-27");
    n.nworkdays = 0;
    workcal_set_notices(&wc, &n, 1);
    CHECK_EQ_INT(workcal_covered_until(&wc, &until), 0);
    CHECK_EQ_INT(until.year, 2028);
    CHECK_EQ_INT(warning_for(&wc, "2026-12-04", buf, sizeof(buf)), 1);
    CHECK(strstr(buf, "2027 年放假安排") != NULL);
    workcal_free(&wc);
}

int main(void)
{
    test_default_hours();
    test_parse_hours_accepts();
    test_parse_hours_rejects();
    test_weekday_known();
    test_weekday_every_day();
    test_repo_calendars();
    test_crafted_dir();
    test_notice_check_accepts();
    test_notice_check_refuses();
    test_notice_days();
    test_notices_merge_with_files();
    test_file_notice_years();
    test_warning();
    return check_finish();
}
