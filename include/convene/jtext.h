/*
 * jtext.h - JSON text from jansson values, byte for byte what json_dumps
 * gives with JSON_COMPACT (and JSON_SORT_KEYS), in a third of its time.
 * Written for the booking path, which serialises each event twice (its
 * stored document, its rendering) and spent 12% of its instructions in
 * json_dumps (docs/PERFORMANCE.md, group commit).
 */
#ifndef CONVENE_JTEXT_H
#define CONVENE_JTEXT_H

#include <jansson.h>

/*
 * The compact text of an object or array, malloc'd (caller frees), or
 * NULL where json_dumps gives NULL. flags: JSON_COMPACT, optionally with
 * JSON_SORT_KEYS; any other flag, a real number anywhere, or a text past
 * the size limit is handed to json_dumps itself.
 */
char *jtext_dump(const json_t *value, size_t flags);

#endif
