/*
 * test_visibility.c - the one visibility rule (core/visibility.c) as a
 * table over viewers and facts, its reading of event documents
 * (app/visibility_doc.c), and the reduced document a partial view shows.
 */
#include "check.h"

#include "convene/visibility.h"

#include <jansson.h>
#include <string.h>

static const struct viewer office = {.kind = VIEWER_OFFICE};
static const struct viewer calendar = {.kind = VIEWER_CALENDAR};
static const struct viewer person = {.kind = VIEWER_PERSON, .person = "per_x"};

static void test_rule_table(void)
{
    static const struct {
        const struct viewer *v;
        int confidential, attends, on_trip, approves;
        enum visibility want;
    } cases[] = {
        /* The office sees everything. */
        {&office, 0, 0, 0, 0, VISIBLE_FULL},
        {&office, 1, 0, 0, 0, VISIBLE_FULL},
        {&office, 1, 1, 1, 0, VISIBLE_FULL},
        /* A room's or vehicle's calendar: confidential is busy time. */
        {&calendar, 0, 0, 0, 0, VISIBLE_FULL},
        {&calendar, 1, 0, 0, 0, VISIBLE_BUSY},
        {&calendar, 1, 1, 1, 0, VISIBLE_BUSY}, /* facts about no one do not count */
        /* A person: attendees see all; drivers and passengers their trip. */
        {&person, 0, 1, 0, 0, VISIBLE_FULL},
        {&person, 1, 1, 0, 0, VISIBLE_FULL},
        {&person, 1, 1, 1, 0, VISIBLE_FULL},
        {&person, 0, 0, 1, 0, VISIBLE_FULL},
        {&person, 1, 0, 1, 0, VISIBLE_TRIP},
        {&person, 0, 0, 0, 0, VISIBLE_NONE},
        {&person, 1, 0, 0, 0, VISIBLE_NONE},
        /* Who decides a pending approval reads the meeting as an attendee does. */
        {&person, 1, 0, 0, 1, VISIBLE_FULL},
        {&person, 0, 0, 0, 1, VISIBLE_FULL},
        {&person, 1, 0, 1, 1, VISIBLE_FULL},
        {&calendar, 1, 0, 0, 1, VISIBLE_BUSY}, /* no one's calendar decides anything */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum visibility got = visibility_decide(cases[i].v, cases[i].confidential,
                                                cases[i].attends, cases[i].on_trip,
                                                cases[i].approves);
        CHECK_EQ_INT(got, cases[i].want);
        if (got != cases[i].want)
            fprintf(stderr, "    case %zu\n", i);
    }
}

static json_t *meeting(int confidential)
{
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:[{s:s}, {s:s, s:b}], s:s, s:[{s:s}],"
        " s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s, s:[s]}],"
        " s:{s:{s:s, s:s}}}",
        "id", "evt_1", "title", "人事", "description", "议程", "location", "保密室", "start",
        "2027-03-10T09:00:00", "end", "2027-03-10T10:00:00", "tz", "Asia/Shanghai",
        "confidential", confidential, "attendees", "person", "per_lead", "person", "per_opt",
        "optional", 1, "room", "room_1", "meals", "meal", "lunch", "trips", "id", "trip_1",
        "vehicle", "veh_1", "driver", "per_drv", "depart", "2027-03-10T08:00:00", "return",
        "2027-03-10T11:00:00", "from", "机关", "to", "市委", "passengers", "per_lead", "id",
        "trip_2", "vehicle", "veh_2", "driver", "per_drv2", "passengers", "per_rider",
        "overrides", "2027-03-17T09:00:00", "title", "人事（二）", "start",
        "2027-03-17T10:00:00");
    if (doc == NULL) {
        fprintf(stderr, "test document does not pack\n");
        exit(2);
    }
    return doc;
}

