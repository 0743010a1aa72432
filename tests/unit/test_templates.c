/*
 * test_templates.c - notify/templates.c by snapshot: each message type's
 * payload (as the service writes it) rendered to the exact markdown a
 * robot posts, for WeCom ("\n" lines) and DingTalk ("\n\n" paragraphs);
 * confidential meetings never showing title, place or people; markdown in
 * user text neutralised; the 4096-byte limit; dates with weekdays.
 *
 * Names and stored events come from a fake lookup (the table below), as
 * fanout.c would find them in the store.
 */
#include "check.h"

#include "convene/templates.h"

#include <jansson.h>
#include <string.h>

/* ---------------- the fake store ---------------- */

static const char *const names[][3] = {
    {"person", "p_wang", "王局长"},   {"person", "p_li", "李秘书"},
    {"person", "p_zhang", "张师傅"},  {"person", "p_zhao", "赵师傅"},
    {"vehicle", "v_hq", "红旗H5"},    {"plate", "v_hq", "京A12345"},
    {"vehicle", "v_bus", "考斯特"},   {"plate", "v_bus", "京B00001"},
    {"room", "r_1", "第一会议室"},    {"room_location", "r_1", "三楼"},
};

static json_t *stored_events; /* id -> document */

static const char *fake_name(void *arg, const char *kind, const char *id)
{
    (void)arg;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i][0], kind) == 0 && strcmp(names[i][1], id) == 0)
            return names[i][2];
    return NULL;
}

static json_t *fake_event(void *arg, const char *id)
{
    (void)arg;
    return json_object_get(stored_events, id);
}

static const struct template_lookup lookup = {fake_name, fake_event, NULL};

/* ---------------- rendering ---------------- */

/* The markdown of type/payload for format f; "" when there is no template. Owned by the caller. */
static char *render(const char *type, const char *payload, enum webhook_format f)
{
    json_error_t error;
    json_t *data = json_loads(payload, 0, &error);
    struct message m;
    struct strbuf out;
    char *text;

    if (data == NULL) {
        fprintf(stderr, "    bad test payload: %s\n", error.text);
        return strdup("(bad payload)");
    }
    strbuf_init(&out, 1 << 20);
    if (template_render(type, data, &lookup, &m) != 0) {
        json_decref(data);
        return strdup("");
    }
    message_markdown(&m, f, &out);
    message_clear(&m);
    json_decref(data);
    text = strbuf_detach(&out, NULL);
    return text ? text : strdup("");
}

#define SNAPSHOT(type, payload, f, expected)                                                  \
    do {                                                                                      \
        char *got_ = render(type, payload, f);                                                \
        CHECK_EQ_STR(got_, expected);                                                         \
        free(got_);                                                                           \
    } while (0)

/* ---------------- trips ---------------- */

#define TRIP_GAPS                                                                               \
    "{\"id\":\"trip_1\",\"event\":\"evt_1\",\"recurrence_id\":\"2026-12-07T09:00:00\","          \
    "\"depart\":\"2026-12-07T08:20:00\",\"return\":\"2026-12-07T11:30:00\","                    \
    "\"tz\":\"Asia/Shanghai\",\"from\":\"机关大院\",\"to\":\"市政府\",\"vehicle\":\"v_hq\","     \
    "\"driver\":\"p_zhang\",\"passengers\":[\"p_wang\",\"p_li\"],"                               \
    "\"passenger_names\":[\"王局长\",\"李秘书\"],\"vehicle_name\":\"红旗H5\","                   \
    "\"plate\":\"京A12345\",\"driver_name\":\"张师傅\"}"

/* The same trip as payloads before vehicle names were added: everything is looked up. */
#define TRIP_BARE                                                                               \
    "{\"id\":\"trip_1\",\"event\":\"evt_1\",\"recurrence_id\":\"2026-12-07T09:00:00\","          \
    "\"depart\":\"2026-12-07T08:20:00\",\"return\":\"2026-12-07T11:30:00\","                    \
    "\"tz\":\"Asia/Shanghai\",\"from\":\"机关大院\",\"to\":\"市政府\",\"vehicle\":\"v_hq\","     \
    "\"driver\":\"p_zhang\",\"passengers\":[\"p_wang\",\"p_li\"]}"

