/*
 * templates.h - the Chinese messages people read (CONTRACT section 14,
 * OFFICE.md "Messages people read"): one template per message type turns
 * a message's data into a headline and labelled lines (派车通知, 会议提醒,
 * 用餐人数变更, ...), and one renderer per robot turns those into its
 * markdown and request body. Every template is here, so wording changes
 * in one place and is snapshot-tested (tests/unit/test_templates.c).
 *
 * A confidential meeting's title, place and people never appear: a robot
 * posts to a group. Dates read 12月7日（周一）, times 09:00, in the zone
 * the message's times are written in (the event's).
 */
#ifndef CONVENE_TEMPLATES_H
#define CONVENE_TEMPLATES_H

#include <jansson.h>

#include "convene/channels.h"
#include "convene/util.h"

#define MESSAGE_LINES_MAX 16
#define MESSAGE_VALUE_MAX 600 /* bytes of one line's value; longer ones end in "…" */

struct message_line {
    const char *label; /* static text, e.g. "日期" */
    char *value;       /* owned, already cleaned of markdown and control characters */
};

struct message {
    char headline[32];                         /* 派车通知 */
    struct message_line lines[MESSAGE_LINES_MAX];
    size_t nlines;
    char *note;      /* owned: a closing remark shown as a quote, or NULL */
    /* The one action link (a one-tap link): both NULL, or both owned. */
    char *link_text;
    char *link_url;
};

/*
 * What a template may look up beyond the message: display names and the
 * stored event. Each returns borrowed data valid for the render, or NULL
 * when unknown (the template then says less, never fails).
 */
struct template_lookup {
    /* kind: "person", "room", "room_location", "vehicle" or "plate". */
    const char *(*name)(void *arg, const char *kind, const char *id);
    json_t *(*event)(void *arg, const char *id); /* the stored event document */
    void *arg;
};

/*
 * Renders the message of type with data into out (cleared first). 0, or
 * -1 when the type has no template (nothing is sent). lookup may be NULL.
 */
int template_render(const char *type, json_t *data, const struct template_lookup *lookup,
                    struct message *out);
void message_clear(struct message *m);

/*
 * Ends m with its one-tap link (taplink.h): purpose "ack" reads 确认收到,
 * "rsvp" 回复：参加 / 不参加; url as it is (fan-out passes a marker of the
 * URL's length, so the size limit below holds with the URL in place).
 */
void message_set_link(struct message *m, const char *purpose, const char *url);

/* Appends a line; value is cleaned (markdown characters made full-width, capped). */
void message_add(struct message *m, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The markdown a robot of format f shows for m, at most CHANNEL_TEXT_MAX
 * bytes (lines that do not fit are left out and "……" says so). Into out
 * (reset first).
 */
void message_markdown(const struct message *m, enum webhook_format f, struct strbuf *out);

/*
 * The request body for a robot of format f: {"msgtype":"markdown",...}
 * with the markdown above. Owned by the caller (free); NULL for standard.
 */
char *message_robot_body(const struct message *m, enum webhook_format f);

#endif
