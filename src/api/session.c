/*
 * session.c - signing in and out of the console, and setting passwords
 * (CONTRACT section 9): POST/GET/DELETE /api/v1/session and
 * PUT /api/v1/people/{id}/password. The rules (what a password may be, the
 * lockout, session limits, CSRF tokens) are in core/account.c; what is
 * kept is in store/accounts.c. Argon2id is slow on purpose, so every hash
 * and verification runs on a worker thread (api_defer): the request waits,
 * the loop does not. A wrong login and a wrong password get the same
 * answer after the same work (an unknown login is checked against a dummy
 * hash).
 */
#include "handlers.h"

#include "convene/account.h"
#include "convene/auth.h"
#include "convene/body.h"
#include "convene/store.h"
#include "convene/util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A secret taken from the request, wiped when freed. */
struct secret {
    char *text;
    size_t len;
};

static void secret_take(struct secret *s, json_t *v)
{
    s->len = json_string_length(v);
    s->text = xmalloc(s->len + 1);
    memcpy(s->text, json_string_value(v), s->len + 1);
}

static void secret_free(struct secret *s)
{
    if (s->text != NULL) {
        sodium_memzero(s->text, s->len);
        free(s->text);
    }
    s->text = NULL;
}

/* A required string member that is not otherwise checked (passwords are any text). */
static int member_secret(json_t *body, const char *name, int required, json_t **out,
                         struct api_error *err)
{
    json_t *v = json_object_get(body, name);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? api_error_set(err, 422, "required", name, "'%s' is required", name) : 0;
    if (!json_is_string(v))
        return api_error_set(err, 400, "wrong_type", name, "'%s' must be a string", name);
    *out = v;
    return 0;
}

/*
 * 0 if the login may try now; otherwise replies 429 with Retry-After and
 * returns -1. Also -1 (after a 500) when the store fails.
 */
static int lockout_check(struct api_call *call, const char *login)
{
    int64_t recent[ACCOUNT_LOCK_FAILURES], now = clock_wall_ms(), wait;
    size_t n;
    char after[24];

    if (store_login_failures_recent(call->app->store, login, now - ACCOUNT_LOCK_WINDOW_MS, recent,
                                    ACCOUNT_LOCK_FAILURES, &n) != STORE_OK) {
        api_reply_store_error(call);
        return -1;
    }
    if ((wait = account_lockout_wait_s(recent, n, now)) == 0)
        return 0;
    snprintf(after, sizeof(after), "%lld", (long long)wait);
    api_reply_error(call, 429, "too_many_attempts", NULL,
                    "too many wrong passwords for this login: try again in %lld minutes",
                    (long long)((wait + 59) / 60));
    api_add_header(call, "Retry-After", after);
    return -1;
}

/* Counts a wrong password against login (the lockout window). 0 or -1. */
static int failure_record(struct app *app, const char *login)
{
    int64_t now = clock_wall_ms();

    if (store_begin(app->store) != STORE_OK)
        return -1;
    if (store_login_failure_add(app->store, login, now, now - ACCOUNT_LOCK_WINDOW_MS) != STORE_OK ||
        store_commit(app->store) != STORE_OK) {
        store_rollback(app->store);
        return -1;
    }
    return 0;
}

/* {"person","name","access","csrf"}: who a session is. */
static json_t *session_render(struct app *app, const struct login_row *who, const char *session)
{
    char csrf[ACCOUNT_CSRF_STR];

    account_csrf(app->csrf_key, session, csrf);
    return json_pack("{s:s, s:s, s:s, s:s}", "person", who->person, "name", who->name, "access",
                     account_access_effective(who->access, who->role), "csrf", csrf);
}

static void cookie_set(struct api_call *call, const char *value, int clear)
{
    char cookie[160];
    /* Secure only where the console is reached over https, or a plain-http office could not sign in. */
    int secure = strncmp(call->app->public_url, "https://", 8) == 0;

    snprintf(cookie, sizeof(cookie), "%s=%s; HttpOnly; SameSite=Strict; Path=/%s%s",
             AUTH_SESSION_COOKIE, value, secure ? "; Secure" : "", clear ? "; Max-Age=0" : "");
    api_add_header(call, "Set-Cookie", cookie);
}

