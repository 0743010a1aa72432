/*
 * record.c - the field tables of people, rooms and vehicles (CONTRACT
 * section 3). Limits here are the API's limits.
 */
#include "convene/record.h"
#include "convene/account.h"
#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_CHARS 200
#define TEXT_MAX_CHARS 500

static const char *const person_roles[] = {"leader", "secretary", "staff", "driver", NULL};

static const struct field_spec person_fields[] = {
    {"name", FIELD_TEXT, FIELD_REQUIRED | FIELD_NONEMPTY, 0, NAME_MAX_CHARS, 0, NULL, 0},
    {"role", FIELD_TEXT, FIELD_REQUIRED, 0, 16, 0, person_roles, 0},
    {"rank", FIELD_INT, 0, 1, 1000000, 0, NULL, 100},
    {"department", FIELD_TEXT, 0, 0, NAME_MAX_CHARS, 0, NULL, 0},
    {"phone", FIELD_TEXT, 0, 0, 40, 0, NULL, 0},
    {"diet", FIELD_TEXT, FIELD_NONEMPTY, 0, 40, 0, NULL, 0},
    /* Sign-in (section 9): the password is never a field; it has its own endpoint and table. */
    {"login", FIELD_TEXT, FIELD_LOGIN, 0, ACCOUNT_LOGIN_MAX, 0, NULL, 0},
    {"access", FIELD_TEXT, 0, 0, 16, 0, account_access_values, 0},
};

static const struct field_spec room_fields[] = {
    {"name", FIELD_TEXT, FIELD_REQUIRED | FIELD_NONEMPTY, 0, NAME_MAX_CHARS, 0, NULL, 0},
    {"capacity", FIELD_INT, FIELD_REQUIRED, 1, 100000, 0, NULL, 0},
    {"features", FIELD_TEXT_LIST, 0, 0, 64, 32, NULL, 0},
    {"location", FIELD_TEXT, 0, 0, TEXT_MAX_CHARS, 0, NULL, 0},
    {"setup_minutes", FIELD_INT, 0, 0, 24 * 60, 0, NULL, 0},
    {"teardown_minutes", FIELD_INT, 0, 0, 24 * 60, 0, NULL, 0},
};

static const struct field_spec vehicle_fields[] = {
    {"name", FIELD_TEXT, FIELD_REQUIRED | FIELD_NONEMPTY, 0, NAME_MAX_CHARS, 0, NULL, 0},
    {"plate", FIELD_TEXT, FIELD_NONEMPTY, 0, 32, 0, NULL, 0},
    {"seats", FIELD_INT, FIELD_REQUIRED, 1, 100, 0, NULL, 0},
};

const struct record_type record_person = {"person", "people", "per", person_fields,
                                          ARRAY_SIZE(person_fields)};
const struct record_type record_room = {"room", "rooms", "room", room_fields,
                                        ARRAY_SIZE(room_fields)};
const struct record_type record_vehicle = {"vehicle", "vehicles", "veh", vehicle_fields,
                                           ARRAY_SIZE(vehicle_fields)};

static const struct record_type *const all_types[] = {&record_person, &record_room,
                                                      &record_vehicle};

const struct record_type *record_type_by_plural(const char *plural, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(all_types); i++)
        if (strlen(all_types[i]->plural) == len && memcmp(all_types[i]->plural, plural, len) == 0)
            return all_types[i];
    return NULL;
}

const struct record_type *record_type_by_kind(const char *kind)
{
    for (size_t i = 0; i < ARRAY_SIZE(all_types); i++)
        if (strcmp(all_types[i]->kind, kind) == 0)
            return all_types[i];
    return NULL;
}

int record_field_index(const struct record_type *type, const char *name)
{
    for (size_t i = 0; i < type->nfields; i++)
        if (strcmp(type->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

void record_init(struct record *rec, const struct record_type *type)
{
    memset(rec, 0, sizeof(*rec));
    rec->values = xcalloc(type->nfields, sizeof(rec->values[0]));
}

void record_clear(struct record *rec, const struct record_type *type)
{
    if (rec->values == NULL)
        return;
    for (size_t i = 0; i < type->nfields; i++)
        free(rec->values[i].s);
    free(rec->values);
    rec->values = NULL;
}
