/*
 * db.c - the SQLite connection: opening with the pragmas we depend on,
 * the prepared-statement cache, transactions and online backup.
 */
#include "store_internal.h"

#include "convene/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000

static uint64_t sql_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

int store_fail(struct store *st, const char *func)
{
    log_error("%s: sqlite: %s", func, sqlite3_errmsg(st->db));
    return STORE_ERROR;
}

/* A cached statement, reset and unbound for its next use. */
static sqlite3_stmt *stmt_reuse(struct stmt_slot *slot)
{
    sqlite3_reset(slot->stmt);
    sqlite3_clear_bindings(slot->stmt);
    return slot->stmt;
}

sqlite3_stmt *store_stmt(struct store *st, const char *sql)
{
    size_t mask = STMT_CACHE_SIZE - 1;
    /*
     * Callers pass string literals: the address finds the slot without
     * hashing the text (FNV over a few hundred bytes per call was 4% of a
     * booking). strcmp still confirms it, since a text built in a buffer
     * may reuse an address.
     */
    struct stmt_recent *recent = &st->recent[((uintptr_t)sql >> 3) & (STMT_RECENT_SIZE - 1)];
    size_t i;

    if (recent->sql == sql && strcmp(st->cache[recent->slot].sql, sql) == 0)
        return stmt_reuse(&st->cache[recent->slot]);
    i = (size_t)sql_hash(sql) & mask;
    for (size_t probe = 0; probe < STMT_CACHE_SIZE; probe++, i = (i + 1) & mask) {
        struct stmt_slot *slot = &st->cache[i];
        if (slot->sql == NULL) {
            if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->stmt,
                                   NULL) != SQLITE_OK) {
                log_error("%s: prepare failed: %s: %s", __func__, sqlite3_errmsg(st->db), sql);
                slot->stmt = NULL;
                return NULL;
            }
            slot->sql = xstrdup(sql);
            *recent = (struct stmt_recent){sql, i};
            return slot->stmt;
        }
        if (strcmp(slot->sql, sql) == 0) {
            *recent = (struct stmt_recent){sql, i};
            return stmt_reuse(slot);
        }
    }
    log_error("%s: statement cache full", __func__);
    return NULL;
}

void store_stmt_done(sqlite3_stmt *stmt)
{
    if (stmt != NULL)
        sqlite3_reset(stmt);
}

int store_step_done(struct store *st, sqlite3_stmt *stmt, const char *func)
{
    int rc = sqlite3_step(stmt);

    store_stmt_done(stmt);
    if (rc == SQLITE_CONSTRAINT)
        return STORE_DUPLICATE;
    return rc == SQLITE_DONE ? STORE_OK : store_fail(st, func);
}

int store_bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
    if (s == NULL || *s == '\0')
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_text(stmt, idx, s, -1, SQLITE_TRANSIENT);
}

void store_column_copy(sqlite3_stmt *stmt, int col, char *dst, size_t cap)
{
    const unsigned char *s = sqlite3_column_text(stmt, col);
    snprintf(dst, cap, "%s", s ? (const char *)s : "");
}

static int exec(struct store *st, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("store: %s: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return STORE_ERROR;
    }
    return STORE_OK;
}

/*
 * The database holds confidential titles and phone numbers, so its files
 * are the owner's only (0600), whatever the umask. A missing file is
 * created 0600 before SQLite opens it: SQLite gives the -wal and -shm files
 * it creates the database file's mode, so they follow. An existing file
 * that others may read (made by an older version, or copied in) is
 * tightened. Only the path is used, never a descriptor: closing any
 * descriptor of a file drops this process's POSIX locks on it, which
 * another SQLite connection here may hold. 0, or -1 with errno.
 */
int store_file_private(const char *path, int create)
{
    struct stat sb;

    if (stat(path, &sb) != 0) {
        int fd;
        if (errno != ENOENT || !create)
            return errno == ENOENT ? 0 : -1;
        if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
            return errno == EEXIST ? store_file_private(path, 0) : -1;
        close(fd);
        return 0;
    }
    if (S_ISREG(sb.st_mode) && (sb.st_mode & 077) != 0) {
        if (chmod(path, sb.st_mode & 0700) != 0)
            return -1;
        log_info("store: %s was readable by others; now mode %o", path,
                 (unsigned)(sb.st_mode & 0700));
    }
    return 0;
}

