/*
 * templates.c - every Chinese message a robot posts, in one place
 * (templates.h). A template reads the message's data (the payload a
 * Standard Webhooks endpoint would get) and writes a headline and
 * labelled lines; message_markdown() writes them for WeCom or DingTalk.
 *
 * Templates never fail for want of a detail: a name that cannot be found
 * is left out. They never show a confidential meeting's title, place or
 * people, whoever the robot's group is.
 */
#include "convene/templates.h"

#include "convene/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMES_SHOWN 20    /* people listed by name; the rest are counted */
#define DATES_SHOWN 8     /* dates of a recurring trip listed */
#define CHANGES_SHOWN 6   /* meal changes listed */
#define TRIPS_SHOWN 3     /* a meeting's trips listed */

/* ---------------- reading the data ---------------- */

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static const char *look(const struct template_lookup *lk, const char *kind, const char *id)
{
    const char *s;

    if (lk == NULL || lk->name == NULL || id == NULL)
        return NULL;
    s = lk->name(lk->arg, kind, id);
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static json_t *look_event(const struct template_lookup *lk, const char *id)
{
    if (lk == NULL || lk->event == NULL || id == NULL)
        return NULL;
    return lk->event(lk->arg, id);
}

/* ---------------- dates and times ---------------- */

static const char *const weekdays[] = {"周日", "周一", "周二", "周三", "周四", "周五", "周六"};

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* A local time or date ("2026-12-07T09:00:00", "2026-12-07"); 0, or -1. */
static int parse_local(const char *s, struct local_time *lt)
{
    if (s == NULL)
        return -1;
    if (strlen(s) == 10)
        return time_date_parse(s, lt);
    return time_local_parse(s, lt);
}

/* "12月7日（周一）", or "" when s is not a date. */
static void fmt_day(const char *s, char out[40])
{
    struct local_time lt;

    out[0] = '\0';
    if (parse_local(s, &lt) != 0)
        return;
    int64_t days = days_from_civil(lt.year, lt.month, lt.day);
    snprintf(out, 40, "%d月%d日（%s）", lt.month, lt.day, weekdays[((days % 7) + 11) % 7]);
}

/* "12月7日", or "". */
static void fmt_short_day(const char *s, char out[24])
{
    struct local_time lt;

    out[0] = '\0';
    if (parse_local(s, &lt) == 0)
        snprintf(out, 24, "%d月%d日", lt.month, lt.day);
}

/* "09:00", or "". */
static void fmt_clock(const char *s, char out[8])
{
    struct local_time lt;

    out[0] = '\0';
    if (s != NULL && strlen(s) > 10 && time_local_parse(s, &lt) == 0)
        snprintf(out, 8, "%02d:%02d", lt.hour, lt.minute);
}

static int same_day(const char *a, const char *b)
{
    return a != NULL && b != NULL && strncmp(a, b, 10) == 0;
}

/* A time shown beside another: "10:00" the same day, else "12月8日（周二）10:00". */
static void fmt_moment(const char *s, const char *beside, char out[56])
{
    char day[40], clock[8];

    fmt_day(s, day);
    fmt_clock(s, clock);
    if (same_day(s, beside))
        snprintf(out, 56, "%s", clock);
    else
        snprintf(out, 56, "%s%s", day, clock);
}

/* Minutes between two local wall times (same zone); 0 if either is unreadable. */
static int64_t minutes_between(const char *a, const char *b)
{
    struct local_time x, y;

    if (parse_local(a, &x) != 0 || parse_local(b, &y) != 0)
        return 0;
    return (days_from_civil(y.year, y.month, y.day) - days_from_civil(x.year, x.month, x.day)) *
               1440 +
           (y.hour * 60 + y.minute) - (x.hour * 60 + x.minute);
}

/* The local wall time `minutes` after s, formatted as s is; 0 or -1. */
static int add_minutes(const char *s, int64_t minutes, char out[TIME_LOCAL_STR])
{
    struct local_time lt;

    if (time_local_parse(s, &lt) != 0)
        return -1;
    int64_t days = days_from_civil(lt.year, lt.month, lt.day);
    int64_t total = days * 1440 + lt.hour * 60 + lt.minute + minutes;
    int64_t day = total >= 0 ? total / 1440 : (total - 1439) / 1440;
    int64_t min = total - day * 1440;
    /* Civil from days (the inverse of days_from_civil). */
    int64_t z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    lt.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    lt.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    lt.year = (int)(yoe + era * 400 + (lt.month <= 2));
    lt.hour = (int)(min / 60);
    lt.minute = (int)(min % 60);
    time_local_format(&lt, out);
    return 0;
}

/* ---------------- building a message ---------------- */

/*
 * Characters the robots' markdown acts on, and the full-width forms shown
 * instead: a title like "[通知](http://…)" stays text, and Chinese text
 * reads naturally with full-width punctuation.
 */
static const struct {
    char ascii;
    const char *wide;
} markdown_chars[] = {
    {'*', "＊"}, {'_', "＿"}, {'`', "｀"}, {'#', "＃"}, {'[', "［"}, {']', "］"},
    {'<', "＜"}, {'>', "＞"}, {'|', "｜"}, {'~', "～"}, {'\\', "＼"},
};

/* Appends s cleaned: control characters as spaces, markdown characters full-width. */
static void put_clean(struct strbuf *b, const char *s)
{
    const char *run = s;

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        const char *with = NULL;

        if (c < 0x20 || c == 0x7f) {
            with = " ";
        } else {
            for (size_t i = 0; i < ARRAY_SIZE(markdown_chars) && with == NULL; i++)
                if (markdown_chars[i].ascii == (char)c)
                    with = markdown_chars[i].wide;
        }
        if (with == NULL)
            continue;
        strbuf_append(b, run, (size_t)(s - run));
        strbuf_puts(b, with);
        run = s + 1;
    }
    strbuf_append(b, run, (size_t)(s - run));
}

