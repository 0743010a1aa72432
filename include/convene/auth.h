/*
 * auth.h - identifying the caller of an API request from its bearer token.
 */
#ifndef CONVENE_AUTH_H
#define CONVENE_AUTH_H

#include <stddef.h>

#include "convene/api.h"

enum auth_result {
    AUTH_OK = 0,
    AUTH_MISSING = -1, /* no or malformed Authorization header -> 401 */
    AUTH_UNKNOWN = -2, /* no such live token -> 401 */
    AUTH_ERROR = -3,   /* storage failure -> 500 */
};

/* "admin" -> ROLE_ADMIN ...; ROLE_NONE if unknown. */
enum role auth_role_parse(const char *s);

/*
 * Resolves an Authorization header value into *out. Live tokens are
 * remembered (by hash) so a request costs no database lookup; the memory is
 * dropped after any revocation (store_token_revocations) and whenever
 * another process has written the database (SQLite's data_version), so a
 * revocation takes effect at once.
 */
int auth_identify(struct app *app, const char *header, size_t len, struct auth *out);

#define AUTH_SESSION_COOKIE "convene_session"

/*
 * Finds the session cookie's value in a Cookie header: 1 and the id in
 * out, or 0 when absent or malformed.
 */
int auth_cookie_session(const char *header, size_t len, char out[48]);

/*
 * Resolves a Cookie header's session into *out (the person's access as
 * role, their id and name) and its id into session (for CSRF). AUTH_MISSING without
 * the cookie, AUTH_UNKNOWN when the session is unknown, over (idle or
 * absolute limit) or its person has no access. A live session's last use
 * is recorded now and then.
 */
int auth_identify_session(struct app *app, const char *cookie, size_t len, struct auth *out,
                          char session[48]);

/*
 * Whether a state-changing request may go on: always without a session
 * (bearer tokens); with one, when header is the session's CSRF token.
 */
int auth_csrf_ok(const struct app *app, const char *session, const char *header, size_t len);

/* Frees the remembered tokens (app_close). */
void auth_cache_free(struct app *app);

#endif
