/*
 * window.c - conflicts with occurrences that are not stored yet.
 *
 * A series is stored (occurrences and occupancy) up to its window's end,
 * expanded_until, about two years ahead; the window rolls forward
 * (booking_extend_windows, extend.c). A booking reaching past another series' window
 * must still not land on that series' later occurrences (CONTRACT section
 * 4, issue 12): a one-off three years out on a weekly meeting's slot was
 * accepted, and the weekly meeting was booked on top of it when its window
 * reached that week. Here those later occurrences are expanded on the fly
 * and compared with the new booking's claims, resource by resource.
 *
 * The common case costs one indexed query: a booking ending before every
 * series' window (any booking less than two years ahead) finds nothing to
 * expand.
 */
#include "window.h"

#include "convene/util.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Expanded a year at a time: at most 366 occurrences of a daily series per chunk. */
#define WINDOW_CHUNK_SECONDS (366LL * 86400)
/* Added to each side of the window: zone offsets and daylight saving. */
#define WINDOW_MARGIN_SECONDS 86400LL

struct mine {
    struct claim *items; /* the new booking's claims, sorted by resource then start */
    size_t n, cap;
    int64_t first, last; /* earliest start and latest end of any of them */
    int64_t longest;     /* the longest of them: bounds the search below */
};

struct window_check {
    struct app *app;
    const char *event_id;
    struct mine mine;
    char **seen; /* other events already checked (one may share several resources) */
    size_t nseen;
    const struct event_row *other;
    window_clash_cb cb;
    void *arg;
};

static int collect(const struct claim *c, void *arg)
{
    struct mine *m = arg;

    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->items = xrealloc(m->items, m->cap * sizeof(*m->items));
    }
    m->items[m->n++] = *c;
    if (m->n == 1 || c->start_utc < m->first)
        m->first = c->start_utc;
    if (m->n == 1 || c->end_utc > m->last)
        m->last = c->end_utc;
    if (c->end_utc - c->start_utc > m->longest)
        m->longest = c->end_utc - c->start_utc;
    return 0;
}

static int cmp_resource(const char *type_a, const char *id_a, const char *type_b, const char *id_b)
{
    int c = strcmp(type_a, type_b);
    return c != 0 ? c : strcmp(id_a, id_b);
}

static int cmp_claim(const void *a, const void *b)
{
    const struct claim *x = a, *y = b;
    int c = cmp_resource(x->resource_type, x->resource_id, y->resource_type, y->resource_id);

    if (c != 0)
        return c;
    return x->start_utc < y->start_utc ? -1 : x->start_utc > y->start_utc;
}

/* The first of mine on (type, id) starting at or after `from`. */
static size_t lower_bound(const struct mine *m, const char *type, const char *id, int64_t from)
{
    size_t lo = 0, hi = m->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct claim *c = &m->items[mid];
        int r = cmp_resource(c->resource_type, c->resource_id, type, id);
        if (r < 0 || (r == 0 && c->start_utc < from))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void clash_fill(struct clash *out, const struct claim *theirs, const struct event_row *row)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->resource_type, sizeof(out->resource_type), "%s", theirs->resource_type);
    snprintf(out->resource_id, sizeof(out->resource_id), "%s", theirs->resource_id);
    snprintf(out->role, sizeof(out->role), "%s", theirs->role);
    snprintf(out->event_id, sizeof(out->event_id), "%s", row->id);
    snprintf(out->recurrence_id, sizeof(out->recurrence_id), "%s", theirs->recurrence_id);
    snprintf(out->other_start, sizeof(out->other_start), "%s", theirs->occ->start);
    snprintf(out->trip_id, sizeof(out->trip_id), "%s", theirs->trip_id ? theirs->trip_id : "");
    snprintf(out->title, sizeof(out->title), "%s", row->title);
    out->confidential = row->confidential;
    out->best_rank = row->best_rank;
    out->start_utc = theirs->start_utc;
    out->end_utc = theirs->end_utc;
}

/* One claim of the other series' unstored occurrences against mine on the same resource. */
static int match_claim(const struct claim *theirs, void *arg)
{
    struct window_check *w = arg;
    const struct mine *m = &w->mine;

    for (size_t i = lower_bound(m, theirs->resource_type, theirs->resource_id,
                                theirs->start_utc - m->longest);
         i < m->n; i++) {
        const struct claim *c = &m->items[i];
        if (cmp_resource(c->resource_type, c->resource_id, theirs->resource_type,
                         theirs->resource_id) != 0 ||
            c->start_utc >= theirs->end_utc)
            break;
        if (c->end_utc > theirs->start_utc) {
            struct clash clash;
            clash_fill(&clash, theirs, w->other);
            if (w->cb(&clash, c, w->arg) != 0)
                return -1;
        }
    }
    return 0;
}

