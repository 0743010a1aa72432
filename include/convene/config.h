/*
 * config.h - the service's configuration and the command-line option
 * parser shared by every subcommand. Pure: no I/O besides help text.
 */
#ifndef CONVENE_CONFIG_H
#define CONVENE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_MAX_RETRIES 20
#define CONFIG_MAX_CUTOFFS 8
#define CONFIG_PATH_MAX 1024

enum durability { DURABILITY_FULL, DURABILITY_NORMAL };

/* A meal's order cutoff: `day_offset` days relative to the meal's day, at `minute` of that day. */
struct meal_cutoff {
    char meal[24];
    int day_offset; /* 0 = same day, -1 = the day before */
    int minute;     /* minutes after local midnight */
};

struct config {
    char db_path[CONFIG_PATH_MAX];
    char key_path[CONFIG_PATH_MAX]; /* feed-token key; "" = <db_path>.key */
    char listen_host[256];
    int listen_port;               /* 0 = pick a free port */
    char public_url[512];          /* "" = http://HOST:PORT once bound */
    int retry_schedule[CONFIG_MAX_RETRIES]; /* seconds between webhook attempts */
    size_t retry_count;
    int allow_private_webhooks;
    enum durability durability;
    char tz[64];
    char calendars_dir[CONFIG_PATH_MAX];
    int driver_max_hours;
    int driver_min_rest_hours;
    int ack_deadline_minutes;
    struct meal_cutoff cutoffs[CONFIG_MAX_CUTOFFS];
    size_t cutoff_count;
    int64_t disable_after_s;       /* disable a webhook failing this long */
    char working_hours[64];        /* "08:30-12:00,14:00-17:30" */
    int max_connections;           /* HTTP connections open at once; 0 = from the open-file limit */
    int max_connections_per_client; /* of them from one address (IPv6: one /64); 0 = automatic */
    char web_dir[CONFIG_PATH_MAX]; /* console files from here; "" = compiled in */
    int64_t session_idle_s;        /* a console session ends after this long unused */
    int64_t session_max_s;         /* ... and this long after sign-in, whatever its use */
    int max_streams;               /* open change streams (GET /api/v1/changes) at most */
    int robot_rate_count;          /* at most this many requests to one robot URL... */
    int64_t robot_rate_window_s;   /* ...in any window of this many seconds */
};

/* Fills every field with its documented default. */
void config_defaults(struct config *cfg);

/* Field parsers; each returns 0 or -1 and leaves *cfg unchanged on error. */
int config_parse_listen(const char *s, char *host, size_t hostlen, int *port);
int config_parse_retry_schedule(const char *s, struct config *cfg);
int config_parse_cutoffs(const char *s, struct config *cfg);
int config_parse_duration(const char *s, int64_t *seconds);
int config_parse_durability(const char *s, enum durability *out);
/* "N/DURATION" (e.g. "20/60s", "20/1m"): N in 1..100 requests per robot URL in any window. */
int config_parse_robot_rate(const char *s, struct config *cfg);

/*
 * Command-line options. Each option names how to apply its argument; the
 * table doubles as the --help text, so help and parser cannot disagree.
 */
struct cli_option {
    const char *name;     /* "--listen" */
    const char *metavar;  /* "HOST:PORT", or NULL for a flag */
    const char *default_text;
    const char *help;
    /* Applies the argument (NULL for flags) to `target`; 0 or -1. */
    int (*apply)(void *target, const char *arg);
};

/*
 * Parses argv against opts. Positional arguments are collected into
 * positional[] (at most max_positional). On error writes a message into
 * err and returns -1; "--help" returns 1.
 */
int cli_parse(int argc, char **argv, const struct cli_option *opts, size_t nopts, void *target,
              char **positional, size_t max_positional, size_t *npositional, char *err,
              size_t errlen);

/* Prints a usage block listing every option with its default. */
void cli_usage(FILE *out, const char *synopsis, const char *about, const struct cli_option *opts,
               size_t nopts);

/* The options of `convene serve`, applied to a struct config. */
extern const struct cli_option config_serve_options[];
extern const size_t config_serve_option_count;

#endif
