/*
 * test_channels.c - core/channels.c: format names, the DingTalk 加签
 * signature against vectors computed independently (Python's hmac, base64
 * and urllib.parse.quote_plus), the verdict on answers, the sliding-window
 * pace, and --robot-rate parsing (core/config.c).
 */
#include "check.h"

#include "convene/channels.h"
#include "convene/config.h"

#include <string.h>

#define SECRET "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"

static void test_formats(void)
{
    enum webhook_format f = WEBHOOK_STANDARD;

    CHECK_EQ_INT(webhook_format_parse("wecom", &f), 0);
    CHECK_EQ_INT(f, WEBHOOK_WECOM);
    CHECK_EQ_INT(webhook_format_parse("dingtalk", &f), 0);
    CHECK_EQ_INT(f, WEBHOOK_DINGTALK);
    CHECK_EQ_INT(webhook_format_parse("standard", &f), 0);
    CHECK_EQ_INT(f, WEBHOOK_STANDARD);
    CHECK_EQ_INT(webhook_format_parse("WeCom", &f), -1);
    CHECK_EQ_INT(webhook_format_parse("", &f), -1);
    CHECK_EQ_INT(webhook_format_parse("slack", &f), -1);
    CHECK_EQ_STR(webhook_format_name(WEBHOOK_DINGTALK), "dingtalk");
    CHECK(!webhook_format_is_robot(WEBHOOK_STANDARD));
    CHECK(webhook_format_is_robot(WEBHOOK_WECOM));
    CHECK(webhook_format_is_robot(WEBHOOK_DINGTALK));
}

static void test_secret_valid(void)
{
    CHECK(channel_secret_valid(SECRET));
    CHECK(channel_secret_valid("SEC12345"));
    CHECK(!channel_secret_valid("SEC1234"));         /* too short */
    CHECK(!channel_secret_valid("sec0123456789"));   /* not SEC... */
    CHECK(!channel_secret_valid("whsec_abcdefgh"));
    CHECK(!channel_secret_valid("SEC0123 456789"));  /* a space */
    CHECK(!channel_secret_valid("SEC0123\n456789")); /* a control character */
    CHECK(!channel_secret_valid("SEC01234567890123456789012345678901234567890123456789"
                                "01234567890123456789012345678")); /* 80 bytes */
}

static void test_dingtalk_sign(void)
{
    char out[CHANNEL_SIGN_QUERY_MAX];

    CHECK_EQ_INT(channel_dingtalk_sign(SECRET, 1765000000123LL, out, sizeof(out)), 0);
    CHECK_EQ_STR(out, "timestamp=1765000000123&sign=fJaZ0gdrbj5dU9082UsOhT1qYk0sR2B9ZZbVsbM4GtM%3D");
    /* A signature whose base64 has '+' and '/': both must be percent-encoded. */
    CHECK_EQ_INT(channel_dingtalk_sign(SECRET, 1765000000000LL, out, sizeof(out)), 0);
    CHECK_EQ_STR(out, "timestamp=1765000000000&sign=4GvAtL%2FIQonLZ9%2B8Vnq5jJighEkaLJXkGt1TMUF1w%2Bo%3D");
    /* Too small a buffer is an error, not a truncated URL. */
    CHECK_EQ_INT(channel_dingtalk_sign(SECRET, 1765000000000LL, out, 40), -1);
}