static const char assigned_wecom[] = "### 派车通知\n"
                                     "**日期**：12月7日（周一）\n"
                                     "**出发**：08:20（返回 11:30）\n"
                                     "**路线**：机关大院 → 市政府\n"
                                     "**车辆**：红旗H5（京A12345）\n"
                                     "**驾驶员**：张师傅\n"
                                     "**乘车人**：王局长、李秘书\n"
                                     "**会议**：党组会";

static void test_dispatch_assigned(void)
{
    SNAPSHOT("dispatch.assigned",
             "{\"event\":\"evt_1\",\"confidential\":false,\"trip\":" TRIP_GAPS
             ",\"occurrences\":[\"2026-12-07T09:00:00\"],\"occurrence_count\":1,"
             "\"audience\":[\"p_zhang\"],\"title\":\"党组会\"}",
             WEBHOOK_WECOM, assigned_wecom);
    /* Without the names in the payload, the lookup finds the same ones. */
    SNAPSHOT("dispatch.assigned",
             "{\"event\":\"evt_1\",\"confidential\":false,\"trip\":" TRIP_BARE
             ",\"occurrences\":[\"2026-12-07T09:00:00\"],\"occurrence_count\":1,"
             "\"audience\":[\"p_zhang\"],\"title\":\"党组会\"}",
             WEBHOOK_WECOM, assigned_wecom);
}

static void test_dispatch_updated(void)
{
    SNAPSHOT("dispatch.updated",
             "{\"event\":\"evt_1\",\"confidential\":false,\"trip\":" TRIP_GAPS
             ",\"occurrences\":[\"2026-12-07T09:00:00\"],\"occurrence_count\":1,"
             "\"title\":\"党组会\",\"changes\":{"
             "\"depart\":{\"old\":\"2026-12-07T08:40:00\",\"new\":\"2026-12-07T08:20:00\"},"
             "\"vehicle\":{\"old\":\"v_bus\",\"new\":\"v_hq\"},"
             "\"driver\":{\"old\":\"p_zhao\",\"new\":\"p_zhang\"}}}",
             WEBHOOK_DINGTALK,
             "### 派车变更\n\n"
             "**变更**：出发 08:40 → 08:20；车辆 考斯特（京B00001） → 红旗H5（京A12345）；"
             "驾驶员 赵师傅 → 张师傅\n\n"
             "**日期**：12月7日（周一）\n\n"
             "**出发**：08:20（返回 11:30）\n\n"
             "**路线**：机关大院 → 市政府\n\n"
             "**车辆**：红旗H5（京A12345）\n\n"
             "**驾驶员**：张师傅\n\n"
             "**乘车人**：王局长、李秘书\n\n"
             "**会议**：党组会\n\n"
             "> 派车有变化，请驾驶员重新确认。");
    /* A move to another day says the day. */
    SNAPSHOT("dispatch.updated",
             "{\"event\":\"evt_1\",\"confidential\":false,\"trip\":" TRIP_GAPS
             ",\"occurrence_count\":1,\"changes\":{\"depart\":{\"old\":\"2026-12-06T17:00:00\","
             "\"new\":\"2026-12-07T08:20:00\"}}}",
             WEBHOOK_WECOM,
             "### 派车变更\n"
             "**变更**：出发 12月6日（周日）17:00 → 12月7日（周一）08:20\n"
             "**日期**：12月7日（周一）\n"
             "**出发**：08:20（返回 11:30）\n"
             "**路线**：机关大院 → 市政府\n"
             "**车辆**：红旗H5（京A12345）\n"
             "**驾驶员**：张师傅\n"
             "**乘车人**：王局长、李秘书\n"
             "> 派车有变化，请驾驶员重新确认。");
}

static void test_dispatch_confidential(void)
{
    /* The service leaves the title out; a leaked one is still not shown, nor are passengers. */
    SNAPSHOT("dispatch.cancelled",
             "{\"event\":\"evt_1\",\"confidential\":true,\"trip\":" TRIP_GAPS
             ",\"occurrence_count\":1,\"reason\":\"event_cancelled\",\"title\":\"机密会议\"}",
             WEBHOOK_WECOM,
             "### 派车取消\n"
             "**原因**：会议取消\n"
             "**日期**：12月7日（周一）\n"
             "**出发**：08:20（返回 11:30）\n"
             "**路线**：机关大院 → 市政府\n"
             "**车辆**：红旗H5（京A12345）\n"
             "**驾驶员**：张师傅\n"
             "> 本次派车已取消，无需出车。");
    SNAPSHOT("dispatch.unacknowledged",
             "{\"event\":\"evt_1\",\"confidential\":true,\"trip\":" TRIP_BARE
             ",\"deadline_minutes\":60,\"minutes_left\":45,\"audience\":[\"p_li\"]}",
             WEBHOOK_WECOM,
             "### 派车未确认\n"
             "**提醒**：张师傅尚未确认收到，距出发约45分钟，请联系驾驶员\n"
             "**日期**：12月7日（周一）\n"
             "**出发**：08:20（返回 11:30）\n"
             "**路线**：机关大院 → 市政府\n"
             "**车辆**：红旗H5（京A12345）\n"
             "**驾驶员**：张师傅");
}

