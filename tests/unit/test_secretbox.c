/*
 * test_secretbox.c - core/secretbox.c: sealing webhook secrets at rest.
 * Round trip, a fresh nonce each time, refusal of altered text and of a
 * wrong key, plain (older) text passed through, bounds.
 */
#include "check.h"

#include "convene/secretbox.h"

#include <string.h>

static const unsigned char key[SECRETBOX_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char other[SECRETBOX_KEY_LEN] = "fedcba9876543210fedcba9876543210";
static const char secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6c9CUVaS/lw=";

static void test_round_trip(void)
{
    char a[SECRETBOX_SEALED_MAX(80)], b[SECRETBOX_SEALED_MAX(80)], out[80];

    CHECK_EQ_INT(secretbox_seal(key, secret, a, sizeof(a)), 0);
    CHECK_EQ_INT(secretbox_seal(key, secret, b, sizeof(b)), 0);
    CHECK(secretbox_is_sealed(a));
    CHECK(strstr(a, "whsec_") == NULL);         /* nothing of the secret shows */
    CHECK(strcmp(a, b) != 0);                    /* a fresh nonce each time */
    CHECK_EQ_INT(secretbox_open(key, a, out, sizeof(out)), 0);
    CHECK_EQ_STR(out, secret);
    CHECK_EQ_INT(secretbox_open(key, b, out, sizeof(out)), 0);
    CHECK_EQ_STR(out, secret);
}

static void test_refusals(void)
{
    char sealed[SECRETBOX_SEALED_MAX(80)], out[80];
    size_t len;

    CHECK_EQ_INT(secretbox_seal(key, secret, sealed, sizeof(sealed)), 0);
    CHECK(secretbox_open(other, sealed, out, sizeof(out)) != 0);
    CHECK_EQ_STR(out, ""); /* nothing unauthenticated is left behind */
    /* Every single changed character of the base64 text is refused. */
    len = strlen(sealed);
    int refused = 1;
    for (size_t i = strlen(SECRETBOX_PREFIX); i < len; i++) {
        char copy[sizeof(sealed)];
        memcpy(copy, sealed, len + 1);
        copy[i] = copy[i] == 'A' ? 'B' : 'A';
        if (secretbox_open(key, copy, out, sizeof(out)) == 0 && strcmp(out, secret) == 0)
            refused = 0;
    }
    CHECK(refused);
    CHECK(secretbox_open(key, "enc1:", out, sizeof(out)) != 0);
    CHECK(secretbox_open(key, "enc1:abc", out, sizeof(out)) != 0);
    CHECK(secretbox_open(key, "enc1:AAAA", out, sizeof(out)) != 0);
    CHECK(secretbox_open(key, sealed, out, 8) != 0);          /* too small */
    CHECK(secretbox_seal(key, secret, sealed, 20) != 0);      /* too small */
}

static void test_plain_passes_through(void)
{
    char out[80];

    CHECK_EQ_INT(secretbox_open(key, secret, out, sizeof(out)), 0);
    CHECK_EQ_STR(out, secret);
    CHECK(!secretbox_is_sealed(secret));
    CHECK(secretbox_open(key, secret, out, 10) != 0);
}

int main(void)
{
    test_round_trip();
    test_refusals();
    test_plain_passes_through();
    return check_finish();
}
