/*
 * test_body.c - http/body.c: request-body parsing limits, member checks,
 * text validation, and the record field tables applied to JSON (create and
 * PATCH) and rendered back.
 */
#include "check.h"

#include "convene/doc_check.h"
#include "convene/body.h"
#include "convene/util.h"

#include <stdlib.h>
#include <string.h>

/* Parses a NUL-terminated body; returns the status (0 when accepted). */
static int parse_status(const char *body, struct api_error *err)
{
    json_t *obj = NULL;

    memset(err, 0, sizeof(*err));
    if (body_parse_object(body, strlen(body), &obj, err) != 0) {
        CHECK(obj == NULL);
        return err->status;
    }
    CHECK(json_is_object(obj));
    json_decref(obj);
    return 0;
}

/* `containers` nested JSON containers around leaf (object outermost). */
static char *nested(int containers, const char *leaf)
{
    struct strbuf sb;

    strbuf_init(&sb, 1 << 20);
    strbuf_puts(&sb, "{\"a\":");
    for (int i = 1; i < containers; i++)
        strbuf_puts(&sb, i % 2 ? "[" : "{\"b\":");
    strbuf_puts(&sb, leaf);
    for (int i = containers - 1; i >= 1; i--)
        strbuf_puts(&sb, i % 2 ? "]" : "}");
    strbuf_puts(&sb, "}");
    return strbuf_detach(&sb, NULL);
}

static void test_parse_object(void)
{
    struct api_error err;
    json_t *obj = NULL;
    char *body;

    CHECK_EQ_INT(parse_status("{\"name\":\"Room 1\",\"capacity\":10}", &err), 0);
    CHECK_EQ_INT(parse_status("{}", &err), 0);
    CHECK_EQ_INT(parse_status("  {\"a\": [1, 2, {\"b\": null}]}  ", &err), 0);
    CHECK_EQ_INT(parse_status("{\"name\":\"\xe5\x85\x9a\xe7\xbb\x84\"}", &err), 0);

    CHECK_EQ_INT(parse_status("{\"name\":", &err), 400);
    CHECK_EQ_STR(err.code, "malformed");
    CHECK_EQ_INT(parse_status("{\"name\":\"x\",}", &err), 400);
    CHECK_EQ_INT(parse_status("{'name':'x'}", &err), 400);
    CHECK_EQ_INT(parse_status("{\"a\":1} {\"b\":2}", &err), 400);
    CHECK_EQ_INT(parse_status("not json", &err), 400);
    CHECK_EQ_INT(body_parse_object(NULL, 0, &obj, &err), -1);
    CHECK_EQ_INT(err.status, 400);
    CHECK_EQ_INT(body_parse_object("{}", 0, &obj, &err), -1);
    CHECK_EQ_INT(err.status, 400);

    /* Valid JSON that is not an object. */
    CHECK_EQ_INT(parse_status("[1,2,3]", &err), 400);
    CHECK_EQ_STR(err.code, "malformed");
    CHECK_EQ_INT(parse_status("[{\"a\":1}]", &err), 400);
    CHECK_EQ_INT(parse_status("\"text\"", &err), 400);
    CHECK_EQ_INT(parse_status("42", &err), 400);
    CHECK_EQ_INT(parse_status("null", &err), 400);

    /*
     * Depth counts nested objects and arrays (CONTRACT: JSON depth 32):
     * 32 pass, 33 do not, whatever scalar sits at the bottom.
     */
    body = nested(31, "{}");
    CHECK_EQ_INT(parse_status(body, &err), 0);
    free(body);
    body = nested(32, "1");
    CHECK_EQ_INT(parse_status(body, &err), 0);
    free(body);
    body = nested(32, "\"leaf\"");
    CHECK_EQ_INT(parse_status(body, &err), 0);
    free(body);
    body = nested(31, "[]");
    CHECK_EQ_INT(parse_status(body, &err), 0);
    free(body);
    body = nested(33, "1");
    CHECK_EQ_INT(parse_status(body, &err), 400);
    CHECK_EQ_STR(err.code, "too_deep");
    free(body);
    body = nested(32, "[]");
    CHECK_EQ_INT(parse_status(body, &err), 400);
    free(body);
    body = nested(32, "{}");
    CHECK_EQ_INT(parse_status(body, &err), 400);
    free(body);
    /* Far deeper than jansson's own limit: refused, not a crash. */
    body = nested(5000, "1");
    CHECK_EQ_INT(parse_status(body, &err), 400);
    free(body);

    /* Duplicate keys would let two readers see different values. */
    CHECK_EQ_INT(parse_status("{\"name\":\"a\",\"name\":\"b\"}", &err), 400);
    CHECK_EQ_INT(parse_status("{\"x\":{\"k\":1,\"k\":1}}", &err), 400);

    /* Invalid UTF-8, in a value and in a key; an overlong encoding; a lone surrogate. */
    CHECK_EQ_INT(parse_status("{\"name\":\"\xff\"}", &err), 400);
    CHECK_EQ_INT(parse_status("{\"\xc3\":1}", &err), 400);
    CHECK_EQ_INT(parse_status("{\"name\":\"\xc0\xaf\"}", &err), 400);
    CHECK_EQ_INT(parse_status("{\"name\":\"\xed\xa0\x80\"}", &err), 400);
    CHECK_EQ_INT(parse_status("{\"name\":\"\\ud800\"}", &err), 400);

    /* NUL: escaped, in a key, and as a raw byte inside the body. */
    CHECK_EQ_INT(parse_status("{\"name\":\"a\\u0000b\"}", &err), 400);
    CHECK_EQ_INT(parse_status("{\"a\\u0000\":1}", &err), 400);
    static const char raw_nul[] = "{\"name\":\"a\0b\"}";
    CHECK_EQ_INT(body_parse_object(raw_nul, sizeof(raw_nul) - 1, &obj, &err), -1);
    CHECK_EQ_INT(err.status, 400);
    static const char trailing_nul[] = "{\"name\":\"a\"}\0";
    CHECK_EQ_INT(body_parse_object(trailing_nul, sizeof(trailing_nul) - 1, &obj, &err), -1);
    CHECK_EQ_INT(err.status, 400);
}

