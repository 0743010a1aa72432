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

/* Frees the remembered tokens (app_close). */
void auth_cache_free(struct app *app);

#endif
