/*
 * test_slots.c - core/slots.c: interval sets are half-open [start, end),
 * merging joins overlapping and touching intervals, and the overlap test
 * (a binary search) agrees with a brute-force model on random sets.
 */
#include "check.h"

#include "convene/slots.h"

#include <stdint.h>
#include <string.h>

static void test_add(void)
{
    struct interval_set set = {0};

    intervals_add(&set, 10, 20);
    CHECK_EQ_INT(set.n, 1);
    CHECK_EQ_INT(set.v[0].start, 10);
    CHECK_EQ_INT(set.v[0].end, 20);
    /* Empty and reversed intervals are no time at all. */
    intervals_add(&set, 30, 30);
    intervals_add(&set, 50, 40);
    CHECK_EQ_INT(set.n, 1);
    /* Growth past the first allocation keeps every interval. */
    for (int64_t i = 0; i < 100; i++)
        intervals_add(&set, 1000 + i * 10, 1000 + i * 10 + 5);
    CHECK_EQ_INT(set.n, 101);
    CHECK(set.cap >= set.n);
    CHECK_EQ_INT(set.v[100].start, 1990);
    CHECK_EQ_INT(set.v[100].end, 1995);
    intervals_free(&set);
    CHECK(set.v == NULL);
    CHECK_EQ_INT(set.n, 0);
    CHECK_EQ_INT(set.cap, 0);
    /* A freed set is reusable. */
    intervals_add(&set, 1, 2);
    CHECK_EQ_INT(set.n, 1);
    intervals_free(&set);
}

static void test_merge(void)
{
    struct interval_set set = {0};

    /* An empty set stays empty. */
    intervals_merge(&set);
    CHECK_EQ_INT(set.n, 0);

    /* Out of order, overlapping, nested, touching and apart. */
    intervals_add(&set, 50, 60);  /* apart */
    intervals_add(&set, 10, 20);
    intervals_add(&set, 20, 30);  /* touches [10,20): one busy stretch */
    intervals_add(&set, 12, 15);  /* nested */
    intervals_add(&set, 25, 35);  /* overlaps */
    intervals_add(&set, 36, 40);  /* a one-second gap before it: stays apart */
    intervals_add(&set, 100, 200);
    intervals_add(&set, 100, 150); /* same start, shorter */
    intervals_merge(&set);
    CHECK_EQ_INT(set.n, 4);
    if (set.n == 4) {
        CHECK_EQ_INT(set.v[0].start, 10);
        CHECK_EQ_INT(set.v[0].end, 35);
        CHECK_EQ_INT(set.v[1].start, 36);
        CHECK_EQ_INT(set.v[1].end, 40);
        CHECK_EQ_INT(set.v[2].start, 50);
        CHECK_EQ_INT(set.v[2].end, 60);
        CHECK_EQ_INT(set.v[3].start, 100);
        CHECK_EQ_INT(set.v[3].end, 200);
    }
    /* Merging a merged set changes nothing. */
    intervals_merge(&set);
    CHECK_EQ_INT(set.n, 4);
    intervals_free(&set);

    /* A single interval; and a chain of touching ones collapses to one. */
    intervals_add(&set, 5, 6);
    intervals_merge(&set);
    CHECK_EQ_INT(set.n, 1);
    for (int64_t i = 0; i < 50; i++)
        intervals_add(&set, 6 + i, 7 + i);
    intervals_merge(&set);
    CHECK_EQ_INT(set.n, 1);
    CHECK_EQ_INT(set.v[0].start, 5);
    CHECK_EQ_INT(set.v[0].end, 56);
    intervals_free(&set);

    /* Large UTC seconds (2026) and negative values. */
    intervals_add(&set, 1796083200, 1796086800);
    intervals_add(&set, -100, -50);
    intervals_add(&set, 1796086800, 1796090400);
    intervals_merge(&set);
    CHECK_EQ_INT(set.n, 2);
    CHECK_EQ_INT(set.v[0].start, -100);
    CHECK_EQ_INT(set.v[1].start, 1796083200);
    CHECK_EQ_INT(set.v[1].end, 1796090400);
    intervals_free(&set);
}