static void test_dispatch_series(void)
{
    SNAPSHOT("dispatch.assigned",
             "{\"event\":\"evt_1\",\"confidential\":false,\"trip\":" TRIP_GAPS
             ",\"occurrences\":[\"2026-12-07T09:00:00\",\"2026-12-14T09:00:00\","
             "\"2026-12-21T09:00:00\",\"2026-12-28T09:00:00\",\"2027-01-04T09:00:00\","
             "\"2027-01-11T09:00:00\",\"2027-01-18T09:00:00\",\"2027-01-25T09:00:00\","
             "\"2027-02-01T09:00:00\",\"2027-02-08T09:00:00\"],\"occurrence_count\":10,"
             "\"title\":\"周例会\"}",
             WEBHOOK_WECOM,
             "### 派车通知\n"
             "**日期**：12月7日（周一）起，共10次\n"
             "**各次**：12月7日、12月14日、12月21日、12月28日、1月4日、1月11日、1月18日、"
             "1月25日……\n"
             "**出发**：08:20（返回 11:30）\n"
             "**路线**：机关大院 → 市政府\n"
             "**车辆**：红旗H5（京A12345）\n"
             "**驾驶员**：张师傅\n"
             "**乘车人**：王局长、李秘书\n"
             "**会议**：周例会");
}

/* ---------------- meetings ---------------- */

#define EVENT_DOC(confidential)                                                                 \
    "{\"id\":\"evt_1\",\"title\":\"党组会\",\"location\":\"三楼\",\"start\":"                      \
    "\"2026-12-07T09:00:00\",\"end\":\"2026-12-07T10:30:00\",\"tz\":\"Asia/Shanghai\","          \
    "\"attendees\":[{\"person\":\"p_wang\"},{\"person\":\"p_li\",\"optional\":true}],"            \
    "\"room\":\"r_1\",\"confidential\":" confidential ",\"trips\":[{\"vehicle\":\"v_hq\","        \
    "\"driver\":\"p_zhang\",\"depart\":\"2026-12-07T08:20:00\",\"return\":"                       \
    "\"2026-12-07T11:30:00\",\"from\":\"机关大院\",\"to\":\"市政府\",\"passengers\":[\"p_wang\"]}]}"

