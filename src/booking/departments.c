/*
 * departments.c - a department and its leader in charge (分管领导, CONTRACT
 * section 12): the leader a budget of the middle tier goes to. What a
 * department may hold is checked here, beside the approvals that read it,
 * so the HTTP handler only parses and renders.
 */
#include "plan.h"

#include "convene/booking.h"
#include "convene/record.h"
#include "convene/store.h"

#include <stdio.h>
#include <string.h>

#define DEPARTMENT_NAME_MAX 200

/* in_charge must name a person on record (a deleted one no longer can). */
static int check_in_charge(struct app *app, const char *person, struct booking_error *err)
{
    int rc = store_record_exists(app->store, &record_person, person);

    if (rc == STORE_NOTFOUND)
        return booking_error_set(err, BOOKING_INVALID, "unknown_id", "in_charge",
                                 "no person with id '%s'", person);
    if (rc != STORE_OK)
        return booking_error_set(err, BOOKING_STORAGE, "storage", NULL, "the database failed");
    return 0;
}

int booking_department_apply(struct app *app, json_t *body, struct department_row *d,
                             int creating, struct booking_error *err)
{
    static const char *const members[] = {"name", "in_charge", NULL};
    const char *name = NULL, *person = NULL;
    json_t *ic = json_object_get(body, "in_charge");

    if (plan_only_members(body, members, err) != 0 ||
        plan_member_string(body, "name", creating, DEPARTMENT_NAME_MAX, &name, err) < 0 ||
        (!json_is_null(ic) &&
         plan_member_string(body, "in_charge", 0, ID_STR_MAX - 1, &person, err) < 0))
        return -1;
    if (name != NULL && name[0] == '\0')
        return booking_error_set(err, BOOKING_INVALID, "invalid", "name",
                                 "'name' must not be empty");
    if (person != NULL && check_in_charge(app, person, err) != 0)
        return -1;
    if (name != NULL)
        snprintf(d->name, sizeof(d->name), "%s", name);
    if (ic != NULL)
        snprintf(d->in_charge, sizeof(d->in_charge), "%s", person ? person : "");
    return 0;
}

int booking_department_save(struct app *app, const struct department_row *d, int creating,
                            struct booking_error *err)
{
    int rc = creating ? store_department_insert(app->store, d)
                      : store_department_update(app->store, d);

    if (rc == STORE_DUPLICATE)
        return booking_error_set(err, BOOKING_CONFLICT, "name_taken", "name",
                                 "a department named '%s' exists", d->name);
    if (rc != STORE_OK)
        return booking_error_set(err, BOOKING_STORAGE, "storage", NULL, "the database failed");
    return 0;
}