/* The -wal and -shm files beside the database, once SQLite has made them. */
static void sidecars_private(const char *path)
{
    static const char *const suffix[] = {"-wal", "-shm"};
    char side[CONFIG_PATH_MAX + 8];

    for (size_t i = 0; i < ARRAY_SIZE(suffix); i++) {
        snprintf(side, sizeof(side), "%s%s", path, suffix[i]);
        if (store_file_private(side, 0) != 0)
            log_error("store: cannot make %s private: %s", side, strerror(errno));
    }
}

/*
 * SQLite counts every allocation under a global mutex so that
 * sqlite3_memory_used() can answer, which nothing here asks: ~900 mutex
 * calls a booking, 7% of its instructions with the connection's own.
 * Only possible before SQLite initialises; later (a test that opened a
 * connection first) the call fails harmlessly and the counting stays.
 */
static void config_once(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_open(const char *path, enum durability durability, struct store **out)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    struct store *st = xcalloc(1, sizeof(*st));
    char pragmas[256];

    pthread_once(&configured, config_once);

    /* A failure here (a missing directory) is SQLite's to report below. */
    if (store_file_private(path, 1) != 0 && errno != ENOENT)
        log_error("store: cannot make %s private: %s", path, strerror(errno));
    /*
     * NOMUTEX: no lock around each call on this connection (3% of a
     * booking). struct store is one thread's at a time already: its
     * statement cache and transaction depth have no lock either.
     */
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        log_error("cannot open database %s: %s", path,
                  st->db ? sqlite3_errmsg(st->db) : "out of memory");
        store_close(st);
        return STORE_ERROR;
    }
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON; "
             /*
              * An 8 MiB page cache holds the hot indexes; the read paths keep
              * parsed documents themselves (event_docs.c). No mmap: mapped pages
              * count in the service's RSS and cost more memory than the copy
              * costs time (docs/PERFORMANCE.md, "Load"). Checkpoints are
              * not SQLite's automatic ones: checkpoint.c runs them on a
              * thread (store_checkpointer_start below).
              */
             "PRAGMA mmap_size=0; PRAGMA cache_size=-8192; "
             /*
              * Savepoints keep the original of each page they change in a
              * sub-journal, which SQLite spills to a temporary file past 64
              * KiB; a commit group (http/commit_group.c) holds every request in
              * one, and a booking changes about 65 pages: in memory it is a
              * copy instead of a write(2) per page (PERFORMANCE.md, group commit).
              */
             "PRAGMA temp_store=MEMORY;",
             durability == DURABILITY_FULL ? "FULL" : "NORMAL");
    st->durable = durability == DURABILITY_FULL;
    /*
     * A database newer than this binary is refused before the pragmas run:
     * journal_mode=WAL rewrites the header of a rollback-journal file, and a
     * refused database must be left exactly as it was. store_migrate does
     * nothing else in that case but say why.
     */
    if (store_schema_version(st) > store_schema_latest()) {
        store_migrate(st);
        store_close(st);
        return STORE_ERROR;
    }
    if (exec(st, pragmas) != STORE_OK || store_migrate(st) != STORE_OK) {
        store_close(st);
        return STORE_ERROR;
    }
    sidecars_private(path);
    store_checkpointer_start(st);
    *out = st;
    return STORE_OK;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    store_checkpointer_stop(st);
    for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
        sqlite3_finalize(st->cache[i].stmt);
        free(st->cache[i].sql);
    }
    sqlite3_close(st->db);
    free(st);
}

