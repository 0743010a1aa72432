/*
 * main.c - the command line: serve, token, backup, seed, import, export,
 * calendar. Each command parses its options from a table that is also its
 * --help text.
 */
#include "convene/account.h"
#include "convene/api.h"
#include "convene/app.h"
#include "convene/booking.h"
#include "convene/config.h"
#include "convene/feed.h"
#include "convene/http.h"
#include "convene/notify.h"
#include "convene/store.h"
#include "convene/timeutil.h"
#include "convene/util.h"

#include <errno.h>
#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <uv.h>

#define EXIT_USAGE 2
#define LOG_FLUSH_MS 250
#define HORIZON_CHECK_MS (3600 * 1000) /* hourly: cheap when nothing is due */
#define TRIM_MS (5 * 1000) /* malloc_trim: see on_trim */
#define WORKCAL_CHECK_MS (24 * 3600 * 1000) /* the calendar's end is warned of daily */

static char log_buffer[64 * 1024];

/* Creates the directory that will hold path (one level, like var/). */
static int ensure_parent_dir(const char *path)
{
    char dir[CONFIG_PATH_MAX];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "convene: cannot create directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Parses a command's options; exits on --help or error. */
static void parse_or_exit(int argc, char **argv, const struct cli_option *opts, size_t nopts,
                          void *target, char **pos, size_t maxpos, size_t *npos,
                          const char *synopsis, const char *about)
{
    char err[512];
    int rc = cli_parse(argc, argv, opts, nopts, target, pos, maxpos, npos, err, sizeof(err));

    if (rc == 1) {
        cli_usage(stdout, synopsis, about, opts, nopts);
        exit(0);
    }
    if (rc != 0) {
        fprintf(stderr, "convene: %s\n", err);
        cli_usage(stderr, synopsis, about, opts, nopts);
        exit(EXIT_USAGE);
    }
}

/* ---------------- serve ---------------- */

struct serve_state {
    uv_loop_t *loop;
    struct http_server *server;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t log_flush;
    uv_timer_t horizon;
    uv_timer_t trim;
    uv_timer_t workcal;
    struct app *app;
    int stopping;
};

static void on_notify_drained(void *arg)
{
    struct serve_state *s = arg;
    log_info("shutdown: drained, exiting");
    uv_stop(s->loop);
}

/* HTTP first (no new changes), then webhook attempts in flight. */
static void on_drained(void *arg)
{
    struct serve_state *s = arg;
    notify_shutdown(s->app->notify, on_notify_drained, s);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    struct serve_state *s = handle->data;

    if (s->stopping)
        return;
    s->stopping = 1;
    log_info("received %s: no new connections, finishing in-flight requests",
             signum == SIGTERM ? "SIGTERM" : "SIGINT");
    http_server_shutdown(s->server, on_drained, s);
}

/*
 * The working calendar ends when the last loaded year does; someone must
 * load the next year's notice before then. Logged at start, daily and
 * after a reload, as long as it holds (GET /healthz says it too).
 */
static void workcal_check(struct app *app)
{
    char warning[1024];

    if (app_workcal_warning(app, warning, sizeof(warning)))
        log_warn("working calendar: %s", warning);
}

static void on_workcal_tick(uv_timer_t *timer)
{
    struct serve_state *s = timer->data;
    workcal_check(s->app);
}

/* SIGHUP: re-read the working calendar (new year's holidays) without a restart. */
static void on_sighup(uv_signal_t *handle, int signum)
{
    struct serve_state *s = handle->data;

    (void)signum;
    log_info("received SIGHUP: reloading the working calendar");
    if (app_load_workcal(s->app) == 0)
        workcal_check(s->app);
}

static void on_log_flush(uv_timer_t *timer)
{
    (void)timer;
    fflush(stderr);
}

/*
 * Gives freed heap memory back to the kernel. Under load the read caches
 * replace parsed documents all the time, and glibc keeps the freed small
 * chunks: RSS grew by 22 MB in 30 s with the caches at their budget, and one
 * malloc_trim brought it back (docs/PERFORMANCE.md, "Load"). A pass costs
 * about a millisecond on a 100 MB heap.
 */
static void on_trim(uv_timer_t *timer)
{
    uint64_t t0 = clock_monotonic_us();

    (void)timer;
    malloc_trim(0);
    if (clock_monotonic_us() - t0 > 5000)
        log_info("malloc_trim took %llu us", (unsigned long long)(clock_monotonic_us() - t0));
}

/*
 * CONVENE_TEST_HORIZON_SKEW_DAYS=N (tests only): the window job acts as if
 * N days (0 to 3650) had passed, so a test can watch a series' window move
 * without waiting for it. Nothing else reads the skewed clock. Read once.
 */
static int64_t horizon_skew(void)
{
    static int64_t skew = -1;
    const char *v;
    char *end;

    if (skew >= 0)
        return skew;
    skew = 0;
    if ((v = getenv("CONVENE_TEST_HORIZON_SKEW_DAYS")) != NULL && *v != '\0') {
        long days = strtol(v, &end, 10);
        if (*end == '\0' && days >= 0 && days <= 3650) {
            skew = (int64_t)days * 86400;
            log_info("horizon: test skew of %ld days (CONVENE_TEST_HORIZON_SKEW_DAYS)", days);
        } else {
            log_error("ignoring CONVENE_TEST_HORIZON_SKEW_DAYS='%s' (0 to 3650 days)", v);
        }
    }
    return skew;
}

/* Series roll forward so bookings two years out are always checked. */
static void on_horizon_tick(uv_timer_t *timer)
{
    struct serve_state *s = timer->data;
    if (booking_extend_windows(s->app, clock_wall_s() + horizon_skew()) != 0)
        log_error("horizon: extending open-ended series failed; will retry");
}

static void close_handle(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

static int cmd_serve(int argc, char **argv)
{
    static const char synopsis[] = "convene serve [options]";
    static const char about[] =
        "Runs the service. Environment: CONVENE_ADMIN_TOKEN creates the first admin token\n"
        "with that value (otherwise a fresh one is printed once). SIGTERM/SIGINT drain and exit 0.";
    struct config cfg;
    struct app app;
    struct serve_state s;
    uv_loop_t loop;
    size_t npos;
    int port = 0, rc = 1;

    config_defaults(&cfg);
    parse_or_exit(argc, argv, config_serve_options, config_serve_option_count, &cfg, NULL, 0,
                  &npos, synopsis, about);
    if (!time_zone_valid(cfg.tz)) {
        fprintf(stderr, "convene: unknown time zone '%s' (--tz)\n", cfg.tz);
        return EXIT_USAGE;
    }
    /* The access log is buffered and flushed by a timer: a write(2) per request costs more than the request. */
    setvbuf(stderr, log_buffer, _IOFBF, sizeof(log_buffer));
    signal(SIGPIPE, SIG_IGN);
    /*
     * Feed renders and long lists build bodies of a few hundred KiB and free
     * them at once. glibc's sliding mmap threshold moves such buffers onto the
     * heap after the first free, where they fragment it and RSS only grows
     * (+30 MB in a 20 s load run). A fixed threshold keeps them in their own
     * mappings, returned to the kernel on free.
     */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    /*
     * free() gives the heap's top back to the kernel once 128 KiB of it is
     * free, and the next requests fault it in again: under a feed 304 load,
     * a brk every ~30 requests and a page fault every ~6 were 8% of the
     * service's CPU. The heap is given back by on_trim every TRIM_MS
     * instead, so RSS still follows the load within seconds.
     */
    mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
    if (ensure_parent_dir(cfg.db_path) != 0 || app_open(&app, &cfg) != 0)
        return 1;
    if (app_bootstrap_admin(&app, stdout) != 0) {
        app_close(&app);
        return 1;
    }
    /* After an upgrade: trips and meals of the stored events (retried at the next start). */
    if (booking_derive_pending(&app) != 0)
        log_error("could not derive trips and meal counts of stored events; will retry at start");

    memset(&s, 0, sizeof(s));
    s.loop = &loop;
    s.app = &app;
    uv_loop_init(&loop);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (http_server_start(&app, &loop, &s.server, &port) == 0 &&
        notify_start(&app, &loop, &app.notify) == 0) {
        char probe[sizeof(app.public_url) + TAPLINK_PATH_MAX];
        if (cfg.public_url[0] == '\0')
            snprintf(app.public_url, sizeof(app.public_url), "http://%s:%d", cfg.listen_host,
                     port);
        /* A link to the listening address would reach no phone: say once why none is sent. */
        if (app_taplink_url(&app, "probe", probe, sizeof(probe)) != 0)
            log_info("one-tap links are off: %s", cfg.public_url[0] == '\0'
                                                      ? "no --public-url"
                                                      : "--public-url has characters a link "
                                                        "cannot carry as they are");
        uv_signal_init(&loop, &s.sigterm);
        uv_signal_init(&loop, &s.sigint);
        s.sigterm.data = s.sigint.data = &s;
        uv_signal_start(&s.sigterm, on_signal, SIGTERM);
        uv_signal_start(&s.sigint, on_signal, SIGINT);
        uv_signal_init(&loop, &s.sighup);
        s.sighup.data = &s;
        uv_signal_start(&s.sighup, on_sighup, SIGHUP);
        uv_timer_init(&loop, &s.log_flush);
        uv_timer_start(&s.log_flush, on_log_flush, LOG_FLUSH_MS, LOG_FLUSH_MS);
        uv_unref((uv_handle_t *)&s.log_flush);
        s.horizon.data = &s;
        uv_timer_init(&loop, &s.horizon);
        uv_timer_start(&s.horizon, on_horizon_tick, 0, HORIZON_CHECK_MS);
        uv_unref((uv_handle_t *)&s.horizon);
        uv_timer_init(&loop, &s.trim);
        uv_timer_start(&s.trim, on_trim, TRIM_MS, TRIM_MS);
        uv_unref((uv_handle_t *)&s.trim);
        s.workcal.data = &s;
        uv_timer_init(&loop, &s.workcal);
        uv_timer_start(&s.workcal, on_workcal_tick, WORKCAL_CHECK_MS, WORKCAL_CHECK_MS);
        uv_unref((uv_handle_t *)&s.workcal);
        workcal_check(&app);

        printf("listening on http://%s:%d\n", cfg.listen_host, port);
        fflush(stdout);
        log_info("convene serving on %s:%d, database %s (schema %d), public url %s",
                 cfg.listen_host, port, cfg.db_path, store_schema_version(app.store),
                 app.public_url);
        uv_run(&loop, UV_RUN_DEFAULT);
        rc = 0;
    }
    notify_free(app.notify);
    app.notify = NULL;
    http_server_free(s.server);
    /* Close whatever is left (signals, timers, lingering connections) and let the callbacks run. */
    uv_walk(&loop, close_handle, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    curl_global_cleanup();
    app_close(&app);
    log_info("stopped");
    fflush(stderr);
    setvbuf(stderr, NULL, _IONBF, 0);
    return rc;
}

/* ---------------- token ---------------- */

struct token_opts {
    char db[CONFIG_PATH_MAX];
    char role[16];
    char name[128];
    char person[ID_STR_MAX];
};

static int set_str(char *dst, size_t cap, const char *src)
{
    if (strlen(src) == 0 || strlen(src) >= cap)
        return -1;
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}
static int tok_db(void *t, const char *a)
{
    return set_str(((struct token_opts *)t)->db, CONFIG_PATH_MAX, a);
}
static int tok_role(void *t, const char *a)
{
    return set_str(((struct token_opts *)t)->role, 16, a);
}
static int tok_name(void *t, const char *a)
{
    return set_str(((struct token_opts *)t)->name, 128, a);
}
static int tok_person(void *t, const char *a)
{
    return set_str(((struct token_opts *)t)->person, ID_STR_MAX, a);
}

static const struct cli_option token_options[] = {
    {"--db", "PATH", "var/convene.db", "SQLite database file", tok_db},
    {"--role", "ROLE", "admin", "admin, secretary, leader, driver or canteen", tok_role},
    {"--name", "NAME", "command line", "who the token is for (shown in the audit trail)",
     tok_name},
    {"--person", "ID", "none", "person the token acts as (required for leader and driver)",
     tok_person},
};

static int cmd_token(int argc, char **argv)
{
    static const char synopsis[] = "convene token create [options]";
    static const char about[] = "Creates an API token and prints it once (for the first admin "
                                "of a deployment, or scripts).";
    struct token_opts o = {"var/convene.db", "admin", "command line", ""};
    char *pos[1];
    size_t npos;
    struct config cfg;
    struct app app;
    char token[TOKEN_STR_MAX], id[ID_STR_MAX];
    struct api_response res;
    struct auth system = {ROLE_ADMIN, "system", "command line", ""};
    char body[512];

    parse_or_exit(argc, argv, token_options, ARRAY_SIZE(token_options), &o, pos, 1, &npos,
                  synopsis, about);
    if (npos != 1 || strcmp(pos[0], "create") != 0) {
        cli_usage(stderr, synopsis, about, token_options, ARRAY_SIZE(token_options));
        return EXIT_USAGE;
    }
    config_defaults(&cfg);
    snprintf(cfg.db_path, sizeof(cfg.db_path), "%s", o.db);
    if (ensure_parent_dir(cfg.db_path) != 0 || app_open(&app, &cfg) != 0)
        return 1;
    /* Go through the API's own validation (role, person) rather than a second copy of it. */
    json_t *j = json_pack("{s:s, s:s}", "role", o.role, "name", o.name);
    if (o.person[0] != '\0')
        json_object_set_new(j, "person", json_string(o.person));
    char *dumped = json_dumps(j, JSON_COMPACT);
    snprintf(body, sizeof(body), "%s", dumped);
    free(dumped);
    json_decref(j);
    api_invoke(&app, "POST", "/api/v1/tokens", body, &system, &res);
    int ok = res.status == 201;
    if (ok) {
        json_t *out = json_loadb(res.body, res.body_len, 0, NULL);
        snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(out, "token")));
        snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(out, "id")));
        json_decref(out);
        printf("%s\n", token);
        fprintf(stderr, "created %s token %s\n", o.role, id);
    } else {
        fprintf(stderr, "convene: %.*s\n", (int)res.body_len, res.body ? res.body : "");
    }
    api_response_free(&res);
    app_close(&app);
    return ok ? 0 : 1;
}