static void test_depth(void)
{
    json_t *v = json_integer(1);
    char *body = nested(3, "1");
    json_t *obj = json_loads(body, 0, NULL);

    CHECK(obj != NULL);
    CHECK_EQ_INT(doc_depth(obj), 3);
    json_decref(obj);
    free(body);
    obj = json_object();
    CHECK_EQ_INT(doc_depth(obj), 1);
    json_decref(obj);
    CHECK_EQ_INT(doc_depth(v) < 1, 1);
    json_decref(v);
}

static void test_only_members(void)
{
    static const char *const allowed[] = {"name", "capacity", NULL};
    struct api_error err;
    json_t *obj = json_loads("{\"name\":\"x\",\"capacity\":3}", 0, NULL);

    memset(&err, 0, sizeof(err));
    CHECK_EQ_INT(body_only_members(obj, allowed, &err), 0);
    json_decref(obj);
    obj = json_loads("{}", 0, NULL);
    CHECK_EQ_INT(body_only_members(obj, allowed, &err), 0);
    json_decref(obj);

    obj = json_loads("{\"name\":\"x\",\"atendees\":[]}", 0, NULL);
    CHECK_EQ_INT(body_only_members(obj, allowed, &err), -1);
    CHECK_EQ_INT(err.status, 400);
    CHECK_EQ_STR(err.code, "unknown_field");
    CHECK_EQ_STR(err.field, "atendees");
    CHECK(strstr(err.message, "atendees") != NULL);
    json_decref(obj);

    /* Names are matched exactly: no case folding, no prefixes. */
    obj = json_loads("{\"Name\":\"x\"}", 0, NULL);
    CHECK_EQ_INT(body_only_members(obj, allowed, &err), -1);
    CHECK_EQ_STR(err.field, "Name");
    json_decref(obj);
    obj = json_loads("{\"nam\":\"x\"}", 0, NULL);
    CHECK_EQ_INT(body_only_members(obj, allowed, &err), -1);
    json_decref(obj);

    /* A hostile name comes back bounded and without control characters. */
    obj = json_loads("{\"bad\\nname\\u0001xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\":1}",
                     0, NULL);
    CHECK(obj != NULL);
    CHECK_EQ_INT(body_only_members(obj, allowed, &err), -1);
    CHECK(strchr(err.field, '\n') == NULL);
    CHECK(strchr(err.field, '\x01') == NULL);
    CHECK(strlen(err.field) < 64);
    json_decref(obj);
}