static void test_reminder(void)
{
    json_object_set_new(stored_events, "evt_1", json_loads(EVENT_DOC("false"), 0, NULL));
    json_object_set_new(stored_events, "evt_secret", json_loads(EVENT_DOC("true"), 0, NULL));
    SNAPSHOT("reminder.due",
             "{\"event\":\"evt_1\",\"recurrence_id\":\"2026-12-07T09:00:00\",\"person\":\"p_wang\","
             "\"offset_minutes\":30,\"start\":\"2026-12-07T09:00:00\",\"start_utc\":"
             "\"2026-12-07T01:00:00Z\",\"title\":\"党组会\",\"location\":\"三楼\",\"room\":\"r_1\","
             "\"late\":false}",
             WEBHOOK_WECOM,
             "### 会议提醒\n"
             "**提醒**：30分钟后开始\n"
             "**会议**：党组会\n"
             "**时间**：12月7日（周一）09:00–10:30\n"
             "**地点**：第一会议室（三楼）\n"
             "**参加**：王局长、李秘书");
    /* A moved occurrence: its own start, the series' length; late after downtime. */
    SNAPSHOT("reminder.due",
             "{\"event\":\"evt_1\",\"recurrence_id\":\"2026-12-07T09:00:00\",\"person\":\"p_wang\","
             "\"offset_minutes\":1440,\"start\":\"2026-12-08T23:00:00\",\"late\":true}",
             WEBHOOK_WECOM,
             "### 会议提醒\n"
             "**提醒**：1天后开始\n"
             "**会议**：党组会\n"
             "**时间**：12月8日（周二）23:00–12月9日（周三）00:30\n"
             "**地点**：第一会议室（三楼）\n"
             "**参加**：王局长、李秘书\n"
             "> 服务恢复后补发的提醒。");
    /* Confidential: the payload has the title (it is the attendee's), the robot's group not. */
    SNAPSHOT("reminder.due",
             "{\"event\":\"evt_secret\",\"recurrence_id\":\"2026-12-07T09:00:00\",\"person\":"
             "\"p_wang\",\"offset_minutes\":90,\"start\":\"2026-12-07T09:00:00\",\"title\":"
             "\"党组会\",\"location\":\"三楼\",\"late\":false}",
             WEBHOOK_WECOM,
             "### 会议提醒\n"
             "**提醒**：1小时30分钟后开始\n"
             "**会议**：保密会议（详情请向办公室了解）\n"
             "**时间**：12月7日（周一）09:00–10:30");
    /* No stored document (deleted meanwhile): treated as confidential, only the time. */
    SNAPSHOT("reminder.due",
             "{\"event\":\"evt_gone\",\"recurrence_id\":\"2026-12-07T09:00:00\",\"person\":"
             "\"p_wang\",\"offset_minutes\":0,\"start\":\"2026-12-07T09:00:00\",\"title\":"
             "\"党组会\",\"late\":false}",
             WEBHOOK_WECOM,
             "### 会议提醒\n"
             "**提醒**：现在开始\n"
             "**会议**：保密会议（详情请向办公室了解）\n"
             "**时间**：12月7日（周一）09:00");
}

static void test_events(void)
{
    SNAPSHOT("event.created", "{\"event\":" EVENT_DOC("false") "}", WEBHOOK_WECOM,
             "### 会议通知\n"
             "**会议**：党组会\n"
             "**时间**：12月7日（周一）09:00–10:30\n"
             "**地点**：第一会议室（三楼）\n"
             "**参加**：王局长、李秘书\n"
             "**用车**：08:20 机关大院 → 市政府，红旗H5（京A12345）");
    SNAPSHOT("event.created", "{\"event\":" EVENT_DOC("true") "}", WEBHOOK_DINGTALK,
             "### 会议通知\n\n"
             "**会议**：保密会议（详情请向办公室了解）\n\n"
             "**时间**：12月7日（周一）09:00–10:30");
    SNAPSHOT("event.updated",
             "{\"event\":" EVENT_DOC("false") ",\"changes\":{\"start\":{},\"end\":{},"
             "\"room\":{},\"attendees\":{}}}",
             WEBHOOK_WECOM,
             "### 会议变更\n"
             "**变更**：时间、会议室、参加人员\n"
             "**会议**：党组会\n"
             "**时间**：12月7日（周一）09:00–10:30\n"
             "**地点**：第一会议室（三楼）\n"
             "**参加**：王局长、李秘书\n"
             "**用车**：08:20 机关大院 → 市政府，红旗H5（京A12345）");
    SNAPSHOT("event.cancelled", "{\"event\":" EVENT_DOC("false") "}", WEBHOOK_WECOM,
             "### 会议取消\n"
             "**会议**：党组会\n"
             "**时间**：12月7日（周一）09:00–10:30\n"
             "**地点**：第一会议室（三楼）\n"
             "**参加**：王局长、李秘书\n"
             "> 会议已取消，相关派车与用餐一并取消。");
    SNAPSHOT("event.preempted",
             "{\"event\":{\"title\":\"专题会\",\"start\":\"2026-12-07T14:00:00\",\"end\":"
             "\"2026-12-07T15:00:00\",\"room\":null,\"attendees\":[{\"person\":\"p_li\"}]},"
             "\"lost\":{\"type\":\"room\",\"id\":\"r_1\"},\"by\":\"evt_9\"}",
             WEBHOOK_WECOM,
             "### 会议室调整\n"
             "**说明**：原定会议室已让给更重要的会议，请另行安排会议室\n"
             "**会议**：专题会\n"
             "**时间**：12月7日（周一）14:00–15:00\n"
             "**参加**：李秘书");
}

/* ---------------- meals ---------------- */

