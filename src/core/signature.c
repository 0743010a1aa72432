/*
 * signature.c - the Standard Webhooks signature scheme. The key is the
 * base64-decoded part of the secret after "whsec_"; the signed content is
 * exactly "<webhook-id>.<webhook-timestamp>.<body bytes sent>".
 */
#include "convene/signature.h"
#include "convene/token.h"
#include "convene/util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_PREFIX "whsec_"

int signature_secret_new(char *out, size_t cap)
{
    unsigned char raw[SIGNATURE_SECRET_BYTES];
    char b64[64];

    if (cap < sizeof(SECRET_PREFIX) + 44 || token_random_bytes(raw, sizeof(raw)) != 0)
        return -1;
    EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw));
    snprintf(out, cap, SECRET_PREFIX "%s", b64);
    return 0;
}

int signature_sign(const char *secret, const char *msg_id, int64_t timestamp, const char *body,
                   size_t body_len, char out[SIGNATURE_MAX])
{
    unsigned char key[64], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char stamp[24], b64[96];
    const char *encoded;
    size_t enclen;
    int keylen;

    if (strncmp(secret, SECRET_PREFIX, strlen(SECRET_PREFIX)) != 0)
        return -1;
    encoded = secret + strlen(SECRET_PREFIX);
    enclen = strlen(encoded);
    if (enclen == 0 || enclen > 88 || enclen % 4 != 0)
        return -1;
    keylen = EVP_DecodeBlock(key, (const unsigned char *)encoded, (int)enclen);
    if (keylen < 0)
        return -1;
    /* EVP_DecodeBlock counts padding bytes as data: drop them. */
    if (encoded[enclen - 1] == '=')
        keylen--;
    if (encoded[enclen - 2] == '=')
        keylen--;
    snprintf(stamp, sizeof(stamp), "%lld", (long long)timestamp);

    /* One buffer for the signed content: exactly the bytes the receiver will hash. */
    size_t idlen = strlen(msg_id), stamplen = strlen(stamp);
    unsigned char *content = xmalloc(idlen + stamplen + body_len + 2);
    memcpy(content, msg_id, idlen);
    content[idlen] = '.';
    memcpy(content + idlen + 1, stamp, stamplen);
    content[idlen + 1 + stamplen] = '.';
    memcpy(content + idlen + stamplen + 2, body, body_len);
    HMAC(EVP_sha256(), key, keylen, content, idlen + stamplen + body_len + 2, mac, &maclen);
    free(content);
    EVP_EncodeBlock((unsigned char *)b64, mac, (int)maclen);
    snprintf(out, SIGNATURE_MAX, "v1,%.60s", b64);
    return 0;
}