/* Runs one cached statement that returns no rows. */
static int run(struct store *st, const char *sql)
{
    sqlite3_stmt *stmt = store_stmt(st, sql);
    int rc = stmt ? sqlite3_step(stmt) : SQLITE_ERROR;

    store_stmt_done(stmt);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

/*
 * Transactions nest: the outermost is BEGIN IMMEDIATE (the write lock is
 * taken before any read, so checks and writes see one state), inner ones
 * are savepoints. That lets a batch (seeding, import) wrap the same
 * handlers that run alone over HTTP, all or nothing.
 */
int store_begin(struct store *st)
{
    if (run(st, st->depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT nested") != STORE_OK)
        return store_fail(st, __func__);
    st->depth++;
    return STORE_OK;
}

int store_commit(struct store *st)
{
    if (st->depth == 0)
        return STORE_ERROR;
    if (run(st, st->depth == 1 ? "COMMIT" : "RELEASE nested") != STORE_OK) {
        store_fail(st, __func__);
        store_rollback(st);
        return STORE_ERROR;
    }
    st->depth--;
    return STORE_OK;
}

/*
 * Asked by every request's caches (20% of a cached GET when each asked
 * SQLite), so the answer is reused for a millisecond: another process's
 * change is seen at most that much later, which no client can tell from
 * the request having come first.
 */
int store_data_version(struct store *st, int64_t *version)
{
    uint64_t now = clock_monotonic_us();
    sqlite3_stmt *stmt;
    int rc;

    if (st->data_version_at != 0 && now - st->data_version_at < 1000) {
        *version = st->data_version;
        return STORE_OK;
    }
    if ((stmt = store_stmt(st, "PRAGMA data_version")) == NULL)
        return STORE_ERROR;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *version = st->data_version = sqlite3_column_int64(stmt, 0);
        st->data_version_at = now;
    }
    store_stmt_done(stmt);
    return rc == SQLITE_ROW ? STORE_OK : store_fail(st, __func__);
}

int store_in_transaction(const struct store *st)
{
    return st->depth > 0;
}

void store_on_event_write(struct store *st, void (*fn)(void *arg, const char *event_id),
                          void *arg)
{
    st->on_event_write = fn;
    st->on_event_write_arg = arg;
}

void store_rollback(struct store *st)
{
    if (st->depth == 0)
        return;
    st->depth--;
    if (st->depth > 0) {
        run(st, "ROLLBACK TO nested");
        run(st, "RELEASE nested");
    } else if (!sqlite3_get_autocommit(st->db)) {
        /* A failed COMMIT may already have rolled back; only roll back what is open. */
        run(st, "ROLLBACK");
    }
}

int store_begin_derived(struct store *st)
{
    /* Outside a transaction, so the pragma takes effect for this one only. */
    if (st->durable && st->depth == 0 && run(st, "PRAGMA synchronous=NORMAL") != STORE_OK)
        return store_fail(st, __func__);
    if (store_begin(st) != STORE_OK) {
        store_durability_restore(st);
        return STORE_ERROR;
    }
    return STORE_OK;
}

void store_durability_restore(struct store *st)
{
    if (st->durable && st->depth == 0)
        run(st, "PRAGMA synchronous=FULL");
}

int64_t store_size_bytes(struct store *st)
{
    sqlite3_stmt *stmt = store_stmt(
        st, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    int64_t size = -1;

    if (stmt != NULL && sqlite3_step(stmt) == SQLITE_ROW)
        size = sqlite3_column_int64(stmt, 0);
    store_stmt_done(stmt);
    return size;
}

int store_backup(const char *src_path, const char *dst_path, char *err, size_t errlen)
{
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_backup *bk = NULL;
    char tmp[CONFIG_PATH_MAX + 8];
    int rc = STORE_ERROR;

    snprintf(tmp, sizeof(tmp), "%s.part", dst_path);
    unlink(tmp);
    /* The copy is as secret as the original: created 0600 (its journal follows). */
    if (store_file_private(tmp, 1) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        goto done;
    }
    if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", src_path, sqlite3_errmsg(src));
        goto done;
    }
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, sqlite3_errmsg(dst));
        goto done;
    }
    sqlite3_busy_timeout(src, BUSY_TIMEOUT_MS);
    bk = sqlite3_backup_init(dst, "main", src, "main");
    if (bk == NULL) {
        snprintf(err, errlen, "backup: %s", sqlite3_errmsg(dst));
        goto done;
    }
    /*
     * Copy in steps so the running service's writer is never held off for
     * long; a step that meets a lock simply waits and retries.
     */
    for (;;) {
        int step = sqlite3_backup_step(bk, 256);
        if (step == SQLITE_DONE)
            break;
        if (step == SQLITE_BUSY || step == SQLITE_LOCKED) {
            sqlite3_sleep(20);
            continue;
        }
        if (step != SQLITE_OK) {
            snprintf(err, errlen, "backup step: %s", sqlite3_errstr(step));
            goto done;
        }
    }
    if (sqlite3_backup_finish(bk) != SQLITE_OK) {
        bk = NULL;
        snprintf(err, errlen, "backup: %s", sqlite3_errmsg(dst));
        goto done;
    }
    bk = NULL;
    /* The copy keeps WAL mode; fold it into one self-contained file. */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "backup: %s", sqlite3_errmsg(dst));
        goto done;
    }
    sqlite3_close(dst);
    dst = NULL;
    if (rename(tmp, dst_path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s", tmp, dst_path);
        goto done;
    }
    rc = STORE_OK;
done:
    if (bk != NULL)
        sqlite3_backup_finish(bk);
    sqlite3_close(dst);
    sqlite3_close(src);
    if (rc != STORE_OK)
        unlink(tmp);
    return rc;
}