static void test_documents(void)
{
    static const struct {
        enum viewer_kind kind;
        const char *person;
        int confidential;
        enum visibility want;
    } cases[] = {
        {VIEWER_PERSON, "per_lead", 1, VISIBLE_FULL},
        {VIEWER_PERSON, "per_opt", 1, VISIBLE_FULL}, /* optional attendees attend */
        {VIEWER_PERSON, "per_drv", 1, VISIBLE_TRIP},
        {VIEWER_PERSON, "per_rider", 1, VISIBLE_TRIP}, /* a passenger who does not attend */
        {VIEWER_PERSON, "per_drv", 0, VISIBLE_FULL},
        {VIEWER_PERSON, "per_none", 1, VISIBLE_NONE},
        {VIEWER_PERSON, "per_none", 0, VISIBLE_NONE},
        {VIEWER_PERSON, "", 1, VISIBLE_NONE}, /* a token bound to no person */
        {VIEWER_PERSON, NULL, 0, VISIBLE_NONE},
        {VIEWER_PERSON, "per_le", 1, VISIBLE_NONE}, /* a prefix is not the person */
        {VIEWER_CALENDAR, NULL, 1, VISIBLE_BUSY},
        {VIEWER_OFFICE, NULL, 1, VISIBLE_FULL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct viewer v = {.kind = cases[i].kind, .person = cases[i].person};
        json_t *doc = meeting(cases[i].confidential);
        enum visibility got = visibility_of_doc(&v, doc);
        CHECK_EQ_INT(got, cases[i].want);
        if (got != cases[i].want)
            fprintf(stderr, "    case %zu\n", i);
        json_decref(doc);
    }
}

/* per_dep stands in for per_apr (a block on the approver names them); nobody else does. */
static int fake_delegate(void *arg, const char *approver, const char *who)
{
    (*(int *)arg)++;
    return strcmp(approver, "per_apr") == 0 && strcmp(who, "per_dep") == 0;
}

static void test_approvers(void)
{
    static const struct {
        const char *person, *status;
        int confidential;
        enum visibility want;
    } cases[] = {
        {"per_apr", "pending", 1, VISIBLE_FULL},
        {"per_apr", "pending", 0, VISIBLE_FULL},
        {"per_dep", "pending", 1, VISIBLE_FULL}, /* the delegate covering now */
        {"per_apr", "approved", 1, VISIBLE_NONE}, /* decided: no longer theirs to read */
        {"per_dep", "approved", 1, VISIBLE_NONE},
        {"per_other", "pending", 1, VISIBLE_NONE},
        {"per_drv", "pending", 1, VISIBLE_TRIP}, /* nobody else gains anything */
        {"per_ap", "pending", 1, VISIBLE_NONE},  /* a prefix is not the approver */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int asked = 0;
        struct viewer v = {.kind = VIEWER_PERSON, .person = cases[i].person,
                           .delegate_of = fake_delegate, .arg = &asked};
        json_t *doc = meeting(cases[i].confidential);
        json_object_set_new(doc, "approvals",
                            json_pack("[{s:s, s:s, s:s}]", "id", "apr_1", "approver", "per_apr",
                                      "status", cases[i].status));
        enum visibility got = visibility_of_doc(&v, doc);
        CHECK_EQ_INT(got, cases[i].want);
        if (got != cases[i].want)
            fprintf(stderr, "    case %zu\n", i);
        json_decref(doc);
    }
    /* An attendee's read never asks about delegations (the store is not touched). */
    int asked = 0;
    struct viewer lead = {.kind = VIEWER_PERSON, .person = "per_lead",
                          .delegate_of = fake_delegate, .arg = &asked};
    json_t *doc = meeting(1);
    json_object_set_new(doc, "approvals", json_pack("[{s:s, s:s}]", "approver", "per_apr",
                                                    "status", "pending"));
    CHECK_EQ_INT(visibility_of_doc(&lead, doc), VISIBLE_FULL);
    CHECK_EQ_INT(asked, 0);
    json_decref(doc);
}

static void test_views(void)
{
    json_t *doc = meeting(1), *view, *trips;
    char *text;

    /* Full: a copy of everything. */
    view = visibility_doc_view(doc, VISIBLE_FULL, "per_lead");
    CHECK(json_equal(view, doc));
    CHECK(view != doc);
    json_decref(view);

    /* Trip: times and the driver's own trip, without passengers; no secret anywhere. */
    view = visibility_doc_view(doc, VISIBLE_TRIP, "per_drv");
    text = json_dumps(view, JSON_COMPACT);
    for (const char *const *s = (const char *const[]){"人事", "议程", "保密室", "per_lead",
                                                     "per_opt", "per_rider", "room_1", "lunch",
                                                     "trip_2", NULL};
         *s != NULL; s++) {
        CHECK(strstr(text, *s) == NULL);
        if (strstr(text, *s) != NULL)
            fprintf(stderr, "    leaks %s in %s\n", *s, text);
    }
    free(text);
    CHECK(json_is_null(json_object_get(view, "title")));
    CHECK_EQ_STR(json_string_value(json_object_get(view, "visibility")), "trip");
    CHECK_EQ_STR(json_string_value(json_object_get(view, "start")), "2027-03-10T09:00:00");
    CHECK(json_is_true(json_object_get(view, "confidential")));
    trips = json_object_get(view, "trips");
    CHECK_EQ_INT(json_array_size(trips), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(trips, 0), "from")), "机关");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(trips, 0), "driver")),
                 "per_drv");
    /* A moved occurrence keeps its new time, not its title. */
    CHECK_EQ_STR(json_string_value(json_object_get(
                     json_object_get(json_object_get(view, "overrides"), "2027-03-17T09:00:00"),
                     "start")),
                 "2027-03-17T10:00:00");
    json_decref(view);

    /* A passenger who does not attend sees their trip the same way. */
    view = visibility_doc_view(doc, VISIBLE_TRIP, "per_rider");
    trips = json_object_get(view, "trips");
    CHECK_EQ_INT(json_array_size(trips), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(trips, 0), "id")), "trip_2");
    CHECK(json_object_get(json_array_get(trips, 0), "passengers") == NULL);
    json_decref(view);

    /* Busy: times only, no trips. */
    view = visibility_doc_view(doc, VISIBLE_BUSY, NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(view, "visibility")), "busy");
    CHECK_EQ_INT(json_array_size(json_object_get(view, "trips")), 0);
    CHECK(json_object_get(view, "attendees") == NULL);
    json_decref(view);
    json_decref(doc);
}

int main(void)
{
    test_rule_table();
    test_documents();
    test_approvers();
    test_views();
    return check_finish();
}
