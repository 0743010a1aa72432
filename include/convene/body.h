/*
 * json.h - request-body parsing and validation on jansson, and rendering
 * of records. Validation reports the first problem with its field path,
 * before anything is written.
 */
#ifndef CONVENE_JSON_H
#define CONVENE_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "convene/api.h"
#include "convene/record.h"

/*
 * Parses body as a JSON object of at most API_MAX_JSON_DEPTH nesting.
 * Invalid JSON, invalid UTF-8, duplicate keys, NUL characters or a
 * non-object -> 400. *out is owned by the caller.
 */
int body_parse_object(const char *body, size_t len, json_t **out, struct api_error *err);

/*
 * Refuses members not named in allowed (NULL-terminated): 400
 * unknown_field naming it, so a typo never passes silently.
 */
int body_only_members(json_t *obj, const char *const *allowed, struct api_error *err);

/*
 * Fetches an optional string member. Returns 1 if present (into *out), 0
 * if absent or null (and not required), -1 with err set otherwise
 * (wrong type 400, too long / empty / control characters 422).
 */
int body_member_string(json_t *obj, const char *name, int required, size_t max_chars,
                       const char **out, struct api_error *err);

/*
 * Validates obj against type's field table and applies it to rec. With
 * create set, required fields must be present and absent INT fields take
 * their default; otherwise (PATCH) only present members change, and null
 * clears an optional field.
 */
int body_record_apply(json_t *obj, const struct record_type *type, int create, struct record *rec,
                      struct api_error *err);

/* The JSON object of a record: id, the fields, version, created/updated. */
json_t *body_record_render(const struct record_type *type, const struct record *rec);

#endif
