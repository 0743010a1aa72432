/*
 * test_token.c - core/token.c: token and id formats, base64url and hex
 * encoders against known vectors, SHA-256 hashing, constant-time compare
 * and the derivation of feed tokens.
 */
#include "check.h"

#include "convene/token.h"
#include "convene/util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static int is_b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_generate(void)
{
    enum { N = 1000 };
    static char tokens[N][TOKEN_STR_MAX];
    int generated = 1, well_formed = 1, distinct = 1;

    for (int i = 0; i < N; i++) {
        if (token_generate(tokens[i]) != 0)
            generated = 0;
        const char *t = tokens[i];
        if (strlen(t) != 4 + 22 || strncmp(t, "cvn_", 4) != 0)
            well_formed = 0;
        for (size_t j = 4; j < strlen(t); j++)
            if (!is_b64url_char(t[j]))
                well_formed = 0;
    }
    CHECK(generated);
    CHECK_EQ_INT(strlen(tokens[0]), 26);
    CHECK_EQ_INT(strncmp(tokens[0], TOKEN_PREFIX, strlen(TOKEN_PREFIX)), 0);
    CHECK(well_formed);
    qsort(tokens, N, sizeof(tokens[0]), cmp_str);
    for (int i = 1; i < N; i++)
        if (strcmp(tokens[i - 1], tokens[i]) == 0)
            distinct = 0;
    CHECK(distinct);
}

static void check_b64(const char *in, size_t n, const char *want)
{
    char out[64];
    size_t len = token_base64url((const unsigned char *)in, n, out);

    CHECK_EQ_STR(out, want);
    CHECK_EQ_INT(len, strlen(want));
}

static void test_base64url(void)
{
    /* RFC 4648 section 10, without the padding. */
    check_b64("", 0, "");
    check_b64("f", 1, "Zg");
    check_b64("fo", 2, "Zm8");
    check_b64("foo", 3, "Zm9v");
    check_b64("foob", 4, "Zm9vYg");
    check_b64("fooba", 5, "Zm9vYmE");
    check_b64("foobar", 6, "Zm9vYmFy");
    /* The URL alphabet: standard "+/" become "-_". */
    check_b64("\xfb\xff", 2, "-_8");
    check_b64("\xfb\xef\xbe", 3, "----");
    check_b64("\xff\xff\xff", 3, "____");
    check_b64("\x00\x00\x00", 3, "AAAA");
    /* 16 bytes -> 22 characters, the size inside a token. */
    check_b64("\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f\x41\x14\x93\x51", 16,
              "ABCDEFGHIJKLMNOPQRSTUQ");
}

static void test_hex(void)
{
    char out[16];
    const unsigned char in[] = {0x00, 0x01, 0xab, 0xff, 0x7f};

    token_hex(in, sizeof(in), out);
    CHECK_EQ_STR(out, "0001abff7f");
    token_hex(in, 0, out);
    CHECK_EQ_STR(out, "");
}

static void test_hash(void)
{
    unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], h3[TOKEN_HASH_LEN];
    char hex[2 * TOKEN_HASH_LEN + 1];

    token_hash("abc", 3, h1);
    token_hex(h1, sizeof(h1), hex);
    CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    token_hash("", 0, h2);
    token_hex(h2, sizeof(h2), hex);
    CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* Only len bytes count. */
    token_hash("abcdef", 3, h3);
    CHECK(token_hash_equal(h1, h3) == 1);
    CHECK(token_hash_equal(h1, h2) == 0);
    /* A difference in the last byte only. */
    memcpy(h3, h1, sizeof(h1));
    h3[TOKEN_HASH_LEN - 1] ^= 1;
    CHECK(token_hash_equal(h1, h3) == 0);
    h3[0] ^= 0x80;
    h3[TOKEN_HASH_LEN - 1] ^= 1;
    CHECK(token_hash_equal(h1, h3) == 0);
}

/* The feed token computed independently: base64url(HMAC-SHA256(key, msg)[0..16)). */
static void reference_feed(const unsigned char key[FEED_KEY_LEN], const char *msg,
                           char out[TOKEN_STR_MAX])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    HMAC(EVP_sha256(), key, FEED_KEY_LEN, (const unsigned char *)msg, strlen(msg), mac, &maclen);
    token_base64url(mac, 16, out);
}