/* s cleaned and cut to MESSAGE_VALUE_MAX bytes on a character boundary; owned by the caller. */
static char *clean_value(const char *s)
{
    struct strbuf b;
    size_t keep;

    strbuf_init(&b, 4 * MESSAGE_VALUE_MAX + 64);
    put_clean(&b, s);
    if (b.data == NULL)
        return xstrdup("");
    if (b.len > MESSAGE_VALUE_MAX) {
        keep = utf8_valid_prefix(b.data, MESSAGE_VALUE_MAX - 3);
        b.len = keep;
        b.data[keep] = '\0';
        strbuf_puts(&b, "…");
    }
    return strbuf_detach(&b, NULL);
}

static char *vformat(const char *fmt, va_list ap)
{
    va_list copy;
    int n;
    char *out;

    va_copy(copy, ap);
    n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return xstrdup("");
    out = xmalloc((size_t)n + 1);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    return out;
}

void message_add(struct message *m, const char *label, const char *fmt, ...)
{
    va_list ap;
    char *raw;

    if (m->nlines == MESSAGE_LINES_MAX)
        return;
    va_start(ap, fmt);
    raw = vformat(fmt, ap);
    va_end(ap);
    m->lines[m->nlines].label = label;
    m->lines[m->nlines].value = clean_value(raw);
    m->nlines++;
    free(raw);
}

