/*
 * test_checkpoint.c - WAL checkpoints on their own thread (store/checkpoint.c).
 *
 * 1. A burst of small commits, far more frames than the checkpoint interval:
 *    the thread checkpoints, the WAL file (which keeps the largest size it
 *    ever reached) stays within the bound, and every row is there after
 *    reopening, in a database that passes integrity_check.
 * 2. A writer process killed with SIGKILL while a checkpoint is copying
 *    pages (seen as the database file growing: only checkpoints write it),
 *    three times over: every commit it had reported is there afterwards and
 *    the file passes integrity_check.
 */
#include "check.h"

#include "convene/store.h"
#include "convene/util.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* As in checkpoint.c: the thread starts at 8,192 frames, the writer takes over at twice that. */
#define START_FRAMES 8192
#define BOUND_FRAMES (2 * START_FRAMES)
#define FRAME_BYTES (4096 + 24)

static char dir[512];
static char payload[1600];

static struct store *open_store(const char *path)
{
    struct store *st = NULL;

    if (store_open(path, DURABILITY_NORMAL, &st) != STORE_OK || st == NULL) {
        fprintf(stderr, "cannot open %s: giving up\n", path);
        exit(2);
    }
    return st;
}

/* One message in its own transaction: one or two WAL frames. */
static int commit_one(struct store *st)
{
    if (store_begin(st) != STORE_OK)
        return -1;
    if (store_outbox_append(st, "test.burst", payload, NULL) != STORE_OK) {
        store_rollback(st);
        return -1;
    }
    return store_commit(st) == STORE_OK ? 0 : -1;
}

static long long file_size(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/*
 * Checks that the outbox's newest seq is at least at_least and that the file
 * passes integrity_check, each read afresh; returns that seq.
 */
static int64_t check_file(const char *path, int64_t at_least)
{
    struct store *st = open_store(path);
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int64_t last = -1;

    CHECK_EQ_INT(store_outbox_last(st, &last), STORE_OK);
    CHECK(last >= at_least);
    if (last < at_least)
        fprintf(stderr, "    outbox ends at %lld, %lld were committed\n", (long long)last,
                (long long)at_least);
    store_close(st);
    CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(stmt), SQLITE_ROW);
    CHECK_EQ_STR((const char *)sqlite3_column_text(stmt, 0), "ok");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return last;
}

static void test_burst_stays_bounded(void)
{
    char path[600], wal[610];
    struct store *st;
    uint64_t thread = 0, loop = 0;
    int n = 3 * BOUND_FRAMES, failed = 0;

    snprintf(path, sizeof(path), "%s/burst.db", dir);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    st = open_store(path);
    for (int i = 0; i < n; i++)
        failed += commit_one(st) != 0;
    CHECK_EQ_INT(failed, 0);
    store_checkpoint_counts(st, &thread, &loop);
    fprintf(stderr, "burst: %d commits, checkpoints: %llu on the thread, %llu on the writer, "
                    "WAL file %lld bytes\n",
            n, (unsigned long long)thread, (unsigned long long)loop, file_size(wal));
    CHECK(thread >= 1);
    /* The bound plus the frames of the commit that crossed it (a message: at most a few). */
    CHECK(file_size(wal) <= (long long)(BOUND_FRAMES + 16) * FRAME_BYTES + 32);
    store_close(st);
    check_file(path, n);
}

/*
 * The child: commits messages one by one and reports each on the pipe,
 * until it is killed.
 */
static void writer_child(const char *path, int fd)
{
    struct store *st = open_store(path);

    for (int32_t done = 1;; done++) {
        if (commit_one(st) != 0 || write(fd, &done, sizeof(done)) != (ssize_t)sizeof(done))
            _exit(3);
    }
}

/* Starts the writer and kills it once the database file grows (a checkpoint is copying). */
static int64_t kill_mid_checkpoint(const char *path, int64_t before)
{
    int fds[2];
    pid_t pid;
    int32_t acked = 0, v;
    long long size0 = file_size(path);
    int killed = 0;

    if (pipe(fds) != 0 || (pid = fork()) < 0) {
        perror("pipe/fork");
        exit(2);
    }
    if (pid == 0) {
        close(fds[0]);
        writer_child(path, fds[1]);
    }
    close(fds[1]);
    while (read(fds[0], &v, sizeof(v)) == (ssize_t)sizeof(v)) {
        acked = v;
        if (!killed && acked > START_FRAMES / 4 && file_size(path) != size0) {
            kill(pid, SIGKILL);
            killed = 1;
        }
        if (!killed && acked > 6 * BOUND_FRAMES) {
            kill(pid, SIGKILL); /* no checkpoint seen: still a crash, but say so */
            fprintf(stderr, "crash: no checkpoint seen in %d commits\n", acked);
            killed = 1;
        }
    }
    close(fds[0]);
    waitpid(pid, NULL, 0);
    fprintf(stderr, "crash: killed after %d reported commits, database %lld -> %lld bytes\n",
            acked, size0, file_size(path));
    CHECK(killed);
    return before + acked;
}

static void test_crash_mid_checkpoint(void)
{
    char path[600];
    int64_t committed = 0;

    snprintf(path, sizeof(path), "%s/crash.db", dir);
    store_close(open_store(path)); /* migrated before the first child starts */
    /* Each round's messages follow those the last round left, reported or not. */
    for (int round = 0; round < 3; round++)
        committed = check_file(path, kill_mid_checkpoint(path, committed));
}

int main(void)
{
    memset(payload, 'x', sizeof(payload) - 1);
    payload[0] = '"';
    payload[sizeof(payload) - 2] = '"';
    check_tmpdir(dir, sizeof(dir));
    test_burst_stays_bounded();
    test_crash_mid_checkpoint();
    check_rmdir(dir);
    return check_finish();
}
