/*
 * conflict.c - clash and preemption rules (CONTRACT section 4).
 */
#include "convene/conflict.h"

#include <string.h>

int conflict_overlaps(int64_t a_start, int64_t a_end, int64_t b_start, int64_t b_end)
{
    /* Half-open: a meeting ending at 10:00 leaves 10:00 free. */
    return a_start < b_end && b_start < a_end;
}

void conflict_room_interval(int64_t start, int64_t end, int64_t setup_minutes,
                            int64_t teardown_minutes, int64_t *hold_start, int64_t *hold_end)
{
    *hold_start = start - setup_minutes * 60;
    *hold_end = end + teardown_minutes * 60;
}

int conflict_may_preempt(const struct preempt_case *cases, size_t n, int64_t rank)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const struct preempt_case *c = &cases[i];
        int resource = strcmp(c->role, "room") == 0 || strcmp(c->role, "vehicle") == 0;
        if (!c->is_event || !resource || rank >= c->other_rank)
            return 0;
    }
    return 1;
}

const char *conflict_reason_name(enum conflict_reason reason)
{
    static const char *const names[] = {"overlap", "buffer", "block", "driver_hours",
                                        "driver_rest"};

    return (size_t)reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "overlap";
}

enum conflict_reason conflict_classify(int other_is_block, int64_t start, int64_t end,
                                       int64_t other_start, int64_t other_end)
{
    if (other_is_block)
        return CONFLICT_BLOCK;
    /* An empty other interval (its buffers have grown since) tells nothing: call it overlap. */
    if (other_start < other_end && !conflict_overlaps(start, end, other_start, other_end))
        return CONFLICT_BUFFER;
    return CONFLICT_OVERLAP;
}
