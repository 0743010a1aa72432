/*
 * account.c - logins, access, Argon2id password hashes, session ids and
 * their limits, the lockout rule and CSRF tokens (CONTRACT section 9).
 * Everything here is pure or thread-safe: the service hashes on libuv's
 * worker threads.
 */
#include "convene/account.h"
#include "convene/token.h"
#include "convene/util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

const char *const account_access_values[] = {"admin",  "secretary", "leader", "driver",
                                             "canteen", "none",     NULL};

int account_init(void)
{
    /* 0 on first success, 1 when already done; -1 only if no randomness is available. */
    return sodium_init() < 0 ? -1 : 0;
}

int account_login_valid(const char *s)
{
    size_t n = strlen(s);

    if (n < ACCOUNT_LOGIN_MIN || n > ACCOUNT_LOGIN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* Code points in s[0..len), or -1 unless it is well-formed UTF-8 without NUL. */
static long utf8_chars(const char *s, size_t len)
{
    long chars = 0;

    if (memchr(s, '\0', len) != NULL || utf8_valid_prefix(s, len) != len)
        return -1;
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)s[i] & 0xc0) != 0x80;
    return chars;
}

const char *account_password_problem(const char *pw, size_t len)
{
    long chars;

    if (len > ACCOUNT_PASSWORD_MAX_BYTES)
        return "'password' must be at most 1024 bytes";
    if ((chars = utf8_chars(pw, len)) < 0)
        return "'password' must be UTF-8 text without NUL characters";
    if (chars < ACCOUNT_PASSWORD_MIN_CHARS)
        return "'password' must be at least 10 characters";
    return NULL;
}

const char *account_access_effective(const char *access, const char *role)
{
    if (access != NULL && access[0] != '\0')
        return access;
    if (role == NULL)
        return "none";
    if (strcmp(role, "secretary") == 0 || strcmp(role, "leader") == 0 ||
        strcmp(role, "driver") == 0)
        return role;
    return "none";
}

int account_password_hash(const char *pw, size_t len, char out[ACCOUNT_HASH_MAX])
{
    return crypto_pwhash_str_alg(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE,
                                 crypto_pwhash_ALG_ARGON2ID13) == 0
               ? 0
               : -1;
}

/*
 * The hash an unknown login is checked against: made once, on first need,
 * with the same limits as real ones, of a random password nobody knows
 * (and the result is ignored anyway).
 */
static char dummy_hash[ACCOUNT_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
    unsigned char pw[16];

    randombytes_buf(pw, sizeof(pw));
    if (account_password_hash((const char *)pw, sizeof(pw), dummy_hash) != 0)
        dummy_hash[0] = '\0';
}

int account_password_verify(const char *hash, const char *pw, size_t len)
{
    if (hash == NULL) {
        pthread_once(&dummy_once, dummy_make);
        /* The outcome does not matter: only the time it takes. */
        if (dummy_hash[0] != '\0' && crypto_pwhash_str_verify(dummy_hash, pw, len) == 0)
            return 0;
        return 0;
    }
    return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

int account_session_new(char out[ACCOUNT_SESSION_STR])
{
    unsigned char raw[ACCOUNT_SESSION_BYTES];

    if (token_random_bytes(raw, sizeof(raw)) != 0)
        return -1;
    token_base64url(raw, sizeof(raw), out);
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

void account_csrf(const unsigned char key[32], const char *session_id, char out[ACCOUNT_CSRF_STR])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    unsigned char msg[5 + ACCOUNT_SESSION_STR];
    size_t n = strlen(session_id);

    if (n > ACCOUNT_SESSION_STR)
        n = ACCOUNT_SESSION_STR;
    memcpy(msg, "csrf:", 5);
    memcpy(msg + 5, session_id, n);
    HMAC(EVP_sha256(), key, 32, msg, 5 + n, mac, &maclen);
    token_base64url(mac, 32, out);
}

int account_secret_equal(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);

    /* The length of a CSRF token is public; only its bytes must not leak by timing. */
    return alen == blen && CRYPTO_memcmp(a, b, blen) == 0;
}

int account_session_live(const struct session_times *s, int64_t idle_ms, int64_t max_ms,
                         int64_t now_ms)
{
    return now_ms - s->last_seen_ms < idle_ms && now_ms - s->created_ms < max_ms;
}

int account_session_touch_due(const struct session_times *s, int64_t idle_ms, int64_t now_ms)
{
    int64_t every = idle_ms / 8;

    if (every > 60 * 1000)
        every = 60 * 1000;
    return now_ms - s->last_seen_ms >= every;
}

int64_t account_lockout_wait_s(const int64_t *recent_ms, size_t n, int64_t now_ms)
{
    int64_t until;

    if (n < ACCOUNT_LOCK_FAILURES)
        return 0;
    /* The fifth newest failure leaves the window last among those five. */
    until = recent_ms[ACCOUNT_LOCK_FAILURES - 1] + ACCOUNT_LOCK_WINDOW_MS;
    if (until <= now_ms)
        return 0;
    return (until - now_ms + 999) / 1000;
}
