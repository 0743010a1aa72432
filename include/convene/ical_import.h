/*
 * ical_import.h - reading VEVENTs from iCalendar text into event
 * documents (the JSON shape POST /api/v1/events takes), with their UIDs and
 * per-occurrence overrides. Pure: no store access.
 */
#ifndef CONVENE_ICAL_IMPORT_H
#define CONVENE_ICAL_IMPORT_H

#include <jansson.h>
#include <stddef.h>

#define IMPORT_MAX_EVENTS 2000

/*
 * Parses text into an array of {"uid": ..., "doc": {...}} objects (owned
 * by the caller). default_tz is used for floating and UTC times and for
 * zones that are not IANA names. On malformed input returns NULL and
 * writes a message naming the failing line into why.
 */
json_t *ical_import_parse(const char *text, size_t len, const char *default_tz, char *why,
                          size_t whylen);

#endif