static void message_note(struct message *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void message_note(struct message *m, const char *fmt, ...)
{
    va_list ap;
    char *raw;

    va_start(ap, fmt);
    raw = vformat(fmt, ap);
    va_end(ap);
    free(m->note);
    m->note = clean_value(raw);
    free(raw);
}

void message_clear(struct message *m)
{
    for (size_t i = 0; i < m->nlines; i++)
        free(m->lines[i].value);
    free(m->note);
    free(m->link_text);
    free(m->link_url);
    memset(m, 0, sizeof(*m));
}

void message_set_link(struct message *m, const char *purpose, const char *url)
{
    free(m->link_text);
    free(m->link_url);
    m->link_text = xstrdup(strcmp(purpose, "ack") == 0       ? "确认收到"
                           : strcmp(purpose, "approve") == 0 ? "审批：同意 / 不同意"
                                                             : "回复：参加 / 不参加");
    m->link_url = xstrdup(url);
}

static void headline(struct message *m, const char *text)
{
    snprintf(m->headline, sizeof(m->headline), "%s", text);
}

/*
 * Names joined with "、", NAMES_SHOWN at most, then "等N人". items are
 * ids (looked up as kind) or, when names is given, names in the same
 * order (a null name falls back to the lookup).
 */
static void put_names(struct strbuf *b, json_t *ids, json_t *names, const char *kind,
                      const struct template_lookup *lk)
{
    size_t i, shown = 0, total = 0;
    json_t *id;

    json_array_foreach(ids, i, id) {
        const char *name = json_string_value(json_array_get(names, i));
        const char *pid = json_is_string(id) ? json_string_value(id)
                                             : str(id, "person"); /* attendee objects */
        if (name == NULL)
            name = look(lk, kind, pid);
        if (name == NULL)
            continue;
        total++;
        if (shown == NAMES_SHOWN)
            continue;
        strbuf_puts(b, shown ? "、" : "");
        strbuf_puts(b, name);
        shown++;
    }
    if (total > shown)
        strbuf_printf(b, "等%zu人", total);
}

/* Adds "label: names" when any name is known. */
static void add_names(struct message *m, const char *label, json_t *ids, json_t *names,
                      const char *kind, const struct template_lookup *lk)
{
    struct strbuf b;

    strbuf_init(&b, 64 * 1024);
    put_names(&b, ids, names, kind, lk);
    if (b.len > 0)
        message_add(m, label, "%s", b.data);
    strbuf_free(&b);
}

/* ---------------- trips: 派车通知 / 变更 / 取消 / 未确认 ---------------- */

/* "红旗H5（京A12345）" from the trip's own name and plate, or looked up. */
static void vehicle_label(json_t *trip, const char *vehicle_id, const struct template_lookup *lk,
                          struct strbuf *b)
{
    int own = vehicle_id == NULL;
    const char *id = own ? str(trip, "vehicle") : vehicle_id;
    const char *name = own ? str(trip, "vehicle_name") : NULL;
    const char *plate = own ? str(trip, "plate") : NULL;

    if (name == NULL)
        name = look(lk, "vehicle", id);
    if (plate == NULL)
        plate = look(lk, "plate", id);
    if (name != NULL && plate != NULL)
        strbuf_printf(b, "%s（%s）", name, plate);
    else if (name != NULL || plate != NULL)
        strbuf_puts(b, name != NULL ? name : plate);
}

static const char *driver_name(json_t *trip, const struct template_lookup *lk)
{
    const char *name = str(trip, "driver_name");
    return name != NULL ? name : look(lk, "person", str(trip, "driver"));
}

/* 日期 (and each date of a series), 出发, 路线, 车辆, 驾驶员, 乘车人, 会议. */
static void trip_lines(struct message *m, json_t *data, const struct template_lookup *lk)
{
    json_t *trip = json_object_get(data, "trip"), *occ = json_object_get(data, "occurrences");
    int confidential = json_is_true(json_object_get(data, "confidential"));
    json_int_t count = json_integer_value(json_object_get(data, "occurrence_count"));
    const char *depart = str(trip, "depart"), *ret = str(trip, "return");
    char day[40], clock[8], back[56];
    struct strbuf b;

    strbuf_init(&b, 64 * 1024);
    fmt_day(depart, day);
    if (count > 1) {
        message_add(m, "日期", "%s起，共%lld次", day, (long long)count);
        for (size_t i = 0; i < json_array_size(occ) && i < DATES_SHOWN; i++) {
            char d[24];
            fmt_short_day(json_string_value(json_array_get(occ, i)), d);
            strbuf_printf(&b, "%s%s", i ? "、" : "", d);
        }
        if ((size_t)count > DATES_SHOWN)
            strbuf_puts(&b, "……");
        message_add(m, "各次", "%s", b.data ? b.data : "");
        b.len = 0;
    } else {
        message_add(m, "日期", "%s", day);
    }
    fmt_clock(depart, clock);
    fmt_moment(ret, depart, back);
    if (back[0])
        message_add(m, "出发", "%s（返回 %s）", clock, back);
    else
        message_add(m, "出发", "%s", clock);
    if (str(trip, "from") || str(trip, "to"))
        message_add(m, "路线", "%s → %s", str(trip, "from") ? str(trip, "from") : "—",
                    str(trip, "to") ? str(trip, "to") : "—");
    vehicle_label(trip, NULL, lk, &b);
    if (b.len > 0)
        message_add(m, "车辆", "%s", b.data);
    strbuf_free(&b);
    if (driver_name(trip, lk) != NULL)
        message_add(m, "驾驶员", "%s", driver_name(trip, lk));
    /* A driver learns where and when to drive whom, never what a confidential meeting is about. */
    if (!confidential) {
        add_names(m, "乘车人", json_object_get(trip, "passengers"),
                  json_object_get(trip, "passenger_names"), "person", lk);
        if (str(data, "title"))
            message_add(m, "会议", "%s", str(data, "title"));
    }
}

/* What changed in a trip, in the words a driver uses: "出发 08:20 → 08:10；车辆 …". */
static void trip_changes(struct message *m, json_t *data, const struct template_lookup *lk)
{
    json_t *changes = json_object_get(data, "changes"), *c;
    const char *key;
    struct strbuf b;

    strbuf_init(&b, 64 * 1024);
    json_object_foreach(changes, key, c) {
        const char *old = str(c, "old"), *new_ = str(c, "new");
        char a[56], z[56];
        size_t before = b.len;

        strbuf_puts(&b, before ? "；" : "");
        if (strcmp(key, "depart") == 0 || strcmp(key, "return") == 0) {
            fmt_moment(old, new_, a);
            fmt_moment(new_, old, z);
            strbuf_printf(&b, "%s %s → %s", key[0] == 'd' ? "出发" : "返回", a, z);
        } else if (strcmp(key, "from") == 0 || strcmp(key, "to") == 0) {
            strbuf_printf(&b, "%s %s → %s", key[0] == 'f' ? "出发地" : "目的地",
                          old ? old : "—", new_ ? new_ : "—");
        } else if (strcmp(key, "vehicle") == 0) {
            struct strbuf v;
            strbuf_init(&v, 1024);
            vehicle_label(NULL, old, lk, &v);
            strbuf_printf(&b, "车辆 %s → ", v.len ? v.data : "—");
            v.len = 0;
            vehicle_label(NULL, new_, lk, &v);
            strbuf_puts(&b, v.len ? v.data : "—");
            strbuf_free(&v);
        } else if (strcmp(key, "driver") == 0) {
            const char *x = look(lk, "person", old), *y = look(lk, "person", new_);
            strbuf_printf(&b, "驾驶员 %s → %s", x ? x : "—", y ? y : "—");
        } else if (strcmp(key, "passengers") == 0) {
            /* Who rides now is listed below, unless the meeting is confidential. */
            strbuf_puts(&b, "乘车人有调整");
        } else {
            b.len = before; /* a field this template does not know: the lines above show it */
            if (b.data)
                b.data[b.len] = '\0';
        }
    }
    if (b.len > 0)
        message_add(m, "变更", "%s", b.data);
    strbuf_free(&b);
}

static int render_dispatch(const char *type, json_t *data, const struct template_lookup *lk,
                           struct message *m)
{
    static const struct {
        const char *reason, *text;
    } reasons[] = {{"event_cancelled", "会议取消"},
                   {"occurrence_cancelled", "该次会议取消"},
                   {"trip_removed", "不再用车"},
                   {"awaiting_approval", "会议变更待审批，审批通过后另行通知"}};
    const char *what = type + strlen("dispatch.");

    if (strcmp(what, "assigned") == 0) {
        headline(m, "派车通知");
    } else if (strcmp(what, "updated") == 0) {
        headline(m, "派车变更");
        trip_changes(m, data, lk);
    } else if (strcmp(what, "cancelled") == 0) {
        headline(m, "派车取消");
        const char *reason = str(data, "reason"), *text = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(reasons) && reason != NULL; i++)
            if (strcmp(reason, reasons[i].reason) == 0)
                text = reasons[i].text;
        if (text != NULL)
            message_add(m, "原因", "%s", text);
    } else if (strcmp(what, "unacknowledged") == 0) {
        json_t *trip = json_object_get(data, "trip");
        const char *driver = driver_name(trip, lk);
        headline(m, "派车未确认");
        message_add(m, "提醒", "%s尚未确认收到，距出发约%lld分钟，请联系驾驶员",
                    driver ? driver : "驾驶员",
                    (long long)json_integer_value(json_object_get(data, "minutes_left")));
    } else {
        return -1;
    }
    trip_lines(m, data, lk);
    if (strcmp(what, "cancelled") == 0)
        message_note(m, "本次派车已取消，无需出车。");
    else if (strcmp(what, "updated") == 0)
        message_note(m, "派车有变化，请驾驶员重新确认。");
    return 0;
}

