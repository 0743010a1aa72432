/*
 * json.c - body parsing with limits, field validation driven by the
 * record field tables, and rendering.
 */
#include "convene/body.h"
#include "convene/doc_check.h"
#include "convene/account.h"
#include "convene/timeutil.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int body_parse_object(const char *body, size_t len, json_t **out, struct api_error *err)
{
    json_error_t jerr;
    json_t *root;

    if (body == NULL || len == 0)
        return api_error_set(err, 400, "malformed", NULL, "request body must be a JSON object");
    /* jansson checks UTF-8 and refuses \u0000 unless asked; it bounds depth at 2048. */
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return api_error_set(err, 400, "malformed", NULL, "invalid JSON at line %d column %d: %s",
                             jerr.line, jerr.column, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return api_error_set(err, 400, "malformed", NULL, "request body must be a JSON object");
    }
    if (doc_depth(root) > API_MAX_JSON_DEPTH) {
        json_decref(root);
        return api_error_set(err, 400, "too_deep", NULL, "JSON nested deeper than %d levels",
                             API_MAX_JSON_DEPTH);
    }
    *out = root;
    return 0;
}

/* The HTTP statuses of a document check's verdicts. */
static int from_doc(const struct doc_error *d, struct api_error *err)
{
    return api_error_set(err, d->kind == DOC_MALFORMED ? 400 : 422, d->code,
                         d->field[0] ? d->field : NULL, "%s", d->message);
}

int body_only_members(json_t *obj, const char *const *allowed, struct api_error *err)
{
    struct doc_error d;

    return doc_only_members(obj, allowed, &d) == 0 ? 0 : from_doc(&d, err);
}

int body_member_string(json_t *obj, const char *name, int required, size_t max_chars,
                       const char **out, struct api_error *err)
{
    struct doc_error d;
    int rc = doc_member_string(obj, name, required, max_chars, out, &d);

    if (rc < 0)
        from_doc(&d, err);
    return rc;
}

static int check_choice(const struct field_spec *f, const char *s, struct api_error *err)
{
    if (f->choices == NULL)
        return 0;
    for (size_t i = 0; f->choices[i] != NULL; i++)
        if (strcmp(f->choices[i], s) == 0)
            return 0;

    char allowed[128] = "";
    for (size_t i = 0; f->choices[i] != NULL; i++)
        snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s%s",
                 i ? ", " : "", f->choices[i]);
    return api_error_set(err, 422, "invalid", f->name, "'%s' must be one of: %s", f->name,
                         allowed);
}

static int check_text(const struct field_spec *f, const char *s, const char *field,
                      struct api_error *err)
{
    if (doc_text_ok(s, (size_t)f->max, 0) != 0)
        return api_error_set(err, 422, "invalid", field,
                             "'%s' must be at most %lld characters without control characters",
                             field, (long long)f->max);
    if ((f->flags & FIELD_NONEMPTY) && doc_text_blank(s))
        return api_error_set(err, 422, "empty", field, "'%s' must not be empty", field);
    if ((f->flags & FIELD_LOGIN) && !account_login_valid(s))
        return api_error_set(err, 422, "invalid", field,
                             "'%s' must be 3 to 64 characters of a-z, 0-9, '.', '_' and '-'",
                             field);
    return check_choice(f, s, err);
}

/* Validates a list and joins it with '\n' (the stored form). */
static int take_list(const struct field_spec *f, json_t *v, char **joined, struct api_error *err)
{
    struct strbuf sb;
    size_t i;
    json_t *item;

    if (!json_is_array(v))
        return api_error_set(err, 400, "wrong_type", f->name, "'%s' must be an array of strings",
                             f->name);
    if (json_array_size(v) > f->max_items)
        return api_error_set(err, 422, "too_many", f->name, "'%s' holds at most %zu items",
                             f->name, f->max_items);
    strbuf_init(&sb, 64 * 1024);
    json_array_foreach(v, i, item) {
        char field[64];
        snprintf(field, sizeof(field), "%s[%zu]", f->name, i);
        if (!json_is_string(item)) {
            strbuf_free(&sb);
            return api_error_set(err, 400, "wrong_type", field, "'%s' must be a string", field);
        }
        if (check_text(f, json_string_value(item), field, err) != 0 ||
            (*json_string_value(item) == '\0' &&
             api_error_set(err, 422, "empty", field, "'%s' must not be empty", field))) {
            strbuf_free(&sb);
            return -1;
        }
        strbuf_printf(&sb, "%s%s", i ? "\n" : "", json_string_value(item));
    }
    *joined = strbuf_detach(&sb, NULL);
    return 0;
}

