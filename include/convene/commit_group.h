/*
 * commit_group.h - group commit. Under --durability full every transaction
 * ends in an fsync of the WAL and rewrites the pages it touched; a booking
 * touches about 15 B-trees, so most of its time went into its own COMMIT.
 * Write requests that arrive in one turn of the loop (for instance while
 * the previous group's COMMIT held it) are instead applied together, in
 * one outer transaction, each inside its own savepoint, and all answered
 * after the one COMMIT that makes them durable:
 *
 * - a member answered with an error (409, 422, ...) is rolled back to its
 *   savepoint, so it changes nothing and never fails its neighbours;
 * - a member gets its answer only after the COMMIT; when the COMMIT fails,
 *   every member of the group is answered with the storage error;
 * - the post-commit work (scheduling the notifier) runs once per group.
 *
 * Members are queued while the loop reads requests and applied in the
 * loop's check phase, so the transaction is open only inside
 * commit_group_run: nothing else (reads, timers, webhook callbacks) ever
 * runs inside it or sees what it has not yet committed, and reads are
 * answered as they arrive. A group is bounded (COMMIT_GROUP_MAX_MEMBERS,
 * COMMIT_GROUP_MAX_US of applying); what is left waits for the next turn,
 * which then does not sleep in poll.
 *
 * A group of one is run as the request alone (its handler's own
 * transaction, no savepoints): a lone write costs what it did before.
 *
 * The group knows nothing of HTTP or of bookings: the caller embeds a
 * struct commit_group_member in its own request and supplies apply (run
 * the request, return its status) and answer (send it).
 */
#ifndef CONVENE_COMMIT_GROUP_H
#define CONVENE_COMMIT_GROUP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "convene/app.h"

/* Members applied in one transaction at most: the last one's wait stays short. */
#define COMMIT_GROUP_MAX_MEMBERS 64
/* Once applying a group has taken this long, it is committed with what it has. */
#define COMMIT_GROUP_MAX_US 20000

struct store;
struct commit_group;

/* Embedded by the caller in each queued request. */
struct commit_group_member {
    struct commit_group_member *next; /* the queue; the group's while queued */
    int status; /* what apply returned (set by the group) */
    int lost;   /* its savepoint failed: answered as if the COMMIT had (set by the group) */
};

struct commit_group_ops {
    /*
     * Runs the member's request inside the group's transaction and returns
     * the status it will answer: below 400 (or negative: answered later)
     * keeps its writes, 400 and above rolls them back. Alone (a group of
     * one), it runs outside any transaction, so its writes must be in one
     * of its own (store_begin ... store_commit or store_rollback), as every
     * handler's are.
     */
    int (*apply)(struct commit_group_member *m, void *arg);
    /*
     * Answers the member once the group is over: committed is 1 when the
     * COMMIT succeeded, 0 when it (or the BEGIN) failed and nothing of the
     * group was kept, or when the member's own savepoint failed. The
     * member leaves the group before the call.
     */
    void (*answer)(struct commit_group_member *m, int committed, void *arg);
    /* After a successful COMMIT that kept at least one member's writes: once per group. */
    void (*committed)(void *arg);
};

/*
 * A group on loop writing through st. ops and arg are kept; stats (kept
 * up to date for /metrics) may be NULL. Owned by the caller, released with
 * commit_group_close.
 */
struct commit_group *commit_group_new(uv_loop_t *loop, struct store *st,
                                      const struct commit_group_ops *ops, void *arg,
                                      struct commit_stats *stats);

/* Queues m; it is applied and answered in this turn's check phase (or a later one). */
void commit_group_add(struct commit_group *g, struct commit_group_member *m);

/* Members queued and not yet applied. */
size_t commit_group_pending(const struct commit_group *g);

/*
 * Applies, commits and answers one group of what is queued (the check
 * handle calls it; tests may call it directly). Returns the members
 * answered.
 */
size_t commit_group_run(struct commit_group *g);

/*
 * Closes the group's handles; the memory goes in their close callbacks
 * (the caller lets the loop run once). Members still queued are answered
 * first. NULL is accepted.
 */
void commit_group_close(struct commit_group *g);

#endif