/* ---------------- meetings: 会议通知 / 变更 / 取消 / 提醒 ---------------- */

/* "12月7日（周一）09:00–10:30", the end's date added when it is another day. */
static void meeting_time(const char *start, const char *end, struct strbuf *b)
{
    char day[40], clock[8], until[56];

    fmt_day(start, day);
    fmt_clock(start, clock);
    strbuf_printf(b, "%s%s", day, clock);
    if (end != NULL) {
        fmt_moment(end, start, until);
        if (until[0])
            strbuf_printf(b, "–%s", until);
    }
}

/* "第一会议室（三楼）、市政府二楼": the room and the location, as far as known. */
static void meeting_place(json_t *ev, const struct template_lookup *lk, struct strbuf *b)
{
    const char *room = str(ev, "room");
    const char *name = look(lk, "room", room), *where = look(lk, "room_location", room);
    const char *location = str(ev, "location");

    if (name != NULL) {
        strbuf_puts(b, name);
        if (where != NULL)
            strbuf_printf(b, "（%s）", where);
    }
    /* A location that only repeats the room's name or place says nothing more. */
    if (location != NULL && (name == NULL || strstr(location, name) == NULL) &&
        (where == NULL || strcmp(where, location) != 0))
        strbuf_printf(b, "%s%s", name ? "，" : "", location);
}

