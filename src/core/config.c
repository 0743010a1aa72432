/*
 * config.c - defaults, value parsers and the option table of `serve`.
 * Every parser is strict: a typo in a deployment's unit file must stop the
 * service at start, not silently fall back to a default.
 */
#include "convene/config.h"
#include "convene/util.h"
#include "convene/workcal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RETRY_SCHEDULE "5,300,1800,7200,18000,36000,36000"
#define DEFAULT_CUTOFFS "breakfast=-1d18:00,lunch=10:00,dinner=15:00"
/* The robots' documented limit: 20 messages a minute (DingTalk then mutes a robot for 10 minutes). */
#define DEFAULT_ROBOT_RATE "20/60s"

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->db_path, sizeof(cfg->db_path), "var/convene.db");
    snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
    cfg->listen_port = 8080;
    config_parse_retry_schedule(DEFAULT_RETRY_SCHEDULE, cfg);
    cfg->durability = DURABILITY_FULL;
    snprintf(cfg->tz, sizeof(cfg->tz), "Asia/Shanghai");
    snprintf(cfg->calendars_dir, sizeof(cfg->calendars_dir), "calendars");
    cfg->driver_max_hours = 10;
    cfg->driver_min_rest_hours = 8;
    cfg->ack_deadline_minutes = 60;
    config_parse_cutoffs(DEFAULT_CUTOFFS, cfg);
    cfg->disable_after_s = 5 * 86400;
    snprintf(cfg->working_hours, sizeof(cfg->working_hours), "08:30-12:00,14:00-17:30");
    cfg->session_idle_s = 8 * 3600;
    cfg->session_max_s = 7 * 86400;
    cfg->max_streams = 256;
    config_parse_robot_rate(DEFAULT_ROBOT_RATE, cfg);
}

int config_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    int64_t p;
    size_t n;

    if (colon == NULL || colon == s)
        return -1;
    n = (size_t)(colon - s);
    /* Accept "[::1]:8080" for IPv6. */
    if (s[0] == '[' && colon[-1] == ']') {
        s++;
        n -= 2;
    }
    if (n == 0 || n >= hostlen)
        return -1;
    if (parse_int64(colon + 1, 0, 65535, &p) != 0)
        return -1;
    memcpy(host, s, n);
    host[n] = '\0';
    *port = (int)p;
    return 0;
}

int config_parse_retry_schedule(const char *s, struct config *cfg)
{
    int values[CONFIG_MAX_RETRIES];
    size_t count = 0;
    const char *p = s;

    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int64_t v;

        if (count == CONFIG_MAX_RETRIES || parse_int64_n(p, len, 0, 7 * 86400, &v) != 0)
            return -1;
        values[count++] = (int)v;
        if (comma == NULL)
            break;
        p = comma + 1;
        if (*p == '\0')
            return -1; /* trailing comma */
    }
    if (count == 0)
        return -1;
    memcpy(cfg->retry_schedule, values, sizeof(values[0]) * count);
    cfg->retry_count = count;
    return 0;
}

/* "HH:MM" -> minutes after midnight. */
static int parse_clock(const char *s, size_t len, int *minute)
{
    int64_t h, m;

    if (len != 5 || s[2] != ':')
        return -1;
    if (parse_int64_n(s, 2, 0, 23, &h) != 0 || parse_int64_n(s + 3, 2, 0, 59, &m) != 0)
        return -1;
    *minute = (int)(h * 60 + m);
    return 0;
}

