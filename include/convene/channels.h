/*
 * channels.h - the formats a webhook endpoint can speak and the pure rules
 * of the chat robots (CONTRACT section 14): Standard Webhooks for systems,
 * 企业微信 group robots and 钉钉 custom robots for people. What a robot is
 * told lives in notify/templates.c; this file holds what needs no I/O:
 * format names, the DingTalk 加签 signature, how an answer is judged and
 * the per-URL pace (at most N requests in any window).
 */
#ifndef CONVENE_CHANNELS_H
#define CONVENE_CHANNELS_H

#include <stddef.h>
#include <stdint.h>

enum webhook_format {
    WEBHOOK_STANDARD = 0, /* Standard Webhooks: signed JSON, any 2xx is success */
    WEBHOOK_WECOM,        /* 企业微信群机器人: markdown message, 200 + errcode 0 */
    WEBHOOK_DINGTALK,     /* 钉钉自定义机器人: markdown message, optional 加签 */
};
#define WEBHOOK_FORMAT_COUNT 3

/* "standard", "wecom", "dingtalk". */
const char *webhook_format_name(enum webhook_format f);
/* 0 and *out, or -1 for an unknown name. */
int webhook_format_parse(const char *name, enum webhook_format *out);
/* Whether f posts a message people read (a robot) rather than a signed payload. */
int webhook_format_is_robot(enum webhook_format f);

/*
 * Bytes of markdown a robot message may hold: WeCom documents 4096 for its
 * markdown content; DingTalk's limit is larger, and the same bound keeps a
 * message one phone screen or two.
 */
#define CHANNEL_TEXT_MAX 4096

/* A DingTalk secret: "SEC" + printable characters, at most this long. */
#define CHANNEL_SECRET_MAX 79
/* Whether s looks like a DingTalk 加签 secret (SEC..., printable ASCII, 8-79 bytes). */
int channel_secret_valid(const char *s);

/* "&timestamp=<ms>&sign=<...>": the longest query the DingTalk signature adds. */
#define CHANNEL_SIGN_QUERY_MAX 160
/*
 * DingTalk 加签: base64(HMAC-SHA256(key = secret, msg = timestamp + "\n" +
 * secret)), percent-encoded, written as "timestamp=<ms>&sign=<...>" into
 * out. 0, or -1 if OpenSSL failed or out is too small.
 */
int channel_dingtalk_sign(const char *secret, int64_t timestamp_ms, char *out, size_t cap);

/* Robot error codes that mean "too many messages" (WeCom 45009, DingTalk 130101). */
int channel_errcode_is_rate_limit(long errcode);
/* DingTalk 310000: signature, keyword or IP check failed. */
#define CHANNEL_ERRCODE_SECURITY 310000L

/*
 * Why an attempt did not succeed, for /metrics: the receiver refused it
 * (rate limit, signature, another errcode, an HTTP status) or nothing
 * answered.
 */
enum channel_refusal {
    CHANNEL_OK = 0,
    CHANNEL_RATE_LIMITED,
    CHANNEL_BAD_SIGN,
    CHANNEL_ERRCODE,
    CHANNEL_HTTP_STATUS,
    CHANNEL_NO_ANSWER,
};
#define CHANNEL_REFUSAL_COUNT 6
const char *channel_refusal_name(enum channel_refusal r);

/*
 * Judges an answer. Standard: any 2xx succeeds, 429 is a rate limit.
 * Robots: only HTTP 200 with errcode 0 (has_errcode: the body was JSON
 * with an integer errcode) succeeds.
 */
enum channel_refusal channel_judge(enum webhook_format f, int answered, long status,
                                   int has_errcode, long errcode);

/*
 * The pace of one robot URL: the start times of its last requests. A
 * sliding log rather than a token bucket: a bucket of 20 refilled at 20 a
 * minute lets 40 through in some 60 s (a full bucket, then its refill);
 * the robots count any 60 s.
 */
#define CHANNEL_PACE_MAX 100 /* largest N of --robot-rate */
struct channel_pace {
    int64_t sent_ms[CHANNEL_PACE_MAX]; /* ring of start times, oldest at head */
    size_t head, count;
};

/* The earliest time (ms) a request may start: now_ms, or later when limit started within window_ms. */
int64_t channel_pace_next(const struct channel_pace *p, size_t limit, int64_t window_ms,
                          int64_t now_ms);
/*
 * Each round of `limit` slots past the first comes this much later than
 * the window strictly needs: a request starts a few milliseconds after its
 * slot (the timer, the loop), and without slack the one a window later
 * would find its slot a few milliseconds early and wait again.
 */
#define CHANNEL_PACE_SLACK_MS 100

/*
 * The k-th free start (k = 0 the next) if every earlier one starts on its
 * own: slot k < limit is when the k-th oldest of the last `limit` starts
 * leaves the window (now_ms for the slots never used), and slot k + limit
 * comes a window (plus CHANNEL_PACE_SLACK_MS) after slot k. Never before
 * now_ms. Lets the requests waiting for one robot each be given their own
 * time once, instead of all being moved to the next free slot again and
 * again.
 */
int64_t channel_pace_slot(const struct channel_pace *p, size_t limit, int64_t window_ms,
                          int64_t now_ms, size_t k);
/* Records a request started at now_ms (keeps the last limit; limit is the same on every call). */
void channel_pace_note(struct channel_pace *p, size_t limit, int64_t now_ms);

#endif