/* 会议, 时间, 地点, 参加: what a meeting message says; a confidential one, only when. */
static void meeting_lines(struct message *m, json_t *ev, const char *start, const char *end,
                          const struct template_lookup *lk)
{
    int confidential = json_is_true(json_object_get(ev, "confidential"));
    struct strbuf b;

    strbuf_init(&b, 64 * 1024);
    if (confidential)
        message_add(m, "会议", "保密会议（详情请向办公室了解）");
    else if (str(ev, "title"))
        message_add(m, "会议", "%s", str(ev, "title"));
    meeting_time(start, end, &b);
    if (str(ev, "rrule"))
        strbuf_puts(&b, "（周期性会议）");
    message_add(m, "时间", "%s", b.data ? b.data : "");
    if (!confidential) {
        b.len = 0;
        meeting_place(ev, lk, &b);
        if (b.len > 0)
            message_add(m, "地点", "%s", b.data);
        add_names(m, "参加", json_object_get(ev, "attendees"), NULL, "person", lk);
    }
    strbuf_free(&b);
}

/* A meeting's trips: "08:20 机关大院 → 市政府，红旗H5（京A12345）". */
static void meeting_trips(struct message *m, json_t *ev, const struct template_lookup *lk)
{
    json_t *trips = json_object_get(ev, "trips"), *t;
    size_t i;
    struct strbuf b;

    strbuf_init(&b, 64 * 1024);
    json_array_foreach(trips, i, t) {
        char clock[8];
        if (i == TRIPS_SHOWN) {
            strbuf_printf(&b, "等%zu趟", json_array_size(trips));
            break;
        }
        fmt_clock(str(t, "depart"), clock);
        strbuf_printf(&b, "%s%s %s → %s", i ? "；" : "", clock,
                      str(t, "from") ? str(t, "from") : "—", str(t, "to") ? str(t, "to") : "—");
        size_t mark = b.len;
        strbuf_puts(&b, "，");
        vehicle_label(NULL, str(t, "vehicle"), lk, &b);
        if (b.len == mark + strlen("，") && b.data) {
            b.len = mark; /* no vehicle (preempted, or unknown) */
            b.data[b.len] = '\0';
        }
    }
    if (b.len > 0)
        message_add(m, "用车", "%s", b.data);
    strbuf_free(&b);
}

/* The fields of an event.updated "changes", in the office's words. */
static void meeting_changes(struct message *m, json_t *data)
{
    static const struct {
        const char *field, *word;
    } words[] = {{"title", "会议名称"}, {"start", "时间"},      {"end", "时间"},
                 {"tz", "时间"},        {"rrule", "重复"},      {"exdates", "重复"},
                 {"location", "地点"},  {"room", "会议室"},     {"attendees", "参加人员"},
                 {"trips", "用车"},     {"meals", "用餐"},      {"guests", "用餐"},
                 {"description", "议题"}, {"confidential", "密级"}, {"reminders", "提醒"}};
    json_t *changes = json_object_get(data, "changes");
    struct strbuf b;

    strbuf_init(&b, 4096);
    for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
        if (json_object_get(changes, words[i].field) == NULL)
            continue;
        /* Each word once, though several fields say it (start and end: 时间). */
        if (b.data != NULL && strstr(b.data, words[i].word) != NULL)
            continue;
        strbuf_printf(&b, "%s%s", b.len ? "、" : "", words[i].word);
    }
    if (b.len > 0)
        message_add(m, "变更", "%s", b.data);
    strbuf_free(&b);
}

static int render_event(const char *type, json_t *data, const struct template_lookup *lk,
                        struct message *m)
{
    json_t *ev = json_object_get(data, "event");
    const char *what = type + strlen("event.");

    if (!json_is_object(ev))
        return -1;
    if (strcmp(what, "created") == 0) {
        headline(m, "会议通知");
    } else if (strcmp(what, "updated") == 0) {
        headline(m, "会议变更");
        meeting_changes(m, data);
    } else if (strcmp(what, "cancelled") == 0) {
        headline(m, "会议取消");
    } else if (strcmp(what, "preempted") == 0) {
        json_t *lost = json_object_get(data, "lost");
        int room = str(lost, "type") && strcmp(str(lost, "type"), "room") == 0;
        headline(m, room ? "会议室调整" : "用车调整");
        message_add(m, "说明", room ? "原定会议室已让给更重要的会议，请另行安排会议室"
                                    : "原定车辆已调给更重要的会议，请另行安排车辆");
    } else {
        return -1;
    }
    meeting_lines(m, ev, str(ev, "start") ? str(ev, "start") : str(ev, "date"), str(ev, "end"),
                  lk);
    if (strcmp(what, "cancelled") != 0 && !json_is_true(json_object_get(ev, "confidential")))
        meeting_trips(m, ev, lk);
    if (strcmp(what, "cancelled") == 0)
        message_note(m, "会议已取消，相关派车与用餐一并取消。");
    return 0;
}

