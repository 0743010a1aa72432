/*
 * util.c - allocation, checked number parsing, bounded string buffers,
 * clocks and log lines. No dependency beyond libc.
 */
#include "convene/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static void oom(size_t n)
{
    fprintf(stderr, "convene: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (p == NULL)
        oom(count * n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

struct shared_body *shared_body_new(const char *data, size_t len)
{
    struct shared_body *b = xmalloc(sizeof(*b) + len + 1);

    b->refs = 1;
    b->pin = NULL;
    b->unpin = NULL;
    b->len = len;
    memcpy(b->data, data, len);
    b->data[len] = '\0';
    return b;
}

void shared_body_retain(struct shared_body *b)
{
    b->refs++;
}

void shared_body_release(struct shared_body *b)
{
    if (--b->refs == 0)
        free(b);
}

void shared_body_drop(struct shared_body *b)
{
    if (b == NULL)
        return;
    if (b->pin != NULL) {
        void *pin = b->pin;
        b->pin = NULL;
        b->unpin(pin); /* may release the pin's own reference: b stays alive through ours */
    }
    shared_body_release(b);
}

size_t utf8_valid_prefix(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned c = p[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* UTF-16 surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* past U+10FFFF */
        } else {
            return i; /* a continuation byte, C0/C1 (overlong) or F5..FF */
        }
        if (len - i < n || p[i + 1] < lo || p[i + 1] > hi)
            return i;
        for (size_t k = 2; k < n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
        i += n;
    }
    return len;
}

int parse_int64_n(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
    char buf[32];

    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return parse_int64(buf, min, max, out);
}

int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long v;

    /* strtoll accepts leading blanks and '+'; a config value should not. */
    if (s == NULL || *s == '\0' || !(*s == '-' || (*s >= '0' && *s <= '9')))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

void strbuf_init(struct strbuf *sb, size_t max)
{
    memset(sb, 0, sizeof(*sb));
    sb->max = max;
}

int strbuf_append(struct strbuf *sb, const char *s, size_t n)
{
    if (sb->overflow || n > sb->max - sb->len) {
        sb->overflow = 1;
        return -1;
    }
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 256;
        while (cap < sb->len + n + 1)
            cap *= 2;
        sb->data = xrealloc(sb->data, cap);
        sb->cap = cap;
    }
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    return 0;
}

int strbuf_puts(struct strbuf *sb, const char *s)
{
    return strbuf_append(sb, s, strlen(s));
}

int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof(small))
        return strbuf_append(sb, small, (size_t)n);

    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = strbuf_append(sb, big, (size_t)n);
    free(big);
    return rc;
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
    char *data = sb->data ? sb->data : xstrdup("");

    if (len != NULL)
        *len = sb->len;
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->overflow = 0;
    return data;
}

void strbuf_free(struct strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

uint64_t clock_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t clock_wall_s(void)
{
    /*
     * Not time(): it reads a coarse clock that can still show the previous
     * second for a few milliseconds, so a timer woken exactly at a due
     * second would find nothing due and spin until it catches up.
     */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int64_t clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One log line, composed in memory and written with one fwrite: the access
 * log writes a line per request, and a dozen stdio calls per line (each
 * piece, each escape, the stamp) were a tenth of a cached 304. A line
 * longer than the buffer goes out in parts, still under the caller's lock.
 */
struct log_line_buf {
    char text[1024];
    size_t len;
};

static void line_flush(struct log_line_buf *b)
{
    fwrite(b->text, 1, b->len, stderr);
    b->len = 0;
}

static void line_put(struct log_line_buf *b, const void *s, size_t n)
{
    const char *p = s;

    while (n > 0) {
        size_t room = sizeof(b->text) - b->len, take = n < room ? n : room;
        memcpy(b->text + b->len, p, take);
        b->len += take;
        p += take;
        n -= take;
        if (b->len == sizeof(b->text))
            line_flush(b);
    }
}

/*
 * "2026-11-27T05:19:15.123Z level ". The date part is formatted once per
 * second (strftime per line was most of the stamp's cost).
 */
static void log_prefix(struct log_line_buf *b, const char *level)
{
    static __thread time_t stamp_second = -1;
    static __thread char stamp[32];
    static __thread size_t stamp_len;
    struct timespec ts;
    char ms[6];

    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != stamp_second) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        stamp_len = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        stamp_second = ts.tv_sec;
    }
    long millis = ts.tv_nsec / 1000000;
    ms[0] = '.';
    ms[1] = (char)('0' + millis / 100);
    ms[2] = (char)('0' + millis / 10 % 10);
    ms[3] = (char)('0' + millis % 10);
    ms[4] = 'Z';
    ms[5] = ' ';
    line_put(b, stamp, stamp_len);
    line_put(b, ms, sizeof(ms));
    line_put(b, level, strlen(level));
    line_put(b, " ", 1);
}

/*
 * The length of the character at s[0..len) when it may go to the log as it
 * is: printable ASCII other than the backslash, or a well-formed UTF-8
 * sequence that is not a C1 control (U+0080..U+009F, which some terminals
 * obey like ESC [). 0 when the byte must be escaped.
 */
