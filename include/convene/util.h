/*
 * util.h - small helpers every module uses: allocation that never returns
 * NULL, checked number parsing, and a bounded growable string buffer.
 */
#ifndef CONVENE_UTIL_H
#define CONVENE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure is not recoverable for a daemon of this size: abort. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * Parses a whole string as a base-10 integer in [min, max].
 * Returns 0 on success, -1 on empty input, trailing garbage or range error.
 */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Same, for a string that is not NUL-terminated. */
int parse_int64_n(const char *s, size_t len, int64_t min, int64_t max, int64_t *out);

/*
 * The length of the longest prefix of s[0..len) that is well-formed UTF-8
 * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF); len
 * when all of it is. Text from outside (paths, iCalendar) is only bytes.
 */
size_t utf8_valid_prefix(const char *s, size_t len);

/*
 * Terminal columns of a NUL-terminated UTF-8 string: Chinese characters take
 * two, so `%-12s` (which counts bytes) cannot line up a table of names.
 * fput_padded writes s and pads it with spaces to `columns`.
 */
size_t utf8_display_width(const char *s);
void fput_padded(FILE *out, const char *s, size_t columns);

/*
 * A growable byte buffer with a hard maximum (curl style): appends past
 * `max` fail and set `overflow`, so callers check once at the end.
 * The data is always NUL-terminated. Owner: whoever called strbuf_init.
 */
struct strbuf {
    char *data;    /* NUL-terminated contents, NULL until first append */
    size_t len;    /* bytes used, excluding the NUL */
    size_t cap;    /* bytes allocated */
    size_t max;    /* appends that would exceed this fail */
    int overflow;  /* set once an append failed */
};

void strbuf_init(struct strbuf *sb, size_t max);
int strbuf_append(struct strbuf *sb, const char *s, size_t n);
int strbuf_puts(struct strbuf *sb, const char *s);
int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Returns the data (caller frees) and resets the buffer. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_free(struct strbuf *sb);

/*
 * Bytes a cache keeps and the HTTP layer sends as they are, without a copy
 * per response: reference counted (loop thread only), so a response still
 * being written keeps them after the cache has let go. The HTTP layer may
 * hang its own handle on the body (pin, created at the first send and
 * holding one reference); the owner lets go with shared_body_drop, which
 * also releases the pin, so the bytes go with the last response using them.
 */
struct shared_body {
    size_t refs;
    void *pin;                 /* the HTTP layer's handle, or NULL */
    void (*unpin)(void *pin);  /* releases it */
    size_t len;
    char data[];               /* len bytes and a NUL */
};

/* A body holding a copy of data[0..len), one reference (the owner's). */
struct shared_body *shared_body_new(const char *data, size_t len);
void shared_body_retain(struct shared_body *b);
void shared_body_release(struct shared_body *b);
/* The owner's release: the pin goes too. NULL is ignored. */
void shared_body_drop(struct shared_body *b);

/*
 * gzip (RFC 1952) of data[0..len) at zlib level 1-9: a malloc'd buffer the
 * caller frees, its size in *out_len; NULL when zlib fails.
 */
unsigned char *gzip_compress(const void *data, size_t len, int level, size_t *out_len);

/* Monotonic clock in microseconds, and wall clock in seconds since the epoch. */
uint64_t clock_monotonic_us(void);
int64_t clock_wall_s(void);
/* Wall-clock unix milliseconds (session times, lockout windows). */
int64_t clock_wall_ms(void);

/*
 * Logging to stderr with a timestamp; one line per call. Control characters,
 * backslashes and bytes that are not UTF-8 text are written as \xHH, so a
 * message quoting a client can neither forge a line nor drive a terminal.
 */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Something an operator must act on soon, though the service works (e.g. the calendar ends). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An info line made of pieces (not NUL-terminated), without printf: the access log. */
struct log_piece {
    const char *s;
    size_t len;
};
void log_pieces(const struct log_piece *pieces, size_t n);

#endif
