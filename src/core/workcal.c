/*
 * workcal.c - the working calendar. The State Council's notices move
 * working days around holidays (a Saturday can be a working day), so
 * "weekday" alone is wrong several times a year; the special days are
 * data, loaded from iCalendar files the office can update without a
 * release.
 */
#include "convene/workcal.h"
#include "convene/util.h"

#include <dirent.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void workcal_init(struct workcal *wc)
{
    memset(wc, 0, sizeof(*wc));
    workcal_parse_hours(wc, "08:30-12:00,14:00-17:30");
}

void workcal_free(struct workcal *wc)
{
    free(wc->days);
    wc->days = NULL;
    wc->ndays = 0;
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

static int cmp_day(const void *a, const void *b)
{
    return strcmp(((const struct workcal_day *)a)->date, ((const struct workcal_day *)b)->date);
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

static int add_days(struct workcal *wc, size_t *cap, icalcomponent *ev, char *why, size_t whylen,
                    const char *file)
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
        if (wc->ndays == WORKCAL_MAX_DAYS) {
            snprintf(why, whylen, "%s: more than %d special days", file, WORKCAL_MAX_DAYS);
            return -1;
        }
        if (wc->ndays == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            wc->days = xrealloc(wc->days, *cap * sizeof(*wc->days));
        }
        struct workcal_day *day = &wc->days[wc->ndays++];
        struct local_time lt = {d.year, d.month, d.day, 0, 0, 0};
        time_date_format(&lt, day->date);
        day->off = off;
        snprintf(day->name, sizeof(day->name), "%s", summary ? summary : "");
    }
    return 0;
}

static int load_file(struct workcal *wc, size_t *cap, const char *path, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long len;
    icalcomponent *cal;
    int rc = 0;

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
    for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
         ev != NULL && rc == 0; ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
        rc = add_days(wc, cap, ev, why, whylen, path);
    icalcomponent_free(cal);
    icalerror_clear_errno();
    return rc;
}

int workcal_load_dir(struct workcal *wc, const char *dir, char *why, size_t whylen)
{
    struct workcal fresh = *wc;
    size_t cap = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t nnames = 0;

    fresh.days = NULL;
    fresh.ndays = 0;
    fresh.nfiles = 0;
    if (d == NULL) {
        log_info("working calendar: no directory %s, weekdays only", dir);
        workcal_free(wc);
        wc->nfiles = 0;
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
        if (rc == 0 && load_file(&fresh, &cap, path, why, whylen) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    if (rc != 0) {
        free(fresh.days);
        return -1; /* the calendar in use stays as it was */
    }
    /* No special days leaves days NULL, and qsort(NULL, 0, ...) is undefined (UBSan aborts). */
    if (fresh.ndays > 1)
        qsort(fresh.days, fresh.ndays, sizeof(fresh.days[0]), cmp_day);
    fresh.nfiles = nnames;
    workcal_free(wc);
    *wc = fresh;
    return 0;
}

int workcal_weekday(const struct local_time *date)
{
    /* Sakamoto's method, shifted so Monday is 0. */
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    int y = date->year - (date->month < 3);
    int sunday0 = (y + y / 4 - y / 100 + y / 400 + t[date->month - 1] + date->day) % 7;
    return (sunday0 + 6) % 7;
}

int workcal_is_working(const struct workcal *wc, const struct local_time *date,
                       const char **name, int *special)
{
    struct workcal_day key;
    const struct workcal_day *hit;

    time_date_format(date, key.date);
    hit = wc->ndays ? bsearch(&key, wc->days, wc->ndays, sizeof(key), cmp_day) : NULL;
    if (name != NULL)
        *name = hit ? hit->name : NULL;
    if (special != NULL)
        *special = hit != NULL;
    if (hit != NULL)
        return !hit->off;
    return workcal_weekday(date) < 5;
}
