/*
 * taplinks.c - GET and POST /t/{token}: the small page a one-tap link opens
 * on a phone (CONTRACT section 14). Server-rendered zh-CN HTML that reads
 * at 390 px, with the console's security headers and no script; the
 * button is a plain <form method="post">. GET shows and changes nothing
 * (chat apps open links to preview them); POST takes the action through
 * the booking layer (booking_link_act) and says what happened. The page
 * only renders what the layer decided and allowed to be shown.
 */
#include "handlers.h"

#include "convene/booking.h"
#include "convene/taplink.h"
#include "convene/timeutil.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_MAX (64 * 1024)

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* Appends s with the five HTML specials escaped. */
static void put_html(struct strbuf *b, const char *s)
{
    const char *run = s;

    for (; *s; s++) {
        const char *with = *s == '&'    ? "&amp;"
                           : *s == '<'  ? "&lt;"
                           : *s == '>'  ? "&gt;"
                           : *s == '"'  ? "&quot;"
                           : *s == '\'' ? "&#39;"
                                        : NULL;
        if (with == NULL)
            continue;
        strbuf_append(b, run, (size_t)(s - run));
        strbuf_puts(b, with);
        run = s + 1;
    }
    strbuf_append(b, run, (size_t)(s - run));
}

/* "12月7日（周一）" of a local time "2026-12-07T09:00:00" ("" when it is not one). */
static void fmt_day(const char *local, char out[48])
{
    static const char *const days[] = {"日", "一", "二", "三", "四", "五", "六"};
    struct local_time lt;

    out[0] = '\0';
    if (time_local_parse(local, &lt) == 0)
        snprintf(out, 48, "%d月%d日（周%s）", lt.month, lt.day, days[time_local_weekday(&lt)]);
}

/* "09:00" of a local time. */
static const char *fmt_clock(const char *local, char out[8])
{
    snprintf(out, 8, "%.5s", strlen(local) >= 16 ? local + 11 : "");
    return out;
}

static void row(struct strbuf *b, const char *label, const char *value)
{
    if (value == NULL || value[0] == '\0')
        return;
    strbuf_printf(b, "<dt>%s</dt><dd>", label);
    put_html(b, value);
    strbuf_puts(b, "</dd>");
}

/* Names joined with "、". */
static void names_row(struct strbuf *b, const char *label, json_t *names)
{
    struct strbuf joined;
    json_t *n;
    size_t k;

    if (json_array_size(names) == 0)
        return;
    strbuf_init(&joined, 8192);
    json_array_foreach(names, k, n) {
        if (json_is_string(n))
            strbuf_printf(&joined, "%s%s", joined.len ? "、" : "", json_string_value(n));
    }
    row(b, label, joined.data);
    strbuf_free(&joined);
}

static void trip_rows(struct strbuf *b, json_t *s)
{
    char day[48], clock[8], back[8], text[1200];

    fmt_day(str(s, "depart"), day);
    if (json_integer_value(json_object_get(s, "count")) > 1)
        snprintf(text, sizeof(text), "%s（共%lld次，这是下一次）", day,
                 (long long)json_integer_value(json_object_get(s, "count")));
    else
        snprintf(text, sizeof(text), "%s", day);
    row(b, "日期", text);
    snprintf(text, sizeof(text), "%s（返回 %s）", fmt_clock(str(s, "depart"), clock),
             fmt_clock(str(s, "return"), back));
    row(b, "出发", text);
    snprintf(text, sizeof(text), "%s → %s", str(s, "from")[0] ? str(s, "from") : "—",
             str(s, "to")[0] ? str(s, "to") : "—");
    row(b, "路线", text);
    snprintf(text, sizeof(text), str(s, "plate")[0] ? "%s（%s）" : "%s", str(s, "vehicle_name"),
             str(s, "plate"));
    row(b, "车辆", text);
    row(b, "驾驶员", str(s, "driver_name"));
    names_row(b, "乘车人", json_object_get(s, "passenger_names"));
    row(b, "会议", str(s, "title"));
}

static const char *answer_word(const char *response)
{
    return strcmp(response, "accepted") == 0    ? "参加"
           : strcmp(response, "declined") == 0  ? "不参加"
           : strcmp(response, "tentative") == 0 ? "待定"
                                                : "未回复";
}

