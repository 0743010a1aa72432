/*
 * taplink.c - the pure part of one-tap links: naming an action (its ref),
 * deriving its token, the cheap shape check of a token from a URL, and
 * putting a URL into a body at the offset where fan-out left room for it.
 * See taplink.h for why tokens are derived at send time.
 */
#include "convene/taplink.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convene/util.h"

static int ref_done(int n)
{
    return n > 0 && n < TAPLINK_REF_MAX ? 0 : -1;
}

int taplink_ref_ack(const char *trip_id, const char *driver, char out[TAPLINK_REF_MAX])
{
    return ref_done(snprintf(out, TAPLINK_REF_MAX, "ack:%s:%s", trip_id, driver));
}

int taplink_ref_rsvp(const char *event_id, const char *rid, const char *person,
                     char out[TAPLINK_REF_MAX])
{
    return ref_done(snprintf(out, TAPLINK_REF_MAX, "rsvp:%s:%s:%s", event_id, rid, person));
}

int taplink_ref_approve(const char *approval_id, const char *approver,
                        char out[TAPLINK_REF_MAX])
{
    return ref_done(snprintf(out, TAPLINK_REF_MAX, "approve:%s:%s", approval_id, approver));
}

void taplink_derive(const unsigned char key[TAPLINK_KEY_LEN], const char *ref,
                    char out[TAPLINK_TOKEN_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    HMAC(EVP_sha256(), key, TAPLINK_KEY_LEN, (const unsigned char *)ref, strlen(ref), mac,
         &maclen);
    token_base64url(mac, TOKEN_RANDOM_BYTES, out);
}

int taplink_token_plausible(const char *s, size_t len)
{
    if (len != TAPLINK_TOKEN_LEN)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

char *taplink_body_insert(const char *body, int64_t at, const char *url)
{
    size_t blen = strlen(body), ulen = strlen(url);
    char *out;

    if (at < 0 || (size_t)at > blen)
        return NULL;
    out = xmalloc(blen + ulen + 1);
    memcpy(out, body, (size_t)at);
    memcpy(out + at, url, ulen);
    memcpy(out + at + ulen, body + at, blen - (size_t)at + 1);
    return out;
}

int64_t taplink_marker_cut(char *text, const char *marker)
{
    char *at = strstr(text, marker);
    size_t mlen = strlen(marker);

    if (at == NULL || mlen == 0 || strstr(at + mlen, marker) != NULL)
        return -1;
    memmove(at, at + mlen, strlen(at + mlen) + 1);
    return (int64_t)(at - text);
}