/* ---------------- passwd ---------------- */

struct passwd_opts {
    char db[CONFIG_PATH_MAX];
    int generate; /* make up a password and print it */
    int if_unset; /* only when the person has none yet (make run) */
};

static int pw_db(void *t, const char *a)
{
    return set_str(((struct passwd_opts *)t)->db, CONFIG_PATH_MAX, a);
}
static int pw_generate(void *t, const char *a)
{
    (void)a;
    ((struct passwd_opts *)t)->generate = 1;
    return 0;
}
static int pw_if_unset(void *t, const char *a)
{
    (void)a;
    ((struct passwd_opts *)t)->if_unset = 1;
    return 0;
}

static const struct cli_option passwd_options[] = {
    {"--db", "PATH", "var/convene.db", "SQLite database file (may be in use by the service)",
     pw_db},
    {"--generate", NULL, "off", "make up a password (16 letters and digits) and print it once",
     pw_generate},
    {"--if-unset", NULL, "off", "do nothing if the person has a password already", pw_if_unset},
};

/* One line from stdin, without its line ending; NULL when too long or empty. */
static char *read_password(char *buf, size_t cap)
{
    size_t n;

    if (fgets(buf, (int)cap, stdin) == NULL)
        return NULL;
    n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (!feof(stdin))
        return NULL; /* longer than the buffer */
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return n > 0 ? buf : NULL;
}