/*
 * The other series' occurrences from its window's end to the end of mine,
 * a year at a time, each compared with mine. A series that can no longer
 * be expanded (stored before a rule was refused, a deleted room) is
 * logged and skipped: it cannot be booked further either.
 */
/*
 * How far an occurrence's holds reach before its start (room setup, a car
 * leaving early) and after it (the meeting, teardown, a late return):
 * occurrences starting outside [first - after, last + before) hold nothing
 * inside [first, last).
 */
static void plan_reach(const struct event_plan *p, int64_t *before, int64_t *after)
{
    *before = p->room_setup * 60;
    *after = recur_local_diff(&p->start, &p->end) + p->room_teardown * 60;
    for (size_t i = 0; i < p->ntrips; i++) {
        if (-p->trips[i].depart_offset > *before)
            *before = -p->trips[i].depart_offset;
        if (p->trips[i].return_offset > *after)
            *after = p->trips[i].return_offset;
    }
    *before += WINDOW_MARGIN_SECONDS;
    *after += WINDOW_MARGIN_SECONDS;
}

static int check_other(struct window_check *w, const struct event_row *row, int64_t until)
{
    struct event_plan plan;
    struct booking_error err;
    json_t *doc = json_loads(row->doc, 0, NULL);
    int64_t from = until, to, before, after;
    int rc = 0;

    if (doc == NULL || event_plan_parse(w->app, doc, &plan, &err) != 0 ||
        event_plan_resolve(w->app, &plan, &err) != 0) {
        log_error("window check: event %s cannot be expanded (%s); skipped", row->id,
                  doc ? err.message : "bad document");
        json_decref(doc);
        return 0;
    }
    plan_reach(&plan, &before, &after);
    if (from < w->mine.first - after)
        from = w->mine.first - after;
    to = w->mine.last + before;
    w->other = row;
    for (int64_t a = from; a < to && rc == 0; a += WINDOW_CHUNK_SECONDS) {
        int64_t b = a + WINDOW_CHUNK_SECONDS < to ? a + WINDOW_CHUNK_SECONDS : to;
        event_plan_free(&plan);
        if (event_plan_expand_window(&plan, a, b, &err) != 0) {
            log_error("window check: event %s cannot be expanded (%s); skipped", row->id,
                      err.message);
            break;
        }
        rc = event_plan_claims(&plan, row->id, match_claim, w);
    }
    event_plan_free(&plan);
    json_decref(doc);
    return rc;
}

static int on_candidate(const char *event_id, int64_t until, void *arg)
{
    struct window_check *w = arg;
    struct event_row row;
    int rc;

    for (size_t i = 0; i < w->nseen; i++)
        if (strcmp(w->seen[i], event_id) == 0)
            return 0;
    w->seen = xrealloc(w->seen, (w->nseen + 1) * sizeof(*w->seen));
    w->seen[w->nseen++] = xstrdup(event_id);
    memset(&row, 0, sizeof(row));
    rc = store_event_get(w->app->store, event_id, &row);
    if (rc == STORE_OK)
        rc = check_other(w, &row, until) == 0 ? STORE_OK : STORE_ERROR;
    else if (rc == STORE_NOTFOUND)
        rc = STORE_OK;
    store_event_row_clear(&row);
    return rc == STORE_OK ? 0 : -1;
}

int event_window_check(struct app *app, const struct event_plan *plan, const char *event_id,
                       window_clash_cb cb, void *arg)
{
    struct window_check w;
    int rc = 0;

    memset(&w, 0, sizeof(w));
    w.app = app;
    w.event_id = event_id;
    w.cb = cb;
    w.arg = arg;
    event_plan_claims_range(plan, event_id, 0, plan->nocc + plan->nbeyond, collect, &w.mine);
    if (w.mine.n == 0)
        return 0;
    int ends = store_event_window_ends_before(app->store, w.mine.last);
    if (ends == STORE_NOTFOUND)
        goto done;
    if (ends != STORE_OK) {
        rc = -1;
        goto done;
    }
    qsort(w.mine.items, w.mine.n, sizeof(*w.mine.items), cmp_claim);
    for (size_t i = 0; i < w.mine.n && rc == 0; i++) {
        const struct claim *c = &w.mine.items[i];
        if (i > 0 &&
            cmp_resource(c->resource_type, c->resource_id, w.mine.items[i - 1].resource_type,
                         w.mine.items[i - 1].resource_id) == 0)
            continue; /* one query per resource */
        if (store_resource_events_unexpanded(app->store, c->resource_type, c->resource_id,
                                             w.mine.last, event_id, on_candidate, &w) != STORE_OK)
            rc = -1;
    }
done:
    for (size_t i = 0; i < w.nseen; i++)
        free(w.seen[i]);
    free(w.seen);
    free(w.mine.items);
    return rc;
}
