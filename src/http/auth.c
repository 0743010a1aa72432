/*
 * auth.c - who is calling: the bearer token's hash is looked up in the
 * store; the role comes from the stored row. Unknown and revoked tokens
 * look the same to the caller (401).
 */
#include "convene/auth.h"
#include "convene/store.h"

#include <string.h>

#define BEARER "Bearer "

enum role auth_role_parse(const char *s)
{
    if (strcmp(s, "admin") == 0)
        return ROLE_ADMIN;
    if (strcmp(s, "secretary") == 0)
        return ROLE_SECRETARY;
    if (strcmp(s, "leader") == 0)
        return ROLE_LEADER;
    if (strcmp(s, "driver") == 0)
        return ROLE_DRIVER;
    return ROLE_NONE;
}

int auth_identify(struct app *app, const char *header, size_t len, struct auth *out)
{
    unsigned char hash[TOKEN_HASH_LEN];
    struct token_record tok;
    const size_t prefix = sizeof(BEARER) - 1;
    int rc;

    memset(out, 0, sizeof(*out));
    if (header == NULL || len <= prefix || strncasecmp(header, BEARER, prefix) != 0)
        return AUTH_MISSING;
    header += prefix;
    len -= prefix;
    if (len > 256)
        return AUTH_UNKNOWN;
    token_hash(header, len, hash);
    rc = store_token_find(app->store, hash, &tok);
    if (rc == STORE_NOTFOUND)
        return AUTH_UNKNOWN;
    if (rc != STORE_OK)
        return AUTH_ERROR;
    /* The index lookup found the row; confirm in constant time all the same. */
    if (!token_hash_equal(hash, tok.hash))
        return AUTH_UNKNOWN;
    out->role = auth_role_parse(tok.role);
    memcpy(out->token_id, tok.id, sizeof(out->token_id));
    memcpy(out->name, tok.name, sizeof(out->name));
    memcpy(out->person, tok.person, sizeof(out->person));
    return out->role == ROLE_NONE ? AUTH_UNKNOWN : AUTH_OK;
}
