/*
 * doc_check.c - shape checks of JSON documents shared by the HTTP layer
 * (request bodies) and the booking layer (event documents). Verdicts, not
 * statuses: each caller renders them in its own terms.
 */
#include "convene/doc_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int doc_error_set(struct doc_error *err, enum doc_verdict kind, const char *code,
                  const char *field, const char *fmt, ...)
{
    va_list ap;

    err->kind = kind;
    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

int doc_depth(const json_t *value)
{
    int deepest = 0;

    if (json_is_object(value)) {
        const char *key;
        json_t *member;
        json_object_foreach((json_t *)value, key, member) {
            int d = doc_depth(member);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    if (json_is_array(value)) {
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) {
            int d = doc_depth(item);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    /* A scalar adds no nesting: {"a": 1} is one level deep, as {} is. */
    return 0;
}

int doc_only_members(json_t *obj, const char *const *allowed, struct doc_error *err)
{
    const char *key;
    json_t *member;

    json_object_foreach(obj, key, member) {
        size_t i;
        for (i = 0; allowed[i] != NULL; i++)
            if (strcmp(allowed[i], key) == 0)
                break;
        if (allowed[i] == NULL) {
            char shown[64];
            /* Echo a bounded, printable prefix of the offending name. */
            snprintf(shown, sizeof(shown), "%s", key);
            for (char *p = shown; *p; p++)
                if ((unsigned char)*p < 0x20)
                    *p = '?';
            return doc_error_set(err, DOC_MALFORMED, "unknown_field", shown, "unknown field '%s'", shown);
        }
    }
    (void)member;
    return 0;
}

int doc_text_ok(const char *s, size_t max_chars, int multiline)
{
    size_t chars = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            chars++; /* count code points: every byte that does not continue one */
        if (*p < 0x20 || *p == 0x7F) {
            if (!(multiline && (*p == '\n' || *p == '\t' || *p == '\r')))
                return -1;
        }
    }
    return chars <= max_chars ? 0 : -1;
}

int doc_text_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
    return 1;
}

int doc_member_string(json_t *obj, const char *name, int required, size_t max_chars,
                      const char **out, struct doc_error *err)
{
    json_t *v = json_object_get(obj, name);

    if (v == NULL || json_is_null(v)) {
        if (required)
            return doc_error_set(err, DOC_INVALID, "required", name, "'%s' is required", name);
        return 0;
    }
    if (!json_is_string(v))
        return doc_error_set(err, DOC_MALFORMED, "wrong_type", name, "'%s' must be a string", name);
    if (doc_text_ok(json_string_value(v), max_chars, 0) != 0)
        return doc_error_set(err, DOC_INVALID, "invalid", name,
                             "'%s' must be at most %zu characters without control characters",
                             name, max_chars);
    if (required && doc_text_blank(json_string_value(v)))
        return doc_error_set(err, DOC_INVALID, "empty", name, "'%s' must not be empty", name);
    *out = json_string_value(v);
    return 1;
}