static char *repeat(const char *unit, int times)
{
    size_t n = strlen(unit);
    char *s = xmalloc(n * (size_t)times + 1);

    for (int i = 0; i < times; i++)
        memcpy(s + n * (size_t)i, unit, n);
    s[n * (size_t)times] = '\0';
    return s;
}

static void test_text_ok(void)
{
    char *s;

    s = repeat("\xe4\xb8\xad", 200); /* 中: three bytes, one character */
    CHECK_EQ_INT(doc_text_ok(s, 200, 0), 0);
    free(s);
    s = repeat("\xe4\xb8\xad", 201);
    CHECK_EQ_INT(doc_text_ok(s, 200, 0), -1);
    free(s);
    s = repeat("\xf0\x9f\x98\x80", 10); /* four-byte emoji */
    CHECK_EQ_INT(doc_text_ok(s, 10, 0), 0);
    CHECK_EQ_INT(doc_text_ok(s, 9, 0), -1);
    free(s);
    s = repeat("a", 200);
    CHECK_EQ_INT(doc_text_ok(s, 200, 0), 0);
    CHECK_EQ_INT(doc_text_ok(s, 199, 0), -1);
    free(s);
    CHECK_EQ_INT(doc_text_ok("", 0, 0), 0);
    CHECK_EQ_INT(doc_text_ok("\xe5\x85\x9a\xe7\xbb\x84\xe4\xbc\x9a", 3, 0), 0);

    CHECK_EQ_INT(doc_text_ok("a\x01" "b", 10, 0), -1);
    CHECK_EQ_INT(doc_text_ok("a\x1f" "b", 10, 1), -1);
    CHECK_EQ_INT(doc_text_ok("a\x7f" "b", 10, 1), -1);
    CHECK_EQ_INT(doc_text_ok("a\x1b[31m", 10, 1), -1);
    CHECK_EQ_INT(doc_text_ok("line1\nline2", 20, 0), -1);
    CHECK_EQ_INT(doc_text_ok("line1\nline2", 20, 1), 0);
    CHECK_EQ_INT(doc_text_ok("a\tb", 20, 0), -1);
    CHECK_EQ_INT(doc_text_ok("a\tb", 20, 1), 0);
}

/* Applies a JSON text to rec; returns 0 or the error status. */
static int apply(const char *text, const struct record_type *type, int create, struct record *rec,
                 struct api_error *err)
{
    json_error_t jerr;
    json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    int rc;

    if (obj == NULL) {
        fprintf(stderr, "    bad test JSON: %s: %s\n", text, jerr.text);
        return -999;
    }
    memset(err, 0, sizeof(*err));
    rc = body_record_apply(obj, type, create, rec, err);
    json_decref(obj);
    if (rc == 0)
        return 0;
    CHECK_EQ_INT(rc, -1);
    return err->status;
}

static const struct field_value *value_of(const struct record_type *type,
                                          const struct record *rec, const char *name)
{
    int i = record_field_index(type, name);

    CHECK(i >= 0);
    return i >= 0 ? &rec->values[i] : NULL;
}

/* Checks a text field's value; want NULL means unset. */
#define CHECK_TEXT(type, rec, name, want)                                                     \
    do {                                                                                      \
        const struct field_value *v_ = value_of(type, rec, name);                              \
        if ((want) == NULL) {                                                                 \
            CHECK(v_ != NULL && !v_->set);                                                    \
        } else if (v_ != NULL) {                                                              \
            CHECK(v_->set);                                                                   \
            CHECK_EQ_STR(v_->s, (want));                                                      \
        }                                                                                     \
    } while (0)