/* ---------------- POST /api/v1/session ---------------- */

struct sign_in {
    struct api_job job; /* first: the job is the sign-in */
    char login[ACCOUNT_LOGIN_MAX + 1];
    struct login_row row; /* row.person "" when the login is unknown */
    struct secret password;
    int verified;
};

static void sign_in_work(struct api_job *job)
{
    struct sign_in *s = (struct sign_in *)job;
    const char *hash = s->row.person[0] != '\0' && s->row.hash[0] != '\0' ? s->row.hash : NULL;

    s->verified = account_password_verify(hash, s->password.text, s->password.len) && hash != NULL;
}

static void sign_in_free(struct api_job *job)
{
    struct sign_in *s = (struct sign_in *)job;

    secret_free(&s->password);
    sodium_memzero(s->row.hash, sizeof(s->row.hash));
    free(s);
}

static void bad_credentials(struct api_call *call)
{
    api_reply_error(call, 401, "bad_credentials", NULL, "wrong login or password");
}

/* Stores a new session for who; the reply carries its cookie. 0 or -1 (after replying). */
static int session_open(struct api_call *call, const struct login_row *who, const char *login)
{
    struct store *st = call->app->store;
    char id[ACCOUNT_SESSION_STR];
    unsigned char hash[TOKEN_HASH_LEN];
    int64_t now = clock_wall_ms();

    if (account_session_new(id) != 0) {
        api_reply_error(call, 500, "internal", NULL, "no randomness available");
        return -1;
    }
    token_hash(id, strlen(id), hash);
    if (store_begin(st) != STORE_OK)
        goto fail;
    /* Sessions that are over go as new ones come: the table stays the size of its use. */
    if (store_sessions_prune(st, now - call->app->cfg.session_idle_s * 1000,
                             now - call->app->cfg.session_max_s * 1000) != STORE_OK ||
        store_session_insert(st, hash, who->person, now) != STORE_OK ||
        store_login_failures_clear(st, login) != STORE_OK || store_commit(st) != STORE_OK) {
        store_rollback(st);
        goto fail;
    }
    api_reply_json(call, 200, session_render(call->app, who, id), -1);
    cookie_set(call, id, 0);
    sodium_memzero(id, sizeof(id));
    return 0;
fail:
    sodium_memzero(id, sizeof(id));
    api_reply_store_error(call);
    return -1;
}

static void sign_in_finish(struct api_job *job, struct api_call *call)
{
    struct sign_in *s = (struct sign_in *)job;
    struct login_row now;
    int rc;

    /* A login that cannot exist was only checked for the time it takes. */
    if (s->login[0] == '\0') {
        bad_credentials(call);
        return;
    }
    /* Judged after the wait: failures that came in meanwhile count, so guesses cannot race. */
    if (lockout_check(call, s->login) != 0)
        return;
    if (!s->verified) {
        if (failure_record(call->app, s->login) != 0)
            api_reply_store_error(call);
        else
            bad_credentials(call);
        return;
    }
    /* The person as they are now: deleted or given another login during the hash means no. */
    rc = store_login_find(call->app->store, s->login, &now);
    if (rc == STORE_NOTFOUND || (rc == STORE_OK && strcmp(now.person, s->row.person) != 0)) {
        bad_credentials(call);
        return;
    }
    if (rc != STORE_OK) {
        api_reply_store_error(call);
        return;
    }
    if (strcmp(account_access_effective(now.access, now.role), "none") == 0) {
        api_reply_error(call, 403, "no_access", NULL,
                        "this person has no access to the console: ask an administrator");
        return;
    }
    session_open(call, &now, s->login);
}

static const char *const sign_in_members[] = {"login", "password", NULL};

