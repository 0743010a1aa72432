/*
 * migrate.c - the schema, as an append-only list of migrations. The
 * database's PRAGMA user_version says how many have run; each runs in its
 * own transaction, so a crash mid-upgrade leaves the previous version.
 * Never edit a released migration: add a new one.
 */
#include "store_internal.h"

#include "convene/util.h"

#include <stdio.h>

static const char *const migrations[] = {
    /* 1: tokens, resources, feed tokens, blocks */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE tokens("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, person TEXT,"
    "  hash BLOB NOT NULL UNIQUE, created_at INTEGER NOT NULL, revoked_at INTEGER);"
    "CREATE TABLE people("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, rank INTEGER NOT NULL,"
    "  department TEXT, phone TEXT, diet TEXT,"
    "  feed_gen INTEGER NOT NULL DEFAULT 1, version INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER);"
    "CREATE TABLE rooms("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, capacity INTEGER NOT NULL, features TEXT,"
    "  location TEXT, setup_minutes INTEGER NOT NULL, teardown_minutes INTEGER NOT NULL,"
    "  feed_gen INTEGER NOT NULL DEFAULT 1, version INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER);"
    "CREATE TABLE vehicles("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, plate TEXT, seats INTEGER NOT NULL,"
    "  feed_gen INTEGER NOT NULL DEFAULT 1, version INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER);"
    "CREATE TABLE feed_tokens("
    "  hash BLOB PRIMARY KEY, kind TEXT NOT NULL, resource_id TEXT NOT NULL,"
    "  UNIQUE(kind, resource_id));"
    "CREATE TABLE blocks("
    "  id TEXT PRIMARY KEY, resource_type TEXT NOT NULL, resource_id TEXT NOT NULL,"
    "  start_local TEXT NOT NULL, end_local TEXT NOT NULL, tz TEXT NOT NULL,"
    "  start_utc INTEGER NOT NULL, end_utc INTEGER NOT NULL, reason TEXT,"
    "  version INTEGER NOT NULL, created_at INTEGER NOT NULL, created_by TEXT,"
    "  deleted_at INTEGER);"
    "CREATE INDEX blocks_by_resource ON blocks(resource_type, resource_id, start_utc);",

    /*
     * 2: the booking engine. An event is stored as its document (the
     * validated request shape) plus the columns queries need; its
     * occurrences and the occupancy index are derived from it in the same
     * transaction. occupancy has one row per occurrence x resource, and
     * blocks; resource_span bounds how far back a range scan must look.
     * Every B-tree here is written by each booking, so there are no spare
     * ones: rowids are plain (never deleted, so max+1 stays monotonic for
     * the outbox cursor) and ids are random, so need no unique index.
     */
    "CREATE TABLE events("
    "  id TEXT PRIMARY KEY, uid TEXT NOT NULL UNIQUE, version INTEGER NOT NULL,"
    "  sequence INTEGER NOT NULL, status TEXT NOT NULL, title TEXT NOT NULL,"
    "  confidential INTEGER NOT NULL, best_rank INTEGER NOT NULL, doc TEXT NOT NULL,"
    "  expanded_until INTEGER NOT NULL, open_ended INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE occurrences("
    "  event_id TEXT NOT NULL, recurrence_id TEXT NOT NULL, start_local TEXT NOT NULL,"
    "  end_local TEXT NOT NULL, start_utc INTEGER NOT NULL, end_utc INTEGER NOT NULL,"
    "  PRIMARY KEY(event_id, recurrence_id)) WITHOUT ROWID;"
    "CREATE INDEX occurrences_by_start ON occurrences(start_utc);"
    "CREATE TABLE occupancy("
    "  resource_type TEXT NOT NULL, resource_id TEXT NOT NULL,"
    "  start_utc INTEGER NOT NULL, end_utc INTEGER NOT NULL,"
    "  event_id TEXT, recurrence_id TEXT, trip_id TEXT, block_id TEXT, role TEXT NOT NULL);"
    "CREATE INDEX occupancy_by_resource ON occupancy(resource_type, resource_id, start_utc);"
    "CREATE INDEX occupancy_by_event ON occupancy(event_id);"
    "CREATE TABLE resource_span("
    "  resource_type TEXT NOT NULL, resource_id TEXT NOT NULL, longest INTEGER NOT NULL,"
    "  PRIMARY KEY(resource_type, resource_id)) WITHOUT ROWID;"
    "INSERT INTO occupancy(resource_type, resource_id, start_utc, end_utc, block_id, role)"
    "  SELECT resource_type, resource_id, start_utc, end_utc, id, 'block' FROM blocks"
    "  WHERE deleted_at IS NULL;"
    "INSERT INTO resource_span SELECT resource_type, resource_id, max(end_utc - start_utc)"
    "  FROM blocks WHERE deleted_at IS NULL GROUP BY resource_type, resource_id;"
    "CREATE TABLE outbox("
    "  seq INTEGER PRIMARY KEY, msg_id TEXT NOT NULL, type TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL, payload TEXT NOT NULL);"
    "CREATE TABLE event_history("
    "  seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, at INTEGER NOT NULL,"
    "  token_id TEXT, actor TEXT, actor_person TEXT, action TEXT NOT NULL,"
    "  before TEXT, after TEXT);"
    "CREATE INDEX event_history_by_event ON event_history(event_id, seq);",

    /*
     * 3: which calendars show an event. Unlike occupancy this keeps
     * cancelled events and declined attendees: feeds must still publish
     * them (STATUS:CANCELLED, PARTSTAT=DECLINED).
     * The INSERT fills it for the events a version-2 database already
     * holds, as publish_calendars() does for each write (attendees, room,
     * each trip's vehicle, driver and passengers); without it they vanished
     * from every feed on upgrade. Data only: the schema is unchanged.
     */
    "CREATE TABLE event_resources("
    "  event_id TEXT NOT NULL, resource_type TEXT NOT NULL, resource_id TEXT NOT NULL,"
    "  PRIMARY KEY(resource_type, resource_id, event_id)) WITHOUT ROWID;"
    "CREATE INDEX event_resources_by_event ON event_resources(event_id);"
    "INSERT OR IGNORE INTO event_resources(event_id, resource_type, resource_id)"
    "  SELECT e.id, 'person', json_extract(a.value, '$.person')"
    "    FROM events e, json_each(e.doc, '$.attendees') a"
    "    WHERE json_type(e.doc, '$.attendees') = 'array'"
    "  UNION ALL SELECT id, 'room', json_extract(doc, '$.room') FROM events"
    "    WHERE json_type(doc, '$.room') = 'text'"
    "  UNION ALL SELECT e.id, 'vehicle', json_extract(t.value, '$.vehicle')"
    "    FROM events e, json_each(e.doc, '$.trips') t"
    "    WHERE json_type(e.doc, '$.trips') = 'array' AND json_type(t.value, '$.vehicle') = 'text'"
    "  UNION ALL SELECT e.id, 'person', json_extract(t.value, '$.driver')"
    "    FROM events e, json_each(e.doc, '$.trips') t"
    "    WHERE json_type(e.doc, '$.trips') = 'array' AND json_type(t.value, '$.driver') = 'text'"
    "  UNION ALL SELECT e.id, 'person', p.value"
    "    FROM events e, json_each(e.doc, '$.trips') t, json_each(t.value, '$.passengers') p"
    "    WHERE json_type(e.doc, '$.trips') = 'array'"
    "      AND json_type(t.value, '$.passengers') = 'array' AND p.type = 'text';",

    /*
     * 4: webhooks. The outbox (written by each change) is fanned out to
     * matching endpoints as delivery rows; the sender works from those, so
     * an acknowledged change's messages survive a crash. Reminders are
     * materialised with the occurrences and turn into outbox messages when
     * due. The signing secret must be kept usable (HMAC), not hashed.
     * The INSERT materialises the reminders of the meetings a version-3
     * database already holds, as write_reminders() does for each write
     * (live events, occurrence x attendee not declined x offset, due now or
     * later); without it they were never sent. Data only.
     */
    "CREATE TABLE webhooks("
    "  id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, person TEXT,"
    "  enabled INTEGER NOT NULL, secret TEXT NOT NULL, old_secret TEXT,"
    "  old_secret_until INTEGER, failing_since INTEGER, disabled_reason TEXT,"
    "  version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  deleted_at INTEGER);"
    "CREATE TABLE deliveries("
    "  id INTEGER PRIMARY KEY, webhook_id TEXT NOT NULL, msg_id TEXT NOT NULL,"
    "  type TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0, last_status INTEGER, last_error TEXT,"
    "  next_attempt INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  UNIQUE(webhook_id, msg_id));"
    "CREATE INDEX deliveries_due ON deliveries(status, next_attempt);"
    "CREATE TABLE reminders("
    "  event_id TEXT NOT NULL, recurrence_id TEXT NOT NULL, person TEXT NOT NULL,"
    "  offset_minutes INTEGER NOT NULL, due_utc INTEGER NOT NULL, start_utc INTEGER NOT NULL,"
    "  sent INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(event_id, recurrence_id, person, offset_minutes, due_utc)) WITHOUT ROWID;"
    "CREATE INDEX reminders_due ON reminders(sent, due_utc);"
    "INSERT INTO meta(key, value) VALUES('outbox_fanned_out', '0');"
    "INSERT OR IGNORE INTO reminders(event_id, recurrence_id, person, offset_minutes, due_utc,"
    "  start_utc)"
    "  SELECT o.event_id, o.recurrence_id, json_extract(a.value, '$.person'), r.value,"
    "         o.start_utc - r.value * 60, o.start_utc"
    "    FROM events e JOIN occurrences o ON o.event_id = e.id,"
    "         json_each(e.doc, '$.attendees') a, json_each(e.doc, '$.reminders') r"
    "    WHERE e.status != 'cancelled' AND json_type(e.doc, '$.attendees') = 'array'"
    "      AND json_type(e.doc, '$.reminders') = 'array' AND r.type = 'integer'"
    "      AND coalesce(json_extract(a.value, '$.response'), '') != 'declined'"
    "      AND o.start_utc - r.value * 60 >= CAST(strftime('%s', 'now') AS INTEGER);",

    /*
     * 5: dispatch and catering, derived from the events in the same
     * transaction as each change (like occupancy). trip_occurrences has one
     * row per trip x occurrence: the dispatch list of a day, a driver's
     * hours, and the driver's acknowledgement and its escalation, which a
     * material change of the trip resets. catering has one row per
     * occurrence x meal on the local day the meal is served; a row changed
     * after its cutoff stays flagged late (count 0 when the meal went away).
     * Rows of events an older version stored are derived by the service at
     * start (the meta flag), with the same code as every write.
     */
    "CREATE TABLE trip_occurrences("
    "  event_id TEXT NOT NULL, trip_id TEXT NOT NULL, recurrence_id TEXT NOT NULL,"
    "  day TEXT NOT NULL, depart_local TEXT NOT NULL, return_local TEXT NOT NULL,"
    "  depart_utc INTEGER NOT NULL, return_utc INTEGER NOT NULL, tz TEXT NOT NULL,"
    "  vehicle TEXT, driver TEXT NOT NULL, from_place TEXT, to_place TEXT,"
    "  passengers TEXT NOT NULL, approved_by TEXT, title TEXT NOT NULL,"
    "  confidential INTEGER NOT NULL, acked_at INTEGER, acked_by TEXT, escalated_at INTEGER,"
    "  PRIMARY KEY(event_id, trip_id, recurrence_id)) WITHOUT ROWID;"
    "CREATE INDEX trip_occurrences_by_day ON trip_occurrences(day, depart_utc);"
    "CREATE INDEX trip_occurrences_by_driver ON trip_occurrences(driver, day);"
    "CREATE INDEX trip_occurrences_by_trip ON trip_occurrences(trip_id);"
    "CREATE INDEX trip_occurrences_unacked ON trip_occurrences(depart_utc)"
    "  WHERE acked_at IS NULL AND escalated_at IS NULL;"
    "CREATE TABLE catering("
    "  day TEXT NOT NULL, meal TEXT NOT NULL, event_id TEXT NOT NULL,"
    "  recurrence_id TEXT NOT NULL, start_local TEXT NOT NULL, count INTEGER NOT NULL,"
    "  diets TEXT NOT NULL, late INTEGER NOT NULL, title TEXT NOT NULL,"
    "  confidential INTEGER NOT NULL,"
    "  PRIMARY KEY(day, meal, event_id, recurrence_id)) WITHOUT ROWID;"
    "CREATE INDEX catering_by_event ON catering(event_id);"
    /* Events stored before this version get their rows at the next start (api/derive.c). */
    "INSERT INTO meta(key, value) VALUES('derive_trips_meals', '1');",

    /*
     * 6: deliveries.next_attempt in unix milliseconds (it was whole
     * seconds, so a retry rounded up to the next second could wait almost
     * a second longer than its schedule or Retry-After said). The index
     * deliveries_due(status, next_attempt) stays as it is: only the unit of
     * its second column changes.
     */
    "UPDATE deliveries SET next_attempt = next_attempt * 1000;",

    /*
     * 7: when a calendar last lost an event. A feed's Last-Modified is the
     * newest change among the events it shows; an event that leaves it
     * (an attendee removed, a room changed) is not among them any more, so
     * Last-Modified went backwards and If-Modified-Since clients were told
     * 304 and kept showing the meeting. Empty at upgrade: losses before it
     * are not known.
     */
    "CREATE TABLE calendar_changes("
    "  resource_type TEXT NOT NULL, resource_id TEXT NOT NULL, changed_at INTEGER NOT NULL,"
    "  PRIMARY KEY(resource_type, resource_id)) WITHOUT ROWID;",

    /*
     * 8: the working calendar's notices an office loads itself (PUT
     * /api/v1/workdays/{year}, `convene calendar load`), one per year: the
     * State Council publishes a year's holidays in November or December,
     * long after the release that shipped calendars/holidays/. A loaded
     * year replaces the files' days of that year. Holidays are kept as the
     * notice gives them (name, first and last day); a make-up working day
     * has off = 0 and first = last.
     */
    "CREATE TABLE workcal_years("
    "  year INTEGER PRIMARY KEY, updated_at INTEGER NOT NULL, updated_by TEXT);"
    "CREATE TABLE workcal_days("
    "  year INTEGER NOT NULL REFERENCES workcal_years(year) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL, off INTEGER NOT NULL, name TEXT, first TEXT NOT NULL,"
    "  last TEXT NOT NULL, PRIMARY KEY(year, seq)) WITHOUT ROWID;",

    /*
     * 9: sign-in.
     * A person's login (unique among live people, so a deleted person's
     * login can be given again) and access (NULL: the default of their
     * role). Passwords are Argon2id strings in a table of their own, so
     * no record query ever reads them. A session is found by the SHA-256
     * of its id (the cookie); last_seen moves at most every few seconds,
     * so reading with a cookie rarely writes. login_failures counts wrong
     * passwords per login for the lockout window (pruned as it goes).
     */
    "ALTER TABLE people ADD COLUMN login TEXT;"
    "ALTER TABLE people ADD COLUMN access TEXT;"
    "CREATE UNIQUE INDEX people_by_login ON people(login)"
    "  WHERE login IS NOT NULL AND deleted_at IS NULL;"
    "CREATE TABLE passwords("
    "  person TEXT PRIMARY KEY, hash TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE sessions("
    "  hash BLOB PRIMARY KEY, person TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    "  last_seen_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX sessions_by_person ON sessions(person);"
    "CREATE TABLE login_failures(login TEXT NOT NULL, at_ms INTEGER NOT NULL);"
    "CREATE INDEX login_failures_by_login ON login_failures(login, at_ms);"
    "CREATE INDEX login_failures_by_time ON login_failures(at_ms);",

    /*
     * 10: the live series whose stored window ends before an instant. A
     * booking reaching past another series' window checks that series'
     * later occurrences too (CONTRACT section 4), and asks first whether
     * any window ends that early: without an index that was a scan of every
     * event per booking. Partial, so one-off bookings never write it.
     */
    "CREATE INDEX events_window ON events(expanded_until)"
    "  WHERE open_ended = 1"
    "  AND status != 'cancelled';",

    /*
     * 11: how an endpoint is spoken to (CONTRACT section 14): 'standard'
     * (Standard Webhooks), 'wecom' or 'dingtalk' (chat robots). A DingTalk
     * robot's 加签 secret lives in `secret`, sealed like signing secrets;
     * WeCom robots have none (''). Existing endpoints stay standard.
     */
    "ALTER TABLE webhooks ADD COLUMN format TEXT NOT NULL DEFAULT 'standard';",

    /*
     * 12: approvals (CONTRACT section 12). An event's kind and department
     * become columns (reports group by them; they are written from the
     * document by the same statement that writes it, so they cannot
     * drift). Departments name their in-charge leader (分管领导), unique by
     * name among live ones. A block may name a delegate who decides the
     * blocked approver's approvals while it lasts. One row per approval a
     * booking needs; pending ones are found by their expiry (the timer) and
     * by approver (their list). The rules themselves are one document in
     * meta ('approval_rules'): read whole, replaced whole.
     */
    "ALTER TABLE events ADD COLUMN kind TEXT;"
    "ALTER TABLE events ADD COLUMN department TEXT;"
    "UPDATE events SET kind = json_extract(doc, '$.kind'),"
    "  department = json_extract(doc, '$.department');"
    "CREATE INDEX events_by_kind ON events(kind) WHERE kind IS NOT NULL;"
    "ALTER TABLE blocks ADD COLUMN delegate TEXT;"
    "CREATE TABLE departments("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, in_charge TEXT, version INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER);"
    "CREATE UNIQUE INDEX departments_by_name ON departments(name) WHERE deleted_at IS NULL;"
    "CREATE TABLE approvals("
    "  id TEXT PRIMARY KEY, event_id TEXT NOT NULL, reason TEXT NOT NULL, tier TEXT NOT NULL,"
    "  approver TEXT NOT NULL, status TEXT NOT NULL, requested_by TEXT,"
    "  requested_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, decided_by TEXT,"
    "  decided_at INTEGER, comment TEXT, meeting TEXT) WITHOUT ROWID;"
    "CREATE INDEX approvals_by_event ON approvals(event_id);"
    "CREATE INDEX approvals_by_approver ON approvals(approver, status);"
    "CREATE INDEX approvals_pending ON approvals(expires_at) WHERE status = 'pending';",

    /*
     * 13: one-tap links (CONTRACT section 14). A link's token is derived
     * (HMAC under a key from the key file, include/convene/taplink.h), so
     * only its SHA-256 is here, with the one action it allows: a driver's
     * acknowledgement of a trip ('ack'), or an attendee's answer to one
     * occurrence ('rsvp', used once: used_at). expires_utc is when the
     * row may be pruned; whether the link still works is decided from the
     * trip or occurrence as they are when it is opened. A delivery that
     * carries a link keeps the ref the token is derived from and the byte
     * offset where the URL goes (link_at): never the link itself.
     */
    "CREATE TABLE taplinks("
    "  hash BLOB PRIMARY KEY, purpose TEXT NOT NULL CHECK(purpose IN ('ack', 'rsvp')),"
    "  person TEXT NOT NULL, event_id TEXT NOT NULL, trip_id TEXT NOT NULL DEFAULT '',"
    "  recurrence_id TEXT NOT NULL DEFAULT '', expires_utc INTEGER NOT NULL,"
    "  used_at INTEGER, created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX taplinks_by_expiry ON taplinks(expires_utc);"
    "ALTER TABLE deliveries ADD COLUMN link_ref TEXT;"
    "ALTER TABLE deliveries ADD COLUMN link_at INTEGER;",

    /*
     * 14: an approver's one-tap decision ('approve', CONTRACT sections 12
     * and 14): the link names its approval (approval_id) and is used once.
     * SQLite cannot change a CHECK constraint in place, so the table is
     * built again under its new rule and every link is copied across:
     * links already sent keep working.
     */
    "CREATE TABLE taplinks_14("
    "  hash BLOB PRIMARY KEY,"
    "  purpose TEXT NOT NULL CHECK(purpose IN ('ack', 'rsvp', 'approve')),"
    "  person TEXT NOT NULL, event_id TEXT NOT NULL, trip_id TEXT NOT NULL DEFAULT '',"
    "  recurrence_id TEXT NOT NULL DEFAULT '', approval_id TEXT NOT NULL DEFAULT '',"
    "  expires_utc INTEGER NOT NULL, used_at INTEGER, created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO taplinks_14(hash, purpose, person, event_id, trip_id, recurrence_id,"
    "  expires_utc, used_at, created_at)"
    "  SELECT hash, purpose, person, event_id, trip_id, recurrence_id, expires_utc, used_at,"
    "  created_at FROM taplinks;"
    "DROP TABLE taplinks;"
    "ALTER TABLE taplinks_14 RENAME TO taplinks;"
    "CREATE INDEX taplinks_by_expiry ON taplinks(expires_utc);",
};

int store_schema_latest(void)
{
    return (int)ARRAY_SIZE(migrations);
}

int store_schema_version(struct store *st)
{
    sqlite3_stmt *stmt = NULL;
    int version = -1;

    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return version;
}

int store_migrate(struct store *st)
{
    int version = store_schema_version(st);

    if (version < 0)
        return store_fail(st, __func__);
    if (version > store_schema_latest()) {
        log_error("database schema version %d is newer than this binary knows (%d): "
                  "refusing to run an older convene on it",
                  version, store_schema_latest());
        return STORE_ERROR;
    }
    for (int v = version; v < store_schema_latest(); v++) {
        char bump[64];
        char *msg = NULL;

        snprintf(bump, sizeof(bump), "PRAGMA user_version=%d;", v + 1);
        if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(st->db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(st->db, bump, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(st->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            log_error("migration %d failed: %s", v + 1, msg ? msg : sqlite3_errmsg(st->db));
            sqlite3_free(msg);
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return STORE_ERROR;
        }
        log_info("database migrated to schema version %d", v + 1);
    }
    return STORE_OK;
}