/* 16 characters without look-alikes (no 0/o, 1/l/i): about 80 bits, easy to type once. */
static int password_generate(char out[17])
{
    static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789"; /* 31 */
    unsigned char raw[64];
    size_t n = 0;

    if (token_random_bytes(raw, sizeof(raw)) != 0)
        return -1;
    /* Rejection sampling: 31 * 8 = 248 keeps every letter equally likely. */
    for (size_t i = 0; i < sizeof(raw) && n < 16; i++)
        if (raw[i] < 248)
            out[n++] = alphabet[raw[i] % 31];
    out[n] = '\0';
    return n == 16 ? 0 : -1;
}

/* Sets the password through PUT /api/v1/people/{id}/password, so its rules apply here too. */
static int passwd_set(struct app *app, const char *person, const char *password)
{
    struct auth system = {ROLE_ADMIN, "system", "command line", ""};
    struct api_response res;
    char path[128];
    json_t *body = json_pack("{s:s}", "password", password);
    char *text = json_dumps(body, JSON_COMPACT);
    int ok;

    json_decref(body);
    snprintf(path, sizeof(path), "/api/v1/people/%s/password", person);
    api_invoke(app, "PUT", path, text, &system, &res);
    free(text);
    ok = res.status == 204;
    if (!ok)
        fprintf(stderr, "convene: %.*s\n", (int)res.body_len, res.body ? res.body : "");
    api_response_free(&res);
    return ok ? 0 : -1;
}