static void meeting_rows(struct strbuf *b, json_t *s)
{
    char day[48], clock[8], until[8], text[1200];

    row(b, "会议", str(s, "title"));
    fmt_day(str(s, "start"), day);
    snprintf(text, sizeof(text), "%s %s–%s", day, fmt_clock(str(s, "start"), clock),
             fmt_clock(str(s, "end"), until));
    row(b, "时间", text);
    snprintf(text, sizeof(text), "%s%s%s", str(s, "room"),
             str(s, "room")[0] && str(s, "location")[0] ? " · " : "", str(s, "location"));
    row(b, "地点", text);
    row(b, "我的回复", answer_word(str(s, "response")));
}

/* "¥12,000" or "¥999.99" of an amount in yuan ("" when there is none). */
static void fmt_amount(json_t *amount, char out[72])
{
    double v = json_number_value(amount);
    long long whole = (long long)v, cents = (long long)((v - (double)whole) * 100.0 + 0.5);
    char digits[32], grouped[48];
    size_t n, o = 0;

    out[0] = '\0';
    if (!json_is_number(amount) || v <= 0)
        return;
    if (cents >= 100) {
        whole++;
        cents -= 100;
    }
    n = (size_t)snprintf(digits, sizeof(digits), "%lld", whole);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            grouped[o++] = ',';
        grouped[o++] = digits[i];
    }
    grouped[o] = '\0';
    if (cents > 0)
        snprintf(out, 72, "¥%s.%02lld", grouped, cents);
    else
        snprintf(out, 72, "¥%s", grouped);
}

static const char *reason_word(json_t *s)
{
    static const struct {
        const char *tier, *word;
    } tiers[] = {{"office_director", "经费（办公室主任审批）"},
                 {"in_charge", "经费（分管领导审批）"},
                 {"principal", "经费（主要领导审批）"},
                 {"collective", "经费（须经办公会集体研究）"}};
    const char *reason = str(s, "reason");

    if (strcmp(reason, "off_day_vehicle") == 0)
        return "休息日、节假日用车";
    if (strcmp(reason, "room") == 0)
        return "使用专管会议室";
    for (size_t i = 0; i < ARRAY_SIZE(tiers); i++)
        if (strcmp(str(s, "tier"), tiers[i].tier) == 0)
            return tiers[i].word;
    return reason;
}

static void approve_rows(struct strbuf *b, json_t *s)
{
    char day[48], clock[8], until[8], text[1200], amount[72];

    row(b, "会议", str(s, "title"));
    fmt_day(str(s, "start"), day);
    snprintf(text, sizeof(text), "%s %s–%s", day, fmt_clock(str(s, "start"), clock),
             fmt_clock(str(s, "end"), until));
    row(b, "时间", text);
    snprintf(text, sizeof(text), "%s%s%s", str(s, "room"),
             str(s, "room")[0] && str(s, "location")[0] ? " · " : "", str(s, "location"));
    row(b, "地点", text);
    row(b, "事由", reason_word(s));
    fmt_amount(json_object_get(s, "amount"), amount);
    row(b, "金额", amount);
    row(b, "申请人", str(s, "requested_by"));
    fmt_day(str(s, "expires"), day);
    if (day[0] != '\0') {
        snprintf(text, sizeof(text), "%s %s 前", day, fmt_clock(str(s, "expires"), clock));
        row(b, "审批期限", text);
    }
    row(b, "审批意见", str(s, "comment"));
}

/* What the page says of an approval link (see verdict). */
static const char *approve_verdict(const struct booking_link *l)
{
    if (l->acted != NULL)
        return strcmp(l->acted, "approve") == 0 ? "已同意。申请人将收到审批结果。"
                                                : "已不同意。申请人将收到审批结果，会议时段已释放。";
    switch (l->state) {
    case BOOKING_LINK_OPEN:
        /* A 办公会 decides above the last tier: the console asks which one; a link cannot. */
        return json_is_true(json_object_get(l->shown, "collective"))
                   ? "此项经费超过最高审批档，须经办公会集体研究决定：请在电脑上登录系统，"
                     "在“待我审批”中选择作出决定的办公会后审批。"
                   : NULL;
    case BOOKING_LINK_DONE:
        return "您已通过此链接审批过，无需重复操作。";
    case BOOKING_LINK_EXPIRED:
        return "此链接已过期：审批期限已过，申请已自动取消。";
    case BOOKING_LINK_VOID:
        return "此链接已失效：该审批已在系统中处理，或申请已撤回、变更。";
    default:
        return "链接无效或不存在。请使用消息中的完整链接。";
    }
}