static void test_feed_derive(void)
{
    unsigned char key[FEED_KEY_LEN], key2[FEED_KEY_LEN];
    char a[TOKEN_STR_MAX], b[TOKEN_STR_MAX], ref[TOKEN_STR_MAX];

    for (int i = 0; i < FEED_KEY_LEN; i++) {
        key[i] = (unsigned char)i;
        key2[i] = (unsigned char)(i + 1);
    }
    token_feed_derive(key, "room", "room_0123456789abcdef", 1, a);
    token_feed_derive(key, "room", "room_0123456789abcdef", 1, b);
    CHECK_EQ_STR(a, b);
    CHECK_EQ_INT(strlen(a), 22);
    reference_feed(key, "room:room_0123456789abcdef:1", ref);
    CHECK_EQ_STR(a, ref);

    token_feed_derive(key, "person", "room_0123456789abcdef", 1, b);
    CHECK(strcmp(a, b) != 0);
    token_feed_derive(key, "room", "room_0123456789abcdee", 1, b);
    CHECK(strcmp(a, b) != 0);
    token_feed_derive(key, "room", "room_0123456789abcdef", 2, b);
    CHECK(strcmp(a, b) != 0);
    reference_feed(key, "room:room_0123456789abcdef:2", ref);
    CHECK_EQ_STR(b, ref);
    token_feed_derive(key2, "room", "room_0123456789abcdef", 1, b);
    CHECK(strcmp(a, b) != 0);

    /* Long ids must be hashed whole, not cut at an internal buffer. */
    char long1[300], long2[300];
    memset(long1, 'x', sizeof(long1) - 2);
    long1[sizeof(long1) - 2] = '1';
    long1[sizeof(long1) - 1] = '\0';
    memcpy(long2, long1, sizeof(long1));
    long2[sizeof(long2) - 2] = '2';
    token_feed_derive(key, "person", long1, 7, a);
    token_feed_derive(key, "person", long2, 7, b);
    CHECK(strcmp(a, b) != 0);
    char msg[400];
    snprintf(msg, sizeof(msg), "person:%s:7", long1);
    reference_feed(key, msg, ref);
    CHECK_EQ_STR(a, ref);
}

/*
 * "<prefix>_" + 12 hex digits of the time in ms + 12 random hex digits: the
 * time part is now's, ids made in a later millisecond sort after earlier
 * ones (what keeps a group's rows on the same B-tree pages), two made in
 * the same millisecond still differ, and a prefix that would not fit is
 * refused rather than cut.
 */
static void test_id_generate(void)
{
    char a[ID_STR_MAX], b[ID_STR_MAX], later[ID_STR_MAX], digits[ID_TIME_DIGITS + 1];
    int hex_ok = 1;
    int64_t before = clock_wall_ms(), stamped, after;

    CHECK_EQ_INT(token_id_generate("room", a), 0);
    CHECK_EQ_INT(token_id_generate("room", b), 0);
    after = clock_wall_ms();
    CHECK_EQ_INT(strlen(a), strlen("room_") + ID_TIME_DIGITS + 2 * ID_RANDOM_BYTES);
    CHECK_EQ_INT(strncmp(a, "room_", 5), 0);
    for (size_t i = 5; i < strlen(a); i++)
        if (!((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f')))
            hex_ok = 0;
    CHECK(hex_ok);
    CHECK(strcmp(a, b) != 0);
    memcpy(digits, a + 5, ID_TIME_DIGITS);
    digits[ID_TIME_DIGITS] = '\0';
    stamped = (int64_t)strtoull(digits, NULL, 16);
    CHECK(stamped >= before && stamped <= after);

    while (clock_wall_ms() == after)
        ;
    CHECK_EQ_INT(token_id_generate("room", later), 0);
    CHECK(strcmp(later, a) > 0 && strcmp(later, b) > 0);

    CHECK_EQ_INT(token_id_generate("per", a), 0);
    CHECK_EQ_INT(strlen(a), 4 + 24);
    CHECK_EQ_INT(strncmp(a, "per_", 4), 0);
    CHECK_EQ_INT(token_id_generate("toolong", a), -1);
    CHECK_EQ_INT(token_id_generate("sixsix", a), 0);
}

/*
 * Ids come from a pool of random bytes refilled 256 at a time: across
 * several refills none repeats, and a forked child's next id is not its
 * parent's next id (the child starts with an empty pool).
 */
static void test_id_pool(void)
{
    enum { N = 500 };
    static char ids[N][ID_STR_MAX];
    char parent_next[ID_STR_MAX], child_next[ID_STR_MAX] = "";
    int repeats = 0, fds[2];
    pid_t pid;

    for (int i = 0; i < N; i++)
        CHECK_EQ_INT(token_id_generate("evt", ids[i]), 0);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            repeats += strcmp(ids[i], ids[j]) == 0;
    CHECK_EQ_INT(repeats, 0);

    CHECK_EQ_INT(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        char id[ID_STR_MAX];
        _exit(token_id_generate("evt", id) == 0 && write(fds[1], id, sizeof(id)) == sizeof(id)
                  ? 0
                  : 1);
    }
    CHECK(pid > 0);
    CHECK_EQ_INT(token_id_generate("evt", parent_next), 0);
    CHECK_EQ_INT(read(fds[0], child_next, sizeof(child_next)), sizeof(child_next));
    waitpid(pid, NULL, 0);
    close(fds[0]);
    close(fds[1]);
    CHECK_EQ_INT(strncmp(child_next, "evt_", 4), 0);
    CHECK(strcmp(parent_next, child_next) != 0);
}

int main(void)
{
    test_generate();
    test_base64url();
    test_hex();
    test_hash();
    test_feed_derive();
    test_id_generate();
    test_id_pool();
    return check_finish();
}
