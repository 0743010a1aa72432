/*
 * ics.h - writing RFC 5545 text: content lines folded at 75 octets without
 * splitting a UTF-8 character, TEXT escaping, and VTIMEZONE components
 * whose TZID is the plain IANA name.
 */
#ifndef CONVENE_ICS_H
#define CONVENE_ICS_H

#include <stddef.h>
#include <stdint.h>

#include "convene/util.h"

/* Appends "NAME:VALUE\r\n" folded; name may carry parameters ("DTSTART;TZID=Asia/Shanghai"). */
void ics_line(struct strbuf *out, const char *name, const char *value);

/* Appends a TEXT property, escaping backslash, semicolon, comma and newlines. */
void ics_text(struct strbuf *out, const char *name, const char *text);

/* Appends a folded content line that is already complete (no CRLF). */
void ics_fold(struct strbuf *out, const char *line, size_t len);

/* "20261207T090000" from "2026-12-07T09:00:00"; "20261207" from a date. */
void ics_local_value(const char *local, char out[20]);
/* "20261207T010000Z" from a UTC instant. */
void ics_utc_value(int64_t utc, char out[20]);

/* Appends the VTIMEZONE of an IANA zone with TZID set to that name. -1 if unknown. */
int ics_vtimezone(struct strbuf *out, const char *tz);

#endif
