/*
 * meals.h - the canteen's arithmetic (统一订餐, CONTRACT section 6), pure:
 * when a meal is served, which local day an occurrence's meal belongs to,
 * its order cutoff, and how many it feeds. The store keeps the counts
 * (api/catering_sync.c); this file only decides them.
 */
#ifndef CONVENE_MEALS_H
#define CONVENE_MEALS_H

#include <stdint.h>

#include "convene/config.h"
#include "convene/timeutil.h"

#define MEALS_DEFAULT_MINUTE (12 * 60) /* a meal with no known serving time: noon */

/* Minutes after local midnight a meal is served: breakfast 07:30, lunch 12:00, dinner 18:00. */
int meals_minute(const char *meal);

/*
 * The local day a meal of an occurrence from start to end belongs to: the
 * first day whose serving time falls within the occurrence, else the day
 * it starts (a 09:00-11:00 meeting with lunch eats on its own day; one from
 * 20:00 to 09:00 the next day has breakfast on that next day).
 */
void meals_day(const struct local_time *start, const struct local_time *end, const char *meal,
               struct local_time *day);

/*
 * The order cutoff of meal on day, as a local wall time (--cutoff
 * lunch=10:00, breakfast=-1d18:00). 0, or -1 when the meal has no cutoff.
 */
int meals_cutoff(const struct config *cfg, const char *meal, const struct local_time *day,
                 struct local_time *out);

/* Heads fed: attendees who have not declined plus guests, or `fixed` when it is >= 0. */
int64_t meals_count(int64_t attending, int64_t guests, int64_t fixed);

/* Orders meals as served in a day: by serving time, then by name. */
int meals_compare(const char *a, const char *b);

#endif
