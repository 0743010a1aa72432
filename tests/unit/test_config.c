/*
 * test_config.c - core/config.c: the defaults of CONTRACT section 1, each
 * strict value parser, and cli_parse over the options of `convene serve`.
 */
#include "check.h"

#include "convene/config.h"

#include <string.h>

static void test_defaults(void)
{
    struct config cfg;
    static const int retries[] = {5, 300, 1800, 7200, 18000, 36000, 36000};

    memset(&cfg, 0x5a, sizeof(cfg));
    config_defaults(&cfg);
    CHECK_EQ_STR(cfg.db_path, "var/convene.db");
    CHECK_EQ_STR(cfg.key_path, "");
    CHECK_EQ_STR(cfg.listen_host, "127.0.0.1");
    CHECK_EQ_INT(cfg.listen_port, 8080);
    CHECK_EQ_STR(cfg.public_url, "");
    CHECK_EQ_INT(cfg.retry_count, 7);
    for (size_t i = 0; i < 7; i++)
        CHECK_EQ_INT(cfg.retry_schedule[i], retries[i]);
    CHECK_EQ_INT(cfg.allow_private_webhooks, 0);
    CHECK_EQ_INT(cfg.durability, DURABILITY_FULL);
    CHECK_EQ_STR(cfg.tz, "Asia/Shanghai");
    CHECK_EQ_STR(cfg.calendars_dir, "calendars");
    CHECK_EQ_INT(cfg.driver_max_hours, 10);
    CHECK_EQ_INT(cfg.driver_min_rest_hours, 8);
    CHECK_EQ_INT(cfg.ack_deadline_minutes, 60);
    CHECK_EQ_INT(cfg.disable_after_s, 5 * 86400);
    CHECK_EQ_INT(cfg.cutoff_count, 3);
    int lunch = 0, dinner = 0, breakfast = 0;
    for (size_t i = 0; i < cfg.cutoff_count; i++) {
        const struct meal_cutoff *c = &cfg.cutoffs[i];
        if (strcmp(c->meal, "lunch") == 0)
            lunch = c->day_offset == 0 && c->minute == 600;
        else if (strcmp(c->meal, "dinner") == 0)
            dinner = c->day_offset == 0 && c->minute == 900;
        else if (strcmp(c->meal, "breakfast") == 0)
            breakfast = c->day_offset == -1 && c->minute == 1080;
    }
    CHECK(lunch);
    CHECK(dinner);
    CHECK(breakfast);
}

