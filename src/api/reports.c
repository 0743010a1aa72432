/*
 * reports.c - GET /api/v1/reports/{name} (CONTRACT section 13): parses the
 * query, asks the booking layer (booking/reports.c) and renders its answer
 * as JSON, CSV (?format=csv) or XLSX (?format=xlsx). The workbook is
 * zipped on a worker thread (api_defer): libxlsxwriter writes and deflates
 * a file, which the loop need not wait for.
 */
#include "handlers.h"

#include "convene/sheet.h"
#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

#define XLSX_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

/* The query's parameters, NULL when absent. */
struct report_params {
    char from[16], to[16], by[16], year[8], format[8];
    struct booking_report_query q;
};

/* Reads one parameter into buf; *value is buf or NULL. -1 after replying 400. */
static int param(struct api_call *call, const char *name, char *buf, size_t cap,
                 const char **value)
{
    int rc = api_query_param(call, name, buf, cap);

    *value = rc == 1 ? buf : NULL;
    return rc < 0 ? -1 : 0;
}

static int report_params(struct api_call *call, struct report_params *p)
{
    const char *format;

    memset(p, 0, sizeof(*p));
    p->q.name = call->params[0];
    if (param(call, "from", p->from, sizeof(p->from), &p->q.from) != 0 ||
        param(call, "to", p->to, sizeof(p->to), &p->q.to) != 0 ||
        param(call, "by", p->by, sizeof(p->by), &p->q.by) != 0 ||
        param(call, "year", p->year, sizeof(p->year), &p->q.year) != 0 ||
        param(call, "format", p->format, sizeof(p->format), &format) != 0)
        return -1;
    if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0 &&
        strcmp(format, "xlsx") != 0) {
        api_reply_error(call, 422, "invalid", "format", "'format' must be json, csv or xlsx");
        return -1;
    }
    return 0;
}

static void reply_file(struct api_call *call, json_t *sheet, const char *type, const char *ext,
                       char *body, size_t len)
{
    char disposition[256];

    call->res->status = 200;
    call->res->content_type = type;
    call->res->body = body;
    call->res->body_len = len;
    if (sheet_disposition(json_string_value(json_object_get(sheet, "file")),
                          json_string_value(json_object_get(sheet, "file_ascii")), ext,
                          disposition, sizeof(disposition)) == 0)
        api_add_header(call, "Content-Disposition", disposition);
}

static void reply_csv(struct api_call *call, json_t *sheet)
{
    char *body;
    size_t len;

    if (sheet_csv(sheet, &body, &len) != 0) {
        api_reply_error(call, 413, "too_large", NULL, "the report is too large: ask fewer days");
        return;
    }
    reply_file(call, sheet, "text/csv; charset=utf-8", "csv", body, len);
}

/* ---------------- XLSX, off the loop ---------------- */

struct xlsx_job {
    struct api_job job; /* first: the job is the workbook */
    json_t *sheet;      /* owned, a deep copy: the worker shares no reference with the loop */
    char tmpdir[1024];
    char *body;
    size_t len;
    int rc;
};

static void xlsx_work(struct api_job *job)
{
    struct xlsx_job *x = (struct xlsx_job *)job;

    x->rc = sheet_xlsx(x->sheet, x->tmpdir, &x->body, &x->len);
}

static void xlsx_finish(struct api_job *job, struct api_call *call)
{
    struct xlsx_job *x = (struct xlsx_job *)job;

    if (x->rc != 0) {
        api_reply_error(call, 500, "internal", NULL, "the workbook could not be written");
        return;
    }
    reply_file(call, x->sheet, XLSX_TYPE, "xlsx", x->body, x->len);
    x->body = NULL; /* the reply owns it */
}

static void xlsx_free(struct api_job *job)
{
    struct xlsx_job *x = (struct xlsx_job *)job;

    json_decref(x->sheet);
    free(x->body);
    free(x);
}

static void reply_xlsx(struct api_call *call, json_t *sheet)
{
    struct xlsx_job *x = xcalloc(1, sizeof(*x));
    const char *tmpdir = getenv("TMPDIR");

    x->job.work = xlsx_work;
    x->job.finish = xlsx_finish;
    x->job.free = xlsx_free;
    x->sheet = json_deep_copy(sheet);
    snprintf(x->tmpdir, sizeof(x->tmpdir), "%s", tmpdir && tmpdir[0] ? tmpdir : "/tmp");
    api_defer(call, &x->job);
}

void api_reports_get(struct api_call *call)
{
    struct report_params p;
    struct booking_actor actor;
    struct booking_ctx ctx;
    struct booking_error err = {0};
    json_t *report, *sheet;

    if (report_params(call, &p) != 0)
        return;
    events_call_ctx(call, &actor, &ctx);
    if (booking_report(&ctx, &p.q, &report, &err) != 0) {
        api_reply_booking_error(call, &err);
        booking_error_clear(&err);
        return;
    }
    if (p.format[0] == '\0' || strcmp(p.format, "json") == 0) {
        api_reply_json(call, 200, report, -1);
        return;
    }
    sheet = booking_report_sheet(&p.q, report);
    if (strcmp(p.format, "csv") == 0)
        reply_csv(call, sheet);
    else
        reply_xlsx(call, sheet);
    json_decref(sheet);
    json_decref(report);
}