static void test_catering(void)
{
    SNAPSHOT("catering.updated",
             "{\"date\":\"2026-12-08\",\"meals\":[{\"meal\":\"lunch\",\"total\":23,\"late\":true,"
             "\"diets\":{\"halal\":2,\"regular\":20,\"vegetarian\":1}},{\"meal\":\"dinner\","
             "\"total\":8,\"late\":false,\"diets\":{\"regular\":8}}],\"changes\":[{\"event\":"
             "\"evt_1\",\"meal\":\"lunch\",\"old\":20,\"new\":23,\"delta\":3,\"late\":true,"
             "\"title\":\"党组会\"},{\"event\":\"evt_2\",\"meal\":\"dinner\",\"old\":0,\"new\":8,"
             "\"delta\":8,\"late\":false}],\"late\":true}",
             WEBHOOK_WECOM,
             "### 用餐人数变更\n"
             "**日期**：12月8日（周二）\n"
             "**午餐**：共 23 人（普通 20、清真 2、素食 1）\n"
             "**晚餐**：共 8 人\n"
             "**变更**：党组会 午餐 20 → 23 人（截止后）\n"
             "**变更**：（保密会议） 晚餐 0 → 8 人\n"
             "> 已过报餐截止时间，请食堂留意调整。");
    SNAPSHOT("catering.updated",
             "{\"date\":\"2027-01-01\",\"meals\":[],\"changes\":[{\"meal\":\"lunch\",\"old\":4,"
             "\"new\":0,\"title\":\"党组会\"}],\"late\":false}",
             WEBHOOK_WECOM,
             "### 用餐人数变更\n"
             "**日期**：1月1日（周五）\n"
             "**合计**：当日已无用餐安排\n"
             "**变更**：党组会 午餐 4 → 0 人");
}

/* ---------------- safety and limits ---------------- */

static void test_markdown_neutralised(void)
{
    /* A title cannot make a link, bold text, a heading or a new line in the group. */
    SNAPSHOT("event.created",
             "{\"event\":{\"title\":\"[点我](http://x.example/) **急** <font color=\\\"warning\\\">"
             "\\n# 标题 `a|b` ~c_d\\\\\",\"start\":\"2026-12-07T09:00:00\",\"end\":"
             "\"2026-12-07T10:00:00\"}}",
             WEBHOOK_WECOM,
             "### 会议通知\n"
             "**会议**：［点我］(http://x.example/) ＊＊急＊＊ ＜font color=\"warning\"＞ ＃ 标题 "
             "｀a｜b｀ ～c＿d＼\n"
             "**时间**：12月7日（周一）09:00–10:00");
}

static void test_size_limit(void)
{
    json_t *ev = json_pack("{s:s, s:s, s:s, s:[]}", "title", "全体大会", "start",
                           "2026-12-07T09:00:00", "end", "2026-12-07T10:00:00", "attendees");
    json_t *data = json_pack("{s:o}", "event", ev);
    struct message m;
    struct strbuf out;
    char title[600];

    /* 200 attendees with long names: listed to NAMES_SHOWN, then counted. */
    for (int i = 0; i < 200; i++)
        json_array_append_new(json_object_get(ev, "attendees"),
                              json_pack("{s:s}", "person", i % 2 ? "p_wang" : "p_li"));
    memset(title, 'x', sizeof(title) - 1);
    title[sizeof(title) - 1] = '\0';
    json_object_set_new(ev, "title", json_string(title));
    CHECK_EQ_INT(template_render("event.created", data, &lookup, &m), 0);
    /* Fill every line to the most a value may hold: the text still fits the robot. */
    while (m.nlines < MESSAGE_LINES_MAX)
        message_add(&m, "备注", "%s%s", title, title);
    strbuf_init(&out, 1 << 20);
    for (int f = WEBHOOK_WECOM; f <= WEBHOOK_DINGTALK; f++) {
        message_markdown(&m, (enum webhook_format)f, &out);
        CHECK(out.len <= CHANNEL_TEXT_MAX);
        CHECK(out.len > CHANNEL_TEXT_MAX - 800); /* as many whole lines as fit */
        CHECK(strstr(out.data, "……") != NULL);
        char *body = message_robot_body(&m, (enum webhook_format)f);
        json_t *parsed = json_loads(body, 0, NULL);
        const char *text = json_string_value(json_object_get(
            json_object_get(parsed, "markdown"), f == WEBHOOK_WECOM ? "content" : "text"));
        CHECK(text != NULL && strlen(text) <= CHANNEL_TEXT_MAX);
        CHECK_EQ_STR(json_string_value(json_object_get(parsed, "msgtype")), "markdown");
        json_decref(parsed);
        free(body);
    }
    /* A value is cut at MESSAGE_VALUE_MAX bytes, on a character boundary. */
    CHECK(strlen(m.lines[0].value) <= MESSAGE_VALUE_MAX);
    CHECK(strstr(m.lines[2].value, "等200人") != NULL);
    message_clear(&m);
    json_t *cut = json_pack("{s:{s:s, s:s}}", "event", "title",
                            "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
                            "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
                            "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
                            "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
                            "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
                            "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
                            "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十",
                            "start", "2026-12-07T09:00:00");
    CHECK_EQ_INT(template_render("event.created", cut, &lookup, &m), 0);
    CHECK(strlen(m.lines[0].value) <= MESSAGE_VALUE_MAX);
    CHECK_EQ_INT(utf8_valid_prefix(m.lines[0].value, strlen(m.lines[0].value)),
                 strlen(m.lines[0].value));
    CHECK(strcmp(m.lines[0].value + strlen(m.lines[0].value) - strlen("…"), "…") == 0);
    message_clear(&m);
    json_decref(cut);
    strbuf_free(&out);
    json_decref(data);
}

