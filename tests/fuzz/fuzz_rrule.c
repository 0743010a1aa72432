/*
 * fuzz_rrule.c - RRULE acceptance and expansion: recur_rule_check, then
 * recur_expand as the event planner calls it, from a fixed start in a zone
 * chosen by the first byte (zones with DST gaps and overlaps, half-hour
 * shifts and midnight changes). The first line after that byte is the
 * RRULE; later lines are EXDATEs, or RDATEs when they start with '+'.
 *
 * Invariants on success: at most RECUR_MAX_OCCURRENCES, sorted by start,
 * no duplicate recurrence ids, no occurrence named by an EXDATE, every end
 * at or after its start.
 */
#include "convene/recur.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DATES 64 /* EVENT_MAX_DATES is smaller; more only costs time */

static const char *const zones[] = {
    "Asia/Shanghai",    "America/New_York", "Europe/London", "Australia/Lord_Howe",
    "America/Santiago", "Pacific/Apia",     "UTC",           "America/St_Johns",
};

/* Starts: an ordinary Monday, a New York DST gap and overlap, a month end, a leap day. */
static const struct local_time starts[] = {
    {2026, 1, 5, 9, 0, 0},  {2026, 3, 8, 2, 30, 0}, {2026, 11, 1, 1, 30, 0},
    {2026, 1, 31, 9, 0, 0}, {2028, 2, 29, 0, 0, 0}, {2026, 9, 6, 0, 0, 0},
};

static void fail(const char *what, const char *rule)
{
    fprintf(stderr, "invariant broken: %s (rrule '%s')\n", what, rule);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *exdates[MAX_DATES], *rdates[MAX_DATES];
    struct recur_spec spec;
    struct occurrence *occ = NULL;
    size_t nocc = 0;
    char why[256];
    char *text, *line, *save = NULL;
    int64_t start_utc;

    if (size < 1 || size > 16 * 1024)
        return -1;
    memset(&spec, 0, sizeof(spec));
    spec.tz = zones[data[0] % ARRAY_SIZE(zones)];
    spec.start = starts[(data[0] / ARRAY_SIZE(zones)) % ARRAY_SIZE(starts)];
    spec.end = spec.start;
    recur_local_add(&spec.end, (data[0] & 0x80) ? 86400 : 3600);
    time_local_to_utc(&spec.start, spec.tz, &start_utc);
    spec.horizon_utc = start_utc + (int64_t)RECUR_HORIZON_DAYS * 86400;

    text = xstrndup((const char *)data + 1, size - 1);
    /* strtok_r would merge empty lines; an empty RRULE line means "no rule". */
    line = strchr(text, '\n');
    if (line != NULL)
        *line++ = '\0';
    spec.rrule = text;
    for (char *d = line ? strtok_r(line, "\n", &save) : NULL; d != NULL;
         d = strtok_r(NULL, "\n", &save)) {
        if (d[0] == '+' && spec.nrdates < MAX_DATES)
            rdates[spec.nrdates++] = d + 1;
        else if (d[0] != '+' && spec.nexdates < MAX_DATES)
            exdates[spec.nexdates++] = d;
    }
    spec.exdates = exdates;
    spec.rdates = rdates;

    why[0] = '\0';
    int checked = text[0] == '\0' ? RECUR_OK : recur_rule_check(text, why, sizeof(why));
    if (checked != RECUR_OK && why[0] == '\0')
        fail("refused without a reason", text);
    /* The planner expands only accepted rules; expanding the others must fail cleanly too. */
    int rc = recur_expand(&spec, &occ, &nocc, why, sizeof(why));
    if (checked != RECUR_OK && rc == RECUR_OK && text[0] != '\0')
        fail("expanded a rule the check refused", text);
    if (rc == RECUR_OK || rc == RECUR_NONEXISTENT) {
        if (nocc > RECUR_MAX_OCCURRENCES)
            fail("too many occurrences", text);
        for (size_t i = 0; i < nocc; i++) {
            if (occ[i].end_utc < occ[i].start_utc)
                fail("an occurrence ends before it starts", text);
            if (i > 0 && occ[i].start_utc < occ[i - 1].start_utc)
                fail("occurrences out of order", text);
            for (size_t j = 0; j < spec.nexdates; j++)
                if (strcmp(occ[i].recurrence_id, exdates[j]) == 0)
                    fail("an EXDATE occurrence was kept", text);
            /* Sorted by (start, id) and one id has one start: duplicates are neighbours. */
            if (i > 0 && strcmp(occ[i].recurrence_id, occ[i - 1].recurrence_id) == 0)
                fail("duplicate recurrence id", text);
        }
    } else if (occ != NULL || nocc != 0) {
        fail("an error left occurrences behind", text);
    }
    free(occ);
    free(text);
    return 0;
}