/* Validates one present member into a fresh value; the record is untouched on error. */
static int take_value(const struct field_spec *f, json_t *v, struct field_value *out,
                      struct api_error *err)
{
    memset(out, 0, sizeof(*out));
    if (json_is_null(v)) {
        if ((f->flags & FIELD_REQUIRED) || f->type == FIELD_INT)
            return api_error_set(err, 422, "required", f->name, "'%s' cannot be null", f->name);
        return 0;
    }
    switch (f->type) {
    case FIELD_INT:
        if (!json_is_integer(v))
            return api_error_set(err, 400, "wrong_type", f->name, "'%s' must be an integer",
                                 f->name);
        if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
            return api_error_set(err, 422, "out_of_range", f->name,
                                 "'%s' must be between %lld and %lld", f->name, (long long)f->min,
                                 (long long)f->max);
        out->i = json_integer_value(v);
        break;
    case FIELD_TEXT:
        if (!json_is_string(v))
            return api_error_set(err, 400, "wrong_type", f->name, "'%s' must be a string",
                                 f->name);
        if (check_text(f, json_string_value(v), f->name, err) != 0)
            return -1;
        out->s = xstrdup(json_string_value(v));
        break;
    case FIELD_TEXT_LIST:
        if (take_list(f, v, &out->s, err) != 0)
            return -1;
        break;
    }
    out->set = 1;
    return 0;
}

int body_record_apply(json_t *obj, const struct record_type *type, int create, struct record *rec,
                      struct api_error *err)
{
    const char *allowed[32];
    struct field_value *fresh;
    int rc = 0;

    for (size_t i = 0; i < type->nfields && i < ARRAY_SIZE(allowed) - 1; i++)
        allowed[i] = type->fields[i].name;
    allowed[type->nfields] = NULL;
    if (body_only_members(obj, allowed, err) != 0)
        return -1;

    /* Validate everything into `fresh` first, so a rejected request leaves rec as it was. */
    fresh = xcalloc(type->nfields, sizeof(*fresh));
    for (size_t i = 0; i < type->nfields && rc == 0; i++) {
        const struct field_spec *f = &type->fields[i];
        json_t *v = json_object_get(obj, f->name);
        if (v != NULL) {
            rc = take_value(f, v, &fresh[i], err);
        } else if (create && (f->flags & FIELD_REQUIRED)) {
            rc = api_error_set(err, 422, "required", f->name, "'%s' is required", f->name);
        } else if (create && f->type == FIELD_INT) {
            fresh[i].set = 1;
            fresh[i].i = f->default_int;
        }
    }
    for (size_t i = 0; i < type->nfields; i++) {
        int present = json_object_get(obj, type->fields[i].name) != NULL;
        if (rc == 0 && (create || present)) {
            free(rec->values[i].s);
            rec->values[i] = fresh[i];
        } else {
            free(fresh[i].s);
        }
    }
    free(fresh);
    return rc;
}

static json_t *render_list(const char *joined)
{
    json_t *arr = json_array();
    const char *p = joined;

    while (p != NULL && *p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        json_array_append_new(arr, json_stringn(p, n));
        p = nl ? nl + 1 : NULL;
    }
    return arr;
}

static json_t *render_timestamp(int64_t t)
{
    char buf[TIME_UTC_STR];
    time_utc_format(t, buf);
    return json_string(buf);
}

json_t *body_record_render(const struct record_type *type, const struct record *rec)
{
    json_t *obj = json_object();

    json_object_set_new(obj, "id", json_string(rec->id));
    for (size_t i = 0; i < type->nfields; i++) {
        const struct field_spec *f = &type->fields[i];
        const struct field_value *v = &rec->values[i];
        json_t *value;
        if (f->type == FIELD_TEXT_LIST)
            value = render_list(v->set ? v->s : NULL);
        else if (!v->set)
            value = json_null();
        else if (f->type == FIELD_INT)
            value = json_integer(v->i);
        else
            value = json_string(v->s);
        json_object_set_new(obj, f->name, value);
    }
    json_object_set_new(obj, "version", json_integer(rec->version));
    json_object_set_new(obj, "created_at", render_timestamp(rec->created_at));
    json_object_set_new(obj, "updated_at", render_timestamp(rec->updated_at));
    return obj;
}