void api_session_create(struct api_call *call)
{
    json_t *body = api_body_object(call), *login, *password;
    struct api_error err;
    struct sign_in *s;
    int rc;

    if (body == NULL)
        return;
    if (body_only_members(body, sign_in_members, &err) != 0 ||
        member_secret(body, "login", 1, &login, &err) != 0 ||
        member_secret(body, "password", 1, &password, &err) != 0) {
        api_reply_api_error(call, &err);
        return;
    }
    s = xcalloc(1, sizeof(*s));
    s->job.work = sign_in_work;
    s->job.finish = sign_in_finish;
    s->job.free = sign_in_free;
    secret_take(&s->password, password);
    /* A login that cannot exist is checked like an unknown one, and never locks anything. */
    if (account_login_valid(json_string_value(login))) {
        snprintf(s->login, sizeof(s->login), "%s", json_string_value(login));
        if (lockout_check(call, s->login) != 0) {
            sign_in_free(&s->job);
            return;
        }
        rc = store_login_find(call->app->store, s->login, &s->row);
        if (rc != STORE_OK && rc != STORE_NOTFOUND) {
            sign_in_free(&s->job);
            api_reply_store_error(call);
            return;
        }
    }
    api_defer(call, &s->job);
}

/* ---------------- GET and DELETE /api/v1/session ---------------- */

/* The signed-in person of a cookie-authorised call; replies 401 and returns -1 otherwise. */
static int session_of(struct api_call *call, struct login_row *who)
{
    int rc;

    if (call->session[0] == '\0') {
        api_reply_error(call, 401, "unauthorized", NULL,
                        "not signed in: this request carries no session cookie");
        return -1;
    }
    rc = store_login_of_person(call->app->store, call->auth.person, who);
    if (rc == STORE_NOTFOUND) {
        api_reply_error(call, 401, "unauthorized", NULL, "not signed in");
        return -1;
    }
    if (rc != STORE_OK) {
        api_reply_store_error(call);
        return -1;
    }
    return 0;
}

void api_session_get(struct api_call *call)
{
    struct login_row who;

    if (session_of(call, &who) == 0)
        api_reply_json(call, 200, session_render(call->app, &who, call->session), -1);
}

void api_session_delete(struct api_call *call)
{
    struct login_row who;
    unsigned char hash[TOKEN_HASH_LEN];

    if (session_of(call, &who) != 0)
        return;
    token_hash(call->session, strlen(call->session), hash);
    if (store_session_delete(call->app->store, hash) != STORE_OK) {
        api_reply_store_error(call);
        return;
    }
    api_reply_empty(call, 204);
    cookie_set(call, "", 1);
}

/* ---------------- PUT /api/v1/people/{id}/password ---------------- */

struct password_change {
    struct api_job job;
    struct login_row row;     /* the person whose password changes */
    struct secret old, fresh; /* old.text NULL when an admin sets it */
    char hash[ACCOUNT_HASH_MAX];
    int old_ok, hashed;
};

static void password_work(struct api_job *job)
{
    struct password_change *p = (struct password_change *)job;

    if (p->old.text != NULL) {
        p->old_ok = account_password_verify(p->row.hash[0] ? p->row.hash : NULL, p->old.text,
                                            p->old.len) &&
                    p->row.hash[0] != '\0';
        if (!p->old_ok)
            return; /* no new hash for a caller who does not know the old password */
    }
    p->hashed = account_password_hash(p->fresh.text, p->fresh.len, p->hash) == 0;
}

static void password_free(struct api_job *job)
{
    struct password_change *p = (struct password_change *)job;

    secret_free(&p->old);
    secret_free(&p->fresh);
    free(p);
}

/* The caller's session hash when it belongs to person: kept when they change their own password. */
static const unsigned char *own_session(const struct api_call *call, const char *person,
                                        unsigned char hash[TOKEN_HASH_LEN])
{
    if (call->session[0] == '\0' || strcmp(call->auth.person, person) != 0)
        return NULL;
    token_hash(call->session, strlen(call->session), hash);
    return hash;
}