/* What the page says, by the link's state and what was just done. */
static const char *verdict(const struct booking_link *l, int posted)
{
    int ack = strcmp(l->row.purpose, "ack") == 0;

    if (strcmp(l->row.purpose, "approve") == 0)
        return approve_verdict(l);
    if (l->acted != NULL)
        return strcmp(l->acted, "ack") == 0        ? "已确认收到，谢谢。调度员可以看到您的确认。"
               : strcmp(l->acted, "accepted") == 0 ? "已回复：参加。"
                                                   : "已回复：不参加。";
    switch (l->state) {
    case BOOKING_LINK_OPEN:
        return NULL;
    case BOOKING_LINK_DONE:
        if (ack)
            return posted ? "您此前已确认收到，无需重复操作。" : "您已确认收到此次派车。";
        return "您已通过此链接回复过，如需更改请联系办公室。";
    case BOOKING_LINK_EXPIRED:
        return ack ? "此链接已过期：行程已结束。" : "此链接已过期：会议已开始。";
    case BOOKING_LINK_VOID:
        return ack ? "此链接已失效：该派车已取消或已改派他人。"
                   : "此链接已失效：会议已取消，或您已不在参会名单中。";
    default:
        return "链接无效或不存在。请使用消息中的完整链接。";
    }
}

static void form(struct strbuf *b, const struct booking_link *l)
{
    if (strcmp(l->row.purpose, "approve") == 0) {
        if (json_is_true(json_object_get(l->shown, "collective")))
            return;
        strbuf_puts(b, "<form method=\"post\" class=\"actions\">"
                       "<label for=\"comment\">审批意见（可不填）</label>"
                       "<textarea id=\"comment\" name=\"comment\" rows=\"3\" "
                       "maxlength=\"500\"></textarea>"
                       "<button type=\"submit\" name=\"action\" value=\"approve\">同意</button>"
                       "<button type=\"submit\" name=\"action\" value=\"reject\" "
                       "class=\"secondary\">不同意</button></form>");
        return;
    }
    strbuf_puts(b, "<form method=\"post\" class=\"actions\">");
    if (strcmp(l->row.purpose, "ack") == 0)
        strbuf_puts(b, "<button type=\"submit\" name=\"action\" value=\"ack\">确认收到</button>");
    else
        strbuf_puts(b, "<button type=\"submit\" name=\"action\" value=\"accepted\">参加</button>"
                       "<button type=\"submit\" name=\"action\" value=\"declined\" "
                       "class=\"secondary\">不参加</button>");
    strbuf_puts(b, "</form>");
}

static int page_status(const struct booking_link *l)
{
    if (l->acted != NULL)
        return 200;
    switch (l->state) {
    case BOOKING_LINK_UNKNOWN:
        return 404;
    case BOOKING_LINK_EXPIRED:
    case BOOKING_LINK_VOID:
        return 410;
    default:
        return 200;
    }
}

/* Answers with the page of l (status by its state unless status > 0). */
static void reply_page(struct api_call *call, const struct booking_link *l, int posted, int status,
                       const char *note)
{
    struct api_response *res = call->res;
    int ack = strcmp(l->row.purpose, "ack") == 0, approve = strcmp(l->row.purpose, "approve") == 0;
    const char *title = l->state == BOOKING_LINK_UNKNOWN ? "链接无效"
                        : ack                            ? "派车确认"
                        : approve                        ? "会议审批"
                                                         : "会议回复";
    const char *said = note != NULL ? note : verdict(l, posted);
    char css[128];
    struct strbuf b;

    strbuf_init(&b, PAGE_MAX);
    strbuf_printf(&b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                      "<meta name=\"robots\" content=\"noindex\"><title>%s</title>",
                  title);
    /* The console's icon (else the browser asks for /favicon.ico) and the page's own style. */
    if (api_console_asset_url(call, "icon.svg", css, sizeof(css)) != NULL)
        strbuf_printf(&b, "<link rel=\"icon\" href=\"%s\" type=\"image/svg+xml\">", css);
    if (api_console_asset_url(call, "css/taplink.css", css, sizeof(css)) != NULL)
        strbuf_printf(&b, "<link rel=\"stylesheet\" href=\"%s\">", css);
    strbuf_printf(&b, "</head><body><main><h1>%s</h1>", title);
    if (said != NULL)
        strbuf_printf(&b, "<p class=\"verdict %s\" role=\"status\">%s</p>",
                      l->acted != NULL ? "done" : l->state == BOOKING_LINK_OPEN ? "" : "over",
                      said);
    if (l->shown != NULL) {
        strbuf_puts(&b, "<dl>");
        if (ack)
            trip_rows(&b, l->shown);
        else if (approve)
            approve_rows(&b, l->shown);
        else
            meeting_rows(&b, l->shown);
        strbuf_puts(&b, "</dl>");
    }
    if (l->state == BOOKING_LINK_OPEN && l->acted == NULL)
        form(&b, l);
    strbuf_puts(&b, "<footer>办公室 · 会议与派车</footer></main></body></html>\n");
    api_console_security_headers(call);
    /* Personal and changing: never kept by a browser or a proxy. */
    api_add_header(call, "cache-control", "no-store");
    api_reply_empty(call, status > 0 ? status : page_status(l));
    res->content_type = "text/html; charset=utf-8";
    res->body = strbuf_detach(&b, &res->body_len);
    if (res->body == NULL) {
        res->body = xstrdup("");
        res->body_len = 0;
    }
}

