/*
 * report_text.c - the year-end summary sentence (全年共召开办公会12次…) in the
 * office's wording (docs: /work/shared/OFFICE.md "Meetings"). One place
 * builds it, so the JSON, the spreadsheets and the console say the same.
 */
#include "convene/report.h"

#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

/* Meeting kinds in the order an office lists them; anything else follows by count. */
static const char *const kind_order[] = {"办公会", "党组会", "专题会", "接待", "调研", "培训"};

#define OTHER_MEETINGS "其他会议" /* meetings booked without a kind */

int report_kind_rank(const char *kind)
{
    if (kind == NULL)
        return 1000;
    for (size_t i = 0; i < ARRAY_SIZE(kind_order); i++)
        if (strcmp(kind, kind_order[i]) == 0)
            return (int)i;
    return 100;
}

/* A kind held as a meeting (召开…会); visits, field trips and training are 安排ed. */
static int is_meeting_kind(const char *kind)
{
    size_t n;

    if (kind == NULL)
        return 1;
    n = strlen(kind);
    return n >= 3 && strcmp(kind + n - 3, "会") == 0;
}

static int kind_cmp(const void *a, const void *b)
{
    const struct report_kind_count *x = a, *y = b;
    int rx = report_kind_rank(x->kind), ry = report_kind_rank(y->kind);

    if (rx != ry)
        return rx < ry ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->kind && y->kind ? strcmp(x->kind, y->kind) : 0;
}

/* "办公会12次、党组会10次" for the kinds of one group (meetings, or the rest). */
static void list_kinds(struct strbuf *out, const struct report_kind_count *v, size_t n,
                      int meetings)
{
    int listed = 0;

    for (size_t i = 0; i < n; i++) {
        if (v[i].count <= 0 || is_meeting_kind(v[i].kind) != meetings)
            continue;
        strbuf_printf(out, "%s%s%ld次", listed ? "、" : "", v[i].kind ? v[i].kind : OTHER_MEETINGS,
                      v[i].count);
        listed = 1;
    }
}

char *report_year_text(const struct report_year_facts *f)
{
    struct strbuf out, meetings, others;
    struct report_kind_count *v = xcalloc(f->nkinds ? f->nkinds : 1, sizeof(*v));
    long decided = f->approved + f->rejected + f->expired;

    if (f->nkinds > 0) /* kinds may be NULL when there are none */
        memcpy(v, f->kinds, f->nkinds * sizeof(*v));
    qsort(v, f->nkinds, sizeof(*v), kind_cmp);
    strbuf_init(&out, 64 * 1024);
    strbuf_init(&meetings, 32 * 1024);
    strbuf_init(&others, 32 * 1024);
    list_kinds(&meetings, v, f->nkinds, 1);
    list_kinds(&others, v, f->nkinds, 0);
    strbuf_printf(&out, "%d年", f->year);
    if (meetings.len > 0)
        strbuf_printf(&out, "共召开%s", meetings.data);
    else
        strbuf_puts(&out, "未召开会议");
    if (others.len > 0)
        strbuf_printf(&out, "，安排%s", others.data);
    strbuf_printf(&out, "，派车%ld次，用餐%ld人次", f->trips, f->meals);
    if (decided > 0)
        strbuf_printf(&out, "；办理审批%ld件，其中同意%ld件、不同意%ld件、逾期未批%ld件", decided,
                      f->approved, f->rejected, f->expired);
    strbuf_puts(&out, "。");
    strbuf_free(&meetings);
    strbuf_free(&others);
    free(v);
    return strbuf_detach(&out, NULL);
}
