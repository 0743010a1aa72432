/*
 * commit_group.c - group commit of write requests (commit_group.h).
 *
 * The loop reads requests in its poll phase; write requests are queued
 * here instead of being run. The check phase, which follows poll in every
 * turn, runs one group: BEGIN IMMEDIATE, each member in a savepoint
 * (released, or rolled back when it answered an error), COMMIT, then the
 * answers. Requests that arrive while that COMMIT's fsync holds the loop
 * are read in the next turn and form the next group, so under load the
 * groups grow by themselves and a lone request costs what it did before.
 */
#include "convene/commit_group.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdlib.h>

struct commit_group {
    uv_check_t check; /* runs a group after each poll phase while members wait */
    uv_idle_t idle;   /* keeps poll from sleeping while a cut group left members */
    struct store *st;
    const struct commit_group_ops *ops;
    void *arg;
    struct commit_stats *stats; /* the caller's (app->commit_stats), or our own */
    struct commit_stats own;
    struct commit_group_member *head, *tail; /* queued, oldest first */
    size_t pending;
    int closing; /* handles still to close before the free */
};

static void on_check(uv_check_t *check);

struct commit_group *commit_group_new(uv_loop_t *loop, struct store *st,
                                      const struct commit_group_ops *ops, void *arg,
                                      struct commit_stats *stats)
{
    struct commit_group *g = xcalloc(1, sizeof(*g));

    g->st = st;
    g->ops = ops;
    g->arg = arg;
    g->stats = stats != NULL ? stats : &g->own;
    uv_check_init(loop, &g->check);
    uv_idle_init(loop, &g->idle);
    g->check.data = g->idle.data = g;
    return g;
}

void commit_group_add(struct commit_group *g, struct commit_group_member *m)
{
    m->next = NULL;
    m->status = 0;
    m->lost = 0;
    if (g->tail != NULL)
        g->tail->next = m;
    else
        g->head = m;
    g->tail = m;
    if (g->pending++ == 0)
        uv_check_start(&g->check, on_check);
}

size_t commit_group_pending(const struct commit_group *g)
{
    return g->pending;
}

static struct commit_group_member *queue_take(struct commit_group *g)
{
    struct commit_group_member *m = g->head;

    g->head = m->next;
    if (g->head == NULL)
        g->tail = NULL;
    g->pending--;
    m->next = NULL;
    return m;
}

/*
 * One member in its own savepoint: an error answer rolls it back, so a
 * loser of a clash leaves nothing behind whatever its handler did. A
 * savepoint that cannot be opened or released fails only this member: it
 * is answered as if the COMMIT had failed (its writes, if any, are undone).
 */
static void member_apply(struct commit_group *g, struct commit_group_member *m)
{
    if (store_begin(g->st) != STORE_OK) {
        m->status = 500;
        m->lost = 1;
        return;
    }
    m->status = g->ops->apply(m, g->arg);
    if (m->status >= 400 || m->status == 0) {
        store_rollback(g->st);
    } else if (store_commit(g->st) != STORE_OK) { /* RELEASE: only a broken connection fails */
        m->status = 500;
        m->lost = 1;
    }
}

/*
 * Takes members off the queue and applies them until a bound is reached:
 * COMMIT_GROUP_MAX_MEMBERS, or COMMIT_GROUP_MAX_US spent (at least one
 * member is applied, however long it takes). Returns the group, in order.
 */
static struct commit_group_member *group_apply(struct commit_group *g, size_t *count,
                                               int *kept)
{
    struct commit_group_member *first = NULL, *last = NULL;
    uint64_t started = clock_monotonic_us();

    *count = 0;
    *kept = 0;
    while (g->head != NULL && *count < COMMIT_GROUP_MAX_MEMBERS &&
           (*count == 0 || clock_monotonic_us() - started < COMMIT_GROUP_MAX_US)) {
        struct commit_group_member *m = queue_take(g);
        member_apply(g, m);
        if (m->status < 400 && m->status != 0)
            *kept = 1;
        if (last != NULL)
            last->next = m;
        else
            first = m;
        last = m;
        (*count)++;
    }
    return first;
}

static void group_answer(struct commit_group *g, struct commit_group_member *m, int committed)
{
    while (m != NULL) {
        struct commit_group_member *next = m->next;
        m->next = NULL;
        g->ops->answer(m, committed && !m->lost, g->arg);
        m = next;
    }
}

static void stats_count(struct commit_stats *s, size_t count, int ok, int cut)
{
    if (!ok) {
        s->failed++;
        return;
    }
    s->groups++;
    s->members += count;
    if (count > s->largest)
        s->largest = count;
    if (cut)
        s->cut++;
}

/*
 * A group of one needs no group: the request runs as it would alone, its
 * handler's own transaction (BEGIN IMMEDIATE ... COMMIT, or its rollback)
 * is the whole of it, and it is answered after that COMMIT. The savepoints
 * cost a lone booking about 10% more instructions (SQLite copies each page
 * a savepoint changes into its sub-journal), for nothing.
 */
static size_t run_alone(struct commit_group *g)
{
    struct commit_group_member *m = queue_take(g);

    m->status = g->ops->apply(m, g->arg);
    stats_count(g->stats, 1, 1, 0);
    g->ops->answer(m, 1, g->arg);
    if (m->status < 400 && m->status != 0 && g->ops->committed != NULL)
        g->ops->committed(g->arg);
    return 1;
}

size_t commit_group_run(struct commit_group *g)
{
    struct commit_group_member *members;
    size_t count = 0;
    int kept = 0, ok;

    if (g->head == NULL)
        return 0;
    if (g->pending == 1)
        return run_alone(g);
    if (store_begin(g->st) != STORE_OK) {
        /* Nothing was applied: the whole queue is told the database failed. */
        count = g->pending;
        members = g->head;
        g->head = g->tail = NULL;
        g->pending = 0;
        stats_count(g->stats, count, 0, 0);
        group_answer(g, members, 0);
        return count;
    }
    members = group_apply(g, &count, &kept);
    /* store_commit rolls back itself when the COMMIT fails: then nothing of the group stays. */
    ok = store_commit(g->st) == STORE_OK;
    if (!ok)
        log_error("commit group: the COMMIT of %zu requests failed; each is answered 500", count);
    stats_count(g->stats, count, ok, g->head != NULL);
    group_answer(g, members, ok);
    if (ok && kept && g->ops->committed != NULL)
        g->ops->committed(g->arg);
    return count;
}

/* Nothing to do: an active idle handle only keeps the next poll from blocking. */
static void on_idle(uv_idle_t *idle)
{
    (void)idle;
}

/*
 * After the poll phase: one group. A group cut by a bound leaves members
 * queued; the idle handle makes the next poll return at once, so they are
 * applied in the next turn after whatever I/O is ready (reads included)
 * is served, instead of holding the loop here.
 */
static void on_check(uv_check_t *check)
{
    struct commit_group *g = check->data;

    commit_group_run(g);
    if (g->head == NULL) {
        uv_check_stop(&g->check);
        uv_idle_stop(&g->idle);
    } else if (!uv_is_active((uv_handle_t *)&g->idle)) {
        uv_idle_start(&g->idle, on_idle);
    }
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct commit_group *g = handle->data;

    if (--g->closing == 0)
        free(g);
}

void commit_group_close(struct commit_group *g)
{
    if (g == NULL)
        return;
    while (g->head != NULL)
        commit_group_run(g);
    g->closing = 2;
    uv_close((uv_handle_t *)&g->check, on_handle_closed);
    uv_close((uv_handle_t *)&g->idle, on_handle_closed);
}