/* The token: the whole rest of the path, which may be of any length (see the route). */
static void token_of(struct api_call *call, const char **token, size_t *len)
{
    size_t prefix = strlen(TAPLINK_PATH);

    *token = call->req->path + prefix;
    *len = call->req->path_len > prefix ? call->req->path_len - prefix : 0;
}

static void ctx_of(struct api_call *call, struct booking_ctx *ctx)
{
    ctx->app = call->app;
    ctx->actor = NULL;
    ctx->now = clock_wall_s();
}

void api_taplink_get(struct api_call *call)
{
    struct booking_ctx ctx;
    struct booking_link l;
    const char *token;
    size_t len;

    token_of(call, &token, &len);
    ctx_of(call, &ctx);
    if (booking_link_open(&ctx, token, len, &l) != 0)
        reply_page(call, &l, 0, 500, "服务暂时不可用，请稍后再试。");
    else
        reply_page(call, &l, 0, 0, NULL);
    booking_link_clear(&l);
}

/* The form's one field, action=<word>; "" when absent or not a plain word. */
static void form_action(const struct api_request *req, char out[16])
{
    const char *p = req->body, *end = req->body ? req->body + req->body_len : NULL;
    size_t n = 0;

    out[0] = '\0';
    while (p != NULL && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > 7 && memcmp(p, "action=", 7) == 0) {
            for (p += 7; p < stop && n < 15 && ((*p >= 'a' && *p <= 'z') || *p == '-'); p++)
                out[n++] = *p;
            out[p == stop ? n : 0] = '\0';
            return;
        }
        p = amp ? amp + 1 : NULL;
    }
}

/* Why an action was not taken, as the page says it; the link stays usable. */
static const char *refusal(const struct booking_error *err)
{
    switch (err->kind) {
    case BOOKING_STORAGE:
        return "服务暂时不可用，未做任何更改，请稍后再试。";
    case BOOKING_INVALID:
    case BOOKING_MALFORMED:
        return "无法识别的操作，未做任何更改。";
    case BOOKING_CONFLICT:
        /* Accepting again after declining: the time may have been given to another meeting. */
        return "该时段您已有其他安排，未能回复参加，未做任何更改。请联系办公室。";
    default:
        return "未能完成，未做任何更改。请联系办公室。";
    }
}

void api_taplink_post(struct api_call *call)
{
    struct booking_ctx ctx;
    struct booking_link l;
    struct booking_error err = {0};
    const char *token;
    char action[16], comment[2048];
    size_t len;

    token_of(call, &token, &len);
    form_action(call->req, action);
    ctx_of(call, &ctx);
    /* An approver's comment (UTF-8, form-encoded); what cannot be read acts on nothing. */
    if (api_form_field(call->req->body, call->req->body ? call->req->body_len : 0, "comment",
                       comment, sizeof(comment)) < 0) {
        memset(&l, 0, sizeof(l));
        l.state = BOOKING_LINK_OPEN;
        snprintf(l.row.purpose, sizeof(l.row.purpose), "approve");
        reply_page(call, &l, 1, 400, "审批意见过长或无法识别，未做任何更改。");
        return;
    }
    if (booking_link_act(&ctx, token, len, action, comment, &l, &err) == 0)
        reply_page(call, &l, 1, 0, NULL);
    else
        reply_page(call, &l, 1, api_booking_status(err.kind), refusal(&err));
    booking_error_clear(&err);
    booking_link_clear(&l);
}
