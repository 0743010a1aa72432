/*
 * fuzz_app.c - the shared fixture of the API fuzzers (see fuzz_app.h).
 * Seeding goes through api_invoke, like `convene seed`, so the records are
 * exactly what clients would have created.
 */
#include "fuzz_app.h"

#include "convene/config.h"
#include "convene/store.h"
#include "convene/token.h"
#include "convene/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CONVENE_SOURCE_DIR
#error "CONVENE_SOURCE_DIR must name the repository (for calendars/)"
#endif

/* One placeholder and what it stands for in the current state. */
struct placeholder {
    const char *name;
    char value[64];
};

/* Index names into the placeholder table below. */
enum {
    PH_P0,
    PH_P1,
    PH_P2,
    PH_D0,
    PH_R0,
    PH_R1,
    PH_V0,
    PH_E0,
    PH_E1,
    PH_B0,
    PH_W0,
    PH_T0,
    PH_RID,
    PH_FP0,
    PH_FR0,
    PH_FV0,
    PH_ADMIN,
    PH_SEC,
    PH_LEAD,
    PH_DRV,
    PH_COUNT
};

/*
 * No name is a prefix of another, so the first match is the only one.
 * @RID is the second occurrence of the weekly series @E0; @Fxx are feed
 * tokens with their ".ics"; the last four are bearer token secrets.
 */
static struct placeholder placeholders[PH_COUNT] = {
    [PH_P0] = {"@P0", ""},
    [PH_P1] = {"@P1", ""},
    [PH_P2] = {"@P2", ""},
    [PH_D0] = {"@D0", ""},
    [PH_R0] = {"@R0", ""},
    [PH_R1] = {"@R1", ""},
    [PH_V0] = {"@V0", ""},
    [PH_E0] = {"@E0", ""},
    [PH_E1] = {"@E1", ""},
    [PH_B0] = {"@B0", ""},
    [PH_W0] = {"@W0", ""},
    [PH_T0] = {"@T0", ""},
    [PH_RID] = {"@RID", "2027-03-08T09:00:00"},
    [PH_FP0] = {"@FP0", ""},
    [PH_FR0] = {"@FR0", ""},
    [PH_FV0] = {"@FV0", ""},
    [PH_ADMIN] = {"@ADMIN", ""},
    [PH_SEC] = {"@SEC", ""},
    [PH_LEAD] = {"@LEAD", ""},
    [PH_DRV] = {"@DRV", ""},
};

static struct app the_app;
static int opened;
static unsigned long inputs;
static char dir[256];
static const struct auth admin = {ROLE_ADMIN, "tok_fuzz", "fuzz admin", ""};

static void die(const char *what)
{
    fprintf(stderr, "fuzz fixture: %s\n", what);
    abort();
}

/* POSTs body to path as admin; copies the answer's "id" into id (may be NULL). */
static void seed_post(const char *path, const char *body, char *id, size_t idlen)
{
    struct api_response res;
    json_t *doc;

    api_invoke(&the_app, "POST", path, body, &admin, &res);
    if (res.status != 201) {
        fprintf(stderr, "fuzz fixture: POST %s -> %d %.*s\n", path, res.status, (int)res.body_len,
                res.body ? res.body : "");
        die("seeding failed");
    }
    if (id != NULL) {
        doc = json_loadb(res.body, res.body_len, 0, NULL);
        const char *s = json_string_value(json_object_get(doc, "id"));
        if (s == NULL)
            die("seeded record has no id");
        snprintf(id, idlen, "%s", s);
        json_decref(doc);
    }
    api_response_free(&res);
}

#define SEED(path, id, ...)                                                                        \
    do {                                                                                           \
        char body_[2048];                                                                          \
        snprintf(body_, sizeof(body_), __VA_ARGS__);                                               \
        seed_post(path, body_, id, sizeof(placeholders[0].value));                                 \
    } while (0)

static void feed_token(const char *kind, const char *id, char *out)
{
    char token[TOKEN_STR_MAX];

    token_feed_derive(the_app.feed_key, kind, id, 1, token);
    snprintf(out, sizeof(placeholders[0].value), "%s.ics", token);
}

static void token_for(const char *role, const char *person, char *out)
{
    char secret[TOKEN_STR_MAX], id[ID_STR_MAX];

    if (app_token_create(&the_app, role, person, "fuzz", secret, id) != 0)
        die("token creation failed");
    snprintf(out, sizeof(placeholders[0].value), "%s", secret);
    if (strcmp(role, "secretary") == 0)
        snprintf(placeholders[PH_T0].value, sizeof(placeholders[0].value), "%s", id);
}

