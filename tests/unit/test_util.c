/*
 * test_util.c - core/util.c's display width: the columns a terminal gives a
 * string, so tables of Chinese names printed by `convene seed` line up.
 */
#include "check.h"

#include "convene/util.h"

#include <stdio.h>
#include <string.h>

static void test_widths(void)
{
    static const struct {
        const char *s;
        size_t columns;
    } cases[] = {
        {"", 0},
        {"driver", 6},
        {"王建国", 6},                /* CJK unified ideographs: two columns each */
        {"何师傅 A1", 9},
        {"（）", 4},                  /* fullwidth forms */
        {"é", 1},                     /* Latin-1: one column */
        {"\xe4\xb8", 2},              /* a truncated sequence: its bytes counted one each */
        {"\xff", 1},                  /* an invalid byte counts one column */
        {"𠀀", 2},                    /* supplementary ideographic plane */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ_INT(utf8_display_width(cases[i].s), cases[i].columns);
    }
}

static void test_padding(void)
{
    char buf[64];
    FILE *f = fmemopen(buf, sizeof(buf), "w");

    fput_padded(f, "王建国", 10);
    fputc('|', f);
    fput_padded(f, "staff", 10);
    fputc('|', f);
    fput_padded(f, "longer than ten", 10); /* never cut */
    fclose(f);
    CHECK_EQ_STR(buf, "王建国    |staff     |longer than ten");
}

int main(void)
{
    test_widths();
    test_padding();
    return check_finish();
}
