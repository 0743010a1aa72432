/*
 * test_signature.c - core/signature.c: Standard Webhooks signatures against
 * the specification's published example, and against OpenSSL's one-shot
 * HMAC() for keys that change from call to call (the MAC context is reused).
 */
#include "check.h"

#include "convene/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

static void test_spec_example(void)
{
    char sig[SIGNATURE_MAX];
    const char *body = "{\"test\": 2432232314}";

    CHECK_EQ_INT(signature_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
                                sig),
                 0);
    CHECK_EQ_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

/* Our signature for (secret, id, timestamp, body), recomputed the plain way. */
static void expected(const char *secret, const char *id, long long ts, const char *body,
                     char out[SIGNATURE_MAX])
{
    unsigned char key[64], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char content[512], b64[96];
    const char *enc = secret + strlen("whsec_");
    int keylen = EVP_DecodeBlock(key, (const unsigned char *)enc, (int)strlen(enc));
    int n = snprintf(content, sizeof(content), "%s.%lld.%s", id, ts, body);

    keylen -= (enc[strlen(enc) - 1] == '=') + (enc[strlen(enc) - 2] == '=');
    HMAC(EVP_sha256(), key, keylen, (unsigned char *)content, (size_t)n, mac, &maclen);
    EVP_EncodeBlock((unsigned char *)b64, mac, (int)maclen);
    snprintf(out, SIGNATURE_MAX, "v1,%.60s", b64);
}

static void test_changing_keys(void)
{
    char secrets[8][80], got[SIGNATURE_MAX], want[SIGNATURE_MAX], body[64];
    int same = 1;

    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(signature_secret_new(secrets[i], sizeof(secrets[i])), 0);
    for (int round = 0; round < 100; round++) {
        const char *secret = secrets[(round * 5) % 8];
        snprintf(body, sizeof(body), "{\"round\":%d}", round);
        CHECK_EQ_INT(signature_sign(secret, "msg_x", 1700000000 + round, body, strlen(body), got),
                     0);
        expected(secret, "msg_x", 1700000000 + round, body, want);
        if (strcmp(got, want) != 0 && same) {
            same = 0;
            CHECK_EQ_STR(got, want);
        }
    }
    CHECK(same);
    /* A malformed secret is refused, and the next good one still signs right. */
    CHECK(signature_sign("whsec_", "msg_x", 1, "{}", 2, got) != 0);
    CHECK(signature_sign("not-a-secret", "msg_x", 1, "{}", 2, got) != 0);
    CHECK_EQ_INT(signature_sign(secrets[0], "msg_y", 2, "{}", 2, got), 0);
    expected(secrets[0], "msg_y", 2, "{}", want);
    CHECK_EQ_STR(got, want);
}

int main(void)
{
    test_spec_example();
    test_changing_keys();
    return check_finish();
}