static void test_judge(void)
{
    static const struct {
        enum webhook_format f;
        int answered;
        long status;
        int has_errcode;
        long errcode;
        enum channel_refusal want;
    } cases[] = {
        {WEBHOOK_STANDARD, 1, 200, 0, 0, CHANNEL_OK},
        {WEBHOOK_STANDARD, 1, 204, 0, 0, CHANNEL_OK},
        {WEBHOOK_STANDARD, 1, 429, 0, 0, CHANNEL_RATE_LIMITED},
        {WEBHOOK_STANDARD, 1, 500, 0, 0, CHANNEL_HTTP_STATUS},
        {WEBHOOK_STANDARD, 0, 0, 0, 0, CHANNEL_NO_ANSWER},
        {WEBHOOK_WECOM, 1, 200, 1, 0, CHANNEL_OK},
        {WEBHOOK_WECOM, 1, 200, 1, 45009, CHANNEL_RATE_LIMITED},
        {WEBHOOK_WECOM, 1, 200, 1, 93000, CHANNEL_ERRCODE},
        {WEBHOOK_WECOM, 1, 200, 0, 0, CHANNEL_HTTP_STATUS}, /* 200 without errcode: not posted */
        {WEBHOOK_WECOM, 1, 204, 1, 0, CHANNEL_HTTP_STATUS}, /* only 200 counts */
        {WEBHOOK_WECOM, 1, 500, 0, 0, CHANNEL_HTTP_STATUS},
        {WEBHOOK_DINGTALK, 1, 200, 1, 0, CHANNEL_OK},
        {WEBHOOK_DINGTALK, 1, 200, 1, 130101, CHANNEL_RATE_LIMITED},
        {WEBHOOK_DINGTALK, 1, 200, 1, 310000, CHANNEL_BAD_SIGN},
        {WEBHOOK_DINGTALK, 1, 429, 0, 0, CHANNEL_RATE_LIMITED},
        {WEBHOOK_DINGTALK, 0, 0, 0, 0, CHANNEL_NO_ANSWER},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum channel_refusal got = channel_judge(cases[i].f, cases[i].answered, cases[i].status,
                                                 cases[i].has_errcode, cases[i].errcode);
        if (got != cases[i].want)
            fprintf(stderr, "    case %zu\n", i);
        CHECK_EQ_INT(got, cases[i].want);
    }
    CHECK_EQ_STR(channel_refusal_name(CHANNEL_BAD_SIGN), "bad_sign");
}

static void test_pace(void)
{
    struct channel_pace p;
    int64_t t = 1000000;

    memset(&p, 0, sizeof(p));
    /* 3 per 1000 ms: three go at once, the fourth waits for the first to leave the window. */
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(channel_pace_next(&p, 3, 1000, t + i * 10), t + i * 10);
        channel_pace_note(&p, 3, t + i * 10);
    }
    CHECK_EQ_INT(channel_pace_next(&p, 3, 1000, t + 30), t + 1000);
    CHECK_EQ_INT(channel_pace_next(&p, 3, 1000, t + 999), t + 1000);
    CHECK_EQ_INT(channel_pace_next(&p, 3, 1000, t + 1000), t + 1000);
    channel_pace_note(&p, 3, t + 1000);
    /* Now the oldest of the last three is t + 10. */
    CHECK_EQ_INT(channel_pace_next(&p, 3, 1000, t + 1001), t + 1010);
    channel_pace_note(&p, 3, t + 1010);
    channel_pace_note(&p, 3, t + 1020);
    CHECK_EQ_INT(channel_pace_next(&p, 3, 1000, t + 1500), t + 2000);
    /* Long quiet: any time is fine. */
    CHECK_EQ_INT(channel_pace_next(&p, 3, 1000, t + 9000), t + 9000);

    /*
     * The rule itself over a simulated burst: 45 requests started as early
     * as the pace allows never put more than 20 in any 60 s window.
     */
    int64_t starts[45];
    memset(&p, 0, sizeof(p));
    int64_t now = 0;
    for (int i = 0; i < 45; i++) {
        now = channel_pace_next(&p, 20, 60000, now);
        starts[i] = now;
        channel_pace_note(&p, 20, now);
        now += 7; /* the robot's answer takes a few ms */
    }
    int worst = 0;
    for (int i = 0; i < 45; i++) {
        int in = 0;
        for (int j = i; j < 45 && starts[j] < starts[i] + 60000; j++)
            in++;
        worst = in > worst ? in : worst;
    }
    CHECK_EQ_INT(worst, 20);
    CHECK(starts[19] < 1000);                       /* the first 20 at once */
    CHECK(starts[20] >= 60000 && starts[20] < 61000); /* the 21st when the first leaves */
    CHECK(starts[40] >= 120000);
    /* Limits outside 1..CHANNEL_PACE_MAX do not pace (and do not write past the ring). */
    CHECK_EQ_INT(channel_pace_next(&p, 0, 1000, 5), 5);
    channel_pace_note(&p, CHANNEL_PACE_MAX + 1, 5);
}

