/*
 * store.h - the storage boundary. Everything the service keeps goes
 * through these functions; nothing above this header sees SQL. The SQLite
 * implementation lives in src/store/; a PostgreSQL one can implement the
 * same functions for multi-instance deployments.
 *
 * Writes run inside store_begin()/store_commit() (BEGIN IMMEDIATE on the
 * single writer connection), so a request's checks and writes are atomic.
 */
#ifndef CONVENE_STORE_H
#define CONVENE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "convene/account.h"
#include "convene/channels.h"
#include "convene/config.h"
#include "convene/recur.h"
#include "convene/record.h"
#include "convene/timeutil.h"
#include "convene/token.h"
#include "convene/workcal.h"

enum store_result {
    STORE_OK = 0,
    STORE_ERROR = -1,     /* I/O, corruption, full disk: logged once */
    STORE_NOTFOUND = -2,
    STORE_DUPLICATE = -3, /* a unique key already exists */
};

struct store;

/* Opens (creating if needed) and migrates the database. *out owned by caller. */
int store_open(const char *path, enum durability durability, struct store **out);
void store_close(struct store *st);

/* Schema version reached by migrations, and the number the binary knows. */
int store_schema_version(struct store *st);
int store_schema_latest(void);

int store_begin(struct store *st);
/*
 * A transaction whose writes can be derived again from durable rows (the
 * outbox fan-out, delivery bookkeeping): committed without waiting for
 * fsync even under --durability full. If a power loss undoes it, the work
 * is redone from the outbox: at least once, never lost. Call
 * store_durability_restore() after its commit or rollback.
 */
