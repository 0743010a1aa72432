/*
 * jtext.c - compact JSON text, the same bytes as jansson's json_dumps.
 *
 * jansson writes through a callback per token and formats every integer
 * with snprintf (about 750 instructions each; an event has dozens). Here
 * one buffer grows and digits are written directly. What this writer does
 * not cover (real numbers: their shortest round-trip form is jansson's
 * own; flags other than JSON_COMPACT and JSON_SORT_KEYS) goes to
 * json_dumps, so the output never differs: debug builds compare every
 * text with json_dumps's and abort on a difference.
 *
 * The rules followed, from jansson 2.14's dump.c: a string's '"', '\\'
 * and control characters are escaped (\b \f \n \r \t by name, the others
 * as \u00XX with upper-case hex), everything else is copied as is (strings
 * in jansson values are valid UTF-8); integers in decimal; objects in
 * insertion order, or with JSON_SORT_KEYS by key bytes; no spaces.
 */
#include "convene/jtext.h"

#include "convene/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JTEXT_MAX (64u * 1024 * 1024) /* beyond it json_dumps is asked, which has no limit */
#define JTEXT_DEPTH 64 /* deeper (never here: bodies nest 32 at most) goes to json_dumps */

static int put_value(struct strbuf *sb, const json_t *v, size_t flags, int depth);

static void put_string(struct strbuf *sb, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;

    strbuf_append(sb, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        strbuf_append(sb, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        strbuf_append(sb, esc, n);
    }
    strbuf_append(sb, s + run, len - run);
    strbuf_append(sb, "\"", 1);
}

static void put_integer(struct strbuf *sb, json_int_t v)
{
    char digits[24];
    size_t n = sizeof(digits);
    /* Negated as unsigned: the most negative value has no positive counterpart. */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do {
        digits[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        digits[--n] = '-';
    strbuf_append(sb, digits + n, sizeof(digits) - n);
}

struct key {
    const char *s;
    size_t len;
};

static int key_compare(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static int put_object(struct strbuf *sb, const json_t *obj, size_t flags, int depth)
{
    size_t n = json_object_size(obj), k = 0;
    struct key *keys;
    const char *key;
    json_t *v;
    int rc = 0;

    strbuf_append(sb, "{", 1);
    if (!(flags & JSON_SORT_KEYS)) {
        json_object_foreach((json_t *)obj, key, v) {
            if (k++ > 0)
                strbuf_append(sb, ",", 1);
            put_string(sb, key, json_object_iter_key_len(json_object_key_to_iter(key)));
            strbuf_append(sb, ":", 1);
            if ((rc = put_value(sb, v, flags, depth + 1)) != 0)
                return rc;
        }
        strbuf_append(sb, "}", 1);
        return 0;
    }
    keys = xcalloc(n ? n : 1, sizeof(*keys));
    json_object_foreach((json_t *)obj, key, v) {
        keys[k].s = key;
        keys[k++].len = json_object_iter_key_len(json_object_key_to_iter(key));
    }
    qsort(keys, n, sizeof(*keys), key_compare);
    for (k = 0; k < n && rc == 0; k++) {
        if (k > 0)
            strbuf_append(sb, ",", 1);
        put_string(sb, keys[k].s, keys[k].len);
        strbuf_append(sb, ":", 1);
        rc = put_value(sb, json_object_getn(obj, keys[k].s, keys[k].len), flags, depth + 1);
    }
    free(keys);
    strbuf_append(sb, "}", 1);
    return rc;
}

/* 0, or -1 when json_dumps must write this value (a real, too deep). */
static int put_value(struct strbuf *sb, const json_t *v, size_t flags, int depth)
{
    size_t i;

    if (depth > JTEXT_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return put_object(sb, v, flags, depth);
    case JSON_ARRAY:
        strbuf_append(sb, "[", 1);
        for (i = 0; i < json_array_size(v); i++) {
            if (i > 0)
                strbuf_append(sb, ",", 1);
            if (put_value(sb, json_array_get(v, i), flags, depth + 1) != 0)
                return -1;
        }
        strbuf_append(sb, "]", 1);
        return 0;
    case JSON_STRING:
        put_string(sb, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        put_integer(sb, json_integer_value(v));
        return 0;
    case JSON_TRUE:
        strbuf_append(sb, "true", 4);
        return 0;
    case JSON_FALSE:
        strbuf_append(sb, "false", 5);
        return 0;
    case JSON_NULL:
        strbuf_append(sb, "null", 4);
        return 0;
    default:
        return -1; /* JSON_REAL */
    }
}

#ifndef NDEBUG
static void jtext_check(const json_t *value, size_t flags, const char *text)
{
    char *want = json_dumps(value, flags);

    if (want == NULL || strcmp(want, text) != 0) {
        log_error("%s: jtext %s, json_dumps %s", __func__, text, want ? want : "NULL");
        abort();
    }
    free(want);
}
#endif

char *jtext_dump(const json_t *value, size_t flags)
{
    struct strbuf sb;
    char *text;

    if ((flags & ~(size_t)(JSON_COMPACT | JSON_SORT_KEYS)) != (size_t)0 ||
        !(flags & JSON_COMPACT) || value == NULL ||
        (!json_is_object(value) && !json_is_array(value)))
        return json_dumps(value, flags);
    strbuf_init(&sb, JTEXT_MAX);
    if (put_value(&sb, value, flags, 0) != 0 || sb.overflow) {
        strbuf_free(&sb);
        return json_dumps(value, flags);
    }
    text = strbuf_detach(&sb, NULL);
#ifndef NDEBUG
    jtext_check(value, flags, text);
#endif
    return text;
}