static void test_robot_rate(void)
{
    struct config cfg;

    config_defaults(&cfg);
    CHECK_EQ_INT(cfg.robot_rate_count, 20);
    CHECK_EQ_INT(cfg.robot_rate_window_s, 60);
    CHECK_EQ_INT(config_parse_robot_rate("5/3s", &cfg), 0);
    CHECK_EQ_INT(cfg.robot_rate_count, 5);
    CHECK_EQ_INT(cfg.robot_rate_window_s, 3);
    CHECK_EQ_INT(config_parse_robot_rate("20/1m", &cfg), 0);
    CHECK_EQ_INT(cfg.robot_rate_window_s, 60);
    static const char *const bad[] = {"20", "20/", "/60s", "0/60s", "101/60s", "20/60",
                                      "20/0s", "20/2d", "x/60s", "20/60s/1", "-1/60s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = config_parse_robot_rate(bad[i], &cfg);
        if (rc != -1)
            fprintf(stderr, "    accepted: %s\n", bad[i]);
        CHECK_EQ_INT(rc, -1);
    }
    CHECK_EQ_INT(cfg.robot_rate_count, 20); /* unchanged by the refused ones */
}

/* Slots for the requests waiting: each its own, in order, never more than limit per window. */
static void test_pace_slots(void)
{
    struct channel_pace p;
    const int64_t t = 1000000, w = 1000, r = w + CHANNEL_PACE_SLACK_MS;

    memset(&p, 0, sizeof(p));
    /* Nothing sent: the first `limit` go now, then a round later each. */
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t, 0), t);
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t, 2), t);
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t, 3), t + r);
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t, 7), t + 2 * r);
    /* One sent at t: two slots free now, the third when it leaves the window. */
    channel_pace_note(&p, 3, t);
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t + 5, 0), t + 5);
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t + 5, 1), t + 5);
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t + 5, 2), t + w);
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t + 5, 5), t + w + r);
    /* Full: slot k frees as the k-th oldest leaves; slot 0 is channel_pace_next's. */
    channel_pace_note(&p, 3, t + 10);
    channel_pace_note(&p, 3, t + 20);
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t + 30, 0), channel_pace_next(&p, 3, w, t + 30));
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t + 30, 1), t + 10 + w);
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t + 30, 2), t + 20 + w);
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t + 30, 4), t + 10 + w + r);
    /* Late: a slot is never before now. */
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t + 5000, 0), t + 5000);
    CHECK_EQ_INT(channel_pace_slot(&p, 3, w, t + 5000, 3), t + 5000 + r);
    /*
     * Started on their slots, 200 waiting requests at 20 a minute never put
     * more than 20 in any window, and each slot is free when it comes.
     */
    memset(&p, 0, sizeof(p));
    for (int i = 0; i < 20; i++)
        channel_pace_note(&p, 20, t + i);
    int64_t slots[200], now = t + 30;
    struct channel_pace log = p;
    for (size_t k = 0; k < 200; k++)
        slots[k] = channel_pace_slot(&p, 20, 60000, now, k);
    for (size_t k = 0; k < 200; k++) {
        CHECK(k == 0 || slots[k] >= slots[k - 1]);
        CHECK(channel_pace_next(&log, 20, 60000, slots[k]) <= slots[k]);
        channel_pace_note(&log, 20, slots[k] + 3); /* a little late, as a timer is */
    }
    /* Limits outside 1..CHANNEL_PACE_MAX do not pace. */
    CHECK_EQ_INT(channel_pace_slot(&p, 0, w, 5, 9), 5);
}

int main(void)
{
    test_formats();
    test_secret_valid();
    test_dingtalk_sign();
    test_judge();
    test_pace();
    test_pace_slots();
    test_robot_rate();
    return check_finish();
}