static void password_finish(struct api_job *job, struct api_call *call)
{
    struct password_change *p = (struct password_change *)job;
    struct store *st = call->app->store;
    unsigned char keep[TOKEN_HASH_LEN];

    if (p->old.text != NULL && !p->old_ok) {
        /* A wrong old password counts against the login like a wrong sign-in. */
        if (p->row.login[0] != '\0' && failure_record(call->app, p->row.login) != 0) {
            api_reply_store_error(call);
            return;
        }
        api_reply_error(call, 403, "bad_credentials", "old_password", "'old_password' is wrong");
        return;
    }
    if (!p->hashed) {
        api_reply_error(call, 500, "internal", NULL, "the password could not be hashed");
        return;
    }
    /* Other sessions of the person end: a new password is how a lost device is shut out. */
    if (store_begin(st) != STORE_OK) {
        api_reply_store_error(call);
        return;
    }
    if (store_password_set(st, p->row.person, p->hash, clock_wall_s()) != STORE_OK ||
        store_sessions_end_person(st, p->row.person, own_session(call, p->row.person, keep)) !=
            STORE_OK ||
        store_commit(st) != STORE_OK) {
        store_rollback(st);
        api_reply_store_error(call);
        return;
    }
    api_reply_empty(call, 204);
}

static const char *const password_members[] = {"password", "old_password", NULL};

/*
 * Who may set it how: an admin outright (an old password, if sent, is
 * checked all the same), the person with their old password, nobody else.
 */
static int password_allowed(struct api_call *call, json_t *old, struct api_error *err)
{
    int self = call->auth.person[0] != '\0' && strcmp(call->auth.person, call->params[0]) == 0;

    if (api_has_role(call, ROLE_ADMIN))
        return 0;
    if (!self)
        return api_error_set(err, 403, "forbidden", NULL,
                             "only an administrator sets another person's password");
    if (old == NULL)
        return api_error_set(err, 422, "required", "old_password",
                             "'old_password' is required to change your own password");
    return 0;
}

void api_password_set(struct api_call *call)
{
    json_t *body = api_body_object(call), *fresh, *old;
    struct password_change *p;
    struct api_error err;
    const char *why;
    int rc;

    if (body == NULL)
        return;
    /* Rights before the body: someone else's password route says nothing but 403. */
    if (!api_has_role(call, ROLE_ADMIN) &&
        (call->auth.person[0] == '\0' || strcmp(call->auth.person, call->params[0]) != 0)) {
        api_reply_error(call, 403, "forbidden", NULL,
                        "only an administrator sets another person's password");
        return;
    }
    if (body_only_members(body, password_members, &err) != 0 ||
        member_secret(body, "password", 1, &fresh, &err) != 0 ||
        member_secret(body, "old_password", 0, &old, &err) != 0 ||
        password_allowed(call, old, &err) != 0) {
        api_reply_api_error(call, &err);
        return;
    }
    if ((why = account_password_problem(json_string_value(fresh), json_string_length(fresh)))) {
        api_reply_error(call, 422, "invalid", "password", "%s", why);
        return;
    }
    p = xcalloc(1, sizeof(*p));
    p->job.work = password_work;
    p->job.finish = password_finish;
    p->job.free = password_free;
    rc = store_login_of_person(call->app->store, call->params[0], &p->row);
    if (rc != STORE_OK) {
        password_free(&p->job);
        if (rc == STORE_NOTFOUND)
            api_reply_error(call, 404, "not_found", NULL, "no person with id '%s'",
                            call->params[0]);
        else
            api_reply_store_error(call);
        return;
    }
    /* Guessing the old password through a stolen session is held to the same lockout. */
    if (old != NULL && p->row.login[0] != '\0' && lockout_check(call, p->row.login) != 0) {
        password_free(&p->job);
        return;
    }
    secret_take(&p->fresh, fresh);
    if (old != NULL)
        secret_take(&p->old, old);
    api_defer(call, &p->job);
}
