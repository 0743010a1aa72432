/*
 * conflict.h - the pure rules of the booking engine: when two holds of a
 * resource clash, and when a higher-ranked meeting may take a room or a
 * vehicle from others (以正职领导为中心). No I/O.
 */
#ifndef CONVENE_CONFLICT_H
#define CONVENE_CONFLICT_H

#include <stddef.h>
#include <stdint.h>

/* Half-open intervals [a_start, a_end) and [b_start, b_end) overlap. */
int conflict_overlaps(int64_t a_start, int64_t a_end, int64_t b_start, int64_t b_end);

/* A room held with its buffers: [start - setup, end + teardown). */
void conflict_room_interval(int64_t start, int64_t end, int64_t setup_minutes,
                            int64_t teardown_minutes, int64_t *hold_start, int64_t *hold_end);

/* Why two holds of a resource clash, as a 409 entry's `reason` says it. */
enum conflict_reason {
    CONFLICT_OVERLAP,      /* the bookings themselves overlap */
    CONFLICT_BUFFER,       /* only the room's setup/teardown minutes make them clash */
    CONFLICT_BLOCK,        /* the resource is blocked (leave, renovation, maintenance) */
    CONFLICT_DRIVER_HOURS, /* the driver's day would exceed --driver-max-hours */
    CONFLICT_DRIVER_REST,  /* the driver would rest less than --driver-min-rest */
};

/* "overlap", "buffer", "block", "driver_hours", "driver_rest". */
const char *conflict_reason_name(enum conflict_reason reason);

/*
 * Classifies a clash of a new hold with an existing one. The times are the
 * bookings themselves, without buffers: [start, end) of the new meeting
 * and of the other (a room's other hold less the same buffers). A clash
 * whose bookings do not overlap is there only because of the buffers.
 */
enum conflict_reason conflict_classify(int other_is_block, int64_t start, int64_t end,
                                       int64_t other_start, int64_t other_end);

/* What the preemption rule needs to know of one clash. */
struct preempt_case {
    const char *role;  /* "room", "vehicle", "attendee", "driver", "block" */
    int is_event;      /* the other booking is an event (not a block) */
    int64_t other_rank; /* best rank of the other event's attendees */
};

/*
 * 1 when a meeting whose best attendee rank is `rank` may preempt every
 * clash: all are rooms or vehicles of events, and it outranks (smaller
 * rank) each of them. People and blocks are never preempted.
 */
int conflict_may_preempt(const struct preempt_case *cases, size_t n, int64_t rank);

#endif
