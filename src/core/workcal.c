/*
 * workcal.c - the working calendar. The State Council's notices move
 * working days around holidays (a Saturday can be a working day), so
 * "weekday" alone is wrong several times a year; the special days are
 * data: iCalendar files shipped with a release, and the notices an office
 * loads itself (kept in the database, handed in by the caller), so a new
 * year's holidays need no release.
 */
#include "convene/workcal.h"
#include "convene/util.h"

#include <dirent.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void workcal_init(struct workcal *wc)
{
    memset(wc, 0, sizeof(*wc));
    workcal_parse_hours(wc, "08:30-12:00,14:00-17:30");
}

static void free_notices(struct workcal *wc)
{
    for (size_t i = 0; i < wc->nnotices; i++)
        workcal_notice_free(&wc->notices[i]);
    free(wc->notices);
    wc->notices = NULL;
    wc->nnotices = 0;
}

void workcal_free(struct workcal *wc)
{
    free_notices(wc);
    free(wc->days);
    free(wc->file_days);
    free(wc->stored_days);
    wc->days = wc->file_days = wc->stored_days = NULL;
    wc->ndays = wc->nfile_days = wc->nstored_days = 0;
    memset(wc->stored_at, 0, sizeof(wc->stored_at));
    memset(wc->known_year, 0, sizeof(wc->known_year));
}

static int parse_hhmm(const char *s, int *minute)
{
    int64_t h, m;

    if (parse_int64_n(s, 2, 0, 24, &h) != 0 || s[2] != ':' ||
        parse_int64_n(s + 3, 2, 0, 59, &m) != 0 || (h == 24 && m != 0))
        return -1;
    *minute = (int)(h * 60 + m);
    return 0;
}

int workcal_parse_hours(struct workcal *wc, const char *spec)
{
    int periods[WORKCAL_MAX_PERIODS][2];
    size_t n = 0;
    const char *p = spec;

    for (;;) {
        if (n == WORKCAL_MAX_PERIODS || strlen(p) < 11 || p[5] != '-' ||
            parse_hhmm(p, &periods[n][0]) != 0 || parse_hhmm(p + 6, &periods[n][1]) != 0 ||
            periods[n][1] <= periods[n][0] || (n > 0 && periods[n][0] < periods[n - 1][1]))
            return -1;
        n++;
        p += 11;
        if (*p == '\0')
            break;
        if (*p != ',')
            return -1;
        p++;
    }
    memcpy(wc->periods, periods, sizeof(periods[0]) * n);
    wc->nperiods = n;
    return 0;
}

/* Index into the per-year tables, or -1 outside them. */
static int year_index(int year)
{
    return year >= 1970 && year <= WORKCAL_YEAR_MAX ? year - 1970 : -1;
}

static int cmp_day(const void *a, const void *b)
{
    return strcmp(((const struct workcal_day *)a)->date, ((const struct workcal_day *)b)->date);
}

/*
 * Orders the days of every source by date and, within a date, puts first
 * the one that decides it: a loaded notice over the files, then a holiday
 * over a working day (two files disagreeing is a mistake; a day off is the
 * safer reading of it).
 */
static int cmp_day_rank(const void *a, const void *b)
{
    const struct workcal_day *x = a, *y = b;
    int c = strcmp(x->date, y->date);

    if (c != 0)
        return c;
    if (x->source != y->source)
        return x->source == WORKCAL_STORED ? -1 : 1;
    return y->off - x->off;
}

/* Rebuilds the days in use and the known years from both sources. */
static void workcal_merge(struct workcal *wc)
{
    size_t n = 0, total = wc->nfile_days + wc->nstored_days;
    struct workcal_day *all = total ? xmalloc(total * sizeof(*all)) : NULL;

    memset(wc->known_year, 0, sizeof(wc->known_year));
    for (size_t i = 0; i < wc->nfile_days; i++) {
        int y = year_index(wc->file_days[i].year);
        if (y >= 0 && wc->stored_at[y] != 0)
            continue; /* the office loaded this year's notice itself */
        if (y >= 0)
            wc->known_year[y] = 1;
        all[n++] = wc->file_days[i];
    }
    for (size_t i = 0; i < wc->nstored_days; i++)
        all[n++] = wc->stored_days[i];
    for (int y = 0; y < WORKCAL_YEARS; y++)
        if (wc->stored_at[y] != 0)
            wc->known_year[y] = 1;
    /* qsort(NULL, 0, ...) is undefined (UBSan aborts). */
    if (n > 1)
        qsort(all, n, sizeof(*all), cmp_day_rank);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (kept == 0 || strcmp(all[kept - 1].date, all[i].date) != 0)
            all[kept++] = all[i];
    free(wc->days);
    wc->days = all;
    wc->ndays = kept;
}

