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

int main(void)
{
    test_default_hours();
    test_parse_hours_accepts();
    test_parse_hours_rejects();
    test_weekday_known();
    test_weekday_every_day();
    test_repo_calendars();
    test_crafted_dir();
    return check_finish();
}