/* "30分钟后开始", "2小时后开始", "1天后开始", "现在开始". */
static void starts_in(int64_t minutes, char out[48])
{
    if (minutes <= 0)
        snprintf(out, 48, "现在开始");
    else if (minutes % 1440 == 0)
        snprintf(out, 48, "%lld天后开始", (long long)(minutes / 1440));
    else if (minutes % 60 == 0)
        snprintf(out, 48, "%lld小时后开始", (long long)(minutes / 60));
    else if (minutes > 60)
        snprintf(out, 48, "%lld小时%lld分钟后开始", (long long)(minutes / 60),
                 (long long)(minutes % 60));
    else
        snprintf(out, 48, "%lld分钟后开始", (long long)minutes);
}

static int render_reminder(json_t *data, const struct template_lookup *lk, struct message *m)
{
    json_t *doc = look_event(lk, str(data, "event"));
    json_t *ev = json_object();
    const char *start = str(data, "start");
    char end[TIME_LOCAL_STR], soon[48];
    int64_t length = 0;

    /*
     * The stored document says whether the meeting is confidential, who
     * attends and how long it lasts; the message itself carries only what
     * its attendee may read. Without the document, only the time is said.
     */
    if (doc != NULL) {
        json_object_update(ev, doc);
        length = minutes_between(str(doc, "start"), str(doc, "end"));
    } else {
        json_object_set_new(ev, "confidential", json_true());
    }
    if (str(data, "title") != NULL && json_object_get(ev, "title") == NULL)
        json_object_set(ev, "title", json_object_get(data, "title"));
    headline(m, "会议提醒");
    starts_in(json_integer_value(json_object_get(data, "offset_minutes")), soon);
    message_add(m, "提醒", "%s", soon);
    meeting_lines(m, ev, start,
                  length > 0 && start && add_minutes(start, length, end) == 0 ? end : NULL, lk);
    if (json_is_true(json_object_get(data, "late")))
        message_note(m, "服务恢复后补发的提醒。");
    json_decref(ev);
    return 0;
}

/* ---------------- catering: 用餐人数变更 ---------------- */

static const char *meal_word(const char *meal)
{
    static const struct {
        const char *meal, *word;
    } words[] = {{"breakfast", "早餐"}, {"lunch", "午餐"}, {"dinner", "晚餐"}};

    for (size_t i = 0; meal != NULL && i < ARRAY_SIZE(words); i++)
        if (strcmp(meal, words[i].meal) == 0)
            return words[i].word;
    return meal != NULL ? meal : "用餐";
}

static const char *diet_word(const char *diet)
{
    static const struct {
        const char *diet, *word;
    } words[] = {{"regular", "普通"}, {"halal", "清真"}, {"vegetarian", "素食"}};

    for (size_t i = 0; i < ARRAY_SIZE(words); i++)
        if (strcmp(diet, words[i].diet) == 0)
            return words[i].word;
    return diet;
}

/* "共 23 人（普通 20、清真 2、素食 1）": diets only when any is special. */
static void meal_total(json_t *meal, struct strbuf *b)
{
    json_t *diets = json_object_get(meal, "diets"), *n;
    const char *diet;
    size_t special = 0, shown = 0;

    strbuf_printf(b, "共 %lld 人", (long long)json_integer_value(json_object_get(meal, "total")));
    json_object_foreach(diets, diet, n) {
        special += strcmp(diet, "regular") != 0 && json_integer_value(n) > 0;
    }
    if (special == 0)
        return;
    strbuf_puts(b, "（");
    /* The regular meals first, then the special diets as the payload lists them. */
    if (json_integer_value(json_object_get(diets, "regular")) > 0)
        strbuf_printf(b, "%s %lld", diet_word("regular"),
                      (long long)json_integer_value(json_object_get(diets, "regular")));
    shown = json_integer_value(json_object_get(diets, "regular")) > 0;
    json_object_foreach(diets, diet, n) {
        if (json_integer_value(n) <= 0 || strcmp(diet, "regular") == 0)
            continue;
        strbuf_printf(b, "%s%s %lld", shown++ ? "、" : "", diet_word(diet),
                      (long long)json_integer_value(n));
    }
    strbuf_puts(b, "）");
}