/* HOLIDAY -> 1, WORKDAY -> 0, unknown -> -1. */
static int day_type(icalcomponent *ev)
{
    for (icalproperty *p = icalcomponent_get_first_property(ev, ICAL_X_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(ev, ICAL_X_PROPERTY)) {
        const char *name = icalproperty_get_x_name(p), *value = icalproperty_get_x(p);
        if (name != NULL && value != NULL && strcmp(name, "X-CONVENE-DAY-TYPE") == 0)
            return strcmp(value, "HOLIDAY") == 0 ? 1 : strcmp(value, "WORKDAY") == 0 ? 0 : -1;
    }
    icalproperty *c = icalcomponent_get_first_property(ev, ICAL_CATEGORIES_PROPERTY);
    const char *cat = c ? icalproperty_get_categories(c) : NULL;
    if (cat != NULL && strstr(cat, "HOLIDAY") != NULL)
        return 1;
    if (cat != NULL && strstr(cat, "WORKDAY") != NULL)
        return 0;
    return -1;
}

/* A growing array of days. */
struct day_list {
    struct workcal_day *v;
    size_t n, cap;
};

static struct workcal_day *day_push(struct day_list *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    return &l->v[l->n++];
}

static int add_days(struct day_list *l, size_t total, icalcomponent *ev, char *why,
                    size_t whylen, const char *file)
{
    struct icaltimetype start = icalcomponent_get_dtstart(ev);
    struct icaltimetype end = icalcomponent_get_dtend(ev);
    const char *summary = icalcomponent_get_summary(ev);
    int off = day_type(ev);

    if (off < 0)
        return 0; /* not a day-type event: ignore */
    if (icaltime_is_null_time(start) || !start.is_date) {
        snprintf(why, whylen, "%s: a holiday event needs an all-day DTSTART", file);
        return -1;
    }
    if (icaltime_is_null_time(end)) {
        end = start;
        icaltime_adjust(&end, 1, 0, 0, 0);
    }
    for (struct icaltimetype d = start; icaltime_compare_date_only(d, end) < 0;
         icaltime_adjust(&d, 1, 0, 0, 0)) {
        if (total + l->n == WORKCAL_MAX_DAYS) {
            snprintf(why, whylen, "%s: more than %d special days", file, WORKCAL_MAX_DAYS);
            return -1;
        }
        struct workcal_day *day = day_push(l);
        struct local_time lt = {d.year, d.month, d.day, 0, 0, 0};
        memset(day, 0, sizeof(*day));
        time_date_format(&lt, day->date);
        day->off = off;
        day->year = d.year;
        day->source = WORKCAL_FILES;
        snprintf(day->name, sizeof(day->name), "%s", summary ? summary : "");
    }
    return 0;
}

/*
 * Which notice a file's days belong to. A file is normally one year's
 * notice, and a notice's 元旦 may begin in the last days of December: when
 * every day lies between WORKCAL_LEAD_DAYS before a year and that year's
 * end, they all belong to that year. Otherwise (a calendar from elsewhere
 * spanning years) each day belongs to its own year.
 */
static void assign_years(struct workcal_day *days, size_t n)
{
    char first[TIME_DATE_STR] = "9999", lead[TIME_DATE_STR];
    int last_year = 0;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(days[i].date, first) < 0)
            memcpy(first, days[i].date, sizeof(first));
        if (days[i].year > last_year)
            last_year = days[i].year;
    }
    struct local_time lead_day = {last_year - 1, 12, 32 - WORKCAL_LEAD_DAYS, 0, 0, 0};
    time_date_format(&lead_day, lead);
    if (n > 0 && strcmp(first, lead) >= 0)
        for (size_t i = 0; i < n; i++)
            days[i].year = last_year;
}