static void test_bodies(void)
{
    json_t *data = json_loads("{\"event\":{\"title\":\"党组会\",\"start\":\"2026-12-07T09:00:00\"}}",
                              0, NULL);
    struct message m;
    char *wecom, *ding;

    CHECK_EQ_INT(template_render("event.created", data, &lookup, &m), 0);
    wecom = message_robot_body(&m, WEBHOOK_WECOM);
    ding = message_robot_body(&m, WEBHOOK_DINGTALK);
    CHECK_EQ_STR(wecom, "{\"msgtype\":\"markdown\",\"markdown\":{\"content\":\"### 会议通知\\n"
                        "**会议**：党组会\\n**时间**：12月7日（周一）09:00\"}}");
    CHECK_EQ_STR(ding, "{\"msgtype\":\"markdown\",\"markdown\":{\"title\":\"会议通知\",\"text\":"
                       "\"### 会议通知\\n\\n**会议**：党组会\\n\\n**时间**：12月7日（周一）09:00\"}}");
    CHECK(message_robot_body(&m, WEBHOOK_STANDARD) == NULL);
    free(wecom);
    free(ding);
    /* The action link (one-tap links, later) closes the message. */
    m.link_text = strdup("确认收到");
    m.link_url = strdup("https://convene.example/t/abc");
    struct strbuf out;
    strbuf_init(&out, 8192);
    message_markdown(&m, WEBHOOK_WECOM, &out);
    CHECK_EQ_STR(out.data, "### 会议通知\n**会议**：党组会\n**时间**：12月7日（周一）09:00\n"
                           "[确认收到](https://convene.example/t/abc)");
    strbuf_free(&out);
    message_clear(&m);
    json_decref(data);
}

/* ---------------- approvals ---------------- */

#define APPROVAL_EVENT(confidential)                                                         \
    "{\"id\":\"evt_1\",\"title\":\"调研座谈\",\"start\":\"2026-12-07T09:00:00\","              \
    "\"end\":\"2026-12-07T10:30:00\",\"tz\":\"Asia/Shanghai\",\"room\":\"r_1\","             \
    "\"attendees\":[{\"person\":\"p_wang\"}],\"budget\":{\"amount\":30000,"                 \
    "\"currency\":\"CNY\"},\"confidential\":" confidential "}"

