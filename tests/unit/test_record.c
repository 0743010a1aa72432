/*
 * test_record.c - record_matches(), the ?q= search of people, rooms and
 * vehicles: which fields it looks in, ASCII case folding, Chinese text
 * compared byte for byte, empty queries.
 */
#include "check.h"

#include "convene/record.h"
#include "convene/util.h"

#include <string.h>

/* A record of type with the named text fields set (pairs of name, value; NULL ends). */
static void fill(struct record *rec, const struct record_type *type, const char *const *pairs)
{
    record_init(rec, type);
    for (size_t i = 0; pairs[i] != NULL; i += 2) {
        int idx = record_field_index(type, pairs[i]);
        rec->values[idx].set = 1;
        rec->values[idx].s = xstrdup(pairs[i + 1]);
    }
}

static void test_people(void)
{
    static const char *const person[] = {"name", "王建国", "department", "Office of the Director",
                                         "phone", "13800000000", "diet", "halal", NULL};
    static const struct {
        const char *q;
        int want;
    } cases[] = {
        {"王", 1},          {"建国", 1},      {"王建国", 1},  {"李", 0},
        {"office", 1},      {"DIRECTOR", 1},  {"of the", 1},  {"offices", 0},
        {"138", 0},         /* the phone is not searched */
        {"halal", 0},       /* nor the diet */
        {"", 1},            /* an empty query lists everyone */
        {"\xe7\x8e", 1},    /* bytes, not characters: 王 is e7 8e 8b */
    };
    struct record rec;

    fill(&rec, &record_person, person);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ_INT(record_matches(&record_person, &rec, cases[i].q), cases[i].want);
    }
    record_clear(&rec, &record_person);
}

static void test_rooms_and_vehicles(void)
{
    static const char *const room[] = {"name", "第一会议室", "location", "三楼东侧", NULL};
    static const char *const vehicle[] = {"name", "奥迪A6", "plate", "京A12345", NULL};
    struct record r, v;

    fill(&r, &record_room, room);
    fill(&v, &record_vehicle, vehicle);
    CHECK(record_matches(&record_room, &r, "三楼"));
    CHECK(record_matches(&record_room, &r, "会议室"));
    CHECK(!record_matches(&record_room, &r, "四楼"));
    CHECK(record_matches(&record_vehicle, &v, "a12345"));
    CHECK(record_matches(&record_vehicle, &v, "奥迪"));
    CHECK(!record_matches(&record_vehicle, &v, "B12345"));
    record_clear(&r, &record_room);
    record_clear(&v, &record_vehicle);
}

/* Unset fields are skipped, not read. */
static void test_unset_fields(void)
{
    static const char *const person[] = {"name", "张三", NULL};
    struct record rec;

    fill(&rec, &record_person, person);
    CHECK(!record_matches(&record_person, &rec, "处"));
    CHECK(record_matches(&record_person, &rec, "张"));
    record_clear(&rec, &record_person);
}

int main(void)
{
    test_people();
    test_rooms_and_vehicles();
    test_unset_fields();
    return check_finish();
}