#define CHECK_INTVAL(type, rec, name, want)                                                   \
    do {                                                                                      \
        const struct field_value *v_ = value_of(type, rec, name);                              \
        if (v_ != NULL) {                                                                     \
            CHECK(v_->set);                                                                   \
            CHECK_EQ_INT(v_->i, (want));                                                      \
        }                                                                                     \
    } while (0)

static void test_person_apply(void)
{
    const struct record_type *t = &record_person;
    struct api_error err;
    struct record rec;

    record_init(&rec, t);
    CHECK_EQ_INT(apply("{\"name\":\"\xe5\xbc\xa0\xe4\xb8\x89\",\"role\":\"leader\"}", t, 1, &rec,
                       &err),
                 0);
    CHECK_TEXT(t, &rec, "name", "\xe5\xbc\xa0\xe4\xb8\x89");
    CHECK_TEXT(t, &rec, "role", "leader");
    CHECK_INTVAL(t, &rec, "rank", 100);
    CHECK_TEXT(t, &rec, "department", NULL);
    CHECK_TEXT(t, &rec, "diet", NULL);
    record_clear(&rec, t);

    record_init(&rec, t);
    CHECK_EQ_INT(apply("{\"name\":\"Li\",\"role\":\"driver\",\"rank\":1,\"diet\":\"halal\","
                       "\"phone\":\"+86 10 1234\",\"department\":\"Office\"}",
                       t, 1, &rec, &err),
                 0);
    CHECK_INTVAL(t, &rec, "rank", 1);
    CHECK_TEXT(t, &rec, "diet", "halal");

    /* Choice violation. */
    CHECK_EQ_INT(apply("{\"role\":\"boss\"}", t, 0, &rec, &err), 422);
    CHECK_EQ_STR(err.field, "role");
    CHECK_TEXT(t, &rec, "role", "driver");
    /* Out of range. */
    CHECK_EQ_INT(apply("{\"rank\":0}", t, 0, &rec, &err), 422);
    CHECK_EQ_STR(err.field, "rank");
    CHECK_EQ_INT(apply("{\"rank\":1000001}", t, 0, &rec, &err), 422);
    /* Wrong types. */
    CHECK_EQ_INT(apply("{\"rank\":\"1\"}", t, 0, &rec, &err), 400);
    CHECK_EQ_STR(err.field, "rank");
    CHECK_EQ_INT(apply("{\"rank\":1.5}", t, 0, &rec, &err), 400);
    CHECK_EQ_INT(apply("{\"rank\":true}", t, 0, &rec, &err), 400);
    CHECK_EQ_INT(apply("{\"name\":42}", t, 0, &rec, &err), 400);
    CHECK_EQ_STR(err.field, "name");
    CHECK_EQ_INT(apply("{\"name\":[\"x\"]}", t, 0, &rec, &err), 400);
    /* Integers are never null; required text neither. */
    CHECK_EQ_INT(apply("{\"rank\":null}", t, 0, &rec, &err), 422);
    CHECK_EQ_INT(apply("{\"role\":null}", t, 0, &rec, &err), 422);
    CHECK_EQ_STR(err.field, "role");
    /* Blank where a non-blank is needed. */
    CHECK_EQ_INT(apply("{\"name\":\"   \"}", t, 0, &rec, &err), 422);
    CHECK_EQ_STR(err.field, "name");
    CHECK_EQ_INT(apply("{\"diet\":\"\"}", t, 0, &rec, &err), 422);
    /* Control characters. */
    CHECK_EQ_INT(apply("{\"name\":\"a\\nb\"}", t, 0, &rec, &err), 422);
    /* Unknown member. */
    CHECK_EQ_INT(apply("{\"nmae\":\"x\"}", t, 0, &rec, &err), 400);
    CHECK_EQ_STR(err.code, "unknown_field");
    CHECK_EQ_STR(err.field, "nmae");

    /* Every refusal above left the record as it was. */
    CHECK_TEXT(t, &rec, "name", "Li");
    CHECK_TEXT(t, &rec, "role", "driver");
    CHECK_INTVAL(t, &rec, "rank", 1);
    CHECK_TEXT(t, &rec, "diet", "halal");

    /* Null clears an optional field. */
    CHECK_EQ_INT(apply("{\"diet\":null}", t, 0, &rec, &err), 0);
    CHECK_TEXT(t, &rec, "diet", NULL);
    CHECK_TEXT(t, &rec, "department", "Office");
    record_clear(&rec, t);
}