static void test_approvals(void)
{
    SNAPSHOT("approval.requested",
             "{\"approval\":{\"id\":\"apr_1\",\"event\":\"evt_1\",\"reason\":\"budget\","
             "\"tier\":\"principal\",\"approver\":\"p_wang\",\"status\":\"pending\","
             "\"expires\":\"2026-12-05T01:00:00Z\"},\"event\":" APPROVAL_EVENT("false")
             ",\"audience\":[\"p_wang\"]}",
             WEBHOOK_WECOM,
             "### 审批提醒\n"
             "**事由**：经费¥30,000.00（主要领导审批）\n"
             "**审批人**：王局长\n"
             "**会议**：调研座谈\n"
             "**时间**：12月7日（周一）09:00–10:30\n"
             "**地点**：第一会议室（三楼）\n"
             "**参加**：王局长\n"
             "**截止**：12月5日（周六）09:00前未审批的，预订自动取消\n"
             "> 请在会议前审批；同意后再通知派车、订餐。");
    SNAPSHOT("approval.decided",
             "{\"approval\":{\"id\":\"apr_2\",\"event\":\"evt_1\",\"reason\":"
             "\"off_day_vehicle\",\"tier\":\"office_director\",\"approver\":\"p_li\","
             "\"status\":\"rejected\",\"decided_by\":\"p_li\",\"comment\":\"请改乘公务车\"},"
             "\"decision\":\"rejected\",\"event\":" APPROVAL_EVENT("true") "}",
             WEBHOOK_DINGTALK,
             "### 审批结果\n\n"
             "**事由**：休息日、节假日用车\n\n"
             "**结果**：未同意\n\n"
             "**审批人**：李秘书\n\n"
             "**意见**：请改乘公务车\n\n"
             "**会议**：保密会议（详情请向办公室了解）\n\n"
             "**时间**：12月7日（周一）09:00–10:30");
    SNAPSHOT("approval.decided",
             "{\"approval\":{\"reason\":\"room\",\"status\":\"expired\"},\"decision\":"
             "\"expired\",\"event\":" APPROVAL_EVENT("false") "}",
             WEBHOOK_WECOM,
             "### 审批结果\n"
             "**事由**：使用专管会议室\n"
             "**结果**：逾期未审批，已自动取消\n"
             "**会议**：调研座谈\n"
             "**时间**：12月7日（周一）09:00–10:30\n"
             "**地点**：第一会议室（三楼）\n"
             "**参加**：王局长");
}

static void test_no_template(void)
{
    json_t *data = json_object();
    struct message m;

    CHECK_EQ_INT(template_render("approval.unknown", data, &lookup, &m), -1);
    CHECK_EQ_INT(template_render("dispatch.teleported", data, &lookup, &m), -1);
    CHECK_EQ_INT(template_render("event.created", data, &lookup, &m), -1); /* no event */
    CHECK_EQ_INT(template_render("event.created", NULL, &lookup, &m), -1);
    json_decref(data);
    /* A lookup that knows nothing: still a message, with what the payload says. */
    SNAPSHOT("webhook.disabled",
             "{\"webhook\":\"whk_1\",\"url\":\"https://qyapi.weixin.qq.com/cgi-bin/webhook/"
             "send?key=SECRETKEY\",\"reason\":\"the endpoint answered 410 Gone\"}",
             WEBHOOK_WECOM,
             "### 通知渠道停用\n"
             "**渠道**：whk＿1\n"
             "**原因**：the endpoint answered 410 Gone\n"
             "> 请管理员检查后重新启用。");
}

