/*
 * checkpoint.c - WAL checkpoints off the loop thread.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL
 * past wal_autocheckpoint frames, on the committing connection: on the
 * loop, where it copied ~8,000 frames into the database file and synced it
 * while every request waited (9% of the loop at 32 booking connections:
 * docs/PERFORMANCE.md, group commit). Instead, the writer's WAL hook asks a
 * thread with a connection of its own for PASSIVE checkpoints, which block
 * neither the writer nor readers.
 *
 * A PASSIVE checkpoint never restarts the log. The writer restarts it at
 * its next transaction if, when that transaction begins, every frame is in
 * the database file; under steady writes a pass never quite ends before
 * the next commit, and passes back to back (tried first) wrote the hot
 * pages and synced the file over and over: 473 passes and 788 syncs for
 * 3,000 bookings. So a cycle is: the thread copies the bulk, then what
 * was committed meanwhile (CHECKPOINT_THREAD_PASSES), and the writer
 * copies the few frames left itself after its next commit, so that the
 * following transaction restarts the log. If the thread falls far behind
 * (a slow disk), at CHECKPOINT_BOUND_FRAMES the writer waits for its pass
 * and checkpoints as SQLite did: the WAL stays bounded.
 *
 * Durability is SQLite's, unchanged: the WAL stays authoritative until
 * its frames are in the database file and that file is synced (the
 * thread's connection has the writer's synchronous level), so a crash at
 * any point of a checkpoint loses nothing.
 */
#include "store_internal.h"

#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * 8,192 frames (32 MiB of 4 KiB pages), the interval the writer used: a
 * hot index page is written back once per interval, not once per commit.
 */
#define CHECKPOINT_START_FRAMES 8192
/* Twice that: the thread is far behind, and the writer takes over. */
#define CHECKPOINT_BOUND_FRAMES (2 * CHECKPOINT_START_FRAMES)
/* The bulk and one catching up; what the writer then copies is about a group's frames. */
#define CHECKPOINT_THREAD_PASSES 2

struct store_checkpointer {
    struct store *st;      /* the writer's store, for its path and durability */
    pthread_t thread;      /* started at the first request, joined by _stop */
    pthread_mutex_t mu;    /* guards wanted, held, running and stop */
    pthread_cond_t cv;     /* broadcast when any of them changes */
    int wanted;            /* a pass was asked for since the last began */
    int held;              /* the writer checkpoints itself: no pass may start */
    int running;           /* a pass is under way */
    int stop;              /* the thread is to close its connection and end */
    atomic_int busy;       /* a pass is asked for or under way: the writer's cheap test */
    atomic_int passes;     /* passes done since the log last restarted */
    sqlite3 *db;           /* the thread's connection: opened, used, closed there */
    char *path;            /* the database file, owned */
};

static void checkpointer_open(struct store_checkpointer *c)
{
    char sql[64];

    if (sqlite3_open_v2(c->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        log_error("%s: cannot open %s: %s", __func__, c->path,
                  c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        c->db = NULL;
        return;
    }
    /* The sync of the database file before the WAL may be reused follows this level. */
    snprintf(sql, sizeof(sql), "PRAGMA synchronous=%s", c->st->durable ? "FULL" : "NORMAL");
    if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        log_error("%s: %s", __func__, sqlite3_errmsg(c->db));
}

/* One PASSIVE checkpoint: copies what no reader still needs, waits for no lock. */
static void checkpointer_pass(struct store_checkpointer *c)
{
    int log_frames = 0, copied = 0, rc;

    if (c->db == NULL)
        checkpointer_open(c);
    if (c->db == NULL)
        return;
    rc = sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                   &copied);
    /* BUSY: the writer is checkpointing itself (past the bound). */
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        log_error("%s: %s", __func__, sqlite3_errmsg(c->db));
    if (rc == SQLITE_OK) {
        atomic_fetch_add(&c->passes, 1);
        atomic_fetch_add(&c->st->checkpoints_thread, 1);
    }
}

static void *checkpointer_main(void *arg)
{
    struct store_checkpointer *c = arg;

    for (;;) {
        pthread_mutex_lock(&c->mu);
        while ((!c->wanted || c->held) && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop) {
            pthread_mutex_unlock(&c->mu);
            break;
        }
        c->wanted = 0;
        c->running = 1;
        pthread_mutex_unlock(&c->mu);
        checkpointer_pass(c);
        pthread_mutex_lock(&c->mu);
        c->running = 0;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        atomic_store(&c->busy, 0);
    }
    sqlite3_close(c->db);
    return NULL;
}

/* Asks for a pass, starting the thread the first time. 0, or -1 if it cannot start. */
static int checkpointer_ask(struct store *st)
{
    struct store_checkpointer *c = st->checkpointer;
    const char *path;

    if (c == NULL) {
        /* A temporary database ("") has no file another connection could open. */
        if ((path = sqlite3_db_filename(st->db, "main")) == NULL || *path == '\0')
            return -1;
        c = xcalloc(1, sizeof(*c));
        c->st = st;
        c->path = xstrdup(path);
        pthread_mutex_init(&c->mu, NULL);
        pthread_cond_init(&c->cv, NULL);
        if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
            log_error("%s: cannot start the checkpoint thread", __func__);
            pthread_cond_destroy(&c->cv);
            pthread_mutex_destroy(&c->mu);
            free(c->path);
            free(c);
            return -1;
        }
        st->checkpointer = c;
    }
    atomic_store(&c->busy, 1);
    pthread_mutex_lock(&c->mu);
    c->wanted = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* Holds the thread (held != 0: a pass under way is waited for, no new one starts) or lets it go. */
static void checkpointer_hold(struct store_checkpointer *c, int held)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->held = held;
    while (held && c->running)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/*
 * The writer's WAL hook, called after each of its commits (the write lock
 * already released) with the frames in the log: one atomic load while the
 * thread works. When the thread has done its passes of this cycle, or the
 * log is past the bound, or no thread can be started, it checkpoints here
 * as SQLite's default hook did, after any pass under way (SQLite would
 * answer a second checkpointer BUSY without waiting).
 */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct store *st = arg;
    struct store_checkpointer *c = st->checkpointer;

    if (frames < CHECKPOINT_START_FRAMES) {
        if (c != NULL && atomic_load(&c->passes) != 0)
            atomic_store(&c->passes, 0); /* the log restarted: a new cycle */
        return SQLITE_OK;
    }
    if (frames < CHECKPOINT_BOUND_FRAMES) {
        if (c != NULL && atomic_load(&c->busy))
            return SQLITE_OK;
        if ((c == NULL || atomic_load(&c->passes) < CHECKPOINT_THREAD_PASSES) &&
            checkpointer_ask(st) == 0)
            return SQLITE_OK;
    }
    checkpointer_hold(st->checkpointer, 1);
    if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) == SQLITE_OK)
        st->checkpoints_loop++;
    checkpointer_hold(st->checkpointer, 0);
    return SQLITE_OK;
}

void store_checkpointer_start(struct store *st)
{
    sqlite3_wal_hook(st->db, on_wal_commit, st);
}

void store_checkpointer_stop(struct store *st)
{
    struct store_checkpointer *c = st->checkpointer;

    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c->path);
    free(c);
    st->checkpointer = NULL;
}

void store_checkpoint_counts(struct store *st, uint64_t *thread, uint64_t *loop)
{
    *thread = atomic_load(&st->checkpoints_thread);
    *loop = st->checkpoints_loop;
}
