/*
 * account.h - the rules of signing in (CONTRACT section 9): what a login
 * and a password may be, which access a person has, how passwords are
 * hashed (Argon2id, libsodium), when a session has ended, when a login is
 * locked after wrong passwords, and the CSRF token of a session. Pure: no
 * store, no loop, no HTTP. Hashing is slow on purpose (tens of ms), so the
 * service calls account_password_hash/verify on a worker thread; both are
 * thread-safe once account_init() has run.
 */
#ifndef CONVENE_ACCOUNT_H
#define CONVENE_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#define ACCOUNT_LOGIN_MIN 3
#define ACCOUNT_LOGIN_MAX 64
#define ACCOUNT_PASSWORD_MIN_CHARS 10
/* Bytes: a bound on the work a request can ask of the hash, far above any real password. */
#define ACCOUNT_PASSWORD_MAX_BYTES 1024
#define ACCOUNT_HASH_MAX 128        /* crypto_pwhash_STRBYTES */
#define ACCOUNT_SESSION_BYTES 32    /* 256-bit session ids */
#define ACCOUNT_SESSION_STR 48      /* base64url of 32 bytes (43) + NUL */
#define ACCOUNT_CSRF_STR 48
#define ACCOUNT_LOCK_FAILURES 5     /* wrong passwords for one login ... */
#define ACCOUNT_LOCK_WINDOW_MS (15 * 60 * 1000) /* ... within this long lock it */

/* Initialises libsodium once per process (before any worker thread hashes). 0 or -1. */
int account_init(void);

/* Whether s is a login: 3-64 characters of a-z 0-9 . _ - */
int account_login_valid(const char *s);

/*
 * Whether a password is acceptable: at least ACCOUNT_PASSWORD_MIN_CHARS
 * characters (UTF-8 code points, so a Chinese passphrase counts by what
 * the person typed), at most ACCOUNT_PASSWORD_MAX_BYTES bytes, valid UTF-8
 * without NUL. Returns NULL if acceptable, else why (a static English sentence).
 */
const char *account_password_problem(const char *pw, size_t len);

/* The access values a person may be given, NULL-terminated ("none" means no sign-in). */
extern const char *const account_access_values[];

/*
 * A person's effective access: `access` when set (not NULL or ""), else the
 * default of their role (secretary, leader, driver; staff -> "none").
 */
const char *account_access_effective(const char *access, const char *role);

/*
 * Hashes pw into out as an Argon2id string ("$argon2id$v=19$m=...") with
 * libsodium's interactive limits. 0, or -1 when out of memory.
 */
int account_password_hash(const char *pw, size_t len, char out[ACCOUNT_HASH_MAX]);

/*
 * 1 if pw matches hash, else 0. With hash NULL (an unknown login) a fixed
 * hash of the same cost is checked and 0 returned, so an unknown login
 * takes as long to refuse as a wrong password.
 */
int account_password_verify(const char *hash, const char *pw, size_t len);

/* A fresh session id (base64url of 256 random bits). 0 or -1. */
int account_session_new(char out[ACCOUNT_SESSION_STR]);

/*
 * The CSRF token of a session: base64url of HMAC-SHA256(key, "csrf:" id),
 * derived rather than stored, so the database holds nothing a cookie thief
 * could not compute anyway, and GET /session can give it again.
 */
void account_csrf(const unsigned char key[32], const char *session_id, char out[ACCOUNT_CSRF_STR]);

/* Constant-time equality of two NUL-terminated strings of any length: 1 if equal. */
int account_secret_equal(const char *a, size_t alen, const char *b);

struct session_times {
    int64_t created_ms, last_seen_ms;
};

/* Whether a session is still live at now_ms under the idle and absolute limits (ms). */
int account_session_live(const struct session_times *s, int64_t idle_ms, int64_t max_ms,
                         int64_t now_ms);

/*
 * Whether last_seen should be written now: often enough that the idle
 * limit is kept to within an eighth of it, rarely enough (at most once a
 * minute) that reading with a cookie seldom writes.
 */
int account_session_touch_due(const struct session_times *s, int64_t idle_ms, int64_t now_ms);

/*
 * The lockout rule. recent_ms holds the times of the latest failures of
 * one login, newest first (n of them, at most ACCOUNT_LOCK_FAILURES are
 * looked at). Returns 0 if the login may try now, else the seconds until
 * it may (rounded up, at least 1): what Retry-After says.
 */
int64_t account_lockout_wait_s(const int64_t *recent_ms, size_t n, int64_t now_ms);

#endif