int store_begin_derived(struct store *st);
void store_durability_restore(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/*
 * SQLite's data_version: changes whenever another connection (another
 * process) commits to the database; our own commits leave it alone.
 */
int store_data_version(struct store *st, int64_t *version);
/*
 * WAL checkpoints completed so far by the checkpoint thread, and by the
 * writer itself when the thread fell behind (store/checkpoint.c).
 */
void store_checkpoint_counts(struct store *st, uint64_t *thread, uint64_t *loop);
/* Whether a transaction is open (what is read now may still roll back). */
int store_in_transaction(const struct store *st);

/*
 * Registers the one observer told about every insert or update of an event
 * row, inside the writing transaction (caches of event documents drop their
 * copy). fn must not use the store.
 */
void store_on_event_write(struct store *st, void (*fn)(void *arg, const char *event_id),
                          void *arg);

/*
 * Makes path readable by its owner only (0600): creates it so when missing
 * and create is set, drops group and other bits from an existing regular
 * file (logged). Works on the path, never a descriptor, so SQLite's locks
 * on the file survive. store_open applies it to the database, -wal and
 * -shm. 0 (also when missing and !create), or -1 with errno.
 */
int store_file_private(const char *path, int create);

/* Size of the database file in bytes (page_count * page_size). */
int64_t store_size_bytes(struct store *st);

/*
 * Copies a live database with SQLite's online backup API into dst
 * (atomically renamed); the copy is mode 0600 whatever the umask.
 */
int store_backup(const char *src_path, const char *dst_path, char *err, size_t errlen);

/* --- API tokens --- */
struct token_record {
    char id[ID_STR_MAX];
    char name[128];
    char role[16];
    char person[ID_STR_MAX]; /* "" if not bound to a person */
    unsigned char hash[TOKEN_HASH_LEN];
    int64_t created_at;
};

int store_token_insert(struct store *st, const struct token_record *tok);
/* Finds an unrevoked token by hash. STORE_NOTFOUND if none. */
int store_token_find(struct store *st, const unsigned char hash[TOKEN_HASH_LEN],
                     struct token_record *out);
/* Calls cb for every live (unrevoked) token, oldest first; hash left zeroed. A non-zero cb stops. */
int store_token_list(struct store *st, int (*cb)(const struct token_record *tok, void *arg),
                     void *arg);
/* Revokes a live token; STORE_NOTFOUND if none. */
int store_token_revoke(struct store *st, const char *id, int64_t now);
/* Revokes every live token acting as person (the person is being deleted). */
int store_tokens_revoke_person(struct store *st, const char *person, int64_t now);
/* Counts revocations through this connection: caches of live tokens compare it. */
uint64_t store_token_revocations(const struct store *st);
int store_token_count_role(struct store *st, const char *role, int64_t *count);

/* --- sign-in: logins, password hashes, sessions, failed attempts --- */
struct login_row {
    char person[ID_STR_MAX];
    char name[1024];
    char role[16];
    char access[16];             /* as stored: "" = the default of the role */
    char hash[ACCOUNT_HASH_MAX]; /* "" = no password set */
    char login[ACCOUNT_LOGIN_MAX + 1]; /* "" = none */
};

/* The live person with this login, and their password hash. STORE_NOTFOUND if none. */
int store_login_find(struct store *st, const char *login, struct login_row *out);
/* The same for a live person by id (login itself is not needed to change a password). */
int store_login_of_person(struct store *st, const char *person, struct login_row *out);
/* Sets (or replaces) a person's password hash. */
int store_password_set(struct store *st, const char *person, const char *hash, int64_t now);

struct session_row {
    struct login_row who;        /* hash left "" */
    int64_t created_ms, last_seen_ms;
};

/* A session is stored by the SHA-256 of its id only. */
int store_session_insert(struct store *st, const unsigned char hash[TOKEN_HASH_LEN],
                         const char *person, int64_t now_ms);
/* The session and its live person; STORE_NOTFOUND if either is gone. */
int store_session_find(struct store *st, const unsigned char hash[TOKEN_HASH_LEN],
                       struct session_row *out);
int store_session_touch(struct store *st, const unsigned char hash[TOKEN_HASH_LEN],
                        int64_t now_ms);
int store_session_delete(struct store *st, const unsigned char hash[TOKEN_HASH_LEN]);
/* Ends every session of a person but keep (NULL: all): a new password, a deletion. */
int store_sessions_end_person(struct store *st, const char *person,
                              const unsigned char *keep_hash);
/* Deletes sessions that are over: unused since idle_before_ms or begun before max_before_ms. */
int store_sessions_prune(struct store *st, int64_t idle_before_ms, int64_t max_before_ms);

/* Records a failed sign-in of login at now_ms, dropping failures older than before_ms. */
int store_login_failure_add(struct store *st, const char *login, int64_t now_ms,
                            int64_t before_ms);
/* The newest failures of login since since_ms, newest first: at most cap into out, count in *n. */
int store_login_failures_recent(struct store *st, const char *login, int64_t since_ms,
                                int64_t *out, size_t cap, size_t *n);
int store_login_failures_clear(struct store *st, const char *login);

/* --- people, rooms, vehicles --- */
int store_record_insert(struct store *st, const struct record_type *type, const struct record *rec);
/* Loads a live (not deleted) record; rec must be record_init()ed. */
int store_record_get(struct store *st, const struct record_type *type, const char *id,
                     struct record *rec);
/* Calls cb for every live record, ordered by name. cb returning non-zero stops. */
int store_record_list(struct store *st, const struct record_type *type,
                      int (*cb)(const struct record *rec, void *arg), void *arg);
/* Writes all fields and the version/updated_at of rec. */
int store_record_update(struct store *st, const struct record_type *type, const struct record *rec);
/* Soft-deletes the record and drops its feed token (its URL answers 404 at once). */
int store_record_delete(struct store *st, const struct record_type *type, const char *id,
                        int64_t now);
int store_record_exists(struct store *st, const struct record_type *type, const char *id);
int store_record_count(struct store *st, const struct record_type *type, int64_t *count);
int store_record_set_feed_generation(struct store *st, const struct record_type *type,
                                     const char *id, int64_t generation);
/* Changes of existing records and feed tokens through this connection: caches compare it. */
uint64_t store_record_writes(const struct store *st);

/* --- feed tokens: hash -> calendar --- */
int store_feed_token_set(struct store *st, const char *kind, const char *id,
                         const unsigned char hash[TOKEN_HASH_LEN]);
/* The live person, room or vehicle a token hash names; STORE_NOTFOUND once it is deleted. */
int store_feed_token_find(struct store *st, const unsigned char hash[TOKEN_HASH_LEN], char *kind,
                          size_t kindlen, char id[ID_STR_MAX]);

/* --- blocks: unavailability of a person, room or vehicle --- */
struct block_record {
    char id[ID_STR_MAX];
    char resource_type[16];
    char resource_id[ID_STR_MAX];
    char start[TIME_LOCAL_STR]; /* local wall time in tz */
    char end[TIME_LOCAL_STR];
    char tz[64];
    int64_t start_utc, end_utc;
    char *reason; /* owned, may be NULL */
    int64_t version;
    int64_t created_at;
    char created_by[ID_STR_MAX]; /* token id */
    char delegate[ID_STR_MAX];   /* a person deciding the blocked person's approvals, or "" */
};

int store_block_insert(struct store *st, const struct block_record *b);
int store_block_get(struct store *st, const char *id, struct block_record *out);
/* Live blocks, optionally of one resource (type/id may be NULL), ordered by start. */
int store_block_list(struct store *st, const char *type, const char *id,
                     int (*cb)(const struct block_record *b, void *arg), void *arg);
int store_block_delete(struct store *st, const char *id, int64_t now);
void store_block_clear(struct block_record *b);

/* --- events: the document plus the columns queries need --- */

/*
 * A meeting's status; stored as its name. Pending (awaiting approval)
 * holds its time like a confirmed one but sends nothing; cancelled,
 * rejected and expired hold nothing.
 */
enum event_status {
    EVENT_CONFIRMED,
    EVENT_CANCELLED,
    EVENT_PENDING,
    EVENT_REJECTED,
    EVENT_EXPIRED,
};

/* "confirmed", "cancelled", "pending", "rejected" or "expired". */
const char *event_status_name(enum event_status status);
/* The status named s; an unknown name reads as confirmed (what older rows hold). */
enum event_status event_status_parse(const char *s);
/* Whether the event holds its time (occupancy, conflicts): confirmed or pending. */
int event_status_holds(enum event_status status);

/*
 * The SQL condition of an event (alias e) that holds its time. The first
 * term is verbatim the partial index events_window's, so that index stays usable.
 */
#define STORE_EVENT_HOLDS(e) \
    e "status != 'cancelled' AND " e "status NOT IN ('rejected', 'expired')"

struct event_row {
    char id[ID_STR_MAX];
    char uid[256];
    int64_t version;
    int64_t sequence;
    enum event_status status;
    char *title;            /* owned */
    int confidential;
    int64_t best_rank;      /* smallest rank among attendees: who outranks whom */
    char *doc;              /* owned JSON text of the event document */
    int64_t expanded_until; /* occurrences exist up to this instant */
    int open_ended;         /* no COUNT/UNTIL: the horizon rolls forward daily */
    int64_t created_at, updated_at;
};

int store_event_insert(struct store *st, const struct event_row *ev);
int store_event_update(struct store *st, const struct event_row *ev);
int store_event_get(struct store *st, const char *id, struct event_row *out);
int store_event_uid_exists(struct store *st, const char *uid);
void store_event_row_clear(struct event_row *ev);
/* Ids of live open-ended events whose horizon ends before `before`. */
int store_event_ids_to_extend(struct store *st, int64_t before,
                              int (*cb)(const char *id, void *arg), void *arg);

/* STORE_OK when some live recurring event's stored window ends before `before`, else NOTFOUND. */
int store_event_window_ends_before(struct store *st, int64_t before);
/*
 * Calls cb with each live recurring event listed in the resource's calendar
 * (other than exclude_event) whose stored window ends before `before`, and
 * that window's end. The ids are collected first: cb may use the store.
 */
int store_resource_events_unexpanded(struct store *st, const char *type, const char *id,
                                     int64_t before, const char *exclude_event,
                                     int (*cb)(const char *event_id, int64_t expanded_until,
                                               void *arg),
                                     void *arg);

/* Removes an event's occurrences and occupancy (before re-deriving them). */
int store_event_bookings_clear(struct store *st, const char *event_id);
int store_occurrence_insert(struct store *st, const char *event_id, const struct occurrence *o);

/* One row of the occupancy index: a resource held for [start_utc, end_utc). */
struct claim {
    const char *resource_type; /* "person", "room", "vehicle" */
    const char *resource_id;
    int64_t start_utc, end_utc;
    const char *event_id;      /* NULL for blocks */
    const char *recurrence_id;
    const char *trip_id;       /* for vehicle and driver rows */
    const char *block_id;
    const char *role;          /* "attendee", "room", "vehicle", "driver", "block" */
    const struct occurrence *occ; /* the plan's occurrence it is of (borrowed); NULL for blocks.
                                   * Not stored: it lets a clash be reported with its times. */
};

/* An existing booking that overlaps a claim. */
struct clash {
    char resource_type[16];
    char resource_id[ID_STR_MAX];
    char role[16];
    char event_id[ID_STR_MAX];     /* "" for a block */
    char recurrence_id[TIME_LOCAL_STR];
    char other_start[TIME_LOCAL_STR];
    char trip_id[ID_STR_MAX];
    char block_id[ID_STR_MAX];
    char title[512];               /* event title or block reason */
    int confidential;
    int64_t best_rank;
    int64_t start_utc, end_utc;    /* the hold, buffers included */
    char other_status[16];         /* the other event's status ("" for a block) */
};

int store_occupancy_insert(struct store *st, const struct claim *c);
/*
 * Calls cb for each booking of the resource overlapping [start, end),
 * other than those of exclude_event. Uses the (resource, start) index,
 * bounded below by the resource's longest booking.
 */
int store_occupancy_overlaps(struct store *st, const char *type, const char *id, int64_t start,
                             int64_t end, const char *exclude_event,
                             int (*cb)(const struct clash *c, void *arg), void *arg);
/* Drops an event's hold on one resource (preemption). */
int store_occupancy_release(struct store *st, const char *event_id, const char *type,
                            const char *id);
int store_occupancy_delete_block(struct store *st, const char *block_id, const char *type,
                                 const char *id);

/* Expanded occurrences overlapping [from, to), optionally of one resource. */
struct occurrence_row {
    char event_id[ID_STR_MAX];
    struct occurrence occ;
};
int store_occurrences_list(struct store *st, int64_t from, int64_t to, const char *type,
                           const char *id, const char *role,
                           int (*cb)(const struct occurrence_row *r, void *arg), void *arg);
/*
 * A person's invitations overlapping [from, to): every live event that
 * shows on their calendar (event_resources), whatever they answered. Unlike
 * the occupancy-based list above, this keeps what they declined (a declined
 * answer holds no time), so they can see it and change their mind.
 */
int store_occurrences_invited(struct store *st, int64_t from, int64_t to, const char *person,
                              int (*cb)(const struct occurrence_row *r, void *arg), void *arg);

/* Which calendars (person, room, vehicle) show an event: replaced on every write. */
/* Also stamps each calendar that showed the event as changed at `now` (calendar_changes). */
int store_event_resources_clear(struct store *st, const char *event_id, int64_t now);
/* When the calendar last lost an event (0 if never known): part of its feed's Last-Modified. */
int store_calendar_changed_at(struct store *st, const char *type, const char *id, int64_t *at);
int store_event_resource_add(struct store *st, const char *event_id, const char *type,
                             const char *id);
/* Calls cb with each calendar currently listing the event (before a change replaces them). */
int store_event_resources_list(struct store *st, const char *event_id,
                               int (*cb)(const char *type, const char *id, void *arg), void *arg);
/* Calls cb with every event (cancelled ones too) shown in a calendar, in id order. */
int store_calendar_events(struct store *st, const char *type, const char *id,
                          int (*cb)(const struct event_row *ev, void *arg), void *arg);
/* The same calendar's event ids only (callers that cache documents load them themselves). */
int store_calendar_event_ids(struct store *st, const char *type, const char *id,
                             int (*cb)(const char *event_id, void *arg), void *arg);

/* --- outbox and audit trail, written in the change's transaction --- */
int store_outbox_append(struct store *st, const char *type, const char *payload,
                        char msg_id_out[ID_STR_MAX]);

struct history_row {
    int64_t seq, at;
    char token_id[ID_STR_MAX];
    char actor[128];
    char actor_person[ID_STR_MAX];
    char action[32];
    const char *before, *after; /* JSON text or NULL; valid during the callback */
};
int store_history_append(struct store *st, const char *event_id, const struct history_row *h);
int store_history_list(struct store *st, const char *event_id,
                       int (*cb)(const struct history_row *h, void *arg), void *arg);

/* --- meta: small named counters (the outbox fan-out cursor) --- */
int store_meta_get_int(struct store *st, const char *key, int64_t *value);
int store_meta_set_int(struct store *st, const char *key, int64_t value);
/* A text value (*value malloc'd, NULL when the key is not set); STORE_OK or STORE_ERROR. */
int store_meta_get_text(struct store *st, const char *key, char **value);
int store_meta_set_text(struct store *st, const char *key, const char *value);

/* --- approvals (CONTRACT section 12) --- */
struct approval_row {
    char id[ID_STR_MAX];
    char event_id[ID_STR_MAX];
    char reason[24];          /* budget, off_day_vehicle, room */
    char tier[24];            /* office_director, in_charge, principal, collective, keeper */
    char approver[ID_STR_MAX];
    char status[16];          /* pending, approved, rejected, expired, withdrawn */
    char requested_by[ID_STR_MAX]; /* the person who booked ("" if a token of no one) */
    int64_t requested_at, expires_at;
    char decided_by[ID_STR_MAX];   /* the person who decided ("" for convene or a person-less token) */
    int64_t decided_at;
    char comment[2048];
    char meeting[ID_STR_MAX];
};

int store_approval_insert(struct store *st, const struct approval_row *a);
/* Writes status, decided_by, decided_at, comment and meeting of a stored approval. */
int store_approval_update(struct store *st, const struct approval_row *a);
int store_approval_get(struct store *st, const char *id, struct approval_row *out);
/* An event's approvals, in the order they were requested. */
int store_approvals_of_event(struct store *st, const char *event_id,
                             int (*cb)(const struct approval_row *a, void *arg), void *arg);
/* Approvals with status (NULL: any) and approver (NULL: anyone), by expiry. */
int store_approvals_list(struct store *st, const char *status, const char *approver,
                         int (*cb)(const struct approval_row *a, void *arg), void *arg);
/* Ids of events with a pending approval expiring at or before now (collected first). */
int store_approvals_due(struct store *st, int64_t now,
                        int (*cb)(const char *event_id, void *arg), void *arg);
/* The earliest expiry of a pending approval (0 if none). */
int store_approvals_next_expiry(struct store *st, int64_t *at);
/* The people whose live block covering now names delegate (each once). */
int store_blocks_delegating(struct store *st, const char *delegate, int64_t now,
                            int (*cb)(const char *person, void *arg), void *arg);
/* STORE_OK when a live block on person covering now names delegate, else STORE_NOTFOUND. */
int store_block_delegates(struct store *st, const char *person, const char *delegate,
                          int64_t now);

/* --- departments --- */
struct department_row {
    char id[ID_STR_MAX];
    char name[256];
    char in_charge[ID_STR_MAX]; /* "" when none */
    int64_t version, created_at, updated_at;
};
/* STORE_DUPLICATE when a live department has the name. */
int store_department_insert(struct store *st, const struct department_row *d);
int store_department_update(struct store *st, const struct department_row *d);
int store_department_get(struct store *st, const char *id, struct department_row *out);
int store_department_by_name(struct store *st, const char *name, struct department_row *out);
int store_department_delete(struct store *st, const char *id, int64_t now);
int store_departments_list(struct store *st,
                           int (*cb)(const struct department_row *d, void *arg), void *arg);

/* --- webhooks --- */
#define WEBHOOK_SECRET_MAX 80

struct webhook_row {
    char id[ID_STR_MAX];
    char *url;                 /* owned */
    char *events;              /* owned: patterns joined by ',' */
    char person[ID_STR_MAX];   /* "" = every message */
    int enabled;
    enum webhook_format format; /* how messages are written and answers judged (schema 11) */
    /*
     * Standard: the signing secret (whsec_...). DingTalk: its 加签 secret
     * (SEC...), or "" when the robot is not signed. WeCom: "". Sealed at
     * rest either way.
     */
    char secret[WEBHOOK_SECRET_MAX];
    char old_secret[WEBHOOK_SECRET_MAX]; /* still signed with until old_secret_until */
    int64_t old_secret_until;
    int64_t failing_since;     /* 0 when the last attempt succeeded */
    char disabled_reason[128];
    int64_t version, created_at, updated_at;
};

/*
 * The key that seals webhook secrets at rest (core/secretbox.c): set by the
 * application from its key file before any webhook is read or written.
 * Without it secrets are written in the clear and sealed ones read as "".
 */
void store_set_secret_key(struct store *st, const unsigned char key[32]);
/* Seals secrets stored in the clear by older versions; *sealed counts them. */
int store_webhooks_seal_all(struct store *st, int *sealed);
int store_webhook_insert(struct store *st, const struct webhook_row *w);
int store_webhook_update(struct store *st, const struct webhook_row *w);
int store_webhook_get(struct store *st, const char *id, struct webhook_row *out);
int store_webhook_list(struct store *st, int enabled_only,
                       int (*cb)(const struct webhook_row *w, void *arg), void *arg);
int store_webhook_delete(struct store *st, const char *id, int64_t now);
void store_webhook_row_clear(struct webhook_row *w);

/* --- outbox fan-out and deliveries --- */
struct outbox_row {
    int64_t seq;
    char msg_id[ID_STR_MAX];
    char type[48];
    int64_t created_at;
    const char *payload; /* valid during the callback */
};
/* The newest message's seq (0 when the outbox is empty). */
int store_outbox_last(struct store *st, int64_t *seq);
/* Messages after seq, oldest first, at most limit. */
int store_outbox_after(struct store *st, int64_t seq, size_t limit,
                       int (*cb)(const struct outbox_row *m, void *arg), void *arg);

struct delivery_row {
    int64_t id;
    char webhook_id[ID_STR_MAX];
    char msg_id[ID_STR_MAX];
    char type[48];
    char status[16];           /* pending, delivered, failed */
    int attempts;
    int last_status;           /* HTTP status of the last attempt, 0 if none */
    int64_t next_attempt_ms;   /* unix milliseconds */
    int64_t next_attempt;      /* the same, in unix seconds rounded up (for display) */
    int64_t created_at;
    char last_error[256];      /* why the last attempt failed ("" if it did not) */
    const char *body;          /* valid during the callback */
    /*
     * A one-tap link the body carries: the ref its token is derived from
     * (taplink.h; valid during the callback, NULL when none) and the byte
     * offset in body where its URL goes. Never the link itself.
     */
    const char *link_ref;
    int64_t link_at;
};

/* Adds a delivery, due at once, unless this endpoint already has the message (now: seconds). */
int store_delivery_insert(struct store *st, const char *webhook_id, const char *msg_id,
                          const char *type, const char *body, int64_t now);
/*
 * The same, for a body that carries a one-tap link: link_ref names it and
 * link_at is where the sender inserts its URL (taplink.h).
 */
int store_delivery_insert_link(struct store *st, const char *webhook_id, const char *msg_id,
                               const char *type, const char *body, const char *link_ref,
                               int64_t link_at, int64_t now);
/* Pending deliveries due by now_ms on enabled endpoints, oldest first. */
int store_deliveries_due(struct store *st, int64_t now_ms, size_t limit,
                         int (*cb)(const struct delivery_row *d, void *arg), void *arg);
int store_delivery_get(struct store *st, int64_t id, struct delivery_row *out);
/* Records an attempt's outcome; next_attempt_ms in unix milliseconds, now in seconds. */
int store_delivery_update(struct store *st, int64_t id, const char *status, int attempts,
                          int last_status, const char *last_error, int64_t next_attempt_ms,
                          int64_t now);
int store_deliveries_list(struct store *st, const char *webhook_id, size_t limit,
                          int (*cb)(const struct delivery_row *d, void *arg), void *arg);
/* Makes one delivery pending again now; STORE_NOTFOUND if none. */
int store_delivery_retry(struct store *st, const char *webhook_id, const char *msg_id,
                         int64_t now);
/*
 * Replay: makes every delivery to webhook_id of a message created at or
 * after since (unix seconds) pending and due now (the same webhook-id, the
 * same body); *count is how many.
 */
int store_deliveries_replay(struct store *st, const char *webhook_id, int64_t since, int64_t now,
                            int64_t *count);
/*
 * Makes pending deliveries whose last_error is lease_mark (an attempt in
 * flight when a process that wrote leases into the row stopped) due now.
 */
int store_deliveries_release_leases(struct store *st, const char *lease_mark, int64_t now);
/*
 * Earliest next_attempt (ms) later than after_ms of a pending delivery on an
 * enabled endpoint (0 if none).
 */
int store_deliveries_next_due(struct store *st, int64_t after_ms, int64_t *when_ms);
int store_deliveries_count(struct store *st, const char *status, int64_t *count);
/*
 * The pending deliveries to every endpoint registered with url (a robot's
 * queue), oldest first: cb(id, next_attempt_ms, arg); cb returning
 * non-zero stops.
 */
int store_deliveries_waiting(struct store *st, const char *url,
                             int (*cb)(int64_t id, int64_t next_attempt_ms, void *arg), void *arg);
/* Moves one pending delivery's next attempt to until_ms. */
int store_delivery_defer(struct store *st, int64_t id, int64_t until_ms, int64_t now);
/* Pending deliveries per endpoint format (counts indexed by enum webhook_format). */
int store_deliveries_pending_by_format(struct store *st, int64_t counts[WEBHOOK_FORMAT_COUNT]);

/* --- one-tap links, by the SHA-256 of their token (store/taplinks.c) --- */
struct taplink_row {
    unsigned char hash[TOKEN_HASH_LEN];
    char purpose[8];                    /* "ack", "rsvp" or "approve" */
    char person[ID_STR_MAX];            /* who acts: the driver, the attendee */
    char event_id[ID_STR_MAX];
    char trip_id[ID_STR_MAX];           /* ack: the trip ("" for rsvp) */
    char recurrence_id[TIME_LOCAL_STR]; /* rsvp: the occurrence ("" for ack) */
    char approval_id[ID_STR_MAX];       /* approve: the approval ("" otherwise) */
    int64_t expires_utc;                /* prunable after this (validity is decided live) */
    int64_t used_at;                    /* rsvp, approve: used (0: not yet) */
    int64_t created_at;
};
/* Adds a link, or moves a known one's expiry later. */
int store_taplink_put(struct store *st, const struct taplink_row *l);
/* The link with this hash: STORE_OK, STORE_NOTFOUND or STORE_ERROR. */
int store_taplink_find(struct store *st, const unsigned char hash[TOKEN_HASH_LEN],
                       struct taplink_row *out);
/* Marks a link used at now; STORE_NOTFOUND when it was used already (or is unknown). */
int store_taplink_use(struct store *st, const unsigned char hash[TOKEN_HASH_LEN], int64_t now);
/* Deletes up to 500 links that expired before `before`; *count how many. */
int store_taplinks_prune(struct store *st, int64_t before, int64_t *count);
/* One stored occurrence of an event by its recurrence id: STORE_OK or STORE_NOTFOUND. */
int store_occurrence_get(struct store *st, const char *event_id, const char *rid,
                         struct occurrence *out);

/* --- reminders, materialised with the occurrences --- */
struct reminder_row {
    char event_id[ID_STR_MAX];
    char recurrence_id[TIME_LOCAL_STR];
    char person[ID_STR_MAX];
    int offset_minutes;
    int64_t due_utc, start_utc;
};
int store_reminders_clear_unsent(struct store *st, const char *event_id);
int store_reminder_insert(struct store *st, const struct reminder_row *r);
/*
 * Unsent reminders due by now, at most limit, in (due_utc, primary key)
 * order: each batch is the smallest keys left. The callback may write.
 */
int store_reminders_due(struct store *st, int64_t now, size_t limit,
                        int (*cb)(const struct reminder_row *r, void *arg), void *arg);
/* Marks one reminder: 1 sent, 2 dropped (its meeting had started). */
int store_reminder_mark_sent(struct store *st, const struct reminder_row *r, int sent);
/*
 * Marks sent every unsent reminder whose (due_utc, key) is at most last's:
 * after store_reminders_due(), exactly the batch it returned, less those
 * the callback marked itself.
 */
int store_reminders_mark_sent_through(struct store *st, const struct reminder_row *last);
/* Earliest unsent due time (0 if none). */
int store_reminders_next(struct store *st, int64_t *due);

/* --- trips: one row per trip occurrence, rewritten with its event (store/trips.c) --- */
struct trip_row {
    char event_id[ID_STR_MAX];
    char trip_id[ID_STR_MAX];
    char recurrence_id[TIME_LOCAL_STR]; /* of the meeting's occurrence */
    char day[TIME_DATE_STR];            /* local date of departure */
    char depart[TIME_LOCAL_STR];        /* local wall times in tz */
    char ret[TIME_LOCAL_STR];
    int64_t depart_utc, return_utc;
    char tz[64];
    char vehicle[ID_STR_MAX];           /* "" when the trip has none (preempted) */
    char driver[ID_STR_MAX];
    char approved_by[ID_STR_MAX];       /* "" when none */
    const char *from, *to;              /* NULL when absent */
    const char *passengers;             /* JSON array of person ids */
    const char *title;
    int confidential;
    int64_t acked_at;                   /* 0 = not acknowledged */
    char acked_by[ID_STR_MAX];          /* person (or token name) who acknowledged */
    int64_t escalated_at;               /* 0 = dispatch.unacknowledged not sent */
};
/* In callbacks the const char * members are valid during the call only. */

/* Inserts or replaces the row (all columns, acknowledgement included). */
int store_trip_put(struct store *st, const struct trip_row *t);
int store_trip_delete(struct store *st, const char *event_id, const char *trip_id,
                      const char *recurrence_id);
/* Rows of one event, by trip and departure. */
int store_trips_of_event(struct store *st, const char *event_id,
                         int (*cb)(const struct trip_row *t, void *arg), void *arg);
/* Rows that return after `after` (UTC) and that person drives or approved, by departure. */
int store_trips_held_by(struct store *st, const char *person, int64_t after,
                        int (*cb)(const struct trip_row *t, void *arg), void *arg);
/* Rows departing on local days [from_day, to_day], optionally of one driver and/or vehicle. */
int store_trips_of_days(struct store *st, const char *from_day, const char *to_day,
                        const char *driver, const char *vehicle,
                        int (*cb)(const struct trip_row *t, void *arg), void *arg);
/*
 * Ids of bookings awaiting approval (status pending) whose trips hold a
 * driver (optionally this one) within [from_utc, to_utc): their trips are
 * not rows here until they are confirmed (the claims say where they are).
 */
int store_pending_trip_events(struct store *st, int64_t from_utc, int64_t to_utc,
                              const char *driver, int (*cb)(const char *event_id, void *arg),
                              void *arg);
/* Rows of one trip id (every occurrence), by departure. */
int store_trips_of_trip(struct store *st, const char *trip_id,
                        int (*cb)(const struct trip_row *t, void *arg), void *arg);
int store_trip_ack(struct store *st, const char *event_id, const char *trip_id,
                   const char *recurrence_id, int64_t at, const char *by);
/*
 * Unacknowledged, not yet escalated rows whose deadline (departure minus
 * deadline_s) has come by now and that have not departed, oldest first.
 */
int store_trips_unacked_due(struct store *st, int64_t now, int64_t deadline_s, size_t limit,
                            int (*cb)(const struct trip_row *t, void *arg), void *arg);
int store_trip_mark_escalated(struct store *st, const char *event_id, const char *trip_id,
                              const char *recurrence_id, int64_t at);
/* Earliest deadline of a row still to escalate (0 if none). */
int store_trips_next_unacked(struct store *st, int64_t now, int64_t deadline_s, int64_t *due);

/* Ids of live events with trips or meals (their rows derived after an upgrade). */
int store_events_with_trips_or_meals(struct store *st, int (*cb)(const char *id, void *arg),
                                     void *arg);

/* --- catering: one row per occurrence x meal on its local day (store/catering.c) --- */
struct catering_row {
    char day[TIME_DATE_STR];
    char meal[24];
    char event_id[ID_STR_MAX];
    char recurrence_id[TIME_LOCAL_STR];
    char start[TIME_LOCAL_STR]; /* the occurrence's local start */
    int64_t count;
    const char *diets;          /* JSON object: diet -> heads */
    int late;                   /* changed after the meal's cutoff */
    const char *title;
    int confidential;
};

int store_catering_put(struct store *st, const struct catering_row *c);
int store_catering_delete(struct store *st, const char *day, const char *meal,
                          const char *event_id, const char *recurrence_id);
int store_catering_of_event(struct store *st, const char *event_id,
                            int (*cb)(const struct catering_row *c, void *arg), void *arg);
/* Rows of local days [from_day, to_day], by day, meal, start and event. */
int store_catering_of_days(struct store *st, const char *from_day, const char *to_day,
                           int (*cb)(const struct catering_row *c, void *arg), void *arg);
/*
 * A day's rows, as little as a total needs (meal, heads, late, diets as
 * stored), in no particular order; cb returning non-zero stops.
 */
int store_catering_day_rows(struct store *st, const char *day,
                            int (*cb)(const char *meal, int64_t count, int late,
                                      const char *diets, void *arg),
                            void *arg);
/*
 * A day's totals per meal: heads, whether any row is late, heads per diet
 * (a JSON object, keys in byte order) and the rows summed.
 */
int store_catering_day_totals(struct store *st, const char *day,
                              int (*cb)(const char *meal, int64_t total, int late,
                                        const char *diets, int64_t rows, void *arg),
                              void *arg);

/* --- the working calendar's notices loaded by the office (one per year) --- */
/*
 * Stores a checked notice (replacing any of its year), with n->updated_at
 * and who loaded it (by may be NULL). Run inside a transaction.
 */
int store_workcal_put(struct store *st, const struct workcal_notice *n, const char *by);
/*
 * Every loaded notice, by year. *out is owned by the caller: free each with
 * workcal_notice_free, then the array.
 */
int store_workcal_load(struct store *st, struct workcal_notice **out, size_t *count);

/* --- reports (CONTRACT section 13): held meetings, trips and meals of a period --- */

/*
 * What a report reads of a held event, once per event (from its document:
 * when events gain kind and department columns, store/reports.c reads them
 * there instead, in one place). Strings borrowed for the callback only.
 */
struct report_event_facts {
    const char *event_id;
    const char *kind;       /* e.g. 办公会; NULL when none */
    const char *department; /* NULL when none */
    const char *room;       /* NULL when none */
    int trip_only;          /* a stand-alone trip (POST /trips), not a meeting */
};

/* One row a report adds up: an occurrence, a leader's attendance, a trip, a meal. */
struct report_row {
    const struct report_event_facts *ev; /* occurrences, attendance, meals */
    int64_t start, end;                  /* UTC; a trip's depart and return */
    const char *person, *name;           /* attendance: the leader */
    const char *vehicle, *driver;        /* trips (vehicle NULL when none) */
    const char *meal, *diets;            /* meals: the meal and its diets (JSON object text) */
    int64_t count;                       /* meals: heads */
};

typedef int (*store_report_cb)(const struct report_row *row, void *arg);

/*
 * Occurrences of held events (status confirmed: not cancelled, pending,
 * rejected or expired) starting in [from, to), in no particular order.
 */
int store_report_occurrences(struct store *st, int64_t from, int64_t to, store_report_cb cb,
                             void *arg);
/* Each leader's (role leader) attendance, not declined, at those occurrences. */
int store_report_attendance(struct store *st, int64_t from, int64_t to, store_report_cb cb,
                            void *arg);
/*
 * Trip occurrences of held events departing in [from, to); day_from and
 * day_to are local days around them (at least a day wider: the index).
 */
int store_report_trips(struct store *st, const char *day_from, const char *day_to, int64_t from,
                       int64_t to, store_report_cb cb, void *arg);
/* Meals of held events served on the local days [day_from, day_to]. */
int store_report_meals(struct store *st, const char *day_from, const char *day_to,
                       store_report_cb cb, void *arg);
/*
 * Every room, vehicle or person ("room", "vehicle", "person"), deleted ones
 * too (a report names what was used): id, name, plate (vehicles) or role
 * (people; NULL for rooms) and whether it is live.
 */
int store_report_names(struct store *st, const char *type,
                       int (*cb)(const char *id, const char *name, const char *plate, int live,
                                 void *arg),
                       void *arg);
/*
 * Approvals requested in [from, to) by outcome. Zeros while the database
 * has no approvals table (before approvals were added).
 */
int store_report_approvals(struct store *st, int64_t from, int64_t to, int64_t *approved,
                           int64_t *rejected, int64_t *expired);

#endif
