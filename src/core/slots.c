/*
 * slots.c - merged interval sets. A merged set answers "is this slot
 * free?" in O(log n), which keeps slot search cheap however busy the
 * calendars are.
 */
#include "convene/slots.h"
#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

void intervals_add(struct interval_set *set, int64_t start, int64_t end)
{
    if (end <= start)
        return;
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 16;
        set->v = xrealloc(set->v, set->cap * sizeof(*set->v));
    }
    set->v[set->n].start = start;
    set->v[set->n].end = end;
    set->n++;
}

static int cmp_start(const void *a, const void *b)
{
    const struct interval *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

void intervals_merge(struct interval_set *set)
{
    size_t out = 0;

    if (set->n == 0)
        return;
    qsort(set->v, set->n, sizeof(*set->v), cmp_start);
    for (size_t i = 1; i < set->n; i++) {
        if (set->v[i].start <= set->v[out].end) {
            if (set->v[i].end > set->v[out].end)
                set->v[out].end = set->v[i].end;
        } else {
            set->v[++out] = set->v[i];
        }
    }
    set->n = out + 1;
}

int intervals_overlaps(const struct interval_set *set, int64_t start, int64_t end)
{
    size_t lo = 0, hi = set->n;

    /* The first interval ending after start is the only candidate. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->v[mid].end <= start)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < set->n && set->v[lo].start < end;
}

void intervals_free(struct interval_set *set)
{
    free(set->v);
    set->v = NULL;
    set->n = set->cap = 0;
}

int slots_room_fit_compare(const struct room_fit *a, const struct room_fit *b)
{
    if (a->capacity != b->capacity)
        return a->capacity < b->capacity ? -1 : 1;
    if (a->buffer_minutes != b->buffer_minutes)
        return a->buffer_minutes < b->buffer_minutes ? -1 : 1;
    return strcmp(a->name ? a->name : "", b->name ? b->name : "");
}
