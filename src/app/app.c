/*
 * app.c - bringing the process state up and down: the store, the feed key
 * and the first admin token. Shared by `serve`, `seed` and `token`.
 */
#include "convene/app.h"
#include "convene/account.h"
#include "convene/api.h"
#include "convene/auth.h"
#include "convene/event_docs.h"
#include "convene/feed.h"
#include "convene/metrics.h"
#include "convene/secretbox.h"
#include "convene/store.h"
#include "convene/util.h"
#include "convene/web_assets.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_BOOTSTRAP_TOKEN_LEN 16
/*
 * Parsed event documents kept for the read paths. 16 MiB holds about 4,000
 * typical meetings (bench/load.py: ~1 KB of JSON each, ~4x once parsed).
 */
#define APP_EVENT_DOCS_BYTES (16u << 20)

/*
 * The feed key lives beside the database, not in it: a leaked database
 * copy then reveals no feed URLs (only their hashes are stored).
 */
static int feed_key_load(const char *path, unsigned char key[FEED_KEY_LEN])
{
    int fd = open(path, O_RDONLY);

    if (fd >= 0) {
        ssize_t n = read(fd, key, FEED_KEY_LEN);
        /* A key another user can read gives them every feed URL: tighten an old one. */
        if (store_file_private(path, 0) != 0)
            log_error("cannot make feed key file %s private: %s", path, strerror(errno));
        close(fd);
        if (n != FEED_KEY_LEN) {
            log_error("feed key file %s is damaged (expected %d bytes)", path, FEED_KEY_LEN);
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT) {
        log_error("cannot read feed key file %s: %s", path, strerror(errno));
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || token_random_bytes(key, FEED_KEY_LEN) != 0 ||
        write(fd, key, FEED_KEY_LEN) != FEED_KEY_LEN || fsync(fd) != 0) {
        log_error("cannot create feed key file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    log_info("created feed key %s (keep it with the database backups)", path);
    return 0;
}

/*
 * Feed tokens are an HMAC of kind, id and generation: OpenSSL's one-shot
 * HMAC cost 14% of a record GET. They only change with the generation, so
 * the last token per slot is kept (direct-mapped by a hash of the message;
 * a collision replaces the older one).
 */
#define FEED_TOKEN_SLOTS 4096

struct feed_token_slot {
    char msg[96]; /* "kind:id:generation"; "" = empty */
    char token[TOKEN_STR_MAX];
};

/*
 * Webhook secrets are sealed at rest with a key derived from the key file
 * (a different purpose from feed tokens, so a different key), so that the
 * database alone does not reveal them. Secrets older versions stored in the
 * clear are sealed now.
 */
static int seal_webhook_secrets(struct app *app)
{
    static const char purpose[] = "convene webhook secrets v1";
    unsigned char key[EVP_MAX_MD_SIZE];
    unsigned int keylen = 0;
    int sealed = 0;

    if (HMAC(EVP_sha256(), app->feed_key, FEED_KEY_LEN, (const unsigned char *)purpose,
             sizeof(purpose) - 1, key, &keylen) == NULL ||
        keylen < SECRETBOX_KEY_LEN) {
        log_error("cannot derive the key that seals webhook secrets");
        return -1;
    }
    store_set_secret_key(app->store, key);
    OPENSSL_cleanse(key, sizeof(key));
    if (store_webhooks_seal_all(app->store, &sealed) != STORE_OK) {
        log_error("cannot seal the stored webhook secrets");
        return -1;
    }
    if (sealed > 0)
        log_info("sealed the secrets of %d webhook endpoints stored in the clear", sealed);
    return 0;
}

/* CSRF tokens are an HMAC of the session id under a key of their own purpose. */
static int derive_csrf_key(struct app *app)
{
    static const char purpose[] = "convene csrf v1";
    unsigned char key[EVP_MAX_MD_SIZE];
    unsigned int keylen = 0;

    if (HMAC(EVP_sha256(), app->feed_key, FEED_KEY_LEN, (const unsigned char *)purpose,
             sizeof(purpose) - 1, key, &keylen) == NULL ||
        keylen < sizeof(app->csrf_key)) {
        log_error("cannot derive the key of CSRF tokens");
        return -1;
    }
    memcpy(app->csrf_key, key, sizeof(app->csrf_key));
    OPENSSL_cleanse(key, sizeof(key));
    return 0;
}

/*
 * One-tap links are an HMAC of the action they allow under a key of their
 * own purpose (taplink.h): rotating nothing else, a link survives restarts
 * and can be rendered again at each attempt of its delivery.
 */
static int derive_taplink_key(struct app *app)
{
    static const char purpose[] = "convene one-tap links v1";
    unsigned char key[EVP_MAX_MD_SIZE];
    unsigned int keylen = 0;

    if (HMAC(EVP_sha256(), app->feed_key, FEED_KEY_LEN, (const unsigned char *)purpose,
             sizeof(purpose) - 1, key, &keylen) == NULL ||
        keylen < sizeof(app->taplink_key)) {
        log_error("cannot derive the key of one-tap links");
        return -1;
    }
    memcpy(app->taplink_key, key, sizeof(app->taplink_key));
    OPENSSL_cleanse(key, sizeof(key));
    return 0;
}

static void on_event_write(void *arg, const char *event_id)
{
    event_docs_forget(arg, event_id);
}

int app_open(struct app *app, const struct config *cfg)
{
    char key_path[CONFIG_PATH_MAX + 8];

    /*
     * jansson's allocations follow the same policy as ours: exhaustion aborts.
     * Without this a json_dumps or json_object_set under memory pressure returns
     * NULL or fails quietly, and several callers use the result unchecked.
     */
    json_set_alloc_funcs(xmalloc, free);
    memset(app, 0, sizeof(*app));
    app->cfg = *cfg;
    app->started_us = clock_monotonic_us();
    if (cfg->key_path[0] != '\0')
        snprintf(key_path, sizeof(key_path), "%s", cfg->key_path);
    else
        snprintf(key_path, sizeof(key_path), "%s.key", cfg->db_path);
    if (store_open(cfg->db_path, cfg->durability, &app->store) != STORE_OK)
        return -1;
    if (feed_key_load(key_path, app->feed_key) != 0 || seal_webhook_secrets(app) != 0 ||
        derive_csrf_key(app) != 0 || derive_taplink_key(app) != 0 || account_init() != 0) {
        store_close(app->store);
        app->store = NULL;
        return -1;
    }
    workcal_init(&app->workcal);
    workcal_parse_hours(&app->workcal, cfg->working_hours);
    /* A wrong --web fails the start; the compiled-in files are prepared when first asked for. */
    if (app_load_workcal(app) != 0 ||
        (cfg->web_dir[0] != '\0' && web_assets_open(cfg->web_dir, cfg->tz, &app->web) != 0)) {
        workcal_free(&app->workcal);
        store_close(app->store);
        app->store = NULL;
        return -1;
    }
    app->metrics = metrics_new(api_route_count());
    app->feeds = feed_cache_new();
    app->event_docs = event_docs_new(app->store, APP_EVENT_DOCS_BYTES);
    app->feed_tokens = xcalloc(FEED_TOKEN_SLOTS, sizeof(*app->feed_tokens));
    store_on_event_write(app->store, on_event_write, app->event_docs);
    if (cfg->public_url[0] != '\0')
        snprintf(app->public_url, sizeof(app->public_url), "%s", cfg->public_url);
    else
        snprintf(app->public_url, sizeof(app->public_url), "http://%s:%d", cfg->listen_host,
                 cfg->listen_port);
    return 0;
}

void app_close(struct app *app)
{
    workcal_free(&app->workcal);
    store_close(app->store);
    metrics_free(app->metrics);
    feed_cache_free(app->feeds);
    event_docs_free(app->event_docs);
    auth_cache_free(app);
    free(app->feed_tokens);
    app->feed_tokens = NULL;
    web_assets_free(app->web);
    app->web = NULL;
    json_decref(app->record_cache.texts);
    app->record_cache.texts = NULL;
    app->event_docs = NULL;
    app->feeds = NULL;
    app->store = NULL;
    app->metrics = NULL;
}

/* Stores a token whose secret is already chosen. */
static int token_store(struct app *app, const char *secret, const char *role, const char *person,
                       const char *name, char id_out[ID_STR_MAX])
{
    struct token_record tok;

    memset(&tok, 0, sizeof(tok));
    if (token_id_generate("tok", tok.id) != 0)
        return -1;
    snprintf(tok.name, sizeof(tok.name), "%s", name);
    snprintf(tok.role, sizeof(tok.role), "%s", role);
    snprintf(tok.person, sizeof(tok.person), "%s", person ? person : "");
    token_hash(secret, strlen(secret), tok.hash);
    tok.created_at = clock_wall_s();
    if (store_token_insert(app->store, &tok) != STORE_OK)
        return -1;
    if (id_out != NULL)
        memcpy(id_out, tok.id, ID_STR_MAX);
    return 0;
}

int app_token_create(struct app *app, const char *role, const char *person, const char *name,
                     char token_out[TOKEN_STR_MAX], char id_out[ID_STR_MAX])
{
    if (token_generate(token_out) != 0)
        return -1;
    return token_store(app, token_out, role, person, name, id_out);
}

int app_bootstrap_admin(struct app *app, FILE *out)
{
    const char *preset = getenv("CONVENE_ADMIN_TOKEN");
    char token[TOKEN_STR_MAX];
    int64_t admins = 0;

    if (store_token_count_role(app->store, "admin", &admins) != STORE_OK)
        return -1;
    if (admins > 0)
        return 0;
    if (preset != NULL && *preset != '\0') {
        if (strlen(preset) < MIN_BOOTSTRAP_TOKEN_LEN || strlen(preset) > 256) {
            log_error("CONVENE_ADMIN_TOKEN must be %d to 256 characters",
                      MIN_BOOTSTRAP_TOKEN_LEN);
            return -1;
        }
        if (token_store(app, preset, "admin", NULL, "bootstrap admin", NULL) != 0)
            return -1;
        log_info("created the admin token given in CONVENE_ADMIN_TOKEN");
        return 0;
    }
    if (app_token_create(app, "admin", NULL, "bootstrap admin", token, NULL) != 0)
        return -1;
    fprintf(out, "admin token (shown once, store it now): %s\n", token);
    fflush(out);
    return 0;
}

void app_feed_url(const struct app *app, const char *kind, const char *id, int64_t generation,
                  char *out, size_t cap)
{
    char token[TOKEN_STR_MAX], msg[96];
    struct feed_token_slot *slot = NULL;
    int n = snprintf(msg, sizeof(msg), "%s:%s:%lld", kind, id, (long long)generation);

    if (app->feed_tokens != NULL && n > 0 && n < (int)sizeof(msg)) {
        uint32_t h = 2166136261u;
        for (const char *p = msg; *p; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
        slot = &app->feed_tokens[h & (FEED_TOKEN_SLOTS - 1)];
    }
    if (slot != NULL && strcmp(slot->msg, msg) == 0) {
        memcpy(token, slot->token, sizeof(token));
    } else {
        token_feed_derive(app->feed_key, kind, id, generation, token);
        if (slot != NULL) {
            memcpy(slot->msg, msg, (size_t)n + 1);
            memcpy(slot->token, token, sizeof(token));
        }
    }
    snprintf(out, cap, "%s/feeds/%s.ics", app->public_url, token);
}

/*
 * Whether a base URL can be put into a JSON string and a markdown link as
 * it is: the URL goes into stored bodies byte for byte at send time, so
 * nothing there may need escaping (quotes, backslashes, brackets, spaces).
 */
static int app_taplink_base_ok(const char *base)
{
    for (const unsigned char *p = (const unsigned char *)base; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"\\()<>`", *p) != NULL)
            return 0;
    return 1;
}

int app_taplink_url(const struct app *app, const char *ref, char *out, size_t cap)
{
    char token[TAPLINK_TOKEN_LEN + 1];
    int n;

    /* Without --public-url the base is this listener's address: no use on a phone. */
    if (app->cfg.public_url[0] == '\0' || !app_taplink_base_ok(app->public_url))
        return -1;
    taplink_derive(app->taplink_key, ref, token);
    n = snprintf(out, cap, "%s" TAPLINK_PATH "%s", app->public_url, token);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}
