/*
 * auth.c - who is calling: the bearer token's hash is looked up in the
 * store; the role comes from the stored row. Unknown and revoked tokens
 * look the same to the caller (401). The console signs in instead with a
 * session cookie, whose id is likewise found by its hash; its role is the
 * person's access at the time of each request.
 */
#include "convene/auth.h"
#include "convene/account.h"
#include "convene/app.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdio.h>
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

int auth_cookie_session(const char *header, size_t len, char out[ACCOUNT_SESSION_STR])
{
    static const char name[] = AUTH_SESSION_COOKIE "=";
    const size_t nlen = sizeof(name) - 1;
    const char *p = header, *end = header + len;

    out[0] = '\0';
    /* Cookie: a=1; convene_session=ID; b=2 (RFC 6265 section 4.2.1) */
    while (p != NULL && p < end) {
        while (p < end && (*p == ' ' || *p == ';'))
            p++;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi ? semi : end;
        if ((size_t)(stop - p) > nlen && memcmp(p, name, nlen) == 0) {
            size_t vlen = (size_t)(stop - p) - nlen;
            while (vlen > 0 && p[nlen + vlen - 1] == ' ')
                vlen--;
            if (vlen == 0 || vlen >= ACCOUNT_SESSION_STR)
                return 0;
            memcpy(out, p + nlen, vlen);
            out[vlen] = '\0';
            return 1;
        }
        p = semi;
    }
    return 0;
}

/* Moves last_seen forward now and then, in a transaction that needs no fsync. */
static void session_touch(struct app *app, const unsigned char hash[TOKEN_HASH_LEN],
                          const struct session_times *t, int64_t now_ms)
{
    struct store *st = app->store;

    if (store_in_transaction(st) ||
        !account_session_touch_due(t, app->cfg.session_idle_s * 1000, now_ms))
        return;
    /* A lost update only shortens an idle session by a few seconds: no fsync for it. */
    if (store_begin_derived(st) != STORE_OK)
        return;
    if (store_session_touch(st, hash, now_ms) != STORE_OK || store_commit(st) != STORE_OK)
        store_rollback(st);
    store_durability_restore(st);
}

int auth_identify_session(struct app *app, const char *cookie, size_t len, struct auth *out,
                          char session[ACCOUNT_SESSION_STR])
{
    char id[ACCOUNT_SESSION_STR];
    unsigned char hash[TOKEN_HASH_LEN], hex[8];
    struct session_row row;
    struct session_times t;
    int64_t now_ms = clock_wall_ms();
    int rc;

    memset(out, 0, sizeof(*out));
    session[0] = '\0';
    if (cookie == NULL || !auth_cookie_session(cookie, len, id))
        return AUTH_MISSING;
    token_hash(id, strlen(id), hash);
    rc = store_session_find(app->store, hash, &row);
    if (rc == STORE_NOTFOUND)
        return AUTH_UNKNOWN;
    if (rc != STORE_OK)
        return AUTH_ERROR;
    t.created_ms = row.created_ms;
    t.last_seen_ms = row.last_seen_ms;
    if (!account_session_live(&t, app->cfg.session_idle_s * 1000, app->cfg.session_max_s * 1000,
                              now_ms))
        return AUTH_UNKNOWN;
    out->role = auth_role_parse(account_access_effective(row.who.access, row.who.role));
    if (out->role == ROLE_NONE)
        return AUTH_UNKNOWN;
    session_touch(app, hash, &t, now_ms);
    /* The audit trail names a session by a prefix of its hash, never by its id. */
    memcpy(hex, hash, sizeof(hex));
    char prefix[2 * sizeof(hex) + 1];
    token_hex(hex, sizeof(hex), prefix);
    snprintf(out->token_id, sizeof(out->token_id), "ses_%s", prefix);
    size_t nlen = strlen(row.who.name);
    nlen = utf8_valid_prefix(row.who.name, nlen < sizeof(out->name) ? nlen : sizeof(out->name) - 1);
    memcpy(out->name, row.who.name, nlen);
    out->name[nlen] = '\0';
    memcpy(out->person, row.who.person, sizeof(out->person));
    memcpy(session, id, ACCOUNT_SESSION_STR);
    return AUTH_OK;
}

int auth_csrf_ok(const struct app *app, const char *session, const char *header, size_t len)
{
    char expected[ACCOUNT_CSRF_STR];

    if (session[0] == '\0')
        return 1; /* bearer tokens are not sent by browsers on their own */
    if (header == NULL)
        return 0;
    account_csrf(app->csrf_key, session, expected);
    return account_secret_equal(header, len, expected);
}
