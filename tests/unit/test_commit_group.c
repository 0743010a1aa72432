/*
 * test_commit_group.c - the commit group (src/http/commit_group.c) on a
 * real store: members' savepoints (an error answer leaves nothing),
 * answers only after the COMMIT and in order, one post-commit call per
 * group, the bounds, a COMMIT that fails (a deferred foreign key set up
 * from a second connection, as a full disk would fail it: every member
 * told, nothing kept), and the check handle running a group in the loop.
 */
#include "check.h"

#include "convene/commit_group.h"
#include "convene/store.h"
#include "convene/util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct member {
    struct commit_group_member m; /* first */
    const char *key;              /* written by apply (a meta row) */
    int status;                   /* answered by apply */
    int sleep_ms;                 /* apply takes this long */
    int sloppy;                   /* writes outside a transaction of its own, even when failing */
    int answered;                 /* 1 + order of the answer, 0 while waiting */
    int committed;                /* as told by answer */
    int depth_seen;               /* in a transaction during apply */
    int durable_at_answer;        /* the key was readable by another connection at answer */
};

struct fixture {
    struct store *st;
    const char *db_path;
    int answers;
    int committed_calls;
};

static struct fixture fx;

/* Whether another connection (another process would see the same) reads key: committed. */
static int durable(const char *key)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    int found = 0;

    if (sqlite3_open_v2(fx.db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM meta WHERE key = ?1", -1, &stmt, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
        found = sqlite3_step(stmt) == SQLITE_ROW;
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return found;
}

static int apply(struct commit_group_member *cm, void *arg)
{
    struct member *m = (struct member *)cm;

    (void)arg;
    m->depth_seen = store_in_transaction(fx.st);
    if (m->sleep_ms > 0)
        usleep((useconds_t)m->sleep_ms * 1000);
    if (m->sloppy) /* written whatever the status: a 409 must not keep it even so */
        return store_meta_set_int(fx.st, m->key, 1) == STORE_OK ? m->status : 500;
    /* As a handler does: its own transaction, rolled back when it fails. */
    if (store_begin(fx.st) != STORE_OK)
        return 500;
    if (store_meta_set_int(fx.st, m->key, 1) != STORE_OK || m->status >= 400) {
        store_rollback(fx.st);
        return m->status >= 400 ? m->status : 500;
    }
    return store_commit(fx.st) == STORE_OK ? m->status : 500;
}

static void answer(struct commit_group_member *cm, int committed, void *arg)
{
    struct member *m = (struct member *)cm;

    (void)arg;
    m->answered = ++fx.answers;
    m->committed = committed;
    m->durable_at_answer = durable(m->key);
}

static void committed(void *arg)
{
    (void)arg;
    fx.committed_calls++;
}

static const struct commit_group_ops ops = {apply, answer, committed};

static int stored(const char *key)
{
    int64_t v = 0;
    return store_meta_get_int(fx.st, key, &v) == STORE_OK && v == 1;
}

static void member_init(struct member *m, const char *key, int status)
{
    memset(m, 0, sizeof(*m));
    m->key = key;
    m->status = status;
}

static void test_savepoints_and_answers(uv_loop_t *loop)
{
    struct commit_stats stats = {0};
    struct commit_group *g = commit_group_new(loop, fx.st, &ops, NULL, &stats);
    struct member a, b, c, d;

    fx.answers = fx.committed_calls = 0;
    member_init(&a, "a", 201);
    member_init(&b, "b", 409); /* a loser between two winners */
    member_init(&c, "c", 201);
    member_init(&d, "d", 422);
    b.sloppy = d.sloppy = 1; /* their savepoints undo them all the same */
    commit_group_add(g, &a.m);
    commit_group_add(g, &b.m);
    commit_group_add(g, &c.m);
    commit_group_add(g, &d.m);
    CHECK_EQ_INT(commit_group_pending(g), 4);
    CHECK_EQ_INT(commit_group_run(g), 4);
    CHECK_EQ_INT(commit_group_pending(g), 0);
    CHECK(a.depth_seen && b.depth_seen);
    /* Answered in arrival order, all after the COMMIT: the winners are durable by then. */
    CHECK_EQ_INT(a.answered, 1);
    CHECK_EQ_INT(b.answered, 2);
    CHECK_EQ_INT(c.answered, 3);
    CHECK_EQ_INT(d.answered, 4);
    CHECK(a.committed && b.committed && c.committed && d.committed);
    CHECK_EQ_INT(a.durable_at_answer, 1);
    CHECK_EQ_INT(c.durable_at_answer, 1);
    /* The losers' writes went with their savepoints; their neighbours' stayed. */
    CHECK(stored("a") && stored("c"));
    CHECK(!stored("b") && !stored("d"));
    CHECK_EQ_INT(store_in_transaction(fx.st), 0);
    CHECK_EQ_INT(fx.committed_calls, 1);
    CHECK_EQ_INT(stats.groups, 1);
    CHECK_EQ_INT(stats.members, 4);
    CHECK_EQ_INT(stats.largest, 4);
    CHECK_EQ_INT(stats.failed, 0);

    /* Only losers: committed, answered, but nothing changed, so no committed call. */
    member_init(&a, "e", 409);
    member_init(&b, "e2", 409);
    b.sloppy = 1;
    commit_group_add(g, &a.m);
    commit_group_add(g, &b.m);
    CHECK_EQ_INT(commit_group_run(g), 2);
    CHECK_EQ_INT(fx.committed_calls, 1);
    CHECK(!stored("e") && !stored("e2"));

    /* Alone: no group transaction around it; its own COMMIT precedes its answer. */
    member_init(&a, "alone", 201);
    commit_group_add(g, &a.m);
    CHECK_EQ_INT(commit_group_run(g), 1);
    CHECK_EQ_INT(a.depth_seen, 0);
    CHECK(a.committed && a.durable_at_answer == 1);
    CHECK_EQ_INT(fx.committed_calls, 2);
    member_init(&a, "alone409", 409);
    commit_group_add(g, &a.m);
    CHECK_EQ_INT(commit_group_run(g), 1);
    CHECK(!stored("alone409"));
    CHECK_EQ_INT(fx.committed_calls, 2);
    CHECK_EQ_INT(stats.groups, 4);
    CHECK_EQ_INT(stats.members, 8);
    CHECK_EQ_INT(commit_group_run(g), 0); /* nothing queued: nothing done */
    commit_group_close(g);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void test_bounds(uv_loop_t *loop)
{
    enum { N = COMMIT_GROUP_MAX_MEMBERS + 6 };
    static struct member many[N];
    static char keys[N][16];
    struct commit_stats stats = {0};
    struct commit_group *g = commit_group_new(loop, fx.st, &ops, NULL, &stats);
    struct member slow, next;

    fx.answers = fx.committed_calls = 0;
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "n%d", i);
        member_init(&many[i], keys[i], 201);
        commit_group_add(g, &many[i].m);
    }
    CHECK_EQ_INT(commit_group_run(g), COMMIT_GROUP_MAX_MEMBERS);
    CHECK_EQ_INT(commit_group_pending(g), 6);
    CHECK_EQ_INT(stats.cut, 1);
    CHECK_EQ_INT(many[N - 1].answered, 0);
    CHECK(!stored(keys[N - 1]));
    CHECK_EQ_INT(commit_group_run(g), 6);
    CHECK(stored(keys[N - 1]));
    CHECK_EQ_INT(stats.groups, 2);
    CHECK_EQ_INT(stats.largest, COMMIT_GROUP_MAX_MEMBERS);

    /* A member that takes longer than the time bound ends its group alone. */
    member_init(&slow, "slow", 201);
    slow.sleep_ms = COMMIT_GROUP_MAX_US / 1000 + 5;
    member_init(&next, "next", 201);
    commit_group_add(g, &slow.m);
    commit_group_add(g, &next.m);
    CHECK_EQ_INT(commit_group_run(g), 1);
    CHECK(slow.answered != 0 && next.answered == 0);
    CHECK_EQ_INT(commit_group_run(g), 1);
    CHECK(stored("slow") && stored("next"));
    commit_group_close(g);
    uv_run(loop, UV_RUN_NOWAIT);
}