static int cmd_passwd(int argc, char **argv)
{
    static const char synopsis[] = "convene passwd [--db PATH] [--generate [--if-unset]] LOGIN";
    static const char about[] =
        "Sets the console password of the person with LOGIN: the new password is read from\n"
        "stdin (one line, at least 10 characters), or made up and printed with --generate.\n"
        "Other sessions of the person end. Works while the service runs.";
    struct passwd_opts o = {"var/convene.db", 0, 0};
    char *pos[1], line[ACCOUNT_PASSWORD_MAX_BYTES + 2], made[17];
    const char *password;
    struct login_row who;
    struct config cfg;
    struct app app;
    size_t npos;
    int rc;

    parse_or_exit(argc, argv, passwd_options, ARRAY_SIZE(passwd_options), &o, pos, 1, &npos,
                  synopsis, about);
    if (npos != 1) {
        cli_usage(stderr, synopsis, about, passwd_options, ARRAY_SIZE(passwd_options));
        return EXIT_USAGE;
    }
    config_defaults(&cfg);
    snprintf(cfg.db_path, sizeof(cfg.db_path), "%s", o.db);
    if (app_open(&app, &cfg) != 0)
        return 1;
    rc = store_login_find(app.store, pos[0], &who);
    if (rc != STORE_OK) {
        fprintf(stderr, "convene: %s\n",
                rc == STORE_NOTFOUND ? "no person has that login" : "the database failed");
        app_close(&app);
        return 1;
    }
    if (o.if_unset && who.hash[0] != '\0') {
        fprintf(stderr, "%s already has a password (a new one: convene passwd %s)\n", pos[0],
                pos[0]);
        app_close(&app);
        return 0;
    }
    if (o.generate)
        password = password_generate(made) == 0 ? made : NULL;
    else
        password = read_password(line, sizeof(line));
    if (password == NULL) {
        fprintf(stderr, "convene: no password: give one line on stdin (or --generate)\n");
        app_close(&app);
        return 1;
    }
    rc = passwd_set(&app, who.person, password);
    if (rc == 0 && o.generate)
        printf("%s\n", password);
    if (rc == 0)
        fprintf(stderr, "password of %s (%s) set\n", pos[0], who.name);
    OPENSSL_cleanse(line, sizeof(line));
    OPENSSL_cleanse(made, sizeof(made));
    app_close(&app);
    return rc == 0 ? 0 : 1;
}