static int load_file(struct day_list *l, const char *path, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long len;
    icalcomponent *cal;
    int rc = 0;
    size_t before = l->n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > 4 * 1024 * 1024) {
        snprintf(why, whylen, "%s: cannot read (or larger than 4 MiB)", path);
        if (f)
            fclose(f);
        return -1;
    }
    rewind(f);
    text = xmalloc((size_t)len + 1);
    text[fread(text, 1, (size_t)len, f)] = '\0';
    fclose(f);
    cal = icalparser_parse_string(text);
    free(text);
    /*
     * Two VCALENDARs in one file (e.g. `cat cn-*.ics > all.ics`) parse as an
     * XROOT whose VEVENTs are grandchildren, so the loop below would find
     * none and the file's holidays would vanish without a word. Refuse any
     * root but one VCALENDAR, as the importer does.
     */
    if (cal == NULL || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
        snprintf(why, whylen, "%s: not an iCalendar file (one VCALENDAR)", path);
        icalcomponent_free(cal);
        icalerror_clear_errno();
        return -1;
    }
    /* Days of this file are appended after `before`; add_days counts them into the cap. */
    struct day_list mine = {NULL, 0, 0};
    for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
         ev != NULL && rc == 0; ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
        rc = add_days(&mine, before, ev, why, whylen, path);
    icalcomponent_free(cal);
    icalerror_clear_errno();
    if (rc == 0) {
        assign_years(mine.v, mine.n);
        for (size_t i = 0; i < mine.n; i++)
            *day_push(l) = mine.v[i];
    }
    free(mine.v);
    return rc;
}

static int64_t mtime_of(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (int64_t)st.st_mtime : 0;
}

int workcal_load_dir(struct workcal *wc, const char *dir, char *why, size_t whylen)
{
    struct day_list fresh = {NULL, 0, 0};
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t nnames = 0;
    int64_t changed = mtime_of(dir);

    if (d == NULL) {
        log_info("working calendar: no directory %s, no files", dir);
        free(wc->file_days);
        wc->file_days = NULL;
        wc->nfile_days = wc->nfiles = 0;
        wc->files_changed_at = 0;
        workcal_merge(wc);
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".ics") == 0) {
            names = xrealloc(names, (nnames + 1) * sizeof(*names));
            names[nnames++] = xstrdup(e->d_name);
        }
    }
    closedir(d);
    int rc = 0;
    for (size_t i = 0; i < nnames; i++) {
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (rc == 0 && load_file(&fresh, path, why, whylen) != 0)
            rc = -1;
        if (mtime_of(path) > changed)
            changed = mtime_of(path);
        free(names[i]);
    }
    free(names);
    if (rc != 0) {
        free(fresh.v);
        return -1; /* the calendar in use stays as it was */
    }
    free(wc->file_days);
    wc->file_days = fresh.v;
    wc->nfile_days = fresh.n;
    wc->nfiles = nnames;
    wc->files_changed_at = changed;
    workcal_merge(wc);
    return 0;
}

void workcal_set_notices(struct workcal *wc, const struct workcal_notice *notices, size_t n)
{
    struct workcal_day *days = NULL;
    size_t ndays = 0, cap = 0;

    memset(wc->stored_at, 0, sizeof(wc->stored_at));
    free_notices(wc);
    wc->notices = n ? xcalloc(n, sizeof(*wc->notices)) : NULL;
    for (size_t i = 0; i < n; i++) {
        int y = year_index(notices[i].year);
        if (y < 0)
            continue;
        /* A year given twice keeps the last: drop the days and copy of the earlier one. */
        if (wc->stored_at[y] != 0) {
            size_t kept = 0;
            for (size_t k = 0; k < ndays; k++)
                if (days[k].year != notices[i].year)
                    days[kept++] = days[k];
            ndays = kept;
            for (size_t k = 0; k < wc->nnotices; k++)
                if (wc->notices[k].year == notices[i].year) {
                    workcal_notice_free(&wc->notices[k]);
                    wc->notices[k] = wc->notices[--wc->nnotices];
                    break;
                }
        }
        wc->stored_at[y] = notices[i].updated_at > 0 ? notices[i].updated_at : 1;
        workcal_notice_days(&notices[i], &days, &ndays, &cap);
        workcal_notice_copy(&notices[i], &wc->notices[wc->nnotices++]);
        wc->notices[wc->nnotices - 1].updated_at = wc->stored_at[y];
    }
    free(wc->stored_days);
    wc->stored_days = days;
    wc->nstored_days = ndays;
    workcal_merge(wc);
}

int workcal_weekday(const struct local_time *date)
{
    /* Sakamoto's method, shifted so Monday is 0. */
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    int y = date->year - (date->month < 3);
    int sunday0 = (y + y / 4 - y / 100 + y / 400 + t[date->month - 1] + date->day) % 7;
    return (sunday0 + 6) % 7;
}

