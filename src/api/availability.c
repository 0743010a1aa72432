/*
 * availability.c - GET /api/v1/freebusy (merged busy intervals per
 * resource, like Google's freebusy.query) and POST /api/v1/availability
 * (find a time: the search is the booking layer's, booking/slots.c).
 */
#include "handlers.h"

#include "convene/body.h"
#include "convene/recur.h"
#include "convene/slots.h"
#include "convene/store.h"
#include "convene/util.h"
#include "convene/workcal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FREEBUSY_MAX_DAYS 366
#define MAX_IDS 50

/* Splits "a,b,c" into at most MAX_IDS ids checked against the store. */
static int id_list(struct api_call *call, const char *param, const struct record_type *type,
                   json_t **out)
{
    char buf[MAX_IDS * ID_STR_MAX];
    int rc = api_query_param(call, param, buf, sizeof(buf));

    *out = json_array();
    if (rc <= 0)
        return rc;
    for (char *save = NULL, *id = strtok_r(buf, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        if (store_record_exists(call->app->store, type, id) != STORE_OK) {
            api_reply_error(call, 422, "unknown_id", param, "no %s with id '%s'", type->kind, id);
            return -1;
        }
        json_array_append_new(*out, json_string(id));
    }
    return 1;
}

void api_freebusy(struct api_call *call)
{
    static const struct {
        const char *param;
        const struct record_type *type;
    } kinds[] = {{"people", &record_person}, {"rooms", &record_room}, {"vehicles", &record_vehicle}};
    struct local_time from, to;
    char tz[64];
    int64_t from_utc, to_utc;
    json_t *busy = json_object();
    int rc;

    snprintf(tz, sizeof(tz), "%s", call->app->cfg.tz);
    if ((rc = api_query_param(call, "tz", tz, sizeof(tz))) < 0 ||
        (rc == 1 && !time_zone_valid(tz) &&
         (api_reply_error(call, 422, "invalid", "tz", "unknown time zone"), 1)) ||
        api_date_range(call, &from, &to, FREEBUSY_MAX_DAYS) != 0) {
        json_decref(busy);
        return;
    }
    recur_local_add(&to, 86400);
    time_local_to_utc(&from, tz, &from_utc);
    time_local_to_utc(&to, tz, &to_utc);
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
        json_t *ids, *id, *per = json_object();
        size_t i;
        if (id_list(call, kinds[k].param, kinds[k].type, &ids) < 0) {
            json_decref(ids);
            json_decref(per);
            json_decref(busy);
            return;
        }
        json_array_foreach(ids, i, id) {
            struct interval_set set = {0};
            json_t *list = json_array();
            if (booking_busy_of(call->app, kinds[k].type->kind, json_string_value(id), from_utc, to_utc,
                        &set) != 0) {
                intervals_free(&set);
                json_decref(list);
                json_decref(ids);
                json_decref(per);
                json_decref(busy);
                api_reply_store_error(call);
                return;
            }
            for (size_t j = 0; j < set.n; j++)
                json_array_append_new(list, booking_render_interval(set.v[j].start, set.v[j].end, tz));
            json_object_set_new(per, json_string_value(id), json_pack("{s:o}", "busy", list));
            intervals_free(&set);
        }
        json_object_set_new(busy, kinds[k].param, per);
        json_decref(ids);
    }
    api_reply_json(call, 200, json_pack("{s:s, s:o}", "tz", tz, "calendars", busy), -1);
}

/* ---------------- finding a time ---------------- */

/* Parse, search (booking/slots.c), render. */
void api_availability(struct api_call *call)
{
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};
    json_t *body = api_body_object(call), *out;

    if (body == NULL)
        return;
    events_call_ctx(call, &actor, &ctx);
    if (booking_find_slots(&ctx, body, &out, &err) == 0)
        api_reply_json(call, 200, out, -1);
    else
        api_reply_booking_error(call, &err);
    booking_error_clear(&err);
}
