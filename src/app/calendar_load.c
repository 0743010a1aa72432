/*
 * calendar_load.c - `convene calendar load FILE`: an office's IT staff
 * load the State Council's new holiday notice from the shell, into the
 * database a running service uses (SQLite WAL lets both write; the service
 * notices through data_version). Each year goes through PUT
 * /api/v1/workdays/{year} in-process, so the shell and the API accept
 * and refuse exactly the same notices; several years load all or nothing.
 *
 * FILE is the PUT body plus its year, {"year":2027,"holidays":[...],
 * "workdays":[...]}, or, for convenience, the shape of the project's
 * transcription of the notices, {"years":{"2027":[{"name","date"|"from",
 * "to","off"}]}}.
 */
#include "convene/api.h"
#include "convene/app.h"
#include "convene/store.h"
#include "convene/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct auth calendar_auth = {ROLE_ADMIN, "system", "convene calendar load", ""};

/* What a field of a notice is, in Chinese, for the person reading the error. */
static const char *field_zh(const char *field)
{
    static const struct {
        const char *suffix;
        const char *zh;
    } names[] = {{".name", "节日名称"}, {".from", "放假起始日期"}, {".to", "放假结束日期"},
                 {"year", "年份"}};
    size_t n = strlen(field);

    if (strncmp(field, "workdays", 8) == 0)
        return "调休上班日期";
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        size_t k = strlen(names[i].suffix);
        if (n >= k && strcmp(field + n - k, names[i].suffix) == 0)
            return names[i].zh;
    }
    return strncmp(field, "holidays", 8) == 0 ? "放假安排" : "内容";
}

static void refuse(FILE *err, const char *where, const char *field, const char *message)
{
    fprintf(err, "convene: 工作日历未载入：%s%s%s（%s）有误：%s\n", where, *where ? " " : "",
            field, field_zh(field), message);
    fprintf(err, "convene: calendar not loaded: %s%s%s: %s\n", where, *where ? " " : "", field,
            message);
}

/* One entry of the transcription shape -> the PUT body's holidays or workdays. */
static int convert_entry(json_t *entry, const char *where, json_t *holidays, json_t *workdays,
                         FILE *err)
{
    json_t *off = json_object_get(entry, "off"), *name = json_object_get(entry, "name");
    json_t *date = json_object_get(entry, "date");
    json_t *from = date ? date : json_object_get(entry, "from");
    json_t *to = date ? date : json_object_get(entry, "to");

    if (!json_is_object(entry) || !json_is_boolean(off) || !json_is_string(from) ||
        !json_is_string(to)) {
        refuse(err, "", where,
               "each entry is {\"name\", \"date\" or \"from\"/\"to\", \"off\": true|false}");
        return -1;
    }
    if (json_is_false(off)) {
        if (!json_equal(from, to)) {
            refuse(err, "", where, "a make-up working day (off: false) is one \"date\"");
            return -1;
        }
        json_array_append(workdays, from);
        return 0;
    }
    json_array_append_new(holidays, json_pack("{s:O?, s:O, s:O}", "name", name, "from", from,
                                              "to", to));
    return 0;
}

/* {"years":{"2027":[...]}} -> [[2027, body], ...]; NULL after reporting. */
static json_t *convert_years(json_t *years, FILE *err)
{
    json_t *out = json_array(), *entries;
    const char *key;

    if (!json_is_object(years) || json_object_size(years) == 0) {
        refuse(err, "", "years", "must be an object of years, e.g. {\"2027\": [...]}");
        json_decref(out);
        return NULL;
    }
    json_object_foreach(years, key, entries) {
        int64_t year;
        char where[64];
        if (parse_int64(key, WORKCAL_YEAR_MIN, WORKCAL_YEAR_MAX, &year) != 0 ||
            !json_is_array(entries)) {
            snprintf(where, sizeof(where), "years.%.8s", key);
            refuse(err, "", where, "must be a year with an array of entries");
            json_decref(out);
            return NULL;
        }
        json_t *holidays = json_array(), *workdays = json_array();
        for (size_t i = 0; i < json_array_size(entries); i++) {
            snprintf(where, sizeof(where), "years.%lld[%zu]", (long long)year, i);
            if (convert_entry(json_array_get(entries, i), where, holidays, workdays, err) != 0) {
                json_decref(holidays);
                json_decref(workdays);
                json_decref(out);
                return NULL;
            }
        }
        json_array_append_new(out, json_pack("[I, {s:o, s:o}]", (json_int_t)year, "holidays",
                                             holidays, "workdays", workdays));
    }
    return out;
}

json_t *calendar_file_read(const char *path, FILE *err)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *out = NULL;

    if (root == NULL) {
        fprintf(err, "convene: 无法读取 %s（不是有效的 JSON 文件）/ cannot read %s: line %d: %s\n",
                path, path, jerr.line, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        refuse(err, path, "(file)", "must be a JSON object {\"year\", \"holidays\", \"workdays\"}");
    } else if (json_object_get(root, "years") != NULL) {
        out = convert_years(json_object_get(root, "years"), err);
    } else if (!json_is_integer(json_object_get(root, "year"))) {
        refuse(err, path, "year", "'year' must be an integer, e.g. {\"year\": 2027, ...}");
    } else {
        out = json_pack("[[I, O]]", json_integer_value(json_object_get(root, "year")), root);
    }
    json_decref(root);
    return out;
}

/* Prints the API's refusal {"error":{"code","message","field"}} in both languages. */
static void report(FILE *err, int year, const struct api_response *res)
{
    json_t *body = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
    json_t *e = json_object_get(body, "error");
    const char *field = json_string_value(json_object_get(e, "field"));
    const char *message = json_string_value(json_object_get(e, "message"));
    char where[32];

    snprintf(where, sizeof(where), "%d:", year);
    refuse(err, where, field ? field : "(body)", message ? message : "refused");
    json_decref(body);
}

int calendar_file_load(struct app *app, json_t *notices, FILE *out, FILE *err)
{
    size_t i;
    json_t *item;

    if (store_begin(app->store) != STORE_OK) {
        fprintf(err, "convene: 数据库不可用 / the database is not available\n");
        return -1;
    }
    json_array_foreach(notices, i, item) {
        int year = (int)json_integer_value(json_array_get(item, 0));
        char path[64], *body = json_dumps(json_array_get(item, 1), JSON_COMPACT);
        struct api_response res;

        snprintf(path, sizeof(path), "/api/v1/workdays/%d", year);
        api_invoke(app, "PUT", path, body, &calendar_auth, &res);
        free(body);
        if (res.status != 200) {
            report(err, year, &res);
            api_response_free(&res);
            store_rollback(app->store);
            app_workcal_reload_stored(app);
            return -1;
        }
        json_t *got = json_loadb(res.body, res.body_len, 0, NULL);
        size_t nh = json_array_size(json_object_get(got, "holidays"));
        size_t nw = json_array_size(json_object_get(got, "workdays"));
        fprintf(out, "已载入 %d 年工作日历：%zu 个节假日，%zu 个调休上班日 / loaded %d: %zu holidays, "
                     "%zu make-up working days\n",
                year, nh, nw, year, nh, nw);
        json_decref(got);
        api_response_free(&res);
    }
    if (store_commit(app->store) != STORE_OK) {
        fprintf(err, "convene: 写入数据库失败 / could not write the database\n");
        return -1;
    }
    return 0;
}
