/*
 * doc_check.h - shape checks of JSON documents (request bodies and event
 * documents alike), below any protocol: they say what is wrong and with
 * which member, and the caller says it in its own terms (the HTTP layer
 * as a status, the booking layer as a domain error).
 */
#ifndef CONVENE_DOC_CHECK_H
#define CONVENE_DOC_CHECK_H

#include <jansson.h>
#include <stddef.h>

enum doc_verdict {
    DOC_MALFORMED = 1, /* the wrong shape: an unknown member, a wrong type */
    DOC_INVALID,       /* the right shape, a value out of bounds or missing */
};

struct doc_error {
    enum doc_verdict kind;
    const char *code; /* stable machine-readable code */
    char field[128];  /* "" when not about one member */
    char message[256];
};

/* Fills err; returns -1 so checks can `return doc_error_set(...)`. */
int doc_error_set(struct doc_error *err, enum doc_verdict kind, const char *code,
                  const char *field, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Nesting depth of a JSON value: objects and arrays count, scalars are 0. */
int doc_depth(const json_t *value);

/*
 * Checks a text value: characters counted as code points must be at most
 * max_chars; control characters are refused except newline and tab when
 * multiline. Returns 0 or -1.
 */
int doc_text_ok(const char *s, size_t max_chars, int multiline);

/* 1 when s is only spaces, tabs and line breaks (or empty). */
int doc_text_blank(const char *s);

/*
 * Refuses members not named in allowed (NULL-terminated): malformed
 * unknown_field naming it, so a typo never passes silently.
 */
int doc_only_members(json_t *obj, const char *const *allowed, struct doc_error *err);

/*
 * Fetches an optional string member. Returns 1 if present (into *out), 0
 * if absent or null (and not required), -1 with err set otherwise (wrong
 * type malformed; missing, too long, empty or control characters invalid).
 */
int doc_member_string(json_t *obj, const char *name, int required, size_t max_chars,
                      const char **out, struct doc_error *err);

#endif