/* ---------------- backup ---------------- */

static int backup_db(void *t, const char *a)
{
    return set_str(t, CONFIG_PATH_MAX, a);
}

static const struct cli_option backup_options[] = {
    {"--db", "PATH", "var/convene.db", "database to copy (may be in use by a running service)",
     backup_db},
};

static int cmd_backup(int argc, char **argv)
{
    static const char synopsis[] = "convene backup [--db PATH] OUT.db";
    static const char about[] = "Copies the database with SQLite's online backup API while the "
                                "service runs.\nKeep the feed key file (<db>.key) with it.";
    char db[CONFIG_PATH_MAX] = "var/convene.db";
    char *pos[1];
    size_t npos;
    char err[512];

    parse_or_exit(argc, argv, backup_options, ARRAY_SIZE(backup_options), db, pos, 1, &npos,
                  synopsis, about);
    if (npos != 1) {
        cli_usage(stderr, synopsis, about, backup_options, ARRAY_SIZE(backup_options));
        return EXIT_USAGE;
    }
    if (store_backup(db, pos[0], err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "convene: backup failed: %s\n", err);
        return 1;
    }
    fprintf(stderr, "backed up %s to %s\n", db, pos[0]);
    return 0;
}

/* ---------------- seed ---------------- */

static int cmd_seed(int argc, char **argv)
{
    static const char synopsis[] = "convene seed [options] DIR";
    static const char about[] =
        "Loads DIR/organisation.json (people, rooms, vehicles; each entry a POST body) into an\n"
        "empty database through the API's validation, then prints the people's feed URLs.";
    struct config cfg;
    struct app app;
    char *pos[1];
    size_t npos;
    int rc;

    config_defaults(&cfg);
    parse_or_exit(argc, argv, config_serve_options, config_serve_option_count, &cfg, pos, 1,
                  &npos, synopsis, about);
    if (npos != 1) {
        cli_usage(stderr, synopsis, about, config_serve_options, config_serve_option_count);
        return EXIT_USAGE;
    }
    if (ensure_parent_dir(cfg.db_path) != 0 || app_open(&app, &cfg) != 0)
        return 1;
    rc = seed_organisation(&app, pos[0], stdout);
    app_close(&app);
    return rc == 0 ? 0 : 1;
}

