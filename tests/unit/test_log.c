/*
 * test_log.c - core/util.c's log lines: whatever a message or an access
 * line quotes from a client, the log gets one line per call, with control
 * characters, backslashes, C1 controls and invalid UTF-8 escaped as \xHH
 * and readable text (Chinese included) kept as it is.
 */
#include "check.h"

#include "convene/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char log_path[600];
static int saved_stderr = -1;

/* Sends stderr (fd 2) to an empty file until logged(); failure reports still reach the terminal. */
static void capture(void)
{
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    fflush(stderr);
    if (fd < 0 || (saved_stderr = dup(2)) < 0 || dup2(fd, 2) < 0)
        abort();
    close(fd);
}

/* Everything logged since capture(), without the timestamp and level of each line. */
static char *logged(void)
{
    static char text[8192];
    char raw[8192];
    size_t n, out = 0;
    FILE *f;

    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    f = fopen(log_path, "rb");
    n = f ? fread(raw, 1, sizeof(raw) - 1, f) : 0;
    if (f)
        fclose(f);
    raw[n] = '\0';
    /* "2026-...Z info text": keep what follows the second space of each line. */
    for (char *line = raw; *line != '\0';) {
        char *end = memchr(line, '\n', (size_t)(raw + n - line));
        char *body = strchr(line, ' ');
        body = body ? strchr(body + 1, ' ') : NULL;
        if (end == NULL || body == NULL || body > end)
            break;
        memcpy(text + out, body + 1, (size_t)(end - body));
        out += (size_t)(end - body);
        line = end + 1;
    }
    text[out] = '\0';
    return text;
}

static void test_log_info_escapes(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain text", "plain text\n"},
        {"forged\n2030-01-01T00:00:00.000Z info access", "forged\\x0a2030-01-01T00:00:00.000Z info access\n"},
        {"cr\r\nlf", "cr\\x0d\\x0alf\n"},
        {"\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred\n"},
        {"del\x7f bs\x08 tab\t", "del\\x7f bs\\x08 tab\\x09\n"},
        {"back\\slash", "back\\x5cslash\n"},
        {"C1 \xc2\x9b csi, \xc2\x85 nel", "C1 \\xc2\\x9b csi, \\xc2\\x85 nel\n"},
        {"lone \x9b and \xff\xfe", "lone \\x9b and \\xff\\xfe\n"},
        {"overlong \xc0\xaf, surrogate \xed\xa0\x80", "overlong \\xc0\\xaf, surrogate \\xed\\xa0\\x80\n"},
        {"cut \xe4\xb8", "cut \\xe4\\xb8\n"},
        {"第一会议室 \xc2\xa0nbsp é", "第一会议室 \xc2\xa0nbsp é\n"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        capture();
        log_info("%s", cases[i].in);
        CHECK_EQ_STR(logged(), cases[i].out);
    }
    capture();
    log_error("bad '%s' at %d", "x\ny", 3);
    CHECK_EQ_STR(logged(), "bad 'x\\x0ay' at 3\n");
}

static void test_log_long_message(void)
{
    char big[5000];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[4000] = '\n';
    capture();
    log_info("%s!", big);
    const char *text = logged();
    CHECK_EQ_INT(strlen(text), 4998 + 4 + 2);
    CHECK(strncmp(text + 4000, "\\x0a", 4) == 0);
    CHECK(strcmp(text + strlen(text) - 3, "a!\n") == 0);
}

static void test_log_pieces_escape_each_piece(void)
{
    /* An access line: the path holds a decoded %00 and %0a; a piece is not NUL-terminated. */
    static const char path[] = "/api/v1/rooms/x\0y\nz";
    struct log_piece pieces[] = {
        {"access ", 7}, {"GET", 3}, {" ", 1}, {path, sizeof(path) - 1}, {" 404 12usJUNK", 9},
    };

    capture();
    log_pieces(pieces, ARRAY_SIZE(pieces));
    CHECK_EQ_STR(logged(), "access GET /api/v1/rooms/x\\x00y\\x0az 404 12us\n");
}

int main(void)
{
    char dir[512];

    check_tmpdir(dir, sizeof(dir));
    snprintf(log_path, sizeof(log_path), "%s/log", dir);
    test_log_info_escapes();
    test_log_long_message();
    test_log_pieces_escape_each_piece();
    check_rmdir(dir);
    return check_finish();
}
