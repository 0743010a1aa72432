/*
 * web_assets.h - the console's files (web/ in the repository) as the
 * service serves them: compiled into the binary by cmake/embed_web.cmake,
 * or read from a directory on every request (`serve --web DIR`, for work on
 * the console without rebuilding). Each file comes with its content type,
 * a strong ETag (SHA-256 of its bytes) and, for text worth it, a gzip body
 * with its own ETag.
 */
#ifndef CONVENE_WEB_ASSETS_H
#define CONVENE_WEB_ASSETS_H

#include <stddef.h>

/* One file as cmake/embed_web.cmake emits it. */
struct web_embedded {
    const char *path;          /* relative to web/, '/'-separated */
    const unsigned char *data; /* static */
    size_t len;
};

extern const struct web_embedded web_embedded_files[];
extern const size_t web_embedded_count;

#define WEB_VERSION_LEN 12     /* hex digits of the assets' version */
#define WEB_PATH_MAX 128       /* longest file path under web/ served */
#define WEB_FILE_MAX (4 << 20) /* bytes: a bigger file under --web DIR is refused */
#define WEB_INDEX "index.html" /* the page served at / */
/* In index.html, replaced by the version, so asset URLs change with content. */
#define WEB_VERSION_MARK "@VERSION@"
/* In index.html, replaced by the organisation's time zone (--tz). */
#define WEB_TZ_MARK "@TZ@"

struct web_file {
    const char *path;          /* relative to web/ */
    const unsigned char *data; /* the bytes served (borrowed, or owned by the set) */
    size_t len;
    unsigned char *gzip;       /* owned; NULL when not worth it (binary, tiny, no smaller) */
    size_t gzip_len;
    char etag[24];             /* "\"<16 hex digits of SHA-256>\"" */
    char etag_gzip[28];        /* the gzip body's own: the same digits plus "-gz" */
    const char *content_type;  /* static */
};

struct web_assets;

/*
 * Builds the set: from the embedded files when dir is NULL or "", else
 * from dir (files read when asked for; the version is then "dev"). tz is
 * the organisation's zone, written into index.html.
 * Hashing and compressing the embedded files takes a few milliseconds, done
 * once. The caller owns *out (web_assets_free). 0, or -1 (logged).
 */
int web_assets_open(const char *dir, const char *tz, struct web_assets **out);
void web_assets_free(struct web_assets *wa);

/*
 * The file at path[0..len) relative to web/, or NULL when there is none or
 * the path is not a plain one (only segments of A-Z a-z 0-9 . _ - that do
 * not start with a dot: no "..", no hidden files, no encoded separators).
 * The result is valid until the next call or web_assets_free (a file read
 * from --web DIR is replaced by the next one read).
 */
const struct web_file *web_assets_find(struct web_assets *wa, const char *path, size_t len);

/* The version in asset URLs (/assets/<version>/...): hex digits, or "dev". */
const char *web_assets_version(const struct web_assets *wa);

/* 1 when the files come from a directory (development: nothing is cached). */
int web_assets_from_disk(const struct web_assets *wa);

/* 1 if path[0..len) is a plain relative path as web_assets_find accepts it. */
int web_path_is_plain(const char *path, size_t len);

#endif