static void test_room_apply(void)
{
    const struct record_type *t = &record_room;
    struct api_error err;
    struct record rec;

    /* Create: defaults for absent integers, optional text stays unset. */
    record_init(&rec, t);
    CHECK_EQ_INT(apply("{\"name\":\"Room 1\",\"capacity\":12}", t, 1, &rec, &err), 0);
    CHECK_TEXT(t, &rec, "name", "Room 1");
    CHECK_INTVAL(t, &rec, "capacity", 12);
    CHECK_INTVAL(t, &rec, "setup_minutes", 0);
    CHECK_INTVAL(t, &rec, "teardown_minutes", 0);
    CHECK_TEXT(t, &rec, "location", NULL);
    CHECK_TEXT(t, &rec, "features", NULL);
    record_clear(&rec, t);

    /* Required members missing. */
    record_init(&rec, t);
    CHECK_EQ_INT(apply("{\"name\":\"Room 1\"}", t, 1, &rec, &err), 422);
    CHECK_EQ_STR(err.field, "capacity");
    CHECK_EQ_STR(err.code, "required");
    CHECK_EQ_INT(apply("{\"capacity\":3}", t, 1, &rec, &err), 422);
    CHECK_EQ_STR(err.field, "name");
    CHECK_EQ_INT(apply("{}", t, 1, &rec, &err), 422);
    CHECK_EQ_INT(apply("{\"name\":null,\"capacity\":3}", t, 1, &rec, &err), 422);
    CHECK_EQ_STR(err.field, "name");
    /* Wrong type and out of range on create. */
    CHECK_EQ_INT(apply("{\"name\":\"R\",\"capacity\":\"12\"}", t, 1, &rec, &err), 400);
    CHECK_EQ_STR(err.field, "capacity");
    CHECK_EQ_INT(apply("{\"name\":\"R\",\"capacity\":0}", t, 1, &rec, &err), 422);
    CHECK_EQ_STR(err.field, "capacity");
    CHECK_EQ_INT(apply("{\"name\":\"R\",\"capacity\":5,\"setup_minutes\":-1}", t, 1, &rec, &err),
                 422);
    CHECK_EQ_STR(err.field, "setup_minutes");
    CHECK_EQ_INT(apply("{\"name\":\"R\",\"capacity\":5,\"setup_minutes\":1441}", t, 1, &rec,
                       &err),
                 422);
    /* A rejected create leaves the fresh record empty. */
    CHECK_TEXT(t, &rec, "name", NULL);
    record_clear(&rec, t);

    /* Lists: features. */
    record_init(&rec, t);
    CHECK_EQ_INT(apply("{\"name\":\"Hall\",\"capacity\":200,\"features\":[\"video\",\"projector\","
                       "\"\xe5\x90\x8c\xe4\xbc\xa0\"],\"location\":\"3F\",\"setup_minutes\":15,"
                       "\"teardown_minutes\":10}",
                       t, 1, &rec, &err),
                 0);
    CHECK_TEXT(t, &rec, "features", "video\nprojector\n\xe5\x90\x8c\xe4\xbc\xa0");
    CHECK_INTVAL(t, &rec, "setup_minutes", 15);
    CHECK_INTVAL(t, &rec, "teardown_minutes", 10);

    CHECK_EQ_INT(apply("{\"features\":\"video\"}", t, 0, &rec, &err), 400);
    CHECK_EQ_STR(err.field, "features");
    CHECK_EQ_INT(apply("{\"features\":[\"video\",3]}", t, 0, &rec, &err), 400);
    CHECK_EQ_STR(err.field, "features[1]");
    CHECK_EQ_INT(apply("{\"features\":[\"video\",\"\"]}", t, 0, &rec, &err), 422);
    CHECK_EQ_STR(err.field, "features[1]");
    CHECK_EQ_INT(apply("{\"features\":[\"a\\nb\"]}", t, 0, &rec, &err), 422);
    {
        char body[1024] = "{\"features\":[";
        for (int i = 0; i < 33; i++)
            snprintf(body + strlen(body), sizeof(body) - strlen(body), "%s\"f%d\"", i ? "," : "",
                     i);
        snprintf(body + strlen(body), sizeof(body) - strlen(body), "]}");
        CHECK_EQ_INT(apply(body, t, 0, &rec, &err), 422);
        CHECK_EQ_STR(err.field, "features");
    }

    /* PATCH: only what is sent changes; a partly bad PATCH changes nothing. */
    CHECK_EQ_INT(apply("{\"name\":\"New name\",\"capacity\":-5}", t, 0, &rec, &err), 422);
    CHECK_EQ_STR(err.field, "capacity");
    CHECK_TEXT(t, &rec, "name", "Hall");
    CHECK_INTVAL(t, &rec, "capacity", 200);
    CHECK_EQ_INT(apply("{\"location\":\"4F\",\"bogus\":1}", t, 0, &rec, &err), 400);
    CHECK_TEXT(t, &rec, "location", "3F");
    CHECK_EQ_INT(apply("{\"capacity\":null}", t, 0, &rec, &err), 422);
    CHECK_INTVAL(t, &rec, "capacity", 200);

    CHECK_EQ_INT(apply("{\"location\":\"4F\"}", t, 0, &rec, &err), 0);
    CHECK_TEXT(t, &rec, "location", "4F");
    CHECK_TEXT(t, &rec, "name", "Hall");
    CHECK_INTVAL(t, &rec, "capacity", 200);
    CHECK_INTVAL(t, &rec, "setup_minutes", 15);
    CHECK_TEXT(t, &rec, "features", "video\nprojector\n\xe5\x90\x8c\xe4\xbc\xa0");
    CHECK_EQ_INT(apply("{}", t, 0, &rec, &err), 0);
    CHECK_TEXT(t, &rec, "location", "4F");

    CHECK_EQ_INT(apply("{\"location\":null,\"features\":null}", t, 0, &rec, &err), 0);
    CHECK_TEXT(t, &rec, "location", NULL);
    CHECK_TEXT(t, &rec, "features", NULL);
    CHECK_TEXT(t, &rec, "name", "Hall");
    CHECK_EQ_INT(apply("{\"name\":null}", t, 0, &rec, &err), 422);
    CHECK_EQ_STR(err.field, "name");
    CHECK_TEXT(t, &rec, "name", "Hall");
    CHECK_EQ_INT(apply("{\"features\":[]}", t, 0, &rec, &err), 0);
    record_clear(&rec, t);
}