/* One "meal=[-Nd]HH:MM" item. */
static int parse_cutoff(const char *s, size_t len, struct meal_cutoff *out)
{
    const char *eq = memchr(s, '=', len);
    const char *t;
    size_t namelen, tlen;
    int64_t days = 0;

    if (eq == NULL || eq == s)
        return -1;
    namelen = (size_t)(eq - s);
    if (namelen >= sizeof(out->meal))
        return -1;
    t = eq + 1;
    tlen = len - namelen - 1;
    const char *d = memchr(t, 'd', tlen);
    if (d != NULL) {
        if (parse_int64_n(t, (size_t)(d - t), -7, 0, &days) != 0)
            return -1;
        tlen -= (size_t)(d + 1 - t);
        t = d + 1;
    }
    if (parse_clock(t, tlen, &out->minute) != 0)
        return -1;
    memcpy(out->meal, s, namelen);
    out->meal[namelen] = '\0';
    out->day_offset = (int)days;
    return 0;
}

int config_parse_cutoffs(const char *s, struct config *cfg)
{
    struct meal_cutoff cutoffs[CONFIG_MAX_CUTOFFS];
    size_t count = 0;
    const char *p = s;

    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);

        if (count == CONFIG_MAX_CUTOFFS || parse_cutoff(p, len, &cutoffs[count]) != 0)
            return -1;
        count++;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    memcpy(cfg->cutoffs, cutoffs, sizeof(cutoffs[0]) * count);
    cfg->cutoff_count = count;
    return 0;
}

int config_parse_duration(const char *s, int64_t *seconds)
{
    size_t len = strlen(s);
    int64_t v, unit;

    if (len < 2)
        return -1;
    switch (s[len - 1]) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return -1;
    }
    if (parse_int64_n(s, len - 1, 1, 3650LL * 86400, &v) != 0 || v > 3650LL * 86400 / unit)
        return -1;
    *seconds = v * unit;
    return 0;
}

int config_parse_robot_rate(const char *s, struct config *cfg)
{
    const char *slash = strchr(s, '/');
    int64_t count, window;

    if (slash == NULL || parse_int64_n(s, (size_t)(slash - s), 1, 100, &count) != 0 ||
        config_parse_duration(slash + 1, &window) != 0 || window > 86400)
        return -1;
    cfg->robot_rate_count = (int)count;
    cfg->robot_rate_window_s = window;
    return 0;
}

int config_parse_durability(const char *s, enum durability *out)
{
    if (strcmp(s, "full") == 0)
        *out = DURABILITY_FULL;
    else if (strcmp(s, "normal") == 0)
        *out = DURABILITY_NORMAL;
    else
        return -1;
    return 0;
}

static int copy_bounded(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n == 0 || n >= cap)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

