/*
 * test_account.c - core/account.c: logins, password rules (characters, not
 * bytes; bad UTF-8), effective access, Argon2id hashing and verification
 * (and the dummy path for unknown logins), session limits and touches, the
 * lockout rule at its edges, and CSRF tokens against an independent HMAC.
 */
#include "check.h"

#include "convene/account.h"
#include "convene/token.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

static void test_logins(void)
{
    static const char *const good[] = {"abc", "zhaoming", "a.b_c-9", "0123456789",
                                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    static const char *const bad[] = {"",     "ab",      "Zhao",  "zhao ming", "zhao@x",
                                      "赵明", "a/b",     "a\tb",  "ab\n",      "..\\x",
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        CHECK(account_login_valid(good[i]));
        if (!account_login_valid(good[i]))
            fprintf(stderr, "    refused: %s\n", good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(!account_login_valid(bad[i]));
        if (account_login_valid(bad[i]))
            fprintf(stderr, "    accepted: %s\n", bad[i]);
    }
}

static void test_password_rules(void)
{
    static const struct {
        const char *pw;
        size_t len; /* 0: strlen */
        int ok;
    } cases[] = {
        {"123456789", 0, 0},
        {"1234567890", 0, 1},
        {"会议室钥匙锁好", 0, 0},          /* 7 characters, 21 bytes */
        {"会议室的钥匙在三楼办公", 0, 1},  /* 10 characters */
        {"abc\xff\xfe" "defghij", 0, 0},  /* not UTF-8 */
        {"\xc0\xafxxxxxxxxxx", 0, 0},     /* overlong '/' */
        {"\xed\xa0\x80xxxxxxxxxx", 0, 0}, /* a surrogate */
        {"abcde\0fghijk", 12, 0},         /* NUL inside */
    };
    char big[ACCOUNT_PASSWORD_MAX_BYTES + 2];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].pw);
        const char *why = account_password_problem(cases[i].pw, len);
        CHECK_EQ_INT(why == NULL, cases[i].ok);
    }
    memset(big, 'x', sizeof(big));
    CHECK(account_password_problem(big, ACCOUNT_PASSWORD_MAX_BYTES) == NULL);
    CHECK(account_password_problem(big, ACCOUNT_PASSWORD_MAX_BYTES + 1) != NULL);
}

static void test_access(void)
{
    CHECK_EQ_STR(account_access_effective(NULL, "secretary"), "secretary");
    CHECK_EQ_STR(account_access_effective("", "leader"), "leader");
    CHECK_EQ_STR(account_access_effective(NULL, "driver"), "driver");
    CHECK_EQ_STR(account_access_effective(NULL, "staff"), "none");
    CHECK_EQ_STR(account_access_effective(NULL, NULL), "none");
    CHECK_EQ_STR(account_access_effective("canteen", "staff"), "canteen");
    CHECK_EQ_STR(account_access_effective("none", "secretary"), "none");
    CHECK_EQ_STR(account_access_effective("admin", "secretary"), "admin");
}

static void test_hashing(void)
{
    char hash[ACCOUNT_HASH_MAX], again[ACCOUNT_HASH_MAX];
    const char *pw = "correct horse battery";

    CHECK_EQ_INT(account_password_hash(pw, strlen(pw), hash), 0);
    CHECK(strncmp(hash, "$argon2id$", 10) == 0);
    CHECK(strstr(hash, pw) == NULL);
    CHECK_EQ_INT(account_password_verify(hash, pw, strlen(pw)), 1);
    CHECK_EQ_INT(account_password_verify(hash, "correct horse batterY", strlen(pw)), 0);
    CHECK_EQ_INT(account_password_verify(hash, pw, strlen(pw) - 1), 0);
    /* Salted: the same password hashes differently each time, and both verify. */
    CHECK_EQ_INT(account_password_hash(pw, strlen(pw), again), 0);
    CHECK(strcmp(hash, again) != 0);
    CHECK_EQ_INT(account_password_verify(again, pw, strlen(pw)), 1);
    /* No hash (an unknown login): never a match, whatever is typed. */
    CHECK_EQ_INT(account_password_verify(NULL, pw, strlen(pw)), 0);
    CHECK_EQ_INT(account_password_verify(NULL, "", 0), 0);
    /* A damaged hash is a mismatch, not a crash. */
    CHECK_EQ_INT(account_password_verify("$argon2id$v=19$garbage", pw, strlen(pw)), 0);
    CHECK_EQ_INT(account_password_verify("", pw, strlen(pw)), 0);
}