static void test_weekdays(void)
{
    static const char *const cases[][2] = {
        {"2026-12-13", "12月13日（周日）"}, {"2027-01-01", "1月1日（周五）"},
        {"2028-02-29", "2月29日（周二）"},  {"1999-12-31", "12月31日（周五）"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char payload[200], expected[200];
        snprintf(payload, sizeof(payload), "{\"date\":\"%s\",\"meals\":[],\"changes\":[]}",
                 cases[i][0]);
        snprintf(expected, sizeof(expected),
                 "### 用餐人数变更\n**日期**：%s\n**合计**：当日已无用餐安排", cases[i][1]);
        SNAPSHOT("catering.updated", payload, WEBHOOK_WECOM, expected);
    }
}

/* ---------------- one-tap links ---------------- */

/* The markdown of type/payload with a link for format f. Owned by the caller. */
static char *render_linked(const char *type, const char *payload, const char *purpose,
                           const char *url, enum webhook_format f)
{
    json_t *data = json_loads(payload, 0, NULL);
    struct message m;
    struct strbuf out;
    char *text = NULL;

    strbuf_init(&out, 1 << 20);
    if (data != NULL && template_render(type, data, &lookup, &m) == 0) {
        message_set_link(&m, purpose, url);
        message_markdown(&m, f, &out);
        message_clear(&m);
        text = strbuf_detach(&out, NULL);
    }
    strbuf_free(&out);
    json_decref(data);
    return text ? text : strdup("");
}

#define LINK "https://oa.example.gov.cn/t/AbCdEfGhIjKlMnOpQrStUv"

static void test_links(void)
{
    const char *assigned = "{\"event\":\"evt_1\",\"confidential\":false,\"trip\":" TRIP_GAPS
                           ",\"occurrences\":[\"2026-12-07T09:00:00\"],\"occurrence_count\":1,"
                           "\"audience\":[\"p_zhang\"],\"title\":\"党组会\"}";
    char *got = render_linked("dispatch.assigned", assigned, "ack", LINK, WEBHOOK_WECOM);
    char expected[2048];

    snprintf(expected, sizeof(expected), "%s\n[确认收到](%s)", assigned_wecom, LINK);
    CHECK_EQ_STR(got, expected);
    free(got);
    /* DingTalk: the link is a paragraph of its own, after the note. */
    got = render_linked("dispatch.updated",
                        "{\"event\":\"evt_1\",\"confidential\":false,\"trip\":" TRIP_GAPS
                        ",\"occurrences\":[\"2026-12-07T09:00:00\"],\"occurrence_count\":1,"
                        "\"audience\":[\"p_zhang\"],\"changes\":{}}",
                        "ack", LINK, WEBHOOK_DINGTALK);
    CHECK(strstr(got, "### 派车变更\n\n") == got);
    CHECK(strstr(got, "\n\n> 派车有变化，请驾驶员重新确认。\n\n[确认收到](" LINK ")") != NULL);
    free(got);
    json_object_set_new(stored_events, "evt_1", json_loads(EVENT_DOC("false"), 0, NULL));
    got = render_linked("reminder.due",
                        "{\"event\":\"evt_1\",\"recurrence_id\":\"2026-12-07T09:00:00\","
                        "\"person\":\"p_wang\",\"offset_minutes\":30,\"start\":"
                        "\"2026-12-07T09:00:00\",\"late\":false}",
                        "rsvp", LINK, WEBHOOK_WECOM);
    CHECK_EQ_STR(got, "### 会议提醒\n"
                      "**提醒**：30分钟后开始\n"
                      "**会议**：党组会\n"
                      "**时间**：12月7日（周一）09:00–10:30\n"
                      "**地点**：第一会议室（三楼）\n"
                      "**参加**：王局长、李秘书\n"
                      "[回复：参加 / 不参加](" LINK ")");
    free(got);
}

/* A full message with the longest link a --public-url allows still fits, link included. */
static void test_link_size_limit(void)
{
    json_t *data = json_pack("{s:{s:s, s:s}}", "event", "title", "全体大会", "start",
                             "2026-12-07T09:00:00");
    char url[600], title[600];
    struct message m;
    struct strbuf out;

    memset(url, 'u', sizeof(url) - 1);
    url[sizeof(url) - 1] = '\0';
    memcpy(url, "https://", 8);
    memset(title, 'x', sizeof(title) - 1);
    title[sizeof(title) - 1] = '\0';
    strbuf_init(&out, 1 << 20);
    for (int f = WEBHOOK_WECOM; f <= WEBHOOK_DINGTALK; f++) {
        CHECK_EQ_INT(template_render("event.created", data, &lookup, &m), 0);
        while (m.nlines < MESSAGE_LINES_MAX)
            message_add(&m, "备注", "%s%s", title, title);
        message_set_link(&m, "rsvp", url);
        message_markdown(&m, (enum webhook_format)f, &out);
        CHECK(out.len <= CHANNEL_TEXT_MAX);
        /* The link closes the message, whole. */
        CHECK(out.len > strlen(url) + 1 && out.data[out.len - 1] == ')' &&
              strncmp(out.data + out.len - strlen(url) - 1, url, strlen(url)) == 0);
        CHECK(strstr(out.data, "……") != NULL);
        message_clear(&m);
    }
    strbuf_free(&out);
    json_decref(data);
}

int main(void)
{
    stored_events = json_object();
    test_dispatch_assigned();
    test_dispatch_updated();
    test_dispatch_confidential();
    test_dispatch_series();
    test_reminder();
    test_events();
    test_catering();
    test_markdown_neutralised();
    test_size_limit();
    test_bodies();
    test_no_template();
    test_weekdays();
    test_approvals();
    test_links();
    test_link_size_limit();
    json_decref(stored_events);
    return check_finish();
}
