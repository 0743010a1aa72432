/*
 * workcal.c - the working calendar in use by the process: the files of
 * <calendars>/holidays merged with the notices the office loaded into the
 * database. A notice loaded here (PUT /api/v1/workdays/{year}) takes
 * effect at once; one loaded by another process (`convene calendar load`
 * while the service runs) is noticed at the next request that reads the
 * calendar, through SQLite's data_version, as the token and record caches
 * notice other writers.
 */
#include "convene/app.h"
#include "convene/feed.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

int app_workcal_reload_stored(struct app *app)
{
    struct workcal_notice *notices = NULL;
    size_t n = 0;
    int64_t version = 0;

    /* Read the version first: a commit landing in between is seen again next time. */
    if (store_data_version(app->store, &version) != STORE_OK ||
        store_workcal_load(app->store, &notices, &n) != STORE_OK) {
        log_error("working calendar: cannot read the loaded notices; the calendar in use stays");
        return -1;
    }
    workcal_set_notices(&app->workcal, notices, n);
    for (size_t i = 0; i < n; i++)
        workcal_notice_free(&notices[i]);
    free(notices);
    app->workcal_data_version = version;
    if (app->feeds != NULL)
        feed_cache_invalidate(app->feeds, "holidays", "");
    return 0;
}

int app_load_workcal(struct app *app)
{
    char dir[CONFIG_PATH_MAX + 16], why[512], until[TIME_DATE_STR] = "none";
    struct local_time last;
    int stored = 0;

    snprintf(dir, sizeof(dir), "%s/holidays", app->cfg.calendars_dir);
    if (workcal_load_dir(&app->workcal, dir, why, sizeof(why)) != 0) {
        log_error("working calendar: %s", why);
        return -1;
    }
    if (app_workcal_reload_stored(app) != 0)
        return -1;
    for (int y = 0; y < WORKCAL_YEARS; y++)
        stored += app->workcal.stored_at[y] != 0;
    if (workcal_covered_until(&app->workcal, &last) == 0)
        time_date_format(&last, until);
    log_info("working calendar: %zu special days from %zu files in %s and %d years loaded "
             "into the database, known until %s",
             app->workcal.ndays, app->workcal.nfiles, dir, stored, until);
    return 0;
}

const struct workcal *app_workcal(struct app *app)
{
    int64_t version;

    /*
     * Only another process's commit moves data_version; ours reload
     * directly. On a read error the calendar in use is still right but for
     * that writer's change, so it is kept.
     */
    if (store_data_version(app->store, &version) == STORE_OK &&
        version != app->workcal_data_version)
        app_workcal_reload_stored(app);
    return &app->workcal;
}

void app_today(const struct app *app, struct local_time *today)
{
    time_utc_to_local(clock_wall_s(), app->cfg.tz, today);
    today->hour = today->minute = today->second = 0;
}

int app_workcal_warning(struct app *app, char *buf, size_t cap)
{
    struct local_time today;

    app_today(app, &today);
    return workcal_warning(app_workcal(app), &today, buf, cap);
}

int64_t app_workcal_covered_until_utc(struct app *app)
{
    struct local_time last;
    int64_t utc;

    if (workcal_covered_until(app_workcal(app), &last) != 0)
        return 0;
    /* The calendar covers all of its last day: it runs out at the next midnight, office time. */
    last.hour = 23;
    last.minute = 59;
    last.second = 59;
    if (time_local_to_utc(&last, app->cfg.tz, &utc) == TIME_BAD_ZONE)
        return 0;
    return utc + 1;
}