static void test_sessions(void)
{
    char a[ACCOUNT_SESSION_STR], b[ACCOUNT_SESSION_STR];
    struct session_times t = {1000000, 1000000};
    const int64_t idle = 8 * 3600 * 1000LL, max = 7 * 86400 * 1000LL;

    CHECK_EQ_INT(account_session_new(a), 0);
    CHECK_EQ_INT(account_session_new(b), 0);
    CHECK_EQ_INT(strlen(a), 43);
    CHECK(strcmp(a, b) != 0);

    CHECK(account_session_live(&t, idle, max, t.created_ms));
    CHECK(account_session_live(&t, idle, max, t.created_ms + idle - 1));
    CHECK(!account_session_live(&t, idle, max, t.created_ms + idle));
    t.last_seen_ms = t.created_ms + max - 1000; /* busy all week */
    CHECK(account_session_live(&t, idle, max, t.created_ms + max - 1));
    CHECK(!account_session_live(&t, idle, max, t.created_ms + max));

    /* Touches: an eighth of the idle limit, at most a minute apart. */
    t.last_seen_ms = 0;
    CHECK(!account_session_touch_due(&t, idle, 59999));
    CHECK(account_session_touch_due(&t, idle, 60000));
    CHECK(!account_session_touch_due(&t, 2000, 249));
    CHECK(account_session_touch_due(&t, 2000, 250));
}

static void test_lockout(void)
{
    const int64_t now = 10 * ACCOUNT_LOCK_WINDOW_MS;
    int64_t recent[5] = {now - 1000, now - 2000, now - 3000, now - 4000, now - 5000};

    CHECK_EQ_INT(account_lockout_wait_s(recent, 4, now), 0);
    CHECK_EQ_INT(account_lockout_wait_s(recent, 0, now), 0);
    /* Five: locked until the oldest of them leaves the window (rounded up to seconds). */
    CHECK_EQ_INT(account_lockout_wait_s(recent, 5, now), (ACCOUNT_LOCK_WINDOW_MS - 5000) / 1000);
    recent[4] = now - ACCOUNT_LOCK_WINDOW_MS + 1;
    CHECK_EQ_INT(account_lockout_wait_s(recent, 5, now), 1);
    recent[4] = now - ACCOUNT_LOCK_WINDOW_MS;
    CHECK_EQ_INT(account_lockout_wait_s(recent, 5, now), 0);
    recent[4] = now - ACCOUNT_LOCK_WINDOW_MS + 1500;
    CHECK_EQ_INT(account_lockout_wait_s(recent, 5, now), 2);
}

static void test_csrf(void)
{
    unsigned char key[32], mac[EVP_MAX_MD_SIZE], other[32];
    unsigned int maclen = 0;
    char got[ACCOUNT_CSRF_STR], want[ACCOUNT_CSRF_STR], third[ACCOUNT_CSRF_STR];
    const char *sid = "zJQjPQ_-2PYUPkqu8I8SNWR90jW8PUJEs2dFnSqw_Z0";
    const char *msg = "csrf:zJQjPQ_-2PYUPkqu8I8SNWR90jW8PUJEs2dFnSqw_Z0";

    for (int i = 0; i < 32; i++) {
        key[i] = (unsigned char)i;
        other[i] = (unsigned char)(i + 1);
    }
    account_csrf(key, sid, got);
    HMAC(EVP_sha256(), key, 32, (const unsigned char *)msg, strlen(msg), mac, &maclen);
    token_base64url(mac, 32, want);
    CHECK_EQ_STR(got, want);
    account_csrf(other, sid, third);
    CHECK(strcmp(third, got) != 0);
    CHECK(account_secret_equal(got, strlen(got), want));
    CHECK(!account_secret_equal(got, strlen(got) - 1, want));
    CHECK(!account_secret_equal(third, strlen(third), want));
    CHECK(!account_secret_equal("", 0, want));
}

int main(void)
{
    CHECK_EQ_INT(account_init(), 0);
    test_logins();
    test_password_rules();
    test_access();
    test_hashing();
    test_sessions();
    test_lockout();
    test_csrf();
    return check_finish();
}
