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
 *
 * The work is bounded (issue 12: one rule held the loop 8.8 s): at most
 * ~203,000 days scanned to tell whether the rule ever occurs, at most
 * RECUR_MAX_STEPS instances asked of libical, and no expansion taking a
 * second (libical's own searching is not counted in steps, so it is timed).
 * A window of the series (from_utc, as the conflict check of other series'
 * unstored occurrences asks for) holds exactly the whole expansion's
 * occurrences that start in it.
 */
#include "convene/recur.h"
#include "convene/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DATES 64 /* EVENT_MAX_DATES is smaller; more only costs time */
#define MAX_DAYS_SCANNED 210000 /* from 2026 to libical's last year, 2582 */
#define MAX_EXPAND_US 1000000   /* the contract's "answered within 1 s" */

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

static void check_cost(const struct recur_cost *cost, uint64_t us, const char *rule)
{
    if (cost->days_scanned > MAX_DAYS_SCANNED)
        fail("too many days scanned", rule);
    if (cost->steps > RECUR_MAX_STEPS)
        fail("too many instances asked of libical", rule);
    if (us > MAX_EXPAND_US) {
        fprintf(stderr, "expansion took %llu us\n", (unsigned long long)us);
        fail("an expansion took more than a second", rule);
    }
}

/* The occurrences starting in [from, horizon) are the same whether expanded whole or from `from`. */
static void check_window(const struct recur_spec *whole, const struct occurrence *all, size_t nall,
                         int64_t from, const char *rule)
{
    struct recur_spec spec = *whole;
    struct recur_cost cost = {0, 0};
    struct occurrence *part = NULL;
    size_t npart = 0, k = 0;
    char why[256];

    spec.from_utc = from;
    spec.cost = &cost;
    uint64_t t0 = clock_monotonic_us();
    int rc = recur_expand(&spec, &part, &npart, why, sizeof(why));
    check_cost(&cost, clock_monotonic_us() - t0, rule);
    if (rc != RECUR_OK && rc != RECUR_NONEXISTENT)
        fail("a window of an accepted series was refused", rule);
    for (size_t i = 0; i < nall; i++) {
        if (all[i].start_utc < from)
            continue;
        if (k >= npart || strcmp(part[k].recurrence_id, all[i].recurrence_id) != 0) {
            fprintf(stderr, "window from %lld: missing or different %s\n", (long long)from,
                    all[i].recurrence_id);
            fail("a window differs from the whole expansion", rule);
        }
        k++;
    }
    if (k != npart)
        fail("a window has occurrences the whole expansion lacks", rule);
    free(part);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *exdates[MAX_DATES], *rdates[MAX_DATES];
    struct recur_spec spec;
    struct occurrence *occ = NULL;
    struct recur_cost cost = {0, 0};
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
    spec.cost = &cost;
    uint64_t t0 = clock_monotonic_us();
    int rc = recur_expand(&spec, &occ, &nocc, why, sizeof(why));
    check_cost(&cost, clock_monotonic_us() - t0, text);
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
        if (rc == RECUR_OK)
            check_window(&spec, occ, nocc, start_utc + (int64_t)(size % 700) * 86400, text);
    } else if (occ != NULL || nocc != 0) {
        fail("an error left occurrences behind", text);
    }
    free(occ);
    free(text);
    return 0;
}