/*
 * A COMMIT that fails: a trigger (made on another connection, as a test
 * can) inserts a row whose deferred foreign key points nowhere, which
 * SQLite checks only at COMMIT.
 */
static int trap_install(void)
{
    sqlite3 *db;
    int rc;

    if (sqlite3_open(fx.db_path, &db) != SQLITE_OK)
        return -1;
    sqlite3_busy_timeout(db, 5000);
    rc = sqlite3_exec(db,
                      "CREATE TABLE trap_parent(id TEXT PRIMARY KEY);"
                      "CREATE TABLE trap(ref TEXT REFERENCES trap_parent(id) "
                      "  DEFERRABLE INITIALLY DEFERRED);"
                      "CREATE TRIGGER trap_meta AFTER INSERT ON meta WHEN NEW.key = 'boom' "
                      "BEGIN INSERT INTO trap VALUES('missing'); END;",
                      NULL, NULL, NULL);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

static void test_commit_fails(uv_loop_t *loop)
{
    struct commit_stats stats = {0};
    struct commit_group *g = commit_group_new(loop, fx.st, &ops, NULL, &stats);
    struct member a, boom, c, after;

    CHECK_EQ_INT(trap_install(), 0);
    fx.answers = fx.committed_calls = 0;
    member_init(&a, "f1", 201);
    member_init(&boom, "boom", 201);
    member_init(&c, "f2", 201);
    commit_group_add(g, &a.m);
    commit_group_add(g, &boom.m);
    commit_group_add(g, &c.m);
    CHECK_EQ_INT(commit_group_run(g), 3);
    /* Each member is told; none was kept, not even the two that did nothing wrong. */
    CHECK(a.answered && boom.answered && c.answered);
    CHECK(!a.committed && !boom.committed && !c.committed);
    CHECK(!stored("f1") && !stored("f2") && !stored("boom"));
    CHECK_EQ_INT(fx.committed_calls, 0);
    CHECK_EQ_INT(stats.failed, 1);
    CHECK_EQ_INT(stats.groups, 0);
    CHECK_EQ_INT(store_in_transaction(fx.st), 0);

    /* The next group commits as usual. */
    member_init(&after, "f3", 201);
    commit_group_add(g, &after.m);
    CHECK_EQ_INT(commit_group_run(g), 1);
    CHECK(after.committed && stored("f3"));
    CHECK_EQ_INT(fx.committed_calls, 1);
    commit_group_close(g);
    uv_run(loop, UV_RUN_NOWAIT);
}

/* In the loop: the check phase after the turn that queued them runs the group. */
static void test_loop(uv_loop_t *loop)
{
    struct commit_group *g = commit_group_new(loop, fx.st, &ops, NULL, NULL);
    struct member a, b;

    fx.answers = 0;
    member_init(&a, "l1", 201);
    member_init(&b, "l2", 201);
    commit_group_add(g, &a.m);
    commit_group_add(g, &b.m);
    CHECK_EQ_INT(a.answered, 0);
    uv_run(loop, UV_RUN_NOWAIT);
    CHECK(a.answered == 1 && b.answered == 2);
    CHECK(stored("l1") && stored("l2"));
    /* Nothing queued: the check handle is stopped, so the loop has nothing to keep it alive. */
    CHECK_EQ_INT(uv_loop_alive(loop), 0);

    /* Closing answers what is still queued. */
    member_init(&a, "l3", 201);
    commit_group_add(g, &a.m);
    commit_group_close(g);
    CHECK(a.answered != 0 && stored("l3"));
    uv_run(loop, UV_RUN_NOWAIT);
    CHECK_EQ_INT(uv_loop_alive(loop), 0);
}

int main(void)
{
    char dir[512], path[600];
    uv_loop_t loop;

    check_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/group.db", dir);
    fx.db_path = path;
    CHECK_EQ_INT(store_open(path, DURABILITY_FULL, &fx.st), STORE_OK);
    uv_loop_init(&loop);
    test_savepoints_and_answers(&loop);
    test_bounds(&loop);
    test_loop(&loop);
    test_commit_fails(&loop);
    uv_loop_close(&loop);
    store_close(fx.st);
    check_rmdir(dir);
    return check_finish();
}
