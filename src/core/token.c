/*
 * token.c - random secrets and their hashes. Tokens are shown once and
 * stored only as SHA-256; comparisons of hashes run in constant time so
 * response timing tells nothing about how much of a guess matched.
 */
#include "convene/token.h"
#include "convene/util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int token_random_bytes(unsigned char *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

size_t token_base64url(const unsigned char *in, size_t n, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        if (left > 1)
            out[o++] = alphabet[(v >> 6) & 63];
        if (left > 2)
            out[o++] = alphabet[v & 63];
    }
    out[o] = '\0';
    return o;
}

void token_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int token_generate(char out[TOKEN_STR_MAX])
{
    unsigned char raw[TOKEN_RANDOM_BYTES];

    if (token_random_bytes(raw, sizeof(raw)) != 0)
        return -1;
    memcpy(out, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1);
    token_base64url(raw, sizeof(raw), out + sizeof(TOKEN_PREFIX) - 1);
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

/*
 * Ids name rows and grant nothing, so their random bytes come from a pool
 * refilled ID_POOL_BYTES at a time: RAND_bytes costs ~2,000 instructions a
 * call and a booking makes about a dozen ids (2% of its CPU). One pool per
 * thread; a forked child empties its pool, so it never repeats its
 * parent's next ids. Secrets (token_generate and the callers of
 * token_random_bytes) still draw from RAND_bytes each time.
 */
#define ID_POOL_BYTES 256

static _Thread_local unsigned char id_pool[ID_POOL_BYTES];
static _Thread_local size_t id_pool_left;
static pthread_once_t id_pool_once = PTHREAD_ONCE_INIT;

static void id_pool_forget(void)
{
    id_pool_left = 0;
}

static void id_pool_register(void)
{
    pthread_atfork(NULL, NULL, id_pool_forget);
}

static int id_random(unsigned char *out, size_t n)
{
    pthread_once(&id_pool_once, id_pool_register);
    if (id_pool_left < n) {
        if (RAND_bytes(id_pool, sizeof(id_pool)) != 1)
            return -1;
        id_pool_left = sizeof(id_pool);
    }
    memcpy(out, id_pool + sizeof(id_pool) - id_pool_left, n);
    id_pool_left -= n;
    return 0;
}

/*
 * Ids start with the time in milliseconds (12 hex digits), then 48 random
 * bits. Rows keyed by id are then written in the order they are made: the
 * bookings of one commit group land on the same few B-tree pages instead of
 * one random page each, which is fewer pages for the group's COMMIT to
 * write to the WAL and fewer for the page cache to hold. The random part
 * keeps ids made in the same millisecond apart (a clash is a primary-key
 * error, never a silent overwrite). Ids are opaque to clients (CONTRACT
 * section 1): older ids of 16 random hex digits stay valid beside these.
 */
int token_id_generate(const char *prefix, char out[ID_STR_MAX])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[ID_RANDOM_BYTES];
    uint64_t ms = (uint64_t)clock_wall_ms();
    size_t plen = strlen(prefix);
    char *p = out;

    if (plen + 1 + ID_TIME_DIGITS + 2 * ID_RANDOM_BYTES >= ID_STR_MAX ||
        id_random(raw, sizeof(raw)) != 0)
        return -1;
    memcpy(p, prefix, plen);
    p += plen;
    *p++ = '_';
    for (int shift = 4 * (ID_TIME_DIGITS - 1); shift >= 0; shift -= 4)
        *p++ = hex[(ms >> shift) & 15];
    for (size_t i = 0; i < sizeof(raw); i++) {
        *p++ = hex[raw[i] >> 4];
        *p++ = hex[raw[i] & 15];
    }
    *p = '\0';
    return 0;
}

/*
 * SHA256() looks the algorithm up anew on every call in OpenSSL 3 (17% of a
 * cached GET); fetch it once. The context is reused as well. Both live for
 * the process; the service calls this from its one loop thread only.
 */
void token_hash(const char *token, size_t len, unsigned char out[TOKEN_HASH_LEN])
{
    static EVP_MD *sha256;
    static EVP_MD_CTX *ctx;

    if (sha256 == NULL)
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (ctx == NULL)
        ctx = EVP_MD_CTX_new();
    if (sha256 == NULL || ctx == NULL || !EVP_DigestInit_ex2(ctx, sha256, NULL) ||
        !EVP_DigestUpdate(ctx, token, len) || !EVP_DigestFinal_ex(ctx, out, NULL))
        SHA256((const unsigned char *)token, len, out); /* the slow way still answers */
}

int token_hash_equal(const unsigned char *a, const unsigned char *b)
{
    return CRYPTO_memcmp(a, b, TOKEN_HASH_LEN) == 0;
}

void token_feed_derive(const unsigned char key[FEED_KEY_LEN], const char *kind, const char *id,
                       int64_t generation, char out[TOKEN_STR_MAX])
{
    char small[128], *msg = small;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int n = snprintf(small, sizeof(small), "%s:%s:%lld", kind, id, (long long)generation);

    /* snprintf returns the full length: MAC the whole message, never past the buffer. */
    if (n >= (int)sizeof(small)) {
        msg = xmalloc((size_t)n + 1);
        snprintf(msg, (size_t)n + 1, "%s:%s:%lld", kind, id, (long long)generation);
    }
    HMAC(EVP_sha256(), key, FEED_KEY_LEN, (const unsigned char *)msg, (size_t)n, mac, &maclen);
    token_base64url(mac, TOKEN_RANDOM_BYTES, out);
    if (msg != small)
        free(msg);
}
