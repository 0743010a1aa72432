/*
 * test_store.c - the SQLite store on a temporary file: migrations, tokens,
 * records with soft deletion, feed tokens, blocks, nested transactions and
 * the online backup of a database that is being written, and the modes of
 * the files the store creates (0600 whatever the umask).
 */
#include "check.h"

#include "convene/store.h"
#include "convene/util.h"

#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[512];

static void path_in_dir(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static struct store *open_store(const char *path)
{
    struct store *st = NULL;

    CHECK_EQ_INT(store_open(path, DURABILITY_NORMAL, &st), STORE_OK);
    if (st == NULL) {
        fprintf(stderr, "cannot open %s: giving up\n", path);
        exit(2);
    }
    return st;
}

/* Fills a room record (record_init()ed) with the columns that are NOT NULL. */
static void room_fill(struct record *rec, const char *id, const char *name, int64_t capacity)
{
    const struct record_type *t = &record_room;

    record_clear(rec, t);
    record_init(rec, t);
    snprintf(rec->id, sizeof(rec->id), "%s", id);
    rec->version = 1;
    rec->created_at = rec->updated_at = 1000;
    rec->feed_generation = 1;
    rec->values[record_field_index(t, "name")] = (struct field_value){1, 0, xstrdup(name)};
    rec->values[record_field_index(t, "capacity")] = (struct field_value){1, capacity, NULL};
    rec->values[record_field_index(t, "setup_minutes")] = (struct field_value){1, 0, NULL};
    rec->values[record_field_index(t, "teardown_minutes")] = (struct field_value){1, 0, NULL};
}

static int insert_room(struct store *st, const char *id, const char *name)
{
    struct record rec;
    int rc;

    memset(&rec, 0, sizeof(rec));
    room_fill(&rec, id, name, 10);
    rc = store_record_insert(st, &record_room, &rec);
    record_clear(&rec, &record_room);
    return rc;
}

/* STORE_OK if the room is live, STORE_NOTFOUND if not. */
static int room_state(struct store *st, const char *id)
{
    struct record rec;
    int rc;

    record_init(&rec, &record_room);
    rc = store_record_get(st, &record_room, id, &rec);
    record_clear(&rec, &record_room);
    return rc;
}

static int64_t room_count(struct store *st)
{
    int64_t n = -1;

    CHECK_EQ_INT(store_record_count(st, &record_room, &n), STORE_OK);
    return n;
}

static void test_migrations(void)
{
    char path[600];
    struct store *st;

    path_in_dir(path, sizeof(path), "migrate.db");
    st = open_store(path);
    CHECK(store_schema_latest() >= 1);
    CHECK_EQ_INT(store_schema_version(st), store_schema_latest());
    CHECK_EQ_INT(insert_room(st, "room_1", "Kept"), STORE_OK);
    store_close(st);

    /* Reopening runs nothing and loses nothing. */
    st = open_store(path);
    CHECK_EQ_INT(store_schema_version(st), store_schema_latest());
    CHECK_EQ_INT(room_state(st, "room_1"), STORE_OK);
    CHECK_EQ_INT(room_count(st), 1);
    store_close(st);
    st = open_store(path);
    CHECK_EQ_INT(store_schema_version(st), store_schema_latest());
    store_close(st);

    store_close(NULL); /* accepted, does nothing */
}

static void test_newer_schema_refused(void)
{
    char path[600], sql[64];
    sqlite3 *db = NULL;
    struct store *st = NULL;

    path_in_dir(path, sizeof(path), "future.db");
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%d;", store_schema_latest() + 1);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    CHECK_EQ_INT(store_open(path, DURABILITY_FULL, &st), STORE_ERROR);
    CHECK(st == NULL);

    /* And the refusal did not touch the file's version. */
    db = NULL;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(stmt), SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(stmt, 0), store_schema_latest() + 1);
    sqlite3_finalize(stmt);
    sqlite3_close(db);

    /* A directory that does not exist cannot hold a database. */
    path_in_dir(path, sizeof(path), "missing/dir/x.db");
    st = NULL;
    CHECK_EQ_INT(store_open(path, DURABILITY_FULL, &st), STORE_ERROR);
    CHECK(st == NULL);
}

