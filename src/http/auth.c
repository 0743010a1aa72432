/*
 * auth.c - who is calling: the bearer token's hash is looked up in the
 * store; the role comes from the stored row. Unknown and revoked tokens
 * look the same to the caller (401).
 */
#include "convene/auth.h"
#include "convene/app.h"
#include "convene/store.h"
#include "convene/util.h"

#include <string.h>

#define BEARER "Bearer "
#define AUTH_CACHE_SLOTS 1024 /* power of two; a slot per recently seen token */

/*
 * A direct-mapped table of live tokens: the slot is taken from the hash
 * itself (SHA-256, so evenly spread), a collision simply replaces the
 * older entry. Only tokens found live are kept, never unknown ones.
 */
struct auth_slot {
    int used;
    unsigned char hash[TOKEN_HASH_LEN];
    struct auth auth;
};

struct auth_cache {
    struct auth_slot slots[AUTH_CACHE_SLOTS];
    int64_t data_version;  /* the database's, when the table was last known good */
    uint64_t revocations;  /* store_token_revocations, likewise */
};

void auth_cache_free(struct app *app)
{
    free(app->auth_cache);
    app->auth_cache = NULL;
}

/*
 * The slot for a hash, after dropping everything if a token was revoked
 * here or another process wrote the database.
 */
static struct auth_slot *cache_slot(struct app *app, const unsigned char hash[TOKEN_HASH_LEN])
{
    struct auth_cache *c = app->auth_cache;
    int64_t version;

    if (c == NULL)
        c = app->auth_cache = xcalloc(1, sizeof(*c));
    if (store_data_version(app->store, &version) != STORE_OK)
        return NULL;
    if (version != c->data_version || store_token_revocations(app->store) != c->revocations) {
        memset(c->slots, 0, sizeof(c->slots));
        c->data_version = version;
        c->revocations = store_token_revocations(app->store);
    }
    return &c->slots[(hash[0] | (unsigned)hash[1] << 8) & (AUTH_CACHE_SLOTS - 1)];
}

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
    if (strcmp(s, "canteen") == 0)
        return ROLE_CANTEEN;
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
    struct auth_slot *slot = cache_slot(app, hash);
    if (slot != NULL && slot->used && token_hash_equal(hash, slot->hash)) {
        *out = slot->auth;
        return AUTH_OK;
    }
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
    if (out->role == ROLE_NONE)
        return AUTH_UNKNOWN;
    if (slot != NULL) {
        slot->used = 1;
        memcpy(slot->hash, hash, TOKEN_HASH_LEN);
        slot->auth = *out;
    }
    return AUTH_OK;
}