static void test_render(void)
{
    const struct record_type *t = &record_room;
    struct api_error err;
    struct record rec, back;
    json_t *obj, *features;
    const char *body = "{\"name\":\"Hall\",\"capacity\":200,"
                       "\"features\":[\"video\",\"projector\",\"\xe5\x90\x8c\xe4\xbc\xa0\"]}";

    record_init(&rec, t);
    CHECK_EQ_INT(apply(body, t, 1, &rec, &err), 0);
    snprintf(rec.id, sizeof(rec.id), "room_0123456789abcdef");
    rec.version = 3;
    rec.created_at = 1796605200;
    rec.updated_at = 1796605201;
    obj = body_record_render(t, &rec);
    CHECK(obj != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(obj, "id")), "room_0123456789abcdef");
    CHECK_EQ_STR(json_string_value(json_object_get(obj, "name")), "Hall");
    CHECK_EQ_INT(json_integer_value(json_object_get(obj, "capacity")), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(obj, "version")), 3);
    CHECK_EQ_STR(json_string_value(json_object_get(obj, "created_at")), "2026-12-07T01:00:00Z");
    CHECK_EQ_STR(json_string_value(json_object_get(obj, "updated_at")), "2026-12-07T01:00:01Z");
    CHECK(json_is_null(json_object_get(obj, "location")));
    CHECK_EQ_INT(json_integer_value(json_object_get(obj, "setup_minutes")), 0);
    features = json_object_get(obj, "features");
    CHECK(json_is_array(features));
    CHECK_EQ_INT(json_array_size(features), 3);
    CHECK_EQ_STR(json_string_value(json_array_get(features, 0)), "video");
    CHECK_EQ_STR(json_string_value(json_array_get(features, 1)), "projector");
    CHECK_EQ_STR(json_string_value(json_array_get(features, 2)), "\xe5\x90\x8c\xe4\xbc\xa0");

    /* Round trip: the rendered fields applied to a fresh record give the same values. */
    json_t *input = json_deep_copy(obj);
    json_object_del(input, "id");
    json_object_del(input, "version");
    json_object_del(input, "created_at");
    json_object_del(input, "updated_at");
    json_object_del(input, "location"); /* null on create is "absent" */
    record_init(&back, t);
    memset(&err, 0, sizeof(err));
    CHECK_EQ_INT(body_record_apply(input, t, 1, &back, &err), 0);
    for (size_t i = 0; i < t->nfields; i++) {
        CHECK_EQ_INT(back.values[i].set, rec.values[i].set);
        if (t->fields[i].type == FIELD_INT)
            CHECK_EQ_INT(back.values[i].i, rec.values[i].i);
        else if (rec.values[i].set)
            CHECK_EQ_STR(back.values[i].s, rec.values[i].s);
    }
    json_decref(input);
    record_clear(&back, t);
    json_decref(obj);

    /* No features and an empty list both render as []. */
    CHECK_EQ_INT(apply("{\"features\":null}", t, 0, &rec, &err), 0);
    obj = body_record_render(t, &rec);
    CHECK(json_is_array(json_object_get(obj, "features")));
    CHECK_EQ_INT(json_array_size(json_object_get(obj, "features")), 0);
    json_decref(obj);
    CHECK_EQ_INT(apply("{\"features\":[]}", t, 0, &rec, &err), 0);
    obj = body_record_render(t, &rec);
    CHECK_EQ_INT(json_array_size(json_object_get(obj, "features")), 0);
    json_decref(obj);
    record_clear(&rec, t);
}

