/*
 * test_jtext.c - jtext_dump gives json_dumps's bytes: a table of awkward
 * values (escapes, control characters, NUL inside a string, UTF-8, the
 * integer extremes, empty and nested containers, key order with and
 * without JSON_SORT_KEYS, reals that go to json_dumps), then thousands of
 * random documents compared text for text.
 */
#include "check.h"

#include "convene/jtext.h"

#include <stdint.h>

static void same_text(json_t *v, size_t flags)
{
    char *want = json_dumps(v, flags), *got = jtext_dump(v, flags);

    CHECK_EQ_STR(got, want);
    free(want);
    free(got);
}

static void test_table(void)
{
    static const char *const docs[] = {
        "{}",
        "[]",
        "{\"b\":1,\"a\":2,\"aa\":3,\"\":4}",
        "{\"s\":\"quote \\\" backslash \\\\ slash / tab \\t nl \\n cr \\r bs \\b ff \\f\"}",
        "[\"\\u0001\\u001f\\u007f\", \"会议 清真 ✓ 😀\", \"\"]",
        "[9223372036854775807, -9223372036854775808, 0, -1, 10, 1234567890]",
        "[true, false, null, [[], {}], {\"x\": [1, {\"y\": null}]}]",
        "{\"z\": {\"b\": [3, 2, 1], \"a\": {\"d\": 1, \"c\": 2}}, \"y\": \"\"}",
        "{\"hours\": 1.5, \"n\": 2}",
        "[0.1, 1e300, -2.0]",
    };
    static const size_t flags[] = {JSON_COMPACT, JSON_COMPACT | JSON_SORT_KEYS};
    json_t *nul = json_pack("{s:s%}", "k", "a\0b", (size_t)3);

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json_error_t e;
        json_t *v = json_loads(docs[i], 0, &e);
        CHECK(v != NULL);
        for (size_t f = 0; f < 2 && v != NULL; f++)
            same_text(v, flags[f]);
        json_decref(v);
    }
    same_text(nul, JSON_COMPACT);
    json_decref(nul);
    /* Not compact, or not a container: json_dumps's answer (spaces; NULL). */
    nul = json_pack("{s:i}", "a", 1);
    same_text(nul, 0);
    json_decref(nul);
    nul = json_string("alone");
    CHECK(jtext_dump(nul, JSON_COMPACT) == NULL);
    json_decref(nul);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A random string: ASCII with every control character, and some UTF-8. */
static json_t *random_string(void)
{
    static const char *const pieces[] = {"a", "Z", "\"", "\\", "/", "\x01", "\x1f", "\x7f",
                                         "\n", "\t", "会", "😀", " ", "é", "{", "]"};
    char buf[128] = "";
    size_t len = 0, n = next() % 12;

    for (size_t i = 0; i < n; i++) {
        const char *p = pieces[next() % (sizeof(pieces) / sizeof(pieces[0]))];
        memcpy(buf + len, p, strlen(p));
        len += strlen(p);
    }
    return json_stringn(buf, len);
}

static json_t *random_value(int depth)
{
    switch (next() % (depth > 4 ? 5 : 7)) {
    case 0: return json_integer((json_int_t)(next() % 3 == 0 ? next() : next() % 1000) *
                                (next() % 2 ? 1 : -1));
    case 1: return random_string();
    case 2: return json_true();
    case 3: return json_false();
    case 4: return json_null();
    case 5: {
        json_t *a = json_array();
        for (size_t i = next() % 5; i > 0; i--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (size_t i = next() % 6; i > 0; i--) {
            json_t *k = random_string();
            json_object_setn_new(o, json_string_value(k), json_string_length(k),
                                 random_value(depth + 1));
            json_decref(k);
        }
        return o;
    }
    }
}

static void test_random(void)
{
    int differ = 0;

    for (int i = 0; i < 5000; i++) {
        json_t *v = json_object();
        json_object_set_new(v, "v", random_value(0));
        for (int f = 0; f < 2; f++) {
            size_t flags = f ? JSON_COMPACT | JSON_SORT_KEYS : JSON_COMPACT;
            char *want = json_dumps(v, flags), *got = jtext_dump(v, flags);
            if (want == NULL || got == NULL || strcmp(want, got) != 0) {
                if (differ++ == 0)
                    fprintf(stderr, "    first difference:\n    %s\n    %s\n", want ? want : "NULL",
                            got ? got : "NULL");
            }
            free(want);
            free(got);
        }
        json_decref(v);
    }
    CHECK_EQ_INT(differ, 0);
}

int main(void)
{
    test_table();
    test_random();
    return check_finish();
}
