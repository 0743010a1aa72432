/*
 * meals.c - serving times, meal days, cutoffs and head counts for the
 * catering summary. Pure: the configuration comes in, nothing is stored.
 */
#include "convene/meals.h"

#include "convene/recur.h"

#include <string.h>

static const struct {
    const char *meal;
    int minute;
} serving[] = {
    {"breakfast", 7 * 60 + 30},
    {"lunch", 12 * 60},
    {"dinner", 18 * 60},
};

int meals_minute(const char *meal)
{
    for (size_t i = 0; i < sizeof(serving) / sizeof(serving[0]); i++)
        if (strcmp(serving[i].meal, meal) == 0)
            return serving[i].minute;
    return MEALS_DEFAULT_MINUTE;
}

void meals_day(const struct local_time *start, const struct local_time *end, const char *meal,
               struct local_time *day)
{
    int minute = meals_minute(meal);
    struct local_time d = *start;

    d.hour = d.minute = d.second = 0;
    /* An occurrence lasts at most 31 days; the loop stops at its end anyway. */
    for (int i = 0; i <= 32; i++) {
        struct local_time served = d;
        served.hour = minute / 60;
        served.minute = minute % 60;
        if (recur_local_diff(&served, end) <= 0) /* served at or after the end */
            break;
        if (recur_local_diff(start, &served) >= 0) {
            *day = d;
            return;
        }
        recur_local_add(&d, 86400);
    }
    *day = *start;
    day->hour = day->minute = day->second = 0;
}

int meals_cutoff(const struct config *cfg, const char *meal, const struct local_time *day,
                 struct local_time *out)
{
    for (size_t i = 0; i < cfg->cutoff_count; i++) {
        const struct meal_cutoff *c = &cfg->cutoffs[i];
        if (strcmp(c->meal, meal) != 0)
            continue;
        *out = *day;
        out->hour = out->minute = out->second = 0;
        recur_local_add(out, (int64_t)c->day_offset * 86400 + (int64_t)c->minute * 60);
        return 0;
    }
    return -1;
}

int64_t meals_count(int64_t attending, int64_t guests, int64_t fixed)
{
    return fixed >= 0 ? fixed : attending + guests;
}

int meals_compare(const char *a, const char *b)
{
    int ma = meals_minute(a), mb = meals_minute(b);

    if (ma != mb)
        return ma < mb ? -1 : 1;
    return strcmp(a, b);
}