/* ---------------- import / export ---------------- */

struct calendar_opts {
    struct config cfg;
    char person[ID_STR_MAX];
};

static int cal_db(void *t, const char *a)
{
    return set_str(((struct calendar_opts *)t)->cfg.db_path, CONFIG_PATH_MAX, a);
}
static int cal_person(void *t, const char *a)
{
    return set_str(((struct calendar_opts *)t)->person, ID_STR_MAX, a);
}
static int cal_tz(void *t, const char *a)
{
    return set_str(((struct calendar_opts *)t)->cfg.tz, sizeof(((struct config *)0)->tz), a);
}
static int cal_public(void *t, const char *a)
{
    return set_str(((struct calendar_opts *)t)->cfg.public_url, 512, a);
}

static const struct cli_option calendar_options[] = {
    {"--db", "PATH", "var/convene.db", "SQLite database file", cal_db},
    {"--person", "ID", "(required)", "whose calendar", cal_person},
    {"--tz", "ZONE", "Asia/Shanghai", "zone for floating and UTC times on import", cal_tz},
    {"--public-url", "URL", "http://127.0.0.1:8080", "base of links in the output", cal_public},
};

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer. */
static char *read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;

    if (f == NULL)
        return NULL;
    buf = xmalloc(max + 1);
    *len = fread(buf, 1, max + 1, f);
    fclose(f);
    if (*len > max) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

static int cmd_import(int argc, char **argv)
{
    static const char synopsis[] = "convene import --db PATH --person ID FILE.ics";
    static const char about[] = "Imports every VEVENT of FILE.ics (UIDs kept) for a person, "
                                "all or nothing, as POST /api/v1/import does.";
    struct calendar_opts o;
    struct app app;
    struct api_response res;
    struct auth system = {ROLE_ADMIN, "system", "command line import", ""};
    char *pos[1], path[128], *body;
    size_t npos, len;

    memset(&o, 0, sizeof(o));
    config_defaults(&o.cfg);
    parse_or_exit(argc, argv, calendar_options, ARRAY_SIZE(calendar_options), &o, pos, 1, &npos,
                  synopsis, about);
    if (npos != 1 || o.person[0] == '\0') {
        cli_usage(stderr, synopsis, about, calendar_options, ARRAY_SIZE(calendar_options));
        return EXIT_USAGE;
    }
    if ((body = read_file(pos[0], API_MAX_BODY, &len)) == NULL) {
        fprintf(stderr, "convene: cannot read %s: %s\n", pos[0], strerror(errno));
        return 1;
    }
    if (app_open(&app, &o.cfg) != 0) {
        free(body);
        return 1;
    }
    snprintf(path, sizeof(path), "/api/v1/import?person=%s", o.person);
    api_invoke(&app, "POST", path, body, &system, &res);
    printf("%.*s\n", (int)res.body_len, res.body ? res.body : "");
    int ok = res.status == 201;
    api_response_free(&res);
    app_close(&app);
    free(body);
    return ok ? 0 : 1;
}

static int cmd_export(int argc, char **argv)
{
    static const char synopsis[] = "convene export --db PATH --person ID";
    static const char about[] = "Writes a person's calendar (as their feed shows it) to stdout.";
    struct calendar_opts o;
    struct app app;
    struct strbuf out;
    int64_t last_modified;
    size_t npos;
    int rc;

    memset(&o, 0, sizeof(o));
    config_defaults(&o.cfg);
    parse_or_exit(argc, argv, calendar_options, ARRAY_SIZE(calendar_options), &o, NULL, 0, &npos,
                  synopsis, about);
    if (o.person[0] == '\0') {
        cli_usage(stderr, synopsis, about, calendar_options, ARRAY_SIZE(calendar_options));
        return EXIT_USAGE;
    }
    if (app_open(&app, &o.cfg) != 0)
        return 1;
    if (store_record_exists(app.store, &record_person, o.person) != STORE_OK) {
        fprintf(stderr, "convene: no person with id '%s'\n", o.person);
        app_close(&app);
        return 1;
    }
    rc = feed_render(&app, "person", o.person, &out, &last_modified);
    if (rc == 0)
        fwrite(out.data, 1, out.len, stdout);
    strbuf_free(&out);
    app_close(&app);
    return rc == 0 ? 0 : 1;
}

