/*
 * record.h - the shape of simple resources (people, rooms, vehicles).
 * One table of field specs per kind drives JSON validation in api/, row
 * mapping in store/ and rendering, so a new field is added in one place
 * (plus a migration).
 */
#ifndef CONVENE_RECORD_H
#define CONVENE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "convene/token.h"

enum field_type {
    FIELD_TEXT,      /* JSON string, SQL TEXT */
    FIELD_INT,       /* JSON integer, SQL INTEGER */
    FIELD_TEXT_LIST, /* JSON array of strings, SQL TEXT joined by '\n' */
};

#define FIELD_REQUIRED 0x1 /* must be present on create; never null */
/* INT fields are never null: absent on create means default_int. */
#define FIELD_NONEMPTY 0x2 /* text must contain a non-blank character */
#define FIELD_LOGIN 0x4    /* text must be a login (account_login_valid); unique among live rows */

struct field_spec {
    const char *name;            /* JSON member and SQL column */
    enum field_type type;
    unsigned flags;
    int64_t min, max;            /* INT: value range. TEXT/LIST: max is characters per string */
    size_t max_items;            /* LIST: most items */
    const char *const *choices;  /* TEXT: allowed values (NULL-terminated), or NULL for any */
    int64_t default_int;         /* INT: value when absent on create */
};

/* A field's value; `set` is 0 when absent or null (stored as SQL NULL). */
struct field_value {
    int set;
    int64_t i;
    char *s; /* owned; for lists the items joined by '\n' */
};

struct record_type {
    const char *kind;      /* "person": feed kind, block resource type */
    const char *plural;    /* "people": path segment and table name */
    const char *id_prefix; /* "per" */
    const struct field_spec *fields;
    size_t nfields;
};

/* A stored resource. values[] has type->nfields entries, owned by the record. */
struct record {
    char id[ID_STR_MAX];
    int64_t version;
    int64_t created_at;
    int64_t updated_at;
    int64_t feed_generation;
    struct field_value *values;
};

extern const struct record_type record_person;
extern const struct record_type record_room;
extern const struct record_type record_vehicle;

/* Looks a type up by its plural ("rooms") or kind ("room"); NULL if none. */
const struct record_type *record_type_by_plural(const char *plural, size_t len);
const struct record_type *record_type_by_kind(const char *kind);

/* Index of a field by name, or -1. */
int record_field_index(const struct record_type *type, const char *name);

void record_init(struct record *rec, const struct record_type *type);
/* Frees the values (not the record itself). Accepts a zeroed record. */
void record_clear(struct record *rec, const struct record_type *type);

#endif