static void test_member_string(void)
{
    struct api_error err;
    const char *out = NULL;
    json_t *obj = json_loads("{\"s\":\"abc\",\"n\":1,\"z\":null,\"b\":\"  \"}", 0, NULL);

    CHECK_EQ_INT(body_member_string(obj, "s", 1, 10, &out, &err), 1);
    CHECK_EQ_STR(out, "abc");
    CHECK_EQ_INT(body_member_string(obj, "s", 1, 2, &out, &err), -1);
    CHECK_EQ_INT(err.status, 422);
    CHECK_EQ_INT(body_member_string(obj, "n", 0, 10, &out, &err), -1);
    CHECK_EQ_INT(err.status, 400);
    CHECK_EQ_INT(body_member_string(obj, "z", 0, 10, &out, &err), 0);
    CHECK_EQ_INT(body_member_string(obj, "z", 1, 10, &out, &err), -1);
    CHECK_EQ_INT(err.status, 422);
    CHECK_EQ_INT(body_member_string(obj, "missing", 0, 10, &out, &err), 0);
    CHECK_EQ_INT(body_member_string(obj, "missing", 1, 10, &out, &err), -1);
    CHECK_EQ_STR(err.field, "missing");
    CHECK_EQ_INT(body_member_string(obj, "b", 1, 10, &out, &err), -1);
    CHECK_EQ_INT(err.status, 422);
    json_decref(obj);
}

int main(void)
{
    test_parse_object();
    test_depth();
    test_only_members();
    test_text_ok();
    test_person_apply();
    test_room_apply();
    test_render();
    test_member_string();
    return check_finish();
}