/* ---------------- calendar ---------------- */

static int cal_calendars(void *t, const char *a)
{
    return set_str(((struct config *)t)->calendars_dir, CONFIG_PATH_MAX, a);
}
static int cal_load_db(void *t, const char *a)
{
    return set_str(((struct config *)t)->db_path, CONFIG_PATH_MAX, a);
}

static const struct cli_option calendar_load_options[] = {
    {"--db", "PATH", "var/convene.db", "SQLite database file (may be in use by a running service)",
     cal_load_db},
    {"--calendars", "DIR", "calendars", "working calendars shipped as files (DIR/holidays)",
     cal_calendars},
};

static int cmd_calendar(int argc, char **argv)
{
    static const char synopsis[] = "convene calendar load [--db PATH] FILE.json";
    static const char about[] =
        "Loads a year's public holidays and make-up working days (the State Council's notice)\n"
        "into the working calendar, as PUT /api/v1/workdays/{year} does; a running service\n"
        "uses them at once. FILE: {\"year\":2027,\"holidays\":[{\"name\":\"春节\",\"from\":\n"
        "\"2027-02-06\",\"to\":\"2027-02-12\"}],\"workdays\":[\"2027-02-20\"]}, or\n"
        "{\"years\":{\"2027\":[{\"name\",\"date\"|\"from\",\"to\",\"off\":true|false}]}}.";
    struct config cfg;
    struct app app;
    char *pos[2];
    size_t npos;
    json_t *notices;
    int rc;

    config_defaults(&cfg);
    parse_or_exit(argc, argv, calendar_load_options, ARRAY_SIZE(calendar_load_options), &cfg,
                  pos, 2, &npos, synopsis, about);
    if (npos != 2 || strcmp(pos[0], "load") != 0) {
        cli_usage(stderr, synopsis, about, calendar_load_options,
                  ARRAY_SIZE(calendar_load_options));
        return EXIT_USAGE;
    }
    /* The file first: a bad one never opens (or creates) the database. */
    if ((notices = calendar_file_read(pos[1], stderr)) == NULL)
        return 1;
    if (ensure_parent_dir(cfg.db_path) != 0 || app_open(&app, &cfg) != 0) {
        json_decref(notices);
        return 1;
    }
    rc = calendar_file_load(&app, notices, stdout, stderr);
    json_decref(notices);
    app_close(&app);
    return rc == 0 ? 0 : 1;
}

/* ---------------- main ---------------- */

static void usage(FILE *out)
{
    fprintf(out, "usage: convene COMMAND [options]\n\n"
                 "commands:\n"
                 "  serve     run the service (HTTP API, feeds, webhooks)\n"
                 "  token     create an API token: convene token create --role admin\n"
                 "  passwd    set a console password: convene passwd LOGIN (password on stdin)\n"
                 "  backup    copy the live database: convene backup OUT.db\n"
                 "  seed      load an organisation (people, rooms, vehicles) from a directory\n"
                 "  import    import an .ics file for a person: convene import --person ID F.ics\n"
                 "  export    print a person's calendar: convene export --person ID\n"
                 "  calendar  load a year's holidays: convene calendar load FILE.json\n\n"
                 "`convene COMMAND --help` lists a command's options and their defaults.\n");
}

int main(int argc, char **argv)
{
    /*
     * Everything this process creates (database, -wal, -shm, backups, the
     * key file) holds confidential meetings or what unlocks their feeds:
     * owner only, whatever umask the shell or unit left us. The store also
     * creates and tightens its files itself (store_file_private).
     */
    umask(077);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 2, argv + 2);
    if (strcmp(argv[1], "token") == 0)
        return cmd_token(argc - 2, argv + 2);
    if (strcmp(argv[1], "passwd") == 0)
        return cmd_passwd(argc - 2, argv + 2);
    if (strcmp(argv[1], "backup") == 0)
        return cmd_backup(argc - 2, argv + 2);
    if (strcmp(argv[1], "seed") == 0)
        return cmd_seed(argc - 2, argv + 2);
    if (strcmp(argv[1], "import") == 0)
        return cmd_import(argc - 2, argv + 2);
    if (strcmp(argv[1], "export") == 0)
        return cmd_export(argc - 2, argv + 2);
    if (strcmp(argv[1], "calendar") == 0)
        return cmd_calendar(argc - 2, argv + 2);
    fprintf(stderr, "convene: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
