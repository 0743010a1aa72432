/*
 * app.h - the process-wide state every request handler reaches: the
 * configuration, the store, the metrics and the feed key. One per process,
 * owned by main.
 */
#ifndef CONVENE_APP_H
#define CONVENE_APP_H

#include <stdint.h>
#include <stdio.h>

#include "convene/config.h"
#include "convene/taplink.h"
#include "convene/token.h"
#include "convene/workcal.h"

struct store;
struct metrics;
struct feed_cache;
struct notify;
struct event_docs;
struct auth_cache;
struct feed_token_slot;
struct web_assets;

struct app {
    struct config cfg;
    struct store *store;     /* owned */
    struct metrics *metrics; /* owned */
    struct feed_cache *feeds; /* owned: rendered iCalendar feeds */
    struct event_docs *event_docs; /* owned: parsed event documents for the read paths */
    struct auth_cache *auth_cache; /* owned: live tokens recently seen (http/auth.c) */
    struct feed_token_slot *feed_tokens; /* owned: derived feed tokens (app_feed_url) */
    struct record_cache {                /* rendered records for GET (api/resources.c) */
        struct json_t *texts;            /* owned: "kind:id" -> [JSON text, version] */
        int64_t data_version;            /* the database's when filled */
        uint64_t writes;                 /* store_record_writes when filled */
    } record_cache;
    struct web_assets *web;   /* owned: the console's files; NULL until first asked for */
    struct notify *notify;    /* owned by `serve`; NULL in command-line tools */
    struct workcal workcal;   /* working days and hours: read it through app_workcal() */
    int64_t workcal_data_version; /* the database's when the loaded notices were read */
    unsigned char feed_key[FEED_KEY_LEN];
    unsigned char csrf_key[32]; /* derived from the key file: CSRF tokens of sessions */
    unsigned char taplink_key[TAPLINK_KEY_LEN]; /* derived from the key file: one-tap links */
    char public_url[512];    /* base of links, no trailing slash */
    uint64_t started_us;
    int64_t open_connections;
    struct conn_stats {           /* kept by http/server.c for /metrics */
        uint64_t refused_total;      /* connections refused: every slot taken */
        uint64_t refused_per_client; /* refused: the client's address held its share */
        int64_t max_total;           /* the caps in force */
        int64_t max_per_client;
        int64_t open_files_limit;    /* RLIMIT_NOFILE after raising it at start */
    } conn_stats;
    struct commit_stats {         /* kept by http/commit_group.c for /metrics */
        uint64_t groups;             /* transactions committed for groups of write requests */
        uint64_t members;            /* requests applied in them */
        uint64_t largest;            /* members of the largest group */
        uint64_t cut;                /* groups ended by a bound with requests still waiting */
        uint64_t failed;             /* groups whose BEGIN or COMMIT failed */
    } commit_stats;
};

/*
 * Opens the database (migrating it) and loads or creates the feed key file.
 * Returns 0 or -1 (logged). On failure nothing needs closing.
 */
int app_open(struct app *app, const struct config *cfg);
void app_close(struct app *app);

/*
 * (Re)reads the .ics files of <calendars>/holidays and the notices loaded
 * into the database (at start and on SIGHUP); on error the calendar in use
 * is kept. 0 or -1 (logged).
 */
int app_load_workcal(struct app *app);
/* Re-reads only the notices loaded into the database (after a PUT). 0 or -1 (logged). */
int app_workcal_reload_stored(struct app *app);
/*
 * The working calendar in use, first re-reading the loaded notices when
 * another process has written the database. Valid until the next call.
 */
const struct workcal *app_workcal(struct app *app);
/* Today's date in the organisation's zone (--tz). */
void app_today(const struct app *app, struct local_time *today);
/* workcal_warning for today: 1 with the text in buf, or 0. */
int app_workcal_warning(struct app *app, char *buf, size_t cap);
/* The instant the working calendar runs out (midnight after its last day, --tz), or 0 if empty. */
int64_t app_workcal_covered_until_utc(struct app *app);

/*
 * Makes sure an admin token exists: with CONVENE_ADMIN_TOKEN set, one with
 * that value; otherwise a fresh one, printed once to out.
 */
int app_bootstrap_admin(struct app *app, FILE *out);

/* Creates a token; writes the secret (shown once) and id. 0 or -1. */
int app_token_create(struct app *app, const char *role, const char *person, const char *name,
                     char token_out[TOKEN_STR_MAX], char id_out[ID_STR_MAX]);

/* The secret feed URL of a calendar ("https://.../feeds/<token>.ics"). */
void app_feed_url(const struct app *app, const char *kind, const char *id, int64_t generation,
                  char *out, size_t cap);

/*
 * The one-tap link of ref ({public-url}/t/{token}, taplink.h) into out.
 * 0, or -1 when links are off: no --public-url was given, so the only base
 * known is the listening address, which a phone in a chat app cannot
 * reach (or it does not fit).
 */
int app_taplink_url(const struct app *app, const char *ref, char *out, size_t cap);

/*
 * Loads dir/organisation.json ({"people","rooms","vehicles"}: arrays of
 * POST bodies) into a database that has no people yet, through the API's
 * own validation, and prints the people's feed URLs to out. 0 or -1.
 */
int seed_organisation(struct app *app, const char *dir, FILE *out);

/*
 * `convene calendar load FILE`: reads a notice file ({"year",
 * "holidays","workdays"}, or {"years":{"2027":[{"name","date"|"from","to",
 * "off"}]}}) into [[year, PUT body], ...] (caller owns), or NULL after
 * printing why (Chinese, then English) to err.
 */
struct json_t *calendar_file_read(const char *path, FILE *err);
/*
 * Loads each year through PUT /api/v1/workdays/{year}, all or nothing,
 * printing what was loaded to out and any refusal, naming the field, to
 * err. 0 or -1.
 */
int calendar_file_load(struct app *app, struct json_t *notices, FILE *out, FILE *err);

#endif