static size_t log_safe_char(const unsigned char *s, size_t len)
{
    size_t n;

    if (s[0] < 0x80)
        return s[0] >= 0x20 && s[0] != 0x7f && s[0] != '\\';
    n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
    if (n > len || utf8_valid_prefix((const char *)s, n) != n)
        return 0;
    return s[0] == 0xc2 && s[1] < 0xa0 ? 0 : n;
}

/*
 * Puts s[0..len) with every byte that could forge a line (newline, CR),
 * drive a terminal (ESC, C1 controls), cut a line short for a reader (NUL)
 * or is not text (invalid UTF-8) as \xHH. Paths, methods and messages
 * quoting a client carry bytes the client chose (h2o decodes %0a in a
 * path to a newline). The backslash is escaped too, so every \x in the log
 * is one of ours.
 */
static void log_put_escaped(struct log_line_buf *b, const char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, run = 0;

    while (i < len) {
        size_t n;
        /* Printable ASCII, nearly every byte of a log line, without a call. */
        while (i < len && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
            i++;
        if (i == len)
            break;
        n = log_safe_char(s + i, len - i);
        if (n > 0) {
            i += n;
            continue;
        }
        char esc[4] = {'\\', 'x', hex[s[i] >> 4], hex[s[i] & 15]};
        line_put(b, s + run, i - run);
        line_put(b, esc, sizeof(esc));
        run = ++i;
    }
    line_put(b, s + run, len - run);
}

/* One line at level: the stamp, then each piece escaped; written at once. */
static void log_pieces_at(const char *level, const struct log_piece *pieces, size_t n)
{
    struct log_line_buf b;

    b.len = 0;
    flockfile(stderr);
    log_prefix(&b, level);
    for (size_t i = 0; i < n; i++)
        log_put_escaped(&b, pieces[i].s, pieces[i].len);
    line_put(&b, "\n", 1);
    line_flush(&b);
    funlockfile(stderr);
}

static void log_line(const char *level, const char *fmt, va_list ap)
{
    char small[1024], *text = small;
    va_list again;
    int n;

    va_copy(again, ap);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    if (n >= (int)sizeof(small)) {
        text = xmalloc((size_t)n + 1);
        vsnprintf(text, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    struct log_piece whole = {text, n > 0 ? (size_t)n : 0};
    log_pieces_at(level, &whole, 1);
    if (text != small)
        free(text);
}

void log_pieces(const struct log_piece *pieces, size_t n)
{
    log_pieces_at("info", pieces, n);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("info", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("warn", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("error", fmt, ap);
    va_end(ap);
}

/*
 * Columns a code point takes in a terminal: 2 for the East Asian wide and
 * fullwidth blocks (Hangul Jamo, CJK, Hangul syllables, compatibility
 * ideographs, fullwidth forms, the supplementary ideographic planes), 1 for
 * the rest. Enough to line up the Chinese names this service prints; combining
 * marks and emoji are not its business.
 */
static int codepoint_columns(uint32_t cp)
{
    static const uint32_t wide[][2] = {
        {0x1100, 0x115F}, {0x2E80, 0x303E}, {0x3041, 0x33FF}, {0x3400, 0x4DBF},
        {0x4E00, 0x9FFF}, {0xA000, 0xA4CF}, {0xAC00, 0xD7A3}, {0xF900, 0xFAFF},
        {0xFE30, 0xFE4F}, {0xFF00, 0xFF60}, {0xFFE0, 0xFFE6}, {0x20000, 0x3FFFD},
    };
    for (size_t i = 0; i < ARRAY_SIZE(wide); i++)
        if (cp >= wide[i][0] && cp <= wide[i][1])
            return 2;
    return 1;
}

size_t utf8_display_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t cols = 0;

    while (*p != '\0') {
        uint32_t cp = *p;
        size_t n = 1;
        if (*p >= 0xF0)
            cp = *p & 0x07, n = 4;
        else if (*p >= 0xE0)
            cp = *p & 0x0F, n = 3;
        else if (*p >= 0xC0)
            cp = *p & 0x1F, n = 2;
        for (size_t k = 1; k < n; k++) {
            if ((p[k] & 0xC0) != 0x80) { /* malformed: count the lead byte alone */
                n = 1;
                break;
            }
            cp = (cp << 6) | (p[k] & 0x3F);
        }
        cols += n == 1 && *p >= 0x80 ? 1 : (size_t)codepoint_columns(cp);
        p += n;
    }
    return cols;
}

void fput_padded(FILE *out, const char *s, size_t columns)
{
    size_t width = utf8_display_width(s);

    fputs(s, out);
    for (; width < columns; width++)
        fputc(' ', out);
}

unsigned char *gzip_compress(const void *data, size_t len, int level, size_t *out_len)
{
    z_stream zs;
    uLong bound;
    unsigned char *out;

    memset(&zs, 0, sizeof(zs));
    /* windowBits 15 + 16 asks zlib for the gzip wrapper instead of zlib's own. */
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    bound = deflateBound(&zs, (uLong)len) + 32;
    out = xmalloc(bound);
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)bound;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&zs);
        free(out);
        return NULL;
    }
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}
