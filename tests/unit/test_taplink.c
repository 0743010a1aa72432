/*
 * test_taplink.c - core/taplink.c: refs, derived tokens (deterministic,
 * 128 bits, bound to key and ref), the shape check done before any
 * lookup, and putting a URL where fan-out cut its marker out.
 */
#include "check.h"

#include "convene/taplink.h"
#include "convene/timeutil.h"

#include <stdlib.h>
#include <string.h>

static void test_refs(void)
{
    char ref[TAPLINK_REF_MAX], long_id[200];

    CHECK_EQ_INT(taplink_ref_ack("trp_1", "per_2", ref), 0);
    CHECK_EQ_STR(ref, "ack:trp_1:per_2");
    CHECK_EQ_INT(taplink_ref_rsvp("evt_1", "2026-12-07T09:00:00", "per_2", ref), 0);
    CHECK_EQ_STR(ref, "rsvp:evt_1:2026-12-07T09:00:00:per_2");
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    CHECK_EQ_INT(taplink_ref_ack(long_id, "per_2", ref), -1);
    CHECK_EQ_INT(taplink_ref_rsvp("evt_1", long_id, "per_2", ref), -1);
    CHECK_EQ_INT(taplink_ref_approve("apr_1", "per_3", ref), 0);
    CHECK_EQ_STR(ref, "approve:apr_1:per_3");
    CHECK_EQ_INT(taplink_ref_approve(long_id, "per_3", ref), -1);
}

static void test_derive(void)
{
    unsigned char key[TAPLINK_KEY_LEN], other[TAPLINK_KEY_LEN];
    char a[TAPLINK_TOKEN_LEN + 1], b[TAPLINK_TOKEN_LEN + 1], c[TAPLINK_TOKEN_LEN + 1];

    memset(key, 7, sizeof(key));
    memset(other, 8, sizeof(other));
    taplink_derive(key, "ack:trp_1:per_2", a);
    taplink_derive(key, "ack:trp_1:per_2", b);
    CHECK_EQ_STR(a, b); /* rendered again at every attempt: the same */
    CHECK_EQ_INT(strlen(a), TAPLINK_TOKEN_LEN);
    CHECK(taplink_token_plausible(a, strlen(a)));
    taplink_derive(key, "ack:trp_1:per_3", c); /* another driver */
    CHECK(strcmp(a, c) != 0);
    taplink_derive(other, "ack:trp_1:per_2", c); /* another key file */
    CHECK(strcmp(a, c) != 0);
    taplink_derive(key, "rsvp:trp_1:per_2", c);
    CHECK(strcmp(a, c) != 0);
}

static void test_plausible(void)
{
    char s[300];

    for (size_t n = 0; n < sizeof(s); n++) {
        memset(s, 'A', n);
        CHECK_EQ_INT(taplink_token_plausible(s, n), n == TAPLINK_TOKEN_LEN);
    }
    memcpy(s, "AbCdEfGhIjKlMnOpQr-_09", 22);
    CHECK(taplink_token_plausible(s, 22));
    static const char bad[] = {'/', '.', '%', '+', '=', ' ', '\0', '\n', '\x80', '~'};
    for (size_t i = 0; i < sizeof(bad); i++) {
        memset(s, 'A', 22);
        s[11] = bad[i];
        CHECK_EQ_INT(taplink_token_plausible(s, 22), 0);
    }
}

static void test_marker_and_insert(void)
{
    char text[] = "{\"ack_url\":\"MARKmark\",\"x\":1}";
    char twice[] = "MARKmark MARKmark";
    char none[] = "nothing here";
    char *body;

    CHECK_EQ_INT(taplink_marker_cut(text, "MARKmark"), 12);
    CHECK_EQ_STR(text, "{\"ack_url\":\"\",\"x\":1}");
    CHECK_EQ_INT(taplink_marker_cut(twice, "MARKmark"), -1); /* ambiguous: unchanged */
    CHECK_EQ_STR(twice, "MARKmark MARKmark");
    CHECK_EQ_INT(taplink_marker_cut(none, "MARKmark"), -1);
    CHECK_EQ_INT(taplink_marker_cut(none, ""), -1);

    body = taplink_body_insert(text, 12, "https://x/t/abc");
    CHECK_EQ_STR(body, "{\"ack_url\":\"https://x/t/abc\",\"x\":1}");
    free(body);
    body = taplink_body_insert("ab", 0, "X");
    CHECK_EQ_STR(body, "Xab");
    free(body);
    body = taplink_body_insert("ab", 2, "X");
    CHECK_EQ_STR(body, "abX");
    free(body);
    CHECK(taplink_body_insert("ab", 3, "X") == NULL);
    CHECK(taplink_body_insert("ab", -1, "X") == NULL);
}

static void test_weekday(void)
{
    static const struct {
        int y, m, d, wday;
    } cases[] = {{1970, 1, 1, 4},   {2026, 12, 7, 1}, {2026, 12, 13, 0}, {2027, 1, 1, 5},
                 {2028, 2, 29, 2},  {2000, 3, 1, 3},  {2100, 2, 28, 0},  {2199, 12, 31, 2}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct local_time lt = {cases[i].y, cases[i].m, cases[i].d, 9, 0, 0};
        CHECK_EQ_INT(time_local_weekday(&lt), cases[i].wday);
    }
}

int main(void)
{
    test_refs();
    test_derive();
    test_plausible();
    test_marker_and_insert();
    test_weekday();
    return check_finish();
}