static int parse_int_range(const char *s, int min, int max, int *out)
{
    int64_t v;
    if (parse_int64(s, min, max, &v) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

static int apply_db(void *t, const char *a)
{
    return copy_bounded(((struct config *)t)->db_path, CONFIG_PATH_MAX, a);
}
static int apply_key(void *t, const char *a)
{
    return copy_bounded(((struct config *)t)->key_path, CONFIG_PATH_MAX, a);
}
static int apply_listen(void *t, const char *a)
{
    struct config *c = t;
    return config_parse_listen(a, c->listen_host, sizeof(c->listen_host), &c->listen_port);
}
static int apply_public_url(void *t, const char *a)
{
    struct config *c = t;
    if (strncmp(a, "http://", 7) != 0 && strncmp(a, "https://", 8) != 0)
        return -1;
    if (copy_bounded(c->public_url, sizeof(c->public_url), a) != 0)
        return -1;
    /* Links are built as public_url + "/feeds/...": drop a trailing slash. */
    size_t n = strlen(c->public_url);
    if (c->public_url[n - 1] == '/')
        c->public_url[n - 1] = '\0';
    return 0;
}
static int apply_retry(void *t, const char *a)
{
    return config_parse_retry_schedule(a, t);
}
static int apply_private(void *t, const char *a)
{
    (void)a;
    ((struct config *)t)->allow_private_webhooks = 1;
    return 0;
}
static int apply_durability(void *t, const char *a)
{
    return config_parse_durability(a, &((struct config *)t)->durability);
}
static int apply_tz(void *t, const char *a)
{
    return copy_bounded(((struct config *)t)->tz, sizeof(((struct config *)t)->tz), a);
}
static int apply_calendars(void *t, const char *a)
{
    return copy_bounded(((struct config *)t)->calendars_dir, CONFIG_PATH_MAX, a);
}
static int apply_web(void *t, const char *a)
{
    return copy_bounded(((struct config *)t)->web_dir, CONFIG_PATH_MAX, a);
}
static int apply_max_hours(void *t, const char *a)
{
    return parse_int_range(a, 1, 24, &((struct config *)t)->driver_max_hours);
}
static int apply_min_rest(void *t, const char *a)
{
    return parse_int_range(a, 0, 24, &((struct config *)t)->driver_min_rest_hours);
}
static int apply_ack(void *t, const char *a)
{
    return parse_int_range(a, 0, 7 * 24 * 60, &((struct config *)t)->ack_deadline_minutes);
}
static int apply_cutoff(void *t, const char *a)
{
    return config_parse_cutoffs(a, t);
}
static int apply_disable_after(void *t, const char *a)
{
    return config_parse_duration(a, &((struct config *)t)->disable_after_s);
}

static int apply_session_idle(void *t, const char *a)
{
    return config_parse_duration(a, &((struct config *)t)->session_idle_s);
}

static int apply_session_max(void *t, const char *a)
{
    return config_parse_duration(a, &((struct config *)t)->session_max_s);
}

static int apply_max_streams(void *t, const char *a)
{
    int64_t v;

    if (parse_int64_n(a, strlen(a), 1, 100000, &v) != 0)
        return -1;
    ((struct config *)t)->max_streams = (int)v;
    return 0;
}

static int apply_robot_rate(void *t, const char *a)
{
    return config_parse_robot_rate(a, t);
}

static int apply_working_hours(void *t, const char *a)
{
    struct workcal probe;

    workcal_init(&probe);
    if (workcal_parse_hours(&probe, a) != 0)
        return -1;
    return copy_bounded(((struct config *)t)->working_hours,
                        sizeof(((struct config *)t)->working_hours), a);
}

static int apply_max_connections(void *t, const char *a)
{
    return parse_int_range(a, 1, 10000000, &((struct config *)t)->max_connections);
}
static int apply_max_per_client(void *t, const char *a)
{
    return parse_int_range(a, 1, 10000000, &((struct config *)t)->max_connections_per_client);
}

const struct cli_option config_serve_options[] = {
    {"--db", "PATH", "var/convene.db", "SQLite database file (created if missing)", apply_db},
    {"--listen", "HOST:PORT", "127.0.0.1:8080", "address to serve on; port 0 picks a free one",
     apply_listen},
    {"--public-url", "URL", "http://HOST:PORT",
     "base of feed, webhook and one-tap links (without it: no one-tap links)", apply_public_url},
    {"--key-file", "PATH", "<db>.key", "secret key from which feed URLs are derived",
     apply_key},
    {"--retry-schedule", "S,S,...", DEFAULT_RETRY_SCHEDULE, "webhook retry delays in seconds",
     apply_retry},
    {"--allow-private-webhooks", NULL, "off",
     "permit webhook URLs on loopback/private addresses (disables the SSRF guard)",
     apply_private},
    {"--durability", "full|normal", "full", "SQLite synchronous level", apply_durability},
    {"--tz", "ZONE", "Asia/Shanghai", "the organisation's default IANA time zone", apply_tz},
    {"--calendars", "DIR", "calendars", "working calendars (holidays/ inside)", apply_calendars},
    {"--driver-max-hours", "N", "10", "most hours of trips per driver per day", apply_max_hours},
    {"--driver-min-rest", "N", "8", "hours of rest a driver keeps between days", apply_min_rest},
    {"--ack-deadline", "MIN", "60", "minutes before departure a trip must be acknowledged",
     apply_ack},
    {"--cutoff", "MEAL=[-Nd]HH:MM,...", DEFAULT_CUTOFFS, "catering order cutoffs",
     apply_cutoff},
    {"--working-hours", "HH:MM-HH:MM,...", "08:30-12:00,14:00-17:30",
     "working hours of a working day, in --tz", apply_working_hours},
    {"--disable-after", "DURATION", "5d", "disable a webhook failing for this long (s/m/h/d)",
     apply_disable_after},
    {"--max-connections", "N", "auto",
     "HTTP connections open at once (auto: the open-file limit less 256)", apply_max_connections},
    {"--max-connections-per-client", "N", "auto",
     "of them from one address or IPv6 /64 (auto: an eighth, at most 4096)", apply_max_per_client},
    {"--web", "DIR", "compiled in",
     "serve the console from DIR (the repository's web/) instead, re-read on every request",
     apply_web},
    {"--session-idle", "DURATION", "8h", "a console sign-in ends after this long unused (s/m/h/d)",
     apply_session_idle},
    {"--session-max", "DURATION", "7d", "a console sign-in ends this long after it began",
     apply_session_max},
    {"--max-streams", "N", "256", "open change streams (GET /api/v1/changes) at most",
     apply_max_streams},
    {"--robot-rate", "N/DURATION", DEFAULT_ROBOT_RATE,
     "most requests to one WeCom/DingTalk robot URL in any window (the rest wait)",
     apply_robot_rate},
};
const size_t config_serve_option_count = ARRAY_SIZE(config_serve_options);

static const struct cli_option *find_option(const struct cli_option *opts, size_t nopts,
                                            const char *name, size_t namelen)
{
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == namelen && strncmp(opts[i].name, name, namelen) == 0)
            return &opts[i];
    return NULL;
}

int cli_parse(int argc, char **argv, const struct cli_option *opts, size_t nopts, void *target,
              char **positional, size_t max_positional, size_t *npositional, char *err,
              size_t errlen)
{
    *npositional = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return 1;
        if (strncmp(arg, "--", 2) != 0) {
            if (*npositional == max_positional) {
                snprintf(err, errlen, "unexpected argument '%s'", arg);
                return -1;
            }
            positional[(*npositional)++] = argv[i];
            continue;
        }
        /* Both "--opt value" and "--opt=value". */
        const char *eq = strchr(arg, '=');
        size_t namelen = eq ? (size_t)(eq - arg) : strlen(arg);
        const struct cli_option *o = find_option(opts, nopts, arg, namelen);
        const char *value = NULL;
        if (o == NULL) {
            snprintf(err, errlen, "unknown option '%.*s'", (int)namelen, arg);
            return -1;
        }
        if (o->metavar != NULL) {
            if (eq != NULL)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else {
                snprintf(err, errlen, "option %s needs a value (%s)", o->name, o->metavar);
                return -1;
            }
        } else if (eq != NULL) {
            snprintf(err, errlen, "option %s takes no value", o->name);
            return -1;
        }
        if (o->apply(target, value) != 0) {
            snprintf(err, errlen, "invalid value for %s: '%s' (expected %s)", o->name,
                     value ? value : "", o->metavar ? o->metavar : "no value");
            return -1;
        }
    }
    return 0;
}

void cli_usage(FILE *out, const char *synopsis, const char *about, const struct cli_option *opts,
               size_t nopts)
{
    fprintf(out, "usage: %s\n\n%s\n\noptions:\n", synopsis, about);
    for (size_t i = 0; i < nopts; i++) {
        char left[64];
        snprintf(left, sizeof(left), "%s%s%s", opts[i].name, opts[i].metavar ? " " : "",
                 opts[i].metavar ? opts[i].metavar : "");
        fprintf(out, "  %-34s %s (default: %s)\n", left, opts[i].help, opts[i].default_text);
    }
    fprintf(out, "  %-34s %s\n", "--help", "show this help");
}