static int render_catering(json_t *data, struct message *m)
{
    json_t *meals = json_object_get(data, "meals"), *changes = json_object_get(data, "changes");
    json_t *item;
    char day[40];
    size_t i;
    struct strbuf b;

    headline(m, "用餐人数变更");
    fmt_day(str(data, "date"), day);
    message_add(m, "日期", "%s", day);
    strbuf_init(&b, 64 * 1024);
    json_array_foreach(meals, i, item) {
        b.len = 0;
        meal_total(item, &b);
        /* The label must be static text: known meals have one, others are named in the value. */
        const char *word = meal_word(str(item, "meal"));
        int known = word != str(item, "meal");
        if (known)
            message_add(m, word, "%s", b.data);
        else
            message_add(m, "用餐", "%s %s", word, b.data);
    }
    if (json_array_size(meals) == 0)
        message_add(m, "合计", "当日已无用餐安排");
    json_array_foreach(changes, i, item) {
        if (i == CHANGES_SHOWN) {
            message_add(m, "变更", "另有%zu项变更", json_array_size(changes) - CHANGES_SHOWN);
            break;
        }
        /* A confidential meeting's change carries no title: it is counted, not named. */
        const char *title = str(item, "title");
        message_add(m, "变更", "%s %s %lld → %lld 人%s", title ? title : "（保密会议）",
                    meal_word(str(item, "meal")),
                    (long long)json_integer_value(json_object_get(item, "old")),
                    (long long)json_integer_value(json_object_get(item, "new")),
                    json_is_true(json_object_get(item, "late")) ? "（截止后）" : "");
    }
    strbuf_free(&b);
    if (json_is_true(json_object_get(data, "late")))
        message_note(m, "已过报餐截止时间，请食堂留意调整。");
    return 0;
}

/* ---------------- the service itself ---------------- */

static int render_disabled(json_t *data, struct message *m)
{
    headline(m, "通知渠道停用");
    /* Not the URL: a robot's URL is its key, and this group may not own that robot. */
    message_add(m, "渠道", "%s", str(data, "webhook") ? str(data, "webhook") : "—");
    if (str(data, "reason"))
        message_add(m, "原因", "%s", str(data, "reason"));
    message_note(m, "请管理员检查后重新启用。");
    return 0;
}

/* ---------------- approvals: 审批提醒 / 审批结果 ---------------- */

/* "¥30,000.00": a budget amount in yuan with thousands separators. */
static void fmt_yuan(json_t *budget, char out[64])
{
    double v = json_number_value(json_object_get(budget, "amount"));
    long long cents = (long long)(v * 100.0 + 0.5), yuan = cents / 100;
    char digits[32], grouped[48];
    size_t n, g = 0;

    snprintf(digits, sizeof(digits), "%lld", yuan);
    n = strlen(digits);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            grouped[g++] = ',';
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    snprintf(out, 64, "¥%s.%02lld", grouped, cents % 100);
}

/* Why an approval is asked, in the office's words. */
static void approval_reason(json_t *approval, json_t *ev, struct strbuf *b)
{
    static const struct {
        const char *tier, *word;
    } tiers[] = {{"office_director", "办公室主任审批"},
                 {"in_charge", "分管领导审批"},
                 {"principal", "主要领导审批"},
                 {"collective", "须经办公会集体研究"}};
    const char *reason = str(approval, "reason"), *tier = str(approval, "tier");
    char amount[64];

    if (reason != NULL && strcmp(reason, "budget") == 0) {
        fmt_yuan(json_object_get(ev, "budget"), amount);
        strbuf_printf(b, "经费%s", amount);
        for (size_t i = 0; tier != NULL && i < ARRAY_SIZE(tiers); i++)
            if (strcmp(tier, tiers[i].tier) == 0)
                strbuf_printf(b, "（%s）", tiers[i].word);
    } else if (reason != NULL && strcmp(reason, "off_day_vehicle") == 0) {
        strbuf_puts(b, "休息日、节假日用车");
    } else if (reason != NULL && strcmp(reason, "room") == 0) {
        strbuf_puts(b, "使用专管会议室");
    } else {
        strbuf_puts(b, reason ? reason : "—");
    }
}

/*
 * approval.requested (to the approver) and approval.decided (to the
 * requester). The approver's one-tap link (an endpoint bound to them) is
 * set by fan-out (message_set_link), as for trips and answers.
 */
static int render_approval(const char *type, json_t *data, const struct template_lookup *lk,
                           struct message *m)
{
    static const struct {
        const char *decision, *word;
    } words[] = {{"approved", "已同意"}, {"rejected", "未同意"}, {"expired", "逾期未审批，已自动取消"}};
    json_t *approval = json_object_get(data, "approval"), *ev = json_object_get(data, "event");
    int requested = strcmp(type, "approval.requested") == 0;
    const char *decision = str(data, "decision"), *who;
    struct strbuf b;
    char expires[56];

