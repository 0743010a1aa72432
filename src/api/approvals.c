/*
 * approvals.c - CONTRACT section 12 over HTTP: the approval rules
 * (admin), the approvals list and a decision, and the departments with
 * their in-charge leaders (admin CRUD). The rules of approving live in
 * src/booking/approvals.c; here requests are parsed, the layer called and
 * its answer rendered. What a department may hold is checked in
 * src/booking/departments.c.
 */
#include "handlers.h"

#include "convene/booking.h"
#include "convene/store.h"
#include "convene/token.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- rules ---------------- */

void api_approval_rules_get(struct api_call *call)
{
    struct booking_error err = {0};
    json_t *out = NULL;
    int rc = booking_approval_rules_get(call->app, &out, &err);

    api_reply_booking(call, rc, 200, out, &err);
}

void api_approval_rules_put(struct api_call *call)
{
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};
    json_t *body = api_body_object(call), *out = NULL;
    int rc;

    if (body == NULL)
        return;
    events_call_ctx(call, &actor, &ctx);
    rc = booking_approval_rules_put(&ctx, body, &out, &err);
    api_reply_booking(call, rc, 200, out, &err);
}

void api_approval_rules_delete(struct api_call *call)
{
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};
    json_t *out;

    events_call_ctx(call, &actor, &ctx);
    if (booking_approval_rules_put(&ctx, NULL, &out, &err) == 0)
        api_reply_empty(call, 204);
    else
        api_reply_booking_error(call, &err);
    booking_error_clear(&err);
}

/* ---------------- approvals ---------------- */

void api_approvals_list(struct api_call *call)
{
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};
    char status[16], approver[ID_STR_MAX];
    int has_status, has_approver, rc;
    json_t *out = NULL;

    if ((has_status = api_query_param(call, "status", status, sizeof(status))) < 0 ||
        (has_approver = api_query_param(call, "approver", approver, sizeof(approver))) < 0)
        return;
    events_call_ctx(call, &actor, &ctx);
    rc = booking_approvals_list(&ctx, has_status ? status : NULL, has_approver ? approver : NULL,
                                &out, &err);
    api_reply_booking(call, rc, 200, out, &err);
}

void api_approvals_decide(struct api_call *call)
{
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};
    json_t *body = api_body_object(call), *out = NULL;
    int rc;

    if (body == NULL)
        return;
    events_call_ctx(call, &actor, &ctx);
    rc = booking_approval_decide(&ctx, call->params[0], body, &out, &err);
    api_reply_booking(call, rc, 200, out, &err);
}

/* ---------------- departments ---------------- */

static json_t *department_render(const struct department_row *d)
{
    char created[TIME_UTC_STR], updated[TIME_UTC_STR];

    time_utc_format(d->created_at, created);
    time_utc_format(d->updated_at, updated);
    return json_pack("{s:s, s:s, s:o, s:I, s:s, s:s}", "id", d->id, "name", d->name, "in_charge",
                     d->in_charge[0] ? json_string(d->in_charge) : json_null(), "version",
                     (json_int_t)d->version, "created_at", created, "updated_at", updated);
}

/* Applies body's members to d (booking_department_apply); 0, or -1 after replying. */
static int department_apply(struct api_call *call, json_t *body, struct department_row *d,
                            int creating)
{
    struct booking_error err = {0};
    int rc = booking_department_apply(call->app, body, d, creating, &err);

    if (rc != 0)
        api_reply_booking_error(call, &err);
    booking_error_clear(&err);
    return rc;
}

/* Writes d (insert or update) and answers with it. */
static void department_write(struct api_call *call, struct department_row *d, int creating)
{
    struct booking_error err = {0};

    if (booking_department_save(call->app, d, creating, &err) != 0)
        api_reply_booking_error(call, &err);
    else
        api_reply_json(call, creating ? 201 : 200, department_render(d), d->version);
    booking_error_clear(&err);
}

void api_departments_create(struct api_call *call)
{
    json_t *body = api_body_object(call);
    struct department_row d;

    if (body == NULL)
        return;
    memset(&d, 0, sizeof(d));
    if (department_apply(call, body, &d, 1) != 0)
        return;
    token_id_generate("dep", d.id);
    d.version = 1;
    d.created_at = d.updated_at = clock_wall_s();
    department_write(call, &d, 1);
}

static int collect_department(const struct department_row *d, void *arg)
{
    json_array_append_new(arg, department_render(d));
    return 0;
}

void api_departments_list(struct api_call *call)
{
    json_t *out = json_array();

    if (store_departments_list(call->app->store, collect_department, out) != STORE_OK) {
        json_decref(out);
        api_reply_store_error(call);
        return;
    }
    api_reply_json(call, 200, out, -1);
}

/* Loads the department of the path; 0, or -1 after replying 404/500. */
static int department_load(struct api_call *call, struct department_row *d)
{
    int rc = store_department_get(call->app->store, call->params[0], d);

    if (rc == STORE_NOTFOUND)
        api_reply_error(call, 404, "not_found", NULL, "no department with id '%s'",
                        call->params[0]);
    else if (rc != STORE_OK)
        api_reply_store_error(call);
    return rc == STORE_OK ? 0 : -1;
}

void api_departments_get(struct api_call *call)
{
    struct department_row d;

    if (department_load(call, &d) == 0)
        api_reply_json(call, 200, department_render(&d), d.version);
}

void api_departments_patch(struct api_call *call)
{
    json_t *body = api_body_object(call);
    struct department_row d;

    if (body == NULL || department_load(call, &d) != 0 || api_check_if_match(call, d.version) != 0 ||
        department_apply(call, body, &d, 0) != 0)
        return;
    d.version++;
    d.updated_at = clock_wall_s();
    department_write(call, &d, 0);
}

void api_departments_delete(struct api_call *call)
{
    struct department_row d;

    if (department_load(call, &d) != 0 || api_check_if_match(call, d.version) != 0)
        return;
    if (store_department_delete(call->app->store, d.id, clock_wall_s()) != STORE_OK)
        api_reply_store_error(call);
    else
        api_reply_empty(call, 204);
}
