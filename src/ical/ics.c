/*
 * ics.c - the bytes of an iCalendar file. We write content lines
 * ourselves rather than through libical's serializer so that folding is
 * UTF-8 safe and output is byte-for-byte stable; libical still supplies
 * the zone rules of VTIMEZONE.
 */
#include "convene/ics.h"
#include "convene/timeutil.h"

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>

#define ICS_LINE_OCTETS 75

void ics_fold(struct strbuf *out, const char *line, size_t len)
{
    size_t pos = 0, limit = ICS_LINE_OCTETS;

    while (len - pos > limit) {
        size_t cut = pos + limit;
        /* Back up to the start of a UTF-8 character: never split one. */
        while (cut > pos && ((unsigned char)line[cut] & 0xC0) == 0x80)
            cut--;
        strbuf_append(out, line + pos, cut - pos);
        strbuf_append(out, "\r\n ", 3);
        pos = cut;
        limit = ICS_LINE_OCTETS - 1; /* continuation lines begin with the space */
    }
    strbuf_append(out, line + pos, len - pos);
    strbuf_append(out, "\r\n", 2);
}

void ics_line(struct strbuf *out, const char *name, const char *value)
{
    struct strbuf line;

    strbuf_init(&line, 1024 * 1024);
    strbuf_puts(&line, name);
    strbuf_append(&line, ":", 1);
    strbuf_puts(&line, value);
    ics_fold(out, line.data, line.len);
    strbuf_free(&line);
}

void ics_text(struct strbuf *out, const char *name, const char *text)
{
    struct strbuf esc;

    strbuf_init(&esc, 1024 * 1024);
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '\\': strbuf_append(&esc, "\\\\", 2); break;
        case ';': strbuf_append(&esc, "\\;", 2); break;
        case ',': strbuf_append(&esc, "\\,", 2); break;
        case '\n': strbuf_append(&esc, "\\n", 2); break;
        case '\r': break;
        default: strbuf_append(&esc, p, 1);
        }
    }
    ics_line(out, name, esc.data ? esc.data : "");
    strbuf_free(&esc);
}

void ics_local_value(const char *local, char out[20])
{
    size_t o = 0;

    for (const char *p = local; *p && o < 19; p++)
        if (*p != '-' && *p != ':')
            out[o++] = *p;
    out[o] = '\0';
}

void ics_utc_value(int64_t utc, char out[20])
{
    char iso[TIME_UTC_STR];

    time_utc_format(utc, iso);
    ics_local_value(iso, out);
}

int ics_vtimezone(struct strbuf *out, const char *tz)
{
    icaltimezone *zone = icaltimezone_get_builtin_timezone(tz);
    icalcomponent *vtz, *copy;
    icalproperty *p;
    char *text;

    if (zone == NULL || (vtz = icaltimezone_get_component(zone)) == NULL)
        return -1;
    /*
     * libical 3.0 names built-in zones "/freeassociation.sourceforge.net/...":
     * rewrite the TZID of a copy, so the shared zone is left alone.
     */
    copy = icalcomponent_new_clone(vtz);
    p = icalcomponent_get_first_property(copy, ICAL_TZID_PROPERTY);
    if (p != NULL)
        icalproperty_set_tzid(p, tz);
    while ((p = icalcomponent_get_first_property(copy, ICAL_X_PROPERTY)) != NULL) {
        icalcomponent_remove_property(copy, p);
        icalproperty_free(p);
    }
    text = icalcomponent_as_ical_string_r(copy);
    icalcomponent_free(copy);
    if (text == NULL)
        return -1;
    /* Unfold libical's lines and fold them again our way (they are ASCII anyway). */
    for (char *line = text; *line;) {
        char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        struct strbuf joined;
        strbuf_init(&joined, 64 * 1024);
        strbuf_append(&joined, line, len);
        line += len + (end ? 2 : 0);
        while (*line == ' ' || *line == '\t') {
            end = strstr(line, "\r\n");
            len = end ? (size_t)(end - line) : strlen(line);
            strbuf_append(&joined, line + 1, len - 1);
            line += len + (end ? 2 : 0);
        }
        if (joined.len > 0)
            ics_fold(out, joined.data, joined.len);
        strbuf_free(&joined);
    }
    free(text);
    return 0;
}
