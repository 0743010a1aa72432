/*
 * fuzz_ical_import.c - ical_import_parse on arbitrary bytes: our own
 * content-line check, then libical's parser and zone resolution, then the
 * event documents built from what it found. The input is handed over in an
 * allocation of exactly its length, as the HTTP body is.
 *
 * Invariants: either a result array or a reason naming the problem; every
 * result item is {"uid": string, "doc": object with "title" and "tz"}.
 */
#include "convene/ical_import.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256] = "";
    char *text;
    json_t *out, *item;
    size_t i;

    /* The API refuses bodies over 1 MiB before parsing. */
    if (size > 1024 * 1024)
        return -1;
    text = xmalloc(size ? size : 1);
    memcpy(text, data, size);
    out = ical_import_parse(text, size, "Asia/Shanghai", why, sizeof(why));
    if (out == NULL) {
        if (why[0] == '\0') {
            fprintf(stderr, "refused without a reason\n");
            abort();
        }
    } else {
        json_array_foreach(out, i, item)
        {
            json_t *doc = json_object_get(item, "doc");
            if (!json_is_string(json_object_get(item, "uid")) || !json_is_object(doc) ||
                !json_is_string(json_object_get(doc, "title")) ||
                !json_is_string(json_object_get(doc, "tz"))) {
                fprintf(stderr, "malformed import item %zu\n", i);
                abort();
            }
        }
        json_decref(out);
    }
    free(text);
    return 0;
}