static void test_listen(void)
{
    char host[256];
    int port = -7;

    CHECK_EQ_INT(config_parse_listen("127.0.0.1:0", host, sizeof(host), &port), 0);
    CHECK_EQ_STR(host, "127.0.0.1");
    CHECK_EQ_INT(port, 0);
    CHECK_EQ_INT(config_parse_listen("[::1]:8080", host, sizeof(host), &port), 0);
    CHECK_EQ_STR(host, "::1");
    CHECK_EQ_INT(port, 8080);
    CHECK_EQ_INT(config_parse_listen("localhost:65535", host, sizeof(host), &port), 0);
    CHECK_EQ_STR(host, "localhost");
    CHECK_EQ_INT(port, 65535);

    /* Failures leave the outputs alone. */
    snprintf(host, sizeof(host), "unchanged");
    port = 42;
    CHECK_EQ_INT(config_parse_listen("nocolon", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(config_parse_listen(":80", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(config_parse_listen("h:99999", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(config_parse_listen("h:65536", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(config_parse_listen("h:-1", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(config_parse_listen("h:8o", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(config_parse_listen("h:", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(config_parse_listen("h: 80", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(config_parse_listen("h:+80", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(config_parse_listen("[]:80", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(config_parse_listen("", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(config_parse_listen("toolonghost:80", host, 5, &port), -1);
    CHECK_EQ_STR(host, "unchanged");
    CHECK_EQ_INT(port, 42);
}

static void test_retry_schedule(void)
{
    struct config cfg;
    char many[256];

    config_defaults(&cfg);
    CHECK_EQ_INT(config_parse_retry_schedule("1,2,3", &cfg), 0);
    CHECK_EQ_INT(cfg.retry_count, 3);
    CHECK_EQ_INT(cfg.retry_schedule[0], 1);
    CHECK_EQ_INT(cfg.retry_schedule[1], 2);
    CHECK_EQ_INT(cfg.retry_schedule[2], 3);
    CHECK_EQ_INT(config_parse_retry_schedule("0", &cfg), 0);
    CHECK_EQ_INT(cfg.retry_count, 1);
    CHECK_EQ_INT(cfg.retry_schedule[0], 0);

    CHECK_EQ_INT(config_parse_retry_schedule("1,2,3", &cfg), 0);
    CHECK_EQ_INT(config_parse_retry_schedule("", &cfg), -1);
    CHECK_EQ_INT(config_parse_retry_schedule("1,,2", &cfg), -1);
    CHECK_EQ_INT(config_parse_retry_schedule("1,", &cfg), -1);
    CHECK_EQ_INT(config_parse_retry_schedule(",1", &cfg), -1);
    CHECK_EQ_INT(config_parse_retry_schedule("a", &cfg), -1);
    CHECK_EQ_INT(config_parse_retry_schedule("1,a", &cfg), -1);
    CHECK_EQ_INT(config_parse_retry_schedule("-1", &cfg), -1);
    CHECK_EQ_INT(config_parse_retry_schedule("5,-300", &cfg), -1);
    CHECK_EQ_INT(config_parse_retry_schedule("1, 2", &cfg), -1);

    /* Exactly the maximum is fine; one more is not. */
    many[0] = '\0';
    for (int i = 0; i < CONFIG_MAX_RETRIES; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s%d", i ? "," : "", i + 1);
    CHECK_EQ_INT(config_parse_retry_schedule(many, &cfg), 0);
    CHECK_EQ_INT(cfg.retry_count, CONFIG_MAX_RETRIES);
    CHECK_EQ_INT(cfg.retry_schedule[CONFIG_MAX_RETRIES - 1], CONFIG_MAX_RETRIES);
    CHECK_EQ_INT(config_parse_retry_schedule("1,2,3", &cfg), 0);
    snprintf(many + strlen(many), sizeof(many) - strlen(many), ",21");
    CHECK_EQ_INT(config_parse_retry_schedule(many, &cfg), -1);

    /* Every failure above left the last good schedule in place. */
    CHECK_EQ_INT(cfg.retry_count, 3);
    CHECK_EQ_INT(cfg.retry_schedule[2], 3);
}

static const struct meal_cutoff *find_cutoff(const struct config *cfg, const char *meal)
{
    for (size_t i = 0; i < cfg->cutoff_count; i++)
        if (strcmp(cfg->cutoffs[i].meal, meal) == 0)
            return &cfg->cutoffs[i];
    return NULL;
}

static void test_cutoffs(void)
{
    struct config cfg;
    const struct meal_cutoff *c;

    config_defaults(&cfg);
    CHECK_EQ_INT(config_parse_cutoffs("lunch=10:00,dinner=15:00,breakfast=-1d18:00", &cfg), 0);
    CHECK_EQ_INT(cfg.cutoff_count, 3);
    c = find_cutoff(&cfg, "lunch");
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK_EQ_INT(c->day_offset, 0);
        CHECK_EQ_INT(c->minute, 600);
    }
    c = find_cutoff(&cfg, "dinner");
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK_EQ_INT(c->day_offset, 0);
        CHECK_EQ_INT(c->minute, 900);
    }
    c = find_cutoff(&cfg, "breakfast");
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK_EQ_INT(c->day_offset, -1);
        CHECK_EQ_INT(c->minute, 1080);
    }
    CHECK_EQ_INT(config_parse_cutoffs("supper=-2d23:59", &cfg), 0);
    CHECK_EQ_INT(cfg.cutoff_count, 1);
    CHECK_EQ_STR(cfg.cutoffs[0].meal, "supper");
    CHECK_EQ_INT(cfg.cutoffs[0].day_offset, -2);
    CHECK_EQ_INT(cfg.cutoffs[0].minute, 23 * 60 + 59);

    CHECK_EQ_INT(config_parse_cutoffs("lunch", &cfg), -1);
    CHECK_EQ_INT(config_parse_cutoffs("lunch=25:00", &cfg), -1);
    CHECK_EQ_INT(config_parse_cutoffs("lunch=24:00", &cfg), -1);
    CHECK_EQ_INT(config_parse_cutoffs("lunch=10:60", &cfg), -1);
    CHECK_EQ_INT(config_parse_cutoffs("=10:00", &cfg), -1);
    CHECK_EQ_INT(config_parse_cutoffs("lunch=10:00,", &cfg), -1);
    CHECK_EQ_INT(config_parse_cutoffs("", &cfg), -1);
    CHECK_EQ_INT(config_parse_cutoffs("lunch=9:00", &cfg), -1);
    CHECK_EQ_INT(config_parse_cutoffs("lunch=1d10:00", &cfg), -1);
    CHECK_EQ_INT(config_parse_cutoffs("lunch=-1d", &cfg), -1);
    CHECK_EQ_INT(config_parse_cutoffs("lunch=-d10:00", &cfg), -1);
    CHECK_EQ_INT(config_parse_cutoffs("lunch=-1x10:00", &cfg), -1);
    /* The failures left the last good list in place. */
    CHECK_EQ_INT(cfg.cutoff_count, 1);
    CHECK_EQ_STR(cfg.cutoffs[0].meal, "supper");
}

static void test_durations(void)
{
    int64_t s = -5;

    CHECK_EQ_INT(config_parse_duration("5d", &s), 0);
    CHECK_EQ_INT(s, 5 * 86400);
    CHECK_EQ_INT(config_parse_duration("12h", &s), 0);
    CHECK_EQ_INT(s, 12 * 3600);
    CHECK_EQ_INT(config_parse_duration("30m", &s), 0);
    CHECK_EQ_INT(s, 30 * 60);
    CHECK_EQ_INT(config_parse_duration("45s", &s), 0);
    CHECK_EQ_INT(s, 45);

    s = 77;
    CHECK_EQ_INT(config_parse_duration("5", &s), -1);
    CHECK_EQ_INT(config_parse_duration("d", &s), -1);
    CHECK_EQ_INT(config_parse_duration("", &s), -1);
    CHECK_EQ_INT(config_parse_duration("-1d", &s), -1);
    CHECK_EQ_INT(config_parse_duration("0d", &s), -1);
    CHECK_EQ_INT(config_parse_duration("5w", &s), -1);
    CHECK_EQ_INT(config_parse_duration("5D", &s), -1);
    CHECK_EQ_INT(config_parse_duration("1.5h", &s), -1);
    CHECK_EQ_INT(config_parse_duration(" 5d", &s), -1);
    CHECK_EQ_INT(config_parse_duration("3651d", &s), -1);
    CHECK_EQ_INT(config_parse_duration("99999999999d", &s), -1);
    CHECK_EQ_INT(config_parse_duration("99999999999999999999999s", &s), -1);
    CHECK_EQ_INT(s, 77);
}

static void test_durability(void)
{
    enum durability d = DURABILITY_FULL;

    CHECK_EQ_INT(config_parse_durability("normal", &d), 0);
    CHECK_EQ_INT(d, DURABILITY_NORMAL);
    CHECK_EQ_INT(config_parse_durability("full", &d), 0);
    CHECK_EQ_INT(d, DURABILITY_FULL);
    CHECK_EQ_INT(config_parse_durability("FULL", &d), -1);
    CHECK_EQ_INT(config_parse_durability("off", &d), -1);
    CHECK_EQ_INT(config_parse_durability("", &d), -1);
    CHECK_EQ_INT(d, DURABILITY_FULL);
}

/* Runs cli_parse over the serve options on a fresh default config. */
static int parse(int argc, char **argv, struct config *cfg, char **pos, size_t maxpos,
                 size_t *npos, char *err, size_t errlen)
{
    config_defaults(cfg);
    err[0] = '\0';
    return cli_parse(argc, argv, config_serve_options, config_serve_option_count, cfg, pos,
                     maxpos, npos, err, errlen);
}

static void test_cli(void)
{
    struct config cfg;
    char err[256];
    char *pos[4];
    size_t npos = 99;

    {
        char *argv[] = {"--listen", "x:1"};
        CHECK_EQ_INT(parse(2, argv, &cfg, pos, 4, &npos, err, sizeof(err)), 0);
        CHECK_EQ_STR(cfg.listen_host, "x");
        CHECK_EQ_INT(cfg.listen_port, 1);
        CHECK_EQ_INT(npos, 0);
    }
    {
        char *argv[] = {"--listen=x:1"};
        CHECK_EQ_INT(parse(1, argv, &cfg, pos, 4, &npos, err, sizeof(err)), 0);
        CHECK_EQ_STR(cfg.listen_host, "x");
        CHECK_EQ_INT(cfg.listen_port, 1);
    }
    {
        char *argv[] = {"--allow-private-webhooks", "--durability", "normal", "--db=/tmp/x.db",
                        "--retry-schedule", "1,2", "--disable-after", "2h", "--tz",
                        "Europe/London", "--public-url", "https://cal.example/"};
        CHECK_EQ_INT(parse(12, argv, &cfg, pos, 4, &npos, err, sizeof(err)), 0);
        CHECK_EQ_INT(cfg.allow_private_webhooks, 1);
        CHECK_EQ_INT(cfg.durability, DURABILITY_NORMAL);
        CHECK_EQ_STR(cfg.db_path, "/tmp/x.db");
        CHECK_EQ_INT(cfg.retry_count, 2);
        CHECK_EQ_INT(cfg.disable_after_s, 7200);
        CHECK_EQ_STR(cfg.tz, "Europe/London");
        CHECK_EQ_STR(cfg.public_url, "https://cal.example");
    }
    {
        char *argv[] = {"--allow-private-webhooks=yes"};
        CHECK_EQ_INT(parse(1, argv, &cfg, pos, 4, &npos, err, sizeof(err)), -1);
        CHECK(strstr(err, "--allow-private-webhooks") != NULL);
    }
    {
        char *argv[] = {"--listen", "x:1", "--bogus", "1"};
        CHECK_EQ_INT(parse(4, argv, &cfg, pos, 4, &npos, err, sizeof(err)), -1);
        CHECK(strstr(err, "--bogus") != NULL);
    }
    {
        char *argv[] = {"--bogus=3"};
        CHECK_EQ_INT(parse(1, argv, &cfg, pos, 4, &npos, err, sizeof(err)), -1);
        CHECK(strstr(err, "unknown option '--bogus'") != NULL);
    }
    {
        char *argv[] = {"--listen"};
        CHECK_EQ_INT(parse(1, argv, &cfg, pos, 4, &npos, err, sizeof(err)), -1);
        CHECK(strstr(err, "--listen") != NULL);
        CHECK(strstr(err, "value") != NULL);
    }
    {
        char *argv[] = {"--listen", "nocolon"};
        CHECK_EQ_INT(parse(2, argv, &cfg, pos, 4, &npos, err, sizeof(err)), -1);
        CHECK(strstr(err, "nocolon") != NULL);
    }
    {
        char *argv[] = {"--durability=sometimes"};
        CHECK_EQ_INT(parse(1, argv, &cfg, pos, 4, &npos, err, sizeof(err)), -1);
        CHECK(err[0] != '\0');
    }
    {
        char *argv[] = {"--listen", "x:1", "--help"};
        CHECK_EQ_INT(parse(3, argv, &cfg, pos, 4, &npos, err, sizeof(err)), 1);
    }
    {
        char *argv[] = {"first", "--db", "a.db", "second", "--allow-private-webhooks", "third"};
        CHECK_EQ_INT(parse(6, argv, &cfg, pos, 4, &npos, err, sizeof(err)), 0);
        CHECK_EQ_INT(npos, 3);
        if (npos == 3) {
            CHECK_EQ_STR(pos[0], "first");
            CHECK_EQ_STR(pos[1], "second");
            CHECK_EQ_STR(pos[2], "third");
        }
        CHECK_EQ_STR(cfg.db_path, "a.db");
    }
    {
        char *argv[] = {"one", "two", "three"};
        CHECK_EQ_INT(parse(3, argv, &cfg, pos, 2, &npos, err, sizeof(err)), -1);
        CHECK(strstr(err, "three") != NULL);
    }
    {
        /* The value of an option is taken even if it looks like a positional. */
        char *argv[] = {"--db", "x.db"};
        CHECK_EQ_INT(parse(2, argv, &cfg, pos, 0, &npos, err, sizeof(err)), 0);
        CHECK_EQ_INT(npos, 0);
    }
    {
        char *argv[] = {"--db="};
        CHECK_EQ_INT(parse(1, argv, &cfg, pos, 4, &npos, err, sizeof(err)), -1);
    }
}

static void test_usage_lists_every_option(void)
{
    char buf[8192];
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    int all = 1;

    CHECK(f != NULL);
    if (f == NULL)
        return;
    cli_usage(f, "convene serve [options]", "Serves the API.", config_serve_options,
              config_serve_option_count);
    fclose(f);
    buf[sizeof(buf) - 1] = '\0';
    for (size_t i = 0; i < config_serve_option_count; i++)
        if (strstr(buf, config_serve_options[i].name) == NULL)
            all = 0;
    CHECK(all);
    CHECK(strstr(buf, "--help") != NULL);
    CHECK(strstr(buf, "(default: 127.0.0.1:8080)") != NULL);
}

int main(void)
{
    test_defaults();
    test_listen();
    test_retry_schedule();
    test_cutoffs();
    test_durations();
    test_durability();
    test_cli();
    test_usage_lists_every_option();
    return check_finish();
}
