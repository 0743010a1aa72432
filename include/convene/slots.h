/*
 * slots.h - interval sets for free/busy and slot search: add, merge, test
 * overlap, and the free gaps of a window. Half-open [start, end) in UTC
 * seconds. Pure.
 */
#ifndef CONVENE_SLOTS_H
#define CONVENE_SLOTS_H

#include <stddef.h>
#include <stdint.h>

struct interval {
    int64_t start, end;
};

struct interval_set {
    struct interval *v; /* owned; sorted and disjoint after intervals_merge */
    size_t n, cap;
};

void intervals_add(struct interval_set *set, int64_t start, int64_t end);
/* Sorts and merges overlapping or touching intervals. */
void intervals_merge(struct interval_set *set);
/* On a merged set: whether [start, end) overlaps any interval (binary search). */
int intervals_overlaps(const struct interval_set *set, int64_t start, int64_t end);
void intervals_free(struct interval_set *set);

/* What ranks the rooms offered for a slot. */
struct room_fit {
    int64_t capacity;
    int64_t buffer_minutes; /* setup + teardown */
    const char *name;
};

/*
 * Orders rooms best fit first (qsort-style): the smallest capacity (every
 * candidate already fits), then the fewest buffer minutes, then the name.
 * A meeting of two was offered the 120-seat hall because rooms came by name.
 */
int slots_room_fit_compare(const struct room_fit *a, const struct room_fit *b);

#endif
