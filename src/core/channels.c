/*
 * channels.c - the pure rules of notification channels (channels.h):
 * format names, the DingTalk 加签 signature, the verdict on an answer and
 * the per-URL sliding-window pace. The sender (notify/sender.c) applies
 * them; nothing here does I/O.
 */
#include "convene/channels.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

static const char *const format_names[WEBHOOK_FORMAT_COUNT] = {"standard", "wecom", "dingtalk"};

const char *webhook_format_name(enum webhook_format f)
{
    return (unsigned)f < WEBHOOK_FORMAT_COUNT ? format_names[f] : "standard";
}

int webhook_format_parse(const char *name, enum webhook_format *out)
{
    for (int i = 0; i < WEBHOOK_FORMAT_COUNT; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *out = (enum webhook_format)i;
            return 0;
        }
    }
    return -1;
}

int webhook_format_is_robot(enum webhook_format f)
{
    return f == WEBHOOK_WECOM || f == WEBHOOK_DINGTALK;
}

int channel_secret_valid(const char *s)
{
    size_t n = strlen(s);

    if (n < 8 || n > CHANNEL_SECRET_MAX || strncmp(s, "SEC", 3) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}

/* Percent-encodes everything but RFC 3986's unreserved characters (so + / = of base64 too). */
static int url_encode(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *in != '\0'; in++) {
        unsigned char c = (unsigned char)*in;
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~';
        if (o + (plain ? 1 : 3) >= cap)
            return -1;
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

int channel_dingtalk_sign(const char *secret, int64_t timestamp_ms, char *out, size_t cap)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char msg[32 + CHANNEL_SECRET_MAX], b64[64], encoded[3 * sizeof(b64)];
    int len = snprintf(msg, sizeof(msg), "%lld\n%s", (long long)timestamp_ms, secret);

    if (len < 0 || (size_t)len >= sizeof(msg) ||
        HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, (size_t)len,
             mac, &maclen) == NULL)
        return -1;
    EVP_EncodeBlock((unsigned char *)b64, mac, (int)maclen);
    if (url_encode(b64, encoded, sizeof(encoded)) != 0)
        return -1;
    len = snprintf(out, cap, "timestamp=%lld&sign=%s", (long long)timestamp_ms, encoded);
    return len < 0 || (size_t)len >= cap ? -1 : 0;
}

int channel_errcode_is_rate_limit(long errcode)
{
    return errcode == 45009L || errcode == 130101L;
}

static const char *const refusal_names[CHANNEL_REFUSAL_COUNT] = {
    "ok", "rate_limited", "bad_sign", "errcode", "http_status", "no_answer"};

const char *channel_refusal_name(enum channel_refusal r)
{
    return (unsigned)r < CHANNEL_REFUSAL_COUNT ? refusal_names[r] : "errcode";
}

enum channel_refusal channel_judge(enum webhook_format f, int answered, long status,
                                   int has_errcode, long errcode)
{
    if (!answered)
        return CHANNEL_NO_ANSWER;
    if (!webhook_format_is_robot(f)) {
        if (status >= 200 && status < 300)
            return CHANNEL_OK;
        return status == 429 ? CHANNEL_RATE_LIMITED : CHANNEL_HTTP_STATUS;
    }
    if (status == 429)
        return CHANNEL_RATE_LIMITED;
    /* A robot that answers 200 without an errcode did not say it posted the message. */
    if (status != 200 || !has_errcode)
        return CHANNEL_HTTP_STATUS;
    if (errcode == 0)
        return CHANNEL_OK;
    if (channel_errcode_is_rate_limit(errcode))
        return CHANNEL_RATE_LIMITED;
    return errcode == CHANNEL_ERRCODE_SECURITY ? CHANNEL_BAD_SIGN : CHANNEL_ERRCODE;
}

int64_t channel_pace_next(const struct channel_pace *p, size_t limit, int64_t window_ms,
                          int64_t now_ms)
{
    if (limit == 0 || limit > CHANNEL_PACE_MAX || p->count < limit)
        return now_ms;
    /* The ring holds exactly the last `limit` starts: the oldest frees the next slot. */
    int64_t free_at = p->sent_ms[p->head] + window_ms;
    return free_at > now_ms ? free_at : now_ms;
}

int64_t channel_pace_slot(const struct channel_pace *p, size_t limit, int64_t window_ms,
                          int64_t now_ms, size_t k)
{
    size_t first, unused;
    int64_t base;

    if (limit == 0 || limit > CHANNEL_PACE_MAX)
        return now_ms;
    first = k % limit;
    unused = limit - (p->count < limit ? p->count : limit);
    /* The ring's starts, oldest first, after the slots never used (free now). */
    base = first < unused ? now_ms : p->sent_ms[(p->head + first - unused) % limit] + window_ms;
    if (base < now_ms)
        base = now_ms;
    return base + (int64_t)(k / limit) * (window_ms + CHANNEL_PACE_SLACK_MS);
}

void channel_pace_note(struct channel_pace *p, size_t limit, int64_t now_ms)
{
    if (limit == 0 || limit > CHANNEL_PACE_MAX)
        return;
    if (p->count < limit) {
        p->sent_ms[(p->head + p->count) % limit] = now_ms;
        p->count++;
    } else {
        p->sent_ms[p->head] = now_ms;
        p->head = (p->head + 1) % limit;
    }
}