static const struct workcal_day *find_day(const struct workcal *wc, const struct local_time *date)
{
    struct workcal_day key;

    time_date_format(date, key.date);
    return wc->ndays ? bsearch(&key, wc->days, wc->ndays, sizeof(key), cmp_day) : NULL;
}

int workcal_is_working(const struct workcal *wc, const struct local_time *date,
                       const char **name, int *special)
{
    const struct workcal_day *hit = find_day(wc, date);

    if (name != NULL)
        *name = hit ? hit->name : NULL;
    if (special != NULL)
        *special = hit != NULL;
    if (hit != NULL)
        return !hit->off;
    return workcal_weekday(date) < 5;
}

int workcal_is_known(const struct workcal *wc, const struct local_time *date)
{
    int y = year_index(date->year);

    return (y >= 0 && wc->known_year[y]) || find_day(wc, date) != NULL;
}

enum workcal_source workcal_year_source(const struct workcal *wc, int year)
{
    int y = year_index(year);

    if (y < 0 || !wc->known_year[y])
        return WORKCAL_NONE;
    return wc->stored_at[y] != 0 ? WORKCAL_STORED : WORKCAL_FILES;
}

int64_t workcal_changed_at(const struct workcal *wc)
{
    int64_t newest = wc->files_changed_at;

    for (int y = 0; y < WORKCAL_YEARS; y++)
        if (wc->stored_at[y] > newest)
            newest = wc->stored_at[y];
    return newest;
}

int workcal_covered_until(const struct workcal *wc, struct local_time *out)
{
    for (int y = WORKCAL_YEARS - 1; y >= 0; y--) {
        if (wc->known_year[y]) {
            *out = (struct local_time){1970 + y, 12, 31, 0, 0, 0};
            return 0;
        }
    }
    return -1;
}

static void next_day(struct local_time *d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (d->year % 4 == 0 && d->year % 100 != 0) || d->year % 400 == 0;

    if (d->day < mdays[d->month - 1] + (d->month == 2 && leap)) {
        d->day++;
    } else if (d->month < 12) {
        d->month++;
        d->day = 1;
    } else {
        d->year++;
        d->month = d->day = 1;
    }
}

int workcal_warning(const struct workcal *wc, const struct local_time *today, char *buf,
                    size_t cap)
{
    struct local_time day = {today->year, today->month, today->day, 0, 0, 0};
    char last[TIME_DATE_STR], first_gap[TIME_DATE_STR];
    int ahead = 0;

    buf[0] = '\0';
    /* The last known day is today + ahead - 1: warn while that is at most WARN_DAYS away. */
    while (ahead <= WORKCAL_WARN_DAYS + 1 && workcal_is_known(wc, &day)) {
        next_day(&day);
        ahead++;
    }
    if (ahead > WORKCAL_WARN_DAYS + 1)
        return 0;
    time_date_format(&day, first_gap);
    if (ahead == 0) {
        /* Today itself is guessed: say so plainly, the office is working from it now. */
        snprintf(buf, cap,
                 "工作日历没有 %d 年的数据，现按周一至周五计算工作日（节假日和调休未计入）："
                 "请用 PUT /api/v1/workdays/%d 或 convene calendar load 载入国务院办公厅公布的"
                 " %d 年放假安排。The working calendar has no data for %d: working days are "
                 "counted Monday to Friday, without holidays or make-up days; load the State "
                 "Council's %d arrangement (PUT /api/v1/workdays/%d or convene calendar load).",
                 day.year, day.year, day.year, day.year, day.year, day.year);
        return 1;
    }
    /* The day before the gap is the last known one. */
    struct local_time prev = {today->year, today->month, today->day, 0, 0, 0};
    for (int i = 1; i < ahead; i++)
        next_day(&prev);
    time_date_format(&prev, last);
    snprintf(buf, cap,
             "工作日历只到 %s（还有 %d 天），请在国务院办公厅发布 %d 年放假安排后用 "
             "PUT /api/v1/workdays/%d 或 convene calendar load 载入；在此之前，%s 起按周一至周五"
             "计算工作日。The working calendar ends on %s (in %d days): load the %d holidays "
             "(PUT /api/v1/workdays/%d or convene calendar load) once the State Council "
             "publishes them; until then days from %s count Monday to Friday as working days.",
             last, ahead, day.year, day.year, first_gap, last, ahead, day.year, day.year,
             first_gap);
    return 1;
}
