/*
 * test_conflict.c - the pure clash rules of core/conflict.c: half-open
 * overlap, room holds with buffers, and why a clash is reported (overlap,
 * buffer, block).
 */
#include "check.h"

#include "convene/conflict.h"

#include <string.h>

#define MIN 60

static void test_overlaps_half_open(void)
{
    CHECK(conflict_overlaps(0, 10, 5, 15));
    CHECK(!conflict_overlaps(0, 10, 10, 20)); /* back to back */
    CHECK(!conflict_overlaps(10, 20, 0, 10));
    CHECK(conflict_overlaps(0, 30, 10, 20));  /* one inside the other */
}

/* A clash's reason from the bookings without their buffers. */
static void test_classify(void)
{
    static const struct {
        int block;
        int64_t s, e, os, oe;
        enum conflict_reason want;
        const char *name;
    } cases[] = {
        /* 09:00-10:00 against 09:30-10:30: the meetings overlap */
        {0, 540 * MIN, 600 * MIN, 570 * MIN, 630 * MIN, CONFLICT_OVERLAP, "overlap"},
        /* 10:00-11:00 after 09:00-10:00: only the buffers touch */
        {0, 600 * MIN, 660 * MIN, 540 * MIN, 600 * MIN, CONFLICT_BUFFER, "buffer"},
        /* 08:00-09:00 before 09:15-10:00: buffers again, on the other side */
        {0, 480 * MIN, 540 * MIN, 555 * MIN, 600 * MIN, CONFLICT_BUFFER, "buffer"},
        /* a block is a block whatever the times */
        {1, 600 * MIN, 660 * MIN, 540 * MIN, 600 * MIN, CONFLICT_BLOCK, "block"},
        /* the other's interval less today's buffers is empty (buffers grew): overlap */
        {0, 600 * MIN, 660 * MIN, 620 * MIN, 610 * MIN, CONFLICT_OVERLAP, "overlap"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum conflict_reason r =
            conflict_classify(cases[i].block, cases[i].s, cases[i].e, cases[i].os, cases[i].oe);
        CHECK_EQ_INT(r, cases[i].want);
        CHECK_EQ_STR(conflict_reason_name(r), cases[i].name);
    }
    CHECK_EQ_STR(conflict_reason_name(CONFLICT_DRIVER_HOURS), "driver_hours");
    CHECK_EQ_STR(conflict_reason_name(CONFLICT_DRIVER_REST), "driver_rest");
}

static void test_room_interval(void)
{
    int64_t s, e;

    conflict_room_interval(1000, 2000, 15, 30, &s, &e);
    CHECK_EQ_INT(s, 1000 - 15 * MIN);
    CHECK_EQ_INT(e, 2000 + 30 * MIN);
}

int main(void)
{
    test_overlaps_half_open();
    test_classify();
    test_room_interval();
    return check_finish();
}