    if (!json_is_object(approval) || !json_is_object(ev) || (!requested && decision == NULL))
        return -1;
    headline(m, requested ? "审批提醒" : "审批结果");
    strbuf_init(&b, 4096);
    approval_reason(approval, ev, &b);
    message_add(m, "事由", "%s", b.data ? b.data : "");
    strbuf_free(&b);
    if (!requested) {
        const char *word = decision;
        for (size_t i = 0; i < ARRAY_SIZE(words); i++)
            if (strcmp(decision, words[i].decision) == 0)
                word = words[i].word;
        message_add(m, "结果", "%s", word);
        if ((who = look(lk, "person", str(approval, "decided_by"))) != NULL)
            message_add(m, "审批人", "%s", who);
        if (str(approval, "comment"))
            message_add(m, "意见", "%s", str(approval, "comment"));
    } else if ((who = look(lk, "person", str(approval, "approver"))) != NULL) {
        message_add(m, "审批人", "%s", who);
    }
    meeting_lines(m, ev, str(ev, "start") ? str(ev, "start") : str(ev, "date"), str(ev, "end"),
                  lk);
    if (requested && str(ev, "tz") != NULL && str(approval, "expires") != NULL) {
        /* The deadline in the meeting's own wall clock, as people read it. */
        struct local_time lt;
        int64_t utc;
        char local[TIME_LOCAL_STR], zulu[TIME_LOCAL_STR];
        snprintf(zulu, sizeof(zulu), "%.19s", str(approval, "expires"));
        if (time_local_parse(zulu, &lt) == 0 && time_local_to_utc(&lt, "UTC", &utc) == TIME_OK &&
            time_utc_to_local(utc, str(ev, "tz"), &lt) == 0) {
            time_local_format(&lt, local);
            fmt_moment(local, NULL, expires);
            message_add(m, "截止", "%s前未审批的，预订自动取消", expires);
        }
    }
    if (requested)
        message_note(m, "请在会议前审批；同意后再通知派车、订餐。");
    return 0;
}

int template_render(const char *type, json_t *data, const struct template_lookup *lookup,
                    struct message *out)
{
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(data))
        return -1;
    if (strncmp(type, "dispatch.", 9) == 0)
        rc = render_dispatch(type, data, lookup, out);
    else if (strncmp(type, "event.", 6) == 0)
        rc = render_event(type, data, lookup, out);
    else if (strcmp(type, "reminder.due") == 0)
        rc = render_reminder(data, lookup, out);
    else if (strcmp(type, "catering.updated") == 0)
        rc = render_catering(data, out);
    else if (strcmp(type, "webhook.disabled") == 0)
        rc = render_disabled(data, out);
    else if (strncmp(type, "approval.", 9) == 0)
        rc = render_approval(type, data, lookup, out);
    if (rc != 0)
        message_clear(out);
    return rc;
}

/* ---------------- markdown and the robots' bodies ---------------- */

/*
 * WeCom breaks lines at "\n"; DingTalk's markdown joins single newlines
 * into one paragraph, so its lines are paragraphs ("\n\n").
 */
static const char *line_break(enum webhook_format f)
{
    return f == WEBHOOK_DINGTALK ? "\n\n" : "\n";
}

#define ELLIPSIS_LINE "……"

void message_markdown(const struct message *m, enum webhook_format f, struct strbuf *out)
{
    const char *nl = line_break(f);
    struct strbuf line;

    out->len = 0;
    out->overflow = 0;
    strbuf_printf(out, "### %s", m->headline);
    strbuf_init(&line, 8 * MESSAGE_VALUE_MAX);
    /* Lines go in whole or not at all; the closing part (note, link) keeps room for itself. */
    size_t reserve = strlen(nl) + strlen(ELLIPSIS_LINE) + (m->note ? strlen(m->note) + 8 : 0) +
                     (m->link_url ? strlen(m->link_url) + strlen(m->link_text) + 16 : 0);
    for (size_t i = 0; i < m->nlines; i++) {
        line.len = 0;
        strbuf_printf(&line, "%s**%s**：%s", nl, m->lines[i].label, m->lines[i].value);
        if (out->len + line.len + reserve > CHANNEL_TEXT_MAX) {
            strbuf_printf(out, "%s%s", nl, ELLIPSIS_LINE);
            break;
        }
        strbuf_append(out, line.data, line.len);
    }
    strbuf_free(&line);
    if (m->note != NULL)
        strbuf_printf(out, "%s> %s", nl, m->note);
    if (m->link_url != NULL && m->link_text != NULL)
        strbuf_printf(out, "%s[%s](%s)", nl, m->link_text, m->link_url);
}

char *message_robot_body(const struct message *m, enum webhook_format f)
{
    struct strbuf text;
    json_t *body = NULL;
    char *out;

    if (!webhook_format_is_robot(f))
        return NULL;
    strbuf_init(&text, 2 * CHANNEL_TEXT_MAX);
    message_markdown(m, f, &text);
    if (f == WEBHOOK_WECOM)
        body = json_pack("{s:s, s:{s:s}}", "msgtype", "markdown", "markdown", "content",
                         text.data ? text.data : "");
    else
        /* The title is what the phone's notification and the chat list show. */
        body = json_pack("{s:s, s:{s:s, s:s}}", "msgtype", "markdown", "markdown", "title",
                         m->headline, "text", text.data ? text.data : "");
    strbuf_free(&text);
    out = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return out;
}