static void test_tokens(struct store *st)
{
    struct token_record tok, found;
    unsigned char other[TOKEN_HASH_LEN];
    int64_t n = -1;

    memset(&tok, 0, sizeof(tok));
    snprintf(tok.id, sizeof(tok.id), "tok_1");
    snprintf(tok.name, sizeof(tok.name), "first admin");
    snprintf(tok.role, sizeof(tok.role), "admin");
    token_hash("secret-1", 8, tok.hash);
    tok.created_at = 1234;
    CHECK_EQ_INT(store_token_insert(st, &tok), STORE_OK);

    memset(&found, 0x7e, sizeof(found));
    CHECK_EQ_INT(store_token_find(st, tok.hash, &found), STORE_OK);
    CHECK_EQ_STR(found.id, "tok_1");
    CHECK_EQ_STR(found.name, "first admin");
    CHECK_EQ_STR(found.role, "admin");
    CHECK_EQ_STR(found.person, "");
    CHECK_EQ_INT(found.created_at, 1234);
    CHECK(token_hash_equal(found.hash, tok.hash));

    token_hash("secret-2", 8, other);
    CHECK_EQ_INT(store_token_find(st, other, &found), STORE_NOTFOUND);

    /* Same hash again: refused as a duplicate. */
    snprintf(tok.id, sizeof(tok.id), "tok_dup");
    CHECK_EQ_INT(store_token_insert(st, &tok), STORE_DUPLICATE);

    /* A leader bound to a person. */
    struct token_record leader;
    memset(&leader, 0, sizeof(leader));
    snprintf(leader.id, sizeof(leader.id), "tok_2");
    snprintf(leader.name, sizeof(leader.name), "leader");
    snprintf(leader.role, sizeof(leader.role), "leader");
    snprintf(leader.person, sizeof(leader.person), "per_1");
    memcpy(leader.hash, other, sizeof(other));
    CHECK_EQ_INT(store_token_insert(st, &leader), STORE_OK);
    CHECK_EQ_INT(store_token_find(st, other, &found), STORE_OK);
    CHECK_EQ_STR(found.person, "per_1");
    CHECK_EQ_STR(found.role, "leader");

    CHECK_EQ_INT(store_token_count_role(st, "admin", &n), STORE_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(store_token_count_role(st, "leader", &n), STORE_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(store_token_count_role(st, "driver", &n), STORE_OK);
    CHECK_EQ_INT(n, 0);

    CHECK_EQ_INT(store_token_revoke(st, "tok_1", 2000), STORE_OK);
    CHECK_EQ_INT(store_token_find(st, tok.hash, &found), STORE_NOTFOUND);
    CHECK_EQ_INT(store_token_revoke(st, "tok_1", 2001), STORE_NOTFOUND);
    CHECK_EQ_INT(store_token_revoke(st, "tok_nope", 2001), STORE_NOTFOUND);
    CHECK_EQ_INT(store_token_count_role(st, "admin", &n), STORE_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(store_token_find(st, other, &found), STORE_OK);
}

struct names {
    char list[8][64];
    int count;
    int stop_after; /* 0 = never */
};

static int collect(const struct record *rec, void *arg)
{
    struct names *n = arg;
    const struct field_value *v = &rec->values[record_field_index(&record_room, "name")];

    if (n->count < 8)
        snprintf(n->list[n->count], sizeof(n->list[0]), "%s", v->set ? v->s : "(unset)");
    n->count++;
    return n->stop_after != 0 && n->count >= n->stop_after;
}

static void test_records(struct store *st)
{
    const struct record_type *t = &record_room;
    struct record rec;
    struct names names;
    int64_t n;

    CHECK_EQ_INT(insert_room(st, "room_b", "Bravo"), STORE_OK);
    CHECK_EQ_INT(insert_room(st, "room_c", "Charlie"), STORE_OK);
    CHECK_EQ_INT(insert_room(st, "room_a", "Alpha"), STORE_OK);
    CHECK_EQ_INT(insert_room(st, "room_a", "Again"), STORE_DUPLICATE);
    CHECK_EQ_INT(room_count(st), 3);

    /* Get: every column comes back. */
    memset(&rec, 0, sizeof(rec));
    room_fill(&rec, "room_full", "Full", 40);
    rec.values[record_field_index(t, "features")] = (struct field_value){1, 0, xstrdup("video\nprojector")};
    rec.values[record_field_index(t, "location")] = (struct field_value){1, 0, xstrdup("3F")};
    rec.values[record_field_index(t, "setup_minutes")].i = 15;
    rec.version = 4;
    rec.created_at = 111;
    rec.updated_at = 222;
    rec.feed_generation = 3;
    CHECK_EQ_INT(store_record_insert(st, t, &rec), STORE_OK);
    record_clear(&rec, t);

    record_init(&rec, t);
    CHECK_EQ_INT(store_record_get(st, t, "room_full", &rec), STORE_OK);
    CHECK_EQ_STR(rec.id, "room_full");
    CHECK_EQ_INT(rec.version, 4);
    CHECK_EQ_INT(rec.created_at, 111);
    CHECK_EQ_INT(rec.updated_at, 222);
    CHECK_EQ_INT(rec.feed_generation, 3);
    CHECK_EQ_STR(rec.values[record_field_index(t, "name")].s, "Full");
    CHECK_EQ_INT(rec.values[record_field_index(t, "capacity")].i, 40);
    CHECK_EQ_STR(rec.values[record_field_index(t, "features")].s, "video\nprojector");
    CHECK_EQ_STR(rec.values[record_field_index(t, "location")].s, "3F");
    CHECK_EQ_INT(rec.values[record_field_index(t, "setup_minutes")].i, 15);
    CHECK_EQ_INT(rec.values[record_field_index(t, "teardown_minutes")].i, 0);

    /* Update: new values and version; an optional field cleared. */
    struct field_value *loc = &rec.values[record_field_index(t, "location")];
    free(loc->s);
    *loc = (struct field_value){0, 0, NULL};
    free(rec.values[record_field_index(t, "name")].s);
    rec.values[record_field_index(t, "name")].s = xstrdup("Delta");
    rec.version = 5;
    rec.updated_at = 333;
    CHECK_EQ_INT(store_record_update(st, t, &rec), STORE_OK);
    record_clear(&rec, t);
    record_init(&rec, t);
    CHECK_EQ_INT(store_record_get(st, t, "room_full", &rec), STORE_OK);
    CHECK_EQ_STR(rec.values[record_field_index(t, "name")].s, "Delta");
    CHECK_EQ_INT(rec.values[record_field_index(t, "location")].set, 0);
    CHECK_EQ_INT(rec.version, 5);
    CHECK_EQ_INT(rec.updated_at, 333);
    CHECK_EQ_INT(rec.created_at, 111);
    /* Loading into a record that already holds values replaces them. */
    CHECK_EQ_INT(store_record_get(st, t, "room_a", &rec), STORE_OK);
    CHECK_EQ_STR(rec.values[record_field_index(t, "name")].s, "Alpha");
    CHECK_EQ_INT(rec.values[record_field_index(t, "features")].set, 0);
    record_clear(&rec, t);

    record_init(&rec, t);
    CHECK_EQ_INT(store_record_get(st, t, "room_nope", &rec), STORE_NOTFOUND);
    room_fill(&rec, "room_nope", "Nobody", 1);
    CHECK_EQ_INT(store_record_update(st, t, &rec), STORE_NOTFOUND);
    record_clear(&rec, t);
    CHECK_EQ_INT(store_record_exists(st, t, "room_a"), STORE_OK);
    CHECK_EQ_INT(store_record_exists(st, t, "room_nope"), STORE_NOTFOUND);
    /* Another kind's table does not know a room's id. */
    CHECK_EQ_INT(store_record_exists(st, &record_person, "room_a"), STORE_NOTFOUND);

    /* List: ordered by name. */
    memset(&names, 0, sizeof(names));
    CHECK_EQ_INT(store_record_list(st, t, collect, &names), STORE_OK);
    CHECK_EQ_INT(names.count, 4);
    CHECK_EQ_STR(names.list[0], "Alpha");
    CHECK_EQ_STR(names.list[1], "Bravo");
    CHECK_EQ_STR(names.list[2], "Charlie");
    CHECK_EQ_STR(names.list[3], "Delta");
    /* A callback returning non-zero stops the walk. */
    memset(&names, 0, sizeof(names));
    names.stop_after = 2;
    CHECK_EQ_INT(store_record_list(st, t, collect, &names), STORE_OK);
    CHECK_EQ_INT(names.count, 2);

    /* Feed generation. */
    CHECK_EQ_INT(store_record_set_feed_generation(st, t, "room_a", 9), STORE_OK);
    record_init(&rec, t);
    CHECK_EQ_INT(store_record_get(st, t, "room_a", &rec), STORE_OK);
    CHECK_EQ_INT(rec.feed_generation, 9);
    record_clear(&rec, t);
    CHECK_EQ_INT(store_record_set_feed_generation(st, t, "room_nope", 9), STORE_NOTFOUND);

    /* Soft delete: gone for get, exists, count, list, update; the row stays. */
    CHECK_EQ_INT(store_record_delete(st, t, "room_b", 5000), STORE_OK);
    CHECK_EQ_INT(room_state(st, "room_b"), STORE_NOTFOUND);
    CHECK_EQ_INT(store_record_exists(st, t, "room_b"), STORE_NOTFOUND);
    CHECK_EQ_INT(room_count(st), 3);
    memset(&names, 0, sizeof(names));
    CHECK_EQ_INT(store_record_list(st, t, collect, &names), STORE_OK);
    CHECK_EQ_INT(names.count, 3);
    CHECK_EQ_STR(names.list[1], "Charlie");
    CHECK_EQ_INT(store_record_delete(st, t, "room_b", 5001), STORE_NOTFOUND);
    CHECK_EQ_INT(store_record_set_feed_generation(st, t, "room_b", 2), STORE_NOTFOUND);
    record_init(&rec, t);
    room_fill(&rec, "room_b", "Revived?", 1);
    CHECK_EQ_INT(store_record_update(st, t, &rec), STORE_NOTFOUND);
    /* The id stays taken: history keeps resolving it. */
    CHECK_EQ_INT(store_record_insert(st, t, &rec), STORE_DUPLICATE);
    record_clear(&rec, t);

    n = -1;
    CHECK_EQ_INT(store_record_count(st, &record_vehicle, &n), STORE_OK);
    CHECK_EQ_INT(n, 0);
}

static void test_feed_tokens(struct store *st)
{
    unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], h3[TOKEN_HASH_LEN];
    unsigned char h4[TOKEN_HASH_LEN], h5[TOKEN_HASH_LEN];
    char kind[16], id[ID_STR_MAX];

    token_hash("feed-1", 6, h1);
    token_hash("feed-2", 6, h2);
    token_hash("feed-3", 6, h3);
    token_hash("feed-4", 6, h4);
    token_hash("feed-5", 6, h5);
    CHECK_EQ_INT(store_feed_token_set(st, "room", "room_a", h1), STORE_OK);
    CHECK_EQ_INT(store_feed_token_set(st, "room", "room_c", h3), STORE_OK);
    CHECK_EQ_INT(store_feed_token_find(st, h1, kind, sizeof(kind), id), STORE_OK);
    CHECK_EQ_STR(kind, "room");
    CHECK_EQ_STR(id, "room_a");

    /* Rotation: the new hash replaces the old one for the same calendar. */
    CHECK_EQ_INT(store_feed_token_set(st, "room", "room_a", h2), STORE_OK);
    CHECK_EQ_INT(store_feed_token_find(st, h1, kind, sizeof(kind), id), STORE_NOTFOUND);
    CHECK_EQ_INT(store_feed_token_find(st, h2, kind, sizeof(kind), id), STORE_OK);
    CHECK_EQ_STR(kind, "room");
    CHECK_EQ_STR(id, "room_a");
    /* Other calendars keep theirs. */
    CHECK_EQ_INT(store_feed_token_find(st, h3, kind, sizeof(kind), id), STORE_OK);
    CHECK_EQ_STR(kind, "room");
    CHECK_EQ_STR(id, "room_c");
    /* Setting the same hash again is harmless. */
    CHECK_EQ_INT(store_feed_token_set(st, "room", "room_a", h2), STORE_OK);
    CHECK_EQ_INT(store_feed_token_find(st, h2, kind, sizeof(kind), id), STORE_OK);

    /* Deleting the record kills its URL at once; the other calendars keep theirs. */
    CHECK_EQ_INT(store_record_delete(st, &record_room, "room_c", 6000), STORE_OK);
    CHECK_EQ_INT(store_feed_token_find(st, h3, kind, sizeof(kind), id), STORE_NOTFOUND);
    CHECK_EQ_INT(store_feed_token_find(st, h2, kind, sizeof(kind), id), STORE_OK);
    /*
     * A token row an older version left for a deleted record (room_b), or
     * one naming no record at all, finds nothing either.
     */
    CHECK_EQ_INT(store_feed_token_set(st, "room", "room_b", h4), STORE_OK);
    CHECK_EQ_INT(store_feed_token_find(st, h4, kind, sizeof(kind), id), STORE_NOTFOUND);
    CHECK_EQ_INT(store_feed_token_set(st, "person", "per_none", h5), STORE_OK);
    CHECK_EQ_INT(store_feed_token_find(st, h5, kind, sizeof(kind), id), STORE_NOTFOUND);
}

static void block_fill(struct block_record *b, const char *id, const char *type, const char *rid,
                       int64_t start, const char *reason)
{
    memset(b, 0, sizeof(*b));
    snprintf(b->id, sizeof(b->id), "%s", id);
    snprintf(b->resource_type, sizeof(b->resource_type), "%s", type);
    snprintf(b->resource_id, sizeof(b->resource_id), "%s", rid);
    snprintf(b->start, sizeof(b->start), "2026-12-07T09:00:00");
    snprintf(b->end, sizeof(b->end), "2026-12-07T10:00:00");
    snprintf(b->tz, sizeof(b->tz), "Asia/Shanghai");
    b->start_utc = start;
    b->end_utc = start + 3600;
    b->reason = reason ? xstrdup(reason) : NULL;
    b->version = 1;
    b->created_at = 42;
    snprintf(b->created_by, sizeof(b->created_by), "tok_1");
}

struct ids {
    char list[8][ID_STR_MAX];
    int count;
};

static int collect_block(const struct block_record *b, void *arg)
{
    struct ids *ids = arg;

    if (ids->count < 8)
        snprintf(ids->list[ids->count], ID_STR_MAX, "%s", b->id);
    ids->count++;
    return 0;
}

static void test_blocks(struct store *st)
{
    struct block_record b;
    struct ids ids;

    block_fill(&b, "blk_1", "room", "room_a", 300, "renovation \xe8\xa3\x85\xe4\xbf\xae");
    CHECK_EQ_INT(store_block_insert(st, &b), STORE_OK);
    CHECK_EQ_INT(store_block_insert(st, &b), STORE_DUPLICATE);
    store_block_clear(&b);
    block_fill(&b, "blk_2", "room", "room_c", 100, NULL);
    CHECK_EQ_INT(store_block_insert(st, &b), STORE_OK);
    store_block_clear(&b);
    block_fill(&b, "blk_3", "person", "per_1", 200, "leave");
    CHECK_EQ_INT(store_block_insert(st, &b), STORE_OK);
    store_block_clear(&b);
    block_fill(&b, "blk_4", "room", "room_a", 50, NULL);
    CHECK_EQ_INT(store_block_insert(st, &b), STORE_OK);
    store_block_clear(&b);

    memset(&b, 0, sizeof(b));
    CHECK_EQ_INT(store_block_get(st, "blk_1", &b), STORE_OK);
    CHECK_EQ_STR(b.resource_type, "room");
    CHECK_EQ_STR(b.resource_id, "room_a");
    CHECK_EQ_STR(b.start, "2026-12-07T09:00:00");
    CHECK_EQ_STR(b.end, "2026-12-07T10:00:00");
    CHECK_EQ_STR(b.tz, "Asia/Shanghai");
    CHECK_EQ_INT(b.start_utc, 300);
    CHECK_EQ_INT(b.end_utc, 3900);
    CHECK_EQ_STR(b.reason, "renovation \xe8\xa3\x85\xe4\xbf\xae");
    CHECK_EQ_INT(b.version, 1);
    CHECK_EQ_INT(b.created_at, 42);
    CHECK_EQ_STR(b.created_by, "tok_1");
    /* Loading again over a record with a reason frees and replaces it. */
    CHECK_EQ_INT(store_block_get(st, "blk_2", &b), STORE_OK);
    CHECK(b.reason == NULL);
    store_block_clear(&b);
    store_block_clear(&b); /* twice is fine */
    CHECK_EQ_INT(store_block_get(st, "blk_nope", &b), STORE_NOTFOUND);

    /* All, ordered by start. */
    memset(&ids, 0, sizeof(ids));
    CHECK_EQ_INT(store_block_list(st, NULL, NULL, collect_block, &ids), STORE_OK);
    CHECK_EQ_INT(ids.count, 4);
    CHECK_EQ_STR(ids.list[0], "blk_4");
    CHECK_EQ_STR(ids.list[1], "blk_2");
    CHECK_EQ_STR(ids.list[2], "blk_3");
    CHECK_EQ_STR(ids.list[3], "blk_1");
    /* By type. */
    memset(&ids, 0, sizeof(ids));
    CHECK_EQ_INT(store_block_list(st, "room", NULL, collect_block, &ids), STORE_OK);
    CHECK_EQ_INT(ids.count, 3);
    CHECK_EQ_STR(ids.list[0], "blk_4");
    CHECK_EQ_STR(ids.list[1], "blk_2");
    CHECK_EQ_STR(ids.list[2], "blk_1");
    /* By resource. */
    memset(&ids, 0, sizeof(ids));
    CHECK_EQ_INT(store_block_list(st, "room", "room_a", collect_block, &ids), STORE_OK);
    CHECK_EQ_INT(ids.count, 2);
    CHECK_EQ_STR(ids.list[0], "blk_4");
    CHECK_EQ_STR(ids.list[1], "blk_1");
    memset(&ids, 0, sizeof(ids));
    CHECK_EQ_INT(store_block_list(st, "person", "room_a", collect_block, &ids), STORE_OK);
    CHECK_EQ_INT(ids.count, 0);

    /* Delete: soft, once. */
    CHECK_EQ_INT(store_block_delete(st, "blk_1", 9000), STORE_OK);
    CHECK_EQ_INT(store_block_delete(st, "blk_1", 9001), STORE_NOTFOUND);
    CHECK_EQ_INT(store_block_delete(st, "blk_nope", 9001), STORE_NOTFOUND);
    CHECK_EQ_INT(store_block_get(st, "blk_1", &b), STORE_NOTFOUND);
    memset(&ids, 0, sizeof(ids));
    CHECK_EQ_INT(store_block_list(st, "room", "room_a", collect_block, &ids), STORE_OK);
    CHECK_EQ_INT(ids.count, 1);
    CHECK_EQ_STR(ids.list[0], "blk_4");
    store_block_clear(&b);
}

static void test_transactions(struct store *st)
{
    int64_t before = room_count(st);

    /* Inner rolled back, outer committed. */
    CHECK_EQ_INT(store_begin(st), STORE_OK);
    CHECK_EQ_INT(insert_room(st, "room_outer", "Outer"), STORE_OK);
    CHECK_EQ_INT(store_begin(st), STORE_OK);
    CHECK_EQ_INT(insert_room(st, "room_inner", "Inner"), STORE_OK);
    CHECK_EQ_INT(room_state(st, "room_inner"), STORE_OK);
    store_rollback(st);
    CHECK_EQ_INT(room_state(st, "room_inner"), STORE_NOTFOUND);
    CHECK_EQ_INT(room_state(st, "room_outer"), STORE_OK);
    CHECK_EQ_INT(insert_room(st, "room_after", "After inner"), STORE_OK);
    CHECK_EQ_INT(store_commit(st), STORE_OK);
    CHECK_EQ_INT(room_state(st, "room_inner"), STORE_NOTFOUND);
    CHECK_EQ_INT(room_state(st, "room_outer"), STORE_OK);
    CHECK_EQ_INT(room_state(st, "room_after"), STORE_OK);
    CHECK_EQ_INT(room_count(st), before + 2);

    /* Outer rolled back: everything goes, a committed inner level included. */
    CHECK_EQ_INT(store_begin(st), STORE_OK);
    CHECK_EQ_INT(insert_room(st, "room_o2", "Outer 2"), STORE_OK);
    CHECK_EQ_INT(store_begin(st), STORE_OK);
    CHECK_EQ_INT(insert_room(st, "room_i2", "Inner 2"), STORE_OK);
    CHECK_EQ_INT(store_begin(st), STORE_OK);
    CHECK_EQ_INT(store_record_delete(st, &record_room, "room_outer", 1), STORE_OK);
    CHECK_EQ_INT(store_commit(st), STORE_OK);
    CHECK_EQ_INT(store_commit(st), STORE_OK);
    CHECK_EQ_INT(room_state(st, "room_outer"), STORE_NOTFOUND);
    store_rollback(st);
    CHECK_EQ_INT(room_state(st, "room_o2"), STORE_NOTFOUND);
    CHECK_EQ_INT(room_state(st, "room_i2"), STORE_NOTFOUND);
    CHECK_EQ_INT(room_state(st, "room_outer"), STORE_OK);
    CHECK_EQ_INT(room_count(st), before + 2);

    /* Unbalanced calls are refused or ignored, and the store stays usable. */
    CHECK_EQ_INT(store_commit(st), STORE_ERROR);
    store_rollback(st);
    CHECK_EQ_INT(store_begin(st), STORE_OK);
    CHECK_EQ_INT(insert_room(st, "room_last", "Last"), STORE_OK);
    CHECK_EQ_INT(store_commit(st), STORE_OK);
    CHECK_EQ_INT(room_state(st, "room_last"), STORE_OK);

    /* A failing statement inside a transaction does not poison it. */
    CHECK_EQ_INT(store_begin(st), STORE_OK);
    CHECK_EQ_INT(insert_room(st, "room_last", "Duplicate"), STORE_DUPLICATE);
    CHECK_EQ_INT(insert_room(st, "room_ok", "Fine"), STORE_OK);
    CHECK_EQ_INT(store_commit(st), STORE_OK);
    CHECK_EQ_INT(room_state(st, "room_ok"), STORE_OK);

    CHECK(store_size_bytes(st) > 0);
}

struct writer {
    struct store *st;
    atomic_int stop;
    atomic_int written;
    int failed;
};

static void *write_loop(void *arg)
{
    struct writer *w = arg;

    while (!atomic_load(&w->stop) || atomic_load(&w->written) < 20) {
        char id[ID_STR_MAX];
        snprintf(id, sizeof(id), "room_w%d", atomic_load(&w->written));
        if (store_begin(w->st) != STORE_OK || insert_room(w->st, id, "Written") != STORE_OK ||
            store_commit(w->st) != STORE_OK) {
            store_rollback(w->st);
            w->failed++;
            break;
        }
        atomic_fetch_add(&w->written, 1);
    }
    return NULL;
}

/* Counts the rooms of a database file opened directly, and checks its integrity. */
static int64_t copy_rooms(const char *path, int *intact, char *journal, size_t journal_cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int64_t n = -1;

    *intact = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        goto done;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        *intact = strcmp((const char *)sqlite3_column_text(stmt, 0), "ok") == 0;
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        snprintf(journal, journal_cap, "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM rooms WHERE deleted_at IS NULL", -1, &stmt,
                           NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
done:
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

static void test_backup(void)
{
    char src[600], dst[600], dst2[600], err[256] = "";
    char journal[32] = "";
    struct store *st, *copy;
    struct writer w;
    pthread_t thread;
    int intact = 0;
    int64_t before, after, in_copy;

    path_in_dir(src, sizeof(src), "live.db");
    path_in_dir(dst, sizeof(dst), "backup.db");
    path_in_dir(dst2, sizeof(dst2), "backup2.db");
    st = open_store(src);
    CHECK_EQ_INT(store_begin(st), STORE_OK);
    for (int i = 0; i < 200; i++) {
        char id[ID_STR_MAX];
        snprintf(id, sizeof(id), "room_seed%d", i);
        CHECK_EQ_INT(insert_room(st, id, "Seed room with a name long enough to fill pages"),
                     STORE_OK);
    }
    CHECK_EQ_INT(store_commit(st), STORE_OK);
    before = room_count(st);

    /* Copy while another thread keeps committing writes to the same file. */
    memset(&w, 0, sizeof(w));
    w.st = st;
    atomic_init(&w.stop, 0);
    atomic_init(&w.written, 0);
    CHECK_EQ_INT(pthread_create(&thread, NULL, write_loop, &w), 0);
    /* Let the writer get going first, so the copy starts mid-stream. */
    while (atomic_load(&w.written) < 5 && w.failed == 0)
        sched_yield();
    CHECK_EQ_INT(store_backup(src, dst, err, sizeof(err)), STORE_OK);
    if (err[0] != '\0')
        fprintf(stderr, "    backup said: %s\n", err);
    atomic_store(&w.stop, 1);
    pthread_join(thread, NULL);
    CHECK_EQ_INT(w.failed, 0);
    after = room_count(st);
    CHECK_EQ_INT(after, before + atomic_load(&w.written));

    in_copy = copy_rooms(dst, &intact, journal, sizeof(journal));
    CHECK(intact);
    CHECK_EQ_STR(journal, "delete");
    CHECK(in_copy >= before);
    CHECK(in_copy <= after);
    copy = open_store(dst);
    CHECK_EQ_INT(store_schema_version(copy), store_schema_latest());
    CHECK_EQ_INT(room_state(copy, "room_seed0"), STORE_OK);
    CHECK_EQ_INT(room_state(copy, "room_seed199"), STORE_OK);
    CHECK_EQ_INT(room_count(copy), in_copy);
    store_close(copy);

    /* A transaction open during the copy is not in it. */
    CHECK_EQ_INT(store_begin(st), STORE_OK);
    CHECK_EQ_INT(insert_room(st, "room_uncommitted", "Not yet"), STORE_OK);
    CHECK_EQ_INT(store_backup(src, dst2, err, sizeof(err)), STORE_OK);
    store_rollback(st);
    copy = open_store(dst2);
    CHECK_EQ_INT(room_count(copy), after);
    CHECK_EQ_INT(room_state(copy, "room_uncommitted"), STORE_NOTFOUND);
    store_close(copy);

    /* Backing up over an existing copy replaces it. */
    CHECK_EQ_INT(insert_room(st, "room_newer", "Newer"), STORE_OK);
    CHECK_EQ_INT(store_backup(src, dst2, err, sizeof(err)), STORE_OK);
    copy = open_store(dst2);
    CHECK_EQ_INT(room_state(copy, "room_newer"), STORE_OK);
    store_close(copy);
    store_close(st);

    /* Failures explain themselves and leave no partial file behind. */
    char missing[600], bad_dst[600], part[700];
    path_in_dir(missing, sizeof(missing), "no-such.db");
    path_in_dir(bad_dst, sizeof(bad_dst), "no-such-dir/copy.db");
    err[0] = '\0';
    CHECK_EQ_INT(store_backup(missing, dst, err, sizeof(err)), STORE_ERROR);
    CHECK(err[0] != '\0');
    snprintf(part, sizeof(part), "%s.part", dst);
    CHECK(access(part, F_OK) != 0);
    err[0] = '\0';
    CHECK_EQ_INT(store_backup(src, bad_dst, err, sizeof(err)), STORE_ERROR);
    CHECK(err[0] != '\0');
    /* The earlier good copy is untouched by the failed attempt. */
    CHECK(copy_rooms(dst, &intact, journal, sizeof(journal)) == in_copy);
}

/* The permission bits of path, or -1 when it does not exist. */
static int mode_of(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

static void check_private(const char *path)
{
    int mode = mode_of(path);
    CHECK_EQ_INT(mode, 0600);
    if (mode != 0600)
        fprintf(stderr, "    file: %s\n", path);
}

/*
 * Under the common umask 022 SQLite alone makes 0644 files. The store
 * makes the database, -wal, -shm and backups 0600, tightens old 0644 files
 * at open, and leaves other processes' locks alone while doing it.
 */
static void test_file_modes(void)
{
    char db[600], wal[620], shm[620], copy[600], err[256];
    struct store *st, *second;
    mode_t old = umask(022);

    path_in_dir(db, sizeof(db), "modes.db");
    snprintf(wal, sizeof(wal), "%s-wal", db);
    snprintf(shm, sizeof(shm), "%s-shm", db);
    st = open_store(db);
    CHECK_EQ_INT(insert_room(st, "room_m1", "Secret"), STORE_OK);
    check_private(db);
    check_private(wal);
    check_private(shm);

    /* A backup of it, and its .part while being written. */
    path_in_dir(copy, sizeof(copy), "modes-copy.db");
    CHECK_EQ_INT(store_backup(db, copy, err, sizeof(err)), STORE_OK);
    check_private(copy);
    store_close(st);

    /* Files an older version left readable are tightened at the next open. */
    CHECK_EQ_INT(chmod(db, 0644), 0);
    st = open_store(db);
    check_private(db);
    CHECK_EQ_INT(chmod(wal, 0644), 0);
    CHECK_EQ_INT(chmod(shm, 0664), 0);
    /* A second connection opening it tightens the sidecars, and the first keeps working. */
    second = open_store(db);
    check_private(wal);
    check_private(shm);
    CHECK_EQ_INT(insert_room(st, "room_m2", "Also secret"), STORE_OK);
    CHECK_EQ_INT(room_state(second, "room_m2"), STORE_OK);
    store_close(second);
    store_close(st);

    /* Owner bits are kept as they were; only group and other lose theirs. */
    CHECK_EQ_INT(chmod(copy, 0640), 0);
    CHECK_EQ_INT(store_file_private(copy, 0), 0);
    CHECK_EQ_INT(mode_of(copy), 0600);
    CHECK_EQ_INT(chmod(copy, 0444), 0);
    CHECK_EQ_INT(store_file_private(copy, 0), 0);
    CHECK_EQ_INT(mode_of(copy), 0400);
    /* A missing file is created only when asked. */
    path_in_dir(copy, sizeof(copy), "absent");
    CHECK_EQ_INT(store_file_private(copy, 0), 0);
    CHECK_EQ_INT(mode_of(copy), -1);
    CHECK_EQ_INT(store_file_private(copy, 1), 0);
    CHECK_EQ_INT(mode_of(copy), 0600);
    umask(old);
}

int main(void)
{
    char path[600];
    struct store *st;

    check_tmpdir(dir, sizeof(dir));
    test_migrations();
    test_newer_schema_refused();

    path_in_dir(path, sizeof(path), "main.db");
    st = open_store(path);
    test_tokens(st);
    test_records(st);
    test_feed_tokens(st);
    test_blocks(st);
    test_transactions(st);
    store_close(st);

    test_backup();
    test_file_modes();
    check_rmdir(dir);
    return check_finish();
}