static void test_overlaps_half_open(void)
{
    struct interval_set set = {0};

    CHECK_EQ_INT(intervals_overlaps(&set, 0, 100), 0); /* empty set */
    intervals_add(&set, 10, 20);
    intervals_add(&set, 40, 50);
    intervals_merge(&set);
    /* A meeting ending at 10 leaves 10 free; one starting at 20 is fine. */
    CHECK_EQ_INT(intervals_overlaps(&set, 0, 10), 0);
    CHECK_EQ_INT(intervals_overlaps(&set, 20, 30), 0);
    CHECK_EQ_INT(intervals_overlaps(&set, 20, 40), 0);
    CHECK_EQ_INT(intervals_overlaps(&set, 50, 60), 0);
    CHECK_EQ_INT(intervals_overlaps(&set, 60, 70), 0);
    /* One second into either side overlaps. */
    CHECK_EQ_INT(intervals_overlaps(&set, 0, 11), 1);
    CHECK_EQ_INT(intervals_overlaps(&set, 19, 30), 1);
    CHECK_EQ_INT(intervals_overlaps(&set, 20, 41), 1);
    CHECK_EQ_INT(intervals_overlaps(&set, 49, 60), 1);
    /* Inside, enclosing, identical. */
    CHECK_EQ_INT(intervals_overlaps(&set, 12, 13), 1);
    CHECK_EQ_INT(intervals_overlaps(&set, 0, 100), 1);
    CHECK_EQ_INT(intervals_overlaps(&set, 10, 20), 1);
    CHECK_EQ_INT(intervals_overlaps(&set, 40, 50), 1);
    /* Spanning the gap between the two. */
    CHECK_EQ_INT(intervals_overlaps(&set, 15, 45), 1);
    intervals_free(&set);
}

/* xorshift: a reproducible random stream without libc's rand state. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % n;
}

/* Random sets against a bitmap of busy seconds: merge and overlaps agree with it. */
static void test_random_against_bitmap(void)
{
    enum { SPAN = 400 };
    int bad_merge = 0, bad_overlap = 0;

    for (int round = 0; round < 500; round++) {
        struct interval_set set = {0};
        unsigned char busy[SPAN];
        size_t n = rnd(12);

        memset(busy, 0, sizeof(busy));
        for (size_t i = 0; i < n; i++) {
            int64_t s = (int64_t)rnd(SPAN - 1), len = (int64_t)rnd(40);
            int64_t e = s + len > SPAN ? SPAN : s + len;
            intervals_add(&set, s, e);
            for (int64_t t = s; t < e; t++)
                busy[t] = 1;
        }
        intervals_merge(&set);
        /* Sorted, disjoint, not touching, and covering exactly the busy seconds. */
        unsigned char covered[SPAN];
        memset(covered, 0, sizeof(covered));
        for (size_t i = 0; i < set.n; i++) {
            if (set.v[i].start >= set.v[i].end)
                bad_merge++;
            if (i > 0 && set.v[i].start <= set.v[i - 1].end)
                bad_merge++;
            for (int64_t t = set.v[i].start; t < set.v[i].end && t < SPAN; t++)
                covered[t] = 1;
        }
        if (memcmp(busy, covered, sizeof(busy)) != 0)
            bad_merge++;
        for (int q = 0; q < 200; q++) {
            int64_t s = (int64_t)rnd(SPAN), e = s + 1 + (int64_t)rnd(60);
            int expected = 0;
            if (e > SPAN)
                e = SPAN;
            if (e <= s)
                continue;
            for (int64_t t = s; t < e; t++)
                expected |= busy[t];
            if (intervals_overlaps(&set, s, e) != expected && bad_overlap++ < 5)
                fprintf(stderr, "    round %d: [%lld, %lld) expected %d\n", round, (long long)s,
                        (long long)e, expected);
        }
        intervals_free(&set);
    }
    CHECK_EQ_INT(bad_merge, 0);
    CHECK_EQ_INT(bad_overlap, 0);
}

/* Best fit first: the smallest room that fits, then fewest buffer minutes, then name. */
static void test_room_fit_order(void)
{
    static const struct {
        struct room_fit a, b;
        int sign; /* of compare(a, b) */
    } cases[] = {
        {{12, 30, "大会议室"}, {120, 0, "礼堂"}, -1},   /* capacity beats buffers and name */
        {{120, 0, "A"}, {12, 60, "Z"}, 1},
        {{12, 10, "Z"}, {12, 40, "A"}, -1},           /* then buffers beat the name */
        {{12, 40, "A"}, {12, 10, "Z"}, 1},
        {{12, 10, "第一会议室"}, {12, 10, "第二会议室"}, -1}, /* then the name, bytewise */
        {{12, 10, "B"}, {12, 10, "A"}, 1},
        {{12, 10, "A"}, {12, 10, "A"}, 0},
        {{12, 10, NULL}, {12, 10, "A"}, -1},          /* a missing name sorts first */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = slots_room_fit_compare(&cases[i].a, &cases[i].b);
        CHECK_EQ_INT(got < 0 ? -1 : got > 0 ? 1 : 0, cases[i].sign);
    }
}

int main(void)
{
    test_room_fit_order();
    test_add();
    test_merge();
    test_overlaps_half_open();
    test_random_against_bitmap();
    return check_finish();
}