static void seed(void)
{
#define V(i) placeholders[i].value
    SEED("/api/v1/people", V(PH_P0), "{\"name\":\"王建国\",\"role\":\"leader\",\"rank\":1}");
    SEED("/api/v1/people", V(PH_P1),
         "{\"name\":\"吴静\",\"role\":\"staff\",\"diet\":\"vegetarian\"}");
    SEED("/api/v1/people", V(PH_P2), "{\"name\":\"张志强\",\"role\":\"leader\",\"rank\":3}");
    SEED("/api/v1/people", V(PH_D0), "{\"name\":\"冯师傅\",\"role\":\"driver\"}");
    SEED("/api/v1/rooms", V(PH_R0),
         "{\"name\":\"第一会议室\",\"capacity\":12,\"features\":[\"video\"],"
         "\"setup_minutes\":15,\"teardown_minutes\":10}");
    SEED("/api/v1/rooms", V(PH_R1), "{\"name\":\"小会议室\",\"capacity\":4}");
    SEED("/api/v1/vehicles", V(PH_V0), "{\"name\":\"轿车\",\"plate\":\"京A·D5678\",\"seats\":5}");
    SEED("/api/v1/events", V(PH_E0),
         "{\"title\":\"党组会\",\"start\":\"2027-03-01T09:00:00\",\"end\":\"2027-03-01T10:30:00\","
         "\"tz\":\"Asia/Shanghai\",\"rrule\":\"FREQ=WEEKLY;BYDAY=MO;COUNT=10\","
         "\"attendees\":[{\"person\":\"%s\"},{\"person\":\"%s\",\"optional\":true}],"
         "\"room\":\"%s\",\"reminders\":[30],\"meals\":[{\"meal\":\"lunch\",\"count\":3}],"
         "\"trips\":[{\"vehicle\":\"%s\",\"driver\":\"%s\",\"depart\":\"2027-03-01T08:00:00\","
         "\"return\":\"2027-03-01T11:00:00\",\"passengers\":[\"%s\"]}]}",
         V(PH_P0), V(PH_P1), V(PH_R0), V(PH_V0), V(PH_D0), V(PH_P0));
    SEED("/api/v1/events", V(PH_E1),
         "{\"title\":\"专题会\",\"start\":\"2027-03-02T14:00:00\",\"end\":\"2027-03-02T15:00:00\","
         "\"attendees\":[{\"person\":\"%s\"}],\"room\":\"%s\",\"confidential\":true}",
         V(PH_P2), V(PH_R1));
    SEED("/api/v1/blocks", V(PH_B0),
         "{\"resource\":{\"type\":\"room\",\"id\":\"%s\"},\"start\":\"2027-04-01T00:00:00\","
         "\"end\":\"2027-04-03T00:00:00\",\"reason\":\"装修\"}",
         V(PH_R1));
    SEED("/api/v1/webhooks", V(PH_W0),
         "{\"url\":\"http://127.0.0.1:9/hook\",\"events\":[\"event.*\"],\"person\":\"%s\"}",
         V(PH_P0));
    token_for("admin", NULL, V(PH_ADMIN));
    token_for("secretary", NULL, V(PH_SEC));
    token_for("leader", V(PH_P0), V(PH_LEAD));
    token_for("driver", V(PH_D0), V(PH_DRV));
    feed_token("person", V(PH_P0), V(PH_FP0));
    feed_token("room", V(PH_R0), V(PH_FR0));
    feed_token("vehicle", V(PH_V0), V(PH_FV0));
#undef V
}

static void remove_files(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal", ".key"};
    char path[512];

    for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
        snprintf(path, sizeof(path), "%s/fuzz.db%s", dir, suffixes[i]);
        unlink(path);
    }
}

static void open_app(void)
{
    struct config cfg;

    config_defaults(&cfg);
    snprintf(cfg.db_path, sizeof(cfg.db_path), "%s/fuzz.db", dir);
    snprintf(cfg.calendars_dir, sizeof(cfg.calendars_dir), "%s/calendars", CONVENE_SOURCE_DIR);
    /* No DNS, no traffic: the URL check stops after parsing. */
    cfg.allow_private_webhooks = 1;
    cfg.durability = DURABILITY_NORMAL;
    if (app_open(&the_app, &cfg) != 0)
        die("app_open failed");
    seed();
    opened = 1;
}

static void cleanup(void)
{
    if (opened)
        app_close(&the_app);
    opened = 0;
    remove_files();
    rmdir(dir);
}

struct app *fuzz_app_get(void)
{
    if (!opened) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(dir, sizeof(dir), "%s/convene-fuzz-XXXXXX", base);
        if (mkdtemp(dir) == NULL)
            die("mkdtemp failed");
        open_app();
        atexit(cleanup);
    }
    return &the_app;
}

void fuzz_app_tick(void)
{
    fuzz_app_get();
    if (++inputs % FUZZ_RESET_EVERY != 0)
        return;
    app_close(&the_app);
    opened = 0;
    remove_files();
    open_app();
}

const struct auth *fuzz_app_admin(void)
{
    return &admin;
}

char *fuzz_app_expand(const uint8_t *data, size_t size, size_t *out_len)
{
    struct strbuf sb;
    size_t i = 0;

    /* The limit only guards against a bug here: inputs are far below it. */
    strbuf_init(&sb, 64 * 1024 * 1024);
    strbuf_append(&sb, "", 0);
    while (i < size) {
        const char *at = memchr(data + i, '@', size - i);
        size_t upto = at ? (size_t)((const uint8_t *)at - data) : size;
        strbuf_append(&sb, (const char *)data + i, upto - i);
        i = upto;
        if (at == NULL)
            break;
        size_t k;
        for (k = 0; k < PH_COUNT; k++) {
            size_t n = strlen(placeholders[k].name);
            if (size - i >= n && memcmp(data + i, placeholders[k].name, n) == 0) {
                strbuf_puts(&sb, placeholders[k].value);
                i += n;
                break;
            }
        }
        if (k == PH_COUNT) {
            strbuf_append(&sb, "@", 1);
            i++;
        }
    }
    return strbuf_detach(&sb, out_len);
}

char *fuzz_dup_exact(const char *s, size_t len)
{
    char *p;

    if (len == 0)
        return NULL;
    p = xmalloc(len);
    memcpy(p, s, len);
    return p;
}
